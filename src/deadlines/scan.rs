//! Which deadline events a finding is owed on a given day (pure), and the scan that writes
//! them: keyset batches of findings; per owed event a row in `deadline_marks`, inserted with
//! `ON CONFLICT DO NOTHING`; the audit event in the same transaction, only when the row was new.

use std::collections::HashSet;
use std::ops::AddAssign;

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};
use serde_json::{json, Value};

use crate::audit::{self, Actor, Event};
use crate::config::{Config, WarningThresholds};
use crate::db::schema::{deadline_marks as dm, findings};
use crate::db::{self, Db, DbConn};
use crate::error::AppError;
use crate::findings::model::{is_overdue, warning_level, FindingStatus, WarningLevel};
use crate::string_enum;

/// Findings read per batch, and at most written per transaction: a large ledger never holds
/// one long transaction.
pub const BATCH: i64 = 500;

string_enum! {
    /// The two deadline events, as stored in `deadline_marks.kind`.
    pub enum DeadlineKind {
        /// `finding.due_soon`: the warning level turned yellow or red.
        DueSoon => "due_soon",
        /// `finding.overdue`: the day after `due_on`, while neither closed nor blocked.
        Overdue => "overdue",
    }
}

impl DeadlineKind {
    /// The audit event's action.
    pub fn action(self) -> &'static str {
        match self {
            Self::DueSoon => "finding.due_soon",
            Self::Overdue => "finding.overdue",
        }
    }
}

/// One event a finding is owed: its kind and the warning level it reports (`red` for `overdue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mark {
    pub kind: DeadlineKind,
    pub level: WarningLevel,
}

/// The events a finding with `status`, due on `due_on`, is owed on `today`, in the order they are
/// written: `due_soon` at the finding's current level when that is yellow or red (a finding first
/// seen red is owed red only: yellow is no longer its level), then `overdue` when `due_on` is
/// past and the finding is neither closed nor blocked. Blocked work keeps its warning level
/// (§5), so it is owed `due_soon`; its `overdue` waits until it is unblocked.
pub fn marks_due(
    status: FindingStatus,
    due_on: Option<NaiveDate>,
    today: NaiveDate,
    thresholds: WarningThresholds,
) -> Vec<Mark> {
    let mut marks = Vec::with_capacity(2);
    let level = warning_level(status, due_on, today, thresholds);
    if matches!(level, WarningLevel::Yellow | WarningLevel::Red) {
        marks.push(Mark { kind: DeadlineKind::DueSoon, level });
    }
    if is_overdue(status, due_on, today) && status != FindingStatus::Blocked {
        marks.push(Mark { kind: DeadlineKind::Overdue, level: WarningLevel::Red });
    }
    marks
}

