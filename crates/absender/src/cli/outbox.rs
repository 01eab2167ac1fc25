//! `absender outbox …`: the capture outbox.

use super::{CliError, Remote, output};
use absender_service::api::{List, OutboxEntry, OutboxMessage};

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// The newest captured messages.
    List {
        /// How many (at most 500).
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// One message: headers and text, or the raw RFC 5322 bytes.
    Show {
        id: String,
        /// Print the message exactly as stored.
        #[arg(long)]
        raw: bool,
    },
}

fn line(m: &OutboxEntry) -> String {
    format!(
        "{}  {}  {} -> {}  {}",
        m.id,
        m.created_at,
        m.from,
        m.to.join(", "),
        m.subject
    )
}

pub async fn run(remote: &Remote, command: OutboxCommand) -> Result<(), CliError> {
    let client = remote.client(true)?;
    match command {
        OutboxCommand::List { limit } => {
            let list: List<OutboxEntry> =
                client.get(&format!("/api/v1/outbox?limit={limit}")).await?;
            output(remote, &list, |l| {
                l.items.iter().map(line).collect::<Vec<_>>().join("\n")
            })
        }
        OutboxCommand::Show { id, raw: true } => {
            print!(
                "{}",
                client.get_text(&format!("/api/v1/outbox/{id}/raw")).await?
            );
            Ok(())
        }
        OutboxCommand::Show { id, raw: false } => {
            let message: OutboxMessage = client.get(&format!("/api/v1/outbox/{id}")).await?;
            output(remote, &message, |m| {
                let headers: Vec<String> = m
                    .headers
                    .iter()
                    .map(|h| format!("{}: {}", h.name, h.value))
                    .collect();
                format!(
                    "{}\n\n{}",
                    headers.join("\n"),
                    m.text.as_deref().unwrap_or("(no text part)")
                )
            })
        }
    }
}
