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

/// Counts by status, top-level section and responsible unit; deadlines; closures per half month;
/// supervision notices by level and addressed unit, and how long their acknowledgement took.
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

/// The half-month review: each open assignment with its latest report in the period, and those with none.
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

/// The report (整改情况) as it stands now: the summary sentence, then every category, aspect and problem.
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

/// Concludes the rectification (inspector): no finding may still be open, in progress or pending closure
/// (blocked ones are counted apart). Honours `If-Match`.
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

/// Publishes a concluded inspection (inspector) whose findings are still all closed or blocked:
/// the report is frozen as published, so later edits do not change what the public sees. Honours `If-Match`.
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
