//! Parses a Chinese official document (inspection feedback or rectification report) into a ledger tree.
//!
//! The numbering levels `一、`, `(一)` (or `一)`), `1.`, `(1)` (or `1)`, `问题1：`) and `①` are mapped
//! to parts, categories, aspects and problems adaptively: the deepest of the first four levels in
//! the document holds the problems (a fifth, below them, is the problems' text). Stray spaces
//! inside brackets and before separators are tolerated.

use chinese_number::{ChineseCountMethod, ChineseToNumber};
use serde::Serialize;

/// The ledger tree read from one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedDocument {
    /// Level-1 sections (categories) in order; empty if the document has no category level.
    pub sections: Vec<ParsedSection>,
    /// Problems not under any section (normally only when there is no category level).
    pub findings: Vec<ParsedFinding>,
    /// Things the parser tolerated but that a person may want to check.
    pub warnings: Vec<ParseWarning>,
}

/// A category (level 1) or aspect (level 2) heading with what it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedSection {
    /// Heading text without its number or a trailing `。`.
    pub title: String,
    /// 1 = category, 2 = aspect.
    pub level: u8,
    /// 1-based line number of the heading.
    pub line: usize,
    /// Aspects of a category; always empty for an aspect.
    pub children: Vec<ParsedSection>,
    /// Problems directly under this section.
    pub findings: Vec<ParsedFinding>,
}

/// One numbered problem with its rectification paragraphs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedFinding {
    /// The problem's number as written, if it could be read.
    pub number: Option<u32>,
    /// The heading text, or its first sentence when the heading is very long.
    pub title: String,
    /// Further text about the problem (and the whole heading when it was shortened).
    pub description: Option<String>,
    /// The `整改措施` paragraph.
    pub measures: Option<String>,
    /// The `整改情况` paragraph.
    pub outcome: Option<String>,
    /// 1-based line number of the heading.
    pub line: usize,
}

/// Something odd in the document that did not stop parsing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParseWarning {
    /// 1-based line number the warning is about.
    pub line: usize,
    /// What is odd, in plain words.
    pub message: String,
}

/// Why a document could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// Nothing in the text is numbered like a problem.
    #[error("the document holds no numbered problems such as (1) or 1.")]
    NoProblems,
}

/// Longest problem heading, in characters, kept whole as a title.
const MAX_TITLE_CHARS: usize = 200;

/// Phrases of the "N大类N个方面N个问题" overview sentence, which is not an ignorable stray line.
const SUMMARY_MARKERS: [&str; 5] = ["大类", "个方面", "个问题", "项问题", "条问题"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Part,
    Category,
    Aspect,
    Problem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Field {
    #[default]
    Description,
    Measures,
    Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line<'a> {
    Blank,
    /// Level 1 `一、`, 2 `(一)`, 3 `1.`, 4 `(1)`.
    Heading {
        level: u8,
        number: Option<u32>,
        text: &'a str,
    },
    Marker {
        field: Field,
        text: &'a str,
    },
    /// `整改任务：…` (the 督察 block form): the problem itself, one per block.
    Task(&'a str),
    Text(&'a str),
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

fn arabic_digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '０'..='９' => Some(u32::from(c) - u32::from('０')),
        _ => None,
    }
}

fn is_chinese_digit(c: char) -> bool {
    "〇零一二三四五六七八九十百".contains(c)
}

/// Splits `s` after its leading run of chars matching `pred`; char_indices keeps the cut on a char boundary.
fn split_run(s: &str, pred: impl Fn(char) -> bool) -> (&str, &str) {
    let end = s.char_indices().find(|&(_, c)| !pred(c)).map_or(s.len(), |(i, _)| i);
    s.split_at(end)
}

fn parse_arabic(digits: &str) -> Option<u32> {
    digits.chars().try_fold(0u32, |acc, c| acc.checked_mul(10)?.checked_add(arabic_digit(c)?))
}

fn classify(raw: &str) -> Line<'_> {
    let line = trim(raw);
    if line.is_empty() {
        return Line::Blank;
    }
    if let Some(heading) = heading(line) {
        return heading;
    }
    if let Some(text) = task(line) {
        return Line::Task(text);
    }
    match label(line, false) {
        Some((field, text)) => Line::Marker { field, text },
        None => Line::Text(line),
    }
}

/// Labels that introduce the problem itself in the 督察 block form.
const TASKS: [&str; 3] = ["整改任务", "督察反馈问题", "反馈问题"];

/// `整改任务：…` or `【整改任务】…`, and the text after the label.
fn task(line: &str) -> Option<&str> {
    let (bracketed, body) = match line.strip_prefix(['【', '[', '〔']) {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let rest = TASKS.iter().find_map(|t| body.strip_prefix(t))?;
    let after = if bracketed { rest.strip_prefix(['】', ']', '〕'])? } else { rest };
    let after = after.trim_start_matches(is_space);
    match after.strip_prefix([':', '：']) {
        Some(text) => Some(trim(text)),
        None if bracketed => Some(trim(after)),
        None => None,
    }
}

/// Lines of the block form that describe the task, kept with their label in the field they
/// join: the target among the measures, deadlines and responsible units in the description.
const KEPT_LABELS: [(&str, Field); 6] = [
    ("整改目标", Field::Measures),
    ("整改时限", Field::Description),
    ("完成时限", Field::Description),
    ("责任单位", Field::Description),
    ("责任领导", Field::Description),
    ("牵头单位", Field::Description),
];

/// The labels of rectification paragraphs, longer before shorter, and the field each fills.
const LABELS: [(&str, Field); 13] = [
    ("整改完成情况", Field::Outcome),
    ("整改落实情况", Field::Outcome),
    ("整改进展情况", Field::Outcome),
    ("整改措施", Field::Measures),
    ("整改计划", Field::Measures),
    ("整改方案", Field::Measures),
    ("整改情况", Field::Outcome),
    ("整改进展", Field::Outcome),
    ("整改成效", Field::Outcome),
    ("整改结果", Field::Outcome),
    ("完成情况", Field::Outcome),
    ("落实情况", Field::Outcome),
    ("整改进度", Field::Outcome),
];

/// A rectification label at the start of `line` and the text after it: `整改情况：…`,
/// `【整改情况】…`, and unless `strict`, the label alone on its line or followed by a space
/// (`整改结果 已完成`). A label running straight into prose (`整改情况良好`) is no label.
fn label(line: &str, strict: bool) -> Option<(Field, &str)> {
    for (name, field) in KEPT_LABELS {
        let labelled = line.strip_prefix(name).is_some_and(|r| r.trim_start_matches(is_space).starts_with([':', '：']));
        if labelled {
            return Some((field, line));
        }
    }
    let (bracketed, body) = match line.strip_prefix(['【', '[', '〔']) {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    for (name, field) in LABELS {
        let Some(rest) = body.strip_prefix(name) else { continue };
        if bracketed {
            match rest.strip_prefix(['】', ']', '〕']) {
                Some(after) => return Some((field, trim(trim(after).trim_start_matches([':', '：'])))),
                None => continue,
            }
        }
        let spaced = rest.trim_start_matches(is_space);
        if let Some(after) = spaced.strip_prefix([':', '：']) {
            return Some((field, trim(after)));
        }
        if strict {
            continue;
        }
        if trim(rest).trim_end_matches('。').is_empty() {
            return Some((field, ""));
        }
        if rest.starts_with(is_space) {
            return Some((field, trim(rest)));
        }
    }
    None
}

/// How audit announcements state a problem's rectification right after it, without a label
/// ("1.问题……。已整改，……").
const OUTCOME_OPENERS: [&str; 9] =
    ["已整改", "已完成整改", "已全部整改", "已按要求整改", "已部分整改", "部分整改", "正在整改", "尚未整改", "未整改"];

/// A problem heading that carries its rectification on the same line ("1.问题……。整改情况：……",
/// or after a sentence "……。已整改，……"): the heading's own text, and the label's field and text.
fn split_label(text: &str) -> (&str, Option<(Field, &str)>) {
    for (i, c) in text.char_indices() {
        let sentence_end = "。；;".contains(c);
        let at = if sentence_end || is_space(c) {
            i + c.len_utf8()
        } else if c == '【' {
            i
        } else {
            continue;
        };
        let rest = trim(&text[at..]);
        if let Some(found) = label(rest, true) {
            return (trim(&text[..at]), Some(found));
        }
        if sentence_end && OUTCOME_OPENERS.iter().any(|o| rest.starts_with(o)) {
            return (trim(&text[..at]), Some((Field::Outcome, rest)));
        }
    }
    (text, None)
}

/// Bodies that sign a document off, as the last word of a short line.
const ISSUERS: [&str; 14] = [
    "党组",
    "党委",
    "委员会",
    "人民政府",
    "办公室",
    "领导小组",
    "工作组",
    "局",
    "厅",
    "委",
    "公司",
    "中心",
    "院",
    "政府",
];

/// Whether a line belongs to a closing sign-off: 特此公示/通报, contacts, the issuing body, the date.
fn is_sign_off(text: &str) -> bool {
    let t = trim(text);
    let chars = t.chars().count();
    let date_only = chars <= 16
        && t.contains('年')
        && t.ends_with('日')
        && t.chars().all(|c| c.is_ascii_digit() || is_chinese_digit(c) || "年月日〇 ".contains(c));
    let contact = ["电话", "联系人", "邮箱", "信箱", "传真", "邮编", "地址"].iter().any(|m| t.contains(m))
        && chars <= 60
        && t.contains([':', '：']);
    // "中共某某局党组(代章)": the seal note does not count.
    let name = match t.rfind(['(', '（']) {
        Some(i) if t.ends_with([')', '）']) && t[i..].chars().count() <= 6 => trim(&t[..i]),
        _ => t,
    };
    let issuer =
        chars <= 30 && !name.contains(['。', '，', ',', '；', ':', '：']) && ISSUERS.iter().any(|s| name.ends_with(s));
    t.starts_with("特此") || date_only || contact || issuer
}

/// Whether a line begins with a heading number (`一、`, `(一)`, `1.`, `(1)`, `1)`, `①`, `问题1：`)
/// or a task label (`整改任务：`).
pub(crate) fn is_heading(line: &str) -> bool {
    heading(trim(line)).is_some() || task(trim(line)).is_some()
}

/// A heading text that only numbers a block: empty, `第1项`, `问题一`, `序号3`.
fn is_block_number(title: &str) -> bool {
    let t = trim(title).trim_end_matches(['：', ':', '。']);
    let t = ["第", "问题", "序号"].iter().fold(t, |t, p| t.strip_prefix(p).unwrap_or(t));
    let t = t.trim_matches(|c: char| arabic_digit(c).is_some() || is_chinese_digit(c) || is_space(c));
    matches!(t, "" | "项" | "条" | "个" | "项问题")
}

/// `①`–`⑳` (level 5, below `(1)`), with or without a separator after it.
fn circled(line: &str) -> Option<Line<'_>> {
    let c = line.chars().next()?;
    if !('①'..='⑳').contains(&c) {
        return None;
    }
    let number = u32::from(c) - u32::from('①') + 1;
    let text = line[c.len_utf8()..].trim_start_matches(|c: char| is_space(c) || "、.．:：".contains(c));
    Some(Line::Heading { level: 5, number: Some(number), text: trim(text) })
}

/// `问题1：`, `问题一、`, `问题 3.`: a problem named as such, at the problem level (4).
fn named_problem(line: &str) -> Option<Line<'_>> {
    let body = line.strip_prefix("问题")?.trim_start_matches(is_space);
    let (digits, after_digits) = split_run(body, |c| arabic_digit(c).is_some());
    let (numeral, rest) = if digits.is_empty() { split_run(body, is_chinese_digit) } else { (digits, after_digits) };
    if numeral.is_empty() || numeral.chars().count() > 4 {
        return None;
    }
    let rest = rest.trim_start_matches(is_space);
    let text = rest.strip_prefix([':', '：', '、', '.', '．'])?;
    let number = if digits.is_empty() {
        ChineseToNumber::<u32>::to_number(&numeral, ChineseCountMethod::TenThousand).ok()
    } else {
        parse_arabic(numeral)
    };
    Some(Line::Heading { level: 4, number, text: trim(text) })
}

/// `第一部分`（level 0: always a part of the report, above every numbered level) and `第一，` /
/// `第一、` (the top level, as `一、`).
fn ordinal(line: &str) -> Option<Line<'_>> {
    let body = line.strip_prefix('第')?;
    let (numeral, rest) = split_run(body, is_chinese_digit);
    if numeral.is_empty() || numeral.chars().count() > 3 {
        return None;
    }
    let number = ChineseToNumber::<u32>::to_number(&numeral, ChineseCountMethod::TenThousand).ok();
    if let Some(after) = rest.strip_prefix("部分") {
        let text = after.trim_start_matches(|c: char| is_space(c) || "、.．:：，,".contains(c));
        return Some(Line::Heading { level: 0, number, text: trim(text) });
    }
    let text = rest.strip_prefix(['，', ',', '、'])?;
    Some(Line::Heading { level: 1, number, text: trim(text) })
}

