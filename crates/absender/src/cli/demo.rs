//! `absender demo`: a newcomer's first run. Starts the server on a fresh data
//! dir and walks the seed's steps as far as they are built, printing each
//! result, then keeps serving until Ctrl-C.

use super::{ApiClient, CliError};
use absender::config::Config;
use absender::server;
use absender_core::{Category, Locale, Scope};
use absender_service::api::{
    CreateOrg, CreateZone, CreateZoneRecord, CreatedOrg, DnsRecords, Identity, List, Org,
    OutboxEntry, OutboxMessage, RequestIdentity, SendSettings, UpdateOrg, Zone, ZoneRecord,
};
use absender_service::settings::Resolvers;
use absender_service::{SystemClock, secrets};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// TOML configuration file; every key is optional.
    #[arg(long, env = "ABSENDER_CONFIG")]
    config: Option<PathBuf>,
    /// Keep the data here instead of in a temporary directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Walk the steps, then stop instead of serving on.
    #[arg(long)]
    no_serve: bool,
}

const DEMO_ADDRESS: &str = "events@acme.test";

fn fail(e: impl std::fmt::Display) -> CliError {
    CliError::Startup(e.to_string())
}

pub async fn run(args: DemoArgs) -> Result<(), CliError> {
    if std::env::var_os("ABSENDER_LOG").is_none() {
        // Keep the walk-through readable; ABSENDER_LOG=info shows everything.
        let filter = tracing_subscriber::EnvFilter::new("warn");
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    } else {
        super::serve::init_tracing();
    }
    let mut config = Config::load(args.config.as_deref()).map_err(|e| fail(format!("{e:#}")))?;
    let _temp_dir = match args.data_dir {
        Some(dir) => {
            config.data_dir = dir;
            None
        }
        None if std::env::var_os("ABSENDER_DATA_DIR").is_some() => None,
        None => {
            let dir = tempfile::Builder::new()
                .prefix("absender-demo-")
                .tempdir()
                .map_err(fail)?;
            config.data_dir = dir.path().to_path_buf();
            Some(dir)
        }
    };
    if std::env::var_os("ABSENDER_DNS_RESOLVERS").is_none()
        && config.dns.resolvers == Resolvers::System
    {
        // The demo's domains live in local zones: nothing needs to leave the machine.
        config.dns.resolvers = Resolvers::Local;
    }
    let admin_key = match &config.admin_key {
        Some(key) => secrecy::ExposeSecret::expose_secret(key).to_string(),
        None => secrets::new_admin_key(),
    };
    config.admin_key = Some(admin_key.clone().into());

    let running = match server::start(&config, Arc::new(SystemClock)).await {
        Ok(running) => running,
        Err(e) if is_addr_in_use(&e) => {
            println!(
                "! a port of {} (HTTP), {} (DNS) or {} (SMTP) is taken; using free ports instead",
                config.http.listen, config.dns.listen, config.smtp.listen
            );
            config.http.listen.set_port(0);
            config.dns.listen.set_port(0);
            config.smtp.listen.set_port(0);
            server::start(&config, Arc::new(SystemClock))
                .await
                .map_err(|e| fail(format!("{e:#}")))?
        }
        Err(e) => return Err(fail(format!("{e:#}"))),
    };
    let base = format!("http://{}", running.http_addr);
    println!(
        "absender demo: serving {base} (data in {})\n",
        config.data_dir.display()
    );

    let org_key = walk(&base, &admin_key).await?;

    println!("\nExplore (the server keeps running; Ctrl-C stops it):");
    println!("  web UI:       {base}/ui  (sign in with one of these keys)");
    println!("  operator key: {admin_key}");
    println!("  Acme's key:   {org_key}");
    println!("  export ABSENDER_URL={base} ABSENDER_KEY={org_key}");
    println!("  absender identity list        # Acme's identities");
    println!("  absender outbox list          # the captured verification mail");
    if args.no_serve {
        return running.stop().await.map_err(fail);
    }
    running.serve_until_signal().await.map_err(fail)
}

fn is_addr_in_use(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::AddrInUse)
}

