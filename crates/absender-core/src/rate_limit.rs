//! How often a verification mail may be resent for one identity.

use std::time::Duration;

/// The limits on resending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResendPolicy {
    /// The least time between two mails.
    pub min_interval: Duration,
    /// The most mails within any 24 hours.
    pub daily_limit: u32,
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl ResendPolicy {
    /// Decides whether another mail may go out at `now_ms`, given when earlier
    /// ones went out. On refusal, says how long to wait.
    pub fn check(&self, previous_sends_ms: &[i64], now_ms: i64) -> Result<(), Duration> {
        let interval_ms = i64::try_from(self.min_interval.as_millis()).unwrap_or(i64::MAX);
        if let Some(last) = previous_sends_ms.iter().max() {
            let next_ok = last.saturating_add(interval_ms);
            if now_ms < next_ok {
                return Err(Duration::from_millis((next_ok - now_ms) as u64));
            }
        }
        let mut in_last_day: Vec<i64> = previous_sends_ms
            .iter()
            .copied()
            .filter(|t| now_ms - t < DAY_MS)
            .collect();
        if in_last_day.len() >= self.daily_limit as usize {
            in_last_day.sort_unstable();
            // The window frees up when the oldest of the newest `limit` sends leaves it.
            let oldest_counted = in_last_day[in_last_day.len() - self.daily_limit as usize];
            let wait = (oldest_counted + DAY_MS - now_ms).max(1);
            return Err(Duration::from_millis(wait as u64));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ResendPolicy = ResendPolicy {
        min_interval: Duration::from_secs(60),
        daily_limit: 3,
    };

    #[test]
    fn first_mail_is_always_allowed() {
        assert_eq!(POLICY.check(&[], 0), Ok(()));
    }

    #[test]
    fn resend_within_a_minute_is_refused_with_the_wait() {
        assert_eq!(
            POLICY.check(&[100_000], 130_000),
            Err(Duration::from_secs(30))
        );
        assert_eq!(POLICY.check(&[100_000], 160_000), Ok(()));
    }

    #[test]
    fn daily_limit_counts_a_sliding_day() {
        let sends = [0, 3_600_000, 7_200_000];
        let err = POLICY.check(&sends, 10_000_000).unwrap_err();
        assert_eq!(err, Duration::from_millis((DAY_MS - 10_000_000) as u64));
        assert_eq!(POLICY.check(&sends, DAY_MS), Ok(()));
    }
}
