//! AWS Signature Version 4, checked the way botocore signs: the canonical
//! request, the string to sign, the signing key and the signature, and the
//! `Authorization` header that names them. Pure: the caller brings the
//! request, the secret and the time. For SES (not S3) botocore encodes the
//! already percent-encoded path once more, so the canonical path here is the
//! received path encoded again.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The one algorithm SigV4 names.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's date may be from the server's clock (as AWS allows).
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// Why a signature does not hold, by the names AWS answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// No `Authorization` header (and no presigned query).
    MissingAuthenticationToken,
    /// The header is not a complete SigV4 authorization.
    IncompleteSignature(String),
    /// The date is outside the allowed skew.
    InvalidSignature(String),
    /// The signature is not the one the secret gives (or signs the wrong scope).
    SignatureDoesNotMatch(String),
    /// No such access key, or credentials absender does not take.
    UnrecognizedClient(String),
}

/// AWS's words when the signature differs.
pub const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.";

impl SigV4Error {
    /// AWS's name for it (`x-amzn-ErrorType`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationToken",
            Self::IncompleteSignature(_) => "IncompleteSignature",
            Self::InvalidSignature(_) => "InvalidSignature",
            Self::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            Self::UnrecognizedClient(_) => "UnrecognizedClient",
        }
    }

    /// What went wrong, for people.
    pub fn message(&self) -> &str {
        match self {
            Self::MissingAuthenticationToken => "Missing Authentication Token",
            Self::IncompleteSignature(m)
            | Self::InvalidSignature(m)
            | Self::SignatureDoesNotMatch(m)
            | Self::UnrecognizedClient(m) => m,
        }
    }
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// `yyyymmdd`.
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lower case, in the order given (SigV4 requires them sorted).
    pub signed_headers: Vec<String>,
    /// Lower-case hex.
    pub signature: String,
}

impl Authorization {
    /// `<date>/<region>/<service>/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }

    /// Reads the header's value.
    pub fn parse(header: &str) -> Result<Self, SigV4Error> {
        let incomplete = |what: &str| SigV4Error::IncompleteSignature(what.to_string());
        let rest = header
            .strip_prefix(ALGORITHM)
            .filter(|r| r.starts_with(' '))
            .ok_or_else(|| incomplete("the authorization must start with AWS4-HMAC-SHA256"))?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| incomplete("each authorization part must be key=value"))?;
            match key {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed = Some(value),
                "Signature" => signature = Some(value),
                _ => {}
            }
        }
        let credential = credential.ok_or_else(|| incomplete("Credential is missing"))?;
        let signed = signed.ok_or_else(|| incomplete("SignedHeaders is missing"))?;
        let signature = signature.ok_or_else(|| incomplete("Signature is missing"))?;
        let fields: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, "aws4_request"] = fields[..] else {
            return Err(incomplete(
                "Credential must be <key id>/<yyyymmdd>/<region>/<service>/aws4_request",
            ));
        };
        let valid_date = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
        let valid_signature =
            signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid_date || !valid_signature || access_key_id.is_empty() || signed.is_empty() {
            return Err(incomplete("a malformed Credential or Signature"));
        }
        let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
        if !signed_headers.iter().any(|h| h == "host") {
            return Err(incomplete("the Host header must be signed"));
        }
        Ok(Self {
            access_key_id: access_key_id.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }
}

/// The longest validity AWS allows a presigned URL: 7 days.
pub const MAX_EXPIRES_SECS: i64 = 7 * 24 * 3600;

/// A presigned request's SigV4 (`X-Amz-*` in the query instead of an
/// `Authorization` header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub auth: Authorization,
    pub amz_date: String,
    /// Seconds the signature holds after its date.
    pub expires_secs: i64,
    /// The query as signed: the received one without `X-Amz-Signature`.
    pub signed_query: String,
}

