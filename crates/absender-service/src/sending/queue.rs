//! The durable queue at work. Intake writes accepted messages in groups (one
//! transaction and one fsync for many requests). The delivery loop leases due
//! deliveries, hands each message to a worker, and writes the results back in
//! groups. Nothing is lost on a crash: a delivery leaves the queue only when
//! its result is written, and a dead worker's lease runs out.

use super::Delivery;
use crate::batch_write::{WhenAway, write_isolating};
use crate::settings::DeliveryMode;
use crate::{App, ServiceError};
use absender_core::delivery::{self, Attempt, Next, RetryPolicy};
use absender_core::net::is_special_purpose;
use absender_dns::MxError;
use absender_mail::smtp_client::{Destination, Destinations};
use absender_store::{
    DeliveryRow, DeliveryUpdate, NewMessage, QueuedMessageRow, Store, StoreError,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};

/// Requests written in one transaction at most.
const INTAKE_BATCH: usize = 256;
/// Results written in one transaction at most.
const RESULT_BATCH: usize = 512;
/// How long a stop waits for running attempts and their results.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
/// How long results are gathered before they are written.
const RESULT_LINGER: std::time::Duration = std::time::Duration::from_millis(50);

struct Pending {
    message: NewMessage,
    /// Leased to this node at intake: handed to the delivery loop once stored.
    fresh: Option<Fresh>,
    done: oneshot::Sender<Result<(), String>>,
}

/// A message that goes to the workers straight from intake, bytes and all,
/// without being read back from the store.
pub(crate) struct Fresh {
    deliveries: Vec<DeliveryRow>,
    message: QueuedMessageRow,
}

/// A message's bytes for its attempts. A fresh message's are in memory; a
/// claimed one's are read from the store only once an attempt holds a slot
/// at its destination, and let go whenever an attempt must wait for one: a
/// message waiting for a busy destination holds neither its bytes nor a
/// place among the loaded ones, so mail to other destinations still loads.
struct MessageBytes<'q> {
    id: String,
    fresh: bool,
    message: Option<QueuedMessageRow>,
    /// A place among the loaded ones, held while claimed bytes are in memory.
    place: Option<tokio::sync::SemaphorePermit<'q>>,
}

impl<'q> MessageBytes<'q> {
    /// Lets claimed bytes and their place go (before a wait).
    fn release(&mut self) {
        if !self.fresh {
            self.message = None;
            self.place = None;
        }
    }

    /// The message with its bytes, read from the store if they were let go.
    async fn get(&mut self, queue: &'q Queue, store: &Store) -> Result<&QueuedMessageRow, Attempt> {
        if self.message.is_none() {
            let place = queue.loaded.acquire().await.expect("never closed");
            match store.queued_message(&self.id).await {
                Ok(Some(message)) if message.raw.is_some() => {
                    self.message = Some(message);
                    self.place = Some(place);
                }
                Ok(_) => {
                    tracing::error!(message_id = %self.id, "queued message has no bytes; bouncing");
                    return Err(Attempt::Refused {
                        code: 554,
                        reply: "5.3.0 absender lost the message bytes".into(),
                    });
                }
                Err(e) => {
                    tracing::warn!(message_id = %self.id, error = %e, "could not load a queued message");
                    return Err(Attempt::Unreachable {
                        reason: format!("absender could not read the queue: {e}"),
                    });
                }
            }
        }
        Ok(self.message.as_ref().expect("loaded above"))
    }
}

/// Messages up to this size go to the workers from memory; larger ones are
/// read back when a worker takes them up, to bound memory.
const FRESH_MAX_BYTES: usize = 256 * 1024;

