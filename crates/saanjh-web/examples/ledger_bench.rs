//! Ledger benchmarks (issue 3) on SQLite (a fresh file, WAL,
//! synchronous=FULL, as `saanjh serve` runs it) or PostgreSQL (an empty
//! database given by URL):
//!
//! 1. single entries through the JSON API: sequential `POST
//!    /schemes/{id}/acts`, on a fresh scheme and on schemes that already
//!    hold 10,000 and 100,000 entries;
//! 2. the batch path: CSV registers through `POST
//!    /initiatives/{id}/ledger/import` (one append each), on a fresh scheme
//!    and on the 100,000-entry scheme;
//! 3. raw inserts into the same store: sealed `ledger_entry_posted` events,
//!    their `ledger_entries` rows and the chain head, with plain SQL and no
//!    rules or decisions — one transaction per entry (the reference for
//!    single entries, same durability), and many entries in one transaction
//!    (the reference for an import; the scheme's folded state is written
//!    once at the end). The large schemes of 1 are made this way;
//! 4. the statement of the 100,000-entry scheme: built in the store and
//!    core (first page, and every entry), and over HTTP as JSON (the
//!    default page) and CSV (every entry, streamed).
//!
//! `cargo run --release -p saanjh-web --example ledger_bench -- [N] [SINGLE] [IMPORT] [DATABASE_URL]`
//! (defaults 100000 300 1000, a temporary SQLite file), or
//! `bash bench/ledger/run.sh` (both backends).

use std::sync::Arc;
use std::time::{Duration, Instant};

use saanjh_core::engine::{self, Act};
use saanjh_core::event::{EventBody, StoredEvent};
use saanjh_core::ledger::LedgerLine;
use saanjh_core::ledger::statement::Viewer;
use saanjh_core::model::{Gender, OrgKind};
use saanjh_store::{EntryPage, Store};
use saanjh_web::service::{
    self, NewInitiative, NewMembership, NewOrganisation, NewPerson, NewUser,
};
use saanjh_web::{AppState, SystemClock, ledger_api};
use serde_json::json;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Setup {
    state: AppState,
    base: String,
    http: reqwest::Client,
    token: String,
    treasurer: String,
    initiative: String,
}

