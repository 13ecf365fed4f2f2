//! Issue 12: ledger sheets (CSV, TSV, XLSX) and Word files through the import endpoint, the
//! column mapping a dry run shows and the query overrides, refusals that say why, and the
//! service's own output (the text report, the CSV and XLSX exports) read back into the
//! ledger it came from.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{problem, TestApp, World};

const FIXTURE: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/yangling-approval-bureau-2024.txt"));
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/documents/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn import(app: &TestApp, w: &World, body: Vec<u8>, content_type: &str, query: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/inspections/import?inspecting_unit_id={}&inspected_unit_id={}&started_on=2024-03-01&ended_on=2024-04-30{query}",
            w.group, w.bureau
        )))
        .bearer_auth(&w.inspector)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn inspections(app: &TestApp) -> usize {
    app.get_ok("/api/v1/inspections?limit=200", &app.admin).await["items"].as_array().unwrap().len()
}

/// A ledger's tree with each finding's texts and status, to compare two readings.
fn shape(ledger: &Value) -> Value {
    fn finding(f: &Value) -> Value {
        json!({
            "title": f["title"],
            "measures": f.get("measures").cloned().unwrap_or(Value::Null),
            "outcome": f.get("outcome").cloned().unwrap_or(Value::Null),
        })
    }
    fn section(s: &Value) -> Value {
        json!({
            "title": s["title"],
            "children": s["children"].as_array().unwrap().iter().map(section).collect::<Vec<_>>(),
            "findings": s["findings"].as_array().unwrap().iter().map(finding).collect::<Vec<_>>(),
        })
    }
    json!({
        "sections": ledger["sections"].as_array().unwrap().iter().map(section).collect::<Vec<_>>(),
        "findings": ledger["findings"].as_array().unwrap().iter().map(finding).collect::<Vec<_>>(),
    })
}

