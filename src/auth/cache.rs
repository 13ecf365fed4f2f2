//! The callers' user rows, kept in memory between requests so that an authenticated request
//! does not read its user from the database each time — without weakening revocation (contract
//! §9.3: a password change, deactivation or role change applies at once).
//!
//! How a change reaches the cache:
//! - **On this instance**, a transaction that changes a user row marks it
//!   (`signals::users_changed`), and its commit empties the cache before the change's response
//!   is sent: the next request reads the row again.
//! - **On every instance** (PostgreSQL), a statement trigger on `users` sends
//!   `NOTIFY rectify_users` with the commit (whatever made the change: another instance, the
//!   CLI, a manual `UPDATE`); each instance listens on a connection of its own and empties its
//!   cache when it arrives, a few milliseconds after the commit.
//! - **While not listening** (SQLite, whose other writers are other processes that send no
//!   notifications; PostgreSQL before the listener is up, or after its connection failed, until
//!   it is back) the cache is not used at all: every request reads its user.
//!
//! Entries are also dropped after [`TTL`], and the cache is emptied when it holds [`CAPACITY`].
//! A row read before an invalidation is never stored after it: each fill carries the generation
//! it started in and is refused when the generation moved on meanwhile.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::token::Subject;
use crate::db::{Db, DbConn};

/// How long a row may be served from memory at most, even without a change.
const TTL: Duration = Duration::from_secs(60);
/// Rows kept at most (then the cache starts empty again).
const CAPACITY: usize = 10_000;
/// How often the listener looks for notifications (and so, the most a change on another
/// instance takes to reach this one's cache, on top of the notification's own travel).
const POLL: Duration = Duration::from_millis(5);
/// How often the listener checks its connection when nothing arrives.
const CHECK: Duration = Duration::from_secs(1);
/// The notification channel (the trigger of migration `2026-12-03-000001_users_notify`).
pub const CHANNEL: &str = "rectify_users";

/// Moves on whenever any user row may have changed (process-wide: every cache in the process
/// compares with it, so one server's change empties the others' too, which is only cautious).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Marks that user rows may have changed: every cached row is stale from now on.
pub fn invalidate_all() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Id(i64),
    Name(String),
}

impl Key {
    fn of(subject: &Subject) -> Key {
        match subject {
            Subject::Local { id, .. } => Key::Id(*id),
            Subject::External(name) => Key::Name(name.clone()),
        }
    }
}

struct Entry<R> {
    row: R,
    generation: u64,
    stored: Instant,
}

/// A generation observed before reading a row, to store the row under.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(Option<u64>);

/// The cache of one server (its `AppState`).
pub struct UserCache<R> {
    entries: Mutex<HashMap<Key, Entry<R>>>,
    /// Set while this server's listener is connected and listening (never on SQLite).
    live: Arc<AtomicBool>,
    /// [`GENERATION`] (a counter of its own in unit tests).
    generation: &'static AtomicU64,
}

impl<R: Clone> Default for UserCache<R> {
    fn default() -> Self {
        Self { entries: Mutex::new(HashMap::new()), live: Arc::new(AtomicBool::new(false)), generation: &GENERATION }
    }
}

