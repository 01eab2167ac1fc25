//! absender's use cases. Each public function of [`App`] is one thing an
//! interface can ask for: it checks who asks, lets the core decide, and has the
//! adapters (store, mail) do the IO. Interfaces map its results to HTTP, SMTP or CLI.

pub mod api;
mod app;
mod batch_write;
pub mod bounces;
mod checks;
mod clock;
pub mod crypto;
mod dkim_keys;
mod error;
pub mod finding_words;
mod identities;
mod limits;
mod messages;
pub mod metrics;
mod notices;
mod orgs;
mod outbox;
mod platform;
mod queue;
pub mod retention;
pub mod secrets;
mod send_settings;
pub mod settings;
mod signing;
mod smtp_credentials;
mod smtp_out;
mod submission;
mod suppressions;
mod ui_sessions;
mod unsubscribe;
mod verification;
mod zones;

pub use app::{App, Caller, DefaultSenders};
pub use checks::{CHECK_LEASE, WATCH_INTERVAL};
pub use clock::{Clock, ManualClock, SystemClock};
pub use crypto::MasterKey;
pub use error::ServiceError;
pub use identities::records_csv;
pub use settings::Settings;
pub use submission::SmtpReply;
pub use ui_sessions::{SESSION_TTL, SIGN_IN_LINK_TTL};
pub use verification::{VerifyPage, VerifyRefusal};
