//! Finding queries: scope, filters and keyset pages in SQL.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::model::{FindingStatus, ReviewOutcome, Sort, SortField};
use crate::auth::scope::{inspection_visible, visible_inspection_ids};
use crate::auth::Scope;
use crate::db::schema::{assignments, findings, inspections, reviews};
use crate::db::DbConn;
use crate::error::AppError;

diesel::define_sql_function! {
    /// SQL `lower`, so that `q` matches Latin letters in any case on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower_nullable(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// A stored finding.
#[derive(Debug, Clone, Queryable)]
pub struct FindingRow {
    pub id: i64,
    pub inspection_id: i64,
    pub section_id: Option<i64>,
    pub seq: i32,
    pub title: String,
    pub description: Option<String>,
    pub responsible_unit_id: Option<i64>,
    pub responsible_leader_id: Option<i64>,
    pub measures: Option<String>,
    pub outcome: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: FindingStatus,
    pub long_term: bool,
    pub blocked_reason: Option<String>,
    pub blocked_until: Option<NaiveDate>,
    pub closed_at: Option<NaiveDateTime>,
    pub reopen_count: i32,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(FindingRow, "findings");

crate::columns!(pub COLUMNS: Columns = findings {
    id,
    inspection_id,
    section_id,
    seq,
    title,
    description,
    responsible_unit_id,
    responsible_leader_id,
    measures,
    outcome,
    due_on,
    status,
    long_term,
    blocked_reason,
    blocked_until,
    closed_at,
    reopen_count,
    version,
    created_at,
    updated_at,
});

/// One finding, if it exists and its inspection lies in `scope`: one indexed query (not boxed,
/// so each of the two forms is prepared once per connection and reused).
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<FindingRow>, AppError> {
    let q = findings::table.filter(findings::id.eq(id)).select(COLUMNS);
    Ok(match scope {
        Scope::All => q.first(conn).optional()?,
        Scope::Unit(unit) => {
            q.filter(findings::inspection_id.eq_any(visible_inspection_ids(unit))).first(conn).optional()?
        }
    })
}

/// Every finding of an inspection, by seq (for the ledger).
pub fn of_inspection(conn: &mut DbConn, inspection_id: i64) -> Result<Vec<FindingRow>, AppError> {
    Ok(findings::table
        .filter(findings::inspection_id.eq(inspection_id))
        .select(COLUMNS)
        .order((findings::seq.asc(), findings::id.asc()))
        .load(conn)?)
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    Seq(i32, i64),
    DueOn(Option<NaiveDate>, i64),
    UpdatedAt(NaiveDateTime, i64),
}

/// The list filters of contract §5.
#[derive(Debug, Default)]
pub struct FindingFilter {
    pub inspection_id: Option<i64>,
    pub section_id: Option<i64>,
    pub status: Vec<FindingStatus>,
    pub responsible_unit_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub overdue: Option<bool>,
    pub due_before: Option<NaiveDate>,
    pub due_after: Option<NaiveDate>,
    pub updated_after: Option<NaiveDateTime>,
    pub q: Option<String>,
}

/// `%…%` with LIKE's own wildcards escaped.
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A boxed query over findings selecting [`COLUMNS`].
type Boxed<'a> = diesel::dsl::IntoBoxed<'a, diesel::dsl::Select<findings::table, Columns>, crate::db::MultiBackend>;

/// A page of findings in `scope`: `limit` rows after `after`, in `sort` order.
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    filter: &FindingFilter,
    today: NaiveDate,
    sort: Sort,
    after: Option<After>,
    limit: i64,
) -> Result<Vec<FindingRow>, AppError> {
    let q = filtered(findings::table.select(COLUMNS).into_boxed(), scope, filter, today);
    let q = keyset(q, after, sort.descending);
    Ok(ordered(q, sort).limit(limit).load(conn)?)
}

/// The scope and the filters of contract §5.
fn filtered<'a>(mut q: Boxed<'a>, scope: Scope, filter: &FindingFilter, today: NaiveDate) -> Boxed<'a> {
    use findings::dsl as f;
    match (scope, filter.inspection_id) {
        // One inspection: whether the caller sees it is asked once (an uncorrelated EXISTS, a
        // one-time filter), not for each of its findings, whatever the planner's estimates.
        (Scope::Unit(unit), Some(id)) => {
            let visible = inspections::table.filter(inspections::id.eq(id)).filter(inspection_visible(unit));
            q = q.filter(f::inspection_id.eq(id)).filter(diesel::dsl::exists(visible));
        }
        (Scope::Unit(unit), None) => q = q.filter(f::inspection_id.eq_any(visible_inspection_ids(unit))),
        (Scope::All, Some(id)) => q = q.filter(f::inspection_id.eq(id)),
        (Scope::All, None) => {}
    }
    if let Some(id) = filter.section_id {
        q = q.filter(f::section_id.eq(id));
    }
    if !filter.status.is_empty() {
        q = q.filter(f::status.eq_any(filter.status.clone()));
    }
    if let Some(id) = filter.responsible_unit_id {
        q = q.filter(f::responsible_unit_id.eq(id));
    }
    if let Some(user) = filter.assignee_id {
        q = q.filter(
            f::id.eq_any(assignments::table.select(assignments::finding_id).filter(assignments::assignee_id.eq(user))),
        );
    }
    let closed = FindingStatus::Closed;
    match filter.overdue {
        Some(true) => q = q.filter(f::status.ne(closed).and(f::due_on.lt(today))),
        Some(false) => q = q.filter(f::status.eq(closed).or(f::due_on.is_null()).or(f::due_on.ge(today))),
        None => {}
    }
    if let Some(d) = filter.due_before {
        q = q.filter(f::due_on.lt(d));
    }
    if let Some(d) = filter.due_after {
        q = q.filter(f::due_on.gt(d));
    }
    if let Some(t) = filter.updated_after {
        q = q.filter(f::updated_at.gt(t));
    }
    if let Some(text) = filter.q.as_deref() {
        let pattern = like_pattern(text);
        // Both sides go through the database's own lower(), so an exact substring always
        // matches on either backend, whatever lower() does with non-ASCII letters there.
        q = q.filter(
            lower(f::title)
                .like(lower(pattern.clone()))
                .escape('\\')
                .or(lower_nullable(f::description).like(lower_nullable(Some(pattern))).escape('\\')),
        );
    }
    q
}

