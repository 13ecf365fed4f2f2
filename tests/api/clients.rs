//! Clients (contract §9.3 and issue 9): CORS for browsers, conditional GET and HEAD, and the
//! answers a careless or unauthorised client gets (roles before bodies, media types, paths).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{fields, problem, TestApp, World};

pub const ORIGIN: &str = "http://app.example:5173";
const OTHER_ORIGIN: &str = "https://evil.example";

/// Runs a test body on both databases with `RECTIFY_CORS_ORIGINS` listing [`ORIGIN`].
macro_rules! cors_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                const VARS: &[(&str, &str)] = &[("RECTIFY_CORS_ORIGINS", super::ORIGIN)];

                #[tokio::test]
                async fn sqlite() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, VARS).await.unwrap();
                    let handle = app.handle.clone();
                    super::$name(app).await;
                    handle.stop(false).await;
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::TestApp::spawn_postgres(VARS).await {
                        let handle = app.handle.clone();
                        super::$name(app).await;
                        handle.stop(false).await;
                    }
                }
            }
        )+
    };
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

fn listed(value: Option<&str>) -> Vec<String> {
    value.unwrap_or_default().split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect()
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .unwrap()
}

const ALL_HEADERS: &str = "authorization, content-type, if-match, if-none-match, idempotency-key, x-request-id";

async fn preflights_from_a_listed_origin_are_allowed(app: TestApp) {
    for (path, method) in [
        ("/api/v1/findings/1", "PATCH"),
        ("/api/v1/findings", "POST"),
        ("/api/v1/webhooks/1", "DELETE"),
        ("/api/v1/findings/1", "HEAD"),
        ("/public/v1/inspections", "GET"),
    ] {
        let res = preflight(&app, path, ORIGIN, method, ALL_HEADERS).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{method} {path}");
        assert_eq!(header(&res, "access-control-allow-origin"), Some(ORIGIN));
        let methods = listed(header(&res, "access-control-allow-methods"));
        for m in ["get", "head", "post", "patch", "delete"] {
            assert!(methods.contains(&m.to_owned()), "{m} in {methods:?}");
        }
        let allowed = listed(header(&res, "access-control-allow-headers"));
        for h in ALL_HEADERS.split(", ") {
            assert!(allowed.contains(&h.to_owned()), "{h} in {allowed:?}");
        }
        assert!(res.bytes().await.unwrap().is_empty());
    }
}

async fn preflights_from_other_origins_or_for_other_headers_are_refused(app: TestApp) {
    let res = preflight(&app, "/api/v1/findings/1", OTHER_ORIGIN, "PATCH", "authorization").await;
    assert!(res.headers().keys().all(|k| !k.as_str().starts_with("access-control-")), "{:?}", res.headers());
    problem(res, 403).await;
    let res = preflight(&app, "/api/v1/findings/1", ORIGIN, "PATCH", "x-unknown").await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    problem(res, 403).await;
    let res = preflight(&app, "/api/v1/findings/1", ORIGIN, "PUT", "authorization").await;
    problem(res, 403).await;
}

async fn responses_to_a_listed_origin_expose_headers_errors_included(app: TestApp) {
    let get = |path: &str, token: Option<String>| {
        let rb = app.client.get(app.url(path)).header("Origin", ORIGIN);
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
        .send()
    };
    let ok = get("/api/v1/auth/me", Some(app.admin.clone())).await.unwrap();
    let unauthorized = get("/api/v1/auth/me", None).await.unwrap();
    let no_route = get("/api/v1/nowhere", Some(app.admin.clone())).await.unwrap();
    let bad_path = get("/api/v1/findings/abc", Some(app.admin.clone())).await.unwrap();
    let public = get("/public/v1/inspections", None).await.unwrap();
    let malformed = app
        .client
        .post(app.url("/api/v1/org-units"))
        .header("Origin", ORIGIN)
        .bearer_auth(&app.admin)
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let wrong_method = app.client.put(app.url("/api/v1/findings")).header("Origin", ORIGIN).send().await.unwrap();
    for (what, res, status) in [
        ("ok", ok, 200),
        ("401", unauthorized, 401),
        ("no route", no_route, 404),
        ("bad path", bad_path, 400),
        ("public", public, 200),
        ("malformed body", malformed, 400),
        ("405", wrong_method, 405),
    ] {
        assert_eq!(res.status().as_u16(), status, "{what}");
        assert_eq!(header(&res, "access-control-allow-origin"), Some(ORIGIN), "{what}");
        let exposed = listed(header(&res, "access-control-expose-headers"));
        for h in ["etag", "location", "retry-after", "x-request-id"] {
            assert!(exposed.contains(&h.to_owned()), "{what}: {h} in {exposed:?}");
        }
    }
}

