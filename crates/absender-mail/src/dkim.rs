//! DKIM (RFC 6376): key generation on aws-lc (RSA, and Ed25519 as RFC 8463
//! adds it), and signing with mail-auth (the keys on aws-lc): rsa-sha256 or
//! ed25519-sha256, relaxed/relaxed, over the headers receivers expect. Sign
//! last, after every header rewrite. The only module of absender-mail that
//! names mail-auth types.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use mail_auth::common::crypto::{CryptoError, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

/// Headers covered by the signature when present; From is required by RFC 6376.
pub const SIGNED_HEADERS: [&str; 13] = [
    "From",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// A private key and where its public half is published.
#[derive(Debug, Clone, Copy)]
pub struct DkimKey<'a> {
    /// The signing domain (`d=`).
    pub domain: &'a str,
    /// The selector (`s=`).
    pub selector: &'a str,
    /// The private key (RSA or Ed25519), PKCS#8 DER.
    pub pkcs8_der: &'a [u8],
}

/// Why a message could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    /// The key does not load.
    #[error("the DKIM key for {domain} ({selector}) does not load: {reason}")]
    BadKey {
        /// The signing domain.
        domain: String,
        /// The selector.
        selector: String,
        /// What the crypto library said.
        reason: String,
    },
    /// Signing failed (e.g. the message has no From header).
    #[error("signing failed: {0}")]
    Sign(String),
    /// A new key could not be made.
    #[error("no key: {0} failed")]
    Generate(String),
}

/// A new key pair for DKIM.
pub struct NewDkimKey {
    /// The private key, PKCS#8 DER.
    pub pkcs8_der: Vec<u8>,
    /// The public key as DKIM publishes it (`p=`): SubjectPublicKeyInfo DER in base64.
    pub public_key: String,
}

/// Sizes of RSA keys that can be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaBits {
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl RsaBits {
    /// The modulus' size.
    pub fn bits(self) -> u32 {
        match self {
            Self::Rsa2048 => 2048,
            Self::Rsa3072 => 3072,
            Self::Rsa4096 => 4096,
        }
    }
}

/// Generates an RSA key pair on aws-lc. CPU-heavy (tens to hundreds of
/// milliseconds): call from a blocking task.
pub fn generate_rsa_key(bits: RsaBits) -> Result<NewDkimKey, DkimError> {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::KeyPair as _;
    use base64::Engine;
    let size = match bits {
        RsaBits::Rsa2048 => KeySize::Rsa2048,
        RsaBits::Rsa3072 => KeySize::Rsa3072,
        RsaBits::Rsa4096 => KeySize::Rsa4096,
    };
    let failed = |what: &str| DkimError::Generate(what.to_string());
    let pair = KeyPair::generate(size).map_err(|_| failed("RSA key generation"))?;
    let pkcs8: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| failed("PKCS#8 encoding"))?;
    let spki: PublicKeyX509Der<'static> = pair
        .public_key()
        .as_der()
        .map_err(|_| failed("SubjectPublicKeyInfo encoding"))?;
    Ok(NewDkimKey {
        pkcs8_der: pkcs8.as_ref().to_vec(),
        public_key: base64::engine::general_purpose::STANDARD.encode(spki.as_ref()),
    })
}

/// Why an organization's own private key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the key is not an RSA private key (PKCS#1 or PKCS#8, DER in base64)")]
    NotRsa,
    #[error(
        "the key has fewer than 2048 bits, which receivers and absender no longer trust; make a new key of 2048 bits"
    )]
    TooSmall,
    #[error(
        "the key has more than 4096 bits; absender signs with RSA keys of 2048 to 4096 bits (larger ones do not fit a DNS TXT record well)"
    )]
    TooLarge,
}

/// An organization's own RSA key, as absender stores and publishes it.
pub struct ImportedKey {
    /// The key, PKCS#8 DER (whatever form it came in).
    pub key: NewDkimKey,
    /// The modulus' bits.
    pub bits: usize,
}

