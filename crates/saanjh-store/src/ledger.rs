//! Reading the ledger's projections: what statements, the budget side and
//! the engine's entry checks need, each one indexed query rather than a
//! replay of the log, so that a scheme with 100,000 entries still answers
//! quickly. The rows are written by `project.rs` from the
//! `ledger_entry_posted` and `allocation_set` events.

use std::collections::{BTreeMap, BTreeSet};

use saanjh_core::arrangement::Arrangement;
use saanjh_core::engine::SchemeState;
use saanjh_core::ledger::budget::{self, FinancialYear, YearFigures, YearMovements};
use saanjh_core::ledger::figures::HouseholdRef;
use saanjh_core::ledger::statement::{PostedEntry, SchemeLedger};
use saanjh_core::ledger::{Books, InitiativeLedger, KnownEntry, LedgerLine, Means, parse_date};
use saanjh_core::model::Component;
use serde::Serialize;

use crate::{Result, Store, StoreError, dispatch};

/// The number at the end of an entry id (`…-e12` → 12): posting order
/// within a scheme.
pub(crate) fn entry_number(id: &str) -> i64 {
    saanjh_core::ledger::statement::entry_number(id)
}

pub(crate) fn means_text(m: Means) -> &'static str {
    match m {
        Means::Cash => "cash",
        Means::Labour => "labour",
        Means::Materials => "materials",
    }
}

pub(crate) fn means_of(s: &str) -> Means {
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
    effect_kind: String,
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
    n: i64,
    reversed_by: Option<String>,
}

impl EntryRow {
    fn into_posted(self) -> PostedEntry {
        // `on` is stored resolved; give it back only where it differs from
        // the posting day, as the entry itself did.
        let on = (self.posted_at.get(..10) != Some(self.on_date.as_str())).then_some(self.on_date);
        // The row's effect kind is what a reversal cancels.
        let reversed_kind = (self.kind == "reversal").then_some(self.effect_kind);
        PostedEntry {
            id: self.id,
            scheme: self.scheme_id,
            posted_at: self.posted_at,
            reversed_by: self.reversed_by,
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
                reversed_kind,
            },
        }
    }

    fn cursor(&self) -> EntryCursor {
        EntryCursor {
            on_date: self.on_date.clone(),
            posted_at: self.posted_at.clone(),
            scheme_id: self.scheme_id.clone(),
            n: self.n,
        }
    }
}

const ENTRY_COLUMNS: &str = "e.id, e.scheme_id, e.posted_at, e.kind, e.effect_kind, e.role, e.amount, e.means, e.quantity, e.rate, e.household, e.receipt, e.component, e.payee, e.purpose, e.reverses, e.on_date, e.n, \
    (SELECT r.id FROM ledger_entries r WHERE r.reverses = e.id LIMIT 1) AS reversed_by";

/// Where a page of a statement's entries starts: just after the entry with
/// these keys, in statement order (the day it happened, then posting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryCursor {
    pub on_date: String,
    pub posted_at: String,
    pub scheme_id: String,
    pub n: i64,
}

