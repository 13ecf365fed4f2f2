//! The dispatcher: a background task of every instance that claims due deliveries
//! from the outbox, sends them signed, and records each attempt. Claims carry a
//! lease, so several instances deliver each row once, and a delivery claimed by
//! an instance that died is taken up again when its lease runs out.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::client;
use super::model::{after_attempt, DeliveryStatus, RetryPolicy};
use super::queries::{self, AttemptRow, DeliveryRow, WebhookChanges, WebhookRow};
use super::signature::WebhookSecret;
use crate::audit::queries::EventRow;
use crate::audit::{self, Actor, Event};
use crate::auth::Scope;
use crate::config::WebhookSettings;
use crate::db::schema::audit_events;
use crate::db::{self, Db, DbConn};
use crate::error::AppError;

/// How many deliveries one claim takes, and how many are in flight at once.
const BATCH: i64 = 16;
const IN_FLIGHT: usize = 8;
/// A claim outlives the longest attempt (10 s) with room to record it.
const LEASE: Duration = Duration::from_secs(60);

/// The running dispatcher; dropping it stops the task at its next await.
pub struct Dispatcher {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Dispatcher {
    /// Starts the task on the current tokio runtime (actix's, or a test's).
    pub fn start(db: Db, settings: WebhookSettings) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(db, settings, stopped));
        Self { stop, task }
    }

    /// Stops the task and waits for it (an attempt under way is abandoned; its lease expires).
    pub async fn stop(self) {
        drop(self.stop);
        let _ = self.task.await;
    }
}

async fn run(db: Db, settings: WebhookSettings, mut stopped: oneshot::Receiver<()>) {
    let client = match client::build_client(settings.allow_private) {
        Ok(c) => c,
        Err(e) => return tracing::error!(error = %e, "webhook dispatcher: no HTTP client; deliveries wait"),
    };
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => return,
            _ = drain(&db, &client, settings) => {}
        }
        // Woken at once by a commit of this instance; other instances' rows are polled for.
        tokio::select! {
            biased;
            _ = &mut stopped => return,
            _ = db::signals::deliveries_committed() => {}
            _ = tokio::time::sleep(settings.poll) => {}
        }
    }
}

/// Sends everything due, a claimed batch at a time.
async fn drain(db: &Db, client: &reqwest::Client, settings: WebhookSettings) {
    loop {
        match db.run(|conn| queries::any_due(conn, db::now())).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => return tracing::warn!(error = ?e, "webhook dispatcher: cannot look for due deliveries"),
        }
        let lease = uuid::Uuid::new_v4().simple().to_string();
        let claimed = {
            let lease = lease.clone();
            db.write(move |conn| {
                let now = db::now();
                let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
                queries::claim(conn, &lease, now, until, BATCH)
            })
            .await
        };
        let claimed = match claimed {
            Ok(c) if c.is_empty() => return,
            Ok(c) => c,
            Err(e) => return tracing::warn!(error = ?e, "webhook dispatcher: claim failed; retrying"),
        };
        futures_util::stream::iter(claimed)
            .for_each_concurrent(IN_FLIGHT, |d| deliver(db, client, settings, d, lease.clone()))
            .await;
    }
}

