//! The platform's own DKIM key: it signs mail from the default senders. The
//! operator publishes it like a customer would (a CNAME into the DKIM zone).

use super::Zones;
use crate::api::{DnsRecord, DnsRecords};
use crate::identity::keys;
use crate::{Caller, ServiceError};
use absender_core::Status;
use absender_core::records::spf_policy;

/// A key ready to sign: (domain, selector, PKCS#8 DER).
pub(crate) struct SigningKey {
    pub domain: String,
    pub selector: String,
    pub pkcs8_der: Vec<u8>,
}

impl Zones<'_> {
    /// Makes sure the platform domain has a DKIM key (generated on first start).
    pub async fn ensure_platform_key(&self) -> Result<(), ServiceError> {
        let domain = self.app.inner.settings.platform.domain.clone();
        if !self
            .app
            .inner
            .store
            .platform_keys(&domain)
            .await?
            .is_empty()
        {
            return Ok(());
        }
        let app = self.app.clone();
        let now = self.app.now_ms();
        let key = tokio::task::spawn_blocking(move || {
            keys::generate_platform(&app.inner.master_key, &domain, now)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("key generation failed: {e}")))?;
        // Nodes starting at once: one key is kept, the others dropped.
        if self.app.inner.store.insert_first_platform_key(&key).await? {
            tracing::info!(selector = %key.selector, domain = %key.domain, "platform DKIM key generated");
        }
        Ok(())
    }

    /// The newest platform key, unsealed, to sign with.
    pub(crate) async fn platform_signing_key(&self) -> Result<Option<SigningKey>, ServiceError> {
        let domain = &self.app.inner.settings.platform.domain;
        let Some(key) = self
            .app
            .inner
            .store
            .platform_keys(domain)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let pkcs8_der = self
            .app
            .inner
            .master_key
            .open(&key.selector, &key.private_key_enc)
            .map_err(|e| ServiceError::Internal(format!("platform key {}: {e}", key.selector)))?;
        Ok(Some(SigningKey {
            domain: key.domain,
            selector: key.selector,
            pkcs8_der,
        }))
    }

    /// What the operator publishes at the platform domain: a CNAME per platform
    /// key into the DKIM zone, and the SPF policy (operator only).
    pub async fn platform_dns_records(&self, caller: &Caller) -> Result<DnsRecords, ServiceError> {
        caller.require_operator()?;
        let platform = &self.app.inner.settings.platform;
        let dns = &self.app.inner.platform_dns;
        let mut records: Vec<DnsRecord> = self
            .app
            .inner
            .store
            .platform_keys(&platform.domain)
            .await?
            .into_iter()
            .map(|k| DnsRecord {
                name: format!("{}._domainkey.{}", k.selector, platform.domain),
                record_type: "CNAME".into(),
                value: format!("{}.{}", k.selector, dns.dkim_zone),
                purpose: "platform_dkim".into(),
                status: Status::NotStarted,
            })
            .collect();
        records.push(DnsRecord {
            name: platform.domain.clone(),
            record_type: "TXT".into(),
            value: spf_policy(dns),
            purpose: "platform_spf".into(),
            status: Status::NotStarted,
        });
        Ok(DnsRecords { records })
    }
}
