//! absender's domain core: the types, rules and state machines of custom sender
//! identities. Pure and synchronous: no IO, no clock, no randomness (callers pass
//! the time and any generated tokens in), so every rule is unit-testable.

pub mod address;
pub mod category;
pub mod check;
pub mod decision;
pub mod delivery;
pub mod dns;
pub mod events;
pub mod finding;
pub mod freemail;
pub mod identity;
pub mod lifecycle;
pub mod locale;
pub mod message;
pub mod net;
pub mod outside;
pub mod rate_limit;
pub mod records;
pub mod reputation;
pub mod return_path;
pub mod rotation;
pub mod selector;
pub mod sender;
pub mod status;
pub mod verification;

pub use address::{AddressError, Domain, EmailAddress};
pub use category::{Category, Scope};
pub use dns::{DnsName, LocalRecordData, LocalRecordType};
pub use identity::{IdentityKind, IdentityParts};
pub use locale::Locale;
pub use records::{DnsRecord, PlatformDns, RecordPurpose, RecordType};
pub use selector::Selector;
pub use status::{IllegalTransition, Status};
