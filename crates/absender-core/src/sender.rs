//! The sender rule (DESIGN.md, "Mail categories and the sender rule"): which
//! address a mail goes out from, and when a custom address may be chosen.
//! Nothing is ever sent from an address that is not verified.

use crate::{Category, Domain, EmailAddress, Scope, Status};
use std::fmt;

/// What an identity lets its organization send from.
#[derive(Debug, Clone, Copy)]
pub enum Verifies<'a> {
    /// One mailbox.
    Address(&'a EmailAddress),
    /// Every address at the domain (not its subdomains).
    Domain(&'a Domain),
}

impl Verifies<'_> {
    /// Whether mail from `from` may use this identity.
    pub fn covers(&self, from: &EmailAddress) -> bool {
        match self {
            Self::Address(address) => same_mailbox(address, from),
            Self::Domain(domain) => from.domain() == *domain,
        }
    }

    /// The address, for an address identity.
    pub fn address(&self) -> Option<&EmailAddress> {
        match self {
            Self::Address(address) => Some(address),
            Self::Domain(_) => None,
        }
    }
}

impl fmt::Display for Verifies<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Address(address) => address.fmt(f),
            Self::Domain(domain) => domain.fmt(f),
        }
    }
}

/// An identity of the sending organization, as the rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct SenderIdentity<'a> {
    /// The identity's id.
    pub id: &'a str,
    /// Its address or domain.
    pub verifies: Verifies<'a>,
    /// Which categories it may carry.
    pub scope: Scope,
    /// Its overall status.
    pub status: Status,
}

/// Where a mail goes out from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// The organization's own verified address.
    Custom {
        /// The identity used.
        identity_id: String,
        /// Its address.
        address: EmailAddress,
    },
    /// The platform's default sender of the category.
    Default {
        /// The default address.
        address: EmailAddress,
        /// The chosen custom address, kept as Reply-To when it cannot be used.
        reply_to: Option<EmailAddress>,
        /// Why the chosen custom address was not used, if one was chosen.
        fallback_reason: Option<String>,
    },
}

/// Why a send with an explicit `from` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderRefusal {
    /// The address is no verified identity of this organization.
    #[error("{0} is not a verified sender identity of this organization")]
    NotVerified(String),
    /// The identity's scope does not cover the category.
    #[error("{address} may only send mails to bookers and invitees, not {category}")]
    ScopeForbids {
        /// The address.
        address: String,
        /// The category asked for.
        category: &'static str,
    },
    /// System mail always comes from the platform.
    #[error("system mail is always sent from the platform's own address")]
    SystemCategory,
    /// The organization's custom-sender upgrade is switched off.
    #[error("{0} cannot be used: the custom sender upgrade is switched off for this organization")]
    UpgradeRequired(String),
}

/// The fallback reason when the upgrade is switched off.
pub const UPGRADE_DISABLED: &str = "upgrade_disabled";

fn same_mailbox(a: &EmailAddress, b: &EmailAddress) -> bool {
    a.domain() == b.domain() && a.local_part().eq_ignore_ascii_case(b.local_part())
}

/// The verified identity that lets the organization send from `from`
/// (mail of `category`, when known): of those that cover the address, one
/// whose scope allows the category, an address identity before a domain.
pub fn covering<'s, 'a>(
    identities: &'s [SenderIdentity<'a>],
    from: &EmailAddress,
    category: Option<Category>,
) -> Option<&'s SenderIdentity<'a>> {
    identities
        .iter()
        .filter(|i| i.status == Status::Success && i.verifies.covers(from))
        .max_by_key(|i| {
            (
                category.is_none_or(|c| i.scope.allows(c)),
                matches!(i.verifies, Verifies::Address(_)),
            )
        })
}

/// Why `identity` may not be the sender of `category` right now, if it may not.
pub fn unusable_reason(identity: &SenderIdentity<'_>, category: Category) -> Option<String> {
    if category == Category::System {
        Some("system mail is always sent from the platform's own address".to_string())
    } else if !identity.scope.allows(category) {
        Some(format!(
            "{} may not send {}",
            identity.verifies,
            category.as_str()
        ))
    } else if identity.status != Status::Success {
        Some(format!(
            "{} is {}",
            identity.verifies,
            identity.status.as_str()
        ))
    } else {
        None
    }
}

