//! Conditional GET and HEAD (contract §9.3), once for every route: `HEAD` runs as `GET`
//! (actix-http sends a HEAD response's headers, Content-Length included, without its body),
//! and a `GET` whose response carries an `ETag` that `If-None-Match` names answers 304.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;

/// The most header bytes (names and values) a request may carry. actix-http itself answers 431
/// with an empty body, from inside its HTTP/1 parser where no middleware sees it, once a request
/// head passes 128 KiB (a constant there); below that, this limit answers first, as problem+json.
pub const HEADER_LIMIT: usize = 32 * 1024;

/// Refuses requests whose header fields exceed [`HEADER_LIMIT`] (431 problem+json).
pub async fn header_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let size: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if size > HEADER_LIMIT {
        use actix_web::ResponseError;
        let res = crate::error::AppError::HeadersTooLarge { limit: HEADER_LIMIT }.error_response();
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// HEAD as GET, and 304 for a current `If-None-Match`.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let if_none_match = match req.method() {
        &Method::GET => req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned),
        _ => None,
    };
    let res = next.call(req).await?;
    let etag = res.headers().get(header::ETAG).and_then(|v| v.to_str().ok());
    let fresh = match (&if_none_match, etag) {
        (Some(tags), Some(etag)) if res.status() == StatusCode::OK => matches(tags, etag),
        _ => false,
    };
    if !fresh {
        return Ok(res.map_into_boxed_body());
    }
    Ok(res.map_body(|head, _| {
        head.status = StatusCode::NOT_MODIFIED;
        head.headers.remove(header::CONTENT_TYPE);
        head.headers.remove(header::CONTENT_LENGTH);
        BoxBody::new(actix_web::body::None::new())
    }))
}

/// `If-None-Match` uses the weak comparison: `W/"3"` matches `"3"`, and `*` matches any.
fn matches(if_none_match: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let etag = opaque(etag);
    if_none_match.split(',').map(str::trim).any(|tag| tag == "*" || opaque(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(matches("\"3\"", "\"3\""));
        assert!(matches("W/\"3\"", "\"3\""));
        assert!(matches("\"1\", \"3\"", "\"3\""));
        assert!(matches("*", "\"3\""));
        assert!(!matches("\"4\"", "\"3\""));
        assert!(!matches("3", "\"3\""));
    }
}
