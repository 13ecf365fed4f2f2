//! Public feedback on published reports (欢迎广大干部群众监督) and its triage by staff.

pub mod api;
pub mod model;
pub mod queries;
pub mod routes;
