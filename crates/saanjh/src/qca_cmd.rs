//! `saanjh qca`: Qualitative Comparative Analysis on a CSV file.
//!
//! Reads the file, applies any calibrations, builds the truth table and
//! minimises it with `saanjh-qca`, then prints the result as a table, JSON or
//! CSV. Option names follow the reference (R QCA) so that researchers can
//! carry their habits over: `--incl-cut 0.8,0.75` is `incl.cut = c(.8, .75)`,
//! `--include ?` is `include = "?"`, and so on.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use saanjh_qca::minimize::{ModelFit, TermFit, parse_expectations};
use saanjh_qca::necessity::NecessityFit;
use saanjh_qca::{
    Calibration, Dataset, Minimization, MinimizeOptions, Out, QcaError, Setup, Solution,
    TruthTable, TruthTableOptions, calibrate, minimize, truth_table,
};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
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
    /// Outcome column; `~OUT` analyses the negated outcome, `OUT[v]` one value of a multi-value outcome.
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
    /// `inf.test`: `binom[,ALPHA]` codes rows by a one-sided binomial test against the
    /// inclusion cut-offs (crisp data; α defaults to 0.05).
    #[arg(long)]
    pub inf_test: Option<String>,
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
    /// `pi.cons`: use only prime implicants with sufficiency inclusion at least this.
    #[arg(long, default_value_t = 0.0)]
    pub pi_cons: f64,
    /// `sol.cons`: report only models with inclusion at least this.
    #[arg(long, default_value_t = 0.0)]
    pub sol_cons: f64,
    /// `sol.cov`: report only models with coverage at least this.
    #[arg(long, default_value_t = 0.0)]
    pub sol_cov: f64,
    /// Among equally small models, keep only those with the fewest literals (`literals`);
    /// by default every minimal model is reported, as the reference does.
    #[arg(long)]
    pub tie_break: Option<String>,
    /// Most models to report; more are reported as truncated, never silently dropped.
    #[arg(long, default_value_t = 1000)]
    pub max_models: usize,
    /// Calibrate a column: `NAME=e,c,i` (direct method, `i < e` for a decreasing set),
    /// `NAME=e1,c1,i1,i2,c2,e2` (bell or inverted bell), `NAME=crisp:t1[,t2…]`,
    /// `NAME=indirect:t1[,t2…]` or `NAME=tfr`. Repeatable.
    #[arg(long, allow_hyphen_values = true)]
    pub calibrate: Vec<String>,
    /// Exponent of the power curve below the crossover (with `--linear` or six thresholds).
    #[arg(long, default_value_t = 1.0)]
    pub below: f64,
    /// Exponent of the power curve above the crossover (with `--linear` or six thresholds).
    #[arg(long, default_value_t = 1.0)]
    pub above: f64,
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

fn parse_inf_test(s: &str) -> Result<f64, QcaError> {
    let mut parts = s.split(',').map(str::trim);
    if parts.next() != Some("binom") {
        return Err(QcaError::option(
            "--inf-test",
            format!("`{s}`: the only test is `binom[,alpha]`"),
        ));
    }
    match parts.next() {
        None => Ok(0.05),
        Some(a) => a
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| QcaError::option("--inf-test", format!("`{a}` is not a number"))),
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
    let bytes: Vec<u8> = if args.from_db {
        from_db(&args.file.to_string_lossy())?.into_bytes()
    } else if args.file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .context("reading standard input")?;
        b
    } else {
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?
    };
    let mut data =
        Dataset::from_csv_bytes(&bytes).with_context(|| format!("in {}", args.file.display()))?;
    drop(bytes);

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
        let cal = if args.below != 1.0 || args.above != 1.0 {
            cal.with_exponents(args.below, args.above, &option)?
        } else {
            cal
        };
        let col = data.column(name.trim())?;
        let calibrated = cal.apply(col, &option)?;
        *data.column_mut(name.trim())? = calibrated;
    }

    let out_name = saanjh_qca::sets::split_level(
        args.outcome.trim().trim_start_matches('~').trim(),
        "--outcome",
    )?
    .0
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
    let setup = Setup::from_dataset(data, &args.outcome, &conditions)?;

    if args.necessity {
        if !(0.0..=1.0).contains(&args.necessity_incl) || !(0.0..=1.0).contains(&args.necessity_cov)
        {
            return Err(QcaError::option(
                "--necessity-incl/--necessity-cov",
                "cut-offs must lie in [0, 1]",
            )
            .into());
        }
        let each = saanjh_qca::necessity::conditions(&setup);
        let passing = saanjh_qca::necessity::super_subset(
            &setup,
            args.necessity_size.max(1),
            args.necessity_incl,
            args.necessity_cov,
        );
        print_necessity(&setup, &each, &passing, &args, args.format)?;
        return Ok(ExitCode::SUCCESS);
    }

    let (ic1, ic0) = parse_cuts(&args.incl_cut)?;
    let tto = TruthTableOptions {
        incl_cut1: ic1,
        incl_cut0: ic0,
        n_cut: args.n_cut,
        pri_cut: args.pri_cut,
        exclude: parse_rows(&args.exclude)?,
        inf_test: args.inf_test.as_deref().map(parse_inf_test).transpose()?,
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
        pi_cons: args.pi_cons,
        sol_cons: args.sol_cons,
        sol_cov: args.sol_cov,
        tie_break_literals: match args.tie_break.as_deref().map(str::trim) {
            None => false,
            Some("literals") => true,
            Some(other) => {
                return Err(QcaError::option(
                    "--tie-break",
                    format!("`{other}`: the only tie-break is `literals`"),
                )
                .into());
            }
        },
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
    // Straight to a buffered standard output: a large answer (every case
    // named under its row and its terms) is never held twice in memory.
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match args.format {
        Format::Json => {
            let mut ser = serde_json::Serializer::with_formatter(&mut w, Pretty::default());
            json_answer(&setup, &tt, &m).serialize(&mut ser)?;
            w.write_all(b"\n")?;
        }
        Format::Table => w.write_all(to_table(&setup, &tt, &m).as_bytes())?,
        Format::Csv => to_csv(&mut w, &m)?,
    }
    w.flush()?;
    // The process ends here: freeing 100,000 case names one by one would
    // only delay the exit, the operating system reclaims the memory at once.
    std::mem::forget((setup, tt, m));
    Ok(ExitCode::SUCCESS)
}

fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

/// Indented JSON in which arrays of plain values (case names, row
/// numbers, a model's terms) stay on one line: objects and arrays of
/// objects are laid out as serde_json's pretty printer does, but a list of
/// 50,000 case names is one line instead of 50,000.
#[derive(Default)]
struct Pretty {
    indent: usize,
    /// For each open array: None until its first element shows whether it
    /// holds plain values (Some(true), one line) or containers.
    arrays: Vec<Option<bool>>,
    /// For each open object: whether it has a member yet.
    objects: Vec<bool>,
    /// An array element is about to be written (Some(first?)).
    pending: Option<bool>,
}

impl Pretty {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Writes what goes before an array element, now that its kind is known.
    fn element<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        container: bool,
    ) -> std::io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        let inline = match self.arrays.last_mut() {
            Some(mode) => *mode.get_or_insert(!container),
            None => false,
        };
        if !first {
            w.write_all(b",")?;
        }
        if inline {
            if !first {
                w.write_all(b" ")?;
            }
            Ok(())
        } else {
            self.newline(w)
        }
    }
}

macro_rules! plain_values {
    ($($name:ident: $t:ty),*) => {$(
        fn $name<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: $t) -> std::io::Result<()> {
            self.element(w, false)?;
            serde_json::ser::CompactFormatter.$name(w, v)
        }
    )*};
}

impl serde_json::ser::Formatter for Pretty {
    plain_values!(write_bool: bool, write_i8: i8, write_i16: i16, write_i32: i32, write_i64: i64,
        write_i128: i128, write_u8: u8, write_u16: u16, write_u32: u32, write_u64: u64,
        write_u128: u128, write_f32: f32, write_f64: f64, write_number_str: &str);

    fn write_null<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, false)?;
        w.write_all(b"null")
    }

    fn begin_string<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, false)?;
        w.write_all(b"\"")
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, true)?;
        self.arrays.push(None);
        self.indent += 1;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        if let Some(Some(false)) = self.arrays.pop() {
            self.newline(w)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        _w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.pending = Some(first);
        Ok(())
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.element(w, true)?;
        self.objects.push(false);
        self.indent += 1;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        if self.objects.pop() == Some(true) {
            self.newline(w)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if let Some(has) = self.objects.last_mut() {
            *has = true;
        }
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        Ok(())
    }
}

/// The JSON answer, serialised from borrowed data (no intermediate tree).
#[derive(Serialize)]
struct JsonAnswer<'a> {
    outcome: &'a str,
    conditions: Vec<&'a str>,
    warnings: &'a [String],
    truth_table: TtJson<'a>,
    solution_type: &'a str,
    solutions: Vec<Vec<&'a str>>,
    essential: &'a [String],
    models: &'a [ModelFit],
    terms: &'a [TermFit],
    truncated: bool,
    exact: bool,
    conservative: &'a Option<Solution>,
    parsimonious: &'a Option<Solution>,
    intermediate: &'a Option<Solution>,
}