/// The seed's steps 1 to 3 through the API; returns Acme's key.
async fn walk(base: &str, admin_key: &str) -> Result<String, CliError> {
    let operator = ApiClient::new(base, Some(admin_key), None)?;
    let created: CreatedOrg = operator
        .post(
            "/api/v1/orgs",
            &CreateOrg {
                name: "Acme Events".into(),
                contact_email: "team@acme.test".into(),
                locale: Locale::De,
            },
        )
        .await?;
    let org_id = created.org.id.clone();
    println!(
        "1. Organization \"{}\" created: {org_id} (language de)",
        created.org.name
    );
    let enable = UpdateOrg {
        custom_sender_enabled: Some(true),
        ..Default::default()
    };
    let org: Org = operator
        .patch(&format!("/api/v1/orgs/{org_id}"), &enable)
        .await?;
    println!(
        "   custom-sender upgrade switched on: {}",
        org.custom_sender_enabled
    );

    let acme = ApiClient::new(base, Some(&created.api_key), None)?;
    let request = RequestIdentity::address(DEMO_ADDRESS, Scope::Recipients);
    let identity: Identity = acme.post("/api/v1/identities", &request).await?;
    println!(
        "   requested {} for mails to bookers and invitees: {} ({})",
        identity.name(),
        identity.status.as_str(),
        identity.id
    );

    // The link is for the address owner's mailbox alone; in capture mode
    // the operator reads it in the outbox and plays the owner.
    let outbox: List<OutboxEntry> = operator.get("/api/v1/outbox").await?;
    let mail = outbox
        .items
        .iter()
        .find(|m| m.to.iter().any(|t| t == DEMO_ADDRESS))
        .ok_or_else(|| CliError::BadAnswer("no verification mail in the outbox".into()))?;
    let message: OutboxMessage = operator.get(&format!("/api/v1/outbox/{}", mail.id)).await?;
    let link = message
        .text
        .as_deref()
        .and_then(find_link)
        .ok_or_else(|| CliError::BadAnswer("no link in the verification mail".into()))?;
    println!(
        "2. Verification mail captured in the outbox (the operator's view): {} \"{}\"",
        mail.id, mail.subject
    );
    println!("   link: {link}");

    let web = reqwest::Client::new();
    let page = web
        .get(&link)
        .send()
        .await
        .map_err(|e| CliError::Unreachable(e.to_string()))?;
    println!(
        "   GET  the link: HTTP {} (shows a confirm button; a link scanner's visit changes nothing)",
        page.status().as_u16()
    );
    let confirmed = web
        .post(&link)
        .send()
        .await
        .map_err(|e| CliError::Unreachable(e.to_string()))?;
    println!(
        "   POST the link: HTTP {} (the owner clicked \"confirm\")",
        confirmed.status().as_u16()
    );
    let identity: Identity = acme
        .get(&format!("/api/v1/identities/{}", identity.id))
        .await?;
    println!(
        "   identity {}: address {}, dkim {}, spf {}",
        identity.status.as_str(),
        identity
            .parts
            .address
            .as_ref()
            .map_or("-", |a| a.status.as_str()),
        identity.parts.dkim.status.as_str(),
        identity.parts.spf.status.as_str()
    );

    let csv = acme
        .get_text(&format!(
            "/api/v1/identities/{}/dns-records.csv",
            identity.id
        ))
        .await?;
    println!("3. DNS records for acme.test (three DKIM CNAMEs and the SPF TXT, the seed's CSV):\n");
    for line in csv.lines() {
        println!("   {line}");
    }

    verify_dns(&operator, &acme, &identity.id).await?;
    send_booking(&operator, &acme, &identity.id).await?;
    Ok(created.api_key)
}

