//! absender's DNS client: the checks (what a customer published, asked of
//! the name servers authoritative for each exact name, so that a fix is seen
//! at once rather than after caches expire), MX lookups for delivery and DKIM
//! key lookups for verification. It only observes; the core judges.

use crate::PlatformZones;
use crate::mail_auth_adapter as spf;
use absender_core::check::{
    Answer, SPF_MAX_LOOKUPS, SPF_MAX_VOID_LOOKUPS, SelectorObservation, SpfLint, SpfObservation,
};
use absender_core::dns::DnsName;
use absender_store::{Store, StoreError};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Which resolvers find customers' name servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// The machine's resolvers.
    System,
    /// Only these; then no other server is ever asked.
    Explicit(Vec<SocketAddr>),
}

/// What to check for one identity.
#[derive(Debug, Clone)]
pub struct Target {
    /// The customer domain.
    pub domain: String,
    /// Per selector: its name at the customer, the CNAME target (`None`:
    /// the organization's own key, a TXT record), the public key.
    pub selectors: Vec<(String, Option<String>, String)>,
    /// The platform's SPF include domain.
    pub spf_include: String,
    /// IPs that SPF must authorize.
    pub sending_ips: Vec<IpAddr>,
    /// The platform's domain, as HELO for SPF evaluation.
    pub helo_domain: String,
    /// The custom MAIL FROM domain (`bounce.<domain>`).
    pub mail_from: String,
}

/// The SOA of the zone that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoaSeen {
    /// The zone apex.
    pub zone: String,
    /// Its primary name server.
    pub mname: String,
    /// Its serial.
    pub serial: u32,
}

/// Everything seen for one identity.
#[derive(Debug, Clone)]
pub struct Observation {
    /// One per selector.
    pub dkim: Vec<SelectorObservation>,
    /// The SPF policy.
    pub spf: SpfObservation,
    /// TXT at `_dmarc.<domain>`.
    pub dmarc: Answer<Vec<String>>,
    /// The SOA of the domain's zone.
    pub soa: Option<SoaSeen>,
    /// MX hosts at the MAIL FROM domain.
    pub mail_from_mx: Answer<Vec<String>>,
    /// The SPF policy at the MAIL FROM domain.
    pub mail_from_spf: SpfObservation,
}

impl Observation {
    /// What a check that ran out of time saw: no answer anywhere.
    pub fn timed_out(target: &Target) -> Self {
        let spf = |domain: &str| SpfObservation {
            domain: domain.to_string(),
            txts: Answer::Timeout,
            lint: None,
            evaluations: Vec::new(),
        };
        Self {
            dkim: target
                .selectors
                .iter()
                .map(|(name, expected_target, public_key)| SelectorObservation {
                    name: name.clone(),
                    expected_target: expected_target.clone(),
                    public_key: public_key.clone(),
                    cnames: Answer::Timeout,
                    txts: Answer::Timeout,
                    doubled_exists: false,
                })
                .collect(),
            spf: spf(&target.domain),
            dmarc: Answer::Timeout,
            soa: None,
            mail_from_mx: Answer::Timeout,
            mail_from_spf: spf(&target.mail_from),
        }
    }
}

/// The answers one check has read for SPF, so that no name is asked twice.
#[derive(Default)]
struct TxtMemo(HashMap<(String, RecordType), Answer<Vec<String>>>);

impl TxtMemo {
    async fn txt(&mut self, resolver: &TokioResolver, name: &str) -> Answer<Vec<String>> {
        self.ask(resolver, name, RecordType::TXT).await
    }

    async fn ask(
        &mut self,
        resolver: &TokioResolver,
        name: &str,
        rtype: RecordType,
    ) -> Answer<Vec<String>> {
        let key = (name.trim_end_matches('.').to_ascii_lowercase(), rtype);
        if let Some(answer) = self.0.get(&key) {
            return answer.clone();
        }
        let answer = ask_following_cnames(resolver, &key.0, rtype).await;
        self.0.insert(key, answer.clone());
        answer
    }

