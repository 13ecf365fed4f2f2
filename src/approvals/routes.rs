//! Closure (销号) and extension (延期) request endpoints; the logic lives in `service.rs`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde_json::json;

use super::api::{ClosureRequest, ExtensionRequest, NewClosureRequest, NewDecision, NewExtensionRequest};
use super::model::{RequestKind, RequestStatus};
use super::queries::{self, NewRequestRow};
use super::service;
use crate::assignments::model::AssignmentStatus;
use crate::assignments::queries as assignments;
use crate::audit::{self, Event};
use crate::auth::{AuthUser, Role};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::findings::model::{FindingAction, FindingStatus};
use crate::findings::queries::FindingRow;
use crate::findings::service::find_in_scope_by_id;
use crate::findings::workflow;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::Page;
use crate::http::{IdempotencyKey, IfMatch, Json, QueryPairs};
use crate::inspections::model::chain_from_db;
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_closure_request)
        .service(list_closure_requests)
        .service(get_closure_request)
        .service(decide_closure_request)
        .service(withdraw_closure_request)
        .service(create_extension_request)
        .service(list_extension_requests)
        .service(get_extension_request)
        .service(decide_extension_request)
        .service(withdraw_extension_request);
}

/// Locks and loads the finding and its inspection for a new request.
fn finding_for_request(
    conn: &mut DbConn,
    user: &AuthUser,
    finding_id: i64,
) -> Result<(FindingRow, crate::inspections::queries::InspectionRow), AppError> {
    db::lock_row(conn, "findings", finding_id)?;
    let finding = find_in_scope_by_id(conn, user.scope(), finding_id)?;
    let inspection = find_in_scope(conn, user, finding.inspection_id)?;
    ensure_editable(&inspection)?;
    Ok((finding, inspection))
}

/// Submits a finding for closure (officer): it must be `in_progress` with every assignment done (else 409).
/// The finding becomes `pending_closure`; the steps come from the inspection's approval chain.
#[utoipa::path(
    tag = "closures",
    params(
        ("id" = i64, Path, description = "The finding"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h"),
    ),
    request_body = NewClosureRequest,
    responses(
        (status = 201, description = "Submitted", body = ClosureRequest, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
    security(("bearer" = []))
)]
#[post("/findings/{id}/closure-requests")]
pub async fn create_closure_request(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewClosureRequest>,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Officer])?;
    let new = &body.data;
    let mut errors = Errors::new();
    let outcome = errors.text("outcome", &new.outcome, LONG_TEXT);
    let mut evidence = Vec::new();
    for (i, e) in new.evidence.iter().enumerate() {
        let title = errors.text(&format!("evidence[{i}].title"), &e.title, SHORT_TEXT);
        let reference = errors.text(&format!("evidence[{i}].reference"), &e.reference, SHORT_TEXT);
        evidence.push(super::api::Evidence { title, reference });
    }
    if evidence.len() > 100 {
        errors.add("evidence", "at most 100 items");
    }
    errors.finish()?;
    let (finding_id, long_term, actor, user_id) = (id.into_inner(), new.long_term, user.actor(), user.id);
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        let (finding, inspection) = finding_for_request(conn, &user, finding_id)?;
        FindingStatus::from_db(&finding.status)?.transition(FindingAction::RequestClosure)?;
        let work = assignments::of_finding(conn, finding_id)?;
        if work.is_empty() {
            return Err(AppError::Conflict("a finding needs at least one assignment before it can be closed".into()));
        }
        let open = work.iter().filter(|a| a.status != AssignmentStatus::Done.as_str()).count();
        if open > 0 {
            return Err(AppError::Conflict(format!("{open} assignment(s) of this finding are not done yet")));
        }
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewRequestRow {
                kind: RequestKind::Closure.as_str().into(),
                finding_id,
                submitted_by: user.id,
                status: RequestStatus::Pending.as_str().into(),
                current_step: 1,
                outcome: Some(outcome),
                evidence: Some(serde_json::to_string(&evidence)?),
                long_term: Some(long_term),
                new_due_on: None,
                previous_due_on: None,
                reason: None,
                version: 1,
                created_at: now,
                updated_at: now,
            },
            &chain_from_db(&inspection.approval_chain),
        )?;
        let (_, from) = workflow::transition(conn, &finding, FindingAction::RequestClosure, |_| {})?;
        let steps = queries::steps(conn, &[row.id])?;
        let (id, version) = (row.id, row.version);
        let body = service::to_json(RequestKind::Closure, row, steps)?;
        audit::record(
            conn,
            &actor,
            Event::new(
                "closure.requested",
                "closure_request",
                id,
                json!({"after": body, "finding": {"status": {"from": from, "to": FindingStatus::PendingClosure}}}),
            )
            .inspection(finding.inspection_id)
            .finding(finding_id),
        )?;
        Ok(Created {
            status: actix_web::http::StatusCode::CREATED,
            body,
            etag: Some(version),
            location: Some(format!("/api/v1/closure-requests/{id}")),
        })
    })
    .await
}

