//! Diagnostics: what is wrong with a customer's DNS, in words a non-expert
//! understands (German or English), with the record that would fix it.

use crate::Locale;
use serde::{Deserialize, Serialize};

/// One finding on an identity part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// A stable, machine-readable code (`record_missing`, `spf_not_authorized`, …).
    pub code: String,
    /// What is wrong and what to do, for people.
    pub message: String,
    /// The record that would fix it, as `name TYPE value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(
        code: &str,
        locale: Locale,
        de: String,
        en: String,
        record: Option<String>,
    ) -> Self {
        // Messages quote what was found in DNS, which the domain's owner wrote.
        let message = match locale {
            Locale::De => de,
            Locale::En => en,
        };
        Self {
            code: code.to_string(),
            message: crate::outside::clean(&message),
            record: record.as_deref().map(crate::outside::clean),
        }
    }
}

/// SES's error types for a failed lookup, beside absender's own codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorType {
    /// The name does not exist.
    HostNotFound,
    /// The name exists but not with the record type sought.
    TypeNotFound,
    /// A record exists but its value is wrong.
    InvalidValue,
    /// The DNS server failed or did not answer.
    DnsServerError,
}

impl ErrorType {
    /// The SES name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HostNotFound => "HOST_NOT_FOUND",
            Self::TypeNotFound => "TYPE_NOT_FOUND",
            Self::InvalidValue => "INVALID_VALUE",
            Self::DnsServerError => "DNS_SERVER_ERROR",
        }
    }

    /// Parses the SES name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::HostNotFound,
            Self::TypeNotFound,
            Self::InvalidValue,
            Self::DnsServerError,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}
