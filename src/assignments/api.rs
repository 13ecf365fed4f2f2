//! Assignment and progress-report DTOs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::AssignmentStatus;
use super::queries::{AssignmentFilter, AssignmentRow, ReportRow};
use crate::http::query::MeOrId;
use crate::validate::double_option;

/// A piece of a finding's rectification, with a responsible person and a deadline (任务到人、责任到岗).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 108,
    "finding_id": 42,
    "title": "修订审批联席会议制度",
    "measures": "会同区市场监管局修订《审批联席会议制度》，明确审批结果推送监管部门的时限",
    "responsible_unit_id": 12,
    "assignee_id": 23,
    "due_on": "2024-11-30",
    "status": "assigned",
    "claimed_at": "2024-09-20T01:30:00Z",
    "completed_at": null,
    "outcome": null,
    "overdue": false,
    "version": 2,
    "created_at": "2024-09-18T08:00:00Z",
    "updated_at": "2024-09-20T01:30:00Z"
}))]
pub struct Assignment {
    pub id: i64,
    pub finding_id: i64,
    #[schema(example = "修订审批联席会议制度")]
    pub title: String,
    #[schema(example = "会同区市场监管局修订《审批联席会议制度》，明确审批结果推送监管部门的时限")]
    pub measures: Option<String>,
    pub responsible_unit_id: i64,
    /// Null while unclaimed.
    pub assignee_id: Option<i64>,
    /// Not after the finding's `due_on`.
    #[schema(example = "2024-11-30")]
    pub due_on: NaiveDate,
    pub status: AssignmentStatus,
    /// When it got its assignee (claimed or assigned).
    pub claimed_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// What was done, given on completion.
    #[schema(example = "已完成《审批联席会议制度》修订，经局党组会议审议通过并印发执行")]
    pub outcome: Option<String>,
    /// Derived: `due_on` is before today and the assignment is not done.
    pub overdue: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Assignment {
    pub fn from_row(r: AssignmentRow, today: NaiveDate) -> Self {
        let status = r.status;
        Self {
            id: r.id,
            finding_id: r.finding_id,
            title: r.title,
            measures: r.measures,
            responsible_unit_id: r.responsible_unit_id,
            assignee_id: r.assignee_id,
            due_on: r.due_on,
            status,
            claimed_at: r.claimed_at.map(|t| t.and_utc()),
            completed_at: r.completed_at.map(|t| t.and_utc()),
            outcome: r.outcome,
            overdue: status != AssignmentStatus::Done && r.due_on < today,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new assignment (leader). Without `assignee_id` it waits to be claimed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "修订审批联席会议制度",
    "measures": "会同区市场监管局修订《审批联席会议制度》，明确审批结果推送监管部门的时限",
    "responsible_unit_id": 12,
    "assignee_id": 23,
    "due_on": "2024-11-30"
}))]
pub struct NewAssignment {
    #[schema(example = "修订审批联席会议制度", min_length = 1, max_length = 500)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub measures: Option<String>,
    pub responsible_unit_id: i64,
    /// Assign at once: an active user of the responsible unit (or below it).
    #[serde(default)]
    pub assignee_id: Option<i64>,
    /// Not after the finding's `due_on`.
    #[serde(deserialize_with = "crate::validate::date::required")]
    pub due_on: NaiveDate,
}

/// Changes to an assignment (leader); absent fields stay. `assignee_id: null` hands it back to the pool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assignee_id": 24, "due_on": "2024-11-15"}))]
pub struct AssignmentPatch {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub measures: Option<Option<String>>,
    #[serde(default)]
    pub responsible_unit_id: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    pub due_on: Option<NaiveDate>,
}

/// Finishing an assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteAssignment {
    /// What was done (整改情况). At most 20,000 characters.
    #[schema(
        example = "已完成《审批联席会议制度》修订，经局党组会议审议通过并印发执行",
        min_length = 1,
        max_length = 20000
    )]
    pub outcome: String,
}

/// A progress report (每半月分析汇总 reads these).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 301,
    "assignment_id": 108,
    "author_id": 23,
    "content": "已完成制度修订，正在组织学习",
    "percent": 80,
    "period": "2024-11-H1",
    "created_at": "2024-11-08T09:00:00Z"
}))]
pub struct ProgressReport {
    pub id: i64,
    pub assignment_id: i64,
    pub author_id: i64,
    #[schema(example = "已完成制度修订，正在组织学习")]
    pub content: String,
    #[schema(minimum = 0, maximum = 100, example = 80)]
    pub percent: Option<i32>,
    /// The half month of `created_at` in the configured time zone.
    #[schema(example = "2024-11-H1")]
    pub period: String,
    pub created_at: DateTime<Utc>,
}

impl From<ReportRow> for ProgressReport {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            assignment_id: r.assignment_id,
            author_id: r.author_id,
            content: r.content,
            percent: r.percent,
            period: r.period,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// A new progress report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgressReport {
    /// At most 20,000 characters.
    #[schema(example = "已完成制度修订，正在组织学习", min_length = 1, max_length = 20000)]
    pub content: String,
    /// 0–100.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100, example = 80)]
    pub percent: Option<i32>,
}

/// Filters of the assignment list (contract §6).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    /// A user id, or `me`: a person's inbox.
    #[param(inline)]
    pub assignee_id: Option<MeOrId>,
    pub responsible_unit_id: Option<i64>,
    /// Repeatable (`status=unassigned&status=assigned`) or comma-separated.
    #[serde(default, deserialize_with = "crate::http::query::comma_list")]
    pub status: Vec<AssignmentStatus>,
    /// Only overdue assignments (`true`), or only those that are not (`false`).
    pub overdue: Option<bool>,
    pub inspection_id: Option<i64>,
}

impl AssignmentQuery {
    /// The filter for the caller `user_id` (`assignee_id=me` resolved).
    pub fn filter(self, user_id: i64) -> AssignmentFilter {
        AssignmentFilter {
            finding_id: None,
            assignee_id: self.assignee_id.map(|a| a.resolve(user_id)),
            responsible_unit_id: self.responsible_unit_id,
            status: self.status,
            overdue: self.overdue,
            inspection_id: self.inspection_id,
        }
    }
}
