//! `GET /api/v1/events`: the change feed for systems that sync by polling.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::api::AuditEvent;
use super::catalog;
use super::queries::{self, FeedFilter, Position};
use crate::auth::{roles, AuthUser, Needs};
use crate::error::{responses, AppError};
use crate::http::pagination::{Cursor, Page, PageParams};
use crate::http::query::{ListQuery, PageQuery};
use crate::state::AppState;

/// Builds a page of events whose cursor is the last one's feed position (`key` its txid).
fn event_page(rows: Vec<queries::EventRow>, limit: i64, state: &AppState, sort: &str) -> Page<AuditEvent> {
    crate::http::pagination::paginate(
        rows,
        limit,
        &state.cursor_key,
        |r| Cursor { sort: sort.into(), key: serde_json::Value::from(r.txid), id: r.id },
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

/// The change feed's parameters: where to start, and what to keep.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Events after this one (its id, as last received; default: from the beginning); wins over `cursor`.
    pub after: Option<i64>,
    /// Only events of this inspection (and everything under it).
    pub inspection_id: Option<i64>,
    /// Only events about this kind of entity, e.g. `finding`, `closure_request`, `notice`.
    #[param(max_length = 64, example = "finding")]
    pub entity_type: Option<String>,
    /// Only events of this type.
    #[param(value_type = Option<super::api::EventType>)]
    pub action: Option<String>,
}

impl FeedQuery {
    fn filter(&self) -> Result<FeedFilter, AppError> {
        if let Some(a) = self.action.as_deref().filter(|a| catalog::find(a).is_none()) {
            return Err(AppError::invalid("action", format!("`{a}` is not an event type")));
        }
        if self.entity_type.as_ref().is_some_and(|t| t.chars().count() > 64) {
            return Err(AppError::invalid("entity_type", "must be at most 64 characters"));
        }
        Ok(FeedFilter {
            inspection_id: self.inspection_id,
            entity_type: self.entity_type.clone(),
            action: self.action.clone(),
        })
    }
}

/// Where the history starts: `after=<event id>`, or the cursor of the previous page.
fn start_after(q: &EventQuery, page: &PageParams, state: &AppState, sort: &str) -> Result<i64, AppError> {
    match q.after {
        Some(after) => Ok(after),
        None => page.after_id(&state.cursor_key, sort),
    }
}

/// Where the feed starts: the cursor of the previous page, or after the event `after`
/// (looked up in the log), or at the beginning.
enum Start {
    Position(Position),
    AfterEvent(i64),
}

fn feed_start(q: &FeedQuery, page: &PageParams, state: &AppState) -> Result<Start, AppError> {
    if let Some(after) = q.after {
        return Ok(Start::AfterEvent(after));
    }
    Ok(match page.decode(&state.cursor_key, "events")? {
        Some(c) => Start::Position(Position { txid: c.key_as()?, id: c.id }),
        None => Start::Position(Position { txid: i64::MIN, id: 0 }),
    })
}

/// The change feed: every audit event in the caller's scope, oldest first, for polling.
///
/// Starts after the event `after` (an id as last received; it wins over `cursor`), or at the
/// cursor, or at the beginning. Events appear once their transaction and every older one have
/// finished, so a poller that passes the id of the last event it received (or the `next_cursor`)
/// never misses one, even when concurrent writers commit out of id order; ids may have gaps, and
/// while writers overlap the order can differ from plain id order.
/// - Who: any role. Admins see every event; others see the events of inspections in their org
///   scope, and the events of units, users, service accounts and webhooks of units in it.
/// - 400: an unknown, repeated or malformed parameter, or a tampered cursor.
/// - 422: `limit` outside 1–200, an `action` that is not an event type, an `entity_type`
///   longer than 64 characters.
#[utoipa::path(
    tag = "audit",
    params(FeedQuery, PageQuery),
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
    q: ListQuery<FeedQuery>,
) -> Result<HttpResponse, AppError> {
    let start = feed_start(&q.filter, &q.page, &state)?;
    let filter = q.filter.filter()?;
    let (scope, limit) = (user.scope(), q.page.limit);
    let rows = state
        .db
        .run(move |conn| {
            let after = match start {
                Start::Position(p) => p,
                Start::AfterEvent(id) => queries::position_of(conn, id)?,
            };
            queries::feed(conn, scope, &filter, after, limit + 1)
        })
        .await?;
    Ok(HttpResponse::Ok().json(event_page(rows, limit, &state, "events")))
}

/// The audit events of a finding and everything under it, oldest first.
///
/// The finding's own events and those of its assignments, progress reports, closure and
/// extension requests, look-back reviews and supervision notices, by event id; `after=<event id>`
/// (it wins over `cursor`) or the cursor continues.
/// - Who: any role, on a finding in their org scope.
/// - 400: an unknown or malformed parameter, or a tampered cursor.
/// - 404: the id is unknown or out of scope.
/// - 422: `limit` outside 1–200.
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

/// Verifies the audit trail's hash chain.
///
/// Recomputes every seal in order (SHA-256 over the previous hash and the event's canonical
/// content; see `ChainVerification`) and checks that no unsealed event lies within the
/// sealed trail. `valid` is false and `first_broken` names the first link that does not hold
/// when an event was changed, removed, reordered or slipped in after it was sealed, whoever
/// did it. Events of the last second or so are not sealed yet: `pending` counts them. Record
/// `head.hash` elsewhere now and then: a later rewrite of the whole trail then shows too.
/// Reads only; takes time in proportion to the trail's length.
/// - Who: admin.
/// - 200 whether or not the chain holds: read `valid`.
/// - 403: the caller is not an admin.
#[utoipa::path(
    tag = "audit",
    responses(
        (status = 200, description = "The verification", body = crate::audit::chain::ChainVerification),
        (status = 403, response = responses::Forbidden),
    ),
)]
#[get("/events/verify")]
pub async fn verify_events(
    state: web::Data<AppState>,
    _admin: Needs<{ roles::ADMIN }>,
) -> Result<HttpResponse, AppError> {
    let report = state.db.run(crate::audit::chain::verify).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(report))
}
