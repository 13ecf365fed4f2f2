//! The finding state machine and derived deadline fields (pure).

use chrono::NaiveDate;

use crate::config::WarningThresholds;
use crate::string_enum;
use crate::workflow::InvalidTransition;

string_enum! {
    /// Where a finding (问题) stands in its rectification.
    pub enum FindingStatus {
        Open => "open",
        InProgress => "in_progress",
        PendingClosure => "pending_closure",
        Blocked => "blocked",
        Closed => "closed",
    }
}

/// What may happen to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingAction {
    /// A new assignment: the first one starts the work.
    Assign,
    RequestClosure,
    ApproveClosure,
    RejectClosure,
    WithdrawClosure,
    Block,
    Unblock,
    /// A look-back review found the problem back (反弹回潮).
    Relapse,
    /// A look-back review (回头看): only a closed finding is reviewed; it stays closed.
    Review,
    /// A deadline extension request (申请延期): only for work under way or blocked.
    RequestExtension,
    /// An approved extension moves `due_on`: any finding not yet closed.
    ExtendDeadline,
    /// A supervision notice (督办单) to the responsible unit: any finding not yet closed.
    Supervise,
}

impl FindingAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assign => "assign",
            Self::RequestClosure => "request closure",
            Self::ApproveClosure => "approve closure",
            Self::RejectClosure => "reject closure",
            Self::WithdrawClosure => "withdraw closure",
            Self::Block => "block",
            Self::Unblock => "unblock",
            Self::Relapse => "reopen",
            Self::Review => "review",
            Self::RequestExtension => "request an extension",
            Self::ExtendDeadline => "extend the deadline",
            Self::Supervise => "issue a supervision notice",
        }
    }
}

impl FindingStatus {
    /// The state machine of contract §5: the status after `action`, or the refusal.
    pub fn transition(self, action: FindingAction) -> Result<Self, InvalidTransition> {
        use FindingAction::*;
        use FindingStatus::*;
        match (self, action) {
            (Open, Assign) => Ok(InProgress),
            // Further assignments on work under way leave the status alone.
            (InProgress | Blocked, Assign) => Ok(self),
            (InProgress, RequestClosure) => Ok(PendingClosure),
            (PendingClosure, ApproveClosure) => Ok(Closed),
            (PendingClosure, RejectClosure | WithdrawClosure) => Ok(InProgress),
            (Open | InProgress, Block) => Ok(Blocked),
            (Blocked, Unblock) => Ok(InProgress),
            (Closed, Relapse) => Ok(InProgress),
            (Closed, Review) => Ok(Closed),
            (InProgress | Blocked, RequestExtension) => Ok(self),
            (Open | InProgress | PendingClosure | Blocked, ExtendDeadline) => Ok(self),
            // Supervision presses on open work; it never moves the finding.
            (Open | InProgress | PendingClosure | Blocked, Supervise) => Ok(self),
            _ => Err(InvalidTransition { entity: "finding", current: self.as_str(), action: action.as_str() }),
        }
    }

    /// Work still to do (what deadlines and warnings apply to).
    pub fn is_open_work(self) -> bool {
        self != FindingStatus::Closed
    }
}

string_enum! {
    /// How close a deadline is: `red` overdue, `yellow` within the yellow
    /// threshold (default 10 days), `green` within the green one (20), else `none`.
    pub enum WarningLevel {
        None => "none",
        Green => "green",
        Yellow => "yellow",
        Red => "red",
    }
}

/// `due_on` is before today and the work is not closed.
pub fn is_overdue(status: FindingStatus, due_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    status.is_open_work() && due_on.is_some_and(|d| d < today)
}

/// The warning level of open work due on `due_on`, seen on `today`.
pub fn warning_level(
    status: FindingStatus,
    due_on: Option<NaiveDate>,
    today: NaiveDate,
    thresholds: WarningThresholds,
) -> WarningLevel {
    let Some(due) = due_on.filter(|_| status.is_open_work()) else { return WarningLevel::None };
    let days_left = (due - today).num_days();
    if days_left < 0 {
        WarningLevel::Red
    } else if days_left <= thresholds.yellow_days {
        WarningLevel::Yellow
    } else if days_left <= thresholds.green_days {
        WarningLevel::Green
    } else {
        WarningLevel::None
    }
}

/// The list's sort orders; each is paired with `id` so that keys are unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Seq,
    DueOn,
    UpdatedAt,
}

/// A list order: a field, ascending or descending (`-` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort { field: SortField::Seq, descending: false }
    }
}

