//! Sender identities: an organization's request, the address owner's
//! verification link, the DNS checks that verify DKIM, SPF and the custom
//! MAIL FROM domain, the DKIM keys, and the notices that say how it went.

pub(crate) mod checks;
pub mod finding_words;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod notices;
pub(crate) mod own_keys;
pub(crate) mod requests;
pub(crate) mod rotation;
pub(crate) mod verification;

use crate::App;

/// Requests, views, verification and deletion of sender identities
/// (`requests.rs`, `verification.rs`, `limits.rs`).
#[derive(Clone, Copy)]
pub struct Identities<'a> {
    pub(crate) app: &'a App,
}

/// DNS checks of identities: on request, while a page watches, and on a
/// schedule with leases (`checks.rs`).
#[derive(Clone, Copy)]
pub struct Checks<'a> {
    pub(crate) app: &'a App,
}
