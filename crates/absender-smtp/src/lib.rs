//! SMTP submission (RFC 6409) into absender: STARTTLS (RFC 3207), AUTH PLAIN
//! and LOGIN (RFC 4954) with per-organization credentials, then the same
//! sending pipeline as the HTTP API. Replies carry enhanced status codes.

mod session;
mod tls;

pub use tls::{TlsError, load_pem, self_signed};

use absender_service::App;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
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
}

/// A running listener.
pub struct SmtpServer {
    local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// Binds `listen` and serves sessions until stopped.
    pub async fn start(
        listen: SocketAddr,
        settings: SmtpSettings,
        app: App,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let settings = Arc::new(settings);
        let task = tokio::spawn(async move {
            tokio::pin!(stopped);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, peer)) => {
                            let (settings, app) = (settings.clone(), app.clone());
                            tokio::spawn(async move {
                                session::serve(socket, peer, settings, app).await;
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
