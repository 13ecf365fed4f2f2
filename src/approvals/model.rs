//! The approval-request state machine (pure): closure (销号) and extension (延期) requests alike.

use crate::string_enum;
use crate::workflow::InvalidTransition;

string_enum! {
    /// What a request asks for.
    pub enum RequestKind {
        Closure => "closure",
        Extension => "extension",
    }
}

string_enum! {
    /// Where a request stands.
    pub enum RequestStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
}

string_enum! {
    /// A step's decision.
    pub enum Decision {
        Approve => "approve",
        Reject => "reject",
    }
}

/// What may happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestAction {
    /// Approve the current step; `last` when no step follows it.
    Approve {
        last: bool,
    },
    Reject,
    Withdraw,
}

impl RequestAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Approve { .. } => "approve",
            Self::Reject => "reject",
            Self::Withdraw => "withdraw",
        }
    }
}

impl RequestKind {
    /// The audit action prefix (`closure.approved`, `extension.rejected`, …).
    pub fn audit(self, what: &str) -> &'static str {
        match (self, what) {
            (Self::Closure, "requested") => "closure.requested",
            (Self::Closure, "step_approved") => "closure.step_approved",
            (Self::Closure, "approved") => "closure.approved",
            (Self::Closure, "rejected") => "closure.rejected",
            (Self::Closure, _) => "closure.withdrawn",
            (Self::Extension, "requested") => "extension.requested",
            (Self::Extension, "step_approved") => "extension.step_approved",
            (Self::Extension, "approved") => "extension.approved",
            (Self::Extension, "rejected") => "extension.rejected",
            (Self::Extension, _) => "extension.withdrawn",
        }
    }

    pub fn entity(self) -> &'static str {
        match self {
            Self::Closure => "closure_request",
            Self::Extension => "extension_request",
        }
    }
}

impl RequestStatus {
    /// The state machine: the status after `action`, or the refusal.
    pub fn transition(self, action: RequestAction) -> Result<Self, InvalidTransition> {
        match (self, action) {
            (Self::Pending, RequestAction::Approve { last: false }) => Ok(Self::Pending),
            (Self::Pending, RequestAction::Approve { last: true }) => Ok(Self::Approved),
            (Self::Pending, RequestAction::Reject) => Ok(Self::Rejected),
            (Self::Pending, RequestAction::Withdraw) => Ok(Self::Withdrawn),
            _ => Err(InvalidTransition { entity: "request", current: self.as_str(), action: action.as_str() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestAction::*;
    use RequestStatus::*;

    #[test]
    fn every_edge_and_every_refusal() {
        let actions = [Approve { last: false }, Approve { last: true }, Reject, Withdraw];
        for &from in RequestStatus::ALL {
            for action in actions {
                let expected = match (from, action) {
                    (Pending, Approve { last: false }) => Some(Pending),
                    (Pending, Approve { last: true }) => Some(Approved),
                    (Pending, Reject) => Some(Rejected),
                    (Pending, Withdraw) => Some(Withdrawn),
                    _ => None,
                };
                assert_eq!(from.transition(action).ok(), expected, "{from} {action:?}");
            }
        }
        assert_eq!(Approved.transition(Withdraw).unwrap_err().current, "approved");
    }
}
