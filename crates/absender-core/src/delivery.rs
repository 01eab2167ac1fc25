//! What an SMTP attempt's outcome means for a delivery: delivered, tried
//! again later (with exponential backoff and jitter, up to a maximum age), or
//! bounced, and whether the bounce suppresses the address.

use std::time::Duration;

/// How a receiving server answered one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// 2xx to the end of DATA.
    Accepted { reply: String },
    /// A reply with this basic code (4xx or 5xx) and text.
    Refused { code: u16, reply: String },
    /// No SMTP answer: connection refused or dropped, timeout, TLS failure, no MX.
    Unreachable { reason: String },
    /// The recipient's domain says it takes no mail (null MX, RFC 7505) or does not exist.
    NoMailDomain { reason: String },
    /// Not attempted: every session to the destination stayed busy.
    Busy,
    /// Not attempted: this node's lease ended before DATA (another node may
    /// have taken the delivery over).
    Fenced,
}

/// The retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; doubled after each further one.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// After this age a message that could not be delivered bounces.
    pub max_age: Duration,
    /// How soon a delivery that found its destination busy is due again.
    pub busy_requeue: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(60),
            max_retry: Duration::from_secs(3600),
            max_age: Duration::from_secs(3 * 24 * 3600),
            busy_requeue: Duration::from_secs(30),
        }
    }
}

/// The new state of a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Delivered {
        reply: String,
    },
    /// Try again at this time (ms).
    Retry {
        at_ms: i64,
        reply: String,
    },
    /// Final failure; `suppress` when the address itself is bad (a hard bounce).
    Bounced {
        reply: String,
        suppress: bool,
    },
    /// Not attempted: back to the queue, due at this time (ms), the
    /// attempts and the last reply as they were.
    Requeued {
        at_ms: i64,
    },
}

/// How soon a delivery whose lease ended before DATA is due again (the
/// lease itself keeps it from being claimed until it runs out).
pub const FENCED_REQUEUE: Duration = Duration::from_secs(1);

/// The enhanced status code (RFC 3463) at the start of an SMTP reply text, if any.
pub fn enhanced_code(reply: &str) -> Option<&str> {
    let word = reply.split_whitespace().find(|w| w.contains('.'))?;
    let mut parts = word.split('.');
    let class = parts.next()?;
    let ok = matches!(class, "2" | "4" | "5")
        && parts.clone().count() == 2
        && parts.all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(word)
}

/// Whether a permanent failure says the address is bad (unknown, disabled,
/// malformed), rather than this message being refused.
pub fn is_hard_bounce(code: u16, reply: &str) -> bool {
    if !(500..600).contains(&code) {
        return false;
    }
    match enhanced_code(reply) {
        Some(enhanced) => enhanced.starts_with("5.1.") || enhanced == "5.2.1",
        None => matches!(code, 550 | 551 | 553),
    }
}

/// The state after attempt number `attempts` (1 for the first) of a message
/// created at `created_ms`. `jitter` in [0, 1) spreads retries of many
/// deliveries that failed together (up to +25 % of the wait).
pub fn next(
    attempt: &Attempt,
    attempts: u32,
    created_ms: i64,
    now_ms: i64,
    policy: &RetryPolicy,
    jitter: f64,
) -> Next {
    // Replies are the receiving server's words: cleaned before anyone stores them.
    let clean = crate::outside::clean;
    let (reply, temporary) = match attempt {
        Attempt::Fenced => {
            let wait = i64::try_from(FENCED_REQUEUE.as_millis()).unwrap_or(i64::MAX);
            return Next::Requeued {
                at_ms: now_ms.saturating_add(wait),
            };
        }
        // Back after about as long as it waited, spread; a destination busy
        // for the whole lifetime of a message bounces it like any other failure.
        Attempt::Busy => {
            let deadline = created_ms
                .saturating_add(i64::try_from(policy.max_age.as_millis()).unwrap_or(i64::MAX));
            if now_ms <= deadline {
                let wait = policy
                    .busy_requeue
                    .mul_f64(1.0 + 0.25 * jitter.clamp(0.0, 1.0));
                return Next::Requeued {
                    at_ms: now_ms
                        .saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
                };
            }
            (
                "4.4.5 every session to the destination stayed busy".to_string(),
                true,
            )
        }
        Attempt::Accepted { reply } => {
            return Next::Delivered {
                reply: clean(reply),
            };
        }
        Attempt::Refused { code, reply } if (500..600).contains(code) => {
            return Next::Bounced {
                reply: clean(&format!("{code} {reply}")),
                suppress: is_hard_bounce(*code, reply),
            };
        }
        Attempt::NoMailDomain { reason } => {
            return Next::Bounced {
                reply: clean(reason),
                suppress: true,
            };
        }
        Attempt::Refused { code, reply } => (clean(&format!("{code} {reply}")), true),
        Attempt::Unreachable { reason } => (clean(reason), true),
    };
    debug_assert!(temporary);
    let doublings = attempts.saturating_sub(1).min(20);
    let wait = policy
        .first_retry
        .saturating_mul(1 << doublings)
        .min(policy.max_retry);
    let wait = wait.mul_f64(1.0 + 0.25 * jitter.clamp(0.0, 1.0));
    let at_ms = now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
    let deadline =
        created_ms.saturating_add(i64::try_from(policy.max_age.as_millis()).unwrap_or(i64::MAX));
    if at_ms > deadline {
        return Next::Bounced {
            reply: clean(&format!(
                "gave up after {attempts} attempts over {}: {reply}",
                humanize(policy.max_age)
            )),
            suppress: false,
        };
    }
    Next::Retry { at_ms, reply }
}