/// The largest own key absender signs with.
pub const MAX_OWN_KEY_BITS: usize = 4096;

/// Reads an organization's own RSA private key (bring-your-own DKIM) from
/// PKCS#8 or PKCS#1 DER, as `openssl genrsa` writes it in either OpenSSL
/// generation. aws-lc refuses keys under 2048 bits.
pub fn import_rsa_key(der: &[u8]) -> Result<ImportedKey, ImportError> {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
    use aws_lc_rs::rsa::KeyPair;
    use aws_lc_rs::signature::KeyPair as _;
    use base64::Engine;
    // PKCS#1 only when the bytes are not PKCS#8 at all: a PKCS#8 key's own
    // refusal (too small) is the one to report.
    let pair = match KeyPair::from_pkcs8(der) {
        Err(e) if e.description_() == "InvalidEncoding" => KeyPair::from_der(der),
        other => other,
    }
    .map_err(|rejected| match rejected.description_() {
        "TooSmall" => ImportError::TooSmall,
        "TooLarge" => ImportError::TooLarge,
        _ => ImportError::NotRsa,
    })?;
    let bits = pair.public_modulus_len() * 8;
    if bits > MAX_OWN_KEY_BITS {
        return Err(ImportError::TooLarge);
    }
    let pkcs8: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| ImportError::NotRsa)?;
    let spki: PublicKeyX509Der<'static> = pair
        .public_key()
        .as_der()
        .map_err(|_| ImportError::NotRsa)?;
    Ok(ImportedKey {
        key: NewDkimKey {
            pkcs8_der: pkcs8.as_ref().to_vec(),
            public_key: base64::engine::general_purpose::STANDARD.encode(spki.as_ref()),
        },
        bits,
    })
}

/// A new Ed25519 key pair for DKIM (RFC 8463): the private key as PKCS#8
/// DER, the public key as DKIM publishes it (`k=ed25519; p=`): the raw
/// 32 bytes in base64.
pub fn generate_ed25519_key() -> Result<NewDkimKey, DkimError> {
    use aws_lc_rs::signature::KeyPair as _;
    use base64::Engine;
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| DkimError::Generate("Ed25519 key generation".into()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| DkimError::Generate("Ed25519 key loading".into()))?;
    Ok(NewDkimKey {
        pkcs8_der: pkcs8.as_ref().to_vec(),
        public_key: base64::engine::general_purpose::STANDARD.encode(pair.public_key().as_ref()),
    })
}

/// A loaded private key, ready to sign many messages: loading (parsing and
/// checking the RSA key) costs about as much as a signature, so callers keep these.
/// The keys run on aws-lc (OpenSSL-class assembly), mail-auth does the rest of DKIM.
pub struct SigningKey {
    pub domain: String,
    pub selector: String,
    key: Pair,
}

/// The two kinds of key DKIM signs with.
enum Pair {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a PKCS#8 key, RSA or Ed25519.
    pub fn load(key: &DkimKey<'_>) -> Result<Self, DkimError> {
        let pair = match RsaKeyPair::from_pkcs8(key.pkcs8_der) {
            Ok(rsa) => Pair::Rsa(rsa),
            Err(rsa_error) => Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.pkcs8_der)
                .map(Pair::Ed25519)
                .map_err(|_| DkimError::BadKey {
                    domain: key.domain.to_string(),
                    selector: key.selector.to_string(),
                    reason: rsa_error.to_string(),
                })?,
        };
        Ok(Self {
            domain: key.domain.to_string(),
            selector: key.selector.to_string(),
            key: pair,
        })
    }

    /// Whether it is an Ed25519 key (RFC 8463).
    pub fn is_ed25519(&self) -> bool {
        matches!(self.key, Pair::Ed25519(_))
    }
}

