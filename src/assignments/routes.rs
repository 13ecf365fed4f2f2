//! Assignments: create on a finding, list, read, change, claim, complete.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde_json::json;

use super::api::{Assignment, AssignmentPatch, CompleteAssignment, NewAssignment};
use super::model::{AssignmentAction, AssignmentStatus};
use super::queries::{self, AssignmentChanges, NewAssignmentRow};
use super::service::assignment_in_scope;
use crate::audit::{self, Event};
use crate::auth::{roles, scope, AuthUser, Needs, Role, RoleSet, Scope};
use crate::db::schema::users;
use crate::db::versioned::{lock_and_load, Need};
use crate::db::{self, DbConn};
use crate::error::{responses, AppError};
use crate::findings::model::FindingAction;
use crate::findings::queries::FindingRow;
use crate::findings::service::find_in_scope_by_id;
use crate::findings::workflow;
use crate::http::etag::ok_with_etag;
use crate::http::etag::{IfMatchOptional, IfMatchRequired};
use crate::http::idempotency::IdempotencyKeyHeader;
use crate::http::idempotency::{self, Created};
use crate::http::{IdempotencyKey, IfMatch, Json};
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::orgs::queries as orgs;
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT, SHORT_TEXT};
use diesel::prelude::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_assignment)
        .service(super::list::list_finding_assignments)
        .service(super::list::list_assignments)
        .service(get_assignment)
        .service(update_assignment)
        .service(claim_assignment)
        .service(complete_assignment)
        .configure(super::progress::configure);
}

/// An assignment's deadline may not run past its finding's.
fn check_due(errors: &mut Errors, due_on: NaiveDate, finding: &FindingRow) {
    if let Some(limit) = finding.due_on {
        if due_on > limit {
            errors.add("due_on", format!("must not be after the finding's due_on ({limit})"));
        }
    }
}

/// The assignee must be an active officer or leader of the responsible unit or a unit below it, and must
/// see the inspection (scope follows the inspection), or they could never complete it.
fn check_assignee(conn: &mut DbConn, assignee: i64, unit: i64, inspection_id: i64) -> Result<(), AppError> {
    let found: Option<(i64, bool, RoleSet)> = users::table
        .filter(users::id.eq(assignee))
        .select((users::org_unit_id, users::active, users::roles))
        .first(conn)
        .optional()?;
    match found {
        Some((user_unit, true, roles)) => {
            if !(roles.contains(Role::Officer) || roles.contains(Role::Leader)) {
                // The people who may claim work (contract §6) are the ones who may be given it.
                Err(AppError::invalid("assignee_id", "the user is neither an officer nor a leader, who take on work"))
            } else if !scope::unit_in_scope(conn, Scope::Unit(unit), user_unit)? {
                Err(AppError::invalid("assignee_id", "the user does not belong to the responsible unit"))
            } else if !scope::inspection_in_scope(conn, Scope::Unit(user_unit), inspection_id)? {
                Err(AppError::invalid("assignee_id", "the user's unit cannot see this inspection"))
            } else {
                Ok(())
            }
        }
        _ => Err(AppError::invalid("assignee_id", "no such active user")),
    }
}

/// Whether a user's unit is `unit` or below it.
fn belongs_to(conn: &mut DbConn, user: i64, unit: i64) -> Result<bool, AppError> {
    let user_unit: i64 = users::table.filter(users::id.eq(user)).select(users::org_unit_id).first(conn)?;
    scope::unit_in_scope(conn, Scope::Unit(unit), user_unit)
}

/// The responsible unit must exist and see the inspection: its people claim and complete the work.
fn check_unit(errors: &mut Errors, conn: &mut DbConn, unit: i64, inspection_id: i64) -> Result<(), AppError> {
    if !orgs::exists(conn, unit)? {
        errors.add("responsible_unit_id", "no such org unit");
    } else if !scope::inspection_in_scope(conn, Scope::Unit(unit), inspection_id)? {
        errors.add(
            "responsible_unit_id",
            "this unit cannot see the inspection: choose the inspected unit, or a unit above it",
        );
    }
    Ok(())
}

fn event(action: &'static str, a: &Assignment, finding: &FindingRow, data: serde_json::Value) -> Event {
    Event::new(action, "assignment", a.id, data).inspection(finding.inspection_id).finding(finding.id)
}

