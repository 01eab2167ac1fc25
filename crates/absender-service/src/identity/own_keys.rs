//! Bring-your-own DKIM: an organization signs a domain's mail with its own
//! RSA key under its own selector and publishes the public half itself, as
//! a TXT record. The Easy DKIM keys stay behind it, for a switch back. A
//! change starts the DKIM part of every identity of the organization at the
//! domain over: mail is signed with a key only once DNS shows it.

use super::Identities;
use crate::api::{DkimKeyInfo, OwnDkimKey};
use crate::clock::rfc3339;
use crate::identity::keys::RSA_BITS;
use crate::secrets::new_id;
use crate::{Caller, MasterKey, ServiceError};
use absender_core::Status;
use absender_mail::dkim::{ImportError, ImportedKey, import_rsa_key};
use absender_store::{IdentityEventRow, OwnDkimKeyRow};
use base64::Engine;

/// How an organization's mail from a domain is signed.
pub(crate) struct DomainSigning {
    /// With the organization's own key (else Easy DKIM).
    pub own: bool,
    /// Easy DKIM's three selectors, or the own key's one.
    pub selectors: Vec<String>,
    pub bits: u32,
    /// When the newest key was made or given (ms).
    pub created_at: i64,
    /// When a check first saw the own key's TXT record (it signs from then).
    pub verified_at: Option<i64>,
}

impl DomainSigning {
    fn view(self, domain: &str) -> DkimKeyInfo {
        DkimKeyInfo {
            domain: domain.to_string(),
            origin: if self.own { "own" } else { "easy" }.into(),
            selectors: self.selectors,
            bits: self.bits,
            created_at: rfc3339(self.created_at),
            verified_at: self.verified_at.map(rfc3339),
        }
    }
}

/// SES's limit on `DomainSigningPrivateKey`: plenty for a 4096-bit key.
const MAX_KEY_TEXT: usize = 20_480;

/// The label an own key is sealed under: bound to its row, so a sealed key
/// copied to another organization or domain does not open.
pub(crate) fn sealing_label(row: &OwnDkimKeyRow) -> String {
    format!("own-dkim/{}/{}/{}", row.org_id, row.domain, row.selector)
}

/// The private key's DER from base64, with or without PEM armour.
fn der_of(text: &str) -> Result<Vec<u8>, ServiceError> {
    let bad = |message: String| ServiceError::BadRequest {
        code: "invalid_dkim_key",
        message,
    };
    if text.len() > MAX_KEY_TEXT {
        return Err(bad(format!(
            "the private key is longer than {MAX_KEY_TEXT} characters"
        )));
    }
    let body: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| {
            bad("the private key is not base64 (PKCS#1 or PKCS#8 DER, PEM armour allowed)".into())
        })?;
    Ok(der)
}

/// Refuses a selector or key [`own_key_row`] would refuse, storing nothing.
pub(crate) fn check(request: &OwnDkimKey) -> Result<(), ServiceError> {
    parsed(request).map(|_| ())
}

/// The selector and the imported key of `request`.
fn parsed(request: &OwnDkimKey) -> Result<(String, ImportedKey), ServiceError> {
    let selector = absender_core::selector::own_selector(request.selector.trim()).map_err(|e| {
        ServiceError::BadRequest {
            code: "invalid_selector",
            message: e.to_string(),
        }
    })?;
    let imported =
        import_rsa_key(&der_of(&request.private_key)?).map_err(|e| ServiceError::BadRequest {
            code: match e {
                ImportError::NotRsa => "invalid_dkim_key",
                ImportError::TooSmall | ImportError::TooLarge => "dkim_key_size",
            },
            message: e.to_string(),
        })?;
    Ok((selector, imported))
}

/// The own key `request` describes, checked and sealed.
fn own_key_row(
    master: &MasterKey,
    org_id: &str,
    domain: &str,
    request: &OwnDkimKey,
    now_ms: i64,
) -> Result<OwnDkimKeyRow, ServiceError> {
    let (selector, imported) = parsed(request)?;
    // RFC 1035: a name has at most 253 characters.
    if selector.len() + "._domainkey.".len() + domain.len() > 253 {
        return Err(ServiceError::BadRequest {
            code: "invalid_selector",
            message: format!("{selector}._domainkey.{domain} is longer than a DNS name may be"),
        });
    }
    let mut row = OwnDkimKeyRow {
        org_id: org_id.to_string(),
        domain: domain.to_string(),
        selector,
        private_key_enc: Vec::new(),
        public_key: imported.key.public_key,
        bits: imported.bits as i64,
        created_at: now_ms,
        verified_at: None,
    };
    row.private_key_enc = master.seal(&sealing_label(&row), &imported.key.pkcs8_der);
    Ok(row)
}

