//! One-click unsubscribe (RFC 8058) for invitation mails. The link carries
//! the organization and the recipient under a MAC of the master key, so
//! nothing is stored per mail and no one can forge a link for another address.

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
}

/// The local part of the mailto unsubscribe address at the bounce host.
const UNSUBSCRIBE_LOCAL: &str = "unsubscribe";
impl Suppressions<'_> {
    fn unsubscribe_token(&self, org_id: &str, recipient: &str) -> String {
        let data = format!("{org_id}\n{recipient}");
        let mac = self.app.inner.master_key.mac(PURPOSE, data.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(data),
            URL_SAFE_NO_PAD.encode(&mac[..16])
        )
    }

    /// The https and mailto targets for `recipient` of the organization.
    pub(crate) fn unsubscribe_for(&self, org_id: &str, recipient: &EmailAddress) -> Unsubscribe {
        let token = self.unsubscribe_token(org_id, &recipient.to_string());
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
        let (org_id, address) = text.split_once('\n').ok_or_else(invalid)?;
        let expected = self.unsubscribe_token(org_id, address);
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
        self.unsubscribe_as(token, "mailto unsubscribe").await
    }

    /// Suppresses the link's recipient for its organization.
    pub async fn unsubscribe(&self, token: &str) -> Result<UnsubscribeTarget, ServiceError> {
        self.unsubscribe_as(token, "one-click unsubscribe").await
    }

    async fn unsubscribe_as(
        &self,
        token: &str,
        how: &str,
    ) -> Result<UnsubscribeTarget, ServiceError> {
        let target = self.unsubscribe_target(token).await?;
        let address = EmailAddress::parse(&target.address)
            .map_err(|_| ServiceError::corrupt("unsubscribe address"))?;
        self.suppress(
            &target.org_id,
            &address,
            "unsubscribe",
            Some(how.into()),
            None,
        )
        .await?;
        tracing::info!(org_id = %target.org_id, "recipient unsubscribed");
        Ok(target)
    }
}
