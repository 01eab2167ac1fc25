//! A real SMTP server on 127.0.0.1 for the tests: it records what it
//! receives and answers each recipient as told (accept, 4xx, 5xx, or drop
//! the connection at the end of DATA without answering).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the sink answers a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Accept,
    /// This reply line (code and text) to RCPT TO.
    Refuse(String),
    /// Close the connection after the message data, without a reply.
    Drop,
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
}

/// A running sink; stops with the test's runtime.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                state.lock().unwrap().connections += 1;
                tokio::spawn(async move {
                    let _ = session(socket, state).await;
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

    pub fn count(&self) -> usize {
        self.state.lock().unwrap().received.len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
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

async fn session(socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to, mut drop_after_data) = (String::new(), Vec::new(), false);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 52428800".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = angle(&command[10..]);
            to.clear();
            drop_after_data = false;
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = angle(&command[8..]);
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
            }
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.extend_from_slice(unstuffed.as_bytes());
            }
            if drop_after_data {
                return Ok(());
            }
            let delay = state.lock().unwrap().delay;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            state.lock().unwrap().received.push(Received {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            });
            "250 2.0.0 queued as sink".into()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 not implemented".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}
