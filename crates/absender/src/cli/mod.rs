//! Command-line parsing and dispatch. Exit codes a script can rely on:
//! 0 success, 1 the server refused (its error code is printed), 2 bad usage,
//! 3 the server could not be reached or answered nonsense, 4 start-up failed.

mod access_keys;
mod client;
mod demo;
mod dns;
mod identity;
mod org;
mod outbox;
mod send;
mod serve;
mod smtp_credentials;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use client::{ApiClient, CliError};

/// absender: send platform mail from customers' own verified addresses.
#[derive(Debug, Parser)]
#[command(name = "absender", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where and as whom the operator commands talk to a running server.
#[derive(Debug, Clone, clap::Args)]
pub struct Remote {
    /// Base URL of the server.
    #[arg(
        long,
        env = "ABSENDER_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,
    /// API key: the operator key, or an organization's key.
    #[arg(long, env = "ABSENDER_KEY", hide_env_values = true, global = true)]
    key: Option<String>,
    /// With the operator key: act for this organization.
    #[arg(long, env = "ABSENDER_ORG", global = true)]
    org: Option<String>,
    /// Print the server's JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// For an https URL: a PEM file of certificate authorities to trust
    /// besides the public ones (a private CA, or the server's own certificate).
    #[arg(long, env = "ABSENDER_CA_FILE", global = true)]
    ca_file: Option<std::path::PathBuf>,
}

impl Remote {
    /// A client of the server, acting for `--org` when `for_org` (operator key).
    fn client(&self, for_org: bool) -> Result<client::ApiClient, client::CliError> {
        let org = if for_org { self.org.as_deref() } else { None };
        client::ApiClient::trusting(&self.url, self.key.as_deref(), org, self.ca_file.as_deref())
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Start a server on a fresh data dir and walk the custom-sender setup.
    Demo(demo::DemoArgs),
    /// Manage organizations (operator key).
    Org {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: org::OrgCommand,
    },
    /// Manage sender identities (organization key, or operator key with --org).
    Identity {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: identity::IdentityCommand,
    },
    /// Local DNS zones that absender serves itself (operator key).
    Dns {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: dns::DnsCommand,
    },
    /// Send one mail (organization key, or the operator key with --org).
    Send {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        args: send::SendArgs,
    },
    /// SMTP submission logins (organization key, or the operator key with --org).
    SmtpCredentials {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: smtp_credentials::SmtpCredentialCommand,
    },
    /// SES-style access keys for the SES API and SES SMTP passwords
    /// (organization key, or the operator key with --org).
    AccessKey {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: access_keys::AccessKeyCommand,
    },
    /// Look into the capture outbox.
    Outbox {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: outbox::OutboxCommand,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Org { remote, command } => org::run(&remote, command).await,
        Command::Identity { remote, command } => identity::run(&remote, command).await,
        Command::Outbox { remote, command } => outbox::run(&remote, command).await,
        Command::Dns { remote, command } => dns::run(&remote, command).await,
        Command::Send { remote, args } => send::run(&remote, args).await,
        Command::SmtpCredentials { remote, command } => {
            smtp_credentials::run(&remote, command).await
        }
        Command::AccessKey { remote, command } => access_keys::run(&remote, command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Prints `value` as JSON, or the text `human` makes of it.
fn output<T: serde::Serialize>(
    remote: &Remote,
    value: &T,
    human: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    if remote.json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).map_err(|e| CliError::BadAnswer(e.to_string()))?
        );
    } else {
        println!("{}", human(value));
    }
    Ok(())
}
