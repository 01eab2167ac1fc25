//! Findings: what a DNS check found wrong with a customer's records, as data.
//! Each variant carries what its words need (the record that fixes it, what
//! was found instead); the words are not here but beside the interfaces'
//! other texts (absender-service `identity/finding_words.rs`, every
//! language), so a stored finding reads in any of them.

use crate::RecordType;
use serde::{Deserialize, Serialize};

/// A record as the customer must publish it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// The record's full name, without trailing dot.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub record_type: RecordType,
    /// Its value: the CNAME target, the TXT text, or the MX preference and host.
    pub value: String,
}

impl Fix {
    /// A record of `record_type` at `name` with `value`.
    pub fn new(name: &str, record_type: RecordType, value: &str) -> Self {
        Self {
            name: name.to_string(),
            record_type,
            value: value.to_string(),
        }
    }

    /// Whether this record is at `name` (case and a trailing dot ignored).
    pub fn is_at(&self, name: &str) -> bool {
        self.name
            .trim_end_matches('.')
            .eq_ignore_ascii_case(name.trim_end_matches('.'))
    }
}

impl std::fmt::Display for Fix {
    /// As zone files and DNS providers show it: `name TYPE value`, TXT values quoted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record_type {
            RecordType::Txt => write!(f, "{} TXT \"{}\"", self.name, self.value),
            other => write!(f, "{} {} {}", self.name, other.as_str(), self.value),
        }
    }
}

/// One thing a check found. Serialized with its `code` beside its parameters;
/// the codes are a contract (API, events, stored checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Finding {
    /// The DNS server for `name` did not answer in time.
    DnsTimeout { name: String },
    /// The DNS server for `name` answered with an error.
    DnsServfail { name: String },
    /// The record is not there.
    RecordMissing { fix: Fix },
    /// A CNAME points elsewhere.
    CnameWrongTarget { fix: Fix, found: Vec<String> },
    /// A CNAME stands beside other records at its name.
    CnameWithOtherData { fix: Fix },
    /// A TXT record (another key) where the CNAME belongs.
    TxtInsteadOfCname { fix: Fix },
    /// A CNAME where the organization's own key belongs, as a TXT record.
    CnameInsteadOfTxt { fix: Fix, found: Vec<String> },
    /// The TXT record publishes another key than the organization gave absender.
    DkimKeyMismatch { fix: Fix },
    /// Several TXT records where one key (or the CNAME) belongs.
    DkimMultipleRecords { fix: Fix, count: usize },
    /// The record exists under the name with the domain appended twice.
    DomainAppendedTwice { fix: Fix },
    /// The domain has no SPF policy.
    SpfMissing { fix: Fix },
    /// More than one SPF policy, so none counts.
    SpfMultipleRecords {
        fix: Fix,
        count: usize,
        include: String,
    },
    /// The policy needs more than `limit` DNS lookups.
    SpfTooManyLookups { fix: Fix, limit: u32 },
    /// The policy names more than `limit` names that hold nothing.
    SpfTooManyVoidLookups { fix: Fix, limit: u32 },
    /// The policy does not parse.
    SpfSyntax { fix: Fix, found: String },
    /// The policy does not authorize the platform; `all_first` is an `all`
    /// term that stands before the platform's include.
    SpfNotAuthorized {
        fix: Fix,
        include: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        all_first: Option<String>,
    },
    /// The MAIL FROM domain's MX points elsewhere.
    MxWrongTarget { fix: Fix, found: Vec<String> },
    /// Advice: the domain has no DMARC policy.
    DmarcMissing { fix: Fix },
}

/// The most found values a finding keeps (a zone may hold hundreds).
const MAX_FOUND: usize = 5;

/// Found values from DNS, which the domain's owner wrote: cleaned and bounded.
pub(crate) fn found(values: &[String]) -> Vec<String> {
    values
        .iter()
        .take(MAX_FOUND)
        .map(|v| crate::outside::clean(v))
        .collect()
}

