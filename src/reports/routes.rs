//! Statistics, the half-month summary, the report, and conclusion/publication.

use std::collections::HashMap;

use actix_web::{get, post, web, HttpResponse};
use chrono::Duration;
use serde_json::json;

use super::api::{
    GroupStats, InspectionStats, PeriodCount, ProgressSummary, ReportedAssignment, SectionStats, SilentAssignment,
    UnitStats,
};
use super::periods::HalfMonth;
use super::queries;
use super::render::{rendered, report_format};
use crate::assignments::api::Assignment;
use crate::audit::{self, Event};
use crate::auth::{AuthUser, Role};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::findings::model::FindingStatus;
use crate::http::etag::ok_with_etag;
use crate::http::{IfMatch, QueryPairs};
use crate::inspections::api::Inspection;
use crate::inspections::model::{InspectionAction, InspectionStatus};
use crate::inspections::queries as inspection_queries;
use crate::inspections::sections::queries as sections;
use crate::inspections::service::find_in_scope;
use crate::state::AppState;
use diesel::prelude::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(inspection_stats)
        .service(progress_summary)
        .service(inspection_report)
        .service(super::export::export_ledger)
        .service(conclude_inspection)
        .service(publish_inspection);
}

/// Finding counts per status of one group (a section or a unit).
type Grouped = Vec<(Option<i64>, Vec<(String, i64)>)>;

fn status_counts(rows: &[(String, i64)]) -> Result<GroupStats, AppError> {
    let mut g = GroupStats::default();
    for (status, n) in rows {
        g.by_status.add(FindingStatus::from_db(status)?, *n);
        g.total += n;
    }
    Ok(g)
}

/// Counts by status, top-level section and responsible unit; deadlines; closures per half month.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The inspection")),
    responses(
        (status = 200, description = "Statistics", body = InspectionStats),
    ),
    security(("bearer" = []))
)]
#[get("/inspections/{id}/stats")]
pub async fn inspection_stats(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, today, zone) = (id.into_inner(), state.today(), state.config.timezone);
    let stats = state
        .db
        .run(move |conn| {
            find_in_scope(conn, &user, id)?;
            stats(conn, id, today, zone)
        })
        .await?;
    Ok(HttpResponse::Ok().json(stats))
}

fn stats(
    conn: &mut DbConn,
    id: i64,
    today: chrono::NaiveDate,
    zone: chrono_tz::Tz,
) -> Result<InspectionStats, AppError> {
    // Sections are few: map each to its top-level ancestor here; findings are counted in SQL.
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
    let mut all: Vec<(String, i64)> = Vec::new();
    for (section, status, n) in queries::counts_by_section(conn, id)? {
        all.push((status.clone(), n));
        let key = section.map(top);
        match per_top.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push((status, n)),
            None => per_top.push((key, vec![(status, n)])),
        }
    }
    let titles: HashMap<i64, String> = section_rows.iter().map(|s| (s.id, s.title.clone())).collect();
    let by_section = per_top
        .into_iter()
        .map(|(k, rows)| {
            Ok(SectionStats {
                section_id: k,
                title: k.and_then(|k| titles.get(&k).cloned()),
                counts: status_counts(&rows)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;

    let mut per_unit: Grouped = Vec::new();
    for (unit, status, n) in queries::counts_by_unit(conn, id)? {
        match per_unit.iter_mut().find(|(k, _)| *k == unit) {
            Some((_, v)) => v.push((status, n)),
            None => per_unit.push((unit, vec![(status, n)])),
        }
    }
    let unit_ids: Vec<i64> = per_unit.iter().filter_map(|(k, _)| *k).collect();
    let names = queries::unit_names(conn, &unit_ids)?;
    let by_responsible_unit = per_unit
        .into_iter()
        .map(|(k, rows)| {
            Ok(UnitStats {
                responsible_unit_id: k,
                name: k.and_then(|k| names.get(&k).cloned()),
                counts: status_counts(&rows)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;

    let total = status_counts(&all)?;
    let (overdue, due_within_7_days) = queries::due_counts(conn, id, today, today + Duration::days(7))?;
    let mut closures_per_half_month = Vec::new();
    if let (Some(first), Some(last)) = queries::closure_span(conn, id)? {
        let local = |t: chrono::NaiveDateTime| t.and_utc().with_timezone(&zone).date_naive();
        let (mut p, end) = (HalfMonth::of(local(first)), HalfMonth::of(local(last)));
        let mut periods = Vec::new();
        while p <= end {
            periods.push(p);
            p = p.next();
        }
        let skip = periods.len().saturating_sub(48);
        for p in periods.into_iter().skip(skip) {
            let (from, to) = p.utc_bounds(zone);
            closures_per_half_month
                .push(PeriodCount { period: p.to_string(), closed: queries::closed_between(conn, id, from, to)? });
        }
    }
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
        closures_per_half_month,
    })
}

/// The half-month review: each open assignment with its latest report in the period, and those with none.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The inspection"),
        ("period" = Option<String>, Query, description = "`2024-10-H1` (days 1–15) or `2024-10-H2`; default: the current half month"),
    ),
    responses(
        (status = 200, description = "The summary", body = ProgressSummary),
    ),
    security(("bearer" = []))
)]
#[get("/inspections/{id}/progress-summary")]
pub async fn progress_summary(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: QueryPairs,
) -> Result<HttpResponse, AppError> {
    q.only(&["period"])?;
    let period = match q.one("period")? {
        Some(raw) => HalfMonth::parse(raw).ok_or_else(|| {
            AppError::BadRequest(format!("query parameter `period` must look like 2024-10-H1, got `{raw}`"))
        })?,
        None => HalfMonth::of(state.today()),
    };
    let (id, today) = (id.into_inner(), state.today());
    let summary = state
        .db
        .run(move |conn| {
            find_in_scope(conn, &user, id)?;
            let open = queries::open_assignments(conn, id)?;
            let ids: Vec<i64> = open.iter().map(|(a, _)| a.id).collect();
            let mut latest = queries::latest_reports(conn, &ids, &period.to_string())?;
            let (mut reported, mut without_report) = (Vec::new(), Vec::new());
            for (row, finding_seq) in open {
                let report = latest.remove(&row.id);
                let assignment = Assignment::from_row(row, today)?;
                match report {
                    Some(latest_report) => reported.push(ReportedAssignment { finding_seq, assignment, latest_report }),
                    None => without_report.push(SilentAssignment { finding_seq, assignment }),
                }
            }
            Ok(ProgressSummary { inspection_id: id, period: period.to_string(), reported, without_report })
        })
        .await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// The report (整改情况) as it stands now: the summary sentence, then every category, aspect and problem.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The inspection"),
        ("format" = Option<String>, Query, description = "`markdown` (default), `html` or `text`"),
    ),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/markdown"),
            (String = "text/html"),
            (String = "text/plain"),
        )),
    ),
    security(("bearer" = []))
)]
#[get("/inspections/{id}/report")]
pub async fn inspection_report(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: QueryPairs,
) -> Result<HttpResponse, AppError> {
    let format = report_format(&q)?;
    let id = id.into_inner();
    let model = state
        .db
        .run(move |conn| {
            let inspection = find_in_scope(conn, &user, id)?;
            queries::report_model(conn, &inspection)
        })
        .await?;
    Ok(rendered(&model, format))
}

