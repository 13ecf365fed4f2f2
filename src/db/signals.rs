//! Wake-ups after commit: code inside a transaction marks that it wrote something a
//! background task waits for (a webhook delivery), and the transaction's commit
//! wakes that task in this process at once. Other instances find the rows by
//! polling; a rolled-back transaction wakes nobody. A transaction that changed users empties
//! the user caches when it ends (`auth::cache`).

use std::cell::Cell;

use tokio::sync::Notify;

thread_local! {
    /// Set while a transaction on this thread has queued deliveries.
    static DELIVERIES_QUEUED: Cell<bool> = const { Cell::new(false) };
    /// Set while a transaction on this thread has changed user rows.
    static USERS_CHANGED: Cell<bool> = const { Cell::new(false) };
}

static DELIVERIES: Notify = Notify::const_new();

/// Inside a transaction: it queued webhook deliveries.
pub fn deliveries_queued() {
    DELIVERIES_QUEUED.with(|q| q.set(true));
}

/// Right after a statement that changed user rows: cached users are stale from now on, and again
/// once the transaction ends (a row read again before the commit would still be the old one; a
/// statement outside a transaction has committed already).
pub fn users_changed() {
    crate::auth::cache::invalidate_all();
    USERS_CHANGED.with(|c| c.set(true));
}

/// The transaction on this thread ended: wake the dispatcher if it committed deliveries, and
/// empty the user caches if it changed users (before the change's response is sent).
pub(super) fn transaction_ended(committed: bool) {
    if USERS_CHANGED.with(|c| c.replace(false)) {
        crate::auth::cache::invalidate_all();
    }
    if DELIVERIES_QUEUED.with(|q| q.replace(false)) && committed {
        // Every waiting dispatcher (tests run several servers in one process), and a permit
        // for one that is busy sending and not waiting yet.
        DELIVERIES.notify_waiters();
        DELIVERIES.notify_one();
    }
}

/// Resolves when a commit in this process has queued deliveries (or one did since the last call).
pub async fn deliveries_committed() {
    DELIVERIES.notified().await;
}
