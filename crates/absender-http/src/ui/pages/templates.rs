//! The organization's email templates: list, create, edit, preview with
//! sample data, delete (the same templates as the SES and native APIs).

use super::when;
use crate::ui::respond::{UiError, page};
use crate::ui::session::{CsrfForm, Ctx, NoFields, OrgSession, see_other};
use absender_service::api::{RenderedTemplate, Template, TemplateContent};
use absender_service::{App, ServiceError};
use askama::Template as Askama;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/templates", get(list).post(create))
        .route("/templates/{name}", get(edit).post(save))
        .route("/templates/{name}/preview", post(preview))
        .route("/templates/{name}/delete", post(delete))
}

#[derive(Askama)]
#[template(path = "ui/templates.html")]
struct ListPage {
    ctx: Ctx,
    items: Vec<Template>,
    form: Fields,
    error: Option<String>,
}

#[derive(Askama)]
#[template(path = "ui/template.html")]
struct EditPage {
    ctx: Ctx,
    name: String,
    form: Fields,
    data: String,
    rendered: Option<RenderedTemplate>,
    error: Option<String>,
}

/// The template form; empty parts are absent.
#[derive(Debug, Default, Deserialize)]
struct Fields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    html: String,
}

impl Fields {
    fn content(&self) -> TemplateContent {
        let part = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
        TemplateContent {
            subject: self.subject.clone(),
            text: part(&self.text),
            html: part(&self.html),
        }
    }

    fn of(template: Template) -> Self {
        Self {
            name: template.name,
            subject: template.subject,
            text: template.text.unwrap_or_default(),
            html: template.html.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct DataField {
    #[serde(default)]
    data: String,
}

/// A refusal the person can fix on the form, as its status and words;
/// anything else as it is.
fn fixable(e: ServiceError) -> Result<(StatusCode, String), ServiceError> {
    match e {
        ServiceError::BadRequest { .. }
        | ServiceError::Invalid { .. }
        | ServiceError::Conflict { .. }
        | ServiceError::RateLimited { .. } => {
            let words = e.to_string();
            Ok((crate::ApiError::from(e).status(), words))
        }
        other => Err(other),
    }
}

async fn list_page(
    app: &App,
    session: OrgSession,
    form: Fields,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let mut items = match app.templates().list_templates(&caller, None, 1000).await {
        Ok(items) => items,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    for t in &mut items {
        t.updated_at = when(&t.updated_at);
    }
    let (status, error) = super::form_status(error);
    Ok(page(
        status,
        &ListPage {
            ctx,
            items,
            form,
            error,
        },
    ))
}

async fn list(State(app): State<App>, session: OrgSession) -> Result<Response, UiError> {
    list_page(&app, session, Fields::default(), None).await
}

async fn create(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(form): CsrfForm<Fields>,
) -> Result<Response, UiError> {
    let name = form.name.trim().to_string();
    match app
        .templates()
        .create_template(&session.caller, &name, form.content())
        .await
    {
        Ok(created) => Ok(see_other(&format!("/ui/templates/{}", created.name))),
        Err(e) => match fixable(e) {
            Ok(error) => list_page(&app, session, form, Some(error)).await,
            Err(e) => Err(UiError::service(e, session.ctx)),
        },
    }
}

fn edit_page(
    session: OrgSession,
    name: String,
    form: Fields,
    data: String,
    rendered: Option<RenderedTemplate>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let (status, error) = super::form_status(error);
    page(
        status,
        &EditPage {
            ctx: session.ctx,
            name,
            form,
            data,
            rendered,
            error,
        },
    )
}

async fn edit(
    State(app): State<App>,
    session: OrgSession,
    Path(name): Path<String>,
) -> Result<Response, UiError> {
    match app.templates().template(&session.caller, &name).await {
        Ok(template) => Ok(edit_page(
            session,
            name,
            Fields::of(template),
            "{}".into(),
            None,
            None,
        )),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

async fn save(
    State(app): State<App>,
    session: OrgSession,
    Path(name): Path<String>,
    CsrfForm(form): CsrfForm<Fields>,
) -> Result<Response, UiError> {
    match app
        .templates()
        .update_template(&session.caller, &name, form.content())
        .await
    {
        Ok(_) => Ok(see_other(&format!("/ui/templates/{name}"))),
        Err(e) => match fixable(e) {
            Ok(error) => Ok(edit_page(
                session,
                name,
                form,
                "{}".into(),
                None,
                Some(error),
            )),
            Err(e) => Err(UiError::service(e, session.ctx)),
        },
    }
}

/// Renders the stored template with the sample data, on the same page.
async fn preview(
    State(app): State<App>,
    session: OrgSession,
    Path(name): Path<String>,
    CsrfForm(form): CsrfForm<DataField>,
) -> Result<Response, UiError> {
    let stored = match app.templates().template(&session.caller, &name).await {
        Ok(template) => Fields::of(template),
        Err(e) => return Err(UiError::service(e, session.ctx)),
    };
    let rendered = match serde_json::from_str::<serde_json::Value>(&form.data) {
        Ok(data) => {
            app.templates()
                .render_template(&session.caller, &name, &data)
                .await
        }
        Err(e) => Err(ServiceError::BadRequest {
            code: "invalid_template_data",
            message: format!("the sample data is not JSON: {e}"),
        }),
    };
    match rendered {
        Ok(rendered) => Ok(edit_page(
            session,
            name,
            stored,
            form.data,
            Some(rendered),
            None,
        )),
        Err(e) => match fixable(e) {
            Ok(error) => Ok(edit_page(
                session,
                name,
                stored,
                form.data,
                None,
                Some(error),
            )),
            Err(e) => Err(UiError::service(e, session.ctx)),
        },
    }
}

async fn delete(
    State(app): State<App>,
    session: OrgSession,
    Path(name): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, UiError> {
    match app
        .templates()
        .delete_template(&session.caller, &name)
        .await
    {
        Ok(()) => Ok(see_other("/ui/templates")),
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}