async fn setup(url: String) -> Res<Setup> {
    let store = Store::connect(&url).await?;
    let state = AppState::new(store, Arc::new(SystemClock));
    service::ensure_built_in_arrangements(&state)
        .await
        .map_err(|e| e.to_string())?;
    let org = |name: &str, kind: OrgKind| NewOrganisation {
        name: name.into(),
        kind,
        district: Some("Lodhran".into()),
    };
    let community = service::register_organisation(
        &state,
        "bench",
        org("Street 7 lane organisation", OrgKind::Community),
    )
    .await
    .map_err(|e| e.to_string())?
    .id;
    let government =
        service::register_organisation(&state, "bench", org("Lodhran TMA", OrgKind::Public))
            .await
            .map_err(|e| e.to_string())?
            .id;
    let ngo = service::register_organisation(
        &state,
        "bench",
        org("Lodhran Pilot Project", OrgKind::ThirdSector),
    )
    .await
    .map_err(|e| e.to_string())?
    .id;
    let mut treasurer = String::new();
    for (i, position) in [
        "treasurer",
        "lane_manager",
        "resident",
        "resident",
        "resident",
        "resident",
    ]
    .iter()
    .enumerate()
    {
        let p = service::register_person(
            &state,
            "bench",
            NewPerson {
                name: format!("Resident {i}"),
                gender: Some(Gender::Female),
                elected: false,
            },
        )
        .await
        .map_err(|e| e.to_string())?
        .id;
        service::grant_membership(
            &state,
            "bench",
            NewMembership {
                person: p.clone(),
                organisation: community.clone(),
                position: position.to_string(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        if i == 0 {
            treasurer = p;
        }
    }
    let init = service::start_initiative(
        &state,
        "bench",
        NewInitiative {
            name: "Bench colony".into(),
            locality: "Ward 4".into(),
            district: "Lodhran".into(),
            arrangement: "component-sharing".into(),
            version: 1,
            partners: [
                ("community".to_string(), community),
                ("government".to_string(), government),
                ("ngo".to_string(), ngo),
            ]
            .into_iter()
            .collect(),
            latitude: None,
            longitude: None,
            demo: false,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    service::create_user(
        &state,
        NewUser {
            username: "treasurer".into(),
            password: "bench password".into(),
            person_id: Some(treasurer.clone()),
            is_admin: false,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let token = service::issue_token(&state, "treasurer", "bench password")
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(saanjh_web::serve_on(listener, state.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(Setup {
        state,
        base: format!("http://{addr}/api/v1"),
        http: reqwest::Client::new(),
        token,
        treasurer,
        initiative: init.id,
    })
}

async fn new_scheme(s: &Setup, name: &str) -> Res<String> {
    let act: Act = serde_json::from_value(
        json!({ "action": "request", "name": name, "components": [{ "kind": "lane_sewer", "estimate": 150_000_000i64 }] }),
    )?;
    Ok(service::act(&s.state, &s.initiative, &s.treasurer, act)
        .await
        .map_err(|e| e.to_string())?
        .scheme)
}

/// Sequential single entries over HTTP; entries per second.
async fn single(s: &Setup, scheme: &str, n: usize, tag: &str) -> Res<f64> {
    let started = Instant::now();
    for i in 0..n {
        let r = s
            .http
            .post(format!("{}/schemes/{scheme}/acts", s.base))
            .bearer_auth(&s.token)
            .json(&json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 150_000, "receipt": format!("{tag}-{i}") } }))
            .send()
            .await?;
        if r.status() != 200 {
            return Err(format!("single entry {i}: {} {}", r.status(), r.text().await?).into());
        }
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// One CSV register of `n` rows through the import endpoint; rows per second.
async fn import(s: &Setup, scheme: &str, n: usize) -> Res<f64> {
    let mut csv = String::from("role,amount,receipt,date\n");
    for i in 0..n {
        csv.push_str(&format!("community,1500,IMP-{scheme}-{i},2025-11-02\n"));
    }
    let started = Instant::now();
    let r = s
        .http
        .post(format!(
            "{}/initiatives/{}/ledger/import?scheme={scheme}",
            s.base, s.initiative
        ))
        .bearer_auth(&s.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?;
    let elapsed = started.elapsed();
    if r.status() != 201 {
        return Err(format!("import: {} {}", r.status(), r.text().await?).into());
    }
    Ok(n as f64 / elapsed.as_secs_f64())
}

/// Run `$body` with `$pool` bound to the store's pool, whichever backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool, _) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Raw inserts of `n` contributions to `scheme`: sealed events, their
/// `ledger_entries` rows and the chain head, with plain SQL — in one
/// transaction (`per_tx = n`) with the scheme's folded state written once at
/// the end, or one transaction per entry (`per_tx = 1`, the state not
/// written: the reference for what an API posting must at least do).
/// Entries per second.
async fn raw(s: &Setup, scheme: &str, n: usize, per_tx: usize) -> Res<f64> {
    let (mut seq, mut prev) = s.state.store.head(&s.initiative).await?;
    let (_, mut st) = s.state.store.scheme(scheme).await?.ok_or("no scheme")?;
    let at = engine::rfc3339(time::OffsetDateTime::now_utc());
    let org: Option<String> = s
        .state
        .store
        .partners(&s.initiative)
        .await?
        .remove("community");
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let batch = per_tx.min(n - done);
        on_pool!(&s.state.store, pool => {
            let mut tx = pool.begin().await?;
            for i in done..done + batch {
                let number = st.counter + 1;
                let entry = format!("{scheme}-e{number}");
                let receipt = format!("RAW-{scheme}-{i}");
                let line = LedgerLine {
                    kind: "contribution".into(),
                    role: "community".into(),
                    amount: 150_000,
                    means: Default::default(),
                    quantity: None,
                    rate: None,
                    household: None,
                    receipt: Some(receipt.clone()),
                    component: None,
                    payee: None,
                    purpose: None,
                    reverses: None,
                    on: None,
                    reversed_kind: None,
                };
                let body = EventBody::LedgerEntryPosted {
                    entry: entry.clone(),
                    scheme: scheme.to_string(),
                    line,
                };
                seq += 1;
                let e = StoredEvent::seal(&s.initiative, seq, &at, &s.treasurer, &body, &prev);
                sqlx::query("INSERT INTO events (chain, seq, at, actor, kind, payload, prev_hash, hash, scheme_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(&e.chain).bind(e.seq).bind(&e.at).bind(&e.actor).bind(&e.kind).bind(&e.payload).bind(&e.prev_hash).bind(&e.hash).bind(scheme)
                    .execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO ledger_entries (id, n, initiative_id, scheme_id, organisation_id, posted_at, on_date, fy, kind, effect_kind, role, amount, signed_amount, means, receipt) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, '2025-26', 'contribution', 'contribution', 'community', 150000, 150000, 'cash', $8)",
                )
                .bind(&entry).bind(number).bind(&s.initiative).bind(scheme).bind(&org).bind(&at).bind(&at[..10]).bind(&receipt)
                .execute(&mut *tx).await?;
                prev = e.hash;
                st = engine::apply(Some(st), &body, &at).ok_or("fold")?;
            }
            if per_tx > 1 {
                let json = serde_json::to_string(&st)?;
                sqlx::query("UPDATE schemes SET state = $1, updated_at = $2 WHERE id = $3")
                    .bind(&json).bind(&at).bind(scheme).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE chain = $3")
                .bind(seq).bind(&prev).bind(&s.initiative).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        done += batch;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    if per_tx == 1 {
        // Leave the scheme's state as the events say, for later postings.
        let json = serde_json::to_string(&st)?;
        on_pool!(&s.state.store, pool => {
            sqlx::query("UPDATE schemes SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(&json).bind(&at).bind(scheme).execute(pool).await?;
        });
    }
    Ok(rate)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn statement_times(s: &Setup, scheme: &str) -> Res<()> {
    let mut first = vec![];
    let mut whole = vec![];
    let mut json_http = vec![];
    let mut csv_http = vec![];
    let mut size = (0, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let page = EntryPage {
            after: None,
            limit: Some(ledger_api::DEFAULT_PAGE),
        };
        let st = ledger_api::statement_for(&s.state, scheme, &Viewer::Public, &page)
            .await
            .map_err(|e| e.to_string())?;
        first.push(t.elapsed());
        assert!(st.totals.entries > 0);
        let t = Instant::now();
        let all = ledger_api::statement_for(&s.state, scheme, &Viewer::Public, &EntryPage::all())
            .await
            .map_err(|e| e.to_string())?;
        whole.push(t.elapsed());
        assert_eq!(all.entries.len() as u64, all.totals.entries);
        let t = Instant::now();
        let body = s
            .http
            .get(format!("{}/statements/{scheme}", s.base))
            .send()
            .await?
            .bytes()
            .await?;
        json_http.push(t.elapsed());
        let t = Instant::now();
        let csv = s
            .http
            .get(format!("{}/statements/{scheme}?format=csv", s.base))
            .send()
            .await?
            .bytes()
            .await?;
        csv_http.push(t.elapsed());
        size = (body.len(), csv.len());
    }
    let entries = s.state.store.ledger_entry_count(scheme).await?;
    println!(
        "statement of a scheme with {entries} entries (medians of 3): first page of {} built in {:.0} ms, every entry built in {:.0} ms (store + core); GET JSON (first page) {:.0} ms ({:.2} MB); GET CSV (every entry, streamed) {:.0} ms ({:.1} MB)",
        ledger_api::DEFAULT_PAGE,
        median(first).as_secs_f64() * 1e3,
        median(whole).as_secs_f64() * 1e3,
        median(json_http).as_secs_f64() * 1e3,
        size.0 as f64 / 1e6,
        median(csv_http).as_secs_f64() * 1e3,
        size.1 as f64 / 1e6
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Res<()> {
    let raw_args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<usize> = raw_args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(100_000);
    let n_single = args.get(1).copied().unwrap_or(300);
    let n_import = args.get(2).copied().unwrap_or(1_000);
    let dir = tempfile::tempdir()?;
    let url = raw_args
        .iter()
        .find(|a| a.contains("://"))
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let s = setup(url).await?;
    println!("backend: {}", s.state.store.backend());

    let fresh = new_scheme(&s, "single, fresh").await?;
    let rate = single(&s, &fresh, n_single, "S").await?;
    println!("single entries over HTTP, fresh scheme: {n_single} in sequence, {rate:.0} entries/s");

    let raw_single = new_scheme(&s, "raw, one per transaction").await?;
    let rate_raw1 = raw(&s, &raw_single, n_single, 1).await?;
    println!(
        "raw inserts, one transaction per entry (event + ledger row + chain head): {n_single} at {rate_raw1:.0} entries/s"
    );

    for prior in [10_000usize, n] {
        let grown = new_scheme(&s, &format!("single, {prior} prior")).await?;
        let built = raw(&s, &grown, prior, 5_000).await?;
        let rate = single(&s, &grown, n_single, &format!("G{prior}")).await?;
        println!(
            "single entries over HTTP on a scheme already holding {prior} entries: {rate:.0} entries/s (the {prior} made by raw inserts in transactions of 5000 at {built:.0} entries/s)"
        );
        if prior == n {
            let rate = import(&s, &grown, n_import).await?;
            println!(
                "import of a {n_import}-row CSV register into that scheme ({} entries already): {rate:.0} rows/s",
                prior + n_single
            );
            statement_times(&s, &grown).await?;
        }
    }

    for rows in [n_import, 10 * n_import] {
        let imported = new_scheme(&s, &format!("import {rows}")).await?;
        let rate = import(&s, &imported, rows).await?;
        println!(
            "import of a {rows}-row CSV register over HTTP into a fresh scheme (one append): {rate:.0} rows/s"
        );
    }

    let big = new_scheme(&s, "raw, one transaction").await?;
    let rate = raw(&s, &big, 10 * n_import, 10 * n_import).await?;
    println!(
        "raw inserts, one transaction ({} entries, state folded and written once): {rate:.0} entries/s",
        10 * n_import
    );

    let report = s.state.store.verify(Some(&s.initiative)).await?;
    println!(
        "verify: {} events on the initiative's chain, {} broken links",
        report.events,
        report.broken.len()
    );
    Ok(())
}
