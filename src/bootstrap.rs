//! First start: an empty database gets a root org unit and the `admin` user.

use diesel::prelude::*;
use serde_json::json;

use crate::audit::{self, Actor, Event};
use crate::auth::{password, Role, RoleSet};
use crate::config::Config;
use crate::db::schema::users;
use crate::db::{self, Db};
use crate::error::AppError;
use crate::orgs::queries as orgs;
use crate::users::queries::{self as user_queries, NewUserRow};

/// Name of the root unit created on first start.
pub const ROOT_UNIT_NAME: &str = "Root";

/// Creates the root unit and `admin` when there are no users yet. Returns
/// the generated password when one had to be made up (the caller logs it once).
pub fn ensure_admin(db: &Db, config: &Config) -> Result<Option<String>, AppError> {
    let mut conn = db.get()?;
    let any: Option<i64> = users::table.select(users::id).first(&mut **conn).optional()?;
    if any.is_some() {
        return Ok(None);
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (password::generate(), true),
    };
    let hash = password::hash_now(&password).map_err(AppError::internal)?;
    let result = db::write_tx(&mut conn, |conn| {
        // Another instance may have bootstrapped meanwhile: check again under the write lock.
        let any: Option<i64> = users::table.select(users::id).first(conn).optional()?;
        if any.is_some() {
            return Ok(false);
        }
        let now = db::now();
        let root = orgs::insert(conn, ROOT_UNIT_NAME, None, None, now)?;
        let admin = user_queries::insert(
            conn,
            &NewUserRow {
                username: "admin",
                display_name: "Administrator",
                org_unit_id: root.id,
                password_hash: Some(hash),
                roles: RoleSet::new(&[Role::Admin]),
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let system = Actor::system();
        audit::record(
            conn,
            &system,
            Event::new(
                "org_unit.created",
                "org_unit",
                root.id,
                json!({"after": crate::orgs::api::OrgUnit::from(root.clone())}),
            )
            .org_unit(root.id),
        )?;
        audit::record(
            conn,
            &system,
            Event::new(
                "user.created",
                "user",
                admin.id,
                json!({"after": crate::users::api::User::from(admin.clone())}),
            )
            .org_unit(root.id),
        )?;
        Ok(true)
    });
    match result {
        Ok(true) if generated => Ok(Some(password)),
        Ok(_) => Ok(None),
        // A concurrent instance won the race on the unique username.
        Err(AppError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
