//! The store battery: every test runs against SQLite, and against PostgreSQL
//! when `ABSENDER_TEST_POSTGRES_URL` is set (CI sets it).

mod backends;
mod battery;
mod migrations;
