//! Public DTOs: only what a published report shows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A published inspection.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicInspection {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "区委第三巡察组巡察区行政审批服务局党组反馈问题整改")]
    pub title: String,
    #[schema(example = "区委第三巡察组")]
    pub inspecting_body: String,
    /// The inspected unit's current name.
    #[schema(example = "杨陵区行政审批服务局")]
    pub inspected_unit: String,
    #[schema(example = "营商环境建设")]
    pub topic: Option<String>,
    /// When the feedback (反馈意见) was given.
    #[schema(example = "2024-09-10")]
    pub feedback_on: Option<NaiveDate>,
    #[schema(example = "2025-01-06T02:00:00Z")]
    pub published_at: DateTime<Utc>,
}