fn heading(line: &str) -> Option<Line<'_>> {
    if let Some(found) = circled(line).or_else(|| named_problem(line)).or_else(|| ordinal(line)) {
        return Some(found);
    }
    // Stray spaces inside the brackets and before a separator are tolerated: "( 1 )", "1 .".
    let (bracketed, body) = match line.strip_prefix(['(', '（']) {
        Some(rest) => (true, rest.trim_start_matches(is_space)),
        None => (false, line),
    };
    let (digits, after_digits) = split_run(body, |c| arabic_digit(c).is_some());
    let arabic = !digits.is_empty();
    let (numeral, rest) = if arabic { (digits, after_digits) } else { split_run(body, is_chinese_digit) };
    // Longer runs are years and amounts ("2023年", "一千二百"), never heading numbers.
    let max_len = if arabic { 3 } else { 4 };
    if numeral.is_empty() || numeral.chars().count() > max_len {
        return None;
    }
    let mut chars = rest.trim_start_matches(is_space).chars();
    let separator = chars.next()?;
    let after = chars.as_str();
    let closing = matches!(separator, ')' | '）');
    if bracketed {
        if !closing {
            return None;
        }
    } else if !(closing || matches!(separator, '、' | '.' | '．'))
        || (arabic && after.starts_with(|c| arabic_digit(c).is_some()))
    {
        // "1.5亿" is an amount, not heading 1.
        return None;
    }
    // A lone closing bracket ("1)", "一）") is the bracketed style written short.
    let level = match (bracketed || closing, arabic) {
        (false, false) => 1,
        (true, false) => 2,
        (false, true) => 3,
        (true, true) => 4,
    };
    let number = if arabic {
        parse_arabic(numeral)
    } else {
        ChineseToNumber::<u32>::to_number(&numeral, ChineseCountMethod::TenThousand).ok()
    };
    Some(Line::Heading { level, number, text: trim(after) })
}

fn append(field: &mut Option<String>, text: &str) {
    match field {
        Some(existing) if !existing.is_empty() => {
            if !text.is_empty() {
                existing.push('\n');
                existing.push_str(text);
            }
        }
        _ => *field = Some(text.to_string()),
    }
}

/// A problem's text as its title, or, when it is very long, its first sentence as the title and
/// the whole text as the description.
pub(crate) fn title_and_description(text: &str) -> (String, Option<String>) {
    if text.chars().count() > MAX_TITLE_CHARS {
        let head: String = text.chars().take(MAX_TITLE_CHARS).collect();
        (head.split_inclusive('。').next().unwrap_or_default().to_string(), Some(text.to_string()))
    } else {
        (text.to_string(), None)
    }
}

/// A heading's number, if it has one, and its text without it (`（一）党的建设方面` → 1,
/// `党的建设方面`).
pub(crate) fn unnumbered(text: &str) -> (Option<u32>, &str) {
    match heading(trim(text)) {
        Some(Line::Heading { number, text, .. }) => (number, text),
        _ => (None, trim(text)),
    }
}

/// The level of the heading a text starts with: 0 `第一部分`, 1 `一、`, 2 `（一）`, 3 `1.`, 4
/// `（1）` / `问题1：`, 5 `①`.
pub(crate) fn heading_level(text: &str) -> Option<u8> {
    match heading(trim(text)) {
        Some(Line::Heading { level, .. }) => Some(level),
        _ => None,
    }
}

/// A problem's text without an Arabic or circled number before it (`1.`, `（1）`, `①`); a
/// Chinese numeral stays, as in `一、二季度学习不足`, where it is part of the words.
pub(crate) fn unnumbered_problem(text: &str) -> &str {
    match heading(trim(text)) {
        Some(Line::Heading { level: 3..=5, text, .. }) => text,
        _ => trim(text),
    }
}

fn new_finding(number: Option<u32>, text: &str, line: usize) -> ParsedFinding {
    let (title, description) = title_and_description(text);
    ParsedFinding { number, title, description, measures: None, outcome: None, line }
}

fn section_title(text: &str) -> String {
    trim(text.trim_end_matches('。')).to_string()
}

/// A marker paragraph with nothing after the colon should not show up as an empty string.
fn tidy(findings: &mut [ParsedFinding]) {
    for finding in findings {
        for field in [&mut finding.description, &mut finding.measures, &mut finding.outcome] {
            if field.as_deref() == Some("") {
                *field = None;
            }
        }
    }
}

/// What the most recent heading in a contributing scope was; decides where unnumbered lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Cursor {
    #[default]
    Start,
    Section,
    Problem,
}

#[derive(Default)]
struct Builder {
    sections: Vec<ParsedSection>,
    orphans: Vec<ParsedFinding>,
    warnings: Vec<ParseWarning>,
    in_category: bool,
    in_aspect: bool,
    cursor: Cursor,
    field: Field,
    has_categories: bool,
    /// Last number seen per raw level (index 1..=5).
    prev: [Option<u32>; 6],
    /// Whether the next heading at a level is the first under its parent, where numbering may restart.
    fresh: [bool; 6],
    /// The current problem has nothing yet but its heading.
    untouched: bool,
}

