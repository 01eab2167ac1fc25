//! Messages sent by organizations.

use crate::{MessageRow, Store, StoreError};

const GET: &str = "SELECT id, org_id, category, from_address, identity_id, fallback_reason, reply_to, envelope_from, \
     recipients, subject, status, created_at FROM messages WHERE org_id = $1 AND id = $2";
impl Store {
    /// One message of the organization.
    pub async fn message(&self, org_id: &str, id: &str) -> Result<Option<MessageRow>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(org_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
