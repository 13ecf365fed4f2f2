//! `GET /inspections/{id}/export?format=csv|xlsx`: the ledger (台账) as a
//! spreadsheet. Rows are read in keyset batches, so memory stays flat however
//! large the ledger: CSV is streamed batch by batch; XLSX is written in
//! rust_xlsxwriter's constant-memory mode and then sent.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use futures_util::{stream, StreamExt};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook};

use super::api::{ExportFormat, ExportQuery};
use super::queries::{self, LedgerFinding};
use crate::auth::AuthUser;
use crate::db::{Db, DbConn};
use crate::error::AppError;
use crate::findings::model::FindingStatus;
use crate::http::query::Query;
use crate::inspections::sections::queries as sections;
use crate::inspections::service::find_in_scope;
use crate::state::AppState;

/// The 11 columns of the ledger, in order.
pub const COLUMNS: [&str; 11] =
    ["序号", "类别", "方面", "问题", "整改措施", "责任单位", "责任领导", "责任人", "整改时限", "状态", "整改情况"];
const WIDTHS: [f64; 11] = [6.0, 24.0, 30.0, 50.0, 50.0, 20.0, 12.0, 16.0, 12.0, 12.0, 60.0];
/// Rows per read: each batch is one blocking-pool hop and two statements (the rows with their
/// units' and leaders' names, then their assignees).
const BATCH: i64 = 2_000;

/// The status as the ledger writes it.
pub fn status_label(status: FindingStatus, long_term: bool) -> &'static str {
    match (status, long_term) {
        (FindingStatus::Open, _) => "未启动",
        (FindingStatus::InProgress, _) => "整改中",
        (FindingStatus::PendingClosure, _) => "待销号",
        (FindingStatus::Blocked, _) => "暂缓(需外部协调)",
        (FindingStatus::Closed, true) => "已完成(长期坚持)",
        (FindingStatus::Closed, false) => "已完成",
    }
}

/// Category and aspect titles of every section (a finding under a level-3 section reports its ancestors).
fn section_paths(conn: &mut DbConn, inspection_id: i64) -> Result<Paths, AppError> {
    let rows = sections::of_inspection(conn, inspection_id)?;
    let by_id: HashMap<i64, &sections::SectionRow> = rows.iter().map(|s| (s.id, s)).collect();
    let mut out = HashMap::new();
    for s in &rows {
        let (mut category, mut aspect) = (String::new(), String::new());
        let mut cursor = Some(s);
        while let Some(c) = cursor {
            match c.level {
                1 => category = c.title.clone(),
                2 => aspect = c.title.clone(),
                _ => {}
            }
            cursor = c.parent_id.and_then(|p| by_id.get(&p).copied());
        }
        out.insert(s.id, (category, aspect));
    }
    Ok(out)
}

/// Category and aspect titles by section id.
type Paths = HashMap<i64, (String, String)>;

/// A batch of the ledger as read: its findings in order, and their assignees' names.
struct LedgerBatch {
    findings: Vec<LedgerFinding>,
    assignees: HashMap<i64, Vec<String>>,
}

impl LedgerBatch {
    /// The `BATCH` findings after `after` (a seq): two statements (the rows with their units'
    /// and leaders' names, then their assignees).
    fn read(conn: &mut DbConn, inspection_id: i64, after: i32) -> Result<Self, AppError> {
        let findings = queries::ledger_batch(conn, inspection_id, after, BATCH)?;
        let ids: Vec<i64> = findings.iter().map(|f| f.id).collect();
        let assignees = queries::assignees_of(conn, &ids)?;
        Ok(Self { findings, assignees })
    }

    /// The last seq it holds, if the ledger may go on after it (the batch was full).
    fn next_after(&self) -> Option<i32> {
        self.findings.last().filter(|_| self.findings.len() as i64 == BATCH).map(|f| f.seq)
    }

