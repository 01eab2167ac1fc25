//! `absender org …`: organizations (operator key).

use super::{CliError, Remote, output};
use absender_core::Locale;
use absender_service::api::{CreateOrg, CreatedOrg, List, Org, RotateKey, RotatedKey, UpdateOrg};

#[derive(Debug, clap::Subcommand)]
pub enum OrgCommand {
    /// Create an organization; prints its API key once.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Where absender sends notices for the organization.
        #[arg(long)]
        contact: String,
        /// Language of mails and pages: de or en.
        #[arg(long, default_value = "en", value_parser = parse_locale)]
        locale: Locale,
    },
    /// List organizations.
    List,
    /// Show one organization.
    Show { id: String },
    /// Switch the custom-sender upgrade on (or off with --disable).
    EnableCustomSender {
        id: String,
        /// Switch it off instead.
        #[arg(long)]
        disable: bool,
    },
    /// Give the organization a new API key (printed once); the old one stops
    /// at once, or after --grace (at most 24h). Ends its web UI sessions.
    /// The organization may rotate its own key.
    RotateKey {
        id: String,
        /// How long the old key keeps working, e.g. 1h.
        #[arg(long, value_parser = humantime::parse_duration)]
        grace: Option<std::time::Duration>,
    },
}

fn parse_locale(s: &str) -> Result<Locale, String> {
    Locale::parse(s).ok_or_else(|| "the locale is de or en".to_string())
}

fn line(org: &Org) -> String {
    let upgrade = if org.custom_sender_enabled {
        "custom sender on"
    } else {
        "custom sender off"
    };
    format!(
        "{}  {}  <{}>  {}  {}",
        org.id,
        org.name,
        org.contact_email,
        org.locale.as_str(),
        upgrade
    )
}

pub async fn run(remote: &Remote, command: OrgCommand) -> Result<(), CliError> {
    let client = remote.client(false)?;
    match command {
        OrgCommand::Create {
            name,
            contact,
            locale,
        } => {
            let body = CreateOrg {
                name,
                contact_email: contact,
                locale,
            };
            let created: CreatedOrg = client.post("/api/v1/orgs", &body).await?;
            output(remote, &created, |c| {
                format!("{}\napi key (shown once): {}", line(&c.org), c.api_key)
            })
        }
        OrgCommand::List => {
            let list: List<Org> = client.get("/api/v1/orgs").await?;
            output(remote, &list, |l| {
                l.items.iter().map(line).collect::<Vec<_>>().join("\n")
            })
        }
        OrgCommand::Show { id } => {
            let org: Org = client.get(&format!("/api/v1/orgs/{id}")).await?;
            output(remote, &org, line)
        }
        OrgCommand::RotateKey { id, grace } => {
            let rotated: RotatedKey = client
                .post(
                    &format!("/api/v1/orgs/{id}/rotate-key"),
                    &RotateKey { grace },
                )
                .await?;
            output(remote, &rotated, |r| {
                let old = match &r.previous_key_expires_at {
                    Some(at) => format!("the old key works until {at}"),
                    None => "the old key no longer works".to_string(),
                };
                format!(
                    "api key (shown once): {}
{old}",
                    r.api_key
                )
            })
        }
        OrgCommand::EnableCustomSender { id, disable } => {
            let body = UpdateOrg {
                custom_sender_enabled: Some(!disable),
                ..Default::default()
            };
            let org: Org = client.patch(&format!("/api/v1/orgs/{id}"), &body).await?;
            output(remote, &org, line)
        }
    }
}
