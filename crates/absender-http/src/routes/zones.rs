//! `/api/v1/dns/zones`: local DNS zones and their records (operator key).

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::{CreateZone, CreateZoneRecord, DnsRecords, List, Zone, ZoneRecord};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/dns/zones", get(list).post(create))
        .route("/api/v1/dns/zones/{zone}", delete(remove))
        .route(
            "/api/v1/dns/zones/{zone}/records",
            get(records).post(add_record),
        )
        .route(
            "/api/v1/dns/zones/{zone}/records/{id}",
            delete(remove_record),
        )
        .route("/api/v1/platform/dns-records", get(platform_records))
}

/// What the operator publishes at the platform domain (its DKIM CNAME, SPF).
async fn platform_records(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<Json<DnsRecords>, ApiError> {
    Ok(Json(app.zones().platform_dns_records(&caller).await?))
}

async fn create(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<CreateZone>,
) -> Result<(StatusCode, Json<Zone>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.zones().create_zone(&caller, body).await?),
    ))
}

async fn list(State(app): State<App>, Auth(caller): Auth) -> Result<Json<List<Zone>>, ApiError> {
    Ok(Json(List {
        items: app.zones().list_zones(&caller).await?,
    }))
}

async fn remove(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(zone): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.zones().delete_zone(&caller, &zone).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn records(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(zone): Path<String>,
) -> Result<Json<List<ZoneRecord>>, ApiError> {
    Ok(Json(List {
        items: app.zones().list_zone_records(&caller, &zone).await?,
    }))
}

async fn add_record(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(zone): Path<String>,
    Json(body): Json<CreateZoneRecord>,
) -> Result<(StatusCode, Json<ZoneRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.zones().add_zone_record(&caller, &zone, body).await?),
    ))
}

async fn remove_record(
    State(app): State<App>,
    Auth(caller): Auth,
    Path((zone, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.zones().remove_zone_record(&caller, &zone, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
