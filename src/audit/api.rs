//! Audit event DTOs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::queries::EventRow;

/// One audit event: who did what, when.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// Unique and increasing in the order events were written; there may be gaps (a write that
    /// rolled back). Poll with `after=<the id of the last event received>` or the page's cursor.
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// The user who acted; null for the service itself.
    pub actor_id: Option<i64>,
    /// What happened: one of the `EventType`s, e.g. `finding.created`, `assignment.claimed`.
    #[schema(value_type = EventType, example = "finding.updated")]
    pub action: String,
    #[schema(example = "finding")]
    pub entity_type: String,
    pub entity_id: i64,
    pub inspection_id: Option<i64>,
    pub finding_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    /// The change: `after` for creations, `before` and `after` for updates. The service's own
    /// deadline events, `finding.due_soon` and `finding.overdue`, carry `level`, `due_on`,
    /// `days_left` (due soon) or `days_overdue` (overdue), and the finding's `status`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The id of the request that made the change (`X-Request-Id`).
    pub request_id: Option<String>,
}

impl From<EventRow> for AuditEvent {
    fn from(r: EventRow) -> Self {
        Self {
            id: r.id,
            occurred_at: r.occurred_at.and_utc(),
            actor_id: r.actor_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            inspection_id: r.inspection_id,
            finding_id: r.finding_id,
            org_unit_id: r.org_unit_id,
            data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
            request_id: r.request_id,
        }
    }
}

/// The kinds of audit event (`AuditEvent.action`, webhook `type`), from the catalogue.
pub struct EventType;

impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let types = super::catalog::EVENT_TYPES;
        let described: Vec<String> = types.iter().map(|t| format!("- `{}`: {}", t.name, t.description)).collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(types.iter().map(|t| t.name)))
            .description(Some(format!(
                "A kind of audit event. Webhook subscriptions name these, a prefix such as `finding.*`, or `*`.\n\n{}",
                described.join("\n")
            )))
            .into()
    }
}

impl ToSchema for EventType {}
