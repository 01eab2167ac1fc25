//! The SES v2 API (`/v2/email/…`, rest-json as botocore's `sesv2` model has
//! it): every request signed with SigV4 by an organization's access key,
//! every answer with `x-amzn-RequestId`, errors as SES gives them
//! (`x-amzn-ErrorType` and a JSON `message`), so SDKs print AWS's names.

use crate::MAX_BODY_BYTES;
use absender_service::access::access_keys::SignedRequest;
use absender_service::secrets::random_string;
use absender_service::{App, Caller, ServiceError};
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;

pub fn router() -> Router<App> {
    Router::new()
        .route("/v2/email/account", get(get_account))
        .route("/v2/email", any(not_offered))
        .route("/v2/email/{*operation}", any(not_offered))
        .layer(axum::middleware::map_response(with_request_id))
}

/// Every other SES operation: checked like the rest, then refused plainly
/// (never a 500 or a hang).
async fn not_offered(_signed: Signed) -> SesError {
    SesError::new(
        StatusCode::BAD_REQUEST,
        "BadRequestException",
        "this operation is not supported by absender (yet); see the README's SES section",
    )
}

/// An error in SES's form.
#[derive(Debug)]
pub struct SesError {
    status: StatusCode,
    name: &'static str,
    message: String,
}

impl SesError {
    fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
        }
    }
}

impl From<ServiceError> for SesError {
    fn from(e: ServiceError) -> Self {
        use ServiceError::*;
        let message = e.to_string();
        match e {
            NotFound(_) => Self::new(StatusCode::NOT_FOUND, "NotFoundException", message),
            Conflict { .. } => {
                Self::new(StatusCode::BAD_REQUEST, "AlreadyExistsException", message)
            }
            Unauthorized | Forbidden(_) => {
                Self::new(StatusCode::FORBIDDEN, "AccessDeniedException", message)
            }
            RateLimited { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                message,
            ),
            Store(_) | Internal(_) | Unavailable { .. } => {
                // The words may name internals: the log has them.
                tracing::error!(error = %e, "SES request failed inside absender");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    "absender could not answer just now; try again",
                )
            }
            _ => Self::new(StatusCode::BAD_REQUEST, "BadRequestException", message),
        }
    }
}

impl IntoResponse for SesError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, axum::Json(json!({ "message": self.message }))).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.name));
        response
    }
}

/// Every answer carries a request id, as SES's do (SDKs log it).
async fn with_request_id(mut response: Response) -> Response {
    let hex = random_string(b"0123456789abcdef", 32);
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

/// A request whose SigV4 signature holds: who signed it. (The body was
/// read to check the signature; operations with a body take it from here
/// when they come.)
pub struct Signed {
    pub caller: Caller,
}

impl FromRequest<App> for Signed {
    type Rejection = SesError;

    async fn from_request(request: Request, app: &App) -> Result<Self, SesError> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                SesError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "BadRequestException",
                    format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                )
            })?;
        // A value that is not visible ASCII could not be signed as received.
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                SesError::new(
                    StatusCode::FORBIDDEN,
                    "IncompleteSignature",
                    "header values must be visible ASCII",
                )
            })?;
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body: &body,
        };
        match app.access().authenticate_sigv4(&signed).await {
            Ok(Ok(caller)) => Ok(Signed { caller }),
            Ok(Err(refused)) => Err(SesError::new(
                StatusCode::FORBIDDEN,
                refused.name(),
                refused.message(),
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// `GetAccount`.
async fn get_account(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    let account = app.ses().get_account(&signed.caller).await?;
    Ok(axum::Json(account).into_response())
}
