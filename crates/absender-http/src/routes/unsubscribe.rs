//! `/unsubscribe/{token}`: the link in invitation mails. GET shows a button
//! (link scanners prefetch URLs); POST unsubscribes: the button, and mail
//! clients' one-click POST of RFC 8058 (`List-Unsubscribe=One-Click`).

use crate::ApiError;
use absender_service::App;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Router<App> {
    Router::new().route("/unsubscribe/{token}", get(show).post(unsubscribe))
}

#[derive(Template)]
#[template(path = "verify.html")]
struct Page {
    lang: &'static str,
    title: String,
    message: String,
    form_action: Option<String>,
    button: &'static str,
    note: Option<&'static str>,
}

async fn show(State(app): State<App>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let target = app.suppressions().unsubscribe_target(&token).await?;
    Ok(render(Page {
        lang: "en",
        title: "Unsubscribe".into(),
        message: format!(
            "Stop invitations from {} to {}?",
            target.org_name, target.address
        ),
        form_action: Some(format!("/unsubscribe/{token}")),
        button: "Unsubscribe",
        note: None,
    }))
}

async fn unsubscribe(
    State(app): State<App>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let target = app.suppressions().unsubscribe(&token).await?;
    Ok(render(Page {
        lang: "en",
        title: "Unsubscribed".into(),
        message: format!(
            "{} gets no more invitations from {}.",
            target.address, target.org_name
        ),
        form_action: None,
        button: "",
        note: Some("If this was a mistake, ask the organizer to add you again."),
    }))
}

fn render(page: Page) -> Response {
    let html = page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "unsubscribe page did not render");
        String::from("error")
    });
    crate::page::token_page(StatusCode::OK, html)
}
