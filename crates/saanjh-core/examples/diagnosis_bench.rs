//! Time to compute every indicator for many initiatives from their events,
//! in memory (the pure fold, no database), and to update one initiative
//! after one more event. Run by `bench/diagnosis/run.sh`; never a test.
//!
//!     cargo run --release -p saanjh-core --example diagnosis_bench -- 10000 500

use std::collections::BTreeMap;
use std::time::Instant;

use saanjh_core::arrangement::Arrangement;
use saanjh_core::diagnosis::{Context, DiagEvent, Tracker};
use saanjh_core::event::EventBody;
use serde_json::json;
use time::macros::datetime;

type Raw = (String, String, serde_json::Value);

fn day(month: u32, d: u32) -> String {
    let m = month + d / 28;
    format!(
        "{}-{:02}-{:02}T09:00:00Z",
        2025 + m / 12,
        1 + m % 12,
        1 + d % 28
    )
}

/// One lane scheme's events (about 33), ids prefixed so that every
/// initiative's are distinct; `healthy` decides the story.
pub fn scheme(out: &mut Vec<Raw>, p: &str, month: u32, healthy: bool) {
    let d = |x: u32| day(month, x);
    let s = format!("{p}s");
    out.push((d(0), "c".into(), json!({"kind": "scheme_created", "scheme": s, "name": "lane", "action": "request", "stage": "requested",
        "positions": ["government.councillor"], "note": null, "components": [
        {"kind": "lane_sewer", "domain": "internal", "delivered_by": "community", "estimate": null},
        {"kind": "trunk_sewer", "domain": "external", "delivered_by": "government", "estimate": null}]})));
    out.push((d(2), "e".into(), json!({"kind": "estimate_set", "scheme": s, "estimates": {"lane_sewer": 100_000, "trunk_sewer": 200_000}})));
    for h in 0..10 {
        out.push((d(3), "o".into(), json!({"kind": "household_registered", "scheme": s, "household": format!("{p}h{h}"), "record": {"house": format!("{h}")}})));
    }
    out.push((d(4), "o".into(), json!({"kind": "meeting_recorded", "meeting": format!("{p}m"), "scheme": s,
        "record": {"body": "community", "held_on": "2025-01-08", "attendance": {"women": 4, "men": 7}}})));
    for h in 0..10 {
        out.push((d(6), if healthy { "t" } else { "m" }.into(), json!({"kind": "ledger_entry_posted", "entry": format!("{p}e{h}"), "scheme": s,
            "line": {"kind": "contribution", "role": "community", "amount": 10_000, "household": format!("{p}h{h}")}})));
    }
    out.push((d(8), "m".into(), json!({"kind": "stage_changed", "scheme": s, "from": "funds_collected", "to": "under_construction", "cause": "start_works"})));
    out.push((
        d(10),
        "m".into(),
        json!({"kind": "ledger_entry_posted", "entry": format!("{p}x"), "scheme": s,
        "line": {"kind": "expenditure", "role": "community", "amount": 90_000}}),
    ));
    out.push((d(12), "n".into(), json!({"kind": "act_performed", "scheme": s, "action": "inspect", "from": "under_construction", "to": null,
        "positions": ["ngo.engineer"], "rules": [], "note": null})));
    out.push((d(14), "o".into(), json!({"kind": "stage_changed", "scheme": s, "from": "internal_completed", "to": "external_requested", "cause": "request_external"})));
    out.push((d(14), "o".into(), json!({"kind": "obligation_opened", "obligation": format!("{p}o"), "scheme": s, "rule": "r",
        "position": "government.municipal_engineer", "action": "complete_external", "stage": "external_requested", "due": d(40), "escalated_from": null})));
    if healthy {
        out.push((
            d(20),
            "g".into(),
            json!({"kind": "ledger_entry_posted", "entry": format!("{p}r"), "scheme": s,
            "line": {"kind": "release", "role": "government", "amount": 200_000}}),
        ));
        out.push((d(21), "g".into(), json!({"kind": "obligation_met", "obligation": format!("{p}o"), "scheme": s, "late": false})));
        out.push((d(21), "g".into(), json!({"kind": "stage_changed", "scheme": s, "from": "external_requested", "to": "in_operation", "cause": "hand_over"})));
    } else {
        out.push((d(40), "x".into(), json!({"kind": "obligation_breached", "obligation": format!("{p}o"), "scheme": s, "rule": "r",
            "position": "government.municipal_engineer", "consequence": "escalated"})));
    }
}

