//! Statistics, the half-month summary, the report, and conclusion/publication.

use actix_web::{get, post, web, HttpResponse};
use serde_json::json;

use super::api::{InspectionStats, PeriodQuery, ProgressSummary, ReportQuery, ReportedAssignment, SilentAssignment};
use super::periods::HalfMonth;
use super::queries;
use super::render::rendered;
use crate::assignments::api::Assignment;
use crate::audit::{self, Event};
use crate::auth::{roles, AuthUser, Needs};
use crate::db::versioned::{lock_and_load, Need};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::findings::model::FindingStatus;
use crate::http::etag::ok_with_etag;
use crate::http::etag::IfMatchOptional;
use crate::http::query::Query;
use crate::http::IfMatch;
use crate::inspections::api::Inspection;
use crate::inspections::model::InspectionAction;
use crate::inspections::queries as inspection_queries;
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

/// Where an inspection's rectification stands: counts, deadlines, closures and notices.
///
/// Findings by status, by top-level section (大类, counting findings at any depth below it) and
/// by responsible unit; open work overdue and due within 7 days (today in the configured time
/// zone); blocked findings, counted apart; the completion rate (closed over all); closures per
/// half month (at most the last 48); supervision notices by level and addressed unit, and how
/// long their acknowledgement took. Computed from the live ledger, not the published snapshot.
/// - Who: any role, on an inspection in their org scope.
/// - 404: the inspection is unknown or out of scope.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path, description = "The inspection")),
    responses(
        (status = 200, description = "Statistics", body = InspectionStats),
    ),
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
            super::stats::stats(conn, id, today, zone)
        })
        .await?;
    Ok(HttpResponse::Ok().json(stats))
}

/// The half-month review (每半月分析汇总) of an inspection.
///
/// For the half month `period` (default: the current one in the configured time zone), every
/// assignment not yet `done` (unassigned or assigned), in finding `seq` order: with its latest
/// progress report of that period under `reported`, or under `without_report`.
/// - Who: any role, on an inspection in their org scope.
/// - 400: `period` is not like `2024-10-H1`, or a parameter is unknown or repeated.
/// - 404: the inspection is unknown or out of scope.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The inspection"),
        PeriodQuery,
    ),
    responses(
        (status = 200, description = "The summary", body = ProgressSummary),
    ),
)]
#[get("/inspections/{id}/progress-summary")]
pub async fn progress_summary(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let period = q.0.period.unwrap_or_else(|| HalfMonth::of(state.today()));
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
                let assignment = Assignment::from_row(row, today);
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

/// The report (整改情况) as it stands now, as Markdown, HTML or plain text.
///
/// Rendered from the live ledger in the structure of a published rectification report: the
/// summary sentence computed from the findings ("…反馈问题4大类8个方面26个问题，其中24个已整改到位…"),
/// then every category, aspect and problem with its 整改情况. The public reads the snapshot taken
/// at publication instead (`/public/v1`).
/// - Who: any role, on an inspection in their org scope.
/// - 400: an unknown `format`, or a parameter that is unknown or repeated.
/// - 404: the inspection is unknown or out of scope.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The inspection"),
        ReportQuery,
    ),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/markdown"),
            (String = "text/html"),
            (String = "text/plain"),
        )),
    ),
)]
#[get("/inspections/{id}/report")]
pub async fn inspection_report(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let format = q.0.format;
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

/// Concludes the rectification of an inspection (inspector). Honours `If-Match`.
///
/// A `rectifying` inspection becomes `concluded` once none of its findings is `open`,
/// `in_progress` or `pending_closure` (`blocked` ones are counted apart and may remain). Writes
/// `inspection.concluded`.
/// - Who: `inspector` or `admin`, on an inspection in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the inspection is unknown or out of scope.
/// - 409: the inspection is not `rectifying` (`invalid-transition`), or findings are still open,
///   in progress or pending closure (the detail says how many).
/// - 412: `If-Match` is stale.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 200, description = "Concluded", body = Inspection, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/inspections/{id}/conclude")]
pub async fn conclude_inspection(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    let inspection = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| find_in_scope(conn, &user, id))?;
            let next = before.status.transition(InspectionAction::Conclude)?;
            ensure_finished(conn, id)?;
            let now = db::now();
            let after = inspection_queries::conclude(conn, id, before.version, next, now)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let after = Inspection::from(after);
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

/// Publishes a concluded inspection's report (整改情况公布) (inspector). Honours `If-Match`.
///
/// A `concluded` inspection becomes `published` with `published_at`. The report as it stands is
/// stored as a snapshot that `/public/v1` serves from then on (later work on the ledger does not
/// change it), and the public may send feedback on it. The findings are checked again, since a
/// look-back may have reopened one after the conclusion. Writes `inspection.published`.
/// - Who: `inspector` or `admin`, on an inspection in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the inspection is unknown or out of scope.
/// - 409: the inspection is not `concluded` (`invalid-transition`), or findings are open, in
///   progress or pending closure again.
/// - 412: `If-Match` is stale.
#[utoipa::path(
    tag = "reports",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 200, description = "Published", body = Inspection, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/inspections/{id}/publish")]
pub async fn publish_inspection(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    let inspection = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| find_in_scope(conn, &user, id))?;
            let next = before.status.transition(InspectionAction::Publish)?;
            // Work may have resumed since the conclusion (a look-back reopened a finding, say).
            ensure_finished(conn, id)?;
            let snapshot = serde_json::to_string(&queries::report_model(conn, &before)?)?;
            let now = db::now();
            let after = inspection_queries::publish(conn, id, before.version, next, &snapshot, now)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let after = Inspection::from(after);
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
