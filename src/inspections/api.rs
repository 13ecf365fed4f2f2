//! Inspection DTOs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::InspectionStatus;
use super::queries::InspectionRow;
use crate::auth::Role;
use crate::validate::double_option;

/// An inspection (巡察) of a unit, whose feedback the unit must rectify.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Inspection {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "区委第三巡察组巡察区行政审批服务局党组反馈问题整改")]
    pub title: String,
    /// The inspection group, as text.
    #[schema(example = "区委第三巡察组")]
    pub inspecting_body: String,
    /// The unit of the inspection group (e.g. the district committee's inspection office).
    #[schema(example = 3)]
    pub inspecting_unit_id: i64,
    #[schema(example = 12)]
    pub inspected_unit_id: i64,
    #[schema(example = "营商环境建设")]
    pub topic: Option<String>,
    #[schema(example = "2024-05-24")]
    pub started_on: NaiveDate,
    #[schema(example = "2024-07-24")]
    pub ended_on: NaiveDate,
    /// When the feedback (反馈意见) was given.
    #[schema(example = "2024-09-10")]
    pub feedback_on: Option<NaiveDate>,
    #[schema(example = "2024-12-10")]
    pub rectification_due_on: Option<NaiveDate>,
    /// The ordered roles that sign off a closure or extension request.
    #[schema(example = json!(["leader", "inspector"]))]
    pub approval_chain: Vec<Role>,
    pub status: InspectionStatus,
    /// When it was published; null until then.
    #[schema(example = "2025-01-06T02:00:00Z")]
    pub published_at: Option<DateTime<Utc>>,
    #[schema(example = 5)]
    pub version: i32,
    #[schema(example = "2024-09-11T01:00:00Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2025-01-06T02:00:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<InspectionRow> for Inspection {
    fn from(r: InspectionRow) -> Self {
        Self {
            id: r.id,
            title: r.title,
            inspecting_body: r.inspecting_body,
            inspecting_unit_id: r.inspecting_unit_id,
            inspected_unit_id: r.inspected_unit_id,
            topic: r.topic,
            started_on: r.started_on,
            ended_on: r.ended_on,
            feedback_on: r.feedback_on,
            rectification_due_on: r.rectification_due_on,
            approval_chain: r.approval_chain.0,
            status: r.status,
            published_at: r.published_at.map(|t| t.and_utc()),
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new inspection; it starts `rectifying`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInspection {
    #[schema(example = "区委第三巡察组巡察区行政审批服务局党组反馈问题整改", min_length = 1, max_length = 500)]
    pub title: String,
    #[schema(example = "区委第三巡察组", min_length = 1, max_length = 500)]
    pub inspecting_body: String,
    #[schema(example = 3)]
    pub inspecting_unit_id: i64,
    #[schema(example = 12)]
    pub inspected_unit_id: i64,
    #[serde(default)]
    #[schema(example = "营商环境建设", max_length = 500)]
    pub topic: Option<String>,
    #[serde(deserialize_with = "crate::validate::date::required")]
    #[schema(example = "2024-05-24")]
    pub started_on: NaiveDate,
    /// Not before `started_on`.
    #[serde(deserialize_with = "crate::validate::date::required")]
    #[schema(example = "2024-07-24")]
    pub ended_on: NaiveDate,
    /// Not before `ended_on`.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[schema(example = "2024-09-10")]
    pub feedback_on: Option<NaiveDate>,
    /// Not before `feedback_on`.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[schema(example = "2024-12-10")]
    pub rectification_due_on: Option<NaiveDate>,
    /// Default `["leader", "inspector"]`; 1–5 steps of leader, inspector or admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["leader", "inspector"]), min_items = 1, max_items = 5)]
    pub approval_chain: Option<Vec<Role>>,
}

/// Changes to an inspection; absent fields stay, `null` clears optional ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionPatch {
    #[serde(default)]
    #[schema(example = "区委第三巡察组巡察区行政审批服务局党组反馈问题整改", min_length = 1, max_length = 500)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(example = "区委第三巡察组", min_length = 1, max_length = 500)]
    pub inspecting_body: Option<String>,
    #[serde(default)]
    #[schema(example = 3)]
    pub inspecting_unit_id: Option<i64>,
    #[serde(default)]
    #[schema(example = 12)]
    pub inspected_unit_id: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "营商环境建设", max_length = 500)]
    pub topic: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[schema(example = "2024-05-24")]
    pub started_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[schema(example = "2024-07-24")]
    pub ended_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::validate::date::patch")]
    #[schema(value_type = Option<NaiveDate>, example = "2024-09-10")]
    pub feedback_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::validate::date::patch")]
    #[schema(value_type = Option<NaiveDate>, example = "2025-03-10")]
    pub rectification_due_on: Option<Option<NaiveDate>>,
    #[serde(default)]
    #[schema(example = json!(["leader", "inspector", "admin"]), min_items = 1, max_items = 5)]
    pub approval_chain: Option<Vec<Role>>,
}
