//! Fresh databases for tests: a temp-dir SQLite file, or a new PostgreSQL database.

use absender_store::Store;

/// A store on a database made for one test, removed with it.
pub struct TestDb {
    pub store: Store,
    _cleanup: Cleanup,
}

/// What goes with the test: a directory, or a database (dropped with it).
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] crate::tools::ScratchDatabase),
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("absender.db"))
            .await
            .unwrap();
        Self {
            store,
            _cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// `None` when no PostgreSQL server is there (reported by `tools`).
    pub async fn postgres(test: &str) -> Option<Self> {
        let admin_url = crate::tools::postgres_url(test)?;
        let scratch = crate::tools::ScratchDatabase::create(&admin_url, "absender_test").await;
        let store = Store::connect(&scratch.url()).await.unwrap();
        Some(Self {
            store,
            _cleanup: Cleanup::Postgres(scratch),
        })
    }

    /// Closes the store; its database (or directory) goes with `self`.
    pub async fn finish(self) {
        self.store.close().await;
    }
}

/// Runs each listed async test function against every configured backend.
#[macro_export]
macro_rules! battery {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::backends::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let test = concat!("postgres::", stringify!($name));
                    let Some(db) = $crate::backends::TestDb::postgres(test).await else {
                        return;
                    };
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
    };
}