/// Asks for a later deadline (officer) on an `in_progress` or `blocked` finding.
#[utoipa::path(
    tag = "extensions",
    params(
        ("id" = i64, Path, description = "The finding"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h"),
    ),
    request_body = NewExtensionRequest,
    responses(
        (status = 201, description = "Submitted", body = ExtensionRequest, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
    security(("bearer" = []))
)]
#[post("/findings/{id}/extension-requests")]
pub async fn create_extension_request(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewExtensionRequest>,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Officer])?;
    let mut errors = Errors::new();
    let reason = errors.text("reason", &body.data.reason, LONG_TEXT);
    errors.finish()?;
    let (finding_id, new_due_on, actor, user_id, today) =
        (id.into_inner(), body.data.new_due_on, user.actor(), user.id, state.today());
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        let (finding, inspection) = finding_for_request(conn, &user, finding_id)?;
        let status = FindingStatus::from_db(&finding.status)?;
        if !matches!(status, FindingStatus::InProgress | FindingStatus::Blocked) {
            return Err(AppError::InvalidTransition {
                entity: "finding",
                current: status.as_str().into(),
                action: "request an extension".into(),
            });
        }
        check_new_due(new_due_on, finding.due_on, today)?;
        if queries::has_pending(conn, finding_id, RequestKind::Extension)? {
            return Err(AppError::Conflict("an extension request for this finding is already pending".into()));
        }
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewRequestRow {
                kind: RequestKind::Extension.as_str().into(),
                finding_id,
                submitted_by: user.id,
                status: RequestStatus::Pending.as_str().into(),
                current_step: 1,
                outcome: None,
                evidence: None,
                long_term: None,
                new_due_on: Some(new_due_on),
                previous_due_on: finding.due_on,
                reason: Some(reason),
                version: 1,
                created_at: now,
                updated_at: now,
            },
            &chain_from_db(&inspection.approval_chain),
        )?;
        let steps = queries::steps(conn, &[row.id])?;
        let (id, version) = (row.id, row.version);
        let body = service::to_json(RequestKind::Extension, row, steps)?;
        audit::record(
            conn,
            &actor,
            Event::new("extension.requested", "extension_request", id, json!({"after": body}))
                .inspection(finding.inspection_id)
                .finding(finding_id),
        )?;
        Ok(Created {
            status: actix_web::http::StatusCode::CREATED,
            body,
            etag: Some(version),
            location: Some(format!("/api/v1/extension-requests/{id}")),
        })
    })
    .await
}

/// The new deadline must be after the current one (or, without one, not in the past).
fn check_new_due(new_due_on: NaiveDate, current: Option<NaiveDate>, today: NaiveDate) -> Result<(), AppError> {
    match current {
        Some(due) if new_due_on <= due => {
            Err(AppError::invalid("new_due_on", format!("must be after the current due_on ({due})")))
        }
        None if new_due_on < today => Err(AppError::invalid("new_due_on", "must not be in the past")),
        _ => Ok(()),
    }
}

