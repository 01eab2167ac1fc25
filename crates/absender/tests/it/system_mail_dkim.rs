//! Mail from the platform's own senders is DKIM-signed with the platform key,
//! and verifies through absender's DNS server once the operator publishes it.

use crate::helpers::{ADMIN_KEY, spawn_app};
use mail_auth::DkimResult;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn the_verification_mail_is_signed_by_the_platform_and_verifies() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let forbidden = app
        .json(
            Method::GET,
            "/api/v1/platform/dns-records",
            Some(&org.key),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(forbidden["error"]["code"], "forbidden");

    // The operator publishes the platform key, here in a local zone for absender.test.
    let records = app
        .json(
            Method::GET,
            "/api/v1/platform/dns-records",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let cname = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["purpose"] == "platform_dkim")
        .unwrap();
    assert!(
        cname["name"]
            .as_str()
            .unwrap()
            .ends_with("._domainkey.absender.test")
    );
    app.zone("absender.test").await;
    app.record(
        "absender.test",
        cname["name"].as_str().unwrap(),
        "CNAME",
        cname["value"].as_str().unwrap(),
    )
    .await;

    app.request_identity(&org, "events@acme.test", "recipients")
        .await;
    let list = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let raw = app
        .call(
            Method::GET,
            &format!("/api/v1/outbox/{id}/raw"),
            Some(ADMIN_KEY),
            None,
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&raw).starts_with("DKIM-Signature:"));

    // An independent verifier resolving through absender's DNS server only.
    let verdicts = app.dkim_verdicts(&raw).await;
    assert_eq!(verdicts, [("absender.test".to_string(), DkimResult::Pass)]);
}
