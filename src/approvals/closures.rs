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

/// Submits a finding for closure (officer): it must be `in_progress` with every assignment done (else 409).
/// The finding becomes `pending_closure`; the steps come from the inspection's approval chain.
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

/// Closure requests in the caller's scope; `awaiting=me` lists those whose current step the caller may decide.
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

/// Decides the current step: the caller must hold its role, must not be the submitter and must not have
/// decided another step (403). The last approval closes the finding; a rejection (comment required)
/// sends it back to `in_progress`. Of concurrent decisions exactly one applies; the other gets 409
/// (412 with a stale `If-Match`).
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

/// The submitter withdraws a pending closure request; the finding goes back to `in_progress`.
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
