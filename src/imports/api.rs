//! The JSON ledger format (import, dry-run preview, demo data).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::sheet::SheetReading;
use crate::findings::model::FindingStatus;
use crate::inspections::api::{Inspection, NewInspection};

/// A whole ledger: the inspection, its category → aspect tree and the findings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerImport {
    pub inspection: NewInspection,
    /// Categories (大类) in order, each with aspects (方面) and findings.
    #[serde(default)]
    pub sections: Vec<ImportSection>,
    /// Findings under no section.
    #[serde(default)]
    pub findings: Vec<ImportFinding>,
}

/// A section of the imported tree (at most 3 levels).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportSection {
    #[schema(example = "聚焦政治站位方面", min_length = 1, max_length = 500)]
    pub title: String,
    #[serde(default)]
    #[schema(no_recursion)]
    pub children: Vec<ImportSection>,
    #[serde(default)]
    pub findings: Vec<ImportFinding>,
}

/// A finding as imported. `status` may be `open` (default), `closed` or `blocked`
/// (with `blocked_reason`); work in progress is recorded through the workflow.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportFinding {
    /// Default: numbered in document order after the highest given number.
    #[serde(default)]
    #[schema(example = 1)]
    pub seq: Option<i32>,
    #[schema(example = "学习营商环境建设不经常、不深入", min_length = 1, max_length = 500)]
    pub title: String,
    #[serde(default)]
    #[schema(
        example = "2022年会议研究学习营商环境工作仅1次，个别党员干部对“三个年”内容掌握不全面，营商环境测试成绩合格率较低。",
        max_length = 20000
    )]
    pub description: Option<String>,
    /// 整改措施.
    #[serde(default)]
    #[schema(
        example = "坚持每周集中学习不间断，坚持第一议题制度，将优化营商环境纳入党组理论学习中心组年度学习计划。",
        max_length = 20000
    )]
    pub measures: Option<String>,
    /// 整改情况.
    #[serde(default)]
    #[schema(
        example = "坚持每周集中学习不间断，坚持第一议题制度，持续跟进学习习近平总书记重要讲话重要指示批示精神，及时传达中省、示范区和区委区政府重要会议精神。",
        max_length = 20000
    )]
    pub outcome: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[schema(example = "2024-12-10")]
    pub due_on: Option<NaiveDate>,
    #[serde(default)]
    #[schema(example = 12)]
    pub responsible_unit_id: Option<i64>,
    #[serde(default)]
    #[schema(example = 42)]
    pub responsible_leader_id: Option<i64>,
    #[serde(default)]
    pub status: Option<FindingStatus>,
    /// 长期坚持: the work goes on after closure.
    #[serde(default)]
    #[schema(example = false)]
    pub long_term: Option<bool>,
    /// Required when `status` is `blocked`; ignored otherwise.
    #[serde(default)]
    #[schema(example = "系政务系统问题，等待省上统一安排", max_length = 20000)]
    pub blocked_reason: Option<String>,
}

/// The bytes of an Office file: an XLSX workbook or a Word (.docx) document, as saved.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct OfficeFile(pub Vec<u8>);

/// A problem found while reading a document: where, and what.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportWarning {
    /// 1-based line of a text document (0 for JSON).
    #[schema(example = 57)]
    pub line: usize,
    #[schema(example = "heading number 5 skips ahead (previous was 3)")]
    pub message: String,
}

/// How much a ledger holds.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct ImportTotals {
    #[schema(example = 4)]
    pub categories: usize,
    #[schema(example = 8)]
    pub aspects: usize,
    #[schema(example = 26)]
    pub findings: usize,
}

/// `?dry_run=true`: what would be imported, nothing saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportPreview {
    pub ledger: LedgerImport,
    pub totals: ImportTotals,
    pub warnings: Vec<ImportWarning>,
    /// A spreadsheet (or a Word file's ledger table) only: its header row and what each column
    /// was read as; `columns` and `header_row` change it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<SheetReading>,
}

/// The imported inspection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub inspection: Inspection,
    pub totals: ImportTotals,
    pub warnings: Vec<ImportWarning>,
    /// A spreadsheet (or a Word file's ledger table) only: how its columns were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<SheetReading>,
}

/// The query of an import: `dry_run`, and for a text document the facts of its inspection.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Parse and check only; nothing is saved.
    pub dry_run: Option<bool>,
    /// Text documents: required. This and the other document parameters are refused (400) with a JSON ledger, which carries its own inspection.
    #[param(example = 3)]
    pub inspecting_unit_id: Option<i64>,
    /// Text documents: required.
    #[param(example = 12)]
    pub inspected_unit_id: Option<i64>,
    /// Text documents: default from the inspecting body.
    pub title: Option<String>,
    /// Text documents: default from the opening paragraph.
    pub inspecting_body: Option<String>,
    pub topic: Option<String>,
    /// Text documents: default from the opening paragraph.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[param(value_type = Option<NaiveDate>)]
    pub started_on: Option<NaiveDate>,
    /// Text documents: default from the opening paragraph.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[param(value_type = Option<NaiveDate>)]
    pub ended_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[param(value_type = Option<NaiveDate>)]
    pub feedback_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[param(value_type = Option<NaiveDate>)]
    pub rectification_due_on: Option<NaiveDate>,
    /// XLSX: the worksheet to read (default: the first whose rows hold a ledger's header).
    #[param(example = "台账")]
    pub sheet: Option<String>,
    /// Spreadsheets: the 1-based row of the header (default: found by its column names among the first 30 rows).
    #[param(example = 2, minimum = 1)]
    pub header_row: Option<usize>,
    /// Spreadsheets: how to read columns, `COLUMN=FIELD` pairs separated by commas; a column by its
    /// letter (`C`), number (`3`) or header text; a field among `seq`, `category`, `aspect`,
    /// `title`, `description`, `measures`, `outcome`, `status`, `due_on`,
    /// `responsible_unit`, `responsible_person`, `note`, or `ignore`.
    #[param(example = "C=description,F=ignore")]
    pub columns: Option<String>,
}

impl ImportQuery {
    /// The first document parameter given, if any (a JSON ledger takes none).
    pub fn document_parameter(&self) -> Option<&'static str> {
        [
            ("inspecting_unit_id", self.inspecting_unit_id.is_some()),
            ("inspected_unit_id", self.inspected_unit_id.is_some()),
            ("title", self.title.is_some()),
            ("inspecting_body", self.inspecting_body.is_some()),
            ("topic", self.topic.is_some()),
            ("started_on", self.started_on.is_some()),
            ("ended_on", self.ended_on.is_some()),
            ("feedback_on", self.feedback_on.is_some()),
            ("rectification_due_on", self.rectification_due_on.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
        .or_else(|| self.sheet_parameter())
    }

    /// The first spreadsheet parameter given, if any (a text document takes none).
    pub fn sheet_parameter(&self) -> Option<&'static str> {
        [
            ("sheet", self.sheet.is_some()),
            ("header_row", self.header_row.is_some()),
            ("columns", self.columns.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
    }
}
