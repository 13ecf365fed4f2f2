//! What every state machine shares: the refused move.

use crate::error::AppError;

/// A move the state machine does not allow from the current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTransition {
    pub entity: &'static str,
    pub current: &'static str,
    pub action: &'static str,
}

impl From<InvalidTransition> for AppError {
    fn from(t: InvalidTransition) -> Self {
        AppError::InvalidTransition { entity: t.entity, current: t.current.into(), action: t.action.into() }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_status_enum_serialises_as_its_stored_text() {
        use crate::approvals::model::{Decision, RequestKind, RequestStatus};
        use crate::assignments::model::AssignmentStatus;
        use crate::feedback::model::FeedbackStatus;
        use crate::findings::model::ReviewOutcome;
        use crate::findings::model::{FindingStatus, WarningLevel};
        use crate::inspections::model::InspectionStatus;
        use crate::notices::model::{NoticeLevel, NoticeStatus};
        assert!(FindingStatus::names_agree());
        assert!(WarningLevel::names_agree());
        assert!(InspectionStatus::names_agree());
        assert!(AssignmentStatus::names_agree());
        assert!(RequestKind::names_agree());
        assert!(RequestStatus::names_agree());
        assert!(Decision::names_agree());
        assert!(FeedbackStatus::names_agree());
        assert!(ReviewOutcome::names_agree());
        assert!(NoticeStatus::names_agree());
        assert!(NoticeLevel::names_agree());
    }
}
