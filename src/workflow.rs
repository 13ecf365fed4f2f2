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

/// Declares a string-backed status enum: `as_str`, `parse`, serde and OpenAPI.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        // `rename_all` (not a per-variant rename) is what utoipa reads into the spec; a unit
        // test checks that every variant's snake_case name is its `$text`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Reads a stored value; an unknown one is a data error, not a client error.
            pub fn from_db(s: &str) -> Result<Self, $crate::error::AppError> {
                Self::parse(s).ok_or_else(|| $crate::error::AppError::internal(format!(
                    "unknown {} `{s}` in the database", stringify!($name)
                )))
            }
        }

        impl $name {
            /// `true` when serde's name of every variant is its stored text.
            #[cfg(test)]
            pub fn names_agree() -> bool {
                Self::ALL.iter().all(|v| serde_json::to_value(v).ok() == Some(serde_json::Value::from(v.as_str())))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_status_enum_serialises_as_its_stored_text() {
        use crate::approvals::model::{Decision, RequestKind, RequestStatus};
        use crate::assignments::model::AssignmentStatus;
        use crate::feedback::model::FeedbackStatus;
        use crate::findings::api::ReviewOutcome;
        use crate::findings::model::{FindingStatus, WarningLevel};
        use crate::inspections::model::InspectionStatus;
        assert!(FindingStatus::names_agree());
        assert!(WarningLevel::names_agree());
        assert!(InspectionStatus::names_agree());
        assert!(AssignmentStatus::names_agree());
        assert!(RequestKind::names_agree());
        assert!(RequestStatus::names_agree());
        assert!(Decision::names_agree());
        assert!(FeedbackStatus::names_agree());
        assert!(ReviewOutcome::names_agree());
    }
}
