//! SES's account protections per organization, set by the operator: a send
//! rate and a 24-hour quota, the sandbox, and a pause; the same over the
//! API, SMTP and the SES API.

use crate::helpers::{ADMIN_KEY, Org, TestApp, code, spawn_app, spawn_with};
use crate::messages::{acme, booking};
use crate::smtp_submission::{client, credential, submit};
use lettre::transport::smtp::authentication::Mechanism;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn patch(app: &TestApp, org: &Org, body: Value) -> Value {
    let path = format!("/api/v1/orgs/{}", org.id);
    app.json(
        Method::PATCH,
        &path,
        Some(ADMIN_KEY),
        Some(body),
        StatusCode::OK,
    )
    .await
}

/// `POST /api/v1/messages` of a booking to `to`: the status and the body.
async fn send_to(app: &TestApp, org: &Org, to: &str) -> (StatusCode, Option<String>, Value) {
    let response = app
        .call(
            Method::POST,
            "/api/v1/messages",
            Some(&org.key),
            Some(booking(json!({"to": [to]}))),
        )
        .await;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, response.json().await.unwrap())
}

fn mail(to: &str) -> Vec<u8> {
    format!("From: <events@acme.test>\r\nTo: <{to}>\r\nSubject: Booking\r\n\r\nSee you.\r\n")
        .into_bytes()
}

/// The SMTP reply code of a refused submission (0: accepted).
async fn smtp_code(app: &TestApp, user: &str, pass: &str, to: &str) -> u16 {
    let transport = client(app, user, pass, Mechanism::Plain);
    match submit(&transport, "events@acme.test", &[to], &mail(to)).await {
        Ok(_) => 0,
        Err(e) => e.status().map(u16::from).unwrap_or(1),
    }
}

#[tokio::test]
async fn the_operators_quotas_hold_over_the_api_and_smtp() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    let guest = "guest@example.test";

    // Only the operator sets them.
    let own = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{}", org.id),
            Some(&org.key),
            Some(json!({"max_send_rate": 1000})),
        )
        .await;
    assert!(own.status().is_client_error(), "{}", own.status());
    for bad in [
        json!({"max_send_rate": 0}),
        json!({"max_send_rate": -1}),
        json!({"max_24h_send": -1}),
    ] {
        let path = format!("/api/v1/orgs/{}", org.id);
        let refused = app
            .json(
                Method::PATCH,
                &path,
                Some(ADMIN_KEY),
                Some(bad),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(code(&refused), "invalid_field");
    }

    let set = patch(&app, &org, json!({"max_send_rate": 2, "max_24h_send": 5})).await;
    assert_eq!(
        (set["max_send_rate"].as_f64(), set["max_24h_send"].as_i64()),
        (Some(2.0), Some(5))
    );
    assert_eq!(
        (&set["sandbox"], &set["sending_enabled"]),
        (&json!(false), &json!(true))
    );

    // Two a second: the third waits for the bucket.
    assert_eq!(send_to(&app, &org, guest).await.0, StatusCode::ACCEPTED);
    assert_eq!(send_to(&app, &org, guest).await.0, StatusCode::ACCEPTED);
    let (status, retry_after, body) = send_to(&app, &org, guest).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "quota_exceeded");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(
        smtp_code(&app, &user, &pass, guest).await,
        451,
        "SMTP shares the bucket"
    );
    app.advance(Duration::from_secs(1));
    assert_eq!(smtp_code(&app, &user, &pass, guest).await, 0);
    assert_eq!(send_to(&app, &org, guest).await.0, StatusCode::ACCEPTED);
    app.advance(Duration::from_secs(1));
    assert_eq!(send_to(&app, &org, guest).await.0, StatusCode::ACCEPTED);

    // Five in 24 hours: the sixth waits until the first leaves the window.
    app.advance(Duration::from_secs(1));
    let (status, retry_after, body) = send_to(&app, &org, guest).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5 recipients in 24 hours"),
        "{body}"
    );
    let wait: u64 = retry_after.unwrap().parse().unwrap();
    assert!((86_000..=86_400).contains(&wait), "{wait}");
    assert_eq!(smtp_code(&app, &user, &pass, guest).await, 451);
    app.advance(Duration::from_secs(wait));
    let (status, _, body) = send_to(&app, &org, guest).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let lifted = patch(
        &app,
        &org,
        json!({"max_send_rate": null, "max_24h_send": null}),
    )
    .await;
    assert!(
        lifted["max_send_rate"].is_null() && lifted["max_24h_send"].is_null(),
        "{lifted}"
    );
    for _ in 0..5 {
        assert_eq!(send_to(&app, &org, guest).await.0, StatusCode::ACCEPTED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_recipient_counts_and_requests_at_once_do_not_overshoot() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    patch(&app, &org, json!({"max_24h_send": 3})).await;
    let two = booking(json!({"to": ["a@example.test"], "cc": ["b@example.test"]}));
    let path = "/api/v1/messages";
    app.json(
        Method::POST,
        path,
        Some(&org.key),
        Some(two.clone()),
        StatusCode::ACCEPTED,
    )
    .await;
    let over = app
        .json(
            Method::POST,
            path,
            Some(&org.key),
            Some(two),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    assert_eq!(code(&over), "quota_exceeded");
    assert_eq!(
        send_to(&app, &org, "c@example.test").await.0,
        StatusCode::ACCEPTED
    );

    // Twenty requests at once against a quota of 8 (3 used): exactly 5 pass.
    patch(&app, &org, json!({"max_24h_send": 8})).await;
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (url, key) = (format!("{}{path}", app.base), org.key.clone());
        requests.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&booking(json!({"to": [format!("g{i}@example.test")]})))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses = requests.join_all().await;
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    assert_eq!(accepted, 5, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::ACCEPTED || *s == StatusCode::TOO_MANY_REQUESTS)
    );

    // A quota of 0 sends nothing, and says to wait a day.
    patch(&app, &org, json!({"max_24h_send": 0})).await;
    app.advance(Duration::from_secs(2 * 86_400));
    let (status, retry_after, _) = send_to(&app, &org, "d@example.test").await;
    assert_eq!(
        (status, retry_after.as_deref()),
        (StatusCode::TOO_MANY_REQUESTS, Some("86400"))
    );
}

