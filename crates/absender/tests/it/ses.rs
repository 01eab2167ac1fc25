//! The SES v2 API driven by the real aws CLI (`aws sesv2 … --endpoint-url`):
//! SigV4 with an organization's access key, and AWS's error names for a wrong
//! secret, an unknown key, another region and a stale date.

use crate::helpers::{TestApp, spawn_app};
use crate::tools::aws_cli;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::process::{Command, Output};
use std::time::Duration;

/// `aws sesv2 <args>` against `app` with the given key, nothing from ~/.aws.
fn sesv2(aws: &str, app: &TestApp, key: (&str, &str), region: &str, args: &[&str]) -> Output {
    Command::new(aws)
        .args([
            "sesv2",
            "--endpoint-url",
            &app.base,
            "--region",
            region,
            "--output",
            "json",
        ])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

fn refused_as(output: &Output, name: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains(name), "expected {name}: {stdout}{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_signs_with_an_access_key_and_reads_the_account() {
    let Some(aws) = aws_cli("the_aws_cli_signs_with_an_access_key_and_reads_the_account") else {
        return;
    };
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let (key_id, secret) = app.access_key(&acme).await;
    let run = |key: (&str, &str), region: &str| {
        tokio::task::block_in_place(|| sesv2(&aws, &app, key, region, &["get-account"]))
    };

    let ok = run((&key_id, &secret), "eu-central-1");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let account: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(account["SendQuota"]["Max24HourSend"], -1.0, "{account}");
    assert_eq!(account["SendQuota"]["SentLast24Hours"], 0.0);
    assert_eq!(account["EnforcementStatus"], "HEALTHY");
    assert_eq!(account["ProductionAccessEnabled"], true);

    let wrong = format!("{}x", &secret[..39]);
    refused_as(
        &run((&key_id, &wrong), "eu-central-1"),
        "SignatureDoesNotMatch",
    );
    refused_as(
        &run(("AKIAUNKNOWN000000000", &secret), "eu-central-1"),
        "UnrecognizedClient",
    );
    refused_as(
        &run((&key_id, &secret), "us-east-1"),
        "SignatureDoesNotMatch",
    );

    // Revoked: refused at once.
    let path = format!("/api/v1/access-keys/{key_id}");
    app.json(
        Method::DELETE,
        &path,
        Some(&acme.key),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    refused_as(
        &run((&key_id, &secret), "eu-central-1"),
        "UnrecognizedClient",
    );

    // absender's clock ten minutes ahead: the CLI's date is stale.
    let (key_id, secret) = app.access_key(&acme).await;
    assert!(run((&key_id, &secret), "eu-central-1").status.success());
    // An operation absender does not offer: SES's plain refusal.
    let pools = tokio::task::block_in_place(|| {
        sesv2(
            &aws,
            &app,
            (&key_id, &secret),
            "eu-central-1",
            &["list-dedicated-ip-pools"],
        )
    });
    refused_as(&pools, "BadRequestException");
    refused_as(&pools, "not supported by absender");

    app.advance(Duration::from_secs(600));
    refused_as(&run((&key_id, &secret), "eu-central-1"), "InvalidSignature");
}

#[tokio::test]
async fn an_unsigned_request_gets_aws_names_and_a_request_id() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/v2/email/account", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let headers = response.headers().clone();
    assert_eq!(headers["x-amzn-ErrorType"], "MissingAuthenticationToken");
    assert_eq!(headers["x-amzn-RequestId"].len(), 36);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].is_string());
    let token = app
        .http
        .get(format!("{}/v2/email/account", app.base))
        .header("X-Amz-Security-Token", "session")
        .send()
        .await
        .unwrap();
    assert_eq!(token.headers()["x-amzn-ErrorType"], "UnrecognizedClient");
}

/// AWS's documented derivation of an SES SMTP password, in Python (an
/// implementation that is not absender's), then a submission with smtplib.
const SMTPLIB_SEND: &str = r#"
import base64, hashlib, hmac, smtplib, ssl, sys
secret, region, port, user, subject, mode = sys.argv[1:7]
def sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()
signature = sign(("AWS4" + secret).encode("utf-8"), "11111111")
for part in (region, "ses", "aws4_request", "SendRawEmail"):
    signature = sign(signature, part)
password = base64.b64encode(bytes([4]) + signature).decode("utf-8")
tls = ssl.create_default_context()
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE
if mode == "implicit":
    smtp = smtplib.SMTP_SSL("127.0.0.1", int(port), timeout=20, context=tls)
else:
    smtp = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
    smtp.starttls(context=tls)
