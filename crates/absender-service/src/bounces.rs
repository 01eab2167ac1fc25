//! Asynchronous bounces: a delivery status notification (RFC 3464) that
//! arrives at the return path `bounces+<message id>@…` (by SMTP, or posted by
//! the operator's MTA) marks the failed deliveries bounced, and a hard bounce
//! suppresses the address for the organization.

use crate::{App, Caller, ServiceError};
use absender_core::delivery::is_hard_bounce;
use absender_mail::dsn;
use absender_store::DeliveryUpdate;
use serde::{Deserialize, Serialize};

/// What a report changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsnOutcome {
    pub message_id: String,
    /// Recipients now bounced.
    pub bounced: Vec<String>,
    /// Of those, the ones suppressed (hard bounces).
    pub suppressed: Vec<String>,
}

/// The message id in a return path `bounces+<id>@…`.
pub fn message_id_in_return_path(address: &str) -> Option<&str> {
    let local = address.trim_matches(['<', '>']).rsplit_once('@')?.0;
    local
        .strip_prefix("bounces+")
        .filter(|id| id.starts_with("msg_"))
}

impl App {
    /// The operator (or absender's own SMTP listener) hands in a report.
    pub async fn receive_dsn_as(
        &self,
        caller: &Caller,
        return_path: Option<&str>,
        raw: &[u8],
    ) -> Result<DsnOutcome, ServiceError> {
        caller.require_operator()?;
        self.receive_dsn(return_path, raw).await
    }

    /// Applies a report received at `return_path` (if known).
    pub async fn receive_dsn(
        &self,
        return_path: Option<&str>,
        raw: &[u8],
    ) -> Result<DsnOutcome, ServiceError> {
        let report = dsn::parse(raw).ok_or_else(|| ServiceError::Refused {
            code: "not_a_dsn",
            message: "this is not a delivery status notification (no message/delivery-status part)"
                .into(),
        })?;
        let from_path = return_path.and_then(message_id_in_return_path);
        let from_headers = report
            .original_message_id
            .as_deref()
            .and_then(|m| m.split_once('@'))
            .map(|(local, _)| local)
            .filter(|id| id.starts_with("msg_"));
        let id = from_path
            .or(from_headers)
            .ok_or(ServiceError::NotFound("message named by the report"))?;
        let message = self
            .inner
            .store
            .message_unscoped(id)
            .await?
            .ok_or(ServiceError::NotFound("message named by the report"))?;
        let deliveries = self.inner.store.deliveries(&message.id).await?;
        let mut updates = Vec::new();
        for r in report
            .recipients
            .iter()
            .filter(|r| r.action == "failed" && r.status.starts_with('5'))
        {
            let Some(d) = deliveries
                .iter()
                .find(|d| d.recipient.eq_ignore_ascii_case(&r.recipient))
            else {
                continue;
            };
            let reply = format!(
                "DSN {}: {}",
                r.status,
                r.diagnostic.as_deref().unwrap_or("no diagnostic")
            );
            let hard = is_hard_bounce(550, &format!("{} {reply}", r.status));
            updates.push(DeliveryUpdate {
                message_id: d.message_id.clone(),
                recipient: d.recipient.clone(),
                org_id: d.org_id.clone(),
                status: "bounced".into(),
                attempts: d.attempts,
                next_attempt_at: self.now_ms(),
                last_reply: Some(reply),
                suppress: hard.then(|| "hard_bounce".to_string()),
            });
        }
        self.inner
            .store
            .finish_deliveries(&updates, self.now_ms())
            .await?;
        for _ in &updates {
            self.inner.metrics.attempt("bounced_async");
        }
        tracing::info!(message_id = %message.id, bounced = updates.len(), "bounce report applied");
        Ok(DsnOutcome {
            message_id: message.id,
            suppressed: updates
                .iter()
                .filter(|u| u.suppress.is_some())
                .map(|u| u.recipient.clone())
                .collect(),
            bounced: updates.into_iter().map(|u| u.recipient).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_path_names_the_message() {
        assert_eq!(
            message_id_in_return_path("<bounces+msg_abc123@bounce.acme.test>"),
            Some("msg_abc123")
        );
        assert_eq!(message_id_in_return_path("bounces+other@x.test"), None);
        assert_eq!(message_id_in_return_path("events@acme.test"), None);
    }
}
