//! Sender identities: requested by an organization, verified by the address
//! owner and (later) by DNS checks, withdrawn on delete.

use super::Identities;
use crate::api::Diagnostic;
use crate::api::{
    AddressPart, AdvicePart, DnsPart, DnsRecord, DnsRecords, Identity, Parts, RequestIdentity, Soa,
};
use crate::clock::rfc3339;
use crate::identity::keys::{self, SELECTORS_PER_DOMAIN};
use crate::secrets::new_id;
use crate::{Caller, ServiceError};
use absender_core::finding::Finding;
use absender_core::freemail::is_freemail;
use absender_core::records::{DkimKeys, required_records};
use absender_core::sender::{SenderIdentity, Verifies};
use absender_core::{
    Category, Domain, EmailAddress, IdentityKind, IdentityParts, Locale, RecordPurpose, Scope,
    Selector, Status,
};
use absender_store::{IdentityCheckRow, IdentityRow, NewIdentity, OrgRow};
use std::collections::HashMap;

pub(crate) struct LoadedIdentity {
    pub row: IdentityRow,
    /// The address or domain it verifies.
    pub name: Name,
    pub scope: Scope,
    pub parts: IdentityParts,
    /// The optional custom MAIL FROM part.
    pub mail_from: Status,
}

/// SES's `BehaviorOnMxFailure` values.
pub(crate) const USE_DEFAULT_VALUE: &str = "USE_DEFAULT_VALUE";
pub(crate) const REJECT_MESSAGE: &str = "REJECT_MESSAGE";

impl LoadedIdentity {
    /// The envelope sender's domain for mail from this identity: its
    /// custom MAIL FROM domain once verified; until then the platform's
    /// return path (`None`), or a refusal if the organization asked for
    /// one (SES's `REJECT_MESSAGE`).
    pub fn envelope_domain(&self) -> Result<Option<&str>, ServiceError> {
        if self.mail_from == Status::Success {
            Ok(Some(&self.row.mail_from_domain))
        } else if self.row.mail_from_behavior == REJECT_MESSAGE {
            Err(ServiceError::Denied {
                code: "mail_from_not_verified",
                message: format!(
                    "the MAIL FROM domain {} of {} is {}, and the identity refuses mail until it is verified",
                    self.row.mail_from_domain,
                    self.row.address,
                    self.mail_from.as_str()
                ),
            })
        } else {
            Ok(None)
        }
    }

    /// The identity as the sender rule sees it.
    pub fn sender_identity(&self) -> SenderIdentity<'_> {
        SenderIdentity {
            id: &self.row.id,
            verifies: self.name.verifies(),
            scope: self.scope,
            status: self.parts.overall(),
        }
    }
}

/// What an identity verifies, parsed.
pub(crate) enum Name {
    Address(EmailAddress),
    Domain(Domain),
}

impl Name {
    pub fn kind(&self) -> IdentityKind {
        match self {
            Self::Address(_) => IdentityKind::Address,
            Self::Domain(_) => IdentityKind::Domain,
        }
    }

    /// As the sender rule sees it.
    pub fn verifies(&self) -> Verifies<'_> {
        match self {
            Self::Address(address) => Verifies::Address(address),
            Self::Domain(domain) => Verifies::Domain(domain),
        }
    }
}

/// The address part's status; `None` for a domain identity.
pub(crate) fn address_part(row: &IdentityRow) -> Result<Option<Status>, ServiceError> {
    if row.kind == IdentityKind::Domain.as_str() {
        return Ok(None);
    }
    Status::parse(&row.address_status)
        .map(Some)
        .ok_or_else(|| ServiceError::corrupt("identity status"))
}

