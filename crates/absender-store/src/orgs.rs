//! Organizations and the lookup of their API keys.

use crate::{NewOrg, OrgChanges, OrgRow, Store, StoreError};

/// An organization's columns, as [`OrgRow`] reads them.
macro_rules! org_columns {
    () => {
        "id, name, contact_email, locale, custom_sender_enabled, created_at, updated_at, \
         sending_enabled, paused_reason, sandbox, max_send_rate, max_24h_send, \
         rep_sends, rep_bounces, rep_complaints"
    };
}
pub(crate) use org_columns;

const INSERT: &str = concat!(
    "INSERT INTO orgs (id, name, contact_email, locale, custom_sender_enabled, api_key_hash, created_at, updated_at, sandbox) \
     VALUES ($1, $2, $3, $4, 0, $5, $6, $6, $7) RETURNING ",
    org_columns!()
);
const LIST: &str = concat!(
    "SELECT ",
    org_columns!(),
    " FROM orgs ORDER BY created_at, id"
);
const GET: &str = concat!("SELECT ", org_columns!(), " FROM orgs WHERE id = $1");
const BY_KEY: &str = concat!(
    "SELECT ",
    org_columns!(),
    ", CAST(CASE WHEN api_key_hash = $1 THEN 0 ELSE 1 END AS BIGINT) AS by_previous_key FROM orgs \
     WHERE api_key_hash = $1 OR (previous_key_hash = $1 AND previous_key_expires_at > $2)"
);
// Both reads of a column see its old value, so the current key becomes the previous one.
const ROTATE: &str = "UPDATE orgs SET \
     previous_key_hash = CASE WHEN CAST($3 AS BIGINT) > 0 THEN api_key_hash ELSE NULL END, \
     previous_key_expires_at = $3, api_key_hash = $2, updated_at = $4 WHERE id = $1";
// A limit is set (to a value or NULL) only where its flag is 1.
const UPDATE: &str = concat!(
    "UPDATE orgs SET \
     name = COALESCE($2, name), \
     contact_email = COALESCE($3, contact_email), \
     locale = COALESCE($4, locale), \
     custom_sender_enabled = COALESCE($5, custom_sender_enabled), \
     updated_at = $6, \
     sending_enabled = COALESCE($7, sending_enabled), \
     rep_sends = CASE WHEN CAST($7 AS BIGINT) = 1 THEN 0 ELSE rep_sends END, \
     rep_bounces = CASE WHEN CAST($7 AS BIGINT) = 1 THEN 0 ELSE rep_bounces END, \
     rep_complaints = CASE WHEN CAST($7 AS BIGINT) = 1 THEN 0 ELSE rep_complaints END, \
     paused_reason = CASE WHEN CAST($7 AS BIGINT) IS NULL THEN paused_reason ELSE $8 END, \
     sandbox = COALESCE($9, sandbox), \
     max_send_rate = CASE WHEN CAST($10 AS BIGINT) = 1 THEN CAST($11 AS DOUBLE PRECISION) ELSE max_send_rate END, \
     max_24h_send = CASE WHEN CAST($12 AS BIGINT) = 1 THEN CAST($13 AS BIGINT) ELSE max_24h_send END \
     WHERE id = $1 RETURNING ",
    org_columns!()
);

// Pauses an organization that is still sending and unchanged since it was
// judged (a resume in between started its counts over); whether this did.
const PAUSE: &str = "UPDATE orgs SET sending_enabled = 0, paused_reason = $2, updated_at = $3 \
     WHERE id = $1 AND sending_enabled = 1 AND updated_at = $4";

