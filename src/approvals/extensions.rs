//! `/api/v1/…/extension-requests`: asking for a later deadline (申请延期) and its sign-off,
//! which works exactly like a closure's.

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::api::{ExtensionRequest, NewDecision, NewExtensionRequest, RequestQuery};
use super::model::RequestKind;
use super::service::{self, ExtensionSubmission};
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
use crate::validate::{Errors, LONG_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_extension_request)
        .service(list_extension_requests)
        .service(get_extension_request)
        .service(decide_extension_request)
        .service(withdraw_extension_request);
}

/// Asks for a later deadline (申请延期) on a finding (officer).
///
/// On an `in_progress` or `blocked` finding, one pending extension request at a time. The
/// request is `pending` at step 1, its steps copied from the inspection's approval chain; the
/// finding is unchanged until the last approval. Writes `extension.requested`. An
/// `Idempotency-Key` replays the first answer for 24 hours.
/// - Who: `officer` or `admin`, on a finding in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the finding is unknown or out of scope.
/// - 409: the finding is `open`, `pending_closure` or `closed` (`invalid-transition`), or an
///   extension request for it is already pending.
/// - 422: `reason` blank, longer than 20,000 characters or with control characters;
///   `new_due_on` not after the finding's current `due_on` (without one: in the past); an
///   `Idempotency-Key` reused with another body.
#[utoipa::path(
    tag = "extensions",
    params(
        ("id" = i64, Path, description = "The finding"),
        IdempotencyKeyHeader,
    ),
    request_body = NewExtensionRequest,
    responses(
        (status = 201, description = "Submitted", body = ExtensionRequest, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings/{id}/extension-requests")]
pub async fn create_extension_request(
    state: web::Data<AppState>,
    user: Needs<{ roles::OFFICER }>,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewExtensionRequest>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let reason = errors.text("reason", &body.data.reason, LONG_TEXT);
    errors.finish()?;
    let submission = ExtensionSubmission { new_due_on: body.data.new_due_on, reason };
    let (finding_id, user_id, today) = (id.into_inner(), user.id, state.today());
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        let request = service::submit_extension(conn, &user, finding_id, submission, today)?;
        routes::created(request, "extension-requests")
    })
    .await
}

/// Extension requests in the caller's scope, by id; `awaiting=me` as for closures.
///
/// Any role; a request is in scope when its finding is (admins see all). Filters combine with
/// AND. `awaiting=me` keeps pending requests whose current step the caller may decide: its role
/// is one the caller holds (admins: any), and the caller neither submitted the request nor
/// decided another step of it.
/// - 400: an unknown, repeated or malformed parameter, or a tampered cursor.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "extensions",
    params(RequestQuery, PageQuery),
    responses(
        (status = 200, description = "A page of extension requests", body = Page<ExtensionRequest>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/extension-requests")]
pub async fn list_extension_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<RequestQuery>,
) -> Result<HttpResponse, AppError> {
    routes::list(&state, &user, RequestKind::Extension, q).await
}

/// One extension request with its steps.
///
/// Any role, on a request in their org scope. The `ETag` is the value for `If-Match`.
/// - 404: the id is unknown or out of scope.
#[utoipa::path(
    tag = "extensions",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The request", body = ExtensionRequest, headers(("ETag" = String))),
    ),
)]
#[get("/extension-requests/{id}")]
pub async fn get_extension_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    routes::get(&state, &user, RequestKind::Extension, id.into_inner()).await
}

/// Decides the current step of an extension request. Honours `If-Match`.
///
/// The same steps and separation of duties as a closure:
/// - `approve` on a step before the last: the request moves to the next step
///   (`extension.step_approved`).
/// - `approve` on the last step: the request is `approved` and the finding's `due_on` becomes
///   `new_due_on` (`extension.approved`; the old date stays in the history).
/// - `reject` (a `comment` is required): the request is `rejected`; the finding is unchanged
///   (`extension.rejected`).
///
/// Of concurrent decisions exactly one applies. The last approval of a request whose finding
/// was closed meanwhile is refused (409 `invalid-transition`).
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
    tag = "extensions",
    params(("id" = i64, Path), IfMatchOptional),
    request_body = NewDecision,
    responses(
        (status = 200, description = "The request after the decision", body = ExtensionRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/extension-requests/{id}/decisions")]
pub async fn decide_extension_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<NewDecision>,
) -> Result<HttpResponse, AppError> {
    routes::decide(&state, user, RequestKind::Extension, id.into_inner(), if_match, body.data).await
}

/// Withdraws a pending extension request (its submitter). Honours `If-Match`.
///
/// The request becomes `withdrawn`; the finding is unchanged. Writes `extension.withdrawn`.
/// - Who: the submitter only, whatever their roles (an admin only for their own request).
/// - 403: the caller did not submit it.
/// - 404: the id is unknown or out of scope.
/// - 409: the request is not `pending` (`invalid-transition`), or a decision was applied first.
/// - 412: `If-Match` is stale (also when a concurrent decision got there first).
#[utoipa::path(
    tag = "extensions",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 200, description = "Withdrawn", body = ExtensionRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/extension-requests/{id}/withdraw")]
pub async fn withdraw_extension_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    routes::withdraw(&state, user, RequestKind::Extension, id.into_inner(), if_match).await
}
