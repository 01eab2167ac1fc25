//! What one DNS check changes on an identity: each checked part's new
//! status, the status changes to record, and when to check again. Pure: the
//! service reads the identity and asks the DNS, then writes what this decides.

use crate::Status;
use crate::check::Verdict;
use crate::lifecycle::{Deadlines, next_check_in, next_status};
use std::time::Duration;

/// A part of an identity that DNS checks decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckedPart {
    /// The three DKIM CNAMEs.
    Dkim,
    /// The SPF policy.
    Spf,
    /// The optional custom MAIL FROM domain.
    MailFrom,
}

impl CheckedPart {
    /// The name stored and shown for the part.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dkim => "dkim",
            Self::Spf => "spf",
            Self::MailFrom => "mail_from",
        }
    }
}

/// A part's status, and since when it has had it (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartState {
    pub status: Status,
    pub since_ms: i64,
}

/// An identity as the check finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Before {
    /// The address part (confirmed by its owner, not by DNS); `None` for
    /// a domain identity.
    pub address: Option<Status>,
    pub dkim: PartState,
    pub spf: PartState,
    pub mail_from: PartState,
    /// Checks since the DNS statuses last changed (for the waiting schedule).
    pub checks_in_status: u32,
}

impl Before {
    pub fn part(&self, part: CheckedPart) -> PartState {
        match part {
            CheckedPart::Dkim => self.dkim,
            CheckedPart::Spf => self.spf,
            CheckedPart::MailFrom => self.mail_from,
        }
    }

    /// The identity's status: every required part (MAIL FROM is optional).
    pub fn overall(&self) -> Status {
        Status::overall(
            self.address
                .into_iter()
                .chain([self.dkim.status, self.spf.status]),
        )
    }
}

/// What the DNS said of each checked part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartVerdicts {
    pub dkim: Verdict,
    pub spf: Verdict,
    pub mail_from: Verdict,
}

/// The time rules of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub deadlines: Deadlines,
    /// How often a verified identity is checked again.
    pub recheck_verified: Duration,
}

/// One status change: of a part, or (`part` none) of the identity as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub part: Option<CheckedPart>,
    pub from: Status,
    pub to: Status,
}

/// What a check decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub dkim: Status,
    pub spf: Status,
    pub mail_from: Status,
    /// The parts whose status changed (DKIM, SPF, MAIL FROM in that order),
    /// then the identity's if its overall status changed.
    pub changes: Vec<Change>,
    pub overall_before: Status,
    pub overall_after: Status,
    /// Checks since a DNS status last changed: 0 after a change.
    pub checks_in_status: u32,
    /// When to check again (ms); none once nothing is checked any more.
    pub next_check_at: Option<i64>,
}

impl Decision {
    pub fn status(&self, part: CheckedPart) -> Status {
        match part {
            CheckedPart::Dkim => self.dkim,
            CheckedPart::Spf => self.spf,
            CheckedPart::MailFrom => self.mail_from,
        }
    }

    /// Since when `part` has its status after the check.
    pub fn since(&self, part: CheckedPart, before: &Before, now_ms: i64) -> i64 {
        let was = before.part(part);
        if was.status == self.status(part) {
            was.since_ms
        } else {
            now_ms
        }
    }
}

