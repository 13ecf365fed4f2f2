//! `GET /api/v1/events`: the change feed for systems that sync by polling.

use actix_web::{get, web, HttpResponse};

use super::api::AuditEvent;
use super::queries;
use crate::auth::AuthUser;
use crate::error::{responses, AppError};
use crate::http::pagination::{Cursor, Page, PageParams};
use crate::http::QueryPairs;
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

/// Where to start: `after=<event id>`, or the cursor of the previous page.
fn start_after(q: &QueryPairs, page: &PageParams, state: &AppState, sort: &str) -> Result<i64, AppError> {
    if let Some(after) = q.parse::<i64>("after", "an event id")? {
        return Ok(after);
    }
    Ok(page.decode(&state.cursor_key, sort)?.map(|c| c.id).unwrap_or(0))
}

/// The change feed: every audit event in the caller's scope after `after`, in ascending id order.
#[utoipa::path(
    tag = "audit",
    params(
        ("after" = Option<i64>, Query, description = "Return events with a larger id (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1–200, default 50"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Events, oldest first", body = Page<AuditEvent>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/events")]
pub async fn list_events(state: web::Data<AppState>, user: AuthUser, q: QueryPairs) -> Result<HttpResponse, AppError> {
    q.only(&["after", "limit", "cursor"])?;
    let page = PageParams::from_query(&q)?;
    let after = start_after(&q, &page, &state, "events")?;
    let (scope, limit) = (user.scope(), page.limit);
    let rows = state.db.run(move |conn| queries::feed(conn, scope, after, limit + 1)).await?;
    Ok(HttpResponse::Ok().json(event_page(rows, limit, &state, "events")))
}

/// The audit events of the finding and everything under it, oldest first.
#[utoipa::path(
    tag = "findings",
    params(
        ("id" = i64, Path),
        ("after" = Option<i64>, Query, description = "Events with a larger id"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1–200, default 50"),
        ("cursor" = Option<String>, Query),
    ),
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
    q: QueryPairs,
) -> Result<HttpResponse, AppError> {
    q.only(&["after", "limit", "cursor"])?;
    let page = PageParams::from_query(&q)?;
    let after = start_after(&q, &page, &state, "history")?;
    let (scope, id, limit) = (user.scope(), id.into_inner(), page.limit);
    let rows = state
        .db
        .run(move |conn| {
            crate::findings::service::find_in_scope_by_id(conn, scope, id)?;
            queries::of_finding(conn, id, after, limit + 1)
        })
        .await?;
    Ok(HttpResponse::Ok().json(event_page(rows, limit, &state, "history")))
}
