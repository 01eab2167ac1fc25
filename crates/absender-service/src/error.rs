//! What a use case can answer besides success. Interfaces map each variant to
//! an HTTP status and a stable code.

use absender_core::AddressError;
use absender_store::StoreError;
use std::time::Duration;

/// A refused or failed request.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The key is missing or unknown.
    #[error("a valid API key is required")]
    Unauthorized,
    /// The key is valid but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The organization has not bought the custom-sender upgrade.
    #[error(
        "custom sender addresses are a paid upgrade that is not enabled for this organization; ask {contact} to enable it"
    )]
    UpgradeRequired {
        /// Whom to ask.
        contact: String,
    },
    /// Nothing of that kind with that id is visible to the caller.
    #[error("no {0} with this id")]
    NotFound(&'static str),
    /// An address or domain does not parse.
    #[error("{field}: {source}")]
    InvalidAddress {
        /// The field that held it.
        field: &'static str,
        /// Why.
        source: AddressError,
    },
    /// Another field is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The thing exists already or is in a state that forbids this.
    #[error("{message}")]
    Conflict {
        /// Stable code for the case.
        code: &'static str,
        /// Words for people.
        message: String,
    },
    /// A well-formed request that absender will not carry out.
    #[error("{message}")]
    Refused {
        /// Stable code for the case.
        code: &'static str,
        /// Words for people.
        message: String,
    },
    /// A request absender understood but will not carry out for this caller.
    #[error("{message}")]
    Denied {
        /// Stable code for the case.
        code: &'static str,
        /// Words for people.
        message: String,
    },
    /// A malformed request (e.g. header injection, invalid addresses).
    #[error("{message}")]
    BadRequest {
        /// Stable code for the case.
        code: &'static str,
        /// Words for people.
        message: String,
    },
    /// The request is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// Too many requests of this kind; try again later.
    #[error("{what}; try again in {} seconds", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
        /// Which limit, in words.
        what: String,
    },
    /// Over the organization's send rate or 24-hour quota; try again later.
    #[error("{what}; try again in {} seconds", retry_after.as_secs().max(1))]
    QuotaExceeded {
        /// How long to wait.
        retry_after: Duration,
        /// Which quota, in words.
        what: String,
        /// The 24-hour quota (else the send rate).
        daily: bool,
    },
    /// absender cannot do this now (it is stopping); try again shortly.
    #[error("{message}")]
    Unavailable {
        /// Stable code for the case.
        code: &'static str,
        /// Words for people.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// Maps a store error: a unique constraint (the thing exists already)
    /// becomes 409 `code` with `message`, anything else what it is.
    pub(crate) fn exists(
        code: &'static str,
        message: impl FnOnce() -> String,
    ) -> impl FnOnce(StoreError) -> ServiceError {
        move |e| match e {
            StoreError::Conflict => ServiceError::Conflict {
                code,
                message: message(),
            },
            other => other.into(),
        }
    }

    /// A stored value that does not parse: a bug or a manual edit.
    pub(crate) fn corrupt(what: &str) -> Self {
        ServiceError::Store(absender_store::StoreError::Corrupt(what.to_string()))
    }
}
