//! absender's mail adapter: turns decided content into RFC 5322 bytes, reads
//! them back for display, and hands them to receiving servers over SMTP
//! (`smtp_client`). It decides nothing about who may send what.

pub mod arf;
pub mod compose;
pub mod dkim;
pub mod dsn;
pub mod inspect;
mod report;
pub mod smtp_client;
pub mod submitted;
pub mod wire;
