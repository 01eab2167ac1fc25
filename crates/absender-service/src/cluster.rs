//! This node among the others on one database: it registers with its
//! listeners, beats every `cluster.heartbeat`, declares nodes silent for
//! `cluster.dead_after` dead (which frees the work they held, at once), and
//! stops taking work when another node declared it dead.

use crate::clock::rfc3339;
use crate::{App, Caller, ServiceError};
use absender_store::NodeRow;
use serde::Serialize;
use std::future::Future;

/// The nodes of the cluster, for the operator.
pub struct Cluster<'a> {
    pub(crate) app: &'a App,
}

/// Where a node listens, as it registered.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Listeners {
    pub http: String,
    pub smtp: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub smtp_tls: Option<String>,
    pub dns: String,
}

/// `GET /api/v1/nodes`: one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    pub id: String,
    pub listeners: Listeners,
    pub version: String,
    pub started_at: String,
    pub last_heartbeat_at: String,
    /// Deliveries it holds a live lease on now.
    pub deliveries_held: i64,
    /// Identities it is checking now.
    pub checks_held: i64,
    /// `alive`, `dead` (declared by another node) or `stopped` (in good order).
    pub state: &'static str,
    /// Whether this is the node that answered.
    pub this_node: bool,
}

/// Another node declared this one dead: it took no work since and must
/// exit, so that its supervisor starts it afresh.
#[derive(Debug, thiserror::Error)]
#[error(
    "node {node} was declared dead by another node (no heartbeat written for cluster.dead_after); \
     it takes no more work and exits, to be restarted"
)]
pub struct DeclaredDead {
    pub node: String,
}