/// The queue's shared parts.
pub(crate) struct Queue {
    intake: mpsc::Sender<Pending>,
    /// Wakes the delivery loop: new work, or room for more.
    wake: Arc<Notify>,
    in_flight: Arc<AtomicUsize>,
    /// The store may hold due deliveries that no worker has: set at start,
    /// when a message is stored without being handed over from memory, and
    /// when a claim filled every free place (or failed). While it is clear,
    /// the delivery loop claims only every poll interval (for retries coming
    /// due), not on every wake.
    backlog: Arc<AtomicBool>,
    workers: Arc<Semaphore>,
    /// Claimed messages with their bytes in memory at once (as many as
    /// workers): bounds memory when a backlog of large messages is claimed.
    /// Taken only while an attempt holds its destination's slot.
    loaded: Semaphore,
    destinations: Destinations,
    /// This node's name on the leases it takes (`Inner::node`).
    owner: String,
    /// The deliveries this node holds (leased and not yet written back):
    /// their leases are renewed while they wait and run.
    held: std::sync::Mutex<HashMap<(String, String), Arc<Lease>>>,
    /// Taken by the delivery loop when it starts.
    fresh_out: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Fresh>>>,
}

impl Queue {
    /// Starts the intake writer on `store`.
    pub fn start(store: Store, workers: usize, destinations: Destinations, owner: String) -> Self {
        let (intake, requests) = mpsc::channel(INTAKE_BATCH * 8);
        let wake = Arc::new(Notify::new());
        let (fresh, fresh_out) = mpsc::unbounded_channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write_intake(
            store,
            requests,
            wake.clone(),
            fresh,
            in_flight.clone(),
        ));
        Self {
            intake,
            wake,
            in_flight,
            backlog: Arc::new(AtomicBool::new(true)),
            workers: Arc::new(Semaphore::new(workers.max(1))),
            loaded: Semaphore::new(workers.max(1)),
            destinations,
            owner,
            held: std::sync::Mutex::new(HashMap::new()),
            fresh_out: std::sync::Mutex::new(Some(fresh_out)),
        }
    }
}

impl Queue {
    /// Ends every lease this node holds, as far as its workers know: an
    /// attempt that has not sent DATA yet does not (the node is leaving, or
    /// was declared dead, and its deliveries go to the others).
    pub(crate) fn fence_all(&self) {
        for lease in self.held.lock().expect("held lock").values() {
            lease.until_ms.store(0, Ordering::Release);
        }
    }

    /// Work another node held was freed: claim at once, not at the next poll.
    pub(crate) fn wake_for_freed_work(&self) {
        self.backlog.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// Commits whatever requests are waiting, together; answers each, and hands
/// the messages leased at intake to the delivery loop.
async fn write_intake(
    store: Store,
    mut requests: mpsc::Receiver<Pending>,
    wake: Arc<Notify>,
    fresh: mpsc::UnboundedSender<Fresh>,
    in_flight: Arc<AtomicUsize>,
) {
    let mut batch = Vec::with_capacity(INTAKE_BATCH);
    while requests.recv_many(&mut batch, INTAKE_BATCH).await > 0 {
        let messages: Vec<&NewMessage> = batch.iter().map(|p| &p.message).collect();
        let results: Vec<Result<(), String>> = match store.enqueue_messages(&messages).await {
            Ok(()) => vec![Ok(()); batch.len()],
            // One bad message must not sink the others: write them one by one.
            Err(e) if batch.len() > 1 => {
                tracing::warn!(error = %e, "group commit failed; writing one by one");
                let mut results = Vec::with_capacity(batch.len());
                for message in &messages {
                    results.push(
                        store
                            .enqueue_messages(&[*message])
                            .await
                            .map_err(|e| e.to_string()),
                    );
                }
                results
            }
            Err(e) => vec![Err(e.to_string())],
        };
        for (pending, result) in batch.drain(..).zip(results) {
            if let Some(f) = pending.fresh {
                if result.is_ok() {
                    // Only once stored: nothing accepted lives in memory only.
                    let _ = fresh.send(f);
                } else {
                    release(&in_flight, f.deliveries.len());
                }
            }
            let _ = pending.done.send(result);
        }
        wake.notify_one();
    }
}

/// Takes room for `n` deliveries in memory, if there is that much left.
fn reserve(in_flight: &AtomicUsize, n: usize, limit: usize) -> bool {
    in_flight
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
            (v + n <= limit).then_some(v + n)
        })
        .is_ok()
}

/// Gives back room for `n` deliveries.
fn release(in_flight: &AtomicUsize, n: usize) {
    let _ = in_flight.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
        Some(v.saturating_sub(n))
    });
}

