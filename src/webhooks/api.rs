//! Webhook DTOs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::DeliveryStatus;
use super::queries::{AttemptRow, DeliveryRow, WebhookRow};
use crate::validate::double_option;

/// A webhook subscription: events of its unit's subtree whose type matches `event_types`
/// are POSTed to `url`, signed per Standard Webhooks.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 4,
    "org_unit_id": 12,
    "url": "https://dubandu.example.gov.cn/hooks/rectify",
    "event_types": ["finding.closed", "finding.overdue", "notice.*"],
    "description": "区纪委监委督查督办平台",
    "active": true,
    "disabled_at": null,
    "failing_since": null,
    "previous_secret_expires_at": null,
    "created_by": 1,
    "version": 1,
    "created_at": "2024-09-15T02:00:00Z",
    "updated_at": "2024-09-15T02:00:00Z"
}))]
pub struct Webhook {
    pub id: i64,
    /// The scope root: the webhook receives what a user of this unit sees in `/api/v1/events`.
    pub org_unit_id: i64,
    #[schema(example = "https://dubandu.example.gov.cn/hooks/rectify")]
    pub url: String,
    /// Event types (`finding.closed`), prefixes (`finding.*`) or `*`.
    #[schema(example = json!(["finding.closed", "finding.overdue", "notice.*"]))]
    pub event_types: Vec<String>,
    #[schema(example = "区纪委监委督查督办平台")]
    pub description: Option<String>,
    /// Inactive webhooks receive nothing (set false by hand, or after a day of failed deliveries).
    pub active: bool,
    /// When it was disabled after a day of failures (null otherwise).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Since when deliveries fail without a success in between (null while they succeed).
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs too (null when none).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Self {
            id: r.id,
            org_unit_id: r.org_unit_id,
            url: r.url,
            event_types: r.event_types.split(',').map(str::to_owned).filter(|t| !t.is_empty()).collect(),
            description: r.description,
            active: r.active,
            disabled_at: r.disabled_at.map(|t| t.and_utc()),
            failing_since: r.failing_since.map(|t| t.and_utc()),
            previous_secret_expires_at: r.previous_secret_until.map(|t| t.and_utc()),
            created_by: r.created_by,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A webhook with its signing secret: answered once, on creation and on rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 4,
    "org_unit_id": 12,
    "url": "https://dubandu.example.gov.cn/hooks/rectify",
    "event_types": ["finding.closed", "finding.overdue", "notice.*"],
    "description": "区纪委监委督查督办平台",
    "active": true,
    "disabled_at": null,
    "failing_since": null,
    "previous_secret_expires_at": null,
    "created_by": 1,
    "version": 1,
    "created_at": "2024-09-15T02:00:00Z",
    "updated_at": "2024-09-15T02:00:00Z",
    "secret": "whsec_frN/xoKXIf1s7Cl682MWu6jj9s+FA9GQxca8/uKVj6M="
}))]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64 of 32 random bytes: the key of the HMAC-SHA256 signatures. Shown only now.
    #[schema(example = "whsec_frN/xoKXIf1s7Cl682MWu6jj9s+FA9GQxca8/uKVj6M=")]
    pub secret: String,
}

/// A new webhook (admin; leaders and inspectors for their own unit's subtree).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://dubandu.example.gov.cn/hooks/rectify",
    "event_types": ["finding.closed", "finding.overdue", "notice.*"],
    "org_unit_id": 12,
    "description": "区纪委监委督查督办平台"
}))]
pub struct NewWebhook {
    /// `http` or `https`; loopback, link-local and private addresses are refused (422)
    /// unless the service runs with `RECTIFY_WEBHOOK_ALLOW_PRIVATE=true`.
    #[schema(
        example = "https://dubandu.example.gov.cn/hooks/rectify",
        pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\u0000-\u0020\u007F-\u009F]+$",
        max_length = 2000
    )]
    pub url: String,
    /// 1–50 event types (see `EventType`), prefixes like `finding.*`, or `*`.
    #[schema(example = json!(["finding.closed", "finding.overdue", "notice.*"]), min_items = 1, max_items = 50)]
    pub event_types: Vec<String>,
    /// The scope root; default the caller's unit. Must lie in the caller's scope.
    #[schema(example = 12)]
    pub org_unit_id: Option<i64>,
    /// At most 500 characters.
    #[schema(example = "区纪委监委督查督办平台", max_length = 500)]
    pub description: Option<String>,
    /// Default true.
    pub active: Option<bool>,
}

/// Changes to a webhook (needs `If-Match`). Setting `active` to true again clears a disablement.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_types": ["finding.*", "notice.*"], "active": true}))]
pub struct WebhookPatch {
    /// As for a new webhook.
    #[schema(pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\u0000-\u0020\u007F-\u009F]+$", max_length = 2000)]
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "attempt": 1,
    "started_at": "2024-12-18T03:20:01Z",
    "duration_ms": 10004,
    "http_status": null,
    "error": "error sending request for url (https://dubandu.example.gov.cn/hooks/rectify): operation timed out",
    "next_attempt_at": "2024-12-18T03:20:16Z"
}))]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's HTTP status; null when none came (see `error`).
    pub http_status: Option<i32>,
    /// What went wrong without a status: timeout, refused connection, forbidden address…
    pub error: Option<String>,
    /// When the next attempt is due (null when none follows).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<AttemptRow> for DeliveryAttempt {
    fn from(r: AttemptRow) -> Self {
        Self {
            attempt: r.attempt,
            started_at: r.started_at.and_utc(),
            duration_ms: r.duration_ms,
            http_status: r.http_status,
            error: r.error,
            next_attempt_at: r.next_attempt_at.map(|t| t.and_utc()),
        }
    }
}

/// An event's delivery to a webhook, with its attempts. Its `webhook-id` header is `msg_<id>`,
/// the same on every attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 901,
    "webhook_id": 4,
    "event_id": 5120,
    "event_type": "finding.closed",
    "status": "succeeded",
    "next_attempt_at": null,
    "attempts": [
        {"attempt": 1, "started_at": "2024-12-18T03:20:01Z", "duration_ms": 10004, "http_status": null,
         "error": "error sending request for url (https://dubandu.example.gov.cn/hooks/rectify): operation timed out",
         "next_attempt_at": "2024-12-18T03:20:16Z"},
        {"attempt": 2, "started_at": "2024-12-18T03:20:16Z", "duration_ms": 87, "http_status": 204,
         "error": null, "next_attempt_at": null}
    ],
    "created_at": "2024-12-18T03:20:00Z",
    "updated_at": "2024-12-18T03:20:16Z"
}))]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    #[schema(example = "finding.closed")]
    pub event_type: String,
    pub status: DeliveryStatus,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Delivery {
    pub fn from_parts(r: DeliveryRow, event_type: String, attempts: Vec<AttemptRow>) -> Self {
        Self {
            id: r.id,
            webhook_id: r.webhook_id,
            event_id: r.event_id,
            event_type,
            status: r.status,
            next_attempt_at: r.next_attempt_at.map(|t| t.and_utc()),
            attempts: attempts.into_iter().map(DeliveryAttempt::from).collect(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}
