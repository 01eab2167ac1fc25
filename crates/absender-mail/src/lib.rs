//! absender's mail adapter: turns decided content into RFC 5322 bytes, and reads
//! them back for display. It decides nothing about who may send what.

pub mod compose;
pub mod dkim;
pub mod dsn;
pub mod inspect;
pub mod submitted;
pub mod wire;
