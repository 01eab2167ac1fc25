//! One-click unsubscribe (RFC 8058) for invitation mails. The link carries
//! the organization, the recipient and the message under a MAC of the master
//! key, so nothing is stored per mail and no one can forge a link for another
//! address. An unsubscribe makes a `Subscription` event about that message.

use super::Suppressions;
use crate::ServiceError;
use absender_core::EmailAddress;
use absender_mail::compose::Unsubscribe;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const PURPOSE: &str = "absender unsubscribe v1";

/// Who a valid unsubscribe link is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeTarget {
    pub org_id: String,
    pub org_name: String,
    pub address: String,
    /// The message the link came in (links made before it was carried have none).
    pub message_id: Option<String>,
}

/// The local part of the mailto unsubscribe address at the bounce host.
const UNSUBSCRIBE_LOCAL: &str = "unsubscribe";
impl Suppressions<'_> {
    /// `data` is `org\nrecipient\nmessage` (or, in older links, `org\nrecipient`).
    fn unsubscribe_token(&self, data: &str) -> String {
        let mac = self.app.inner.master_key.mac(PURPOSE, data.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(data),
            URL_SAFE_NO_PAD.encode(&mac[..16])
        )
    }

    /// The https and mailto targets for `recipient` of the organization's
    /// message `message_id`.
    pub(crate) fn unsubscribe_for(
        &self,
        org_id: &str,
        recipient: &EmailAddress,
        message_id: &str,
    ) -> Unsubscribe {
        let token = self.unsubscribe_token(&format!("{org_id}\n{recipient}\n{message_id}"));
        Unsubscribe {
            https: format!("{}/unsubscribe/{token}", self.app.inner.public_url),
            mailto: format!(
                "{UNSUBSCRIBE_LOCAL}@{}?subject=unsubscribe%20{token}",
                self.app.inner.settings.platform.bounce_host
            ),
        }
    }

    /// Who the link is for, if absender made it.
    pub async fn unsubscribe_target(&self, token: &str) -> Result<UnsubscribeTarget, ServiceError> {
        let invalid = || ServiceError::NotFound("unsubscribe link");
        let (data, _) = token.split_once('.').ok_or_else(invalid)?;
        let text = URL_SAFE_NO_PAD.decode(data).map_err(|_| invalid())?;
        let text = String::from_utf8(text).map_err(|_| invalid())?;
        let expected = self.unsubscribe_token(&text);
        let mut fields = text.splitn(3, '\n');
        let (Some(org_id), Some(address)) = (fields.next(), fields.next()) else {
            return Err(invalid());
        };
        let message_id = fields.next().map(str::to_string);
        if !crate::app::constant_time_eq(expected.as_bytes(), token.as_bytes()) {
            return Err(invalid());
        }
        let org = self
            .app
            .inner
            .store
            .org(org_id)
            .await?
            .ok_or_else(invalid)?;
        Ok(UnsubscribeTarget {
            org_id: org.id,
            org_name: org.name,
            address: address.to_string(),
            message_id,
        })
    }

    /// Whether `address` is the mailto unsubscribe address of the
    /// List-Unsubscribe header (`unsubscribe@<bounce host>`).
    pub fn is_unsubscribe_address(&self, address: &str) -> bool {
        address.rsplit_once('@').is_some_and(|(local, host)| {
            local.eq_ignore_ascii_case(UNSUBSCRIBE_LOCAL)
                && host.eq_ignore_ascii_case(&self.app.inner.settings.platform.bounce_host)
        })
    }

    /// The mailto way of List-Unsubscribe: a mail to the unsubscribe address
    /// whose subject is `unsubscribe <token>` (as the link prefills it).
    pub async fn unsubscribe_by_mail(&self, raw: &[u8]) -> Result<UnsubscribeTarget, ServiceError> {
        let subject = absender_mail::inspect::subject(raw).unwrap_or_default();
        let token = subject
            .split_whitespace()
            .skip_while(|w| !w.eq_ignore_ascii_case("unsubscribe"))
            .nth(1)
            .ok_or(ServiceError::NotFound("unsubscribe link"))?;
        self.unsubscribe_as(token, "mailto unsubscribe", "UnsubscribeHeader")
            .await
    }

    /// The `Subscription` event of `target`'s unsubscribe, about the message
    /// the link came in when it is still known.
    async fn subscription_event(
        &self,
        target: &UnsubscribeTarget,
        source: &str,
        now: i64,
    ) -> Result<absender_store::NewWebhookEvent, ServiceError> {
        let message = match &target.message_id {
            Some(id) => self.app.inner.store.message(&target.org_id, id).await?,
            None => None,
        };
        let mail = match &message {
            Some(m) => absender_core::events::Mail {
                org_id: &m.org_id,
                message_id: &m.id,
                source: &m.from_address,
                destination: &m.recipients,
                category: &m.category,
                sent_at_ms: m.created_at,
            },
            None => absender_core::events::Mail {
                org_id: &target.org_id,
                message_id: "",
                source: "",
                destination: &target.address,
                category: "invitation",
                sent_at_ms: now,
            },
        };
        Ok(absender_store::NewWebhookEvent {
            id: crate::secrets::new_id("evt"),
            org_id: Some(target.org_id.clone()),
            event_type: "Subscription".into(),
            body: absender_core::events::subscription_event(&mail, &target.address, source, now),
            created_at: now,
        })
    }

    /// Suppresses the link's recipient for its organization.
    pub async fn unsubscribe(&self, token: &str) -> Result<UnsubscribeTarget, ServiceError> {
        self.unsubscribe_as(token, "one-click unsubscribe", "UnsubscribeHeader")
            .await
    }

    async fn unsubscribe_as(
        &self,
        token: &str,
        how: &str,
        source: &str,
    ) -> Result<UnsubscribeTarget, ServiceError> {
        let target = self.unsubscribe_target(token).await?;
        let address = EmailAddress::parse(&target.address)
            .map_err(|_| ServiceError::corrupt("unsubscribe address"))?;
        let key = super::suppressions::suppression_key(&address);
        let store = &self.app.inner.store;
        // A second click is no second event.
        let again = store
            .suppressed_among(&target.org_id, std::slice::from_ref(&key))
            .await?
            .iter()
            .any(|s| s.reason == "unsubscribe");
        let now = self.app.now_ms();
        let event = match again {
            true => None,
            false => Some(self.subscription_event(&target, source, now).await?),
        };
        let row = absender_store::SuppressionRow {
            org_id: target.org_id.clone(),
            address: key,
            reason: "unsubscribe".into(),
            detail: Some(how.into()),
            message_id: target.message_id.clone(),
            created_at: now,
        };
        store.suppress_with_event(&row, event.as_ref()).await?;
        tracing::info!(org_id = %target.org_id, "recipient unsubscribed");
        Ok(target)
    }
}