#[tokio::test]
async fn a_paused_organization_sends_nothing_until_the_operator_resumes_it() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    let paused = patch(&app, &org, json!({"sending_enabled": false})).await;
    assert_eq!(paused["sending_enabled"], false);
    assert_eq!(paused["paused_reason"], "paused by the operator");
    let (status, _, body) = send_to(&app, &org, "guest@example.test").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "sending_paused");
    assert_eq!(
        smtp_code(&app, &user, &pass, "guest@example.test").await,
        550
    );
    let resumed = patch(&app, &org, json!({"sending_enabled": true})).await;
    assert!(resumed["paused_reason"].is_null(), "{resumed}");
    assert_eq!(
        send_to(&app, &org, "guest@example.test").await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(smtp_code(&app, &user, &pass, "guest@example.test").await, 0);
}

#[tokio::test]
async fn the_sandbox_sends_only_to_the_organizations_own_verified_addresses() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    let sandboxed = patch(&app, &org, json!({"sandbox": true})).await;
    assert_eq!(sandboxed["sandbox"], true);
    let (status, _, body) = send_to(&app, &org, "guest@example.test").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "sandbox_recipient");
    assert_eq!(
        smtp_code(&app, &user, &pass, "guest@example.test").await,
        550
    );
    // A look-alike of its own address is not its own.
    let (status, _, _) = send_to(&app, &org, "events@acme.test.example").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        send_to(&app, &org, "events@acme.test").await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(smtp_code(&app, &user, &pass, "events@acme.test").await, 0);
    // One outsider among its own addresses refuses the whole message.
    let mixed = booking(json!({"to": ["events@acme.test"], "cc": ["guest@example.test"]}));
    let path = "/api/v1/messages";
    let refused = app
        .json(
            Method::POST,
            path,
            Some(&org.key),
            Some(mixed),
            StatusCode::FORBIDDEN,
        )
        .await;
    let words = refused["error"]["message"].as_str().unwrap();
    assert!(words.contains("<guest@example.test>"), "{refused}");
    patch(&app, &org, json!({"sandbox": false})).await;
    assert_eq!(
        send_to(&app, &org, "guest@example.test").await.0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn new_organizations_start_in_the_sandbox_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = absender::config::Config {
        data_dir: dir.path().to_path_buf(),
        ..absender::config::Config::default()
    };
    config.limits.sandbox_by_default = true;
    let app = spawn_with(config, Some(dir)).await;
    let org = app.create_org("Acme", "en").await;
    let shown = app
        .json(
            Method::GET,
            &format!("/api/v1/orgs/{}", org.id),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(shown["sandbox"], true, "{shown}");
}
