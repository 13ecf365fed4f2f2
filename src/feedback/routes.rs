//! Staff triage of public feedback: `/api/v1/feedback`.

use actix_web::{get, patch, web, HttpResponse};
use serde_json::json;

use super::api::{Feedback, FeedbackPatch};
use super::model::{FeedbackFilter, FeedbackStatus};
use super::queries;
use crate::audit::{self, Event};
use crate::auth::{roles, AuthUser, Needs, Role};
use crate::db;
use crate::db::versioned::{lock_and_load, Need};
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::etag::IfMatchRequired;
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, PageQuery};
use crate::http::{IfMatch, Json};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_feedback).service(get_feedback).service(triage_feedback);
}

/// Contact details are personal data: leaders and admins only.
fn sees_contact(user: &AuthUser) -> bool {
    user.is_admin() || user.has(Role::Leader)
}

/// Public feedback on inspections in the caller's scope, by id.
///
/// Lists the feedback the public sent on published reports of inspections the caller sees
/// (inspected or inspecting unit in their scope; admins: all). Filters: `inspection_id`,
/// `status` (repeatable or comma-separated). `contact` is shown to leaders and admins only;
/// for everyone else it is null. Reads only.
///
/// **Who:** any authenticated caller, every role.
///
/// **Errors:** 400 for an unknown or repeated query parameter, an unknown status or a
/// tampered cursor; 422 when `limit` is not 1–200.
#[utoipa::path(
    tag = "feedback",
    params(FeedbackFilter, PageQuery),
    responses(
        (status = 200, description = "A page of feedback", body = Page<Feedback>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/feedback")]
pub async fn list_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<FeedbackFilter>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (scope, limit, filter, show) = (user.scope(), q.page.limit, q.filter, sees_contact(&user));
    let rows = state.db.run(move |conn| queries::list(conn, scope, &filter, after, limit + 1)).await?;
    let page = paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), |r| Feedback::from_row(r, show));
    Ok(HttpResponse::Ok().json(page))
}

/// One piece of public feedback on an inspection in the caller's scope.
///
/// Answers the feedback with `ETag: "<version>"` (send it as `If-Match` to triage it).
/// `contact` is shown to leaders and admins only; for everyone else it is null. Reads only.
///
/// **Who:** any authenticated caller who sees the inspection; admins for all feedback.
///
/// **Errors:** 404 when the id is unknown or its inspection lies outside the caller's scope.
#[utoipa::path(
    tag = "feedback",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The feedback", body = Feedback, headers(("ETag" = String))),
    ),
)]
#[get("/feedback/{id}")]
pub async fn get_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id, show) = (user.scope(), id.into_inner(), sees_contact(&user));
    let row = state.db.run(move |conn| queries::find(conn, scope, id)).await?.ok_or(AppError::NotFound)?;
    let f = Feedback::from_row(row, show);
    Ok(ok_with_etag(f.version, &f))
}

/// Triages public feedback (leader); needs `If-Match`.
///
/// Acknowledges it, or answers it with a response. Moves the feedback forward only: `new` →
/// `acknowledged` → `answered` (`new` may go straight to `answered`; setting the current
/// status again is allowed, so an answer may be revised). `response` replaces the stored one
/// when given (`null` or blank clears it); `answered` needs a response, sent now or stored
/// before. The caller becomes `responded_by`. Writes `feedback.triaged` with the feedback
/// before and after, never the contact. The answer shows `contact`.
///
/// **Who:** leaders and admins, on feedback whose inspection is in their scope.
///
/// **Errors:** 403 for other roles; 404 when the id is unknown or out of scope; 409
/// (`invalid-transition`) for a move backwards (to `new`, or from `answered` to
/// `acknowledged`); 412 when `If-Match` is stale; 428 when it is missing; 422 when
/// `response` is longer than 20,000 characters or holds control characters, or `answered`
/// has no response.
#[utoipa::path(
    tag = "feedback",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = FeedbackPatch,
    responses(
        (status = 200, description = "Updated", body = Feedback, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/feedback/{id}")]
pub async fn triage_feedback(
    state: web::Data<AppState>,
    user: Needs<{ roles::LEADER }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<FeedbackPatch>,
) -> Result<HttpResponse, AppError> {
    let patch = body.data;
    let mut errors = Errors::new();
    let response = patch.response.as_ref().map(|r| errors.optional_text("response", r.as_deref(), LONG_TEXT));
    errors.finish()?;
    let (id, actor, user_id) = (id.into_inner(), user.actor(), user.id);
    let f = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::Required, |conn, id| {
                queries::find(conn, user.scope(), id)?.ok_or(AppError::NotFound)
            })?;
            let next = before.status.transition(patch.status)?;
            // What will be stored: the new response when one is sent (null clears it), else the old one.
            let answered = match &response {
                Some(r) => r.clone(),
                None => before.response.clone(),
            };
            if next == FeedbackStatus::Answered && answered.is_none() {
                return Err(AppError::invalid("response", "is required to answer"));
            }
            let after = queries::update(conn, id, before.version, next, response, user_id, db::now())?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let inspection_id = after.inspection_id;
            let (before, after) = (Feedback::from_row(before, false), Feedback::from_row(after, true));
            // The audit trail keeps the triage, never the contact details.
            let mut logged = after.clone();
            logged.contact = None;
            audit::record(
                conn,
                &actor,
                Event::new("feedback.triaged", "feedback", id, json!({"before": before, "after": logged}))
                    .inspection(inspection_id),
            )?;
            Ok(after)
        })
        .await?;
    // Only leaders and admins get here, and they may see the contact.
    Ok(ok_with_etag(f.version, &f))
}
