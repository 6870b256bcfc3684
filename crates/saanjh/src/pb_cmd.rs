//! `saanjh pb`: count a pabulib `.pb` file with a participatory-budgeting rule and print
//! the winners, the spend, per-voter satisfaction measures and why each project won or
//! lost. All counting is in the pure `saanjh-pb` crate; this module only reads the file and
//! renders the outcome.
//!
//! `saanjh pb export --round ID` and `saanjh pb import FILE.pb` move rounds between a
//! database and `.pb` files through the same service functions as the API
//! (`saanjh_web::budgeting::{export_pb, import_pb}`): an import is checked whole, and a bad
//! file prints each problem with its line and imports nothing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::ValueEnum;
use saanjh_pb::{Completion, CountOptions, Money, Rule, Utility};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RuleArg {
    /// Most votes first, skipping what no longer fits.
    Greedy,
    /// Most votes per unit of cost first, skipping what no longer fits.
    GreedyCost,
    /// Method of Equal Shares.
    Mes,
    /// Sequential Phragmén.
    Phragmen,
    /// Utilitarian welfare maximum (knapsack).
    MaxWelfare,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum UtilityArg {
    /// Satisfaction = cost of a voter's funded projects.
    Cost,
    /// Satisfaction = number of a voter's funded projects.
    Approval,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CompletionArg {
    None,
    /// Raise each voter's budget by --step while the outcome still fits.
    Add1,
    /// Add1, then fill what still fits by most votes.
    Add1Greedy,
    /// Add1 that also stops at the first exhaustive outcome (as pabutools does).
    Add1e,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Table,
    Json,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<DbCommand>,
    /// The pabulib `.pb` file to count.
    #[arg(required = true)]
    file: Option<PathBuf>,
    /// Voting rule.
    #[arg(long, value_enum, default_value = "greedy")]
    rule: RuleArg,
    /// Voter utility for MES and max-welfare.
    #[arg(long, value_enum, default_value = "cost")]
    utility: UtilityArg,
    /// Completion of MES.
    #[arg(long, value_enum, default_value = "none")]
    completion: CompletionArg,
    /// Add1 increment of each voter's budget, in currency units (decimals allowed).
    #[arg(long, default_value = "1")]
    step: String,
    /// Seed of the drawn tie-break order (published with the result).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Cap on the MES reruns of an Add1 completion (raises proven not to change the
    /// outcome cost no rerun and are not capped).
    #[arg(long, alias = "max-iterations", default_value_t = 1_000_000)]
    max_runs: u64,
    /// MES: then compare with greedy by votes and take greedy's outcome iff strictly more
    /// voters prefer it (the `-comparison` rules, e.g. Wieliczka and Świecie 2023).
    #[arg(long)]
    compare_greedy: bool,
    /// Rerun MES at every Add1 raise instead of skipping raises proven not to change the
    /// outcome (slower; for checking).
    #[arg(long)]
    no_jump: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
    /// Also list every voter's satisfaction.
    #[arg(long)]
    per_voter: bool,
    /// Print parse and count times (ms) on stderr.
    #[arg(long)]
    time: bool,
}

/// Rounds in the database (`--db URL`, or `SAANJH_DATABASE_URL`).
#[derive(clap::Subcommand)]
enum DbCommand {
    /// Write a round as a pabulib `.pb` file on standard output.
    Export {
        /// The round's id.
        #[arg(long)]
        round: String,
    },
    /// Import a `.pb` file as a counted round. Checked whole first: on any problem each is
    /// printed with its line and nothing is imported.
    Import {
        file: PathBuf,
        /// mes-add1, mes-add1-comparison or greedy (default: the file's META `rule`).
        #[arg(long)]
        rule: Option<String>,
        /// Tie-break seed (default: the file's `tie_break_seed`, else 0).
        #[arg(long)]
        seed: Option<u64>,
        /// The round's name (default: the file's `unit` and `instance`).
        #[arg(long)]
        name: Option<String>,
        /// The council (organisation id) whose reserve pays for the winners, when they are
        /// to be delivered as schemes; without it the round is a record of a past count.
        #[arg(long)]
        council: Option<String>,
        /// Print the time taken (wall and CPU) on stderr.
        #[arg(long)]
        time: bool,
    },
}

/// CPU seconds this process has used (user + system), for timings beside wall time.
fn cpu_seconds() -> f64 {
    // /proc/self/stat fields 14 and 15: utime and stime in clock ticks (100 a second on
    // Linux); elsewhere report nothing rather than a wrong figure.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let u: f64 = f.get(11)?.parse().ok()?;
            let st: f64 = f.get(12)?.parse().ok()?;
            Some((u + st) / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn run_db(database: &str, cmd: DbCommand) -> anyhow::Result<ExitCode> {
    use std::sync::Arc;

    use saanjh_web::budgeting::{ImportOptions, export_pb, import_pb};
    use saanjh_web::{AppState, SystemClock};
    crate::runtime()?.block_on(async {
        let store = saanjh_store::Store::connect(database)
            .await
            .with_context(|| format!("cannot open {database}"))?;
        let state = AppState::new(store, Arc::new(SystemClock));
        match cmd {
            DbCommand::Export { round } => match export_pb(&state, &round).await {
                Ok(text) => {
                    print!("{text}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => anyhow::bail!("{}", e.problem.detail),
            },
            DbCommand::Import {
                file,
                rule,
                seed,
                name,
                council,
                time,
            } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
                let (wall, cpu) = (Instant::now(), cpu_seconds());
                let opts = ImportOptions {
                    name,
                    rule,
                    seed,
                    council,
                };
                match import_pb(&state, "cli:pb-import", &text, opts).await {
                    Ok(out) => {
                        if time {
                            eprintln!(
                                "import_wall_s {:.3} import_cpu_s {:.3}",
                                wall.elapsed().as_secs_f64(),
                                cpu_seconds() - cpu
                            );
                        }
                        println!(
                            "imported round {}: {} projects, {} ballots; winners (proposal numbers): {}",
                            out.round,
                            out.projects,
                            out.ballots,
                            out.winners
                                .iter()
                                .map(u32::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                        match out.agrees_with_file {
                            Some(true) => println!("the count agrees with the file's `selected` column"),
                            Some(false) => println!("the count DIFFERS from the file's `selected` column"),
                            None => {}
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => {
                        let listed = e
                            .problem
                            .errors
                            .as_ref()
                            .and_then(|v| v.as_array())
                            .filter(|a| !a.is_empty());
                        match listed {
                            Some(errors) => {
                                for err in errors {
                                    eprintln!(
                                        "{}:{}: {}",
                                        file.display(),
                                        err["line"],
                                        err["message"].as_str().unwrap_or("")
                                    );
                                }
                                eprintln!("nothing was imported");
                            }
                            None => eprintln!("error: {}; nothing was imported", e.problem.detail),
                        }
                        Ok(ExitCode::FAILURE)
                    }
                }
            }
        }
    })
}

pub fn run(args: Args, database: &str) -> anyhow::Result<ExitCode> {
    if let Some(cmd) = args.command {
        return run_db(database, cmd);
    }
    let Some(file) = args.file.clone() else {
        anyhow::bail!("give a .pb file to count, or `export` / `import`");
    };
    let t0 = Instant::now();
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", file.display()))?;
    let (inst, warnings) = saanjh_pb::parse_with_warnings(&text)
        .with_context(|| format!("{} is not a valid .pb file", file.display()))?;
    for w in warnings.iter().take(5) {
        eprintln!("warning: {}: {w}", file.display());
    }
    if warnings.len() > 5 {
        eprintln!("warning: … and {} more", warnings.len() - 5);
    }
    let t1 = Instant::now();
    let step = Money::parse(&args.step)
        .filter(|m| m.0 > 0)
        .with_context(|| format!("--step `{}` is not a positive amount", args.step))?;
    let opts = CountOptions {
        rule: match args.rule {
            RuleArg::Greedy => Rule::Greedy,
            RuleArg::GreedyCost => Rule::GreedyCost,
            RuleArg::Mes => Rule::Mes,
            RuleArg::Phragmen => Rule::Phragmen,
            RuleArg::MaxWelfare => Rule::MaxWelfare,
        },
        utility: match args.utility {
            UtilityArg::Cost => Utility::Cost,
            UtilityArg::Approval => Utility::Approval,
        },
        completion: match args.completion {
            CompletionArg::None => Completion::None,
            CompletionArg::Add1 => Completion::Add1,
            CompletionArg::Add1Greedy => Completion::Add1Greedy,
            CompletionArg::Add1e => Completion::Add1e,
        },
        step,
        seed: args.seed,
        max_runs: args.max_runs,
        compare_with_greedy: args.compare_greedy,
        add1_jump: !args.no_jump,
    };
    let out = saanjh_pb::count(&inst, &opts)?;
    let t2 = Instant::now();
    if args.time {
        eprintln!(
            "parse_ms {:.3} count_ms {:.3}",
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3
        );
    }

    // The file's own `selected` column, when it has one, for comparison.
    let official: Option<Vec<&str>> = inst
        .projects
        .iter()
        .map(|p| p.officially_selected().map(|s| (s, p.id.as_str())))
        .collect::<Option<Vec<_>>>()
        .map(|v| {
            v.into_iter()
                .filter(|(s, _)| *s)
                .map(|(_, id)| id)
                .collect()
        });
    let official_match = official.as_ref().map(|o| {
        let mut a: Vec<&str> = o.clone();
        let mut b: Vec<&str> = out.winners.iter().map(String::as_str).collect();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    });

    match args.format {
        FormatArg::Json => {
            let mut v = serde_json::to_value(&out)?;
            if let Some(obj) = v.as_object_mut() {
                obj.insert("instance".into(), file.display().to_string().into());
                obj.insert("official_match".into(), official_match.into());
                if let Some(projects) = obj.get_mut("projects").and_then(|p| p.as_array_mut()) {
                    for (pj, pr) in projects.iter_mut().zip(&out.projects) {
                        if let Some(o) = pj.as_object_mut() {
                            o.insert("why".into(), pr.reason.explain().into());
                        }
                    }
                }
                if args.per_voter {
                    obj.insert("per_voter".into(), serde_json::to_value(&out.per_voter)?);
                }
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        FormatArg::Table => {
            let s = &out.satisfaction;
            println!(
                "{}: {} voters, {} projects, budget {}",
                file.display(),
                inst.voters.len(),
                inst.projects.len(),
                out.budget
            );
            // The kebab-case names the options use, from the outcome's own serialisation.
            let name = |v: serde_json::Value| v.as_str().map(str::to_string).unwrap_or_default();
            let mut rule = name(serde_json::to_value(out.rule)?);
            if let Some(u) = out.utility {
                rule.push_str(&format!(", utility {}", name(serde_json::to_value(u)?)));
            }
            println!("rule: {rule}");
            if let Some(c) = &out.completion {
                println!(
                    "completion {}: per-voter budget {:.2} -> {:.2} in {} steps of {}, {} MES runs ({})",
                    name(serde_json::to_value(c.kind)?),
                    c.start_per_voter.approx(),
                    c.final_per_voter.approx(),
                    c.iterations,
                    c.step_per_voter,
                    c.runs,
                    c.stopped_because
                );
            }
            println!(
                "winners ({}): {}",
                out.winners.len(),
                out.winners.join(", ")
            );
            println!("spent {} of {} (left {})", out.spent, out.budget, out.left);
            if let Some(c) = &out.comparison {
                println!(
                    "comparison with greedy: {} voters prefer equal shares, {} prefer greedy; kept {}",
                    c.prefer_equal_shares,
                    c.prefer_greedy,
                    if c.kept_greedy {
                        "greedy"
                    } else {
                        "equal shares"
                    }
                );
            }
            println!(
                "voters with a funded project: {} of {} ({:.1} %); mean funded projects per voter {:.3}; mean cost satisfaction {:.2}",
                s.voters_with_a_winner,
                s.voters,
                100.0 * s.share_with_a_winner.approx(),
                s.mean_winners_per_voter.approx(),
                s.mean_cost_satisfaction.approx()
            );
            println!("funded projects per voter (0, 1, 2, …): {:?}", s.histogram);
            if let Some(m) = official_match {
                println!(
                    "matches the file's `selected` column: {}",
                    if m { "yes" } else { "NO" }
                );
            }
            println!(
                "tie-break: {} (seed {}); ties settled: {}",
                out.tie_break.criteria,
                out.tie_break.seed,
                out.ties.len()
            );
            for t in &out.ties {
                println!(
                    "  step {}: {} -> {} by {}",
                    t.step,
                    t.tied.join(", "),
                    t.chosen,
                    name(serde_json::to_value(t.decided_by)?)
                );
            }
            println!();
            println!(
                "{:<12} {:>14} {:>8} {:>4}  why",
                "project", "cost", "votes", "won"
            );
            for p in &out.projects {
                println!(
                    "{:<12} {:>14} {:>8} {:>4}  {}",
                    p.id,
                    p.cost.to_string(),
                    p.votes,
                    if p.selected { "yes" } else { "" },
                    p.reason.explain()
                );
            }
            if args.per_voter {
                println!();
                println!("{:<12} {:>8} {:>14}", "voter", "funded", "cost");
                for v in &out.per_voter {
                    println!("{:<12} {:>8} {:>14}", v.id, v.winners, v.cost.to_string());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
