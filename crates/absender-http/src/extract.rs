//! Extractors that answer in the API's error shape: JSON bodies and the caller.

use crate::ApiError;
use absender_service::{App, Caller};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// A JSON body; bad JSON is 400, JSON of the wrong shape (unknown fields,
/// wrong types, missing fields) is 422.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.body_text(),
            ),
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            other if too_slow(&other).is_some() => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                too_slow(&other).map(|e| e.to_string()).unwrap_or_default(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
            ),
            other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.body_text()),
        }
    }
}

/// The body deadline, when that is why reading the body failed.
fn too_slow(rejection: &JsonRejection) -> Option<&crate::serve::BodyTooSlow> {
    let mut source: Option<&(dyn std::error::Error + 'static)> =
        std::error::Error::source(rejection);
    while let Some(error) = source {
        if let Some(slow) = error.downcast_ref::<crate::serve::BodyTooSlow>() {
            return Some(slow);
        }
        source = error.source();
    }
    None
}

/// Query parameters with errors in the API's shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            rejection.body_text(),
        )
    }
}

/// Header with which the operator acts for one organization.
pub const ACT_AS_ORG_HEADER: &str = "x-absender-org";

/// The authenticated caller (`Authorization: Bearer <key>`).
pub struct Auth(pub Caller);

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "send your API key as Authorization: Bearer <key>",
                )
            })?;
        let caller = app.authenticate(key).await?;
        match parts
            .headers
            .get(ACT_AS_ORG_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            Some(org_id) => Ok(Auth(app.access().act_as_org(&caller, org_id).await?)),
            None => Ok(Auth(caller)),
        }
    }
}
