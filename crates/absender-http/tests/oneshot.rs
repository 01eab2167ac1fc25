//! The handlers' answers, checked by calling the real router with
//! `tower::ServiceExt::oneshot` over a real `App` on a fresh SQLite file.
//! These tests need no listener and no sockets (only the App's own intake
//! task runs beside them): each one is a request in and a response out. What only a whole server shows
//! (timeouts, connection limits, delivery) stays in the end-to-end tests of
//! the `absender` crate.

use absender_service::secrets::hash_secret;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The operator key of every test app.
const ADMIN_KEY: &str = "abs_admin_oneshot-test-key";

/// The router over an `App` on its own SQLite file.
struct Harness {
    router: Router,
    _dir: tempfile::TempDir,
}

/// A response, its body read as JSON (`Null` when empty).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    /// The machine-readable code of an error answer.
    fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = absender_service::testing::app(dir.path(), hash_secret(ADMIN_KEY)).await;
    Harness {
        router: absender_http::router(app),
        _dir: dir,
    }
}

impl Harness {
    /// Sends one request with `key` as bearer (if any) and `body` as JSON (if any).
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let body = match body {
            Some(text) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(text)
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).expect("request"))
            .await
            .expect("the router never fails");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// Creates an organization with the operator key; returns its id and key.
    async fn create_org(&self, name: &str) -> (String, String) {
        let body = json!({"name": name, "contact_email": "team@example.test", "locale": "en"});
        let created = self
            .call(
                Method::POST,
                "/api/v1/orgs",
                Some(ADMIN_KEY),
                Some(body.to_string()),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let field = |name: &str| created.body[name].as_str().expect(name).to_string();
        (field("id"), field("api_key"))
    }
}

#[tokio::test]
async fn an_api_route_without_a_valid_key_is_401_unauthorized() {
    let h = harness().await;
    for key in [None, Some("abs_not-a-key")] {
        let r = h.call(Method::GET, "/api/v1/identities", key, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "key {key:?}");
        assert_eq!(r.code(), "unauthorized", "key {key:?}");
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
    }
}

#[tokio::test]
async fn bad_json_is_400_malformed_json_and_the_wrong_shape_is_422_invalid_body() {
    let h = harness().await;
    let r = h
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(ADMIN_KEY),
            Some("{\"name\": ".into()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.code(), "malformed_json");

    let wrong_shape = json!({"name": "Acme", "contact_email": "team@acme.test", "colour": "red"});
    let r = h
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(ADMIN_KEY),
            Some(wrong_shape.to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.code(), "invalid_body");
}

#[tokio::test]
async fn another_organizations_identity_is_404_not_found() {
    let h = harness().await;
    let (acme, acme_key) = h.create_org("Acme").await;
    let (_, mallory_key) = h.create_org("Mallory").await;
    let upgrade = h
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{acme}"),
            Some(ADMIN_KEY),
            Some(json!({"custom_sender_enabled": true}).to_string()),
        )
        .await;
    assert_eq!(upgrade.status, StatusCode::OK, "{}", upgrade.body);
    let requested = h
        .call(
            Method::POST,
            "/api/v1/identities",
            Some(&acme_key),
            Some(json!({"address": "events@acme.test", "scope": "recipients"}).to_string()),
        )
        .await;
    assert_eq!(requested.status, StatusCode::CREATED, "{}", requested.body);
    let path = format!(
        "/api/v1/identities/{}",
        requested.body["id"].as_str().expect("identity id")
    );

    let own = h.call(Method::GET, &path, Some(&acme_key), None).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let other = h.call(Method::GET, &path, Some(&mallory_key), None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    assert_eq!(other.code(), "not_found");
}

#[tokio::test]
async fn health_is_200_ok_without_a_key() {
    let h = harness().await;
    let r = h.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"status": "ok"}));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_payload_too_large() {
    let h = harness().await;
    let huge = json!({
        "name": "x".repeat(absender_http::MAX_BODY_BYTES),
        "contact_email": "team@acme.test",
    });
    let r = h
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(ADMIN_KEY),
            Some(huge.to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.code(), "payload_too_large");
}
