//! Response rate limiting, as NSD and BIND do it: per client network (/24
//! for IPv4, /56 for IPv6), at most `limit` identical responses a second
//! over UDP. Beyond that every second response is sent truncated (a real
//! resolver then asks over TCP, which is not limited) and the others are
//! dropped, so a flood with a forged source cannot use absender to hit
//! someone else.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// What to do with one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// Send it empty, with the TC bit.
    Truncate,
    Drop,
}

/// Responses counted in the current second, per client network and response.
pub struct RateLimiter {
    limit: u32,
    started: Instant,
    /// Names are counted by a keyed hash of their lowercase form: no
    /// allocation per packet, and nobody outside can make two names collide.
    names: RandomState,
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    second: u64,
    counts: HashMap<(IpAddr, u64, RecordType, ResponseCode), u32>,
}

/// The client's network: responses to one network count together.
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & 0xffff_ff00).into()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => network(IpAddr::V4(v4)),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 72) - 1)).into()),
        },
    }
}

impl RateLimiter {
    /// `limit` identical responses a second per client network.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            started: Instant::now(),
            names: RandomState::new(),
            window: Mutex::new(Window::default()),
        }
    }

    /// Counts a response to `client` about `name`: the caller passes the
    /// question for answers, the zone for names that do not exist (a flood
    /// of random names would otherwise never repeat) and none for errors,
    /// which then count together per client network.
    pub fn check(
        &self,
        client: IpAddr,
        name: Option<&Name>,
        qtype: RecordType,
        code: ResponseCode,
        now: Instant,
    ) -> Verdict {
        let second = now.duration_since(self.started).as_secs();
        let name = name.map_or(0, |name| {
            let mut hasher = self.names.build_hasher();
            for label in name.iter() {
                hasher.write_u8(label.len() as u8);
                for byte in label {
                    hasher.write_u8(byte.to_ascii_lowercase());
                }
            }
            hasher.finish()
        });
        // Answers count by type; names that do not exist and errors do not,
        // or a client could multiply its budget by asking every type.
        let qtype = if code == ResponseCode::NoError {
            qtype
        } else {
            RecordType::NULL
        };
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        // Only forward: a thread that read the time before another one
        // started the next second counts in that second.
        if second > window.second {
            window.second = second;
            window.counts.clear();
        }
        let count = window
            .counts
            .entry((network(client), name, qtype, code))
            .or_insert(0);
        *count = count.saturating_add(1);
        match count.checked_sub(self.limit) {
            None | Some(0) => Verdict::Send,
            Some(over) if over % 2 == 1 => Verdict::Truncate,
            Some(_) => Verdict::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn beyond_the_limit_half_are_truncated_and_half_dropped_per_network_and_second() {
        let rrl = RateLimiter::new(3);
        let now = Instant::now();
        let ask = |ip: &str, name: &str, at: Instant| {
            rrl.check(
                ip.parse().unwrap(),
                Some(&Name::from_ascii(name).unwrap()),
                RecordType::TXT,
                ResponseCode::NoError,
                at,
            )
        };
        let verdicts: Vec<Verdict> = (0..7).map(|_| ask("192.0.2.1", "k.test", now)).collect();
        use Verdict::*;
        assert_eq!(verdicts, [Send, Send, Send, Truncate, Drop, Truncate, Drop]);
        assert_eq!(ask("192.0.2.77", "k.test", now), Truncate, "the same /24");
        assert_eq!(ask("198.51.100.1", "k.test", now), Send, "another network");
        assert_eq!(
            ask("192.0.2.1", "other.test", now),
            Send,
            "another response"
        );
        assert_eq!(ask("192.0.2.1", "K.Test", now), Drop, "names in any case");
        assert_eq!(
            ask("192.0.2.1", "k.test", now + Duration::from_secs(1)),
            Send,
            "a new second"
        );
    }

    #[test]
    fn names_that_do_not_exist_count_per_zone_whatever_the_type() {
        let rrl = RateLimiter::new(2);
        let now = Instant::now();
        let zone = Name::from_ascii("dkim.absender.test").unwrap();
        let other = Name::from_ascii("acme.test").unwrap();
        let nx = |name: &Name, qtype| {
            rrl.check(
                "192.0.2.1".parse().unwrap(),
                Some(name),
                qtype,
                ResponseCode::NXDomain,
                now,
            )
        };
        use Verdict::*;
        assert_eq!(nx(&zone, RecordType::TXT), Send);
        assert_eq!(nx(&zone, RecordType::A), Send);
        assert_eq!(
            nx(&zone, RecordType::MX),
            Truncate,
            "another type, same budget"
        );
        assert_eq!(nx(&other, RecordType::TXT), Send, "another zone");
    }

    #[test]
    fn a_late_thread_does_not_move_the_window_back() {
        let rrl = RateLimiter::new(1);
        let start = rrl.started;
        let ask = |at: Instant| {
            rrl.check(
                "192.0.2.1".parse().unwrap(),
                None,
                RecordType::A,
                ResponseCode::Refused,
                at,
            )
        };
        assert_eq!(ask(start + Duration::from_secs(1)), Verdict::Send);
        // A time read before the second began: counted in it, not a reset.
        assert_eq!(ask(start + Duration::from_millis(999)), Verdict::Truncate);
        assert_eq!(ask(start + Duration::from_millis(1500)), Verdict::Drop);
    }

    #[test]
    fn errors_count_together_per_network() {
        let rrl = RateLimiter::new(2);
        let now = Instant::now();
        let verdicts: Vec<Verdict> = [RecordType::A, RecordType::A, RecordType::A]
            .into_iter()
            .map(|qtype| {
                rrl.check(
                    "192.0.2.1".parse().unwrap(),
                    None,
                    qtype,
                    ResponseCode::Refused,
                    now,
                )
            })
            .collect();
        assert_eq!(verdicts, [Verdict::Send, Verdict::Send, Verdict::Truncate]);
    }
}
