//! Kept diagnosis folds (issue 8) and the reads that feed them in bulk.
//!
//! A snapshot is one initiative's diagnosis tracker as text, with the chain
//! position (sequence number and hash) it was folded up to and the
//! arrangement version it was folded under, and beside it the fold's
//! digest (what a diagnosis needs of it, small; migration 0012), which
//! diagnoses of many initiatives read instead of the fold. It is a cache: the web layer
//! serves it only while that position is still on the chain, folds the
//! events after it, and writes a newer one; `rebuild` empties the table.
//! Writing one never touches an event or a projection.
//!
//! The bulk reads (`heads_of`, `events_of_chains`) read many chains in one
//! query each, for the fold of every initiative at once (a comparison of
//! all, QCA, a rebuild) instead of one round trip per initiative.

use std::collections::BTreeMap;

use saanjh_core::event::StoredEvent;

use crate::{EventRow, Result, Store, dispatch};

/// One kept fold, as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DiagnosisSnapshot {
    pub initiative_id: String,
    pub arrangement_id: String,
    pub arrangement_version: i64,
    /// The layout of `state` (`saanjh_core::diagnosis::SNAPSHOT_FORMAT`).
    pub format: i64,
    /// The chain position folded up to.
    pub seq: i64,
    pub hash: String,
    pub state: String,
    /// What a diagnosis needs of the fold
    /// (`saanjh_core::diagnosis::Digest`), when one could be taken.
    pub digest: Option<String>,
}

/// A kept fold's digest with its key, read without the fold itself.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DiagnosisDigest {
    pub initiative_id: String,
    pub arrangement_id: String,
    pub arrangement_version: i64,
    pub format: i64,
    pub seq: i64,
    pub hash: String,
    pub digest: String,
}

/// `$from, $from+1, …` for an `IN (…)` of `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Values bound per `IN (…)` list: under SQLite's default limit of bound
/// parameters (32,766) and PostgreSQL's (65,535) with room to spare.
const IN_BATCH: usize = 500;

impl Store {
    /// The rows `sql` selects for `keys`, where `{in}` in `sql` stands for
    /// the list of keys: one query per `IN_BATCH` keys, rows in query order.
    async fn rows_in<T>(&self, sql: &str, keys: &[String]) -> Result<Vec<T>>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let mut out = vec![];
        for part in keys.chunks(IN_BATCH) {
            let sql = sql.replace("{in}", &placeholders(1, part.len()));
            let rows: Vec<T> = dispatch!(self, pool => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for k in part {
                    q = q.bind(k);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// The kept fold of one initiative, if any.
    pub async fn diagnosis_snapshot(&self, initiative: &str) -> Result<Option<DiagnosisSnapshot>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT initiative_id, arrangement_id, arrangement_version, format, seq, hash, state, digest FROM diagnosis_snapshots WHERE initiative_id = $1")
            .bind(initiative).fetch_optional(pool).await?))
    }

