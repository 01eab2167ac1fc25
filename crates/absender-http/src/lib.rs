//! absender's HTTP interface: the native JSON API under `/api/v1`, the
//! verification pages and the health check. Handlers are thin: they parse the
//! request, call one `App` use case and map its outcome to a response.

mod error;
mod extract;
mod page;
mod routes;

pub use error::ApiError;

use absender_service::App;
use axum::Router;

/// The largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every route of the HTTP interface, ready to serve.
pub fn router(app: App) -> Router {
    router_with(app, Router::new())
}

/// The API's routes together with `extra` ones (the web UI), sharing the
/// API's fallbacks and body limit.
pub fn router_with(app: App, extra: Router<App>) -> Router {
    Router::new()
        .merge(extra)
        .merge(routes::health::router())
        .merge(routes::orgs::router())
        .merge(routes::identities::router())
        .merge(routes::inbound::router())
        .merge(routes::messages::router())
        .merge(routes::outbox::router())
        .merge(routes::send_settings::router())
        .merge(routes::smtp_credentials::router())
        .merge(routes::suppressions::router())
        .merge(routes::unsubscribe::router())
        .merge(routes::verify::router())
        .merge(routes::zones::router())
        .fallback(|| async { ApiError::not_found_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}
