//! Checks Add1 with skipping against Add1 rerun at every raise on one `.pb` file, and times
//! both: `cargo run --release -p saanjh-pb --example add1_check -- FILE.pb [STEP] [cost|approval] [jump-only]`.

use std::time::Instant;

use saanjh_pb::{Completion, CountOptions, Money, Rule, Utility, count, parse};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: add1_check FILE.pb [STEP] [cost|approval]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(path).expect("readable file");
    let inst = parse(&text).expect("valid .pb");
    let step = args
        .get(2)
        .and_then(|s| Money::parse(s))
        .unwrap_or(Money::units(1));
    let utility = match args.get(3).map(String::as_str) {
        Some("approval") => Utility::Approval,
        _ => Utility::Cost,
    };
    let mut res = Vec::new();
    let modes: &[bool] = if args.get(4).map(String::as_str) == Some("jump-only") {
        &[true]
    } else {
        &[true, false]
    };
    for &jump in modes {
        let o = CountOptions {
            rule: Rule::Mes,
            utility,
            completion: Completion::Add1,
            step,
            add1_jump: jump,
            // A check must not stop at a cap: rerun as often as the raises need.
            max_runs: u64::MAX,
            ..CountOptions::default()
        };
        let t = Instant::now();
        let out = count(&inst, &o).expect("count");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let c = out.completion.clone().expect("completion record");
        println!(
            "jump={jump}: {ms:.1} ms, {} runs, {} raises, final per voter {:.4}, {} winners, spent {}",
            c.runs,
            c.iterations,
            c.final_per_voter.approx(),
            out.winners.len(),
            out.spent
        );
        res.push((out.winners, c.iterations));
    }
    if res.len() == 2 && res[0] != res[1] {
        println!("MISMATCH");
        std::process::exit(1);
    }
}
