//! DKIM key rotation behind the same three selectors: the customer's CNAMEs
//! stay, signing moves to the new key once resolvers can see it, and mail
//! signed before keeps verifying.

use crate::helpers::{Org, TestApp, code};
use crate::messages::{acme, booking, raw, send};
use mail_auth::DkimResult;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Past a rotated-in key's turn: the DNS answer cache plus the key
/// record's 5-minute TTL.
const TURN: Duration = Duration::from_secs(400);

/// The selector and verdict of the acme.test signature of a sent message.
async fn signed_with(app: &TestApp, org: &Org, body: Value) -> (String, DkimResult, Vec<u8>) {
    use mail_auth::common::verify::VerifySignature;
    let id = send(app, org, body, StatusCode::ACCEPTED).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = raw(app, org, &id).await;
    let message = mail_auth::AuthenticatedMessage::parse(&raw).unwrap();
    let outputs = mail_auth::MessageAuthenticator(app.resolver())
        .verify_dkim(mail_auth::Parameters::new(&message))
        .await;
    let ours = outputs
        .iter()
        .find(|o| o.signature().unwrap().domain() == "acme.test")
        .expect("an acme.test signature");
    (
        ours.signature().unwrap().selector().to_string(),
        ours.result().clone(),
        raw,
    )
}

/// The key each of the identity's selectors publishes, from absender's DNS.
async fn published(app: &TestApp, selectors: &[String]) -> Vec<String> {
    let resolver = app.resolver();
    let mut keys = Vec::new();
    for selector in selectors {
        let name = format!("{selector}.dkim.absender.test.");
        let answer = resolver
            .lookup(name, hickory_resolver::proto::rr::RecordType::TXT)
            .await
            .unwrap();
        keys.push(crate::dns_zones::txt_of(&answer).concat());
    }
    keys
}

async fn selectors(app: &TestApp, org: &Org, id: &str) -> Vec<String> {
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] == "dkim")
        .map(|r| {
            r["name"]
                .as_str()
                .unwrap()
                .split('.')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn rotate(app: &TestApp, org: &Org, id: &str, status: StatusCode) -> Value {
    app.json(
        Method::POST,
        &format!("/api/v1/identities/{id}/rotate-dkim"),
        Some(&org.key),
        None,
        status,
    )
    .await
}

#[tokio::test]
async fn a_rotation_keeps_the_cnames_and_moves_signing_once_resolvers_see_the_key() {
    let app = crate::helpers::spawn_app().await;
    let (org, id) = acme(&app).await;
    let tokens = selectors(&app, &org, &id).await;
    assert_eq!(tokens.len(), 3);
    let keys_before = published(&app, &tokens).await;
    let (first, verdict, before_rotation) = signed_with(&app, &org, booking(json!({}))).await;
    assert_eq!(verdict, DkimResult::Pass);
    assert_eq!(first, tokens[0]);

    let rotation = rotate(&app, &org, &id, StatusCode::ACCEPTED).await;
    let next = rotation["selector"].as_str().unwrap().to_string();
    assert!(tokens.contains(&next) && next != first, "{rotation}");
    assert_eq!(rotation["domain"], "acme.test");
    // The CNAMEs stay; the selector's key is new; the signing key is untouched.
    assert_eq!(selectors(&app, &org, &id).await, tokens);
    let keys_now = published(&app, &tokens).await;
    let changed: Vec<&String> = tokens
        .iter()
        .zip(keys_before.iter().zip(&keys_now))
        .filter(|(_, (a, b))| a != b)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(changed, [&next]);
    assert_eq!(app.check(&org, &id).await["status"], "SUCCESS");
    let busy = rotate(&app, &org, &id, StatusCode::CONFLICT).await;
    assert_eq!(code(&busy), "rotation_in_progress");

    // Until its turn the old key signs; then the new one.
    let (selector, verdict, _) = signed_with(&app, &org, booking(json!({}))).await;
    assert_eq!(
        (selector.as_str(), verdict),
        (first.as_str(), DkimResult::Pass)
    );
    app.advance(TURN);
    let (selector, verdict, _) = signed_with(&app, &org, booking(json!({}))).await;
    assert_eq!(
        (selector.as_str(), verdict),
        (next.as_str(), DkimResult::Pass)
    );
    // Mail signed before the rotation still verifies.
    let verdicts = app.dkim_verdicts(&before_rotation).await;
    assert!(
        verdicts.contains(&("acme.test".into(), DkimResult::Pass)),
        "{verdicts:?}"
    );

    // The next rotation takes the selector that never signed; the one after
    // waits until the first key's caches are gone, then takes it.
    let third = rotate(&app, &org, &id, StatusCode::ACCEPTED).await["selector"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(third != first && third != next);
    app.advance(TURN);
    let (selector, _, _) = signed_with(&app, &org, booking(json!({}))).await;
    assert_eq!(selector, third);
    app.advance(Duration::from_secs(10 * 60));
    let again = rotate(&app, &org, &id, StatusCode::ACCEPTED).await;
    assert_eq!(again["selector"], first.as_str());

    // Another organization cannot rotate acme's keys.
    let other = app.create_org("Other", "en").await;
    let status = app
        .call(
            Method::POST,
            &format!("/api/v1/identities/{id}/rotate-dkim"),
            Some(&other.key),
            None,
        )
        .await
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn keys_older_than_rotate_after_rotate_by_themselves() {
    let app = crate::helpers::spawn_app().await;
    let (org, id) = acme(&app).await;
    let tokens = selectors(&app, &org, &id).await;
    let before = published(&app, &tokens).await;
    assert_eq!(app.app().sweep_retention().await.unwrap().rotated, 0);
    // The default: 180 days.
    app.advance(Duration::from_secs(181 * 24 * 3600));
    assert_eq!(app.app().sweep_retention().await.unwrap().rotated, 1);
    let after = published(&app, &tokens).await;
    assert_eq!(
        before.iter().zip(&after).filter(|(a, b)| a != b).count(),
        1,
        "one selector's key was replaced"
    );
    // Rotated just now: not again at the next sweep.
    assert_eq!(app.app().sweep_retention().await.unwrap().rotated, 0);
}
