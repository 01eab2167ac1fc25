//! No organization can see or change another's data, through any endpoint.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn another_organizations_identity_is_invisible_everywhere() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let mallory = app.upgraded_org("Mallory", "en").await;
    let identity = app
        .request_identity(&acme, "events@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();

    let attempts = [
        (Method::GET, format!("/api/v1/identities/{id}")),
        (Method::DELETE, format!("/api/v1/identities/{id}")),
        (Method::GET, format!("/api/v1/identities/{id}/dns-records")),
        (
            Method::GET,
            format!("/api/v1/identities/{id}/dns-records.csv"),
        ),
        (
            Method::POST,
            format!("/api/v1/identities/{id}/resend-verification"),
        ),
    ];
    for (method, path) in attempts {
        let r = app
            .json(
                method.clone(),
                &path,
                Some(&mallory.key),
                None,
                StatusCode::NOT_FOUND,
            )
            .await;
        assert_eq!(code(&r), "not_found", "{method} {path}");
    }
    let list = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(&mallory.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // Still there for its owner, untouched.
    let own = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}"),
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(own["address"], "events@acme.test");
}

#[tokio::test]
async fn another_organizations_record_and_mail_are_invisible() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let mallory = app.upgraded_org("Mallory", "en").await;
    app.request_identity(&acme, "events@acme.test", "recipients")
        .await;
    // Acme's verification mail (listed to the operator only).
    let mail = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let mail_id = mail["items"][0]["id"].as_str().unwrap();

    app.json(
        Method::GET,
        &format!("/api/v1/orgs/{}", acme.id),
        Some(&mallory.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    app.json(
        Method::GET,
        &format!("/api/v1/outbox/{mail_id}"),
        Some(&mallory.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    app.json(
        Method::GET,
        &format!("/api/v1/outbox/{mail_id}/raw"),
        Some(&mallory.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let theirs = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(&mallory.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    app.json(
        Method::PATCH,
        &format!("/api/v1/orgs/{}", acme.id),
        Some(&mallory.key),
        Some(json!({"name": "pwned"})),
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn only_the_operator_can_act_for_an_organization() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let mallory = app.upgraded_org("Mallory", "en").await;
    let identity = app
        .request_identity(&acme, "events@acme.test", "recipients")
        .await;
    let path = format!("/api/v1/identities/{}", identity["id"].as_str().unwrap());

    let as_mallory = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(&mallory.key)
        .header("X-Absender-Org", &acme.id)
        .send()
        .await
        .unwrap();
    assert_eq!(as_mallory.status(), StatusCode::FORBIDDEN);

    let as_operator = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(ADMIN_KEY)
        .header("X-Absender-Org", &acme.id)
        .send()
        .await
        .unwrap();
    assert_eq!(as_operator.status(), StatusCode::OK);

    let operator_without_org = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(ADMIN_KEY),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&operator_without_org), "forbidden");
}
