//! Webhook deliveries' rules (pure): their states, and the retry schedule.

use std::time::Duration;

use crate::string_enum;
use crate::workflow::InvalidTransition;

string_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Waiting for its (next) attempt.
        Pending => "pending",
        /// A receiver answered 2xx.
        Succeeded => "succeeded",
        /// Every attempt of the schedule failed, or its webhook was disabled or deleted.
        Failed => "failed",
    }
}

impl DeliveryStatus {
    /// A manual retry (`POST …/deliveries/{id}/retry`) queues a finished delivery again.
    pub fn retry(self) -> Result<Self, InvalidTransition> {
        match self {
            Self::Succeeded | Self::Failed => Ok(Self::Pending),
            Self::Pending => Err(InvalidTransition { entity: "delivery", current: self.as_str(), action: "retry" }),
        }
    }
}

/// When failed attempts are retried: the Standard Webhooks schedule (5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h, 10 h), scaled by `base` (5 s in production), then failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
}

/// Each retry's delay, in multiples of the base.
const STEPS: [u32; 7] = [1, 60, 360, 1440, 3600, 7200, 7200];

impl RetryPolicy {
    /// The delay before the next attempt after `attempts` failed ones, or None: give up.
    pub fn delay_after(&self, attempts: i32) -> Option<Duration> {
        let i = usize::try_from(attempts).ok()?.checked_sub(1)?;
        STEPS.get(i).map(|n| self.base * *n)
    }

    /// How long a webhook may fail without a success before it is disabled: a day at the
    /// production base of 5 s.
    pub fn disable_after(&self) -> Duration {
        self.base * 17_280
    }
}

/// What a finished attempt leaves: the delivery's status and, when pending, the next attempt's delay.
pub fn after_attempt(policy: RetryPolicy, attempts: i32, succeeded: bool) -> (DeliveryStatus, Option<Duration>) {
    if succeeded {
        return (DeliveryStatus::Succeeded, None);
    }
    match policy.delay_after(attempts) {
        Some(delay) => (DeliveryStatus::Pending, Some(delay)),
        None => (DeliveryStatus::Failed, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_production_schedule_retries_for_more_than_a_day() {
        let p = RetryPolicy { base: Duration::from_secs(5) };
        assert_eq!(p.delay_after(1), Some(Duration::from_secs(5)), "first retry within 30 s");
        assert_eq!(p.delay_after(2), Some(Duration::from_secs(300)));
        assert_eq!(p.delay_after(7), Some(Duration::from_secs(36_000)));
        assert_eq!(p.delay_after(8), None);
        assert_eq!(p.delay_after(0), None);
        let total: Duration = (1..=7).filter_map(|a| p.delay_after(a)).sum();
        assert!(total >= Duration::from_secs(24 * 3600), "{total:?}");
        assert_eq!(p.disable_after(), Duration::from_secs(24 * 3600));
    }

    #[test]
    fn attempts_end_in_success_retry_or_failure() {
        let p = RetryPolicy { base: Duration::from_millis(10) };
        assert_eq!(after_attempt(p, 1, true), (DeliveryStatus::Succeeded, None));
        assert_eq!(after_attempt(p, 1, false), (DeliveryStatus::Pending, Some(Duration::from_millis(10))));
        assert_eq!(after_attempt(p, 8, false), (DeliveryStatus::Failed, None));
    }

    #[test]
    fn only_finished_deliveries_are_retried_by_hand() {
        assert_eq!(DeliveryStatus::Failed.retry(), Ok(DeliveryStatus::Pending));
        assert_eq!(DeliveryStatus::Succeeded.retry(), Ok(DeliveryStatus::Pending));
        assert!(DeliveryStatus::Pending.retry().is_err());
        assert!(DeliveryStatus::names_agree());
    }
}
