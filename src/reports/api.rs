//! Statistics and half-month summary DTOs.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::ReportFormat;
use super::periods::HalfMonth;

use crate::assignments::api::{Assignment, ProgressReport};
use crate::inspections::ledger::StatusCounts;
use crate::notices::model::NoticeLevel;

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
    #[schema(example = 1)]
    pub section_id: Option<i64>,
    #[schema(example = "聚焦政治站位方面")]
    pub title: Option<String>,
    #[serde(flatten)]
    pub counts: GroupStats,
}

/// A responsible unit (牵头单位) and its findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitStats {
    /// Null for findings without a responsible unit.
    #[schema(example = 12)]
    pub responsible_unit_id: Option<i64>,
    #[schema(example = "杨陵区行政审批服务局")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: GroupStats,
}

/// Findings closed in one half month.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodCount {
    #[schema(example = "2024-10-H1")]
    pub period: String,
    #[schema(example = 9)]
    pub closed: i64,
}

/// Where an inspection's rectification stands.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "inspection_id": 7,
    "total": 26,
    "by_status": {"open": 0, "in_progress": 0, "pending_closure": 0, "blocked": 2, "closed": 24},
    "by_section": [
        {"section_id": 1, "title": "聚焦政治站位方面", "total": 6,
         "by_status": {"open": 0, "in_progress": 0, "pending_closure": 0, "blocked": 0, "closed": 6}},
        {"section_id": 4, "title": "聚焦责任落实方面", "total": 7,
         "by_status": {"open": 0, "in_progress": 0, "pending_closure": 0, "blocked": 0, "closed": 7}},
        {"section_id": 7, "title": "聚焦作风效能方面", "total": 7,
         "by_status": {"open": 0, "in_progress": 0, "pending_closure": 0, "blocked": 1, "closed": 6}},
        {"section_id": 10, "title": "聚焦诚信建设方面", "total": 6,
         "by_status": {"open": 0, "in_progress": 0, "pending_closure": 0, "blocked": 1, "closed": 5}}
    ],
    "by_responsible_unit": [
        {"responsible_unit_id": 12, "name": "杨陵区行政审批服务局", "total": 26,
         "by_status": {"open": 0, "in_progress": 0, "pending_closure": 0, "blocked": 2, "closed": 24}}
    ],
    "overdue": 0,
    "due_within_7_days": 1,
    "blocked": 2,
    "completion_rate": 0.9231,
    "closures_per_half_month": [
        {"period": "2024-10-H1", "closed": 9},
        {"period": "2024-10-H2", "closed": 7},
        {"period": "2024-11-H1", "closed": 5},
        {"period": "2024-11-H2", "closed": 3}
    ],
    "notices": {
        "total": 3,
        "acknowledged": 3,
        "outstanding": 0,
        "by_level": {"reminder": 1, "urge": 2, "warning": 0},
        "by_unit": [
            {"org_unit_id": 12, "name": "杨陵区行政审批服务局", "total": 3, "acknowledged": 3,
             "outstanding": 0, "by_level": {"reminder": 1, "urge": 2, "warning": 0}}
        ],
        "average_acknowledgement_seconds": 15300.0,
        "max_acknowledgement_seconds": 24300.0
    }
}))]
pub struct InspectionStats {
    #[schema(example = 7)]
    pub inspection_id: i64,
    #[schema(example = 26)]
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
    #[schema(example = 0.9231)]
    pub completion_rate: f64,
    /// Closures per half month in the configured time zone, oldest first (at most the last 48).
    pub closures_per_half_month: Vec<PeriodCount>,
    /// Supervision notices (督办单) issued on the inspection's findings.
    pub notices: NoticeStats,
}

/// Notices per level; every level is present.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct LevelCounts {
    /// 蓝 (blue): the deadline was near.
    #[schema(example = 1)]
    pub reminder: i64,
    /// 黄 (yellow): the work was behind schedule.
    #[schema(example = 2)]
    pub urge: i64,
    /// 红 (red): the work was overdue.
    #[schema(example = 0)]
    pub warning: i64,
}