    /// Per name read, its one SPF policy or `None`; failed questions are left
    /// out, so that the evaluation asks again and sees the failure itself.
    fn spf_policies(&self) -> Vec<(String, Option<String>)> {
        self.0
            .iter()
            .filter(|((_, rtype), answer)| *rtype == RecordType::TXT && !answer.is_temporary())
            .map(|((name, _), answer)| {
                let policy = answer
                    .records()
                    .into_iter()
                    .flatten()
                    .find(|t| absender_core::check::is_spf(t))
                    .cloned();
                (name.clone(), policy)
            })
            .collect()
    }
}

/// RFC 7208 §4.6.4 over one whole evaluation, nested includes and redirects
/// included: the terms that cost a DNS lookup, and the lookups that found
/// nothing.
#[derive(Debug, Default, Clone, Copy)]
struct LookupBudget {
    lookups: u32,
    voids: u32,
}

impl LookupBudget {
    fn exceeded(&self) -> bool {
        self.lookups > SPF_MAX_LOOKUPS || self.voids > SPF_MAX_VOID_LOOKUPS
    }
}

/// Asks DNS (checks, MX, DKIM keys); cheap to clone.
#[derive(Clone)]
pub struct DnsClient {
    own: TokioResolver,
    pub(crate) recursive: TokioResolver,
    explicit: bool,
    store: Store,
    zones: PlatformZones,
    timeout: Duration,
}

fn options(cache: bool, timeout: Duration) -> ResolverOpts {
    let mut options = ResolverOpts::default();
    options.timeout = timeout;
    options.attempts = 2;
    if !cache {
        options.cache_size = 0;
        // Authoritative servers are asked directly: no recursion wanted.
        options.recursion_desired = false;
    }
    options
}

fn resolver_for(servers: &[SocketAddr], cache: bool, timeout: Duration) -> TokioResolver {
    let configs = servers
        .iter()
        .map(|addr| {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
        })
        .collect();
    Resolver::builder_with_config(
        ResolverConfig::from_name_servers(configs),
        TokioRuntimeProvider::default(),
    )
    .with_options(options(cache, timeout))
    .build()
    .expect("a resolver over explicit servers builds")
}

/// The records of `rtype` owned by exactly `name`, as text.
fn owned_by(records: &[Record], name: &str, rtype: RecordType) -> Vec<String> {
    records
        .iter()
        .filter(|r| {
            r.record_type() == rtype
                && r.name
                    .to_ascii()
                    .trim_end_matches('.')
                    .eq_ignore_ascii_case(name)
        })
        .filter_map(|r| match &r.data {
            RData::CNAME(target) => Some(
                target
                    .0
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase(),
            ),
            RData::MX(mx) => Some(
                mx.exchange
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase(),
            ),
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            ),
            RData::A(a) => Some(a.to_string()),
            RData::AAAA(aaaa) => Some(aaaa.to_string()),
            _ => None,
        })
        .collect()
}

async fn ask(resolver: &TokioResolver, name: &str, rtype: RecordType) -> Answer<Vec<String>> {
    match resolver.lookup(format!("{name}."), rtype).await {
        Ok(lookup) => {
            let records = owned_by(lookup.answers(), name, rtype);
            if records.is_empty() {
                Answer::NoData
            } else {
                Answer::Records(records)
            }
        }
        Err(err) => classify(&err),
    }
}

/// Like [`ask`], but the records may sit at the end of a CNAME chain in the
/// answer (an SPF include that is an alias of a provider's name, as
/// resolvers and SPF evaluators follow it).
async fn ask_following_cnames(
    resolver: &TokioResolver,
    name: &str,
    rtype: RecordType,
) -> Answer<Vec<String>> {
    match resolver.lookup(format!("{name}."), rtype).await {
        Ok(lookup) => {
            let mut owner = name.to_ascii_lowercase();
            // A chain longer than this is a loop or an abuse.
            for _ in 0..8 {
                match owned_by(lookup.answers(), &owner, RecordType::CNAME).pop() {
                    Some(target) => owner = target,
                    None => break,
                }
            }
            let records = owned_by(lookup.answers(), &owner, rtype);
            if records.is_empty() {
                Answer::NoData
            } else {
                Answer::Records(records)
            }
        }
        Err(err) => classify(&err),
    }
}