impl Presigned {
    /// The query's SigV4 parameters; `Ok(None)` when it carries no signature.
    pub fn parse(query: &str) -> Result<Option<Self>, SigV4Error> {
        let incomplete = |what: &str| SigV4Error::IncompleteSignature(what.to_string());
        let mut params: Vec<(String, String)> = Vec::new();
        let mut signed_query = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = String::from_utf8_lossy(&percent_decode(k)).into_owned();
            let value = String::from_utf8_lossy(&percent_decode(v)).into_owned();
            if key != "X-Amz-Signature" {
                signed_query.push(pair);
            }
            if key.starts_with("X-Amz-") {
                if params.iter().any(|(k, _)| *k == key) {
                    return Err(incomplete("a presigned parameter is given twice"));
                }
                params.push((key, value));
            }
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(signature) = param("X-Amz-Signature") else {
            return Ok(None);
        };
        if param("X-Amz-Security-Token").is_some() {
            return Err(SigV4Error::UnrecognizedClient(
                "temporary credentials (X-Amz-Security-Token) are not taken; sign with an access key".into(),
            ));
        }
        if param("X-Amz-Algorithm") != Some(ALGORITHM) {
            return Err(incomplete("X-Amz-Algorithm must be AWS4-HMAC-SHA256"));
        }
        let (Some(credential), Some(signed), Some(amz_date), Some(expires)) = (
            param("X-Amz-Credential"),
            param("X-Amz-SignedHeaders"),
            param("X-Amz-Date"),
            param("X-Amz-Expires"),
        ) else {
            return Err(incomplete(
                "a presigned URL needs X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Date and X-Amz-Expires",
            ));
        };
        let expires_secs = expires
            .parse::<i64>()
            .ok()
            .filter(|e| (1..=MAX_EXPIRES_SECS).contains(e))
            .ok_or_else(|| incomplete("X-Amz-Expires must be 1 to 604800 seconds"))?;
        let auth = Authorization::parse(&format!(
            "{ALGORITHM} Credential={credential}, SignedHeaders={signed}, Signature={signature}"
        ))?;
        Ok(Some(Self {
            auth,
            amz_date: amz_date.to_string(),
            expires_secs,
            signed_query: signed_query.join("&"),
        }))
    }
}

/// What SigV4 covers of one request, as received.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as it arrived, percent-encoded.
    pub path: &'a str,
    /// The query as it arrived, without `?`.
    pub query: &'a str,
    /// Every header (name in any case; a name may repeat).
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body.
    pub payload_sha256: &'a str,
}

