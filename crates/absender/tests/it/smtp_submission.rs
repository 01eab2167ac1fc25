//! SMTP submission: credentials from the API, STARTTLS and AUTH, the sender
//! rule in SMTP terms, and a real client (swaks) as well as lettre.

use crate::helpers::{ADMIN_KEY, Org, TestApp, code, spawn_app};
use crate::messages::{acme, raw};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mail_auth::DkimResult;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub(crate) async fn credential(app: &TestApp, org: &Org) -> (String, String, String) {
    let created = app
        .json(
            Method::POST,
            "/api/v1/smtp-credentials",
            Some(&org.key),
            Some(json!({"description": "booking system"})),
            StatusCode::CREATED,
        )
        .await;
    (
        created["id"].as_str().unwrap().into(),
        created["username"].as_str().unwrap().into(),
        created["password"].as_str().unwrap().into(),
    )
}

pub(crate) fn client(
    app: &TestApp,
    user: &str,
    pass: &str,
    mechanism: Mechanism,
) -> AsyncSmtpTransport<Tokio1Executor> {
    // absender made its own certificate: a client must be told to take it.
    let tls = TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()
        .unwrap();
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(app.smtp_addr.port())
        .tls(Tls::Required(tls))
        .credentials(Credentials::new(user.into(), pass.into()))
        .authentication(vec![mechanism])
        .build()
}

fn mail(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!("From: Acme Events <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\nSee you on Friday.\r\n").into_bytes()
}

pub(crate) async fn submit(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &str,
    to: &[&str],
    data: &[u8],
) -> Result<String, lettre::transport::smtp::Error> {
    let envelope = Envelope::new(
        Some(from.parse().unwrap()),
        to.iter().map(|t| t.parse().unwrap()).collect(),
    )
    .unwrap();
    let response = transport.send_raw(&envelope, data).await?;
    Ok(response.message().collect::<Vec<_>>().join(" "))
}

/// A booking from events@acme.test (envelope and From) to `to`.
async fn submit_to(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    to: &str,
    subject: &str,
) -> Result<String, lettre::transport::smtp::Error> {
    submit(
        transport,
        "events@acme.test",
        &[to],
        &mail("events@acme.test", to, subject),
    )
    .await
}

pub(crate) fn queued_id(reply: &str) -> String {
    reply.rsplit(' ').next().unwrap().to_string()
}

#[tokio::test]
async fn a_login_submits_signed_mail_through_the_same_pipeline() {
    let app = spawn_app().await;
    let (org, identity) = acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let transport = client(&app, &user, &pass, mechanism);
        let reply = submit_to(&transport, "guest@example.test", "Buchung")
            .await
            .unwrap();
        let id = queued_id(&reply);
        assert!(id.starts_with("msg_"), "{reply}");
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
        assert_eq!(message["identity_id"], identity.as_str());
        assert_eq!(message["category"], "booking");
        assert_eq!(
            message["envelope_from"],
            format!("bounces+{id}@bounce.acme.test")
        );
        let raw = raw(&app, &org, &id).await;
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains(&format!("Message-ID: <{id}@acme.test>")),
            "absender adds a Message-ID"
        );
        assert!(
            text.contains("\r\nDate: ") || text.starts_with("Date: "),
            "and a Date"
        );
        let verdicts = app.dkim_verdicts(&raw).await;
        assert!(
            verdicts
                .iter()
                .any(|(d, v)| d == "acme.test" && *v == DkimResult::Pass),
            "{verdicts:?}"
        );
    }
    let metrics = app
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "absender_messages_accepted_total{category=\"booking\",interface=\"smtp\"} 2"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn senders_recipients_and_sizes_are_checked_with_clear_replies() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    let transport = client(&app, &user, &pass, Mechanism::Plain);
    let refused = |e: lettre::transport::smtp::Error| {
        let code = e.status().map(u16::from).unwrap_or(0);
        (
            code,
            std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        )
    };

    // Envelope sender that the organization has not verified.
    let e = submit(
        &transport,
        "ceo@acme.test",
        &["guest@example.test"],
        &mail("ceo@acme.test", "guest@example.test", "x"),
    )
    .await
    .unwrap_err();
    let (code, text) = refused(e);
    assert_eq!(code, 550);
    assert!(
        text.contains("ceo@acme.test") && text.contains("not a verified sender"),
        "{text}"
    );

    // A verified envelope but a From the organization may not use.
    let e = submit(
        &transport,
        "events@acme.test",
        &["guest@example.test"],
        &mail("boss@other.test", "guest@example.test", "x"),
    )
    .await
    .unwrap_err();
    let (code, text) = refused(e);
    assert_eq!(code, 550);
    assert!(text.contains("From <boss@other.test>"), "{text}");

    // A suppressed recipient is refused by name.
    app.json(
        Method::POST,
        "/api/v1/suppressions",
        Some(&org.key),
        Some(json!({"address": "gone@example.test"})),
        StatusCode::CREATED,
    )
    .await;
    let e = submit_to(&transport, "gone@example.test", "x")
        .await
        .unwrap_err();
    let (code, text) = refused(e);
    assert_eq!(code, 550);
    assert!(
        text.contains("gone@example.test") && text.contains("suppression"),
        "{text}"
    );

    // Too large: refused after DATA, nothing stored.
    let mut big = mail("events@acme.test", "guest@example.test", "big");
    let line = [[b'x'; 998].as_slice(), b"\r\n"].concat();
    big.extend(line.repeat(11 * 1024 * 1024 / line.len() + 1));
    let e = submit(
        &transport,
        "events@acme.test",
        &["guest@example.test"],
        &big,
    )
    .await
    .unwrap_err();
    assert_eq!(refused(e).0, 552);

    // Header injection cannot happen: the client's header section is taken as it is,
    // and an unknown category is refused.
    let data = b"From: events@acme.test\r\nTo: guest@example.test\r\nX-Absender-Category: system\r\nSubject: x\r\n\r\nhi\r\n";
    let e = submit(
        &transport,
        "events@acme.test",
        &["guest@example.test"],
        data,
    )
    .await
    .unwrap_err();
    let (code, text) = refused(e);
    assert_eq!(code, 554);
    assert!(text.contains("X-Absender-Category"), "{text}");

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
        outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["category"] != "booking"),
        "nothing accepted: {outbox}"
    );
}

