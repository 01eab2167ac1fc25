//! Sending: the sender rule decides the From, the message is composed, signed
//! (the organization's key for its own domain, and the platform's key), and
//! durably stored before it is accepted. Until delivery exists, it is captured
//! in the outbox.

use super::Sending;
use crate::api::{Accepted, Message, RecipientStatus, SendMessage};
use crate::clock::rfc3339;
use crate::secrets::new_id;
use crate::settings::DeliveryMode;
use crate::{Caller, ServiceError};
use absender_core::category::ONE_INVITEE;
use absender_core::message::{MessageError, MessageLimits, check_header, single_line};
use absender_core::sender::{Sender, SenderIdentity, SenderRefusal, choose_sender};
use absender_core::{Category, EmailAddress};
use absender_mail::compose::{Attachment, Outgoing, message};
use absender_store::{DeliveryRow, MessageRow, NewMessage, OutboxRow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

fn bad(err: MessageError) -> ServiceError {
    let code = match err {
        MessageError::LineBreak(_) => "header_injection",
        MessageError::ProtectedHeader(_) | MessageError::InvalidHeaderName(_) => "invalid_header",
        MessageError::NoRecipients | MessageError::TooManyRecipients(_) => "invalid_recipients",
        MessageError::NoBody => "no_body",
        MessageError::TooLarge(_) => return ServiceError::TooLarge(err.to_string()),
    };
    ServiceError::BadRequest {
        code,
        message: err.to_string(),
    }
}

fn addresses(field: &'static str, values: &[String]) -> Result<Vec<EmailAddress>, ServiceError> {
    values
        .iter()
        .map(|v| {
            EmailAddress::parse(v).map_err(|e| ServiceError::BadRequest {
                code: "invalid_address",
                message: format!("{field}: {v:?}: {e}"),
            })
        })
        .collect()
}

impl Sending<'_> {
    fn default_sender(&self, category: Category) -> EmailAddress {
        self.app.inner.senders.of(category).clone()
    }

    /// Accepts a message: 202 with its id once it is durably stored.
    pub async fn send_message(
        &self,
        caller: &Caller,
        request: SendMessage,
    ) -> Result<Accepted, ServiceError> {
        self.send_message_via(caller, request, "api").await
    }

    /// [`Self::send_message`], counted for `interface`; a refusal makes a
    /// `Reject` event.
    pub(crate) async fn send_message_via(
        &self,
        caller: &Caller,
        request: SendMessage,
        interface: &'static str,
    ) -> Result<Accepted, ServiceError> {
        let org_id = caller.org()?.id.clone();
        let (source, category) = (request.from.clone(), request.category);
        let recipients = [&request.to, &request.cc, &request.bcc]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let result = self.accept_message(caller, request, interface).await;
        if let Err(e) = &result {
            let source = source.as_deref().unwrap_or_default();
            self.rejected(&org_id, source, &recipients, category.as_str(), e)
                .await;
        }
        result
    }

    async fn accept_message(
        &self,
        caller: &Caller,
        request: SendMessage,
        interface: &'static str,
    ) -> Result<Accepted, ServiceError> {
        let org = caller.org()?;
        if request.category == Category::System {
            return Err(ServiceError::BadRequest {
                code: "invalid_category",
                message: format!(
                    "system mail is absender's own; send {}",
                    Category::organization_names()
                ),
            });
        }
        let started = std::time::Instant::now();
        let limits = self.limits();
        let (to, cc, bcc) = (
            addresses("to", &request.to)?,
            addresses("cc", &request.cc)?,
            addresses("bcc", &request.bcc)?,
        );
        let recipients = to.len() + cc.len() + bcc.len();
        if recipients == 0 {
            return Err(bad(MessageError::NoRecipients));
        }
        if recipients > limits.max_recipients {
            return Err(bad(MessageError::TooManyRecipients(limits.max_recipients)));
        }
        let everyone: Vec<EmailAddress> = to.iter().chain(&cc).chain(&bcc).cloned().collect();
        if !request.category.allows_recipients(everyone.len()) {
            return Err(ServiceError::Refused {
                code: "one_recipient_per_invitation",
                message: format!(
                    "{ONE_INVITEE}; send one message per invitee (this one has {} recipients)",
                    everyone.len()
                ),
            });
        }
        single_line("subject", &request.subject).map_err(bad)?;
        if let Some(name) = &request.from_name {
            single_line("from_name", name).map_err(bad)?;
        }
        for (name, value) in &request.headers {
            check_header(name, value).map_err(bad)?;
        }
        if request.text.is_none() && request.html.is_none() {
            return Err(bad(MessageError::NoBody));
        }
        let explicit_from = request
            .from
            .as_deref()
            .map(|f| addresses("from", &[f.to_string()]))
            .transpose()?
            .map(|mut v| v.remove(0));
        let reply_to = request
            .reply_to
            .as_deref()
            .map(|r| addresses("reply_to", &[r.to_string()]))
            .transpose()?
            .map(|mut v| v.remove(0));
        let mut attachments = Vec::with_capacity(request.attachments.len());
        for a in &request.attachments {
            single_line("attachment filename", &a.filename).map_err(bad)?;
            single_line("attachment content_type", &a.content_type).map_err(bad)?;
            let content =
                STANDARD
                    .decode(a.content_base64.trim())
                    .map_err(|_| ServiceError::BadRequest {
                        code: "invalid_attachment",
                        message: format!("{}: content_base64 is not base64", a.filename),
                    })?;
            attachments.push(Attachment {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                content,
            });
        }

        self.app
            .suppressions()
            .refuse_suppressed(&org.id, &everyone)
            .await?;

        // The sender rule, over the organization's identities and its choice.
        let rows = self.app.inner.store.list_identities(&org.id).await?;
        let loaded = rows
            .into_iter()
            .map(crate::identity::requests::load)
            .collect::<Result<Vec<_>, _>>()?;
        let identities: Vec<SenderIdentity<'_>> =
            loaded.iter().map(|i| i.sender_identity()).collect();
        let chosen = self
            .app
            .inner
            .store
            .send_settings(&org.id)
            .await?
            .into_iter()
            .find(|(category, _)| category == request.category.as_str())
            .map(|(_, id)| id);
        let default = self.default_sender(request.category);
        let sender = choose_sender(
            request.category,
            explicit_from.as_ref(),
            &identities,
            chosen.as_deref(),
            &default,
            org.custom_sender_enabled,
        )
        .map_err(|refusal| {
            let code = match refusal {
                SenderRefusal::NotVerified(_) | SenderRefusal::SystemCategory => {
                    "sender_not_verified"
                }
                SenderRefusal::ScopeForbids { .. } => "sender_scope",
                SenderRefusal::UpgradeRequired(_) => "upgrade_required",
            };
            ServiceError::Denied {
                code,
                message: refusal.to_string(),
            }
        })?;
        // Last of the checks: a refused message takes no quota. Held until
        // the message is stored.
        let _admitted = self.admit(&org.id, &everyone).await?;

        let id = new_id("msg");
        let (from, identity, fallback_reason, rule_reply_to) = match &sender {
            Sender::Custom {
                identity_id,
                address,
            } => (
                address.clone(),
                loaded.iter().find(|i| &i.row.id == identity_id),
                None,
                None,
            ),
            Sender::Default {
                address,
                reply_to,
                fallback_reason,
            } => (
                address.clone(),
                None,
                fallback_reason.clone(),
                reply_to.clone(),
            ),
        };
        let reply_to = reply_to.or(rule_reply_to);
        let envelope_domain = match identity {
            Some(i) => i.envelope_domain()?,
            None => None,
        }
        .unwrap_or(&self.app.inner.settings.platform.bounce_host)
        .to_string();
        let envelope_from = format!("bounces+{id}@{envelope_domain}");
        let now = self.app.now_ms();
        let unsigned = message(&Outgoing {
            // The name is the organization's only beside its own address.
            from_name: request.from_name.clone().filter(|_| identity.is_some()),
            from: from.to_string(),
            reply_to: reply_to.as_ref().map(|r| r.to_string()),
            to: to.iter().map(|a| a.to_string()).collect(),
            cc: cc.iter().map(|a| a.to_string()).collect(),
            subject: request.subject.clone(),
            text: request.text.clone(),
            html: request.html.clone(),
            headers: request.headers.clone().into_iter().collect(),
            attachments,
            unsubscribe: (request.category == Category::Invitation).then(|| {
                self.app
                    .suppressions()
                    .unsubscribe_for(&org.id, &everyone[0], &id)
            }),
            feedback_id: Some(super::complaints::feedback_id(
                &org.id,
                request.category.as_str(),
            )),
            message_id_local: id.clone(),
            message_id_domain: from.domain().to_string(),
            date_unix: now / 1000,
        });
        let raw = self
            .sign(&org.id, identity.map(|i| i.row.domain.as_str()), &unsigned)
            .await?;
        if raw.len() > limits.max_size_bytes {
            return Err(bad(MessageError::TooLarge(limits.max_size_bytes)));
        }

        let row = MessageRow {
            id: id.clone(),
            org_id: org.id.clone(),
            category: request.category.as_str().to_string(),
            from_address: from.to_string(),
            identity_id: identity.map(|i| i.row.id.clone()),
            fallback_reason,
            reply_to: reply_to.map(|r| r.to_string()),
            envelope_from,
            recipients: everyone
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
            subject: request.subject,
            status: String::new(),
            created_at: now,
        };
        self.accept(row, raw, interface, started).await?;
        Ok(Accepted { id })
    }

    /// The configured message limits.
    pub(crate) fn limits(&self) -> MessageLimits {
        MessageLimits {
            max_recipients: self.app.inner.settings.sending.max_recipients,
            max_size_bytes: self.app.inner.settings.sending.max_message_bytes,
        }
    }

    /// Stores a signed message for delivery (or in the outbox, in capture
    /// mode); returns once it is durable.
    pub(crate) async fn accept(
        &self,
        mut row: MessageRow,
        raw: Vec<u8>,
        interface: &'static str,
        started: std::time::Instant,
    ) -> Result<(), ServiceError> {
        let capture = self.app.inner.settings.sending.mode == DeliveryMode::Capture;
        row.status = if capture { "captured" } else { "queued" }.into();
        let deliveries = row
            .recipients
            .split(',')
            .filter(|r| !r.is_empty())
            .zip(0..)
            .map(|(recipient, rcpt_index)| DeliveryRow {
                message_id: row.id.clone(),
                recipient: recipient.to_string(),
                org_id: row.org_id.clone(),
                status: row.status.clone(),
                attempts: 0,
                next_attempt_at: row.created_at,
                lease_until: 0,
                last_reply: None,
                created_at: row.created_at,
                updated_at: row.created_at,
                rcpt_index,
                lease_owner: String::new(),
            })
            .collect();
        // The bytes go to the outbox (capture) or stay with the message for delivery.
        let (raw, captured) = if capture {
            let kept = OutboxRow {
                id: row.id.clone(),
                org_id: Some(row.org_id.clone()),
                category: row.category.clone(),
                mail_from: row.envelope_from.clone(),
                rcpt_to: row.recipients.clone(),
                subject: row.subject.clone(),
                raw,
                created_at: row.created_at,
                operator_only: false,
                redacted: false,
            };
            (None, Some(kept))
        } else {
            (Some(raw), None)
        };
        let (org_id, id, category, custom) = (
            row.org_id.clone(),
            row.id.clone(),
            row.category.clone(),
            row.identity_id.is_some(),
        );
        self.app
            .delivery()
            .enqueue(NewMessage {
                message: row,
                raw,
                deliveries,
                captured,
            })
            .await?;
        let metrics = &self.app.inner.metrics;
        metrics.accepted(&category, interface);
        metrics
            .intake_seconds
            .observe(started.elapsed().as_secs_f64());
        tracing::info!(org_id = %org_id, message_id = %id, category, custom, interface, "message accepted");
        Ok(())
    }

    /// A message of the organization, with the sender used and why.
    pub async fn get_message(&self, caller: &Caller, id: &str) -> Result<Message, ServiceError> {
        let org = caller.org()?;
        let row = self
            .app
            .inner
            .store
            .message(&org.id, id)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        let deliveries = self.app.inner.store.deliveries(&row.id).await?;
        let recipients: Vec<RecipientStatus> = deliveries
            .into_iter()
            .map(|d| RecipientStatus {
                status: match d.status.as_str() {
                    "queued" if d.attempts > 0 => "deferred".into(),
                    _ => d.status.clone(),
                },
                next_attempt_at: (d.status == "queued").then(|| rfc3339(d.next_attempt_at)),
                address: d.recipient,
                attempts: d.attempts,
                last_reply: d.last_reply,
                updated_at: rfc3339(d.updated_at),
            })
            .collect();
        Ok(Message {
            category: Category::parse(&row.category)
                .ok_or_else(|| ServiceError::corrupt("message category"))?,
            status: overall(&recipients),
            recipients,
            id: row.id,
            from: row.from_address,
            identity_id: row.identity_id,
            fallback_reason: row.fallback_reason,
            reply_to: row.reply_to,
            envelope_from: row.envelope_from,
            subject: row.subject,
            created_at: rfc3339(row.created_at),
        })
    }
}

/// A message's status from its recipients': captured or queued while any
/// waits, then delivered, bounced, or partially_delivered.
fn overall(recipients: &[RecipientStatus]) -> String {
    let all = |s: &str| recipients.iter().all(|r| r.status == s);
    let any = |s: &str| recipients.iter().any(|r| r.status == s);
    if all("captured") {
        "captured"
    } else if any("queued") || any("deferred") {
        "queued"
    } else if all("delivered") {
        "delivered"
    } else if all("bounced") {
        "bounced"
    } else {
        "partially_delivered"
    }
    .into()
}
