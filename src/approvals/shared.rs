//! The HTTP side of closure (销号) and extension (延期) requests: what both kinds'
//! handlers share. The handlers themselves, with their spec, are in `closures.rs`
//! and `extensions.rs`; the rules in `service.rs` and `model.rs`.

use actix_web::HttpResponse;

use super::api::{NewDecision, RequestQuery};
use super::model::{Decision, RequestKind};
use super::service::{self, DecisionInput, Request};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::http::etag::ok_with_etag;
use crate::http::idempotency::Created;
use crate::http::pagination::{by_id, try_paginate};
use crate::http::query::ListQuery;
use crate::http::IfMatch;
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT};

/// 200 with the request and its `ETag`.
fn respond(request: Request) -> Result<HttpResponse, AppError> {
    let version = request.version();
    Ok(ok_with_etag(version, &request.into_json()?))
}

/// 201 with the new request, its `ETag` and `Location`.
pub(super) fn created(request: Request, path: &str) -> Result<Created, AppError> {
    let (id, version) = (request.row.id, request.version());
    Created::new(request.into_json()?, format!("/api/v1/{path}/{id}"), version)
}

pub(super) async fn list(
    state: &AppState,
    user: &AuthUser,
    kind: RequestKind,
    q: ListQuery<RequestQuery>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (scope, limit, filter) = (user.scope(), q.page.limit, q.filter.for_user(user));
    let requests = state.db.run(move |conn| service::list(conn, scope, kind, &filter, after, limit + 1)).await?;
    let page = try_paginate(requests, limit, &state.cursor_key, |r| by_id("id", r.row.id), Request::into_json)?;
    Ok(HttpResponse::Ok().json(page))
}

pub(super) async fn get(
    state: &AppState,
    user: &AuthUser,
    kind: RequestKind,
    id: i64,
) -> Result<HttpResponse, AppError> {
    let scope = user.scope();
    respond(state.db.run(move |conn| service::load(conn, scope, kind, id)).await?)
}

pub(super) async fn decide(
    state: &AppState,
    user: AuthUser,
    kind: RequestKind,
    id: i64,
    if_match: IfMatch,
    body: NewDecision,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let comment = errors.optional_text("comment", body.comment.as_deref(), LONG_TEXT);
    if body.decision == Decision::Reject && comment.is_none() {
        errors.add("comment", "is required to reject: say what is still missing");
    }
    errors.finish()?;
    let input = DecisionInput { decision: body.decision, comment, step: body.step };
    respond(state.db.write(move |conn| service::decide(conn, &user, kind, id, &if_match, input)).await?)
}

pub(super) async fn withdraw(
    state: &AppState,
    user: AuthUser,
    kind: RequestKind,
    id: i64,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    respond(state.db.write(move |conn| service::withdraw(conn, &user, kind, id, &if_match)).await?)
}
