//! Feedback DTOs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::FeedbackStatus;
use super::queries::FeedbackRow;
use crate::validate::double_option;

/// Feedback from the public on a published report, as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feedback {
    #[schema(example = 15)]
    pub id: i64,
    #[schema(example = 7)]
    pub inspection_id: i64,
    #[schema(
        example = "反映区政务服务大厅办理医疗机构执业许可证延续时，窗口仍要求业务主管部门审核盖章，与公布的“无感延续”做法不一致。"
    )]
    pub content: String,
    /// Personal data: shown to leaders and admins only (null for everyone else).
    #[schema(example = "李女士，13800000000")]
    pub contact: Option<String>,
    pub status: FeedbackStatus,
    #[schema(
        example = "经核实，医疗机构执业许可延续已纳入“无感延续”服务清单，无需业务主管部门签字审查。我局已对前台工作人员开展业务培训，感谢您的监督。"
    )]
    pub response: Option<String>,
    /// The user who last triaged it.
    #[schema(example = 42)]
    pub responded_by: Option<i64>,
    #[schema(example = 3)]
    pub version: i32,
    #[schema(example = "2025-01-08T06:12:00Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2025-01-10T02:40:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl Feedback {
    pub fn from_row(r: FeedbackRow, show_contact: bool) -> Self {
        Self {
            id: r.id,
            inspection_id: r.inspection_id,
            content: r.content,
            contact: if show_contact { r.contact } else { None },
            status: r.status,
            response: r.response,
            responded_by: r.responded_by,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Triage (leader).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPatch {
    pub status: FeedbackStatus,
    /// Required to answer (here or stored before); null or blank clears it. At most 20,000 characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "经核实，医疗机构执业许可延续已纳入“无感延续”服务清单，无需业务主管部门签字审查。我局已对前台工作人员开展业务培训，感谢您的监督。", max_length = 20000)]
    pub response: Option<Option<String>>,
}

/// Feedback from the public.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPublicFeedback {
    /// At most 2000 characters.
    #[schema(
        example = "反映区政务服务大厅办理医疗机构执业许可证延续时，窗口仍要求业务主管部门审核盖章，与公布的“无感延续”做法不一致。",
        min_length = 1,
        max_length = 2000
    )]
    #[schema(min_length = 1, max_length = 2000)]
    pub content: String,
    /// How to reach the sender (optional; seen only by leaders and admins). At most 200 characters.
    #[serde(default)]
    #[schema(example = "李女士，13800000000", max_length = 200)]
    pub contact: Option<String>,
}

/// The receipt of accepted feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceipt {
    #[schema(example = 15)]
    pub id: i64,
    /// Always `new`.
    pub status: FeedbackStatus,
    #[schema(example = "2025-01-08T06:12:00Z")]
    pub received_at: DateTime<Utc>,
}
