//! §9.1/§9.4 and issue 8: the event log has no global lock — writers on
//! different rows run in parallel on PostgreSQL, the feed never skips an event
//! that commits out of id order, and a write that cannot get its locks in time
//! answers 503 with `Retry-After` and changes nothing.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use rectify::audit::{self, Actor, Event};
use serde_json::{json, Value};

use crate::helpers::{problem, Backend, TestApp};

/// A transaction held open on its own thread: it runs `work` after `BEGIN`, tells
/// the test it is in place, and commits (or rolls back) when told to.
struct OpenTransaction {
    finish: mpsc::Sender<bool>,
    done: std::thread::JoinHandle<()>,
}

impl OpenTransaction {
    fn start(
        app: &TestApp,
        begin: &'static str,
        work: impl FnOnce(&mut rectify::db::DbConn) -> Value + Send + 'static,
    ) -> (Self, Value) {
        let db = app.db.clone();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (finish, finish_rx) = mpsc::channel::<bool>();
        let done = std::thread::spawn(move || {
            let mut conn = db.get().unwrap();
            conn.batch_execute(begin).unwrap();
            let out = work(&mut conn);
            ready_tx.send(out).unwrap();
            let commit = finish_rx.recv().unwrap_or(false);
            conn.batch_execute(if commit { "COMMIT" } else { "ROLLBACK" }).unwrap();
        });
        let out = ready_rx.recv_timeout(Duration::from_secs(30)).expect("the held transaction started");
        (Self { finish, done }, out)
    }

    fn end(self, commit: bool) {
        self.finish.send(commit).unwrap();
        self.done.join().unwrap();
    }
}

fn write_event(conn: &mut rectify::db::DbConn) -> Value {
    let id =
        audit::record(conn, &Actor::system(), Event::new("webhook.test", "webhook", 1, json!({"held": true}))).unwrap();
    json!(id)
}

/// Ids of the feed after `after` (by the id of the last event received), without waiting.
async fn poll(app: &TestApp, mut after: i64, seen: &mut Vec<i64>) -> i64 {
    loop {
        let page = app.get_ok(&format!("/api/v1/events?after={after}&limit=200"), &app.admin).await;
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            return after;
        }
        for e in items {
            after = e["id"].as_i64().unwrap();
            seen.push(after);
        }
    }
}

#[tokio::test]
async fn a_long_write_does_not_delay_an_unrelated_one_on_postgres() {
    let Some(app) = TestApp::spawn_postgres(&[]).await else { return };
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let f = app.finding(&w, inspection, "无关的问题", json!({})).await;
    // A long write: it has written its audit event and holds its transaction open.
    let (long, _) = OpenTransaction::start(&app, "BEGIN", write_event);
    // An unrelated write completes while the long one is still open (with a global
    // counter row it would wait for it, then time out with 503).
    let changed = tokio::time::timeout(
        Duration::from_secs(30),
        app.patch(
            &format!("/api/v1/findings/{}", f["id"]),
            Some(&w.inspector),
            Some("\"1\""),
            &json!({"measures": "并行"}),
        ),
    )
    .await
    .expect("the unrelated write finished");
    assert_eq!(changed.status(), 200);
    long.end(true);
    app.stop().await;
}

#[tokio::test]
async fn the_feed_never_skips_an_event_committed_out_of_id_order_on_postgres() {
    let Some(app) = TestApp::spawn_postgres(&[]).await else { return };
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let start = app.last_event_id().await;
    // Event A takes its id first but commits last.
    let (late, a) = OpenTransaction::start(&app, "BEGIN", write_event);
    let a = a.as_i64().unwrap();
    let b = app.finding(&w, inspection, "先提交的问题", json!({})).await;
    let mut seen = Vec::new();
    let after = poll(&app, start, &mut seen).await;
    assert!(!seen.contains(&a), "A is not committed yet");
    // Whatever the first poll returned, A must come later: it is held back with everything after it.
    late.end(true);
    app.feed_settled().await;
    poll(&app, after, &mut seen).await;
    let created: Vec<i64> = seen.iter().copied().filter(|id| *id > start).collect();
    assert!(created.contains(&a), "the late event was delivered: {created:?}");
    assert!(seen.iter().filter(|id| **id == a).count() == 1, "exactly once: {seen:?}");
    assert!(a < seen.iter().copied().max().unwrap(), "A has a smaller id than B's event: {seen:?}");
    let finding_created = app
        .events_since(start)
        .await
        .into_iter()
        .filter(|(action, id)| action == "finding.created" && *id == b["id"].as_i64().unwrap());
    assert_eq!(finding_created.count(), 1);
    app.stop().await;
}

async fn a_write_that_cannot_get_its_lock_answers_503(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[("RECTIFY_LOCK_TIMEOUT_MS", "300")]).await else { return };
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let f = app.finding(&w, inspection, "被锁的问题", json!({"measures": "原措施"})).await;
    let id = f["id"].as_i64().unwrap();
    // Another change holds the finding (PostgreSQL: its row lock; SQLite: the write lock).
    let holder = match backend {
        Backend::Postgres => {
            OpenTransaction::start(&app, "BEGIN", move |conn| {
                conn.batch_execute(&format!("SELECT 1 FROM findings WHERE id = {id} FOR UPDATE")).unwrap();
                Value::Null
            })
            .0
        }
        Backend::Sqlite => OpenTransaction::start(&app, "BEGIN IMMEDIATE", |_| Value::Null).0,
    };
    let res = app
        .patch(&format!("/api/v1/findings/{id}"), Some(&w.inspector), Some("\"1\""), &json!({"measures": "新措施"}))
        .await;
    assert_eq!(res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()), Some("1".to_owned()));
    let p = problem(res, 503).await;
    assert_eq!(p["type"], "/problems/busy");
    holder.end(false);
    let stored = app.get_ok(&format!("/api/v1/findings/{id}"), &w.viewer).await;
    assert_eq!((stored["measures"].as_str(), stored["version"].as_i64()), (Some("原措施"), Some(1)));
    app.stop().await;
}

#[tokio::test]
async fn a_write_that_cannot_get_its_lock_answers_503_on_sqlite() {
    a_write_that_cannot_get_its_lock_answers_503(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_write_that_cannot_get_its_lock_answers_503_on_postgres() {
    a_write_that_cannot_get_its_lock_answers_503(Backend::Postgres).await;
}
