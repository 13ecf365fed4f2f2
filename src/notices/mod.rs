//! Supervision notices (督办单, contract §9.2): a leader or inspector presses a finding's
//! responsible unit, which acknowledges (签收) once.

pub mod api;
pub mod model;
pub mod queries;
pub mod routes;
