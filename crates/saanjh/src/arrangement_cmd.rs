//! `saanjh arrangement check FILE`: validate an arrangement file and print
//! it back in plain words, or list every problem with its line and column.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use saanjh_core::arrangement::{Arrangement, explain};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate FILE; print its rules in plain words, or its errors with line and column.
    Check {
        file: PathBuf,
        /// Print the explanation as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { file, json } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match Arrangement::parse(&source) {
                Ok(arr) => {
                    for w in &arr.warnings {
                        eprintln!("{}:{w} (warning)", file.display());
                    }
                    let ex = explain(&arr);
                    if json {
                        println!("{}", serde_json::to_string_pretty(&ex)?);
                    } else {
                        print!("{}", ex.to_text());
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}:{e}", file.display());
                    }
                    eprintln!(
                        "{} error(s); the arrangement was not accepted",
                        errors.len()
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}
