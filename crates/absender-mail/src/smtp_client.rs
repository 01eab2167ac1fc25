//! Talking SMTP to receiving servers (MX hosts or the relay) with lettre's
//! connection type. absender keeps its own pool per destination: idle sessions are reused for the next
//! message (connection reuse), at most `per_destination` sessions are open at
//! once, and sockets are opened by absender with TCP_NODELAY (lettre writes
//! the message and its final dot separately, which Nagle's algorithm would
//! hold back for a delayed ACK, about 40 ms a message).

use absender_core::delivery::Attempt;
use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Idle sessions older than this are closed rather than reused.
const MAX_IDLE: Duration = Duration::from_secs(30);
/// Idle sessions older than this are asked (NOOP) whether they still work.
const TRUST_IDLE: Duration = Duration::from_secs(2);

/// Whether an SMTP connection uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Plain text only.
    None,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// STARTTLS or fail (and try again later).
    Required,
    /// TLS from the first byte (RFC 8314; a smarthost on port 465).
    Implicit,
}

/// The smarthost of relay mode.
#[derive(Debug, Clone)]
pub struct Relay {
    /// Host name or IP address.
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Accept a certificate that does not verify (a self-signed relay).
    pub accept_invalid_certs: bool,
    /// AUTH user name and password, if the relay wants a login.
    pub login: Option<(String, SecretString)>,
}

/// How this node talks to receiving servers.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The name absender greets with (EHLO).
    pub helo: String,
    /// How long one command may wait for its reply.
    pub timeout: Duration,
    /// At most this many sessions to one destination at once.
    pub per_destination: usize,
    /// How long a message waits for a session to an MX destination before
    /// it goes back to the queue.
    pub slot_wait: Duration,
    /// The port MX hosts are reached on (25; tests point it at a local server).
    pub mx_port: u16,
    pub relay: Relay,
}

/// How to reach one place mail is handed to.
#[derive(Clone)]
struct Route {
    addr: SocketAddr,
    /// The name for TLS (SNI, certificate).
    tls_name: String,
    tls: TlsMode,
    accept_invalid_certs: bool,
    credentials: Option<Credentials>,
}

/// One place mail is handed to, with its idle sessions.
pub struct Destination {
    pub name: String,
    route: Route,
    helo: ClientId,
    timeout: Duration,
    /// How long a message waits for a slot before it goes back to the
    /// queue; none for the relay (all mail goes there: nothing to make room for).
    slot_wait: Option<Duration>,
    /// At most `per_destination` sessions at once.
    slots: Semaphore,
    idle: Mutex<Vec<(Instant, AsyncSmtpConnection)>>,
}

/// The destinations this node talks to, made on first use.
pub struct Destinations {
    settings: PoolSettings,
    known: Mutex<HashMap<String, Arc<Destination>>>,
}

impl Destinations {
    pub fn new(settings: PoolSettings) -> Self {
        Self {
            settings,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The smarthost of relay mode (resolved by the system when a name).
    pub async fn relay(&self) -> Result<Arc<Destination>, String> {
        let relay = &self.settings.relay;
        let key = format!("relay:{}:{}", relay.host, relay.port);
        if let Some(found) = self.known.lock().expect("destinations lock").get(&key) {
            return Ok(found.clone());
        }
        let addr = tokio::net::lookup_host((relay.host.as_str(), relay.port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| format!("the relay {}:{} has no address", relay.host, relay.port))?;
        let credentials = relay.login.as_ref().map(|(user, password)| {
            Credentials::new(user.clone(), password.expose_secret().to_string())
        });
        // A password never crosses the wire in plain text: with a login,
        // "opportunistic" means "required".
        let tls = match relay.tls {
            TlsMode::Opportunistic if credentials.is_some() => TlsMode::Required,
            other => other,
        };
        Ok(self.get_or_make(
            key,
            None,
            Route {
                addr,
                tls_name: relay.host.clone(),
                tls,
                accept_invalid_certs: relay.accept_invalid_certs,
                credentials,
            },
        ))
    }

    /// An MX host at one of its addresses: STARTTLS when offered, without
    /// certificate checks (as MTAs do; a failed check would only mean plain text).
    pub fn mx(&self, host: &str, ip: IpAddr) -> Arc<Destination> {
        let addr = SocketAddr::new(ip, self.settings.mx_port);
        self.get_or_make(
            format!("mx:{host}@{addr}"),
            Some(self.settings.slot_wait),
            Route {
                addr,
                tls_name: host.to_string(),
                tls: TlsMode::Opportunistic,
                accept_invalid_certs: true,
                credentials: None,
            },
        )
    }

    fn get_or_make(
        &self,
        key: String,
        slot_wait: Option<Duration>,
        route: Route,
    ) -> Arc<Destination> {
        let mut known = self.known.lock().expect("destinations lock");
        known
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Destination {
                    name: key,
                    route,
                    helo: ClientId::Domain(self.settings.helo.clone()),
                    timeout: self.settings.timeout,
                    slot_wait,
                    slots: Semaphore::new(self.settings.per_destination.max(1)),
                    idle: Mutex::new(Vec::new()),
                })
            })
            .clone()
    }
}