/// RFC 3986 encoding as SigV4 wants it: all but `A-Za-z0-9-_.~` (and `/`
/// when `keep_slash`) as `%XX` in upper case.
fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%XX` sequences decoded (a bad one kept as it is); `+` as a space, as
/// the handlers' form parser reads it, so that `+` and `%2B` (which mean
/// different things to them) never sign alike.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    out
}

/// Whether `path` is in the form botocore signs without change (no `.`,
/// `..` or empty segments): the router must see what the signature covers.
pub fn is_normal_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    !rest.is_empty() && rest.split('/').all(|s| !matches!(s, "" | "." | ".."))
}

/// The path botocore signs for a non-S3 service: the received (encoded)
/// path with dot segments and empty segments removed, encoded again.
fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut normalized = format!("/{}", segments.join("/"));
    if path.ends_with('/') && normalized.len() > 1 {
        normalized.push('/');
    }
    uri_encode(normalized.as_bytes(), true)
}

/// The query's pairs decoded, encoded strictly and sorted.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value as signed: trimmed, inner runs of spaces as one.
fn canonical_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request over `signed` headers (sorted lower-case names).
pub fn canonical_request(request: &Request, signed: &[String]) -> String {
    let mut names: Vec<&str> = signed.iter().map(String::as_str).collect();
    names.sort_unstable();
    let headers: String = names
        .iter()
        .map(|name| {
            let values: Vec<String> = request
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| canonical_value(v))
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect();
    format!(
        "{}\n{}\n{}\n{headers}\n{}\n{}",
        request.method,
        canonical_path(request.path),
        canonical_query(request.query),
        names.join(";"),
        request.payload_sha256
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The key for one day, region and service: four chained HMACs.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The SMTP password AWS derives from a secret access key for `region`
/// (AWS's documented SES SMTP credentials): the SigV4 key chain with the
/// fixed date `11111111`, then "SendRawEmail", as base64 after a version byte 4.
pub fn ses_smtp_password(secret: &str, region: &str) -> String {
    use base64::Engine;
    let key = signing_key(secret, "11111111", region, "ses");
    let mut bytes = vec![0x04];
    bytes.extend_from_slice(&hmac(&key, b"SendRawEmail"));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The signature (hex) of `request` at `amz_date` (`yyyymmddThhmmssZ`).
pub fn signature(secret: &str, auth: &Authorization, amz_date: &str, request: &Request) -> String {
    let canonical = canonical_request(request, &auth.signed_headers);
    let to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        auth.scope(),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
    hex::encode(hmac(&key, to_sign.as_bytes()))
}

/// Milliseconds since the epoch of an `X-Amz-Date` (`yyyymmddThhmmssZ`).
pub fn parse_amz_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (y, mo, d) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (h, mi, s) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60 * 1000 + s * 1000)
}

/// Checks `auth` against `request` signed at `amz_date` with `secret`, at
/// `now_ms`: the date of the credential's day and within [`MAX_SKEW_MS`]
/// (a presigned URL's until `expires_secs` after it), then the signature,
/// compared in constant time.
pub fn verify(
    secret: &str,
    auth: &Authorization,
    amz_date: &str,
    request: &Request,
    now_ms: i64,
    expires_secs: Option<i64>,
) -> Result<(), SigV4Error> {
    let at = parse_amz_date(amz_date).ok_or_else(|| {
        SigV4Error::IncompleteSignature("X-Amz-Date must be yyyymmddThhmmssZ".into())
    })?;
    if !amz_date.starts_with(&auth.date) {
        return Err(SigV4Error::SignatureDoesNotMatch(
            "the credential's date is not the request's".into(),
        ));
    }
    let late = match expires_secs {
        None => now_ms - at > MAX_SKEW_MS,
        Some(expires) => now_ms > at + expires * 1000,
    };
    if late || at - now_ms > MAX_SKEW_MS {
        return Err(SigV4Error::InvalidSignature(match expires_secs {
            None => format!(
                "Signature expired: {amz_date} is more than 5 minutes from the server's time"
            ),
            Some(expires) => format!(
                "Signature expired: the URL signed at {amz_date} held for {expires} seconds"
            ),
        }));
    }
    let expected = signature(secret, auth, amz_date, request);
    if crate::app::constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureDoesNotMatch(MISMATCH.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's published SigV4 test suite (aws-sig-v4-test-suite): credentials,
    // date and scope, and the signatures it gives.
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn auth(signed: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={signature}"
        )
    }

    fn check(
        method: &str,
        path: &str,
        query: &str,
        extra: &[(&str, &str)],
        body: &str,
        signed: &str,
        expected: &str,
    ) {
        let mut headers = vec![("Host", "example.amazonaws.com"), ("X-Amz-Date", DATE)];
        headers.extend_from_slice(extra);
        let payload = hex::encode(Sha256::digest(body.as_bytes()));
        let request = Request {
            method,
            path,
            query,
            headers: &headers,
            payload_sha256: &payload,
        };
        let parsed = Authorization::parse(&auth(signed, expected)).unwrap();
        assert_eq!(
            signature(SECRET, &parsed, DATE, &request),
            expected,
            "{method} {path}?{query}"
        );
        let now = parse_amz_date(DATE).unwrap();
        assert_eq!(verify(SECRET, &parsed, DATE, &request, now, None), Ok(()));
    }

    #[test]
    fn aws_test_suite_vectors_verify() {
        let base = "host;x-amz-date";
        check(
            "GET",
            "/",
            "",
            &[],
            "",
            base,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        );
        // get-vanilla-query-order-key-case: the query is sorted.
        check(
            "GET",
            "/",
            "Param2=value2&Param1=value1",
            &[],
            "",
            base,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        );
        check(
            "POST",
            "/",
            "",
            &[],
            "",
            base,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        );
        check(
            "POST",
            "/",
            "Param1=value1",
            &[],
            "",
            base,
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        );
        check(
            "POST",
            "/",
            "",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "Param1=value1",
            "content-type;host;x-amz-date",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        );
        assert_eq!(EMPTY, hex::encode(Sha256::digest(b"")));
    }

    #[test]
    fn a_wrong_secret_a_changed_body_and_a_stale_date_fail_by_aws_names() {
        let headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", DATE)];
        let request = |payload| Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            payload_sha256: payload,
        };
        let parsed = Authorization::parse(&auth(
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ))
        .unwrap();
        let now = parse_amz_date(DATE).unwrap();
        let other = "0".repeat(64);
        let mismatch = Err(SigV4Error::SignatureDoesNotMatch(MISMATCH.into()));
        assert_eq!(
            verify("wrong", &parsed, DATE, &request(EMPTY), now, None),
            mismatch
        );
        assert_eq!(
            verify(SECRET, &parsed, DATE, &request(&other), now, None),
            mismatch
        );
        let late = verify(
            SECRET,
            &parsed,
            DATE,
            &request(EMPTY),
            now + MAX_SKEW_MS + 1000,
            None,
        );
        assert_eq!(late.unwrap_err().name(), "InvalidSignature");
        assert!(
            verify(
                SECRET,
                &parsed,
                DATE,
                &request(EMPTY),
                now + MAX_SKEW_MS - 1000,
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn a_presigned_query_holds_until_it_expires_and_not_once_changed() {
        let credential = "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request";
        let unsigned = format!(
            "Action=ListUsers&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}&X-Amz-Date={DATE}&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
        );
        let headers = [("Host", "example.amazonaws.com")];
        let request = |query: &'static str| Request {
            method: "GET",
            path: "/",
            query,
            headers: &[],
            payload_sha256: EMPTY,
        };
        // The signature over the query without itself, as a presigner makes it.
        let auth = Authorization::parse(&format!(
            "{ALGORITHM} Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature={}",
            "0".repeat(64)
        ))
        .unwrap();
        let unsigned: &'static str = Box::leak(unsigned.into_boxed_str());
        let with_headers = Request {
            headers: &headers,
            ..request(unsigned)
        };
        let signature = signature(SECRET, &auth, DATE, &with_headers);
        let query: &'static str =
            Box::leak(format!("{unsigned}&X-Amz-Signature={signature}").into_boxed_str());
        let presigned = Presigned::parse(query).unwrap().unwrap();
        assert_eq!(presigned.signed_query, unsigned);
        assert_eq!(presigned.expires_secs, 60);
        assert_eq!(presigned.auth.access_key_id, "AKIDEXAMPLE");
        let received = Request {
            headers: &headers,
            ..request(Box::leak(presigned.signed_query.clone().into_boxed_str()))
        };
        let at = parse_amz_date(DATE).unwrap();
        let check = |now| verify(SECRET, &presigned.auth, DATE, &received, now, Some(60));
        assert_eq!(check(at + 59_000), Ok(()));
        assert_eq!(check(at + 61_000).unwrap_err().name(), "InvalidSignature");
        // Longer validity, another parameter: the signature no longer holds.
        let longer = query.replace("X-Amz-Expires=60", "X-Amz-Expires=600");
        let longer = Presigned::parse(&longer).unwrap().unwrap();
        let received = Request {
            headers: &headers,
            ..request(Box::leak(longer.signed_query.clone().into_boxed_str()))
        };
        assert_eq!(
            verify(SECRET, &longer.auth, DATE, &received, at, Some(600))
                .unwrap_err()
                .name(),
            "SignatureDoesNotMatch"
        );
        assert_eq!(Presigned::parse("Action=ListUsers"), Ok(None));
        for bad in [
            "X-Amz-Signature=00&X-Amz-Algorithm=AWS4-HMAC-SHA1",
            "X-Amz-Signature=00&X-Amz-Algorithm=AWS4-HMAC-SHA256",
            &query.replace("X-Amz-Expires=60", "X-Amz-Expires=700000"),
            &format!("{query}&X-Amz-Security-Token=abc"),
            &format!("{query}&X-Amz-Date={DATE}"),
        ] {
            assert!(Presigned::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_encoded_path_is_encoded_again_as_botocore_does_for_ses() {
        assert_eq!(
            canonical_path("/v2/email/identities/events%40acme.test"),
            "/v2/email/identities/events%2540acme.test"
        );
        assert_eq!(canonical_path("/a/./b/../c//d/"), "/a/c/d/");
        assert!(
            is_normal_path("/v2/email/account") && is_normal_path("/") && is_normal_path("/a/")
        );
        for odd in ["/a/./b", "/a/../b", "/a//b", "a/b", "/a/..", "//", "/a//"] {
            assert!(!is_normal_path(odd), "{odd}");
        }
        assert_eq!(canonical_path(""), "/");
        assert_eq!(canonical_query("b=2&a=%41&c"), "a=A&b=2&c=");
        // `+` is a space to the handlers, so it signs as one, unlike `%2B`.
        assert_eq!(canonical_query("a=x+y"), "a=x%20y");
        assert_ne!(canonical_query("a=x+y"), canonical_query("a=x%2By"));
    }

    #[test]
    fn ses_smtp_passwords_are_a_version_byte_and_a_keyed_hash() {
        use base64::Engine;
        let password = ses_smtp_password(SECRET, "eu-central-1");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&password)
            .unwrap();
        assert_eq!((bytes.len(), bytes[0]), (33, 4));
        assert_ne!(password, ses_smtp_password(SECRET, "us-east-1"));
        assert_ne!(password, ses_smtp_password("other", "eu-central-1"));
    }

    #[test]
    fn incomplete_authorizations_are_named() {
        for bad in [
            "AWS4-HMAC-SHA256",
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ses/aws4_request, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKID/2015/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ses/aws4_request, SignedHeaders=x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ] {
            let e = Authorization::parse(bad).unwrap_err();
            assert_eq!(e.name(), "IncompleteSignature", "{bad}");
        }
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160_000));
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
        assert_eq!(parse_amz_date("20150830T+1+1+1Z"), None);
    }
}