fn humanize(d: Duration) -> String {
    let hours = d.as_secs() / 3600;
    if hours >= 24 && hours.is_multiple_of(24) {
        format!("{} days", hours / 24)
    } else if hours > 0 {
        format!("{hours} hours")
    } else {
        format!("{} seconds", d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn refused(code: u16, reply: &str) -> Attempt {
        Attempt::Refused {
            code,
            reply: reply.into(),
        }
    }

    #[test]
    fn accepted_is_delivered() {
        let n = next(
            &Attempt::Accepted {
                reply: "250 ok".into(),
            },
            1,
            0,
            0,
            &RetryPolicy::default(),
            0.0,
        );
        assert_eq!(
            n,
            Next::Delivered {
                reply: "250 ok".into()
            }
        );
    }

    #[test]
    fn a_busy_destination_requeues_without_an_attempt_until_the_maximum_age() {
        let p = RetryPolicy::default();
        let day = 24 * 60 * MIN;
        assert_eq!(
            next(&Attempt::Busy, 3, 0, 2 * day, &p, 0.0),
            Next::Requeued {
                at_ms: 2 * day + 30_000
            },
            "not an attempt: neither a retry wait nor a bounce"
        );
        assert!(
            matches!(
                next(&Attempt::Busy, 3, 0, 4 * day, &p, 0.0),
                Next::Bounced {
                    suppress: false,
                    ..
                }
            ),
            "busy for three days bounces"
        );
        assert_eq!(
            next(&Attempt::Fenced, 3, 0, 5 * day, &p, 0.5),
            Next::Requeued {
                at_ms: 5 * day + 1000
            }
        );
    }

    #[test]
    fn a_receivers_words_are_cleaned_before_they_are_kept() {
        let p = RetryPolicy::default();
        let accepted = Attempt::Accepted {
            reply: "250 ok\0".into(),
        };
        let long = format!("4.2.0 {}\0", "x".repeat(5000));
        for (attempt, expected_start) in [
            (accepted, "250 ok\u{FFFD}"),
            (
                refused(550, "5.1.1 no\r\nsuch\0user"),
                "550 5.1.1 no  such\u{FFFD}user",
            ),
            (refused(451, &long), "451 4.2.0 xxx"),
        ] {
            let reply = match next(&attempt, 1, 0, 0, &p, 0.0) {
                Next::Delivered { reply }
                | Next::Retry { reply, .. }
                | Next::Bounced { reply, .. } => reply,
                Next::Requeued { .. } => panic!("an attempt was made"),
            };
            assert!(reply.starts_with(expected_start), "{reply}");
            assert!(!reply.contains('\0') && reply.len() <= crate::outside::MAX_OUTSIDE_TEXT);
        }
    }

    #[test]
    fn temporary_failures_back_off_exponentially_up_to_the_cap() {
        let p = RetryPolicy::default();
        let at = |attempts| match next(&refused(451, "4.3.0 try later"), attempts, 0, 0, &p, 0.0) {
            Next::Retry { at_ms, .. } => at_ms,
            other => panic!("{other:?}"),
        };
        assert_eq!(at(1), MIN);
        assert_eq!(at(2), 2 * MIN);
        assert_eq!(at(3), 4 * MIN);
        assert_eq!(at(7), 60 * MIN, "capped at an hour");
        assert_eq!(at(30), 60 * MIN);
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        let p = RetryPolicy::default();
        let unreachable = Attempt::Unreachable {
            reason: "connection refused".into(),
        };
        let Next::Retry { at_ms, .. } = next(&unreachable, 1, 0, 0, &p, 0.999) else {
            panic!()
        };
        assert!(at_ms > MIN && at_ms <= MIN + MIN / 4, "{at_ms}");
    }

    #[test]
    fn a_message_too_old_to_retry_bounces_without_suppressing() {
        let p = RetryPolicy::default();
        let three_days = 3 * 24 * 60 * MIN;
        let n = next(&refused(421, "busy"), 40, 0, three_days - MIN, &p, 0.0);
        match n {
            Next::Bounced { reply, suppress } => {
                assert!(!suppress);
                assert!(
                    reply.contains("3 days") && reply.contains("421 busy"),
                    "{reply}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn permanent_failures_bounce_and_bad_mailboxes_are_suppressed() {
        let p = RetryPolicy::default();
        let bounce = |code, text| match next(&refused(code, text), 1, 0, 0, &p, 0.0) {
            Next::Bounced { suppress, .. } => suppress,
            other => panic!("{other:?}"),
        };
        assert!(bounce(550, "5.1.1 user unknown"));
        assert!(bounce(550, "mailbox unavailable"));
        assert!(bounce(552, "5.2.1 mailbox disabled"));
        assert!(!bounce(554, "5.7.1 message refused as spam"));
        assert!(!bounce(552, "5.3.4 message too big"));
    }

    #[test]
    fn enhanced_codes_are_recognised() {
        assert_eq!(enhanced_code("5.1.1 <a@b> unknown"), Some("5.1.1"));
        assert_eq!(enhanced_code("ok, queued as 1.2"), None);
        assert_eq!(enhanced_code("no code here"), None);
    }
}
