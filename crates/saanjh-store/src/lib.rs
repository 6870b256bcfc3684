//! Persistence for Saanjh: the append-only event log with one hash chain per
//! initiative, and the projection tables rebuilt from it.
//!
//! One `Store` runs on SQLite (the embedded default) or PostgreSQL, chosen by
//! the URL's scheme. SQL is written once with `$n` placeholders, which both
//! accept; each method's body is compiled for both pools by `dispatch!`.
//!
//! Writes go through `append`: the events are sealed onto their chain and
//! every projection they touch is updated in the same transaction, so there
//! is never a projection without its event. Appends are optimistic: the
//! caller says which chain head it decided against, and a moved head is a
//! `Conflict` the caller retries after deciding again.

mod budgeting;
mod evidence;
mod ledger;
mod project;
mod read;
mod reports;
mod snapshots;
mod web;

pub use budgeting::{BallotRow, RoundRow};
pub use evidence::{EvidenceRow, PassageRow};
pub use ledger::{AllocationRow, EntryCursor, EntryPage, EntryScope, Reserve};
pub use read::*;
pub use reports::{
    HeldReportRow, Open311KeyRow, ReportContact, ReportFilter, ReportRow, ReportUpdateRow,
};
pub use snapshots::{DiagnosisDigest, DiagnosisSnapshot};
pub use web::PhotoRow;

use std::str::FromStr;
use std::sync::Arc;

use saanjh_core::event::{EventBody, GENESIS, StoredEvent, verify_chain};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the chain `{0}` moved on while this act was being decided; decide again")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// A one-per-round key (an online voter) was used already; nothing written.
    #[error("{0}")]
    Duplicate(String),
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://…")]
    Url(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A private row written in the same transaction as the events it belongs
/// to (`Store::append_with`) but never part of them: not hashed, not
/// public, not rebuilt (a rebuild keeps it, since it is no projection).
#[derive(Debug, Clone)]
pub enum SideRow {
    /// A reporter's contact details, keyed by the report (or held report's
    /// token) they came with; `via` is the API key's id, or `web` for the
    /// public form.
    ReportContact {
        report: String,
        contact: ReportContact,
        via: String,
    },
    /// A held report's contact (kept under its token) now belongs to the
    /// report it was routed as.
    ContactRouted { token: String, report: String },
    /// A resident has voted online in a budgeting round (issue 7): only a
    /// salted hash of their CNIC, and no link to the ballot. Written
    /// insert-or-nothing: if the hash has voted already, the whole append
    /// is refused as `Duplicate`.
    Voter { round: String, hash: String },
}

/// One chain's share of `Store::append_chains`: the events, decided
/// against the chain's head `expected_seq`, by `actor`.
#[derive(Debug, Clone, Copy)]
pub struct ChainAppend<'a> {
    pub chain: &'a str,
    pub expected_seq: i64,
    pub actor: &'a str,
    pub bodies: &'a [EventBody],
}

/// A connection to the database.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqlitePool, Arc<Mutex<()>>),
    Postgres(PgPool),
}

/// Run `$body` with `$pool` bound to whichever pool this store has. The body
/// is compiled once per backend.
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite($pool, _) => $body,
            $crate::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use dispatch;

impl Store {
    /// Connect, creating an SQLite file if it does not exist, and bring the
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<Store> {
        let store = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged write survives power loss, not just a crash.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(std::time::Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Store::Sqlite(pool, Arc::new(Mutex::new(())))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Store::Postgres(pool)
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        Ok(store)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(..) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The sequence number and hash of a chain's last event (0 and the
    /// genesis hash for a chain with no events).
    pub async fn head(&self, chain: &str) -> Result<(i64, String)> {
        let row: Option<(i64, String)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT seq, hash FROM chain_heads WHERE chain = $1").bind(chain).fetch_optional(pool).await?
        });
        Ok(row.unwrap_or((0, GENESIS.to_string())))
    }

