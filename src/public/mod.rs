//! `/public/v1`: anonymous reading of published reports and feedback intake.

pub mod api;
pub mod routes;
