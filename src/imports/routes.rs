//! `POST /api/v1/inspections/import`: a JSON ledger or an official document in text.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::api::{ImportPreview, ImportQuery, ImportResult, LedgerImport};
use super::document::ledger_of;
use super::service;
use crate::auth::{roles, Needs};
use crate::error::{responses, AppError};
use crate::findings::api::Derive;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::query::Query;
use crate::http::IdempotencyKey;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(import_inspection);
}

enum Body {
    Json,
    Text,
}

fn kind(req: &HttpRequest) -> Result<Body, AppError> {
    let raw = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let mut parts = raw.split(';').map(|p| p.trim().to_ascii_lowercase());
    let essence = parts.next().unwrap_or_default();
    let charset_ok = parts.all(|p| !p.starts_with("charset=") || p == "charset=utf-8" || p == "charset=\"utf-8\"");
    match essence.as_str() {
        _ if !charset_ok => Err(AppError::UnsupportedMediaType("only UTF-8 documents are accepted".into())),
        "application/json" => Ok(Body::Json),
        "text/plain" => Ok(Body::Text),
        _ => Err(AppError::UnsupportedMediaType("send application/json (a ledger) or text/plain (a document)".into())),
    }
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Imports a ledger as a new inspection (inspector), in one transaction.
///
/// Body: the JSON ledger format (`application/json`, see `LedgerImport`), or an official
/// document (`text/plain; charset=utf-8`) in the official numbering — `一、` parts, `(一)`
/// categories, `1.` aspects, `(1)` problems, half- or full-width — whose "整改情况:" and
/// "整改措施:" paragraphs become each problem's `outcome` and `measures`. For a document, the
/// units come from query parameters, and the inspection's dates and inspecting body from the
/// opening paragraph unless given. Up to 10 MiB. `?dry_run=true` returns the parsed ledger and
/// its warnings (with line numbers) and saves nothing.
#[utoipa::path(
    tag = "inspections",
    params(
        ImportQuery,
        IdempotencyKeyHeader,
    ),
    request_body(content(
        (LedgerImport = "application/json"),
        (String = "text/plain"),
    )),
    responses(
        (status = 201, description = "Imported", body = ImportResult, headers(("ETag" = String), ("Location" = String))),
        (status = 200, description = "Dry run: what would be imported", body = ImportPreview),
        (status = 403, response = responses::Forbidden),
    ),
)]
#[post("/inspections/import")]
pub async fn import_inspection(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    req: HttpRequest,
    key: IdempotencyKey,
    q: Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let json = matches!(kind(&req)?, Body::Json);
    let q = q.into_inner();
    let dry_run = q.dry_run.unwrap_or(false);
    let raw = read_body(payload, state.config.import_body_limit).await?;
    let (ledger, warnings) = ledger_of(&raw, json, &q)?;
    service::validate(&ledger)?;
    let totals = service::totals(&ledger);
    if dry_run {
        return Ok(HttpResponse::Ok().json(ImportPreview { ledger, totals, warnings }));
    }
    let (actor, scope, user_id) = (user.actor(), user.scope(), user.id);
    let derive = Derive { today: state.today(), thresholds: state.config.warnings };
    idempotency::create(&state.db, user_id, key, &req, &raw, move |conn| {
        let inspection = service::store(conn, &actor, scope, user_id, &ledger, derive)?;
        let (id, version) = (inspection.id, inspection.version);
        Created::new(ImportResult { inspection, totals, warnings }, format!("/api/v1/inspections/{id}"), version)
    })
    .await
}
