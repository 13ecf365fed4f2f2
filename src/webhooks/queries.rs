//! Webhooks, their deliveries (the outbox) and the delivery attempts.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::model::DeliveryStatus;
use crate::auth::scope::visible_unit_ids;
use crate::auth::Scope;
use crate::db::schema::{audit_events, webhook_attempts as wa, webhook_deliveries as wd, webhooks as wh};
use crate::db::DbConn;
use crate::error::AppError;

/// A stored webhook.
#[derive(Debug, Clone, Queryable)]
pub struct WebhookRow {
    pub id: i64,
    pub org_unit_id: i64,
    pub url: String,
    pub event_types: String,
    pub description: Option<String>,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::versioned!(WebhookRow, "webhooks");

crate::columns!(pub COLUMNS: Columns = wh {
    id,
    org_unit_id,
    url,
    event_types,
    description,
    active,
    secret,
    previous_secret,
    previous_secret_until,
    failing_since,
    disabled_at,
    deleted_at,
    created_by,
    version,
    created_at,
    updated_at,
});

/// One webhook that is not deleted, if its unit lies in `scope`.
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> Result<Option<WebhookRow>, AppError> {
    let mut q = wh::table.filter(wh::id.eq(id)).filter(wh::deleted_at.is_null()).select(COLUMNS).into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(wh::org_unit_id.eq_any(visible_unit_ids(unit)));
    }
    Ok(q.first(conn).optional()?)
}

/// A page of webhooks in `scope`, by id.
pub fn list(conn: &mut DbConn, scope: Scope, after: i64, limit: i64) -> Result<Vec<WebhookRow>, AppError> {
    let mut q = wh::table
        .filter(wh::deleted_at.is_null())
        .filter(wh::id.gt(after))
        .select(COLUMNS)
        .order(wh::id.asc())
        .into_boxed();
    if let Scope::Unit(unit) = scope {
        q = q.filter(wh::org_unit_id.eq_any(visible_unit_ids(unit)));
    }
    Ok(q.limit(limit).load(conn)?)
}

/// A webhook to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = wh)]
pub struct NewWebhookRow {
    pub org_unit_id: i64,
    pub url: String,
    pub event_types: String,
    pub description: Option<String>,
    pub active: bool,
    pub secret: String,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NewWebhookRow) -> Result<WebhookRow, AppError> {
    Ok(diesel::insert_into(wh::table).values(row).returning(COLUMNS).get_result(conn)?)
}

/// Columns a change may set, plus the version bump.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = wh)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub event_types: Option<String>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
    pub secret: Option<String>,
    pub previous_secret: Option<Option<String>>,
    pub previous_secret_until: Option<Option<NaiveDateTime>>,
    pub failing_since: Option<Option<NaiveDateTime>>,
    pub disabled_at: Option<Option<NaiveDateTime>>,
    pub deleted_at: Option<Option<NaiveDateTime>>,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

crate::versioned_update! {
    /// Applies `changes` when the stored version is still `expected`.
    pub fn update(wh, WebhookChanges) -> WebhookRow
}

/// A stored delivery.
#[derive(Debug, Clone, Queryable, QueryableByName)]
pub struct DeliveryRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub webhook_id: i64,
    #[diesel(sql_type = BigInt)]
    pub event_id: i64,
    #[diesel(sql_type = Text)]
    pub status: DeliveryStatus,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamp>)]
    pub next_attempt_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamp>)]
    pub locked_until: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub lease: Option<String>,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    pub updated_at: NaiveDateTime,
}

crate::columns!(pub DELIVERY_COLUMNS: DeliveryColumns = wd {
    id,
    webhook_id,
    event_id,
    status,
    attempts,
    next_attempt_at,
    locked_until,
    lease,
    created_at,
    updated_at,
});

/// A stored attempt.
#[derive(Debug, Clone, Queryable)]
pub struct AttemptRow {
    pub delivery_id: i64,
    pub attempt: i32,
    pub started_at: NaiveDateTime,
    pub duration_ms: i64,
    pub http_status: Option<i32>,
    pub error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
}

crate::columns!(ATTEMPT_COLUMNS: AttemptColumns = wa {
    delivery_id,
    attempt,
    started_at,
    duration_ms,
    http_status,
    error,
    next_attempt_at,
});

/// A page of a webhook's deliveries, newest first, with each one's event type.
pub fn deliveries(
    conn: &mut DbConn,
    webhook_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(DeliveryRow, String)>, AppError> {
    let mut q = wd::table
        .inner_join(audit_events::table)
        .filter(wd::webhook_id.eq(webhook_id))
        .select((DELIVERY_COLUMNS, audit_events::action))
        .order(wd::id.desc())
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(wd::id.lt(b));
    }
    Ok(q.limit(limit).load(conn)?)
}

