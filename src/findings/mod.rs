//! Findings (问题): the ledger's rows, their filters and their state machine.

pub mod actions;
pub mod api;
pub mod bulk;
pub mod edit;
pub mod list;
pub mod model;
pub mod queries;
pub mod routes;
pub mod service;
pub mod workflow;
