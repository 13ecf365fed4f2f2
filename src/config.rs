//! Typed configuration from `RECTIFY_*` environment variables.
//!
//! A bad value stops the start with a message naming the variable; secrets are
//! wrapped in [`Secret`] so that `Debug` never prints them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rand::RngCore;

use crate::auth::token::{self, ExternalIdp, JwtConfig, SigningKeys};
use crate::secret::Secret;

/// Where the data lives; the scheme of `RECTIFY_DATABASE_URL` decides the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path/to/file.db` (relative to the working directory) or `sqlite:///abs/path`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to libpq as it is.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("a sqlite:// URL needs a file path, e.g. sqlite://data/rectify.db".into());
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(Self::Postgres(raw.to_owned()))
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// How long a statement may wait for a lock, and run at all, before the database gives up
/// (and the request answers 503 with `Retry-After`). No request waits forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub lock: Duration,
    pub statement: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { lock: Duration::from_millis(5000), statement: Duration::from_secs(60) }
    }
}

/// How webhooks are delivered (contract §9.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WebhookSettings {
    /// Allow targets on loopback, link-local and private addresses (refused by default: SSRF).
    pub allow_private: bool,
    /// The first retry's delay; later ones grow from it (5 s gives the production schedule:
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then failed; a day of failures disables).
    pub retry_base: Duration,
    /// How often each instance looks for due deliveries.
    pub poll: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { allow_private: false, retry_base: Duration::from_secs(5), poll: Duration::from_millis(500) }
    }
}

/// Days before `due_on` at which open work turns yellow or green.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarningThresholds {
    pub yellow_days: i64,
    pub green_days: i64,
}

impl Default for WarningThresholds {
    fn default() -> Self {
        Self { yellow_days: 10, green_days: 20 }
    }
}

/// The whole service configuration, passed explicitly.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub db_pool_size: u32,
    pub bind: SocketAddr,
    pub jwt: JwtConfig,
    pub admin_password: Option<Secret>,
    pub timezone: Tz,
    pub log: String,
    pub log_format: LogFormat,
    pub warnings: WarningThresholds,
    /// How often the deadline scan runs (it also runs at start).
    pub deadline_scan_every: Duration,
    /// Largest accepted request body, in bytes (imports have their own, larger limit).
    pub body_limit: usize,
    pub import_body_limit: usize,
    /// Most findings one import may hold (contract §9.4): a larger ledger is refused (422) before
    /// anything is written, dry runs included.
    pub import_max_findings: usize,
    /// HTTP worker threads (default: one per core).
    pub workers: usize,
    /// Public feedback accepted per client address and minute.
    pub feedback_per_minute: u32,
    /// Token requests (sign-in attempts) accepted per client address and minute.
    pub login_per_minute: u32,
    /// Take the client address from `Forwarded`/`X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded: bool,
    /// How long writes wait for locks and statements may run (503 with `Retry-After` after that).
    pub db_timeouts: Timeouts,
    /// Webhook delivery settings.
    pub webhooks: WebhookSettings,
    /// Serve `/metrics` on this address instead of the main one.
    pub metrics_bind: Option<SocketAddr>,
    /// Browser origins allowed to call the API cross-origin (CORS), like `https://a.example`.
    pub cors_origins: Vec<String>,
    /// How the service treats slow clients and stops.
    pub lifecycle: LifecycleSettings,
}

/// Slow clients and stopping (`http::lifecycle`).
#[derive(Debug, Clone, Copy)]
pub struct LifecycleSettings {
    /// Longest a client may go without sending a byte of its request (head or body): 408 after
    /// that. Once shutdown began, a body must also end within this long of its start.
    pub read_timeout: Duration,
    /// After SIGTERM, how long new connections are still accepted and served (each answer
    /// closing its connection) while `/readyz` answers 503, so a load balancer can notice.
    pub drain: Duration,
    /// After the drain, how long requests in flight may take before the process exits anyway.
    pub grace: Duration,
}

