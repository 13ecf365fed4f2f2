//! The append-only audit trail ("who did what, when") and the change feed.

pub mod api;
pub mod catalog;
pub mod chain;
pub mod outbox;
pub mod queries;
pub mod routes;
pub mod spec;

use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::audit_events;
use crate::db::{self, DbConn};
use crate::error::AppError;

/// Who causes a change: a user (none for the system itself) within a request.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The service itself (bootstrap, migrations, CLI).
    pub fn system() -> Self {
        Self::default()
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: i64,
    pub inspection_id: Option<i64>,
    pub finding_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    pub data: Value,
}

impl Event {
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: i64, data: Value) -> Self {
        Self { action, entity_type, entity_id, inspection_id: None, finding_id: None, org_unit_id: None, data }
    }

    pub fn inspection(mut self, id: i64) -> Self {
        self.inspection_id = Some(id);
        self
    }

    pub fn finding(mut self, id: i64) -> Self {
        self.finding_id = Some(id);
        self
    }

    pub fn org_unit(mut self, id: i64) -> Self {
        self.org_unit_id = Some(id);
        self
    }
}

/// Writes an event inside the caller's transaction; call it last, just
/// before commit. No lock is shared between writers: on PostgreSQL the id
/// comes from a sequence and the row records its transaction's id (the feed
/// orders by both and stops at the oldest transaction still running); on
/// SQLite, whose writers are serialised, the next id follows commit order.
pub fn record(conn: &mut DbConn, actor: &Actor, event: Event) -> Result<i64, AppError> {
    Recorder::new(conn, actor)?.record(conn, event)
}

/// Writes a run of events in the caller's transaction (an import's thousands), looking up once
/// what `record` looks up for each: on SQLite the next id, and the webhooks that may want them
/// (with which of them see the events' inspection). Record the transaction's other events
/// through it too: on SQLite it hands out ids itself.
pub struct Recorder<'a> {
    actor: &'a Actor,
    /// SQLite: the id of the next event (the write lock is held, so no other writer takes it).
    next_id: Option<i64>,
    subscribers: outbox::Subscribers,
}

impl<'a> Recorder<'a> {
    pub fn new(conn: &mut DbConn, actor: &'a Actor) -> Result<Self, AppError> {
        let next_id = match conn {
            DbConn::Postgres(_) => None,
            DbConn::Sqlite(_) => {
                let max: Option<i64> = audit_events::table.select(diesel::dsl::max(audit_events::id)).first(conn)?;
                Some(max.unwrap_or(0) + 1)
            }
        };
        Ok(Self { actor, next_id, subscribers: outbox::Subscribers::default() })
    }

    /// Writes one event, and its webhook deliveries.
    pub fn record(&mut self, conn: &mut DbConn, event: Event) -> Result<i64, AppError> {
        debug_assert!(catalog::find(event.action).is_some(), "`{}` is not in audit::catalog", event.action);
        let actor = self.actor;
        let id: i64 = diesel::insert_into(audit_events::table)
            .values((
                self.next_id.map(|id| audit_events::id.eq(id)),
                audit_events::occurred_at.eq(db::now()),
                audit_events::actor_id.eq(actor.user_id),
                audit_events::action.eq(event.action),
                audit_events::entity_type.eq(event.entity_type),
                audit_events::entity_id.eq(event.entity_id),
                audit_events::inspection_id.eq(event.inspection_id),
                audit_events::finding_id.eq(event.finding_id),
                audit_events::org_unit_id.eq(event.org_unit_id),
                audit_events::data.eq(event.data.to_string()),
                audit_events::request_id.eq(&actor.request_id),
            ))
            .returning(audit_events::id)
            .get_result(conn)?;
        if let Some(next) = &mut self.next_id {
            *next = id + 1;
        }
        self.subscribers.enqueue(
            conn,
            outbox::Recorded {
                id,
                action: event.action,
                inspection_id: event.inspection_id,
                org_unit_id: event.org_unit_id,
            },
        )?;
        Ok(id)
    }
}
