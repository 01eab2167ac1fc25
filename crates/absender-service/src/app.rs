//! The application state: one value built in `main` and shared by every interface.

use crate::metrics::Metrics;
use crate::secrets::{hash_secret, new_admin_key};
use crate::sending::queue::Queue;
use crate::sending::signing::KeyCache;
use crate::{Clock, MasterKey, ServiceError, Settings};
use absender_core::rate_limit::ResendPolicy;
use absender_core::{Domain, EmailAddress, PlatformDns};
use absender_dns::DnsClient;
use absender_mail::smtp_client::Destinations;
use absender_store::{OrgRow, Store};
use std::sync::Arc;
use tokio::sync::Notify;

const ADMIN_KEY_HASH_SETTING: &str = "admin_key_hash";

/// Who is calling: the operator, or one organization.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The platform operator (admin key).
    Operator,
    /// An organization (its API key, UI session or SMTP login).
    Org(Organization),
}

/// An organization as interfaces hold it: what they may show and ask, not
/// how the store keeps it.
#[derive(Debug, Clone)]
pub struct Organization {
    /// Boxed: a caller is passed around by value, and the row is large.
    pub(crate) row: Box<OrgRow>,
    /// Signed in with an SES access key: may use the API, not make keys.
    by_access_key: bool,
}

impl Organization {
    pub(crate) fn new(row: OrgRow) -> Self {
        Self {
            row: Box::new(row),
            by_access_key: false,
        }
    }

    /// An organization whose SES access key signed the request.
    pub(crate) fn signed_by_access_key(row: OrgRow) -> Self {
        Self {
            row: Box::new(row),
            by_access_key: true,
        }
    }

    /// Its id (`org_…`).
    pub fn id(&self) -> &str {
        &self.row.id
    }

    /// Its name, as people know it.
    pub fn name(&self) -> &str {
        &self.row.name
    }

    /// The language it is written to in.
    pub fn locale(&self) -> absender_core::Locale {
        absender_core::Locale::parse(&self.row.locale).unwrap_or_default()
    }

    /// Where notices go.
    pub fn contact_email(&self) -> &str {
        &self.row.contact_email
    }

    /// Whether the platform enabled custom sender addresses for it.
    pub fn custom_sender_enabled(&self) -> bool {
        self.row.custom_sender_enabled
    }
}

/// Cheap to clone; every clone shares the same state.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// This node's name on the leases it takes (deliveries and checks).
    pub node: String,
    pub store: Store,
    pub settings: Settings,
    pub platform_dns: PlatformDns,
    /// The platform's sender per category, parsed at start.
    pub senders: DefaultSenders,
    pub public_url: String,
    pub resend_policy: ResendPolicy,
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub admin_key_hash: String,
    pub dns_client: DnsClient,
    /// Wakes the check scheduler when a check is due at once.
    pub wake_checks: Notify,
    /// Wakes the webhook dispatcher (an event waits).
    pub(crate) wake_webhooks: Notify,
    /// The HTTP client for webhook destinations.
    pub(crate) webhook_client: reqwest::Client,
    /// The platform's SNS signing key, once read or made.
    pub(crate) sns_signer: tokio::sync::OnceCell<Arc<crate::events::sns::SnsSigner>>,
    pub queue: Queue,
    pub metrics: Metrics,
    pub signing_keys: KeyCache,
    pub sender_cache: crate::sending::submission::SenderCache,
    /// Send-rate buckets and 24-hour counts per organization.
    pub(crate) quotas: crate::sending::quotas::Quotas,
    /// Bounds DKIM key generation (CPU-bound) across all requests.
    pub key_generation: tokio::sync::Semaphore,
    /// Cancelled when the server begins to stop: checks in flight end at once.
    pub stopping: tokio_util::sync::CancellationToken,
    /// Cancelled when another node declared this one dead: the server stops.
    pub(crate) declared_dead: tokio_util::sync::CancellationToken,
    /// When this node's last heartbeat that was written had been sent.
    pub(crate) last_beat: std::sync::Mutex<std::time::Instant>,
}

