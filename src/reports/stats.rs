//! The statistics of an inspection (contract §7): counts by status, by top-level
//! section and by responsible unit, deadlines, blocked work and closures per half
//! month, and its supervision notices (§9.2). The findings are counted in one grouped scan
//! (`queries::finding_tallies`, deadlines bucketed in SQL) and the closures per half month
//! in one range scan of the closed ones (`queries::closures_by_period`); notices are
//! counted in SQL. Each answer is a few rows however large the inspection.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use super::api::{GroupStats, InspectionStats, NoticeStats, NoticeUnitStats, PeriodCount, SectionStats, UnitStats};
use super::periods::HalfMonth;
use super::queries::{self, Tally};
use crate::db::DbConn;
use crate::error::AppError;
use crate::findings::model::FindingStatus;
use crate::inspections::sections::queries as sections;
use crate::notices::model::{acknowledgement_times, NoticeStatus};

/// Status counts, grouped by a key (a section or a unit).
type Grouped = Vec<(Option<i64>, Vec<(FindingStatus, i64)>)>;

fn status_counts(rows: &[(FindingStatus, i64)]) -> GroupStats {
    let mut g = GroupStats::default();
    for (status, n) in rows {
        g.by_status.add(*status, *n);
        g.total += n;
    }
    g
}

/// Adds `(key, status, n)` to its group, keeping the groups in first-seen order.
fn push(groups: &mut Grouped, key: Option<i64>, status: FindingStatus, n: i64) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, v)) => v.push((status, n)),
        None => groups.push((key, vec![(status, n)])),
    }
}

/// The statistics of inspection `id`, with deadlines seen on `today` and half months in `zone`.
pub fn stats(conn: &mut DbConn, id: i64, today: NaiveDate, zone: Tz) -> Result<InspectionStats, AppError> {
    let tallies = queries::finding_tallies(conn, id, today, today + Duration::days(7))?;
    let (by_section, total) = by_section(conn, id, &tallies)?;
    let by_responsible_unit = by_unit(conn, &tallies)?;
    let (overdue, due_within_7_days) = due_counts(&tallies);
    let closed = total.by_status.closed;
    Ok(InspectionStats {
        inspection_id: id,
        total: total.total,
        blocked: total.by_status.blocked,
        completion_rate: if total.total == 0 { 0.0 } else { closed as f64 / total.total as f64 },
        by_status: total.by_status,
        by_section,
        by_responsible_unit,
        overdue,
        due_within_7_days,
        closures_per_half_month: closures_per_half_month(conn, id, &tallies, zone)?,
        notices: notices(conn, id)?,
    })
}

/// Notices by level, by addressed unit (with its name) and by status, from one `GROUP BY`;
/// acknowledgement times from the acknowledged notices' two timestamps.
fn notices(conn: &mut DbConn, id: i64) -> Result<NoticeStats, AppError> {
    let mut stats = NoticeStats::default();
    let mut per_unit: BTreeMap<i64, NoticeUnitStats> = BTreeMap::new();
    for (unit, level, status, n) in queries::notice_counts(conn, id)? {
        let u = per_unit.entry(unit).or_insert_with(|| NoticeUnitStats {
            org_unit_id: unit,
            name: None,
            total: 0,
            acknowledged: 0,
            outstanding: 0,
            by_level: Default::default(),
        });
        let acknowledged = if status == NoticeStatus::Acknowledged { n } else { 0 };
        u.total += n;
        u.acknowledged += acknowledged;
        u.outstanding += n - acknowledged;
        u.by_level.add(level, n);
        stats.total += n;
        stats.acknowledged += acknowledged;
        stats.outstanding += n - acknowledged;
        stats.by_level.add(level, n);
    }
    let names = if per_unit.is_empty() {
        HashMap::new()
    } else {
        queries::unit_names(conn, &per_unit.keys().copied().collect::<Vec<_>>())?
    };
    stats.by_unit = per_unit
        .into_values()
        .map(|mut u| {
            u.name = names.get(&u.org_unit_id).cloned();
            u
        })
        .collect();
    let times = acknowledgement_times(&queries::acknowledgement_pairs(conn, id)?);
    stats.average_acknowledgement_seconds = times.average_seconds;
    stats.max_acknowledgement_seconds = times.max_seconds;
    Ok(stats)
}

