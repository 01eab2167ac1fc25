//! Verification statuses with SES's names, and the transitions between them.

use serde::{Deserialize, Serialize};

/// The status of an identity or one of its parts (SES's `VerificationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Nothing has been asked of the customer yet.
    NotStarted,
    /// Waiting for the customer: link not clicked, records not (yet) seen.
    Pending,
    /// Verified.
    Success,
    /// Gave up: not verified in time, or broken and not repaired in time.
    Failed,
    /// Was verified, is broken now; mail falls back until it is repaired.
    TemporaryFailure,
}

/// A status change that the rules forbid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a status cannot change from {from:?} to {to:?}")]
pub struct IllegalTransition {
    /// The status before.
    pub from: Status,
    /// The status asked for.
    pub to: Status,
}

impl Status {
    /// The SES name, as in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "NOT_STARTED",
            Status::Pending => "PENDING",
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
            Status::TemporaryFailure => "TEMPORARY_FAILURE",
        }
    }

    /// Parses a stored SES name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::NotStarted,
            Status::Pending,
            Status::Success,
            Status::Failed,
            Status::TemporaryFailure,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }

    /// Whether a part may move from `self` to `to`. Staying put is always allowed.
    ///
    /// Verification starts (`NOT_STARTED → PENDING`) and ends in `SUCCESS` or
    /// `FAILED`; only a verified part can break (`SUCCESS → TEMPORARY_FAILURE`),
    /// and a broken one is repaired or fails; a failed one can only be restarted.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        self == to
            || matches!(
                (self, to),
                (NotStarted, Pending)
                    | (Pending, Success)
                    | (Pending, Failed)
                    | (Success, TemporaryFailure)
                    | (TemporaryFailure, Success)
                    | (TemporaryFailure, Failed)
                    | (Failed, Pending)
            )
    }

    /// Moves to `to` if the rules allow it.
    pub fn transition(self, to: Status) -> Result<Status, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// The status of a whole made of `parts`: the worst part decides, and it is
    /// `SUCCESS` only when every part is.
    pub fn overall(parts: impl IntoIterator<Item = Status>) -> Status {
        let parts: Vec<Status> = parts.into_iter().collect();
        let any = |s: Status| parts.contains(&s);
        if any(Status::Failed) {
            Status::Failed
        } else if any(Status::TemporaryFailure) {
            Status::TemporaryFailure
        } else if parts.iter().all(|s| *s == Status::Success) {
            Status::Success
        } else if parts.iter().all(|s| *s == Status::NotStarted) {
            Status::NotStarted
        } else {
            Status::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    const ALL: [Status; 5] = [NotStarted, Pending, Success, Failed, TemporaryFailure];

    #[test]
    fn legal_transitions_are_exactly_the_lifecycle() {
        let legal = [
            (NotStarted, Pending),
            (Pending, Success),
            (Pending, Failed),
            (Success, TemporaryFailure),
            (TemporaryFailure, Success),
            (TemporaryFailure, Failed),
            (Failed, Pending),
        ];
        for from in ALL {
            for to in ALL {
                let expected = from == to || legal.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn illegal_transitions_name_both_ends() {
        let err = NotStarted.transition(Success).unwrap_err();
        assert_eq!(
            err,
            IllegalTransition {
                from: NotStarted,
                to: Success
            }
        );
        assert!(Success.transition(Pending).is_err());
        assert!(Failed.transition(Success).is_err());
        assert!(Pending.transition(TemporaryFailure).is_err());
        assert!(Pending.transition(NotStarted).is_err());
    }

    #[test]
    fn overall_status_is_the_worst_part() {
        assert_eq!(Status::overall([Success, Success, Success]), Success);
        assert_eq!(Status::overall([Success, Pending, Success]), Pending);
        assert_eq!(
            Status::overall([Success, TemporaryFailure, Pending]),
            TemporaryFailure
        );
        assert_eq!(Status::overall([TemporaryFailure, Failed]), Failed);
        assert_eq!(Status::overall([NotStarted, NotStarted]), NotStarted);
        assert_eq!(Status::overall([NotStarted, Success]), Pending);
    }

    #[test]
    fn names_round_trip() {
        for s in ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("VERIFIED"), None);
    }
}
