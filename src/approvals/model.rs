//! The approval-request state machine (pure): closure (销号) and extension (延期) requests alike.

use crate::auth::Role;
use crate::error::AppError;
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

/// What happened to a request, as its audit action says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    Requested,
    StepApproved,
    Approved,
    Rejected,
    Withdrawn,
}

impl RequestKind {
    /// The audit action: `closure.approved`, `extension.rejected`, …
    pub fn audit(self, happened: Happened) -> &'static str {
        use Happened::*;
        match (self, happened) {
            (Self::Closure, Requested) => "closure.requested",
            (Self::Closure, StepApproved) => "closure.step_approved",
            (Self::Closure, Approved) => "closure.approved",
            (Self::Closure, Rejected) => "closure.rejected",
            (Self::Closure, Withdrawn) => "closure.withdrawn",
            (Self::Extension, Requested) => "extension.requested",
            (Self::Extension, StepApproved) => "extension.step_approved",
            (Self::Extension, Approved) => "extension.approved",
            (Self::Extension, Rejected) => "extension.rejected",
            (Self::Extension, Withdrawn) => "extension.withdrawn",
        }
    }

    pub fn entity(self) -> &'static str {
        match self {
            Self::Closure => "closure_request",
            Self::Extension => "extension_request",
        }
    }
}

/// What a decision does to the request: the action for the state machine, and what it is called.
pub fn decision_action(decision: Decision, last_step: bool) -> (RequestAction, Happened) {
    match (decision, last_step) {
        (Decision::Reject, _) => (RequestAction::Reject, Happened::Rejected),
        (Decision::Approve, true) => (RequestAction::Approve { last: true }, Happened::Approved),
        (Decision::Approve, false) => (RequestAction::Approve { last: false }, Happened::StepApproved),
    }
}

/// A step as the separation-of-duties rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepState {
    pub step: i32,
    pub role: Role,
    pub decided_by: Option<i64>,
}

/// Why a caller may not decide the current step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller lacks the step's role (403).
    NotTheirStep { step: i32, role: Role },
    /// The caller would have decided the previous step, which someone else just did (409).
    StepTaken { step: i32 },
    /// The submitter decides nothing of their own request (403).
    OwnRequest,
    /// Nobody decides two steps of one request (403).
    SecondStep,
    /// The request names a step it does not have (a data fault).
    NoSuchStep(i32),
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotTheirStep { step, role } => AppError::Forbidden(format!("step {step} is for a {role}")),
            Refusal::StepTaken { step } => {
                AppError::Conflict(format!("step {step} was already decided by another user"))
            }
            Refusal::OwnRequest => AppError::Forbidden("the submitter may not decide their own request".into()),
            Refusal::SecondStep => AppError::Forbidden("nobody may decide two steps of one request".into()),
            Refusal::NoSuchStep(step) => AppError::internal(format!("the request has no step {step}")),
        }
    }
}

/// Separation of duties: may `user` (holding roles as `holds` says) decide step `current`
/// of a request `submitted_by` someone? Returns the step's role.
pub fn may_decide(
    steps: &[StepState],
    current: i32,
    submitted_by: i64,
    user: i64,
    holds: impl Fn(Role) -> bool,
) -> Result<Role, Refusal> {
    let step = steps.iter().find(|s| s.step == current).ok_or(Refusal::NoSuchStep(current))?;
    if !holds(step.role) {
        // A decider who lost a race for the previous step is told so, not that their role is wrong.
        let previous = steps.iter().find(|s| s.step == current - 1);
        if let Some(p) = previous.filter(|p| p.decided_by.is_some_and(|d| d != user) && holds(p.role)) {
            return Err(Refusal::StepTaken { step: p.step });
        }
        return Err(Refusal::NotTheirStep { step: step.step, role: step.role });
    }
    if submitted_by == user {
        return Err(Refusal::OwnRequest);
    }
    if steps.iter().any(|s| s.decided_by == Some(user)) {
        return Err(Refusal::SecondStep);
    }
    Ok(step.role)
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

    fn steps() -> Vec<StepState> {
        vec![
            StepState { step: 1, role: Role::Leader, decided_by: None },
            StepState { step: 2, role: Role::Inspector, decided_by: None },
        ]
    }

    #[test]
    fn the_current_steps_role_decides() {
        let leader = |r: Role| r == Role::Leader;
        assert_eq!(may_decide(&steps(), 1, 10, 20, leader), Ok(Role::Leader));
        assert_eq!(
            may_decide(&steps(), 2, 10, 20, leader),
            Err(Refusal::NotTheirStep { step: 2, role: Role::Inspector })
        );
    }

    #[test]
    fn the_submitter_and_a_second_step_are_refused() {
        let any = |_: Role| true;
        assert_eq!(may_decide(&steps(), 1, 20, 20, any), Err(Refusal::OwnRequest));
        let mut decided = steps();
        decided[0].decided_by = Some(20);
        assert_eq!(may_decide(&decided, 2, 10, 20, any), Err(Refusal::SecondStep));
    }

    #[test]
    fn losing_the_race_for_the_previous_step_is_a_conflict() {
        let mut decided = steps();
        decided[0].decided_by = Some(30);
        let leader = |r: Role| r == Role::Leader;
        assert_eq!(may_decide(&decided, 2, 10, 20, leader), Err(Refusal::StepTaken { step: 1 }));
        assert_eq!(may_decide(&steps(), 3, 10, 20, leader), Err(Refusal::NoSuchStep(3)));
    }

    #[test]
    fn decisions_name_what_happened() {
        assert_eq!(decision_action(Decision::Reject, true), (RequestAction::Reject, Happened::Rejected));
        assert_eq!(decision_action(Decision::Approve, true).1, Happened::Approved);
        assert_eq!(decision_action(Decision::Approve, false).1, Happened::StepApproved);
        assert_eq!(RequestKind::Extension.audit(Happened::Withdrawn), "extension.withdrawn");
    }
}
