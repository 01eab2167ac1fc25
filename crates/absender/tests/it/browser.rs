//! The web UI in a real browser: Debian's headless Chromium driven through
//! chromedriver (fantoccini) against the shipped `absender serve`. An
//! organization signs in, adds events@acme.test, confirms it through the link
//! in the outbox, sees the three CNAMEs and the SPF record, publishes them
//! in the local zone and watches the status turn SUCCESS without a reload,
//! chooses the sender for bookings and sends a test mail that the outbox
//! shows signed for acme.test; then the same in German. Each step leaves a
//! screenshot in the folder the test prints.

use crate::binary::serve_with;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "abs_admin_browser-test-key";
const WAIT: Duration = Duration::from_secs(30);

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// chromedriver with a headless Chromium; both killed when dropped.
struct Browser {
    client: Option<Client>,
    driver: Child,
    shots: PathBuf,
    step: usize,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(accept_language: &str, shots: PathBuf) -> Browser {
        Self::start_with(accept_language, shots, true).await
    }

    /// A browser whose pages run no script at all when `javascript` is false.
    async fn start_with(accept_language: &str, shots: PathBuf, javascript: bool) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(env_or(
            "ABSENDER_TEST_CHROMEDRIVER",
            "/usr/bin/chromedriver",
        ))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver from Debian's chromium-driver (.ci/run installs it)");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": env_or("ABSENDER_TEST_CHROMIUM", "/usr/bin/chromium"),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1200,1000", format!("--lang={accept_language}"),
                         format!("--blink-settings=scriptEnabled={javascript}")],
                "prefs": {
                    "intl.accept_languages": accept_language,
                    // 1 allows scripts, 2 blocks them.
                    "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 },
                },
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no browser session: {e}"),
            }
        };
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client: Some(client),
            driver,
            shots,
            step: 0,
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    async fn shot(&mut self, name: &str) {
        self.step += 1;
        let png = self.c().screenshot().await.unwrap();
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        std::fs::write(&path, png).unwrap();
    }

    async fn goto(&self, url: &str) {
        self.c().goto(url).await.unwrap();
    }

    /// The element's text, once it is there. Read in one script: the live
    /// status may replace elements between two WebDriver calls.
    async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self
                .c()
                .execute(
                    "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : null;",
                    vec![json!(css)],
                )
                .await
                .unwrap();
            if let Some(text) = text.as_str() {
                return text.to_string();
            }
            assert!(Instant::now() < deadline, "no {css}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let value = self
            .c()
            .execute(
                "const e = document.querySelector(arguments[0]); if (!e) throw new Error('no ' + arguments[0]); return e.getAttribute(arguments[1]);",
                vec![json!(css), json!(name)],
            )
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        value.as_str().map(str::to_string)
    }

    async fn fill(&self, css: &str, value: &str) {
        let field = self.c().find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Marks the page, so that [`Browser::wait_new_page`] sees it replaced.
    async fn mark_page(&self) {
        self.c()
            .execute("window.__oldPage = true;", vec![])
            .await
            .unwrap();
    }

    async fn wait_new_page(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let loaded = self
                .c()
                .execute(
                    "return window.__oldPage !== true && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .unwrap();
            if loaded == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "no new page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks a submit button or link and waits for the next page to load.
    async fn submit(&self, css: &str) {
        self.mark_page().await;
        self.click(css).await;
        self.wait_new_page().await;
    }

    /// What an accessibility audit would flag first: controls without a
    /// label, buttons without a name, text below WCAG AA contrast (4.5:1).
    async fn audit(&self, page: &str) {
        let problems = self.c().execute(ACCESSIBILITY_AUDIT, vec![]).await.unwrap();
        assert_eq!(problems, json!([]), "accessibility of {page}");
    }

    /// Presses Tab until the element with `id` has the focus.
    async fn tab_to(&self, id: &str) {
        for _ in 0..20 {
            let focused = self.c().active_element().await.unwrap();
            if focused.attr("id").await.unwrap().as_deref() == Some(id) {
                return;
            }
            focused.send_keys("\u{E004}").await.unwrap();
        }
        panic!("#{id} cannot be reached with Tab");
    }

    async fn path(&self) -> String {
        self.c().current_url().await.unwrap().path().to_string()
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            client.close().await.unwrap();
        }
    }
}

/// Unlabelled controls, nameless buttons and low-contrast text on the page.
const ACCESSIBILITY_AUDIT: &str = r#"
const problems = [];
const visible = (e) => e.offsetParent !== null || e.getClientRects().length > 0;
for (const e of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
  if (!(e.labels && e.labels.length) && !e.getAttribute("aria-label")) problems.push("no label: " + e.outerHTML);
}
for (const b of document.querySelectorAll("button, a")) {
  if (visible(b) && !b.innerText.trim() && !b.getAttribute("aria-label")) problems.push("no name: " + b.outerHTML);
}
const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const background = (e) => {
  for (let n = e; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
  }
  return [255, 255, 255];
};
for (const e of document.querySelectorAll("body *")) {
  const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !visible(e)) continue;
  const fg = lum(rgb(getComputedStyle(e).color)), bg = lum(background(e));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) problems.push("contrast " + ratio.toFixed(2) + ": " + e.tagName + " " + e.textContent.trim().slice(0, 40));
}
return problems;
"#;

