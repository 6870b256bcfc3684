//! `saanjh arrangement check FILE`: validate an arrangement file and print
//! it back in plain words, or list every problem with its line and column.
//! Its labels files (names and explanations in other languages,
//! `labels/<id>.<lang>.toml` beside FILE, or given with `--labels`) are
//! checked against it too.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use saanjh_core::arrangement::labels::Labels;
use saanjh_core::arrangement::{Arrangement, explain};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate FILE; print its rules in plain words, or its errors with line and column.
    Check {
        file: PathBuf,
        /// Print the explanation as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// A labels file to check against FILE (repeatable); by default
        /// every `labels/<id>.*.toml` beside FILE.
        #[arg(long)]
        labels: Vec<PathBuf>,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { file, json, labels } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match Arrangement::parse(&source) {
                Ok(arr) => {
                    for w in &arr.warnings {
                        eprintln!("{}:{w} (warning)", file.display());
                    }
                    let labels = if labels.is_empty() {
                        labels_beside(&file, arr.id())
                    } else {
                        labels
                    };
                    let mut bad = 0;
                    for l in &labels {
                        let text = std::fs::read_to_string(l)
                            .with_context(|| format!("cannot read {}", l.display()))?;
                        match Labels::parse(&text, &arr) {
                            Ok((found, warnings)) => {
                                for w in &warnings {
                                    eprintln!("{}:{w} (warning)", l.display());
                                }
                                eprintln!(
                                    "{}: {} label(s) in `{}`",
                                    l.display(),
                                    found.text.len(),
                                    found.lang
                                );
                            }
                            Err(errors) => {
                                for e in &errors {
                                    eprintln!("{}:{e}", l.display());
                                }
                                bad += errors.len();
                            }
                        }
                    }
                    if bad > 0 {
                        eprintln!("{bad} error(s) in the labels; they were not accepted");
                        return Ok(ExitCode::from(2));
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

/// `labels/<id>.<lang>.toml` in FILE's directory.
fn labels_beside(file: &std::path::Path, id: &str) -> Vec<PathBuf> {
    let dir = file
        .parent()
        .unwrap_or_else(|| std::path::Path::new("."))
        .join("labels");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&format!("{id}.")) && n.ends_with(".toml"))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