impl Finding {
    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::DnsTimeout { .. } => "dns_timeout",
            Self::DnsServfail { .. } => "dns_servfail",
            Self::RecordMissing { .. } => "record_missing",
            Self::CnameWrongTarget { .. } => "cname_wrong_target",
            Self::CnameWithOtherData { .. } => "cname_with_other_data",
            Self::TxtInsteadOfCname { .. } => "txt_instead_of_cname",
            Self::CnameInsteadOfTxt { .. } => "cname_instead_of_txt",
            Self::DkimKeyMismatch { .. } => "dkim_key_mismatch",
            Self::DkimMultipleRecords { .. } => "dkim_multiple_records",
            Self::DomainAppendedTwice { .. } => "domain_appended_twice",
            Self::SpfMissing { .. } => "spf_missing",
            Self::SpfMultipleRecords { .. } => "spf_multiple_records",
            Self::SpfTooManyLookups { .. } => "spf_too_many_lookups",
            Self::SpfTooManyVoidLookups { .. } => "spf_too_many_void_lookups",
            Self::SpfSyntax { .. } => "spf_syntax",
            Self::SpfNotAuthorized { .. } => "spf_not_authorized",
            Self::MxWrongTarget { .. } => "mx_wrong_target",
            Self::DmarcMissing { .. } => "dmarc_missing",
        }
    }

    /// The record that fixes it; none when a lookup failed.
    pub fn fix(&self) -> Option<&Fix> {
        match self {
            Self::DnsTimeout { .. } | Self::DnsServfail { .. } => None,
            Self::RecordMissing { fix }
            | Self::CnameWrongTarget { fix, .. }
            | Self::CnameWithOtherData { fix }
            | Self::TxtInsteadOfCname { fix }
            | Self::CnameInsteadOfTxt { fix, .. }
            | Self::DkimKeyMismatch { fix }
            | Self::DkimMultipleRecords { fix, .. }
            | Self::DomainAppendedTwice { fix }
            | Self::SpfMissing { fix }
            | Self::SpfMultipleRecords { fix, .. }
            | Self::SpfTooManyLookups { fix, .. }
            | Self::SpfTooManyVoidLookups { fix, .. }
            | Self::SpfSyntax { fix, .. }
            | Self::SpfNotAuthorized { fix, .. }
            | Self::MxWrongTarget { fix, .. }
            | Self::DmarcMissing { fix } => Some(fix),
        }
    }

    /// Whether the record is simply not there yet (no alarm while the
    /// customer has not published it).
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::RecordMissing { .. })
    }

    /// A finding stored by absender before findings were data, rebuilt from
    /// its code, its fix as `name TYPE value`, and its English words (the
    /// values the words quoted; the English templates are absender's own).
    /// `None` for a code absender never wrote.
    pub fn from_words(code: &str, record: Option<&str>, english: &str) -> Option<Self> {
        let fix = record.and_then(parse_record);
        let between = |start: &str, end: &str| -> Option<String> {
            let rest = &english[english.find(start)? + start.len()..];
            Some(rest[..rest.find(end)?].to_string())
        };
        let list = |s: Option<String>| -> Vec<String> {
            s.map(|s| s.split(", ").map(str::to_string).collect())
                .unwrap_or_default()
        };
        let count = || {
            english
                .split_whitespace()
                .find_map(|w| w.parse::<usize>().ok())
                .unwrap_or(2)
        };
        let name = || {
            fix.as_ref()
                .map(|f| f.name.clone())
                .unwrap_or_else(|| between("for ", " ").unwrap_or_default())
        };
        let include = |fix: &Option<Fix>| {
            fix.as_ref()
                .and_then(|f| {
                    f.value
                        .split_whitespace()
                        .find_map(|t| t.strip_prefix("include:"))
                })
                .unwrap_or_default()
                .to_string()
        };
        Some(match code {
            "dns_timeout" => Self::DnsTimeout { name: name() },
            "dns_servfail" => Self::DnsServfail { name: name() },
            "spf_too_many_lookups" => Self::SpfTooManyLookups {
                fix: fix?,
                limit: crate::check::SPF_MAX_LOOKUPS,
            },
            "spf_too_many_void_lookups" => Self::SpfTooManyVoidLookups {
                fix: fix?,
                limit: crate::check::SPF_MAX_VOID_LOOKUPS,
            },
            "spf_multiple_records" => Self::SpfMultipleRecords {
                include: include(&fix),
                count: count(),
                fix: fix?,
            },
            "spf_not_authorized" => Self::SpfNotAuthorized {
                include: include(&fix),
                all_first: between("has \"", "\" before"),
                fix: fix?,
            },
            "spf_syntax" => Self::SpfSyntax {
                found: between("malformed: \"", "\". Replace").unwrap_or_default(),
                fix: fix?,
            },
            "cname_wrong_target" => Self::CnameWrongTarget {
                found: list(between(" points to ", " but must")),
                fix: fix?,
            },
            "mx_wrong_target" => Self::MxWrongTarget {
                found: list(between(" points to ", " but must")),
                fix: fix?,
            },
            "dkim_multiple_records" => Self::DkimMultipleRecords {
                count: count(),
                fix: fix?,
            },
            "record_missing" => Self::RecordMissing { fix: fix? },
            "cname_with_other_data" => Self::CnameWithOtherData { fix: fix? },
            "txt_instead_of_cname" => Self::TxtInsteadOfCname { fix: fix? },
            "domain_appended_twice" => Self::DomainAppendedTwice { fix: fix? },
            "spf_missing" => Self::SpfMissing { fix: fix? },
            "dmarc_missing" => Self::DmarcMissing { fix: fix? },
            _ => return None,
        })
    }
}

