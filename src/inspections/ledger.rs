//! `GET /api/v1/inspections/{id}/ledger`: the whole ledger (整改台账) as a tree.

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::api::Inspection;
use super::sections::queries::{self as sections, SectionRow};
use super::service::find_in_scope;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::findings::api::{Derive, Finding};
use crate::findings::model::FindingStatus;
use crate::findings::queries as findings;
use crate::state::AppState;

/// A section with its sub-sections and findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerSection {
    #[schema(example = 20)]
    pub id: i64,
    /// Null for a category (level 1).
    pub parent_id: Option<i64>,
    /// Order among siblings.
    #[schema(example = 1)]
    pub position: i32,
    #[schema(example = "聚焦政治站位方面")]
    pub title: String,
    /// 1 category (大类), 2 aspect (方面), 3 sub-aspect.
    #[schema(example = 1, minimum = 1, maximum = 3)]
    pub level: i32,
    #[schema(no_recursion)]
    pub children: Vec<LedgerSection>,
    /// By seq.
    pub findings: Vec<Finding>,
}

/// Findings per status; every status is present.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct StatusCounts {
    #[schema(example = 0)]
    pub open: i64,
    #[schema(example = 0)]
    pub in_progress: i64,
    #[schema(example = 0)]
    pub pending_closure: i64,
    #[schema(example = 2)]
    pub blocked: i64,
    #[schema(example = 24)]
    pub closed: i64,
}

impl StatusCounts {
    pub fn add(&mut self, status: FindingStatus, n: i64) {
        match status {
            FindingStatus::Open => self.open += n,
            FindingStatus::InProgress => self.in_progress += n,
            FindingStatus::PendingClosure => self.pending_closure += n,
            FindingStatus::Blocked => self.blocked += n,
            FindingStatus::Closed => self.closed += n,
        }
    }
}

/// "4 大类 8 个方面 26 个问题", and where they stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerTotals {
    /// Level-1 sections (大类).
    #[schema(example = 4)]
    pub categories: i64,
    /// Level-2 sections (方面).
    #[schema(example = 8)]
    pub aspects: i64,
    #[schema(example = 26)]
    pub findings: i64,
    pub by_status: StatusCounts,
}

/// The ledger of one inspection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ledger {
    pub inspection: Inspection,
    /// Categories in position order, each with its aspects and findings.
    pub sections: Vec<LedgerSection>,
    /// Findings not filed under any section.
    pub unsectioned_findings: Vec<Finding>,
    pub totals: LedgerTotals,
}

fn build(
    parent: Option<i64>,
    children_of: &HashMap<Option<i64>, Vec<&SectionRow>>,
    findings_of: &mut HashMap<Option<i64>, Vec<Finding>>,
) -> Vec<LedgerSection> {
    let Some(children) = children_of.get(&parent) else { return Vec::new() };
    children
        .iter()
        .map(|s| LedgerSection {
            id: s.id,
            parent_id: s.parent_id,
            position: s.position,
            title: s.title.clone(),
            level: s.level,
            children: build(Some(s.id), children_of, findings_of),
            findings: findings_of.remove(&Some(s.id)).unwrap_or_default(),
        })
        .collect()
}

/// The whole ledger (整改台账) of an inspection as a tree, with totals.
///
/// `sections` holds the categories in position order (then id), each with its `children`
/// and its `findings` by `seq`; `unsectioned_findings` the findings filed under no section;
/// `totals` the categories (level 1), aspects (level 2) and findings, and a count per finding
/// status ("4 大类 8 个方面 26 个问题"). Each finding's `overdue` and `warning_level` are
/// derived for today in the configured time zone. The whole ledger comes in one answer, with
/// no `ETag` and no paging. Reads only.
///
/// **Who:** any authenticated caller who sees the inspection (its inspected or inspecting
/// unit in their scope); admins for every inspection.
///
/// **Errors:** 404 when the inspection is unknown or out of scope.
#[utoipa::path(
    tag = "inspections",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The ledger", body = Ledger),
    ),
)]
#[get("/inspections/{id}/ledger")]
pub async fn get_ledger(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (inspection, section_rows, finding_rows) = state
        .db
        .run(move |conn| {
            let inspection = find_in_scope(conn, &user, id)?;
            Ok((inspection, sections::of_inspection(conn, id)?, findings::of_inspection(conn, id)?))
        })
        .await?;
    let d = Derive { today: state.today(), thresholds: state.config.warnings };
    let mut by_status = StatusCounts::default();
    let total_findings = finding_rows.len() as i64;
    let mut findings_of: HashMap<Option<i64>, Vec<Finding>> = HashMap::new();
    for row in finding_rows {
        let finding = Finding::from_row(row, d);
        by_status.add(finding.status, 1);
        findings_of.entry(finding.section_id).or_default().push(finding);
    }
    let mut children_of: HashMap<Option<i64>, Vec<&SectionRow>> = HashMap::new();
    for s in &section_rows {
        children_of.entry(s.parent_id).or_default().push(s);
    }
    let totals = LedgerTotals {
        categories: section_rows.iter().filter(|s| s.level == 1).count() as i64,
        aspects: section_rows.iter().filter(|s| s.level == 2).count() as i64,
        findings: total_findings,
        by_status,
    };
    let sections = build(None, &children_of, &mut findings_of);
    let unsectioned_findings = findings_of.remove(&None).unwrap_or_default();
    let ledger = Ledger { inspection: Inspection::from(inspection), sections, unsectioned_findings, totals };
    Ok(HttpResponse::Ok().json(ledger))
}
