//! `/api/v1/outbox`: the capture outbox (operator: all; organization: its own).

use crate::ApiError;
use crate::extract::{Auth, Json, Query};
use absender_service::App;
use absender_service::api::{List, OutboxEntry, OutboxMessage};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/outbox", get(list))
        .route("/api/v1/outbox/{id}", get(show))
        .route("/api/v1/outbox/{id}/raw", get(raw))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
    Query(query): Query<ListQuery>,
) -> Result<Json<List<OutboxEntry>>, ApiError> {
    Ok(Json(List {
        items: app.sending().list_outbox(&caller, query.limit).await?,
    }))
}

async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<OutboxMessage>, ApiError> {
    Ok(Json(app.sending().outbox_message(&caller, &id).await?))
}

async fn raw(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let bytes = app.sending().outbox_raw(&caller, &id).await?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], bytes))
}
