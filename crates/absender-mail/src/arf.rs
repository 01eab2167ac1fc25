//! Abuse reports in the Abuse Reporting Format (RFC 5965): a
//! `multipart/report; report-type=feedback-report` whose
//! `message/feedback-report` part says what kind of complaint it is and,
//! often, whom the mail went to, followed by the original message or its
//! headers. Parsed with mail-parser; what the report says is the sender's
//! to check (anyone can send one).

use crate::report;
use mail_parser::{Message, MessageParser, PartType};

/// A parsed feedback report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feedback {
    /// `abuse`, `fraud`, `virus`, `other`, `not-spam` (lower case).
    pub feedback_type: String,
    /// The reporting software, when named.
    pub user_agent: Option<String>,
    /// When the reporter received the original, as it wrote it.
    pub arrival_date: Option<String>,
    /// The recipients the reporter names (`Original-Rcpt-To`), often redacted.
    pub original_rcpt_to: Vec<String>,
    /// The original message's Message-ID, without angle brackets.
    pub original_message_id: Option<String>,
    /// The original's Return-Path (the envelope sender it arrived with).
    pub original_return_path: Option<String>,
    /// The original's To addresses.
    pub original_to: Vec<String>,
}

impl Feedback {
    /// Whether the report is a recipient's complaint: RFC 5965's `abuse`,
    /// `fraud`, `virus` or `other`; not `not-spam`, nor an authentication
    /// failure report (RFC 6591) or a type made up.
    pub fn is_complaint(&self) -> bool {
        matches!(
            self.feedback_type.as_str(),
            "abuse" | "fraud" | "virus" | "other"
        )
    }
}

/// Reads `raw` as a feedback report; `None` when it has no
/// `message/feedback-report` part.
pub fn parse(raw: &[u8]) -> Option<Feedback> {
    let message = MessageParser::default().parse(raw)?;
    let mut feedback = Feedback::default();
    let mut found = false;
    for part in &message.parts {
        let Some(kind) = report::kind(part) else {
            continue;
        };
        match (kind.as_str(), &part.body) {
            ("message/feedback-report", _) => {
                found = true;
                read_fields(&report::text(part), &mut feedback);
            }
            ("message/rfc822" | "message/global", PartType::Message(original)) => {
                read_original(original, &mut feedback);
            }
            ("text/rfc822-headers", _) => {
                if let Some(headers) = MessageParser::default().parse_headers(part.contents()) {
                    read_original(&headers, &mut feedback);
                }
            }
            _ => {}
        }
    }
    (found && !feedback.feedback_type.is_empty()).then_some(feedback)
}

/// The machine-readable part's fields.
fn read_fields(text: &str, feedback: &mut Feedback) {
    for (name, value) in report::fields(text) {
        match name.to_ascii_lowercase().as_str() {
            "feedback-type" => feedback.feedback_type = value.to_ascii_lowercase(),
            "user-agent" => feedback.user_agent = Some(value),
            "arrival-date" | "received-date" => feedback.arrival_date = Some(value),
            "original-rcpt-to" => feedback.original_rcpt_to.push(bare_address(&value)),
            _ => {}
        }
    }
}

fn read_original(original: &Message<'_>, feedback: &mut Feedback) {
    feedback.original_message_id = original.message_id().map(str::to_string);
    feedback.original_return_path = original
        .header_raw("Return-Path")
        .map(bare_address)
        .filter(|a| !a.is_empty());
    feedback.original_to = original
        .to()
        .map(|to| {
            to.iter()
                .filter_map(|a| a.address())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
}

/// `<a@b>`, `rfc822; a@b` or `a@b` as `a@b`.
fn bare_address(value: &str) -> String {
    let value = value.rsplit_once(';').map_or(value, |(_, a)| a);
    value.trim().trim_matches(['<', '>']).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like the reports of the big mailbox providers' feedback loops.
    const REPORT: &str = "From: fbl@mail.example.test\r\n\
To: fbl@bounce.absender.test\r\n\
Subject: complaint about message from 192.0.2.1\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\
\r\n\
--F\r\n\
Content-Type: text/plain\r\n\
\r\n\
This is an email abuse report for an email message received from IP 192.0.2.1.\r\n\
--F\r\n\
Content-Type: message/feedback-report\r\n\
\r\n\
Feedback-Type: abuse\r\n\
User-Agent: SomeGenerator/1.0\r\n\
Version: 1\r\n\
Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\r\n\
Original-Rcpt-To: <guest@example.test>\r\n\
Source-IP: 192.0.2.1\r\n\
\r\n\
--F\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Return-Path: <bounces+msg_abc.0.aaaa@bounce.absender.test>\r\n\
From: events@acme.test\r\n\
To: Guest <guest@example.test>\r\n\
Message-ID: <msg_abc@acme.test>\r\n\
Subject: Ihre Buchung\r\n\
\r\n\
Danke!\r\n\
--F--\r\n";

    #[test]
    fn a_feedback_loop_report_names_type_recipient_and_original() {
        let f = parse(REPORT.as_bytes()).unwrap();
        assert_eq!(f.feedback_type, "abuse");
        assert!(f.is_complaint());
        assert_eq!(f.user_agent.as_deref(), Some("SomeGenerator/1.0"));
        assert_eq!(
            f.arrival_date.as_deref(),
            Some("Thu, 8 Mar 2005 14:00:00 EDT")
        );
        assert_eq!(f.original_rcpt_to, ["guest@example.test"]);
        assert_eq!(f.original_message_id.as_deref(), Some("msg_abc@acme.test"));
        assert_eq!(
            f.original_return_path.as_deref(),
            Some("bounces+msg_abc.0.aaaa@bounce.absender.test")
        );
        assert_eq!(f.original_to, ["guest@example.test"]);
    }

    #[test]
    fn headers_only_and_not_spam_reports_are_read_too() {
        let report = REPORT
            .replace("Feedback-Type: abuse", "Feedback-Type: not-spam")
            .replace(
                "Content-Type: message/rfc822",
                "Content-Type: text/rfc822-headers",
            );
        let f = parse(report.as_bytes()).unwrap();
        assert!(!f.is_complaint());
        assert_eq!(f.original_message_id.as_deref(), Some("msg_abc@acme.test"));
        let dmarc = REPORT.replace("Feedback-Type: abuse", "Feedback-Type: auth-failure");
        assert!(!parse(dmarc.as_bytes()).unwrap().is_complaint());
    }

    #[test]
    fn a_bounce_or_an_ordinary_mail_is_no_feedback_report() {
        assert_eq!(
            parse(b"From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n"),
            None
        );
        let dsn = REPORT.replace("message/feedback-report", "message/delivery-status");
        assert_eq!(parse(dsn.as_bytes()), None);
    }
}
