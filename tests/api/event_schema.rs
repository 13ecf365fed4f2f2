//! The typed audit-event schema tells the truth: a broad workflow writes every kind of event
//! (all 53 today), and each event served by `/api/v1/events` (and a finding's history) validates against
//! the served spec's `AuditEvent` with a real JSON Schema validator, made strict for the test:
//! no object may carry a field its schema does not name, so a `data` with more (or other)
//! fields than described fails as surely as one with fewer.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Duration as Days;
use serde_json::{json, Value};

use crate::helpers::{today, Backend, TestApp, World};

/// Event types the workflow below must produce (all of them, today): a new type fails this
/// test until the workflow writes it too.
const MIN_COVERED: usize = 53;

/// Closes every object schema that names its properties (`additionalProperties: false`),
/// through properties, items and compositions.
fn strict(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    if map.get("properties").is_some_and(Value::is_object) && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(strict);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(key) {
            strict(inner);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(items)) = map.get_mut(key) {
            items.iter_mut().for_each(strict);
        }
    }
}

/// Validates events and pages of them against the served spec, resolving `$ref`s against it.
struct SpecValidator {
    /// `AuditEvent`.
    union: jsonschema::Validator,
    /// What each operation that serves events declares for its 200 response.
    pages: Vec<(&'static str, jsonschema::Validator)>,
    spec: Value,
}

impl SpecValidator {
    async fn served(app: &TestApp) -> Self {
        let res = app.get("/api-docs/openapi.json", None).await;
        assert_eq!(res.status(), 200);
        let mut spec: Value = res.json().await.unwrap();
        for schema in spec["components"]["schemas"].as_object_mut().unwrap().values_mut() {
            strict(schema);
        }
        let union = Self::build(&spec, &json!({"$ref": "#/components/schemas/AuditEvent"}), "AuditEvent");
        let pages = ["/api/v1/events", "/api/v1/findings/{id}/history"]
            .into_iter()
            .map(|path| {
                let schema = &spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
                (path, Self::build(&spec, schema, path))
            })
            .collect();
        Self { union, pages, spec }
    }

    /// `schema` (a `$ref` into the spec, or a schema using them), with the spec's components.
    fn build(spec: &Value, schema: &Value, what: &str) -> jsonschema::Validator {
        let mut root = schema.clone();
        root["components"] = spec["components"].clone();
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the spec's schema for {what} is not valid: {e}"))
    }

    /// Panics with every error of `event` against its own variant when it does not validate.
    fn check(&self, event: &Value) {
        if self.union.is_valid(event) {
            return;
        }
        let action = event["action"].as_str().unwrap_or_default();
        let mapping = &self.spec["components"]["schemas"]["AuditEvent"]["discriminator"]["mapping"];
        let variant = mapping[action].as_str().unwrap_or_else(|| panic!("no variant for `{action}`: {event}"));
        let own = Self::build(&self.spec, &json!({"$ref": variant}), variant);
        let errors: Vec<String> = own.iter_errors(event).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        panic!("`{action}` does not match {variant}:\n{}\n{event:#}", errors.join("\n"));
    }

    /// Checks a page served by `path`: each event, then the page as the operation declares it.
    fn check_page(&self, path: &str, page: &Value) {
        page["items"].as_array().unwrap().iter().for_each(|e| self.check(e));
        let (_, validator) = self.pages.iter().find(|(p, _)| *p == path).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(page).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "a page of {path} does not match its declared response:\n{}", errors.join("\n"));
    }
}

/// Every page of the feed, oldest first.
async fn all_pages(app: &TestApp) -> Vec<Value> {
    app.feed_settled().await;
    let (mut after, mut pages) = (0, Vec::new());
    loop {
        let page = app.get_ok(&format!("/api/v1/events?after={after}&limit=200"), &app.admin).await;
        let Some(last) = page["items"].as_array().unwrap().last() else { return pages };
        after = last["id"].as_i64().unwrap();
        pages.push(page);
    }
}

