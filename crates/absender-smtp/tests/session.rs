//! The SMTP session over an in-memory stream (`tokio::io::duplex`): what a
//! client's bytes get back, with no socket in between. Pipelining, long
//! lines, STARTTLS with commands sent ahead of the handshake, the smuggling
//! payloads and the per-session limits.

use absender_smtp::SmtpLimits;
use absender_smtp::testing::{RETURN_PATH, harness};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Sends `script` at once and returns the reply lines until the server closes.
async fn converse(h: &absender_smtp::testing::Harness, script: &[u8]) -> Vec<String> {
    let mut client = h.connect();
    client.write_all(script).await.unwrap();
    read_all(&mut client).await
}

async fn read_all<S: AsyncRead + Unpin>(stream: &mut S) -> Vec<String> {
    let mut said = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut said))
        .await
        .expect("the session ends")
        .unwrap();
    String::from_utf8_lossy(&said)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Reads one reply (all its lines) from `stream`.
async fn reply<S: AsyncRead + Unpin>(stream: &mut S) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        stream.read_exact(&mut byte).await.unwrap();
        got.push(byte[0]);
        if got.ends_with(b"\r\n") {
            let text = String::from_utf8_lossy(&got).into_owned();
            let last = text.trim_end().rsplit("\r\n").next().unwrap().to_string();
            if last.as_bytes().get(3) == Some(&b' ') {
                return text;
            }
        }
    }
}

fn codes(said: &[String]) -> Vec<&str> {
    said.iter()
        .filter(|l| l.as_bytes().get(3) == Some(&b' '))
        .map(|l| &l[..3])
        .collect()
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let h = harness(SmtpLimits::default()).await;
    let said = converse(
        &h,
        b"EHLO client.test\r\nNOOP\r\nRSET\r\nVRFY x\r\nNOOP\r\nQUIT\r\n",
    )
    .await;
    assert_eq!(
        codes(&said),
        ["220", "250", "250", "250", "252", "250", "221"],
        "{said:?}"
    );
    assert!(said.iter().any(|l| l.contains("PIPELINING")));
}

#[tokio::test]
async fn a_command_line_too_long_ends_the_session() {
    let h = harness(SmtpLimits::default()).await;
    let mut script = b"NOOP ".to_vec();
    script.extend(vec![b'x'; 5000]);
    script.extend_from_slice(b"\r\nNOOP\r\n");
    let said = converse(&h, &script).await;
    assert_eq!(codes(&said), ["220", "500"], "{said:?}");
}

/// A bounce-report transaction (no login needed) whose data is `body`.
fn report(body: &[u8]) -> Vec<u8> {
    let mut script =
        format!("EHLO mx.test\r\nMAIL FROM:<>\r\nRCPT TO:<{RETURN_PATH}>\r\nDATA\r\n").into_bytes();
    script.extend_from_slice(body);
    script
}

#[tokio::test]
async fn smuggling_payloads_are_refused_and_the_rest_is_never_read_as_commands() {
    let h = harness(SmtpLimits::default()).await;
    let second = "MAIL FROM:<>\r\nRCPT TO:<x@y.test>\r\nDATA\r\nsmuggled\r\n";
    for ending in ["\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r"] {
        let body = format!("Subject: x\r\n\r\nhi{ending}{second}\r\n.\r\nNOOP\r\n");
        let said = converse(&h, &report(body.as_bytes())).await;
        assert_eq!(
            codes(&said),
            ["220", "250", "250", "250", "354", "554"],
            "{ending:?}: {said:?}"
        );
        assert!(said.last().unwrap().starts_with("554 5.6.11"), "{said:?}");
    }
}

