//! Notice DTOs and the list's query parameters.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{NoticeFilter, NoticeLevel, NoticeStatus};
use super::queries::NoticeRow;
use crate::auth::AuthUser;

/// A supervision notice (督办单) to the responsible unit of a finding. Its `level` is the colour
/// of the paper: `reminder` 蓝 (blue, the deadline is near), `urge` 黄 (yellow, behind schedule),
/// `warning` 红 (red, overdue).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 5,
    "finding_id": 42,
    "inspection_id": 7,
    "org_unit_id": 12,
    "level": "urge",
    "message": "该问题整改进度滞后，请于5个工作日内报送整改进展",
    "respond_by": "2024-12-27",
    "issued_by": 8,
    "issued_at": "2024-12-20T02:00:00Z",
    "status": "acknowledged",
    "acknowledged_by": 23,
    "acknowledged_at": "2024-12-20T06:45:00Z",
    "reply": "已收悉，将于本月底前完成整改并报送材料",
    "version": 2
}))]
pub struct Notice {
    pub id: i64,
    pub finding_id: i64,
    /// The finding's inspection.
    pub inspection_id: i64,
    /// The addressed unit: the finding's responsible unit (牵头单位) when the notice was issued.
    pub org_unit_id: i64,
    pub level: NoticeLevel,
    #[schema(example = "该问题整改进度滞后，请于5个工作日内报送整改进展")]
    pub message: String,
    /// The date by which the unit is to respond, if one was set.
    #[schema(example = "2024-12-27")]
    pub respond_by: Option<NaiveDate>,
    /// The leader or inspector who issued it.
    pub issued_by: i64,
    pub issued_at: DateTime<Utc>,
    pub status: NoticeStatus,
    /// The user of the addressed unit who signed for it (签收).
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The unit's answer, given with the acknowledgement.
    #[schema(example = "已收悉，将于本月底前完成整改并报送材料")]
    pub reply: Option<String>,
    pub version: i32,
}

impl Notice {
    pub fn from_row(r: NoticeRow) -> Self {
        Self {
            id: r.id,
            finding_id: r.finding_id,
            inspection_id: r.inspection_id,
            org_unit_id: r.org_unit_id,
            level: r.level,
            message: r.message,
            respond_by: r.respond_by,
            issued_by: r.issued_by,
            issued_at: r.issued_at.and_utc(),
            status: r.status,
            acknowledged_by: r.acknowledged_by,
            acknowledged_at: r.acknowledged_at.map(|t| t.and_utc()),
            reply: r.reply,
            version: r.version,
        }
    }
}

/// A new supervision notice. It goes to the finding's responsible unit; status and the
/// acknowledgement fields are the service's to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "level": "urge",
    "message": "该问题整改进度滞后，请于5个工作日内报送整改进展",
    "respond_by": "2024-12-27"
}))]
pub struct NewNotice {
    /// `reminder` 蓝 (blue): the deadline is near; `urge` 黄 (yellow): the work is behind
    /// schedule; `warning` 红 (red): the deadline has passed.
    pub level: NoticeLevel,
    /// What the unit is to do. At most 20,000 characters.
    #[schema(example = "该问题整改进度滞后，请于5个工作日内报送整改进展", min_length = 1, max_length = 20000)]
    pub message: String,
    /// The date by which the unit is to respond: today or later (in the configured time zone).
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[schema(example = "2024-12-27")]
    pub respond_by: Option<NaiveDate>,
}

/// An acknowledgement (签收). The body may be left out altogether.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAcknowledgement {
    /// The unit's answer (e.g. what it will do, and by when). At most 20,000 characters.
    #[serde(default)]
    #[schema(example = "已收悉，将于本月底前完成整改并报送材料", max_length = 20000)]
    pub reply: Option<String>,
}

/// `addressed_to=me`: notices to the caller's own org unit.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddressedTo {
    Me,
}

/// The filters of the notice list (contract §9.2).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    pub finding_id: Option<i64>,
    pub inspection_id: Option<i64>,
    /// The addressed unit.
    pub org_unit_id: Option<i64>,
    /// Repeatable (`status=issued&status=acknowledged`) or comma-separated.
    #[serde(default, deserialize_with = "crate::http::query::comma_list")]
    pub status: Vec<NoticeStatus>,
    /// `me`: notices addressed to the caller's own org unit (not the units below it).
    #[param(inline)]
    pub addressed_to: Option<AddressedTo>,
}

impl NoticeQuery {
    /// The filter for `user` (`addressed_to=me` resolved to their unit).
    pub fn for_user(self, user: &AuthUser) -> NoticeFilter {
        NoticeFilter {
            finding_id: self.finding_id,
            inspection_id: self.inspection_id,
            org_unit_id: self.org_unit_id,
            status: self.status,
            addressed_to: self.addressed_to.map(|AddressedTo::Me| user.org_unit_id),
        }
    }
}
