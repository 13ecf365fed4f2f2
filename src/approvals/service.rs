//! Closure and extension requests: submitting, deciding, withdrawing and reading
//! them. Free of HTTP: every function runs in the caller's transaction, takes
//! domain values and returns the request with its steps; the rules come from
//! the state machines and the separation-of-duties check in `model.rs`.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};

use super::api::{ClosureRequest, Evidence, ExtensionRequest};
use super::model::{decision_action, may_decide, Decision, Happened, RequestAction, RequestKind, RequestStatus};
use super::queries::{self, NewRequestRow, RequestFilter, RequestRow, StepRow};
use crate::assignments::model::AssignmentStatus;
use crate::assignments::queries as assignments;
use crate::audit::{self, Event};
use crate::auth::{AuthUser, Scope};
use crate::db::versioned::Precondition;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::findings::model::FindingAction;
use crate::findings::queries::{self as findings, FindingRow};
use crate::findings::service::find_in_scope_by_id;
use crate::findings::workflow;
use crate::inspections::queries::InspectionRow;
use crate::inspections::service::{ensure_editable, find_in_scope};

/// A request with its steps.
#[derive(Debug, Clone)]
pub struct Request {
    pub row: RequestRow,
    pub steps: Vec<StepRow>,
}

impl Request {
    pub fn version(&self) -> i32 {
        self.row.version
    }

    /// The request as its kind's DTO (`ClosureRequest` or `ExtensionRequest`).
    pub fn into_json(self) -> Result<Value, AppError> {
        Ok(match self.row.kind {
            RequestKind::Closure => serde_json::to_value(ClosureRequest::from_parts(self.row, self.steps)?)?,
            RequestKind::Extension => serde_json::to_value(ExtensionRequest::from_parts(self.row, self.steps)?)?,
        })
    }
}

/// A request of `kind` in `scope` with its steps, or 404.
pub fn load(conn: &mut DbConn, scope: Scope, kind: RequestKind, id: i64) -> Result<Request, AppError> {
    let row = queries::find(conn, scope, kind, id)?.ok_or(AppError::NotFound)?;
    let steps = queries::steps(conn, &[row.id])?;
    Ok(Request { row, steps })
}

/// A page of requests of `kind` in `scope` (`limit` rows after id `after`), each with its steps.
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    kind: RequestKind,
    filter: &RequestFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<Request>, AppError> {
    let rows = queries::list(conn, scope, kind, filter, after, limit)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut steps = queries::steps(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (own, rest): (Vec<StepRow>, Vec<StepRow>) = steps.drain(..).partition(|s| s.request_id == row.id);
            steps = rest;
            Request { row, steps: own }
        })
        .collect())
}

/// What a closure request (销号) carries.
#[derive(Debug, Clone)]
pub struct ClosureSubmission {
    pub outcome: String,
    pub evidence: Vec<Evidence>,
    pub long_term: bool,
}

/// What an extension request (延期) carries.
#[derive(Debug, Clone)]
pub struct ExtensionSubmission {
    pub new_due_on: NaiveDate,
    pub reason: String,
}

/// Locks and loads the finding and its inspection for a new request.
fn finding_for_request(
    conn: &mut DbConn,
    user: &AuthUser,
    finding_id: i64,
) -> Result<(FindingRow, InspectionRow), AppError> {
    db::lock_row(conn, "findings", finding_id)?;
    let finding = find_in_scope_by_id(conn, user.scope(), finding_id)?;
    let inspection = find_in_scope(conn, user, finding.inspection_id)?;
    ensure_editable(&inspection)?;
    Ok((finding, inspection))
}