/// Every event in the feed, oldest first.
async fn all_events(app: &TestApp) -> Vec<Value> {
    all_pages(app).await.iter().flat_map(|p| p["items"].as_array().unwrap().clone()).collect()
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, Some(token), &body).await;
    let status = res.status();
    let out: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {path} {body}: {status} {out}");
    out
}

async fn delete(app: &TestApp, token: &str, path: &str) {
    let res = app.client.delete(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 204, "DELETE {path}");
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

/// A URL on 127.0.0.1 where nothing listens: every delivery fails at once.
fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/hooks")
}

/// One scan as of `today`, on the blocking pool.
async fn scan(app: &TestApp, today: chrono::NaiveDate) {
    let (db, config) = (app.db.clone(), app.config.clone());
    tokio::task::spawn_blocking(move || rectify::deadlines::scan_once(&db, &config, today)).await.unwrap().unwrap();
}

/// Polls (at most 30 s) until `done` holds.
async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < Duration::from_secs(30), "{what} did not happen within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A finding's assignment, from creation to done, through every assignment event.
async fn assignment_story(app: &TestApp, w: &World, finding: i64) {
    let a = app
        .create(
            &format!("/api/v1/findings/{finding}/assignments"),
            &w.leader,
            json!({"title": "修订制度", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
        )
        .await;
    let path = format!("/api/v1/assignments/{}", id(&a));
    app.update(&path, &w.leader, json!({"assignee_id": w.officer_id})).await;
    app.update(&path, &w.leader, json!({"assignee_id": null})).await;
    app.update(&path, &w.leader, json!({"title": "修订并印发制度"})).await;
    ok(app, &w.officer, &format!("{path}/claim"), json!({})).await;
    app.create(&format!("{path}/progress"), &w.officer, json!({"content": "已起草", "percent": 50})).await;
    ok(app, &w.officer, &format!("{path}/complete"), json!({"outcome": "已印发"})).await;
}

/// Extension requests: approved over two steps, rejected, withdrawn.
async fn extension_story(app: &TestApp, w: &World, finding: i64) {
    let path = format!("/api/v1/findings/{finding}/extension-requests");
    let decide = |r: &Value| format!("/api/v1/extension-requests/{}/decisions", id(r));
    let r = app.create(&path, &w.officer, json!({"new_due_on": "2031-06-30", "reason": "等待省上统一安排"})).await;
    ok(app, &w.leader, &decide(&r), json!({"decision": "approve", "comment": "同意"})).await;
    ok(app, &w.inspector, &decide(&r), json!({"decision": "approve"})).await;
    let r = app.create(&path, &w.officer, json!({"new_due_on": "2031-12-31", "reason": "再延期"})).await;
    ok(app, &w.leader, &decide(&r), json!({"decision": "reject", "comment": "理由不充分"})).await;
    let r = app.create(&path, &w.officer, json!({"new_due_on": "2032-06-30", "reason": "再延期"})).await;
    ok(app, &w.officer, &format!("/api/v1/extension-requests/{}/withdraw", id(&r)), json!({})).await;
}

/// Closure requests: rejected, withdrawn, then approved over two steps (销号).
async fn closure_story(app: &TestApp, w: &World, finding: i64) {
    let path = format!("/api/v1/findings/{finding}/closure-requests");
    let decide = |r: &Value| format!("/api/v1/closure-requests/{}/decisions", id(r));
    let body =
        json!({"outcome": "已完成整改", "evidence": [{"title": "制度文件", "reference": "杨审批发〔2024〕12号"}]});
    let r = app.create(&path, &w.officer, body.clone()).await;
    ok(app, &w.leader, &decide(&r), json!({"decision": "reject", "comment": "缺少印发文件"})).await;
    let r = app.create(&path, &w.officer, body.clone()).await;
    ok(app, &w.officer, &format!("/api/v1/closure-requests/{}/withdraw", id(&r)), json!({})).await;
    let r = app.create(&path, &w.officer, json!({"outcome": "已完成整改", "long_term": true})).await;
    ok(app, &w.leader, &decide(&r), json!({"decision": "approve"})).await;
    ok(app, &w.inspector, &decide(&r), json!({"decision": "approve", "comment": "同意销号"})).await;
}

async fn every_event_matches_the_spec(backend: Backend) {
    // Deliveries may go to 127.0.0.1 and fail fast: "a day" of failures lasts about 1.7 s.
    let extra = [
        ("RECTIFY_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("RECTIFY_WEBHOOK_POLL_MS", "20"),
        ("RECTIFY_WEBHOOK_RETRY_BASE_SECONDS", "0.0001"),
    ];
    let Some(app) = TestApp::spawn_with(backend, &extra).await else { return };
    let w = app.world().await;

    // A webhook that always fails, started first: it is disabled while the rest goes on.
    let hook = app
        .create(
            "/api/v1/webhooks",
            &app.admin,
            json!({"url": dead_url(), "event_types": ["webhook.test"], "org_unit_id": w.bureau}),
        )
        .await;
    let hook_path = format!("/api/v1/webhooks/{}", id(&hook));
    app.update(&hook_path, &app.admin, json!({"description": "督办平台"})).await;
    ok(&app, &app.admin, &format!("{hook_path}/rotate-secret"), json!({})).await;
    let delivery = ok(&app, &app.admin, &format!("{hook_path}/test"), json!({})).await;

    // Units, people, service accounts.
    app.update(&format!("/api/v1/org-units/{}", w.other), &app.admin, json!({"name": "区发展和改革局"})).await;
    let (temp, _) = app.user("temp.user", w.bureau, &["viewer"]).await;
    let user = format!("/api/v1/users/{temp}");
    app.update(&user, &app.admin, json!({"display_name": "临时用户", "password": "another-horse-battery"})).await;
    app.update(&user, &app.admin, json!({"active": false})).await;
    app.update(&user, &app.admin, json!({"active": true})).await;
    let account = app
        .create(
            "/api/v1/service-accounts",
            &app.admin,
            json!({"name": "督办系统", "org_unit_id": w.bureau, "roles": ["viewer"]}),
        )
        .await;
    delete(&app, &app.admin, &format!("/api/v1/service-accounts/{}", id(&account))).await;

    // An inspection and its sections: one moved with its child, one deleted.
    let inspection = app.inspection(&w).await;
    app.update(&format!("/api/v1/inspections/{inspection}"), &w.inspector, json!({"topic": "优化营商环境"})).await;
    let sections = format!("/api/v1/inspections/{inspection}/sections");
    let category = app.create(&sections, &w.inspector, json!({"title": "聚焦责任落实方面"})).await;
    let aspect =
        app.create(&sections, &w.inspector, json!({"title": "落实整改责任", "parent_id": id(&category)})).await;
    let moved = app.create(&sections, &w.inspector, json!({"title": "聚焦作风效能方面"})).await;
    app.create(&sections, &w.inspector, json!({"title": "审批效率", "parent_id": id(&moved)})).await;
    app.update(&format!("/api/v1/sections/{}", id(&moved)), &w.inspector, json!({"parent_id": id(&category)})).await;
    let empty = app.create(&sections, &w.inspector, json!({"title": "待删除"})).await;
    delete(&app, &w.inspector, &format!("/api/v1/sections/{}", id(&empty))).await;

    // A finding through its whole story.
    let finding = app
        .finding(
            &w,
            inspection,
            "监管与审批分离，“监审”工作衔接不紧密",
            json!({"section_id": id(&aspect), "responsible_unit_id": w.bureau, "responsible_leader_id": w.leader_id,
                   "due_on": "2030-12-31"}),
        )
        .await;
    let fid = id(&finding);
    app.update(&format!("/api/v1/findings/{fid}"), &w.inspector, json!({"measures": "完善审批联席会议制度"})).await;
    ok(&app, &w.leader, &format!("/api/v1/findings/{fid}/block"), json!({"reason": "等待省上统一安排"})).await;
    ok(&app, &w.leader, &format!("/api/v1/findings/{fid}/unblock"), json!({})).await;
    let notice = app
        .create(
            &format!("/api/v1/findings/{fid}/notices"),
            &w.leader,
            json!({"level": "urge", "message": "请加快整改"}),
        )
        .await;
    ok(&app, &w.officer, &format!("/api/v1/notices/{}/acknowledge", id(&notice)), json!({"reply": "已收悉"})).await;
    assignment_story(&app, &w, fid).await;
    extension_story(&app, &w, fid).await;
    closure_story(&app, &w, fid).await;
    let reviews = format!("/api/v1/findings/{fid}/reviews");
    app.create(&reviews, &w.inspector, json!({"outcome": "sustained", "notes": "制度执行良好"})).await;
    app.create(&reviews, &w.leader, json!({"outcome": "relapsed"})).await;

    // The service's own deadline events.
    let due = today() + Days::days(5);
    app.finding(&w, inspection, "临期问题", json!({"due_on": due, "responsible_unit_id": w.bureau})).await;
    scan(&app, today()).await;
    scan(&app, due + Days::days(3)).await;

    // An imported ledger, and a blocked finding of it unblocked.
    let imported = app
        .create(
            "/api/v1/inspections/import",
            &w.inspector,
            json!({
                "inspection": {"title": "导入的巡察", "inspecting_body": "巡察组", "inspecting_unit_id": w.group,
                               "inspected_unit_id": w.bureau, "started_on": "2024-01-01", "ended_on": "2024-02-01"},
                "sections": [{"title": "聚焦政治站位方面", "children": [{"title": "学习贯彻", "findings": [
                    {"title": "学习不深入"},
                    {"title": "系统未对接", "status": "blocked", "blocked_reason": "等待省上统一安排"}
                ]}]}],
                "findings": [{"title": "未归类的问题", "status": "closed", "outcome": "已整改"}],
            }),
        )
        .await;
    let imported_id = imported["inspection"]["id"].as_i64().unwrap();
    let found = app.get_ok(&format!("/api/v1/findings?inspection_id={imported_id}&status=blocked"), &w.viewer).await;
    ok(&app, &w.leader, &format!("/api/v1/findings/{}/unblock", id(&found["items"][0])), json!({})).await;

    // A published report and the public's feedback on it.
    let published = app.inspection(&w).await;
    let waiting = app.finding(&w, published, "等待外部条件", json!({})).await;
    ok(
        &app,
        &w.leader,
        &format!("/api/v1/findings/{}/block", id(&waiting)),
        json!({"reason": "等待", "until": "2031-01-01"}),
    )
    .await;
    ok(&app, &w.inspector, &format!("/api/v1/inspections/{published}/conclude"), json!({})).await;
    ok(&app, &w.inspector, &format!("/api/v1/inspections/{published}/publish"), json!({})).await;
    let receipt = app
        .post(
            &format!("/public/v1/inspections/{published}/feedback"),
            None,
            &json!({"content": "建议公开整改进度", "contact": "13800000000"}),
        )
        .await;
    assert_eq!(receipt.status(), 202);
    let receipt: Value = receipt.json().await.unwrap();
    app.update(&format!("/api/v1/feedback/{}", id(&receipt)), &w.leader, json!({"status": "acknowledged"})).await;

    // The webhook: disabled by now or soon; its failed test delivery retried by hand; deleted.
    let deliveries = format!("{hook_path}/deliveries");
    wait_until("the failing webhook's test delivery to fail for good", || async {
        let page = app.get_ok(&deliveries, &app.admin).await;
        page["items"].as_array().unwrap().iter().any(|d| d["id"] == delivery["id"] && d["status"] == "failed")
    })
    .await;
    wait_until("webhook.disabled", || async {
        all_events(&app).await.iter().any(|e| e["action"] == "webhook.disabled")
    })
    .await;
    ok(&app, &app.admin, &format!("{deliveries}/{}/retry", id(&delivery)), json!({})).await;
    delete(&app, &app.admin, &hook_path).await;

    // Every event validates; the finding's history serves the same schema.
    let validator = SpecValidator::served(&app).await;
    let pages = all_pages(&app).await;
    pages.iter().for_each(|page| validator.check_page("/api/v1/events", page));
    let events: Vec<Value> = pages.iter().flat_map(|p| p["items"].as_array().unwrap().clone()).collect();
    let history = app.get_ok(&format!("/api/v1/findings/{fid}/history?limit=200"), &w.viewer).await;
    validator.check_page("/api/v1/findings/{id}/history", &history);
    // The validator is no rubber stamp: a field too many or too few, a wrong entity, another
    // action's data, a bad date, each fails.
    let created = events.iter().find(|e| e["action"] == "finding.created").unwrap();
    let tampered = |change: &dyn Fn(&mut Value)| {
        let mut e = created.clone();
        change(&mut e);
        e
    };
    for bad in [
        tampered(&|e| e["data"]["extra"] = json!(1)),
        tampered(&|e| e["data"]["after"]["password_hash"] = json!("x")),
        tampered(&|e| e["data"].as_object_mut().unwrap().clear()),
        tampered(&|e| e["data"]["after"].as_object_mut().unwrap().retain(|k, _| k != "status")),
        tampered(&|e| e["entity_type"] = json!("assignment")),
        tampered(&|e| e["action"] = json!("finding.updated")),
        tampered(&|e| e["data"]["source"] = json!("demo")),
        tampered(&|e| e["data"]["after"]["created_at"] = json!("yesterday")),
        tampered(&|e| e.as_object_mut().unwrap().remove("request_id").map(drop).unwrap()),
    ] {
        assert!(!validator.union.is_valid(&bad), "accepted: {bad:#}");
    }
    // The declared page is typed too: it refuses a page holding an untrue event.
    let bad_page = json!({"items": [tampered(&|e| e["data"]["extra"] = json!(1))], "next_cursor": null});
    assert!(validator.pages.iter().all(|(_, v)| !v.is_valid(&bad_page) && v.is_valid(&pages[0])));
    let covered: BTreeSet<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    let missing: Vec<&str> =
        rectify::audit::catalog::EVENT_TYPES.iter().map(|t| t.name).filter(|n| !covered.contains(n)).collect();
    if !missing.is_empty() {
        eprintln!("event types this test did not write: {missing:?}");
    }
    assert!(
        covered.len() >= MIN_COVERED,
        "{} of {MIN_COVERED} event types covered; not written: {missing:?}",
        covered.len()
    );
    // The optional parts were there, and checked: `source` of imported findings, a move's descendants.
    assert!(events.iter().any(|e| e["action"] == "finding.created" && e["data"]["source"] == "import"));
    assert!(events.iter().any(|e| e["action"] == "section.updated" && e["data"]["descendants"][0]["level"]["to"] == 3));
    app.stop().await;
}

/// `rectify demo` writes its events through other code (the CLI): they match too.
async fn demo_events_match_the_spec(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[]).await else { return };
    let (db, config) = (app.db.clone(), app.config.clone());
    tokio::task::spawn_blocking(move || rectify::cli::demo(&db, &config)).await.unwrap().expect("the demo");
    let validator = SpecValidator::served(&app).await;
    let pages = all_pages(&app).await;
    pages.iter().for_each(|page| validator.check_page("/api/v1/events", page));
    let events: Vec<Value> = pages.iter().flat_map(|p| p["items"].as_array().unwrap().clone()).collect();
    let demo = |action: &str| events.iter().any(|e| e["action"] == action && e["data"]["source"] == "demo");
    assert!(demo("org_unit.created") && demo("user.created") && demo("assignment.created"), "the demo's own events");
    app.stop().await;
}

macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name(crate::helpers::Backend::Postgres).await;
                }
            }
        )+
    };
}

both!(every_event_matches_the_spec, demo_events_match_the_spec);
