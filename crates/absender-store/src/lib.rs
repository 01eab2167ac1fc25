//! absender's persistence. One SQL text serves SQLite and PostgreSQL through
//! sqlx's `Any` driver (numbered `$n` parameters, `RETURNING`, BIGINT Unix
//! milliseconds); each dialect has its own migrations with the same file names.
//! Rows are plain data: decisions about them belong to the core.

/// A claim's condition that its owner (`$4`) was neither declared dead nor
/// stopped: a node that missed its heartbeats takes no new work, even before
/// it notices. An owner not in `nodes` (tests, the store alone) may claim.
macro_rules! owner_alive {
    () => {
        " AND COALESCE((SELECT n.dead_at IS NULL AND n.stopped_at IS NULL FROM nodes n WHERE n.id = $4), TRUE)"
    };
}

/// `owner_alive!` for PostgreSQL: the owner's row is key-share locked until
/// the claim commits. A node declaring the owner dead locks that row for
/// update first, so it waits for the claim and then frees what it took; or
/// the claim waits, and sees the owner dead. (A key-share lock does not
/// stand in the way of the owner's heartbeat, which updates no key.)
macro_rules! owner_alive_locked {
    () => {
        " AND COALESCE((SELECT n.dead_at IS NULL AND n.stopped_at IS NULL FROM nodes n WHERE n.id = $4 FOR KEY SHARE), TRUE)"
    };
}

mod access_keys;
mod checks;
mod complaints;
mod dns;
mod error;
mod history;
mod identities;
mod keys;
mod limits;
mod messages;
mod nodes;
mod orgs;
mod outbox;
mod own_keys;
mod platform_keys;
mod queue;
mod retention;
mod rows;
mod send_settings;
mod settings;
mod smtp_credentials;
mod suppressions;
mod templates;
mod tokens;
mod ui_sessions;
mod webhooks;

pub use error::StoreError;
pub use history::{DayCounts, MessageHistory};
pub use identities::NewIdentity;
pub use nodes::{FreedWork, NodeWithWork};
pub use rows::*;

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, WAL journal.
    Sqlite,
    /// For several nodes sharing one database.
    Postgres,
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// The queue's writes. SQLite has one writer at a time, and a second
    /// connection that wants to write sleeps in SQLite's busy handler
    /// (milliseconds); one connection makes writers wait their turn here.
    /// PostgreSQL: the same pool.
    queue_writer: AnyPool,
    backend: Backend,
    /// Counts this process's writes to DNS data, so that DNS answer caches of
    /// this process drop what a write made stale at once.
    dns_changes: Arc<AtomicU64>,
    /// Sends an organization's reputation weighs (`reputation.window`).
    reputation_window: Arc<std::sync::atomic::AtomicI64>,
    /// Whether any webhook destination was enabled, and when that was read.
    webhooks_seen: Arc<std::sync::Mutex<Option<(std::time::Instant, bool)>>>,
}

/// How long a PostgreSQL session may sit idle inside a transaction; well
/// below `cluster.dead_after`'s default, and far above any of absender's
/// own transactions, which never wait on anything but the database.
const IDLE_IN_TRANSACTION: &str = "SET idle_in_transaction_session_timeout = '5s'";

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url).await
    }

    /// Connects to `sqlite://…` or `postgres://…` and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Postgres {
                        // A node paused in the middle of a transaction (a
                        // stopped VM, a lost network) must not hold its row
                        // locks for the others longer than this: the server
                        // ends such a session, and the transaction with it.
                        sqlx::query(IDLE_IN_TRANSACTION).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the one writer; the mode is stored in the file.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // On PostgreSQL sqlx runs the migrations under an advisory lock:
        // nodes starting at once wait for the first, then find nothing to do.
        match migrator.run(&pool).await {
            Ok(()) => {}
            Err(sqlx::migrate::MigrateError::VersionMissing(applied)) => {
                let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
                return Err(StoreError::NewerSchema { applied, known });
            }
            Err(e) => return Err(e.into()),
        }
        let queue_writer = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        Ok(Self {
            pool,
            queue_writer,
            backend,
            dns_changes: Arc::new(AtomicU64::new(0)),
            reputation_window: Arc::new(std::sync::atomic::AtomicI64::new(10_000)),
            webhooks_seen: Arc::default(),
        })
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Changes whenever this process writes DNS data (keys, local zones).
    pub fn dns_generation(&self) -> u64 {
        self.dns_changes.load(Ordering::Acquire)
    }

    fn dns_changed(&self) {
        self.dns_changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.queue_writer.close().await;
        self.pool.close().await;
    }
}
