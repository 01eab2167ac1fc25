//! DNS benchmarks of absender (run through `bench/dns.sh`):
//!
//! - `checks N`: N identities whose records are published in a local zone, all
//!   checked by the scheduler; reports how long until every one is SUCCESS.
//! - `publish-to-success N`: N times, publish an identity's last record and
//!   check at once through the API; reports the time until SUCCESS.
//! - `serve-keys N FILE`: serves N published DKIM keys, writes dnsperf query
//!   files (FILE: the keys; FILE.flood: random names no key has), prints the
//!   DNS address and, for each line on stdin, the questions that reached the
//!   store so far; stops when stdin closes (for the comparison with NSD).
//!
//! Everything runs on 127.0.0.1 with absender's own DNS server as the only resolver.

use absender::config::Config;
use absender::server::{self, Running};
use absender_service::SystemClock;
use absender_service::settings::Resolvers;
use absender_store::{DkimKeyRow, DnsRecordRow, NewIdentity, NewOrg, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;
use common::{ADMIN_KEY, api, confirm_latest, publish, upgraded_org};
/// A 2048-bit key's SubjectPublicKeyInfo length in base64; its content does not matter here.
const KEY_CHARS: usize = 392;

fn random_token(len: usize) -> String {
    use rand::RngExt;
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

async fn start(dir: &std::path::Path, concurrency: usize) -> Running {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        admin_key: Some(ADMIN_KEY.to_string().into()),
        ..Config::default()
    };
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.dns.listen = "127.0.0.1:0".parse().unwrap();
    config.smtp.listen = "127.0.0.1:0".parse().unwrap();
    config.dns.resolvers = Resolvers::Local;
    config.checks.concurrency = concurrency;
    // Compared with NSD, both without response rate limiting (all queries come from 127.0.0.1).
    config.dns.rrl = 0;
    // One organization requests every identity of the benchmark.
    config.limits.identity_requests_per_hour = u32::MAX;
    config.limits.identities_per_org = u32::MAX;
    server::start(&config, Arc::new(SystemClock))
        .await
        .expect("server starts")
}

/// N identities at `d<i>.bench.test`, their keys, and their records in the
/// local zone `bench.test`, written straight into the store.
async fn seed(store: &Store, n: usize, publish: bool) -> Vec<String> {
    let now = 0;
    store
        .insert_org(&NewOrg {
            id: "org_bench".into(),
            name: "Bench".into(),
            contact_email: "bench@bench.test".into(),
            locale: "en".into(),
            api_key_hash: "bench".into(),
            created_at: now,
            sandbox: false,
        })
        .await
        .unwrap();
    store.insert_dns_zone("bench.test", now).await.unwrap();
    let public_key: String = "A".repeat(KEY_CHARS);
    let mut selectors = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut identities = Vec::new();
        let mut keys = Vec::new();
        let mut records = Vec::new();
        for i in chunk {
            let domain = format!("d{i}.bench.test");
            identities.push(NewIdentity {
                id: format!("idn_bench{i}"),
                org_id: "org_bench".into(),
                address: format!("events@{domain}"),
                domain: domain.clone(),
                scope: "all".into(),
                address_status: "SUCCESS".into(),
                dkim_status: "PENDING".into(),
                spf_status: "PENDING".into(),
                created_at: now,
                mail_from_domain: format!("bounce.{domain}"),
                mail_from_status: "PENDING".into(),
                kind: "address".into(),
                tags: "[]".into(),
            });
            for slot in 0..3 {
                let selector = random_token(32);
                keys.push(DkimKeyRow {
                    id: format!("dk_bench{i}_{slot}"),
                    org_id: "org_bench".into(),
                    domain: domain.clone(),
                    slot,
                    selector: selector.clone(),
                    algorithm: "rsa-sha256".into(),
                    private_key_enc: vec![1],
                    public_key: public_key.clone(),
                    created_at: now,
                    signs_from: 0,
                });
                let record = |name: String, rtype: &str, value: String| DnsRecordRow {
                    id: format!("rr_{}", random_token(20)),
                    zone: "bench.test".into(),
                    name,
                    rtype: rtype.into(),
                    value,
                    ttl: 60,
                    created_at: now,
                };
                records.push(record(
                    format!("{selector}._domainkey.{domain}"),
                    "CNAME",
                    format!("{selector}.dkim.absender.test"),
                ));
                selectors.push(selector);
            }
            let bounce = format!("bounce.{domain}");
            for (name, rtype, value) in [
                (&domain, "TXT", "v=spf1 include:spf.absender.test ~all"),
                (&bounce, "MX", "10 bounce.absender.test"),
                (&bounce, "TXT", "v=spf1 include:spf.absender.test ~all"),
            ] {
                records.push(DnsRecordRow {
                    id: format!("rr_{}", random_token(20)),
                    zone: "bench.test".into(),
                    name: name.clone(),
                    rtype: rtype.into(),
                    value: value.into(),
                    ttl: 60,
                    created_at: now,
                });
            }
        }
        store.insert_identities(&identities).await.unwrap();
        store.insert_dkim_keys_if_absent(&keys).await.unwrap();
        if publish {
            store
                .insert_dns_records("bench.test", &records)
                .await
                .unwrap();
        }
    }
    selectors
}

