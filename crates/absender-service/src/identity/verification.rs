//! Address verification: the link in the mail, the page behind it, and the
//! confirmation, which only a POST performs (link scanners only GET).

use super::Identities;
use crate::ServiceError;
use crate::identity::notices;
use crate::secrets::new_id;
use crate::secrets::{hash_secret, random_token};
use absender_core::verification::{TokenRefusal, TokenState};
use absender_core::{IdentityParts, Locale, Status};
use absender_store::{IdentityEventRow, IdentityRow, OrgRow};

/// What the verification page shows.
#[derive(Debug, Clone)]
pub struct VerifyPage {
    /// The organization that wants to send.
    pub org_name: String,
    /// The address it wants to send from.
    pub address: String,
    /// The organization's language.
    pub locale: Locale,
    /// Whether the address is confirmed (after POST).
    pub confirmed: bool,
}

/// Why a link does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyRefusal {
    /// No such link (never existed, or its identity was deleted).
    Unknown,
    /// The link was used already.
    Used,
    /// The link expired.
    Expired,
    /// A newer link was sent.
    Superseded,
}

impl From<TokenRefusal> for VerifyRefusal {
    fn from(r: TokenRefusal) -> Self {
        match r {
            TokenRefusal::Used => VerifyRefusal::Used,
            TokenRefusal::Expired => VerifyRefusal::Expired,
            TokenRefusal::Superseded => VerifyRefusal::Superseded,
        }
    }
}

/// A refused link, with the language to explain it in.
pub type Refused = (VerifyRefusal, Locale);

impl Identities<'_> {
    pub(crate) async fn send_verification(
        &self,
        org: &OrgRow,
        identity: &IdentityRow,
    ) -> Result<(), ServiceError> {
        let token = random_token();
        let now = self.app.now_ms();
        let ttl_ms = self.app.inner.settings.verification.token_ttl.as_millis() as i64;
        self.app
            .inner
            .store
            .insert_token(&hash_secret(&token), &identity.id, now, now + ttl_ms)
            .await?;
        let link = format!("{}/verify/{token}", self.app.inner.public_url);
        let locale = Locale::parse(&org.locale).unwrap_or_default();
        let platform = &self.app.inner.settings.platform.name;
        let hours = self
            .app
            .inner
            .settings
            .verification
            .token_ttl
            .as_secs()
            .div_ceil(3600);
        let text =
            notices::verification(locale, &org.name, &identity.address, platform, &link, hours);
        self.app
            .sending()
            .send_system_mail(org, &identity.address, &text, Some(&token))
            .await?;
        self.count_verification_mail(&identity.address).await?;
        tracing::info!(org_id = %org.id, identity_id = %identity.id, "verification mail sent");
        Ok(())
    }

    /// Finds the token's identity and organization, or why the link does not work.
    async fn redeemable(
        &self,
        token: &str,
    ) -> Result<Result<(OrgRow, IdentityRow), Refused>, ServiceError> {
        let store = &self.app.inner.store;
        let Some(row) = store.token(&hash_secret(token)).await? else {
            return Ok(Err((VerifyRefusal::Unknown, Locale::default())));
        };
        let identity = store.identity_unscoped(&row.identity_id).await?;
        let org = match &identity {
            Some(identity) => store.org(&identity.org_id).await?,
            None => None,
        };
        let (Some(identity), Some(org)) = (identity, org) else {
            return Ok(Err((VerifyRefusal::Unknown, Locale::default())));
        };
        let locale = Locale::parse(&org.locale).unwrap_or_default();
        let state = TokenState {
            expires_at_ms: row.expires_at,
            used_at_ms: row.used_at,
            superseded: row.superseded,
        };
        Ok(state
            .check(self.app.now_ms())
            .map(|()| (org, identity))
            .map_err(|r| (r.into(), locale)))
    }

    /// What `GET /verify/{token}` shows; changes nothing.
    pub async fn verification_page(
        &self,
        token: &str,
    ) -> Result<Result<VerifyPage, Refused>, ServiceError> {
        Ok(self
            .redeemable(token)
            .await?
            .map(|(org, identity)| page(&org, &identity, false)))
    }

    /// `POST /verify/{token}`: confirms the address, once.
    pub async fn confirm_verification(
        &self,
        token: &str,
    ) -> Result<Result<VerifyPage, Refused>, ServiceError> {
        let (org, identity) = match self.redeemable(token).await? {
            Ok(found) => found,
            Err(refused) => return Ok(Err(refused)),
        };
        let now = self.app.now_ms();
        if !self
            .app
            .inner
            .store
            .use_token(&hash_secret(token), now)
            .await?
        {
            // Another request used it between our read and our write.
            let locale = Locale::parse(&org.locale).unwrap_or_default();
            return Ok(Err((VerifyRefusal::Used, locale)));
        }
        let loaded = crate::identity::requests::load(identity.clone())?;
        // Tokens are made for address identities alone.
        let Some(address_before) = loaded.parts.address else {
            return Err(ServiceError::corrupt("token of a domain identity"));
        };
        let parts: IdentityParts =
            loaded
                .parts
                .confirm_address()
                .map_err(|e| ServiceError::Conflict {
                    code: "verification_failed",
                    message: e.to_string(),
                })?;
        self.app
            .inner
            .store
            .set_address_status(&identity.id, Status::Success.as_str(), now)
            .await?;
        tracing::info!(org_id = %org.id, identity_id = %identity.id, "address confirmed");
        let event = |part: &str, from: Status, to: Status| IdentityEventRow {
            id: new_id("evt"),
            identity_id: identity.id.clone(),
            org_id: org.id.clone(),
            part: part.to_string(),
            from_status: from.as_str().to_string(),
            to_status: to.as_str().to_string(),
            detail: "address confirmed by its owner".to_string(),
            created_at: now,
        };
        let store = &self.app.inner.store;
        store
            .insert_event(&event("address", address_before, Status::Success))
            .await?;
        let (before, after) = (loaded.parts.overall(), parts.overall());
        if before != after {
            store
                .insert_event(&event("identity", before, after))
                .await?;
            self.app
                .checks()
                .notify_status(&org, &identity, before, after, &[])
                .await?;
        }
        Ok(Ok(page(&org, &identity, true)))
    }
}

fn page(org: &OrgRow, identity: &IdentityRow, confirmed: bool) -> VerifyPage {
    VerifyPage {
        org_name: org.name.clone(),
        address: identity.address.clone(),
        locale: Locale::parse(&org.locale).unwrap_or_default(),
        confirmed,
    }
}
