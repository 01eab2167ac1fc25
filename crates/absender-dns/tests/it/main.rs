//! The DNS server on 127.0.0.1 port 0, over a real SQLite store, asked by a
//! real resolver (hickory-resolver) and by raw packets.

mod harness;
mod local_zones;
mod platform_zones;
mod robustness;
