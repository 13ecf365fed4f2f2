//! Finding DTOs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{is_overdue, warning_level, FindingStatus, ReviewOutcome, Sort, WarningLevel};
use super::queries::{FindingFilter, FindingRow};
use crate::config::WarningThresholds;
use crate::error::AppError;
use crate::http::query::MeOrId;
use crate::validate::double_option;

/// A finding (问题) of an inspection and the state of its rectification.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 42,
    "inspection_id": 7,
    "section_id": 5,
    "seq": 9,
    "title": "监管与审批分离，“监审”工作衔接不紧密",
    "description": "“重审批、轻监管”“只审批、不监管”的思维定式依然存在。",
    "responsible_unit_id": 12,
    "responsible_leader_id": 5,
    "measures": "完善《审批联席会议制度》，制定《加强审管联动提升事中事后监管效能实施方案》",
    "outcome": null,
    "due_on": "2024-12-31",
    "status": "in_progress",
    "long_term": false,
    "blocked_reason": null,
    "blocked_until": null,
    "closed_at": null,
    "reopen_count": 0,
    "overdue": false,
    "warning_level": "yellow",
    "version": 3,
    "created_at": "2024-09-12T02:15:00Z",
    "updated_at": "2024-12-21T08:00:00Z"
}))]
pub struct Finding {
    pub id: i64,
    pub inspection_id: i64,
    /// The aspect (or category) it belongs to.
    pub section_id: Option<i64>,
    /// Number within the inspection: 1, 2, 3 …
    pub seq: i32,
    #[schema(example = "监管与审批分离，“监审”工作衔接不紧密")]
    pub title: String,
    pub description: Option<String>,
    /// The leading unit (牵头单位).
    pub responsible_unit_id: Option<i64>,
    /// The responsible leader (a user).
    pub responsible_leader_id: Option<i64>,
    /// Planned measures (整改措施).
    #[schema(example = "完善《审批联席会议制度》，制定《加强审管联动提升事中事后监管效能实施方案》")]
    pub measures: Option<String>,
    /// What was done (整改情况), set on closure.
    #[schema(example = "完善《审批联席会议制度》和《加强审管联动提升事中事后监管效能实施方案》，有效避免审管分离。")]
    pub outcome: Option<String>,
    /// The deadline (整改时限).
    #[schema(example = "2024-12-31")]
    pub due_on: Option<NaiveDate>,
    pub status: FindingStatus,
    /// Needs continued effort (长期坚持).
    pub long_term: bool,
    pub blocked_reason: Option<String>,
    pub blocked_until: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reopen_count: i32,
    /// Derived: `due_on` is before today (configured time zone) and the finding is not closed.
    pub overdue: bool,
    /// Derived, for open work: `red` overdue, `yellow` due within 10 days, `green` within 20, else `none`.
    pub warning_level: WarningLevel,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the derived fields are computed against.
#[derive(Debug, Clone, Copy)]
pub struct Derive {
    pub today: NaiveDate,
    pub thresholds: WarningThresholds,
}

impl Finding {
    pub fn from_row(r: FindingRow, d: Derive) -> Self {
        let status = r.status;
        Self {
            id: r.id,
            inspection_id: r.inspection_id,
            section_id: r.section_id,
            seq: r.seq,
            title: r.title,
            description: r.description,
            responsible_unit_id: r.responsible_unit_id,
            responsible_leader_id: r.responsible_leader_id,
            measures: r.measures,
            outcome: r.outcome,
            due_on: r.due_on,
            status,
            long_term: r.long_term,
            blocked_reason: r.blocked_reason,
            blocked_until: r.blocked_until,
            closed_at: r.closed_at.map(|t| t.and_utc()),
            reopen_count: r.reopen_count,
            overdue: is_overdue(status, r.due_on, d.today),
            warning_level: warning_level(status, r.due_on, d.today, d.thresholds),
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A new finding; it starts `open`. Status and derived fields are never set by a client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "inspection_id": 7,
    "section_id": 3,
    "title": "“三重一大”事项集体决策制度执行不严格",
    "description": "2023年个别重大事项未经局党组会议集体研究即组织实施，会议记录不完整。",
    "responsible_unit_id": 12,
    "responsible_leader_id": 5,
    "measures": "修订《局党组议事规则》，建立重大事项集体决策台账",
    "due_on": "2024-11-30"
}))]
pub struct NewFinding {
    pub inspection_id: i64,
    #[serde(default)]
    pub section_id: Option<i64>,
    /// Default: the next number in the inspection. A number already used is a 409.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub seq: Option<i32>,
    #[schema(example = "“三重一大”事项集体决策制度执行不严格", min_length = 1, max_length = 500)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[serde(default)]
    pub responsible_unit_id: Option<i64>,
    #[serde(default)]
    pub responsible_leader_id: Option<i64>,
    #[serde(default)]
    #[schema(example = "修订《局党组议事规则》，建立重大事项集体决策台账", max_length = 20000)]
    pub measures: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    pub due_on: Option<NaiveDate>,
}

