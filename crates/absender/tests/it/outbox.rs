//! The capture outbox: the operator sees all mail, an organization its own.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn outbox_lists_shows_and_serves_raw_messages_per_caller() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let beta = app.upgraded_org("Beta", "en").await;
    app.request_identity(&acme, "events@acme.test", "recipients")
        .await;
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
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
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
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["to"], serde_json::json!(["events@acme.test"]));
    assert_eq!(items[0]["org_id"], acme.id.as_str());
    let id = items[0]["id"].as_str().unwrap();

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
    assert!(header("Message-ID").unwrap().ends_with("@absender.test>"));
    assert!(header("Date").is_some());
    assert!(header("From").unwrap().contains("noreply@absender.test"));
    assert!(message["html"].as_str().unwrap().contains("<a href="));

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
