//! `saanjh verify` and `saanjh rebuild`: the integrity of the event log and
//! the projections computed from it.

use std::process::ExitCode;

use saanjh_store::Store;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// Verify only this initiative's chain (or `registry`).
    #[arg(long)]
    initiative: Option<String>,
}

pub fn verify(database: &str, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    crate::runtime()?.block_on(async {
        let store = Store::connect(database).await?;
        if let Some(id) = &args.initiative
            && store.head(id).await?.0 == 0
        {
            anyhow::bail!("there is no chain `{id}`: no initiative with that id has any events");
        }
        let started = std::time::Instant::now();
        let report = store.verify(args.initiative.as_deref()).await?;
        let secs = started.elapsed().as_secs_f64();
        if report.broken.is_empty() {
            println!(
                "ok: {} chain(s), {} event(s) verified in {secs:.2}s ({:.0} events/s)",
                report.chains,
                report.events,
                report.events as f64 / secs.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        } else {
            for b in &report.broken {
                println!(
                    "BROKEN: chain `{}` at event {}: {}",
                    b.chain, b.seq, b.reason
                );
            }
            println!(
                "{} of {} chain(s) broken",
                report.broken.len(),
                report.chains
            );
            Ok(ExitCode::from(3))
        }
    })
}

pub fn rebuild(database: &str) -> anyhow::Result<ExitCode> {
    crate::runtime()?.block_on(async {
        let store = Store::connect(database).await?;
        let n = store.rebuild().await?;
        println!("rebuilt every projection from {n} event(s)");
        // The diagnosis snapshots were emptied with the projections; fold
        // every chain once now so the first diagnoses need not.
        let state = saanjh_web::AppState::new(store, std::sync::Arc::new(saanjh_web::SystemClock));
        // They are a cache: failing to fill them leaves the projections
        // rebuilt and costs a fold at first use, so it is reported, not fatal.
        match saanjh_web::trackers::refold_all(&state).await {
            Ok(folded) => println!("kept the diagnosis folds of {folded} initiative(s)"),
            Err(e) => eprintln!("diagnosis folds not kept: {}", e.problem.detail),
        }
        Ok(ExitCode::SUCCESS)
    })
}
