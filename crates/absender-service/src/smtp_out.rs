//! Talking SMTP to receiving servers (lettre): one pooled transport per
//! destination, so that several messages share a session, and a limit on
//! connections to each destination.

use crate::settings::{RelaySettings, SendingSettings, TlsMode};
use absender_core::delivery::Attempt;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{AsyncSmtpTransport, PoolConfig};
use lettre::{Address, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// One place mail is handed to.
pub(crate) struct Destination {
    pub name: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// At most `per_destination` transactions at once.
    slots: Semaphore,
}

/// The destinations this node talks to, made on first use.
pub(crate) struct Destinations {
    settings: SendingSettings,
    helo: String,
    known: Mutex<HashMap<String, Arc<Destination>>>,
}

impl Destinations {
    pub fn new(settings: SendingSettings, helo: String) -> Self {
        Self {
            settings,
            helo,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The smarthost of relay mode.
    pub fn relay(&self) -> Result<Arc<Destination>, String> {
        let relay = &self.settings.relay;
        let key = format!("relay:{}:{}", relay.host, relay.port);
        self.get_or_make(key, || self.relay_transport(relay))
    }

    /// An MX host at one of its addresses: STARTTLS when offered, without
    /// certificate checks (as MTAs do; a failed check would only mean plain text).
    pub fn mx(&self, host: &str, ip: IpAddr) -> Result<Arc<Destination>, String> {
        let addr = SocketAddr::new(ip, self.settings.mx_port);
        let key = format!("mx:{host}@{addr}");
        self.get_or_make(key, || {
            let tls = TlsParameters::builder(host.to_string())
                .dangerous_accept_invalid_certs(true)
                .dangerous_accept_invalid_hostnames(true)
                .build_rustls()
                .map_err(|e| e.to_string())?;
            Ok(self.builder(ip.to_string(), addr.port(), Tls::Opportunistic(tls)))
        })
    }

    fn relay_transport(
        &self,
        relay: &RelaySettings,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let params = || {
            TlsParameters::builder(relay.host.clone())
                .dangerous_accept_invalid_certs(relay.accept_invalid_certs)
                .dangerous_accept_invalid_hostnames(relay.accept_invalid_certs)
                .build_rustls()
                .map_err(|e| e.to_string())
        };
        let tls = match relay.tls {
            TlsMode::None => Tls::None,
            TlsMode::Opportunistic => Tls::Opportunistic(params()?),
            TlsMode::Required => Tls::Required(params()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
            .port(relay.port)
            .hello_name(ClientId::Domain(self.helo.clone()))
            .timeout(Some(self.settings.timeout))
            .tls(tls)
            .pool_config(self.pool());
        if let (Some(user), Some(password)) = (&relay.username, &relay.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_string(),
            ));
        }
        Ok(builder.build())
    }

    fn builder(&self, server: String, port: u16, tls: Tls) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
            .port(port)
            .hello_name(ClientId::Domain(self.helo.clone()))
            .timeout(Some(self.settings.timeout))
            .tls(tls)
            .pool_config(self.pool())
            .build()
    }

    fn pool(&self) -> PoolConfig {
        PoolConfig::new()
            .max_size(u32::try_from(self.settings.per_destination).unwrap_or(u32::MAX))
            .idle_timeout(Duration::from_secs(30))
    }

    fn get_or_make(
        &self,
        key: String,
        make: impl FnOnce() -> Result<AsyncSmtpTransport<Tokio1Executor>, String>,
    ) -> Result<Arc<Destination>, String> {
        let mut known = self.known.lock().expect("destinations lock");
        if let Some(found) = known.get(&key) {
            return Ok(found.clone());
        }
        let made = Arc::new(Destination {
            transport: make()?,
            slots: Semaphore::new(self.settings.per_destination.max(1)),
            name: key.clone(),
        });
        known.insert(key, made.clone());
        Ok(made)
    }
}

impl Destination {
    /// One SMTP transaction: MAIL FROM `from`, RCPT TO `to`, DATA `raw`.
    pub async fn send(&self, from: &str, to: &str, raw: &[u8]) -> Attempt {
        let envelope = match (from.parse::<Address>(), to.parse::<Address>()) {
            (Ok(from), Ok(to)) => Envelope::new(Some(from), vec![to]),
            _ => {
                return Attempt::Refused {
                    code: 553,
                    reply: format!("5.1.3 {to} cannot be written in an SMTP envelope"),
                };
            }
        };
        let Ok(envelope) = envelope else {
            return Attempt::Refused {
                code: 553,
                reply: "5.1.3 bad envelope".into(),
            };
        };
        let _slot = self.slots.acquire().await.expect("never closed");
        match self.transport.send_raw(&envelope, raw).await {
            Ok(response) => Attempt::Accepted {
                reply: format!(
                    "{} {}",
                    u16::from(response.code()),
                    response.message().collect::<Vec<_>>().join(" ")
                ),
            },
            Err(err) => match err.status() {
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
        }
    }
}