/// A configuration error: which variable, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { variable, message: message.into() }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let get: Get = &get;

        let database_url = get("RECTIFY_DATABASE_URL").unwrap_or_else(|| "sqlite://data/rectify.db".into());
        let database_url = DatabaseUrl::parse(&database_url).map_err(|m| err("RECTIFY_DATABASE_URL", m))?;

        let bind = get("RECTIFY_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr =
            bind.parse().map_err(|_| err("RECTIFY_BIND", format!("`{bind}` is not an address like 127.0.0.1:8080")))?;

        let db_pool_size = parse_number(get("RECTIFY_DB_POOL_SIZE"), "RECTIFY_DB_POOL_SIZE", 10, 1, 1000)? as u32;
        let db_timeouts = Timeouts {
            lock: Duration::from_millis(parse_number(
                get("RECTIFY_LOCK_TIMEOUT_MS"),
                "RECTIFY_LOCK_TIMEOUT_MS",
                5000,
                1,
                600_000,
            )?),
            statement: Duration::from_millis(parse_number(
                get("RECTIFY_STATEMENT_TIMEOUT_MS"),
                "RECTIFY_STATEMENT_TIMEOUT_MS",
                60_000,
                100,
                3_600_000,
            )?),
        };

        let timezone = get("RECTIFY_TIMEZONE").unwrap_or_else(|| "Asia/Shanghai".into());
        let timezone: Tz = timezone.parse().map_err(|_| {
            err("RECTIFY_TIMEZONE", format!("`{timezone}` is not an IANA time zone like Asia/Shanghai"))
        })?;

        let (log, log_format) = logging(get)?;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as u64;
        let workers = parse_number(get("RECTIFY_WORKERS"), "RECTIFY_WORKERS", cores, 1, 256)? as usize;

        let feedback_per_minute =
            parse_number(get("RECTIFY_FEEDBACK_PER_MINUTE"), "RECTIFY_FEEDBACK_PER_MINUTE", 5, 1, 100_000)? as u32;
        let login_per_minute =
            parse_number(get("RECTIFY_LOGIN_PER_MINUTE"), "RECTIFY_LOGIN_PER_MINUTE", 30, 1, 100_000)? as u32;
        let trust_forwarded = parse_bool(get("RECTIFY_TRUST_FORWARDED"), "RECTIFY_TRUST_FORWARDED", false)?;
        // Findings are numbered 1 to MAX_ORDINAL within an inspection: no ledger can hold more.
        let import_max_findings = parse_number(
            get("RECTIFY_IMPORT_MAX_FINDINGS"),
            "RECTIFY_IMPORT_MAX_FINDINGS",
            5000,
            1,
            crate::validate::MAX_ORDINAL as u64,
        )? as usize;

        let admin_password = get("RECTIFY_ADMIN_PASSWORD").map(Secret::new);
        if admin_password.as_ref().is_some_and(|p| p.expose().chars().count() < 12) {
            return Err(err("RECTIFY_ADMIN_PASSWORD", "must be at least 12 characters"));
        }

        Ok(Self {
            jwt: jwt(get, &database_url)?,
            database_url,
            db_pool_size,
            bind,
            admin_password,
            timezone,
            log,
            log_format,
            warnings: warnings(get)?,
            deadline_scan_every: deadline_scan(get)?,
            body_limit: 1024 * 1024,
            import_body_limit: 10 * 1024 * 1024,
            import_max_findings,
            workers,
            feedback_per_minute,
            login_per_minute,
            trust_forwarded,
            db_timeouts,
            webhooks: webhook_settings(get)?,
            metrics_bind: match get("RECTIFY_METRICS_BIND") {
                None => None,
                Some(raw) => Some(raw.parse().map_err(|_| {
                    err("RECTIFY_METRICS_BIND", format!("`{raw}` is not an address like 127.0.0.1:9090"))
                })?),
            },
            cors_origins: cors_origins(get)?,
            lifecycle: lifecycle(get)?,
        })
    }

    /// The date at `now` in the configured time zone: deadlines are dates there.
    pub fn local_date(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.timezone).date_naive()
    }
}

