//! SMTP submission credentials.

use crate::{SmtpCredentialRow, Store, StoreError};

macro_rules! columns {
    () => {
        "id, org_id, username, secret_hash, description, created_at"
    };
}

impl Store {
    /// Stores a new credential (its password only as a hash).
    pub async fn insert_smtp_credential(&self, row: &SmtpCredentialRow) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO smtp_credentials (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&row.id)
        .bind(&row.org_id)
        .bind(&row.username)
        .bind(&row.secret_hash)
        .bind(row.description.as_deref())
        .bind(row.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The organization's credentials, oldest first.
    pub async fn list_smtp_credentials(
        &self,
        org_id: &str,
    ) -> Result<Vec<SmtpCredentialRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM smtp_credentials WHERE org_id = $1 ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A credential by its login name.
    pub async fn smtp_credential_by_username(
        &self,
        username: &str,
    ) -> Result<Option<SmtpCredentialRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM smtp_credentials WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Revokes a credential of the organization; false if it has none by that id.
    pub async fn delete_smtp_credential(&self, org_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM smtp_credentials WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
