//! §7: import, the fixture round trip, statistics, export, publication, public feedback.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, Backend, TestApp, World};

const FIXTURE: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/yangling-approval-bureau-2024.txt"));
const BLOCK_REASON: &str = "系政务系统问题,等待省上统一安排";

async fn import_text(app: &TestApp, w: &World, text: &str, query: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/inspections/import?inspecting_unit_id={}&inspected_unit_id={}{query}",
            w.group, w.bureau
        )))
        .bearer_auth(&w.inspector)
        .header("content-type", "text/plain; charset=utf-8")
        .body(text.to_owned())
        .send()
        .await
        .unwrap()
}

async fn count_inspections(app: &TestApp) -> usize {
    app.get_ok("/api/v1/inspections?limit=200", &app.admin).await["items"].as_array().unwrap().len()
}

async fn all_findings(app: &TestApp, token: &str, inspection: i64) -> Vec<Value> {
    let page = app.get_ok(&format!("/api/v1/findings?inspection_id={inspection}&limit=200"), token).await;
    page["items"].as_array().unwrap().clone()
}

/// Punctuation width and the aspects' closing 。 vary between documents; the words may not.
fn normalise(line: &str) -> String {
    line.trim()
        .replace(',', "，")
        .replace(':', "：")
        .replace('(', "（")
        .replace(')', "）")
        .trim_end_matches('。')
        .to_owned()
}

async fn the_fixture_imports_as_4_categories_8_aspects_26_findings(app: TestApp) {
    let w = app.world().await;
    // A dry run parses and saves nothing.
    let dry = import_text(&app, &w, FIXTURE, "&dry_run=true").await;
    assert_eq!(dry.status(), 200);
    let dry: Value = dry.json().await.unwrap();
    assert_eq!(dry["totals"], json!({"categories": 4, "aspects": 8, "findings": 26}));
    assert_eq!(dry["ledger"]["inspection"]["inspecting_body"], "区委第三巡察组");
    assert_eq!(dry["ledger"]["inspection"]["started_on"], "2024-05-24");
    assert_eq!(count_inspections(&app).await, 0);

    let res = import_text(&app, &w, FIXTURE, "").await;
    assert_eq!(res.status(), 201);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/api/v1/inspections/"));
    let imported: Value = res.json().await.unwrap();
    let id = imported["inspection"]["id"].as_i64().unwrap();
    assert_eq!(imported["inspection"]["feedback_on"], "2024-09-10");
    let ledger = app.get_ok(&format!("/api/v1/inspections/{id}/ledger"), &w.viewer).await;
    assert_eq!(ledger["totals"]["categories"], 4);
    assert_eq!(ledger["totals"]["aspects"], 8);
    assert_eq!(ledger["totals"]["findings"], 26);
    let titles: Vec<_> = ledger["sections"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["聚焦政治站位方面", "聚焦责任落实方面", "聚焦作风效能方面", "聚焦诚信建设方面"]);
    let findings = all_findings(&app, &w.viewer, id).await;
    let seqs: Vec<i64> = findings.iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=26).collect::<Vec<_>>());
    assert!(findings[0]["outcome"].as_str().unwrap().starts_with("坚持每周集中学习不间断"));
    assert!(findings.iter().all(|f| f["status"] == "open"));
    // Each imported finding has its history from the start.
    let history = app.get_ok(&format!("/api/v1/findings/{}/history", findings[0]["id"]), &w.viewer).await;
    assert_eq!(history["items"][0]["action"], "finding.created");

    // The full-width variant reads the same.
    let wide = FIXTURE.replace('(', "（").replace(')', "）").replace(':', "：").replace("\n", "\n\n  ");
    let res = import_text(&app, &w, &wide, "&dry_run=true").await;
    let wide: Value = res.json().await.unwrap();
    assert_eq!(wide["totals"], json!({"categories": 4, "aspects": 8, "findings": 26}));
}