/// Speaks plain SMTP to see the replies before TLS.
async fn plain_session(app: &TestApp, commands: &[&str]) -> Vec<String> {
    let stream = tokio::net::TcpStream::connect(app.smtp_addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut replies = vec![lines.next_line().await.unwrap().unwrap()];
    for command in commands {
        write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        loop {
            let line = lines.next_line().await.unwrap().unwrap();
            let last = line.as_bytes().get(3) == Some(&b' ');
            replies.push(line);
            if last {
                break;
            }
        }
    }
    replies
}

#[tokio::test]
async fn no_login_no_mail_and_no_login_without_tls() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    use base64::Engine;
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
    let replies = plain_session(
        &app,
        &[
            "EHLO client.test",
            &format!("AUTH PLAIN {plain}"),
            "MAIL FROM:<events@acme.test>",
            "RCPT TO:<guest@example.test>",
            "QUIT",
        ],
    )
    .await;
    assert!(replies[0].starts_with("220 "), "{replies:?}");
    assert!(
        replies.iter().any(|r| r.ends_with("STARTTLS")),
        "{replies:?}"
    );
    assert!(
        !replies.iter().any(|r| r.contains("AUTH PLAIN")),
        "AUTH only after TLS: {replies:?}"
    );
    assert!(
        replies.iter().any(|r| r.starts_with("538 5.7.11")),
        "{replies:?}"
    );
    assert!(
        replies.iter().any(|r| r.starts_with("530 5.7.0")),
        "{replies:?}"
    );

    // A wrong password, and a revoked credential, do not log in.
    let wrong = client(&app, &user, "not-the-password", Mechanism::Plain);
    let e = submit_to(&wrong, "g@example.test", "x").await.unwrap_err();
    assert_eq!(e.status().map(u16::from), Some(535));
}

#[tokio::test]
async fn credentials_are_shown_once_listed_without_password_and_revoked() {
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    let other = app.create_org("Other", "en").await;
    let (id, user, pass) = credential(&app, &org).await;
    assert!(pass.len() >= 40, "256 random bits");
    let list = app
        .json(
            Method::GET,
            "/api/v1/smtp-credentials",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["username"], user.as_str());
    assert_eq!(items[0]["description"], "booking system");
    assert!(items[0].get("password").is_none(), "{list}");
    assert!(!list.to_string().contains(&pass));
    let theirs = app
        .json(
            Method::GET,
            "/api/v1/smtp-credentials",
            Some(&other.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    let not_theirs = app
        .call(
            Method::DELETE,
            &format!("/api/v1/smtp-credentials/{id}"),
            Some(&other.key),
            None,
        )
        .await;
    assert_eq!(not_theirs.status(), StatusCode::NOT_FOUND);
    let operator = app
        .json(
            Method::POST,
            "/api/v1/smtp-credentials",
            Some(ADMIN_KEY),
            Some(json!({})),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(code(&operator), "forbidden");

    let transport = client(&app, &user, &pass, Mechanism::Plain);
    submit_to(&transport, "g@example.test", "x").await.unwrap();
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/smtp-credentials/{id}"),
            Some(&org.key),
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let fresh = client(&app, &user, &pass, Mechanism::Plain);
    let e = submit_to(&fresh, "g@example.test", "x").await.unwrap_err();
    assert_eq!(e.status().map(u16::from), Some(535));
}

#[tokio::test]
async fn swaks_submits_with_starttls_and_auth() {
    let test = "swaks_submits_with_starttls_and_auth";
    if crate::tools::program(test, "swaks", None, "swaks").is_none() {
        return;
    }
    let app = spawn_app().await;
    let (org, _) = acme(&app).await;
    // swaks reads a password that begins with "-" (one in 64 does) as an
    // option, however it is given: such a login is made again.
    let (user, pass) = loop {
        let (_, user, pass) = credential(&app, &org).await;
        if !pass.starts_with('-') {
            break (user, pass);
        }
    };
    let output = tokio::process::Command::new("swaks")
        .args([
            "--server",
            &app.smtp_addr.to_string(),
            "--tls",
            "--auth",
            "LOGIN",
            "--auth-user",
            &user,
            "--from",
            "events@acme.test",
            "--to",
            "guest@example.test",
            "--header",
            "Subject: Ihre Buchung via swaks",
            "--body",
            "Danke!",
        ])
        // Not an argument: a password that starts with "-" reads as an option.
        .env("SWAKS_OPT_auth_password", &pass)
        .output()
        .await
        .expect("swaks runs");
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "swaks {}: {transcript}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let id = transcript
        .lines()
        .find_map(|l| l.split("queued as ").nth(1))
        .unwrap_or_else(|| panic!("{transcript}"))
        .trim()
        .to_string();
    let message: Value = app
        .json(
            Method::GET,
            &format!("/api/v1/messages/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(message["from"], "events@acme.test");
    let raw = raw(&app, &org, &id).await;
    assert!(String::from_utf8_lossy(&raw).contains("Subject: Ihre Buchung via swaks"));
    assert!(
        !transcript.contains(&pass) || transcript.contains("AUTH"),
        "swaks shows base64 only"
    );
}
