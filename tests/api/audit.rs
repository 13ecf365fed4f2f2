//! §2/§6: every mutation writes one audit event; refusals write none; the
//! database refuses to change events.

use diesel::RunQueryDsl;
use serde_json::json;

use crate::db_tests;
use crate::helpers::{problem, Backend, TestApp};

async fn each_mutation_writes_one_event(app: TestApp) {
    let w = app.world().await;
    let start = app.last_event_id().await;
    let inspection = app.inspection(&w).await;
    let section =
        app.create(&format!("/api/v1/inspections/{inspection}/sections"), &w.inspector, json!({"title": "类"})).await;
    let f = app.finding(&w, inspection, "问题", json!({"section_id": section["id"]})).await;
    let fid = f["id"].as_i64().unwrap();
    app.update(&format!("/api/v1/findings/{fid}"), &w.inspector, json!({"measures": "措施"})).await;
    app.update(&format!("/api/v1/inspections/{inspection}"), &w.inspector, json!({"topic": "新主题"})).await;
    app.update(&format!("/api/v1/sections/{}", section["id"]), &w.inspector, json!({"title": "大类"})).await;
    let actions: Vec<String> = app.events_since(start).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        actions,
        [
            "inspection.created",
            "section.created",
            "finding.created",
            "finding.updated",
            "inspection.updated",
            "section.updated"
        ]
    );
    // Refusals change nothing and record nothing.
    let before = app.last_event_id().await;
    problem(
        app.post("/api/v1/findings", Some(&w.viewer), &json!({"inspection_id": inspection, "title": "x"})).await,
        403,
    )
    .await;
    problem(
        app.post("/api/v1/findings", Some(&w.inspector), &json!({"inspection_id": inspection, "title": ""})).await,
        422,
    )
    .await;
    problem(
        app.post("/api/v1/findings", Some(&w.inspector), &json!({"inspection_id": inspection, "title": "x", "seq": 1}))
            .await,
        409,
    )
    .await;
    assert!(app.events_since(before).await.is_empty());

    // The finding's history holds its own events with who, what and before/after.
    let history = app.get_ok(&format!("/api/v1/findings/{fid}/history"), &w.viewer).await;
    let items = history["items"].as_array().unwrap();
    let actions: Vec<_> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["finding.created", "finding.updated"]);
    assert!(items[1]["data"]["before"]["measures"].is_null());
    assert_eq!(items[1]["data"]["after"]["measures"], "措施");
    assert!(items[1]["actor_id"].as_i64().is_some());
    assert!(items[1]["request_id"].as_str().is_some());
    // Ids ascend (the writes were serial, so they are even gapless here).
    app.feed_settled().await;
    let feed = app.get_ok(&format!("/api/v1/events?after={start}"), &app.admin).await;
    let ids: Vec<i64> = feed["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, ((start + 1)..=(start + 6)).collect::<Vec<_>>());
}

async fn the_database_refuses_to_change_events(app: TestApp) {
    let mut conn = app.db.get().unwrap();
    for sql in ["UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"] {
        let result = diesel::sql_query(sql).execute(&mut *conn);
        assert!(result.is_err(), "{sql} must fail");
    }
    if app.backend == Backend::Postgres {
        assert!(diesel::sql_query("TRUNCATE audit_events").execute(&mut *conn).is_err(), "TRUNCATE must fail");
    }
    drop(conn);
    app.feed_settled().await;
    let feed = app.get_ok("/api/v1/events", &app.admin).await;
    assert_eq!(feed["items"][0]["action"], "org_unit.created", "{feed}");
}

db_tests!(each_mutation_writes_one_event, the_database_refuses_to_change_events);
