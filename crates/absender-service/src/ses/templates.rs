//! SES's email templates over absender's own (`sending::templates`), and
//! `SendBulkEmail`: one template rendered per entry, each entry its own
//! message under the sender rule.

use super::sending::{Destination, MessageTag, Sent, category_of, split_from};
use super::{Ses, epoch_seconds};
use crate::api::{SendMessage, TemplateContent};
use crate::sending::templates::{Compiled, Rendered, compiled, parse_data};
use crate::{Caller, ServiceError};
use serde::{Deserialize, Serialize};

/// SES's most entries in one `SendBulkEmail`.
const MAX_BULK_ENTRIES: usize = 50;

/// A template's parts as SES writes them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SesTemplateContent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl SesTemplateContent {
    fn native(self) -> TemplateContent {
        TemplateContent {
            subject: self.subject.unwrap_or_default(),
            text: self.text,
            html: self.html,
        }
    }
}

/// `CreateEmailTemplate`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTemplate {
    pub template_name: String,
    pub template_content: SesTemplateContent,
    #[serde(default)]
    pub tags: Vec<super::identities::Tag>,
}

/// `UpdateEmailTemplate`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTemplate {
    pub template_content: SesTemplateContent,
}

/// `TestRenderEmailTemplate`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TestRender {
    pub template_data: String,
}

/// `GetEmailTemplate`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SesTemplate {
    pub template_name: String,
    pub template_content: SesTemplateContent,
    pub tags: Vec<super::identities::Tag>,
}

/// `ListEmailTemplates`' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplatePage {
    pub templates_metadata: Vec<TemplateMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplateMetadata {
    pub template_name: String,
    pub created_timestamp: f64,
}

/// `Content.Template` of `SendEmail`, and `DefaultContent.Template` of
/// `SendBulkEmail`: a stored template by name, or one given inline.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplateRef {
    pub template_name: Option<String>,
    pub template_arn: Option<String>,
    pub template_content: Option<SesTemplateContent>,
    pub template_data: Option<String>,
    #[serde(default)]
    pub headers: Vec<super::sending::Header>,
}

