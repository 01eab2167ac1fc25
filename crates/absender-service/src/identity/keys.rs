//! Easy DKIM key pairs: RSA-2048 under random selectors, sealed at rest.

use crate::MasterKey;
use crate::secrets::{new_id, random_string};
use absender_core::selector::{SELECTOR_ALPHABET, SELECTOR_LEN};
use absender_mail::dkim::{NewDkimKey, RsaBits, generate_ed25519_key, generate_rsa_key};
use absender_store::{DkimKeyRow, PlatformKeyRow};

/// Easy DKIM publishes three selectors per (organization, domain).
pub const SELECTORS_PER_DOMAIN: i64 = 3;

/// The size of generated RSA keys.
pub const RSA_BITS: RsaBits = RsaBits::Rsa2048;

/// Generates the key for `slot`: PKCS#8 private key sealed under the master
/// key (bound to its selector), the public key in base64 as DKIM publishes
/// it. CPU-heavy: call from a blocking task.
pub fn generate(
    master: &MasterKey,
    org_id: &str,
    domain: &str,
    slot: i64,
    kind: KeyKind,
    now_ms: i64,
) -> DkimKeyRow {
    let key = new_key(master, kind);
    DkimKeyRow {
        id: new_id("dk"),
        org_id: org_id.to_string(),
        domain: domain.to_string(),
        slot,
        private_key_enc: key.sealed,
        selector: key.selector,
        algorithm: kind.algorithm().to_string(),
        public_key: key.public_key,
        created_at: now_ms,
        signs_from: 0,
    }
}

/// The kinds of key a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    /// RFC 8463; signs beside the RSA key, never instead of it.
    Ed25519,
}

impl KeyKind {
    pub fn of(row: &DkimKeyRow) -> Self {
        if row.algorithm == ED25519 {
            Self::Ed25519
        } else {
            Self::Rsa
        }
    }

    fn generate(self) -> NewDkimKey {
        // aws-lc's generation fails only on an exhausted system.
        match self {
            Self::Rsa => generate_rsa_key(RSA_BITS).expect("RSA key generation"),
            Self::Ed25519 => generate_ed25519_key().expect("Ed25519 key generation"),
        }
    }

    fn algorithm(self) -> &'static str {
        match self {
            Self::Rsa => ALGORITHM,
            Self::Ed25519 => ED25519,
        }
    }
}

/// A new key of `kind` for the slot of `old`, under the same selector (the
/// customer's CNAME keeps pointing at it), signing from `signs_from`.
/// CPU-heavy: call from a blocking task.
pub fn regenerate(
    master: &MasterKey,
    old: &DkimKeyRow,
    kind: KeyKind,
    now_ms: i64,
    signs_from: i64,
) -> DkimKeyRow {
    let key = kind.generate();
    DkimKeyRow {
        id: new_id("dk"),
        private_key_enc: master.seal(&old.selector, &key.pkcs8_der),
        public_key: key.public_key,
        algorithm: kind.algorithm().to_string(),
        created_at: now_ms,
        signs_from,
        ..old.clone()
    }
}

/// A new key of the platform itself for `domain` (d=<platform domain>).
pub fn generate_platform(master: &MasterKey, domain: &str, now_ms: i64) -> PlatformKeyRow {
    let key = new_key(master, KeyKind::Rsa);
    PlatformKeyRow {
        selector: key.selector,
        domain: domain.to_string(),
        algorithm: ALGORITHM.to_string(),
        private_key_enc: key.sealed,
        public_key: key.public_key,
        created_at: now_ms,
    }
}

const ALGORITHM: &str = "rsa-sha256";
const ED25519: &str = "ed25519-sha256";

struct NewKey {
    selector: String,
    sealed: Vec<u8>,
    public_key: String,
}

/// Sealed PKCS#8 private key (bound to its selector) and base64 SPKI public key.
fn new_key(master: &MasterKey, kind: KeyKind) -> NewKey {
    let key = kind.generate();
    let selector = random_string(SELECTOR_ALPHABET, SELECTOR_LEN);
    NewKey {
        sealed: master.seal(&selector, &key.pkcs8_der),
        public_key: key.public_key,
        selector,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use aws_lc_rs::signature::KeyPair as _;
    use base64::Engine;

    #[test]
    fn generated_key_is_rsa_2048_sealed_and_publishable() {
        let master = MasterKey::generate();
        let row = generate(&master, "org_1", "acme.test", 0, KeyKind::Rsa, 5);
        assert!(absender_core::Selector::parse(&row.selector).is_ok());
        let der = master.open(&row.selector, &row.private_key_enc).unwrap();
        let private = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
        assert_eq!(private.public_modulus_len() * 8, 2048);
        let published = base64::engine::general_purpose::STANDARD
            .decode(&row.public_key)
            .unwrap();
        let own: PublicKeyX509Der<'static> = private.public_key().as_der().unwrap();
        assert_eq!(
            published,
            own.as_ref(),
            "the published key is the private key's"
        );
    }

    #[test]
    fn a_regenerated_key_keeps_its_slot_and_selector_and_nothing_else() {
        let master = MasterKey::generate();
        let old = generate(&master, "org_1", "acme.test", 1, KeyKind::Rsa, 5);
        let new = regenerate(&master, &old, KeyKind::Ed25519, 10, 20);
        assert_eq!(KeyKind::of(&new), KeyKind::Ed25519);
        assert_eq!(
            (&new.selector, new.slot, &new.domain, &new.org_id),
            (&old.selector, old.slot, &old.domain, &old.org_id)
        );
        assert_ne!(new.id, old.id);
        assert_ne!(new.public_key, old.public_key);
        assert_eq!((new.created_at, new.signs_from), (10, 20));
        // Sealed under the selector, as every key is.
        assert!(master.open(&new.selector, &new.private_key_enc).is_ok());
    }
}
