//! Local zones through the API, served by absender's own DNS server, and the
//! DKIM keys of requested identities published in the platform zone.

use crate::helpers::{ADMIN_KEY, code, spawn_app};
use base64::Engine;
use hickory_resolver::proto::rr::{RData, RecordType};
use reqwest::{Method, StatusCode};
use serde_json::json;

pub(crate) fn txt_of(lookup: &hickory_resolver::lookup::Lookup) -> Vec<String> {
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_operator_manages_local_zones_and_the_dns_server_answers_them() {
    let app = spawn_app().await;
    let zone = app
        .json(
            Method::POST,
            "/api/v1/dns/zones",
            Some(ADMIN_KEY),
            Some(json!({"name": "Acme.test."})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(zone["name"], "acme.test");
    let dup = app
        .json(
            Method::POST,
            "/api/v1/dns/zones",
            Some(ADMIN_KEY),
            Some(json!({"name": "acme.test"})),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(code(&dup), "zone_exists");

    let path = "/api/v1/dns/zones/acme.test/records";
    let cname = app
        .json(
            Method::POST,
            path,
            Some(ADMIN_KEY),
            Some(json!({"name": "sel._domainkey.acme.test.", "type": "CNAME", "value": "sel.dkim.absender.test."})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(
        cname["value"], "sel.dkim.absender.test",
        "trailing dot accepted and dropped"
    );
    assert_eq!(cname["ttl"], 300);
    let spf = json!({"name": "acme.test", "type": "TXT", "value": "v=spf1 include:spf.absender.test ~all", "ttl": 60});
    let spf = app
        .json(
            Method::POST,
            path,
            Some(ADMIN_KEY),
            Some(spf),
            StatusCode::CREATED,
        )
        .await;
    let listed = app
        .json(Method::GET, path, Some(ADMIN_KEY), None, StatusCode::OK)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    let r = app.resolver();
    let answer = r.lookup("acme.test.", RecordType::TXT).await.unwrap();
    assert_eq!(txt_of(&answer), ["v=spf1 include:spf.absender.test ~all"]);
    let answer = r
        .lookup("sel._domainkey.acme.test.", RecordType::CNAME)
        .await
        .unwrap();
    assert!(
        matches!(&answer.answers()[0].data, RData::CNAME(t) if t.0.to_ascii() == "sel.dkim.absender.test.")
    );

    let record = format!("{path}/{}", spf["id"].as_str().unwrap());
    assert_eq!(
        app.call(Method::DELETE, &record, Some(ADMIN_KEY), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    app.json(
        Method::DELETE,
        &record,
        Some(ADMIN_KEY),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        r.lookup("acme.test.", RecordType::TXT).await.is_err(),
        "gone from DNS at once"
    );

    assert_eq!(
        app.call(
            Method::DELETE,
            "/api/v1/dns/zones/acme.test",
            Some(ADMIN_KEY),
            None
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let zones = app
        .json(
            Method::GET,
            "/api/v1/dns/zones",
            Some(ADMIN_KEY),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(zones["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_zones_and_records_are_refused() {
    let app = spawn_app().await;
    let zones = "/api/v1/dns/zones";
    for (name, status, expected) in [
        (
            "dkim.absender.test",
            StatusCode::CONFLICT,
            "zone_overlaps_platform",
        ),
        (
            "x.spf.absender.test",
            StatusCode::CONFLICT,
            "zone_overlaps_platform",
        ),
        ("test", StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        (
            "bad name.test",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
    ] {
        let r = app
            .json(
                Method::POST,
                zones,
                Some(ADMIN_KEY),
                Some(json!({"name": name})),
                status,
            )
            .await;
        assert_eq!(code(&r), expected, "{name}");
    }
    app.json(
        Method::POST,
        zones,
        Some(ADMIN_KEY),
        Some(json!({"name": "acme.test"})),
        StatusCode::CREATED,
    )
    .await;
    let path = "/api/v1/dns/zones/acme.test/records";
    for body in [
        json!({"name": "www.other.test", "type": "A", "value": "192.0.2.1"}),
        json!({"name": "www.acme.test", "type": "SRV", "value": "x"}),
        json!({"name": "www.acme.test", "type": "A", "value": "not-an-ip"}),
        json!({"name": "acme.test", "type": "MX", "value": "mx.acme.test"}),
        json!({"name": "acme.test", "type": "TXT", "value": "a\r\nb"}),
        json!({"name": "www.acme.test", "type": "A", "value": "192.0.2.1", "ttl": 0}),
    ] {
        let r = app
            .json(
                Method::POST,
                path,
                Some(ADMIN_KEY),
                Some(body.clone()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(code(&r), "invalid_field", "{body}");
    }
    let r = app
        .json(
            Method::POST,
            "/api/v1/dns/zones/none.test/records",
            Some(ADMIN_KEY),
            Some(json!({"name": "none.test", "type": "A", "value": "192.0.2.1"})),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(code(&r), "not_found");
    let org = app.create_org("Acme", "en").await;
    app.json(
        Method::GET,
        zones,
        Some(&org.key),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    app.json(
        Method::POST,
        zones,
        Some(&org.key),
        Some(json!({"name": "evil.test"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    app.json(
        Method::DELETE,
        "/api/v1/dns/zones/acme.test",
        Some(&org.key),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn an_identitys_keys_are_published_as_2048_bit_rsa_and_withdrawn_with_it() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let target = records["records"][0]["value"].as_str().unwrap().to_string();
    let stored = app
        .app()
        .store()
        .dkim_key_by_selector(target.split('.').next().unwrap())
        .await
        .unwrap()
        .unwrap();

    let r = app.resolver();
    let txt = txt_of(
        &r.lookup(format!("{target}."), RecordType::TXT)
            .await
            .unwrap(),
    );
    assert_eq!(txt, [format!("v=DKIM1; k=rsa; p={}", stored.public_key)]);
    let p = txt[0].rsplit("p=").next().unwrap();
    let der = base64::engine::general_purpose::STANDARD.decode(p).unwrap();
    let key = aws_lc_rs::rsa::PublicEncryptingKey::from_der(&der).expect("SubjectPublicKeyInfo");
    assert_eq!(key.key_size_bits(), 2048);

    app.call(
        Method::DELETE,
        &format!("/api/v1/identities/{id}"),
        Some(&org.key),
        None,
    )
    .await;
    // Retired, and withdrawn by the next sweep: no queued mail needs it.
    app.app().sweep_retention().await.unwrap();
    assert!(
        r.lookup(format!("{target}."), RecordType::TXT)
            .await
            .unwrap_err()
            .is_nx_domain()
    );
}

#[tokio::test]
async fn dig_sees_the_key_nxdomain_and_refused() {
    let test = "dig_sees_the_key_nxdomain_and_refused";
    if crate::tools::program(test, "dig", None, "dnsutils").is_none() {
        return;
    }
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let target = records["records"][0]["value"].as_str().unwrap().to_string();
    let stored = app
        .app()
        .store()
        .dkim_key_by_selector(target.split('.').next().unwrap())
        .await
        .unwrap()
        .unwrap();
    let port = app.dns_addr.port().to_string();
    // Async, so that the server on this test's runtime keeps answering meanwhile.
    let dig = async |args: &[&str]| {
        let output = tokio::process::Command::new("dig")
            .args([
                "@127.0.0.1",
                "-p",
                &port,
                "+norecurse",
                "+time=2",
                "+tries=1",
            ])
            .args(args)
            .output()
            .await
            .expect("dig runs");
        String::from_utf8(output.stdout).unwrap()
    };

    for transport in ["+notcp", "+tcp"] {
        let short = dig(&[transport, "+short", &target, "TXT"]).await;
        // dig prints the strings quoted and space-separated: join them back.
        let joined: String = short
            .trim()
            .split("\" \"")
            .collect::<String>()
            .trim_matches('"')
            .to_string();
        assert_eq!(
            joined,
            format!("v=DKIM1; k=rsa; p={}", stored.public_key),
            "{transport}"
        );
        assert!(
            short
                .trim()
                .split("\" \"")
                .all(|s| s.trim_matches('"').len() <= 255)
        );
    }
    let nx = dig(&["nope.dkim.absender.test", "TXT"]).await;
    assert!(
        nx.contains("status: NXDOMAIN") && nx.contains("IN\tSOA"),
        "{nx}"
    );
    assert!(nx.contains("flags: qr aa"), "authoritative: {nx}");
    let refused = dig(&["example.com", "A"]).await;
    assert!(refused.contains("status: REFUSED"), "{refused}");
}
