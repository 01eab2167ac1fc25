//! DNS names and the records of local zones, parsed once. DNS names are wider
//! than host names: labels such as `_domainkey` and `_dmarc` carry underscores.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a DNS name or record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The name is empty, too long, or has an invalid label.
    #[error("{0:?} is not a valid DNS name")]
    InvalidName(String),
    /// The record's name is not inside the zone.
    #[error("{name} is not inside the zone {zone}")]
    OutsideZone {
        /// The record name.
        name: String,
        /// The zone.
        zone: String,
    },
    /// The type is not one local zones serve.
    #[error("record type {0:?} is not supported; use A, AAAA, MX, TXT or CNAME")]
    UnsupportedType(String),
    /// The value does not fit the type.
    #[error("{0}")]
    InvalidValue(String),
    /// The TTL is out of range.
    #[error("the TTL must be between 1 and 604800 seconds")]
    InvalidTtl,
}

/// A DNS name: lowercase A-labels, no trailing dot, underscores allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsName(String);

/// A domain is a DNS name (lowercase A-labels already; stricter than a DNS name).
impl From<&crate::Domain> for DnsName {
    fn from(domain: &crate::Domain) -> Self {
        Self(domain.as_str().to_string())
    }
}

impl DnsName {
    /// Parses a name with or without trailing dot; Unicode labels become A-labels.
    pub fn parse(input: &str) -> Result<Self, DnsError> {
        let invalid = || DnsError::InvalidName(input.to_string());
        let trimmed = input.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Err(invalid());
        }
        let ascii = if trimmed.is_ascii() {
            trimmed.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(trimmed).map_err(|_| invalid())?
        };
        let labels_ok = ascii.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if !labels_ok || ascii.len() > 253 {
            return Err(invalid());
        }
        Ok(Self(ascii))
    }

    /// The name without trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `self` is `zone` or below it.
    pub fn is_within(&self, zone: &DnsName) -> bool {
        self.0 == zone.0
            || self
                .0
                .strip_suffix(&zone.0)
                .is_some_and(|rest| rest.ends_with('.'))
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The record types local zones serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalRecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Mail exchanger.
    Mx,
    /// Text.
    Txt,
    /// Alias.
    Cname,
}

impl LocalRecordType {
    /// Parses a type name, any case.
    pub fn parse(s: &str) -> Result<Self, DnsError> {
        match s.to_ascii_uppercase().as_str() {
            "A" => Ok(Self::A),
            "AAAA" => Ok(Self::Aaaa),
            "MX" => Ok(Self::Mx),
            "TXT" => Ok(Self::Txt),
            "CNAME" => Ok(Self::Cname),
            _ => Err(DnsError::UnsupportedType(s.to_string())),
        }
    }

    /// The type's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Cname => "CNAME",
        }
    }
}

/// A record's data, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalRecordData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Preference and exchange host.
    Mx(u16, DnsName),
    /// The text, joined from any quoted parts.
    Txt(String),
    /// The alias target.
    Cname(DnsName),
}

/// The longest TXT value accepted (several 255-byte strings).
pub const MAX_TXT_BYTES: usize = 4000;

/// Default TTL of local records, short so that changes show fast.
pub const DEFAULT_TTL_SECS: u32 = 300;

impl LocalRecordData {
    /// Parses `value` for `rtype`; names may carry a trailing dot.
    pub fn parse(rtype: LocalRecordType, value: &str) -> Result<Self, DnsError> {
        let value = value.trim();
        let bad = |what: &str| DnsError::InvalidValue(format!("{value:?} is not {what}"));
        Ok(match rtype {
            LocalRecordType::A => Self::A(value.parse().map_err(|_| bad("an IPv4 address"))?),
            LocalRecordType::Aaaa => Self::Aaaa(value.parse().map_err(|_| bad("an IPv6 address"))?),
            LocalRecordType::Cname => {
                Self::Cname(DnsName::parse(value).map_err(|_| bad("a DNS name"))?)
            }
            LocalRecordType::Mx => {
                let (preference, host) = value
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| bad("\"<preference> <host>\""))?;
                let preference = preference
                    .parse()
                    .map_err(|_| bad("\"<preference> <host>\""))?;
                // "." is the null MX of RFC 7505: the domain takes no mail.
                let host = if host.trim() == "." {
                    DnsName(String::new())
                } else {
                    DnsName::parse(host).map_err(|_| bad("\"<preference> <host>\""))?
                };
                Self::Mx(preference, host)
            }
            LocalRecordType::Txt => {
                let text = unquote_txt(value);
                if text.len() > MAX_TXT_BYTES || text.chars().any(char::is_control) {
                    return Err(DnsError::InvalidValue(format!(
                        "a TXT value is at most {MAX_TXT_BYTES} bytes without control characters"
                    )));
                }
                Self::Txt(text)
            }
        })
    }

    /// The type of this data.
    pub fn record_type(&self) -> LocalRecordType {
        match self {
            Self::A(_) => LocalRecordType::A,
            Self::Aaaa(_) => LocalRecordType::Aaaa,
            Self::Mx(..) => LocalRecordType::Mx,
            Self::Txt(_) => LocalRecordType::Txt,
            Self::Cname(_) => LocalRecordType::Cname,
        }
    }

    /// The canonical text form, as stored and shown.
    pub fn to_value(&self) -> String {
        match self {
            Self::A(ip) => ip.to_string(),
            Self::Aaaa(ip) => ip.to_string(),
            Self::Mx(preference, host) if host.0.is_empty() => format!("{preference} ."),
            Self::Mx(preference, host) => format!("{preference} {host}"),
            Self::Txt(text) => text.clone(),
            Self::Cname(target) => target.to_string(),
        }
    }
}

