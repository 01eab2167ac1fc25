//! SMTP submission (RFC 6409) into absender: STARTTLS (RFC 3207), AUTH PLAIN
//! and LOGIN (RFC 4954) with per-organization credentials, then the same
//! sending pipeline as the HTTP API. Replies carry enhanced status codes.

pub mod data;
mod gate;
mod refusal;
mod session;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;

pub use tls::{TlsError, load_pem, self_signed};

use absender_service::App;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How the listener runs.
#[derive(Clone)]
pub struct SmtpSettings {
    /// The name in the greeting and EHLO reply.
    pub hostname: String,
    /// For STARTTLS.
    pub tls: Arc<rustls::ServerConfig>,
    /// Clients that may submit without login; the organization is then the
    /// one that verified the envelope sender. Empty by default.
    pub trusted_clients: Vec<IpAddr>,
    pub limits: SmtpLimits,
}

/// What one client, and all of them together, may take of the listener.
#[derive(Debug, Clone)]
pub struct SmtpLimits {
    /// Sessions at once (`421 4.7.0` beyond).
    pub max_sessions: usize,
    /// Sessions at once from one address; trusted clients are exempt.
    pub max_sessions_per_ip: usize,
    /// The longest a session may last.
    pub session_timeout: Duration,
    /// The longest wait for a command or a piece of data (RFC 5321 §4.5.3.2: 5 minutes).
    pub idle_timeout: Duration,
    /// Error replies before the session is closed.
    pub max_errors: u32,
    /// Failed logins before the session is closed.
    pub max_auth_failures: u32,
    /// The largest message a session without login may send (bounce reports, unsubscribe mails).
    pub inbound_max_bytes: usize,
    /// Recipients of one message in a session without login.
    pub inbound_max_recipients: usize,
}

impl Default for SmtpLimits {
    fn default() -> Self {
        Self {
            max_sessions: 1000,
            max_sessions_per_ip: 50,
            session_timeout: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(300),
            max_errors: 10,
            max_auth_failures: 3,
            inbound_max_bytes: 1 << 20,
            inbound_max_recipients: 5,
        }
    }
}

/// Serves one SMTP session on any byte stream (an in-memory pipe in tests
/// and fuzzing) as if it came from `peer`. The listener's shared limits
/// (sessions at once, the login backoff) are not applied; the session's own are.
#[cfg(feature = "testing")]
pub async fn serve_stream<S>(stream: S, peer: SocketAddr, settings: Arc<SmtpSettings>, app: App)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let gate = gate::Gate::new(settings.limits.clone());
    session::serve(stream, peer, settings, app, gate).await;
}

/// Greets a session over a limit with `421` and closes it (RFC 5321 §3.1).
async fn turn_away(mut socket: tokio::net::TcpStream) {
    let bye = b"421 4.7.0 too many connections; try again later\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.write_all(bye)).await;
    let _ = socket.shutdown().await;
}

/// A running listener.
pub struct SmtpServer {
    local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// Binds `listen` and serves sessions (STARTTLS offered) until stopped.
    pub async fn start(
        listen: SocketAddr,
        settings: SmtpSettings,
        app: App,
    ) -> std::io::Result<Self> {
        Self::start_in(listen, settings, app, false).await
    }

    /// Binds `listen` and serves sessions over TLS from the first byte
    /// (RFC 8314, port 465 style) until stopped.
    pub async fn start_implicit_tls(
        listen: SocketAddr,
        settings: SmtpSettings,
        app: App,
    ) -> std::io::Result<Self> {
        Self::start_in(listen, settings, app, true).await
    }

    async fn start_in(
        listen: SocketAddr,
        settings: SmtpSettings,
        app: App,
        implicit_tls: bool,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let gate = gate::Gate::new(settings.limits.clone());
        let settings = Arc::new(settings);
        let task = tokio::spawn(async move {
            tokio::pin!(stopped);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, peer)) => {
                            let trusted = settings.trusted_clients.contains(&peer.ip());
                            let Ok(admitted) = gate.admit(peer.ip(), trusted).inspect_err(|crowded| {
                                tracing::info!(peer = %peer, ?crowded, "SMTP session refused: too many");
                                app.metrics().smtp_session("crowded");
                            }) else {
                                tokio::spawn(turn_away(socket));
                                continue;
                            };
                            let _ = socket.set_nodelay(true);
                            let (settings, app, gate) = (settings.clone(), app.clone(), gate.clone());
                            tokio::spawn(async move {
                                // Reads end at the session's deadline; this bounds
                                // what they don't cover (a client that stops
                                // reading our replies, a stalled TLS handshake).
                                let bound = settings.limits.session_timeout + Duration::from_secs(5);
                                if implicit_tls {
                                    let session = session::serve_implicit_tls(socket, peer, settings, app, gate);
                                    let _ = tokio::time::timeout(bound, session).await;
                                } else {
                                    let session = session::serve(socket, peer, settings, app, gate);
                                    let _ = tokio::time::timeout(bound, session).await;
                                }
                                drop(admitted);
                            });
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "SMTP accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                    },
                }
            }
        });
        Ok(Self {
            local_addr,
            stop,
            task,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting; sessions in progress finish on their own.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
