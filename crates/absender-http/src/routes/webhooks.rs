//! `/api/v1/webhooks`: where an organization's events go (the operator's
//! destinations get every organization's).

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::{
    CreateWebhook, CreatedWebhook, List, RotatedWebhookSecret, UpdateWebhook, Webhook, WebhookTest,
};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(create))
        .route(
            "/api/v1/webhooks/{id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/v1/webhooks/{id}/test", post(test))
        .route("/api/v1/webhooks/{id}/rotate-secret", post(rotate_secret))
        // SNS's HTTP protocol: the signing certificate, and the links in its messages.
        .route("/sns/signing-cert.pem", get(sns_certificate))
        .route("/sns/confirm/{id}/{token}", get(sns_confirm))
        .route("/sns/unsubscribe/{id}/{token}", get(sns_unsubscribe))
}

async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.webhooks().create(&caller, body).await?),
    ))
}

async fn list(State(app): State<App>, Auth(caller): Auth) -> Result<Json<List<Webhook>>, ApiError> {
    Ok(Json(List {
        items: app.webhooks().list(&caller).await?,
    }))
}

/// One destination with its latest attempts (time, HTTP status, latency).
async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, ApiError> {
    Ok(Json(app.webhooks().get(&caller, &id).await?))
}

async fn update(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(body): Json<UpdateWebhook>,
) -> Result<Json<Webhook>, ApiError> {
    Ok(Json(app.webhooks().update(&caller, &id, body).await?))
}

async fn remove(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.webhooks().delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a test event for the destination: 202 with its id.
async fn test(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WebhookTest>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app.webhooks().test(&caller, &id).await?),
    ))
}

async fn rotate_secret(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<RotatedWebhookSecret>, ApiError> {
    Ok(Json(app.webhooks().rotate_secret(&caller, &id).await?))
}

async fn sns_certificate(State(app): State<App>) -> Result<impl IntoResponse, ApiError> {
    let signer = app.webhooks().sns_signer().await?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        signer.certificate_pem.clone(),
    ))
}

/// SNS answers a confirmation with XML; receivers read only the status.
async fn sns_confirm(
    State(app): State<App>,
    Path((id, token)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    app.webhooks().confirm_sns(&id, &token).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/xml")],
        format!(
            "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:absender:000000000000:{id}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
        ),
    ))
}

async fn sns_unsubscribe(
    State(app): State<App>,
    Path((id, token)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    app.webhooks().unsubscribe_sns(&id, &token).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/xml")],
        "<UnsubscribeResponse><ResponseMetadata/></UnsubscribeResponse>".to_string(),
    ))
}
