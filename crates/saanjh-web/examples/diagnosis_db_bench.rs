//! Diagnosis from the database at scale (issue 8): time to compute every
//! initiative's indicators and conditions from SQLite or PostgreSQL, and to
//! answer again after one more event. Run by `bench/diagnosis/run.sh`;
//! never a test.
//!
//!     cargo run --release -p saanjh-web --example diagnosis_db_bench -- \
//!         sqlite:///tmp/diag-bench.db 10000 500
//!
//! What it times, in order: the full refold from the raw log (snapshots
//! emptied; `measure_many`, which reads chains in bulk and folds on every
//! core) and the writing of the snapshots (and digests) behind it; then, in
//! a child process started for the purpose (nothing warm but the OS file
//! cache), all diagnoses in bulk (from the digests) and one by one through
//! `measure` (from the folds); again in another child with the digests
//! emptied (the bulk path reading every fold, as before digests); then,
//! for 100 initiatives, one more event appended through `Store::append`
//! followed by the diagnosis (the answer, and the answer plus the snapshot
//! refresh committed), the diagnosis in a fresh state from the snapshot,
//! and with no snapshot (re-read and re-fold).
//!
//! `--load-only URL N PER` loads (if the database holds no bench
//! initiatives yet) and stops, so loads can run side by side and the
//! measures one at a time.
//!
//! Loading: it generates valid chains — every event sealed with
//! `StoredEvent::seal`, so `saanjh verify` accepts them — on both cores, and
//! inserts them 500 initiatives a transaction: prepared multi-row INSERTs
//! on SQLite on one connection with `synchronous=OFF` (the loader's only;
//! the server keeps FULL), `COPY … FROM STDIN` on PostgreSQL with
//! `synchronous_commit = off` for those transactions, with each chain's head
//! and the `initiatives` row the diagnosis reads. The other projections
//! (schemes, households, ledger rows) are not written: the diagnosis folds
//! the events and does not read them; `saanjh rebuild` would fill them in.
//!
//! Events are synthetic lane schemes (the shape of the demo's component-
//! sharing lanes, healthy and failing), about 33 a scheme, dated month by
//! month so the indicators' `over_time` has work to do.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use saanjh_core::event::{EventBody, GENESIS, StoredEvent};
use saanjh_store::Store;
use saanjh_web::diagnosis_api::{measure, measure_many};
use saanjh_web::trackers::TrackerStats;
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

/// `per` events of initiative `i`, in time order, sealed onto its chain.
fn chain(id: &str, i: usize, per: usize) -> Vec<(StoredEvent, Option<String>)> {
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
    let mut prev = GENESIS.to_string();
    raw.into_iter()
        .enumerate()
        .map(|(n, (at, v))| {
            let body: EventBody = serde_json::from_value(v).expect("event");
            let e = StoredEvent::seal(id, n as i64 + 1, &at, "bench", &body, &prev);
            prev = e.hash.clone();
            (e, body.scheme().map(String::from))
        })
        .collect()
}

