//! A rectification ledger kept as a spreadsheet (整改台账: CSV, TSV or XLSX, or a table in a
//! Word file) as a ledger (issue 12).
//!
//! The header row is found among the first rows by its column names (序号, 问题/问题描述,
//! 类别/问题来源, 整改措施, 责任单位, 责任人, 整改时限, 是否整改完成/整改情况 …, in any order);
//! the rows above it are the sheet's opening (its title, dates and inspecting body). Each row
//! below it is a finding, grouped by its category (and aspect) column, filled down where a
//! merged cell leaves it empty; a row whose only cell is a heading (`一、党的建设方面`) starts a
//! category. Columns no name matches are reported; the `columns` query parameter maps any
//! column (by letter, number or header) to a field, or `ignore`s it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use super::api::{ImportFinding, ImportSection, ImportWarning};
use crate::error::AppError;
use crate::findings::model::FindingStatus;

/// What a column of a ledger sheet is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SheetField {
    /// 序号: the finding's `seq` when the numbers are unique.
    Seq,
    /// 类别 / 问题来源: the category the finding is grouped under.
    Category,
    /// 方面: the aspect under the category.
    Aspect,
    /// 问题 / 问题简述: the finding's title.
    Title,
    /// 问题描述 / 具体表现: the description (and the title too, without a title column).
    Description,
    /// 整改措施 / 整改计划.
    Measures,
    /// 整改情况 / 整改进展 / 整改完成情况 (a bare 已完成 / 未完成 is read as the status).
    Outcome,
    /// 是否整改完成 / 整改状态: 已完成 → `closed`, 长期坚持 → `long_term`, 暂缓 / 需外部协调 →
    /// `blocked` (the cell its reason), else `open`.
    Status,
    /// 整改时限 / 完成时限: a date (Excel serial, 2024-12-31, 2024年12月31日, 2024年12月底), or
    /// 长期坚持 (`long_term`); anything else is kept in the description.
    DueOn,
    /// 责任单位: kept in the description, labelled (unit names are not matched to org units).
    ResponsibleUnit,
    /// 责任人 / 责任领导: kept in the description, labelled.
    ResponsiblePerson,
    /// 备注: kept in the description, labelled.
    Note,
}

impl SheetField {
    const ALL: [(SheetField, &'static str); 12] = [
        (SheetField::Seq, "seq"),
        (SheetField::Category, "category"),
        (SheetField::Aspect, "aspect"),
        (SheetField::Title, "title"),
        (SheetField::Description, "description"),
        (SheetField::Measures, "measures"),
        (SheetField::Outcome, "outcome"),
        (SheetField::Status, "status"),
        (SheetField::DueOn, "due_on"),
        (SheetField::ResponsibleUnit, "responsible_unit"),
        (SheetField::ResponsiblePerson, "responsible_person"),
        (SheetField::Note, "note"),
    ];

    fn name(self) -> &'static str {
        Self::ALL.iter().find(|(f, _)| *f == self).map_or("", |(_, n)| n)
    }

    /// The label a field kept in the description is written with.
    fn label(self) -> &'static str {
        match self {
            SheetField::ResponsibleUnit => "责任单位",
            SheetField::ResponsiblePerson => "责任人",
            SheetField::DueOn => "整改时限",
            SheetField::Status => "整改状态",
            _ => "备注",
        }
    }
}

/// Column names as ledgers write them (compared without spaces, brackets' contents or a
/// trailing colon), for each field. A header equal to a name wins; else the longest name the
/// header contains.
const NAMES: [(SheetField, &[&str]); 12] = [
    (SheetField::Seq, &["序号", "编号", "问题序号", "问题编号", "序"]),
    (
        SheetField::Category,
        &[
            "类别",
            "问题类别",
            "问题类型",
            "问题分类",
            "类型",
            "问题来源",
            "大类",
            "所属类别",
            "问题性质",
            "反馈问题类别",
        ],
    ),
    (SheetField::Aspect, &["方面", "问题方面", "所属方面", "小类", "子类"]),
    (
        SheetField::Title,
        &[
            "问题",
            "问题简述",
            "问题标题",
            "问题名称",
            "存在问题",
            "存在的问题",
            "反馈问题",
            "发现问题",
            "主要问题",
            "巡察反馈问题",
            "巡视反馈问题",
            "审计发现问题",
            "督察反馈问题",
            "问题清单",
        ],
    ),
    (
        SheetField::Description,
        &[
            "问题描述",
            "问题表现",
            "具体表现",
            "问题具体表现",
            "具体问题",
            "问题详情",
            "问题内容",
            "主要表现",
            "问题情况",
        ],
    ),
    (SheetField::Measures, &["整改措施", "整改计划", "整改方案", "整改措施及计划", "整改目标", "整改要求", "措施"]),
    (
        SheetField::Outcome,
        &[
            "整改情况",
            "整改进展",
            "整改进展情况",
            "整改成效",
            "整改结果",
            "整改完成情况",
            "整改落实情况",
            "完成情况",
            "进展情况",
        ],
    ),
    (
        SheetField::Status,
        &["是否整改完成", "整改状态", "完成状态", "是否完成", "整改进度", "状态", "是否销号", "销号情况"],
    ),
    (
        SheetField::DueOn,
        &[
            "整改时限",
            "完成时限",
            "整改期限",
            "时限",
            "完成时间",
            "整改完成时间",
            "计划完成时间",
            "整改完成时限",
            "时间节点",
        ],
    ),
    (SheetField::ResponsibleUnit, &["责任单位", "牵头单位", "责任部门", "责任科室", "牵头部门", "责任股室"]),
    (SheetField::ResponsiblePerson, &["责任人", "责任领导", "牵头领导", "具体责任人", "分管领导", "联系人"]),
    (SheetField::Note, &["备注", "说明"]),
];

/// How a sheet was read: shown in a dry run and kept in the import's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SheetReading {
    /// The worksheet read (XLSX), or the table (`表格2`) of a Word file; absent for CSV/TSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "台账")]
    pub sheet: Option<String>,
    /// 1-based row of the header (the `header_row` query parameter sets it).
    #[schema(example = 2)]
    pub header_row: usize,
    /// Every column of the header row, with the field it is read as.
    pub columns: Vec<ColumnReading>,
}

/// One column of a sheet and what it was read as.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ColumnReading {
    /// The column's letter, as the spreadsheet shows it.
    #[schema(example = "C")]
    pub column: String,
    /// The header cell's text.
    #[schema(example = "整改措施")]
    pub header: String,
    /// The field it is read as; `null`: not read (an unknown name, or `ignore`d).
    pub field: Option<SheetField>,
    /// How the field was chosen.
    pub by: ColumnSource,
}

/// How a column's field was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnSource {
    /// By the header's name.
    Name,
    /// By the `columns` query parameter.
    Query,
    /// No known name: the column is not read.
    Unknown,
}

