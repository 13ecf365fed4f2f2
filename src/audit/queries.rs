//! Reading audit events, scope-filtered in the query itself.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

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
    /// The writing transaction's id on PostgreSQL (0 on SQLite): the feed orders by (txid, id).
    pub txid: i64,
}

/// A place in the feed: after the event `(txid, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub txid: i64,
    pub id: i64,
}

impl EventRow {
    pub fn position(&self) -> Position {
        Position { txid: self.txid, id: self.id }
    }
}

/// The feed position of event `id`, for polling with `after=<id>`. An id the log does not
/// hold (0, or a gap left by a rolled-back write) starts after the last event below it.
pub fn position_of(conn: &mut DbConn, id: i64) -> Result<Position, AppError> {
    let txid: Option<i64> =
        ae::table.filter(ae::id.le(id)).order(ae::id.desc()).select(ae::txid).first(conn).optional()?;
    Ok(Position { txid: txid.unwrap_or(i64::MIN), id })
}

/// Events after `after` in feed order, `limit` rows at most. A non-admin sees
/// events of inspections in scope, and org-level events (units, users) of units
/// in scope.
///
/// Feed order is (txid, id). On PostgreSQL ids come from a sequence, so a
/// transaction may commit an event with a smaller id after a larger one was
/// served; the feed therefore returns only events of transactions older than
/// every transaction still running (`pg_snapshot_xmin`), whose set can no
/// longer grow, in the order of their transaction ids. On SQLite writers are
/// serialised, txid is 0 and the order is the id order.
pub fn feed(
    conn: &mut DbConn,
    scope: Scope,
    filter: &FeedFilter,
    after: Position,
    limit: i64,
) -> Result<Vec<EventRow>, AppError> {
    let mut q = ae::table
        .filter(
            sql::<Bool>("(txid, id) > (").bind::<BigInt, _>(after.txid).sql(", ").bind::<BigInt, _>(after.id).sql(")"),
        )
        .order((ae::txid.asc(), ae::id.asc()))
        .limit(limit)
        .into_boxed();
    if let DbConn::Postgres(_) = conn {
        q = q.filter(sql::<Bool>("txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"));
    }
    if let Scope::Unit(unit) = scope {
        q = q.filter(
            ae::inspection_id
                .eq_any(scope::visible_inspection_ids_nullable(unit))
                .or(ae::inspection_id.is_null().and(ae::org_unit_id.eq_any(scope::visible_unit_ids_nullable(unit)))),
        );
    }
    if let Some(i) = filter.inspection_id {
        q = q.filter(ae::inspection_id.eq(i));
    }
    if let Some(t) = &filter.entity_type {
        q = q.filter(ae::entity_type.eq(t.clone()));
    }
    if let Some(a) = &filter.action {
        q = q.filter(ae::action.eq(a.clone()));
    }
    Ok(q.load(conn)?)
}

/// The feed's optional filters.
#[derive(Debug, Default, Clone)]
pub struct FeedFilter {
    pub inspection_id: Option<i64>,
    pub entity_type: Option<String>,
    pub action: Option<String>,
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
