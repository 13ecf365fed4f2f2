//! A request body as a ledger: the JSON ledger format, or an official document in text
//! whose inspection facts come from the query and the opening paragraph.

use super::api::{ImportFinding, ImportQuery, ImportSection, ImportWarning, LedgerImport};
use super::text::{ParsedDocument, ParsedFinding, ParsedSection};
use super::{preamble, text};
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

/// A parsed problem as a ledger finding, numbered by `seq`.
fn finding_of(f: ParsedFinding, seq: &dyn Fn(&ParsedFinding) -> Option<i32>) -> ImportFinding {
    ImportFinding {
        seq: seq(&f),
        title: f.title,
        description: f.description,
        measures: f.measures,
        outcome: f.outcome,
        due_on: None,
        responsible_unit_id: None,
        responsible_leader_id: None,
        status: None,
        long_term: None,
        blocked_reason: None,
    }
}

/// The JSON ledger of a parsed document. A document's own problem numbers
/// become `seq` when they are unique; sections holding no problem (a closing
/// "下一步" part, say) are left out with a warning.
pub fn ledger_from_text(doc: ParsedDocument, inspection: NewInspection) -> (LedgerImport, Vec<ImportWarning>) {
    let mut warnings: Vec<ImportWarning> =
        doc.warnings.iter().map(|w| ImportWarning { line: w.line, message: w.message.clone() }).collect();
    let mut numbers: Vec<u32> = Vec::new();
    fn collect(s: &ParsedSection, out: &mut Vec<u32>) {
        out.extend(s.findings.iter().filter_map(|f| f.number));
        for c in &s.children {
            collect(c, out);
        }
    }
    for s in &doc.sections {
        collect(s, &mut numbers);
    }
    numbers.extend(doc.findings.iter().filter_map(|f| f.number));
    let total = doc.finding_count();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let keep_numbers =
        sorted.len() == total && sorted.iter().all(|n| (1..=crate::validate::MAX_ORDINAL as u32).contains(n));
    if !keep_numbers {
        warnings.push(ImportWarning {
            line: 0,
            message: "the problems' numbers are missing or repeat: they are numbered 1, 2, 3 … in document order"
                .into(),
        });
    }
    let seq = |f: &ParsedFinding| if keep_numbers { f.number.map(|n| n as i32) } else { None };

    fn section(
        s: ParsedSection,
        seq: &dyn Fn(&ParsedFinding) -> Option<i32>,
        warnings: &mut Vec<ImportWarning>,
    ) -> Option<ImportSection> {
        let children: Vec<ImportSection> = s.children.into_iter().filter_map(|c| section(c, seq, warnings)).collect();
        let findings: Vec<ImportFinding> = s.findings.into_iter().map(|f| finding_of(f, seq)).collect();
        if children.is_empty() && findings.is_empty() {
            warnings.push(ImportWarning {
                line: s.line,
                message: format!("「{}」 holds no problems and was left out", s.title),
            });
            return None;
        }
        Some(ImportSection { title: s.title, children, findings })
    }
    let sections = doc.sections.into_iter().filter_map(|s| section(s, &seq, &mut warnings)).collect();
    let findings = doc.findings.into_iter().map(|f| finding_of(f, &seq)).collect();
    (LedgerImport { inspection, sections, findings }, warnings)
}

/// Parses a body into a ledger and its warnings.
pub fn ledger_of(bytes: &[u8], json: bool, q: &ImportQuery) -> Result<(LedgerImport, Vec<ImportWarning>), AppError> {
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
    Ok(ledger_from_text(doc, inspection))
}
