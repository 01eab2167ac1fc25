//! Complaints: abuse reports (ARF, RFC 5965) from feedback loops, by SMTP at
//! `fbl@<bounce host>` or at a return path, or posted by the operator. Only
//! a report that names a delivery absender made, to that delivery's own
//! recipient, counts, and only once; forged ones change nothing.

use crate::delivery::{relay_config, return_path_of, wait_message};
use crate::helpers::{ADMIN_KEY, TestApp, code, smtp_dialogue, spawn_with};
use crate::messages::{accepted, acme, booking, send, suppressions};
use crate::smtp_sink::SmtpSink;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A feedback loop's report about the mail with `message_id` and
/// `return_path` (either may be left out), naming `rcpt_to` if given.
pub fn arf(
    feedback_type: &str,
    rcpt_to: Option<&str>,
    message_id: Option<&str>,
    return_path: Option<&str>,
) -> String {
    let rcpt_to = rcpt_to.map_or(String::new(), |r| format!("Original-Rcpt-To: <{r}>\r\n"));
    let message_id = message_id.map_or(String::new(), |m| format!("Message-ID: <{m}>\r\n"));
    let return_path = return_path.map_or(String::new(), |r| format!("Return-Path: <{r}>\r\n"));
    format!(
        "From: fbl@mail.example.test\r\nTo: fbl@bounce.absender.test\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n--F\r\nContent-Type: text/plain\r\n\r\n\
This is an email abuse report.\r\n--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: {feedback_type}\r\n\
User-Agent: ExampleFBL/1.0\r\nVersion: 1\r\n{rcpt_to}\r\n--F\r\nContent-Type: message/rfc822\r\n\r\n{return_path}\
From: events@acme.test\r\n{message_id}Subject: Ihre Buchung\r\n\r\nDanke!\r\n--F--\r\n"
    )
}

async fn post_arf(app: &TestApp, key: &str, report: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/inbound/arf", app.base))
        .bearer_auth(key)
        .header("content-type", "message/rfc822")
        .body(report.to_string())
        .send()
        .await
        .unwrap()
}