/// The CNAME and TXT records at `name`, with one TXT question where possible:
/// its answer carries the CNAME the server followed, and the TXT at the name.
async fn cname_and_txt(
    server: &TokioResolver,
    name: &str,
) -> (Answer<Vec<String>>, Answer<Vec<String>>) {
    let as_answer = |records: Vec<String>| {
        if records.is_empty() {
            Answer::NoData
        } else {
            Answer::Records(records)
        }
    };
    match server.lookup(format!("{name}."), RecordType::TXT).await {
        Ok(lookup) => {
            let txts = as_answer(owned_by(lookup.answers(), name, RecordType::TXT));
            let mut cnames = as_answer(owned_by(lookup.answers(), name, RecordType::CNAME));
            if matches!(txts, Answer::Records(_)) && cnames == Answer::NoData {
                // A TXT at the name hides a CNAME beside it (a broken zone): look.
                cnames = ask(server, name, RecordType::CNAME).await;
            }
            (cnames, txts)
        }
        Err(err) => match classify::<Vec<String>>(&err) {
            // Following a CNAME can fail at its target: ask for the CNAME itself.
            failed if failed.is_temporary() => {
                let cnames = ask(server, name, RecordType::CNAME).await;
                let txts = if matches!(cnames, Answer::Records(_)) {
                    Answer::NoData
                } else {
                    failed
                };
                (cnames, txts)
            }
            negative => (negative.clone(), negative),
        },
    }
}

fn classify<T>(err: &NetError) -> Answer<T> {
    match err {
        _ if err.is_nx_domain() => Answer::NxDomain,
        _ if err.is_no_records_found() => Answer::NoData,
        NetError::Timeout | NetError::NoConnections | NetError::Io(_) => Answer::Timeout,
        NetError::Dns(DnsError::ResponseCode(_)) => Answer::ServFail,
        _ => Answer::ServFail,
    }
}

impl DnsClient {
    /// A client that asks `own_dns` for absender's own zones and `upstream`
    /// for the rest.
    /// `timeout` bounds each question (tried twice).
    pub fn new(
        own_dns: SocketAddr,
        upstream: &Upstream,
        store: Store,
        zones: PlatformZones,
        timeout: Duration,
    ) -> std::io::Result<Self> {
        let own = resolver_for(&[own_dns], false, timeout);
        let (recursive, explicit) = match upstream {
            Upstream::Explicit(servers) => (resolver_for(servers, true, timeout), true),
            Upstream::System => {
                let mut builder = Resolver::builder_tokio().map_err(std::io::Error::other)?;
                *builder.options_mut() = options(true, timeout);
                (builder.build().map_err(std::io::Error::other)?, false)
            }
        };
        Ok(Self {
            own,
            recursive,
            explicit,
            store,
            zones,
            timeout,
        })
    }

    /// Whether absender itself is authoritative for `name`.
    fn is_ours(&self, name: &DnsName, local_zones: &[DnsName]) -> bool {
        name.is_within(&self.zones.dkim_zone)
            || name.is_within(&self.zones.spf_domain)
            || local_zones.iter().any(|z| name.is_within(z))
    }

    /// The servers to ask about `name`: absender's own for its zones, else the
    /// name servers of the zone cut holding `name` (found through the
    /// resolvers), else the resolvers themselves.
    async fn authoritative(
        &self,
        name: &str,
        local_zones: &[DnsName],
        found: &mut HashMap<String, TokioResolver>,
    ) -> TokioResolver {
        if DnsName::parse(name).is_ok_and(|n| self.is_ours(&n, local_zones)) {
            return self.own.clone();
        }
        if self.explicit {
            // Explicit resolvers: no query may go anywhere else.
            return self.recursive.clone();
        }
        let Some(zone) = self.zone_cut(name).await else {
            return self.recursive.clone();
        };
        if let Some(resolver) = found.get(&zone) {
            return resolver.clone();
        }
        let resolver = self.name_servers(&zone).await.map_or_else(
            || self.recursive.clone(),
            |ips| resolver_for(&ips, false, self.timeout),
        );
        found.insert(zone, resolver.clone());
        resolver
    }

