//! An [`App`] without a network, for the interfaces' tests and fuzzing
//! (feature `testing`): a fresh SQLite file, DNS pointed at a port nobody
//! serves (nothing these tests do asks DNS), a manual clock at the real time.

use crate::{App, Clock, ManualClock, MasterKey, Settings, SystemClock};
use absender_core::dns::DnsName;
use absender_dns::{DnsClient, PlatformZones, Upstream};
use absender_store::Store;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// An app on `dir/absender.db` with default settings; `admin_key_hash` is
/// the operator key's hash (`secrets::hash_secret`).
pub async fn app(dir: &Path, admin_key_hash: String) -> App {
    let store = Store::open_sqlite(&dir.join("absender.db"))
        .await
        .expect("test store opens");
    let settings = Settings::default();
    let name = |name: &str| DnsName::parse(name).expect("test DNS name");
    let zones = PlatformZones {
        dkim_zone: name(&settings.platform.dkim_zone),
        spf_domain: name(&settings.platform.spf_domain),
        spf_policy: "v=spf1 ip4:127.0.0.1 ~all".into(),
        nameserver: name("ns1.absender.test"),
        hostmaster: name("hostmaster.absender.test"),
    };
    let nowhere: SocketAddr = "127.0.0.1:9".parse().expect("test address");
    let dns_client = DnsClient::new(
        nowhere,
        &Upstream::Explicit(vec![nowhere]),
        store.clone(),
        zones,
        Duration::from_millis(200),
    )
    .expect("test DNS client");
    App::new(
        store,
        settings,
        "http://127.0.0.1:8080",
        MasterKey::generate(),
        admin_key_hash,
        Arc::new(ManualClock::at(SystemClock.now_ms())),
        dns_client,
    )
    .expect("test app")
}
