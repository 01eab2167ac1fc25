//! Web UI sign-in: sessions opened with an API key or a one-time link mailed
//! to the organization's contact address. Tokens are stored only as hashes;
//! CSRF tokens are MACs of the cookie under the master key, so they need no
//! storage and cannot be made for another browser's cookie.

use super::Access;
use crate::secrets::{hash_secret, random_token};
use crate::{Caller, Organization, ServiceError};
use absender_core::Locale;
use std::time::Duration;

/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a mailed sign-in link works.
pub const SIGN_IN_LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// At most this many links per organization and hour: the form is open to
/// anyone, so it must not become a way to flood a contact's mailbox.
const LINKS_PER_HOUR: i64 = 5;
const HOUR_MS: i64 = 3_600_000;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Access<'_> {
    /// Opens a session for the holder of an API key (an organization's or the
    /// operator's). Returns the session token for the cookie.
    pub async fn ui_sign_in(&self, key: &str) -> Result<(String, Caller), ServiceError> {
        let caller = self.app.authenticate(key.trim()).await?;
        caller.require_current_key()?;
        let token = self.open_session(&caller).await?;
        Ok((token, caller))
    }

    async fn open_session(&self, caller: &Caller) -> Result<String, ServiceError> {
        let token = random_token();
        let now = self.app.now_ms();
        // Sessions nobody signed out of and old links go here, not in a job.
        self.app.inner.store.sweep_ui(now, now - HOUR_MS).await?;
        let org_id = match caller {
            Caller::Operator => None,
            Caller::Org(org) => Some(org.id()),
        };
        self.app
            .inner
            .store
            .insert_ui_session(&hash_secret(&token), org_id, now, now + ms(SESSION_TTL))
            .await?;
        tracing::info!(org_id = org_id.unwrap_or("operator"), "ui session opened");
        Ok(token)
    }

    /// The caller behind a session cookie, if the session is valid.
    pub async fn ui_session(&self, token: &str) -> Result<Option<Caller>, ServiceError> {
        let now = self.app.now_ms();
        match self
            .app
            .inner
            .store
            .ui_session(&hash_secret(token), now)
            .await?
        {
            None => Ok(None),
            Some(None) => Ok(Some(Caller::Operator)),
            Some(Some(org_id)) => Ok(self
                .app
                .inner
                .store
                .org(&org_id)
                .await?
                .map(|org| Caller::Org(Organization::new(org)))),
        }
    }

    /// Ends the session (and sweeps expired ones).
    pub async fn ui_sign_out(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self
            .app
            .inner
            .store
            .delete_ui_session(&hash_secret(token), self.app.now_ms())
            .await?)
    }

    /// The CSRF token that forms of the browser holding `cookie` must carry.
    pub fn ui_csrf_token(&self, cookie: &str) -> String {
        hex::encode(&self.app.inner.master_key.mac("ui-csrf", cookie.as_bytes())[..20])
    }

    /// Whether `token` is the CSRF token for `cookie` (constant time).
    pub fn ui_csrf_valid(&self, cookie: &str, token: &str) -> bool {
        crate::app::constant_time_eq(self.ui_csrf_token(cookie).as_bytes(), token.as_bytes())
    }

    /// Mails a one-time sign-in link to `email` for each organization whose
    /// contact address it is. Says nothing about whether there is one, so
    /// that the form does not reveal who is a customer.
    pub async fn mail_sign_in_links(&self, email: &str) -> Result<(), ServiceError> {
        let email = email.trim();
        if email.is_empty() || email.len() > 254 || email.chars().any(char::is_control) {
            return Err(ServiceError::Invalid {
                field: "email",
                message: "enter the contact address of your organization".into(),
            });
        }
        let now = self.app.now_ms();
        for org in self.app.inner.store.orgs_by_contact(email).await? {
            let recent = self
                .app
                .inner
                .store
                .sign_in_links_since(&org.id, now - HOUR_MS)
                .await?;
            if recent >= LINKS_PER_HOUR {
                tracing::warn!(org_id = %org.id, "sign-in link not sent: hourly limit reached");
                continue;
            }
            let token = random_token();
            self.app
                .inner
                .store
                .insert_sign_in_link(
                    &hash_secret(&token),
                    &org.id,
                    now,
                    now + ms(SIGN_IN_LINK_TTL),
                )
                .await?;
            let link = format!("{}/ui/sign-in/{token}", self.app.inner.public_url);
            let locale = Locale::parse(&org.locale).unwrap_or_default();
            let text = crate::identity::notices::sign_in_link(
                locale,
                &self.app.inner.settings.platform.name,
                &org.name,
                &link,
                SIGN_IN_LINK_TTL.as_secs() / 60,
            );
            self.app
                .sending()
                .send_system_mail(&org, &org.contact_email, &text, Some(&token))
                .await?;
            tracing::info!(org_id = %org.id, "sign-in link mailed");
        }
        Ok(())
    }

    /// The organization's name if the link is valid and unused (for the
    /// page that asks to press the button; mail scanners only GET).
    pub async fn sign_in_link_org(&self, token: &str) -> Result<Option<String>, ServiceError> {
        let now = self.app.now_ms();
        let Some(org_id) = self
            .app
            .inner
            .store
            .sign_in_link_org(&hash_secret(token), now)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.app.inner.store.org(&org_id).await?.map(|o| o.name))
    }

    /// Uses the link once and opens a session for its organization.
    pub async fn ui_sign_in_with_link(
        &self,
        token: &str,
    ) -> Result<Option<(String, Caller)>, ServiceError> {
        let now = self.app.now_ms();
        let Some(org_id) = self
            .app
            .inner
            .store
            .use_sign_in_link(&hash_secret(token), now)
            .await?
        else {
            return Ok(None);
        };
        let Some(org) = self.app.inner.store.org(&org_id).await? else {
            return Ok(None);
        };
        let caller = Caller::Org(Organization::new(org));
        let session = self.open_session(&caller).await?;
        Ok(Some((session, caller)))
    }
}
