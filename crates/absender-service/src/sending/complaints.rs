//! Complaints: abuse reports (RFC 5965, ARF) from mailbox providers'
//! feedback loops. One may arrive at a delivery's return path, at
//! `fbl@<bounce host>` (where feedback loops are registered), or be posted
//! by the operator's MTA. Anyone can send such a report, so it counts only
//! when it names a delivery absender made: a return path with absender's
//! MAC (where it arrived, or the original's Return-Path), else the Message-ID
//! absender gave a message with one recipient. The report's recipient must
//! be that delivery's, and each delivery counts once; anything else is
//! ignored, logged and counted, so forged reports cannot pause an
//! organization.

use super::Suppressions;
use crate::{Caller, ServiceError};
use absender_core::events::{Complaint, Mail, complaint_event};
use absender_core::return_path;
use absender_mail::arf::{self, Feedback};
use absender_store::{ComplaintRow, DeliveryRow, MessageRow, NewWebhookEvent};
use serde::{Deserialize, Serialize};

/// The local part of the feedback-loop address at the bounce host.
const FEEDBACK_LOCAL: &str = "fbl";

/// The `Feedback-ID` of an organization's mail of `category`: feedback
/// loops that aggregate complaints (Gmail's) report per value.
pub(crate) fn feedback_id(org_id: &str, category: &str) -> String {
    format!("{category}:{org_id}:absender")
}

/// Whether `raw` is a feedback report (SMTP tells them from bounce reports
/// at a return path by it).
pub fn is_feedback_report(raw: &[u8]) -> bool {
    arf::parse(raw).is_some()
}

/// What a report changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintOutcome {
    /// The message the report is about, when absender made it.
    pub message_id: Option<String>,
    /// The recipient whose complaint was applied (at most one).
    pub complained: Vec<String>,
    /// Whether it counts toward the organization's reputation: reports the
    /// operator posts do, and those by SMTP signed by a trusted reporter
    /// (`reputation.complaint_reporters`).
    #[serde(default)]
    pub counted: bool,
    /// Why nothing was applied, for a report that was ignored.
    pub ignored: Option<String>,
}

impl ComplaintOutcome {
    fn ignored(message_id: Option<&str>, reason: &str) -> Self {
        Self {
            message_id: message_id.map(str::to_string),
            complained: Vec::new(),
            counted: false,
            ignored: Some(reason.to_string()),
        }
    }
}

/// Which of the message's deliveries a report is about, or why none.
enum Found {
    Delivery(Box<MessageRow>, DeliveryRow),
    Ignored(Option<String>, &'static str),
}

impl Suppressions<'_> {
    /// Whether `address` is the feedback-loop address (`fbl@<bounce host>`).
    pub fn is_feedback_address(&self, address: &str) -> bool {
        address.rsplit_once('@').is_some_and(|(local, host)| {
            local.eq_ignore_ascii_case(FEEDBACK_LOCAL)
                && host.eq_ignore_ascii_case(&self.app.inner.settings.platform.bounce_host)
        })
    }

    /// The operator's MTA hands in a feedback report: the same matching as
    /// by SMTP, and it counts toward reputation (the operator vouches for
    /// where its reports come from: post only the feedback loops' reports).
    pub async fn receive_arf_as(
        &self,
        caller: &Caller,
        raw: &[u8],
    ) -> Result<ComplaintOutcome, ServiceError> {
        caller.require_operator()?;
        if arf::parse(raw).is_none() {
            return Err(ServiceError::Refused {
                code: "not_a_feedback_report",
                message:
                    "this is not an abuse report in ARF (RFC 5965): no message/feedback-report part"
                        .into(),
            });
        }
        // The operator's MTA vouches for where its reports came from.
        self.apply_report(None, raw, true).await
    }

