//! `saanjh qca`: Qualitative Comparative Analysis on a CSV file.
//!
//! Reads the file, applies any calibrations, builds the truth table and
//! minimises it with `saanjh-qca`, then prints the result as a table, JSON or
//! CSV. Option names follow the reference (R QCA) so that researchers can
//! carry their habits over: `--incl-cut 0.8,0.75` is `incl.cut = c(.8, .75)`,
//! `--include ?` is `include = "?"`, and so on.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use saanjh_qca::minimize::{ModelFit, TermFit, parse_expectations};
use saanjh_qca::necessity::NecessityFit;
use saanjh_qca::{
    Calibration, Dataset, Minimization, MinimizeOptions, Out, QcaError, Setup, Solution,
    TruthTable, TruthTableOptions, calibrate, minimize, necessity, truth_table,
};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  saanjh qca LF.csv --outcome SURV --conditions DEV,URB,LIT,IND,STB --incl-cut 0.8 --include ?
  saanjh qca LF.csv --outcome SURV --incl-cut 0.8 --include ? --dir-exp DEV,URB,LIT,IND,STB
  saanjh qca LR.csv --outcome SURV --calibrate 'DEV=400,550,900' --calibrate 'SURV=-9,0,10' --idm ragin ...
  saanjh qca LF.csv --outcome SURV --necessity --necessity-size 3")]
pub struct Args {
    /// CSV file (`-` for standard input). A first column with an empty header holds case names.
    /// With `--from-db`, the database URL instead.
    pub file: PathBuf,
    /// Read the cases from a Saanjh database (FILE is its URL): the calibrated
    /// conditions and outcome of every initiative whose conditions are all
    /// measured (issue 8's diagnosis), instead of a CSV file.
    #[arg(long)]
    pub from_db: bool,
    /// Outcome column; `~OUT` analyses the negated outcome.
    #[arg(long, allow_hyphen_values = true)]
    pub outcome: String,
    /// Condition columns, comma-separated (default: every column but the outcome).
    #[arg(long, value_delimiter = ',')]
    pub conditions: Option<Vec<String>>,
    /// Inclusion cut-off for OUT = 1, and optionally a lower one for contradictions (C).
    #[arg(long, default_value = "1")]
    pub incl_cut: String,
    /// Frequency cut-off: rows with fewer cases are remainders.
    #[arg(long, default_value_t = 1)]
    pub n_cut: usize,
    /// PRI cut-off: rows passing inclusion but below this are coded 0.
    #[arg(long, default_value_t = 0.0)]
    pub pri_cut: f64,
    /// Don't-cares for minimisation: `?` (remainders, parsimonious solution) and/or `C`.
    #[arg(long, default_value = "")]
    pub include: String,
    /// Rows to explain: `1` or `1,C`.
    #[arg(long, default_value = "1")]
    pub explain: String,
    /// Truth-table rows (numbers) forced to OUT = 0, e.g. untenable remainders.
    #[arg(long, default_value = "")]
    pub exclude: String,
    /// Directional expectations for the intermediate solution: `A,B,~C`, `~B*C`, `X[1]`, or `1,1,0,-,1`.
    #[arg(long, allow_hyphen_values = true)]
    pub dir_exp: Option<String>,
    /// Drop prime implicants dominated by others before solving the chart.
    #[arg(long)]
    pub row_dom: bool,
    /// Every irredundant model, not only those with the fewest prime implicants.
    #[arg(long)]
    pub all_solutions: bool,
    /// Most models to report; more are reported as truncated, never silently dropped.
    #[arg(long, default_value_t = 1000)]
    pub max_models: usize,
    /// Calibrate a column: `NAME=e,c,i` (direct method, `i < e` for a decreasing set)
    /// or `NAME=crisp:t1[,t2…]`. Repeatable.
    #[arg(long, allow_hyphen_values = true)]
    pub calibrate: Vec<String>,
    /// Inclusion degree at the outer anchors: a number in (0.5, 1), or `ragin` (log-odds ±3).
    #[arg(long, default_value = "0.95")]
    pub idm: String,
    /// Use the linear direct method instead of the logistic curve.
    #[arg(long)]
    pub linear: bool,
    /// Analysis of necessary conditions instead of sufficiency.
    #[arg(long)]
    pub necessity: bool,
    /// Largest disjunction of literals tested for necessity.
    #[arg(long, default_value_t = 1)]
    pub necessity_size: usize,
    /// Inclusion cut-off for necessary disjunctions.
    #[arg(long, default_value_t = 0.9)]
    pub necessity_incl: f64,
    /// Coverage cut-off for necessary disjunctions.
    #[arg(long, default_value_t = 0.0)]
    pub necessity_cov: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn parse_cuts(s: &str) -> Result<(f64, Option<f64>), QcaError> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let num = |p: &str| {
        p.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| QcaError::option("--incl-cut", format!("`{p}` is not a number")))
    };
    match parts.as_slice() {
        [a] => Ok((num(a)?, None)),
        [a, b] => Ok((num(a)?, Some(num(b)?))),
        _ => Err(QcaError::option(
            "--incl-cut",
            "give one or two cut-offs, e.g. 0.8 or 0.8,0.75",
        )),
    }
}

