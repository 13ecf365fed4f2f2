//! §9.2: the service's own deadline events, `finding.due_soon` and `finding.overdue`: once per
//! finding, level and due date, from the scan at start, the periodic one, and any number of
//! concurrent ones (threads and instances on one database).

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDate};
use futures_util::future::join_all;
use rectify::deadlines::scan::BATCH;
use rectify::deadlines::{scan_once, ScanReport};
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{today, Backend, TestApp, World};

/// (finding, action, level, due_on): what is written once.
type Key = (i64, String, String, String);

fn key(finding: i64, action: &str, level: &str, due_on: NaiveDate) -> Key {
    (finding, action.to_owned(), level.to_owned(), due_on.to_string())
}

fn key_of(event: &Value) -> Key {
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    (event["entity_id"].as_i64().unwrap(), s(&event["action"]), s(&event["data"]["level"]), s(&event["data"]["due_on"]))
}

fn keys(events: &[Value]) -> Vec<Key> {
    let mut keys: Vec<Key> = events.iter().map(key_of).collect();
    keys.sort();
    keys
}

/// Every deadline event after `since`, from the change feed, oldest first.
async fn deadline_events(app: &TestApp, since: i64) -> Vec<Value> {
    app.feed_settled().await;
    let (mut after, mut out) = (since, Vec::new());
    loop {
        let page = app.get_ok(&format!("/api/v1/events?after={after}&limit=200"), &app.admin).await;
        let items = page["items"].as_array().unwrap();
        let Some(last) = items.last() else { return out };
        after = last["id"].as_i64().unwrap();
        out.extend(
            items
                .iter()
                .filter(|e| matches!(e["action"].as_str(), Some("finding.due_soon" | "finding.overdue")))
                .cloned(),
        );
    }
}

/// Polls the feed (a start scan runs asynchronously) until `n` deadline events arrived after
/// `since`; gives up after 20 s.
async fn wait_for_events(app: &TestApp, since: i64, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let events = deadline_events(app, since).await;
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("{n} deadline events did not arrive: {:?}", keys(&deadline_events(app, since).await));
}

/// One scan as of `today`, on the blocking pool.
async fn scan(app: &TestApp, today: NaiveDate) -> ScanReport {
    let (db, config) = (app.db.clone(), app.config.clone());
    tokio::task::spawn_blocking(move || scan_once(&db, &config, today)).await.unwrap().expect("scan")
}

async fn new_finding(app: &TestApp, w: &World, inspection: i64, title: &str, due_on: NaiveDate) -> i64 {
    app.finding(w, inspection, title, json!({"due_on": due_on, "responsible_unit_id": w.bureau})).await["id"]
        .as_i64()
        .unwrap()
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, Some(token), &body).await;
    let status = res.status();
    let out: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status == 200 || status == 201, "POST {path} {body}: {status} {out}");
    out
}

/// Work under way: the first assignment (due with the finding) puts a finding in progress.
async fn assign(app: &TestApp, w: &World, finding: i64, due_on: NaiveDate) -> i64 {
    let path = format!("/api/v1/findings/{finding}/assignments");
    let body = json!({"title": "整改", "responsible_unit_id": w.bureau, "due_on": due_on});
    app.create(&path, &w.leader, body).await["id"].as_i64().unwrap()
}

/// Assigns, completes and signs a finding off (leader, then inspector).
async fn close(app: &TestApp, w: &World, finding: i64, due_on: NaiveDate) {
    let a = assign(app, w, finding, due_on).await;
    ok(app, &w.officer, &format!("/api/v1/assignments/{a}/claim"), json!({})).await;
    ok(app, &w.officer, &format!("/api/v1/assignments/{a}/complete"), json!({"outcome": "已完成"})).await;
    let closures = format!("/api/v1/findings/{finding}/closure-requests");
    let request = app.create(&closures, &w.officer, json!({"outcome": "已整改到位"})).await;
    let decisions = format!("/api/v1/closure-requests/{}/decisions", request["id"]);
    ok(app, &w.leader, &decisions, json!({"decision": "approve"})).await;
    ok(app, &w.inspector, &decisions, json!({"decision": "approve"})).await;
    assert_eq!(app.get_ok(&format!("/api/v1/findings/{finding}"), &w.viewer).await["status"], "closed");
}

