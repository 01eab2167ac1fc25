//! `/api/v1/smtp-credentials`: logins for SMTP submission.

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::{CreateSmtpCredential, List, SmtpCredential};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/smtp-credentials", get(list).post(create))
        .route("/api/v1/smtp-credentials/{id}", delete(revoke))
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<Json<List<SmtpCredential>>, ApiError> {
    Ok(Json(List {
        items: app.access().list_smtp_credentials(&caller).await?,
    }))
}

/// The body is optional: `{}` or nothing gives a credential without a description.
async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<SmtpCredential>), ApiError> {
    let request: CreateSmtpCredential = if body.iter().all(u8::is_ascii_whitespace) {
        CreateSmtpCredential::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not a valid credential request: {e}"),
            )
        })?
    };
    Ok((
        StatusCode::CREATED,
        Json(
            app.access()
                .create_smtp_credential(&caller, request)
                .await?,
        ),
    ))
}

async fn revoke(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.access().delete_smtp_credential(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
