//! What closure and extension requests share: reading, deciding, withdrawing.
//! Handlers in `routes.rs` only pick the kind.

use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::api::{ClosureRequest, ExtensionRequest, NewDecision};
use super::model::{Decision, RequestAction, RequestKind, RequestStatus};
use super::queries::{self, Awaiting, RequestFilter, RequestRow, StepRow};
use crate::audit::{self, Event};
use crate::auth::{AuthUser, Role, Scope};
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::findings::model::{FindingAction, FindingStatus};
use crate::findings::queries::{self as findings, FindingWorkflowChanges};
use crate::findings::workflow;
use crate::http::etag::with_etag;
use crate::http::pagination::{Cursor, Page, PageParams};
use crate::http::{IfMatch, QueryPairs};
use crate::state::AppState;
use crate::validate::{Errors, LONG_TEXT};

/// A request with its steps, as its kind's DTO.
pub fn to_json(kind: RequestKind, row: RequestRow, steps: Vec<StepRow>) -> Result<Value, AppError> {
    Ok(match kind {
        RequestKind::Closure => serde_json::to_value(ClosureRequest::from_parts(row, steps)?)?,
        RequestKind::Extension => serde_json::to_value(ExtensionRequest::from_parts(row, steps)?)?,
    })
}

/// A request of `kind` in scope with its steps, or 404.
pub fn load(
    conn: &mut DbConn,
    scope: Scope,
    kind: RequestKind,
    id: i64,
) -> Result<(RequestRow, Vec<StepRow>), AppError> {
    let row = queries::find(conn, scope, kind, id)?.ok_or(AppError::NotFound)?;
    let steps = queries::steps(conn, &[row.id])?;
    Ok((row, steps))
}

fn respond(version: i32, body: &Value) -> HttpResponse {
    with_etag(HttpResponse::Ok(), version).json(body)
}

pub async fn get(state: &AppState, user: &AuthUser, kind: RequestKind, id: i64) -> Result<HttpResponse, AppError> {
    let scope = user.scope();
    let (row, steps) = state.db.run(move |conn| load(conn, scope, kind, id)).await?;
    let version = row.version;
    Ok(respond(version, &to_json(kind, row, steps)?))
}

pub const LIST_PARAMS: &[&str] = &["status", "inspection_id", "finding_id", "awaiting", "limit", "cursor"];

pub async fn list(
    state: &AppState,
    user: &AuthUser,
    kind: RequestKind,
    q: &QueryPairs,
) -> Result<HttpResponse, AppError> {
    q.only(LIST_PARAMS)?;
    let page = PageParams::from_query(q)?;
    let after = page.decode(&state.cursor_key, "id")?.map(|c| c.id).unwrap_or(0);
    let mut status = Vec::new();
    for s in q.all("status") {
        status.push(
            RequestStatus::parse(s)
                .ok_or_else(|| AppError::BadRequest(format!("query parameter `status`: unknown status `{s}`")))?,
        );
    }
    let awaiting = match q.one("awaiting")? {
        None => None,
        Some("me") => {
            Some(Awaiting { user_id: user.id, roles: if user.is_admin() { None } else { Some(user.roles.clone()) } })
        }
        Some(other) => {
            return Err(AppError::BadRequest(format!("query parameter `awaiting` takes `me`, got `{other}`")))
        }
    };
    let filter =
        RequestFilter { status, inspection_id: q.id("inspection_id")?, finding_id: q.id("finding_id")?, awaiting };
    let (scope, limit) = (user.scope(), page.limit);
    let (rows, steps) = state
        .db
        .run(move |conn| {
            let rows = queries::list(conn, scope, kind, &filter, after, limit + 1)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let steps = queries::steps(conn, &ids)?;
            Ok((rows, steps))
        })
        .await?;
    let more = rows.len() as i64 > limit;
    let mut items = Vec::new();
    let mut last = None;
    for row in rows.into_iter().take(limit as usize) {
        last = Some(row.id);
        let own: Vec<StepRow> = steps.iter().filter(|s| s.request_id == row.id).cloned().collect();
        items.push(to_json(kind, row, own)?);
    }
    let next_cursor = match (more, last) {
        (true, Some(id)) => Some(Cursor { sort: "id".into(), key: Value::Null, id }.encode(&state.cursor_key)),
        _ => None,
    };
    Ok(HttpResponse::Ok().json(Page::<Value> { items, next_cursor }))
}

