//! Stopping (issue 13): the service, run as its own process, is sent SIGTERM while requests
//! are on their way, and while a client stalls in the middle of its body. Every request the
//! service started reading gets a whole answer (its result, or 503 with `Retry-After` and
//! `Connection: close`), what it acknowledged is committed and what it refused is not,
//! `/readyz` answers 503 from the moment shutdown begins, and the process exits within
//! seconds, not after the 30-second shutdown timeout. Requests are written on raw
//! connections, so the test sees exactly what came back on each (a client library would
//! retry, or hide a connection closed without an answer).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::crash::{start_with, wait_ready, Process};
use crate::db_tests;
use crate::helpers::TestApp;

/// One HTTP/1.1 response as read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn closes(&self) -> bool {
        self.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A keep-alive connection written and read by hand.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
    host: String,
}

impl Wire {
    async fn open(base: &str) -> Self {
        let host = base.trim_start_matches("http://").to_owned();
        let stream = TcpStream::connect(&host).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Self { stream, buf: Vec::new(), host }
    }

    async fn send(&mut self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if let Some(t) = token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        head.push_str(&body);
        self.stream.write_all(head.as_bytes()).await.expect("write the request");
    }

    /// The next whole response; `Err` when the connection ends before one arrived.
    async fn answer(&mut self) -> Result<Answer, String> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or(head.clone())?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize =
            headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        while self.buf.len() < end + length {
            self.fill().await?;
        }
        let body = self.buf[end..end + length].to_vec();
        self.buf.drain(..end + length);
        Ok(Answer { status, headers, body })
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        match tokio::time::timeout(Duration::from_secs(40), self.stream.read(&mut chunk)).await {
            Err(_) => Err("no answer within 40 s".into()),
            Ok(Err(e)) => Err(format!("connection failed: {e}")),
            Ok(Ok(0)) => Err(format!("connection closed without an answer ({} bytes read)", self.buf.len())),
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }
}

fn sigterm(child: &std::process::Child) {
    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -TERM");
}

/// Waits for the process to exit; how long that took from `since`, and whether it exited 0.
async fn exit_of(Process(child, _): &mut Process, since: Instant) -> (Duration, bool) {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            return (since.elapsed(), status.success());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not exit within 30 s of SIGTERM");
}

/// Titles of the findings of `inspection` in the database.
fn titles(app: &TestApp, inspection: i64) -> Vec<String> {
    use diesel::prelude::*;
    use rectify::db::schema::findings::dsl as f;
    let db = app.owner_db();
    let mut conn = db.get().unwrap();
    f::findings.filter(f::inspection_id.eq(inspection)).select(f::title).load(&mut **conn).unwrap()
}

/// Writes sent on open keep-alive connections 0–30 ms before SIGTERM, three times: each is
/// answered (201, or 503 with `Retry-After` and `Connection: close`); every 201 is in the
/// database and nothing else is. A connection that sent nothing asks `/readyz` after the
/// signal and gets 503. The process then exits, 0, within seconds.
async fn requests_on_their_way_at_sigterm_are_answered(mut app: TestApp) {
    const CONNECTIONS: usize = 12;
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    app.handle.stop(true).await;
    let mut answered = Vec::new();
    let mut refused = Vec::new();
    for round in 0..3 {
        let mut process = start_with(&app, &[]);
        app.address = wait_ready(&app, &mut process).await;
        let mut wires = Vec::new();
        for _ in 0..=CONNECTIONS {
            let mut wire = Wire::open(&app.address).await;
            wire.send("GET", "/readyz", None, None).await;
            assert_eq!(wire.answer().await.unwrap().status, 200);
            wires.push(wire);
        }
        let mut probe = wires.pop().unwrap();
        let mut tasks = Vec::new();
        for (i, mut wire) in wires.into_iter().enumerate() {
            let (token, title) = (w.inspector.clone(), format!("停机{round}-{i}"));
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_micros(2_500 * i as u64)).await;
                let body = json!({"inspection_id": inspection, "title": title});
                wire.send("POST", "/api/v1/findings", Some(&token), Some(&body)).await;
                (title, wire.answer().await)
            }));
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
        let signalled = Instant::now();
        sigterm(&process.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
        probe.send("GET", "/readyz", None, None).await;
        let ready = probe.answer().await.expect("/readyz after SIGTERM on an open connection");
        assert_eq!(ready.status, 503, "readiness once shutdown began: {ready:?}");
        assert_eq!(ready.json()["type"], "/problems/unavailable");
        assert!(ready.closes(), "{ready:?}");
        for task in tasks {
            let (title, answer) = task.await.unwrap();
            let answer = answer.unwrap_or_else(|e| panic!("round {round}, `{title}`: {e}"));
            match answer.status {
                201 => answered.push(title),
                503 => {
                    assert!(answer.header("retry-after").is_some(), "{answer:?}");
                    assert!(answer.closes(), "{answer:?}");
                    assert_eq!(answer.json()["type"], "/problems/unavailable");
                    refused.push(title);
                }
                s => panic!("round {round}, `{title}`: {s} {}", String::from_utf8_lossy(&answer.body)),
            }
        }
        drop(probe);
        let (took, clean) = exit_of(&mut process, signalled).await;
        assert!(clean, "the service exited with an error after SIGTERM");
        assert!(took < Duration::from_secs(12), "exit took {took:?} after SIGTERM");
    }
    let mut stored: Vec<String> = titles(&app, inspection).into_iter().filter(|t| t.starts_with("停机")).collect();
    stored.sort();
    answered.sort();
    assert_eq!(stored, answered, "committed = acknowledged (refused: {refused:?})");
    eprintln!("SIGTERM ({:?}): {} answered 201, {} answered 503", app.backend, answered.len(), refused.len());
}

