//! One module per resource, each with its own `router()`.

pub mod access_keys;
pub mod health;
pub mod identities;
pub mod inbound;
pub mod messages;
pub mod nodes;
pub mod orgs;
pub mod outbox;
pub mod send_settings;
pub mod smtp_credentials;
pub mod suppressions;
pub mod templates;
pub mod unsubscribe;
pub mod verify;
pub mod webhooks;
pub mod zones;