pub(crate) fn load(row: IdentityRow) -> Result<LoadedIdentity, ServiceError> {
    let status = |s: &str| Status::parse(s).ok_or_else(|| ServiceError::corrupt("identity status"));
    let name = match IdentityKind::parse(&row.kind) {
        Some(IdentityKind::Address) => Name::Address(
            EmailAddress::parse(&row.address)
                .map_err(|_| ServiceError::corrupt("identity address"))?,
        ),
        Some(IdentityKind::Domain) => Name::Domain(
            Domain::parse(&row.address).map_err(|_| ServiceError::corrupt("identity domain"))?,
        ),
        None => return Err(ServiceError::corrupt("identity kind")),
    };
    let parts = IdentityParts {
        address: address_part(&row)?,
        dkim: status(&row.dkim_status)?,
        spf: status(&row.spf_status)?,
    };
    let scope = Scope::parse(&row.scope).ok_or_else(|| ServiceError::corrupt("identity scope"))?;
    let mail_from = status(&row.mail_from_status)?;
    Ok(LoadedIdentity {
        row,
        name,
        scope,
        parts,
        mail_from,
    })
}

/// A part's findings as stored: a JSON array of codes with their parameters.
pub(crate) fn stored(findings: &[Finding]) -> String {
    serde_json::to_string(findings).expect("findings serialize")
}

/// The findings stored with a part's check. Rows written before findings
/// were data hold words (`{"de": […], "en": […]}`, or one list in the
/// organization's language); they are rebuilt from the English words.
pub(crate) fn findings_in(stored: &str) -> Vec<Finding> {
    if let Ok(findings) = serde_json::from_str::<Vec<Finding>>(stored) {
        return findings;
    }
    #[derive(serde::Deserialize)]
    struct Worded {
        code: String,
        message: String,
        record: Option<String>,
    }
    let worded = match serde_json::from_str::<HashMap<String, Vec<Worded>>>(stored) {
        Ok(mut by_locale) => by_locale.remove("en").unwrap_or_default(),
        Err(_) => serde_json::from_str(stored).unwrap_or_default(),
    };
    worded
        .iter()
        .filter_map(|w| Finding::from_words(&w.code, w.record.as_deref(), &w.message))
        .collect()
}

impl Identities<'_> {
    /// Rewrites stored findings that an older absender wrote as words into
    /// codes and parameters; rows already data are left as they are. Runs at
    /// start until it has run through once; returns how many rows it rewrote.
    pub async fn upgrade_stored_findings(&self) -> Result<u64, ServiceError> {
        const DONE: &str = "findings_are_data";
        if self.app.inner.store.setting(DONE).await?.is_some() {
            return Ok(0);
        }
        let rewritten = self.rewrite_worded_findings().await?;
        // A node of an older version may still write words; they are read
        // as they are (`findings_in`) and rewritten by the next check.
        self.app
            .inner
            .store
            .insert_setting_if_absent(DONE, "1")
            .await?;
        Ok(rewritten)
    }

    /// The rewrite itself, whether or not it ran before (idempotent).
    pub async fn rewrite_worded_findings(&self) -> Result<u64, ServiceError> {
        let store = &self.app.inner.store;
        let mut after = (String::new(), String::new());
        let mut rewritten = 0;
        loop {
            let rows = store.worded_findings((&after.0, &after.1), 500).await?;
            let Some(last) = rows.last() else {
                return Ok(rewritten);
            };
            after = (last.0.clone(), last.1.clone());
            for (identity_id, part, read) in &rows {
                if serde_json::from_str::<Vec<Finding>>(read).is_ok() {
                    continue;
                }
                let findings = stored(&findings_in(read));
                store
                    .replace_findings(identity_id, part, read, &findings)
                    .await?;
                rewritten += 1;
            }
        }
    }
}

/// `findings` in words of `locale`.
fn described(findings: Vec<Finding>, locale: Locale) -> Vec<Diagnostic> {
    findings
        .into_iter()
        .map(|f| Diagnostic::new(f, locale))
        .collect()
}

/// The organization's language, for views that name no other.
fn org_locale(org: &OrgRow) -> Locale {
    Locale::parse(&org.locale).unwrap_or_default()
}

fn dns_part(status: Status, check: Option<&IdentityCheckRow>, locale: Locale) -> DnsPart {
    DnsPart {
        status,
        // Findings of the last check, shown while the part is not verified.
        diagnostics: check
            .filter(|_| status != Status::Success)
            .map(|c| described(findings_in(&c.diagnostics), locale))
            .unwrap_or_default(),
        error_type: check
            .filter(|_| status != Status::Success)
            .and_then(|c| c.error_type.clone()),
        last_checked_at: check.and_then(|c| c.last_checked_at).map(rfc3339),
        last_success_at: check.and_then(|c| c.last_success_at).map(rfc3339),
        soa: check.and_then(|c| {
            Some(Soa {
                zone: c.soa_zone.clone()?,
                primary_ns: c.soa_mname.clone()?,
                serial: u32::try_from(c.soa_serial?).ok()?,
            })
        }),
    }
}

