//! The report as an HTTP answer, in the format asked for.

use actix_web::http::header;
use actix_web::HttpResponse;

use super::model::{ReportFormat, ReportModel};

/// What an HTML report may load and do: nothing but its own inline styles. It holds text
/// that inspected units and the public wrote, so even if escaping ever failed, no script
/// would run, no form would post and no page could frame it.
pub const HTML_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A rendered report.
pub fn rendered(model: &ReportModel, format: ReportFormat) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type(format.content_type()).insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if matches!(format, ReportFormat::Html) {
        res.insert_header((header::CONTENT_SECURITY_POLICY, HTML_POLICY));
    }
    res.body(model.render(format))
}
