//! Every statement the service sends to its database is counted (`rectify_db_statements_total`
//! in `/metrics`), and logged with its binds at debug level under the target `rectify::sql`
//! (`RUST_LOG=info,rectify::sql=debug`): how the benchmark learns which statements a request
//! runs, and how an operator sees them without turning on the database's statement log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};

static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Statements sent by this process so far (every connection, every backend).
pub fn sent() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

fn instrumentation() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(target: "rectify::sql", sql = %query, "statement");
        }
    }))
}

/// Instruments every connection opened from now on (once per process).
pub fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        if let Err(e) = set_default_instrumentation(instrumentation) {
            tracing::warn!(error = %e, "database statements will not be counted");
        }
    });
}
