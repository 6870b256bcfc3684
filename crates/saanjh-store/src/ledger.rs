//! Reading the ledger's projections: what statements, the budget side and
//! the engine's entry checks need, each one indexed query rather than a
//! replay of the log, so that a scheme with 100,000 entries still answers
//! quickly. The rows are written by `project.rs` from the
//! `ledger_entry_posted` and `allocation_set` events.

use std::collections::{BTreeMap, BTreeSet};

use saanjh_core::arrangement::Arrangement;
use saanjh_core::ledger::budget::{self, FinancialYear, YearFigures, YearMovements};
use saanjh_core::ledger::figures::HouseholdRef;
use saanjh_core::ledger::statement::{PostedEntry, SchemeLedger};
use saanjh_core::ledger::{InitiativeLedger, LedgerLine, Means, parse_date};
use saanjh_core::model::Component;
use serde::Serialize;

use crate::{Result, Store, StoreError, dispatch};

/// The number at the end of an entry id (`…-e12` → 12): posting order
/// within a scheme.
pub(crate) fn entry_number(id: &str) -> i64 {
    id.rsplit('-')
        .next()
        .map(|t| t.trim_start_matches(|c: char| c.is_ascii_alphabetic()))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub(crate) fn means_text(m: Means) -> &'static str {
    match m {
        Means::Cash => "cash",
        Means::Labour => "labour",
        Means::Materials => "materials",
    }
}

fn means_of(s: &str) -> Means {
    match s {
        "labour" => Means::Labour,
        "materials" => Means::Materials,
        _ => Means::Cash,
    }
}

/// The financial year of a `YYYY-MM-DD` date ("" when it is not one).
pub(crate) fn fy_of(date: &str) -> String {
    parse_date(date)
        .map(|d| FinancialYear::of(d).to_string())
        .unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    scheme_id: String,
    posted_at: String,
    kind: String,
    role: String,
    amount: i64,
    means: String,
    quantity: Option<i64>,
    rate: Option<i64>,
    household: Option<String>,
    receipt: Option<String>,
    component: Option<String>,
    payee: Option<String>,
    purpose: Option<String>,
    reverses: Option<String>,
    on_date: String,
}

impl EntryRow {
    fn into_posted(self) -> PostedEntry {
        // `on` is stored resolved; give it back only where it differs from
        // the posting day, as the entry itself did.
        let on = (self.posted_at.get(..10) != Some(self.on_date.as_str())).then_some(self.on_date);
        PostedEntry {
            id: self.id,
            scheme: self.scheme_id,
            posted_at: self.posted_at,
            line: LedgerLine {
                kind: self.kind,
                role: self.role,
                amount: self.amount,
                means: means_of(&self.means),
                quantity: self.quantity,
                rate: self.rate,
                household: self.household,
                receipt: self.receipt,
                component: self.component,
                payee: self.payee,
                purpose: self.purpose,
                reverses: self.reverses,
                on,
            },
        }
    }
}

const ENTRY_COLUMNS: &str = "id, scheme_id, posted_at, kind, role, amount, means, quantity, rate, household, receipt, component, payee, purpose, reverses, on_date";

/// The part of a stored scheme state a statement needs. Deserialising only
/// these fields skips the (possibly long) ledger map without building it.
#[derive(serde::Deserialize)]
struct SchemeHead {
    name: String,
    stage: String,
    components: Vec<Component>,
}

/// An allocation as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AllocationRow {
    pub organisation_id: String,
    pub arrangement_id: String,
    pub year: String,
    pub amount: i64,
    pub development_budget: Option<i64>,
    pub note: Option<String>,
    pub set_at: String,
}

/// One public organisation's reserve under an arrangement, year by year.
#[derive(Debug, Clone, Serialize)]
pub struct Reserve {
    pub organisation_id: String,
    pub arrangement_id: String,
    pub role: String,
    pub lapses: bool,
    /// Whether any allocation is on record. Without one the budget side is
    /// not tracked, and releases are not limited by it (a council that
    /// records no budget in Saanjh still records its releases).
    pub tracked: bool,
    pub years: Vec<YearFigures>,
}