/// Closure requests in the caller's scope; `awaiting=me` lists those whose current step the caller may decide.
#[utoipa::path(
    tag = "closures",
    params(
        ("status" = Option<Vec<RequestStatus>>, Query, description = "Repeatable"),
        ("inspection_id" = Option<i64>, Query),
        ("finding_id" = Option<i64>, Query),
        ("awaiting" = Option<String>, Query, description = "`me`: pending requests whose current step the caller may decide"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1–200, default 50"),
        ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "A page of closure requests", body = Page<ClosureRequest>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
    security(("bearer" = []))
)]
#[get("/closure-requests")]
pub async fn list_closure_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    q: QueryPairs,
) -> Result<HttpResponse, AppError> {
    service::list(&state, &user, RequestKind::Closure, &q).await
}

/// Extension requests in the caller's scope; `awaiting=me` as for closures.
#[utoipa::path(
    tag = "extensions",
    params(
        ("status" = Option<Vec<RequestStatus>>, Query, description = "Repeatable"),
        ("inspection_id" = Option<i64>, Query),
        ("finding_id" = Option<i64>, Query),
        ("awaiting" = Option<String>, Query, description = "`me`: pending requests whose current step the caller may decide"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "1–200, default 50"),
        ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "A page of extension requests", body = Page<ExtensionRequest>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
    security(("bearer" = []))
)]
#[get("/extension-requests")]
pub async fn list_extension_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    q: QueryPairs,
) -> Result<HttpResponse, AppError> {
    service::list(&state, &user, RequestKind::Extension, &q).await
}

/// One closure request with its steps.
#[utoipa::path(
    tag = "closures",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The request", body = ClosureRequest, headers(("ETag" = String))),
    ),
    security(("bearer" = []))
)]
#[get("/closure-requests/{id}")]
pub async fn get_closure_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    service::get(&state, &user, RequestKind::Closure, id.into_inner()).await
}

/// One extension request with its steps.
#[utoipa::path(
    tag = "extensions",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The request", body = ExtensionRequest, headers(("ETag" = String))),
    ),
    security(("bearer" = []))
)]
#[get("/extension-requests/{id}")]
pub async fn get_extension_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    service::get(&state, &user, RequestKind::Extension, id.into_inner()).await
}

/// Decides the current step: the caller must hold its role, must not be the submitter and must not have
/// decided another step (403). The last approval closes the finding; a rejection (comment required)
/// sends it back to `in_progress`. Of concurrent decisions exactly one applies; the other gets 409
/// (412 with a stale `If-Match`).
#[utoipa::path(
    tag = "closures",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "Checked when given")),
    request_body = NewDecision,
    responses(
        (status = 200, description = "The request after the decision", body = ClosureRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
    security(("bearer" = []))
)]
#[post("/closure-requests/{id}/decisions")]
pub async fn decide_closure_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<NewDecision>,
) -> Result<HttpResponse, AppError> {
    service::decide(&state, user, RequestKind::Closure, id.into_inner(), if_match, body.data).await
}

/// Decides the current step of an extension request, exactly like a closure; the last approval sets the
/// finding's `due_on` (the old date stays in the history).
#[utoipa::path(
    tag = "extensions",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "Checked when given")),
    request_body = NewDecision,
    responses(
        (status = 200, description = "The request after the decision", body = ExtensionRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
    security(("bearer" = []))
)]
#[post("/extension-requests/{id}/decisions")]
pub async fn decide_extension_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<NewDecision>,
) -> Result<HttpResponse, AppError> {
    service::decide(&state, user, RequestKind::Extension, id.into_inner(), if_match, body.data).await
}

/// The submitter withdraws a pending closure request; the finding goes back to `in_progress`.
#[utoipa::path(
    tag = "closures",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "Checked when given")),
    responses(
        (status = 200, description = "Withdrawn", body = ClosureRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
    security(("bearer" = []))
)]
#[post("/closure-requests/{id}/withdraw")]
pub async fn withdraw_closure_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    service::withdraw(&state, user, RequestKind::Closure, id.into_inner(), if_match).await
}

/// The submitter withdraws a pending extension request.
#[utoipa::path(
    tag = "extensions",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "Checked when given")),
    responses(
        (status = 200, description = "Withdrawn", body = ExtensionRequest, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
    security(("bearer" = []))
)]
#[post("/extension-requests/{id}/withdraw")]
pub async fn withdraw_extension_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    service::withdraw(&state, user, RequestKind::Extension, id.into_inner(), if_match).await
}
