//! SES-style access keys (SigV4), their secrets sealed.

use crate::{AccessKeyRow, Store, StoreError};

macro_rules! columns {
    () => {
        "id, org_id, access_key_id, secret_enc, created_at"
    };
}

impl Store {
    /// Stores a new access key.
    pub async fn insert_access_key(&self, row: &AccessKeyRow) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO access_keys (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(&row.id)
        .bind(&row.org_id)
        .bind(&row.access_key_id)
        .bind(&row.secret_enc)
        .bind(row.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The organization's access keys, oldest first.
    pub async fn list_access_keys(&self, org_id: &str) -> Result<Vec<AccessKeyRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM access_keys WHERE org_id = $1 ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// An access key by its access key id (`AKIA…`), to check a signature.
    pub async fn access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM access_keys WHERE access_key_id = $1"
        ))
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Revokes an access key of the organization, named by its id or its
    /// access key id; false if it has none by that name.
    pub async fn delete_access_key(&self, org_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM access_keys WHERE org_id = $1 AND (id = $2 OR access_key_id = $2)",
        )
        .bind(org_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