/// A finding due in three days is `due_soon` (yellow) once, written by the scan another instance
/// runs at its start, and never again however often the scan runs.
async fn a_finding_due_in_three_days_is_due_soon_once(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let due = today() + Duration::days(3);
    let id = new_finding(&app, &w, inspection, "三天后到期", due).await;
    let since = app.last_event_id().await;
    // This app scanned at its start, before the finding existed; a new instance scans at its own.
    let other = app.start_another_instance();
    let events = wait_for_events(&app, since, 1).await;
    assert_eq!(keys(&events), [key(id, "finding.due_soon", "yellow", due)]);
    let e = &events[0];
    assert_eq!((e["entity_type"].as_str(), e["finding_id"].as_i64()), (Some("finding"), Some(id)));
    assert_eq!(e["inspection_id"], inspection);
    assert!(e["actor_id"].is_null(), "the service itself acts: {e}");
    assert_eq!(e["data"], json!({"level": "yellow", "due_on": due, "days_left": 3, "status": "open"}));
    for _ in 0..3 {
        assert_eq!(scan(&app, today()).await, ScanReport { checked: 1, due_soon: 0, overdue: 0 });
    }
    other.stop(false).await;
    assert_eq!(deadline_events(&app, since).await.len(), 1, "still exactly one");
}

/// Due yesterday: `due_soon` red and `overdue`, once each. Blocked work is not overdue (its
/// level still shows red) until it is unblocked; closed work is owed nothing.
async fn overdue_is_reported_once_and_never_for_blocked_or_closed_work(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let (t, yesterday) = (today(), today() - Duration::days(1));
    let late = new_finding(&app, &w, inspection, "逾期未整改", yesterday).await;
    let blocked = new_finding(&app, &w, inspection, "等待省上统一安排", yesterday).await;
    ok(&app, &w.leader, &format!("/api/v1/findings/{blocked}/block"), json!({"reason": "系政务系统问题"})).await;
    let closed = new_finding(&app, &w, inspection, "已销号", yesterday).await;
    close(&app, &w, closed, yesterday).await;

    let since = app.last_event_id().await;
    let report = scan(&app, t).await;
    // The app's own start scan may have run after the findings appeared and written some of
    // the events itself: the events below, each exactly once, are what counts.
    assert_eq!(report.checked, 2, "the closed one is not even read");
    assert!(report.due_soon <= 2 && report.overdue <= 1, "{report:?}");
    let events = deadline_events(&app, since).await;
    assert_eq!(
        keys(&events),
        [
            key(late, "finding.due_soon", "red", yesterday),
            key(late, "finding.overdue", "red", yesterday),
            key(blocked, "finding.due_soon", "red", yesterday),
        ]
    );
    let data = |id: i64, action: &str| {
        events.iter().find(|e| e["entity_id"] == id && e["action"] == action).unwrap()["data"].clone()
    };
    assert_eq!(
        data(late, "finding.overdue"),
        json!({"level": "red", "due_on": yesterday, "days_overdue": 1, "status": "open"})
    );
    assert_eq!(
        data(blocked, "finding.due_soon"),
        json!({"level": "red", "due_on": yesterday, "days_left": -1, "status": "blocked"})
    );
    assert_eq!(scan(&app, t).await.events(), 0, "once");

    // Unblocked, it is overdue after all: once.
    ok(&app, &w.leader, &format!("/api/v1/findings/{blocked}/unblock"), json!({})).await;
    let since = app.last_event_id().await;
    assert_eq!(scan(&app, t).await, ScanReport { checked: 2, due_soon: 0, overdue: 1 });
    let events = deadline_events(&app, since).await;
    assert_eq!(keys(&events), [key(blocked, "finding.overdue", "red", yesterday)]);
    assert_eq!(events[0]["data"]["status"], "in_progress");
    assert_eq!(scan(&app, t).await.events(), 0);
}

