//! A request body as a ledger: the JSON ledger format, or an official document in text
//! whose inspection facts come from the query and the opening paragraph.

use super::api::{ImportQuery, LedgerImport};
use super::{preamble, service, text};
use crate::error::{AppError, FieldError};
use crate::inspections::api::NewInspection;

/// The inspection facts of a text import: query parameters first, then what the document's opening says.
fn text_inspection(q: &ImportQuery, opening: &preamble::Preamble) -> Result<NewInspection, AppError> {
    let mut errors = Vec::new();
    for (key, missing) in
        [("inspecting_unit_id", q.inspecting_unit_id.is_none()), ("inspected_unit_id", q.inspected_unit_id.is_none())]
    {
        if missing {
            errors.push(FieldError::new(key, "is required to import a text document"));
        }
    }
    let inspecting_body = q.inspecting_body.clone().or_else(|| opening.inspecting_body.clone());
    let started_on = q.started_on.or(opening.started_on);
    let ended_on = q.ended_on.or(opening.ended_on);
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
        title: q.title.clone().unwrap_or_else(|| format!("{body}巡察反馈问题整改")),
        inspecting_body: body,
        inspecting_unit_id: q.inspecting_unit_id.unwrap_or_default(),
        inspected_unit_id: q.inspected_unit_id.unwrap_or_default(),
        topic: q.topic.clone(),
        started_on: started_on.unwrap_or_default(),
        ended_on: ended_on.unwrap_or_default(),
        feedback_on: q.feedback_on.or(opening.feedback_on),
        rectification_due_on: q.rectification_due_on,
        approval_chain: None,
    })
}

/// Parses a body into a ledger and its warnings.
pub fn ledger_of(
    bytes: &[u8],
    json: bool,
    q: &ImportQuery,
) -> Result<(LedgerImport, Vec<super::api::ImportWarning>), AppError> {
    if json {
        if let Some(name) = q.document_parameter() {
            return Err(AppError::BadRequest(format!(
                "query parameter `{name}` is for text documents: a JSON ledger carries its own inspection"
            )));
        }
        return Ok((crate::http::json::parse::<LedgerImport>(bytes)?, Vec::new()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        AppError::BadRequest(format!("the document is not UTF-8 text (byte {}): save it as UTF-8", e.valid_up_to()))
    })?;
    let doc = text::parse(text).map_err(|e| AppError::invalid("body", e.to_string()))?;
    let inspection = text_inspection(q, &preamble::read(text))?;
    Ok(service::ledger_from_text(doc, inspection))
}
