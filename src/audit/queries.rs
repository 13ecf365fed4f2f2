//! Reading audit events, scope-filtered in the query itself.

use diesel::prelude::*;

use crate::auth::scope;
use crate::auth::Scope;
use crate::db::schema::audit_events as ae;
use crate::db::DbConn;
use crate::error::AppError;

/// A stored audit event.
#[derive(Debug, Queryable)]
pub struct EventRow {
    pub id: i64,
    pub occurred_at: chrono::NaiveDateTime,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub inspection_id: Option<i64>,
    pub finding_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    pub data: String,
    pub request_id: Option<String>,
}

/// Events after `after` in ascending id order, `limit` rows at most. A
/// non-admin sees events of inspections in scope, and org-level events
/// (units, users) of units in scope.
pub fn feed(conn: &mut DbConn, scope: Scope, after: i64, limit: i64) -> Result<Vec<EventRow>, AppError> {
    let mut q = ae::table.filter(ae::id.gt(after)).order(ae::id.asc()).limit(limit).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(
            ae::inspection_id
                .eq_any(scope::visible_inspection_ids_nullable(unit))
                .or(ae::inspection_id.is_null().and(ae::org_unit_id.eq_any(scope::visible_unit_ids_nullable(unit)))),
        );
    }
    Ok(q.load(conn)?)
}

/// Events of one finding and everything under it, oldest first.
pub fn of_finding(conn: &mut DbConn, finding_id: i64, after: i64, limit: i64) -> Result<Vec<EventRow>, AppError> {
    Ok(ae::table
        .filter(ae::finding_id.eq(finding_id))
        .filter(ae::id.gt(after))
        .order(ae::id.asc())
        .limit(limit)
        .load(conn)?)
}
