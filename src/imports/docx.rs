//! A Word file (`.docx`) as the text or the table it holds (issue 12).
//!
//! Paragraphs become lines. Word's automatic numbering is not in a paragraph's text: it is
//! computed here from `word/numbering.xml` (each list level's start, format and text such as
//! `（%1）` or `%1、`, counted per list as Word counts them, deeper levels restarting under a
//! new parent) and from the paragraph styles that carry numbering, and written before the
//! text, so `一、` / `（一）` / `1.` / `（1）` read as they appear on screen. Tables keep their
//! rows and cells; a table whose header names a ledger's columns is read as a sheet.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read};

use chinese_number::{ChineseCase, ChineseCountMethod, ChineseVariant, NumberToChinese};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::sheet::check_zip;

/// Most one XML part of a Word file (its text, numbering or styles) may unpack to.
const MAX_PART: u64 = 64 * 1024 * 1024;
use crate::error::AppError;

/// A block of a Word document, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph's text, its automatic number written first.
    Paragraph(String),
    /// A table on its grid: rows of cells (a cell's paragraphs joined by line feeds; a cell
    /// spanning columns is followed by empty ones), and the cells that continue a vertical
    /// merge (holding the text of the cell they continue).
    Table(Vec<Vec<String>>, HashSet<(usize, usize)>),
}

/// Most paragraphs and table cells a Word file may hold: far more than any report or ledger,
/// and a bound on what a small, highly compressed file can make the reader build.
pub const MAX_BLOCKS: usize = 200_000;

/// One level of a list definition.
#[derive(Debug, Clone, Default)]
struct Level {
    start: u32,
    format: String,
    text: String,
    /// What follows the number: a tab (Word's default), a space, or nothing.
    suffix: &'static str,
}

#[derive(Debug, Default)]
struct Numbering {
    /// abstractNumId → its levels (by ilvl).
    abstracts: HashMap<String, HashMap<u8, Level>>,
    /// numId → (abstractNumId, start overrides by ilvl).
    nums: HashMap<String, (String, HashMap<u8, u32>)>,
    /// abstractNumId → the numbering style it links to (`numStyleLink`): its levels are those of
    /// the definition that style names (`styleLink`).
    uses_style: HashMap<String, String>,
    /// Numbering style → the abstractNumId that defines it (`styleLink`).
    defines_style: HashMap<String, String>,
}

impl Numbering {
    /// The list definition's levels, following a numbering style's link.
    fn levels(&self, abstract_id: &str) -> Option<&HashMap<u8, Level>> {
        let linked = self.uses_style.get(abstract_id).and_then(|style| self.defines_style.get(style));
        match (self.abstracts.get(abstract_id), linked) {
            (Some(levels), _) if !levels.is_empty() => Some(levels),
            (_, Some(target)) => self.abstracts.get(target),
            (levels, None) => levels,
        }
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
        .map(|v| v.into_owned())
}

fn damaged(part: &str, e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!("the DOCX file's {part} is not readable XML: {e}"))
}

