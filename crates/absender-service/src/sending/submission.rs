//! SMTP submission: the same rules and pipeline as `POST /api/v1/messages`,
//! for a message the client composed. The envelope sender and the From must
//! be verified identities of the organization (whose scope allows the
//! category, named by `X-Absender-Category`, booking by default); absender
//! adds Message-ID and Date when missing, unsubscribe headers on invitations,
//! signs, and queues it with its own return path.

use super::Sending;
use crate::secrets::new_id;
use crate::{Organization, ServiceError};
use absender_core::category::ONE_INVITEE;
use absender_core::sender::covering;
use absender_core::{Category, EmailAddress, Status};
use absender_mail::submitted::submitted;
use absender_store::IdentityRow;
use absender_store::{MessageRow, OrgRow};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long SMTP submission reuses what it read about senders: an identity
/// that stops being verified stops being usable within this time.
const SENDER_CACHE_FOR: Duration = Duration::from_secs(1);

/// Recently read identities by organization, and organizations by sender
/// address (trusted clients): each SMTP message would otherwise read them
/// several times.
pub(crate) struct SenderCache {
    identities: Kept<Arc<Vec<IdentityRow>>>,
    orgs: Kept<Option<OrgRow>>,
    /// Each organization as stored now, by id (its upgrade, pause and quotas).
    pub(crate) current: Kept<Arc<OrgRow>>,
}

/// Values by key, each for [`SENDER_CACHE_FOR`] after it was read.
type Kept<T> = moka::sync::Cache<String, T>;

fn kept<T: Clone + Send + Sync + 'static>() -> Kept<T> {
    moka::sync::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(SENDER_CACHE_FOR)
        .build()
}

impl Default for SenderCache {
    fn default() -> Self {
        Self {
            identities: kept(),
            orgs: kept(),
            current: kept(),
        }
    }
}

/// An identity the organization may send from right now.
struct Usable {
    id: String,
    domain: String,
    mail_from_domain: Option<String>,
    scope: absender_core::Scope,
}

