//! A sender identity's parts and how their statuses make the identity's status.

use crate::status::{IllegalTransition, Status};

/// The statuses of an identity's required parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityParts {
    /// The owner clicked the verification link.
    pub address: Status,
    /// The three DKIM CNAMEs are published.
    pub dkim: Status,
    /// The SPF policy authorizes the platform.
    pub spf: Status,
}

impl IdentityParts {
    /// A freshly requested identity: the mail is out, the records are awaited.
    pub fn requested() -> Self {
        Self {
            address: Status::Pending,
            dkim: Status::Pending,
            spf: Status::Pending,
        }
    }

    /// The identity's status: `SUCCESS` only when every required part is.
    pub fn overall(&self) -> Status {
        Status::overall([self.address, self.dkim, self.spf])
    }

    /// The owner confirmed the address.
    pub fn confirm_address(self) -> Result<Self, IllegalTransition> {
        Ok(Self {
            address: self.address.transition(Status::Success)?,
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_identity_is_pending_until_every_part_succeeds() {
        let parts = IdentityParts::requested();
        assert_eq!(parts.overall(), Status::Pending);
        let confirmed = parts.confirm_address().unwrap();
        assert_eq!(confirmed.address, Status::Success);
        assert_eq!(confirmed.overall(), Status::Pending);
        let all = IdentityParts {
            dkim: Status::Success,
            spf: Status::Success,
            ..confirmed
        };
        assert_eq!(all.overall(), Status::Success);
    }

    #[test]
    fn confirming_twice_is_harmless_but_a_failed_address_cannot_confirm() {
        let confirmed = IdentityParts::requested().confirm_address().unwrap();
        assert_eq!(confirmed.confirm_address().unwrap(), confirmed);
        let failed = IdentityParts {
            address: Status::Failed,
            ..IdentityParts::requested()
        };
        assert!(failed.confirm_address().is_err());
    }
}
