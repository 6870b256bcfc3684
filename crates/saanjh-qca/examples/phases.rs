//! Times each phase of an analysis on a CSV file, for profiling the engine
//! without the command-line binary.
//!
//! usage: cargo run --release -p saanjh-qca --example phases -- FILE OUTCOME INCL PRI [cons|pars]

use std::time::Instant;

use saanjh_qca::*;

fn main() -> Result<()> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 5 {
        eprintln!("usage: phases FILE OUTCOME INCL PRI [cons|pars]");
        std::process::exit(2);
    }
    let t0 = Instant::now();
    let text = std::fs::read_to_string(&a[1]).map_err(|e| QcaError::Csv(e.to_string()))?;
    let data = Dataset::from_csv_str(&text)?;
    let conds: Vec<String> = data
        .column_names
        .iter()
        .filter(|c| **c != a[2])
        .cloned()
        .collect();
    let setup = Setup::new(&data, &a[2], &conds)?;
    eprintln!("read+parse   {:>8.3} s", t0.elapsed().as_secs_f64());
    let t = Instant::now();
    let tto = TruthTableOptions {
        incl_cut1: a[3].parse().unwrap_or(0.8),
        pri_cut: a[4].parse().unwrap_or(0.0),
        ..Default::default()
    };
    let tt = truth_table(&setup, &tto)?;
    let pos = tt.rows.iter().filter(|r| r.out == Out::One).count();
    eprintln!(
        "truth table  {:>8.3} s  ({} rows observed, {} positive)",
        t.elapsed().as_secs_f64(),
        tt.rows.len(),
        pos
    );
    let t = Instant::now();
    let mo = MinimizeOptions {
        include_remainders: a.get(5).map(String::as_str) != Some("cons"),
        ..Default::default()
    };
    let m = minimize(&setup, &tt, &mo)?;
    let s = m.main();
    eprintln!(
        "minimise     {:>8.3} s  ({} {} PIs, {} models)",
        t.elapsed().as_secs_f64(),
        s.prime_implicants,
        s.kind,
        s.models.len()
    );
    for md in s.models.iter().take(5) {
        println!("{}: {}", md.name, md.expression);
    }
    eprintln!("total        {:>8.3} s", t0.elapsed().as_secs_f64());
    Ok(())
}