impl EntryCursor {
    /// An opaque token for a URL.
    pub fn encode(&self) -> String {
        hex::encode(format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.on_date, self.posted_at, self.scheme_id, self.n
        ))
    }

    pub fn decode(token: &str) -> Option<EntryCursor> {
        let bytes = hex::decode(token.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('\u{1f}');
        let c = EntryCursor {
            on_date: parts.next()?.to_string(),
            posted_at: parts.next()?.to_string(),
            scheme_id: parts.next()?.to_string(),
            n: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(c)
    }
}

/// Which entries of a statement to read: after `after`, at most `limit`
/// (all when `None`).
#[derive(Debug, Clone, Default)]
pub struct EntryPage {
    pub after: Option<EntryCursor>,
    pub limit: Option<u64>,
}

impl EntryPage {
    pub fn all() -> EntryPage {
        EntryPage::default()
    }
}

/// Whose entries a statement page lists.
#[derive(Debug, Clone, Copy)]
pub enum EntryScope<'a> {
    Scheme(&'a str),
    Initiative(&'a str),
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
    /// One page of ledger entries of a scheme (or, with `initiative`, of
    /// every scheme of an initiative), in statement order, and the cursor
    /// of the next page when there is one.
    pub async fn ledger_page(
        &self,
        scope: EntryScope<'_>,
        page: &EntryPage,
    ) -> Result<(Vec<PostedEntry>, Option<EntryCursor>)> {
        let (column, id) = match scope {
            EntryScope::Scheme(s) => ("scheme_id", s),
            EntryScope::Initiative(i) => ("initiative_id", i),
        };
        let after = page.after.clone().unwrap_or(EntryCursor {
            on_date: String::new(),
            posted_at: String::new(),
            scheme_id: String::new(),
            n: i64::MIN,
        });
        // One more than asked for tells whether there is a next page.
        let limit = page
            .limit
            .map(|l| (l as i64).saturating_add(1))
            .unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries e WHERE e.{column} = $1 \
             AND (e.on_date, e.posted_at, e.scheme_id, e.n) > ($2, $3, $4, $5) \
             ORDER BY e.on_date, e.posted_at, e.scheme_id, e.n LIMIT $6"
        );
        let mut rows: Vec<EntryRow> = dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id).bind(&after.on_date).bind(&after.posted_at).bind(&after.scheme_id).bind(after.n).bind(limit)
            .fetch_all(pool).await?);
        let next = match page.limit {
            Some(l) if rows.len() as u64 > l => {
                rows.truncate(l as usize);
                rows.last().map(EntryRow::cursor)
            }
            _ => None,
        };
        Ok((rows.into_iter().map(EntryRow::into_posted).collect(), next))
    }

    /// Everything a statement needs about one scheme — its figures, and the
    /// page of its entries asked for — with its initiative and the cursor
    /// of the next page.
    pub async fn scheme_ledger(
        &self,
        scheme: &str,
        page: &EntryPage,
    ) -> Result<Option<(String, SchemeLedger, Option<EntryCursor>)>> {
        let Some((initiative, mut ledger)) = self.scheme_figures(scheme).await? else {
            return Ok(None);
        };
        let (entries, next) = self.ledger_page(EntryScope::Scheme(scheme), page).await?;
        ledger.entries = entries;
        Ok(Some((initiative, ledger, next)))
    }

    /// A scheme's register and running figures, without entries.
    async fn scheme_figures(&self, scheme: &str) -> Result<Option<(String, SchemeLedger)>> {
        let row: Option<(String, String)> = dispatch!(self, pool => sqlx::query_as("SELECT initiative_id, state FROM schemes WHERE id = $1").bind(scheme).fetch_optional(pool).await?);
        let Some((initiative, state)) = row else {
            return Ok(None);
        };
        let st: SchemeState = serde_json::from_str(&state).map_err(|e| {
            StoreError::Invalid(format!("scheme {scheme}: stored state unreadable: {e}"))
        })?;
        let households = self.household_refs(scheme).await?;
        Ok(Some((
            initiative,
            SchemeLedger {
                id: scheme.to_string(),
                name: st.name,
                stage: st.stage,
                components: st.components,
                households,
                books: st.books,
                entries: vec![],
            },
        )))
    }

    /// A statement's inputs for a scheme whose state the caller has already
    /// read (the scheme page): its register and every entry, in statement
    /// order; the figures come from the state's `books`.
    pub async fn ledger_of(
        &self,
        scheme: &str,
        name: &str,
        stage: &str,
        components: &[Component],
        books: &Books,
    ) -> Result<SchemeLedger> {
        let households = self.household_refs(scheme).await?;
        let (entries, _) = self
            .ledger_page(EntryScope::Scheme(scheme), &EntryPage::all())
            .await?;
        Ok(SchemeLedger {
            id: scheme.to_string(),
            name: name.to_string(),
            stage: stage.to_string(),
            components: components.to_vec(),
            households,
            books: books.clone(),
            entries,
        })
    }

    /// Every scheme of an initiative with its figures (no entries: see
    /// `ledger_page`).
    pub async fn initiative_ledgers(&self, initiative: &str) -> Result<Vec<SchemeLedger>> {
        let ids: Vec<(String,)> = dispatch!(self, pool => sqlx::query_as("SELECT id FROM schemes WHERE initiative_id = $1 ORDER BY created_at, id").bind(initiative).fetch_all(pool).await?);
        let mut out = vec![];
        for (id,) in ids {
            if let Some((_, l)) = self.scheme_figures(&id).await? {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// Which of `only` are receipt numbers of unreversed entries in an
    /// initiative.
    pub async fn live_receipts(
        &self,
        initiative: &str,
        only: &[String],
    ) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for chunk in only.chunks(400) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT e.receipt FROM ledger_entries e WHERE e.initiative_id = $1 AND e.receipt IN ({}) \
                 AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses = e.id)",
                marks.join(", ")
            );
            let rows: Vec<(String,)> = dispatch!(self, pool => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(initiative);
                for r in chunk {
                    q = q.bind(r);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(|r| r.0));
        }
        Ok(out)
    }

    /// The entries of an initiative among `ids`, as an act naming them is
    /// checked against them (a reversal's target).
    pub async fn known_entries(
        &self,
        initiative: &str,
        ids: &[String],
    ) -> Result<BTreeMap<String, KnownEntry>> {
        let mut out = BTreeMap::new();
        for id in ids {
            let sql = format!(
                "SELECT {ENTRY_COLUMNS} FROM ledger_entries e WHERE e.id = $1 AND e.initiative_id = $2"
            );
            let row: Option<EntryRow> = dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(initiative).fetch_optional(pool).await?);
            if let Some(r) = row {
                let p = r.into_posted();
                out.insert(
                    p.id.clone(),
                    KnownEntry {
                        scheme: p.scheme,
                        reversed: p.reversed_by.is_some(),
                        line: p.line,
                    },
                );
            }
        }
        Ok(out)
    }

    /// The latest entries of a scheme that can still be reversed (not
    /// reversals, not reversed), newest first: what a reversal form offers.
    pub async fn reversible_entries(&self, scheme: &str, limit: i64) -> Result<Vec<PostedEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries e WHERE e.scheme_id = $1 AND e.kind <> 'reversal' \
             AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses = e.id) ORDER BY e.n DESC LIMIT $2"
        );
        let rows: Vec<EntryRow> = dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(scheme).bind(limit).fetch_all(pool).await?);
        Ok(rows.into_iter().map(EntryRow::into_posted).collect())
    }

    /// What the engine checks a ledger entry against beyond its scheme:
    /// which of `receipts` are already used in the initiative, the entries
    /// among `entries` (a reversal's target) and, where the arrangement declares a reserve, the room
    /// left in it for each financial year — once any allocation is on
    /// record (before that, releases are recorded but not limited).
    pub async fn initiative_ledger(
        &self,
        initiative: &str,
        arr: &Arrangement,
        today: time::Date,
        receipts: &[String],
        entries: &[String],
    ) -> Result<InitiativeLedger> {
        let mut out = InitiativeLedger {
            receipts: self.live_receipts(initiative, receipts).await?,
            entries: self.known_entries(initiative, entries).await?,
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
