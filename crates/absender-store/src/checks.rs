//! DNS check results, the check schedule with leases, and status events.

use crate::identities::identity_columns;
use crate::{
    Backend, CheckUpdate, IdentityCheckRow, IdentityEventRow, IdentityRow, Store, StoreError,
};

const CLAIM_SQLITE: &str = concat!(
    "UPDATE identities SET lease_until = $2, lease_owner = $4 WHERE id IN (\
     SELECT id FROM identities WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
     AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_check_at LIMIT $3)",
    owner_alive!(),
    " RETURNING ",
    identity_columns!()
);
// PostgreSQL: nodes skip rows another node is claiming right now.
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE identities SET lease_until = $2, lease_owner = $4 WHERE id IN (\
     SELECT id FROM identities WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
     AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_check_at LIMIT $3 FOR UPDATE SKIP LOCKED)",
    owner_alive_locked!(),
    " RETURNING ",
    identity_columns!()
);
const SAVE_IDENTITY: &str = "UPDATE identities SET dkim_status = $2, spf_status = $3, next_check_at = $4, \
     checks_in_status = $5, lease_until = NULL, updated_at = $6, mail_from_status = $7 WHERE id = $1 AND lease_owner = $8 \
     AND dkim_generation = $9";
// The own key a check verified signs from now on.
const OWN_KEY_VERIFIED: &str = "UPDATE own_dkim_keys SET verified_at = $3 WHERE verified_at IS NULL AND public_key = $2 \
     AND (org_id, domain) IN (SELECT org_id, domain FROM identities WHERE id = $1)";
const UPSERT_PART: &str = "INSERT INTO identity_checks (identity_id, part, status_since, diagnostics, error_type, \
     soa_zone, soa_mname, soa_serial, last_checked_at, last_success_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (identity_id, part) DO UPDATE SET status_since = excluded.status_since, diagnostics = excluded.diagnostics, \
     error_type = excluded.error_type, soa_zone = excluded.soa_zone, soa_mname = excluded.soa_mname, \
     soa_serial = excluded.soa_serial, last_checked_at = excluded.last_checked_at, last_success_at = excluded.last_success_at";
const PARTS: &str = "SELECT identity_id, part, status_since, diagnostics, error_type, soa_zone, soa_mname, soa_serial, \
     last_checked_at, last_success_at FROM identity_checks WHERE identity_id = $1 ORDER BY part";
const PARTS_OF_ORG: &str = "SELECT c.identity_id, c.part, c.status_since, c.diagnostics, c.error_type, c.soa_zone, \
     c.soa_mname, c.soa_serial, c.last_checked_at, c.last_success_at FROM identity_checks c \
     JOIN identities i ON i.id = c.identity_id WHERE i.org_id = $1 ORDER BY c.identity_id, c.part";
const ALL_PARTS: &str = "SELECT identity_id, part, status_since, diagnostics, error_type, soa_zone, soa_mname, soa_serial, \
     last_checked_at, last_success_at FROM identity_checks ORDER BY identity_id, part";
// Findings stored as words (before they were data) carry a "message" key.
const WORDED_PARTS: &str = "SELECT identity_id, part, diagnostics FROM identity_checks \
     WHERE (identity_id, part) > ($1, $2) AND diagnostics LIKE '%\"message\"%' ORDER BY identity_id, part LIMIT $3";
const SET_FINDINGS: &str = "UPDATE identity_checks SET diagnostics = $3 WHERE identity_id = $1 AND part = $2 AND diagnostics = $4";
const INSERT_EVENT: &str = "INSERT INTO identity_events (id, identity_id, org_id, part, from_status, to_status, detail, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const EVENTS: &str = "SELECT id, identity_id, org_id, part, from_status, to_status, detail, created_at \
     FROM identity_events WHERE identity_id = $1 ORDER BY created_at, id";
const CLAIM_ONE_SQLITE: &str = concat!(
    "UPDATE identities SET lease_until = $3, lease_owner = $4 WHERE id = $1 AND (lease_until IS NULL OR lease_until < $2)",
    owner_alive!()
);
const CLAIM_ONE_POSTGRES: &str = concat!(
    "UPDATE identities SET lease_until = $3, lease_owner = $4 WHERE id = $1 AND (lease_until IS NULL OR lease_until < $2)",
    owner_alive_locked!()
);
const RELEASE: &str = "UPDATE identities SET lease_until = NULL, next_check_at = $2 WHERE id = $1 AND lease_owner = $3";
const SCHEDULE_ALL: &str =
    "UPDATE identities SET next_check_at = $1 WHERE lease_until IS NULL OR lease_until < $1";
