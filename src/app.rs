//! Builds the actix application (shared by `main`, the tests and the spec
//! writer) and runs the server.

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Spec;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::deadlines::Scanner;
use crate::error::{responses, AppError, FieldError, Problem};
use crate::state::AppState;
use crate::webhooks::dispatcher::Dispatcher;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rectify",
        description = "Tracks the findings of an inspection (巡察) through to their rectification (整改): \
the ledger, assignments, step-by-step sign-off (销号), look-back reviews and publication.\n\n\
Conventions: JSON bodies with snake_case fields; dates `YYYY-MM-DD`; timestamps RFC 3339 in UTC; \
lists return `{items, next_cursor}` (keyset cursors, `limit` 1–200, default 50); single resources carry \
`version` and an `ETag: \"<version>\"` (a `GET` with a current `If-None-Match` answers 304; `HEAD` answers every `GET` \
route without the body), and `PATCH` requires `If-Match`; creating `POST`s accept \
`Idempotency-Key`; every error is `application/problem+json` (RFC 9457).",
        license(name = "Apache-2.0", url = "https://www.apache.org/licenses/LICENSE-2.0"),
        contact(name = "Rectify maintainers")
    ),
    servers((url = "/", description = "This service (the spec is served by the service it describes)")),
    modifiers(&BearerAuth),
    components(
        schemas(Problem, FieldError, crate::audit::api::EventType),
        responses(
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
            responses::PreconditionRequired,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::Unprocessable,
            responses::TooManyRequests,
            responses::Unavailable,
        )
    ),
    tags(
        (name = "auth", description = "Tokens and the caller"),
        (name = "org-units", description = "The org tree (admin)"),
        (name = "users", description = "Users (admin): people; service accounts are not listed here"),
        (name = "service-accounts", description = "Service accounts of other systems (admin): client credentials for `POST /api/v1/auth/token` with `grant_type: client_credentials`; roles and org scope as for a user (never `admin`); deleting one ends its tokens at once"),
        (name = "inspections", description = "Inspections, their sections and the ledger (整改台账)"),
        (name = "findings", description = "Findings (问题): the ledger rows, blocking and look-back reviews (回头看)"),
        (name = "assignments", description = "Assignments (任务到人) and half-month progress reports"),
        (name = "closures", description = "Closure requests (销号) and their step-by-step sign-off"),
        (name = "extensions", description = "Deadline extension requests (申请延期)"),
        (name = "reports", description = "Statistics, the half-month summary, export, the report, conclusion and publication"),
        (name = "notices", description = "Supervision notices (督办单) to a finding's responsible unit: \
`reminder` 蓝 (blue, the deadline is near), `urge` 黄 (yellow, behind schedule), `warning` 红 (red, overdue); \
the unit acknowledges (签收) each once"),
        (name = "feedback", description = "Staff triage of public feedback"),
        (name = "public", description = "Anonymous: published reports and feedback intake"),
        (name = "audit", description = "The audit trail and change feed"),
        (name = "webhooks", description = "Events pushed to other systems (Standard Webhooks). A webhook receives the events its unit sees in \
`/api/v1/events` whose type matches its `event_types`. Each delivery is `POST <url>` with `Content-Type: application/json`, the body \
`{\"type\": <EventType>, \"timestamp\": <RFC 3339>, \"data\": {\"event_id\", \"entity_type\", \"entity_id\", \"inspection_id\", \"finding_id\", \"org_unit_id\", \"actor_id\", …the event's data}}` \
and the headers `webhook-id` (`msg_<delivery id>`, the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` \
(`v1,<base64 HMAC-SHA256(key, \"<webhook-id>.<webhook-timestamp>.<body>\")>`, key = the base64-decoded part of the secret after `whsec_`; \
two space-separated signatures for 24 h after a rotation). A 2xx within 10 s is success; otherwise retried after 5 s, 5 min, 30 min, 2 h, \
5 h, 10 h and 10 h, then failed; after a day of failures the webhook is disabled (`webhook.disabled`)."),
        (name = "operations", description = "Probes"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Spec) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Every operation under `/api/v1` needs a bearer token, except the one that issues it;
/// declared here once instead of on each handler. The others declare that they need none.
struct BearerRequired;

impl Modify for BearerRequired {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::security::SecurityRequirement;
        for (path, item) in openapi.paths.paths.iter_mut() {
            let needs_token = path.starts_with("/api/v1/") && path != "/api/v1/auth/token";
            let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for op in ops.into_iter().flatten() {
                // The rest (the token endpoint, /public/v1, probes, metrics) say so: `security: []`.
                op.security = Some(if needs_token {
                    vec![SecurityRequirement::new("bearer", Vec::<String>::new())]
                } else {
                    Vec::new()
                });
            }
        }
    }
}

