//! The platform's settings that the use cases need: who the platform is, its
//! default senders, its DNS names, the verification policy. Every key has a
//! default, so the embedded demo runs without a config file.

use absender_core::Category;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Settings of the use cases (the binary adds listeners and storage).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The platform and its DNS names.
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
    /// DKIM keys.
    pub dkim: DkimSettings,
    /// Bounce and complaint rates, and when they pause an organization.
    pub reputation: ReputationSettings,
    /// Webhook delivery.
    pub webhooks: WebhookSettings,
    /// Several nodes on one database: heartbeats and when a node is dead.
    pub cluster: ClusterSettings,
}

/// Several nodes on one database (`[cluster]`). Every node registers and
/// beats; a node silent for `dead_after` is declared dead by another, which
/// frees the work it held at once (instead of when its leases run out).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// How often a node writes its heartbeat and looks for dead nodes.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// A node whose last heartbeat is older than this is dead.
    #[serde(with = "humantime_serde")]
    pub dead_after: Duration,
}

impl ClusterSettings {
    /// Refuses a heartbeat that cannot keep a node alive: shorter than
    /// 100 ms, or `dead_after` shorter than three heartbeats (nodes would
    /// declare each other dead between two beats).
    pub fn check(&self) -> Result<(), crate::ServiceError> {
        let three = self.heartbeat.checked_mul(3).unwrap_or(Duration::MAX);
        if self.heartbeat < Duration::from_millis(100) || self.dead_after < three {
            return Err(crate::ServiceError::Invalid {
                field: "cluster.heartbeat",
                message: "must be at least 100ms, and cluster.dead_after at least three heartbeats"
                    .into(),
            });
        }
        Ok(())
    }
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(2),
            dead_after: Duration::from_secs(10),
        }
    }
}

/// Webhook delivery (`[webhooks]`): at least once, retried with
/// exponential backoff.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// The wait after the first failed attempt; it doubles each time.
    #[serde(with = "humantime_serde")]
    pub first_retry: Duration,
    /// The longest wait between attempts.
    #[serde(with = "humantime_serde")]
    pub max_retry: Duration,
    /// An event is given up this long after it happened, and a destination
    /// that has failed this long is disabled.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// How long one attempt may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How often the dispatcher looks for due deliveries.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Targets on special-purpose addresses (loopback, private networks)
    /// are refused unless this is set (tests).
    pub allow_private_targets: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(3600),
            max_age: Duration::from_secs(3 * 24 * 3600),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
            allow_private_targets: false,
        }
    }
}

/// Reputation as SES enforces it (`[reputation]`): bounce and complaint
/// rates over a window of recent sends; over a review rate an organization
/// is on probation, over a pause rate its sending is paused.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReputationSettings {
    /// Recent sends the rates weigh.
    pub window: i64,
    /// Sends before the rates count at all.
    pub min_sample: i64,
    pub review_bounce_rate: f64,
    pub pause_bounce_rate: f64,
    pub review_complaint_rate: f64,
    pub pause_complaint_rate: f64,
    /// The feedback loops whose reports count toward reputation when they
    /// come by SMTP: a report must carry a passing DKIM signature of one of
    /// these domains (or a subdomain). Others still suppress their recipient.
    /// Reports the operator posts (`/api/v1/inbound/arf`) always count.
    pub complaint_reporters: Vec<String>,
}

impl Default for ReputationSettings {
    /// SES's thresholds.
    fn default() -> Self {
        Self {
            window: 10_000,
            min_sample: 100,
            review_bounce_rate: 0.05,
            pause_bounce_rate: 0.10,
            review_complaint_rate: 0.001,
            pause_complaint_rate: 0.005,
            complaint_reporters: Vec::new(),
        }
    }
}

/// DKIM keys (`[dkim]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DkimSettings {
    /// A domain's keys rotate by themselves when its newest is this old.
    #[serde(with = "humantime_serde")]
    pub rotate_after: Duration,
}

impl Default for DkimSettings {
    fn default() -> Self {
        Self {
            rotate_after: Duration::from_secs(180 * 24 * 60 * 60),
        }
    }
}

/// The SES-compatible API (`[ses]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SesSettings {
    /// The region SigV4 credentials must be scoped to; `"*"` takes any.
    pub region: String,
    /// With `region = "*"`: the regions whose SES SMTP password is taken
    /// (an SMTP password names no region, so each is tried).
    pub smtp_regions: Vec<String>,
}

