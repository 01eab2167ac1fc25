//! The DNS absender serves: local zones the operator manages, and the
//! platform's own records (DKIM keys, SPF include, bounce host).

pub(crate) mod platform;
pub(crate) mod zones;

use crate::App;

/// Local zones and the platform's records and key (`zones.rs`, `platform.rs`).
#[derive(Clone, Copy)]
pub struct Zones<'a> {
    pub(crate) app: &'a App,
}
