//! Participatory budgeting rounds (issue 7): their projections (`pb_rounds`
//! holds core's fold of a round, `pb_ballots` one row per ballot) and the
//! reads the web layer needs. Who voted online is kept outside the log in
//! `pb_voters` (salted hashes only), written by `Store::append_with_voter`
//! in the ballot's own transaction.

use saanjh_core::budgeting::RoundState;
use serde::Serialize;

use crate::{Result, Store, StoreError, dispatch};

/// Projects one round event. Called from `project::apply!` (live and
/// rebuild alike). The round's folded state is kept in the append's cache
/// and written once by `flush_rounds!`; each ballot is its own row at once.
macro_rules! apply_round {
    ($tx:expr, $at:expr, $body:expr, $rounds:expr) => {{
        use saanjh_core::event::EventBody as E;
        let tx = $tx;
        let at: &str = $at;
        let body: &E = $body;
        let rounds: &mut std::collections::HashMap<String, $crate::project::CachedRound> = $rounds;
        let round_id = body.round().unwrap_or_default().to_string();
        if !rounds.contains_key(&round_id) {
            let current: Option<(String,)> = sqlx::query_as("SELECT state FROM pb_rounds WHERE id = $1")
                .bind(&round_id).fetch_optional(&mut **tx).await?;
            if let Some((json,)) = current {
                let st = serde_json::from_str::<saanjh_core::budgeting::RoundState>(&json)
                    .map_err(|e| $crate::StoreError::Invalid(format!("round {round_id}: stored state unreadable: {e}")))?;
                rounds.insert(round_id.clone(), $crate::project::CachedRound { state: st, existed: true, at: at.to_string() });
            }
        }
        let (state, existed) = match rounds.remove(&round_id) {
            Some(c) => (Some(c.state), c.existed),
            None => (None, false),
        };
        let next = saanjh_core::budgeting::apply(state, body, at).ok_or_else(|| {
            $crate::StoreError::Invalid(format!("event `{}` names round {round_id}, which does not exist", body.kind()))
        })?;
        rounds.insert(round_id.clone(), $crate::project::CachedRound { state: next, existed, at: at.to_string() });
        if let E::BallotCast { ballot: b, .. } = body {
            let approvals: Vec<String> = b.approvals.iter().map(|n| n.to_string()).collect();
            let (serial, entered_by, voter_id) = match &b.method {
                saanjh_core::budgeting::Method::Online => (None, None, None),
                saanjh_core::budgeting::Method::Paper { serial, entered_by } => (Some(serial.clone()), Some(entered_by.clone()), None),
                saanjh_core::budgeting::Method::Imported { voter_id, .. } => (None, None, Some(voter_id.clone())),
            };
            sqlx::query("INSERT INTO pb_ballots (round_id, number, method, serial, entered_by, voter_id, union_council, approvals, cast_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(&round_id).bind(b.number as i64).bind(b.method.name()).bind(serial).bind(entered_by).bind(voter_id)
                .bind(&b.union_council).bind(approvals.join(",")).bind(at)
                .execute(&mut **tx).await?;
        }
    }};
}
pub(crate) use apply_round;

/// Write each cached round's state once (a new round's row is inserted).
macro_rules! flush_rounds {
    ($tx:expr, $rounds:expr) => {{
        let tx = $tx;
        let rounds: &mut std::collections::HashMap<String, $crate::project::CachedRound> = $rounds;
        for (round_id, c) in rounds.drain() {
            let next = &c.state;
            let at = &c.at;
            let json = serde_json::to_string(next).map_err(|e| $crate::StoreError::Invalid(e.to_string()))?;
            if c.existed {
                sqlx::query("UPDATE pb_rounds SET phase = $1, state = $2, updated_at = $3 WHERE id = $4")
                    .bind(next.phase.as_str()).bind(&json).bind(at).bind(&round_id)
                    .execute(&mut **tx).await?;
            } else {
                let r = &next.record;
                sqlx::query("INSERT INTO pb_rounds (id, name, council_id, district, phase, budget, demo, state, opened_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&r.id).bind(&r.name).bind(&r.council).bind(&r.area.district).bind(next.phase.as_str())
                    .bind(r.budget).bind(r.demo as i64).bind(&json).bind(&next.opened_at).bind(at)
                    .execute(&mut **tx).await?;
            }
        }
    }};
}
pub(crate) use flush_rounds;

/// A round in a list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RoundRow {
    pub id: String,
    pub name: String,
    pub council_id: String,
    pub district: String,
    pub phase: String,
    pub budget: i64,
    pub demo: i64,
    pub opened_at: String,
    pub updated_at: String,
}

/// One ballot as stored (the public part: what it approved and how it came in).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BallotRow {
    pub number: i64,
    pub method: String,
    pub serial: Option<String>,
    pub entered_by: Option<String>,
    pub voter_id: Option<String>,
    pub union_council: Option<String>,
    /// Proposal numbers, comma-separated.
    pub approvals: String,
    pub cast_at: String,
}

