//! Delivery status notifications (RFC 3464), parsed with mail-parser: which
//! recipients failed, with what status, and which message they are about.

use crate::report;
use mail_parser::{MessageParser, PartType};

/// One recipient's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    /// The address, without the `rfc822;` type.
    pub recipient: String,
    /// failed, delayed, delivered, relayed, expanded.
    pub action: String,
    /// The enhanced status code, e.g. 5.1.1.
    pub status: String,
    /// The remote server's words, if given.
    pub diagnostic: Option<String>,
}

/// A parsed report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    pub recipients: Vec<RecipientReport>,
    /// The Message-ID of the returned message (or its headers), if included.
    pub original_message_id: Option<String>,
}

/// Reads `raw` as a DSN; `None` when it has no `message/delivery-status` part.
pub fn parse(raw: &[u8]) -> Option<Dsn> {
    let message = MessageParser::default().parse(raw)?;
    let mut dsn = Dsn::default();
    let mut found = false;
    for part in &message.parts {
        let Some(kind) = report::kind(part) else {
            continue;
        };
        match (kind.as_str(), &part.body) {
            ("message/delivery-status" | "message/global-delivery-status", _) => {
                found = true;
                dsn.recipients = recipient_reports(&report::text(part));
            }
            ("message/rfc822" | "message/global", PartType::Message(returned)) => {
                dsn.original_message_id = returned.message_id().map(str::to_string);
            }
            ("text/rfc822-headers", _) => {
                if let Some(headers) = MessageParser::default().parse_headers(part.contents()) {
                    dsn.original_message_id = headers.message_id().map(str::to_string);
                }
            }
            _ => {}
        }
    }
    found.then_some(dsn)
}

/// The per-recipient groups of fields: every paragraph after the first.
fn recipient_reports(text: &str) -> Vec<RecipientReport> {
    let normalized = text.replace("\r\n", "\n");
    normalized
        .split("\n\n")
        .skip(1)
        .filter_map(|group| {
            let fields = report::fields(group);
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            };
            let recipient = field("Final-Recipient").or_else(|| field("Original-Recipient"))?;
            let recipient = recipient
                .split_once(';')
                .map_or(recipient.as_str(), |(_, a)| a)
                .trim()
                .trim_matches(['<', '>'])
                .to_string();
            Some(RecipientReport {
                recipient,
                action: field("Action")?.to_ascii_lowercase(),
                status: field("Status")?,
                diagnostic: field("Diagnostic-Code").map(|d| {
                    d.split_once(';')
                        .map_or(d.clone(), |(_, t)| t.trim().to_string())
                }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "From: MAILER-DAEMON@mx.example.test\r\n\
To: bounces+msg_abc@bounce.acme.test\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\
\r\n\
--B\r\n\
Content-Type: text/plain\r\n\
\r\n\
I'm sorry to have to inform you that your message could not be delivered.\r\n\
--B\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.example.test\r\n\
Arrival-Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n\
\r\n\
Final-Recipient: rfc822; gone@example.test\r\n\
Original-Recipient: rfc822;gone@example.test\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.test>: Recipient address\r\n\
\x20rejected: User unknown\r\n\
\r\n\
Final-Recipient: rfc822; slow@example.test\r\n\
Action: delayed\r\n\
Status: 4.4.1\r\n\
--B\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
From: events@acme.test\r\n\
Message-ID: <msg_abc@acme.test>\r\n\
Subject: Ihre Buchung\r\n\
--B--\r\n";

    #[test]
    fn a_postfix_style_report_names_each_recipient_and_the_message() {
        let dsn = parse(REPORT.as_bytes()).unwrap();
        assert_eq!(
            dsn.original_message_id.as_deref(),
            Some("msg_abc@acme.test")
        );
        assert_eq!(dsn.recipients.len(), 2);
        let gone = &dsn.recipients[0];
        assert_eq!(gone.recipient, "gone@example.test");
        assert_eq!(gone.action, "failed");
        assert_eq!(gone.status, "5.1.1");
        assert_eq!(
            gone.diagnostic.as_deref(),
            Some("550 5.1.1 <gone@example.test>: Recipient address rejected: User unknown")
        );
        assert_eq!(dsn.recipients[1].action, "delayed");
    }

    #[test]
    fn an_ordinary_mail_is_no_report() {
        assert_eq!(
            parse(b"From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n"),
            None
        );
    }
}
