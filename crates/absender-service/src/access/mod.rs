//! Who may do what: organizations and their API keys, SES-style access keys,
//! SMTP logins, and the web UI's sessions and sign-in links.

pub mod access_keys;
pub(crate) mod orgs;
pub mod sigv4;
pub(crate) mod smtp_credentials;
pub(crate) mod ui_sessions;

use crate::App;

/// Organizations, access keys, SMTP credentials and UI sessions (`orgs.rs`,
/// `access_keys.rs`, `smtp_credentials.rs`, `ui_sessions.rs`).
#[derive(Clone, Copy)]
pub struct Access<'a> {
    pub(crate) app: &'a App,
}
