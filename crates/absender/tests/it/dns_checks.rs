//! Automatic verification: published records are seen in one check, each
//! mistake is named, and statuses follow the 72 h and 24 h rules.

use crate::helpers::{ADMIN_KEY, Org, TestApp, code, codes, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// An identity whose first (immediate, background) check has run, so that no
/// check races with what the test publishes next.
async fn requested(app: &TestApp, address: &str) -> (Org, Value) {
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app.request_identity(&org, address, "all").await;
    let id = identity["id"].as_str().unwrap().to_string();
    let identity = app
        .wait_for(&org, &id, Duration::from_secs(10), |i| {
            i["parts"]["dkim"]["last_checked_at"].is_string()
        })
        .await;
    (org, identity)
}

fn id(identity: &Value) -> String {
    identity["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn published_records_verify_the_identity_in_one_check() {
    let app = spawn_app().await;
    let (org, identity) = requested(&app, "events@acme.test").await;
    app.confirm("events@acme.test").await;
    app.publish(&org, &identity).await;
    let checked = app.check(&org, &id(&identity)).await;
    assert_eq!(checked["status"], "SUCCESS", "{checked}");
    for part in ["dkim", "spf", "mail_from"] {
        let p = &checked["parts"][part];
        assert_eq!(p["status"], "SUCCESS");
        assert_eq!(p["diagnostics"], json!([]));
        assert!(p["last_success_at"].is_string() && p["last_checked_at"].is_string());
        assert_eq!(p["soa"]["zone"], "acme.test");
        assert_eq!(p["soa"]["primary_ns"], "ns1.absender.test");
        assert_eq!(p["soa"]["serial"], 7, "the zone's serial after six records");
    }
    assert_eq!(codes(&checked, "dmarc"), ["dmarc_missing"], "advice only");
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{}/dns-records", id(&identity)),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        records["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "SUCCESS")
    );

    let events = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{}/events", id(&identity)),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let moves: Vec<(String, String, String)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["part"].as_str().unwrap().into(),
                e["from"].as_str().unwrap().into(),
                e["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    for expected in [
        ("address", "PENDING", "SUCCESS"),
        ("dkim", "PENDING", "SUCCESS"),
        ("spf", "PENDING", "SUCCESS"),
        ("identity", "PENDING", "SUCCESS"),
    ] {
        let expected = (
            expected.0.to_string(),
            expected.1.to_string(),
            expected.2.to_string(),
        );
        assert!(moves.contains(&expected), "{expected:?} in {moves:?}");
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
    let notice = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["to"][0] == "team@example.test")
        .expect("a notice to the contact");
    assert_eq!(notice["subject"], "events@acme.test is ready");
}

#[tokio::test]
async fn the_first_check_runs_at_once_when_an_identity_is_requested() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    // Records published before the request (keys exist for the domain already).
    let first = app.request_identity(&org, "info@acme.test", "all").await;
    app.publish(&org, &first).await;
    let second = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let seen = app
        .wait_for(&org, &id(&second), Duration::from_secs(5), |i| {
            i["parts"]["dkim"]["status"] == "SUCCESS"
        })
        .await;
    assert_eq!(seen["parts"]["spf"]["status"], "SUCCESS");
}

/// Publishes the identity's records with `edit` applied, checks, returns the identity.
async fn check_with(
    app: &TestApp,
    address: &str,
    edit: impl Fn(&str, &str, &str, &str) -> Vec<(String, String, String)>,
) -> Value {
    let (org, identity) = requested(app, address).await;
    let domain = identity["domain"].as_str().unwrap().to_string();
    app.zone(&domain).await;
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{}/dns-records", id(&identity)),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    for r in records["records"].as_array().unwrap() {
        for (name, rtype, value) in edit(
            &domain,
            r["name"].as_str().unwrap(),
            r["type"].as_str().unwrap(),
            r["value"].as_str().unwrap(),
        ) {
            app.record(&domain, &name, &rtype, &value).await;
        }
    }
    app.check(&org, &id(&identity)).await
}

/// Turns one required record (domain, name, type, value) into what gets published.
type Edit = dyn Fn(&str, &str, &str, &str) -> Vec<(String, String, String)>;

fn keep(name: &str, rtype: &str, value: &str) -> Vec<(String, String, String)> {
    vec![(name.to_string(), rtype.to_string(), value.to_string())]
}

