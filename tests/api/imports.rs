//! Contract §9.4, issue 10 item 2: imports are bounded (`RECTIFY_IMPORT_MAX_FINDINGS`).

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, TestApp, World};

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
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<Count>(&mut *conn).unwrap().n
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