    /// The kept folds of many initiatives (those that have one), by id.
    pub async fn diagnosis_snapshots(
        &self,
        initiatives: &[String],
    ) -> Result<BTreeMap<String, DiagnosisSnapshot>> {
        let rows: Vec<DiagnosisSnapshot> = self
            .rows_in(
                "SELECT initiative_id, arrangement_id, arrangement_version, format, seq, hash, state, digest FROM diagnosis_snapshots WHERE initiative_id IN ({in})",
                initiatives,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.initiative_id.clone(), r))
            .collect())
    }

    /// The digests of many initiatives' kept folds (those that have one),
    /// by id, without the folds: what a diagnosis of many reads first.
    pub async fn diagnosis_digests(
        &self,
        initiatives: &[String],
    ) -> Result<BTreeMap<String, DiagnosisDigest>> {
        let rows: Vec<DiagnosisDigest> = self
            .rows_in(
                "SELECT initiative_id, arrangement_id, arrangement_version, format, seq, hash, digest FROM diagnosis_snapshots WHERE digest IS NOT NULL AND initiative_id IN ({in})",
                initiatives,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.initiative_id.clone(), r))
            .collect())
    }

    /// Keeps folds, in one transaction. A stored fold further along its
    /// chain than the one offered is left as it is (two writers racing
    /// never move a snapshot backwards). Returns how many were written.
    pub async fn put_diagnosis_snapshots(
        &self,
        rows: &[DiagnosisSnapshot],
        at: &str,
    ) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            for r in rows {
                n += sqlx::query(
                    "INSERT INTO diagnosis_snapshots (initiative_id, arrangement_id, arrangement_version, format, seq, hash, state, written_at, digest) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (initiative_id) DO UPDATE SET arrangement_id = excluded.arrangement_id, \
                     arrangement_version = excluded.arrangement_version, format = excluded.format, seq = excluded.seq, \
                     hash = excluded.hash, state = excluded.state, written_at = excluded.written_at, digest = excluded.digest \
                     WHERE diagnosis_snapshots.seq <= excluded.seq \
                     OR diagnosis_snapshots.format <> excluded.format \
                     OR diagnosis_snapshots.arrangement_id <> excluded.arrangement_id \
                     OR diagnosis_snapshots.arrangement_version <> excluded.arrangement_version")
                    .bind(&r.initiative_id).bind(&r.arrangement_id).bind(r.arrangement_version).bind(r.format)
                    .bind(r.seq).bind(&r.hash).bind(&r.state).bind(at).bind(&r.digest)
                    .execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// Drops one kept fold (one that no longer matches its chain).
    pub async fn drop_diagnosis_snapshot(&self, initiative: &str) -> Result<()> {
        dispatch!(self, pool => sqlx::query("DELETE FROM diagnosis_snapshots WHERE initiative_id = $1")
            .bind(initiative).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// How many folds are kept.
    pub async fn diagnosis_snapshot_count(&self) -> Result<i64> {
        let (n,): (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM diagnosis_snapshots")
            .fetch_one(pool).await?);
        Ok(n)
    }

    /// The heads of many chains (a chain with no events is absent).
    pub async fn heads_of(&self, chains: &[String]) -> Result<BTreeMap<String, (i64, String)>> {
        let rows: Vec<(String, i64, String)> = self
            .rows_in(
                "SELECT chain, seq, hash FROM chain_heads WHERE chain IN ({in})",
                chains,
            )
            .await?;
        Ok(rows.into_iter().map(|(c, s, h)| (c, (s, h))).collect())
    }

    /// Every event of several chains, in one query: by chain, then in chain
    /// order. For folding many initiatives at once; callers keep the batch
    /// small enough to hold (a few dozen chains of hundreds of events).
    pub async fn events_of_chains(&self, chains: &[String]) -> Result<Vec<StoredEvent>> {
        let rows: Vec<EventRow> = self
            .rows_in(
                "SELECT chain, seq, at, actor, kind, payload, prev_hash, hash FROM events WHERE chain IN ({in}) ORDER BY chain, seq",
                chains,
            )
            .await?;
        Ok(rows.into_iter().map(EventRow::into_event).collect())
    }

    /// Initiative rows by id (those that exist).
    pub async fn initiatives_by_id(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, crate::InitiativeRow>> {
        let rows: Vec<crate::InitiativeRow> = self
            .rows_in(
                "SELECT id, name, locality, district, arrangement_id, arrangement_version, demo, latitude, longitude, started_at FROM initiatives WHERE id IN ({in})",
                ids,
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
    }

    /// `positions_filled` of many initiatives in one query per batch
    /// (an initiative with no position filled is absent).
    pub async fn positions_filled_of(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, i64>>> {
        let rows: Vec<(String, String, String, i64)> = self
            .rows_in(
                "SELECT ip.initiative_id, ip.role, m.position, COUNT(DISTINCT m.person_id) FROM initiative_partners ip \
                 JOIN memberships m ON m.organisation_id = ip.organisation_id \
                 WHERE ip.initiative_id IN ({in}) AND m.active = 1 GROUP BY ip.initiative_id, ip.role, m.position",
                ids,
            )
            .await?;
        let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (i, r, p, n) in rows {
            out.entry(i).or_default().insert(format!("{r}.{p}"), n);
        }
        Ok(out)
    }

    /// Forgets every kept fold (the next diagnosis of each refolds).
    pub async fn clear_diagnosis_snapshots(&self) -> Result<u64> {
        Ok(
            dispatch!(self, pool => sqlx::query("DELETE FROM diagnosis_snapshots")
            .execute(pool).await?.rows_affected()),
        )
    }
}
