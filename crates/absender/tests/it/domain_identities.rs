//! Domain identities (SES's): a whole domain verified by its DNS alone,
//! then any address at it (not at its subdomains) as an explicit sender.

use crate::helpers::{Org, TestApp, code, spawn_app};
use crate::messages::{acme, booking, raw, send};
use crate::smtp_submission::{client, credential, submit};
use lettre::transport::smtp::authentication::Mechanism;
use mail_auth::DkimResult;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn request(app: &TestApp, org: &Org, body: Value, status: StatusCode) -> Value {
    app.json(
        Method::POST,
        "/api/v1/identities",
        Some(&org.key),
        Some(body),
        status,
    )
    .await
}

/// A domain identity for `domain`, whose records an address identity of
/// the organization at that domain already published (they share keys).
async fn verified_domain(app: &TestApp, org: &Org, domain: &str) -> Value {
    let identity = request(
        app,
        org,
        json!({"type": "domain", "domain": domain}),
        StatusCode::CREATED,
    )
    .await;
    let id = identity["id"].as_str().unwrap();
    let checked = app.check(org, id).await;
    assert_eq!(checked["status"], "SUCCESS", "{checked}");
    checked
}

#[tokio::test]
async fn a_domain_identity_has_no_address_step_and_is_verified_by_dns_alone() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = request(
        &app,
        &org,
        json!({"domain": "acme.test"}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(identity["type"], "domain");
    assert_eq!(identity["address"], Value::Null);
    assert_eq!(identity["domain"], "acme.test");
    assert_eq!(identity["scope"], "all");
    assert_eq!(identity["status"], "PENDING");
    assert!(identity["parts"].get("address").is_none(), "{identity}");
    let id = identity["id"].as_str().unwrap();

    // No verification mail: nobody's mailbox is asked.
    assert!(app.operator_outbox().await.is_empty());
    let resend = app
        .json(
            Method::POST,
            &format!("/api/v1/identities/{id}/resend-verification"),
            Some(&org.key),
            None,
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&resend), "no_address");

    app.publish(&org, &identity).await;
    let checked = app.check(&org, id).await;
    assert_eq!(checked["status"], "SUCCESS", "{checked}");
    assert_eq!(checked["type"], "domain");

    // Another organization sees nothing of it, and may claim the domain for
    // itself only through its own records.
    let other = app.upgraded_org("Other", "en").await;
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/identities/{id}"),
            Some(&other.key),
            None
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    let theirs = request(
        &app,
        &other,
        json!({"domain": "acme.test"}),
        StatusCode::CREATED,
    )
    .await;
    let theirs = app.check(&other, theirs["id"].as_str().unwrap()).await;
    assert_eq!(theirs["parts"]["dkim"]["status"], "PENDING", "{theirs}");
}

#[tokio::test]
async fn any_address_at_a_verified_domain_may_send_and_is_signed_for_it() {
    let app = spawn_app().await;
    // acme() publishes the platform key and verifies events@acme.test
    // (scope recipients); the domain identity adds the rest of acme.test.
    let (org, events) = acme(&app).await;
    let domain = verified_domain(&app, &org, "acme.test").await;
    let domain_id = domain["id"].as_str().unwrap();

    let sent = send(
        &app,
        &org,
        json!({"category": "account_notification", "from": "Kasse@acme.test", "to": ["guest@example.test"], "subject": "Auszahlung", "text": "Bezahlt."}),
        StatusCode::ACCEPTED,
    )
    .await;
    let id = sent["id"].as_str().unwrap();
    let message = app.message(&org, id).await;
    assert_eq!(message["from"], "Kasse@acme.test");
    assert_eq!(message["identity_id"], domain_id);
    let verdicts = app.dkim_verdicts(&raw(&app, &org, id).await).await;
    assert!(
        verdicts
            .iter()
            .any(|(d, v)| d == "acme.test" && *v == DkimResult::Pass),
        "{verdicts:?}"
    );

    // The address identity still serves its own mailbox's bookings.
    let booked = send(
        &app,
        &org,
        booking(json!({"from": "events@acme.test"})),
        StatusCode::ACCEPTED,
    )
    .await;
    let booked = app
        .json(
            Method::GET,
            &format!("/api/v1/messages/{}", booked["id"].as_str().unwrap()),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(booked["identity_id"], events.as_str());

    // Subdomains and look-alikes are not covered.
    for from in ["x@mail.acme.test", "x@acme.test.evil.test", "x@xacme.test"] {
        let refused = send(
            &app,
            &org,
            booking(json!({ "from": from })),
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(code(&refused), "sender_not_verified", "{from}");
    }

    // SMTP takes the same rule.
    let (_, user, pass) = credential(&app, &org).await;
    let transport = client(&app, &user, &pass, Mechanism::Plain);
    let data =
        b"From: <team@ACME.test>\r\nTo: <guest@example.test>\r\nSubject: Hallo\r\n\r\nHi.\r\n";
    let reply = submit(&transport, "team@acme.test", &["guest@example.test"], data)
        .await
        .unwrap();
    assert!(reply.contains("msg_"), "{reply}");
    // Kept as the address parses, so the domain's queued mail is found by it.
    let id = crate::smtp_submission::queued_id(&reply);
    let stored = app.message(&org, &id).await;
    assert_eq!(stored["from"], "team@acme.test");
    let data =
        b"From: <team@mail.acme.test>\r\nTo: <guest@example.test>\r\nSubject: Hallo\r\n\r\nHi.\r\n";
    let refused = submit(
        &transport,
        "team@mail.acme.test",
        &["guest@example.test"],
        data,
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("not a verified"), "{refused}");
}

#[tokio::test]
async fn a_pending_domain_lets_nobody_send_and_is_no_category_sender() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let pending = request(
        &app,
        &org,
        json!({"type": "domain", "domain": "acme.test"}),
        StatusCode::CREATED,
    )
    .await;
    let refused = send(
        &app,
        &org,
        booking(json!({"from": "info@acme.test"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code(&refused), "sender_not_verified");

    app.publish(&org, &pending).await;
    let id = pending["id"].as_str().unwrap();
    assert_eq!(app.check(&org, id).await["status"], "SUCCESS");
    let chosen = app
        .json(
            Method::PUT,
            "/api/v1/send-settings",
            Some(&org.key),
            Some(json!({"booking": id})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(code(&chosen), "domain_identity", "{chosen}");
}

#[tokio::test]
async fn a_domain_request_names_what_is_wrong() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let cases = [
        (
            json!({"address": "a@acme.test", "domain": "acme.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"type": "domain", "domain": "acme.test", "scope": "recipients"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"type": "domain", "address": "a@acme.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"type": "domain", "domain": "not a domain"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_address",
        ),
        (
            json!({"domain": "gmail.com"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "freemail_domain",
        ),
        // The platform's own names are the operator's.
        (
            json!({"domain": "absender.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "platform_domain",
        ),
        (
            json!({"domain": "x.dkim.absender.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "platform_domain",
        ),
        (
            json!({"address": "buchung@absender.test", "scope": "all"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "platform_domain",
        ),
        (
            json!({"address": "a@acme.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"type": "mailbox", "domain": "acme.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, expected) in cases {
        let refused = request(&app, &org, body.clone(), status).await;
        assert_eq!(code(&refused), expected, "{body}: {refused}");
    }
    request(
        &app,
        &org,
        json!({"domain": "bücher.test"}),
        StatusCode::CREATED,
    )
    .await;
    let twice = request(
        &app,
        &org,
        json!({"domain": "xn--bcher-kva.test"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code(&twice), "identity_exists");
}
