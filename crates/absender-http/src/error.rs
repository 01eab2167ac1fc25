//! The one error type of the API: `{"error":{"code","message"}}` with the
//! right status. 5xx answers carry a generic message; the cause goes to the log.

use absender_service::ServiceError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An answer with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub(crate) fn not_found_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "there is no such endpoint",
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not support this method",
        )
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The words for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        use ServiceError as E;
        let message = err.to_string();
        match err {
            E::Unauthorized => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message),
            E::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::UpgradeRequired { .. } => {
                Self::new(StatusCode::FORBIDDEN, "upgrade_required", message)
            }
            E::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not_found", message),
            E::InvalidAddress { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_address", message)
            }
            E::Invalid { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
            }
            E::Conflict { code, .. } => Self::new(StatusCode::CONFLICT, code, message),
            E::Refused { code, .. } => Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message),
            E::Denied { code, .. } => Self::new(StatusCode::FORBIDDEN, code, message),
            E::BadRequest { code, .. } => Self::new(StatusCode::BAD_REQUEST, code, message),
            E::TooLarge(_) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "message_too_large", message)
            }
            E::RateLimited { retry_after, .. } => Self {
                retry_after_secs: Some(retry_after.as_secs().max(1)),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            },
            E::QuotaExceeded { retry_after, .. } => Self {
                retry_after_secs: Some(retry_after.as_secs().max(1)),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "quota_exceeded", message)
            },
            E::Unavailable { code, .. } => Self {
                retry_after_secs: Some(5),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
            },
            E::Store(_) | E::Internal(_) => {
                tracing::error!(error = %message, "request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