impl Sort {
    /// Every name a client may give.
    pub const NAMES: [&'static str; 6] = ["seq", "-seq", "due_on", "-due_on", "updated_at", "-updated_at"];

    pub fn parse(raw: &str) -> Option<Sort> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let field = match name {
            "seq" => SortField::Seq,
            "due_on" => SortField::DueOn,
            "updated_at" => SortField::UpdatedAt,
            _ => return None,
        };
        Some(Sort { field, descending })
    }

    /// The name a cursor is bound to.
    pub fn name(self) -> &'static str {
        match (self.field, self.descending) {
            (SortField::Seq, false) => "seq",
            (SortField::Seq, true) => "-seq",
            (SortField::DueOn, false) => "due_on",
            (SortField::DueOn, true) => "-due_on",
            (SortField::UpdatedAt, false) => "updated_at",
            (SortField::UpdatedAt, true) => "-updated_at",
        }
    }
}

string_enum! {
    /// A look-back review's verdict.
    pub enum ReviewOutcome {
        /// The rectification holds.
        Sustained => "sustained",
        /// The problem came back (反弹回潮): the finding reopens.
        Relapsed => "relapsed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingAction::*;
    use FindingStatus::*;

    const ACTIONS: [FindingAction; 12] = [
        Assign,
        RequestClosure,
        ApproveClosure,
        RejectClosure,
        WithdrawClosure,
        Block,
        Unblock,
        Relapse,
        Review,
        RequestExtension,
        ExtendDeadline,
        Supervise,
    ];

    #[test]
    fn every_edge_and_every_refusal() {
        let allowed = [
            (Open, Assign, InProgress),
            (Open, Block, Blocked),
            (InProgress, Assign, InProgress),
            (InProgress, RequestClosure, PendingClosure),
            (InProgress, Block, Blocked),
            (Blocked, Assign, Blocked),
            (Blocked, Unblock, InProgress),
            (PendingClosure, ApproveClosure, Closed),
            (PendingClosure, RejectClosure, InProgress),
            (PendingClosure, WithdrawClosure, InProgress),
            (Closed, Relapse, InProgress),
            (Closed, Review, Closed),
            (InProgress, RequestExtension, InProgress),
            (Blocked, RequestExtension, Blocked),
            (Open, ExtendDeadline, Open),
            (InProgress, ExtendDeadline, InProgress),
            (PendingClosure, ExtendDeadline, PendingClosure),
            (Blocked, ExtendDeadline, Blocked),
            (Open, Supervise, Open),
            (InProgress, Supervise, InProgress),
            (PendingClosure, Supervise, PendingClosure),
            (Blocked, Supervise, Blocked),
        ];
        for &from in FindingStatus::ALL {
            for action in ACTIONS {
                let expected = allowed.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                match (from.transition(action), expected) {
                    (Ok(to), Some(e)) => assert_eq!(to, e, "{from} {action:?}"),
                    (Err(refusal), None) => {
                        assert_eq!(refusal.current, from.as_str());
                        assert_eq!(refusal.action, action.as_str());
                    }
                    (got, want) => panic!("{from} {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn warning_levels_at_their_edges() {
        let t = WarningThresholds::default();
        let today = day("2024-10-01");
        let level = |due: &str| warning_level(InProgress, Some(day(due)), today, t);
        assert_eq!(level("2024-09-30"), WarningLevel::Red);
        assert_eq!(level("2024-10-01"), WarningLevel::Yellow);
        assert_eq!(level("2024-10-11"), WarningLevel::Yellow);
        assert_eq!(level("2024-10-12"), WarningLevel::Green);
        assert_eq!(level("2024-10-21"), WarningLevel::Green);
        assert_eq!(level("2024-10-22"), WarningLevel::None);
        assert_eq!(warning_level(Closed, Some(day("2024-09-01")), today, t), WarningLevel::None);
        assert_eq!(warning_level(Open, None, today, t), WarningLevel::None);
    }

    #[test]
    fn overdue_is_strictly_before_today_and_not_closed() {
        let today = day("2024-10-01");
        assert!(is_overdue(Blocked, Some(day("2024-09-30")), today));
        assert!(!is_overdue(Open, Some(today), today));
        assert!(!is_overdue(Closed, Some(day("2024-09-30")), today));
        assert!(!is_overdue(Open, None, today));
    }

    #[test]
    fn sort_names_round_trip() {
        for name in ["seq", "-seq", "due_on", "-due_on", "updated_at", "-updated_at"] {
            assert_eq!(Sort::parse(name).unwrap().name(), name);
        }
        assert!(Sort::parse("title").is_none());
    }
}
