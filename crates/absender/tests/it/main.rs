//! Integration tests: the real server on 127.0.0.1 port 0 over a real SQLite
//! file (and PostgreSQL where configured), spoken to over HTTP.

mod access_keys;
mod binary;
mod browser;
// The benchmarks' API helpers: set-up over HTTP against a node's URL.
#[path = "../../examples/common/mod.rs"]
#[allow(dead_code)]
mod bench_common;
mod cluster;
mod complaints;
mod crash;
mod cross_tenant;
mod delivery;
mod dkim_rotation;
mod dkimpy;
mod dns_caching;
mod dns_checks;
mod dns_failures;
mod dns_records;
mod dns_zones;
mod domain_identities;
mod helpers;
mod identities;
mod master_key;
mod messages;
mod orgs;
mod outbox;
mod own_dkim;
mod postgres;
mod quotas;
mod reputation;
mod requests;
mod robustness;
mod send_settings;
mod ses;
mod smtp_limits;
mod smtp_sink;
mod smtp_submission;
mod system_mail_dkim;
mod templates;
mod tools;
mod trust;
mod ui;
mod verification;
mod webhooks;
