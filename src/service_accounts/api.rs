//! Service-account DTOs. The secret appears once, in the answer to the creation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::queries::ServiceAccountRow;
use crate::auth::Role;

/// A service account: another system's identity, with roles and an org unit like a person's.
/// Its audit events name it as the actor (`actor_id` = `id`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceAccount {
    #[schema(example = 57)]
    pub id: i64,
    /// What the system sends as `client_id` to `POST /api/v1/auth/token`.
    #[schema(example = "svc_3f9c2a7b1d0e4c58")]
    pub client_id: String,
    #[schema(example = "区委督查室督办系统")]
    pub name: String,
    /// Its scope: this unit and everything below it.
    #[schema(example = 1)]
    pub org_unit_id: i64,
    #[schema(example = json!(["viewer"]))]
    pub roles: Vec<Role>,
    #[schema(example = 1)]
    pub version: i32,
    #[schema(example = "2024-10-08T02:00:00Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2024-10-08T02:00:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<ServiceAccountRow> for ServiceAccount {
    fn from(r: ServiceAccountRow) -> Self {
        Self {
            id: r.id,
            client_id: r.client_id,
            name: r.name,
            org_unit_id: r.org_unit_id,
            roles: r.roles.into_vec(),
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new service account with its `client_secret`: answered once, on creation, and never
/// again (only its SHA-256 is stored). Keep it in the other system's secret store.
// No `Debug`: it would print the secret.
#[derive(Serialize, ToSchema)]
pub struct ServiceAccountWithSecret {
    #[schema(example = 57)]
    pub id: i64,
    #[schema(example = "svc_3f9c2a7b1d0e4c58")]
    pub client_id: String,
    /// `rectify_sk_` and 43 characters of base64url (32 random bytes).
    #[schema(example = "rectify_sk_Zq0u2oM6yq4XH0nq1b9JmCk3mW2vXz5p8Qe7rT1sYdA")]
    pub client_secret: String,
    #[schema(example = "区委督查室督办系统")]
    pub name: String,
    #[schema(example = 1)]
    pub org_unit_id: i64,
    #[schema(example = json!(["viewer"]))]
    pub roles: Vec<Role>,
    #[schema(example = 1)]
    pub version: i32,
    #[schema(example = "2024-10-08T02:00:00Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2024-10-08T02:00:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl ServiceAccountWithSecret {
    pub fn new(a: ServiceAccount, client_secret: String) -> Self {
        Self {
            id: a.id,
            client_id: a.client_id,
            client_secret,
            name: a.name,
            org_unit_id: a.org_unit_id,
            roles: a.roles,
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A new service account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceAccount {
    /// What the account is for (the other system's name).
    #[schema(example = "区委督查室督办系统", min_length = 1, max_length = 500)]
    pub name: String,
    /// Its scope: this unit and everything below it.
    #[schema(example = 1)]
    pub org_unit_id: i64,
    /// At least one role; `admin` is refused (a leaked secret must not own the service).
    #[schema(example = json!(["viewer"]), min_items = 1)]
    pub roles: Vec<Role>,
}
