//! absender's HTTP interface: the native JSON API under `/api/v1`, the
//! verification pages, the health check and the web UI under `/ui`.
//! Handlers are thin: they parse the request, call one `App` use case and
//! map its outcome to a response.

pub mod access_log;
mod error;
mod extract;
mod page;
mod routes;
mod serve;
mod ses;
mod ui;

pub use error::ApiError;
pub use serve::{HttpTimeouts, serve};

use absender_service::App;
use axum::Router;

/// The largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The largest body of a request that carries a whole message (attachments
/// in base64).
pub const MAX_MESSAGE_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Every route of the HTTP interface, ready to serve: the API, the pages for
/// people and the web UI under `/ui`.
pub fn router(app: App) -> Router {
    Router::new()
        .merge(ui::routes(app.clone()))
        .merge(routes::health::router())
        .merge(routes::orgs::router())
        .merge(routes::identities::router())
        .merge(routes::inbound::router())
        .merge(routes::messages::router())
        .merge(routes::nodes::router())
        .merge(routes::outbox::router())
        .merge(routes::send_settings::router())
        .merge(routes::smtp_credentials::router())
        .merge(routes::access_keys::router())
        .merge(ses::router())
        .merge(routes::suppressions::router())
        .merge(routes::templates::router())
        .merge(routes::webhooks::router())
        .merge(routes::unsubscribe::router())
        .merge(routes::verify::router())
        .merge(routes::zones::router())
        .fallback(|| async { ApiError::not_found_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(access_log::log))
        .with_state(app)
}
