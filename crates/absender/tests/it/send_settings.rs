//! Send settings: only verified identities of the organization whose scope
//! allows the category can be chosen.

use crate::helpers::{Org, TestApp, code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn put(app: &TestApp, org: &Org, body: Value, status: StatusCode) -> Value {
    app.json(
        Method::PUT,
        "/api/v1/send-settings",
        Some(&org.key),
        Some(body),
        status,
    )
    .await
}

#[tokio::test]
async fn verified_identities_are_chosen_per_category() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let empty = app
        .json(
            Method::GET,
            "/api/v1/send-settings",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        empty,
        json!({"booking": null, "invitation": null, "account_notification": null})
    );

    let events = app
        .verified_identity(&org, "events@acme.test", "recipients")
        .await;
    let info = app
        .verified_identity(&org, "info@acme-info.test", "all")
        .await;
    let set = put(
        &app,
        &org,
        json!({"booking": events, "invitation": events, "account_notification": info}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        set,
        json!({"booking": events, "invitation": events, "account_notification": info})
    );
    let shown = app
        .json(
            Method::GET,
            "/api/v1/send-settings",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(shown, set);

    let cleared = put(
        &app,
        &org,
        json!({"booking": null, "invitation": info}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        cleared,
        json!({"booking": null, "invitation": info, "account_notification": null})
    );

    // Deleting the identity deletes the choice: mail falls back to the default sender.
    app.call(
        Method::DELETE,
        &format!("/api/v1/identities/{info}"),
        Some(&org.key),
        None,
    )
    .await;
    let after = app
        .json(
            Method::GET,
            "/api/v1/send-settings",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(after["invitation"], Value::Null);
}

#[tokio::test]
async fn unverified_foreign_and_out_of_scope_identities_are_refused() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let other = app.upgraded_org("Other", "en").await;
    let events = app
        .verified_identity(&org, "events@acme.test", "recipients")
        .await;
    let pending = app.request_identity(&org, "new@acme.test", "all").await;
    let foreign = app
        .verified_identity(&other, "news@other.test", "all")
        .await;

    let cases = [
        (json!({"account_notification": events}), "scope_not_allowed"),
        (json!({"booking": pending["id"]}), "identity_not_verified"),
        (json!({"booking": foreign}), "unknown_identity"),
        (json!({"booking": "idn_nope"}), "unknown_identity"),
    ];
    for (body, expected) in cases {
        let r = put(&app, &org, body.clone(), StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(code(&r), expected, "{body}");
    }
    let r = put(
        &app,
        &org,
        json!({"system": events}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&r), "invalid_body", "system mail has no setting");
    let r = put(
        &app,
        &org,
        json!({"booking": 7}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&r), "invalid_body");
    let unchanged = app
        .json(
            Method::GET,
            "/api/v1/send-settings",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        unchanged,
        json!({"booking": null, "invitation": null, "account_notification": null}),
        "nothing half-applied"
    );
    let theirs = app
        .json(
            Method::GET,
            "/api/v1/send-settings",
            Some(&other.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(theirs["booking"], Value::Null);
}
