//! What the benchmark programs share: talking to the API.

use serde_json::Value;

pub const ADMIN_KEY: &str = "abs_admin_bench";

/// One API call that must succeed; its JSON answer.
pub async fn api(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Value {
    let mut request = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    if response.status() == reqwest::StatusCode::NO_CONTENT {
        Value::Null
    } else {
        response.json().await.unwrap()
    }
}

/// The address owner follows the newest verification link, read from the
/// capture outbox with the operator's key (organizations are never shown it).
pub async fn confirm_latest(http: &reqwest::Client, base: &str) {
    use reqwest::Method;
    let key = ADMIN_KEY;
    let outbox = api(http, base, Method::GET, "/api/v1/outbox?limit=1", key, None).await;
    let id = outbox["items"][0]["id"].as_str().unwrap();
    let mail = api(
        http,
        base,
        Method::GET,
        &format!("/api/v1/outbox/{id}"),
        key,
        None,
    )
    .await;
    let link = mail["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("/verify/"))
        .unwrap()
        .to_string();
    http.post(&link).send().await.unwrap();
}

/// Publishes `records` (as the API lists them) in the local zone `zone`.
pub async fn publish(http: &reqwest::Client, base: &str, zone: &str, records: &[Value]) {
    for r in records {
        api(
            http,
            base,
            reqwest::Method::POST,
            &format!("/api/v1/dns/zones/{zone}/records"),
            ADMIN_KEY,
            Some(serde_json::json!({"name": r["name"], "type": r["type"], "value": r["value"], "ttl": 60})),
        )
        .await;
    }
}

/// A new organization with the custom-sender upgrade; its API key.
pub async fn upgraded_org(http: &reqwest::Client, base: &str, name: &str, contact: &str) -> String {
    use reqwest::Method;
    let body = serde_json::json!({"name": name, "contact_email": contact});
    let org = api(
        http,
        base,
        Method::POST,
        "/api/v1/orgs",
        ADMIN_KEY,
        Some(body),
    )
    .await;
    let upgrade = serde_json::json!({"custom_sender_enabled": true});
    let path = format!("/api/v1/orgs/{}", org["id"].as_str().unwrap());
    api(http, base, Method::PATCH, &path, ADMIN_KEY, Some(upgrade)).await;
    org["api_key"].as_str().unwrap().to_string()
}
