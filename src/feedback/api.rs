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
    pub id: i64,
    pub inspection_id: i64,
    pub content: String,
    /// Personal data: shown to leaders and admins only (null for everyone else).
    pub contact: Option<String>,
    pub status: FeedbackStatus,
    pub response: Option<String>,
    pub responded_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
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
    /// Required to answer.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub response: Option<Option<String>>,
}

/// Feedback from the public.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPublicFeedback {
    /// At most 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub content: String,
    /// How to reach the sender (optional; seen only by leaders and admins). At most 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub contact: Option<String>,
}

/// The receipt of accepted feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceipt {
    pub id: i64,
    pub status: FeedbackStatus,
    pub received_at: DateTime<Utc>,
}
