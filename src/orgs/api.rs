//! Org unit DTOs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::OrgUnitRow;
use crate::validate::double_option;

/// A unit of the org tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgUnit {
    #[schema(example = 12)]
    pub id: i64,
    /// Null for a root unit.
    #[schema(example = 2)]
    pub parent_id: Option<i64>,
    #[schema(example = "杨陵区行政审批服务局")]
    pub name: String,
    /// Unified social credit code (统一社会信用代码), GB 32100-2015.
    #[schema(example = "11610403MB29577305")]
    pub credit_code: Option<String>,
    #[schema(example = 3)]
    pub version: i32,
    #[schema(example = "2024-05-20T01:30:00Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2024-09-12T02:15:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<OrgUnitRow> for OrgUnit {
    fn from(r: OrgUnitRow) -> Self {
        Self {
            id: r.id,
            parent_id: r.parent_id,
            name: r.name,
            credit_code: r.credit_code,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgUnit {
    #[schema(example = "杨陵区行政审批服务局", min_length = 1, max_length = 500)]
    pub name: String,
    /// The parent unit; null or absent makes a new root.
    #[serde(default)]
    #[schema(example = 2)]
    pub parent_id: Option<i64>,
    /// 18 characters (GB 32100-2015) with a valid check character; blank means none.
    #[serde(default)]
    #[schema(example = "11610403MB29577305", pattern = r"^\s*([0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18})?\s*$")]
    pub credit_code: Option<String>,
}

/// Changes to a unit; absent fields stay as they are, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUnitPatch {
    #[serde(default)]
    #[schema(example = "杨陵区政务服务中心", min_length = 1, max_length = 500)]
    pub name: Option<String>,
    /// Moves the unit (and everything below it) under another parent; null makes it a root.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, example = 2)]
    pub parent_id: Option<Option<i64>>,
    /// 18 characters with a valid check character; null or blank clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "11610403MB29577305", pattern = r"^\s*([0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18})?\s*$")]
    pub credit_code: Option<Option<String>>,
}

/// Filters of the org unit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgUnitQuery {
    /// Only the children of this unit.
    #[param(example = 2)]
    pub parent_id: Option<i64>,
}
