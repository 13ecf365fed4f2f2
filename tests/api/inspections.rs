//! §4: inspections, sections and the ledger.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, TestApp};

async fn inspections_validate_dates_units_and_chain(app: TestApp) {
    let w = app.world().await;
    let base = json!({
        "title": "巡察", "inspecting_body": "区委第三巡察组", "inspecting_unit_id": w.group,
        "inspected_unit_id": w.bureau, "started_on": "2024-05-24", "ended_on": "2024-07-24"
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("ended_on", json!("2024-05-01")), "ended_on"),
        (with("feedback_on", json!("2024-07-01")), "feedback_on"),
        (with("approval_chain", json!([])), "approval_chain"),
        (with("approval_chain", json!(["leader", "officer"])), "approval_chain"),
        (with("approval_chain", json!(vec!["leader"; 6])), "approval_chain"),
        (with("inspected_unit_id", json!(999_999)), "inspected_unit_id"),
        (with("title", json!("  ")), "title"),
        (with("started_on", json!("2024-13-01")), "started_on"),
        (with("status", json!("published")), "status"),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/inspections", Some(&w.inspector), &body).await;
        assert_eq!(fields(&problem(res, 422).await), [field], "{body}");
    }
    let created = app.create("/api/v1/inspections", &w.inspector, base.clone()).await;
    assert_eq!(created["status"], "rectifying");
    assert_eq!(created["approval_chain"], json!(["leader", "inspector"]));
    assert!(created["published_at"].is_null());
    // Only inspectors (and admins) create inspections.
    for token in [&w.leader, &w.officer, &w.viewer] {
        problem(app.post("/api/v1/inspections", Some(token), &base).await, 403).await;
    }
    // Neither unit in the caller's scope.
    let (_, stranger) = app.user("stranger", w.other, &["inspector"]).await;
    let res = app.post("/api/v1/inspections", Some(&stranger), &base).await;
    assert_eq!(fields(&problem(res, 422).await), ["inspected_unit_id"]);
    // PATCH validates against the stored dates.
    let path = format!("/api/v1/inspections/{}", created["id"]);
    let res = app.patch(&path, Some(&w.inspector), Some("\"1\""), &json!({"ended_on": "2024-01-01"})).await;
    assert_eq!(fields(&problem(res, 422).await), ["ended_on"]);
    let updated = app
        .update(&path, &w.inspector, json!({"approval_chain": ["leader", "admin", "inspector"], "topic": null}))
        .await;
    assert_eq!(updated["approval_chain"], json!(["leader", "admin", "inspector"]));
    assert!(updated["topic"].is_null());
    assert_eq!(updated["version"], 2);
}

async fn sections_nest_three_levels_and_delete_only_when_empty(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let path = format!("/api/v1/inspections/{inspection}/sections");
    let category = app.create(&path, &w.inspector, json!({"title": "聚焦政治站位方面"})).await;
    assert_eq!((category["level"].as_i64(), category["position"].as_i64()), (Some(1), Some(1)));
    let aspect = app.create(&path, &w.inspector, json!({"title": "学习贯彻情况", "parent_id": category["id"]})).await;
    assert_eq!(aspect["level"], 2);
    let sub = app.create(&path, &w.inspector, json!({"title": "细项", "parent_id": aspect["id"]})).await;
    assert_eq!(sub["level"], 3);
    let too_deep = app.post(&path, Some(&w.inspector), &json!({"title": "x", "parent_id": sub["id"]})).await;
    assert_eq!(fields(&problem(too_deep, 422).await), ["parent_id"]);
    let second = app.create(&path, &w.inspector, json!({"title": "聚焦责任落实方面"})).await;
    assert_eq!(second["position"], 2);
    // Moving the aspect (with its child) under the second category keeps levels; moving the category under the sub-aspect is a cycle.
    let moved = app
        .update(&format!("/api/v1/sections/{}", aspect["id"]), &w.inspector, json!({"parent_id": second["id"]}))
        .await;
    assert_eq!(moved["level"], 2);
    assert_eq!(app.get_ok(&format!("/api/v1/sections/{}", aspect["id"]), &w.viewer).await["parent_id"], second["id"]);
    let cycle = app
        .patch(
            &format!("/api/v1/sections/{}", second["id"]),
            Some(&w.inspector),
            Some("\"1\""),
            &json!({"parent_id": sub["id"]}),
        )
        .await;
    assert_eq!(fields(&problem(cycle, 422).await), ["parent_id"]);
    // A category under another category would push the sub-aspect to level 4.
    let deep = app
        .patch(
            &format!("/api/v1/sections/{}", second["id"]),
            Some(&w.inspector),
            Some("\"1\""),
            &json!({"parent_id": category["id"]}),
        )
        .await;
    assert_eq!(fields(&problem(deep, 422).await), ["parent_id"]);

    app.finding(&w, inspection, "问题", json!({"section_id": sub["id"]})).await;
    let del =
        |id: &Value| app.client.delete(app.url(&format!("/api/v1/sections/{id}"))).bearer_auth(&w.inspector).send();
    problem(del(&aspect["id"]).await.unwrap(), 409).await;
    problem(del(&sub["id"]).await.unwrap(), 409).await;
    assert_eq!(del(&category["id"]).await.unwrap().status(), 204);
    problem(app.get(&format!("/api/v1/sections/{}", category["id"]), Some(&w.inspector)).await, 404).await;
    let listed = app.get_ok(&path, &w.viewer).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
}

async fn ledger_is_a_tree_with_totals(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let path = format!("/api/v1/inspections/{inspection}/sections");
    let c2 = app.create(&path, &w.inspector, json!({"title": "聚焦责任落实方面", "position": 2})).await;
    let c1 = app.create(&path, &w.inspector, json!({"title": "聚焦政治站位方面", "position": 1})).await;
    let a1 = app.create(&path, &w.inspector, json!({"title": "学习贯彻情况", "parent_id": c1["id"]})).await;
    let a2 = app.create(&path, &w.inspector, json!({"title": "落实重点任务情况", "parent_id": c2["id"]})).await;
    app.finding(&w, inspection, "问题一", json!({"section_id": a1["id"]})).await;
    app.finding(&w, inspection, "问题二", json!({"section_id": a1["id"]})).await;
    app.finding(&w, inspection, "问题三", json!({"section_id": a2["id"]})).await;
    app.finding(&w, inspection, "未归类问题", json!({})).await;
    let ledger = app.get_ok(&format!("/api/v1/inspections/{inspection}/ledger"), &w.viewer).await;
    assert_eq!(ledger["inspection"]["id"], inspection);
    let titles: Vec<_> = ledger["sections"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["聚焦政治站位方面", "聚焦责任落实方面"], "position order");
    let first_aspect = &ledger["sections"][0]["children"][0];
    assert_eq!(first_aspect["title"], "学习贯彻情况");
    let seqs: Vec<_> =
        first_aspect["findings"].as_array().unwrap().iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(ledger["unsectioned_findings"][0]["title"], "未归类问题");
    assert_eq!(
        ledger["totals"],
        json!({"categories": 2, "aspects": 2, "findings": 4, "by_status": {"open": 4, "in_progress": 0, "pending_closure": 0, "blocked": 0, "closed": 0}})
    );
}

db_tests!(
    inspections_validate_dates_units_and_chain,
    sections_nest_three_levels_and_delete_only_when_empty,
    ledger_is_a_tree_with_totals
);
