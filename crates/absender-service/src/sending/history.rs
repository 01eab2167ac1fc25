//! The event history of an organization's mail, read back from the state
//! of its messages in the shapes webhooks deliver (`GET
//! /api/v1/messages/{id}/events`, `GET /api/v1/events`), and the counts per
//! day the dashboard draws.

use super::Sending;
use crate::api::{EventList, EventQuery, Reputation};
use crate::{Caller, ServiceError};
use absender_core::events::{
    Complaint, Mail, Outcome, complaint_event, delivery_event, send_event, subscription_event,
};
pub use absender_store::DayCounts;
use absender_store::MessageHistory;
use serde_json::Value;

/// The event types the history holds (`Reject` leaves no message behind;
/// identity events are in each identity's own history).
pub const HISTORY_TYPES: [&str; 6] = [
    "Send",
    "Delivery",
    "Bounce",
    "DeliveryDelay",
    "Complaint",
    "Subscription",
];
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;
const DAY_MS: i64 = 86_400_000;

/// The events of one message, oldest first, of `only` that type if given.
fn events_of(history: &MessageHistory, only: Option<&str>) -> Vec<Value> {
    let m = &history.message;
    let mail = Mail {
        org_id: &m.org_id,
        message_id: &m.id,
        source: &m.from_address,
        destination: &m.recipients,
        category: &m.category,
        sent_at_ms: m.created_at,
    };
    let mut events: Vec<(i64, &str, String)> = vec![(m.created_at, "Send", send_event(&mail))];
    for d in &history.deliveries {
        let reply = d.last_reply.as_deref().unwrap_or("");
        let outcome = match d.status.as_str() {
            "delivered" | "captured" => Outcome::Delivered,
            "bounced" => Outcome::Bounced {
                permanent: reply.starts_with('5') || reply.starts_with("DSN 5"),
            },
            "queued" if d.attempts > 0 => Outcome::Delayed,
            _ => continue,
        };
        let (kind, body) = delivery_event(&mail, &d.recipient, outcome, reply, d.updated_at);
        events.push((d.updated_at, kind, body));
    }
    for c in &history.complaints {
        let index = history
            .deliveries
            .iter()
            .find(|d| d.recipient == c.recipient)
            .map_or(0, |d| d.rcpt_index);
        let complaint = Complaint {
            recipient: &c.recipient,
            feedback_id: &format!("{}.{index}.c", m.id),
            feedback_type: &c.feedback_type,
            user_agent: c.user_agent.as_deref(),
            arrival_date: c.arrival_date.as_deref(),
            at_ms: c.created_at,
        };
        events.push((
            c.created_at,
            "Complaint",
            complaint_event(&mail, &complaint),
        ));
    }
    for u in &history.unsubscribes {
        let body = subscription_event(&mail, &u.address, "UnsubscribeHeader", u.created_at);
        events.push((u.created_at, "Subscription", body));
    }
    events.sort_by_key(|(at, _, _)| *at);
    events
        .into_iter()
        .filter(|(_, kind, _)| only.is_none_or(|o| o == *kind))
        .filter_map(|(_, _, body)| serde_json::from_str(&body).ok())
        .collect()
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

/// `<created_at ms>.<message id>` of the last message of a page.
fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (at, id) = cursor.split_once('.')?;
    let ok = id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    Some((at.parse().ok()?, id.to_string())).filter(|_| ok)
}