impl Builder {
    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(ParseWarning { line, message });
    }

    fn check_number(&mut self, level: u8, number: Option<u32>, line: usize) {
        let level = usize::from(level);
        for deeper in self.fresh.iter_mut().skip(level + 1) {
            *deeper = true;
        }
        let fresh = self.fresh.get(level).copied().unwrap_or(true);
        let prev = self.prev.get(level).copied().flatten();
        if let Some(slot) = self.fresh.get_mut(level) {
            *slot = false;
        }
        if let Some(slot) = self.prev.get_mut(level) {
            *slot = number;
        }
        let Some(n) = number else { return };
        // Numbering may restart at 1 under a new parent or run on across parents (as in the fixture).
        let follows = prev.is_some_and(|p| Some(n) == p.checked_add(1));
        if follows || (fresh && n == 1) || (prev.is_none() && !fresh) {
            return;
        }
        let message = match prev {
            Some(p) if n <= p => format!("heading number {n} repeats or goes back (previous was {p})"),
            Some(p) => format!("heading number {n} skips ahead (previous was {p})"),
            None => format!("heading numbering starts at {n} instead of 1"),
        };
        self.warn(line, message);
    }

    fn findings_target(&mut self) -> &mut Vec<ParsedFinding> {
        if self.in_category {
            if let Some(category) = self.sections.last_mut() {
                if self.in_aspect {
                    if let Some(aspect) = category.children.last_mut() {
                        return &mut aspect.findings;
                    }
                }
                return &mut category.findings;
            }
        }
        &mut self.orphans
    }

    fn current_problem(&mut self) -> Option<&mut ParsedFinding> {
        if self.cursor == Cursor::Problem {
            self.findings_target().last_mut()
        } else {
            None
        }
    }

    fn current_section(&mut self) -> Option<&mut ParsedSection> {
        let category = self.sections.last_mut().filter(|_| self.in_category)?;
        if self.in_aspect {
            category.children.last_mut()
        } else {
            Some(category)
        }
    }

    fn heading(&mut self, role: Role, text: &str, line: usize) {
        let title = section_title(text);
        match role {
            Role::Part | Role::Problem => {}
            Role::Category => {
                let section = ParsedSection { title, level: 1, line, children: vec![], findings: vec![] };
                self.sections.push(section);
                self.in_category = true;
                self.in_aspect = false;
            }
            Role::Aspect => match self.sections.last_mut().filter(|_| self.in_category) {
                Some(category) => {
                    category.children.push(ParsedSection { title, level: 2, line, children: vec![], findings: vec![] });
                    self.in_aspect = true;
                }
                None => {
                    self.in_aspect = false;
                    self.warn(line, "aspect heading outside any category; its problems are kept at top level".into());
                }
            },
        }
        self.cursor = Cursor::Section;
    }

    fn problem(&mut self, number: Option<u32>, text: &str, line: usize) {
        if self.has_categories && !self.in_category {
            self.warn(line, "problem outside any category; kept at top level".into());
        }
        let (text, inline) = split_label(text);
        let finding = new_finding(number, text, line);
        self.findings_target().push(finding);
        self.cursor = Cursor::Problem;
        self.field = Field::Description;
        self.untouched = true;
        if let Some((field, rest)) = inline {
            self.field = field;
            self.text(rest, line);
        }
    }

    /// `整改任务：…` right after a heading that only numbers its block ("第1项"): the problem's
    /// title. (Anywhere else, tasks were made headings of their own before reading.)
    fn task(&mut self, text: &str, line: usize) {
        let untouched = self.untouched;
        match self.current_problem() {
            Some(problem) if untouched && is_block_number(&problem.title) => problem.title = text.to_string(),
            Some(problem) if untouched => append(&mut problem.description, text),
            _ => self.problem(None, text, line),
        }
        self.untouched = false;
    }

    fn marker(&mut self, field: Field, text: &str, line: usize) {
        self.untouched = false;
        if self.current_problem().is_some() {
            self.field = field;
            self.text(text, line);
        } else {
            self.ignore(text, line);
        }
    }

    fn text(&mut self, text: &str, line: usize) {
        self.untouched = false;
        let field = self.field;
        if let Some(problem) = self.current_problem() {
            match field {
                // A heading holding only its number takes its title from the next line.
                Field::Description if problem.title.is_empty() => problem.title = text.to_string(),
                Field::Description => append(&mut problem.description, text),
                Field::Measures => append(&mut problem.measures, text),
                Field::Outcome => append(&mut problem.outcome, text),
            }
            return;
        }
        let cursor = self.cursor;
        if let Some(section) = self.current_section().filter(|s| s.title.is_empty() && cursor == Cursor::Section) {
            section.title = section_title(text);
        } else {
            self.ignore(text, line);
        }
    }

    fn ignore(&mut self, text: &str, line: usize) {
        // Text before the first heading is the preamble, and the overview sentence is expected.
        if self.cursor != Cursor::Start && !SUMMARY_MARKERS.iter().any(|m| text.contains(m)) {
            self.warn(line, "unnumbered line outside any problem was ignored".into());
        }
    }
}

/// Which heading-like lines are items of a numbered list inside a rectification paragraph
/// ("整改情况：" followed by "1、召开会议…", "2、修订制度…"), so that they neither add a level
/// nor start a problem. After a label, until the next structural heading, a numbered line is
/// a list item when it is deeper than the heading that owns the paragraph, starts a list (it
/// is numbered 1: a structural heading numbered 1 comes only after its parent, which ends the
/// paragraph), or continues the list (same style, the next number). At the owner's own level
/// a list continues only where it cannot be the next problem: another separator (`1、` under
/// `1.`), or a number other than the owner's next; when it could be either, it is the next
/// problem (a problem is not to be lost; the stated totals then tell).
fn list_items(lines: &[Line<'_>], raw: &[&str]) -> Vec<bool> {
    /// The character after a heading's number: `、`, `.`, `)`…
    fn separator(raw: &str) -> Option<char> {
        trim(raw)
            .trim_start_matches(['(', '（'])
            .trim_start_matches(|c: char| is_space(c) || arabic_digit(c).is_some() || is_chinese_digit(c))
            .chars()
            .next()
    }
    let mut items = vec![false; lines.len()];
    // The structural heading that owns the paragraph (its level and separator), and the list
    // under way (its level and the number its next item has).
    let mut owner: Option<(u8, Option<char>, Option<u32>)> = None;
    let mut list: Option<(u8, Option<u32>)> = None;
    let mut in_paragraph = false;
    for (i, line) in lines.iter().enumerate() {
        match *line {
            Line::Marker { .. } => {
                in_paragraph = owner.is_some();
                list = None;
            }
            Line::Task(_) => {
                in_paragraph = false;
                list = None;
            }
            Line::Heading { level, number, text } => {
                if in_paragraph {
                    let sep = raw.get(i).and_then(|r| separator(r));
                    let deeper = owner.is_some_and(|(o, _, _)| level > o);
                    let next_problem = owner.is_some_and(|(o, owner_sep, owner_number)| {
                        level == o && sep == owner_sep && owner_number.and_then(|n| n.checked_add(1)) == number
                    });
                    let continues = list.is_some_and(|(l, next)| l == level && next.is_some() && next == number);
                    let starts = list.is_none() && number == Some(1);
                    if deeper || (!next_problem && (continues || starts)) {
                        items[i] = true;
                        if starts || continues {
                            list = Some((level, number.and_then(|n| n.checked_add(1))));
                        }
                        continue;
                    }
                }
                owner = Some((level, raw.get(i).and_then(|r| separator(r)), number));
                list = None;
                // "1.问题……。整改情况：……" opens the paragraph on the heading's own line.
                in_paragraph = split_label(text).1.is_some();
            }
            _ => {}
        }
    }
    items
}

/// Text extracted from a PDF often runs headings together on one line ("…。（一）党的建设方面
/// 1.学习不深入。整改情况：…"): such lines are split before each heading number or
/// rectification label that follows the end of a sentence, and before a bracketed number
/// (`（一）`, not `第（一）`) or an Arabic one (`1.`) that follows a Chinese character directly,
/// as a heading's title runs into the next heading. Only lines longer than a paragraph usually
/// is (120 characters) are split. The number of splits, for a warning (line numbers then
/// count the split lines).
pub fn split_run_together(text: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len() + 64);
    let mut splits = 0;
    for (n, line) in text.lines().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut start = 0;
        let mut after_sentence = false;
        let mut previous = ' ';
        let long = line.chars().count() > 120;
        for (i, c) in line.char_indices() {
            if long && i > start {
                let rest = &line[i..];
                let after_title = !previous.is_ascii() && !is_chinese_digit(previous) && previous != '第';
                let run_on = match heading(rest) {
                    Some(_) if after_sentence => true,
                    Some(_) => {
                        after_title
                            && (rest.starts_with(['(', '（']) || rest.starts_with(|c| arabic_digit(c).is_some()))
                    }
                    None => after_sentence && label(rest, true).is_some(),
                };
                if run_on {
                    out.push_str(trim(&line[start..i]));
                    out.push('\n');
                    start = i;
                    splits += 1;
                }
            }
            after_sentence = "。；;！？".contains(c) || (after_sentence && is_space(c));
            previous = c;
        }
        out.push_str(&line[start..]);
    }
    (out, splits)
}

