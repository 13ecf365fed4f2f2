//! `/api/v1/inspections`: list, create, read, change.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{Inspection, InspectionPatch, NewInspection};
use super::model::{validate_chain, InspectionFilter};
use super::queries::{self, InspectionChanges};
use super::service::{check_dates, check_units, ensure_editable, find_in_scope, prepare_new};
use crate::audit::{self, Event};
use crate::auth::{roles, ApprovalChain, AuthUser, Needs};
use crate::db;
use crate::db::versioned::{lock_and_load, Need};
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::etag::IfMatchRequired;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::pagination::{by_id, paginate, Page};
use crate::http::query::{ListQuery, PageQuery};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::state::AppState;
use crate::validate::{Errors, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_inspections)
        .service(create_inspection)
        .service(get_inspection)
        .service(update_inspection)
        .configure(super::sections::configure)
        .service(super::ledger::get_ledger);
}

/// Inspections in the caller's scope, by id.
///
/// An inspection is in scope when its inspected or its inspecting unit is the caller's unit
/// or lies below it; admins see all. Filters: `status` (repeatable or comma-separated),
/// `inspected_unit_id`, `inspecting_unit_id` (exact units, not subtrees). Reads only.
///
/// **Who:** any authenticated caller, every role.
///
/// **Errors:** 400 for an unknown or repeated query parameter, an unknown status or a
/// tampered cursor; 422 when `limit` is not 1–200.
#[utoipa::path(
    tag = "inspections",
    params(InspectionFilter, PageQuery),
    responses(
        (status = 200, description = "A page of inspections", body = Page<Inspection>),
        (status = 400, response = responses::BadRequest),
        (status = 422, response = responses::Unprocessable),
    ),
)]
#[get("/inspections")]
pub async fn list_inspections(
    state: web::Data<AppState>,
    user: AuthUser,
    q: ListQuery<InspectionFilter>,
) -> Result<HttpResponse, AppError> {
    let after = q.page.after_id(&state.cursor_key, "id")?;
    let (scope, limit, filter) = (user.scope(), q.page.limit, q.filter);
    let rows = state.db.run(move |conn| queries::list(conn, scope, &filter, after, limit + 1)).await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, &state.cursor_key, |r| by_id("id", r.id), Inspection::from)))
}

/// Creates an inspection (inspector).
///
/// The inspection starts `rectifying`, with the default approval chain `["leader",
/// "inspector"]` unless one is given. Its sections and findings are added afterwards, or use
/// `POST /api/v1/inspections/import` to create everything at once. Writes
/// `inspection.created`. Honours `Idempotency-Key`.
///
/// **Who:** inspectors and admins. Both units must exist and at least one of them must be the
/// caller's unit or lie below it (an inspection group inspects units outside its own
/// subtree).
///
/// **Errors:** 403 for other roles; 422 with every invalid field at once: `title` or
/// `inspecting_body` blank, longer than 500 characters or with control characters; `topic`
/// too long or with control characters; `ended_on` before `started_on`, `feedback_on` before `ended_on`,
/// `rectification_due_on` before `feedback_on`, or a date outside 1900–9999;
/// `approval_chain` not 1–5 steps of `leader`, `inspector` or `admin`; a unit id that names
/// no unit; neither unit in the caller's scope (on `inspected_unit_id`).
#[utoipa::path(
    tag = "inspections",
    request_body = NewInspection,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created", body = Inspection, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
    ),
)]
#[post("/inspections")]
pub async fn create_inspection(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewInspection>,
) -> Result<HttpResponse, AppError> {
    let row = prepare_new(&body.data, user.id, "")?;
    let (actor, scope) = (user.actor(), user.scope());
    idempotency::create(&state.db, user.id, key, &req, &body.raw, move |conn| {
        check_units(conn, scope, row.inspecting_unit_id, row.inspected_unit_id)?;
        let created = Inspection::from(queries::insert(conn, &row)?);
        audit::record(
            conn,
            &actor,
            Event::new("inspection.created", "inspection", created.id, json!({"after": created}))
                .inspection(created.id),
        )?;
        Created::new(&created, format!("/api/v1/inspections/{}", created.id), created.version)
    })
    .await
}

