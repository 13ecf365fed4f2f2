//! Contract §9.4, issue 10 item 2: imports are bounded (`RECTIFY_IMPORT_MAX_FINDINGS`), and a
//! client that goes away stops its import, which then leaves nothing behind.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, Backend, TestApp, World};

/// A JSON ledger of `n` findings under no section, the shape of the 2 MiB ledger.
fn ledger(w: &World, n: usize) -> Value {
    json!({
        "inspection": {"title": "大账本", "inspecting_body": "区委第三巡察组", "inspecting_unit_id": w.group,
                       "inspected_unit_id": w.bureau, "started_on": "2024-05-24", "ended_on": "2024-07-24"},
        "findings": (1..=n).map(|i| json!({"title": format!("问题{i}")})).collect::<Vec<_>>(),
    })
}

async fn import_json(app: &TestApp, w: &World, body: &Value, query: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/inspections/import{query}")))
        .bearer_auth(&w.inspector)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn import_text(app: &TestApp, w: &World, text: String, query: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/inspections/import?inspecting_unit_id={}&inspected_unit_id={}&inspecting_body=区委第三巡察组\
             &started_on=2024-05-24&ended_on=2024-07-24{query}",
            w.group, w.bureau
        )))
        .bearer_auth(&w.inspector)
        .header("content-type", "text/plain; charset=utf-8")
        .body(text)
        .send()
        .await
        .unwrap()
}

/// Rows of a table, read straight from the database (what no list could hide).
async fn rows(app: &TestApp, table: &'static str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<Count>(&mut **conn).unwrap().n
    })
    .await
    .unwrap()
}

/// One finding more than `RECTIFY_IMPORT_MAX_FINDINGS` (5,000 by default) is a 422 naming the
/// count and the limit, for a JSON ledger and a text document alike, dry run or not, and
/// nothing is saved; the limit itself is accepted.
async fn imports_above_the_bound_are_refused_and_change_nothing(app: TestApp) {
    let w = app.world().await;
    let before = app.last_event_id().await;
    let too_many = ledger(&w, 5001);
    // 51 categories of 100 problems (a heading number has at most 3 digits).
    let document = (1..=51)
        .map(|c| format!("{c}.类别{c}\n{}", (1..=100).map(|p| format!("({p})问题{c}-{p}\n")).collect::<String>()))
        .collect::<String>();
    for dry_run in ["", "?dry_run=true"] {
        let p = problem(import_json(&app, &w, &too_many, dry_run).await, 422).await;
        assert_eq!(fields(&p), ["findings"], "{p}");
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("5001") && message.contains("5000"), "{message}");

        let p = problem(import_text(&app, &w, document.clone(), &dry_run.replace('?', "&")).await, 422).await;
        assert_eq!(fields(&p), ["findings"], "{p}");
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("5100"), "{p}");
    }
    assert_eq!(app.events_since(before).await, []);
    assert_eq!((rows(&app, "inspections").await, rows(&app, "findings").await), (0, 0));

    // The limit itself is not above it.
    let res = import_json(&app, &w, &ledger(&w, 5000), "?dry_run=true").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["totals"]["findings"], 5000);
}

db_tests!(imports_above_the_bound_are_refused_and_change_nothing);