/// The cells of a sheet as text, row by row, with the spreadsheet's row numbers.
#[derive(Debug, Default)]
pub struct Table {
    pub rows: Vec<Vec<String>>,
    /// 1-based number of each row, as the spreadsheet (or the CSV's line) numbers it.
    pub numbers: Vec<usize>,
    pub name: Option<String>,
    /// Cells (row index, column) that continue a merged cell above: they hold its text.
    pub merged: HashSet<(usize, usize)>,
}

/// What a sheet gives: the opening text (rows above the header), the sections and findings,
/// the reading, and warnings.
pub struct SheetLedger {
    pub opening: String,
    pub sections: Vec<ImportSection>,
    pub findings: Vec<ImportFinding>,
    pub reading: SheetReading,
    pub warnings: Vec<ImportWarning>,
}

/// The sheet options of the query: the header row and column overrides.
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub header_row: Option<usize>,
    /// `column → field` (`None`: ignore), column as a letter, a number or a header's text.
    pub columns: Vec<(String, Option<SheetField>)>,
}

impl Options {
    /// Parses `columns=C=title,E=measures,F=ignore` (also `整改措施=measures`).
    pub fn parse_columns(raw: &str) -> Result<Vec<(String, Option<SheetField>)>, String> {
        let mut out = Vec::new();
        for pair in raw.split([',', '，']).map(str::trim).filter(|p| !p.is_empty()) {
            let (column, field) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("`{pair}` is not COLUMN=FIELD (for example C=title or 整改措施=measures)"))?;
            let field = field.trim();
            let field = if field == "ignore" {
                None
            } else {
                Some(SheetField::ALL.iter().find(|(_, n)| *n == field).map(|(f, _)| *f).ok_or_else(|| {
                    let names: Vec<&str> = SheetField::ALL.iter().map(|(_, n)| *n).collect();
                    format!("`{field}` is not a field: use one of {}, or ignore", names.join(", "))
                })?)
            };
            if column.trim().is_empty() {
                return Err(format!("`{pair}` names no column"));
            }
            out.push((column.trim().to_owned(), field));
        }
        Ok(out)
    }
}

/// A column's letters: 0 → A, 25 → Z, 26 → AA.
pub fn letters(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn column_of_letters(s: &str) -> Option<usize> {
    if s.is_empty() || s.len() > 3 || !s.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    s.chars()
        .try_fold(0usize, |acc, c| Some(acc * 26 + (c.to_ascii_uppercase() as usize - 'A' as usize + 1)))
        .map(|n| n - 1)
}

/// A header cell as compared with the known names: no spaces, no bracketed note
/// (`整改时限（年月日）`), no trailing colon or asterisk.
fn normalise(header: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in header.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            c if depth == 0 && !c.is_whitespace() && !"：:*＊".contains(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// The field a header names, if any.
fn field_named(header: &str) -> Option<SheetField> {
    let h = normalise(header);
    if h.is_empty() {
        return None;
    }
    if let Some((field, _)) = NAMES.iter().find(|(_, names)| names.contains(&h.as_str())) {
        return Some(*field);
    }
    NAMES
        .iter()
        // Two-character names (问题, 类别, 状态) only as the whole header: 问题数 is a count, not the problems.
        .flat_map(|(field, names)| names.iter().filter(|n| n.chars().count() >= 3).map(move |n| (*field, *n)))
        .filter(|(_, n)| h.contains(n))
        .max_by_key(|(_, n)| n.chars().count())
        .map(|(f, _)| f)
}

/// Whether a row is a header: two or more known names, one of them a problem column.
fn is_header(row: &[String]) -> bool {
    let fields: Vec<SheetField> = row.iter().filter_map(|c| field_named(c)).collect();
    fields.len() >= 2 && fields.iter().any(|f| matches!(f, SheetField::Title | SheetField::Description))
}

/// Whether some row among the first rows of a table is a ledger's header.
pub fn has_header(rows: &[Vec<String>]) -> bool {
    rows.iter().take(HEADER_SEARCH_ROWS).any(|r| is_header(r))
}

const HEADER_SEARCH_ROWS: usize = 30;

fn refuse(message: String) -> AppError {
    AppError::invalid("body", message)
}

/// Reads a CSV or TSV document already decoded to text, numbering each row by the line it
/// starts on; a cell that runs over lines holding more delimiters (a quote left open swallows
/// the rows after it) is a warning.
pub fn read_delimited(text: &str, delimiter: u8) -> Result<(Table, Vec<ImportWarning>), AppError> {
    let kind = if delimiter == b'\t' { "TSV" } else { "CSV" };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut table = Table::default();
    let mut warnings = Vec::new();
    // Lines counted incrementally: (byte offset, line number at it).
    let (mut at, mut line) = (0usize, 1usize);
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            refuse(format!("line {line}: the sheet is not well-formed {kind}: {e}"))
        })?;
        let byte = record.position().map_or(at, |p| p.byte() as usize).min(text.len());
        // The csv reader skips blank lines: the record starts after them.
        let start = byte + (text[byte..].len() - text[byte..].trim_start_matches(['\n', '\r']).len());
        if start >= at {
            line += text.as_bytes()[at..start].iter().filter(|&&b| b == b'\n').count();
            at = start;
        }
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if let Some(cell) = cells.iter().find(|c| c.contains('\n') && c.matches(char::from(delimiter)).count() >= 2) {
            warnings.push(ImportWarning {
                line,
                message: format!(
                    "line {line}: a cell runs over {} lines that hold {kind} delimiters: a quote (\") may be \
                     left open, joining the rows after it into this one",
                    cell.lines().count()
                ),
            });
        }
        table.numbers.push(line);
        table.rows.push(cells);
    }
    Ok((table, warnings))
}

/// Most a zipped document (XLSX, DOCX) may hold once unpacked.
pub const MAX_UNPACKED: u64 = 200 * 1024 * 1024;

/// Refuses a ZIP (XLSX, DOCX) that is not one, or would unpack to more than `MAX_UNPACKED`.
pub fn check_zip(bytes: &[u8], what: &str) -> Result<(), AppError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| AppError::BadRequest(format!("the body is not a ZIP package, as every {what} file is: {e}")))?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry =
            zip.by_index_raw(i).map_err(|e| AppError::BadRequest(format!("the {what} package is damaged: {e}")))?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNPACKED {
        return Err(AppError::BadRequest(format!(
            "the {what} file unpacks to {} MiB, more than the {} MiB accepted",
            total / (1024 * 1024),
            MAX_UNPACKED / (1024 * 1024)
        )));
    }
    Ok(())
}

/// Most cells holding something a worksheet may have: far more than a ledger, and a bound on
/// what a small file can make the reader build.
const MAX_CELLS: usize = 2_000_000;
/// Columns beyond this are not read (a stray mark in column XFD would otherwise widen every row).
const MAX_COLUMNS: u32 = 200;

