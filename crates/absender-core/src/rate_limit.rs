//! How often things may happen: verification mails for one identity, and
//! the abuse limits of `[limits]` (sliding windows over stored times).

use std::time::Duration;

/// At most `max` events within any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    pub window: Duration,
    pub max: u32,
}

impl WindowLimit {
    /// Whether one more event may happen at `now_ms`, given when earlier ones
    /// did; on refusal, how long until the window has room.
    pub fn check(&self, previous_ms: &[i64], now_ms: i64) -> Result<(), Duration> {
        let window_ms = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let mut inside: Vec<i64> = previous_ms
            .iter()
            .copied()
            .filter(|t| now_ms - t < window_ms)
            .collect();
        if inside.len() < self.max as usize {
            return Ok(());
        }
        if self.max == 0 {
            return Err(self.window);
        }
        inside.sort_unstable();
        // The window frees up when the oldest of the newest `max` events leaves it.
        let oldest_counted = inside[inside.len() - self.max as usize];
        let wait = (oldest_counted.saturating_add(window_ms) - now_ms).max(1);
        Err(Duration::from_millis(wait as u64))
    }
}

/// The longest a token bucket asks to wait.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A token bucket: `rate` tokens a second, at most `rate` (at least one)
/// saved up; each take needs one. Pure: the caller keeps it and the clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at_ms: i64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`; `rate` must be positive.
    pub fn new(rate: f64, now_ms: i64) -> Self {
        let burst = rate.max(1.0);
        Self {
            rate,
            burst,
            tokens: burst,
            at_ms: now_ms,
        }
    }

    /// A bucket that held `tokens` at `at_ms` (kept elsewhere, e.g. shared
    /// by several nodes in a database).
    pub fn holding(rate: f64, tokens: f64, at_ms: i64) -> Self {
        Self {
            rate,
            burst: rate.max(1.0),
            tokens,
            at_ms,
        }
    }

    /// The most it saves up: `rate`, and at least one.
    pub fn burst(&self) -> f64 {
        self.burst
    }

    /// Its rate a second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes a token at `now_ms`; on refusal, how long until one is there.
    pub fn take(&mut self, now_ms: i64) -> Result<(), Duration> {
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at_ms = self.at_ms.max(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        // At most a day: a tiny rate must not overflow the wait.
        let wait = Duration::try_from_secs_f64((1.0 - self.tokens) / self.rate)
            .unwrap_or(MAX_WAIT)
            .min(MAX_WAIT);
        Err(wait.max(Duration::from_millis(1)))
    }
}

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
        WindowLimit {
            window: Duration::from_millis(DAY_MS as u64),
            max: self.daily_limit,
        }
        .check(previous_sends_ms, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_rate_with_a_burst_of_one_second() {
        let mut bucket = TokenBucket::new(2.0, 0);
        assert!(bucket.take(0).is_ok() && bucket.take(0).is_ok());
        assert_eq!(bucket.take(0), Err(Duration::from_millis(500)));
        assert!(bucket.take(500).is_ok());
        assert!(bucket.take(500).is_err());
        // Idle time saves up one second's worth, no more.
        assert!(bucket.take(60_000).is_ok() && bucket.take(60_000).is_ok());
        assert!(bucket.take(60_000).is_err());
        // Below one a second: one message, then wait.
        let mut slow = TokenBucket::new(0.5, 0);
        assert!(slow.take(0).is_ok());
        assert_eq!(slow.take(0), Err(Duration::from_secs(2)));
        // A clock that goes back does not mint tokens.
        assert!(slow.take(-10_000).is_err());
        // A tiny rate waits a day at most, and does not overflow.
        let mut tiny = TokenBucket::new(1e-300, 0);
        assert!(tiny.take(0).is_ok());
        assert_eq!(tiny.take(0), Err(MAX_WAIT));
    }

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

    #[test]
    fn a_window_limit_counts_only_its_window_and_says_when_it_frees() {
        let hourly = WindowLimit {
            window: Duration::from_secs(3600),
            max: 2,
        };
        assert_eq!(hourly.check(&[0], 1_000), Ok(()));
        assert_eq!(
            hourly.check(&[0, 1_000], 2_000),
            Err(Duration::from_millis(3_598_000))
        );
        assert_eq!(hourly.check(&[0, 1_000], 3_600_000), Ok(()));
        let none = WindowLimit {
            window: Duration::from_secs(60),
            max: 0,
        };
        assert_eq!(none.check(&[], 0), Err(Duration::from_secs(60)));
    }
}