/// Changes to the descriptive fields; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "measures": "修订《局党组议事规则》，建立重大事项集体决策台账",
    "responsible_leader_id": 5,
    "due_on": "2024-12-31"
}))]
pub struct FindingPatch {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub section_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub responsible_unit_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub responsible_leader_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub measures: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::date::patch")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
}

/// Blocking a finding that the unit cannot finish alone (e.g. "等待省上统一安排").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "需待区财政局完成专项审计后方可整改", "until": "2025-03-31"}))]
pub struct BlockFinding {
    #[schema(example = "系政务系统问题，等待省上统一安排", min_length = 1, max_length = 20000)]
    pub reason: String,
    /// When the blocker is expected to clear, if known.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[schema(example = "2025-03-31")]
    pub until: Option<NaiveDate>,
}

/// A look-back review (回头看) of a closed finding.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3,
    "finding_id": 42,
    "reviewer_id": 8,
    "outcome": "sustained",
    "notes": "抽查2025年第一季度审批件，审批结果均已当日推送监管部门，未发现反弹回潮",
    "created_at": "2025-04-10T06:30:00Z"
}))]
pub struct Review {
    pub id: i64,
    pub finding_id: i64,
    pub reviewer_id: i64,
    pub outcome: ReviewOutcome,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Review {
    pub fn from_row(r: super::queries::ReviewRow) -> Self {
        Self {
            id: r.id,
            finding_id: r.finding_id,
            reviewer_id: r.reviewer_id,
            outcome: r.outcome,
            notes: r.notes,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// Recording a look-back review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "outcome": "sustained",
    "notes": "抽查2025年第一季度审批件，审批结果均已当日推送监管部门，未发现反弹回潮"
}))]
pub struct NewReview {
    pub outcome: ReviewOutcome,
    /// At most 20,000 characters.
    #[serde(default)]
    #[schema(example = "抽查2025年第一季度审批件，审批结果均已当日推送监管部门，未发现反弹回潮", max_length = 20000)]
    pub notes: Option<String>,
}

impl<'de> Deserialize<'de> for Sort {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Sort::parse(raw.trim()).ok_or_else(|| {
            serde::de::Error::custom(format!("`{raw}` is not seq, due_on or updated_at (with optional -)"))
        })
    }
}

impl utoipa::PartialSchema for Sort {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(Sort::NAMES)).default(Some("seq".into())).into()
    }
}

impl ToSchema for Sort {}

/// The filters and order of the finding list (contract §5).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    pub inspection_id: Option<i64>,
    pub section_id: Option<i64>,
    /// Repeatable (`status=open&status=blocked`) or comma-separated.
    #[serde(default, deserialize_with = "crate::http::query::comma_list")]
    pub status: Vec<FindingStatus>,
    pub responsible_unit_id: Option<i64>,
    /// Findings with an assignment of this user (`me`: the caller).
    #[param(inline)]
    pub assignee_id: Option<MeOrId>,
    /// Only overdue findings (`true`), or only those that are not (`false`).
    pub overdue: Option<bool>,
    /// `due_on` strictly before this date.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[param(value_type = Option<NaiveDate>)]
    pub due_before: Option<NaiveDate>,
    /// `due_on` strictly after this date.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    #[param(value_type = Option<NaiveDate>)]
    pub due_after: Option<NaiveDate>,
    /// Substring of title or description (Chinese works; Latin letters in any case); at most 200 characters.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only findings changed after this instant (RFC 3339), for incremental sync; pair it with `sort=updated_at`.
    #[param(value_type = Option<String>, format = DateTime, example = "2024-12-20T08:00:00Z")]
    pub updated_after: Option<DateTime<Utc>>,
    /// `seq` (default), `due_on`, `updated_at`; prefix `-` for descending. Findings without `due_on` sort last ascending, first descending.
    #[serde(default)]
    #[param(inline)]
    pub sort: Sort,
}

impl FindingQuery {
    /// The filter for the caller `user_id` (`assignee_id=me` resolved); a search text over 200 characters is a 422.
    pub fn filter(self, user_id: i64) -> Result<FindingFilter, AppError> {
        let text = self.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if text.is_some_and(|t| t.chars().count() > 200) {
            return Err(AppError::invalid("q", "must be at most 200 characters"));
        }
        Ok(FindingFilter {
            inspection_id: self.inspection_id,
            section_id: self.section_id,
            status: self.status,
            responsible_unit_id: self.responsible_unit_id,
            assignee_id: self.assignee_id.map(|a| a.resolve(user_id)),
            overdue: self.overdue,
            due_before: self.due_before,
            due_after: self.due_after,
            updated_after: self.updated_after.map(|t| t.naive_utc()),
            q: text.map(str::to_owned),
        })
    }
}
