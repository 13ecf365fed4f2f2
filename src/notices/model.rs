//! Supervision notices (督办单): their levels, their state machine and what
//! their statistics compute (pure).

use chrono::NaiveDateTime;

use crate::string_enum;
use crate::workflow::InvalidTransition;

string_enum! {
    /// How pressing a supervision notice is, by the colour of its paper: `reminder` (蓝, blue: the
    /// deadline is near), `urge` (黄, yellow: the work is behind schedule), `warning` (红, red: the
    /// deadline has passed).
    pub enum NoticeLevel {
        /// 蓝 (blue): the deadline is near.
        Reminder => "reminder",
        /// 黄 (yellow): behind schedule.
        Urge => "urge",
        /// 红 (red): overdue.
        Warning => "warning",
    }
}

string_enum! {
    /// Where a supervision notice stands: `issued` until the addressed unit signs for it
    /// (签收), then `acknowledged`.
    pub enum NoticeStatus {
        Issued => "issued",
        Acknowledged => "acknowledged",
    }
}

/// What may happen to a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeAction {
    /// The addressed unit signs for it (签收), once.
    Acknowledge,
}

impl NoticeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
        }
    }
}

impl NoticeStatus {
    /// The notice's state machine: `issued → acknowledged`, and nothing else.
    pub fn transition(self, action: NoticeAction) -> Result<Self, InvalidTransition> {
        match (self, action) {
            (NoticeStatus::Issued, NoticeAction::Acknowledge) => Ok(NoticeStatus::Acknowledged),
            _ => Err(InvalidTransition { entity: "notice", current: self.as_str(), action: action.as_str() }),
        }
    }
}

/// The filters of the notice list, resolved for the caller (`addressed_to=me` is a unit id here).
#[derive(Debug, Default, Clone)]
pub struct NoticeFilter {
    pub finding_id: Option<i64>,
    pub inspection_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    pub status: Vec<NoticeStatus>,
    /// Only notices addressed to this unit (the caller's own, for `addressed_to=me`).
    pub addressed_to: Option<i64>,
}

/// How long acknowledgements took, in seconds: the average and the longest. `None` when
/// nothing was acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AcknowledgementTimes {
    pub average_seconds: Option<f64>,
    pub max_seconds: Option<f64>,
}

/// The acknowledgement times of `(issued_at, acknowledged_at)` pairs, to the microsecond.
pub fn acknowledgement_times(pairs: &[(NaiveDateTime, NaiveDateTime)]) -> AcknowledgementTimes {
    if pairs.is_empty() {
        return AcknowledgementTimes::default();
    }
    // Microseconds fit an i64 for any two dates of years 1900–9999; their sum is taken in i128.
    // Clocks of several instances may disagree slightly: a wait is never negative.
    let micros: Vec<i128> = pairs
        .iter()
        .map(|(issued, acknowledged)| {
            let us = (*acknowledged - *issued).num_microseconds().unwrap_or(i64::MAX);
            i128::from(us.max(0))
        })
        .collect();
    let total: i128 = micros.iter().sum();
    let max = micros.iter().copied().max().unwrap_or(0);
    let seconds = |us: f64| us / 1_000_000.0;
    AcknowledgementTimes {
        average_seconds: Some(seconds(total as f64 / micros.len() as f64)),
        max_seconds: Some(seconds(max as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_edge_and_every_refusal() {
        let actions = [NoticeAction::Acknowledge];
        let allowed = [(NoticeStatus::Issued, NoticeAction::Acknowledge, NoticeStatus::Acknowledged)];
        for &from in NoticeStatus::ALL {
            for action in actions {
                let expected = allowed.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                match (from.transition(action), expected) {
                    (Ok(to), Some(e)) => assert_eq!(to, e, "{from} {action:?}"),
                    (Err(refusal), None) => {
                        assert_eq!(refusal.entity, "notice");
                        assert_eq!(refusal.current, from.as_str());
                        assert_eq!(refusal.action, action.as_str());
                    }
                    (got, want) => panic!("{from} {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn a_notice_is_acknowledged_exactly_once() {
        let once = NoticeStatus::Issued.transition(NoticeAction::Acknowledge).unwrap();
        assert!(once.transition(NoticeAction::Acknowledge).is_err());
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn acknowledgement_times_average_and_maximum() {
        assert_eq!(acknowledgement_times(&[]), AcknowledgementTimes { average_seconds: None, max_seconds: None });
        let pairs = [
            (at("2024-10-01 08:00:00"), at("2024-10-01 08:00:30")),
            (at("2024-10-01 08:00:00"), at("2024-10-01 09:00:00")),
            (at("2024-10-01 08:00:00"), at("2024-10-01 08:00:00.000001")),
        ];
        let t = acknowledgement_times(&pairs);
        assert_eq!(t.max_seconds, Some(3600.0));
        let expected = (30.0 + 3600.0 + 0.000001) / 3.0;
        assert!((t.average_seconds.unwrap() - expected).abs() < 1e-9, "{t:?}");
        // Across days and years.
        let long = acknowledgement_times(&[(at("2024-12-31 23:59:59"), at("2025-01-02 00:00:00"))]);
        assert_eq!(long.max_seconds, Some(86_401.0));
        assert_eq!(long.average_seconds, long.max_seconds);
        // A clock that stepped back counts as no wait at all.
        let skewed = acknowledgement_times(&[(at("2024-10-01 08:00:01"), at("2024-10-01 08:00:00"))]);
        assert_eq!(skewed.max_seconds, Some(0.0));
    }
}
