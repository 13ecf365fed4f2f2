//! Section DTOs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::queries::SectionRow;
use crate::validate::double_option;

/// A node of the ledger tree: level 1 is a category (大类), 2 an aspect (方面), 3 a sub-aspect.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Section {
    #[schema(example = 22)]
    pub id: i64,
    #[schema(example = 7)]
    pub inspection_id: i64,
    /// Null for a category (level 1).
    #[schema(example = 20)]
    pub parent_id: Option<i64>,
    /// Order among siblings.
    #[schema(example = 2)]
    pub position: i32,
    #[schema(example = "贯彻落实优化营商环境安排部署情况")]
    pub title: String,
    #[schema(example = 2, minimum = 1, maximum = 3)]
    pub level: i32,
    #[schema(example = 1)]
    pub version: i32,
    #[schema(example = "2024-09-12T02:30:00Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2024-09-12T02:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<SectionRow> for Section {
    fn from(r: SectionRow) -> Self {
        Self {
            id: r.id,
            inspection_id: r.inspection_id,
            parent_id: r.parent_id,
            position: r.position,
            title: r.title,
            level: r.level,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new section; its level follows from the parent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSection {
    #[schema(example = "贯彻落实优化营商环境安排部署情况", min_length = 1, max_length = 500)]
    pub title: String,
    /// A section of the same inspection; absent for a category (level 1).
    #[serde(default)]
    #[schema(example = 20)]
    pub parent_id: Option<i64>,
    /// Order among siblings; default: after the last.
    #[serde(default)]
    #[schema(example = 2, minimum = 1, maximum = 1000000)]
    pub position: Option<i32>,
}

/// Changes to a section; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionPatch {
    #[serde(default)]
    #[schema(example = "贯彻落实优化营商环境安排部署情况", min_length = 1, max_length = 500)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(example = 2, minimum = 1, maximum = 1000000)]
    pub position: Option<i32>,
    /// Moves the section (with its subtree) under another parent; null makes it a category.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, example = 20)]
    pub parent_id: Option<Option<i64>>,
}
