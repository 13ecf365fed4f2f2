//! CORS (contract §9.3) with actix-cors, plus the finish this service wants on top of it:
//! an allowed preflight answers 204, a refused one 403 problem+json, and a response to an
//! origin that is not listed carries no `Access-Control-*` header at all.

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::error::AppError;

/// The methods the API uses.
pub const METHODS: [&str; 5] = ["GET", "HEAD", "POST", "PATCH", "DELETE"];
/// The request headers a browser may send.
pub const ALLOWED_HEADERS: [&str; 6] =
    ["authorization", "content-type", "if-match", "if-none-match", "idempotency-key", "x-request-id"];
/// The response headers a browser's script may read.
pub const EXPOSED_HEADERS: [&str; 4] = ["etag", "location", "retry-after", "x-request-id"];

/// The CORS middleware for `origins` (none: every cross-origin request is refused).
pub fn middleware(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(METHODS)
        .allowed_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(3600)
        // Another origin's simple request is served as if it had no Origin (a server-side
        // client may send one); the browser, seeing no Access-Control-Allow-Origin, keeps the
        // response from the script.
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Wraps [`middleware`] (from the outside): 204 for allowed preflights, problem+json for
/// refused ones, no stray CORS headers for unlisted origins.
pub async fn finish(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.call(req).await?;
    let allowed = res.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    if preflight {
        if allowed && res.status().is_success() {
            return Ok(res.map_body(|head, _| {
                head.status = StatusCode::NO_CONTENT;
                BoxBody::new(())
            }));
        }
        let vary = res.headers().get(header::VARY).cloned();
        let (req, _) = res.into_parts();
        let mut refused = AppError::Forbidden(
            "this cross-origin request is not allowed: the origin is not listed in RECTIFY_CORS_ORIGINS, \
             or the method or a header is not one the API accepts"
                .into(),
        )
        .error_response();
        if let Some(vary) = vary {
            refused.headers_mut().insert(header::VARY, vary);
        }
        return Ok(ServiceResponse::new(req, refused));
    }
    if !allowed {
        let stray: Vec<_> =
            res.headers().keys().filter(|name| name.as_str().starts_with("access-control-")).cloned().collect();
        for name in stray {
            res.headers_mut().remove(name);
        }
    }
    Ok(res.map_into_boxed_body())
}
