//! What an organization may send now, as SES guards an account: nothing
//! while its sending is paused; in the sandbox only to its own verified
//! addresses and 200 messages a day; and never beyond the operator's quotas
//! (`max_send_rate` messages a second, a token bucket; `max_24h_send`
//! recipients in any 24 hours, each counting as one email as in SES). Every interface (API, SMTP, SES) asks here
//! before it accepts a message. The state is read at most a second old, so
//! a pause holds on every node within a second.

use super::Sending;
use crate::ServiceError;
use absender_core::EmailAddress;
use absender_core::rate_limit::TokenBucket;
use absender_core::sender::covering;
use absender_store::OrgRow;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// SES's sandbox: at most this many messages in any 24 hours.
pub(crate) const SANDBOX_24H: i64 = 200;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a node trusts its count of an organization's last 24 hours
/// before it counts in the store again (messages it admits meanwhile are
/// added as they go).
const RECOUNT_AFTER_MS: i64 = 1_000;

/// Per organization: its send-rate bucket and its count of the last 24 hours.
pub(crate) struct Quotas {
    buckets: moka::sync::Cache<String, Arc<Mutex<TokenBucket>>>,
    counts: moka::sync::Cache<String, Arc<DayCount>>,
    /// `Reject` events per organization: a client looping on refused
    /// sends must not flood the outbox every destination shares.
    rejects: moka::sync::Cache<String, Arc<Mutex<TokenBucket>>>,
}

/// `Reject` events an organization makes a second at most (and in a burst).
const REJECT_EVENTS_PER_SECOND: f64 = 10.0;

fn per_org<T: Send + Sync + 'static>() -> moka::sync::Cache<String, Arc<T>> {
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_idle(Duration::from_secs(3600))
        .build()
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            buckets: per_org(),
            counts: per_org(),
            rejects: per_org(),
        }
    }
}

impl Quotas {
    /// Whether `org_id` may make another `Reject` event at `now_ms`.
    pub(crate) fn reject_event_allowed(&self, org_id: &str, now_ms: i64) -> bool {
        let bucket = self.rejects.get_with(org_id.to_string(), || {
            Arc::new(Mutex::new(TokenBucket::new(
                REJECT_EVENTS_PER_SECOND,
                now_ms,
            )))
        });
        bucket.lock().expect("reject bucket").take(now_ms).is_ok()
    }
}

/// An organization's recipients of the last 24 hours as this node knows
/// them. Checking and counting happen under one lock, so requests at the
/// same moment cannot all pass on the same count.
#[derive(Default)]
struct DayCount {
    counted: tokio::sync::Mutex<Counted>,
    /// Admitted by this node and not yet stored (or refused after all):
    /// the store's count does not hold them yet.
    in_flight: AtomicI64,
}

#[derive(Default)]
struct Counted {
    /// The store's count plus what was in flight then, plus what this
    /// node admitted since.
    sent: i64,
    /// When the store was asked; never yet: `None`.
    at_ms: Option<i64>,
}

/// A message's place in its organization's 24-hour quota, held until the
/// message is stored (or refused after all).
pub(crate) struct Admission {
    held: Option<(Arc<DayCount>, i64)>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some((count, n)) = self.held.take() {
            count.in_flight.fetch_sub(n, Ordering::Relaxed);
        }
    }
}

/// The 24-hour limit that holds for `org`, if any.
pub(crate) fn day_limit(org: &OrgRow) -> Option<i64> {
    match (org.sandbox, org.max_24h_send) {
        (true, quota) => Some(quota.map_or(SANDBOX_24H, |q| q.min(SANDBOX_24H))),
        (false, quota) => quota,
    }
}

/// Refuses every message of a paused organization.
fn refuse_paused(org: &OrgRow) -> Result<(), ServiceError> {
    if org.sending_enabled {
        return Ok(());
    }
    Err(ServiceError::Denied {
        code: "sending_paused",
        message: format!(
            "sending is paused for {} ({}); the operator resumes it",
            org.name,
            org.paused_reason.as_deref().unwrap_or("paused")
        ),
    })
}

