//! `/api/v1/templates`: the templates the SES API uses, in the native API.

use crate::helpers::{code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn templates_are_created_rendered_changed_and_kept_per_organization() {
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let created = app
        .json(
            Method::POST,
            "/api/v1/templates",
            Some(&acme.key),
            Some(json!({"name": "welcome", "subject": "Hi {{name}}", "html": "<p>{{name}}</p>"})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(created["name"], "welcome");
    assert_eq!(created["text"], serde_json::Value::Null);

    let rendered = app
        .json(
            Method::POST,
            "/api/v1/templates/welcome/render",
            Some(&acme.key),
            Some(json!({"data": {"name": "<Ada>"}})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(rendered["subject"], "Hi <Ada>");
    assert_eq!(rendered["html"], "<p>&lt;Ada&gt;</p>");

    // A subject whose data carries a line break cannot add a header.
    let injected = app
        .json(
            Method::POST,
            "/api/v1/templates/welcome/render",
            Some(&acme.key),
            Some(json!({"data": {"name": "x\r\nBcc: all@example.test"}})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(code(&injected), "template_rendering_failed");

    let cases = [
        (
            json!({"name": "welcome", "subject": "x", "text": "y"}),
            StatusCode::CONFLICT,
            "template_exists",
        ),
        (
            json!({"name": "bad name", "subject": "x", "text": "y"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"name": "empty", "subject": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_template",
        ),
        (
            json!({"name": "open", "subject": "{{#each x}}", "text": "y"}),
            StatusCode::BAD_REQUEST,
            "invalid_template",
        ),
    ];
    for (body, status, expected) in cases {
        let refused = app
            .json(
                Method::POST,
                "/api/v1/templates",
                Some(&acme.key),
                Some(body.clone()),
                status,
            )
            .await;
        assert_eq!(code(&refused), expected, "{body}");
    }

    let updated = app
        .json(
            Method::PUT,
            "/api/v1/templates/welcome",
            Some(&acme.key),
            Some(json!({"subject": "Hallo {{name}}", "text": "{{name}}"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(updated["subject"], "Hallo {{name}}");
    assert_eq!(updated["html"], serde_json::Value::Null);

    let other = app.create_org("Other", "en").await;
    for method in [Method::GET, Method::DELETE] {
        let status = app
            .call(method, "/api/v1/templates/welcome", Some(&other.key), None)
            .await
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let theirs = app
        .json(
            Method::GET,
            "/api/v1/templates",
            Some(&other.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(theirs["items"], json!([]));

    assert_eq!(
        app.call(
            Method::DELETE,
            "/api/v1/templates/welcome",
            Some(&acme.key),
            None
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let mine = app
        .json(
            Method::GET,
            "/api/v1/templates",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(mine["items"], json!([]));
}
