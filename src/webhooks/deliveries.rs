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

/// Sends a `webhook.test` event to this webhook only (an active one), through the outbox like any
/// other: its delivery shows in the log. Answers 202 with the delivery.
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

/// A webhook's deliveries, newest first, each with its attempts: HTTP status or error,
/// duration, attempt number and when the next one is due.
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

/// Queues a finished delivery (failed, or succeeded and wanted again) for another attempt now;
/// a pending one is 409. The `webhook-id` stays the same.
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
