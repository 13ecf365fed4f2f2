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
pub struct Finding {
    pub id: i64,
    pub inspection_id: i64,
    /// The aspect (or category) it belongs to.
    pub section_id: Option<i64>,
    /// Number within the inspection: 1, 2, 3 …
    pub seq: i32,
    #[schema(example = "学习营商环境建设不经常、不深入")]
    pub title: String,
    pub description: Option<String>,
    /// The leading unit (牵头单位).
    pub responsible_unit_id: Option<i64>,
    /// The responsible leader (a user).
    pub responsible_leader_id: Option<i64>,
    /// Planned measures (整改措施).
    pub measures: Option<String>,
    /// What was done (整改情况), set on closure.
    pub outcome: Option<String>,
    /// The deadline (整改时限).
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
pub struct NewFinding {
    pub inspection_id: i64,
    #[serde(default)]
    pub section_id: Option<i64>,
    /// Default: the next number in the inspection. A number already used is a 409.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub seq: Option<i32>,
    #[schema(min_length = 1)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub responsible_unit_id: Option<i64>,
    #[serde(default)]
    pub responsible_leader_id: Option<i64>,
    #[serde(default)]
    pub measures: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    pub due_on: Option<NaiveDate>,
}

/// Changes to the descriptive fields; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
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
    #[schema(value_type = Option<String>)]
    pub measures: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::date::patch")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
}

/// Blocking a finding that the unit cannot finish alone (e.g. "等待省上统一安排").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockFinding {
    #[schema(example = "系政务系统问题，等待省上统一安排", min_length = 1)]
    pub reason: String,
    /// When the blocker is expected to clear, if known.
    #[serde(default, deserialize_with = "crate::validate::date::optional")]
    pub until: Option<NaiveDate>,
}

/// A look-back review (回头看) of a closed finding.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
pub struct NewReview {
    pub outcome: ReviewOutcome,
    #[serde(default)]
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
