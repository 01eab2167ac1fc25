//! The rows the store reads and writes. Plain data; the service turns them into core types.

/// A 0/1 flag column: sqlx's Any driver reads no SQLite boolean, so flags are integers.
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub struct Flag(i64);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0 != 0
    }
}

/// An organization (tenant).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub contact_email: String,
    pub locale: String,
    #[sqlx(try_from = "Flag")]
    pub custom_sender_enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Off while its sending is paused (`paused_reason` says why).
    #[sqlx(try_from = "Flag")]
    pub sending_enabled: bool,
    pub paused_reason: Option<String>,
    /// In SES's sandbox: only to its own verified addresses, 200 a day.
    #[sqlx(try_from = "Flag")]
    pub sandbox: bool,
    /// Messages a second; `None`: no limit.
    pub max_send_rate: Option<f64>,
    /// Messages in any 24 hours; `None`: no limit.
    pub max_24h_send: Option<i64>,
    /// Reputation: recent sends, hard bounces and complaints among them.
    pub rep_sends: i64,
    pub rep_bounces: i64,
    pub rep_complaints: i64,
    /// 1 when the row was found by a rotated-out key in its grace period
    /// (only the key lookup sets it): such a key may not do more than use the API.
    #[sqlx(default)]
    pub by_previous_key: i64,
}

/// A new organization with the hash of its API key.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub id: String,
    pub name: String,
    pub contact_email: String,
    pub locale: String,
    pub api_key_hash: String,
    pub created_at: i64,
    /// Starts in SES's sandbox (`[limits] sandbox_by_default`).
    pub sandbox: bool,
}

/// Changes to an organization; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct OrgChanges {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub locale: Option<String>,
    pub custom_sender_enabled: Option<bool>,
    /// Pauses (with the reason) or resumes sending.
    pub sending_enabled: Option<(bool, Option<String>)>,
    pub sandbox: Option<bool>,
    /// `Some(None)` lifts the limit.
    pub max_send_rate: Option<Option<f64>>,
    pub max_24h_send: Option<Option<i64>>,
}

/// A sender identity with the statuses of its parts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityRow {
    pub id: String,
    pub org_id: String,
    pub address: String,
    pub domain: String,
    pub scope: String,
    pub address_status: String,
    pub dkim_status: String,
    pub spf_status: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the DNS check is due; `None` when no longer checked.
    pub next_check_at: Option<i64>,
    /// Checks since the DNS parts last changed status (for the backoff).
    pub checks_in_status: i64,
    /// The custom MAIL FROM domain (`bounce.<domain>` by default).
    pub mail_from_domain: String,
    pub mail_from_status: String,
    /// `address` or `domain` (then `address` holds the domain).
    pub kind: String,
    /// SES's tags, a JSON array of `{"Key", "Value"}`.
    pub tags: String,
    /// While the MAIL FROM domain is not verified: `USE_DEFAULT_VALUE` (the
    /// platform's return path) or `REJECT_MESSAGE` (refuse the send).
    pub mail_from_behavior: String,
    /// Changes of the DKIM key so far (bring-your-own DKIM and back).
    pub dkim_generation: i64,
}

/// A verification token, stored by hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub token_hash: String,
    pub identity_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    #[sqlx(try_from = "Flag")]
    pub superseded: bool,
}

/// A DKIM key pair; the private key only encrypted.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DkimKeyRow {
    pub id: String,
    pub org_id: String,
    pub domain: String,
    pub slot: i64,
    pub selector: String,
    pub algorithm: String,
    pub private_key_enc: Vec<u8>,
    pub public_key: String,
    pub created_at: i64,
    /// When this key starts (or started) signing; 0: made before rotation.
    pub signs_from: i64,
}

/// An organization's own DKIM key for a domain (bring-your-own DKIM); the
/// private key only encrypted.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OwnDkimKeyRow {
    pub org_id: String,
    pub domain: String,
    pub selector: String,
    pub private_key_enc: Vec<u8>,
    /// SubjectPublicKeyInfo DER in base64, as the TXT record's `p=`.
    pub public_key: String,
    pub bits: i64,
    pub created_at: i64,
    /// When a check first saw its TXT record; it signs only from then on.
    pub verified_at: Option<i64>,
}

