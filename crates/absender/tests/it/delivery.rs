//! Delivery through a real SMTP server on 127.0.0.1: relay and MX modes,
//! retries on 4xx and dropped connections, bounces on 5xx with suppression,
//! connection reuse, and the message status that shows it all.

use crate::helpers::{Org, TestApp, code, smtp_dialogue, spawn_with};
use crate::messages::{accepted, acme, booking, send, suppressions};
use crate::smtp_sink::{Reply, SmtpSink};
use absender::config::Config;
use absender_service::Clock;
use absender_service::settings::{DeliveryMode, TlsMode};
use mail_auth::DkimResult;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn relay_app(sink: &SmtpSink, per_destination: usize) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_with(relay_config(sink, per_destination, dir.path()), Some(dir)).await;
    app.mailbox = Some(sink.clone());
    app
}

/// `n` booking mails from `org`, to guest0@example.test, guest1@…, each accepted.
async fn send_bookings(app: &TestApp, org: &Org, n: usize) {
    for i in 0..n {
        let to = format!("guest{i}@example.test");
        send(app, org, booking(json!({"to": [to]})), StatusCode::ACCEPTED).await;
    }
}

/// MX mode: mail hosts found in absender's own DNS, all on 127.0.0.1 at the sink's port.
pub fn mx_config(sink: &SmtpSink, data_dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: data_dir.to_path_buf(),
        ..Config::default()
    };
    config.sending.mode = DeliveryMode::Mx;
    config.sending.mx_port = sink.addr.port();
    // The test's mail hosts are on 127.0.0.1.
    config.sending.allow_private_targets = true;
    config.sending.poll_interval = Duration::from_millis(50);
    config
}

pub fn relay_config(sink: &SmtpSink, per_destination: usize, data_dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: data_dir.to_path_buf(),
        ..Config::default()
    };
    config.sending.mode = DeliveryMode::Relay;
    config.sending.relay.host = sink.addr.ip().to_string();
    config.sending.relay.port = sink.addr.port();
    config.sending.relay.tls = TlsMode::Opportunistic;
    config.sending.per_destination = per_destination;
    config.sending.poll_interval = Duration::from_millis(50);
    config
}

async fn message(app: &TestApp, key: &str, id: &str) -> Value {
    app.json(
        Method::GET,
        &format!("/api/v1/messages/{id}"),
        Some(key),
        None,
        StatusCode::OK,
    )
    .await
}

/// Polls the message until `done` holds (up to 20 s).
pub async fn wait_message(
    app: &TestApp,
    key: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..400 {
        let m = message(app, key, id).await;
        if done(&m) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message never got there: {}", message(app, key, id).await);
}

pub fn status_of<'a>(m: &'a Value, recipient: &str) -> &'a Value {
    m["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == recipient)
        .unwrap_or_else(|| panic!("{recipient} not in {m}"))
}

#[tokio::test]
async fn relay_delivers_each_recipient_signed_and_reports_the_reply() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 4).await;
    let (org, _) = acme(&app).await;
    let body = booking(
        json!({"to": ["guest@example.test"], "cc": ["partner@example.test"], "bcc": ["archive@example.test"]}),
    );
    let id = accepted(&app, &org, body).await;

    let got = sink.wait_for(3).await;
    let mut rcpts: Vec<String> = got.iter().flat_map(|r| r.to.clone()).collect();
    rcpts.sort();
    assert_eq!(
        rcpts,
        [
            "archive@example.test",
            "guest@example.test",
            "partner@example.test"
        ]
    );
    for r in &got {
        // Each recipient's own return path at the custom MAIL FROM domain.
        assert!(
            r.from.starts_with(&format!("bounces+{id}.")) && r.from.ends_with("@bounce.acme.test"),
            "custom MAIL FROM: {}",
            r.from
        );
        let text = String::from_utf8_lossy(&r.data);
        assert!(
            !text.contains("archive@example.test"),
            "Bcc never shows: {text}"
        );
        let verdicts = app.dkim_verdicts(&r.data).await;
        let domains: Vec<&str> = verdicts
            .iter()
            .filter(|(_, v)| *v == DkimResult::Pass)
            .map(|(d, _)| d.as_str())
            .collect();
        assert!(
            domains.contains(&"acme.test") && domains.contains(&"absender.test"),
            "{verdicts:?}"
        );
    }
    let m = wait_message(&app, &org.key, &id, |m| m["status"] == "delivered").await;
    let guest = status_of(&m, "guest@example.test");
    assert_eq!(guest["status"], "delivered");
    assert_eq!(guest["attempts"], 1);
    assert!(
        guest["last_reply"].as_str().unwrap().starts_with("250"),
        "{guest}"
    );
    assert_eq!(m["from"], "events@acme.test");

    let metrics = app
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    // Three recipients, and absender's own notices (the verification mail, "ready").
    let delivered = 3 + sink.system_mail();
    assert!(
        metrics.contains(&format!(
            "absender_delivery_attempts_total{{result=\"delivered\"}} {delivered}"
        )),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("absender_messages_accepted_total{category=\"booking\",interface=\"api\"} 1")
    );
}

