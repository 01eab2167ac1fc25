//! The capture outbox: where mail goes while no delivery is configured.

use super::Sending;
use crate::api::{Header, OutboxEntry, OutboxMessage};
use crate::clock::rfc3339;
use crate::identity::notices::NoticeText;
use crate::settings::DeliveryMode;
use crate::{Caller, ServiceError};
use absender_core::Category;
use absender_mail::compose::{Notice, notice};
use absender_store::{MessageRow, OrgRow, OutboxRow, OutboxSummaryRow};

/// The most messages one listing returns.
pub const MAX_LIST: i64 = 500;

fn entry(row: &OutboxSummaryRow) -> Result<OutboxEntry, ServiceError> {
    let category =
        Category::parse(&row.category).ok_or_else(|| ServiceError::corrupt("outbox category"))?;
    Ok(OutboxEntry {
        id: row.id.clone(),
        org_id: row.org_id.clone(),
        category,
        from: row.mail_from.clone(),
        to: row
            .rcpt_to
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        subject: row.subject.clone(),
        size_bytes: usize::try_from(row.size_bytes).unwrap_or_default(),
        created_at: rfc3339(row.created_at),
    })
}

/// The organization whose messages the caller may see; `None` is all (operator).
fn visible_org(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Operator => None,
        Caller::Org(org) => Some(org.id()),
    }
}

impl Sending<'_> {
    /// Sends one of absender's own mails (category `system`, from the system
    /// sender) to `to` on behalf of `org`. A mail that carries a live
    /// `secret` (a verification or sign-in link) is for the mailbox alone: its
    /// outbox copy is the operator's only, and outside capture mode it is a
    /// redacted copy while the real bytes wait in the queue, never served.
    pub(crate) async fn send_system_mail(
        &self,
        org: &OrgRow,
        to: &str,
        text: &NoticeText,
        secret: Option<&str>,
    ) -> Result<(), ServiceError> {
        let sender = self.app.inner.senders.of(Category::System);
        let message_id = crate::secrets::new_id("msg");
        let now = self.app.now_ms();
        let compose = |text: &NoticeText| {
            notice(&Notice {
                from_name: &self.app.inner.settings.platform.name,
                from: &sender.to_string(),
                to,
                subject: &text.subject,
                text: &text.text,
                html: &text.html,
                message_id_local: &message_id,
                message_id_domain: sender.domain().as_str(),
                date_unix: now / 1000,
            })
        };
        // Mail from the platform's own senders is signed with the platform key.
        let raw = self.sign(&org.id, None, &compose(text)).await?;
        let capture = self.app.inner.settings.sending.mode == DeliveryMode::Capture;
        let redacted = secret.is_some() && !capture;
        let kept = match secret {
            Some(secret) if redacted => compose(&text.redacted(secret)),
            _ => raw.clone(),
        };
        // The outbox keeps every system mail, so the operator sees what went out.
        self.app
            .inner
            .store
            .insert_outbox(&OutboxRow {
                id: message_id.clone(),
                org_id: Some(org.id.clone()),
                category: Category::System.as_str().to_string(),
                mail_from: sender.to_string(),
                rcpt_to: to.to_string(),
                subject: text.subject.clone(),
                raw: kept,
                created_at: now,
                operator_only: secret.is_some(),
                redacted,
            })
            .await?;
        let envelope_from = format!(
            "bounces+{message_id}@{}",
            self.app.inner.settings.platform.bounce_host
        );
        if capture {
            return Ok(());
        }
        let row = MessageRow {
            id: message_id,
            org_id: org.id.clone(),
            category: Category::System.as_str().to_string(),
            from_address: sender.to_string(),
            identity_id: None,
            fallback_reason: None,
            reply_to: None,
            envelope_from,
            recipients: to.to_string(),
            subject: text.subject.clone(),
            status: String::new(),
            created_at: now,
        };
        self.accept(row, raw, "system", std::time::Instant::now())
            .await
    }

    /// The newest captured messages the caller may see.
    pub async fn list_outbox(
        &self,
        caller: &Caller,
        limit: Option<i64>,
    ) -> Result<Vec<OutboxEntry>, ServiceError> {
        let limit = limit.unwrap_or(100).clamp(1, MAX_LIST);
        let rows = self
            .app
            .inner
            .store
            .list_outbox(visible_org(caller), limit)
            .await?;
        rows.iter().map(entry).collect()
    }

    async fn outbox_row(&self, caller: &Caller, id: &str) -> Result<OutboxRow, ServiceError> {
        self.app
            .inner
            .store
            .outbox_message(id, visible_org(caller))
            .await?
            .ok_or(ServiceError::NotFound("message"))
    }

    /// One captured message with its decoded content.
    pub async fn outbox_message(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<OutboxMessage, ServiceError> {
        let row = self.outbox_row(caller, id).await?;
        let summary = absender_mail::inspect::summarize(&row.raw);
        let listed = OutboxSummaryRow {
            id: row.id,
            org_id: row.org_id,
            category: row.category,
            mail_from: row.mail_from,
            rcpt_to: row.rcpt_to,
            subject: row.subject,
            size_bytes: row.raw.len() as i64,
            created_at: row.created_at,
        };
        Ok(OutboxMessage {
            entry: entry(&listed)?,
            headers: summary
                .headers
                .into_iter()
                .map(|(name, value)| Header { name, value })
                .collect(),
            text: summary.text,
            html: summary.html,
            dkim: self.app.inner.dns_client.verify_dkim(&row.raw).await,
        })
    }

    /// One captured message as its RFC 5322 bytes.
    pub async fn outbox_raw(&self, caller: &Caller, id: &str) -> Result<Vec<u8>, ServiceError> {
        Ok(self.outbox_row(caller, id).await?.raw)
    }
}
