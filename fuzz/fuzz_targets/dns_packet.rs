//! The DNS server's packet handling: any bytes a client sends, decoded as
//! hickory does and answered by absender's authority from a real store.
#![no_main]

use absender_core::dns::DnsName;
use absender_dns::{Authority, PlatformZones};
use hickory_proto::op::Message;
use std::sync::OnceLock;
use std::time::Duration;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn authority() -> &'static Authority {
    static AUTHORITY: OnceLock<(Authority, tempfile::TempDir)> = OnceLock::new();
    &AUTHORITY
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temp dir");
            let store = runtime()
                .block_on(absender_store::Store::open_sqlite(
                    &dir.path().join("fuzz.db"),
                ))
                .expect("a store");
            runtime()
                .block_on(store.insert_dns_zone("acme.test", 0))
                .expect("a zone");
            let name = |n: &str| DnsName::parse(n).expect("a name");
            let zones = PlatformZones {
                dkim_zone: name("dkim.absender.test"),
                spf_domain: name("spf.absender.test"),
                spf_policy: "v=spf1 ip4:127.0.0.1 ~all".into(),
                nameserver: name("ns1.absender.test"),
                hostmaster: name("hostmaster.absender.test"),
            };
            (Authority::new(store, zones, Duration::from_secs(60)), dir)
        })
        .0
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::from_vec(data) else {
        return;
    };
    for query in &message.queries {
        let Ok(qname) = DnsName::parse(&query.name().to_string()) else {
            continue;
        };
        runtime()
            .block_on(authority().lookup(&qname, query.query_type()))
            .expect("the store answers");
    }
});