/// How long a held delivery's lease is known to run: until the last
/// renewal that found it still this node's. A worker sends DATA only while
/// it runs, so a node that was paused, or cut off from the database, while
/// another node took its delivery over does not send the message a second time.
#[derive(Debug)]
pub(crate) struct Lease {
    until_ms: AtomicI64,
}

impl Lease {
    fn new(until_ms: i64) -> Arc<Self> {
        Arc::new(Self {
            until_ms: AtomicI64::new(until_ms),
        })
    }

    /// Whether the lease still runs `margin_ms` after `now_ms`.
    pub(crate) fn runs_beyond(&self, now_ms: i64, margin_ms: i64) -> bool {
        self.until_ms.load(Ordering::Acquire) > now_ms.saturating_add(margin_ms)
    }
}

impl Queue {
    /// Marks the deliveries not yet held as held; returns those.
    fn hold_new(&self, deliveries: Vec<DeliveryRow>) -> Vec<DeliveryRow> {
        let mut held = self.held.lock().expect("held lock");
        deliveries
            .into_iter()
            .filter(|d| {
                let key = (d.message_id.clone(), d.recipient.clone());
                match held.entry(key) {
                    // Claimed again while still held here: the worker on it
                    // goes on under the new lease.
                    std::collections::hash_map::Entry::Occupied(held) => {
                        held.get()
                            .until_ms
                            .fetch_max(d.lease_until, Ordering::AcqRel);
                        false
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(Lease::new(d.lease_until));
                        true
                    }
                }
            })
            .collect()
    }

    /// Marks deliveries as held by this node (their leases are renewed).
    fn hold(&self, deliveries: &[DeliveryRow]) {
        let mut held = self.held.lock().expect("held lock");
        for d in deliveries {
            held.insert(
                (d.message_id.clone(), d.recipient.clone()),
                Lease::new(d.lease_until),
            );
        }
    }

    /// The lease this node holds on a delivery, if it holds one.
    fn lease_of(&self, d: &DeliveryRow) -> Option<Arc<Lease>> {
        self.held
            .lock()
            .expect("held lock")
            .get(&(d.message_id.clone(), d.recipient.clone()))
            .cloned()
    }

    fn let_go(&self, updates: &[DeliveryUpdate]) {
        let mut held = self.held.lock().expect("held lock");
        for u in updates {
            held.remove(&(u.message_id.clone(), u.recipient.clone()));
        }
    }
}