    /// Applies a feedback report that arrived by SMTP at `arrived_at` (a
    /// return path or the feedback-loop address). It counts toward
    /// reputation only when a trusted reporter signed it.
    pub async fn receive_arf(
        &self,
        arrived_at: Option<&str>,
        raw: &[u8],
    ) -> Result<ComplaintOutcome, ServiceError> {
        self.apply_report(arrived_at, raw, false).await
    }

    /// Whether `raw` comes from a trusted reporter: its From is one
    /// (`fbl@mail.example`, or any address at a listed domain or its
    /// subdomains) and a passing DKIM signature of that reporter's domain
    /// covers it (mail-auth requires From among the signed headers).
    async fn signed_by_trusted_reporter(&self, raw: &[u8]) -> bool {
        let reporters = &self.app.inner.settings.reputation.complaint_reporters;
        let Some(from) = absender_mail::inspect::first_from(raw).map(|f| f.to_ascii_lowercase())
        else {
            return false;
        };
        let within = |domain: &str, of: &str| domain == of || domain.ends_with(&format!(".{of}"));
        let from_domain = from.rsplit_once('@').map_or("", |(_, d)| d).to_string();
        // The reporter domains this From may speak for.
        let domains: Vec<String> = reporters
            .iter()
            .map(|r| r.trim_end_matches('.').to_ascii_lowercase())
            .filter_map(|r| match r.rsplit_once('@') {
                Some((_, domain)) => (r == from).then(|| domain.to_string()),
                None => within(&from_domain, &r).then_some(r),
            })
            .collect();
        if domains.is_empty() {
            return false;
        }
        self.app
            .inner
            .dns_client
            .verify_dkim(raw)
            .await
            .iter()
            .any(|v| {
                let d = v.domain.trim_end_matches('.').to_ascii_lowercase();
                v.result == "pass" && domains.iter().any(|r| within(&d, r))
            })
    }

