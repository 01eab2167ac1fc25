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

/// Requests an identity as `body` says and verifies it (confirmed, the
/// domain's records published unless they are already, checked); its id.
async fn verified_with(app: &TestApp, org: &Org, body: Value, publish: bool) -> String {
    let identity = app
        .json(
            Method::POST,
            "/api/v1/identities",
            Some(&org.key),
            Some(body.clone()),
            StatusCode::CREATED,
        )
        .await;
    let id = identity["id"].as_str().unwrap().to_string();
    app.confirm(body["address"].as_str().unwrap()).await;
    if publish {
        app.publish(org, &identity).await;
    }
    assert_eq!(app.check(org, &id).await["status"], "SUCCESS");
    id
}

/// The verdicts of the signatures of `domain` on a message, with their `a=`.
async fn signatures_of(app: &TestApp, raw: &[u8], domain: &str) -> Vec<(String, DkimResult)> {
    use mail_auth::common::verify::VerifySignature;
    let message = mail_auth::AuthenticatedMessage::parse(raw).unwrap();
    let outputs = mail_auth::MessageAuthenticator(app.resolver())
        .verify_dkim(mail_auth::Parameters::new(&message))
        .await;
    outputs
        .iter()
        .filter(|o| o.signature().unwrap().domain() == domain)
        .map(|o| {
            let algorithm = format!("{:?}", o.signature().unwrap().algorithm());
            (algorithm, o.result().clone())
        })
        .collect()
}

#[tokio::test]
async fn with_dkim_ed25519_mail_is_signed_twice_and_rsa_rotates_in_the_other_slots() {
    let app = crate::helpers::spawn_app().await;
    crate::messages::publish_platform_key(&app).await;
    let org = app.upgraded_org("Acme", "en").await;
    let id = verified_with(
        &app,
        &org,
        json!({"address": "events@acme.test", "scope": "all", "dkim_ed25519": true}),
        true,
    )
    .await;
    let tokens = selectors(&app, &org, &id).await;
    let keys = published(&app, &tokens).await;
    let ed25519: Vec<&String> = tokens
        .iter()
        .zip(&keys)
        .filter(|(_, k)| k.starts_with("v=DKIM1; k=ed25519;"))
        .map(|(t, _)| t)
        .collect();
    assert_eq!(ed25519.len(), 1, "{keys:?}");

    let body = json!({"category": "booking", "from": "events@acme.test", "to": ["guest@example.test"], "subject": "Hallo", "text": "Hi"});
    let (_, _, raw) = signed_with(&app, &org, body.clone()).await;
    let signatures = signatures_of(&app, &raw, "acme.test").await;
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    assert!(
        signatures.iter().all(|(_, r)| *r == DkimResult::Pass),
        "{signatures:?}"
    );
    assert!(
        signatures.iter().any(|(a, _)| a.contains("Ed25519")),
        "{signatures:?}"
    );

    // RSA rotation never takes the Ed25519 selector.
    let rotated = rotate(&app, &org, &id, StatusCode::ACCEPTED).await;
    assert_ne!(rotated["selector"], ed25519[0].as_str());
    app.advance(TURN);
    let (selector, _, raw) = signed_with(&app, &org, body).await;
    assert_eq!(selector, rotated["selector"].as_str().unwrap());
    let signatures = signatures_of(&app, &raw, "acme.test").await;
    assert_eq!(signatures.len(), 2);
    assert!(
        signatures.iter().all(|(_, r)| *r == DkimResult::Pass),
        "{signatures:?}"
    );
}

#[tokio::test]
async fn a_domain_signed_with_rsa_alone_gains_ed25519_once_resolvers_see_it() {
    let app = crate::helpers::spawn_app().await;
    crate::messages::publish_platform_key(&app).await;
    let org = app.upgraded_org("Acme", "en").await;
    verified_with(
        &app,
        &org,
        json!({"address": "events@acme.test", "scope": "all"}),
        true,
    )
    .await;
    let body = json!({"category": "booking", "from": "events@acme.test", "to": ["guest@example.test"], "subject": "Hallo", "text": "Hi"});
    let (_, _, raw) = signed_with(&app, &org, body.clone()).await;
    assert_eq!(signatures_of(&app, &raw, "acme.test").await.len(), 1);

    // A second identity of the domain asks for Ed25519: a slot that never
    // signed takes the key; it signs once resolvers can see it.
    verified_with(
        &app,
        &org,
        json!({"address": "info@acme.test", "scope": "all", "dkim_ed25519": true}),
        false,
    )
    .await;
    let (_, _, raw) = signed_with(&app, &org, body.clone()).await;
    assert_eq!(signatures_of(&app, &raw, "acme.test").await.len(), 1);
    app.advance(TURN);
    let (_, _, raw) = signed_with(&app, &org, body).await;
    let signatures = signatures_of(&app, &raw, "acme.test").await;
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    assert!(
        signatures.iter().all(|(_, r)| *r == DkimResult::Pass),
        "{signatures:?}"
    );
}