async fn unlisted_origins_get_no_cors_headers(app: TestApp) {
    for origin in [Some(OTHER_ORIGIN), None] {
        let mut rb = app.client.get(app.url("/api/v1/auth/me")).bearer_auth(&app.admin);
        if let Some(o) = origin {
            rb = rb.header("Origin", o);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "served as without CORS");
        assert!(res.headers().keys().all(|k| !k.as_str().starts_with("access-control-")), "{:?}", res.headers());
    }
}

cors_tests!(
    preflights_from_a_listed_origin_are_allowed,
    preflights_from_other_origins_or_for_other_headers_are_refused,
    responses_to_a_listed_origin_expose_headers_errors_included,
    unlisted_origins_get_no_cors_headers,
);

/// Without RECTIFY_CORS_ORIGINS no origin is allowed.
async fn without_cors_origins_no_preflight_passes(app: TestApp) {
    let res = preflight(&app, "/api/v1/findings", ORIGIN, "POST", "content-type").await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    problem(res, 403).await;
}

/// A finding with a responsible unit and a due date, and its inspection.
async fn finding(app: &TestApp, w: &World) -> (i64, i64) {
    let inspection = app.inspection(w).await;
    let f = app.finding(w, inspection, "问题", json!({"responsible_unit_id": w.bureau, "due_on": "2030-12-31"})).await;
    (inspection, f["id"].as_i64().unwrap())
}

async fn single_resource_gets_honour_if_none_match(app: TestApp) {
    let w = app.world().await;
    let (inspection, fid) = finding(&app, &w).await;
    let assignment = app
        .create(
            &format!("/api/v1/findings/{fid}/assignments"),
            &w.leader,
            json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
        )
        .await;
    for path in [
        format!("/api/v1/findings/{fid}"),
        format!("/api/v1/inspections/{inspection}"),
        format!("/api/v1/assignments/{}", assignment["id"]),
    ] {
        let first = app.get(&path, Some(&w.inspector)).await;
        assert_eq!(first.status(), StatusCode::OK);
        let etag = header(&first, "etag").expect("an ETag").to_owned();
        for tags in [etag.clone(), format!("W/{etag}"), format!("\"999\", {etag}"), "*".to_owned()] {
            let res = app
                .client
                .get(app.url(&path))
                .bearer_auth(&w.inspector)
                .header("If-None-Match", &tags)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path} If-None-Match: {tags}");
            assert_eq!(header(&res, "etag"), Some(etag.as_str()));
            assert!(res.bytes().await.unwrap().is_empty());
        }
        let stale =
            app.client.get(app.url(&path)).bearer_auth(&w.inspector).header("If-None-Match", "\"999\"").send().await;
        let stale = stale.unwrap();
        assert_eq!(stale.status(), StatusCode::OK);
        assert!(stale.json::<Value>().await.unwrap()["id"].is_i64());
    }
    // A change makes the old tag stale.
    let path = format!("/api/v1/findings/{fid}");
    let etag = header(&app.get(&path, Some(&w.inspector)).await, "etag").unwrap().to_owned();
    app.update(&path, &w.inspector, json!({"title": "问题（修订）"})).await;
    let res = app.client.get(app.url(&path)).bearer_auth(&w.inspector).header("If-None-Match", &etag).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::OK);
    // Errors are never 304.
    let res = app.client.get(app.url("/api/v1/findings/424242")).bearer_auth(&w.inspector).header("If-None-Match", "*");
    problem(res.send().await.unwrap(), 404).await;
}

