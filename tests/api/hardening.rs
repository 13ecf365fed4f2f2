//! Contract §9.4: what a hostile client found (issue 10), each with the test of its fix.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, TestApp};

/// No text column stores a NUL character (PostgreSQL refuses it): 422 on both databases,
/// before anything reaches the database — sign-in, query strings and bodies alike.
async fn nul_characters_are_422_everywhere(app: TestApp) {
    let w = app.world().await;
    let res = app.post("/api/v1/auth/token", None, &json!({"username": "a\u{0}b", "password": "xxxxxxxxxxxx"})).await;
    assert_eq!(fields(&problem(res, 422).await), ["username"]);

    let res = app.get("/api/v1/findings?q=%00", Some(&w.inspector)).await;
    assert_eq!(fields(&problem(res, 422).await), ["q"]);

    let inspection = app.inspection(&w).await;
    let body = json!({"inspection_id": inspection, "title": "整改\u{0}台账"});
    let res = app.post("/api/v1/findings", Some(&w.inspector), &body).await;
    assert_eq!(fields(&problem(res, 422).await), ["title"]);
    // Nested and in keys too.
    let body = json!({"items": [{"id": 1, "version": 1, "changes": {"measures": "a\u{0}"}}]});
    let res = app.post("/api/v1/findings/bulk-update", Some(&w.inspector), &body).await;
    assert_eq!(fields(&problem(res, 422).await), ["items[0].changes.measures"]);
    // Written as text, `\u0000` is just six characters.
    let body = json!({"inspection_id": inspection, "title": "转义 \\u0000 不是空字符"});
    app.create("/api/v1/findings", &w.inspector, body).await;
}

/// A finding's responsible unit lies in the caller's scope or under the inspected unit; any
/// other unit, and one that does not exist, get the same 422 (no oracle for unit ids).
async fn responsible_units_stay_in_bounds(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    // Under the inspected bureau: fine.
    app.finding(&w, inspection, "审批一科窗口服务不规范", json!({"responsible_unit_id": w.office})).await;
    let body = |unit: i64| json!({"inspection_id": inspection, "title": "指向他处", "responsible_unit_id": unit});
    let elsewhere = problem(app.post("/api/v1/findings", Some(&w.inspector), &body(w.other)).await, 422).await;
    let unknown = problem(app.post("/api/v1/findings", Some(&w.inspector), &body(987_654)).await, 422).await;
    assert_eq!(elsewhere["errors"], unknown["errors"], "out of bounds and unknown answer alike");
    assert_eq!(fields(&elsewhere), ["responsible_unit_id"]);

    let finding = app.finding(&w, inspection, "窗口人员业务不熟", json!({})).await;
    let id = finding["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/findings/{id}"),
            Some(&w.inspector),
            Some("\"1\""),
            &json!({"responsible_unit_id": w.other}),
        )
        .await;
    assert_eq!(problem(res, 422).await["errors"], unknown["errors"]);
}

/// Once an inspection has findings, its units no longer move (its ledger would leave its people's view).
async fn inspections_with_findings_keep_their_units(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let path = format!("/api/v1/inspections/{inspection}");
    // Without findings a correction is fine.
    let updated = app.update(&path, &w.inspector, json!({"inspected_unit_id": w.office})).await;
    assert_eq!(updated["inspected_unit_id"], w.office);
    let updated = app.update(&path, &w.inspector, json!({"inspected_unit_id": w.bureau})).await;
    app.finding(&w, inspection, "问题一", json!({})).await;
    let version = updated["version"].as_i64().unwrap();
    let if_match = format!("\"{version}\"");
    for change in [json!({"inspected_unit_id": w.office}), json!({"inspecting_unit_id": w.bureau})] {
        let res = app.patch(&path, Some(&w.inspector), Some(&if_match), &change).await;
        problem(res, 409).await;
    }
    // Naming the same units again is no move.
    let same = json!({"inspected_unit_id": w.bureau, "title": "区委第三巡察组巡察区行政审批服务局党组（修订）"});
    assert_eq!(app.patch(&path, Some(&w.inspector), Some(&if_match), &same).await.status(), 200);
    let after: Value = app.get_ok(&path, &w.inspector).await;
    assert_eq!(after["inspected_unit_id"], w.bureau);
}

/// Cells a spreadsheet would run as formulas are exported as text (a leading `'`).
async fn exports_neutralise_formulas(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let evil = "=HYPERLINK(\"http://evil.example\",\"x\")";
    app.finding(&w, inspection, "+1 公式标题", json!({"measures": evil})).await;
    let res = app.get(&format!("/api/v1/inspections/{inspection}/export?format=csv"), Some(&w.viewer)).await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(csv.contains("'+1 公式标题"), "{csv}");
    assert!(csv.contains("'=HYPERLINK("), "{csv}");
    assert!(!csv.contains(",=HYPERLINK(") && !csv.contains(",\"=HYPERLINK("), "{csv}");

    let res = app.get(&format!("/api/v1/inspections/{inspection}/export?format=xlsx"), Some(&w.viewer)).await;
    let bytes = res.bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.iter().any(|c| c.starts_with("'=HYPERLINK(")), "{cells:?}");
    assert!(!cells.iter().any(|c| c.starts_with("=HYPERLINK(")), "{cells:?}");
}