pub(crate) fn identity_view(
    identity: &LoadedIdentity,
    checks: &[IdentityCheckRow],
    locale: Locale,
) -> Identity {
    let LoadedIdentity {
        row,
        name,
        scope,
        parts,
        mail_from,
    } = identity;
    let check = |part: &str| checks.iter().find(|c| c.part == part);
    let domain_unicode = Domain::parse(&row.domain)
        .map(|d| d.to_unicode())
        .unwrap_or_else(|_| row.domain.clone());
    Identity {
        id: row.id.clone(),
        org_id: row.org_id.clone(),
        kind: name.kind(),
        address: name.verifies().address().map(|a| a.to_string()),
        domain: row.domain.clone(),
        domain_unicode,
        mail_from_domain: row.mail_from_domain.clone(),
        scope: *scope,
        status: parts.overall(),
        parts: Parts {
            address: parts.address.map(|status| AddressPart { status }),
            dkim: dns_part(parts.dkim, check("dkim"), locale),
            spf: dns_part(parts.spf, check("spf"), locale),
            mail_from: dns_part(*mail_from, check("mail_from"), locale),
            dmarc: AdvicePart {
                diagnostics: check("dmarc")
                    .map(|c| described(findings_in(&c.diagnostics), locale))
                    .unwrap_or_default(),
            },
        },
        categories: Category::ALL
            .into_iter()
            .filter(|c| scope.allows(*c))
            .collect(),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        next_check_at: row.next_check_at.map(rfc3339),
    }
}

/// What a request asks to verify, and the scope it asks for.
fn wanted(request: &RequestIdentity) -> Result<(Name, Scope), ServiceError> {
    let kind = match (request.kind, &request.address, &request.domain) {
        (Some(kind), _, _) => kind,
        (None, Some(_), None) => IdentityKind::Address,
        (None, None, Some(_)) => IdentityKind::Domain,
        (None, None, None) => {
            return Err(ServiceError::Invalid {
                field: "address",
                message: "name the address (or, for a domain identity, the domain)".into(),
            });
        }
        (None, Some(_), Some(_)) => {
            return Err(ServiceError::Invalid {
                field: "domain",
                message: "give an address or a domain, not both".into(),
            });
        }
    };
    match kind {
        IdentityKind::Address => {
            if request.domain.is_some() {
                return Err(ServiceError::Invalid {
                    field: "domain",
                    message: "an address identity takes its domain from the address".into(),
                });
            }
            let given = request.address.as_deref().ok_or(ServiceError::Invalid {
                field: "address",
                message: "an address identity needs its address".into(),
            })?;
            let address =
                EmailAddress::parse(given).map_err(|source| ServiceError::InvalidAddress {
                    field: "address",
                    source,
                })?;
            let scope = request.scope.ok_or(ServiceError::Invalid {
                field: "scope",
                message: "say which mail the address may send: \"recipients\" or \"all\"".into(),
            })?;
            Ok((Name::Address(address), scope))
        }
        IdentityKind::Domain => {
            if request.address.is_some() {
                return Err(ServiceError::Invalid {
                    field: "address",
                    message: "a domain identity has no address; give the domain alone".into(),
                });
            }
            if request.scope.is_some_and(|s| s != Scope::All) {
                return Err(ServiceError::Invalid {
                    field: "scope",
                    message: "a domain identity's scope is \"all\"".into(),
                });
            }
            let given = request.domain.as_deref().ok_or(ServiceError::Invalid {
                field: "domain",
                message: "a domain identity needs its domain".into(),
            })?;
            let domain = Domain::parse(given).map_err(|source| ServiceError::InvalidAddress {
                field: "domain",
                source,
            })?;
            Ok((Name::Domain(domain), Scope::All))
        }
    }
}

