//! Organizations' own DKIM keys (bring-your-own DKIM), one per (organization,
//! domain); private keys only encrypted.

use crate::checks::insert_event;
use crate::{IdentityEventRow, OwnDkimKeyRow, Store, StoreError};

const GET: &str = "SELECT org_id, domain, selector, private_key_enc, public_key, bits, created_at, verified_at \
     FROM own_dkim_keys WHERE org_id = $1 AND domain = $2";
const DELETE: &str = "DELETE FROM own_dkim_keys WHERE org_id = $1 AND domain = $2";
// One key per domain: the newest replaces the one before, unverified.
const UPSERT: &str = "INSERT INTO own_dkim_keys (org_id, domain, selector, private_key_enc, public_key, bits, created_at, verified_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) ON CONFLICT (org_id, domain) DO UPDATE SET selector = excluded.selector, \
     private_key_enc = excluded.private_key_enc, public_key = excluded.public_key, bits = excluded.bits, \
     created_at = excluded.created_at, verified_at = NULL";
// Every identity of the organization at the domain checks its DKIM anew, at
// once; the outcome of a check under way (judged against the old key) is
// not written, as the generation moved on.
const RESTART_DKIM: &str = "UPDATE identities SET dkim_status = $3, checks_in_status = 0, next_check_at = $4, \
     lease_until = NULL, dkim_generation = dkim_generation + 1, updated_at = $4 WHERE org_id = $1 AND domain = $2";
const FORGET_DKIM_CHECKS: &str = "DELETE FROM identity_checks WHERE part = 'dkim' AND identity_id IN (\
     SELECT id FROM identities WHERE org_id = $1 AND domain = $2)";

impl Store {
    /// The organization's own key for `domain`, if it signs with one.
    pub async fn own_dkim_key(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<Option<OwnDkimKeyRow>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(org_id)
            .bind(domain)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Makes `key` the organization's signing key for `domain` (`None`: back
    /// to Easy DKIM) and starts the DKIM part of its identities there over
    /// in `status`, due now, with `events`; all in one transaction.
    pub async fn set_own_dkim_key(
        &self,
        org_id: &str,
        domain: &str,
        key: Option<&OwnDkimKeyRow>,
        status: &str,
        now_ms: i64,
        events: &[IdentityEventRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(key) = key {
            sqlx::query(UPSERT)
                .bind(&key.org_id)
                .bind(&key.domain)
                .bind(&key.selector)
                .bind(&key.private_key_enc)
                .bind(&key.public_key)
                .bind(key.bits)
                .bind(key.created_at)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(DELETE)
                .bind(org_id)
                .bind(domain)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(RESTART_DKIM)
            .bind(org_id)
            .bind(domain)
            .bind(status)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query(FORGET_DKIM_CHECKS)
            .bind(org_id)
            .bind(domain)
            .execute(&mut *tx)
            .await?;
        for event in events {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the organization's own key for `domain` (no identity uses the
    /// domain any more); whether there was one.
    pub async fn delete_own_dkim_key(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE)
            .bind(org_id)
            .bind(domain)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
