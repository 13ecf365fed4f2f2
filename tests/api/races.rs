//! §6 concurrency: real concurrent requests; exactly one wins, the other gets
//! 409 (412 with a stale If-Match), and exactly one audit event is written.

use futures_util::future::join;
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{TestApp, World};

async fn new_finding(app: &TestApp, w: &World, inspection: i64, n: usize) -> i64 {
    app.finding(w, inspection, &format!("问题{n}"), json!({"due_on": "2030-12-31"})).await["id"].as_i64().unwrap()
}

async fn open_assignment(app: &TestApp, w: &World, finding: i64) -> i64 {
    app.create(
        &format!("/api/v1/findings/{finding}/assignments"),
        &w.leader,
        json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

/// A finding with one done assignment and a pending closure request; returns the request id.
async fn pending_closure(app: &TestApp, w: &World, inspection: i64, n: usize) -> i64 {
    let f = new_finding(app, w, inspection, n).await;
    let a = open_assignment(app, w, f).await;
    assert_eq!(app.post(&format!("/api/v1/assignments/{a}/claim"), Some(&w.officer), &json!({})).await.status(), 200);
    let done =
        app.post(&format!("/api/v1/assignments/{a}/complete"), Some(&w.officer), &json!({"outcome": "完成"})).await;
    assert_eq!(done.status(), 200);
    app.create(&format!("/api/v1/findings/{f}/closure-requests"), &w.officer, json!({"outcome": "完成"})).await["id"]
        .as_i64()
        .unwrap()
}

fn send(app: &TestApp, token: &str, path: &str, body: Value, if_match: Option<&str>) -> reqwest::RequestBuilder {
    let mut rb = app.client.post(app.url(path)).bearer_auth(token).json(&body);
    if let Some(tag) = if_match {
        rb = rb.header("If-Match", tag);
    }
    rb
}

async fn statuses(a: reqwest::RequestBuilder, b: reqwest::RequestBuilder) -> (u16, u16) {
    let (ra, rb) = join(a.send(), b.send()).await;
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    for r in [&ra, &rb] {
        assert!(r.status().as_u16() < 500, "no 5xx under a race");
    }
    (ra.status().as_u16(), rb.status().as_u16())
}

fn one_winner((a, b): (u16, u16), loser: u16) {
    let mut got = [a, b];
    got.sort();
    let mut want = [200, loser];
    want.sort();
    assert_eq!(got, want, "exactly one applied, the other {loser}");
}

async fn count(app: &TestApp, since: i64, action: &str) -> usize {
    app.events_since(since).await.iter().filter(|(a, _)| a == action).count()
}

async fn concurrent_claims_have_one_winner(app: TestApp) {
    let w = app.world().await;
    let (_, officer2) = app.user("officer2", w.bureau, &["officer"]).await;
    let inspection = app.inspection(&w).await;
    let f = new_finding(&app, &w, inspection, 0).await;
    let since = app.last_event_id().await;
    for _ in 0..4 {
        let a = open_assignment(&app, &w, f).await;
        let path = format!("/api/v1/assignments/{a}/claim");
        let result =
            statuses(send(&app, &w.officer, &path, json!({}), None), send(&app, &officer2, &path, json!({}), None))
                .await;
        one_winner(result, 409);
        let stored = app.get_ok(&format!("/api/v1/assignments/{a}"), &w.viewer).await;
        assert_eq!(stored["status"], "assigned");
        assert_eq!(stored["version"], 2, "one change, one version step");
    }
    assert_eq!(count(&app, since, "assignment.claimed").await, 4, "one audit event per claim that won");
}

async fn concurrent_decisions_have_one_winner(app: TestApp) {
    let w = app.world().await;
    let (_, leader2) = app.user("leader2", w.bureau, &["leader"]).await;
    let inspection = app.inspection(&w).await;
    let since = app.last_event_id().await;
    for (n, if_match) in [(1, None), (2, Some("\"1\"")), (3, None), (4, Some("\"1\""))] {
        let rid = pending_closure(&app, &w, inspection, n).await;
        let path = format!("/api/v1/closure-requests/{rid}/decisions");
        let body = json!({"decision": "approve"});
        let result =
            statuses(send(&app, &w.leader, &path, body.clone(), if_match), send(&app, &leader2, &path, body, if_match))
                .await;
        one_winner(result, if if_match.is_some() { 412 } else { 409 });
        let stored = app.get_ok(&format!("/api/v1/closure-requests/{rid}"), &w.viewer).await;
        assert_eq!(stored["current_step"], 2);
        let decided: Vec<_> =
            stored["steps"].as_array().unwrap().iter().filter(|s| !s["decided_by"].is_null()).collect();
        assert_eq!(decided.len(), 1, "never a half-applied or doubled decision");
    }
    assert_eq!(count(&app, since, "closure.step_approved").await, 4);
}

async fn a_decision_racing_a_withdrawal_has_one_winner(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    for n in 0..4 {
        let rid = pending_closure(&app, &w, inspection, n).await;
        let since = app.last_event_id().await;
        let decide = send(
            &app,
            &w.leader,
            &format!("/api/v1/closure-requests/{rid}/decisions"),
            json!({"decision": "reject", "comment": "补充材料"}),
            None,
        );
        let withdraw = send(&app, &w.officer, &format!("/api/v1/closure-requests/{rid}/withdraw"), json!({}), None);
        one_winner(statuses(decide, withdraw).await, 409);
        let stored = app.get_ok(&format!("/api/v1/closure-requests/{rid}"), &w.viewer).await;
        let events = app.events_since(since).await;
        assert_eq!(events.len(), 1, "one change, one event: {events:?}");
        let expected = match stored["status"].as_str().unwrap() {
            "rejected" => "closure.rejected",
            "withdrawn" => "closure.withdrawn",
            other => panic!("unexpected status {other}"),
        };
        assert_eq!(events[0].0, expected);
        let finding = app.get_ok(&format!("/api/v1/findings/{}", stored["finding_id"]), &w.viewer).await;
        assert_eq!(finding["status"], "in_progress");
    }
}

db_tests!(
    concurrent_claims_have_one_winner,
    concurrent_decisions_have_one_winner,
    a_decision_racing_a_withdrawal_has_one_winner
);
