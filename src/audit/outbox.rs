//! The webhook outbox: when an event is recorded, a delivery row is written for
//! every active webhook that subscribes to its type and may see it, in the same
//! transaction — so a delivery exists exactly when its event does, whatever
//! happens to the process afterwards. The webhook dispatcher sends them.

use std::collections::HashMap;

use diesel::prelude::*;

use super::catalog;
use crate::auth::scope::{inspection_in_scope, unit_in_scope};
use crate::auth::Scope;
use crate::db::schema::{webhook_deliveries as wd, webhooks as wh};
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::webhooks::model::DeliveryStatus;

/// What the outbox needs to know of a recorded event.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub id: i64,
    pub action: &'a str,
    pub inspection_id: Option<i64>,
    pub org_unit_id: Option<i64>,
}

/// The active webhooks, read once for a run of events in one transaction, and which of them
/// see which inspection or unit: a run's events (an import's) mostly share their inspection.
#[derive(Debug, Default)]
pub struct Subscribers {
    /// (webhook id, its unit, its event types); read at the first event that needs them.
    hooks: Option<Vec<(i64, i64, String)>>,
    /// Whether a webhook's unit sees (inspection, org unit): the references events carry.
    sees: HashMap<(i64, Option<i64>, Option<i64>), bool>,
}

impl Subscribers {
    /// Queues the event for every webhook that subscribes to it and sees it: the same
    /// visibility as `GET /api/v1/events` for a user of the webhook's unit.
    pub fn enqueue(&mut self, conn: &mut DbConn, event: Recorded<'_>) -> Result<usize, AppError> {
        // A test event goes to its one webhook only (see webhooks::routes::test_webhook).
        if event.action == "webhook.test" {
            return Ok(0);
        }
        if self.hooks.is_none() {
            self.hooks = Some(
                wh::table
                    .filter(wh::active.eq(true))
                    .filter(wh::deleted_at.is_null())
                    .select((wh::id, wh::org_unit_id, wh::event_types))
                    .load(conn)?,
            );
        }
        let hooks = self.hooks.as_deref().unwrap_or_default();
        let mut queued = 0;
        for (webhook_id, unit, types) in hooks {
            if !types.split(',').any(|p| catalog::matches(p.trim(), event.action)) {
                continue;
            }
            let key = (*unit, event.inspection_id, event.org_unit_id);
            let visible = match self.sees.get(&key) {
                Some(&visible) => visible,
                None => {
                    let scope = Scope::Unit(*unit);
                    let visible = match (event.inspection_id, event.org_unit_id) {
                        (Some(inspection), _) => inspection_in_scope(conn, scope, inspection)?,
                        (None, Some(org_unit)) => unit_in_scope(conn, scope, org_unit)?,
                        (None, None) => false,
                    };
                    self.sees.insert(key, visible);
                    visible
                }
            };
            if visible {
                insert(conn, *webhook_id, event.id)?;
                queued += 1;
            }
        }
        if queued > 0 {
            crate::db::signals::deliveries_queued();
        }
        Ok(queued)
    }
}

/// A pending delivery of `event_id` to `webhook_id`, due now.
pub fn insert(conn: &mut DbConn, webhook_id: i64, event_id: i64) -> Result<i64, AppError> {
    crate::db::signals::deliveries_queued();
    let now = db::now();
    Ok(diesel::insert_into(wd::table)
        .values((
            wd::webhook_id.eq(webhook_id),
            wd::event_id.eq(event_id),
            wd::status.eq(DeliveryStatus::Pending),
            wd::attempts.eq(0),
            wd::next_attempt_at.eq(Some(now)),
            wd::created_at.eq(now),
            wd::updated_at.eq(now),
        ))
        .returning(wd::id)
        .get_result(conn)?)
}