#[tokio::test]
async fn each_dkim_mistake_is_named_with_the_record_that_fixes_it() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Box<Edit>)> = vec![
        (
            "record_missing",
            Box::new(|_, name, rtype, value| {
                if rtype == "CNAME" {
                    vec![]
                } else {
                    keep(name, rtype, value)
                }
            }),
        ),
        (
            "cname_wrong_target",
            Box::new(|_, name, rtype, value| {
                if rtype == "CNAME" {
                    keep(name, rtype, "elsewhere.example.test")
                } else {
                    keep(name, rtype, value)
                }
            }),
        ),
        (
            "txt_instead_of_cname",
            Box::new(|_, name, rtype, value| {
                if rtype == "CNAME" {
                    keep(name, "TXT", "v=DKIM1; k=rsa; p=NOTOURKEY")
                } else {
                    keep(name, rtype, value)
                }
            }),
        ),
        (
            "cname_with_other_data",
            Box::new(|_, name, rtype, value| {
                let mut r = keep(name, rtype, value);
                if rtype == "CNAME" {
                    r.push((name.into(), "TXT".into(), "v=DKIM1; p=old".into()))
                }
                r
            }),
        ),
        (
            "dkim_multiple_records",
            Box::new(|_, name, rtype, value| {
                if rtype == "CNAME" {
                    vec![
                        (name.into(), "TXT".into(), "v=DKIM1; p=a".into()),
                        (name.into(), "TXT".into(), "v=DKIM1; p=b".into()),
                    ]
                } else {
                    keep(name, rtype, value)
                }
            }),
        ),
        (
            "domain_appended_twice",
            Box::new(|domain, name, rtype, value| {
                if rtype == "CNAME" {
                    keep(&format!("{name}.{domain}"), rtype, value)
                } else {
                    keep(name, rtype, value)
                }
            }),
        ),
    ];
    for (n, (expected, edit)) in cases.into_iter().enumerate() {
        let checked = check_with(&app, &format!("events@case{n}.test"), edit).await;
        assert_eq!(checked["parts"]["dkim"]["status"], "PENDING", "{expected}");
        let diagnostics = checked["parts"]["dkim"]["diagnostics"].as_array().unwrap();
        assert_eq!(diagnostics[0]["code"], expected, "{checked}");
        let record = diagnostics[0]["record"].as_str().unwrap();
        assert!(
            record.contains("._domainkey.")
                && record.contains(" CNAME ")
                && record.contains(".dkim.absender.test"),
            "{record}"
        );
        assert!(checked["parts"]["dkim"]["error_type"].is_string());
        assert_eq!(
            checked["parts"]["spf"]["status"], "SUCCESS",
            "{expected}: only DKIM is wrong"
        );
    }
}

#[tokio::test]
async fn our_own_key_published_as_txt_is_accepted() {
    let app = spawn_app().await;
    let (org, identity) = requested(&app, "events@txtkey.test").await;
    let keys = app
        .app()
        .store()
        .dkim_keys(&org.id, "txtkey.test")
        .await
        .unwrap();
    app.zone("txtkey.test").await;
    for key in &keys {
        // As the TXT value of a 2048-bit key is long, providers split it into quoted parts.
        let (a, b) = key.public_key.split_at(200);
        app.record(
            "txtkey.test",
            &format!("{}._domainkey.txtkey.test", key.selector),
            "TXT",
            &format!("\"v=DKIM1; k=rsa; p={a}\" \"{b}\""),
        )
        .await;
    }
    app.record(
        "txtkey.test",
        "txtkey.test",
        "TXT",
        "v=spf1 include:spf.absender.test ~all",
    )
    .await;
    let checked = app.check(&org, &id(&identity)).await;
    assert_eq!(checked["parts"]["dkim"]["status"], "SUCCESS", "{checked}");
}

