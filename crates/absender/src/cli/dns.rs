//! `absender dns …`: local zones that absender serves itself (operator key).

use super::{CliError, Remote, output};
use absender_service::api::{CreateZone, CreateZoneRecord, List, Zone, ZoneRecord};

#[derive(Debug, clap::Subcommand)]
pub enum DnsCommand {
    /// Local zones.
    Zone {
        #[command(subcommand)]
        command: ZoneCommand,
    },
    /// Records in a local zone.
    Record {
        #[command(subcommand)]
        command: RecordCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ZoneCommand {
    /// Declare a zone, e.g. acme.test.
    Create { name: String },
    /// List the zones.
    List,
    /// Delete a zone with all its records.
    Delete { name: String },
}

#[derive(Debug, clap::Subcommand)]
pub enum RecordCommand {
    /// Add a record: ZONE NAME TYPE VALUE (NAME is the full domain name).
    Add {
        zone: String,
        name: String,
        /// A, AAAA, MX, TXT or CNAME.
        #[arg(value_name = "TYPE")]
        record_type: String,
        /// For MX: "PREFERENCE HOST".
        value: String,
        /// Seconds.
        #[arg(long)]
        ttl: Option<u32>,
    },
    /// List a zone's records.
    List { zone: String },
    /// Remove a record by its id.
    Remove { zone: String, id: String },
}

fn record_line(r: &ZoneRecord) -> String {
    format!(
        "{}  {}  {}  {}  {}",
        r.id, r.name, r.ttl, r.record_type, r.value
    )
}

pub async fn run(remote: &Remote, command: DnsCommand) -> Result<(), CliError> {
    let client = remote.client(false)?;
    match command {
        DnsCommand::Zone {
            command: ZoneCommand::Create { name },
        } => {
            let zone: Zone = client
                .post("/api/v1/dns/zones", &CreateZone { name })
                .await?;
            output(remote, &zone, |z| format!("zone {} created", z.name))
        }
        DnsCommand::Zone {
            command: ZoneCommand::List,
        } => {
            let zones: List<Zone> = client.get("/api/v1/dns/zones").await?;
            output(remote, &zones, |l| {
                l.items
                    .iter()
                    .map(|z| format!("{}  serial {}", z.name, z.serial))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        DnsCommand::Zone {
            command: ZoneCommand::Delete { name },
        } => {
            client.delete(&format!("/api/v1/dns/zones/{name}")).await?;
            output(remote, &serde_json::json!({"deleted": name}), |_| {
                format!("zone {name} deleted")
            })
        }
        DnsCommand::Record {
            command:
                RecordCommand::Add {
                    zone,
                    name,
                    record_type,
                    value,
                    ttl,
                },
        } => {
            let body = CreateZoneRecord {
                name,
                record_type,
                value,
                ttl,
            };
            let record: ZoneRecord = client
                .post(&format!("/api/v1/dns/zones/{zone}/records"), &body)
                .await?;
            output(remote, &record, record_line)
        }
        DnsCommand::Record {
            command: RecordCommand::List { zone },
        } => {
            let records: List<ZoneRecord> = client
                .get(&format!("/api/v1/dns/zones/{zone}/records"))
                .await?;
            output(remote, &records, |l| {
                l.items
                    .iter()
                    .map(record_line)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        DnsCommand::Record {
            command: RecordCommand::Remove { zone, id },
        } => {
            client
                .delete(&format!("/api/v1/dns/zones/{zone}/records/{id}"))
                .await?;
            output(remote, &serde_json::json!({"removed": id}), |_| {
                format!("record {id} removed")
            })
        }
    }
}