/// One inspection in the caller's scope.
///
/// Answers the inspection with `ETag: "<version>"` (send it as `If-Match` to change it).
/// Reads only.
///
/// **Who:** any authenticated caller whose scope holds the inspected or the inspecting unit;
/// admins for every inspection.
///
/// **Errors:** 404 when the id is unknown or the inspection lies outside the caller's scope.
#[utoipa::path(
    tag = "inspections",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The inspection", body = Inspection, headers(("ETag" = String))),
    ),
)]
#[get("/inspections/{id}")]
pub async fn get_inspection(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id) = (user.scope(), id.into_inner());
    let row = state.db.run(move |conn| queries::find(conn, scope, id)).await?.ok_or(AppError::NotFound)?;
    let inspection = Inspection::from(row);
    Ok(ok_with_etag(inspection.version, &inspection))
}

/// Changes an inspection (inspector); needs `If-Match`.
///
/// Absent fields stay; `null` clears `topic`, `feedback_on` and `rectification_due_on`. Allowed
/// in every status: the report of a published inspection stays as published (it is a
/// snapshot). A new `approval_chain` applies to closure and extension requests submitted
/// afterwards. Writes `inspection.updated` with the inspection before and after.
///
/// **Who:** inspectors and admins, on an inspection in their scope. New units must exist and
/// at least one of the two must lie in the caller's scope.
///
/// **Errors:** 403 for other roles; 404 when the id is unknown or out of scope; 409 when
/// `inspecting_unit_id` or `inspected_unit_id` would change while the inspection has findings
/// (its ledger would move out of its people's view); 412 when `If-Match` is stale; 428 when it
/// is missing; 422 for the field rules of creation, the date order checked against the stored
/// dates for fields left out.
#[utoipa::path(
    tag = "inspections",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = InspectionPatch,
    responses(
        (status = 200, description = "Updated", body = Inspection, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/inspections/{id}")]
pub async fn update_inspection(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<InspectionPatch>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let patch = body.data;
    let mut errors = Errors::new();
    let title = patch.title.as_deref().map(|t| errors.text("title", t, SHORT_TEXT));
    let inspecting_body = patch.inspecting_body.as_deref().map(|t| errors.text("inspecting_body", t, SHORT_TEXT));
    let topic = patch.topic.as_ref().map(|t| errors.optional_text("topic", t.as_deref(), SHORT_TEXT));
    if let Some(chain) = &patch.approval_chain {
        if let Err(m) = validate_chain(chain) {
            errors.add("approval_chain", m);
        }
    }
    errors.finish()?;
    let actor = user.actor();
    let updated = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::Required, |conn, id| find_in_scope(conn, &user, id))?;
            ensure_editable(&before)?;
            let mut errors = Errors::new();
            check_dates(
                &mut errors,
                patch.started_on.unwrap_or(before.started_on),
                patch.ended_on.unwrap_or(before.ended_on),
                patch.feedback_on.unwrap_or(before.feedback_on),
                patch.rectification_due_on.unwrap_or(before.rectification_due_on),
            );
            errors.finish()?;
            let repointed = patch.inspecting_unit_id.is_some_and(|u| u != before.inspecting_unit_id)
                || patch.inspected_unit_id.is_some_and(|u| u != before.inspected_unit_id);
            // Its findings, assignments and requests are seen through these units: moving them
            // would move the whole ledger out of its people's reach (contract §9.4).
            if repointed && queries::has_findings(conn, id)? {
                return Err(AppError::Conflict(
                    "the inspection has findings: its inspecting and inspected units can no longer change".into(),
                ));
            }
            if patch.inspecting_unit_id.is_some() || patch.inspected_unit_id.is_some() {
                check_units(
                    conn,
                    user.scope(),
                    patch.inspecting_unit_id.unwrap_or(before.inspecting_unit_id),
                    patch.inspected_unit_id.unwrap_or(before.inspected_unit_id),
                )?;
            }
            let changes = InspectionChanges {
                title,
                inspecting_body,
                inspecting_unit_id: patch.inspecting_unit_id,
                inspected_unit_id: patch.inspected_unit_id,
                topic,
                started_on: patch.started_on,
                ended_on: patch.ended_on,
                feedback_on: patch.feedback_on,
                rectification_due_on: patch.rectification_due_on,
                approval_chain: patch.approval_chain.clone().map(ApprovalChain),
                version: before.version + 1,
                updated_at: db::now(),
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let (before, after) = (Inspection::from(before), Inspection::from(after));
            audit::record(
                conn,
                &actor,
                Event::new("inspection.updated", "inspection", id, json!({"before": before, "after": after}))
                    .inspection(id),
            )?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(updated.version, &updated))
}