/// The due date is part of the key: an approved extension, or an inspector's PATCH, that moves
/// `due_on` arms both events again, for the new date.
async fn moving_due_on_arms_the_events_again(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let t = today();
    let first = t + Duration::days(3);
    let id = new_finding(&app, &w, inspection, "需延期的问题", first).await;
    assign(&app, &w, id, first).await;
    let since = app.last_event_id().await;
    let mut expected = vec![key(id, "finding.due_soon", "yellow", first)];
    assert_eq!(scan(&app, t).await.due_soon, 1);
    // Seen on the day after the deadline (an explicit today): red and overdue.
    let the_day_after = first + Duration::days(1);
    assert_eq!(scan(&app, the_day_after).await, ScanReport { checked: 1, due_soon: 1, overdue: 1 });
    expected.extend([key(id, "finding.due_soon", "red", first), key(id, "finding.overdue", "red", first)]);

    // 申请延期, approved by the leader and then the inspector: due_on moves.
    let second = t + Duration::days(5);
    let request = app
        .create(
            &format!("/api/v1/findings/{id}/extension-requests"),
            &w.officer,
            json!({"new_due_on": second, "reason": "等待省上统一安排"}),
        )
        .await;
    let decisions = format!("/api/v1/extension-requests/{}/decisions", request["id"]);
    ok(&app, &w.leader, &decisions, json!({"decision": "approve"})).await;
    ok(&app, &w.inspector, &decisions, json!({"decision": "approve"})).await;
    assert_eq!(app.get_ok(&format!("/api/v1/findings/{id}"), &w.viewer).await["due_on"], json!(second));
    assert_eq!(scan(&app, t).await, ScanReport { checked: 1, due_soon: 1, overdue: 0 }, "yellow again, new date");
    assert_eq!(scan(&app, t).await.events(), 0);
    assert_eq!(scan(&app, second + Duration::days(1)).await.events(), 2, "and overdue again");
    expected.extend([
        key(id, "finding.due_soon", "yellow", second),
        key(id, "finding.due_soon", "red", second),
        key(id, "finding.overdue", "red", second),
    ]);

    // An inspector's PATCH of due_on re-arms too.
    let third = t + Duration::days(7);
    app.update(&format!("/api/v1/findings/{id}"), &w.inspector, json!({"due_on": third})).await;
    assert_eq!(scan(&app, t).await.due_soon, 1);
    expected.push(key(id, "finding.due_soon", "yellow", third));

    expected.sort();
    assert_eq!(keys(&deadline_events(&app, since).await), expected);
}

/// Two more instances start on the same database (each scans at once) while four threads scan
/// too: every event is written exactly once.
async fn concurrent_scans_write_each_event_once(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let t = today();
    let mut expected = BTreeSet::new();
    for i in 0..24 {
        let offset = [-3, -1, 0, 2, 10, 30][i % 6];
        let due = t + Duration::days(offset);
        let id = new_finding(&app, &w, inspection, &format!("问题{i}"), due).await;
        match offset {
            ..0 => {
                expected.insert(key(id, "finding.due_soon", "red", due));
                expected.insert(key(id, "finding.overdue", "red", due));
            }
            0..=10 => {
                expected.insert(key(id, "finding.due_soon", "yellow", due));
            }
            _ => {}
        }
    }
    let since = app.last_event_id().await;
    let others = [app.start_another_instance(), app.start_another_instance()];
    let barrier = Arc::new(Barrier::new(4));
    let threads = (0..4).map(|_| {
        let (db, config, barrier) = (app.db.clone(), app.config.clone(), barrier.clone());
        tokio::task::spawn_blocking(move || {
            barrier.wait();
            scan_once(&db, &config, t).expect("a concurrent scan")
        })
    });
    let written: usize = join_all(threads).await.into_iter().map(|r| r.unwrap().events()).sum();
    assert!(written <= expected.len(), "the threads alone wrote {written} of {} events", expected.len());
    wait_for_events(&app, since, expected.len()).await;
    for other in others {
        other.stop(false).await;
    }
    assert_eq!(scan(&app, t).await.events(), 0, "nothing is left to write");
    let seen = keys(&deadline_events(&app, since).await);
    let unique: BTreeSet<Key> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), unique.len(), "an event was written twice: {seen:?}");
    assert_eq!(unique, expected);
}

