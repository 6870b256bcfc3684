//! Time to compute every initiative's indicators and conditions from the
//! database (read the chain, fold, calibrate: what `GET
//! /initiatives/{id}/diagnosis` does), and to answer again after one more
//! event. Run by `bench/diagnosis/run.sh`; never a test.
//!
//!     cargo run --release -p saanjh-web --example diagnosis_db_bench -- \
//!         sqlite:///tmp/diag-bench.db 1000 500
//!
//! Events are synthetic lane schemes (the shape of the demo's component-
//! sharing lanes, healthy and failing), appended straight to the store one
//! month per append (the store's `at` is per append), so the log has the
//! month-by-month history the indicators' `over_time` keeps.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use saanjh_core::event::EventBody;
use saanjh_store::Store;
use saanjh_web::diagnosis_api::measure;
use saanjh_web::{AppState, ManualClock, service};
use serde_json::json;
use time::macros::datetime;

type Raw = (String, serde_json::Value);

fn day(month: u32, d: u32) -> String {
    let m = month + d / 28;
    format!(
        "{}-{:02}-{:02}T09:00:00Z",
        2025 + m / 12,
        1 + m % 12,
        1 + d % 28
    )
}

fn scheme(out: &mut Vec<Raw>, p: &str, month: u32, healthy: bool) {
    let d = |x: u32| day(month, x);
    let s = format!("{p}s");
    out.push((d(0), json!({"kind": "scheme_created", "scheme": s, "name": "lane", "action": "request", "stage": "requested",
        "positions": ["government.councillor"], "note": null, "components": [
        {"kind": "lane_sewer", "domain": "internal", "delivered_by": "community", "estimate": null},
        {"kind": "trunk_sewer", "domain": "external", "delivered_by": "government", "estimate": null}]})));
    out.push((d(2), json!({"kind": "estimate_set", "scheme": s, "estimates": {"lane_sewer": 100_000, "trunk_sewer": 200_000}})));
    for h in 0..10 {
        out.push((d(3), json!({"kind": "household_registered", "scheme": s, "household": format!("{p}h{h}"), "record": {"house": format!("{h}")}})));
    }
    out.push((d(4), json!({"kind": "meeting_recorded", "meeting": format!("{p}m"), "scheme": s,
        "record": {"body": "community", "held_on": "2025-01-08", "attendance": {"women": 4, "men": 7}}})));
    for h in 0..10 {
        out.push((d(6), json!({"kind": "ledger_entry_posted", "entry": format!("{p}e{h}"), "scheme": s,
            "line": {"kind": "contribution", "role": "community", "amount": 10_000, "household": format!("{p}h{h}")}})));
    }
    out.push((d(8), json!({"kind": "stage_changed", "scheme": s, "from": "funds_collected", "to": "under_construction", "cause": "start_works"})));
    out.push((
        d(10),
        json!({"kind": "ledger_entry_posted", "entry": format!("{p}x"), "scheme": s,
        "line": {"kind": "expenditure", "role": "community", "amount": 90_000}}),
    ));
    out.push((d(12), json!({"kind": "act_performed", "scheme": s, "action": "inspect", "from": "under_construction", "to": null,
        "positions": ["ngo.engineer"], "rules": [], "note": null})));
    out.push((d(14), json!({"kind": "stage_changed", "scheme": s, "from": "internal_completed", "to": "external_requested", "cause": "request_external"})));
    out.push((d(14), json!({"kind": "obligation_opened", "obligation": format!("{p}o"), "scheme": s, "rule": "r",
        "position": "government.municipal_engineer", "action": "complete_external", "stage": "external_requested", "due": d(40), "escalated_from": null})));
    if healthy {
        out.push((
            d(20),
            json!({"kind": "ledger_entry_posted", "entry": format!("{p}r"), "scheme": s,
            "line": {"kind": "release", "role": "government", "amount": 200_000}}),
        ));
        out.push((d(21), json!({"kind": "obligation_met", "obligation": format!("{p}o"), "scheme": s, "late": false})));
        out.push((d(21), json!({"kind": "stage_changed", "scheme": s, "from": "external_requested", "to": "in_operation", "cause": "hand_over"})));
    } else {
        out.push((d(40), json!({"kind": "obligation_breached", "obligation": format!("{p}o"), "scheme": s, "rule": "r",
            "position": "government.municipal_engineer", "consequence": "escalated"})));
    }
}

