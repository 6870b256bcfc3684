//! `saanjh ledger`: import a lane's paper register (CSV), print a scheme's or
//! an initiative's public statement, and record a council's reserve
//! allocation. Everything goes through the same service functions as the
//! JSON API, so an import is decided by the arrangement's rules exactly as
//! single entries are, and is written all or nothing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use saanjh_core::ledger::Money;
use saanjh_core::ledger::statement::{self, Statement, Viewer};
use saanjh_store::Store;
use saanjh_web::ledger_api::{self, NewAllocation};
use saanjh_web::{ApiError, AppState, SystemClock};

#[derive(Subcommand)]
pub enum Command {
    /// Import contributions from a CSV register (columns: scheme, household,
    /// role, amount, receipt, date[, means, quantity, rate, purpose]). The
    /// file is checked as a whole: if any row is wrong, nothing is posted and
    /// every wrong row is listed with its line number.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The initiative the register belongs to.
        #[arg(long)]
        initiative: String,
        /// Post every row to this scheme (the file then needs no `scheme` column).
        #[arg(long)]
        scheme: Option<String>,
        /// The person posting (their positions must allow recording contributions).
        #[arg(long = "as", value_name = "PERSON_ID")]
        person: String,
    },
    /// Print the public statement of a scheme or an initiative.
    Statement {
        #[arg(
            long,
            conflicts_with = "initiative",
            required_unless_present = "initiative"
        )]
        scheme: Option<String>,
        #[arg(long)]
        initiative: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Show what this person may see (household names where the
        /// information rules allow); without it, what the public sees.
        #[arg(long = "as", value_name = "PERSON_ID")]
        person: Option<String>,
    },
    /// Record or revise a public organisation's reserve for one financial year.
    Allocate {
        #[arg(long)]
        organisation: String,
        /// The arrangement whose schemes the reserve funds, e.g. cost-sharing.
        #[arg(long)]
        arrangement: String,
        /// Financial year, July to June: 2025-26.
        #[arg(long)]
        year: String,
        /// In rupees, as written: 3000000 or "30,00,000".
        #[arg(long)]
        amount: String,
        /// The development budget it is taken from, in rupees.
        #[arg(long)]
        development_budget: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: amounts as "Rs 1,50,000".
    Table,
    /// One long table, plain amounts ("150000.00").
    Csv,
    Json,
}