/// About `per` events of initiative `i`, in time order.
pub fn initiative(i: usize, per: usize) -> Vec<Raw> {
    let mut raw: Vec<Raw> = vec![];
    let mut k = 0;
    while raw.len() + 1 < per {
        scheme(
            &mut raw,
            &format!("i{i}k{k}"),
            (k as u32) % 12,
            !(i + k).is_multiple_of(3),
        );
        k += 1;
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    raw.truncate(per.saturating_sub(1));
    raw.insert(0, ("2025-01-01T09:00:00Z".to_string(), "a".to_string(), json!({"kind": "initiative_started", "initiative": {
        "id": format!("i{i}"), "name": "x", "locality": "x", "district": "x", "arrangement": "component-sharing", "version": 1, "partners": {}}})));
    raw
}

/// CPU seconds this process has used (user + system, from /proc): the
/// shared machine is loaded, so wall time alone overstates the work.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    // Kept by position from field 3 (the state letter): utime and stime,
    // fields 14 and 15, are the 12th and 13th here. Clock ticks of 1/100 s.
    // (Parsing only the numbers used to drop the letter and read stime +
    // cutime instead.)
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / 100.0
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let per = args.get(1).copied().unwrap_or(500);
    let (_, src) = saanjh_core::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(f, _)| *f == "component-sharing.toml")
        .expect("built in");
    let arr = Arrangement::parse(src).expect("arrangement");
    let ctx = Context {
        positions_filled: BTreeMap::from([("community.lane_manager".to_string(), 1)]),
        reserve: None,
    };
    let now = datetime!(2026-06-01 09:00 UTC);
    let t0 = Instant::now();
    let logs: Vec<Vec<DiagEvent>> = (0..n)
        .map(|i| {
            initiative(i, per)
                .into_iter()
                .enumerate()
                .map(|(k, (at, actor, body))| DiagEvent {
                    seq: k as i64 + 1,
                    at,
                    actor,
                    body: serde_json::from_value::<EventBody>(body).expect("event"),
                })
                .collect()
        })
        .collect();
    let total: usize = logs.iter().map(Vec::len).sum();
    eprintln!(
        "generated {n} initiatives, {total} events in {:.1?}",
        t0.elapsed()
    );

    let t = Instant::now();
    let cpu = cpu_seconds();
    let mut trackers = Vec::with_capacity(n);
    let mut zero = 0usize;
    for log in &logs {
        let mut tr = Tracker::new();
        for e in log {
            tr.apply(&arr, &ctx, e);
        }
        let ind = tr.indicators(&arr, &ctx, now);
        zero += ind.iter().filter(|i| i.value == Some(0.0)).count();
        trackers.push(tr);
    }
    println!(
        "all indicators, in memory: {n} initiatives, {total} events: {:.3} s wall, {:.3} s CPU (fold + summary; {zero} zero-valued indicators)",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );

    // Where a fresh process's time goes when it starts from kept
    // snapshots: reading the snapshot text back, and summarising.
    let texts: Vec<String> = trackers
        .iter()
        .map(|t| t.to_snapshot().expect("snapshot"))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let cpu = cpu_seconds();
    let t = Instant::now();
    let back: Vec<Tracker> = texts
        .iter()
        .map(|s| Tracker::from_snapshot(s).expect("reads"))
        .collect();
    println!(
        "snapshots read back: {n} ({:.1} KB each): {:.3} s wall, {:.3} s CPU",
        bytes as f64 / n as f64 / 1024.0,
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );
    let calibrate = |v: f64, a: &saanjh_core::diagnosis::Anchors| -> Result<f64, String> {
        Ok(if (a.inclusion - a.exclusion) * (v - a.crossover) >= 0.0 {
            0.9
        } else {
            0.1
        })
    };
    let cpu = cpu_seconds();
    let t = Instant::now();
    let mut weak = 0;
    for tr in &back {
        let d = saanjh_core::diagnosis::diagnose(&arr, &ctx, tr, now, &BTreeMap::new(), &calibrate)
            .expect("diagnosis");
        weak += d.weak.len();
    }
    println!(
        "summarised into diagnoses: {n}: {:.3} s wall, {:.3} s CPU ({weak} weak)",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );

    // The same from the folds' digests: read back and diagnosed.
    let digests: Vec<String> = back
        .iter()
        .map(|t| {
            t.digest(&arr)
                .expect("no indicators of its own")
                .to_text()
                .expect("text")
        })
        .collect();
    let bytes: usize = digests.iter().map(String::len).sum();
    let cpu = cpu_seconds();
    let t = Instant::now();
    let read: Vec<saanjh_core::diagnosis::Digest> = digests
        .iter()
        .map(|s| saanjh_core::diagnosis::Digest::from_text(s).expect("reads"))
        .collect();
    println!(
        "digests read back: {n} ({:.1} KB each): {:.3} s wall, {:.3} s CPU",
        bytes as f64 / n as f64 / 1024.0,
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );
    let cpu = cpu_seconds();
    let t = Instant::now();
    let mut weak_d = 0;
    for d in read {
        let d = saanjh_core::diagnosis::diagnose_digest(
            &arr,
            &ctx,
            d,
            now,
            &BTreeMap::new(),
            &calibrate,
        )
        .expect("diagnosis");
        weak_d += d.weak.len();
    }
    println!(
        "digests diagnosed: {n}: {:.3} s wall, {:.3} s CPU ({weak_d} weak)",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );

    // One more event on an initiative whose tracker is kept: apply it and
    // summarise again.
    let extra = DiagEvent {
        seq: per as i64 + 1,
        at: "2026-05-31T09:00:00Z".into(),
        actor: "o".into(),
        body: serde_json::from_value(json!({"kind": "meeting_recorded", "meeting": "late", "scheme": null,
            "record": {"body": "community", "held_on": "2026-05-31", "attendance": {"women": 3, "men": 3}}}))
        .expect("event"),
    };
    let mut samples = vec![];
    for tr in trackers.iter_mut().take(200) {
        let t = Instant::now();
        tr.apply(&arr, &ctx, &extra);
        let _ = tr.indicators(&arr, &ctx, now);
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "update after one event ({per}-event initiative, kept tracker): median {:.3} ms, max {:.3} ms over {} initiatives",
        samples[samples.len() / 2],
        samples[samples.len() - 1],
        samples.len()
    );
}
