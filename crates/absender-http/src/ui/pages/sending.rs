//! Send settings (which verified address sends which kind of mail) and a
//! test mail through the real pipeline.

use crate::ui::respond::{UiError, fixable, page};
use crate::ui::session::{CsrfForm, Ctx, OrgSession, see_other};
use absender_core::{Category, Scope, Status};
use absender_service::api::{SendMessage, SendSettings};
use absender_service::settings::DeliveryMode;
use absender_service::{App, ServiceError};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<App> {
    Router::new()
        .route("/send-settings", get(settings_page).post(save_settings))
        .route("/test-mail", get(test_mail_page).post(send_test_mail))
}

struct Choice {
    id: String,
    address: String,
}

struct CategoryView {
    key: &'static str,
    title: &'static str,
    /// Only identities with the scope `all` may send it.
    needs_scope_all: bool,
    default_sender: String,
    chosen: String,
    options: Vec<Choice>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/send_settings.html")]
struct SettingsPage {
    ctx: Ctx,
    categories: Vec<CategoryView>,
    no_verified: bool,
    flash: Option<&'static str>,
}

async fn render_settings(
    app: &App,
    session: OrgSession,
    settings: SendSettings,
    error: Option<(Category, String)>,
    flash: Option<&'static str>,
) -> Result<Response, UiError> {
    let OrgSession { ctx, caller } = session;
    let identities = match app.identities().list_identities(&caller).await {
        Ok(list) => list,
        Err(e) => return Err(UiError::service(e, ctx)),
    };
    let senders = app.default_senders();
    let t = ctx.t;
    let verified: Vec<_> = identities
        .iter()
        .filter(|i| i.status == Status::Success)
        .collect();
    let categories = Category::of_organizations()
        .map(|category| CategoryView {
            key: category.as_str(),
            title: t.category(category),
            needs_scope_all: !Scope::Recipients.allows(category),
            default_sender: senders.of(category).to_string(),
            chosen: settings.chosen(category).cloned().unwrap_or_default(),
            options: verified
                .iter()
                // A category's sender is an address; domains are used by `from`.
                .filter(|i| i.address.is_some() && i.categories.contains(&category))
                .map(|i| Choice {
                    id: i.id.clone(),
                    address: i.name(),
                })
                .collect(),
            error: error
                .as_ref()
                .filter(|(c, _)| *c == category)
                .map(|(_, m)| m.clone()),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &SettingsPage {
            ctx,
            categories,
            no_verified: verified.is_empty(),
            flash,
        },
    ))
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn settings_page(
    State(app): State<App>,
    session: OrgSession,
    Query(saved): Query<Saved>,
) -> Result<Response, UiError> {
    let settings = match app.sending().send_settings(&session.caller).await {
        Ok(s) => s,
        Err(e) => return Err(UiError::service(e, session.ctx)),
    };
    let flash = saved.saved.map(|_| session.ctx.t.saved);
    render_settings(&app, session, settings, None, flash).await
}

/// The form: one field per category, named as the category (and `csrf`).
type SettingsFields = std::collections::HashMap<String, String>;

async fn save_settings(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(fields): CsrfForm<SettingsFields>,
) -> Result<Response, UiError> {
    let settings = SendSettings(
        Category::of_organizations()
            .map(|c| (c, fields.get(c.as_str()).filter(|s| !s.is_empty()).cloned()))
            .collect(),
    );
    match app
        .sending()
        .put_send_settings(&session.caller, settings.clone())
        .await
    {
        Ok(_) => Ok(see_other("/ui/send-settings?saved=1")),
        Err(ServiceError::Refused { message, .. }) => {
            // The service names the category first ("booking: …").
            let category = Category::of_organizations()
                .find(|c| message.starts_with(c.as_str()))
                .unwrap_or(Category::Booking);
            render_settings(&app, session, settings, Some((category, message)), None).await
        }
        Err(e) => Err(UiError::service(e, session.ctx)),
    }
}

#[derive(Default, Deserialize)]
struct TestFields {
    #[serde(default)]
    category: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
}

#[derive(Template)]
#[template(path = "ui/test_mail.html")]
struct TestMailPage {
    ctx: Ctx,
    categories: Vec<(&'static str, &'static str)>,
    form: TestFields,
    to_error: Option<String>,
    subject_error: Option<String>,
    error: Option<String>,
}

fn test_page(ctx: Ctx, form: TestFields) -> TestMailPage {
    let t = ctx.t;
    TestMailPage {
        categories: Category::of_organizations()
            .map(|c| (c.as_str(), t.category(c)))
            .collect(),
        ctx,
        form,
        to_error: None,
        subject_error: None,
        error: None,
    }
}

async fn test_mail_page(session: OrgSession) -> Response {
    let t = session.ctx.t;
    let to = match &session.caller {
        absender_service::Caller::Org(org) => org.contact_email().to_string(),
        absender_service::Caller::Operator => String::new(),
    };
    let form = TestFields {
        category: "booking".into(),
        to,
        subject: t.test_subject.into(),
        text: t.test_text.into(),
    };
    page(StatusCode::OK, &test_page(session.ctx, form))
}

async fn send_test_mail(
    State(app): State<App>,
    session: OrgSession,
    CsrfForm(form): CsrfForm<TestFields>,
) -> Result<Response, UiError> {
    let t = session.ctx.t;
    let mut refused = test_page(session.ctx, TestFields::default());
    if form.to.trim().is_empty() {
        refused.to_error = Some(t.required.into());
    }
    if form.subject.trim().is_empty() {
        refused.subject_error = Some(t.required.into());
    }
    let category = Category::parse(&form.category).filter(|c| *c != Category::System);
    if refused.to_error.is_some() || refused.subject_error.is_some() || category.is_none() {
        refused.form = form;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, &refused));
    }
    let request = SendMessage {
        category: category.unwrap_or(Category::Booking),
        from: None,
        from_name: None,
        to: vec![form.to.trim().to_string()],
        cc: vec![],
        bcc: vec![],
        reply_to: None,
        subject: form.subject.clone(),
        text: Some(form.text.clone()),
        html: None,
        headers: Default::default(),
        attachments: vec![],
    };
    match app.sending().send_message(&session.caller, request).await {
        Ok(accepted) if app.settings().sending.mode == DeliveryMode::Capture => {
            Ok(see_other(&format!("/ui/outbox/{}?sent=1", accepted.id)))
        }
        Ok(accepted) => {
            let text = format!("{} ({})", t.message_sent, accepted.id);
            Ok(page(
                StatusCode::ACCEPTED,
                &crate::ui::pages::sign_in::message(
                    refused.ctx,
                    t.test_title,
                    text,
                    "/ui/test-mail",
                ),
            ))
        }
        Err(e) if fixable(&e) => {
            let api = crate::ApiError::from(e);
            let message = Some(api.message().to_string());
            match api.code() {
                "invalid_address" | "recipient_suppressed" => refused.to_error = message,
                _ => refused.error = message,
            }
            refused.form = form;
            Ok(page(api.status(), &refused))
        }
        Err(e) => Err(UiError::service(e, refused.ctx)),
    }
}
