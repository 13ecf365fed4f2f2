//! What handlers of every domain ask of findings, free of HTTP.

use super::queries::{self, FindingRow};
use crate::auth::Scope;
use crate::db::DbConn;
use crate::error::AppError;
use crate::users::queries as users;

/// Loads a finding whose inspection lies in the caller's scope, or 404.
pub fn find_in_scope_by_id(conn: &mut DbConn, scope: Scope, id: i64) -> Result<FindingRow, AppError> {
    queries::find(conn, scope, id)?.ok_or(AppError::NotFound)
}

/// A responsible leader must be active and see the inspection; anyone else reads as unknown.
pub fn leader_qualifies(conn: &mut DbConn, leader: i64, inspection_id: i64) -> Result<bool, AppError> {
    Ok(match users::find(conn, Scope::All, leader)? {
        Some(u) if u.active => {
            crate::auth::scope::inspection_in_scope(conn, Scope::Unit(u.org_unit_id), inspection_id)?
        }
        _ => false,
    })
}
