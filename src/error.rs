//! `AppError` and its RFC 9457 `application/problem+json` rendering.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field (or query parameter) at fault, dotted for nested fields.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/invalid-transition`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Per-field messages (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every error the service answers with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the resource does not exist")]
    NotFound,
    #[error("no route for this path")]
    NoRoute,
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("cannot {action} while the {entity} is {current}")]
    InvalidTransition { entity: &'static str, current: String, action: String },
    #[error("the resource has changed since it was read (version {current} is current)")]
    PreconditionFailed { current: i32 },
    #[error("this request needs an If-Match header with the resource's ETag")]
    PreconditionRequired,
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client stopped sending its body (`http::lifecycle`): nothing was read, nothing written.
    #[error("the request body stopped arriving before it was complete; nothing was saved, send the request again")]
    RequestTimeout,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request's header fields exceed {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("{}", validation_detail(.0))]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// This instance is shutting down (`http::lifecycle`): another one (or this one, restarted) answers.
    #[error("the service is shutting down; retry, another instance will answer")]
    Stopping,
    /// The request went away (its client disconnected, or the server is stopping) while its write ran.
    #[error("the request was cancelled before it completed (its client went away, or the service is stopping); nothing was saved")]
    Cancelled,
    /// A write could not get its locks in time (lock or statement timeout, SQLite busy): retry.
    #[error("another change holds the data this request needs; retry shortly")]
    Busy(String),
    #[error("internal error")]
    Internal(String),
}

fn validation_detail(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{}: {}", one.field, one.message),
        _ => format!("{} fields are invalid", errors.len()),
    }
}

/// Every problem kind (`type` is `/problems/<slug>`), as the spec enumerates them.
pub const PROBLEM_TYPES: &[&str] = &[
    "bad-request",
    "unauthorized",
    "forbidden",
    "not-found",
    "method-not-allowed",
    "conflict",
    "invalid-transition",
    "precondition-failed",
    "precondition-required",
    "payload-too-large",
    "request-timeout",
    "unsupported-media-type",
    "headers-too-large",
    "validation",
    "too-many-requests",
    "unavailable",
    "busy",
    "internal",
];