    /// Each finding with its 11 cells, borrowed where they need no change.
    fn rows<'a>(&'a self, paths: &'a Paths) -> impl Iterator<Item = (&'a LedgerFinding, [Cow<'a, str>; 11])> {
        self.findings.iter().map(move |f| {
            let (category, aspect) = match f.section_id.and_then(|s| paths.get(&s)) {
                Some((category, aspect)) => (category.as_str(), aspect.as_str()),
                None => ("", ""),
            };
            let assignees = match self.assignees.get(&f.id) {
                Some(names) => Cow::Owned(inert_owned(names.join("、"))),
                None => Cow::Borrowed(""),
            };
            let cells = [
                Cow::Owned(f.seq.to_string()),
                inert(category),
                inert(aspect),
                inert(&f.title),
                inert(f.measures.as_deref().unwrap_or_default()),
                inert(f.unit.as_deref().unwrap_or_default()),
                inert(f.leader.as_deref().unwrap_or_default()),
                assignees,
                f.due_on.map_or(Cow::Borrowed(""), |d| Cow::Owned(d.to_string())),
                Cow::Borrowed(status_label(f.status, f.long_term)),
                inert(f.outcome.as_deref().or(f.blocked_reason.as_deref()).unwrap_or_default()),
            ];
            (f, cells)
        })
    }

    /// The batch as CSV records.
    fn csv(&self, paths: &Paths) -> Result<Vec<u8>, AppError> {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(self.findings.len() * 160));
        for (_, cells) in self.rows(paths) {
            w.write_record(cells.iter().map(|c| c.as_bytes())).map_err(csv_error)?;
        }
        w.into_inner().map_err(|e| csv_error(e.into_error().into()))
    }
}

/// Text a spreadsheet would run as a formula (a leading `=`, `+`, `-`, `@`, tab or carriage
/// return) gets a leading `'`, so it shows as the text it is (contract §9.4, OWASP's advice on
/// CSV injection).
pub fn inert(text: &str) -> Cow<'_, str> {
    if formula_like(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// [`inert`] for text already owned.
fn inert_owned(text: String) -> String {
    if formula_like(&text) {
        format!("'{text}")
    } else {
        text
    }
}

fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::internal(format!("csv: {e}"))
}

/// The CSV file's start: a byte-order mark (Excel reads the file as UTF-8 then) and the header.
fn csv_header() -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new().from_writer("\u{feff}".as_bytes().to_vec());
    w.write_record(COLUMNS).map_err(csv_error)?;
    w.into_inner().map_err(|e| csv_error(e.into_error().into()))
}

/// A batch of the ledger read and written as CSV, and the seq to read on after (`None`: the
/// ledger ends with it).
type CsvBatch = Result<(web::Bytes, Option<i32>), AppError>;

struct CsvState {
    db: Db,
    inspection_id: i64,
    paths: Arc<Paths>,
    /// The next batch, already being read and formatted on the blocking pool while the one
    /// before is sent (`None`: the ledger is done).
    next: Option<actix_web::rt::task::JoinHandle<CsvBatch>>,
}

/// Starts reading and formatting the batch after `after`: it runs while the caller sends the
/// previous one.
fn fetch(db: &Db, inspection_id: i64, after: i32, paths: &Arc<Paths>) -> actix_web::rt::task::JoinHandle<CsvBatch> {
    let (db, paths) = (db.clone(), Arc::clone(paths));
    actix_web::rt::spawn(async move {
        db.run(move |conn| {
            let batch = LedgerBatch::read(conn, inspection_id, after)?;
            Ok((web::Bytes::from(batch.csv(&paths)?), batch.next_after()))
        })
        .await
    })
}

/// The CSV ledger as a stream: the header, then each batch as it is read, the next batch read
/// and formatted while the current one is sent (a client that goes away drops the stream; a
/// batch already started finishes and is discarded).
fn csv_stream(state: CsvState) -> impl futures_util::Stream<Item = Result<web::Bytes, AppError>> {
    let header = csv_header().map(web::Bytes::from);
    stream::once(async { header }).chain(stream::unfold(state, |mut s| async move {
        let pending = s.next.take()?;
        let batch = pending.await.unwrap_or_else(|e| Err(AppError::internal(format!("export batch: {e}"))));
        match batch {
            Err(e) => Some((Err(e), s)),
            Ok((bytes, after)) => {
                if let Some(after) = after {
                    s.next = Some(fetch(&s.db, s.inspection_id, after, &s.paths));
                }
                Some((Ok(bytes), s))
            }
        }
    }))
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(format!("xlsx: {e}"))
}