fn parse_set(s: &str, option: &str, allowed: &[&str]) -> Result<Vec<String>, QcaError> {
    let mut out = Vec::new();
    for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !allowed.contains(&p) {
            return Err(QcaError::option(
                option,
                format!("`{p}` is not one of {}", allowed.join(", ")),
            ));
        }
        out.push(p.to_string());
    }
    Ok(out)
}

fn parse_rows(s: &str) -> Result<Vec<u64>, QcaError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<u64>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| QcaError::option("--exclude", format!("`{p}` is not a row number")))
        })
        .collect()
}

fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// `--from-db`: the initiatives' calibrated conditions as a CSV data set.
fn from_db(url: &str) -> Result<String> {
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async {
        let store = saanjh_store::Store::connect(url)
            .await
            .with_context(|| format!("opening {url}"))?;
        let state = saanjh_web::AppState::new(store, std::sync::Arc::new(saanjh_web::SystemClock));
        let (csv, left_out) =
            saanjh_web::diagnosis_api::conditions_csv(&state, &Default::default())
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.problem.detail))?;
        if !left_out.is_empty() {
            eprintln!(
                "left out (a condition not measured): {}",
                left_out.join(", ")
            );
        }
        Ok(csv)
    })
}

pub fn run(args: Args) -> Result<ExitCode> {
    let text = if args.from_db {
        from_db(&args.file.to_string_lossy())?
    } else if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?
    };
    let mut data =
        Dataset::from_csv_str(&text).with_context(|| format!("in {}", args.file.display()))?;

    let idm = match args.idm.trim() {
        "ragin" => calibrate::idm_ragin(),
        s => s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                QcaError::option("--idm", format!("`{s}` is neither a number nor `ragin`"))
            })?,
    };
    for spec in &args.calibrate {
        let (name, rule) = spec.split_once('=').ok_or_else(|| {
            QcaError::option("--calibrate", format!("`{spec}`: write NAME=e,c,i"))
        })?;
        let option = format!("--calibrate {}", name.trim());
        let cal = Calibration::parse(rule, idm, !args.linear, &option)?;
        let col = data.column(name.trim())?;
        let calibrated = cal.apply(col, &option)?;
        *data.column_mut(name.trim())? = calibrated;
    }

    let out_name = args
        .outcome
        .trim()
        .trim_start_matches('~')
        .trim()
        .to_string();
    let conditions: Vec<String> = match &args.conditions {
        Some(c) => c
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None => data
            .column_names
            .iter()
            .filter(|c| **c != out_name)
            .cloned()
            .collect(),
    };
    let setup = Setup::new(&data, &args.outcome, &conditions)?;

    if args.necessity {
        if !(0.0..=1.0).contains(&args.necessity_incl) || !(0.0..=1.0).contains(&args.necessity_cov)
        {
            return Err(QcaError::option(
                "--necessity-incl/--necessity-cov",
                "cut-offs must lie in [0, 1]",
            )
            .into());
        }
        let nec = necessity(
            &setup,
            args.necessity_size.max(1),
            args.necessity_incl,
            args.necessity_cov,
        );
        print_necessity(&setup, &nec, args.format)?;
        return Ok(ExitCode::SUCCESS);
    }

    let (ic1, ic0) = parse_cuts(&args.incl_cut)?;
    let tto = TruthTableOptions {
        incl_cut1: ic1,
        incl_cut0: ic0,
        n_cut: args.n_cut,
        pri_cut: args.pri_cut,
        exclude: parse_rows(&args.exclude)?,
    };
    let include = parse_set(&args.include, "--include", &["?", "C"])?;
    let explain = parse_set(&args.explain, "--explain", &["1", "C"])?;
    if !explain.iter().any(|e| e == "1") {
        return Err(QcaError::option("--explain", "must contain 1").into());
    }
    let dir_exp = match &args.dir_exp {
        Some(s) => Some(parse_expectations(&setup, s)?),
        None => None,
    };
    if args.max_models == 0 {
        return Err(QcaError::option("--max-models", "must be at least 1").into());
    }
    let mo = MinimizeOptions {
        explain_contradictions: explain.iter().any(|e| e == "C"),
        include_remainders: include.iter().any(|e| e == "?"),
        include_contradictions: include.iter().any(|e| e == "C"),
        dir_exp,
        row_dom: args.row_dom,
        all_solutions: args.all_solutions,
        max_models: args.max_models,
    };

    let pb = spinner("building the truth table");
    let tt = truth_table(&setup, &tto);
    pb.set_message("minimising");
    let result = tt.and_then(|tt| minimize(&setup, &tt, &mo).map(|m| (tt, m)));
    pb.finish_and_clear();
    let (tt, m) = result?;
    for w in &tt.warnings {
        eprintln!("warning: {w}");
    }
    if !m.main().exact {
        eprintln!(
            "warning: the prime-implicant chart was too large to solve exactly within the search budget; \
             the models shown are the smallest found, not proven minimal"
        );
    }
    if m.main().truncated {
        eprintln!(
            "warning: more models exist than --max-models {}; only the first {} are reported",
            args.max_models,
            m.main().models.len()
        );
    }
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&to_json(&setup, &tt, &m))? + "\n",
        Format::Table => to_table(&setup, &tt, &m),
        Format::Csv => to_csv(&m)?,
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn tt_json(setup: &Setup, tt: &TruthTable) -> Value {
    Value::Array(
        tt.rows
            .iter()
            .map(|r| {
                let cfg: serde_json::Map<String, Value> = setup
                    .conditions
                    .iter()
                    .zip(tt.values(setup, r))
                    .map(|(c, v)| (c.name.clone(), json!(v)))
                    .collect();
                let mut o = json!({
                    "row": r.number,
                    "configuration": cfg,
                    "OUT": r.out.symbol(),
                    "n": r.n,
                    "incl": num(r.incl),
                    "PRI": num(r.pri),
                    "cases": r.cases.iter().map(|&i| setup.case_names[i].clone()).collect::<Vec<_>>(),
                });
                if let Some(note) = &r.note {
                    o["note"] = json!(note);
                }
                o
            })
            .collect(),
    )
}

