//! Where mail for a domain goes (RFC 5321 section 5.1): its MX hosts by
//! preference, or the domain itself when it has no MX; none for a null MX
//! (RFC 7505). Asked through the configured resolvers.

use crate::DnsClient;
use hickory_resolver::proto::rr::{RData, RecordType};
use std::net::IpAddr;

/// One host that takes the domain's mail, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchanger {
    pub host: String,
    pub addresses: Vec<IpAddr>,
}

/// Why no host was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxError {
    /// DNS did not answer; try again later.
    Temporary(String),
    /// The domain takes no mail: it does not exist, publishes a null MX, or
    /// none of its MX hosts has an address.
    NoMail(String),
}

impl DnsClient {
    /// The hosts to try for mail to `domain`, best first.
    pub async fn mail_exchangers(&self, domain: &str) -> Result<Vec<Exchanger>, MxError> {
        let resolver = &self.recursive;
        let mut hosts: Vec<(u16, String)> =
            match resolver.lookup(format!("{domain}."), RecordType::MX).await {
                Ok(lookup) => lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(mx) => Some((
                            mx.preference,
                            mx.exchange
                                .to_ascii()
                                .trim_end_matches('.')
                                .to_ascii_lowercase(),
                        )),
                        _ => None,
                    })
                    .collect(),
                Err(err) if err.is_nx_domain() => {
                    return Err(MxError::NoMail(format!(
                        "{domain} does not exist (NXDOMAIN)"
                    )));
                }
                Err(err) if err.is_no_records_found() => Vec::new(),
                Err(err) => {
                    return Err(MxError::Temporary(format!(
                        "MX lookup for {domain} failed: {err}"
                    )));
                }
            };
        if hosts.iter().any(|(_, host)| host.is_empty()) {
            return Err(MxError::NoMail(format!(
                "{domain} publishes a null MX: it takes no mail"
            )));
        }
        if hosts.is_empty() {
            // No MX: the domain itself is the mail host (the "implicit MX").
            hosts.push((0, domain.to_string()));
        }
        hosts.sort();
        let mut found = Vec::new();
        let mut temporary = None;
        for (_, host) in hosts {
            match resolver.lookup_ip(format!("{host}.")).await {
                Ok(ips) => found.push(Exchanger {
                    host,
                    addresses: ips.iter().collect(),
                }),
                Err(err) if err.is_nx_domain() || err.is_no_records_found() => {}
                Err(err) => temporary = Some(format!("address lookup for {host} failed: {err}")),
            }
        }
        match (found.is_empty(), temporary) {
            (false, _) => Ok(found),
            (true, Some(reason)) => Err(MxError::Temporary(reason)),
            (true, None) => Err(MxError::NoMail(format!(
                "no mail host of {domain} has an address"
            ))),
        }
    }
}
