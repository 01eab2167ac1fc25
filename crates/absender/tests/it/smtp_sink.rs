//! A real SMTP server on 127.0.0.1 for the tests: it records what it
//! receives and answers each recipient as told (accept, 4xx, 5xx, or drop
//! the connection at the end of DATA without answering). It can also offer
//! STARTTLS and demand AUTH PLAIN, like a smarthost.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the sink answers a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Accept,
    /// This reply line (code and text) to RCPT TO.
    Refuse(String),
    /// Close the connection after the message data, without a reply.
    Drop,
    /// Accept RCPT TO only after this wait (a receiver slow before DATA).
    AcceptAfter(Duration),
}

/// One message the sink took.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    connections: usize,
    /// Answers by recipient; others are accepted.
    answers: HashMap<String, Reply>,
    /// How long the end of DATA waits for its reply (a slow receiver).
    delay: Duration,
    /// RCPT TO commands per recipient (attempts, whether or not they finish).
    rcpt_seen: HashMap<String, usize>,
    /// Longer waits before answering messages to these recipients.
    slow_recipients: HashMap<String, Duration>,
    /// The reply to the end of DATA, when not the usual one.
    data_reply: Option<String>,
    /// Messages that arrived over TLS, and the user names that logged in.
    over_tls: usize,
    logins: Vec<String>,
    /// AUTH commands received, over TLS or not.
    auth_lines: usize,
    /// RSET commands received (a transaction given up before DATA).
    resets: usize,
    /// Notices from absender itself (From: the platform's system sender).
    system: Vec<Received>,
}

fn is_system_mail(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let headers = text.split("\r\n\r\n").next().unwrap_or("");
    headers
        .lines()
        .any(|l| l.starts_with("From:") && l.contains("noreply@absender.test"))
}

/// A required login, for a sink that plays a smarthost.
#[derive(Clone)]
struct Smarthost {
    tls: Arc<rustls::ServerConfig>,
    user: String,
    password: String,
    mode: HostMode,
}

/// How a smarthost offers TLS.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HostMode {
    /// STARTTLS, and AUTH only after it.
    StartTls,
    /// AUTH in plain text, no STARTTLS (a badly set up relay).
    PlainAuth,
    /// TLS from the first byte (port 465).
    Implicit,
}

