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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_generated_shape_is_a_selector() {
        assert!(Selector::parse("abcdefghijklmnopqrstuvwxyz012345").is_ok());
        assert!(Selector::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345").is_err());
        assert!(Selector::parse("short").is_err());
        assert!(Selector::parse("abcdefghijklmnopqrstuvwxyz01234.").is_err());
    }
}