async fn bad_imports_save_nothing(app: TestApp) {
    let w = app.world().await;
    let before = app.last_event_id().await;
    let not_utf8 =
        app.client
            .post(app.url(&format!(
                "/api/v1/inspections/import?inspecting_unit_id={}&inspected_unit_id={}",
                w.group, w.bureau
            )))
            .bearer_auth(&w.inspector)
            .header("content-type", "text/plain")
            // Neither UTF-8 nor GB18030 (GBK text is read: see the test after this one).
            .body(vec![0xB2u8, 0xE9, 0xFF, 0xFE, 0x0A])
            .send()
            .await
            .unwrap();
    problem(not_utf8, 400).await;
    assert_eq!(
        fields(&problem(import_text(&app, &w, "这是一段没有编号的文字。\n再一段。", "").await, 422).await),
        ["body"]
    );
    let no_units = app
        .client
        .post(app.url("/api/v1/inspections/import"))
        .bearer_auth(&w.inspector)
        .header("content-type", "text/plain")
        .body(FIXTURE)
        .send()
        .await
        .unwrap();
    let p = problem(no_units, 422).await;
    assert_eq!(fields(&p), ["inspecting_unit_id", "inspected_unit_id"]);
    let huge = "(1)问题\n".repeat(10 * 1024 * 1024 / 10 + 10);
    problem(import_text(&app, &w, &huge, "").await, 413).await;
    let broken = app
        .client
        .post(app.url("/api/v1/inspections/import"))
        .bearer_auth(&w.inspector)
        .json(&json!({"inspection": {"title": "x"}}))
        .send()
        .await
        .unwrap();
    assert!(fields(&problem(broken, 422).await)[0].starts_with("inspection."));
    let bad_status = json!({
        "inspection": {"title": "x", "inspecting_body": "组", "inspecting_unit_id": w.group, "inspected_unit_id": w.bureau, "started_on": "2024-01-01", "ended_on": "2024-02-01"},
        "sections": [{"title": "类", "children": [{"title": "方面", "findings": [{"title": "问题", "status": "pending_closure"}, {"title": "问题2", "seq": 1}, {"title": "问题3", "seq": 1}]}]}]
    });
    let res = app
        .client
        .post(app.url("/api/v1/inspections/import"))
        .bearer_auth(&w.inspector)
        .json(&bad_status)
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(fields(&p), ["sections[0].children[0].findings[0].status", "sections[0].children[0].findings[2].seq"]);
    // A reference that fails inside the transaction rolls the whole import back.
    let mut dangling = bad_status.clone();
    dangling["sections"][0]["children"][0]["findings"] =
        json!([{"title": "问题"}, {"title": "问题2", "responsible_unit_id": 999_999}]);
    let res = app
        .client
        .post(app.url("/api/v1/inspections/import"))
        .bearer_auth(&w.inspector)
        .json(&dangling)
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["sections[0].children[0].findings[1].responsible_unit_id"]);
    assert_eq!(import_text(&app, &w, FIXTURE, "").await.status(), 201, "a good import after the bad ones");
    let leader = app
        .client
        .post(app.url("/api/v1/inspections/import"))
        .bearer_auth(&w.leader)
        .json(&bad_status)
        .send()
        .await
        .unwrap();
    problem(leader, 403).await;
    let events = app.events_since(before).await;
    let imports = events.iter().filter(|(a, _)| a == "inspection.imported").count();
    assert_eq!(imports, 1, "only the good import wrote anything");
    assert_eq!(count_inspections(&app).await, 1);
}

/// Closes a finding through the whole workflow, with `outcome` as its 整改情况.
async fn close(app: &TestApp, w: &World, finding: i64, outcome: &str) {
    let a = app
        .create(
            &format!("/api/v1/findings/{finding}/assignments"),
            &w.leader,
            json!({"title": "整改", "responsible_unit_id": w.bureau, "due_on": "2024-12-20"}),
        )
        .await;
    let aid = a["id"].as_i64().unwrap();
    assert_eq!(app.post(&format!("/api/v1/assignments/{aid}/claim"), Some(&w.officer), &json!({})).await.status(), 200);
    assert_eq!(
        app.post(&format!("/api/v1/assignments/{aid}/complete"), Some(&w.officer), &json!({"outcome": outcome}))
            .await
            .status(),
        200
    );
    let r = app
        .create(&format!("/api/v1/findings/{finding}/closure-requests"), &w.officer, json!({"outcome": outcome}))
        .await;
    let decisions = format!("/api/v1/closure-requests/{}/decisions", r["id"]);
    assert_eq!(app.post(&decisions, Some(&w.leader), &json!({"decision": "approve"})).await.status(), 200);
    assert_eq!(app.post(&decisions, Some(&w.inspector), &json!({"decision": "approve"})).await.status(), 200);
}

