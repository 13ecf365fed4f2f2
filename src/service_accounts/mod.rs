//! Service accounts (contract §9.3): the identities of other systems. Each is a row of
//! `users` of kind `service` (username = client_id, no password, the SHA-256 of a random
//! secret), so roles, org scope, `AuthUser` and audit `actor_id` work for it as for a person.
//! Admins create, list, read and delete them here; `/users` shows people only.

pub mod api;
pub mod queries;
pub mod routes;

pub use routes::configure;