fn initiative(id: &str, i: usize, per: usize) -> Vec<Raw> {
    let mut raw: Vec<Raw> = vec![];
    let mut k = 0;
    while raw.len() + 1 < per {
        scheme(
            &mut raw,
            &format!("{id}k{k}"),
            (k as u32) % 12,
            !(i + k).is_multiple_of(3),
        );
        k += 1;
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    // Whole schemes only, so no scheme is cut before its creation.
    raw.truncate(per.saturating_sub(1));
    raw.insert(0, ("2025-01-01T09:00:00Z".to_string(), json!({"kind": "initiative_started", "initiative": {
        "id": id, "name": format!("bench lane {i}"), "locality": "x", "district": "bench", "arrangement": "component-sharing",
        "version": 1, "partners": {}}})));
    raw
}

/// CPU seconds this process has used (user + system, from /proc): the
/// shared machine is loaded, so wall time alone overstates the work.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after
    // the command name; clock ticks of 1/100 s.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "sqlite:///tmp/diag-bench.db".into());
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let per: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    let store = Store::connect(&url).await.expect("connect");
    let clock = Arc::new(ManualClock::new(datetime!(2026-06-01 09:00 UTC)));
    let state = AppState::new(store.clone(), clock);
    service::ensure_built_in_arrangements(&state)
        .await
        .expect("arrangements");

    let existing = store.initiatives(Some("bench"), 1, 0).await.expect("list");
    if existing.is_empty() {
        let t = Instant::now();
        let mut events = 0usize;
        for i in 0..n {
            let id = format!("bench-{i:06}");
            let raw = initiative(&id, i, per);
            // One append per month: the store stamps a whole append with one time.
            let mut by_month: BTreeMap<String, Vec<EventBody>> = BTreeMap::new();
            for (at, body) in raw {
                let month = format!("{}-01T09:00:00Z", &at[..7]);
                by_month
                    .entry(month)
                    .or_default()
                    .push(serde_json::from_value(body).expect("event"));
            }
            let mut head = 0i64;
            for (at, bodies) in by_month {
                events += bodies.len();
                let out = store
                    .append(&id, head, "bench", &at, &bodies)
                    .await
                    .expect("append");
                head = out.last().map(|e| e.seq).unwrap_or(head);
            }
            if i % 500 == 499 {
                eprintln!(
                    "loaded {} initiatives, {events} events, {:.0?}",
                    i + 1,
                    t.elapsed()
                );
            }
        }
        println!(
            "load: {n} initiatives, {events} events in {:.1} s (not the measure)",
            t.elapsed().as_secs_f64()
        );
    }

    let mut ids = vec![];
    let mut offset = 0;
    loop {
        let rows = store
            .initiatives(Some("bench"), 1000, offset)
            .await
            .expect("list");
        let k = rows.len();
        ids.extend(rows.into_iter().map(|r| r.id));
        if k < 1000 {
            break;
        }
        offset += 1000;
    }
    let anchors = BTreeMap::new();
    let t = Instant::now();
    let cpu = cpu_seconds();
    let mut weak = 0usize;
    for id in &ids {
        let m = measure(&state, id, &anchors).await.expect("measure");
        weak += m.diagnosis.weak.len();
    }
    let all = t.elapsed().as_secs_f64();
    println!(
        "all diagnoses from {} ({}): {} initiatives in {all:.3} s wall, {:.3} s CPU of this process ({weak} weak conditions in all)",
        store.backend(),
        url.split('?').next().unwrap_or(""),
        ids.len(),
        cpu_seconds() - cpu
    );

    // One more event on an initiative, then its diagnosis again (the API
    // re-reads and re-folds the chain).
    let mut samples = vec![];
    for id in ids.iter().take(50) {
        let (head, _) = store.head(id).await.expect("head");
        let body: EventBody = serde_json::from_value(json!({"kind": "meeting_recorded", "meeting": format!("{id}-late-{head}"), "scheme": null,
            "record": {"body": "community", "held_on": "2026-05-31", "attendance": {"women": 3, "men": 3}}})).expect("event");
        store
            .append(id, head, "bench", "2026-05-31T09:00:00Z", &[body])
            .await
            .expect("append");
        let t = Instant::now();
        measure(&state, id, &anchors).await.expect("measure");
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "diagnosis after one more event (re-read + re-fold, {per}-event initiative): median {:.2} ms, max {:.2} ms over {}",
        samples[samples.len() / 2],
        samples[samples.len() - 1],
        samples.len()
    );
}
