//! The SMTP listener against hostile clients: smuggled second messages,
//! overlong lines, crowds, errors, idlers and guessers, and the limits on
//! sessions without login.

use crate::delivery::{relay_config, return_path_of};
use crate::helpers::{TestApp, spawn_with};
use crate::messages::{accepted, acme, booking};
use crate::smtp_sink::SmtpSink;
use crate::smtp_submission::{client, credential, submit};
use lettre::transport::smtp::authentication::Mechanism;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A relay app whose SMTP listener trusts 127.0.0.1 (no login needed), or not.
async fn app_with(
    sink: &SmtpSink,
    trusted: bool,
    tune: impl FnOnce(&mut absender::config::Config),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay_config(sink, 2, dir.path());
    if trusted {
        config.smtp.trusted_clients = vec!["127.0.0.1".parse().unwrap()];
    }
    tune(&mut config);
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    app
}

/// Sends `script` at once (pipelined) and returns every reply line until the
/// server closes the connection.
async fn converse(addr: std::net::SocketAddr, script: &[u8]) -> Vec<String> {
    let mut smtp = TcpStream::connect(addr).await.unwrap();
    smtp.write_all(script).await.unwrap();
    let mut said = String::new();
    tokio::time::timeout(Duration::from_secs(10), smtp.read_to_string(&mut said))
        .await
        .expect("the server ends the session")
        .unwrap();
    said.lines().map(str::to_string).collect()
}

const SECOND: &str = "MAIL FROM:<events@acme.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n\
From: <events@acme.test>\r\nTo: <victim@example.test>\r\nSubject: smuggled\r\n\r\nsmuggled\r\n";

fn transaction(body: &[u8]) -> Vec<u8> {
    let mut script = b"EHLO client.test\r\nMAIL FROM:<events@acme.test>\r\nRCPT TO:<guest@example.test>\r\nDATA\r\n\
From: <events@acme.test>\r\nTo: <guest@example.test>\r\nSubject: first\r\n\r\n"
        .to_vec();
    script.extend_from_slice(body);
    script
}

#[tokio::test]
async fn smuggled_second_messages_are_refused_and_never_delivered() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, true, |_| {}).await;
    acme(&app).await;

    for ending in ["\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r"] {
        let mut body = format!("Hello{ending}{SECOND}").into_bytes();
        body.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
        let said = converse(app.smtp_addr, &transaction(&body)).await;
        assert!(
            said.last().unwrap().starts_with("554 5.6.11"),
            "{ending:?}: {said:?}"
        );
        assert!(
            !said.iter().any(|l| l.starts_with("250 2.0.0")),
            "{ending:?}: nothing queued: {said:?}"
        );
    }
    // A line longer than 998 octets is refused, not split: the dot after
    // 64 KiB ends nothing, and the session goes on in step.
    let mut body = vec![b'a'; 65_536];
    body.extend_from_slice(format!(".\r\n{SECOND}.\r\nQUIT\r\n").as_bytes());
    let said = converse(app.smtp_addr, &transaction(&body)).await;
    let n = said.len();
    assert!(said[n - 2].starts_with("554 5.6.0"), "{said:?}");
    assert!(said[n - 1].starts_with("221"), "{said:?}");

    // A proper message with dot-stuffed lines arrives once, byte for byte.
    let body = b"Hello\r\n..leading dot\r\n..\r\nend\r\n.\r\nQUIT\r\n";
    let said = converse(app.smtp_addr, &transaction(body)).await;
    assert!(said.iter().any(|l| l.starts_with("250 2.0.0")), "{said:?}");
    let got = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.count(), 1, "one message, no smuggled one");
    assert_eq!(got[0].to, ["guest@example.test"]);
    let data = &got[0].data;
    let text = String::from_utf8_lossy(data);
    assert!(
        text.ends_with("\r\n\r\nHello\r\n.leading dot\r\n.\r\nend\r\n"),
        "{text}"
    );
    for (i, b) in data.iter().enumerate() {
        match b {
            b'\n' => assert_eq!(data[i - 1], b'\r', "bare LF at {i}"),
            b'\r' => assert_eq!(data.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            _ => {}
        }
    }
    app.stop().await;
}

/// Connects and reads the greeting.
async fn greeted(addr: std::net::SocketAddr) -> (BufReader<TcpStream>, String) {
    let mut smtp = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let mut greeting = String::new();
    smtp.read_line(&mut greeting).await.unwrap();
    (smtp, greeting)
}

