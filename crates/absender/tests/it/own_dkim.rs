//! Bring-your-own DKIM: an organization signs its domain with its own RSA
//! key under its own selector and publishes the TXT record itself. The key
//! signs only once DNS shows exactly its public half; the Easy DKIM keys
//! wait behind it for a switch back.

use crate::helpers::{ADMIN_KEY, Org, TestApp, code, codes};
use crate::messages::{acme, booking, raw, send};
use absender_mail::dkim::{RsaBits, generate_rsa_key};
use base64::Engine;
use mail_auth::DkimResult;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A 1024-bit key (`openssl genrsa -traditional 1024`), for tests only.
const RSA_1024_PKCS1: &str =
    include_str!("../../../absender-mail/tests/fixtures/rsa1024-pkcs1.b64");

fn dkim_key_path(id: &str) -> String {
    format!("/api/v1/identities/{id}/dkim-key")
}

async fn put_key(app: &TestApp, key: &str, id: &str, body: Value, status: StatusCode) -> Value {
    app.json(
        Method::PUT,
        &dkim_key_path(id),
        Some(key),
        Some(body),
        status,
    )
    .await
}

/// (selector, verdict) of each acme.test signature of a message sent now.
async fn acme_signatures(app: &TestApp, org: &Org) -> Vec<(String, DkimResult)> {
    use mail_auth::common::verify::VerifySignature;
    let sent = send(app, org, booking(json!({})), StatusCode::ACCEPTED).await;
    let raw = raw(app, org, sent["id"].as_str().unwrap()).await;
    let message = mail_auth::AuthenticatedMessage::parse(&raw).unwrap();
    mail_auth::MessageAuthenticator(app.resolver())
        .verify_dkim(mail_auth::Parameters::new(&message))
        .await
        .iter()
        .filter(|o| o.signature().unwrap().domain() == "acme.test")
        .map(|o| {
            (
                o.signature().unwrap().selector().to_string(),
                o.result().clone(),
            )
        })
        .collect()
}

/// The records the identity asks for, as (name, type, value).
async fn records(app: &TestApp, org: &Org, id: &str) -> Vec<(String, String, String)> {
    let path = format!("/api/v1/identities/{id}/dns-records");
    let records = app
        .json(Method::GET, &path, Some(&org.key), None, StatusCode::OK)
        .await;
    records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] == "dkim")
        .map(|r| {
            let field = |f: &str| r[f].as_str().unwrap().to_string();
            (field("name"), field("type"), field("value"))
        })
        .collect()
}

