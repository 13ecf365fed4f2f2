//! A JSON body extractor that answers problem+json: 400 for malformed JSON,
//! 413 over the size limit, 415 for another media type (or none, or a charset other than UTF-8), and 422 naming the
//! field for unknown, missing, read-only or ill-typed fields.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};
use crate::state::AppState;

/// Fields the service derives; a body that sets them is told so.
const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "status",
    "closed_at",
    "overdue",
    "warning_level",
    "reopen_count",
    "version",
    "created_at",
    "updated_at",
    "published_at",
    "blocked_reason",
    "blocked_until",
    "outcome",
    "long_term",
    "claimed_at",
    "completed_at",
    "assignee_id",
    "inspection_id",
    "seq",
    "issued_by",
    "issued_at",
    "acknowledged_by",
    "acknowledged_at",
];

/// A parsed JSON body, with the raw bytes kept for idempotency fingerprints.
pub struct Json<T> {
    pub data: T,
    pub raw: web::Bytes,
}

/// Overrides the default body limit for a scope (imports take 10 MiB).
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move { read(&req, payload).await })
    }
}

/// A JSON body whose fields are all optional, so that the body itself may be left out: no
/// body at all, or `null`, reads as `T::default()` (`curl -X POST` of an action with optional
/// fields). Declare it in the spec as `request_body = Option<T>`.
pub struct OptionalJson<T>(pub Json<T>);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let raw = read_bytes(&req, payload, true).await?;
            let data = if raw.iter().all(|b| b.is_ascii_whitespace()) {
                T::default()
            } else {
                parse::<Option<T>>(&raw)?.unwrap_or_default()
            };
            Ok(OptionalJson(Json { data, raw }))
        })
    }
}

/// Reads and parses a JSON body; for handlers that must do something first (a rate limit).
pub async fn read<T: DeserializeOwned>(req: &HttpRequest, payload: Payload) -> Result<Json<T>, AppError> {
    let raw = read_bytes(req, payload, false).await?;
    let data = parse(&raw)?;
    Ok(Json { data, raw })
}

/// The body's bytes: 415 unless JSON, 413 over the limit. With `may_be_absent`, a request
/// without a body (and so without a Content-Type) reads as empty.
async fn read_bytes(req: &HttpRequest, mut payload: Payload, may_be_absent: bool) -> Result<web::Bytes, AppError> {
    crate::auth::gate::passed(req).await?;
    let limit = req
        .app_data::<BodyLimit>()
        .map(|l| l.0)
        .or_else(|| req.app_data::<web::Data<AppState>>().map(|s| s.config.body_limit))
        .unwrap_or(1024 * 1024);
    let typed = media_type(req)?;
    let declared_length = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(crate::http::lifecycle::body_error)?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    let absent = may_be_absent && body.is_empty();
    if !typed && !absent {
        return Err(unsupported());
    }
    Ok(body.freeze())
}

fn unsupported() -> AppError {
    AppError::UnsupportedMediaType(
        "the body must be JSON: Content-Type application/json (or another +json type), in UTF-8".into(),
    )
}

/// `Ok(true)` for a JSON media type (`application/json` or `application/*+json`, with no
/// charset or UTF-8), `Ok(false)` when there is no Content-Type, 415 for anything else.
fn media_type(req: &HttpRequest) -> Result<bool, AppError> {
    let Some(value) = req.headers().get(actix_web::http::header::CONTENT_TYPE) else {
        return Ok(false);
    };
    let value = value.to_str().map_err(|_| unsupported())?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    let utf8 = parts.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            let charset = value.trim().trim_matches('"');
            charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    });
    if json && utf8 {
        Ok(true)
    } else {
        Err(unsupported())
    }
}

/// Parses a body, classifying serde errors into 400 (syntax) and 422 (data).
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(AppError::BadRequest("the request body is empty; a JSON object is expected".into()));
    }
    if let Some(field) = nul_character(raw) {
        return Err(AppError::invalid(field, "must not contain NUL characters"));
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        classify(&path, &inner)
    })?;
    de.end().map_err(|e| AppError::BadRequest(format!("malformed JSON: {}", strip_position(&e.to_string()))))?;
    Ok(value)
}

