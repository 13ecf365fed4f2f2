//! Feedback queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{FeedbackFilter, FeedbackStatus};
use crate::auth::scope::visible_inspection_ids;
use crate::auth::Scope;
use crate::db::schema::public_feedback as pf;
use crate::db::DbConn;
use crate::error::AppError;

/// A stored piece of feedback.
#[derive(Debug, Clone, Queryable)]
pub struct FeedbackRow {
    pub id: i64,
    pub inspection_id: i64,
    pub content: String,
    pub contact: Option<String>,
    pub status: FeedbackStatus,
    pub response: Option<String>,
    pub responded_by: Option<i64>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(FeedbackRow, "public_feedback");

crate::columns!(COLUMNS: Columns = pf {
    id,
    inspection_id,
    content,
    contact,
    status,
    response,
    responded_by,
    version,
    created_at,
    updated_at,
});

pub fn insert(
    conn: &mut DbConn,
    inspection_id: i64,
    content: &str,
    contact: Option<&str>,
    now: NaiveDateTime,
) -> Result<FeedbackRow, AppError> {
    Ok(diesel::insert_into(pf::table)
        .values((
            pf::inspection_id.eq(inspection_id),
            pf::content.eq(content),
            pf::contact.eq(contact),
            pf::status.eq(FeedbackStatus::New),
            pf::version.eq(1),
            pf::created_at.eq(now),
            pf::updated_at.eq(now),
        ))
        .returning(COLUMNS)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<FeedbackRow>, AppError> {
    let mut q = pf::table.filter(pf::id.eq(id)).select(COLUMNS).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(pf::inspection_id.eq_any(visible_inspection_ids(unit)));
    }
    Ok(q.first(conn).optional()?)
}

pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    filter: &FeedbackFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<FeedbackRow>, AppError> {
    let mut q = pf::table.filter(pf::id.gt(after)).select(COLUMNS).order(pf::id.asc()).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(pf::inspection_id.eq_any(visible_inspection_ids(unit)));
    }
    if let Some(i) = filter.inspection_id {
        q = q.filter(pf::inspection_id.eq(i));
    }
    if !filter.status.is_empty() {
        q = q.filter(pf::status.eq_any(filter.status.clone()));
    }
    Ok(q.limit(limit).load(conn)?)
}

pub fn update(
    conn: &mut DbConn,
    id: i64,
    expected: i32,
    status: FeedbackStatus,
    response: Option<Option<String>>,
    responded_by: i64,
    now: NaiveDateTime,
) -> Result<Option<FeedbackRow>, AppError> {
    let target = pf::table.filter(pf::id.eq(id)).filter(pf::version.eq(expected));
    let base = (
        pf::status.eq(status),
        pf::responded_by.eq(Some(responded_by)),
        pf::version.eq(expected + 1),
        pf::updated_at.eq(now),
    );
    let q = match response {
        Some(r) => diesel::update(target).set((base, pf::response.eq(r))).returning(COLUMNS).get_result(conn),
        None => diesel::update(target).set(base).returning(COLUMNS).get_result(conn),
    };
    Ok(q.optional()?)
}
