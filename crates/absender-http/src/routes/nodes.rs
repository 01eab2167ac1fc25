//! `GET /api/v1/nodes`: the cluster's nodes (operator only).

use crate::ApiError;
use crate::extract::{Auth, Json};
use absender_service::App;
use absender_service::api::List;
use absender_service::cluster::NodeView;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

pub fn router() -> Router<App> {
    Router::new().route("/api/v1/nodes", get(list))
}

async fn list(
    State(app): State<App>,
    Auth(caller): Auth,
) -> Result<Json<List<NodeView>>, ApiError> {
    Ok(Json(List {
        items: app.cluster().list(&caller).await?,
    }))
}
