//! `POST /api/v1/inbound/dsn`: the operator's MTA hands in a bounce report
//! (the raw message, `message/rfc822`) that arrived at a return path, given
//! as `?return_path=` (else the report's To). Only an authentic return path
//! counts; anything else is answered with the reason it was ignored.
//! `POST /api/v1/inbound/arf` does the same for an abuse report (ARF) from a
//! feedback loop: it counts only when it names a delivery absender made.

use crate::ApiError;
use crate::extract::{Auth, Json, Query};
use absender_service::App;
use absender_service::sending::bounces::DsnOutcome;
use absender_service::sending::complaints::ComplaintOutcome;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use serde::Deserialize;

/// Reports carry at most the original message; absender's limit plus headroom.
const MAX_REPORT_BYTES: usize = 12 * 1024 * 1024;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/api/v1/inbound/dsn",
            post(receive).layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)),
        )
        .route(
            "/api/v1/inbound/arf",
            post(receive_arf).layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    return_path: Option<String>,
}

async fn receive(
    State(app): State<App>,
    Auth(caller): Auth,
    Query(query): Query<ReportQuery>,
    body: Bytes,
) -> Result<Json<DsnOutcome>, ApiError> {
    Ok(Json(
        app.suppressions()
            .receive_dsn_as(&caller, query.return_path.as_deref(), &body)
            .await?,
    ))
}

async fn receive_arf(
    State(app): State<App>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<Json<ComplaintOutcome>, ApiError> {
    Ok(Json(
        app.suppressions().receive_arf_as(&caller, &body).await?,
    ))
}
