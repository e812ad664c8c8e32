use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Expressway: AWS Step Functions Express workflows, embedded or served.
#[derive(Parser)]
#[command(name = "expressway", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the AWS Step Functions API over HTTP.
    Serve(expressway::server::ServeArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => expressway::server::serve_main(args),
    }
}