/// `name TYPE value` as [`Fix`]'s `Display` writes it.
fn parse_record(record: &str) -> Option<Fix> {
    let (name, rest) = record.split_once(' ')?;
    let (record_type, value) = rest.split_once(' ')?;
    let record_type = match record_type {
        "CNAME" => RecordType::Cname,
        "TXT" => RecordType::Txt,
        "MX" => RecordType::Mx,
        _ => return None,
    };
    let value = match record_type {
        RecordType::Txt => value.trim_matches('"'),
        _ => value,
    };
    Some(Fix::new(name, record_type, value))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cname() -> Fix {
        Fix::new(
            "s1._domainkey.acme.test",
            RecordType::Cname,
            "s1.dkim.absender.test",
        )
    }

    #[test]
    fn findings_are_stored_as_their_code_and_parameters() {
        let finding = Finding::CnameWrongTarget {
            fix: cname(),
            found: vec!["other.example.".into()],
        };
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "cname_wrong_target",
                "fix": {"name": "s1._domainkey.acme.test", "type": "CNAME", "value": "s1.dkim.absender.test"},
                "found": ["other.example."],
            })
        );
        assert_eq!(json["code"], finding.code());
        assert_eq!(serde_json::from_value::<Finding>(json).unwrap(), finding);
    }

    #[test]
    fn fixes_read_as_dns_providers_show_them() {
        assert_eq!(
            cname().to_string(),
            "s1._domainkey.acme.test CNAME s1.dkim.absender.test"
        );
        let txt = Fix::new("acme.test", RecordType::Txt, "v=spf1 include:spf.x ~all");
        assert_eq!(
            txt.to_string(),
            "acme.test TXT \"v=spf1 include:spf.x ~all\""
        );
        assert!(txt.is_at("ACME.test."));
        assert!(!txt.is_at("x.acme.test"));
        for fix in [
            cname(),
            txt,
            Fix::new("b.acme.test", RecordType::Mx, "10 bounce.x"),
        ] {
            assert_eq!(parse_record(&fix.to_string()), Some(fix));
        }
    }

    #[test]
    fn findings_stored_as_words_are_rebuilt_with_their_parameters() {
        let wrong = Finding::from_words(
            "cname_wrong_target",
            Some("s1._domainkey.acme.test CNAME s1.dkim.absender.test"),
            "The CNAME record s1._domainkey.acme.test points to a.example., b.example. but must point to s1.dkim.absender.test.",
        );
        assert_eq!(
            wrong,
            Some(Finding::CnameWrongTarget {
                fix: cname(),
                found: vec!["a.example.".into(), "b.example.".into()],
            })
        );
        let spf = Finding::from_words(
            "spf_not_authorized",
            Some("acme.test TXT \"v=spf1 include:spf.absender.test ~all\""),
            "The SPF record of acme.test has \"~all\" before include:spf.absender.test. Everything after \"~all\" is ignored: put include:spf.absender.test before it.",
        );
        assert_eq!(
            spf,
            Some(Finding::SpfNotAuthorized {
                fix: Fix::new(
                    "acme.test",
                    RecordType::Txt,
                    "v=spf1 include:spf.absender.test ~all"
                ),
                include: "spf.absender.test".into(),
                all_first: Some("~all".into()),
            })
        );
        assert_eq!(
            Finding::from_words(
                "dns_timeout",
                None,
                "The DNS server for acme.test did not answer in time. We will try again automatically."
            ),
            Some(Finding::DnsTimeout {
                name: "acme.test".into()
            })
        );
        assert_eq!(
            Finding::from_words(
                "dkim_multiple_records",
                Some("s1._domainkey.acme.test CNAME s1.dkim.absender.test"),
                "s1._domainkey.acme.test has 3 TXT records; a key needs exactly one record."
            ),
            Some(Finding::DkimMultipleRecords {
                fix: cname(),
                count: 3
            })
        );
        assert_eq!(Finding::from_words("no_such_code", None, ""), None);
        assert_eq!(Finding::from_words("record_missing", None, "x"), None);
    }
}
