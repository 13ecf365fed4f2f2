//! `POST /auth/token` and `GET /auth/me`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;

use super::api::{ClientCredentialsGrant, Me, PasswordGrant, TokenRequest, TokenResponse};
use super::{client_secret, password, AuthUser, RoleSet, UserKind};
use crate::db::schema::users;
use crate::db::DbConn;
use crate::error::{responses, AppError};
use crate::http::Json;
use crate::state::AppState;

const BAD_CREDENTIALS: &str = "the username or password is wrong";
const BAD_CLIENT_CREDENTIALS: &str = "the client_id or client_secret is wrong";

/// A user who may have a token: id, roles, unit and credentials version.
type Grantee = (i64, RoleSet, i64, i32);

/// Exchanges a password or client credentials for a bearer token.
///
/// Two bodies: a person's `{"username", "password"}`, or a service account's
/// `{"grant_type": "client_credentials", "client_id", "client_secret"}`. Answers a signed JWT
/// (`token_type` `Bearer`, `expires_in` seconds: `RECTIFY_TOKEN_TTL_SECONDS`, default 3600)
/// with `Cache-Control: no-store`. Nothing is stored and no audit event is written. The token
/// dies with the credential: a later password change, deactivation or deletion of the
/// account makes it a 401.
///
/// **Who:** anyone, without a token. Only active people who have a password (people who sign
/// in through the external identity provider have none here) and active, not deleted service
/// accounts get a token.
///
/// **Errors:** 401 for wrong credentials, with one answer whether the user (client) is
/// unknown or deactivated or the password (secret) wrong; 429 with `Retry-After` when the
/// client address has used its sign-in quota (`RECTIFY_LOGIN_PER_MINUTE`, default 30 a
/// minute, for the whole deployment however many instances serve it; every attempt counts,
/// checked before the body is read); 400, 413, 415 for a malformed, too large or non-JSON
/// body; 422 for a missing, unknown or mistyped field (named in `errors`).
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 401, response = responses::Unauthorized),
        (status = 429, response = responses::TooManyRequests),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Password guessing is throttled per client address, before the body is even read.
    state.login_limiter.check(&req).await?;
    let body: Json<TokenRequest> = crate::http::json::read(&req, payload.into_inner()).await?;
    let (found, refusal) = match body.data {
        TokenRequest::Password(grant) => (by_password(&state, grant).await?, BAD_CREDENTIALS),
        TokenRequest::ClientCredentials(grant) => {
            (state.db.run(move |conn| by_client_secret(conn, grant)).await?, BAD_CLIENT_CREDENTIALS)
        }
    };
    let Some((id, roles, unit, credentials_version)) = found else {
        return Err(AppError::Unauthorized(refusal.into()));
    };
    let roles = roles.roles().iter().map(|r| r.as_str().to_owned()).collect();
    let access_token = state.tokens.issue(id, roles, unit, credentials_version)?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenResponse {
        access_token,
        token_type: super::api::TokenType::Bearer,
        expires_in: state.tokens.ttl_seconds(),
    }))
}

/// A person who signs in with a password. The row is read first and the connection given
/// back: argon2 is slow on purpose, and runs bounded (see `password`), holding no connection.
async fn by_password(state: &AppState, grant: PasswordGrant) -> Result<Option<Grantee>, AppError> {
    let PasswordGrant { username, password: given } = grant;
    let row: Option<(i64, Option<String>, RoleSet, i64, bool, i32)> = state
        .db
        .run(move |conn| {
            Ok(users::table
                .filter(users::username.eq(&username))
                .filter(users::kind.eq(UserKind::Person))
                .select((
                    users::id,
                    users::password_hash,
                    users::roles,
                    users::org_unit_id,
                    users::active,
                    users::credentials_version,
                ))
                .first(conn)
                .optional()?)
        })
        .await?;
    Ok(match row {
        Some((id, Some(hash), roles, unit, true, cv)) => {
            password::verify(given, hash).await.then_some((id, roles, unit, cv))
        }
        // Deactivated, or external-only: spend the same effort, so timing tells nothing.
        Some(_) | None => {
            password::verify_dummy(given).await;
            None
        }
    })
}

/// A service account that signs in with its client id and secret (a fast hash: see `client_secret`).
fn by_client_secret(conn: &mut DbConn, grant: ClientCredentialsGrant) -> Result<Option<Grantee>, AppError> {
    let ClientCredentialsGrant { client_id, client_secret: given, .. } = grant;
    let row: Option<(i64, Option<String>, RoleSet, i64, bool, i32)> = users::table
        .filter(users::username.eq(&client_id))
        .filter(users::kind.eq(UserKind::Service))
        .select((
            users::id,
            users::secret_hash,
            users::roles,
            users::org_unit_id,
            users::active,
            users::credentials_version,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        // A deleted account is inactive; it is refused like an unknown one.
        Some((id, Some(hash), roles, unit, true, cv)) if client_secret::verify(&given, &hash) => {
            Some((id, roles, unit, cv))
        }
        Some((_, Some(_), _, _, true, _)) => None,
        Some(_) | None => {
            client_secret::verify_dummy(&given);
            None
        }
    })
}

/// The caller's identity, unit and roles.
///
/// Answers who the token stands for as the database knows them now: roles and unit are read
/// on every request, not taken from the token, so a role change shows at once. A service
/// account answers its `client_id` as `username` and its name as `display_name`. Reads only.
///
/// **Who:** any valid token: a person's, a service account's, or a person's token from the
/// external identity provider.
///
/// **Errors:** 401 when the token is missing, invalid or expired, or its user is
/// deactivated, deleted or has changed credentials since it was issued.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
    ),
)]
#[get("/auth/me")]
pub async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        org_unit_id: user.org_unit_id,
        roles: user.roles,
    })
}
