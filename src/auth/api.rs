//! Auth DTOs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Role;

/// Credentials for a token: a person's username and password, or a service account's
/// client credentials (`grant_type: client_credentials`).
// No `Debug`: it would print the password or secret.
#[derive(Deserialize, ToSchema)]
// Untagged for the spec (oneOf); parsed by `TryFrom<Value>`, which picks the variant by the
// presence of `grant_type`, so that errors name the field at fault (an untagged enum's
// would only say that no variant matched).
#[serde(untagged, try_from = "serde_json::Value")]
pub enum TokenRequest {
    Password(PasswordGrant),
    ClientCredentials(ClientCredentialsGrant),
}

impl TryFrom<serde_json::Value> for TokenRequest {
    type Error = serde_json::Error;

    fn try_from(body: serde_json::Value) -> Result<Self, Self::Error> {
        if body.get("grant_type").is_some() {
            serde_json::from_value(body).map(TokenRequest::ClientCredentials)
        } else {
            serde_json::from_value(body).map(TokenRequest::Password)
        }
    }
}

/// A person's username and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordGrant {
    #[schema(
        example = "wang.jianguo",
        max_length = 64,
        pattern = r"^[^\u0000-\u0020\u007F-\u009F!-,/:-?\[-^`{-~]{2,64}$"
    )]
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
}

/// The grant of a service account.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
}

/// A service account's client credentials (OAuth 2.0 client credentials grant, JSON body).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCredentialsGrant {
    pub grant_type: GrantType,
    #[schema(example = "svc_3f9c2a7b1d0e4c58", pattern = r"^svc_[0-9a-f]{16}$")]
    pub client_id: String,
    #[schema(format = Password, example = "rectify_sk_Zq0u2oM6yq4XH0nq1b9JmCk3mW2vXz5p8Qe7rT1sYdA")]
    pub client_secret: String,
}

/// An issued access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A signed JWT; send it as `Authorization: Bearer <access_token>`.
    #[schema(
        example = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImlzcyI6InJlY3RpZnkiLCJhdWQiOiJyZWN0aWZ5LWFwaSJ9.3mQ9c8ZpD0yqkQ2t8g5fJ1nN4bWfUeX7sVtR2aLkCjo"
    )]
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[schema(example = 42)]
    pub id: i64,
    /// A person's username, or a service account's `client_id`.
    #[schema(
        example = "wang.jianguo",
        max_length = 64,
        pattern = r"^[^\u0000-\u0020\u007F-\u009F!-,/:-?\[-^`{-~]{2,64}$"
    )]
    pub username: String,
    #[schema(example = "王建国")]
    pub display_name: String,
    #[schema(example = 12)]
    pub org_unit_id: i64,
    #[schema(example = json!(["leader"]))]
    pub roles: Vec<Role>,
}

/// Always `Bearer` (RFC 6750).
#[derive(Debug, Serialize, ToSchema)]
pub enum TokenType {
    Bearer,
}
