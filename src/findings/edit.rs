//! Changing a finding's descriptive fields (PATCH, and each item of a bulk update):
//! checks, the versioned update and its audit event.

use serde_json::json;

use super::api::{Derive, Finding, FindingPatch};
use super::queries::{self, FindingChanges};
use super::service::{find_in_scope_by_id, leader_qualifies};
use crate::audit::{self, Event};
use crate::auth::{scope, AuthUser, Scope};
use crate::db::versioned::{lock_and_load, Need, Precondition};
use crate::db::{self, DbConn};
use crate::error::{AppError, FieldError};
use crate::inspections::sections::queries as sections;
use crate::inspections::service::{ensure_editable, find_in_scope};
use crate::validate::{Errors, LONG_TEXT, SHORT_TEXT};

/// A checked PATCH of a finding's descriptive fields.
#[derive(Debug, Clone)]
pub struct Edit {
    title: Option<String>,
    description: Option<Option<String>>,
    section_id: Option<Option<i64>>,
    responsible_unit_id: Option<Option<i64>>,
    responsible_leader_id: Option<Option<i64>>,
    measures: Option<Option<String>>,
    due_on: Option<Option<chrono::NaiveDate>>,
}

impl Edit {
    /// Checks the texts; field names in errors get `prefix` (`items[2].changes.` in a bulk update).
    pub fn validate(patch: FindingPatch, prefix: &str) -> Result<Self, AppError> {
        let mut errors = Errors::new();
        let title = patch.title.as_deref().map(|t| errors.text("title", t, SHORT_TEXT));
        let description =
            patch.description.as_ref().map(|t| errors.optional_text("description", t.as_deref(), LONG_TEXT));
        let measures = patch.measures.as_ref().map(|t| errors.optional_text("measures", t.as_deref(), LONG_TEXT));
        let errors = errors.into_inner();
        if !errors.is_empty() {
            return Err(AppError::Validation(
                errors.into_iter().map(|e| FieldError::new(format!("{prefix}{}", e.field), e.message)).collect(),
            ));
        }
        Ok(Self {
            title,
            description,
            section_id: patch.section_id,
            responsible_unit_id: patch.responsible_unit_id,
            responsible_leader_id: patch.responsible_leader_id,
            measures,
            due_on: patch.due_on,
        })
    }
}

/// Checks the ids a finding refers to; all refusals are 422 naming the field.
/// The answer for a responsible unit that does not exist and for one out of bounds alike, so that
/// it does not tell which unit ids exist (contract §9.4).
pub const UNIT_NOT_ALLOWED: &str = "no such org unit in your org scope or under the inspected unit";

/// A finding's responsible unit lies in the caller's scope or under the inspected unit.
pub fn responsible_unit_allowed(
    conn: &mut DbConn,
    scope: Scope,
    inspection_id: i64,
    unit: i64,
) -> Result<bool, AppError> {
    if scope::unit_visible(conn, scope, unit)? {
        return Ok(true);
    }
    let inspected = crate::inspections::queries::inspected_unit(conn, inspection_id)?;
    scope::unit_in_scope(conn, Scope::Unit(inspected), unit)
}

pub fn check_references(
    conn: &mut DbConn,
    scope: Scope,
    inspection_id: i64,
    section_id: Option<i64>,
    unit: Option<i64>,
    leader: Option<i64>,
) -> Result<(), AppError> {
    let mut errors = Errors::new();
    if let Some(s) = section_id {
        if sections::find(conn, s)?.is_none_or(|s| s.inspection_id != inspection_id) {
            errors.add("section_id", "no such section in this inspection");
        }
    }
    if let Some(u) = unit {
        if !responsible_unit_allowed(conn, scope, inspection_id, u)? {
            errors.add("responsible_unit_id", UNIT_NOT_ALLOWED);
        }
    }
    if let Some(l) = leader {
        if !leader_qualifies(conn, l, inspection_id)? {
            errors.add("responsible_leader_id", "no such active user who can see this inspection");
        }
    }
    errors.finish()
}

/// Applies an edit to finding `id` in the caller's transaction: lock, scoped load,
/// precondition, reference checks, the versioned update, the `finding.updated` event.
pub fn apply(
    conn: &mut DbConn,
    user: &AuthUser,
    id: i64,
    precondition: &Precondition,
    need: Need,
    edit: Edit,
    d: Derive,
) -> Result<Finding, AppError> {
    let before = lock_and_load(conn, id, precondition, need, |conn, id| find_in_scope_by_id(conn, user.scope(), id))?;
    ensure_editable(&find_in_scope(conn, user, before.inspection_id)?)?;
    check_references(
        conn,
        user.scope(),
        before.inspection_id,
        edit.section_id.flatten(),
        edit.responsible_unit_id.flatten(),
        edit.responsible_leader_id.flatten(),
    )?;
    if let Some(Some(due)) = edit.due_on {
        let later = crate::assignments::queries::latest_open_due(conn, id)?;
        if let Some(latest) = later.filter(|l| *l > due) {
            return Err(AppError::invalid(
                "due_on",
                format!("an open assignment of this finding is due on {latest}: move it first"),
            ));
        }
    }
    let changes = FindingChanges {
        title: edit.title,
        description: edit.description,
        section_id: edit.section_id,
        responsible_unit_id: edit.responsible_unit_id,
        responsible_leader_id: edit.responsible_leader_id,
        measures: edit.measures,
        due_on: edit.due_on,
        version: before.version + 1,
        updated_at: db::now(),
    };
    let after = queries::update(conn, id, before.version, &changes)?
        .ok_or(AppError::PreconditionFailed { current: before.version })?;
    let inspection_id = before.inspection_id;
    let (before, after) = (Finding::from_row(before, d), Finding::from_row(after, d));
    audit::record(
        conn,
        &user.actor(),
        Event::new("finding.updated", "finding", id, json!({"before": before, "after": after}))
            .inspection(inspection_id)
            .finding(id),
    )?;
    Ok(after)
}
