//! Validating a ledger (its size first) and storing it in one transaction.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::api::{ImportFinding, ImportSection, ImportTotals, LedgerImport};
use crate::audit::{self, Actor, Event};
use crate::auth::Scope;
use crate::db::{self, Cancel, DbConn};
use crate::error::{AppError, FieldError};
use crate::findings::api::{Derive, Finding};
use crate::findings::model::FindingStatus;
use crate::findings::queries::{self as findings, NewFindingRow};
use crate::inspections::api::Inspection;
use crate::inspections::queries as inspections;
use crate::inspections::sections::api::Section;
use crate::inspections::sections::queries::{self as sections, NewSectionRow};
use crate::inspections::sections::MAX_LEVEL;
use crate::inspections::service::{check_units, prepare_new};
use crate::validate::{Errors, LONG_TEXT, SHORT_TEXT};

/// Categories, aspects and findings of a ledger.
pub fn totals(ledger: &LedgerImport) -> ImportTotals {
    fn walk(s: &ImportSection, level: usize, t: &mut ImportTotals) {
        match level {
            1 => t.categories += 1,
            2 => t.aspects += 1,
            _ => {}
        }
        t.findings += s.findings.len();
        for c in &s.children {
            walk(c, level + 1, t);
        }
    }
    let mut t = ImportTotals { findings: ledger.findings.len(), ..Default::default() };
    for s in &ledger.sections {
        walk(s, 1, &mut t);
    }
    t
}

/// The checks of every other request's text (`validate::Errors`): not blank when required, a
/// length limit, no control characters but tab, LF and CR.
fn check_text(errors: &mut Vec<FieldError>, field: String, value: &str, max: usize, required: bool) {
    let mut checked = Errors::new();
    if required {
        checked.text(&field, value, max);
    } else {
        checked.optional_text(&field, Some(value), max);
    }
    errors.extend(checked.into_inner());
}

fn check_finding(errors: &mut Vec<FieldError>, path: &str, f: &ImportFinding, seqs: &mut HashSet<i32>) {
    check_text(errors, format!("{path}.title"), &f.title, SHORT_TEXT, true);
    let texts = [
        ("description", &f.description),
        ("measures", &f.measures),
        ("outcome", &f.outcome),
        ("blocked_reason", &f.blocked_reason),
    ];
    for (name, value) in texts {
        if let Some(v) = value {
            check_text(errors, format!("{path}.{name}"), v, LONG_TEXT, false);
        }
    }
    if let Some(s) = f.seq {
        if !(1..=crate::validate::MAX_ORDINAL).contains(&s) {
            errors.push(FieldError::new(
                format!("{path}.seq"),
                format!("must be from 1 to {}", crate::validate::MAX_ORDINAL),
            ));
        } else if !seqs.insert(s) {
            errors.push(FieldError::new(format!("{path}.seq"), format!("{s} is used twice")));
        }
    }
    match f.status.unwrap_or(FindingStatus::Open) {
        FindingStatus::Open | FindingStatus::Closed => {}
        FindingStatus::Blocked if f.blocked_reason.as_deref().is_some_and(|r| !r.trim().is_empty()) => {}
        FindingStatus::Blocked => errors.push(FieldError::new(format!("{path}.blocked_reason"), "is required for a blocked finding")),
        other => errors.push(FieldError::new(
            format!("{path}.status"),
            format!("`{other}` cannot be imported: use open, closed or blocked, and record work in progress through the workflow"),
        )),
    }
}

