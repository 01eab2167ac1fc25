//! The absender binary's library half: configuration and the server's wiring,
//! shared by `main`, the demo and the integration tests.

pub mod config;
pub mod server;