    /// The apex of the zone holding `name`, from the SOA the resolvers return.
    async fn zone_cut(&self, name: &str) -> Option<String> {
        match self
            .recursive
            .lookup(format!("{name}."), RecordType::SOA)
            .await
        {
            Ok(lookup) => lookup
                .answers()
                .iter()
                .find(|r| r.record_type() == RecordType::SOA)
                .map(|r| r.name.to_ascii()),
            Err(err) => err.into_soa().map(|soa| soa.name.to_ascii()),
        }
        .map(|apex| apex.trim_end_matches('.').to_ascii_lowercase())
    }

    async fn name_servers(&self, zone: &str) -> Option<Vec<SocketAddr>> {
        let ns = self
            .recursive
            .lookup(format!("{zone}."), RecordType::NS)
            .await
            .ok()?;
        let mut addrs = Vec::new();
        for record in ns.answers() {
            if let RData::NS(host) = &record.data
                && let Ok(ips) = self.recursive.lookup_ip(host.0.clone()).await
            {
                addrs.extend(ips.iter().map(|ip| SocketAddr::new(ip, 53)));
            }
        }
        (!addrs.is_empty()).then_some(addrs)
    }

    /// Verifies the DKIM signatures of a message through the resolvers (with
    /// `local` resolvers: absender's own DNS server).
    pub async fn verify_dkim(&self, raw: &[u8]) -> Vec<spf::DkimVerdict> {
        spf::verify_dkim(&self.recursive, raw).await
    }

    /// Looks at everything the identity's domain must publish.
    pub async fn observe(&self, target: &Target) -> Result<Observation, StoreError> {
        let local_zones: Vec<DnsName> = self
            .store
            .dns_zones()
            .await?
            .iter()
            .filter_map(|z| DnsName::parse(&z.name).ok())
            .collect();
        let mut found = HashMap::new();
        let mut memo = TxtMemo::default();
        let domain = target.domain.as_str();

        let mut dkim = Vec::with_capacity(target.selectors.len());
        for (name, expected_target, public_key) in &target.selectors {
            let server = self.authoritative(name, &local_zones, &mut found).await;
            let (cnames, txts) = cname_and_txt(&server, name).await;
            let nothing = |a: &Answer<Vec<String>>| matches!(a, Answer::NxDomain | Answer::NoData);
            let doubled_exists = if nothing(&cnames) && nothing(&txts) {
                let doubled = format!("{name}.{domain}");
                let server = self.authoritative(&doubled, &local_zones, &mut found).await;
                matches!(
                    ask(&server, &doubled, RecordType::CNAME).await,
                    Answer::Records(_) | Answer::NoData
                )
            } else {
                false
            };
            dkim.push(SelectorObservation {
                name: name.clone(),
                expected_target: expected_target.clone(),
                public_key: public_key.clone(),
                cnames,
                txts,
                doubled_exists,
            });
        }

        let server = self.authoritative(domain, &local_zones, &mut found).await;
        let spf = self
            .observe_spf(&server, &target.domain, target, &local_zones, &mut memo)
            .await;
        let soa = self.soa(&server, domain).await;
        let dmarc_name = format!("_dmarc.{domain}");
        let dmarc_server = self
            .authoritative(&dmarc_name, &local_zones, &mut found)
            .await;
        let dmarc = ask(&dmarc_server, &dmarc_name, RecordType::TXT).await;
        let mail_from_server = self
            .authoritative(&target.mail_from, &local_zones, &mut found)
            .await;
        let mail_from_mx = ask(&mail_from_server, &target.mail_from, RecordType::MX).await;
        let mail_from_spf = self
            .observe_spf(
                &mail_from_server,
                &target.mail_from,
                target,
                &local_zones,
                &mut memo,
            )
            .await;
        Ok(Observation {
            dkim,
            spf,
            dmarc,
            soa,
            mail_from_mx,
            mail_from_spf,
        })
    }

