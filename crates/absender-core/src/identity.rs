//! A sender identity's parts and how their statuses make the identity's status.

use crate::status::{IllegalTransition, Status};

/// What an identity proves: one mailbox (the seed's address identities,
/// confirmed by their owner and by DNS) or a whole domain (SES's domain
/// identities, proven by DNS alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Address,
    Domain,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Domain => "domain",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "address" => Some(Self::Address),
            "domain" => Some(Self::Domain),
            _ => None,
        }
    }
}

/// The statuses of an identity's required parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityParts {
    /// The owner clicked the verification link; `None` for a domain
    /// identity, which has no address to confirm.
    pub address: Option<Status>,
    /// The three DKIM CNAMEs are published.
    pub dkim: Status,
    /// The SPF policy authorizes the platform.
    pub spf: Status,
}

impl IdentityParts {
    /// A freshly requested identity: the mail is out, the records are awaited.
    pub fn requested(kind: IdentityKind) -> Self {
        Self {
            address: (kind == IdentityKind::Address).then_some(Status::Pending),
            dkim: Status::Pending,
            spf: Status::Pending,
        }
    }

    /// The identity's status: `SUCCESS` only when every required part is.
    pub fn overall(&self) -> Status {
        Status::overall(self.address.into_iter().chain([self.dkim, self.spf]))
    }

    /// The owner confirmed the address (a domain identity has none).
    pub fn confirm_address(self) -> Result<Self, IllegalTransition> {
        let address = self.address.unwrap_or(Status::NotStarted);
        Ok(Self {
            address: Some(address.transition(Status::Success)?),
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_identity_is_pending_until_every_part_succeeds() {
        let parts = IdentityParts::requested(IdentityKind::Address);
        assert_eq!(parts.overall(), Status::Pending);
        let confirmed = parts.confirm_address().unwrap();
        assert_eq!(confirmed.address, Some(Status::Success));
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
        let requested = IdentityParts::requested(IdentityKind::Address);
        let confirmed = requested.confirm_address().unwrap();
        assert_eq!(confirmed.confirm_address().unwrap(), confirmed);
        let failed = IdentityParts {
            address: Some(Status::Failed),
            ..requested
        };
        assert!(failed.confirm_address().is_err());
    }

    #[test]
    fn a_domain_identity_is_verified_by_its_dns_parts_alone() {
        let parts = IdentityParts::requested(IdentityKind::Domain);
        assert_eq!(parts.address, None);
        assert_eq!(parts.overall(), Status::Pending);
        let dns = IdentityParts {
            dkim: Status::Success,
            spf: Status::Success,
            ..parts
        };
        assert_eq!(dns.overall(), Status::Success);
        assert_eq!(IdentityKind::parse("domain"), Some(IdentityKind::Domain));
        assert_eq!(
            IdentityKind::parse(IdentityKind::Address.as_str()),
            Some(IdentityKind::Address)
        );
        assert_eq!(IdentityKind::parse("mailbox"), None);
    }
}
