//! `/api/v1/suppressions`: addresses an organization's mail no longer goes
//! to; `/api/v1/reputation`: its bounce and complaint rates.

use crate::ApiError;
use crate::extract::{Auth, Json, Query};
use absender_service::App;
use absender_service::api::{AddSuppression, List, Reputation, Suppression};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/suppressions", get(list).post(add))
        .route("/api/v1/suppressions/{address}", delete(remove))
        .route("/api/v1/reputation", get(reputation))
}

/// The organization's rates and SES's enforcement status.
async fn reputation(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<Json<Reputation>, ApiError> {
    Ok(Json(app.sending().reputation(&caller).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
    /// The last address of the previous page.
    after: Option<String>,
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
    Query(query): Query<ListQuery>,
) -> Result<Json<List<Suppression>>, ApiError> {
    Ok(Json(List {
        items: app
            .suppressions()
            .list_suppressions(&caller, query.after.as_deref(), query.limit)
            .await?,
    }))
}

async fn add(
    State(app): State<App>,
    Auth(caller): Auth,
    Json(body): Json<AddSuppression>,
) -> Result<(StatusCode, Json<Suppression>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.suppressions().add_suppression(&caller, body).await?),
    ))
}

async fn remove(
    State(app): State<App>,
    Auth(caller): Auth,
    Path(address): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.suppressions()
        .remove_suppression(&caller, &address)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
