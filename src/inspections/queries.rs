//! Inspection queries; scope is applied in the query itself.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::model::{InspectionFilter, InspectionStatus};
use crate::auth::scope::inspection_visible;
use crate::auth::{ApprovalChain, Scope};
use crate::db::schema::inspections;
use crate::db::DbConn;
use crate::error::AppError;

/// A stored inspection (without the published snapshot).
#[derive(Debug, Clone, Queryable)]
pub struct InspectionRow {
    pub id: i64,
    pub title: String,
    pub inspecting_body: String,
    pub inspecting_unit_id: i64,
    pub inspected_unit_id: i64,
    pub topic: Option<String>,
    pub started_on: NaiveDate,
    pub ended_on: NaiveDate,
    pub feedback_on: Option<NaiveDate>,
    pub rectification_due_on: Option<NaiveDate>,
    pub approval_chain: ApprovalChain,
    pub status: InspectionStatus,
    pub concluded_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(InspectionRow, "inspections");

crate::columns!(pub COLUMNS: Columns = inspections {
    id,
    title,
    inspecting_body,
    inspecting_unit_id,
    inspected_unit_id,
    topic,
    started_on,
    ended_on,
    feedback_on,
    rectification_due_on,
    approval_chain,
    status,
    concluded_at,
    published_at,
    version,
    created_at,
    updated_at,
});

/// `true` when the inspection holds at least one finding.
pub fn has_findings(conn: &mut DbConn, id: i64) -> Result<bool, AppError> {
    use crate::db::schema::findings;
    let q = findings::table.filter(findings::inspection_id.eq(id));
    Ok(diesel::select(diesel::dsl::exists(q)).get_result(conn)?)
}

/// The unit an inspection inspects.
pub fn inspected_unit(conn: &mut DbConn, id: i64) -> Result<i64, AppError> {
    Ok(inspections::table.find(id).select(inspections::inspected_unit_id).first(conn)?)
}

/// One inspection, if it exists and lies in `scope`.
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<InspectionRow>, AppError> {
    let mut q = inspections::table.filter(inspections::id.eq(id)).select(COLUMNS).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(inspection_visible(unit));
    }
    Ok(q.first(conn).optional()?)
}

/// A page of inspections in `scope`, newest id last.
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    filter: &InspectionFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<InspectionRow>, AppError> {
    let mut q =
        inspections::table.filter(inspections::id.gt(after)).select(COLUMNS).order(inspections::id.asc()).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(inspection_visible(unit));
    }
    if !filter.status.is_empty() {
        q = q.filter(inspections::status.eq_any(filter.status.clone()));
    }
    if let Some(u) = filter.inspected_unit_id {
        q = q.filter(inspections::inspected_unit_id.eq(u));
    }
    if let Some(u) = filter.inspecting_unit_id {
        q = q.filter(inspections::inspecting_unit_id.eq(u));
    }
    Ok(q.limit(limit).load(conn)?)
}

/// An inspection to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = inspections)]
pub struct NewInspectionRow {
    pub title: String,
    pub inspecting_body: String,
    pub inspecting_unit_id: i64,
    pub inspected_unit_id: i64,
    pub topic: Option<String>,
    pub started_on: NaiveDate,
    pub ended_on: NaiveDate,
    pub feedback_on: Option<NaiveDate>,
    pub rectification_due_on: Option<NaiveDate>,
    pub approval_chain: ApprovalChain,
    pub status: InspectionStatus,
    pub created_by: i64,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewInspectionRow) -> Result<InspectionRow, AppError> {
    Ok(diesel::insert_into(inspections::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// The columns a PATCH may change, plus the version bump.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = inspections)]
pub struct InspectionChanges {
    pub title: Option<String>,
    pub inspecting_body: Option<String>,
    pub inspecting_unit_id: Option<i64>,
    pub inspected_unit_id: Option<i64>,
    pub topic: Option<Option<String>>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<Option<NaiveDate>>,
    pub rectification_due_on: Option<Option<NaiveDate>>,
    pub approval_chain: Option<ApprovalChain>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    /// Applies `changes` when the stored version is still `expected`.
    pub fn update(inspections, InspectionChanges) -> InspectionRow
}

/// Concludes: the status move and `concluded_at`, when the version is still `expected`.
pub fn conclude(
    conn: &mut DbConn,
    id: i64,
    expected: i32,
    status: InspectionStatus,
    now: NaiveDateTime,
) -> Result<Option<InspectionRow>, AppError> {
    Ok(diesel::update(inspections::table.filter(inspections::id.eq(id)).filter(inspections::version.eq(expected)))
        .set((
            inspections::status.eq(status),
            inspections::concluded_at.eq(Some(now)),
            inspections::version.eq(expected + 1),
            inspections::updated_at.eq(now),
        ))
        .returning(COLUMNS)
        .get_result(conn)
        .optional()?)
}

/// Publishes: the status move, `published_at` and the frozen report.
pub fn publish(
    conn: &mut DbConn,
    id: i64,
    expected: i32,
    status: InspectionStatus,
    snapshot: &str,
    now: NaiveDateTime,
) -> Result<Option<InspectionRow>, AppError> {
    Ok(diesel::update(inspections::table.filter(inspections::id.eq(id)).filter(inspections::version.eq(expected)))
        .set((
            inspections::status.eq(status),
            inspections::published_at.eq(Some(now)),
            inspections::published_report.eq(Some(snapshot)),
            inspections::version.eq(expected + 1),
            inspections::updated_at.eq(now),
        ))
        .returning(COLUMNS)
        .get_result(conn)
        .optional()?)
}

/// A published inspection and its frozen report, for anyone.
pub fn published(conn: &mut DbConn, id: i64) -> Result<Option<(InspectionRow, String)>, AppError> {
    let row: Option<(InspectionRow, Option<String>)> = inspections::table
        .filter(inspections::id.eq(id))
        .filter(inspections::status.eq(InspectionStatus::Published))
        .select((COLUMNS, inspections::published_report))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(r, s)| s.map(|s| (r, s))))
}

/// A page of published inspections, by id.
pub fn published_page(conn: &mut DbConn, after: i64, limit: i64) -> Result<Vec<InspectionRow>, AppError> {
    Ok(inspections::table
        .filter(inspections::status.eq(InspectionStatus::Published))
        .filter(inspections::id.gt(after))
        .select(COLUMNS)
        .order(inspections::id.asc())
        .limit(limit)
        .load(conn)?)
}
