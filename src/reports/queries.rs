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

/// How many of an inspection's findings share a (section, responsible unit, status), how many
/// of them are open and overdue or due by `until`, and the first and last closing time among
/// them: everything the statistics count but the closures per half month, from one scan
/// whose result is small whatever the size of the inspection. The groups are a prefix of
/// `findings_tally_idx`, so PostgreSQL aggregates in index order without hashing (measured on
/// 40,000 findings: 18 ms hashed by a deadline bucket, 10–14 ms so).
#[derive(QueryableByName, Debug, Clone, Copy, PartialEq)]
pub struct Tally {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub section_id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub responsible_unit_id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: FindingStatus,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub soon: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub first_closed: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub last_closed: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// The [`Tally`] rows of an inspection. Placeholders appear in the text in their numeric
/// order: SQLite numbers `$n` parameters by first appearance, PostgreSQL by `n`.
pub fn finding_tallies(
    conn: &mut DbConn,
    inspection_id: i64,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<Tally>, AppError> {
    use diesel::sql_types::{BigInt, Date, Text};
    Ok(diesel::sql_query(
        "SELECT section_id, responsible_unit_id, status, \
         SUM(CASE WHEN status <> $1 AND due_on < $2 THEN 1 ELSE 0 END) AS overdue, \
         SUM(CASE WHEN status <> $3 AND due_on >= $4 AND due_on <= $5 THEN 1 ELSE 0 END) AS soon, \
         MIN(closed_at) AS first_closed, MAX(closed_at) AS last_closed, COUNT(*) AS n \
         FROM findings WHERE inspection_id = $6 GROUP BY section_id, responsible_unit_id, status",
    )
    .bind::<Text, _>(FindingStatus::Closed)
    .bind::<Date, _>(today)
    .bind::<Text, _>(FindingStatus::Closed)
    .bind::<Date, _>(today)
    .bind::<Date, _>(until)
    .bind::<BigInt, _>(inspection_id)
    .load(conn)?)
}

/// Closed findings of an inspection by period: `bounds` are the periods' starts and the last
/// one's end, ascending (at most 49); the answer is `(period index, count)` for the periods
/// that have closures (a closure before the first bound is left out). One range scan of
/// `findings_inspection_closed_idx`.
pub fn closures_by_period(
    conn: &mut DbConn,
    inspection_id: i64,
    bounds: &[NaiveDateTime],
) -> Result<Vec<(i32, i64)>, AppError> {
    use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        period: i32,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let Some((&first, rest)) = bounds.split_first() else { return Ok(Vec::new()) };
    let periods = rest.len();
    let mut sql = String::from("SELECT CASE WHEN closed_at < $1 THEN -1");
    for i in 1..periods {
        sql.push_str(&format!(" WHEN closed_at < ${} THEN {}", i + 1, i - 1));
    }
    sql.push_str(&format!(
        " ELSE {} END AS period, COUNT(*) AS n FROM findings \
         WHERE inspection_id = ${} AND status = ${} AND closed_at IS NOT NULL GROUP BY 1",
        periods.saturating_sub(1),
        periods + 1,
        periods + 2
    ));
    let mut query = diesel::sql_query(sql).into_boxed::<crate::db::MultiBackend>().bind::<Timestamp, _>(first);
    for b in &rest[..periods - 1] {
        query = query.bind::<Timestamp, _>(*b);
    }
    let rows: Vec<Row> = query.bind::<BigInt, _>(inspection_id).bind::<Text, _>(FindingStatus::Closed).load(conn)?;
    Ok(rows.into_iter().filter(|r| r.period >= 0).map(|r| (r.period, r.n)).collect())
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

/// A finding as the ledger export writes it: the columns it shows, with the names of its
/// responsible unit and leader joined in.
#[derive(Debug, Queryable)]
pub struct LedgerFinding {
    pub id: i64,
    pub section_id: Option<i64>,
    pub seq: i32,
    pub title: String,
    pub measures: Option<String>,
    pub outcome: Option<String>,
    pub blocked_reason: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: FindingStatus,
    pub long_term: bool,
    pub unit: Option<String>,
    pub leader: Option<String>,
}

/// The next `limit` findings of an inspection after `after` (its seq), in ledger order, each
/// with its unit's and leader's names: one statement per batch.
pub fn ledger_batch(
    conn: &mut DbConn,
    inspection_id: i64,
    after: i32,
    limit: i64,
) -> Result<Vec<LedgerFinding>, AppError> {
    // `seq` is unique within an inspection (`UNIQUE (inspection_id, seq)`): `seq > last` alone is
    // the keyset, a range of that index. (With `OR (seq = last AND id > …)` added, PostgreSQL
    // read the inspection's rows from its first each batch: a 40,000-row export re-read
    // 1.6 million rows.)
    Ok(findings::table
        .left_join(org_units::table.on(org_units::id.nullable().eq(findings::responsible_unit_id)))
        .left_join(users::table.on(users::id.nullable().eq(findings::responsible_leader_id)))
        .filter(findings::inspection_id.eq(inspection_id))
        .filter(findings::seq.gt(after))
        .select((
            findings::id,
            findings::section_id,
            findings::seq,
            findings::title,
            findings::measures,
            findings::outcome,
            findings::blocked_reason,
            findings::due_on,
            findings::status,
            findings::long_term,
            org_units::name.nullable(),
            users::display_name.nullable(),
        ))
        .order(findings::seq.asc())
        .limit(limit)
        .load(conn)?)
}
