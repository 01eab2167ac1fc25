//! Malformed requests get the API's error shape, never a bare status.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/api/v1/orgs", app.base))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(&response.json().await.unwrap()), "malformed_json");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/api/v1/orgs", app.base))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        code(&response.json().await.unwrap()),
        "unsupported_media_type"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_and_creates_nothing() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"name\": \"{}\", \"contact_email\": \"a@b.test\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let response = app
        .http
        .post(format!("{}/api/v1/orgs", app.base))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&response.json().await.unwrap()), "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_answer_in_the_error_shape() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/api/v1/nothing", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(code(&response.json().await.unwrap()), "not_found");
}

#[tokio::test]
async fn a_wrong_method_answers_in_the_error_shape() {
    let app = spawn_app().await;
    let response = app
        .http
        .delete(format!("{}/api/v1/orgs", app.base))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(code(&response.json().await.unwrap()), "method_not_allowed");
}

#[tokio::test]
async fn health_reports_ok() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}