/// Slow clients and stopping: `RECTIFY_REQUEST_READ_TIMEOUT_SECONDS` (default 5, as long as
/// actix waits for a request's head), `RECTIFY_SHUTDOWN_DRAIN_SECONDS` (default 0: stop
/// accepting at once) and `RECTIFY_SHUTDOWN_GRACE_SECONDS` (default 30).
fn lifecycle(get: Get) -> Result<LifecycleSettings, ConfigError> {
    let seconds = |name: &'static str, default: u64, min: u64, max: u64| {
        parse_number(get(name), name, default, min, max).map(Duration::from_secs)
    };
    Ok(LifecycleSettings {
        read_timeout: seconds("RECTIFY_REQUEST_READ_TIMEOUT_SECONDS", 5, 1, 300)?,
        drain: seconds("RECTIFY_SHUTDOWN_DRAIN_SECONDS", 0, 0, 300)?,
        grace: seconds("RECTIFY_SHUTDOWN_GRACE_SECONDS", 30, 1, 3600)?,
    })
}

/// Looks a variable up; blank values count as unset.
type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Token settings: the HS256 secret, issuer, audience and lifetime, and the optional key pair
/// and external identity provider.
fn jwt(get: Get, database_url: &DatabaseUrl) -> Result<JwtConfig, ConfigError> {
    let secret = match get("RECTIFY_JWT_SECRET") {
        Some(s) if s.len() >= 32 => Secret::new(s),
        Some(_) => return Err(err("RECTIFY_JWT_SECRET", "must be at least 32 bytes long")),
        None => match database_url {
            DatabaseUrl::Postgres(_) => {
                return Err(err(
                    "RECTIFY_JWT_SECRET",
                    "is required with a PostgreSQL database (instances must share it)",
                ))
            }
            DatabaseUrl::Sqlite(path) => load_or_create_secret(path).map_err(|m| err("RECTIFY_JWT_SECRET", m))?,
        },
    };
    let issuer = get("RECTIFY_JWT_ISSUER").unwrap_or_else(|| "rectify".into());
    let audience = get("RECTIFY_JWT_AUDIENCE").unwrap_or_else(|| "rectify-api".into());
    let ttl_seconds = parse_number(get("RECTIFY_TOKEN_TTL_SECONDS"), "RECTIFY_TOKEN_TTL_SECONDS", 3600, 60, 86_400)?;
    let external = external_idp(get, &audience)?;
    let signing = signing_keys(get)?;
    Ok(JwtConfig { secret, signing, issuer, audience, ttl_seconds, external })
}

/// An external identity provider whose RS256/ES256 tokens are accepted, if configured.
fn external_idp(get: Get, audience: &str) -> Result<Option<ExternalIdp>, ConfigError> {
    let Some(file) = get("RECTIFY_JWT_PUBLIC_KEY_FILE") else { return Ok(None) };
    let public_key_pem =
        std::fs::read(&file).map_err(|e| err("RECTIFY_JWT_PUBLIC_KEY_FILE", format!("cannot read `{file}`: {e}")))?;
    let issuer = get("RECTIFY_JWT_EXTERNAL_ISSUER")
        .ok_or_else(|| err("RECTIFY_JWT_EXTERNAL_ISSUER", "is required when RECTIFY_JWT_PUBLIC_KEY_FILE is set"))?;
    let audience = get("RECTIFY_JWT_EXTERNAL_AUDIENCE").unwrap_or_else(|| audience.to_owned());
    let idp = ExternalIdp { public_key_pem, issuer, audience };
    token::external_algorithm(&idp.public_key_pem).map_err(|m| err("RECTIFY_JWT_PUBLIC_KEY_FILE", m))?;
    Ok(Some(idp))
}

