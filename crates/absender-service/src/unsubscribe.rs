//! One-click unsubscribe (RFC 8058) for invitation mails. The link carries
//! the organization and the recipient under a MAC of the master key, so
//! nothing is stored per mail and no one can forge a link for another address.

use crate::{App, ServiceError};
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

impl App {
    fn unsubscribe_token(&self, org_id: &str, recipient: &str) -> String {
        let data = format!("{org_id}\n{recipient}");
        let mac = self.inner.master_key.mac(PURPOSE, data.as_bytes());
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
            https: format!("{}/unsubscribe/{token}", self.inner.public_url),
            mailto: format!(
                "unsubscribe@{}?subject=unsubscribe%20{token}",
                self.inner.settings.platform.bounce_host
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
        let org = self.inner.store.org(org_id).await?.ok_or_else(invalid)?;
        Ok(UnsubscribeTarget {
            org_id: org.id,
            org_name: org.name,
            address: address.to_string(),
        })
    }

    /// Suppresses the link's recipient for its organization.
    pub async fn unsubscribe(&self, token: &str) -> Result<UnsubscribeTarget, ServiceError> {
        let target = self.unsubscribe_target(token).await?;
        let address = EmailAddress::parse(&target.address)
            .map_err(|_| ServiceError::corrupt("unsubscribe address"))?;
        self.suppress(
            &target.org_id,
            &address,
            "unsubscribe",
            Some("one-click unsubscribe".into()),
            None,
        )
        .await?;
        tracing::info!(org_id = %target.org_id, "recipient unsubscribed");
        Ok(target)
    }
}