impl LevelCounts {
    pub fn add(&mut self, level: NoticeLevel, n: i64) {
        match level {
            NoticeLevel::Reminder => self.reminder += n,
            NoticeLevel::Urge => self.urge += n,
            NoticeLevel::Warning => self.warning += n,
        }
    }
}

/// The notices addressed to one unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeUnitStats {
    /// The addressed unit.
    #[schema(example = 12)]
    pub org_unit_id: i64,
    #[schema(example = "杨陵区行政审批服务局")]
    pub name: Option<String>,
    pub total: i64,
    pub acknowledged: i64,
    /// Issued and not yet acknowledged.
    pub outstanding: i64,
    pub by_level: LevelCounts,
}

/// Supervision notices of an inspection: how many, how pressing, to whom, and how fast they
/// were acknowledged (签收).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct NoticeStats {
    pub total: i64,
    pub acknowledged: i64,
    /// Issued and not yet acknowledged.
    pub outstanding: i64,
    pub by_level: LevelCounts,
    /// Per addressed unit, by unit id.
    pub by_unit: Vec<NoticeUnitStats>,
    /// Mean seconds from `issued_at` to `acknowledged_at` over acknowledged notices (microsecond
    /// precision); null when none is acknowledged.
    #[schema(example = 15300.0)]
    pub average_acknowledgement_seconds: Option<f64>,
    /// The longest of those waits, in seconds; null when none is acknowledged.
    #[schema(example = 24300.0)]
    pub max_acknowledgement_seconds: Option<f64>,
}

/// An open assignment and its latest report in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedAssignment {
    /// The `seq` of the assignment's finding.
    #[schema(example = 9)]
    pub finding_seq: i32,
    pub assignment: Assignment,
    pub latest_report: ProgressReport,
}

/// An open assignment with no report in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct SilentAssignment {
    /// The `seq` of the assignment's finding.
    #[schema(example = 9)]
    pub finding_seq: i32,
    pub assignment: Assignment,
}

/// The half-month review (每半月分析汇总).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressSummary {
    #[schema(example = 7)]
    pub inspection_id: i64,
    #[schema(example = "2024-11-H1")]
    pub period: String,
    /// Open assignments with their latest report of the period.
    pub reported: Vec<ReportedAssignment>,
    /// Open assignments with no report in the period.
    pub without_report: Vec<SilentAssignment>,
}

impl<'de> Deserialize<'de> for ReportFormat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        ReportFormat::parse(raw.trim())
            .ok_or_else(|| serde::de::Error::custom(format!("must be markdown, html or text, got `{raw}`")))
    }
}

impl utoipa::PartialSchema for ReportFormat {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["markdown", "html", "text"]))
            .default(Some("markdown".into()))
            .into()
    }
}

impl ToSchema for ReportFormat {}

/// How to render a report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `markdown` (default), `html` or `text`.
    #[serde(default)]
    #[param(inline)]
    pub format: ReportFormat,
}

/// The spreadsheet formats of the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Csv,
    Xlsx,
}

/// How to export the ledger.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default; UTF-8 with BOM) or `xlsx`.
    #[serde(default)]
    #[param(inline)]
    pub format: ExportFormat,
}

impl<'de> Deserialize<'de> for HalfMonth {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        HalfMonth::parse(raw.trim())
            .ok_or_else(|| serde::de::Error::custom(format!("must look like 2024-10-H1, got `{raw}`")))
    }
}

/// Which half month to review.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `2024-10-H1` (days 1–15) or `2024-10-H2`; default: the current half month.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-H[12]$", example = "2024-10-H1")]
    pub period: Option<HalfMonth>,
}

/// A file's bytes (a spreadsheet): declared `type: string, format: binary`, so generated
/// clients read it as a blob, not as JSON or a number array.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}
