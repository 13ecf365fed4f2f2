//! Storage: one diesel `MultiConnection` over SQLite and PostgreSQL, an r2d2
//! pool, and the blocking-pool runner every handler goes through.

pub mod cancel;
pub mod roles;
pub mod schema;
pub mod signals;
pub mod statements;
pub mod versioned;

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Timelike, Utc};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{DatabaseUrl, Timeouts};
use crate::error::AppError;

pub use cancel::{Cancel, CancelOnDrop};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Declares a row's column tuple once, as a type and a constant to `select` or `returning` with
/// (diesel's `as_returning()` does not compile through the `MultiConnection`).
#[macro_export]
macro_rules! columns {
    ($vis:vis $name:ident: $ty:ident = $table:ident { $($col:ident),+ $(,)? }) => {
        $vis type $ty = ($($table::$col,)+);
        $vis const $name: $ty = ($($table::$col,)+);
    };
}

/// A connection to either backend; the URL scheme decides which.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// A pooled connection, with what the pool needs to know about it: when it was last used (one
/// used a moment ago is not pinged before it is handed out again) and whether it was found
/// broken (then the pool drops it instead of keeping it).
pub struct Pooled {
    conn: DbConn,
    used: Instant,
    broken: bool,
}

impl Deref for Pooled {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// A connection idle for longer than this is pinged before use: the database may have restarted
/// or dropped it meanwhile. One in continuous use is not, which saves a round trip per checkout
/// under load; if it breaks all the same, the statement that finds out fails (a 503, see
/// `Db::run`) and the connection is discarded.
const PING_AFTER_IDLE: Duration = Duration::from_secs(2);

/// Opens connections by URL scheme, reporting the driver's own error message
/// (the derived `establish` hides it behind "Invalid connection url").
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    timeouts: Timeouts,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Pooled, ConnectionError> {
        Ok(Pooled { conn: self.open()?, used: Instant::now(), broken: false })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), ConnectionError> {
        if conn.used.elapsed() < PING_AFTER_IDLE {
            return Ok(());
        }
        conn.conn.ping().map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.broken || conn.conn.is_broken()
    }
}

impl Manager {
    /// A new connection with the session settings the service relies on.
    fn open(&self) -> Result<DbConn, ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)?;
                conn.batch_execute(&format!(
                    "SET lock_timeout = {}; SET statement_timeout = {};",
                    self.timeouts.lock.as_millis(),
                    self.timeouts.statement.as_millis()
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                // busy_timeout first: switching to WAL itself may wait for a lock. FULL: a commit
                // returns once its WAL frames are on disk, so an acknowledged write survives a
                // power cut or OS crash too (NORMAL survives only a process crash).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                    self.timeouts.lock.as_millis()
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// The shared database handle: a pool and the blocking-pool runner.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    manager: Manager,
    postgres: bool,
}

impl Db {
    /// Builds the pool and checks that one connection can be opened.
    pub fn connect(url: &DatabaseUrl, size: u32, timeouts: Timeouts) -> Result<Self, String> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
            }
        }
        statements::install();
        let manager = Manager { url: url.clone(), timeouts };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            // A full pool from the start: no request waits for a connection to be opened under load.
            .min_idle(None)
            .connection_timeout(Duration::from_secs(10))
            .build(manager.clone())
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        Ok(Self { pool, manager, postgres: url.is_postgres() })
    }

    /// A connection of its own, outside the pool (for a task that holds one for long, such as
    /// listening for notifications).
    pub fn dedicated(&self) -> Result<DbConn, AppError> {
        self.manager.open().map_err(|e| AppError::Unavailable(format!("database: {e}")))
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Connections open and idle, and the pool's size.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections, self.pool.max_size())
    }

    /// A connection for synchronous work (startup, CLI, tests).
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, AppError> {
        self.pool.get().map_err(|e| AppError::Unavailable(format!("database pool: {e}")))
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, never on
    /// the async executor.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        // The request's span follows the work onto the blocking thread (its statements are
        // logged under the request's id).
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let mut conn = db.get()?;
            let result = f(&mut conn);
            // A 503 from inside may be a connection the database dropped: check it, and have the
            // pool discard it if so (the next request gets a fresh one).
            if matches!(result, Err(AppError::Unavailable(_))) && !ping(&mut conn) {
                conn.broken = true;
            }
            conn.used = Instant::now();
            result
        })
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
    }

    /// Runs `f` inside a write transaction on the blocking pool.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| write_tx(conn, f)).await
    }

    /// Runs `f` inside a write transaction on the blocking pool and rolls it back, whatever
    /// `f` answers: a rehearsal (an import's dry run) that runs every check a real write runs.
    pub async fn rehearse<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| rehearse_tx(conn, f)).await
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> Result<usize, String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        run_migrations(&mut conn)
    }

    /// At start-up: applies what is pending, if anything is. A schema that is up to date is
    /// only read, so the service may run as a role without DDL rights (see `roles`); one that
    /// is not, with such a role, is an error that says what to run.
    pub fn migrate_if_needed(&self) -> Result<usize, String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        if let DbConn::Postgres(c) = &mut **conn {
            if roles::runs_as_owner(c) {
                tracing::warn!(
                    "the service connects as the owner of its tables (or a superuser): it could alter or empty \
                     the audit trail; run it as a role that owns nothing (README: least privilege)"
                );
            }
        }
        let pending = roles::pending_migrations(&mut conn)?;
        if pending == 0 {
            return Ok(0);
        }
        run_migrations(&mut conn).map_err(|e| {
            format!("{e}\n{pending} migration(s) pending: apply them with `rectify migrate` as the schema's owner")
        })
    }
}

