//! Who may do what: organizations and their API keys, SMTP logins, and the
//! web UI's sessions and sign-in links.

pub(crate) mod orgs;
pub(crate) mod smtp_credentials;
pub(crate) mod ui_sessions;

use crate::App;

/// Organizations, SMTP credentials and UI sessions (`orgs.rs`,
/// `smtp_credentials.rs`, `ui_sessions.rs`).
#[derive(Clone, Copy)]
pub struct Access<'a> {
    pub(crate) app: &'a App,
}