#[tokio::test]
async fn each_spf_mistake_is_named() {
    let app = spawn_app().await;
    let spf = |policies: Vec<&'static str>| {
        move |_: &str, name: &str, rtype: &str, value: &str| -> Vec<(String, String, String)> {
            if rtype == "TXT" {
                policies
                    .iter()
                    .map(|p| (name.to_string(), "TXT".to_string(), p.to_string()))
                    .collect()
            } else {
                keep(name, rtype, value)
            }
        }
    };
    let cases: Vec<(&str, Vec<&'static str>)> = vec![
        ("spf_missing", vec!["google-site-verification=abc"]),
        (
            "spf_multiple_records",
            vec!["v=spf1 include:spf.absender.test ~all", "v=spf1 mx -all"],
        ),
        ("spf_not_authorized", vec!["v=spf1 -all"]),
        (
            "spf_not_authorized",
            vec!["v=spf1 ~all include:spf.absender.test"],
        ),
        ("spf_syntax", vec!["v=spf1 includ:spf.absender.test ~all"]),
        (
            "spf_too_many_lookups",
            vec![
                "v=spf1 include:spf.absender.test a mx a:a1.x.test a:a2.x.test a:a3.x.test a:a4.x.test a:a5.x.test a:a6.x.test a:a7.x.test a:a8.x.test ~all",
            ],
        ),
    ];
    for (n, (expected, policies)) in cases.into_iter().enumerate() {
        let checked = check_with(&app, &format!("events@spf{n}.test"), spf(policies.clone())).await;
        assert_eq!(checked["parts"]["spf"]["status"], "PENDING", "{expected}");
        assert_eq!(
            codes(&checked, "spf"),
            [expected],
            "{policies:?}: {checked}"
        );
        assert_eq!(
            checked["parts"]["spf"]["diagnostics"][0]["record"],
            format!("spf{n}.test TXT \"v=spf1 include:spf.absender.test ~all\"")
        );
        assert_eq!(checked["parts"]["dkim"]["status"], "SUCCESS");
    }
    // The include need not come first: the policy is evaluated, not string-matched.
    let ok = check_with(
        &app,
        "events@spfok.test",
        spf(vec![
            "v=spf1 ip4:192.0.2.0/24 mx include:spf.absender.test -all",
        ]),
    )
    .await;
    assert_eq!(ok["parts"]["spf"]["status"], "SUCCESS", "{ok}");
}

#[tokio::test]
async fn freemail_addresses_are_refused_at_request_time() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    for address in ["someone@gmail.com", "Someone@GMX.de", "x@web.de"] {
        let r = app
            .json(
                Method::POST,
                "/api/v1/identities",
                Some(&org.key),
                Some(json!({"address": address, "scope": "all"})),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(code(&r), "freemail_domain");
    }
}

#[tokio::test]
async fn dmarc_is_advice_that_never_blocks() {
    let app = spawn_app().await;
    let (org, identity) = requested(&app, "events@dmarc.test").await;
    app.confirm("events@dmarc.test").await;
    app.publish(&org, &identity).await;
    let checked = app.check(&org, &id(&identity)).await;
    assert_eq!(checked["status"], "SUCCESS");
    assert_eq!(codes(&checked, "dmarc"), ["dmarc_missing"]);
    let advice = &checked["parts"]["dmarc"]["diagnostics"][0];
    assert_eq!(
        advice["record"],
        "_dmarc.dmarc.test TXT \"v=DMARC1; p=none\""
    );
    app.record("dmarc.test", "_dmarc.dmarc.test", "TXT", "v=DMARC1; p=none")
        .await;
    let checked = app.check(&org, &id(&identity)).await;
    assert!(codes(&checked, "dmarc").is_empty());
}

#[tokio::test]
async fn pending_fails_after_72_hours_and_a_restart_starts_over() {
    let app = spawn_app().await;
    let (org, identity) = requested(&app, "events@late.test").await;
    app.zone("late.test").await;
    app.confirm("events@late.test").await;
    app.advance(Duration::from_secs(71 * 3600));
    assert_eq!(app.check(&org, &id(&identity)).await["status"], "PENDING");
    app.advance(Duration::from_secs(3600));
    let failed = app.check(&org, &id(&identity)).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["parts"]["dkim"]["status"], "FAILED");
    assert!(
        failed["next_check_at"].is_null(),
        "no more automatic checks"
    );
    let outbox = app
        .json(
            Method::GET,
            "/api/v1/outbox",
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["subject"] == "events@late.test could not be set up")
    );

    app.publish(&org, &identity).await;
    assert_eq!(
        app.check(&org, &id(&identity)).await["status"],
        "FAILED",
        "FAILED waits for a restart"
    );
    let restarted = app
        .json(
            Method::POST,
            &format!("/api/v1/identities/{}/restart", id(&identity)),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_ne!(restarted["status"], "FAILED");
    let verified = app
        .wait_for(&org, &id(&identity), Duration::from_secs(5), |i| {
            i["status"] == "SUCCESS"
        })
        .await;
    assert_eq!(verified["parts"]["dkim"]["status"], "SUCCESS");
}