/// The version now stored, for a 412 after a lost race.
fn stale(conn: &mut DbConn, kind: RequestKind, id: i64, if_match: &IfMatch) -> AppError {
    if if_match.is_present() {
        let current = queries::find(conn, Scope::All, kind, id).ok().flatten().map(|r| r.version).unwrap_or(0);
        AppError::PreconditionFailed { current }
    } else {
        AppError::Conflict("another decision or a withdrawal was applied first; read the request again".into())
    }
}

/// Decides the current step. The request is read, checked and authorised
/// first; the write then applies only if nobody moved the request since
/// (`WHERE version = read version`): of concurrent deciders exactly one wins.
pub async fn decide(
    state: &AppState,
    user: AuthUser,
    kind: RequestKind,
    id: i64,
    if_match: IfMatch,
    body: NewDecision,
) -> Result<HttpResponse, AppError> {
    let mut errors = Errors::new();
    let comment = errors.optional_text("comment", body.comment.as_deref(), LONG_TEXT);
    if body.decision == Decision::Reject && comment.is_none() {
        errors.add("comment", "is required to reject: say what is still missing");
    }
    errors.finish()?;
    let scope = user.scope();
    let (row, steps) = state.db.run(move |conn| load(conn, scope, kind, id)).await?;
    if_match.check(row.version)?;
    let status = RequestStatus::from_db(&row.status)?;
    let step_count = steps.len() as i32;
    let last = row.current_step >= step_count;
    let action = match body.decision {
        Decision::Approve => RequestAction::Approve { last },
        Decision::Reject => RequestAction::Reject,
    };
    let next = status.transition(action)?;
    if body.step.is_some_and(|s| s != row.current_step) {
        return Err(AppError::Conflict(format!(
            "step {} is no longer the current step (now step {})",
            body.step.unwrap_or_default(),
            row.current_step
        )));
    }
    let current = steps
        .iter()
        .find(|s| s.step == row.current_step)
        .ok_or_else(|| AppError::internal(format!("request {id} has no step {}", row.current_step)))?;
    let role = Role::parse(&current.role).ok_or_else(|| AppError::internal("unknown step role"))?;
    if user.require_any(&[role]).is_err() {
        // A decider who lost a race for the previous step is told so, not that their role is wrong.
        let previous = steps.iter().find(|s| s.step == row.current_step - 1);
        if let Some(p) = previous.filter(|p| p.decided_by.is_some_and(|d| d != user.id)) {
            if Role::parse(&p.role).is_some_and(|r| user.has(r)) {
                return Err(AppError::Conflict(format!("step {} was already decided by another user", p.step)));
            }
        }
        return Err(AppError::Forbidden(format!("step {} is for a {}", current.step, role.as_str())));
    }
    if row.submitted_by == user.id {
        return Err(AppError::Forbidden("the submitter may not decide their own request".into()));
    }
    if steps.iter().any(|s| s.decided_by == Some(user.id)) {
        return Err(AppError::Forbidden("nobody may decide two steps of one request".into()));
    }
    let (actor, step, role_name) = (user.actor(), current.step, role.as_str());
    let decision = body.decision;
    let (updated, updated_steps) = state
        .db
        .write(move |conn| {
            let now = db::now();
            let next_step = if next == RequestStatus::Pending { row.current_step + 1 } else { row.current_step };
            let Some(updated) = queries::advance(conn, id, row.version, next, next_step, now)? else {
                return Err(stale(conn, kind, id, &if_match));
            };
            if !queries::decide_step(conn, id, step, user.id, decision.as_str(), comment.as_deref(), now)? {
                return Err(AppError::Conflict("the step was decided meanwhile".into()));
            }
            let mut finding_change = Value::Null;
            if next != RequestStatus::Pending {
                db::lock_row(conn, "findings", updated.finding_id)?;
                let finding = findings::find(conn, Scope::All, updated.finding_id)?.ok_or(AppError::NotFound)?;
                finding_change = match (kind, next) {
                    (RequestKind::Closure, RequestStatus::Approved) => {
                        let (after, from) = workflow::transition(conn, &finding, FindingAction::ApproveClosure, |c| {
                            c.closed_at = Some(Some(now));
                            c.outcome = Some(updated.outcome.clone());
                            c.long_term = Some(updated.long_term.unwrap_or(false));
                        })?;
                        json!({"status": {"from": from, "to": after.status}})
                    }
                    (RequestKind::Closure, _) => {
                        let (after, from) = workflow::transition(conn, &finding, FindingAction::RejectClosure, |_| {})?;
                        json!({"status": {"from": from, "to": after.status}})
                    }
                    (RequestKind::Extension, RequestStatus::Approved) => {
                        if FindingStatus::from_db(&finding.status)? == FindingStatus::Closed {
                            return Err(AppError::InvalidTransition {
                                entity: "finding",
                                current: "closed".into(),
                                action: "extend the deadline".into(),
                            });
                        }
                        let changes = FindingWorkflowChanges {
                            due_on: Some(updated.new_due_on),
                            version: finding.version + 1,
                            updated_at: now,
                            ..Default::default()
                        };
                        findings::apply_workflow(conn, finding.id, finding.version, &changes)?
                            .ok_or_else(|| AppError::Conflict("the finding changed meanwhile".into()))?;
                        json!({"due_on": {"from": finding.due_on, "to": updated.new_due_on}})
                    }
                    (RequestKind::Extension, _) => Value::Null,
                };
            }
            let what = match (decision, next) {
                (Decision::Reject, _) => "rejected",
                (Decision::Approve, RequestStatus::Approved) => "approved",
                _ => "step_approved",
            };
            let steps = queries::steps(conn, &[id])?;
            let inspection_id = findings::find(conn, Scope::All, updated.finding_id)?.map(|f| f.inspection_id);
            let mut event = Event::new(
                kind.audit(what),
                kind.entity(),
                id,
                json!({"step": step, "role": role_name, "decision": decision, "comment": comment, "finding": finding_change}),
            )
            .finding(updated.finding_id);
            if let Some(i) = inspection_id {
                event = event.inspection(i);
            }
            audit::record(conn, &actor, event)?;
            Ok((updated, steps))
        })
        .await?;
    let version = updated.version;
    Ok(respond(version, &to_json(kind, updated, updated_steps)?))
}