/// The key pair that signs issued tokens instead of the HS256 secret, if configured (both files or neither).
fn signing_keys(get: Get) -> Result<Option<SigningKeys>, ConfigError> {
    match (get("RECTIFY_JWT_SIGNING_KEY_FILE"), get("RECTIFY_JWT_VERIFYING_KEY_FILE")) {
        (None, None) => Ok(None),
        (Some(private), Some(public)) => {
            let read = |var: &'static str, file: &str| {
                std::fs::read(file).map_err(|e| err(var, format!("cannot read `{file}`: {e}")))
            };
            let keys = SigningKeys {
                private_pem: read("RECTIFY_JWT_SIGNING_KEY_FILE", &private)?,
                public_pem: read("RECTIFY_JWT_VERIFYING_KEY_FILE", &public)?,
            };
            token::signing_keys(&keys).map_err(|(var, m)| err(var, m))?;
            Ok(Some(keys))
        }
        (Some(_), None) => Err(err("RECTIFY_JWT_VERIFYING_KEY_FILE", "is required with RECTIFY_JWT_SIGNING_KEY_FILE")),
        (None, Some(_)) => Err(err("RECTIFY_JWT_SIGNING_KEY_FILE", "is required with RECTIFY_JWT_VERIFYING_KEY_FILE")),
    }
}

/// Webhook delivery: private targets, the retry schedule's base, the dispatcher's poll interval.
fn webhook_settings(get: Get) -> Result<WebhookSettings, ConfigError> {
    let allow_private = parse_bool(get("RECTIFY_WEBHOOK_ALLOW_PRIVATE"), "RECTIFY_WEBHOOK_ALLOW_PRIVATE", false)?;
    let retry_base = match get("RECTIFY_WEBHOOK_RETRY_BASE_SECONDS") {
        None => Duration::from_secs(5),
        Some(raw) => match raw.trim().parse::<f64>() {
            Ok(s) if (0.0001..=3600.0).contains(&s) => Duration::from_secs_f64(s),
            _ => {
                return Err(err(
                    "RECTIFY_WEBHOOK_RETRY_BASE_SECONDS",
                    format!("`{raw}` is not a number of seconds from 0.0001 to 3600"),
                ))
            }
        },
    };
    let poll = Duration::from_millis(parse_number(
        get("RECTIFY_WEBHOOK_POLL_MS"),
        "RECTIFY_WEBHOOK_POLL_MS",
        500,
        10,
        60_000,
    )?);
    Ok(WebhookSettings { allow_private, retry_base, poll })
}

/// `RECTIFY_CORS_ORIGINS`: comma-separated origins (`scheme://host[:port]`, nothing after), default none.
fn cors_origins(get: Get) -> Result<Vec<String>, ConfigError> {
    const VAR: &str = "RECTIFY_CORS_ORIGINS";
    let Some(raw) = get(VAR) else { return Ok(Vec::new()) };
    let mut origins = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || err(VAR, format!("`{item}` is not an origin like https://a.example or http://localhost:5173"));
        let url = url::Url::parse(item).map_err(|_| bad())?;
        let origin = url.origin();
        // An origin is exactly scheme://host[:port]: no path, query, fragment or user.
        if !matches!(url.scheme(), "http" | "https") || !origin.is_tuple() || origin.ascii_serialization() != item {
            return Err(bad());
        }
        if !origins.contains(&origin.ascii_serialization()) {
            origins.push(origin.ascii_serialization());
        }
    }
    Ok(origins)
}

/// The log filter and format.
fn logging(get: Get) -> Result<(String, LogFormat), ConfigError> {
    let log = get("RECTIFY_LOG").unwrap_or_else(|| "info".into());
    tracing_subscriber::EnvFilter::try_new(&log).map_err(|e| err("RECTIFY_LOG", format!("not a valid filter: {e}")))?;
    let format = match get("RECTIFY_LOG_FORMAT").as_deref() {
        None | Some("pretty") => LogFormat::Pretty,
        Some("json") => LogFormat::Json,
        Some(other) => return Err(err("RECTIFY_LOG_FORMAT", format!("`{other}` is neither json nor pretty"))),
    };
    Ok((log, format))
}

