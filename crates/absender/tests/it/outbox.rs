//! The capture outbox: the operator sees all mail, an organization its own
//! but never a mail with a live link (verification, sign-in).

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use crate::messages::{accepted, acme, booking};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn outbox_lists_shows_and_serves_raw_messages_per_caller() {
    let app = spawn_app().await;
    let (acme, _) = acme(&app).await;
    let booked = accepted(&app, &acme, booking(json!({}))).await;
    let beta = app.upgraded_org("Beta", "en").await;
    app.request_identity(&beta, "news@beta.test", "recipients")
        .await;

    let all = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let to = |m: &serde_json::Value| m["to"][0].as_str().unwrap().to_string();
    let sorted = |items: &[serde_json::Value]| {
        let mut to: Vec<String> = items.iter().map(to).collect();
        to.sort();
        to
    };
    // Both verification mails, Acme's "ready" notice to its contact, its booking.
    let everyone = sorted(all["items"].as_array().unwrap());
    assert_eq!(
        everyone,
        [
            "events@acme.test",
            "guest@example.test",
            "news@beta.test",
            "team@example.test"
        ]
    );
    let mine = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(
        sorted(items),
        ["guest@example.test", "team@example.test"],
        "its booking and notice, not its verification mail"
    );
    let item = items
        .iter()
        .find(|m| to(m) == "guest@example.test")
        .unwrap();
    assert_eq!(item["org_id"], acme.id.as_str());
    let id = item["id"].as_str().unwrap();
    assert_eq!(id, booked);

    let message = app
        .json(
            Method::GET,
            &format!("/api/v1/outbox/{id}"),
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    let header = |name: &str| {
        message["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h["value"].as_str().unwrap().to_string())
    };
    assert!(header("Message-ID").unwrap().ends_with("@acme.test>"));
    assert!(header("Date").is_some());
    assert!(header("From").unwrap().contains("events@acme.test"));
    assert!(message["text"].as_str().unwrap().contains("Danke!"));

    let raw = app
        .call(
            Method::GET,
            &format!("/api/v1/outbox/{id}/raw"),
            Some(&acme.key),
            None,
        )
        .await;
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(raw.headers()["content-type"], "message/rfc822");
    let bytes = raw.bytes().await.unwrap();
    assert!(bytes.windows(2).any(|w| w == b"\r\n"), "CRLF line endings");
    assert_eq!(bytes.len() as u64, message["size_bytes"].as_u64().unwrap());

    let limited = app
        .json(
            Method::GET,
            "/api/v1/outbox?limit=1",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);
    let bad = app
        .json(
            Method::GET,
            "/api/v1/outbox?limit=many",
            Some(ADMIN_KEY),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(code(&bad), "invalid_query");
}
