//! §5: findings — creation, read-only fields, filters, sorting, derived deadline fields.

use chrono::Duration;
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, today, TestApp};

fn titles(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect()
}

async fn findings_number_themselves_and_refuse_derived_fields(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let first = app.finding(&w, inspection, "一", json!({})).await;
    let second = app.finding(&w, inspection, "二", json!({})).await;
    assert_eq!((first["seq"].as_i64(), second["seq"].as_i64()), (Some(1), Some(2)));
    assert_eq!(first["status"], "open");
    assert_eq!(first["overdue"], false);
    assert_eq!(first["warning_level"], "none");
    let tenth = app.finding(&w, inspection, "十", json!({"seq": 10})).await;
    assert_eq!(tenth["seq"], 10);
    assert_eq!(app.finding(&w, inspection, "十一", json!({})).await["seq"], 11);
    let dup = app
        .post("/api/v1/findings", Some(&w.inspector), &json!({"inspection_id": inspection, "title": "重号", "seq": 2}))
        .await;
    problem(dup, 409).await;

    for (field, value) in [
        ("status", json!("closed")),
        ("closed_at", json!("2024-01-01T00:00:00Z")),
        ("overdue", json!(true)),
        ("warning_level", json!("red")),
        ("reopen_count", json!(3)),
        ("outcome", json!("done")),
        ("unknown_field", json!(1)),
    ] {
        let mut body = json!({"inspection_id": inspection, "title": "x"});
        body[field] = value.clone();
        let res = app.post("/api/v1/findings", Some(&w.inspector), &body).await;
        assert_eq!(fields(&problem(res, 422).await), [field], "POST with {field}");
        let path = format!("/api/v1/findings/{}", first["id"]);
        let res = app.patch(&path, Some(&w.inspector), Some("\"1\""), &json!({ field: value })).await;
        assert_eq!(fields(&problem(res, 422).await), [field], "PATCH with {field}");
    }
    let path = format!("/api/v1/findings/{}", first["id"]);
    let res = app.patch(&path, Some(&w.inspector), Some("\"1\""), &json!({"seq": 5})).await;
    assert_eq!(fields(&problem(res, 422).await), ["seq"]);

    let other = app.inspection(&w).await;
    let foreign_section =
        app.create(&format!("/api/v1/inspections/{other}/sections"), &w.inspector, json!({"title": "别处"})).await;
    let res = app
        .post(
            "/api/v1/findings",
            Some(&w.inspector),
            &json!({"inspection_id": inspection, "title": "x", "section_id": foreign_section["id"]}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["section_id"]);
    let res = app.post("/api/v1/findings", Some(&w.inspector), &json!({"inspection_id": 999_999, "title": "x"})).await;
    assert_eq!(fields(&problem(res, 422).await), ["inspection_id"]);
    let res = app
        .post(
            "/api/v1/findings",
            Some(&w.inspector),
            &json!({"inspection_id": inspection, "title": "x", "responsible_leader_id": 999_999}),
        )
        .await;
    assert_eq!(fields(&problem(res, 422).await), ["responsible_leader_id"]);
    for token in [&w.leader, &w.officer, &w.viewer] {
        problem(
            app.post("/api/v1/findings", Some(token), &json!({"inspection_id": inspection, "title": "x"})).await,
            403,
        )
        .await;
    }

    let updated = app
        .update(&path, &w.inspector, json!({"measures": "坚持每周集中学习", "responsible_unit_id": w.bureau, "responsible_leader_id": w.leader_id, "due_on": "2030-01-01"}))
        .await;
    assert_eq!(updated["measures"], "坚持每周集中学习");
    assert_eq!(updated["version"], 2);
    let cleared = app.update(&path, &w.inspector, json!({"measures": null})).await;
    assert!(cleared["measures"].is_null());
    assert_eq!(cleared["due_on"], "2030-01-01", "absent fields stay");
}

async fn warning_levels_follow_deadlines_in_shanghai_time(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let t = today();
    let cases = [
        (-1, "red", true),
        (0, "yellow", false),
        (10, "yellow", false),
        (11, "green", false),
        (20, "green", false),
        (21, "none", false),
    ];
    for (days, level, overdue) in cases {
        let due = (t + Duration::days(days)).to_string();
        let f = app.finding(&w, inspection, &format!("due {days}"), json!({"due_on": due})).await;
        assert_eq!(f["warning_level"], level, "due in {days} days");
        assert_eq!(f["overdue"], overdue, "due in {days} days");
        let read = app.get_ok(&format!("/api/v1/findings/{}", f["id"]), &w.viewer).await;
        assert_eq!(read["warning_level"], level);
    }
    let overdue = app.get_ok(&format!("/api/v1/findings?inspection_id={inspection}&overdue=true"), &w.viewer).await;
    assert_eq!(titles(&overdue), ["due -1"]);
    let not_overdue =
        app.get_ok(&format!("/api/v1/findings?inspection_id={inspection}&overdue=false"), &w.viewer).await;
    assert_eq!(not_overdue["items"].as_array().unwrap().len(), 5);
}

async fn filters_search_and_sorts(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let section = app
        .create(
            &format!("/api/v1/inspections/{inspection}/sections"),
            &w.inspector,
            json!({"title": "聚焦政治站位方面"}),
        )
        .await;
    app.finding(
        &w,
        inspection,
        "学习营商环境建设不经常、不深入",
        json!({"due_on": "2030-03-01", "section_id": section["id"]}),
    )
    .await;
    app.finding(
        &w,
        inspection,
        "理论学习形式单一",
        json!({"due_on": "2030-01-01", "description": "学深悟透上还有差距", "responsible_unit_id": w.office}),
    )
    .await;
    app.finding(&w, inspection, "Window staff lack TRAINING", json!({})).await;
    app.finding(&w, inspection, "100% 完成率_虚报", json!({"due_on": "2030-02-01"})).await;

    let q = |s: &str| format!("/api/v1/findings?inspection_id={inspection}&{s}");
    assert_eq!(
        titles(&app.get_ok(&q("q=%E8%90%A5%E5%95%86"), &w.viewer).await),
        ["学习营商环境建设不经常、不深入"],
        "q=营商"
    );
    assert_eq!(
        titles(&app.get_ok(&q("q=%E5%AD%A6%E6%B7%B1"), &w.viewer).await),
        ["理论学习形式单一"],
        "q matches description"
    );
    assert_eq!(titles(&app.get_ok(&q("q=training"), &w.viewer).await), ["Window staff lack TRAINING"], "any case");
    app.finding(&w, inspection, "全角ＡＢＣ与Ωmega", json!({})).await;
    assert_eq!(
        titles(&app.get_ok(&q("q=%EF%BC%A1%EF%BC%A2%EF%BC%A3"), &w.viewer).await),
        ["全角ＡＢＣ与Ωmega"],
        "exact full-width"
    );
    assert_eq!(titles(&app.get_ok(&q("q=%CE%A9"), &w.viewer).await), ["全角ＡＢＣ与Ωmega"], "exact Greek");
    assert_eq!(titles(&app.get_ok(&q("q=%25"), &w.viewer).await), ["100% 完成率_虚报"], "% is literal");
    assert_eq!(titles(&app.get_ok(&q("q=_"), &w.viewer).await), ["100% 完成率_虚报"], "_ is literal");
    assert_eq!(titles(&app.get_ok(&q(&format!("section_id={}", section["id"])), &w.viewer).await).len(), 1);
    assert_eq!(
        titles(&app.get_ok(&q(&format!("responsible_unit_id={}", w.office)), &w.viewer).await),
        ["理论学习形式单一"]
    );
    assert_eq!(titles(&app.get_ok(&q("due_before=2030-02-01"), &w.viewer).await), ["理论学习形式单一"]);
    assert_eq!(titles(&app.get_ok(&q("due_after=2030-02-01"), &w.viewer).await), ["学习营商环境建设不经常、不深入"]);
    assert_eq!(app.get_ok(&q("status=open&status=closed"), &w.viewer).await["items"].as_array().unwrap().len(), 5);
    assert!(app.get_ok(&q("status=closed"), &w.viewer).await["items"].as_array().unwrap().is_empty());
    assert!(app.get_ok(&q("assignee_id=me"), &w.officer).await["items"].as_array().unwrap().is_empty());

    let by_due = titles(&app.get_ok(&q("sort=due_on"), &w.viewer).await);
    assert_eq!(
        by_due,
        [
            "理论学习形式单一",
            "100% 完成率_虚报",
            "学习营商环境建设不经常、不深入",
            "Window staff lack TRAINING",
            "全角ＡＢＣ与Ωmega"
        ]
    );
    let by_due_desc = titles(&app.get_ok(&q("sort=-due_on"), &w.viewer).await);
    assert_eq!(
        by_due_desc,
        [
            "全角ＡＢＣ与Ωmega",
            "Window staff lack TRAINING",
            "学习营商环境建设不经常、不深入",
            "100% 完成率_虚报",
            "理论学习形式单一"
        ]
    );
    let by_seq_desc = titles(&app.get_ok(&q("sort=-seq"), &w.viewer).await);
    assert_eq!(by_seq_desc[0], "全角ＡＢＣ与Ωmega");

    for bad in ["sort=title", "status=done", "overdue=maybe", "due_before=tomorrow", "inspection_id=abc", "colour=red"]
    {
        problem(app.get(&q(bad), Some(&w.viewer)).await, 400).await;
    }
}

/// Walks every sort with small pages while rows are inserted between pages:
/// every row present at the start is served exactly once.
async fn pagination_serves_every_row_once_while_rows_arrive(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let t = today();
    let mut expected = Vec::new();
    for i in 0..23 {
        let due = if i % 4 == 0 { Value::Null } else { json!((t + Duration::days(i % 5)).to_string()) };
        let f = app.finding(&w, inspection, &format!("f{i}"), json!({"due_on": due})).await;
        expected.push(f["id"].as_i64().unwrap());
    }
    expected.sort();
    let mut extra = 0;
    for sort in ["seq", "-seq", "due_on", "-due_on", "updated_at", "-updated_at"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/findings?inspection_id={inspection}&sort={sort}&limit=5");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get_ok(&path, &w.viewer).await;
            seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()));
            // Someone adds a finding between pages.
            extra += 1;
            let added = app
                .finding(
                    &w,
                    inspection,
                    &format!("late{extra}"),
                    json!({"due_on": (t + Duration::days(2)).to_string()}),
                )
                .await;
            let _ = added;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: a row was served twice");
        for id in &expected {
            assert!(seen.contains(id), "{sort}: row {id} was skipped");
        }
        expected = unique;
    }
    // A cursor is bound to its sort, and signed.
    let page = app.get_ok(&format!("/api/v1/findings?inspection_id={inspection}&limit=2"), &w.viewer).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    problem(app.get(&format!("/api/v1/findings?sort=due_on&cursor={cursor}"), Some(&w.viewer)).await, 400).await;
    let tampered = format!("{}x", cursor);
    problem(app.get(&format!("/api/v1/findings?cursor={tampered}"), Some(&w.viewer)).await, 400).await;
}

db_tests!(
    findings_number_themselves_and_refuse_derived_fields,
    warning_levels_follow_deadlines_in_shanghai_time,
    filters_search_and_sorts,
    pagination_serves_every_row_once_while_rows_arrive
);