/// Decides a check of `before` with `verdicts` at `now_ms`.
pub fn decide(
    before: &Before,
    verdicts: &PartVerdicts,
    now_ms: i64,
    schedule: &Schedule,
) -> Decision {
    let after = |state: PartState, verdict| {
        next_status(
            state.status,
            state.since_ms,
            verdict,
            now_ms,
            &schedule.deadlines,
        )
    };
    let dkim = after(before.dkim, verdicts.dkim);
    let spf = after(before.spf, verdicts.spf);
    let mail_from = after(before.mail_from, verdicts.mail_from);

    let mut changes: Vec<Change> = [
        (CheckedPart::Dkim, before.dkim.status, dkim),
        (CheckedPart::Spf, before.spf.status, spf),
        (CheckedPart::MailFrom, before.mail_from.status, mail_from),
    ]
    .into_iter()
    .filter(|(_, from, to)| from != to)
    .map(|(part, from, to)| Change {
        part: Some(part),
        from,
        to,
    })
    .collect();
    let overall_before = before.overall();
    let overall_after = Status::overall(before.address.into_iter().chain([dkim, spf]));
    if overall_before != overall_after {
        changes.push(Change {
            part: None,
            from: overall_before,
            to: overall_after,
        });
    }

    let checks_in_status = if changes.is_empty() {
        before.checks_in_status.saturating_add(1)
    } else {
        0
    };
    // The optional MAIL FROM part keeps a verified identity on the waiting
    // schedule until it too is verified (or has failed).
    let required = Status::overall([dkim, spf]);
    let scheduled_as = match (required, mail_from) {
        (Status::Success, Status::Pending | Status::TemporaryFailure) => Status::Pending,
        _ => required,
    };
    let next_check_at = next_check_in(scheduled_as, checks_in_status, schedule.recheck_verified)
        .map(|wait| now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)));
    Decision {
        dkim,
        spf,
        mail_from,
        changes,
        overall_before,
        overall_after,
        checks_in_status,
        next_check_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;
    use Verdict::*;

    const MIN: i64 = 60_000;
    const H: i64 = 60 * MIN;
    const SCHEDULE: Schedule = Schedule {
        deadlines: Deadlines {
            verify_within: Duration::from_secs(72 * 3600),
            repair_within: Duration::from_secs(72 * 3600),
        },
        recheck_verified: Duration::from_secs(24 * 3600),
    };

    fn state(status: Status) -> PartState {
        PartState {
            status,
            since_ms: 0,
        }
    }

    /// An identity whose address is `address` and whose DNS parts are as given.
    fn identity(address: Status, dkim: Status, spf: Status, mail_from: Status) -> Before {
        Before {
            address: Some(address),
            dkim: state(dkim),
            spf: state(spf),
            mail_from: state(mail_from),
            checks_in_status: 0,
        }
    }

    fn verdicts(dkim: Verdict, spf: Verdict, mail_from: Verdict) -> PartVerdicts {
        PartVerdicts {
            dkim,
            spf,
            mail_from,
        }
    }

    fn change(part: Option<CheckedPart>, from: Status, to: Status) -> Change {
        Change { part, from, to }
    }

    #[test]
    fn published_records_verify_the_parts_and_the_confirmed_identity() {
        let before = identity(Success, Pending, Pending, NotStarted);
        let d = decide(
            &before,
            &verdicts(Verified, Verified, NotVerified),
            H,
            &SCHEDULE,
        );
        assert_eq!((d.dkim, d.spf, d.mail_from), (Success, Success, Pending));
        assert_eq!(
            d.changes,
            [
                change(Some(CheckedPart::Dkim), Pending, Success),
                change(Some(CheckedPart::Spf), Pending, Success),
                change(Some(CheckedPart::MailFrom), NotStarted, Pending),
                change(None, Pending, Success),
            ]
        );
        assert_eq!((d.overall_before, d.overall_after), (Pending, Success));
        assert_eq!(d.checks_in_status, 0);
        assert_eq!(d.since(CheckedPart::Dkim, &before, H), H);
    }

    #[test]
    fn an_unconfirmed_address_keeps_the_identity_pending_however_the_dns_looks() {
        let before = identity(Pending, Pending, Pending, NotStarted);
        let d = decide(
            &before,
            &verdicts(Verified, Verified, Verified),
            H,
            &SCHEDULE,
        );
        assert_eq!((d.dkim, d.spf), (Success, Success));
        assert_eq!(d.overall_after, Pending);
        assert!(
            d.changes.iter().all(|c| c.part.is_some()),
            "no identity change"
        );
    }

    #[test]
    fn a_domain_identity_succeeds_when_its_dns_does() {
        let before = Before {
            address: None,
            ..identity(Pending, Pending, Pending, NotStarted)
        };
        let d = decide(
            &before,
            &verdicts(Verified, Verified, NotVerified),
            H,
            &SCHEDULE,
        );
        assert_eq!(d.overall_after, Success);
        assert!(
            d.changes
                .iter()
                .any(|c| c.part.is_none() && c.to == Success)
        );
    }

    #[test]
    fn records_still_missing_change_nothing_and_count_the_waiting_checks() {
        let mut before = identity(Success, Pending, Pending, NotStarted);
        before.checks_in_status = 1;
        let d = decide(
            &before,
            &verdicts(NotVerified, NotVerified, Temporary),
            H,
            &SCHEDULE,
        );
        assert_eq!((d.dkim, d.spf, d.mail_from), (Pending, Pending, NotStarted));
        assert!(d.changes.is_empty());
        assert_eq!(d.checks_in_status, 2);
        assert_eq!(d.next_check_at, Some(H + 15 * MIN), "third waiting step");
        assert_eq!(d.since(CheckedPart::Dkim, &before, H), 0, "unchanged since");
    }

    #[test]
    fn records_still_missing_after_the_deadline_fail_the_identity() {
        let before = identity(Success, Pending, Success, NotStarted);
        let d = decide(
            &before,
            &verdicts(NotVerified, Verified, NotVerified),
            72 * H,
            &SCHEDULE,
        );
        assert_eq!((d.dkim, d.spf), (Failed, Success));
        assert_eq!(d.overall_after, Failed);
        assert_eq!(
            d.next_check_at, None,
            "a failed identity is not checked again"
        );
        assert_eq!(d.changes.last(), Some(&change(None, Pending, Failed)));
    }

    #[test]
    fn a_verified_record_that_disappears_breaks_the_identity_until_repaired_or_failed() {
        let before = identity(Success, Success, Success, Success);
        let broken = decide(
            &before,
            &verdicts(NotVerified, Verified, Verified),
            H,
            &SCHEDULE,
        );
        assert_eq!(broken.dkim, TemporaryFailure);
        assert_eq!(
            broken.changes,
            [
                change(Some(CheckedPart::Dkim), Success, TemporaryFailure),
                change(None, Success, TemporaryFailure),
            ]
        );
        assert_eq!(
            broken.next_check_at,
            Some(H + MIN),
            "back on the waiting schedule"
        );

        let mut still = identity(Success, TemporaryFailure, Success, Success);
        still.dkim.since_ms = H;
        let repaired = decide(
            &still,
            &verdicts(Verified, Verified, Verified),
            2 * H,
            &SCHEDULE,
        );
        assert_eq!(repaired.overall_after, Success);
        let failed = decide(
            &still,
            &verdicts(NotVerified, Verified, Verified),
            73 * H,
            &SCHEDULE,
        );
        assert_eq!(failed.dkim, Failed);
    }

    #[test]
    fn a_failed_lookup_changes_no_status() {
        let before = identity(Success, Success, Success, Success);
        let d = decide(
            &before,
            &verdicts(Temporary, Temporary, Temporary),
            100 * H,
            &SCHEDULE,
        );
        assert!(d.changes.is_empty());
        assert_eq!(d.overall_after, Success);
        assert_eq!(d.next_check_at, Some(124 * H), "the verified schedule");
    }

    #[test]
    fn a_pending_mail_from_keeps_a_verified_identity_on_the_waiting_schedule() {
        let mut before = identity(Success, Success, Success, Pending);
        before.checks_in_status = 5;
        let waiting = decide(
            &before,
            &verdicts(Verified, Verified, NotVerified),
            H,
            &SCHEDULE,
        );
        assert_eq!(waiting.overall_after, Success);
        assert_eq!(waiting.next_check_at, Some(2 * H), "hourly, not daily");

        let failed = identity(Success, Success, Success, Failed);
        let settled = decide(
            &failed,
            &verdicts(Verified, Verified, NotVerified),
            H,
            &SCHEDULE,
        );
        assert_eq!(
            settled.next_check_at,
            Some(25 * H),
            "a failed MAIL FROM waits no more"
        );
    }
}
