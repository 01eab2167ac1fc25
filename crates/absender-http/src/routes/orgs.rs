//! `/api/v1/orgs`: organizations (operator key).

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::{CreateOrg, CreatedOrg, List, Org, RotateKey, RotatedKey, UpdateOrg};
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/orgs", get(list).post(create))
        .route("/api/v1/orgs/{id}", get(show).patch(update))
        .route("/api/v1/orgs/{id}/rotate-key", post(rotate_key))
}

async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<CreateOrg>,
) -> Result<(StatusCode, Json<CreatedOrg>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.access().create_org(&caller, body).await?),
    ))
}

async fn list(State(app): State<App>, Auth(caller): Auth) -> Result<Json<List<Org>>, ApiError> {
    Ok(Json(List {
        items: app.access().list_orgs(&caller).await?,
    }))
}

async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Org>, ApiError> {
    Ok(Json(app.access().get_org(&caller, &id).await?))
}

async fn update(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(body): Json<UpdateOrg>,
) -> Result<Json<Org>, ApiError> {
    Ok(Json(app.access().update_org(&caller, &id, body).await?))
}

/// The body is optional: without one (no JSON content type) the old key
/// stops at once, the safe side.
async fn rotate_key(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Result<axum::Json<RotateKey>, JsonRejection>,
) -> Result<Json<RotatedKey>, ApiError> {
    let request = match body {
        Ok(axum::Json(request)) => request,
        Err(JsonRejection::MissingJsonContentType(_)) => RotateKey::default(),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(
        app.access().rotate_org_key(&caller, &id, request).await?,
    ))
}
