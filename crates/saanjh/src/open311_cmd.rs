//! `saanjh open311`: issue API keys for Open311 clients (the key is printed
//! once; only its hash is kept), list them, and seed demonstration reports
//! and scorecard rounds into a demo database. Everything goes through the
//! same service functions as the HTTP API.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use saanjh_store::Store;
use saanjh_web::open311::service as o311;
use saanjh_web::{AppState, SystemClock};

#[derive(Subcommand)]
pub enum Command {
    /// Issue a new API key and print it (it is not shown again).
    Key {
        /// Which client the key is for, e.g. "FixMyLane Android app".
        #[arg(long)]
        name: String,
        /// Reports the key may file a minute.
        #[arg(long, default_value_t = o311::DEFAULT_RATE_PER_MINUTE)]
        rate_per_minute: i64,
    },
    /// List the issued keys (names and rates; never the keys).
    Keys,
    /// File realistic reports (answered as the rules oblige) and two
    /// scorecard rounds for every demonstration initiative.
    SeedDemo,
}

pub fn run(database: &str, cmd: Command) -> anyhow::Result<ExitCode> {
    crate::runtime()?.block_on(async {
        let store = Store::connect(database)
            .await
            .with_context(|| format!("cannot open {database}"))?;
        let state = AppState::new(store, Arc::new(SystemClock));
        match cmd {
            Command::Key {
                name,
                rate_per_minute,
            } => {
                let key = o311::issue_key(&state, &name, Some(rate_per_minute), None).await?;
                eprintln!(
                    "Issued key {} for \"{}\" ({} reports a minute). Keep it: it is not shown again.",
                    key.id, key.name, key.rate_per_minute
                );
                println!("{}", key.key);
            }
            Command::Keys => {
                for k in state.store.open311_keys().await? {
                    println!(
                        "{}\t{}\t{}/min\t{}",
                        k.id, k.created_at, k.rate_per_minute, k.name
                    );
                }
            }
            Command::SeedDemo => {
                let s = o311::seed_reports(&state).await?;
                eprintln!(
                    "Filed {} reports with {} responses and held {} scorecard rounds.",
                    s.reports, s.responses, s.rounds
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
