//! Stopping a long write whose request has gone.
//!
//! actix drops a request's handler future when its client disconnects (the server does not keep
//! half-closed connections, see `app::serve`) or when the server stops; but work already handed
//! to the blocking pool runs on, and would commit for nobody. A long write (an import) checks a
//! [`Cancel`] between rows: once the request's [`CancelOnDrop`] is gone, the check fails, the
//! write returns the error and its transaction rolls back, so nothing of it is left.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::AppError;

/// Raised when the request that started a write has gone.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// Raises its [`Cancel`] when dropped: keep it in the request's future, across the write's await.
#[must_use = "the write is cancelled as soon as this guard is dropped"]
#[derive(Debug)]
pub struct CancelOnDrop(Cancel);

impl Cancel {
    /// A flag and the guard that raises it.
    pub fn on_drop() -> (Cancel, CancelOnDrop) {
        let cancel = Cancel::default();
        (cancel.clone(), CancelOnDrop(cancel))
    }

    /// A flag nothing raises, for work no request waits on (the command line).
    pub fn never() -> Cancel {
        Cancel::default()
    }

    /// `Err(AppError::Cancelled)` once the request has gone: return it, and the transaction rolls back.
    pub fn check(&self) -> Result<(), AppError> {
        if self.0.load(Ordering::Relaxed) {
            tracing::warn!(
                "the request has gone (its client disconnected, or the server is stopping): its write rolls back"
            );
            return Err(AppError::Cancelled);
        }
        Ok(())
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0 .0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_guard_cancels_every_clone() {
        let (cancel, guard) = Cancel::on_drop();
        let elsewhere = cancel.clone();
        assert!(cancel.check().is_ok() && elsewhere.check().is_ok());
        drop(guard);
        assert!(matches!(elsewhere.check(), Err(AppError::Cancelled)));
        assert!(Cancel::never().check().is_ok());
    }
}
