//! Reporting: statistics, the half-month summary, the ledger export, the
//! published report, and conclusion/publication.

pub mod api;
pub mod export;
pub mod model;
pub mod periods;
pub mod queries;
pub mod render;
pub mod routes;
pub mod stats;
