//! Sending: the sender rule decides the From, the message is composed, signed
//! (the organization's key for its own domain, and the platform's key), and
//! durably stored before it is accepted. Until delivery exists, it is captured
//! in the outbox.

use crate::api::{Accepted, Message, RecipientStatus, SendMessage};
use crate::clock::rfc3339;
use crate::secrets::new_id;
use crate::{App, Caller, ServiceError};
use absender_core::message::{MessageError, MessageLimits, check_header, single_line};
use absender_core::sender::{Sender, SenderIdentity, SenderRefusal, choose_sender};
use absender_core::{Category, EmailAddress, Status};
use absender_mail::compose::{Attachment, Outgoing, message};
use absender_mail::dkim::{self, DkimKey};
use absender_store::{MessageRow, OutboxRow};
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

impl App {
    fn default_sender(&self, category: Category) -> EmailAddress {
        let senders = &self.inner.settings.platform.senders;
        let address = match category {
            Category::Booking => &senders.booking,
            Category::Invitation => &senders.invitation,
            Category::AccountNotification => &senders.account_notification,
            Category::System => &senders.system,
        };
        EmailAddress::parse(address).expect("validated at start-up")
    }

    /// Accepts a message: 202 with its id once it is durably stored.
    pub async fn send_message(
        &self,
        caller: &Caller,
        request: SendMessage,
    ) -> Result<Accepted, ServiceError> {
        let org = caller.org()?;
        if request.category == Category::System {
            return Err(ServiceError::BadRequest {
                code: "invalid_category",
                message: "system mail is absender's own; send booking, invitation or account_notification".into(),
            });
        }
        let limits = MessageLimits::default();
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
        single_line("subject", &request.subject).map_err(bad)?;
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

        // The sender rule, over the organization's identities and its choice.
        let rows = self.inner.store.list_identities(&org.id).await?;
        let loaded = rows
            .into_iter()
            .map(crate::identities::load)
            .collect::<Result<Vec<_>, _>>()?;
        let parsed: Vec<EmailAddress> = loaded
            .iter()
            .map(|i| EmailAddress::parse(&i.row.address))
            .collect::<Result<_, _>>()
            .map_err(|_| ServiceError::corrupt("identity address"))?;
        let identities: Vec<SenderIdentity<'_>> = loaded
            .iter()
            .zip(&parsed)
            .map(|(i, address)| SenderIdentity {
                id: &i.row.id,
                address,
                scope: i.scope,
                status: i.parts.overall(),
            })
            .collect();
        let chosen = self
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
        )
        .map_err(|refusal| {
            let code = match refusal {
                SenderRefusal::NotVerified(_) | SenderRefusal::SystemCategory => {
                    "sender_not_verified"
                }
                SenderRefusal::ScopeForbids { .. } => "sender_scope",
            };
            ServiceError::Denied {
                code,
                message: refusal.to_string(),
            }
        })?;

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
            Some(i) if i.mail_from == Status::Success => i.row.mail_from_domain.clone(),
            _ => self.inner.settings.platform.bounce_host.clone(),
        };
        let envelope_from = format!("bounces+{id}@{envelope_domain}");
        let now = self.now_ms();
        let unsigned = message(&Outgoing {
            from_name: None,
            from: from.to_string(),
            reply_to: reply_to.as_ref().map(|r| r.to_string()),
            to: to.iter().map(|a| a.to_string()).collect(),
            cc: cc.iter().map(|a| a.to_string()).collect(),
            subject: request.subject.clone(),
            text: request.text.clone(),
            html: request.html.clone(),
            headers: request.headers.clone().into_iter().collect(),
            attachments,
            message_id_local: id.clone(),
            message_id_domain: from.domain().to_string(),
            date_unix: now / 1000,
        });
        let raw = self
            .sign(org, identity.map(|i| i.row.domain.as_str()), &unsigned)
            .await?;
        if raw.len() > limits.max_size_bytes {
            return Err(bad(MessageError::TooLarge(limits.max_size_bytes)));
        }

        let all: Vec<String> = to
            .iter()
            .chain(&cc)
            .chain(&bcc)
            .map(|a| a.to_string())
            .collect();
        let row = MessageRow {
            id: id.clone(),
            org_id: org.id.clone(),
            category: request.category.as_str().to_string(),
            from_address: from.to_string(),
            identity_id: identity.map(|i| i.row.id.clone()),
            fallback_reason,
            reply_to: reply_to.map(|r| r.to_string()),
            envelope_from: envelope_from.clone(),
            recipients: all.join(","),
            subject: request.subject.clone(),
            status: "captured".into(),
            created_at: now,
        };
        let captured = OutboxRow {
            id: id.clone(),
            org_id: Some(org.id.clone()),
            category: request.category.as_str().to_string(),
            mail_from: envelope_from,
            rcpt_to: all.join(","),
            subject: request.subject,
            raw,
            created_at: now,
        };
        self.inner
            .store
            .insert_captured_message(&row, &captured)
            .await?;
        tracing::info!(org_id = %org.id, message_id = %id, category = row.category, custom = row.identity_id.is_some(), "message accepted");
        Ok(Accepted { id })
    }

    /// Signs with the organization's active key for `custom_domain` (if the
    /// mail goes out from its own address) and with the platform's key.
    async fn sign(
        &self,
        org: &absender_store::OrgRow,
        custom_domain: Option<&str>,
        unsigned: &[u8],
    ) -> Result<Vec<u8>, ServiceError> {
        let mut keys: Vec<(String, String, Vec<u8>)> = Vec::new();
        if let Some(domain) = custom_domain {
            let key = self
                .inner
                .store
                .dkim_keys(&org.id, domain)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| ServiceError::Internal(format!("{domain} has no DKIM key")))?;
            let der = self
                .inner
                .master_key
                .open(&key.selector, &key.private_key_enc)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            keys.push((key.domain, key.selector, der));
        }
        if let Some(platform) = self.platform_signing_key().await? {
            keys.push((platform.domain, platform.selector, platform.pkcs8_der));
        }
        let keys: Vec<DkimKey<'_>> = keys
            .iter()
            .map(|(domain, selector, der)| DkimKey {
                domain,
                selector,
                pkcs8_der: der,
            })
            .collect();
        dkim::sign(unsigned, &keys).map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// A message of the organization, with the sender used and why.
    pub async fn get_message(&self, caller: &Caller, id: &str) -> Result<Message, ServiceError> {
        let org = caller.org()?;
        let row = self
            .inner
            .store
            .message(&org.id, id)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        Ok(Message {
            category: Category::parse(&row.category)
                .ok_or_else(|| ServiceError::corrupt("message category"))?,
            recipients: row
                .recipients
                .split(',')
                .filter(|r| !r.is_empty())
                .map(|r| RecipientStatus {
                    address: r.to_string(),
                    status: row.status.clone(),
                })
                .collect(),
            id: row.id,
            from: row.from_address,
            identity_id: row.identity_id,
            fallback_reason: row.fallback_reason,
            reply_to: row.reply_to,
            envelope_from: row.envelope_from,
            subject: row.subject,
            status: row.status,
            created_at: rfc3339(row.created_at),
        })
    }
}
