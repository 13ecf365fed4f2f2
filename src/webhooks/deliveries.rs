//! A webhook's deliveries: the test event, the delivery log and manual retries.

use actix_web::{get, post, web, HttpResponse};
use serde_json::json;

use super::api::Delivery;
use super::queries;
use super::routes::{in_scope, Managers};
use crate::audit::{self, outbox, Event};
use crate::db;
use crate::error::{responses, AppError};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery};
use crate::state::AppState;

/// Sends a `webhook.test` event to this webhook only.
///
/// Records a `webhook.test` event and queues its delivery through the outbox like any other, so it
/// shows in the delivery log. Answers 202 with the delivery, `pending`.
/// - Who: `leader`, `inspector` or `admin`, on a webhook of a unit in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the id is unknown, deleted or out of scope.
/// - 409: the webhook is inactive.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path)),
    responses(
        (status = 202, description = "Queued", body = Delivery),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    user: Managers,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (id.into_inner(), user.actor());
    let delivery = state
        .db
        .write(move |conn| {
            let hook = in_scope(conn, &user, id)?;
            if !hook.active {
                return Err(AppError::Conflict("the webhook is inactive: activate it first".into()));
            }
            let event = audit::record(
                conn,
                &actor,
                Event::new("webhook.test", "webhook", id, json!({"message": "Rectify webhook test"}))
                    .org_unit(hook.org_unit_id),
            )?;
            let delivery_id = outbox::insert(conn, id, event)?;
            let (row, event_type) = queries::delivery(conn, id, delivery_id)?.ok_or(AppError::NotFound)?;
            Ok(Delivery::from_parts(row, event_type, Vec::new()))
        })
        .await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

/// A webhook's deliveries, newest first, each with its attempts.
///
/// Each attempt has its number, start, duration, the receiver's HTTP status or the error, and
/// when the next one is due.
/// - Who: `leader`, `inspector` or `admin`, on a webhook of a unit in their org scope.
/// - 403: the caller holds none of these roles.
/// - 400: an unknown or malformed parameter, or a tampered cursor.
/// - 404: the webhook is unknown, deleted or out of scope.
/// - 422: `limit` outside 1–200.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<Delivery>),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    user: Managers,
    id: web::Path<i64>,
    q: ListQuery<NoFilter>,
) -> Result<HttpResponse, AppError> {
    let before = q.page.decode(&state.cursor_key, "-id")?.map(|c| c.id);
    let (id, limit) = (id.into_inner(), q.page.limit);
    let (rows, attempts) = state
        .db
        .run(move |conn| {
            in_scope(conn, &user, id)?;
            let rows = queries::deliveries(conn, id, before, limit + 1)?;
            let ids: Vec<i64> = rows.iter().map(|(d, _)| d.id).collect();
            Ok((rows, queries::attempts(conn, &ids)?))
        })
        .await?;
    let page = paginate(
        rows,
        limit,
        &state.cursor_key,
        |(d, _)| by_id("-id", d.id),
        |(d, event_type)| {
            let own = attempts.iter().filter(|a| a.delivery_id == d.id).cloned().collect();
            Delivery::from_parts(d, event_type, own)
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Queues a finished delivery for another attempt now.
///
/// A `failed` delivery, or a `succeeded` one wanted again, becomes `pending` with its next attempt
/// due now; the `webhook-id` stays the same. Further failures continue the retry schedule where it
/// stood (one whose schedule was used up gets this one attempt), and on an inactive webhook the
/// attempt fails at once. Writes `webhook.delivery_retried`. Answers 202 with the delivery.
/// - Who: `leader`, `inspector` or `admin`, on a webhook of a unit in their org scope.
/// - 403: the caller holds none of these roles.
/// - 404: the webhook or the delivery (of this webhook) is unknown, or out of scope.
/// - 409 (`invalid-transition`): the delivery is still `pending`.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    responses(
        (status = 202, description = "Queued", body = Delivery),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    user: Managers,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let ((id, delivery_id), actor) = (path.into_inner(), user.actor());
    let delivery = state
        .db
        .write(move |conn| {
            let hook = in_scope(conn, &user, id)?;
            db::lock_row(conn, "webhook_deliveries", delivery_id)?;
            let (row, _) = queries::delivery(conn, id, delivery_id)?.ok_or(AppError::NotFound)?;
            row.status.retry()?;
            queries::requeue(conn, delivery_id, db::now())?;
            audit::record(
                conn,
                &actor,
                Event::new("webhook.delivery_retried", "webhook", id, json!({"delivery_id": delivery_id}))
                    .org_unit(hook.org_unit_id),
            )?;
            let (row, event_type) = queries::delivery(conn, id, delivery_id)?.ok_or(AppError::NotFound)?;
            let attempts = queries::attempts(conn, &[delivery_id])?;
            Ok(Delivery::from_parts(row, event_type, attempts))
        })
        .await?;
    Ok(HttpResponse::Accepted().json(delivery))
}