/// Splits a finding into an assignment (leader).
///
/// Creates an assignment (任务) on the finding: `unassigned` to be claimed, or `assigned` at once
/// when `assignee_id` is given. The first assignment moves an `open` finding to `in_progress`;
/// `blocked` findings take assignments and stay blocked. Writes `assignment.created` (with the
/// finding's status change). An `Idempotency-Key` replays the first answer for 24 hours.
/// - Who: `leader` or `admin`, on a finding in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the finding is unknown or out of scope.
/// - 409 (`invalid-transition`): the finding is `pending_closure` or `closed`.
/// - 422: invalid fields (blank `title`, over-long texts, control characters); `due_on` after
///   the finding's `due_on`; a `responsible_unit_id` that does not exist or cannot see the
///   inspection (it must be the inspected or inspecting unit or a unit above one of them); an
///   `assignee_id` who is not an active `officer` or `leader` of the responsible unit or a unit
///   below it, or whose unit cannot see the inspection; an `Idempotency-Key` reused with another
///   body.
#[utoipa::path(
    tag = "assignments",
    params(
        ("id" = i64, Path, description = "The finding"),
        IdempotencyKeyHeader,
    ),
    request_body = NewAssignment,
    responses(
        (status = 201, description = "Created", body = Assignment, headers(("ETag" = String), ("Location" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
    ),
)]
#[post("/findings/{id}/assignments")]
pub async fn create_assignment(
    state: web::Data<AppState>,
    user: Needs<{ roles::LEADER }>,
    req: HttpRequest,
    key: IdempotencyKey,
    id: web::Path<i64>,
    body: Json<NewAssignment>,
) -> Result<HttpResponse, AppError> {
    let new = &body.data;
    let mut errors = Errors::new();
    let title = errors.text("title", &new.title, SHORT_TEXT);
    let measures = errors.optional_text("measures", new.measures.as_deref(), LONG_TEXT);
    errors.finish()?;
    let (finding_id, unit, assignee, due_on) = (id.into_inner(), new.responsible_unit_id, new.assignee_id, new.due_on);
    let (actor, user_id, today) = (user.actor(), user.id, state.today());
    idempotency::create(&state.db, user_id, key, &req, &body.raw, move |conn| {
        db::lock_row(conn, "findings", finding_id)?;
        let finding = find_in_scope_by_id(conn, user.scope(), finding_id)?;
        ensure_editable(&find_in_scope(conn, &user, finding.inspection_id)?)?;
        let mut errors = Errors::new();
        check_due(&mut errors, due_on, &finding);
        check_unit(&mut errors, conn, unit, finding.inspection_id)?;
        errors.finish()?;
        if let Some(a) = assignee {
            check_assignee(conn, a, unit, finding.inspection_id)?;
        }
        let (finding_after, from) = workflow::transition(conn, &finding, FindingAction::Assign, |_| {})?;
        let now = db::now();
        let row = queries::insert(
            conn,
            &NewAssignmentRow {
                finding_id,
                title,
                measures,
                responsible_unit_id: unit,
                assignee_id: assignee,
                due_on,
                status: if assignee.is_some() { AssignmentStatus::Assigned } else { AssignmentStatus::Unassigned },
                claimed_at: assignee.map(|_| now),
                created_by: user_id,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let created = Assignment::from_row(row, today);
        let data = json!({"after": created, "finding_status": {"from": from, "to": finding_after.status}});
        audit::record(conn, &actor, event("assignment.created", &created, &finding, data))?;
        Created::new(&created, format!("/api/v1/assignments/{}", created.id), created.version)
    })
    .await
}

/// One assignment in the caller's scope.
///
/// Any role may read; an assignment is in scope when its finding is. `overdue` is computed
/// against today in the configured time zone. The `ETag` is the value for `If-Match`.
/// - 404: the id is unknown or out of scope.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The assignment", body = Assignment, headers(("ETag" = String))),
    ),
)]
#[get("/assignments/{id}")]
pub async fn get_assignment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (scope, id) = (user.scope(), id.into_inner());
    let row = state.db.run(move |conn| assignment_in_scope(conn, scope, id)).await?;
    let a = Assignment::from_row(row, state.today());
    Ok(ok_with_etag(a.version, &a))
}