fn json_answer<'a>(setup: &'a Setup, tt: &'a TruthTable, m: &'a Minimization) -> JsonAnswer<'a> {
    let main = m.main();
    JsonAnswer {
        outcome: &setup.outcome_name,
        conditions: setup.conditions.iter().map(|c| c.name.as_str()).collect(),
        warnings: &tt.warnings,
        truth_table: TtJson { setup, tt },
        solution_type: main.kind,
        solutions: main
            .models
            .iter()
            .map(|md| md.terms.iter().map(|t| t.expression.as_str()).collect())
            .collect(),
        essential: &main.essential,
        models: &main.models,
        terms: &main.terms,
        truncated: main.truncated,
        exact: main.exact,
        conservative: &m.conservative,
        parsimonious: &m.parsimonious,
        intermediate: &m.intermediate,
    }
}

struct TtJson<'a> {
    setup: &'a Setup,
    tt: &'a TruthTable,
}

impl Serialize for TtJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.tt.rows.len()))?;
        for r in &self.tt.rows {
            seq.serialize_element(&RowJson {
                row: r.number,
                configuration: Configuration {
                    setup: self.setup,
                    values: self.tt.values(self.setup, r),
                },
                out: r.out.symbol(),
                n: r.n,
                incl: r.incl.is_finite().then_some(r.incl),
                pri: r.pri.is_finite().then_some(r.pri),
                cases: CaseNames {
                    names: &self.setup.case_names,
                    idx: &r.cases,
                },
                note: r.note.as_deref(),
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct RowJson<'a> {
    row: u64,
    configuration: Configuration<'a>,
    #[serde(rename = "OUT")]
    out: &'a str,
    n: usize,
    incl: Option<f64>,
    #[serde(rename = "PRI")]
    pri: Option<f64>,
    cases: CaseNames<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

struct Configuration<'a> {
    setup: &'a Setup,
    values: Vec<u8>,
}

impl Serialize for Configuration<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for (c, v) in self.setup.conditions.iter().zip(&self.values) {
            map.serialize_entry(&c.name, v)?;
        }
        map.end()
    }
}

/// Case names by index, written without copying them.
struct CaseNames<'a> {
    names: &'a [String],
    idx: &'a [usize],
}

impl Serialize for CaseNames<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.idx.iter().map(|&i| self.names[i].as_str()))
    }
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

fn to_csv(out: &mut impl std::io::Write, m: &Minimization) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
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
    w.flush()?;
    Ok(())
}

fn print_necessity(
    setup: &Setup,
    each: &[NecessityFit],
    passing: &[NecessityFit],
    args: &Args,
    format: Format,
) -> Result<()> {
    let row = |n: &NecessityFit| json!({"expression": n.expression, "incl": num(n.incl), "RoN": num(n.ron), "cov": num(n.cov)});
    match format {
        Format::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "outcome": setup.outcome_name,
                    "necessity": each.iter().map(row).collect::<Vec<_>>(),
                    "super_subset": {
                        "incl_cut": args.necessity_incl,
                        "cov_cut": args.necessity_cov,
                        "expressions": passing.iter().map(row).collect::<Vec<_>>(),
                    },
                }))?
            );
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(["expression", "inclN", "RoN", "covN", "necessary"])?;
            for (n, flag) in each
                .iter()
                .map(|n| (n, passing.iter().any(|p| p.expression == n.expression)))
                .chain(
                    passing
                        .iter()
                        .filter(|p| p.expression.contains(['*', '+']))
                        .map(|p| (p, true)),
                )
            {
                w.write_record([
                    n.expression.clone(),
                    n.incl.to_string(),
                    n.ron.to_string(),
                    n.cov.to_string(),
                    flag.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let width = each
                .iter()
                .chain(passing)
                .map(|n| n.expression.len())
                .max()
                .unwrap_or(4);
            let line = |n: &NecessityFit| {
                println!(
                    "  {:<width$}  {:>6}  {:>6}  {:>6}",
                    n.expression,
                    f3(n.incl),
                    f3(n.ron),
                    f3(n.cov)
                );
            };
            println!("Necessity for {}:\n", setup.outcome_name);
            println!(
                "  {:<width$}  {:>6}  {:>6}  {:>6}",
                "", "inclN", "RoN", "covN"
            );
            each.iter().for_each(line);
            println!(
                "\nNecessary expressions (inclN >= {}, covN >= {}; conjunctions, then disjunctions of up to {} literals):\n",
                args.necessity_incl,
                args.necessity_cov,
                args.necessity_size.max(1)
            );
            if passing.is_empty() {
                println!("  none");
            }
            passing.iter().for_each(line);
        }
    }
    Ok(())
}
