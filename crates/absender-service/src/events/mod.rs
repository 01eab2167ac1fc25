//! Events for platforms: webhook destinations (`destinations.rs`), their
//! Standard Webhooks signatures (`signing.rs`), and the dispatcher that
//! delivers each event at least once (`dispatch.rs`), in `sns` format as SNS
//! delivers SES notifications (`sns.rs`). The events themselves
//! are written by the store in the same transaction as the change they
//! report; their shapes are `absender_core::events`.

pub(crate) mod destinations;
pub(crate) mod dispatch;
pub(crate) mod signing;
pub mod sns;

use crate::App;

/// Webhook destinations and their deliveries.
#[derive(Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) app: &'a App,
}