#[tokio::test]
async fn a_restart_gives_the_records_another_72_hours() {
    let app = spawn_app().await;
    let (org, identity) = requested(&app, "events@again.test").await;
    app.zone("again.test").await;
    app.advance(Duration::from_secs(73 * 3600));
    assert_eq!(app.check(&org, &id(&identity)).await["status"], "FAILED");
    let path = format!("/api/v1/identities/{}/restart", id(&identity));
    app.json(Method::POST, &path, Some(&org.key), None, StatusCode::OK)
        .await;
    // Still no records: waiting again, counted from the restart, not from
    // the request three days ago.
    let checked = app.check(&org, &id(&identity)).await;
    assert_eq!(checked["parts"]["dkim"]["status"], "PENDING", "{checked}");
    app.advance(Duration::from_secs(71 * 3600));
    assert_eq!(
        app.check(&org, &id(&identity)).await["parts"]["dkim"]["status"],
        "PENDING"
    );
    app.advance(Duration::from_secs(2 * 3600));
    assert_eq!(app.check(&org, &id(&identity)).await["status"], "FAILED");
}

#[tokio::test]
async fn a_verified_identity_is_rechecked_daily_breaks_and_is_repaired() {
    let app = spawn_app().await;
    let (org, identity) = requested(&app, "events@daily.test").await;
    app.confirm("events@daily.test").await;
    let ids = app.publish(&org, &identity).await;
    assert_eq!(app.check(&org, &id(&identity)).await["status"], "SUCCESS");

    // The customer deletes one CNAME; the scheduler notices on the daily re-check.
    app.call(
        Method::DELETE,
        &format!("/api/v1/dns/zones/daily.test/records/{}", ids[1]),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    app.advance(Duration::from_secs(23 * 3600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.identity(&org, &id(&identity)).await["status"],
        "SUCCESS",
        "not due before 24 h"
    );
    app.advance(Duration::from_secs(3600));
    let broken = app
        .wait_for(&org, &id(&identity), Duration::from_secs(5), |i| {
            i["status"] == "TEMPORARY_FAILURE"
        })
        .await;
    assert_eq!(codes(&broken, "dkim"), ["record_missing"]);
    assert!(
        broken["parts"]["dkim"]["last_success_at"].is_string(),
        "when it last worked"
    );
    let notice = app
        .wait_outbox(&org.key, "Problem with events@daily.test")
        .await;
    let full = app
        .json(
            Method::GET,
            &format!("/api/v1/outbox/{}", notice["id"].as_str().unwrap()),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(
        full["text"]
            .as_str()
            .unwrap()
            .contains("._domainkey.daily.test CNAME "),
        "names the fixing record"
    );

    // Repaired: SUCCESS again.
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{}/dns-records", id(&identity)),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let missing = &records["records"][1];
    app.record(
        "daily.test",
        missing["name"].as_str().unwrap(),
        "CNAME",
        missing["value"].as_str().unwrap(),
    )
    .await;
    assert_eq!(app.check(&org, &id(&identity)).await["status"], "SUCCESS");

    // Broken again and not repaired within 72 h: FAILED.
    let records = app
        .json(
            Method::GET,
            "/api/v1/dns/zones/daily.test/records",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let cname = records["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "CNAME")
        .unwrap();
    app.call(
        Method::DELETE,
        &format!(
            "/api/v1/dns/zones/daily.test/records/{}",
            cname["id"].as_str().unwrap()
        ),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert_eq!(
        app.check(&org, &id(&identity)).await["status"],
        "TEMPORARY_FAILURE"
    );
    app.advance(Duration::from_secs(72 * 3600));
    assert_eq!(app.check(&org, &id(&identity)).await["status"], "FAILED");
}

#[tokio::test]
async fn the_mail_from_domain_is_checked_but_optional() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let bad = app
        .json(
            Method::POST,
            "/api/v1/identities",
            Some(&org.key),
            Some(json!({"address": "events@mf.test", "scope": "all", "mail_from_domain": "other.test"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(code(&bad), "invalid_field");
    let identity = app
        .json(
            Method::POST,
            "/api/v1/identities",
            Some(&org.key),
            Some(json!({"address": "events@mf.test", "scope": "all", "mail_from_domain": "mail.mf.test"})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(identity["mail_from_domain"], "mail.mf.test");
    app.confirm("events@mf.test").await;
    app.zone("mf.test").await;
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{}/dns-records", id(&identity)),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    // Publish everything but the MAIL FROM records: the identity is ready anyway.
    for r in records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] != "mail_from")
    {
        app.record(
            "mf.test",
            r["name"].as_str().unwrap(),
            r["type"].as_str().unwrap(),
            r["value"].as_str().unwrap(),
        )
        .await;
    }
    let checked = app.check(&org, &id(&identity)).await;
    assert_eq!(checked["status"], "SUCCESS", "{checked}");
    assert_eq!(checked["parts"]["mail_from"]["status"], "PENDING");
    assert_eq!(
        codes(&checked, "mail_from"),
        ["record_missing", "spf_missing"]
    );
    assert_eq!(
        checked["parts"]["mail_from"]["diagnostics"][0]["record"],
        "mail.mf.test MX 10 bounce.absender.test"
    );

    app.record("mf.test", "mail.mf.test", "MX", "10 mx.elsewhere.test")
        .await;
    app.record(
        "mf.test",
        "mail.mf.test",
        "TXT",
        "v=spf1 include:spf.absender.test -all",
    )
    .await;
    let checked = app.check(&org, &id(&identity)).await;
    assert_eq!(codes(&checked, "mail_from"), ["mx_wrong_target"]);

    let zone_records = app
        .json(
            Method::GET,
            "/api/v1/dns/zones/mf.test/records",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    let wrong = zone_records["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "MX")
        .unwrap();
    app.call(
        Method::DELETE,
        &format!(
            "/api/v1/dns/zones/mf.test/records/{}",
            wrong["id"].as_str().unwrap()
        ),
        Some(ADMIN_KEY),
        None,
    )
    .await;
    app.record("mf.test", "mail.mf.test", "MX", "10 bounce.absender.test.")
        .await;
    let checked = app.check(&org, &id(&identity)).await;
    assert_eq!(
        checked["parts"]["mail_from"]["status"], "SUCCESS",
        "{checked}"
    );
    assert_eq!(checked["status"], "SUCCESS");
}

#[tokio::test]
async fn findings_an_older_absender_stored_as_words_are_rewritten_as_data() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "de").await;
    let identity = app.request_identity(&org, "events@older.test", "all").await;
    let id = id(&identity);
    app.wait_for(&org, &id, Duration::from_secs(10), |i| {
        i["parts"]["dkim"]["last_checked_at"].is_string()
    })
    .await;
    let store = app.app().store();
    let name = "s1._domainkey.older.test";
    let record = format!("{name} CNAME s1.dkim.absender.test");
    let worded = |message: String| json!({"code": "cname_wrong_target", "message": message, "record": record});
    let by_locale = json!({
        "de": [worded(format!("Der CNAME-Eintrag {name} zeigt auf elsewhere.example., muss aber auf s1.dkim.absender.test zeigen."))],
        "en": [worded(format!("The CNAME record {name} points to elsewhere.example. but must point to s1.dkim.absender.test."))],
    })
    .to_string();
    let read = || async {
        let checks = store.identity_checks(&id).await.unwrap();
        checks
            .into_iter()
            .find(|c| c.part == "dkim")
            .unwrap()
            .diagnostics
    };
    let current = read().await;
    store
        .replace_findings(&id, "dkim", &current, &by_locale)
        .await
        .unwrap();
    assert_eq!(read().await, by_locale);

    // The start ran the upgrade once; it does not scan the table again.
    let upgraded = app.app().identities().upgrade_stored_findings().await;
    assert_eq!(upgraded.unwrap(), 0);
    // Read as they are meanwhile, in the organization's language.
    let shown = app.identity(&org, &id).await;
    assert_eq!(
        shown["parts"]["dkim"]["diagnostics"][0]["found"],
        json!(["elsewhere.example."])
    );
    assert_eq!(
        app.app()
            .identities()
            .rewrite_worded_findings()
            .await
            .unwrap(),
        1
    );
    let upgraded: Value = serde_json::from_str(&read().await).unwrap();
    assert_eq!(
        upgraded,
        json!([{
            "code": "cname_wrong_target",
            "fix": {"name": name, "type": "CNAME", "value": "s1.dkim.absender.test"},
            "found": ["elsewhere.example."],
        }]),
        "codes and parameters, no words"
    );
    assert_eq!(
        app.app()
            .identities()
            .rewrite_worded_findings()
            .await
            .unwrap(),
        0,
        "rows already data stay"
    );
    let shown = app.identity(&org, &id).await;
    let finding = &shown["parts"]["dkim"]["diagnostics"][0];
    assert_eq!(
        finding["message"],
        format!(
            "Der CNAME-Eintrag {name} zeigt auf elsewhere.example., muss aber auf s1.dkim.absender.test zeigen."
        ),
        "the organization's language, from the parameters: {shown}"
    );
    assert_eq!(finding["record"], record);
    assert_eq!(finding["found"], json!(["elsewhere.example."]));
}