async fn head_answers_as_get_without_a_body(app: TestApp) {
    let w = app.world().await;
    let (_, fid) = finding(&app, &w).await;
    for (path, token) in [
        (format!("/api/v1/findings/{fid}"), Some(w.inspector.clone())),
        ("/api/v1/findings".to_owned(), Some(w.inspector.clone())),
        ("/healthz".to_owned(), None),
        ("/public/v1/inspections".to_owned(), None),
    ] {
        let with = |rb: reqwest::RequestBuilder| match &token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        let get = with(app.client.get(app.url(&path))).send().await.unwrap();
        let head = with(app.client.head(app.url(&path))).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(header(&head, "etag"), header(&get, "etag"), "HEAD {path}");
        assert_eq!(header(&head, "content-type"), header(&get, "content-type"), "HEAD {path}");
        let length = header(&head, "content-length").map(str::to_owned);
        let body = get.bytes().await.unwrap();
        assert_eq!(length, Some(body.len().to_string()), "HEAD {path} gives GET's Content-Length");
        assert!(head.bytes().await.unwrap().is_empty());
    }
    let head = app.client.head(app.url(&format!("/api/v1/findings/{fid}"))).bearer_auth(&w.inspector);
    let etag =
        header(&app.get(&format!("/api/v1/findings/{fid}"), Some(&w.inspector)).await, "etag").unwrap().to_owned();
    assert_eq!(head.header("If-None-Match", etag).send().await.unwrap().status(), StatusCode::NOT_MODIFIED);
    // HEAD is allowed wherever GET is.
    let put = app.client.put(app.url("/api/v1/findings")).bearer_auth(&w.inspector).send().await.unwrap();
    assert_eq!(header(&put, "allow"), Some("GET, HEAD, POST"));
    let put = app.client.put(app.url("/api/v1/auth/token")).send().await.unwrap();
    assert_eq!(header(&put, "allow"), Some("POST"));
}

async fn admin_only_refusals_name_the_admin_role(app: TestApp) {
    let w = app.world().await;
    let res = app.post("/api/v1/org-units", Some(&w.leader), &json!({"name": "x", "parent_id": 1})).await;
    let p = problem(res, 403).await;
    assert_eq!(p["detail"], "this needs the role admin");
    let new_user = json!({"username": "u", "display_name": "u", "org_unit_id": w.bureau, "roles": ["viewer"], "password": "correct-horse-battery"});
    let p = problem(app.post("/api/v1/users", Some(&w.leader), &new_user).await, 403).await;
    assert_eq!(p["detail"], "this needs the role admin");
}

async fn roles_are_checked_before_bodies(app: TestApp) {
    let w = app.world().await;
    let (_, fid) = finding(&app, &w).await;
    let assignment = app
        .create(
            &format!("/api/v1/findings/{fid}/assignments"),
            &w.leader,
            json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
        )
        .await;
    let inspection = app.inspection(&w).await;
    let invalid = json!({"title": 5, "status": "closed", "nonsense": true});
    let cases = [
        (Method::POST, "/api/v1/findings".to_owned()),
        (Method::PATCH, format!("/api/v1/findings/{fid}")),
        (Method::POST, "/api/v1/inspections".to_owned()),
        (Method::PATCH, format!("/api/v1/inspections/{inspection}")),
        (Method::POST, format!("/api/v1/findings/{fid}/assignments")),
        (Method::PATCH, format!("/api/v1/assignments/{}", assignment["id"])),
        (Method::POST, "/api/v1/org-units".to_owned()),
    ];
    for (method, path) in cases {
        for body in [invalid.to_string(), "{\"title\": ".to_owned(), "[]".to_owned()] {
            let res = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&w.viewer)
                .header("Content-Type", "application/json")
                .header("If-Match", "\"1\"")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let p = problem(res, 403).await;
            assert!(p["detail"].as_str().unwrap().starts_with("this needs the role "), "{method} {path}: {p}");
            // No token at all: 401 before the body, too.
            let res = app
                .client
                .request(method.clone(), app.url(&path))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            problem(res, 401).await;
        }
    }
}

