//! What handlers ask of assignments, free of HTTP.

use super::queries::{self, AssignmentRow};
use crate::auth::Scope;
use crate::db::DbConn;
use crate::error::AppError;

/// Loads an assignment in the caller's scope, or 404.
pub fn assignment_in_scope(conn: &mut DbConn, scope: Scope, id: i64) -> Result<AssignmentRow, AppError> {
    queries::find(conn, scope, id)?.ok_or(AppError::NotFound)
}
