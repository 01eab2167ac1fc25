//! `/api/v1/identities`: an organization's sender identities and their records.

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::api::{
    DkimKeyInfo, DkimRotation, DnsRecords, Event, Identity, List, OwnDkimKey, RequestIdentity,
};
use absender_service::{App, records_csv};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/identities", get(list).post(request))
        .route("/api/v1/identities/{id}", get(show).delete(remove))
        .route("/api/v1/identities/{id}/dns-records", get(records))
        .route(
            "/api/v1/identities/{id}/dns-records.csv",
            get(records_as_csv),
        )
        .route("/api/v1/identities/{id}/resend-verification", post(resend))
        .route("/api/v1/identities/{id}/check", post(check))
        .route("/api/v1/identities/{id}/restart", post(restart))
        .route("/api/v1/identities/{id}/events", get(events))
        .route("/api/v1/identities/{id}/rotate-dkim", post(rotate_dkim))
        .route(
            "/api/v1/identities/{id}/dkim-key",
            get(dkim_key).put(own_dkim_key).delete(easy_dkim),
        )
}

/// How the identity's domain is signed: Easy DKIM or the organization's own key.
async fn dkim_key(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<DkimKeyInfo>, ApiError> {
    Ok(Json(app.identities().dkim_key(&caller, &id).await?))
}

/// Bring-your-own DKIM: the organization's key signs once its TXT record is verified.
async fn own_dkim_key(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(body): Json<OwnDkimKey>,
) -> Result<Json<DkimKeyInfo>, ApiError> {
    Ok(Json(
        app.identities()
            .use_own_dkim_key(&caller, &id, body)
            .await?,
    ))
}

/// Back to Easy DKIM (the three CNAMEs).
async fn easy_dkim(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<DkimKeyInfo>, ApiError> {
    Ok(Json(app.identities().use_easy_dkim(&caller, &id).await?))
}

/// Starts a key rotation: 202, the new key signs from `signs_from`.
async fn rotate_dkim(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DkimRotation>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app.identities().rotate_dkim(&caller, &id).await?),
    ))
}

async fn request(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<RequestIdentity>,
) -> Result<(StatusCode, Json<Identity>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.identities().request_identity(&caller, body).await?),
    ))
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<Json<List<Identity>>, ApiError> {
    Ok(Json(List {
        items: app.identities().list_identities(&caller).await?,
    }))
}

async fn show(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Identity>, ApiError> {
    Ok(Json(app.identities().get_identity(&caller, &id).await?))
}

async fn remove(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.identities().delete_identity(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn records(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<DnsRecords>, ApiError> {
    Ok(Json(app.identities().dns_records(&caller, &id).await?))
}

async fn records_as_csv(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let identity = app.identities().get_identity(&caller, &id).await?;
    let csv = records_csv(&app.identities().dns_records(&caller, &id).await?);
    let disposition = format!(
        "attachment; filename=\"dns-records-{}.csv\"",
        identity.domain
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    ))
}

async fn resend(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Identity>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app.identities().resend_verification(&caller, &id).await?),
    ))
}

async fn check(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Identity>, ApiError> {
    Ok(Json(app.checks().check_identity_now(&caller, &id).await?))
}

async fn restart(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Identity>, ApiError> {
    Ok(Json(app.checks().restart_identity(&caller, &id).await?))
}

async fn events(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<List<Event>>, ApiError> {
    Ok(Json(List {
        items: app.checks().identity_events(&caller, &id).await?,
    }))
}
