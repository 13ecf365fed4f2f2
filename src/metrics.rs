//! `GET /metrics` in the Prometheus text format: requests by method, route template
//! and status, latency histograms by route template, the database pool, the webhook
//! outbox (backlog and oldest age), deliveries by outcome, and build info.

use std::sync::LazyLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::error::{responses, AppError};
use crate::state::AppState;

/// The process's metrics (one registry, shared by every server the process runs).
struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    deliveries: IntCounterVec,
    pool: IntGaugeVec,
    backlog: IntGauge,
    oldest: IntGauge,
    statements: prometheus::IntCounter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new("rectify_http_requests_total", "HTTP requests by method, route template and status"),
        &["method", "route", "status"],
    )
    .expect("valid metric");
    let latency = HistogramVec::new(
        HistogramOpts::new("rectify_http_request_duration_seconds", "HTTP request latency by route template")
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        &["method", "route"],
    )
    .expect("valid metric");
    let deliveries = IntCounterVec::new(
        Opts::new("rectify_webhook_deliveries_total", "Webhook delivery attempts by outcome"),
        &["outcome"],
    )
    .expect("valid metric");
    let pool = IntGaugeVec::new(Opts::new("rectify_db_pool_connections", "Database pool connections"), &["state"])
        .expect("valid metric");
    let backlog =
        IntGauge::new("rectify_outbox_pending", "Webhook deliveries waiting to be sent").expect("valid metric");
    let oldest =
        IntGauge::new("rectify_outbox_oldest_age_seconds", "Age of the oldest pending delivery").expect("valid metric");
    let statements =
        prometheus::IntCounter::new("rectify_db_statements_total", "Statements sent to the database by this process")
            .expect("valid metric");
    let build =
        IntGaugeVec::new(Opts::new("rectify_build_info", "The running build"), &["version"]).expect("valid metric");
    build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
    for c in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(latency.clone()),
        Box::new(deliveries.clone()),
        Box::new(pool.clone()),
        Box::new(backlog.clone()),
        Box::new(oldest.clone()),
        Box::new(statements.clone()),
        Box::new(build),
    ] {
        registry.register(c).expect("unique metric");
    }
    Metrics { registry, requests, latency, deliveries, pool, backlog, oldest, statements }
});

/// Counts and times every request by its route template (`/api/v1/findings/{id}`, never the
/// id itself, so the label set stays small; unrouted requests are `unmatched`).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let m = &*METRICS;
    m.requests.with_label_values(&[&method, &route, res.status().as_str()]).inc();
    m.latency.with_label_values(&[&method, &route]).observe(start.elapsed().as_secs_f64());
    Ok(res)
}

/// Counts a finished delivery attempt: `succeeded`, `retrying` or `failed`.
pub fn delivery_attempt(outcome: &'static str) {
    METRICS.deliveries.with_label_values(&[outcome]).inc();
}

/// The metrics, in the Prometheus text format (version 0.0.4).
///
/// `rectify_http_requests_total` (by method, route template and status),
/// `rectify_http_request_duration_seconds` (histogram by method and route template),
/// `rectify_db_pool_connections` (by state: open, idle, in_use, max),
/// `rectify_outbox_pending` and `rectify_outbox_oldest_age_seconds` (webhook deliveries
/// waiting), `rectify_webhook_deliveries_total` (attempts by outcome: succeeded, retrying,
/// failed), `rectify_db_statements_total` (statements sent to the database) and
/// `rectify_build_info`. Counters are per instance. Writes nothing.
///
/// **Who:** anyone who reaches the address, without a token. When `RECTIFY_METRICS_BIND` is
/// set, the metrics are served on that address only.
///
/// **Errors:** 404 on the main address when `RECTIFY_METRICS_BIND` is set; 503 when the
/// database cannot be reached (the outbox backlog is read from it).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, apart: Option<web::Data<Apart>>) -> Result<HttpResponse, AppError> {
    // With a metrics address of its own, the main address does not answer them.
    if state.config.metrics_bind.is_some() && apart.is_none() {
        return Err(AppError::NotFound);
    }
    let (open, idle, size) = state.db.pool_state();
    let (pending, oldest) = state.db.run(crate::webhooks::queries::backlog).await?;
    let m = &*METRICS;
    m.pool.with_label_values(&["open"]).set(i64::from(open));
    m.pool.with_label_values(&["idle"]).set(i64::from(idle));
    m.pool.with_label_values(&["in_use"]).set(i64::from(open.saturating_sub(idle)));
    m.pool.with_label_values(&["max"]).set(i64::from(size));
    m.backlog.set(pending);
    m.oldest.set(oldest.map(|t| (crate::db::now() - t).num_seconds().max(0)).unwrap_or(0));
    // Counted where statements are sent (`db::statements`); brought up to date here.
    let sent = crate::db::statements::sent();
    m.statements.inc_by(sent.saturating_sub(m.statements.get()));
    let mut out = Vec::new();
    TextEncoder::new().encode(&m.registry.gather(), &mut out).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out))
}

/// The metrics server on its own address (`RECTIFY_METRICS_BIND`); stops when dropped.
pub struct Apart {
    handle: Option<actix_web::dev::ServerHandle>,
}

impl Drop for Apart {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            tokio::spawn(async move { h.stop(true).await });
        }
    }
}

/// Serves `GET /metrics` alone on `addr`.
pub fn serve_apart(state: web::Data<AppState>, addr: std::net::SocketAddr) -> std::io::Result<Apart> {
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().app_data(state.clone()).app_data(web::Data::new(Apart { handle: None })).service(metrics)
    })
    .workers(1)
    // Stopped with the main server (when its `Serving` is dropped), not by signals of its own.
    .disable_signals()
    .bind(addr)?
    .shutdown_timeout(5)
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(Apart { handle: Some(handle) })
}
