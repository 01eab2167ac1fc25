//! `absender smtp-credentials …`: logins for SMTP submission.

use super::{CliError, Remote, output};
use absender_service::api::{CreateSmtpCredential, List, SmtpCredential};

#[derive(Debug, clap::Subcommand)]
pub enum SmtpCredentialCommand {
    /// A new login; the password is shown this once.
    Create {
        /// What the login is for (shown in listings).
        #[arg(long)]
        description: Option<String>,
    },
    /// The organization's logins (without passwords).
    List,
    /// Revoke a login at once.
    Revoke { id: String },
}

pub async fn run(remote: &Remote, command: SmtpCredentialCommand) -> Result<(), CliError> {
    let client = remote.client(true)?;
    match command {
        SmtpCredentialCommand::Create { description } => {
            let created: SmtpCredential = client
                .post(
                    "/api/v1/smtp-credentials",
                    &CreateSmtpCredential { description },
                )
                .await?;
            output(remote, &created, |c| {
                format!(
                    "id:       {}\nusername: {}\npassword: {}\n(the password is shown only now; absender keeps a hash)",
                    c.id,
                    c.username,
                    c.password.as_deref().unwrap_or("")
                )
            })
        }
        SmtpCredentialCommand::List => {
            let list: List<SmtpCredential> = client.get("/api/v1/smtp-credentials").await?;
            output(remote, &list, |l| {
                l.items
                    .iter()
                    .map(|c| {
                        format!(
                            "{}  {}  {}  {}",
                            c.id,
                            c.username,
                            c.created_at,
                            c.description.as_deref().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        SmtpCredentialCommand::Revoke { id } => {
            client
                .delete(&format!("/api/v1/smtp-credentials/{id}"))
                .await?;
            println!("revoked {id}");
            Ok(())
        }
    }
}
