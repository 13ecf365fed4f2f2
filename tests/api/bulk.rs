//! §9.3: `POST /api/v1/findings/bulk-update`, atomic and item by item.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{problem, TestApp, World};

async fn three(app: &TestApp, w: &World) -> Vec<i64> {
    let inspection = app.inspection(w).await;
    let mut ids = Vec::new();
    for t in ["问题一", "问题二", "问题三"] {
        ids.push(app.finding(w, inspection, t, json!({})).await["id"].as_i64().unwrap());
    }
    ids
}

async fn bulk(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/findings/bulk-update", Some(token), &body).await
}

async fn versions(app: &TestApp, w: &World, ids: &[i64]) -> Vec<i64> {
    let mut out = Vec::new();
    for id in ids {
        out.push(app.get_ok(&format!("/api/v1/findings/{id}"), &w.viewer).await["version"].as_i64().unwrap());
    }
    out
}

async fn an_atomic_bulk_update_applies_every_item_with_its_own_event(app: TestApp) {
    let w = app.world().await;
    let ids = three(&app, &w).await;
    let since = app.last_event_id().await;
    let items: Vec<Value> =
        ids.iter().map(|id| json!({"id": id, "version": 1, "changes": {"measures": "统一整改措施"}})).collect();
    let res = bulk(&app, &w.inspector, json!({"atomic": true, "items": items})).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["status"] == 200 && r["version"] == 2 && r["problem"].is_null()), "{body}");
    assert_eq!(versions(&app, &w, &ids).await, [2, 2, 2]);
    let events = app.events_since(since).await;
    let updated: Vec<i64> = events.iter().filter(|(a, _)| a == "finding.updated").map(|(_, id)| *id).collect();
    assert_eq!(updated, ids, "one event per applied item");
}

async fn an_atomic_bulk_update_with_a_failing_item_changes_nothing(app: TestApp) {
    let w = app.world().await;
    let ids = three(&app, &w).await;
    let since = app.last_event_id().await;
    // Item 1 names a stale version: 409 naming it, nothing applied.
    let stale = json!({"atomic": true, "items": [
        {"id": ids[0], "version": 1, "changes": {"measures": "甲"}},
        {"id": ids[1], "version": 7, "changes": {"measures": "乙"}},
    ]});
    let p = problem(bulk(&app, &w.inspector, stale).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("items[1]"), "{p}");
    // Item 2 is invalid: 422 naming its field.
    let invalid = json!({"atomic": true, "items": [
        {"id": ids[0], "version": 1, "changes": {"measures": "甲"}},
        {"id": ids[1], "version": 1, "changes": {"measures": "乙"}},
        {"id": ids[2], "version": 1, "changes": {"title": "   "}},
    ]});
    let p = problem(bulk(&app, &w.inspector, invalid).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "items[2].changes.title");
    assert_eq!(versions(&app, &w, &ids).await, [1, 1, 1]);
    assert!(app.events_since(since).await.is_empty(), "no event either");
}

async fn a_non_atomic_bulk_update_reports_each_item(app: TestApp) {
    let w = app.world().await;
    let ids = three(&app, &w).await;
    let body = json!({"items": [
        {"id": ids[0], "version": 1, "changes": {"measures": "甲"}},
        {"id": ids[1], "version": 3, "changes": {"measures": "乙"}},
        {"id": 999999, "version": 1, "changes": {"measures": "丙"}},
        {"id": ids[2], "version": 1, "changes": {"title": ""}},
    ]});
    let res = bulk(&app, &w.inspector, body).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let statuses: Vec<i64> =
        body["results"].as_array().unwrap().iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [200, 412, 404, 422]);
    assert_eq!(body["results"][1]["problem"]["type"], "/problems/precondition-failed");
    assert_eq!(body["results"][3]["problem"]["errors"][0]["field"], "items[3].changes.title");
    assert_eq!(versions(&app, &w, &ids).await, [2, 1, 1]);
}

async fn bulk_updates_are_bounded_and_for_inspectors(app: TestApp) {
    let w = app.world().await;
    let ids = three(&app, &w).await;
    let one = json!({"items": [{"id": ids[0], "version": 1, "changes": {"measures": "甲"}}]});
    problem(bulk(&app, &w.viewer, one).await, 403).await;
    problem(bulk(&app, &w.inspector, json!({"items": []})).await, 422).await;
    let many: Vec<Value> = (0..201).map(|_| json!({"id": ids[0], "version": 1, "changes": {}})).collect();
    problem(bulk(&app, &w.inspector, json!({"items": many})).await, 422).await;
    let status = json!({"items": [{"id": ids[0], "version": 1, "changes": {"status": "closed"}}]});
    problem(bulk(&app, &w.inspector, status).await, 422).await;
    assert_eq!(versions(&app, &w, &ids).await, [1, 1, 1]);
}

db_tests!(
    an_atomic_bulk_update_applies_every_item_with_its_own_event,
    an_atomic_bulk_update_with_a_failing_item_changes_nothing,
    a_non_atomic_bulk_update_reports_each_item,
    bulk_updates_are_bounded_and_for_inspectors,
);
