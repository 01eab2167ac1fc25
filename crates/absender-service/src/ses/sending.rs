//! SES's `SendEmail` over absender's own sending: the sender rule,
//! suppression, signing and queue the native API and SMTP use.

use super::Ses;
use super::templates::TemplateRef;
use crate::api::{AttachmentIn, SendMessage};
use crate::{Caller, ServiceError};
use absender_core::{Category, EmailAddress};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tag that names the mail category (SES has none).
pub const CATEGORY_TAG: &str = "absender-category";

/// `SendEmail`'s body. Fields absender has no use for (configuration
/// sets, list management, feedback forwarding, ARNs) are accepted.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendEmail {
    pub from_email_address: Option<String>,
    #[serde(default)]
    pub destination: Destination,
    #[serde(default)]
    pub reply_to_addresses: Vec<String>,
    pub content: EmailContent,
    #[serde(default)]
    pub email_tags: Vec<MessageTag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destination {
    #[serde(default)]
    pub to_addresses: Vec<String>,
    #[serde(default)]
    pub cc_addresses: Vec<String>,
    #[serde(default)]
    pub bcc_addresses: Vec<String>,
}

impl Destination {
    fn is_empty(&self) -> bool {
        self.to_addresses.is_empty()
            && self.cc_addresses.is_empty()
            && self.bcc_addresses.is_empty()
    }
}

