//! `/api/v1/access-keys`: SES-style access keys for SigV4 and SES SMTP passwords.

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::{AccessKey, List};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/access-keys", get(list).post(create))
        .route("/api/v1/access-keys/{id}", delete(revoke))
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<Json<List<AccessKey>>, ApiError> {
    Ok(Json(List {
        items: app.access().list_access_keys(&caller).await?,
    }))
}

/// No body: a key has nothing to choose.
async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<(StatusCode, Json<AccessKey>), ApiError> {
    let created = app.access().create_access_key(&caller).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn revoke(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.access().delete_access_key(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
