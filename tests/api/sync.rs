//! §9.3: what systems that sync incrementally need — `updated_after` on findings, and
//! the change feed filtered by inspection, entity type and event type.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{problem, TestApp};

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

async fn updated_after_returns_only_findings_changed_since(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let f1 = app.finding(&w, inspection, "问题一", json!({})).await;
    let f2 = app.finding(&w, inspection, "问题二", json!({})).await;
    let since = f2["updated_at"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let f3 = app.finding(&w, inspection, "问题三", json!({})).await;
    app.update(&format!("/api/v1/findings/{}", f1["id"]), &w.inspector, json!({"measures": "补充措施"})).await;
    let since_q = since.replace('+', "%2B");
    let page = app
        .get_ok(
            &format!("/api/v1/findings?inspection_id={inspection}&updated_after={since_q}&sort=updated_at"),
            &w.viewer,
        )
        .await;
    assert_eq!(
        ids(&page),
        [f3["id"].as_i64().unwrap(), f1["id"].as_i64().unwrap()],
        "strictly after, oldest change first"
    );
    problem(app.get("/api/v1/findings?updated_after=yesterday", Some(&w.viewer)).await, 400).await;
}

async fn the_feed_filters_by_inspection_entity_type_and_action(app: TestApp) {
    let w = app.world().await;
    let a = app.inspection(&w).await;
    let b = app.inspection(&w).await;
    let fa = app.finding(&w, a, "甲的问题", json!({})).await;
    app.finding(&w, b, "乙的问题", json!({})).await;
    app.update(&format!("/api/v1/findings/{}", fa["id"]), &w.inspector, json!({"measures": "措施"})).await;
    app.feed_settled().await;
    let events = |q: String| {
        let app = &app;
        async move {
            app.get_ok(&format!("/api/v1/events?limit=200&{q}"), &app.admin).await["items"].as_array().unwrap().clone()
        }
    };
    let of_a = events(format!("inspection_id={a}")).await;
    assert!(!of_a.is_empty() && of_a.iter().all(|e| e["inspection_id"] == a), "{of_a:?}");
    let about_findings = events("entity_type=finding".into()).await;
    assert_eq!(about_findings.len(), 3, "two created, one updated");
    assert!(about_findings.iter().all(|e| e["entity_type"] == "finding"));
    let updated = events(format!("action=finding.updated&inspection_id={a}")).await;
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["entity_id"], fa["id"]);
    let p = problem(app.get("/api/v1/events?action=finding.nope", Some(&app.admin)).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "action");
}

db_tests!(updated_after_returns_only_findings_changed_since, the_feed_filters_by_inspection_entity_type_and_action);
