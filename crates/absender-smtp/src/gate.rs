//! Who may open a session, and how long a failed login makes an address wait:
//! shared by all sessions of a listener, like Postfix's anvil.

use crate::SmtpLimits;
use absender_core::net::limit_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed logins an address may make before its answers slow down.
const FREE_AUTH_FAILURES: u32 = 3;
/// The longest wait before a login is answered.
const MAX_AUTH_DELAY: Duration = Duration::from_secs(30);
/// Failures are forgotten after this long without another.
const AUTH_MEMORY: Duration = Duration::from_secs(600);
/// Clients remembered at most; when full, the expired are forgotten, and
/// if none has expired, all (a flood of addresses must not grow memory).
const MAX_REMEMBERED: usize = 100_000;

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
    /// Failed logins by client: how many, and when the last was.
    auth_failures: HashMap<IpAddr, (u32, Instant)>,
}

/// Why a session was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crowded {
    Listener,
    Address,
}

pub struct Gate {
    limits: SmtpLimits,
    counts: Mutex<Counts>,
}

/// A session's place; given back when dropped.
pub struct Admitted {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.gate.counts.lock().expect("not poisoned");
        counts.total -= 1;
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

impl Gate {
    pub fn new(limits: SmtpLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// A place for a session from `ip`; trusted clients count towards the
    /// listener's limit but not an address's.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, trusted: bool) -> Result<Admitted, Crowded> {
        let ip = limit_key(ip);
        let mut counts = self.counts.lock().expect("not poisoned");
        if counts.total >= self.limits.max_sessions {
            return Err(Crowded::Listener);
        }
        let from_ip = counts.per_ip.get(&ip).copied().unwrap_or(0);
        if !trusted && from_ip >= self.limits.max_sessions_per_ip {
            return Err(Crowded::Address);
        }
        counts.total += 1;
        *counts.per_ip.entry(ip).or_default() += 1;
        Ok(Admitted {
            gate: self.clone(),
            ip,
        })
    }

    /// How long to wait before answering a login from `ip`: nothing for the
    /// first few failures, then doubling with each. Every answer waits, a
    /// right password's too, so the wait tells a guesser nothing; it never
    /// refuses.
    pub fn auth_delay(&self, ip: IpAddr, now: Instant) -> Duration {
        let ip = limit_key(ip);
        let counts = self.counts.lock().expect("not poisoned");
        let Some(&(failures, last)) = counts.auth_failures.get(&ip) else {
            return Duration::ZERO;
        };
        if now.duration_since(last) > AUTH_MEMORY || failures <= FREE_AUTH_FAILURES {
            return Duration::ZERO;
        }
        let doublings = (failures - FREE_AUTH_FAILURES - 1).min(16);
        (Duration::from_millis(500) * 2u32.pow(doublings)).min(MAX_AUTH_DELAY)
    }

    /// Counts a failed login. A success resets nothing: a guesser with one
    /// valid login of its own must not buy itself fresh tries with it.
    pub fn auth_failed(&self, ip: IpAddr, now: Instant) {
        let ip = limit_key(ip);
        let mut counts = self.counts.lock().expect("not poisoned");
        if counts.auth_failures.len() >= MAX_REMEMBERED {
            counts
                .auth_failures
                .retain(|_, (_, last)| now.duration_since(*last) <= AUTH_MEMORY);
            if counts.auth_failures.len() >= MAX_REMEMBERED {
                counts.auth_failures.clear();
            }
        }
        let entry = counts.auth_failures.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) > AUTH_MEMORY {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_sessions: usize, max_sessions_per_ip: usize) -> Arc<Gate> {
        Gate::new(SmtpLimits {
            max_sessions,
            max_sessions_per_ip,
            ..SmtpLimits::default()
        })
    }

    #[test]
    fn sessions_are_counted_per_listener_and_per_address_and_given_back() {
        let gate = gate(3, 2);
        let (a, b) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = gate.admit(a, false).unwrap();
        let _second = gate.admit(a, false).unwrap();
        assert_eq!(gate.admit(a, false).err(), Some(Crowded::Address));
        let _third = gate.admit(b, false).unwrap();
        assert_eq!(gate.admit(b, false).err(), Some(Crowded::Listener));
        drop(first);
        assert!(
            gate.admit(a, false).is_ok(),
            "a closed session frees its place"
        );
    }

    #[test]
    fn an_ipv6_host_counts_once_for_its_whole_64() {
        let gate = gate(10, 2);
        let _a = gate
            .admit("2001:db8:1:2::1".parse().unwrap(), false)
            .unwrap();
        let _b = gate
            .admit("2001:db8:1:2::ffff".parse().unwrap(), false)
            .unwrap();
        let third = gate.admit("2001:db8:1:2:abcd::9".parse().unwrap(), false);
        assert_eq!(third.err(), Some(Crowded::Address));
        assert!(
            gate.admit("2001:db8:1:3::1".parse().unwrap(), false)
                .is_ok()
        );
    }

    #[test]
    fn trusted_clients_are_not_held_to_the_address_limit() {
        let gate = gate(10, 1);
        let ip = "127.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..5).map(|_| gate.admit(ip, true).unwrap()).collect();
        assert_eq!(held.len(), 5);
    }

    #[test]
    fn failed_logins_slow_an_address_down_and_are_forgotten() {
        let gate = gate(10, 10);
        let (ip, other) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let now = Instant::now();
        for _ in 0..3 {
            gate.auth_failed(ip, now);
        }
        assert_eq!(
            gate.auth_delay(ip, now),
            Duration::ZERO,
            "a few typos cost nothing"
        );
        gate.auth_failed(ip, now);
        let first = gate.auth_delay(ip, now);
        gate.auth_failed(ip, now);
        assert!(first > Duration::ZERO && gate.auth_delay(ip, now) == first * 2);
        for _ in 0..40 {
            gate.auth_failed(ip, now);
        }
        assert_eq!(gate.auth_delay(ip, now), MAX_AUTH_DELAY);
        assert_eq!(
            gate.auth_delay(other, now),
            Duration::ZERO,
            "only that address"
        );
        assert_eq!(
            gate.auth_delay(ip, now + AUTH_MEMORY + Duration::from_secs(1)),
            Duration::ZERO
        );
    }
}