impl<R: Clone> UserCache<R> {
    /// The row for `subject`, when one is cached and still current.
    pub fn get(&self, subject: &Subject) -> Option<R> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&Key::of(subject))
            .filter(|e| e.generation == generation && e.stored.elapsed() < TTL)
            .map(|e| e.row.clone())
    }

    /// Taken before reading a row from the database: `put` stores it only if nothing changed
    /// since (and only while listening).
    pub fn ticket(&self) -> Ticket {
        Ticket(self.live.load(Ordering::SeqCst).then(|| self.generation.load(Ordering::SeqCst)))
    }

    /// Keeps `row` for `subject`, if the ticket's generation is still current.
    pub fn put(&self, subject: &Subject, row: R, ticket: Ticket) {
        let Some(generation) = ticket.0 else { return };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation || !self.live.load(Ordering::SeqCst) {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(Key::of(subject), Entry { row, generation, stored: Instant::now() });
    }

    /// Starts listening for changes made elsewhere (PostgreSQL only; on SQLite the cache stays
    /// off). The listener stops when the returned handle is dropped.
    pub fn listen(&self, db: &Db) -> Option<Listener> {
        if !db.is_postgres() {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (live, db, stopping) = (self.live.clone(), db.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("rectify-users-listener".into())
            .spawn(move || listen(&db, &live, &stopping))
            .map_err(|e| tracing::warn!(error = %e, "no user cache: the listener did not start"))
            .ok()?;
        Some(Listener { stop, thread: Some(thread) })
    }
}

/// The listening thread of one server; stops it when dropped.
pub struct Listener {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Connects, listens, and empties the cache on every notification; on any failure turns the
/// cache off, and tries again a second later.
fn listen(db: &Db, live: &AtomicBool, stop: &AtomicBool) {
    let mut logged = false;
    while !stop.load(Ordering::SeqCst) {
        match db.dedicated().map_err(|e| e.to_string()).and_then(|mut conn| serve(&mut conn, live, stop)) {
            Ok(()) => return,
            Err(e) => {
                live.store(false, Ordering::SeqCst);
                invalidate_all();
                if !logged {
                    tracing::warn!(error = %e, "user cache off until the database can be listened to again");
                    logged = true;
                }
            }
        }
        sleep_unless(stop, Duration::from_secs(1));
    }
    live.store(false, Ordering::SeqCst);
}

/// Listens on `conn` until stopped (Ok) or the connection fails (Err).
fn serve(conn: &mut DbConn, live: &AtomicBool, stop: &AtomicBool) -> Result<(), String> {
    use diesel::RunQueryDsl;
    let DbConn::Postgres(pg) = conn else { return Ok(()) };
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(pg).map_err(|e| e.to_string())?;
    // Whatever changed while nobody listened is unknown: start from nothing.
    invalidate_all();
    live.store(true, Ordering::SeqCst);
    tracing::debug!("user cache on: listening for user changes");
    let mut checked = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let mut changed = false;
        for notification in pg.notifications_iter() {
            notification.map_err(|e| e.to_string())?;
            changed = true;
        }
        if changed {
            invalidate_all();
        }
        if checked.elapsed() >= CHECK {
            diesel::sql_query("SELECT 1").execute(pg).map_err(|e| e.to_string())?;
            checked = Instant::now();
            continue;
        }
        std::thread::sleep(POLL);
    }
    live.store(false, Ordering::SeqCst);
    Ok(())
}

fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let until = Instant::now() + total;
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(generation: &'static AtomicU64) -> UserCache<u32> {
        let cache = UserCache { generation, ..UserCache::default() };
        cache.live.store(true, Ordering::SeqCst);
        cache
    }

    fn invalidate(generation: &AtomicU64) {
        generation.fetch_add(1, Ordering::SeqCst);
    }

    fn alice() -> Subject {
        Subject::Local { id: 1, credentials_version: 0 }
    }

    #[test]
    fn a_row_is_served_until_any_user_changes() {
        static G: AtomicU64 = AtomicU64::new(0);
        let cache = cache(&G);
        let ticket = cache.ticket();
        cache.put(&alice(), 7, ticket);
        assert_eq!(cache.get(&alice()), Some(7));
        invalidate(&G);
        assert_eq!(cache.get(&alice()), None);
    }

    #[test]
    fn a_row_read_before_a_change_is_not_stored_after_it() {
        static G: AtomicU64 = AtomicU64::new(0);
        let cache = cache(&G);
        let ticket = cache.ticket();
        invalidate(&G);
        cache.put(&alice(), 7, ticket);
        assert_eq!(cache.get(&alice()), None);
    }

    #[test]
    fn nothing_is_cached_while_not_listening() {
        static G: AtomicU64 = AtomicU64::new(0);
        let cache = cache(&G);
        cache.live.store(false, Ordering::SeqCst);
        let ticket = cache.ticket();
        cache.put(&alice(), 7, ticket);
        cache.live.store(true, Ordering::SeqCst);
        assert_eq!(cache.get(&alice()), None);
    }
}