/// A ledger over two batches long: the scan goes through it batch by batch (keyset by id), each
/// finding owed its events once, the closed ones skipped, the blocked ones not overdue.
async fn large_ledgers_are_scanned_in_batches(app: TestApp) {
    let w = app.world().await;
    let yesterday = today() - Duration::days(1);
    let n = 2 * BATCH as usize + 37;
    let findings: Vec<Value> = (0..n)
        .map(|i| match i % 100 {
            50 => json!({"title": format!("问题{i}"), "due_on": yesterday, "status": "closed", "outcome": "已整改"}),
            75 => {
                json!({"title": format!("问题{i}"), "due_on": yesterday, "status": "blocked", "blocked_reason": "等待"})
            }
            _ => json!({"title": format!("问题{i}"), "due_on": yesterday}),
        })
        .collect();
    let ledger = json!({
        "inspection": {"title": "大台账", "inspecting_body": "巡察组", "inspecting_unit_id": w.group,
                       "inspected_unit_id": w.bureau, "started_on": "2024-01-01", "ended_on": "2024-02-01"},
        "findings": findings,
    });
    app.create("/api/v1/inspections/import", &w.inspector, ledger).await;
    let (closed, blocked) = (10, 10);
    let open = n - closed - blocked;
    let since = app.last_event_id().await;
    let report = scan(&app, today()).await;
    assert_eq!(report, ScanReport { checked: open + blocked, due_soon: open + blocked, overdue: open });
    assert_eq!(scan(&app, today()).await.events(), 0);
    let seen = keys(&deadline_events(&app, since).await);
    let unique: BTreeSet<Key> = seen.iter().cloned().collect();
    assert_eq!((seen.len(), unique.len()), (report.events(), report.events()));
}

db_tests!(
    a_finding_due_in_three_days_is_due_soon_once,
    overdue_is_reported_once_and_never_for_blocked_or_closed_work,
    moving_due_on_arms_the_events_again,
    concurrent_scans_write_each_event_once,
    large_ledgers_are_scanned_in_batches,
);

const EVERY_SECOND: &[(&str, &str)] = &[("RECTIFY_DEADLINE_SCAN_SECONDS", "1")];

/// The scan repeats every `RECTIFY_DEADLINE_SCAN_SECONDS`: a finding that falls due after the
/// start is reported by the next periodic scan, once.
async fn the_scan_repeats_every_period(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let since = app.last_event_id().await;
    let id = new_finding(&app, &w, inspection, "今天到期", today()).await;
    let events = wait_for_events(&app, since, 1).await;
    assert_eq!(keys(&events), [key(id, "finding.due_soon", "yellow", today())]);
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    assert_eq!(deadline_events(&app, since).await.len(), 1, "two more periods, nothing more");
    app.stop().await;
}

#[tokio::test]
async fn the_scan_repeats_every_period_sqlite() {
    the_scan_repeats_every_period(TestApp::spawn_with(Backend::Sqlite, EVERY_SECOND).await.unwrap()).await;
}

#[tokio::test]
async fn the_scan_repeats_every_period_postgres() {
    if let Some(app) = TestApp::spawn_postgres(EVERY_SECOND).await {
        the_scan_repeats_every_period(app).await;
    }
}
