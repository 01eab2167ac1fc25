//! absender's DNS adapter. An authoritative server (hickory) answers the
//! platform's DKIM key zone, its SPF include domain and the local zones from
//! the store (with a short cache), so that every node answers alike and a key
//! published or withdrawn is visible within `dns.answer_cache_ttl`. The DNS
//! client ([`DnsClient`]) observes customers' records, MX hosts and DKIM
//! keys. It decides nothing about identities.

mod authority;
mod client;
mod mail_auth_adapter;
mod mx;
mod rrl;
mod server;
mod udp;

pub use authority::{Authority, Lookup, PlatformZones};
pub use client::{DnsClient, Observation, SoaSeen, Target, Upstream};
pub use mail_auth_adapter::DkimVerdict;
pub use mx::{Exchanger, MxError};
pub use server::{DnsServer, Rrl};
