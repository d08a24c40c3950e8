//! When to try a failed delivery again, and when to stop.

use std::time::Duration;

/// The retry schedule: after the n-th failed attempt wait `base · 2^(n-1)`, at most
/// `cap`, of which the upper half is random (so receivers that come back are not hit by
/// every queued message at the same instant); give up once `give_up_after` has passed
/// since the first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
    /// How long after the first attempt a message is still retried.
    pub give_up_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(3600),
            // An endpoint down from a Friday evening to a Monday morning gets every change.
            give_up_after: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

impl Backoff {
    /// The wait after `attempts` failed attempts (1 for the first), with `random` any
    /// random number for the jitter.
    pub fn delay(&self, attempts: i64, random: u64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 32)).unwrap_or(32);
        let full = self
            .base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.cap);
        let half = full / 2;
        let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let jitter = random.checked_rem(spread.saturating_add(1)).unwrap_or(0);
        half.saturating_add(Duration::from_millis(jitter))
    }

    /// Whether a message first tried at `first_ms` is given up on at `now_ms` (unix
    /// milliseconds).
    pub fn gives_up(&self, first_ms: i64, now_ms: i64) -> bool {
        let limit = i64::try_from(self.give_up_after.as_millis()).unwrap_or(i64::MAX);
        now_ms.saturating_sub(first_ms) >= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_with_jitter_in_the_upper_half() {
        let backoff = Backoff::default();
        for random in [0, 1, 7_777, u64::MAX] {
            let first = backoff.delay(1, random);
            assert!((5..=10).contains(&first.as_secs()), "{first:?}");
            let third = backoff.delay(3, random);
            assert!((20..=40).contains(&third.as_secs()), "{third:?}");
            let late = backoff.delay(40, random);
            assert!((1800..=3600).contains(&late.as_secs()), "{late:?}");
        }
        assert_ne!(backoff.delay(5, 1), backoff.delay(5, 99_999));
    }

    #[test]
    fn the_default_schedule_keeps_trying_for_three_days() {
        let backoff = Backoff::default();
        let days = 3 * 24 * 3600 * 1000;
        assert!(!backoff.gives_up(0, days - 1));
        assert!(backoff.gives_up(0, days));
        // Even with the longest waits, three days hold many attempts.
        let mut at = 0;
        let mut attempts = 0;
        while !backoff.gives_up(0, at) {
            attempts += 1;
            at += backoff.delay(attempts, u64::MAX).as_millis() as i64;
        }
        assert!(attempts >= 75, "{attempts}");
    }
}
