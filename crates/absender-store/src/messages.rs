//! Messages sent by organizations.

use crate::{MessageRow, OutboxRow, Store, StoreError};

const INSERT: &str = "INSERT INTO messages (id, org_id, category, from_address, identity_id, fallback_reason, reply_to, \
     envelope_from, recipients, subject, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const GET: &str = "SELECT id, org_id, category, from_address, identity_id, fallback_reason, reply_to, envelope_from, \
     recipients, subject, status, created_at FROM messages WHERE org_id = $1 AND id = $2";
const INSERT_OUTBOX: &str = "INSERT INTO outbox (id, org_id, category, mail_from, rcpt_to, subject, raw, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

impl Store {
    /// Stores a message and its captured bytes in one transaction: once this
    /// returns, the message is durable.
    pub async fn insert_captured_message(
        &self,
        message: &MessageRow,
        captured: &OutboxRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(INSERT)
            .bind(&message.id)
            .bind(&message.org_id)
            .bind(&message.category)
            .bind(&message.from_address)
            .bind(message.identity_id.as_deref())
            .bind(message.fallback_reason.as_deref())
            .bind(message.reply_to.as_deref())
            .bind(&message.envelope_from)
            .bind(&message.recipients)
            .bind(&message.subject)
            .bind(&message.status)
            .bind(message.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_OUTBOX)
            .bind(&captured.id)
            .bind(captured.org_id.as_deref())
            .bind(&captured.category)
            .bind(&captured.mail_from)
            .bind(&captured.rcpt_to)
            .bind(&captured.subject)
            .bind(&captured.raw)
            .bind(captured.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One message of the organization.
    pub async fn message(&self, org_id: &str, id: &str) -> Result<Option<MessageRow>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(org_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