/// The custom MAIL FROM domain: as given (a subdomain of `domain`), or
/// `bounce.<domain>`.
pub(crate) fn mail_from_domain(
    domain: &Domain,
    given: Option<&str>,
) -> Result<String, ServiceError> {
    let Some(given) = given else {
        return Ok(format!("bounce.{domain}"));
    };
    let parsed = Domain::parse(given).map_err(|source| ServiceError::InvalidAddress {
        field: "mail_from_domain",
        source,
    })?;
    if parsed == *domain || !parsed.is_within(domain) {
        return Err(ServiceError::Invalid {
            field: "mail_from_domain",
            message: format!("must be a subdomain of {domain}, such as bounce.{domain}"),
        });
    }
    Ok(parsed.to_string())
}

/// The views of `rows`, each with its own of `checks`, findings in `locale`.
fn views(
    rows: Vec<IdentityRow>,
    checks: Vec<IdentityCheckRow>,
    locale: Locale,
) -> Result<Vec<Identity>, ServiceError> {
    let mut by_identity: HashMap<String, Vec<IdentityCheckRow>> = HashMap::new();
    for check in checks {
        by_identity
            .entry(check.identity_id.clone())
            .or_default()
            .push(check);
    }
    rows.into_iter()
        .map(|row| {
            let checks = by_identity.remove(&row.id).unwrap_or_default();
            Ok(identity_view(&load(row)?, &checks, locale))
        })
        .collect()
}

/// The seed's CSV: a header line, then one fully quoted row per record.
pub fn records_csv(records: &DnsRecords) -> String {
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(["Record name", "Record type", "Record Value"])
        .expect("writing to memory");
    for r in &records.records {
        writer
            .write_record([&r.name, &r.record_type, &r.value])
            .expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("flushing to memory"))
        .expect("UTF-8 in, UTF-8 out")
}

