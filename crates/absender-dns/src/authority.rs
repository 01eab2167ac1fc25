//! What the server answers for a name and type: the zone that holds the name,
//! then its records, NXDOMAIN or NODATA (both with the zone's SOA), or REFUSED
//! for names outside every zone.

use absender_core::dns::{DnsName, LocalRecordData, LocalRecordType, txt_chunks};
use absender_store::{DnsRecordRow, Store, StoreError};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// TTL of the platform's own records: short, as keys rotate behind CNAMEs.
const PLATFORM_TTL_SECS: u32 = 300;
/// The SOA minimum, which resolvers use as the negative-caching TTL: short,
/// so that a record published after a failed lookup is seen quickly.
const NEGATIVE_TTL_SECS: u32 = 60;
/// Platform zones are answered from the store, never transferred, so their
/// serial has nothing to announce.
const PLATFORM_SERIAL: u32 = 1;

/// The platform's zones, as configured.
#[derive(Debug, Clone)]
pub struct PlatformZones {
    /// The zone of DKIM keys: `<selector>.<dkim_zone> TXT "v=DKIM1; …"`.
    pub dkim_zone: DnsName,
    /// The SPF include domain.
    pub spf_domain: DnsName,
    /// The SPF policy served there (`v=spf1 ip4:… ~all`).
    pub spf_policy: String,
    /// The name server named in SOA and NS records.
    pub nameserver: DnsName,
    /// The mailbox of the zones' administrator, as a DNS name.
    pub hostmaster: DnsName,
}

/// Refreshes ahead of expiry come at most this often, however short the TTL.
const MIN_REFRESH_AHEAD: Duration = Duration::from_millis(250);
/// How many CNAMEs in a row are followed within absender's own zones.
const MAX_CNAME_CHAIN: usize = 8;

/// The answer to one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Records of the asked type (or a CNAME leading elsewhere).
    Records(Vec<Record>),
    /// The name exists but has no records of that type; the SOA goes in the authority section.
    NoData(Record),
    /// The name does not exist in the zone; the SOA goes in the authority section.
    NxDomain(Record),
    /// Not a zone of ours.
    Refused,
}

/// Where the name lies.
enum Zone {
    Dkim(DnsName),
    Spf(DnsName),
    Local { apex: DnsName, serial: i64 },
}

/// Answers questions from the store.
#[derive(Debug, Clone)]
pub struct Authority {
    store: Store,
    zones: PlatformZones,
    cache: Arc<AnswerCache>,
    known: Arc<Known>,
    /// Questions and snapshot refreshes that went to the store.
    store_reads: Arc<AtomicU64>,
    /// Where refreshes ahead of expiry run (none outside a runtime).
    runtime: Option<tokio::runtime::Handle>,
}

/// Which zones and key names exist, kept in memory under the same rules as
/// answers, so that a name outside every zone, or a selector no key has, is
/// answered without a database read: a flood of random names costs the
/// database one read per `answer_cache_ttl`, not one per name.
#[derive(Debug, Default)]
struct Known {
    snapshot: Mutex<Option<Snapshot>>,
    /// One refresh at a time; the others wait for it and use its result.
    refreshing: tokio::sync::Mutex<()>,
    /// A refresh ahead of expiry is under way.
    refreshing_ahead: AtomicBool,
}

#[derive(Debug, Clone)]
struct Snapshot {
    at: Instant,
    generation: u64,
    local_zones: Arc<Vec<(DnsName, i64)>>,
    /// `None` with a cache TTL of zero: every selector is looked up in the store.
    selectors: Option<Arc<std::collections::HashSet<String>>>,
}

/// Recent answers, so that a flood of questions does not become a flood of
/// database reads. An entry serves only while young (the TTL) and while this
/// process has written no DNS data since it was made: a key published or
/// withdrawn here is answered at once, one written by another node within the TTL.
#[derive(Debug)]
struct AnswerCache {
    ttl: Duration,
    entries: Mutex<HashMap<(DnsName, RecordType), Cached>>,
    /// NXDOMAIN answers from the store (names in local zones).
    missing: Mutex<HashMap<(DnsName, RecordType), Cached>>,
}

#[derive(Debug)]
struct Cached {
    at: Instant,
    generation: u64,
    lookup: Lookup,
}

/// Beyond this many entries a cache map starts over, bounding its memory.
const MAX_CACHED_ANSWERS: usize = 100_000;

