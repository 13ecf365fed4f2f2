//! Events out (contract §9.1): webhook subscriptions, Standard Webhooks signing,
//! the outbox dispatcher with retries, and the SSRF guard on targets.

pub mod api;
pub mod client;
pub mod deliveries;
pub mod dispatcher;
pub mod model;
pub mod queries;
pub mod routes;
pub mod signature;
pub mod ssrf;

/// Registers the webhook endpoints.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::create_webhook)
        .service(routes::list_webhooks)
        .service(routes::get_webhook)
        .service(routes::update_webhook)
        .service(routes::delete_webhook)
        .service(routes::rotate_secret)
        .service(deliveries::test_webhook)
        .service(deliveries::list_deliveries)
        .service(deliveries::retry_delivery);
}
