//! `/api/v1/assignments/{id}/progress`: half-month progress reports.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{NewProgressReport, ProgressReport};
use super::model::{half_month, AssignmentAction};
use super::queries::{self, NewReportRow};
use super::service::assignment_in_scope;
use crate::audit::{self, Event};
use crate::auth::{AuthUser, Role};
use crate::db;
use crate::error::{responses, AppError};
use crate::findings::service::find_in_scope_by_id;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery};
use crate::http::{IdempotencyKey, Json};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(report_progress).service(list_progress);
}

/// Reports progress on an assignment (its assignee, or a leader).
///
/// Adds a progress report stamped with the half month of its time in the configured time zone
/// (`period`, e.g. `2024-10-H1`), which the half-month summary reads. Writes
/// `progress.reported`. An `Idempotency-Key` replays the first answer for 24 hours.
/// - Who: the assignee (whatever their roles), or a `leader` or `admin` who sees the assignment.
/// - 403: anyone else.
/// - 404: the assignment is unknown or out of scope.
/// - 409 (`invalid-transition`): the assignment is not `assigned` (`unassigned` or `done`).
/// - 422: `content` is blank, longer than 20,000 characters or holds control characters;
///   `percent` outside 0–100; an `Idempotency-Key` reused with another body.
#[utoipa::path(
    tag = "assignments",
    params(
        ("id" = i64, Path, description = "The assignment"),
        IdempotencyKeyHeader,
    ),
    request_body = NewProgressReport,
    responses(
        (status = 201, description = "Recorded", body = ProgressReport, headers(("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/assignments/{id}/progress")]
pub async fn report_progress(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewProgressReport>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let content = errors.text("content", &body.data.content, LONG_TEXT);
    let percent = body.data.percent;
    if percent.is_some_and(|p| !(0..=100).contains(&p)) {
        errors.add("percent", "must be from 0 to 100");
    }
    errors.finish()?;
    let (id, actor, user_id, zone) = (id.into_inner(), user.actor(), user.id, state.config.timezone);
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        db::lock_row(conn, "assignments", id)?;
        let assignment = assignment_in_scope(conn, user.scope(), id)?;
        if assignment.assignee_id != Some(user.id) && user.require_any(&[Role::Leader]).is_err() {
            return Err(AppError::Forbidden("only the assignee or a leader may report progress".into()));
        }
        assignment.status.transition(AssignmentAction::Report)?;
        let finding = find_in_scope_by_id(conn, user.scope(), assignment.finding_id)?;
        let now = db::now();
        let row = queries::insert_report(
            conn,
            &NewReportRow {
                assignment_id: id,
                author_id: user.id,
                content,
                percent,
                period: half_month(now.and_utc(), zone),
                created_at: now,
            },
        )?;
        let report = ProgressReport::from(row);
        audit::record(
            conn,
            &actor,
            Event::new("progress.reported", "progress_report", report.id, json!({"after": report}))
                .inspection(finding.inspection_id)
                .finding(finding.id),
        )?;
        Ok(Created {
            status: actix_web::http::StatusCode::CREATED,
            body: serde_json::to_value(&report)?,
            etag: None,
            location: Some(format!("/api/v1/assignments/{id}/progress")),
        })
    })
    .await
}

/// The progress reports of an assignment, oldest first.
///
/// Any role, on an assignment in their org scope.
/// - 400: an unknown or malformed parameter, or a tampered cursor.
/// - 404: the assignment is unknown or out of scope.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "assignments",
    params(
        ("id" = i64, Path, description = "The assignment"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of reports", body = Page<ProgressReport>),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/assignments/{id}/progress")]
pub async fn list_progress(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ListQuery<NoFilter>,
) -> Result<HttpResponse, AppError> {
    let page = q.page;
    let after = page.after_id(&state.cursor_key, "id")?;
    let (scope, id, limit) = (user.scope(), id.into_inner(), page.limit);
    let rows = state
        .db
        .run(move |conn| {
            assignment_in_scope(conn, scope, id)?;
            queries::reports(conn, id, after, limit + 1)
        })
        .await?;
    let page = paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), ProgressReport::from);
    Ok(HttpResponse::Ok().json(page))
}
