//! The scan's schedule: once at start, then every `RECTIFY_DEADLINE_SCAN_SECONDS`, until stopped.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::scan::{self, ScanReport};
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

/// The running scan task. Dropping it stops the task at its next await (a batch already on the
/// blocking pool finishes its short transaction); [`Scanner::stop`] also waits for the end.
pub struct Scanner {
    stop_tx: oneshot::Sender<()>,
    task: JoinHandle<()>,
    scans: watch::Receiver<u64>,
}

impl Scanner {
    /// Starts the task on the current tokio runtime (actix's, or a test's): the first scan at
    /// once, then one per `config.deadline_scan_every`.
    pub fn start(db: Db, config: Arc<Config>) -> Self {
        let (stop_tx, stop_rx) = oneshot::channel();
        let (done, scans) = watch::channel(0);
        let task = tokio::spawn(run(db, config, stop_rx, done));
        Self { stop_tx, task, scans }
    }

    /// How many scans have finished (successfully or not): the start scan is the first.
    pub fn scans(&self) -> watch::Receiver<u64> {
        self.scans.clone()
    }

    /// Stops the task and waits until it has ended.
    pub async fn stop(self) {
        drop(self.stop_tx);
        let _ = self.task.await;
    }
}

/// Scans on every tick until the sender is dropped (or sends).
async fn run(db: Db, config: Arc<Config>, mut stop: oneshot::Receiver<()>, done: watch::Sender<u64>) {
    let mut ticks = tokio::time::interval(config.deadline_scan_every);
    // A scan that overran its period is followed by one at once, then the period again: no burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => return,
            _ = ticks.tick() => {}
        }
        let today = config.local_date(Utc::now());
        tokio::select! {
            biased;
            _ = &mut stop => return,
            result = scan(&db, &config, today) => match result {
                Ok(report) if report.events() > 0 => {
                    tracing::info!(%today, checked = report.checked, due_soon = report.due_soon, overdue = report.overdue, "deadline scan");
                }
                Ok(report) => tracing::debug!(%today, checked = report.checked, "deadline scan: nothing new"),
                // The marks written so far stand; the next tick takes up the rest.
                Err(e) => tracing::warn!(error = ?e, "deadline scan failed; retrying at the next tick"),
            },
        }
        done.send_modify(|n| *n += 1);
    }
}

/// [`scan::scan_once`] with each batch on the blocking pool, so the task can stop between batches.
async fn scan(db: &Db, config: &Config, today: NaiveDate) -> Result<ScanReport, AppError> {
    let (mut report, mut after, thresholds) = (ScanReport::default(), 0, config.warnings);
    loop {
        let batch = db.run(move |conn| scan::scan_batch(conn, after, today, thresholds)).await?;
        report += batch.report;
        match batch.next_after {
            Some(id) => after = id,
            None => return Ok(report),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::DatabaseUrl;

    #[tokio::test]
    async fn the_task_scans_and_ends_when_stopped() {
        let dir = std::env::temp_dir().join(format!("rectify-scanner-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}", dir.join("r.db").display());
        let vars = [
            ("RECTIFY_DATABASE_URL", url.as_str()),
            ("RECTIFY_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("RECTIFY_DEADLINE_SCAN_SECONDS", "1"),
        ];
        let config = Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap();
        let db = Db::connect(&DatabaseUrl::Sqlite(dir.join("r.db")), 2, Default::default()).unwrap();
        db.migrate().unwrap();
        let scanner = Scanner::start(db.clone(), Arc::new(config));
        // Let it scan at start and at least once more (an empty database: nothing to write).
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(!scanner.task.is_finished(), "the task keeps running between scans");
        tokio::time::timeout(Duration::from_secs(5), scanner.stop()).await.expect("the task ends when stopped");
        let _ = std::fs::remove_dir_all(dir);
    }
}
