//! `absender serve`: run the server until Ctrl-C.

use super::CliError;
use absender::config::Config;
use absender::server;
use absender_service::SystemClock;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file; every key is optional.
    #[arg(long, env = "ABSENDER_CONFIG")]
    config: Option<PathBuf>,
}

/// Sets up logging to stderr, filtered by `ABSENDER_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ABSENDER_LOG")
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub async fn run(args: ServeArgs) -> Result<(), CliError> {
    init_tracing();
    let config =
        Config::load(args.config.as_deref()).map_err(|e| CliError::Startup(format!("{e:#}")))?;
    let running = server::start(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| CliError::Startup(format!("{e:#}")))?;
    if let Some(key) = &running.new_admin_key {
        println!("admin key (shown once, store it now): {key}");
    }
    // One parseable line for scripts and tests.
    let smtp_tls = running
        .smtp_tls_addr
        .map(|addr| format!(" smtp_tls={addr}"))
        .unwrap_or_default();
    println!(
        "absender listening http={} dns={} smtp={}{smtp_tls} public_url={}",
        running.http_addr, running.dns_addr, running.smtp_addr, running.public_url
    );
    running
        .serve_until_signal()
        .await
        .map_err(|e| CliError::Startup(format!("{e:#}")))
}
