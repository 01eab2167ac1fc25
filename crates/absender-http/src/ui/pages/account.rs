//! The organization's suppression list, SMTP logins and API key.

use super::when;
use crate::ui::respond::{UiError, at_form, fixable, page};
use crate::ui::session::{CsrfForm, Ctx, NoFields, OrgSession, see_other};
use absender_service::api::{AddSuppression, CreateSmtpCredential, SmtpCredential, Suppression};
use absender_service::{App, ServiceError};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/suppressions", get(suppressions).post(add_suppression))
        .route("/suppressions/remove", post(remove_suppression))
        .route("/smtp", get(logins).post(create_login))
        .route("/smtp/{id}/revoke", post(revoke_login))
        .route("/api-key", get(api_key).post(rotate_api_key))
}

#[derive(Template)]
#[template(path = "ui/api_key.html")]
struct ApiKeyPage {
    ctx: Ctx,
    new_key: Option<String>,
}

/// Asks first: a new key ends the old one and every session.
async fn api_key(session: OrgSession) -> Response {
    page(
        StatusCode::OK,
        &ApiKeyPage {
            ctx: session.ctx,
            new_key: None,
        },
    )
}

/// The new key is on this answer only; the session that asked has ended.
async fn rotate_api_key(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    let org_id = session.caller.organization().map(|o| o.id().to_string());
    let rotated = match org_id {
        Ok(id) => {
            app.access()
                .rotate_org_key(&session.caller, &id, Default::default())
                .await
        }
        Err(e) => Err(e),
    };
    match rotated {
        Ok(rotated) => Ok(page(
            StatusCode::OK,
            &ApiKeyPage {
                ctx: session.ctx,
                new_key: Some(rotated.api_key),
            },
        )),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

#[derive(Template)]
#[template(path = "ui/suppressions.html")]
struct SuppressionsPage {
    ctx: Ctx,
    items: Vec<Suppression>,
    address: String,
    error: Option<String>,
    flash: Option<&'static str>,
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn suppressions_page(
    app: &App,
    session: OrgSession,
    address: String,
    error: Option<(StatusCode, String)>,
    flash: Option<&'static str>,
) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let mut items = match app
        .suppressions()
        .list_suppressions(&caller, None, Some(1000))
        .await
    {
        Ok(items) => items,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    for s in &mut items {
        s.created_at = when(&s.created_at);
    }
    let (status, error) = super::form_status(error);
    Ok(page(
        status,
        &SuppressionsPage {
            ctx,
            items,
            address,
            error,
            flash,
        },
    ))
}

async fn suppressions(
    State(app): State<App>,
    session: OrgSession,
    Query(done): Query<Done>,
) -> Result<Response, UiError> {
    let flash = done.done.map(|_| session.ctx.t.saved);
    suppressions_page(&app, session, String::new(), None, flash).await
}

#[derive(Deserialize)]
struct AddressField {
    #[serde(default)]
    address: String,
}

async fn add_suppression(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(form): CsrfForm<AddressField>,
) -> Result<Response, UiError> {
    let request = AddSuppression {
        address: form.address.trim().to_string(),
        detail: None,
    };
    match app
        .suppressions()
        .add_suppression(&session.caller, request)
        .await
    {
        Ok(_) => Ok(see_other("/ui/suppressions?done=1")),
        Err(
            e @ (ServiceError::InvalidAddress { .. }
            | ServiceError::BadRequest {
                code: "invalid_address",
                ..
            }),
        ) => {
            let status = crate::ApiError::from(e).status();
            let message = session.ctx.t.err_address.to_string();
            suppressions_page(&app, session, form.address, Some((status, message)), None).await
        }
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn remove_suppression(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(form): CsrfForm<AddressField>,
) -> Result<Response, UiError> {
    match app
        .suppressions()
        .remove_suppression(&session.caller, &form.address)
        .await
    {
        Ok(()) => Ok(see_other("/ui/suppressions?done=1")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

#[derive(Template)]
#[template(path = "ui/smtp.html")]
struct LoginsPage {
    ctx: Ctx,
    items: Vec<SmtpCredential>,
    created: Option<SmtpCredential>,
    description: String,
    error: Option<String>,
}

async fn logins_page(
    app: &App,
    session: OrgSession,
    created: Option<SmtpCredential>,
    description: String,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let mut items = match app.access().list_smtp_credentials(&caller).await {
        Ok(items) => items,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    for c in &mut items {
        c.created_at = when(&c.created_at);
    }
    let (status, error) = super::form_status(error);
    Ok(page(
        status,
        &LoginsPage {
            ctx,
            items,
            created,
            description,
            error,
        },
    ))
}

async fn logins(State(app): State<App>, session: OrgSession) -> Result<Response, UiError> {
    logins_page(&app, session, None, String::new(), None).await
}

#[derive(Deserialize)]
struct LoginFields {
    #[serde(default)]
    description: String,
}

/// The password is on this answer only; it is stored as a hash.
async fn create_login(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(form): CsrfForm<LoginFields>,
) -> Result<Response, UiError> {
    let description = Some(form.description.trim().to_string()).filter(|d| !d.is_empty());
    match app
        .access()
        .create_smtp_credential(&session.caller, CreateSmtpCredential { description })
        .await
    {
        Ok(created) => logins_page(&app, session, Some(created), String::new(), None).await,
        Err(e) if fixable(&e) => {
            let error = at_form(e);
            logins_page(&app, session, None, form.description, Some(error)).await
        }
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn revoke_login(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app
        .access()
        .delete_smtp_credential(&session.caller, &id)
        .await
    {
        Ok(()) => Ok(see_other("/ui/smtp")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}
