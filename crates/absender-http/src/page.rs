//! Pages for people (verification, unsubscribe): HTML with headers that keep
//! the token in the URL to this site and the page out of caches and frames.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// `html` with `status` and the headers every token page carries.
pub fn token_page(status: StatusCode, html: String) -> Response {
    let headers = [
        (header::CACHE_CONTROL, "no-store"),
        // The token is in the URL: never hand it on to other sites.
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    (status, headers, Html(html)).into_response()
}
