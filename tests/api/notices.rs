//! §9.2: supervision notices (督办单) — issued by leaders and inspectors to a finding's
//! responsible unit, listed in scope, acknowledged (签收) once by the addressed unit, in the
//! change feed and in the inspection's statistics.

use chrono::Duration;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, today, TestApp, World};

/// An inspection of the bureau with two findings: one the bureau answers for, one the inspection
/// group itself answers for (both units' users see the inspection).
struct Setup {
    inspection: i64,
    /// Responsible unit: the bureau.
    bureau_finding: i64,
    /// Responsible unit: the inspection group.
    group_finding: i64,
}

async fn setup(app: &TestApp, w: &World) -> Setup {
    let inspection = app.inspection(w).await;
    let due = json!({"due_on": "2030-12-31"});
    let mut bureau = due.clone();
    bureau["responsible_unit_id"] = json!(w.bureau);
    let mut group = due;
    group["responsible_unit_id"] = json!(w.group);
    let bureau_finding = app.finding(w, inspection, "审批事项清单更新不及时", bureau).await;
    let group_finding = app.finding(w, inspection, "巡察整改督导不到位", group).await;
    Setup {
        inspection,
        bureau_finding: bureau_finding["id"].as_i64().unwrap(),
        group_finding: group_finding["id"].as_i64().unwrap(),
    }
}

fn notices_of(finding: i64) -> String {
    format!("/api/v1/findings/{finding}/notices")
}

/// Issues a notice that must be created; the notice.
async fn issue(app: &TestApp, token: &str, finding: i64, level: &str) -> Value {
    app.create(&notices_of(finding), token, json!({"level": level, "message": format!("{level}: 请加快整改进度")}))
        .await
}

fn acknowledge(
    app: &TestApp,
    token: &str,
    notice: i64,
    body: Option<Value>,
    if_match: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut rb = app.client.post(app.url(&format!("/api/v1/notices/{notice}/acknowledge"))).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    if let Some(tag) = if_match {
        rb = rb.header("If-Match", tag);
    }
    rb
}

async fn acknowledged(app: &TestApp, token: &str, notice: i64, body: Option<Value>) -> Value {
    let res = acknowledge(app, token, notice, body, None).send().await.unwrap();
    let status = res.status();
    let out: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "acknowledge {notice}: {out}");
    out
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    app.get_ok("/api/v1/auth/me", token).await["id"].as_i64().unwrap()
}