impl AppError {
    /// An unexpected failure; `cause` goes to the log, never to the client.
    pub fn internal(cause: impl Into<String>) -> Self {
        Self::Internal(cause.into())
    }

    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("bad-request", "Bad request"),
            Self::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::NotFound | Self::NoRoute => ("not-found", "Not found"),
            Self::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::InvalidTransition { .. } => ("invalid-transition", "Invalid transition"),
            Self::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            Self::PreconditionRequired => ("precondition-required", "Precondition required"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            Self::RequestTimeout => ("request-timeout", "Request timeout"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::HeadersTooLarge { .. } => ("headers-too-large", "Request header fields too large"),
            Self::Validation(_) => ("validation", "Validation failed"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::Unavailable(_) | Self::Cancelled | Self::Stopping => ("unavailable", "Service unavailable"),
            Self::Busy(_) => ("busy", "Busy"),
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let detail = match self {
            Self::Unavailable(_) => "the service cannot reach its database".to_owned(),
            other => other.to_string(),
        };
        Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail,
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::InvalidTransition { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Cancelled | Self::Stopping | Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            Self::Unavailable(cause) => tracing::warn!(cause = %cause, "service unavailable"),
            Self::Busy(cause) => tracing::warn!(cause = %cause, "lock wait timed out"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::Busy(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::Unavailable(_) | Self::Cancelled => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            Self::Stopping => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            // The rest of the body was never read: the connection cannot carry another request.
            Self::RequestTimeout => {
                response.force_close();
            }
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("a resource with these values exists already".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::Conflict(
                "a resource this change refers to was changed or removed meanwhile; read it again".into(),
            ),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::Conflict("a concurrent change got there first; retry the request".into())
            }
            Error::DatabaseError(_, info) if is_lock_wait(info.message()) => Self::Busy(info.message().to_owned()),
            // The server went away (restart, failover, a dropped connection): nothing of this
            // request was committed, so it may be retried.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(format!("database connection lost: {}", info.message()))
            }
            other => Self::Internal(format!("database: {other}")),
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("json: {e}"))
    }
}

/// A database refusal that means "the locks were not had in time", on either backend:
/// PostgreSQL's lock_timeout and statement_timeout cancellations and deadlock victims,
/// SQLite's busy timeout.
fn is_lock_wait(message: &str) -> bool {
    const MARKS: [&str; 5] = [
        "canceling statement due to lock timeout",
        "canceling statement due to statement timeout",
        "deadlock detected",
        "database is locked",
        "database table is locked",
    ];
    MARKS.iter().any(|m| message.contains(m))
}

/// A unique violation from the database, for callers that map it to their own error.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

/// Reusable OpenAPI responses: the problem document under each status it is used for.
pub mod responses {
    use super::Problem;
    use utoipa::ToResponse;

    macro_rules! problem_response {
        ($name:ident, $description:literal) => {
            #[derive(ToResponse)]
            #[response(description = $description, content_type = "application/problem+json")]
            #[allow(dead_code)]
            pub struct $name(Problem);
        };
    }

    problem_response!(BadRequest, "Malformed JSON, query or path parameters, or a tampered cursor");
    problem_response!(Unauthorized, "No, invalid or expired token");
    problem_response!(Forbidden, "Authenticated, but the role may not do this");
    problem_response!(NotFound, "Unknown id, or outside the caller's org scope");
    problem_response!(Conflict, "Not allowed in the current state, or a duplicate");
    problem_response!(PreconditionFailed, "If-Match names a stale version");
    problem_response!(PreconditionRequired, "If-Match is missing");
    problem_response!(PayloadTooLarge, "The body is larger than allowed");
    problem_response!(
        RequestTimeout,
        "The body stopped arriving: no byte for the read timeout (`RECTIFY_REQUEST_READ_TIMEOUT_SECONDS`, \
         5 s by default). Nothing was saved; the connection is closed"
    );
    problem_response!(UnsupportedMediaType, "The body is not JSON");
    problem_response!(Unprocessable, "Validation failed; `errors` names the fields");
    problem_response!(
        ImportUnprocessable,
        "Validation failed; `errors` names the fields. A ledger of more findings than one import \
         may hold (`RECTIFY_IMPORT_MAX_FINDINGS`, 5,000 by default) is refused alone, before its \
         rows are checked, dry runs included: the one error is `findings`, naming the count and the limit"
    );
    problem_response!(TooManyRequests, "Rate limited; see Retry-After");
    problem_response!(
        Unavailable,
        "The database cannot be reached, or this instance is shutting down (`Connection: close`); retry after Retry-After"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_kind_is_declared() {
        let all = [
            AppError::BadRequest(String::new()),
            AppError::Unauthorized(String::new()),
            AppError::Forbidden(String::new()),
            AppError::NotFound,
            AppError::NoRoute,
            AppError::MethodNotAllowed(String::new()),
            AppError::Conflict(String::new()),
            AppError::InvalidTransition { entity: "finding", current: "closed".into(), action: "block".into() },
            AppError::PreconditionFailed { current: 1 },
            AppError::PreconditionRequired,
            AppError::PayloadTooLarge { limit: 1 },
            AppError::RequestTimeout,
            AppError::UnsupportedMediaType(String::new()),
            AppError::HeadersTooLarge { limit: 1 },
            AppError::Validation(Vec::new()),
            AppError::TooManyRequests { retry_after: 1 },
            AppError::Unavailable(String::new()),
            AppError::Cancelled,
            AppError::Stopping,
            AppError::Busy(String::new()),
            AppError::Internal(String::new()),
        ];
        let mut slugs: Vec<&str> = all.iter().map(|e| e.slug_and_title().0).collect();
        slugs.dedup();
        assert_eq!(slugs, PROBLEM_TYPES);
        for e in &all {
            let problem = e.problem();
            assert!((400..600).contains(&problem.status), "{problem:?}");
        }
    }
}