/// `SendBulkEmail`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendBulk {
    pub from_email_address: Option<String>,
    #[serde(default)]
    pub reply_to_addresses: Vec<String>,
    #[serde(default)]
    pub default_email_tags: Vec<MessageTag>,
    pub default_content: BulkContent,
    pub bulk_email_entries: Vec<BulkEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BulkContent {
    pub template: Option<TemplateRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BulkEntry {
    pub destination: Destination,
    #[serde(default)]
    pub replacement_tags: Vec<MessageTag>,
    pub replacement_email_content: Option<ReplacementContent>,
    #[serde(default)]
    pub replacement_headers: Vec<super::sending::Header>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplacementContent {
    pub replacement_template: Option<ReplacementTemplate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplacementTemplate {
    pub replacement_template_data: Option<String>,
}

/// One entry's outcome.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BulkResult {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// `SendBulkEmail`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BulkSent {
    pub bulk_email_entry_results: Vec<BulkResult>,
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest {
        code: "invalid_parameter",
        message: message.into(),
    }
}

/// SES's status of a refused bulk entry.
fn bulk_status(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::Denied {
            code: "mail_from_not_verified",
            ..
        } => "MAIL_FROM_DOMAIN_NOT_VERIFIED",
        ServiceError::Denied {
            code: "sending_paused",
            ..
        } => "ACCOUNT_SENDING_PAUSED",
        ServiceError::QuotaExceeded { daily: true, .. } => "ACCOUNT_DAILY_QUOTA_EXCEEDED",
        ServiceError::QuotaExceeded { daily: false, .. } => "ACCOUNT_THROTTLED",
        ServiceError::Denied { .. }
        | ServiceError::Refused { .. }
        | ServiceError::UpgradeRequired { .. } => "MESSAGE_REJECTED",
        ServiceError::NotFound("template") => "TEMPLATE_NOT_FOUND",
        ServiceError::RateLimited { .. } => "ACCOUNT_THROTTLED",
        ServiceError::Store(_) | ServiceError::Internal(_) | ServiceError::Unavailable { .. } => {
            "TRANSIENT_FAILURE"
        }
        _ => "INVALID_PARAMETER",
    }
}

impl Ses<'_> {
    /// `CreateEmailTemplate`.
    pub async fn create_template(
        &self,
        caller: &Caller,
        request: CreateTemplate,
    ) -> Result<(), ServiceError> {
        let tags = super::identities::checked_tags(&request.tags)?;
        self.app
            .templates()
            .create_tagged(
                caller,
                &request.template_name,
                request.template_content.native(),
                &tags,
            )
            .await?;
        Ok(())
    }

    /// `GetEmailTemplate`.
    pub async fn get_template(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<SesTemplate, ServiceError> {
        let row = self.app.templates().row(caller, name).await?;
        Ok(SesTemplate {
            tags: serde_json::from_str(&row.tags)
                .map_err(|_| ServiceError::corrupt("template tags"))?,
            template_name: row.name,
            template_content: SesTemplateContent {
                subject: Some(row.subject),
                text: row.text_part,
                html: row.html_part,
            },
        })
    }

    /// `ListEmailTemplates`: by name (`NextToken` is the last name of the
    /// page before).
    pub async fn list_templates(
        &self,
        caller: &Caller,
        page_size: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<TemplatePage, ServiceError> {
        let size = page_size.unwrap_or(10);
        if !(1..=100).contains(&size) {
            return Err(bad("PageSize must be 1 to 100"));
        }
        // Names and creation times alone: no template's text is read.
        let org = caller.org()?;
        let rows = self
            .app
            .inner
            .store
            .list_template_names(&org.id, next_token, size as i64)
            .await?;
        let next_token = (rows.len() == size)
            .then(|| rows.last().map(|(name, _)| name.clone()))
            .flatten();
        let templates_metadata = rows
            .into_iter()
            .map(|(template_name, created_at)| TemplateMetadata {
                template_name,
                created_timestamp: epoch_seconds(created_at),
            })
            .collect();
        Ok(TemplatePage {
            templates_metadata,
            next_token,
        })
    }

    /// `UpdateEmailTemplate`.
    pub async fn update_template(
        &self,
        caller: &Caller,
        name: &str,
        request: UpdateTemplate,
    ) -> Result<(), ServiceError> {
        self.app
            .templates()
            .update_template(caller, name, request.template_content.native())
            .await?;
        Ok(())
    }

    /// `DeleteEmailTemplate`.
    pub async fn delete_template(&self, caller: &Caller, name: &str) -> Result<(), ServiceError> {
        self.app.templates().delete_template(caller, name).await
    }

    /// `TestRenderEmailTemplate`: the message the template makes with the
    /// data, as SES shows it (a MIME message without sender or recipient).
    pub async fn test_render(
        &self,
        caller: &Caller,
        name: &str,
        request: TestRender,
    ) -> Result<String, ServiceError> {
        let data = parse_data(&request.template_data)?;
        let row = self.app.templates().row(caller, name).await?;
        let rendered = std::sync::Arc::new(compiled(&row)?)
            .render_blocking(data)
            .await?;
        Ok(absender_mail::compose::preview(
            &rendered.subject,
            rendered.text.as_deref(),
            rendered.html.as_deref(),
        ))
    }

    /// The compiled template a `TemplateRef` names or holds.
    pub(crate) async fn template_of(
        &self,
        caller: &Caller,
        template: &TemplateRef,
    ) -> Result<Compiled, ServiceError> {
        let by_arn = template
            .template_arn
            .as_deref()
            .and_then(|arn| arn.rsplit_once("template/").map(|(_, name)| name));
        match (
            template.template_name.as_deref(),
            by_arn,
            &template.template_content,
        ) {
            (Some(name), _, None) | (None, Some(name), None) => {
                let row = self.app.templates().row(caller, name).await?;
                compiled(&row)
            }
            (None, None, Some(content)) => Compiled::new(&content.clone().native()),
            _ => Err(bad(
                "Template names a TemplateName (or TemplateArn) or holds TemplateContent, one of them",
            )),
        }
    }

    /// `SendEmail` with `Content.Template`.
    pub(crate) async fn send_templated(
        &self,
        caller: &Caller,
        message: SendMessage,
        template: TemplateRef,
    ) -> Result<Sent, ServiceError> {
        let compiled = self.template_of(caller, &template).await?;
        let data = parse_data(template.template_data.as_deref().unwrap_or("{}"))?;
        let rendered = std::sync::Arc::new(compiled).render_blocking(data).await?;
        let mut message = message;
        for header in template.headers {
            if message
                .headers
                .insert(header.name.clone(), header.value)
                .is_some()
            {
                return Err(bad(format!("the header {} is given twice", header.name)));
            }
        }
        let accepted = self
            .app
            .sending()
            .send_message_via(
                caller,
                SendMessage {
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                    ..message
                },
                "ses",
            )
            .await?;
        Ok(Sent {
            message_id: accepted.id,
        })
    }

    /// `SendBulkEmail`: the template compiled once, rendered and sent per
    /// entry; an entry that fails gets its own status and the rest go on.
    pub async fn send_bulk(
        &self,
        caller: &Caller,
        request: SendBulk,
    ) -> Result<BulkSent, ServiceError> {
        let entries = request.bulk_email_entries;
        if entries.is_empty() || entries.len() > MAX_BULK_ENTRIES {
            return Err(bad(format!(
                "BulkEmailEntries holds 1 to {MAX_BULK_ENTRIES} entries"
            )));
        }
        let template = request
            .default_content
            .template
            .ok_or_else(|| bad("DefaultContent.Template is required"))?;
        let compiled = self.template_of(caller, &template).await?;
        let default_data = parse_data(template.template_data.as_deref().unwrap_or("{}"))?;
        let (from_name, from) = match request.from_email_address.as_deref().map(split_from) {
            Some((name, address)) => (name, Some(address)),
            None => (None, None),
        };
        let reply_to = match request.reply_to_addresses.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            _ => return Err(bad("absender takes one ReplyToAddresses entry")),
        };
        // Every entry rendered first, off the async workers (each rendering
        // is bounded, fifty of them take a while).
        let datas: Vec<Result<serde_json::Value, ServiceError>> = entries
            .iter()
            .map(|entry| {
                match entry
                    .replacement_email_content
                    .as_ref()
                    .and_then(|c| c.replacement_template.as_ref())
                    .and_then(|t| t.replacement_template_data.as_deref())
                {
                    Some(data) => parse_data(data),
                    None => Ok(default_data.clone()),
                }
            })
            .collect();
        let compiled = std::sync::Arc::new(compiled);
        let rendered: Vec<Result<Rendered, ServiceError>> =
            tokio::task::spawn_blocking(move || {
                datas
                    .into_iter()
                    .map(|data| data.and_then(|data| compiled.render(&data)))
                    .collect()
            })
            .await
            .map_err(|e| ServiceError::Internal(format!("rendering failed: {e}")))?;
        let mut results = Vec::with_capacity(entries.len());
        for (entry, rendered) in entries.into_iter().zip(rendered) {
            let tags: Vec<MessageTag> = if entry.replacement_tags.is_empty() {
                request.default_email_tags.clone()
            } else {
                entry.replacement_tags.clone()
            };
            let sent = async {
                let rendered = rendered?;
                let mut headers = std::collections::BTreeMap::new();
                for header in template.headers.iter().chain(&entry.replacement_headers) {
                    headers.insert(header.name.clone(), header.value.clone());
                }
                let message = SendMessage {
                    category: category_of(&tags)?,
                    from: from.clone(),
                    from_name: from_name.clone(),
                    to: entry.destination.to_addresses,
                    cc: entry.destination.cc_addresses,
                    bcc: entry.destination.bcc_addresses,
                    reply_to: reply_to.clone(),
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                    headers,
                    attachments: Vec::new(),
                };
                self.app
                    .sending()
                    .send_message_via(caller, message, "ses")
                    .await
            }
            .await;
            results.push(match sent {
                Ok(accepted) => BulkResult {
                    status: "SUCCESS",
                    error: None,
                    message_id: Some(accepted.id),
                },
                Err(e) => {
                    if matches!(e, ServiceError::Store(_) | ServiceError::Internal(_)) {
                        tracing::error!(error = %e, "a bulk entry failed inside absender");
                    }
                    BulkResult {
                        status: bulk_status(&e),
                        error: Some(match bulk_status(&e) {
                            "TRANSIENT_FAILURE" => {
                                "absender could not take this entry just now; send it again".into()
                            }
                            _ => e.to_string(),
                        }),
                        message_id: None,
                    }
                }
            });
        }
        Ok(BulkSent {
            bulk_email_entry_results: results,
        })
    }
}
