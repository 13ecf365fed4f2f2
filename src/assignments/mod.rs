//! Assignments (任务): claimed, reported on every half month, completed.

pub mod api;
pub mod list;
pub mod model;
pub mod progress;
pub mod queries;
pub mod routes;
pub mod service;
