//! Load for bench/ses.sh, all on 127.0.0.1, bounded in count:
//!
//! - `SendEmail` through the official `aws-sdk-sesv2` (SigV4, endpoint
//!   override) from 32 tasks, against `POST /api/v1/messages` from 32 tasks
//!   with the same 4 KB message, in the same run;
//! - `SendBulkEmail`: 10,000 recipients in 200 calls of 50, 8 at a time.
//!
//! Usage: absender-bench-ses HTTP_ADDR API_KEY ACCESS_KEY_ID SECRET [N]

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sesv2::types::{
    Body, BulkEmailContent, BulkEmailEntry, Content, Destination, EmailContent,
    EmailTemplateContent, Message, ReplacementEmailContent, ReplacementTemplate, Template,
};
use serde_json::json;
use std::time::Instant;

const CLIENTS: usize = 32;
const BULK_CALLS: usize = 200;
const BULK_ENTRIES: usize = 50;
const BULK_AT_ONCE: usize = 8;

fn text() -> String {
    "X".repeat(4000)
}

/// `n` SendEmail calls from `CLIENTS` tasks; (seconds, accepted).
async fn sdk_sends(client: &Client, n: usize) -> (f64, usize) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in (c..n).step_by(CLIENTS) {
                let message = Message::builder()
                    .subject(Content::builder().data("Ihre Buchung").build().unwrap())
                    .body(
                        Body::builder()
                            .text(Content::builder().data(text()).build().unwrap())
                            .build(),
                    )
                    .build();
                let sent = client
                    .send_email()
                    .from_email_address("a@example.com")
                    .destination(
                        Destination::builder()
                            .to_addresses(format!("guest{i}@example.net"))
                            .build(),
                    )
                    .content(EmailContent::builder().simple(message).build())
                    .send()
                    .await;
                match sent {
                    Ok(_) => ok += 1,
                    Err(e) if ok == 0 => eprintln!("SendEmail: {e:?}"),
                    Err(_) => {}
                }
            }
            ok
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    (started.elapsed().as_secs_f64(), accepted)
}

/// `n` native posts from `CLIENTS` tasks; (seconds, accepted).
async fn native_sends(base: &str, key: &str, n: usize) -> (f64, usize) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, key) = (http.clone(), base.to_string(), key.to_string());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in (c..n).step_by(CLIENTS) {
                let body = json!({"category": "booking", "from": "a@example.com",
                    "to": [format!("guest{i}@example.net")], "subject": "Ihre Buchung", "text": text()});
                let r = http
                    .post(format!("{base}/api/v1/messages"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                if r.status() == reqwest::StatusCode::ACCEPTED {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    (started.elapsed().as_secs_f64(), accepted)
}

/// 10,000 recipients in 200 SendBulkEmail calls; (seconds, recipients sent).
async fn bulk(client: &Client) -> (f64, usize) {
    client
        .create_email_template()
        .template_name("bench")
        .template_content(
            EmailTemplateContent::builder()
                .subject("Einladung für {{name}}")
                .text("Hallo {{name}}, wir sehen uns am {{date}}.")
                .build(),
        )
        .send()
        .await
        .expect("template");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..BULK_AT_ONCE {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = 0;
            for call in (t..BULK_CALLS).step_by(BULK_AT_ONCE) {
                let entries: Vec<BulkEmailEntry> = (0..BULK_ENTRIES)
                    .map(|e| {
                        let data = json!({"name": format!("Gast {call}-{e}"), "date": "1. Mai"});
                        BulkEmailEntry::builder()
                            .destination(
                                Destination::builder()
                                    .to_addresses(format!("b{call}-{e}@example.net"))
                                    .build(),
                            )
                            .replacement_email_content(
                                ReplacementEmailContent::builder()
                                    .replacement_template(
                                        ReplacementTemplate::builder()
                                            .replacement_template_data(data.to_string())
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build()
                    })
                    .collect();
                let answer = client
                    .send_bulk_email()
                    .from_email_address("a@example.com")
                    .default_content(
                        BulkEmailContent::builder()
                            .template(
                                Template::builder()
                                    .template_name("bench")
                                    .template_data("{}")
                                    .build(),
                            )
                            .build(),
                    )
                    .set_bulk_email_entries(Some(entries))
                    .send()
                    .await;
                match answer {
                    Ok(a) => {
                        sent += a
                            .bulk_email_entry_results()
                            .iter()
                            .filter(|r| r.status().is_some_and(|s| s.as_str() == "SUCCESS"))
                            .count()
                    }
                    Err(e) => eprintln!("SendBulkEmail: {e:?}"),
                }
            }
            sent
        }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap();
    }
    (started.elapsed().as_secs_f64(), sent)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, http, api_key, key_id, secret, rest @ ..] = args.as_slice() else {
        eprintln!("usage: absender-bench-ses HTTP_ADDR API_KEY ACCESS_KEY_ID SECRET [N]");
        std::process::exit(2);
    };
    let n: usize = rest.first().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let base = format!("http://{http}");
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&base)
        .region(Region::new("eu-central-1"))
        .credentials_provider(Credentials::new(key_id, secret, None, None, "bench"))
        .build();
    let client = Client::from_conf(config);

    // Warm-up, then the native API and the SDK in turns.
    native_sends(&base, api_key, 200).await;
    sdk_sends(&client, 200).await;
    for round in 1..=2 {
        let (secs, ok) = native_sends(&base, api_key, n).await;
        println!("native round {round}: {ok}/{n} in {secs:.2} s = {:.0} msg/s", ok as f64 / secs);
        let (secs, ok) = sdk_sends(&client, n).await;
        println!("sdk round {round}: {ok}/{n} in {secs:.2} s = {:.0} msg/s", ok as f64 / secs);
    }
    let (secs, sent) = bulk(&client).await;
    println!(
        "bulk: {sent}/{} recipients in {BULK_CALLS} calls in {secs:.2} s = {:.0} recipients/s",
        BULK_CALLS * BULK_ENTRIES,
        sent as f64 / secs
    );
}
