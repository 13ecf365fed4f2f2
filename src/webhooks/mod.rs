//! Events out (contract §9.1): webhook subscriptions, Standard Webhooks signing,
//! the outbox dispatcher with retries, and the SSRF guard on targets.

pub mod api;
pub mod client;
pub mod dispatcher;
pub mod model;
pub mod queries;
pub mod routes;
pub mod signature;
pub mod ssrf;

pub use routes::configure;
