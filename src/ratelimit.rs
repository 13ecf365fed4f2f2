//! Per-client-address rate limiting of sign-ins and public feedback: GCRA, a quota of `n` a
//! minute with bursts of up to `n`. On PostgreSQL the state lives in the database
//! (`rate_limits`), so the quota holds for the deployment however many instances share it;
//! on SQLite, where there is one instance, it lives in memory (governor).

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::db::Db;
use crate::error::AppError;

/// Limits requests per client address.
pub struct AddressLimiter {
    store: Store,
    trust_forwarded: bool,
}

enum Store {
    Memory(DefaultKeyedRateLimiter<IpAddr>),
    /// `name` tells this limiter's rows from another's; times in microseconds.
    Shared {
        db: Db,
        name: &'static str,
        interval: i64,
        burst: i64,
    },
}

impl AddressLimiter {
    /// `n` requests a minute per address, in bursts of up to `n`; shared through the database
    /// when it is PostgreSQL.
    pub fn per_minute(name: &'static str, n: u32, trust_forwarded: bool, db: &Db) -> Self {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        let store = if db.is_postgres() {
            let interval = 60_000_000 / i64::from(n.get());
            Store::Shared { db: db.clone(), name, interval, burst: interval * i64::from(n.get()) }
        } else {
            Store::Memory(RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)))
        };
        Self { store, trust_forwarded }
    }

    /// The client's address: the peer, or — when the service is configured to trust its
    /// proxy — the last `X-Forwarded-For` hop, the one that proxy added (earlier hops are
    /// whatever the client sent, and cannot be trusted).
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        if self.trust_forwarded {
            let last_hop = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .last()
                .and_then(parse_ip);
            if let Some(ip) = last_hop {
                return Some(ip);
            }
        }
        req.peer_addr().map(|a| a.ip())
    }

    /// Counts one request of the client; 429 with Retry-After when over the quota.
    pub async fn check(&self, req: &HttpRequest) -> Result<(), AppError> {
        let Some(ip) = self.client(req) else { return Ok(()) };
        match &self.store {
            Store::Memory(limiter) => {
                limiter.check_key(&ip).map_err(|not_until| {
                    let wait = not_until.wait_time_from(DefaultClock::default().now());
                    AppError::TooManyRequests { retry_after: wait.as_secs().max(1) }
                })?;
                // Forget idle clients now and then so the table stays small.
                if limiter.len() > 10_000 {
                    limiter.retain_recent();
                }
                Ok(())
            }
            Store::Shared { db, name, interval, burst } => {
                let (key, interval, burst) = (format!("{name}:{ip}"), *interval, *burst);
                let wait = db.run(move |conn| take(conn, &key, interval, burst)).await?;
                match wait {
                    None => Ok(()),
                    Some(micros) => Err(AppError::TooManyRequests { retry_after: (micros / 1_000_000 + 1) as u64 }),
                }
            }
        }
    }
}

/// One GCRA step in one statement: the row's theoretical arrival time moves on by `interval`
/// unless that would put it more than `burst` ahead of now. Concurrent requests of one
/// address, on any instance, queue on the row. `None` when allowed, else the wait in
/// microseconds.
fn take(conn: &mut crate::db::DbConn, key: &str, interval: i64, burst: i64) -> Result<Option<i64>, AppError> {
    let now = chrono::Utc::now().timestamp_micros();
    let taken: Vec<Tat> = diesel::sql_query(
        "INSERT INTO rate_limits AS r (key, tat) VALUES ($1, $2 + $3) \
         ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, $2) + $3 \
         WHERE GREATEST(r.tat, $2) + $3 <= $2 + $4 \
         RETURNING tat",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(interval)
    .bind::<BigInt, _>(burst)
    .load(conn)?;
    // Now and then, forget addresses whose quota has fully come back (any instance may).
    if rand::random::<u8>() == 0 {
        diesel::sql_query("DELETE FROM rate_limits WHERE tat < $1").bind::<BigInt, _>(now).execute(conn)?;
    }
    if !taken.is_empty() {
        return Ok(None);
    }
    let current: Vec<Tat> =
        diesel::sql_query("SELECT tat FROM rate_limits WHERE key = $1").bind::<Text, _>(key).load(conn)?;
    let tat = current.first().map_or(now, |t| t.tat);
    Ok(Some((tat + interval - burst - now).max(0)))
}

#[derive(QueryableByName)]
struct Tat {
    #[diesel(sql_type = BigInt)]
    tat: i64,
}

fn parse_ip(raw: &str) -> Option<IpAddr> {
    raw.parse::<IpAddr>().ok().or_else(|| raw.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}