/// A message in the capture outbox, as the final RFC 5322 bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub org_id: Option<String>,
    pub category: String,
    pub mail_from: String,
    /// Recipients, comma-separated.
    pub rcpt_to: String,
    pub subject: String,
    pub raw: Vec<u8>,
    pub created_at: i64,
    /// Holds a live secret (a verification or sign-in link): the operator's alone.
    #[sqlx(try_from = "Flag")]
    pub operator_only: bool,
    /// A copy with its secret removed (relay and MX mode): kept for `retention.redacted`.
    #[sqlx(try_from = "Flag")]
    pub redacted: bool,
}

/// A message in an outbox listing: everything but the bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxSummaryRow {
    pub id: String,
    pub org_id: Option<String>,
    pub category: String,
    pub mail_from: String,
    pub rcpt_to: String,
    pub subject: String,
    pub size_bytes: i64,
    pub created_at: i64,
}

/// A local DNS zone.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DnsZoneRow {
    pub name: String,
    pub serial: i64,
    pub created_at: i64,
}

/// A record in a local zone; `value` in canonical text (names without trailing dot).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DnsRecordRow {
    pub id: String,
    pub zone: String,
    pub name: String,
    pub rtype: String,
    pub value: String,
    pub ttl: i64,
    pub created_at: i64,
}

/// What the last DNS check found for one part of an identity.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityCheckRow {
    pub identity_id: String,
    /// `dkim`, `spf` or `dmarc`.
    pub part: String,
    /// When the part entered its current status.
    pub status_since: i64,
    /// JSON array of diagnostics.
    pub diagnostics: String,
    pub error_type: Option<String>,
    pub soa_zone: Option<String>,
    pub soa_mname: Option<String>,
    pub soa_serial: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub last_success_at: Option<i64>,
}

/// A status change of an identity or one of its parts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityEventRow {
    pub id: String,
    pub identity_id: String,
    pub org_id: String,
    /// `identity`, `address`, `dkim`, `spf`.
    pub part: String,
    pub from_status: String,
    pub to_status: String,
    /// Why, in words.
    pub detail: String,
    pub created_at: i64,
}

/// The outcome of one DNS check, written at once.
#[derive(Debug, Clone)]
pub struct CheckUpdate {
    pub identity_id: String,
    pub dkim_status: String,
    pub spf_status: String,
    pub mail_from_status: String,
    pub next_check_at: Option<i64>,
    pub checks_in_status: i64,
    pub now_ms: i64,
    pub parts: Vec<IdentityCheckRow>,
    pub events: Vec<IdentityEventRow>,
    /// The identity's `dkim_generation` the check judged: not written if
    /// the key changed since.
    pub dkim_generation: i64,
    /// The public half of the own DKIM key the check judged, if the domain
    /// has one: a verified DKIM part marks that key verified.
    pub own_public_key: Option<String>,
}

/// A DKIM key of the platform itself; the private key only encrypted.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlatformKeyRow {
    pub selector: String,
    pub domain: String,
    pub algorithm: String,
    pub private_key_enc: Vec<u8>,
    pub public_key: String,
    pub created_at: i64,
}

/// A message an organization sent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub org_id: String,
    pub category: String,
    pub from_address: String,
    /// The custom identity used, if any.
    pub identity_id: Option<String>,
    /// Why the chosen custom sender was not used.
    pub fallback_reason: Option<String>,
    pub reply_to: Option<String>,
    pub envelope_from: String,
    /// Recipients (to, cc, bcc), comma-separated.
    pub recipients: String,
    pub subject: String,
    pub status: String,
    pub created_at: i64,
}

/// One recipient's delivery of a message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub message_id: String,
    pub recipient: String,
    pub org_id: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_until: i64,
    pub last_reply: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The recipient's place in the message, named by its return path.
    pub rcpt_index: i64,
    /// Who holds the lease (a node and its start); empty when none has.
    pub lease_owner: String,
}

/// A message as the queue stores it: its row, its final bytes, a delivery
/// per recipient, and (in capture mode) its outbox copy instead of the bytes.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message: MessageRow,
    /// Kept in the message row until every delivery is final; `None` when captured.
    pub raw: Option<Vec<u8>>,
    pub deliveries: Vec<DeliveryRow>,
    pub captured: Option<OutboxRow>,
}

/// What a worker needs to deliver one message to some of its recipients.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedMessageRow {
    pub id: String,
    pub org_id: String,
    pub envelope_from: String,
    pub raw: Option<Vec<u8>>,
    pub created_at: i64,
}

