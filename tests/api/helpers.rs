//! `TestApp`: the real server on 127.0.0.1:0 over a fresh database (a temp
//! SQLite file, or a new PostgreSQL database when RECTIFY_TEST_POSTGRES_URL is
//! set), built from the real migrations, dropped afterwards.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use diesel::{Connection, RunQueryDsl};
use rectify::app;
use rectify::config::Config;
use rectify::db::Db;
use rectify::state::AppState;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "correct-horse-battery";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum TestDb {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { admin_url, name } => {
                if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
                }
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    /// Stops the server (and so its pool) when the test is done.
    pub handle: actix_web::dev::ServerHandle,
    pub client: reqwest::Client,
    pub admin: String,
    pub backend: Backend,
    pub db: Db,
    /// The configuration the server runs with.
    pub config: Arc<Config>,
    /// The schema owner's URL (on PostgreSQL the server runs as a role that owns nothing).
    pub owner_url: String,
    _db: TestDb,
}

/// Runs a test body against SQLite, and against PostgreSQL when configured.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await;
                    let handle = app.handle.clone();
                    super::$name(app).await;
                    // Workers and their connections end with the test, not at process exit.
                    handle.stop(false).await;
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::TestApp::spawn_postgres(&[]).await {
                        let handle = app.handle.clone();
                        super::$name(app).await;
                        handle.stop(false).await;
                    }
                }
            }
        )+
    };
}

pub fn postgres_base() -> Option<String> {
    match std::env::var("RECTIFY_TEST_POSTGRES_URL") {
        // Tests talk to a local server: no TLS. Besides, OpenSSL's exit-time cleanup can race
        // with the servers' threads that are still alive when the test binary exits.
        Ok(url) if !url.is_empty() && !url.contains("sslmode=") => {
            Some(format!("{url}{}sslmode=disable", if url.contains('?') { "&" } else { "?" }))
        }
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set RECTIFY_TEST_POSTGRES_URL: PostgreSQL tests never skip there"
            );
            None
        }
    }
}

/// `postgres://host/db?x` with the database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The role PostgreSQL tests run the server as: it owns nothing (created once per cluster).
pub const SERVICE_ROLE: &str = "rectify_service_test";

