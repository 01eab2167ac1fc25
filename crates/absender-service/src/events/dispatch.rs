//! Delivers events to webhook destinations, at least once: each delivery
//! is leased from the store (so another node takes it up if this one dies),
//! signed per Standard Webhooks with a `webhook-id` that stays the same on
//! every retry, and tried again with exponential backoff (`[webhooks]
//! first_retry` doubling to `max_retry`) until `max_age` after the event.
//! A destination that has failed for `max_age` is disabled, with a notice.

use super::Webhooks;
use super::destinations::sealing_label;
use super::signing::signature;
use crate::settings::WebhookSettings;
use crate::{App, ServiceError};
use absender_core::net::is_special_purpose;
use absender_store::{WebhookAttempt, WebhookJob};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Attempts under way at once, at most.
const IN_FLIGHT: usize = 64;
/// The most of a receiver's answer kept (for the destination's page).
const MAX_ERROR: usize = 300;

/// Resolves destination hosts, refusing special-purpose addresses unless
/// `allow_private_targets` (so a destination cannot reach absender's own network).
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || !is_special_purpose(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for destinations: certificates verified, no redirects.
pub(crate) fn client(settings: &WebhookSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the target itself, past the address filter.
        .no_proxy()
        .user_agent(concat!("absender-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(PublicOnly {
            allow_private: settings.allow_private_targets,
        }))
        .build()
        .expect("an HTTP client")
}

/// Attempts recorded in one transaction at most.
const RECORD_BATCH: usize = 256;

/// The wait before attempt `attempts + 1`.
fn backoff(settings: &WebhookSettings, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(30);
    settings
        .first_retry
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(settings.max_retry)
}