/// Response bodies always carry every field (absent values are `null`):
/// mark all their properties required, so generated clients get exact types.
/// Request bodies (`New*`, `*Patch`, `*Request`) keep their optional fields.
struct ResponsesAreComplete;

impl Modify for ResponsesAreComplete {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::schema::{ArrayItems, Schema};
        use utoipa::openapi::RefOr;

        fn complete(schema: &mut Schema) {
            match schema {
                Schema::Object(object) => {
                    object.required = object.properties.keys().cloned().collect();
                    for property in object.properties.values_mut() {
                        if let RefOr::T(inner) = property {
                            complete(inner);
                        }
                    }
                }
                Schema::Array(array) => {
                    if let ArrayItems::RefOrSchema(items) = &mut array.items {
                        if let RefOr::T(inner) = items.as_mut() {
                            complete(inner);
                        }
                    }
                }
                _ => {}
            }
        }

        // Bodies clients send (their optional fields stay optional), and the problem
        // document (whose `errors` appears on validation problems only).
        const NOT_COMPLETE: &[&str] = &[
            "BlockFinding",
            "CompleteAssignment",
            "Evidence",
            "ImportFinding",
            "ImportSection",
            "LedgerImport",
            "Problem",
        ];
        let Some(components) = openapi.components.as_mut() else { return };
        for (name, schema) in components.schemas.iter_mut() {
            let request = name.starts_with("New") || name.ends_with("Patch") || name == "TokenRequest";
            if let (false, false, RefOr::T(schema)) = (request, NOT_COMPLETE.contains(&name.as_str()), schema) {
                complete(schema);
            }
        }
    }
}

/// Problems every operation of a kind can answer, so handlers list only their own: bodies
/// can be malformed (400), too large (413), not JSON (415) or invalid (422); path ids can be
/// malformed (400) or unknown or out of scope (404); authenticated operations can be refused
/// a token (401); and any database call can time out (503).
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{Ref, RefOr};

        fn add(op: &mut Operation, status: &str, response: &str) {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(response)));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for op in ops.into_iter().flatten() {
                if op.request_body.is_some() {
                    add(op, "400", "BadRequest");
                    add(op, "413", "PayloadTooLarge");
                    add(op, "415", "UnsupportedMediaType");
                    add(op, "422", "Unprocessable");
                }
                let path_params = op.parameters.iter().flatten().any(|p| matches!(p.parameter_in, ParameterIn::Path));
                if path_params {
                    add(op, "400", "BadRequest");
                    add(op, "404", "NotFound");
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add(op, "401", "Unauthorized");
                }
                if path != "/healthz" {
                    add(op, "503", "Unavailable");
                }
            }
        }
    }
}

/// Single-resource GETs (those answered with an `ETag`) honour `If-None-Match` with a 304
/// (`http::conditional`, one middleware for every route): declared here once.
struct ConditionalGet;

impl Modify for ConditionalGet {
    fn modify(&self, openapi: &mut Spec) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{Object, RefOr, Required, ResponseBuilder, Type};

        for item in openapi.paths.paths.values_mut() {
            let Some(op) = item.get.as_mut() else { continue };
            let tagged = match op.responses.responses.get("200") {
                Some(RefOr::T(ok)) => ok.headers.contains_key("ETag"),
                _ => false,
            };
            if !tagged {
                continue;
            }
            op.parameters.get_or_insert_with(Vec::new).push(
                ParameterBuilder::new()
                    .name("If-None-Match")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some("The ETag last read: 304 without a body while it is current"))
                    .schema(Some(Object::with_type(Type::String)))
                    .build(),
            );
            op.responses.responses.insert(
                "304".to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description("Not modified: the ETag in If-None-Match is current")
                        .header("ETag", HeaderBuilder::new().schema(Object::with_type(Type::String)).build())
                        .build(),
                ),
            );
        }
    }
}

/// Registers every route; the spec is collected from these `service` calls.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/v1")
            .service(crate::auth::routes::issue_token)
            .service(crate::auth::routes::me)
            .configure(crate::orgs::routes::configure)
            .configure(crate::users::routes::configure)
            .configure(crate::service_accounts::configure)
            .configure(crate::imports::routes::configure)
            .configure(crate::inspections::routes::configure)
            .configure(crate::findings::routes::configure)
            // The history is the audit trail of one finding; served here, in the findings part of the spec.
            .service(crate::audit::routes::finding_history)
            .configure(crate::findings::actions::configure)
            .configure(crate::assignments::routes::configure)
            .configure(crate::approvals::configure)
            .configure(crate::notices::routes::configure)
            .configure(crate::reports::routes::configure)
            .configure(crate::feedback::routes::configure)
            .service(crate::audit::routes::list_events)
            .configure(crate::webhooks::configure),
    )
    .service(scope("/public/v1").configure(crate::public::routes::configure))
    .service(crate::health::healthz)
    .service(crate::health::readyz)
    .service(crate::metrics::metrics);
}