impl Destination {
    /// A new session: connect, EHLO, STARTTLS as the route says, AUTH if configured.
    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let route = &self.route;
        let params = || {
            TlsParameters::builder(route.tls_name.clone())
                .dangerous_accept_invalid_certs(route.accept_invalid_certs)
                .dangerous_accept_invalid_hostnames(route.accept_invalid_certs)
                .build_rustls()
                .map_err(|e| e.to_string())
        };
        let mut connection = if route.tls == TlsMode::Implicit {
            // lettre opens this socket itself (without TCP_NODELAY).
            AsyncSmtpConnection::connect_tokio1(
                route.addr,
                Some(self.timeout),
                &self.helo,
                Some(params()?),
                None,
            )
            .await
            .map_err(|e| format!("{}: {e}", self.name))?
        } else {
            let stream = tokio::time::timeout(self.timeout, TcpStream::connect(route.addr))
                .await
                .map_err(|_| format!("{}: connection timed out", self.name))?
                .map_err(|e| format!("{}: {e}", self.name))?;
            let _ = stream.set_nodelay(true);
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.helo)
                .await
                .map_err(|e| format!("{}: {e}", self.name))?
        };
        let wants_tls = match route.tls {
            TlsMode::None | TlsMode::Implicit => false,
            TlsMode::Opportunistic => connection.can_starttls(),
            TlsMode::Required => true,
        };
        if wants_tls {
            if !connection.can_starttls() {
                connection.abort().await;
                return Err(format!(
                    "{}: offers no STARTTLS, and absender talks to it only over TLS{}",
                    self.name,
                    if route.credentials.is_some() {
                        " (its login would cross the wire in plain text)"
                    } else {
                        ""
                    }
                ));
            }
            connection
                .starttls(params()?, &self.helo)
                .await
                .map_err(|e| format!("{}: STARTTLS failed: {e}", self.name))?;
        }
        if let Some(credentials) = &route.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| format!("{}: AUTH failed: {e}", self.name))?;
        }
        Ok(connection)
    }

    /// An idle session that still works, or a new one.
    async fn session(&self) -> Result<AsyncSmtpConnection, String> {
        loop {
            let reused = self.idle.lock().expect("idle lock").pop();
            let Some((since, mut connection)) = reused else {
                return self.connect().await;
            };
            let age = since.elapsed();
            if age > MAX_IDLE {
                let _ = tokio::time::timeout(self.timeout, connection.abort()).await;
                continue;
            }
            if age <= TRUST_IDLE || connection.test_connected().await {
                return Ok(connection);
            }
        }
    }

    /// A session slot here, waiting at most the destination's `slot_wait`;
    /// `None` when that passed (the message goes back to the queue).
    pub async fn reserve(&self) -> Option<Reserved<'_>> {
        let slot = match self.slot_wait {
            Some(wait) => tokio::time::timeout(wait, self.slots.acquire())
                .await
                .ok()?,
            None => self.slots.acquire().await,
        }
        .expect("never closed");
        Some(Reserved {
            destination: self,
            _slot: slot,
        })
    }

    /// A session slot here if one is free now.
    pub fn try_reserve(&self) -> Option<Reserved<'_>> {
        let slot = self.slots.try_acquire().ok()?;
        Some(Reserved {
            destination: self,
            _slot: slot,
        })
    }
}

/// A session slot at a destination, held until the transaction ends.
pub struct Reserved<'a> {
    destination: &'a Destination,
    _slot: tokio::sync::SemaphorePermit<'a>,
}

impl Reserved<'_> {
    /// One SMTP transaction: MAIL FROM `from`, RCPT TO `to`, DATA `raw`.
    /// The slot is held already; a worker of the node's `workers` is taken
    /// only now, so a message waiting for a busy destination holds no worker
    /// that mail to other destinations could use. DATA is sent only if
    /// `still_ours()` says so right before (the delivery's lease).
    pub async fn send(
        self,
        from: &str,
        to: &str,
        raw: &[u8],
        workers: &Semaphore,
        still_ours: &(dyn Fn() -> bool + Sync),
    ) -> Attempt {
        let envelope = match (from.parse::<Address>(), to.parse::<Address>()) {
            (Ok(from), Ok(to)) => Envelope::new(Some(from), vec![to]).ok(),
            _ => None,
        };
        let Some(envelope) = envelope else {
            return Attempt::Refused {
                code: 553,
                reply: format!("5.1.3 <{to}> cannot be written in an SMTP envelope"),
            };
        };
        if !still_ours() {
            return Attempt::Fenced;
        }
        let _worker = workers.acquire().await.expect("never closed");
        self.destination.transact(&envelope, raw, still_ours).await
    }
}

