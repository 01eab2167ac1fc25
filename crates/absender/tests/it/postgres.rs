//! The same workflow on PostgreSQL (at `ABSENDER_TEST_POSTGRES_URL`, else the local server).

use crate::delivery::{relay_config, status_of, wait_message};
use crate::helpers::spawn_with;
use crate::messages::{accepted, acme, booking};
use crate::smtp_sink::SmtpSink;
use absender::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn the_setup_works_on_postgresql() {
    let Some(db) = TestDatabase::create("the_setup_works_on_postgresql").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        ..Config::default()
    };
    // Mail goes through the queue on PostgreSQL to a real SMTP server.
    let sink = crate::smtp_sink::SmtpSink::start().await;
    config.sending.mode = absender_service::settings::DeliveryMode::Relay;
    config.sending.relay.host = sink.addr.ip().to_string();
    config.sending.relay.port = sink.addr.port();
    config.sending.poll_interval = std::time::Duration::from_millis(50);
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    assert_eq!(
        app.app().store().backend(),
        absender_store::Backend::Postgres
    );

    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let link = app.verification_link("events@acme.test").await;
    assert_eq!(
        app.call(Method::POST, &link, None, None).await.status(),
        StatusCode::OK
    );
    let path = format!("/api/v1/identities/{}", identity["id"].as_str().unwrap());
    let shown = app
        .json(Method::GET, &path, Some(&org.key), None, StatusCode::OK)
        .await;
    assert_eq!(shown["parts"]["address"]["status"], "SUCCESS");
    let records = app
        .json(
            Method::GET,
            &format!("{path}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(records["records"].as_array().unwrap().len(), 6);

    let body = serde_json::json!({"category": "booking", "to": ["guest@example.test"], "subject": "Buchung", "text": "Danke!"});
    let sent = app
        .json(
            Method::POST,
            "/api/v1/messages",
            Some(&org.key),
            Some(body),
            StatusCode::ACCEPTED,
        )
        .await;
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].to, ["guest@example.test"]);
    let path = format!("/api/v1/messages/{}", sent["id"].as_str().unwrap());
    for _ in 0..200 {
        let m = app
            .json(Method::GET, &path, Some(&org.key), None, StatusCode::OK)
            .await;
        if m["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let m = app
        .json(Method::GET, &path, Some(&org.key), None, StatusCode::OK)
        .await;
    assert_eq!(m["status"], "delivered", "{m}");
    app.stop().await;
    drop(db);
}

/// A receiving server's reply is text from outside: PostgreSQL refuses a NUL
/// in text, and one such reply used to fail its whole results batch for ever
/// (delivery stalled; after a restart delivered mail went out again).
#[tokio::test]
async fn a_receivers_nul_byte_is_cleaned_and_every_result_is_written_once() {
    let Some(db) = TestDatabase::create("a_receivers_nul_byte_is_cleaned").await else {
        return;
    };
    let sink = SmtpSink::start().await;
    sink.answer_data("250 ok\0 queued");
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(&sink, 4, dir.path());
    config.database_url = Some(db.url.clone());
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let (org, _) = acme(&app).await;

    let mut ids = Vec::new();
    for i in 0..3 {
        let to = format!("guest{i}@example.test");
        ids.push(accepted(&app, &org, booking(json!({"to": [to]}))).await);
    }
    sink.wait_for(3).await;
    for (i, id) in ids.iter().enumerate() {
        let m = wait_message(&app, &org.key, id, |m| m["status"] == "delivered").await;
        let guest = status_of(&m, &format!("guest{i}@example.test"));
        assert_eq!(guest["last_reply"], "250 ok\u{fffd} queued", "{guest}");
    }
    // Each message went out once, and nothing is waiting to go again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.count(), 3);
    app.stop().await;
    drop(db);
}

/// A database of its own on the test server, for one test; dropped with
/// it, also when the test panics.
struct TestDatabase {
    url: String,
    _scratch: crate::tools::ScratchDatabase,
}

impl TestDatabase {
    async fn create(test: &str) -> Option<Self> {
        let admin_url = crate::tools::postgres_url(test)?;
        let scratch = crate::tools::ScratchDatabase::create(&admin_url, "absender_it").await;
        Some(Self {
            url: scratch.url(),
            _scratch: scratch,
        })
    }
}
