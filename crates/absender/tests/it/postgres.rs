//! The same workflow on PostgreSQL (at `ABSENDER_TEST_POSTGRES_URL`, else the local server).

use crate::helpers::spawn_with;
use absender::config::Config;
use rand::Rng;
use reqwest::{Method, StatusCode};
use sqlx::Connection;

#[tokio::test]
async fn the_setup_works_on_postgresql() {
    let Some(admin_url) = crate::tools::postgres_url("the_setup_works_on_postgresql") else {
        return;
    };
    let name = format!("absender_it_{:016x}", rand::thread_rng().r#gen::<u64>());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(format!("{base}/{name}")),
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

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
}
