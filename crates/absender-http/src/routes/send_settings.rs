//! `/api/v1/send-settings`: the sender an organization chose per category.

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::SendSettings;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

pub fn router() -> Router<App> {
    Router::new().route("/api/v1/send-settings", get(show).put(replace))
}

async fn show(State(app): State<App>, Auth(caller): Auth) -> Result<Json<SendSettings>, ApiError> {
    Ok(Json(app.sending().send_settings(&caller).await?))
}

async fn replace(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<SendSettings>,
) -> Result<Json<SendSettings>, ApiError> {
    Ok(Json(app.sending().put_send_settings(&caller, body).await?))
}
