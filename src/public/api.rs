//! Public DTOs: only what a published report shows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A published inspection.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicInspection {
    pub id: i64,
    pub title: String,
    pub inspecting_body: String,
    pub inspected_unit: String,
    pub topic: Option<String>,
    pub feedback_on: Option<NaiveDate>,
    pub published_at: DateTime<Utc>,
}
