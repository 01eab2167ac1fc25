//! A message a client composed (SMTP submission): the header rules of RFC
//! 5322 §3.6 that keep one author per mail, and the cleanup Postfix's
//! `cleanup` does before signing (Bcc and absender's control headers go).

use mail_parser::{HeaderName, MessageParser};

/// Fields that a message may carry at most once (RFC 5322 §3.6).
const AT_MOST_ONCE: [(HeaderName<'static>, &str); 7] = [
    (HeaderName::Sender, "Sender"),
    (HeaderName::ReplyTo, "Reply-To"),
    (HeaderName::To, "To"),
    (HeaderName::Cc, "Cc"),
    (HeaderName::Subject, "Subject"),
    (HeaderName::MessageId, "Message-ID"),
    (HeaderName::Date, "Date"),
];

/// The prefix of absender's own control headers (`X-Absender-Category`).
const CONTROL_PREFIX: &str = "x-absender-";

/// What submission needs of a client's message, and the message to sign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submitted {
    /// The one address in the one From.
    pub from: String,
    /// Addresses that claim to have sent the message besides From: Sender,
    /// Resent-From and Resent-Sender. Each must be the organization's.
    pub senders: Vec<String>,
    pub has_message_id: bool,
    pub has_date: bool,
    /// The addresses in To, Cc and Bcc (recipients when no envelope names them).
    pub recipients: Vec<String>,
    /// `X-Absender-Category`, lowercased, if the client named one.
    pub category: Option<String>,
    /// The message without Bcc, Resent-Bcc and `X-Absender-*` headers.
    pub cleaned: Vec<u8>,
}

/// Why a submitted message is refused (SMTP `554 5.6.0`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderProblem {
    #[error("the message has no readable header section")]
    Unreadable,
    #[error("the message needs exactly one From header; it has {0}")]
    FromHeaders(usize),
    #[error("From must name exactly one mailbox; it names {0}")]
    FromMailboxes(usize),
    #[error("the message has {count} {name} headers; at most one is allowed")]
    Repeated { name: &'static str, count: usize },
}

