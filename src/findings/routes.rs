//! `/api/v1/findings`: list with filters, create, read, change, history.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::json;

use super::api::{Derive, Finding, FindingPatch, NewFinding};
use super::edit::{self, check_references, Edit};
use super::model::FindingStatus;
use super::queries::{self, NewFindingRow};
use super::service::find_in_scope_by_id;
use crate::audit::{self, Event};
use crate::auth::{roles, AuthUser, Needs};
use crate::db::versioned::Need;
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::http::etag::ok_with_etag;
use crate::http::etag::IfMatchRequired;
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT, MAX_ORDINAL, SHORT_TEXT};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(super::list::list_findings)
        .service(create_finding)
        .service(super::bulk::bulk_update)
        .service(get_finding)
        .service(update_finding);
}

fn derive(state: &AppState) -> Derive {
    Derive { today: state.today(), thresholds: state.config.warnings }
}

fn seq_taken(e: AppError, seq: i32) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::Conflict(format!("seq {seq} is already used in this inspection")),
        other => other,
    }
}

/// Records a finding (inspector); it starts `open`.
///
/// Adds a finding (问题) to the ledger of `inspection_id` with status `open`; `seq` defaults to
/// the next number in the inspection. Writes `finding.created`. An `Idempotency-Key` replays the
/// first answer for 24 hours.
/// - Who: `inspector` or `admin`; the inspection must lie in the caller's org scope.
/// - 403: the caller holds neither role.
/// - 409: `seq` is already used in this inspection.
/// - 422: invalid fields (blank or over-long texts, control characters, `seq` outside
///   1–1,000,000); an `inspection_id` that is unknown or out of scope; a `section_id` not in that
///   inspection; a `responsible_unit_id` that does not exist or lies neither in the caller's scope
///   nor under the inspected unit (the same answer for both); a `responsible_leader_id` who is not
///   an active user able to see the inspection; an `Idempotency-Key` reused with another body.
#[utoipa::path(
    tag = "findings",
    request_body = NewFinding,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created", body = Finding, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings")]
pub async fn create_finding(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewFinding>,
) -> Result<HttpResponse, AppError> {
    let new = &body.data;
    let mut errors = Errors::new();
    let title = errors.text("title", &new.title, SHORT_TEXT);
    let description = errors.optional_text("description", new.description.as_deref(), LONG_TEXT);
    let measures = errors.optional_text("measures", new.measures.as_deref(), LONG_TEXT);
    if new.seq.is_some_and(|s| !(1..=MAX_ORDINAL).contains(&s)) {
        errors.add("seq", format!("must be from 1 to {MAX_ORDINAL}"));
    }
    errors.finish()?;
    let (inspection_id, section_id, seq) = (new.inspection_id, new.section_id, new.seq);
    let (unit, leader, due_on) = (new.responsible_unit_id, new.responsible_leader_id, new.due_on);
    let (actor, user_id, d) = (user.actor(), user.id, derive(&state));
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        // Lock the inspection: seq numbers are handed out one at a time.
        db::lock_row(conn, "inspections", inspection_id)?;
        let inspection = queries_inspection(conn, &user, inspection_id)?;
        ensure_editable(&inspection)?;
        check_references(conn, user.scope(), inspection_id, section_id, unit, leader)?;
        let seq = match seq {
            Some(s) => s,
            None => queries::next_seq(conn, inspection_id)?,
        };
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewFindingRow {
                inspection_id,
                section_id,
                seq,
                title,
                description,
                responsible_unit_id: unit,
                responsible_leader_id: leader,
                measures,
                due_on,
                status: FindingStatus::Open,
                long_term: false,
                reopen_count: 0,
                created_by: user_id,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|e| seq_taken(e, seq))?;
        let finding = Finding::from_row(row, d);
        audit::record(
            conn,
            &actor,
            Event::new("finding.created", "finding", finding.id, json!({"after": finding}))
                .inspection(inspection_id)
                .finding(finding.id),
        )?;
        Created::new(&finding, format!("/api/v1/findings/{}", finding.id), finding.version)
    })
    .await
}

/// The inspection named in a body: one out of scope reads as unknown (422, not 404: the URL exists).
fn queries_inspection(
    conn: &mut DbConn,
    user: &AuthUser,
    id: i64,
) -> Result<crate::inspections::queries::InspectionRow, AppError> {
    find_in_scope(conn, user, id).map_err(|e| match e {
        AppError::NotFound => AppError::invalid("inspection_id", "no such inspection"),
        other => other,
    })
}

/// One finding in the caller's scope.
///
/// Any role may read. A finding is in scope when its inspection's inspected or inspecting unit
/// is the caller's unit or a unit below it (admins see all). `overdue` and `warning_level` are
/// computed against today in the configured time zone. The `ETag` is the value for `If-Match`.
/// - 404: the id is unknown or the finding is out of scope.
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The finding", body = Finding, headers(("ETag" = String))),
    ),
)]
#[get("/findings/{id}")]
pub async fn get_finding(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id) = (user.scope(), id.into_inner());
    let row = state.db.run(move |conn| find_in_scope_by_id(conn, scope, id)).await?;
    let finding = Finding::from_row(row, derive(&state));
    Ok(ok_with_etag(finding.version, &finding))
}

/// Changes a finding's descriptive fields (inspector); needs `If-Match`.
///
/// Sets `title`, `description`, `section_id`, `responsible_unit_id`, `responsible_leader_id`,
/// `measures` and `due_on`: absent fields stay, `null` clears (a `null` `title` stays). Status, `seq` and the
/// derived fields are never set here (unknown fields are a 422). Allowed in every status. Writes
/// `finding.updated` with `before` and `after`.
/// - Who: `inspector` or `admin`, on a finding in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the id is unknown or out of scope.
/// - 409: a section it names was deleted at the same moment.
/// - 412: `If-Match` is stale; 428: `If-Match` is missing.
/// - 422: invalid fields (blank `title`, over-long texts, control characters); a `section_id`
///   not in the finding's inspection; a `responsible_unit_id` that does not exist or lies neither
///   in the caller's scope nor under the inspected unit (the same answer for both); a
///   `responsible_leader_id` who is not an active user able to see the inspection; a `due_on`
///   before the due date of an assignment of this finding that is not done.
#[utoipa::path(
    tag = "findings",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = FindingPatch,
    responses(
        (status = 200, description = "Updated", body = Finding, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/findings/{id}")]
pub async fn update_finding(
    state: web::Data<AppState>,
    user: Needs<{ roles::INSPECTOR }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<FindingPatch>,
) -> Result<HttpResponse, AppError> {
    let edit = Edit::validate(body.data, "")?;
    let (id, d) = (id.into_inner(), derive(&state));
    let finding = state.db.write(move |conn| edit::apply(conn, &user, id, &if_match, Need::Required, edit, d)).await?;
    Ok(ok_with_etag(finding.version, &finding))
}