/// A cell of a workbook as text: numbers without a needless `.0`, dates as `YYYY-MM-DD` from
/// the workbook's epoch (1899-12-30, or 1904-01-01 for the 1904 date system).
fn cell_text(cell: &calamine::DataRef<'_>, epoch: NaiveDate) -> String {
    use calamine::DataRef;
    match cell {
        DataRef::Empty | DataRef::Error(_) => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.trim().to_owned(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        DataRef::DateTime(d) => epoch
            .checked_add_signed(Duration::days(d.as_f64().trunc() as i64))
            .filter(|_| d.is_datetime())
            .map_or_else(|| d.as_f64().to_string(), |date| date.format("%Y-%m-%d").to_string()),
    }
}

/// One worksheet's cells that hold something, as a table; merged cells' text fills the cells
/// they cover below their first row.
fn worksheet<R: std::io::Read + std::io::Seek>(
    book: &mut calamine::Xlsx<R>,
    name: &str,
    epoch: NaiveDate,
) -> Result<(Table, usize), AppError> {
    let unreadable = |e: calamine::XlsxError| refuse(format!("worksheet 「{name}」 cannot be read: {e}"));
    let merges = book.merge_cells_by_sheet_name(name).map_err(unreadable)?;
    let mut cells: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let mut held = 0usize;
    let mut beyond = 0usize;
    {
        let mut reader = book.worksheet_cells_reader(name).map_err(unreadable)?;
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            let (row, col) = cell.get_position();
            let text = cell_text(cell.get_value(), epoch);
            if text.is_empty() {
                continue;
            }
            if col >= MAX_COLUMNS {
                beyond += 1;
                continue;
            }
            held += 1;
            if held > MAX_CELLS {
                return Err(refuse(format!("worksheet 「{name}」 holds more than {MAX_CELLS} cells")));
            }
            cells.entry(row).or_default().push((col, text));
        }
    }
    // Merged regions: each covered cell below the first row holds the region's text.
    let mut merged_text: Vec<((u32, u32), String)> = Vec::new();
    for m in merges.iter().filter(|m| m.start.1 < MAX_COLUMNS && m.end.0 > m.start.0) {
        let Some(text) =
            cells.get(&m.start.0).and_then(|r| r.iter().find(|(c, _)| *c == m.start.1)).map(|(_, t)| t.clone())
        else {
            continue;
        };
        // Bounded: a region taller than a ledger is not filled past the cells read.
        let last = m.end.0.min(m.start.0 + 100_000);
        for row in m.start.0 + 1..=last {
            merged_text.push(((row, m.start.1), text.clone()));
        }
    }
    let mut table = Table { name: Some(name.to_owned()), ..Table::default() };
    let filled_rows: std::collections::BTreeSet<u32> =
        cells.keys().copied().chain(merged_text.iter().map(|((r, _), _)| *r)).collect();
    let index: HashMap<u32, usize> = filled_rows.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    for row in &filled_rows {
        let held = cells.get(row).map(Vec::as_slice).unwrap_or_default();
        let width = held.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0);
        let mut out = vec![String::new(); width];
        for (c, t) in held {
            out[*c as usize] = t.clone();
        }
        table.rows.push(out);
        table.numbers.push(*row as usize + 1);
    }
    for ((row, col), text) in merged_text {
        let Some(&i) = index.get(&row) else { continue };
        let cells = &mut table.rows[i];
        if cells.len() <= col as usize {
            cells.resize(col as usize + 1, String::new());
        }
        if cells[col as usize].is_empty() {
            cells[col as usize] = text;
            table.merged.insert((i, col as usize));
        }
    }
    Ok((table, beyond))
}

/// Reads the worksheet of an XLSX workbook: the one named `sheet`, else the first visible one
/// whose rows hold a ledger's header (else the first visible one). Other sheets that hold a
/// ledger too are named in a warning.
pub fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<(Table, Vec<ImportWarning>), AppError> {
    use calamine::Reader;
    check_zip(bytes, "XLSX")?;
    let mut book = calamine::Xlsx::new(Cursor::new(bytes))
        .map_err(|e| AppError::BadRequest(format!("the body is not a readable XLSX workbook: {e}")))?;
    let epoch =
        if book.has_1904_epoch() { NaiveDate::from_ymd_opt(1904, 1, 1) } else { NaiveDate::from_ymd_opt(1899, 12, 30) }
            .unwrap_or_default();
    // Visible sheets first; hidden ones (an old version kept out of sight) only when named.
    let mut names: Vec<(String, bool)> = book
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == calamine::SheetType::WorkSheet)
        .map(|s| (s.name.clone(), s.visible == calamine::SheetVisible::Visible))
        .collect();
    names.sort_by_key(|(_, visible)| !visible);
    if names.is_empty() {
        return Err(refuse("the workbook has no worksheet".into()));
    }
    let mut warnings = Vec::new();
    if let Some(wanted) = sheet {
        if !names.iter().any(|(n, _)| n == wanted) {
            let all: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
            return Err(AppError::invalid(
                "sheet",
                format!("the workbook has no worksheet 「{wanted}」: it has {}", all.join("、")),
            ));
        }
        let (table, beyond) = worksheet(&mut book, wanted, epoch)?;
        warn_beyond(&mut warnings, wanted, beyond);
        return Ok((table, warnings));
    }
    let mut chosen: Option<(Table, usize)> = None;
    let mut first: Option<(Table, usize)> = None;
    let mut others = Vec::new();
    for (name, visible) in &names {
        if chosen.is_some() && !visible {
            break;
        }
        let (table, beyond) = worksheet(&mut book, name, epoch)?;
        let ledger = has_header(&table.rows);
        if ledger && chosen.is_none() {
            chosen = Some((table, beyond));
        } else if ledger {
            others.push(name.clone());
        } else if first.is_none() && *visible {
            first = Some((table, beyond));
        }
    }
    let (table, beyond) = chosen.or(first).ok_or_else(|| refuse("the workbook has no visible worksheet".into()))?;
    let name = table.name.clone().unwrap_or_default();
    warn_beyond(&mut warnings, &name, beyond);
    if !others.is_empty() {
        warnings.push(ImportWarning {
            line: 0,
            message: format!(
                "worksheet 「{name}」 was read; {} also hold(s) a ledger: import each with `sheet`",
                others.iter().map(|o| format!("「{o}」")).collect::<Vec<_>>().join("、")
            ),
        });
    }
    Ok((table, warnings))
}

fn warn_beyond(warnings: &mut Vec<ImportWarning>, name: &str, beyond: usize) {
    if beyond > 0 {
        warnings.push(ImportWarning {
            line: 0,
            message: format!(
                "worksheet 「{name}」: {beyond} cell(s) beyond column {} were not read",
                letters(MAX_COLUMNS as usize - 1)
            ),
        });
    }
}

