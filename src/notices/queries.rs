//! Notice queries: scope and filters in SQL, keyset pages by id.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::model::{NoticeFilter, NoticeLevel, NoticeStatus};
use crate::auth::scope::visible_inspection_ids;
use crate::auth::Scope;
use crate::db::schema::notices;
use crate::db::DbConn;
use crate::error::AppError;

/// A stored supervision notice.
#[derive(Debug, Clone, Queryable)]
pub struct NoticeRow {
    pub id: i64,
    pub finding_id: i64,
    pub inspection_id: i64,
    pub org_unit_id: i64,
    pub level: NoticeLevel,
    pub message: String,
    pub respond_by: Option<NaiveDate>,
    pub issued_by: i64,
    pub issued_at: NaiveDateTime,
    pub status: NoticeStatus,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub reply: Option<String>,
    pub version: i32,
}

crate::versioned!(NoticeRow, "notices");

crate::columns!(pub COLUMNS: Columns = notices {
    id,
    finding_id,
    inspection_id,
    org_unit_id,
    level,
    message,
    respond_by,
    issued_by,
    issued_at,
    status,
    acknowledged_by,
    acknowledged_at,
    reply,
    version,
});

/// One notice, if it exists and its inspection lies in `scope`.
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<NoticeRow>, AppError> {
    let mut q = notices::table.filter(notices::id.eq(id)).select(COLUMNS).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(notices::inspection_id.eq_any(visible_inspection_ids(unit)));
    }
    Ok(q.first(conn).optional()?)
}

/// A page of notices in `scope`: `limit` rows with an id above `after`, by id.
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    filter: &NoticeFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<NoticeRow>, AppError> {
    use notices::dsl as n;
    let mut q = n::notices.filter(n::id.gt(after)).select(COLUMNS).order(n::id.asc()).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(n::inspection_id.eq_any(visible_inspection_ids(unit)));
    }
    if let Some(id) = filter.finding_id {
        q = q.filter(n::finding_id.eq(id));
    }
    if let Some(id) = filter.inspection_id {
        q = q.filter(n::inspection_id.eq(id));
    }
    if let Some(id) = filter.org_unit_id {
        q = q.filter(n::org_unit_id.eq(id));
    }
    if let Some(id) = filter.addressed_to {
        q = q.filter(n::org_unit_id.eq(id));
    }
    if !filter.status.is_empty() {
        q = q.filter(n::status.eq_any(filter.status.clone()));
    }
    Ok(q.limit(limit).load(conn)?)
}

/// A notice to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = notices)]
pub struct NewNoticeRow {
    pub finding_id: i64,
    pub inspection_id: i64,
    pub org_unit_id: i64,
    pub level: NoticeLevel,
    pub message: String,
    pub respond_by: Option<NaiveDate>,
    pub issued_by: i64,
    pub issued_at: NaiveDateTime,
    pub status: NoticeStatus,
    pub version: i32,
}

pub fn insert(conn: &mut DbConn, row: &NewNoticeRow) -> Result<NoticeRow, AppError> {
    Ok(diesel::insert_into(notices::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// The columns an acknowledgement (签收) sets, plus the version bump.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = notices)]
pub struct Acknowledgement {
    pub status: NoticeStatus,
    pub acknowledged_by: i64,
    pub acknowledged_at: NaiveDateTime,
    /// `None` leaves the column alone (it is null until acknowledged).
    pub reply: Option<String>,
    pub version: i32,
}

crate::versioned_update! {
    /// Applies an acknowledgement when the stored version is still `expected`.
    pub fn acknowledge(notices, Acknowledgement) -> NoticeRow
}
