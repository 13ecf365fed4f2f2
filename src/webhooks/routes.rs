//! `/api/v1/webhooks`: subscriptions, their secrets, test events and the delivery log.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{NewWebhook, Webhook, WebhookPatch, WebhookWithSecret};
use super::queries::{self, NewWebhookRow, WebhookChanges, WebhookRow};
use super::signature::WebhookSecret;
use super::ssrf;
use crate::audit::{self, catalog, Event};
use crate::auth::{roles, Needs};
use crate::auth::{scope, AuthUser};
use crate::db::versioned::{lock_and_load, Need};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::http::etag::{ok_with_etag, IfMatchOptional, IfMatchRequired};
use crate::http::idempotency::{self, Created, IdempotencyKeyHeader};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::state::AppState;
use crate::validate::{Errors, SHORT_TEXT};

/// How long the secret before a rotation still signs.
const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Webhooks are managed by admins, and by leaders and inspectors within their scope.
/// Who manages webhooks (checked before the body is read).
pub(super) type Managers = Needs<{ roles::LEADER | roles::INSPECTOR }>;

pub(super) fn in_scope(conn: &mut DbConn, user: &AuthUser, id: i64) -> Result<WebhookRow, AppError> {
    queries::find(conn, user.scope(), id)?.ok_or(AppError::NotFound)
}

/// Checks a target URL: http(s), and no loopback, link-local or private address, by literal
/// or by what the name resolves to (unless private targets are allowed). Resolving blocks:
/// call it on the blocking pool.
fn check_url(errors: &mut Errors, url: &str, allow_private: bool) -> String {
    let url = url.trim();
    if url.chars().count() > 2000 {
        errors.add("url", "must be at most 2000 characters");
        return url.to_owned();
    }
    let checked = ssrf::check_url(url, allow_private).and_then(|u| {
        let host = u.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        ssrf::resolve_checked(&host, u.port_or_known_default().unwrap_or(443), allow_private).map(|_| u)
    });
    match checked {
        Ok(u) => u.to_string(),
        Err(m) => {
            errors.add("url", m);
            url.to_owned()
        }
    }
}

/// Checks and normalises the event type patterns: 1–50 of them, each known.
fn check_types(errors: &mut Errors, types: &[String]) -> String {
    if types.is_empty() || types.len() > 50 {
        errors.add("event_types", "must name 1 to 50 event types or patterns");
    }
    let mut out: Vec<&str> = Vec::new();
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str();
        if !catalog::is_valid_pattern(t) {
            errors.add(format!("event_types[{i}]"), format!("`{t}` is not an event type, a `prefix.*` or `*`"));
        } else if !out.contains(&t) {
            out.push(t);
        }
    }
    out.join(",")
}

/// Subscribes a URL to events (admin; leaders and inspectors for their unit's subtree).
///
/// Answers 201 with the webhook and its `secret` (`whsec_…`), shown this once. The webhook
/// receives the events that a user of `org_unit_id` (default: the caller's unit) sees in
/// `/api/v1/events` and whose type matches `event_types`, POSTed and signed per Standard
/// Webhooks. Writes `webhook.created` (without the secret). An `Idempotency-Key` replays the
/// first answer, secret included, for 24 hours.
/// - Who: `leader`, `inspector` or `admin`; `org_unit_id` must lie in the caller's org scope.
/// - 403: the caller holds none of these roles.
/// - 422: a `url` that is not `http`/`https`, is longer than 2,000 characters, or names or
///   resolves to a loopback, link-local or private address (unless the service allows private
///   targets); `event_types` empty, more than 50, or naming an unknown type or prefix; a
///   `description` longer than 500 characters; an `org_unit_id` unknown or out of scope; an
///   `Idempotency-Key` reused with another body.
#[utoipa::path(
    tag = "webhooks",
    request_body = NewWebhook,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created; keep the secret", body = WebhookWithSecret, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
    ),
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    user: Managers,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewWebhook>,
) -> Result<HttpResponse, AppError> {
    let new = &body.data;
    let mut errors = Errors::new();
    let description = errors.optional_text("description", new.description.as_deref(), SHORT_TEXT);
    let event_types = check_types(&mut errors, &new.event_types);
    let (raw_url, allow_private) = (new.url.clone(), state.config.webhooks.allow_private);
    let url = web::block(move || {
        let mut e = Errors::new();
        let url = check_url(&mut e, &raw_url, allow_private);
        (url, e)
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))?;
    let (url, url_errors) = url;
    for e in url_errors.into_inner() {
        errors.add(e.field, e.message);
    }
    let (unit, active, user_id) = (new.org_unit_id.unwrap_or(user.org_unit_id), new.active.unwrap_or(true), user.id);
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        // `unit_visible`, not `unit_in_scope`: for an admin an unknown unit is a 422 too, not
        // a foreign-key 409 (found by schemathesis).
        if !scope::unit_visible(conn, user.scope(), unit)? {
            errors.add("org_unit_id", "no such org unit");
        }
        errors.finish()?;
        let secret = WebhookSecret::generate().to_string_secret();
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewWebhookRow {
                org_unit_id: unit,
                url,
                event_types,
                description,
                active,
                secret: secret.clone(),
                created_by: Some(user.id),
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let webhook = Webhook::from(row);
        audit::record(
            conn,
            &user.actor(),
            Event::new("webhook.created", "webhook", webhook.id, json!({"after": webhook})).org_unit(unit),
        )?;
        let (id, version) = (webhook.id, webhook.version);
        Created::new(WebhookWithSecret { webhook, secret }, format!("/api/v1/webhooks/{id}"), version)
    })
    .await
}

