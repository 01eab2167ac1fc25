//! Address verification: GET shows, POST confirms, links are single use,
//! expire, are replaced by newer ones, and resending is rate limited.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use reqwest::{Method, StatusCode};
use std::time::Duration;

#[tokio::test]
async fn get_shows_the_page_and_only_post_confirms() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme Events", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    let link = app.verification_link("events@acme.test").await;
    assert!(
        link.len() >= "/verify/".len() + 22,
        "at least 128 bits of token"
    );

    for _ in 0..2 {
        let page = app.call(Method::GET, &link, None, None).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("Acme Events") && html.contains("events@acme.test"));
        assert!(html.contains("method=\"post\""));
    }
    let before = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        before["parts"]["address"]["status"], "PENDING",
        "GET changed nothing"
    );

    let confirmed = app.call(Method::POST, &link, None, None).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert!(
        confirmed
            .text()
            .await
            .unwrap()
            .contains("Address confirmed")
    );
    let after = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(after["parts"]["address"]["status"], "SUCCESS");
    assert_eq!(after["status"], "PENDING", "DNS parts still pending");

    let again = app.call(Method::POST, &link, None, None).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again.text().await.unwrap().contains("already used"));
    assert_eq!(
        app.call(Method::GET, &link, None, None).await.status(),
        StatusCode::GONE
    );

    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/identities/{id}/resend-verification"),
            Some(&org.key),
            None,
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&r), "already_verified");
}

#[tokio::test]
async fn unknown_links_are_404_with_a_page() {
    let app = spawn_app().await;
    for method in [Method::GET, Method::POST] {
        let response = app
            .call(method, "/verify/not-a-real-token", None, None)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.text().await.unwrap().contains("Unknown link"));
    }
}

#[tokio::test]
async fn links_expire_after_24_hours() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "de").await;
    app.request_identity(&org, "events@acme.test", "recipients")
        .await;
    let link = app.verification_link("events@acme.test").await;
    app.advance(Duration::from_secs(24 * 3600 - 60));
    assert_eq!(
        app.call(Method::GET, &link, None, None).await.status(),
        StatusCode::OK
    );
    app.advance(Duration::from_secs(60));
    let expired = app.call(Method::POST, &link, None, None).await;
    assert_eq!(expired.status(), StatusCode::GONE);
    let html = expired.text().await.unwrap();
    assert!(
        html.contains("abgelaufen"),
        "German for a German organization: {html}"
    );
}

#[tokio::test]
async fn a_resent_link_replaces_the_old_one_and_resending_is_rate_limited() {
    // The identity's own limit (10 a day), below the one per address.
    let dir = tempfile::tempdir().unwrap();
    let mut config = absender::config::Config {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    config.limits.verification_mails_per_address = 100;
    let app = crate::helpers::spawn_with(config, Some(dir)).await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let resend = format!(
        "/api/v1/identities/{}/resend-verification",
        identity["id"].as_str().unwrap()
    );
    let old_link = app.verification_link("events@acme.test").await;

    let response = app.call(Method::POST, &resend, Some(&org.key), None).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "within a minute of the first mail"
    );
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(code(&response.json().await.unwrap()), "rate_limited");

    app.advance(Duration::from_secs(61));
    app.json(
        Method::POST,
        &resend,
        Some(&org.key),
        None,
        StatusCode::ACCEPTED,
    )
    .await;
    let new_link = app.verification_link("events@acme.test").await;
    assert_ne!(new_link, old_link);
    let old = app.call(Method::POST, &old_link, None, None).await;
    assert_eq!(old.status(), StatusCode::GONE);
    assert!(old.text().await.unwrap().contains("newer link"));

    // Ten mails a day: the first plus nine resends, a minute apart.
    for _ in 0..8 {
        app.advance(Duration::from_secs(61));
        app.json(
            Method::POST,
            &resend,
            Some(&org.key),
            None,
            StatusCode::ACCEPTED,
        )
        .await;
    }
    app.advance(Duration::from_secs(61));
    let r = app
        .json(
            Method::POST,
            &resend,
            Some(&org.key),
            None,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    assert_eq!(code(&r), "rate_limited");
    app.advance(Duration::from_secs(24 * 3600));
    app.json(
        Method::POST,
        &resend,
        Some(&org.key),
        None,
        StatusCode::ACCEPTED,
    )
    .await;

    let newest = app.verification_link("events@acme.test").await;
    assert_eq!(
        app.call(Method::POST, &newest, None, None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_verification_mail_is_german_for_a_german_organization() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "de").await;
    app.request_identity(&org, "events@acme.test", "recipients")
        .await;
    let list = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let mail = &list["items"][0];
    assert_eq!(mail["from"], "noreply@absender.test");
    assert_eq!(mail["category"], "system");
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .starts_with("Bitte bestätigen")
    );
    let full = app
        .json(
            Method::GET,
            &format!("/api/v1/outbox/{}", mail["id"].as_str().unwrap()),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        full["text"]
            .as_str()
            .unwrap()
            .contains("Der Link ist 24 Stunden gültig")
    );
}

#[tokio::test]
async fn links_start_with_the_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = absender::config::Config {
        data_dir: dir.path().to_path_buf(),
        public_url: Some("https://absender.example.test/".into()),
        ..Default::default()
    };
    let app = crate::helpers::spawn_with(config, Some(dir)).await;
    let org = app.upgraded_org("Acme", "en").await;
    app.request_identity(&org, "events@acme.test", "recipients")
        .await;
    let list = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let mail = app
        .json(
            Method::GET,
            &format!("/api/v1/outbox/{id}"),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("https://absender.example.test/verify/"),
        "{mail}"
    );
}
