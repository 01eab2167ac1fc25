//! absender's use cases, in four areas, each a folder with its handles:
//! `identity/` ([`Identities`], [`Checks`]), `sending/` ([`Sending`],
//! [`Delivery`], [`Suppressions`]), `access/` ([`Access`]) and `dns/`
//! ([`Zones`]). [`App`] holds the shared state and hands them out
//! (`app.identities()`, …). Each public function of a handle is one thing an
//! interface can ask for: it checks who asks, lets the core decide, and has
//! the adapters (store, DNS, mail) do the IO. Interfaces map its results to
//! HTTP, SMTP or CLI.

pub mod access;
pub mod api;
mod app;
mod batch_write;
mod clock;
pub mod cluster;
pub mod crypto;
pub mod dns;
mod error;
pub mod events;
pub mod identity;
pub mod metrics;
pub mod retention;
pub mod secrets;
pub mod sending;
pub mod ses;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;

pub use access::Access;
pub use access::ui_sessions::{SESSION_TTL, SIGN_IN_LINK_TTL};
pub use app::{App, Caller, DefaultSenders, Organization};
pub use clock::{Clock, ManualClock, SystemClock};
pub use cluster::Cluster;
pub use crypto::MasterKey;
pub use dns::Zones;
pub use error::ServiceError;
pub use events::Webhooks;
pub use identity::checks::{CHECK_LEASE, WATCH_INTERVAL};
pub use identity::requests::records_csv;
pub use identity::verification::{VerifyPage, VerifyRefusal};
pub use identity::{Checks, Identities};
pub use sending::{Delivery, Sending, Suppressions, Templates};
pub use ses::Ses;
pub use settings::Settings;