#[tokio::test]
async fn a_relay_is_reached_over_starttls_with_auth_and_a_wrong_password_defers() {
    let sink = SmtpSink::smarthost("absender", "relay-secret").await;
    let start = |password: &'static str| {
        let sink = sink.clone();
        async move {
            let dir = tempfile::tempdir().unwrap();
            let mut config = relay_config(&sink, 4, dir.path());
            config.sending.relay.tls = TlsMode::Required;
            config.sending.relay.accept_invalid_certs = true;
            config.sending.relay.username = Some("absender".into());
            config.sending.relay.password = Some(password.to_string().into());
            let mut app = spawn_with(config, Some(dir)).await;
            app.mailbox = Some(sink);
            app
        }
    };
    let app = start("relay-secret").await;
    let (org, _) = acme(&app).await;
    let id = accepted(&app, &org, booking(json!({}))).await;
    wait_message(&app, &org.key, &id, |m| m["status"] == "delivered").await;
    let (over_tls, logins) = sink.secured();
    assert!(over_tls >= 1, "over TLS");
    assert!(logins.iter().all(|l| l == "absender") && !logins.is_empty());

    // No mail leaves with a wrong password (no verification mail either): a
    // booking from the platform's default sender shows the deferral.
    let wrong = start("not-the-secret").await;
    let org = wrong.create_org("Acme", "en").await;
    let id = accepted(&wrong, &org, booking(json!({}))).await;
    let m = wait_message(&wrong, &org.key, &id, |m| {
        m["recipients"][0]["status"] == "deferred"
    })
    .await;
    let reply = m["recipients"][0]["last_reply"].as_str().unwrap();
    assert!(reply.contains("AUTH failed"), "{reply}");
    assert_eq!(sink.received().len(), 1, "nothing more arrived");
    assert!(
        sink.system_mail() >= 1,
        "absender's verification mail was delivered too"
    );
}

#[tokio::test]
async fn a_4xx_or_a_dropped_connection_is_retried_with_backoff_until_delivered() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 2).await;
    let (org, _) = acme(&app).await;
    sink.answer(
        "busy@example.test",
        Reply::Refuse("451 4.3.0 try again later".into()),
    );
    sink.answer("flaky@example.test", Reply::Drop);
    let send_to = |to: &'static str| booking(json!({"to": [to]}));
    let busy = accepted(&app, &org, send_to("busy@example.test")).await;
    let flaky = accepted(&app, &org, send_to("flaky@example.test")).await;

    for (id, reply) in [(&busy, "451 4.3.0 try again later"), (&flaky, "")] {
        let m = wait_message(&app, &org.key, id, |m| {
            m["recipients"][0]["status"] == "deferred"
        })
        .await;
        let r = &m["recipients"][0];
        assert_eq!(m["status"], "queued");
        assert_eq!(r["attempts"], 1);
        assert!(r["last_reply"].as_str().unwrap().contains(reply), "{r}");
        assert!(r["next_attempt_at"].is_string(), "{r}");
    }
    assert!(sink.received().is_empty());

    // Not yet due: a claim now takes nothing. Then the server recovers and time passes.
    sink.answer("busy@example.test", Reply::Accept);
    sink.answer("flaky@example.test", Reply::Accept);
    assert_eq!(
        due_at(&app, app.clock.now_ms()).await,
        0,
        "nothing due before its retry"
    );
    assert_eq!(
        message(&app, &org.key, &busy).await["recipients"][0]["attempts"],
        1
    );
    app.advance(Duration::from_secs(76));
    for id in [&busy, &flaky] {
        let m = wait_message(&app, &org.key, id, |m| m["status"] == "delivered").await;
        assert_eq!(m["recipients"][0]["attempts"], 2);
    }
    assert_eq!(sink.received().len(), 2);
}

