//! The organization's webhook destinations: each with its latest attempts
//! (time, HTTP status, latency) and a button that sends a test event.

use super::when;
use crate::ui::respond::{UiError, page};
use crate::ui::session::{CsrfForm, Ctx, NoFields, OrgSession, see_other};
use absender_core::events::EVENT_TYPES;
use absender_service::App;
use absender_service::api::{CreateWebhook, Webhook};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/webhooks", get(webhooks).post(create))
        .route("/webhooks/{id}/test", post(test))
        .route("/webhooks/{id}/delete", post(delete))
}

#[derive(Template)]
#[template(path = "ui/webhooks.html")]
struct WebhooksPage {
    ctx: Ctx,
    items: Vec<Webhook>,
    /// The new destination's secret, shown on this answer only.
    secret: Option<String>,
    event_types: &'static [&'static str],
}

/// The form: a URL, a description, and the event types ticked (one field
/// `event_<type>` each: the form decoder takes no repeated names).
#[derive(Deserialize)]
struct NewDestination {
    url: String,
    #[serde(default)]
    description: String,
    #[serde(flatten)]
    ticked: std::collections::BTreeMap<String, String>,
}

async fn webhooks_page(
    app: &App,
    session: OrgSession,
    secret: Option<String>,
) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let listed = match app.webhooks().list(&caller).await {
        Ok(listed) => listed,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let mut items = Vec::with_capacity(listed.len());
    for w in listed {
        let mut full = match app.webhooks().get(&caller, &w.id).await {
            Ok(full) => full,
            Err(e) => return Err(UiError::service(e, ctx)),
        };
        for a in &mut full.recent_attempts {
            a.at = a.at.as_deref().map(when);
        }
        items.push(full);
    }
    Ok(page(
        StatusCode::OK,
        &WebhooksPage {
            ctx,
            items,
            secret,
            event_types: &EVENT_TYPES,
        },
    ))
}

async fn webhooks(State(app): State<App>, session: OrgSession) -> Result<Response, UiError> {
    webhooks_page(&app, session, None).await
}

async fn create(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(form): CsrfForm<NewDestination>,
) -> Result<Response, UiError> {
    let request = CreateWebhook {
        url: form.url,
        events: form
            .ticked
            .keys()
            .filter_map(|k| k.strip_prefix("event_"))
            .map(str::to_string)
            .collect(),
        format: None,
        description: Some(form.description),
    };
    match app.webhooks().create(&session.caller, request).await {
        Ok(created) => webhooks_page(&app, session, Some(created.secret)).await,
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn test(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app.webhooks().test(&session.caller, &id).await {
        Ok(_) => Ok(see_other("/ui/webhooks")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn delete(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app.webhooks().delete(&session.caller, &id).await {
        Ok(()) => Ok(see_other("/ui/webhooks")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}
