//! `GET /api/v1/events`: the change feed for systems that sync by polling.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::api::AuditEvent;
use super::queries;
use crate::auth::AuthUser;
use crate::error::{responses, AppError};
use crate::http::pagination::{Cursor, Page, PageParams};
use crate::http::query::{ListQuery, PageQuery};
use crate::state::AppState;

/// Builds a page of events whose cursor is the last id; `after` wins over `cursor`.
fn event_page(rows: Vec<queries::EventRow>, limit: i64, state: &AppState, sort: &str) -> Page<AuditEvent> {
    crate::http::pagination::paginate(
        rows,
        limit,
        &state.cursor_key,
        |r| Cursor { sort: sort.into(), key: serde_json::Value::Null, id: r.id },
        AuditEvent::from,
    )
}

/// Where a page of events starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Events with a larger id (default 0); wins over `cursor`.
    pub after: Option<i64>,
}

/// Where to start: `after=<event id>`, or the cursor of the previous page.
fn start_after(q: &EventQuery, page: &PageParams, state: &AppState, sort: &str) -> Result<i64, AppError> {
    match q.after {
        Some(after) => Ok(after),
        None => page.after_id(&state.cursor_key, sort),
    }
}

/// The change feed: every audit event in the caller's scope after `after`, in ascending id order.
#[utoipa::path(
    tag = "audit",
    params(EventQuery, PageQuery),
    responses(
        (status = 200, description = "Events, oldest first", body = Page<AuditEvent>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<EventQuery>,
) -> Result<HttpResponse, AppError> {
    let after = start_after(&q.filter, &q.page, &state, "events")?;
    let (scope, limit) = (user.scope(), q.page.limit);
    let rows = state.db.run(move |conn| queries::feed(conn, scope, after, limit + 1)).await?;
    Ok(HttpResponse::Ok().json(event_page(rows, limit, &state, "events")))
}

/// The audit events of the finding and everything under it, oldest first.
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path), EventQuery, PageQuery),
    responses(
        (status = 200, description = "The finding's history", body = Page<AuditEvent>),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/findings/{id}/history")]
pub async fn finding_history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ListQuery<EventQuery>,
) -> Result<HttpResponse, AppError> {
    let after = start_after(&q.filter, &q.page, &state, "history")?;
    let (scope, id, limit) = (user.scope(), id.into_inner(), q.page.limit);
    let rows = state
        .db
        .run(move |conn| {
            crate::findings::service::find_in_scope_by_id(conn, scope, id)?;
            queries::of_finding(conn, id, after, limit + 1)
        })
        .await?;
    Ok(HttpResponse::Ok().json(event_page(rows, limit, &state, "history")))
}
