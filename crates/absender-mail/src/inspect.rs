//! Reading stored messages back, for the outbox views.

use mail_parser::MessageParser;

/// What the outbox shows of a message besides its raw bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The decoded plain-text body, if any.
    pub text: Option<String>,
    /// The decoded HTML body, if any.
    pub html: Option<String>,
    /// Header names and raw values in order.
    pub headers: Vec<(String, String)>,
}

/// Parses `raw`; an unparsable message yields an empty summary.
pub fn summarize(raw: &[u8]) -> Summary {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Summary::default();
    };
    let headers = message
        .headers_raw()
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect();
    Summary {
        text: message.body_text(0).map(|t| t.into_owned()),
        html: message.body_html(0).map(|t| t.into_owned()),
        headers,
    }
}

/// The first address in the To of `raw`, if any.
pub fn first_to(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse_headers(raw)?;
    message.to()?.first()?.address().map(str::to_string)
}

/// The first address in the From of `raw`, if any (headers only are read).
pub fn first_from(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse_headers(raw)?;
    message.from()?.first()?.address().map(str::to_string)
}

/// The decoded Subject of `raw`, if it has one.
pub fn subject(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse_headers(raw)?;
    message.subject().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{Notice, notice};

    #[test]
    fn a_composed_notice_reads_back_with_its_bodies_and_headers() {
        let link = format!("http://127.0.0.1:8080/verify/{}", "x".repeat(80));
        let text = format!("Bitte bestätigen: {link}");
        let raw = notice(&Notice {
            from_name: "absender",
            from: "noreply@absender.test",
            to: "events@acme.test",
            subject: "Bestätigen Sie Ihre Absenderadresse",
            text: &text,
            html: "<p>Bitte bestätigen</p>",
            message_id_local: "abc",
            message_id_domain: "absender.test",
            date_unix: 1_700_000_000,
        });
        let summary = summarize(&raw);
        assert!(
            summary.text.unwrap().contains(&link),
            "long links survive encoding"
        );
        assert!(summary.html.unwrap().contains("<p>Bitte"));
        let header = |name: &str| {
            summary
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("Message-ID").as_deref(), Some("<abc@absender.test>"));
        assert!(
            header("Subject").unwrap().starts_with("=?utf-8?"),
            "non-ASCII subject is encoded"
        );
        assert!(header("Date").is_some());
    }
}