async fn sheets_and_word_files_import_through_the_endpoint(app: TestApp) {
    let w = app.world().await;
    // CSV: the dry run shows how each column was read, and what it could not read.
    let dry = import(&app, &w, corpus("15-ledger-sheet.csv"), "text/csv", "&dry_run=true").await;
    assert_eq!(dry.status(), 200);
    let dry: Value = dry.json().await.unwrap();
    assert_eq!(dry["sheet"]["header_row"], 3);
    let columns = dry["sheet"]["columns"].as_array().unwrap();
    assert_eq!(columns[2], json!({"column": "C", "header": "问题描述", "field": "description", "by": "name"}));
    assert_eq!(columns[8], json!({"column": "I", "header": "联系电话", "field": null, "by": "unknown"}));
    assert!(dry["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["line"] == 3 && w["message"].as_str().unwrap().contains("联系电话")));
    assert_eq!(dry["totals"], json!({"categories": 2, "aspects": 0, "findings": 4}));
    assert_eq!(inspections(&app).await, 0);

    // The query remaps a column; the real import then saves what the dry run showed.
    let remapped: Value =
        import(&app, &w, corpus("15-ledger-sheet.csv"), "text/csv", "&dry_run=true&columns=D%3Dignore,I%3Dnote")
            .await
            .json()
            .await
            .unwrap();
    let first = &remapped["ledger"]["sections"][0]["findings"][0];
    assert!(first["measures"].is_null());
    assert!(first["description"].as_str().unwrap().ends_with("备注：0000-1234567"), "{first}");
    assert_eq!(remapped["sheet"]["columns"][3]["by"], "query");

    let res = import(&app, &w, corpus("15-ledger-sheet.csv"), "text/csv; charset=utf-8", "").await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["sheet"]["header_row"], 3);
    let id = created["inspection"]["id"].as_i64().unwrap();
    assert_eq!(created["inspection"]["inspecting_body"], "县委第三巡察组");
    let findings = app.get_ok(&format!("/api/v1/findings?inspection_id={id}&limit=50"), &w.viewer).await;
    let items = findings["items"].as_array().unwrap();
    let summary: Vec<(i64, &str, Option<&str>)> = items
        .iter()
        .map(|f| (f["seq"].as_i64().unwrap(), f["status"].as_str().unwrap(), f["due_on"].as_str()))
        .collect();
    assert_eq!(
        summary,
        [(1, "closed", Some("2024-06-30")), (2, "open", Some("2024-09-30")), (3, "open", None), (4, "closed", None)]
    );
    assert_eq!(items[2]["long_term"], true);

    // TSV in GBK (declared), XLSX and both Word layouts.
    for (name, content_type, findings) in [
        ("16-ledger-sheet-gbk.tsv", "text/tab-separated-values; charset=gbk", 3),
        ("17-ledger-workbook.xlsx", XLSX, 4),
        ("18-word-automatic-numbering.docx", DOCX, 5),
        ("19-word-ledger-table.docx", DOCX, 2),
    ] {
        let res = import(
            &app,
            &w,
            corpus(name),
            content_type,
            "&dry_run=true&inspecting_body=%E5%8E%BF%E5%AE%A1%E8%AE%A1%E5%B1%80",
        )
        .await;
        let status = res.status();
        let dry: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{name}: {dry}");
        assert_eq!(dry["totals"]["findings"], findings, "{name}: {dry}");
        assert_eq!(dry["sheet"].is_object(), !name.starts_with("18"), "{name}");
    }
    assert_eq!(
        import(&app, &w, corpus("17-ledger-workbook.xlsx"), XLSX, "&sheet=%E6%95%B4%E6%94%B9%E5%8F%B0%E8%B4%A6")
            .await
            .status(),
        201,
        "the workbook imports for real"
    );
    assert_eq!(inspections(&app).await, 2);
}

async fn bad_sheets_are_refused_saying_why(app: TestApp) {
    let w = app.world().await;
    // No header: the refusal says what was looked for, and shows the first row.
    let p = problem(import(&app, &w, b"a,b\nc,d\n".to_vec(), "text/csv", "").await, 422).await;
    let detail = p["errors"][0]["message"].as_str().unwrap_or_else(|| p["detail"].as_str().unwrap()).to_owned();
    assert!(detail.contains("header row") && detail.contains("问题"), "{p}");
    // A header row given that does not exist, a column that does not exist, a field that does not.
    let csv = corpus("15-ledger-sheet.csv");
    problem(import(&app, &w, csv.clone(), "text/csv", "&header_row=99").await, 422).await;
    let p = problem(import(&app, &w, csv.clone(), "text/csv", "&columns=ZZ%3Dtitle").await, 422).await;
    assert_eq!(p["errors"][0]["field"], "columns", "{p}");
    let p = problem(import(&app, &w, csv.clone(), "text/csv", "&columns=C%3Dheadline").await, 422).await;
    assert!(p.to_string().contains("headline"), "{p}");
    // Sheet parameters with a text document; an XLSX that is not one; a DOCX that is a ZIP of something else.
    let p = problem(import(&app, &w, FIXTURE.as_bytes().to_vec(), "text/plain", "&columns=C%3Dtitle").await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("spreadsheets"), "{p}");
    let p = problem(import(&app, &w, b"not a workbook".to_vec(), XLSX, "").await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("XLSX"), "{p}");
    let p = problem(import(&app, &w, corpus("17-ledger-workbook.xlsx"), DOCX, "").await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("word/document.xml"), "{p}");
    problem(import(&app, &w, corpus("17-ledger-workbook.xlsx"), XLSX, "&sheet=%E6%97%A0").await, 422).await;
    problem(import(&app, &w, corpus("17-ledger-workbook.xlsx"), &format!("{XLSX}; charset=utf-8"), "").await, 415)
        .await;
    problem(import(&app, &w, b"{}".to_vec(), "application/pdf", "").await, 415).await;
    // A sheet sent as text is told how to send it; prose without numbering is told what was looked for.
    let tsv = "台账\n序号\t问题\t整改措施\n1\t学习不深入\t加强学习\n";
    let p = problem(import(&app, &w, tsv.as_bytes().to_vec(), "text/plain", "").await, 422).await;
    assert!(p.to_string().contains("line 2") && p.to_string().contains("text/tab-separated-values"), "{p}");
    let p =
        problem(import(&app, &w, "整改工作总结\n全年工作顺利。\n".as_bytes().to_vec(), "text/plain", "").await, 422)
            .await;
    assert!(p.to_string().contains("line 1 reads 「整改工作总结」"), "{p}");
    assert_eq!(inspections(&app).await, 0);
}

/// What the service writes (the text report, the CSV and XLSX exports) reads back into the
/// ledger it came from.
async fn the_service_output_reimports_to_the_same_ledger(app: TestApp) {
    let w = app.world().await;
    let res = import(&app, &w, FIXTURE.as_bytes().to_vec(), "text/plain", "").await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["inspection"]["id"].as_i64().unwrap();
    let original: Value =
        import(&app, &w, FIXTURE.as_bytes().to_vec(), "text/plain", "&dry_run=true").await.json().await.unwrap();
    let want = shape(&original["ledger"]);

    let report = app.get(&format!("/api/v1/inspections/{id}/report?format=text"), Some(&w.viewer)).await;
    let report = report.bytes().await.unwrap().to_vec();
    let res = import(&app, &w, report.clone(), "text/plain", "&dry_run=true").await;
    assert_eq!(res.status(), 200, "{}", String::from_utf8_lossy(&report));
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["totals"], json!({"categories": 4, "aspects": 8, "findings": 26}));
    assert_eq!(shape(&again["ledger"]), want, "the report reads back as its ledger");

    for (format, content_type) in [("csv", "text/csv"), ("xlsx", XLSX)] {
        let export = app.get(&format!("/api/v1/inspections/{id}/export?format={format}"), Some(&w.viewer)).await;
        let export = export.bytes().await.unwrap().to_vec();
        let res = import(
            &app,
            &w,
            export,
            content_type,
            "&dry_run=true&inspecting_body=%E5%8E%BF%E5%A7%94%E5%B7%A1%E5%AF%9F%E7%BB%84",
        )
        .await;
        let status = res.status();
        let again: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{format}: {again}");
        assert_eq!(again["totals"], json!({"categories": 4, "aspects": 8, "findings": 26}), "{format}");
        assert_eq!(shape(&again["ledger"]), want, "the {format} export reads back as its ledger");
        let unknown: Vec<&Value> =
            again["sheet"]["columns"].as_array().unwrap().iter().filter(|c| c["field"].is_null()).collect();
        assert!(unknown.is_empty(), "{format}: every column of our own export is read: {unknown:?}");
    }
}

