//! Email addresses and domains, parsed once into values that are valid everywhere.
//! Domains are stored as lowercase A-labels (IDN → punycode), as DNS and SMTP need.

use std::fmt;
use std::str::FromStr;

/// Why an address or domain was refused. Each message is meant for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing was given.
    #[error("the address is empty")]
    Empty,
    /// No `@` separates local part and domain.
    #[error("an address needs the form name@domain")]
    MissingAt,
    /// The part before `@` is empty or longer than RFC 5321 allows.
    #[error("the part before @ must be 1 to 64 characters long")]
    LocalPartLength,
    /// The part before `@` holds characters that are not allowed unquoted.
    #[error(
        "the part before @ may hold only letters, digits, dots and !#$%&'*+/=?^_`{{|}}~- (no spaces, no dot at either end, no two dots in a row)"
    )]
    LocalPartSyntax,
    /// Quoted local parts are valid RFC 5321 but too rarely supported to send from.
    #[error("quoted names before @ are not supported for sending")]
    QuotedLocalPart,
    /// The address is longer than 254 characters.
    #[error("the address is longer than 254 characters")]
    TooLong,
    /// The domain is an IP literal such as `[192.0.2.1]`.
    #[error("the domain must be a name, not an IP address")]
    AddressLiteral,
    /// The domain could not be converted to an ASCII (punycode) name.
    #[error("the domain is not a valid internationalised domain name")]
    InvalidIdn,
    /// The domain has no dot, so it cannot be a public domain.
    #[error("the domain must have at least two labels, such as example.com")]
    SingleLabel,
    /// A label is empty, longer than 63 characters or holds invalid characters.
    #[error(
        "the domain label {0:?} is not valid: 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen"
    )]
    LabelSyntax(String),
    /// The domain is longer than 253 characters.
    #[error("the domain is longer than 253 characters")]
    DomainTooLong,
    /// The top-level label is all digits.
    #[error("the top-level domain cannot be numeric")]
    NumericTld,
}

/// A domain name as lowercase A-labels without trailing dot (`xn--mnchen-3ya.de`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(String);

