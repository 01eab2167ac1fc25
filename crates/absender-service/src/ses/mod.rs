//! The SES v2 API's operations over absender's own identities, keys and
//! queue, in SES's shapes (botocore's `sesv2` model). Callers are
//! organizations that signed with an access key (`access::sigv4`).

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

impl Ses<'_> {
    /// `GetAccount`: no quota and no sandbox (until quotas exist), and what
    /// the organization sent in the last 24 hours.
    pub async fn get_account(&self, caller: &Caller) -> Result<Account, ServiceError> {
        let org = caller.org()?;
        let since = self.app.now_ms() - 24 * 60 * 60 * 1000;
        let sent = self
            .app
            .inner
            .store
            .count_messages_since(&org.id, since)
            .await?;
        Ok(Account {
            dedicated_ip_auto_warmup_enabled: false,
            enforcement_status: "HEALTHY",
            production_access_enabled: true,
            send_quota: SendQuota {
                max_24_hour_send: -1.0,
                max_send_rate: -1.0,
                sent_last_24_hours: sent as f64,
            },
            sending_enabled: true,
        })
    }
}