fn part(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Option<String>, AppError> {
    let mut file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(AppError::BadRequest(format!("the DOCX file's {name} cannot be read: {e}"))),
    };
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_PART + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::BadRequest(format!("the DOCX file's {name} cannot be read: {e}")))?;
    if bytes.len() as u64 > MAX_PART {
        return Err(AppError::BadRequest(format!(
            "the DOCX file's {name} unpacks to more than {} MiB: no report or ledger is that long",
            MAX_PART / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| AppError::BadRequest(format!("the DOCX file's {name} is not UTF-8")))
}

fn read_numbering(xml: &str) -> Result<Numbering, AppError> {
    let mut n = Numbering::default();
    let mut reader = Reader::from_str(xml);
    let mut abstract_id: Option<String> = None;
    let mut level: Option<(u8, Level)> = None;
    let mut num: Option<(String, String, HashMap<u8, u32>)> = None;
    let mut override_level: Option<u8> = None;
    loop {
        let event = reader.read_event().map_err(|e| damaged("numbering.xml", e))?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    "abstractNum" if !empty => {
                        abstract_id = attr(e, "w:abstractNumId");
                        if let Some(a) = &abstract_id {
                            n.abstracts.entry(a.clone()).or_default();
                        }
                    }
                    "lvl" if !empty && abstract_id.is_some() => {
                        let ilvl = attr(e, "w:ilvl").and_then(|v| v.parse().ok()).unwrap_or(0);
                        level = Some((
                            ilvl,
                            Level { start: 1, format: "decimal".into(), text: String::new(), suffix: "\t" },
                        ));
                    }
                    "start" => {
                        if let (Some((_, l)), Some(v)) = (level.as_mut(), attr(e, "w:val").and_then(|v| v.parse().ok()))
                        {
                            l.start = v;
                        }
                    }
                    "numFmt" => {
                        if let (Some((_, l)), Some(v)) = (level.as_mut(), attr(e, "w:val")) {
                            l.format = v;
                        }
                    }
                    "lvlText" => {
                        if let (Some((_, l)), Some(v)) = (level.as_mut(), attr(e, "w:val")) {
                            l.text = v;
                        }
                    }
                    "suff" => {
                        if let Some((_, l)) = level.as_mut() {
                            l.suffix = match attr(e, "w:val").as_deref() {
                                Some("space") => " ",
                                Some("nothing") => "",
                                _ => "\t",
                            };
                        }
                    }
                    "styleLink" if level.is_none() => {
                        if let (Some(a), Some(v)) = (abstract_id.as_ref(), attr(e, "w:val")) {
                            n.defines_style.insert(v, a.clone());
                        }
                    }
                    "numStyleLink" if level.is_none() => {
                        if let (Some(a), Some(v)) = (abstract_id.as_ref(), attr(e, "w:val")) {
                            n.uses_style.insert(a.clone(), v);
                        }
                    }
                    "num" if !empty => {
                        num = attr(e, "w:numId").map(|id| (id, String::new(), HashMap::new()));
                    }
                    "abstractNumId" => {
                        if let (Some((_, a, _)), Some(v)) = (num.as_mut(), attr(e, "w:val")) {
                            *a = v;
                        }
                    }
                    "lvlOverride" if !empty => override_level = attr(e, "w:ilvl").and_then(|v| v.parse().ok()),
                    "startOverride" => {
                        if let (Some((_, _, o)), Some(l), Some(v)) =
                            (num.as_mut(), override_level, attr(e, "w:val").and_then(|v| v.parse().ok()))
                        {
                            o.insert(l, v);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "lvl" => {
                    if let (Some(a), Some((ilvl, l))) = (abstract_id.as_ref(), level.take()) {
                        n.abstracts.entry(a.clone()).or_default().insert(ilvl, l);
                    }
                }
                "abstractNum" => abstract_id = None,
                "num" => {
                    if let Some((id, a, o)) = num.take() {
                        n.nums.insert(id, (a, o));
                    }
                }
                "lvlOverride" => override_level = None,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(n)
}

/// A style's own numbering: numId, ilvl, and the style it is based on.
type StyleNumbering = (Option<String>, Option<u8>, Option<String>);

/// Paragraph styles that carry numbering: style id → (numId, ilvl), following `basedOn`.
fn read_styles(xml: &str) -> Result<HashMap<String, (String, u8)>, AppError> {
    let mut reader = Reader::from_str(xml);
    let mut own: HashMap<String, StyleNumbering> = HashMap::new();
    let mut current: Option<String> = None;
    loop {
        let event = reader.read_event().map_err(|e| damaged("styles.xml", e))?;
        match &event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "style" if matches!(event, Event::Start(_)) => {
                    current = attr(e, "w:styleId");
                    if let Some(id) = &current {
                        own.entry(id.clone()).or_default();
                    }
                }
                "numId" => {
                    if let (Some(id), Some(v)) = (current.as_ref(), attr(e, "w:val")) {
                        own.entry(id.clone()).or_default().0 = Some(v);
                    }
                }
                "ilvl" => {
                    if let (Some(id), Some(v)) = (current.as_ref(), attr(e, "w:val").and_then(|v| v.parse().ok())) {
                        own.entry(id.clone()).or_default().1 = Some(v);
                    }
                }
                "basedOn" => {
                    if let (Some(id), Some(v)) = (current.as_ref(), attr(e, "w:val")) {
                        own.entry(id.clone()).or_default().2 = Some(v);
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "style" => current = None,
            Event::Eof => break,
            _ => {}
        }
    }
    let mut out = HashMap::new();
    for id in own.keys() {
        let (mut num, mut lvl, mut at) = (None, None, Some(id.clone()));
        // basedOn chains are short; the bound keeps a cycle from looping.
        for _ in 0..16 {
            let Some(style) = at.as_ref().and_then(|s| own.get(s)) else { break };
            num = num.or_else(|| style.0.clone());
            lvl = lvl.or(style.1);
            at = style.2.clone();
        }
        if let Some(num) = num.filter(|n| n != "0") {
            out.insert(id.clone(), (num, lvl.unwrap_or(0)));
        }
    }
    Ok(out)
}

/// A counter in a list level's format.
fn format_number(n: u32, format: &str) -> String {
    let chinese = |n: u32| {
        n.to_chinese(ChineseVariant::Simple, ChineseCase::Lower, ChineseCountMethod::TenThousand).unwrap_or_default()
    };
    match format {
        "chineseCounting"
        | "chineseCountingThousand"
        | "japaneseCounting"
        | "taiwaneseCounting"
        | "chineseLegalSimplified"
        | "ideographDigital"
        | "taiwaneseCountingThousand" => {
            // 一十一 is written 十一 in numbering.
            let s = chinese(n);
            s.strip_prefix("一十").map(|rest| format!("十{rest}")).unwrap_or(s)
        }
        "decimalEnclosedCircle" | "decimalEnclosedCircleChinese" if (1..=20).contains(&n) => {
            char::from_u32(u32::from('①') + n - 1).map(String::from).unwrap_or_default()
        }
        "decimalFullWidth" | "decimalFullWidth2" => n
            .to_string()
            .chars()
            .map(|c| char::from_u32(u32::from(c) - u32::from('0') + u32::from('０')).unwrap_or(c))
            .collect(),
        "ideographTraditional" => {
            "甲乙丙丁戊己庚辛壬癸".chars().nth((n as usize + 9) % 10).map(String::from).unwrap_or_default()
        }
        "upperLetter" | "lowerLetter" => {
            let letter = char::from(b'A' + ((n.max(1) - 1) % 26) as u8);
            if format == "lowerLetter" { letter.to_ascii_lowercase() } else { letter }.to_string()
        }
        "none" | "bullet" => String::new(),
        _ => n.to_string(),
    }
}

/// Counts list items as Word does and writes their numbers.
#[derive(Default)]
struct Counters {
    /// abstractNumId → counter per level.
    counts: HashMap<String, [Option<u32>; 9]>,
    /// numIds whose start overrides were applied.
    started: std::collections::HashSet<String>,
}

impl Counters {
    /// Counts a numbered paragraph and writes its number as Word shows it, ending in `\u{1}`
    /// when Word sets it apart from the text (a tab or a space).
    fn label(&mut self, numbering: &Numbering, num_id: &str, ilvl: u8) -> String {
        let Some((abstract_id, overrides)) = numbering.nums.get(num_id) else { return String::new() };
        let Some(levels) = numbering.levels(abstract_id) else { return String::new() };
        let ilvl = usize::from(ilvl.min(8));
        let counts = self.counts.entry(abstract_id.clone()).or_default();
        if self.started.insert(num_id.to_owned()) {
            for (&l, &start) in overrides {
                if let Some(slot) = counts.get_mut(usize::from(l)) {
                    *slot = Some(start.saturating_sub(1));
                }
            }
        }
        let start =
            |l: usize| overrides.get(&(l as u8)).copied().or(levels.get(&(l as u8)).map(|lv| lv.start)).unwrap_or(1);
        counts[ilvl] = Some(counts[ilvl].map_or(start(ilvl), |c| c.saturating_add(1)));
        for deeper in counts.iter_mut().skip(ilvl + 1) {
            *deeper = None;
        }
        let Some(level) = levels.get(&(ilvl as u8)) else { return String::new() };
        if matches!(level.format.as_str(), "bullet" | "none") {
            return String::new();
        }
        let mut out = String::new();
        let mut chars = level.text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%' {
                if let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    chars.next();
                    let l = (d as usize).saturating_sub(1).min(8);
                    let value = counts[l].unwrap_or_else(|| start(l));
                    let format = levels.get(&(l as u8)).map_or("decimal", |lv| lv.format.as_str());
                    out.push_str(&format_number(value, format));
                    continue;
                }
            }
            out.push(c);
        }
        // Word sets the number apart from the text (a tab or a space): kept only where the text
        // starts with a digit, so `2.` and `3个支部…` do not read as the amount 2.3.
        if !level.suffix.is_empty() && !out.is_empty() {
            out.push('\u{1}');
        }
        out
    }
}

/// The blocks of a `.docx` file.
pub fn read(bytes: &[u8]) -> Result<Vec<Block>, AppError> {
    check_zip(bytes, "DOCX")?;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| AppError::BadRequest(format!("the body is not a ZIP package, as every DOCX file is: {e}")))?;
    let document = part(&mut zip, "word/document.xml")?.ok_or_else(|| {
        AppError::BadRequest("the ZIP package holds no word/document.xml: it is not a Word (.docx) file".into())
    })?;
    let numbering = part(&mut zip, "word/numbering.xml")?.map(|x| read_numbering(&x)).transpose()?.unwrap_or_default();
    let styles = part(&mut zip, "word/styles.xml")?.map(|x| read_styles(&x)).transpose()?.unwrap_or_default();
    blocks(&document, &numbering, &styles)
}

/// A table being read: its rows so far, the row being read (on the grid), the cell being read
/// (its paragraphs, its span, whether it continues a vertical merge), the text at each grid
/// column of the rows above (what a merged cell continues), and the merged cells.
#[derive(Default)]
struct OpenTable {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: Vec<String>,
    span: usize,
    continues: bool,
    above: HashMap<usize, String>,
    merged: HashSet<(usize, usize)>,
}

/// Elements whose text is not the document's current text: deleted and moved-away revisions,
/// the previous formatting of a changed paragraph, text boxes (drawn apart from the flow) and
/// the fallback copy of alternate content.
const SKIPPED: [&str; 8] =
    ["del", "moveFrom", "pPrChange", "rPrChange", "numberingChange", "txbxContent", "Fallback", "instrText"];

fn blocks(xml: &str, numbering: &Numbering, styles: &HashMap<String, (String, u8)>) -> Result<Vec<Block>, AppError> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut counters = Counters::default();
    let mut count = 0usize;
    // The paragraph being read: its text, its numbering (numId, ilvl), its style.
    let mut text = String::new();
    let mut num_id: Option<String> = None;
    let mut ilvl: Option<u8> = None;
    let mut style: Option<String> = None;
    let mut in_text = false;
    // Depth inside elements whose content is skipped (`SKIPPED`).
    let mut skipping = 0usize;
    let mut tables: Vec<OpenTable> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| damaged("document.xml", e))?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if SKIPPED.contains(&name) {
                    skipping += usize::from(!empty);
                    continue;
                }
                if skipping > 0 {
                    continue;
                }
                match name {
                    "p" => {
                        text.clear();
                        num_id = None;
                        ilvl = None;
                        style = None;
                        count += 1;
                        if count > MAX_BLOCKS {
                            return Err(AppError::invalid(
                                "body",
                                format!("the Word file holds more than {MAX_BLOCKS} paragraphs and table cells"),
                            ));
                        }
                        if empty {
                            push_paragraph(&mut out, &mut tables, String::new());
                        }
                    }
                    "pStyle" => style = attr(e, "w:val"),
                    "numId" => num_id = attr(e, "w:val"),
                    "ilvl" => ilvl = attr(e, "w:val").and_then(|v| v.parse().ok()),
                    "t" if !empty => in_text = true,
                    "tab" => text.push('\t'),
                    "br" | "cr" => text.push('\n'),
                    "noBreakHyphen" => text.push('-'),
                    "sym" => {
                        // A symbol font's character; those in the private-use area have no meaning as text.
                        let c =
                            attr(e, "w:char").and_then(|h| u32::from_str_radix(&h, 16).ok()).and_then(char::from_u32);
                        text.extend(c.filter(|c| !('\u{E000}'..='\u{F8FF}').contains(c)));
                    }
                    "tbl" if !empty => tables.push(OpenTable::default()),
                    "gridBefore" => {
                        let n: usize = attr(e, "w:val").and_then(|v| v.parse().ok()).unwrap_or(0);
                        if let Some(t) = tables.last_mut() {
                            t.row.extend(std::iter::repeat_n(String::new(), n.min(64)));
                        }
                    }
                    "tc" if !empty => {
                        if let Some(t) = tables.last_mut() {
                            t.cell.clear();
                            t.span = 1;
                            t.continues = false;
                        }
                    }
                    "gridSpan" => {
                        if let Some(t) = tables.last_mut() {
                            t.span = attr(e, "w:val").and_then(|v| v.parse().ok()).unwrap_or(1).clamp(1, 64);
                        }
                    }
                    "vMerge" => {
                        if let Some(t) = tables.last_mut() {
                            t.continues = attr(e, "w:val").is_none_or(|v| v == "continue");
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_text && skipping == 0 => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text && skipping == 0 => {
                let resolved = match r.resolve_char_ref().map_err(|e| damaged("document.xml", e))? {
                    Some(c) => Some(c),
                    None => match r.xml10_content().as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    },
                };
                text.extend(resolved);
            }
            Event::End(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if SKIPPED.contains(&name) {
                    skipping = skipping.saturating_sub(1);
                    continue;
                }
                if skipping > 0 {
                    continue;
                }
                match name {
                    "t" => in_text = false,
                    "p" => {
                        let numbered = num_id.clone().map(|n| (n, ilvl.unwrap_or(0))).or_else(|| {
                            style.as_ref().and_then(|s| styles.get(s)).map(|(n, l)| (n.clone(), ilvl.unwrap_or(*l)))
                        });
                        // Word numbers an empty paragraph too; in a table cell (a 序号 column) its
                        // number is the cell's text.
                        let label = match numbered {
                            Some((n, l)) if n != "0" => counters.label(numbering, &n, l),
                            _ => String::new(),
                        };
                        let body = text.trim();
                        let (label, apart) = match label.strip_suffix('\u{1}') {
                            Some(l) => (l.to_owned(), true),
                            None => (label, false),
                        };
                        let gap =
                            if apart && body.starts_with(|c: char| c.is_ascii_digit() || ('０'..='９').contains(&c)) {
                                " "
                            } else {
                                ""
                            };
                        let line = if body.is_empty() {
                            if tables.is_empty() {
                                String::new()
                            } else {
                                label
                            }
                        } else {
                            format!("{label}{gap}{body}")
                        };
                        push_paragraph(&mut out, &mut tables, line);
                        text.clear();
                    }
                    "tc" => {
                        if let Some(t) = tables.last_mut() {
                            count += 1;
                            if count > MAX_BLOCKS {
                                return Err(AppError::invalid(
                                    "body",
                                    format!("the Word file holds more than {MAX_BLOCKS} paragraphs and table cells"),
                                ));
                            }
                            let column = t.row.len();
                            let mut cell = t.cell.join("\n").trim().to_owned();
                            if t.continues {
                                cell = t.above.get(&column).cloned().unwrap_or_default();
                                t.merged.insert((t.rows.len(), column));
                            } else {
                                t.above.insert(column, cell.clone());
                            }
                            t.row.push(cell);
                            t.row.extend(std::iter::repeat_n(String::new(), t.span - 1));
                        }
                    }
                    "tr" => {
                        if let Some(t) = tables.last_mut() {
                            let row = std::mem::take(&mut t.row);
                            t.rows.push(row);
                        }
                    }
                    "tbl" => {
                        if let Some(table) = tables.pop() {
                            match tables.last_mut() {
                                // A table inside a cell is that cell's text.
                                Some(outer) => outer.cell.extend(table.rows.into_iter().map(|r| r.join(" "))),
                                None => out.push(Block::Table(table.rows, table.merged)),
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn push_paragraph(out: &mut Vec<Block>, tables: &mut [OpenTable], text: String) {
    match tables.last_mut() {
        Some(t) => t.cell.push(text),
        None => out.push(Block::Paragraph(text)),
    }
}

/// The document's paragraphs as lines; a table's rows as lines of their cells.
pub fn text(blocks: &[Block]) -> String {
    let mut lines = Vec::new();
    for block in blocks {
        match block {
            Block::Paragraph(p) => lines.push(p.clone()),
            Block::Table(rows, _) => {
                for row in rows {
                    lines.push(row.iter().map(|c| c.replace('\n', " ")).collect::<Vec<_>>().join(" "));
                }
            }
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBERING: &str = r#"<w:numbering xmlns:w="w">
      <w:abstractNum w:abstractNumId="7">
        <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>
        <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>
        <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/></w:lvl>
      </w:abstractNum>
      <w:num w:numId="3"><w:abstractNumId w:val="7"/></w:num>
    </w:numbering>"#;

    fn para(num: Option<(u8, &str)>, text: &str) -> String {
        let ppr = num.map_or(String::new(), |(l, id)| {
            format!(r#"<w:pPr><w:numPr><w:ilvl w:val="{l}"/><w:numId w:val="{id}"/></w:numPr></w:pPr>"#)
        });
        format!(r#"<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
    }

    #[test]
    fn automatic_numbering_is_written_as_it_shows() {
        let numbering = read_numbering(NUMBERING).unwrap();
        let body = [
            para(None, "关于整改情况的报告"),
            para(Some((0, "3")), "党的建设方面"),
            para(Some((1, "3")), "学习方面"),
            para(Some((2, "3")), "学习不深入"),
            para(Some((2, "3")), "记录不全"),
            para(Some((1, "3")), "组织方面"),
            para(Some((2, "3")), "发展党员不规范"),
            para(Some((0, "3")), "作风建设方面"),
        ]
        .concat();
        let xml = format!(r#"<w:document xmlns:w="w"><w:body>{body}</w:body></w:document>"#);
        let got = text(&blocks(&xml, &numbering, &HashMap::new()).unwrap());
        assert_eq!(
            got,
            "关于整改情况的报告\n一、党的建设方面\n（一）学习方面\n1.学习不深入\n2.记录不全\n（二）组织方面\n1.发展党员不规范\n二、作风建设方面"
        );
    }

    #[test]
    fn numbers_in_every_format() {
        assert_eq!(format_number(11, "chineseCounting"), "十一");
        assert_eq!(format_number(20, "chineseCounting"), "二十");
        assert_eq!(format_number(3, "decimalEnclosedCircle"), "③");
        assert_eq!(format_number(12, "decimalFullWidth"), "１２");
        assert_eq!(format_number(2, "ideographTraditional"), "乙");
    }

    #[test]
    fn tables_keep_rows_and_cells_and_escapes_are_read() {
        let xml = r#"<w:document xmlns:w="w"><w:body><w:tbl><w:tr><w:tc><w:p><w:r><w:t>序号</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>问题&amp;表现</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"#;
        let got = blocks(xml, &Numbering::default(), &HashMap::new()).unwrap();
        assert_eq!(got, vec![Block::Table(vec![vec!["序号".into(), "问题&表现".into()]], HashSet::new())]);
    }

    fn document(body: &str) -> String {
        format!(r#"<w:document xmlns:w="w" xmlns:mc="mc" xmlns:wps="wps"><w:body>{body}</w:body></w:document>"#)
    }

    #[test]
    fn a_number_stays_apart_from_text_that_starts_with_a_digit() {
        let numbering = read_numbering(NUMBERING).unwrap();
        let body = [para(Some((2, "3")), "学习不深入"), para(Some((2, "3")), "3个支部未按期换届")].concat();
        let got = text(&blocks(&document(&body), &numbering, &HashMap::new()).unwrap());
        assert_eq!(got, "1.学习不深入\n2. 3个支部未按期换届");
        let doc = crate::imports::text::parse(&got).unwrap();
        assert_eq!(doc.finding_count(), 2);
    }

    #[test]
    fn revisions_text_boxes_and_fallbacks_are_not_the_text() {
        let numbering = read_numbering(NUMBERING).unwrap();
        let body = r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="2"/><w:numId w:val="3"/></w:numPr>
            <w:pPrChange><w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="3"/></w:numPr></w:pPr></w:pPrChange></w:pPr>
            <w:r><w:t>学习不深入，</w:t></w:r>
            <mc:AlternateContent><mc:Choice><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>附图</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>
            <mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>附图</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent>
            <w:moveFrom><w:r><w:t>旧位置</w:t></w:r></w:moveFrom><w:del><w:r><w:delText>删掉</w:delText></w:r></w:del>
            <w:r><w:t>2023</w:t><w:noBreakHyphen/><w:t>2024年记录不全。</w:t></w:r></w:p>"#;
        let got = text(&blocks(&document(body), &numbering, &HashMap::new()).unwrap());
        assert_eq!(got, "1.学习不深入，2023-2024年记录不全。");
    }

    #[test]
    fn merged_table_cells_keep_the_grid() {
        let cell = |props: &str, text: &str| {
            format!("<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>")
        };
        let row = |cells: Vec<String>| format!("<w:tr>{}</w:tr>", cells.concat());
        let body = format!(
            "<w:tbl>{}{}{}</w:tbl>",
            row(vec![cell(r#"<w:gridSpan w:val="2"/>"#, "问题描述"), cell("", "整改措施"), cell("", "是否整改完成")]),
            row(vec![
                cell(r#"<w:gridSpan w:val="2"/>"#, "学习不深入"),
                cell("", "加强学习"),
                cell(r#"<w:vMerge w:val="restart"/>"#, "已完成")
            ]),
            row(vec![cell(r#"<w:gridSpan w:val="2"/>"#, "记录不全"), cell("", "规范"), cell("<w:vMerge/>", "")]),
        );
        let got = blocks(&document(&body), &Numbering::default(), &HashMap::new()).unwrap();
        let Block::Table(rows, merged) = &got[0] else { panic!("{got:?}") };
        assert_eq!(rows[2], ["记录不全", "", "规范", "已完成"]);
        assert!(merged.contains(&(2, 3)));
    }

    #[test]
    fn numbering_styles_huge_starts_and_empty_items() {
        let numbering = read_numbering(
            r#"<w:numbering xmlns:w="w">
              <w:abstractNum w:abstractNumId="1"><w:styleLink w:val="LedgerList"/>
                <w:lvl w:ilvl="0"><w:start w:val="4294967295"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/><w:suff w:val="nothing"/></w:lvl>
              </w:abstractNum>
              <w:abstractNum w:abstractNumId="2"><w:numStyleLink w:val="LedgerList"/></w:abstractNum>
              <w:num w:numId="5"><w:abstractNumId w:val="2"/></w:num>
            </w:numbering>"#,
        )
        .unwrap();
        let body = [para(Some((0, "5")), "甲"), para(Some((0, "5")), ""), para(Some((0, "5")), "乙")].concat();
        let got = text(&blocks(&document(&body), &numbering, &HashMap::new()).unwrap());
        // The start saturates instead of overflowing; the empty item is counted as Word counts it.
        assert_eq!(got, "4294967295.甲\n\n4294967295.乙");
    }

    #[test]
    fn a_file_of_too_many_paragraphs_is_refused() {
        let body = "<w:p/>".repeat(MAX_BLOCKS + 1);
        let e = blocks(&document(&body), &Numbering::default(), &HashMap::new()).unwrap_err();
        assert!(e.to_string().contains("paragraphs"), "{e}");
    }

    use proptest::prelude::*;

    fn words() -> impl Strategy<Value = String> {
        "[学习制度落实责任会议记录审批资金项目][学习制度落实责任会议记录审批资金项目A-Za-z0-9，<>&\"']{0,16}"
    }

    fn escaped(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
    }

    type Tree = Vec<(String, Vec<(String, Vec<(String, Option<String>)>)>)>;

    proptest! {
        /// Generated ledgers written as Word paragraphs numbered by a multilevel list (the numbers
        /// only in numbering.xml, as Word saves them) read back as themselves.
        #[test]
        fn numbered_word_documents_read_back(
            tree in prop::collection::vec(
                (words(), prop::collection::vec((words(), prop::collection::vec((words(), prop::option::of(words())), 1..4)), 1..3)),
                1..4,
            ),
        ) {
            let tree: Tree = tree;
            let numbering = read_numbering(NUMBERING).unwrap();
            let mut body = para(None, "关于巡察反馈意见整改情况的报告");
            for (category, aspects) in &tree {
                body.push_str(&para(Some((0, "3")), &escaped(category)));
                for (aspect, problems) in aspects {
                    body.push_str(&para(Some((1, "3")), &escaped(aspect)));
                    for (title, outcome) in problems {
                        body.push_str(&para(Some((2, "3")), &escaped(&format!("{title}。"))));
                        if let Some(o) = outcome {
                            body.push_str(&para(None, &escaped(&format!("整改情况：{o}"))));
                        }
                    }
                }
            }
            let xml = format!(r#"<w:document xmlns:w="w"><w:body>{body}</w:body></w:document>"#);
            let text = text(&blocks(&xml, &numbering, &HashMap::new()).unwrap());
            let doc = crate::imports::text::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            let read: Tree = doc
                .sections
                .iter()
                .map(|c| {
                    let aspects = c
                        .children
                        .iter()
                        .map(|a| (a.title.clone(), a.findings.iter().map(|f| (f.title.clone(), f.outcome.clone())).collect()))
                        .collect();
                    (c.title.clone(), aspects)
                })
                .collect();
            let want: Tree = tree
                .iter()
                .map(|(c, aspects)| {
                    let aspects = aspects
                        .iter()
                        .map(|(a, ps)| (a.trim().to_owned(), ps.iter().map(|(t, o)| (format!("{}。", t.trim()), o.as_ref().map(|o| o.trim().to_owned()))).collect()))
                        .collect();
                    (c.trim().to_owned(), aspects)
                })
                .collect();
            prop_assert_eq!(read, want, "{}", text);
        }
    }
}
