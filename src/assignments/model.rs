//! The assignment state machine and the half-month period (pure).

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::string_enum;
use crate::workflow::InvalidTransition;

string_enum! {
    /// Where an assignment (任务) stands: nobody's, someone's, finished.
    pub enum AssignmentStatus {
        Unassigned => "unassigned",
        Assigned => "assigned",
        Done => "done",
    }
}

/// What may happen to an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentAction {
    /// An officer or leader takes an unassigned one (认领).
    Claim,
    /// A leader names (or changes) the assignee.
    Assign,
    /// A leader takes the assignee away again.
    Unassign,
    Report,
    Complete,
    /// Descriptive edits.
    Edit,
}

impl AssignmentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claim => "claim",
            Self::Assign => "assign",
            Self::Unassign => "unassign",
            Self::Report => "report progress on",
            Self::Complete => "complete",
            Self::Edit => "edit",
        }
    }
}

impl AssignmentStatus {
    /// The state machine: the status after `action`, or the refusal.
    pub fn transition(self, action: AssignmentAction) -> Result<Self, InvalidTransition> {
        use AssignmentAction::*;
        use AssignmentStatus::*;
        match (self, action) {
            (Unassigned, Claim | Assign) => Ok(Assigned),
            (Assigned, Assign) => Ok(Assigned),
            (Assigned, Unassign) => Ok(Unassigned),
            (Assigned, Report) => Ok(Assigned),
            (Assigned, Complete) => Ok(Done),
            (Unassigned | Assigned, Edit) => Ok(self),
            _ => Err(InvalidTransition { entity: "assignment", current: self.as_str(), action: action.as_str() }),
        }
    }
}

/// The half month of `at` in `zone`: `2024-10-H1` (days 1–15) or `2024-10-H2`.
pub fn half_month(at: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    let half = if local.day() <= 15 { 1 } else { 2 };
    format!("{:04}-{:02}-H{half}", local.year(), local.month())
}

/// Checks a period parameter like `2024-10-H1`.
pub fn parse_period(raw: &str) -> Option<String> {
    let (month, half) = raw.split_once("-H")?;
    let (year, m) = month.split_once('-')?;
    let ok = year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && m.len() == 2
        && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && (half == "1" || half == "2");
    ok.then(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssignmentAction::*;
    use AssignmentStatus::*;

    #[test]
    fn every_edge_and_every_refusal() {
        let allowed = [
            (Unassigned, Claim, Assigned),
            (Unassigned, Assign, Assigned),
            (Unassigned, Edit, Unassigned),
            (Assigned, Assign, Assigned),
            (Assigned, Unassign, Unassigned),
            (Assigned, Report, Assigned),
            (Assigned, Complete, Done),
            (Assigned, Edit, Assigned),
        ];
        for &from in AssignmentStatus::ALL {
            for action in [Claim, Assign, Unassign, Report, Complete, Edit] {
                let expected = allowed.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                assert_eq!(from.transition(action).ok(), expected, "{from} {action:?}");
            }
        }
        let refusal = Done.transition(Claim).unwrap_err();
        assert_eq!((refusal.current, refusal.action), ("done", "claim"));
    }

    #[test]
    fn half_months_in_shanghai() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let sh = chrono_tz::Asia::Shanghai;
        assert_eq!(half_month(at("2024-10-01T00:00:00Z"), sh), "2024-10-H1");
        assert_eq!(half_month(at("2024-10-15T15:59:59Z"), sh), "2024-10-H1");
        // 16:00 UTC on the 15th is midnight of the 16th in Shanghai.
        assert_eq!(half_month(at("2024-10-15T16:00:00Z"), sh), "2024-10-H2");
        assert_eq!(half_month(at("2024-10-31T16:00:00Z"), sh), "2024-11-H1");
        assert_eq!(half_month(at("2024-10-31T16:00:00Z"), chrono_tz::UTC), "2024-10-H2");
    }

    #[test]
    fn periods_parse() {
        assert_eq!(parse_period("2024-10-H1").as_deref(), Some("2024-10-H1"));
        for bad in ["2024-10", "2024-13-H1", "2024-10-H3", "24-10-H1", "2024-1-H1"] {
            assert!(parse_period(bad).is_none(), "{bad}");
        }
    }
}