    /// The SPF policy at `domain` (the identity's domain or its MAIL FROM domain).
    async fn observe_spf(
        &self,
        server: &TokioResolver,
        domain: &str,
        target: &Target,
        local_zones: &[DnsName],
        memo: &mut TxtMemo,
    ) -> SpfObservation {
        let txts = memo.txt(server, domain).await;
        let policies: Vec<String> = txts
            .records()
            .into_iter()
            .flatten()
            .filter(|t| absender_core::check::is_spf(t))
            .cloned()
            .collect();
        let mut observation = SpfObservation {
            domain: domain.to_string(),
            txts,
            lint: None,
            evaluations: Vec::new(),
        };
        let [policy] = policies.as_slice() else {
            return observation;
        };
        // Includes resolve through absender's own server for its own (local)
        // domains, as the public DNS does not know them; else through the resolvers.
        let includes = if DnsName::parse(domain).is_ok_and(|n| self.is_ours(&n, local_zones)) {
            &self.own
        } else {
            &self.recursive
        };
        let Some(parsed) = spf::parse(policy) else {
            observation.lint = Some(SpfLint {
                syntax_error: true,
                ..Default::default()
            });
            return observation;
        };
        let platform = parsed
            .includes
            .iter()
            .find(|(t, _)| *t == target.spf_include);
        let mut budget = LookupBudget::default();
        count_lookups(includes, domain, &parsed, memo, &mut budget).await;
        observation.lint = Some(SpfLint {
            syntax_error: false,
            includes_platform: platform.is_some(),
            all_before_include: platform.and_then(|(_, all)| all.clone()),
            lookups: budget.lookups,
            void_lookups: budget.voids,
        });
        if budget.exceeded() {
            // Receivers stop with PermError; evaluating would only ask more.
            return observation;
        }
        let mut known = memo.spf_policies();
        // The policy as the authoritative server gave it, whatever a resolver cached.
        known.retain(|(name, _)| !name.eq_ignore_ascii_case(domain));
        known.push((domain.to_ascii_lowercase(), Some(policy.clone())));
        observation.evaluations = spf::evaluate(
            includes,
            domain,
            &known,
            &target.sending_ips,
            &target.helo_domain,
        )
        .await;
        observation
    }

    async fn soa(&self, server: &TokioResolver, domain: &str) -> Option<SoaSeen> {
        let record = match server.lookup(format!("{domain}."), RecordType::SOA).await {
            Ok(lookup) => lookup.answers().iter().find_map(|r| match &r.data {
                RData::SOA(soa) => Some((r.name.to_ascii(), soa.mname.to_ascii(), soa.serial)),
                _ => None,
            }),
            Err(err) => err.into_soa().map(|soa| {
                (
                    soa.name.to_ascii(),
                    soa.data.mname.to_ascii(),
                    soa.data.serial,
                )
            }),
        }?;
        Some(SoaSeen {
            zone: record.0.trim_end_matches('.').to_string(),
            mname: record.1.trim_end_matches('.').to_string(),
            serial: record.2,
        })
    }
}

/// Adds the lookups `policy` causes to `budget`, following its includes and
/// redirect depth first, and stops at the first limit passed: every level
/// costs at least the include that led to it, so a policy that includes
/// itself costs at most eleven questions.
async fn count_lookups(
    resolver: &TokioResolver,
    domain: &str,
    policy: &spf::Policy,
    memo: &mut TxtMemo,
    budget: &mut LookupBudget,
) {
    budget.lookups += policy.own_lookups;
    // `a`, `mx` and `exists` that find nothing are void lookups too.
    for (target, kind) in &policy.host_lookups {
        if budget.exceeded() {
            return;
        }
        let name = target.as_deref().unwrap_or(domain);
        let rtype = match kind {
            spf::HostLookup::Address => RecordType::A,
            spf::HostLookup::Exchanger => RecordType::MX,
        };
        if matches!(
            memo.ask(resolver, name, rtype).await,
            Answer::NxDomain | Answer::NoData
        ) {
            budget.voids += 1;
        }
    }
    let targets = policy
        .includes
        .iter()
        .map(|(t, _)| t.clone())
        .chain(policy.redirect.clone());
    for target in targets {
        if budget.exceeded() {
            return;
        }
        let nested = match memo.txt(resolver, &target).await {
            Answer::NxDomain | Answer::NoData => {
                budget.voids += 1;
                continue;
            }
            Answer::Records(txts) => txts
                .iter()
                .find(|t| absender_core::check::is_spf(t))
                .and_then(|t| spf::parse(t)),
            Answer::Timeout | Answer::ServFail => None,
        };
        if let Some(nested) = nested {
            Box::pin(count_lookups(resolver, &target, &nested, memo, budget)).await;
        }
    }
}
