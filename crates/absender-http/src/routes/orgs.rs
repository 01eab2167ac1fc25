//! `/api/v1/orgs`: organizations (operator key).

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::{CreateOrg, CreatedOrg, List, Org, UpdateOrg};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/orgs", get(list).post(create))
        .route("/api/v1/orgs/{id}", get(show).patch(update))
}

async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<CreateOrg>,
) -> Result<(StatusCode, Json<CreatedOrg>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.create_org(&caller, body).await?),
    ))
}

async fn list(State(app): State<App>, Auth(caller): Auth) -> Result<Json<List<Org>>, ApiError> {
    Ok(Json(List {
        items: app.list_orgs(&caller).await?,
    }))
}

async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Org>, ApiError> {
    Ok(Json(app.get_org(&caller, &id).await?))
}

async fn update(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(body): Json<UpdateOrg>,
) -> Result<Json<Org>, ApiError> {
    Ok(Json(app.update_org(&caller, &id, body).await?))
}