/// A status written in a sheet: `Some((closed, long_term))` when it is one. The labels of
/// this service's own export (未启动, 整改中, 待销号, 已完成(长期坚持)) are among them.
fn status_word(value: &str) -> Option<(bool, bool)> {
    let v: String = value.chars().filter(|c| !c.is_whitespace() && !"。.！!()（）".contains(*c)).collect();
    if v == "已完成长期坚持" || v == "已整改长期坚持" {
        return Some((true, true));
    }
    if ["未启动", "待销号", "待审核", "销号中"].contains(&v.as_str()) {
        return Some((false, false));
    }
    const CLOSED: [&str; 12] = [
        "已完成",
        "已整改",
        "完成",
        "是",
        "已销号",
        "已办结",
        "整改完成",
        "已完成整改",
        "已整改到位",
        "已整改完成",
        "办结",
        "√",
    ];
    const OPEN: [&str; 12] = [
        "未完成",
        "否",
        "正在整改",
        "整改中",
        "推进中",
        "持续整改",
        "未整改",
        "部分完成",
        "基本完成",
        "正在推进",
        "未销号",
        "持续推进",
    ];
    const LONG: [&str; 4] = ["长期坚持", "长期整改", "持续长期坚持", "长期"];
    if CLOSED.contains(&v.as_str()) {
        Some((true, false))
    } else if OPEN.contains(&v.as_str()) {
        Some((false, false))
    } else if LONG.contains(&v.as_str()) {
        Some((false, true))
    } else {
        None
    }
}

/// A status saying the work waits on an outside body: 暂缓, 需外部协调, 无法整改.
fn is_blocked_word(value: &str) -> bool {
    let v = value.trim();
    v.starts_with("暂缓") || v.contains("外部协调") || v.starts_with("无法整改") || v.starts_with("暂不具备整改条件")
}

/// A due date as sheets write it: an Excel serial day, `2024-12-31`, `2024/12/31`, `2024.12.31`,
/// `2024年12月31日`, or a month (`2024年12月底`, `2024.12`: its last day).
fn due_date(value: &str) -> Option<NaiveDate> {
    let v = value.trim();
    if let Ok(serial) = v.parse::<f64>() {
        // Excel's serial days (1900 system): 1899-12-30 is day 0; between 1954 and 2119.
        if (20_000.0..80_000.0).contains(&serial) {
            return NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_signed(Duration::days(serial.trunc() as i64));
        }
        // `20241231` is a date written without separators.
        if v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()) {
            let n: u32 = v.parse().ok()?;
            return NaiveDate::from_ymd_opt((n / 10_000) as i32, n / 100 % 100, n % 100);
        }
        // `2024.12` is a month, read below; other numbers are no dates.
        if !v.contains('.') {
            return None;
        }
    }
    // A time after the date (`2024-12-31 00:00:00`) says nothing more.
    let v = match v.split_once([' ', 'T']) {
        Some((date, time)) if time.chars().all(|c| c.is_ascii_digit() || c == ':' || c == '.') => date,
        _ => v,
    };
    let cleaned = ["之前", "以前", "前", "底", "末", "止"].iter().fold(v, |v, s| v.strip_suffix(s).unwrap_or(v));
    let mut numbers = Vec::new();
    let mut current = String::new();
    for c in cleaned.chars() {
        if c.is_ascii_digit() {
            current.push(c);
        } else if "-/.年月日 ".contains(c) {
            if !current.is_empty() {
                numbers.push(current.clone());
                current.clear();
            }
        } else {
            return None;
        }
    }
    if !current.is_empty() {
        numbers.push(current);
    }
    let n: Vec<u32> = numbers.iter().map(|s| s.parse().ok()).collect::<Option<_>>()?;
    match n.as_slice() {
        [y, m, d] if *y >= 1900 => NaiveDate::from_ymd_opt(*y as i32, *m, *d),
        [y, m] if *y >= 1900 => {
            let first = NaiveDate::from_ymd_opt(*y as i32, *m, 1)?;
            let next = if *m == 12 {
                NaiveDate::from_ymd_opt(*y as i32 + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(first.year(), m + 1, 1)?
            };
            next.pred_opt()
        }
        _ => None,
    }
}

/// The field of each column: by the `columns` overrides, else by its header's name; and how
/// it was chosen.
fn map_columns(header: &[String], options: &Options) -> Result<Vec<(Option<SheetField>, ColumnSource)>, AppError> {
    let mut mapping: Vec<(Option<SheetField>, ColumnSource)> = header
        .iter()
        .map(|h| match field_named(h) {
            Some(f) => (Some(f), ColumnSource::Name),
            None => (None, ColumnSource::Unknown),
        })
        .collect();
    for (column, field) in &options.columns {
        let index = column_of_letters(column)
            .filter(|_| column.chars().all(|c| c.is_ascii_uppercase()))
            .or_else(|| column.parse::<usize>().ok().filter(|&n| n >= 1).map(|n| n - 1))
            .or_else(|| header.iter().position(|h| h.trim() == column.trim()))
            .filter(|&i| i < header.len().max(1) + 64)
            .ok_or_else(|| {
                AppError::invalid(
                    "columns",
                    format!("no column `{column}`: name one by its letter (C), its number (3) or its header's text"),
                )
            })?;
        if index >= mapping.len() {
            mapping.resize(index + 1, (None, ColumnSource::Unknown));
        }
        // A field given to this column is taken from any other column the names gave it to.
        if let Some(f) = field {
            for (other, by) in mapping.iter_mut() {
                if *other == Some(*f) && *by == ColumnSource::Name {
                    *other = None;
                    *by = ColumnSource::Query;
                }
            }
        }
        mapping[index] = (*field, ColumnSource::Query);
    }
    Ok(mapping)
}

#[derive(Default)]
struct Row {
    number: usize,
    seq: Option<String>,
    category: Option<String>,
    aspect: Option<String>,
    title: Option<String>,
    description: Option<String>,
    measures: Option<String>,
    outcome: Option<String>,
    status: Option<String>,
    due: Option<String>,
    labelled: Vec<(SheetField, String)>,
}

fn join(slot: &mut Option<String>, value: &str) {
    match slot {
        Some(s) if !s.is_empty() => {
            s.push('\n');
            s.push_str(value);
        }
        _ => *slot = Some(value.to_owned()),
    }
}

