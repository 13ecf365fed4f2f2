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

/// Asks for a later deadline (officer) on an `in_progress` or `blocked` finding.
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

/// Extension requests in the caller's scope; `awaiting=me` as for closures.
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

/// Decides the current step of an extension request, exactly like a closure; the last approval sets the
/// finding's `due_on` (the old date stays in the history).
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

/// The submitter withdraws a pending extension request.
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
