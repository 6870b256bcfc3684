//! The `saanjh` command: one binary for operators and researchers.
//!
//! Each subcommand lives in its own module; this file only parses the
//! command line and dispatches. Errors surface as a message on stderr and a
//! non-zero exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod arrangement_cmd;
mod chain_cmd;
mod demo;
mod ledger_cmd;
mod open311_cmd;
mod pb_cmd;
mod qca_cmd;
mod serve_cmd;

#[derive(Parser)]
#[command(
    name = "saanjh",
    version,
    about = "Run co-produced public services: arrangements, ledgers, evidence, analysis"
)]
struct Cli {
    /// Database URL: sqlite://FILE (default sqlite://saanjh.db; for `demo`,
    /// sqlite://saanjh-demo.db) or postgres://…
    #[arg(long, visible_alias = "db", global = true, env = "SAANJH_DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web pages and the JSON API.
    Serve(serve_cmd::ServeArgs),
    /// Create a fresh database of demonstration initiatives, then serve it.
    Demo(serve_cmd::DemoArgs),
    /// Recompute the hash chains and report the first broken link of each.
    Verify(chain_cmd::VerifyArgs),
    /// Recompute every projection from the event log.
    Rebuild,
    /// Work with arrangement files.
    #[command(subcommand)]
    Arrangement(arrangement_cmd::Command),
    /// Qualitative Comparative Analysis (crisp-, fuzzy- and multi-value sets) on a CSV file.
    // Boxed: the analysis options are by far the largest arguments.
    Qca(Box<qca_cmd::Args>),
    /// Participatory budgeting: count a pabulib `.pb` file with a voting rule; export or
    /// import a round of the database as a `.pb` file.
    Pb(pb_cmd::Args),
    /// The co-delivery ledger: import a register, print a statement, record an allocation.
    #[command(subcommand)]
    Ledger(ledger_cmd::Command),
    /// Open311 citizen reports: issue API keys, seed demonstration reports.
    #[command(subcommand)]
    Open311(open311_cmd::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let database = cli
        .database
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
    let result = match cli.command {
        Command::Serve(args) => serve_cmd::serve(&database, args),
        Command::Demo(args) => serve_cmd::demo(cli.database.as_deref(), args),
        Command::Verify(args) => chain_cmd::verify(&database, args),
        Command::Rebuild => chain_cmd::rebuild(&database),
        Command::Arrangement(cmd) => arrangement_cmd::run(cmd),
        Command::Qca(args) => qca_cmd::run(*args),
        Command::Pb(args) => pb_cmd::run(args, &database),
        Command::Ledger(cmd) => ledger_cmd::run(&database, cmd),
        Command::Open311(cmd) => open311_cmd::run(&database, cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where Saanjh keeps its data when not told otherwise.
pub(crate) const DEFAULT_DATABASE: &str = "sqlite://saanjh.db";

/// A runtime for the commands that talk to the database.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
