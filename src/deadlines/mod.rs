//! Deadline events (contract §9.2): the service itself records `finding.due_soon` (the
//! warning level turned yellow or red) and `finding.overdue` (the day after `due_on`, while
//! neither closed nor blocked), once per finding, level and due date.
//!
//! `scan` holds the rule (pure: which events a finding is owed on a given day) and the SQL
//! (keyset batches; a row in `deadline_marks` per event, whose unique key lets only one of
//! several concurrent scans write it); `task` runs the scan at start and then every
//! `RECTIFY_DEADLINE_SCAN_SECONDS` until the server stops.

pub mod scan;
pub mod task;

pub use scan::{scan_once, ScanReport};
pub use task::Scanner;
