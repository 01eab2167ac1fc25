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

    // One character changed (a random secret may end in "x" already).
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &secret[..39]);
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

    // A send's body may be as large as a message only for a known key: a
    // stranger's 2 MiB is refused before it is read whole.
    let stranger = "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN000000000/20261207/eu-central-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=".to_string() + &"0".repeat(64);
    let large = app
        .http
        .post(format!("{}/v2/email/outbound-emails", app.base))
        .header("authorization", stranger)
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE);
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

/// `aws sesv2 <args>` as `key`, in the default region; the JSON answer, or
/// the CLI's error output.
fn sesv2_json(aws: &str, app: &TestApp, key: (&str, &str), args: &[&str]) -> Result<Value, String> {
    let output = tokio::task::block_in_place(|| sesv2(aws, app, key, "eu-central-1", args));
    if !output.status.success() {
        return Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_slice(&output.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_are_created_verified_read_and_deleted_with_the_aws_cli() {
    let Some(aws) = aws_cli("identities_are_created_verified_read_and_deleted_with_the_aws_cli")
    else {
        return;
    };
    let app = spawn_app().await;
    let acme = app.upgraded_org("Acme", "en").await;
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    let ses = |args: &[&str]| sesv2_json(&aws, &app, key, args);

    // A domain, as an SDK user creates it.
    let created = ses(&[
        "create-email-identity",
        "--email-identity",
        "acme.test",
        "--tags",
        "Key=team,Value=events",
    ])
    .unwrap();
    assert_eq!(created["IdentityType"], "DOMAIN", "{created}");
    assert_eq!(created["VerifiedForSendingStatus"], false);
    let tokens: Vec<String> = created["DkimAttributes"]["Tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert_eq!(tokens.len(), 3, "{created}");

    // The same identity in the native API; the CNAMEs an SDK user builds
    // from the tokens are the records absender asks for.
    let native = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    let identity = &native["items"][0];
    assert_eq!(identity["type"], "domain");
    assert_eq!(identity["address"], Value::Null);
    let id = identity["id"].as_str().unwrap();
    let records = app
        .json(
            Method::GET,
            &format!("/api/v1/identities/{id}/dns-records"),
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    let mut wanted: Vec<(String, String)> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] == "dkim")
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut built: Vec<(String, String)> = tokens
        .iter()
        .map(|t| {
            (
                format!("{t}._domainkey.acme.test"),
                format!("{t}.dkim.absender.test"),
            )
        })
        .collect();
    wanted.sort();
    built.sort();
    assert_eq!(built, wanted);
    app.zone("acme.test").await;
    for (name, value) in &built {
        app.record("acme.test", name, "CNAME", value).await;
    }
    app.record(
        "acme.test",
        "acme.test",
        "TXT",
        "v=spf1 include:spf.absender.test ~all",
    )
    .await;
    assert_eq!(app.check(&acme, id).await["status"], "SUCCESS");

    let got = ses(&["get-email-identity", "--email-identity", "acme.test"]).unwrap();
    assert_eq!(got["IdentityType"], "DOMAIN", "{got}");
    assert_eq!(got["VerifiedForSendingStatus"], true);
    assert_eq!(got["VerificationStatus"], "SUCCESS");
    assert_eq!(got["DkimAttributes"]["Status"], "SUCCESS");
    assert_eq!(got["DkimAttributes"]["SigningEnabled"], true);
    assert_eq!(got["DkimAttributes"]["SigningAttributesOrigin"], "AWS_SES");
    assert_eq!(
        got["DkimAttributes"]["CurrentSigningKeyLength"],
        "RSA_2048_BIT"
    );
    // Epoch seconds, as SES writes timestamps in JSON bodies.
    assert!(
        got["DkimAttributes"]["LastKeyGenerationTimestamp"]
            .as_f64()
            .is_some_and(|t| t > 1.7e9),
        "{got}"
    );
    assert_eq!(
        got["MailFromAttributes"]["MailFromDomain"],
        "bounce.acme.test"
    );
    assert_eq!(
        got["MailFromAttributes"]["BehaviorOnMxFailure"],
        "USE_DEFAULT_VALUE"
    );
    assert_eq!(
        got["VerificationInfo"]["SOARecord"]["PrimaryNameServer"],
        "ns1.absender.test"
    );
    assert_eq!(
        got["Tags"],
        serde_json::json!([{"Key": "team", "Value": "events"}])
    );

    // A new key behind the same tokens (SES's NextSigningKeyLength).
    let rotated = ses(&[
        "put-email-identity-dkim-signing-attributes",
        "--email-identity",
        "acme.test",
        "--signing-attributes-origin",
        "AWS_SES",
        "--signing-attributes",
        "NextSigningKeyLength=RSA_2048_BIT",
    ])
    .unwrap();
    let mut after: Vec<String> = rotated["DkimTokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let mut before = tokens.clone();
    after.sort();
    before.sort();
    assert_eq!(after, before, "the CNAMEs stay");
    let got = ses(&["get-email-identity", "--email-identity", "acme.test"]).unwrap();
    assert_eq!(got["DkimAttributes"]["Status"], "SUCCESS");
    let external = ses(&[
        "put-email-identity-dkim-signing-attributes",
        "--email-identity",
        "acme.test",
        "--signing-attributes-origin",
        "EXTERNAL",
        "--signing-attributes",
        "DomainSigningSelector=s1,DomainSigningPrivateKey=MIIB",
    ])
    .unwrap_err();
    assert!(external.contains("BadRequestException"), "{external}");

    // An address: its verification mail goes to the mailbox, and no answer
    // carries the link.
    let address = ses(&[
        "create-email-identity",
        "--email-identity",
        "events@acme.test",
    ])
    .unwrap();
    assert_eq!(address["IdentityType"], "EMAIL_ADDRESS");
    let link = app.verification_link("events@acme.test").await;
    let token = link.rsplit('/').next().unwrap();
    let got = ses(&["get-email-identity", "--email-identity", "events@acme.test"]).unwrap();
    assert_eq!(got["VerificationStatus"], "PENDING", "{got}");
    assert!(!got.to_string().contains(token));
    let listed = ses(&["list-email-identities"]).unwrap();
    assert!(!listed.to_string().contains(token));
    assert_eq!(listed["EmailIdentities"].as_array().unwrap().len(), 2);

    let again = ses(&["create-email-identity", "--email-identity", "ACME.test"]).unwrap_err();
    assert!(again.contains("AlreadyExistsException"), "{again}");
    let bad = ses(&["create-email-identity", "--email-identity", "not a domain"]).unwrap_err();
    assert!(bad.contains("BadRequestException"), "{bad}");
    let off = ses(&[
        "put-email-identity-dkim-attributes",
        "--email-identity",
        "acme.test",
        "--no-signing-enabled",
    ])
    .unwrap_err();
    assert!(off.contains("BadRequestException"), "{off}");

    // A new MAIL FROM domain that must be verified before mail goes out.
    ses(&[
        "put-email-identity-mail-from-attributes",
        "--email-identity",
        "acme.test",
        "--mail-from-domain",
        "mail.acme.test",
        "--behavior-on-mx-failure",
        "REJECT_MESSAGE",
    ])
    .unwrap();
    let got = ses(&["get-email-identity", "--email-identity", "acme.test"]).unwrap();
    assert_eq!(
        got["MailFromAttributes"]["MailFromDomain"],
        "mail.acme.test"
    );
    assert_eq!(got["MailFromAttributes"]["MailFromDomainStatus"], "PENDING");
    assert_eq!(
        got["MailFromAttributes"]["BehaviorOnMxFailure"],
        "REJECT_MESSAGE"
    );
    let refused = app
        .json(
            Method::POST,
            "/api/v1/messages",
            Some(&acme.key),
            Some(serde_json::json!({"category": "booking", "from": "kasse@acme.test", "to": ["guest@example.test"], "subject": "Hallo", "text": "Hi"})),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(
        refused["error"]["code"], "mail_from_not_verified",
        "{refused}"
    );

    // Another organization's keys find none of it.
    let other = app.upgraded_org("Other", "en").await;
    let (other_id, other_secret) = app.access_key(&other).await;
    let theirs = sesv2_json(
        &aws,
        &app,
        (&other_id, &other_secret),
        &["get-email-identity", "--email-identity", "acme.test"],
    )
    .unwrap_err();
    assert!(theirs.contains("NotFoundException"), "{theirs}");
    let theirs = sesv2_json(
        &aws,
        &app,
        (&other_id, &other_secret),
        &["delete-email-identity", "--email-identity", "acme.test"],
    )
    .unwrap_err();
    assert!(theirs.contains("NotFoundException"), "{theirs}");

    ses(&["delete-email-identity", "--email-identity", "acme.test"]).unwrap();
    let gone = ses(&["get-email-identity", "--email-identity", "acme.test"]).unwrap_err();
    assert!(gone.contains("NotFoundException"), "{gone}");
    let native = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(native["items"].as_array().unwrap().len(), 1);
    assert_eq!(native["items"][0]["address"], "events@acme.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_email_takes_simple_and_raw_content_under_the_sender_rule() {
    let Some(aws) = aws_cli("send_email_takes_simple_and_raw_content_under_the_sender_rule") else {
        return;
    };
    let app = spawn_app().await;
    // events@acme.test verified (recipients), records and platform key published.
    let (acme, _) = crate::messages::acme(&app).await;
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    let ses = |args: &[&str]| sesv2_json(&aws, &app, key, args);

    // The address's scope allows no account notifications; the domain's does.
    let simple = r#"{"Simple":{"Subject":{"Data":"Auszahlung"},"Body":{"Text":{"Data":"Bezahlt."},"Html":{"Data":"<p>Bezahlt.</p>"}},"Headers":[{"Name":"X-Booking","Value":"42"}]}}"#;
    let notification = [
        "send-email",
        "--from-email-address",
        "Acme Kasse <kasse@acme.test>",
        "--destination",
        "ToAddresses=guest@example.test",
        "--content",
        simple,
        "--email-tags",
        "Name=absender-category,Value=account_notification",
    ];
    let refused = ses(&notification).unwrap_err();
    assert!(refused.contains("MessageRejected"), "{refused}");
    ses(&["create-email-identity", "--email-identity", "acme.test"]).unwrap();
    let domain = app
        .json(
            Method::GET,
            "/api/v1/identities",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "domain")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.check(&acme, &domain).await["status"], "SUCCESS");

    let sent = ses(&notification).unwrap();
    let id = sent["MessageId"].as_str().unwrap();
    let stored = app.message(&acme, id).await;
    assert_eq!(stored["category"], "account_notification");
    assert_eq!(stored["from"], "kasse@acme.test");
    let raw = crate::messages::raw(&app, &acme, id).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("Acme Kasse"), "{text}");
    assert!(text.contains("X-Booking: 42"), "{text}");
    let verdicts = app.dkim_verdicts(&raw).await;
    assert!(
        verdicts
            .iter()
            .any(|(d, v)| d == "acme.test" && *v == mail_auth::DkimResult::Pass),
        "{verdicts:?}"
    );

    // Raw: the same header rules as SMTP; recipients from the headers when
    // no Destination names them (Bcc delivered, its field gone).
    let mime = "From: Acme Events <events@acme.test>\r\nTo: guest@example.test\r\nBcc: hidden@example.test\r\nSubject: Ihre Buchung\r\n\r\nDanke!\r\n";
    let content = serde_json::json!({"Raw": {"Data": mime}}).to_string();
    let sent = ses(&["send-email", "--content", &content]).unwrap();
    let id = sent["MessageId"].as_str().unwrap();
    let stored = app.message(&acme, id).await;
    assert_eq!(stored["category"], "booking");
    let recipients: Vec<&str> = stored["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, ["guest@example.test", "hidden@example.test"]);
    let raw = crate::messages::raw(&app, &acme, id).await;
    assert!(!String::from_utf8_lossy(&raw).contains("hidden@"));

    let two_authors = "From: events@acme.test\r\nFrom: ceo@bank.example\r\nTo: guest@example.test\r\nSubject: x\r\n\r\nx\r\n";
    let content = serde_json::json!({"Raw": {"Data": two_authors}}).to_string();
    let refused = ses(&["send-email", "--content", &content]).unwrap_err();
    assert!(refused.contains("BadRequestException"), "{refused}");
    let spoofed = "From: ceo@bank.example\r\nTo: guest@example.test\r\nSubject: x\r\n\r\nx\r\n";
    let content = serde_json::json!({"Raw": {"Data": spoofed}}).to_string();
    let refused = ses(&["send-email", "--content", &content]).unwrap_err();
    assert!(refused.contains("MessageRejected"), "{refused}");
    let content = serde_json::json!({"Raw": {"Data": mime}}).to_string();
    let refused = ses(&[
        "send-email",
        "--from-email-address",
        "kasse@acme.test",
        "--content",
        &content,
    ])
    .unwrap_err();
    assert!(refused.contains("MessageRejected"), "{refused}");

    // A suppressed recipient is refused as SES names it.
    app.json(
        Method::POST,
        "/api/v1/suppressions",
        Some(&acme.key),
        Some(serde_json::json!({"address": "gone@example.test"})),
        StatusCode::CREATED,
    )
    .await;
    let refused = ses(&[
        "send-email",
        "--from-email-address",
        "events@acme.test",
        "--destination",
        "ToAddresses=gone@example.test",
        "--content",
        r#"{"Simple":{"Subject":{"Data":"x"},"Body":{"Text":{"Data":"x"}}}}"#,
    ])
    .unwrap_err();
    assert!(refused.contains("MessageRejected"), "{refused}");
    let bad_tag = ses(&[
        "send-email",
        "--from-email-address",
        "events@acme.test",
        "--destination",
        "ToAddresses=guest@example.test",
        "--content",
        r#"{"Simple":{"Subject":{"Data":"x"},"Body":{"Text":{"Data":"x"}}}}"#,
        "--email-tags",
        "Name=absender-category,Value=system",
    ])
    .unwrap_err();
    assert!(bad_tag.contains("BadRequestException"), "{bad_tag}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suppression_list_is_the_organizations_own_in_ses_terms() {
    let Some(aws) = aws_cli("the_suppression_list_is_the_organizations_own_in_ses_terms") else {
        return;
    };
    let app = spawn_app().await;
    let acme = app.create_org("Acme", "en").await;
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    let ses = |args: &[&str]| sesv2_json(&aws, &app, key, args);

    for (address, reason) in [
        ("b@example.test", "BOUNCE"),
        ("a@example.test", "COMPLAINT"),
        ("c@example.test", "BOUNCE"),
    ] {
        ses(&[
            "put-suppressed-destination",
            "--email-address",
            address,
            "--reason",
            reason,
        ])
        .unwrap();
    }
    // The native list has them, suppressed by the organization's wish.
    let native = app
        .json(
            Method::GET,
            "/api/v1/suppressions",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    let items = native["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["reason"] == "manual"), "{native}");

    let got = ses(&[
        "get-suppressed-destination",
        "--email-address",
        "A@example.test",
    ])
    .unwrap();
    assert_eq!(
        got["SuppressedDestination"]["EmailAddress"],
        "a@example.test"
    );
    assert_eq!(got["SuppressedDestination"]["Reason"], "BOUNCE");
    assert!(
        got["SuppressedDestination"]["LastUpdateTime"]
            .as_f64()
            .unwrap()
            > 1.7e9
    );

    // Two at a time, in address order; the CLI follows NextToken itself
    // unless told not to.
    let page = ses(&[
        "list-suppressed-destinations",
        "--page-size",
        "2",
        "--no-paginate",
    ])
    .unwrap();
    let first: Vec<&str> = page["SuppressedDestinationSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["EmailAddress"].as_str().unwrap())
        .collect();
    assert_eq!(first, ["a@example.test", "b@example.test"], "{page}");
    let token = page["NextToken"].as_str().unwrap();
    let rest = ses(&[
        "list-suppressed-destinations",
        "--page-size",
        "2",
        "--no-paginate",
        "--next-token",
        token,
    ])
    .unwrap();
    assert_eq!(
        rest["SuppressedDestinationSummaries"][0]["EmailAddress"],
        "c@example.test"
    );
    let all = ses(&["list-suppressed-destinations"]).unwrap();
    assert_eq!(
        all["SuppressedDestinationSummaries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let complaints = ses(&["list-suppressed-destinations", "--reasons", "COMPLAINT"]).unwrap();
    assert_eq!(
        complaints["SuppressedDestinationSummaries"],
        serde_json::json!([])
    );

    ses(&[
        "delete-suppressed-destination",
        "--email-address",
        "a@example.test",
    ])
    .unwrap();
    let gone = ses(&[
        "get-suppressed-destination",
        "--email-address",
        "a@example.test",
    ])
    .unwrap_err();
    assert!(gone.contains("NotFoundException"), "{gone}");
    let again = ses(&[
        "delete-suppressed-destination",
        "--email-address",
        "a@example.test",
    ])
    .unwrap_err();
    assert!(again.contains("NotFoundException"), "{again}");
    let bad = ses(&[
        "put-suppressed-destination",
        "--email-address",
        "not an address",
        "--reason",
        "BOUNCE",
    ])
    .unwrap_err();
    assert!(bad.contains("BadRequestException"), "{bad}");

    // Another organization's list is its own.
    let other = app.create_org("Other", "en").await;
    let (other_id, other_secret) = app.access_key(&other).await;
    let theirs = sesv2_json(
        &aws,
        &app,
        (&other_id, &other_secret),
        &[
            "get-suppressed-destination",
            "--email-address",
            "b@example.test",
        ],
    )
    .unwrap_err();
    assert!(theirs.contains("NotFoundException"), "{theirs}");
}

/// Polls `get-email-identity` until it is SUCCESS (at most 40 polls),
/// absender's clock moving 3 s between polls (it is the tests' manual clock;
/// 40 polls stay within SigV4's 5 minutes of the CLI's real clock).
async fn wait_verified(app: &TestApp, ses: impl Fn(&[&str]) -> Result<Value, String>, name: &str) {
    let mut got = Value::Null;
    for _ in 0..40 {
        got = ses(&["get-email-identity", "--email-identity", name]).unwrap();
        if got["VerificationStatus"] == "SUCCESS" {
            return;
        }
        app.advance(Duration::from_secs(3));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} was not verified: {got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_flow_runs_through_aws_sesv2_alone() {
    let test = "the_seeds_flow_runs_through_aws_sesv2_alone";
    let (Some(aws), Some(python)) = (aws_cli(test), crate::tools::python_with_dkimpy(test)) else {
        return;
    };
    let app = spawn_app().await;
    // The operator published the platform's key (mail carries its signature too).
    crate::messages::publish_platform_key(&app).await;
    let acme = app.upgraded_org("Acme", "de").await;
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    let ses = |args: &[&str]| sesv2_json(&aws, &app, key, args);

    // The customer's zone exists at its DNS provider (absender's local zones here).
    app.zone("acme.test").await;
    // 1. The address and the domain.
    ses(&[
        "create-email-identity",
        "--email-identity",
        "einladung@acme.test",
    ])
    .unwrap();
    let domain = ses(&["create-email-identity", "--email-identity", "acme.test"]).unwrap();
    // 2. The owner confirms the link in the mailbox.
    app.confirm("einladung@acme.test").await;
    // 3. The records an SES user builds from the tokens, and SPF.
    for token in domain["DkimAttributes"]["Tokens"].as_array().unwrap() {
        let token = token.as_str().unwrap();
        app.record(
            "acme.test",
            &format!("{token}._domainkey.acme.test"),
            "CNAME",
            &format!("{token}.dkim.absender.test"),
        )
        .await;
    }
    app.record(
        "acme.test",
        "acme.test",
        "TXT",
        "v=spf1 include:spf.absender.test ~all",
    )
    .await;
    // 4. Polling GetEmailIdentity, as SDK users do, is watching: absender
    // checks again while it waits, and the status turns within seconds.
    wait_verified(&app, &ses, "acme.test").await;
    wait_verified(&app, &ses, "einladung@acme.test").await;

    // A mail.
    let sent = ses(&[
        "send-email",
        "--from-email-address",
        "Acme <buchung@acme.test>",
        "--destination",
        "ToAddresses=gast@example.test",
        "--content",
        r#"{"Simple":{"Subject":{"Data":"Ihre Buchung"},"Body":{"Text":{"Data":"Danke!"}}}}"#,
    ])
    .unwrap();
    let raw = crate::messages::raw(&app, &acme, sent["MessageId"].as_str().unwrap()).await;
    let verdicts = crate::dkimpy::dkimpy(&app, &python, &raw).await;
    assert!(
        verdicts
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["acme.test", true])),
        "{verdicts}"
    );

    // A template, tried, then 50 invitations from it in one call.
    ses(&[
        "create-email-template",
        "--template-name",
        "einladung",
        "--template-content",
        r#"{"Subject":"Einladung für {{name}}","Text":"Hallo {{name}}, {{event.title}}{{#if vip}} (VIP){{/if}}.","Html":"<p>Hallo {{name}}</p>{{#each seats}}<i>{{this}}</i>{{/each}}"}"#,
    ])
    .unwrap();
    let preview = ses(&[
        "test-render-email-template",
        "--template-name",
        "einladung",
        "--template-data",
        r#"{"name":"Ada <3","event":{"title":"Konzert"},"vip":true,"seats":["A1"]}"#,
    ])
    .unwrap();
    let preview = preview["RenderedTemplate"].as_str().unwrap();
    assert!(preview.contains("Konzert (VIP)"), "{preview}");
    assert!(preview.contains("Ada &lt;3"), "HTML escaped: {preview}");
    let entries: Vec<Value> = (0..50)
        .map(|i| {
            serde_json::json!({
                "Destination": {"ToAddresses": [format!("gast{i}@example.test")]},
                "ReplacementEmailContent": {"ReplacementTemplate": {"ReplacementTemplateData":
                    serde_json::json!({"name": format!("Gast {i}"), "event": {"title": "Konzert"}, "vip": i == 7, "seats": [format!("R{i}")]}).to_string()}}
            })
        })
        .collect();
    let bulk = ses(&[
        "send-bulk-email",
        "--from-email-address",
        "einladung@acme.test",
        "--default-content",
        r#"{"Template":{"TemplateName":"einladung","TemplateData":"{}"}}"#,
        "--default-email-tags",
        "Name=absender-category,Value=invitation",
        "--bulk-email-entries",
        &serde_json::to_string(&entries).unwrap(),
    ])
    .unwrap();
    let results = bulk["BulkEmailEntryResults"].as_array().unwrap();
    assert_eq!(results.len(), 50);
    assert!(results.iter().all(|r| r["Status"] == "SUCCESS"), "{bulk}");
    let seventh = results[7]["MessageId"].as_str().unwrap();
    let raw = crate::messages::raw(&app, &acme, seventh).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("Gast 7, Konzert (VIP)."), "{text}");
    assert!(
        text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{text}"
    );
    let verdicts = crate::dkimpy::dkimpy(&app, &python, &raw).await;
    assert!(
        verdicts
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["acme.test", true])),
        "{verdicts}"
    );

    let account = ses(&["get-account"]).unwrap();
    assert_eq!(account["SendQuota"]["SentLast24Hours"], 51.0, "{account}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_kept_listed_changed_and_refused_as_ses_does() {
    let Some(aws) = aws_cli("templates_are_kept_listed_changed_and_refused_as_ses_does") else {
        return;
    };
    let app = spawn_app().await;
    let (acme, _) = crate::messages::acme(&app).await;
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    let ses = |args: &[&str]| sesv2_json(&aws, &app, key, args);
    for name in ["b-welcome", "a-booking", "c-reminder"] {
        ses(&[
            "create-email-template",
            "--template-name",
            name,
            "--template-content",
            r#"{"Subject":"Hallo {{name}}","Text":"Buchung {{id}}"}"#,
            "--tags",
            "Key=team,Value=events",
        ])
        .unwrap();
    }
    let twice = ses(&[
        "create-email-template",
        "--template-name",
        "a-booking",
        "--template-content",
        r#"{"Subject":"x","Text":"y"}"#,
    ])
    .unwrap_err();
    assert!(twice.contains("AlreadyExistsException"), "{twice}");
    let broken = ses(&[
        "create-email-template",
        "--template-name",
        "broken",
        "--template-content",
        r#"{"Subject":"{{#if x}}","Text":"y"}"#,
    ])
    .unwrap_err();
    assert!(broken.contains("BadRequestException"), "{broken}");

    let got = ses(&["get-email-template", "--template-name", "a-booking"]).unwrap();
    assert_eq!(got["TemplateContent"]["Subject"], "Hallo {{name}}");
    assert_eq!(got["Tags"][0]["Key"], "team");
    let page = ses(&["list-email-templates", "--page-size", "2", "--no-paginate"]).unwrap();
    let names: Vec<&str> = page["TemplatesMetadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["TemplateName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a-booking", "b-welcome"], "{page}");
    assert!(page["NextToken"].is_string());

    ses(&[
        "update-email-template",
        "--template-name",
        "a-booking",
        "--template-content",
        r#"{"Subject":"Buchung {{id}}","Text":"Danke, {{name}}"}"#,
    ])
    .unwrap();
    let missing = ses(&[
        "test-render-email-template",
        "--template-name",
        "a-booking",
        "--template-data",
        r#"{"name":"Ada"}"#,
    ])
    .unwrap_err();
    assert!(missing.contains("BadRequestException"), "{missing}");
    assert!(missing.contains("id"), "names the variable: {missing}");

    // SendEmail with a stored template and with one given inline.
    let sent = ses(&[
        "send-email",
        "--from-email-address",
        "events@acme.test",
        "--destination",
        "ToAddresses=guest@example.test",
        "--content",
        r#"{"Template":{"TemplateName":"a-booking","TemplateData":"{\"id\":\"B-17\",\"name\":\"Ada\"}"}}"#,
    ])
    .unwrap();
    let stored = app
        .message(&acme, sent["MessageId"].as_str().unwrap())
        .await;
    assert_eq!(stored["subject"], "Buchung B-17");
    let inline = ses(&[
        "send-email",
        "--from-email-address",
        "events@acme.test",
        "--destination",
        "ToAddresses=guest@example.test",
        "--content",
        r#"{"Template":{"TemplateContent":{"Subject":"Inline {{x}}","Text":"t"},"TemplateData":"{\"x\":\"1\"}"}}"#,
    ])
    .unwrap();
    let stored = app
        .message(&acme, inline["MessageId"].as_str().unwrap())
        .await;
    assert_eq!(stored["subject"], "Inline 1");
    let unknown = ses(&[
        "send-email",
        "--from-email-address",
        "events@acme.test",
        "--destination",
        "ToAddresses=guest@example.test",
        "--content",
        r#"{"Template":{"TemplateName":"nope","TemplateData":"{}"}}"#,
    ])
    .unwrap_err();
    assert!(unknown.contains("NotFoundException"), "{unknown}");

    // Per-entry results: one unverified sender fails them all as SES does
    // (MESSAGE_REJECTED), a bad entry fails alone.
    let entries = serde_json::json!([
        {"Destination": {"ToAddresses": ["a@example.test"]}, "ReplacementEmailContent": {"ReplacementTemplate": {"ReplacementTemplateData": "{\"id\":\"1\",\"name\":\"A\"}"}}},
        {"Destination": {"ToAddresses": ["b@example.test"]}, "ReplacementEmailContent": {"ReplacementTemplate": {"ReplacementTemplateData": "{\"name\":\"B\"}"}}},
        {"Destination": {"ToAddresses": ["not an address"]}, "ReplacementEmailContent": {"ReplacementTemplate": {"ReplacementTemplateData": "{\"id\":\"3\",\"name\":\"C\"}"}}}
    ])
    .to_string();
    let bulk = ses(&[
        "send-bulk-email",
        "--from-email-address",
        "events@acme.test",
        "--default-content",
        r#"{"Template":{"TemplateName":"a-booking","TemplateData":"{}"}}"#,
        "--bulk-email-entries",
        &entries,
    ])
    .unwrap();
    let statuses: Vec<&str> = bulk["BulkEmailEntryResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["SUCCESS", "INVALID_PARAMETER", "INVALID_PARAMETER"],
        "{bulk}"
    );
    let spoofed = ses(&[
        "send-bulk-email",
        "--from-email-address",
        "ceo@bank.example",
        "--default-content",
        r#"{"Template":{"TemplateName":"a-booking","TemplateData":"{}"}}"#,
        "--bulk-email-entries",
        &entries,
    ])
    .unwrap();
    assert!(
        spoofed["BulkEmailEntryResults"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["Status"] != "SUCCESS"),
        "{spoofed}"
    );
    assert_eq!(
        spoofed["BulkEmailEntryResults"][0]["Status"],
        "MESSAGE_REJECTED"
    );

    // The native API shows the same templates; another organization none.
    let native = app
        .json(
            Method::GET,
            "/api/v1/templates",
            Some(&acme.key),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(native["items"].as_array().unwrap().len(), 3);
    let other = app.create_org("Other", "en").await;
    let (other_id, other_secret) = app.access_key(&other).await;
    let theirs = sesv2_json(
        &aws,
        &app,
        (&other_id, &other_secret),
        &["get-email-template", "--template-name", "a-booking"],
    )
    .unwrap_err();
    assert!(theirs.contains("NotFoundException"), "{theirs}");

    ses(&["delete-email-template", "--template-name", "a-booking"]).unwrap();
    let gone = ses(&["get-email-template", "--template-name", "a-booking"]).unwrap_err();
    assert!(gone.contains("NotFoundException"), "{gone}");
}

/// The boto3 script's answers, by step.
const BOTO3_SCRIPT: &str = include_str!("ses_boto3.py");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_drives_every_operation_and_a_presigned_url() {
    let test = "boto3_drives_every_operation_and_a_presigned_url";
    let Some(python) = crate::tools::python_with_boto3(test) else {
        return;
    };
    let app = spawn_app().await;
    // events@acme.test verified, its domain's records published.
    let (acme, _) = crate::messages::acme(&app).await;
    let (key_id, secret) = app.access_key(&acme).await;
    let output = tokio::task::block_in_place(|| {
        Command::new(&python)
            .args(["-c", BOTO3_SCRIPT])
            .env("ENDPOINT", &app.base)
            .env("KEY_ID", &key_id)
            .env("SECRET", &secret)
            .env("REGION", "eu-central-1")
            .env("DOMAIN", "acme.test")
            .env("FROM", "events@acme.test")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let r: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        r["botocore"], "1.44.8",
        "the version whose model the issue names"
    );
    let ok = |step: &str| {
        assert!(r[step]["ok"].is_object(), "{step}: {}", r[step]);
        r[step]["ok"].clone()
    };
    let refused = |step: &str, code: &str| {
        assert_eq!(r[step]["error"], code, "{step}: {}", r[step]);
    };
    assert_eq!(ok("create_domain")["IdentityType"], "DOMAIN");
    assert_eq!(ok("create_address")["IdentityType"], "EMAIL_ADDRESS");
    // The domain's records are acme()'s: verified by the first check.
    assert_eq!(ok("get_domain")["VerificationStatus"], "SUCCESS");
    // botocore 1.44's model: POST /v2/email/list-identities with a body.
    let listed = ok("list_identities");
    assert_eq!(listed["EmailIdentities"].as_array().unwrap().len(), 1);
    assert!(listed["NextToken"].is_string());
    ok("put_mail_from");
    ok("create_template");
    assert_eq!(
        ok("get_template")["TemplateContent"]["Subject"],
        "Hi {{name}}"
    );
    assert_eq!(
        ok("list_templates")["TemplatesMetadata"][0]["TemplateName"],
        "hello"
    );
    assert!(
        ok("render")["RenderedTemplate"]
            .as_str()
            .unwrap()
            .contains("&lt;Ada&gt;")
    );
    for step in ["send_simple", "send_raw", "send_big_raw", "send_template"] {
        let id = ok(step)["MessageId"].as_str().unwrap().to_string();
        let stored = app.message(&acme, &id).await;
        assert_eq!(stored["from"], "events@acme.test", "{step}");
    }
    let with_attachment = ok("send_simple")["MessageId"].as_str().unwrap().to_string();
    let raw = crate::messages::raw(&app, &acme, &with_attachment).await;
    assert!(String::from_utf8_lossy(&raw).contains("a.txt"));
    refused("send_unverified", "MessageRejected");
    let bulk = ok("send_bulk");
    assert_eq!(bulk["BulkEmailEntryResults"].as_array().unwrap().len(), 3);
    assert!(
        bulk["BulkEmailEntryResults"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["Status"] == "SUCCESS")
    );
    ok("put_suppressed");
    assert_eq!(
        ok("get_suppressed")["SuppressedDestination"]["Reason"],
        "BOUNCE",
        "put as a complaint, kept as the native manual reason"
    );
    assert_eq!(
        ok("list_suppressed")["SuppressedDestinationSummaries"][0]["EmailAddress"],
        "gone@example.test"
    );
    ok("delete_suppressed");
    assert_eq!(ok("account")["SendQuota"]["SentLast24Hours"], 7.0);
    ok("update_template");
    ok("delete_template");
    refused("get_deleted_template", "NotFoundException");
    ok("delete_address");
    refused("not_offered", "BadRequestException");
    refused("tampered_body", "SignatureDoesNotMatch");
    assert_eq!(r["presigned"]["status"], 200, "{}", r["presigned"]);
    assert_eq!(r["presigned"]["body"]["EnforcementStatus"], "HEALTHY");
    assert_eq!(r["presigned_tampered"]["status"], 403);
    assert_eq!(r["presigned_tampered"]["error"], "SignatureDoesNotMatch");
    assert_eq!(
        r["presigned_send"]["status"], 403,
        "{}",
        r["presigned_send"]
    );
    assert_eq!(r["presigned_send"]["error"], "IncompleteSignature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bring_your_own_dkim_signs_with_the_customers_selector_and_key() {
    use absender_mail::dkim::{RsaBits, generate_rsa_key};
    use base64::Engine;
    let test = "bring_your_own_dkim_signs_with_the_customers_selector_and_key";
    let (Some(aws), Some(python)) = (aws_cli(test), crate::tools::python_with_dkimpy(test)) else {
        return;
    };
    let app = spawn_app().await;
    crate::messages::publish_platform_key(&app).await;
    let acme = app.upgraded_org("Acme", "en").await;
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    let ses = |args: &[&str]| sesv2_json(&aws, &app, key, args);
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    let attributes = |selector: &str, private_key: &str| {
        serde_json::json!({"DomainSigningSelector": selector, "DomainSigningPrivateKey": private_key})
            .to_string()
    };

    // Refused before anything is stored: a weak key, and an address.
    let weak = include_str!("../../../absender-mail/tests/fixtures/rsa1024-pkcs1.b64");
    let refused = ses(&[
        "create-email-identity",
        "--email-identity",
        "weak.test",
        "--dkim-signing-attributes",
        &attributes("s1", weak),
    ])
    .unwrap_err();
    assert!(
        refused.contains("BadRequestException") && refused.contains("2048"),
        "{refused}"
    );
    let missing = ses(&["get-email-identity", "--email-identity", "weak.test"]).unwrap_err();
    assert!(missing.contains("NotFoundException"), "{missing}");
    let own = generate_rsa_key(RsaBits::Rsa2048).unwrap();
    let refused = ses(&[
        "create-email-identity",
        "--email-identity",
        "buchung@acme.test",
        "--dkim-signing-attributes",
        &attributes("s1", &b64(&own.pkcs8_der)),
    ])
    .unwrap_err();
    assert!(refused.contains("domain identities"), "{refused}");

    let created = ses(&[
        "create-email-identity",
        "--email-identity",
        "acme.test",
        "--dkim-signing-attributes",
        &attributes("Sel2026", &b64(&own.pkcs8_der)),
    ])
    .unwrap();
    let dkim = &created["DkimAttributes"];
    assert_eq!(dkim["SigningAttributesOrigin"], "EXTERNAL", "{created}");
    assert_eq!(dkim["Tokens"], serde_json::json!(["sel2026"]));
    // Key lengths are Easy DKIM's, as SES shows them.
    assert!(dkim["CurrentSigningKeyLength"].is_null(), "{created}");
    assert!(!created.to_string().contains(&b64(&own.pkcs8_der)[40..80]));

    // The customer publishes its key's TXT record and SPF at its provider.
    app.zone("acme.test").await;
    app.record(
        "acme.test",
        "sel2026._domainkey.acme.test",
        "TXT",
        &format!("v=DKIM1; k=rsa; p={}", own.public_key),
    )
    .await;
    app.record(
        "acme.test",
        "acme.test",
        "TXT",
        "v=spf1 include:spf.absender.test ~all",
    )
    .await;
    wait_verified(&app, &ses, "acme.test").await;

    let sent = ses(&[
        "send-email",
        "--from-email-address",
        "buchung@acme.test",
        "--destination",
        "ToAddresses=gast@example.test",
        "--content",
        r#"{"Simple":{"Subject":{"Data":"Ihre Buchung"},"Body":{"Text":{"Data":"Danke!"}}}}"#,
    ])
    .unwrap();
    let raw = crate::messages::raw(&app, &acme, sent["MessageId"].as_str().unwrap()).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("s=sel2026"), "{text}");
    let verdicts = crate::dkimpy::dkimpy(&app, &python, &raw).await;
    assert!(
        verdicts
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["acme.test", true])),
        "{verdicts}"
    );

    // Back to Easy DKIM: its three tokens, checked anew.
    let easy = ses(&[
        "put-email-identity-dkim-signing-attributes",
        "--email-identity",
        "acme.test",
        "--signing-attributes-origin",
        "AWS_SES",
    ])
    .unwrap();
    assert_eq!(easy["DkimStatus"], "PENDING", "{easy}");
    assert_eq!(easy["DkimTokens"].as_array().unwrap().len(), 3);
    // And to a new own key under a new selector.
    let next = generate_rsa_key(RsaBits::Rsa2048).unwrap();
    let external = ses(&[
        "put-email-identity-dkim-signing-attributes",
        "--email-identity",
        "acme.test",
        "--signing-attributes-origin",
        "EXTERNAL",
        "--signing-attributes",
        &attributes("sel2027", &b64(&next.pkcs8_der)),
    ])
    .unwrap();
    assert_eq!(
        external["DkimTokens"],
        serde_json::json!(["sel2027"]),
        "{external}"
    );
    let got = ses(&["get-email-identity", "--email-identity", "acme.test"]).unwrap();
    assert_eq!(got["DkimAttributes"]["SigningAttributesOrigin"], "EXTERNAL");
    assert_eq!(
        got["DkimAttributes"]["Status"], "PENDING",
        "the new TXT record is not there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_sandbox_and_pause_have_ses_names() {
    let Some(aws) = aws_cli("quotas_sandbox_and_pause_have_ses_names") else {
        return;
    };
    let app = spawn_app().await;
    let (acme, _) = crate::messages::acme(&app).await;
    let (key_id, secret) = app.access_key(&acme).await;
    let key = (key_id.as_str(), secret.as_str());
    let ses = |args: &[&str]| sesv2_json(&aws, &app, key, args);
    let send = |to: &str| {
        ses(&[
            "send-email",
            "--from-email-address",
            "events@acme.test",
            "--destination",
            &format!("ToAddresses={to}"),
            "--content",
            r#"{"Simple":{"Subject":{"Data":"Booking"},"Body":{"Text":{"Data":"Thanks"}}}}"#,
        ])
    };
    let org = |body: Value| {
        let path = format!("/api/v1/orgs/{}", acme.id);
        let app = &app;
        async move {
            app.json(
                Method::PATCH,
                &path,
                Some(crate::helpers::ADMIN_KEY),
                Some(body),
                StatusCode::OK,
            )
            .await
        }
    };

    org(serde_json::json!({"sandbox": true, "max_send_rate": 1})).await;
    let account = ses(&["get-account"]).unwrap();
    assert_eq!(account["ProductionAccessEnabled"], false, "{account}");
    assert_eq!(account["SendQuota"]["Max24HourSend"], 200.0);
    assert_eq!(account["SendQuota"]["MaxSendRate"], 1.0);
    let refused = send("guest@example.test").unwrap_err();
    assert!(
        refused.contains("MessageRejected") && refused.contains("sandbox"),
        "{refused}"
    );
    send("events@acme.test").unwrap();
    let throttled = send("events@acme.test").unwrap_err();
    assert!(
        throttled.contains("TooManyRequestsException"),
        "{throttled}"
    );

    org(serde_json::json!({"sandbox": false, "max_send_rate": null, "max_24h_send": 1})).await;
    let over = send("guest@example.test").unwrap_err();
    assert!(over.contains("LimitExceededException"), "{over}");

    org(serde_json::json!({"max_24h_send": null, "sending_enabled": false})).await;
    let account = ses(&["get-account"]).unwrap();
    assert_eq!(account["SendingEnabled"], false, "{account}");
    assert_eq!(account["EnforcementStatus"], "SHUTDOWN");
    let paused = send("guest@example.test").unwrap_err();
    assert!(paused.contains("SendingPausedException"), "{paused}");
}