/// Parses a whole document. Never panics, whatever the input.
pub fn parse(text: &str) -> Result<ParsedDocument, ParseError> {
    parse_expecting(text, Expected::default())
}

/// The totals a document states ("4大类8个方面26个问题"), to choose between its readings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Expected {
    pub categories: Option<usize>,
    pub aspects: Option<usize>,
    pub problems: Option<usize>,
}

impl Expected {
    fn is_empty(&self) -> bool {
        *self == Expected::default()
    }

    fn matches(&self, doc: &ParsedDocument) -> bool {
        let same = |stated: Option<usize>, read: usize| stated.is_none_or(|s| s == read);
        same(self.categories, doc.category_count())
            && same(self.aspects, doc.aspect_count())
            && same(self.problems, doc.finding_count())
    }
}

/// Titles of the top numbering level that name a part of a report rather than a category of
/// problems: 一、基本情况 / 二、整改落实情况 / 三、下一步工作.
const PART_WORDS: [&str; 14] = [
    "基本情况",
    "总体情况",
    "整改情况",
    "落实情况",
    "工作情况",
    "进展情况",
    "开展情况",
    "下一步",
    "主要做法",
    "整改工作",
    "长效机制",
    "存在的问题",
    "问题及整改",
    "工作打算",
];

/// The ways the numbering levels present can be read, the usual one first: the deepest level
/// holds the problems; above it, categories and aspects, or parts on top.
fn ladders(levels: usize) -> Vec<&'static [Role]> {
    use Role::{Aspect, Category, Part, Problem};
    match levels {
        0 => vec![],
        1 => vec![&[Problem]],
        2 => vec![&[Category, Problem], &[Part, Problem]],
        3 => vec![&[Category, Aspect, Problem], &[Part, Category, Problem]],
        _ => vec![&[Part, Category, Aspect, Problem]],
    }
}

/// Parses a document, choosing between its readings (`ladders`) by the totals it states, or,
/// without them, by the titles of its top level: parts of a report (基本情况, 下一步…) are no
/// categories.
pub fn parse_expecting(text: &str, expected: Expected) -> Result<ParsedDocument, ParseError> {
    let mut lines: Vec<Line<'_>> = text.lines().map(classify).collect();
    // The closing sign-off (特此公示, the issuing body, the date, contacts) is no problem's text.
    let mut closing = lines.len();
    while closing > 0 && matches!(lines[closing - 1], Line::Blank) {
        closing -= 1;
    }
    let last = closing;
    while closing > 0 {
        match lines[closing - 1] {
            Line::Blank => closing -= 1,
            Line::Text(t) if is_sign_off(t) => closing -= 1,
            _ => break,
        }
    }
    let first_closing = (closing..last).find(|&i| !matches!(lines[i], Line::Blank));
    lines.truncate(closing);
    // The 督察 block form. When every 整改任务 line follows a heading that only numbers its
    // block (第1项), the heading is the problem and the task its title; otherwise each task is
    // itself a problem heading, below every numbered level (the numbered headings above it are
    // its categories).
    let mut previous: Option<Line<'_>> = None;
    let mut numbered_blocks = true;
    for line in &lines {
        if matches!(line, Line::Task(_)) {
            numbered_blocks &= matches!(previous, Some(Line::Heading { text, .. }) if is_block_number(text));
        }
        if !matches!(line, Line::Blank) {
            previous = Some(*line);
        }
    }
    if !numbered_blocks {
        for line in lines.iter_mut() {
            if let Line::Task(text) = *line {
                *line = Line::Heading { level: 6, number: None, text };
            }
        }
    }
    // Numbered lists inside a rectification paragraph are its text, not headings.
    let raw_lines: Vec<&str> = text.lines().collect();
    for (i, item) in list_items(&lines, &raw_lines).into_iter().enumerate() {
        if item {
            lines[i] = Line::Text(raw_lines.get(i).map_or("", |r| trim(r)));
        }
    }
    // With `第一部分` parts, only the parts that reach the deepest numbering hold problems: a
    // "下一步工作" part numbered 一、 does not make 一、 a level of the ledger.
    let mut scope_of = Vec::with_capacity(lines.len());
    let mut scope = 0usize;
    for line in &lines {
        if level_of(line) == Some(0) {
            scope += 1;
        }
        scope_of.push(scope);
    }
    let deepest = lines.iter().filter_map(level_of).max().unwrap_or(0);
    let relevant: std::collections::HashSet<usize> =
        lines.iter().zip(&scope_of).filter(|(l, _)| level_of(l) == Some(deepest)).map(|(_, &s)| s).collect();
    let levels: Vec<u8> = (1..=6)
        .filter(|&l| lines.iter().zip(&scope_of).any(|(line, s)| level_of(line) == Some(l) && relevant.contains(s)))
        .collect();
    let closing = first_closing.map(|first| (first + 1, last));
    let readings: Vec<ParsedDocument> =
        ladders(levels.len()).into_iter().map(|ladder| read(&lines, text, &levels, ladder, closing)).collect();
    let top_titles_are_parts = lines.iter().any(|line| match *line {
        Line::Heading { level, text, .. } => {
            Some(level) == levels.first().copied() && PART_WORDS.iter().any(|w| text.contains(w))
        }
        _ => false,
    });
    // `第一部分` headings are the parts already: the levels below them are not.
    let has_part_headings = lines.iter().any(|line| level_of(line) == Some(0));
    let chosen = if !expected.is_empty() {
        readings.iter().position(|doc| expected.matches(doc)).unwrap_or(0)
    } else if top_titles_are_parts && !has_part_headings && readings.len() > 1 {
        1
    } else {
        0
    };
    let doc = readings.into_iter().nth(chosen).ok_or(ParseError::NoProblems)?;
    if doc.finding_count() == 0 {
        return Err(ParseError::NoProblems);
    }
    Ok(doc)
}

fn level_of(line: &Line<'_>) -> Option<u8> {
    if let Line::Heading { level, .. } = *line {
        Some(level)
    } else {
        None
    }
}

