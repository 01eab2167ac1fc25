//! `absender access-key …`: SES-style access keys (SigV4, SES SMTP passwords).

use super::{CliError, Remote, output};
use absender_service::api::{AccessKey, List};

#[derive(Debug, clap::Subcommand)]
pub enum AccessKeyCommand {
    /// A new access key; the secret is shown this once.
    Create,
    /// The organization's access keys (without secrets).
    List,
    /// Revoke an access key at once (its id or its access key id).
    Revoke { id: String },
}

pub async fn run(remote: &Remote, command: AccessKeyCommand) -> Result<(), CliError> {
    let client = remote.client(true)?;
    match command {
        AccessKeyCommand::Create => {
            let created: AccessKey = client
                .post("/api/v1/access-keys", &serde_json::json!({}))
                .await?;
            output(remote, &created, |k| {
                format!(
                    "id:                {}\naccess key id:     {}\nsecret access key: {}\n(the secret is shown only now)",
                    k.id,
                    k.access_key_id,
                    k.secret_access_key.as_deref().unwrap_or("")
                )
            })
        }
        AccessKeyCommand::List => {
            let list: List<AccessKey> = client.get("/api/v1/access-keys").await?;
            output(remote, &list, |l| {
                l.items
                    .iter()
                    .map(|k| format!("{}  {}  {}", k.id, k.access_key_id, k.created_at))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        AccessKeyCommand::Revoke { id } => {
            client.delete(&format!("/api/v1/access-keys/{id}")).await?;
            println!("revoked {id}");
            Ok(())
        }
    }
}