impl App {
    /// Sender identities: requests, views, verification.
    pub fn identities(&self) -> crate::Identities<'_> {
        crate::Identities { app: self }
    }

    /// DNS checks of identities.
    pub fn checks(&self) -> crate::Checks<'_> {
        crate::Checks { app: self }
    }

    /// Accepting mail: messages, SMTP submission, signing, send settings, outbox.
    pub fn sending(&self) -> crate::Sending<'_> {
        crate::Sending { app: self }
    }

    /// The delivery queue's workers.
    pub fn delivery(&self) -> crate::Delivery<'_> {
        crate::Delivery { app: self }
    }

    /// Bounces, suppressions, unsubscribes.
    pub fn suppressions(&self) -> crate::Suppressions<'_> {
        crate::Suppressions { app: self }
    }

    /// Organizations, SMTP credentials, UI sessions.
    pub fn access(&self) -> crate::Access<'_> {
        crate::Access { app: self }
    }

    /// Local zones and the platform's records.
    pub fn zones(&self) -> crate::Zones<'_> {
        crate::Zones { app: self }
    }

    /// Email templates.
    pub fn templates(&self) -> crate::Templates<'_> {
        crate::Templates { app: self }
    }

    /// This node among the others: heartbeat, dead nodes, the list.
    pub fn cluster(&self) -> crate::Cluster<'_> {
        crate::Cluster { app: self }
    }

    /// The SES v2 API's operations.
    pub fn ses(&self) -> crate::Ses<'_> {
        crate::Ses { app: self }
    }

    /// Builds the state; fails when a setting does not parse.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        settings: Settings,
        public_url: &str,
        master_key: MasterKey,
        admin_key_hash: String,
        clock: Arc<dyn Clock>,
        dns_client: DnsClient,
    ) -> Result<Self, ServiceError> {
        let domain = |field: &'static str, value: &str| {
            Domain::parse(value).map_err(|source| ServiceError::InvalidAddress { field, source })
        };
        let platform_dns = PlatformDns {
            dkim_zone: domain("platform.dkim_zone", &settings.platform.dkim_zone)?,
            spf_domain: domain("platform.spf_domain", &settings.platform.spf_domain)?,
            bounce_host: domain("platform.bounce_host", &settings.platform.bounce_host)?,
        };
        domain("platform.domain", &settings.platform.domain)?;
        let senders = DefaultSenders::parse(&settings.platform.senders)?;
        EmailAddress::parse(&settings.platform.upgrade_contact).map_err(|source| {
            ServiceError::InvalidAddress {
                field: "platform.upgrade_contact",
                source,
            }
        })?;
        store.set_reputation_window(settings.reputation.window);
        let webhook_client = crate::events::dispatch::client(&settings.webhooks);
        let check_timeout = settings.checks.timeout;
        if check_timeout < std::time::Duration::from_millis(100)
            || check_timeout > crate::CHECK_LEASE / 2
        {
            return Err(ServiceError::Invalid {
                field: "checks.timeout",
                message: format!(
                    "must be between 100ms and {}s (half of a check's lease)",
                    (crate::CHECK_LEASE / 2).as_secs()
                ),
            });
        }
        settings.cluster.check()?;
        if settings.sending.slot_wait < std::time::Duration::from_millis(100) {
            return Err(ServiceError::Invalid {
                field: "sending.slot_wait",
                message: "must be at least 100ms".into(),
            });
        }
        let relay = &settings.sending.relay;
        if relay.tls == crate::settings::TlsMode::None
            && (relay.username.is_some() || relay.password.is_some())
        {
            return Err(ServiceError::Invalid {
                field: "sending.relay.tls",
                message:
                    "a relay login is sent only over TLS: use opportunistic, required or implicit"
                        .into(),
            });
        }
        let resend_policy = ResendPolicy {
            min_interval: settings.verification.resend_interval,
            daily_limit: settings.verification.resend_daily_limit,
        };
        let helo = settings
            .sending
            .helo_name
            .clone()
            .unwrap_or_else(|| settings.platform.domain.clone());
        // This node's name on the leases it takes, new at every start, so
        // that a restarted node is another owner.
        let node = crate::secrets::new_id("node");
        let queue = Queue::start(
            store.clone(),
            settings.sending.workers,
            Destinations::new(settings.sending.pool(helo)),
            node.clone(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                node,
                queue,
                metrics: Metrics::default(),
                signing_keys: KeyCache::default(),
                sender_cache: Default::default(),
                quotas: Default::default(),
                store,
                platform_dns,
                senders,
                public_url: public_url.trim_end_matches('/').to_string(),
                resend_policy,
                settings,
                clock,
                master_key,
                admin_key_hash,
                dns_client,
                wake_checks: Notify::new(),
                wake_webhooks: Notify::new(),
                webhook_client,
                sns_signer: tokio::sync::OnceCell::new(),
                key_generation: tokio::sync::Semaphore::new(
                    crate::identity::limits::KEY_GENERATIONS_AT_ONCE,
                ),
                stopping: tokio_util::sync::CancellationToken::new(),
                declared_dead: tokio_util::sync::CancellationToken::new(),
                last_beat: std::sync::Mutex::new(std::time::Instant::now()),
            }),
        })
    }

    /// Tells work in flight that the server is stopping: DNS checks end at
    /// once (their leases are released), so that a stop takes no longer than
    /// the slowest request that is not a check.
    pub fn begin_stop(&self) {
        self.inner.stopping.cancel();
    }

    /// The store behind the app.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// This process's counters and histograms.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The settings in force.
    /// Where people reach absender (links in mails, the web UI's cookies).
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The platform's sender per category.
    pub fn default_senders(&self) -> &DefaultSenders {
        &self.inner.senders
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Identifies the holder of `key` (without the `Bearer ` prefix).
    pub async fn authenticate(&self, key: &str) -> Result<Caller, ServiceError> {
        let hash = hash_secret(key);
        if constant_time_eq(hash.as_bytes(), self.inner.admin_key_hash.as_bytes()) {
            return Ok(Caller::Operator);
        }
        match self
            .inner
            .store
            .org_by_key_hash(&hash, self.now_ms())
            .await?
        {
            Some(org) => Ok(Caller::Org(Organization::new(org))),
            None => Err(ServiceError::Unauthorized),
        }
    }

    /// The hash of the operator key. With `configured` (ABSENDER_ADMIN_KEY) that
    /// key is used; otherwise the stored one, or a new key is generated, stored as
    /// a hash and returned once so that the caller can print it.
    pub async fn admin_key_hash(
        store: &Store,
        configured: Option<&str>,
    ) -> Result<(String, Option<String>), ServiceError> {
        if let Some(key) = configured {
            return Ok((hash_secret(key), None));
        }
        if let Some(hash) = store.setting(ADMIN_KEY_HASH_SETTING).await? {
            return Ok((hash, None));
        }
        let key = new_admin_key();
        let hash = hash_secret(&key);
        if store
            .insert_setting_if_absent(ADMIN_KEY_HASH_SETTING, &hash)
            .await?
        {
            Ok((hash, Some(key)))
        } else {
            // Another node stored one first: use that.
            let hash = store
                .setting(ADMIN_KEY_HASH_SETTING)
                .await?
                .ok_or_else(|| ServiceError::Internal("admin key vanished".into()))?;
            Ok((hash, None))
        }
    }
}

