//! Configuration: one TOML file, every key optional, with `ABSENDER_*`
//! environment overrides on top. Validated once at start-up.

use absender_service::Settings;
use absender_service::settings::{
    CheckSettings, ClusterSettings, DeliveryMode, DkimSettings, DnsSettings, LimitSettings,
    PlatformSettings, ReputationSettings, Resolvers, RetentionSettings, SendingSettings,
    SesSettings, VerificationSettings, WebhookSettings,
};
use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything `absender serve` needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Holds the SQLite file and generated keys (`ABSENDER_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of SQLite (`ABSENDER_DATABASE_URL`).
    pub database_url: Option<String>,
    /// The URL people reach absender at, for links in mails (`ABSENDER_PUBLIC_URL`).
    pub public_url: Option<String>,
    /// The operator key (`ABSENDER_ADMIN_KEY`); generated on first start if unset.
    pub admin_key: Option<SecretString>,
    /// Encrypts DKIM private keys (`ABSENDER_MASTER_KEY`); generated into the data dir if unset.
    pub master_key: Option<SecretString>,
    /// The HTTP listener.
    pub http: HttpConfig,
    /// The platform: its name, domain, default senders, DNS names.
    pub platform: PlatformSettings,
    /// Address verification.
    pub verification: VerificationSettings,
    /// absender's DNS server and the DNS checks.
    pub dns: DnsSettings,
    /// When identities are checked and given up.
    pub checks: CheckSettings,
    /// Message limits, the queue and delivery.
    pub sending: SendingSettings,
    /// Abuse limits per organization and per address.
    pub limits: LimitSettings,
    /// How long records are kept.
    pub retention: RetentionSettings,
    /// The SES-compatible API.
    pub ses: SesSettings,
    /// DKIM keys: when they rotate by themselves.
    pub dkim: DkimSettings,
    /// Bounce and complaint rates, and when they pause an organization.
    pub reputation: ReputationSettings,
    /// Webhook delivery.
    pub webhooks: WebhookSettings,
    /// Several nodes on one database: heartbeats, when a node is dead.
    pub cluster: ClusterSettings,
    /// The SMTP submission listener.
    pub smtp: SmtpConfig,
}

/// SMTP submission (STARTTLS, AUTH PLAIN/LOGIN with per-organization credentials).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Address and port; port 0 picks a free one (`ABSENDER_SMTP_LISTEN`).
    pub listen: SocketAddr,
    /// A second listener with TLS from the first byte (RFC 8314, port 465
    /// style), the same logins; none if unset.
    pub listen_tls: Option<SocketAddr>,
    /// The name in the greeting and the generated certificate; the platform domain if unset.
    pub hostname: Option<String>,
    /// PEM certificate chain for STARTTLS; a self-signed one is generated if unset.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Clients (IP addresses) that may submit without login, like Postfix's
    /// `mynetworks`: the organization is the one that verified the sender.
    pub trusted_clients: Vec<std::net::IpAddr>,
    /// Sessions at once; more are greeted with `421 4.7.0` and closed.
    pub max_sessions: usize,
    /// Sessions at once from one address (`trusted_clients` are exempt).
    pub max_sessions_per_ip: usize,
    /// The longest a session may last.
    #[serde(with = "humantime_serde")]
    pub session_timeout: std::time::Duration,
    /// The longest wait for a command or data (RFC 5321 §4.5.3.2: 5 minutes).
    #[serde(with = "humantime_serde")]
    pub idle_timeout: std::time::Duration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        let limits = absender_smtp::SmtpLimits::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 2587)),
            listen_tls: None,
            hostname: None,
            tls_cert: None,
            tls_key: None,
            trusted_clients: Vec::new(),
            max_sessions: limits.max_sessions,
            max_sessions_per_ip: limits.max_sessions_per_ip,
            session_timeout: limits.session_timeout,
            idle_timeout: limits.idle_timeout,
        }
    }
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address and port; port 0 picks a free one (`ABSENDER_HTTP_LISTEN`).
    pub listen: SocketAddr,
    /// Connections at once; more are closed at once.
    pub max_connections: usize,
    /// Connections at once from one client (IPv4 address or IPv6 /64);
    /// more are closed at once; 0: no limit (behind a proxy).
    pub max_connections_per_ip: usize,
    /// The longest a response waits for the client to take more of it.
    #[serde(with = "humantime_serde")]
    pub write_timeout: std::time::Duration,
    /// The longest a client may take to send a request's headers.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: std::time::Duration,
    /// The longest a client may take to send a request's body.
    #[serde(with = "humantime_serde")]
    pub body_timeout: std::time::Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let timeouts = absender_http::HttpTimeouts::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_connections: timeouts.max_connections,
            max_connections_per_ip: timeouts.max_connections_per_ip,
            write_timeout: timeouts.write,
            header_read_timeout: timeouts.header_read,
            body_timeout: timeouts.body,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./absender-data"),
            database_url: None,
            public_url: None,
            admin_key: None,
            master_key: None,
            http: HttpConfig::default(),
            platform: PlatformSettings::default(),
            verification: VerificationSettings::default(),
            dns: DnsSettings::default(),
            checks: CheckSettings::default(),
            sending: SendingSettings::default(),
            limits: LimitSettings::default(),
            retention: RetentionSettings::default(),
            ses: SesSettings::default(),
            dkim: DkimSettings::default(),
            reputation: ReputationSettings::default(),
            webhooks: WebhookSettings::default(),
            cluster: ClusterSettings::default(),
            smtp: SmtpConfig::default(),
        }
    }
}

impl Config {
    /// Reads `file` (if given), then applies the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Self::from_toml(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Parses TOML text; unknown keys are errors.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Applies `ABSENDER_*` overrides read through `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("ABSENDER_DATA_DIR") {
            self.data_dir = dir.into();
        }
        if let Some(url) = var("ABSENDER_DATABASE_URL") {
            self.database_url = Some(url);
        }
        if let Some(listen) = var("ABSENDER_HTTP_LISTEN") {
            self.http.listen = listen.parse().with_context(|| {
                format!("ABSENDER_HTTP_LISTEN={listen:?} is not an address:port")
            })?;
        }
        if let Some(listen) = var("ABSENDER_DNS_LISTEN") {
            self.dns.listen = listen.parse().with_context(|| {
                format!("ABSENDER_DNS_LISTEN={listen:?} is not an address:port")
            })?;
        }
        if let Some(resolvers) = var("ABSENDER_DNS_RESOLVERS") {
            self.dns.resolvers = Resolvers::parse(&resolvers)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("ABSENDER_DNS_RESOLVERS={resolvers:?}"))?;
        }
        if let Some(listen) = var("ABSENDER_SMTP_LISTEN") {
            self.smtp.listen = listen.parse().with_context(|| {
                format!("ABSENDER_SMTP_LISTEN={listen:?} is not an address:port")
            })?;
        }
        if let Some(mode) = var("ABSENDER_DELIVERY_MODE") {
            self.sending.mode = DeliveryMode::parse(&mode)
                .map_err(anyhow::Error::msg)
                .context("ABSENDER_DELIVERY_MODE")?;
        }
        if let Some(relay) = var("ABSENDER_RELAY") {
            let (host, port) = relay
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                .with_context(|| format!("ABSENDER_RELAY={relay:?} is not host:port"))?;
            self.sending.relay.host = host.trim_matches(['[', ']']).to_string();
            self.sending.relay.port = port;
        }
        if let Some(password) = var("ABSENDER_RELAY_PASSWORD") {
            self.sending.relay.password = Some(password.into());
        }
        if let Some(url) = var("ABSENDER_PUBLIC_URL") {
            self.public_url = Some(url);
        }
        if let Some(key) = var("ABSENDER_ADMIN_KEY") {
            self.admin_key = Some(key.into());
        }
        if let Some(key) = var("ABSENDER_MASTER_KEY") {
            self.master_key = Some(key.into());
        }
        Ok(())
    }

    /// The use cases' settings.
    pub fn settings(&self) -> Settings {
        Settings {
            platform: self.platform.clone(),
            verification: self.verification.clone(),
            dns: self.dns.clone(),
            checks: self.checks.clone(),
            sending: self.sending.clone(),
            limits: self.limits.clone(),
            retention: self.retention.clone(),
            ses: self.ses.clone(),
            dkim: self.dkim.clone(),
            reputation: self.reputation.clone(),
            webhooks: self.webhooks.clone(),
            cluster: self.cluster.clone(),
        }
    }

    /// The database URL in force: PostgreSQL if configured, else SQLite in the data dir.
    pub fn database_url(&self) -> String {
        match (&self.database_url, self.sqlite_path()) {
            (Some(url), _) => url.clone(),
            (None, path) => format!("sqlite://{}?mode=rwc", path.unwrap_or_default().display()),
        }
    }

    /// The SQLite file in the data dir, when no other database is configured.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.database_url
            .is_none()
            .then(|| self.data_dir.join("absender.db"))
    }

    /// The public URL for links, given the address the listener got.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use absender_core::Category;
    use std::collections::HashMap;

    #[test]
    fn senders_are_keyed_by_category_and_the_rest_keep_their_defaults() {
        let config =
            Config::from_toml("[platform.senders]\nbooking = \"tickets@platform.test\"\n").unwrap();
        let senders = &config.platform.senders;
        assert_eq!(senders.of(Category::Booking), "tickets@platform.test");
        assert_eq!(senders.of(Category::Invitation), "einladung@absender.test");
        let unknown = Config::from_toml("[platform.senders]\nfax = \"fax@platform.test\"\n");
        let error = unknown
            .expect_err("an unknown category is an error")
            .to_string();
        assert!(error.contains("fax"), "{error}");
    }

    #[test]
    fn an_empty_file_gives_the_embedded_defaults() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.http.listen.to_string(), "127.0.0.1:8080");
        let senders = &config.platform.senders;
        assert_eq!(senders.of(Category::Booking), "buchung@absender.test");
        assert_eq!(senders.of(Category::System), "noreply@absender.test");
        assert_eq!(config.platform.dkim_zone, "dkim.absender.test");
        assert_eq!(config.platform.sending_ips.len(), 2);
        assert_eq!(config.verification.token_ttl.as_secs(), 24 * 3600);
        assert!(
            config
                .database_url()
                .starts_with("sqlite://./absender-data/absender.db")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::from_toml("[platform]\ndomian = \"x.test\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("domian"), "{err:#}");
    }

    #[test]
    fn durations_use_humantime_and_environment_wins_over_file() {
        let mut config = Config::from_toml(
            "[verification]\ntoken_ttl = \"2h\"\n[http]\nlisten = \"127.0.0.1:9000\"\n",
        )
        .unwrap();
        assert_eq!(config.verification.token_ttl.as_secs(), 7200);
        let env: HashMap<&str, &str> = [
            ("ABSENDER_HTTP_LISTEN", "127.0.0.1:0"),
            ("ABSENDER_DATA_DIR", "/tmp/x"),
        ]
        .into();
        config
            .apply_env(|k| env.get(k).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(config.http.listen.port(), 0);
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        let dns: HashMap<&str, &str> =
            [("ABSENDER_DNS_RESOLVERS", "127.0.0.1:5300, 127.0.0.1:5301")].into();
        config
            .apply_env(|k| dns.get(k).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(
            config.dns.resolvers,
            Resolvers::Explicit(vec![
                "127.0.0.1:5300".parse().unwrap(),
                "127.0.0.1:5301".parse().unwrap()
            ])
        );
        let listed = Config::from_toml("[dns]\nresolvers = [\"127.0.0.1:53\"]\n").unwrap();
        assert_eq!(
            listed.dns.resolvers,
            Resolvers::Explicit(vec!["127.0.0.1:53".parse().unwrap()])
        );
        let bad: HashMap<&str, &str> = [("ABSENDER_HTTP_LISTEN", "nonsense")].into();
        assert!(
            config
                .apply_env(|k| bad.get(k).map(|v| v.to_string()))
                .is_err()
        );
    }

    #[test]
    fn every_value_in_the_example_config_is_the_default_it_documents() {
        let text = include_str!("../../../absender.example.toml");
        let example = Config::from_toml(text).unwrap();
        // What the example leaves out is the default anyway: the two agree
        // in everything exactly when every value it sets is the default.
        let (example, default) = (format!("{example:#?}"), format!("{:#?}", Config::default()));
        for (line, (got, want)) in example.lines().zip(default.lines()).enumerate() {
            assert_eq!(
                got, want,
                "line {line} of the parsed example differs from the default"
            );
        }
        assert_eq!(example.lines().count(), default.lines().count());
    }
}