async fn count_verified(store: &Store) -> usize {
    let counts = store.identity_status_counts().await.unwrap();
    let verified = counts
        .iter()
        .filter(|(dkim, spf, _)| dkim == "SUCCESS" && spf == "SUCCESS");
    verified.map(|(_, _, n)| *n as usize).sum()
}

async fn checks(n: usize, concurrency: usize) {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path(), concurrency).await;
    let store = running.app.store().clone();
    let seeding = Instant::now();
    seed(&store, n, true).await;
    eprintln!(
        "seeded {n} identities in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let now = absender_service::Clock::now_ms(&SystemClock);
    store.schedule_all_checks(now).await.unwrap();
    let deadline = started + Duration::from_secs(600);
    let mut verified = 0;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        verified = count_verified(&store).await;
        if verified == n {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bench checks: {verified}/{n} identities verified in {secs:.1} s = {:.0} identities/s (concurrency {concurrency}, target: 10000 in < 60 s)",
        verified as f64 / secs
    );
    running.stop().await.unwrap();
}

async fn publish_to_success(n: usize) {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path(), 16).await;
    let base = format!("http://{}", running.http_addr);
    let http = reqwest::Client::new();
    let key = upgraded_org(&http, &base, "Acme", "team@acme.test").await;
    let mut times = Vec::new();
    for i in 0..n {
        let domain = format!("p{i}.test");
        api(
            &http,
            &base,
            Method::POST,
            "/api/v1/dns/zones",
            ADMIN_KEY,
            Some(json!({"name": domain})),
        )
        .await;
        let identity = api(
            &http,
            &base,
            Method::POST,
            "/api/v1/identities",
            &key,
            Some(json!({"address": format!("events@{domain}"), "scope": "all"})),
        )
        .await;
        let id = identity["id"].as_str().unwrap();
        // The owner confirms the address (link from the operator's outbox).
        confirm_latest(&http, &base).await;
        let records = api(
            &http,
            &base,
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            &key,
            None,
        )
        .await;
        let records = records["records"].as_array().unwrap().clone();
        publish(&http, &base, &domain, &records[..records.len() - 1]).await;
        let started = Instant::now();
        publish(&http, &base, &domain, &records[records.len() - 1..]).await;
        let checked = api(
            &http,
            &base,
            Method::POST,
            &format!("/api/v1/identities/{id}/check"),
            &key,
            None,
        )
        .await;
        let elapsed = started.elapsed();
        assert_eq!(checked["status"], "SUCCESS", "{checked}");
        times.push(elapsed);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench publish-to-success: median {:.1} ms, p95 {:.1} ms, max {:.1} ms over {n} identities (target: < 2000 ms)",
        ms(times[n / 2]),
        ms(times[(n * 95 / 100).min(n - 1)]),
        ms(times[n - 1])
    );
    running.stop().await.unwrap();
}

async fn serve_keys(n: usize, query_file: &str) {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path(), 1).await;
    let selectors = seed(running.app.store(), n.div_ceil(3), false).await;
    let lines: String = (0..n * 20)
        .map(|i| {
            format!(
                "{}.dkim.absender.test TXT\n",
                selectors[(i * 7919) % selectors.len()]
            )
        })
        .collect();
    std::fs::write(query_file, lines).unwrap();
    // A random-subdomain flood: names under the key zone that no key has,
    // ten times as many as there are key queries, so that few repeat.
    let flood: String = (0..n * 200)
        .map(|_| format!("{}.dkim.absender.test TXT\n", random_token(16)))
        .collect();
    std::fs::write(format!("{query_file}.flood"), flood).unwrap();
    println!("dns={}", running.dns_addr);
    // Serve until the script closes our stdin; each line it sends asks how
    // many questions reached the store so far.
    let (lines, mut asked) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    while asked.recv().await.is_some() {
        println!("store_reads={}", running.dns_store_reads());
    }
    running.stop().await.unwrap();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = |default: usize| args.get(2).and_then(|s| s.parse().ok()).unwrap_or(default);
    match args.get(1).map(String::as_str) {
        Some("checks") => {
            checks(
                n(10_000),
                args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64),
            )
            .await
        }
        Some("publish-to-success") => publish_to_success(n(20)).await,
        Some("serve-keys") => {
            serve_keys(
                n(1000),
                args.get(3).map_or("/tmp/absender-queries", String::as_str),
            )
            .await
        }
        _ => eprintln!(
            "usage: bench_dns checks [N] [CONCURRENCY] | publish-to-success [N] | serve-keys [N] [QUERY_FILE]"
        ),
    }
}