/// One attempt of one claimed delivery, then its record.
async fn deliver(db: &Db, client: &reqwest::Client, settings: WebhookSettings, d: DeliveryRow, lease: String) {
    let (id, webhook_id, event_id) = (d.id, d.webhook_id, d.event_id);
    let loaded = db
        .run(move |conn| {
            let hook = queries::find(conn, Scope::All, webhook_id)?;
            let event = audit_events::table.find(event_id).first::<EventRow>(conn)?;
            Ok((hook, event))
        })
        .await;
    let (hook, event) = match loaded {
        Ok(v) => v,
        Err(e) => return tracing::warn!(delivery = id, error = ?e, "webhook dispatcher: cannot load delivery"),
    };
    let started = db::now();
    let clock = Instant::now();
    let outcome = match hook.as_ref().filter(|h| h.active) {
        None => Err("the webhook is disabled or deleted".to_owned()),
        Some(h) => send(client, settings, h, &event, id, started).await,
    };
    let duration_ms = clock.elapsed().as_millis() as i64;
    let policy = RetryPolicy { base: settings.retry_base };
    let succeeded = matches!(outcome, Ok(s) if (200..300).contains(&s));
    let (status, delay) = match hook.as_ref().filter(|h| h.active) {
        None => (DeliveryStatus::Failed, None),
        Some(_) => after_attempt(policy, d.attempts, succeeded),
    };
    crate::metrics::delivery_attempt(match status {
        DeliveryStatus::Succeeded => "succeeded",
        DeliveryStatus::Pending => "retrying",
        DeliveryStatus::Failed => "failed",
    });
    let now = db::now();
    let attempt = AttemptRow {
        delivery_id: id,
        attempt: d.attempts,
        started_at: started,
        duration_ms,
        http_status: outcome.as_ref().ok().map(|s| i32::from(*s)),
        error: outcome.as_ref().err().cloned(),
        next_attempt_at: delay.map(|d| now + chrono::Duration::from_std(d).unwrap_or_default()),
    };
    let recorded = db
        .write(move |conn| {
            if !queries::finish_attempt(conn, &d, &lease, &attempt, status, now)? {
                return Ok(()); // the lease ran out and another dispatcher took it over
            }
            match hook {
                Some(h) if h.active => health(conn, h, succeeded, started, policy, now),
                _ => Ok(()),
            }
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(delivery = id, error = ?e, "webhook dispatcher: cannot record an attempt");
    }
}

/// POSTs the event, signed with the webhook's secrets. `Ok(status)` whatever the status.
async fn send(
    client: &reqwest::Client,
    settings: WebhookSettings,
    hook: &WebhookRow,
    event: &EventRow,
    delivery_id: i64,
    now: NaiveDateTime,
) -> Result<u16, String> {
    let mut secrets = vec![WebhookSecret::parse(&hook.secret)?];
    if let (Some(old), Some(until)) = (&hook.previous_secret, hook.previous_secret_until) {
        if until > now {
            secrets.push(WebhookSecret::parse(old)?);
        }
    }
    let refs: Vec<&WebhookSecret> = secrets.iter().collect();
    let body = serde_json::to_vec(&payload(event)).map_err(|e| e.to_string())?;
    let msg_id = format!("msg_{delivery_id}");
    client::deliver(client, &hook.url, settings.allow_private, &refs, &msg_id, body).await
}

/// The body of a delivery: `{type, timestamp, data}` per Standard Webhooks, `data` being the
/// event's references followed by its own data.
pub fn payload(event: &EventRow) -> Value {
    let mut data = Map::new();
    data.insert("event_id".into(), json!(event.id));
    data.insert("entity_type".into(), json!(event.entity_type));
    data.insert("entity_id".into(), json!(event.entity_id));
    data.insert("inspection_id".into(), json!(event.inspection_id));
    data.insert("finding_id".into(), json!(event.finding_id));
    data.insert("org_unit_id".into(), json!(event.org_unit_id));
    data.insert("actor_id".into(), json!(event.actor_id));
    if let Ok(Value::Object(own)) = serde_json::from_str::<Value>(&event.data) {
        for (k, v) in own {
            data.entry(k).or_insert(v);
        }
    }
    json!({
        "type": event.action,
        "timestamp": event.occurred_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
}

/// A success clears the webhook's failing streak; a failure starts one, and a streak as long
/// as the policy allows disables the webhook (event `webhook.disabled`).
fn health(
    conn: &mut DbConn,
    hook: WebhookRow,
    succeeded: bool,
    started: NaiveDateTime,
    policy: RetryPolicy,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    db::lock_row(conn, "webhooks", hook.id)?;
    let Some(hook) = queries::find(conn, Scope::All, hook.id)? else { return Ok(()) };
    let mut changes = WebhookChanges { version: hook.version + 1, updated_at: now, ..Default::default() };
    if succeeded {
        if hook.failing_since.is_none() {
            return Ok(());
        }
        changes.failing_since = Some(None);
    } else {
        let since = hook.failing_since.unwrap_or(started);
        let disable = now - since >= chrono::Duration::from_std(policy.disable_after()).unwrap_or_default();
        if hook.failing_since.is_some() && !disable {
            return Ok(());
        }
        changes.failing_since = Some(Some(since));
        if disable && hook.active {
            changes.active = Some(false);
            changes.disabled_at = Some(Some(now));
        }
    }
    let Some(after) = queries::update(conn, hook.id, hook.version, &changes)? else { return Ok(()) };
    if after.disabled_at.is_some() && hook.disabled_at.is_none() {
        audit::record(
            conn,
            &Actor::system(),
            Event::new(
                "webhook.disabled",
                "webhook",
                after.id,
                json!({"failing_since": since_text(after.failing_since), "url": after.url}),
            )
            .org_unit(after.org_unit_id),
        )?;
    }
    Ok(())
}

fn since_text(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}
