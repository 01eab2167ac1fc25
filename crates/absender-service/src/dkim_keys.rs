//! Easy DKIM key pairs: RSA-2048 under random selectors, sealed at rest.

use crate::MasterKey;
use crate::secrets::{new_id, random_string};
use absender_core::selector::{SELECTOR_ALPHABET, SELECTOR_LEN};
use absender_store::{DkimKeyRow, PlatformKeyRow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::rngs::OsRng;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};

/// Easy DKIM publishes three selectors per (organization, domain).
pub const SELECTORS_PER_DOMAIN: i64 = 3;

/// Bits of generated RSA keys.
pub const RSA_BITS: usize = 2048;

/// Generates the key for `slot`: PKCS#8 private key sealed under the master
/// key (bound to its selector), SubjectPublicKeyInfo public key in base64 as DKIM
/// publishes it. CPU-heavy: call from a blocking task.
pub fn generate(
    master: &MasterKey,
    org_id: &str,
    domain: &str,
    slot: i64,
    now_ms: i64,
) -> DkimKeyRow {
    let key = new_key(master);
    DkimKeyRow {
        id: new_id("dk"),
        org_id: org_id.to_string(),
        domain: domain.to_string(),
        slot,
        private_key_enc: key.sealed,
        selector: key.selector,
        algorithm: ALGORITHM.to_string(),
        public_key: key.public_key,
        created_at: now_ms,
    }
}

/// A new key of the platform itself for `domain` (d=<platform domain>).
pub fn generate_platform(master: &MasterKey, domain: &str, now_ms: i64) -> PlatformKeyRow {
    let key = new_key(master);
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

struct NewKey {
    selector: String,
    sealed: Vec<u8>,
    public_key: String,
}

/// Sealed PKCS#8 private key (bound to its selector) and base64 SPKI public key.
fn new_key(master: &MasterKey) -> NewKey {
    let private = RsaPrivateKey::new(&mut OsRng, RSA_BITS).expect("RSA key generation");
    let pkcs8 = private.to_pkcs8_der().expect("PKCS#8 encoding");
    let spki = private
        .to_public_key()
        .to_public_key_der()
        .expect("SPKI encoding");
    let selector = random_string(SELECTOR_ALPHABET, SELECTOR_LEN);
    NewKey {
        sealed: master.seal(&selector, pkcs8.as_bytes()),
        public_key: STANDARD.encode(spki.as_bytes()),
        selector,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
    use rsa::traits::PublicKeyParts;

    #[test]
    fn generated_key_is_rsa_2048_sealed_and_publishable() {
        let master = MasterKey::generate();
        let row = generate(&master, "org_1", "acme.test", 0, 5);
        assert!(absender_core::Selector::parse(&row.selector).is_ok());
        let der = master.open(&row.selector, &row.private_key_enc).unwrap();
        let private = RsaPrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(private.size() * 8, RSA_BITS);
        let public =
            rsa::RsaPublicKey::from_public_key_der(&STANDARD.decode(&row.public_key).unwrap())
                .unwrap();
        assert_eq!(public, private.to_public_key());
    }
}
