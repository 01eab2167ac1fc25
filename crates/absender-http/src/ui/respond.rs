//! Turning pages and errors into responses.

use crate::ui::i18n::Texts;
use crate::ui::session::Ctx;
use absender_service::ServiceError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// A rendered page with this status.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "ui/error.html")]
struct ErrorPage {
    ctx: Ctx,
    code: &'static str,
    message: String,
}

/// An error page: the status, a machine-readable code (in a `data-code`
/// attribute and the `X-Absender-Error` header) and words for people.
pub fn error_page(ctx: Ctx, status: StatusCode, code: &'static str, message: String) -> Response {
    let mut response = page(status, &ErrorPage { ctx, code, message });
    response.headers_mut().insert(
        "x-absender-error",
        axum::http::HeaderValue::from_static(code),
    );
    response
}

/// Whether the person at the form can fix this error by changing what they
/// typed: it is then shown at the form. Everything else (not found, not
/// allowed, a server fault) gets the error page of [`UiError::service`].
pub fn fixable(e: &ServiceError) -> bool {
    !matches!(
        e,
        ServiceError::Unauthorized
            | ServiceError::Forbidden(_)
            | ServiceError::NotFound(_)
            | ServiceError::Store(_)
            | ServiceError::Internal(_)
            | ServiceError::Unavailable { .. }
    )
}

/// The status and words of an error shown at its form.
pub fn at_form(e: ServiceError) -> (StatusCode, String) {
    let api = crate::ApiError::from(e);
    (api.status(), api.message().to_string())
}

/// What a UI handler can fail with.
pub enum UiError {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// An error page (boxed: the page context is large).
    Page(Box<ErrorDetails>),
}

pub struct ErrorDetails {
    ctx: Ctx,
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl UiError {
    /// An error page whose words are one of the UI's texts.
    pub fn text(
        ctx: Ctx,
        status: StatusCode,
        code: &'static str,
        words: fn(&Texts) -> &'static str,
    ) -> Self {
        let message = words(ctx.t).to_string();
        Self::page(ctx, status, code, message)
    }

    /// An error page with this status, code and words.
    pub fn page(ctx: Ctx, status: StatusCode, code: &'static str, message: String) -> Self {
        UiError::Page(Box::new(ErrorDetails {
            ctx,
            status,
            code,
            message,
        }))
    }

    /// The page for a failed use case, in the page's language where absender
    /// has the words, else in the service's English.
    pub fn service(e: ServiceError, ctx: Ctx) -> Self {
        if matches!(e, ServiceError::Unauthorized) {
            return UiError::SignIn;
        }
        let api = crate::ApiError::from(e);
        let message = match api.code() {
            "not_found" => ctx.t.not_found.to_string(),
            "forbidden" => ctx.t.operator_only.to_string(),
            "rate_limited" => ctx.t.err_rate.to_string(),
            _ => api.message().to_string(),
        };
        UiError::page(ctx, api.status(), api.code(), message)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn => Redirect::to("/ui/sign-in").into_response(),
            UiError::Page(e) => error_page(e.ctx, e.status, e.code, e.message),
        }
    }
}
