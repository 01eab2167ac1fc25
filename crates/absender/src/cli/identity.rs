//! `absender identity …`: sender identities of one organization.

use super::{CliError, Remote, output};
use absender_core::Scope;
use absender_service::api::{DnsRecords, Event, Identity, List, RequestIdentity};

#[derive(Debug, clap::Subcommand)]
pub enum IdentityCommand {
    /// Request a sender identity: an address (a verification mail goes to
    /// it) or, given without '@', a whole domain (verified by DNS alone).
    Request {
        /// The address to send from, or the domain.
        address: String,
        /// recipients: only mails to bookers and invitees; all: also account
        /// notifications. Default recipients; a domain's is all.
        #[arg(long, value_parser = parse_scope)]
        scope: Option<Scope>,
        /// Custom MAIL FROM domain (a subdomain of the identity's domain); default bounce.<domain>.
        #[arg(long)]
        mail_from_domain: Option<String>,
    },
    /// List the organization's identities.
    List,
    /// Show one identity with the status of each part.
    Show { id: String },
    /// Check the DNS now and show the result.
    Check { id: String },
    /// Start the DNS verification over (after FAILED).
    Restart { id: String },
    /// The identity's status changes.
    Events { id: String },
    /// The DNS records to publish.
    Records {
        id: String,
        /// In the seed's CSV shape.
        #[arg(long)]
        csv: bool,
    },
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::parse(s).ok_or_else(|| "the scope is recipients or all".to_string())
}

pub fn describe(identity: &Identity) -> String {
    let p = &identity.parts;
    format!(
        "{}  {}  {}  scope {}  {}\n  address {}  dkim {}  spf {}  (mail from {} {})",
        identity.id,
        identity.kind.as_str(),
        identity.name(),
        identity.scope.as_str(),
        identity.status.as_str(),
        p.address.as_ref().map_or("-", |a| a.status.as_str()),
        p.dkim.status.as_str(),
        p.spf.status.as_str(),
        identity.mail_from_domain,
        p.mail_from.status.as_str()
    )
}

/// The identity with each finding and the record that fixes it.
pub fn describe_with_diagnostics(identity: &Identity) -> String {
    let mut text = describe(identity);
    let p = &identity.parts;
    for d in p
        .dkim
        .diagnostics
        .iter()
        .chain(&p.spf.diagnostics)
        .chain(&p.dmarc.diagnostics)
    {
        text.push_str(&format!("\n  [{}] {}", d.finding.code(), d.message));
        if let Some(record) = &d.record {
            text.push_str(&format!("\n      fix: {record}"));
        }
    }
    text
}

pub async fn run(remote: &Remote, command: IdentityCommand) -> Result<(), CliError> {
    let client = remote.client(true)?;
    match command {
        IdentityCommand::Request {
            address,
            scope,
            mail_from_domain,
        } => {
            let request = if address.contains('@') {
                RequestIdentity::address(address, scope.unwrap_or(Scope::Recipients))
            } else {
                RequestIdentity {
                    scope,
                    ..RequestIdentity::domain(address)
                }
            };
            let request = RequestIdentity {
                mail_from_domain,
                ..request
            };
            let identity: Identity = client.post("/api/v1/identities", &request).await?;
            output(remote, &identity, |i| match &i.address {
                Some(address) => format!("{}\nverification mail sent to {address}", describe(i)),
                None => format!(
                    "{}\npublish the records: absender identity records {}",
                    describe(i),
                    i.id
                ),
            })
        }
        IdentityCommand::List => {
            let list: List<Identity> = client.get("/api/v1/identities").await?;
            output(remote, &list, |l| {
                l.items.iter().map(describe).collect::<Vec<_>>().join("\n")
            })
        }
        IdentityCommand::Show { id } => {
            let identity: Identity = client.get(&format!("/api/v1/identities/{id}")).await?;
            output(remote, &identity, describe)
        }
        IdentityCommand::Check { id } => {
            let identity: Identity = client
                .post(
                    &format!("/api/v1/identities/{id}/check"),
                    &serde_json::json!({}),
                )
                .await?;
            output(remote, &identity, describe_with_diagnostics)
        }
        IdentityCommand::Restart { id } => {
            let identity: Identity = client
                .post(
                    &format!("/api/v1/identities/{id}/restart"),
                    &serde_json::json!({}),
                )
                .await?;
            output(remote, &identity, describe)
        }
        IdentityCommand::Events { id } => {
            let events: List<Event> = client
                .get(&format!("/api/v1/identities/{id}/events"))
                .await?;
            output(remote, &events, |l| {
                l.items
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {:<8} {} -> {}  {}",
                            e.created_at,
                            e.part,
                            e.from.as_str(),
                            e.to.as_str(),
                            e.detail
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        IdentityCommand::Records { id, csv: true } => {
            print!(
                "{}",
                client
                    .get_text(&format!("/api/v1/identities/{id}/dns-records.csv"))
                    .await?
            );
            Ok(())
        }
        IdentityCommand::Records { id, csv: false } => {
            let records: DnsRecords = client
                .get(&format!("/api/v1/identities/{id}/dns-records"))
                .await?;
            output(remote, &records, |r| {
                r.records
                    .iter()
                    .map(|r| {
                        format!(
                            "{:<5} {}  ->  {}  [{}]",
                            r.record_type,
                            r.name,
                            r.value,
                            r.status.as_str()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}