/// Writes the whole ledger as a workbook: bold, frozen header; widths for Chinese text; dates as dates.
fn xlsx(conn: &mut DbConn, inspection_id: i64, paths: &Paths) -> Result<Vec<u8>, AppError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(xlsx_error)?;
    sheet.set_name("整改台账").map_err(xlsx_error)?;
    let bold = Format::new().set_bold().set_align(FormatAlign::Center);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (col, width) in WIDTHS.iter().enumerate() {
        sheet.set_column_width(col as u16, *width).map_err(xlsx_error)?;
    }
    for (col, title) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold).map_err(xlsx_error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    let (mut after, mut row) = (Some(0), 1u32);
    while let Some(seq) = after {
        let batch = LedgerBatch::read(conn, inspection_id, seq)?;
        for (finding, cells) in batch.rows(paths) {
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                match (col, finding.due_on) {
                    (0, _) => {
                        sheet.write_number(row, col, f64::from(finding.seq)).map_err(xlsx_error)?;
                    }
                    (8, Some(d)) => {
                        use chrono::Datelike;
                        let d = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                            .map_err(xlsx_error)?;
                        sheet.write_datetime_with_format(row, col, &d, &date).map_err(xlsx_error)?;
                    }
                    _ if cell.is_empty() => {}
                    _ => {
                        sheet.write_string(row, col, cell.as_ref()).map_err(xlsx_error)?;
                    }
                }
            }
            row += 1;
        }
        after = batch.next_after();
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// The ledger (台账) as a CSV or XLSX file.
///
/// One row per finding in `seq` order, with the columns 序号, 类别, 方面, 问题, 整改措施, 责任单位,
/// 责任领导, 责任人 (the assignees' names), 整改时限, 状态 (未启动, 整改中, 待销号, 暂缓(需外部协调),
/// 已完成, 已完成(长期坚持)) and 整改情况 (the outcome, else the block reason). `csv` (default) is
/// UTF-8 with a BOM so Excel opens Chinese correctly, streamed; `xlsx` has a bold frozen header
/// and dates as dates. Sent as an attachment named `ledger-<id>.csv` or `ledger-<id>.xlsx`.
/// - Who: any role, on an inspection in their org scope.
/// - 400: an unknown `format`, or a parameter that is unknown or repeated.
/// - 404: the inspection is unknown or out of scope.
#[utoipa::path(
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The inspection"),
        ExportQuery,
    ),
    responses(
        (status = 200, description = "The ledger: 序号, 类别, 方面, 问题, 整改措施, 责任单位, 责任领导, 责任人, 整改时限, 状态, 整改情况", content(
            (String = "text/csv"),
            (super::api::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ), headers(
            ("Content-Disposition" = String, description = "`attachment; filename=\"ledger-<id>.csv\"` or `….xlsx`"),
        )),
    ),
)]
#[get("/inspections/{id}/export")]
pub async fn export_ledger(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    q: Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let xlsx_wanted = q.0.format == ExportFormat::Xlsx;
    let id = id.into_inner();
    let paths = state
        .db
        .run(move |conn| {
            find_in_scope(conn, &user, id)?;
            section_paths(conn, id)
        })
        .await?;
    if xlsx_wanted {
        let bytes = state.db.run(move |conn| xlsx(conn, id, &paths)).await?;
        return Ok(HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"ledger-{id}.xlsx\"")))
            .body(bytes));
    }
    let paths = Arc::new(paths);
    let first = fetch(&state.db, id, 0, &paths);
    let body = csv_stream(CsvState { db: state.db.clone(), inspection_id: id, paths, next: Some(first) });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"ledger-{id}.csv\"")))
        .streaming(body))
}
