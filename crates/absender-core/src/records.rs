//! The DNS records an organization must publish for an identity (Easy DKIM + SPF).

use crate::{Domain, Selector};
use serde::{Deserialize, Serialize};

/// The platform's DNS names that customer records point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformDns {
    /// The zone absender serves DKIM keys from (`dkim.absender.test`).
    pub dkim_zone: Domain,
    /// The domain customers `include:` in their SPF record (`spf.absender.test`).
    pub spf_domain: Domain,
    /// The host that receives bounces; custom MAIL FROM domains point their MX here.
    pub bounce_host: Domain,
}

/// DNS record types absender asks customers to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordType {
    /// An alias to the platform's key.
    #[serde(rename = "CNAME")]
    Cname,
    /// A text record (SPF).
    #[serde(rename = "TXT")]
    Txt,
    /// A mail exchanger (custom MAIL FROM).
    #[serde(rename = "MX")]
    Mx,
}

impl RecordType {
    /// The type's name as DNS providers show it.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Cname => "CNAME",
            RecordType::Txt => "TXT",
            RecordType::Mx => "MX",
        }
    }
}

/// What a record is for; each identity part has its own records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordPurpose {
    /// One of the three Easy DKIM selectors.
    Dkim,
    /// The SPF policy of the sending domain.
    Spf,
    /// The custom MAIL FROM domain (MX and SPF); optional.
    MailFrom,
}

/// One record to publish, names without trailing dot as in the seed's CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// The full name of the record.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub record_type: RecordType,
    /// Its value (CNAME target or TXT text).
    pub value: String,
    /// Which part of the identity it verifies.
    pub purpose: RecordPurpose,
}

/// The SPF policy absender asks for at a customer domain.
pub fn spf_policy(platform: &PlatformDns) -> String {
    format!("v=spf1 include:{} ~all", platform.spf_domain)
}

/// The policy absender serves at its SPF include domain: the sending IPs.
pub fn include_domain_policy(sending_ips: &[std::net::IpAddr]) -> String {
    let mechanisms: Vec<String> = sending_ips
        .iter()
        .map(|ip| match ip {
            std::net::IpAddr::V4(v4) => format!("ip4:{v4}"),
            std::net::IpAddr::V6(v6) => format!("ip6:{v6}"),
        })
        .collect();
    format!("v=spf1 {} ~all", mechanisms.join(" "))
}

/// Preference of the MX absender asks for at a custom MAIL FROM domain.
pub const MAIL_FROM_MX_PREFERENCE: u16 = 10;

/// The MX value a custom MAIL FROM domain needs.
pub fn mail_from_mx(platform: &PlatformDns) -> String {
    format!("{MAIL_FROM_MX_PREFERENCE} {}", platform.bounce_host)
}

/// The name a selector's key is published under in the platform zone.
pub fn platform_key_name(selector: &Selector, platform: &PlatformDns) -> String {
    format!("{selector}.{}", platform.dkim_zone)
}

/// How a domain's mail is signed, which decides its DKIM records.
#[derive(Debug, Clone, Copy)]
pub enum DkimKeys<'a> {
    /// Easy DKIM: absender's keys under these selectors, one CNAME each.
    Easy(&'a [Selector]),
    /// The organization's own key (bring-your-own DKIM): one TXT record
    /// under its selector with the public key (base64).
    Own {
        selector: &'a str,
        public_key: &'a str,
    },
}

/// The records for `domain` signed with `dkim`: its DKIM records, the SPF
/// TXT record, then the custom MAIL FROM domain's MX and SPF TXT.
pub fn required_records(
    domain: &Domain,
    dkim: DkimKeys<'_>,
    platform: &PlatformDns,
    mail_from: &str,
) -> Vec<DnsRecord> {
    let dkim: Vec<DnsRecord> = match dkim {
        DkimKeys::Easy(selectors) => selectors
            .iter()
            .map(|selector| DnsRecord {
                name: format!("{selector}._domainkey.{domain}"),
                record_type: RecordType::Cname,
                value: platform_key_name(selector, platform),
                purpose: RecordPurpose::Dkim,
            })
            .collect(),
        DkimKeys::Own {
            selector,
            public_key,
        } => vec![DnsRecord {
            name: format!("{selector}._domainkey.{domain}"),
            record_type: RecordType::Txt,
            value: crate::check::own_key_record(public_key),
            purpose: RecordPurpose::Dkim,
        }],
    };
    let spf = DnsRecord {
        name: domain.to_string(),
        record_type: RecordType::Txt,
        value: spf_policy(platform),
        purpose: RecordPurpose::Spf,
    };
    let mail_from = [
        DnsRecord {
            name: mail_from.to_string(),
            record_type: RecordType::Mx,
            value: mail_from_mx(platform),
            purpose: RecordPurpose::MailFrom,
        },
        DnsRecord {
            name: mail_from.to_string(),
            record_type: RecordType::Txt,
            value: spf_policy(platform),
            purpose: RecordPurpose::MailFrom,
        },
    ];
    dkim.into_iter()
        .chain(std::iter::once(spf))
        .chain(mail_from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_domain_policy_lists_every_sending_ip() {
        let ips = ["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        assert_eq!(
            include_domain_policy(&ips),
            "v=spf1 ip4:127.0.0.1 ip6:::1 ~all"
        );
    }

    #[test]
    fn records_are_three_cnames_and_an_spf_policy() {
        let platform = PlatformDns {
            dkim_zone: Domain::parse("dkim.absender.test").unwrap(),
            spf_domain: Domain::parse("spf.absender.test").unwrap(),
            bounce_host: Domain::parse("bounce.absender.test").unwrap(),
        };
        let selectors: Vec<Selector> = ["a", "b", "c"]
            .iter()
            .map(|c| Selector::parse(&c.repeat(32)).unwrap())
            .collect();
        let records = required_records(
            &Domain::parse("Acme.test").unwrap(),
            DkimKeys::Easy(&selectors),
            &platform,
            "bounce.acme.test",
        );
        assert_eq!(records.len(), 6);
        assert_eq!(
            (records[4].record_type, records[4].value.as_str()),
            (RecordType::Mx, "10 bounce.absender.test")
        );
        assert_eq!(
            (records[5].name.as_str(), records[5].purpose),
            ("bounce.acme.test", RecordPurpose::MailFrom)
        );
        let a = "a".repeat(32);
        assert_eq!(records[0].name, format!("{a}._domainkey.acme.test"));
        assert_eq!(records[0].record_type, RecordType::Cname);
        assert_eq!(records[0].value, format!("{a}.dkim.absender.test"));
        assert_eq!(records[3].name, "acme.test");
        assert_eq!(records[3].record_type, RecordType::Txt);
        assert_eq!(records[3].value, "v=spf1 include:spf.absender.test ~all");
        assert_eq!(records[3].purpose, RecordPurpose::Spf);

        let own = required_records(
            &Domain::parse("acme.test").unwrap(),
            DkimKeys::Own {
                selector: "s2026",
                public_key: "MIIB",
            },
            &platform,
            "bounce.acme.test",
        );
        assert_eq!(own.len(), 4, "one TXT record instead of three CNAMEs");
        assert_eq!(
            (
                own[0].name.as_str(),
                own[0].record_type,
                own[0].value.as_str()
            ),
            (
                "s2026._domainkey.acme.test",
                RecordType::Txt,
                "v=DKIM1; k=rsa; p=MIIB"
            )
        );
    }
}