pub fn run(database: &str, cmd: Command) -> anyhow::Result<ExitCode> {
    crate::runtime()?.block_on(async {
        let store = Store::connect(database)
            .await
            .with_context(|| format!("cannot open {database}"))?;
        let state = AppState::new(store, Arc::new(SystemClock));
        match cmd {
            Command::Import {
                file,
                initiative,
                scheme,
                person,
            } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                match ledger_api::import_csv(&state, &initiative, scheme.as_deref(), &person, &text)
                    .await
                {
                    Ok(out) => {
                        println!(
                            "imported {} rows, Rs {} in all, as events {}–{} of initiative {}",
                            out.rows,
                            Money(out.total).to_lakh(),
                            out.first_seq,
                            out.last_seq,
                            out.initiative
                        );
                        for (s, n) in &out.per_scheme {
                            println!("  scheme {s}: {n} rows");
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => {
                        report(&file.display().to_string(), &e);
                        Ok(ExitCode::FAILURE)
                    }
                }
            }
            Command::Statement {
                scheme,
                initiative,
                format,
                person,
            } => {
                let id = scheme
                    .or(initiative)
                    .context("give --scheme or --initiative")?;
                let (init, _, _) = saanjh_web::service::resolve(&state, &id)
                    .await
                    .map_err(api)?;
                let viewer = ledger_api::viewer_for_person(&state, person.as_deref(), &init.id)
                    .await
                    .map_err(api)?;
                // The command prints the whole statement.
                let s = ledger_api::statement_for(
                    &state,
                    &id,
                    &viewer,
                    &saanjh_store::EntryPage::all(),
                )
                .await
                .map_err(api)?;
                match format {
                    Format::Json => println!("{}", serde_json::to_string_pretty(&s)?),
                    Format::Csv => print!("{}", statement::to_csv(&s)),
                    Format::Table => print!("{}", table(&s, &viewer)),
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Allocate {
                organisation,
                arrangement,
                year,
                amount,
                development_budget,
                note,
            } => {
                let amount = Money::parse_major(&amount).map_err(anyhow::Error::msg)?;
                let development_budget = development_budget
                    .map(|b| Money::parse_major(&b))
                    .transpose()
                    .map_err(anyhow::Error::msg)?;
                let row = ledger_api::set_allocation(
                    &state,
                    "operator",
                    NewAllocation {
                        organisation,
                        arrangement,
                        year,
                        amount: amount.0,
                        development_budget: development_budget.map(|m| m.0),
                        note,
                    },
                )
                .await
                .map_err(api)?;
                println!(
                    "{} {} {}: Rs {}",
                    row.organisation_id,
                    row.arrangement_id,
                    row.year,
                    Money(row.amount).to_lakh()
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

fn api(e: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.problem.detail)
}

/// An import's refusal: the summary, then every bad row.
fn report(file: &str, e: &ApiError) {
    eprintln!("error: {}", e.problem.detail);
    if let Some(rows) = e.problem.errors.as_ref().and_then(|v| v.as_array()) {
        for r in rows {
            eprintln!(
                "{file}:{}: {}",
                r["line"],
                r["message"].as_str().unwrap_or_default()
            );
        }
    }
}

fn rs(m: Money) -> String {
    format!("Rs {}", m.to_lakh())
}

/// The statement for a terminal: lakh grouping, columns aligned.
pub fn table(s: &Statement, viewer: &Viewer) -> String {
    let mut o = String::new();
    let who = match viewer {
        Viewer::Public => "as the public sees it",
        Viewer::Holding(_) => "as a partner sees it",
    };
    o.push_str(&format!(
        "Public statement of {} {} — {} ({}, {}), {who}\n\n",
        s.scope, s.id, s.name, s.arrangement, s.currency
    ));
    let t = &s.totals;
    for (label, m) in [
        ("Estimate", t.estimate),
        ("Owed by the partners", t.owed),
        ("Pledged", t.pledged),
        ("Received", t.received),
        ("Spent", t.spent),
        ("Balance in hand", t.balance),
        ("Still owed", t.outstanding),
        ("Over-paid", t.overpaid),
    ] {
        o.push_str(&format!("  {label:<22}{:>18}\n", rs(m)));
    }
    o.push_str(&format!(
        "\n  {:<26}{:>16}{:>16}{:>18}{:>16}{:>16}\n",
        "partner", "owed", "pledged", "paid/released", "still owed", "over-paid"
    ));
    for r in &s.roles {
        o.push_str(&format!(
            "  {:<26}{:>16}{:>16}{:>18}{:>16}{:>16}\n",
            r.name,
            rs(r.owed),
            rs(r.pledged),
            rs(r.put_in),
            rs(r.outstanding),
            rs(r.overpaid)
        ));
    }
    if let Some(c) = &s.households {
        if s.household_list.is_empty() {
            o.push_str(&format!(
                "\n  Households: {} registered, {} paid in full, {} in part, {} nothing, {} over-paid (names are for partners only)\n",
                c.registered, c.paid_in_full, c.paid_part, c.paid_nothing, c.overpaid
            ));
        } else {
            o.push_str(&format!(
                "\n  {:<8}{:<28}{:>14}{:>14}{:>14}{:>14}\n",
                "house", "head", "due", "paid", "still owed", "over-paid"
            ));
            for h in &s.household_list {
                o.push_str(&format!(
                    "  {:<8}{:<28}{:>14}{:>14}{:>14}{:>14}\n",
                    h.house,
                    h.head.as_deref().unwrap_or(""),
                    rs(h.due),
                    rs(h.paid),
                    rs(h.outstanding),
                    rs(h.overpaid)
                ));
            }
        }
    }
    if !s.budget.is_empty() {
        o.push_str(&format!(
            "\n  {:<10}{:>16}{:>16}{:>16}{:>16}{:>16}{:>16}\n",
            "year", "allocated", "brought fwd", "available", "released", "unspent", "lapsed"
        ));
        for y in &s.budget {
            o.push_str(&format!(
                "  {:<10}{:>16}{:>16}{:>16}{:>16}{:>16}{:>16}\n",
                y.year.to_string(),
                rs(y.allocated),
                rs(y.carried_in),
                rs(y.available),
                rs(y.spent),
                rs(y.unspent),
                rs(y.lapsed)
            ));
        }
    }
    o.push_str(&format!(
        "\n  {:<12}{:<14}{:<26}{:<24}{:>16}  {}\n",
        "date", "receipt", "entry", "who", "amount", "for / paid to"
    ));
    for e in &s.entries {
        let what = match (&e.reverses, &e.reversed_by) {
            (Some(t), _) => format!("reversal of {t}"),
            (None, Some(_)) => format!("{} (reversed)", e.kind),
            _ => e.kind.clone(),
        };
        let who = match &e.household {
            Some(h) => format!("{} (house {h})", e.role),
            None => e.role.clone(),
        };
        let detail = [
            e.component.as_deref(),
            e.payee.as_deref(),
            e.purpose.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        o.push_str(&format!(
            "  {:<12}{:<14}{:<26}{:<24}{:>16}  {detail}\n",
            e.date,
            e.receipt.as_deref().unwrap_or("-"),
            what,
            who,
            rs(e.amount)
        ));
    }
    o
}
