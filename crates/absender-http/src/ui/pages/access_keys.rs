//! The organization's SES-style access keys, beside its SMTP logins.

use super::when;
use crate::ui::respond::{UiError, page};
use crate::ui::session::{CsrfForm, Ctx, NoFields, OrgSession, see_other};
use absender_service::App;
use absender_service::api::AccessKey;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

pub fn router() -> Router<App> {
    Router::new()
        .route("/access-keys", get(keys).post(create_key))
        .route("/access-keys/{id}/revoke", post(revoke_key))
}

#[derive(Template)]
#[template(path = "ui/access_keys.html")]
struct KeysPage {
    ctx: Ctx,
    items: Vec<AccessKey>,
    created: Option<AccessKey>,
}

async fn keys_page(
    app: &App,
    session: OrgSession,
    created: Option<AccessKey>,
) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let mut items = match app.access().list_access_keys(&caller).await {
        Ok(items) => items,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    for k in &mut items {
        k.created_at = when(&k.created_at);
    }
    Ok(page(
        StatusCode::OK,
        &KeysPage {
            ctx,
            items,
            created,
        },
    ))
}

async fn keys(State(app): State<App>, session: OrgSession) -> Result<Response, UiError> {
    keys_page(&app, session, None).await
}

/// The secret is on this answer only.
async fn create_key(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app.access().create_access_key(&session.caller).await {
        Ok(created) => keys_page(&app, session, Some(created)).await,
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn revoke_key(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app.access().delete_access_key(&session.caller, &id).await {
        Ok(()) => Ok(see_other("/ui/access-keys")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}
