//! §3 scope: a unit and everything below it; outside is 404 and absent from lists.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{problem, TestApp};

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

async fn other_units_see_nothing(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let finding = app.finding(&w, inspection, "窗口服务人员业务不熟练", json!({})).await;
    let finding_id = finding["id"].as_i64().unwrap();
    let section = app
        .create(
            &format!("/api/v1/inspections/{inspection}/sections"),
            &w.inspector,
            json!({"title": "聚焦作风效能方面"}),
        )
        .await;

    for path in [
        format!("/api/v1/inspections/{inspection}"),
        format!("/api/v1/inspections/{inspection}/ledger"),
        format!("/api/v1/inspections/{inspection}/sections"),
        format!("/api/v1/findings/{finding_id}"),
        format!("/api/v1/findings/{finding_id}/history"),
        format!("/api/v1/org-units/{}", w.bureau),
        format!("/api/v1/users/{}", w.leader_id),
    ] {
        problem(app.get(&path, Some(&w.outsider)).await, 404).await;
    }
    // Writes answer 404 too, never 403: existence must not leak.
    let section_id = section["id"].as_i64().unwrap();
    problem(
        app.patch(&format!("/api/v1/findings/{finding_id}"), Some(&w.outsider), Some("\"1\""), &json!({"title": "x"}))
            .await,
        404,
    )
    .await;
    problem(
        app.patch(
            &format!("/api/v1/inspections/{inspection}"),
            Some(&w.outsider),
            Some("\"1\""),
            &json!({"title": "x"}),
        )
        .await,
        404,
    )
    .await;
    problem(
        app.patch(&format!("/api/v1/sections/{section_id}"), Some(&w.outsider), Some("\"1\""), &json!({"title": "x"}))
            .await,
        404,
    )
    .await;
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/sections/{section_id}")))
        .bearer_auth(&w.outsider)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;
    problem(
        app.post(&format!("/api/v1/inspections/{inspection}/sections"), Some(&w.outsider), &json!({"title": "x"}))
            .await,
        404,
    )
    .await;
    // A body naming an inspection out of scope reads as naming an unknown one.
    let res =
        app.post("/api/v1/findings", Some(&w.outsider), &json!({"inspection_id": inspection, "title": "x"})).await;
    assert_eq!(crate::helpers::fields(&problem(res, 422).await), ["inspection_id"]);
    for path in [
        format!("/api/v1/inspections/{inspection}/stats"),
        format!("/api/v1/inspections/{inspection}/report"),
        format!("/api/v1/inspections/{inspection}/progress-summary"),
        format!("/api/v1/inspections/{inspection}/export"),
        format!("/api/v1/findings/{finding_id}/assignments"),
        format!("/api/v1/findings/{finding_id}/reviews"),
    ] {
        problem(app.get(&path, Some(&w.outsider)).await, 404).await;
    }

    app.feed_settled().await;
    let events = app.get_ok("/api/v1/events?limit=200", &w.outsider).await;
    let events = events["items"].as_array().unwrap();
    assert!(!events.is_empty(), "the outsider's own unit and user are in its feed");
    for e in events {
        assert!(e["inspection_id"].is_null() && e["org_unit_id"].as_i64() == Some(w.other), "leaked event {e}");
    }
    assert!(app.get_ok("/api/v1/findings", &w.outsider).await["items"].as_array().unwrap().is_empty());
    assert!(app.get_ok("/api/v1/inspections", &w.outsider).await["items"].as_array().unwrap().is_empty());
    let units = ids(&app.get_ok("/api/v1/org-units", &w.outsider).await);
    assert_eq!(units, vec![w.other]);
}

async fn sub_units_and_both_sides_see_the_inspection(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let finding = app.finding(&w, inspection, "问题", json!({})).await;
    // The inspected bureau and the inspecting group see it…
    for token in [&w.leader, &w.viewer, &w.inspector] {
        assert_eq!(ids(&app.get_ok("/api/v1/inspections", token).await), vec![inspection]);
        assert_eq!(ids(&app.get_ok("/api/v1/findings", token).await), vec![finding["id"].as_i64().unwrap()]);
    }
    // …but scope looks down, not up: the bureau's sub-office does not.
    assert!(ids(&app.get_ok("/api/v1/inspections", &w.sub_officer).await).is_empty());
    // An inspection of the sub-office is visible to the bureau above it.
    let sub = app
        .create(
            "/api/v1/inspections",
            &w.inspector,
            json!({"title": "专项巡察", "inspecting_body": "区委第三巡察组", "inspecting_unit_id": w.group,
                   "inspected_unit_id": w.office, "started_on": "2024-05-24", "ended_on": "2024-07-24"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(ids(&app.get_ok("/api/v1/inspections", &w.sub_officer).await), vec![sub]);
    assert_eq!(ids(&app.get_ok("/api/v1/inspections", &w.leader).await), vec![inspection, sub]);
    // A leader of the bureau sees the office below it, not the other way round.
    assert_eq!(app.get(&format!("/api/v1/org-units/{}", w.office), Some(&w.leader)).await.status(), 200);
    problem(app.get(&format!("/api/v1/org-units/{}", w.bureau), Some(&w.sub_officer)).await, 404).await;
    let visible = ids(&app.get_ok("/api/v1/users", &w.leader).await);
    assert!(visible.contains(&w.sub_officer_id) && visible.contains(&w.leader_id));
    // Admins see everything.
    assert_eq!(ids(&app.get_ok("/api/v1/inspections", &app.admin).await), vec![inspection, sub]);
}

db_tests!(other_units_see_nothing, sub_units_and_both_sides_see_the_inspection);
