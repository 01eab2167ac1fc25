//! An SMTP session without a network, for tests and fuzzing (feature
//! `testing`): an [`App`] on a fresh SQLite file and a session on one end of
//! an in-memory pipe.

use crate::{SmtpLimits, SmtpSettings, serve_stream};
use absender_dns::{DnsClient, PlatformZones, Upstream};
use absender_service::{App, MasterKey, Settings, SystemClock};
use absender_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::DuplexStream;

/// A return path of the right shape (no such delivery exists).
pub const RETURN_PATH: &str = "bounces+msg_abc.0.aaaaaaaaaaaaaaaa@bounce.absender.test";

pub struct Harness {
    pub app: App,
    pub settings: Arc<SmtpSettings>,
    _dir: tempfile::TempDir,
}

pub async fn harness(limits: SmtpLimits) -> Harness {
    let dir = tempfile::tempdir().expect("test harness");
    let store = Store::open_sqlite(&dir.path().join("absender.db"))
        .await
        .expect("test harness");
    let settings = Settings::default();
    let dns = |name: &str| absender_core::dns::DnsName::parse(name).expect("test harness");
    let zones = PlatformZones {
        dkim_zone: dns(&settings.platform.dkim_zone),
        spf_domain: dns(&settings.platform.spf_domain),
        spf_policy: "v=spf1 ip4:127.0.0.1 ~all".into(),
        nameserver: dns("ns1.absender.test"),
        hostmaster: dns("hostmaster.absender.test"),
    };
    // Nothing here asks DNS; the checker points at a port nobody serves.
    let nowhere: SocketAddr = "127.0.0.1:9".parse().expect("test harness");
    let dns_client = DnsClient::new(
        nowhere,
        &Upstream::Explicit(vec![nowhere]),
        store.clone(),
        zones,
        Duration::from_millis(200),
    )
    .expect("test harness");
    let app = App::new(
        store,
        settings,
        "http://127.0.0.1:8080",
        MasterKey::generate(),
        "no admin".into(),
        Arc::new(SystemClock),
        dns_client,
    )
    .expect("test harness");
    let settings = Arc::new(SmtpSettings {
        hostname: "absender.test".into(),
        tls: crate::self_signed("localhost").expect("test harness"),
        trusted_clients: Vec::new(),
        limits,
    });
    Harness {
        app,
        settings,
        _dir: dir,
    }
}

impl Harness {
    /// Starts a session on one end of a pipe; the other end is the client's.
    pub fn connect(&self) -> DuplexStream {
        let (client, server) = tokio::io::duplex(1 << 20);
        let peer: SocketAddr = "192.0.2.10:40000".parse().expect("test harness");
        tokio::spawn(serve_stream(
            server,
            peer,
            self.settings.clone(),
            self.app.clone(),
        ));
        client
    }
}
