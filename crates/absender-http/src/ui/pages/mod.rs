//! One module per area of the UI, each with its own routes.

pub mod access_keys;
pub mod account;
pub mod admin;
pub mod dashboard;
pub mod identities;
pub mod outbox;
pub mod sending;
pub mod sign_in;
pub mod templates;
pub mod webhooks;

use crate::ui::i18n::Texts;
use absender_core::Status;

/// A status as a badge: words for people, the SES name for machines, a colour.
pub struct Badge {
    pub status: &'static str,
    pub status_code: &'static str,
    pub status_class: &'static str,
}

pub fn badge(t: &Texts, status: Status) -> Badge {
    Badge {
        status: t.status(status),
        status_code: status.as_str(),
        status_class: match status {
            Status::Success => "ok",
            Status::Pending | Status::NotStarted => "neutral",
            Status::TemporaryFailure => "warn",
            Status::Failed => "bad",
        },
    }
}

/// A time as people read it (UTC, minutes).
pub fn when(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map(|s| format!("{} UTC", s.replace('T', " ")))
        .unwrap_or_else(|| rfc3339.to_string())
}

/// A page's status and the error to show at its form: 200 without one.
pub fn form_status(
    error: Option<(axum::http::StatusCode, String)>,
) -> (axum::http::StatusCode, Option<String>) {
    match error {
        Some((status, message)) => (status, Some(message)),
        None => (axum::http::StatusCode::OK, None),
    }
}
