//! Email templates, each organization's by name.

use crate::{Store, StoreError, TemplateRow};

macro_rules! columns {
    () => {
        "id, org_id, name, subject, text_part, html_part, tags, created_at, updated_at"
    };
}

impl Store {
    /// Stores a new template; `Conflict` if the organization has the name.
    pub async fn insert_template(&self, row: &TemplateRow) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO templates (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&row.id)
        .bind(&row.org_id)
        .bind(&row.name)
        .bind(&row.subject)
        .bind(&row.text_part)
        .bind(&row.html_part)
        .bind(&row.tags)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The organization's template by name.
    pub async fn template(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<Option<TemplateRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM templates WHERE org_id = $1 AND name = $2"
        ))
        .bind(org_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The organization's templates by name, after `after` when paging.
    pub async fn list_templates(
        &self,
        org_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TemplateRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM templates WHERE org_id = $1 AND name > $2 ORDER BY name LIMIT $3"
        ))
        .bind(org_id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The organization's template names and creation times by name, after
    /// `after`: a listing without the templates' text (up to 500 KiB each).
    pub async fn list_template_names(
        &self,
        org_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, created_at FROM templates WHERE org_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(org_id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many templates the organization has.
    pub async fn count_templates(&self, org_id: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM templates WHERE org_id = $1")
                .bind(org_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Replaces a template's content; whether it exists.
    pub async fn update_template(
        &self,
        org_id: &str,
        name: &str,
        subject: &str,
        text_part: Option<&str>,
        html_part: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE templates SET subject = $3, text_part = $4, html_part = $5, updated_at = $6 \
             WHERE org_id = $1 AND name = $2",
        )
        .bind(org_id)
        .bind(name)
        .bind(subject)
        .bind(text_part)
        .bind(html_part)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a template; whether it existed.
    pub async fn delete_template(&self, org_id: &str, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM templates WHERE org_id = $1 AND name = $2")
            .bind(org_id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
