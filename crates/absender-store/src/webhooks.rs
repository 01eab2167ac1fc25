//! Webhook destinations, the events written for them in the same
//! transaction as the change they report (an outbox), and each event's
//! delivery to each destination, leased like the mail queue.

use crate::{
    NewWebhookEvent, Store, StoreError, WebhookAttempt, WebhookDeliveryRow, WebhookJob, WebhookRow,
};

macro_rules! columns {
    () => {
        "id, org_id, url, events, format, description, enabled, secret_enc, \
         previous_secret_enc, previous_until, failing_since, disabled_reason, created_at, updated_at"
    };
}
const INSERT: &str = concat!(
    "INSERT INTO webhooks (",
    columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
);
const OF_OWNER: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM webhooks WHERE org_id = $1 OR (org_id IS NULL AND CAST($1 AS TEXT) IS NULL) ORDER BY created_at, id"
);
const ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM webhooks WHERE id = $2 AND (org_id = $1 OR (org_id IS NULL AND CAST($1 AS TEXT) IS NULL))"
);
// An event is written only when some enabled destination wants it: its own
// organization's, or the operator's (no organization: every one's).
const INSERT_EVENT: &str = "INSERT INTO webhook_events (id, org_id, event_type, body, created_at) \
     SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM webhooks WHERE enabled = 1 \
     AND (org_id = $2 OR org_id IS NULL) AND events LIKE $6) ON CONFLICT (id) DO NOTHING";
const FAN_OUT: &str = "INSERT INTO webhook_deliveries (event_id, webhook_id, status, attempts, next_attempt_at, \
     lease_until, created_at) SELECT $1, id, 'pending', 0, $3, 0, $3 FROM webhooks WHERE enabled = 1 \
     AND (org_id = $2 OR org_id IS NULL) AND events LIKE $4 ON CONFLICT (event_id, webhook_id) DO NOTHING";
const WANTED: &str = "SELECT COUNT(*) FROM webhooks WHERE enabled = 1 AND (org_id = $1 OR org_id IS NULL) AND events LIKE $2";
// The outer conditions hold each row to its state when it is written; on
// PostgreSQL nodes skip the rows another node is claiming right now. An
// `sns` destination gets nothing but its confirmation until it is confirmed
// (its events wait unclaimed, as SNS holds them).
const CLAIM_SQLITE: &str = concat!(
    "UPDATE webhook_deliveries SET lease_until = $2, lease_owner = $4 \
     WHERE status = 'pending' AND lease_until < $1",
    owner_alive!(),
    " AND (event_id, webhook_id) IN (\
     SELECT event_id, webhook_id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
     AND lease_until < $1 AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_deliveries.webhook_id \
     AND w.format = 'sns' AND webhook_deliveries.event_id NOT LIKE w.id || '.subscription%' \
     AND NOT EXISTS (SELECT 1 FROM sns_confirmations c WHERE c.webhook_id = w.id)) \
     ORDER BY next_attempt_at LIMIT $3) RETURNING event_id, webhook_id"
);
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE webhook_deliveries SET lease_until = $2, lease_owner = $4 \
     WHERE status = 'pending' AND lease_until < $1",
    owner_alive_locked!(),
    " AND (event_id, webhook_id) IN (\
     SELECT event_id, webhook_id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
     AND lease_until < $1 AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_deliveries.webhook_id \
     AND w.format = 'sns' AND webhook_deliveries.event_id NOT LIKE w.id || '.subscription%' \
     AND NOT EXISTS (SELECT 1 FROM sns_confirmations c WHERE c.webhook_id = w.id)) \
     ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING event_id, webhook_id"
);
const JOBS: &str = "SELECT d.event_id, d.webhook_id, d.attempts, e.event_type, e.body, e.created_at AS event_created_at, \
     w.url, w.format, w.secret_enc, w.previous_secret_enc, w.previous_until, w.org_id, w.enabled, c.confirmed_at \
     FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id \
     LEFT JOIN sns_confirmations c ON c.webhook_id = w.id \
     WHERE (d.event_id, d.webhook_id) IN (SELECT * FROM (VALUES ";
