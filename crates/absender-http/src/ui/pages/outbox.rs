//! The outbox: captured mail with headers and each DKIM signature's verdict.
//! The organization sees its own; the operator sees all (under /ui/admin).

use crate::ui::respond::{UiError, page};
use crate::ui::session::{Ctx, OperatorSession, OrgSession};
use absender_service::api::{OutboxEntry, OutboxMessage};
use absender_service::{App, Caller};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/outbox", get(org_list))
        .route("/outbox/{id}", get(org_message))
        .route("/outbox/{id}/raw", get(org_raw))
        .route("/admin/outbox", get(admin_list))
        .route("/admin/outbox/{id}", get(admin_message))
        .route("/admin/outbox/{id}/raw", get(admin_raw))
}

#[derive(Template)]
#[template(path = "ui/outbox.html")]
struct ListPage {
    ctx: Ctx,
    items: Vec<OutboxEntry>,
    base: &'static str,
}

#[derive(Template)]
#[template(path = "ui/outbox_message.html")]
struct MessagePage {
    ctx: Ctx,
    m: OutboxMessage,
    /// The From header (the listing's `from` is the envelope sender).
    from: String,
    base: &'static str,
    raw: String,
    flash: Option<&'static str>,
}

async fn list(
    app: &App,
    ctx: Ctx,
    caller: &Caller,
    base: &'static str,
) -> Result<Response, UiError> {
    match app.sending().list_outbox(caller, Some(100)).await {
        Ok(mut items) => {
            for item in &mut items {
                item.created_at = super::when(&item.created_at);
            }
            Ok(page(StatusCode::OK, &ListPage { ctx, items, base }))
        }
        Err(e) => Err(UiError::service(e, ctx)),
    }
}

#[derive(Deserialize)]
struct Sent {
    sent: Option<String>,
}

async fn show(
    app: &App,
    ctx: Ctx,
    caller: &Caller,
    base: &'static str,
    id: &str,
    sent: bool,
) -> Result<Response, UiError> {
    match app.sending().outbox_message(caller, id).await {
        Ok(mut m) => {
            m.entry.created_at = super::when(&m.entry.created_at);
            let flash = sent.then_some(ctx.t.message_sent);
            let from = m
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("from"))
                .map_or_else(|| m.entry.from.clone(), |h| h.value.clone());
            Ok(page(
                StatusCode::OK,
                &MessagePage {
                    raw: format!("{base}/{id}/raw"),
                    ctx,
                    m,
                    from,
                    base,
                    flash,
                },
            ))
        }
        Err(e) => Err(UiError::service(e, ctx)),
    }
}

async fn org_list(State(app): State<App>, session: OrgSession) -> Result<Response, UiError> {
    list(&app, session.ctx, &session.caller, "/ui/outbox").await
}

async fn org_message(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
    Query(sent): Query<Sent>,
) -> Result<Response, UiError> {
    show(
        &app,
        session.ctx,
        &session.caller,
        "/ui/outbox",
        &id,
        sent.sent.is_some(),
    )
    .await
}

async fn admin_list(State(app): State<App>, session: OperatorSession) -> Result<Response, UiError> {
    list(&app, session.ctx, &session.caller, "/ui/admin/outbox").await
}

async fn admin_message(
    State(app): State<App>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    show(
        &app,
        session.ctx,
        &session.caller,
        "/ui/admin/outbox",
        &id,
        false,
    )
    .await
}

/// The message as it was signed, shown as text (never rendered).
async fn raw(app: &App, ctx: Ctx, caller: &Caller, id: &str) -> Result<Response, UiError> {
    match app.sending().outbox_raw(caller, id).await {
        Ok(bytes) => Ok((
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            bytes,
        )
            .into_response()),
        Err(e) => Err(UiError::service(e, ctx)),
    }
}

async fn org_raw(
    State(app): State<App>,
    session: OrgSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    raw(&app, session.ctx, &session.caller, &id).await
}

async fn admin_raw(
    State(app): State<App>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    raw(&app, session.ctx, &session.caller, &id).await
}
