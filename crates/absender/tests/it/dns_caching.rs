//! A fix at the authoritative server is seen by the next check even while a
//! caching resolver still hands out the old answer.

use crate::helpers::{ADMIN_KEY, codes, spawn_with_resolvers};
use absender::config::Config;
use absender_service::settings::Resolvers;
use reqwest::Method;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;

/// A caching DNS forwarder on loopback that never expires what it has seen.
async fn caching_forwarder(upstream: Arc<Mutex<Option<SocketAddr>>>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut cache: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        let forward = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 4096];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let query = buf[..len].to_vec();
            // The question, without the id and flags, is the cache key.
            let key = query[4..].to_vec();
            let mut answer = match cache.get(&key) {
                Some(answer) => answer.clone(),
                None => {
                    let Some(upstream) = *upstream.lock().unwrap() else {
                        continue;
                    };
                    forward.send_to(&query, upstream).await.unwrap();
                    let mut reply = [0u8; 4096];
                    let Ok(Ok(n)) = tokio::time::timeout(
                        std::time::Duration::from_secs(2),
                        forward.recv(&mut reply),
                    )
                    .await
                    else {
                        continue;
                    };
                    cache.insert(key, reply[..n].to_vec());
                    reply[..n].to_vec()
                }
            };
            answer[..2].copy_from_slice(&query[..2]);
            let _ = socket.send_to(&answer, from).await;
        }
    });
    addr
}

async fn txt_via(resolver: SocketAddr, name: &str) -> String {
    let output = tokio::process::Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &resolver.port().to_string(),
            "+short",
            "+noedns",
            "+time=2",
            "+tries=1",
            name,
            "TXT",
        ])
        .output()
        .await
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn a_fix_is_seen_at_once_although_the_resolver_caches_the_old_record() {
    let test = "a_fix_is_seen_at_once_although_the_resolver_caches_the_old_record";
    if crate::tools::program(test, "dig", None, "dnsutils").is_none() {
        return;
    }
    let upstream = Arc::new(Mutex::new(None));
    let forwarder = caching_forwarder(upstream.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let app = spawn_with_resolvers(config, Some(dir), Resolvers::Explicit(vec![forwarder])).await;
    *upstream.lock().unwrap() = Some(app.dns_addr);

    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@cached.test", "all")
        .await;
    let id = identity["id"].as_str().unwrap();
    let ids = app.publish(&org, &identity).await;
    // The customer first published a wrong SPF record; the resolver caches it.
    let path = "/api/v1/dns/zones/cached.test/records";
    app.call(
        Method::DELETE,
        &format!("{path}/{}", ids[3]),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    let wrong = app
        .record("cached.test", "cached.test", "TXT", "v=spf1 -all")
        .await;
    assert_eq!(txt_via(forwarder, "cached.test").await, "\"v=spf1 -all\"");
    assert_eq!(
        codes(&app.check(&org, id).await, "spf"),
        ["spf_not_authorized"]
    );

    // Fixed at the authoritative server; the resolver still has the old answer.
    app.call(
        Method::DELETE,
        &format!("{path}/{wrong}"),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    app.record(
        "cached.test",
        "cached.test",
        "TXT",
        "v=spf1 include:spf.absender.test ~all",
    )
    .await;
    assert_eq!(
        txt_via(forwarder, "cached.test").await,
        "\"v=spf1 -all\"",
        "the cache is stale"
    );
    let checked = app.check(&org, id).await;
    assert_eq!(checked["parts"]["spf"]["status"], "SUCCESS", "{checked}");
}