/// One reading of the document: its numbering levels (`levels`, shallow to deep) taking the
/// roles of `ladder`. `closing`: the lines of the closing sign-off, to warn about.
fn read(
    lines: &[Line<'_>],
    text: &str,
    levels: &[u8],
    ladder: &[Role],
    closing: Option<(usize, usize)>,
) -> ParsedDocument {
    let roles: Vec<Option<Role>> = lines
        .iter()
        .map(|line| {
            // `第一部分` is a part whatever the levels below it are.
            level_of(line).and_then(|lv| {
                if lv == 0 {
                    return Some(Role::Part);
                }
                levels.iter().position(|&l| l == lv).and_then(|i| ladder.get(i)).copied()
            })
        })
        .collect();

    // Scope 0 is the text before the first part heading; only scopes holding a problem contribute.
    let mut contributing = vec![false];
    for role in roles.iter().flatten() {
        match (role, contributing.last_mut()) {
            (Role::Part, _) => contributing.push(false),
            (Role::Problem, Some(last)) => *last = true,
            _ => {}
        }
    }

    let raw: Vec<&str> = text.lines().collect();
    let mut b = Builder { has_categories: ladder.contains(&Role::Category), fresh: [true; 6], ..Builder::default() };
    if let Some((first, last)) = closing {
        b.warn(
            first,
            format!(
                "lines {first}–{last} were read as the closing sign-off (特此…, the issuing body, the date, contacts) \
                 and are not part of any problem"
            ),
        );
    }
    let mut scope = 0;
    for (index, (line, &role)) in lines.iter().zip(&roles).enumerate() {
        let line_no = index + 1;
        if role == Some(Role::Part) {
            scope += 1;
            b.in_category = false;
            b.in_aspect = false;
            b.cursor = Cursor::Section;
        }
        if !contributing.get(scope).copied().unwrap_or(false) {
            if let (Some(Role::Part), Line::Heading { level, number, text }) = (role, *line) {
                b.check_number(level, number, line_no);
                b.warn(
                    line_no,
                    format!(
                        "「{}」 holds no numbered problems: it was read as a part of the report (its account of \
                         the work, or the next steps) and is not part of the ledger",
                        section_title(text)
                    ),
                );
            }
            continue;
        }
        match *line {
            Line::Blank => {}
            Line::Heading { level, number, text } => {
                b.check_number(level, number, line_no);
                match role {
                    Some(Role::Problem) => b.problem(number, text, line_no),
                    Some(role) => b.heading(role, text, line_no),
                    // Numbered points below the problems (a fifth style) are the problem's text.
                    None => b.text(raw.get(index).map_or(text, |r| trim(r)), line_no),
                }
            }
            Line::Marker { field, text } => b.marker(field, text, line_no),
            Line::Task(text) => b.task(text, line_no),
            Line::Text(text) => b.text(text, line_no),
        }
    }

    tidy(&mut b.orphans);
    for category in &mut b.sections {
        tidy(&mut category.findings);
        for aspect in &mut category.children {
            tidy(&mut aspect.findings);
        }
    }
    ParsedDocument { sections: b.sections, findings: b.orphans, warnings: b.warnings }
}

fn count_sections(sections: &[ParsedSection], level: u8) -> usize {
    sections.iter().map(|s| usize::from(s.level == level) + count_sections(&s.children, level)).sum()
}

fn count_findings(sections: &[ParsedSection]) -> usize {
    sections.iter().map(|s| s.findings.len() + count_findings(&s.children)).sum()
}

impl ParsedDocument {
    /// Number of level-1 sections (categories).
    pub fn category_count(&self) -> usize {
        count_sections(&self.sections, 1)
    }

    /// Number of level-2 sections (aspects).
    pub fn aspect_count(&self) -> usize {
        count_sections(&self.sections, 2)
    }

    /// Number of problems, wherever they sit in the tree.
    pub fn finding_count(&self) -> usize {
        self.findings.len() + count_findings(&self.sections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/yangling-approval-bureau-2024.txt");

    /// All problems in document order.
    fn all(doc: &ParsedDocument) -> Vec<&ParsedFinding> {
        fn walk<'a>(sections: &'a [ParsedSection], out: &mut Vec<&'a ParsedFinding>) {
            for s in sections {
                out.extend(&s.findings);
                walk(&s.children, out);
            }
        }
        let mut out: Vec<&ParsedFinding> = doc.findings.iter().collect();
        walk(&doc.sections, &mut out);
        out
    }

    fn to_full_width_punct(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '(' => '（',
                ')' => '）',
                ':' => '：',
                _ => c,
            })
            .collect()
    }

    /// Rewrites the fixture the way other offices type it: full-width punctuation and digits, odd spacing, CRLF, BOM.
    fn full_width_variant(src: &str) -> String {
        let mut out = String::from("\u{feff}");
        for (i, line) in src.lines().enumerate() {
            let line = to_full_width_punct(line);
            let digits: String = line.chars().skip_while(|&c| c == '（').take_while(char::is_ascii_digit).collect();
            let line = if !digits.is_empty() && line.starts_with('（') {
                let wide: String =
                    digits.chars().filter_map(|c| char::from_u32(u32::from(c) - 0x30 + 0xFF10)).collect();
                line.replacen(&format!("（{digits}）"), &format!("（{wide}）  "), 1)
            } else if !digits.is_empty() && line[digits.len()..].starts_with('.') {
                let sep = if i % 2 == 0 { "．" } else { "、 " };
                line.replacen(&format!("{digits}."), &format!("{digits}{sep}"), 1)
            } else {
                line
            };
            out.push_str(if i % 3 == 0 { "\u{3000}\u{3000}" } else { " " });
            out.push_str(&line);
            out.push_str(if i % 4 == 0 { "  \r\n\r\n \u{3000}\r\n" } else { "\r\n" });
        }
        out
    }

    #[test]
    fn fixture_gives_the_ledger() {
        let doc = parse(FIXTURE).expect("fixture parses");
        let titles: Vec<&str> = doc.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["聚焦政治站位方面", "聚焦责任落实方面", "聚焦作风效能方面", "聚焦诚信建设方面"]);
        assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (4, 8, 26));
        assert!(doc.findings.is_empty());
        // Its contacts, the issuing body and the date close it (lines 79–84); its parts 一 (the
        // account of the work) and 三 (the next steps) hold no problems.
        assert_eq!(doc.warnings.len(), 3, "{:?}", doc.warnings);
        assert_eq!(doc.warnings[0].line, 79);
        assert!(doc.warnings[0].message.starts_with("lines 79–84 were read as the closing sign-off"));
        assert_eq!((doc.warnings[1].line, doc.warnings[2].line), (2, 73));
        assert!(doc.warnings[1].message.contains("read as a part of the report"));
        assert_eq!(doc.sections[0].line, 9);
        assert_eq!(
            doc.sections[0].children[0].title,
            "学习贯彻习近平新时代中国特色社会主义思想,以及党的十九届历次全会和党的二十大精神情况"
        );
        assert_eq!(doc.sections[2].children[0].title, "优化营商环境建设工作主动性情况");
        let findings = all(&doc);
        let numbers: Vec<Option<u32>> = findings.iter().map(|f| f.number).collect();
        assert_eq!(numbers, (1..=26).map(Some).collect::<Vec<_>>());
        assert!(findings[0].title.starts_with("学习营商环境建设不经常、不深入"));
        assert!(findings[0].outcome.as_deref().is_some_and(|o| o.starts_with("坚持每周集中学习不间断")));
        assert!(findings[22].outcome.as_deref().is_some_and(|o| o.contains("目前该问题仍在协调中")));
        for f in &findings {
            assert!(f.outcome.as_deref().is_some_and(|o| !o.is_empty() && !o.contains("整改情况")), "{f:?}");
            assert_eq!((f.description.as_deref(), f.measures.as_deref()), (None, None));
        }
        assert!(doc.sections.iter().all(|s| !s.title.contains("持续抓好后续整改工作")));
    }

    #[test]
    fn every_rectification_label_fills_its_field() {
        let doc = parse(
            "一、类别\n（一）方面\n1.问题甲\n整改进展：已完成甲\n2.问题乙\n【整改情况】已完成乙\n3.问题丙\n整改结果\n\
             已完成丙\n4.问题丁。整改情况：已完成丁\n5.问题戊\n整改措施 建立制度戊\n整改完成情况:已完成戊\n\
             6.问题己\n整改情况良好的单位也要查。\n",
        )
        .unwrap();
        let f = all(&doc);
        assert_eq!(f.len(), 6);
        let outcomes: Vec<Option<&str>> = f.iter().map(|f| f.outcome.as_deref()).collect();
        assert_eq!(
            outcomes,
            [Some("已完成甲"), Some("已完成乙"), Some("已完成丙"), Some("已完成丁"), Some("已完成戊"), None]
        );
        assert_eq!(f[3].title, "问题丁。");
        assert_eq!(f[4].measures.as_deref(), Some("建立制度戊"));
        assert_eq!(
            f[5].description.as_deref(),
            Some("整改情况良好的单位也要查。"),
            "a label running into prose is prose"
        );
    }

    #[test]
    fn the_closing_sign_off_is_no_problem_text() {
        let text = "（一）方面\n1.问题甲\n整改情况：已完成。\n特此公示。\n\n中共某某区农业农村局党组（代章）\n\
                    2024年10月15日\n联系电话：0913-1234567\n";
        let doc = parse(text).unwrap();
        let f = all(&doc);
        assert_eq!(f[0].outcome.as_deref(), Some("已完成。"));
        assert_eq!(doc.warnings.len(), 1, "{:?}", doc.warnings);
        assert_eq!(doc.warnings[0].line, 4);
        // Without a sign-off nothing is cut: a last line of text stays the problem's.
        let doc = parse("（一）方面\n1.问题甲\n整改情况：已完成。\n下一步将持续推进。\n").unwrap();
        assert_eq!(all(&doc)[0].outcome.as_deref(), Some("已完成。\n下一步将持续推进。"));
        assert!(doc.warnings.is_empty());
    }

    #[test]
    fn full_width_variant_gives_the_same_ledger() {
        let plain = parse(FIXTURE).expect("fixture parses");
        let variant_text = full_width_variant(FIXTURE);
        assert!(
            variant_text.contains("（２６）  深入")
                && variant_text.contains("1、 学习")
                && variant_text.contains("2．贯彻")
        );
        let wide = parse(&variant_text).expect("variant parses");
        assert_eq!((wide.category_count(), wide.aspect_count(), wide.finding_count()), (4, 8, 26));
        // The same warnings, about the closing lines and the parts without problems (at other
        // line numbers: blank lines were added).
        assert_eq!(wide.warnings.len(), 3, "{:?}", wide.warnings);
        assert!(wide.warnings[0].message.contains("closing sign-off"));
        for (a, b) in all(&plain).into_iter().zip(all(&wide)) {
            assert_eq!(a.number, b.number);
            assert_eq!(to_full_width_punct(&a.title), b.title);
            assert_eq!(a.outcome.as_deref().map(to_full_width_punct), b.outcome);
        }
    }

    #[test]
    fn three_levels_make_categories_aspects_and_problems() {
        let text = "关于巡察情况的反馈意见\n一、贯彻落实党的路线方针政策方面\n（一）理论学习不深入\n\
            1.理论学习中心组学习流于形式。\n整改措施：制定年度学习计划。\n整改情况：已制定并执行。\n\
            2. 学习记录不完整。\n整改措施：规范学习记录。\n（二）落实上级决策部署有差距。\n1、重点工作推进缓慢。\n\
            二、全面从严治党方面\n（一）主体责任落实不到位\n1.党组研究党风廉政建设不经常。\n\
            整改措施：每季度专题研究一次。\n落实责任清单。\n";
        let doc = parse(text).expect("parses");
        assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (2, 3, 4));
        assert_eq!(doc.warnings, []);
        assert_eq!(doc.sections[0].title, "贯彻落实党的路线方针政策方面");
        assert_eq!(doc.sections[0].children[1].title, "落实上级决策部署有差距");
        let first = &doc.sections[0].children[0].findings;
        assert_eq!(first[0].measures.as_deref(), Some("制定年度学习计划。"));
        assert_eq!(first[0].outcome.as_deref(), Some("已制定并执行。"));
        assert_eq!((first[1].number, first[1].title.as_str()), (Some(2), "学习记录不完整。"));
        let last = &doc.sections[1].children[0].findings[0];
        assert_eq!(last.measures.as_deref(), Some("每季度专题研究一次。\n落实责任清单。"));
        assert_eq!(last.line, 13);
    }

    #[test]
    fn two_levels_and_one_level() {
        let doc = parse("（一）政治建设方面\n1.问题甲。\n整改情况：完成。\n2.问题乙。\n（二）作风建设方面\n3.问题丙。")
            .unwrap();
        assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (2, 0, 3));
        assert_eq!(doc.sections[1].findings[0].number, Some(3));
        assert_eq!(doc.sections[0].findings[0].outcome.as_deref(), Some("完成。"));

        let doc = parse("巡察反馈问题清单\n(1)问题一\n整改情况 ： 完成\n(2) 问题二\n补充说明\n").unwrap();
        assert!(doc.sections.is_empty());
        assert_eq!(doc.findings.len(), 2);
        assert_eq!(doc.findings[0].outcome.as_deref(), Some("完成"));
        assert_eq!(doc.findings[1].description.as_deref(), Some("补充说明"));
        assert_eq!(doc.warnings, []);
    }

    #[test]
    fn years_and_amounts_are_not_headings() {
        for line in ["2023年杨陵区行政审批服务局", "1.5亿元资金已拨付", "１．５亿元", "2024.12.20", "一是加强学习"]
        {
            assert!(matches!(classify(line), Line::Text(_)), "{line}");
        }
        let heading = |level, number, text| Line::Heading { level, number, text };
        assert_eq!(classify("  １．标题 "), heading(3, Some(1), "标题"));
        assert_eq!(classify("（十二）标题"), heading(2, Some(12), "标题"));
        assert_eq!(classify("\u{3000}三．标题"), heading(1, Some(3), "标题"));
        assert_eq!(classify("(1）标题"), heading(4, Some(1), "标题"));
        let doc = parse("(一)类别\n1.方面\n(1)问题\n2023年杨陵区开展工作。\n1.5亿元资金已拨付。").unwrap();
        assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (1, 1, 1));
        let problem = &doc.sections[0].children[0].findings[0];
        assert_eq!(problem.description.as_deref(), Some("2023年杨陵区开展工作。\n1.5亿元资金已拨付。"));
    }

    #[test]
    fn more_numbering_styles_and_stray_spaces() {
        let heading = |level, number, text| Line::Heading { level, number, text };
        assert_eq!(classify("( 1 )问题"), heading(4, Some(1), "问题"));
        assert_eq!(classify("（ 十二 ） 问题"), heading(2, Some(12), "问题"));
        assert_eq!(classify("1 .问题"), heading(3, Some(1), "问题"));
        assert_eq!(classify("2 、问题"), heading(3, Some(2), "问题"));
        assert_eq!(classify("3)问题"), heading(4, Some(3), "问题"));
        assert_eq!(classify("四）方面"), heading(2, Some(4), "方面"));
        assert_eq!(classify("⑫ 问题"), heading(5, Some(12), "问题"));
        assert_eq!(classify("问题1：资金未及时拨付"), heading(4, Some(1), "资金未及时拨付"));
        assert_eq!(classify("问题二十、档案不全"), heading(4, Some(20), "档案不全"));
        for line in ["2 个问题已整改", "问题一是学习不够", "问题较多", "1)5亿元"] {
            assert!(matches!(classify(line), Line::Text(_)), "{line}");
        }
        for text in [
            "一、类别\n（一）方面\n1)问题甲\n整改情况：已完成。\n2)问题乙\n",
            "一、类别\n（一）方面\n①问题甲\n整改情况：已完成。\n②问题乙\n",
            "一、类别\n（一）方面\n问题1：问题甲\n整改情况：已完成。\n问题2：问题乙\n",
            "一、类别\n( 一 )方面\n( 1 )问题甲\n整改情况：已完成。\n( 2 )问题乙\n",
        ] {
            let doc = parse(text).unwrap();
            assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (1, 1, 2), "{text}");
            let f = all(&doc);
            assert_eq!((f[0].title.as_str(), f[1].title.as_str()), ("问题甲", "问题乙"), "{text}");
            assert_eq!(f[0].outcome.as_deref(), Some("已完成。"));
        }
        // Points numbered below the problems stay the problem's text.
        let doc = parse("一、部分\n（一）类别\n1.方面\n（1）问题甲\n①第一点\n②第二点\n（2）问题乙\n").unwrap();
        let f = all(&doc);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].description.as_deref(), Some("①第一点\n②第二点"));
    }

    #[test]
    fn lists_inside_rectification_paragraphs_stay_their_text() {
        // A deeper list: (1)(2) under problems numbered 1. would otherwise add findings.
        let doc = parse(
            "（一）类别\n1.问题甲\n整改情况：\n（1）召开专题会议。\n（2）修订制度。\n2.问题乙\n整改情况：已完成。\n",
        )
        .unwrap();
        assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (1, 0, 2));
        let f = all(&doc);
        assert_eq!(f[0].outcome.as_deref(), Some("（1）召开专题会议。\n（2）修订制度。"));
        // A shallower list: 1、2、 under problems numbered (1) would otherwise make an aspect.
        let doc = parse(
            "一、类别\n（一）方面\n（1）问题甲\n整改情况：\n1、召开会议。\n2、建立台账。\n（2）问题乙\n整改措施：\n\
             1、完善制度。\n（3）问题丙\n",
        )
        .unwrap();
        assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (1, 1, 3), "{doc:?}");
        let f = all(&doc);
        assert_eq!(f[0].outcome.as_deref(), Some("1、召开会议。\n2、建立台账。"));
        assert_eq!(f[1].measures.as_deref(), Some("1、完善制度。"));
        assert_eq!(f[2].title, "问题丙");
        // The next structural heading ends the list, even in the list's style.
        let doc = parse(
            "一、类别\n1.问题甲\n整改情况：\n（1）召开会议。\n2.问题乙\n二、类别\n1.问题丙\n整改情况：已完成。\n",
        )
        .unwrap();
        assert_eq!((doc.category_count(), doc.finding_count()), (2, 3), "{doc:?}");
        // At the problems' own level a list needs its own separator; with the same one the next
        // problem is never swallowed.
        let doc = parse("（一）类别\n1.问题甲\n整改情况：\n1、召开会议。\n2.问题乙\n").unwrap();
        assert_eq!(doc.finding_count(), 2, "{doc:?}");
        assert_eq!(all(&doc)[0].outcome.as_deref(), Some("1、召开会议。"));
        // Same style too: a list restarts at 1, which no next problem does; "2." could be either
        // the list's second item or the next problem, and is read as the problem.
        let doc = parse("（一）类别\n1.问题甲\n整改情况：\n1.召开会议。\n2.问题乙\n").unwrap();
        assert_eq!(doc.finding_count(), 2, "{doc:?}");
        let doc = parse("（一）类别\n（3）问题丙\n整改情况：\n（1）审核。\n（2）补齐。\n（4）问题丁\n").unwrap();
        assert_eq!(all(&doc).iter().map(|f| f.title.as_str()).collect::<Vec<_>>(), ["问题丙", "问题丁"]);
        assert_eq!(all(&doc)[0].outcome.as_deref(), Some("（1）审核。\n（2）补齐。"));
    }

    #[test]
    fn parts_of_a_report_are_not_categories() {
        // 一、 parts (基本情况, 整改落实情况, 下一步工作) → (一) categories → 1. problems.
        let text = "一、基本情况\n巡察组反馈了问题。\n二、整改落实情况\n（一）党的建设方面\n1.学习不深入\n\
                    整改情况：已完成。\n2.制度不健全\n（二）作风建设方面\n3.效能不高\n三、下一步工作\n（一）持续整改\n";
        let doc = parse(text).unwrap();
        let titles: Vec<&str> = doc.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["党的建设方面", "作风建设方面"], "{doc:?}");
        assert_eq!((doc.category_count(), doc.aspect_count(), doc.finding_count()), (2, 0, 3));
        assert_eq!(all(&doc)[0].outcome.as_deref(), Some("已完成。"));
        // The totals a document states choose the reading, whatever the titles say.
        let text = "一、甲类问题\n（一）方面一\n1.问题一\n2.问题二\n二、乙类问题\n（一）方面二\n3.问题三\n";
        let as_categories =
            parse_expecting(text, Expected { categories: Some(2), aspects: Some(2), problems: Some(3) }).unwrap();
        assert_eq!((as_categories.category_count(), as_categories.aspect_count()), (2, 2));
        let as_parts = parse_expecting(text, Expected { categories: Some(2), aspects: None, problems: Some(3) });
        assert_eq!(
            as_parts.map(|d| (d.category_count(), d.aspect_count())),
            Ok((2, 2)),
            "2 categories fit the first reading too"
        );
        let as_parts =
            parse_expecting(text, Expected { categories: None, aspects: Some(0), problems: Some(3) }).unwrap();
        assert_eq!((as_parts.category_count(), as_parts.aspect_count()), (2, 0), "parts above two categories");
    }

    #[test]
    fn headings_run_together_on_one_line_are_split() {
        let one_line = "根据区委统一部署，区委第一巡察组对区某某局党组开展了常规巡察，并于近期反馈了巡察意见，\
                        现将整改情况予以公布，欢迎广大干部群众监督。一、存在的问题（一）党的建设方面1.学习不深入。整改情况：已完成。\
                        2.制度不健全。整改措施：修订制度。（二）作风方面3.效能不高。1.5亿元资金已拨付。";
        let (text, splits) = split_run_together(one_line);
        assert_eq!(splits, 8, "{text}");
        let doc = parse(&text).unwrap();
        assert_eq!((doc.category_count(), doc.finding_count()), (2, 3), "{text}");
        let f = all(&doc);
        assert_eq!(f[0].outcome.as_deref(), Some("已完成。"));
        assert_eq!(f[1].measures.as_deref(), Some("修订制度。"));
        assert_eq!(f[2].description.as_deref(), None, "1.5亿 is an amount: {text}");
        // A line that runs nothing together is left as it is.
        assert_eq!(
            split_run_together("整改情况：已完成。下一步将继续推进。"),
            ("整改情况：已完成。下一步将继续推进。".into(), 0)
        );
    }

    #[test]
    fn the_block_form_of_a_supervision_report() {
        // Blocks without numbers: each 整改任务 is a problem; its numbered measures are its text.
        let doc = parse(
            "一、水污染防治方面\n整改任务：城区污水处理厂超负荷运行。\n整改目标：2024年底前完成扩建。\n整改措施：\n\
             1.启动扩建工程。\n2.加强进水监测。\n3.完善管网。\n整改时限：2024年12月底\n责任单位：县住建局\n\
             整改完成情况：已完成扩建并投入运行。\n整改任务：河道垃圾清理不及时。\n整改完成情况：已建立巡河制度。\n",
        )
        .unwrap();
        let f = all(&doc);
        assert_eq!((doc.category_count(), f.len()), (1, 2), "{doc:?}");
        assert_eq!(f[0].title, "城区污水处理厂超负荷运行。");
        assert_eq!(
            f[0].measures.as_deref(),
            Some("整改目标：2024年底前完成扩建。\n1.启动扩建工程。\n2.加强进水监测。\n3.完善管网。")
        );
        assert_eq!(f[0].description.as_deref(), Some("整改时限：2024年12月底\n责任单位：县住建局"));
        assert_eq!(f[0].outcome.as_deref(), Some("已完成扩建并投入运行。"));
        assert_eq!(f[1].title, "河道垃圾清理不及时。");
        // Blocks numbered by headings that only number them (第1项): the task is the title.
        let doc = parse(
            "（一）第1项\n整改任务：扬尘管控不力。\n整改完成情况：已整改。\n（二）第2项\n\
             整改任务：部分乡镇秸秆焚烧时有发生。\n整改完成情况：已整改。\n",
        )
        .unwrap();
        let f = all(&doc);
        assert_eq!((doc.category_count(), f.len()), (0, 2), "{doc:?}");
        assert_eq!((f[0].title.as_str(), f[0].description.as_deref()), ("扬尘管控不力。", None));
        assert_eq!(f[1].title, "部分乡镇秸秆焚烧时有发生。");
        assert_eq!(f[1].outcome.as_deref(), Some("已整改。"));
    }

    #[test]
    fn nothing_numbered_is_an_error() {
        for text in ["", "  \n\u{3000}\r\n\u{feff}", "这是一段没有编号的文字。\n整改情况：无。\n2024年12月20日"]
        {
            assert_eq!(parse(text), Err(ParseError::NoProblems), "{text:?}");
        }
    }

    #[test]
    fn skipped_and_repeated_numbers_warn_with_their_line() {
        let doc = parse("\n(1)甲\n\n(3)乙\n(3)丙\n(4)丁").unwrap();
        let lines: Vec<usize> = doc.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [4, 5], "{:?}", doc.warnings);
        assert_eq!(doc.finding_count(), 4);
    }

    #[test]
    fn long_headings_and_stray_lines() {
        let long = format!("第一句话。{}", "很长".repeat(120));
        let doc = parse(&format!("(一)类别\n多余的一行\n(1){long}\n补充")).unwrap();
        let problem = &doc.sections[0].findings[0];
        assert_eq!(problem.title, "第一句话。");
        assert_eq!(problem.description, Some(format!("{long}\n补充")));
        assert_eq!(doc.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), [2]);
        let doc = parse("(1)无类别\n(一)类别\n(1)问题").unwrap();
        assert_eq!((doc.findings.len(), doc.sections[0].findings.len(), doc.warnings[0].line), (1, 1, 1));
    }

    fn random_document() -> impl Strategy<Value = String> {
        let pieces = "一、|（二）|(3)|4.|１．|十二、|整改情况：|整改措施:|文字|2023年|。|\n|\r\n| |\u{3000}|\u{feff}";
        let piece = prop::sample::select(pieces.split('|').collect::<Vec<_>>());
        prop::collection::vec(piece, 0..80).prop_map(|parts| parts.concat())
    }

    /// Lines that start like headings or markers — numbering of every style, numbers too long to
    /// be headings, brackets that do not close — and go on with anything at all, up to lines of
    /// thousands of characters.
    fn numbering_like_lines() -> impl Strategy<Value = String> {
        let prefixes = [
            "一、",
            "（一）",
            "(一)",
            "（一)",
            "十二、",
            "一百二十三、",
            "〇、",
            "零．",
            "1.",
            "1、",
            "１．",
            "(1)",
            "（１）",
            "999.",
            "1000.",
            "0.",
            "4294967296.",
            "(99999999999)",
            "1.5",
            "(",
            "（",
            ")",
            "）",
            "、",
            ".",
            "．",
            "整改情况：",
            "整改措施:",
            "整改情况 ：",
            "\u{feff}",
            "\u{3000}",
            " ",
        ];
        let tail = prop_oneof![
            any::<String>(),
            "\\PC{0,40}",
            prop::collection::vec(any::<char>(), 0..4000).prop_map(|c| c.into_iter().collect::<String>()),
            (any::<char>(), 0usize..20_000).prop_map(|(c, n)| c.to_string().repeat(n)),
        ];
        let line = (prop::sample::select(prefixes.to_vec()), tail).prop_map(|(p, t)| format!("{p}{t}"));
        let newline = prop::sample::select(vec!["\n", "\r\n", "\r", "\n\n"]);
        prop::collection::vec((line, newline), 0..40)
            .prop_map(|lines| lines.into_iter().map(|(l, n)| format!("{l}{n}")).collect())
    }

    /// `n` (1–99) in Chinese numerals, as headings write it.
    fn chinese(n: usize) -> String {
        const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
        match (n / 10, n % 10) {
            (0, d) => DIGITS[d].to_owned(),
            (1, d) => format!("十{}", DIGITS[d]),
            (t, d) => format!("{}十{}", DIGITS[t], DIGITS[d]),
        }
    }

    /// The heading number `n` at raw level 1 `一、`, 2 `(一)`, 3 `1.` or 4 `(1)`, half- or full-width.
    fn numbered(level: u8, n: usize, wide: bool) -> String {
        let arabic = if wide {
            n.to_string().chars().map(|c| char::from_u32(u32::from(c) - 0x30 + 0xFF10).unwrap_or(c)).collect()
        } else {
            n.to_string()
        };
        let (open, close) = if wide { ('（', '）') } else { ('(', ')') };
        match level {
            1 => format!("{}、", chinese(n)),
            2 => format!("{open}{}{close}", chinese(n)),
            3 => format!("{arabic}{}", if wide { "．" } else { "." }),
            _ => format!("{open}{arabic}{close}"),
        }
    }

    /// Text that reads as no heading and no marker: it starts with none of their characters.
    fn plain_text() -> impl Strategy<Value = String> {
        "[问题学习制度落实整改责任会议记录审批服务A-Za-z][问题学习制度落实整改责任会议记录审批服务A-Za-z0-9，、 ]{0,30}"
    }

    #[derive(Debug, Clone)]
    struct Problem {
        title: String,
        measures: Option<String>,
        outcome: Option<String>,
    }

    /// A category's title and its aspects, each a title and its problems.
    type Category = (String, Vec<(String, Vec<Problem>)>);

    fn problem() -> impl Strategy<Value = Problem> {
        (plain_text(), prop::option::of(plain_text()), prop::option::of(plain_text()))
            .prop_map(|(title, measures, outcome)| Problem { title, measures, outcome })
    }

    /// Categories → aspects → problems, each holding at least one of the next.
    fn ledger_tree() -> impl Strategy<Value = Vec<Category>> {
        let aspect = (plain_text(), prop::collection::vec(problem(), 1..6));
        let category = (plain_text(), prop::collection::vec(aspect, 1..5));
        prop::collection::vec(category, 1..8)
    }

    /// A well-formed document of `tree`: three of the four numbering levels (in order), half- or
    /// full-width, each restarting at 1 under its parent or running on, with 整改措施/整改情况
    /// paragraphs, indentation, blank lines and any line ending.
    fn write_document(
        tree: &[Category],
        levels: [u8; 3],
        wide: bool,
        restart: bool,
        newline: &str,
        indent: &str,
    ) -> String {
        let mut out = format!("关于巡察反馈意见整改情况的报告{newline}");
        let mut aspect_no = 0;
        let mut problem_no = 0;
        for (c, (category, aspects)) in tree.iter().enumerate() {
            out.push_str(&format!("{indent}{}{category}{newline}", numbered(levels[0], c + 1, wide)));
            if restart {
                aspect_no = 0;
            }
            for (aspect, problems) in aspects {
                aspect_no += 1;
                out.push_str(&format!("{indent}{}{aspect}{newline}{newline}", numbered(levels[1], aspect_no, wide)));
                if restart {
                    problem_no = 0;
                }
                for p in problems {
                    problem_no += 1;
                    out.push_str(&format!("{indent}{}{}{newline}", numbered(levels[2], problem_no, wide), p.title));
                    if let Some(m) = &p.measures {
                        out.push_str(&format!("整改措施：{m}{newline}"));
                    }
                    if let Some(o) = &p.outcome {
                        out.push_str(&format!("{indent}整改情况:{o}{newline}"));
                    }
                }
            }
        }
        out
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse(&s);
        }

        /// Any string at all, control characters and every plane of Unicode included.
        #[test]
        fn never_panics_on_any_string(s in any::<String>()) {
            let _ = parse(&s);
        }

        /// Whatever the lines, parsing ends, and what it reports points into the document.
        #[test]
        fn numbering_like_lines_never_panic(s in numbering_like_lines()) {
            let lines = s.lines().count();
            if let Ok(doc) = parse(&s) {
                prop_assert!(doc.finding_count() >= 1);
                prop_assert!(doc.warnings.iter().all(|w| w.line <= lines), "{:?}", doc.warnings);
                prop_assert!(all(&doc).iter().all(|f| (1..=lines).contains(&f.line)));
            }
        }

        #[test]
        fn random_documents_parse_or_report_no_problems(s in random_document()) {
            if let Ok(doc) = parse(&s) {
                prop_assert!(doc.finding_count() >= 1);
            }
        }

        /// A well-formed document gives exactly its categories, aspects and problems, each problem
        /// with its title and paragraphs, whatever its numbering style.
        #[test]
        fn well_formed_documents_give_their_counts(
            tree in ledger_tree(),
            levels in prop::sample::select(vec![[1u8, 2, 3], [1, 2, 4], [1, 3, 4], [2, 3, 4]]),
            wide in any::<bool>(),
            restart in any::<bool>(),
            newline in prop::sample::select(vec!["\n", "\r\n"]),
            indent in prop::sample::select(vec!["", "  ", "\u{3000}\u{3000}"]),
        ) {
            let text = write_document(&tree, levels, wide, restart, newline, indent);
            let doc = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            let aspects: usize = tree.iter().map(|(_, a)| a.len()).sum();
            let problems: Vec<&Problem> = tree.iter().flat_map(|(_, a)| a.iter().flat_map(|(_, p)| p)).collect();
            prop_assert_eq!(
                (doc.category_count(), doc.aspect_count(), doc.finding_count()),
                (tree.len(), aspects, problems.len()),
                "{}", text
            );
            prop_assert!(doc.findings.is_empty());
            let titles: Vec<&str> = doc.sections.iter().map(|s| s.title.as_str()).collect();
            prop_assert_eq!(titles, tree.iter().map(|(t, _)| t.trim()).collect::<Vec<_>>());
            for (found, given) in all(&doc).into_iter().zip(problems) {
                prop_assert_eq!(found.title.as_str(), given.title.trim());
                prop_assert_eq!(found.measures.as_deref(), given.measures.as_deref().map(str::trim));
                prop_assert_eq!(found.outcome.as_deref(), given.outcome.as_deref().map(str::trim));
            }
        }
    }

    /// Text no style reads as a heading or a label: it starts with none of their characters and
    /// holds no 整改/问题 words.
    fn safe_text() -> impl Strategy<Value = String> {
        "[学习制度落实责任会议记录审批服务资金项目][学习制度落实责任会议记录审批服务资金项目A-Za-z0-9，]{0,24}"
    }

    /// A category's title and its problems: (title, measures, outcome).
    type Flat = Vec<(String, Vec<(String, Option<String>, Option<String>)>)>;

    fn flat_ledger() -> impl Strategy<Value = Flat> {
        let problem = (safe_text(), prop::option::of(safe_text()), prop::option::of(safe_text()));
        prop::collection::vec((safe_text(), prop::collection::vec(problem, 1..5)), 1..5)
    }

    /// The number of problem `n` in one of the problem styles the issue lists.
    fn problem_number(style: usize, n: usize) -> String {
        match style {
            0 => format!("({n})"),
            1 => format!("{n})"),
            2 => format!("问题{n}："),
            3 => format!("问题{}：", chinese(n)),
            4 => char::from_u32(0x2460 + n as u32 - 1).map(String::from).unwrap_or_default(),
            5 => format!("( {n} )"),
            6 => format!("（{n}）"),
            _ => format!("{n}."),
        }
    }

    /// A category's number in one of the category styles: `一、`, `第一，` or `（一）`.
    fn category_number(style: usize, n: usize) -> String {
        match style {
            0 => format!("{}、", chinese(n)),
            1 => format!("第{}，", chinese(n)),
            _ => format!("（{}）", chinese(n)),
        }
    }

    /// A rectification paragraph in one of the label styles: with a colon (half- or
    /// full-width), in 【】, or the label alone on its line.
    fn labelled(style: usize, label: &str, text: &str, nl: &str) -> String {
        match style {
            0 => format!("{label}：{text}{nl}"),
            1 => format!("{label}:{text}{nl}"),
            2 => format!("【{label}】{text}{nl}"),
            _ => format!("{label}{nl}{text}{nl}"),
        }
    }

    proptest! {
        /// Generated ledgers written in each category, problem and label style (with or without
        /// 第一部分 parts around them, with any line end, in UTF-8 or GBK) read back as themselves.
        #[test]
        fn ledgers_in_every_style_parse_back(
            ledger in flat_ledger(),
            category_style in 0usize..3,
            problem_style in 0usize..8,
            label_style in 0usize..4,
            measures_label in prop::sample::select(vec!["整改措施", "整改计划", "整改方案"]),
            outcome_label in prop::sample::select(vec!["整改情况", "整改进展", "整改成效", "整改结果", "整改完成情况"]),
            on_heading_line in any::<bool>(),
            parts in any::<bool>(),
            newline in prop::sample::select(vec!["\n", "\r\n", "\r"]),
            gbk in any::<bool>(),
        ) {
            // `（一）` categories over `1.` problems, not `（1）`: a category style above the problems'.
            let problem_style = if category_style == 2 && matches!(problem_style, 0 | 1 | 5 | 6) { 7 } else { problem_style };
            let nl = newline;
            let mut text = format!("关于巡察反馈意见整改情况的报告{nl}");
            if parts {
                text.push_str(&format!("第一部分 整改工作开展情况{nl}成立整改工作领导小组。{nl}第二部分 问题整改落实情况{nl}"));
            }
            for (c, (category, problems)) in ledger.iter().enumerate() {
                text.push_str(&format!("{}{category}{nl}", category_number(category_style, c + 1)));
                for (p, (title, measures, outcome)) in problems.iter().enumerate() {
                    let number = problem_number(problem_style, p + 1);
                    match (on_heading_line, outcome, measures) {
                        // "1.问题。整改情况：……" on one line, when the problem has only an outcome.
                        (true, Some(o), None) => text.push_str(&format!("{number}{title}。{outcome_label}：{o}{nl}")),
                        _ => {
                            text.push_str(&format!("{number}{title}。{nl}"));
                            if let Some(m) = measures {
                                text.push_str(&labelled(label_style, measures_label, m, nl));
                            }
                            if let Some(o) = outcome {
                                text.push_str(&labelled(label_style, outcome_label, o, nl));
                            }
                        }
                    }
                }
            }
            if parts {
                text.push_str(&format!("第三部分 下一步工作{nl}一、持续抓好整改{nl}"));
            }
            let bytes = if gbk { encoding_rs::GBK.encode(&text).0.into_owned() } else { text.clone().into_bytes() };
            let (decoded, _) = super::super::decode::decode(&bytes, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let doc = parse(&decoded).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            let read: Flat = doc
                .sections
                .iter()
                .map(|s| {
                    let findings = s.findings.iter().map(|f| (f.title.clone(), f.measures.clone(), f.outcome.clone())).collect();
                    (s.title.clone(), findings)
                })
                .collect();
            let want: Flat = ledger
                .iter()
                .map(|(c, ps)| {
                    let findings = ps.iter().map(|(t, m, o)| (format!("{t}。"), m.clone(), o.clone())).collect();
                    (c.clone(), findings)
                })
                .collect();
            prop_assert!(doc.findings.is_empty(), "{}", decoded);
            prop_assert_eq!(read, want, "{}", decoded);
        }
    }
}