/// Webhooks of units in the caller's scope, by id (admin; leaders and inspectors).
///
/// Secrets are never shown; deleted webhooks are not listed.
/// - Who: `leader`, `inspector` or `admin`; admins see all, others the webhooks of their unit
///   and the units below it.
/// - 400: an unknown or malformed parameter, or a tampered cursor.
/// - 403: the caller holds none of these roles.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "webhooks",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of webhooks", body = Page<Webhook>),
        (status = 400, response = responses::BadRequest),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    user: Managers,
    q: ListQuery<NoFilter>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (scope, limit) = (user.scope(), q.page.limit);
    let rows = state.db.run(move |conn| queries::list(conn, scope, after, limit + 1)).await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), Webhook::from)))
}

/// One webhook (admin; leaders and inspectors in scope).
///
/// The secret is never shown. The `ETag` is the value for `If-Match`.
/// - Who: `leader`, `inspector` or `admin`, on a webhook of a unit in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the id is unknown, deleted or out of scope.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The webhook", body = Webhook, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
    ),
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    user: Managers,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let row = state.db.run(move |conn| in_scope(conn, &user, id)).await?;
    Ok(ok_with_etag(row.version, &Webhook::from(row)))
}

/// Changes a webhook's URL, event types, description or `active`; needs `If-Match`.
///
/// Absent fields stay; `description: null` clears. `active: true` on an inactive webhook also
/// clears its failing streak (`failing_since`, `disabled_at`); while inactive it receives nothing
/// and its pending deliveries fail at their next attempt. Writes `webhook.updated`.
/// - Who: `leader`, `inspector` or `admin`, on a webhook of a unit in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the id is unknown, deleted or out of scope.
/// - 412: `If-Match` is stale; 428: `If-Match` is missing.
/// - 422: `url`, `event_types` or `description` refused as on creation.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = WebhookPatch,
    responses(
        (status = 200, description = "Updated", body = Webhook, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    user: Managers,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<WebhookPatch>,
) -> Result<HttpResponse, AppError> {
    let patch = body.data;
    let allow_private = state.config.webhooks.allow_private;
    let checked = web::block(move || {
        let mut errors = Errors::new();
        let url = patch.url.as_deref().map(|u| check_url(&mut errors, u, allow_private));
        let types = patch.event_types.as_deref().map(|t| check_types(&mut errors, t));
        let description =
            patch.description.as_ref().map(|d| errors.optional_text("description", d.as_deref(), SHORT_TEXT));
        errors.finish().map(|_| (url, types, description, patch.active))
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))??;
    let (url, event_types, description, active) = checked;
    let (id, actor) = (id.into_inner(), user.actor());
    let webhook = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::Required, |conn, id| in_scope(conn, &user, id))?;
            let now = db::now();
            let reactivated = active == Some(true) && !before.active;
            let changes = WebhookChanges {
                url,
                event_types,
                description,
                active,
                failing_since: reactivated.then_some(None),
                disabled_at: reactivated.then_some(None),
                version: before.version + 1,
                updated_at: now,
                ..Default::default()
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let (before, after) = (Webhook::from(before), Webhook::from(after));
            audit::record(
                conn,
                &actor,
                Event::new("webhook.updated", "webhook", id, json!({"before": before, "after": after}))
                    .org_unit(after.org_unit_id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(webhook.version, &webhook))
}

/// Deletes a webhook; its delivery log stays. Honours `If-Match`.
///
/// Answers 204. The webhook receives nothing more (pending deliveries fail at their next
/// attempt) and no longer appears in reads. Writes `webhook.deleted`.
/// - Who: `leader`, `inspector` or `admin`, on a webhook of a unit in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the id is unknown, already deleted or out of scope.
/// - 412: `If-Match` is stale.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = responses::Forbidden),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    user: Managers,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| in_scope(conn, &user, id))?;
            let now = db::now();
            let changes = WebhookChanges {
                active: Some(false),
                deleted_at: Some(Some(now)),
                version: before.version + 1,
                updated_at: now,
                ..Default::default()
            };
            queries::update(conn, id, before.version, &changes)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let unit = before.org_unit_id;
            audit::record(
                conn,
                &actor,
                Event::new("webhook.deleted", "webhook", id, json!({"before": Webhook::from(before)})).org_unit(unit),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Issues a new signing secret, shown this once. Honours `If-Match`.
///
/// For 24 hours deliveries carry two signatures, one with each secret, so the receiver can switch
/// without losing events (`previous_secret_expires_at`); only the secret just replaced signs
/// along, so a second rotation ends the older one at once. Writes `webhook.secret_rotated`.
/// - Who: `leader`, `inspector` or `admin`, on a webhook of a unit in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the id is unknown, deleted or out of scope.
/// - 412: `If-Match` is stale.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 200, description = "The webhook with its new secret", body = WebhookWithSecret, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    user: Managers,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    let rotated = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| in_scope(conn, &user, id))?;
            let secret = WebhookSecret::generate().to_string_secret();
            let now = db::now();
            let until = now + ROTATION_OVERLAP;
            let changes = WebhookChanges {
                secret: Some(secret.clone()),
                previous_secret: Some(Some(before.secret.clone())),
                previous_secret_until: Some(Some(until)),
                version: before.version + 1,
                updated_at: now,
                ..Default::default()
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let webhook = Webhook::from(after);
            audit::record(
                conn,
                &actor,
                Event::new(
                    "webhook.secret_rotated",
                    "webhook",
                    id,
                    json!({"previous_secret_expires_at": until.and_utc()}),
                )
                .org_unit(webhook.org_unit_id),
            )?;
            Ok(WebhookWithSecret { webhook, secret })
        })
        .await?;
    Ok(ok_with_etag(rotated.webhook.version, &rotated))
}