#[tokio::test]
async fn a_5xx_bounces_suppresses_the_address_and_later_sends_are_refused() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 2).await;
    let (org, _) = acme(&app).await;
    sink.answer(
        "gone@example.test",
        Reply::Refuse("550 5.1.1 <gone@example.test>: no such user".into()),
    );
    sink.answer(
        "spam@example.test",
        Reply::Refuse("554 5.7.1 refused as spam".into()),
    );
    let body =
        booking(json!({"to": ["gone@example.test", "spam@example.test", "ok@example.test"]}));
    let id = accepted(&app, &org, body).await;
    let m = wait_message(&app, &org.key, &id, |m| m["status"] != "queued").await;
    assert_eq!(m["status"], "partially_delivered", "{m}");
    let gone = status_of(&m, "gone@example.test");
    assert_eq!(gone["status"], "bounced");
    assert!(
        gone["last_reply"].as_str().unwrap().contains("5.1.1"),
        "{gone}"
    );
    assert_eq!(status_of(&m, "spam@example.test")["status"], "bounced");
    assert_eq!(status_of(&m, "ok@example.test")["status"], "delivered");

    // Only the unknown mailbox is suppressed, not the message refused for its content.
    let list = suppressions(&app, &org).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["address"], "gone@example.test");
    assert_eq!(items[0]["reason"], "hard_bounce");
    assert_eq!(items[0]["message_id"], id.as_str());

    let refused = send(
        &app,
        &org,
        booking(json!({"to": ["ok@example.test", "Gone@Example.test"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&refused), "recipient_suppressed");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gone@example.test (hard_bounce)")
    );

    // The organization lifts it; another organization never saw it.
    let other = app.upgraded_org("Other", "en").await;
    let theirs = suppressions(&app, &other).await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let not_theirs = app
        .call(
            Method::DELETE,
            "/api/v1/suppressions/gone@example.test",
            Some(&other.key),
            None,
        )
        .await;
    assert_eq!(not_theirs.status(), StatusCode::NOT_FOUND);
    let lifted = app
        .call(
            Method::DELETE,
            "/api/v1/suppressions/gone@example.test",
            Some(&org.key),
            None,
        )
        .await;
    assert_eq!(lifted.status(), StatusCode::NO_CONTENT);
    send(
        &app,
        &org,
        booking(json!({"to": ["gone@example.test"]})),
        StatusCode::ACCEPTED,
    )
    .await;
}

#[tokio::test]
async fn suppressions_can_be_added_listed_and_paged() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 1).await;
    let (org, _) = acme(&app).await;
    for address in ["b@example.test", "a@example.test", "c@example.test"] {
        let added = app
            .json(
                Method::POST,
                "/api/v1/suppressions",
                Some(&org.key),
                Some(json!({"address": address, "detail": "asked by phone"})),
                StatusCode::CREATED,
            )
            .await;
        assert_eq!(added["reason"], "manual");
    }
    let bad = app
        .json(
            Method::POST,
            "/api/v1/suppressions",
            Some(&org.key),
            Some(json!({"address": "not an address"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(code(&bad), "invalid_address");
    let page = app
        .json(
            Method::GET,
            "/api/v1/suppressions?limit=2",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let addresses: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["a@example.test", "b@example.test"]);
    let next = app
        .json(
            Method::GET,
            "/api/v1/suppressions?limit=2&after=b@example.test",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(next["items"][0]["address"], "c@example.test");
    let refused = send(
        &app,
        &org,
        booking(json!({"to": ["c@example.test"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&refused), "recipient_suppressed");
    let metrics = app
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("absender_messages_refused_total{code=\"recipient_suppressed\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn several_messages_share_one_smtp_session() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 1).await;
    let (org, _) = acme(&app).await;
    send_bookings(&app, &org, 6).await;
    let got = sink.wait_for(6).await;
    assert_eq!(got.len(), 6);
    assert_eq!(
        sink.connections(),
        1,
        "one connection to the relay carried all six"
    );
}

#[tokio::test]
async fn messages_beyond_the_in_memory_limit_are_claimed_from_the_store_without_waiting_for_the_poll()
 {
    let sink = SmtpSink::start().await;
    sink.slow_down(Duration::from_millis(20));
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(&sink, 4, dir.path());
    // Two deliveries in memory at most: the rest wait in the store, and only
    // a claim brings them out. The poll would come too late for the test.
    config.sending.in_flight = 2;
    config.sending.poll_interval = Duration::from_secs(60);
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let (org, _) = acme(&app).await;
    send_bookings(&app, &org, 12).await;
    let mut rcpts: Vec<String> = sink
        .wait_for(12)
        .await
        .iter()
        .flat_map(|r| r.to.clone())
        .collect();
    rcpts.sort();
    rcpts.dedup();
    assert_eq!(rcpts.len(), 12, "{rcpts:?}");
}

#[tokio::test]
async fn a_stop_right_after_a_delivery_writes_its_result_so_a_restart_does_not_send_it_again() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 2).await;
    let (org, _) = acme(&app).await;
    let id = accepted(&app, &org, booking(json!({}))).await;
    // Stop within milliseconds of the relay taking it: results are gathered
    // for a moment before they are written, and the stop must not drop them.
    for _ in 0..4000 {
        if !sink.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(sink.received().len(), 1);
    let dir = app.stop().await.unwrap();
    let config = relay_config(&sink, 2, dir.path());
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let m = wait_message(&app, &org.key, &id, |m| m["status"] == "delivered").await;
    assert_eq!(m["recipients"][0]["attempts"], 1, "{m}");
    // Written as delivered: no claim, however late, takes it again.
    assert_eq!(due_at(&app, i64::MAX / 2).await, 0, "nothing left to send");
    assert_eq!(
        sink.received().len(),
        1,
        "delivered once, not again after the restart"
    );
}

#[tokio::test]
async fn no_more_than_per_destination_sessions_are_open_at_once() {
    let sink = SmtpSink::start().await;
    sink.slow_down(Duration::from_millis(100));
    let app = relay_app(&sink, 2).await;
    let (org, _) = acme(&app).await;
    let before = sink.connections();
    send_bookings(&app, &org, 10).await;
    sink.wait_for(10).await;
    // Ten slow messages at once, yet two sessions carried them all.
    assert!(
        sink.connections() - before <= 2,
        "{} connections",
        sink.connections() - before
    );
}

#[tokio::test]
async fn mx_mode_finds_the_mail_host_in_dns_and_bounces_a_domain_without_mail() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_with(mx_config(&sink, dir.path()), Some(dir)).await;
    app.mailbox = Some(sink.clone());
    // The address owner's mailbox (its verification link) is found by implicit MX.
    app.zone("acme.test").await;
    app.record("acme.test", "acme.test", "A", "127.0.0.1").await;
    let (org, _) = acme(&app).await;
    app.zone("guests.test").await;
    app.record("guests.test", "guests.test", "MX", "10 mx1.guests.test")
        .await;
    app.record("guests.test", "mx1.guests.test", "A", "127.0.0.1")
        .await;
    app.zone("nomail.test").await;
    app.record("nomail.test", "nomail.test", "MX", "0 .").await;

    let body =
        booking(json!({"to": ["anna@guests.test", "bob@nomail.test", "carl@missing.guests.test"]}));
    let id = accepted(&app, &org, body).await;
    let m = wait_message(&app, &org.key, &id, |m| m["status"] != "queued").await;
    assert_eq!(
        status_of(&m, "anna@guests.test")["status"],
        "delivered",
        "{m}"
    );
    let bob = status_of(&m, "bob@nomail.test");
    assert_eq!(bob["status"], "bounced");
    assert!(
        bob["last_reply"].as_str().unwrap().contains("null MX"),
        "{bob}"
    );
    let carl = status_of(&m, "carl@missing.guests.test");
    assert_eq!(carl["status"], "bounced");
    assert!(
        carl["last_reply"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{carl}"
    );
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["anna@guests.test"]);
}

#[tokio::test]
async fn a_message_that_cannot_be_delivered_for_three_days_bounces() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 1).await;
    let (org, _) = acme(&app).await;
    sink.answer(
        "full@example.test",
        Reply::Refuse("452 4.2.2 mailbox full".into()),
    );
    let id = accepted(&app, &org, booking(json!({"to": ["full@example.test"]}))).await;
    let mut attempts = 0;
    for _ in 0..100 {
        let m = message(&app, &org.key, &id).await;
        if m["status"] == "bounced" {
            let r = &m["recipients"][0];
            assert!(r["last_reply"].as_str().unwrap().contains("3 days"), "{r}");
            assert!(
                r["last_reply"].as_str().unwrap().contains("mailbox full"),
                "{r}"
            );
            assert!(attempts > 3, "retried before giving up ({attempts})");
            // A full mailbox is not a bad address: no suppression.
            let list = suppressions(&app, &org).await;
            assert!(list["items"].as_array().unwrap().is_empty());
            return;
        }
        let seen = m["recipients"][0]["attempts"].as_i64().unwrap();
        if seen > attempts {
            attempts = seen;
            app.advance(Duration::from_secs(2 * 3600));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never bounced: {}", message(&app, &org.key, &id).await);
}

/// The envelope sender that the mail to `recipient` came with.
pub fn return_path_of(sink: &SmtpSink, recipient: &str) -> String {
    sink.received()
        .into_iter()
        .find(|r| r.to == [recipient])
        .unwrap_or_else(|| panic!("no mail to {recipient}"))
        .from
}

pub fn report(return_path: &str, recipient: &str, status: &str, message_id: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mx.example.test\r\nTo: {return_path}\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\n\
Your message could not be delivered.\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n\
Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\nDiagnostic-Code: smtp; 550 {status} mailbox gone\r\n\
--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{message_id}@acme.test>\r\nSubject: Ihre Buchung\r\n--R--\r\n"
    )
}

#[tokio::test]
async fn bounce_reports_after_acceptance_bounce_and_suppress_by_http_and_by_smtp() {
    let sink = SmtpSink::start().await;
    let app = relay_app(&sink, 2).await;
    let (org, _) = acme(&app).await;
    let body = booking(json!({"to": ["late@example.test", "later@example.test"]}));
    let id = accepted(&app, &org, body).await;
    wait_message(&app, &org.key, &id, |m| m["status"] == "delivered").await;
    let return_path = return_path_of(&sink, "late@example.test");

    // The operator's MTA posts one report; only the operator may.
    let raw = report(&return_path, "late@example.test", "5.1.1", &id);
    let post = |key: &str| {
        app.http
            .post(format!("{}/api/v1/inbound/dsn", app.base))
            .bearer_auth(key)
            .header("content-type", "message/rfc822")
            .body(raw.clone())
            .send()
    };
    assert_eq!(
        post(&org.key).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let applied: Value = post(crate::helpers::ADMIN_KEY)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(applied["message_id"], id.as_str());
    assert_eq!(applied["bounced"], json!(["late@example.test"]));
    assert_eq!(applied["suppressed"], json!(["late@example.test"]));
    let not_a_report = app
        .http
        .post(format!("{}/api/v1/inbound/dsn", app.base))
        .bearer_auth(crate::helpers::ADMIN_KEY)
        .body("Subject: hi\r\n\r\nthanks for the booking!\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_report.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Another arrives by SMTP at the return path, from the null sender, without login.
    let return_path = return_path_of(&sink, "later@example.test");
    let report = report(&return_path, "later@example.test", "5.2.1", &id);
    smtp_dialogue(
        app.smtp_addr,
        &[
            ("EHLO mx.example.test".to_string(), "250"),
            ("MAIL FROM:<>".to_string(), "250"),
            ("RCPT TO:<guest@example.test>".to_string(), "530"),
            (format!("RCPT TO:<{return_path}>"), "250"),
            ("DATA".to_string(), "354"),
            (format!("{report}."), "250"),
            ("QUIT".to_string(), "221"),
        ],
    )
    .await;
    let m = message(&app, &org.key, &id).await;
    assert_eq!(m["status"], "bounced", "{m}");
    let later = status_of(&m, "later@example.test");
    assert!(
        later["last_reply"]
            .as_str()
            .unwrap()
            .starts_with("DSN 5.2.1"),
        "{later}"
    );
    let list = suppressions(&app, &org).await;
    let suppressed: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["address"].as_str().unwrap())
        .collect();
    assert_eq!(suppressed, ["late@example.test", "later@example.test"]);
}

/// How many deliveries a claim at `at_ms` would take (a probe: its lease
/// ends at once, so the server may still take them).
pub async fn due_at(app: &TestApp, at_ms: i64) -> usize {
    app.app()
        .store()
        .claim_due_deliveries(at_ms, 0, 100, "test-probe")
        .await
        .unwrap()
        .len()
}
