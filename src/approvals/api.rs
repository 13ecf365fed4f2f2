//! Closure and extension request DTOs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Decision, RequestStatus};
use super::queries::{AwaitingUser, RequestFilter, RequestRow, StepRow};
use crate::auth::{AuthUser, Role};
use crate::error::AppError;

/// One sign-off step.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "step": 1,
    "role": "leader",
    "decided_by": 5,
    "decision": "approve",
    "comment": "整改材料齐全，同意销号",
    "decided_at": "2024-12-18T03:20:00Z"
}))]
pub struct ApprovalStep {
    /// 1-based, in chain order.
    pub step: i32,
    /// The role that decides this step.
    pub role: Role,
    pub decided_by: Option<i64>,
    pub decision: Option<Decision>,
    #[schema(example = "整改材料齐全，同意销号")]
    pub comment: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl ApprovalStep {
    pub fn from_row(r: StepRow) -> Self {
        Self {
            step: r.step,
            role: r.role,
            decided_by: r.decided_by,
            decision: r.decision,
            comment: r.comment,
            decided_at: r.decided_at.map(|t| t.and_utc()),
        }
    }
}

/// A piece of evidence for a closure (佐证材料).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[schema(example = "《审批联席会议制度》(修订稿)", min_length = 1, max_length = 500)]
    pub title: String,
    /// Where to find it: a document number, archive reference or URL.
    #[schema(example = "杨审批发〔2024〕12号", min_length = 1, max_length = 500)]
    pub reference: String,
}

/// A request to close a finding (销号).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 15,
    "finding_id": 42,
    "submitted_by": 23,
    "outcome": "完善《审批联席会议制度》和《加强审管联动提升事中事后监管效能实施方案》，每月召开审管联席会议，审批结果当日推送监管部门。",
    "evidence": [
        {"title": "《审批联席会议制度》(修订稿)", "reference": "杨审批发〔2024〕12号"},
        {"title": "2024年第四季度审管联席会议纪要", "reference": "档案号 WS2024-Y-0087"}
    ],
    "long_term": true,
    "status": "pending",
    "current_step": 2,
    "steps": [
        {"step": 1, "role": "leader", "decided_by": 5, "decision": "approve",
         "comment": "整改材料齐全，同意销号", "decided_at": "2024-12-18T03:20:00Z"},
        {"step": 2, "role": "inspector", "decided_by": null, "decision": null,
         "comment": null, "decided_at": null}
    ],
    "created_at": "2024-12-16T07:45:00Z",
    "updated_at": "2024-12-18T03:20:00Z",
    "version": 2
}))]
pub struct ClosureRequest {
    pub id: i64,
    pub finding_id: i64,
    pub submitted_by: i64,
    /// What was done (整改情况); copied to the finding on approval.
    #[schema(
        example = "完善《审批联席会议制度》和《加强审管联动提升事中事后监管效能实施方案》，每月召开审管联席会议，审批结果当日推送监管部门。"
    )]
    pub outcome: String,
    pub evidence: Vec<Evidence>,
    /// Needs continued effort (长期坚持); copied to the finding on approval.
    pub long_term: bool,
    pub status: RequestStatus,
    /// The step awaiting a decision (while pending).
    pub current_step: i32,
    pub steps: Vec<ApprovalStep>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl ClosureRequest {
    pub fn from_parts(r: RequestRow, steps: Vec<StepRow>) -> Result<Self, AppError> {
        Ok(Self {
            id: r.id,
            finding_id: r.finding_id,
            submitted_by: r.submitted_by,
            outcome: r.outcome.unwrap_or_default(),
            evidence: match r.evidence.as_deref() {
                Some(raw) => serde_json::from_str(raw)?,
                None => Vec::new(),
            },
            long_term: r.long_term.unwrap_or(false),
            status: r.status,
            current_step: r.current_step,
            steps: steps.into_iter().map(ApprovalStep::from_row).collect(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            version: r.version,
        })
    }
}

/// A request to move a finding's deadline (申请延期).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 16,
    "finding_id": 42,
    "submitted_by": 23,
    "new_due_on": "2025-03-31",
    "previous_due_on": "2024-12-31",
    "reason": "需待区财政局完成专项审计后方可整改",
    "status": "pending",
    "current_step": 1,
    "steps": [
        {"step": 1, "role": "leader", "decided_by": null, "decision": null,
         "comment": null, "decided_at": null},
        {"step": 2, "role": "inspector", "decided_by": null, "decision": null,
         "comment": null, "decided_at": null}
    ],
    "created_at": "2024-12-20T01:10:00Z",
    "updated_at": "2024-12-20T01:10:00Z",
    "version": 1
}))]
pub struct ExtensionRequest {
    pub id: i64,
    pub finding_id: i64,
    pub submitted_by: i64,
    #[schema(example = "2025-03-31")]
    pub new_due_on: NaiveDate,
    /// The deadline when the request was made.
    #[schema(example = "2024-12-31")]
    pub previous_due_on: Option<NaiveDate>,
    #[schema(example = "需待区财政局完成专项审计后方可整改")]
    pub reason: String,
    pub status: RequestStatus,
    pub current_step: i32,
    pub steps: Vec<ApprovalStep>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl ExtensionRequest {
    pub fn from_parts(r: RequestRow, steps: Vec<StepRow>) -> Result<Self, AppError> {
        Ok(Self {
            id: r.id,
            finding_id: r.finding_id,
            submitted_by: r.submitted_by,
            new_due_on: r.new_due_on.ok_or_else(|| AppError::internal("extension request without new_due_on"))?,
            previous_due_on: r.previous_due_on,
            reason: r.reason.unwrap_or_default(),
            status: r.status,
            current_step: r.current_step,
            steps: steps.into_iter().map(ApprovalStep::from_row).collect(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            version: r.version,
        })
    }
}

/// Submitting a finding for closure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "outcome": "完善《审批联席会议制度》和《加强审管联动提升事中事后监管效能实施方案》，每月召开审管联席会议，审批结果当日推送监管部门。",
    "evidence": [
        {"title": "《审批联席会议制度》(修订稿)", "reference": "杨审批发〔2024〕12号"},
        {"title": "2024年第四季度审管联席会议纪要", "reference": "档案号 WS2024-Y-0087"}
    ],
    "long_term": true
}))]
pub struct NewClosureRequest {
    /// What was done (整改情况). At most 20,000 characters.
    #[schema(
        min_length = 1,
        example = "完善《审批联席会议制度》和《加强审管联动提升事中事后监管效能实施方案》，每月召开审管联席会议，审批结果当日推送监管部门。"
    )]
    #[schema(min_length = 1, max_length = 20000)]
    pub outcome: String,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub long_term: bool,
}

