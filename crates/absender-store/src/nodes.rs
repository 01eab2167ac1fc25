//! The nodes of a cluster: who is there, who beats, and the work of a node
//! that stopped beating, freed at once.

use crate::{NodeRow, Store, StoreError};

const REGISTER: &str = "INSERT INTO nodes (id, listeners, version, started_at, last_heartbeat_at) \
     VALUES ($1, $2, $3, $4, $4)";
// A node declared dead stays dead: its beat changes nothing and tells it so.
const BEAT: &str = "UPDATE nodes SET last_heartbeat_at = $2 WHERE id = $1 AND dead_at IS NULL AND stopped_at IS NULL";
const DECLARE_DEAD: &str = "UPDATE nodes SET dead_at = $1 WHERE dead_at IS NULL AND stopped_at IS NULL \
     AND last_heartbeat_at < $2 AND id <> $3 RETURNING id";
// PostgreSQL: waits for claims that hold the row key-share locked (see
// `owner_alive_locked!`), and keeps new ones waiting until the commit.
const LOCK_NODE: &str = "SELECT id FROM nodes WHERE id = $1 FOR UPDATE";
const LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '1s'";
const STOPPED: &str = "UPDATE nodes SET stopped_at = $2 WHERE id = $1 AND stopped_at IS NULL";
const FREE_DELIVERIES: &str = "UPDATE deliveries SET lease_until = 0 \
     WHERE status = 'queued' AND lease_until > 0 AND lease_owner = $1";
const FREE_CHECKS: &str =
    "UPDATE identities SET lease_until = NULL WHERE lease_until IS NOT NULL AND lease_owner = $1";
const FREE_EVENTS: &str = "UPDATE webhook_deliveries SET lease_until = 0 \
     WHERE status = 'pending' AND lease_until > 0 AND lease_owner = $1";
const ALL: &str = "SELECT id, listeners, version, started_at, last_heartbeat_at, dead_at, stopped_at \
     FROM nodes ORDER BY started_at, id";
// Counted at the moment of asking; only live leases are held.
const DELIVERIES_HELD: &str = "SELECT lease_owner, COUNT(*) FROM deliveries \
     WHERE status = 'queued' AND lease_until > $1 GROUP BY lease_owner";
const CHECKS_HELD: &str =
    "SELECT lease_owner, COUNT(*) FROM identities WHERE lease_until > $1 GROUP BY lease_owner";
const SWEEP: &str = "DELETE FROM nodes WHERE last_heartbeat_at < $1 AND (dead_at IS NOT NULL OR stopped_at IS NOT NULL)";

/// Frees what `node` holds (deliveries, checks, webhook deliveries).
async fn free_work(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    node: String,
) -> Result<FreedWork, StoreError> {
    let mut work = FreedWork {
        node,
        ..FreedWork::default()
    };
    for (sql, count) in [
        (FREE_DELIVERIES, &mut work.deliveries),
        (FREE_CHECKS, &mut work.checks),
        (FREE_EVENTS, &mut work.webhook_deliveries),
    ] {
        *count = sqlx::query(sql)
            .bind(&work.node)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    Ok(work)
}

/// What a dead node held and was freed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreedWork {
    pub node: String,
    pub deliveries: u64,
    pub checks: u64,
    pub webhook_deliveries: u64,
}

/// A node with what it holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeWithWork {
    pub node: NodeRow,
    pub deliveries_held: i64,
    pub checks_held: i64,
}

// The database's clock in Unix milliseconds: nodes compare heartbeats in
// one clock, whatever their own say.
const NOW_POSTGRES: &str = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
const NOW_SQLITE: &str = "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS BIGINT)";

impl Store {
    /// The database server's time now, in Unix milliseconds.
    pub async fn database_now_ms(&self) -> Result<i64, StoreError> {
        let sql = match self.backend {
            crate::Backend::Sqlite => NOW_SQLITE,
            crate::Backend::Postgres => NOW_POSTGRES,
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    /// Enters a node that starts now.
    pub async fn register_node(&self, node: &NodeRow) -> Result<(), StoreError> {
        sqlx::query(REGISTER)
            .bind(&node.id)
            .bind(&node.listeners)
            .bind(&node.version)
            .bind(node.started_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The node's heartbeat; `false` when it was declared dead (or stopped),
    /// and must take no more work.
    pub async fn node_heartbeat(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(BEAT)
            .bind(id)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Declares dead every node but `me` whose last heartbeat is older than
    /// `silent_since_ms`, and frees what it held (deliveries, checks, webhook
    /// deliveries) in the same transaction. Of several nodes asking at once,
    /// one declares each dead node and frees its work.
    pub async fn declare_dead_nodes(
        &self,
        me: &str,
        now_ms: i64,
        silent_since_ms: i64,
    ) -> Result<Vec<FreedWork>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == crate::Backend::Postgres {
            // Locks a paused node still holds must not stall the heartbeat
            // of the node asking: it gives up and asks again at its next beat.
            sqlx::query(LOCK_TIMEOUT).execute(&mut *tx).await?;
        }
        let dead: Vec<(String,)> = sqlx::query_as(DECLARE_DEAD)
            .bind(now_ms)
            .bind(silent_since_ms)
            .bind(me)
            .fetch_all(&mut *tx)
            .await?;
        let mut freed = Vec::with_capacity(dead.len());
        for (node,) in dead {
            self.lock_node(&mut tx, &node).await?;
            freed.push(free_work(&mut tx, node).await?);
        }
        tx.commit().await?;
        Ok(freed)
    }

    /// Marks a node stopped (it ended in good order, or found itself dead)
    /// and frees what it still holds, for the others to take at once.
    pub async fn stop_node(&self, id: &str, now_ms: i64) -> Result<FreedWork, StoreError> {
        let mut tx = self.pool.begin().await?;
        self.lock_node(&mut tx, id).await?;
        sqlx::query(STOPPED)
            .bind(id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let work = free_work(&mut tx, id.to_string()).await?;
        tx.commit().await?;
        Ok(work)
    }

    /// Waits for the node's claims in flight (PostgreSQL; SQLite writes one
    /// at a time anyway).
    async fn lock_node(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
    ) -> Result<(), StoreError> {
        if self.backend == crate::Backend::Postgres {
            sqlx::query(LOCK_NODE).bind(id).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Every node known, the oldest first, with the leases each holds at `now_ms`.
    pub async fn nodes(&self, now_ms: i64) -> Result<Vec<NodeWithWork>, StoreError> {
        let nodes: Vec<NodeRow> = sqlx::query_as(ALL).fetch_all(&self.pool).await?;
        let deliveries: Vec<(Option<String>, i64)> = sqlx::query_as(DELIVERIES_HELD)
            .bind(now_ms)
            .fetch_all(&self.pool)
            .await?;
        let checks: Vec<(Option<String>, i64)> = sqlx::query_as(CHECKS_HELD)
            .bind(now_ms)
            .fetch_all(&self.pool)
            .await?;
        let held = |counts: &[(Option<String>, i64)], id: &str| {
            counts
                .iter()
                .find(|(owner, _)| owner.as_deref() == Some(id))
                .map_or(0, |(_, n)| *n)
        };
        Ok(nodes
            .into_iter()
            .map(|node| NodeWithWork {
                deliveries_held: held(&deliveries, &node.id),
                checks_held: held(&checks, &node.id),
                node,
            })
            .collect())
    }

    /// Forgets nodes that ended before `before_ms`.
    pub async fn sweep_nodes(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(SWEEP)
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
