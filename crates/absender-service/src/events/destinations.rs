//! Webhook destinations: an organization's (its own events), or the
//! operator's (every organization's). Each has a signing secret, shown once
//! and kept sealed under the master key (signing needs the secret itself).

use super::Webhooks;
use super::signing::new_secret;
use crate::api::{
    CreateWebhook, CreatedWebhook, RotatedWebhookSecret, UpdateWebhook, Webhook,
    WebhookAttemptView, WebhookTest,
};
use crate::clock::rfc3339;
use crate::secrets::new_id;
use crate::{Caller, ServiceError};
use absender_core::events::{is_event_type, test_event};
use absender_store::{NewWebhookEvent, WebhookRow};
use std::time::Duration;

/// The longest URL a destination may have.
const MAX_URL: usize = 2048;
/// The longest description.
const MAX_DESCRIPTION: usize = 200;
/// How long a rotated-out secret keeps signing beside the new one.
const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// Destinations one owner may have (as SES allows event destinations per
/// configuration set).
const MAX_DESTINATIONS: usize = 10;
/// Attempts a destination's view shows.
const RECENT_ATTEMPTS: i64 = 20;

/// The label a destination's secret is sealed under.
pub(crate) fn sealing_label(webhook_id: &str) -> String {
    format!("webhook/{webhook_id}")
}

/// Whose destinations the caller manages: an organization's, or (operator
/// without `X-Absender-Org`) the operator's own.
fn owner(caller: &Caller) -> Option<String> {
    match caller {
        Caller::Operator => None,
        Caller::Org(org) => Some(org.id().to_string()),
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

/// An `http` or `https` URL with a host and no credentials.
fn valid_url(url: &str) -> Result<String, ServiceError> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid("url", e.to_string()))?;
    if url.len() > MAX_URL
        || !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none_or(str::is_empty)
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(invalid(
            "url",
            format!(
                "an http or https URL with a host, no user or password, at most {MAX_URL} characters"
            ),
        ));
    }
    Ok(parsed.to_string())
}