impl Webhooks<'_> {
    /// Wakes the dispatcher (an event is waiting).
    pub(crate) fn wake(&self) {
        self.app.inner.wake_webhooks.notify_one();
    }

    /// Runs until the app stops.
    pub async fn run_dispatcher(&self) {
        let stopping = self.app.inner.stopping.clone();
        let poll = self.app.inner.settings.webhooks.poll_interval;
        // Attempts run side by side, each in a slot: a freed slot takes the
        // next due delivery at once, so no attempt waits for a slow receiver.
        let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        // Outcomes are written in batches: one commit for many attempts.
        let (outcomes, waiting) = tokio::sync::mpsc::channel(IN_FLIGHT * 4);
        let recorder = {
            let app = self.app.clone();
            tokio::spawn(async move { app.webhooks().run_recorder(waiting).await })
        };
        while !stopping.is_cancelled() {
            let free = slots.available_permits();
            let started = match self.start_due(&slots, free, &outcomes).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                    0
                }
            };
            if free == 0 {
                // Wait for a slot to come free.
                tokio::select! {
                    () = stopping.cancelled() => break,
                    freed = slots.clone().acquire_owned() => drop(freed),
                }
            } else if started == 0 {
                tokio::select! {
                    () = stopping.cancelled() => break,
                    () = self.app.inner.wake_webhooks.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        }
        // The attempts under way end (each within `timeout`) and are
        // written before the store closes.
        let _ = slots.acquire_many(IN_FLIGHT as u32).await;
        drop(outcomes);
        let _ = recorder.await;
    }

    /// Claims up to `free` due deliveries and starts an attempt for each; how many.
    async fn start_due(
        &self,
        slots: &Arc<tokio::sync::Semaphore>,
        free: usize,
        outcomes: &tokio::sync::mpsc::Sender<(WebhookJob, WebhookAttempt)>,
    ) -> Result<usize, ServiceError> {
        if free == 0 {
            return Ok(0);
        }
        let settings = &self.app.inner.settings.webhooks;
        let now = self.app.now_ms();
        let lease = (settings.timeout * 2 + Duration::from_secs(5)).as_millis() as i64;
        let jobs = self
            .app
            .inner
            .store
            .claim_webhook_deliveries(now, now + lease, free as i64, &self.app.inner.node)
            .await?;
        let started = jobs.len();
        for job in jobs {
            let slot = slots
                .clone()
                .try_acquire_owned()
                .expect("a slot per claimed delivery");
            let app = self.app.clone();
            let outcomes = outcomes.clone();
            tokio::spawn(async move {
                let outcome = app.webhooks().attempt(&job).await;
                // The slot is held until the outcome is handed on (the lease stays until written).
                let _ = outcomes.send((job, outcome)).await;
                drop(slot);
            });
        }
        Ok(started)
    }

    /// Makes one attempt to send an event to one destination; how it went.
    async fn attempt(&self, job: &WebhookJob) -> WebhookAttempt {
        let settings = &self.app.inner.settings.webhooks;
        let too_old = |now: i64| now - job.event_created_at >= settings.max_age.as_millis() as i64;
        let started = Instant::now();
        let result = if job.enabled {
            self.send(job).await
        } else {
            Err("the destination is disabled".to_string())
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        let now = self.app.now_ms();
        let attempts = job.attempts + 1;
        let (ok, http_status, error) = match result {
            Ok(status) => ((200..300).contains(&status), Some(i64::from(status)), None),
            Err(e) => (false, None, Some(e)),
        };
        let status = match (ok, too_old(now) || !job.enabled) {
            (true, _) => "delivered",
            (false, true) => "failed",
            (false, false) => "pending",
        };
        WebhookAttempt {
            status,
            attempts,
            next_attempt_at: now + backoff(settings, attempts).as_millis() as i64,
            http_status,
            latency_ms,
            error: error.or_else(|| (!ok).then(|| format!("HTTP {}", http_status.unwrap_or(0)))),
            at_ms: now,
        }
    }

    /// Writes a batch of outcomes in one transaction; a destination failing
    /// for `max_age` is disabled and its owner told.
    async fn record(&self, batch: Vec<(WebhookJob, WebhookAttempt)>) -> Result<(), ServiceError> {
        let settings = &self.app.inner.settings.webhooks;
        let store = &self.app.inner.store;
        let results: Vec<(String, String, WebhookAttempt)> = batch
            .iter()
            .map(|(job, a)| (job.event_id.clone(), job.webhook_id.clone(), a.clone()))
            .collect();
        let written = store
            .finish_webhook_deliveries(&results, &self.app.inner.node)
            .await?;
        for ((job, attempt), written) in batch.iter().zip(written) {
            if !written {
                tracing::warn!(webhook_id = %job.webhook_id, event_id = %job.event_id, "an attempt whose lease was taken is not recorded");
                continue;
            }
            if attempt.status == "delivered" || !job.enabled {
                continue;
            }
            tracing::info!(webhook_id = %job.webhook_id, event_id = %job.event_id, attempts = attempt.attempts, status = attempt.status, "webhook attempt failed");
            let failing_before = attempt.at_ms - settings.max_age.as_millis() as i64;
            if store
                .disable_failing_webhook(&job.webhook_id, failing_before, attempt.at_ms)
                .await?
            {
                self.tell_disabled(job).await?;
            }
        }
        Ok(())
    }

    /// Writes the outcomes as they come, as many at once as are waiting.
    async fn run_recorder(
        &self,
        mut outcomes: tokio::sync::mpsc::Receiver<(WebhookJob, WebhookAttempt)>,
    ) {
        while let Some(first) = outcomes.recv().await {
            let mut batch = vec![first];
            while batch.len() < RECORD_BATCH {
                match outcomes.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.record(batch).await {
                // Unrecorded attempts are made again once their lease runs out.
                tracing::warn!(error = %e, "webhook attempts could not be recorded");
            }
        }
    }

    /// POSTs the signed event; the receiver's HTTP status, or why none came.
    async fn send(&self, job: &WebhookJob) -> Result<u16, String> {
        let url = reqwest::Url::parse(&job.url).map_err(|e| e.to_string())?;
        // A literal address never reaches the resolver: checked here.
        if let Some(ip) = url
            .host_str()
            .and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok())
            && !self.app.inner.settings.webhooks.allow_private_targets
            && is_special_purpose(ip)
        {
            return Err(format!("{ip} is a special-purpose address"));
        }
        let body = match job.format.as_str() {
            "sns" => self.sns_message(job).await.map_err(|e| {
                // The cause is the operator's to read, not the destination owner's.
                tracing::error!(error = %e, "an SNS message could not be signed");
                "the SNS message could not be signed".to_string()
            })?,
            _ => job.body.clone(),
        };
        let now_s = self.app.now_ms() / 1000;
        let master = &self.app.inner.master_key;
        let label = sealing_label(&job.webhook_id);
        let mut signatures = Vec::with_capacity(2);
        let current = master
            .open(&label, &job.secret_enc)
            .map_err(|_| "the secret does not open".to_string())?;
        signatures.push(signature(&current, &job.event_id, now_s, &body));
        // During a rotation both secrets sign, as the specification allows.
        if let (Some(previous), Some(until)) = (&job.previous_secret_enc, job.previous_until)
            && until > self.app.now_ms()
            && let Ok(key) = master.open(&label, previous)
        {
            signatures.push(signature(&key, &job.event_id, now_s, &body));
        }
        let mut request = self.app.inner.webhook_client.post(url);
        if job.format == "sns" {
            // As SNS sends them: receivers route by the message type.
            let kind = match job.event_type.as_str() {
                "SubscriptionConfirmation" => "SubscriptionConfirmation",
                _ => "Notification",
            };
            request = request
                .header("content-type", "text/plain; charset=UTF-8")
                .header("x-amz-sns-message-type", kind)
                .header("x-amz-sns-message-id", &job.event_id);
        } else {
            request = request.header("content-type", "application/json");
        }
        let response = request
            .header("webhook-id", &job.event_id)
            .header("webhook-timestamp", now_s.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(body)
            .send()
            .await
            .map_err(|e| {
                // The cause (refused address, timeout, TLS) is down the chain.
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    text.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                text.chars().take(MAX_ERROR).collect::<String>()
            })?;
        Ok(response.status().as_u16())
    }

    /// Tells the destination's owner that it was disabled.
    async fn tell_disabled(&self, job: &WebhookJob) -> Result<(), ServiceError> {
        tracing::warn!(webhook_id = %job.webhook_id, "webhook destination disabled after failing for max_age");
        let Some(org_id) = &job.org_id else {
            return Ok(());
        };
        let Some(org) = self.app.inner.store.org(org_id).await? else {
            return Ok(());
        };
        let locale = absender_core::Locale::parse(&org.locale).unwrap_or_default();
        let text = crate::identity::notices::webhook_disabled(
            locale,
            &self.app.inner.settings.platform.name,
            &job.url,
        );
        self.app
            .sending()
            .send_system_mail(&org, &org.contact_email, &text, None)
            .await
    }
}

impl App {
    /// Webhook destinations and their delivery.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { app: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_the_first_wait_up_to_the_longest() {
        let settings = WebhookSettings::default();
        let waits: Vec<u64> = (1..=11).map(|n| backoff(&settings, n).as_secs()).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(&settings, i64::MAX).as_secs(), 3600);
    }
}
