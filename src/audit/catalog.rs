//! Every kind of audit event the service writes (`action`), with what it means, the kind of
//! entity it is about (`entity_type`) and what its `data` holds. Webhook subscriptions name
//! these (or a `prefix.*` of them); the spec lists them, and `audit::spec` turns the shapes
//! below into typed schemas (one `AuditEvent` variant per type).

/// One kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    pub description: &'static str,
    /// `AuditEvent.entity_type`: what `entity_id` names.
    pub entity_type: &'static str,
    /// What `data` holds: one shape, or (when writers differ) one of several.
    pub data: &'static [&'static Shape],
}

/// A JSON object of a known form: an event's `data`, or a part of one. Each becomes a
/// component schema of its own name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub name: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
}

/// One member of a [`Shape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    /// Present in every event of the shape (an optional field may be absent, never null).
    pub required: bool,
    pub description: &'static str,
}

/// The JSON type of a [`Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A schema of the API, e.g. `Finding`: a resource exactly as the API serves it.
    Api(&'static str),
    /// Another shape of this catalogue.
    Shape(&'static Shape),
    String,
    Integer,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339.
    DateTime,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// Always `null` (the field is there for the events of the same kind that fill it).
    Null,
    /// The type, or `null`.
    Nullable(&'static Ty),
    ArrayOf(&'static Ty),
}

const fn t(
    name: &'static str,
    entity_type: &'static str,
    data: &'static [&'static Shape],
    description: &'static str,
) -> EventType {
    EventType { name, description, entity_type, data }
}

/// A field every event of the shape carries.
const fn f(name: &'static str, ty: Ty, description: &'static str) -> Field {
    Field { name, ty, required: true, description }
}

/// A field only some events of the shape carry.
const fn optional(name: &'static str, ty: Ty, description: &'static str) -> Field {
    Field { name, ty, required: false, description }
}

/// A shape of named fields.
macro_rules! shape {
    ($name:literal, $description:expr, [$($field:expr),+ $(,)?]) => {
        Shape { name: $name, description: $description, fields: &[$($field),+] }
    };
}

/// `{after}`: the resource after the event, as the API serves it.
macro_rules! after {
    ($name:literal, $resource:literal) => {
        shape!(
            $name,
            concat!("`after`: the ", $resource, " after the event, as the API serves it."),
            [f("after", Ty::Api($resource), "")]
        )
    };
}

/// `{before, after}`: the resource before and after the change, as the API serves it.
macro_rules! change {
    ($name:literal, $resource:literal) => {
        shape!(
            $name,
            concat!("`before` and `after`: the ", $resource, " before and after the change, as the API serves it."),
            [f("before", Ty::Api($resource), ""), f("after", Ty::Api($resource), "")]
        )
    };
}

/// `{before}`: the resource as it was, as the API served it.
macro_rules! before {
    ($name:literal, $resource:literal) => {
        shape!(
            $name,
            concat!("`before`: the ", $resource, " as it was, as the API served it."),
            [f("before", Ty::Api($resource), "")]
        )
    };
}

// Parts shared by several shapes.

const FINDING_STATUS_CHANGE: Shape = shape!(
    "FindingStatusChange",
    "A finding's status before and after the event (the same when the event did not move it).",
    [f("from", Ty::Api("FindingStatus"), ""), f("to", Ty::Api("FindingStatus"), "")]
);
const FINDING_STATUS_EFFECT: Shape = shape!(
    "FindingStatusEffect",
    "What the event did to the request's finding: its status.",
    [f("status", Ty::Shape(&FINDING_STATUS_CHANGE), "")]
);
const DUE_ON_CHANGE: Shape = shape!(
    "DueOnChange",
    "A finding's deadline before and after the event.",
    [f("from", Ty::Nullable(&Ty::Date), "Null when the finding had no deadline."), f("to", Ty::Date, "")]
);
const FINDING_DUE_ON_EFFECT: Shape = shape!(
    "FindingDueOnEffect",
    "What the event did to the request's finding: its deadline.",
    [f("due_on", Ty::Shape(&DUE_ON_CHANGE), "")]
);
const LEVEL_CHANGE: Shape = shape!(
    "LevelChange",
    "A section's level before and after a move.",
    [f("from", Ty::Integer, ""), f("to", Ty::Integer, "")]
);
const MOVED_SECTION: Shape = shape!(
    "MovedSection",
    "A section below a moved one, whose level moved with it.",
    [f("id", Ty::Integer, ""), f("level", Ty::Shape(&LEVEL_CHANGE), "")]
);

// Organisation and people.

const ORG_UNIT_CREATED: Shape = shape!(
    "OrgUnitCreatedData",
    "The new unit.",
    [
        f("after", Ty::Api("OrgUnit"), ""),
        optional("source", Ty::OneOf(&["demo"]), "`demo` for the units of `rectify demo`; absent otherwise."),
    ]
);
const ORG_UNIT_CHANGE: Shape = change!("OrgUnitChangeData", "OrgUnit");
const USER_CREATED: Shape = shape!(
    "UserCreatedData",
    "The new user (never a password).",
    [
        f("after", Ty::Api("User"), ""),
        optional("source", Ty::OneOf(&["demo"]), "`demo` for the users of `rectify demo`; absent otherwise."),
    ]
);
const USER_CHANGE: Shape = shape!(
    "UserChangeData",
    "The user before and after the change (never a password), and whether the password changed.",
    [
        f("before", Ty::Api("User"), ""),
        f("after", Ty::Api("User"), ""),
        f("password_changed", Ty::Boolean, "A new password was set (it ends the user's earlier tokens)."),
    ]
);
const SERVICE_ACCOUNT_AFTER: Shape = after!("ServiceAccountAfterData", "ServiceAccount");
const SERVICE_ACCOUNT_BEFORE: Shape = before!("ServiceAccountBeforeData", "ServiceAccount");

// Inspections and their sections.

const INSPECTION_AFTER: Shape = after!("InspectionAfterData", "Inspection");
const INSPECTION_CHANGE: Shape = change!("InspectionChangeData", "Inspection");
const INSPECTION_IMPORTED: Shape = shape!(
    "InspectionImportedData",
    "The imported inspection and what its ledger held (each section and finding has its own `*.created` event).",
    [f("after", Ty::Api("Inspection"), ""), f("totals", Ty::Api("ImportTotals"), "")]
);
const SECTION_CREATED: Shape = shape!(
    "SectionCreatedData",
    "The new section.",
    [
        f("after", Ty::Api("Section"), ""),
        optional("source", Ty::OneOf(&["import"]), "`import` when it came with an imported ledger; absent otherwise."),
    ]
);
const SECTION_UPDATED: Shape = shape!(
    "SectionUpdatedData",
    "The section before and after the change, and the sections below it whose level moved with it.",
    [
        f("before", Ty::Api("Section"), ""),
        f("after", Ty::Api("Section"), ""),
        f("descendants", Ty::ArrayOf(&Ty::Shape(&MOVED_SECTION)), "Empty unless a move changed the level."),
    ]
);
const SECTION_BEFORE: Shape = before!("SectionBeforeData", "Section");

// Findings.

const FINDING_CREATED: Shape = shape!(
    "FindingCreatedData",
    "The new finding.",
    [
        f("after", Ty::Api("Finding"), ""),
        optional("source", Ty::OneOf(&["import"]), "`import` when it came with an imported ledger; absent otherwise."),
    ]
);
const FINDING_CHANGE: Shape = change!("FindingChangeData", "Finding");
const FINDING_BLOCKED: Shape = shape!(
    "FindingBlockedData",
    "Why and until when the finding waits on an outside body.",
    [
        f("from", Ty::Api("FindingStatus"), "The status before the block."),
        f("reason", Ty::String, ""),
        f("until", Ty::Nullable(&Ty::Date), "When the blocker is expected to clear, if known."),
    ]
);
const FINDING_UNBLOCKED: Shape = shape!(
    "FindingUnblockedData",
    "The block that ended.",
    [
        f("reason", Ty::Nullable(&Ty::String), "The reason it was blocked with (null only where none was stored)."),
        f("until", Ty::Nullable(&Ty::Date), ""),
    ]
);
const FINDING_CLOSED: Shape = shape!(
    "FindingClosedData",
    "The closure request whose last approval closed the finding, and what it copied to the finding.",
    [
        f("request_id", Ty::Integer, "The `ClosureRequest`."),
        f("outcome", Ty::String, "What was done (整改情况)."),
        f("long_term", Ty::Boolean, "Needs continued effort (长期坚持)."),
    ]
);
const REVIEW_AFTER: Shape = after!("ReviewAfterData", "Review");
const FINDING_DUE_SOON: Shape = shape!(
    "FindingDueSoonData",
    "The deadline warning (written by the service itself).",
    [
        f("level", Ty::OneOf(&["yellow", "red"]), "The finding's warning level now."),
        f("due_on", Ty::Date, ""),
        f("days_left", Ty::Integer, "Days until `due_on` (0 or less once it is due)."),
        f("status", Ty::Api("FindingStatus"), ""),
    ]
);
const FINDING_OVERDUE: Shape = shape!(
    "FindingOverdueData",
    "The missed deadline (written by the service itself).",
    [
        f("level", Ty::OneOf(&["red"]), ""),
        f("due_on", Ty::Date, ""),
        f("days_overdue", Ty::Integer, "Days since `due_on`."),
        f("status", Ty::Api("FindingStatus"), ""),
    ]
);

// Assignments and progress.

const ASSIGNMENT_CREATED: Shape = shape!(
    "AssignmentCreatedData",
    "The new assignment, and its finding's status (the first assignment starts the work).",
    [f("after", Ty::Api("Assignment"), ""), f("finding_status", Ty::Shape(&FINDING_STATUS_CHANGE), "")]
);
const DEMO_ASSIGNMENT_CREATED: Shape = shape!(
    "DemoAssignmentCreatedData",
    "An assignment made by `rectify demo`, which records no `after`.",
    [f("source", Ty::OneOf(&["demo"]), ""), f("done", Ty::Boolean, "The demo completed it at once.")]
);
const ASSIGNMENT_CHANGE: Shape = change!("AssignmentChangeData", "Assignment");
const ASSIGNMENT_AFTER: Shape = after!("AssignmentAfterData", "Assignment");
const PROGRESS_REPORT_AFTER: Shape = after!("ProgressReportAfterData", "ProgressReport");

// Closure (销号) and extension (延期) requests.

const CLOSURE_REQUESTED: Shape = shape!(
    "ClosureRequestedData",
    "The new request, and its finding's status (now `pending_closure`).",
    [f("after", Ty::Api("ClosureRequest"), ""), f("finding", Ty::Shape(&FINDING_STATUS_EFFECT), "")]
);
const STEP_APPROVED: Shape = shape!(
    "StepApprovedData",
    "A decision on a step that another step follows: nothing happens to the finding yet.",
    [
        f("step", Ty::Integer, "The step decided (1 is the first)."),
        f("role", Ty::Api("Role"), "The step's role."),
        f("decision", Ty::OneOf(&["approve"]), ""),
        f("comment", Ty::Nullable(&Ty::String), ""),
        f("finding", Ty::Null, ""),
    ]
);
const CLOSURE_APPROVED: Shape = shape!(
    "ClosureApprovedData",
    "The last step's approval: the finding is closed (its own `finding.closed` event follows).",
    [
        f("step", Ty::Integer, ""),
        f("role", Ty::Api("Role"), ""),
        f("decision", Ty::OneOf(&["approve"]), ""),
        f("comment", Ty::Nullable(&Ty::String), ""),
        f("finding", Ty::Shape(&FINDING_STATUS_EFFECT), ""),
    ]
);
const CLOSURE_REJECTED: Shape = shape!(
    "ClosureRejectedData",
    "The rejection: the finding is `in_progress` again.",
    [
        f("step", Ty::Integer, ""),
        f("role", Ty::Api("Role"), ""),
        f("decision", Ty::OneOf(&["reject"]), ""),
        f("comment", Ty::String, "Required to reject."),
        f("finding", Ty::Shape(&FINDING_STATUS_EFFECT), ""),
    ]
);
const CLOSURE_WITHDRAWN: Shape = shape!(
    "ClosureWithdrawnData",
    "The finding went back to `in_progress`.",
    [f("finding", Ty::Shape(&FINDING_STATUS_EFFECT), "")]
);
const EXTENSION_REQUEST_AFTER: Shape = after!("ExtensionRequestAfterData", "ExtensionRequest");
const EXTENSION_APPROVED: Shape = shape!(
    "ExtensionApprovedData",
    "The last step's approval: the finding's deadline moved.",
    [
        f("step", Ty::Integer, ""),
        f("role", Ty::Api("Role"), ""),
        f("decision", Ty::OneOf(&["approve"]), ""),
        f("comment", Ty::Nullable(&Ty::String), ""),
        f("finding", Ty::Shape(&FINDING_DUE_ON_EFFECT), ""),
    ]
);
const EXTENSION_REJECTED: Shape = shape!(
    "ExtensionRejectedData",
    "The rejection: the deadline stays.",
    [
        f("step", Ty::Integer, ""),
        f("role", Ty::Api("Role"), ""),
        f("decision", Ty::OneOf(&["reject"]), ""),
        f("comment", Ty::String, "Required to reject."),
        f("finding", Ty::Null, ""),
    ]
);
const EXTENSION_WITHDRAWN: Shape =
    shape!("ExtensionWithdrawnData", "Nothing happened to the finding.", [f("finding", Ty::Null, "")]);

// Notices, feedback, webhooks.

const NOTICE_AFTER: Shape = after!("NoticeAfterData", "Notice");
const FEEDBACK_RECEIVED: Shape = shape!(
    "FeedbackReceivedData",
    "What the public wrote (the contact is never in the event).",
    [f("content", Ty::String, "")]
);
const FEEDBACK_CHANGE: Shape = shape!(
    "FeedbackChangeData",
    "The feedback before and after the triage, as the API serves it, `contact` always null.",
    [f("before", Ty::Api("Feedback"), ""), f("after", Ty::Api("Feedback"), "")]
);
const WEBHOOK_AFTER: Shape = after!("WebhookAfterData", "Webhook");
const WEBHOOK_CHANGE: Shape = change!("WebhookChangeData", "Webhook");
const WEBHOOK_BEFORE: Shape = before!("WebhookBeforeData", "Webhook");
const WEBHOOK_SECRET_ROTATED: Shape = shape!(
    "WebhookSecretRotatedData",
    "Until when the old secret signs too.",
    [f("previous_secret_expires_at", Ty::DateTime, "")]
);
const WEBHOOK_DISABLED: Shape = shape!(
    "WebhookDisabledData",
    "Since when the deliveries failed, and where they went.",
    [f("failing_since", Ty::DateTime, ""), f("url", Ty::String, "")]
);
const WEBHOOK_DELIVERY_RETRIED: Shape =
    shape!("WebhookDeliveryRetriedData", "The delivery queued again.", [f("delivery_id", Ty::Integer, "")]);
const WEBHOOK_TEST: Shape =
    shape!("WebhookTestData", "A fixed message.", [f("message", Ty::String, "Always `Rectify webhook test`.")]);

/// All event types, grouped by what they are about.
pub const EVENT_TYPES: &[EventType] = &[
    t("org_unit.created", "org_unit", &[&ORG_UNIT_CREATED], "An org unit was created; data.after is the unit."),
    t(
        "org_unit.updated",
        "org_unit",
        &[&ORG_UNIT_CHANGE],
        "An org unit was renamed, moved or given a credit code; data.before/after.",
    ),
    t("user.created", "user", &[&USER_CREATED], "A user was created; data.after (never the password)."),
    t(
        "user.updated",
        "user",
        &[&USER_CHANGE],
        "A user's name, unit, roles or password changed (a new password ends their earlier tokens); data.before/after, data.password_changed.",
    ),
    t(
        "user.deactivated",
        "user",
        &[&USER_CHANGE],
        "A user was deactivated: their tokens stop working, and stay dead after a reactivation; data.before/after.",
    ),
    t("user.reactivated", "user", &[&USER_CHANGE], "A deactivated user was activated again; data.before/after."),
    t(
        "service_account.created",
        "service_account",
        &[&SERVICE_ACCOUNT_AFTER],
        "A service account for another system was created; data.after (its client_id, never the secret).",
    ),
    t(
        "service_account.deleted",
        "service_account",
        &[&SERVICE_ACCOUNT_BEFORE],
        "A service account was deleted: its tokens stop working at once; data.before.",
    ),
    t("inspection.created", "inspection", &[&INSPECTION_AFTER], "An inspection was created; data.after."),
    t(
        "inspection.imported",
        "inspection",
        &[&INSPECTION_IMPORTED],
        "An inspection was imported with its ledger; data.after, data.totals.",
    ),
    t(
        "inspection.updated",
        "inspection",
        &[&INSPECTION_CHANGE],
        "An inspection's descriptive fields changed; data.before/after.",
    ),
    t("inspection.concluded", "inspection", &[&INSPECTION_AFTER], "Rectification was concluded; data.after."),
    t("inspection.published", "inspection", &[&INSPECTION_AFTER], "The report was published; data.after."),
    t("section.created", "section", &[&SECTION_CREATED], "A category or aspect was added; data.after."),
    t(
        "section.updated",
        "section",
        &[&SECTION_UPDATED],
        "A section was renamed, reordered or moved; data.before/after, data.descendants.",
    ),
    t("section.deleted", "section", &[&SECTION_BEFORE], "An empty section was deleted; data.before."),
    t("finding.created", "finding", &[&FINDING_CREATED], "A finding (问题) was recorded; data.after."),
    t("finding.updated", "finding", &[&FINDING_CHANGE], "A finding's descriptive fields changed; data.before/after."),
    t(
        "finding.blocked",
        "finding",
        &[&FINDING_BLOCKED],
        "A finding was blocked on an outside body; data.from, data.reason, data.until.",
    ),
    t(
        "finding.unblocked",
        "finding",
        &[&FINDING_UNBLOCKED],
        "A blocked finding went back to in_progress; data.reason, data.until (the block that ended).",
    ),
    t(
        "finding.closed",
        "finding",
        &[&FINDING_CLOSED],
        "The last approval of a closure request closed the finding (销号); data.request_id, data.outcome, data.long_term.",
    ),
    t(
        "finding.review_sustained",
        "review",
        &[&REVIEW_AFTER],
        "A look-back review (回头看) found the rectification holds; data.after is the review.",
    ),
    t(
        "finding.reopened",
        "review",
        &[&REVIEW_AFTER],
        "A look-back review found the problem back: the finding is in_progress again; data.after is the review.",
    ),
    t(
        "finding.due_soon",
        "finding",
        &[&FINDING_DUE_SOON],
        "The finding's warning level turned yellow or red; data.level, data.due_on, data.days_left, data.status.",
    ),
    t(
        "finding.overdue",
        "finding",
        &[&FINDING_OVERDUE],
        "The finding passed its due date while not closed or blocked; data.level, data.due_on, data.days_overdue, data.status.",
    ),
    t(
        "assignment.created",
        "assignment",
        &[&ASSIGNMENT_CREATED, &DEMO_ASSIGNMENT_CREATED],
        "An assignment (任务) was created on a finding; data.after, data.finding_status.",
    ),
    t("assignment.updated", "assignment", &[&ASSIGNMENT_CHANGE], "An assignment's fields changed; data.before/after."),
    t(
        "assignment.assigned",
        "assignment",
        &[&ASSIGNMENT_CHANGE],
        "A leader assigned an assignment to a person; data.before/after.",
    ),
    t(
        "assignment.unassigned",
        "assignment",
        &[&ASSIGNMENT_CHANGE],
        "A leader took an assignment back from its assignee; data.before/after.",
    ),
    t(
        "assignment.claimed",
        "assignment",
        &[&ASSIGNMENT_AFTER],
        "An officer or leader claimed an unassigned assignment (认领); data.after.",
    ),
    t("assignment.completed", "assignment", &[&ASSIGNMENT_AFTER], "The assignee completed the assignment; data.after."),
    t(
        "progress.reported",
        "progress_report",
        &[&PROGRESS_REPORT_AFTER],
        "A half-month progress report was filed; data.after.",
    ),
    t(
        "closure.requested",
        "closure_request",
        &[&CLOSURE_REQUESTED],
        "A finding was submitted for closure (销号); data.after, data.finding.status.",
    ),
    t(
        "closure.step_approved",
        "closure_request",
        &[&STEP_APPROVED],
        "A step of a closure request was approved; data.step, data.role, data.comment.",
    ),
    t(
        "closure.approved",
        "closure_request",
        &[&CLOSURE_APPROVED],
        "The last step approved: the finding is closed; data.finding.status.",
    ),
    t(
        "closure.rejected",
        "closure_request",
        &[&CLOSURE_REJECTED],
        "A closure request was rejected: the finding is in_progress again; data.comment, data.finding.status.",
    ),
    t(
        "closure.withdrawn",
        "closure_request",
        &[&CLOSURE_WITHDRAWN],
        "The submitter withdrew a closure request; data.finding.status.",
    ),
    t(
        "extension.requested",
        "extension_request",
        &[&EXTENSION_REQUEST_AFTER],
        "A later deadline was asked for (申请延期); data.after.",
    ),
    t(
        "extension.step_approved",
        "extension_request",
        &[&STEP_APPROVED],
        "A step of an extension request was approved; data.step, data.role, data.comment.",
    ),
    t(
        "extension.approved",
        "extension_request",
        &[&EXTENSION_APPROVED],
        "The last step approved: the finding's due_on moved; data.finding.due_on.",
    ),
    t("extension.rejected", "extension_request", &[&EXTENSION_REJECTED], "An extension request was rejected; data.comment."),
    t("extension.withdrawn", "extension_request", &[&EXTENSION_WITHDRAWN], "The submitter withdrew an extension request."),
    t(
        "notice.issued",
        "notice",
        &[&NOTICE_AFTER],
        "A supervision notice (督办单) was issued to a finding's responsible unit; data.after.",
    ),
    t("notice.acknowledged", "notice", &[&NOTICE_AFTER], "The addressed unit signed for a notice (签收); data.after."),
    t(
        "feedback.received",
        "feedback",
        &[&FEEDBACK_RECEIVED],
        "The public sent feedback on a published report; data.content (the contact is never in the event).",
    ),
    t("feedback.triaged", "feedback", &[&FEEDBACK_CHANGE], "Staff acknowledged or answered public feedback; data.before/after."),
    t("webhook.created", "webhook", &[&WEBHOOK_AFTER], "A webhook subscription was created; data.after (never the secret)."),
    t("webhook.updated", "webhook", &[&WEBHOOK_CHANGE], "A webhook subscription changed; data.before/after."),
    t("webhook.deleted", "webhook", &[&WEBHOOK_BEFORE], "A webhook subscription was deleted; data.before."),
    t(
        "webhook.secret_rotated",
        "webhook",
        &[&WEBHOOK_SECRET_ROTATED],
        "A webhook's secret was rotated; the old one signs too for 24 h, until data.previous_secret_expires_at.",
    ),
    t(
        "webhook.disabled",
        "webhook",
        &[&WEBHOOK_DISABLED],
        "A webhook was disabled after a day of failed deliveries; data.failing_since, data.url.",
    ),
    t(
        "webhook.delivery_retried",
        "webhook",
        &[&WEBHOOK_DELIVERY_RETRIED],
        "A delivery was queued again by hand; data.delivery_id.",
    ),
    t(
        "webhook.test",
        "webhook",
        &[&WEBHOOK_TEST],
        "A test event, sent to one webhook only by POST /webhooks/{id}/test; data.message.",
    ),
];

/// The event type called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|t| t.name == name)
}

/// The entity types events are about, in catalogue order.
pub fn entity_types() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for t in EVENT_TYPES {
        if !out.contains(&t.entity_type) {
            out.push(t.entity_type);
        }
    }
    out
}

