//! Optimistic concurrency: `ETag: "<version>"` out, `If-Match` in.

use std::future::{ready, Ready};

use actix_web::http::header;
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::error::AppError;

/// The parsed `If-Match` header, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Absent,
    Any,
    /// Strong entity tags holding version numbers; anything else never matches.
    Tags(Vec<Option<i32>>),
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let values: Vec<_> = req.headers().get_all(header::IF_MATCH).collect();
        if values.is_empty() {
            return ready(Ok(IfMatch::Absent));
        }
        let mut tags = Vec::new();
        for value in values {
            let Ok(text) = value.to_str() else {
                return ready(Err(AppError::BadRequest("If-Match is not valid ASCII".into())));
            };
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if part == "*" {
                    return ready(Ok(IfMatch::Any));
                }
                if part.starts_with("W/") {
                    // If-Match uses strong comparison: a weak tag never matches.
                    tags.push(None);
                    continue;
                }
                let Some(inner) = part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
                    return ready(Err(AppError::BadRequest(format!(
                        "If-Match must hold quoted entity tags like \"3\", got `{part}`"
                    ))));
                };
                tags.push(inner.parse::<i32>().ok());
            }
        }
        ready(Ok(IfMatch::Tags(tags)))
    }
}

impl IfMatch {
    /// For PATCH: the header must be present (428) and match (412).
    pub fn require(&self, current: i32) -> Result<(), AppError> {
        match self {
            IfMatch::Absent => Err(AppError::PreconditionRequired),
            other => other.check(current),
        }
    }

    /// For workflow actions: honoured when given.
    pub fn check(&self, current: i32) -> Result<(), AppError> {
        match self {
            IfMatch::Absent | IfMatch::Any => Ok(()),
            IfMatch::Tags(tags) if tags.contains(&Some(current)) => Ok(()),
            IfMatch::Tags(_) => Err(AppError::PreconditionFailed { current }),
        }
    }

    pub fn is_present(&self) -> bool {
        !matches!(self, IfMatch::Absent)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_and_require() {
        assert!(matches!(IfMatch::Absent.require(1), Err(AppError::PreconditionRequired)));
        assert!(IfMatch::Absent.check(1).is_ok());
        assert!(IfMatch::Any.require(7).is_ok());
        assert!(IfMatch::Tags(vec![Some(2)]).require(2).is_ok());
        assert!(matches!(IfMatch::Tags(vec![Some(1)]).require(2), Err(AppError::PreconditionFailed { current: 2 })));
        assert!(IfMatch::Tags(vec![None]).check(2).is_err());
    }
}
