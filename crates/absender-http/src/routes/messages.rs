//! `/api/v1/messages`: sending mail on behalf of an organization.

use crate::ApiError;
use crate::extract::{Auth, Json, Query};
use absender_service::App;
use absender_service::api::{Accepted, EventList, EventQuery, Message, SendMessage};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

/// A 10 MB message with attachments, base64-encoded in JSON, plus headroom.
use crate::MAX_MESSAGE_BODY_BYTES;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/api/v1/messages",
            post(send).layer(DefaultBodyLimit::max(MAX_MESSAGE_BODY_BYTES)),
        )
        .route("/api/v1/messages/{id}", get(show))
        .route("/api/v1/messages/{id}/events", get(message_events))
        .route("/api/v1/events", get(events))
}

async fn send(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<SendMessage>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    match app.sending().send_message(&caller, body).await {
        Ok(accepted) => Ok((StatusCode::ACCEPTED, Json(accepted))),
        Err(e) => {
            let e = ApiError::from(e);
            app.metrics().refused(e.code());
            Err(e)
        }
    }
}

async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(app.sending().get_message(&caller, &id).await?))
}

async fn message_events(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<EventList>, ApiError> {
    Ok(Json(app.sending().message_events(&caller, &id).await?))
}

async fn events(
    State(app): State<App>,
    Auth(caller): Auth,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventList>, ApiError> {
    Ok(Json(app.sending().events(&caller, &query).await?))
}
