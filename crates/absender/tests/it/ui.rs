//! The web UI over plain HTTP: sessions, CSRF, tenant borders, languages,
//! form errors and the operator's pages. (The full setup in a real browser
//! is in `browser.rs`.)

use crate::helpers::{ADMIN_KEY, Org, TestApp, spawn_app, spawn_with};
use absender::config::Config;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// A browser without JavaScript: keeps cookies, follows nothing by itself.
pub struct Page {
    pub status: StatusCode,
    headers: HeaderMap,
    pub body: String,
}

impl Page {
    fn error_code(&self) -> Option<&str> {
        self.headers
            .get("x-absender-error")
            .and_then(|v| v.to_str().ok())
    }

    fn location(&self) -> &str {
        self.headers.get(LOCATION).unwrap().to_str().unwrap()
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        self.body[start..].split('"').next().unwrap().to_string()
    }
}

pub struct Browser {
    http: reqwest::Client,
    base: String,
    language: String,
    cookies: Mutex<HashMap<String, String>>,
}

impl Browser {
    pub fn new(app: &TestApp, language: &str) -> Browser {
        Self::at(&app.base, language)
    }

    /// The same browser (its cookies) speaking to the server at `base`:
    /// another node behind the same load balancer.
    pub fn moved_to(&self, base: &str) -> Browser {
        let moved = Self::at(base, &self.language);
        *moved.cookies.lock().unwrap() = self.cookies.lock().unwrap().clone();
        moved
    }