/// The PostgreSQL advisory lock that instances starting together take in turn to migrate
/// ("rectify" in ASCII): the first applies what is pending, the others then find nothing to do.
const MIGRATION_LOCK: i64 = 0x0072_6563_7469_6679;

/// Waits (up to ten minutes) for the migration lock on this session.
fn lock_for_migrations(conn: &mut diesel::PgConnection) -> Result<(), String> {
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let taken: bool = diesel::select(sql::<Bool>(&format!("pg_try_advisory_lock({MIGRATION_LOCK})")))
            .get_result(conn)
            .map_err(|e| format!("migration lock: {e}"))?;
        if taken {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err("another instance has held the migration lock for ten minutes".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Applies the embedded migrations of the connection's backend. On PostgreSQL under an advisory
/// lock, so that instances starting together on a new schema take turns instead of racing.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, String> {
    let applied = match conn {
        DbConn::Postgres(c) => {
            lock_for_migrations(c)?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
            let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})");
            // The lock is the session's: it ends with the connection should this fail.
            let _ = diesel::sql_query(unlock).execute(c);
            applied
        }
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| format!("migration failed: {e}"))
}

/// SQLite has one writer at a time. Writers of this process take turns here, one at a time,
/// before `BEGIN IMMEDIATE`, instead of meeting at SQLite's lock, where the busy handler makes
/// each loser sleep (up to 100 ms at a time) and try again: at 16 concurrent writers that
/// left decisions waiting seconds and some past the lock timeout (503). Other processes on
/// the same file (the CLI) still meet this one at SQLite's lock, under the busy timeout.
/// One lock for every SQLite database of the process (tests run several): writes are short.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// Set while this thread holds `SQLITE_WRITER` (a write transaction opened inside another
    /// does not wait for itself).
    static WRITING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Holds the SQLite writer's turn until dropped.
struct WriterTurn(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl WriterTurn {
    fn take(conn: &DbConn) -> Option<WriterTurn> {
        if !matches!(conn, DbConn::Sqlite(_)) || WRITING.with(|w| w.get()) {
            return None;
        }
        let guard = SQLITE_WRITER.lock().unwrap_or_else(|e| e.into_inner());
        WRITING.with(|w| w.set(true));
        Some(WriterTurn(guard))
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        WRITING.with(|w| w.set(false));
    }
}

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE` (after this process's other
/// writers, see `SQLITE_WRITER`), so two writers queue instead of failing when a read snapshot
/// cannot be upgraded; on PostgreSQL it is a plain transaction (row locks and conditional
/// updates keep concurrent writers apart).
pub fn write_tx<T, F>(conn: &mut DbConn, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError>,
{
    let _turn = begin_write(conn)?;
    let result = match f(conn) {
        Ok(value) => match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit_error) => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                Err(commit_error.into())
            }
        },
        Err(error) => match <DbConn as Connection>::TransactionManager::rollback_transaction(conn) {
            Ok(()) => Err(error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    };
    signals::transaction_ended(result.is_ok());
    result
}

/// Begins a write transaction, after this process's other SQLite writers; the turn is held
/// until it is dropped.
fn begin_write(conn: &mut DbConn) -> Result<Option<WriterTurn>, AppError> {
    let turn = WriterTurn::take(conn);
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Postgres(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    Ok(turn)
}

/// [`write_tx`] that never commits: `f` runs with the same locks and sees its own writes, then
/// everything it wrote is rolled back and its answer returned.
pub fn rehearse_tx<T, F>(conn: &mut DbConn, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError>,
{
    let _turn = begin_write(conn)?;
    let result = f(conn);
    let rolled_back = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
    signals::transaction_ended(false);
    match (result, rolled_back) {
        (Ok(_), Err(e)) => Err(e.into()),
        (result, _) => result,
    }
}

/// A read-only transaction over one snapshot: every statement of `f` sees the same committed
/// state (PostgreSQL `REPEATABLE READ`; on SQLite a deferred transaction keeps its first read's
/// snapshot in WAL mode), for reports that read several times and must add up.
pub fn snapshot_tx<T, F>(conn: &mut DbConn, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")?,
        DbConn::Postgres(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?
        }
    }
    let result = f(conn);
    // Nothing was written: ending it either way is the same.
    let ended = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
    match (result, ended) {
        (Ok(value), Ok(())) => Ok(value),
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(e.into()),
    }
}

/// Locks a row for the rest of the transaction (`FOR UPDATE` on PostgreSQL;
/// SQLite's `BEGIN IMMEDIATE` already holds the database write lock).
pub fn lock_row(conn: &mut DbConn, table: &'static str, id: i64) -> Result<(), AppError> {
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"))
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(c)?;
    }
    Ok(())
}

/// Share-locks rows for the rest of the transaction, in id order (`FOR SHARE` on PostgreSQL:
/// they may be read by others but not changed; SQLite's `BEGIN IMMEDIATE` already holds the
/// database write lock). Rows are locked in id order, as requests lock them, so the two never
/// wait on each other in a cycle.
pub fn share_lock_rows(conn: &mut DbConn, table: &'static str, ids: &[i64]) -> Result<(), AppError> {
    if let DbConn::Postgres(c) = conn {
        use diesel::sql_types::{Array, BigInt};
        diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = ANY($1) ORDER BY id FOR SHARE"))
            .bind::<Array<BigInt>, _>(ids)
            .execute(c)?;
    }
    Ok(())
}

/// Now, in UTC, truncated to microseconds so both backends store the same value.
pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}

/// `true` when the database answers a trivial query.
pub fn ping(conn: &mut DbConn) -> bool {
    diesel::sql_query("SELECT 1").execute(conn).is_ok()
}
