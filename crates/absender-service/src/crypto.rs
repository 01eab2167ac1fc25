//! Encryption at rest of DKIM private keys under the operator's master key
//! (XChaCha20-Poly1305; the random 192-bit nonce needs no counter).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox};

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// The 256-bit key that encrypts private keys. Never logged or shown.
pub struct MasterKey(SecretBox<[u8; 32]>);

/// Why a master key or a sealed value was refused.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The master key text is not 32 bytes in base64 or hex.
    #[error("the master key must be 32 bytes, written as base64 or 64 hex digits")]
    BadMasterKey,
    /// The ciphertext is damaged, or was sealed under another key or label.
    #[error("a sealed value could not be opened: wrong master key or damaged data")]
    Open,
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        Self(SecretBox::new(Box::new(key.into())))
    }

    /// Parses base64 (standard or URL-safe) or hex.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| STANDARD.decode(text).ok())
            .or_else(|| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok())
            .ok_or(CryptoError::BadMasterKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// The base64 form, for writing the key file once.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.expose_secret())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose_secret().into())
    }

    /// Encrypts `plaintext`, bound to `label` (e.g. the selector) so that a
    /// sealed key cannot be moved to another row unnoticed.
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: label.as_bytes(),
                },
            )
            .expect("encryption into memory cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// A MAC of `data` under a key derived from this one for `purpose`, so
    /// that links can carry tokens absender can check without storing them.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut derive = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes any key length");
        derive.update(purpose.as_bytes());
        let subkey = derive.finalize().into_bytes();
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&subkey)
            .expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Decrypts what [`seal`](Self::seal) produced under the same label.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let rest = sealed.strip_prefix(&[FORMAT_V1]).ok_or(CryptoError::Open)?;
        if rest.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Open)?;
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Open)
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_only_with_the_same_key_and_label() {
        let key = MasterKey::generate();
        let sealed = key.seal("sel1", b"private key");
        assert!(
            !sealed.windows(11).any(|w| w == b"private key"),
            "plaintext not visible"
        );
        assert_eq!(key.open("sel1", &sealed).unwrap(), b"private key");
        assert!(key.open("sel2", &sealed).is_err(), "other label");
        assert!(
            MasterKey::generate().open("sel1", &sealed).is_err(),
            "other key"
        );
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(key.open("sel1", &damaged).is_err(), "tampered");
    }

    #[test]
    fn master_key_round_trips_through_base64_and_accepts_hex() {
        let key = MasterKey::generate();
        let again = MasterKey::parse(&key.to_base64()).unwrap();
        assert_eq!(again.open("l", &key.seal("l", b"x")).unwrap(), b"x");
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse("too short").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }
}