/// One of SES's three kinds of content.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailContent {
    pub simple: Option<Simple>,
    pub raw: Option<Raw>,
    pub template: Option<TemplateRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Simple {
    pub subject: Text,
    pub body: Body,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A text and its charset (absender writes UTF-8 whatever the charset says:
/// the JSON already holds Unicode).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Text {
    pub data: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Body {
    pub text: Option<Text>,
    pub html: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    /// Base64, as blobs travel in JSON.
    pub raw_content: String,
    pub file_name: String,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Raw {
    /// The whole message, base64.
    pub data: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageTag {
    pub name: String,
    pub value: String,
}

/// `SendEmail`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Sent {
    pub message_id: String,
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::BadRequest {
        code: "invalid_parameter",
        message: message.into(),
    }
}

/// The category the tags name, booking by default.
pub(crate) fn category_of(tags: &[MessageTag]) -> Result<Category, ServiceError> {
    let named: Vec<&MessageTag> = tags.iter().filter(|t| t.name == CATEGORY_TAG).collect();
    match named.as_slice() {
        [] => Ok(Category::Booking),
        [tag] => Category::parse(&tag.value)
            .filter(|c| *c != Category::System)
            .ok_or_else(|| {
                bad(format!(
                    "the tag {CATEGORY_TAG} is {}, not {:?}",
                    Category::organization_names(),
                    tag.value
                ))
            }),
        _ => Err(bad(format!("the tag {CATEGORY_TAG} is given twice"))),
    }
}

/// `Name <address>` or a bare address, as SES takes `FromEmailAddress`.
pub(crate) fn split_from(from: &str) -> (Option<String>, String) {
    match from.trim().rsplit_once('<') {
        Some((name, rest)) if rest.ends_with('>') => {
            let name = name.trim().trim_matches('"').trim();
            let address = rest.trim_end_matches('>').trim().to_string();
            ((!name.is_empty()).then(|| name.to_string()), address)
        }
        _ => (None, from.trim().to_string()),
    }
}

impl Ses<'_> {
    /// `SendEmail`.
    pub async fn send_email(
        &self,
        caller: &Caller,
        request: SendEmail,
    ) -> Result<Sent, ServiceError> {
        let category = category_of(&request.email_tags)?;
        let content = request.content;
        match (content.simple, content.raw, content.template) {
            (Some(simple), None, None) => {
                self.send_simple(
                    caller,
                    category,
                    request.from_email_address,
                    request.destination,
                    request.reply_to_addresses,
                    simple,
                )
                .await
            }
            (None, Some(raw), None) => {
                self.send_raw(
                    caller,
                    category,
                    request.from_email_address,
                    request.destination,
                    raw,
                )
                .await
            }
            (None, None, Some(template)) => {
                let message = self.message(
                    category,
                    request.from_email_address,
                    request.destination,
                    request.reply_to_addresses,
                )?;
                self.send_templated(caller, message, template).await
            }
            _ => Err(bad("Content holds exactly one of Simple, Raw and Template")),
        }
    }

    /// A native message from SES's sender, destination and Reply-To, its
    /// content still empty.
    fn message(
        &self,
        category: Category,
        from: Option<String>,
        destination: Destination,
        reply_to: Vec<String>,
    ) -> Result<SendMessage, ServiceError> {
        let (from_name, from) = match from.as_deref().map(split_from) {
            Some((name, address)) => (name, Some(address)),
            None => (None, None),
        };
        let reply_to = match reply_to.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            _ => return Err(bad("absender takes one ReplyToAddresses entry")),
        };
        Ok(SendMessage {
            category,
            from,
            from_name,
            to: destination.to_addresses,
            cc: destination.cc_addresses,
            bcc: destination.bcc_addresses,
            reply_to,
            subject: String::new(),
            text: None,
            html: None,
            headers: BTreeMap::new(),
            attachments: Vec::new(),
        })
    }

    async fn send_simple(
        &self,
        caller: &Caller,
        category: Category,
        from: Option<String>,
        destination: Destination,
        reply_to: Vec<String>,
        simple: Simple,
    ) -> Result<Sent, ServiceError> {
        let message = self.message(category, from, destination, reply_to)?;
        let mut headers = BTreeMap::new();
        for header in simple.headers {
            if headers.insert(header.name.clone(), header.value).is_some() {
                return Err(bad(format!("the header {} is given twice", header.name)));
            }
        }
        let attachments = simple
            .attachments
            .into_iter()
            .map(|a| {
                if a.content_disposition.as_deref() == Some("INLINE") {
                    return Err(bad(
                        "inline attachments are not supported by absender; attach them",
                    ));
                }
                Ok(AttachmentIn {
                    filename: a.file_name,
                    content_type: a
                        .content_type
                        .unwrap_or_else(|| "application/octet-stream".into()),
                    content_base64: a.raw_content,
                })
            })
            .collect::<Result<_, _>>()?;
        let request = SendMessage {
            subject: simple.subject.data,
            text: simple.body.text.map(|t| t.data),
            html: simple.body.html.map(|t| t.data),
            headers,
            attachments,
            ..message
        };
        let accepted = self
            .app
            .sending()
            .send_message_via(caller, request, "ses")
            .await?;
        Ok(Sent {
            message_id: accepted.id,
        })
    }

    async fn send_raw(
        &self,
        caller: &Caller,
        category: Category,
        from: Option<String>,
        destination: Destination,
        raw: Raw,
    ) -> Result<Sent, ServiceError> {
        let org = caller.organization()?;
        let data = STANDARD
            .decode(raw.data.trim())
            .map_err(|_| bad("Content.Raw.Data is not base64"))?;
        let limit = self.app.sending().smtp_max_message_bytes();
        if data.len() > limit {
            return Err(ServiceError::TooLarge(format!(
                "the message is larger than {limit} bytes"
            )));
        }
        let headers =
            absender_mail::submitted::submitted(&data).map_err(|e| ServiceError::BadRequest {
                code: "invalid_message",
                message: e.to_string(),
            })?;
        // FromEmailAddress, when given, must be the message's own author.
        if let Some(from) = from {
            let (_, address) = split_from(&from);
            if !address.eq_ignore_ascii_case(&headers.from) {
                return Err(ServiceError::Denied {
                    code: "sender_not_verified",
                    message: format!(
                        "FromEmailAddress {address} is not the message's From {}",
                        headers.from
                    ),
                });
            }
        }
        let recipients: Vec<String> = if destination.is_empty() {
            headers.recipients
        } else {
            destination
                .to_addresses
                .into_iter()
                .chain(destination.cc_addresses)
                .chain(destination.bcc_addresses)
                .collect()
        };
        let limits = self.app.sending().limits();
        if recipients.is_empty() {
            return Err(bad("the message has no recipients"));
        }
        if recipients.len() > limits.max_recipients {
            return Err(bad(format!(
                "at most {} recipients per message",
                limits.max_recipients
            )));
        }
        let parsed = recipients
            .iter()
            .map(|r| {
                EmailAddress::parse(r).map_err(|e| ServiceError::BadRequest {
                    code: "invalid_address",
                    message: format!("{r:?}: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.app
            .suppressions()
            .refuse_suppressed(&org.row.id, &parsed)
            .await?;
        let recipients: Vec<String> = parsed.iter().map(|a| a.to_string()).collect();
        let id = self
            .app
            .sending()
            .submit_raw(org, &recipients, data, Some(category), "ses")
            .await?;
        Ok(Sent { message_id: id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_from_with_a_name_is_split_and_a_bare_one_kept() {
        assert_eq!(
            split_from("\"Acme Events\" <events@acme.test>"),
            (Some("Acme Events".into()), "events@acme.test".into())
        );
        assert_eq!(
            split_from("events@acme.test"),
            (None, "events@acme.test".into())
        );
        assert_eq!(
            split_from("<events@acme.test>"),
            (None, "events@acme.test".into())
        );
    }

    #[test]
    fn the_category_comes_from_one_tag() {
        let tag = |value: &str| MessageTag {
            name: CATEGORY_TAG.into(),
            value: value.into(),
        };
        assert_eq!(category_of(&[]).unwrap(), Category::Booking);
        assert_eq!(
            category_of(&[tag("invitation")]).unwrap(),
            Category::Invitation
        );
        assert!(category_of(&[tag("system")]).is_err());
        assert!(category_of(&[tag("booking"), tag("invitation")]).is_err());
    }
}
