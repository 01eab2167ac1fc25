//! Composition of absender's own notices (verification mails, status notices).

use mail_builder::MessageBuilder;

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