impl Cluster<'_> {
    /// This node's id (`node_…`, new at every start): the owner of its leases.
    pub fn node_id(&self) -> &str {
        &self.app.inner.node
    }

    /// Whether this node's last heartbeat was written recently enough that
    /// no other node can have declared it dead (a margin of one heartbeat
    /// within `dead_after`). Measured in this process's own monotonic time:
    /// a pause or a lost database link stops its deliveries before the
    /// others take them.
    pub fn beating(&self) -> bool {
        let settings = &self.app.inner.settings.cluster;
        let allowed = settings.dead_after.saturating_sub(settings.heartbeat);
        self.app
            .inner
            .last_beat
            .lock()
            .expect("last beat")
            .elapsed()
            < allowed
            && !self.app.inner.declared_dead.is_cancelled()
    }

    fn beat_written(&self, sent_at: std::time::Instant) {
        let mut last = self.app.inner.last_beat.lock().expect("last beat");
        *last = (*last).max(sent_at);
    }

    /// Resolves when another node declared this one dead.
    pub async fn declared_dead(&self) {
        self.app.inner.declared_dead.cancelled().await;
    }

    /// Enters this node in the store. On SQLite (one node per file) every
    /// node of an earlier run is declared dead at once, its leases freed.
    pub async fn register(&self, listeners: &Listeners) -> Result<(), ServiceError> {
        let store = &self.app.inner.store;
        let sent_at = std::time::Instant::now();
        // The database's clock: nodes compare heartbeats, and their own
        // clocks may differ.
        let now = store.database_now_ms().await?;
        store
            .register_node(&NodeRow {
                id: self.node_id().to_string(),
                listeners: serde_json::to_string(listeners)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
                version: env!("CARGO_PKG_VERSION").to_string(),
                started_at: now,
                last_heartbeat_at: now,
                dead_at: None,
                stopped_at: None,
            })
            .await?;
        self.beat_written(sent_at);
        if store.backend() == absender_store::Backend::Sqlite {
            // One node per SQLite file: every earlier one is gone.
            self.declare_dead(now, i64::MAX).await;
        }
        Ok(())
    }

    /// Beats until `shutdown`, declaring silent nodes dead on the way;
    /// returns `Err` when this node finds itself declared dead.
    pub async fn run_heartbeat(
        &self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), DeclaredDead> {
        let settings = &self.app.inner.settings.cluster;
        let mut tick = tokio::time::interval(settings.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        let dead_after = i64::try_from(settings.dead_after.as_millis()).unwrap_or(i64::MAX);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                _ = tick.tick() => {}
            }
            let store = &self.app.inner.store;
            let sent_at = std::time::Instant::now();
            let now = match store.database_now_ms().await {
                Ok(now) => now,
                Err(e) => {
                    tracing::warn!(error = %e, "writing this node's heartbeat failed");
                    continue;
                }
            };
            match store.node_heartbeat(self.node_id(), now).await {
                Ok(true) => self.beat_written(sent_at),
                Ok(false) => {
                    let dead = DeclaredDead {
                        node: self.node_id().to_string(),
                    };
                    tracing::error!("{dead}");
                    self.app.inner.declared_dead.cancel();
                    self.app.inner.queue.fence_all();
                    return Err(dead);
                }
                Err(e) => tracing::warn!(error = %e, "writing this node's heartbeat failed"),
            }
            // On SQLite this is the only node (others were declared dead at its start).
            if store.backend() == absender_store::Backend::Postgres {
                self.declare_dead(now, now.saturating_sub(dead_after)).await;
            }
        }
    }

    /// Declares every other node silent since `silent_since_ms` dead and
    /// frees its work; wakes this node's delivery loop for what was freed.
    async fn declare_dead(&self, now: i64, silent_since_ms: i64) {
        let store = &self.app.inner.store;
        match store
            .declare_dead_nodes(self.node_id(), now, silent_since_ms)
            .await
        {
            Ok(freed) => {
                for work in &freed {
                    tracing::warn!(
                        node = %work.node,
                        deliveries = work.deliveries,
                        checks = work.checks,
                        webhook_deliveries = work.webhook_deliveries,
                        "a node stopped beating: declared dead, its work freed for the others"
                    );
                    self.app.inner.metrics.nodes_declared_dead.inc();
                }
                if freed.iter().any(|w| w.deliveries > 0) {
                    self.app.inner.queue.wake_for_freed_work();
                }
                if freed.iter().any(|w| w.checks > 0) {
                    self.app.inner.wake_checks.notify_one();
                }
                if freed.iter().any(|w| w.webhook_deliveries > 0) {
                    self.app.inner.wake_webhooks.notify_one();
                }
            }
            Err(e) => tracing::warn!(error = %e, "looking for dead nodes failed"),
        }
    }

    /// Marks this node stopped and frees what it still holds (the last step
    /// of a stop in good order, and of a node declared dead).
    pub async fn leave(&self) -> Result<(), ServiceError> {
        // Attempts abandoned by the stop must not send DATA once another
        // node may have taken their deliveries.
        self.app.inner.queue.fence_all();
        let store = &self.app.inner.store;
        let now = store.database_now_ms().await?;
        let freed = store.stop_node(self.node_id(), now).await?;
        if freed.deliveries + freed.checks + freed.webhook_deliveries > 0 {
            tracing::info!(
                deliveries = freed.deliveries,
                checks = freed.checks,
                webhook_deliveries = freed.webhook_deliveries,
                "left work unfinished for the other nodes"
            );
        }
        Ok(())
    }

    /// Every node known (the operator's), the oldest first.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<NodeView>, ServiceError> {
        caller.require_operator()?;
        let now = self.app.now_ms();
        let nodes = self.app.inner.store.nodes(now).await?;
        Ok(nodes
            .into_iter()
            .map(|n| NodeView {
                this_node: n.node.id == self.app.inner.node,
                state: match (n.node.dead_at, n.node.stopped_at) {
                    (Some(_), _) => "dead",
                    (None, Some(_)) => "stopped",
                    (None, None) => "alive",
                },
                listeners: serde_json::from_str(&n.node.listeners).unwrap_or_default(),
                started_at: rfc3339(n.node.started_at),
                last_heartbeat_at: rfc3339(n.node.last_heartbeat_at),
                id: n.node.id,
                version: n.node.version,
                deliveries_held: n.deliveries_held,
                checks_held: n.checks_held,
            })
            .collect())
    }
}
