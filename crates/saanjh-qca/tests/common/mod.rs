#![allow(dead_code)]
use saanjh_qca::*;

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/qca");

/// The shared data sets, or None (with a message) in a clone without them.
pub fn load(name: &str) -> Option<Dataset> {
    let path = format!("{DATA}/{name}.csv");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(Dataset::from_csv_str(&text).expect("reference data parses")),
        Err(_) => {
            eprintln!("SKIPPED: {path} not found (shared/ data absent)");
            None
        }
    }
}

pub fn conds(names: &str) -> Vec<String> {
    names.split(',').map(|s| s.trim().to_string()).collect()
}

pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn assert3(got: f64, want: f64, what: &str) {
    assert!(
        (r3(got) - want).abs() < 1e-9,
        "{what}: got {got} ({:.3}), want {want}",
        got
    );
}

/// Models as sets of term strings, for order-free comparison.
pub fn model_sets(s: &Solution) -> Vec<std::collections::BTreeSet<String>> {
    let mut v: Vec<_> = s
        .models
        .iter()
        .map(|m| m.terms.iter().map(|t| t.expression.clone()).collect())
        .collect();
    v.sort();
    v
}

pub fn set_of(models: &[&str]) -> Vec<std::collections::BTreeSet<String>> {
    let mut v: Vec<std::collections::BTreeSet<String>> = models
        .iter()
        .map(|m| m.split('+').map(|t| t.trim().to_string()).collect())
        .collect();
    v.sort();
    v
}

pub fn run(
    data: &Dataset,
    outcome: &str,
    conditions: &str,
    tto: TruthTableOptions,
    mo: MinimizeOptions,
) -> (Setup, TruthTable, Minimization) {
    let setup = Setup::new(data, outcome, &conds(conditions)).expect("setup");
    let tt = truth_table(&setup, &tto).expect("truth table");
    let m = minimize(&setup, &tt, &mo).expect("minimize");
    (setup, tt, m)
}

pub fn incl(c1: f64) -> TruthTableOptions {
    TruthTableOptions {
        incl_cut1: c1,
        ..Default::default()
    }
}

pub fn pars() -> MinimizeOptions {
    MinimizeOptions {
        include_remainders: true,
        ..Default::default()
    }
}