/// The attempts of some deliveries, in order.
pub fn attempts(conn: &mut DbConn, delivery_ids: &[i64]) -> Result<Vec<AttemptRow>, AppError> {
    Ok(wa::table
        .filter(wa::delivery_id.eq_any(delivery_ids))
        .select(ATTEMPT_COLUMNS)
        .order((wa::delivery_id.asc(), wa::attempt.asc()))
        .load(conn)?)
}

/// One delivery of a webhook.
pub fn delivery(conn: &mut DbConn, webhook_id: i64, id: i64) -> Result<Option<(DeliveryRow, String)>, AppError> {
    Ok(wd::table
        .inner_join(audit_events::table)
        .filter(wd::webhook_id.eq(webhook_id))
        .filter(wd::id.eq(id))
        .select((DELIVERY_COLUMNS, audit_events::action))
        .first(conn)
        .optional()?)
}

/// Queues a finished delivery again, due now.
pub fn requeue(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(wd::table.filter(wd::id.eq(id)).filter(wd::status.ne(DeliveryStatus::Pending)))
        .set((
            wd::status.eq(DeliveryStatus::Pending),
            wd::next_attempt_at.eq(Some(now)),
            wd::locked_until.eq(None::<NaiveDateTime>),
            wd::lease.eq(None::<String>),
            wd::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// `true` when a delivery is due (read-only: the dispatcher takes a write lock only then).
pub fn any_due(conn: &mut DbConn, now: NaiveDateTime) -> Result<bool, AppError> {
    Ok(diesel::dsl::select(diesel::dsl::exists(
        wd::table
            .filter(wd::status.eq(DeliveryStatus::Pending))
            .filter(wd::next_attempt_at.le(now))
            .filter(wd::locked_until.is_null().or(wd::locked_until.lt(now))),
    ))
    .get_result(conn)?)
}

/// Claims up to `limit` due deliveries for this dispatcher: each gets a lease (`lease`,
/// valid until `until`) and its attempt is counted now, so a crash mid-send still counts.
/// On PostgreSQL concurrent claimers skip each other's rows (`FOR UPDATE SKIP LOCKED`);
/// on SQLite the write transaction (BEGIN IMMEDIATE) serialises them.
pub fn claim(
    conn: &mut DbConn,
    lease: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<DeliveryRow>, AppError> {
    // Placeholders first appear in numeric order: SQLite numbers `$n` by first appearance.
    let lock = if matches!(conn, DbConn::Postgres(_)) { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE webhook_deliveries SET locked_until = $1, lease = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = $4 AND next_attempt_at <= $3 \
         AND (locked_until IS NULL OR locked_until < $3) ORDER BY next_attempt_at, id LIMIT $5 {lock}) \
         RETURNING id, webhook_id, event_id, status, attempts, next_attempt_at, locked_until, lease, \
         created_at, updated_at"
    );
    Ok(diesel::sql_query(sql)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(lease)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(DeliveryStatus::Pending)
        .bind::<BigInt, _>(limit)
        .load(conn)?)
}

/// Records an attempt and the delivery's new state, if the lease is still this dispatcher's.
pub fn finish_attempt(
    conn: &mut DbConn,
    delivery: &DeliveryRow,
    lease: &str,
    attempt: &AttemptRow,
    status: DeliveryStatus,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let n = diesel::update(wd::table.filter(wd::id.eq(delivery.id)).filter(wd::lease.eq(lease)))
        .set((
            wd::status.eq(status),
            wd::next_attempt_at.eq(attempt.next_attempt_at),
            wd::locked_until.eq(None::<NaiveDateTime>),
            wd::lease.eq(None::<String>),
            wd::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(wa::table)
        .values((
            wa::delivery_id.eq(attempt.delivery_id),
            wa::attempt.eq(attempt.attempt),
            wa::started_at.eq(attempt.started_at),
            wa::duration_ms.eq(attempt.duration_ms),
            wa::http_status.eq(attempt.http_status),
            wa::error.eq(&attempt.error),
            wa::next_attempt_at.eq(attempt.next_attempt_at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Pending deliveries (the outbox backlog) and the oldest one's creation time.
pub fn backlog(conn: &mut DbConn) -> Result<(i64, Option<NaiveDateTime>), AppError> {
    let pending = wd::table.filter(wd::status.eq(DeliveryStatus::Pending));
    let n = pending.count().get_result(conn)?;
    let oldest = pending.select(diesel::dsl::min(wd::created_at)).first(conn)?;
    Ok((n, oldest))
}