/// The submitter withdraws a pending request; a closure's finding goes back to `in_progress`.
pub async fn withdraw(
    state: &AppState,
    user: AuthUser,
    kind: RequestKind,
    id: i64,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let scope = user.scope();
    let (row, _) = state.db.run(move |conn| load(conn, scope, kind, id)).await?;
    if_match.check(row.version)?;
    let next = RequestStatus::from_db(&row.status)?.transition(RequestAction::Withdraw)?;
    if row.submitted_by != user.id {
        return Err(AppError::Forbidden("only the submitter may withdraw a request".into()));
    }
    let actor = user.actor();
    let (updated, steps) = state
        .db
        .write(move |conn| {
            let now = db::now();
            let Some(updated) = queries::advance(conn, id, row.version, next, row.current_step, now)? else {
                return Err(stale(conn, kind, id, &if_match));
            };
            db::lock_row(conn, "findings", updated.finding_id)?;
            let finding = findings::find(conn, Scope::All, updated.finding_id)?.ok_or(AppError::NotFound)?;
            let mut finding_change = Value::Null;
            if kind == RequestKind::Closure {
                let (after, from) = workflow::transition(conn, &finding, FindingAction::WithdrawClosure, |_| {})?;
                finding_change = json!({"status": {"from": from, "to": after.status}});
            }
            audit::record(
                conn,
                &actor,
                Event::new(kind.audit("withdrawn"), kind.entity(), id, json!({"finding": finding_change}))
                    .inspection(finding.inspection_id)
                    .finding(finding.id),
            )?;
            let steps = queries::steps(conn, &[id])?;
            Ok((updated, steps))
        })
        .await?;
    let version = updated.version;
    Ok(respond(version, &to_json(kind, updated, steps)?))
}