impl BallotRow {
    pub fn approval_numbers(&self) -> Vec<u32> {
        self.approvals
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

impl Store {
    pub async fn rounds(&self) -> Result<Vec<RoundRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, name, council_id, district, phase, budget, demo, opened_at, updated_at FROM pb_rounds ORDER BY opened_at DESC, id")
            .fetch_all(pool).await?))
    }

    /// A round's state, folded from its events.
    pub async fn round(&self, id: &str) -> Result<Option<RoundState>> {
        let row: Option<(String,)> = dispatch!(self, pool => sqlx::query_as("SELECT state FROM pb_rounds WHERE id = $1")
            .bind(id).fetch_optional(pool).await?);
        row.map(|(json,)| {
            serde_json::from_str(&json).map_err(|e| {
                StoreError::Invalid(format!("round {id}: stored state unreadable: {e}"))
            })
        })
        .transpose()
    }

    /// Every ballot of a round, in order.
    pub async fn ballots(&self, round: &str) -> Result<Vec<BallotRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT number, method, serial, entered_by, voter_id, union_council, approvals, cast_at FROM pb_ballots WHERE round_id = $1 ORDER BY number")
            .bind(round).fetch_all(pool).await?))
    }

    /// Whether a paper ballot's serial number is already entered in a round.
    pub async fn ballot_serial_used(&self, round: &str, serial: &str) -> Result<bool> {
        let n: (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM pb_ballots WHERE round_id = $1 AND serial = $2")
            .bind(round).bind(serial).fetch_one(pool).await?);
        Ok(n.0 > 0)
    }

    /// Whether a voter hash has voted online in a round.
    pub async fn voter_has_voted(&self, round: &str, voter_hash: &str) -> Result<bool> {
        let n: (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM pb_voters WHERE round_id = $1 AND voter_hash = $2")
            .bind(round).bind(voter_hash).fetch_one(pool).await?);
        Ok(n.0 > 0)
    }

    /// Online voters recorded for a round (a count: nothing else is shown).
    pub async fn online_voter_count(&self, round: &str) -> Result<i64> {
        let n: (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM pb_voters WHERE round_id = $1")
            .bind(round).fetch_one(pool).await?);
        Ok(n.0)
    }

    /// The round's salt for voter hashes, made on first use and kept.
    pub async fn round_salt(&self, round: &str, fresh: &str) -> Result<String> {
        dispatch!(self, pool => {
            sqlx::query("INSERT INTO pb_round_salts (round_id, salt) VALUES ($1, $2) ON CONFLICT (round_id) DO NOTHING")
                .bind(round).bind(fresh).execute(pool).await?;
            let (salt,): (String,) = sqlx::query_as("SELECT salt FROM pb_round_salts WHERE round_id = $1")
                .bind(round).fetch_one(pool).await?;
            Ok(salt)
        })
    }

    /// Initiatives under an arrangement version whose partners are exactly
    /// `partners` (role → organisation), oldest first: where a round's
    /// winner joins the organisations' existing work instead of starting
    /// anew (so rules such as "no new money to a CCB with an unfinished
    /// project" see it).
    pub async fn initiatives_binding(
        &self,
        arrangement: &str,
        version: i64,
        partners: &std::collections::BTreeMap<String, String>,
    ) -> Result<Vec<String>> {
        let ids: Vec<(String,)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT id FROM initiatives WHERE arrangement_id = $1 AND arrangement_version = $2 ORDER BY started_at, id")
            .bind(arrangement).bind(version).fetch_all(pool).await?);
        let mut out = vec![];
        for (id,) in ids {
            if &self.partners(&id).await? == partners {
                out.push(id);
            }
        }
        Ok(out)
    }
}