/// A client sends 10 of the 1,000 bytes it announced and stalls: it gets 408 problem+json
/// with `Connection: close` once the read timeout passes, and nothing is written. Stalled
/// again, then SIGTERM: the process exits within seconds, not after the shutdown timeout.
async fn a_stalled_body_is_cut_off(mut app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    app.handle.stop(true).await;
    let mut process = start_with(&app, &[("RECTIFY_REQUEST_READ_TIMEOUT_SECONDS", "2")]);
    app.address = wait_ready(&app, &mut process).await;
    let stall = |wire: &mut Wire| {
        let head = format!(
            "POST /api/v1/findings HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"title\":",
            wire.host, w.inspector
        );
        head.into_bytes()
    };

    let mut wire = Wire::open(&app.address).await;
    let started = Instant::now();
    let bytes = stall(&mut wire);
    wire.stream.write_all(&bytes).await.unwrap();
    let answer = wire.answer().await.expect("an answer to the stalled request");
    let waited = started.elapsed();
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.header("content-type"), Some("application/problem+json"));
    assert_eq!(answer.json()["type"], "/problems/request-timeout");
    assert!(answer.closes(), "{answer:?}");
    assert!(waited >= Duration::from_millis(1_900), "cut off after {waited:?}, before the timeout");
    assert!(wire.answer().await.is_err(), "the connection is closed after the 408");

    // The service goes on serving; then a stall meets SIGTERM.
    let mut other = Wire::open(&app.address).await;
    other.send("GET", "/healthz", None, None).await;
    assert_eq!(other.answer().await.unwrap().status, 200);
    drop(other);
    let mut wire = Wire::open(&app.address).await;
    let bytes = stall(&mut wire);
    wire.stream.write_all(&bytes).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    sigterm(&process.0);
    let answer = wire.answer().await.expect("an answer to the stalled request at shutdown");
    assert_eq!(answer.status, 408, "{answer:?}");
    let (took, clean) = exit_of(&mut process, signalled).await;
    assert!(clean, "the service exited with an error after SIGTERM");
    assert!(took < Duration::from_secs(8), "exit took {took:?} after SIGTERM with a stalled client");
    assert!(titles(&app, inspection).is_empty(), "a cut-off request wrote something");
}

/// With a drain period (behind a load balancer), the service keeps serving new connections
/// for that long after SIGTERM, each answer closing its connection, while `/readyz` says 503;
/// then it stops accepting and exits.
async fn a_drain_period_serves_while_readiness_fails(mut app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    app.handle.stop(true).await;
    let mut process = start_with(&app, &[("RECTIFY_SHUTDOWN_DRAIN_SECONDS", "2")]);
    app.address = wait_ready(&app, &mut process).await;
    let signalled = Instant::now();
    sigterm(&process.0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut wire = Wire::open(&app.address).await;
    wire.send("GET", "/readyz", None, None).await;
    let ready = wire.answer().await.unwrap();
    assert_eq!(ready.status, 503, "{ready:?}");
    assert!(ready.header("retry-after").is_some());
    let mut wire = Wire::open(&app.address).await;
    let body = json!({"inspection_id": inspection, "title": "排空期间"});
    wire.send("POST", "/api/v1/findings", Some(&w.inspector), Some(&body)).await;
    let created = wire.answer().await.unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    assert!(created.closes(), "answers during the drain close their connection: {created:?}");
    let (took, clean) = exit_of(&mut process, signalled).await;
    assert!(clean);
    assert!(took >= Duration::from_millis(1_900), "stopped before the drain period ended: {took:?}");
    assert!(took < Duration::from_secs(10), "exit took {took:?}");
    assert!(TcpStream::connect(app.address.trim_start_matches("http://")).await.is_err(), "still accepting");
    assert_eq!(titles(&app, inspection), vec!["排空期间".to_owned()]);
}

db_tests!(
    requests_on_their_way_at_sigterm_are_answered,
    a_stalled_body_is_cut_off,
    a_drain_period_serves_while_readiness_fails
);
