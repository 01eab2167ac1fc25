//! Sending benchmarks of absender (run through `bench/send.sh`):
//!
//! - `smtp SINK`: absender relaying to the SMTP sink at SINK, with a verified
//!   identity a@example.com (RSA-2048 key) and 127.0.0.1 as a trusted client;
//!   prints `smtp=ADDR`, serves until stdin closes, then prints its peak memory.
//!   The load generator (smtp-source) and the counting sink are the script's.
//! - `api N SINK`: N messages posted to `POST /api/v1/messages` by 32 clients
//!   (each answered 202 once on disk); prints intake messages per second.
//! - `queue N`: N messages accepted while the relay is unreachable, so they
//!   all wait in the queue; prints the peak memory of the process.
//! - `serve SINK`: absender relaying to SINK, with the identity above and an
//!   SES access key; prints `http=ADDR`, `api_key=…`, `access_key_id=…` and
//!   `secret=…` (a throwaway organization on loopback) for bench/ses.sh's
//!   client, and serves until stdin closes.
//! - `hooks`: a webhook receiver on 127.0.0.1 (prints `hooks=URL`); it counts
//!   the events it gets (each `webhook-id` once) and the lag of each
//!   `Delivery` event from the delivery's result to its arrival; when stdin
//!   closes it prints the counts and the lag's p50/p99 (bench/webhooks.sh).
//!   With `WEBHOOK_URL` set, `smtp` adds a destination there for `Send` and
//!   `Delivery` events before it serves.
//! - With `DATABASE_URL` (and `MASTER_KEY`) the node uses that PostgreSQL
//!   database; `JOIN=1` starts a further node on it without the set-up
//!   (bench/cluster.sh).
//!
//! Everything runs on 127.0.0.1; absender's own DNS server is the only resolver.

#[path = "common/mod.rs"]
mod common;

use absender::config::Config;
use absender::server::{self, Running};
use absender_service::SystemClock;
use absender_service::settings::{DeliveryMode, Resolvers, TlsMode};
use common::{ADMIN_KEY, api, confirm_latest, publish, upgraded_org};
use reqwest::Method;
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config(dir: &Path) -> Config {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        admin_key: Some(ADMIN_KEY.to_string().into()),
        ..Config::default()
    };
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.dns.listen = "127.0.0.1:0".parse().unwrap();
    config.smtp.listen = "127.0.0.1:0".parse().unwrap();
    config.dns.resolvers = Resolvers::Local;
    // bench/cluster.sh: nodes on one PostgreSQL database share its URL and the master key.
    config.database_url = std::env::var("DATABASE_URL").ok();
    config.master_key = std::env::var("MASTER_KEY").ok().map(Into::into);
    config
}

/// An organization with a@example.com verified (address, DKIM, SPF) in a
/// local zone, set up in capture mode; returns its API key.
async fn setup(dir: &Path) -> String {
    let running = server::start(&config(dir), Arc::new(SystemClock))
        .await
        .expect("server starts");
    let base = format!("http://{}", running.http_addr);
    let http = reqwest::Client::new();
    let key = upgraded_org(&http, &base, "Bench", "team@example.com").await;
    api(
        &http,
        &base,
        Method::POST,
        "/api/v1/dns/zones",
        ADMIN_KEY,
        Some(json!({"name": "example.com"})),
    )
    .await;
    let identity = api(
        &http,
        &base,
        Method::POST,
        "/api/v1/identities",
        &key,
        Some(json!({"address": "a@example.com", "scope": "all"})),
    )
    .await;
    let id = identity["id"].as_str().unwrap();
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
    publish(
        &http,
        &base,
        "example.com",
        records["records"].as_array().unwrap(),
    )
    .await;
    let checked = api(
        &http,
        &base,
        Method::POST,
        &format!("/api/v1/identities/{id}/check"),
        &key,
        None,
    )
    .await;
    assert_eq!(checked["status"], "SUCCESS", "{checked}");
    running.stop().await.unwrap();
    key
}