/// `rectify import FILE` reads sheets and Word files by their extension, as the endpoint does
/// by Content-Type.
async fn the_command_line_imports_sheets_and_word_files(app: TestApp) {
    let w = app.world().await;
    let run = |name: &str, extra: &[&str]| {
        let path = format!("{}/tests/fixtures/documents/{name}", env!("CARGO_MANIFEST_DIR"));
        let (group, bureau) = (w.group.to_string(), w.bureau.to_string());
        let mut args = vec!["import", &path, "--inspecting-unit-id", &group, "--inspected-unit-id", &bureau];
        args.extend(["--inspecting-body", "县委巡察组", "--started-on", "2024-03-01", "--ended-on", "2024-04-30"]);
        args.extend(extra);
        let out = crate::helpers::rectify_cli(&app, &args);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    for (name, findings) in
        [("17-ledger-workbook.xlsx", 4), ("18-word-automatic-numbering.docx", 5), ("16-ledger-sheet-gbk.tsv", 3)]
    {
        let dry = run(name, &["--dry-run"]);
        assert_eq!(dry["totals"]["findings"], findings, "{name}: {dry}");
    }
    let dry = run("15-ledger-sheet.csv", &["--dry-run", "--columns", "D=ignore"]);
    assert!(dry["ledger"]["sections"][0]["findings"][0]["measures"].is_null(), "{dry}");
    assert_eq!(inspections(&app).await, 0, "dry runs save nothing");
    let done = run("19-word-ledger-table.docx", &[]);
    let id = done["inspection"]["id"].as_i64().unwrap();
    let findings = app.get_ok(&format!("/api/v1/findings?inspection_id={id}"), &w.viewer).await;
    assert_eq!(findings["items"].as_array().unwrap().len(), 2);
}

db_tests!(
    the_command_line_imports_sheets_and_word_files,
    sheets_and_word_files_import_through_the_endpoint,
    bad_sheets_are_refused_saying_why,
    the_service_output_reimports_to_the_same_ledger
);
