//! Sections: the category (大类) → aspect (方面) tree of an inspection, at most 3 levels.

pub mod api;
pub mod model;
pub mod queries;
pub mod routes;

pub use routes::configure;

/// The deepest level a section may have.
pub const MAX_LEVEL: i32 = 3;
