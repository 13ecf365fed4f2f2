//! `POST /api/v1/inspections/import`: a JSON ledger or an official document in text.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::api::{ImportPreview, ImportResult, LedgerImport};
use super::{preamble, service, text};
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::error::{responses, AppError, FieldError};
use crate::findings::api::Derive;
use crate::http::idempotency::{self, Created};
use crate::http::{IdempotencyKey, QueryPairs};
use crate::inspections::api::NewInspection;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(import_inspection);
}

const TEXT_PARAMS: &[&str] = &[
    "dry_run",
    "title",
    "inspecting_body",
    "inspecting_unit_id",
    "inspected_unit_id",
    "topic",
    "started_on",
    "ended_on",
    "feedback_on",
    "rectification_due_on",
];

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

/// The inspection facts of a text import: query parameters first, then what the document's opening says.
fn text_inspection(q: &QueryPairs, opening: &preamble::Preamble) -> Result<NewInspection, AppError> {
    let mut errors = Vec::new();
    let mut need_id = |key: &str| match q.id(key) {
        Ok(Some(v)) => Some(v),
        Ok(None) => {
            errors.push(FieldError::new(key, "is required to import a text document"));
            None
        }
        Err(e) => {
            errors.push(FieldError::new(key, e.to_string()));
            None
        }
    };
    let (inspecting, inspected) = (need_id("inspecting_unit_id"), need_id("inspected_unit_id"));
    let inspecting_body = q.one("inspecting_body")?.map(str::to_owned).or_else(|| opening.inspecting_body.clone());
    let started_on = q.date("started_on")?.or(opening.started_on);
    let ended_on = q.date("ended_on")?.or(opening.ended_on);
    for (key, missing) in [
        ("inspecting_body", inspecting_body.is_none()),
        ("started_on", started_on.is_none()),
        ("ended_on", ended_on.is_none()),
    ] {
        if missing {
            errors
                .push(FieldError::new(key, "is not in the document's opening paragraph: give it as a query parameter"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let body = inspecting_body.unwrap_or_default();
    Ok(NewInspection {
        title: q.one("title")?.map(str::to_owned).unwrap_or_else(|| format!("{body}巡察反馈问题整改")),
        inspecting_body: body,
        inspecting_unit_id: inspecting.unwrap_or_default(),
        inspected_unit_id: inspected.unwrap_or_default(),
        topic: q.one("topic")?.map(str::to_owned),
        started_on: started_on.unwrap_or_default(),
        ended_on: ended_on.unwrap_or_default(),
        feedback_on: q.date("feedback_on")?.or(opening.feedback_on),
        rectification_due_on: q.date("rectification_due_on")?,
        approval_chain: None,
    })
}

/// Parses a body into a ledger and its warnings.
pub fn ledger_of(
    bytes: &[u8],
    json: bool,
    q: &QueryPairs,
) -> Result<(LedgerImport, Vec<super::api::ImportWarning>), AppError> {
    if json {
        return Ok((crate::http::json::parse::<LedgerImport>(bytes)?, Vec::new()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        AppError::BadRequest(format!("the document is not UTF-8 text (byte {}): save it as UTF-8", e.valid_up_to()))
    })?;
    let doc = text::parse(text).map_err(|e| AppError::invalid("body", e.to_string()))?;
    let inspection = text_inspection(q, &preamble::read(text))?;
    Ok(service::ledger_from_text(doc, inspection))
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
        ("dry_run" = Option<bool>, Query, description = "Parse and check only; nothing is saved"),
        ("inspecting_unit_id" = Option<i64>, Query, description = "Text documents: required. These document parameters are refused (400) with a JSON ledger, which carries its own inspection"),
        ("inspected_unit_id" = Option<i64>, Query, description = "Text documents: required"),
        ("title" = Option<String>, Query, description = "Text documents: default from the inspecting body"),
        ("inspecting_body" = Option<String>, Query, description = "Text documents: default from the opening paragraph"),
        ("topic" = Option<String>, Query),
        ("started_on" = Option<chrono::NaiveDate>, Query, description = "Text documents: default from the opening paragraph"),
        ("ended_on" = Option<chrono::NaiveDate>, Query, description = "Text documents: default from the opening paragraph"),
        ("feedback_on" = Option<chrono::NaiveDate>, Query),
        ("rectification_due_on" = Option<chrono::NaiveDate>, Query),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h"),
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
    security(("bearer" = []))
)]
#[post("/inspections/import")]
pub async fn import_inspection(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    key: IdempotencyKey,
    q: QueryPairs,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Inspector])?;
    let json = matches!(kind(&req)?, Body::Json);
    q.only(if json { &["dry_run"] } else { TEXT_PARAMS })?;
    let dry_run = q.boolean("dry_run")?.unwrap_or(false);
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