impl Default for SesSettings {
    fn default() -> Self {
        Self {
            region: "eu-central-1".into(),
            smtp_regions: [
                "us-east-1",
                "us-east-2",
                "us-west-1",
                "us-west-2",
                "ca-central-1",
                "eu-central-1",
                "eu-central-2",
                "eu-west-1",
                "eu-west-2",
                "eu-west-3",
                "eu-north-1",
                "eu-south-1",
                "ap-south-1",
                "ap-northeast-1",
                "ap-northeast-2",
                "ap-northeast-3",
                "ap-southeast-1",
                "ap-southeast-2",
                "ap-southeast-3",
                "sa-east-1",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// How long things are kept (`[retention]`); a sweep deletes older ones in
/// small batches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Captured mail in the outbox.
    #[serde(with = "humantime_serde")]
    pub outbox: Duration,
    /// Redacted copies of secret-bearing mail (relay and MX mode).
    #[serde(with = "humantime_serde")]
    pub redacted: Duration,
    /// Records of finished messages and their deliveries.
    #[serde(with = "humantime_serde")]
    pub messages: Duration,
    /// Identity events.
    #[serde(with = "humantime_serde")]
    pub events: Duration,
    /// How often the sweep runs.
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Self {
            outbox: Duration::from_secs(30 * DAY),
            redacted: Duration::from_secs(7 * DAY),
            messages: Duration::from_secs(30 * DAY),
            events: Duration::from_secs(365 * DAY),
            sweep_interval: Duration::from_secs(600),
        }
    }
}

/// Abuse limits (`[limits]`): over one, a request is answered 429
/// `rate_limited` with `Retry-After`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Identity requests per organization within any hour.
    pub identity_requests_per_hour: u32,
    /// Identities one organization may have.
    pub identities_per_org: u32,
    /// Verification mails to one address within any 24 hours, across all
    /// organizations, counted even when the identity is deleted and
    /// requested again.
    pub verification_mails_per_address: u32,
    /// New organizations start in SES's sandbox (only to their own
    /// verified addresses, 200 messages a day) until the operator grants
    /// production access.
    pub sandbox_by_default: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            identity_requests_per_hour: 20,
            identities_per_org: 100,
            verification_mails_per_address: 5,
            sandbox_by_default: false,
        }
    }
}

/// How accepted mail leaves absender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// Keep the final message in the outbox (a built-in mail catcher): nothing leaves the machine.
    Capture,
    /// Hand every message to one smarthost.
    Relay,
    /// Deliver to each recipient domain's MX hosts.
    Mx,
}

impl DeliveryMode {
    /// Parses `capture`, `relay` or `mx`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "capture" => Ok(Self::Capture),
            "relay" => Ok(Self::Relay),
            "mx" => Ok(Self::Mx),
            other => Err(format!("{other:?} is not capture, relay or mx")),
        }
    }
}

pub use absender_mail::smtp_client::TlsMode;

/// The smarthost of `relay` mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelaySettings {
    /// Host name or IP address (`ABSENDER_RELAY` takes `host:port`).
    pub host: String,
    pub port: u16,
    /// AUTH user name, if the relay wants one.
    pub username: Option<String>,
    /// AUTH password (`ABSENDER_RELAY_PASSWORD`).
    pub password: Option<secrecy::SecretString>,
    pub tls: TlsMode,
    /// Accept a certificate that does not verify (a relay with a self-signed certificate).
    pub accept_invalid_certs: bool,
}

impl SendingSettings {
    /// What the SMTP client pool needs of these settings; `helo` is the name
    /// absender greets with.
    pub fn pool(&self, helo: String) -> absender_mail::smtp_client::PoolSettings {
        let relay = &self.relay;
        absender_mail::smtp_client::PoolSettings {
            helo,
            timeout: self.timeout,
            per_destination: self.per_destination,
            slot_wait: self.slot_wait,
            mx_port: self.mx_port,
            relay: absender_mail::smtp_client::Relay {
                host: relay.host.clone(),
                port: relay.port,
                tls: relay.tls,
                accept_invalid_certs: relay.accept_invalid_certs,
                login: relay.username.clone().zip(relay.password.clone()),
            },
        }
    }
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            username: None,
            password: None,
            tls: TlsMode::Opportunistic,
            accept_invalid_certs: false,
        }
    }
}