async fn ineligible_assignees_are_422_naming_the_field(app: TestApp) {
    let w = app.world().await;
    let (_, fid) = finding(&app, &w).await;
    let path = format!("/api/v1/findings/{fid}/assignments");
    let (stranger, _) = app.user("stranger", w.other, &["officer"]).await;
    let (gone, _) = app.user("gone", w.bureau, &["officer"]).await;
    app.update(&format!("/api/v1/users/{gone}"), &app.admin, json!({"active": false})).await;
    // A viewer of the responsible unit may not claim work, so may not be given it either.
    let (onlooker, _) = app.user("onlooker", w.bureau, &["viewer"]).await;
    // admin (id 1) sits in the root unit, above the responsible unit.
    for assignee in [onlooker, stranger, gone, 1, 424242] {
        let body =
            json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30", "assignee_id": assignee});
        let p = problem(app.post(&path, Some(&w.leader), &body).await, 422).await;
        assert_eq!(fields(&p), ["assignee_id"], "POST with assignee {assignee}: {p}");
    }
    let a = app
        .create(&path, &w.leader, json!({"title": "任务", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}))
        .await;
    let apath = format!("/api/v1/assignments/{}", a["id"]);
    for assignee in [onlooker, stranger, gone, 1, 424242] {
        let etag = header(&app.get(&apath, Some(&w.leader)).await, "etag").unwrap().to_owned();
        let res = app.patch(&apath, Some(&w.leader), Some(&etag), &json!({"assignee_id": assignee})).await;
        let p = problem(res, 422).await;
        assert_eq!(fields(&p), ["assignee_id"], "PATCH with assignee {assignee}: {p}");
    }
}

async fn bodies_must_be_utf8_json(app: TestApp) {
    let t = app.admin.clone();
    let body = |name: &str| json!({"name": name, "parent_id": 1}).to_string();
    let send = |content_type: Option<&'static str>, body: String| {
        let mut rb = app.client.post(app.url("/api/v1/org-units")).bearer_auth(&t).body(body);
        if let Some(ct) = content_type {
            rb = rb.header("Content-Type", ct);
        }
        rb.send()
    };
    for ct in
        [None, Some("application/json; charset=latin1"), Some("text/json"), Some("application/json;charset=iso-8859-1")]
    {
        let p = problem(send(ct, body("x")).await.unwrap(), 415).await;
        assert!(p["detail"].as_str().unwrap().contains("application/json"), "{p}");
    }
    for (i, ct) in [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=\"UTF-8\"",
        "application/merge-patch+json",
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(send(Some(ct), body(&format!("unit {i}"))).await.unwrap().status(), StatusCode::CREATED, "{ct}");
    }
}

async fn path_errors_name_the_parameter(app: TestApp) {
    let t = app.admin.clone();
    for path in ["/api/v1/findings/abc", "/api/v1/findings/1.5", "/api/v1/assignments/-x/progress"] {
        let p = problem(app.get(path, Some(&t)).await, 400).await;
        assert_eq!(p["detail"], "path parameter `id` must be an integer", "{path}");
    }
}

async fn oversized_headers_are_problem_documents(app: TestApp) {
    let big = format!("Bearer {}", "a".repeat(100 * 1024));
    let res = app.client.get(app.url("/api/v1/auth/me")).header("Authorization", big).send().await.unwrap();
    let p = problem(res, 431).await;
    assert!(p["detail"].as_str().unwrap().contains("header"), "{p}");

    // Past 128 KiB actix-http answers before any middleware runs (vendor/actix-http).
    let answer = raw_exchange(
        &app,
        format!("GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", "a".repeat(1 << 20)),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer:.200}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer:.400}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["status"], 431);
    assert_eq!(body["type"], "/problems/headers-too-large");

    // A request that is not HTTP at all: 400, also a problem document.
    let answer = raw_exchange(&app, "GARBAGE\r\n\r\n".to_owned()).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer:.200}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["type"], "/problems/bad-request");
}

/// Writes `request` on a fresh connection (while reading, as the server may answer before it has
/// read it all) and returns everything the server sent until it closed.
async fn raw_exchange(app: &TestApp, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        // The server stops reading at its limit: the rest of the write may fail, and that is fine.
        let _ = write.write_all(request.as_bytes()).await;
        write
    });
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match read.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    drop(writer.await);
    String::from_utf8_lossy(&answer).into_owned()
}

db_tests!(
    without_cors_origins_no_preflight_passes,
    single_resource_gets_honour_if_none_match,
    head_answers_as_get_without_a_body,
    admin_only_refusals_name_the_admin_role,
    roles_are_checked_before_bodies,
    ineligible_assignees_are_422_naming_the_field,
    bodies_must_be_utf8_json,
    path_errors_name_the_parameter,
    oversized_headers_are_problem_documents,
);
