//! DNS servers that fail or stay silent: the diagnostics say so, checks are
//! retried, and such failures never turn an identity FAILED by themselves.

use crate::helpers::{TestApp, codes, spawn_with_resolvers};
use absender::config::Config;
use absender_service::settings::Resolvers;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

/// A DNS peer on loopback that answers every question with SERVFAIL, or never.
pub async fn broken_dns(answer: bool) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            if !answer || len < 12 {
                continue;
            }
            let mut reply = buf[..len].to_vec();
            reply[2] = 0x80 | (buf[2] & 0x79); // QR, same opcode and RD
            reply[3] = 0x02; // SERVFAIL
            let _ = socket.send_to(&reply, from).await;
        }
    });
    addr
}

async fn app_resolving_through(resolver: SocketAddr) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.dns.query_timeout = Duration::from_millis(150);
    spawn_with_resolvers(config, Some(dir), Resolvers::Explicit(vec![resolver])).await
}

#[tokio::test]
async fn servfail_and_timeouts_are_temporary_and_never_fail_an_identity() {
    for (answer, expected) in [(true, "dns_servfail"), (false, "dns_timeout")] {
        let app = app_resolving_through(broken_dns(answer).await).await;
        let org = app.upgraded_org("Acme", "en").await;
        let identity = app
            .request_identity(&org, "events@broken.example", "all")
            .await;
        let id = identity["id"].as_str().unwrap();
        let checked = app.check(&org, id).await;
        assert_eq!(checked["parts"]["dkim"]["status"], "PENDING");
        assert!(
            codes(&checked, "dkim").iter().all(|c| c == expected),
            "{checked}"
        );
        assert_eq!(codes(&checked, "spf"), [expected]);
        assert_eq!(checked["parts"]["spf"]["error_type"], "DNS_SERVER_ERROR");
        app.advance(Duration::from_secs(73 * 3600));
        let later = app.check(&org, id).await;
        assert_eq!(
            later["status"], "PENDING",
            "a failing DNS server is no verdict: {later}"
        );
        assert!(later["next_check_at"].is_string(), "retried");
    }
}
