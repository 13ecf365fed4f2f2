//! §9.1: webhooks, checked against an independent receiver — a Python server that
//! verifies every request with the reference `standardwebhooks` library
//! (tests/support/webhook_receiver.py) — on both databases.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{problem, Backend, TestApp, World};

/// The receiver process; killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Receiver {
    fn start(extra: &[&str]) -> Receiver {
        let dir = std::env::temp_dir().join(format!("rectify-receiver-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/webhook_receiver.py");
        let python = std::env::var("WEBHOOK_RECEIVER_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(python)
            .arg(script)
            .arg("0")
            .arg(dir.join("log.jsonl"))
            .arg("--secret-file")
            .arg(dir.join("secret"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the webhook receiver (pip install -r tests/support/requirements.txt)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the receiver did not start: {line:?} (is `standardwebhooks` installed?)"));
        Receiver { child, port, dir }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    fn set_secret(&self, secret: &str) {
        std::fs::write(self.dir.join("secret"), secret).unwrap();
    }

    /// Every request received so far.
    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits (at most 20 s) until `n` requests have arrived.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "{} of {n} requests arrived: {got:?}", got.len());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A test app that may deliver to 127.0.0.1, polls often and retries fast.
async fn app(backend: Backend, retry_base: &str) -> Option<TestApp> {
    TestApp::spawn_with(
        backend,
        &[
            ("RECTIFY_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("RECTIFY_WEBHOOK_POLL_MS", "20"),
            ("RECTIFY_WEBHOOK_RETRY_BASE_SECONDS", retry_base),
        ],
    )
    .await
}

/// Subscribes `receiver` to `types` for `unit`, as admin; returns the webhook with its secret.
async fn subscribe(app: &TestApp, receiver: &Receiver, unit: i64, types: &[&str]) -> Value {
    let hook = app
        .create(
            "/api/v1/webhooks",
            &app.admin,
            json!({"url": receiver.url(), "event_types": types, "org_unit_id": unit, "description": "督办平台"}),
        )
        .await;
    receiver.set_secret(hook["secret"].as_str().unwrap());
    hook
}

async fn deliveries(app: &TestApp, hook: &Value) -> Vec<Value> {
    let page = app.get_ok(&format!("/api/v1/webhooks/{}/deliveries", hook["id"]), &app.admin).await;
    page["items"].as_array().unwrap().clone()
}

/// Waits (at most 20 s) until the webhook's deliveries all left `pending`.
async fn settled(app: &TestApp, hook: &Value) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let all = deliveries(app, hook).await;
        if !all.is_empty() && all.iter().all(|d| d["status"] != "pending") {
            return all;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "deliveries still pending: {all:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn a_finding(app: &TestApp, w: &World, title: &str) -> Value {
    let inspection = app.inspection(w).await;
    app.finding(w, inspection, title, json!({})).await
}

async fn deliveries_are_signed_scoped_and_verified_by_an_independent_receiver(backend: Backend) {
    let Some(app) = app(backend, "5").await else { return };
    let w = app.world().await;
    let (ours, theirs) = (Receiver::start(&[]), Receiver::start(&[]));
    let hook = subscribe(&app, &ours, w.bureau, &["finding.*"]).await;
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(hook["event_types"], json!(["finding.*"]));
    let other = subscribe(&app, &theirs, w.other, &["*"]).await;
    let finding = a_finding(&app, &w, "并联审批未落实").await;
    let got = ours.wait_for(1).await;
    let first = &got[0];
    assert_eq!(first["verified"], true, "the reference library verified the signature: {first}");
    assert_eq!(first["status_returned"], 200);
    assert!(first["webhook_id"].as_str().unwrap().starts_with("msg_"));
    let body = &first["body"];
    assert_eq!(body["type"], "finding.created");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    let data = &body["data"];
    assert_eq!(data["finding_id"], finding["id"]);
    assert_eq!(data["entity_type"], "finding");
    assert_eq!(data["inspection_id"], finding["inspection_id"]);
    assert_eq!(data["after"]["title"], "并联审批未落实");
    assert!(data["event_id"].as_i64().is_some());
    // The delivery log shows the attempt.
    let log = settled(&app, &hook).await;
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["event_type"], "finding.created");
    assert_eq!(log[0]["attempts"][0]["http_status"], 200);
    assert_eq!(log[0]["attempts"][0]["attempt"], 1);
    // Unit B's webhook never sees unit A's inspection (only events of its own unit, such as
    // its own creation).
    let seen_by_other: Vec<Value> =
        deliveries(&app, &other).await.into_iter().map(|d| d["event_type"].clone()).collect();
    assert_eq!(seen_by_other, [json!("webhook.created")]);
    assert!(theirs.received().iter().all(|r| r["body"]["type"] == "webhook.created"));
    app.stop().await;
}

async fn a_failing_receiver_gets_retries_with_one_webhook_id(backend: Backend) {
    let Some(app) = app(backend, "0.05").await else { return };
    let w = app.world().await;
    let receiver = Receiver::start(&["--fail-first", "2"]);
    let hook = subscribe(&app, &receiver, w.bureau, &["finding.created"]).await;
    a_finding(&app, &w, "重试的问题").await;
    let got = receiver.wait_for(3).await;
    let ids: Vec<&str> = got.iter().map(|r| r["webhook_id"].as_str().unwrap()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "webhook-id is stable across retries: {ids:?}");
    let statuses: Vec<i64> = got.iter().map(|r| r["status_returned"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert!(got.iter().all(|r| r["verified"] == true));
    let log = settled(&app, &hook).await;
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0]["http_status"], 500);
    assert!(attempts[0]["next_attempt_at"].is_string());
    assert_eq!(attempts[2]["http_status"], 200);
    assert!(attempts[2]["next_attempt_at"].is_null());
    assert_eq!(log[0]["status"], "succeeded");
    app.stop().await;
}

async fn a_delivery_survives_a_restart(backend: Backend) {
    let Some(app) = app(backend, "1").await else { return };
    let w = app.world().await;
    let receiver = Receiver::start(&["--fail-first", "1"]);
    subscribe(&app, &receiver, w.bureau, &["finding.created"]).await;
    a_finding(&app, &w, "重启前的问题").await;
    receiver.wait_for(1).await;
    // The service stops before the retry is due; another instance on the same database sends it.
    app.handle.stop(true).await;
    let restarted = app.start_another_instance();
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1]["status_returned"], 200);
    assert_eq!(got[0]["webhook_id"], got[1]["webhook_id"]);
    restarted.stop(false).await;
}

async fn ssrf_targets_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[]).await else { return };
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://2130706433/hook",
        "ftp://example.com/hook",
        "https://user:pass@example.com/hook",
        "not a url",
    ] {
        let res = app.post("/api/v1/webhooks", Some(&app.admin), &json!({"url": url, "event_types": ["*"]})).await;
        let p = problem(res, 422).await;
        assert_eq!(p["errors"][0]["field"], "url", "{url}: {p}");
    }
    for types in [json!([]), json!(["nothing.*"]), json!(["finding.nope"])] {
        let res = app
            .post("/api/v1/webhooks", Some(&app.admin), &json!({"url": "https://example.com/", "event_types": types}))
            .await;
        problem(res, 422).await;
    }
    let list = app.get_ok("/api/v1/webhooks", &app.admin).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing was created");
    app.stop().await;
}

