//! Inspection status and approval chains (pure).

use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Role;
use crate::string_enum;
use crate::workflow::InvalidTransition;

string_enum! {
    /// Where an inspection stands: rectifying → concluded → published.
    pub enum InspectionStatus {
        Rectifying => "rectifying",
        Concluded => "concluded",
        Published => "published",
    }
}

/// What may happen to an inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectionAction {
    /// Descriptive edits, and edits to its sections and findings (allowed in
    /// every status: publication freezes a snapshot of the report instead).
    Edit,
    Conclude,
    Publish,
}

impl InspectionAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::Conclude => "conclude",
            Self::Publish => "publish",
        }
    }
}

impl InspectionStatus {
    /// The state machine: the status after `action`, or the refusal.
    pub fn transition(self, action: InspectionAction) -> Result<Self, InvalidTransition> {
        use InspectionAction::*;
        use InspectionStatus::*;
        match (self, action) {
            (_, Edit) => Ok(self),
            (Rectifying, Conclude) => Ok(Concluded),
            (Concluded, Publish) => Ok(Published),
            _ => Err(InvalidTransition { entity: "inspection", current: self.as_str(), action: action.as_str() }),
        }
    }
}

/// Roles that may sign an approval step.
pub const CHAIN_ROLES: [Role; 3] = [Role::Leader, Role::Inspector, Role::Admin];
pub const DEFAULT_CHAIN: [Role; 2] = [Role::Leader, Role::Inspector];
pub const MAX_CHAIN_STEPS: usize = 5;

/// Checks an approval chain: 1–5 steps of leader, inspector or admin.
pub fn validate_chain(chain: &[Role]) -> Result<(), String> {
    if chain.is_empty() || chain.len() > MAX_CHAIN_STEPS {
        return Err(format!("must have 1 to {MAX_CHAIN_STEPS} steps"));
    }
    if let Some(bad) = chain.iter().find(|r| !CHAIN_ROLES.contains(r)) {
        return Err(format!("`{}` cannot sign a step: use leader, inspector or admin", bad.as_str()));
    }
    Ok(())
}

/// Filters of the inspection list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectionFilter {
    /// Repeatable (`status=rectifying&status=concluded`) or comma-separated.
    #[serde(default, deserialize_with = "crate::http::query::comma_list")]
    pub status: Vec<InspectionStatus>,
    #[param(example = 12)]
    pub inspected_unit_id: Option<i64>,
    #[param(example = 3)]
    pub inspecting_unit_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use InspectionAction::*;
    use InspectionStatus::*;

    #[test]
    fn every_edge() {
        let expected = [
            (Rectifying, Edit, Some(Rectifying)),
            (Rectifying, Conclude, Some(Concluded)),
            (Rectifying, Publish, None),
            (Concluded, Edit, Some(Concluded)),
            (Concluded, Conclude, None),
            (Concluded, Publish, Some(Published)),
            (Published, Edit, Some(Published)),
            (Published, Conclude, None),
            (Published, Publish, None),
        ];
        for (from, action, to) in expected {
            assert_eq!(from.transition(action).ok(), to, "{from} {action:?}");
        }
    }

    #[test]
    fn chains() {
        assert!(validate_chain(&DEFAULT_CHAIN).is_ok());
        assert!(validate_chain(&[]).is_err());
        assert!(validate_chain(&[Role::Leader; 6]).is_err());
        assert!(validate_chain(&[Role::Officer]).is_err());
    }
}