/// COPY text format: backslash, tab and line breaks escaped.
fn copy_field(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Bulk-loads `n` initiatives of `per` events, `batch` initiatives per
/// transaction.
async fn load(store: &Store, n: usize, per: usize) -> usize {
    const BATCH: usize = 500;
    let t = Instant::now();
    let mut events = 0usize;
    // The loader's own connection, without fsyncs: a crash mid-load means
    // loading again, which is acceptable for a benchmark database and for
    // nothing else (the server keeps synchronous=FULL).
    let mut sqlite_conn = match store {
        Store::Sqlite(pool, _) => {
            let mut c = pool.acquire().await.expect("acquire");
            sqlx::query("PRAGMA synchronous=OFF")
                .execute(&mut *c)
                .await
                .expect("pragma");
            Some(c)
        }
        Store::Postgres(_) => None,
    };
    for start in (0..n).step_by(BATCH) {
        let ids: Vec<String> = (start..(start + BATCH).min(n))
            .map(|i| format!("bench-{i:06}"))
            .collect();
        // Generating and sealing (JSON, SHA-256) on both cores.
        let half = ids.len().div_ceil(2);
        let chains: Vec<Vec<(StoredEvent, Option<String>)>> = std::thread::scope(|s| {
            let parts: Vec<_> = ids
                .chunks(half.max(1))
                .enumerate()
                .map(|(p, part)| {
                    s.spawn(move || {
                        part.iter()
                            .enumerate()
                            .map(|(k, id)| chain(id, start + p * half + k, per))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().expect("generate"))
                .collect()
        });
        let heads: Vec<(&str, i64, &str)> = chains
            .iter()
            .filter_map(|c| c.last())
            .map(|(e, _)| (e.chain.as_str(), e.seq, e.hash.as_str()))
            .collect();
        events += chains.iter().map(Vec::len).sum::<usize>();
        match store {
            Store::Sqlite(..) => {
                use sqlx::Connection;
                let conn = sqlite_conn.as_mut().expect("loader connection");
                let mut tx = conn.begin().await.expect("begin");
                // 100 rows × 9 values per statement: under SQLite's limit on
                // bound values, and prepared once (sqlx caches statements).
                let rows: Vec<&(StoredEvent, Option<String>)> = chains.iter().flatten().collect();
                for part in rows.chunks(100) {
                    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                        "INSERT INTO events (chain, seq, at, actor, kind, payload, prev_hash, hash, scheme_id) ",
                    );
                    q.push_values(part, |mut b, (e, scheme)| {
                        b.push_bind(&e.chain)
                            .push_bind(e.seq)
                            .push_bind(&e.at)
                            .push_bind(&e.actor)
                            .push_bind(&e.kind)
                            .push_bind(&e.payload)
                            .push_bind(&e.prev_hash)
                            .push_bind(&e.hash)
                            .push_bind(scheme);
                    });
                    q.build().execute(&mut *tx).await.expect("insert events");
                }
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO chain_heads (chain, seq, hash) ",
                );
                q.push_values(&heads, |mut b, (c, s, h)| {
                    b.push_bind(*c).push_bind(*s).push_bind(*h);
                });
                q.build().execute(&mut *tx).await.expect("insert heads");
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO initiatives (id, name, locality, district, arrangement_id, arrangement_version, demo, latitude, longitude, started_at) ",
                );
                q.push_values(&ids, |mut b, id| {
                    b.push_bind(id)
                        .push_bind(format!("bench {id}"))
                        .push_bind("x")
                        .push_bind("bench")
                        .push_bind("component-sharing")
                        .push_bind(1i64)
                        .push_bind(0i64)
                        .push_bind(None::<f64>)
                        .push_bind(None::<f64>)
                        .push_bind("2025-01-01T09:00:00Z");
                });
                q.build()
                    .execute(&mut *tx)
                    .await
                    .expect("insert initiatives");
                tx.commit().await.expect("commit");
            }
            Store::Postgres(pool) => {
                let mut text = String::with_capacity(events * 64);
                for (e, scheme) in chains.iter().flatten() {
                    for (i, f) in [
                        &e.chain,
                        &e.seq.to_string(),
                        &e.at,
                        &e.actor,
                        &e.kind,
                        &e.payload,
                        &e.prev_hash,
                        &e.hash,
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        if i > 0 {
                            text.push('\t');
                        }
                        copy_field(&mut text, f);
                    }
                    text.push('\t');
                    match scheme {
                        Some(s) => copy_field(&mut text, s),
                        None => text.push_str("\\N"),
                    }
                    text.push('\n');
                }
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await
                    .expect("set");
                let mut copy = tx
                    .copy_in_raw("COPY events (chain, seq, at, actor, kind, payload, prev_hash, hash, scheme_id) FROM STDIN")
                    .await
                    .expect("copy");
                copy.send(text.into_bytes()).await.expect("copy send");
                copy.finish().await.expect("copy finish");
                let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                    "INSERT INTO chain_heads (chain, seq, hash) ",
                );
                q.push_values(&heads, |mut b, (c, s, h)| {
                    b.push_bind(*c).push_bind(*s).push_bind(*h);
                });
                q.build().execute(&mut *tx).await.expect("insert heads");
                let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                    "INSERT INTO initiatives (id, name, locality, district, arrangement_id, arrangement_version, demo, latitude, longitude, started_at) ",
                );
                q.push_values(&ids, |mut b, id| {
                    b.push_bind(id)
                        .push_bind(format!("bench {id}"))
                        .push_bind("x")
                        .push_bind("bench")
                        .push_bind("component-sharing")
                        .push_bind(1i64)
                        .push_bind(0i64)
                        .push_bind(None::<f64>)
                        .push_bind(None::<f64>)
                        .push_bind("2025-01-01T09:00:00Z");
                });
                q.build()
                    .execute(&mut *tx)
                    .await
                    .expect("insert initiatives");
                tx.commit().await.expect("commit");
            }
        }
        if (start / BATCH) % 2 == 1 {
            eprintln!(
                "loaded {} initiatives, {events} events, {:.0?}",
                start + ids.len(),
                t.elapsed()
            );
        }
    }
    if let Some(mut c) = sqlite_conn {
        sqlx::query("PRAGMA synchronous=FULL")
            .execute(&mut *c)
            .await
            .expect("pragma");
    }
    println!(
        "load (not the measure): {n} initiatives, {events} events in {:.1} s ({:.0} events/s)",
        t.elapsed().as_secs_f64(),
        events as f64 / t.elapsed().as_secs_f64()
    );
    events
}