/// Lends a kept RSA key to mail-auth's signer, which wants to own one.
struct Borrowed<'a>(&'a RsaKeyPair);

/// Lends a kept Ed25519 key: it signs the SHA-256 of the signed data (RFC 8463).
struct BorrowedEd25519<'a>(&'a Ed25519KeyPair);

impl mail_auth::common::crypto::SigningKey for BorrowedEd25519<'_> {
    type Hasher = Sha256;

    fn sign(&self, input: impl mail_auth::common::headers::Writable) -> mail_auth::Result<Vec<u8>> {
        use mail_auth::common::crypto::{HashContext, HashImpl};
        let mut hash = Sha256::hasher();
        input.write(&mut hash);
        Ok(self.0.sign(hash.complete().as_ref()).as_ref().to_vec())
    }

    fn algorithm(&self) -> mail_auth::common::crypto::Algorithm {
        mail_auth::common::crypto::Algorithm::Ed25519Sha256
    }
}

impl mail_auth::common::crypto::SigningKey for Borrowed<'_> {
    type Hasher = Sha256;

    fn sign(&self, input: impl mail_auth::common::headers::Writable) -> mail_auth::Result<Vec<u8>> {
        let mut data = Vec::with_capacity(512);
        input.write(&mut data);
        let mut signature = vec![0; self.0.public_modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                &data,
                &mut signature,
            )
            .map_err(|e| mail_auth::Error::Crypto(CryptoError::Library(e.to_string())))?;
        Ok(signature)
    }

    fn algorithm(&self) -> mail_auth::common::crypto::Algorithm {
        mail_auth::common::crypto::Algorithm::RsaSha256
    }
}

