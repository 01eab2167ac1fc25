//! The durable queue: messages with their bytes, one delivery per recipient,
//! leases for the workers, and results written back in groups.

use crate::{
    Backend, DeliveryRow, DeliveryUpdate, NewMessage, QueuedMessageRow, Store, StoreError,
};

const INSERT_MESSAGE_INTO: &str = "INSERT INTO messages (id, org_id, category, from_address, identity_id, fallback_reason, reply_to, \
     envelope_from, recipients, subject, status, created_at, raw) VALUES ";
const INSERT_DELIVERY_INTO: &str = "INSERT INTO deliveries (message_id, recipient, org_id, status, attempts, next_attempt_at, \
     lease_until, last_reply, created_at, updated_at, rcpt_index, lease_owner) VALUES ";
/// Rows in one statement at most: 64 × 13 parameters stays far below the
/// limits of both databases, and few sizes keep the statement cache small.
pub(crate) const ROWS_PER_STATEMENT: usize = 64;
macro_rules! delivery_columns {
    () => {
        "message_id, recipient, org_id, status, attempts, next_attempt_at, lease_until, last_reply, created_at, updated_at, rcpt_index, lease_owner"
    };
}
const CLAIM_SQLITE: &str = concat!(
    "UPDATE deliveries SET lease_until = $2, lease_owner = $4 WHERE (message_id, recipient) IN (\
     SELECT message_id, recipient FROM deliveries WHERE status = 'queued' AND next_attempt_at <= $1 \
     AND lease_until < $1 ORDER BY next_attempt_at LIMIT $3)",
    owner_alive!(),
    " RETURNING ",
    delivery_columns!()
);
// PostgreSQL: nodes skip rows another node is claiming right now.
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE deliveries SET lease_until = $2, lease_owner = $4 WHERE (message_id, recipient) IN (\
     SELECT message_id, recipient FROM deliveries WHERE status = 'queued' AND next_attempt_at <= $1 \
     AND lease_until < $1 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)",
    owner_alive_locked!(),
    " RETURNING ",
    delivery_columns!()
);
const QUEUED_MESSAGE: &str =
    "SELECT id, org_id, envelope_from, raw, created_at FROM messages WHERE id = $1";
const UPDATE_DELIVERIES: &str = "UPDATE deliveries SET status = v.column3, attempts = v.column4, \
     next_attempt_at = v.column5, lease_until = 0, last_reply = v.column6, updated_at = v.column7 FROM (VALUES ";
// Only the lease's owner writes a result: a node whose lease ran out (and
// was taken by another) writes nothing. Without an owner (a bounce report
// after the fact) only a delivered delivery changes, once.
const UPDATE_DELIVERIES_WHERE: &str = ") AS v WHERE deliveries.message_id = v.column1 AND deliveries.recipient = v.column2 \
     AND deliveries.lease_owner = COALESCE(v.column8, deliveries.lease_owner) \
     AND (v.column8 IS NOT NULL OR deliveries.status = 'delivered')";
const UPDATE_DELIVERY_COLUMNS: [&str; 8] = [
    "CAST(? AS TEXT)",
    "CAST(? AS TEXT)",
    "CAST(? AS TEXT)",
    "CAST(? AS BIGINT)",
    "CAST(? AS BIGINT)",
    "CAST(? AS TEXT)",
    "CAST(? AS BIGINT)",
    "CAST(? AS TEXT)",
];
// `IN (SELECT * FROM (VALUES …))`, not `IN (VALUES …)`: SQLite looks the
// pairs up in the primary key only in the first form (the second scans).
const RENEW_LEASES: &str = "UPDATE deliveries SET lease_until = $1 WHERE lease_owner = $2 AND status = 'queued' \
     AND lease_until > 0 AND (message_id, recipient) IN (SELECT * FROM (VALUES ";
// The bytes are no longer needed once no recipient waits for them.
const DROP_RAW_OF: &str = "UPDATE messages SET raw = NULL WHERE raw IS NOT NULL AND NOT EXISTS (\
     SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND d.status = 'queued') AND id IN (VALUES ";
