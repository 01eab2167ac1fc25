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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub contact_email: String,
    pub locale: String,
    #[sqlx(try_from = "Flag")]
    pub custom_sender_enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
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
}

/// Changes to an organization; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct OrgChanges {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub locale: Option<String>,
    pub custom_sender_enabled: Option<bool>,
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
