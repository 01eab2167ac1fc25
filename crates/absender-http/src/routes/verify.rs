//! `/verify/{token}`: the page behind the link in the verification mail. GET
//! only shows it (link scanners prefetch URLs); POST confirms.

use crate::ApiError;
use absender_core::Locale;
use absender_service::{App, VerifyPage, VerifyRefusal};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Router<App> {
    Router::new().route("/verify/{token}", get(show).post(confirm))
}

#[derive(Template)]
#[template(path = "verify.html")]
struct Page<'a> {
    lang: &'a str,
    title: String,
    message: String,
    form_action: Option<String>,
    button: &'a str,
    note: Option<&'a str>,
}

async fn show(State(app): State<App>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let outcome = app.identities().verification_page(&token).await?;
    Ok(render(outcome, &token))
}

async fn confirm(State(app): State<App>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let outcome = app.identities().confirm_verification(&token).await?;
    Ok(render(outcome, &token))
}

fn render(outcome: Result<VerifyPage, (VerifyRefusal, Locale)>, token: &str) -> Response {
    let (status, page) = match outcome {
        Ok(page) => (StatusCode::OK, page_for(&page, token)),
        Err((refusal, locale)) => refused(refusal, locale),
    };
    let html = page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "verify page did not render");
        String::from("error")
    });
    crate::page::token_page(status, html)
}

fn page_for<'a>(page: &VerifyPage, token: &str) -> Page<'a> {
    let de = page.locale == Locale::De;
    let lang = page.locale.as_str();
    if page.confirmed {
        return Page {
            lang,
            title: if de {
                "Adresse bestätigt".into()
            } else {
                "Address confirmed".into()
            },
            message: if de {
                format!(
                    "Danke! {} darf nun von {} senden, sobald auch die DNS-Einträge der Domain geprüft sind.",
                    page.org_name, page.address
                )
            } else {
                format!(
                    "Thank you! {} may now send from {} as soon as the domain's DNS records are verified too.",
                    page.org_name, page.address
                )
            },
            form_action: None,
            button: "",
            note: Some(if de {
                "Sie können dieses Fenster schließen."
            } else {
                "You can close this window."
            }),
        };
    }
    Page {
        lang,
        title: if de {
            "Absenderadresse bestätigen".into()
        } else {
            "Confirm the sender address".into()
        },
        message: if de {
            format!(
                "{} möchte E-Mails mit der Absenderadresse {} versenden. Erlauben Sie das?",
                page.org_name, page.address
            )
        } else {
            format!(
                "{} would like to send email from {}. Do you allow this?",
                page.org_name, page.address
            )
        },
        form_action: Some(format!("/verify/{token}")),
        button: if de {
            "Ja, bestätigen"
        } else {
            "Yes, confirm"
        },
        note: Some(if de {
            "Wenn Sie das nicht erwartet haben, schließen Sie diese Seite einfach: dann geschieht nichts."
        } else {
            "If you did not expect this, just close this page: nothing will happen."
        }),
    }
}

fn refused<'a>(refusal: VerifyRefusal, locale: Locale) -> (StatusCode, Page<'a>) {
    let (status, title, message) = match refusal {
        VerifyRefusal::Unknown => (
            StatusCode::NOT_FOUND,
            locale.pick("Link unbekannt", "Unknown link"),
            locale.pick(
                "Diesen Bestätigungslink gibt es nicht (mehr). Prüfen Sie, ob er vollständig kopiert wurde.",
                "This confirmation link does not exist (any more). Check that it was copied completely.",
            ),
        ),
        VerifyRefusal::Used => (
            StatusCode::GONE,
            locale.pick("Link bereits verwendet", "Link already used"),
            locale.pick(
                "Dieser Link wurde bereits verwendet. Jeder Link gilt nur einmal; die Adresse ist bestätigt.",
                "This link was already used. Each link works once; the address is confirmed.",
            ),
        ),
        VerifyRefusal::Expired => (
            StatusCode::GONE,
            locale.pick("Link abgelaufen", "Link expired"),
            locale.pick(
                "Dieser Link ist abgelaufen. Bitten Sie die Organisation, einen neuen Bestätigungslink zu senden.",
                "This link has expired. Ask the organization to send a new confirmation link.",
            ),
        ),
        VerifyRefusal::Superseded => (
            StatusCode::GONE,
            locale.pick("Link ersetzt", "Link replaced"),
            locale.pick(
                "Inzwischen wurde ein neuerer Link gesendet; nur der neueste funktioniert. Bitte verwenden Sie die neueste E-Mail.",
                "A newer link has been sent since; only the newest one works. Please use the most recent email.",
            ),
        ),
    };
    (
        status,
        Page {
            lang: locale.as_str(),
            title: title.into(),
            message: message.into(),
            form_action: None,
            button: "",
            note: None,
        },
    )
}