/// Takes `finding` (responsible unit: the bureau) all the way to `closed`.
async fn close(app: &TestApp, w: &World, finding: i64) {
    let a = app
        .create(
            &format!("/api/v1/findings/{finding}/assignments"),
            &w.leader,
            json!({"title": "更新清单", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
        )
        .await;
    let a = id(&a);
    assert_eq!(app.post(&format!("/api/v1/assignments/{a}/claim"), Some(&w.officer), &json!({})).await.status(), 200);
    let done =
        app.post(&format!("/api/v1/assignments/{a}/complete"), Some(&w.officer), &json!({"outcome": "已更新"})).await;
    assert_eq!(done.status(), 200);
    let r = app
        .create(&format!("/api/v1/findings/{finding}/closure-requests"), &w.officer, json!({"outcome": "已更新"}))
        .await;
    let decisions = format!("/api/v1/closure-requests/{}/decisions", id(&r));
    assert_eq!(app.post(&decisions, Some(&w.leader), &json!({"decision": "approve"})).await.status(), 200);
    assert_eq!(app.post(&decisions, Some(&w.inspector), &json!({"decision": "approve"})).await.status(), 200);
    assert_eq!(app.get_ok(&format!("/api/v1/findings/{finding}"), &w.viewer).await["status"], "closed");
}

async fn leaders_and_inspectors_issue_notices_to_the_responsible_unit(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let finding_before = app.get_ok(&format!("/api/v1/findings/{}", s.bureau_finding), &w.viewer).await;
    let respond_by = (today() + Duration::days(3)).to_string();
    let res = app
        .post(
            &notices_of(s.bureau_finding),
            Some(&w.leader),
            &json!({"level": "reminder", "message": "  整改时限临近，请抓紧推进  ", "respond_by": respond_by}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let notice: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/notices/{}", notice["id"]));
    assert_eq!(notice["finding_id"], s.bureau_finding);
    assert_eq!(notice["inspection_id"], s.inspection);
    assert_eq!(notice["org_unit_id"], w.bureau, "addressed to the finding's responsible unit");
    assert_eq!(notice["level"], "reminder");
    assert_eq!(notice["message"], "整改时限临近，请抓紧推进", "text is trimmed like every other");
    assert_eq!(notice["respond_by"], respond_by);
    assert_eq!(notice["issued_by"], w.leader_id);
    assert!(notice["issued_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(notice["status"], "issued");
    for field in ["acknowledged_by", "acknowledged_at", "reply"] {
        assert!(notice[field].is_null(), "{field} is null until acknowledged: {notice}");
    }
    assert_eq!(notice["version"], 1);
    let read = app.get(&location, Some(&w.viewer)).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    assert_eq!(read.json::<Value>().await.unwrap(), notice);

    // An inspector warns, without a date; today is not in the past.
    let inspector_id = user_id(&app, &w.inspector).await;
    let warning = issue(&app, &w.inspector, s.group_finding, "warning").await;
    assert_eq!((warning["org_unit_id"].as_i64(), warning["issued_by"].as_i64()), (Some(w.group), Some(inspector_id)));
    assert!(warning["respond_by"].is_null());
    let urge = app
        .create(
            &notices_of(s.bureau_finding),
            &w.inspector,
            json!({"level": "urge", "message": "进度滞后", "respond_by": today().to_string()}),
        )
        .await;
    assert_eq!(urge["level"], "urge");

    // The addressed unit is the responsible unit at issue time: a later change does not move the notice.
    app.update(
        &format!("/api/v1/findings/{}", s.bureau_finding),
        &w.inspector,
        json!({"responsible_unit_id": w.group}),
    )
    .await;
    assert_eq!(app.get_ok(&location, &w.viewer).await["org_unit_id"], w.bureau);
    assert_eq!(issue(&app, &w.leader, s.bureau_finding, "urge").await["org_unit_id"], w.group);

    // Issuing presses on the finding but never changes it.
    let finding_after = app.get_ok(&format!("/api/v1/findings/{}", s.bureau_finding), &w.viewer).await;
    assert_eq!(finding_after["status"], finding_before["status"]);
    assert_eq!(finding_after["version"], 2, "only the PATCH above changed the finding");

    // Idempotency-Key: the same request replays the first answer; the notice exists once.
    let send = || {
        app.client
            .post(app.url(&notices_of(s.group_finding)))
            .bearer_auth(&w.inspector)
            .header("Idempotency-Key", "notice-1")
            .json(&json!({"level": "urge", "message": "请报送整改进展"}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let listed = app.get_ok(&format!("/api/v1/notices?finding_id={}", s.group_finding), &w.viewer).await;
    assert_eq!(ids(&listed), [id(&warning), id(&first)]);
}

async fn officers_and_viewers_may_not_issue_notices(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let before = app.last_event_id().await;
    let body = json!({"level": "urge", "message": "请加快整改"});
    for token in [&w.officer, &w.viewer, &w.sub_officer] {
        let p = problem(app.post(&notices_of(s.bureau_finding), Some(token), &body).await, 403).await;
        assert!(p["detail"].as_str().unwrap().contains("leader or inspector"), "{p}");
    }
    assert!(app.events_since(before).await.is_empty(), "refusals write nothing");
    assert!(ids(&app.get_ok("/api/v1/notices", &app.admin).await).is_empty());
    // Admins may do everything.
    assert_eq!(app.create(&notices_of(s.bureau_finding), &app.admin, body).await["status"], "issued");
}

async fn notices_on_findings_out_of_scope_are_404(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let before = app.last_event_id().await;
    let body = json!({"level": "warning", "message": "已逾期"});
    // The outsider is a leader and an inspector, of a unit that does not see the inspection.
    problem(app.post(&notices_of(s.bureau_finding), Some(&w.outsider), &body).await, 404).await;
    problem(app.post(&notices_of(999_999), Some(&w.leader), &body).await, 404).await;
    problem(app.post("/api/v1/findings/abc/notices", Some(&w.leader), &body).await, 400).await;
    problem(app.post(&notices_of(s.bureau_finding), None, &body).await, 401).await;
    assert!(app.events_since(before).await.is_empty());
}

async fn a_finding_without_a_responsible_unit_gets_no_notice(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let unowned = app.finding(&w, s.inspection, "责任单位未明确", json!({})).await;
    let before = app.last_event_id().await;
    let res = app.post(&notices_of(id(&unowned)), Some(&w.inspector), &json!({"level": "urge", "message": "x"})).await;
    let p = problem(res, 422).await;
    assert_eq!(fields(&p), ["responsible_unit_id"]);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("no responsible unit"), "{p}");
    assert!(app.events_since(before).await.is_empty());
}

async fn closed_findings_get_no_notices(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    close(&app, &w, s.bureau_finding).await;
    let before = app.last_event_id().await;
    let res =
        app.post(&notices_of(s.bureau_finding), Some(&w.leader), &json!({"level": "warning", "message": "x"})).await;
    let p = problem(res, 409).await;
    assert!(p["type"].as_str().unwrap().ends_with("/invalid-transition"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("closed"), "{p}");
    assert!(app.events_since(before).await.is_empty());
    // Blocked work may still be pressed.
    let blocked = app
        .post(
            &format!("/api/v1/findings/{}/block", s.group_finding),
            Some(&w.leader),
            &json!({"reason": "等待省上统一安排"}),
        )
        .await;
    assert_eq!(blocked.status(), 200);
    assert_eq!(issue(&app, &w.leader, s.group_finding, "reminder").await["status"], "issued");
}

async fn bad_notice_bodies_are_422_and_change_nothing(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let before = app.last_event_id().await;
    let yesterday = (today() - Duration::days(1)).to_string();
    let path = notices_of(s.bureau_finding);
    for (body, expected) in [
        (json!({"level": "urge", "message": "x", "respond_by": yesterday}), vec!["respond_by"]),
        (json!({"level": "urge", "message": "x", "respond_by": "1899-12-31"}), vec!["respond_by"]),
        (json!({"level": "urge", "message": "x", "respond_by": "2030-02-30"}), vec!["respond_by"]),
        (json!({"level": "urge", "message": "x", "respond_by": "10000-01-01"}), vec!["respond_by"]),
        (json!({"level": "urge", "message": "   "}), vec!["message"]),
        (json!({"level": "urge", "message": "a\u{0}b"}), vec!["message"]),
        (json!({"level": "urge", "message": "x".repeat(20_001)}), vec!["message"]),
        (json!({"level": "urge"}), vec!["message"]),
        (json!({"message": "x"}), vec!["level"]),
        (json!({"level": "orange", "message": "x"}), vec!["level"]),
        (json!({"level": "urge", "message": "x", "status": "acknowledged"}), vec!["status"]),
        (json!({"level": "urge", "message": "x", "org_unit_id": w.other}), vec!["org_unit_id"]),
        (json!({"level": "urge", "message": "x", "acknowledged_by": w.leader_id}), vec!["acknowledged_by"]),
        (json!({"level": "urge", "message": " ", "respond_by": yesterday}), vec!["message", "respond_by"]),
    ] {
        let p = problem(app.post(&path, Some(&w.leader), &body).await, 422).await;
        assert_eq!(fields(&p), expected, "{body}");
    }
    let p = problem(
        app.post(&path, Some(&w.leader), &json!({"level": "urge", "message": "x", "status": "issued"})).await,
        422,
    )
    .await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("read-only"), "{p}");
    let malformed = app
        .client
        .post(app.url(&path))
        .bearer_auth(&w.leader)
        .header("content-type", "application/json")
        .body("{\"level\": ")
        .send()
        .await
        .unwrap();
    problem(malformed, 400).await;
    assert!(app.events_since(before).await.is_empty(), "refusals write nothing");
    assert!(ids(&app.get_ok("/api/v1/notices", &app.admin).await).is_empty(), "and store nothing");
}

async fn notice_lists_filter_by_finding_unit_status_and_addressee(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let other_inspection = app.inspection(&w).await;
    let elsewhere =
        app.finding(&w, other_inspection, "另一轮巡察的问题", json!({"responsible_unit_id": w.bureau})).await;
    let n1 = id(&issue(&app, &w.leader, s.bureau_finding, "reminder").await);
    let n2 = id(&issue(&app, &w.inspector, s.bureau_finding, "urge").await);
    let n3 = id(&issue(&app, &w.leader, s.group_finding, "warning").await);
    let n4 = id(&issue(&app, &w.inspector, id(&elsewhere), "urge").await);
    acknowledged(&app, &w.officer, n2, Some(json!({"reply": "已收悉"}))).await;

    let list = |query: &str, token: &str| {
        let path = format!("/api/v1/notices{query}");
        let token = token.to_owned();
        let app = &app;
        async move { ids(&app.get_ok(&path, &token).await) }
    };
    assert_eq!(list("", &app.admin).await, [n1, n2, n3, n4]);
    assert_eq!(list("", &w.viewer).await, [n1, n2, n3, n4], "the bureau sees both inspections");
    assert_eq!(list(&format!("?finding_id={}", s.bureau_finding), &w.viewer).await, [n1, n2]);
    assert_eq!(list(&format!("?inspection_id={}", s.inspection), &w.viewer).await, [n1, n2, n3]);
    assert_eq!(list(&format!("?inspection_id={other_inspection}"), &w.viewer).await, [n4]);
    assert_eq!(list(&format!("?org_unit_id={}", w.group), &w.viewer).await, [n3]);
    assert_eq!(list(&format!("?org_unit_id={}", w.bureau), &w.viewer).await, [n1, n2, n4]);
    assert_eq!(list("?status=issued", &w.viewer).await, [n1, n3, n4]);
    assert_eq!(list("?status=acknowledged", &w.viewer).await, [n2]);
    assert_eq!(list("?status=issued&status=acknowledged", &w.viewer).await, [n1, n2, n3, n4]);
    assert_eq!(list("?status=acknowledged,issued", &w.viewer).await, [n1, n2, n3, n4]);
    // addressed_to=me: the caller's own unit's inbox.
    assert_eq!(list("?addressed_to=me", &w.officer).await, [n1, n2, n4]);
    assert_eq!(list("?addressed_to=me&status=issued", &w.officer).await, [n1, n4]);
    assert_eq!(list("?addressed_to=me", &w.inspector).await, [n3]);
    assert_eq!(list(&format!("?addressed_to=me&finding_id={}", s.group_finding), &w.officer).await, Vec::<i64>::new());
    assert_eq!(list("?addressed_to=me", &app.admin).await, Vec::<i64>::new(), "nothing is addressed to the root");
    // Lists never leak: units that do not see the inspections see nothing.
    assert_eq!(list("", &w.outsider).await, Vec::<i64>::new());
    assert_eq!(list(&format!("?finding_id={}", s.bureau_finding), &w.outsider).await, Vec::<i64>::new());
    assert_eq!(list("?addressed_to=me", &w.sub_officer).await, Vec::<i64>::new());

    // Keyset pages, one at a time, in id order.
    let mut seen = Vec::new();
    let mut path = "/api/v1/notices?limit=1".to_owned();
    loop {
        let page = app.get_ok(&path, &w.viewer).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/notices?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, [n1, n2, n3, n4]);

    for query in [
        "?addressed_to=you",
        "?status=bogus",
        "?nope=1",
        "?finding_id=x",
        "?finding_id=1&finding_id=2",
        "?cursor=forged",
    ] {
        problem(app.get(&format!("/api/v1/notices{query}"), Some(&w.viewer)).await, 400).await;
    }
    problem(app.get("/api/v1/notices?limit=201", Some(&w.viewer)).await, 422).await;
}

async fn only_a_user_of_the_addressed_unit_acknowledges_once(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let notice = id(&issue(&app, &w.leader, s.bureau_finding, "urge").await);
    let path = format!("/api/v1/notices/{notice}");
    let before = app.last_event_id().await;

    // Out of scope: not even seen.
    problem(app.get(&path, Some(&w.outsider)).await, 404).await;
    problem(acknowledge(&app, &w.outsider, notice, Some(json!({})), None).send().await.unwrap(), 404).await;
    problem(app.get(&path, Some(&w.sub_officer)).await, 404).await;
    problem(acknowledge(&app, &w.sub_officer, notice, None, None).send().await.unwrap(), 404).await;
    problem(acknowledge(&app, &w.leader, 999_999, None, None).send().await.unwrap(), 404).await;
    // In scope, but not the addressed unit; or read-only.
    let p = problem(acknowledge(&app, &w.inspector, notice, Some(json!({})), None).send().await.unwrap(), 403).await;
    assert!(p["detail"].as_str().unwrap().contains("addressed unit"), "{p}");
    problem(acknowledge(&app, &w.viewer, notice, None, None).send().await.unwrap(), 403).await;
    // Bad replies.
    for (body, field) in [
        (json!({"reply": "a\u{0}b"}), "reply"),
        (json!({"reply": "x".repeat(20_001)}), "reply"),
        (json!({"reply": 5}), "reply"),
        (json!({"status": "acknowledged"}), "status"),
        (json!({"acknowledged_at": "2030-01-01T00:00:00Z"}), "acknowledged_at"),
    ] {
        let p =
            problem(acknowledge(&app, &w.officer, notice, Some(body.clone()), None).send().await.unwrap(), 422).await;
        assert_eq!(fields(&p), [field], "{body}");
    }
    assert!(app.events_since(before).await.is_empty(), "refusals write nothing");
    assert_eq!(app.get_ok(&path, &w.viewer).await["version"], 1, "refusals change nothing");

    // 签收 by the bureau's officer, with a reply.
    let res = acknowledge(&app, &w.officer, notice, Some(json!({"reply": " 已收悉，月底前完成 "})), None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["status"], "acknowledged");
    assert_eq!(done["acknowledged_by"], w.officer_id);
    let time = |field: &str| done[field].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert!(time("acknowledged_at") >= time("issued_at"));
    assert_eq!(done["reply"], "已收悉，月底前完成");
    assert_eq!(done["version"], 2);
    assert_eq!(app.get_ok(&path, &w.inspector).await, done);

    // Once: a second acknowledgement, by anyone, is a 409 and changes nothing.
    let after = app.last_event_id().await;
    for token in [&w.leader, &w.officer] {
        let p = problem(acknowledge(&app, token, notice, None, None).send().await.unwrap(), 409).await;
        assert!(p["type"].as_str().unwrap().ends_with("/invalid-transition"), "{p}");
        assert!(p["detail"].as_str().unwrap().contains("acknowledged"), "{p}");
    }
    assert!(app.events_since(after).await.is_empty());
    assert_eq!(app.get_ok(&path, &w.viewer).await, done);

    // The body may be left out, or be null; admins may acknowledge anything.
    let bare = id(&issue(&app, &w.inspector, s.bureau_finding, "reminder").await);
    let out = acknowledged(&app, &w.leader, bare, None).await;
    assert_eq!((out["acknowledged_by"].as_i64(), out["reply"].is_null()), (Some(w.leader_id), true));
    let null_body = id(&issue(&app, &w.inspector, s.bureau_finding, "reminder").await);
    assert!(acknowledged(&app, &w.officer, null_body, Some(Value::Null)).await["reply"].is_null());
    let to_group = id(&issue(&app, &w.leader, s.group_finding, "warning").await);
    let admin_id = user_id(&app, &app.admin).await;
    assert_eq!(
        acknowledged(&app, &app.admin, to_group, Some(json!({"reply": "代为签收"}))).await["acknowledged_by"],
        admin_id
    );
}

async fn acknowledgement_honours_if_match(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let notice = id(&issue(&app, &w.leader, s.bureau_finding, "urge").await);
    let before = app.last_event_id().await;
    let p = problem(acknowledge(&app, &w.officer, notice, None, Some("\"7\"")).send().await.unwrap(), 412).await;
    assert!(p["detail"].as_str().unwrap().contains("version 1"), "{p}");
    problem(acknowledge(&app, &w.officer, notice, None, Some("W/\"1\"")).send().await.unwrap(), 412).await;
    assert!(app.events_since(before).await.is_empty());
    assert_eq!(app.get_ok(&format!("/api/v1/notices/{notice}"), &w.viewer).await["status"], "issued");
    let res =
        acknowledge(&app, &w.officer, notice, Some(json!({"reply": "收到"})), Some("\"1\"")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // The ETag the client holds is stale now: 412 before the state machine is asked.
    problem(acknowledge(&app, &w.leader, notice, None, Some("\"1\"")).send().await.unwrap(), 412).await;
}

async fn concurrent_acknowledgements_have_one_winner(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let mut tokens = vec![w.officer.clone(), w.leader.clone()];
    for n in 0..3 {
        tokens.push(app.user(&format!("clerk{n}"), w.bureau, &["officer"]).await.1);
    }
    let since = app.last_event_id().await;
    for (round, if_match) in [(0, None), (1, Some("\"1\"")), (2, None)] {
        let notice = id(&issue(&app, &w.inspector, s.bureau_finding, "warning").await);
        let requests = tokens.iter().enumerate().map(|(i, t)| {
            acknowledge(&app, t, notice, Some(json!({"reply": format!("第{i}位签收")})), if_match).send()
        });
        let mut statuses: Vec<u16> =
            join_all(requests).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
        statuses.sort();
        let loser = if if_match.is_some() { 412 } else { 409 };
        assert_eq!(statuses, [200, loser, loser, loser, loser], "round {round}: exactly one acknowledgement applies");
        let stored = app.get_ok(&format!("/api/v1/notices/{notice}"), &w.viewer).await;
        assert_eq!((stored["status"].as_str(), stored["version"].as_i64()), (Some("acknowledged"), Some(2)));
    }
    let acks = app.events_since(since).await.into_iter().filter(|(a, _)| a == "notice.acknowledged").count();
    assert_eq!(acks, 3, "one event per notice, written by the winner only");
}

async fn notice_events_reach_the_change_feed(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let since = app.last_event_id().await;
    let notice = id(&issue(&app, &w.leader, s.bureau_finding, "urge").await);
    acknowledged(&app, &w.officer, notice, Some(json!({"reply": "已收悉"}))).await;
    let feed = |token: String| {
        let app = &app;
        async move {
            let page = app.get_ok(&format!("/api/v1/events?after={since}"), &token).await;
            page["items"].as_array().unwrap().clone()
        }
    };
    app.feed_settled().await;
    let events = feed(w.viewer.clone()).await;
    let actions: Vec<_> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["notice.issued", "notice.acknowledged"], "the bureau's viewer follows its notices");
    for (e, status, actor) in [(&events[0], "issued", w.leader_id), (&events[1], "acknowledged", w.officer_id)] {
        assert_eq!(e["entity_type"], "notice");
        assert_eq!(e["entity_id"], notice);
        assert_eq!(e["inspection_id"], s.inspection);
        assert_eq!(e["finding_id"], s.bureau_finding);
        assert_eq!(e["org_unit_id"], w.bureau);
        assert_eq!(e["actor_id"], actor);
        assert_eq!(e["data"]["after"]["id"], notice);
        assert_eq!(e["data"]["after"]["status"], status);
    }
    assert_eq!(events[1]["data"]["after"]["reply"], "已收悉");
    assert!(feed(w.outsider.clone()).await.is_empty(), "out of scope, out of the feed");
    let history = app.get_ok(&format!("/api/v1/findings/{}/history", s.bureau_finding), &w.viewer).await;
    let actions: Vec<_> = history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["finding.created", "notice.issued", "notice.acknowledged"]);
}

async fn stats_count_notices_and_acknowledgement_time(app: TestApp) {
    let w = app.world().await;
    let s = setup(&app, &w).await;
    let stats_path = format!("/api/v1/inspections/{}/stats", s.inspection);
    let empty = app.get_ok(&stats_path, &w.viewer).await["notices"].clone();
    assert_eq!(
        empty,
        json!({"total": 0, "acknowledged": 0, "outstanding": 0, "by_level": {"reminder": 0, "urge": 0, "warning": 0},
               "by_unit": [], "average_acknowledgement_seconds": null, "max_acknowledgement_seconds": null})
    );

    let slow = id(&issue(&app, &w.leader, s.bureau_finding, "reminder").await);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    acknowledged(&app, &w.officer, slow, None).await;
    let quick = id(&issue(&app, &w.inspector, s.bureau_finding, "urge").await);
    acknowledged(&app, &w.leader, quick, None).await;
    issue(&app, &w.leader, s.group_finding, "warning").await;
    issue(&app, &w.inspector, s.bureau_finding, "warning").await;
    // Another inspection's notices are not counted here.
    let other = app.inspection(&w).await;
    let elsewhere = app.finding(&w, other, "别处", json!({"responsible_unit_id": w.bureau})).await;
    issue(&app, &w.leader, id(&elsewhere), "warning").await;

    let n = app.get_ok(&stats_path, &w.viewer).await["notices"].clone();
    assert_eq!(
        (n["total"].as_i64(), n["acknowledged"].as_i64(), n["outstanding"].as_i64()),
        (Some(4), Some(2), Some(2))
    );
    assert_eq!(n["by_level"], json!({"reminder": 1, "urge": 1, "warning": 2}));
    assert_eq!(
        n["by_unit"],
        json!([
            {"org_unit_id": w.group, "name": "区委巡察办", "total": 1, "acknowledged": 0, "outstanding": 1,
             "by_level": {"reminder": 0, "urge": 0, "warning": 1}},
            {"org_unit_id": w.bureau, "name": "行政审批服务局", "total": 3, "acknowledged": 2, "outstanding": 1,
             "by_level": {"reminder": 1, "urge": 1, "warning": 1}},
        ])
    );
    let max = n["max_acknowledgement_seconds"].as_f64().expect("a maximum once something is acknowledged");
    let average = n["average_acknowledgement_seconds"].as_f64().expect("an average once something is acknowledged");
    assert!((1.2..60.0).contains(&max), "the slow acknowledgement took over 1.2 s: {n}");
    assert!(average < max && average >= max / 2.0, "the mean of a slow and a quick acknowledgement: {n}");
    let other_stats = app.get_ok(&format!("/api/v1/inspections/{other}/stats"), &w.viewer).await["notices"].clone();
    assert_eq!((other_stats["total"].as_i64(), other_stats["outstanding"].as_i64()), (Some(1), Some(1)));
    assert!(other_stats["average_acknowledgement_seconds"].is_null());
}

db_tests!(
    leaders_and_inspectors_issue_notices_to_the_responsible_unit,
    officers_and_viewers_may_not_issue_notices,
    notices_on_findings_out_of_scope_are_404,
    a_finding_without_a_responsible_unit_gets_no_notice,
    closed_findings_get_no_notices,
    bad_notice_bodies_are_422_and_change_nothing,
    notice_lists_filter_by_finding_unit_status_and_addressee,
    only_a_user_of_the_addressed_unit_acknowledges_once,
    acknowledgement_honours_if_match,
    concurrent_acknowledgements_have_one_winner,
    notice_events_reach_the_change_feed,
    stats_count_notices_and_acknowledgement_time,
);