/// The deadline warning thresholds (yellow ≤ green).
fn warnings(get: Get) -> Result<WarningThresholds, ConfigError> {
    let yellow_days = parse_number(get("RECTIFY_WARNING_YELLOW_DAYS"), "RECTIFY_WARNING_YELLOW_DAYS", 10, 0, 3650)?;
    let green_days = parse_number(get("RECTIFY_WARNING_GREEN_DAYS"), "RECTIFY_WARNING_GREEN_DAYS", 20, 0, 3650)?;
    if green_days < yellow_days {
        return Err(err("RECTIFY_WARNING_GREEN_DAYS", "must not be smaller than RECTIFY_WARNING_YELLOW_DAYS"));
    }
    Ok(WarningThresholds { yellow_days: yellow_days as i64, green_days: green_days as i64 })
}

/// The period of the deadline scan (contract §9.2), 1 s to a day.
fn deadline_scan(get: Get) -> Result<Duration, ConfigError> {
    let seconds = parse_number(get("RECTIFY_DEADLINE_SCAN_SECONDS"), "RECTIFY_DEADLINE_SCAN_SECONDS", 3600, 1, 86_400)?;
    Ok(Duration::from_secs(seconds))
}

/// `true` or `false`; unset gives `default`.
fn parse_bool(raw: Option<String>, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
    match raw.as_deref().map(str::trim) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(err(variable, format!("`{other}` is neither true nor false"))),
    }
}

fn parse_number(
    raw: Option<String>,
    variable: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(err(variable, format!("`{raw}` is not a whole number from {min} to {max}"))),
    }
}