/// What the page's words are in each language.
struct Words {
    lang: &'static str,
    sign_in: &'static str,
    identities: &'static str,
    verification_subject: &'static str,
    verified: &'static str,
    saved: &'static str,
    accepted: &'static str,
}

const EN: Words = Words {
    lang: "en",
    sign_in: "Sign in",
    identities: "Sender addresses",
    verification_subject: "Please confirm",
    verified: "Verified",
    saved: "Saved.",
    accepted: "The mail was accepted.",
};

const DE: Words = Words {
    lang: "de",
    sign_in: "Anmelden",
    identities: "Absenderadressen",
    verification_subject: "Bitte bestätigen",
    verified: "Verifiziert",
    saved: "Gespeichert.",
    accepted: "Die Mail wurde angenommen.",
};

/// The link in the verification mail to events@acme.test, from the
/// operator's capture outbox (the organization is never shown it).
async fn verification_link(http: &reqwest::Client, base: &str) -> String {
    let outbox = api(
        http,
        reqwest::Method::GET,
        format!("{base}/api/v1/outbox"),
        None,
    )
    .await;
    let mail = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["to"][0] == "events@acme.test")
        .expect("the verification mail in the operator's outbox")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!("{base}/api/v1/outbox/{mail}");
    let full = api(http, reqwest::Method::GET, url, None).await;
    crate::helpers::verify_link_in(full["text"].as_str().unwrap()).expect("a link in the mail")
}

async fn api(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Value {
    let mut request = http.request(method, url).bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    if response.status() == StatusCode::NO_CONTENT {
        return Value::Null;
    }
    response.json().await.unwrap_or(Value::Null)
}

fn screenshots(lang: &str) -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, PathBuf::from);
    base.join("ui-screenshots").join(lang)
}