/// Changes an assignment or its assignee (leader); needs `If-Match`.
///
/// Absent fields stay; `measures: null` clears. `assignee_id` set to a user (re)assigns it
/// (`assigned`, `claimed_at` now) and writes `assignment.assigned`; `assignee_id: null` hands it
/// back to the pool (`unassigned`) and writes `assignment.unassigned`; any other change writes
/// `assignment.updated`. Every event carries `before` and `after`.
/// - Who: `leader` or `admin`, on an assignment in their org scope.
/// - 403: the caller holds neither role.
/// - 404: the id is unknown or out of scope.
/// - 409 (`invalid-transition`): the assignment is `done` (final), or `assignee_id: null` on one
///   that is `unassigned`.
/// - 412: `If-Match` is stale; 428: `If-Match` is missing.
/// - 422: invalid fields (blank `title`, over-long texts); `due_on` after the finding's `due_on`;
///   a `responsible_unit_id` that does not exist or cannot see the inspection, or that the
///   assignee the assignment keeps does not belong to; an `assignee_id` who does not qualify as
///   on creation (checked against the new responsible unit when both change).
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path), IfMatchRequired),
    request_body = AssignmentPatch,
    responses(
        (status = 200, description = "Updated", body = Assignment, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 428, response = responses::PreconditionRequired),
    ),
)]
#[patch("/assignments/{id}")]
pub async fn update_assignment(
    state: web::Data<AppState>,
    user: Needs<{ roles::LEADER }>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<AssignmentPatch>,
) -> Result<HttpResponse, AppError> {
    let patch = body.data;
    let mut errors = Errors::new();
    let title = patch.title.as_deref().map(|t| errors.text("title", t, SHORT_TEXT));
    let measures = patch.measures.as_ref().map(|m| errors.optional_text("measures", m.as_deref(), LONG_TEXT));
    errors.finish()?;
    let (id, actor, today) = (id.into_inner(), user.actor(), state.today());
    let updated = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::Required, |conn, id| {
                assignment_in_scope(conn, user.scope(), id)
            })?;
            let finding = find_in_scope_by_id(conn, user.scope(), before.finding_id)?;
            let mut next = before.status.transition(AssignmentAction::Edit)?;
            let action = match patch.assignee_id {
                Some(Some(_)) => AssignmentAction::Assign,
                Some(None) => AssignmentAction::Unassign,
                None => AssignmentAction::Edit,
            };
            if action != AssignmentAction::Edit {
                next = before.status.transition(action)?;
            }
            let mut errors = Errors::new();
            if let Some(due) = patch.due_on {
                check_due(&mut errors, due, &finding);
            }
            let unit = patch.responsible_unit_id.unwrap_or(before.responsible_unit_id);
            if patch.responsible_unit_id.is_some() {
                check_unit(&mut errors, conn, unit, finding.inspection_id)?;
                // The assignee it keeps must belong to the new unit, as on creation.
                if let (None, Some(current)) = (patch.assignee_id, before.assignee_id) {
                    if !belongs_to(conn, current, unit)? {
                        errors.add(
                            "responsible_unit_id",
                            "the assignee does not belong to this unit: name one who does (`assignee_id`) or hand \
                             the assignment back to the pool (`assignee_id: null`) in the same change",
                        );
                    }
                }
            }
            errors.finish()?;
            if let Some(Some(a)) = patch.assignee_id {
                check_assignee(conn, a, unit, finding.inspection_id)?;
            }
            let now = db::now();
            let changes = AssignmentChanges {
                title,
                measures,
                responsible_unit_id: patch.responsible_unit_id,
                assignee_id: patch.assignee_id,
                due_on: patch.due_on,
                status: Some(next),
                claimed_at: match action {
                    AssignmentAction::Assign => Some(Some(now)),
                    AssignmentAction::Unassign => Some(None),
                    _ => None,
                },
                version: before.version + 1,
                updated_at: now,
                ..Default::default()
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or(AppError::PreconditionFailed { current: before.version })?;
            let (before, after) = (Assignment::from_row(before, today), Assignment::from_row(after, today));
            let name = match action {
                AssignmentAction::Assign => "assignment.assigned",
                AssignmentAction::Unassign => "assignment.unassigned",
                _ => "assignment.updated",
            };
            audit::record(conn, &actor, event(name, &after, &finding, json!({"before": before, "after": after})))?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(updated.version, &updated))
}