#[tokio::test]
async fn crowds_errors_and_idlers_get_421_and_are_closed() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, false, |c| {
        c.smtp.max_sessions_per_ip = 2;
        c.smtp.idle_timeout = Duration::from_secs(1);
    })
    .await;

    let (first, hello) = greeted(app.smtp_addr).await;
    assert!(hello.starts_with("220"), "{hello}");
    let (mut second, _) = greeted(app.smtp_addr).await;
    let (mut third, refused) = greeted(app.smtp_addr).await;
    assert!(refused.starts_with("421 4.7.0"), "{refused}");
    let mut rest = String::new();
    third.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "", "closed after the 421");
    drop(first);
    let mut admitted = false;
    for _ in 0..40 {
        let (_, hello) = greeted(app.smtp_addr).await;
        if hello.starts_with("220") {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(admitted, "a closed session frees its place");

    // Ten errors end the session.
    second
        .get_mut()
        .write_all("BOGUS\r\n".repeat(12).as_bytes())
        .await
        .unwrap();
    let mut said = String::new();
    second.read_to_string(&mut said).await.unwrap();
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 11, "{said}");
    assert!(lines[10].starts_with("421 4.7.0"), "{said}");

    // An idle client is told why and closed.
    let (mut idle, _) = greeted(app.smtp_addr).await;
    let mut said = String::new();
    tokio::time::timeout(Duration::from_secs(5), idle.read_to_string(&mut said))
        .await
        .expect("closed in time")
        .unwrap();
    assert!(said.starts_with("421 4.4.2"), "{said}");
    app.stop().await;
}

#[tokio::test]
async fn sessions_without_login_take_five_recipients_and_one_mebibyte() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, false, |_| {}).await;
    let (org, _) = acme(&app).await;
    let guests: Vec<String> = (0..6).map(|i| format!("guest{i}@example.test")).collect();
    accepted(&app, &org, booking(json!({"to": guests}))).await;
    sink.wait_for(6).await;
    let paths: Vec<String> = guests.iter().map(|g| return_path_of(&sink, g)).collect();

    let mut script = "EHLO mx.example.test\r\nMAIL FROM:<>\r\n".to_string();
    for path in &paths {
        script.push_str(&format!("RCPT TO:<{path}>\r\n"));
    }
    script.push_str("RSET\r\nMAIL FROM:<> SIZE=2000000\r\nQUIT\r\n");
    let said = converse(app.smtp_addr, script.as_bytes()).await;
    let rcpt: Vec<&String> = said.iter().filter(|l| l.contains("recipient")).collect();
    assert_eq!(rcpt.len(), 6, "{said:?}");
    assert!(rcpt[..5].iter().all(|l| l.starts_with("250")), "{said:?}");
    assert!(rcpt[5].starts_with("452 4.5.3"), "{said:?}");
    assert!(
        said.iter().any(|l| l.starts_with("552 5.3.4")),
        "SIZE beyond 1 MiB: {said:?}"
    );

    let mut script = format!(
        "EHLO mx.example.test\r\nMAIL FROM:<>\r\nRCPT TO:<{}>\r\nDATA\r\n",
        paths[0]
    );
    let line = format!("{}\r\n", "x".repeat(900));
    script.push_str(&line.repeat(1200));
    script.push_str(".\r\nQUIT\r\n");
    let said = converse(app.smtp_addr, script.as_bytes()).await;
    let n = said.len();
    assert!(said[n - 2].starts_with("552 5.3.4"), "{said:?}");
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_slow_an_address_down_but_never_refuse_the_right_password() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, false, |_| {}).await;
    let (org, _) = acme(&app).await;
    let (_, user, password) = credential(&app, &org).await;
    let mail = b"From: <events@acme.test>\r\nTo: <guest@example.test>\r\nSubject: hi\r\n\r\nHi\r\n";
    for _ in 0..5 {
        let wrong = client(&app, &user, "wrong password", Mechanism::Plain);
        let refused = submit(&wrong, "events@acme.test", &["guest@example.test"], mail).await;
        assert!(refused.is_err());
    }
    let right = client(&app, &user, &password, Mechanism::Plain);
    submit(&right, "events@acme.test", &["guest@example.test"], mail)
        .await
        .expect("the right password still gets in");
    sink.wait_for(1).await;
    app.stop().await;
}