// Only the node that holds the lease records the attempt.
const FINISH: &str = "UPDATE webhook_deliveries SET status = $3, attempts = $4, next_attempt_at = $5, lease_until = 0, \
     last_status = $6, last_latency_ms = $7, last_error = $8, last_attempt_at = $9 \
     WHERE event_id = $1 AND webhook_id = $2 AND lease_owner = $10 AND status = 'pending'";
// Written only when it changes something: most attempts succeed.
const SUCCEEDED: &str =
    "UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL";
const FAILED: &str =
    "UPDATE webhooks SET failing_since = COALESCE(failing_since, $2) WHERE id = $1";
const RECENT: &str = "SELECT event_id, webhook_id, status, attempts, last_status, last_latency_ms, last_error, \
     last_attempt_at, created_at FROM webhook_deliveries WHERE webhook_id = $1 AND last_attempt_at IS NOT NULL \
     ORDER BY last_attempt_at DESC LIMIT $2";

/// What a destination asks for, as `LIKE` finds it in its JSON list.
fn wanting(event_type: &str) -> String {
    format!("%\"{event_type}\"%")
}

/// Whether an enabled destination wants `event_type` of `org_id` (asked
/// before an event's body is built, which costs a read of its message).
pub(crate) async fn wanted(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org_id: &str,
    event_type: &str,
) -> Result<bool, StoreError> {
    let count: i64 = sqlx::query_scalar(WANTED)
        .bind(org_id)
        .bind(wanting(event_type))
        .fetch_one(&mut **tx)
        .await?;
    Ok(count > 0)
}

/// A message as mail events describe it: organization, From, recipients,
/// category, when it was accepted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct MailFacts {
    pub org_id: String,
    pub from_address: String,
    pub recipients: String,
    pub category: String,
    pub created_at: i64,
}

impl MailFacts {
    pub(crate) fn mail<'a>(&'a self, message_id: &'a str) -> absender_core::events::Mail<'a> {
        absender_core::events::Mail {
            org_id: &self.org_id,
            message_id,
            source: &self.from_address,
            destination: &self.recipients,
            category: &self.category,
            sent_at_ms: self.created_at,
        }
    }
}

/// What mail events say of each of these messages, one statement per chunk.
pub(crate) async fn mail_facts_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, MailFacts>, StoreError> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(crate::queue::ROWS_PER_STATEMENT) {
        let mut sql = crate::queue::with_rows(
            "SELECT id, org_id, from_address, recipients, category, created_at FROM messages WHERE id IN (VALUES ",
            &["CAST(? AS TEXT)"],
            chunk.len(),
        );
        sql.push(')');
        let mut query = sqlx::query_as::<_, (String, String, String, String, String, i64)>(
            sqlx::AssertSqlSafe(sql),
        );
        for id in chunk {
            query = query.bind(*id);
        }
        for (id, org_id, from_address, recipients, category, created_at) in
            query.fetch_all(&mut **tx).await?
        {
            let facts = MailFacts {
                org_id,
                from_address,
                recipients,
                category,
                created_at,
            };
            found.insert(id, facts);
        }
    }
    Ok(found)
}