/// The seed's steps 3 and 4 with absender's local zone playing the customer's
/// DNS provider: publish, verify, break one record, repair.
async fn verify_dns(
    operator: &ApiClient,
    acme: &ApiClient,
    identity_id: &str,
) -> Result<(), CliError> {
    let zone: Zone = operator
        .post(
            "/api/v1/dns/zones",
            &CreateZone {
                name: "acme.test".into(),
            },
        )
        .await?;
    let records: DnsRecords = acme
        .get(&format!("/api/v1/identities/{identity_id}/dns-records"))
        .await?;
    let mut published = Vec::new();
    for r in &records.records {
        let body = CreateZoneRecord {
            name: r.name.clone(),
            record_type: r.record_type.clone(),
            value: r.value.clone(),
            ttl: Some(60),
        };
        published.push(
            operator
                .post::<_, ZoneRecord>(&format!("/api/v1/dns/zones/{}/records", zone.name), &body)
                .await?,
        );
    }
    println!(
        "\n4. Published the {} records in the local zone {} (playing Acme's DNS provider)",
        published.len(),
        zone.name
    );
    let check = format!("/api/v1/identities/{identity_id}/check");
    let started = Instant::now();
    let identity: Identity = acme.post(&check, &serde_json::json!({})).await?;
    println!(
        "   checked in {} ms: {}",
        started.elapsed().as_millis(),
        status_line(&identity)
    );

    let removed = &published[0];
    operator
        .delete(&format!(
            "/api/v1/dns/zones/{}/records/{}",
            zone.name, removed.id
        ))
        .await?;
    println!(
        "5. Removed the CNAME {} (as a careless DNS edit would)",
        removed.name
    );
    let identity: Identity = acme.post(&check, &serde_json::json!({})).await?;
    println!("   {}", status_line(&identity));
    for d in &identity.parts.dkim.diagnostics {
        println!("   [{}] {}", d.finding.code(), d.message);
        if let Some(record) = &d.record {
            println!("   fix: {record}");
        }
    }

    let body = CreateZoneRecord {
        name: removed.name.clone(),
        record_type: removed.record_type.clone(),
        value: removed.value.clone(),
        ttl: Some(60),
    };
    operator
        .post::<_, ZoneRecord>(&format!("/api/v1/dns/zones/{}/records", zone.name), &body)
        .await?;
    let identity: Identity = acme.post(&check, &serde_json::json!({})).await?;
    println!("6. Restored it: {}", status_line(&identity));

    let outbox: List<OutboxEntry> = acme.get("/api/v1/outbox").await?;
    let notices: Vec<&str> = outbox
        .items
        .iter()
        .filter(|m| m.to.iter().any(|t| t == "team@acme.test"))
        .map(|m| m.subject.as_str())
        .collect();
    println!(
        "   notices to team@acme.test (newest first): {}",
        notices.join(" | ")
    );
    Ok(())
}

/// The seed's step 4: Acme picks its address for bookings; a booking mail goes
/// out from it, signed for acme.test (and by the platform).
async fn send_booking(
    operator: &ApiClient,
    acme: &ApiClient,
    identity_id: &str,
) -> Result<(), CliError> {
    let settings = SendSettings(
        [(Category::Booking, Some(identity_id.to_string()))]
            .into_iter()
            .collect(),
    );
    let _: SendSettings = acme.put("/api/v1/send-settings", &settings).await?;
    // The operator publishes the platform's own key (here in a local zone too).
    let platform: DnsRecords = operator.get("/api/v1/platform/dns-records").await?;
    let _: Zone = operator
        .post(
            "/api/v1/dns/zones",
            &CreateZone {
                name: "absender.test".into(),
            },
        )
        .await?;
    for r in platform.records.iter().filter(|r| r.record_type == "CNAME") {
        let body = CreateZoneRecord {
            name: r.name.clone(),
            record_type: r.record_type.clone(),
            value: r.value.clone(),
            ttl: Some(60),
        };
        let _: ZoneRecord = operator
            .post("/api/v1/dns/zones/absender.test/records", &body)
            .await?;
    }
    let request = serde_json::json!({
        "category": "booking",
        "to": ["gast@example.test"],
        "subject": "Ihre Buchung: Sommerfest am 21. Juni",
        "text": "Vielen Dank für Ihre Buchung. Wir freuen uns auf Sie!"
    });
    let accepted: serde_json::Value = acme.post("/api/v1/messages", &request).await?;
    let id = accepted["id"].as_str().unwrap_or_default();
    let message: OutboxMessage = acme.get(&format!("/api/v1/outbox/{id}")).await?;
    println!("7. Chose events@acme.test for bookings and sent a booking mail ({id}):");
    for h in message.headers.iter().filter(|h| {
        ["From", "To", "Subject"]
            .iter()
            .any(|n| h.name.eq_ignore_ascii_case(n))
    }) {
        println!("   {}: {}", h.name, h.value);
    }
    for v in &message.dkim {
        println!("   DKIM d={} s={}: dkim={}", v.domain, v.selector, v.result);
    }
    Ok(())
}

fn status_line(identity: &Identity) -> String {
    let p = &identity.parts;
    format!(
        "identity {} (address {}, dkim {}, spf {})",
        identity.status.as_str(),
        p.address.as_ref().map_or("-", |a| a.status.as_str()),
        p.dkim.status.as_str(),
        p.spf.status.as_str()
    )
}

/// The verification link in a mail's text.
fn find_link(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.contains("/verify/"))
        .map(str::to_string)
}