fn to_json(setup: &Setup, tt: &TruthTable, m: &Minimization) -> Value {
    let main = m.main();
    json!({
        "outcome": setup.outcome_name,
        "conditions": setup.conditions.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "warnings": tt.warnings,
        "truth_table": tt_json(setup, tt),
        "solution_type": main.kind,
        "solutions": main.models.iter().map(|md| md.terms.iter().map(|t| t.expression.clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "essential": main.essential,
        "models": main.models,
        "terms": main.terms,
        "truncated": main.truncated,
        "exact": main.exact,
        "conservative": m.conservative,
        "parsimonious": m.parsimonious,
        "intermediate": m.intermediate,
    })
}

fn f3(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "  -  ".to_string()
    }
}

/// `URB + (DEV*~IND)`: terms outside parentheses are in every model.
fn model_line(md: &ModelFit, essential: &[String], several: bool) -> String {
    // As the reference prints: the terms in every model first, then the
    // model's own terms in parentheses.
    let (common, own): (Vec<&TermFit>, Vec<&TermFit>) = md
        .terms
        .iter()
        .partition(|t| !several || essential.contains(&t.expression));
    let mut parts: Vec<String> = common.iter().map(|t| t.expression.clone()).collect();
    parts.extend(own.iter().map(|t| format!("({})", t.expression)));
    parts.join(" + ")
}

fn fit_rows(out: &mut String, terms: &[TermFit], width: usize) {
    for t in terms {
        let _ = writeln!(
            out,
            "  {:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  {}",
            t.expression,
            f3(t.incl),
            f3(t.pri),
            f3(t.cov),
            f3(t.cov_unique),
            short_cases(&t.cases)
        );
    }
}

fn solution_table(out: &mut String, setup: &Setup, s: &Solution) {
    let several = s.models.len() > 1;
    let _ = writeln!(
        out,
        "\n{} solution ({} prime implicant{}):",
        capitalise(s.kind),
        s.prime_implicants,
        if s.prime_implicants == 1 { "" } else { "s" }
    );
    for md in &s.models {
        let mut line = format!(
            "{}: {} -> {}",
            md.name,
            model_line(md, &s.essential, several),
            setup.outcome_name
        );
        if !md.from.is_empty() {
            let _ = write!(line, "   [from {}]", md.from.join(", "));
        }
        let _ = writeln!(out, "{line}");
    }
    let width = s
        .terms
        .iter()
        .map(|t| t.expression.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let _ = writeln!(
        out,
        "\n  {:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  cases",
        "", "inclS", "PRI", "covS", "covU"
    );
    fit_rows(out, &s.terms, width);
    for md in &s.models {
        let _ = writeln!(
            out,
            "  {:<width$}  {:>6}  {:>6}  {:>6}",
            md.name,
            f3(md.incl),
            f3(md.pri),
            f3(md.cov)
        );
    }
    if several {
        let _ = writeln!(
            out,
            "  (covU above is against all terms of all models; per model:)"
        );
        for md in &s.models {
            let _ = writeln!(out, "  {}:", md.name);
            fit_rows(out, &md.terms, width);
        }
    }
    for md in &s.models {
        if let Some(sa) = &md.simplifying_assumptions {
            let _ = writeln!(
                out,
                "  {} simplifying assumptions ({}): {}",
                md.name,
                sa.len(),
                list(sa)
            );
        }
        if let Some(ec) = &md.easy_counterfactuals {
            let _ = writeln!(
                out,
                "  {} easy counterfactuals ({}): {}",
                md.name,
                ec.len(),
                list(ec)
            );
        }
    }
    if s.truncated {
        let _ = writeln!(
            out,
            "  more models exist than were asked for (--max-models)"
        );
    }
}

/// Long case lists are cut in the table view; JSON and CSV carry them all.
fn short_cases(cases: &[String]) -> String {
    const SHOW: usize = 12;
    let mut s = cases
        .iter()
        .take(SHOW)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if cases.len() > SHOW {
        let _ = write!(s, ",… ({} more)", cases.len() - SHOW);
    }
    s
}

fn list(rows: &[u64]) -> String {
    const SHOW: usize = 40;
    let mut s = rows
        .iter()
        .take(SHOW)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if rows.len() > SHOW {
        let _ = write!(s, ", … ({} more)", rows.len() - SHOW);
    }
    s
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn to_table(setup: &Setup, tt: &TruthTable, m: &Minimization) -> String {
    let mut out = String::new();
    let o = &tt.options;
    let _ = writeln!(
        out,
        "Truth table, outcome {} (incl.cut {}{}, n.cut {}, pri.cut {}); {} observed row(s), remainders not shown:\n",
        setup.outcome_name,
        o.incl_cut1,
        o.incl_cut0.map(|c| format!(",{c}")).unwrap_or_default(),
        o.n_cut,
        o.pri_cut,
        tt.rows.iter().filter(|r| r.n > 0).count()
    );
    let names: Vec<&str> = setup.conditions.iter().map(|c| c.name.as_str()).collect();
    let _ = writeln!(
        out,
        "  {:>5}  {}  OUT  {:>5}  {:>6}  {:>6}  cases",
        "row",
        names.join(" "),
        "n",
        "incl",
        "PRI"
    );
    for r in &tt.rows {
        let vals: Vec<String> = tt
            .values(setup, r)
            .iter()
            .zip(&names)
            .map(|(v, n)| format!("{v:>w$}", w = n.len()))
            .collect();
        let cases: Vec<String> = r
            .cases
            .iter()
            .map(|&i| setup.case_names[i].clone())
            .collect();
        let cases_s = short_cases(&cases);
        let _ = writeln!(
            out,
            "  {:>5}  {}  {:>3}  {:>5}  {:>6}  {:>6}  {}{}",
            r.number,
            vals.join(" "),
            r.out.symbol(),
            r.n,
            f3(r.incl),
            f3(r.pri),
            cases_s,
            r.note
                .as_ref()
                .map(|n| format!("  [{n}]"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "\n  rows coded 1: {}, C: {}",
        tt.rows.iter().filter(|r| r.out == Out::One).count(),
        tt.rows
            .iter()
            .filter(|r| r.out == Out::Contradiction)
            .count()
    );
    if let Some(c) = &m.conservative {
        solution_table(&mut out, setup, c);
    }
    if let Some(p) = &m.parsimonious {
        solution_table(&mut out, setup, p);
    }
    if let Some(i) = &m.intermediate {
        solution_table(&mut out, setup, i);
    }
    out
}

fn to_csv(m: &Minimization) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "solution", "model", "term", "inclS", "PRI", "covS", "covU", "cases",
    ])?;
    let mut sols: Vec<&Solution> = m.conservative.iter().collect();
    sols.extend(m.parsimonious.as_ref());
    sols.extend(m.intermediate.as_ref());
    let g = |v: f64| {
        if v.is_finite() {
            format!("{v}")
        } else {
            String::new()
        }
    };
    for s in sols {
        for md in &s.models {
            for t in &md.terms {
                // Case lists are kept once per solution, not per model.
                let cases = s
                    .terms
                    .iter()
                    .find(|x| x.expression == t.expression)
                    .map(|x| x.cases.join(";"))
                    .unwrap_or_default();
                w.write_record([
                    s.kind,
                    &md.name,
                    &t.expression,
                    &g(t.incl),
                    &g(t.pri),
                    &g(t.cov),
                    &g(t.cov_unique),
                    &cases,
                ])?;
            }
            w.write_record([
                s.kind,
                &md.name,
                &md.expression,
                &g(md.incl),
                &g(md.pri),
                &g(md.cov),
                "",
                "",
            ])?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    Ok(String::from_utf8(bytes)?)
}

fn print_necessity(setup: &Setup, nec: &[NecessityFit], format: Format) -> Result<()> {
    match format {
        Format::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "outcome": setup.outcome_name,
                    "necessity": nec.iter().map(|n| json!({
                        "expression": n.expression, "incl": num(n.incl), "RoN": num(n.ron), "cov": num(n.cov)
                    })).collect::<Vec<_>>(),
                }))?
            );
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(["expression", "inclN", "RoN", "covN"])?;
            for n in nec {
                w.write_record([
                    n.expression.clone(),
                    n.incl.to_string(),
                    n.ron.to_string(),
                    n.cov.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let width = nec.iter().map(|n| n.expression.len()).max().unwrap_or(4);
            println!("Necessity for {}:\n", setup.outcome_name);
            println!(
                "  {:<width$}  {:>6}  {:>6}  {:>6}",
                "", "inclN", "RoN", "covN"
            );
            for n in nec {
                println!(
                    "  {:<width$}  {:>6}  {:>6}  {:>6}",
                    n.expression,
                    f3(n.incl),
                    f3(n.ron),
                    f3(n.cov)
                );
            }
        }
    }
    Ok(())
}