/// The HTML report runs nothing and is never sniffed as anything else.
async fn the_html_report_has_a_content_security_policy(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let res = app.get(&format!("/api/v1/inspections/{inspection}/report?format=html"), Some(&w.viewer)).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    // Every other answer is not sniffed either.
    assert_eq!(app.get("/healthz", None).await.headers()["x-content-type-options"], "nosniff");
}

/// What the spec now declares, the server holds to: an empty cursor, a malformed `If-Match` and
/// text over its limit counted as sent are refused with problem documents, and change nothing.
async fn declared_syntax_is_enforced(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let res = app.get(&format!("/api/v1/findings?inspection_id={inspection}&cursor="), Some(&w.inspector)).await;
    assert!(problem(res, 400).await["detail"].as_str().unwrap().contains("cursor"));

    let finding = app.finding(&w, inspection, "台账未及时更新", json!({})).await;
    let path = format!("/api/v1/findings/{}", finding["id"]);
    for bad in ["1", "W/1", "*, \"1\"", "\"1\",,\"2\""] {
        let res = app.patch(&path, Some(&w.inspector), Some(bad), &json!({"title": "改了"})).await;
        problem(res, 400).await;
    }
    let padded = format!("标题{}", " ".repeat(500));
    let res = app.patch(&path, Some(&w.inspector), Some("\"1\""), &json!({"title": padded})).await;
    assert_eq!(fields(&problem(res, 422).await), ["title"]);
    let unchanged = app.get_ok(&path, &w.inspector).await;
    assert_eq!((unchanged["title"].as_str(), unchanged["version"].as_i64()), (Some("台账未及时更新"), Some(1)));
}

/// What schemathesis found against the served spec (issue 10): each now answers as declared.
async fn fuzzer_findings_answer_as_declared(app: TestApp) {
    // A method a fixed path does not have is a 405 naming that path's methods, not a 400 from
    // the `{id}` route beside it.
    for path in ["/api/v1/findings/bulk-update", "/api/v1/inspections/import"] {
        let res = app.client.patch(app.url(path)).bearer_auth(&app.admin).send().await.unwrap();
        assert_eq!(res.headers()["allow"], "POST", "{path}");
        problem(res, 405).await;
    }
    // An admin's webhook for a unit that does not exist: 422 naming the field, not a 409.
    let res = app
        .post(
            "/api/v1/webhooks",
            Some(&app.admin),
            &json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"], "org_unit_id": 999_999}),
        )
        .await;
    assert!(fields(&problem(res, 422).await).contains(&"org_unit_id".to_owned()));
    // A comma inside a quoted entity tag is part of the tag: a well-formed If-Match that
    // matches nothing (412), not a malformed one (400).
    let w = app.world().await;
    let f = app.finding(&w, app.inspection(&w).await, "问题", json!({})).await;
    let res = app
        .patch(&format!("/api/v1/findings/{}", f["id"]), Some(&w.inspector), Some("\"a,b\""), &json!({"measures": "x"}))
        .await;
    problem(res, 412).await;
    // A NUL in a parameter the operation does not have is an unknown parameter (400); in one
    // it has, a value it cannot store (422).
    problem(app.get("/api/v1/findings?a=%00", Some(&app.admin)).await, 400).await;
    problem(app.get("/api/v1/findings?q=%00", Some(&app.admin)).await, 422).await;
    // An empty item of an enumerated list is refused, not skipped; a user id is `me` or up to
    // 18 digits, exactly as declared.
    let res = app.get("/api/v1/extension-requests?status=", Some(&app.admin)).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = app.get("/api/v1/assignments?assignee_id=6635952508717972152727", Some(&app.admin)).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(app.get("/api/v1/assignments?assignee_id=me", Some(&w.officer)).await.status(), 200);
}

db_tests!(
    fuzzer_findings_answer_as_declared,
    declared_syntax_is_enforced,
    nul_characters_are_422_everywhere,
    responsible_units_stay_in_bounds,
    inspections_with_findings_keep_their_units,
    exports_neutralise_formulas,
    the_html_report_has_a_content_security_policy,
);

/// Instances starting together on a new PostgreSQL schema take turns on an advisory lock: every
/// one starts, and each migration runs exactly once (without the lock the losers failed).
#[test]
fn instances_starting_together_migrate_in_turn_on_postgres() {
    use diesel::{Connection, RunQueryDsl};
    let Some(admin_url) = crate::helpers::postgres_base() else { return };
    let name = format!("rectify_migrate_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
    let url = rectify::config::DatabaseUrl::parse(&crate::helpers::with_database(&admin_url, &name)).unwrap();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let db = rectify::db::Db::connect(&url, 1, Default::default()).unwrap();
                db.migrate()
            })
        })
        .collect();
    let applied: Vec<usize> = starts.into_iter().map(|t| t.join().unwrap().expect("every instance starts")).collect();
    let total = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")).unwrap().count();
    assert_eq!(applied.iter().sum::<usize>(), total, "each migration ran once: {applied:?}");
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).unwrap();
}
