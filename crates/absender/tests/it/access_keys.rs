//! SES-style access keys: created by an organization (or the operator for
//! one), the secret shown once and kept only sealed, listed without it,
//! revoked at once, and out of every other organization's reach.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn is_key_id(id: &str) -> bool {
    id.len() == 20
        && id.starts_with("AKIA")
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[tokio::test]
async fn an_access_key_shows_its_secret_once_keeps_it_sealed_and_is_revoked_at_once() {
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let created = app
        .json(
            Method::POST,
            "/api/v1/access-keys",
            Some(&acme.key),
            None,
            StatusCode::CREATED,
        )
        .await;
    let key_id = created["access_key_id"].as_str().unwrap();
    assert!(is_key_id(key_id), "{created}");
    let secret = created["secret_access_key"].as_str().unwrap();
    assert_eq!(secret.len(), 40);
    assert!(created["id"].as_str().unwrap().starts_with("akey_"));
    assert!(created["created_at"].is_string());

    // Never a plain copy on disk: the row holds it sealed.
    let row = app.app().store().access_key(key_id).await.unwrap().unwrap();
    assert!(
        !row.secret_enc
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "the secret is stored sealed"
    );

    let listed = app
        .json(
            Method::GET,
            "/api/v1/access-keys",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["access_key_id"], key_id);
    assert!(items[0].get("secret_access_key").is_none(), "{listed}");

    // Another organization neither sees nor revokes it.
    let mallory = app.create_org("Mallory", "en").await;
    let theirs = app
        .json(
            Method::GET,
            "/api/v1/access-keys",
            Some(&mallory.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(theirs["items"], serde_json::json!([]));
    let path = format!("/api/v1/access-keys/{}", created["id"].as_str().unwrap());
    let refused = app
        .json(
            Method::DELETE,
            &path,
            Some(&mallory.key),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(code(&refused), "not_found");

    // Revoked by its access key id as well as by its id; then gone.
    let by_key_id = format!("/api/v1/access-keys/{key_id}");
    app.json(
        Method::DELETE,
        &by_key_id,
        Some(&acme.key),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(
        app.app()
            .store()
            .access_key(key_id)
            .await
            .unwrap()
            .is_none()
    );
    app.json(
        Method::DELETE,
        &path,
        Some(&acme.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_operator_creates_access_keys_for_one_organization_only() {
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let without_org = app
        .json(
            Method::POST,
            "/api/v1/access-keys",
            Some(ADMIN_KEY),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&without_org), "forbidden");
    let for_acme: Value = app
        .http
        .post(format!("{}/api/v1/access-keys", app.base))
        .bearer_auth(ADMIN_KEY)
        .header("X-Absender-Org", &acme.id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key_id = for_acme["access_key_id"].as_str().unwrap();
    let row = app.app().store().access_key(key_id).await.unwrap().unwrap();
    assert_eq!(row.org_id, acme.id);
}