    /// Append events to `chain`, decided against head `expected_seq`, and
    /// update the projections, all in one transaction.
    pub async fn append(
        &self,
        chain: &str,
        expected_seq: i64,
        actor: &str,
        at: &str,
        bodies: &[EventBody],
    ) -> Result<Vec<StoredEvent>> {
        self.append_with(chain, expected_seq, actor, at, bodies, &[])
            .await
    }

    /// `append`, also writing private rows that belong with the events but
    /// must never be part of the public log (a reporter's contact details)
    /// in the same transaction: both are written, or neither.
    pub async fn append_with(
        &self,
        chain: &str,
        expected_seq: i64,
        actor: &str,
        at: &str,
        bodies: &[EventBody],
        side: &[SideRow],
    ) -> Result<Vec<StoredEvent>> {
        if bodies.is_empty() {
            if side.is_empty() {
                return Ok(vec![]);
            }
            return Err(StoreError::Invalid(
                "private rows are only written with the events they belong to".into(),
            ));
        }
        let part = ChainAppend {
            chain,
            expected_seq,
            actor,
            bodies,
        };
        let mut sealed = self.append_chains(at, &[part], side).await?;
        Ok(sealed.pop().unwrap_or_default())
    }

    /// Append to several chains in one transaction: every part is sealed
    /// onto its chain (each decided against its own head) and projected, or
    /// nothing is. For an act that belongs on two chains at once, such as a
    /// budgeting round's winner becoming a scheme on its initiative's chain
    /// while the round records which scheme it became. Chain heads are
    /// locked in name order, so two such appends cannot deadlock.
    pub async fn append_chains(
        &self,
        at: &str,
        parts: &[ChainAppend<'_>],
        side: &[SideRow],
    ) -> Result<Vec<Vec<StoredEvent>>> {
        let mut names: Vec<&str> = parts.iter().map(|p| p.chain).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() != parts.len() {
            return Err(StoreError::Invalid(
                "a chain appears twice in one append".into(),
            ));
        }
        if parts.iter().any(|p| p.bodies.is_empty()) {
            return Err(StoreError::Invalid(
                "each chain of an append has at least one event".into(),
            ));
        }
        let _guard = match self {
            Store::Sqlite(_, lock) => Some(lock.lock().await),
            Store::Postgres(_) => None,
        };
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            let lock_sql = if matches!(self, Store::Postgres(_)) {
                "SELECT seq, hash FROM chain_heads WHERE chain = $1 FOR UPDATE"
            } else {
                "SELECT seq, hash FROM chain_heads WHERE chain = $1"
            };
            let mut heads: std::collections::HashMap<&str, (i64, String)> = std::collections::HashMap::new();
            for chain in &names {
                sqlx::query("INSERT INTO chain_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
                    .bind(*chain)
                    .bind(GENESIS)
                    .execute(&mut *tx)
                    .await?;
                let head: (i64, String) = sqlx::query_as(lock_sql).bind(*chain).fetch_one(&mut *tx).await?;
                heads.insert(chain, head);
            }
            for part in parts {
                if heads.get(part.chain).map(|h| h.0) != Some(part.expected_seq) {
                    return Err(StoreError::Conflict(part.chain.to_string()));
                }
            }
            let mut schemes = project::SchemeCache::new();
            let mut all_sealed = Vec::with_capacity(parts.len());
            for part in parts {
                let chain = part.chain;
                let (mut seq, mut prev) = heads.remove(chain).unwrap_or((0, GENESIS.to_string()));
                let mut sealed = Vec::with_capacity(part.bodies.len());
                for body in part.bodies {
                    seq += 1;
                    let e = StoredEvent::seal(chain, seq, at, part.actor, body, &prev);
                    sqlx::query("INSERT INTO events (chain, seq, at, actor, kind, payload, prev_hash, hash, scheme_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                        .bind(&e.chain)
                        .bind(e.seq)
                        .bind(&e.at)
                        .bind(&e.actor)
                        .bind(&e.kind)
                        .bind(&e.payload)
                        .bind(&e.prev_hash)
                        .bind(&e.hash)
                        .bind(body.scheme())
                        .execute(&mut *tx)
                        .await?;
                    project::apply!(&mut tx, chain, at, body, &mut schemes);
                    prev = e.hash.clone();
                    sealed.push(e);
                }
                sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE chain = $3").bind(seq).bind(&prev).bind(chain).execute(&mut *tx).await?;
                all_sealed.push(sealed);
            }
            // Each scheme (and round) the events touched is written once.
            project::flush!(&mut tx, &mut schemes);
            for row in side {
                match row {
                    SideRow::ReportContact { report, contact: c, via } => {
                        sqlx::query("INSERT INTO report_contacts (report_id, email, first_name, last_name, phone, device_id, account_id, api_key_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                            .bind(report).bind(&c.email).bind(&c.first_name).bind(&c.last_name).bind(&c.phone).bind(&c.device_id).bind(&c.account_id).bind(via).bind(at)
                            .execute(&mut *tx).await?;
                    }
                    SideRow::ContactRouted { token, report } => {
                        sqlx::query("UPDATE report_contacts SET report_id = $1 WHERE report_id = $2")
                            .bind(report).bind(token)
                            .execute(&mut *tx).await?;
                    }
                    SideRow::Voter { round, hash } => {
                        let done = sqlx::query("INSERT INTO pb_voters (round_id, voter_hash, voted_at) VALUES ($1, $2, $3) ON CONFLICT (round_id, voter_hash) DO NOTHING")
                            .bind(round).bind(hash).bind(at).execute(&mut *tx).await?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::Duplicate("this resident has already voted in this round".into()));
                        }
                    }
                }
            }
            tx.commit().await?;
            Ok(all_sealed)
        })
    }

