//! Finding actions outside sign-off: block, unblock, look-back reviews (回头看).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{BlockFinding, Derive, Finding, NewReview, Review};
use super::model::FindingAction;
use super::model::ReviewOutcome;
use super::queries;
use super::service::find_in_scope_by_id;
use super::workflow;
use crate::audit::{self, Event};
use crate::auth::{roles, AuthUser, Needs};
use crate::db;
use crate::db::versioned::{lock_and_load, Need};
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::etag::IfMatchOptional;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(block_finding).service(unblock_finding).service(review_finding).service(list_reviews);
}

fn derive(state: &AppState) -> Derive {
    Derive { today: state.today(), thresholds: state.config.warnings }
}

/// Blocks a finding that depends on an outside body (leader). Honours `If-Match`.
///
/// Moves an `open` or `in_progress` finding to `blocked` with `reason` and, if known, `until`
/// (when the blocker should clear). Blocked findings are counted apart in the statistics and the
/// report. Writes `finding.blocked`.
/// - Who: `leader` or `admin`, on a finding in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the id is unknown or out of scope.
/// - 409 (`invalid-transition`): the finding is `pending_closure`, `blocked` or `closed`.
/// - 412: `If-Match` is stale.
/// - 422: `reason` is blank, longer than 20,000 characters or holds control characters.
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path), IfMatchOptional),
    request_body = BlockFinding,
    responses(
        (status = 200, description = "Blocked", body = Finding, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/findings/{id}/block")]
pub async fn block_finding(
    state: web::Data<AppState>,
    user: Needs<{ roles::LEADER }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<BlockFinding>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let reason = errors.text("reason", &body.data.reason, LONG_TEXT);
    errors.finish()?;
    let (id, until, actor, d) = (id.into_inner(), body.data.until, user.actor(), derive(&state));
    let finding = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| {
                find_in_scope_by_id(conn, user.scope(), id)
            })?;
            ensure_editable(&find_in_scope(conn, &user, before.inspection_id)?)?;
            let (after, from) = workflow::transition(conn, &before, FindingAction::Block, |c| {
                c.blocked_reason = Some(Some(reason.clone()));
                c.blocked_until = Some(until);
            })?;
            let finding = Finding::from_row(after, d);
            audit::record(
                conn,
                &actor,
                Event::new("finding.blocked", "finding", id, json!({"from": from, "reason": reason, "until": until}))
                    .inspection(finding.inspection_id)
                    .finding(id),
            )?;
            Ok(finding)
        })
        .await?;
    Ok(ok_with_etag(finding.version, &finding))
}

/// Unblocks a finding (leader): back to `in_progress`. Honours `If-Match`.
///
/// A `blocked` finding goes to `in_progress` (also one that was `open` before it was blocked);
/// `blocked_reason` and `blocked_until` are cleared. Writes `finding.unblocked` with the reason
/// and date it had.
/// - Who: `leader` or `admin`, on a finding in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the id is unknown or out of scope.
/// - 409 (`invalid-transition`): the finding is not `blocked`.
/// - 412: `If-Match` is stale.
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 200, description = "Unblocked", body = Finding, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/findings/{id}/unblock")]
pub async fn unblock_finding(
    state: web::Data<AppState>,
    user: Needs<{ roles::LEADER }>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor, d) = (id.into_inner(), user.actor(), derive(&state));
    let finding = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| {
                find_in_scope_by_id(conn, user.scope(), id)
            })?;
            ensure_editable(&find_in_scope(conn, &user, before.inspection_id)?)?;
            let (after, _) = workflow::transition(conn, &before, FindingAction::Unblock, |c| {
                c.blocked_reason = Some(None);
                c.blocked_until = Some(None);
            })?;
            let finding = Finding::from_row(after, d);
            audit::record(
                conn,
                &actor,
                Event::new(
                    "finding.unblocked",
                    "finding",
                    id,
                    json!({"reason": before.blocked_reason, "until": before.blocked_until}),
                )
                .inspection(finding.inspection_id)
                .finding(id),
            )?;
            Ok(finding)
        })
        .await?;
    Ok(ok_with_etag(finding.version, &finding))
}

/// Records a look-back review (回头看) of a closed finding (inspector or leader).
///
/// - `sustained`: the rectification holds; the finding stays `closed`. Writes
///   `finding.review_sustained`.
/// - `relapsed` (反弹回潮): the finding is reopened: `in_progress`, `closed_at` cleared,
///   `reopen_count` + 1 (its assignments and `outcome` stay). Writes `finding.reopened`.
///
/// An `Idempotency-Key` replays the first answer for 24 hours.
/// - Who: `inspector`, `leader` or `admin`, on a finding in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the id is unknown or out of scope.
/// - 409 (`invalid-transition`): the finding is not `closed`.
/// - 422: `notes` longer than 20,000 characters or with control characters; an
///   `Idempotency-Key` reused with another body.
#[utoipa::path(
    tag = "findings",
    params(
        ("id" = i64, Path),
        IdempotencyKeyHeader,
    ),
    request_body = NewReview,
    responses(
        (status = 201, description = "Recorded", body = Review, headers(("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings/{id}/reviews")]
pub async fn review_finding(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR | roles::LEADER }>,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewReview>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let notes = errors.optional_text("notes", body.data.notes.as_deref(), LONG_TEXT);
    errors.finish()?;
    let (id, outcome, actor, user_id) = (id.into_inner(), body.data.outcome, user.actor(), user.id);
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        db::lock_row(conn, "findings", id)?;
        let before = find_in_scope_by_id(conn, user.scope(), id)?;
        ensure_editable(&find_in_scope(conn, &user, before.inspection_id)?)?;
        before.status.transition(FindingAction::Review)?;
        let now = db::now();
        let review = Review::from_row(queries::insert_review(conn, id, user.id, outcome, notes.as_deref(), now)?);
        let action = match outcome {
            ReviewOutcome::Sustained => "finding.review_sustained",
            ReviewOutcome::Relapsed => {
                workflow::transition(conn, &before, FindingAction::Relapse, |c| {
                    c.closed_at = Some(None);
                    c.reopen_count = Some(before.reopen_count + 1);
                })?;
                "finding.reopened"
            }
        };
        audit::record(
            conn,
            &actor,
            Event::new(action, "review", review.id, json!({"after": review}))
                .inspection(before.inspection_id)
                .finding(id),
        )?;
        Ok(Created {
            status: actix_web::http::StatusCode::CREATED,
            body: serde_json::to_value(&review)?,
            etag: None,
            location: Some(format!("/api/v1/findings/{id}/reviews")),
        })
    })
    .await
}

/// The look-back reviews of a finding, oldest first.
///
/// Any role, on a finding in their org scope.
/// - 400: an unknown or malformed parameter, or a tampered cursor.
/// - 404: the id is unknown or out of scope.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "A page of reviews", body = Page<Review>),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/findings/{id}/reviews")]
pub async fn list_reviews(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: ListQuery<NoFilter>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (scope, id, limit) = (user.scope(), id.into_inner(), q.page.limit);
    let rows = state
        .db
        .run(move |conn| {
            find_in_scope_by_id(conn, scope, id)?;
            queries::reviews_of(conn, id, after, limit + 1)
        })
        .await?;
    let page = paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), Review::from_row);
    Ok(HttpResponse::Ok().json(page))
}
