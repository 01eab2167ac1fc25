//! absender's web UI under `/ui`: organizations set up their sender
//! addresses step by step (the seed's steps), the operator sees every
//! organization, identity, event, the outbox, the queue and the local DNS.
//!
//! Pages are rendered on the server (askama) and work without JavaScript;
//! `app.js` only adds copy buttons and the live status. Every form post is
//! checked for its CSRF token before its handler runs ([`session::CsrfForm`]).

mod i18n;
mod pages;
mod respond;
mod session;

use absender_service::App;
use axum::Router;
use axum::extract::State;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderValue, SET_COOKIE};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use session::{Visitor, see_other};

/// The UI's routes, to be merged with the API's.
pub fn routes(app: App) -> Router<App> {
    let ui = Router::new()
        .merge(pages::sign_in::router())
        .merge(pages::identities::router())
        .merge(pages::sending::router())
        .merge(pages::outbox::router())
        .merge(pages::account::router())
        .merge(pages::access_keys::router())
        .merge(pages::templates::router())
        .merge(pages::webhooks::router())
        .merge(pages::dashboard::router())
        .merge(pages::admin::router())
        .route("/lang/{lang}", get(switch_language))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .fallback(not_found)
        .layer(from_fn_with_state(app, session::ensure_visitor))
        .layer(map_response(security_headers));
    Router::new().nest("/ui", ui)
}

/// Headers on every page: no framing, no inline script, nothing cached.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn not_found(visitor: Visitor) -> Response {
    let message = visitor.ctx.t.not_found.to_string();
    respond::error_page(visitor.ctx, StatusCode::NOT_FOUND, "not_found", message)
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// The language switcher: remembers the choice and goes back to the page.
async fn switch_language(
    State(app): State<App>,
    Path(lang): Path<String>,
    Query(next): Query<Next>,
) -> Response {
    let Some(locale) = absender_core::Locale::parse(&lang) else {
        return (StatusCode::NOT_FOUND, "unknown language").into_response();
    };
    // Only back into the UI: never an open redirect.
    let next = next
        .next
        .filter(|n| n.starts_with("/ui") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/ui".into());
    let mut response = see_other(&next);
    response.headers_mut().append(
        SET_COOKIE,
        session::set_cookie(&app, session::LANG_COOKIE, locale.as_str(), 365 * 24 * 3600),
    );
    response
}

async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    )
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
