//! Asynchronous bounces: a delivery status notification (RFC 3464) that
//! arrives at a delivery's return path `bounces+<message id>.<index>.<mac>@…`
//! (by SMTP, or posted by the operator's MTA) bounces that one delivery, and
//! a hard bounce suppresses its address for the organization. Anyone can
//! send mail to a return path, so a report counts only when the MAC is
//! absender's, it names the delivery's own recipient, and that delivery has
//! not bounced yet; anything else is ignored, logged and counted.

use super::Suppressions;
use crate::{Caller, ServiceError};
use absender_core::delivery::is_hard_bounce;
use absender_core::return_path::{self, MAC_LEN, ReturnPath};
use absender_mail::dsn;
use absender_store::DeliveryUpdate;
use serde::{Deserialize, Serialize};

const PURPOSE: &str = "absender return path v1";

/// What a report changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsnOutcome {
    /// The message the return path names, when it is authentic.
    pub message_id: Option<String>,
    /// Recipients now bounced (at most the one the return path names).
    pub bounced: Vec<String>,
    /// Of those, the ones suppressed (hard bounces).
    pub suppressed: Vec<String>,
    /// Why nothing was applied, for a report that was ignored.
    pub ignored: Option<String>,
}

impl DsnOutcome {
    fn ignored(message_id: Option<&str>, reason: &str) -> Self {
        Self {
            message_id: message_id.map(str::to_string),
            bounced: Vec::new(),
            suppressed: Vec::new(),
            ignored: Some(reason.to_string()),
        }
    }
}

/// Whether `address` has the form of a return path (its MAC is checked later).
pub fn is_return_path(address: &str) -> bool {
    return_path::parse(address).is_some()
}

impl Suppressions<'_> {
    /// The MAC that binds a return path to recipient `index` of `message_id`.
    fn return_path_mac(&self, message_id: &str, index: u32) -> String {
        let mac = self
            .app
            .inner
            .master_key
            .mac(PURPOSE, format!("{message_id}\n{index}").as_bytes());
        // 10 bytes are exactly 16 base32 characters.
        let mac = data_encoding::BASE32_NOPAD.encode(&mac[..10]);
        debug_assert_eq!(mac.len(), MAC_LEN);
        mac.to_ascii_lowercase()
    }

    /// The envelope sender for recipient `index` of `message_id`, at the
    /// host of the message's envelope domain (`bounces+<id>@<host>`).
    pub(crate) fn return_path(&self, message_id: &str, index: u32, envelope_from: &str) -> String {
        let host = envelope_from.rsplit_once('@').map_or("", |(_, h)| h);
        let mac = self.return_path_mac(message_id, index);
        ReturnPath {
            message_id,
            index,
            mac: &mac,
        }
        .at(host)
    }

    /// Whether absender made `path` (its MAC is absender's).
    pub(crate) fn return_path_is_authentic(&self, path: &ReturnPath<'_>) -> bool {
        let expected = self.return_path_mac(path.message_id, path.index);
        crate::app::constant_time_eq(expected.as_bytes(), path.mac.as_bytes())
    }

    /// The operator's MTA hands in a report that arrived at `return_path`
    /// (when not given, the report's To). The same rules as by SMTP apply.
    pub async fn receive_dsn_as(
        &self,
        caller: &Caller,
        return_path: Option<&str>,
        raw: &[u8],
    ) -> Result<DsnOutcome, ServiceError> {
        caller.require_operator()?;
        // The operator's tooling is told plainly when it posts something else.
        if dsn::parse(raw).is_none() {
            return Err(ServiceError::Refused {
                code: "not_a_dsn",
                message:
                    "this is not a delivery status notification (no message/delivery-status part)"
                        .into(),
            });
        }
        let to = absender_mail::inspect::first_to(raw);
        self.receive_dsn(return_path.or(to.as_deref()), raw).await
    }

    /// Applies a report received at `return_path`, if it is authentic.
    pub async fn receive_dsn(
        &self,
        return_path: Option<&str>,
        raw: &[u8],
    ) -> Result<DsnOutcome, ServiceError> {
        let ignore = |message_id: Option<&str>, reason: &'static str| {
            self.app.inner.metrics.report_ignored(reason);
            tracing::warn!(
                return_path = return_path.unwrap_or_default(),
                message_id = message_id.unwrap_or_default(),
                reason,
                "bounce report ignored"
            );
            Ok(DsnOutcome::ignored(message_id, reason))
        };
        let Some(path) = return_path.and_then(return_path::parse) else {
            return ignore(None, "no_return_path");
        };
        if !self.return_path_is_authentic(&path) {
            return ignore(None, "bad_mac");
        }
        let id = Some(path.message_id);
        let Some(report) = dsn::parse(raw) else {
            return ignore(id, "not_a_report");
        };
        let deliveries = self.app.inner.store.deliveries(path.message_id).await?;
        let Some(d) = deliveries
            .iter()
            .find(|d| d.rcpt_index == i64::from(path.index))
        else {
            return ignore(id, "unknown_delivery");
        };
        let Some(r) = report
            .recipients
            .iter()
            .find(|r| r.recipient.eq_ignore_ascii_case(&d.recipient))
        else {
            return ignore(id, "other_recipient");
        };
        if r.action != "failed" || !r.status.starts_with('5') {
            return ignore(id, "not_a_failure");
        }
        if d.status == "bounced" {
            return ignore(id, "already_bounced");
        }
        let reply = format!(
            "DSN {}: {}",
            r.status,
            r.diagnostic.as_deref().unwrap_or("no diagnostic")
        );
        let hard = is_hard_bounce(550, &format!("{} {reply}", r.status));
        let update = DeliveryUpdate {
            message_id: d.message_id.clone(),
            recipient: d.recipient.clone(),
            org_id: d.org_id.clone(),
            status: "bounced".into(),
            attempts: d.attempts,
            next_attempt_at: self.app.now_ms(),
            last_reply: Some(absender_core::outside::clean(&reply)),
            suppress: hard.then(|| "hard_bounce".to_string()),
            delayed: false,
        };
        self.app
            .inner
            .store
            .finish_deliveries(std::slice::from_ref(&update), self.app.now_ms(), None)
            .await?;
        self.app.inner.metrics.attempt("bounced_async");
        if update.suppress.is_some() {
            self.app
                .sending()
                .judge_reputation(std::slice::from_ref(&update.org_id))
                .await;
        }
        tracing::info!(message_id = %d.message_id, "bounce report applied");
        Ok(DsnOutcome {
            message_id: Some(d.message_id.clone()),
            suppressed: update
                .suppress
                .iter()
                .map(|_| d.recipient.clone())
                .collect(),
            bounced: vec![d.recipient.clone()],
            ignored: None,
        })
    }
}
