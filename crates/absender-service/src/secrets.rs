//! Random secrets and ids, and the hashes under which secrets are stored.
//! API keys and tokens carry 256 random bits, so a fast hash (SHA-256) is safe:
//! there is nothing to brute-force that a slow password hash would protect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use sha2::{Digest, Sha256};

pub(crate) const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A random string of `len` characters from `alphabet`.
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    // The thread's generator (ChaCha12, seeded and reseeded from the OS):
    // ids, selectors and login names are not credentials.
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A new public id such as `org_k3…`: 20 characters, about 103 bits.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_string(ID_ALPHABET, 20))
}

/// Like [`random_string`], straight from the operating system: for credentials.
pub fn random_credential(alphabet: &[u8], len: usize) -> String {
    let mut os = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
    (0..len)
        .map(|_| alphabet[os.random_range(0..alphabet.len())] as char)
        .collect()
}

/// 256 random bits, URL-safe base64.
pub fn random_token() -> String {
    // Straight from the operating system, like the master key: a token is a credential.
    let mut os = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
    let bytes: [u8; 32] = os.random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// 32 random bytes straight from the operating system: a signing key.
pub fn random_key() -> [u8; 32] {
    let mut os = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
    os.random()
}

/// A new organization API key.
pub fn new_org_key() -> String {
    format!("abs_org_{}", random_token())
}

/// A new operator (admin) key.
pub fn new_admin_key() -> String {
    format!("abs_admin_{}", random_token())
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = random_token();
        assert_eq!(a.len(), 43, "256 bits in base64");
        assert_ne!(a, random_token());
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn ids_are_distinct_and_use_the_whole_alphabet() {
        let ids: Vec<String> = (0..200).map(|_| new_id("msg")).collect();
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        let mut seen = std::collections::HashSet::new();
        for id in &ids {
            let body = id.strip_prefix("msg_").expect("the prefix");
            assert_eq!(body.len(), 20);
            seen.extend(body.bytes());
        }
        // 4,000 characters: every one of the 36 shows up (all but certain).
        assert_eq!(seen.len(), ID_ALPHABET.len());
        assert!(seen.iter().all(|b| ID_ALPHABET.contains(b)));
    }

    #[test]
    fn hash_is_stable_and_not_the_secret() {
        let key = new_org_key();
        assert_eq!(hash_secret(&key), hash_secret(&key));
        assert_ne!(hash_secret(&key), key);
        assert_eq!(hash_secret(&key).len(), 64);
    }
}
