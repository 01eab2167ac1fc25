//! What happened to an organization's messages, read back from the tables
//! that hold their state (messages, deliveries, complaints, unsubscribes):
//! the event history needs no log of its own beside the webhook outbox.

use crate::{ComplaintRow, DeliveryRow, MessageRow, Store, StoreError, SuppressionRow};

const MESSAGES_SINCE: &str = "SELECT id, org_id, category, from_address, identity_id, fallback_reason, reply_to, \
     envelope_from, recipients, subject, status, created_at FROM messages WHERE org_id = $1 AND category <> 'system' \
     AND (created_at > $2 OR (created_at = $2 AND id > $3)) ORDER BY created_at, id LIMIT $4";
const COMPLAINTS_OF: &str = "SELECT message_id, recipient, org_id, feedback_type, user_agent, arrival_date, created_at \
     FROM complaints WHERE message_id = $1";
const UNSUBSCRIBES_OF: &str = "SELECT org_id, address, reason, detail, message_id, created_at FROM suppressions \
     WHERE org_id = $1 AND message_id = $2 AND reason = 'unsubscribe'";
// Per day (UTC) since $2: messages sent, and deliveries that ended or were delayed, by outcome.
const SENDS_PER_DAY: &str = "SELECT created_at / 86400000 AS day, COUNT(*) FROM messages \
     WHERE org_id = $1 AND created_at >= $2 AND category <> 'system' GROUP BY created_at / 86400000";
const RESULTS_PER_DAY: &str = "SELECT d.updated_at / 86400000 AS day, d.status, COUNT(*) FROM messages m \
     JOIN deliveries d ON d.message_id = m.id WHERE m.org_id = $1 AND m.created_at >= $3 AND d.updated_at >= $2 \
     AND m.category <> 'system' AND d.status IN ('delivered', 'bounced', 'captured') \
     GROUP BY d.updated_at / 86400000, d.status";
const COMPLAINTS_PER_DAY: &str = "SELECT created_at / 86400000 AS day, COUNT(*) FROM complaints \
     WHERE org_id = $1 AND created_at >= $2 GROUP BY created_at / 86400000";

/// One message and everything that happened to it.
#[derive(Debug, Clone)]
pub struct MessageHistory {
    pub message: MessageRow,
    pub deliveries: Vec<DeliveryRow>,
    pub complaints: Vec<ComplaintRow>,
    pub unsubscribes: Vec<SuppressionRow>,
}

/// Counts of one day (days since the Unix epoch, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub day: i64,
    pub sends: i64,
    pub deliveries: i64,
    pub bounces: i64,
    pub complaints: i64,
}

impl Store {
    /// The organization's messages (not absender's notices) accepted after
    /// `(after_ms, after_id)`, oldest first, at most `limit`.
    pub async fn messages_after(
        &self,
        org_id: &str,
        after_ms: i64,
        after_id: &str,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        Ok(sqlx::query_as(MESSAGES_SINCE)
            .bind(org_id)
            .bind(after_ms)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// What happened to `message`: its deliveries, complaints and the
    /// unsubscribes that came from it.
    pub async fn history(&self, message: MessageRow) -> Result<MessageHistory, StoreError> {
        let deliveries = self.deliveries(&message.id).await?;
        let complaints = sqlx::query_as(COMPLAINTS_OF)
            .bind(&message.id)
            .fetch_all(&self.pool)
            .await?;
        // Only invitations carry unsubscribe links.
        let unsubscribes = match message.category.as_str() {
            "invitation" => {
                sqlx::query_as(UNSUBSCRIBES_OF)
                    .bind(&message.org_id)
                    .bind(&message.id)
                    .fetch_all(&self.pool)
                    .await?
            }
            _ => Vec::new(),
        };
        Ok(MessageHistory {
            message,
            deliveries,
            complaints,
            unsubscribes,
        })
    }

    /// Sends, deliveries, bounces and complaints per day from `since_ms`
    /// (a day boundary), for the days that had any, oldest first. Results
    /// are counted for messages sent at most `max_age_ms` before `since_ms`.
    pub async fn counts_per_day(
        &self,
        org_id: &str,
        since_ms: i64,
        max_age_ms: i64,
    ) -> Result<Vec<DayCounts>, StoreError> {
        let mut days: std::collections::BTreeMap<i64, DayCounts> = Default::default();
        let sends: Vec<(i64, i64)> = sqlx::query_as(SENDS_PER_DAY)
            .bind(org_id)
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await?;
        for (day, n) in sends {
            days.entry(day).or_default().sends += n;
        }
        let results: Vec<(i64, String, i64)> = sqlx::query_as(RESULTS_PER_DAY)
            .bind(org_id)
            .bind(since_ms)
            .bind(since_ms - max_age_ms)
            .fetch_all(&self.pool)
            .await?;
        for (day, status, n) in results {
            let counts = days.entry(day).or_default();
            match status.as_str() {
                "bounced" => counts.bounces += n,
                _ => counts.deliveries += n,
            }
        }
        let complaints: Vec<(i64, i64)> = sqlx::query_as(COMPLAINTS_PER_DAY)
            .bind(org_id)
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await?;
        for (day, n) in complaints {
            days.entry(day).or_default().complaints += n;
        }
        Ok(days
            .into_iter()
            .map(|(day, counts)| DayCounts { day, ..counts })
            .collect())
    }
}