/// Rows strictly after the last one served, in the list's order.
fn keyset(q: Boxed<'_>, after: Option<After>, descending: bool) -> Boxed<'_> {
    use findings::dsl as f;
    match (after, descending) {
        (None, _) => q,
        (Some(After::Seq(s, id)), false) => q.filter(f::seq.gt(s).or(f::seq.eq(s).and(f::id.gt(id)))),
        (Some(After::Seq(s, id)), true) => q.filter(f::seq.lt(s).or(f::seq.eq(s).and(f::id.lt(id)))),
        (Some(After::UpdatedAt(t, id)), false) => {
            q.filter(f::updated_at.gt(t).or(f::updated_at.eq(t).and(f::id.gt(id))))
        }
        (Some(After::UpdatedAt(t, id)), true) => {
            q.filter(f::updated_at.lt(t).or(f::updated_at.eq(t).and(f::id.lt(id))))
        }
        // Ascending due dates put findings without one last; descending puts them first.
        (Some(After::DueOn(Some(d), id)), false) => {
            q.filter(f::due_on.gt(d).or(f::due_on.eq(d).and(f::id.gt(id))).or(f::due_on.is_null()))
        }
        (Some(After::DueOn(None, id)), false) => q.filter(f::due_on.is_null().and(f::id.gt(id))),
        (Some(After::DueOn(Some(d), id)), true) => {
            q.filter(f::due_on.is_not_null().and(f::due_on.lt(d).or(f::due_on.eq(d).and(f::id.lt(id)))))
        }
        (Some(After::DueOn(None, id)), true) => q.filter(f::due_on.is_not_null().or(f::id.lt(id))),
    }
}

/// The list's order, always ending in `id` so that keys are unique.
fn ordered(q: Boxed<'_>, sort: Sort) -> Boxed<'_> {
    use findings::dsl as f;
    match (sort.field, sort.descending) {
        (SortField::Seq, false) => q.order((f::seq.asc(), f::id.asc())),
        (SortField::Seq, true) => q.order((f::seq.desc(), f::id.desc())),
        (SortField::UpdatedAt, false) => q.order((f::updated_at.asc(), f::id.asc())),
        (SortField::UpdatedAt, true) => q.order((f::updated_at.desc(), f::id.desc())),
        (SortField::DueOn, false) => q.order((f::due_on.is_null().asc(), f::due_on.asc(), f::id.asc())),
        (SortField::DueOn, true) => q.order((f::due_on.is_null().desc(), f::due_on.desc(), f::id.desc())),
    }
}

/// The next free seq of an inspection (call with the inspection row locked).
pub fn next_seq(conn: &mut DbConn, inspection_id: i64) -> Result<i32, AppError> {
    let max: Option<i32> = findings::table
        .filter(findings::inspection_id.eq(inspection_id))
        .select(diesel::dsl::max(findings::seq))
        .first(conn)?;
    match max.unwrap_or(0) {
        m if m >= crate::validate::MAX_ORDINAL => {
            Err(AppError::Conflict(format!("no seq is left after {m}: give one explicitly")))
        }
        m => Ok(m + 1),
    }
}

/// A finding to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = findings)]
pub struct NewFindingRow {
    pub inspection_id: i64,
    pub section_id: Option<i64>,
    pub seq: i32,
    pub title: String,
    pub description: Option<String>,
    pub responsible_unit_id: Option<i64>,
    pub responsible_leader_id: Option<i64>,
    pub measures: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: FindingStatus,
    pub long_term: bool,
    pub reopen_count: i32,
    pub created_by: i64,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewFindingRow) -> Result<FindingRow, AppError> {
    Ok(diesel::insert_into(findings::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// The descriptive columns a PATCH may change, plus the version bump.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = findings)]
pub struct FindingChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub section_id: Option<Option<i64>>,
    pub responsible_unit_id: Option<Option<i64>>,
    pub responsible_leader_id: Option<Option<i64>>,
    pub measures: Option<Option<String>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    /// Applies `changes` when the stored version is still `expected`.
    pub fn update(findings, FindingChanges) -> FindingRow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("营商"), "%营商%");
        assert_eq!(like_pattern("100%_A\\"), "%100\\%\\_A\\\\%");
    }
}

/// Workflow columns: set only by state-machine actions, never by PATCH.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = findings)]
pub struct FindingWorkflowChanges {
    pub status: Option<FindingStatus>,
    pub outcome: Option<Option<String>>,
    pub long_term: Option<bool>,
    pub blocked_reason: Option<Option<String>>,
    pub blocked_until: Option<Option<NaiveDate>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub reopen_count: Option<i32>,
    pub due_on: Option<Option<NaiveDate>>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    /// Applies a workflow change when the stored version is still `expected`.
    pub fn apply_workflow(findings, FindingWorkflowChanges) -> FindingRow
}

/// A stored look-back review.
#[derive(Debug, Clone, Queryable)]
pub struct ReviewRow {
    pub id: i64,
    pub finding_id: i64,
    pub reviewer_id: i64,
    pub outcome: ReviewOutcome,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
}

crate::columns!(REVIEW_COLUMNS: ReviewColumns = reviews {
    id,
    finding_id,
    reviewer_id,
    outcome,
    notes,
    created_at,
});

pub fn insert_review(
    conn: &mut DbConn,
    finding_id: i64,
    reviewer_id: i64,
    outcome: ReviewOutcome,
    notes: Option<&str>,
    now: NaiveDateTime,
) -> Result<ReviewRow, AppError> {
    Ok(diesel::insert_into(reviews::table)
        .values((
            reviews::finding_id.eq(finding_id),
            reviews::reviewer_id.eq(reviewer_id),
            reviews::outcome.eq(outcome),
            reviews::notes.eq(notes),
            reviews::created_at.eq(now),
        ))
        .returning(REVIEW_COLUMNS)
        .get_result(conn)?)
}

/// A page of a finding's reviews, oldest first.
pub fn reviews_of(conn: &mut DbConn, finding_id: i64, after: i64, limit: i64) -> Result<Vec<ReviewRow>, AppError> {
    Ok(reviews::table
        .filter(reviews::finding_id.eq(finding_id))
        .filter(reviews::id.gt(after))
        .select(REVIEW_COLUMNS)
        .order(reviews::id.asc())
        .limit(limit)
        .load(conn)?)
}
