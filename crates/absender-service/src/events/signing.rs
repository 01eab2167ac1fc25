//! Standard Webhooks (<https://www.standardwebhooks.com>): a secret is
//! `whsec_` + base64 of random bytes; a signature is `v1,` + base64 of
//! HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// A new secret of 32 random bytes (the specification asks for 24 to 64):
/// its text (shown once) and its key (kept sealed).
pub(crate) fn new_secret() -> (String, Vec<u8>) {
    let key = crate::secrets::random_key().to_vec();
    (format!("{PREFIX}{}", STANDARD.encode(&key)), key)
}

/// The key of a secret's text (what receivers configure).
#[cfg(test)]
pub(crate) fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

/// `v1,<base64>` for one key.
pub(crate) fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_specifications_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let (text, key) = new_secret();
        assert_eq!(key_of(&text).unwrap(), key);
        assert_eq!(key.len(), 32);
    }
}
