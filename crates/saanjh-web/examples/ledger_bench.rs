//! Ledger benchmarks (issue 3), on a fresh SQLite file (WAL,
//! synchronous=FULL, as `saanjh serve` runs it):
//!
//! 1. single entries through the JSON API: sequential `POST
//!    /schemes/{id}/acts`, on a fresh scheme and on one that already holds
//!    many entries;
//! 2. the batch path: a CSV register through `POST
//!    /initiatives/{id}/ledger/import` (one append);
//! 3. raw inserts into the same store: sealed `ledger_entry_posted` events
//!    and their `ledger_entries` rows written with plain SQL in one
//!    transaction — no rules, no decisions, no scheme-state fold per event;
//! 4. the statement of a scheme with N entries (made by 3): built in the
//!    store and core, and end to end over HTTP as JSON and CSV.
//!
//! `cargo run --release -p saanjh-web --example ledger_bench -- [N] [SINGLE] [IMPORT]`
//! (defaults 100000 500 1000), or `bash bench/ledger/run.sh`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use saanjh_core::engine::{self, Act};
use saanjh_core::event::{EventBody, StoredEvent};
use saanjh_core::ledger::LedgerLine;
use saanjh_core::ledger::statement::Viewer;
use saanjh_core::model::{Gender, OrgKind};
use saanjh_store::Store;
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
    url: String,
}

async fn setup(dir: &std::path::Path) -> Res<Setup> {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
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
        url,
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

/// Raw inserts: `n` sealed events and their `ledger_entries` rows in one
/// transaction with plain SQL, then the scheme's folded state written once.
/// Entries per second (the fold and the state write are timed too).
async fn raw(s: &Setup, scheme: &str, n: usize) -> Res<f64> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            s.url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()?
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full),
        )
        .await?;
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
    let mut tx = pool.begin().await?;
    for i in 0..n {
        let entry = format!("{scheme}-e{}", st.counter + 1);
        let line = LedgerLine {
            kind: "contribution".into(),
            role: "community".into(),
            amount: 150_000,
            means: Default::default(),
            quantity: None,
            rate: None,
            household: None,
            receipt: Some(format!("RAW-{i}")),
            component: None,
            payee: None,
            purpose: None,
            reverses: None,
            on: None,
        };
        let body = EventBody::LedgerEntryPosted {
            entry: entry.clone(),
            scheme: scheme.to_string(),
            line,
        };
        seq += 1;
        let e = StoredEvent::seal(&s.initiative, seq, &at, &s.treasurer, &body, &prev);
        sqlx::query("INSERT INTO events (chain, seq, at, actor, kind, payload, prev_hash, hash, scheme_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&e.chain)
            .bind(e.seq)
            .bind(&e.at)
            .bind(&e.actor)
            .bind(&e.kind)
            .bind(&e.payload)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(scheme)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO ledger_entries (id, n, initiative_id, scheme_id, organisation_id, posted_at, on_date, fy, kind, effect_kind, role, amount, signed_amount, means, receipt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, '2025-26', 'contribution', 'contribution', 'community', 150000, 150000, 'cash', $8)",
        )
        .bind(&entry)
        .bind(st.counter + 1)
        .bind(&s.initiative)
        .bind(scheme)
        .bind(&org)
        .bind(&at)
        .bind(&at[..10])
        .bind(format!("RAW-{i}"))
        .execute(&mut *tx)
        .await?;
        prev = e.hash;
        st = engine::apply(Some(st), &body, &at).ok_or("fold")?;
    }
    let json = serde_json::to_string(&st)?;
    sqlx::query("UPDATE schemes SET state = $1, updated_at = $2 WHERE id = $3")
        .bind(&json)
        .bind(&at)
        .bind(scheme)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE chain = $3")
        .bind(seq)
        .bind(&prev)
        .bind(&s.initiative)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn statement_times(s: &Setup, scheme: &str) -> Res<()> {
    let mut build = vec![];
    let mut json_http = vec![];
    let mut csv_http = vec![];
    let mut size = (0, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let st = ledger_api::statement_for(&s.state, scheme, &Viewer::Public)
            .await
            .map_err(|e| e.to_string())?;
        build.push(t.elapsed());
        assert!(st.totals.entries > 0);
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
        "statement of a scheme with {entries} entries: built in {:.0} ms (store + core); GET JSON {:.0} ms ({:.1} MB), GET CSV {:.0} ms ({:.1} MB) — medians of 3",
        median(build).as_secs_f64() * 1e3,
        median(json_http).as_secs_f64() * 1e3,
        size.0 as f64 / 1e6,
        median(csv_http).as_secs_f64() * 1e3,
        size.1 as f64 / 1e6
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Res<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(100_000);
    let n_single = args.get(1).copied().unwrap_or(500);
    let n_import = args.get(2).copied().unwrap_or(1_000);
    let dir = tempfile::tempdir()?;
    let s = setup(dir.path()).await?;

    let fresh = new_scheme(&s, "single, fresh").await?;
    let rate = single(&s, &fresh, n_single, "S").await?;
    println!("single entries over HTTP, fresh scheme: {n_single} in sequence, {rate:.0} entries/s");

    let imported = new_scheme(&s, "import").await?;
    let rate = import(&s, &imported, n_import).await?;
    println!("import of a {n_import}-row CSV register over HTTP (one append): {rate:.0} rows/s");

    let big = new_scheme(&s, "raw").await?;
    let rate = raw(&s, &big, n).await?;
    println!(
        "raw inserts (sealed events + ledger_entries rows, one transaction, state folded once): {n} at {rate:.0} entries/s"
    );

    statement_times(&s, &big).await?;

    let grown = new_scheme(&s, "single, grown").await?;
    raw(&s, &grown, 10_000).await?;
    let rate = single(&s, &grown, 100, "G").await?;
    println!(
        "single entries over HTTP on a scheme already holding 10000 entries: {rate:.1} entries/s"
    );

    let report = s.state.store.verify(Some(&s.initiative)).await?;
    println!(
        "verify: {} events on the initiative's chain, {} broken links",
        report.events,
        report.broken.len()
    );
    Ok(())
}
