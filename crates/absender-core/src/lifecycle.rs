//! How a DNS-checked part's status moves over time, and when to check again.

use crate::Status;
use crate::check::Verdict;
use std::time::Duration;

/// The time limits of verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// A pending part that is still not verified after this fails (SES: 72 h).
    pub verify_within: Duration,
    /// A broken part that is not repaired within this fails.
    pub repair_within: Duration,
}

fn older_than(since_ms: i64, now_ms: i64, limit: Duration) -> bool {
    now_ms.saturating_sub(since_ms) >= i64::try_from(limit.as_millis()).unwrap_or(i64::MAX)
}

/// The status after a check with `verdict`, for a part that has had `current`
/// since `since_ms`. Failed lookups (`Temporary`) never change a status: they
/// are retried, and never turn anything `FAILED` by themselves.
pub fn next_status(
    current: Status,
    since_ms: i64,
    verdict: Verdict,
    now_ms: i64,
    deadlines: &Deadlines,
) -> Status {
    use Status::*;
    match (current, verdict) {
        (_, Verdict::Temporary) | (Failed, _) => current,
        // A check of a part not yet started starts it; the next check may verify it.
        (NotStarted, _) => Pending,
        (Pending | Success | TemporaryFailure, Verdict::Verified) => Success,
        (Pending, Verdict::NotVerified)
            if older_than(since_ms, now_ms, deadlines.verify_within) =>
        {
            Failed
        }
        (Pending, Verdict::NotVerified) => Pending,
        (Success, Verdict::NotVerified) => TemporaryFailure,
        (TemporaryFailure, Verdict::NotVerified)
            if older_than(since_ms, now_ms, deadlines.repair_within) =>
        {
            Failed
        }
        (TemporaryFailure, Verdict::NotVerified) => TemporaryFailure,
    }
}

/// Backoff while waiting for records: soon after the request, then hourly.
const WAITING_SCHEDULE: [Duration; 3] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(15 * 60),
];
const WAITING_MAX: Duration = Duration::from_secs(60 * 60);

/// When to check again, after `checks_in_status` checks since the status was
/// entered; `None` for parts that are no longer checked.
pub fn next_check_in(
    status: Status,
    checks_in_status: u32,
    recheck_verified: Duration,
) -> Option<Duration> {
    match status {
        Status::Failed | Status::NotStarted => None,
        Status::Success => Some(recheck_verified),
        Status::Pending | Status::TemporaryFailure => Some(
            WAITING_SCHEDULE
                .get(checks_in_status as usize)
                .copied()
                .unwrap_or(WAITING_MAX),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;
    use Verdict::*;

    const H: i64 = 3_600_000;
    const D: Deadlines = Deadlines {
        verify_within: Duration::from_secs(72 * 3600),
        repair_within: Duration::from_secs(72 * 3600),
    };

    #[test]
    fn pending_succeeds_when_verified_and_fails_after_72_hours() {
        assert_eq!(next_status(Pending, 0, Verified, H, &D), Success);
        assert_eq!(next_status(Pending, 0, NotVerified, 71 * H, &D), Pending);
        assert_eq!(next_status(Pending, 0, NotVerified, 72 * H, &D), Failed);
    }

    #[test]
    fn a_verified_part_that_breaks_is_temporary_then_failed_unless_repaired() {
        assert_eq!(
            next_status(Success, 0, NotVerified, 100 * H, &D),
            TemporaryFailure
        );
        assert_eq!(
            next_status(TemporaryFailure, 10 * H, NotVerified, 81 * H, &D),
            TemporaryFailure
        );
        assert_eq!(
            next_status(TemporaryFailure, 10 * H, Verified, 81 * H, &D),
            Success
        );
        assert_eq!(
            next_status(TemporaryFailure, 10 * H, NotVerified, 82 * H, &D),
            Failed
        );
    }

    #[test]
    fn failed_lookups_change_nothing_and_failed_waits_for_a_restart() {
        for status in [Pending, Success, TemporaryFailure, Failed] {
            assert_eq!(next_status(status, 0, Temporary, 1000 * H, &D), status);
        }
        assert_eq!(next_status(Failed, 0, Verified, H, &D), Failed);
    }

    #[test]
    fn every_move_is_a_legal_transition() {
        for from in [NotStarted, Pending, Success, TemporaryFailure, Failed] {
            for verdict in [Verified, NotVerified, Temporary] {
                for now in [0, 100 * H] {
                    let to = next_status(from, 0, verdict, now, &D);
                    assert!(from.can_become(to), "{from:?} -> {to:?}");
                }
            }
        }
    }

    #[test]
    fn checks_back_off_and_are_capped() {
        let day = Duration::from_secs(86_400);
        let waits: Vec<Duration> = (0..6)
            .map(|n| next_check_in(Pending, n, day).unwrap())
            .collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "monotonic");
        assert_eq!(waits[0], Duration::from_secs(60));
        assert_eq!(*waits.last().unwrap(), WAITING_MAX);
        assert_eq!(next_check_in(Success, 0, day), Some(day));
        assert_eq!(next_check_in(Failed, 0, day), None);
    }
}
