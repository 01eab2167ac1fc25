//! Fresh databases for tests: a temp-dir SQLite file, or a new PostgreSQL database.

use absender_store::Store;
use sqlx::Connection;

/// A store on a database made for one test, removed by `finish`.
pub struct TestDb {
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("absender.db"))
            .await
            .unwrap();
        Self {
            store,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// `None` when no PostgreSQL server is there (reported by `tools`).
    pub async fn postgres(test: &str) -> Option<Self> {
        let admin_url = crate::tools::postgres_url(test)?;
        let name = format!("absender_test_{:016x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL reachable");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let url = database_url(&admin_url, &name);
        let store = Store::connect(&url).await.unwrap();
        Some(Self {
            store,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Postgres { admin_url, name } = self.cleanup {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
        }
    }
}

/// The admin URL with its database replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
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