/// The end of one attempt: the delivery's new state.
#[derive(Debug, Clone)]
pub struct DeliveryUpdate {
    pub message_id: String,
    pub recipient: String,
    pub org_id: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_reply: Option<String>,
    /// Suppress the recipient for the organization (a hard bounce), with this reason.
    pub suppress: Option<String>,
    /// An attempt that ended in a retry (its `DeliveryDelay` event); not a
    /// delivery put back without an attempt.
    pub delayed: bool,
}

/// An address an organization's mail no longer goes to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SuppressionRow {
    pub org_id: String,
    pub address: String,
    pub reason: String,
    pub detail: Option<String>,
    pub message_id: Option<String>,
    pub created_at: i64,
}

/// An SMTP submission login of an organization.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SmtpCredentialRow {
    pub id: String,
    pub org_id: String,
    pub username: String,
    pub secret_hash: String,
    pub description: Option<String>,
    pub created_at: i64,
}

/// An SES-style access key of an organization (its secret sealed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessKeyRow {
    pub id: String,
    pub org_id: String,
    /// `AKIA` and 16 more of `[A-Z0-9]`.
    pub access_key_id: String,
    /// The secret, sealed under the master key with the access key id as label.
    pub secret_enc: Vec<u8>,
    pub created_at: i64,
}

/// An email template of an organization (Handlebars source).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub subject: String,
    pub text_part: Option<String>,
    pub html_part: Option<String>,
    /// SES's tags, a JSON array of `{"Key", "Value"}`.
    pub tags: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A webhook destination; its signing secrets only encrypted.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: String,
    /// `None`: the operator's, for every organization's events.
    pub org_id: Option<String>,
    pub url: String,
    /// The event types it wants, a JSON array.
    pub events: String,
    /// `standard` (Standard Webhooks) or `sns`.
    pub format: String,
    pub description: String,
    #[sqlx(try_from = "Flag")]
    pub enabled: bool,
    pub secret_enc: Vec<u8>,
    /// The secret before the last rotation, still signing until `previous_until`.
    pub previous_secret_enc: Option<Vec<u8>>,
    pub previous_until: Option<i64>,
    /// Since when every attempt has failed.
    pub failing_since: Option<i64>,
    /// Why it was disabled, when absender disabled it.
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One event to send to one destination, with what signing needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookJob {
    pub event_id: String,
    pub webhook_id: String,
    pub attempts: i64,
    pub event_type: String,
    pub body: String,
    pub event_created_at: i64,
    pub url: String,
    pub format: String,
    pub secret_enc: Vec<u8>,
    pub previous_secret_enc: Option<Vec<u8>>,
    pub previous_until: Option<i64>,
    pub org_id: Option<String>,
    /// The destination is still on (a disabled one's deliveries are given up).
    #[sqlx(try_from = "Flag")]
    pub enabled: bool,
    /// When an `sns` destination's receiver confirmed it.
    pub confirmed_at: Option<i64>,
}

/// An attempted delivery, as a destination's page shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookDeliveryRow {
    pub event_id: String,
    pub webhook_id: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
    pub created_at: i64,
}

/// An event as the outbox keeps it.
#[derive(Debug, Clone)]
pub struct NewWebhookEvent {
    /// `evt_…`: the `webhook-id` every attempt carries.
    pub id: String,
    pub org_id: Option<String>,
    pub event_type: String,
    pub body: String,
    pub created_at: i64,
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct WebhookAttempt {
    /// `delivered`, `pending` (tried again at `next_attempt_at`) or `failed`.
    pub status: &'static str,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub http_status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub at_ms: i64,
}

/// A complaint about one delivery, from a feedback report.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ComplaintRow {
    pub message_id: String,
    pub recipient: String,
    pub org_id: String,
    /// `abuse`, `fraud`, `virus`, `other`.
    pub feedback_type: String,
    pub user_agent: Option<String>,
    pub arrival_date: Option<String>,
    pub created_at: i64,
}

/// A node of the cluster, as it registered and last beat.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NodeRow {
    /// `node_…`, new at every start.
    pub id: String,
    /// Its listeners as JSON (`{"http": "…", "smtp": "…", "dns": "…"}`).
    pub listeners: String,
    /// The absender version it runs.
    pub version: String,
    pub started_at: i64,
    pub last_heartbeat_at: i64,
    /// When another node declared it dead.
    pub dead_at: Option<i64>,
    /// When it stopped in good order.
    pub stopped_at: Option<i64>,
}