/// The same data dir, now relaying to `relay`.
async fn relaying(dir: &Path, relay: SocketAddr) -> Running {
    let mut config = config(dir);
    config.sending.mode = DeliveryMode::Relay;
    config.sending.relay.host = relay.ip().to_string();
    config.sending.relay.port = relay.port();
    config.sending.relay.tls = TlsMode::None;
    config.sending.per_destination = 20;
    // Like the peer's single OpenDKIM signature: only the customer's (d=example.com).
    config.sending.platform_signature = std::env::var("PLATFORM_SIGNATURE").is_ok_and(|v| v == "1");
    // bench/webhooks.sh's receiver is on 127.0.0.1.
    config.webhooks.allow_private_targets = true;
    config.smtp.trusted_clients = vec!["127.0.0.1".parse().unwrap()];
    if let Ok(listen) = std::env::var("SMTP_LISTEN") {
        config.smtp.listen = listen.parse().unwrap();
    }
    // bench/smtp-load.sh holds more sessions than the default limits allow.
    if let Ok(max) = std::env::var("SMTP_MAX_SESSIONS") {
        config.smtp.max_sessions = max.parse().unwrap();
        config.smtp.max_sessions_per_ip = max.parse().unwrap();
    }
    server::start(&config, Arc::new(SystemClock))
        .await
        .expect("server starts")
}

/// The process's peak resident memory (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn smtp(sink: SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    // JOIN=1: another node on the same database (DATABASE_URL) set it up.
    let key = if std::env::var("JOIN").is_ok_and(|v| v == "1") {
        String::new()
    } else {
        setup(dir.path()).await
    };
    let running = relaying(dir.path(), sink).await;
    if let Ok(url) = std::env::var("WEBHOOK_URL").map(|u| u.trim().to_string())
        && !url.is_empty()
    {
        let base = format!("http://{}", running.http_addr);
        let http = reqwest::Client::new();
        api(
            &http,
            &base,
            Method::POST,
            "/api/v1/webhooks",
            &key,
            Some(json!({"url": url, "events": ["Send", "Delivery"]})),
        )
        .await;
    }
    println!("smtp={}", running.smtp_addr);
    println!("http={}", running.http_addr);
    let _ = tokio::task::spawn_blocking(|| {
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new())
    })
    .await;
    println!("peak_rss_mib={:.0}", peak_rss_mib());
    running.stop().await.unwrap();
}

async fn serve(sink: SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let key = setup(dir.path()).await;
    let running = relaying(dir.path(), sink).await;
    let base = format!("http://{}", running.http_addr);
    let http = reqwest::Client::new();
    let access = api(
        &http,
        &base,
        Method::POST,
        "/api/v1/access-keys",
        &key,
        Some(json!({})),
    )
    .await;
    println!("http={}", running.http_addr);
    println!("api_key={key}");
    println!(
        "access_key_id={}",
        access["access_key_id"].as_str().unwrap()
    );
    println!("secret={}", access["secret_access_key"].as_str().unwrap());
    let _ = tokio::task::spawn_blocking(|| {
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new())
    })
    .await;
    println!("peak_rss_mib={:.0}", peak_rss_mib());
    running.stop().await.unwrap();
}