/// CPU seconds this process has used (user + system, from /proc): the
/// shared machine is loaded, so wall time alone overstates the work.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    // Fields after the command name, from field 3 (the state letter), kept
    // by position: utime and stime are fields 14 and 15, so the 12th and
    // 13th here. (An earlier version dropped the state letter while parsing
    // and so read stime + cutime instead.) Clock ticks of 1/100 s.
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / 100.0
}

/// Diagnoses every id through `measure_many` (bulk: trackers from
/// snapshots, or chains refolded in bulk, on every core), `chunk` at a time;
/// returns (wall s, CPU s, weak conditions).
async fn diagnose_all(state: &AppState, ids: &[String], chunk: usize) -> (f64, f64, usize) {
    let t = Instant::now();
    let cpu = cpu_seconds();
    let anchors = BTreeMap::new();
    let mut weak = 0usize;
    for part in ids.chunks(chunk) {
        let ms = measure_many(state, part, &anchors).await.expect("measure");
        weak += ms.iter().map(|m| m.diagnosis.weak.len()).sum::<usize>();
    }
    (t.elapsed().as_secs_f64(), cpu_seconds() - cpu, weak)
}

/// Diagnoses every id one by one through `measure` (what the diagnosis
/// page and `GET /initiatives/{id}/diagnosis` run).
async fn diagnose_each(state: &AppState, ids: &[String]) -> (f64, f64, usize) {
    let t = Instant::now();
    let cpu = cpu_seconds();
    let anchors = BTreeMap::new();
    let mut weak = 0usize;
    for id in ids {
        weak += measure(state, id, &anchors)
            .await
            .expect("measure")
            .diagnosis
            .weak
            .len();
    }
    (t.elapsed().as_secs_f64(), cpu_seconds() - cpu, weak)
}

async fn bench_ids(store: &Store) -> Vec<String> {
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
    ids
}