async fn a_rotation_signs_with_both_secrets(backend: Backend) {
    let Some(app) = app(backend, "5").await else { return };
    let w = app.world().await;
    let receiver = Receiver::start(&[]);
    let hook = subscribe(&app, &receiver, w.bureau, &["finding.created"]).await;
    let old = hook["secret"].as_str().unwrap().to_owned();
    let res = app.post(&format!("/api/v1/webhooks/{}/rotate-secret", hook["id"]), Some(&app.admin), &json!({})).await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    assert!(rotated["previous_secret_expires_at"].is_string());
    // A receiver that still knows only the old secret keeps verifying…
    a_finding(&app, &w, "轮换中的问题").await;
    let got = receiver.wait_for(1).await;
    assert_eq!((got[0]["verified"].as_bool(), got[0]["signatures"].as_i64()), (Some(true), Some(2)));
    // …and so does one that switched to the new one.
    receiver.set_secret(&new);
    a_finding(&app, &w, "轮换后的问题").await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1]["verified"], true);
    // The secret is never shown again.
    let read = app.get_ok(&format!("/api/v1/webhooks/{}", hook["id"]), &app.admin).await;
    assert!(read.get("secret").is_none() && !read.to_string().contains(&new));
    app.stop().await;
}

async fn a_webhook_failing_for_a_day_is_disabled(backend: Backend) {
    // Retry base 0.2 ms: the schedule runs in about 3 s and "a day" of failures lasts 3.5 s.
    let Some(app) = app(backend, "0.0002").await else { return };
    let w = app.world().await;
    let receiver = Receiver::start(&["--fail-always"]);
    let hook = subscribe(&app, &receiver, w.bureau, &["finding.created"]).await;
    let start = app.last_event_id().await;
    a_finding(&app, &w, "一直失败的问题").await;
    let log = settled(&app, &hook).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 8, "the first attempt and seven retries");
    let read = app.get_ok(&format!("/api/v1/webhooks/{}", hook["id"]), &app.admin).await;
    assert_eq!(read["active"], false);
    assert!(read["disabled_at"].is_string());
    assert!(app
        .events_since(start)
        .await
        .iter()
        .any(|(a, id)| a == "webhook.disabled" && Some(*id) == hook["id"].as_i64()));
    app.stop().await;
}

