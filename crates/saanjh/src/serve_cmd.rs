//! `saanjh serve` and `saanjh demo`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use saanjh_store::Store;
use saanjh_web::budgeting::{VoteLimiter, VoteRate};
use saanjh_web::{AppState, ManualClock, SystemClock};
use time::OffsetDateTime;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Online vote attempts one client may make in one budgeting round, as
    /// ATTEMPTS/SECONDS (a refilling allowance); over it, 429 with Retry-After.
    #[arg(long, env = "SAANJH_VOTE_RATE", default_value = "30/600")]
    vote_rate: String,
    /// Behind a reverse proxy: the header holding the client's address (e.g.
    /// x-forwarded-for; its first address counts). Set it only when the proxy
    /// overwrites that header, or clients could choose their own address.
    #[arg(long, env = "SAANJH_VOTE_CLIENT_HEADER")]
    vote_client_header: Option<String>,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Create the data and exit instead of serving it.
    #[arg(long)]
    no_serve: bool,
}

/// The demo's own database file, recreated on every run.
const DEMO_FILE: &str = "saanjh-demo.db";

pub fn serve(database: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::runtime()?.block_on(async {
        let store = Store::connect(database)
            .await
            .with_context(|| format!("cannot open {database}"))?;
        let rate = VoteRate::parse(&args.vote_rate).map_err(anyhow::Error::msg)?;
        let limiter = VoteLimiter::with_header(rate, args.vote_client_header.as_deref())
            .map_err(anyhow::Error::msg)?;
        eprintln!(
            "Saanjh on {} ({}), listening on http://{}",
            database,
            store.backend(),
            args.listen
        );
        let mut state = AppState::new(store, Arc::new(SystemClock));
        state.votes = Arc::new(limiter);
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        saanjh_web::serve_on(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn demo(database: Option<&str>, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let url = match database {
        Some(url) => url.to_string(),
        None => {
            // The demo file is ours: start it afresh every time.
            for suffix in ["", "-wal", "-shm"] {
                let f = format!("{DEMO_FILE}{suffix}");
                if std::path::Path::new(&f).exists() {
                    std::fs::remove_file(&f)
                        .with_context(|| format!("cannot remove the old {f}"))?;
                }
            }
            format!("sqlite://{DEMO_FILE}")
        }
    };
    crate::runtime()?.block_on(async {
        let store = Store::connect(&url).await.with_context(|| format!("cannot open {url}"))?;
        if store.head(saanjh_core::event::REGISTRY_CHAIN).await?.0 > 0 {
            bail!("{url} already holds data; the demo needs an empty database (run `saanjh demo` without --database to use {DEMO_FILE})");
        }
        eprintln!("Creating demonstration data in {url} …");
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let state = AppState::new(store.clone(), clock.clone());
        let started = std::time::Instant::now();
        let logins = crate::demo::seed(state, clock, OffsetDateTime::now_utc()).await?;
        let report = store.verify(None).await?;
        eprintln!(
            "Done in {:.1}s: {} events on {} chains, all verified. THIS IS DEMONSTRATION DATA.",
            started.elapsed().as_secs_f64(),
            report.events,
            report.chains
        );
        eprintln!("Log in with any of these users (password: {}):", crate::demo::DEMO_PASSWORD);
        for (user, role, _) in &logins {
            eprintln!("  {user:<16} {role}");
        }
        if args.no_serve {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("Serving on http://{}", args.listen);
        saanjh_web::serve(store, &args.listen, Arc::new(SystemClock)).await?;
        Ok(ExitCode::SUCCESS)
    })
}
