//! `GET /healthz`: the process runs and its database answers.

use crate::ApiError;
use absender_service::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    app.store().ping().await.map_err(|e| {
        tracing::error!(error = %e, "health check: database unreachable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database does not answer",
        )
    })?;
    Ok(Json(json!({"status": "ok"})))
}
