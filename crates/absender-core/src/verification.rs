//! When a verification token may still be redeemed.

/// What is known of a stored token (its secret is only kept as a hash elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenState {
    /// Unix milliseconds after which the link no longer works.
    pub expires_at_ms: i64,
    /// Unix milliseconds of the confirmation, if it happened.
    pub used_at_ms: Option<i64>,
    /// Whether a newer link replaced this one.
    pub superseded: bool,
}

/// Why a known token cannot be redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// The link was already used; links are single use.
    #[error("this link was already used")]
    Used,
    /// The link is older than its lifetime.
    #[error("this link has expired")]
    Expired,
    /// A newer link was sent; only the newest one works.
    #[error("a newer link was sent; only the newest one works")]
    Superseded,
}

impl TokenState {
    /// Decides whether the token may be redeemed at `now_ms`.
    pub fn check(&self, now_ms: i64) -> Result<(), TokenRefusal> {
        if self.used_at_ms.is_some() {
            Err(TokenRefusal::Used)
        } else if self.superseded {
            Err(TokenRefusal::Superseded)
        } else if now_ms >= self.expires_at_ms {
            Err(TokenRefusal::Expired)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: TokenState = TokenState {
        expires_at_ms: 1_000,
        used_at_ms: None,
        superseded: false,
    };

    #[test]
    fn fresh_token_is_accepted_until_it_expires() {
        assert_eq!(FRESH.check(999), Ok(()));
        assert_eq!(FRESH.check(1_000), Err(TokenRefusal::Expired));
    }

    #[test]
    fn used_token_is_refused_even_before_expiry() {
        let used = TokenState {
            used_at_ms: Some(10),
            ..FRESH
        };
        assert_eq!(used.check(20), Err(TokenRefusal::Used));
    }

    #[test]
    fn superseded_token_is_refused() {
        let old = TokenState {
            superseded: true,
            ..FRESH
        };
        assert_eq!(old.check(20), Err(TokenRefusal::Superseded));
    }
}
