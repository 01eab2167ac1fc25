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

#[tokio::test]
async fn a_database_migrated_by_a_newer_absender_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absender.db");
    let store = absender_store::Store::open_sqlite(&path).await.unwrap();
    store.close().await;
    // A newer absender's migration, as sqlx records it.
    let url = format!("sqlite://{}", path.display());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (99990101, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let refused = absender_store::Store::open_sqlite(&path)
        .await
        .err()
        .unwrap();
    let words = refused.to_string();
    assert!(
        words.contains("migration 99990101, newer than this absender knows"),
        "{words}"
    );
}

#[tokio::test]
async fn nodes_starting_at_once_on_an_empty_postgres_database_migrate_it_once() {
    let test = "nodes_starting_at_once_on_an_empty_postgres_database_migrate_it_once";
    let Some(admin_url) = crate::tools::postgres_url(test) else {
        return;
    };
    let scratch = crate::tools::ScratchDatabase::create(&admin_url, "absender_test").await;
    let url = scratch.url();
    let nodes = (0..3).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { absender_store::Store::connect(&url).await })
    });
    let mut stores = Vec::new();
    for node in nodes {
        stores.push(node.await.unwrap().expect("every node starts"));
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let (applied, distinct): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(DISTINCT version) AS BIGINT) FROM _sqlx_migrations",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(applied, distinct);
    assert_eq!(applied as usize, names("postgres").len());
    pool.close().await;
    for store in stores {
        store.close().await;
    }
}
