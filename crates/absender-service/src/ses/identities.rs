//! SES's identity operations over absender's identities: an identity made
//! here is the same one the native API, the UI and the CLI show.

use super::{Ses, epoch_seconds};
use crate::api::{OwnDkimKey, RequestIdentity};
use crate::identity::requests::{LoadedIdentity, Name, REJECT_MESSAGE, USE_DEFAULT_VALUE, load};
use crate::{Caller, ServiceError};
use absender_core::{Domain, EmailAddress, IdentityKind, Locale, Scope, Status};
use absender_store::IdentityCheckRow;
use serde::{Deserialize, Serialize};

/// SES's tag limits.
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

/// A tag, as SES writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// `CreateEmailIdentity`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEmailIdentity {
    pub email_identity: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    pub dkim_signing_attributes: Option<SigningAttributes>,
    /// Accepted; absender has no configuration sets.
    pub configuration_set_name: Option<String>,
}

/// `CreateEmailIdentity`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatedIdentity {
    pub identity_type: &'static str,
    pub verified_for_sending_status: bool,
    pub dkim_attributes: DkimAttributes,
}

/// An identity's DKIM, as SES shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DkimAttributes {
    pub signing_enabled: bool,
    pub status: Status,
    /// The three selectors: `<token>._domainkey.<domain>` CNAME
    /// `<token>.<dkim zone>` are the records absender checks; with an own
    /// key (`EXTERNAL`), its one selector.
    pub tokens: Vec<String>,
    pub signing_attributes_origin: &'static str,
    /// Easy DKIM's only, as SES shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_signing_key_length: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_signing_key_length: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_key_generation_timestamp: Option<f64>,
}

/// `GetEmailIdentity`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailIdentity {
    pub identity_type: &'static str,
    pub verified_for_sending_status: bool,
    pub verification_status: Status,
    pub dkim_attributes: DkimAttributes,
    pub mail_from_attributes: MailFromAttributes,
    pub verification_info: VerificationInfo,
    pub policies: serde_json::Map<String, serde_json::Value>,
    pub tags: Vec<Tag>,
}

/// The custom MAIL FROM domain, as SES shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MailFromAttributes {
    pub mail_from_domain: String,
    pub mail_from_domain_status: Status,
    pub behavior_on_mx_failure: String,
}

/// The last DNS check of the identity's DKIM, as SES reports it.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerificationInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_checked_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(rename = "SOARecord", skip_serializing_if = "Option::is_none")]
    pub soa_record: Option<SoaRecord>,
}

/// The zone that answered.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SoaRecord {
    pub primary_name_server: String,
    pub serial_number: i64,
}

/// `PutEmailIdentityMailFromAttributes`' body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMailFrom {
    pub mail_from_domain: Option<String>,
    pub behavior_on_mx_failure: Option<String>,
}

/// `PutEmailIdentityDkimSigningAttributes`' body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutDkimSigning {
    pub signing_attributes_origin: String,
    pub signing_attributes: Option<SigningAttributes>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SigningAttributes {
    pub next_signing_key_length: Option<String>,
    pub domain_signing_selector: Option<String>,
    pub domain_signing_private_key: Option<String>,
    /// `CreateEmailIdentity`'s only: `AWS_SES` or `EXTERNAL`.
    pub domain_signing_attributes_origin: Option<String>,
}

/// Never prints the private key.
impl std::fmt::Debug for SigningAttributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningAttributes")
            .field("next_signing_key_length", &self.next_signing_key_length)
            .field("domain_signing_selector", &self.domain_signing_selector)
            .field(
                "domain_signing_private_key",
                &self
                    .domain_signing_private_key
                    .as_ref()
                    .map(|_| "[redacted]"),
            )
            .field(
                "domain_signing_attributes_origin",
                &self.domain_signing_attributes_origin,
            )
            .finish()
    }
}

/// SES's key lengths for Easy DKIM; absender makes 2048 bits for either.
fn check_key_length(length: Option<&str>) -> Result<(), ServiceError> {
    match length {
        None | Some("RSA_1024_BIT") | Some("RSA_2048_BIT") => Ok(()),
        Some(other) => Err(bad(format!(
            "NextSigningKeyLength is RSA_1024_BIT or RSA_2048_BIT, not {other:?}"
        ))),
    }
}

