//! An independent verifier: Python's dkimpy checks absender's signatures,
//! fetching the keys from absender's own DNS server (dnspython, loopback only).

use crate::helpers::TestApp;
use crate::messages::{accepted, acme, booking, raw};
use serde_json::{Value, json};

/// Verifies every DKIM-Signature of the message on stdin; prints [[d, ok], …].
const VERIFY: &str = r#"
import json, sys, dkim, dns.resolver
port = int(sys.argv[1])
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = port
def txt(name, timeout=5):
    answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    return b"".join(b"".join(r.strings) for r in answer)
message = sys.stdin.buffer.read()
verifier = dkim.DKIM(message)
count = message.count(b"DKIM-Signature:")
results = []
for i in range(count):
    try:
        ok = verifier.verify(idx=i, dnsfunc=txt)
    except dkim.ValidationError:
        ok = False
    results.append([verifier.domain.decode(), bool(ok)])
print(json.dumps(results))
"#;

pub(crate) async fn dkimpy(app: &TestApp, python: &str, raw: &[u8]) -> Value {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(python)
        .args(["-c", VERIFY, &app.dns_addr.port().to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    child.stdin.take().unwrap().write_all(raw).await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "dkimpy failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn dkimpy_verifies_the_customer_and_the_platform_signature() {
    let test = "dkimpy_verifies_the_customer_and_the_platform_signature";
    let Some(python) = crate::tools::python_with_dkimpy(test) else {
        return;
    };
    let app = crate::helpers::spawn_app().await;
    let (org, _) = acme(&app).await;
    let body = booking(json!({
        "subject": "Ihre Buchung für Käthe Müller",
        "html": "<p>Bis bald!</p>",
        "to": ["gaeste@bücher.example"],
        "attachments": [{"filename": "ticket.txt", "content_type": "text/plain", "content_base64": "VGlja2V0"}]
    }));
    let id = accepted(&app, &org, body).await;
    let raw = raw(&app, &org, &id).await;
    let verdicts = dkimpy(&app, &python, &raw).await;
    assert_eq!(
        verdicts,
        json!([["acme.test", true], ["absender.test", true]])
    );

    // A changed body fails, so the check is real.
    let mut tampered = raw.to_vec();
    let at = tampered
        .windows(8)
        .position(|w| w == b"Bis bald")
        .unwrap_or(tampered.len() - 10);
    tampered[at] ^= 0x01;
    let verdicts = dkimpy(&app, &python, &tampered).await;
    assert_eq!(
        verdicts,
        json!([["acme.test", false], ["absender.test", false]])
    );
}

#[tokio::test]
async fn dkimpy_verifies_the_ed25519_signature_beside_the_rsa_ones() {
    let test = "dkimpy_verifies_the_ed25519_signature_beside_the_rsa_ones";
    let Some(python) = crate::tools::python_with_dkimpy(test) else {
        return;
    };
    let app = crate::helpers::spawn_app().await;
    crate::messages::publish_platform_key(&app).await;
    let org = app.upgraded_org("Acme", "en").await;
    let identity = app
        .json(
            reqwest::Method::POST,
            "/api/v1/identities",
            Some(&org.key),
            Some(json!({"address": "events@acme.test", "scope": "all", "dkim_ed25519": true})),
            reqwest::StatusCode::CREATED,
        )
        .await;
    app.confirm("events@acme.test").await;
    app.publish(&org, &identity).await;
    let checked = app.check(&org, identity["id"].as_str().unwrap()).await;
    assert_eq!(checked["status"], "SUCCESS");
    let id = accepted(&app, &org, booking(json!({"from": "events@acme.test"}))).await;
    let raw = raw(&app, &org, &id).await;
    assert!(String::from_utf8_lossy(&raw).contains("a=ed25519-sha256"));
    // RSA on top, then Ed25519 (RFC 8463), then the platform's.
    let verdicts = dkimpy(&app, &python, &raw).await;
    assert_eq!(
        verdicts,
        json!([
            ["acme.test", true],
            ["acme.test", true],
            ["absender.test", true]
        ])
    );
}