/// Numbers this process's pause and resume events apart.
static SWITCHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `SendingPaused` or `SendingResumed` for whoever wants it, inside `tx`.
async fn sending_switched(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org_id: &str,
    enabled: bool,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let event_type = if enabled {
        "SendingResumed"
    } else {
        "SendingPaused"
    };
    let event = crate::NewWebhookEvent {
        // Unique even for two switches within a millisecond.
        id: format!(
            "{org_id}.{event_type}.{now_ms}.{}",
            SWITCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
        org_id: Some(org_id.to_string()),
        event_type: event_type.into(),
        body: absender_core::events::sending_event(event_type, org_id, reason, now_ms),
        created_at: now_ms,
    };
    crate::webhooks::insert_event(tx, &event).await
}

impl Store {
    /// The number of recent sends reputation weighs (from `[reputation] window`).
    pub fn set_reputation_window(&self, sends: i64) {
        self.reputation_window
            .store(sends.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn reputation_window(&self) -> i64 {
        self.reputation_window
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Pauses the organization's sending for `reason`, unless it is paused
    /// already or changed since `judged` (the row that was judged); whether
    /// this call paused it (one node sends the notices).
    pub async fn pause_org(
        &self,
        judged: &OrgRow,
        reason: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(PAUSE)
            .bind(&judged.id)
            .bind(reason)
            .bind(now_ms)
            .bind(judged.updated_at)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sending_switched(&mut tx, &judged.id, false, reason, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Creates an organization.
    pub async fn insert_org(&self, org: &NewOrg) -> Result<OrgRow, StoreError> {
        Ok(sqlx::query_as(INSERT)
            .bind(&org.id)
            .bind(&org.name)
            .bind(&org.contact_email)
            .bind(&org.locale)
            .bind(&org.api_key_hash)
            .bind(org.created_at)
            .bind(i64::from(org.sandbox))
            .fetch_one(&self.pool)
            .await?)
    }

    /// All organizations, oldest first.
    pub async fn list_orgs(&self) -> Result<Vec<OrgRow>, StoreError> {
        Ok(sqlx::query_as(LIST).fetch_all(&self.pool).await?)
    }

    /// One organization.
    pub async fn org(&self, id: &str) -> Result<Option<OrgRow>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The organization whose API key (or previous key, until it expires
    /// after `now_ms`) has this hash.
    pub async fn org_by_key_hash(
        &self,
        key_hash: &str,
        now_ms: i64,
    ) -> Result<Option<OrgRow>, StoreError> {
        Ok(sqlx::query_as(BY_KEY)
            .bind(key_hash)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Replaces the organization's API key; the old one keeps working until
    /// `previous_expires_at` (0: not at all). Ends the organization's UI
    /// sessions. `false` when there is no such organization.
    pub async fn rotate_org_key(
        &self,
        id: &str,
        new_key_hash: &str,
        previous_expires_at: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let found = sqlx::query(ROTATE)
            .bind(id)
            .bind(new_key_hash)
            .bind(previous_expires_at)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        sqlx::query("DELETE FROM ui_sessions WHERE org_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Applies `changes`; `None` when there is no such organization.
    pub async fn update_org(
        &self,
        id: &str,
        changes: &OrgChanges,
        now_ms: i64,
    ) -> Result<Option<OrgRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Whether sending switches, asked with a write: on SQLite a read
        // first would make the transaction's later write fail under load
        // (a read lock is not upgraded while another writer commits).
        // The row is locked (PostgreSQL) or the database (SQLite) from here
        // on, so no pause slips in between.
        let switches = match &changes.sending_enabled {
            Some((on, _)) => {
                let before: Option<i64> = sqlx::query_scalar(
                    "UPDATE orgs SET sending_enabled = sending_enabled WHERE id = $1 RETURNING sending_enabled",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                before.is_some_and(|b| (b != 0) != *on)
            }
            None => false,
        };
        let row: Option<OrgRow> = sqlx::query_as(UPDATE)
            .bind(id)
            .bind(changes.name.as_deref())
            .bind(changes.contact_email.as_deref())
            .bind(changes.locale.as_deref())
            .bind(changes.custom_sender_enabled.map(i64::from))
            .bind(now_ms)
            .bind(
                changes
                    .sending_enabled
                    .as_ref()
                    .map(|(on, _)| i64::from(*on)),
            )
            .bind(
                changes
                    .sending_enabled
                    .as_ref()
                    .and_then(|(_, why)| why.clone()),
            )
            .bind(changes.sandbox.map(i64::from))
            .bind(i64::from(changes.max_send_rate.is_some()))
            .bind(changes.max_send_rate.flatten())
            .bind(i64::from(changes.max_24h_send.is_some()))
            .bind(changes.max_24h_send.flatten())
            .fetch_optional(&mut *tx)
            .await?;
        // A pause or a resume is an event, written with the change.
        if let Some(row) = row.as_ref().filter(|_| switches) {
            let reason = match row.sending_enabled {
                true => "resumed by the operator",
                false => row
                    .paused_reason
                    .as_deref()
                    .unwrap_or("paused by the operator"),
            };
            sending_switched(&mut tx, id, row.sending_enabled, reason, now_ms).await?;
        }
        tx.commit().await?;
        Ok(row)
    }
}
