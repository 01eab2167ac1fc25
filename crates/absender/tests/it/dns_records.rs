//! The records to publish: JSON with status, and the seed's CSV.

use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};

fn is_selector(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[tokio::test]
async fn records_are_three_dkim_cnames_and_the_spf_txt() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    let body = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let records = body["records"].as_array().unwrap();
    assert_eq!(records.len(), 6);
    let mut selectors = Vec::new();
    for r in &records[..3] {
        let name = r["name"].as_str().unwrap();
        let selector = name
            .strip_suffix("._domainkey.acme.test")
            .expect("a DKIM name");
        assert!(is_selector(selector), "{selector}");
        assert_eq!(r["type"], "CNAME");
        assert_eq!(r["value"], format!("{selector}.dkim.absender.test"));
        assert_eq!(r["purpose"], "dkim");
        assert_eq!(r["status"], "PENDING");
        selectors.push(selector.to_string());
    }
    selectors.dedup();
    assert_eq!(selectors.len(), 3, "three different selectors");
    assert_eq!(records[3]["name"], "acme.test");
    assert_eq!(records[3]["type"], "TXT");
    assert_eq!(records[3]["value"], "v=spf1 include:spf.absender.test ~all");
    assert_eq!(records[3]["purpose"], "spf");
    // The custom MAIL FROM domain: MX to the bounce host and its own SPF record.
    assert_eq!(records[4]["name"], "bounce.acme.test");
    assert_eq!(records[4]["type"], "MX");
    assert_eq!(records[4]["value"], "10 bounce.absender.test");
    assert_eq!(records[4]["purpose"], "mail_from");
    assert_eq!(records[5]["name"], "bounce.acme.test");
    assert_eq!(records[5]["type"], "TXT");
    assert_eq!(records[5]["value"], "v=spf1 include:spf.absender.test ~all");
}

#[tokio::test]
async fn csv_has_exactly_the_seeds_shape() {
    let app = spawn_app().await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .request_identity(&org, "events@acme.test", "recipients")
        .await;
    let id = identity["id"].as_str().unwrap();
    let json = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await;
    let response = app
        .call(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records.csv"),
            Some(&org.key),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("acme.test.csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], r#""Record name","Record type","Record Value""#);
    assert_eq!(lines.len(), 7);
    for (line, record) in lines[1..].iter().zip(json["records"].as_array().unwrap()) {
        let expected = format!(
            "\"{}\",\"{}\",\"{}\"",
            record["name"].as_str().unwrap(),
            record["type"].as_str().unwrap(),
            record["value"].as_str().unwrap()
        );
        assert_eq!(*line, expected);
    }
}
