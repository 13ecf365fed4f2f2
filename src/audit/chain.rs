//! Tamper evidence: the audit trail as a hash chain.
//!
//! Each event, in feed order, gets a seal (`audit_seals`): its position in the chain and
//!
//! ```text
//! hash = SHA-256( prev_hash || "\n" || canonical(event) )
//! ```
//!
//! as lowercase hex, where `prev_hash` is the previous seal's hash (64 zeros before the first)
//! as its 64 hex characters, and `canonical(event)` is the compact JSON array
//! `[id, occurred_at, actor_id, action, entity_type, entity_id, inspection_id, finding_id,
//! org_unit_id, data, request_id]` with `occurred_at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` and
//! `data` as the stored JSON text (a string). Anyone can recompute it with standard tools.
//!
//! Writers do not take part: a sealer seals events once they have settled (the feed's own
//! rule: no older transaction is still running), so no write waits on a chain lock. An
//! event is therefore unsealed for about a second after it commits; `pending` counts those.
//! Editing a sealed event, deleting one, moving one or slipping one in between breaks the
//! chain from that point on, and [`verify`] names the first broken link. Someone who can
//! rewrite the whole table can also recompute every hash after their edit: the head hash
//! that `verify` reports, recorded outside the database from time to time, closes that gap.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use super::queries::{self, EventRow, FeedFilter, Position};
use crate::auth::Scope;
use crate::db::schema::{audit_events as ae, audit_seals as seals};
use crate::db::{Db, DbConn};
use crate::error::AppError;

/// What precedes the first seal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Events sealed (or checked) per transaction.
const BATCH: i64 = 1000;

/// The event's canonical content, as hashed.
pub fn canonical(e: &EventRow) -> Vec<u8> {
    let content = json!([
        e.id,
        e.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        e.actor_id,
        e.action,
        e.entity_type,
        e.entity_id,
        e.inspection_id,
        e.finding_id,
        e.org_unit_id,
        e.data,
        e.request_id,
    ]);
    content.to_string().into_bytes()
}

/// The hash that seals `event` after a seal whose hash is `prev`.
pub fn link(prev: &str, event: &EventRow) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical(event));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The last seal: its position and hash, and where its event stands in the feed.
struct Head {
    position: i64,
    hash: String,
    at: Position,
}

fn head(conn: &mut DbConn) -> Result<Option<Head>, AppError> {
    let row: Option<(i64, String, i64, i64)> = seals::table
        .inner_join(ae::table)
        .order(seals::position.desc())
        .select((seals::position, seals::hash, ae::txid, ae::id))
        .first(conn)
        .optional()?;
    Ok(row.map(|(position, hash, txid, id)| Head { position, hash, at: Position { txid, id } }))
}

/// Seals up to [`BATCH`] settled events in one transaction; answers how many. A sealer that
/// lost a race for the same positions gets a conflict and seals nothing: the winner did.
pub fn seal_batch(conn: &mut DbConn) -> Result<usize, AppError> {
    crate::db::write_tx(conn, |conn| {
        let head = head(conn)?;
        let (mut position, mut prev, after) = match head {
            Some(h) => (h.position, h.hash, h.at),
            None => (0, GENESIS.to_owned(), Position { txid: i64::MIN, id: i64::MIN }),
        };
        let events = queries::feed(conn, Scope::All, &FeedFilter::default(), after, BATCH)?;
        for event in &events {
            position += 1;
            let hash = link(&prev, event);
            diesel::insert_into(seals::table)
                .values((
                    seals::position.eq(position),
                    seals::event_id.eq(event.id),
                    seals::prev_hash.eq(&prev),
                    seals::hash.eq(&hash),
                ))
                .execute(conn)?;
            prev = hash;
        }
        Ok(events.len())
    })
}

/// Seals every settled event; answers how many.
pub fn seal_all(conn: &mut DbConn) -> Result<usize, AppError> {
    let mut total = 0;
    loop {
        let n = seal_batch(conn)?;
        total += n;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainVerification {
    /// True when every seal links to its predecessor and matches its event, and no event was
    /// slipped into the sealed part of the trail.
    pub valid: bool,
    /// Seals checked (the chain's length).
    #[schema(example = 1842)]
    pub sealed: i64,
    /// Events written but not sealed yet (the sealer seals them within seconds of commit).
    #[schema(example = 0)]
    pub pending: i64,
    /// The last seal: record `hash` elsewhere, and a later rewrite of everything before it shows.
    pub head: Option<ChainHead>,
    /// The first link that does not hold; null when the chain is valid.
    pub first_broken: Option<BrokenLink>,
}

/// The last seal of the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainHead {
    #[schema(example = 1842)]
    pub position: i64,
    #[schema(example = 2107)]
    pub event_id: i64,
    /// SHA-256, lowercase hex.
    #[schema(example = "9f2c4e1a7b3d5f60819a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70")]
    pub hash: String,
}

/// Where and how the chain breaks.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokenLink {
    /// The position of the first seal that does not hold (for `inserted`, the position after
    /// which the unsealed event lies).
    #[schema(example = 17)]
    pub position: i64,
    /// The event concerned, when it still exists.
    #[schema(example = 17)]
    pub event_id: Option<i64>,
    pub problem: LinkProblem,
    #[schema(example = "the event's content differs from what was sealed")]
    pub detail: String,
}