impl Delivery<'_> {
    /// Extends the leases of every delivery this node holds; those the store
    /// no longer has as this node's are marked as ended.
    async fn renew_leases(&self, lease_ms: i64) {
        let queue = &self.app.inner.queue;
        let held: Vec<((String, String), Arc<Lease>)> = queue
            .held
            .lock()
            .expect("held lock")
            .iter()
            .map(|(key, lease)| (key.clone(), lease.clone()))
            .collect();
        if held.is_empty() {
            return;
        }
        let keys: Vec<(String, String)> = held.iter().map(|(key, _)| key.clone()).collect();
        let until = self.app.now_ms().saturating_add(lease_ms);
        match self
            .app
            .inner
            .store
            .renew_delivery_leases(&keys, &queue.owner, until)
            .await
        {
            Ok(renewed) => {
                let renewed: std::collections::HashSet<(String, String)> =
                    renewed.into_iter().collect();
                for (key, lease) in &held {
                    let until = if renewed.contains(key) { until } else { 0 };
                    lease.until_ms.store(until, Ordering::Release);
                }
                if renewed.len() < held.len() {
                    tracing::debug!(
                        held = held.len(),
                        renewed = renewed.len(),
                        "some held deliveries were written meanwhile or taken by another node"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not renew delivery leases"),
        }
    }

    /// Stores a message durably; returns once it is on disk. When the workers
    /// have room, its deliveries are leased to this node at once and handed
    /// over from memory.
    pub(crate) async fn enqueue(&self, mut message: NewMessage) -> Result<(), ServiceError> {
        let queue = &self.app.inner.queue;
        let settings = &self.app.inner.settings.sending;
        let n = message.deliveries.len();
        let mut fresh = None;
        // Once stopping, nothing is leased here: another node (or the next
        // start) claims it from the store at once.
        if let Some(raw) = message.raw.as_ref().filter(|r| r.len() <= FRESH_MAX_BYTES)
            && settings.mode != DeliveryMode::Capture
            && !self.app.inner.stopping.is_cancelled()
            && reserve(&queue.in_flight, n, settings.in_flight)
        {
            let lease_ms = i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
            let lease_until = self.app.now_ms().saturating_add(lease_ms);
            for d in &mut message.deliveries {
                d.lease_until = lease_until;
                d.lease_owner = queue.owner.clone();
            }
            self.app.inner.metrics.in_flight.inc_by(n as i64);
            let m = &message.message;
            fresh = Some(Fresh {
                deliveries: message.deliveries.clone(),
                message: QueuedMessageRow {
                    id: m.id.clone(),
                    org_id: m.org_id.clone(),
                    envelope_from: m.envelope_from.clone(),
                    raw: Some(raw.clone()),
                    created_at: m.created_at,
                },
            });
        }
        // Otherwise (no room, or too large) the delivery loop claims it from the store.
        if fresh.is_none() {
            queue.backlog.store(true, Ordering::Release);
        }
        let (done, answer) = oneshot::channel();
        let sent = queue
            .intake
            .send(Pending {
                message,
                fresh,
                done,
            })
            .await;
        sent.map_err(|_| ServiceError::Internal("the queue is shut down".into()))?;
        answer
            .await
            .map_err(|_| ServiceError::Internal("the queue writer stopped".into()))?
            .map_err(ServiceError::Internal)
    }

    /// Delivers queued mail until `shutdown`: leases due deliveries, gives
    /// each message to a worker, writes results back in groups.
    pub async fn run_delivery(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let settings = &self.app.inner.settings.sending;
        if settings.mode == DeliveryMode::Capture {
            // Mail is captured at intake; nothing waits in the queue.
            shutdown.await;
            return;
        }
        let queue = &self.app.inner.queue;
        let (results, updates) = mpsc::channel::<DeliveryUpdate>(settings.in_flight.max(1));
        let writer = tokio::spawn(write_results(self.app.clone(), updates));
        let lease_ms = i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
        let mut fresh = queue
            .fresh_out
            .lock()
            .expect("fresh lock")
            .take()
            .expect("one delivery loop per process");
        let mut last_claim: Option<Instant> = None;
        // Held leases are renewed three times a lease, so a slow peer (an
        // attempt longer than the lease) never lets another node take one.
        let mut renew =
            tokio::time::interval((settings.lease / 3).max(std::time::Duration::from_millis(100)));
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let free = settings
                .in_flight
                .saturating_sub(queue.in_flight.load(Ordering::Acquire));
            let mut full = false;
            let polling = last_claim.is_none_or(|at| at.elapsed() >= settings.poll_interval);
            // Cleared before the claim: a message stored meanwhile sets it again.
            // A node whose heartbeat is not being written claims nothing:
            // it could not send what it claimed (see `beating`).
            if free > 0
                && self.app.cluster().beating()
                && (queue.backlog.swap(false, Ordering::AcqRel) || polling)
            {
                last_claim = Some(Instant::now());
                let now = self.app.now_ms();
                match self
                    .app
                    .inner
                    .store
                    .claim_due_deliveries(
                        now,
                        now.saturating_add(lease_ms),
                        free as i64,
                        &queue.owner,
                    )
                    .await
                {
                    Ok(claimed) => {
                        full = claimed.len() == free;
                        if full {
                            queue.backlog.store(true, Ordering::Release);
                        }
                        self.dispatch(claimed, &results);
                    }
                    Err(e) => {
                        queue.backlog.store(true, Ordering::Release);
                        tracing::warn!(error = %e, "could not claim deliveries");
                    }
                }
            }
            if full {
                // More may be due: look again as soon as there is room.
                tokio::task::yield_now().await;
            }
            tokio::select! {
                _ = &mut shutdown => break,
                Some(f) = fresh.recv() => {
                    // Straight from intake; claim nothing until the fresh ones are out.
                    self.dispatch_fresh(f, &results);
                    while let Ok(f) = fresh.try_recv() {
                        self.dispatch_fresh(f, &results);
                    }
                    continue;
                }
                _ = queue.wake.notified() => {}
                _ = tokio::time::sleep(settings.poll_interval) => {}
                _ = renew.tick() => self.renew_leases(lease_ms).await,
            }
        }
        drop(results);
        // What was delivered is written before the stop, or it would be sent
        // again after a restart. Attempts still running after a moment are
        // left: their leases run out and they are tried again (at-least-once).
        let mut writer = writer;
        if tokio::time::timeout(STOP_GRACE, &mut writer).await.is_err() {
            writer.abort();
        }
        // Nothing writes results any more: attempts still running must not
        // send DATA, as their deliveries go to the other nodes.
        queue.fence_all();
    }

    /// A worker task for a message leased at intake (already counted in flight).
    fn dispatch_fresh(&self, f: Fresh, results: &mpsc::Sender<DeliveryUpdate>) {
        self.app.inner.queue.hold(&f.deliveries);
        let app = self.app.clone();
        let results = results.clone();
        tokio::spawn(async move {
            app.delivery()
                .deliver_message(f.deliveries, Some(f.message), results)
                .await
        });
    }

    /// One worker task per message, for the recipients claimed.
    fn dispatch(&self, claimed: Vec<DeliveryRow>, results: &mpsc::Sender<DeliveryUpdate>) {
        let queue = &self.app.inner.queue;
        // A delivery this node still holds (its lease ran out while renewals
        // failed) is already being attempted here: not twice.
        let claimed = queue.hold_new(claimed);
        queue.in_flight.fetch_add(claimed.len(), Ordering::AcqRel);
        self.app
            .inner
            .metrics
            .in_flight
            .inc_by(claimed.len() as i64);
        let mut by_message: HashMap<String, Vec<DeliveryRow>> = HashMap::new();
        for d in claimed {
            by_message.entry(d.message_id.clone()).or_default().push(d);
        }
        for (_, deliveries) in by_message {
            let app = self.app.clone();
            let results = results.clone();
            tokio::spawn(async move {
                app.delivery()
                    .deliver_message(deliveries, None, results)
                    .await
            });
        }
    }

    async fn deliver_message(
        &self,
        deliveries: Vec<DeliveryRow>,
        fresh: Option<QueuedMessageRow>,
        results: mpsc::Sender<DeliveryUpdate>,
    ) {
        // No worker and no bytes are taken here: a worker is held only while
        // talking to a destination, and a claimed message's bytes only once
        // its slot there is free (see `MessageBytes`).
        let mut bytes = MessageBytes {
            id: deliveries[0].message_id.clone(),
            fresh: fresh.is_some(),
            message: fresh,
            place: None,
        };
        let mut exchangers = HashMap::new();
        for d in deliveries {
            let started = Instant::now();
            let attempt = self.attempt(&mut bytes, &d, &mut exchangers).await;
            self.app
                .inner
                .metrics
                .attempt_seconds
                .observe(started.elapsed().as_secs_f64());
            let created_at = bytes
                .message
                .as_ref()
                .map_or(d.created_at, |m| m.created_at);
            let update = self.outcome(&d, created_at, &attempt);
            if results.send(update).await.is_err() {
                return;
            }
        }
    }

    /// One attempt for one recipient, by the configured mode.
    async fn attempt<'q>(
        &'q self,
        bytes: &mut MessageBytes<'q>,
        d: &DeliveryRow,
        exchangers: &mut HashMap<String, Result<Vec<Arc<Destination>>, MxError>>,
    ) -> Attempt {
        let queue = &self.app.inner.queue;
        let targets = match self.app.inner.settings.sending.mode {
            DeliveryMode::Mx => {
                let domain = d.recipient.rsplit_once('@').map_or("", |(_, d)| d);
                if !exchangers.contains_key(domain) {
                    let found = self.mx_destinations(domain).await;
                    exchangers.insert(domain.to_string(), found);
                }
                match &exchangers[domain] {
                    Ok(targets) => targets.clone(),
                    Err(MxError::NoMail(reason)) => {
                        return Attempt::NoMailDomain {
                            reason: format!("5.1.2 {reason}"),
                        };
                    }
                    Err(MxError::Temporary(reason)) => {
                        return Attempt::Unreachable {
                            reason: reason.clone(),
                        };
                    }
                }
            }
            _ => match queue.destinations.relay().await {
                Ok(relay) => vec![relay],
                Err(reason) => return Attempt::Unreachable { reason },
            },
        };
        let index = u32::try_from(d.rcpt_index).unwrap_or_default();
        // DATA goes out only while this node's lease runs, with a sixth of
        // a lease to spare for the clocks of other nodes.
        let lease = queue.lease_of(d);
        let margin_ms = i64::try_from(self.app.inner.settings.sending.lease.as_millis() / 6)
            .unwrap_or(i64::MAX);
        // And only while this node's heartbeat is recent enough that no
        // other node can have declared it dead and taken its work.
        let still_ours = || {
            self.app.cluster().beating()
                && lease
                    .as_ref()
                    .is_some_and(|lease| lease.runs_beyond(self.app.now_ms(), margin_ms))
        };
        if !still_ours() {
            return Attempt::Fenced;
        }
        let mut last = Attempt::Unreachable {
            reason: "no destination".into(),
        };
        // The next host is tried only when one cannot be reached at all.
        for target in targets {
            let reserved = match target.try_reserve() {
                Some(reserved) => reserved,
                None => {
                    // Waiting: the bytes go back until the slot is ours.
                    bytes.release();
                    match target.reserve().await {
                        Some(reserved) => reserved,
                        None => {
                            last = Attempt::Busy;
                            break;
                        }
                    }
                }
            };
            let message = match bytes.get(queue, &self.app.inner.store).await {
                Ok(message) => message,
                Err(attempt) => return attempt,
            };
            let envelope_from =
                self.app
                    .suppressions()
                    .return_path(&message.id, index, &message.envelope_from);
            last = reserved
                .send(
                    &envelope_from,
                    &d.recipient,
                    message.raw.as_deref().unwrap_or_default(),
                    &queue.workers,
                    &still_ours,
                )
                .await;
            if !matches!(last, Attempt::Unreachable { .. }) {
                break;
            }
        }
        last
    }

    /// The places to try for `domain`, best first: at most 5 mail exchangers
    /// and 2 addresses each, none at a special-purpose address unless allowed.
    async fn mx_destinations(&self, domain: &str) -> Result<Vec<Arc<Destination>>, MxError> {
        let destinations = &self.app.inner.queue.destinations;
        let allow_private = self.app.inner.settings.sending.allow_private_targets;
        let mut targets = Vec::new();
        let mut refused = Vec::new();
        for exchanger in self
            .app
            .inner
            .dns_client
            .mail_exchangers(domain)
            .await?
            .into_iter()
            .take(MAX_EXCHANGERS)
        {
            let (usable, special): (Vec<IpAddr>, Vec<IpAddr>) = exchanger
                .addresses
                .into_iter()
                .partition(|ip| allow_private || !is_special_purpose(*ip));
            refused.extend(
                special
                    .iter()
                    .map(|ip| format!("{} ({ip})", exchanger.host)),
            );
            for ip in usable.into_iter().take(ADDRESSES_PER_EXCHANGER) {
                targets.push(destinations.mx(&exchanger.host, ip));
            }
        }
        if targets.is_empty() && !refused.is_empty() {
            return Err(MxError::Temporary(format!(
                "the mail exchangers of {domain} are at special-purpose addresses (RFC 6890), where absender does not deliver: {}",
                refused.join(", ")
            )));
        }
        Ok(targets)
    }

    /// The delivery's next state after `attempt`.
    fn outcome(&self, d: &DeliveryRow, created_at: i64, attempt: &Attempt) -> DeliveryUpdate {
        let s = &self.app.inner.settings.sending;
        let policy = RetryPolicy {
            first_retry: s.first_retry,
            max_retry: s.max_retry,
            max_age: s.max_age,
            busy_requeue: s.slot_wait,
        };
        let attempts = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
        let now = self.app.now_ms();
        let next = delivery::next(attempt, attempts, created_at, now, &policy, rand::random());
        let metrics = &self.app.inner.metrics;
        let (status, next_attempt_at, reply, suppress) = match next {
            Next::Delivered { reply } => {
                metrics.attempt("delivered");
                metrics
                    .delivery_seconds
                    .observe((now - created_at).max(0) as f64 / 1000.0);
                ("delivered", now, reply, None)
            }
            Next::Retry { at_ms, reply } => {
                metrics.attempt("deferred");
                ("queued", at_ms, reply, None)
            }
            // Not an attempt: the attempts and the last reply stay.
            Next::Requeued { at_ms } => {
                return DeliveryUpdate {
                    message_id: d.message_id.clone(),
                    recipient: d.recipient.clone(),
                    org_id: d.org_id.clone(),
                    status: "queued".into(),
                    attempts: d.attempts,
                    next_attempt_at: at_ms,
                    last_reply: d.last_reply.clone(),
                    suppress: None,
                    delayed: false,
                };
            }
            Next::Bounced { reply, suppress } => {
                metrics.attempt("bounced");
                (
                    "bounced",
                    now,
                    reply,
                    suppress.then(|| "hard_bounce".to_string()),
                )
            }
        };
        if status != "delivered" {
            tracing::info!(message_id = %d.message_id, status, reply = %reply, "delivery attempt");
        }
        DeliveryUpdate {
            message_id: d.message_id.clone(),
            recipient: d.recipient.clone(),
            org_id: d.org_id.clone(),
            status: status.into(),
            attempts: i64::from(attempts),
            next_attempt_at,
            last_reply: Some(reply),
            suppress,
            delayed: status == "queued",
        }
    }
}

