//! Command-line work against the configured database: `import` and `demo`.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::json;

use crate::approvals::model::{RequestKind, RequestStatus};
use crate::approvals::queries as approvals;
use crate::assignments::model::AssignmentStatus;
use crate::assignments::queries::{self as assignments, AssignmentChanges, NewAssignmentRow};
use crate::audit::{self, Actor, Event};
use crate::auth::{password, ApprovalChain, Role, RoleSet, Scope};
use crate::config::Config;
use crate::db::schema::{inspections, users};
use crate::db::{self, Cancel, Db, DbConn};
use crate::error::AppError;
use crate::findings::api::Derive;
use crate::findings::model::{FindingAction, FindingStatus};
use crate::findings::queries as findings;
use crate::findings::workflow;
use crate::imports::api::ImportQuery;
use crate::imports::api::LedgerImport;
use crate::imports::{document, service as import_service};
use crate::orgs::queries as orgs;
use crate::users::queries::{self as user_queries, NewUserRow};

/// The demo's ledger: the project's own sample in the JSON ledger format.
pub const SAMPLE_LEDGER: &str = include_str!("../demo/sample-ledger.json");
/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "rectify-demo-password";

fn derive(config: &Config) -> Derive {
    Derive { today: config.local_date(chrono::Utc::now()), thresholds: config.warnings }
}

/// The first admin: the acting user of command-line imports.
fn admin_id(conn: &mut DbConn) -> Result<i64, AppError> {
    let rows: Vec<(i64, RoleSet)> = users::table.select((users::id, users::roles)).order(users::id.asc()).load(conn)?;
    rows.into_iter()
        .find(|(_, r)| r.contains(Role::Admin))
        .map(|(id, _)| id)
        .ok_or_else(|| AppError::internal("no admin user: start the service once first"))
}

/// `rectify import FILE`: a JSON ledger, or a text document, a ledger sheet (CSV, TSV, XLSX) or a
/// Word file with the given parameters.
pub fn import(
    db: &Db,
    config: &Config,
    file: &std::path::Path,
    params: Vec<(String, String)>,
    charset: Option<&str>,
    dry_run: bool,
) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let charset = charset
        .map(|label| {
            crate::imports::decode::charset(label)
                .ok_or_else(|| format!("--charset {label}: documents are read as utf-8, gbk, gb2312 or gb18030"))
        })
        .transpose()?;
    // The extension decides, as the Content-Type does for the API: .json, .csv, .tsv, .xlsx, .docx, else text.
    let kind = document::Body::of_path(file, charset);
    let describe = |e: AppError| serde_json::to_string_pretty(&e.problem()).unwrap_or_default();
    let q: ImportQuery = crate::http::query::from_pairs(&params).map_err(describe)?;
    let document::Reading { ledger, warnings, sheet } = document::ledger_of(&bytes, kind, &q).map_err(describe)?;
    let totals = import_service::validate(&ledger, config.import_max_findings).map_err(describe)?;
    let mut conn = db.get().map_err(describe)?;
    let d = derive(config);
    let store = |conn: &mut DbConn| {
        let admin = admin_id(conn)?;
        import_service::store(conn, &Actor::system(), Scope::All, admin, &ledger, d, &Cancel::never())
    };
    if dry_run {
        // The import itself, rolled back: what passes here passes for real.
        db::rehearse_tx(&mut conn, store).map_err(describe)?;
        return serde_json::to_string_pretty(
            &json!({"ledger": ledger, "totals": totals, "warnings": warnings, "sheet": sheet}),
        )
        .map_err(|e| e.to_string());
    }
    let inspection = db::write_tx(&mut conn, store).map_err(describe)?;
    serde_json::to_string_pretty(
        &json!({"inspection": inspection, "totals": totals, "warnings": warnings, "sheet": sheet}),
    )
    .map_err(|e| e.to_string())
}