/// Message limits, the queue and delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SendingSettings {
    /// `capture` (default), `relay` or `mx` (`ABSENDER_DELIVERY_MODE`).
    pub mode: DeliveryMode,
    pub relay: RelaySettings,
    /// The port MX hosts are reached on (25; tests point it at a local server).
    pub mx_port: u16,
    /// The name absender greets with (EHLO); the platform domain if unset.
    pub helo_name: Option<String>,
    /// The most recipients of one message (to, cc and bcc together).
    pub max_recipients: usize,
    /// Add the platform's own signature to customers' mail (a second d=).
    pub platform_signature: bool,
    /// The largest signed message, in bytes.
    pub max_message_bytes: usize,
    /// SMTP transactions at once, over all destinations.
    pub workers: usize,
    /// Connections at once to one destination (a relay, or an MX host).
    pub per_destination: usize,
    /// Deliveries a node holds in memory at once.
    pub in_flight: usize,
    /// How long a delivery waits for a free session to its destination
    /// before it gives its place in memory back and returns to the queue
    /// (not counted as an attempt): a slow destination's backlog cannot
    /// keep the mail to every other destination out of memory.
    #[serde(with = "humantime_serde")]
    pub slot_wait: Duration,
    /// The wait after the first temporary failure; doubled after each further one.
    #[serde(with = "humantime_serde")]
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    #[serde(with = "humantime_serde")]
    pub max_retry: Duration,
    /// A message not delivered within this bounces.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// How long a worker holds a delivery before another may take it up.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// How often the queue looks for due retries when nothing wakes it.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long one SMTP command may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// In MX mode, deliver to mail exchangers at special-purpose addresses
    /// (loopback, private, link-local; RFC 6890). Off: a recipient's DNS
    /// must not steer absender into its own network. Tests switch it on.
    pub allow_private_targets: bool,
}

impl Default for SendingSettings {
    fn default() -> Self {
        Self {
            mode: DeliveryMode::Capture,
            relay: RelaySettings::default(),
            mx_port: 25,
            helo_name: None,
            platform_signature: true,
            max_recipients: 50,
            max_message_bytes: 10 * 1024 * 1024,
            workers: 64,
            per_destination: 8,
            in_flight: 2000,
            slot_wait: Duration::from_secs(30),
            first_retry: Duration::from_secs(60),
            max_retry: Duration::from_secs(3600),
            max_age: Duration::from_secs(3 * 24 * 3600),
            lease: Duration::from_secs(300),
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(60),
            allow_private_targets: false,
        }
    }
}

/// The DNS check schedule and deadlines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckSettings {
    /// A pending identity not verified within this turns FAILED.
    #[serde(with = "humantime_serde")]
    pub verify_within: Duration,
    /// A broken identity not repaired within this turns FAILED.
    #[serde(with = "humantime_serde")]
    pub repair_within: Duration,
    /// How often a verified identity is checked again.
    #[serde(with = "humantime_serde")]
    pub recheck_interval: Duration,
    /// How many identities are checked at once.
    pub concurrency: usize,
    /// How long one identity's check may take in all; then it ends as
    /// `dns_timeout` (temporary) and is tried again later.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for CheckSettings {
    fn default() -> Self {
        Self {
            verify_within: Duration::from_secs(72 * 3600),
            repair_within: Duration::from_secs(72 * 3600),
            recheck_interval: Duration::from_secs(24 * 3600),
            concurrency: 64,
            timeout: Duration::from_secs(15),
        }
    }
}

/// absender's DNS server and how it checks customers' records.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSettings {
    /// Where the authoritative server listens, UDP and TCP (`ABSENDER_DNS_LISTEN`).
    pub listen: SocketAddr,
    /// The resolvers that find customers' name servers (`ABSENDER_DNS_RESOLVERS`).
    pub resolvers: Resolvers,
    /// The name server named in the platform zones' SOA and NS records.
    pub nameserver: String,
    /// The zones' administrator mailbox, written as a DNS name.
    pub hostmaster: String,
    /// How long one DNS question of a check may take (each is tried twice).
    #[serde(with = "humantime_serde")]
    pub query_timeout: Duration,
    /// How long the DNS server may reuse an answer. Writes on this node are seen
    /// at once regardless; other nodes' writes within this time. `0s`: never.
    #[serde(with = "humantime_serde")]
    pub answer_cache_ttl: Duration,
    /// Response rate limiting: identical UDP responses a second per client
    /// network (/24, /56), as NSD and BIND do; `0`: off.
    pub rrl: u32,
}

