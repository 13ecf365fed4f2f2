//! §2/§6: every mutation writes one audit event; refusals write none; the
//! database refuses to change events; the service's PostgreSQL role cannot either; the hash
//! chain shows an edit made beneath all of that.

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
        let result = diesel::sql_query(sql).execute(&mut **conn);
        assert!(result.is_err(), "{sql} must fail");
    }
    if app.backend == Backend::Postgres {
        assert!(diesel::sql_query("TRUNCATE audit_events").execute(&mut **conn).is_err(), "TRUNCATE must fail");
    }
    drop(conn);
    app.feed_settled().await;
    let feed = app.get_ok("/api/v1/events", &app.admin).await;
    assert_eq!(feed["items"][0]["action"], "org_unit.created", "{feed}");
}

/// Issue 10, defect 6 (a): the role the service runs as owns nothing, so it cannot switch the
/// triggers off, empty the table or step around them; the owner is held by the triggers.
async fn the_service_role_cannot_alter_the_audit_trail(app: TestApp) {
    let w = app.world().await;
    app.finding(&w, app.inspection(&w).await, "问题", json!({})).await;
    // Sealed first, so that the refused row changes would have rows to change.
    let report = app.chain_sealed().await;
    assert_eq!(report["valid"], true, "{report}");
    if app.backend == Backend::Postgres {
        let mut conn = app.db.get().unwrap();
        let current: Vec<Role> = diesel::sql_query("SELECT current_user::text AS name").load(&mut **conn).unwrap();
        assert_eq!(current[0].name, crate::helpers::SERVICE_ROLE);
        for sql in [
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
            "ALTER TABLE audit_events DISABLE TRIGGER ALL",
            "SET session_replication_role = replica",
            "TRUNCATE audit_events",
            "TRUNCATE audit_seals",
            "UPDATE audit_events SET action = 'forged'",
            "DELETE FROM audit_events",
            "UPDATE audit_seals SET hash = 'forged'",
            "DELETE FROM audit_seals",
            "DROP TABLE audit_events",
            "DROP TRIGGER audit_events_no_update_delete ON audit_events",
            "CREATE TABLE forged (id BIGINT)",
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('99999999999999')",
        ] {
            let result = diesel::sql_query(sql).execute(&mut **conn);
            assert!(result.is_err(), "the service role could run: {sql}");
        }
        drop(conn);
        // The owner may alter the table, but the triggers still refuse row changes.
        let owner = app.owner_db();
        let mut conn = owner.get().unwrap();
        for sql in ["UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_seals", "TRUNCATE audit_seals"] {
            assert!(diesel::sql_query(sql).execute(&mut **conn).is_err(), "the owner could run: {sql}");
        }
    } else {
        // SQLite has no roles; what it had was a hole: REPLACE deletes without delete triggers.
        let mut conn = app.db.get().unwrap();
        for sql in [
            "INSERT OR REPLACE INTO audit_events (id, occurred_at, action, entity_type, entity_id, data) \
             VALUES (1, '2026-01-01 00:00:00', 'forged', 'x', 1, '{}')",
            "REPLACE INTO audit_events (id, occurred_at, action, entity_type, entity_id, data) \
             VALUES (1, '2026-01-01 00:00:00', 'forged', 'x', 1, '{}')",
            "INSERT INTO audit_events (id, occurred_at, action, entity_type, entity_id, data) \
             VALUES (1, '2026-01-01 00:00:00', 'forged', 'x', 1, '{}') ON CONFLICT (id) DO UPDATE SET action = 'forged'",
            "INSERT OR REPLACE INTO audit_seals (position, event_id, prev_hash, hash) VALUES (1, 1, 'x', 'forged')",
            "UPDATE audit_seals SET hash = 'forged'",
            "DELETE FROM audit_seals",
        ] {
            let result = diesel::sql_query(sql).execute(&mut **conn);
            assert!(result.is_err(), "{sql} must fail");
        }
    }
    let report = app.chain_sealed().await;
    assert_eq!(report["valid"], true, "{report}");
    app.feed_settled().await;
    let feed = app.get_ok("/api/v1/events", &app.admin).await;
    assert_eq!(feed["items"][0]["action"], "org_unit.created", "{feed}");
    assert!(feed["items"].as_array().unwrap().iter().all(|e| e["action"] != "forged"));
}

