//! The report as an HTTP answer, in the format asked for.

use actix_web::HttpResponse;

use super::model::{ReportFormat, ReportModel};

/// A rendered report.
pub fn rendered(model: &ReportModel, format: ReportFormat) -> HttpResponse {
    HttpResponse::Ok().content_type(format.content_type()).body(model.render(format))
}