/// A lock whose holder panicked is still usable: every value behind these
/// locks is whole after each statement.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn name(dns: &DnsName) -> Name {
    Name::from_ascii(format!("{dns}.")).expect("a parsed DnsName is a valid DNS name")
}

impl Authority {
    /// Answers from `store` for the platform `zones` and the local zones,
    /// reusing an answer for at most `cache_ttl` (zero: never).
    pub fn new(store: Store, zones: PlatformZones, cache_ttl: Duration) -> Self {
        let cache = Arc::new(AnswerCache {
            ttl: cache_ttl,
            entries: Mutex::new(HashMap::new()),
            missing: Mutex::new(HashMap::new()),
        });
        Self {
            store,
            zones,
            cache,
            known: Arc::default(),
            store_reads: Arc::default(),
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// How many names (and refreshes of what exists) were read from the
    /// store so far: the database load the DNS server causes.
    pub fn store_reads(&self) -> u64 {
        self.store_reads.load(Ordering::Relaxed)
    }

    /// What exists now, read again when this node wrote DNS data or the
    /// snapshot is older than the answer cache's TTL.
    async fn known(&self) -> Result<Snapshot, StoreError> {
        self.known_within(self.cache.ttl).await
    }

    /// What exists, read again unless the snapshot is younger than `max_age`.
    async fn known_within(&self, max_age: Duration) -> Result<Snapshot, StoreError> {
        let fresh = |s: &Option<Snapshot>, generation: u64| {
            s.as_ref()
                .filter(|s| s.generation == generation && s.at.elapsed() < max_age)
                .cloned()
        };
        let generation = self.store.dns_generation();
        if let Some(s) = fresh(&lock(&self.known.snapshot), generation) {
            return Ok(s);
        }
        let _one = self.known.refreshing.lock().await;
        let generation = self.store.dns_generation();
        if let Some(s) = fresh(&lock(&self.known.snapshot), generation) {
            return Ok(s);
        }
        self.store_reads.fetch_add(1, Ordering::Relaxed);
        let read = async {
            let zones = self.store.dns_zones().await?;
            let selectors = if self.cache.ttl.is_zero() {
                None
            } else {
                Some(self.store.dkim_selectors().await?)
            };
            Ok::<_, StoreError>((zones, selectors))
        };
        let (zones, selectors) = match read.await {
            Ok(read) => read,
            // The database is away: what was known stays the best answer.
            // It serves as fresh for another TTL, so that memory keeps
            // answering and the read is tried again once per TTL, not per query.
            Err(e) => {
                let mut known = lock(&self.known.snapshot);
                match known.as_mut() {
                    Some(old) if !self.cache.ttl.is_zero() => {
                        tracing::warn!(error = %e, "DNS zones could not be read; answering from the last known");
                        old.at = Instant::now();
                        old.generation = generation;
                        return Ok(old.clone());
                    }
                    _ => return Err(e),
                }
            }
        };
        let local_zones = zones
            .into_iter()
            .filter_map(|row| Some((DnsName::parse(&row.name).ok()?, row.serial)))
            .collect();
        let selectors = selectors.map(|s| Arc::new(s.into_iter().collect()));
        let snapshot = Snapshot {
            at: Instant::now(),
            generation,
            local_zones: Arc::new(local_zones),
            selectors,
        };
        *lock(&self.known.snapshot) = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Answers `qname`/`qtype`.
    pub async fn lookup(&self, qname: &DnsName, qtype: RecordType) -> Result<Lookup, StoreError> {
        if self.cache.ttl.is_zero() {
            return self.lookup_in_store(qname, qtype).await;
        }
        if let Some(known) = self.lookup_in_memory(qname, qtype) {
            return Ok(known);
        }
        let generation = self.store.dns_generation();
        let lookup = self.lookup_in_store(qname, qtype).await?;
        // What the snapshot settles is not kept: a flood of random names
        // must not push the real answers out of the cache.
        if self.settled_by_snapshot(qname, qtype).is_some() {
            return Ok(lookup);
        }
        // Names that do not exist are kept apart: random names fill only
        // their own map, never push the real answers out.
        let map = if matches!(lookup, Lookup::NxDomain(_)) {
            &self.cache.missing
        } else {
            &self.cache.entries
        };
        let mut entries = lock(map);
        if entries.len() >= MAX_CACHED_ANSWERS {
            entries.clear();
        }
        entries.insert(
            (qname.clone(), qtype),
            Cached {
                at: Instant::now(),
                generation,
                lookup: lookup.clone(),
            },
        );
        Ok(lookup)
    }

    /// The answer if memory holds it: a recent answer, or what the snapshot
    /// of zones and keys settles. `None` when only the store can tell.
    pub fn lookup_in_memory(&self, qname: &DnsName, qtype: RecordType) -> Option<Lookup> {
        if self.cache.ttl.is_zero() {
            return None;
        }
        let generation = self.store.dns_generation();
        let key = (qname.clone(), qtype);
        for map in [&self.cache.entries, &self.cache.missing] {
            if let Some(hit) = lock(map).get(&key)
                && hit.generation == generation
                && hit.at.elapsed() < self.cache.ttl
            {
                return Some(hit.lookup.clone());
            }
        }
        self.settled_by_snapshot(qname, qtype)
    }

    /// What a fresh snapshot of zones and keys settles without reading any
    /// name: a name outside every zone, a selector no key has, the SPF domain.
    fn settled_by_snapshot(&self, qname: &DnsName, qtype: RecordType) -> Option<Lookup> {
        let snapshot = lock(&self.known.snapshot).clone()?;
        let age = snapshot.at.elapsed();
        if snapshot.generation != self.store.dns_generation() || age >= self.cache.ttl {
            return None;
        }
        if age >= (self.cache.ttl / 2).max(MIN_REFRESH_AHEAD) {
            self.refresh_ahead();
        }
        match self.zone_in(qname, &snapshot.local_zones) {
            None => Some(Lookup::Refused),
            Some(Zone::Spf(apex)) => Some(self.spf(&apex, qname, qtype)),
            Some(Zone::Dkim(apex)) if qname != &apex => {
                let known = snapshot.selectors?;
                let unknown = selector_of(qname, &apex).is_none_or(|s| !known.contains(s));
                unknown.then(|| Lookup::NxDomain(self.soa(&apex, PLATFORM_SERIAL)))
            }
            Some(_) => None,
        }
    }

    /// Reads the snapshot again in the background before it expires, so
    /// that answers from memory do not pause for the read (one at a time).
    fn refresh_ahead(&self) {
        let Some(runtime) = &self.runtime else {
            return;
        };
        if self.known.refreshing_ahead.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Lets the next refresh ahead start however this one ends.
        struct Done(Arc<Known>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.refreshing_ahead.store(false, Ordering::Release);
            }
        }
        let this = self.clone();
        runtime.spawn(async move {
            let _done = Done(this.known.clone());
            if let Err(e) = this.known_within(this.cache.ttl / 2).await {
                tracing::debug!(error = %e, "DNS zones not read ahead");
            }
        });
    }

    /// Like an authoritative server (RFC 1034 4.3.2): a CNAME whose target is
    /// in one of absender's zones is followed there, so that stub resolvers
    /// that do not chase CNAMEs themselves get the whole chain at once.
    async fn lookup_in_store(
        &self,
        qname: &DnsName,
        qtype: RecordType,
    ) -> Result<Lookup, StoreError> {
        let first = self.lookup_one(qname, qtype).await?;
        if matches!(qtype, RecordType::CNAME | RecordType::ANY) {
            return Ok(first);
        }
        let Lookup::Records(mut chain) = first else {
            return Ok(first);
        };
        let mut seen = vec![qname.clone()];
        while let Some(RData::CNAME(target)) = chain.last().map(|r| &r.data) {
            let Ok(target) = DnsName::parse(&target.0.to_ascii()) else {
                break;
            };
            if seen.contains(&target) || seen.len() > MAX_CNAME_CHAIN {
                break;
            }
            seen.push(target.clone());
            match self.lookup_one(&target, qtype).await? {
                Lookup::Records(more) => chain.extend(more),
                _ => break,
            }
        }
        Ok(Lookup::Records(chain))
    }

    async fn lookup_one(&self, qname: &DnsName, qtype: RecordType) -> Result<Lookup, StoreError> {
        let Some(zone) = self.zone_of(qname).await? else {
            return Ok(Lookup::Refused);
        };
        match zone {
            Zone::Dkim(apex) => self.dkim(&apex, qname, qtype).await,
            Zone::Spf(apex) => Ok(self.spf(&apex, qname, qtype)),
            Zone::Local { apex, serial } => self.local(&apex, serial, qname, qtype).await,
        }
    }

    /// The most specific zone holding `qname`.
    async fn zone_of(&self, qname: &DnsName) -> Result<Option<Zone>, StoreError> {
        Ok(self.zone_in(qname, &self.known().await?.local_zones))
    }

    /// The most specific zone holding `qname`, given the local zones.
    fn zone_in(&self, qname: &DnsName, local_zones: &[(DnsName, i64)]) -> Option<Zone> {
        let mut best: Option<Zone> = None;
        let mut best_len = 0;
        let mut consider = |zone: Zone, apex_len: usize| {
            if apex_len > best_len {
                best_len = apex_len;
                best = Some(zone);
            }
        };
        if qname.is_within(&self.zones.dkim_zone) {
            consider(
                Zone::Dkim(self.zones.dkim_zone.clone()),
                self.zones.dkim_zone.as_str().len(),
            );
        }
        if qname.is_within(&self.zones.spf_domain) {
            consider(
                Zone::Spf(self.zones.spf_domain.clone()),
                self.zones.spf_domain.as_str().len(),
            );
        }
        for (apex, serial) in local_zones {
            if qname.is_within(apex) {
                let len = apex.as_str().len();
                consider(
                    Zone::Local {
                        apex: apex.clone(),
                        serial: *serial,
                    },
                    len,
                );
            }
        }
        best
    }

    fn soa(&self, apex: &DnsName, serial: u32) -> Record {
        let soa = SOA::new(
            name(&self.zones.nameserver),
            name(&self.zones.hostmaster),
            serial,
            3600,
            600,
            604_800,
            NEGATIVE_TTL_SECS,
        );
        Record::from_rdata(name(apex), NEGATIVE_TTL_SECS, RData::SOA(soa))
    }

    /// SOA and NS at a zone apex; `None` for other types.
    fn apex_records(&self, apex: &DnsName, serial: u32, qtype: RecordType) -> Option<Vec<Record>> {
        match qtype {
            RecordType::SOA => Some(vec![self.soa(apex, serial)]),
            RecordType::NS => Some(vec![Record::from_rdata(
                name(apex),
                PLATFORM_TTL_SECS,
                RData::NS(NS(name(&self.zones.nameserver))),
            )]),
            _ => None,
        }
    }

    async fn dkim(
        &self,
        apex: &DnsName,
        qname: &DnsName,
        qtype: RecordType,
    ) -> Result<Lookup, StoreError> {
        if qname == apex {
            return Ok(self.apex_records(apex, PLATFORM_SERIAL, qtype).map_or_else(
                || Lookup::NoData(self.soa(apex, PLATFORM_SERIAL)),
                Lookup::Records,
            ));
        }
        // Customers' keys, then the platform's own.
        let public_key = match selector_of(qname, apex) {
            Some(selector)
                if self
                    .known()
                    .await?
                    .selectors
                    .is_none_or(|known| known.contains(selector)) =>
            {
                self.store_reads.fetch_add(1, Ordering::Relaxed);
                match self.store.dkim_key_by_selector(selector).await? {
                    Some(key) => Some((key.algorithm, key.public_key)),
                    None => self
                        .store
                        .platform_key_by_selector(selector)
                        .await?
                        .map(|k| (k.algorithm, k.public_key)),
                }
            }
            _ => None,
        };
        let Some((algorithm, public_key)) = public_key else {
            return Ok(Lookup::NxDomain(self.soa(apex, PLATFORM_SERIAL)));
        };
        if !matches!(qtype, RecordType::TXT | RecordType::ANY) {
            return Ok(Lookup::NoData(self.soa(apex, PLATFORM_SERIAL)));
        }
        // RFC 8463: an Ed25519 key says so; RSA is the default `k=`.
        let kind = if algorithm.starts_with("ed25519") {
            "ed25519"
        } else {
            "rsa"
        };
        let text = format!("v=DKIM1; k={kind}; p={public_key}");
        Ok(Lookup::Records(vec![txt_record(
            qname,
            PLATFORM_TTL_SECS,
            &text,
        )]))
    }

    fn spf(&self, apex: &DnsName, qname: &DnsName, qtype: RecordType) -> Lookup {
        if qname != apex {
            return Lookup::NxDomain(self.soa(apex, PLATFORM_SERIAL));
        }
        if let Some(records) = self.apex_records(apex, PLATFORM_SERIAL, qtype) {
            return Lookup::Records(records);
        }
        match qtype {
            RecordType::TXT | RecordType::ANY => Lookup::Records(vec![txt_record(
                qname,
                PLATFORM_TTL_SECS,
                &self.zones.spf_policy,
            )]),
            _ => Lookup::NoData(self.soa(apex, PLATFORM_SERIAL)),
        }
    }

    async fn local(
        &self,
        apex: &DnsName,
        serial: i64,
        qname: &DnsName,
        qtype: RecordType,
    ) -> Result<Lookup, StoreError> {
        let serial = u32::try_from(serial).unwrap_or(u32::MAX);
        if qname == apex
            && let Some(records) = self.apex_records(apex, serial, qtype)
        {
            return Ok(Lookup::Records(records));
        }
        self.store_reads.fetch_add(1, Ordering::Relaxed);
        let rows: Vec<DnsRecordRow> = self
            .store
            .dns_records_at(qname.as_str())
            .await?
            .into_iter()
            .filter(|r| r.zone == apex.as_str())
            .collect();
        if rows.is_empty() {
            let exists = qname == apex
                || self
                    .store
                    .dns_name_has_descendants(apex.as_str(), qname.as_str())
                    .await?;
            let soa = self.soa(apex, serial);
            return Ok(if exists {
                Lookup::NoData(soa)
            } else {
                Lookup::NxDomain(soa)
            });
        }
        let records: Vec<(LocalRecordData, u32)> = rows
            .iter()
            .filter_map(|row| {
                let rtype = LocalRecordType::parse(&row.rtype).ok()?;
                let data = LocalRecordData::parse(rtype, &row.value).ok()?;
                Some((data, u32::try_from(row.ttl).unwrap_or(300)))
            })
            .collect();
        // Records of the asked type win; otherwise a CNAME answers for the name.
        // (A CNAME beside other data is a customer mistake that the checker must
        // be able to see, so both are served as published.)
        let wanted: Vec<Record> = records
            .iter()
            .filter(|(data, _)| {
                qtype == RecordType::ANY || hickory_type(data.record_type()) == qtype
            })
            .map(|(data, ttl)| to_record(qname, *ttl, data))
            .collect();
        if !wanted.is_empty() {
            return Ok(Lookup::Records(wanted));
        }
        let cname: Vec<Record> = records
            .iter()
            .filter(|(data, _)| data.record_type() == LocalRecordType::Cname)
            .map(|(data, ttl)| to_record(qname, *ttl, data))
            .collect();
        if !cname.is_empty() {
            return Ok(Lookup::Records(cname));
        }
        Ok(Lookup::NoData(self.soa(apex, serial)))
    }
}

/// The selector a name in the DKIM zone asks for: one label below the apex.
fn selector_of<'a>(qname: &'a DnsName, apex: &DnsName) -> Option<&'a str> {
    qname
        .as_str()
        .strip_suffix(apex.as_str())
        .and_then(|s| s.strip_suffix('.'))
        .filter(|selector| !selector.contains('.'))
}

fn hickory_type(t: LocalRecordType) -> RecordType {
    match t {
        LocalRecordType::A => RecordType::A,
        LocalRecordType::Aaaa => RecordType::AAAA,
        LocalRecordType::Mx => RecordType::MX,
        LocalRecordType::Txt => RecordType::TXT,
        LocalRecordType::Cname => RecordType::CNAME,
    }
}

fn txt_record(owner: &DnsName, ttl: u32, text: &str) -> Record {
    let strings = txt_chunks(text).into_iter().map(str::to_string).collect();
    Record::from_rdata(name(owner), ttl, RData::TXT(TXT::new(strings)))
}

fn to_record(owner: &DnsName, ttl: u32, data: &LocalRecordData) -> Record {
    let rdata = match data {
        LocalRecordData::A(ip) => RData::A(A(*ip)),
        LocalRecordData::Aaaa(ip) => RData::AAAA(AAAA(*ip)),
        LocalRecordData::Mx(preference, host) => RData::MX(MX::new(*preference, name(host))),
        LocalRecordData::Cname(target) => RData::CNAME(CNAME(name(target))),
        LocalRecordData::Txt(text) => return txt_record(owner, ttl, text),
    };
    Record::from_rdata(name(owner), ttl, rdata)
}
