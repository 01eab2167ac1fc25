//! Rebuilds the store when a migration is added or changed: `sqlx::migrate!`
//! embeds the files at compile time, and Cargo would not otherwise notice a
//! new file (sqlx's documented build script).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