fn ensure_service_role(conn: &mut diesel::PgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // Once per test process; test processes create it concurrently: whoever loses the race
    // sees a duplicate (or a concurrent update of the catalogue), and finds it on the next look.
    static CREATED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    if *created {
        return;
    }
    for _ in 0..50 {
        let found: Vec<Found> =
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM pg_roles WHERE rolname = '{SERVICE_ROLE}'"))
                .load(conn)
                .expect("pg_roles");
        if found[0].n > 0 {
            *created = true;
            return;
        }
        let _ = diesel::sql_query(format!("CREATE ROLE {SERVICE_ROLE} LOGIN")).execute(conn);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("cannot create the role {SERVICE_ROLE}");
}

/// `url` with another user name.
pub fn as_user(url: &str, user: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("a database URL");
    parsed.set_username(user).expect("a user name");
    parsed.to_string()
}

impl TestApp {
    /// A pool of one connection as the schema's owner, who may do what the service's role may not.
    pub fn owner_db(&self) -> Db {
        Db::connect(&rectify::config::DatabaseUrl::parse(&self.owner_url).unwrap(), 1, Default::default())
            .expect("owner connection")
    }

    pub async fn spawn(backend: Backend) -> TestApp {
        match backend {
            Backend::Sqlite => Self::spawn_with(Backend::Sqlite, &[]).await.expect("sqlite always available"),
            Backend::Postgres => Self::spawn_postgres(&[]).await.expect("RECTIFY_TEST_POSTGRES_URL is not set"),
        }
    }

    pub async fn spawn_postgres(extra: &[(&str, &str)]) -> Option<TestApp> {
        postgres_base()?;
        Self::spawn_with(Backend::Postgres, extra).await
    }

    /// Spawns with extra `RECTIFY_*` variables (e.g. an external identity provider).
    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (owner_url, test_db) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("rectify-test-{id}"));
                std::fs::create_dir_all(&dir).unwrap();
                (format!("sqlite://{}", dir.join("rectify.db").display()), TestDb::Sqlite(dir))
            }
            Backend::Postgres => {
                let admin_url = postgres_base()?;
                let name = format!("rectify_test_{id}");
                let mut conn =
                    diesel::PgConnection::establish(&admin_url).expect("connect to RECTIFY_TEST_POSTGRES_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
                (with_database(&admin_url, &name), TestDb::Postgres { admin_url, name })
            }
        };
        // The schema belongs to the owner, who migrates it; on PostgreSQL the server runs as
        // the least-privileged service role, as the README tells deployments to.
        let owner = Db::connect(&rectify::config::DatabaseUrl::parse(&owner_url).unwrap(), 1, Default::default())
            .expect("test database");
        owner.migrate().expect("migrations");
        let url = match backend {
            Backend::Sqlite => owner_url.clone(),
            Backend::Postgres => {
                let mut conn = owner.get().unwrap();
                let rectify::db::DbConn::Postgres(pg) = &mut **conn else { unreachable!() };
                ensure_service_role(pg);
                rectify::db::roles::grant_service_role(pg, SERVICE_ROLE).expect("grants");
                as_user(&owner_url, SERVICE_ROLE)
            }
        };
        drop(owner);
        let mut vars: HashMap<String, String> = HashMap::from([
            ("RECTIFY_DATABASE_URL".into(), url),
            ("RECTIFY_JWT_SECRET".into(), JWT_SECRET.into()),
            ("RECTIFY_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("RECTIFY_DB_POOL_SIZE".into(), "4".into()),
            ("RECTIFY_WORKERS".into(), "2".into()),
            ("RECTIFY_LOG".into(), "warn".into()),
            ("RECTIFY_LOGIN_PER_MINUTE".into(), "10000".into()),
        ]);
        for (k, v) in extra {
            vars.insert((*k).into(), (*v).into());
        }
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
        let db = Db::connect(&config.database_url, config.db_pool_size, config.db_timeouts).expect("test database");
        assert_eq!(db.migrate_if_needed(), Ok(0), "the owner migrated");
        rectify::bootstrap::ensure_admin(&db, &config).expect("bootstrap");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(config, db.clone()).unwrap();
        let config = state.config.clone();
        let server = app::serve(state, listener).unwrap();
        let handle = server.handle();
        let mut scans = server.deadline_scans();
        tokio::spawn(server);
        // Tests start once the start scan is done, so it never races with what they create.
        tokio::time::timeout(std::time::Duration::from_secs(30), scans.wait_for(|n| *n >= 1))
            .await
            .expect("the start scan finished")
            .expect("the scanner runs");
        rectify::webhooks::client::install_crypto_provider();
        let client = reqwest::Client::new();
        let mut app =
            TestApp { address, handle, client, admin: String::new(), backend, db, config, owner_url, _db: test_db };
        app.admin = app.login("admin", ADMIN_PASSWORD).await;
        Some(app)
    }

    /// Starts another instance of the service on this app's database, with its own pool, as a
    /// second replica would run (its start-up work, such as the deadline scan, runs at once).
    /// Stop it with the handle before the test ends.
    pub fn start_another_instance(&self) -> actix_web::dev::ServerHandle {
        self.start_instance_at().0
    }

    /// [`Self::start_another_instance`], with the new instance's base address.
    pub fn start_instance_at(&self) -> (actix_web::dev::ServerHandle, String) {
        let db = Db::connect(&self.config.database_url, self.config.db_pool_size, self.config.db_timeouts)
            .expect("second pool");
        let state = AppState::new((*self.config).clone(), db).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let server = app::serve(state, listener).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        (handle, address)
    }

    /// Stops the server: its workers and pool end with the test, not at process exit.
    pub async fn stop(self) {
        let handle = self.handle.clone();
        drop(self);
        handle.stop(false).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self.post("/api/v1/auth/token", None, &json!({"username": username, "password": password})).await;
        assert_eq!(res.status(), StatusCode::OK, "login {username}");
        res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    fn auth(&self, rb: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.auth(self.client.get(self.url(path)), token).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.auth(self.client.post(self.url(path)), token).json(body).send().await.unwrap()
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, if_match: Option<&str>, body: &Value) -> Response {
        let mut rb = self.auth(self.client.patch(self.url(path)), token).json(body);
        if let Some(etag) = if_match {
            rb = rb.header("If-Match", etag);
        }
        rb.send().await.unwrap()
    }

    /// GET that must succeed; the JSON body.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, Some(token)).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// POST that must create; the JSON body.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let res = self.post(path, Some(token), &body).await;
        let status = res.status();
        let out: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::CREATED, "POST {path} {body}: {out}");
        out
    }

    /// PATCH with the current ETag; must succeed.
    pub async fn update(&self, path: &str, token: &str, body: Value) -> Value {
        let current = self.get(path, Some(token)).await;
        let etag = current.headers()["etag"].to_str().unwrap().to_owned();
        let res = self.patch(path, Some(token), Some(&etag), &body).await;
        let status = res.status();
        let out: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "PATCH {path} {body}: {out}");
        out
    }

    /// Waits (boundedly) until the sealer has sealed every audit event; the verification then.
    pub async fn chain_sealed(&self) -> Value {
        for _ in 0..300 {
            let report = self.get_ok("/api/v1/events/verify", &self.admin).await;
            if report["pending"] == 0 || report["valid"] == false {
                return report;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the sealer did not seal the audit trail within 30 s");
    }

    /// The id of the newest audit event (0 when none).
    /// Waits (boundedly) until every committed audit event is in the feed. On PostgreSQL the feed
    /// holds back events while an older transaction anywhere in the cluster is still running
    /// (other tests' databases share the cluster), so a test that reads right after writing waits
    /// for that horizon to pass its own events.
    pub async fn feed_settled(&self) {
        if self.backend != Backend::Postgres {
            return;
        }
        let db = self.db.clone();
        for _ in 0..500 {
            let db = db.clone();
            let held: i64 = tokio::task::spawn_blocking(move || {
                #[derive(diesel::QueryableByName)]
                struct Held {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let mut conn = db.get().unwrap();
                diesel::sql_query(
                    "SELECT COUNT(*) AS n FROM audit_events \
                     WHERE txid >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                )
                .get_result::<Held>(&mut **conn)
                .unwrap()
                .n
            })
            .await
            .unwrap();
            if held == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the audit feed did not catch up within 10 s");
    }

    pub async fn last_event_id(&self) -> i64 {
        self.feed_settled().await;
        let mut after = 0;
        loop {
            let page = self.get_ok(&format!("/api/v1/events?after={after}&limit=200"), &self.admin).await;
            let items = page["items"].as_array().unwrap();
            match items.last() {
                Some(e) => after = e["id"].as_i64().unwrap(),
                None => return after,
            }
        }
    }

    /// Audit events after `after`, as (action, entity_id).
    pub async fn events_since(&self, after: i64) -> Vec<(String, i64)> {
        self.feed_settled().await;
        let page = self.get_ok(&format!("/api/v1/events?after={after}&limit=200"), &self.admin).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["action"].as_str().unwrap().to_owned(), e["entity_id"].as_i64().unwrap()))
            .collect()
    }

    pub async fn create_unit(&self, name: &str, parent: i64) -> i64 {
        self.create("/api/v1/org-units", &self.admin, json!({"name": name, "parent_id": parent})).await["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a user with `roles` in `unit` and returns (id, token).
    pub async fn user(&self, username: &str, unit: i64, roles: &[&str]) -> (i64, String) {
        let created = self
            .create(
                "/api/v1/users",
                &self.admin,
                json!({"username": username, "display_name": username, "org_unit_id": unit, "roles": roles, "password": PASSWORD}),
            )
            .await;
        (created["id"].as_i64().unwrap(), self.login(username, PASSWORD).await)
    }

    /// The standard world: a district with an inspection group and two inspected bureaus.
    pub async fn world(&self) -> World {
        let root = 1;
        let group = self.create_unit("区委巡察办", root).await;
        let bureau = self.create_unit("行政审批服务局", root).await;
        let office = self.create_unit("审批一科", bureau).await;
        let other = self.create_unit("区发改局", root).await;
        let (_, inspector) = self.user("inspector", group, &["inspector"]).await;
        let (leader_id, leader) = self.user("leader", bureau, &["leader"]).await;
        let (officer_id, officer) = self.user("officer", bureau, &["officer"]).await;
        let (sub_officer_id, sub_officer) = self.user("sub.officer", office, &["officer"]).await;
        let (_, viewer) = self.user("viewer", bureau, &["viewer"]).await;
        let (_, outsider) = self.user("outsider", other, &["leader", "inspector", "officer"]).await;
        World {
            group,
            bureau,
            office,
            other,
            inspector,
            leader,
            leader_id,
            officer,
            officer_id,
            sub_officer,
            sub_officer_id,
            viewer,
            outsider,
        }
    }

    /// An inspection by `world.group` of `world.bureau`.
    pub async fn inspection(&self, w: &World) -> i64 {
        self.create(
            "/api/v1/inspections",
            &w.inspector,
            json!({
                "title": "区委第三巡察组巡察区行政审批服务局党组",
                "inspecting_body": "区委第三巡察组",
                "inspecting_unit_id": w.group,
                "inspected_unit_id": w.bureau,
                "topic": "营商环境建设",
                "started_on": "2024-05-24",
                "ended_on": "2024-07-24",
                "feedback_on": "2024-09-10"
            }),
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn finding(&self, w: &World, inspection: i64, title: &str, extra: Value) -> Value {
        let mut body = json!({"inspection_id": inspection, "title": title});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        self.create("/api/v1/findings", &w.inspector, body).await
    }
}

/// Ids and tokens of the standard world.
pub struct World {
    pub group: i64,
    pub bureau: i64,
    pub office: i64,
    pub other: i64,
    pub inspector: String,
    pub leader: String,
    pub leader_id: i64,
    /// An officer of the inspected bureau itself.
    pub officer: String,
    pub officer_id: i64,
    /// An officer of the office below the bureau (which does not see the bureau's inspections).
    pub sub_officer: String,
    pub sub_officer_id: i64,
    pub viewer: String,
    pub outsider: String,
}

/// Reads a problem+json body, checking its media type and status.
pub async fn problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(ct, "application/problem+json", "content type");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"].as_u64(), Some(status as u64), "{body}");
    assert!(body["type"].as_str().is_some() && body["title"].as_str().is_some(), "{body}");
    body
}

/// The field names of a 422's `errors`.
pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Today in Asia/Shanghai, as the service sees it.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

/// Runs the `rectify` command line on the app's database (as its owner) and waits for it.
pub fn rectify_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rectify"))
        .args(args)
        .env_clear()
        .env("RECTIFY_DATABASE_URL", &app.owner_url)
        .env("RECTIFY_JWT_SECRET", JWT_SECRET)
        .env("RECTIFY_LOG", "error")
        .output()
        .expect("run rectify")
}