/// Compares without an early exit, so timing tells nothing about the key.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

impl Caller {
    /// Refuses a rotated-out key in its grace period: it keeps the API
    /// working while a platform switches over, and may do nothing that would
    /// outlive the grace or take the organization over (rotate, sign in to
    /// the UI, create SMTP logins).
    pub fn require_current_key(&self) -> Result<(), ServiceError> {
        match self {
            Caller::Org(org) if org.row.by_previous_key != 0 => Err(ServiceError::Forbidden(
                "a rotated-out key may only use the API until its grace ends; use the new key"
                    .into(),
            )),
            // A leaked access key must not make credentials that outlive it.
            Caller::Org(org) if org.by_access_key => Err(ServiceError::Forbidden(
                "an SES access key may send and read, not make keys or logins; use the API key"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// The organization the caller acts as, or `Forbidden` for the operator.
    pub fn organization(&self) -> Result<&Organization, ServiceError> {
        match self {
            Caller::Org(org) => Ok(org),
            Caller::Operator => Err(ServiceError::Forbidden(
                "this needs an organization's key (or the operator key with the X-Absender-Org header)".into(),
            )),
        }
    }

    /// The stored organization the caller acts as, or `Forbidden` for the operator.
    pub(crate) fn org(&self) -> Result<&OrgRow, ServiceError> {
        Ok(&*self.organization()?.row)
    }

    /// `Ok` for the operator, `Forbidden` for an organization.
    pub fn require_operator(&self) -> Result<(), ServiceError> {
        match self {
            Caller::Operator => Ok(()),
            Caller::Org(_) => Err(ServiceError::Forbidden(
                "this needs the operator key".into(),
            )),
        }
    }
}

/// The platform's senders, one per category, parsed once at start.
#[derive(Debug, Clone)]
pub struct DefaultSenders(std::collections::BTreeMap<absender_core::Category, EmailAddress>);

impl DefaultSenders {
    fn parse(senders: &crate::settings::Senders) -> Result<Self, ServiceError> {
        senders
            .iter()
            .map(|(category, value)| {
                let address = EmailAddress::parse(value).map_err(|e| ServiceError::Invalid {
                    field: "platform.senders",
                    message: format!("{}: {e}", category.as_str()),
                })?;
                Ok((category, address))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The platform's sender of a category's mail.
    pub fn of(&self, category: absender_core::Category) -> &EmailAddress {
        &self.0[&category]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_key_and_a_rotated_out_key_make_no_credentials() {
        let row = OrgRow {
            id: "org_a".into(),
            name: "Acme".into(),
            contact_email: "team@acme.test".into(),
            locale: "en".into(),
            custom_sender_enabled: true,
            created_at: 0,
            updated_at: 0,
            sending_enabled: true,
            paused_reason: None,
            sandbox: false,
            max_send_rate: None,
            max_24h_send: None,
            rep_sends: 0,
            rep_bounces: 0,
            rep_complaints: 0,
            by_previous_key: 0,
        };
        let current = Caller::Org(Organization::new(row.clone()));
        assert!(current.require_current_key().is_ok());
        let signed = Caller::Org(Organization::signed_by_access_key(row.clone()));
        assert!(matches!(
            signed.require_current_key(),
            Err(ServiceError::Forbidden(_))
        ));
        assert!(signed.org().is_ok(), "it still acts for its organization");
        let previous = OrgRow {
            by_previous_key: 1,
            ..row
        };
        let rotated = Caller::Org(Organization::new(previous));
        assert!(matches!(
            rotated.require_current_key(),
            Err(ServiceError::Forbidden(_))
        ));
    }
}
