//! Request and response bodies of the native API, shared by server and CLI.

use absender_core::finding::Finding;
use absender_core::{Category, IdentityKind, Locale, Scope, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST /api/v1/orgs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    pub name: String,
    pub contact_email: String,
    #[serde(default)]
    pub locale: Locale,
}

/// `PATCH /api/v1/orgs/{id}`: fields left out stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_sender_enabled: Option<bool>,
    /// `false` pauses the organization's sending; `true` resumes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_enabled: Option<bool>,
    /// SES's sandbox; `false` grants production access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<bool>,
    /// Messages a second (a token bucket); `null` lifts the limit.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_send_rate: Option<Option<f64>>,
    /// Messages in any 24 hours; `null` lifts the limit.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_24h_send: Option<Option<i64>>,
}

/// A field that is present, even as `null` (absent stays `None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// An organization as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub contact_email: String,
    pub locale: Locale,
    pub custom_sender_enabled: bool,
    pub created_at: String,
    /// `false` while sending is paused; `paused_reason` says why.
    pub sending_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
    /// In SES's sandbox: only to its own verified addresses, 200 a day.
    pub sandbox: bool,
    /// Messages a second; `null`: no limit.
    pub max_send_rate: Option<f64>,
    /// Messages in any 24 hours; `null`: no limit.
    pub max_24h_send: Option<i64>,
}

/// The answer to creating an organization: the only time its key is shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedOrg {
    #[serde(flatten)]
    pub org: Org,
    pub api_key: String,
}

/// `POST /api/v1/orgs/{id}/rotate-key`: without `grace`, the old key stops at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// How long the old key keeps working ("1h"; at most 24 h).
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub grace: Option<std::time::Duration>,
}

/// The new API key, the only time it is shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotatedKey {
    pub api_key: String,
    /// Until when the old key works, if a grace period was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key_expires_at: Option<String>,
}

/// `POST /api/v1/identities`: an address with its scope, or a whole
/// domain (`"type": "domain"`, scope `all`, no address to confirm).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestIdentity {
    /// `address` or `domain`; by default the kind whose field is given.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<IdentityKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Required for an address; a domain's is `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The custom MAIL FROM domain, a subdomain of the identity's domain;
    /// default `bounce.<domain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_from_domain: Option<String>,
    /// Sign the domain's mail with Ed25519 too (RFC 8463): one of its three
    /// selectors holds an Ed25519 key (the domain's, for all its identities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_ed25519: Option<bool>,
}

impl RequestIdentity {
    /// An address identity.
    pub fn address(address: impl Into<String>, scope: Scope) -> Self {
        Self {
            address: Some(address.into()),
            scope: Some(scope),
            ..Self::default()
        }
    }

    /// A domain identity.
    pub fn domain(domain: impl Into<String>) -> Self {
        Self {
            kind: Some(IdentityKind::Domain),
            domain: Some(domain.into()),
            ..Self::default()
        }
    }
}

/// A finding as the API shows it: its code and parameters, what it means
/// in the caller's language, and the record that fixes it as one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    #[serde(flatten)]
    pub finding: Finding,
    pub message: String,
    /// The fixing record as `name TYPE value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

impl Diagnostic {
    /// `finding` in words of `locale`.
    pub fn new(finding: Finding, locale: Locale) -> Self {
        Self {
            message: crate::identity::finding_words::describe(&finding, locale),
            record: finding.fix().map(ToString::to_string),
            finding,
        }
    }
}

/// The SOA of the zone whose server answered a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Soa {
    pub zone: String,
    pub primary_ns: String,
    pub serial: u32,
}

/// The address part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddressPart {
    pub status: Status,
}

/// A DNS-checked part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DnsPart {
    pub status: Status,
    pub diagnostics: Vec<Diagnostic>,
    /// SES's error type of the first problem.
    pub error_type: Option<String>,
    pub last_checked_at: Option<String>,
    pub last_success_at: Option<String>,
    /// The zone that answered.
    pub soa: Option<Soa>,
}

/// Advice that never blocks verification (DMARC).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdvicePart {
    pub diagnostics: Vec<Diagnostic>,
}