const SUPPRESS: &str = "INSERT INTO suppressions (org_id, address, reason, detail, message_id, created_at) \
     VALUES ($1, LOWER($2), $3, $4, $5, $6) ON CONFLICT (org_id, address) DO NOTHING";
// Reputation counts, halved together once sends pass twice the window
// ($4); never more bounces than sends (reports of mail sent before a
// resume come after its reset).
const REPUTATION: &str = "UPDATE orgs SET \
     rep_sends = CASE WHEN rep_sends + $2 > $4 THEN (rep_sends + $2) / 2 ELSE rep_sends + $2 END, \
     rep_bounces = (CASE WHEN rep_bounces + $3 > rep_sends + $2 THEN rep_sends + $2 ELSE rep_bounces + $3 END) \
     / (CASE WHEN rep_sends + $2 > $4 THEN 2 ELSE 1 END), \
     rep_complaints = CASE WHEN rep_sends + $2 > $4 THEN rep_complaints / 2 ELSE rep_complaints END \
     WHERE id = $1";
// Which of these messages are absender's own notices (they do not count
// toward the organization's reputation).
const SYSTEM_OF: &str = "SELECT id FROM messages WHERE category = 'system' AND id IN (VALUES ";
const COUNT_QUEUED: &str = "SELECT COUNT(*) FROM deliveries WHERE status = 'queued'";

/// `head` followed by `rows` groups of numbered parameters, one per entry of
/// `columns`, each written as its entry says (`?` is the parameter), e.g.
/// `CAST(? AS BIGINT)` where PostgreSQL cannot tell the type. (sqlx's
/// `QueryBuilder` writes `?` for the `Any` driver, which PostgreSQL refuses.)
pub(crate) fn with_rows(head: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * columns.len() * 8);
    sql.push_str(head);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for (column, pattern) in columns.iter().enumerate() {
            if column > 0 {
                sql.push_str(", ");
            }
            let n = row * columns.len() + column + 1;
            sql.push_str(&pattern.replace('?', &format!("${n}")));
        }
        sql.push(')');
    }
    sql
}

