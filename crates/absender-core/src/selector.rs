//! DKIM selector tokens: the random label a key is published under.

use std::fmt;

/// A selector token of 32 characters from `[a-z0-9]`, as absender generates them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector(String);

/// The length of generated selector tokens.
pub const SELECTOR_LEN: usize = 32;

/// The alphabet of generated selector tokens.
pub const SELECTOR_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A selector that does not have the generated shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a selector is 32 characters of a-z and 0-9")]
pub struct InvalidSelector;

impl Selector {
    /// Accepts a token of the generated shape.
    pub fn parse(s: &str) -> Result<Self, InvalidSelector> {
        let ok = s.len() == SELECTOR_LEN
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok.then(|| Self(s.to_string())).ok_or(InvalidSelector)
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An organization's own selector (bring-your-own DKIM) that SES's rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a selector is 1 to 63 characters: labels of a-z, 0-9 and hyphens, separated by dots, no hyphen at a label's start or end"
)]
pub struct InvalidOwnSelector;

/// The longest own selector SES accepts.
pub const OWN_SELECTOR_MAX: usize = 63;

/// An organization's own selector, as SES accepts them, in lower case
/// (DNS names are case-insensitive; one spelling keeps lookups simple).
pub fn own_selector(s: &str) -> Result<String, InvalidOwnSelector> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let ok = s.len() <= OWN_SELECTOR_MAX && s.split('.').all(label_ok);
    ok.then(|| s.to_ascii_lowercase()).ok_or(InvalidOwnSelector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_selectors_are_dns_labels_in_lower_case() {
        assert_eq!(own_selector("S2026-a.mail").as_deref(), Ok("s2026-a.mail"));
        for bad in [
            "",
            "-a",
            "a-",
            "a..b",
            "a_b",
            "a b",
            "a\nb",
            &"a".repeat(64),
        ] {
            assert_eq!(own_selector(bad), Err(InvalidOwnSelector), "{bad:?}");
        }
    }

    #[test]
    fn only_generated_shape_is_a_selector() {
        assert!(Selector::parse("abcdefghijklmnopqrstuvwxyz012345").is_ok());
        assert!(Selector::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345").is_err());
        assert!(Selector::parse("short").is_err());
        assert!(Selector::parse("abcdefghijklmnopqrstuvwxyz01234.").is_err());
    }
}
