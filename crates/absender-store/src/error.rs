//! Store errors: the few outcomes callers act on, and everything else as `Database`.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the row (a duplicate).
    #[error("a row with the same unique key exists")]
    Conflict,
    /// The database URL names no supported backend.
    #[error("the database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    /// A stored value does not parse (a bug or a manual edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(sqlx::Error),
    /// The database was migrated by a newer absender than this one.
    #[error(
        "the database's schema has migration {applied}, newer than this absender knows (up to {known}): \
         run the newer absender (every node of a cluster upgrades to it), or restore a backup made before the upgrade"
    )]
    NewerSchema { applied: i64, known: i64 },
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether trying again later may succeed: the database was away, busy
    /// or chose this transaction to fail (not a value it refuses).
    pub fn is_transient(&self) -> bool {
        let StoreError::Database(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::Database(db) => {
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
                    let code = db.code().and_then(|c| c.parse::<i32>().ok());
                    return code.is_some_and(|c| matches!(c & 0xff, 5 | 6));
                }
                // PostgreSQL: connection exceptions, transaction rollbacks
                // (serialization, deadlock), insufficient resources, operator
                // intervention (a server shutting down).
                // A statement timeout (57014) would only time out again.
                db.code().is_some_and(|c| {
                    c != "57014"
                        && ["08", "40", "53", "57"]
                            .iter()
                            .any(|class| c.starts_with(class))
                })
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(err),
        }
    }
}