/// Prepends one DKIM-Signature header per key to `message`.
pub fn sign(message: &[u8], keys: &[DkimKey<'_>]) -> Result<Vec<u8>, DkimError> {
    let loaded = keys
        .iter()
        .map(SigningKey::load)
        .collect::<Result<Vec<_>, _>>()?;
    sign_with(message, &loaded.iter().collect::<Vec<_>>())
}

/// Prepends one DKIM-Signature header per loaded key to `message`.
pub fn sign_with(message: &[u8], keys: &[&SigningKey]) -> Result<Vec<u8>, DkimError> {
    let mut headers = Vec::new();
    for key in keys {
        let signature = match &key.key {
            Pair::Rsa(rsa) => DkimSigner::from_key(Borrowed(rsa))
                .domain(&key.domain)
                .selector(&key.selector)
                .headers(SIGNED_HEADERS)
                .sign(message),
            Pair::Ed25519(ed) => DkimSigner::from_key(BorrowedEd25519(ed))
                .domain(&key.domain)
                .selector(&key.selector)
                .headers(SIGNED_HEADERS)
                .sign(message),
        }
        .map_err(|e| DkimError::Sign(e.to_string()))?;
        headers.push(signature.to_header());
    }
    let mut signed = headers.concat().into_bytes();
    signed.extend_from_slice(message);
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{Notice, notice};
    use hickory_resolver::config::{NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use mail_auth::common::parse::TxtRecordParser;
    use mail_auth::common::verify::DomainKey;
    use mail_auth::{
        AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
    };
    use std::borrow::Borrow;
    use std::collections::HashMap;
    use std::hash::Hash;
    use std::sync::Arc;

    /// Published keys, as a verifier's DNS cache: no network needed.
    struct Published(HashMap<Box<str>, Txt>);

    impl ResolverCache<Box<str>, Txt> for Published {
        fn get<Q>(&self, name: &Q) -> Option<Txt>
        where
            Box<str>: Borrow<Q>,
            Q: Hash + Eq + ?Sized,
        {
            self.0.get(name).cloned()
        }
        fn remove<Q>(&self, _: &Q) -> Option<Txt>
        where
            Box<str>: Borrow<Q>,
            Q: Hash + Eq + ?Sized,
        {
            None
        }
        fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
    }

    fn key() -> (Vec<u8>, String) {
        let key = generate_rsa_key(RsaBits::Rsa2048).unwrap();
        (key.pkcs8_der, key.public_key)
    }

    fn message(subject: &str) -> Vec<u8> {
        notice(&Notice {
            from_name: "Acme Events",
            from: "events@acme.test",
            to: "guest@example.test",
            subject,
            text: "Ihre Buchung ist bestätigt.",
            html: "<p>Ihre Buchung ist bestätigt.</p>",
            message_id_local: "m1",
            message_id_domain: "acme.test",
            date_unix: 1_700_000_000,
        })
    }

    async fn verify(signed: &[u8], published: &Published) -> Vec<DkimResult> {
        // Every key comes from the cache; this resolver is never asked.
        let nowhere = NameServerConfig::udp("127.0.0.1".parse().unwrap());
        let resolver = hickory_resolver::Resolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![nowhere]),
            TokioRuntimeProvider::default(),
        )
        .build()
        .unwrap();
        let authenticator = MessageAuthenticator(resolver);
        let parsed = AuthenticatedMessage::parse(signed).unwrap();
        let outputs = authenticator
            .verify_dkim(Parameters::new(&parsed).with_txt_cache(published))
            .await;
        outputs.iter().map(|o| o.result().clone()).collect()
    }

    #[tokio::test]
    async fn both_signatures_verify_and_a_changed_subject_breaks_them() {
        let (customer, customer_pub) = key();
        let (platform, platform_pub) = key();
        let keys = [
            DkimKey {
                domain: "acme.test",
                selector: "s1",
                pkcs8_der: &customer,
            },
            DkimKey {
                domain: "absender.test",
                selector: "p1",
                pkcs8_der: &platform,
            },
        ];
        let signed = sign(&message("Buchung bestätigt"), &keys).unwrap();
        let text = String::from_utf8_lossy(&signed);
        assert_eq!(text.matches("DKIM-Signature:").count(), 2);
        assert!(
            text.contains("d=acme.test")
                && text.contains("c=relaxed/relaxed")
                && text.contains("a=rsa-sha256")
        );

        let record = |p: &str| {
            Txt::DomainKey(Arc::new(
                DomainKey::parse(format!("v=DKIM1; k=rsa; p={p}").as_bytes()).unwrap(),
            ))
        };
        let published = Published(HashMap::from([
            (Box::from("s1._domainkey.acme.test."), record(&customer_pub)),
            (
                Box::from("p1._domainkey.absender.test."),
                record(&platform_pub),
            ),
        ]));
        assert_eq!(
            verify(&signed, &published).await,
            [DkimResult::Pass, DkimResult::Pass]
        );

        let tampered = String::from_utf8(signed)
            .unwrap()
            .replace("Subject: ", "Subject: Re: ");
        let results = verify(tampered.as_bytes(), &published).await;
        assert!(
            results.iter().all(|r| *r != DkimResult::Pass),
            "{results:?}"
        );
    }

    #[tokio::test]
    async fn an_ed25519_signature_beside_an_rsa_one_verifies() {
        let (rsa, rsa_pub) = key();
        let ed = generate_ed25519_key().unwrap();
        let keys = [
            DkimKey {
                domain: "acme.test",
                selector: "s1",
                pkcs8_der: &rsa,
            },
            DkimKey {
                domain: "acme.test",
                selector: "s3",
                pkcs8_der: &ed.pkcs8_der,
            },
        ];
        let loaded: Vec<SigningKey> = keys.iter().map(|k| SigningKey::load(k).unwrap()).collect();
        assert!(!loaded[0].is_ed25519() && loaded[1].is_ed25519());
        let signed = sign(&message("Buchung"), &keys).unwrap();
        let text = String::from_utf8_lossy(&signed);
        assert!(text.contains("a=ed25519-sha256") && text.contains("a=rsa-sha256"));
        let record = |k: &str, p: &str| {
            Txt::DomainKey(Arc::new(
                DomainKey::parse(format!("v=DKIM1; k={k}; p={p}").as_bytes()).unwrap(),
            ))
        };
        let published = Published(HashMap::from([
            (
                Box::from("s1._domainkey.acme.test."),
                record("rsa", &rsa_pub),
            ),
            (
                Box::from("s3._domainkey.acme.test."),
                record("ed25519", &ed.public_key),
            ),
        ]));
        assert_eq!(
            verify(&signed, &published).await,
            [DkimResult::Pass, DkimResult::Pass]
        );
        // 32 raw bytes, not a SubjectPublicKeyInfo.
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&ed.public_key)
            .unwrap();
        assert_eq!(raw.len(), 32);
    }

    /// PKCS#1 inside a PKCS#8 DER: the closing OCTET STRING's content, an
    /// RSAPrivateKey SEQUENCE with a two-byte length.
    fn pkcs1_of(pkcs8: &[u8]) -> &[u8] {
        (1..pkcs8.len() - 4)
            .map(|at| &pkcs8[at..])
            .find(|rest| {
                rest[..2] == [0x30, 0x82]
                    && usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 4 == rest.len()
            })
            .expect("an RSAPrivateKey at the end")
    }

    /// A 1024-bit key `openssl genrsa -traditional 1024` made, for tests only.
    const RSA_1024_PKCS1: &str = include_str!("../tests/fixtures/rsa1024-pkcs1.b64");
    /// The same key as PKCS#8 (`openssl pkcs8 -topk8 -nocrypt`).
    const RSA_1024_PKCS8: &str = include_str!("../tests/fixtures/rsa1024-pkcs8.b64");

    #[test]
    fn own_rsa_keys_import_from_pkcs8_and_pkcs1_and_small_ones_are_refused() {
        use base64::Engine;
        let made = generate_rsa_key(RsaBits::Rsa2048).unwrap();
        let from_pkcs8 = import_rsa_key(&made.pkcs8_der).unwrap();
        assert_eq!(from_pkcs8.bits, 2048);
        assert_eq!(from_pkcs8.key.public_key, made.public_key);
        let from_pkcs1 = import_rsa_key(pkcs1_of(&made.pkcs8_der)).unwrap();
        assert_eq!(from_pkcs1.key.public_key, made.public_key);
        assert_eq!(from_pkcs1.key.pkcs8_der, from_pkcs8.key.pkcs8_der);
        let small = base64::engine::general_purpose::STANDARD
            .decode(RSA_1024_PKCS1)
            .unwrap();
        assert_eq!(import_rsa_key(&small).err(), Some(ImportError::TooSmall));
        // OpenSSL 3's `genrsa 1024` writes PKCS#8: its own refusal counts.
        let small_pkcs8 = base64::engine::general_purpose::STANDARD
            .decode(RSA_1024_PKCS8)
            .unwrap();
        assert_eq!(
            import_rsa_key(&small_pkcs8).err(),
            Some(ImportError::TooSmall)
        );
        let ed = generate_ed25519_key().unwrap();
        assert_eq!(
            import_rsa_key(&ed.pkcs8_der).err(),
            Some(ImportError::NotRsa)
        );
        assert_eq!(import_rsa_key(b"garbage").err(), Some(ImportError::NotRsa));
        let large = generate_rsa_key(RsaBits::Rsa4096).unwrap();
        assert_eq!(import_rsa_key(&large.pkcs8_der).unwrap().bits, 4096);
    }

    #[test]
    fn a_broken_key_is_refused_with_its_selector() {
        let err = sign(
            &message("x"),
            &[DkimKey {
                domain: "acme.test",
                selector: "s1",
                pkcs8_der: b"nope",
            }],
        )
        .unwrap_err();
        assert!(err.to_string().contains("s1"));
    }
}
