//! Mail categories and identity scopes: which kind of mail a custom sender may carry.

use serde::{Deserialize, Serialize};

/// The kinds of mail the platform sends (DESIGN.md, "Mail categories").
/// Ordered as declared (lists and maps show them in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Mails to bookers.
    Booking,
    /// The email manager: invitations and campaigns.
    Invitation,
    /// Automated account notifications (event created, payout, export finished).
    AccountNotification,
    /// The platform's own mail (verification, status notices): never a custom sender.
    System,
}

/// Why an invitation has exactly one recipient.
pub const ONE_INVITEE: &str = "an invitation goes to one invitee, so that its unsubscribe link unsubscribes exactly that address";

impl Category {
    /// Whether a message of this category may go to `recipients` addresses
    /// (all of to, cc and bcc): an invitation to exactly one ([`ONE_INVITEE`]).
    pub fn allows_recipients(self, recipients: usize) -> bool {
        self != Self::Invitation || recipients == 1
    }

    /// Every category, in the order they are shown.
    pub const ALL: [Category; 4] = [
        Category::Booking,
        Category::Invitation,
        Category::AccountNotification,
        Category::System,
    ];

    /// The categories organizations send (all but the platform's own).
    pub fn of_organizations() -> impl Iterator<Item = Category> {
        Self::ALL.into_iter().filter(|c| *c != Category::System)
    }

    /// Their names for people: "booking, invitation or account_notification".
    pub fn organization_names() -> String {
        let names: Vec<&str> = Self::of_organizations().map(Self::as_str).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }

    /// The name used in JSON, config and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Booking => "booking",
            Category::Invitation => "invitation",
            Category::AccountNotification => "account_notification",
            Category::System => "system",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Which categories an identity may send, as requested by the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Only mails to bookers and invitees.
    Recipients,
    /// Also the automated account notifications.
    All,
}

impl Scope {
    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Recipients => "recipients",
            Scope::All => "all",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "recipients" => Some(Scope::Recipients),
            "all" => Some(Scope::All),
            _ => None,
        }
    }

    /// Whether an identity of this scope may be the sender of `category`.
    pub fn allows(self, category: Category) -> bool {
        match category {
            Category::Booking | Category::Invitation => true,
            Category::AccountNotification => self == Scope::All,
            Category::System => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_category_once() {
        // A new variant does not compile here until it is placed: add it to ALL too.
        let place = |c: Category| match c {
            Category::Booking => 0,
            Category::Invitation => 1,
            Category::AccountNotification => 2,
            Category::System => 3,
        };
        for (i, c) in Category::ALL.into_iter().enumerate() {
            assert_eq!(place(c), i, "{c:?}");
        }
    }

    #[test]
    fn an_invitation_goes_to_exactly_one_recipient() {
        assert!(Category::Invitation.allows_recipients(1));
        assert!(!Category::Invitation.allows_recipients(2));
        assert!(!Category::Invitation.allows_recipients(0));
        assert!(Category::Booking.allows_recipients(3));
    }

    #[test]
    fn scope_decides_which_categories_a_custom_sender_may_carry() {
        use Category::*;
        let table = [
            (Scope::Recipients, [true, true, false, false]),
            (Scope::All, [true, true, true, false]),
        ];
        for (scope, expected) in table {
            for (category, allowed) in [Booking, Invitation, AccountNotification, System]
                .into_iter()
                .zip(expected)
            {
                assert_eq!(scope.allows(category), allowed, "{scope:?} {category:?}");
            }
        }
    }

    #[test]
    fn scope_names_round_trip() {
        for scope in [Scope::Recipients, Scope::All] {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("everything"), None);
        for category in Category::ALL {
            assert_eq!(Category::parse(category.as_str()), Some(category));
        }
        assert_eq!(Category::parse("fax"), None);
    }
}