async fn applied(app: &TestApp, report: &str) -> Value {
    let response = post_arf(app, ADMIN_KEY, report).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn reputation(app: &TestApp, key: &str) -> Value {
    app.json(
        Method::GET,
        "/api/v1/reputation",
        Some(key),
        None,
        StatusCode::OK,
    )
    .await
}

fn suppressed(list: &Value) -> Vec<(String, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["address"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_complaint_counts_once_and_only_for_a_delivery_absender_made() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(&sink, 2, dir.path());
    // Reports by SMTP count toward reputation only when this loop signed them.
    config.reputation.complaint_reporters = vec!["fbl@fbl.example.test".into()];
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let (org, _) = acme(&app).await;
    let single = accepted(&app, &org, booking(json!({"to": ["reader@example.test"]}))).await;
    // One millisecond apart: the history lists messages by when they were sent.
    app.advance(std::time::Duration::from_millis(1));
    let pair = accepted(
        &app,
        &org,
        booking(json!({"to": ["a@example.test", "b@example.test"]})),
    )
    .await;
    for id in [&single, &pair] {
        wait_message(&app, &org.key, id, |m| m["status"] == "delivered").await;
    }
    // Feedback loops report by the Feedback-ID every mail carries.
    let mail = sink
        .received()
        .into_iter()
        .find(|r| r.to == ["reader@example.test"])
        .unwrap();
    let text = String::from_utf8_lossy(&mail.data);
    assert!(
        text.contains(&format!("Feedback-ID: booking:{}:absender\r\n", org.id)),
        "{text}"
    );
    let reader_path = return_path_of(&sink, "reader@example.test");
    let a_path = return_path_of(&sink, "a@example.test");
    let single_mid = format!("{single}@acme.test");
    let pair_mid = format!("{pair}@acme.test");

    // Only the operator posts reports, and only reports.
    let report = arf("abuse", None, Some(&single_mid), None);
    assert_eq!(
        post_arf(&app, &org.key, &report).await.status(),
        StatusCode::FORBIDDEN
    );
    let not_arf = post_arf(&app, ADMIN_KEY, "Subject: hi\r\n\r\nthanks!\r\n").await;
    assert_eq!(not_arf.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = not_arf.json().await.unwrap();
    assert_eq!(code(&body), "not_a_feedback_report");

    // Forged or unmatched reports change nothing, each with its reason.
    let (local, host) = reader_path.rsplit_once('@').unwrap();
    let forged_mac = format!(
        "{}.aaaaaaaaaaaaaaaa@{host}",
        local.rsplit_once('.').unwrap().0
    );
    let cases = [
        (arf("abuse", None, None, Some(&forged_mac)), "bad_mac"),
        (
            arf(
                "abuse",
                Some("someone@example.test"),
                None,
                Some(&reader_path),
            ),
            "other_recipient",
        ),
        (
            arf("abuse", Some("a@example.test"), Some(&pair_mid), None),
            "ambiguous_recipient",
        ),
        (
            arf("abuse", None, Some("msg_NOSUCHMESSAGE@acme.test"), None),
            "unknown_message",
        ),
        (
            arf("abuse", None, Some(&format!("{single}@other.test")), None),
            "unknown_message",
        ),
        (
            arf("not-spam", None, Some(&single_mid), None),
            "not_a_complaint",
        ),
        (
            arf("abuse", None, None, None),
            "no_return_path_or_message_id",
        ),
    ];
    for (report, reason) in &cases {
        let outcome = applied(&app, report).await;
        assert_eq!(outcome["ignored"], *reason, "{outcome}");
        assert_eq!(outcome["complained"], json!([]));
    }
    assert_eq!(suppressed(&suppressions(&app, &org).await), []);
    assert_eq!(reputation(&app, &org.key).await["complaints"], 0);

    // A feedback loop's report by SMTP at fbl@<bounce host>, matched by Message-ID.
    let report = arf(
        "abuse",
        Some("reader@example.test"),
        Some(&single_mid),
        None,
    );
    smtp_dialogue(
        app.smtp_addr,
        &[
            ("EHLO fbl.example.test".to_string(), "250"),
            ("MAIL FROM:<>".to_string(), "250"),
            ("RCPT TO:<fbl@bounce.absender.test>".to_string(), "250"),
            ("DATA".to_string(), "354"),
            (format!("{report}."), "250"),
            ("QUIT".to_string(), "221"),
        ],
    )
    .await;
    assert_eq!(
        suppressed(&suppressions(&app, &org).await),
        [("reader@example.test".into(), "complaint".into())]
    );
    // Unsigned by a trusted loop, it did not count toward reputation.
    assert_eq!(reputation(&app, &org.key).await["complaints"], 0);
    // The same report again is no second complaint; posted by the operator
    // (who vouches for it) it now counts, once.
    assert_eq!(
        applied(&app, &report).await["ignored"],
        "already_complained"
    );
    assert_eq!(reputation(&app, &org.key).await["complaints"], 1);

    // Another arrives at a delivery's return path: its MAC names the delivery.
    let report = arf("abuse", None, None, None);
    smtp_dialogue(
        app.smtp_addr,
        &[
            ("EHLO fbl.example.test".to_string(), "250"),
            ("MAIL FROM:<>".to_string(), "250"),
            (format!("RCPT TO:<{a_path}>"), "250"),
            ("DATA".to_string(), "354"),
            (format!("{report}."), "250"),
            ("QUIT".to_string(), "221"),
        ],
    )
    .await;
    let list = suppressed(&suppressions(&app, &org).await);
    assert!(
        list.contains(&("a@example.test".into(), "complaint".into())),
        "{list:?}"
    );
    assert!(!list.iter().any(|(a, _)| a == "b@example.test"));
    // Not signed by a trusted feedback loop: anyone who got a mail can send
    // such a report, so it suppresses but does not count.
    assert_eq!(reputation(&app, &org.key).await["complaints"], 1);

    // The trusted loop's report, DKIM-signed as fbl.example.test, counts.
    let key = absender_mail::dkim::generate_rsa_key(absender_mail::dkim::RsaBits::Rsa2048).unwrap();
    app.zone("fbl.example.test").await;
    app.record(
        "fbl.example.test",
        "fbl._domainkey.fbl.example.test",
        "TXT",
        &format!("v=DKIM1; k=rsa; p={}", key.public_key),
    )
    .await;
    let signer = absender_mail::dkim::DkimKey {
        domain: "fbl.example.test",
        selector: "fbl",
        pkcs8_der: &key.pkcs8_der,
    };
    let by_smtp = |recipient: &'static str, from: &'static str| {
        let path = return_path_of(&sink, recipient);
        let report = arf("abuse", Some(recipient), None, None)
            .replace("From: fbl@mail.example.test", &format!("From: {from}"));
        let signed = absender_mail::dkim::sign(report.as_bytes(), &[signer]).unwrap();
        let addr = app.smtp_addr;
        async move {
            smtp_dialogue(
                addr,
                &[
                    ("EHLO fbl.example.test".to_string(), "250"),
                    ("MAIL FROM:<>".to_string(), "250"),
                    (format!("RCPT TO:<{path}>"), "250"),
                    ("DATA".to_string(), "354"),
                    (format!("{}.", String::from_utf8(signed).unwrap()), "250"),
                    ("QUIT".to_string(), "221"),
                ],
            )
            .await
        }
    };
    // Signed by the loop's domain, but from another of its addresses (any
    // user there could write one): suppresses, does not count.
    by_smtp("b@example.test", "someone@fbl.example.test").await;
    let list = suppressed(&suppressions(&app, &org).await);
    assert!(
        list.contains(&("b@example.test".into(), "complaint".into())),
        "{list:?}"
    );
    assert_eq!(reputation(&app, &org.key).await["complaints"], 1);
    // The loop's own report about the same delivery then counts it.
    by_smtp("b@example.test", "fbl@fbl.example.test").await;
    assert_eq!(reputation(&app, &org.key).await["complaints"], 2);
    // So does its report about a@, whose unsigned report came first; again, nothing.
    by_smtp("a@example.test", "fbl@fbl.example.test").await;
    by_smtp("a@example.test", "fbl@fbl.example.test").await;
    assert_eq!(reputation(&app, &org.key).await["complaints"], 3);

    // The history shows each message's events as webhooks shape them.
    let events = app
        .json(
            Method::GET,
            &format!("/api/v1/messages/{single}/events"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let types: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Send", "Delivery", "Complaint"], "{events}");
    assert_eq!(
        events["items"][2]["complaint"]["complainedRecipients"][0]["emailAddress"],
        "reader@example.test"
    );
    let complaints = app
        .json(
            Method::GET,
            "/api/v1/events?type=Complaint&since=2000-01-01T00:00:00Z",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let about: Vec<&str> = complaints["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["mail"]["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(about, [single.as_str(), pair.as_str(), pair.as_str()]);
    // A page of one message at a time, then the next.
    let first = app
        .json(
            Method::GET,
            "/api/v1/events?limit=1",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(first["items"][0]["mail"]["messageId"], single.as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .json(
            Method::GET,
            &format!("/api/v1/events?limit=1&cursor={cursor}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(second["items"][0]["mail"]["messageId"], pair.as_str());
    for (query, field) in [
        ("type=Bogus", "type"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("cursor=x", "cursor"),
    ] {
        let refused = app
            .json(
                Method::GET,
                &format!("/api/v1/events?{query}"),
                Some(&org.key),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert!(refused.to_string().contains(field), "{refused}");
    }
    // Another organization sees none of it.
    let other = app.upgraded_org("Other", "en").await;
    app.json(
        Method::GET,
        &format!("/api/v1/messages/{single}/events"),
        Some(&other.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let theirs = app
        .json(
            Method::GET,
            "/api/v1/events",
            Some(&other.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(theirs["items"], json!([]));

    // The complained-about address gets no more mail from the organization.
    let refused = send(
        &app,
        &org,
        booking(json!({"to": ["reader@example.test"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&refused), "recipient_suppressed");
}
