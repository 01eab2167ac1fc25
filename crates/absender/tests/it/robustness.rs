//! Hostile input and slow peers: bounded DNS checks, a scheduler that no
//! single check can stall, and a stop that no check can hold up.

use crate::delivery::{due_at, mx_config, relay_config, wait_message};
use crate::dns_failures::broken_dns;
use crate::helpers::spawn_with;
use crate::helpers::{Org, TestApp, codes, spawn_app, spawn_with_resolvers};
use crate::messages::{accepted, booking};
use crate::smtp_sink::{Reply, SmtpSink};
use absender::config::Config;
use absender_service::settings::{Resolvers, TlsMode};
use absender_service::{Clock, SystemClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Publishes the identity's records in its local zone, its SPF policy replaced by `spf`.
async fn publish_with_spf(app: &TestApp, org: &Org, identity: &Value, spf: &str) {
    let domain = identity["domain"].as_str().unwrap();
    app.publish_replacing(org, identity, |name, rtype| {
        (name == domain && rtype == "TXT").then_some(spf)
    })
    .await;
}

/// "Check now", failing the test instead of hanging when the check never ends.
async fn check_within(app: &TestApp, org: &Org, id: &str, limit: Duration) -> Value {
    tokio::time::timeout(limit, app.check(org, id))
        .await
        .unwrap_or_else(|_| panic!("the check did not end within {limit:?}"))
}

#[tokio::test]
async fn spf_limits_hold_across_nested_includes_and_end_a_loop_at_once() {
    let app = spawn_app().await;
    // Four names that include each other: a lookup tree without end.
    app.zone("loop.test").await;
    for n in 1..=4 {
        let others: Vec<String> = (1..=4)
            .filter(|o| *o != n)
            .map(|o| format!("include:l{o}.loop.test"))
            .collect();
        let policy = format!("v=spf1 {} ~all", others.join(" "));
        app.record("loop.test", &format!("l{n}.loop.test"), "TXT", &policy)
            .await;
    }
    app.zone("nowhere.test").await;
    let cases = [
        (
            "events@looped.test",
            "v=spf1 include:spf.absender.test include:l1.loop.test ~all",
            "spf_too_many_lookups",
        ),
        (
            "events@voids.test",
            "v=spf1 include:v1.nowhere.test include:v2.nowhere.test include:v3.nowhere.test include:spf.absender.test ~all",
            "spf_too_many_void_lookups",
        ),
        (
            // `a` terms that find nothing are void lookups as well.
            "events@avoids.test",
            "v=spf1 a:n1.nowhere.test a:n2.nowhere.test mx:n3.nowhere.test include:spf.absender.test ~all",
            "spf_too_many_void_lookups",
        ),
        (
            // Eleven lookups only through nesting: each level looks fine alone.
            "events@deep.test",
            "v=spf1 include:spf.absender.test include:d1.loop.test ~all",
            "spf_too_many_lookups",
        ),
    ];
    for n in 1..=3 {
        let next = if n < 3 {
            format!("include:d{}.loop.test", n + 1)
        } else {
            "a:x1.loop.test a:x2.loop.test".to_string()
        };
        let policy = format!("v=spf1 a:y{n}.loop.test a:z{n}.loop.test {next} ~all");
        app.record("loop.test", &format!("d{n}.loop.test"), "TXT", &policy)
            .await;
        for host in [format!("y{n}"), format!("z{n}"), format!("x{n}")] {
            app.record("loop.test", &format!("{host}.loop.test"), "A", "192.0.2.1")
                .await;
        }
    }
    let org = app.upgraded_org("Acme", "en").await;
    // With `all`, a redirect is ignored (RFC 7208 §6.1): the loop behind it costs nothing.
    let fine = app
        .request_identity(&org, "events@redirected.test", "all")
        .await;
    let policy = "v=spf1 include:spf.absender.test ~all redirect=l1.loop.test";
    publish_with_spf(&app, &org, &fine, policy).await;
    let checked = check_within(
        &app,
        &org,
        fine["id"].as_str().unwrap(),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(checked["parts"]["spf"]["status"], "SUCCESS", "{checked}");
    for (address, policy, expected) in cases {
        let identity = app.request_identity(&org, address, "all").await;
        publish_with_spf(&app, &org, &identity, policy).await;
        let id = identity["id"].as_str().unwrap();
        let checked = check_within(&app, &org, id, Duration::from_secs(20)).await;
        assert_eq!(codes(&checked, "spf"), [expected], "{policy}: {checked}");
        assert_eq!(checked["parts"]["spf"]["error_type"], "INVALID_VALUE");
        assert_eq!(checked["parts"]["dkim"]["status"], "SUCCESS", "{checked}");
    }
}

/// A server whose resolver never answers, with `checks.timeout` set.
async fn app_with_silent_resolver(check_timeout: Duration) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    // One question alone would outlast the check.
    config.dns.query_timeout = Duration::from_secs(30);
    config.checks.timeout = check_timeout;
    let silent = broken_dns(false).await;
    spawn_with_resolvers(config, Some(dir), Resolvers::Explicit(vec![silent])).await
}

#[tokio::test]
async fn a_check_that_hangs_ends_at_its_deadline_and_delays_no_other_identity() {
    let app = app_with_silent_resolver(Duration::from_secs(4)).await;
    let org = app.upgraded_org("Acme", "en").await;
    // Its name servers never answer: the first check hangs until its deadline.
    let slow = app
        .request_identity(&org, "events@silent.example", "all")
        .await;
    let slow_id = slow["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A domain absender serves itself: its check needs no other server.
    app.zone("acme.test").await;
    let started = Instant::now();
    let fast = app.request_identity(&org, "events@acme.test", "all").await;
    let fast_id = fast["id"].as_str().unwrap();
    app.wait_for(&org, fast_id, Duration::from_secs(3), |i| {
        i["parts"]["dkim"]["last_checked_at"].is_string()
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "checked while the other hangs"
    );
    let slow = app
        .wait_for(&org, slow_id, Duration::from_secs(10), |i| {
            i["parts"]["dkim"]["last_checked_at"].is_string()
        })
        .await;
    assert_eq!(codes(&slow, "spf"), ["dns_timeout"], "{slow}");
    assert!(codes(&slow, "dkim").iter().all(|c| c == "dns_timeout"));
    assert_eq!(slow["parts"]["dkim"]["status"], "PENDING", "temporary");
    assert!(slow["next_check_at"].is_string(), "tried again later");
}

#[tokio::test]
async fn a_stop_takes_at_most_five_seconds_whatever_checks_are_running() {
    let app = app_with_silent_resolver(Duration::from_secs(50)).await;
    let org = app.upgraded_org("Acme", "en").await;
    let first = app.request_identity(&org, "a@silent.example", "all").await;
    let second = app.request_identity(&org, "b@silent.example", "all").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A "check now" waits for the scheduler's check of the same identity.
    let waiting = {
        let (http, base) = (app.http.clone(), app.base.clone());
        let (id, key) = (first["id"].as_str().unwrap().to_string(), org.key.clone());
        tokio::spawn(async move {
            http.post(format!("{base}/api/v1/identities/{id}/check"))
                .bearer_auth(key)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = second;
    let started = Instant::now();
    app.stop().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the stop took {took:?}");
    let response = waiting
        .await
        .unwrap()
        .expect("the waiting request is answered before the server goes");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "shutting_down", "{body}");
}

/// A relay app whose relay wants a login, with `tls`.
fn relay_login_config(sink: &SmtpSink, tls: TlsMode, dir: &std::path::Path) -> Config {
    let mut config = relay_config(sink, 2, dir);
    config.sending.relay.tls = tls;
    config.sending.relay.accept_invalid_certs = true;
    config.sending.relay.username = Some("absender".into());
    config.sending.relay.password = Some("relay-secret".to_string().into());
    config
}

#[tokio::test]
async fn a_relay_login_crosses_the_wire_only_over_tls() {
    let sink = SmtpSink::plain_auth_smarthost("absender", "relay-secret").await;

    // Plain text with a login is a start-up error.
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay_login_config(&sink, TlsMode::None, dir.path());
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.dns.listen = "127.0.0.1:0".parse().unwrap();
    config.smtp.listen = "127.0.0.1:0".parse().unwrap();
    let refused = absender::server::start(&config, std::sync::Arc::new(SystemClock))
        .await
        .err()
        .expect("tls = none with a login does not start");
    assert!(
        format!("{refused:#}").contains("sending.relay.tls"),
        "{refused:#}"
    );

    // "opportunistic" acts as "required": a relay without STARTTLS never sees the password.
    let dir = tempfile::tempdir().unwrap();
    let config = relay_login_config(&sink, TlsMode::Opportunistic, dir.path());
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let org = app.create_org("Acme", "en").await;
    let id = accepted(&app, &org, booking(json!({}))).await;
    let m = wait_message(&app, &org.key, &id, |m| {
        m["recipients"][0]["status"] == "deferred"
    })
    .await;
    let reply = m["recipients"][0]["last_reply"].as_str().unwrap();
    assert!(reply.contains("offers no STARTTLS"), "{reply}");
    assert_eq!(sink.auth_commands(), 0, "no AUTH in plain text");
    assert_eq!(sink.count(), 0);
    app.stop().await;

    // Implicit TLS (port 465) reaches a relay that speaks TLS from the first byte.
    let tls_sink = SmtpSink::implicit_tls_smarthost("absender", "relay-secret").await;
    let dir = tempfile::tempdir().unwrap();
    let config = relay_login_config(&tls_sink, TlsMode::Implicit, dir.path());
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(tls_sink.clone());
    let org = app.create_org("Acme", "en").await;
    let id = accepted(&app, &org, booking(json!({}))).await;
    wait_message(&app, &org.key, &id, |m| m["status"] == "delivered").await;
    let (over_tls, logins) = tls_sink.secured();
    assert!(over_tls >= 1 && logins.iter().any(|l| l == "absender"));
    app.stop().await;
}

#[tokio::test]
async fn mx_mode_never_delivers_to_special_purpose_addresses_unless_allowed() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    assert!(
        !Config::default().sending.allow_private_targets,
        "off by default"
    );
    let mut config = mx_config(&sink, dir.path());
    config.sending.allow_private_targets = false;
    let app = spawn_with(config, Some(dir)).await;
    app.zone("guests.test").await;
    app.record("guests.test", "guests.test", "MX", "10 mx1.guests.test")
        .await;
    app.record("guests.test", "mx1.guests.test", "A", "127.0.0.1")
        .await;
    let org = app.create_org("Acme", "en").await;
    let body = booking(json!({"to": ["anna@guests.test"]}));
    let id = accepted(&app, &org, body).await;
    let m = wait_message(&app, &org.key, &id, |m| {
        m["recipients"][0]["status"] == "deferred"
    })
    .await;
    let reply = m["recipients"][0]["last_reply"].as_str().unwrap();
    assert!(
        reply.contains("special-purpose") && reply.contains("127.0.0.1"),
        "{reply}"
    );
    assert_eq!(sink.connections(), 0, "absender never connected");
    app.stop().await;
}

#[tokio::test]
async fn a_slow_http_client_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.http.header_read_timeout = Duration::from_secs(1);
    config.http.body_timeout = Duration::from_secs(1);
    config.http.max_connections = 3;
    let app = spawn_with(config, Some(dir)).await;
    let addr = app.base.trim_start_matches("http://").to_string();

    // A crowd of silent connections: beyond the limit each is closed at once.
    let mut crowd = Vec::new();
    for _ in 0..3 {
        crowd.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut nothing = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), over.read_to_end(&mut nothing))
        .await
        .expect("closed at once")
        .ok();
    assert!(nothing.is_empty());
    drop(crowd);
    // Their places come back (the silent ones end at the header timeout).
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Headers a byte at a time, never finished: the connection is closed.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest))
        .await
        .expect("closed by the server")
        .ok();
    assert!(started.elapsed() < Duration::from_secs(5));

    // A body announced but never sent: 408 with the API's error shape.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nAuthorization: Bearer {}\r\n\r\n{{",
        crate::helpers::ADMIN_KEY
    );
    slow.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut answer))
        .await
        .expect("answered in time")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn an_spf_include_behind_a_cname_is_followed() {
    let app = spawn_app().await;
    // A provider's SPF, reached through the customer's alias for it.
    app.zone("provider.test").await;
    app.record(
        "provider.test",
        "spf.provider.test",
        "TXT",
        "v=spf1 include:spf.absender.test ~all",
    )
    .await;
    app.zone("alias.test").await;
    app.record(
        "alias.test",
        "_spf.alias.test",
        "CNAME",
        "spf.provider.test",
    )
    .await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app.request_identity(&org, "events@alias.test", "all").await;
    publish_with_spf(&app, &org, &identity, "v=spf1 include:_spf.alias.test ~all").await;
    let id = identity["id"].as_str().unwrap();
    let checked = check_within(&app, &org, id, Duration::from_secs(20)).await;
    assert_eq!(checked["parts"]["spf"]["status"], "SUCCESS", "{checked}");
}

