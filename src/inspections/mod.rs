//! Inspections, their section tree (categories → aspects) and the ledger.

pub mod api;
pub mod ledger;
pub mod model;
pub mod queries;
pub mod routes;
pub mod sections;
pub mod service;
