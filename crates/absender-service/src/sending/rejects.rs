//! `Reject` events: absender refused a message an organization submitted
//! (by API, SES or SMTP) for its own rules — the sender rule, a suppressed
//! recipient, the sandbox, a pause, a malformed or oversized message — so a
//! platform sees refusals its clients may have swallowed. A quota refusal
//! (try again later) or a failure of absender itself makes none, and an
//! organization makes at most 10 a second (beyond, they are counted only).

use super::Sending;
use crate::ServiceError;
use crate::secrets::new_id;
use absender_core::events::{Mail, reject_event};
use absender_store::NewWebhookEvent;

/// The code and words of a refusal that makes a `Reject` event.
fn refusal(error: &ServiceError) -> Option<(&str, String)> {
    match error {
        ServiceError::Refused { code, message }
        | ServiceError::Denied { code, message }
        | ServiceError::BadRequest { code, message } => Some((code, message.clone())),
        ServiceError::InvalidAddress { .. } => Some(("invalid_address", error.to_string())),
        ServiceError::UpgradeRequired { .. } => Some(("upgrade_required", error.to_string())),
        ServiceError::TooLarge(message) => Some(("too_large", message.clone())),
        _ => None,
    }
}

impl Sending<'_> {
    /// Writes a `Reject` event for `error`, if it is a refusal and a
    /// destination wants it; a failure to write is logged, not the caller's.
    pub(crate) async fn rejected(
        &self,
        org_id: &str,
        source: &str,
        recipients: &str,
        category: &str,
        error: &ServiceError,
    ) {
        let Some((code, reason)) = refusal(error) else {
            return;
        };
        if !self
            .app
            .inner
            .quotas
            .reject_event_allowed(org_id, self.app.now_ms())
        {
            self.app.inner.metrics.refused("reject_event_limited");
            return;
        }
        let store = &self.app.inner.store;
        match store.any_webhook_wants(org_id, "Reject").await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for Reject destinations");
                return;
            }
        }
        // What the client sent, bounded: a refusal is no way to store much.
        let source = absender_core::outside::clean(source);
        let recipients = absender_core::outside::clean(recipients);
        let now = self.app.now_ms();
        // The refused message was never stored: the event's id names it.
        let id = new_id("rej");
        let mail = Mail {
            org_id,
            message_id: &id,
            source: &source,
            destination: &recipients,
            category,
            sent_at_ms: now,
        };
        let event = NewWebhookEvent {
            id: id.clone(),
            org_id: Some(org_id.to_string()),
            event_type: "Reject".into(),
            body: reject_event(&mail, code, &absender_core::outside::clean(&reason)),
            created_at: now,
        };
        if let Err(e) = store.insert_webhook_event(&event).await {
            tracing::warn!(error = %e, "could not write a Reject event");
        }
    }
}
