//! Organizations: created and switched by the operator, keys shown once.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn operator_creates_lists_shows_and_switches_an_organization() {
    let app = spawn_app().await;
    let body = json!({"name": "Acme Events", "contact_email": "Team@ACME.test", "locale": "de"});
    let created = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(ADMIN_KEY),
            Some(body),
            StatusCode::CREATED,
        )
        .await;
    let id = created["id"].as_str().unwrap();
    assert!(created["api_key"].as_str().unwrap().starts_with("abs_org_"));
    assert_eq!(created["contact_email"], "Team@acme.test");
    assert_eq!(created["locale"], "de");
    assert_eq!(created["custom_sender_enabled"], false);

    let shown = app
        .json(
            Method::GET,
            &format!("/api/v1/orgs/{id}"),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(shown["name"], "Acme Events");
    assert!(shown.get("api_key").is_none(), "the key is shown only once");

    let patched = app
        .json(
            Method::PATCH,
            &format!("/api/v1/orgs/{id}"),
            Some(ADMIN_KEY),
            Some(json!({"custom_sender_enabled": true})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(patched["custom_sender_enabled"], true);
    assert_eq!(patched["name"], "Acme Events", "fields left out stay");

    let list = app
        .json(
            Method::GET,
            "/api/v1/orgs",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].get("api_key").is_none());

    let missing = app
        .json(
            Method::GET,
            "/api/v1/orgs/org_nope",
            Some(ADMIN_KEY),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(code(&missing), "not_found");
}

#[tokio::test]
async fn the_api_key_works_and_is_stored_only_as_a_hash() {
    let app = spawn_app().await;
    let org = app.create_org("Acme", "en").await;
    let me = app
        .json(
            Method::GET,
            &format!("/api/v1/orgs/{}", org.id),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(me["id"], org.id.as_str());
    let db = app.config.data_dir.join("absender.db");
    let _dir = app.stop().await;
    let mut bytes = std::fs::read(&db).unwrap();
    if let Ok(wal) = std::fs::read(db.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let secret = org.key.strip_prefix("abs_org_").unwrap().as_bytes();
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret),
        "the plain key is nowhere in the database"
    );
}

#[tokio::test]
async fn organization_endpoints_need_the_operator_key() {
    let app = spawn_app().await;
    let org = app.create_org("Acme", "en").await;
    let body = json!({"name": "Evil", "contact_email": "x@evil.test"});
    let r = app
        .json(
            Method::POST,
            "/api/v1/orgs",
            Some(&org.key),
            Some(body.clone()),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&r), "forbidden");
    app.json(
        Method::GET,
        "/api/v1/orgs",
        Some(&org.key),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    let path = format!("/api/v1/orgs/{}", org.id);
    app.json(
        Method::PATCH,
        &path,
        Some(&org.key),
        Some(json!({"custom_sender_enabled": true})),
        StatusCode::FORBIDDEN,
    )
    .await;

    let response = app.call(Method::GET, "/api/v1/orgs", None, None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let r = app
        .json(
            Method::GET,
            "/api/v1/orgs",
            Some("abs_org_wrong"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    assert_eq!(code(&r), "unauthorized");
}

#[tokio::test]
async fn bad_organization_input_is_refused_with_a_code() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"name": "A", "contact_email": "not-an-address"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"name": "", "contact_email": "a@b.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"name": "A\r\nBcc: x@evil.test", "contact_email": "a@b.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"name": "A", "contact_email": "a@b.test", "locale": "fr"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"name": "A", "contact_email": "a@b.test", "admin": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"name": 7, "contact_email": "a@b.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"contact_email": "a@b.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, expected) in cases {
        let r = app
            .json(
                Method::POST,
                "/api/v1/orgs",
                Some(ADMIN_KEY),
                Some(body.clone()),
                status,
            )
            .await;
        assert_eq!(code(&r), expected, "{body}");
        assert!(!r["error"]["message"].as_str().unwrap().is_empty());
    }
    let list = app
        .json(
            Method::GET,
            "/api/v1/orgs",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
}