/// The parts of an identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Parts {
    /// The address owner's confirmation; a domain identity has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressPart>,
    pub dkim: DnsPart,
    pub spf: DnsPart,
    /// Optional: the identity's status does not wait for it.
    pub mail_from: DnsPart,
    pub dmarc: AdvicePart,
}

/// A sender identity as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub id: String,
    pub org_id: String,
    #[serde(rename = "type")]
    pub kind: IdentityKind,
    /// The address; `null` for a domain identity.
    pub address: Option<String>,
    /// The domain as A-labels.
    pub domain: String,
    /// The domain for people, in Unicode.
    pub domain_unicode: String,
    /// The custom MAIL FROM domain (envelope sender domain once verified).
    pub mail_from_domain: String,
    pub scope: Scope,
    pub status: Status,
    pub parts: Parts,
    /// The mail categories this identity may send once verified.
    pub categories: Vec<Category>,
    pub created_at: String,
    pub updated_at: String,
    /// When the next automatic DNS check is due, if any.
    pub next_check_at: Option<String>,
}

impl Identity {
    /// What it verifies, for people: the address, or the domain in Unicode.
    pub fn name(&self) -> String {
        self.address
            .clone()
            .unwrap_or_else(|| self.domain_unicode.clone())
    }
}

/// A status change of an identity (`part` = `identity`) or one of its parts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub part: String,
    pub from: Status,
    pub to: Status,
    pub detail: String,
    pub created_at: String,
}

/// An event with the identity and organization it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperatorEvent {
    pub org_id: String,
    pub identity_id: String,
    #[serde(flatten)]
    pub event: Event,
}

/// One record to publish, with the status of the part it verifies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub value: String,
    pub purpose: String,
    pub status: Status,
}

/// `GET /api/v1/identities/{id}/dns-records`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DnsRecords {
    pub records: Vec<DnsRecord>,
}

/// A captured message in a listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    pub org_id: Option<String>,
    pub category: Category,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub size_bytes: usize,
    pub created_at: String,
}

/// A captured message with its decoded content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxMessage {
    #[serde(flatten)]
    pub entry: OutboxEntry,
    pub headers: Vec<Header>,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Each DKIM signature's verdict, verified now through the resolvers.
    pub dkim: Vec<absender_dns::DkimVerdict>,
}

/// One header line of a message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A list response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct List<T> {
    pub items: Vec<T>,
}

/// `POST /api/v1/dns/zones`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateZone {
    pub name: String,
}

/// A local DNS zone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    pub serial: i64,
    pub created_at: String,
}

/// `POST /api/v1/dns/zones/{zone}/records`: `name` is the full domain name;
/// names in values may end with a dot or not.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateZoneRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
}

/// A record of a local zone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZoneRecord {
    pub id: String,
    pub zone: String,
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub value: String,
    pub ttl: u32,
    pub created_at: String,
}

/// `GET/PUT /api/v1/send-settings`: the identity chosen per category, keyed
/// by the category's name (`{"booking": "idn_…", "invitation": null, …}`;
/// `null` or left out: the platform's default sender). System mail always
/// uses the platform; an unknown name, `system` and a key given twice are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SendSettings(pub BTreeMap<Category, Option<String>>);

impl<'de> Deserialize<'de> for SendSettings {
    /// Each key once, and only the categories organizations send: a key
    /// given twice is refused rather than read as its last value.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Choices;
        impl<'de> serde::de::Visitor<'de> for Choices {
            type Value = SendSettings;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an object keyed by {}", Category::organization_names())
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SendSettings, A::Error> {
                use serde::de::Error;
                let mut choices = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let category = Category::of_organizations()
                        .find(|c| c.as_str() == key)
                        .ok_or_else(|| {
                            A::Error::custom(format!(
                                "{key:?} is not a category with a setting: {}",
                                Category::organization_names()
                            ))
                        })?;
                    let chosen = map.next_value::<Option<String>>()?;
                    if choices.insert(category, chosen).is_some() {
                        return Err(A::Error::custom(format!("{key:?} is given twice")));
                    }
                }
                Ok(SendSettings(choices))
            }
        }
        deserializer.deserialize_map(Choices)
    }
}