impl Sending<'_> {
    /// The largest message SMTP takes (the signed message must fit the limit too).
    pub fn smtp_max_message_bytes(&self) -> usize {
        self.app.inner.settings.sending.max_message_bytes
    }

    /// The most recipients of one SMTP transaction.
    pub fn smtp_max_recipients(&self) -> usize {
        self.app.inner.settings.sending.max_recipients
    }

    /// For a trusted client without login: the one organization with a
    /// verified identity at `address`.
    pub async fn smtp_org_for_sender(
        &self,
        address: &str,
    ) -> Result<Option<Organization>, ServiceError> {
        let Ok(address) = EmailAddress::parse(address) else {
            return Ok(None);
        };
        let cache = &self.app.inner.sender_cache;
        let key = address.to_string().to_lowercase();
        if let Some(org) = cache.orgs.get(&key) {
            return Ok(org.map(Organization::new));
        }
        let org = self.org_verifying(&address).await?;
        cache.orgs.insert(key, org.clone());
        Ok(org.map(Organization::new))
    }

    async fn org_verifying(&self, address: &EmailAddress) -> Result<Option<OrgRow>, ServiceError> {
        let rows = self
            .app
            .inner
            .store
            .identities_by_address(&address.to_string())
            .await?;
        let mut orgs = Vec::new();
        for row in rows {
            let loaded = crate::identity::requests::load(row)?;
            if loaded.parts.overall() == Status::Success && !orgs.contains(&loaded.row.org_id) {
                orgs.push(loaded.row.org_id);
            }
        }
        match orgs.as_slice() {
            [only] => Ok(self.app.inner.store.org(only).await?),
            _ => Ok(None),
        }
    }

    /// Whether the organization has the upgrade now (a session's login may be older).
    async fn upgraded(&self, org: &OrgRow) -> Result<bool, ServiceError> {
        match self.current_org(&org.id).await {
            Ok(current) => Ok(current.custom_sender_enabled),
            Err(ServiceError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The verified identity covering `address` that the organization may
    /// send from now, best for `category` when it is known; refused
    /// outright while its upgrade is switched off.
    async fn usable(
        &self,
        org: &OrgRow,
        address: &str,
        category: Option<Category>,
    ) -> Result<Option<Usable>, ServiceError> {
        let Ok(address) = EmailAddress::parse(address) else {
            return Ok(None);
        };
        if !self.upgraded(org).await? {
            return Err(ServiceError::Denied {
                code: "upgrade_required",
                message: format!(
                    "<{address}> cannot be used: the custom sender upgrade is switched off for {}",
                    org.name
                ),
            });
        }
        let rows = self.identity_rows(&org.id).await?;
        // Only rows that may cover the address are parsed (this runs per message).
        let wanted = address.to_string().to_lowercase();
        let domain = address.domain().as_str();
        let loaded = rows
            .iter()
            .filter(|r| r.address.to_lowercase() == wanted || r.address == domain)
            .cloned()
            .map(crate::identity::requests::load)
            .collect::<Result<Vec<_>, _>>()?;
        let identities: Vec<_> = loaded.iter().map(|i| i.sender_identity()).collect();
        let Some(chosen) = covering(&identities, &address, category) else {
            return Ok(None);
        };
        let loaded = loaded
            .iter()
            .find(|i| i.row.id == chosen.id)
            .expect("chosen among the loaded");
        Ok(Some(Usable {
            mail_from_domain: loaded.envelope_domain()?.map(str::to_string),
            id: loaded.row.id.clone(),
            domain: loaded.row.domain.clone(),
            scope: loaded.scope,
        }))
    }

    /// The organization's identities, at most [`SENDER_CACHE_FOR`] old.
    pub(crate) async fn identity_rows(
        &self,
        org_id: &str,
    ) -> Result<Arc<Vec<IdentityRow>>, ServiceError> {
        let cache = &self.app.inner.sender_cache;
        if let Some(rows) = cache.identities.get(org_id) {
            return Ok(rows);
        }
        let rows = Arc::new(self.app.inner.store.list_identities(org_id).await?);
        cache.identities.insert(org_id.to_string(), rows.clone());
        Ok(rows)
    }

    /// MAIL FROM: the organization must be able to send from the address.
    pub async fn smtp_check_sender(
        &self,
        org: &Organization,
        address: &str,
    ) -> Result<(), ServiceError> {
        let org = &org.row;
        self.refuse_if_paused(&org.id).await?;
        match self.usable(org, address, None).await? {
            Some(_) => Ok(()),
            None => Err(ServiceError::Denied {
                code: "sender_not_verified",
                message: format!(
                    "<{address}> is not a verified sender address of {}: verify it in absender first",
                    org.name
                ),
            }),
        }
    }

    /// RCPT TO: a valid address that the organization does not suppress.
    pub async fn smtp_check_recipient(
        &self,
        org: &Organization,
        address: &str,
    ) -> Result<String, ServiceError> {
        let org = &org.row;
        let parsed = EmailAddress::parse(address).map_err(|e| ServiceError::BadRequest {
            code: "invalid_address",
            message: format!("<{address}>: {e}"),
        })?;
        let suppressed = self
            .app
            .inner
            .store
            .suppressed_among(
                &org.id,
                &[crate::sending::suppressions::suppression_key(&parsed)],
            )
            .await?;
        if let Some(s) = suppressed.first() {
            return Err(ServiceError::Refused {
                code: "recipient_suppressed",
                message: format!(
                    "<{address}> is on {}'s suppression list ({})",
                    org.name, s.reason
                ),
            });
        }
        let current = self.current_org(&org.id).await?;
        self.sandbox_allows(&current, std::slice::from_ref(&parsed))
            .await?;
        Ok(parsed.to_string())
    }

    /// DATA: checks the message, signs and queues it; answers with its id.
    /// The envelope sender was checked at MAIL FROM ([`Self::smtp_check_sender`]).
    pub async fn submit_smtp(
        &self,
        org: &Organization,
        recipients: &[String],
        data: Vec<u8>,
    ) -> Result<String, ServiceError> {
        self.submit_raw(org, recipients, data, None, "smtp").await
    }

    /// A message the client composed, to `recipients` (checked by the
    /// caller): the one-author and header rules, the sender rule for its
    /// From (mail of `category`, else the message's `X-Absender-Category`,
    /// else booking), signed and queued; its id.
    /// A refusal makes a `Reject` event.
    pub(crate) async fn submit_raw(
        &self,
        org: &Organization,
        recipients: &[String],
        data: Vec<u8>,
        category: Option<Category>,
        interface: &'static str,
    ) -> Result<String, ServiceError> {
        let result = self
            .accept_raw(org, recipients, &data, category, interface)
            .await;
        if let Err(e) = &result {
            // Read only for a refusal: accepted mail is parsed once.
            let from = absender_mail::inspect::first_from(&data);
            let category = category.unwrap_or(Category::Booking);
            let from = from.as_deref().unwrap_or_default();
            self.rejected(
                &org.row.id,
                from,
                &recipients.join(","),
                category.as_str(),
                e,
            )
            .await;
        }
        result
    }

    async fn accept_raw(
        &self,
        org: &Organization,
        recipients: &[String],
        data: &[u8],
        category: Option<Category>,
        interface: &'static str,
    ) -> Result<String, ServiceError> {
        let org = &org.row;
        let started = Instant::now();
        // One author (RFC 5322 §3.6); Bcc and control headers are gone before signing.
        let headers = submitted(data).map_err(|e| ServiceError::BadRequest {
            code: "invalid_message",
            message: e.to_string(),
        })?;
        let category = match (category, headers.category.as_deref()) {
            (Some(category), _) => category,
            (None, None) => Category::Booking,
            (None, Some(name)) => Category::parse(name)
                .filter(|c| *c != Category::System)
                .ok_or_else(|| ServiceError::BadRequest {
                    code: "invalid_category",
                    message: format!(
                        "X-Absender-Category {name:?} is not {}",
                        Category::organization_names()
                    ),
                })?,
        };
        let from = &headers.from;
        let Some(identity) = self.usable(org, from, Some(category)).await? else {
            return Err(ServiceError::Denied {
                code: "sender_not_verified",
                message: format!(
                    "From <{from}> is not a verified sender address of {}",
                    org.name
                ),
            });
        };
        for sender in &headers.senders {
            if self.usable(org, sender, None).await?.is_none() {
                return Err(ServiceError::Denied {
                    code: "sender_not_verified",
                    message: format!(
                        "Sender/Resent-From <{sender}> is not a verified sender address of {}",
                        org.name
                    ),
                });
            }
        }
        if !identity.scope.allows(category) {
            return Err(ServiceError::Denied {
                code: "category_not_in_scope",
                message: format!(
                    "<{from}> may not send {} mail (its scope does not allow it)",
                    category.as_str()
                ),
            });
        }
        if !category.allows_recipients(recipients.len()) {
            return Err(ServiceError::Refused {
                code: "one_recipient_per_invitation",
                message: ONE_INVITEE.to_string(),
            });
        }
        let parsed = recipients
            .iter()
            .map(|r| EmailAddress::parse(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ServiceError::BadRequest {
                code: "invalid_address",
                message: e.to_string(),
            })?;
        // Held until the message is stored.
        let _admitted = self.admit(&org.id, &parsed).await?;

        let id = new_id("msg");
        let now = self.app.now_ms();
        let from_domain = from.rsplit_once('@').map_or("", |(_, d)| d);
        // What absender adds goes on top of the client's headers.
        let mut added = String::new();
        if !headers.has_message_id {
            added.push_str(&format!("Message-ID: <{id}@{from_domain}>\r\n"));
        }
        if !headers.has_date {
            added.push_str(&format!(
                "Date: {}\r\n",
                absender_mail::compose::date_header(now / 1000)
            ));
        }
        added.push_str(&format!(
            "Feedback-ID: {}\r\n",
            super::complaints::feedback_id(&org.id, category.as_str())
        ));
        if category == Category::Invitation {
            let recipient =
                EmailAddress::parse(&recipients[0]).map_err(|e| ServiceError::BadRequest {
                    code: "invalid_address",
                    message: e.to_string(),
                })?;
            let u = self
                .app
                .suppressions()
                .unsubscribe_for(&org.id, &recipient, &id);
            added.push_str(&format!(
                "List-Unsubscribe: <{}>,\r\n <mailto:{}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                u.https, u.mailto
            ));
        }
        let mut unsigned = added.into_bytes();
        unsigned.extend_from_slice(&headers.cleaned);
        let raw = self
            .sign(&org.id, Some(&identity.domain), &unsigned)
            .await?;
        if raw.len() > self.smtp_max_message_bytes() {
            return Err(ServiceError::TooLarge(
                "the message is larger than absender takes".into(),
            ));
        }
        let envelope_domain = identity
            .mail_from_domain
            .unwrap_or_else(|| self.app.inner.settings.platform.bounce_host.clone());
        let row = MessageRow {
            id: id.clone(),
            org_id: org.id.clone(),
            category: category.as_str().to_string(),
            // As the address parses (A-labels, no trailing dot): the queue
            // and key retention find the domain's mail by it.
            from_address: EmailAddress::parse(from)
                .map(|a| a.to_string())
                .unwrap_or_else(|_| from.clone()),
            identity_id: Some(identity.id),
            fallback_reason: None,
            reply_to: None,
            envelope_from: format!("bounces+{id}@{envelope_domain}"),
            recipients: recipients.join(","),
            subject: String::new(),
            status: String::new(),
            created_at: now,
        };
        self.accept(row, raw, interface, started).await?;
        Ok(id)
    }
}