/// Claims an unassigned assignment (认领) for the caller. Honours `If-Match`.
///
/// The assignment becomes `assigned` to the caller, with `claimed_at`. Writes
/// `assignment.claimed`. Of two concurrent claims exactly one wins; the other gets 409.
/// - Who: an `officer`, `leader` or `admin` whose org scope holds the assignment's responsible
///   unit (the caller's unit is that unit or above it).
/// - 403: another role, or the responsible unit lies outside the caller's scope.
/// - 404: the id is unknown or out of scope.
/// - 409 (`invalid-transition`): the assignment is already `assigned` or `done`.
/// - 412: `If-Match` is stale.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path), IfMatchOptional),
    responses(
        (status = 200, description = "Claimed: assigned to the caller", body = Assignment, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/assignments/{id}/claim")]
pub async fn claim_assignment(
    state: web::Data<AppState>,
    user: Needs<{ roles::LEADER | roles::OFFICER }>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (id, actor, today) = (id.into_inner(), user.actor(), state.today());
    let claimed = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| {
                assignment_in_scope(conn, user.scope(), id)
            })?;
            let next = before.status.transition(AssignmentAction::Claim)?;
            if !scope::unit_in_scope(conn, user.scope(), before.responsible_unit_id)? {
                return Err(AppError::Forbidden("only the responsible unit may claim this assignment".into()));
            }
            let finding = find_in_scope_by_id(conn, user.scope(), before.finding_id)?;
            let now = db::now();
            let changes = AssignmentChanges {
                assignee_id: Some(Some(user.id)),
                status: Some(next),
                claimed_at: Some(Some(now)),
                version: before.version + 1,
                updated_at: now,
                ..Default::default()
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or_else(|| AppError::Conflict("someone else claimed it first".into()))?;
            let after = Assignment::from_row(after, today);
            audit::record(conn, &actor, event("assignment.claimed", &after, &finding, json!({"after": after})))?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(claimed.version, &claimed))
}

/// Completes the caller's own assignment with its outcome. Honours `If-Match`.
///
/// The assignment becomes `done` with `outcome` and `completed_at`. Once every assignment of a
/// finding is done, the finding may be submitted for closure. Writes `assignment.completed`.
/// - Who: the assignee, whatever their roles (an admin only when they are the assignee).
/// - 403: the caller is not the assignee.
/// - 404: the id is unknown or out of scope.
/// - 409 (`invalid-transition`): the assignment is `unassigned` or already `done`.
/// - 412: `If-Match` is stale.
/// - 422: `outcome` is blank, longer than 20,000 characters or holds control characters.
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path), IfMatchOptional),
    request_body = CompleteAssignment,
    responses(
        (status = 200, description = "Done", body = Assignment, headers(("ETag" = String))),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
    ),
)]
#[post("/assignments/{id}/complete")]
pub async fn complete_assignment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Json<CompleteAssignment>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let outcome = errors.text("outcome", &body.data.outcome, LONG_TEXT);
    errors.finish()?;
    let (id, actor, today) = (id.into_inner(), user.actor(), state.today());
    let done = state
        .db
        .write(move |conn| {
            let before = lock_and_load(conn, id, &if_match, Need::IfGiven, |conn, id| {
                assignment_in_scope(conn, user.scope(), id)
            })?;
            let next = before.status.transition(AssignmentAction::Complete)?;
            if before.assignee_id != Some(user.id) {
                return Err(AppError::Forbidden("only the assignee may complete an assignment".into()));
            }
            let finding = find_in_scope_by_id(conn, user.scope(), before.finding_id)?;
            let now = db::now();
            let changes = AssignmentChanges {
                status: Some(next),
                completed_at: Some(Some(now)),
                outcome: Some(Some(outcome)),
                version: before.version + 1,
                updated_at: now,
                ..Default::default()
            };
            let after = queries::update(conn, id, before.version, &changes)?
                .ok_or_else(|| AppError::Conflict("the assignment changed meanwhile".into()))?;
            let after = Assignment::from_row(after, today);
            audit::record(conn, &actor, event("assignment.completed", &after, &finding, json!({"after": after})))?;
            Ok(after)
        })
        .await?;
    Ok(ok_with_etag(done.version, &done))
}
