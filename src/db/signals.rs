//! Wake-ups after commit: code inside a transaction marks that it wrote something a
//! background task waits for (a webhook delivery), and the transaction's commit
//! wakes that task in this process at once. Other instances find the rows by
//! polling; a rolled-back transaction wakes nobody.

use std::cell::Cell;

use tokio::sync::Notify;

thread_local! {
    /// Set while a transaction on this thread has queued deliveries.
    static DELIVERIES_QUEUED: Cell<bool> = const { Cell::new(false) };
}

static DELIVERIES: Notify = Notify::const_new();

/// Inside a transaction: it queued webhook deliveries.
pub fn deliveries_queued() {
    DELIVERIES_QUEUED.with(|q| q.set(true));
}

/// The transaction on this thread ended: wake the dispatcher if it committed deliveries.
pub(super) fn transaction_ended(committed: bool) {
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