/// Posts `n` messages from `clients` clients; returns (seconds, accepted).
async fn post_messages(base: &str, key: &str, n: usize, clients: usize) -> (f64, usize) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, key) = (http.clone(), base.to_string(), key.to_string());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in (c..n).step_by(clients) {
                let body = json!({"category": "booking", "from": "a@example.com", "to": [format!("guest{i}@example.net")],
                    "subject": "Ihre Buchung", "text": "X".repeat(4000)});
                let r = http.post(format!("{base}/api/v1/messages")).bearer_auth(&key).json(&body).send().await.unwrap();
                if r.status() == reqwest::StatusCode::ACCEPTED {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    (started.elapsed().as_secs_f64(), accepted)
}

async fn api_intake(n: usize, sink: SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let key = setup(dir.path()).await;
    let running = relaying(dir.path(), sink).await;
    let base = format!("http://{}", running.http_addr);
    post_messages(&base, &key, 200, 8).await; // warm-up
    let (secs, accepted) = post_messages(&base, &key, n, 32).await;
    println!(
        "bench api: {accepted}/{n} messages accepted (202 after fsync) in {secs:.2} s = {:.0} msg/s (32 clients, 4 KB text, relaying meanwhile)",
        accepted as f64 / secs
    );
    running.stop().await.unwrap();
}

async fn queue_memory(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let key = setup(dir.path()).await;
    // Nothing listens there: every delivery fails and waits for its retry.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = closed.local_addr().unwrap();
    drop(closed);
    let running = relaying(dir.path(), unreachable).await;
    let base = format!("http://{}", running.http_addr);
    let (secs, accepted) = post_messages(&base, &key, n, 32).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let queued = running.app.store().queued_count().await.unwrap();
    println!(
        "bench queue: {accepted} accepted in {secs:.1} s, {queued} deliveries queued, peak memory {:.0} MiB",
        peak_rss_mib()
    );
    running.stop().await.unwrap();
}

/// RSA-2048 DKIM signatures of a 4 KB message per second on each of `threads` threads.
fn sign_rate(n: usize, threads: usize) {
    let der = absender_mail::dkim::generate_rsa_key(absender_mail::dkim::RsaBits::Rsa2048)
        .unwrap()
        .pkcs8_der;
    let key = absender_mail::dkim::SigningKey::load(&absender_mail::dkim::DkimKey {
        domain: "example.com",
        selector: "sel1",
        pkcs8_der: &der,
    })
    .unwrap();
    let body = "X".repeat(78) + "\r\n";
    let message = format!(
        "From: <a@example.com>\r\nTo: <b@example.net>\r\nSubject: bench\r\nMessage-ID: <1@example.com>\r\n\r\n{}",
        body.repeat(51)
    );
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..n {
                    absender_mail::dkim::sign_with(message.as_bytes(), &[&key]).unwrap();
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bench sign: {:.0} RSA-2048 DKIM signatures/s on {threads} thread(s) (mail-auth, RSA on aws-lc, 4 KB message)",
        (n * threads) as f64 / secs
    );
}

/// What the webhook receiver has seen: each event id once, and the lags.
#[derive(Default)]
struct Hooks {
    ids: std::collections::HashSet<String>,
    by_type: std::collections::BTreeMap<String, usize>,
    lags_ms: Vec<u64>,
    duplicates: usize,
}

async fn hooks() {
    use axum::http::HeaderMap;
    let seen = Arc::new(std::sync::Mutex::new(Hooks::default()));
    let receive = {
        let seen = seen.clone();
        move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let now = std::time::SystemTime::now();
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let mut seen = seen.lock().unwrap();
                if !seen.ids.insert(id) {
                    seen.duplicates += 1;
                    return;
                }
                let kind = event["eventType"].as_str().unwrap_or("?").to_string();
                if kind == "Delivery"
                    && let Some(at) = event["delivery"]["timestamp"].as_str()
                    && let Ok(at) = humantime::parse_rfc3339(at)
                {
                    let lag = now.duration_since(at).unwrap_or_default();
                    seen.lags_ms.push(lag.as_millis() as u64);
                }
                *seen.by_type.entry(kind).or_default() += 1;
            }
        }
    };
    let count = {
        let seen = seen.clone();
        move || {
            let seen = seen.clone();
            async move { seen.lock().unwrap().ids.len().to_string() }
        }
    };
    let router = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .route("/count", axum::routing::get(count));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("hooks=http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let _ = tokio::task::spawn_blocking(|| {
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new())
    })
    .await;
    let mut seen = seen.lock().unwrap();
    seen.lags_ms.sort_unstable();
    let at = |q: f64| {
        let lags = &seen.lags_ms;
        lags.get(((lags.len() as f64 * q) as usize).min(lags.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let types: Vec<String> = seen
        .by_type
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    println!(
        "events={} {} duplicates={} lag_p50_ms={} lag_p99_ms={} lag_max_ms={}",
        seen.ids.len(),
        types.join(" "),
        seen.duplicates,
        at(0.50),
        at(0.99),
        seen.lags_ms.last().copied().unwrap_or(0)
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(1).as_str() {
        "smtp" => smtp(arg(2).parse().expect("SINK is ip:port")).await,
        "api" => {
            api_intake(
                arg(2).parse().unwrap_or(20_000),
                arg(3).parse().expect("SINK is ip:port"),
            )
            .await
        }
        "queue" => queue_memory(arg(2).parse().unwrap_or(100_000)).await,
        "serve" => serve(arg(2).parse().expect("SINK is ip:port")).await,
        "sign" => sign_rate(arg(2).parse().unwrap_or(2000), arg(3).parse().unwrap_or(1)),
        "hooks" => hooks().await,
        _ => eprintln!(
            "usage: bench_send smtp SINK | api N SINK | queue N | serve SINK | sign N THREADS | hooks"
        ),
    }
}
