//! The retention sweep (`[retention]`): captured mail, redacted copies,
//! finished messages and identity events past their time are deleted, a
//! small batch at a time; retired DKIM keys are withdrawn once no queued
//! mail signed with them is left; keys older than `dkim.rotate_after` rotate.

use crate::{App, ServiceError};
use serde::Serialize;
use std::time::Duration;

/// How long the list of nodes shows one that ended.
const NODES_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Rows per statement: small enough that other writers barely wait.
const BATCH: i64 = 500;

/// What one sweep deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    pub outbox: u64,
    pub redacted: u64,
    pub messages: u64,
    pub events: u64,
    pub dkim_keys: u64,
    pub limit_events: u64,
    /// Webhook events whose deliveries were done twice `webhooks.max_age` ago.
    pub webhook_events: u64,
    /// Domains whose keys were rotated (`dkim.rotate_after`).
    pub rotated: u64,
    /// Nodes that ended (dead or stopped) more than a week ago.
    pub nodes: u64,
}

impl App {
    /// Deletes everything past its retention.
    pub async fn sweep_retention(&self) -> Result<Swept, ServiceError> {
        let r = &self.inner.settings.retention;
        let store = &self.inner.store;
        let now = self.now_ms();
        let before = |keep: Duration| now.saturating_sub(keep.as_millis() as i64);
        let max_age = self.inner.settings.sending.max_age;
        let swept = Swept {
            outbox: batches(|| store.delete_old_outbox(before(r.outbox), false, BATCH)).await?,
            redacted: batches(|| store.delete_old_outbox(before(r.redacted), true, BATCH)).await?,
            messages: batches(|| store.delete_finished_messages(before(r.messages), BATCH)).await?,
            events: batches(|| store.delete_old_events(before(r.events), BATCH)).await?,
            dkim_keys: store.delete_retired_dkim_keys(before(max_age)).await?,
            limit_events: store
                .sweep_limit_events(before(Duration::from_secs(24 * 3600)))
                .await?,
            webhook_events: batches(|| {
                let kept = self.inner.settings.webhooks.max_age * 2;
                store.delete_old_webhook_events(before(kept), BATCH)
            })
            .await?,
            rotated: self.identities().rotate_due_keys().await?,
            nodes: store.sweep_nodes(before(NODES_KEPT)).await?,
        };
        if swept != Swept::default() {
            tracing::info!(?swept, "retention sweep");
        }
        Ok(swept)
    }

    /// Sweeps every `retention.sweep_interval` until `shutdown`.
    pub async fn run_retention(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        // A zero interval in the config must not turn the sweep into a busy loop.
        let every = self
            .inner
            .settings
            .retention
            .sweep_interval
            .max(Duration::from_secs(1));
        loop {
            if let Err(e) = self.sweep_retention().await {
                tracing::warn!(error = %e, "retention sweep failed");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

/// Runs `delete` until a batch comes back short; the total.
async fn batches<F, Fut>(mut delete: F) -> Result<u64, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, absender_store::StoreError>>,
{
    let mut total = 0;
    loop {
        let n = delete().await?;
        total += n;
        if n < BATCH as u64 {
            return Ok(total);
        }
        // Let other work in between batches.
        tokio::task::yield_now().await;
    }
}