/// The field holding a NUL character (`\u0000`), which no text column can store (PostgreSQL
/// refuses it; SQLite would cut the text short). JSON can only carry one escaped, so bodies
/// without the escape are not looked at twice.
fn nul_character(raw: &[u8]) -> Option<String> {
    use serde_json::Value;

    fn find(value: &Value, path: String) -> Option<String> {
        match value {
            Value::String(s) if s.contains('\0') => Some(path),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| find(v, format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                let at = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if k.contains('\0') {
                    Some(at)
                } else {
                    find(v, at)
                }
            }),
            _ => None,
        }
    }
    if !raw.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    // Malformed JSON is left to the parse that follows (400).
    let value: Value = serde_json::from_slice(raw).ok()?;
    find(&value, String::new()).map(|p| if p.is_empty() { "body".to_owned() } else { p })
}

fn classify(path: &str, e: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    let message = strip_position(&e.to_string());
    match e.classify() {
        Category::Data => {
            let prefix = if path == "." || path.is_empty() { String::new() } else { format!("{path}.") };
            if let Some(name) = backticked(&message, "unknown field `") {
                // serde_path_to_error's path already ends at the unknown field.
                let prefix = prefix.strip_suffix(&format!("{name}.")).unwrap_or(&prefix).to_owned();
                let why = if READ_ONLY_FIELDS.contains(&name.as_str()) {
                    "is read-only: the service sets it"
                } else {
                    "is not a field of this request"
                };
                AppError::Validation(vec![FieldError::new(format!("{prefix}{name}"), why)])
            } else if let Some(name) = backticked(&message, "missing field `") {
                AppError::Validation(vec![FieldError::new(format!("{prefix}{name}"), "is required")])
            } else {
                let field = if path == "." || path.is_empty() { "body".to_owned() } else { path.to_owned() };
                AppError::Validation(vec![FieldError::new(field, message)])
            }
        }
        Category::Syntax | Category::Eof | Category::Io => AppError::BadRequest(format!("malformed JSON: {message}")),
    }
}

fn backticked(message: &str, marker: &str) -> Option<String> {
    let rest = message.split_once(marker)?.1;
    Some(rest.split('`').next()?.to_owned())
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        count: Option<i64>,
    }

    fn field_of(e: AppError) -> String {
        match e {
            AppError::Validation(v) => v[0].field.clone(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_400() {
        assert!(matches!(parse::<Body>(b"{\"title\": "), Err(AppError::BadRequest(_))));
        assert!(matches!(parse::<Body>(b""), Err(AppError::BadRequest(_))));
        assert!(matches!(parse::<Body>(b"{\"title\":\"a\"} x"), Err(AppError::BadRequest(_))));
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Optional {
        reply: Option<String>,
    }

    #[test]
    fn an_optional_body_may_be_null_but_not_wrong() {
        assert!(parse::<Option<Optional>>(b"null").unwrap().is_none());
        assert_eq!(parse::<Option<Optional>>(br#"{"reply":"x"}"#).unwrap().unwrap().reply.as_deref(), Some("x"));
        assert_eq!(field_of(parse::<Option<Optional>>(br#"{"status":"x"}"#).unwrap_err()), "status");
        assert_eq!(field_of(parse::<Option<Optional>>(br#"{"reply":1}"#).unwrap_err()), "reply");
    }

    #[test]
    fn data_errors_name_the_field() {
        assert_eq!(field_of(parse::<Body>(br#"{"title":"a","status":"closed"}"#).unwrap_err()), "status");
        assert_eq!(field_of(parse::<Body>(br#"{"count":1}"#).unwrap_err()), "title");
        assert_eq!(field_of(parse::<Body>(br#"{"title":"a","count":"x"}"#).unwrap_err()), "count");
    }
}
