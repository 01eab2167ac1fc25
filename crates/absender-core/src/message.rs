//! What an organization may put into a mail: recipients, headers, size.
//! Header injection (CR/LF in any value) and overriding the headers that
//! absender owns are refused.

/// Limits on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLimits {
    /// To + Cc + Bcc.
    pub max_recipients: usize,
    /// The composed message.
    pub max_size_bytes: usize,
}

impl Default for MessageLimits {
    fn default() -> Self {
        Self {
            max_recipients: 50,
            max_size_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Why a message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// No recipient at all.
    #[error("name at least one recipient in to, cc or bcc")]
    NoRecipients,
    /// Too many recipients.
    #[error("at most {0} recipients (to, cc and bcc together)")]
    TooManyRecipients(usize),
    /// A line break in a value that becomes a header.
    #[error("{0} must not contain line breaks")]
    LineBreak(String),
    /// A header absender sets itself.
    #[error("the header {0} is set by absender and cannot be given")]
    ProtectedHeader(String),
    /// A header name with characters RFC 5322 does not allow.
    #[error("{0:?} is not a valid header name")]
    InvalidHeaderName(String),
    /// Neither text nor HTML.
    #[error("give a text or an html body (or both)")]
    NoBody,
    /// Larger than allowed.
    #[error("the message is larger than {0} bytes")]
    TooLarge(usize),
}

/// Headers absender writes itself; a caller cannot set or override them.
const PROTECTED: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "return-path",
    "received",
    "dkim-signature",
    "authentication-results",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
    "delivered-to",
    // Resent fields claim another author or add hidden recipients.
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-bcc",
    "resent-date",
    "resent-message-id",
];

/// Refuses CR and LF in a value that will end up in a header.
pub fn single_line(field: &str, value: &str) -> Result<(), MessageError> {
    if value.contains(['\r', '\n']) {
        Err(MessageError::LineBreak(field.to_string()))
    } else {
        Ok(())
    }
}

/// Checks a caller-given header.
pub fn check_header(name: &str, value: &str) -> Result<(), MessageError> {
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if !name_ok {
        return Err(MessageError::InvalidHeaderName(name.to_string()));
    }
    let lower = name.to_ascii_lowercase();
    if PROTECTED.contains(&lower.as_str()) || lower.starts_with("content-") {
        return Err(MessageError::ProtectedHeader(name.to_string()));
    }
    single_line(&format!("header {name}"), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_line_breaks_are_refused() {
        assert_eq!(
            single_line("subject", "Hi\r\nBcc: x@evil.test"),
            Err(MessageError::LineBreak("subject".into()))
        );
        assert_eq!(single_line("subject", "Hallo Welt ✓"), Ok(()));
        assert!(check_header("X-Campaign", "a\nb").is_err());
    }

    #[test]
    fn protected_and_malformed_header_names_are_refused() {
        assert_eq!(check_header("X-Campaign", "spring"), Ok(()));
        for name in [
            "From",
            "bcc",
            "DKIM-Signature",
            "Content-Type",
            "List-Unsubscribe",
            "Resent-From",
            "resent-bcc",
        ] {
            assert_eq!(
                check_header(name, "x"),
                Err(MessageError::ProtectedHeader(name.into())),
                "{name}"
            );
        }
        for name in ["", "X Y", "X:Y", "Ümlaut"] {
            assert!(
                matches!(
                    check_header(name, "x"),
                    Err(MessageError::InvalidHeaderName(_))
                ),
                "{name:?}"
            );
        }
    }
}