/// How a link is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkProblem {
    /// The event was changed after it was sealed.
    Changed,
    /// The sealed event no longer exists.
    Removed,
    /// A seal is missing, or does not follow its predecessor.
    Unlinked,
    /// Sealed events are no longer in the order they were sealed in.
    Reordered,
    /// An event without a seal lies within the sealed part of the trail.
    Inserted,
}

/// Checks the whole chain, reading only, over one snapshot (the sealer may seal meanwhile);
/// seals nothing.
pub fn verify(conn: &mut DbConn) -> Result<ChainVerification, AppError> {
    crate::db::snapshot_tx(conn, verify_snapshot)
}

fn verify_snapshot(conn: &mut DbConn) -> Result<ChainVerification, AppError> {
    let (mut expected, mut prev, mut last_at) = (1_i64, GENESIS.to_owned(), None::<Position>);
    let mut first_broken = None;
    let mut last: Option<ChainHead> = None;
    'walk: loop {
        let rows: Vec<(i64, i64, String, String)> = seals::table
            .filter(seals::position.ge(expected))
            .order(seals::position.asc())
            .limit(BATCH)
            .select((seals::position, seals::event_id, seals::prev_hash, seals::hash))
            .load(conn)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let mut events: HashMap<i64, EventRow> =
            ae::table.filter(ae::id.eq_any(&ids)).load::<EventRow>(conn)?.into_iter().map(|e| (e.id, e)).collect();
        let n = rows.len();
        for (position, event_id, prev_hash, hash) in rows {
            let broken = |problem, detail: &str| BrokenLink {
                position,
                event_id: Some(event_id),
                problem,
                detail: detail.to_owned(),
            };
            if position != expected || prev_hash != prev {
                first_broken = Some(broken(LinkProblem::Unlinked, "the seal does not follow the one before it"));
                break 'walk;
            }
            let Some(event) = events.remove(&event_id) else {
                first_broken =
                    Some(BrokenLink { event_id: None, ..broken(LinkProblem::Removed, "the sealed event is gone") });
                break 'walk;
            };
            if last_at.is_some_and(|at| (at.txid, at.id) >= (event.txid, event.id)) {
                first_broken =
                    Some(broken(LinkProblem::Reordered, "the event no longer follows the one sealed before it"));
                break 'walk;
            }
            if link(&prev, &event) != hash {
                first_broken = Some(broken(LinkProblem::Changed, "the event's content differs from what was sealed"));
                break 'walk;
            }
            last_at = Some(event.position());
            last = Some(ChainHead { position, event_id, hash: hash.clone() });
            prev = hash;
            expected += 1;
        }
        if n < BATCH as usize {
            break;
        }
    }
    let sealed = expected - 1;
    let unsealed = ae::table.left_join(seals::table).filter(seals::position.is_null());
    if first_broken.is_none() {
        if let Some(at) = last_at {
            let inserted: Option<i64> = unsealed
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("(audit_events.txid, audit_events.id) < (")
                        .bind::<diesel::sql_types::BigInt, _>(at.txid)
                        .sql(", ")
                        .bind::<diesel::sql_types::BigInt, _>(at.id)
                        .sql(")"),
                )
                .order((ae::txid.asc(), ae::id.asc()))
                .select(ae::id)
                .first(conn)
                .optional()?;
            if let Some(id) = inserted {
                first_broken = Some(BrokenLink {
                    position: sealed,
                    event_id: Some(id),
                    problem: LinkProblem::Inserted,
                    detail: "an event without a seal lies within the sealed trail".into(),
                });
            }
        }
    }
    let pending: i64 = unsealed.count().get_result(conn)?;
    Ok(ChainVerification { valid: first_broken.is_none(), sealed, pending, head: last, first_broken })
}

/// The sealer: seals settled events every second until stopped. Several instances may run
/// one each; they take turns through the seals' primary key.
pub struct Sealer {
    stop_tx: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Sealer {
    pub fn start(db: Db) -> Self {
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(run(Arc::new(db), stop_rx));
        Self { stop_tx, task }
    }

    /// Stops the task and waits until it has ended.
    pub async fn stop(self) {
        drop(self.stop_tx);
        let _ = self.task.await;
    }
}

async fn run(db: Arc<Db>, mut stop: oneshot::Receiver<()>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => return,
            _ = ticks.tick() => {}
        }
        match db.run(seal_all).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sealed = n, "audit events sealed"),
            // Another instance sealed the same events first, or the database is away: next tick.
            Err(AppError::Conflict(_)) => {}
            Err(e) => tracing::warn!(error = ?e, "sealing audit events failed; retrying at the next tick"),
        }
    }
}