impl Domain {
    /// Parses a domain in Unicode or ASCII form, with or without a trailing dot.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let input = input.trim();
        let input = input.strip_suffix('.').unwrap_or(input);
        if input.is_empty() {
            return Err(AddressError::Empty);
        }
        if input.starts_with('[') {
            return Err(AddressError::AddressLiteral);
        }
        let ascii = if input.is_ascii() {
            input.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(input).map_err(|_| AddressError::InvalidIdn)?
        };
        if ascii.len() > 253 {
            return Err(AddressError::DomainTooLong);
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        for label in &labels {
            let ldh = label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if label.is_empty()
                || label.len() > 63
                || !ldh
                || label.starts_with('-')
                || label.ends_with('-')
            {
                return Err(AddressError::LabelSyntax((*label).to_string()));
            }
            if label.starts_with("xn--") && idna::domain_to_unicode(label).1.is_err() {
                return Err(AddressError::InvalidIdn);
            }
        }
        if labels.len() < 2 {
            return Err(AddressError::SingleLabel);
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AddressError::NumericTld);
        }
        Ok(Self(ascii))
    }

    /// The A-label form, as used in DNS and SMTP.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Unicode form for people (`münchen.de`).
    pub fn to_unicode(&self) -> String {
        idna::domain_to_unicode(&self.0).0
    }

    /// Whether `self` is `other` or a subdomain of it.
    pub fn is_within(&self, other: &Domain) -> bool {
        self.0 == other.0
            || self
                .0
                .strip_suffix(&other.0)
                .is_some_and(|rest| rest.ends_with('.'))
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Domain {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// An RFC 5321 mailbox (`local@domain`) with an unquoted ASCII local part and a
/// normalised domain. The local part keeps its case: only the domain is
/// case-insensitive by the RFC.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress {
    local: String,
    domain: Domain,
}

const ATEXT_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

impl EmailAddress {
    /// Parses and normalises an address; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(AddressError::Empty);
        }
        let (local, domain) = input.rsplit_once('@').ok_or(AddressError::MissingAt)?;
        if local.starts_with('"') {
            return Err(AddressError::QuotedLocalPart);
        }
        if local.is_empty() || local.len() > 64 {
            return Err(AddressError::LocalPartLength);
        }
        let atext = |b: u8| b.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(&b);
        let dot_atom = local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(atext));
        if !dot_atom {
            return Err(AddressError::LocalPartSyntax);
        }
        let domain = Domain::parse(domain)?;
        if local.len() + 1 + domain.as_str().len() > 254 {
            return Err(AddressError::TooLong);
        }
        Ok(Self {
            local: local.to_string(),
            domain,
        })
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        &self.local
    }

    /// The normalised domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl FromStr for EmailAddress {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_normalised() {
        let cases = [
            ("events@acme.test", "events@acme.test"),
            ("  Events@ACME.Test ", "Events@acme.test"),
            (
                "first.last+tag@sub.example.com",
                "first.last+tag@sub.example.com",
            ),
            ("info@münchen.de", "info@xn--mnchen-3ya.de"),
            ("info@xn--mnchen-3ya.de", "info@xn--mnchen-3ya.de"),
            ("info@BÜCHER.example", "info@xn--bcher-kva.example"),
            ("a@example.com.", "a@example.com"),
        ];
        for (input, expected) in cases {
            let parsed = EmailAddress::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(parsed.to_string(), expected, "{input}");
        }
    }

    #[test]
    fn invalid_addresses_are_refused_with_a_reason() {
        let cases = [
            ("", AddressError::Empty),
            ("no-at-sign", AddressError::MissingAt),
            ("@example.com", AddressError::LocalPartLength),
            ("a..b@example.com", AddressError::LocalPartSyntax),
            (".a@example.com", AddressError::LocalPartSyntax),
            ("a b@example.com", AddressError::LocalPartSyntax),
            (
                "a\r\nBcc: x@evil.test@example.com",
                AddressError::LocalPartSyntax,
            ),
            ("\"quoted\"@example.com", AddressError::QuotedLocalPart),
            ("user@[192.0.2.1]", AddressError::AddressLiteral),
            ("user@localhost", AddressError::SingleLabel),
            ("user@-bad.com", AddressError::LabelSyntax("-bad".into())),
            (
                "user@bad_underscore.com",
                AddressError::LabelSyntax("bad_underscore".into()),
            ),
            ("user@a..com", AddressError::LabelSyntax(String::new())),
            ("user@example.123", AddressError::NumericTld),
            ("user@xn--zz.com", AddressError::InvalidIdn),
        ];
        for (input, expected) in cases {
            assert_eq!(EmailAddress::parse(input), Err(expected), "{input:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(
            EmailAddress::parse(&long_local),
            Err(AddressError::LocalPartLength)
        );
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert!(matches!(
            EmailAddress::parse(&long_label),
            Err(AddressError::LabelSyntax(_))
        ));
        let long_domain = format!("a@{}com", "abcdefghi.".repeat(26));
        assert_eq!(
            EmailAddress::parse(&long_domain),
            Err(AddressError::DomainTooLong)
        );
    }

    #[test]
    fn unicode_form_is_available_for_display() {
        let d = Domain::parse("xn--mnchen-3ya.de").unwrap();
        assert_eq!(d.to_unicode(), "münchen.de");
    }

    #[test]
    fn subdomain_check_respects_label_boundaries() {
        let acme = Domain::parse("acme.test").unwrap();
        assert!(Domain::parse("bounce.acme.test").unwrap().is_within(&acme));
        assert!(acme.is_within(&acme));
        assert!(!Domain::parse("notacme.test").unwrap().is_within(&acme));
    }
}