/// A dry run is the import minus its commit (issue 12): what the import refuses when saving
/// (an org unit that does not exist, dates out of order, a leader who cannot see the
/// inspection) a dry run refuses too, with the same problem; a dry run that passes is
/// followed by an import that passes; and a dry run leaves nothing, not even an event.
async fn a_dry_run_makes_every_check_the_import_makes(app: TestApp) {
    let w = app.world().await;
    let tables = ["inspections", "sections", "findings", "audit_events", "webhook_deliveries"];
    let mut before = Vec::new();
    for t in tables {
        before.push(rows(&app, t).await);
    }
    let mut unknown_unit = ledger(&w, 3);
    unknown_unit["inspection"]["inspected_unit_id"] = json!(987_654);
    let mut backwards = ledger(&w, 3);
    backwards["inspection"]["ended_on"] = json!("2024-05-01");
    let mut stranger = ledger(&w, 3);
    stranger["findings"][1]["responsible_leader_id"] = json!(w.sub_officer_id);
    for (what, body) in
        [("an unknown unit", &unknown_unit), ("dates out of order", &backwards), ("a leader out of scope", &stranger)]
    {
        let dry = problem(import_json(&app, &w, body, "?dry_run=true").await, 422).await;
        let real = problem(import_json(&app, &w, body, "").await, 422).await;
        assert_eq!(dry["errors"], real["errors"], "{what}: the dry run and the import disagree");
        assert!(!fields(&dry).is_empty(), "{what}: {dry}");
    }
    for (t, n) in tables.iter().zip(&before) {
        assert_eq!(rows(&app, t).await, *n, "{t}: a refused import or a dry run left rows");
    }
    let good = ledger(&w, 3);
    let dry = import_json(&app, &w, &good, "?dry_run=true").await;
    assert_eq!(dry.status(), 200);
    for (t, n) in tables.iter().zip(&before) {
        assert_eq!(rows(&app, t).await, *n, "{t}: a dry run left rows");
    }
    assert_eq!(import_json(&app, &w, &good, "").await.status(), 201);
    assert_eq!(rows(&app, "findings").await, before[2] + 3);
}

db_tests!(a_dry_run_makes_every_check_the_import_makes);

/// A client that disconnects while its import is writing stops the import: it rolls back, none
/// of it is left (no inspection, no finding, no event), and the service goes on answering and
/// writing. Without the cancellation the import ran on for nobody and committed.
async fn a_client_that_goes_away_stops_its_import(app: TestApp) {
    let w = app.world().await;
    let before = app.last_event_id().await;
    // Large enough to write for many seconds; the client leaves within the first one.
    let body = ledger(&w, 20_000);
    let request = app.client.post(app.url("/api/v1/inspections/import")).bearer_auth(&w.inspector).json(&body).send();
    let client = tokio::spawn(request);

    // The import is writing once a pooled connection has been held for 300 ms on end (requests
    // and the background tasks hold theirs for milliseconds).
    let busy = || {
        let (open, idle, _) = app.db.pool_state();
        open > idle
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut held_since: Option<Instant> = None;
    loop {
        assert!(Instant::now() < deadline, "the import never started writing");
        assert!(!client.is_finished(), "the import finished before its client could leave: make it larger");
        match (busy(), held_since) {
            (true, Some(since)) if since.elapsed() >= Duration::from_millis(300) => break,
            (true, None) => held_since = Some(Instant::now()),
            (false, _) => held_since = None,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The client goes away: its request is dropped and its connection closed.
    client.abort();
    assert!(client.await.unwrap_err().is_cancelled());

    // Whatever the import does now (roll back, or run on to its commit), it ends; then every
    // pooled connection is back.
    let deadline = Instant::now() + Duration::from_secs(300);
    while busy() {
        assert!(Instant::now() < deadline, "the import still holds its connection after 5 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        (rows(&app, "inspections").await, rows(&app, "findings").await, rows(&app, "sections").await),
        (0, 0, 0),
        "the abandoned import left rows behind"
    );
    assert_eq!(app.events_since(before).await, [], "the abandoned import left events behind");

    // The service answers, and writes, as before.
    let res = import_json(&app, &w, &ledger(&w, 2), "").await;
    assert_eq!(res.status(), 201);
    assert_eq!(rows(&app, "findings").await, 2);
}

mod a_client_that_goes_away_stops_its_import {
    use super::*;

    const ROOMY: &[(&str, &str)] = &[("RECTIFY_IMPORT_MAX_FINDINGS", "20000")];

    #[tokio::test]
    async fn sqlite() {
        let app = TestApp::spawn_with(Backend::Sqlite, ROOMY).await.expect("sqlite");
        let handle = app.handle.clone();
        super::a_client_that_goes_away_stops_its_import(app).await;
        handle.stop(false).await;
    }

    #[tokio::test]
    async fn postgres() {
        if let Some(app) = TestApp::spawn_postgres(ROOMY).await {
            let handle = app.handle.clone();
            super::a_client_that_goes_away_stops_its_import(app).await;
            handle.stop(false).await;
        }
    }
}
