//! Assignment and progress-report queries; scope follows the finding's inspection.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::model::AssignmentStatus;
use crate::auth::scope::visible_inspection_ids;
use crate::auth::Scope;
use crate::db::schema::{assignments, findings, progress_reports};
use crate::db::DbConn;
use crate::error::AppError;

/// A stored assignment.
#[derive(Debug, Clone, Queryable)]
pub struct AssignmentRow {
    pub id: i64,
    pub finding_id: i64,
    pub title: String,
    pub measures: Option<String>,
    pub responsible_unit_id: i64,
    pub assignee_id: Option<i64>,
    pub due_on: NaiveDate,
    pub status: AssignmentStatus,
    pub claimed_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(AssignmentRow, "assignments");

crate::columns!(pub COLUMNS: Columns = assignments {
    id,
    finding_id,
    title,
    measures,
    responsible_unit_id,
    assignee_id,
    due_on,
    status,
    claimed_at,
    completed_at,
    outcome,
    version,
    created_at,
    updated_at,
});

/// Ids of findings whose inspection lies in the scope of `unit`.
#[diesel::dsl::auto_type]
fn visible_finding_ids(unit: i64) -> _ {
    let inspections: visible_inspection_ids = visible_inspection_ids(unit);
    findings::table.select(findings::id).filter(findings::inspection_id.eq_any(inspections))
}

/// One assignment, if its finding's inspection lies in `scope`: joined to its finding by key
/// (see `approvals::queries::find` for why not `finding_id IN (…)`).
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<AssignmentRow>, AppError> {
    let mut q =
        assignments::table.inner_join(findings::table).filter(assignments::id.eq(id)).select(COLUMNS).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(findings::inspection_id.eq_any(visible_inspection_ids(unit)));
    }
    Ok(q.first(conn).optional()?)
}

/// Filters of the assignment list.
#[derive(Debug, Default)]
pub struct AssignmentFilter {
    pub finding_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub responsible_unit_id: Option<i64>,
    pub status: Vec<AssignmentStatus>,
    pub overdue: Option<bool>,
    pub inspection_id: Option<i64>,
}

/// A page of assignments in `scope`, by id.
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    filter: &AssignmentFilter,
    today: NaiveDate,
    after: i64,
    limit: i64,
) -> Result<Vec<AssignmentRow>, AppError> {
    use assignments::dsl as a;
    let mut q = a::assignments.filter(a::id.gt(after)).select(COLUMNS).order(a::id.asc()).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(a::finding_id.eq_any(visible_finding_ids(unit)));
    }
    if let Some(f) = filter.finding_id {
        q = q.filter(a::finding_id.eq(f));
    }
    if let Some(u) = filter.assignee_id {
        q = q.filter(a::assignee_id.eq(u));
    }
    if let Some(u) = filter.responsible_unit_id {
        q = q.filter(a::responsible_unit_id.eq(u));
    }
    if !filter.status.is_empty() {
        q = q.filter(a::status.eq_any(filter.status.clone()));
    }
    let done = AssignmentStatus::Done;
    match filter.overdue {
        Some(true) => q = q.filter(a::status.ne(done).and(a::due_on.lt(today))),
        Some(false) => q = q.filter(a::status.eq(done).or(a::due_on.ge(today))),
        None => {}
    }
    if let Some(i) = filter.inspection_id {
        q = q.filter(a::finding_id.eq_any(findings::table.select(findings::id).filter(findings::inspection_id.eq(i))));
    }
    Ok(q.limit(limit).load(conn)?)
}

/// The latest due date among a finding's assignments that are not done yet.
pub fn latest_open_due(conn: &mut DbConn, finding_id: i64) -> Result<Option<NaiveDate>, AppError> {
    Ok(assignments::table
        .filter(assignments::finding_id.eq(finding_id))
        .filter(assignments::status.ne(AssignmentStatus::Done))
        .select(diesel::dsl::max(assignments::due_on))
        .first(conn)?)
}

/// Every assignment of a finding.
pub fn of_finding(conn: &mut DbConn, finding_id: i64) -> Result<Vec<AssignmentRow>, AppError> {
    Ok(assignments::table
        .filter(assignments::finding_id.eq(finding_id))
        .select(COLUMNS)
        .order(assignments::id.asc())
        .load(conn)?)
}

/// An assignment to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = assignments)]
pub struct NewAssignmentRow {
    pub finding_id: i64,
    pub title: String,
    pub measures: Option<String>,
    pub responsible_unit_id: i64,
    pub assignee_id: Option<i64>,
    pub due_on: NaiveDate,
    pub status: AssignmentStatus,
    pub claimed_at: Option<NaiveDateTime>,
    pub created_by: i64,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewAssignmentRow) -> Result<AssignmentRow, AppError> {
    Ok(diesel::insert_into(assignments::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// Columns a change may set, plus the version bump.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = assignments)]
pub struct AssignmentChanges {
    pub title: Option<String>,
    pub measures: Option<Option<String>>,
    pub responsible_unit_id: Option<i64>,
    pub assignee_id: Option<Option<i64>>,
    pub due_on: Option<NaiveDate>,
    pub status: Option<AssignmentStatus>,
    pub claimed_at: Option<Option<NaiveDateTime>>,
    pub completed_at: Option<Option<NaiveDateTime>>,
    pub outcome: Option<Option<String>>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    /// Applies `changes` when the stored version is still `expected` (None when it is not).
    pub fn update(assignments, AssignmentChanges) -> AssignmentRow
}

/// A stored progress report.
#[derive(Debug, Clone, Queryable)]
pub struct ReportRow {
    pub id: i64,
    pub assignment_id: i64,
    pub author_id: i64,
    pub content: String,
    pub percent: Option<i32>,
    pub period: String,
    pub created_at: NaiveDateTime,
}

crate::columns!(REPORT_COLUMNS: ReportColumns = progress_reports {
    id,
    assignment_id,
    author_id,
    content,
    percent,
    period,
    created_at,
});

/// A progress report to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = progress_reports)]
pub struct NewReportRow {
    pub assignment_id: i64,
    pub author_id: i64,
    pub content: String,
    pub percent: Option<i32>,
    pub period: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_report(conn: &mut DbConn, row: &NewReportRow) -> Result<ReportRow, AppError> {
    Ok(diesel::insert_into(progress_reports::table).values(row).returning(REPORT_COLUMNS).get_result(conn)?)
}

/// A page of an assignment's reports, oldest first.
pub fn reports(conn: &mut DbConn, assignment_id: i64, after: i64, limit: i64) -> Result<Vec<ReportRow>, AppError> {
    Ok(progress_reports::table
        .filter(progress_reports::assignment_id.eq(assignment_id))
        .filter(progress_reports::id.gt(after))
        .select(REPORT_COLUMNS)
        .order(progress_reports::id.asc())
        .limit(limit)
        .load(conn)?)
}
