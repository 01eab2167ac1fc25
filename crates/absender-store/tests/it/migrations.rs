//! Both dialects carry the same migrations.

use std::collections::BTreeSet;
use std::path::Path;

fn names(dialect: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(dialect);
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_have_the_same_file_names() {
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}

#[tokio::test]
async fn reopening_a_database_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absender.db");
    let store = absender_store::Store::open_sqlite(&path).await.unwrap();
    store.insert_setting_if_absent("k", "v").await.unwrap();
    store.close().await;
    let again = absender_store::Store::open_sqlite(&path).await.unwrap();
    assert_eq!(again.setting("k").await.unwrap().as_deref(), Some("v"));
}
