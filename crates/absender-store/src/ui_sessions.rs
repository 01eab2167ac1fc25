//! Web UI sessions and one-time sign-in links, kept only as hashes.

use crate::{OrgRow, Store, StoreError};

impl Store {
    /// Stores a session; `org_id` None is the operator's.
    pub async fn insert_ui_session(
        &self,
        token_hash: &str,
        org_id: Option<&str>,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ui_sessions (token_hash, org_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(org_id)
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session's organization (`Some(None)` for the operator), if the
    /// session exists and has not expired.
    pub async fn ui_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<Option<String>>, StoreError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT org_id FROM ui_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(org,)| org))
    }

    /// Ends a session; also drops every expired one.
    pub async fn delete_ui_session(&self, token_hash: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM ui_sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Drops expired sessions and the sign-in links created before
    /// `links_before_ms` (kept that long for the hourly limit).
    pub async fn sweep_ui(&self, now_ms: i64, links_before_ms: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM ui_sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM ui_sign_in_links WHERE created_at < $1")
            .bind(links_before_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Organizations whose contact address is `email` (case-insensitive).
    pub async fn orgs_by_contact(&self, email: &str) -> Result<Vec<OrgRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            crate::orgs::org_columns!(),
            " FROM orgs WHERE LOWER(contact_email) = LOWER($1) ORDER BY created_at, id"
        ))
        .bind(email)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a sign-in link for the organization.
    pub async fn insert_sign_in_link(
        &self,
        token_hash: &str,
        org_id: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ui_sign_in_links (token_hash, org_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(org_id)
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many sign-in links the organization got after `since_ms`.
    pub async fn sign_in_links_since(
        &self,
        org_id: &str,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM ui_sign_in_links WHERE org_id = $1 AND created_at > $2",
        )
        .bind(org_id)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The organization of a valid, unused link, if any (peeking, not using it).
    pub async fn sign_in_link_org(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT org_id FROM ui_sign_in_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Uses the link once: its organization, or None if it is unknown, used or expired.
    pub async fn use_sign_in_link(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE ui_sign_in_links SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING org_id",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?)
    }
}
