//! The SES v2 API's operations over absender's own identities, keys and
//! queue, in SES's shapes (botocore's `sesv2` model). Callers are
//! organizations that signed with an access key (`access::sigv4`).

pub mod identities;
pub mod sending;
pub mod suppressions;
pub mod templates;

use crate::{App, Caller, ServiceError};
use serde::Serialize;

/// The SES v2 operations.
#[derive(Clone, Copy)]
pub struct Ses<'a> {
    pub(crate) app: &'a App,
}

/// `GetAccount`'s answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub dedicated_ip_auto_warmup_enabled: bool,
    pub enforcement_status: &'static str,
    pub production_access_enabled: bool,
    pub send_quota: SendQuota,
    pub sending_enabled: bool,
}

/// SES's quota; -1 for no limit, as SES writes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendQuota {
    pub max_24_hour_send: f64,
    pub max_send_rate: f64,
    pub sent_last_24_hours: f64,
}

/// `ListEmailIdentities`' answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPage {
    pub email_identities: Vec<IdentityInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One identity in a listing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityInfo {
    pub identity_type: &'static str,
    pub identity_name: String,
    pub sending_enabled: bool,
    pub verification_status: absender_core::Status,
}

/// SES's timestamps in JSON bodies: epoch seconds.
pub(crate) fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// SES's largest page.
const MAX_PAGE_SIZE: usize = 1000;

impl Ses<'_> {
    /// `ListEmailIdentities`: the organization's identities by id, a page
    /// at a time (`next_token` is the last id of the page before).
    pub async fn list_email_identities(
        &self,
        caller: &Caller,
        page_size: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<IdentityPage, ServiceError> {
        let size = page_size.unwrap_or(MAX_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(ServiceError::BadRequest {
                code: "invalid_page_size",
                message: format!("PageSize must be 1 to {MAX_PAGE_SIZE}"),
            });
        }
        // The rows alone: a listing needs no check results or findings.
        let org = caller.org()?;
        let mut rows = self.app.inner.store.list_identities(&org.id).await?;
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        let after: Vec<_> = rows
            .into_iter()
            .filter(|r| next_token.is_none_or(|token| r.id.as_str() > token))
            .collect();
        let next_token = (after.len() > size).then(|| after[size - 1].id.clone());
        let email_identities = after
            .into_iter()
            .take(size)
            .map(|row| {
                let identity = crate::identity::requests::load(row)?;
                Ok(IdentityInfo {
                    identity_type: identities::identity_type(identity.name.kind()),
                    verification_status: identity.parts.overall(),
                    identity_name: identity.row.address,
                    sending_enabled: true,
                })
            })
            .collect::<Result<_, ServiceError>>()?;
        Ok(IdentityPage {
            email_identities,
            next_token,
        })
    }

    /// `GetAccount`: the organization's quotas (-1: no limit, as SES writes
    /// it), sandbox, pause, and what it sent in the last 24 hours.
    pub async fn get_account(&self, caller: &Caller) -> Result<Account, ServiceError> {
        let org = self.app.sending().current_org(&caller.org()?.id).await?;
        let since = self.app.now_ms() - 24 * 60 * 60 * 1000;
        let sent = self
            .app
            .inner
            .store
            .count_recipients_since(&org.id, since)
            .await?;
        let quota = crate::sending::quotas::day_limit(&org);
        Ok(Account {
            dedicated_ip_auto_warmup_enabled: false,
            enforcement_status: crate::sending::reputation::enforcement(
                &org,
                &self.app.inner.settings.reputation,
            )
            .0
            .as_str(),
            production_access_enabled: !org.sandbox,
            send_quota: SendQuota {
                max_24_hour_send: quota.map_or(-1.0, |q| q as f64),
                max_send_rate: org.max_send_rate.unwrap_or(-1.0),
                sent_last_24_hours: sent as f64,
            },
            sending_enabled: org.sending_enabled,
        })
    }
}