/// Known event types, each once, as a JSON list.
fn valid_events(events: &[String]) -> Result<String, ServiceError> {
    let mut kept: Vec<&str> = Vec::new();
    for event in events {
        if !is_event_type(event) {
            return Err(invalid(
                "events",
                format!(
                    "{event:?} is not an event type: {}",
                    absender_core::events::EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !kept.contains(&event.as_str()) {
            kept.push(event);
        }
    }
    if kept.is_empty() {
        return Err(invalid("events", "at least one event type"));
    }
    Ok(serde_json::to_string(&kept).expect("a list serializes"))
}

fn valid_description(text: &str) -> Result<String, ServiceError> {
    if text.chars().count() > MAX_DESCRIPTION || text.chars().any(char::is_control) {
        return Err(invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters on one line"),
        ));
    }
    Ok(text.to_string())
}

pub(crate) fn view(row: &WebhookRow) -> Webhook {
    Webhook {
        id: row.id.clone(),
        org_id: row.org_id.clone(),
        url: row.url.clone(),
        events: serde_json::from_str(&row.events).unwrap_or_default(),
        format: row.format.clone(),
        description: row.description.clone(),
        enabled: row.enabled,
        disabled_reason: row.disabled_reason.clone(),
        failing_since: row.failing_since.map(rfc3339),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        recent_attempts: Vec::new(),
    }
}

impl Webhooks<'_> {
    async fn row(&self, caller: &Caller, id: &str) -> Result<WebhookRow, ServiceError> {
        self.app
            .inner
            .store
            .webhook(owner(caller).as_deref(), id)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))
    }

    /// `POST /api/v1/webhooks`.
    pub async fn create(
        &self,
        caller: &Caller,
        request: CreateWebhook,
    ) -> Result<CreatedWebhook, ServiceError> {
        let format = match request.format.as_deref() {
            None | Some("standard") => "standard",
            Some("sns") => "sns",
            Some(other) => {
                return Err(invalid("format", format!("standard or sns, not {other:?}")));
            }
        };
        let owner = owner(caller);
        let held = self.app.inner.store.webhooks(owner.as_deref()).await?.len();
        if held >= MAX_DESTINATIONS {
            return Err(ServiceError::Conflict {
                code: "webhook_limit",
                message: format!(
                    "at most {MAX_DESTINATIONS} webhook destinations; delete one first"
                ),
            });
        }
        let now = self.app.now_ms();
        let id = new_id("wh");
        let (secret, key) = new_secret();
        let row = WebhookRow {
            org_id: owner,
            url: valid_url(&request.url)?,
            events: valid_events(&request.events)?,
            format: format.to_string(),
            description: valid_description(request.description.as_deref().unwrap_or(""))?,
            enabled: true,
            secret_enc: self.app.inner.master_key.seal(&sealing_label(&id), &key),
            previous_secret_enc: None,
            previous_until: None,
            failing_since: None,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
            id,
        };
        self.app.inner.store.insert_webhook(&row).await?;
        if row.format == "sns" {
            self.request_confirmation(&row).await?;
        }
        tracing::info!(webhook_id = %row.id, org_id = ?row.org_id, "webhook destination created");
        Ok(CreatedWebhook {
            webhook: view(&row),
            secret,
        })
    }

    /// `GET /api/v1/webhooks`.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<Webhook>, ServiceError> {
        let rows = self
            .app
            .inner
            .store
            .webhooks(owner(caller).as_deref())
            .await?;
        Ok(rows.iter().map(view).collect())
    }

    /// `GET /api/v1/webhooks/{id}`: with its latest attempts.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Webhook, ServiceError> {
        let row = self.row(caller, id).await?;
        let attempts = self
            .app
            .inner
            .store
            .recent_webhook_deliveries(id, RECENT_ATTEMPTS)
            .await?;
        Ok(Webhook {
            recent_attempts: attempts
                .into_iter()
                .map(|a| WebhookAttemptView {
                    event_id: a.event_id,
                    status: a.status,
                    attempts: a.attempts,
                    at: a.last_attempt_at.map(rfc3339),
                    http_status: a.last_status,
                    latency_ms: a.last_latency_ms,
                    error: a.last_error,
                })
                .collect(),
            ..view(&row)
        })
    }

    /// As SNS does: an `sns` destination's receiver confirms (at the
    /// SubscribeURL of this message) before any notification comes.
    async fn request_confirmation(&self, row: &WebhookRow) -> Result<(), ServiceError> {
        let now = self.app.now_ms();
        let event = NewWebhookEvent {
            id: format!("{}.subscription.{now}", row.id),
            org_id: row.org_id.clone(),
            event_type: "SubscriptionConfirmation".into(),
            body: "{}".into(),
            created_at: now,
        };
        self.app
            .inner
            .store
            .insert_event_for(&event, &row.id)
            .await?;
        self.wake();
        Ok(())
    }

    /// `PATCH /api/v1/webhooks/{id}`: enabling it again forgets its failures.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        request: UpdateWebhook,
    ) -> Result<Webhook, ServiceError> {
        let mut row = self.row(caller, id).await?;
        let before = row.url.clone();
        if let Some(url) = &request.url {
            row.url = valid_url(url)?;
        }
        if let Some(events) = &request.events {
            row.events = valid_events(events)?;
        }
        if let Some(description) = &request.description {
            row.description = valid_description(description)?;
        }
        if let Some(enabled) = request.enabled {
            if enabled && !row.enabled {
                row.failing_since = None;
                row.disabled_reason = None;
            }
            row.enabled = enabled;
        }
        row.updated_at = self.app.now_ms();
        self.app.inner.store.update_webhook(&row).await?;
        if row.format == "sns" && row.url != before {
            // Another receiver must consent for itself.
            self.app.inner.store.unconfirm_sns(&row.id).await?;
            self.request_confirmation(&row).await?;
        }
        Ok(view(&row))
    }

    /// `DELETE /api/v1/webhooks/{id}`.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        if !self
            .app
            .inner
            .store
            .delete_webhook(owner(caller).as_deref(), id)
            .await?
        {
            return Err(ServiceError::NotFound("webhook"));
        }
        self.app.inner.store.unconfirm_sns(id).await?;
        Ok(())
    }

    /// `POST /api/v1/webhooks/{id}/test`: a test event for this destination.
    pub async fn test(&self, caller: &Caller, id: &str) -> Result<WebhookTest, ServiceError> {
        let row = self.row(caller, id).await?;
        if row.format == "sns" && !self.app.inner.store.sns_confirmed(id).await? {
            // Nothing else reaches it yet: the confirmation is sent again.
            self.request_confirmation(&row).await?;
        }
        let now = self.app.now_ms();
        let event = NewWebhookEvent {
            id: new_id("evt"),
            org_id: row.org_id.clone(),
            event_type: "Test".into(),
            body: test_event(row.org_id.as_deref(), now),
            created_at: now,
        };
        self.app.inner.store.insert_event_for(&event, id).await?;
        self.wake();
        Ok(WebhookTest { event_id: event.id })
    }

    /// `POST /api/v1/webhooks/{id}/rotate-secret`: a new secret; the old
    /// one signs beside it for a day (receivers accept either).
    pub async fn rotate_secret(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<RotatedWebhookSecret, ServiceError> {
        let mut row = self.row(caller, id).await?;
        let now = self.app.now_ms();
        let until = now + ROTATION_OVERLAP.as_millis() as i64;
        let (secret, key) = new_secret();
        row.previous_secret_enc = Some(std::mem::replace(
            &mut row.secret_enc,
            self.app.inner.master_key.seal(&sealing_label(id), &key),
        ));
        row.previous_until = Some(until);
        row.updated_at = now;
        self.app.inner.store.update_webhook(&row).await?;
        tracing::info!(webhook_id = %id, "webhook secret rotated");
        Ok(RotatedWebhookSecret {
            secret,
            previous_valid_until: rfc3339(until),
        })
    }
}
