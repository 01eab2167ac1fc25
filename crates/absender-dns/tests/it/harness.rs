//! A DNS server over a fresh store, and a resolver that asks only it.

use absender_core::dns::DnsName;
use absender_dns::{Authority, DnsServer, PlatformZones};
use absender_store::{DkimKeyRow, DnsRecordRow, Store};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver, TokioResolver};
use std::net::SocketAddr;

pub struct Harness {
    pub store: Store,
    pub server: DnsServer,
    pub dir: tempfile::TempDir,
}

fn dns(name: &str) -> DnsName {
    DnsName::parse(name).unwrap()
}

pub async fn start() -> Harness {
    start_with(0, std::time::Duration::from_secs(1)).await
}

/// With response rate limiting at `rrl` (0: off) and answers kept for `ttl`.
pub async fn start_with(rrl: u32, ttl: std::time::Duration) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("absender.db"))
        .await
        .unwrap();
    let zones = PlatformZones {
        dkim_zone: dns("dkim.absender.test"),
        spf_domain: dns("spf.absender.test"),
        spf_policy: "v=spf1 ip4:127.0.0.1 ip6:::1 ~all".into(),
        nameserver: dns("ns1.absender.test"),
        hostmaster: dns("hostmaster.absender.test"),
    };
    let server = DnsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Authority::new(store.clone(), zones, ttl),
        // The tests ask from loopback: limited like anyone else.
        absender_dns::Rrl {
            limit: rrl,
            exempt_loopback: false,
        },
    )
    .await
    .unwrap();
    Harness { store, server, dir }
}

impl Harness {
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// A resolver that asks only this server, without a cache.
    pub fn resolver(&self, tcp: bool) -> TokioResolver {
        let mut connection = if tcp {
            ConnectionConfig::tcp()
        } else {
            ConnectionConfig::udp()
        };
        connection.port = self.addr().port();
        let server = NameServerConfig::new(self.addr().ip(), true, vec![connection]);
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        options.recursion_desired = false;
        options.attempts = 1;
        Resolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![server]),
            TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .unwrap()
    }

    pub async fn add_key(&self, selector: &str, public_key: &str) {
        self.store
            .insert_org(&absender_store::NewOrg {
                id: format!("org-{selector}"),
                name: "Acme".into(),
                contact_email: "a@acme.test".into(),
                locale: "en".into(),
                api_key_hash: format!("hash-{selector}"),
                created_at: 0,
                sandbox: false,
            })
            .await
            .unwrap();
        let key = DkimKeyRow {
            id: format!("dk-{selector}"),
            org_id: format!("org-{selector}"),
            domain: "acme.test".into(),
            slot: 0,
            selector: selector.into(),
            algorithm: "rsa-sha256".into(),
            private_key_enc: vec![1],
            public_key: public_key.into(),
            created_at: 0,
            signs_from: 0,
        };
        self.store.insert_dkim_keys_if_absent(&[key]).await.unwrap();
    }

    pub async fn add_record(&self, zone: &str, name: &str, rtype: &str, value: &str) -> String {
        let id = format!("r{}", rand_id());
        self.store
            .insert_dns_record(&DnsRecordRow {
                id: id.clone(),
                zone: zone.into(),
                name: name.into(),
                rtype: rtype.into(),
                value: value.into(),
                ttl: 60,
                created_at: 0,
            })
            .await
            .unwrap();
        id
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