/// Asking for a later deadline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_due_on": "2025-03-31", "reason": "需待区财政局完成专项审计后方可整改"}))]
pub struct NewExtensionRequest {
    /// After the finding's current `due_on`.
    #[serde(deserialize_with = "crate::validate::date::required")]
    #[schema(example = "2025-03-31")]
    pub new_due_on: NaiveDate,
    /// Why the deadline cannot be kept. At most 20,000 characters.
    #[schema(example = "需待区财政局完成专项审计后方可整改", min_length = 1, max_length = 20000)]
    pub reason: String,
}

/// A decision on the current step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "approve", "step": 2, "comment": "整改材料齐全，同意销号"}))]
pub struct NewDecision {
    pub decision: Decision,
    /// The step the caller means to decide (as read in `current_step`). When given, a request
    /// that has moved on is a 409 instead of a decision on the next step. Send it (or `If-Match`)
    /// whenever one person may hold the roles of two consecutive steps.
    #[serde(default)]
    #[schema(example = 2)]
    pub step: Option<i32>,
    /// Required to reject: it is what the submitter must do next. At most 20,000 characters.
    #[serde(default)]
    #[schema(example = "整改材料齐全，同意销号", max_length = 20000)]
    pub comment: Option<String>,
}

/// `awaiting=me`: pending requests whose current step the caller may decide.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Awaiting {
    Me,
}

/// Filters of the closure and extension request lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// Repeatable (`status=pending&status=rejected`) or comma-separated.
    #[serde(default, deserialize_with = "crate::http::query::comma_list")]
    pub status: Vec<RequestStatus>,
    pub inspection_id: Option<i64>,
    pub finding_id: Option<i64>,
    /// `me`: pending requests whose current step the caller may decide (their role, not the submitter, no other step decided by them).
    #[param(inline)]
    pub awaiting: Option<Awaiting>,
}

impl RequestQuery {
    /// The filter for `user` (`awaiting=me` resolved to their id and roles).
    pub fn for_user(self, user: &AuthUser) -> RequestFilter {
        let awaiting = self.awaiting.map(|Awaiting::Me| AwaitingUser {
            user_id: user.id,
            roles: if user.is_admin() { None } else { Some(user.roles.clone()) },
        });
        RequestFilter { status: self.status, inspection_id: self.inspection_id, finding_id: self.finding_id, awaiting }
    }
}
