//! §5–§6: the rectification workflow through the API, with the real roles.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, TestApp, World};

/// A finding of the fixture, with a deadline, under its aspect.
async fn fixture_finding(app: &TestApp, w: &World) -> (i64, i64) {
    let inspection = app.inspection(w).await;
    let sections = format!("/api/v1/inspections/{inspection}/sections");
    let category = app.create(&sections, &w.inspector, json!({"title": "聚焦责任落实方面"})).await;
    let aspect = app
        .create(&sections, &w.inspector, json!({"title": "落实优化营商环境重点任务情况", "parent_id": category["id"]}))
        .await;
    let finding = app
        .finding(
            w,
            inspection,
            "监管与审批分离，“监审”工作衔接不紧密",
            json!({"section_id": aspect["id"], "seq": 9, "responsible_unit_id": w.bureau,
                   "responsible_leader_id": w.leader_id, "due_on": "2030-12-31",
                   "measures": "完善审批联席会议制度"}),
        )
        .await;
    (inspection, finding["id"].as_i64().unwrap())
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.post(path, Some(token), &body).await
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = post(app, token, path, body.clone()).await;
    let status = res.status();
    let out: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status == 200 || status == 201, "POST {path} {body}: {status} {out}");
    out
}

/// Assigns, claims and completes one assignment of `finding`; returns its id.
async fn finish_assignment(app: &TestApp, w: &World, finding: i64, title: &str) -> i64 {
    let a = app
        .create(
            &format!("/api/v1/findings/{finding}/assignments"),
            &w.leader,
            json!({"title": title, "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
        )
        .await;
    let id = a["id"].as_i64().unwrap();
    ok(app, &w.officer, &format!("/api/v1/assignments/{id}/claim"), json!({})).await;
    ok(app, &w.officer, &format!("/api/v1/assignments/{id}/complete"), json!({"outcome": "已完成"})).await;
    id
}

async fn finding(app: &TestApp, w: &World, id: i64) -> Value {
    app.get_ok(&format!("/api/v1/findings/{id}"), &w.viewer).await
}

/// One of the fixture's problems from feedback to sign-off and back (回头看).
async fn a_problem_goes_from_feedback_to_sign_off_and_relapses(app: TestApp) {
    let w = app.world().await;
    let (_, fid) = fixture_finding(&app, &w).await;
    assert_eq!(finding(&app, &w, fid).await["status"], "open");

    // 任务到人: the leader splits the problem; the officer claims it.
    let assignment = app
        .create(
            &format!("/api/v1/findings/{fid}/assignments"),
            &w.leader,
            json!({"title": "修订《审批联席会议制度》", "measures": "征求意见后印发", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
        )
        .await;
    assert_eq!(assignment["status"], "unassigned");
    assert!(assignment["assignee_id"].is_null());
    assert_eq!(finding(&app, &w, fid).await["status"], "in_progress", "the first assignment starts the work");
    let aid = assignment["id"].as_i64().unwrap();
    let claimed = ok(&app, &w.officer, &format!("/api/v1/assignments/{aid}/claim"), json!({})).await;
    assert_eq!((claimed["status"].as_str(), claimed["assignee_id"].as_i64()), (Some("assigned"), Some(w.officer_id)));
    assert!(claimed["claimed_at"].is_string());
    let inbox = app.get_ok("/api/v1/assignments?assignee_id=me", &w.officer).await;
    assert_eq!(inbox["items"][0]["id"], aid);

    // 每半月分析汇总: two progress reports, stamped with the half month.
    let period = {
        use chrono::Datelike;
        let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
        format!("{:04}-{:02}-H{}", now.year(), now.month(), if now.day() <= 15 { 1 } else { 2 })
    };
    let progress = format!("/api/v1/assignments/{aid}/progress");
    let r1 = app.create(&progress, &w.officer, json!({"content": "已起草修订稿", "percent": 40})).await;
    assert_eq!(r1["period"], period);
    app.create(&progress, &w.leader, json!({"content": "已征求意见", "percent": 80})).await;
    let reports = app.get_ok(&progress, &w.viewer).await;
    assert_eq!(reports["items"].as_array().unwrap().len(), 2);
    problem(post(&app, &w.sub_officer, &progress, json!({"content": "x"})).await, 404).await;
    problem(post(&app, &w.viewer, &progress, json!({"content": "x"})).await, 403).await;
    assert_eq!(
        fields(&problem(post(&app, &w.officer, &progress, json!({"content": "x", "percent": 101})).await, 422).await),
        ["percent"]
    );

    let done =
        ok(&app, &w.officer, &format!("/api/v1/assignments/{aid}/complete"), json!({"outcome": "已印发实施"})).await;
    assert_eq!(done["status"], "done");

    // 销号: the officer submits with evidence; the leader, then the inspector, approve.
    let request = app
        .create(
            &format!("/api/v1/findings/{fid}/closure-requests"),
            &w.officer,
            json!({"outcome": "完善《审批联席会议制度》和《加强审管联动提升事中事后监管效能实施方案》",
                   "evidence": [{"title": "审批联席会议制度", "reference": "杨审批发〔2024〕12号"}], "long_term": true}),
        )
        .await;
    assert_eq!(request["status"], "pending");
    assert_eq!(request["current_step"], 1);
    let roles: Vec<_> = request["steps"].as_array().unwrap().iter().map(|s| s["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["leader", "inspector"]);
    assert_eq!(finding(&app, &w, fid).await["status"], "pending_closure");
    let rid = request["id"].as_i64().unwrap();
    let awaiting = app.get_ok("/api/v1/closure-requests?awaiting=me", &w.leader).await;
    assert_eq!(awaiting["items"][0]["id"], rid);
    assert!(app.get_ok("/api/v1/closure-requests?awaiting=me", &w.inspector).await["items"]
        .as_array()
        .unwrap()
        .is_empty());

    let decisions = format!("/api/v1/closure-requests/{rid}/decisions");
    let step1 = ok(&app, &w.leader, &decisions, json!({"decision": "approve", "comment": "同意"})).await;
    assert_eq!((step1["status"].as_str(), step1["current_step"].as_i64()), (Some("pending"), Some(2)));
    assert_eq!(step1["steps"][0]["decided_by"], w.leader_id);
    assert_eq!(finding(&app, &w, fid).await["status"], "pending_closure");
    assert_eq!(app.get_ok("/api/v1/closure-requests?awaiting=me", &w.inspector).await["items"][0]["id"], rid);
    let step2 = ok(&app, &w.inspector, &decisions, json!({"decision": "approve"})).await;
    assert_eq!(step2["status"], "approved");
    let closed = finding(&app, &w, fid).await;
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    assert_eq!(closed["long_term"], true);
    assert!(closed["outcome"].as_str().unwrap().starts_with("完善《审批联席会议制度》"));
    assert_eq!(closed["warning_level"], "none");

    // 回头看: a sustained review changes nothing; a relapse reopens it.
    let reviews = format!("/api/v1/findings/{fid}/reviews");
    app.create(&reviews, &w.inspector, json!({"outcome": "sustained", "notes": "制度执行良好"})).await;
    assert_eq!(finding(&app, &w, fid).await["status"], "closed");
    app.create(&reviews, &w.leader, json!({"outcome": "relapsed", "notes": "联席会议未按期召开"})).await;
    let reopened = finding(&app, &w, fid).await;
    assert_eq!(reopened["status"], "in_progress");
    assert!(reopened["closed_at"].is_null());
    assert_eq!(reopened["reopen_count"], 1);
    assert_eq!(app.get_ok(&reviews, &w.viewer).await["items"].as_array().unwrap().len(), 2);

    // After the reopen the closure rules still hold: a new, unfinished assignment blocks closing.
    app.create(
        &format!("/api/v1/findings/{fid}/assignments"),
        &w.leader,
        json!({"title": "督促按期召开联席会议", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
    )
    .await;
    let refused =
        post(&app, &w.officer, &format!("/api/v1/findings/{fid}/closure-requests"), json!({"outcome": "x"})).await;
    problem(refused, 409).await;

    // The finding's whole story, oldest first.
    let history = app.get_ok(&format!("/api/v1/findings/{fid}/history?limit=200"), &w.viewer).await;
    let actions: Vec<_> = history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "finding.created",
            "assignment.created",
            "assignment.claimed",
            "progress.reported",
            "progress.reported",
            "assignment.completed",
            "closure.requested",
            "closure.step_approved",
            "closure.approved",
            "finding.closed",
            "finding.review_sustained",
            "finding.reopened",
            "assignment.created",
        ]
    );
}

async fn refusals_of_the_workflow(app: TestApp) {
    let w = app.world().await;
    let (_, fid) = fixture_finding(&app, &w).await;
    let assignments = format!("/api/v1/findings/{fid}/assignments");
    let closures = format!("/api/v1/findings/{fid}/closure-requests");
    let new = json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"});

    // Wrong status: no closure of an open finding.
    let res = post(&app, &w.officer, &closures, json!({"outcome": "x"})).await;
    let p = problem(res, 409).await;
    assert!(p["type"].as_str().unwrap().ends_with("/invalid-transition"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("open"), "the detail names the status: {p}");
    // Wrong role, out of scope.
    problem(post(&app, &w.viewer, &assignments, new.clone()).await, 403).await;
    problem(post(&app, &w.officer, &assignments, new.clone()).await, 403).await;
    problem(post(&app, &w.outsider, &assignments, new.clone()).await, 404).await;
    // An assignment may not outlast its finding.
    let late = json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2031-01-01"});
    assert_eq!(fields(&problem(post(&app, &w.leader, &assignments, late).await, 422).await), ["due_on"]);
    let (stranger, _) = app.user("stranger", w.other, &["officer"]).await;
    let foreign =
        json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30", "assignee_id": stranger});
    assert_eq!(fields(&problem(post(&app, &w.leader, &assignments, foreign).await, 422).await), ["assignee_id"]);

    let a = app.create(&assignments, &w.leader, new.clone()).await;
    let aid = a["id"].as_i64().unwrap();
    // Only the responsible unit claims; only the assignee completes; a claimed one cannot be claimed again.
    problem(post(&app, &w.viewer, &format!("/api/v1/assignments/{aid}/claim"), json!({})).await, 403).await;
    problem(post(&app, &w.outsider, &format!("/api/v1/assignments/{aid}/claim"), json!({})).await, 404).await;
    problem(post(&app, &w.officer, &format!("/api/v1/assignments/{aid}/complete"), json!({"outcome": "x"})).await, 409)
        .await;
    ok(&app, &w.officer, &format!("/api/v1/assignments/{aid}/claim"), json!({})).await;
    problem(post(&app, &w.leader, &format!("/api/v1/assignments/{aid}/claim"), json!({})).await, 409).await;
    problem(post(&app, &w.leader, &format!("/api/v1/assignments/{aid}/complete"), json!({"outcome": "x"})).await, 403)
        .await;
    // Closure with an unfinished assignment.
    problem(post(&app, &w.officer, &closures, json!({"outcome": "x"})).await, 409).await;
    ok(&app, &w.officer, &format!("/api/v1/assignments/{aid}/complete"), json!({"outcome": "完成"})).await;
    // A done assignment is final.
    let res =
        app.patch(&format!("/api/v1/assignments/{aid}"), Some(&w.leader), Some("\"3\""), &json!({"title": "改"})).await;
    problem(res, 409).await;
    // Submitting is for officers; evidence is checked.
    problem(post(&app, &w.leader, &closures, json!({"outcome": "x"})).await, 403).await;
    let bad = json!({"outcome": "x", "evidence": [{"title": "", "reference": "r"}]});
    assert_eq!(fields(&problem(post(&app, &w.officer, &closures, bad).await, 422).await), ["evidence[0].title"]);

    // Separation of duties: one person with every role submits, then cannot decide their own request.
    let (_, all_roles) = app.user("all.roles", w.bureau, &["officer", "leader", "inspector"]).await;
    let request = app.create(&closures, &all_roles, json!({"outcome": "整改完成"})).await;
    let rid = request["id"].as_i64().unwrap();
    let decisions = format!("/api/v1/closure-requests/{rid}/decisions");
    problem(post(&app, &all_roles, &decisions, json!({"decision": "approve"})).await, 403).await;
    // The wrong role for the step, a rejection without comment.
    problem(post(&app, &w.inspector, &decisions, json!({"decision": "approve"})).await, 403).await;
    assert_eq!(
        fields(&problem(post(&app, &w.leader, &decisions, json!({"decision": "reject"})).await, 422).await),
        ["comment"]
    );
    assert_eq!(
        fields(&problem(post(&app, &w.leader, &decisions, json!({"decision": "maybe"})).await, 422).await),
        ["decision"]
    );
    // Nobody decides two steps: a leader-and-inspector approves step 1, then may not approve step 2.
    let (_, two_hats) = app.user("two.hats", w.group, &["leader", "inspector"]).await;
    ok(&app, &two_hats, &decisions, json!({"decision": "approve"})).await;
    problem(post(&app, &two_hats, &decisions, json!({"decision": "approve"})).await, 403).await;
    // Only the submitter withdraws.
    problem(post(&app, &w.leader, &format!("/api/v1/closure-requests/{rid}/withdraw"), json!({})).await, 403).await;
    // The inspector rejects: the request is rejected, the finding back in progress, the comment kept.
    let rejected =
        ok(&app, &w.inspector, &decisions, json!({"decision": "reject", "comment": "缺少制度印发文件"})).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["steps"][1]["comment"], "缺少制度印发文件");
    assert_eq!(finding(&app, &w, fid).await["status"], "in_progress");
    problem(post(&app, &w.leader, &decisions, json!({"decision": "approve"})).await, 409).await;

    // Resubmit and withdraw.
    let again = app.create(&closures, &w.officer, json!({"outcome": "已补充制度印发文件"})).await;
    let withdrawn =
        ok(&app, &w.officer, &format!("/api/v1/closure-requests/{}/withdraw", again["id"]), json!({})).await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(finding(&app, &w, fid).await["status"], "in_progress");
    problem(
        post(&app, &w.officer, &format!("/api/v1/closure-requests/{}/withdraw", again["id"]), json!({})).await,
        409,
    )
    .await;
    // Out of scope reads answer 404.
    problem(app.get(&format!("/api/v1/closure-requests/{rid}"), Some(&w.outsider)).await, 404).await;
    problem(app.get(&format!("/api/v1/assignments/{aid}"), Some(&w.outsider)).await, 404).await;
    assert!(app.get_ok("/api/v1/closure-requests", &w.outsider).await["items"].as_array().unwrap().is_empty());
}

async fn extensions_move_the_deadline_and_keep_the_old_one(app: TestApp) {
    let w = app.world().await;
    let (_, fid) = fixture_finding(&app, &w).await;
    let path = format!("/api/v1/findings/{fid}/extension-requests");
    // An open finding cannot be extended (nothing is under way yet).
    problem(post(&app, &w.officer, &path, json!({"new_due_on": "2031-06-30", "reason": "x"})).await, 409).await;
    finish_assignment(&app, &w, fid, "任务").await;
    let not_later =
        post(&app, &w.officer, &path, json!({"new_due_on": "2030-12-31", "reason": "等待省上统一安排"})).await;
    assert_eq!(fields(&problem(not_later, 422).await), ["new_due_on"]);
    let request =
        app.create(&path, &w.officer, json!({"new_due_on": "2031-06-30", "reason": "等待省上统一安排"})).await;
    assert_eq!(request["previous_due_on"], "2030-12-31");
    problem(post(&app, &w.officer, &path, json!({"new_due_on": "2031-07-30", "reason": "again"})).await, 409).await;
    let rid = request["id"].as_i64().unwrap();
    let decisions = format!("/api/v1/extension-requests/{rid}/decisions");
    problem(post(&app, &w.officer, &decisions, json!({"decision": "approve"})).await, 403).await;
    ok(&app, &w.leader, &decisions, json!({"decision": "approve"})).await;
    assert_eq!(finding(&app, &w, fid).await["due_on"], "2030-12-31", "not before the last step");
    let approved = ok(&app, &w.inspector, &decisions, json!({"decision": "approve"})).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(finding(&app, &w, fid).await["due_on"], "2031-06-30");
    let history = app.get_ok(&format!("/api/v1/findings/{fid}/history?limit=200"), &w.viewer).await;
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "extension.approved");
    assert_eq!(last["data"]["finding"]["due_on"], json!({"from": "2030-12-31", "to": "2031-06-30"}));
    assert_eq!(app.get_ok("/api/v1/extension-requests?status=approved", &w.viewer).await["items"][0]["id"], rid);
}

async fn blocked_findings_wait_apart(app: TestApp) {
    let w = app.world().await;
    let (inspection, fid) = fixture_finding(&app, &w).await;
    let block = format!("/api/v1/findings/{fid}/block");
    problem(post(&app, &w.officer, &block, json!({"reason": "x"})).await, 403).await;
    assert_eq!(fields(&problem(post(&app, &w.leader, &block, json!({"reason": " "})).await, 422).await), ["reason"]);
    let blocked =
        ok(&app, &w.leader, &block, json!({"reason": "系政务系统问题，等待省上统一安排", "until": "2031-01-01"})).await;
    assert_eq!(blocked["status"], "blocked");
    assert_eq!(blocked["blocked_reason"], "系政务系统问题，等待省上统一安排");
    problem(post(&app, &w.leader, &block, json!({"reason": "again"})).await, 409).await;
    // Blocked work may still be split; it stays blocked.
    app.create(
        &format!("/api/v1/findings/{fid}/assignments"),
        &w.leader,
        json!({"title": "跟踪省上安排", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
    )
    .await;
    assert_eq!(finding(&app, &w, fid).await["status"], "blocked");
    let listed = app.get_ok(&format!("/api/v1/findings?inspection_id={inspection}&status=blocked"), &w.viewer).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let ledger = app.get_ok(&format!("/api/v1/inspections/{inspection}/ledger"), &w.viewer).await;
    assert_eq!(ledger["totals"]["by_status"]["blocked"], 1);
    // A stale If-Match is honoured on actions.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/findings/{fid}/unblock")))
        .bearer_auth(&w.leader)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let unblocked = ok(&app, &w.leader, &format!("/api/v1/findings/{fid}/unblock"), json!({})).await;
    assert_eq!(unblocked["status"], "in_progress");
    assert!(unblocked["blocked_reason"].is_null());
    problem(post(&app, &w.leader, &format!("/api/v1/findings/{fid}/unblock"), json!({})).await, 409).await;
    // Reviews only of closed findings.
    problem(
        post(&app, &w.inspector, &format!("/api/v1/findings/{fid}/reviews"), json!({"outcome": "sustained"})).await,
        409,
    )
    .await;
    problem(
        post(&app, &w.officer, &format!("/api/v1/findings/{fid}/reviews"), json!({"outcome": "sustained"})).await,
        403,
    )
    .await;
}

async fn custom_chains_and_leader_assignment(app: TestApp) {
    let w = app.world().await;
    let (inspection, fid) = fixture_finding(&app, &w).await;
    app.update(&format!("/api/v1/inspections/{inspection}"), &w.inspector, json!({"approval_chain": ["inspector"]}))
        .await;
    // A leader may name the assignee at once, and hand it back to the pool.
    let a = app
        .create(&format!("/api/v1/findings/{fid}/assignments"), &w.leader, json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30", "assignee_id": w.officer_id}))
        .await;
    assert_eq!(a["status"], "assigned");
    let path = format!("/api/v1/assignments/{}", a["id"]);
    let back = app.update(&path, &w.leader, json!({"assignee_id": null})).await;
    assert_eq!((back["status"].as_str(), back["assignee_id"].is_null()), (Some("unassigned"), true));
    let again = app.update(&path, &w.leader, json!({"assignee_id": w.officer_id, "title": "新任务名"})).await;
    assert_eq!(again["status"], "assigned");
    problem(app.patch(&path, Some(&w.leader), Some("\"3\""), &json!({"status": "done"})).await, 422).await;
    // A new responsible unit must hold the assignee the assignment keeps: the officer is of the
    // bureau, not of the inspecting group (which may otherwise be responsible). Nothing changes.
    let moved =
        problem(app.patch(&path, Some(&w.leader), Some("\"3\""), &json!({"responsible_unit_id": w.group})).await, 422)
            .await;
    assert_eq!(fields(&moved), ["responsible_unit_id"]);
    let kept = app.get(&path, Some(&w.leader)).await.json::<Value>().await.unwrap();
    assert_eq!((kept["version"].as_i64(), kept["responsible_unit_id"].as_i64()), (Some(3), Some(w.bureau)));
    // Above the officer's unit (the root) is fine; so is the group with the officer handed back and named again.
    let up = app.update(&path, &w.leader, json!({"responsible_unit_id": 1})).await;
    assert_eq!((up["responsible_unit_id"].as_i64(), up["assignee_id"].as_i64()), (Some(1), Some(w.officer_id)));
    let pooled = app.update(&path, &w.leader, json!({"responsible_unit_id": w.group, "assignee_id": null})).await;
    assert_eq!(
        (pooled["status"].as_str(), pooled["responsible_unit_id"].as_i64()),
        (Some("unassigned"), Some(w.group))
    );
    let back =
        app.update(&path, &w.leader, json!({"responsible_unit_id": w.bureau, "assignee_id": w.officer_id})).await;
    assert_eq!(back["status"], "assigned");
    ok(&app, &w.officer, &format!("{path}/complete"), json!({"outcome": "完成"})).await;
    let request =
        app.create(&format!("/api/v1/findings/{fid}/closure-requests"), &w.officer, json!({"outcome": "完成"})).await;
    assert_eq!(request["steps"].as_array().unwrap().len(), 1);
    let approved = ok(
        &app,
        &w.inspector,
        &format!("/api/v1/closure-requests/{}/decisions", request["id"]),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(finding(&app, &w, fid).await["status"], "closed");
}

db_tests!(
    a_problem_goes_from_feedback_to_sign_off_and_relapses,
    refusals_of_the_workflow,
    extensions_move_the_deadline_and_keep_the_old_one,
    blocked_findings_wait_apart,
    custom_chains_and_leader_assignment
);

/// Findings of the review: each rule holds through the API.
async fn edges_of_the_workflow(app: TestApp) {
    let w = app.world().await;
    let (inspection, fid) = fixture_finding(&app, &w).await;
    let assignments = format!("/api/v1/findings/{fid}/assignments");
    // The responsible unit and the assignee must see the inspection (scope looks down, not up).
    let sub_unit = json!({"title": "任务", "responsible_unit_id": w.office, "due_on": "2030-06-30"});
    assert_eq!(
        fields(&problem(post(&app, &w.leader, &assignments, sub_unit).await, 422).await),
        ["responsible_unit_id"]
    );
    let sub_person = json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30", "assignee_id": w.sub_officer_id});
    assert_eq!(fields(&problem(post(&app, &w.leader, &assignments, sub_person).await, 422).await), ["assignee_id"]);
    // Dates stay in range.
    let ancient = json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "1800-01-01"});
    assert_eq!(fields(&problem(post(&app, &w.leader, &assignments, ancient).await, 422).await), ["due_on"]);
    let far = app
        .patch(
            &format!("/api/v1/findings/{fid}"),
            Some(&w.inspector),
            Some("\"1\""),
            &json!({"due_on": "+10000-01-01"}),
        )
        .await;
    assert_eq!(fields(&problem(far, 422).await), ["due_on"]);
    problem(app.get("/api/v1/findings?due_before=1800-01-01", Some(&w.viewer)).await, 400).await;
    // A finding's deadline may not fall before an open assignment's.
    finish_assignment(&app, &w, fid, "已完成的任务").await;
    app.create(
        &assignments,
        &w.leader,
        json!({"title": "未完成", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
    )
    .await;
    let path = format!("/api/v1/findings/{fid}");
    let etag = app.get(&path, Some(&w.viewer)).await.headers()["etag"].to_str().unwrap().to_owned();
    let early = app.patch(&path, Some(&w.inspector), Some(&etag), &json!({"due_on": "2030-01-01"})).await;
    assert_eq!(fields(&problem(early, 422).await), ["due_on"]);
    // Finding numbers stay in range, and running out is a 409, never a 500.
    let max = json!({"inspection_id": inspection, "title": "最后", "seq": 1_000_000});
    app.create("/api/v1/findings", &w.inspector, max).await;
    problem(
        app.post(
            "/api/v1/findings",
            Some(&w.inspector),
            &json!({"inspection_id": inspection, "title": "x", "seq": 1_000_001}),
        )
        .await,
        422,
    )
    .await;
    problem(
        app.post("/api/v1/findings", Some(&w.inspector), &json!({"inspection_id": inspection, "title": "x"})).await,
        409,
    )
    .await;
}

/// One person holding both roles cannot turn a race on step 1 into a decision on step 2 when they name the step.
async fn a_decision_names_its_step(app: TestApp) {
    let w = app.world().await;
    let (_, fid) = fixture_finding(&app, &w).await;
    finish_assignment(&app, &w, fid, "任务").await;
    let r =
        app.create(&format!("/api/v1/findings/{fid}/closure-requests"), &w.officer, json!({"outcome": "完成"})).await;
    let decisions = format!("/api/v1/closure-requests/{}/decisions", r["id"]);
    let (_, two_hats) = app.user("hats", w.group, &["leader", "inspector"]).await;
    ok(&app, &w.leader, &decisions, json!({"decision": "approve", "step": 1})).await;
    // Meant step 1 (as read), but step 1 is gone: 409, not an approval of step 2.
    let late = post(&app, &two_hats, &decisions, json!({"decision": "approve", "step": 1})).await;
    problem(late, 409).await;
    let stored = app.get_ok(&format!("/api/v1/closure-requests/{}", r["id"]), &w.viewer).await;
    assert_eq!((stored["status"].as_str(), stored["current_step"].as_i64()), (Some("pending"), Some(2)));
    ok(&app, &two_hats, &decisions, json!({"decision": "approve", "step": 2})).await;
    // After a reopen, publication waits for the work to be finished again.
    let inspection = finding(&app, &w, fid).await["inspection_id"].as_i64().unwrap();
    assert_eq!(
        post(&app, &w.inspector, &format!("/api/v1/inspections/{inspection}/conclude"), json!({})).await.status(),
        200
    );
    app.create(&format!("/api/v1/findings/{fid}/reviews"), &w.inspector, json!({"outcome": "relapsed"})).await;
    problem(post(&app, &w.inspector, &format!("/api/v1/inspections/{inspection}/publish"), json!({})).await, 409).await;
}

db_tests!(edges_of_the_workflow, a_decision_names_its_step);