impl Destination {
    /// A session (reused or new) and one transaction on it.
    async fn transact(
        &self,
        envelope: &Envelope,
        raw: &[u8],
        still_ours: &(dyn Fn() -> bool + Sync),
    ) -> Attempt {
        // The greeting, EHLO, STARTTLS and AUTH each wait for a reply: a
        // server that accepts and then says nothing holds no slot for ever.
        let mut connection = match tokio::time::timeout(self.timeout * 3, self.session()).await {
            Ok(Ok(c)) => c,
            Ok(Err(reason)) => return Attempt::Unreachable { reason },
            Err(_) => {
                return Attempt::Unreachable {
                    reason: format!("{}: no greeting in time", self.name),
                };
            }
        };
        let result = tokio::time::timeout(
            self.timeout * 5,
            transaction(
                &mut connection,
                envelope,
                &crate::wire::for_data(raw),
                still_ours,
            ),
        )
        .await;
        // A session whose transaction ended cleanly serves the next message.
        let reusable = matches!(result, Ok(Ok(_)));
        let attempt = match result {
            Err(_) => Attempt::Unreachable {
                reason: format!("{}: no answer in time", self.name),
            },
            Ok(Ok(Ended::Fenced)) => Attempt::Fenced,
            Ok(Ok(Ended::Unsupported(reason))) => Attempt::Unreachable {
                reason: format!("{}: {reason}", self.name),
            },
            Ok(Ok(Ended::Sent(response))) => Attempt::Accepted {
                reply: format!(
                    "{} {}",
                    u16::from(response.code()),
                    response.message().collect::<Vec<_>>().join(" ")
                ),
            },
            Ok(Err(err)) => match err.status() {
                Some(code) => Attempt::Refused {
                    code: u16::from(code),
                    reply: std::error::Error::source(&err)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                },
                None => Attempt::Unreachable {
                    reason: format!("{}: {err}", self.name),
                },
            },
        };
        if !connection.has_broken() && reusable {
            self.idle
                .lock()
                .expect("idle lock")
                .push((Instant::now(), connection));
        }
        attempt
    }
}

/// How a transaction ended without an SMTP error.
enum Ended {
    /// The reply to the end of DATA.
    Sent(Response),
    /// The lease ended before DATA: reset, nothing sent.
    Fenced,
    /// The receiver lacks an extension the message needs (as lettre refuses).
    Unsupported(&'static str),
}

/// What lettre's `send` does (MAIL with the SMTPUTF8 and 8BITMIME
/// parameters the message needs, RCPT, DATA, the message), with a fence
/// before DATA: when `still_ours()` says no, the transaction is reset and
/// the message stays unsent.
async fn transaction(
    connection: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    data: &[u8],
    still_ours: &(dyn Fn() -> bool + Sync),
) -> Result<Ended, lettre::transport::smtp::Error> {
    let server = connection.server_info();
    let mut options = Vec::new();
    let non_ascii_address = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a: &Address| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii_address {
        if !server.supports_feature(Extension::SmtpUtfEight) {
            return Ok(Ended::Unsupported(
                "the envelope has non-ASCII addresses but the receiver does not offer SMTPUTF8",
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !data.is_ascii() {
        if !server.supports_feature(Extension::EightBitMime) {
            return Ok(Ended::Unsupported(
                "the message has non-ASCII bytes but the receiver does not offer 8BITMIME",
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    // A failed command leaves the session in an unknown state: closed, as lettre does.
    let steps = async {
        connection
            .command(Mail::new(envelope.from().cloned(), options))
            .await?;
        for to in envelope.to() {
            connection.command(Rcpt::new(to.clone(), vec![])).await?;
        }
        if !still_ours() {
            // Whatever the receiver says to RSET, nothing was sent: a bad
            // reply only ends the session.
            if connection.command(Rset).await.is_err() {
                connection.abort().await;
            }
            return Ok(Ended::Fenced);
        }
        connection.command(Data).await?;
        connection.message(data).await.map(Ended::Sent)
    };
    let result = steps.await;
    if result.is_err() {
        connection.abort().await;
    }
    result
}