    /// A browser for the server at `base`.
    pub fn at(base: &str, language: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            language: language.to_string(),
            cookies: Mutex::new(HashMap::new()),
        }
    }

    async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let cookie = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("accept-language", &self.language);
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        if let Some(form) = form {
            let body = form
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let mut cookies = self.cookies.lock().unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_string(), value.to_string());
            }
        }
        Page {
            status,
            headers,
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Posts the form of the page at `page` with its CSRF token.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(page).await.csrf();
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    pub async fn sign_in(&self, key: &str) -> Page {
        let page = self
            .submit("/ui/sign-in", "/ui/sign-in", &[("key", key)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        page
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `items` of an API listing, as the organization sees it.
async fn items(app: &TestApp, org: &Org, path: &str) -> Vec<Value> {
    app.json(Method::GET, path, Some(&org.key), None, StatusCode::OK)
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Whether the organization has the custom-sender upgrade, as the API says.
async fn upgraded(app: &TestApp, org: &Org) -> bool {
    let shown = app
        .json(
            Method::GET,
            &format!("/api/v1/orgs/{}", org.id),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    shown["custom_sender_enabled"] == true
}

async fn identities_of(app: &TestApp, org: &Org) -> Vec<Value> {
    items(app, org, "/api/v1/identities").await
}

#[tokio::test]
async fn an_organization_cannot_open_or_post_to_another_organizations_pages() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let other = app.upgraded_org("Other", "en").await;
    let identity = app.request_identity(&acme, "events@acme.test", "all").await;
    let id = identity["id"].as_str().unwrap();
    let outbox = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let acme_mail = outbox["items"][0]["id"].as_str().unwrap().to_string();

    let acme_browser = Browser::new(&app, "en");
    acme_browser.sign_in(&acme.key).await;
    assert_eq!(
        acme_browser
            .get(&format!("/ui/identities/{id}"))
            .await
            .status,
        StatusCode::OK
    );

    let browser = Browser::new(&app, "en");
    browser.sign_in(&other.key).await;
    let list = browser.get("/ui/identities").await;
    assert!(!list.body.contains("events@acme.test"));
    for path in [
        format!("/ui/identities/{id}"),
        format!("/ui/identities/{id}/live"),
        format!("/ui/identities/{id}/records.csv"),
        format!("/ui/identities/{id}/records.zone"),
        format!("/ui/outbox/{acme_mail}"),
        format!("/ui/outbox/{acme_mail}/raw"),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(page.error_code(), Some("not_found"), "{path}");
        assert!(!page.body.contains("events@acme.test"), "{path}");
    }
    // Its own valid CSRF token does not open the other's forms either.
    let csrf = browser.get("/ui/identities").await.csrf();
    for action in ["check", "resend", "restart"] {
        let page = browser
            .post(&format!("/ui/identities/{id}/{action}"), &[("csrf", &csrf)])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{action}");
    }
    // Nor can it choose the other's identity as its sender.
    let page = browser
        .post("/ui/send-settings", &[("csrf", &csrf), ("booking", id)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    let settings = app
        .json(
            Method::GET,
            "/api/v1/send-settings",
            Some(&other.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(settings["booking"].is_null());
    // And the operator's pages are not for organizations.
    let admin = browser.get("/ui/admin").await;
    assert_eq!(admin.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.error_code(), Some("operator_only"));
    let upgrade = browser
        .post(
            &format!("/ui/admin/orgs/{}/upgrade", acme.id),
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await;
    assert_eq!(upgrade.status, StatusCode::FORBIDDEN);
    assert!(upgraded(&app, &acme).await);
}

#[tokio::test]
async fn a_form_without_this_browsers_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let browser = Browser::new(&app, "en");

    // Even the sign-in form (against login CSRF).
    browser.get("/ui/sign-in").await;
    let page = browser.post("/ui/sign-in", &[("key", &acme.key)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(page.error_code(), Some("csrf_invalid"));
    assert!(page.body.contains("did not come from this site"));
    assert!(
        !browser
            .cookies
            .lock()
            .unwrap()
            .contains_key("absender_session")
    );

    browser.sign_in(&acme.key).await;
    let missing = browser
        .post(
            "/ui/identities",
            &[("address", "events@acme.test"), ("scope", "all")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(missing.error_code(), Some("csrf_invalid"));
    let wrong = browser
        .post(
            "/ui/identities",
            &[
                ("csrf", "0000"),
                ("address", "events@acme.test"),
                ("scope", "all"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // Another browser's token (a valid one, for its own session) is no good here.
    let attacker = Browser::new(&app, "en");
    let other = app.upgraded_org("Other", "en").await;
    attacker.sign_in(&other.key).await;
    let foreign = attacker.get("/ui/identities").await.csrf();
    let crossed = browser
        .post(
            "/ui/identities",
            &[
                ("csrf", &foreign),
                ("address", "events@acme.test"),
                ("scope", "all"),
            ],
        )
        .await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    assert!(
        identities_of(&app, &acme).await.is_empty(),
        "nothing was created"
    );

    // With this browser's token it works.
    let added = browser
        .submit(
            "/ui/identities",
            "/ui/identities",
            &[("address", "events@acme.test"), ("scope", "all")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(identities_of(&app, &acme).await.len(), 1);

    // Sign-out needs the token too, and ends the session for good.
    let csrf = browser.get("/ui/identities").await.csrf();
    let session = browser.cookies.lock().unwrap()["absender_session"].clone();
    assert_eq!(
        browser.post("/ui/sign-out", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser
            .post("/ui/sign-out", &[("csrf", &csrf)])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let replay = Browser::new(&app, "en");
    replay
        .cookies
        .lock()
        .unwrap()
        .insert("absender_session".into(), session);
    let after = replay.get("/ui/identities").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location(), "/ui/sign-in");
}

#[tokio::test]
async fn a_mailed_sign_in_link_works_once_and_reveals_nothing_about_strangers() {
    let app = spawn_app().await;
    app.create_org("Acme", "de").await;
    let browser = Browser::new(&app, "de");
    let asked = browser
        .submit(
            "/ui/sign-in",
            "/ui/sign-in/link",
            &[("email", "TEAM@example.test")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    let stranger = Browser::new(&app, "de");
    let unknown = stranger
        .submit(
            "/ui/sign-in",
            "/ui/sign-in/link",
            &[("email", "nobody@example.test")],
        )
        .await;
    assert_eq!(unknown.status, asked.status);
    assert_eq!(unknown.body, asked.body, "the same answer");

    let outbox = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let mail = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"].as_str().unwrap().starts_with("Anmelden bei"))
        .expect("a sign-in mail in German")
        .clone();
    assert_eq!(mail["to"][0], "team@example.test");
    let full = app
        .json(
            Method::GET,
            &format!("/api/v1/outbox/{}", mail["id"].as_str().unwrap()),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let link = full["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("/ui/sign-in/"))
        .unwrap()
        .to_string();
    let path = link.strip_prefix(&app.base).unwrap();

    // Opening the link only shows a button (mail scanners follow links).
    let fresh = Browser::new(&app, "de");
    let shown = fresh.get(path).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Acme"));
    assert_eq!(shown.headers["referrer-policy"], "no-referrer");
    assert_eq!(fresh.get(path).await.status, StatusCode::OK, "still valid");
    let used = fresh.post(path, &[("csrf", &shown.csrf())]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    assert_eq!(used.location(), "/ui/identities");
    let list = fresh.get("/ui/identities").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Absenderadressen"));

    let again = Browser::new(&app, "de");
    let csrf = again.get("/ui/sign-in").await.csrf();
    let refused = again.post(path, &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(refused.error_code(), Some("sign_in_link_invalid"));
}

#[tokio::test]
async fn session_cookies_are_httponly_lax_and_secure_behind_https() {
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let browser = Browser::new(&app, "en");
    let page = browser.sign_in(&acme.key).await;
    let cookie = page.headers[SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("absender_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http in the tests: {cookie}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(!page.body.contains(&acme.key), "the key is not echoed");

    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        public_url: Some("https://absender.example".into()),
        ..Config::default()
    };
    let https = spawn_with(config, Some(dir)).await;
    let acme = https.create_org("Acme", "en").await;
    let page = Browser::new(&https, "en").sign_in(&acme.key).await;
    let cookie = page.headers[SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn the_language_is_the_switchers_then_the_organizations_then_the_browsers() {
    let app = spawn_app().await;
    assert!(
        Browser::new(&app, "de-DE,de;q=0.9")
            .get("/ui/sign-in")
            .await
            .body
            .contains("<h1>Anmelden</h1>")
    );
    assert!(
        Browser::new(&app, "fr, en;q=0.5")
            .get("/ui/sign-in")
            .await
            .body
            .contains("<h1>Sign in</h1>")
    );

    let acme = app.upgraded_org("Acme", "de").await;
    let browser = Browser::new(&app, "en");
    browser.sign_in(&acme.key).await;
    let page = browser.get("/ui/identities").await;
    assert!(
        page.body.contains("<html lang=\"de\">"),
        "the organization's language"
    );
    assert!(page.body.contains("<h1>Absenderadressen</h1>"));

    let switched = browser.get("/ui/lang/en?next=/ui/identities").await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.location(), "/ui/identities");
    assert!(
        browser
            .get("/ui/identities")
            .await
            .body
            .contains("<h1>Sender addresses</h1>")
    );
    // The switcher only leads back into the UI.
    for next in ["https://evil.example/", "//evil.example/ui", "/api/v1/orgs"] {
        let page = browser
            .get(&format!("/ui/lang/de?next={}", urlencode(next)))
            .await;
        assert_eq!(page.location(), "/ui", "{next}");
    }
}

#[tokio::test]
async fn bad_input_is_named_next_to_its_field_and_what_was_typed_stays() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let browser = Browser::new(&app, "en");
    browser.sign_in(&acme.key).await;

    let cases = [
        ("not-an-address", "This is not a valid email address."),
        ("events@gmail.com", "Freemail addresses cannot be verified"),
        ("", "Please fill in this field."),
        (
            "<script>x</script>@acme.test",
            "This is not a valid email address.",
        ),
    ];
    for (address, words) in cases {
        let page = browser
            .submit(
                "/ui/identities",
                "/ui/identities",
                &[("address", address), ("scope", "all")],
            )
            .await;
        assert!(page.status.is_client_error(), "{address}: {}", page.status);
        let error = page
            .body
            .split("id=\"address-error\">")
            .nth(1)
            .expect("an error at the field");
        assert!(error.starts_with(words), "{address}: {error}");
        assert!(page.body.contains("aria-invalid=\"true\""));
        assert!(!page.body.contains("<script>x"), "escaped");
        let kept = address.replace('<', "&#60;").replace('>', "&#62;");
        assert!(
            page.body.contains(&format!("value=\"{kept}\"")),
            "{address} kept"
        );
        assert!(
            page.body.contains("value=\"all\" checked"),
            "the scope kept"
        );
    }
    app.request_identity(&acme, "events@acme.test", "all").await;
    let duplicate = browser
        .submit(
            "/ui/identities",
            "/ui/identities",
            &[("address", "events@acme.test"), ("scope", "all")],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(
        duplicate
            .body
            .contains("Your organization has this address already.")
    );

    let test_mail = browser
        .submit(
            "/ui/test-mail",
            "/ui/test-mail",
            &[
                ("category", "booking"),
                ("to", ""),
                ("subject", "Kept subject"),
                ("text", "x"),
            ],
        )
        .await;
    assert_eq!(test_mail.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(test_mail.body.contains("id=\"to-error\""));
    assert!(test_mail.body.contains("value=\"Kept subject\""));
}

#[tokio::test]
async fn the_operator_sees_organizations_identities_events_queue_zones_and_outbox() {
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let browser = Browser::new(&app, "en");
    let signed = browser.sign_in(ADMIN_KEY).await;
    assert_eq!(signed.location(), "/ui/admin");
    assert_eq!(
        browser.get("/ui/identities").await.error_code(),
        Some("org_only")
    );

    // The upgrade switch.
    let orgs = browser.get("/ui/admin").await;
    assert!(orgs.body.contains("Acme"));
    let switched = browser
        .submit(
            "/ui/admin",
            &format!("/ui/admin/orgs/{}/upgrade", acme.id),
            &[("enabled", "true")],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert!(upgraded(&app, &acme).await);

    // A new organization: its key is shown once.
    let created = browser
        .submit(
            "/ui/admin",
            "/ui/admin/orgs",
            &[
                ("name", "Beta"),
                ("contact_email", "beta@example.test"),
                ("locale", "de"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let key = created
        .body
        .split("<code id=\"new-key\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(key.starts_with("abs_"));
    assert!(
        !browser.get("/ui/admin").await.body.contains(key),
        "never shown again"
    );
    let bad = browser
        .submit(
            "/ui/admin",
            "/ui/admin/orgs",
            &[
                ("name", "Gamma"),
                ("contact_email", "no address"),
                ("locale", "en"),
            ],
        )
        .await;
    assert!(bad.status.is_client_error());
    assert!(bad.body.contains("value=\"Gamma\""), "kept");

    // Identities and events after a confirmation.
    app.request_identity(&acme, "events@acme.test", "all").await;
    app.confirm("events@acme.test").await;
    let identities = browser.get("/ui/admin/identities").await;
    assert!(identities.body.contains("events@acme.test") && identities.body.contains("Acme"));
    let events = browser.get("/ui/admin/events").await;
    assert!(events.body.contains("events@acme.test"), "{}", events.body);

    // Zones: add one and a record through the forms.
    let zone = browser
        .submit(
            "/ui/admin/zones",
            "/ui/admin/zones",
            &[("name", "acme.test")],
        )
        .await;
    assert_eq!(zone.location(), "/ui/admin/zones/acme.test");
    let record = browser
        .submit(
            "/ui/admin/zones/acme.test",
            "/ui/admin/zones/acme.test/records",
            &[
                ("name", "acme.test"),
                ("type", "TXT"),
                ("value", "v=spf1 include:spf.absender.test ~all"),
            ],
        )
        .await;
    assert_eq!(record.status, StatusCode::SEE_OTHER);
    let listed = app
        .json(
            Method::GET,
            "/api/v1/dns/zones/acme.test/records",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let refused = browser
        .submit(
            "/ui/admin/zones/acme.test",
            "/ui/admin/zones/acme.test/records",
            &[("name", "other.example"), ("type", "TXT"), ("value", "x")],
        )
        .await;
    assert!(refused.status.is_client_error());
    assert!(refused.body.contains("value=\"other.example\""));

    // Queue and outbox.
    let queue = browser.get("/ui/admin/queue").await;
    assert!(
        queue.body.contains("<dd id=\"mode\">capture</dd>"),
        "{}",
        queue.body
    );
    let outbox = browser.get("/ui/admin/outbox").await;
    assert!(outbox.body.contains("Please confirm"));
}

#[tokio::test]
async fn an_organization_keeps_its_suppressions_smtp_logins_and_addresses_to_itself() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let other = app.upgraded_org("Other", "en").await;
    let browser = Browser::new(&app, "en");
    browser.sign_in(&acme.key).await;
    let intruder = Browser::new(&app, "en");
    intruder.sign_in(&other.key).await;
    let intruder_csrf = intruder.get("/ui/identities").await.csrf();

    // Suppressions: added and removed by form, errors at the field.
    let bad = browser
        .submit(
            "/ui/suppressions",
            "/ui/suppressions",
            &[("address", "no address")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"address-error\"") && bad.body.contains("value=\"no address\""));
    let added = browser
        .submit(
            "/ui/suppressions",
            "/ui/suppressions",
            &[("address", "Gast@Example.test")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let listed = items(&app, &acme, "/api/v1/suppressions").await;
    assert_eq!(listed[0]["address"], "gast@example.test");
    assert!(
        browser
            .get("/ui/suppressions")
            .await
            .body
            .contains("gast@example.test")
    );
    assert!(
        !intruder
            .get("/ui/suppressions")
            .await
            .body
            .contains("gast@example.test")
    );
    let foreign = intruder
        .post(
            "/ui/suppressions/remove",
            &[("csrf", &intruder_csrf), ("address", "gast@example.test")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "not on its list");
    let removed = browser
        .submit(
            "/ui/suppressions",
            "/ui/suppressions/remove",
            &[("address", "gast@example.test")],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let listed = items(&app, &acme, "/api/v1/suppressions").await;
    assert!(listed.is_empty());

    // SMTP logins: the password once, then only the user name; revoked by form.
    let created = browser
        .submit("/ui/smtp", "/ui/smtp", &[("description", "booking app")])
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let password = created
        .body
        .split("<code id=\"new-password\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(password.len() >= 32, "{password}");
    let page = browser.get("/ui/smtp").await;
    assert!(page.body.contains("booking app") && !page.body.contains(password));
    let logins = items(&app, &acme, "/api/v1/smtp-credentials").await;
    let login = logins[0]["id"].as_str().unwrap().to_string();
    let foreign = intruder
        .post(
            &format!("/ui/smtp/{login}/revoke"),
            &[("csrf", &intruder_csrf)],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let revoked = browser
        .submit("/ui/smtp", &format!("/ui/smtp/{login}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let logins = items(&app, &acme, "/api/v1/smtp-credentials").await;
    assert!(logins.is_empty());

    // Access keys beside them: the secret once, revoked by form, not by others.
    let created = browser
        .submit("/ui/access-keys", "/ui/access-keys", &[])
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let secret = created
        .body
        .split("<code id=\"new-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert_eq!(secret.len(), 40, "{secret}");
    let keys = items(&app, &acme, "/api/v1/access-keys").await;
    let key_id = keys[0]["access_key_id"].as_str().unwrap().to_string();
    let page = browser.get("/ui/access-keys").await;
    assert!(page.body.contains(&key_id) && !page.body.contains(secret));
    let key = keys[0]["id"].as_str().unwrap().to_string();
    let foreign = intruder
        .post(
            &format!("/ui/access-keys/{key}/revoke"),
            &[("csrf", &intruder_csrf)],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let revoked = browser
        .submit(
            "/ui/access-keys",
            &format!("/ui/access-keys/{key}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert!(items(&app, &acme, "/api/v1/access-keys").await.is_empty());

    // Removing an address asks first; only its organization can.
    let identity = app.request_identity(&acme, "events@acme.test", "all").await;
    let id = identity["id"].as_str().unwrap();
    let ask = browser.get(&format!("/ui/identities/{id}/delete")).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("Remove events@acme.test?"));
    assert_eq!(
        intruder
            .get(&format!("/ui/identities/{id}/delete"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let foreign = intruder
        .post(
            &format!("/ui/identities/{id}/delete"),
            &[("csrf", &intruder_csrf)],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(
        browser
            .post(&format!("/ui/identities/{id}/delete"), &[])
            .await
            .error_code(),
        Some("csrf_invalid")
    );
    assert_eq!(identities_of(&app, &acme).await.len(), 1);
    let done = browser
        .submit(
            &format!("/ui/identities/{id}/delete"),
            &format!("/ui/identities/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(done.location(), "/ui/identities?done=removed");
    assert!(browser.get(done.location()).await.body.contains("Removed."));
    assert!(identities_of(&app, &acme).await.is_empty());
}

#[tokio::test]
async fn findings_are_shown_in_the_pages_language_and_the_api_keeps_the_organizations() {
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "de").await;
    let identity = app
        .request_identity(&acme, "events@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    app.confirm("events@acme.test").await;
    // Every record published, then the first DKIM CNAME pointed elsewhere.
    let published = app.publish(&acme, &identity).await;
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    let cname = &records["records"][0];
    assert_eq!(cname["type"], "CNAME");
    let path = format!("/api/v1/dns/zones/acme.test/records/{}", published[0]);
    app.call(Method::DELETE, &path, Some(ADMIN_KEY), None).await;
    let name = cname["name"].as_str().unwrap();
    app.record("acme.test", name, "CNAME", "elsewhere.example.test")
        .await;

    let checked = app.check(&acme, id).await;
    let finding = &checked["parts"]["dkim"]["diagnostics"][0];
    assert_eq!(finding["code"], "cname_wrong_target", "{checked}");
    let german = finding["message"].as_str().unwrap();
    assert!(
        german.contains("zeigt auf"),
        "the API in the organization's language: {german}"
    );

    let browser = Browser::new(&app, "en");
    browser.sign_in(&acme.key).await;
    let page = format!("/ui/identities/{id}");
    assert!(browser.get(&page).await.body.contains("zeigt auf"));
    browser.get(&format!("/ui/lang/en?next={page}")).await;
    let english = browser.get(&page).await.body;
    assert!(
        english.contains("but must point to") && !english.contains("zeigt auf"),
        "{english}"
    );
    let live = browser.get(&format!("{page}/live")).await.body;
    assert!(live.contains("but must point to"), "{live}");
}

#[tokio::test]
async fn templates_are_written_previewed_and_kept_to_their_organization_in_the_ui() {
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let browser = Browser::new(&app, "en");
    browser.sign_in(&acme.key).await;
    let fields = [
        ("name", "welcome"),
        ("subject", "Hello {{name}}"),
        ("text", "Hi {{name}}"),
        ("html", "<p>{{name}}</p>"),
    ];
    let created = browser
        .submit("/ui/templates", "/ui/templates", &fields)
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.headers[LOCATION], "/ui/templates/welcome");
    let stored = items(&app, &acme, "/api/v1/templates").await;
    assert_eq!(stored[0]["html"], "<p>{{name}}</p>");

    // A preview with sample data: the HTML part escaped, shown as source.
    let preview = browser
        .submit(
            "/ui/templates/welcome",
            "/ui/templates/welcome/preview",
            &[("data", r#"{"name": "<Ada>"}"#)],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("Hello &#60;Ada&#62;"),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains("&#60;p&#62;&#38;lt;Ada&#38;gt;&#60;/p&#62;"),
        "{}",
        preview.body
    );
    let missing = browser
        .submit(
            "/ui/templates/welcome",
            "/ui/templates/welcome/preview",
            &[("data", "{}")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("id=\"template-error\""));

    // A template that does not parse is refused on the form, nothing saved.
    let broken = browser
        .submit(
            "/ui/templates/welcome",
            "/ui/templates/welcome",
            &[("subject", "{{#if x}}"), ("text", "t")],
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        items(&app, &acme, "/api/v1/templates").await[0]["subject"],
        "Hello {{name}}"
    );
    let saved = browser
        .submit(
            "/ui/templates/welcome",
            "/ui/templates/welcome",
            &[("subject", "Hallo {{name}}"), ("text", "Hallo")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let stored = items(&app, &acme, "/api/v1/templates").await;
    assert_eq!(stored[0]["subject"], "Hallo {{name}}");
    assert_eq!(stored[0]["html"], Value::Null, "an emptied part is gone");

    // Another organization sees none of it and cannot delete it.
    let other = app.create_org("Other", "en").await;
    let intruder = Browser::new(&app, "en");
    intruder.sign_in(&other.key).await;
    assert_eq!(
        intruder.get("/ui/templates/welcome").await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = intruder.get("/ui/templates").await.csrf();
    let foreign = intruder
        .post("/ui/templates/welcome/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let deleted = browser
        .submit("/ui/templates/welcome", "/ui/templates/welcome/delete", &[])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(items(&app, &acme, "/api/v1/templates").await.is_empty());
}

#[tokio::test]
async fn webhook_destinations_show_their_attempts_and_send_test_events_in_the_ui() {
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let browser = Browser::new(&app, "en");
    browser.sign_in(&acme.key).await;
    let created = browser
        .submit(
            "/ui/webhooks",
            "/ui/webhooks",
            &[
                ("url", "http://127.0.0.1:9/hook"),
                ("description", "ops"),
                ("event_Bounce", "on"),
                ("event_IdentityVerified", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let secret = created
        .body
        .split("<code id=\"new-webhook-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let hooks = items(&app, &acme, "/api/v1/webhooks").await;
    assert_eq!(
        hooks[0]["events"],
        serde_json::json!(["Bounce", "IdentityVerified"])
    );
    assert_eq!(hooks[0]["description"], "ops");
    let id = hooks[0]["id"].as_str().unwrap().to_string();

    // Another organization cannot send its test events or delete it.
    let intruder = Browser::new(&app, "en");
    let other = app.create_org("Other", "en").await;
    intruder.sign_in(&other.key).await;
    let foreign = intruder
        .submit("/ui/webhooks", &format!("/ui/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // The test event's attempt shows on the page (this server refuses
    // loopback targets: the reason is the attempt's outcome).
    let tested = browser
        .submit("/ui/webhooks", &format!("/ui/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = browser.get("/ui/webhooks").await;
        assert!(!page.body.contains(secret), "the secret is shown once");
        if page.body.contains("special-purpose") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", page.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let removed = browser
        .submit("/ui/webhooks", &format!("/ui/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(items(&app, &acme, "/api/v1/webhooks").await.is_empty());
}

#[tokio::test]
async fn the_dashboard_draws_30_days_and_shows_reputation_and_quota_use() {
    let app = spawn_app().await;
    let (acme, _) = crate::messages::acme(&app).await;
    for to in ["a@example.test", "b@example.test"] {
        crate::messages::accepted(
            &app,
            &acme,
            crate::messages::booking(serde_json::json!({"to": [to]})),
        )
        .await;
    }
    app.json(
        Method::PATCH,
        &format!("/api/v1/orgs/{}", acme.id),
        Some(ADMIN_KEY),
        Some(serde_json::json!({"max_24h_send": 500})),
        StatusCode::OK,
    )
    .await;
    let browser = Browser::new(&app, "en");
    browser.sign_in(&acme.key).await;
    let page = browser.get("/ui/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    // The chart is SVG drawn on the server, with its numbers as a table.
    assert!(body.contains("<svg class=\"chart\""), "{body}");
    assert_eq!(body.matches("<polyline").count(), 4);
    assert_eq!(body.matches("<tr><th scope=\"row\">").count(), 30);
    let today =
        &absender_core::events::timestamp(absender_service::Clock::now_ms(&*app.clock))[..10];
    assert!(
        body.contains(&format!("<tr><th scope=\"row\">{today}</th><td>2</td>")),
        "today's two sends: {body}"
    );
    assert!(body.contains("id=\"reputation-state\">HEALTHY<"), "{body}");
    assert!(body.contains("id=\"sent-24h\">2 / 500<"), "{body}");
    // Signed out, the page is not shown.
    let stranger = Browser::new(&app, "en");
    let refused = stranger.get("/ui/dashboard").await;
    assert_ne!(refused.status, StatusCode::OK);
}
