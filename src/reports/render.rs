//! The report as an HTTP answer: its format from the query, its body in that format.

use actix_web::HttpResponse;

use super::model::{ReportFormat, ReportModel};
use crate::error::AppError;
use crate::http::QueryPairs;

/// Parses `format` (markdown default).
pub fn report_format(q: &QueryPairs) -> Result<ReportFormat, AppError> {
    q.only(&["format"])?;
    match q.one("format")? {
        None => Ok(ReportFormat::Markdown),
        Some(raw) => ReportFormat::parse(raw).ok_or_else(|| {
            AppError::BadRequest(format!("query parameter `format` must be markdown, html or text, got `{raw}`"))
        }),
    }
}

/// A rendered report.
pub fn rendered(model: &ReportModel, format: ReportFormat) -> HttpResponse {
    HttpResponse::Ok().content_type(format.content_type()).body(model.render(format))
}
