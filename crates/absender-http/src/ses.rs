//! The SES v2 API (`/v2/email/…`, rest-json as botocore's `sesv2` model has
//! it): every request signed with SigV4 by an organization's access key,
//! every answer with `x-amzn-RequestId`, errors as SES gives them
//! (`x-amzn-ErrorType` and a JSON `message`), so SDKs print AWS's names.

use crate::{MAX_BODY_BYTES, MAX_MESSAGE_BODY_BYTES};
use absender_service::access::access_keys::SignedRequest;
use absender_service::secrets::random_string;
use absender_service::ses::suppressions::SuppressedQuery;
use absender_service::{App, Caller, ServiceError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<App> {
    Router::new()
        .route("/v2/email/account", get(get_account))
        // Older models name ListEmailIdentities by GET, newer ones by POST.
        .route(
            "/v2/email/identities",
            get(list_identities_by_query).post(create_identity),
        )
        .route(
            "/v2/email/identities/{identity}",
            get(get_identity).delete(delete_identity),
        )
        .route("/v2/email/outbound-emails", post(send_email))
        .route("/v2/email/outbound-bulk-emails", post(send_bulk))
        .route(
            "/v2/email/templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/v2/email/templates/{name}",
            get(get_template)
                .put(update_template)
                .delete(delete_template),
        )
        .route("/v2/email/templates/{name}/render", post(render_template))
        .route(
            "/v2/email/suppression/addresses",
            get(list_suppressed).put(put_suppressed),
        )
        .route(
            "/v2/email/suppression/addresses/{address}",
            get(get_suppressed).delete(delete_suppressed),
        )
        .route("/v2/email/identities/{identity}/dkim", put(put_dkim))
        .route(
            "/v2/email/identities/{identity}/dkim/signing",
            put(put_dkim_signing),
        )
        .route(
            "/v2/email/identities/{identity}/mail-from",
            put(put_mail_from),
        )
        .route("/v2/email/list-identities", post(list_identities_by_body))
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

impl SesError {
    /// A refused send, as SES names it: whatever the sender rule, the
    /// upgrade or the suppression list refuses is `MessageRejected`.
    fn from_send(e: ServiceError) -> Self {
        use ServiceError::*;
        let message = e.to_string();
        match e {
            Denied {
                code: "mail_from_not_verified",
                ..
            } => Self::new(
                StatusCode::BAD_REQUEST,
                "MailFromDomainNotVerifiedException",
                message,
            ),
            Denied {
                code: "sending_paused",
                ..
            } => Self::new(StatusCode::BAD_REQUEST, "SendingPausedException", message),
            // A sandbox recipient too, as SES has it.
            Denied { .. } | Refused { .. } | UpgradeRequired { .. } => {
                Self::new(StatusCode::BAD_REQUEST, "MessageRejected", message)
            }
            QuotaExceeded { daily: true, .. } => {
                Self::new(StatusCode::BAD_REQUEST, "LimitExceededException", message)
            }
            other => other.into(),
        }
    }
}

impl From<ServiceError> for SesError {
    fn from(e: ServiceError) -> Self {
        use ServiceError::*;
        let message = e.to_string();
        match e {
            NotFound(_) => Self::new(StatusCode::NOT_FOUND, "NotFoundException", message),
            Conflict { code, .. } if code.ends_with("_exists") => {
                Self::new(StatusCode::BAD_REQUEST, "AlreadyExistsException", message)
            }
            // A state that does not allow it now (a rotation under way, …).
            Conflict { .. } => Self::new(StatusCode::BAD_REQUEST, "BadRequestException", message),
            Unauthorized | Forbidden(_) => {
                Self::new(StatusCode::FORBIDDEN, "AccessDeniedException", message)
            }
            RateLimited { .. } | QuotaExceeded { .. } => Self::new(
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

/// A request whose SigV4 signature holds: who signed it, its query and its body.
pub struct Signed {
    pub caller: Caller,
    pub query: String,
    pub body: Bytes,
}

impl Signed {
    /// The JSON body as `T` (an empty body as `{}`).
    fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, SesError> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            SesError::new(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                e.to_string(),
            )
        })
    }

    /// The query as `T`.
    fn query<T: serde::de::DeserializeOwned>(&self) -> Result<T, SesError> {
        serde_urlencoded::from_str(&self.query).map_err(|e| {
            SesError::new(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                e.to_string(),
            )
        })
    }
}

impl FromRequest<App> for Signed {
    type Rejection = SesError;

    async fn from_request(request: Request, app: &App) -> Result<Self, SesError> {
        let (parts, body) = request.into_parts();
        // Sends carry whole messages; a body that large is read only for a
        // request that names a known access key (the rest get 1 MiB).
        let sends = parts.uri.path().starts_with("/v2/email/outbound-");
        let known = match parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            Some(authorization) if sends => {
                app.access().names_known_access_key(authorization).await?
            }
            _ => false,
        };
        let limit = if known {
            MAX_MESSAGE_BODY_BYTES
        } else {
            MAX_BODY_BYTES
        };
        let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
            SesError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BadRequestException",
                format!("the body is larger than {limit} bytes"),
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
            Ok(Ok(caller)) => Ok(Signed {
                caller,
                query: parts.uri.query().unwrap_or("").to_string(),
                body,
            }),
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

/// `ListEmailIdentities`' paging, in the query (GET) or the body (POST).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Paging {
    page_size: Option<usize>,
    next_token: Option<String>,
}

async fn list_identities(app: &App, signed: &Signed, paging: Paging) -> Result<Response, SesError> {
    let page = app
        .ses()
        .list_email_identities(
            &signed.caller,
            paging.page_size,
            paging.next_token.as_deref(),
        )
        .await?;
    Ok(axum::Json(page).into_response())
}

/// `ListEmailIdentities` as `GET /v2/email/identities?PageSize=&NextToken=`.
async fn list_identities_by_query(
    State(app): State<App>,
    signed: Signed,
) -> Result<Response, SesError> {
    let paging = signed.query()?;
    list_identities(&app, &signed, paging).await
}

/// `ListEmailIdentities` as `POST /v2/email/list-identities` with a JSON body.
async fn list_identities_by_body(
    State(app): State<App>,
    signed: Signed,
) -> Result<Response, SesError> {
    let paging = signed.json()?;
    list_identities(&app, &signed, paging).await
}

/// An empty JSON object, SES's answer where the model has no fields.
fn empty() -> Response {
    axum::Json(json!({})).into_response()
}

/// `CreateEmailIdentity`.
async fn create_identity(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    let created = app
        .ses()
        .create_email_identity(&signed.caller, signed.json()?)
        .await?;
    Ok(axum::Json(created).into_response())
}

/// `GetEmailIdentity`.
async fn get_identity(
    State(app): State<App>,
    Path(identity): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    let found = app
        .ses()
        .get_email_identity(&signed.caller, &identity)
        .await?;
    Ok(axum::Json(found).into_response())
}

/// `DeleteEmailIdentity`.
async fn delete_identity(
    State(app): State<App>,
    Path(identity): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    app.ses()
        .delete_email_identity(&signed.caller, &identity)
        .await?;
    Ok(empty())
}

/// `PutEmailIdentityDkimAttributes`.
async fn put_dkim(
    State(app): State<App>,
    Path(identity): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    app.ses()
        .put_dkim_attributes(&signed.caller, &identity, signed.json()?)
        .await?;
    Ok(empty())
}

/// `PutEmailIdentityMailFromAttributes`.
async fn put_mail_from(
    State(app): State<App>,
    Path(identity): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    app.ses()
        .put_mail_from_attributes(&signed.caller, &identity, signed.json()?)
        .await?;
    Ok(empty())
}

/// `SendEmail`.
async fn send_email(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    let sent = app
        .ses()
        .send_email(&signed.caller, signed.json()?)
        .await
        .map_err(SesError::from_send)?;
    Ok(axum::Json(sent).into_response())
}

/// `PutSuppressedDestination`.
async fn put_suppressed(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    app.ses()
        .put_suppressed(&signed.caller, signed.json()?)
        .await?;
    Ok(empty())
}

/// `GetSuppressedDestination`.
async fn get_suppressed(
    State(app): State<App>,
    Path(address): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    let found = app.ses().get_suppressed(&signed.caller, &address).await?;
    Ok(axum::Json(json!({ "SuppressedDestination": found })).into_response())
}

/// `DeleteSuppressedDestination`.
async fn delete_suppressed(
    State(app): State<App>,
    Path(address): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    app.ses()
        .delete_suppressed(&signed.caller, &address)
        .await?;
    Ok(empty())
}

/// `ListSuppressedDestinations`; `Reason` may repeat in the query.
async fn list_suppressed(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    let pairs: Vec<(String, String)> = signed.query()?;
    let mut query = SuppressedQuery::default();
    for (name, value) in pairs {
        match name.as_str() {
            "Reason" => query.reasons.push(value),
            "StartDate" => query.start_date = Some(value),
            "EndDate" => query.end_date = Some(value),
            "NextToken" => query.next_token = Some(value),
            "PageSize" => query.page_size = Some(value),
            _ => {}
        }
    }
    let page = app.ses().list_suppressed(&signed.caller, query).await?;
    Ok(axum::Json(page).into_response())
}

/// `SendBulkEmail`.
async fn send_bulk(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    let sent = app
        .ses()
        .send_bulk(&signed.caller, signed.json()?)
        .await
        .map_err(SesError::from_send)?;
    Ok(axum::Json(sent).into_response())
}

/// `CreateEmailTemplate`.
async fn create_template(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    app.ses()
        .create_template(&signed.caller, signed.json()?)
        .await?;
    Ok(empty())
}

/// `ListEmailTemplates`.
async fn list_templates(State(app): State<App>, signed: Signed) -> Result<Response, SesError> {
    let paging: Paging = signed.query()?;
    let page = app
        .ses()
        .list_templates(
            &signed.caller,
            paging.page_size,
            paging.next_token.as_deref(),
        )
        .await?;
    Ok(axum::Json(page).into_response())
}

/// `GetEmailTemplate`.
async fn get_template(
    State(app): State<App>,
    Path(name): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    let template = app.ses().get_template(&signed.caller, &name).await?;
    Ok(axum::Json(template).into_response())
}

/// `UpdateEmailTemplate`.
async fn update_template(
    State(app): State<App>,
    Path(name): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    app.ses()
        .update_template(&signed.caller, &name, signed.json()?)
        .await?;
    Ok(empty())
}

/// `DeleteEmailTemplate`.
async fn delete_template(
    State(app): State<App>,
    Path(name): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    app.ses().delete_template(&signed.caller, &name).await?;
    Ok(empty())
}

/// `TestRenderEmailTemplate`.
async fn render_template(
    State(app): State<App>,
    Path(name): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    let rendered = app
        .ses()
        .test_render(&signed.caller, &name, signed.json()?)
        .await?;
    Ok(axum::Json(json!({ "RenderedTemplate": rendered })).into_response())
}

/// `PutEmailIdentityDkimSigningAttributes`.
async fn put_dkim_signing(
    State(app): State<App>,
    Path(identity): Path<String>,
    signed: Signed,
) -> Result<Response, SesError> {
    let answer = app
        .ses()
        .put_dkim_signing(&signed.caller, &identity, signed.json()?)
        .await?;
    Ok(axum::Json(answer).into_response())
}
