//! A request body as a ledger: the JSON ledger format, or an official document in text
//! whose inspection facts come from the query and the opening paragraph.

use super::api::{ImportFinding, ImportQuery, ImportSection, ImportWarning, LedgerImport};
use super::text::{ParsedDocument, ParsedFinding, ParsedSection};
use super::{decode, preamble, text};
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
    let title = q.title.clone().or_else(|| opening.title.clone()).unwrap_or_else(|| default_title(&body));
    Ok(NewInspection {
        title,
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

/// A title fitting the kind of inspection, for a document that has no title line.
fn default_title(body: &str) -> String {
    let kind = if body.contains("巡视") {
        "巡视反馈问题整改"
    } else if body.contains("审计") {
        "审计发现问题整改"
    } else if body.contains("督察") || body.contains("督查") || body.contains("督导") {
        "督察反馈问题整改"
    } else if body.contains("巡察") {
        "巡察反馈问题整改"
    } else {
        "反馈问题整改"
    };
    format!("{body}{kind}")
}

/// Warnings about what the ledger holds against what the document says it holds, and about
/// the opening lines that are not part of the ledger.
fn checks(text: &str, opening: &preamble::Preamble, ledger: &LedgerImport) -> Vec<ImportWarning> {
    let mut warnings = Vec::new();
    let before = text.lines().take_while(|l| !text::is_heading(l)).filter(|l| !l.trim().is_empty()).count();
    if before > 0 {
        warnings.push(ImportWarning {
            line: 1,
            message: format!(
                "the {before} line(s) before the first numbered heading were read as the document's opening \
                 (its title, dates and inspecting body) and are not part of the ledger"
            ),
        });
    }
    let Some(stated) = opening.stated else { return warnings };
    let categories = ledger.sections.len();
    let aspects: usize = ledger.sections.iter().map(|s| s.children.len()).sum();
    fn count(sections: &[ImportSection]) -> usize {
        sections.iter().map(|s| s.findings.len() + count(&s.children)).sum()
    }
    let problems = ledger.findings.len() + count(&ledger.sections);
    let mut differs = Vec::new();
    if let Some(c) = stated.categories.filter(|&c| c as usize != categories) {
        differs.push(format!("{c} categories (大类), read {categories}"));
    }
    if let Some(a) = stated.aspects.filter(|&a| a as usize != aspects) {
        differs.push(format!("{a} aspects (方面), read {aspects}"));
    }
    if stated.problems as usize != problems {
        differs.push(format!("{} problems, read {problems}", stated.problems));
    }
    if !differs.is_empty() {
        warnings.push(ImportWarning {
            line: stated.line,
            message: format!(
                "the document states {}: check its headings (a problem may have merged into its neighbour, \
                 or the text may be cut off)",
                differs.join("; ")
            ),
        });
    }
    warnings
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

/// Parses a body into a ledger and its warnings. `Text(charset)`: a document, in the declared
/// encoding or (`None`) the detected one.
pub fn ledger_of(bytes: &[u8], kind: Body, q: &ImportQuery) -> Result<(LedgerImport, Vec<ImportWarning>), AppError> {
    let charset = match kind {
        Body::Json => None,
        Body::Text(charset) => Some(charset),
    };
    let json = charset.is_none();
    if json {
        if let Some(name) = q.document_parameter() {
            return Err(AppError::BadRequest(format!(
                "query parameter `{name}` is for text documents: a JSON ledger carries its own inspection"
            )));
        }
        return Ok((crate::http::json::parse::<LedgerImport>(bytes)?, Vec::new()));
    }
    let (text, mut warnings) = decode::decode(bytes, charset.flatten())?;
    let (text, splits) = text::split_run_together(&text);
    if splits > 0 {
        warnings.push(ImportWarning {
            line: 0,
            message: format!(
                "{splits} heading(s) or label(s) ran on after the end of a sentence (text taken from a PDF?) and \
                 were put on lines of their own: line numbers count those lines"
            ),
        });
    }
    let opening = preamble::read(&text);
    let expected = opening.stated.map_or_else(text::Expected::default, |s| text::Expected {
        categories: s.categories.map(|n| n as usize),
        aspects: s.aspects.map(|n| n as usize),
        problems: Some(s.problems as usize),
    });
    let doc = text::parse_expecting(&text, expected).map_err(|e| AppError::invalid("body", e.to_string()))?;
    let inspection = text_inspection(q, &opening)?;
    let (ledger, more) = ledger_from_text(doc, inspection);
    warnings.extend(checks(&text, &opening, &ledger));
    warnings.extend(more);
    Ok((ledger, warnings))
}

/// What an import's body is: a JSON ledger, or a text document in a declared encoding (or
/// `None`: detected).
#[derive(Debug, Clone, Copy)]
pub enum Body {
    Json,
    Text(Option<&'static encoding_rs::Encoding>),
}
