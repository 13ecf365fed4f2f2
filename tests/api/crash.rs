//! Crash safety (issue 10): the service, run as its own process, is killed with SIGKILL in the
//! middle of concurrent writes (claims, progress reports, closure requests and decisions) and
//! started again on the same database. Every write it acknowledged with a 2xx is there,
//! nothing is half-applied (each row has its audit event and each event its row; no pending
//! closure without its finding in `pending_closure` and no such finding without one), and the
//! audit trail's hash chain verifies.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::db_tests;
use crate::helpers::{as_user, Backend, TestApp, World, ADMIN_PASSWORD, JWT_SECRET, SERVICE_ROLE};

/// Findings worked on concurrently, one client each.
const CLIENTS: usize = 6;
const FINDINGS_PER_CLIENT: usize = 6;
/// The kill comes once this many writes were acknowledged: mid-load, with more in flight.
const KILL_AFTER: usize = 60;

/// One acknowledged write.
#[derive(Debug, Clone)]
enum Acked {
    Claim(i64),
    Progress(i64),
    Closure(i64),
    Decision(i64, i32),
}

async fn acknowledged_writes_survive_a_kill(mut app: TestApp) {
    let w = app.world().await;
    let inspection = app.inspection(&w).await;
    let mut work = Vec::new();
    for i in 0..CLIENTS * FINDINGS_PER_CLIENT {
        let f = app.finding(&w, inspection, &format!("问题{i}"), json!({})).await;
        let a = app
            .create(
                &format!("/api/v1/findings/{}/assignments", f["id"]),
                &w.leader,
                json!({"title": "整改", "responsible_unit_id": w.bureau, "due_on": "2030-06-30"}),
            )
            .await;
        work.push((f["id"].as_i64().unwrap(), a["id"].as_i64().unwrap()));
    }
    // The in-process server steps aside; the service runs as a process of its own.
    app.handle.stop(true).await;
    let mut child = start(&app);
    app.address = wait_ready(&app, &mut child).await;

    let acked = Arc::new(Mutex::new(Vec::<Acked>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let app = Arc::new(app);
    let w = Arc::new(w);
    let mut clients = Vec::new();
    for chunk in work.chunks(FINDINGS_PER_CLIENT).map(<[_]>::to_vec) {
        let (app, w, acked, count) = (app.clone(), w.clone(), acked.clone(), count.clone());
        clients.push(tokio::spawn(async move {
            for (finding, assignment) in chunk {
                if work_through(&app, &w, finding, assignment, &acked, &count).await.is_err() {
                    return;
                }
            }
        }));
    }
    for _ in 0..12_000 {
        if count.load(Ordering::SeqCst) >= KILL_AFTER {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(count.load(Ordering::SeqCst) >= KILL_AFTER, "the load did not get going");
    child.0.kill().expect("SIGKILL");
    child.0.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let mut app = Arc::into_inner(app).expect("clients done");
    let mut child = start(&app);
    app.address = wait_ready(&app, &mut child).await;
    let owner = app.owner_db();
    let mut conn = owner.get().unwrap();
    let mut found = 0;
    for write in &acked {
        let sql = match write {
            Acked::Claim(a) => format!("SELECT COUNT(*) AS n FROM assignments WHERE id = {a} AND claimed_at IS NOT NULL"),
            Acked::Progress(p) => format!("SELECT COUNT(*) AS n FROM progress_reports WHERE id = {p}"),
            Acked::Closure(r) => format!("SELECT COUNT(*) AS n FROM approval_requests WHERE id = {r}"),
            Acked::Decision(r, s) => format!(
                "SELECT COUNT(*) AS n FROM approval_steps WHERE request_id = {r} AND step = {s} AND decision IS NOT NULL"
            ),
        };
        let n = count_of(&mut conn, &sql);
        assert_eq!(n, 1, "an acknowledged write is missing after the restart: {write:?}");
        found += n as usize;
    }
    // Nothing half-applied: rows and their events, both ways; the closure invariants.
    for (what, sql) in [
        (
            "a progress report without its event",
            "SELECT COUNT(*) AS n FROM progress_reports p WHERE NOT EXISTS \
          (SELECT 1 FROM audit_events e WHERE e.action = 'progress.reported' AND e.entity_id = p.id)",
        ),
        (
            "a progress event without its report",
            "SELECT COUNT(*) AS n FROM audit_events e WHERE e.action = 'progress.reported' \
          AND NOT EXISTS (SELECT 1 FROM progress_reports p WHERE p.id = e.entity_id)",
        ),
        (
            "a claim without its event",
            "SELECT COUNT(*) AS n FROM assignments a WHERE a.claimed_at IS NOT NULL AND NOT EXISTS \
          (SELECT 1 FROM audit_events e WHERE e.action = 'assignment.claimed' AND e.entity_id = a.id)",
        ),
        (
            "a claim event without its claim",
            "SELECT COUNT(*) AS n FROM audit_events e WHERE e.action = 'assignment.claimed' \
          AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.id = e.entity_id AND a.claimed_at IS NOT NULL)",
        ),
        (
            "a closure request without its event",
            "SELECT COUNT(*) AS n FROM approval_requests r WHERE r.kind = 'closure' \
          AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.action = 'closure.requested' AND e.entity_id = r.id)",
        ),
        (
            "a closure event without its request",
            "SELECT COUNT(*) AS n FROM audit_events e WHERE e.action = 'closure.requested' \
          AND NOT EXISTS (SELECT 1 FROM approval_requests r WHERE r.id = e.entity_id)",
        ),
        (
            "decisions and their events differ",
            "SELECT COUNT(*) AS n FROM approval_requests r WHERE \
          (SELECT COUNT(*) FROM approval_steps s WHERE s.request_id = r.id AND s.decision IS NOT NULL) <> \
          (SELECT COUNT(*) FROM audit_events e WHERE e.entity_id = r.id \
           AND e.action IN ('closure.step_approved', 'closure.approved', 'closure.rejected'))",
        ),
        (
            "a pending closure whose finding is not pending_closure",
            "SELECT COUNT(*) AS n FROM approval_requests r \
          JOIN findings f ON f.id = r.finding_id WHERE r.kind = 'closure' AND r.status = 'pending' \
          AND f.status <> 'pending_closure'",
        ),
        (
            "a finding in pending_closure without a pending request",
            "SELECT COUNT(*) AS n FROM findings f \
          WHERE f.status = 'pending_closure' AND NOT EXISTS (SELECT 1 FROM approval_requests r \
          WHERE r.finding_id = f.id AND r.kind = 'closure' AND r.status = 'pending')",
        ),
        (
            "a closed finding without its event",
            "SELECT COUNT(*) AS n FROM findings f WHERE f.status = 'closed' \
          AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.action = 'finding.closed' AND e.entity_id = f.id)",
        ),
    ] {
        assert_eq!(count_of(&mut conn, sql), 0, "{what}");
    }
    let report = app.chain_sealed().await;
    assert_eq!(report["valid"], true, "{report}");
    let events = count_of(&mut conn, "SELECT COUNT(*) AS n FROM audit_events");
    assert_eq!(report["sealed"], events, "every event sealed: {report}");
    eprintln!(
        "crash test ({:?}): {} writes acknowledged before SIGKILL, {found} found after restart; chain of {} events valid",
        app.backend,
        acked.len(),
        report["sealed"]
    );
    drop(child);
}

/// One finding through claim, three progress reports, completion, a closure request and its
/// two decisions; stops at the first failure (the kill).
async fn work_through(
    app: &TestApp,
    w: &World,
    finding: i64,
    assignment: i64,
    acked: &Mutex<Vec<Acked>>,
    count: &AtomicUsize,
) -> Result<(), ()> {
    let ack = |a: Acked| {
        acked.lock().unwrap().push(a);
        count.fetch_add(1, Ordering::SeqCst);
    };
    send(app, &w.officer, &format!("/api/v1/assignments/{assignment}/claim"), json!({})).await?;
    ack(Acked::Claim(assignment));
    for percent in [30, 60, 90] {
        let r = send(
            app,
            &w.officer,
            &format!("/api/v1/assignments/{assignment}/progress"),
            json!({"content": "推进中", "percent": percent}),
        )
        .await?;
        ack(Acked::Progress(r["id"].as_i64().unwrap()));
    }
    send(app, &w.officer, &format!("/api/v1/assignments/{assignment}/complete"), json!({"outcome": "已完成"})).await?;
    let request = send(
        app,
        &w.officer,
        &format!("/api/v1/findings/{finding}/closure-requests"),
        json!({"outcome": "已整改", "evidence": [{"title": "制度文件", "reference": "杨审批发〔2024〕12号"}]}),
    )
    .await?;
    let rid = request["id"].as_i64().unwrap();
    ack(Acked::Closure(rid));
    let decisions = format!("/api/v1/closure-requests/{rid}/decisions");
    send(app, &w.leader, &decisions, json!({"decision": "approve"})).await?;
    ack(Acked::Decision(rid, 1));
    send(app, &w.inspector, &decisions, json!({"decision": "approve"})).await?;
    ack(Acked::Decision(rid, 2));
    Ok(())
}

/// POST; the body of a 2xx, `Err` for anything else (a refused connection once killed).
async fn send(app: &TestApp, token: &str, path: &str, body: Value) -> Result<Value, ()> {
    let res = app.client.post(app.url(path)).bearer_auth(token).json(&body).send().await.map_err(|_| ())?;
    if !res.status().is_success() {
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        panic!("POST {path}: {status} {text}");
    }
    res.json().await.map_err(|_| ())
}

/// The service running as its own process and its base address; killed when dropped (a
/// failing test leaves nothing running).
pub(crate) struct Process(pub Child, pub String);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The service as its own process, on the test's database and settings, as the server's role.
pub(crate) fn start(app: &TestApp) -> Process {
    start_with(app, &[])
}

/// [`start`], with more environment variables.
pub(crate) fn start_with(app: &TestApp, env: &[(&str, &str)]) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = match app.backend {
        Backend::Sqlite => app.owner_url.clone(),
        Backend::Postgres => as_user(&app.owner_url, SERVICE_ROLE),
    };
    let child = Command::new(env!("CARGO_BIN_EXE_rectify"))
        .arg("serve")
        .env_clear()
        .env("RECTIFY_DATABASE_URL", url)
        .env("RECTIFY_JWT_SECRET", JWT_SECRET)
        .env("RECTIFY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RECTIFY_BIND", format!("127.0.0.1:{port}"))
        .env("RECTIFY_DB_POOL_SIZE", "8")
        .env("RECTIFY_WORKERS", "2")
        .env("RECTIFY_LOG", "error")
        .env("RECTIFY_LOGIN_PER_MINUTE", "100000")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("start rectify");
    Process(child, format!("http://127.0.0.1:{port}"))
}

/// Waits until the process answers `/readyz`; its base address.
pub(crate) async fn wait_ready(app: &TestApp, Process(child, addr): &mut Process) -> String {
    let addr = addr.clone();
    for _ in 0..300 {
        if let Ok(res) = app.client.get(format!("{addr}/readyz")).send().await {
            if res.status() == 200 {
                return addr;
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "the service exited at start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service did not become ready");
}

fn count_of(conn: &mut rectify::db::DbConn, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = diesel::sql_query(sql).load(conn).unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows[0].n
}

db_tests!(acknowledged_writes_survive_a_kill);

/// Issue 13: SQLite syncs its log at every commit (`FULL` = 2), so an acknowledged write
/// survives an OS crash or power cut, not only a process crash (`NORMAL` = 1).
#[tokio::test]
async fn sqlite_commits_are_durable() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut conn = app.db.get().unwrap();
    #[derive(diesel::QueryableByName)]
    struct Sync {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        synchronous: i32,
    }
    let rows: Vec<Sync> = diesel::sql_query("PRAGMA synchronous").load(&mut **conn).unwrap();
    assert_eq!(rows[0].synchronous, 2);
    drop(conn);
    app.stop().await;
}

/// PostgreSQL drops the service's connections (a restart, a failover, an administrator's
/// `pg_terminate_backend`) while they sit in the pool, used a moment ago and so not pinged
/// before use. A request that meets a dead connection answers 503 problem+json; the pool
/// discards that connection, and the service answers normally again right after.
#[tokio::test]
async fn dropped_database_connections_are_replaced_on_postgres() {
    let Some(app) = crate::helpers::TestApp::spawn_postgres(&[]).await else { return };
    for _ in 0..20 {
        assert_eq!(app.get("/api/v1/org-units", Some(&app.admin)).await.status(), 200);
    }
    {
        let db = app.owner_db();
        let mut conn = db.get().unwrap();
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND usename = '{}'",
            crate::helpers::SERVICE_ROLE
        ))
        .execute(&mut **conn)
        .unwrap();
    }
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let res = app.get("/api/v1/org-units", Some(&app.admin)).await;
        let status = res.status().as_u16();
        if status == 503 {
            crate::helpers::problem(res, 503).await;
        }
        statuses.push(status);
    }
    assert!(statuses.iter().all(|s| [200, 503].contains(s)), "{statuses:?}");
    assert!(statuses.ends_with(&[200; 10]), "the pool kept dead connections: {statuses:?}");
    app.stop().await;
}