/// `absender serve` with an organization (upgrade on, in `lang`), the local
/// zone acme.test and the platform's key published; the server and its key.
async fn platform(lang: &str) -> (crate::binary::Server, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = tokio::task::spawn_blocking({
        let data_dir = dir.path().to_path_buf();
        move || serve_with(&data_dir, &[], &[("ABSENDER_ADMIN_KEY", ADMIN)])
    })
    .await
    .unwrap();
    let base = server.url.clone();
    let http = reqwest::Client::new();
    use reqwest::Method;

    // The platform: an organization with the upgrade, and the customer's zone
    // served by absender's own DNS (so that nothing leaves the machine).
    let created = api(
        &http,
        Method::POST,
        format!("{base}/api/v1/orgs"),
        Some(json!({"name": "Acme Events", "contact_email": "team@acme.test", "locale": lang})),
    )
    .await;
    let org_id = created["id"].as_str().unwrap().to_string();
    let key = created["api_key"].as_str().unwrap().to_string();
    api(
        &http,
        Method::PATCH,
        format!("{base}/api/v1/orgs/{org_id}"),
        Some(json!({"custom_sender_enabled": true})),
    )
    .await;
    api(
        &http,
        Method::POST,
        format!("{base}/api/v1/dns/zones"),
        Some(json!({"name": "acme.test"})),
    )
    .await;
    // The platform's own key, published as the operator would (here locally too).
    api(
        &http,
        Method::POST,
        format!("{base}/api/v1/dns/zones"),
        Some(json!({"name": "absender.test"})),
    )
    .await;
    let platform = api(
        &http,
        Method::GET,
        format!("{base}/api/v1/platform/dns-records"),
        None,
    )
    .await;
    for r in platform["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "CNAME")
    {
        api(
            &http,
            Method::POST,
            format!("{base}/api/v1/dns/zones/absender.test/records"),
            Some(json!({"name": r["name"], "type": "CNAME", "value": r["value"]})),
        )
        .await;
    }

    (server, dir, key)
}

/// Whether chromedriver and Chromium are there (else the test is skipped, or fails in CI).
fn browser_available(test: &str) -> bool {
    let driver = crate::tools::program(
        test,
        "/usr/bin/chromedriver",
        Some("ABSENDER_TEST_CHROMEDRIVER"),
        "chromium-driver",
    );
    driver.is_some()
        && crate::tools::program(
            test,
            "/usr/bin/chromium",
            Some("ABSENDER_TEST_CHROMIUM"),
            "chromium",
        )
        .is_some()
}

async fn setup_in_a_browser(words: &Words) {
    if !browser_available(&format!("setup_in_a_browser ({})", words.lang)) {
        return;
    }
    let (server, _dir, key) = platform(words.lang).await;
    let base = server.url.clone();
    let http = reqwest::Client::new();

    let shots = screenshots(words.lang);
    let _ = std::fs::remove_dir_all(&shots);
    println!("screenshots ({}): {}", words.lang, shots.display());
    let mut b = Browser::start(words.lang, shots).await;

    // Sign in with the organization's key.
    b.goto(&format!("{base}/ui")).await;
    assert_eq!(b.path().await, "/ui/sign-in");
    assert_eq!(b.text("h1").await, words.sign_in);
    b.shot("sign-in").await;
    b.audit("the sign-in page").await;
    // By keyboard only: Tab to the key field, type it, Enter.
    b.tab_to("key").await;
    b.mark_page().await;
    let focused = b.c().active_element().await.unwrap();
    focused.send_keys(&format!("{key}\u{E007}")).await.unwrap();
    b.wait_new_page().await;
    assert_eq!(b.text("h1").await, words.identities);
    assert_eq!(b.text("#who").await, "Acme Events");
    b.audit("the identities page").await;
    assert_eq!(b.path().await, "/ui/identities");

    // A bad address is refused next to the field and kept.
    b.fill("#address", "events@@acme").await;
    b.submit("form[action='/ui/identities'] button[type=submit]")
        .await;
    assert!(!b.text("#address-error").await.is_empty());
    assert_eq!(
        b.attr("#address", "value").await.as_deref(),
        Some("events@@acme")
    );
    b.audit("a form with an error").await;
    b.shot("bad-address").await;

    // Add events@acme.test: on to its setup page.
    b.fill("#address", "events@acme.test").await;
    b.submit("form[action='/ui/identities'] button[type=submit]")
        .await;
    assert_eq!(b.text("h1").await, "events@acme.test");
    let identity_path = b.path().await;
    assert!(
        identity_path.starts_with("/ui/identities/idn_"),
        "{identity_path}"
    );
    assert_eq!(
        b.attr("#identity-status", "data-status").await.as_deref(),
        Some("PENDING")
    );
    b.audit("the wizard").await;
    b.shot("wizard-pending").await;

    // The organization's outbox never shows the link (only the mailbox
    // does); the operator's capture outbox plays the address owner's mailbox.
    b.goto(&format!("{base}/ui/outbox")).await;
    let listed = b.text("main").await;
    assert!(
        !listed.contains(words.verification_subject),
        "the verification mail is not the organization's to read: {listed}"
    );
    let link = verification_link(&http, &base).await;
    assert!(link.starts_with(&format!("{base}/verify/")), "{link}");
    b.goto(&link).await;
    b.submit("form button[type=submit]").await;
    b.shot("address-confirmed").await;

    // The records: three CNAMEs and the SPF TXT, each with a value to copy.
    b.goto(&format!("{base}{identity_path}")).await;
    assert_eq!(
        b.attr(".step:first-of-type .badge", "data-status")
            .await
            .as_deref(),
        Some("SUCCESS")
    );
    let records = records_shown(&b).await;
    let cnames: Vec<_> = records.iter().filter(|r| r.1 == "CNAME").collect();
    assert_eq!(cnames.len(), 3, "{records:?}");
    assert!(
        cnames
            .iter()
            .all(|r| r.0.ends_with("._domainkey.acme.test")),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .any(|r| r.0 == "acme.test" && r.1 == "TXT" && r.2.starts_with("v=spf1 ")),
        "{records:?}"
    );
    let copy_buttons = b
        .c()
        .find_all(Locator::Css("#records button.copy"))
        .await
        .unwrap();
    assert!(!copy_buttons.is_empty());
    assert!(
        copy_buttons[0].is_displayed().await.unwrap(),
        "copy buttons shown with JavaScript"
    );
    b.shot("records").await;

    // Publish them; the page is not reloaded and turns SUCCESS by itself.
    b.c()
        .execute("window.__stillTheSamePage = 42;", vec![])
        .await
        .unwrap();
    publish(&http, &base, &records).await;
    let published = Instant::now();
    let deadline = published + WAIT;
    loop {
        let status = b.attr("#identity-status", "data-status").await;
        if status.as_deref() == Some("SUCCESS") {
            break;
        }
        assert!(Instant::now() < deadline, "still {status:?} after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "({}) the page showed SUCCESS {} ms after the last record was published",
        words.lang,
        published.elapsed().as_millis()
    );
    let same = b
        .c()
        .execute("return window.__stillTheSamePage;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(42), "the status changed without a reload");
    assert_eq!(b.text("#identity-status").await, words.verified);
    assert!(b.text("#done").await.contains("acme.test"));
    b.audit("the verified wizard").await;
    b.shot("verified-live").await;

    // Choose it for bookings.
    b.goto(&format!("{base}/ui/send-settings")).await;
    let identity_id = identity_path.rsplit('/').next().unwrap().to_string();
    b.click(&format!("#booking option[value='{identity_id}']"))
        .await;
    b.submit("form[action='/ui/send-settings'] button[type=submit]")
        .await;
    assert_eq!(b.text("p.notice").await, words.saved);
    let chosen = b
        .c()
        .find(Locator::Css("#booking"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(chosen.as_deref(), Some(identity_id.as_str()));
    b.audit("the send settings").await;
    b.shot("send-settings").await;

    // A test mail: the outbox shows it from events@acme.test, signed for acme.test.
    b.goto(&format!("{base}/ui/test-mail")).await;
    b.fill("#to", "guest@example.test").await;
    b.shot("test-mail").await;
    b.submit("form[action='/ui/test-mail'] button[type=submit]")
        .await;
    assert_eq!(b.text("p.notice").await, words.accepted);
    assert!(b.text("#from").await.contains("events@acme.test"));
    let signatures = b.c().find_all(Locator::Css("#dkim li")).await.unwrap();
    let mut verdicts = Vec::new();
    for s in signatures {
        let domain = s
            .find(Locator::Css(".dkim-domain"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let result = s
            .find(Locator::Css(".badge"))
            .await
            .unwrap()
            .attr("data-result")
            .await
            .unwrap();
        verdicts.push((domain, result.unwrap_or_default()));
    }
    assert!(
        verdicts.contains(&("acme.test".to_string(), "pass".to_string())),
        "{verdicts:?}"
    );
    assert!(
        verdicts.contains(&("absender.test".to_string(), "pass".to_string())),
        "and the platform's: {verdicts:?}"
    );
    b.audit("the outbox message").await;
    b.shot("test-mail-signed").await;

    // The switcher changes the language of the page at hand.
    let other = if words.lang == "en" { "de" } else { "en" };
    b.submit(&format!(".lang a[lang={other}]")).await;
    assert_eq!(b.attr("html", "lang").await.as_deref(), Some(other));
    assert!(b.path().await.starts_with("/ui/outbox/"));
    b.shot("language-switched").await;

    // The audit itself sees what it looks for.
    let flagged = b
        .c()
        .execute(
            &format!(
                "const main = document.querySelector('main'); \
                 const faint = document.createElement('p'); faint.textContent = 'faint'; faint.style.color = '#bbb'; \
                 main.append(faint, document.createElement('input')); {ACCESSIBILITY_AUDIT}"
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(flagged.as_array().map(Vec::len), Some(2), "{flagged}");

    // The organization's other pages pass the audit too.
    for (path, name) in [
        ("/ui/suppressions", "suppressions"),
        ("/ui/smtp", "smtp-logins"),
        ("/ui/access-keys", "access-keys"),
        ("/ui/templates", "templates"),
        ("/ui/webhooks", "webhooks"),
        ("/ui/dashboard", "dashboard"),
    ] {
        b.goto(&format!("{base}{path}")).await;
        b.audit(path).await;
        b.shot(name).await;
    }

    // A phone-sized window: the wizard still reads well (screenshot only).
    b.c().set_window_size(390, 900).await.unwrap();
    b.goto(&format!("{base}{identity_path}")).await;
    b.shot("phone-wizard").await;

    // The operator: sign out, sign in with the admin key, every page.
    b.c().set_window_size(1200, 1000).await.unwrap();
    b.submit("form[action='/ui/sign-out'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/ui/sign-in");
    b.fill("#key", ADMIN).await;
    b.submit("form[action='/ui/sign-in'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/ui/admin");
    for (path, name) in [
        ("/ui/admin", "operator-organizations"),
        ("/ui/admin/identities", "operator-identities"),
        ("/ui/admin/events", "operator-events"),
        ("/ui/admin/outbox", "operator-outbox"),
        ("/ui/admin/queue", "operator-queue"),
        ("/ui/admin/zones/acme.test", "operator-zone"),
    ] {
        b.goto(&format!("{base}{path}")).await;
        b.audit(path).await;
        b.shot(name).await;
    }
    assert!(
        b.text("#zone-records")
            .await
            .contains("_domainkey.acme.test")
    );
    b.close().await;
    drop(server);
}

/// The records table of the wizard as (name, type, value), read without
/// JavaScript.
async fn records_shown(b: &Browser) -> Vec<(String, String, String)> {
    let rows = b
        .c()
        .find_all(Locator::Css("#records tbody tr"))
        .await
        .unwrap();
    let mut records = Vec::new();
    for row in rows {
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        let name = cells[0]
            .find(Locator::Css(".rec-name"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let rtype = row.attr("data-type").await.unwrap().unwrap();
        let value = cells[2]
            .find(Locator::Css(".rec-value"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        records.push((name, rtype, value));
    }
    records
}

/// Publishes records in the local zone acme.test, as the customer would at
/// their DNS provider.
async fn publish(http: &reqwest::Client, base: &str, records: &[(String, String, String)]) {
    for (name, rtype, value) in records {
        api(
            http,
            reqwest::Method::POST,
            format!("{base}/api/v1/dns/zones/acme.test/records"),
            Some(json!({"name": name, "type": rtype, "value": value})),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_sets_up_its_sender_in_a_real_browser() {
    setup_in_a_browser(&EN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_setup_in_german() {
    setup_in_a_browser(&DE).await;
}

/// Waits until the page has an `h1` with exactly `title` (no script needed).
async fn wait_for_title(b: &Browser, title: &str) {
    b.c()
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&format!(
            "//h1[normalize-space()='{title}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no page titled {title:?}: {e}"));
}

/// The core flow with scripts switched off in the browser: forms and
/// reloads only, the "check now" button instead of the live status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_flow_works_without_javascript() {
    if !browser_available("the_core_flow_works_without_javascript") {
        return;
    }
    let (server, _dir, key) = platform("en").await;
    let base = server.url.clone();
    let http = reqwest::Client::new();
    let shots = screenshots("no-javascript");
    let _ = std::fs::remove_dir_all(&shots);
    println!("screenshots (no JavaScript): {}", shots.display());
    let mut b = Browser::start_with("en", shots, false).await;

    b.goto(&format!("{base}/ui")).await;
    b.fill("#key", &key).await;
    b.click("form[action='/ui/sign-in'] button[type=submit]")
        .await;
    wait_for_title(&b, "Sender addresses").await;
    b.fill("#address", "events@acme.test").await;
    b.click("form[action='/ui/identities'] button[type=submit]")
        .await;
    wait_for_title(&b, "events@acme.test").await;
    let copy = b
        .c()
        .find(Locator::Css("#records button.copy"))
        .await
        .unwrap();
    assert!(
        !copy.is_displayed().await.unwrap(),
        "scripts are really off: no copy buttons"
    );
    b.shot("wizard").await;

    // The owner confirms (the link from the mail, posted as the page would),
    // the records are published, then "check now".
    let link = verification_link(&http, &base).await;
    assert!(http.post(&link).send().await.unwrap().status().is_success());
    let wizard = format!("{base}/ui/identities");
    b.goto(&wizard).await;
    b.click("#identities a").await;
    wait_for_title(&b, "events@acme.test").await;
    let records = records_shown(&b).await;
    publish(&http, &base, &records).await;
    b.click("form[action$='/check'] button[type=submit]").await;
    b.c()
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("p.notice[role=status]"))
        .await
        .unwrap();
    let status = b
        .c()
        .find(Locator::Css("#identity-status"))
        .await
        .unwrap()
        .attr("data-status")
        .await
        .unwrap();
    assert_eq!(status.as_deref(), Some("SUCCESS"));
    b.shot("verified-after-check-now").await;
    b.close().await;
    drop(server);
}
