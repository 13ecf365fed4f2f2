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
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
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

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