/// Reads and cleans a submitted message.
pub fn submitted(raw: &[u8]) -> Result<Submitted, HeaderProblem> {
    let message = MessageParser::default()
        .parse_headers(raw)
        .ok_or(HeaderProblem::Unreadable)?;
    let headers = message.headers();
    if headers.is_empty() {
        return Err(HeaderProblem::Unreadable);
    }
    let count = |name: &HeaderName| headers.iter().filter(|h| &h.name == name).count();

    let from_headers = count(&HeaderName::From);
    if from_headers != 1 {
        return Err(HeaderProblem::FromHeaders(from_headers));
    }
    for (field, name) in &AT_MOST_ONCE {
        let n = count(field);
        if n > 1 {
            return Err(HeaderProblem::Repeated { name, count: n });
        }
    }
    let addresses = |name: &HeaderName| -> Vec<Option<String>> {
        headers
            .iter()
            .filter(|h| &h.name == name)
            .filter_map(|h| h.value.as_address())
            .flat_map(|a| a.iter().map(|a| a.address().map(str::to_string)))
            .collect()
    };
    let from = match addresses(&HeaderName::From).as_slice() {
        [Some(only)] => only.clone(),
        mailboxes => return Err(HeaderProblem::FromMailboxes(mailboxes.len())),
    };
    let senders = [
        HeaderName::Sender,
        HeaderName::ResentFrom,
        HeaderName::ResentSender,
    ]
    .iter()
    .flat_map(addresses)
    // A sender without an address cannot be the organization's.
    .map(Option::unwrap_or_default)
    .collect();
    let recipients = [HeaderName::To, HeaderName::Cc, HeaderName::Bcc]
        .iter()
        .flat_map(addresses)
        .flatten()
        .collect();

    // Header fields to drop, as byte ranges from each field's name to the next field.
    let ends: Vec<usize> = headers
        .iter()
        .skip(1)
        .map(|h| h.offset_field as usize)
        // The parser's end of the last field includes its line break.
        .chain(headers.last().map(|h| h.offset_end as usize))
        .collect();
    let mut cleaned = Vec::with_capacity(raw.len());
    let mut at = 0;
    for (header, end) in headers.iter().zip(ends) {
        // absender writes its own Feedback-ID (complaints are counted by it).
        let dropped = matches!(header.name, HeaderName::Bcc | HeaderName::ResentBcc)
            || header.name.as_str().eq_ignore_ascii_case("feedback-id")
            || header
                .name
                .as_str()
                .to_ascii_lowercase()
                .starts_with(CONTROL_PREFIX);
        if dropped {
            cleaned.extend_from_slice(&raw[at..header.offset_field as usize]);
            at = end;
        }
    }
    cleaned.extend_from_slice(&raw[at..]);

    Ok(Submitted {
        from,
        senders,
        recipients,
        has_message_id: message.message_id().is_some(),
        has_date: message.date().is_some(),
        category: message
            .header_raw("X-Absender-Category")
            .map(|v| v.trim().to_ascii_lowercase()),
        cleaned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> Submitted {
        submitted(raw.as_bytes()).unwrap()
    }

    #[test]
    fn one_author_is_read_with_category_and_missing_fields() {
        let s = ok(
            "From: \"Acme\" <events@acme.test>\r\nTo: a@b.test\r\nX-Absender-Category: Invitation\r\nSubject: x\r\n\r\nbody\r\n",
        );
        assert_eq!(s.from, "events@acme.test");
        assert_eq!(s.category.as_deref(), Some("invitation"));
        assert!(!s.has_message_id && !s.has_date);
        assert!(s.senders.is_empty());
    }

    #[test]
    fn a_second_from_or_a_second_mailbox_is_refused() {
        let two = "From: Bank <ceo@bank.example>\r\nFrom: events@acme.test\r\n\r\nx\r\n";
        assert_eq!(
            submitted(two.as_bytes()),
            Err(HeaderProblem::FromHeaders(2))
        );
        let list = "From: ceo@bank.example, events@acme.test\r\n\r\nx\r\n";
        assert_eq!(
            submitted(list.as_bytes()),
            Err(HeaderProblem::FromMailboxes(2))
        );
        let group = "From: Team: ceo@bank.example, events@acme.test;\r\n\r\nx\r\n";
        assert_eq!(
            submitted(group.as_bytes()),
            Err(HeaderProblem::FromMailboxes(2))
        );
        let none = "To: a@b.test\r\n\r\nx\r\n";
        assert_eq!(
            submitted(none.as_bytes()),
            Err(HeaderProblem::FromHeaders(0))
        );
        let folded_case = "from: a@acme.test\r\nFROM:\r\n b@bank.example\r\n\r\nx\r\n";
        assert_eq!(
            submitted(folded_case.as_bytes()),
            Err(HeaderProblem::FromHeaders(2))
        );
    }

    #[test]
    fn fields_allowed_once_are_refused_twice() {
        for name in [
            "Sender",
            "Reply-To",
            "To",
            "Cc",
            "Subject",
            "Message-ID",
            "Date",
        ] {
            let value = match name {
                "Message-ID" => "<a@acme.test>",
                "Date" => "Tue, 1 Dec 2026 08:00:00 +0000",
                "Subject" => "hi",
                _ => "x@acme.test",
            };
            let raw =
                format!("From: a@acme.test\r\n{name}: {value}\r\n{name}: {value}\r\n\r\nx\r\n");
            assert!(
                matches!(
                    submitted(raw.as_bytes()),
                    Err(HeaderProblem::Repeated { count: 2, .. })
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn sender_and_resent_authors_are_reported() {
        let s = ok(
            "From: a@acme.test\r\nSender: b@bank.example\r\nResent-From: c@acme.test\r\nResent-Sender: Nobody\r\n\r\nx\r\n",
        );
        assert_eq!(s.senders, ["b@bank.example", "c@acme.test", ""]);
    }

    #[test]
    fn bcc_and_control_headers_are_removed_and_the_rest_kept_byte_for_byte() {
        let raw = "Bcc: hidden@x.test\r\nFrom: a@acme.test\r\nBCC: other@x.test,\r\n third@x.test\r\nTo: b@y.test\r\nX-Absender-Category: booking\r\nx-absender-whatever: 1\r\nResent-Bcc: r@x.test\r\nSubject: Bcc: not a header\r\n\r\nBcc: body line\r\n";
        let s = ok(raw);
        assert_eq!(
            String::from_utf8(s.cleaned).unwrap(),
            "From: a@acme.test\r\nTo: b@y.test\r\nSubject: Bcc: not a header\r\n\r\nBcc: body line\r\n"
        );
        assert_eq!(s.category.as_deref(), Some("booking"));
        // Bcc's addresses still receive the mail; only the field goes.
        assert_eq!(
            s.recipients,
            ["b@y.test", "hidden@x.test", "other@x.test", "third@x.test"]
        );
        let last = ok("From: a@acme.test\r\nBcc: z@x.test\r\n\r\nbody\r\n");
        assert_eq!(last.cleaned, b"From: a@acme.test\r\n\r\nbody\r\n");
    }
}