/// Counts per top-level section (category), and over the whole inspection.
fn by_section(conn: &mut DbConn, id: i64, tallies: &[Tally]) -> Result<(Vec<SectionStats>, GroupStats), AppError> {
    let section_rows = sections::of_inspection(conn, id)?;
    let parent: HashMap<i64, Option<i64>> = section_rows.iter().map(|s| (s.id, s.parent_id)).collect();
    let top = |mut s: i64| {
        while let Some(Some(p)) = parent.get(&s) {
            s = *p;
        }
        s
    };
    let mut per_top: Grouped =
        section_rows.iter().filter(|s| s.parent_id.is_none()).map(|s| (Some(s.id), Vec::new())).collect();
    let mut all = Vec::new();
    for t in tallies {
        all.push((t.status, t.n));
        push(&mut per_top, t.section_id.map(top), t.status, t.n);
    }
    let titles: HashMap<i64, String> = section_rows.iter().map(|s| (s.id, s.title.clone())).collect();
    let by_section = per_top
        .into_iter()
        .map(|(k, rows)| SectionStats {
            section_id: k,
            title: k.and_then(|k| titles.get(&k).cloned()),
            counts: status_counts(&rows),
        })
        .collect();
    Ok((by_section, status_counts(&all)))
}

/// Counts per responsible unit (牵头单位), with its name.
fn by_unit(conn: &mut DbConn, tallies: &[Tally]) -> Result<Vec<UnitStats>, AppError> {
    let mut per_unit: Grouped = Vec::new();
    for t in tallies {
        push(&mut per_unit, t.responsible_unit_id, t.status, t.n);
    }
    let unit_ids: Vec<i64> = per_unit.iter().filter_map(|(k, _)| *k).collect();
    let names = queries::unit_names(conn, &unit_ids)?;
    Ok(per_unit
        .into_iter()
        .map(|(k, rows)| UnitStats {
            responsible_unit_id: k,
            name: k.and_then(|k| names.get(&k).cloned()),
            counts: status_counts(&rows),
        })
        .collect())
}

/// Open findings due before today (overdue), and due within the next 7 days.
fn due_counts(tallies: &[Tally]) -> (i64, i64) {
    tallies.iter().fold((0, 0), |(overdue, soon), t| (overdue + t.overdue, soon + t.soon))
}

/// Closures per local half month, from the first closure to the last (at most the last 48).
fn closures_per_half_month(
    conn: &mut DbConn,
    id: i64,
    tallies: &[Tally],
    zone: Tz,
) -> Result<Vec<PeriodCount>, AppError> {
    let closed = tallies.iter().filter(|t| t.status == FindingStatus::Closed);
    let first = closed.clone().filter_map(|t| t.first_closed).min();
    let last = closed.filter_map(|t| t.last_closed).max();
    let (Some(first), Some(last)) = (first, last) else { return Ok(Vec::new()) };
    let local = |t: NaiveDateTime| t.and_utc().with_timezone(&zone).date_naive();
    let (mut p, end) = (HalfMonth::of(local(first)), HalfMonth::of(local(last)));
    let mut periods = Vec::new();
    while p <= end {
        periods.push(p);
        p = p.next();
    }
    let periods = periods.split_off(periods.len().saturating_sub(48));
    let mut bounds: Vec<NaiveDateTime> = periods.iter().map(|p| p.utc_bounds(zone).0).collect();
    bounds.extend(periods.last().map(|p| p.utc_bounds(zone).1));
    let mut counts = vec![0; periods.len()];
    for (i, n) in queries::closures_by_period(conn, id, &bounds)? {
        if let Some(c) = counts.get_mut(i as usize) {
            *c += n;
        }
    }
    Ok(periods.into_iter().zip(counts).map(|(p, closed)| PeriodCount { period: p.to_string(), closed }).collect())
}