/// The latest due date that can owe an event on `today`: later ones are not yellow yet.
pub fn horizon(today: NaiveDate, thresholds: WarningThresholds) -> NaiveDate {
    u64::try_from(thresholds.yellow_days)
        .ok()
        .and_then(|days| today.checked_add_days(Days::new(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The audit data of `mark`: the level, the due date, how many days are left (negative once
/// past) or overdue, and the finding's status.
pub fn event_data(mark: Mark, status: FindingStatus, due_on: NaiveDate, today: NaiveDate) -> Value {
    let days_left = (due_on - today).num_days();
    match mark.kind {
        DeadlineKind::DueSoon => {
            json!({"level": mark.level, "due_on": due_on, "days_left": days_left, "status": status})
        }
        DeadlineKind::Overdue => {
            json!({"level": mark.level, "due_on": due_on, "days_overdue": -days_left, "status": status})
        }
    }
}

/// What a scan (or one batch of it) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Findings read that were due within the yellow threshold or past due, and not closed.
    pub checked: usize,
    /// `finding.due_soon` events this scan wrote.
    pub due_soon: usize,
    /// `finding.overdue` events this scan wrote.
    pub overdue: usize,
}

impl ScanReport {
    /// Events written.
    pub fn events(&self) -> usize {
        self.due_soon + self.overdue
    }
}

impl AddAssign for ScanReport {
    fn add_assign(&mut self, other: Self) {
        self.checked += other.checked;
        self.due_soon += other.due_soon;
        self.overdue += other.overdue;
    }
}

/// One batch's report, and the id the next batch starts after (none: this was the last).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    pub(crate) report: ScanReport,
    pub(crate) next_after: Option<i64>,
}

/// Runs one whole scan as of `today` (a date in the configured time zone), batch after batch,
/// each with its own connection and short transaction. Any number of scans may run at once,
/// in threads or instances: each event is written by exactly one of them.
pub fn scan_once(db: &Db, config: &Config, today: NaiveDate) -> Result<ScanReport, AppError> {
    let mut report = ScanReport::default();
    let mut after = 0;
    loop {
        let mut conn = db.get()?;
        let batch = scan_batch(&mut conn, after, today, config.warnings)?;
        report += batch.report;
        match batch.next_after {
            Some(id) => after = id,
            None => return Ok(report),
        }
    }
}

/// The findings after id `after`: reads up to [`BATCH`] of them outside any transaction, and
/// only when one of them is owed an event not marked yet opens a write transaction for those.
pub(crate) fn scan_batch(
    conn: &mut DbConn,
    after: i64,
    today: NaiveDate,
    thresholds: WarningThresholds,
) -> Result<Batch, AppError> {
    let rows = candidates(conn, after, horizon(today, thresholds))?;
    let next_after = rows.last().map(|r| r.id).filter(|_| rows.len() as i64 == BATCH);
    let owed = owing(conn, &rows, today, thresholds)?;
    let mut report = if owed.is_empty() {
        ScanReport::default()
    } else {
        db::write_tx(conn, |conn| write_marks(conn, &owed, today, thresholds))?
    };
    report.checked = rows.len();
    Ok(Batch { report, next_after })
}

/// The columns the scan reads of a finding.
#[derive(Debug, Clone, Queryable)]
struct Candidate {
    id: i64,
    inspection_id: i64,
    status: FindingStatus,
    due_on: Option<NaiveDate>,
}

crate::columns!(CANDIDATE: CandidateColumns = findings { id, inspection_id, status, due_on });

/// Up to [`BATCH`] findings after `after`, by id, not closed and due on or before `horizon`.
fn candidates(conn: &mut DbConn, after: i64, horizon: NaiveDate) -> Result<Vec<Candidate>, AppError> {
    Ok(findings::table
        .filter(findings::id.gt(after))
        .filter(findings::status.ne(FindingStatus::Closed))
        .filter(findings::due_on.le(horizon))
        .order(findings::id.asc())
        .limit(BATCH)
        .select(CANDIDATE)
        .load(conn)?)
}

/// The ids of the findings among `rows` owed an event that has no mark yet.
fn owing(
    conn: &mut DbConn,
    rows: &[Candidate],
    today: NaiveDate,
    thresholds: WarningThresholds,
) -> Result<Vec<i64>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let marked: HashSet<(i64, DeadlineKind, WarningLevel, NaiveDate)> = dm::table
        .filter(dm::finding_id.eq_any(&ids))
        .select((dm::finding_id, dm::kind, dm::level, dm::due_on))
        .load(conn)?
        .into_iter()
        .collect();
    let owes = |r: &Candidate| {
        let Some(due) = r.due_on else { return false };
        marks_due(r.status, r.due_on, today, thresholds).iter().any(|m| !marked.contains(&(r.id, m.kind, m.level, due)))
    };
    Ok(rows.iter().filter(|r| owes(r)).map(|r| r.id).collect())
}

/// Inside the write transaction: reads the findings again (they may have moved since) and
/// writes each owed mark; the event follows only when the mark's row was new.
fn write_marks(
    conn: &mut DbConn,
    ids: &[i64],
    today: NaiveDate,
    thresholds: WarningThresholds,
) -> Result<ScanReport, AppError> {
    // Share locks keep a request from changing the findings under the scan; a concurrent scan
    // that owes the same mark waits on its key in insert_mark and then writes nothing.
    db::share_lock_rows(conn, "findings", ids)?;
    let rows: Vec<Candidate> =
        findings::table.filter(findings::id.eq_any(ids)).order(findings::id.asc()).select(CANDIDATE).load(conn)?;
    let now = db::now();
    let mut report = ScanReport::default();
    for row in rows {
        let Some(due) = row.due_on else { continue };
        for mark in marks_due(row.status, row.due_on, today, thresholds) {
            if !insert_mark(conn, row.id, mark, due, now)? {
                continue;
            }
            let data = event_data(mark, row.status, due, today);
            let event =
                Event::new(mark.kind.action(), "finding", row.id, data).inspection(row.inspection_id).finding(row.id);
            audit::record(conn, &Actor::system(), event)?;
            match mark.kind {
                DeadlineKind::DueSoon => report.due_soon += 1,
                DeadlineKind::Overdue => report.overdue += 1,
            }
        }
    }
    Ok(report)
}

/// Inserts a mark unless its key exists; `true` when this call inserted it. The key decides
/// between concurrent scans: the loser's insert affects no row. (diesel's `on_conflict` does not
/// compile through the `MultiConnection`; this SQL and `$n` binds work on both backends.)
fn insert_mark(
    conn: &mut DbConn,
    finding_id: i64,
    mark: Mark,
    due_on: NaiveDate,
    now: chrono::NaiveDateTime,
) -> Result<bool, AppError> {
    let inserted = diesel::sql_query(
        "INSERT INTO deadline_marks (finding_id, kind, level, due_on, marked_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(finding_id)
    .bind::<Text, _>(mark.kind)
    .bind::<Text, _>(mark.level)
    .bind::<Date, _>(due_on)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeadlineKind::*;
    use FindingStatus::*;
    use WarningLevel::{Red, Yellow};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const TODAY: &str = "2024-10-01";

    fn owed(status: FindingStatus, due: &str) -> Vec<(DeadlineKind, WarningLevel)> {
        marks_due(status, Some(day(due)), day(TODAY), WarningThresholds::default())
            .into_iter()
            .map(|m| (m.kind, m.level))
            .collect()
    }

    #[test]
    fn due_soon_follows_the_warning_level_at_its_edges() {
        // Default thresholds: yellow within 10 days, green within 20.
        assert!(owed(InProgress, "2024-10-12").is_empty(), "11 days left: green");
        assert_eq!(owed(InProgress, "2024-10-11"), [(DueSoon, Yellow)], "10 days left");
        assert_eq!(owed(InProgress, "2024-10-02"), [(DueSoon, Yellow)], "tomorrow");
        assert_eq!(owed(InProgress, "2024-10-01"), [(DueSoon, Yellow)], "due today is not overdue yet");
        assert_eq!(owed(InProgress, "2024-09-30"), [(DueSoon, Red), (Overdue, Red)], "the day after due_on");
        assert_eq!(owed(Open, "2020-01-01"), [(DueSoon, Red), (Overdue, Red)], "long past");
    }

    #[test]
    fn every_status_at_one_day_overdue_and_at_yellow() {
        for status in FindingStatus::ALL.iter().copied() {
            let (past, soon) = (owed(status, "2024-09-30"), owed(status, "2024-10-05"));
            match status {
                Closed => {
                    assert!(past.is_empty() && soon.is_empty(), "closed work is owed nothing");
                }
                Blocked => {
                    assert_eq!(past, [(DueSoon, Red)], "blocked: no overdue, the level still shows");
                    assert_eq!(soon, [(DueSoon, Yellow)]);
                }
                Open | InProgress | PendingClosure => {
                    assert_eq!(past, [(DueSoon, Red), (Overdue, Red)], "{status}");
                    assert_eq!(soon, [(DueSoon, Yellow)], "{status}");
                }
            }
        }
    }

    #[test]
    fn no_due_date_owes_nothing() {
        assert!(marks_due(InProgress, None, day(TODAY), WarningThresholds::default()).is_empty());
    }

    #[test]
    fn thresholds_are_configurable() {
        let t = WarningThresholds { yellow_days: 0, green_days: 3 };
        let at = |due: &str| marks_due(Open, Some(day(due)), day(TODAY), t);
        assert!(at("2024-10-02").is_empty(), "a yellow threshold of 0: only the due day itself is yellow");
        assert_eq!(at("2024-10-01"), [Mark { kind: DueSoon, level: Yellow }]);
        assert_eq!(horizon(day(TODAY), t), day(TODAY));
        assert_eq!(horizon(day(TODAY), WarningThresholds::default()), day("2024-10-11"));
    }

    #[test]
    fn event_data_counts_days_both_ways() {
        let (due, today) = (day("2024-10-04"), day(TODAY));
        let soon = event_data(Mark { kind: DueSoon, level: Yellow }, InProgress, due, today);
        assert_eq!(soon, json!({"level": "yellow", "due_on": "2024-10-04", "days_left": 3, "status": "in_progress"}));
        let late = event_data(Mark { kind: Overdue, level: Red }, Open, day("2024-09-29"), today);
        assert_eq!(late, json!({"level": "red", "due_on": "2024-09-29", "days_overdue": 2, "status": "open"}));
        assert_eq!(DueSoon.action(), "finding.due_soon");
        assert_eq!(Overdue.action(), "finding.overdue");
        assert!(DeadlineKind::names_agree());
    }
}
