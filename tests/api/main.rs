//! One integration-test binary: the real server, over HTTP, on SQLite and
//! (with RECTIFY_TEST_POSTGRES_URL) on PostgreSQL.

mod helpers;

mod audit;
mod auth;
mod bulk;
mod clients;
mod conventions;
mod corpus;
mod cors_browser;
mod crash;
mod deadlines;
mod documents;
mod event_log;
mod event_schema;
mod findings;
mod hardening;
mod imports;
mod inspections;
mod memory;
mod metrics;
mod notices;
mod org_units;
mod races;
mod scope;
mod service_accounts;
mod sheets;
mod shutdown;
mod spec;
mod stats;
mod sync;
mod webhooks;
mod workflow;