/// A running sink; stops with the test's runtime.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A sink that offers STARTTLS (a self-signed certificate) and takes mail
    /// only after TLS and AUTH PLAIN with `user` and `password`.
    pub async fn smarthost(user: &str, password: &str) -> Self {
        Self::smarthost_with(user, password, HostMode::StartTls).await
    }

    /// A smarthost that offers AUTH without STARTTLS.
    pub async fn plain_auth_smarthost(user: &str, password: &str) -> Self {
        Self::smarthost_with(user, password, HostMode::PlainAuth).await
    }

    /// A smarthost that speaks TLS from the first byte.
    pub async fn implicit_tls_smarthost(user: &str, password: &str) -> Self {
        Self::smarthost_with(user, password, HostMode::Implicit).await
    }

    async fn smarthost_with(user: &str, password: &str, mode: HostMode) -> Self {
        Self::start_with(Some(Smarthost {
            tls: absender_smtp::self_signed("localhost").unwrap(),
            user: user.into(),
            password: password.into(),
            mode,
        }))
        .await
    }

    async fn start_with(smarthost: Option<Smarthost>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                state.lock().unwrap().connections += 1;
                let smarthost = smarthost.clone();
                tokio::spawn(async move {
                    if let Some(host) = smarthost.as_ref().filter(|h| h.mode == HostMode::Implicit)
                    {
                        let acceptor = tokio_rustls::TlsAcceptor::from(host.tls.clone());
                        if let Ok(tls) = acceptor.accept(socket).await {
                            let _ = session(tls, state, Some(host), true, true).await;
                        }
                        return;
                    }
                    let upgrade =
                        session(socket, state.clone(), smarthost.as_ref(), false, true).await;
                    if let (Ok(Some(socket)), Some(host)) = (upgrade, &smarthost) {
                        let acceptor = tokio_rustls::TlsAcceptor::from(host.tls.clone());
                        if let Ok(tls) = acceptor.accept(socket).await {
                            let _ = session(tls, state, Some(host), true, false).await;
                        }
                    }
                });
            }
        });
        Self { addr, state }
    }

    /// From now on, answer `recipient` so.
    pub fn answer(&self, recipient: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .answers
            .insert(recipient.to_string(), reply);
    }

    /// From now on, take this long to answer each message.
    pub fn slow_down(&self, per_message: Duration) {
        self.state.lock().unwrap().delay = per_message;
    }

    /// How many attempts named `recipient` (RCPT TO), finished or not.
    pub fn attempts_for(&self, recipient: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .rcpt_seen
            .get(recipient)
            .copied()
            .unwrap_or(0)
    }

    /// From now on, take this long to answer a message to `recipient`.
    pub fn slow_for(&self, recipient: &str, wait: Duration) {
        self.state
            .lock()
            .unwrap()
            .slow_recipients
            .insert(recipient.to_string(), wait);
    }

    /// From now on, answer the end of each message with this line.
    pub fn answer_data(&self, reply: &str) {
        self.state.lock().unwrap().data_reply = Some(reply.to_string());
    }

    /// RSET commands received so far.
    pub fn resets(&self) -> usize {
        self.state.lock().unwrap().resets
    }

    pub fn count(&self) -> usize {
        self.state.lock().unwrap().received.len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// How many of absender's own notices arrived.
    pub fn system_mail(&self) -> usize {
        self.state.lock().unwrap().system.len()
    }

    /// absender's own notices that arrived (verification links among them).
    pub fn system_received(&self) -> Vec<Received> {
        self.state.lock().unwrap().system.clone()
    }

    /// Messages that came over TLS, and who logged in.
    pub fn secured(&self) -> (usize, Vec<String>) {
        let s = self.state.lock().unwrap();
        (s.over_tls, s.logins.clone())
    }

    /// How many AUTH commands arrived (a password among them), over TLS or not.
    pub fn auth_commands(&self) -> usize {
        self.state.lock().unwrap().auth_lines
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Waits (up to 20 s) until `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the sink got {} messages, not {n}", self.received().len());
    }
}

fn angle(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_string()
}

/// Serves one session; returns the plain stream when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    socket: S,
    state: Arc<Mutex<State>>,
    smarthost: Option<&Smarthost>,
    tls: bool,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut lines = BufReader::new(socket);
    if greet {
        lines
            .get_mut()
            .write_all(b"220 sink.test ESMTP\r\n")
            .await?;
    }
    let mut logged_in = false;
    let (mut from, mut to, mut drop_after_data) = (String::new(), Vec::new(), false);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            match (smarthost.map(|h| h.mode), tls) {
                (Some(HostMode::PlainAuth), _) | (Some(_), true) => {
                    "250-sink.test\r\n250-AUTH PLAIN\r\n250 SIZE 52428800".into()
                }
                (Some(_), false) => "250-sink.test\r\n250-STARTTLS\r\n250 SIZE 52428800".into(),
                (None, _) => "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 52428800".into(),
            }
        } else if upper == "STARTTLS"
            && smarthost.is_some_and(|h| h.mode == HostMode::StartTls)
            && !tls
        {
            lines.get_mut().write_all(b"220 2.0.0 go ahead\r\n").await?;
            return Ok(Some(lines.into_inner()));
        } else if upper.starts_with("AUTH") {
            state.lock().unwrap().auth_lines += 1;
            if !tls && smarthost.is_none_or(|h| h.mode != HostMode::PlainAuth) {
                "503 5.5.1 no AUTH here".into()
            } else {
                use base64::Engine;
                let host = smarthost.expect("AUTH only on a smarthost");
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(command.get(11..).unwrap_or_default().trim())
                    .unwrap_or_default();
                let expected = format!("\0{}\0{}", host.user, host.password);
                if decoded == expected.as_bytes() {
                    logged_in = true;
                    state.lock().unwrap().logins.push(host.user.clone());
                    "235 2.7.0 ok".into()
                } else {
                    "535 5.7.8 bad credentials".into()
                }
            }
        } else if upper.starts_with("MAIL FROM:") && smarthost.is_some() && !logged_in {
            "530 5.7.0 authentication required".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = angle(&command[10..]);
            to.clear();
            drop_after_data = false;
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = angle(&command[8..]);
            *state
                .lock()
                .unwrap()
                .rcpt_seen
                .entry(rcpt.clone())
                .or_default() += 1;
            let answer = state.lock().unwrap().answers.get(&rcpt).cloned();
            match answer.unwrap_or(Reply::Accept) {
                Reply::Accept => {
                    to.push(rcpt);
                    "250 2.1.5 ok".into()
                }
                Reply::Refuse(text) => text,
                Reply::Drop => {
                    to.push(rcpt);
                    drop_after_data = true;
                    "250 2.1.5 ok".into()
                }
                Reply::AcceptAfter(wait) => {
                    tokio::time::sleep(wait).await;
                    to.push(rcpt);
                    "250 2.1.5 ok".into()
                }
            }
        } else if upper == "DATA" {
            lines.get_mut().write_all(b"354 go ahead\r\n").await?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(None);
                }
                if line == ".\r\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.extend_from_slice(unstuffed.as_bytes());
            }
            if drop_after_data {
                return Ok(None);
            }
            let delay = {
                let s = state.lock().unwrap();
                to.iter()
                    .filter_map(|r| s.slow_recipients.get(r).copied())
                    .fold(s.delay, Duration::max)
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if tls {
                state.lock().unwrap().over_tls += 1;
            }
            let mail = Received {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            };
            // absender's own notices (verification links, status mails) are
            // delivered too; the tests look at the organizations' mail apart.
            if is_system_mail(&mail.data) {
                state.lock().unwrap().system.push(mail);
            } else {
                state.lock().unwrap().received.push(mail);
            }
            let data_reply = state.lock().unwrap().data_reply.clone();
            data_reply.unwrap_or_else(|| "250 2.0.0 queued as sink".into())
        } else if upper == "RSET" || upper == "NOOP" {
            if upper == "RSET" {
                to.clear();
                state.lock().unwrap().resets += 1;
            }
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            lines.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(None);
        } else {
            "502 5.5.2 not implemented".into()
        };
        lines
            .get_mut()
            .write_all(format!("{reply}\r\n").as_bytes())
            .await?;
    }
}