/// The OpenAPI document, exactly as served at `/api-docs/openapi.json`.
pub fn spec() -> Spec {
    let (_, mut api) = App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts();
    // The schemas collected from the handlers exist only now.
    BearerRequired.modify(&mut api);
    ResponsesAreComplete.modify(&mut api);
    CommonProblems.modify(&mut api);
    ConditionalGet.modify(&mut api);
    crate::audit::spec::TypedEvents.modify(&mut api);
    api
}

/// Path templates and their methods, to tell 405 from 404.
struct RouteTable(Vec<(Vec<String>, Vec<String>)>);

impl RouteTable {
    fn from_spec(spec: &Spec) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.trim_matches('/').split('/').map(str::to_owned).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_owned())
                .collect();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut allowed: Vec<String> = Vec::new();
        for (segments, methods) in &self.0 {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if matches {
                allowed.extend(methods.iter().cloned());
                // HEAD answers wherever GET does (`http::conditional`).
                if methods.iter().any(|m| m == "GET") {
                    allowed.push("HEAD".to_owned());
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> HttpResponse {
    use actix_web::ResponseError;
    match table.allowed(req.path()) {
        Some(mut methods) => {
            methods.sort();
            methods.dedup();
            let allow = methods.join(", ");
            let mut res = AppError::MethodNotAllowed(format!("use {allow} on this path")).error_response();
            if let Ok(v) = header::HeaderValue::from_str(&allow) {
                res.headers_mut().insert(header::ALLOW, v);
            }
            res
        }
        None => AppError::NoRoute.error_response(),
    }
}

/// A path segment that does not parse: every path parameter is an integer id, so name the one
/// that is not (serde's message would name a Rust type).
fn path_problem(req: &HttpRequest) -> AppError {
    let bad = req.match_info().iter().find(|(_, value)| value.parse::<i64>().is_err()).map(|(name, _)| name.to_owned());
    match bad {
        Some(name) => AppError::BadRequest(format!("path parameter `{name}` must be an integer")),
        None => AppError::BadRequest("a path parameter is out of range".into()),
    }
}

/// The running server, its deadline scanner and its webhook dispatcher: await it as the server (it ends when the
/// server stops); the background tasks stop when it is dropped, so they never outlive the server.
pub struct Serving {
    server: Server,
    _scanner: Scanner,
    _dispatcher: Dispatcher,
    /// The metrics server on `RECTIFY_METRICS_BIND`, if configured.
    _metrics: Option<crate::metrics::Apart>,
}

impl Serving {
    /// How many deadline scans have finished; the first runs at start.
    pub fn deadline_scans(&self) -> tokio::sync::watch::Receiver<u64> {
        self._scanner.scans()
    }

    /// Stops, pauses or resumes the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }
}

impl Future for Serving {
    type Output = std::io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.server).poll(cx)
    }
}

/// Binds nothing itself: serves on `listener` until stopped (SIGTERM/SIGINT
/// stop it gracefully: in-flight requests finish), and runs the deadline scan at
/// start and then periodically (contract §9.2). Call it inside a tokio runtime
/// (actix's system, or a test's).
pub fn serve(state: AppState, listener: TcpListener) -> std::io::Result<Serving> {
    let (db, config) = (state.db.clone(), state.config.clone());
    let state = web::Data::new(state);
    let metrics_state = state.clone();
    let spec = spec();
    let table = web::Data::new(RouteTable::from_spec(&spec));
    let spec = Arc::new(spec);
    let workers = state.config.workers;
    let server = HttpServer::new(move || {
        let path_config = web::PathConfig::default().error_handler(|_, req| path_problem(req).into());
        let (app, _) = App::new()
            .app_data(state.clone())
            .app_data(table.clone())
            .app_data(path_config)
            .wrap(from_fn(crate::metrics::track))
            // Innermost first: conditional GET and HEAD see the handlers' responses (the 404/405
            // fallback's too), CORS sees everything the app answers, the request span outermost.
            .wrap(from_fn(crate::http::conditional::middleware))
            .wrap(from_fn(crate::http::conditional::header_limit))
            .wrap(crate::http::cors::middleware(&state.config.cors_origins))
            .wrap(from_fn(crate::http::cors::finish))
            .wrap(from_fn(crate::telemetry::request_span))
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(routes)
            .split_for_parts();
        app.service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", (*spec).clone()))
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
                }),
            )
            .default_service(web::to(fallback))
    })
    .workers(workers)
    .listen(listener)?
    .shutdown_timeout(30)
    .run();
    let metrics = match config.metrics_bind {
        Some(addr) => Some(crate::metrics::serve_apart(metrics_state, addr)?),
        None => None,
    };
    let dispatcher = Dispatcher::start(db.clone(), config.webhooks);
    Ok(Serving { server, _scanner: Scanner::start(db, config), _dispatcher: dispatcher, _metrics: metrics })
}