impl Store {
    /// Stores messages with their deliveries in one transaction (group
    /// commit): once this returns, all of them are durable.
    pub async fn enqueue_messages(&self, batch: &[&NewMessage]) -> Result<(), StoreError> {
        let mut tx = self.queue_writer.begin().await?;
        // Many rows to a statement: each statement is a trip to the database
        // (and on SQLite to its worker thread), which costs more than the row.
        for chunk in batch.chunks(ROWS_PER_STATEMENT) {
            let sql = with_rows(INSERT_MESSAGE_INTO, &["?"; 13], chunk.len());
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for new in chunk {
                let m = &new.message;
                query = query
                    .bind(&m.id)
                    .bind(&m.org_id)
                    .bind(&m.category)
                    .bind(&m.from_address)
                    .bind(m.identity_id.as_deref())
                    .bind(m.fallback_reason.as_deref())
                    .bind(m.reply_to.as_deref())
                    .bind(&m.envelope_from)
                    .bind(&m.recipients)
                    .bind(&m.subject)
                    .bind(&m.status)
                    .bind(m.created_at)
                    .bind(new.raw.as_deref());
            }
            query.execute(&mut *tx).await?;
        }
        let deliveries: Vec<&DeliveryRow> = batch.iter().flat_map(|n| &n.deliveries).collect();
        for chunk in deliveries.chunks(ROWS_PER_STATEMENT) {
            let sql = with_rows(INSERT_DELIVERY_INTO, &["?"; 12], chunk.len());
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for d in chunk {
                query = query
                    .bind(&d.message_id)
                    .bind(&d.recipient)
                    .bind(&d.org_id)
                    .bind(&d.status)
                    .bind(d.attempts)
                    .bind(d.next_attempt_at)
                    .bind(d.lease_until)
                    .bind(d.last_reply.as_deref())
                    .bind(d.created_at)
                    .bind(d.updated_at)
                    .bind(d.rcpt_index)
                    .bind(&d.lease_owner);
            }
            query.execute(&mut *tx).await?;
        }
        for new in batch {
            if let Some(c) = &new.captured {
                crate::outbox::insert_query(c).execute(&mut *tx).await?;
            }
        }
        // `Send` for whoever wants it, in the same transaction.
        let mut wants = std::collections::HashMap::new();
        let any = self.any_webhooks(&mut tx).await?;
        for new in batch.iter().filter(|_| any) {
            let m = &new.message;
            if m.category == "system" {
                continue;
            }
            if !*match wants.entry(m.org_id.as_str()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(crate::webhooks::wanted(&mut tx, &m.org_id, "Send").await?)
                }
            } {
                continue;
            }
            let mail = absender_core::events::Mail {
                org_id: &m.org_id,
                message_id: &m.id,
                source: &m.from_address,
                destination: &m.recipients,
                category: &m.category,
                sent_at_ms: m.created_at,
            };
            let event = crate::NewWebhookEvent {
                id: format!("{}.send", m.id),
                org_id: Some(m.org_id.clone()),
                event_type: "Send".into(),
                body: absender_core::events::send_event(&mail),
                created_at: m.created_at,
            };
            crate::webhooks::insert_event(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Leases up to `limit` deliveries that are due at `now_ms` and that no
    /// live lease holds, to `owner` until `lease_until_ms`.
    pub async fn claim_due_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
        owner: &str,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let claim = match self.backend {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        Ok(sqlx::query_as(claim)
            .bind(now_ms)
            .bind(lease_until_ms)
            .bind(limit)
            .bind(owner)
            .fetch_all(&self.queue_writer)
            .await?)
    }

    /// Extends `owner`'s leases on these deliveries (message id, recipient)
    /// to `lease_until_ms`; returns those it still held (the others were
    /// written meanwhile or taken by another node).
    pub async fn renew_delivery_leases(
        &self,
        keys: &[(String, String)],
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut renewed = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let mut sql = RENEW_LEASES.to_string();
            for row in 0..chunk.len() {
                let n = 3 + 2 * row;
                if row > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(CAST(${n} AS TEXT), CAST(${} AS TEXT))", n + 1));
            }
            sql.push_str(") AS v) RETURNING message_id, recipient");
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(lease_until_ms)
                .bind(owner);
            for (message_id, recipient) in chunk {
                query = query.bind(message_id).bind(recipient);
            }
            renewed.extend(query.fetch_all(&self.queue_writer).await?);
        }
        Ok(renewed)
    }

    /// A queued message's envelope and bytes.
    pub async fn queued_message(&self, id: &str) -> Result<Option<QueuedMessageRow>, StoreError> {
        Ok(sqlx::query_as(QUEUED_MESSAGE)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Writes the results of many attempts in one transaction, suppresses
    /// hard-bounced recipients, and drops the bytes of finished messages.
    /// With an `owner`, only deliveries whose lease it holds are written (a
    /// result of a lease that ran out and was taken is dropped, and logged);
    /// without, any (a bounce report about a finished delivery).
    pub async fn finish_deliveries(
        &self,
        updates: &[DeliveryUpdate],
        now_ms: i64,
        owner: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.queue_writer.begin().await?;
        // Written rows by (message, recipient), with their recipient index.
        let mut written_keys: std::collections::HashMap<(String, String), i64> = Default::default();
        for chunk in updates.chunks(ROWS_PER_STATEMENT) {
            let mut sql = with_rows(UPDATE_DELIVERIES, &UPDATE_DELIVERY_COLUMNS, chunk.len());
            sql.push_str(UPDATE_DELIVERIES_WHERE);
            sql.push_str(
                " RETURNING deliveries.message_id, deliveries.recipient, deliveries.rcpt_index",
            );
            let mut query = sqlx::query_as::<_, (String, String, i64)>(sqlx::AssertSqlSafe(sql));
            for u in chunk {
                query = query
                    .bind(&u.message_id)
                    .bind(&u.recipient)
                    .bind(&u.status)
                    .bind(u.attempts)
                    .bind(u.next_attempt_at)
                    .bind(u.last_reply.as_deref())
                    .bind(now_ms)
                    .bind(owner);
            }
            let written = query.fetch_all(&mut *tx).await?;
            let written_here = written.len();
            written_keys.extend(written.into_iter().map(|(m, r, i)| ((m, r), i)));
            if written_here < chunk.len() {
                tracing::warn!(
                    results = chunk.len(),
                    written = written_here,
                    "results of deliveries whose lease another node took were dropped"
                );
            }
        }
        // Reputation: each attempt's end is a send (a bounce report that
        // comes later is not another one), and a hard bounce counts once.
        let mut written_ids: Vec<&str> = updates
            .iter()
            .filter(|u| written_keys.contains_key(&(u.message_id.clone(), u.recipient.clone())))
            .map(|u| u.message_id.as_str())
            .collect();
        written_ids.sort_unstable();
        written_ids.dedup();
        let mut system = std::collections::HashSet::new();
        for chunk in written_ids.chunks(ROWS_PER_STATEMENT) {
            let mut sql = with_rows(SYSTEM_OF, &["CAST(? AS TEXT)"], chunk.len());
            sql.push(')');
            let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            system.extend(query.fetch_all(&mut *tx).await?);
        }
        let mut reputation: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
        for u in updates {
            if !written_keys.contains_key(&(u.message_id.clone(), u.recipient.clone()))
                || system.contains(&u.message_id)
            {
                continue;
            }
            let entry = reputation.entry(u.org_id.as_str()).or_default();
            if owner.is_some() && matches!(u.status.as_str(), "delivered" | "bounced") {
                entry.0 += 1;
            }
            if u.suppress.as_deref() == Some("hard_bounce") {
                entry.1 += 1;
            }
        }
        for (org_id, (sends, bounces)) in reputation {
            if sends + bounces > 0 {
                sqlx::query(REPUTATION)
                    .bind(org_id)
                    .bind(sends)
                    .bind(bounces)
                    .bind(2 * self.reputation_window())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.delivery_events(&mut tx, updates, &written_keys, &system, now_ms)
            .await?;
        // Only a result that was written suppresses: a dropped one is another node's to decide.
        for u in updates {
            let written = written_keys.contains_key(&(u.message_id.clone(), u.recipient.clone()));
            if let Some(reason) = u.suppress.as_ref().filter(|_| written) {
                sqlx::query(SUPPRESS)
                    .bind(&u.org_id)
                    .bind(&u.recipient)
                    .bind(reason)
                    .bind(u.last_reply.as_deref())
                    .bind(&u.message_id)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Messages finished here lose their bytes in the same transaction.
        let mut finished: Vec<&str> = updates
            .iter()
            .filter(|u| u.status != "queued")
            .map(|u| u.message_id.as_str())
            .collect();
        finished.sort_unstable();
        finished.dedup();
        for chunk in finished.chunks(ROWS_PER_STATEMENT) {
            let mut sql = with_rows(DROP_RAW_OF, &["?"], chunk.len());
            sql.push(')');
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The deliveries of one message, in recipient order.
    pub async fn deliveries(&self, message_id: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries WHERE message_id = $1 ORDER BY recipient"
        ))
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Frees every delivery lease: for a single node (SQLite) at start-up,
    /// where any lease left is that of this node's previous, dead process.
    pub async fn release_delivery_leases(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE deliveries SET lease_until = 0 WHERE status = 'queued' AND lease_until > 0",
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// How many deliveries wait (due or deferred).
    pub async fn queued_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(COUNT_QUEUED).fetch_one(&self.pool).await?;
        Ok(n)
    }
}
