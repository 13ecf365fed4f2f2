//! Approval requests: closure (销号) and deadline extension (延期) share one
//! mechanism — ordered steps copied from the inspection's approval chain,
//! one decision per step, separation of duties.

pub mod api;
pub mod closures;
pub mod extensions;
pub mod model;
pub mod queries;
pub mod service;
pub mod shared;

/// Registers the closure and extension endpoints.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(closures::configure).configure(extensions::configure);
}
