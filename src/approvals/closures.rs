//! `/api/v1/…/closure-requests`: submitting a finding for closure (销号) and its sign-off.

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::api::{ClosureRequest, Evidence, NewClosureRequest, NewDecision, RequestQuery};
use super::model::RequestKind;
use super::service::{self, ClosureSubmission};
use super::shared as routes;
use crate::auth::{roles, AuthUser, Needs};
use crate::error::{responses, AppError};
use crate::http::etag::IfMatchOptional;
use crate::http::idempotency;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::pagination::Page;
use crate::http::query::{ListQuery, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_closure_request)
        .service(list_closure_requests)
        .service(get_closure_request)
        .service(decide_closure_request)
        .service(withdraw_closure_request);
}

/// Submits a finding for closure (销号) (officer).
///
/// The finding must be `in_progress` with at least one assignment, every one `done`. It becomes
/// `pending_closure`; the request is `pending` at step 1, its steps copied from the inspection's
/// approval chain (default `leader`, then `inspector`). Writes `closure.requested`. An
/// `Idempotency-Key` replays the first answer for 24 hours.
/// - Who: `officer` or `admin`, on a finding in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the finding is unknown or out of scope.
/// - 409: the finding is not `in_progress` (`invalid-transition`, e.g. already
///   `pending_closure`), has no assignment, or has an assignment that is not `done`.
/// - 422: `outcome` blank, longer than 20,000 characters or with control characters; an
///   evidence `title` or `reference` blank or longer than 500 characters; more than 100
///   evidence items; an `Idempotency-Key` reused with another body.
#[utoipa::path(
    tag = "closures",
    params(
        ("id" = i64, Path, description = "The finding"),
        IdempotencyKeyHeader,
    ),
    request_body = NewClosureRequest,
    responses(
        (status = 201, description = "Submitted", body = ClosureRequest, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings/{id}/closure-requests")]
pub async fn create_closure_request(
    state: web::Data<AppState>,
    user: Needs<{ roles::OFFICER }>,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewClosureRequest>,
) -> Result<HttpResponse, AppError> {
    let new = &body.data;
    let mut errors = Errors::new();
    let outcome = errors.text("outcome", &new.outcome, LONG_TEXT);
    let mut evidence = Vec::new();
    for (i, e) in new.evidence.iter().enumerate() {
        let title = errors.text(&format!("evidence[{i}].title"), &e.title, SHORT_TEXT);
        let reference = errors.text(&format!("evidence[{i}].reference"), &e.reference, SHORT_TEXT);
        evidence.push(Evidence { title, reference });
    }
    if evidence.len() > 100 {
        errors.add("evidence", "at most 100 items");
    }
    errors.finish()?;
    let submission = ClosureSubmission { outcome, evidence, long_term: new.long_term };
    let (finding_id, user_id) = (id.into_inner(), user.id);
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        routes::created(service::submit_closure(conn, &user, finding_id, submission)?, "closure-requests")
    })
    .await
}

/// Closure requests in the caller's scope, by id; `awaiting=me` is an approver's inbox.
///
/// Any role; a request is in scope when its finding is (admins see all). Filters combine with
/// AND. `awaiting=me` keeps pending requests whose current step the caller may decide: its role
/// is one the caller holds (admins: any), and the caller neither submitted the request nor
/// decided another step of it.
/// - 400: an unknown, repeated or malformed parameter, or a tampered cursor.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "closures",
    params(RequestQuery, PageQuery),
    responses(
        (status = 200, description = "A page of closure requests", body = Page<ClosureRequest>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/closure-requests")]
pub async fn list_closure_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<RequestQuery>,
) -> Result<HttpResponse, AppError> {
    routes::list(&state, &user, RequestKind::Closure, q).await
}

/// One closure request with its steps.
///
/// Any role, on a request in their org scope. The `ETag` is the value for `If-Match`.
/// - 404: the id is unknown or out of scope.
#[utoipa::path(
    tag = "closures",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The request", body = ClosureRequest, headers(("ETag" = String))),
    ),
)]
#[get("/closure-requests/{id}")]
pub async fn get_closure_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    routes::get(&state, &user, RequestKind::Closure, id.into_inner()).await
}

/// Decides the current step of a closure request. Honours `If-Match`.
///
/// - `approve` on a step before the last: the request moves to the next step
///   (`closure.step_approved`).
/// - `approve` on the last step: the request is `approved` and the finding `closed`, with
///   `closed_at`, and `outcome` and `long_term` copied from the request (`closure.approved`, then
///   `finding.closed`).
/// - `reject` (a `comment` is required): the request is `rejected` and the finding back to
///   `in_progress` (`closure.rejected`).
///
/// Of concurrent decisions exactly one applies. Send `step` (or `If-Match`) when one person may
/// hold the roles of two consecutive steps.
/// - Who: a user who holds the current step's role (admins hold every role) and sees the
///   request; never its submitter, and nobody decides two steps of one request.
/// - 403: the caller lacks the step's role, submitted the request, or decided another step of it.
/// - 404: the id is unknown or out of scope.
/// - 409: the request is no longer `pending` (`invalid-transition`); `step` is not the current
///   step; the step was decided by someone else meanwhile (also told to a caller who holds only
///   the previous step's role); another decision or a withdrawal was applied first.
/// - 412: `If-Match` is stale (also when a concurrent change got there first).
/// - 422: `reject` without a `comment`; a `comment` longer than 20,000 characters or with
///   control characters.
#[utoipa::path(
    tag = "closures",
    params(("id" = i64, Path), IfMatchOptional),
    request_body = NewDecision,
    responses(
        (status = 200, description = "The request after the decision", body = ClosureRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/closure-requests/{id}/decisions")]
pub async fn decide_closure_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<NewDecision>,
) -> Result<HttpResponse, AppError> {
    routes::decide(&state, user, RequestKind::Closure, id.into_inner(), if_match, body.data).await
}

/// Withdraws a pending closure request (its submitter). Honours `If-Match`.
///
/// The request becomes `withdrawn` and the finding goes back to `in_progress`. Writes
/// `closure.withdrawn`.
/// - Who: the submitter only, whatever their roles (an admin only for their own request).
/// - 403: the caller did not submit it.
/// - 404: the id is unknown or out of scope.
/// - 409: the request is not `pending` (`invalid-transition`), or a decision was applied first.
/// - 412: `If-Match` is stale (also when a concurrent decision got there first).
#[utoipa::path(
    tag = "closures",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 200, description = "Withdrawn", body = ClosureRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/closure-requests/{id}/withdraw")]
pub async fn withdraw_closure_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    routes::withdraw(&state, user, RequestKind::Closure, id.into_inner(), if_match).await
}