impl Sending<'_> {
    /// `GET /api/v1/messages/{id}/events`.
    pub async fn message_events(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<EventList, ServiceError> {
        let org = caller.org()?;
        let store = &self.app.inner.store;
        let message = store
            .message(&org.id, id)
            .await?
            .filter(|m| m.category != "system")
            .ok_or(ServiceError::NotFound("message"))?;
        let history = store.history(message).await?;
        Ok(EventList {
            items: events_of(&history, None),
            next_cursor: None,
        })
    }

    /// `GET /api/v1/events?type=&since=&cursor=&limit=`: the events of the
    /// organization's messages sent since `since`, a page of messages at a
    /// time (oldest first).
    pub async fn events(
        &self,
        caller: &Caller,
        query: &EventQuery,
    ) -> Result<EventList, ServiceError> {
        let org = caller.org()?;
        let only = match query.r#type.as_deref() {
            Some(t) if HISTORY_TYPES.contains(&t) => Some(t),
            Some(t) => {
                return Err(invalid(
                    "type",
                    format!(
                        "{t:?} is not kept in the history; it holds {}",
                        HISTORY_TYPES.join(", ")
                    ),
                ));
            }
            None => None,
        };
        let since = match query.since.as_deref() {
            Some(s) => humantime::parse_rfc3339_weak(s)
                .map_err(|_| invalid("since", "an RFC 3339 time such as 2026-12-01T00:00:00Z"))?
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            None => 0,
        };
        let limit = query.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(invalid("limit", format!("1 to {MAX_PAGE}")));
        }
        let (after_ms, after_id) = match query.cursor.as_deref() {
            Some(c) => {
                parse_cursor(c).ok_or_else(|| invalid("cursor", "not a cursor absender gave"))?
            }
            // Everything at `since` or later: before any id at that time.
            None => (since, String::new()),
        };
        let after_ms = after_ms.max(since);
        let store = &self.app.inner.store;
        let messages = store
            .messages_after(&org.id, after_ms, &after_id, limit)
            .await?;
        let next_cursor = (messages.len() as i64 == limit)
            .then(|| {
                messages
                    .last()
                    .map(|m| format!("{}.{}", m.created_at, m.id))
            })
            .flatten();
        let mut items = Vec::new();
        for message in messages {
            items.extend(events_of(&store.history(message).await?, only));
        }
        Ok(EventList { items, next_cursor })
    }

    /// The organization's counts for each of the last `days` days (UTC), the
    /// oldest first, today last; days without mail are zero.
    pub async fn counts_per_day(
        &self,
        org_id: &str,
        days: i64,
    ) -> Result<Vec<DayCounts>, ServiceError> {
        let today = self.app.now_ms().div_euclid(DAY_MS);
        let first = today - days + 1;
        let max_age = self.app.inner.settings.sending.max_age.as_millis() as i64;
        let found = self
            .app
            .inner
            .store
            .counts_per_day(org_id, first * DAY_MS, max_age)
            .await?;
        Ok((first..=today)
            .map(|day| {
                found
                    .iter()
                    .find(|c| c.day == day)
                    .cloned()
                    .unwrap_or(DayCounts {
                        day,
                        ..DayCounts::default()
                    })
            })
            .collect())
    }
}

/// What the dashboard shows: 30 days of counts, the reputation, the quotas and their use.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub days: Vec<DayCounts>,
    pub reputation: Reputation,
    /// Recipients of the last 24 hours, and the limit on them (sandbox included).
    pub sent_24h: i64,
    pub limit_24h: Option<i64>,
    pub max_send_rate: Option<f64>,
    pub sandbox: bool,
}

impl Sending<'_> {
    /// The dashboard of the caller's organization.
    pub async fn dashboard(&self, caller: &Caller) -> Result<Dashboard, ServiceError> {
        let org_id = caller.org()?.id.clone();
        let reputation = self.reputation(caller).await?;
        let store = &self.app.inner.store;
        let org = store
            .org(&org_id)
            .await?
            .ok_or(ServiceError::NotFound("organization"))?;
        let sent_24h = store
            .count_recipients_since(&org_id, self.app.now_ms() - DAY_MS)
            .await?;
        Ok(Dashboard {
            days: self.counts_per_day(&org_id, 30).await?,
            reputation,
            sent_24h,
            limit_24h: super::quotas::day_limit(&org),
            max_send_rate: org.max_send_rate,
            sandbox: org.sandbox,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_read_back_and_anything_else_refused() {
        assert_eq!(
            parse_cursor("1764000000000.msg_abc123"),
            Some((1_764_000_000_000, "msg_abc123".into()))
        );
        assert_eq!(parse_cursor("x.msg_1"), None);
        assert_eq!(parse_cursor("1.msg' OR 1=1"), None);
        assert_eq!(parse_cursor("no-dot"), None);
    }
}
