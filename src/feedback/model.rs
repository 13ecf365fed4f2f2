//! The feedback triage state machine (pure).

use serde::Deserialize;
use utoipa::IntoParams;

use crate::string_enum;
use crate::workflow::InvalidTransition;

string_enum! {
    /// Where a piece of public feedback stands.
    pub enum FeedbackStatus {
        New => "new",
        Acknowledged => "acknowledged",
        Answered => "answered",
    }
}

impl FeedbackStatus {
    /// Triage only moves forward; an answer may be revised.
    pub fn transition(self, to: FeedbackStatus) -> Result<FeedbackStatus, InvalidTransition> {
        use FeedbackStatus::*;
        match (self, to) {
            (New, New) | (New, Acknowledged) | (New, Answered) => Ok(to),
            (Acknowledged, Acknowledged) | (Acknowledged, Answered) | (Answered, Answered) => Ok(to),
            _ => Err(InvalidTransition { entity: "feedback", current: self.as_str(), action: to.target_action() }),
        }
    }

    fn target_action(self) -> &'static str {
        match self {
            FeedbackStatus::New => "mark as new",
            FeedbackStatus::Acknowledged => "acknowledge",
            FeedbackStatus::Answered => "answer",
        }
    }
}

/// Filters of the staff feedback list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackFilter {
    #[param(example = 7)]
    pub inspection_id: Option<i64>,
    /// Repeatable (`status=new&status=acknowledged`) or comma-separated.
    #[serde(default, deserialize_with = "crate::http::query::comma_list")]
    pub status: Vec<FeedbackStatus>,
}

#[cfg(test)]
mod tests {
    use super::FeedbackStatus::*;

    #[test]
    fn triage_moves_forward_only() {
        assert_eq!(New.transition(Acknowledged).unwrap(), Acknowledged);
        assert_eq!(New.transition(Answered).unwrap(), Answered);
        assert_eq!(Acknowledged.transition(Answered).unwrap(), Answered);
        assert_eq!(Answered.transition(Answered).unwrap(), Answered);
        assert!(Answered.transition(New).is_err());
        assert!(Answered.transition(Acknowledged).is_err());
        assert!(Acknowledged.transition(New).is_err());
    }
}
