//! `POST /api/v1/inspections/import`: a JSON ledger or an official document in text.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::api::{ImportPreview, ImportQuery, ImportResult, LedgerImport, OfficeFile};
use super::decode;
use super::document::{ledger_of, Body, Reading, DOCX, XLSX};
use super::service;
use crate::auth::{roles, Needs};
use crate::db::Cancel;
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

/// The body's kind from its Content-Type: a JSON ledger (UTF-8), or a text document in UTF-8,
/// GBK or GB18030 (declared by `charset`, else detected).
fn kind(req: &HttpRequest) -> Result<Body, AppError> {
    let raw = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let mut parts = raw.split(';').map(|p| p.trim().to_ascii_lowercase());
    let essence = parts.next().unwrap_or_default();
    let declared = parts.find_map(|p| p.strip_prefix("charset=").map(str::to_owned));
    let charset = match declared.as_deref() {
        None => None,
        Some(label) => Some(decode::charset(label).ok_or_else(|| {
            AppError::UnsupportedMediaType(format!(
                "charset `{label}` is not accepted: documents are read as utf-8, gbk, gb2312 or gb18030"
            ))
        })?),
    };
    match Body::of(&essence, charset) {
        Some(Body::Json) if charset.is_some_and(|c| c != encoding_rs::UTF_8) => {
            Err(AppError::UnsupportedMediaType("a JSON ledger is UTF-8".into()))
        }
        Some(Body::Xlsx | Body::Docx) if declared.is_some() => {
            Err(AppError::UnsupportedMediaType("an XLSX or DOCX file takes no charset".into()))
        }
        Some(body) => Ok(body),
        None => Err(AppError::UnsupportedMediaType(format!(
            "send application/json (a ledger), text/plain (a document), text/csv or text/tab-separated-values \
             (a ledger sheet), {XLSX} (a workbook) or {DOCX} (a Word file)"
        ))),
    }
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(crate::http::lifecycle::body_error)?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Imports a ledger as a new inspection (inspector), in one transaction.
///
/// Body: the JSON ledger format (`application/json`, the default; see `LedgerImport`), or an
/// official document (`text/plain`, in UTF-8 with or without a BOM, or GBK/GB18030: as `charset`
/// declares, else detected, with a warning when it is not UTF-8; CR, LF or CRLF line ends) in the official numbering — `一、` parts,
/// `(一)` categories, `1.` aspects, `(1)` problems (also `一)`, `1)`, `问题1：` and `①`), half- or
/// full-width, with stray spaces; with three levels, `一、` parts (基本情况, 整改落实情况, 下一步工作)
/// over `(一)` categories and `1.` problems when the titles or the stated totals say so — whose rectification
/// paragraphs become each problem's `outcome` (整改情况, 整改进展, 整改成效, 整改结果, 整改完成情况,
/// 整改落实情况, 完成情况) and `measures` (整改措施, 整改计划, 整改方案): labelled with a colon, in
/// 【】, alone on their line, or on the problem's own line after its text. The 督察 block form
/// reads one problem per `整改任务：` (with 整改目标 in the measures, 整改时限 and 责任单位 in the
/// description). A closing sign-off
/// (特此公示, the issuing body, the date, contacts) is left out with a warning, as is the opening,
/// and totals the document states (N大类M个方面K个问题, 共K个问题) that differ from what was read
/// are a warning on their line. For a document, the
/// units come from query parameters, and the inspection's dates and inspecting body from the
/// opening paragraph unless given.
///
/// A ledger sheet (整改台账) is `text/csv` or `text/tab-separated-values` (UTF-8 or GBK, as
/// text) or an XLSX workbook: its header row is found among the first 30 rows by its column
/// names (序号, 问题/问题描述/存在问题, 类别/问题来源, 方面, 整改措施/整改计划, 责任单位,
/// 责任人, 整改时限/完成时限, 是否整改完成/整改状态, 整改情况/整改进展, 备注 …, any order), and
/// each row below is a finding grouped by its category (filled down past merged cells; a row
/// holding only `一、…` starts a category). Dates are Excel dates or written (2024-12-31,
/// 2024年12月31日, 2024年12月底); 已完成 closes, 长期坚持 marks long-term, 暂缓 blocks (the cell
/// its reason); 责任单位 and 责任人 are kept in the description, labelled. The rows above the
/// header are the sheet's title. `sheet` picks the worksheet, `header_row` the header and
/// `columns` maps columns to fields (`C=title,F=ignore`); the answer's `sheet` shows how
/// every column was read, and unknown columns are warnings naming their row. A Word file
/// (`.docx`) is read directly: its paragraphs with the numbers Word's automatic numbering
/// shows (not stored in the text), or, when it holds a table headed like a ledger, that table
/// as a sheet. The service's own text report and CSV/XLSX export import back to the same
/// ledger. Up to 10 MiB (an Office file up to 200 MiB unpacked), and up to
/// `RECTIFY_IMPORT_MAX_FINDINGS` findings (5,000 by default).
///
/// Creates the inspection (`rectifying`), its sections and its findings (`open`, or `closed`
/// / `blocked` as the ledger says; unnumbered findings continue after the highest given
/// `seq`), all or nothing, and writes `inspection.imported`, then `section.created` and
/// `finding.created` for each row (their data marked `"source": "import"`). Answers 201 with
/// the inspection, the totals and the warnings. Honours `Idempotency-Key`. `?dry_run=true`
/// answers 200 with the parsed ledger, its totals and its warnings (with line numbers) and
/// saves nothing: it runs the import itself, every check included (the inspection's fields,
/// the units and leaders the ledger names, the caller's scope), and rolls it back, so a dry run
/// that passes guarantees that the same import passes while the data stay as they are. The time an import takes
/// is linear in its size; a client that disconnects stops it, and it rolls back (nothing of it
/// is saved).
///
/// **Who:** inspectors and admins. Both units must exist and at least one must be the
/// caller's unit or lie below it.
///
/// **Errors:** 403 for other roles; 415 for another media type, a charset other than utf-8,
/// gbk, gb2312 or gb18030, a JSON ledger not in UTF-8, or a charset on an XLSX or DOCX file;
/// 413 above 10 MiB; 400 for malformed
/// JSON, a text body that is not text in its encoding (naming the line and column), an XLSX
/// or DOCX body that is not one (or unpacks to more than 200 MiB), a document query
/// parameter sent with a JSON ledger, or a sheet parameter (`sheet`, `header_row`,
/// `columns`) sent with a text document; 422 for a sheet without a header row (saying what
/// was looked for), a `columns`, `header_row` or `sheet` that names nothing there, a text
/// without numbered problems (naming its first line; a sheet sent as text is told its header
/// line and the media type to use); 422 for a ledger of more findings than
/// `RECTIFY_IMPORT_MAX_FINDINGS`, alone (its rows are not checked) and dry runs included:
/// `findings`, naming the count and the limit (split the ledger); otherwise 422 naming each
/// field at fault by its path (`sections[0].findings[2].title`, `inspection.ended_on`): an
/// unreadable document (`body`); a unit or date a document lacks (named as its query
/// parameter); a ledger without findings, a blank or too long title, sections deeper than 3
/// levels, a `seq` used twice or outside 1–1,000,000, a status other than `open`, `closed` or
/// `blocked`, a blocked finding without `blocked_reason` (these all at once); then, saving
/// or in a dry run, the rules of `POST /api/v1/inspections` for the inspection, an org unit that does
/// not exist, and a responsible leader who is not an active user able to see the inspection.
#[utoipa::path(
    tag = "inspections",
    params(
        ImportQuery,
        IdempotencyKeyHeader,
    ),
    request_body(content(
        (LedgerImport = "application/json"),
        (String = "text/plain", example = json!("中共某县教育局党组关于巡察整改进展情况的报告\n2024年5月6日至6月28日，县委第一巡察组对县教育局党组开展了常规巡察，8月1日反馈了巡察意见。\n一、党的建设方面\n1.基层党组织活动不规范\n整改情况：规范“三会一课”记录。\n2.党员教育管理不严格\n整改措施：建立党员积分管理制度。\n")),
        (String = "text/csv", example = json!("县委第三巡察组反馈问题整改台账\n序号,问题类别,问题描述,整改措施,责任单位,整改时限,是否整改完成\n1,政治建设,理论学习中心组学习不规范。,制定年度学习计划。,办公室,2024-06-30,已完成\n2,作风建设,行政处罚案件办理超期。,建立时限预警机制。,法规科,2024年9月底,正在整改\n")),
        (String = "text/tab-separated-values", example = json!("序号\t问题\t整改措施\t完成时限\n1\t专项资金拨付不及时。\t加快资金拨付进度。\t2024.8\n")),
        (OfficeFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (OfficeFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    )),
    responses(
        (status = 201, description = "Imported", body = ImportResult, headers(("ETag" = String), ("Location" = String))),
        (status = 200, description = "Dry run: what would be imported", body = ImportPreview),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::ImportUnprocessable),
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
    let body = kind(&req)?;
    let q = q.into_inner();
    let dry_run = q.dry_run.unwrap_or(false);
    let raw = read_body(payload, state.config.import_body_limit).await?;
    let Reading { ledger, warnings, sheet } = ledger_of(&raw, body, &q)?;
    let totals = service::validate(&ledger, state.config.import_max_findings)?;
    let (actor, scope, user_id) = (user.actor(), user.scope(), user.id);
    let derive = Derive { today: state.today(), thresholds: state.config.warnings };
    // Dropped with this future when the client goes away: the import then stops and rolls back.
    let (cancel, _cancel_on_drop) = Cancel::on_drop();
    if dry_run {
        // The import itself, every check included, rolled back: a dry run that passes
        // guarantees the import passes (against the data as it stands).
        let preview = state
            .db
            .rehearse(move |conn| {
                service::store(conn, &actor, scope, user_id, &ledger, derive, &cancel)?;
                Ok(ImportPreview { ledger, totals, warnings, sheet })
            })
            .await?;
        return Ok(HttpResponse::Ok().json(preview));
    }
    idempotency::create(&state.db, user_id, key, &req, &raw, move |conn| {
        let inspection = service::store(conn, &actor, scope, user_id, &ledger, derive, &cancel)?;
        let (id, version) = (inspection.id, inspection.version);
        Created::new(ImportResult { inspection, totals, warnings, sheet }, format!("/api/v1/inspections/{id}"), version)
    })
    .await
}
