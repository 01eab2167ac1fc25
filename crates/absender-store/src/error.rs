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
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(err),
        }
    }
}