/// The SQLite default keeps a generated secret beside the database file, so
/// tokens survive a restart without any setup.
fn load_or_create_secret(db_path: &Path) -> Result<Secret, String> {
    let dir = db_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let file = dir.join("jwt-secret");
    match std::fs::read_to_string(&file) {
        Ok(s) if s.trim().len() >= 32 => return Ok(Secret::new(s.trim())),
        Ok(_) => return Err(format!("`{}` holds a secret shorter than 32 bytes", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read `{}`: {e}", file.display())),
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private_file(&file, &secret).map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
    Ok(Secret::new(secret))
}

fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const PG: (&str, &str) = ("RECTIFY_DATABASE_URL", "postgres://localhost/x");
    const SECRET: (&str, &str) = ("RECTIFY_JWT_SECRET", "0123456789abcdef0123456789abcdef");

    #[test]
    fn postgres_requires_a_jwt_secret() {
        let e = config(&[PG]).unwrap_err();
        assert_eq!(e.variable, "RECTIFY_JWT_SECRET");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("RECTIFY_BIND", "nowhere"),
            ("RECTIFY_TIMEZONE", "Mars/Olympus"),
            ("RECTIFY_LOG_FORMAT", "xml"),
            ("RECTIFY_TOKEN_TTL_SECONDS", "-5"),
            ("RECTIFY_DATABASE_URL", "mysql://x"),
            ("RECTIFY_JWT_SECRET", "short"),
            ("RECTIFY_ADMIN_PASSWORD", "too-short"),
            ("RECTIFY_TRUST_FORWARDED", "yes"),
            ("RECTIFY_LOCK_TIMEOUT_MS", "0"),
            ("RECTIFY_WEBHOOK_RETRY_BASE_SECONDS", "0"),
            ("RECTIFY_WEBHOOK_ALLOW_PRIVATE", "maybe"),
            ("RECTIFY_WEBHOOK_POLL_MS", "5"),
            ("RECTIFY_METRICS_BIND", "everywhere"),
            ("RECTIFY_STATEMENT_TIMEOUT_MS", "soon"),
            ("RECTIFY_DEADLINE_SCAN_SECONDS", "0"),
            ("RECTIFY_DEADLINE_SCAN_SECONDS", "86401"),
            ("RECTIFY_DEADLINE_SCAN_SECONDS", "hourly"),
            ("RECTIFY_IMPORT_MAX_FINDINGS", "0"),
            ("RECTIFY_IMPORT_MAX_FINDINGS", "1000001"),
            ("RECTIFY_IMPORT_MAX_FINDINGS", "-5"),
            ("RECTIFY_CORS_ORIGINS", "*"),
            ("RECTIFY_CORS_ORIGINS", "a.example"),
            ("RECTIFY_CORS_ORIGINS", "https://a.example/"),
            ("RECTIFY_CORS_ORIGINS", "https://a.example/app"),
            ("RECTIFY_CORS_ORIGINS", "https://a.example,ftp://b.example"),
            ("RECTIFY_CORS_ORIGINS", "https://user@a.example"),
            ("RECTIFY_CORS_ORIGINS", "null"),
        ] {
            let mut vars = vec![SECRET, PG];
            vars.retain(|(k, _)| *k != var);
            vars.push((var, value));
            let e = config(&vars).unwrap_err();
            assert_eq!(e.variable, var, "{var}={value}");
        }
    }

    #[test]
    fn defaults_hold() {
        let c = config(&[PG, SECRET]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(c.jwt.issuer, "rectify");
        assert_eq!(c.jwt.audience, "rectify-api");
        assert_eq!(c.jwt.ttl_seconds, 3600);
        assert_eq!(c.warnings, WarningThresholds::default());
        assert_eq!(c.deadline_scan_every, Duration::from_secs(3600));
        assert_eq!(c.import_max_findings, 5000);
        assert!(c.cors_origins.is_empty());
    }

    #[test]
    fn the_import_bound_is_read_as_a_count() {
        let c = config(&[PG, SECRET, ("RECTIFY_IMPORT_MAX_FINDINGS", "1")]).unwrap();
        assert_eq!(c.import_max_findings, 1);
        let c = config(&[PG, SECRET, ("RECTIFY_IMPORT_MAX_FINDINGS", "1000000")]).unwrap();
        assert_eq!(c.import_max_findings, 1_000_000);
    }

    #[test]
    fn cors_origins_are_read_as_a_list() {
        let c = config(&[
            PG,
            SECRET,
            ("RECTIFY_CORS_ORIGINS", " https://a.example, http://localhost:5173 ,https://a.example"),
        ])
        .unwrap();
        assert_eq!(c.cors_origins, vec!["https://a.example", "http://localhost:5173"]);
    }

    #[test]
    fn the_deadline_scan_period_is_read_in_seconds() {
        let c = config(&[PG, SECRET, ("RECTIFY_DEADLINE_SCAN_SECONDS", "1")]).unwrap();
        assert_eq!(c.deadline_scan_every, Duration::from_secs(1));
        let c = config(&[PG, SECRET, ("RECTIFY_DEADLINE_SCAN_SECONDS", "86400")]).unwrap();
        assert_eq!(c.deadline_scan_every, Duration::from_secs(86_400));
    }

    #[test]
    fn local_dates_are_taken_in_the_configured_zone() {
        let c = config(&[PG, SECRET]).unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Shanghai is UTC+8: its day starts at 16:00 UTC the day before.
        assert_eq!(c.local_date(at("2024-09-30T15:59:59Z")), "2024-09-30".parse::<NaiveDate>().unwrap());
        assert_eq!(c.local_date(at("2024-09-30T16:00:00Z")), "2024-10-01".parse::<NaiveDate>().unwrap());
        let utc = config(&[PG, SECRET, ("RECTIFY_TIMEZONE", "UTC")]).unwrap();
        assert_eq!(utc.local_date(at("2024-09-30T16:00:00Z")), "2024-09-30".parse::<NaiveDate>().unwrap());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let c = config(&[PG, SECRET, ("RECTIFY_ADMIN_PASSWORD", "very-secret-password")]).unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("0123456789abcdef"));
        assert!(!printed.contains("very-secret-password"));
    }

    #[test]
    fn sqlite_url_keeps_its_path() {
        assert_eq!(DatabaseUrl::parse("sqlite://data/r.db").unwrap(), DatabaseUrl::Sqlite("data/r.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/r.db").unwrap(), DatabaseUrl::Sqlite("/tmp/r.db".into()));
    }
}