fn new_row(kind: RequestKind, finding: &FindingRow, submitted_by: i64, now: NaiveDateTime) -> NewRequestRow {
    NewRequestRow {
        kind,
        finding_id: finding.id,
        submitted_by,
        status: RequestStatus::Pending,
        current_step: 1,
        outcome: None,
        evidence: None,
        long_term: None,
        new_due_on: None,
        previous_due_on: None,
        reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Submits a finding for closure: it must be `in_progress` with at least one assignment,
/// every one of them done. The finding becomes `pending_closure`.
pub fn submit_closure(
    conn: &mut DbConn,
    user: &AuthUser,
    finding_id: i64,
    submission: ClosureSubmission,
) -> Result<Request, AppError> {
    let (finding, inspection) = finding_for_request(conn, user, finding_id)?;
    finding.status.transition(FindingAction::RequestClosure)?;
    let work = assignments::of_finding(conn, finding_id)?;
    if work.is_empty() {
        return Err(AppError::Conflict("a finding needs at least one assignment before it can be closed".into()));
    }
    let open = work.iter().filter(|a| a.status != AssignmentStatus::Done).count();
    if open > 0 {
        return Err(AppError::Conflict(format!("{open} assignment(s) of this finding are not done yet")));
    }
    let now = db::now();
    let row = NewRequestRow {
        outcome: Some(submission.outcome),
        evidence: Some(serde_json::to_string(&submission.evidence)?),
        long_term: Some(submission.long_term),
        ..new_row(RequestKind::Closure, &finding, user.id, now)
    };
    let row = queries::insert(conn, &row, &inspection.approval_chain.0)?;
    let (after, from) = workflow::transition(conn, &finding, FindingAction::RequestClosure, |_| {})?;
    let request = Request { steps: queries::steps(conn, &[row.id])?, row };
    let data = json!({
        "after": request.clone().into_json()?,
        "finding": {"status": {"from": from, "to": after.status}},
    });
    let actor = user.actor();
    let mut recorder = audit::Recorder::new(conn, &actor)?;
    record(conn, &mut recorder, &request, Happened::Requested, &finding, data)?;
    Ok(request)
}

/// Asks for a later deadline on an `in_progress` or `blocked` finding; one pending at a time.
pub fn submit_extension(
    conn: &mut DbConn,
    user: &AuthUser,
    finding_id: i64,
    submission: ExtensionSubmission,
    today: NaiveDate,
) -> Result<Request, AppError> {
    let (finding, inspection) = finding_for_request(conn, user, finding_id)?;
    finding.status.transition(FindingAction::RequestExtension)?;
    check_new_due(submission.new_due_on, finding.due_on, today)?;
    if queries::has_pending(conn, finding_id, RequestKind::Extension)? {
        return Err(AppError::Conflict("an extension request for this finding is already pending".into()));
    }
    let row = NewRequestRow {
        new_due_on: Some(submission.new_due_on),
        previous_due_on: finding.due_on,
        reason: Some(submission.reason),
        ..new_row(RequestKind::Extension, &finding, user.id, db::now())
    };
    let row = queries::insert(conn, &row, &inspection.approval_chain.0)?;
    let request = Request { steps: queries::steps(conn, &[row.id])?, row };
    let data = json!({"after": request.clone().into_json()?});
    let actor = user.actor();
    let mut recorder = audit::Recorder::new(conn, &actor)?;
    record(conn, &mut recorder, &request, Happened::Requested, &finding, data)?;
    Ok(request)
}

/// The new deadline must be after the current one (or, without one, not in the past).
fn check_new_due(new_due_on: NaiveDate, current: Option<NaiveDate>, today: NaiveDate) -> Result<(), AppError> {
    match current {
        Some(due) if new_due_on <= due => {
            Err(AppError::invalid("new_due_on", format!("must be after the current due_on ({due})")))
        }
        None if new_due_on < today => Err(AppError::invalid("new_due_on", "must not be in the past")),
        _ => Ok(()),
    }
}

/// A decision on a request's current step.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub decision: Decision,
    pub comment: Option<String>,
    /// The step the caller means to decide; a request that moved on is then a 409.
    pub step: Option<i32>,
}

/// Decides the current step. The request is not locked: the update applies only if
/// nobody moved it since it was read (`WHERE version = read version`), so of concurrent
/// deciders exactly one wins and the others get 409 (412 with a stated precondition).
pub fn decide(
    conn: &mut DbConn,
    user: &AuthUser,
    kind: RequestKind,
    id: i64,
    precondition: &Precondition,
    input: DecisionInput,
) -> Result<Request, AppError> {
    let Request { row, steps } = load(conn, user.scope(), kind, id)?;
    precondition.check(row.version)?;
    let last = row.current_step >= steps.len() as i32;
    let (action, happened) = decision_action(input.decision, last);
    let next = row.status.transition(action)?;
    if let Some(step) = input.step.filter(|s| *s != row.current_step) {
        return Err(AppError::Conflict(format!(
            "step {step} is no longer the current step (now step {})",
            row.current_step
        )));
    }
    let states: Vec<_> = steps.iter().map(StepRow::state).collect();
    let role = may_decide(&states, row.current_step, row.submitted_by, user.id, |r| user.is_admin() || user.has(r))?;
    let now = db::now();
    let next_step = if next == RequestStatus::Pending { row.current_step + 1 } else { row.current_step };
    let updated = advance(conn, &row, precondition, next, next_step, now)?;
    if !queries::decide_step(conn, id, row.current_step, user.id, input.decision, input.comment.as_deref(), now)? {
        return Err(AppError::Conflict("the step was decided meanwhile".into()));
    }
    if next != RequestStatus::Pending {
        db::lock_row(conn, "findings", row.finding_id)?;
    }
    let finding = findings::find(conn, Scope::All, row.finding_id)?.ok_or(AppError::NotFound)?;
    let finding_change = match next {
        RequestStatus::Pending => Value::Null,
        _ => settle(conn, &updated, &finding, now)?,
    };
    let request = Request { steps: queries::steps(conn, &[id])?, row: updated };
    let data = json!({
        "step": row.current_step,
        "role": role,
        "decision": input.decision,
        "comment": input.comment,
        "finding": finding_change,
    });
    // One recorder for the transaction's events: the webhooks that may want them are looked up once.
    let actor = user.actor();
    let mut recorder = audit::Recorder::new(conn, &actor)?;
    record(conn, &mut recorder, &request, happened, &finding, data)?;
    if (request.row.kind, request.row.status) == (RequestKind::Closure, RequestStatus::Approved) {
        // The sign-off's effect on the finding, as an event of the finding itself (销号).
        let closed = json!({
            "request_id": request.row.id,
            "outcome": request.row.outcome,
            "long_term": request.row.long_term.unwrap_or(false),
        });
        let event = Event::new("finding.closed", "finding", finding.id, closed)
            .inspection(finding.inspection_id)
            .finding(finding.id);
        recorder.record(conn, event)?;
    }
    Ok(request)
}

/// What the end of a request does to its finding; the change, for the audit event.
fn settle(
    conn: &mut DbConn,
    request: &RequestRow,
    finding: &FindingRow,
    now: NaiveDateTime,
) -> Result<Value, AppError> {
    Ok(match (request.kind, request.status) {
        (RequestKind::Closure, RequestStatus::Approved) => {
            let (after, from) = workflow::transition(conn, finding, FindingAction::ApproveClosure, |c| {
                c.closed_at = Some(Some(now));
                c.outcome = Some(request.outcome.clone());
                c.long_term = Some(request.long_term.unwrap_or(false));
            })?;
            json!({"status": {"from": from, "to": after.status}})
        }
        (RequestKind::Closure, RequestStatus::Rejected) => {
            let (after, from) = workflow::transition(conn, finding, FindingAction::RejectClosure, |_| {})?;
            json!({"status": {"from": from, "to": after.status}})
        }
        (RequestKind::Closure, RequestStatus::Withdrawn) => {
            let (after, from) = workflow::transition(conn, finding, FindingAction::WithdrawClosure, |_| {})?;
            json!({"status": {"from": from, "to": after.status}})
        }
        (RequestKind::Extension, RequestStatus::Approved) => {
            workflow::transition(conn, finding, FindingAction::ExtendDeadline, |c| {
                c.due_on = Some(request.new_due_on);
            })?;
            json!({"due_on": {"from": finding.due_on, "to": request.new_due_on}})
        }
        _ => Value::Null,
    })
}

/// Withdraws a pending request (its submitter only); a closure's finding goes back to `in_progress`.
pub fn withdraw(
    conn: &mut DbConn,
    user: &AuthUser,
    kind: RequestKind,
    id: i64,
    precondition: &Precondition,
) -> Result<Request, AppError> {
    let Request { row, .. } = load(conn, user.scope(), kind, id)?;
    precondition.check(row.version)?;
    let next = row.status.transition(RequestAction::Withdraw)?;
    if row.submitted_by != user.id {
        return Err(AppError::Forbidden("only the submitter may withdraw a request".into()));
    }
    let now = db::now();
    let updated = advance(conn, &row, precondition, next, row.current_step, now)?;
    db::lock_row(conn, "findings", row.finding_id)?;
    let finding = findings::find(conn, Scope::All, row.finding_id)?.ok_or(AppError::NotFound)?;
    let finding_change = settle(conn, &updated, &finding, now)?;
    let request = Request { steps: queries::steps(conn, &[id])?, row: updated };
    let actor = user.actor();
    let mut recorder = audit::Recorder::new(conn, &actor)?;
    record(conn, &mut recorder, &request, Happened::Withdrawn, &finding, json!({"finding": finding_change}))?;
    Ok(request)
}

/// Moves the request on if nobody else did since `row` was read.
fn advance(
    conn: &mut DbConn,
    row: &RequestRow,
    precondition: &Precondition,
    next: RequestStatus,
    next_step: i32,
    now: NaiveDateTime,
) -> Result<RequestRow, AppError> {
    match queries::advance(conn, row.id, row.version, next, next_step, now)? {
        Some(updated) => Ok(updated),
        None => {
            let stored = queries::find(conn, Scope::All, row.kind, row.id)?.map(|r| r.version);
            Err(precondition
                .lost_race(stored, "another decision or a withdrawal was applied first; read the request again"))
        }
    }
}

/// Writes the request's audit event.
fn record(
    conn: &mut DbConn,
    recorder: &mut audit::Recorder<'_>,
    request: &Request,
    happened: Happened,
    finding: &FindingRow,
    data: Value,
) -> Result<(), AppError> {
    let kind = request.row.kind;
    let event = Event::new(kind.audit(happened), kind.entity(), request.row.id, data)
        .inspection(finding.inspection_id)
        .finding(finding.id);
    recorder.record(conn, event)?;
    Ok(())
}
