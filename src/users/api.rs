//! User DTOs. The password is write-only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::UserRow;
use crate::auth::Role;

/// A user (the password hash never leaves the service).
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = "wang.jianguo")]
    pub username: String,
    #[schema(example = "王建国")]
    pub display_name: String,
    #[schema(example = 12)]
    pub org_unit_id: i64,
    #[schema(example = json!(["leader"]))]
    pub roles: Vec<Role>,
    /// Deactivated users cannot sign in and their tokens stop working.
    #[schema(example = true)]
    pub active: bool,
    #[schema(example = 2)]
    pub version: i32,
    #[schema(example = "2024-09-11T01:20:00Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2024-09-12T03:05:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            org_unit_id: r.org_unit_id,
            roles: r.roles.into_vec(),
            active: r.active,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 2–64 characters: letters (any script), digits, `.`, `_`, `-`, `@`.
    #[schema(
        example = "wang.jianguo",
        min_length = 2,
        max_length = 64,
        pattern = r"^[^\u0000-\u0020\u007F-\u009F!-,/:-?\[-^`{-~]{2,64}$"
    )]
    pub username: String,
    #[schema(example = "王建国", min_length = 1, max_length = 500)]
    pub display_name: String,
    #[schema(example = 12)]
    pub org_unit_id: i64,
    /// At least one role.
    #[schema(example = json!(["leader"]), min_items = 1)]
    pub roles: Vec<Role>,
    /// At least 12 characters. Omit for users who sign in only through the external identity provider.
    #[serde(default)]
    #[schema(format = Password, write_only, min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    #[serde(default = "yes")]
    #[schema(example = true)]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    #[schema(
        example = "wang.jianguo",
        min_length = 2,
        max_length = 64,
        pattern = r"^[^\u0000-\u0020\u007F-\u009F!-,/:-?\[-^`{-~]{2,64}$"
    )]
    pub username: Option<String>,
    #[serde(default)]
    #[schema(example = "王建国", min_length = 1, max_length = 500)]
    pub display_name: Option<String>,
    #[serde(default)]
    #[schema(example = 12)]
    pub org_unit_id: Option<i64>,
    #[serde(default)]
    #[schema(example = json!(["leader", "officer"]), min_items = 1)]
    pub roles: Option<Vec<Role>>,
    /// A new password, at least 12 characters.
    #[serde(default)]
    #[schema(format = Password, write_only, min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    #[serde(default)]
    #[schema(example = true)]
    pub active: Option<bool>,
}

/// Filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Only users of this unit.
    #[param(example = 12)]
    pub org_unit_id: Option<i64>,
    /// Only active (`true`) or deactivated (`false`) users.
    #[param(example = true)]
    pub active: Option<bool>,
}