/// Decides the sender of one mail of `category`. With `explicit_from`, that
/// address must be a verified identity whose scope allows the category (or
/// the category's default sender itself); without, the organization's `chosen`
/// identity is used while it is healthy, else the `default` with the chosen
/// address as Reply-To and the reason recorded. Custom addresses need the
/// organization's upgrade (`upgraded`), checked at every send: without it
/// an explicit one is refused and a chosen one falls back.
pub fn choose_sender(
    category: Category,
    explicit_from: Option<&EmailAddress>,
    identities: &[SenderIdentity<'_>],
    chosen: Option<&str>,
    default: &EmailAddress,
    upgraded: bool,
) -> Result<Sender, SenderRefusal> {
    if let Some(from) = explicit_from {
        if same_mailbox(from, default) {
            return Ok(Sender::Default {
                address: default.clone(),
                reply_to: None,
                fallback_reason: None,
            });
        }
        if category == Category::System {
            return Err(SenderRefusal::SystemCategory);
        }
        if !upgraded {
            return Err(SenderRefusal::UpgradeRequired(from.to_string()));
        }
        let identity = covering(identities, from, Some(category))
            .ok_or_else(|| SenderRefusal::NotVerified(from.to_string()))?;
        if !identity.scope.allows(category) {
            return Err(SenderRefusal::ScopeForbids {
                address: from.to_string(),
                category: category.as_str(),
            });
        }
        return Ok(Sender::Custom {
            identity_id: identity.id.to_string(),
            // An address identity's own spelling; any address of a domain's.
            address: identity.verifies.address().unwrap_or(from).clone(),
        });
    }
    let chosen = chosen.and_then(|id| identities.iter().find(|i| i.id == id));
    match chosen {
        None => Ok(Sender::Default {
            address: default.clone(),
            reply_to: None,
            fallback_reason: None,
        }),
        Some(identity) if !upgraded => Ok(Sender::Default {
            address: default.clone(),
            reply_to: reply_to(identity, category),
            fallback_reason: Some(UPGRADE_DISABLED.to_string()),
        }),
        Some(identity) => match (unusable_reason(identity, category), identity.verifies) {
            (None, Verifies::Address(address)) => Ok(Sender::Custom {
                identity_id: identity.id.to_string(),
                address: address.clone(),
            }),
            // Send settings take address identities only; a domain has no
            // one address to send from.
            (None, Verifies::Domain(domain)) => Ok(Sender::Default {
                address: default.clone(),
                reply_to: None,
                fallback_reason: Some(format!("{domain} is a domain, not an address")),
            }),
            (Some(reason), _) => Ok(Sender::Default {
                address: default.clone(),
                reply_to: reply_to(identity, category),
                fallback_reason: Some(reason),
            }),
        },
    }
}

/// The chosen address kept as Reply-To when the default sends instead.
fn reply_to(identity: &SenderIdentity<'_>, category: Category) -> Option<EmailAddress> {
    (category != Category::System)
        .then(|| identity.verifies.address().cloned())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn explicit_from_must_be_verified_and_in_scope() {
        let (events, info, new) = (
            addr("events@acme.test"),
            addr("info@acme.test"),
            addr("new@acme.test"),
        );
        let identities = [
            SenderIdentity {
                id: "i1",
                verifies: Verifies::Address(&events),
                scope: Scope::Recipients,
                status: Status::Success,
            },
            SenderIdentity {
                id: "i2",
                verifies: Verifies::Address(&info),
                scope: Scope::All,
                status: Status::Success,
            },
            SenderIdentity {
                id: "i3",
                verifies: Verifies::Address(&new),
                scope: Scope::All,
                status: Status::Pending,
            },
        ];
        let default = addr("buchung@absender.test");
        let choose = |category, from: &str| {
            choose_sender(
                category,
                Some(&addr(from)),
                &identities,
                None,
                &default,
                true,
            )
        };
        assert!(
            matches!(choose(Category::Booking, "Events@ACME.test"), Ok(Sender::Custom { identity_id, .. }) if identity_id == "i1")
        );
        assert!(matches!(
            choose(Category::AccountNotification, "events@acme.test"),
            Err(SenderRefusal::ScopeForbids { .. })
        ));
        assert!(matches!(
            choose(Category::AccountNotification, "info@acme.test"),
            Ok(Sender::Custom { .. })
        ));
        assert_eq!(
            choose(Category::Booking, "new@acme.test"),
            Err(SenderRefusal::NotVerified("new@acme.test".into()))
        );
        assert_eq!(
            choose(Category::Booking, "ceo@acme.test"),
            Err(SenderRefusal::NotVerified("ceo@acme.test".into()))
        );
        assert_eq!(
            choose(Category::System, "info@acme.test"),
            Err(SenderRefusal::SystemCategory)
        );
        assert!(matches!(
            choose(Category::Booking, "buchung@absender.test"),
            Ok(Sender::Default { reply_to: None, .. })
        ));
    }

    #[test]
    fn a_chosen_identity_is_used_while_healthy_else_the_default_with_reply_to() {
        let events = addr("events@acme.test");
        let default = addr("buchung@absender.test");
        let with = |status| {
            [SenderIdentity {
                id: "i1",
                verifies: Verifies::Address(&events),
                scope: Scope::Recipients,
                status,
            }]
        };
        let healthy = with(Status::Success);
        assert!(matches!(
            choose_sender(
                Category::Booking,
                None,
                &healthy,
                Some("i1"),
                &default,
                true
            ),
            Ok(Sender::Custom { .. })
        ));
        for status in [Status::TemporaryFailure, Status::Pending, Status::Failed] {
            let broken = with(status);
            let Ok(Sender::Default {
                address,
                reply_to,
                fallback_reason,
            }) = choose_sender(Category::Booking, None, &broken, Some("i1"), &default, true)
            else {
                panic!("falls back for {status:?}");
            };
            assert_eq!(address, default);
            assert_eq!(reply_to, Some(events.clone()));
            assert!(fallback_reason.unwrap().contains(status.as_str()));
        }
        let scoped = choose_sender(
            Category::AccountNotification,
            None,
            &healthy,
            Some("i1"),
            &default,
            true,
        )
        .unwrap();
        assert!(matches!(
            scoped,
            Sender::Default {
                fallback_reason: Some(_),
                ..
            }
        ));
        assert_eq!(
            choose_sender(Category::Invitation, None, &healthy, None, &default, true).unwrap(),
            Sender::Default {
                address: default.clone(),
                reply_to: None,
                fallback_reason: None
            }
        );
    }

    #[test]
    fn a_verified_domain_covers_every_address_at_it_and_nothing_else() {
        let acme = Domain::parse("acme.test").unwrap();
        let events = addr("events@acme.test");
        let default = addr("buchung@absender.test");
        let identities = [
            SenderIdentity {
                id: "d1",
                verifies: Verifies::Domain(&acme),
                scope: Scope::All,
                status: Status::Success,
            },
            SenderIdentity {
                id: "i1",
                verifies: Verifies::Address(&events),
                scope: Scope::Recipients,
                status: Status::Success,
            },
        ];
        let choose = |category, from: &str| {
            choose_sender(
                category,
                Some(&addr(from)),
                &identities,
                None,
                &default,
                true,
            )
        };
        assert_eq!(
            choose(Category::AccountNotification, "Kasse@acme.test"),
            Ok(Sender::Custom {
                identity_id: "d1".into(),
                address: addr("Kasse@acme.test"),
            })
        );
        // The domain's wider scope serves where the address's would not.
        assert!(
            matches!(choose(Category::AccountNotification, "events@acme.test"), Ok(Sender::Custom { identity_id, .. }) if identity_id == "d1")
        );
        assert!(
            matches!(choose(Category::Booking, "events@acme.test"), Ok(Sender::Custom { identity_id, .. }) if identity_id == "i1")
        );
        for other in ["x@mail.acme.test", "x@acme.test.evil", "x@notacme.test"] {
            assert_eq!(
                choose(Category::Booking, other),
                Err(SenderRefusal::NotVerified(other.into()))
            );
        }
        // A pending domain covers nothing.
        let pending = [SenderIdentity {
            status: Status::Pending,
            ..identities[0]
        }];
        assert!(
            choose_sender(
                Category::Booking,
                Some(&events),
                &pending,
                None,
                &default,
                true
            )
            .is_err()
        );
        // Chosen in send settings (which refuse domains), it is not used.
        assert!(matches!(
            choose_sender(
                Category::Booking,
                None,
                &identities,
                Some("d1"),
                &default,
                true
            ),
            Ok(Sender::Default {
                reply_to: None,
                fallback_reason: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn without_the_upgrade_a_custom_address_is_refused_or_falls_back() {
        let events = addr("events@acme.test");
        let default = addr("buchung@absender.test");
        let identities = [SenderIdentity {
            id: "i1",
            verifies: Verifies::Address(&events),
            scope: Scope::All,
            status: Status::Success,
        }];
        assert_eq!(
            choose_sender(
                Category::Booking,
                Some(&events),
                &identities,
                None,
                &default,
                false
            ),
            Err(SenderRefusal::UpgradeRequired("events@acme.test".into()))
        );
        // The default sender itself stays allowed.
        assert!(
            choose_sender(
                Category::Booking,
                Some(&default),
                &identities,
                None,
                &default,
                false
            )
            .is_ok()
        );
        assert_eq!(
            choose_sender(
                Category::Booking,
                None,
                &identities,
                Some("i1"),
                &default,
                false
            ),
            Ok(Sender::Default {
                address: default.clone(),
                reply_to: Some(events.clone()),
                fallback_reason: Some(UPGRADE_DISABLED.into()),
            })
        );
    }
}