/// Checks a ledger's size, then its shape: titles, depth, unique numbers, importable statuses.
///
/// A ledger of more than `max_findings` findings (`RECTIFY_IMPORT_MAX_FINDINGS`) is refused
/// alone, before its rows are looked at (422 naming the count and the limit); the shape's
/// errors come all at once (422). Returns the ledger's totals. The cost is linear in the
/// ledger's size.
pub fn validate(ledger: &LedgerImport, max_findings: usize) -> Result<ImportTotals, AppError> {
    let totals = totals(ledger);
    if totals.findings > max_findings {
        return Err(AppError::invalid(
            "findings",
            format!(
                "the ledger holds {} findings; at most {max_findings} are imported at once: split it into several imports",
                totals.findings
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut seqs = HashSet::new();
    fn walk(s: &ImportSection, path: String, level: i32, errors: &mut Vec<FieldError>, seqs: &mut HashSet<i32>) {
        check_text(errors, format!("{path}.title"), &s.title, SHORT_TEXT, true);
        if level > MAX_LEVEL {
            errors.push(FieldError::new(path.clone(), format!("sections nest at most {MAX_LEVEL} levels deep")));
        }
        for (i, f) in s.findings.iter().enumerate() {
            check_finding(errors, &format!("{path}.findings[{i}]"), f, seqs);
        }
        for (i, c) in s.children.iter().enumerate() {
            walk(c, format!("{path}.children[{i}]"), level + 1, errors, seqs);
        }
    }
    for (i, s) in ledger.sections.iter().enumerate() {
        walk(s, format!("sections[{i}]"), 1, &mut errors, &mut seqs);
    }
    for (i, f) in ledger.findings.iter().enumerate() {
        check_finding(&mut errors, &format!("findings[{i}]"), f, &mut seqs);
    }
    if totals.findings == 0 {
        errors.push(FieldError::new("findings", "the ledger holds no findings"));
    }
    if errors.is_empty() {
        Ok(totals)
    } else {
        Err(AppError::Validation(errors))
    }
}

struct Store<'a> {
    /// Written last, after every row they describe exists (each event's deliveries are queued with it).
    events: Vec<Event>,
    inspection_id: i64,
    created_by: i64,
    next_seq: i32,
    derive: Derive,
    /// The importer's scope: responsible units must lie in it.
    scope: Scope,
    /// Whether each responsible unit and leader named so far may be named: a ledger names a few
    /// of them many times, and each is looked up once.
    units: HashMap<i64, bool>,
    leaders: HashMap<i64, bool>,
    /// Raised when the request has gone: checked before each row, so the import stops and rolls back.
    cancel: &'a Cancel,
}

/// `check()` for `key`, asked once per key.
fn remembered(
    seen: &mut HashMap<i64, bool>,
    key: i64,
    check: impl FnOnce() -> Result<bool, AppError>,
) -> Result<bool, AppError> {
    if let Some(&known) = seen.get(&key) {
        return Ok(known);
    }
    let answer = check()?;
    seen.insert(key, answer);
    Ok(answer)
}

impl Store<'_> {
    fn finding(
        &mut self,
        conn: &mut DbConn,
        section_id: Option<i64>,
        f: &ImportFinding,
        path: &str,
    ) -> Result<(), AppError> {
        self.cancel.check()?;
        let (scope, inspection_id) = (self.scope, self.inspection_id);
        let mut refs = Vec::new();
        if let Some(u) = f.responsible_unit_id {
            let allowed = remembered(&mut self.units, u, || {
                crate::findings::edit::responsible_unit_allowed(conn, scope, inspection_id, u)
            })?;
            if !allowed {
                refs.push(FieldError::new(
                    format!("{path}.responsible_unit_id"),
                    crate::findings::edit::UNIT_NOT_ALLOWED,
                ));
            }
        }
        if let Some(l) = f.responsible_leader_id {
            let qualifies = remembered(&mut self.leaders, l, || {
                crate::findings::service::leader_qualifies(conn, l, inspection_id)
            })?;
            if !qualifies {
                refs.push(FieldError::new(
                    format!("{path}.responsible_leader_id"),
                    "no such active user who can see this inspection",
                ));
            }
        }
        if !refs.is_empty() {
            return Err(AppError::Validation(refs));
        }
        let seq = match f.seq {
            Some(s) => s,
            None if self.next_seq >= crate::validate::MAX_ORDINAL => {
                return Err(AppError::invalid(format!("{path}.seq"), "no number is left after the highest given one"));
            }
            None => {
                self.next_seq += 1;
                self.next_seq
            }
        };
        let status = f.status.unwrap_or(FindingStatus::Open);
        let now = db::now();
        let row = findings::insert(
            conn,
            &NewFindingRow {
                inspection_id: self.inspection_id,
                section_id,
                seq,
                title: f.title.trim().to_owned(),
                description: f.description.clone().filter(|d| !d.trim().is_empty()),
                responsible_unit_id: f.responsible_unit_id,
                responsible_leader_id: f.responsible_leader_id,
                measures: f.measures.clone().filter(|m| !m.trim().is_empty()),
                due_on: f.due_on,
                status: FindingStatus::Open,
                long_term: false,
                reopen_count: 0,
                created_by: self.created_by,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        // The outcome and a terminal status are workflow columns: set apart from the descriptive
        // insert, and only when the ledger gives one (a large ledger is mostly plain open findings).
        let changes = findings::FindingWorkflowChanges {
            status: (status != FindingStatus::Open).then_some(status),
            outcome: f.outcome.clone().filter(|o| !o.trim().is_empty()).map(Some),
            long_term: f.long_term,
            blocked_reason: f.blocked_reason.clone().filter(|_| status == FindingStatus::Blocked).map(Some),
            closed_at: (status == FindingStatus::Closed).then_some(Some(now)),
            version: 1,
            updated_at: now,
            ..Default::default()
        };
        let workflow = changes.status.is_some() || changes.outcome.is_some() || changes.long_term.is_some();
        let row = if workflow { findings::apply_workflow(conn, row.id, 1, &changes)?.unwrap_or(row) } else { row };
        let finding = Finding::from_row(row, self.derive);
        self.events.push(
            Event::new("finding.created", "finding", finding.id, json!({"after": finding, "source": "import"}))
                .inspection(self.inspection_id)
                .finding(finding.id),
        );
        Ok(())
    }

    fn section(
        &mut self,
        conn: &mut DbConn,
        parent: Option<i64>,
        level: i32,
        position: i32,
        s: &ImportSection,
        path: &str,
    ) -> Result<(), AppError> {
        self.cancel.check()?;
        let now = db::now();
        let row = sections::insert(
            conn,
            &NewSectionRow {
                inspection_id: self.inspection_id,
                parent_id: parent,
                position,
                title: s.title.trim().trim_end_matches('。').to_owned(),
                level,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let section = Section::from(row);
        self.events.push(
            Event::new("section.created", "section", section.id, json!({"after": section, "source": "import"}))
                .inspection(self.inspection_id),
        );
        for (i, f) in s.findings.iter().enumerate() {
            self.finding(conn, Some(section.id), f, &format!("{path}.findings[{i}]"))?;
        }
        for (i, c) in s.children.iter().enumerate() {
            self.section(conn, Some(section.id), level + 1, i as i32 + 1, c, &format!("{path}.children[{i}]"))?;
        }
        Ok(())
    }
}

/// Stores a validated ledger as a new inspection, inside the caller's write transaction.
///
/// Each row costs the same whatever the ledger's size (its inserts; the units and leaders it
/// names are checked once each; one `audit::Recorder` writes the events), so the time is linear
/// in the ledger's size. `cancel` is checked before each row and each event: once the request
/// has gone, the import returns `AppError::Cancelled` and the transaction rolls back.
pub fn store(
    conn: &mut DbConn,
    actor: &Actor,
    scope: Scope,
    created_by: i64,
    ledger: &LedgerImport,
    derive: Derive,
    cancel: &Cancel,
) -> Result<Inspection, AppError> {
    let row = prepare_new(&ledger.inspection, created_by, "inspection.")?;
    check_units(conn, scope, row.inspecting_unit_id, row.inspected_unit_id).map_err(|e| match e {
        AppError::Validation(v) => AppError::Validation(
            v.into_iter().map(|f| FieldError::new(format!("inspection.{}", f.field), f.message)).collect(),
        ),
        other => other,
    })?;
    let inspection = Inspection::from(inspections::insert(conn, &row)?);
    let t = totals(ledger);
    let imported =
        Event::new("inspection.imported", "inspection", inspection.id, json!({"after": inspection, "totals": t}))
            .inspection(inspection.id);
    // Unnumbered findings continue after the highest given number.
    fn max_seq(s: &ImportSection) -> i32 {
        s.findings.iter().filter_map(|f| f.seq).chain(s.children.iter().map(max_seq)).max().unwrap_or(0)
    }
    let given =
        ledger.sections.iter().map(max_seq).chain(ledger.findings.iter().filter_map(|f| f.seq)).max().unwrap_or(0);
    let mut store = Store {
        events: vec![imported],
        inspection_id: inspection.id,
        created_by,
        next_seq: given,
        derive,
        scope,
        units: HashMap::new(),
        leaders: HashMap::new(),
        cancel,
    };
    for (i, s) in ledger.sections.iter().enumerate() {
        store.section(conn, None, 1, i as i32 + 1, s, &format!("sections[{i}]"))?;
    }
    for (i, f) in ledger.findings.iter().enumerate() {
        store.finding(conn, None, f, &format!("findings[{i}]"))?;
    }
    let mut recorder = audit::Recorder::new(conn, actor)?;
    for event in store.events {
        cancel.check()?;
        recorder.record(conn, event)?;
    }
    Ok(inspection)
}