impl SigningAttributes {
    /// `CreateEmailIdentity`'s attributes: the own key they name, if the
    /// origin (given, or implied by the fields) is `EXTERNAL`.
    fn for_create(&self) -> Result<Option<OwnDkimKey>, ServiceError> {
        let own = self.own_key()?;
        let origin = self
            .domain_signing_attributes_origin
            .as_deref()
            .unwrap_or(if own.is_some() { "EXTERNAL" } else { "AWS_SES" });
        match (origin, own) {
            ("EXTERNAL", Some(own)) if self.next_signing_key_length.is_none() => Ok(Some(own)),
            ("EXTERNAL", Some(_)) => Err(bad(
                "NextSigningKeyLength belongs to AWS_SES, not to your own key",
            )),
            ("EXTERNAL", None) => Err(bad(
                "EXTERNAL needs DomainSigningSelector and DomainSigningPrivateKey",
            )),
            (origin, None) if origin == "AWS_SES" || origin.starts_with("AWS_SES_") => {
                check_key_length(self.next_signing_key_length.as_deref())?;
                Ok(None)
            }
            (origin, None) => Err(bad(format!(
                "DomainSigningAttributesOrigin is AWS_SES or EXTERNAL, not {origin:?}"
            ))),
            (_, Some(_)) => Err(bad(
                "DomainSigningSelector and DomainSigningPrivateKey belong to EXTERNAL",
            )),
        }
    }

    /// The own key these name (bring-your-own DKIM), if they name one.
    fn own_key(&self) -> Result<Option<OwnDkimKey>, ServiceError> {
        match (
            &self.domain_signing_selector,
            &self.domain_signing_private_key,
        ) {
            (None, None) => Ok(None),
            (Some(selector), Some(private_key)) => Ok(Some(OwnDkimKey {
                selector: selector.clone(),
                private_key: private_key.clone(),
            })),
            _ => Err(bad(
                "bring-your-own DKIM needs both DomainSigningSelector and DomainSigningPrivateKey",
            )),
        }
    }
}

/// `PutEmailIdentityDkimSigningAttributes`' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DkimSigningAnswer {
    pub dkim_status: Status,
    pub dkim_tokens: Vec<String>,
}

/// `PutEmailIdentityDkimAttributes`' body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutDkim {
    pub signing_enabled: Option<bool>,
}

pub(crate) fn identity_type(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Address => "EMAIL_ADDRESS",
        IdentityKind::Domain => "DOMAIN",
    }
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest {
        code: "invalid_parameter",
        message: message.into(),
    }
}

/// SES's tag rules, checked before anything is stored.
pub(crate) fn checked_tags(tags: &[Tag]) -> Result<String, ServiceError> {
    if tags.len() > MAX_TAGS {
        return Err(bad(format!("at most {MAX_TAGS} tags")));
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > MAX_TAG_KEY {
            return Err(bad(format!("a tag key has 1 to {MAX_TAG_KEY} characters")));
        }
        if tag.value.chars().count() > MAX_TAG_VALUE {
            return Err(bad(format!(
                "a tag value has at most {MAX_TAG_VALUE} characters"
            )));
        }
    }
    Ok(serde_json::to_string(tags).expect("tags serialize"))
}

