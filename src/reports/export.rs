//! `GET /inspections/{id}/export?format=csv|xlsx`: the ledger (台账) as a
//! spreadsheet. Rows are read in keyset batches, so memory stays flat however
//! large the ledger: CSV is streamed batch by batch; XLSX is written in
//! rust_xlsxwriter's constant-memory mode and then sent.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use futures_util::stream;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook};

use super::api::{ExportFormat, ExportQuery};
use super::queries;
use crate::auth::AuthUser;
use crate::db::{Db, DbConn};
use crate::error::AppError;
use crate::findings::model::FindingStatus;
use crate::findings::queries::FindingRow;
use crate::http::query::Query;
use crate::inspections::sections::queries as sections;
use crate::inspections::service::find_in_scope;
use crate::state::AppState;

/// The 11 columns of the ledger, in order.
pub const COLUMNS: [&str; 11] =
    ["序号", "类别", "方面", "问题", "整改措施", "责任单位", "责任领导", "责任人", "整改时限", "状态", "整改情况"];
const WIDTHS: [f64; 11] = [6.0, 24.0, 30.0, 50.0, 50.0, 20.0, 12.0, 16.0, 12.0, 12.0, 60.0];
/// Rows per read: each batch is one blocking-pool hop and four statements (the rows, then the
/// names of their units, leaders and assignees).
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
fn section_paths(conn: &mut DbConn, inspection_id: i64) -> Result<HashMap<i64, (String, String)>, AppError> {
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

/// A ledger row: its 11 cells, and the deadline as a date for XLSX.
type LedgerRow = (Vec<String>, Option<chrono::NaiveDate>);

/// One batch of ledger rows as the 11 cells each.
fn rows_of(
    conn: &mut DbConn,
    batch: &[FindingRow],
    paths: &HashMap<i64, (String, String)>,
) -> Result<Vec<LedgerRow>, AppError> {
    let ids: Vec<i64> = batch.iter().map(|f| f.id).collect();
    let units: Vec<i64> = batch.iter().filter_map(|f| f.responsible_unit_id).collect();
    let leaders: Vec<i64> = batch.iter().filter_map(|f| f.responsible_leader_id).collect();
    let (units, leaders, assignees) =
        (queries::unit_names(conn, &units)?, queries::user_names(conn, &leaders)?, queries::assignees_of(conn, &ids)?);
    let mut out = Vec::with_capacity(batch.len());
    for f in batch {
        let (category, aspect) = f.section_id.and_then(|s| paths.get(&s).cloned()).unwrap_or_default();
        let status = f.status;
        out.push((
            vec![
                f.seq.to_string(),
                inert(category),
                inert(aspect),
                inert(f.title.clone()),
                inert(f.measures.clone().unwrap_or_default()),
                inert(f.responsible_unit_id.and_then(|u| units.get(&u).cloned()).unwrap_or_default()),
                inert(f.responsible_leader_id.and_then(|u| leaders.get(&u).cloned()).unwrap_or_default()),
                inert(assignees.get(&f.id).map(|n| n.join("、")).unwrap_or_default()),
                f.due_on.map(|d| d.to_string()).unwrap_or_default(),
                status_label(status, f.long_term).to_owned(),
                inert(f.outcome.clone().or_else(|| f.blocked_reason.clone()).unwrap_or_default()),
            ],
            f.due_on,
        ));
    }
    Ok(out)
}

/// Text a spreadsheet would run as a formula (a leading `=`, `+`, `-`, `@`, tab or carriage
/// return) gets a leading `'`, so it shows as the text it is (contract §9.4, OWASP's advice on
/// CSV injection).
pub fn inert(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

fn csv_bytes(rows: &[Vec<String>]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    for r in rows {
        w.write_record(r).map_err(|e| AppError::internal(format!("csv: {e}")))?;
    }
    w.into_inner().map_err(|e| AppError::internal(format!("csv: {e}")))
}

/// A batch of the ledger being read: its rows and the last (seq, id) it holds.
type Batch = Result<(Vec<LedgerRow>, Option<(i32, i64)>), AppError>;

struct CsvState {
    db: Db,
    inspection_id: i64,
    paths: Arc<HashMap<i64, (String, String)>>,
    /// The next batch, already being read on the blocking pool while the one before is
    /// written out (`None`: the ledger is done).
    next: Option<actix_web::rt::task::JoinHandle<Batch>>,
    header_sent: bool,
}

/// Starts reading the batch after `after`: it runs while the caller writes the previous one.
fn fetch(
    db: &Db,
    inspection_id: i64,
    after: (i32, i64),
    paths: &Arc<HashMap<i64, (String, String)>>,
) -> actix_web::rt::task::JoinHandle<Batch> {
    let (db, paths) = (db.clone(), Arc::clone(paths));
    actix_web::rt::spawn(async move {
        db.run(move |conn| {
            let batch = queries::ledger_batch(conn, inspection_id, after, BATCH)?;
            let last = batch.last().map(|f| (f.seq, f.id));
            let rows = rows_of(conn, &batch, &paths)?;
            Ok((rows, last))
        })
        .await
    })
}

/// The CSV ledger as a stream: the header, then each batch as it is read, the next batch read
/// while the current one is formatted and sent (a client that goes away drops the stream; a
/// batch already started finishes and is discarded).
fn csv_stream(state: CsvState) -> impl futures_util::Stream<Item = Result<web::Bytes, AppError>> {
    stream::unfold(state, |mut s| async move {
        if !s.header_sent {
            s.header_sent = true;
            s.next = Some(fetch(&s.db, s.inspection_id, (0, 0), &s.paths));
            let mut bytes = "\u{feff}".as_bytes().to_vec();
            let header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
            return Some((
                csv_bytes(&[header]).map(|h| {
                    bytes.extend(h);
                    web::Bytes::from(bytes)
                }),
                s,
            ));
        }
        let pending = s.next.take()?;
        let batch = pending.await.unwrap_or_else(|e| Err(AppError::internal(format!("export batch: {e}"))));
        match batch {
            Err(e) => Some((Err(e), s)),
            Ok((rows, last)) => {
                let last = last?;
                if rows.len() as i64 == BATCH {
                    s.next = Some(fetch(&s.db, s.inspection_id, last, &s.paths));
                }
                let cells: Vec<Vec<String>> = rows.into_iter().map(|(r, _)| r).collect();
                Some((csv_bytes(&cells).map(web::Bytes::from), s))
            }
        }
    })
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(format!("xlsx: {e}"))
}

/// Writes the whole ledger as a workbook: bold, frozen header; widths for Chinese text; dates as dates.
fn xlsx(conn: &mut DbConn, inspection_id: i64, paths: &HashMap<i64, (String, String)>) -> Result<Vec<u8>, AppError> {
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
    let (mut after, mut row) = ((0, 0), 1u32);
    loop {
        let batch = queries::ledger_batch(conn, inspection_id, after, BATCH)?;
        let Some(last) = batch.last().map(|f| (f.seq, f.id)) else { break };
        after = last;
        for (cells, due_on) in rows_of(conn, &batch, paths)? {
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                match (col, due_on) {
                    (0, _) => {
                        sheet.write_number(row, col, cell.parse::<f64>().unwrap_or_default()).map_err(xlsx_error)?;
                    }
                    (8, Some(d)) => {
                        use chrono::Datelike;
                        let d = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                            .map_err(xlsx_error)?;
                        sheet.write_datetime_with_format(row, col, &d, &date).map_err(xlsx_error)?;
                    }
                    _ if cell.is_empty() => {}
                    _ => {
                        sheet.write_string(row, col, cell).map_err(xlsx_error)?;
                    }
                }
            }
            row += 1;
        }
        if (batch.len() as i64) < BATCH {
            break;
        }
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
    let body = csv_stream(CsvState {
        db: state.db.clone(),
        inspection_id: id,
        paths: Arc::new(paths),
        next: None,
        header_sent: false,
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"ledger-{id}.csv\"")))
        .streaming(body))
}
