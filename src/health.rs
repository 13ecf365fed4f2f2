//! Liveness and readiness probes.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{responses, AppError};
use crate::state::AppState;

/// A probe's answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
}

/// `ok` from `/healthz`, `ready` from `/readyz`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Ready,
}

/// The process is up (liveness probe).
///
/// Answers `{"status": "ok"}` while the process serves HTTP; it does not touch the database,
/// so a database outage does not make the orchestrator restart the service. Reads nothing,
/// writes nothing.
///
/// **Who:** anyone, without a token.
///
/// **Errors:** none of its own.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: HealthStatus::Ok })
}

/// The database answers (readiness probe).
///
/// Answers `{"status": "ready"}` when a connection from the pool answers a ping. Writes
/// nothing. From the moment the process is told to stop (SIGTERM or SIGINT) it answers 503,
/// with `Connection: close`, so a load balancer stops sending new requests here while the
/// ones in flight finish.
///
/// **Who:** anyone, without a token.
///
/// **Errors:** 503 (`/problems/unavailable`) when the database cannot be reached
/// (`Retry-After: 5`), or the service is shutting down (`Retry-After: 1`).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, response = responses::Unavailable),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if state.lifecycle.stopping() {
        return Err(AppError::Stopping);
    }
    let ok = state.db.run(|conn| Ok(crate::db::ping(conn))).await.unwrap_or(false);
    if ok {
        Ok(HttpResponse::Ok().json(Health { status: HealthStatus::Ready }))
    } else {
        Err(AppError::Unavailable("readiness probe: database unreachable".into()))
    }
}