/// `"abc" "def"` (as providers show long TXT values) → `abcdef`; plain text stays.
fn unquote_txt(value: &str) -> String {
    let quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
    if !quoted {
        return value.to_string();
    }
    value[1..value.len() - 1].split("\" \"").collect()
}

/// Validates a TTL, defaulting when absent.
pub fn parse_ttl(ttl: Option<u32>) -> Result<u32, DnsError> {
    match ttl.unwrap_or(DEFAULT_TTL_SECS) {
        ttl @ 1..=604_800 => Ok(ttl),
        _ => Err(DnsError::InvalidTtl),
    }
}

/// Splits TXT text into DNS character-strings of at most 255 bytes, never
/// inside a UTF-8 character.
pub fn txt_chunks(text: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = text;
    while rest.len() > 255 {
        let mut cut = 255;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        chunks.push(head);
        rest = tail;
    }
    chunks.push(rest);
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_allow_underscores_and_normalise() {
        assert_eq!(
            DnsName::parse("Sel._DomainKey.Acme.test.")
                .unwrap()
                .as_str(),
            "sel._domainkey.acme.test"
        );
        assert_eq!(
            DnsName::parse("_dmarc.münchen.de").unwrap().as_str(),
            "_dmarc.xn--mnchen-3ya.de"
        );
        for bad in ["", ".", "a..b", "a b.test", "a/b.test"] {
            assert!(DnsName::parse(bad).is_err(), "{bad:?}");
        }
        let zone = DnsName::parse("acme.test").unwrap();
        assert!(
            DnsName::parse("x._domainkey.acme.test.acme.test")
                .unwrap()
                .is_within(&zone)
        );
        assert!(!DnsName::parse("notacme.test").unwrap().is_within(&zone));
    }

    #[test]
    fn record_values_are_parsed_per_type() {
        use LocalRecordType::*;
        let ok = [
            (A, "192.0.2.1", "192.0.2.1"),
            (Aaaa, "2001:db8::1", "2001:db8::1"),
            (Mx, "10 mx.acme.test.", "10 mx.acme.test"),
            (Cname, "Sel.DKIM.absender.test.", "sel.dkim.absender.test"),
            (Txt, "v=spf1 -all", "v=spf1 -all"),
            (Txt, "\"v=DKIM1; p=ab\" \"cd\"", "v=DKIM1; p=abcd"),
        ];
        for (rtype, input, canonical) in ok {
            assert_eq!(
                LocalRecordData::parse(rtype, input).unwrap().to_value(),
                canonical,
                "{input}"
            );
        }
        let bad = [
            (A, "300.0.0.1"),
            (Aaaa, "1.2.3.4"),
            (Mx, "mx.acme.test"),
            (Mx, "x mx.acme.test"),
            (Cname, "a b"),
            (Txt, "a\nb"),
        ];
        for (rtype, input) in bad {
            assert!(LocalRecordData::parse(rtype, input).is_err(), "{input:?}");
        }
        assert!(LocalRecordType::parse("SRV").is_err());
        assert_eq!(LocalRecordType::parse("cname").unwrap(), Cname);
    }

    #[test]
    fn ttl_defaults_and_is_bounded() {
        assert_eq!(parse_ttl(None), Ok(DEFAULT_TTL_SECS));
        assert_eq!(parse_ttl(Some(0)), Err(DnsError::InvalidTtl));
        assert_eq!(parse_ttl(Some(604_801)), Err(DnsError::InvalidTtl));
    }

    #[test]
    fn txt_chunks_are_at_most_255_bytes_and_join_to_the_text() {
        let key = "p=".to_string() + &"A".repeat(392) + "ä".repeat(200).as_str();
        let chunks = txt_chunks(&key);
        assert!(chunks.iter().all(|c| c.len() <= 255 && !c.is_empty()));
        assert_eq!(chunks.concat(), key);
        assert_eq!(txt_chunks("short"), ["short"]);
        assert_eq!(txt_chunks(""), [""]);
    }
}