/// Which resolvers the DNS client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolvers {
    /// The machine's (`/etc/resolv.conf`).
    System,
    /// Only absender's own DNS server: names outside its zones are not found.
    /// For development, demos and tests, where nothing may leave the machine.
    Local,
    /// Exactly these; no query goes to any other server found by them
    /// unless it is one of them.
    Explicit(Vec<SocketAddr>),
}

impl Resolvers {
    /// Parses `system`, `local` or a comma-separated list of `ip:port`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("system") {
            return Ok(Self::System);
        }
        if text.eq_ignore_ascii_case("local") {
            return Ok(Self::Local);
        }
        let list = text
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<SocketAddr>()
                    .map_err(|_| format!("{s:?} is not ip:port"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            return Err("name at least one resolver, or system, or local".into());
        }
        Ok(Self::Explicit(list))
    }
}

impl<'de> Deserialize<'de> for Resolvers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            List(Vec<String>),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text,
            Raw::List(list) => list.join(","),
        };
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5353)),
            resolvers: Resolvers::System,
            nameserver: "ns1.absender.test".into(),
            hostmaster: "hostmaster.absender.test".into(),
            query_timeout: Duration::from_secs(2),
            answer_cache_ttl: Duration::from_secs(1),
            rrl: 200,
        }
    }
}

/// Who the platform is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformSettings {
    /// Display name used in mails and pages.
    pub name: String,
    /// The platform's own domain.
    pub domain: String,
    /// Default sender per category.
    pub senders: Senders,
    /// The zone absender serves DKIM keys from; customers' CNAMEs point here.
    pub dkim_zone: String,
    /// The domain customers include in their SPF record.
    pub spf_domain: String,
    /// The IPs the platform sends from; SPF must authorize them.
    pub sending_ips: Vec<IpAddr>,
    /// Whom organizations ask for the custom-sender upgrade.
    pub upgrade_contact: String,
    /// The host that receives bounces: custom MAIL FROM domains point their MX here.
    pub bounce_host: String,
}

/// Default sender addresses, one per mail category (`[platform.senders]`,
/// keyed by the category's name); a category the config leaves out keeps
/// its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Senders(BTreeMap<Category, String>);

impl Senders {
    /// The configured sender of `category`.
    pub fn of(&self, category: Category) -> &str {
        &self.0[&category]
    }

    /// Every category with its sender.
    pub fn iter(&self) -> impl Iterator<Item = (Category, &str)> {
        self.0.iter().map(|(c, s)| (*c, s.as_str()))
    }
}

impl<'de> Deserialize<'de> for Senders {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let given = BTreeMap::<Category, String>::deserialize(deserializer)?;
        let mut senders = Senders::default();
        senders.0.extend(given);
        Ok(senders)
    }
}

/// How address verification behaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerificationSettings {
    /// How long a verification link works.
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// The least time between two verification mails for one identity.
    #[serde(with = "humantime_serde")]
    pub resend_interval: Duration,
    /// The most verification mails for one identity within 24 hours.
    pub resend_daily_limit: u32,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        Self {
            name: "absender".into(),
            domain: "absender.test".into(),
            senders: Senders::default(),
            dkim_zone: "dkim.absender.test".into(),
            spf_domain: "spf.absender.test".into(),
            sending_ips: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            ],
            upgrade_contact: "upgrade@absender.test".into(),
            bounce_host: "bounce.absender.test".into(),
        }
    }
}

impl Default for Senders {
    fn default() -> Self {
        let local_part = |category| match category {
            Category::Booking => "buchung",
            Category::Invitation => "einladung",
            Category::AccountNotification => "konto",
            Category::System => "noreply",
        };
        Self(
            Category::ALL
                .into_iter()
                .map(|c| (c, format!("{}@absender.test", local_part(c))))
                .collect(),
        )
    }
}

impl Default for VerificationSettings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(24 * 60 * 60),
            resend_interval: Duration::from_secs(60),
            resend_daily_limit: 10,
        }
    }
}