impl Ses<'_> {
    /// The organization's identity that SES names `name` (an address or a
    /// domain, as the path gave it).
    async fn identity_named(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<LoadedIdentity, ServiceError> {
        let org = caller.org()?;
        let wanted = if name.contains('@') {
            EmailAddress::parse(name).map(Name::Address)
        } else {
            Domain::parse(name).map(Name::Domain)
        }
        .map_err(|_| ServiceError::NotFound("identity"))?;
        let rows = self.app.inner.store.list_identities(&org.id).await?;
        for row in rows {
            let identity = load(row)?;
            let same = match (&identity.name, &wanted) {
                (Name::Address(_), Name::Address(address)) => {
                    identity.name.verifies().covers(address)
                }
                (Name::Domain(a), Name::Domain(b)) => a == b,
                _ => false,
            };
            if same {
                return Ok(identity);
            }
        }
        Err(ServiceError::NotFound("identity"))
    }

    async fn dkim_attributes(
        &self,
        identity: &LoadedIdentity,
    ) -> Result<DkimAttributes, ServiceError> {
        let key = self
            .app
            .identities()
            .dkim_key_of(&identity.row.org_id, &identity.row.domain)
            .await?;
        Ok(DkimAttributes {
            signing_enabled: true,
            status: identity.parts.dkim,
            tokens: key.selectors,
            signing_attributes_origin: if key.own { "EXTERNAL" } else { "AWS_SES" },
            current_signing_key_length: (!key.own).then_some("RSA_2048_BIT"),
            next_signing_key_length: (!key.own).then_some("RSA_2048_BIT"),
            last_key_generation_timestamp: (key.created_at > 0)
                .then(|| epoch_seconds(key.created_at)),
        })
    }

    /// `CreateEmailIdentity`: an address (verification mail included,
    /// scope `all` as SES has no scopes) or a domain (DNS alone).
    pub async fn create_email_identity(
        &self,
        caller: &Caller,
        request: CreateEmailIdentity,
    ) -> Result<CreatedIdentity, ServiceError> {
        let tags = checked_tags(&request.tags)?;
        let name = request.email_identity.trim();
        let own_key = match &request.dkim_signing_attributes {
            Some(attributes) => attributes.for_create()?,
            None => None,
        };
        if let Some(own) = &own_key {
            if name.contains('@') {
                return Err(bad(
                    "bring-your-own DKIM is for domain identities: create the domain identity with DkimSigningAttributes",
                ));
            }
            // Refused before anything is stored.
            crate::identity::own_keys::check(own)?;
        }
        let wanted = if name.contains('@') {
            RequestIdentity::address(name, Scope::All)
        } else {
            RequestIdentity::domain(name)
        };
        let id = self
            .app
            .identities()
            .request_tagged(caller, wanted, &tags)
            .await?;
        if let Some(own) = &own_key {
            let org = caller.org()?;
            let domain = self
                .app
                .identities()
                .identity_of(org, &id)
                .await?
                .row
                .domain;
            self.app
                .identities()
                .set_own_key(&org.id, &domain, own)
                .await?;
        }
        let identity = self
            .app
            .identities()
            .identity_of(caller.org()?, &id)
            .await?;
        Ok(CreatedIdentity {
            identity_type: identity_type(identity.name.kind()),
            verified_for_sending_status: identity.parts.overall() == Status::Success,
            dkim_attributes: self.dkim_attributes(&identity).await?,
        })
    }

    /// `GetEmailIdentity`. A client that polls it is watching: while DKIM
    /// or SPF waits, a poll checks the DNS again (at most every
    /// `WATCH_INTERVAL`), as the UI's live page does, so the status turns
    /// seconds after the last record is published.
    pub async fn get_email_identity(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<EmailIdentity, ServiceError> {
        let watched = self.identity_named(caller, name).await?;
        self.app
            .checks()
            .watch_identity(caller, &watched.row.id, Locale::default())
            .await?;
        let identity = self
            .app
            .identities()
            .identity_of(caller.org()?, &watched.row.id)
            .await?;
        let checks = self
            .app
            .inner
            .store
            .identity_checks(&identity.row.id)
            .await?;
        let dkim_check = checks.iter().find(|c| c.part == "dkim");
        let tags = serde_json::from_str(&identity.row.tags)
            .map_err(|_| ServiceError::corrupt("identity tags"))?;
        Ok(EmailIdentity {
            identity_type: identity_type(identity.name.kind()),
            verified_for_sending_status: identity.parts.overall() == Status::Success,
            verification_status: identity.parts.overall(),
            dkim_attributes: self.dkim_attributes(&identity).await?,
            mail_from_attributes: MailFromAttributes {
                mail_from_domain: identity.row.mail_from_domain.clone(),
                // SES's MAIL FROM statuses have no NOT_STARTED.
                mail_from_domain_status: match identity.mail_from {
                    Status::NotStarted => Status::Pending,
                    status => status,
                },
                behavior_on_mx_failure: identity.row.mail_from_behavior.clone(),
            },
            verification_info: dkim_check.map(verification_info).unwrap_or_default(),
            policies: serde_json::Map::new(),
            tags,
        })
    }

    /// `DeleteEmailIdentity`.
    pub async fn delete_email_identity(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(), ServiceError> {
        let identity = self.identity_named(caller, name).await?;
        self.app
            .identities()
            .delete_identity(caller, &identity.row.id)
            .await
    }

    /// `PutEmailIdentityDkimAttributes`: absender signs every identity's
    /// mail, so signing can be switched on (it is) but not off.
    pub async fn put_dkim_attributes(
        &self,
        caller: &Caller,
        name: &str,
        request: PutDkim,
    ) -> Result<(), ServiceError> {
        self.identity_named(caller, name).await?;
        if request.signing_enabled == Some(false) {
            return Err(ServiceError::BadRequest {
                code: "not_supported",
                message: "absender signs all mail of an identity with DKIM; switching signing off is not supported by absender".into(),
            });
        }
        Ok(())
    }

    /// `PutEmailIdentityDkimSigningAttributes`: `EXTERNAL` signs a domain
    /// identity with the organization's own key once its TXT record is
    /// verified. `AWS_SES` (or a regional `AWS_SES_…`) goes back to Easy DKIM
    /// from an own key; otherwise, with `NextSigningKeyLength`, it rotates
    /// the domain's key behind the same tokens (a rotation under way is left
    /// to end). absender makes RSA-2048 keys only: the CNAMEs point at its
    /// own DNS, so the TXT size limits that make people pick 1024 bits do
    /// not apply.
    pub async fn put_dkim_signing(
        &self,
        caller: &Caller,
        name: &str,
        request: PutDkimSigning,
    ) -> Result<DkimSigningAnswer, ServiceError> {
        let identity = self.identity_named(caller, name).await?;
        let origin = request.signing_attributes_origin.as_str();
        let attributes = request.signing_attributes.unwrap_or_default();
        let (org_id, domain) = (&identity.row.org_id, &identity.row.domain);
        if origin == "EXTERNAL" {
            if identity.name.kind() != IdentityKind::Domain {
                return Err(bad(
                    "bring-your-own DKIM is for domain identities; this is an email address identity",
                ));
            }
            let own = attributes.own_key()?.ok_or_else(|| {
                bad("EXTERNAL needs DomainSigningSelector and DomainSigningPrivateKey")
            })?;
            if attributes.next_signing_key_length.is_some() {
                return Err(bad(
                    "NextSigningKeyLength belongs to AWS_SES, not to your own key",
                ));
            }
            self.app
                .identities()
                .set_own_key(org_id, domain, &own)
                .await?;
            return self.dkim_signing_answer(caller, &identity.row.id).await;
        }
        if origin != "AWS_SES" && !origin.starts_with("AWS_SES_") {
            return Err(bad(format!(
                "SigningAttributesOrigin is AWS_SES or EXTERNAL, not {origin:?}"
            )));
        }
        if attributes.domain_signing_private_key.is_some()
            || attributes.domain_signing_selector.is_some()
        {
            return Err(bad(
                "DomainSigningSelector and DomainSigningPrivateKey belong to EXTERNAL",
            ));
        }
        check_key_length(attributes.next_signing_key_length.as_deref())?;
        if self.app.identities().drop_own_key(org_id, domain).await? {
            return self.dkim_signing_answer(caller, &identity.row.id).await;
        }
        match self.app.identities().rotate_domain(org_id, domain).await {
            Ok(_)
            | Err(ServiceError::Conflict {
                code: "rotation_in_progress",
                ..
            }) => {}
            Err(ServiceError::Conflict { message, .. }) => return Err(bad(message)),
            Err(e) => return Err(e),
        }
        self.dkim_signing_answer(caller, &identity.row.id).await
    }

    /// The identity's DKIM after a change of its signing attributes.
    async fn dkim_signing_answer(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<DkimSigningAnswer, ServiceError> {
        let identity = self.app.identities().identity_of(caller.org()?, id).await?;
        let dkim = self.dkim_attributes(&identity).await?;
        Ok(DkimSigningAnswer {
            dkim_status: dkim.status,
            dkim_tokens: dkim.tokens,
        })
    }

    /// `PutEmailIdentityMailFromAttributes`: a new custom MAIL FROM domain
    /// (checked from now on), or without one the default `bounce.<domain>`;
    /// and whether to refuse mail while it is not verified.
    pub async fn put_mail_from_attributes(
        &self,
        caller: &Caller,
        name: &str,
        request: PutMailFrom,
    ) -> Result<(), ServiceError> {
        let identity = self.identity_named(caller, name).await?;
        let behavior = match request.behavior_on_mx_failure.as_deref() {
            None => USE_DEFAULT_VALUE,
            Some(USE_DEFAULT_VALUE) => USE_DEFAULT_VALUE,
            Some(REJECT_MESSAGE) => REJECT_MESSAGE,
            Some(other) => {
                return Err(bad(format!(
                    "BehaviorOnMxFailure is {USE_DEFAULT_VALUE} or {REJECT_MESSAGE}, not {other:?}"
                )));
            }
        };
        let domain = Domain::parse(&identity.row.domain)
            .map_err(|_| ServiceError::corrupt("identity domain"))?;
        let mail_from = crate::identity::requests::mail_from_domain(
            &domain,
            request
                .mail_from_domain
                .as_deref()
                .filter(|d| !d.is_empty()),
        )?;
        let now = self.app.now_ms();
        let store = &self.app.inner.store;
        store
            .set_mail_from(
                &identity.row.org_id,
                &identity.row.id,
                &mail_from,
                behavior,
                Status::Pending.as_str(),
                now,
            )
            .await?;
        if mail_from != identity.row.mail_from_domain {
            store.schedule_check(&identity.row.id, now).await?;
            self.app.checks().wake_checks();
        }
        // SMTP's sender cache forgets within a second.
        Ok(())
    }
}

fn verification_info(check: &IdentityCheckRow) -> VerificationInfo {
    VerificationInfo {
        last_checked_timestamp: check.last_checked_at.map(epoch_seconds),
        last_success_timestamp: check.last_success_at.map(epoch_seconds),
        error_type: check.error_type.clone(),
        soa_record: check.soa_mname.clone().map(|mname| SoaRecord {
            primary_name_server: mname,
            serial_number: check.soa_serial.unwrap_or(0),
        }),
    }
}