impl Identities<'_> {
    pub(crate) async fn identity_of(
        &self,
        org: &OrgRow,
        id: &str,
    ) -> Result<LoadedIdentity, ServiceError> {
        let row = self
            .app
            .inner
            .store
            .identity(&org.id, id)
            .await?
            .ok_or(ServiceError::NotFound("identity"))?;
        load(row)
    }

    async fn view(
        &self,
        identity: &LoadedIdentity,
        locale: Locale,
    ) -> Result<Identity, ServiceError> {
        let checks = self
            .app
            .inner
            .store
            .identity_checks(&identity.row.id)
            .await?;
        Ok(identity_view(identity, &checks, locale))
    }

    /// Requests a sender identity: stores it, makes sure the domain has its
    /// DKIM keys, mails the verification link to an address, and checks
    /// the DNS at once.
    pub async fn request_identity(
        &self,
        caller: &Caller,
        request: RequestIdentity,
    ) -> Result<Identity, ServiceError> {
        let id = self.request_tagged(caller, request, "[]").await?;
        self.get_identity(caller, &id).await
    }

    /// [`Self::request_identity`] with SES's tags (a JSON array); the new id.
    pub(crate) async fn request_tagged(
        &self,
        caller: &Caller,
        request: RequestIdentity,
        tags: &str,
    ) -> Result<String, ServiceError> {
        let org = caller.org()?;
        if !org.custom_sender_enabled {
            return Err(ServiceError::UpgradeRequired {
                contact: self.app.inner.settings.platform.upgrade_contact.clone(),
            });
        }
        let (name, scope) = wanted(&request)?;
        let domain = match &name {
            Name::Address(address) => address.domain().clone(),
            Name::Domain(domain) => domain.clone(),
        };
        if is_freemail(domain.as_str()) {
            return Err(ServiceError::Refused {
                code: "freemail_domain",
                message: format!(
                    "{domain} belongs to a free mail provider; nobody but the provider can publish DNS records for it. Use your own domain."
                ),
            });
        }
        if let Some(platform) = self.platform_domain_of(&domain) {
            return Err(ServiceError::Refused {
                code: "platform_domain",
                message: format!(
                    "{domain} belongs to the platform ({platform}); only the operator's mail comes from it"
                ),
            });
        }
        let mail_from = mail_from_domain(&domain, request.mail_from_domain.as_deref())?;
        self.check_identity_request(&org.id, name.verifies().address())
            .await?;
        let named = name.verifies().to_string();
        // One identity per mailbox: the local part's case makes no other.
        if let Name::Address(address) = &name {
            let rows = self.app.inner.store.list_identities(&org.id).await?;
            if rows.iter().any(|r| {
                r.kind == IdentityKind::Address.as_str()
                    && EmailAddress::parse(&r.address)
                        .is_ok_and(|held| Verifies::Address(&held).covers(address))
            }) {
                return Err(ServiceError::Conflict {
                    code: "identity_exists",
                    message: format!("{named} is already a sender identity of this organization"),
                });
            }
        }
        let parts = IdentityParts::requested(name.kind());
        let row = self
            .app
            .inner
            .store
            .insert_identity(&NewIdentity {
                id: new_id("idn"),
                org_id: org.id.clone(),
                address: named.clone(),
                domain: domain.to_string(),
                scope: scope.as_str().to_string(),
                kind: name.kind().as_str().to_string(),
                tags: tags.to_string(),
                // A domain's address part is never used (`load`).
                address_status: parts
                    .address
                    .unwrap_or(Status::NotStarted)
                    .as_str()
                    .to_string(),
                dkim_status: parts.dkim.as_str().to_string(),
                spf_status: parts.spf.as_str().to_string(),
                created_at: self.app.now_ms(),
                mail_from_domain: mail_from,
                mail_from_status: Status::Pending.as_str().to_string(),
            })
            .await
            .map_err(ServiceError::exists("identity_exists", || {
                format!("{named} is already a sender identity of this organization")
            }))?;
        let ed25519 = request.dkim_ed25519.unwrap_or(false);
        if let Err(err) = self
            .ensure_dkim_keys(&org.id, domain.as_str(), ed25519)
            .await
        {
            self.app
                .inner
                .store
                .delete_identity(&org.id, &row.id)
                .await?;
            // Keys revived for this request go back to rest.
            self.retire_unused_keys(&org.id, domain.as_str()).await?;
            return Err(err);
        }
        self.count_identity_request(&org.id).await?;
        tracing::info!(org_id = %org.id, identity_id = %row.id, %domain, kind = name.kind().as_str(), "identity requested");
        if let Name::Address(_) = name {
            self.send_verification(org, &row).await?;
        }
        // The first DNS check runs at once, now that the keys exist.
        self.app
            .inner
            .store
            .schedule_check(&row.id, self.app.now_ms())
            .await?;
        self.app.checks().wake_checks();
        Ok(row.id)
    }

    /// The platform's own domain (its domain, key zone, SPF domain or bounce
    /// host) that `domain` is or lies within, if any: no organization's
    /// identity may claim it.
    fn platform_domain_of(&self, domain: &Domain) -> Option<String> {
        let platform = &self.app.inner.settings.platform;
        [
            &platform.domain,
            &platform.dkim_zone,
            &platform.spf_domain,
            &platform.bounce_host,
        ]
        .into_iter()
        .filter_map(|name| Domain::parse(name).ok())
        .find(|own| domain.is_within(own))
        .map(|own| own.to_string())
    }

    /// Makes sure the domain has its three keys (with `ed25519`, one of them
    /// an Ed25519 key: a new domain's third slot, an existing domain's slot
    /// that may give up its RSA key now).
    async fn ensure_dkim_keys(
        &self,
        org_id: &str,
        domain: &str,
        ed25519: bool,
    ) -> Result<(), ServiceError> {
        // Keys retired with an earlier identity of the domain serve again.
        self.app
            .inner
            .store
            .revive_dkim_keys(org_id, domain)
            .await?;
        let existing = self.app.inner.store.dkim_keys(org_id, domain).await?;
        let missing: Vec<i64> = (0..SELECTORS_PER_DOMAIN)
            .filter(|slot| !existing.iter().any(|k| k.slot == *slot))
            .collect();
        if missing.is_empty() {
            return self.ensure_ed25519(org_id, domain, ed25519).await;
        }
        // Off the async workers, and only a few at once: a flood of new
        // domains waits here instead of taking every thread.
        let permit = self
            .app
            .inner
            .key_generation
            .acquire()
            .await
            .map_err(|_| ServiceError::Internal("key generation closed".into()))?;
        let app = self.app.clone();
        let (owner, name) = (org_id.to_string(), domain.to_string());
        let now = self.app.now_ms();
        let keys = tokio::task::spawn_blocking(move || {
            missing
                .into_iter()
                .map(|slot| {
                    let kind = if ed25519 && slot == SELECTORS_PER_DOMAIN - 1 {
                        keys::KeyKind::Ed25519
                    } else {
                        keys::KeyKind::Rsa
                    };
                    keys::generate(&app.inner.master_key, &owner, &name, slot, kind, now)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("key generation failed: {e}")))?;
        self.app
            .inner
            .store
            .insert_dkim_keys_if_absent(&keys)
            .await?;
        // The rotation takes a generation slot of its own.
        drop(permit);
        self.ensure_ed25519(org_id, domain, ed25519).await
    }

    /// With `ed25519`, an Ed25519 key in one of the domain's slots.
    async fn ensure_ed25519(
        &self,
        org_id: &str,
        domain: &str,
        ed25519: bool,
    ) -> Result<(), ServiceError> {
        if ed25519 {
            self.add_ed25519(org_id, domain).await?;
        }
        Ok(())
    }

    /// The organization's identities.
    pub async fn list_identities(&self, caller: &Caller) -> Result<Vec<Identity>, ServiceError> {
        self.list_identities_in(caller, org_locale(caller.org()?))
            .await
    }

    /// [`Self::list_identities`] with the findings in `locale` (a page's language).
    pub async fn list_identities_in(
        &self,
        caller: &Caller,
        locale: Locale,
    ) -> Result<Vec<Identity>, ServiceError> {
        let org = caller.org()?;
        let store = &self.app.inner.store;
        let rows = store.list_identities(&org.id).await?;
        views(rows, store.org_identity_checks(&org.id).await?, locale)
    }

    /// Every organization's identities, by organization (operator only).
    pub async fn all_identities(
        &self,
        caller: &Caller,
        locale: Locale,
    ) -> Result<Vec<Identity>, ServiceError> {
        caller.require_operator()?;
        let store = &self.app.inner.store;
        views(
            store.all_identities().await?,
            store.all_identity_checks().await?,
            locale,
        )
    }

    /// One identity of the organization.
    pub async fn get_identity(&self, caller: &Caller, id: &str) -> Result<Identity, ServiceError> {
        self.get_identity_in(caller, id, org_locale(caller.org()?))
            .await
    }

    /// [`Self::get_identity`] with the findings in `locale` (a page's language).
    pub async fn get_identity_in(
        &self,
        caller: &Caller,
        id: &str,
        locale: Locale,
    ) -> Result<Identity, ServiceError> {
        self.view(&self.identity_of(caller.org()?, id).await?, locale)
            .await
    }

    /// Deletes an identity at once; the domain's keys are retired when no
    /// identity of the organization uses the domain any more (published until
    /// the mail signed with them has left, see the retention sweep).
    pub async fn delete_identity(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        let org = caller.org()?;
        let identity = self.identity_of(org, id).await?;
        if !self.app.inner.store.delete_identity(&org.id, id).await? {
            return Err(ServiceError::NotFound("identity"));
        }
        self.retire_unused_keys(&org.id, &identity.row.domain)
            .await?;
        tracing::info!(org_id = %org.id, identity_id = %id, "identity deleted");
        Ok(())
    }

    /// Retires the domain's keys when no identity of the organization uses
    /// the domain any more: still published while queued mail signed with
    /// them waits.
    async fn retire_unused_keys(&self, org_id: &str, domain: &str) -> Result<(), ServiceError> {
        let store = &self.app.inner.store;
        if store.count_identities_for_domain(org_id, domain).await? == 0 {
            let retired = store
                .retire_dkim_keys(org_id, domain, self.app.now_ms())
                .await?;
            // The organization publishes its own key itself: nothing to keep.
            let own_dropped = store.delete_own_dkim_key(org_id, domain).await?;
            self.app.inner.signing_keys.forget(org_id, domain);
            tracing::info!(%org_id, %domain, retired, own_dropped, "DKIM keys retired");
        }
        Ok(())
    }

    /// The records the organization must publish, each with its part's status.
    pub async fn dns_records(&self, caller: &Caller, id: &str) -> Result<DnsRecords, ServiceError> {
        let org = caller.org()?;
        let identity = self.identity_of(org, id).await?;
        let store = &self.app.inner.store;
        let own = store.own_dkim_key(&org.id, &identity.row.domain).await?;
        let selectors = store
            .dkim_keys(&org.id, &identity.row.domain)
            .await?
            .iter()
            .map(|k| Selector::parse(&k.selector).map_err(|_| ServiceError::corrupt("selector")))
            .collect::<Result<Vec<_>, _>>()?;
        let dkim = match &own {
            Some(own) => DkimKeys::Own {
                selector: &own.selector,
                public_key: &own.public_key,
            },
            None => DkimKeys::Easy(&selectors),
        };
        let domain = Domain::parse(&identity.row.domain)
            .map_err(|_| ServiceError::corrupt("identity domain"))?;
        let records = required_records(
            &domain,
            dkim,
            &self.app.inner.platform_dns,
            &identity.row.mail_from_domain,
        )
        .into_iter()
        .map(|r| DnsRecord {
            status: match r.purpose {
                RecordPurpose::Dkim => identity.parts.dkim,
                RecordPurpose::Spf => identity.parts.spf,
                RecordPurpose::MailFrom => identity.mail_from,
            },
            purpose: match r.purpose {
                RecordPurpose::Dkim => "dkim",
                RecordPurpose::Spf => "spf",
                RecordPurpose::MailFrom => "mail_from",
            }
            .to_string(),
            name: r.name,
            record_type: r.record_type.as_str().to_string(),
            value: r.value,
        })
        .collect();
        Ok(DnsRecords { records })
    }

    /// Sends a new verification link; older links stop working. Rate limited.
    pub async fn resend_verification(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Identity, ServiceError> {
        let org = caller.org()?;
        let identity = self.identity_of(org, id).await?;
        let (Name::Address(address), Some(confirmed)) = (&identity.name, identity.parts.address)
        else {
            return Err(ServiceError::Conflict {
                code: "no_address",
                message: format!(
                    "{} is a domain identity: it has no address to confirm",
                    identity.row.address
                ),
            });
        };
        if confirmed == Status::Success {
            return Err(ServiceError::Conflict {
                code: "already_verified",
                message: format!("{address} is already confirmed"),
            });
        }
        if !confirmed.can_become(Status::Success) {
            return Err(ServiceError::Conflict {
                code: "verification_failed",
                message: "the address verification has failed; restart the identity first".into(),
            });
        }
        let now = self.app.now_ms();
        let previous = self
            .app
            .inner
            .store
            .token_send_times(id, now - 24 * 60 * 60 * 1000)
            .await?;
        self.app
            .inner
            .resend_policy
            .check(&previous, now)
            .map_err(|retry_after| ServiceError::RateLimited {
                retry_after,
                what: "too many verification mails for this identity".into(),
            })?;
        self.check_verification_mail(address).await?;
        self.send_verification(org, &identity.row).await?;
        self.view(&identity, org_locale(org)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use absender_core::RecordType;
    use absender_core::finding::Fix;

    #[test]
    fn findings_are_stored_as_data_and_rows_of_words_are_rebuilt() {
        let missing = Finding::RecordMissing {
            fix: Fix::new("s1._domainkey.acme.test", RecordType::Cname, "s1.dkim.x"),
        };
        let missing = vec![missing];
        assert_eq!(findings_in(&stored(&missing)), missing);
        let worded = |message: &str| {
            serde_json::json!({
                "code": "record_missing",
                "message": message,
                "record": "s1._domainkey.acme.test CNAME s1.dkim.x",
            })
        };
        // Stored in every language by the last absender: read from the English.
        let by_locale = serde_json::json!({"de": [worded("fehlt")], "en": [worded("missing")]});
        assert_eq!(findings_in(&by_locale.to_string()), missing);
        // Stored once in the organization's language by an older one.
        let old = serde_json::json!([worded("fehlt")]).to_string();
        assert_eq!(findings_in(&old), missing);
        assert!(findings_in("not json").is_empty());
        assert!(findings_in("[]").is_empty());
    }
}