impl SendSettings {
    /// The identity chosen for `category`, if any.
    pub fn chosen(&self, category: Category) -> Option<&String> {
        self.0.get(&category).and_then(Option::as_ref)
    }
}

/// An attachment in `POST /api/v1/messages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIn {
    pub filename: String,
    pub content_type: String,
    /// The bytes, base64.
    pub content_base64: String,
}

/// `POST /api/v1/messages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub category: Category,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The display name beside `from` (used only with the organization's
    /// own address, never beside the platform's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentIn>,
}

/// The answer to an accepted message: it is durably stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accepted {
    pub id: String,
}

/// One recipient's delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecipientStatus {
    pub address: String,
    /// queued, deferred (a temporary failure; tried again at `next_attempt_at`),
    /// delivered, bounced, or captured.
    pub status: String,
    pub attempts: i64,
    /// The receiving server's last reply (or why it could not be reached).
    pub last_reply: Option<String>,
    pub next_attempt_at: Option<String>,
    pub updated_at: String,
}

/// `GET/POST /api/v1/suppressions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppression {
    pub address: String,
    /// hard_bounce, complaint, unsubscribe, or manual.
    pub reason: String,
    pub detail: Option<String>,
    pub message_id: Option<String>,
    pub created_at: String,
}

/// `POST /api/v1/suppressions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddSuppression {
    pub address: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// `POST /api/v1/smtp-credentials`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSmtpCredential {
    #[serde(default)]
    pub description: Option<String>,
}

/// An SMTP login; `password` only in the answer that created it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpCredential {
    pub id: String,
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
}

/// An SES-style access key (SigV4); `secret_access_key` only in the answer
/// that created it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub access_key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    pub created_at: String,
}

/// `GET /api/v1/messages/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub category: Category,
    /// The sender used.
    pub from: String,
    /// The custom identity used, if any.
    pub identity_id: Option<String>,
    /// Why the chosen custom sender was not used.
    pub fallback_reason: Option<String>,
    pub reply_to: Option<String>,
    pub envelope_from: String,
    pub subject: String,
    pub status: String,
    pub recipients: Vec<RecipientStatus>,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_settings_take_each_organization_category_once() {
        let read = |json: &str| serde_json::from_str::<SendSettings>(json);
        let settings = read(r#"{"booking": "idn_a", "invitation": null}"#).unwrap();
        assert_eq!(
            settings.chosen(Category::Booking).map(String::as_str),
            Some("idn_a")
        );
        assert_eq!(settings.chosen(Category::Invitation), None);
        let twice = read(r#"{"booking": "idn_a", "booking": null}"#).unwrap_err();
        assert!(twice.to_string().contains("given twice"), "{twice}");
        for refused in [
            r#"{"system": null}"#,
            r#"{"Booking": null}"#,
            r#"{"fax": "x"}"#,
        ] {
            let e = read(refused).unwrap_err().to_string();
            assert!(
                e.contains("not a category with a setting"),
                "{refused}: {e}"
            );
            let allowed = e.split(": ").nth(1).unwrap_or_default();
            assert!(!allowed.contains("system"), "{e}");
        }
        assert!(read(r#"{"booking": 7}"#).is_err());
        assert!(read(r#"["idn_a"]"#).is_err());
    }
}

/// A template's parts (`POST /api/v1/templates` takes them with a `name`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateContent {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// `POST /api/v1/templates`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    pub name: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl NewTemplate {
    /// Its parts.
    pub fn content(self) -> TemplateContent {
        TemplateContent {
            subject: self.subject,
            text: self.text,
            html: self.html,
        }
    }
}

/// An email template (Handlebars, as SES's).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A template rendered with sample data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenderedTemplate {
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// A DKIM key rotation that started: the selector whose key was replaced
/// (the customer's CNAME stays) and when the new key starts signing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DkimRotation {
    pub domain: String,
    pub selector: String,
    pub signs_from: String,
}

/// `POST /api/v1/webhooks`: a destination for the caller's events (the
/// operator's: every organization's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    pub url: String,
    /// Event types (`Send`, `Delivery`, …, `IdentityVerified`).
    pub events: Vec<String>,
    /// `standard` (Standard Webhooks, the default) or `sns`.
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /api/v1/webhooks/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A destination, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    /// `null` for the operator's (every organization's events).
    pub org_id: Option<String>,
    pub url: String,
    pub events: Vec<String>,
    pub format: String,
    pub description: String,
    pub enabled: bool,
    /// Why absender disabled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The latest attempts, newest first (one destination's view only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_attempts: Vec<WebhookAttemptView>,
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookAttemptView {
    pub event_id: String,
    pub status: String,
    pub attempts: i64,
    pub at: Option<String>,
    pub http_status: Option<i64>,
    pub latency_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A new destination, with its signing secret: shown this once.
#[derive(Clone, Serialize, Deserialize)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64, as Standard Webhooks libraries take it.
    pub secret: String,
}

/// `POST /api/v1/webhooks/{id}/rotate-secret`: the new secret (shown once);
/// the old one keeps signing beside it until `previous_valid_until`.
#[derive(Clone, Serialize, Deserialize)]
pub struct RotatedWebhookSecret {
    pub secret: String,
    pub previous_valid_until: String,
}

/// Never prints the secret.
impl std::fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("webhook", &self.webhook)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Never prints the secret.
impl std::fmt::Debug for RotatedWebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedWebhookSecret")
            .field("secret", &"[redacted]")
            .field("previous_valid_until", &self.previous_valid_until)
            .finish()
    }
}

/// `POST /api/v1/webhooks/{id}/test`: the event queued for the destination.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookTest {
    pub event_id: String,
}

