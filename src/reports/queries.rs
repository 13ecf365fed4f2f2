//! Report, statistics and summary queries: aggregates in SQL, small results in Rust.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::model::{ReportFinding, ReportModel, ReportSection};
use crate::db::schema::{assignments, findings, notices, org_units, progress_reports, users};
use crate::db::DbConn;
use crate::error::AppError;
use crate::findings::model::FindingStatus;
use crate::findings::queries as finding_queries;
use crate::inspections::queries::InspectionRow;
use crate::inspections::sections::queries::{self as sections, SectionRow};
use crate::notices::model::{NoticeLevel, NoticeStatus};

/// A unit's name (empty when unknown).
pub fn unit_name(conn: &mut DbConn, id: i64) -> Result<String, AppError> {
    Ok(org_units::table
        .filter(org_units::id.eq(id))
        .select(org_units::name)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// The report of an inspection as it stands now.
pub fn report_model(conn: &mut DbConn, inspection: &InspectionRow) -> Result<ReportModel, AppError> {
    let section_rows = sections::of_inspection(conn, inspection.id)?;
    let mut by_section: HashMap<Option<i64>, Vec<ReportFinding>> = HashMap::new();
    for f in finding_queries::of_inspection(conn, inspection.id)? {
        by_section.entry(f.section_id).or_default().push(ReportFinding {
            seq: f.seq,
            title: f.title,
            status: f.status,
            outcome: f.outcome,
            blocked_reason: f.blocked_reason,
            long_term: f.long_term,
        });
    }
    fn build(
        parent: Option<i64>,
        rows: &[SectionRow],
        by_section: &mut HashMap<Option<i64>, Vec<ReportFinding>>,
    ) -> Vec<ReportSection> {
        rows.iter()
            .filter(|s| s.parent_id == parent)
            .map(|s| ReportSection {
                title: s.title.clone(),
                level: s.level,
                children: build(Some(s.id), rows, by_section),
                findings: by_section.remove(&Some(s.id)).unwrap_or_default(),
            })
            .collect()
    }
    let categories = build(None, &section_rows, &mut by_section);
    Ok(ReportModel {
        title: inspection.title.clone(),
        inspecting_body: inspection.inspecting_body.clone(),
        inspected_unit: unit_name(conn, inspection.inspected_unit_id)?,
        categories,
        unsectioned: by_section.remove(&None).unwrap_or_default(),
    })
}

/// How many of an inspection's findings share a (section, responsible unit, status, due date,
/// closing time): everything the statistics count, from one scan (open findings share few due
/// dates; each closed one has its own closing time).
pub type Tally = (Option<i64>, Option<i64>, FindingStatus, Option<NaiveDate>, Option<NaiveDateTime>, i64);

/// The [`Tally`] rows of an inspection.
pub fn finding_tallies(conn: &mut DbConn, inspection_id: i64) -> Result<Vec<Tally>, AppError> {
    use findings::dsl as f;
    Ok(findings::table
        .filter(f::inspection_id.eq(inspection_id))
        .group_by((f::section_id, f::responsible_unit_id, f::status, f::due_on, f::closed_at))
        .select((f::section_id, f::responsible_unit_id, f::status, f::due_on, f::closed_at, count_star()))
        .load(conn)?)
}

/// Notice counts of an inspection grouped by (addressed unit, level, status).
pub fn notice_counts(
    conn: &mut DbConn,
    inspection_id: i64,
) -> Result<Vec<(i64, NoticeLevel, NoticeStatus, i64)>, AppError> {
    Ok(notices::table
        .filter(notices::inspection_id.eq(inspection_id))
        .group_by((notices::org_unit_id, notices::level, notices::status))
        .select((notices::org_unit_id, notices::level, notices::status, count_star()))
        .load(conn)?)
}

/// `(issued_at, acknowledged_at)` of the inspection's acknowledged notices. Time differences are
/// taken in Rust: the SQL for them differs between the backends.
pub fn acknowledgement_pairs(
    conn: &mut DbConn,
    inspection_id: i64,
) -> Result<Vec<(NaiveDateTime, NaiveDateTime)>, AppError> {
    let rows: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = notices::table
        .filter(notices::inspection_id.eq(inspection_id))
        .filter(notices::status.eq(NoticeStatus::Acknowledged))
        .select((notices::issued_at, notices::acknowledged_at))
        .load(conn)?;
    // The table's CHECK makes acknowledged_at present on every acknowledged notice.
    Ok(rows.into_iter().filter_map(|(issued, acknowledged)| Some((issued, acknowledged?))).collect())
}

/// Names of units, by id.
pub fn unit_names(conn: &mut DbConn, ids: &[i64]) -> Result<HashMap<i64, String>, AppError> {
    Ok(org_units::table
        .filter(org_units::id.eq_any(ids))
        .select((org_units::id, org_units::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// Display names of users, by id.
pub fn user_names(conn: &mut DbConn, ids: &[i64]) -> Result<HashMap<i64, String>, AppError> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// Assignee display names of some findings, by finding (for the 责任人 column).
pub fn assignees_of(conn: &mut DbConn, finding_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, AppError> {
    let rows: Vec<(i64, String)> = assignments::table
        .inner_join(users::table.on(users::id.nullable().eq(assignments::assignee_id)))
        .filter(assignments::finding_id.eq_any(finding_ids))
        .select((assignments::finding_id, users::display_name))
        .order((assignments::finding_id.asc(), assignments::id.asc()))
        .load(conn)?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (finding, name) in rows {
        let names = out.entry(finding).or_default();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(out)
}

/// Open (not done) assignments of an inspection with their finding's seq.
pub fn open_assignments(
    conn: &mut DbConn,
    inspection_id: i64,
) -> Result<Vec<(crate::assignments::queries::AssignmentRow, i32)>, AppError> {
    use crate::assignments::queries::COLUMNS;
    Ok(assignments::table
        .inner_join(findings::table)
        .filter(findings::inspection_id.eq(inspection_id))
        .filter(assignments::status.ne(crate::assignments::model::AssignmentStatus::Done))
        .select((COLUMNS, findings::seq))
        .order((findings::seq.asc(), assignments::id.asc()))
        .load(conn)?)
}

/// The latest report of each of `assignment_ids` in `period`.
pub fn latest_reports(
    conn: &mut DbConn,
    assignment_ids: &[i64],
    period: &str,
) -> Result<HashMap<i64, crate::assignments::api::ProgressReport>, AppError> {
    let rows: Vec<crate::assignments::queries::ReportRow> = progress_reports::table
        .filter(progress_reports::assignment_id.eq_any(assignment_ids))
        .filter(progress_reports::period.eq(period))
        .select((
            progress_reports::id,
            progress_reports::assignment_id,
            progress_reports::author_id,
            progress_reports::content,
            progress_reports::percent,
            progress_reports::period,
            progress_reports::created_at,
        ))
        .order((progress_reports::assignment_id.asc(), progress_reports::id.desc()))
        .load(conn)?;
    let mut out = HashMap::new();
    for row in rows {
        out.entry(row.assignment_id).or_insert_with(|| crate::assignments::api::ProgressReport::from(row));
    }
    Ok(out)
}

/// The next `limit` findings of an inspection after `(seq, id)`, in ledger order.
pub fn ledger_batch(
    conn: &mut DbConn,
    inspection_id: i64,
    after: (i32, i64),
    limit: i64,
) -> Result<Vec<finding_queries::FindingRow>, AppError> {
    // `seq` is unique within an inspection (`UNIQUE (inspection_id, seq)`): `seq > last` alone is
    // the keyset, a range of that index. (With `OR (seq = last AND id > …)` added, PostgreSQL
    // read the inspection's rows from its first each batch: a 40,000-row export re-read
    // 1.6 million rows.)
    let (seq, _) = after;
    Ok(findings::table
        .filter(findings::inspection_id.eq(inspection_id))
        .filter(findings::seq.gt(seq))
        .select(finding_queries::COLUMNS)
        .order((findings::seq.asc(), findings::id.asc()))
        .limit(limit)
        .load(conn)?)
}