/// Import the fixture, close 24 and block 2 through the workflow: the report's part 二 reads like the fixture's.
async fn the_fixture_round_trips_to_its_report(app: TestApp) {
    let w = app.world().await;
    app.update(&format!("/api/v1/org-units/{}", w.bureau), &app.admin, json!({"name": "区行政审批局党组"})).await;
    let res = import_text(&app, &w, FIXTURE, "").await;
    let id = res.json::<Value>().await.unwrap()["inspection"]["id"].as_i64().unwrap();
    let conclude = format!("/api/v1/inspections/{id}/conclude");
    problem(app.post(&conclude, Some(&w.inspector), &json!({})).await, 409).await;
    for f in all_findings(&app, &w.viewer, id).await {
        let fid = f["id"].as_i64().unwrap();
        if matches!(f["seq"].as_i64(), Some(15) | Some(20)) {
            let res = app
                .post(&format!("/api/v1/findings/{fid}/block"), Some(&w.leader), &json!({"reason": BLOCK_REASON}))
                .await;
            assert_eq!(res.status(), 200);
        } else {
            close(&app, &w, fid, f["outcome"].as_str().unwrap()).await;
        }
    }
    let report = app.get(&format!("/api/v1/inspections/{id}/report?format=text"), Some(&w.viewer)).await;
    assert!(report.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let report = report.text().await.unwrap();
    let ours: Vec<String> = report.lines().skip(1).map(normalise).collect();
    let part_two: Vec<String> = FIXTURE
        .lines()
        .skip_while(|l| !l.starts_with("二、"))
        .skip(1)
        .take_while(|l| !l.starts_with("三、"))
        .map(normalise)
        .collect();
    assert_eq!(ours.len(), part_two.len());
    // The published summary adds a closing remark of its own ("后期持续做好沟通落实工作").
    assert!(part_two[0].starts_with(&format!("{}。", ours[0])), "summary: {} / {}", ours[0], part_two[0]);
    for (i, (a, b)) in ours.iter().zip(&part_two).enumerate().skip(1) {
        assert_eq!(a, b, "line {i} of part 二");
    }

    // Stats add up.
    let stats = app.get_ok(&format!("/api/v1/inspections/{id}/stats"), &w.viewer).await;
    assert_eq!(stats["total"], 26);
    assert_eq!(stats["by_status"]["closed"], 24);
    assert_eq!(stats["blocked"], 2);
    assert!((stats["completion_rate"].as_f64().unwrap() - 24.0 / 26.0).abs() < 1e-9);
    let by_section: i64 = stats["by_section"].as_array().unwrap().iter().map(|s| s["total"].as_i64().unwrap()).sum();
    assert_eq!(by_section, 26);
    assert_eq!(stats["by_section"].as_array().unwrap().len(), 4);
    let closures: i64 =
        stats["closures_per_half_month"].as_array().unwrap().iter().map(|p| p["closed"].as_i64().unwrap()).sum();
    assert_eq!(closures, 24);

    // Conclude, publish; later edits do not change what the public sees.
    problem(app.post(&format!("/api/v1/inspections/{id}/publish"), Some(&w.inspector), &json!({})).await, 409).await;
    problem(app.get(&format!("/public/v1/inspections/{id}/report"), None).await, 404).await;
    assert_eq!(app.post(&conclude, Some(&w.inspector), &json!({})).await.status(), 200);
    problem(app.post(&conclude, Some(&w.inspector), &json!({})).await, 409).await;
    problem(app.post(&format!("/api/v1/inspections/{id}/publish"), Some(&w.leader), &json!({})).await, 403).await;
    let published = app.post(&format!("/api/v1/inspections/{id}/publish"), Some(&w.inspector), &json!({})).await;
    assert_eq!(published.status(), 200);
    let public = app.get(&format!("/public/v1/inspections/{id}/report?format=text"), None).await.text().await.unwrap();
    assert_eq!(public, report);
    let listed = app.get("/public/v1/inspections", None).await.json::<Value>().await.unwrap();
    assert_eq!(listed["items"][0]["id"], id);
    assert_eq!(listed["items"][0]["inspected_unit"], "区行政审批局党组");
    let first = all_findings(&app, &w.viewer, id).await[0]["id"].as_i64().unwrap();
    app.create(
        &format!("/api/v1/findings/{first}/reviews"),
        &w.inspector,
        json!({"outcome": "relapsed", "notes": "反弹"}),
    )
    .await;
    let after = app.get(&format!("/public/v1/inspections/{id}/report?format=text"), None).await.text().await.unwrap();
    assert_eq!(after, public, "the published report is frozen");
    let live =
        app.get(&format!("/api/v1/inspections/{id}/report?format=text"), Some(&w.viewer)).await.text().await.unwrap();
    assert!(live.contains("其中23个已整改到位"), "the live report moves on: {}", live.lines().nth(1).unwrap_or(""));
    let html = app.get(&format!("/public/v1/inspections/{id}/report?format=html"), None).await;
    assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(html.text().await.unwrap().contains("<h2>(一)聚焦政治站位方面</h2>"));
    problem(app.get(&format!("/public/v1/inspections/{id}/report?format=pdf"), None).await, 400).await;
}

async fn exports_open_in_excel(app: TestApp) {
    let w = app.world().await;
    let res = import_text(&app, &w, FIXTURE, "").await;
    let id = res.json::<Value>().await.unwrap()["inspection"]["id"].as_i64().unwrap();
    let first = all_findings(&app, &w.viewer, id).await[0].clone();
    let fid = first["id"].as_i64().unwrap();
    app.update(&format!("/api/v1/findings/{fid}"), &w.inspector, json!({"measures": "坚持第一议题制度", "responsible_unit_id": w.bureau, "responsible_leader_id": w.leader_id, "due_on": "2024-12-20"})).await;
    let a = app.create(&format!("/api/v1/findings/{fid}/assignments"), &w.leader, json!({"title": "学习", "responsible_unit_id": w.bureau, "due_on": "2024-12-01", "assignee_id": w.officer_id})).await;
    assert_eq!(a["status"], "assigned");

    let csv = app.get(&format!("/api/v1/inspections/{id}/export?format=csv"), Some(&w.viewer)).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = csv.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 with BOM");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        ["序号", "类别", "方面", "问题", "整改措施", "责任单位", "责任领导", "责任人", "整改时限", "状态", "整改情况"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 26);
    assert_eq!(&rows[0][0], "1");
    assert_eq!(&rows[0][1], "聚焦政治站位方面");
    assert!(rows[0][2].starts_with("学习贯彻习近平新时代中国特色社会主义思想"));
    assert!(rows[0][3].starts_with("学习营商环境建设不经常、不深入"));
    assert_eq!(&rows[0][4], "坚持第一议题制度");
    assert_eq!(&rows[0][5], "行政审批服务局");
    assert_eq!(&rows[0][6], "leader");
    assert_eq!(&rows[0][7], "officer");
    assert_eq!(&rows[0][8], "2024-12-20");
    assert_eq!(&rows[0][9], "整改中");
    assert!(rows[0][10].starts_with("坚持每周集中学习"));
    assert_eq!(&rows[25][0], "26");
    assert_eq!(&rows[25][1], "聚焦诚信建设方面");

    let xlsx = app.get(&format!("/api/v1/inspections/{id}/export?format=xlsx"), Some(&w.viewer)).await;
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("整改台账").unwrap();
    assert_eq!(sheet.height(), 27);
    let cell = |r: usize, c: usize| sheet.get((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(0, 3), Data::String("问题".into()));
    assert_eq!(cell(1, 0), Data::Float(1.0));
    assert!(matches!(cell(1, 8), Data::DateTime(_)), "deadlines are dates: {:?}", cell(1, 8));
    assert_eq!(cell(1, 7), Data::String("officer".into()));
    assert_eq!(cell(26, 0), Data::Float(26.0));
    problem(app.get(&format!("/api/v1/inspections/{id}/export?format=pdf"), Some(&w.viewer)).await, 400).await;
    problem(app.get(&format!("/api/v1/inspections/{id}/export"), Some(&w.outsider)).await, 404).await;
}

/// An inspection without findings exports its header and nothing else, in both formats.
async fn empty_ledgers_export_their_header(app: TestApp) {
    let w = app.world().await;
    let id = app.inspection(&w).await;
    let csv = app.get(&format!("/api/v1/inspections/{id}/export?format=csv"), Some(&w.viewer)).await;
    assert_eq!(csv.status(), 200);
    let text = String::from_utf8(csv.bytes().await.unwrap().to_vec()).unwrap();
    assert_eq!(text, "\u{feff}序号,类别,方面,问题,整改措施,责任单位,责任领导,责任人,整改时限,状态,整改情况\n");

    let xlsx = app.get(&format!("/api/v1/inspections/{id}/export?format=xlsx"), Some(&w.viewer)).await;
    assert_eq!(xlsx.status(), 200);
    use calamine::{Reader, Xlsx};
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.worksheet_range("整改台账").unwrap().height(), 1);
}

/// An export longer than one read of the database (2,000 rows): every finding exactly once, in
/// `seq` order, in both formats. The seqs have gaps, as after deletions.
async fn long_exports_hold_every_finding_once_in_order(app: TestApp) {
    let w = app.world().await;
    let findings: Vec<Value> = (1..=2_300).map(|i| json!({"seq": i * 2, "title": format!("问题{i}")})).collect();
    let ledger = json!({
        "inspection": {"title": "长台账", "inspecting_body": "区委巡察组", "inspecting_unit_id": w.group,
                       "inspected_unit_id": w.bureau, "started_on": "2024-05-24", "ended_on": "2024-07-24"},
        "findings": findings,
    });
    let res = app.post("/api/v1/inspections/import", Some(&w.inspector), &ledger).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["inspection"]["id"].as_i64().unwrap();
    let expected: Vec<String> = (1..=2_300).map(|i| (i * 2).to_string()).collect();

    let csv = app.get(&format!("/api/v1/inspections/{id}/export?format=csv"), Some(&w.viewer)).await;
    assert_eq!(csv.status(), 200);
    let bytes = csv.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let seqs: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(seqs, expected);

    let xlsx = app.get(&format!("/api/v1/inspections/{id}/export?format=xlsx"), Some(&w.viewer)).await;
    assert_eq!(xlsx.status(), 200);
    use calamine::{Data, Reader, Xlsx};
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("整改台账").unwrap();
    let seqs: Vec<String> = (1..sheet.height())
        .map(|r| match sheet.get((r, 0)) {
            Some(Data::Float(f)) => (*f as i64).to_string(),
            other => panic!("row {r}: {other:?}"),
        })
        .collect();
    assert_eq!(seqs, expected);
}

async fn the_half_month_summary_lists_who_reported(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let f = app.finding(&w, inspection, "问题", json!({"due_on": "2030-12-31"})).await;
    let path = format!("/api/v1/findings/{}/assignments", f["id"]);
    let a1 = app.create(&path, &w.leader, json!({"title": "一", "responsible_unit_id": w.bureau, "due_on": "2030-06-30", "assignee_id": w.officer_id})).await;
    let a2 = app
        .create(&path, &w.leader, json!({"title": "二", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}))
        .await;
    app.create(
        &format!("/api/v1/assignments/{}/progress", a1["id"]),
        &w.officer,
        json!({"content": "第一次", "percent": 30}),
    )
    .await;
    let latest = app
        .create(
            &format!("/api/v1/assignments/{}/progress", a1["id"]),
            &w.officer,
            json!({"content": "第二次", "percent": 60}),
        )
        .await;
    let period = latest["period"].as_str().unwrap().to_owned();
    let summary =
        app.get_ok(&format!("/api/v1/inspections/{inspection}/progress-summary?period={period}"), &w.leader).await;
    assert_eq!(summary["period"], period);
    assert_eq!(summary["reported"][0]["assignment"]["id"], a1["id"]);
    assert_eq!(summary["reported"][0]["latest_report"]["content"], "第二次");
    assert_eq!(summary["without_report"][0]["assignment"]["id"], a2["id"]);
    let other =
        app.get_ok(&format!("/api/v1/inspections/{inspection}/progress-summary?period=2020-01-H1"), &w.leader).await;
    assert_eq!(other["without_report"].as_array().unwrap().len(), 2);
    problem(
        app.get(&format!("/api/v1/inspections/{inspection}/progress-summary?period=2020-01"), Some(&w.leader)).await,
        400,
    )
    .await;
}

/// A published inspection with feedback; returns its id.
pub(crate) async fn published(app: &TestApp, w: &World) -> i64 {
    let id = app.inspection(w).await;
    let f = app.finding(w, id, "问题", json!({})).await;
    let res = app
        .post(&format!("/api/v1/findings/{}/block", f["id"]), Some(&w.leader), &json!({"reason": BLOCK_REASON}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.post(&format!("/api/v1/inspections/{id}/conclude"), Some(&w.inspector), &json!({})).await.status(),
        200
    );
    assert_eq!(
        app.post(&format!("/api/v1/inspections/{id}/publish"), Some(&w.inspector), &json!({})).await.status(),
        200
    );
    id
}

async fn public_feedback_is_triaged_and_contacts_stay_private(app: TestApp) {
    let w = app.world().await;
    let unpublished = app.inspection(&w).await;
    problem(
        app.post(&format!("/public/v1/inspections/{unpublished}/feedback"), None, &json!({"content": "意见"})).await,
        404,
    )
    .await;
    problem(app.post("/public/v1/inspections/999999/feedback", None, &json!({"content": "意见"})).await, 404).await;
    let id = published(&app, &w).await;
    let path = format!("/public/v1/inspections/{id}/feedback");
    let res = app.post(&path, None, &json!({"content": "窗口服务有改进", "contact": "13800000000"})).await;
    assert_eq!(res.status(), 202);
    let receipt: Value = res.json().await.unwrap();
    assert_eq!(receipt["status"], "new");
    assert_eq!(
        fields(&problem(app.post(&path, None, &json!({"content": "长".repeat(2001)})).await, 422).await),
        ["content"]
    );

    let seen_by = |token: String| {
        let app = &app;
        async move { app.get_ok(&format!("/api/v1/feedback?inspection_id={id}"), &token).await["items"][0].clone() }
    };
    assert_eq!(seen_by(w.leader.clone()).await["contact"], "13800000000");
    assert_eq!(seen_by(app.admin.clone()).await["contact"], "13800000000");
    for token in [w.viewer.clone(), w.inspector.clone(), w.officer.clone()] {
        let item = seen_by(token).await;
        assert!(item["contact"].is_null(), "{item}");
        assert_eq!(item["content"], "窗口服务有改进");
    }
    assert!(app.get_ok("/api/v1/feedback", &w.outsider).await["items"].as_array().unwrap().is_empty());
    // The contact never reaches the audit trail.
    app.feed_settled().await;
    let feed = app.get_ok("/api/v1/events?limit=200", &app.admin).await;
    assert!(!feed.to_string().contains("13800000000"));

    let fid = receipt["id"].as_i64().unwrap();
    let item = format!("/api/v1/feedback/{fid}");
    problem(app.patch(&item, Some(&w.viewer), Some("\"1\""), &json!({"status": "acknowledged"})).await, 403).await;
    let answered_without = app.patch(&item, Some(&w.leader), Some("\"1\""), &json!({"status": "answered"})).await;
    assert_eq!(fields(&problem(answered_without, 422).await), ["response"]);
    let ack = app.update(&item, &w.leader, json!({"status": "acknowledged"})).await;
    let cleared =
        app.patch(&item, Some(&w.leader), Some("\"2\""), &json!({"status": "answered", "response": null})).await;
    assert_eq!(fields(&problem(cleared, 422).await), ["response"]);
    assert_eq!(ack["status"], "acknowledged");
    let answered = app.update(&item, &w.leader, json!({"status": "answered", "response": "已转相关科室办理"})).await;
    assert_eq!(answered["response"], "已转相关科室办理");
    let back = app.patch(&item, Some(&w.leader), Some("\"3\""), &json!({"status": "new"})).await;
    assert!(problem(back, 409).await["type"].as_str().unwrap().ends_with("/invalid-transition"));
    let actions: Vec<String> = app.events_since(0).await.into_iter().map(|(a, _)| a).collect();
    assert!(actions.contains(&"feedback.received".to_owned()) && actions.contains(&"feedback.triaged".to_owned()));
}

/// The fixture saved as Chinese Windows saves text ("ANSI": GBK), with CR or CRLF line ends,
/// reads as the UTF-8 original does: detected (with a warning) or declared by `charset`.
/// Bytes that are no text are refused naming their line; an unknown charset is a 415.
async fn documents_in_gbk_and_any_line_end_read_alike(app: TestApp) {
    let w = app.world().await;
    let send = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .post(app.url(&format!(
                "/api/v1/inspections/import?inspecting_unit_id={}&inspected_unit_id={}&dry_run=true",
                w.group, w.bureau
            )))
            .bearer_auth(&w.inspector)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let utf8: Value = send(FIXTURE.as_bytes().to_vec(), "text/plain").await.unwrap().json().await.unwrap();
    assert_eq!(utf8["totals"]["findings"], 26, "{utf8}");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(FIXTURE);
    assert!(!unmappable);
    let cases = [
        (gbk.to_vec(), "text/plain", true),
        (gbk.to_vec(), "text/plain; charset=GBK", false),
        (gbk.to_vec(), "text/plain; charset=gb18030", false),
        (FIXTURE.replace('\n', "\r").into_bytes(), "text/plain; charset=utf-8", false),
        (FIXTURE.replace('\n', "\r\n").into_bytes(), "text/plain", false),
    ];
    for (i, (body, content_type, detected)) in cases.into_iter().enumerate() {
        let res = send(body, content_type).await.unwrap();
        assert_eq!(res.status(), 200, "case {i}");
        let read: Value = res.json().await.unwrap();
        assert_eq!(read["ledger"], utf8["ledger"], "case {i} ({content_type})");
        let warned =
            read["warnings"].as_array().unwrap().iter().any(|w| w["message"].as_str().unwrap().contains("GB18030"));
        assert_eq!(warned, detected, "case {i}: {}", read["warnings"]);
    }
    let mut broken = "关于整改情况的通报\n一、问题\n1.".as_bytes().to_vec();
    broken.extend_from_slice(&[0xFF, 0xFE]);
    let p = problem(send(broken, "text/plain").await.unwrap(), 400).await;
    assert!(p["detail"].as_str().unwrap().starts_with("line 3, column 3: byte 0xFF"), "{p}");
    let p = problem(send(gbk.to_vec(), "text/plain; charset=big5").await.unwrap(), 415).await;
    assert!(p["detail"].as_str().unwrap().contains("big5"), "{p}");
    assert_eq!(count_inspections(&app).await, 0);
}

db_tests!(
    documents_in_gbk_and_any_line_end_read_alike,
    long_exports_hold_every_finding_once_in_order,
    empty_ledgers_export_their_header,
    the_fixture_imports_as_4_categories_8_aspects_26_findings,
    bad_imports_save_nothing,
    the_fixture_round_trips_to_its_report,
    exports_open_in_excel,
    the_half_month_summary_lists_who_reported,
    public_feedback_is_triaged_and_contacts_stay_private
);

const TWO_PER_MINUTE: &[(&str, &str)] = &[("RECTIFY_FEEDBACK_PER_MINUTE", "2")];

#[tokio::test]
async fn public_feedback_is_rate_limited_per_address_sqlite() {
    rate_limited(TestApp::spawn_with(Backend::Sqlite, TWO_PER_MINUTE).await.unwrap()).await;
}

#[tokio::test]
async fn public_feedback_is_rate_limited_per_address_postgres() {
    if let Some(app) = TestApp::spawn_postgres(TWO_PER_MINUTE).await {
        rate_limited(app).await;
    }
}

async fn rate_limited(app: TestApp) {
    let w = app.world().await;
    let id = published(&app, &w).await;
    let path = format!("/public/v1/inspections/{id}/feedback");
    for _ in 0..2 {
        assert_eq!(app.post(&path, None, &json!({"content": "意见"})).await.status(), 202);
    }
    let limited = app.post(&path, None, &json!({"content": "意见"})).await;
    let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    problem(limited, 429).await;
    let stored = app.get_ok(&format!("/api/v1/feedback?inspection_id={id}"), &w.leader).await;
    assert_eq!(stored["items"].as_array().unwrap().len(), 2, "the refused one changed nothing");
    app.stop().await;
}
