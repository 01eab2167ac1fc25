//! The abuse limits of `[limits]`: how many identities an organization
//! requests and holds, how many verification mails reach one address. They
//! are counted in the store, so every node counts the same, and deleting an
//! identity gives nothing back.

use super::Identities;
use crate::ServiceError;
use absender_core::EmailAddress;
use absender_core::rate_limit::WindowLimit;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
const IDENTITY_REQUEST: &str = "identity_request";
const VERIFICATION_MAIL: &str = "verification_mail";

/// At most this many DKIM key generations (RSA-2048, CPU-bound) at once, so
/// that a flood of new domains leaves the other requests their workers.
pub(crate) const KEY_GENERATIONS_AT_ONCE: usize = 2;

impl Identities<'_> {
    /// Refuses (429) when `window` already holds `max` events of `kind` for `subject`.
    async fn within(
        &self,
        kind: &str,
        subject: &str,
        limit: WindowLimit,
        what: String,
    ) -> Result<(), ServiceError> {
        let now = self.app.now_ms();
        let since = now - limit.window.as_millis() as i64;
        let times = self
            .app
            .inner
            .store
            .limit_events_since(kind, subject, since)
            .await?;
        limit
            .check(&times, now)
            .map_err(|retry_after| ServiceError::RateLimited { retry_after, what })
    }

    /// Before an identity is requested: the organization's limits and the
    /// target address's, if it has one.
    pub(crate) async fn check_identity_request(
        &self,
        org_id: &str,
        address: Option<&EmailAddress>,
    ) -> Result<(), ServiceError> {
        let limits = &self.app.inner.settings.limits;
        let held = self.app.inner.store.count_identities(org_id).await?;
        if held >= i64::from(limits.identities_per_org) {
            return Err(ServiceError::RateLimited {
                retry_after: HOUR,
                what: format!(
                    "this organization has {held} sender identities, the most it may have; remove one first"
                ),
            });
        }
        let hourly = WindowLimit {
            window: HOUR,
            max: limits.identity_requests_per_hour,
        };
        let what = format!(
            "at most {} identity requests an hour",
            limits.identity_requests_per_hour
        );
        self.within(IDENTITY_REQUEST, org_id, hourly, what).await?;
        match address {
            Some(address) => self.check_verification_mail(address).await,
            None => Ok(()),
        }
    }

    /// Notes a request that was taken.
    pub(crate) async fn count_identity_request(&self, org_id: &str) -> Result<(), ServiceError> {
        // Older events are forgotten by the retention sweep.
        self.app
            .inner
            .store
            .record_limit_event(IDENTITY_REQUEST, org_id, self.app.now_ms())
            .await?;
        Ok(())
    }

    /// Before a verification mail: the limit per target address, across
    /// every organization.
    pub(crate) async fn check_verification_mail(
        &self,
        address: &EmailAddress,
    ) -> Result<(), ServiceError> {
        let max = self
            .app
            .inner
            .settings
            .limits
            .verification_mails_per_address;
        let limit = WindowLimit { window: DAY, max };
        let what = format!("at most {max} verification mails a day to {address}");
        self.within(VERIFICATION_MAIL, &address_key(address), limit, what)
            .await
    }

    /// Notes a verification mail sent to `address`.
    pub(crate) async fn count_verification_mail(&self, address: &str) -> Result<(), ServiceError> {
        let key = EmailAddress::parse(address)
            .map(|a| address_key(&a))
            .unwrap_or_else(|_| address.to_ascii_lowercase());
        self.app
            .inner
            .store
            .record_limit_event(VERIFICATION_MAIL, &key, self.app.now_ms())
            .await?;
        Ok(())
    }
}

/// One mailbox, however its local part is cased.
fn address_key(address: &EmailAddress) -> String {
    address.to_string().to_lowercase()
}
