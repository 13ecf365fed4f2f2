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
use utoipa::openapi::OpenApi as Spec;
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::deadlines::Scanner;
use crate::error::AppError;
pub use crate::spec::spec;
use crate::state::AppState;
use crate::webhooks::dispatcher::Dispatcher;

/// Where the OpenAPI document is served (and where the interactive docs read it).
pub const SPEC_PATH: &str = "/api-docs/openapi.json";

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
            .service(crate::audit::routes::verify_events)
            .configure(crate::webhooks::configure),
    )
    .service(scope("/public/v1").configure(crate::public::routes::configure))
    .service(crate::health::healthz)
    .service(crate::health::readyz)
    .service(crate::metrics::metrics);
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

    /// The methods of the templates that match `path`. A template without parameters wins
    /// over those with one: `/findings/bulk-update` is not `/findings/{id}`.
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let matching = |exact_only: bool| {
            let mut allowed: Vec<String> = Vec::new();
            for (segments, methods) in &self.0 {
                let matches = segments.len() == parts.len()
                    && segments
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| (!exact_only && s.starts_with('{') && !p.is_empty()) || s == p);
                if matches {
                    allowed.extend(methods.iter().cloned());
                    // HEAD answers wherever GET does (`http::conditional`).
                    if methods.iter().any(|m| m == "GET") {
                        allowed.push("HEAD".to_owned());
                    }
                }
            }
            (!allowed.is_empty()).then_some(allowed)
        };
        matching(true).or_else(|| matching(false))
    }

    /// The methods of a template without parameters that is exactly `path`.
    fn exact(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let exact = self.0.iter().any(|(segments, _)| segments.iter().map(String::as_str).eq(parts.iter().copied()));
        exact.then(|| self.allowed(path)).flatten()
    }
}

async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> HttpResponse {
    use actix_web::ResponseError;
    match table.allowed(req.path()) {
        Some(methods) => method_not_allowed(methods),
        None => AppError::NoRoute.error_response(),
    }
}

fn method_not_allowed(mut methods: Vec<String>) -> HttpResponse {
    use actix_web::ResponseError;
    methods.sort();
    methods.dedup();
    let allow = methods.join(", ");
    let mut res = AppError::MethodNotAllowed(format!("use {allow} on this path")).error_response();
    if let Ok(v) = header::HeaderValue::from_str(&allow) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

/// A path that did not fit a route's `{id}`: a 405 when it is exactly a route of its own
/// (`PATCH /findings/bulk-update` reached `/findings/{id}`: actix matches the method first),
/// else a 400 naming the parameter.
fn path_error(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    if let Some(methods) = req.app_data::<web::Data<RouteTable>>().and_then(|t| t.exact(req.path())) {
        return actix_web::error::InternalError::from_response(err, method_not_allowed(methods)).into();
    }
    path_problem(req).into()
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

/// The running server, its deadline scanner, webhook dispatcher and audit sealer: await it as the server (it ends when the
/// server stops); the background tasks stop when it is dropped, so they never outlive the server.
pub struct Serving {
    server: Server,
    lifecycle: Arc<crate::http::lifecycle::Lifecycle>,
    drain: std::time::Duration,
    _scanner: Scanner,
    _dispatcher: Dispatcher,
    _sealer: crate::audit::chain::Sealer,
    /// Keeps the user cache current (PostgreSQL).
    _users: Option<crate::auth::cache::Listener>,
    /// Hands free heap memory back to the system now and then.
    _trimmer: crate::alloc::Trimmer,
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

    /// SIGTERM or SIGINT stops the server (`http::lifecycle`): readiness fails and answers
    /// close their connections at once; after the drain period no new connection is
    /// accepted, requests already read are answered, and the server ends when the last
    /// connection has closed or the grace period is over. Call it inside the server's runtime.
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        use actix_web::rt::signal::unix::{signal, SignalKind};
        let (mut term, mut int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
        let (handle, lifecycle, drain) = (self.handle(), self.lifecycle.clone(), self.drain);
        actix_web::rt::spawn(async move {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            lifecycle.begin_shutdown();
            tracing::info!(signal = name, drain_seconds = drain.as_secs(), "shutting down: readiness fails from now");
            tokio::time::sleep(drain).await;
            tracing::info!("no new connections; answering the requests in flight");
            handle.stop(true).await;
        });
        Ok(())
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
    let users = state.users.listen(&db);
    let state = web::Data::new(state);
    let metrics_state = state.clone();
    let spec = spec();
    let table = web::Data::new(RouteTable::from_spec(&spec));
    // Serialised once and shared by every worker (each worker holding its own copy of the
    // document, as `SwaggerUi::url` does, cost 5 MB of heap per worker: issue 11, idle memory).
    let document = web::Bytes::from(serde_json::to_vec(&spec).expect("the spec serializes"));
    drop(spec);
    let workers = state.config.workers;
    let lifecycle = state.config.lifecycle;
    let stopping = state.lifecycle.clone();
    let server = HttpServer::new(move || {
        let path_config = web::PathConfig::default().error_handler(path_error);
        let (app, _) = App::new()
            .app_data(state.clone())
            .app_data(table.clone())
            .app_data(path_config)
            .wrap(from_fn(crate::http::lifecycle::middleware))
            .wrap(from_fn(crate::metrics::track))
            .wrap(actix_web::middleware::DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
            // Innermost first: conditional GET and HEAD see the handlers' responses (the 404/405
            // fallback's too), CORS sees everything the app answers, the request span outermost.
            .wrap(from_fn(crate::http::conditional::middleware))
            .wrap(from_fn(crate::http::conditional::header_limit))
            .wrap(crate::http::cors::middleware(&state.config.cors_origins))
            .wrap(from_fn(crate::http::cors::finish))
            .wrap(from_fn(crate::telemetry::request_span))
            .into_utoipa_app()
            .configure(routes)
            .split_for_parts();
        let document = document.clone();
        app.service(web::resource(SPEC_PATH).guard(actix_web::guard::Get()).to(move || {
            let document = document.clone();
            async move { HttpResponse::Ok().content_type(header::ContentType::json()).body(document) }
        }))
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new([SPEC_PATH])))
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
            }),
        )
        .default_service(web::to(fallback))
    })
    .workers(workers)
    // A client that closes its connection has gone: the request's future is dropped at once (with
    // half-closed connections kept, it would run on until its answer found nobody), which is what
    // stops a long write (`db::Cancel`). HTTP/1.1 clients do not half-close to wait for an answer.
    .h1_allow_half_closed(false)
    // A request's head must arrive within the read timeout (its body is timed by
    // `http::lifecycle`); signals are handled by `Serving::stop_on_signals`.
    .client_request_timeout(lifecycle.read_timeout)
    .disable_signals()
    .listen(listener)?
    .shutdown_timeout(lifecycle.grace.as_secs())
    .run();
    let metrics = match config.metrics_bind {
        Some(addr) => Some(crate::metrics::serve_apart(metrics_state, addr)?),
        None => None,
    };
    let dispatcher = Dispatcher::start(db.clone(), config.webhooks);
    let sealer = crate::audit::chain::Sealer::start(db.clone());
    Ok(Serving {
        server,
        lifecycle: stopping,
        drain: lifecycle.drain,
        _scanner: Scanner::start(db, config),
        _dispatcher: dispatcher,
        _sealer: sealer,
        _users: users,
        _trimmer: crate::alloc::Trimmer::start(),
        _metrics: metrics,
    })
}