fn demo_user(
    conn: &mut DbConn,
    hash: &str,
    name: &str,
    display: &str,
    unit: i64,
    roles: &[Role],
) -> Result<i64, AppError> {
    let now = db::now();
    let row = user_queries::insert(
        conn,
        &NewUserRow {
            username: name,
            display_name: display,
            org_unit_id: unit,
            password_hash: Some(hash.to_owned()),
            roles: RoleSet::new(roles),
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    audit::record(
        conn,
        &Actor::system(),
        Event::new(
            "user.created",
            "user",
            row.id,
            json!({"after": crate::users::api::User::from(row.clone()), "source": "demo"}),
        )
        .org_unit(unit),
    )?;
    Ok(row.id)
}

fn demo_unit(conn: &mut DbConn, name: &str, parent: i64) -> Result<i64, AppError> {
    let row = orgs::insert(conn, name, Some(parent), None, db::now())?;
    audit::record(
        conn,
        &Actor::system(),
        Event::new(
            "org_unit.created",
            "org_unit",
            row.id,
            json!({"after": crate::orgs::api::OrgUnit::from(row.clone()), "source": "demo"}),
        )
        .org_unit(row.id),
    )?;
    Ok(row.id)
}

/// An assignment of `finding`, claimed by `officer` and, when `done`, completed.
fn demo_assignment(
    conn: &mut DbConn,
    finding_id: i64,
    unit: i64,
    leader: i64,
    officer: i64,
    done: bool,
) -> Result<(), AppError> {
    let finding = findings::find(conn, Scope::All, finding_id)?.ok_or(AppError::NotFound)?;
    workflow::transition(conn, &finding, FindingAction::Assign, |_| {})?;
    let now = db::now();
    let due = finding.due_on.unwrap_or_else(|| now.date() + chrono::Duration::days(30));
    let row = assignments::insert(
        conn,
        &NewAssignmentRow {
            finding_id,
            title: format!("落实问题{}的整改措施", finding.seq),
            measures: finding.measures.clone(),
            responsible_unit_id: unit,
            assignee_id: Some(officer),
            due_on: due,
            status: AssignmentStatus::Assigned,
            claimed_at: Some(now),
            created_by: leader,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    if done {
        let changes = AssignmentChanges {
            status: Some(AssignmentStatus::Done),
            completed_at: Some(Some(now)),
            outcome: Some(finding.outcome.clone().or(Some("已按整改措施完成".into()))),
            version: 2,
            updated_at: now,
            ..Default::default()
        };
        assignments::update(conn, row.id, 1, &changes)?;
    }
    audit::record(
        conn,
        &Actor { user_id: Some(leader), request_id: None },
        Event::new("assignment.created", "assignment", row.id, json!({"source": "demo", "done": done}))
            .inspection(finding.inspection_id)
            .finding(finding_id),
    )?;
    Ok(())
}

/// `rectify demo`: a sample inspection in the fixture's shape, users for every role, findings in every status.
pub fn demo(db: &Db, config: &Config) -> Result<String, String> {
    let describe = |e: AppError| e.to_string();
    let mut ledger: LedgerImport =
        serde_json::from_str(SAMPLE_LEDGER).map_err(|e| format!("the sample ledger is broken: {e}"))?;
    let hash = password::hash_now(DEMO_PASSWORD)?;
    let mut conn = db.get().map_err(describe)?;
    let d = derive(config);
    let users = db::write_tx(&mut conn, |conn| {
        let existing: i64 = inspections::table.count().get_result(conn)?;
        if existing > 0 {
            return Err(AppError::Conflict("the database already holds inspections: run the demo on an empty database".into()));
        }
        let admin = admin_id(conn)?;
        let root: i64 = users::table.filter(users::id.eq(admin)).select(users::org_unit_id).first(conn)?;
        let group = demo_unit(conn, "区委第三巡察组", root)?;
        let bureau = demo_unit(conn, "杨陵区行政审批服务局", root)?;
        let office = demo_unit(conn, "审批服务一科", bureau)?;
        let inspector = demo_user(conn, &hash, "inspector", "王组长", group, &[Role::Inspector])?;
        let leader = demo_user(conn, &hash, "leader", "李局长", bureau, &[Role::Leader])?;
        let officer = demo_user(conn, &hash, "officer", "张科长", bureau, &[Role::Officer])?;
        demo_user(conn, &hash, "office.officer", "赵专员", office, &[Role::Officer])?;
        demo_user(conn, &hash, "viewer", "刘主任", bureau, &[Role::Viewer])?;
        ledger.inspection.inspecting_unit_id = group;
        ledger.inspection.inspected_unit_id = bureau;
        let inspection = import_service::store(conn, &Actor { user_id: Some(inspector), request_id: None }, Scope::All, inspector, &ledger, d, &Cancel::never())?;
        // Bring some open findings along the workflow: in progress, waiting for sign-off.
        let open: Vec<(i64, i32)> = crate::db::schema::findings::table
            .filter(crate::db::schema::findings::inspection_id.eq(inspection.id))
            .filter(crate::db::schema::findings::status.eq(FindingStatus::Open))
            .select((crate::db::schema::findings::id, crate::db::schema::findings::seq))
            .order(crate::db::schema::findings::seq.asc())
            .load(conn)?;
        let mut by_state: HashMap<&str, Vec<i32>> = HashMap::new();
        for (i, (finding_id, seq)) in open.into_iter().enumerate() {
            match i % 3 {
                0 => {
                    demo_assignment(conn, finding_id, bureau, leader, officer, false)?;
                    by_state.entry("in_progress").or_default().push(seq);
                }
                1 => {
                    demo_assignment(conn, finding_id, bureau, leader, officer, true)?;
                    let finding = findings::find(conn, Scope::All, finding_id)?.ok_or(AppError::NotFound)?;
                    let now = db::now();
                    let chain = inspection_chain(conn, inspection.id)?.0;
                    approvals::insert(
                        conn,
                        &approvals::NewRequestRow {
                            kind: RequestKind::Closure,
                            finding_id,
                            submitted_by: officer,
                            status: RequestStatus::Pending,
                            current_step: 1,
                            outcome: finding.outcome.clone().or(Some("已按整改措施完成".into())),
                            evidence: Some("[]".into()),
                            long_term: Some(false),
                            new_due_on: None,
                            previous_due_on: None,
                            reason: None,
                            version: 1,
                            created_at: now,
                            updated_at: now,
                        },
                        &chain,
                    )?;
                    workflow::transition(conn, &finding, FindingAction::RequestClosure, |_| {})?;
                    by_state.entry("pending_closure").or_default().push(seq);
                }
                _ => by_state.entry("open").or_default().push(seq),
            }
        }
        Ok(json!({"inspection_id": inspection.id, "units": {"inspection_group": group, "bureau": bureau, "office": office}, "workflow": by_state}))
    })
    .map_err(describe)?;
    Ok(format!(
        "{}\nDemo users (password `{DEMO_PASSWORD}`): inspector, leader, officer, office.officer, viewer",
        serde_json::to_string_pretty(&users).unwrap_or_default()
    ))
}

fn inspection_chain(conn: &mut DbConn, id: i64) -> Result<ApprovalChain, AppError> {
    Ok(inspections::table.filter(inspections::id.eq(id)).select(inspections::approval_chain).first(conn)?)
}
