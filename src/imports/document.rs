//! A request body as a ledger: the JSON ledger format, or an official document in text
//! whose inspection facts come from the query and the opening paragraph.

use super::api::{ImportFinding, ImportQuery, ImportSection, ImportWarning, LedgerImport};
use super::sheet::{self, SheetReading};
use super::text::{ParsedDocument, ParsedFinding, ParsedSection};
use super::{decode, docx, preamble, text};
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

/// A warning about the opening lines of a text document, which are not part of the ledger.
fn opening_check(text: &str) -> Option<ImportWarning> {
    let before = text.lines().take_while(|l| !text::is_heading(l)).filter(|l| !l.trim().is_empty()).count();
    (before > 0).then(|| ImportWarning {
        line: 1,
        message: format!(
            "the {before} line(s) before the first numbered heading were read as the document's opening \
             (its title, dates and inspecting body) and are not part of the ledger"
        ),
    })
}

/// A warning when the totals the document states differ from what the ledger holds.
fn totals_check(opening: &preamble::Preamble, ledger: &LedgerImport) -> Option<ImportWarning> {
    let stated = opening.stated?;
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
    (!differs.is_empty()).then(|| ImportWarning {
        line: stated.line,
        message: format!(
            "the document states {}: check its headings (a problem may have merged into its neighbour, \
             or the text may be cut off)",
            differs.join("; ")
        ),
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

/// A body read as a ledger: the ledger, the warnings (with their lines or rows), and for a
/// spreadsheet (or a Word table) how its columns were read.
pub struct Reading {
    pub ledger: LedgerImport,
    pub warnings: Vec<ImportWarning>,
    pub sheet: Option<SheetReading>,
}

/// Parses a body into a ledger, as its kind says: a JSON ledger, a text document (in the
/// declared encoding or, `None`, the detected one), a CSV/TSV or XLSX sheet, or a Word file.
pub fn ledger_of(bytes: &[u8], kind: Body, q: &ImportQuery) -> Result<Reading, AppError> {
    if let Body::Json = kind {
        if let Some(name) = q.document_parameter() {
            return Err(AppError::BadRequest(format!(
                "query parameter `{name}` is for documents and sheets: a JSON ledger carries its own inspection"
            )));
        }
        let ledger = crate::http::json::parse::<LedgerImport>(bytes)?;
        return Ok(Reading { ledger, warnings: Vec::new(), sheet: None });
    }
    let sheet_only = q.sheet_parameter();
    match kind {
        Body::Json => unreachable!("answered above"),
        Body::Text(charset) => {
            if let Some(name) = sheet_only {
                return Err(AppError::BadRequest(format!(
                    "query parameter `{name}` is for spreadsheets (CSV, TSV, XLSX, or a table in a Word file)"
                )));
            }
            let (text, warnings) = decode::decode(bytes, charset)?;
            from_text(&text, warnings, q)
        }
        Body::Delimited { tab, charset } => {
            if q.sheet.is_some() {
                return Err(AppError::BadRequest("query parameter `sheet` is for XLSX workbooks".into()));
            }
            let (text, mut warnings) = decode::decode(bytes, charset)?;
            let (table, more) = sheet::read_delimited(&text, if tab { b'\t' } else { b',' })?;
            warnings.extend(more);
            from_sheet(table, String::new(), warnings, q)
        }
        Body::Xlsx => {
            let (table, warnings) = sheet::read_xlsx(bytes, q.sheet.as_deref())?;
            from_sheet(table, String::new(), warnings, q)
        }
        Body::Docx => {
            let blocks = docx::read(bytes)?;
            // A table that names a ledger's columns is the ledger; the paragraphs before it its opening.
            let is_ledger = |b: &docx::Block| matches!(b, docx::Block::Table(rows, _) if sheet::has_header(rows));
            match blocks.iter().position(is_ledger) {
                Some(at) => {
                    let opening = docx::text(&blocks[..at]);
                    let docx::Block::Table(mut rows, mut merged) = blocks[at].clone() else { unreachable!("a table") };
                    let tables_before = blocks[..at].iter().filter(|b| matches!(b, docx::Block::Table(..))).count();
                    let mut warnings = Vec::new();
                    // Tables right after it, of as many columns and without a header, continue it
                    // (Word splits a long table where a page or section breaks).
                    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
                    let mut joined = 0;
                    for block in blocks[at + 1..]
                        .iter()
                        .filter(|b| !matches!(b, docx::Block::Paragraph(p) if p.trim().is_empty()))
                    {
                        match block {
                            docx::Block::Table(more, more_merged)
                                if !sheet::has_header(more) && more.iter().map(Vec::len).max() == Some(width) =>
                            {
                                let offset = rows.len();
                                merged.extend(more_merged.iter().map(|(r, c)| (r + offset, *c)));
                                rows.extend(more.iter().cloned());
                                joined += 1;
                            }
                            _ => break,
                        }
                    }
                    let others = blocks[at + 1..].iter().filter(|b| is_ledger(b)).count();
                    let name = format!("表格{}", tables_before + 1);
                    if joined > 0 {
                        warnings.push(ImportWarning {
                            line: 0,
                            message: format!(
                                "{joined} table(s) right after {name}, of as many columns and without a header, were read as its continuation"
                            ),
                        });
                    }
                    if others > 0 {
                        warnings.push(ImportWarning {
                            line: 0,
                            message: format!(
                                "{name} was read as the ledger; {others} later table(s) also headed like a ledger were not: \
                                 import them separately"
                            ),
                        });
                    }
                    let numbers = (1..=rows.len()).collect();
                    let table = sheet::Table { rows, numbers, name: Some(name), merged };
                    from_sheet(table, opening, warnings, q)
                }
                None => {
                    if let Some(name) = sheet_only {
                        return Err(AppError::BadRequest(format!(
                            "query parameter `{name}` is for a ledger table, and this Word file has none \
                             (no table with a header such as 序号 | 问题 | 整改措施)"
                        )));
                    }
                    from_text(&docx::text(&blocks), Vec::new(), q)
                }
            }
        }
    }
}

fn from_text(text: &str, mut warnings: Vec<ImportWarning>, q: &ImportQuery) -> Result<Reading, AppError> {
    let (text, splits) = text::split_run_together(text);
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
    let doc = text::parse_expecting(&text, expected).map_err(|_| no_problems(&text))?;
    let inspection = text_inspection(q, &opening)?;
    let (ledger, more) = ledger_from_text(doc, inspection);
    warnings.extend(opening_check(&text));
    warnings.extend(totals_check(&opening, &ledger));
    warnings.extend(more);
    Ok(Reading { ledger, warnings, sheet: None })
}

/// The refusal of a text without numbered problems, saying where it looked and, when the text
/// is a ledger sheet sent as text, how to send it.
fn no_problems(text: &str) -> AppError {
    for (delimiter, name, media) in [('\t', "tab", "text/tab-separated-values"), (',', "comma", "text/csv")] {
        let rows: Vec<Vec<String>> =
            text.lines().take(30).map(|l| l.split(delimiter).map(|c| c.trim().to_owned()).collect()).collect();
        if let Some(at) = rows.iter().position(|r| sheet::has_header(std::slice::from_ref(r))) {
            return AppError::invalid(
                "body",
                format!(
                    "line {}: this is a ledger sheet's header ({name}-separated: {}), not a document: send the \
                     file as {media}, which reads each row below the header as a finding",
                    at + 1,
                    rows[at].iter().filter(|c| !c.is_empty()).cloned().collect::<Vec<_>>().join(" | ")
                ),
            );
        }
    }
    let lines = text.lines().count();
    let first = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| format!("; line {} reads 「{}」", i + 1, l.trim().chars().take(40).collect::<String>()))
        .unwrap_or_default();
    AppError::invalid(
        "body",
        format!(
            "no numbered problems: none of the document's {lines} line(s) starts with a heading number \
             (一、 （一） 1. （1） 1) ① 问题1： 第一，) or 整改任务：{first}"
        ),
    )
}

fn from_sheet(
    table: sheet::Table,
    before: String,
    mut warnings: Vec<ImportWarning>,
    q: &ImportQuery,
) -> Result<Reading, AppError> {
    let options = sheet::Options {
        header_row: q.header_row,
        columns: match q.columns.as_deref() {
            Some(raw) => sheet::Options::parse_columns(raw).map_err(|e| AppError::invalid("columns", e))?,
            None => Vec::new(),
        },
    };
    let read = sheet::ledger(table, &options)?;
    // The sheet's own title rows (and a Word file's paragraphs before its table) are its opening.
    let opening_text = [before.as_str(), read.opening.as_str()]
        .iter()
        .filter(|t| !t.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let mut opening = preamble::read(&opening_text);
    // "…整改台账" names the sheet; the inspection is "…整改".
    opening.title = opening.title.map(|t| {
        let t = t.trim_end_matches(['表', ' ']);
        ["台账", "清单", "一览"].iter().fold(t, |t, s| t.strip_suffix(s).unwrap_or(t)).to_owned()
    });
    let inspection = text_inspection(q, &opening)?;
    let ledger = LedgerImport { inspection, sections: read.sections, findings: read.findings };
    warnings.extend(read.warnings);
    warnings.extend(totals_check(&opening, &ledger));
    Ok(Reading { ledger, warnings, sheet: Some(read.reading) })
}

/// What an import's body is, by its Content-Type.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// `application/json`: the JSON ledger.
    Json,
    /// `text/plain`: a document, in the declared encoding (`None`: detected).
    Text(Option<&'static encoding_rs::Encoding>),
    /// `text/csv` or (`tab`) `text/tab-separated-values`: a ledger sheet.
    Delimited { tab: bool, charset: Option<&'static encoding_rs::Encoding> },
    /// An XLSX workbook.
    Xlsx,
    /// A Word (.docx) file.
    Docx,
}

/// Media types of the bodies an import takes, beside `application/json`.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

impl Body {
    /// The kind of a body from its media type's essence (lower case) and declared charset.
    pub fn of(essence: &str, charset: Option<&'static encoding_rs::Encoding>) -> Option<Body> {
        Some(match essence {
            "application/json" => Body::Json,
            "text/plain" => Body::Text(charset),
            "text/csv" => Body::Delimited { tab: false, charset },
            "text/tab-separated-values" => Body::Delimited { tab: true, charset },
            XLSX => Body::Xlsx,
            DOCX => Body::Docx,
            _ => return None,
        })
    }

    /// The kind of a file from its extension (the CLI).
    pub fn of_path(path: &std::path::Path, charset: Option<&'static encoding_rs::Encoding>) -> Body {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Body::Json,
            Some("csv") => Body::Delimited { tab: false, charset },
            Some("tsv" | "tab") => Body::Delimited { tab: true, charset },
            Some("xlsx") => Body::Xlsx,
            Some("docx") => Body::Docx,
            _ => Body::Text(charset),
        }
    }
}
