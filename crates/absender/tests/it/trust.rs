//! What one organization may never do: confirm an address it does not own,
//! speak with a second author, forge reports, send past a withdrawn upgrade
//! or key. Each test plays the attack.

use crate::binary::cli;
use crate::delivery::{relay_config, report, return_path_of};
use crate::helpers::{ADMIN_KEY, Org, TestApp, spawn_app, spawn_with};
use crate::smtp_sink::SmtpSink;
use crate::smtp_submission::{client, credential, queued_id, submit};
use crate::ui::Browser;
use lettre::transport::smtp::authentication::Mechanism;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every response an organization's key or session gets about its identity
/// `id` and its mail: API, UI pages and CLI.
async fn everything_the_org_sees(app: &TestApp, org: &Org, id: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut get = async |path: String| {
        let response = app.call(Method::GET, &path, Some(&org.key), None).await;
        let body = response.text().await.unwrap();
        seen.push((path, body.clone()));
        body
    };
    let outbox: Value = serde_json::from_str(&get("/api/v1/outbox".into()).await).unwrap();
    let mut mail_ids: Vec<String> = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    // Mail the organization is not shown may still be asked for by id.
    for m in app.operator_outbox().await {
        mail_ids.push(m["id"].as_str().unwrap().to_string());
    }
    for path in [
        "/api/v1/identities".to_string(),
        format!("/api/v1/identities/{id}"),
        format!("/api/v1/identities/{id}/events"),
        format!("/api/v1/identities/{id}/dns-records"),
    ] {
        get(path).await;
    }
    for mail in &mail_ids {
        get(format!("/api/v1/outbox/{mail}")).await;
        get(format!("/api/v1/outbox/{mail}/raw")).await;
        get(format!("/api/v1/messages/{mail}")).await;
    }

    let browser = Browser::new(app, "en");
    browser.sign_in(&org.key).await;
    let mut pages = vec![
        "/ui".to_string(),
        "/ui/identities".to_string(),
        format!("/ui/identities/{id}"),
        format!("/ui/identities/{id}/live"),
        "/ui/outbox".to_string(),
    ];
    for mail in &mail_ids {
        pages.push(format!("/ui/outbox/{mail}"));
        pages.push(format!("/ui/outbox/{mail}/raw"));
    }
    for page in pages {
        let body = browser.get(&page).await.body;
        seen.push((page, body));
    }

    let base = app.base.clone();
    let key = org.key.clone();
    let id = id.to_string();
    let cli_runs = tokio::task::spawn_blocking(move || {
        let mut runs = vec![
            vec!["outbox", "list", "--json"],
            vec!["identity", "list", "--json"],
            vec!["identity", "show", &id, "--json"],
            vec!["identity", "events", &id, "--json"],
        ];
        for mail in &mail_ids {
            runs.push(vec!["outbox", "show", mail, "--json"]);
        }
        runs.into_iter()
            .map(|args| {
                let out = cli(&base, Some(&key), &args);
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                (format!("absender {}", args.join(" ")), text)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    seen.extend(cli_runs);
    seen
}

/// The token of a `/verify/<token>` link.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn in_relay_mode_only_the_mailbox_sees_the_verification_link() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_with(relay_config(&sink, 2, dir.path()), Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let org = app.upgraded_org("Acme", "en").await;
    // The organization asks for an address it does not own.
    let identity = app
        .request_identity(&org, "ceo@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    let link = app.verification_link("ceo@acme.test").await;
    let token = token_of(&link);
    // The results writer drops the queued bytes once the delivery is written.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    for (what, body) in everything_the_org_sees(&app, &org, id).await {
        assert!(!body.contains(&token), "{what} shows the token: {body}");
    }
    // The operator's outbox keeps at most a redacted copy.
    for m in app.operator_outbox().await {
        let path = format!("/api/v1/outbox/{}/raw", m["id"].as_str().unwrap());
        let raw = app.call(Method::GET, &path, Some(ADMIN_KEY), None).await;
        assert!(!raw.text().await.unwrap().contains(&token), "{path}");
    }

    // The link was real: the owner confirms with it.
    let confirmed = app.call(Method::POST, &link, None, None).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let after = app.identity(&org, id).await;
    assert_eq!(after["parts"]["address"]["status"], "SUCCESS", "{after}");
}

#[tokio::test]
async fn in_capture_mode_the_operator_sees_the_link_and_the_organization_does_not() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "ceo@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    // A sign-in link to the organization's contact is a live secret too.
    let browser = Browser::new(&app, "en");
    let contact = app
        .json(
            Method::GET,
            &format!("/api/v1/orgs/{}", org.id),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await["contact_email"]
        .as_str()
        .unwrap()
        .to_string();
    browser
        .submit("/ui/sign-in", "/ui/sign-in/link", &[("email", &contact)])
        .await;

    let link = app.verification_link("ceo@acme.test").await;
    let token = token_of(&link);
    let operator_outbox = app.operator_outbox().await;
    let sign_in_mail = operator_outbox
        .iter()
        .find(|m| m["to"][0] == contact.as_str())
        .unwrap_or_else(|| panic!("the sign-in link mail in {operator_outbox:?}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sign_in_text = app
        .json(
            Method::GET,
            &format!("/api/v1/outbox/{sign_in_mail}"),
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await["text"]
        .as_str()
        .unwrap()
        .to_string();
    let sign_in_token = sign_in_text
        .split_whitespace()
        .find(|w| w.contains("/ui/sign-in/"))
        .map(token_of)
        .expect("a sign-in link");

    for (what, body) in everything_the_org_sees(&app, &org, id).await {
        assert!(
            !body.contains(&token),
            "{what} shows the verification token"
        );
        assert!(
            !body.contains(&sign_in_token),
            "{what} shows the sign-in token"
        );
    }
}

#[tokio::test]
async fn a_submitted_message_has_exactly_one_author_and_loses_bcc_and_control_headers() {
    let app = spawn_app().await;
    let (org, _) = crate::messages::acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    let smtp = client(&app, &user, &pass, Mechanism::Plain);
    let to = ["guest@example.test"];
    let refused = async |data: &str| {
        let e = submit(&smtp, "events@acme.test", &to, data.as_bytes())
            .await
            .unwrap_err();
        (e.status().map(u16::from), e.to_string())
    };

    // The spoof: a bank's From above the organization's own.
    let (status, text) = refused(
        "From: Bank <ceo@bank.example>\r\nFrom: events@acme.test\r\nTo: guest@example.test\r\nSubject: Konto\r\n\r\nx\r\n",
    )
    .await;
    assert_eq!(status, Some(554), "{text}");
    assert!(
        text.contains("5.6.0") && text.contains("exactly one From"),
        "{text}"
    );
    let (status, text) =
        refused("From: ceo@bank.example, events@acme.test\r\nTo: guest@example.test\r\n\r\nx\r\n")
            .await;
    assert_eq!(status, Some(554), "{text}");
    assert!(text.contains("one mailbox"), "{text}");
    let (status, text) = refused(
        "From: events@acme.test\r\nSubject: a\r\nSubject: b\r\nTo: guest@example.test\r\n\r\nx\r\n",
    )
    .await;
    assert_eq!(status, Some(554), "{text}");
    assert!(text.contains("2 Subject headers"), "{text}");
    // A Sender (or Resent-From) is an author too: it must be the organization's.
    for header in ["Sender", "Resent-From"] {
        let (status, text) = refused(&format!(
            "From: events@acme.test\r\n{header}: ceo@bank.example\r\nTo: guest@example.test\r\n\r\nx\r\n"
        ))
        .await;
        assert_eq!(status, Some(550), "{header}: {text}");
        assert!(text.contains("ceo@bank.example"), "{text}");
    }
    let outbox = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let mail_to_guests = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["to"][0] == "guest@example.test")
        .count();
    assert_eq!(mail_to_guests, 0, "nothing refused was kept: {outbox}");

    // Bcc recipients get the mail (they are in the envelope), the header goes.
    let reply = submit(
        &smtp,
        "events@acme.test",
        &["guest@example.test", "hidden@example.test"],
        b"From: events@acme.test\r\nTo: guest@example.test\r\nBcc: hidden@example.test\r\nX-Absender-Category: booking\r\nX-Absender-Internal: secret-routing\r\nSubject: Buchung\r\n\r\nDanke!\r\n",
    )
    .await
    .unwrap();
    let id = queued_id(&reply);
    let raw = crate::messages::raw(&app, &org, &id).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("hidden@example.test"), "{text}");
    assert!(!text.to_ascii_lowercase().contains("x-absender-"), "{text}");
    assert!(text.contains("Subject: Buchung") && text.contains("Danke!"));
    let verdicts = app.dkim_verdicts(&raw).await;
    assert!(
        verdicts
            .iter()
            .all(|(_, r)| *r == mail_auth::DkimResult::Pass),
        "{verdicts:?}"
    );
    let message = app
        .json(
            Method::GET,
            &format!("/api/v1/messages/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let recipients: Vec<&str> = message["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, ["guest@example.test", "hidden@example.test"]);
}

#[tokio::test]
async fn a_bounce_report_counts_only_for_the_delivery_its_return_path_names() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_with(relay_config(&sink, 2, dir.path()), Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let (org, _) = crate::messages::acme(&app).await;
    let (first, second) = ("anna@example.test", "bert@example.test");
    let body = crate::messages::booking(serde_json::json!({"to": [first, second]}));
    let id = crate::messages::accepted(&app, &org, body).await;
    sink.wait_for(2).await;
    let status = async || {
        let m = app
            .json(
                Method::GET,
                &format!("/api/v1/messages/{id}"),
                Some(&org.key),
                None,
                StatusCode::OK,
            )
            .await;
        let of = |who: &str| {
            m["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["address"] == who)
                .unwrap()["status"]
                .as_str()
                .unwrap()
                .to_string()
        };
        (of(first), of(second))
    };
    for _ in 0..100 {
        if status().await == ("delivered".into(), "delivered".into()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first_path = return_path_of(&sink, first);
    let second_path = return_path_of(&sink, second);
    assert_ne!(first_path, second_path, "one return path per recipient");
    let by_smtp = async |to: &str, raw: &str, rcpt_reply: &str| {
        let mut steps = vec![
            ("EHLO mx.example.test".to_string(), "250"),
            ("MAIL FROM:<>".to_string(), "250"),
            (format!("RCPT TO:<{to}>"), rcpt_reply),
        ];
        if rcpt_reply == "250" {
            steps.push(("DATA".to_string(), "354"));
            steps.push((format!("{raw}."), "250"));
        }
        steps.push(("QUIT".to_string(), "221"));
        crate::helpers::smtp_dialogue(app.smtp_addr, &steps).await
    };
    let suppressed = async || {
        crate::messages::suppressions(&app, &org).await["items"]
            .as_array()
            .unwrap()
            .len()
    };

    // The first recipient reports the second as failed, at its own return path.
    let forged = report(&first_path, second, "5.1.1", &id);
    by_smtp(&first_path, &forged, "250").await;
    // A made-up MAC, and the old unauthenticated form.
    let mut bad_mac = first_path.clone();
    let at = bad_mac.find('@').unwrap() - 1;
    let last = if &bad_mac[at..=at] == "a" { "b" } else { "a" };
    bad_mac.replace_range(at..=at, last);
    by_smtp(&bad_mac, &report(&bad_mac, first, "5.1.1", &id), "250").await;
    by_smtp(&format!("bounces+{id}@bounce.acme.test"), "", "530").await;
    // The same forgery through the operator's MTA.
    let posted: Value = app
        .http
        .post(format!(
            "{}/api/v1/inbound/dsn?return_path={}",
            app.base,
            first_path.replace('+', "%2B")
        ))
        .bearer_auth(ADMIN_KEY)
        .body(forged.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted["ignored"], "other_recipient", "{posted}");
    assert_eq!(posted["bounced"], serde_json::json!([]));
    assert_eq!(
        status().await,
        ("delivered".into(), "delivered".into()),
        "nothing changed"
    );
    assert_eq!(suppressed().await, 0);

    // The genuine report for the first recipient counts, once.
    let genuine = report(&first_path, first, "5.1.1", &id);
    by_smtp(&first_path, &genuine, "250").await;
    assert_eq!(status().await, ("bounced".into(), "delivered".into()));
    assert_eq!(suppressed().await, 1);
    by_smtp(&first_path, &genuine, "250").await;

    let metrics = app
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    for (reason, n) in [
        ("other_recipient", 2),
        ("bad_mac", 1),
        ("already_bounced", 1),
    ] {
        let line = format!("absender_reports_ignored_total{{reason=\"{reason}\"}} {n}");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
}

/// The operator switches the organization's custom sender upgrade on or off.
async fn set_upgrade(app: &TestApp, org: &Org, on: bool) {
    app.json(
        Method::PATCH,
        &format!("/api/v1/orgs/{}", org.id),
        Some(ADMIN_KEY),
        Some(serde_json::json!({"custom_sender_enabled": on})),
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn switching_the_upgrade_off_stops_custom_senders_at_once_and_on_restores_them() {
    let app = spawn_app().await;
    let (org, identity) = crate::messages::acme(&app).await;
    let (_, user, pass) = credential(&app, &org).await;
    let smtp = client(&app, &user, &pass, Mechanism::Plain);
    let booking = || crate::messages::booking(serde_json::json!({}));
    let explicit = || crate::messages::booking(serde_json::json!({"from": "events@acme.test"}));
    let sent_from = async |id: &str| {
        app.json(
            Method::GET,
            &format!("/api/v1/messages/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await
    };
    let mail = "From: events@acme.test\r\nTo: guest@example.test\r\nSubject: Buchung\r\n\r\nx\r\n";

    set_upgrade(&app, &org, false).await;
    // A category send falls back to the default sender, the address as Reply-To.
    let id = crate::messages::accepted(&app, &org, booking()).await;
    let m = sent_from(&id).await;
    assert_eq!(m["from"], "buchung@absender.test", "{m}");
    assert_eq!(m["fallback_reason"], "upgrade_disabled");
    assert_eq!(m["reply_to"], "events@acme.test");
    assert!(m["identity_id"].is_null());
    // An explicit custom from is refused.
    let refused = crate::messages::send(&app, &org, explicit(), StatusCode::FORBIDDEN).await;
    assert_eq!(crate::helpers::code(&refused), "upgrade_required");
    // SMTP from the custom address is refused with the reason.
    let e = submit(
        &smtp,
        "events@acme.test",
        &["guest@example.test"],
        mail.as_bytes(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status().map(u16::from), Some(550), "{e}");
    assert!(e.to_string().contains("upgrade"), "{e}");

    // Switched on again: the same identity sends, no new verification.
    set_upgrade(&app, &org, true).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // SMTP's 1 s sender cache
    let id = crate::messages::accepted(&app, &org, booking()).await;
    let m = sent_from(&id).await;
    assert_eq!(m["from"], "events@acme.test", "{m}");
    assert_eq!(m["identity_id"], identity.as_str());
    crate::messages::accepted(&app, &org, explicit()).await;
    submit(
        &smtp,
        "events@acme.test",
        &["guest@example.test"],
        mail.as_bytes(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_rotated_key_stops_at_once_or_after_its_grace_and_ends_ui_sessions() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let other = app.upgraded_org("Other", "en").await;
    let works = async |key: &str| {
        app.call(Method::GET, "/api/v1/identities", Some(key), None)
            .await
            .status()
            == StatusCode::OK
    };
    let rotate = async |key: &str, body: Option<Value>, status: StatusCode| {
        app.json(
            Method::POST,
            &format!("/api/v1/orgs/{}/rotate-key", org.id),
            Some(key),
            body,
            status,
        )
        .await
    };
    let signed_in = Browser::new(&app, "en");
    signed_in.sign_in(&org.key).await;
    assert_eq!(signed_in.get("/ui/identities").await.status, StatusCode::OK);

    // Another organization cannot; the organization itself can, at once.
    rotate(&other.key, None, StatusCode::NOT_FOUND).await;
    let second = rotate(&org.key, None, StatusCode::OK).await["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!works(&org.key).await, "the old key stops at once");
    assert!(works(&second).await);
    let page = signed_in.get("/ui/identities").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "the UI session ended");

    // The operator, with an overlap of an hour (at most a day).
    let refused = rotate(
        ADMIN_KEY,
        Some(serde_json::json!({"grace": "25h"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(crate::helpers::code(&refused), "invalid_grace", "{refused}");
    let third = rotate(
        ADMIN_KEY,
        Some(serde_json::json!({"grace": "1h"})),
        StatusCode::OK,
    )
    .await;
    assert!(third["previous_key_expires_at"].is_string(), "{third}");
    let third = third["api_key"].as_str().unwrap().to_string();
    assert!(works(&second).await && works(&third).await);
    // The old key (perhaps leaked) cannot take over meanwhile: no rotating,
    // no UI session, no SMTP login that would outlive the grace.
    rotate(&second, None, StatusCode::FORBIDDEN).await;
    app.json(
        Method::POST,
        "/api/v1/smtp-credentials",
        Some(&second),
        Some(serde_json::json!({})),
        StatusCode::FORBIDDEN,
    )
    .await;
    let old_browser = Browser::new(&app, "en");
    let refused = old_browser
        .submit("/ui/sign-in", "/ui/sign-in", &[("key", &second)])
        .await;
    assert_ne!(
        refused.status,
        StatusCode::SEE_OTHER,
        "no session for the old key"
    );
    assert!(works(&third).await, "the owner's key is untouched");
    app.advance(std::time::Duration::from_secs(3601));
    assert!(!works(&second).await, "the grace is over");
    assert!(works(&third).await);

    // The UI's button (asked first), and the CLI.
    let browser = Browser::new(&app, "en");
    browser.sign_in(&third).await;
    let asked = browser.get("/ui/api-key").await;
    assert!(
        asked.body.contains("stops working at once"),
        "{}",
        asked.body
    );
    let shown = browser.submit("/ui/api-key", "/ui/api-key", &[]).await;
    let start = shown.body.find("id=\"new-api-key\">").expect("the new key") + 17;
    let fourth = shown.body[start..].split('<').next().unwrap().to_string();
    assert!(!works(&third).await && works(&fourth).await);
    let base = app.base.clone();
    let id = org.id.clone();
    let out = tokio::task::spawn_blocking(move || {
        cli(
            &base,
            Some(ADMIN_KEY),
            &["org", "rotate-key", &id, "--json"],
        )
    })
    .await
    .unwrap();
    let fifth: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fifth = fifth["api_key"].as_str().unwrap();
    assert!(!works(&fourth).await && works(fifth).await);
}

#[tokio::test]
async fn identity_requests_and_verification_mails_have_limits_that_deleting_does_not_reset() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = absender::config::Config {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    config.limits.identity_requests_per_hour = 3;
    config.limits.identities_per_org = 4;
    config.limits.verification_mails_per_address = 2;
    let app = spawn_with(config, Some(dir)).await;
    let request = async |org: &Org, address: &str| {
        app.call(
            Method::POST,
            "/api/v1/identities",
            Some(&org.key),
            Some(serde_json::json!({"address": address, "scope": "recipients"})),
        )
        .await
    };
    let limited = async |response: reqwest::Response| {
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(crate::helpers::code(&body), "rate_limited", "{body}");
        (wait, body["error"]["message"].as_str().unwrap().to_string())
    };

    // Three requests an hour per organization.
    let acme = app.upgraded_org("Acme", "en").await;
    for n in 1..=3 {
        let r = request(&acme, &format!("team{n}@acme.test")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let (wait, words) = limited(request(&acme, "team4@acme.test").await).await;
    assert!((3590..=3600).contains(&wait), "{wait}");
    assert!(words.contains("3 identity requests an hour"), "{words}");
    app.advance(std::time::Duration::from_secs(3601));
    assert_eq!(
        request(&acme, "team4@acme.test").await.status(),
        StatusCode::CREATED
    );
    // Four identities at most, however long it waits.
    app.advance(std::time::Duration::from_secs(3601));
    let (_, words) = limited(request(&acme, "team5@acme.test").await).await;
    assert!(words.contains("remove one first"), "{words}");

    // Two verification mails a day to one address, across organizations,
    // even when the identity is deleted and requested again.
    let mallory = app.upgraded_org("Mallory", "en").await;
    let first = request(&mallory, "ceo@bank.example").await;
    let id = first.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.json(
        Method::DELETE,
        &format!("/api/v1/identities/{id}"),
        Some(&mallory.key),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        request(&mallory, "ceo@bank.example").await.status(),
        StatusCode::CREATED
    );
    let eve = app.upgraded_org("Eve", "en").await;
    let (wait, words) = limited(request(&eve, "CEO@bank.example").await).await;
    assert!(wait > 23 * 3600, "{wait}");
    assert!(words.contains("verification mails a day"), "{words}");
    let mails = app
        .operator_outbox()
        .await
        .iter()
        .filter(|m| m["to"][0] == "ceo@bank.example")
        .count();
    assert_eq!(mails, 2, "the owner got two mails, no more");
}

/// What the server logged so far.
fn read_log(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_even_at_trace_and_the_data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let relay_password = "relay-pass-7f3e9a";
    let sink = SmtpSink::smarthost("absender", relay_password).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("absender.toml");
    std::fs::write(
        &config,
        format!(
            "[sending]\nmode = \"relay\"\npoll_interval = \"50ms\"\n[sending.relay]\nhost = \"127.0.0.1\"\nport = {}\n\
             username = \"absender\"\npassword = \"{relay_password}\"\ntls = \"required\"\naccept_invalid_certs = true\n",
            sink.addr.port()
        ),
    )
    .unwrap();
    let log_path = dir.path().join("absender.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = crate::binary::serve_logging(
        &data,
        &["--config", config.to_str().unwrap()],
        &[("ABSENDER_LOG", "trace")],
        log.into(),
    );
    let admin = server.new_admin_key.clone().unwrap();
    let http = reqwest::Client::new();
    let call = async |method: Method, path: &str, key: &str, body: Option<Value>| {
        let mut request = http
            .request(method, format!("{}{path}", server.url))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json::<Value>().await.unwrap_or(Value::Null)
    };
    let org = call(
        Method::POST,
        "/api/v1/orgs",
        &admin,
        Some(serde_json::json!({"name": "Acme", "contact_email": "team@acme.test"})),
    )
    .await;
    let (org_id, org_key) = (
        org["id"].as_str().unwrap().to_string(),
        org["api_key"].as_str().unwrap().to_string(),
    );
    call(
        Method::PATCH,
        &format!("/api/v1/orgs/{org_id}"),
        &admin,
        Some(serde_json::json!({"custom_sender_enabled": true})),
    )
    .await;

    // A verification link, used; a sign-in link, opened.
    call(
        Method::POST,
        "/api/v1/identities",
        &org_key,
        Some(serde_json::json!({"address": "events@acme.test", "scope": "all"})),
    )
    .await;
    let browser = Browser::at(&server.url, "en");
    browser
        .submit(
            "/ui/sign-in",
            "/ui/sign-in/link",
            &[("email", "team@acme.test")],
        )
        .await;
    let link_in = async |marker: &str| {
        for _ in 0..200 {
            let found = sink.system_received().into_iter().find_map(|m| {
                let text = absender_mail::inspect::summarize(&m.data).text?;
                text.split_whitespace()
                    .find(|w| w.contains(marker))
                    .map(str::to_string)
            });
            if let Some(link) = found {
                return link;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no {marker} link reached the mailbox");
    };
    let verify = link_in("/verify/").await;
    let sign_in = link_in("/ui/sign-in/").await;
    http.get(&verify).send().await.unwrap();
    http.post(&verify).send().await.unwrap();
    let path = sign_in.strip_prefix(&server.url).unwrap();
    browser.get(path).await;

    // SMTP AUTH with the organization's password, and a message relayed
    // with AUTH to the smarthost.
    let login = call(
        Method::POST,
        "/api/v1/smtp-credentials",
        &org_key,
        Some(serde_json::json!({})),
    )
    .await;
    let (user, pass) = (
        login["username"].as_str().unwrap(),
        login["password"].as_str().unwrap(),
    );
    let smtp_port: u16 = server.smtp.rsplit(':').next().unwrap().parse().unwrap();
    let tls = lettre::transport::smtp::client::TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()
        .unwrap();
    let smtp = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(smtp_port)
        .tls(lettre::transport::smtp::client::Tls::Required(tls))
        .credentials(lettre::transport::smtp::authentication::Credentials::new(
            user.into(),
            pass.into(),
        ))
        .authentication(vec![Mechanism::Plain])
        .build();
    // Refused at MAIL FROM (not verified yet), after a successful AUTH.
    let _ = submit(&smtp, "events@acme.test", &["guest@example.test"], b"x").await;
    let body_marker = "Koerper-7c1d-der-Nachricht";
    call(
        Method::POST,
        "/api/v1/messages",
        &org_key,
        Some(serde_json::json!({"category": "booking", "to": ["guest@example.test"], "subject": "Buchung", "text": body_marker})),
    )
    .await;
    sink.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let log = read_log(&log_path);
    assert!(log.contains("/verify/[redacted]"), "requests are logged");
    let plain = |u: &str, p: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("\0{u}\0{p}"))
    };
    for (what, secret) in [
        (
            "verification token",
            verify.rsplit('/').next().unwrap().to_string(),
        ),
        (
            "sign-in token",
            sign_in.rsplit('/').next().unwrap().to_string(),
        ),
        ("SMTP password", pass.to_string()),
        ("SMTP AUTH PLAIN", plain(user, pass)),
        ("relay password", relay_password.to_string()),
        ("relay AUTH PLAIN", plain("absender", relay_password)),
        ("message contents", body_marker.to_string()),
        ("API key", org_key.clone()),
        ("admin key", admin.clone()),
    ] {
        assert!(!log.contains(&secret), "the log shows the {what}");
    }

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data dir");
    for file in ["absender.db", "absender.db-wal", "master.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
}

/// How many outbox copies the operator sees.
async fn outbox_size(app: &TestApp) -> usize {
    app.operator_outbox().await.len()
}

#[tokio::test]
async fn the_retention_sweep_deletes_old_mail_messages_and_events_in_their_time() {
    let day = std::time::Duration::from_secs(24 * 3600);
    let app = spawn_app().await;
    let (org, identity) = crate::messages::acme(&app).await;
    let id = crate::messages::accepted(&app, &org, crate::messages::booking(serde_json::json!({})))
        .await;
    let events = format!("/api/v1/identities/{identity}/events");
    let count_events = async || {
        app.json(Method::GET, &events, Some(&org.key), None, StatusCode::OK)
            .await["items"]
            .as_array()
            .unwrap()
            .len()
    };
    assert!(outbox_size(&app).await >= 3);
    assert!(count_events().await > 0);

    app.advance(29 * day);
    let swept = app.app().sweep_retention().await.unwrap();
    assert_eq!((swept.outbox, swept.messages), (0, 0), "not yet");
    app.advance(2 * day);
    let swept = app.app().sweep_retention().await.unwrap();
    assert!(swept.outbox >= 3 && swept.messages >= 1, "{swept:?}");
    assert_eq!(outbox_size(&app).await, 0);
    app.json(
        Method::GET,
        &format!("/api/v1/messages/{id}"),
        Some(&org.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(count_events().await > 0, "events are kept a year");
    app.advance(335 * day);
    app.app().sweep_retention().await.unwrap();
    assert_eq!(count_events().await, 0);
}

#[tokio::test]
async fn redacted_copies_go_after_a_week_and_a_deleted_identitys_keys_stay_while_mail_waits() {
    let day = std::time::Duration::from_secs(24 * 3600);
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_with(relay_config(&sink, 2, dir.path()), Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let (org, identity) = crate::messages::acme(&app).await;
    // The verification mail's redacted copy and the "ready" notice.
    assert_eq!(outbox_size(&app).await, 2);
    app.advance(8 * day);
    let swept = app.app().sweep_retention().await.unwrap();
    assert_eq!(swept.redacted, 1, "{swept:?}");
    assert_eq!(outbox_size(&app).await, 1, "the notice is kept 30 days");

    // A booking the receiver defers waits in the queue, signed for acme.test.
    sink.answer(
        "guest@example.test",
        crate::smtp_sink::Reply::Refuse("451 4.3.0 later".into()),
    );
    let id = crate::messages::accepted(&app, &org, crate::messages::booking(serde_json::json!({})))
        .await;
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{identity}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let key_name = format!("{}.", records["records"][0]["value"].as_str().unwrap());
    let published = async || {
        app.resolver()
            .lookup(
                key_name.clone(),
                hickory_resolver::proto::rr::RecordType::TXT,
            )
            .await
            .is_ok()
    };
    for _ in 0..100 {
        let m = app
            .json(
                Method::GET,
                &format!("/api/v1/messages/{id}"),
                Some(&org.key),
                None,
                StatusCode::OK,
            )
            .await;
        if m["recipients"][0]["attempts"].as_i64() > Some(0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.json(
        Method::DELETE,
        &format!("/api/v1/identities/{identity}"),
        Some(&org.key),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    app.app().sweep_retention().await.unwrap();
    assert!(
        published().await,
        "queued mail signed with it still verifies"
    );
    // Up to the queue's max age (3 days), then it goes.
    app.advance(3 * day + std::time::Duration::from_secs(60));
    let swept = app.app().sweep_retention().await.unwrap();
    assert_eq!(swept.dkim_keys, 3, "{swept:?}");
    assert!(!published().await);
}