/// `GET /api/v1/messages/{id}/events`, `GET /api/v1/events`: events as
/// webhooks deliver them, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventList {
    pub items: Vec<serde_json::Value>,
    /// Where the next page starts; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The query of `GET /api/v1/events`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// One event type (`Send`, `Delivery`, `Bounce`, `DeliveryDelay`,
    /// `Complaint`, `Subscription`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// RFC 3339: the events of messages sent at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Messages per page, 1 to 100 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `GET /api/v1/reputation`: an organization's bounce and complaint rates
/// over its recent sends, and what they mean, as SES reports them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reputation {
    /// `HEALTHY`, `PROBATION` or `SHUTDOWN` (sending paused).
    pub state: String,
    /// Why, unless healthy.
    pub reason: Option<String>,
    pub sending_enabled: bool,
    /// Recent sends (deliveries that ended), and among them:
    pub sends: i64,
    pub bounces: i64,
    pub complaints: i64,
    pub bounce_rate: f64,
    pub complaint_rate: f64,
    /// The rates count from this many sends on.
    pub min_sample: i64,
    pub review_bounce_rate: f64,
    pub pause_bounce_rate: f64,
    pub review_complaint_rate: f64,
    pub pause_complaint_rate: f64,
}

/// `PUT /api/v1/identities/{id}/dkim-key`: sign the identity's domain with
/// the organization's own RSA key (bring-your-own DKIM).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnDkimKey {
    /// The selector the organization publishes the key under.
    pub selector: String,
    /// The private key: PKCS#1 or PKCS#8 DER in base64, PEM armour allowed.
    pub private_key: String,
}

/// Never prints the private key.
impl std::fmt::Debug for OwnDkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnDkimKey")
            .field("selector", &self.selector)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

/// How an identity's domain is signed: `easy` (absender's keys behind the
/// three CNAMEs) or `own` (the organization's key, its TXT record).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DkimKeyInfo {
    pub domain: String,
    /// `easy` or `own`.
    pub origin: String,
    /// Easy DKIM's three selectors, or the own key's one.
    pub selectors: Vec<String>,
    /// The RSA key's size.
    pub bits: u32,
    /// When the newest key was made (or given).
    pub created_at: String,
    /// An own key: when a check first saw its TXT record; it signs from
    /// then on (before, the Easy DKIM keys behind it do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
}