impl Store {
    /// Everything a statement needs about one scheme, and its initiative.
    pub async fn scheme_ledger(&self, scheme: &str) -> Result<Option<(String, SchemeLedger)>> {
        let row: Option<(String, String)> = dispatch!(self, pool => sqlx::query_as("SELECT initiative_id, state FROM schemes WHERE id = $1").bind(scheme).fetch_optional(pool).await?);
        let Some((initiative, state)) = row else {
            return Ok(None);
        };
        let head: SchemeHead = serde_json::from_str(&state).map_err(|e| {
            StoreError::Invalid(format!("scheme {scheme}: stored state unreadable: {e}"))
        })?;
        let households = self.household_refs(scheme).await?;
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE scheme_id = $1 ORDER BY n, id"
        );
        let entries: Vec<EntryRow> = dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(scheme).fetch_all(pool).await?);
        Ok(Some((
            initiative,
            SchemeLedger {
                id: scheme.to_string(),
                name: head.name,
                stage: head.stage,
                components: head.components,
                households,
                entries: entries.into_iter().map(EntryRow::into_posted).collect(),
            },
        )))
    }

    /// A statement's inputs for a scheme whose state the caller has already
    /// read (the scheme page): households and entries only, two queries.
    pub async fn ledger_of(
        &self,
        scheme: &str,
        name: &str,
        stage: &str,
        components: &[Component],
    ) -> Result<SchemeLedger> {
        let households = self.household_refs(scheme).await?;
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE scheme_id = $1 ORDER BY n, id"
        );
        let entries: Vec<EntryRow> = dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(scheme).fetch_all(pool).await?);
        Ok(SchemeLedger {
            id: scheme.to_string(),
            name: name.to_string(),
            stage: stage.to_string(),
            components: components.to_vec(),
            households,
            entries: entries.into_iter().map(EntryRow::into_posted).collect(),
        })
    }

    /// Every scheme of an initiative, ready for its statement.
    pub async fn initiative_ledgers(&self, initiative: &str) -> Result<Vec<SchemeLedger>> {
        let ids: Vec<(String,)> = dispatch!(self, pool => sqlx::query_as("SELECT id FROM schemes WHERE initiative_id = $1 ORDER BY created_at, id").bind(initiative).fetch_all(pool).await?);
        let mut out = vec![];
        for (id,) in ids {
            if let Some((_, l)) = self.scheme_ledger(&id).await? {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// Receipt numbers of unreversed entries in an initiative — all of them,
    /// or only those among `only` (what one act or one file names).
    pub async fn live_receipts(
        &self,
        initiative: &str,
        only: Option<&[String]>,
    ) -> Result<BTreeSet<String>> {
        let base = "SELECT e.receipt FROM ledger_entries e WHERE e.initiative_id = $1 AND e.receipt IS NOT NULL \
                    AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses = e.id)";
        let rows: Vec<(String,)> = match only {
            None => {
                dispatch!(self, pool => sqlx::query_as(base).bind(initiative).fetch_all(pool).await?)
            }
            Some([]) => vec![],
            Some(list) => {
                let mut rows = vec![];
                for r in list {
                    let sql = format!("{base} AND e.receipt = $2");
                    let found: Vec<(String,)> = dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(initiative).bind(r).fetch_all(pool).await?);
                    rows.extend(found);
                }
                rows
            }
        };
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// What the engine checks a ledger entry against beyond its scheme:
    /// receipts already used in the initiative (only those in `receipts`
    /// when given) and, where the arrangement declares a reserve, the room
    /// left in it for each financial year — once any allocation is on
    /// record (before that, releases are recorded but not limited).
    pub async fn initiative_ledger(
        &self,
        initiative: &str,
        arr: &Arrangement,
        today: time::Date,
        receipts: Option<&[String]>,
    ) -> Result<InitiativeLedger> {
        let mut out = InitiativeLedger {
            receipts: self.live_receipts(initiative, receipts).await?,
            ..Default::default()
        };
        if let Some(r) = self.reserve_of(initiative, arr, today).await?
            && r.tracked
        {
            out.release_room
                .insert(r.role.clone(), budget::release_room(&r.years));
        }
        Ok(out)
    }

    /// The reserve behind an initiative's releases: the organisation bound
    /// to the arrangement's `[reserve] held_by` role, its allocations under
    /// this arrangement and its releases and pledges across all the
    /// initiatives it funds under it. `None` when the arrangement declares
    /// no reserve or the role is not bound.
    pub async fn reserve_of(
        &self,
        initiative: &str,
        arr: &Arrangement,
        today: time::Date,
    ) -> Result<Option<Reserve>> {
        let Some(rule) = &arr.file.reserve else {
            return Ok(None);
        };
        let role = rule.held_by.as_ref();
        let Some(org) = self.partners(initiative).await?.remove(role) else {
            return Ok(None);
        };
        let earmark = rule
            .share_of_development_budget
            .as_ref()
            .and_then(|s| saanjh_core::arrangement::parse_percent(s.as_ref()).ok());
        let years = self
            .reserve_years(
                &org,
                arr.id(),
                role,
                rule.lapses,
                earmark,
                FinancialYear::of(today),
            )
            .await?;
        let tracked = !self
            .allocations(Some(&org), Some(arr.id()))
            .await?
            .is_empty();
        Ok(Some(Reserve {
            organisation_id: org,
            arrangement_id: arr.id().to_string(),
            role: role.to_string(),
            lapses: rule.lapses,
            tracked,
            years,
        }))
    }

    /// A reserve's years from its allocations and the movements booked by
    /// `role` for `organisation` in initiatives under `arrangement`.
    pub async fn reserve_years(
        &self,
        organisation: &str,
        arrangement: &str,
        role: &str,
        lapses: bool,
        earmark_bp: Option<u32>,
        current: FinancialYear,
    ) -> Result<Vec<YearFigures>> {
        let mut m: BTreeMap<FinancialYear, YearMovements> = BTreeMap::new();
        for a in self
            .allocations(Some(organisation), Some(arrangement))
            .await?
        {
            let y = FinancialYear::parse(&a.year).map_err(StoreError::Invalid)?;
            let e = m.entry(y).or_default();
            e.allocated = a.amount;
            e.development_budget = a.development_budget;
        }
        let rows: Vec<(String, String, i64)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT e.fy, e.effect_kind, CAST(CAST(SUM(e.signed_amount) AS BIGINT) AS BIGINT) FROM ledger_entries e JOIN initiatives i ON i.id = e.initiative_id \
             WHERE e.organisation_id = $1 AND e.role = $2 AND i.arrangement_id = $3 AND e.effect_kind IN ('release', 'pledge') AND e.fy <> '' \
             GROUP BY e.fy, e.effect_kind")
            .bind(organisation).bind(role).bind(arrangement).fetch_all(pool).await?);
        for (fy, kind, sum) in rows {
            let y = FinancialYear::parse(&fy).map_err(StoreError::Invalid)?;
            let e = m.entry(y).or_default();
            if kind == "release" {
                e.released += sum;
            } else {
                e.committed += sum;
            }
        }
        Ok(budget::years(&m, lapses, earmark_bp, current))
    }

    pub async fn allocations(
        &self,
        organisation: Option<&str>,
        arrangement: Option<&str>,
    ) -> Result<Vec<AllocationRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT organisation_id, arrangement_id, year, amount, development_budget, note, set_at FROM allocations \
             WHERE ($1 IS NULL OR organisation_id = $1) AND ($2 IS NULL OR arrangement_id = $2) ORDER BY organisation_id, arrangement_id, year")
            .bind(organisation).bind(arrangement).fetch_all(pool).await?))
    }

    /// A scheme's household register, in registration order.
    pub async fn household_refs(&self, scheme: &str) -> Result<Vec<HouseholdRef>> {
        let rows: Vec<(String, String, Option<String>)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT id, house, head FROM households WHERE scheme_id = $1 ORDER BY registered_at, id").bind(scheme).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(id, house, head)| HouseholdRef { id, house, head })
            .collect())
    }

    /// How many ledger entries a scheme has.
    pub async fn ledger_entry_count(&self, scheme: &str) -> Result<i64> {
        let n: (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM ledger_entries WHERE scheme_id = $1").bind(scheme).fetch_one(pool).await?);
        Ok(n.0)
    }
}
