//! What handlers of every domain ask of inspections, free of HTTP: load one the
//! caller may see, whether its ledger may still change, and the checks of a new one.

use chrono::NaiveDate;

use super::api::NewInspection;
use super::model::{validate_chain, InspectionAction, InspectionStatus, DEFAULT_CHAIN};
use super::queries::{self, InspectionRow, NewInspectionRow};
use crate::auth::{scope, ApprovalChain, AuthUser, Scope};
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::orgs::queries as orgs;
use crate::validate::{Errors, SHORT_TEXT};

/// Date order: started ≤ ended ≤ feedback ≤ rectification due.
pub fn check_dates(
    errors: &mut Errors,
    started: NaiveDate,
    ended: NaiveDate,
    feedback: Option<NaiveDate>,
    due: Option<NaiveDate>,
) {
    if ended < started {
        errors.add("ended_on", "must not be before started_on");
    }
    if feedback.is_some_and(|f| f < ended) {
        errors.add("feedback_on", "must not be before ended_on");
    }
    if let (Some(d), Some(f)) = (due, feedback) {
        if d < f {
            errors.add("rectification_due_on", "must not be before feedback_on");
        }
    }
}

/// Validates a new inspection (field names get `prefix`) and makes its row.
pub fn prepare_new(new: &NewInspection, created_by: i64, prefix: &str) -> Result<NewInspectionRow, AppError> {
    let mut errors = Errors::new();
    let f = |name: &str| format!("{prefix}{name}");
    let title = errors.text(&f("title"), &new.title, SHORT_TEXT);
    let inspecting_body = errors.text(&f("inspecting_body"), &new.inspecting_body, SHORT_TEXT);
    let topic = errors.optional_text(&f("topic"), new.topic.as_deref(), SHORT_TEXT);
    let mut dates = Errors::new();
    check_dates(&mut dates, new.started_on, new.ended_on, new.feedback_on, new.rectification_due_on);
    for e in dates.into_inner() {
        errors.add(f(&e.field), e.message);
    }
    let chain = new.approval_chain.clone().unwrap_or_else(|| DEFAULT_CHAIN.to_vec());
    if let Err(m) = validate_chain(&chain) {
        errors.add(f("approval_chain"), m);
    }
    errors.finish()?;
    let now = db::now();
    Ok(NewInspectionRow {
        title,
        inspecting_body,
        inspecting_unit_id: new.inspecting_unit_id,
        inspected_unit_id: new.inspected_unit_id,
        topic,
        started_on: new.started_on,
        ended_on: new.ended_on,
        feedback_on: new.feedback_on,
        rectification_due_on: new.rectification_due_on,
        approval_chain: ApprovalChain(chain),
        status: InspectionStatus::Rectifying,
        created_by,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// Both units must exist and at least one must lie in the caller's scope
/// (an inspection group inspects units outside its own subtree).
pub fn check_units(conn: &mut DbConn, user_scope: Scope, inspecting: i64, inspected: i64) -> Result<(), AppError> {
    let mut errors = Errors::new();
    for (field, id) in [("inspecting_unit_id", inspecting), ("inspected_unit_id", inspected)] {
        if !orgs::exists(conn, id)? {
            errors.add(field, "no such org unit");
        }
    }
    errors.finish()?;
    if !scope::unit_in_scope(conn, user_scope, inspecting)? && !scope::unit_in_scope(conn, user_scope, inspected)? {
        return Err(AppError::invalid("inspected_unit_id", "neither unit lies in your org scope"));
    }
    Ok(())
}

/// Loads an inspection in the caller's scope, or 404.
pub fn find_in_scope(conn: &mut DbConn, user: &AuthUser, id: i64) -> Result<InspectionRow, AppError> {
    queries::find(conn, user.scope(), id)?.ok_or(AppError::NotFound)
}

/// Asks the inspection's state machine whether its ledger may change (it may in every status today:
/// publication freezes a snapshot of the report instead).
pub fn ensure_editable(row: &InspectionRow) -> Result<(), AppError> {
    row.status.transition(InspectionAction::Edit)?;
    Ok(())
}