/// Local zones whose mail goes to `mx.<domain>` at 127.0.0.1 (the sink).
async fn mail_domains(app: &TestApp, domains: &[&str]) {
    for domain in domains {
        app.zone(domain).await;
        app.record(domain, domain, "MX", &format!("10 mx.{domain}"))
            .await;
        app.record(domain, &format!("mx.{domain}"), "A", "127.0.0.1")
            .await;
    }
}

/// Moves the server's clock as real time goes, so that leases and retries
/// come due; abort the task at the end.
fn tick_in_real_time(app: &TestApp) -> tokio::task::JoinHandle<()> {
    let clock = app.clock.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            clock.advance(Duration::from_millis(100));
        }
    })
}

#[tokio::test]
async fn a_receiver_slower_than_the_lease_gets_the_mail_once_and_stalls_no_other_destination() {
    let sink = SmtpSink::start().await;
    // Holds the DATA reply three times as long as a lease.
    sink.slow_for("slow@slow.test", Duration::from_secs(3));
    let dir = tempfile::tempdir().unwrap();
    let mut config = mx_config(&sink, dir.path());
    config.sending.lease = Duration::from_secs(1);
    config.sending.workers = 2;
    config.sending.per_destination = 1;
    let app = spawn_with(config, Some(dir)).await;
    mail_domains(&app, &["slow.test", "fast.test"]).await;
    let org = app.create_org("Acme", "en").await;
    // The server's clock runs as real time does, so that leases run out.
    let ticking = tick_in_real_time(&app);
    // Three to the slow destination (one at a time there), then mail to another.
    let mut slow = Vec::new();
    for _ in 0..3 {
        slow.push(accepted(&app, &org, booking(json!({"to": ["slow@slow.test"]}))).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fast = accepted(&app, &org, booking(json!({"to": ["guest@fast.test"]}))).await;
    let started = Instant::now();
    wait_message(&app, &org.key, &fast, |m| m["status"] == "delivered").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the fast destination waited {:?} behind the slow one",
        started.elapsed()
    );
    for id in &slow {
        wait_message(&app, &org.key, id, |m| m["status"] == "delivered").await;
    }
    // Each is written as delivered: no claim, however late, takes one again.
    assert_eq!(due_at(&app, i64::MAX / 2).await, 0, "nothing left to send");
    assert_eq!(
        sink.attempts_for("slow@slow.test"),
        3,
        "each slow message exactly once, though each took three leases"
    );
    ticking.abort();
    app.stop().await;
}

#[tokio::test]
async fn a_node_whose_lease_was_taken_during_the_attempt_does_not_send_the_message() {
    let sink = SmtpSink::start().await;
    // RCPT TO is answered only after two leases; meanwhile another node
    // takes the delivery over (as it does once the lease ran out by its clock).
    sink.answer("late@slow.test", Reply::AcceptAfter(Duration::from_secs(2)));
    let dir = tempfile::tempdir().unwrap();
    let mut config = mx_config(&sink, dir.path());
    config.sending.lease = Duration::from_secs(1);
    let app = spawn_with(config, Some(dir)).await;
    mail_domains(&app, &["slow.test"]).await;
    let org = app.create_org("Acme", "en").await;
    accepted(&app, &org, booking(json!({"to": ["late@slow.test"]}))).await;
    let started = Instant::now();
    while sink.attempts_for("late@slow.test") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no attempt began"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let later = app.clock.now_ms() + 3_600_000;
    let taken = app
        .app()
        .store()
        .claim_due_deliveries(later, later + 60_000, 10, "node_other@1")
        .await
        .unwrap();
    assert_eq!(taken.len(), 1, "the other node takes the delivery");
    // This node learns it at its next renewal and gives the transaction up
    // before DATA: the receiver sees RSET, not the message.
    while sink.resets() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the transaction was not reset; received: {}",
            sink.count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        sink.count(),
        0,
        "the message went out from a node that no longer held it"
    );
    let deliveries = app
        .app()
        .store()
        .deliveries(&taken[0].message_id)
        .await
        .unwrap();
    assert_eq!(
        deliveries[0].lease_owner, "node_other@1",
        "the other node's lease stands"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_slow_destinations_backlog_gives_its_places_in_memory_back() {
    let sink = SmtpSink::start().await;
    sink.slow_for("slow@slow.test", Duration::from_secs(2));
    let dir = tempfile::tempdir().unwrap();
    let mut config = mx_config(&sink, dir.path());
    // Two places in memory, one session per destination.
    config.sending.in_flight = 2;
    config.sending.per_destination = 1;
    config.sending.slot_wait = Duration::from_millis(300);
    config.sending.poll_interval = Duration::from_millis(100);
    let app = spawn_with(config, Some(dir)).await;
    mail_domains(&app, &["slow.test", "fast.test"]).await;
    let org = app.create_org("Acme", "en").await;
    // The server's clock runs as real time does, so that requeued mail comes due.
    let ticking = tick_in_real_time(&app);
    let mut slow = Vec::new();
    for _ in 0..4 {
        slow.push(accepted(&app, &org, booking(json!({"to": ["slow@slow.test"]}))).await);
    }
    let fast = accepted(&app, &org, booking(json!({"to": ["guest@fast.test"]}))).await;
    let started = Instant::now();
    wait_message(&app, &org.key, &fast, |m| m["status"] == "delivered").await;
    // Without giving places back it would wait for the four slow ones, 8 s.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the fast destination waited {:?} behind the slow one's backlog",
        started.elapsed()
    );
    for id in &slow {
        let message = wait_message(&app, &org.key, id, |m| m["status"] == "delivered").await;
        assert_eq!(
            message["recipients"][0]["attempts"], 1,
            "waiting for a session is not an attempt: {message}"
        );
    }
    assert_eq!(sink.attempts_for("slow@slow.test"), 4, "each once");
    ticking.abort();
    app.stop().await;
}

#[tokio::test]
async fn a_client_gets_its_share_of_http_connections_and_must_take_its_answers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.http.max_connections_per_ip = 2;
    config.http.write_timeout = Duration::from_secs(1);
    let app = spawn_with(config, Some(dir)).await;
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let connect_from = |ip: &str| {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        socket.connect(addr)
    };

    // Two silent connections from 127.0.0.1: a third from there is closed
    // at once, one from 127.0.0.2 is served.
    let crowd = [
        connect_from("127.0.0.1").await.unwrap(),
        connect_from("127.0.0.1").await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = connect_from("127.0.0.1").await.unwrap();
    let mut nothing = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), over.read_to_end(&mut nothing))
        .await
        .expect("closed at once")
        .ok();
    assert!(nothing.is_empty());
    let health = |ip: &'static str| {
        let connecting = connect_from(ip);
        async move {
            let mut stream = connecting.await.ok()?;
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .ok()?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.ok()?;
            Some(answer)
        }
    };
    let answer = health("127.0.0.2").await.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Closed connections give their places back.
    drop(crowd);
    let started = Instant::now();
    while !health("127.0.0.1")
        .await
        .is_some_and(|a| a.starts_with("HTTP/1.1 200"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no place came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A large answer the client never reads: cut off after the write
    // timeout, not kept until the client wakes up.
    let org = app.create_org("Acme", "en").await;
    let big = "Zeile mit Text. ".repeat(400_000);
    let id = accepted(&app, &org, booking(json!({"text": big}))).await;
    wait_message(&app, &org.key, &id, |m| {
        m["recipients"][0]["status"] == "captured"
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut sleepy = socket.connect(addr).await.unwrap();
    let request = format!(
        "GET /api/v1/outbox/{id}/raw HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        org.key
    );
    sleepy.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), sleepy.read_to_end(&mut got)).await;
    let head = String::from_utf8_lossy(&got[..got.len().min(2000)]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head} for {request}");
    let announced: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("a length")
        .trim()
        .parse()
        .unwrap();
    let body = got.len() - head.find("\r\n\r\n").unwrap() - 4;
    assert!(
        body < announced,
        "all {announced} bytes came after a 4 s stall"
    );
    app.stop().await;
}