#[derive(diesel::QueryableByName)]
struct Role {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Issue 10, defect 6 (b): an edit made beneath the triggers (by whoever may lift them) breaks
/// the hash chain at that event, and both the endpoint and `rectify audit verify` say where.
async fn the_hash_chain_shows_an_edit(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let f = app.finding(&w, inspection, "问题", json!({})).await;
    let fid = f["id"].as_i64().unwrap();
    app.update(&format!("/api/v1/findings/{fid}"), &w.inspector, json!({"measures": "措施"})).await;
    let report = app.chain_sealed().await;
    assert_eq!(report["valid"], true, "{report}");
    assert!(report["first_broken"].is_null(), "{report}");
    let total = app.get_ok("/api/v1/events?limit=200", &app.admin).await["items"].as_array().unwrap().len();
    assert_eq!(report["sealed"], total as i64, "{report}");
    assert_eq!(report["head"]["position"], total as i64, "{report}");
    assert_eq!(report["head"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(verify_cli(&app), (0, true));
    // Only admins verify.
    problem(app.get("/api/v1/events/verify", Some(&w.inspector)).await, 403).await;

    if app.backend == Backend::Postgres {
        // An event slipped into the sealed part of the trail (an old transaction id, an unused
        // id), as the service's own role could: it may append.
        let mut conn = app.db.get().unwrap();
        diesel::sql_query(
            "INSERT INTO audit_events (id, occurred_at, action, entity_type, entity_id, data, txid) \
             VALUES (900000001, '2026-01-01 00:00:00', 'finding.created', 'finding', 1, '{}', 1)",
        )
        .execute(&mut **conn)
        .unwrap();
        let report = app.get_ok("/api/v1/events/verify", &app.admin).await;
        assert_eq!(report["valid"], false, "{report}");
        assert_eq!(report["first_broken"]["problem"], "inserted", "{report}");
        assert_eq!(report["first_broken"]["event_id"], 900000001, "{report}");
    }

    // The finding's creation, rewritten in place as someone who can lift the triggers would.
    let history = app.get_ok(&format!("/api/v1/findings/{fid}/history"), &app.admin).await;
    let created = history["items"][0]["id"].as_i64().unwrap();
    let owner = app.owner_db();
    let mut conn = owner.get().unwrap();
    let edit = format!("UPDATE audit_events SET data = '{{\"after\":{{\"title\":\"改过\"}}}}' WHERE id = {created}");
    match app.backend {
        Backend::Postgres => {
            diesel::sql_query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete")
                .execute(&mut **conn)
                .unwrap();
            diesel::sql_query(&edit).execute(&mut **conn).unwrap();
            diesel::sql_query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete")
                .execute(&mut **conn)
                .unwrap();
        }
        Backend::Sqlite => {
            diesel::sql_query("DROP TRIGGER audit_events_no_update").execute(&mut **conn).unwrap();
            diesel::sql_query(&edit).execute(&mut **conn).unwrap();
        }
    }
    let report = app.get_ok("/api/v1/events/verify", &app.admin).await;
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["first_broken"]["event_id"], created, "{report}");
    assert_eq!(report["first_broken"]["problem"], "changed", "{report}");
    assert_eq!(verify_cli(&app), (1, false));
}

/// Runs `rectify audit verify` on the app's database: its exit code and the report's `valid`.
fn verify_cli(app: &TestApp) -> (i32, bool) {
    let out = crate::helpers::rectify_cli(app, &["audit", "verify"]);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report["valid"].as_bool().unwrap())
}

db_tests!(
    each_mutation_writes_one_event,
    the_database_refuses_to_change_events,
    the_service_role_cannot_alter_the_audit_trail,
    the_hash_chain_shows_an_edit,
);
