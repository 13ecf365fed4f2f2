//! Rectify: tracks the findings of an inspection through to their rectification.

pub mod app;
pub mod approvals;
pub mod assignments;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod feedback;
pub mod findings;
pub mod health;
pub mod http;
pub mod imports;
pub mod inspections;
pub mod orgs;
pub mod public;
pub mod ratelimit;
pub mod reports;
pub mod secret;
pub mod state;
pub mod telemetry;
pub mod users;
pub mod validate;
pub mod workflow;
