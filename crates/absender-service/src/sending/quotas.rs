//! What an organization may send now, as SES guards an account: nothing
//! while its sending is paused; in the sandbox only to its own verified
//! addresses and 200 messages a day; and never beyond the operator's quotas
//! (`max_send_rate` messages a second, a token bucket; `max_24h_send`
//! messages in any 24 hours). Every interface (API, SMTP, SES) asks here
//! before it accepts a message. The state is read at most a second old, so
//! a pause holds on every node within a second.

use super::Sending;
use crate::ServiceError;
use absender_core::EmailAddress;
use absender_core::rate_limit::TokenBucket;
use absender_core::sender::covering;
use absender_store::OrgRow;
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
    counts: moka::sync::Cache<String, Arc<Mutex<DayCount>>>,
}

fn per_org<T: Send + Sync + 'static>() -> moka::sync::Cache<String, Arc<Mutex<T>>> {
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
        }
    }
}

/// Messages of the last 24 hours as counted at `at_ms`, plus those admitted since.
#[derive(Debug, Clone, Copy)]
struct DayCount {
    sent: i64,
    /// When it was counted in the store; never yet: `None`.
    at_ms: Option<i64>,
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

    /// Refuses `recipient` if the organization is in the sandbox and it is
    /// not one of the organization's verified addresses (or at one of its
    /// verified domains).
    pub(crate) async fn sandbox_allows(
        &self,
        org_id: &str,
        recipient: &EmailAddress,
    ) -> Result<(), ServiceError> {
        let org = self.current_org(org_id).await?;
        if !org.sandbox {
            return Ok(());
        }
        let rows = self.app.inner.store.list_identities(org_id).await?;
        let loaded = rows
            .into_iter()
            .map(crate::identity::requests::load)
            .collect::<Result<Vec<_>, _>>()?;
        let identities: Vec<_> = loaded.iter().map(|i| i.sender_identity()).collect();
        if covering(&identities, recipient, None).is_some() {
            return Ok(());
        }
        Err(ServiceError::Denied {
            code: "sandbox_recipient",
            message: format!(
                "{} is in the sandbox: it may send only to its own verified addresses, and <{recipient}> is not one; the operator grants production access",
                org.name
            ),
        })
    }

    /// Before a message of the organization to `recipients` is accepted:
    /// not paused, sandbox recipients, the 24-hour quota, then the send
    /// rate, whose token it takes; the message counts from now.
    pub(crate) async fn admit(
        &self,
        org_id: &str,
        recipients: &[EmailAddress],
    ) -> Result<(), ServiceError> {
        let org = self.current_org(org_id).await?;
        refuse_paused(&org)?;
        for recipient in recipients {
            self.sandbox_allows(org_id, recipient).await?;
        }
        let limit = day_limit(&org);
        let count = match limit {
            Some(limit) => Some(self.within_day(&org, limit).await?),
            None => None,
        };
        if let Some(rate) = org.max_send_rate {
            self.within_rate(&org, rate)?;
        }
        if let Some(count) = count {
            count.lock().expect("day count").sent += 1;
        }
        Ok(())
    }

    /// The organization's count of the last 24 hours, if below `limit`.
    async fn within_day(
        &self,
        org: &OrgRow,
        limit: i64,
    ) -> Result<Arc<Mutex<DayCount>>, ServiceError> {
        let now = self.app.now_ms();
        let counts = &self.app.inner.quotas.counts;
        let count = counts.get_with(org.id.clone(), || {
            Arc::new(Mutex::new(DayCount {
                sent: 0,
                at_ms: None,
            }))
        });
        let stale = {
            let c = count.lock().expect("day count");
            c.at_ms
                .is_none_or(|at| now - at >= RECOUNT_AFTER_MS || now < at)
        };
        if stale {
            let store = &self.app.inner.store;
            let sent = store.count_messages_since(&org.id, now - DAY_MS).await?;
            *count.lock().expect("day count") = DayCount {
                sent,
                at_ms: Some(now),
            };
        }
        let sent = count.lock().expect("day count").sent;
        if sent < limit {
            return Ok(count);
        }
        // The window frees up when its oldest message leaves it.
        let oldest = self
            .app
            .inner
            .store
            .oldest_message_since(&org.id, now - DAY_MS)
            .await?
            .unwrap_or(now);
        // Whole seconds, rounded up: Retry-After has no fractions.
        let wait_ms = (oldest + DAY_MS + 1 - now).max(1_000) as u64;
        let retry_after = Duration::from_secs(wait_ms.div_ceil(1_000));
        let what = if org.sandbox && org.max_24h_send.is_none_or(|q| q >= SANDBOX_24H) {
            format!(
                "{} is in the sandbox, which sends at most {limit} messages in 24 hours",
                org.name
            )
        } else {
            format!(
                "{} may send {limit} messages in 24 hours and has sent {sent}",
                org.name
            )
        };
        Err(ServiceError::QuotaExceeded {
            retry_after,
            what,
            daily: true,
        })
    }

    /// Takes a token from the organization's bucket of `rate` a second.
    fn within_rate(&self, org: &OrgRow, rate: f64) -> Result<(), ServiceError> {
        let now = self.app.now_ms();
        let bucket = self.app.inner.quotas.buckets.get_with(org.id.clone(), || {
            Arc::new(Mutex::new(TokenBucket::new(rate, now)))
        });
        let mut bucket = bucket.lock().expect("bucket");
        if bucket.rate() != rate {
            *bucket = TokenBucket::new(rate, now);
        }
        bucket
            .take(now)
            .map_err(|retry_after| ServiceError::QuotaExceeded {
                retry_after,
                what: format!("{} may send {rate} messages a second", org.name),
                daily: false,
            })
    }
}