async fn test_events_and_manual_retries(backend: Backend) {
    let Some(app) = app(backend, "5").await else { return };
    let w = app.world().await;
    let receiver = Receiver::start(&[]);
    let hook = subscribe(&app, &receiver, w.bureau, &["finding.closed"]).await;
    let res = app.post(&format!("/api/v1/webhooks/{}/test", hook["id"]), Some(&app.admin), &json!({})).await;
    assert_eq!(res.status(), 202);
    let queued: Value = res.json().await.unwrap();
    assert_eq!(queued["event_type"], "webhook.test");
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0]["body"]["type"], "webhook.test");
    settled(&app, &hook).await;
    let retry = format!("/api/v1/webhooks/{}/deliveries/{}/retry", hook["id"], queued["id"]);
    assert_eq!(app.post(&retry, Some(&app.admin), &json!({})).await.status(), 202);
    let got = receiver.wait_for(2).await;
    assert_eq!(got[0]["webhook_id"], got[1]["webhook_id"]);
    let unknown = format!("/api/v1/webhooks/{}/deliveries/999999/retry", hook["id"]);
    problem(app.post(&unknown, Some(&app.admin), &json!({})).await, 404).await;
    app.stop().await;
}

async fn webhooks_are_managed_within_scope(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, &[]).await else { return };
    let w = app.world().await;
    let body = json!({"url": "https://example.com/hooks", "event_types": ["finding.*"]});
    problem(app.post("/api/v1/webhooks", Some(&w.officer), &body).await, 403).await;
    problem(app.post("/api/v1/webhooks", Some(&w.viewer), &body).await, 403).await;
    // DNS is out of reach here: a name that cannot be resolved is refused like a private one.
    let res = app.post("/api/v1/webhooks", Some(&w.leader), &body).await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["field"], "url");
    let elsewhere = json!({"url": "https://93.184.215.14/hooks", "event_types": ["*"], "org_unit_id": w.other});
    let p = problem(app.post("/api/v1/webhooks", Some(&w.leader), &elsewhere).await, 422).await;
    assert_eq!(p["errors"][0]["field"], "org_unit_id");
    // Inactive from the start: nothing is sent to this unreachable address meanwhile.
    let own = json!({"url": "https://93.184.215.14/hooks", "event_types": ["*"], "active": false});
    let hook = app.create("/api/v1/webhooks", &w.leader, own).await;
    assert_eq!(hook["org_unit_id"], w.bureau, "the caller's unit by default");
    let path = format!("/api/v1/webhooks/{}", hook["id"]);
    problem(app.get(&path, Some(&w.outsider)).await, 404).await;
    assert!(app.get_ok("/api/v1/webhooks", &w.outsider).await["items"].as_array().unwrap().is_empty());
    let changed = app.update(&path, &w.leader, json!({"description": "暂停", "event_types": ["finding.*"]})).await;
    assert_eq!((changed["active"].as_bool(), changed["version"].as_i64()), (Some(false), Some(2)));
    assert_eq!(changed["event_types"], json!(["finding.*"]));
    let res = app.client.delete(app.url(&path)).bearer_auth(&w.leader).send().await.unwrap();
    assert_eq!(res.status(), 204);
    problem(app.get(&path, Some(&w.leader)).await, 404).await;
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

both!(
    deliveries_are_signed_scoped_and_verified_by_an_independent_receiver,
    a_failing_receiver_gets_retries_with_one_webhook_id,
    a_delivery_survives_a_restart,
    ssrf_targets_are_refused,
    a_rotation_signs_with_both_secrets,
    a_webhook_failing_for_a_day_is_disabled,
    test_events_and_manual_retries,
    webhooks_are_managed_within_scope,
);

/// Several instances on one PostgreSQL database deliver each event exactly once.
#[tokio::test]
async fn two_instances_deliver_each_event_once_on_postgres() {
    let Some(app) = app(Backend::Postgres, "5").await else { return };
    let w = app.world().await;
    let receiver = Receiver::start(&[]);
    let hook = subscribe(&app, &receiver, w.bureau, &["finding.created"]).await;
    let second = app.start_another_instance();
    let inspection = app.inspection(&w).await;
    for n in 0..30 {
        app.finding(&w, inspection, &format!("问题{n}"), json!({})).await;
    }
    let log = settled(&app, &hook).await;
    assert_eq!(log.len(), 30);
    let got = receiver.wait_for(30).await;
    // Let any duplicate arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_after = receiver.received();
    assert_eq!(got_after.len(), got.len(), "no request arrived twice");
    let mut ids: Vec<&str> = got_after.iter().map(|r| r["webhook_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "each event delivered exactly once");
    second.stop(false).await;
    app.stop().await;
}
