//! Sending: messages accepted by API and SMTP, signed and queued, delivered
//! to the receivers or captured in the outbox; and what comes back: bounces,
//! complaints, suppressions and unsubscribes.

pub mod bounces;
pub mod complaints;
pub mod history;
pub(crate) mod messages;
pub(crate) mod outbox;
pub(crate) mod queue;
pub(crate) mod quotas;
pub(crate) mod rejects;
pub(crate) mod reputation;
pub(crate) mod send_settings;
pub(crate) mod signing;
pub(crate) mod submission;
pub(crate) mod suppressions;
pub(crate) mod template_shape;
pub(crate) mod templates;
pub(crate) mod unsubscribe;

use crate::App;

/// Accepting mail: the API's messages, SMTP submission, DKIM signing, each
/// organization's send settings, and the capture outbox (`messages.rs`,
/// `submission.rs`, `signing.rs`, `send_settings.rs`, `outbox.rs`).
#[derive(Clone, Copy)]
pub struct Sending<'a> {
    pub(crate) app: &'a App,
}

/// The delivery queue's workers (`queue.rs`; the SMTP client pool is absender-mail's `smtp_client`).
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    pub(crate) app: &'a App,
}

/// What comes back: bounce reports, the suppression list, unsubscribes
/// (`bounces.rs`, `suppressions.rs`, `unsubscribe.rs`).
#[derive(Clone, Copy)]
pub struct Suppressions<'a> {
    pub(crate) app: &'a App,
}

/// Email templates: stored, compiled, rendered (`templates.rs`).
#[derive(Clone, Copy)]
pub struct Templates<'a> {
    pub(crate) app: &'a App,
}