impl Sending<'_> {
    /// The organization as stored now, at most a second old.
    pub(crate) async fn current_org(&self, org_id: &str) -> Result<Arc<OrgRow>, ServiceError> {
        let cache = &self.app.inner.sender_cache.current;
        if let Some(org) = cache.get(org_id) {
            return Ok(org);
        }
        let org = Arc::new(
            self.app
                .inner
                .store
                .org(org_id)
                .await?
                .ok_or(ServiceError::NotFound("organization"))?,
        );
        cache.insert(org_id.to_string(), org.clone());
        Ok(org)
    }

    /// Forgets what this node knows of the organization (the operator changed it).
    pub(crate) fn forget_org(&self, org_id: &str) {
        self.app.inner.sender_cache.current.invalidate(org_id);
        self.app.inner.quotas.buckets.invalidate(org_id);
    }

    /// SMTP's MAIL FROM: a paused organization is refused at once.
    pub(crate) async fn refuse_if_paused(&self, org_id: &str) -> Result<(), ServiceError> {
        refuse_paused(&*self.current_org(org_id).await?)
    }

    /// Refuses the first of `recipients` that is not one of the
    /// organization's verified addresses (or at one of its verified
    /// domains), if it is in the sandbox. Its identities are read once.
    pub(crate) async fn sandbox_allows(
        &self,
        org: &OrgRow,
        recipients: &[EmailAddress],
    ) -> Result<(), ServiceError> {
        if !org.sandbox {
            return Ok(());
        }
        let rows = self.identity_rows(&org.id).await?;
        let loaded = rows
            .iter()
            .cloned()
            .map(crate::identity::requests::load)
            .collect::<Result<Vec<_>, _>>()?;
        let identities: Vec<_> = loaded.iter().map(|i| i.sender_identity()).collect();
        let Some(recipient) = recipients
            .iter()
            .find(|r| covering(&identities, r, None).is_none())
        else {
            return Ok(());
        };
        Err(ServiceError::Denied {
            code: "sandbox_recipient",
            message: format!(
                "{} is in the sandbox: it may send only to its own verified addresses, and <{recipient}> is not one; the operator grants production access",
                org.name
            ),
        })
    }

    /// Before a message of the organization to `recipients` is accepted:
    /// not paused, sandbox recipients, the 24-hour quota (each recipient
    /// counts, as in SES), then the send rate, whose token it takes. The
    /// recipients count from now; hold the answer until the message is stored.
    pub(crate) async fn admit(
        &self,
        org_id: &str,
        recipients: &[EmailAddress],
    ) -> Result<Admission, ServiceError> {
        let org = self.current_org(org_id).await?;
        refuse_paused(&org)?;
        self.sandbox_allows(&org, recipients).await?;
        let n = recipients.len() as i64;
        let Some(limit) = day_limit(&org) else {
            if let Some(rate) = org.max_send_rate {
                self.within_rate(&org, rate).await?;
            }
            return Ok(Admission { held: None });
        };
        let now = self.app.now_ms();
        let count = self
            .app
            .inner
            .quotas
            .counts
            .get_with(org.id.clone(), Default::default);
        let mut counted = count.counted.lock().await;
        if counted
            .at_ms
            .is_none_or(|at| now - at >= RECOUNT_AFTER_MS || now < at)
        {
            let stored = self
                .app
                .inner
                .store
                .count_recipients_since(&org.id, now - DAY_MS)
                .await?;
            *counted = Counted {
                sent: stored + count.in_flight.load(Ordering::Relaxed),
                at_ms: Some(now),
            };
        }
        if counted.sent + n > limit {
            return Err(self.over_day(&org, limit, counted.sent, now).await?);
        }
        if let Some(rate) = org.max_send_rate {
            self.within_rate(&org, rate).await?;
        }
        counted.sent += n;
        count.in_flight.fetch_add(n, Ordering::Relaxed);
        drop(counted);
        Ok(Admission {
            held: Some((count, n)),
        })
    }

    /// The refusal beyond the 24-hour quota: try again when the oldest
    /// message leaves the window (a day when there is none, as for a quota of 0).
    async fn over_day(
        &self,
        org: &OrgRow,
        limit: i64,
        sent: i64,
        now: i64,
    ) -> Result<ServiceError, ServiceError> {
        let oldest = self
            .app
            .inner
            .store
            .oldest_message_since(&org.id, now - DAY_MS)
            .await?;
        // Whole seconds, rounded up: Retry-After has no fractions.
        let wait_ms = oldest.map_or(DAY_MS, |at| at + DAY_MS + 1 - now).max(1_000) as u64;
        let what = if org.sandbox && org.max_24h_send.is_none_or(|q| q >= SANDBOX_24H) {
            format!(
                "{} is in the sandbox, which sends to at most {limit} recipients in 24 hours",
                org.name
            )
        } else {
            format!(
                "{} may send to {limit} recipients in 24 hours and has sent to {sent}",
                org.name
            )
        };
        Ok(ServiceError::QuotaExceeded {
            retry_after: Duration::from_secs(wait_ms.div_ceil(1_000)),
            what,
            daily: true,
        })
    }

    /// Takes a token from the organization's bucket of `rate` a second. This
    /// node's bucket in memory refuses first (at no cost: a client looping
    /// on refusals never reaches the database); on PostgreSQL the bucket
    /// that decides is then the database's, one for every node, so the rate
    /// holds across the cluster.
    async fn within_rate(&self, org: &OrgRow, rate: f64) -> Result<(), ServiceError> {
        let now = self.app.now_ms();
        let refused = |retry_after| ServiceError::QuotaExceeded {
            retry_after,
            what: format!("{} may send {rate} messages a second", org.name),
            daily: false,
        };
        let local = {
            let bucket = self.app.inner.quotas.buckets.get_with(org.id.clone(), || {
                Arc::new(Mutex::new(TokenBucket::new(rate, now)))
            });
            let mut bucket = bucket.lock().expect("bucket");
            if bucket.rate() != rate {
                *bucket = TokenBucket::new(rate, now);
            }
            bucket.take(now)
        };
        local.map_err(refused)?;
        let store = &self.app.inner.store;
        if store.backend() == absender_store::Backend::Sqlite {
            return Ok(());
        }
        let burst = TokenBucket::new(rate, now).burst();
        let Some((tokens, at)) = store.take_send_token(&org.id, rate, burst, now).await? else {
            return Ok(());
        };
        let wait = TokenBucket::holding(rate, tokens, at).take(now).err();
        Err(refused(wait.unwrap_or(Duration::from_millis(1))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_events_are_limited_per_organization() {
        let quotas = Quotas::default();
        let allowed = (0..50)
            .filter(|_| quotas.reject_event_allowed("org_a", 1_000))
            .count();
        assert_eq!(allowed, 10, "a burst of ten");
        assert!(
            quotas.reject_event_allowed("org_b", 1_000),
            "another organization's own"
        );
        assert!(!quotas.reject_event_allowed("org_a", 1_050));
        assert!(
            quotas.reject_event_allowed("org_a", 1_100),
            "one more each 100 ms"
        );
    }
}
