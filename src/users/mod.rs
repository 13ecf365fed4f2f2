//! Users: created, changed and deactivated by admins; never deleted.

pub mod api;
pub mod queries;
pub mod routes;