#[tokio::test]
async fn an_own_key_signs_only_once_its_txt_record_shows_its_public_half() {
    let app = crate::helpers::spawn_app().await;
    let (org, id) = acme(&app).await;
    // Another organization with an identity at the same domain (it cannot
    // verify it without the domain's DNS, but it has its own keys).
    let beta = app.upgraded_org("Beta", "en").await;
    let beta_identity = app.request_identity(&beta, "team@acme.test", "all").await;
    let beta_id = beta_identity["id"].as_str().unwrap();
    let beta_records = records(&app, &beta, beta_id).await;
    let easy = acme_signatures(&app, &org).await;
    assert_eq!(easy.len(), 1);
    assert_eq!(easy[0].1, DkimResult::Pass);

    let own = generate_rsa_key(RsaBits::Rsa2048).unwrap();
    let own_b64 = B64.encode(&own.pkcs8_der);
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{own_b64}\n-----END PRIVATE KEY-----\n");
    let set = put_key(
        &app,
        &org.key,
        &id,
        json!({"selector": "S2026", "private_key": pem}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["origin"], "own");
    assert_eq!(set["selectors"], json!(["s2026"]));
    assert_eq!(set["bits"], 2048);
    assert!(set["verified_at"].is_null(), "{set}");
    assert!(
        !set.to_string().contains(&own_b64[40..80]),
        "no private key in answers"
    );

    // DKIM starts over: until the TXT record is verified nothing is signed
    // with a key receivers cannot find.
    let identity = app.identity(&org, &id).await;
    assert_eq!(identity["parts"]["dkim"]["status"], "PENDING", "{identity}");
    // Mail of the identity goes out from the platform's address meanwhile
    // (as while any part is not verified), with no acme.test signature.
    assert_eq!(acme_signatures(&app, &org).await, []);
    let events = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/events"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["part"] == "dkim"
                && e["from"] == "SUCCESS"
                && e["to"] == "PENDING"
                && e["detail"].as_str().unwrap().contains("selector s2026")),
        "{events}"
    );

    let wanted = records(&app, &org, &id).await;
    let txt = format!("v=DKIM1; k=rsa; p={}", own.public_key);
    assert_eq!(
        wanted,
        [(
            "s2026._domainkey.acme.test".to_string(),
            "TXT".to_string(),
            txt.clone()
        )],
        "one TXT record instead of the three CNAMEs"
    );

    // Someone else's key at the selector does not verify the organization's.
    let stranger = generate_rsa_key(RsaBits::Rsa2048).unwrap();
    let wrong = app
        .record(
            "acme.test",
            "s2026._domainkey.acme.test",
            "TXT",
            &format!("v=DKIM1; k=rsa; p={}", stranger.public_key),
        )
        .await;
    let checked = app.check(&org, &id).await;
    assert_eq!(checked["parts"]["dkim"]["status"], "PENDING");
    assert_eq!(codes(&checked, "dkim"), ["dkim_key_mismatch"]);
    app.call(
        Method::DELETE,
        &format!("/api/v1/dns/zones/acme.test/records/{wrong}"),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    app.record("acme.test", "s2026._domainkey.acme.test", "TXT", &txt)
        .await;
    assert_eq!(app.check(&org, &id).await["status"], "SUCCESS");
    let key = app
        .json(
            Method::GET,
            &dkim_key_path(&id),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(key["verified_at"].is_string(), "{key}");
    // The other organization's identity at the domain kept its own records.
    assert_eq!(records(&app, &beta, beta_id).await, beta_records);

    let signed = acme_signatures(&app, &org).await;
    assert_eq!(signed, [("s2026".to_string(), DkimResult::Pass)]);

    // The own key is the organization's to rotate.
    let rotation = app
        .json(
            Method::POST,
            &format!("/api/v1/identities/{id}/rotate-dkim"),
            Some(&org.key),
            None,
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&rotation), "own_dkim_key");

    // Sealed at rest, like absender's own keys.
    let row = app
        .app()
        .store()
        .own_dkim_key(&org.id, "acme.test")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !row.private_key_enc
            .windows(64)
            .any(|w| own.pkcs8_der.windows(64).any(|k| k == w)),
        "no plain key bytes in the store"
    );

    // Back to Easy DKIM: its CNAMEs are still published, so it verifies again.
    let easy_again = app
        .json(
            Method::DELETE,
            &dkim_key_path(&id),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(easy_again["origin"], "easy");
    assert_eq!(easy_again["selectors"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.identity(&org, &id).await["parts"]["dkim"]["status"],
        "PENDING"
    );
    assert_eq!(app.check(&org, &id).await["status"], "SUCCESS");
    assert_eq!(acme_signatures(&app, &org).await, easy);

    // The own key goes with the organization's last identity at the domain.
    let body = json!({"selector": "s2026", "private_key": own_b64});
    put_key(&app, &org.key, &id, body, StatusCode::OK).await;
    app.call(
        Method::DELETE,
        &format!("/api/v1/identities/{id}"),
        Some(&org.key),
        None,
    )
    .await;
    let store = app.app().store();
    assert_eq!(
        store.own_dkim_key(&org.id, "acme.test").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn bad_keys_and_selectors_are_refused_and_nothing_changes() {
    let app = crate::helpers::spawn_app().await;
    let (org, id) = acme(&app).await;
    let good = B64.encode(generate_rsa_key(RsaBits::Rsa2048).unwrap().pkcs8_der);
    let cases = [
        (
            json!({"selector": "s1", "private_key": RSA_1024_PKCS1}),
            "dkim_key_size",
        ),
        (
            json!({"selector": "s1", "private_key": "bm90IGEga2V5"}),
            "invalid_dkim_key",
        ),
        (
            json!({"selector": "s1", "private_key": "%%%"}),
            "invalid_dkim_key",
        ),
        (
            json!({"selector": "s1\r\nX-Evil: 1", "private_key": good}),
            "invalid_selector",
        ),
        (
            json!({"selector": "-s1", "private_key": good}),
            "invalid_selector",
        ),
        (
            json!({"selector": "s1", "private_key": "A".repeat(30_000)}),
            "invalid_dkim_key",
        ),
    ];
    for (body, expected) in cases {
        let refused = put_key(&app, &org.key, &id, body, StatusCode::BAD_REQUEST).await;
        assert_eq!(code(&refused), expected, "{refused}");
        assert!(
            refused["error"]["message"].as_str().unwrap().len() > 20,
            "{refused}"
        );
    }
    let unknown_field = app
        .call(
            Method::PUT,
            &dkim_key_path(&id),
            Some(&org.key),
            Some(json!({"selector": "s1", "private_key": good, "public": true})),
        )
        .await;
    assert!(unknown_field.status().is_client_error());
    let identity = app.identity(&org, &id).await;
    assert_eq!(identity["status"], "SUCCESS", "nothing changed: {identity}");
    let key = app
        .json(
            Method::GET,
            &dkim_key_path(&id),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(key["origin"], "easy");

    // Another organization cannot see or set the key of this identity.
    let other = app.upgraded_org("Other", "en").await;
    let body = json!({"selector": "s1", "private_key": good});
    put_key(&app, &other.key, &id, body, StatusCode::NOT_FOUND).await;
    app.json(
        Method::GET,
        &dkim_key_path(&id),
        Some(&other.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    app.json(
        Method::DELETE,
        &dkim_key_path(&id),
        Some(&other.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
}
