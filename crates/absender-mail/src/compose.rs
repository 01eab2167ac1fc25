//! Composition of absender's own notices (verification mails, status notices).

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;

/// A plain notice with a text and an HTML alternative.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    /// Display name of the sender.
    pub from_name: &'a str,
    /// Address of the sender.
    pub from: &'a str,
    /// The one recipient.
    pub to: &'a str,
    /// Subject line (UTF-8; encoded as needed).
    pub subject: &'a str,
    /// Plain-text body.
    pub text: &'a str,
    /// HTML body.
    pub html: &'a str,
    /// The unique left-hand side of the Message-ID.
    pub message_id_local: &'a str,
    /// The domain of the Message-ID (the sending domain).
    pub message_id_domain: &'a str,
    /// Unix seconds for the Date header.
    pub date_unix: i64,
}

/// Builds the final message bytes, CRLF line endings.
pub fn notice(notice: &Notice<'_>) -> Vec<u8> {
    MessageBuilder::new()
        .from((notice.from_name.to_string(), notice.from.to_string()))
        .to(notice.to.to_string())
        .subject(notice.subject.to_string())
        .message_id(format!(
            "{}@{}",
            notice.message_id_local, notice.message_id_domain
        ))
        .date(notice.date_unix)
        .header(
            "Auto-Submitted",
            mail_builder::headers::raw::Raw::new("auto-generated"),
        )
        .text_body(notice.text.to_string())
        .html_body(notice.html.to_string())
        .write_to_vec()
        .expect("writing to a Vec cannot fail")
}

/// One attachment.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The file name shown to the recipient.
    pub filename: String,
    /// Its MIME type.
    pub content_type: String,
    /// The bytes.
    pub content: Vec<u8>,
}

/// Where a recipient unsubscribes: both go in `List-Unsubscribe`, and
/// `List-Unsubscribe-Post` says the https URL takes a one-click POST.
#[derive(Debug, Clone)]
pub struct Unsubscribe {
    pub https: String,
    pub mailto: String,
}

/// A mail an organization sends, every value already validated.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// Display name of the sender, if any.
    pub from_name: Option<String>,
    /// The sender address (custom or default).
    pub from: String,
    /// The Reply-To address, if any.
    pub reply_to: Option<String>,
    /// Visible recipients.
    pub to: Vec<String>,
    /// Visible copies.
    pub cc: Vec<String>,
    /// Subject (UTF-8).
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body.
    pub html: Option<String>,
    /// Extra headers (name, value), validated by the caller.
    pub headers: Vec<(String, String)>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// One-click unsubscribe (RFC 8058): the https URL and the mailto address.
    pub unsubscribe: Option<Unsubscribe>,
    /// `Feedback-ID` (feedback loops report complaints per value), if any.
    pub feedback_id: Option<String>,
    /// The unique left-hand side of the Message-ID.
    pub message_id_local: String,
    /// The domain of the Message-ID (the sending domain).
    pub message_id_domain: String,
    /// Unix seconds for the Date header.
    pub date_unix: i64,
}

fn address_list(addresses: &[String]) -> mail_builder::headers::address::Address<'static> {
    mail_builder::headers::address::Address::new_list(
        addresses.iter().map(|a| a.clone().into()).collect(),
    )
}

/// Builds the message bytes (CRLF), ready for signing; Bcc never appears in it.
pub fn message(mail: &Outgoing) -> Vec<u8> {
    let from: mail_builder::headers::address::Address<'_> = match &mail.from_name {
        Some(name) => (name.clone(), mail.from.clone()).into(),
        None => mail.from.clone().into(),
    };
    let mut builder = MessageBuilder::new()
        .from(from)
        .to(address_list(&mail.to))
        .subject(mail.subject.clone())
        .message_id(format!(
            "{}@{}",
            mail.message_id_local, mail.message_id_domain
        ))
        .date(mail.date_unix);
    if !mail.cc.is_empty() {
        builder = builder.cc(address_list(&mail.cc));
    }
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    for (name, value) in &mail.headers {
        builder = builder.header(
            name.clone(),
            mail_builder::headers::text::Text::new(value.clone()),
        );
    }
    if let Some(id) = &mail.feedback_id {
        builder = builder.header("Feedback-ID", Raw::new(id.clone()));
    }
    if let Some(u) = &mail.unsubscribe {
        builder = builder
            .header(
                "List-Unsubscribe",
                Raw::new(format!("<{}>, <mailto:{}>", u.https, u.mailto)),
            )
            .header(
                "List-Unsubscribe-Post",
                Raw::new("List-Unsubscribe=One-Click"),
            );
    }
    if let Some(text) = &mail.text {
        builder = builder.text_body(text.clone());
    }
    if let Some(html) = &mail.html {
        builder = builder.html_body(html.clone());
    }
    for attachment in &mail.attachments {
        builder = builder.attachment(
            attachment.content_type.clone(),
            attachment.filename.clone(),
            attachment.content.clone(),
        );
    }
    builder
        .write_to_vec()
        .expect("writing to a Vec cannot fail")
}

/// A template's rendering as a MIME message without sender, recipients or
/// date (SES's `TestRenderEmailTemplate` shows one).
pub fn preview(subject: &str, text: Option<&str>, html: Option<&str>) -> String {
    let mut builder = MessageBuilder::new().subject(subject.to_string());
    if let Some(text) = text {
        builder = builder.text_body(text.to_string());
    }
    if let Some(html) = html {
        builder = builder.html_body(html.to_string());
    }
    let bytes = builder
        .write_to_vec()
        .expect("writing to a Vec cannot fail");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A Date header value (RFC 5322) for Unix seconds.
pub fn date_header(unix_seconds: i64) -> String {
    mail_builder::headers::date::Date::new(unix_seconds).to_rfc822()
}