impl Identities<'_> {
    /// `GET /api/v1/identities/{id}/dkim-key`.
    pub async fn dkim_key(&self, caller: &Caller, id: &str) -> Result<DkimKeyInfo, ServiceError> {
        let org = caller.org()?;
        let identity = self.identity_of(org, id).await?;
        let domain = &identity.row.domain;
        Ok(self.dkim_key_of(&org.id, domain).await?.view(domain))
    }

    /// `PUT /api/v1/identities/{id}/dkim-key`: the organization's own key
    /// signs the identity's domain once its TXT record is verified.
    pub async fn use_own_dkim_key(
        &self,
        caller: &Caller,
        id: &str,
        request: OwnDkimKey,
    ) -> Result<DkimKeyInfo, ServiceError> {
        let org = caller.org()?;
        let identity = self.identity_of(org, id).await?;
        let domain = &identity.row.domain;
        self.set_own_key(&org.id, domain, &request).await?;
        Ok(self.dkim_key_of(&org.id, domain).await?.view(domain))
    }

    /// `DELETE /api/v1/identities/{id}/dkim-key`: back to Easy DKIM.
    pub async fn use_easy_dkim(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<DkimKeyInfo, ServiceError> {
        let org = caller.org()?;
        let identity = self.identity_of(org, id).await?;
        let domain = &identity.row.domain;
        self.drop_own_key(&org.id, domain).await?;
        Ok(self.dkim_key_of(&org.id, domain).await?.view(domain))
    }

    /// How the organization's mail from `domain` is signed.
    pub(crate) async fn dkim_key_of(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<DomainSigning, ServiceError> {
        let store = &self.app.inner.store;
        if let Some(own) = store.own_dkim_key(org_id, domain).await? {
            return Ok(DomainSigning {
                own: true,
                selectors: vec![own.selector],
                bits: u32::try_from(own.bits).unwrap_or(0),
                created_at: own.created_at,
                verified_at: own.verified_at,
            });
        }
        let keys = store.dkim_keys(org_id, domain).await?;
        Ok(DomainSigning {
            own: false,
            bits: RSA_BITS.bits(),
            created_at: keys.iter().map(|k| k.created_at).max().unwrap_or(0),
            verified_at: None,
            selectors: keys.into_iter().map(|k| k.selector).collect(),
        })
    }

    /// Makes `request`'s key the organization's signing key for `domain`.
    pub(crate) async fn set_own_key(
        &self,
        org_id: &str,
        domain: &str,
        request: &OwnDkimKey,
    ) -> Result<(), ServiceError> {
        let now = self.app.now_ms();
        let row = own_key_row(&self.app.inner.master_key, org_id, domain, request, now)?;
        let detail = format!(
            "own DKIM key ({} bits) under selector {}",
            row.bits, row.selector
        );
        self.restart_dkim(org_id, domain, Some(&row), &detail)
            .await?;
        tracing::info!(%org_id, %domain, selector = %row.selector, "own DKIM key set");
        Ok(())
    }

    /// Back to Easy DKIM for `domain`; whether an own key was in use.
    pub(crate) async fn drop_own_key(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<bool, ServiceError> {
        if self
            .app
            .inner
            .store
            .own_dkim_key(org_id, domain)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        self.restart_dkim(org_id, domain, None, "back to Easy DKIM")
            .await?;
        tracing::info!(%org_id, %domain, "own DKIM key dropped");
        Ok(true)
    }

    /// Stores the signing key change and starts DKIM over for the
    /// organization's identities at `domain`, then checks at once.
    async fn restart_dkim(
        &self,
        org_id: &str,
        domain: &str,
        key: Option<&OwnDkimKeyRow>,
        detail: &str,
    ) -> Result<(), ServiceError> {
        let now = self.app.now_ms();
        let store = &self.app.inner.store;
        let pending = Status::Pending.as_str();
        let events: Vec<IdentityEventRow> = store
            .list_identities(org_id)
            .await?
            .into_iter()
            .filter(|row| row.domain == domain && row.dkim_status != pending)
            .map(|row| IdentityEventRow {
                id: new_id("evt"),
                identity_id: row.id,
                org_id: org_id.to_string(),
                part: "dkim".into(),
                from_status: row.dkim_status,
                to_status: pending.into(),
                detail: detail.to_string(),
                created_at: now,
            })
            .collect();
        store
            .set_own_dkim_key(org_id, domain, key, pending, now, &events)
            .await?;
        self.app.inner.signing_keys.forget(org_id, domain);
        self.app.checks().wake_checks();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use absender_mail::dkim::{RsaBits, generate_rsa_key};

    fn request(selector: &str, private_key: &str) -> OwnDkimKey {
        OwnDkimKey {
            selector: selector.into(),
            private_key: private_key.into(),
        }
    }

    fn code(result: Result<OwnDkimKeyRow, ServiceError>) -> &'static str {
        match result {
            Err(ServiceError::BadRequest { code, .. }) => code,
            other => panic!("not refused: {:?}", other.map(|r| r.selector)),
        }
    }

    #[test]
    fn an_own_key_is_checked_sealed_to_its_row_and_read_from_pem() {
        let master = MasterKey::generate();
        let key = generate_rsa_key(RsaBits::Rsa2048).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&key.pkcs8_der);
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----\n",
            &b64[..64],
            &b64[64..]
        );
        let row = own_key_row(&master, "org_1", "acme.test", &request(" S1 ", &pem), 7).unwrap();
        assert_eq!((row.selector.as_str(), row.bits), ("s1", 2048));
        assert_eq!(row.public_key, key.public_key);
        assert_eq!(
            master
                .open(&sealing_label(&row), &row.private_key_enc)
                .unwrap(),
            key.pkcs8_der
        );
        let elsewhere = OwnDkimKeyRow {
            org_id: "org_2".into(),
            ..row.clone()
        };
        assert!(
            master
                .open(&sealing_label(&elsewhere), &row.private_key_enc)
                .is_err()
        );

        let own = |selector: &str, key: &str| {
            own_key_row(&master, "o", "d.test", &request(selector, key), 0)
        };
        assert_eq!(code(own("s 1", &b64)), "invalid_selector");
        assert_eq!(code(own("s1", "not base64!")), "invalid_dkim_key");
        assert_eq!(code(own("s1", "AAAA")), "invalid_dkim_key");
        assert_eq!(
            code(own("s1", &"A".repeat(MAX_KEY_TEXT + 4))),
            "invalid_dkim_key"
        );
    }
}