fn stat(v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    format!(
        "median {:.2} ms, p90 {:.2} ms, max {:.2} ms over {}",
        v[v.len() / 2],
        v[v.len() * 9 / 10],
        v[v.len() - 1],
        v.len()
    )
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// What a fresh process does with the snapshots in place: all diagnoses in
/// bulk, then again one by one in another fresh state. Run as a child of
/// the main run (`--from-snapshots URL`), so nothing is warm but the
/// operating system's file cache.
async fn from_snapshots(url: &str, where_: &str) {
    let store = Store::connect(url).await.expect("connect");
    let clock = Arc::new(ManualClock::new(datetime!(2026-06-01 09:00 UTC)));
    let state = AppState::new(store.clone(), clock.clone());
    let ids = bench_ids(&store).await;
    let before = TrackerStats::get(&state.trackers.stats.events_folded);
    let (wall, cpu, weak) = diagnose_all(&state, &ids, 1000).await;
    println!(
        "fresh process, all diagnoses from the kept folds (measure_many), {where_}: {} initiatives: {wall:.2} s wall, {cpu:.2} s CPU ({weak} weak conditions; {} digests used, {} snapshots used, {} events folded) [load {}]",
        ids.len(),
        TrackerStats::get(&state.trackers.stats.digests_used),
        TrackerStats::get(&state.trackers.stats.snapshots_used),
        TrackerStats::get(&state.trackers.stats.events_folded) - before,
        uptime()
    );
    let state = AppState::new(store.clone(), clock);
    let (wall, cpu, _) = diagnose_each(&state, &ids).await;
    println!(
        "fresh state, every diagnosis one by one from snapshots (measure), {where_}: {wall:.2} s wall, {cpu:.2} s CPU ({} snapshots used) [load {}]",
        TrackerStats::get(&state.trackers.stats.snapshots_used),
        uptime()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--load-only URL N PER`: load the database (if empty) and stop, so
    // that loads can run beside each other and the measures one at a time.
    let load_only = args.first().map(String::as_str) == Some("--load-only");
    if load_only {
        args.remove(0);
    }
    if args.first().map(String::as_str) == Some("--from-snapshots") {
        let url = args.get(1).cloned().unwrap_or_default();
        let where_ = args.get(2).cloned().unwrap_or_default();
        from_snapshots(&url, &where_).await;
        return;
    }
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "sqlite:///tmp/diag-bench.db".into());
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let per: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    let store = Store::connect(&url).await.expect("connect");
    let clock = Arc::new(ManualClock::new(datetime!(2026-06-01 09:00 UTC)));
    let state = AppState::new(store.clone(), clock.clone());
    service::ensure_built_in_arrangements(&state)
        .await
        .expect("arrangements");

    let existing = store.initiatives(Some("bench"), 1, 0).await.expect("list");
    if existing.is_empty() {
        load(&store, n, per).await;
    }
    if load_only {
        return;
    }
    let ids = bench_ids(&store).await;
    let events: i64 = store
        .chains()
        .await
        .expect("chains")
        .iter()
        .filter(|(c, _)| c.starts_with("bench-"))
        .map(|(_, n)| n)
        .sum();
    let where_ = format!(
        "{} ({})",
        store.backend(),
        url.split('?').next().unwrap_or("")
    );

    // The full refold from the raw log: no snapshot, every chain read in
    // bulk, parsed, folded and summarised; the snapshots are written behind.
    store.clear_diagnosis_snapshots().await.expect("clear");
    let (wall, cpu, weak) = diagnose_all(&state, &ids, 1000).await;
    let t = Instant::now();
    let c = cpu_seconds();
    state.trackers.flush(&store).await;
    let (fwall, fcpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    println!(
        "full refold from the log (measure_many, no snapshots), {where_}: {} initiatives, {events} events: {wall:.2} s wall, {cpu:.2} s CPU ({weak} weak conditions); then the last snapshot writes {fwall:.2} s wall, {fcpu:.2} s CPU [load {}]",
        ids.len(),
        uptime()
    );
    let kept = store.diagnosis_snapshot_count().await.expect("count");
    let sample_rows = store
        .diagnosis_snapshots(&ids[..ids.len().min(100)])
        .await
        .expect("snapshots");
    let mean = |f: &dyn Fn(&saanjh_store::DiagnosisSnapshot) -> usize| {
        sample_rows.values().map(f).sum::<usize>() as f64 / sample_rows.len().max(1) as f64 / 1024.0
    };
    println!(
        "snapshots kept: {kept}; mean of 100: fold {:.1} KB, digest {:.1} KB",
        mean(&|s| s.state.len()),
        mean(&|s| s.digest.as_ref().map_or(0, String::len))
    );

    // A fresh process with the kept folds and their digests in place; then
    // another with the digests emptied (what the bulk path cost before
    // there were digests: every fold read back and summarised).
    let exe = std::env::current_exe().expect("exe");
    let child = |label: &str| {
        println!("-- {label}");
        let out = std::process::Command::new(&exe)
            .args(["--from-snapshots", &url, &where_])
            .output()
            .expect("child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    };
    child("with digests");
    let emptied = match &store {
        Store::Sqlite(pool, _) => sqlx::query("UPDATE diagnosis_snapshots SET digest = NULL")
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Store::Postgres(pool) => sqlx::query("UPDATE diagnosis_snapshots SET digest = NULL")
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .expect("empty digests");
    child(&format!("digests emptied ({emptied} rows): folds only"));

    // One more event on an initiative, then its diagnosis: the kept tracker
    // (read from its snapshot on the first diagnosis) folds that event only;
    // then the snapshot refresh is waited for.
    let anchors = BTreeMap::new();
    let state = AppState::new(store.clone(), clock.clone());
    let sample: Vec<String> = ids.iter().take(100).cloned().collect();
    for id in &sample {
        measure(&state, id, &anchors).await.expect("measure");
    }
    let mut answer = vec![];
    let mut refreshed = vec![];
    for id in &sample {
        let (head, _) = store.head(id).await.expect("head");
        let body: EventBody = serde_json::from_value(json!({"kind": "meeting_recorded", "meeting": format!("{id}-late-{head}"), "scheme": null,
            "record": {"body": "community", "held_on": "2026-05-31", "attendance": {"women": 3, "men": 3}}})).expect("event");
        store
            .append(id, head, "bench", "2026-05-31T09:00:00Z", &[body])
            .await
            .expect("append");
        let t = Instant::now();
        let m = measure(&state, id, &anchors).await.expect("measure");
        answer.push(t.elapsed().as_secs_f64() * 1e3);
        state.trackers.flush(&store).await;
        refreshed.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(
            m.diagnosis
                .indicators
                .iter()
                .any(|i| i.id.ends_with("meetings_per_scheme"))
        );
    }
    println!(
        "diagnosis after one more event, tracker kept: answer {} [load {}]",
        stat(&mut answer),
        uptime()
    );
    println!(
        "the same including the snapshot refresh (written and committed): {}",
        stat(&mut refreshed)
    );
    // After a restart: the snapshot (at the head) instead of the chain.
    let fresh = AppState::new(store.clone(), clock.clone());
    let mut restarted = vec![];
    for id in &sample {
        let t = Instant::now();
        measure(&fresh, id, &anchors).await.expect("measure");
        restarted.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "one diagnosis in a fresh state from its snapshot: {}",
        stat(&mut restarted)
    );
    // For contrast: no tracker and no snapshot (re-read and re-fold).
    let none = AppState::new(store.clone(), clock);
    let mut cold = vec![];
    for id in &sample {
        store.drop_diagnosis_snapshot(id).await.expect("drop");
        let t = Instant::now();
        measure(&none, id, &anchors).await.expect("measure");
        cold.push(t.elapsed().as_secs_f64() * 1e3);
    }
    none.trackers.flush(&store).await;
    println!(
        "one diagnosis re-reading and re-folding its chain ({per} events), no snapshot: {}",
        stat(&mut cold)
    );
}