with smtp:
    smtp.login(user, password)
    smtp.sendmail("events@acme.test", ["guest@example.test"],
        "From: Acme <events@acme.test>\r\nTo: <guest@example.test>\r\nSubject: " + subject + "\r\n\r\nSee you.\r\n")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_sends_with_the_ses_smtp_password_derived_from_an_access_key() {
    let test = "python_smtplib_sends_with_the_ses_smtp_password_derived_from_an_access_key";
    let Some(python) = crate::tools::python_with_dkimpy(test) else {
        return;
    };
    // Both listeners: STARTTLS, and TLS from the first byte (port 465 style).
    let dir = tempfile::tempdir().unwrap();
    let mut config = absender::config::Config {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    config.smtp.listen_tls = Some("127.0.0.1:0".parse().unwrap());
    let app = crate::helpers::spawn_with(config, Some(dir)).await;
    let (org, _) = crate::messages::acme(&app).await;
    let (key_id, secret) = app.access_key(&org).await;
    let (key_id, secret) = (key_id.as_str(), secret.as_str());
    let starttls = app.smtp_addr.port().to_string();
    let implicit = app.smtp_tls_addr().unwrap().port().to_string();
    let send_to = |port: &str, mode: &str, secret: &str, region: &str, subject: &str| {
        tokio::task::block_in_place(|| {
            Command::new(&python)
                .args([
                    "-c",
                    SMTPLIB_SEND,
                    secret,
                    region,
                    port,
                    key_id,
                    subject,
                    mode,
                ])
                .output()
                .unwrap()
        })
    };
    let send = |secret: &str, region: &str, subject: &str| {
        send_to(&starttls, "starttls", secret, region, subject)
    };
    let sent = send(secret, "eu-central-1", "Buchung per SES SMTP");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    // Accepted for Acme as a booking, through the same pipeline as any login.
    let outbox = app.operator_outbox().await;
    let booked = |outbox: &[Value]| {
        outbox
            .iter()
            .filter(|m| m["org_id"] == org.id.as_str() && m["category"] == "booking")
            .count()
    };
    assert_eq!(booked(&outbox), 1, "{outbox:?}");
    // The password of another region, or of another secret, is no login.
    for (secret, region) in [(secret, "us-east-1"), ("not-the-secret", "eu-central-1")] {
        let refused = send(secret, region, "nope");
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("SMTPAuthenticationError"), "{stderr}");
    }
    assert_eq!(
        booked(&app.operator_outbox().await),
        1,
        "nothing more was accepted"
    );
    // The same login over TLS from the first byte.
    let sent = send_to(&implicit, "implicit", secret, "eu-central-1", "Port 465");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(booked(&app.operator_outbox().await), 2);
}

/// botocore's own signer on a request the aws CLI does not make: the newer
/// model's `POST /v2/email/list-identities` with a JSON body.
const BOTOCORE_POST: &str = r#"
import json, sys, urllib.request
try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:  # the aws CLI 1.46 carries its own botocore
    from awscli.botocore.auth import SigV4Auth
    from awscli.botocore.awsrequest import AWSRequest
    from awscli.botocore.credentials import Credentials
base, key, secret = sys.argv[1:4]
body = json.dumps({"PageSize": 1})
request = AWSRequest(method="POST", url=base + "/v2/email/list-identities", data=body,
                     headers={"Content-Type": "application/json"})
SigV4Auth(Credentials(key, secret), "ses", "eu-central-1").add_auth(request)
prepared = request.prepare()
answer = urllib.request.urlopen(urllib.request.Request(
    prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST"))
print(answer.read().decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_are_listed_by_either_model_a_page_at_a_time() {
    let test = "identities_are_listed_by_either_model_a_page_at_a_time";
    let (Some(aws), Some(python)) = (aws_cli(test), crate::tools::python_with_dkimpy(test)) else {
        return;
    };
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    for address in ["events@acme.test", "tickets@acme.test"] {
        app.request_identity(&acme, address, "all").await;
    }
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    // The aws CLI (GET /v2/email/identities), a page at a time by NextToken.
    let page = |extra: &[&str]| {
        let mut args = vec!["list-email-identities", "--page-size", "1"];
        args.extend_from_slice(extra);
        let out = tokio::task::block_in_place(|| sesv2(&aws, &app, key, "eu-central-1", &args));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = page(&[]);
    assert_eq!(
        first["EmailIdentities"].as_array().unwrap().len(),
        1,
        "{first}"
    );
    assert_eq!(first["EmailIdentities"][0]["IdentityType"], "EMAIL_ADDRESS");
    assert_eq!(first["EmailIdentities"][0]["VerificationStatus"], "PENDING");
    let token = first["NextToken"].as_str().unwrap();
    let second = page(&["--next-token", token]);
    assert!(second.get("NextToken").is_none(), "the last page: {second}");
    let mut names =
        [&first, &second].map(|p| p["EmailIdentities"][0]["IdentityName"].as_str().unwrap());
    names.sort_unstable();
    assert_eq!(names, ["events@acme.test", "tickets@acme.test"]);

    // botocore's signer, the newer model's POST: one page and a token.
    let posted = tokio::task::block_in_place(|| {
        Command::new(&python)
            .args(["-c", BOTOCORE_POST, &app.base, key.0, key.1])
            .output()
            .unwrap()
    });
    assert!(
        posted.status.success(),
        "{}",
        String::from_utf8_lossy(&posted.stderr)
    );
    let page: Value = serde_json::from_slice(&posted.stdout).unwrap();
    assert_eq!(
        page["EmailIdentities"].as_array().unwrap().len(),
        1,
        "{page}"
    );
    assert!(page["NextToken"].is_string(), "{page}");

    // Another organization's key sees none of them.
    let other = app.create_org("Other", "en").await;
    let (their_id, their_secret) = app.access_key(&other).await;
    let theirs_key = (their_id.as_str(), their_secret.as_str());
    let none = tokio::task::block_in_place(|| {
        sesv2(
            &aws,
            &app,
            theirs_key,
            "eu-central-1",
            &["list-email-identities"],
        )
    });
    let none: Value = serde_json::from_slice(&none.stdout).unwrap();
    assert_eq!(none["EmailIdentities"], serde_json::json!([]));
}