/// Reads a ledger from a table.
pub fn ledger(table: Table, options: &Options) -> Result<SheetLedger, AppError> {
    let Table { rows, numbers, name, merged } = table;
    let row_number = |i: usize| numbers.get(i).copied().unwrap_or(i + 1);
    let header_at = match options.header_row {
        Some(n) => numbers.iter().position(|&r| r == n).ok_or_else(|| {
            AppError::invalid(
                "header_row",
                format!("the sheet has no row {n} (it has {} rows)", numbers.last().copied().unwrap_or(0)),
            )
        })?,
        None => rows.iter().take(HEADER_SEARCH_ROWS).position(|r| is_header(r)).ok_or_else(|| {
            let shown = rows
                .iter()
                .take(HEADER_SEARCH_ROWS)
                .position(|r| r.iter().filter(|c| !c.is_empty()).count() >= 2)
                .map(|i| {
                    format!(
                        " (row {} reads {})",
                        row_number(i),
                        rows[i].iter().filter(|c| !c.is_empty()).cloned().collect::<Vec<_>>().join(" | ")
                    )
                })
                .unwrap_or_default();
            refuse(format!(
                "no header row among the first {HEADER_SEARCH_ROWS} rows{shown}: expected a row naming the \
                 columns, with a problem column (问题, 问题描述, 存在问题…) and another such as 序号, 整改措施, \
                 责任单位 or 整改时限; give `header_row` and `columns` to say how to read it"
            ))
        })?,
    };
    let header = &rows[header_at];
    let header_number = row_number(header_at);
    let mapping = map_columns(header, options)?;
    let mut warnings = Vec::new();
    let fields: Vec<SheetField> = mapping.iter().filter_map(|(f, _)| *f).collect();
    if !fields.iter().any(|f| matches!(f, SheetField::Title | SheetField::Description)) {
        return Err(refuse(format!(
            "row {header_number}: no column holds the problems: name one `title` or `description` with `columns`"
        )));
    }
    let mut seen = HashSet::new();
    let mut readings = Vec::new();
    for (i, (field, by)) in mapping.iter().enumerate() {
        let text = header.get(i).cloned().unwrap_or_default();
        let mut field = *field;
        if let Some(f) = field {
            if !seen.insert(f)
                && !matches!(f, SheetField::ResponsibleUnit | SheetField::ResponsiblePerson | SheetField::Note)
            {
                warnings.push(ImportWarning {
                    line: header_number,
                    message: format!(
                        "column {} 「{text}」 would be read as `{}` too: only the first such column is read (map it with `columns`)",
                        letters(i),
                        f.name()
                    ),
                });
                field = None;
            }
        } else if *by == ColumnSource::Unknown && !text.is_empty() {
            warnings.push(ImportWarning {
                line: header_number,
                message: format!(
                    "column {} 「{text}」 is not a column this importer knows: it is not read (map it with \
                     `columns={}=FIELD`)",
                    letters(i),
                    letters(i)
                ),
            });
        }
        if text.is_empty() && field.is_none() {
            continue;
        }
        readings.push(ColumnReading { column: letters(i), header: text, field, by: *by });
    }
    let field_of: BTreeMap<usize, SheetField> =
        readings.iter().filter_map(|r| Some((column_of_letters(&r.column)?, r.field?))).collect();

    let opening = rows[..header_at]
        .iter()
        .map(|r| r.iter().filter(|c| !c.is_empty()).cloned().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");

    // Rows to findings; a lone heading cell starts a category (or an aspect).
    let mut parsed: Vec<Row> = Vec::new();
    let mut lone_category: Option<String> = None;
    let mut lone_aspect: Option<String> = None;
    let mut category_fill: Option<String> = None;
    let mut aspect_fill: Option<String> = None;
    for (i, cells) in rows.iter().enumerate().skip(header_at + 1) {
        let number = row_number(i);
        let filled: Vec<(usize, &String)> = cells.iter().enumerate().filter(|(_, c)| !c.is_empty()).collect();
        if filled.is_empty() {
            continue;
        }
        if filled.len() == 1 && filled[0].1.parse::<f64>().is_err() && !merged.contains(&(i, filled[0].0)) {
            let text = filled[0].1;
            let unnumbered_text = super::text::unnumbered(text).1;
            // A heading written across the row (merged cells keep their text in the first): in
            // a problem column only when numbered as a category (一、, （一）), as `1.…` there is
            // a problem.
            let column = field_of.get(&filled[0].0);
            let category_numbered = super::text::heading_level(text).is_some_and(|l| l <= 2);
            let looks_like_heading = text.chars().count() <= 60
                && !text.contains('。')
                && (category_numbered || column.is_none_or(|f| matches!(f, SheetField::Seq | SheetField::Category)));
            if looks_like_heading && !unnumbered_text.is_empty() {
                // `（一）…` under a category is an aspect; `一、…` or an unnumbered title a category.
                let bracketed = text.trim_start().starts_with(['(', '（']);
                if bracketed && lone_category.is_some() {
                    lone_aspect = Some(unnumbered_text.trim_end_matches('。').to_owned());
                } else {
                    lone_category = Some(unnumbered_text.trim_end_matches('。').to_owned());
                    lone_aspect = None;
                }
                continue;
            }
        }
        // A row whose problem cell continues a merged one (one problem over several rows of
        // measures) adds to the problem above; its other merged cells repeat what it had.
        let problem_columns: Vec<usize> = field_of
            .iter()
            .filter(|(_, f)| matches!(f, SheetField::Title | SheetField::Description))
            .map(|(c, _)| *c)
            .collect();
        let continues_merge = problem_columns.iter().any(|c| merged.contains(&(i, *c)));
        let mut row = Row { number, ..Row::default() };
        for (col, value) in &filled {
            let Some(field) = field_of.get(col) else { continue };
            if continues_merge && merged.contains(&(i, *col)) {
                continue;
            }
            let value = value.as_str();
            match field {
                SheetField::Seq => row.seq = Some(value.to_owned()),
                SheetField::Category => row.category = Some(super::text::unnumbered(value).1.to_owned()),
                SheetField::Aspect => row.aspect = Some(super::text::unnumbered(value).1.to_owned()),
                SheetField::Title => join(&mut row.title, value),
                SheetField::Description => join(&mut row.description, value),
                SheetField::Measures => join(&mut row.measures, value),
                SheetField::Outcome => join(&mut row.outcome, value),
                SheetField::Status => row.status = Some(value.to_owned()),
                SheetField::DueOn => row.due = Some(value.to_owned()),
                SheetField::ResponsibleUnit | SheetField::ResponsiblePerson | SheetField::Note => {
                    row.labelled.push((*field, value.to_owned()))
                }
            }
        }
        if row.title.is_none() && row.description.is_none() {
            let Some(previous) = parsed.last_mut() else {
                let named: Vec<String> = readings
                    .iter()
                    .filter(|r| matches!(r.field, Some(SheetField::Title | SheetField::Description)))
                    .map(|r| format!("{} 「{}」", r.column, r.header))
                    .collect();
                warnings.push(ImportWarning {
                    line: number,
                    message: format!(
                        "row {number} has cells but no problem text (column {}) and no problem above it: it is \
                         left out",
                        named.join(" or ")
                    ),
                });
                continue;
            };
            if !continues_merge {
                warnings.push(ImportWarning {
                    line: number,
                    message: format!(
                        "row {number} has no problem text: its cells were read as more of the problem in row {}",
                        previous.number
                    ),
                });
            }
            for (slot, more) in [
                (&mut previous.measures, row.measures),
                (&mut previous.outcome, row.outcome),
                (&mut previous.description, row.description),
            ] {
                if let Some(more) = more {
                    join(slot, &more);
                }
            }
            previous.labelled.extend(row.labelled);
            previous.status = previous.status.take().or(row.status);
            previous.due = previous.due.take().or(row.due);
            continue;
        }
        // Merged cells leave the rows below the first empty: the category runs on.
        if row.category.is_some() {
            category_fill = row.category.clone();
            aspect_fill = None;
        } else if field_of.values().any(|f| *f == SheetField::Category) {
            row.category = category_fill.clone();
        }
        if row.aspect.is_some() {
            aspect_fill = row.aspect.clone();
        } else if field_of.values().any(|f| *f == SheetField::Aspect) {
            row.aspect = aspect_fill.clone();
        }
        if row.category.is_none() {
            row.category = lone_category.clone();
            if row.aspect.is_none() {
                row.aspect = lone_aspect.clone();
            }
        }
        parsed.push(row);
    }
    if parsed.is_empty() {
        return Err(refuse(format!("the sheet has no rows of problems below its header (row {header_number})")));
    }

    // Numbers: the 序号 column, when every row has a unique one.
    let seqs: Vec<Option<i32>> = parsed
        .iter()
        .map(|r| {
            r.seq.as_deref().and_then(|s| {
                let s = s.trim().trim_end_matches(['.', '、', '．']);
                // `1.0`: a number Excel or a script wrote as a float.
                let float = s.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.abs() < 1e9).map(|f| f as i32);
                s.parse::<i32>()
                    .ok()
                    .or(float)
                    .or_else(|| super::text::unnumbered(&format!("{s}、")).0.map(|n| n as i32))
            })
        })
        .collect();
    let unique: HashSet<i32> = seqs.iter().flatten().copied().collect();
    let keep_seq = fields.contains(&SheetField::Seq)
        && unique.len() == parsed.len()
        && unique.iter().all(|n| (1..=crate::validate::MAX_ORDINAL).contains(n));
    if fields.contains(&SheetField::Seq) && !keep_seq {
        warnings.push(ImportWarning {
            line: header_number,
            message: "the 序号 column is missing on some rows or repeats a number: findings are numbered 1, 2, 3 … in row order"
                .into(),
        });
    }

    let mut sections: Vec<ImportSection> = Vec::new();
    let mut loose: Vec<ImportFinding> = Vec::new();
    for (row, seq) in parsed.into_iter().zip(seqs) {
        let number = row.number;
        let (title, mut description) = match (row.title, row.description) {
            (Some(t), d) => {
                let (title, long) = super::text::title_and_description(super::text::unnumbered_problem(&t));
                let d = match (long, d) {
                    (Some(l), Some(d)) => Some(format!("{l}\n{d}")),
                    (l, d) => d.or(l),
                };
                (title, d)
            }
            (None, Some(d)) => {
                let text = super::text::unnumbered_problem(&d);
                let (title, long) = super::text::title_and_description(text);
                (title, long)
            }
            (None, None) => continue,
        };
        let mut closed = false;
        let mut long_term = false;
        let mut blocked_reason = None;
        let mut outcome = row.outcome;
        let mut labelled = row.labelled;
        if let Some(s) = row.status.as_deref().filter(|s| is_blocked_word(s)) {
            // 暂缓 (waiting on an outside body): blocked, the cell its reason.
            blocked_reason = Some(s.to_owned());
        } else if let Some(s) = row.status.as_deref() {
            match status_word(s) {
                Some((c, l)) => {
                    closed = c;
                    long_term = l;
                }
                None => {
                    warnings.push(ImportWarning {
                        line: number,
                        message: format!(
                            "row {number}: status 「{s}」 is not one of 已完成/已整改/是 (closed), 未完成/正在整改/否 \
                             (open) or 长期坚持 (open, long-term): read as open, and kept in the description"
                        ),
                    });
                    labelled.push((SheetField::Status, s.to_owned()));
                }
            }
        } else if let Some((c, l)) = outcome.as_deref().and_then(status_word) {
            // A 整改情况 column holding only 已完成 / 未完成 is the status.
            closed = c;
            long_term = l;
            outcome = None;
        }
        let mut due_on = None;
        if let Some(d) = row.due.as_deref() {
            if let Some((_, l)) = status_word(d).filter(|(_, l)| *l) {
                long_term = l;
            } else if let Some(date) = due_date(d) {
                due_on = Some(date);
            } else {
                if !["立行立改", "立即整改", "即知即改", "立查立改"].contains(&d.trim()) {
                    warnings.push(ImportWarning {
                        line: number,
                        message: format!(
                            "row {number}: due date 「{d}」 is not a date (2024-12-31, 2024年12月31日, 2024年12月底, \
                             an Excel date): kept in the description"
                        ),
                    });
                }
                labelled.push((SheetField::DueOn, d.to_owned()));
            }
        }
        for (field, value) in labelled {
            join(&mut description, &format!("{}：{value}", field.label()));
        }
        let finding = ImportFinding {
            seq: if keep_seq { seq } else { None },
            title,
            description,
            measures: row.measures,
            outcome,
            due_on,
            responsible_unit_id: None,
            responsible_leader_id: None,
            status: if blocked_reason.is_some() {
                Some(FindingStatus::Blocked)
            } else {
                closed.then_some(FindingStatus::Closed)
            },
            long_term: long_term.then_some(true),
            blocked_reason,
        };
        match row.category {
            None => loose.push(finding),
            Some(category) => {
                let at = match sections.iter().position(|s| s.title == category) {
                    Some(at) => at,
                    None => {
                        sections.push(ImportSection { title: category, children: Vec::new(), findings: Vec::new() });
                        sections.len() - 1
                    }
                };
                let section = &mut sections[at];
                match row.aspect {
                    None => section.findings.push(finding),
                    Some(aspect) => {
                        let child = match section.children.iter().position(|s| s.title == aspect) {
                            Some(c) => c,
                            None => {
                                section.children.push(ImportSection {
                                    title: aspect,
                                    children: Vec::new(),
                                    findings: Vec::new(),
                                });
                                section.children.len() - 1
                            }
                        };
                        section.children[child].findings.push(finding);
                    }
                }
            }
        }
    }
    if !loose.is_empty() && !sections.is_empty() {
        warnings.push(ImportWarning {
            line: header_number,
            message: format!("{} row(s) name no category: they are imported under no section", loose.len()),
        });
    }
    Ok(SheetLedger {
        opening,
        sections,
        findings: loose,
        reading: SheetReading { sheet: name, header_row: header_number, columns: readings },
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Table {
        Table {
            rows: rows.iter().map(|r| r.iter().map(|c| (*c).to_owned()).collect()).collect(),
            numbers: (1..=rows.len()).collect(),
            ..Table::default()
        }
    }

    #[test]
    fn column_letters_round_trip() {
        for i in [0, 1, 25, 26, 27, 51, 52, 701, 702] {
            assert_eq!(column_of_letters(&letters(i)), Some(i), "{i} → {}", letters(i));
        }
        assert_eq!(letters(26), "AA");
    }

    #[test]
    fn headers_are_recognised_in_any_order_and_with_notes() {
        assert_eq!(field_named("整改时限（年月日）"), Some(SheetField::DueOn));
        assert_eq!(field_named(" 问 题 "), Some(SheetField::Title));
        assert_eq!(field_named("问题描述"), Some(SheetField::Description));
        assert_eq!(field_named("巡察反馈问题具体表现"), Some(SheetField::Description));
        assert_eq!(field_named("整改措施*"), Some(SheetField::Measures));
        assert_eq!(field_named("联系电话"), None);
    }

    #[test]
    fn due_dates_in_the_forms_ledgers_use() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(due_date("2024-12-31"), d(2024, 12, 31));
        assert_eq!(due_date("2024/6/30"), d(2024, 6, 30));
        assert_eq!(due_date("2024年6月30日前"), d(2024, 6, 30));
        assert_eq!(due_date("2024年12月底"), d(2024, 12, 31));
        assert_eq!(due_date("2024.2"), d(2024, 2, 29));
        assert_eq!(due_date("45657"), d(2024, 12, 31));
        assert_eq!(due_date("2024年6月30日之前"), d(2024, 6, 30));
        assert_eq!(due_date("2024年6月以前"), d(2024, 6, 30));
        assert_eq!(due_date("2024-12-31 00:00:00"), d(2024, 12, 31));
        assert_eq!(due_date("20241231"), d(2024, 12, 31));
        assert_eq!(due_date("立行立改"), None);
        assert_eq!(due_date("12"), None);
    }

    #[test]
    fn rows_become_findings_grouped_by_category_filled_down() {
        let t = table(&[
            &["县委第一巡察组反馈问题整改台账"],
            &["序号", "问题类别", "问题描述", "整改措施", "责任单位", "整改时限", "是否整改完成", "联系电话"],
            &["1", "党的建设", "三会一课记录不全", "规范记录", "办公室", "2024-06-30", "已完成", "123"],
            &["2", "", "党员发展程序不规范", "", "", "长期坚持", "", ""],
            &["3", "作风建设", "督查检查过多", "精简检查", "", "立行立改", "正在整改", ""],
        ]);
        let s = ledger(t, &Options::default()).unwrap();
        assert_eq!(s.opening, "县委第一巡察组反馈问题整改台账");
        assert_eq!(s.reading.header_row, 2);
        assert_eq!(s.sections.len(), 2);
        assert_eq!(s.sections[0].findings.len(), 2);
        let f = &s.sections[0].findings[0];
        assert_eq!(f.seq, Some(1));
        assert_eq!(f.status, Some(FindingStatus::Closed));
        assert_eq!(f.due_on, NaiveDate::from_ymd_opt(2024, 6, 30));
        assert_eq!(f.description.as_deref(), Some("责任单位：办公室"));
        assert_eq!(s.sections[0].findings[1].long_term, Some(true));
        assert_eq!(s.sections[1].findings[0].description.as_deref(), Some("整改时限：立行立改"));
        assert!(
            s.warnings.iter().any(|w| w.line == 2 && w.message.contains("联系电话")),
            "{:?}",
            s.warnings.iter().map(|w| &w.message).collect::<Vec<_>>()
        );
    }

    #[test]
    fn columns_can_be_remapped_and_ignored() {
        let t = table(&[&["序号", "问题", "内容", "整改措施"], &["1", "短标题", "详细情况", "措施"]]);
        let options = Options {
            columns: Options::parse_columns("C=description,整改措施=ignore").unwrap(),
            ..Options::default()
        };
        let s = ledger(t, &options).unwrap();
        let f = &s.findings[0];
        assert_eq!(
            (f.title.as_str(), f.description.as_deref(), f.measures.as_deref()),
            ("短标题", Some("详细情况"), None)
        );
        assert!(Options::parse_columns("C=nonsense").is_err());
    }

    #[test]
    fn lone_heading_rows_start_categories() {
        let t = table(&[
            &["序号", "存在问题", "整改措施"],
            &["一、政治建设方面", "", ""],
            &["1", "学习不深入", "加强学习"],
            &["二、作风建设方面", "", ""],
            &["2", "检查过多", "精简"],
        ]);
        let s = ledger(t, &Options::default()).unwrap();
        let titles: Vec<&str> = s.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["政治建设方面", "作风建设方面"]);
    }

    #[test]
    fn a_sheet_without_a_header_is_refused_with_what_was_expected() {
        let t = table(&[&["a", "b"], &["c", "d"]]);
        let e = ledger(t, &Options::default()).err().unwrap().to_string();
        assert!(e.contains("header row"), "{e}");
    }

    #[test]
    fn a_numbered_problem_alone_on_its_row_stays_a_problem() {
        let t = table(&[&["类别", "问题", "整改措施"], &["党建", "1.学习不深入", "加强学习"], &["", "2.记录不全", ""]]);
        let s = ledger(t, &Options::default()).unwrap();
        let titles: Vec<&str> = s.sections[0].findings.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(titles, ["学习不深入", "记录不全"]);
    }

    #[test]
    fn counts_are_no_header_and_chinese_numbers_in_words_stay() {
        assert!(!has_header(&[vec!["问题类别".into(), "问题数".into(), "已整改".into()]]));
        let t = table(&[
            &["序号", "问题", "整改措施"],
            &["1.0", "一、二季度理论学习次数不足", "加强"],
            &["2.0", "记录不全", "规范"],
        ]);
        let s = ledger(t, &Options::default()).unwrap();
        assert_eq!(s.findings[0].title, "一、二季度理论学习次数不足");
        assert_eq!((s.findings[0].seq, s.findings[1].seq), (Some(1), Some(2)));
    }

    #[test]
    fn rows_without_problem_text_add_to_the_problem_above() {
        let mut t = table(&[
            &["序号", "问题描述", "整改措施", "是否整改完成"],
            &["1", "学习不深入", "制定计划", "已完成"],
            &["", "学习不深入", "每月学习", "已完成"],
            &["", "", "考核", ""],
        ]);
        // Row 3's problem and status cells continue merged ones.
        t.merged.extend([(2, 1), (2, 3)]);
        let s = ledger(t, &Options::default()).unwrap();
        assert_eq!(s.findings.len(), 1);
        assert_eq!(s.findings[0].measures.as_deref(), Some("制定计划\n每月学习\n考核"));
        assert_eq!(s.findings[0].status, Some(FindingStatus::Closed));
        // The merge is silent; the empty cell of row 4 is a warning naming it.
        assert_eq!(s.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), [4]);
    }

    #[test]
    fn csv_rows_are_numbered_by_their_lines_and_open_quotes_are_warned_about() {
        let text = "\n\n序号,问题,整改措施\n1,\"学习\n不深入\",加强\n2,\"记录不全,规范\n3,台账不全,完善\n";
        let (t, warnings) = read_delimited(text, b',').unwrap();
        assert_eq!(t.numbers, [3, 4, 6]);
        assert_eq!(warnings.len(), 1, "{:?}", warnings.iter().map(|w| &w.message).collect::<Vec<_>>());
        assert_eq!(warnings[0].line, 6);
        assert_eq!(ledger(t, &Options::default()).unwrap().reading.header_row, 3);
    }

    #[test]
    fn workbooks_read_only_cells_that_hold_something_with_merges_and_visible_sheets_first() {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let old = book.add_worksheet().set_name("旧版").unwrap();
        old.write_string(0, 0, "序号").unwrap();
        old.write_string(0, 1, "问题").unwrap();
        old.write_string(1, 0, "1").unwrap();
        old.write_string(1, 1, "旧问题").unwrap();
        old.set_hidden(true);
        for name in ["台账", "作风"] {
            let sheet = book.add_worksheet().set_name(name).unwrap();
            // Excel keeps the active sheet visible: the hidden one must not be it.
            sheet.set_active(name == "台账");
            for (c, h) in ["序号", "问题类别", "问题", "整改时限"].iter().enumerate() {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            sheet.merge_range(1, 1, 2, 1, "党的建设", &Format::new()).unwrap();
            for (r, (n, p)) in [("1", "学习不深入"), ("2", "记录不全")].iter().enumerate() {
                sheet.write_string(r as u32 + 1, 0, *n).unwrap();
                sheet.write_string(r as u32 + 1, 2, *p).unwrap();
            }
            sheet.write_number(1, 3, 45473.0).unwrap();
            // A stray mark in the last cell Excel has: the sheet's range is 16,384 × 1,048,576.
            sheet.write_string(1_048_575, 16_383, " x").unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        let (table, warnings) = read_xlsx(&bytes, None).unwrap();
        assert_eq!(table.name.as_deref(), Some("台账"));
        let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains("「作风」")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("beyond column")), "{messages:?}");
        let s = ledger(table, &Options::default()).unwrap();
        assert_eq!(s.sections.len(), 1);
        assert_eq!(s.sections[0].findings.len(), 2);
        assert_eq!(s.sections[0].findings[0].due_on, NaiveDate::from_ymd_opt(2024, 6, 30));
        let (hidden, _) = read_xlsx(&bytes, Some("旧版")).unwrap();
        assert_eq!(hidden.rows[1][1], "旧问题");
    }

    use proptest::prelude::*;

    /// Text no reading changes: it starts with no number and is no status word or date.
    fn cell_text() -> impl Strategy<Value = String> {
        "[学习制度落实责任会议记录审批资金项目][学习制度落实责任会议记录审批资金项目A-Za-z0-9，,\"；\n ]{0,20}[。资]"
    }

    /// A generated finding: title, measures, outcome, due date, closed.
    type Row = (String, Option<String>, Option<String>, Option<NaiveDate>, bool);

    fn ledger_rows() -> impl Strategy<Value = Vec<(String, Vec<Row>)>> {
        let date = (2020i32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let row = (
            cell_text(),
            prop::option::of(cell_text()),
            prop::option::of(cell_text()),
            prop::option::of(date),
            any::<bool>(),
        );
        prop::collection::vec((cell_text(), prop::collection::vec(row, 1..5)), 1..4)
    }

    proptest! {
        /// Generated ledgers written as a sheet — columns in any order under any of their names,
        /// dates in any written form, CSV or TSV, a title row or none — read back as themselves.
        #[test]
        fn sheets_in_any_column_order_and_naming_read_back(
            generated in ledger_rows(),
            order in Just((0..7usize).collect::<Vec<_>>()).prop_shuffle(),
            names in prop::collection::vec(0usize..16, 7),
            date_form in 0usize..4,
            tab in any::<bool>(),
            title_row in any::<bool>(),
        ) {
            // Columns: seq, category, title, measures, outcome, due, status.
            let fields = [SheetField::Seq, SheetField::Category, SheetField::Title, SheetField::Measures, SheetField::Outcome, SheetField::DueOn, SheetField::Status];
            let header: Vec<String> = fields
                .iter()
                .zip(&names)
                .map(|(f, &i)| {
                    let list = NAMES.iter().find(|(g, _)| g == f).map(|(_, n)| *n).unwrap();
                    list[i % list.len()].to_owned()
                })
                .collect();
            // A name chosen for one field must not also name another (序 is in 序号 and 问题序号).
            prop_assume!(header.iter().zip(&fields).all(|(h, f)| field_named(h) == Some(*f)));
            let mut rows: Vec<Vec<String>> = Vec::new();
            if title_row {
                rows.push(vec!["县委巡察组反馈问题整改台账".to_owned()]);
            }
            rows.push(order.iter().map(|&c| header[c].clone()).collect());
            let mut seq = 0;
            for (c, (category, findings)) in generated.iter().enumerate() {
                for (title, measures, outcome, due, closed) in findings {
                    seq += 1;
                    let due = due.map(|d| match date_form {
                        0 => d.format("%Y-%m-%d").to_string(),
                        1 => d.format("%Y/%-m/%-d").to_string(),
                        2 => d.format("%Y年%-m月%-d日").to_string(),
                        _ => (d - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days().to_string(),
                    });
                    let cells = [
                        seq.to_string(),
                        format!("{category}{c}"),
                        title.clone(),
                        measures.clone().unwrap_or_default(),
                        outcome.clone().unwrap_or_default(),
                        due.unwrap_or_default(),
                        if *closed { "已完成" } else { "未完成" }.to_owned(),
                    ];
                    rows.push(order.iter().map(|&i| cells[i].clone()).collect());
                }
            }
            let mut w = csv::WriterBuilder::new().delimiter(if tab { b'\t' } else { b',' }).flexible(true).from_writer(Vec::new());
            for r in &rows {
                w.write_record(r).unwrap();
            }
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            let (table, _) = read_delimited(&text, if tab { b'\t' } else { b',' }).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let read = ledger(table, &Options::default()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert!(read.findings.is_empty());
            prop_assert_eq!(read.sections.len(), generated.len(), "{}", text);
            let mut seq = 0;
            for ((section, (category, findings)), c) in read.sections.iter().zip(&generated).zip(0..) {
                prop_assert_eq!(&section.title, &format!("{category}{c}").trim().to_owned());
                prop_assert_eq!(section.findings.len(), findings.len());
                for (got, (title, measures, outcome, due, closed)) in section.findings.iter().zip(findings) {
                    seq += 1;
                    let trimmed = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
                    prop_assert_eq!(got.seq, Some(seq));
                    prop_assert_eq!(&got.title, title.trim());
                    prop_assert_eq!(&got.measures, &trimmed(measures));
                    prop_assert_eq!(&got.outcome, &trimmed(outcome));
                    prop_assert_eq!(got.due_on, *due);
                    prop_assert_eq!(got.status == Some(FindingStatus::Closed), *closed);
                }
            }
        }
    }
}
