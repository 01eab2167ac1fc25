//! The `absender` command: `serve`, `demo`, and the operator's tasks against a
//! running server. The only place that prints to the terminal.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(cli::run(args))
}