/// Writes `event` and its deliveries inside `tx`, if a destination wants it.
pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    event: &NewWebhookEvent,
) -> Result<(), StoreError> {
    let wanted = wanting(&event.event_type);
    let written = sqlx::query(INSERT_EVENT)
        .bind(&event.id)
        .bind(event.org_id.as_deref())
        .bind(&event.event_type)
        .bind(&event.body)
        .bind(event.created_at)
        .bind(&wanted)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if written > 0 {
        sqlx::query(FAN_OUT)
            .bind(&event.id)
            .bind(event.org_id.as_deref())
            .bind(event.created_at)
            .bind(&wanted)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// `Delivery`, `Bounce` and `DeliveryDelay` for the written results of
    /// organizations' mail (absender's own notices make none), for whoever
    /// wants them, inside the results' transaction. A delay is an attempt
    /// that ended in a retry; a bounce is permanent when the address does not
    /// exist or the reply was a 5xx. `written` holds each written row's
    /// recipient index, part of the event's id.
    pub(crate) async fn delivery_events(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        updates: &[crate::DeliveryUpdate],
        written: &std::collections::HashMap<(String, String), i64>,
        system: &std::collections::HashSet<String>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if !self.any_webhooks(tx).await? {
            return Ok(());
        }
        use absender_core::events::{Outcome, delivery_event};
        let mut wants: std::collections::HashMap<(String, &'static str), bool> = Default::default();
        let mut events = Vec::new();
        for u in updates {
            let Some(index) = written.get(&(u.message_id.clone(), u.recipient.clone())) else {
                continue;
            };
            if system.contains(&u.message_id) {
                continue;
            }
            let reply = u.last_reply.as_deref().unwrap_or("");
            let (outcome, event_type, tag) = match u.status.as_str() {
                "delivered" => (Outcome::Delivered, "Delivery", "d"),
                "bounced" => {
                    let permanent = u.suppress.is_some()
                        || reply.starts_with('5')
                        || reply.starts_with("DSN 5");
                    (Outcome::Bounced { permanent }, "Bounce", "b")
                }
                "queued" if u.delayed => (Outcome::Delayed, "DeliveryDelay", "w"),
                _ => continue,
            };
            let key = (u.org_id.clone(), event_type);
            let wanted_here = match wants.get(&key) {
                Some(w) => *w,
                None => {
                    let w = wanted(tx, &u.org_id, event_type).await?;
                    wants.insert(key, w);
                    w
                }
            };
            if wanted_here {
                events.push((u, *index, outcome, tag));
            }
        }
        // The messages the events describe, read together.
        let mut ids: Vec<&str> = events.iter().map(|(u, ..)| u.message_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let facts = mail_facts_of(tx, &ids).await?;
        for (u, index, outcome, tag) in events {
            let reply = u.last_reply.as_deref().unwrap_or("");
            let Some(f) = facts.get(&u.message_id) else {
                continue;
            };
            let (kind, body) =
                delivery_event(&f.mail(&u.message_id), &u.recipient, outcome, reply, now_ms);
            let event = NewWebhookEvent {
                // One per recipient, attempt and outcome: the same on a retry of the write.
                id: format!("{}.{index}.{}.{tag}", u.message_id, u.attempts),
                org_id: Some(u.org_id.clone()),
                event_type: kind.into(),
                body,
                created_at: now_ms,
            };
            insert_event(tx, &event).await?;
        }
        Ok(())
    }

    /// Whether any destination is enabled, as read at most a second ago
    /// (mail events are neither built nor looked for without one). A
    /// destination made on this node counts at once ([`Self::insert_webhook`]);
    /// one made on another node within a second.
    pub(crate) async fn any_webhooks(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<bool, StoreError> {
        if let Some((at, any)) = *self.webhooks_seen.lock().expect("webhooks seen")
            && at.elapsed() < std::time::Duration::from_secs(1)
        {
            return Ok(any);
        }
        let any: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM webhooks WHERE enabled = 1 LIMIT 1) AS w",
        )
        .fetch_one(&mut **tx)
        .await?;
        *self.webhooks_seen.lock().expect("webhooks seen") =
            Some((std::time::Instant::now(), any > 0));
        Ok(any > 0)
    }

    /// Stores a new destination.
    pub async fn insert_webhook(&self, row: &WebhookRow) -> Result<(), StoreError> {
        sqlx::query(INSERT)
            .bind(&row.id)
            .bind(row.org_id.as_deref())
            .bind(&row.url)
            .bind(&row.events)
            .bind(&row.format)
            .bind(&row.description)
            .bind(i64::from(row.enabled))
            .bind(&row.secret_enc)
            .bind(row.previous_secret_enc.as_deref())
            .bind(row.previous_until)
            .bind(row.failing_since)
            .bind(row.disabled_reason.as_deref())
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&self.pool)
            .await?;
        // Mail events are looked for from now on.
        *self.webhooks_seen.lock().expect("webhooks seen") = None;
        Ok(())
    }

    /// The destinations of `org_id` (`None`: the operator's own), oldest first.
    pub async fn webhooks(&self, org_id: Option<&str>) -> Result<Vec<WebhookRow>, StoreError> {
        Ok(sqlx::query_as(OF_OWNER)
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// One destination of `org_id` (`None`: the operator's).
    pub async fn webhook(
        &self,
        org_id: Option<&str>,
        id: &str,
    ) -> Result<Option<WebhookRow>, StoreError> {
        Ok(sqlx::query_as(ONE)
            .bind(org_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Writes a changed destination (url, events, description, enabled,
    /// secrets, failure state).
    pub async fn update_webhook(&self, row: &WebhookRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhooks SET url = $2, events = $3, description = $4, enabled = $5, secret_enc = $6, \
             previous_secret_enc = $7, previous_until = $8, failing_since = $9, disabled_reason = $10, \
             updated_at = $11 WHERE id = $1",
        )
        .bind(&row.id)
        .bind(&row.url)
        .bind(&row.events)
        .bind(&row.description)
        .bind(i64::from(row.enabled))
        .bind(&row.secret_enc)
        .bind(row.previous_secret_enc.as_deref())
        .bind(row.previous_until)
        .bind(row.failing_since)
        .bind(row.disabled_reason.as_deref())
        .bind(row.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes a destination and what waits for it; whether it was there.
    pub async fn delete_webhook(&self, org_id: Option<&str>, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let gone = sqlx::query(
            "DELETE FROM webhooks WHERE id = $2 AND (org_id = $1 OR (org_id IS NULL AND CAST($1 AS TEXT) IS NULL))",
        )
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if gone {
            sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(gone)
    }

    /// Writes an event for one destination only (a test event).
    pub async fn insert_event_for(
        &self,
        event: &NewWebhookEvent,
        webhook_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_events (id, org_id, event_type, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&event.id)
        .bind(event.org_id.as_deref())
        .bind(&event.event_type)
        .bind(&event.body)
        .bind(event.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (event_id, webhook_id, status, attempts, next_attempt_at, lease_until, created_at) \
             VALUES ($1, $2, 'pending', 0, $3, 0, $3)",
        )
        .bind(&event.id)
        .bind(webhook_id)
        .bind(event.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether an enabled destination wants `event_type` of `org_id` (read
    /// with no destination at all from the one-second answer).
    pub async fn any_webhook_wants(
        &self,
        org_id: &str,
        event_type: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let wants =
            self.any_webhooks(&mut tx).await? && wanted(&mut tx, org_id, event_type).await?;
        tx.commit().await?;
        Ok(wants)
    }

    /// Records that an `sns` destination's receiver confirmed it (once).
    pub async fn confirm_sns(&self, webhook_id: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sns_confirmations (webhook_id, confirmed_at) VALUES ($1, $2) ON CONFLICT (webhook_id) DO NOTHING",
        )
        .bind(webhook_id)
        .bind(at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether an `sns` destination's receiver confirmed it.
    pub async fn sns_confirmed(&self, webhook_id: &str) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT confirmed_at FROM sns_confirmations WHERE webhook_id = $1")
                .bind(webhook_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Forgets an `sns` destination's confirmation (its URL changed, or it is gone).
    pub async fn unconfirm_sns(&self, webhook_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sns_confirmations WHERE webhook_id = $1")
            .bind(webhook_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Turns a destination off, saying why.
    pub async fn disable_webhook(
        &self,
        id: &str,
        reason: &str,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhooks SET enabled = 0, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND enabled = 1",
        )
        .bind(id)
        .bind(reason)
        .bind(at_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Frees every webhook delivery lease: for a single node (SQLite) at
    /// start-up, where any lease left is that of this node's dead process.
    pub async fn release_webhook_leases(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0",
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Writes an event (and its deliveries) for whoever wants it.
    pub async fn insert_webhook_event(&self, event: &NewWebhookEvent) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Leases up to `limit` deliveries due at `now_ms` to `owner` until
    /// `lease_until_ms`. A delivery whose destination is gone is dropped.
    pub async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
        owner: &str,
    ) -> Result<Vec<WebhookJob>, StoreError> {
        let claim = match self.backend {
            crate::Backend::Sqlite => CLAIM_SQLITE,
            crate::Backend::Postgres => CLAIM_POSTGRES,
        };
        // A write: on SQLite through the queue's one writer, not beside it.
        let claimed: Vec<(String, String)> = sqlx::query_as(claim)
            .bind(now_ms)
            .bind(lease_until_ms)
            .bind(limit)
            .bind(owner)
            .fetch_all(&self.queue_writer)
            .await?;
        // Read in one statement per chunk: a trip each would cost more than the row.
        let mut jobs: Vec<WebhookJob> = Vec::with_capacity(claimed.len());
        for chunk in claimed.chunks(crate::queue::ROWS_PER_STATEMENT) {
            let mut sql =
                crate::queue::with_rows(JOBS, &["CAST(? AS TEXT)", "CAST(? AS TEXT)"], chunk.len());
            // The pairs looked up in the primary key (`IN (VALUES …)` would scan on SQLite).
            sql.push_str(") AS v)");
            let mut query = sqlx::query_as::<_, WebhookJob>(sqlx::AssertSqlSafe(sql));
            for (event_id, webhook_id) in chunk {
                query = query.bind(event_id).bind(webhook_id);
            }
            jobs.extend(query.fetch_all(&self.pool).await?);
        }
        // A delivery whose destination is gone is dropped.
        for (event_id, webhook_id) in &claimed {
            if !jobs
                .iter()
                .any(|j| &j.event_id == event_id && &j.webhook_id == webhook_id)
            {
                sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE event_id = $1 AND webhook_id = $2",
                )
                .bind(event_id)
                .bind(webhook_id)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(jobs)
    }

    /// Records an attempt made under `owner`'s lease; a success clears the
    /// destination's failure, a failure starts it (if not started). Whether
    /// it was written (a node whose lease was taken writes nothing).
    pub async fn finish_webhook_delivery(
        &self,
        event_id: &str,
        webhook_id: &str,
        attempt: &WebhookAttempt,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let results = [(
            event_id.to_string(),
            webhook_id.to_string(),
            attempt.clone(),
        )];
        Ok(self.finish_webhook_deliveries(&results, owner).await?[0])
    }

    /// Records many attempts in one transaction (one commit, one fsync on
    /// SQLite, through the queue's writer), each as
    /// [`Self::finish_webhook_delivery`] does; whether each was written.
    pub async fn finish_webhook_deliveries(
        &self,
        results: &[(String, String, WebhookAttempt)],
        owner: &str,
    ) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.queue_writer.begin().await?;
        // In key order, whatever order they came in: two nodes' batches then
        // take their row locks alike and never deadlock on PostgreSQL.
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by(|a, b| {
            let (ea, wa, _) = &results[*a];
            let (eb, wb, _) = &results[*b];
            (wa, ea).cmp(&(wb, eb))
        });
        let mut written = vec![false; results.len()];
        for i in order {
            let (event_id, webhook_id, attempt) = &results[i];
            let done = sqlx::query(FINISH)
                .bind(event_id)
                .bind(webhook_id)
                .bind(attempt.status)
                .bind(attempt.attempts)
                .bind(attempt.next_attempt_at)
                .bind(attempt.http_status)
                .bind(attempt.latency_ms)
                .bind(attempt.error.as_deref())
                .bind(attempt.at_ms)
                .bind(owner)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
            written[i] = done;
            if !done {
                continue;
            }
            let query = if attempt.status == "delivered" {
                sqlx::query(SUCCEEDED).bind(webhook_id)
            } else {
                sqlx::query(FAILED).bind(webhook_id).bind(attempt.at_ms)
            };
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Disables a destination that has failed since before
    /// `failing_before`; whether this call did (one node tells its owner).
    pub async fn disable_failing_webhook(
        &self,
        id: &str,
        failing_before: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhooks SET enabled = 0, disabled_reason = 'every attempt failed for max_age', updated_at = $3 \
             WHERE id = $1 AND enabled = 1 AND failing_since IS NOT NULL AND failing_since <= $2",
        )
        .bind(id)
        .bind(failing_before)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes up to `limit` events from before `before_ms` whose deliveries
    /// are all done (delivered or given up), with those deliveries; how many.
    pub async fn delete_old_webhook_events(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM webhook_events e WHERE created_at < $1 AND NOT EXISTS (\
             SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending') LIMIT $2",
        )
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for id in &ids {
            sqlx::query("DELETE FROM webhook_deliveries WHERE event_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM webhook_events WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// The destination's latest attempts, newest first.
    pub async fn recent_webhook_deliveries(
        &self,
        webhook_id: &str,
        limit: i64,
    ) -> Result<Vec<WebhookDeliveryRow>, StoreError> {
        Ok(sqlx::query_as(RECENT)
            .bind(webhook_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}