    /// All chains with their event counts.
    pub async fn chains(&self) -> Result<Vec<(String, i64)>> {
        Ok(dispatch!(self, pool => {
            sqlx::query_as("SELECT chain, seq FROM chain_heads ORDER BY chain").fetch_all(pool).await?
        }))
    }

    /// Events of a chain in order, from `after_seq`, at most `limit`.
    pub async fn chain_events(
        &self,
        chain: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>> {
        let rows: Vec<EventRow> = dispatch!(self, pool => {
            sqlx::query_as("SELECT chain, seq, at, actor, kind, payload, prev_hash, hash FROM events WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                .bind(chain).bind(after_seq).bind(limit).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(EventRow::into_event).collect())
    }

    /// Recompute the hash chains (all, or one) and report the first broken
    /// link of each broken chain. Returns events checked.
    pub async fn verify(&self, only: Option<&str>) -> Result<VerifyReport> {
        let chains: Vec<String> = match only {
            Some(c) => vec![c.to_string()],
            None => self.chains().await?.into_iter().map(|(c, _)| c).collect(),
        };
        let mut report = VerifyReport::default();
        for chain in chains {
            // Verify in pages so a long chain never sits in memory at once.
            let mut after = 0;
            let mut prev_tail: Option<StoredEvent> = None;
            loop {
                let page = self.chain_events(&chain, after, 5_000).await?;
                if page.is_empty() {
                    break;
                }
                let with_tail: Vec<&StoredEvent> = prev_tail.iter().chain(page.iter()).collect();
                let start_seq = with_tail.first().map(|e| e.seq).unwrap_or(1);
                let result = if start_seq == 1 {
                    verify_chain(with_tail.iter().copied())
                } else {
                    verify_from(with_tail.iter().copied())
                };
                match result {
                    Ok(_) => {}
                    Err(b) => {
                        report.broken.push(b);
                        break;
                    }
                }
                report.events += page.len() as u64;
                after = page.last().map(|e| e.seq).unwrap_or(after);
                prev_tail = page.last().cloned();
            }
            // A head that disagrees with the last event means events were removed.
            let (head_seq, head_hash) = self.head(&chain).await?;
            if report.broken.iter().all(|b| b.chain != chain) {
                let last = prev_tail
                    .as_ref()
                    .map(|e| (e.seq, e.hash.clone()))
                    .unwrap_or((0, GENESIS.to_string()));
                if last != (head_seq, head_hash) {
                    report.broken.push(saanjh_core::event::BrokenLink {
                        chain: chain.clone(),
                        seq: last.0 + 1,
                        reason: format!("the chain's head says {head_seq} events, but the log ends at {}: events are missing", last.0),
                    });
                }
            }
            report.chains += 1;
        }
        Ok(report)
    }

    /// Recompute every projection from the events, in one transaction.
    pub async fn rebuild(&self) -> Result<u64> {
        let _guard = match self {
            Store::Sqlite(_, lock) => Some(lock.lock().await),
            Store::Postgres(_) => None,
        };
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            for table in project::PROJECTIONS {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
            }
            // Kept diagnosis folds are a cache of the events, not a
            // projection: emptied here, refilled by the web layer's fold.
            sqlx::query("DELETE FROM diagnosis_snapshots").execute(&mut *tx).await?;
            let mut last_id: i64 = 0;
            let mut n = 0u64;
            loop {
                let rows: Vec<(i64, String, String, String)> = sqlx::query_as("SELECT id, chain, at, payload FROM events WHERE id > $1 ORDER BY id LIMIT 5000")
                    .bind(last_id)
                    .fetch_all(&mut *tx)
                    .await?;
                if rows.is_empty() {
                    break;
                }
                let mut schemes = project::SchemeCache::new();
                for (id, chain, at, payload) in rows {
                    let body: EventBody = serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Invalid(format!("event {id} on `{chain}` cannot be read: {e}")))?;
                    project::apply!(&mut tx, &chain, &at, &body, &mut schemes);
                    last_id = id;
                    n += 1;
                }
                project::flush!(&mut tx, &mut schemes);
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Every projection table's rows, as text, in a fixed order: what a
    /// rebuild must reproduce exactly.
    pub async fn projection_dump(&self) -> Result<Vec<String>> {
        use sqlx::Row;
        let mut out = vec![];
        for (table, cols, order) in project::PROJECTION_COLUMNS {
            let select: Vec<String> = cols.iter().map(|c| format!("CAST({c} AS TEXT)")).collect();
            let sql = format!("SELECT {} FROM {table} ORDER BY {order}", select.join(", "));
            dispatch!(self, pool => {
                for row in sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await? {
                    let mut fields = vec![];
                    for i in 0..cols.len() {
                        fields.push(row.try_get::<Option<String>, _>(i)?.unwrap_or_else(|| "NULL".into()));
                    }
                    out.push(format!("{table}: {}", fields.join(" | ")));
                }
            });
        }
        Ok(out)
    }
}

/// Like `verify_chain` but for a page that starts mid-chain.
fn verify_from<'a>(
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> std::result::Result<u64, saanjh_core::event::BrokenLink> {
    let mut iter = events.into_iter().peekable();
    let Some(first) = iter.next() else {
        return Ok(0);
    };
    let mut prev = first.hash.clone();
    let mut n = 0;
    for (expected, e) in (first.seq + 1..).zip(iter) {
        let broken = |reason: String| saanjh_core::event::BrokenLink {
            chain: e.chain.clone(),
            seq: e.seq,
            reason,
        };
        if e.seq != expected {
            return Err(broken(format!(
                "expected event number {expected}, found {}: an event is missing or was inserted",
                e.seq
            )));
        }
        if e.prev_hash != prev {
            return Err(broken(
                "its link to the previous event does not match that event's hash".into(),
            ));
        }
        let h = saanjh_core::event::event_hash(
            &e.chain,
            e.seq,
            &e.at,
            &e.actor,
            &e.kind,
            &e.payload,
            &e.prev_hash,
        );
        if h != e.hash {
            return Err(broken(
                "its contents do not match its hash: the event was changed after it was written"
                    .into(),
            ));
        }
        prev = e.hash.clone();
        n += 1;
    }
    Ok(n)
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub chains: u64,
    pub events: u64,
    pub broken: Vec<saanjh_core::event::BrokenLink>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    chain: String,
    seq: i64,
    at: String,
    actor: String,
    kind: String,
    payload: String,
    prev_hash: String,
    hash: String,
}

impl EventRow {
    fn into_event(self) -> StoredEvent {
        StoredEvent {
            chain: self.chain,
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            kind: self.kind,
            payload: self.payload,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}
