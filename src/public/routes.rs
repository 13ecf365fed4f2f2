//! Anonymous endpoints: published inspections, their frozen report, feedback intake.

use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};

use super::api::PublicInspection;
use crate::error::{responses, AppError};
use crate::feedback::api::{FeedbackReceipt, NewPublicFeedback};
use crate::feedback::model::FeedbackStatus;
use crate::feedback::queries as feedback;
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, NoFilter, PageQuery, Query};
use crate::http::Json;
use crate::state::AppState;

use crate::inspections::queries as inspections;
use crate::reports::api::ReportQuery;
use crate::reports::model::ReportModel;
use crate::reports::queries::unit_name;
use crate::reports::render::rendered;
use crate::validate::Errors;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_published).service(published_report).service(send_feedback);
}

/// Published inspections, by id.
///
/// Lists every published inspection (整改情况公布), whatever its unit, with only what its
/// report shows: title, inspecting body, the inspected unit's name, topic, feedback date and
/// publication time. Reads only.
///
/// **Who:** anyone, without a token. Not rate limited.
///
/// **Errors:** 400 for an unknown or repeated query parameter or a tampered cursor; 422 when
/// `limit` is not 1–200.
#[utoipa::path(
    tag = "public",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of published inspections", body = Page<PublicInspection>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    )
)]
#[get("/inspections")]
pub async fn list_published(state: web::Data<AppState>, q: ListQuery<NoFilter>) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "public")?;
    let limit = q.page.limit;
    let items = state
        .db
        .run(move |conn| {
            let rows = inspections::published_page(conn, after, limit + 1)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(PublicInspection {
                    id: r.id,
                    title: r.title,
                    inspecting_body: r.inspecting_body,
                    inspected_unit: unit_name(conn, r.inspected_unit_id)?,
                    topic: r.topic,
                    feedback_on: r.feedback_on,
                    published_at: r.published_at.unwrap_or(r.updated_at).and_utc(),
                });
            }
            Ok(out)
        })
        .await?;
    let page = paginate(items, limit, &state.cursor_key, |i| by_id("public", i.id), |i| i);
    Ok(HttpResponse::Ok().json(page))
}

/// The report as published (frozen at publication).
///
/// Renders the snapshot stored when the inspection was published, in the fixed structure of
/// a published rectification report (整改情况): the summary sentence, then each category,
/// aspect and problem with its 整改情况. Work done since (a look-back that reopens a finding,
/// say) does not change it. `format`: `markdown` (default), `html` or `text`. Reads only.
///
/// **Who:** anyone, without a token.
///
/// **Errors:** 404 when the id is unknown or the inspection is not published; 400 for an
/// unknown `format` or query parameter.
#[utoipa::path(
    tag = "public",
    params(
        ("id" = i64, Path),
        ReportQuery,
    ),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/markdown"),
            (String = "text/html"),
            (String = "text/plain"),
        )),
    )
)]
#[get("/inspections/{id}/report")]
pub async fn published_report(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let format = q.0.format;
    let id = id.into_inner();
    let (_, snapshot) = state.db.run(move |conn| inspections::published(conn, id)).await?.ok_or(AppError::NotFound)?;
    let model: ReportModel = serde_json::from_str(&snapshot)?;
    Ok(rendered(&model, format))
}

/// Sends feedback on a published report (anonymous, rate limited).
///
/// Stores the feedback as `new` for the staff who see the inspection to triage (`GET
/// /api/v1/feedback`) and answers 202 with a receipt. `contact` is personal data: only
/// leaders and admins see it, and it stays out of the audit trail. Writes
/// `feedback.received` with no actor and the content only.
///
/// **Who:** anyone, without a token.
///
/// **Errors:** 429 with `Retry-After` when the client address has used its quota
/// (`RECTIFY_FEEDBACK_PER_MINUTE`, default 5 a minute, for the whole deployment; every
/// attempt counts, checked before the body is read); 404 when the id is unknown or the inspection is not
/// published; 400, 413, 415 for a malformed, too large or non-JSON body; 422 when `content`
/// is blank, longer than 2000 characters or holds control characters, or `contact` is
/// longer than 200 characters or holds control characters, or a field is unknown.
#[utoipa::path(
    tag = "public",
    params(("id" = i64, Path)),
    request_body = NewPublicFeedback,
    responses(
        (status = 202, description = "Received", body = FeedbackReceipt),
        (status = 429, response = responses::TooManyRequests),
    )
)]
#[post("/inspections/{id}/feedback")]
pub async fn send_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Every attempt counts, malformed ones too: the limit comes before the body is read.
    state.feedback_limiter.check(&req).await?;
    let body: Json<NewPublicFeedback> = crate::http::json::read(&req, payload.into_inner()).await?;
    let mut errors = Errors::new();
    let content = errors.text("content", &body.data.content, 2000);
    let contact = errors.optional_text("contact", body.data.contact.as_deref(), 200);
    errors.finish()?;
    let id = id.into_inner();
    let request_id = req.extensions().get::<crate::telemetry::RequestId>().map(|r| r.0.clone());
    let actor = crate::audit::Actor { user_id: None, request_id };
    let row = state
        .db
        .write(move |conn| {
            inspections::published(conn, id)?.ok_or(AppError::NotFound)?;
            let row = feedback::insert(conn, id, &content, contact.as_deref(), crate::db::now())?;
            // Anonymous: no actor. The contact stays out of the audit trail.
            crate::audit::record(
                conn,
                &actor,
                crate::audit::Event::new(
                    "feedback.received",
                    "feedback",
                    row.id,
                    serde_json::json!({"content": row.content}),
                )
                .inspection(id),
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(FeedbackReceipt {
        id: row.id,
        status: FeedbackStatus::New,
        received_at: row.created_at.and_utc(),
    }))
}
