//! `absender send`: send one mail from the command line (organization key, or
//! the operator key with --org).

use super::{CliError, Remote, output};
use absender_core::Category;
use absender_service::api::{Accepted, AttachmentIn, SendMessage};
use base64::Engine;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// A category organizations send (booking, invitation, …).
    #[arg(long, value_parser = parse_category)]
    category: Category,
    /// Recipients (repeat for several).
    #[arg(long, required = true)]
    to: Vec<String>,
    /// Copies.
    #[arg(long)]
    cc: Vec<String>,
    /// Blind copies.
    #[arg(long)]
    bcc: Vec<String>,
    /// An explicit sender: must be a verified identity whose scope allows the category.
    #[arg(long)]
    from: Option<String>,
    /// Reply-To address.
    #[arg(long)]
    reply_to: Option<String>,
    #[arg(long)]
    subject: String,
    /// The plain-text body.
    #[arg(long)]
    text: Option<String>,
    /// A file holding the HTML body.
    #[arg(long)]
    html_file: Option<PathBuf>,
    /// Files to attach (repeat for several).
    #[arg(long)]
    attach: Vec<PathBuf>,
}

fn parse_category(s: &str) -> Result<Category, String> {
    Category::of_organizations()
        .find(|c| c.as_str() == s)
        .ok_or_else(|| format!("the category is {}", Category::organization_names()))
}

fn read(path: &PathBuf) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

pub async fn run(remote: &Remote, args: SendArgs) -> Result<(), CliError> {
    let client = remote.client(true)?;
    let html = match &args.html_file {
        Some(path) => Some(
            String::from_utf8(read(path)?)
                .map_err(|_| CliError::Usage(format!("{} is not UTF-8", path.display())))?,
        ),
        None => None,
    };
    let mut attachments = Vec::new();
    for path in &args.attach {
        attachments.push(AttachmentIn {
            filename: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "attachment".into()),
            content_type: "application/octet-stream".into(),
            content_base64: base64::engine::general_purpose::STANDARD.encode(read(path)?),
        });
    }
    let message = SendMessage {
        category: args.category,
        from: args.from,
        from_name: None,
        to: args.to,
        cc: args.cc,
        bcc: args.bcc,
        reply_to: args.reply_to,
        subject: args.subject,
        text: args.text,
        html,
        headers: Default::default(),
        attachments,
    };
    let accepted: Accepted = client.post("/api/v1/messages", &message).await?;
    output(remote, &accepted, |a| format!("accepted {}", a.id))
}
