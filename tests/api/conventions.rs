//! §2: conventions every endpoint shares.

use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, TestApp};

async fn patch_needs_a_current_if_match(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let f = app.finding(&w, inspection, "问题", json!({})).await;
    let path = format!("/api/v1/findings/{}", f["id"]);
    let res = app.get(&path, Some(&w.viewer)).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let before = app.last_event_id().await;
    problem(app.patch(&path, Some(&w.inspector), None, &json!({"title": "新"})).await, 428).await;
    problem(app.patch(&path, Some(&w.inspector), Some("\"7\""), &json!({"title": "新"})).await, 412).await;
    problem(app.patch(&path, Some(&w.inspector), Some("W/\"1\""), &json!({"title": "新"})).await, 412).await;
    assert!(app.events_since(before).await.is_empty(), "refused PATCHes write no audit event");
    assert_eq!(app.get_ok(&path, &w.viewer).await["title"], "问题", "refused PATCHes change nothing");
    let res = app.patch(&path, Some(&w.inspector), Some("\"1\""), &json!({"title": "新"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    // The old ETag is now stale.
    problem(app.patch(&path, Some(&w.inspector), Some("\"1\""), &json!({"title": "旧"})).await, 412).await;
    assert_eq!(app.patch(&path, Some(&w.inspector), Some("*"), &json!({"title": "任意"})).await.status(), 200);
}

async fn idempotency_keys_replay_and_guard(app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let body = json!({"inspection_id": inspection, "title": "只建一次"});
    let send = |key: &str, body: &Value| {
        app.client
            .post(app.url("/api/v1/findings"))
            .bearer_auth(&w.inspector)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
    };
    let first = send("key-1", &body).await.unwrap();
    assert_eq!(first.status(), 201);
    let first_location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let again = send("key-1", &body).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["location"], first_location);
    assert_eq!(again.json::<Value>().await.unwrap(), first, "same status, same body");
    let listed = app.get_ok(&format!("/api/v1/findings?inspection_id={inspection}"), &w.viewer).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "created once");

    let other = send("key-1", &json!({"inspection_id": inspection, "title": "另一个"})).await.unwrap();
    assert_eq!(fields(&problem(other, 422).await), ["Idempotency-Key"]);
    let too_long = send(&"k".repeat(256), &body).await.unwrap();
    assert_eq!(fields(&problem(too_long, 422).await), ["Idempotency-Key"]);
    // Keys belong to their user: another user's same key is a new request.
    let (_, inspector2) = app.user("inspector2", w.group, &["inspector"]).await;
    let theirs = app
        .client
        .post(app.url("/api/v1/findings"))
        .bearer_auth(&inspector2)
        .header("Idempotency-Key", "key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 201);
    assert_ne!(theirs.json::<Value>().await.unwrap()["id"], first["id"]);

    // Concurrent requests with one key create one finding.
    let body = json!({"inspection_id": inspection, "title": "并发"});
    let results = futures_util::future::join_all((0..6).map(|_| send("key-race", &body))).await;
    let mut ids = Vec::new();
    for r in results {
        let r = r.unwrap();
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every replay names the one finding");
}

async fn errors_are_problem_documents(app: TestApp) {
    let t = app.admin.clone();
    problem(app.get("/api/v1/nowhere", Some(&t)).await, 404).await;
    problem(app.get("/nowhere", None).await, 404).await;
    let wrong_method = app.client.put(app.url("/api/v1/findings")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(wrong_method.headers()["allow"], "GET, HEAD, POST");
    problem(wrong_method, 405).await;
    problem(app.get("/api/v1/findings/abc", Some(&t)).await, 400).await;
    problem(app.get("/api/v1/findings/424242", Some(&t)).await, 404).await;
    problem(app.get("/api/v1/findings?limit=201", Some(&t)).await, 422).await;
    problem(app.get("/api/v1/findings?limit=0", Some(&t)).await, 422).await;
    problem(app.get("/api/v1/findings?limit=ten", Some(&t)).await, 400).await;
    let malformed = app
        .client
        .post(app.url("/api/v1/org-units"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    problem(malformed, 400).await;
    let not_json = app
        .client
        .post(app.url("/api/v1/org-units"))
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("name")
        .send()
        .await
        .unwrap();
    problem(not_json, 415).await;
    let big = json!({"name": "x".repeat(1024 * 1024 + 10), "parent_id": 1});
    problem(app.post("/api/v1/org-units", Some(&t), &big).await, 413).await;
    let wrong_type = app.post("/api/v1/org-units", Some(&t), &json!({"name": 5, "parent_id": 1})).await;
    assert_eq!(fields(&problem(wrong_type, 422).await), ["name"]);
    let control = app.post("/api/v1/org-units", Some(&t), &json!({"name": "a\u{0}b", "parent_id": 1})).await;
    assert_eq!(fields(&problem(control, 422).await), ["name"]);
    let missing = app.post("/api/v1/org-units", Some(&t), &json!({"parent_id": 1})).await;
    assert_eq!(fields(&problem(missing, 422).await), ["name"]);
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .bearer_auth(&t)
        .header("X-Request-Id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-123");
    assert!(!app.get("/healthz", None).await.headers()["x-request-id"].is_empty());
}

async fn probes_and_docs_answer(app: TestApp) {
    assert_eq!(app.get("/healthz", None).await.json::<Value>().await.unwrap()["status"], "ok");
    assert_eq!(app.get("/readyz", None).await.status(), 200);
    let served: Value = app.get("/api-docs/openapi.json", None).await.json().await.unwrap();
    assert_eq!(served, serde_json::to_value(rectify::app::spec()).unwrap());
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "Swagger UI is served from the binary");
    assert!(!html.contains("cdn."), "no CDN: the docs work offline");
}

db_tests!(
    patch_needs_a_current_if_match,
    idempotency_keys_replay_and_guard,
    errors_are_problem_documents,
    probes_and_docs_answer
);
