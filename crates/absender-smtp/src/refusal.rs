//! The service's refusals in SMTP terms: each `ServiceError` becomes a reply
//! code, an enhanced status code (RFC 3463) and its words, here at the edge,
//! as the HTTP API maps the same errors to statuses.

use absender_service::ServiceError;

/// A refusal as an SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmtpReply {
    pub code: u16,
    pub enhanced: &'static str,
    pub text: String,
}

impl SmtpReply {
    fn new(code: u16, enhanced: &'static str, text: impl Into<String>) -> Self {
        Self {
            code,
            enhanced,
            text: text.into(),
        }
    }
}

impl From<&ServiceError> for SmtpReply {
    fn from(err: &ServiceError) -> Self {
        use ServiceError::*;
        let words = err.to_string();
        match err {
            BadRequest {
                code: "invalid_address",
                ..
            }
            | InvalidAddress { .. } => Self::new(553, "5.1.3", words),
            Refused {
                code: "one_recipient_per_invitation",
                ..
            } => Self::new(554, "5.5.3", words),
            BadRequest { .. } | Invalid { .. } | Conflict { .. } => Self::new(554, "5.6.0", words),
            Refused { .. } | Denied { .. } | Forbidden(_) | UpgradeRequired { .. } => {
                Self::new(550, "5.7.1", words)
            }
            NotFound(_) => Self::new(550, "5.1.1", words),
            Unauthorized => Self::new(535, "5.7.8", words),
            TooLarge(_) => Self::new(552, "5.3.4", words),
            RateLimited { .. } => Self::new(451, "4.7.1", words),
            QuotaExceeded { .. } => Self::new(451, "4.7.0", words),
            Unavailable { .. } | Store(_) | Internal(_) => {
                // The words may name internals: the log has them, the client a retry.
                tracing::error!(error = %err, "SMTP submission failed inside absender");
                Self::new(
                    451,
                    "4.3.0",
                    "absender could not take the message just now; try again",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_get_the_smtp_code_of_their_kind() {
        let reply = |e: ServiceError| {
            let r = SmtpReply::from(&e);
            (r.code, r.enhanced)
        };
        let bad = |code| ServiceError::BadRequest {
            code,
            message: "x".into(),
        };
        assert_eq!(reply(bad("invalid_address")), (553, "5.1.3"));
        assert_eq!(reply(bad("invalid_message")), (554, "5.6.0"));
        let denied = ServiceError::Denied {
            code: "sender_not_verified",
            message: "x".into(),
        };
        assert_eq!(reply(denied), (550, "5.7.1"));
        let one = ServiceError::Refused {
            code: "one_recipient_per_invitation",
            message: "x".into(),
        };
        assert_eq!(reply(one), (554, "5.5.3"));
        assert_eq!(reply(ServiceError::TooLarge("x".into())), (552, "5.3.4"));
        let internal = SmtpReply::from(&ServiceError::Internal("db password wrong".into()));
        assert_eq!((internal.code, internal.enhanced), (451, "4.3.0"));
        assert!(!internal.text.contains("password"), "{}", internal.text);
    }
}
