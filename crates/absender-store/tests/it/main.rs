//! The store battery: every test runs against SQLite, and against PostgreSQL
//! at `ABSENDER_TEST_POSTGRES_URL` (else the local server; skipped without
//! one, failed in CI).

mod backends;
mod battery;
mod migrations;
// The integration tests' rule for tools and servers from outside, shared.
#[path = "../../../absender/tests/it/tools.rs"]
mod tools;
