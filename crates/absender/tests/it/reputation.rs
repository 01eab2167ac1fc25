//! Reputation as SES enforces it: hard bounces from a real receiver push an
//! organization into probation and then pause it, with notices to the
//! organization and the operator; the operator's resume starts over.

use crate::delivery::relay_config;
use crate::helpers::{ADMIN_KEY, Org, TestApp, code, spawn_with};
use crate::messages::{acme, booking, send};
use crate::smtp_sink::{Reply, SmtpSink};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn reputation(app: &TestApp, org: &Org) -> Value {
    app.json(
        Method::GET,
        "/api/v1/reputation",
        Some(&org.key),
        None,
        StatusCode::OK,
    )
    .await
}

/// Polls the reputation until `sends` sends are counted (at most 10 s).
async fn counted(app: &TestApp, org: &Org, sends: i64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = reputation(app, org).await;
        if now["sends"] == sends {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_bounces_lead_to_probation_then_a_pause_the_operator_lifts() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(&sink, 4, dir.path());
    config.reputation.min_sample = 10;
    config.webhooks = crate::webhooks::webhook_config(&dir).webhooks;
    let mut app = spawn_with(config, Some(dir)).await;
    // Verification links arrive at the receiver (the outbox copy is redacted).
    app.mailbox = Some(sink.clone());
    let (org, _) = acme(&app).await;
    // A webhook receiver for the pause and the resume, when Python has the package.
    let python = crate::tools::python_with_standardwebhooks(
        "hard_bounces_lead_to_probation_then_a_pause_the_operator_lifts",
    );
    let receiver = python.map(|python| crate::webhooks::Receiver::start(&python, 0));
    if let Some(receiver) = &receiver {
        let created = app
            .json(
                Method::POST,
                "/api/v1/webhooks",
                Some(&org.key),
                Some(json!({"url": receiver.url, "events": ["SendingPaused", "SendingResumed"]})),
                StatusCode::CREATED,
            )
            .await;
        receiver.use_secret(created["secret"].as_str().unwrap());
    }
    for i in 0..2 {
        sink.answer(
            &format!("gone{i}@example.test"),
            Reply::Refuse("550 5.1.1 no such user".into()),
        );
    }
    let to = |address: &str| booking(json!({"to": [address]}));

    for i in 0..14 {
        send(
            &app,
            &org,
            to(&format!("guest{i}@example.test")),
            StatusCode::ACCEPTED,
        )
        .await;
    }
    // Its notices so far (the verification mail, "ready") are absender's
    // own mail and do not count.
    let healthy = counted(&app, &org, 14).await;
    assert_eq!(
        (healthy["state"].as_str(), healthy["bounces"].as_i64()),
        (Some("HEALTHY"), Some(0))
    );

    // One hard bounce in 15 sends: 6.7%, over SES's review line of 5%.
    send(&app, &org, to("gone0@example.test"), StatusCode::ACCEPTED).await;
    let review = counted(&app, &org, 15).await;
    assert_eq!(review["state"], "PROBATION", "{review}");
    assert!(
        review["reason"]
            .as_str()
            .unwrap()
            .contains("bounce rate 6.7%"),
        "{review}"
    );
    assert_eq!(review["sending_enabled"], true);

    // Two in 16: 12.5%, over the pause line of 10%.
    send(&app, &org, to("gone1@example.test"), StatusCode::ACCEPTED).await;
    counted(&app, &org, 16).await;
    // The pause follows the written results at once (off the result writer).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let paused = loop {
        let now = reputation(&app, &org).await;
        if now["state"] == "SHUTDOWN" || tokio::time::Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(paused["state"], "SHUTDOWN", "{paused}");
    assert_eq!(paused["sending_enabled"], false);
    let refused = send(&app, &org, to("guest@example.test"), StatusCode::FORBIDDEN).await;
    assert_eq!(code(&refused), "sending_paused");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bounce rate 12.5%"),
        "{refused}"
    );
    // The organization and the operator are told, and a webhook too.
    if let Some(receiver) = &receiver {
        let event = receiver
            .wait_for(&app, |r| r["payload"]["eventType"] == "SendingPaused")
            .await;
        assert_eq!(event["verified"], true);
        assert!(
            event["payload"]["sendingPaused"]["reason"]
                .as_str()
                .unwrap()
                .contains("bounce rate 12.5%"),
            "{event}"
        );
    }
    app.wait_outbox(&org.key, "Sending paused for Acme").await;
    let operator = app.operator_outbox().await;
    assert!(
        operator
            .iter()
            .any(|m| m["subject"] == "Sending paused for Acme"
                && m["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t == "upgrade@absender.test")),
        "{operator:?}"
    );

    // The operator resumes: a fresh window.
    let path = format!("/api/v1/orgs/{}", org.id);
    let resumed = app
        .json(
            Method::PATCH,
            &path,
            Some(ADMIN_KEY),
            Some(json!({"sending_enabled": true})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(resumed["sending_enabled"], true);
    if let Some(receiver) = &receiver {
        let event = receiver
            .wait_for(&app, |r| r["payload"]["eventType"] == "SendingResumed")
            .await;
        assert_eq!(event["payload"]["orgId"], org.id.as_str());
    }
    let fresh = reputation(&app, &org).await;
    assert_eq!(
        (fresh["state"].as_str(), fresh["bounces"].as_i64()),
        (Some("HEALTHY"), Some(0)),
        "{fresh}"
    );
    // The pause notices, absender's own, left no sends behind.
    assert_eq!(fresh["sends"], 0, "{fresh}");
    send(&app, &org, to("guest@example.test"), StatusCode::ACCEPTED).await;
}
