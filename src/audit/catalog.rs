//! Every kind of audit event the service writes (`action`), with what it means.
//! Webhook subscriptions name these (or a `prefix.*` of them); the spec lists them.

/// One kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    pub description: &'static str,
}

const fn t(name: &'static str, description: &'static str) -> EventType {
    EventType { name, description }
}

/// All event types, grouped by what they are about.
pub const EVENT_TYPES: &[EventType] = &[
    t("org_unit.created", "An org unit was created; data.after is the unit."),
    t("org_unit.updated", "An org unit was renamed, moved or given a credit code; data.before/after."),
    t("user.created", "A user was created; data.after (never the password)."),
    t(
        "user.updated",
        "A user's name, unit, roles or password changed (a new password ends their earlier tokens); data.before/after.",
    ),
    t("user.deactivated", "A user was deactivated: their tokens stop working, and stay dead after a reactivation."),
    t("user.reactivated", "A deactivated user was activated again."),
    t(
        "service_account.created",
        "A service account for another system was created; data.after (its client_id, never the secret).",
    ),
    t("service_account.deleted", "A service account was deleted: its tokens stop working at once; data.before."),
    t("inspection.created", "An inspection was created; data.after."),
    t("inspection.imported", "An inspection was imported with its ledger; data.totals."),
    t("inspection.updated", "An inspection's descriptive fields changed; data.before/after."),
    t("inspection.concluded", "Rectification was concluded; data.after."),
    t("inspection.published", "The report was published; data.after."),
    t("section.created", "A category or aspect was added; data.after."),
    t("section.updated", "A section was renamed, reordered or moved; data.before/after, data.descendants."),
    t("section.deleted", "An empty section was deleted; data.before."),
    t("finding.created", "A finding (问题) was recorded; data.after."),
    t("finding.updated", "A finding's descriptive fields changed; data.before/after."),
    t("finding.blocked", "A finding was blocked on an outside body; data.reason, data.until."),
    t("finding.unblocked", "A blocked finding went back to in_progress."),
    t(
        "finding.closed",
        "The last approval of a closure request closed the finding (销号); data.request_id, data.outcome.",
    ),
    t("finding.review_sustained", "A look-back review (回头看) found the rectification holds; data.after."),
    t("finding.reopened", "A look-back review found the problem back: the finding is in_progress again."),
    t("finding.due_soon", "The finding's warning level turned yellow or red; data.level, data.due_on."),
    t("finding.overdue", "The finding passed its due date while not closed or blocked; data.due_on."),
    t("assignment.created", "An assignment (任务) was created on a finding; data.after."),
    t("assignment.updated", "An assignment's fields changed; data.before/after."),
    t("assignment.assigned", "A leader assigned an assignment to a person; data.after."),
    t("assignment.unassigned", "A leader took an assignment back from its assignee; data.after."),
    t("assignment.claimed", "An officer or leader claimed an unassigned assignment (认领); data.after."),
    t("assignment.completed", "The assignee completed the assignment; data.after."),
    t("progress.reported", "A half-month progress report was filed; data.after."),
    t("closure.requested", "A finding was submitted for closure (销号); data.after."),
    t("closure.step_approved", "A step of a closure request was approved; data.step, data.role, data.comment."),
    t("closure.approved", "The last step approved: the finding is closed; data.finding.status."),
    t("closure.rejected", "A closure request was rejected: the finding is in_progress again; data.comment."),
    t("closure.withdrawn", "The submitter withdrew a closure request."),
    t("extension.requested", "A later deadline was asked for (申请延期); data.after."),
    t("extension.step_approved", "A step of an extension request was approved."),
    t("extension.approved", "The last step approved: the finding's due_on moved; data.finding.due_on."),
    t("extension.rejected", "An extension request was rejected; data.comment."),
    t("extension.withdrawn", "The submitter withdrew an extension request."),
    t("notice.issued", "A supervision notice (督办单) was issued to a finding's responsible unit; data.after."),
    t("notice.acknowledged", "The addressed unit signed for a notice (签收); data.after."),
    t("feedback.received", "The public sent feedback on a published report (the contact is never in the event)."),
    t("feedback.triaged", "Staff acknowledged or answered public feedback; data.before/after."),
    t("webhook.created", "A webhook subscription was created; data.after (never the secret)."),
    t("webhook.updated", "A webhook subscription changed; data.before/after."),
    t("webhook.deleted", "A webhook subscription was deleted."),
    t("webhook.secret_rotated", "A webhook's secret was rotated; the old one signs too for 24 h."),
    t("webhook.disabled", "A webhook was disabled after a day of failed deliveries."),
    t("webhook.delivery_retried", "A delivery was queued again by hand; data.delivery_id."),
    t("webhook.test", "A test event, sent to one webhook only by POST /webhooks/{id}/test."),
];

/// The event type called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|t| t.name == name)
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
