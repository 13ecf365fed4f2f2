//! Statistics and half-month summary DTOs.

use serde::Serialize;
use utoipa::ToSchema;

use crate::assignments::api::{Assignment, ProgressReport};
use crate::inspections::ledger::StatusCounts;

/// Counts for one group of findings.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct GroupStats {
    pub total: i64,
    pub by_status: StatusCounts,
}

/// A top-level section (大类) and its findings, at any depth below it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectionStats {
    /// Null for findings filed under no section.
    pub section_id: Option<i64>,
    pub title: Option<String>,
    #[serde(flatten)]
    pub counts: GroupStats,
}

/// A responsible unit (牵头单位) and its findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitStats {
    /// Null for findings without a responsible unit.
    pub responsible_unit_id: Option<i64>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: GroupStats,
}

/// Findings closed in one half month.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodCount {
    #[schema(example = "2024-10-H1")]
    pub period: String,
    pub closed: i64,
}

/// Where an inspection's rectification stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionStats {
    pub inspection_id: i64,
    pub total: i64,
    pub by_status: StatusCounts,
    pub by_section: Vec<SectionStats>,
    pub by_responsible_unit: Vec<UnitStats>,
    /// Open work past its `due_on`.
    pub overdue: i64,
    /// Open work due today or within the next 7 days.
    pub due_within_7_days: i64,
    /// Counted apart: waiting on outside bodies.
    pub blocked: i64,
    /// Closed findings over all findings (0 when there are none).
    pub completion_rate: f64,
    /// Closures per half month in the configured time zone, oldest first (at most the last 48).
    pub closures_per_half_month: Vec<PeriodCount>,
}

/// An open assignment and its latest report in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedAssignment {
    pub finding_seq: i32,
    pub assignment: Assignment,
    pub latest_report: ProgressReport,
}

/// An open assignment with no report in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct SilentAssignment {
    pub finding_seq: i32,
    pub assignment: Assignment,
}

/// The half-month review (每半月分析汇总).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressSummary {
    pub inspection_id: i64,
    #[schema(example = "2024-10-H1")]
    pub period: String,
    /// Open assignments with their latest report of the period.
    pub reported: Vec<ReportedAssignment>,
    /// Open assignments with no report in the period.
    pub without_report: Vec<SilentAssignment>,
}