/// Mail exchangers tried per attempt, best first.
const MAX_EXCHANGERS: usize = 5;
/// Addresses tried per mail exchanger.
const ADDRESSES_PER_EXCHANGER: usize = 2;

/// Writes attempt results in groups and frees room in the queue.
async fn write_results(app: App, mut updates: mpsc::Receiver<DeliveryUpdate>) {
    let queue = &app.inner.queue;
    let mut batch = Vec::with_capacity(RESULT_BATCH);
    while updates.recv_many(&mut batch, RESULT_BATCH).await > 0 {
        // Results are not urgent (a lease keeps the delivery meanwhile): a
        // moment's wait gathers more per transaction, and the queue's one
        // writer is left to intake, whose clients wait for their answer.
        tokio::time::sleep(RESULT_LINGER).await;
        while batch.len() < RESULT_BATCH {
            match updates.try_recv() {
                Ok(update) => batch.push(update),
                Err(_) => break,
            }
        }
        // The results are all that says these were sent: while the database
        // is away they wait for it; a batch it refuses is halved so that one
        // bad row holds up no other.
        let store = &app.inner.store;
        let now = app.now_ms();
        let owner = Some(queue.owner.as_str());
        let failed = write_isolating(&batch, WhenAway::Wait, StoreError::is_transient, |part| {
            store.finish_deliveries(part, now, owner)
        })
        .await;
        for (update, e) in failed {
            // The reply is the only text from outside: without it the row
            // is written, so the delivery is neither stalled nor sent again.
            let bare = DeliveryUpdate {
                last_reply: None,
                ..update.clone()
            };
            if let Err(again) = store
                .finish_deliveries(std::slice::from_ref(&bare), now, owner)
                .await
            {
                tracing::error!(
                    message_id = %update.message_id,
                    status = %update.status,
                    error = %e,
                    again = %again,
                    "could not write a delivery result; it is tried again when its lease runs out"
                );
            } else {
                tracing::warn!(message_id = %update.message_id, error = %e, "a delivery result was written without its reply");
            }
        }
        // The results' events (if any destination wants them) are due now.
        app.webhooks().wake();
        let mut bounced: Vec<String> = batch
            .iter()
            .filter(|u| u.suppress.as_deref() == Some("hard_bounce"))
            .map(|u| u.org_id.clone())
            .collect();
        bounced.sort_unstable();
        bounced.dedup();
        if !bounced.is_empty() {
            // Off the one result writer: a pause writes and sends notices.
            let app = app.clone();
            tokio::spawn(async move { app.sending().judge_reputation(&bounced).await });
        }
        // Written (or given up): the leases are no longer renewed.
        queue.let_go(&batch);
        queue.in_flight.fetch_sub(batch.len(), Ordering::AcqRel);
        app.inner.metrics.in_flight.dec_by(batch.len() as i64);
        batch.clear();
        queue.wake.notify_one();
    }
}
