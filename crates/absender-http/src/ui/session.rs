//! Who is looking at a page: cookies, the session behind them, the language,
//! and the CSRF check that every form post passes before its handler runs.

use crate::ui::i18n::{self, Texts};
use crate::ui::respond::{UiError, error_page};
use absender_core::Locale;
use absender_service::{App, Caller, secrets::random_token};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;

pub const SESSION_COOKIE: &str = "absender_session";
pub const VISITOR_COOKIE: &str = "absender_visitor";
pub const LANG_COOKIE: &str = "absender_lang";

/// A cookie's value from the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` for the UI: HttpOnly, SameSite=Lax, Secure behind https.
pub fn set_cookie(app: &App, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/ui")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(app.public_url().starts_with("https://"))
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are ASCII tokens")
}

/// Gives a browser that has neither a session nor a visitor cookie a visitor
/// cookie before the handler runs, so that even the sign-in form has a CSRF
/// token bound to this browser (against login CSRF).
pub async fn ensure_visitor(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let fresh =
        if cookie(&parts, SESSION_COOKIE).is_none() && cookie(&parts, VISITOR_COOKIE).is_none() {
            let value = random_token();
            let header = format!("{VISITOR_COOKIE}={value}");
            parts.headers.append(
                COOKIE,
                HeaderValue::from_str(&header).expect("token is ASCII"),
            );
            Some(value)
        } else {
            None
        };
    request = Request::from_parts(parts, body);
    let mut response = next.run(request).await;
    if let Some(value) = fresh {
        response.headers_mut().append(
            SET_COOKIE,
            set_cookie(&app, VISITOR_COOKIE, &value, 365 * 24 * 3600),
        );
    }
    response
}

/// What a CSRF token is bound to: the session cookie when there is one,
/// otherwise the visitor cookie.
fn browser_key(parts: &Parts) -> Option<String> {
    cookie(parts, SESSION_COOKIE).or_else(|| cookie(parts, VISITOR_COOKIE))
}

/// The language of the page: the switcher's cookie, else the organization's
/// language, else the browser's Accept-Language, else English.
fn locale(parts: &Parts, caller: Option<&Caller>) -> Locale {
    if let Some(locale) = cookie(parts, LANG_COOKIE).and_then(|l| Locale::parse(&l)) {
        return locale;
    }
    if let Some(Caller::Org(org)) = caller {
        return org.locale();
    }
    parts
        .headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(i18n::from_accept_language)
        .unwrap_or_default()
}

/// Everything a page template needs besides its own content.
pub struct Ctx {
    pub t: &'static Texts,
    /// The page's language (findings are shown in it too).
    pub locale: Locale,
    pub csrf: String,
    /// The organization's name, or the operator; None before sign-in.
    pub who: Option<String>,
    pub operator: bool,
    /// The path of this page, for the language switcher to come back to.
    pub path: String,
}

impl Ctx {
    /// The page's language tag (`lang` of the page).
    pub fn lang(&self) -> &'static str {
        self.locale.as_str()
    }

    fn new(app: &App, parts: &Parts, caller: Option<&Caller>) -> Self {
        let locale = locale(parts, caller);
        let t = i18n::texts(locale);
        Ctx {
            t,
            locale,
            csrf: browser_key(parts)
                .map(|k| app.access().ui_csrf_token(&k))
                .unwrap_or_default(),
            who: caller.map(|c| match c {
                Caller::Operator => t.operator.to_string(),
                Caller::Org(org) => org.name().to_string(),
            }),
            operator: matches!(caller, Some(Caller::Operator)),
            // Inside the nested router the URI lacks `/ui`; the original has it.
            path: parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| parts.uri.path().to_string(), |u| u.path().to_string()),
        }
    }
}

/// A visitor who may or may not be signed in (the sign-in pages).
pub struct Visitor {
    pub ctx: Ctx,
    pub caller: Option<Caller>,
    pub session: Option<String>,
}

impl FromRequestParts<App> for Visitor {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let session = cookie(parts, SESSION_COOKIE);
        let caller = match &session {
            Some(token) => app
                .access()
                .ui_session(token)
                .await
                .map_err(|e| UiError::service(e, Ctx::new(app, parts, None)))?,
            None => None,
        };
        Ok(Visitor {
            ctx: Ctx::new(app, parts, caller.as_ref()),
            caller,
            session,
        })
    }
}

/// A signed-in organization. Without a session: off to the sign-in page.
pub struct OrgSession {
    pub ctx: Ctx,
    pub caller: Caller,
}

/// The signed-in operator.
pub struct OperatorSession {
    pub ctx: Ctx,
    pub caller: Caller,
}

async fn signed_in(parts: &mut Parts, app: &App) -> Result<(Ctx, Caller), UiError> {
    let visitor = Visitor::from_request_parts(parts, app).await?;
    match visitor.caller {
        Some(caller) => Ok((visitor.ctx, caller)),
        None => Err(UiError::SignIn),
    }
}

impl FromRequestParts<App> for OrgSession {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let (ctx, caller) = signed_in(parts, app).await?;
        match caller {
            Caller::Org(_) => Ok(OrgSession { ctx, caller }),
            Caller::Operator => Err(UiError::text(ctx, StatusCode::FORBIDDEN, "org_only", |t| {
                t.org_only
            })),
        }
    }
}

impl FromRequestParts<App> for OperatorSession {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let (ctx, caller) = signed_in(parts, app).await?;
        match caller {
            Caller::Operator => Ok(OperatorSession { ctx, caller }),
            Caller::Org(_) => Err(UiError::text(
                ctx,
                StatusCode::FORBIDDEN,
                "operator_only",
                |t| t.operator_only,
            )),
        }
    }
}

/// A form post that carried this browser's CSRF token. The check runs before
/// the fields are read, so no handler can forget it.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<App> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let ctx = || Ctx::new(app, &parts, None);
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            let message = format!("the form is larger than {MAX_FORM_BYTES} bytes");
            return Err(error_page(
                ctx(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                message,
            ));
        };
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        let valid =
            browser_key(&parts).is_some_and(|key| app.access().ui_csrf_valid(&key, &field.csrf));
        if !valid {
            let path = crate::access_log::redacted(parts.uri.path());
            tracing::warn!(path, "form refused: CSRF token missing or wrong");
            let ctx = ctx();
            let message = ctx.t.csrf_invalid.to_string();
            return Err(error_page(
                ctx,
                StatusCode::FORBIDDEN,
                "csrf_invalid",
                message,
            ));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|e| {
                error_page(
                    ctx(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_form",
                    e.to_string(),
                )
            })
    }
}

/// A form with nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// The largest form the UI takes (a test mail's text is the longest field).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// `303 See Other` to `to`: the answer to a successful form post.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
