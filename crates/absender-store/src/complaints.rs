//! Complaints: each one suppresses its recipient for the organization,
//! counts toward the organization's reputation and makes a `Complaint`
//! event, all in one transaction, once per delivery.

use crate::{ComplaintRow, NewWebhookEvent, Store, StoreError};

const INSERT: &str = "INSERT INTO complaints (message_id, recipient, org_id, feedback_type, user_agent, \
     arrival_date, created_at, counted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (message_id, recipient) DO NOTHING";
// A complaint recorded as not counting counts once a trusted report names it.
const UPGRADE: &str =
    "UPDATE complaints SET counted = 1 WHERE message_id = $1 AND recipient = $2 AND counted = 0";
// A complaint replaces whatever suppressed the address before: it is the strongest reason.
const SUPPRESS: &str = "INSERT INTO suppressions (org_id, address, reason, detail, message_id, created_at) \
     VALUES ($1, $2, 'complaint', $3, $4, $5) ON CONFLICT (org_id, address) DO UPDATE SET \
     reason = excluded.reason, detail = excluded.detail, message_id = excluded.message_id, \
     created_at = excluded.created_at";
// Never more complaints than sends in the window.
const COUNT: &str = "UPDATE orgs SET rep_complaints = CASE WHEN rep_complaints + 1 > rep_sends \
     THEN rep_sends ELSE rep_complaints + 1 END WHERE id = $1";

impl Store {
    /// Records `row`, suppresses its recipient (as `suppression_key`, the
    /// address as the send path looks it up) with the reason `complaint`,
    /// counts it toward reputation (when `counts`: its reporter is trusted)
    /// and writes `event` for whoever wants it;
    /// false when this delivery has a complaint already (which then counts,
    /// if it did not and this one does; nothing else changes).
    pub async fn record_complaint(
        &self,
        row: &ComplaintRow,
        suppression_key: &str,
        event: &NewWebhookEvent,
        counts: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let new = sqlx::query(INSERT)
            .bind(&row.message_id)
            .bind(&row.recipient)
            .bind(&row.org_id)
            .bind(&row.feedback_type)
            .bind(row.user_agent.as_deref())
            .bind(row.arrival_date.as_deref())
            .bind(row.created_at)
            .bind(i64::from(counts))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if !new {
            let upgraded = counts
                && sqlx::query(UPGRADE)
                    .bind(&row.message_id)
                    .bind(&row.recipient)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0;
            if upgraded {
                sqlx::query(COUNT)
                    .bind(&row.org_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            return Ok(false);
        }
        // The organization first, then the suppression: the order the
        // delivery results take, so the two never deadlock on PostgreSQL.
        if counts {
            sqlx::query(COUNT)
                .bind(&row.org_id)
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!("complaint ({})", row.feedback_type);
        sqlx::query(SUPPRESS)
            .bind(&row.org_id)
            .bind(suppression_key)
            .bind(&detail)
            .bind(&row.message_id)
            .bind(row.created_at)
            .execute(&mut *tx)
            .await?;
        crate::webhooks::insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The organization's complaints since `since_ms`, newest first.
    pub async fn complaints_since(
        &self,
        org_id: &str,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<ComplaintRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT message_id, recipient, org_id, feedback_type, user_agent, arrival_date, created_at \
             FROM complaints WHERE org_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT $3",
        )
        .bind(org_id)
        .bind(since_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