/// Refuses while any finding is open, in progress or pending closure (blocked ones are counted apart).
fn ensure_finished(conn: &mut DbConn, id: i64) -> Result<(), AppError> {
    let unfinished: i64 = crate::db::schema::findings::table
        .filter(crate::db::schema::findings::inspection_id.eq(id))
        .filter(crate::db::schema::findings::status.eq_any([
            FindingStatus::Open.as_str(),
            FindingStatus::InProgress.as_str(),
            FindingStatus::PendingClosure.as_str(),
        ]))
        .count()
        .get_result(conn)?;
    if unfinished > 0 {
        return Err(AppError::Conflict(format!(
            "{unfinished} finding(s) are still open, in progress or pending closure"
        )));
    }
    Ok(())
}

/// Concludes the rectification (inspector): no finding may still be open, in progress or pending closure
/// (blocked ones are counted apart). Honours `If-Match`.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "Checked when given")),
    responses(
        (status = 200, description = "Concluded", body = Inspection, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
    security(("bearer" = []))
)]
#[post("/inspections/{id}/conclude")]
pub async fn conclude_inspection(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Inspector])?;
    let (id, actor) = (id.into_inner(), user.actor());
    let inspection = state
        .db
        .write(move |conn| {
            db::lock_row(conn, "inspections", id)?;
            let before = find_in_scope(conn, &user, id)?;
            if_match.check(before.version)?;
            let next = InspectionStatus::from_db(&before.status)?.transition(InspectionAction::Conclude)?;
            ensure_finished(conn, id)?;
            let now = db::now();
            let after = inspection_queries::conclude(conn, id, before.version, next.as_str(), now)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let after = Inspection::try_from(after)?;
            audit::record(
                conn,
                &actor,
                Event::new("inspection.concluded", "inspection", id, json!({"after": after})).inspection(id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(inspection.version, &inspection))
}

/// Publishes a concluded inspection (inspector) whose findings are still all closed or blocked:
/// the report is frozen as published, so later edits do not change what the public sees. Honours `If-Match`.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "Checked when given")),
    responses(
        (status = 200, description = "Published", body = Inspection, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
    security(("bearer" = []))
)]
#[post("/inspections/{id}/publish")]
pub async fn publish_inspection(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Inspector])?;
    let (id, actor) = (id.into_inner(), user.actor());
    let inspection = state
        .db
        .write(move |conn| {
            db::lock_row(conn, "inspections", id)?;
            let before = find_in_scope(conn, &user, id)?;
            if_match.check(before.version)?;
            let next = InspectionStatus::from_db(&before.status)?.transition(InspectionAction::Publish)?;
            // Work may have resumed since the conclusion (a look-back reopened a finding, say).
            ensure_finished(conn, id)?;
            let snapshot = serde_json::to_string(&queries::report_model(conn, &before)?)?;
            let now = db::now();
            let after = inspection_queries::publish(conn, id, before.version, next.as_str(), &snapshot, now)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let after = Inspection::try_from(after)?;
            audit::record(
                conn,
                &actor,
                Event::new("inspection.published", "inspection", id, json!({"after": after})).inspection(id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(inspection.version, &inspection))
}