    async fn apply_report(
        &self,
        arrived_at: Option<&str>,
        raw: &[u8],
        vouched: bool,
    ) -> Result<ComplaintOutcome, ServiceError> {
        let ignore = |message_id: Option<&str>, reason: &'static str| {
            self.app.inner.metrics.report_ignored(reason);
            tracing::warn!(
                arrived_at = arrived_at.unwrap_or_default(),
                message_id = message_id.unwrap_or_default(),
                reason,
                "feedback report ignored"
            );
            Ok(ComplaintOutcome::ignored(message_id, reason))
        };
        let Some(report) = arf::parse(raw) else {
            return ignore(None, "not_a_report");
        };
        if !report.is_complaint() {
            return ignore(None, "not_a_complaint");
        }
        let (message, delivery) = match self.delivery_of(arrived_at, &report).await? {
            Found::Delivery(m, d) => (m, d),
            Found::Ignored(id, reason) => return ignore(id.as_deref(), reason),
        };
        let id = Some(message.id.as_str());
        if delivery.status != "delivered" {
            return ignore(id, "not_delivered");
        }
        if message.category == "system" {
            return ignore(id, "system_mail");
        }
        let now = self.app.now_ms();
        let feedback_id = format!("{}.{}.c", message.id, delivery.rcpt_index);
        // What the reporter wrote, cleaned and bounded, for the row and the event alike.
        let clean = |s: &Option<String>| s.as_deref().map(absender_core::outside::clean);
        let row = ComplaintRow {
            message_id: message.id.clone(),
            recipient: delivery.recipient.clone(),
            org_id: message.org_id.clone(),
            feedback_type: absender_core::outside::clean(&report.feedback_type),
            user_agent: clean(&report.user_agent),
            arrival_date: clean(&report.arrival_date),
            created_at: now,
        };
        let body = complaint_event(
            &Mail {
                org_id: &message.org_id,
                message_id: &message.id,
                source: &message.from_address,
                destination: &message.recipients,
                category: &message.category,
                sent_at_ms: message.created_at,
            },
            &Complaint {
                recipient: &delivery.recipient,
                feedback_id: &feedback_id,
                feedback_type: &row.feedback_type,
                user_agent: row.user_agent.as_deref(),
                arrival_date: row.arrival_date.as_deref(),
                at_ms: now,
            },
        );
        let event = NewWebhookEvent {
            id: feedback_id,
            org_id: Some(message.org_id.clone()),
            event_type: "Complaint".into(),
            body,
            created_at: now,
        };
        let key = delivery.recipient.to_lowercase();
        // Anyone can send a report about a mail they received; only a
        // trusted feedback loop's counts toward the sender's reputation.
        let counted = vouched || self.signed_by_trusted_reporter(raw).await;
        if !self
            .app
            .inner
            .store
            .record_complaint(&row, &key, &event, counted)
            .await?
        {
            return ignore(id, "already_complained");
        }
        self.app.inner.metrics.attempt("complained");
        if counted {
            self.app
                .sending()
                .judge_reputation(std::slice::from_ref(&message.org_id))
                .await;
        }
        tracing::info!(message_id = %message.id, counted, "complaint applied");
        Ok(ComplaintOutcome {
            message_id: Some(message.id),
            complained: vec![delivery.recipient],
            counted,
            ignored: None,
        })
    }

    /// The delivery a report names, by return path (MAC checked) or else by
    /// the Message-ID absender wrote; the report's recipients must include it.
    async fn delivery_of(
        &self,
        arrived_at: Option<&str>,
        report: &Feedback,
    ) -> Result<Found, ServiceError> {
        let store = &self.app.inner.store;
        let path = arrived_at.and_then(return_path::parse).or_else(|| {
            report
                .original_return_path
                .as_deref()
                .and_then(return_path::parse)
        });
        let named = |recipient: &str| {
            report.original_rcpt_to.is_empty()
                || report
                    .original_rcpt_to
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(recipient))
        };
        if let Some(path) = path {
            if !self.return_path_is_authentic(&path) {
                return Ok(Found::Ignored(None, "bad_mac"));
            }
            let id = Some(path.message_id.to_string());
            let Some(message) = store.message_unscoped(path.message_id).await? else {
                return Ok(Found::Ignored(id, "unknown_message"));
            };
            let deliveries = store.deliveries(path.message_id).await?;
            let Some(d) = deliveries
                .into_iter()
                .find(|d| d.rcpt_index == i64::from(path.index))
            else {
                return Ok(Found::Ignored(id, "unknown_delivery"));
            };
            if !named(&d.recipient) {
                return Ok(Found::Ignored(id, "other_recipient"));
            }
            return Ok(Found::Delivery(Box::new(message), d));
        }
        // By Message-ID: `<msg_…@the From domain>`, as absender writes it.
        let Some((local, domain)) = report
            .original_message_id
            .as_deref()
            .and_then(|m| m.rsplit_once('@'))
        else {
            return Ok(Found::Ignored(None, "no_return_path_or_message_id"));
        };
        if !local.starts_with("msg_") {
            return Ok(Found::Ignored(None, "unknown_message"));
        }
        let Some(message) = store.message_unscoped(local).await? else {
            return Ok(Found::Ignored(None, "unknown_message"));
        };
        let id = Some(message.id.clone());
        let from_domain = message.from_address.rsplit_once('@').map_or("", |(_, d)| d);
        if !from_domain.eq_ignore_ascii_case(domain) {
            return Ok(Found::Ignored(None, "unknown_message"));
        }
        // Everyone who received a message sees its Message-ID and its other
        // visible recipients: without a per-recipient MAC only a message
        // with a single recipient names its delivery.
        let mut deliveries = store.deliveries(&message.id).await?;
        if deliveries.len() != 1 {
            return Ok(Found::Ignored(id, "ambiguous_recipient"));
        }
        let d = deliveries.remove(0);
        let to_named = report.original_to.is_empty()
            || report
                .original_to
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&d.recipient));
        if !named(&d.recipient) || (report.original_rcpt_to.is_empty() && !to_named) {
            return Ok(Found::Ignored(id, "other_recipient"));
        }
        Ok(Found::Delivery(Box::new(message), d))
    }
}
