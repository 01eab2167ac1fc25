//! The languages absender speaks to organizations and address owners.

use serde::{Deserialize, Serialize};

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// German.
    De,
    /// English.
    #[default]
    En,
}

impl Locale {
    /// Every language absender speaks.
    pub const ALL: [Locale; 2] = [Locale::De, Locale::En];

    /// The language tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::De => "de",
            Locale::En => "en",
        }
    }

    /// Parses a stored tag.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "de" => Some(Locale::De),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, de: &'a str, en: &'a str) -> &'a str {
        match self {
            Locale::De => de,
            Locale::En => en,
        }
    }
}
