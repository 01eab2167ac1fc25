//! Sign-in with an API key or a mailed one-time link, sign-out.

use crate::ui::respond::{UiError, page};
use crate::ui::session::{CsrfForm, Ctx, NoFields, SESSION_COOKIE, Visitor, see_other, set_cookie};
use absender_service::{App, Caller, SESSION_TTL, SIGN_IN_LINK_TTL, ServiceError};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-in/link", post(mail_link))
        .route("/sign-in/{token}", get(link_page).post(use_link))
        .route("/sign-out", post(sign_out))
}

/// Where a caller starts.
fn start(caller: &Caller) -> &'static str {
    match caller {
        Caller::Operator => "/ui/admin",
        Caller::Org(_) => "/ui/identities",
    }
}

async fn home(visitor: Visitor) -> Response {
    match &visitor.caller {
        Some(caller) => see_other(start(caller)),
        None => see_other("/ui/sign-in"),
    }
}

#[derive(Template)]
#[template(path = "ui/sign_in.html")]
struct SignInPage {
    ctx: Ctx,
    key_error: Option<String>,
    email: String,
    email_error: Option<String>,
}

async fn sign_in_page(visitor: Visitor) -> Response {
    if let Some(caller) = &visitor.caller {
        return see_other(start(caller));
    }
    page(
        StatusCode::OK,
        &SignInPage {
            ctx: visitor.ctx,
            key_error: None,
            email: String::new(),
            email_error: None,
        },
    )
}

/// Signed in: the session cookie, then on to the caller's start page.
fn signed_in(app: &App, token: &str, caller: &Caller) -> Response {
    let mut response = see_other(start(caller));
    let max_age = i64::try_from(SESSION_TTL.as_secs()).unwrap_or(i64::MAX);
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(app, SESSION_COOKIE, token, max_age));
    response
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    key: String,
}

async fn sign_in(
    State(app): State<App>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> Result<Response, UiError> {
    let t = visitor.ctx.t;
    let key = form.key.trim();
    let error = |message: &str, ctx: Ctx| {
        tracing::info!("ui sign-in refused");
        page(
            StatusCode::UNAUTHORIZED,
            &SignInPage {
                ctx,
                key_error: Some(message.to_string()),
                email: String::new(),
                email_error: None,
            },
        )
    };
    if key.is_empty() {
        return Ok(error(t.required, visitor.ctx));
    }
    match app.access().ui_sign_in(key).await {
        Ok((token, caller)) => Ok(signed_in(&app, &token, &caller)),
        Err(ServiceError::Unauthorized) => Ok(error(t.key_invalid, visitor.ctx)),
        Err(e) => Err(UiError::service(e, visitor.ctx)),
    }
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

/// A page with a title, a sentence and a way back.
pub fn message(ctx: Ctx, title: &str, text: String, back: &str) -> impl Template {
    MessagePage {
        ctx,
        title: title.to_string(),
        text,
        back: back.to_string(),
    }
}

#[derive(Template)]
#[template(path = "ui/message.html")]
struct MessagePage {
    ctx: Ctx,
    title: String,
    text: String,
    back: String,
}

async fn mail_link(
    State(app): State<App>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, UiError> {
    let t = visitor.ctx.t;
    if form.email.trim().is_empty() {
        return Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignInPage {
                ctx: visitor.ctx,
                key_error: None,
                email: form.email,
                email_error: Some(t.required.to_string()),
            },
        ));
    }
    match app.access().mail_sign_in_links(&form.email).await {
        Ok(()) => Ok(page(
            StatusCode::OK,
            &MessagePage {
                title: t.link_sent_title.to_string(),
                text: t
                    .link_sent_text
                    .replace("{minutes}", &(SIGN_IN_LINK_TTL.as_secs() / 60).to_string()),
                back: "/ui/sign-in".into(),
                ctx: visitor.ctx,
            },
        )),
        Err(ServiceError::Invalid { message, .. }) => Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignInPage {
                ctx: visitor.ctx,
                key_error: None,
                email: form.email,
                email_error: Some(message),
            },
        )),
        Err(e) => Err(UiError::service(e, visitor.ctx)),
    }
}

#[derive(Template)]
#[template(path = "ui/sign_in_link.html")]
struct LinkPage {
    ctx: Ctx,
    text: String,
    token: String,
}

fn link_invalid(ctx: Ctx) -> UiError {
    UiError::text(ctx, StatusCode::NOT_FOUND, "sign_in_link_invalid", |t| {
        t.link_invalid
    })
}

/// GET only shows a button: mail scanners that follow links must not use them up.
async fn link_page(
    State(app): State<App>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, UiError> {
    let org = match app.access().sign_in_link_org(&token).await {
        Ok(org) => org,
        Err(e) => return Err(UiError::service(e, visitor.ctx)),
    };
    let Some(org) = org else {
        return Err(link_invalid(visitor.ctx));
    };
    let mut response = page(
        StatusCode::OK,
        &LinkPage {
            text: visitor.ctx.t.link_page_text.replace("{org}", &org),
            token,
            ctx: visitor.ctx,
        },
    );
    // The token is in the URL: never hand it on to other sites.
    response.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

async fn use_link(
    State(app): State<App>,
    visitor: Visitor,
    Path(token): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app.access().ui_sign_in_with_link(&token).await {
        Ok(Some((session, caller))) => Ok(signed_in(&app, &session, &caller)),
        Ok(None) => Err(link_invalid(visitor.ctx)),
        Err(e) => Err(UiError::service(e, visitor.ctx)),
    }
}

async fn sign_out(
    State(app): State<App>,
    visitor: Visitor,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    if let Some(token) = &visitor.session {
        app.access()
            .ui_sign_out(token)
            .await
            .map_err(|e| UiError::service(e, visitor.ctx))?;
    }
    let mut response = see_other("/ui/sign-in");
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(&app, SESSION_COOKIE, "", 0));
    Ok(response.into_response())
}