const SCHEDULE: &str = "UPDATE identities SET next_check_at = $2 WHERE id = $1";
const RESTART: &str = "UPDATE identities SET dkim_status = $2, spf_status = $2, mail_from_status = $2, next_check_at = $3, checks_in_status = 0, \
     lease_until = NULL, updated_at = $3 WHERE id = $1";
const RESTART_PARTS: &str = "DELETE FROM identity_checks WHERE identity_id = $1";

impl Store {
    /// Leases up to `limit` identities whose check is due at `now_ms` until
    /// `lease_until_ms`; a node that dies lets its lease run out, and another
    /// node takes the identity up.
    pub async fn claim_due_checks(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
        owner: &str,
    ) -> Result<Vec<IdentityRow>, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        Ok(sqlx::query_as(sql)
            .bind(now_ms)
            .bind(lease_until_ms)
            .bind(limit)
            .bind(owner)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Leases one identity for a check on demand; false while another check holds it.
    pub async fn claim_check(
        &self,
        identity_id: &str,
        now_ms: i64,
        lease_until_ms: i64,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let claim = match self.backend {
            Backend::Sqlite => CLAIM_ONE_SQLITE,
            Backend::Postgres => CLAIM_ONE_POSTGRES,
        };
        let done = sqlx::query(claim)
            .bind(identity_id)
            .bind(now_ms)
            .bind(lease_until_ms)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up a lease without a result; the check is due again at `retry_at_ms`.
    pub async fn release_check(
        &self,
        identity_id: &str,
        retry_at_ms: i64,
        owner: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(RELEASE)
            .bind(identity_id)
            .bind(retry_at_ms)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Makes every identity's check due at `at_ms` (e.g. after a DNS incident);
    /// returns how many.
    pub async fn schedule_all_checks(&self, at_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(SCHEDULE_ALL)
            .bind(at_ms)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Makes a check due at `at_ms` (now, for "check at once").
    pub async fn schedule_check(&self, identity_id: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query(SCHEDULE)
            .bind(identity_id)
            .bind(at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes a check's outcome, its part details and events in one transaction,
    /// and releases the lease; false when `owner` no longer held it.
    pub async fn save_check(&self, update: &CheckUpdate, owner: &str) -> Result<bool, StoreError> {
        Ok(!self
            .save_checks(std::slice::from_ref(update), owner)
            .await?
            .is_empty())
    }

    /// Writes several checks' outcomes in one transaction: one commit (and one
    /// fsync) for all of them. Only checks whose lease `owner` holds are
    /// written (a check that outlived its lease, taken by another, is
    /// dropped); returns the identities written.
    pub async fn save_checks(
        &self,
        updates: &[CheckUpdate],
        owner: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut saved = Vec::with_capacity(updates.len());
        for update in updates {
            let written = sqlx::query(SAVE_IDENTITY)
                .bind(&update.identity_id)
                .bind(&update.dkim_status)
                .bind(&update.spf_status)
                .bind(update.next_check_at)
                .bind(update.checks_in_status)
                .bind(update.now_ms)
                .bind(&update.mail_from_status)
                .bind(owner)
                .bind(update.dkim_generation)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if written == 0 {
                // The lease is another's now, the DKIM key changed, or the
                // identity is gone: the check is another's to record.
                tracing::warn!(identity_id = %update.identity_id, "a check whose lease was lost is dropped");
                continue;
            }
            saved.push(update.identity_id.clone());
            if let (Some(public_key), "SUCCESS") =
                (&update.own_public_key, update.dkim_status.as_str())
            {
                sqlx::query(OWN_KEY_VERIFIED)
                    .bind(&update.identity_id)
                    .bind(public_key)
                    .bind(update.now_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            for part in &update.parts {
                sqlx::query(UPSERT_PART)
                    .bind(&part.identity_id)
                    .bind(&part.part)
                    .bind(part.status_since)
                    .bind(&part.diagnostics)
                    .bind(part.error_type.as_deref())
                    .bind(part.soa_zone.as_deref())
                    .bind(part.soa_mname.as_deref())
                    .bind(part.soa_serial)
                    .bind(part.last_checked_at)
                    .bind(part.last_success_at)
                    .execute(&mut *tx)
                    .await?;
            }
            for event in &update.events {
                insert_event(&mut tx, event).await?;
            }
        }
        tx.commit().await?;
        Ok(saved)
    }

    /// The last check's findings per part.
    pub async fn identity_checks(
        &self,
        identity_id: &str,
    ) -> Result<Vec<IdentityCheckRow>, StoreError> {
        Ok(sqlx::query_as(PARTS)
            .bind(identity_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The last check's findings of every identity of the organization: one
    /// read for a list instead of one per identity.
    pub async fn org_identity_checks(
        &self,
        org_id: &str,
    ) -> Result<Vec<IdentityCheckRow>, StoreError> {
        Ok(sqlx::query_as(PARTS_OF_ORG)
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The last check's findings of every identity (the operator's overview).
    pub async fn all_identity_checks(&self) -> Result<Vec<IdentityCheckRow>, StoreError> {
        Ok(sqlx::query_as(ALL_PARTS).fetch_all(&self.pool).await?)
    }

    /// Up to `limit` stored checks after (`identity_id`, `part`) whose
    /// findings may be words rather than data: (identity id, part, findings).
    pub async fn worded_findings(
        &self,
        after: (&str, &str),
        limit: i64,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(sqlx::query_as(WORDED_PARTS)
            .bind(after.0)
            .bind(after.1)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Replaces a stored check's findings, unless a check wrote them since
    /// they were `read`.
    pub async fn replace_findings(
        &self,
        identity_id: &str,
        part: &str,
        read: &str,
        findings: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(SET_FINDINGS)
            .bind(identity_id)
            .bind(part)
            .bind(findings)
            .bind(read)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records one event.
    pub async fn insert_event(&self, event: &IdentityEventRow) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The identity's events, oldest first.
    pub async fn identity_events(
        &self,
        identity_id: &str,
    ) -> Result<Vec<IdentityEventRow>, StoreError> {
        Ok(sqlx::query_as(EVENTS)
            .bind(identity_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The newest events of every identity, newest first (the operator's view).
    pub async fn recent_events(&self, limit: i64) -> Result<Vec<IdentityEventRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, identity_id, org_id, part, from_status, to_status, detail, created_at \
             FROM identity_events ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Starts the DNS parts over: `status` again, check due at once, old findings gone.
    pub async fn restart_checks(
        &self,
        identity_id: &str,
        status: &str,
        now_ms: i64,
        event: &IdentityEventRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(RESTART)
            .bind(identity_id)
            .bind(status)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query(RESTART_PARTS)
            .bind(identity_id)
            .execute(&mut *tx)
            .await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    event: &IdentityEventRow,
) -> Result<(), StoreError> {
    sqlx::query(INSERT_EVENT)
        .bind(&event.id)
        .bind(&event.identity_id)
        .bind(&event.org_id)
        .bind(&event.part)
        .bind(&event.from_status)
        .bind(&event.to_status)
        .bind(&event.detail)
        .bind(event.created_at)
        .execute(&mut **tx)
        .await?;
    // The same change for webhooks, in the same transaction.
    let identity: Option<String> =
        sqlx::query_scalar("SELECT address FROM identities WHERE id = $1")
            .bind(&event.identity_id)
            .fetch_optional(&mut **tx)
            .await?;
    let change = absender_core::events::IdentityChange {
        org_id: &event.org_id,
        identity_id: &event.identity_id,
        identity: identity.as_deref().unwrap_or_default(),
        part: &event.part,
        from: &event.from_status,
        to: &event.to_status,
        detail: &event.detail,
        at_ms: event.created_at,
    };
    for (n, (event_type, body)) in absender_core::events::identity_events(&change)
        .into_iter()
        .enumerate()
    {
        let webhook_event = crate::NewWebhookEvent {
            // Stable: the identity event's id, and its second event's.
            id: if n == 0 {
                event.id.clone()
            } else {
                format!("{}_{n}", event.id)
            },
            org_id: Some(event.org_id.clone()),
            event_type: event_type.to_string(),
            body,
            created_at: event.created_at,
        };
        crate::webhooks::insert_event(tx, &webhook_event).await?;
    }
    Ok(())
}