#[tokio::test]
async fn a_data_line_over_998_octets_is_refused_and_the_session_stays_in_step() {
    let h = harness(SmtpLimits::default()).await;
    let mut body = b"Subject: x\r\n\r\n".to_vec();
    body.extend(vec![b'y'; 999]);
    body.extend_from_slice(b"\r\n.\r\nNOOP\r\nQUIT\r\n");
    let said = converse(&h, &report(&body)).await;
    assert_eq!(
        codes(&said),
        ["220", "250", "250", "250", "354", "554", "250", "221"],
        "{said:?}"
    );

    // 998 octets fit, and stuffed dots are fine.
    let mut body = b"Subject: x\r\n\r\n..dot\r\n".to_vec();
    body.extend(vec![b'y'; 998]);
    body.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
    let said = converse(&h, &report(&body)).await;
    assert_eq!(
        codes(&said),
        ["220", "250", "250", "250", "354", "250", "221"],
        "{said:?}"
    );
}

#[tokio::test]
async fn sessions_without_login_take_five_recipients_and_one_mebibyte() {
    let h = harness(SmtpLimits::default()).await;
    let mut script = "EHLO mx.test\r\nMAIL FROM:<>\r\n".to_string();
    for _ in 0..6 {
        script.push_str(&format!("RCPT TO:<{RETURN_PATH}>\r\n"));
    }
    script.push_str("QUIT\r\n");
    let said = converse(&h, script.as_bytes()).await;
    assert_eq!(
        codes(&said),
        [
            "220", "250", "250", "250", "250", "250", "250", "250", "452", "221"
        ],
        "{said:?}"
    );
    let mut body = b"Subject: x\r\n\r\n".to_vec();
    for _ in 0..1100 {
        body.extend(vec![b'z'; 998]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\nQUIT\r\n");
    let said = converse(&h, &report(&body)).await;
    assert!(said.iter().any(|l| l.starts_with("552 5.3.4")), "{said:?}");
}

#[tokio::test]
async fn ten_errors_or_an_idle_client_end_the_session_with_421() {
    let h = harness(SmtpLimits {
        idle_timeout: Duration::from_millis(300),
        ..SmtpLimits::default()
    })
    .await;
    let said = converse(&h, "BOGUS\r\n".repeat(12).as_bytes()).await;
    assert_eq!(said.len(), 12, "greeting, ten errors, the 421: {said:?}");
    assert!(said[11].starts_with("421 4.7.0"), "{said:?}");

    let mut idle = h.connect();
    let said = read_all(&mut idle).await;
    assert!(said[1].starts_with("421 4.4.2"), "{said:?}");
}

#[tokio::test]
async fn auth_needs_tls_and_commands_sent_ahead_of_the_handshake_are_dropped() {
    // A certificate the client can trust.
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let mut h = harness(SmtpLimits::default()).await;
    Arc::get_mut(&mut h.settings).unwrap().tls = absender_smtp::load_pem(&cert, &key).unwrap();

    let said = converse(&h, b"EHLO c.test\r\nAUTH PLAIN AGEAYg==\r\nQUIT\r\n").await;
    assert!(said.iter().any(|l| l.starts_with("538 5.7.11")), "{said:?}");

    let mut client = h.connect();
    assert!(reply(&mut client).await.starts_with("220"));
    // STARTTLS with a command pipelined after it in plain text (RFC 3207:
    // the server must not act on it).
    client
        .write_all(b"EHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<>\r\n")
        .await
        .unwrap();
    assert!(reply(&mut client).await.starts_with("250"));
    assert!(reply(&mut client).await.starts_with("220 2.0.0"));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, client).await.unwrap();
    // The MAIL FROM sent before the handshake was dropped: MAIL now needs EHLO.
    tls.write_all(b"MAIL FROM:<>\r\n").await.unwrap();
    assert!(reply(&mut tls).await.starts_with("503 5.5.1"));
    tls.write_all(b"EHLO c.test\r\n").await.unwrap();
    let ehlo = reply(&mut tls).await;
    assert!(
        ehlo.contains("AUTH PLAIN LOGIN") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    tls.write_all(b"QUIT\r\n").await.unwrap();
    assert!(reply(&mut tls).await.starts_with("221"));
}
