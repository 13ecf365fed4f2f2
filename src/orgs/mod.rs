//! The org tree: units with a parent, and the closure table behind scope.

pub mod api;
pub mod credit_code;
pub mod queries;
pub mod routes;
