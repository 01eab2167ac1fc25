//! Sending: the sender rule, signatures that verify through absender's DNS,
//! fallbacks with Reply-To, and refusals of bad input.

use crate::helpers::{ADMIN_KEY, Org, TestApp, code, smtp_dialogue, spawn_app};
use mail_auth::DkimResult;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Acme with events@acme.test verified (MAIL FROM too) and chosen for bookings,
/// and the platform key published.
pub async fn acme(app: &TestApp) -> (Org, String) {
    let org = app.upgraded_org("Acme", "en").await;
    let id = app
        .verified_identity(&org, "events@acme.test", "recipients")
        .await;
    app.json(
        Method::PUT,
        "/api/v1/send-settings",
        Some(&org.key),
        Some(json!({"booking": id})),
        StatusCode::OK,
    )
    .await;
    publish_platform_key(app).await;
    (org, id)
}

/// Publishes the platform key's CNAME (its second signature) in a local zone.
pub async fn publish_platform_key(app: &TestApp) {
    let platform = app
        .json(
            Method::GET,
            "/api/v1/platform/dns-records",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let cname = &platform["records"][0];
    app.zone("absender.test").await;
    app.record(
        "absender.test",
        cname["name"].as_str().unwrap(),
        "CNAME",
        cname["value"].as_str().unwrap(),
    )
    .await;
}

pub async fn send(app: &TestApp, org: &Org, body: Value, status: StatusCode) -> Value {
    app.json(
        Method::POST,
        "/api/v1/messages",
        Some(&org.key),
        Some(body),
        status,
    )
    .await
}

/// Sends `body`, expecting 202; the message id.
pub async fn accepted(app: &TestApp, org: &Org, body: Value) -> String {
    send(app, org, body, StatusCode::ACCEPTED).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The organization's suppression list (`GET /api/v1/suppressions`).
pub async fn suppressions(app: &TestApp, org: &Org) -> Value {
    app.json(
        Method::GET,
        "/api/v1/suppressions",
        Some(&org.key),
        None,
        StatusCode::OK,
    )
    .await
}

pub fn booking(extra: Value) -> Value {
    let mut body = json!({"category": "booking", "to": ["guest@example.test"], "subject": "Ihre Buchung", "text": "Danke!"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

pub async fn raw(app: &TestApp, org: &Org, id: &str) -> Vec<u8> {
    app.call(
        Method::GET,
        &format!("/api/v1/outbox/{id}/raw"),
        Some(&org.key),
        None,
    )
    .await
    .bytes()
    .await
    .unwrap()
    .to_vec()
}

#[tokio::test]
async fn a_booking_goes_out_from_the_chosen_address_signed_for_its_domain() {
    let app = spawn_app().await;
    let (org, identity_id) = acme(&app).await;
    let accepted = send(
        &app,
        &org,
        booking(json!({"bcc": ["office@acme.test"], "headers": {"X-Booking": "4711"}})),
        StatusCode::ACCEPTED,
    )
    .await;
    let id = accepted["id"].as_str().unwrap();

    let message = app
        .json(
            Method::GET,
            &format!("/api/v1/messages/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(message["from"], "events@acme.test");
    assert_eq!(message["identity_id"], identity_id.as_str());
    assert_eq!(message["fallback_reason"], Value::Null);
    assert_eq!(
        message["envelope_from"],
        format!("bounces+{id}@bounce.acme.test"),
        "custom MAIL FROM verified"
    );
    assert_eq!(message["recipients"].as_array().unwrap().len(), 2);

    let raw = raw(&app, &org, id).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains(&format!("Message-ID: <{id}@acme.test>")));
    assert!(text.contains("X-Booking: 4711"));
    assert!(
        !text.contains("office@acme.test"),
        "Bcc never appears in the message"
    );
    let verdicts = app.dkim_verdicts(&raw).await;
    assert_eq!(
        verdicts,
        [
            ("acme.test".to_string(), DkimResult::Pass),
            ("absender.test".to_string(), DkimResult::Pass)
        ]
    );
}

#[tokio::test]
async fn a_broken_identity_falls_back_to_the_default_sender_with_reply_to() {
    let app = spawn_app().await;
    let (org, identity_id) = acme(&app).await;
    let records = app
        .json(
            Method::GET,
            "/api/v1/dns/zones/acme.test/records",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let cname = records["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "CNAME")
        .unwrap();
    app.call(
        Method::DELETE,
        &format!(
            "/api/v1/dns/zones/acme.test/records/{}",
            cname["id"].as_str().unwrap()
        ),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert_eq!(
        app.check(&org, &identity_id).await["status"],
        "TEMPORARY_FAILURE"
    );

    let accepted = send(&app, &org, booking(json!({})), StatusCode::ACCEPTED).await;
    let id = accepted["id"].as_str().unwrap();
    let message = app
        .json(
            Method::GET,
            &format!("/api/v1/messages/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(message["from"], "buchung@absender.test");
    assert_eq!(message["reply_to"], "events@acme.test");
    assert!(
        message["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("TEMPORARY_FAILURE")
    );
    assert_eq!(
        message["envelope_from"],
        format!("bounces+{id}@bounce.absender.test")
    );
    let raw = raw(&app, &org, id).await;
    assert_eq!(
        app.dkim_verdicts(&raw).await,
        [("absender.test".to_string(), DkimResult::Pass)],
        "only the platform signs"
    );
}

#[tokio::test]
async fn explicit_senders_must_be_verified_and_in_scope() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let verified = send(
        &app,
        &org,
        booking(json!({"from": "events@acme.test", "category": "invitation"})),
        StatusCode::ACCEPTED,
    )
    .await;
    assert!(verified["id"].is_string());
    let r = send(
        &app,
        &org,
        booking(json!({"from": "ceo@acme.test"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code(&r), "sender_not_verified");
    let r = send(
        &app,
        &org,
        booking(json!({"from": "events@acme.test", "category": "account_notification"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code(&r), "sender_scope");
    let other = app.upgraded_org("Other", "en").await;
    let r = send(
        &app,
        &other,
        booking(json!({"from": "events@acme.test"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        code(&r),
        "sender_not_verified",
        "another organization's verified address is not yours"
    );
    let mine = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    app.json(
        Method::GET,
        &format!("/api/v1/messages/{}", verified["id"].as_str().unwrap()),
        Some(&other.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(!mine["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_messages_are_refused_with_a_code_and_nothing_is_stored() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let many: Vec<String> = (0..51).map(|i| format!("g{i}@example.test")).collect();
    let cases = [
        (
            booking(json!({"subject": "Hi\r\nBcc: victim@example.test"})),
            StatusCode::BAD_REQUEST,
            "header_injection",
        ),
        (
            booking(json!({"headers": {"X-Note": "a\nb"}})),
            StatusCode::BAD_REQUEST,
            "header_injection",
        ),
        (
            booking(json!({"headers": {"From": "ceo@acme.test"}})),
            StatusCode::BAD_REQUEST,
            "invalid_header",
        ),
        (
            booking(json!({"to": ["not an address"]})),
            StatusCode::BAD_REQUEST,
            "invalid_address",
        ),
        (
            booking(json!({"to": ["guest@example.test\r\nBcc: x@evil.test"]})),
            StatusCode::BAD_REQUEST,
            "invalid_address",
        ),
        (
            booking(json!({"to": []})),
            StatusCode::BAD_REQUEST,
            "invalid_recipients",
        ),
        (
            booking(json!({"to": many})),
            StatusCode::BAD_REQUEST,
            "invalid_recipients",
        ),
        (
            booking(json!({"category": "system"})),
            StatusCode::BAD_REQUEST,
            "invalid_category",
        ),
        (
            booking(json!({"category": "newsletter"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            booking(json!({"text": null})),
            StatusCode::BAD_REQUEST,
            "no_body",
        ),
        (
            booking(
                json!({"attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "content_base64": "%%%"}]}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_attachment",
        ),
    ];
    for (body, status, expected) in cases {
        let r = send(&app, &org, body.clone(), status).await;
        assert_eq!(code(&r), expected, "{body}");
    }
    let outbox = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        outbox["items"].as_array().unwrap().is_empty(),
        "nothing was accepted"
    );
}

#[tokio::test]
async fn invitations_carry_one_click_unsubscribe_that_really_unsubscribes() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let invite = |to: Value| json!({"category": "invitation", "to": to, "subject": "Einladung", "text": "Kommen Sie!"});
    let id = send(
        &app,
        &org,
        invite(json!(["gast@example.test"])),
        StatusCode::ACCEPTED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (text, header) = list_unsubscribe(&app, &org, &id).await;
    let header = header.as_str();
    assert!(text.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    assert!(header.contains("<mailto:unsubscribe@"), "{header}");
    // RFC 8058: the signature must cover both headers.
    let signature = text.split("DKIM-Signature:").nth(1).unwrap();
    let h_tag = signature
        .split("h=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        h_tag.contains("list-unsubscribe") && h_tag.contains("list-unsubscribe-post"),
        "{h_tag}"
    );
    let https = header
        .split('<')
        .nth(1)
        .unwrap()
        .trim_end_matches(|c| c != '>')
        .trim_end_matches('>');
    let path = https
        .strip_prefix(&app.base)
        .expect("the link is on absender's public URL");

    // Looking at the page (as a link scanner would) changes nothing.
    let page = app.call(Method::GET, path, None, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("gast@example.test"));
    let none = suppressions(&app, &org).await;
    assert!(none["items"].as_array().unwrap().is_empty());

    // A mail client's one-click POST unsubscribes.
    let clicked = app
        .http
        .post(https)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);
    let list = suppressions(&app, &org).await;
    assert_eq!(list["items"][0]["address"], "gast@example.test");
    assert_eq!(list["items"][0]["reason"], "unsubscribe");
    let refused = send(
        &app,
        &org,
        invite(json!(["gast@example.test"])),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&refused), "recipient_suppressed");

    // A changed token is nobody's link.
    let forged = format!("{}x", path.trim_end_matches(|c: char| c != '.'));
    assert_eq!(
        app.call(Method::POST, &forged, None, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let two = send(
        &app,
        &org,
        invite(json!(["a@example.test", "b@example.test"])),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&two), "one_recipient_per_invitation");

    // The mailto way: a mail to the unsubscribe address with the prefilled
    // subject, without login; a subject without a valid token changes nothing.
    let id = send(
        &app,
        &org,
        invite(json!(["zweiter@example.test"])),
        StatusCode::ACCEPTED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, header) = list_unsubscribe(&app, &org, &id).await;
    let mailto = header
        .split("<mailto:")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap();
    let (to, query) = mailto.split_once('?').unwrap();
    let subject = query.strip_prefix("subject=").unwrap().replace("%20", " ");
    let mail = |subject: &str| {
        format!("From: <zweiter@example.test>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\n\r\n.")
    };
    for (subject, answer) in [
        ("unsubscribe forged.token", "550"),
        (subject.as_str(), "250"),
    ] {
        smtp_dialogue(
            app.smtp_addr,
            &[
                ("EHLO mail.example.test".to_string(), "250"),
                ("MAIL FROM:<zweiter@example.test>".to_string(), "250"),
                ("RCPT TO:<somebody@example.test>".to_string(), "530"),
                (format!("RCPT TO:<{to}>"), "250"),
                ("DATA".to_string(), "354"),
                (mail(subject), answer),
                ("QUIT".to_string(), "221"),
            ],
        )
        .await;
        let listed = suppressions(&app, &org).await;
        let found = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["address"] == "zweiter@example.test");
        assert_eq!(found, answer == "250", "{subject}");
    }
}

/// The message's text with headers unfolded, and its List-Unsubscribe header.
async fn list_unsubscribe(app: &TestApp, org: &Org, id: &str) -> (String, String) {
    let bytes = raw(app, org, id).await;
    // Unfolded: long headers continue on indented lines.
    let text = String::from_utf8_lossy(&bytes)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    let header = text
        .lines()
        .find(|l| l.starts_with("List-Unsubscribe: "))
        .unwrap_or_else(|| panic!("no List-Unsubscribe in {text}"))
        .to_string();
    (text, header)
}