/// Every shape the event types use, the parts they are made of included, each once, in
/// catalogue order (parts before the shapes that use them). Two shapes may not share a name.
pub fn shapes() -> Vec<&'static Shape> {
    fn visit(shape: &'static Shape, out: &mut Vec<&'static Shape>) {
        if let Some(seen) = out.iter().find(|s| s.name == shape.name) {
            assert_eq!(*seen, shape, "two shapes are called {}", shape.name);
            return;
        }
        for field in shape.fields {
            visit_ty(&field.ty, out);
        }
        out.push(shape);
    }
    fn visit_ty(ty: &'static Ty, out: &mut Vec<&'static Shape>) {
        match ty {
            Ty::Shape(s) => visit(s, out),
            Ty::Nullable(inner) | Ty::ArrayOf(inner) => visit_ty(inner, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for t in EVENT_TYPES {
        for shape in t.data {
            visit(shape, &mut out);
        }
    }
    out
}

/// `true` when `pattern` is `*`, a known event type, or `<prefix>.*` for a prefix some type has.
pub fn is_valid_pattern(pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        _ if pattern == "*" => true,
        Some(prefix) => EVENT_TYPES.iter().any(|t| t.name.split('.').next() == Some(prefix)),
        None => find(pattern).is_some(),
    }
}

/// `true` when `action` matches `pattern` (`*` everything, `x.*` every `x.…`, else exactly).
pub fn matches(pattern: &str, action: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_dotted() {
        for (i, t) in EVENT_TYPES.iter().enumerate() {
            assert!(t.name.split('.').count() == 2, "{}", t.name);
            assert!(EVENT_TYPES[..i].iter().all(|u| u.name != t.name), "{} twice", t.name);
        }
    }

    #[test]
    fn every_type_has_data_and_an_entity() {
        for t in EVENT_TYPES {
            assert!(!t.data.is_empty(), "{} has no data shape", t.name);
            assert!(!t.entity_type.is_empty() && !t.description.is_empty(), "{}", t.name);
            for shape in t.data {
                assert!(shape.name.ends_with("Data"), "{}: {}", t.name, shape.name);
            }
        }
        // Distinct shapes have distinct names (`shapes` asserts it), and fields are unique in each.
        for shape in shapes() {
            for (i, field) in shape.fields.iter().enumerate() {
                assert!(shape.fields[..i].iter().all(|g| g.name != field.name), "{}.{}", shape.name, field.name);
            }
        }
        assert_eq!(
            entity_types(),
            [
                "org_unit",
                "user",
                "service_account",
                "inspection",
                "section",
                "finding",
                "review",
                "assignment",
                "progress_report",
                "closure_request",
                "extension_request",
                "notice",
                "feedback",
                "webhook"
            ]
        );
    }

    #[test]
    fn patterns_match_prefixes_and_exact_names() {
        assert!(matches("*", "finding.closed"));
        assert!(matches("finding.*", "finding.closed"));
        assert!(!matches("finding.*", "findings.x"));
        assert!(matches("finding.closed", "finding.closed"));
        assert!(!matches("finding.closed", "finding.closed_x"));
        assert!(is_valid_pattern("*") && is_valid_pattern("closure.*") && is_valid_pattern("finding.closed"));
        assert!(!is_valid_pattern("nothing.*") && !is_valid_pattern("finding.nope") && !is_valid_pattern("finding"));
    }
}
