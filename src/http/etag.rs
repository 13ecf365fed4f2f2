//! Optimistic concurrency: `ETag: "<version>"` out, `If-Match` in.

use std::future::{ready, Ready};

use actix_web::http::header;
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::db::versioned::Precondition;
use crate::error::AppError;

/// The parsed `If-Match` header: the caller's precondition on the version it changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfMatch(pub Precondition);

impl std::ops::Deref for IfMatch {
    type Target = Precondition;

    fn deref(&self) -> &Precondition {
        &self.0
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req).map(IfMatch))
    }
}

fn parse(req: &HttpRequest) -> Result<Precondition, AppError> {
    let values: Vec<_> = req.headers().get_all(header::IF_MATCH).collect();
    if values.is_empty() {
        return Ok(Precondition::Absent);
    }
    let mut tags = Vec::new();
    for value in values {
        let text = value.to_str().map_err(|_| AppError::BadRequest("If-Match is not valid ASCII".into()))?;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "*" {
                return Ok(Precondition::Any);
            }
            if part.starts_with("W/") {
                // If-Match uses strong comparison: a weak tag never matches.
                tags.push(None);
                continue;
            }
            let Some(inner) = part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
                return Err(AppError::BadRequest(format!(
                    "If-Match must hold quoted entity tags like \"3\", got `{part}`"
                )));
            };
            tags.push(inner.parse::<i32>().ok());
        }
    }
    Ok(Precondition::Versions(tags))
}

/// The ETag value of a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A 200 response carrying `ETag`.
pub fn ok_with_etag<T: serde::Serialize>(version: i32, body: &T) -> HttpResponse {
    with_etag(HttpResponse::Ok(), version).json(body)
}

pub fn with_etag(mut builder: HttpResponseBuilder, version: i32) -> HttpResponseBuilder {
    builder.insert_header((header::ETAG, etag(version)));
    builder
}

/// `If-Match` as PATCH declares it: required (428 without it).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchRequired {
    /// The ETag last read
    #[param(rename = "If-Match")]
    pub if_match: String,
}

/// `If-Match` as workflow actions declare it: honoured when given.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchOptional {
    /// Checked when given
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}
