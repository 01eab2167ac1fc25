//! Webhooks: destinations per organization, events written with the change
//! they report, signed per Standard Webhooks and verified by the reference
//! package in a real receiver on 127.0.0.1, retried until the receiver
//! recovers, with one `webhook-id` per event across retries.

use crate::helpers::{ADMIN_KEY, Org, TestApp, code, spawn_app, spawn_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Python receiver: its URL, and the files it reads and writes.
pub struct Receiver {
    child: Child,
    pub url: String,
    secret_file: PathBuf,
    log_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Receiver {
    pub fn start(python: &str, fail_first: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let secret_file = dir.path().join("secret");
        let log_file = dir.path().join("log");
        std::fs::write(&secret_file, "whsec_AAAA").unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/webhook_receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(&secret_file)
            .arg(&log_file)
            .arg(fail_first.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        Self {
            child,
            url: format!("http://127.0.0.1:{}/hooks/absender", port.trim()),
            secret_file,
            log_file,
            _dir: dir,
        }
    }

    pub fn use_secret(&self, secret: &str) {
        std::fs::write(&self.secret_file, secret).unwrap();
    }

    /// Every request so far.
    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log_file)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Waits until a request satisfies `pred`, moving absender's clock a
    /// second at a time (retries are due by its clock); at most 20 s.
    pub async fn wait_for(&self, app: &TestApp, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(found) = self.log().into_iter().find(&pred) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not received: {:?}",
                self.log()
            );
            app.advance(Duration::from_secs(1));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn create(app: &TestApp, key: &str, body: Value, status: StatusCode) -> Value {
    app.json(
        Method::POST,
        "/api/v1/webhooks",
        Some(key),
        Some(body),
        status,
    )
    .await
}

pub fn webhook_config(dir: &tempfile::TempDir) -> absender::config::Config {
    let mut config = absender::config::Config {
        data_dir: dir.path().to_path_buf(),
        ..absender::config::Config::default()
    };
    // The receiver is on 127.0.0.1.
    config.webhooks.allow_private_targets = true;
    config.webhooks.poll_interval = Duration::from_millis(50);
    config.webhooks.first_retry = Duration::from_secs(1);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_events_reach_a_receiver_that_verifies_them_and_failures_are_retried() {
    let test = "signed_events_reach_a_receiver_that_verifies_them_and_failures_are_retried";
    let Some(python) = crate::tools::python_with_standardwebhooks(test) else {
        return;
    };
    let receiver = Receiver::start(&python, 2);
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(webhook_config(&dir), Some(dir)).await;
    let org = app.upgraded_org("Acme", "en").await;
    let created = create(
        &app,
        &org.key,
        json!({"url": receiver.url, "events": ["IdentityStatusChanged", "IdentityVerified"], "description": "events"}),
        StatusCode::CREATED,
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["org_id"], org.id.as_str());
    receiver.use_secret(&secret);
    let id = created["id"].as_str().unwrap().to_string();

    // A test event: the receiver fails twice, then takes it; the same id each time.
    let test_event = app
        .json(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            Some(&org.key),
            None,
            StatusCode::ACCEPTED,
        )
        .await;
    let event_id = test_event["event_id"].as_str().unwrap();
    let accepted = receiver.wait_for(&app, |r| r["status"] == 200).await;
    assert_eq!(accepted["id"], event_id);
    let log = receiver.log();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        log.iter()
            .all(|r| r["id"] == event_id && r["verified"] == true),
        "{log:?}"
    );
    assert_eq!(accepted["payload"]["eventType"], "Test");

    // The destination's page shows the attempts.
    let shown = app
        .json(
            Method::GET,
            &format!("/api/v1/webhooks/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let attempts = shown["recent_attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["http_status"], 200, "{shown}");
    assert_eq!(attempts[0]["attempts"], 3);
    assert!(attempts[0]["latency_ms"].is_i64());
    assert!(
        !shown.to_string().contains(&secret[6..]),
        "no secret after creation"
    );

    // An identity's way to verified, as events written with each change.
    app.verified_identity(&org, "events@acme.test", "all").await;
    let verified = receiver
        .wait_for(&app, |r| r["payload"]["eventType"] == "IdentityVerified")
        .await;
    let body = &verified["payload"];
    assert_eq!(body["orgId"], org.id.as_str());
    assert_eq!(body["identityVerified"]["identity"], "events@acme.test");
    assert_eq!(body["identityVerified"]["status"], "SUCCESS");
    let changes: Vec<Value> = receiver
        .log()
        .into_iter()
        .filter(|r| r["payload"]["eventType"] == "IdentityStatusChanged")
        .collect();
    assert!(
        changes
            .iter()
            .any(|r| r["payload"]["identityStatusChanged"]["part"] == "dkim"
                && r["payload"]["identityStatusChanged"]["status"] == "SUCCESS"),
        "{changes:?}"
    );
    assert!(receiver.log().iter().all(|r| r["verified"] == true));

    // A rotated secret: both sign for a day, so a receiver with either verifies.
    let rotated = app
        .json(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let path = format!("/api/v1/webhooks/{id}/test");
    let old_side = app
        .json(
            Method::POST,
            &path,
            Some(&org.key),
            None,
            StatusCode::ACCEPTED,
        )
        .await;
    let with_old = receiver
        .wait_for(&app, |r| r["id"] == old_side["event_id"])
        .await;
    assert_eq!(
        (
            with_old["verified"].as_bool(),
            with_old["signatures"].as_i64()
        ),
        (Some(true), Some(2))
    );
    receiver.use_secret(new_secret);
    let new_side = app
        .json(
            Method::POST,
            &path,
            Some(&org.key),
            None,
            StatusCode::ACCEPTED,
        )
        .await;
    let with_new = receiver
        .wait_for(&app, |r| r["id"] == new_side["event_id"])
        .await;
    assert_eq!(with_new["verified"], true, "{with_new}");
}

/// The destination's first recorded attempt (at most 10 s).
/// A server relaying to a sink (which refuses gone@example.test for good)
/// with webhooks to loopback allowed, and Acme with a verified sender.
async fn relaying_acme() -> (TestApp, crate::smtp_sink::SmtpSink, Org) {
    let sink = crate::smtp_sink::SmtpSink::start().await;
    sink.answer(
        "gone@example.test",
        crate::smtp_sink::Reply::Refuse("550 5.1.1 no such user".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::delivery::relay_config(&sink, 2, dir.path());
    config.webhooks = webhook_config(&dir).webhooks;
    let mut app = spawn_with(config, Some(dir)).await;
    app.mailbox = Some(sink.clone());
    let (org, _) = crate::messages::acme(&app).await;
    (app, sink, org)
}

async fn first_attempt(app: &TestApp, org: &Org, path: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let shown = app
            .json(Method::GET, path, Some(&org.key), None, StatusCode::OK)
            .await;
        if let Some(a) = shown["recent_attempts"].as_array().and_then(|a| a.first()) {
            return a.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn destinations_are_checked_scoped_and_private_targets_refused() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    for (body, field) in [
        (
            json!({"url": "ftp://hooks.example.test/x", "events": ["Send"]}),
            "url",
        ),
        (
            json!({"url": "https://user:pw@hooks.example.test/x", "events": ["Send"]}),
            "url",
        ),
        (
            json!({"url": "https://hooks.example.test/x", "events": ["send"]}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example.test/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example.test/x", "events": ["Send"], "format": "xml"}),
            "format",
        ),
        (
            json!({"url": "https://hooks.example.test/x", "events": ["Send"], "description": "a\r\nb"}),
            "description",
        ),
    ] {
        let refused = create(&app, &org.key, body, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(code(&refused), "invalid_field");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{refused}"
        );
    }

    // absender's own network is no target (without allow_private_targets):
    // by literal address in any spelling, or by a name that resolves there.
    let mut path = String::new();
    for url in [
        "http://127.0.0.1:9/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://localhost:9/hook",
    ] {
        let local = create(
            &app,
            &org.key,
            json!({"url": url, "events": ["Send"]}),
            StatusCode::CREATED,
        )
        .await;
        path = format!("/api/v1/webhooks/{}", local["id"].as_str().unwrap());
        app.json(
            Method::POST,
            &format!("{path}/test"),
            Some(&org.key),
            None,
            StatusCode::ACCEPTED,
        )
        .await;
        let attempt = first_attempt(&app, &org, &path).await;
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.contains("special-purpose") || error.contains("no public address"),
            "{url}: {attempt}"
        );
        assert!(attempt["http_status"].is_null());
    }

    // Another organization, and the operator's own scope, see none of it.
    let other: Org = app.upgraded_org("Other", "en").await;
    for key in [other.key.as_str(), ADMIN_KEY] {
        app.json(Method::GET, &path, Some(key), None, StatusCode::NOT_FOUND)
            .await;
        let list = app
            .json(
                Method::GET,
                "/api/v1/webhooks",
                Some(key),
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(list["items"], json!([]));
        app.json(
            Method::DELETE,
            &path,
            Some(key),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let disabled = app
        .json(
            Method::PATCH,
            &path,
            Some(&org.key),
            Some(json!({"enabled": false})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(disabled["enabled"], false);
    let gone = app.call(Method::DELETE, &path, Some(&org.key), None).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    app.json(
        Method::GET,
        &path,
        Some(&org.key),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messages_send_delivery_and_bounce_arrive_as_ses_shaped_events() {
    let test = "a_messages_send_delivery_and_bounce_arrive_as_ses_shaped_events";
    let Some(python) = crate::tools::python_with_standardwebhooks(test) else {
        return;
    };
    let receiver = Receiver::start(&python, 0);
    let (app, sink, org) = relaying_acme().await;
    sink.answer(
        "later@example.test",
        crate::smtp_sink::Reply::Refuse("451 4.2.0 try later".into()),
    );
    let created = create(
        &app,
        &org.key,
        json!({"url": receiver.url, "events": ["Send", "Delivery", "Bounce", "DeliveryDelay", "Complaint", "Subscription", "Reject"]}),
        StatusCode::CREATED,
    )
    .await;
    receiver.use_secret(created["secret"].as_str().unwrap());

    let body = crate::messages::booking(
        json!({"to": ["ok@example.test", "gone@example.test", "later@example.test"]}),
    );
    let id = crate::messages::accepted(&app, &org, body).await;
    let of = |kind: &'static str| {
        let id = id.clone();
        move |r: &Value| {
            r["payload"]["eventType"] == kind && r["payload"]["mail"]["messageId"] == id.as_str()
        }
    };
    let send = receiver.wait_for(&app, of("Send")).await;
    assert_eq!(send["payload"]["mail"]["source"], "events@acme.test");
    assert_eq!(
        send["payload"]["mail"]["destination"],
        json!(["ok@example.test", "gone@example.test", "later@example.test"])
    );
    assert_eq!(
        send["payload"]["mail"]["tags"]["absender-category"],
        json!(["booking"])
    );
    let delivery = receiver.wait_for(&app, of("Delivery")).await;
    assert_eq!(
        delivery["payload"]["delivery"]["recipients"],
        json!(["ok@example.test"])
    );
    let bounce = receiver.wait_for(&app, of("Bounce")).await;
    let b = &bounce["payload"]["bounce"];
    assert_eq!(b["bounceType"], "Permanent");
    assert_eq!(
        b["bouncedRecipients"][0]["emailAddress"],
        "gone@example.test"
    );
    assert!(
        b["bouncedRecipients"][0]["diagnosticCode"]
            .as_str()
            .unwrap()
            .contains("5.1.1")
    );
    let delay = receiver.wait_for(&app, of("DeliveryDelay")).await;
    let d = &delay["payload"]["deliveryDelay"];
    assert_eq!(
        d["delayedRecipients"][0]["emailAddress"],
        "later@example.test"
    );
    assert!(
        d["delayedRecipients"][0]["diagnosticCode"]
            .as_str()
            .unwrap()
            .starts_with("451")
    );
    // A message to the now suppressed address is refused: a Reject event.
    let refused = crate::messages::send(
        &app,
        &org,
        crate::messages::booking(json!({"from": "events@acme.test", "to": ["gone@example.test"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&refused), "recipient_suppressed");
    let reject = receiver
        .wait_for(&app, |r| r["payload"]["eventType"] == "Reject")
        .await;
    let r = &reject["payload"];
    assert_eq!(r["reject"]["code"], "recipient_suppressed");
    assert_eq!(r["mail"]["destination"], json!(["gone@example.test"]));
    assert_eq!(r["mail"]["source"], "events@acme.test");
    let reject_id = r["mail"]["messageId"].as_str().unwrap().to_string();
    assert!(reject_id.starts_with("rej_"), "{reject_id}");

    // A feedback loop's complaint about the delivered mail.
    let ok_path = crate::delivery::return_path_of(&sink, "ok@example.test");
    let outcome: Value = app
        .http
        .post(format!("{}/api/v1/inbound/arf", app.base))
        .bearer_auth(ADMIN_KEY)
        .body(crate::complaints::arf("abuse", None, None, Some(&ok_path)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        outcome["complained"],
        json!(["ok@example.test"]),
        "{outcome}"
    );
    let complaint = receiver.wait_for(&app, of("Complaint")).await;
    let c = &complaint["payload"]["complaint"];
    assert_eq!(
        c["complainedRecipients"][0]["emailAddress"],
        "ok@example.test"
    );
    assert_eq!(c["complaintFeedbackType"], "abuse");
    assert_eq!(c["userAgent"], "ExampleFBL/1.0");

    // An invitation's recipient unsubscribes with one click.
    let invitation = crate::messages::accepted(
        &app,
        &org,
        json!({"category": "invitation", "to": ["gast@example.test"], "subject": "Einladung", "text": "Kommen Sie!"}),
    )
    .await;
    crate::delivery::wait_message(&app, &org.key, &invitation, |m| m["status"] == "delivered")
        .await;
    let mail = sink
        .received()
        .into_iter()
        .find(|r| r.to == ["gast@example.test"])
        .unwrap();
    let text = String::from_utf8_lossy(&mail.data).replace("\r\n ", " ");
    let https = text
        .lines()
        .find(|l| l.starts_with("List-Unsubscribe: "))
        .and_then(|l| l.split('<').nth(1))
        .and_then(|l| l.split('>').next())
        .unwrap()
        .to_string();
    let clicked = app
        .http
        .post(https)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);
    let unsubscribed = receiver
        .wait_for(&app, |r| r["payload"]["eventType"] == "Subscription")
        .await;
    let u = &unsubscribed["payload"];
    assert_eq!(u["mail"]["messageId"], invitation.as_str());
    assert_eq!(u["subscription"]["emailAddress"], "gast@example.test");
    assert_eq!(u["subscription"]["source"], "UnsubscribeHeader");
    assert_eq!(
        u["subscription"]["newTopicPreferences"]["unsubscribeAll"],
        true
    );

    // Each event once, each verified; absender's own notices made none.
    let log = receiver.log();
    assert!(log.iter().all(|r| r["verified"] == true));
    let mut ids: Vec<&str> = log.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "{log:?}");
    assert!(
        log.iter().all(|r| {
            let about = &r["payload"]["mail"]["messageId"];
            about == id.as_str() || about == invitation.as_str() || about == reject_id.as_str()
        }),
        "only the organization's messages: {log:?}"
    );
}

/// Events survive SIGKILL: absender is killed while a receiver still fails
/// and many events wait; after the restart every event arrives, and an
/// event that arrived twice (its answer cut off by the kill) has one
/// `webhook-id` both times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_pending_at_a_sigkill_all_arrive_after_the_restart() {
    const MESSAGES: usize = 150;
    const ADMIN: &str = "abs_admin_events-crash-key";
    let test = "events_pending_at_a_sigkill_all_arrive_after_the_restart";
    let Some(python) = crate::tools::python_with_standardwebhooks(test) else {
        return;
    };
    // The first 100 attempts fail: retries wait in the outbox at the kill.
    let receiver = Receiver::start(&python, 100);
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let relay: &'static str = Box::leak(sink.addr.to_string().into_boxed_str());
    let env = [
        ("ABSENDER_DELIVERY_MODE", "relay"),
        ("ABSENDER_RELAY", relay),
        ("ABSENDER_ADMIN_KEY", ADMIN),
    ];
    let config = dir.path().join("absender.toml");
    std::fs::write(
        &config,
        "[webhooks]\nallow_private_targets = true\npoll_interval = \"50ms\"\nfirst_retry = \"1s\"\nmax_retry = \"2s\"\n",
    )
    .unwrap();
    let config: &'static str = Box::leak(config.to_str().unwrap().to_string().into_boxed_str());
    let data_dir = dir.path().to_path_buf();
    let start = || {
        let data_dir = data_dir.clone();
        tokio::task::spawn_blocking(move || {
            crate::binary::serve_with(&data_dir, &["--config", config], &env)
        })
    };
    let server = start().await.unwrap();
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/api/v1/orgs", server.url))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "Acme", "contact_email": "team@acme.test", "locale": "de"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["api_key"].as_str().unwrap().to_string();
    let hook: Value = http
        .post(format!("{}/api/v1/webhooks", server.url))
        .bearer_auth(&key)
        .json(&json!({"url": receiver.url, "events": ["Send", "Delivery"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    receiver.use_secret(hook["secret"].as_str().unwrap());

    let mut accepted = Vec::new();
    for n in 0..MESSAGES {
        let body = json!({"category": "booking", "to": [format!("guest{n}@example.test")], "subject": "Buchung", "text": "Danke!"});
        let response = http
            .post(format!("{}/api/v1/messages", server.url))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let id: Value = response.json().await.unwrap();
        accepted.push(id["id"].as_str().unwrap().to_string());
    }
    // Kill once the receiver has failed some and taken none yet, or a few.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while receiver.log().len() < 100 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen_at_kill = receiver.log().len();
    drop(server); // SIGKILL
    let taken_at_kill = receiver.log().iter().filter(|r| r["status"] == 200).count();
    assert!(
        seen_at_kill >= 100 && taken_at_kill < 2 * MESSAGES,
        "the kill came with events pending ({seen_at_kill} attempts, {taken_at_kill} taken)"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let server = start().await.unwrap();

    // Every message's Send and Delivery arrive, verified.
    let wanted: std::collections::HashSet<(String, String)> = accepted
        .iter()
        .flat_map(|id| [(id.clone(), "Send".into()), (id.clone(), "Delivery".into())])
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let taken = loop {
        let log = receiver.log();
        let taken: Vec<Value> = log.into_iter().filter(|r| r["status"] == 200).collect();
        let got: std::collections::HashSet<(String, String)> = taken
            .iter()
            .map(|r| {
                (
                    r["payload"]["mail"]["messageId"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["payload"]["eventType"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        if wanted.is_subset(&got) {
            break taken;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lost after SIGKILL: {} of {} events, e.g. {:?}",
            wanted.difference(&got).count(),
            wanted.len(),
            wanted.difference(&got).next()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(taken.iter().all(|r| r["verified"] == true));
    // Duplicates are the same event: one webhook-id per (message, type).
    let mut ids: std::collections::HashMap<(String, String), std::collections::HashSet<String>> =
        Default::default();
    for r in &taken {
        let key = (
            r["payload"]["mail"]["messageId"]
                .as_str()
                .unwrap()
                .to_string(),
            r["payload"]["eventType"].as_str().unwrap().to_string(),
        );
        ids.entry(key)
            .or_default()
            .insert(r["id"].as_str().unwrap().to_string());
    }
    assert!(
        ids.values().all(|set| set.len() == 1),
        "an event arrived under two ids"
    );
    let duplicates = taken.len() - ids.len();
    println!(
        "events crash test: {} events, {seen_at_kill} attempts before the SIGKILL, {duplicates} delivered twice",
        wanted.len()
    );
    drop(server);
}

/// SES notifications over SNS's HTTP protocol: a receiver like the apps that
/// read SES through SNS gets a SubscriptionConfirmation, confirms it at its
/// SubscribeURL, then gets Delivery and Bounce as SES notifications, each
/// signed (SignatureVersion 2) and checked against the certificate at
/// SigningCertURL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sns_destination_confirms_then_gets_signed_ses_notifications() {
    let test = "an_sns_destination_confirms_then_gets_signed_ses_notifications";
    let Some(python) = crate::tools::python_with_cryptography(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("sns.log");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/sns_receiver.py");
    let mut child = Command::new(&python)
        .arg(script)
        .arg(&log_file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let url = format!("http://127.0.0.1:{}/sns", port.trim());
    let log = || -> Vec<Value> {
        std::fs::read_to_string(&log_file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (app, _sink, org) = relaying_acme().await;
    create(
        &app,
        &org.key,
        json!({"url": url, "events": ["Delivery", "Bounce"], "format": "sns"}),
        StatusCode::CREATED,
    )
    .await;
    let id = crate::messages::accepted(
        &app,
        &org,
        crate::messages::booking(json!({"to": ["ok@example.test", "gone@example.test"]})),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let seen = loop {
        let seen = log();
        let kinds = |t: &str| {
            seen.iter()
                .filter(|r| {
                    serde_json::from_str::<Value>(r["message"]["Message"].as_str().unwrap_or("{}"))
                        .map(|m| m["notificationType"] == t)
                        .unwrap_or(false)
                })
                .count()
        };
        if kinds("Delivery") >= 1 && kinds("Bounce") >= 1 {
            break seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "{seen:?}");
        app.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The confirmation came first, and the receiver's visit confirmed it.
    assert_eq!(seen[0]["message"]["Type"], "SubscriptionConfirmation");
    assert_eq!(seen[0]["type_header"], "SubscriptionConfirmation");
    assert_eq!(seen[0]["confirmed"], 200);
    assert!(seen.iter().all(|r| r["verified"] == true), "{seen:?}");
    let notifications: Vec<Value> = seen
        .iter()
        .filter(|r| r["message"]["Type"] == "Notification")
        .map(|r| serde_json::from_str(r["message"]["Message"].as_str().unwrap()).unwrap())
        .collect();
    let bounce = notifications
        .iter()
        .find(|n| n["notificationType"] == "Bounce")
        .unwrap();
    assert_eq!(bounce["mail"]["messageId"], id.as_str());
    assert_eq!(bounce["bounce"]["bounceType"], "Permanent");
    assert_eq!(
        bounce["bounce"]["bouncedRecipients"][0]["emailAddress"],
        "gone@example.test"
    );
    let delivery = notifications
        .iter()
        .find(|n| n["notificationType"] == "Delivery")
        .unwrap();
    assert_eq!(
        delivery["delivery"]["recipients"],
        json!(["ok@example.test"])
    );
    let envelope = &seen.last().unwrap()["message"];
    assert_eq!(envelope["SignatureVersion"], "2");
    assert!(
        envelope["SigningCertURL"]
            .as_str()
            .unwrap()
            .ends_with("/sns/signing-cert.pem")
    );
    assert!(
        envelope["TopicArn"]
            .as_str()
            .unwrap()
            .contains(&format!(":{}:", org.id)),
        "{envelope}"
    );
    // A new URL must be confirmed anew.
    let hooks = app
        .json(
            Method::GET,
            "/api/v1/webhooks",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let hook_id = hooks["items"][0]["id"].as_str().unwrap().to_string();
    let before = seen
        .iter()
        .filter(|r| r["message"]["Type"] == "SubscriptionConfirmation")
        .count();
    app.json(
        Method::PATCH,
        &format!("/api/v1/webhooks/{hook_id}"),
        Some(&org.key),
        Some(json!({"url": format!("{url}?moved=1")})),
        StatusCode::OK,
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while log()
        .iter()
        .filter(|r| r["message"]["Type"] == "SubscriptionConfirmation")
        .count()
        == before
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no new confirmation"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A forged confirmation link confirms nothing.
    let forged = app
        .call(Method::GET, "/sns/confirm/wh_nope/0000", None, None)
        .await;
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let _ = child.kill();
    let _ = child.wait();
}
