//! Public statements: per scheme and per initiative, who contributed what,
//! who still owes what, what was spent on what — with receipt numbers and
//! dates, so anyone holding a paper receipt can find it.
//!
//! A statement is computed from the entries alone (a pure function), so the
//! same figures come out of the live projection and of a rebuild. Household
//! names appear only where the arrangement's `household_names` information
//! rule lets the viewer see them; everyone else gets counts (paid in full,
//! in part, nothing). JSON is the serde form of [`Statement`]; [`to_csv`]
//! renders it as one long table with plain amounts ("150000.00") that a
//! spreadsheet reads without guessing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::budget::YearFigures;
use super::figures::{self, HouseholdCounts, HouseholdFigures, HouseholdRef, RoleFigures};
use super::{Books, LedgerLine, Means, Money, entry_date};
use crate::arrangement::{Arrangement, Level, Visibility};
use crate::model::Component;

/// An entry as posted: the line plus where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedEntry {
    pub id: String,
    pub scheme: String,
    /// When it was posted (RFC 3339): the date when the entry gives none.
    pub posted_at: String,
    pub line: LedgerLine,
    /// The reversal that cancels it, if any.
    pub reversed_by: Option<String>,
}

/// Fill in `reversed_by` for a list of entries that holds their reversals
/// (what the store does with a join).
pub fn link_reversals(entries: &mut [PostedEntry]) {
    let by: BTreeMap<String, String> = entries
        .iter()
        .filter_map(|e| e.line.reverses.clone().map(|t| (t, e.id.clone())))
        .collect();
    for e in entries {
        e.reversed_by = by.get(&e.id).cloned();
    }
}

/// Everything a statement needs about one scheme: its figures come from
/// its running figures (`books`), so `entries` may be one page of its
/// entries, or none.
#[derive(Debug, Clone, Default)]
pub struct SchemeLedger {
    pub id: String,
    pub name: String,
    pub stage: String,
    pub components: Vec<Component>,
    pub households: Vec<HouseholdRef>,
    pub books: Books,
    /// The entries shown, in statement order (by date, then posting).
    pub entries: Vec<PostedEntry>,
}

/// Which part of the entry list a statement carries. Figures and totals are
/// always complete; the list of entries may be a page of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntriesPage {
    /// Entries in the whole statement.
    pub total: u64,
    /// Entries in this response.
    pub returned: u64,
    /// The page size asked for, if any.
    pub limit: Option<u64>,
    /// Pass as `cursor` to get the entries after these; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Who is looking: the public, or someone holding positions
/// (`role.position`) in this initiative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Public,
    Holding(BTreeSet<String>),
}

/// Whether the information rule for `record` lets this viewer see it.
pub fn may_see(arr: &Arrangement, record: &str, viewer: &Viewer) -> bool {
    let held = match viewer {
        Viewer::Public => return arr.visibility(record) == Visibility::Public,
        Viewer::Holding(p) => p,
    };
    match arr.visibility(record) {
        Visibility::Level(Level::Public) => true,
        Visibility::Level(Level::Partners) => !held.is_empty(),
        Visibility::Positions(list) => list.iter().any(|p| Arrangement::attribute_matches(p, held)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementEntry {
    pub id: String,
    pub scheme: String,
    /// The day it happened (YYYY-MM-DD).
    pub date: String,
    pub kind: String,
    pub role: String,
    /// House number, only where household names may be shown.
    pub household: Option<String>,
    pub means: Means,
    pub quantity: Option<i64>,
    pub rate: Option<Money>,
    pub amount: Money,
    pub receipt: Option<String>,
    pub component: Option<String>,
    pub payee: Option<String>,
    pub purpose: Option<String>,
    pub reverses: Option<String>,
    /// The reversal that cancelled this entry, if any.
    pub reversed_by: Option<String>,
}

/// Spending per component against its estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentSpending {
    pub scheme: String,
    pub component: String,
    pub estimate: Option<Money>,
    pub released: Money,
    pub spent: Money,
}

/// One scheme's line in an initiative's statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeSummary {
    pub id: String,
    pub name: String,
    pub stage: String,
    pub estimate: Money,
    pub received: Money,
    pub spent: Money,
    pub balance: Money,
    pub outstanding: Money,
    pub overpaid: Money,
    pub entries: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatementTotals {
    pub estimate: Money,
    pub owed: Money,
    pub pledged: Money,
    /// Contributions and releases, less refunds: money (and labour and
    /// materials) that came in.
    pub received: Money,
    pub spent: Money,
    /// received − spent: what should be in hand.
    pub balance: Money,
    pub outstanding: Money,
    pub overpaid: Money,
    pub entries: u64,
}

/// A public statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// "scheme" or "initiative".
    pub scope: String,
    pub id: String,
    pub name: String,
    pub arrangement: String,
    pub currency: String,
    /// Whether household names (and house numbers) are shown to this viewer.
    pub names_shown: bool,
    pub totals: StatementTotals,
    pub roles: Vec<RoleFigures>,
    /// Present where the schemes keep a household register.
    pub households: Option<HouseholdCounts>,
    /// Who paid how much; empty where names may not be shown.
    pub household_list: Vec<HouseholdFigures>,
    pub spending: Vec<ComponentSpending>,
    pub schemes: Vec<SchemeSummary>,
    /// Every entry, or one page of them (see `entries_page`), by the day it
    /// happened and then in posting order.
    pub entries: Vec<StatementEntry>,
    pub entries_page: EntriesPage,
    /// The government side, where the caller supplies it: the reserve year
    /// by year.
    pub budget: Vec<YearFigures>,
}

struct SchemePart {
    summary: SchemeSummary,
    roles: Vec<RoleFigures>,
    households: Vec<HouseholdFigures>,
    spending: Vec<ComponentSpending>,
}

fn scheme_part(arr: &Arrangement, s: &SchemeLedger) -> SchemePart {
    let roles = figures::roles(arr, &s.components, &s.books.roles);
    let households = if arr.file.arrangement.households || !s.households.is_empty() {
        figures::households(arr, &s.components, &s.households, &s.books)
    } else {
        vec![]
    };
    let spending = s
        .components
        .iter()
        .map(|c| {
            let t = s.books.components.get(&c.kind).copied().unwrap_or_default();
            ComponentSpending {
                scheme: s.id.clone(),
                component: c.kind.clone(),
                estimate: c.estimate.map(Money),
                released: Money(t.released),
                spent: Money(t.spent),
            }
        })
        .collect();
    let received: i64 = roles.iter().map(|r| r.put_in.0).sum();
    let spent: i64 = roles.iter().map(|r| r.spent.0).sum();
    let summary = SchemeSummary {
        id: s.id.clone(),
        name: s.name.clone(),
        stage: s.stage.clone(),
        estimate: Money(s.components.iter().filter_map(|c| c.estimate).sum()),
        received: Money(received),
        spent: Money(spent),
        balance: Money(received - spent),
        outstanding: Money(roles.iter().map(|r| r.outstanding.0).sum()),
        overpaid: Money(roles.iter().map(|r| r.overpaid.0).sum()),
        entries: s.books.entries,
    };
    SchemePart {
        summary,
        roles,
        households,
        spending,
    }
}

/// Entries as a statement shows them, house numbers only where names may
/// be shown. A reversal carries its target's household.
pub fn render_entries(
    entries: &[PostedEntry],
    register: &[HouseholdRef],
    names: bool,
) -> Vec<StatementEntry> {
    let house_of: BTreeMap<&str, &str> = register
        .iter()
        .map(|h| (h.id.as_str(), h.house.as_str()))
        .collect();
    entries
        .iter()
        .map(|e| {
            let l = &e.line;
            StatementEntry {
                id: e.id.clone(),
                scheme: e.scheme.clone(),
                date: entry_date(l, &e.posted_at),
                kind: l.kind.clone(),
                role: l.role.clone(),
                household: if names {
                    l.household
                        .as_deref()
                        .map(|h| house_of.get(h).copied().unwrap_or(h).to_string())
                } else {
                    None
                },
                means: l.means,
                quantity: l.quantity,
                rate: l.rate.map(Money),
                amount: Money(l.amount),
                receipt: l.receipt.clone(),
                component: l.component.clone(),
                payee: l.payee.clone(),
                purpose: l.purpose.clone(),
                reverses: l.reverses.clone(),
                reversed_by: e.reversed_by.clone(),
            }
        })
        .collect()
}

/// The statement order of entries: by the day each happened, entries of
/// one day in the order they were posted. The store's pages follow it.
pub fn sort_entries(entries: &mut [PostedEntry]) {
    entries.sort_by(|a, b| {
        entry_date(&a.line, &a.posted_at)
            .cmp(&entry_date(&b.line, &b.posted_at))
            .then_with(|| a.posted_at.cmp(&b.posted_at))
            .then_with(|| a.scheme.cmp(&b.scheme))
            .then_with(|| entry_number(&a.id).cmp(&entry_number(&b.id)))
    });
}

/// The number at the end of an entry id (`…-e12` → 12): posting order
/// within a scheme.
pub fn entry_number(id: &str) -> i64 {
    id.rsplit('-')
        .next()
        .map(|t| t.trim_start_matches(|c: char| c.is_ascii_alphabetic()))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn assemble(
    arr: &Arrangement,
    scope: &str,
    id: &str,
    name: &str,
    parts: Vec<SchemePart>,
    entries: Vec<StatementEntry>,
    names: bool,
) -> Statement {
    let roles = figures::sum_roles(parts.iter().map(|p| p.roles.as_slice()));
    let all_households: Vec<HouseholdFigures> = parts
        .iter()
        .flat_map(|p| p.households.iter().cloned())
        .collect();
    let keeps_register = arr.file.arrangement.households || !all_households.is_empty();
    let totals = StatementTotals {
        estimate: Money(parts.iter().map(|p| p.summary.estimate.0).sum()),
        owed: Money(roles.iter().map(|r| r.owed.0).sum()),
        pledged: Money(roles.iter().map(|r| r.pledged.0).sum()),
        received: Money(parts.iter().map(|p| p.summary.received.0).sum()),
        spent: Money(parts.iter().map(|p| p.summary.spent.0).sum()),
        balance: Money(parts.iter().map(|p| p.summary.balance.0).sum()),
        outstanding: Money(parts.iter().map(|p| p.summary.outstanding.0).sum()),
        overpaid: Money(parts.iter().map(|p| p.summary.overpaid.0).sum()),
        entries: parts.iter().map(|p| p.summary.entries).sum(),
    };
    let mut spending = vec![];
    let mut schemes = vec![];
    for p in parts {
        spending.extend(p.spending);
        schemes.push(p.summary);
    }
    let entries_page = EntriesPage {
        total: totals.entries,
        returned: entries.len() as u64,
        limit: None,
        next_cursor: None,
    };
    Statement {
        scope: scope.into(),
        id: id.into(),
        name: name.into(),
        arrangement: arr.id().into(),
        currency: arr.currency().into(),
        names_shown: names,
        totals,
        roles,
        households: keeps_register.then(|| figures::household_counts(&all_households)),
        household_list: if names { all_households } else { vec![] },
        spending,
        schemes,
        entries,
        entries_page,
        budget: vec![],
    }
}

/// Why a viewer gets no statement at all.
pub fn ledger_hidden(arr: &Arrangement, viewer: &Viewer) -> Option<String> {
    (!may_see(arr, "ledger", viewer)).then(|| {
        let who = match arr.visibility("ledger") {
            Visibility::Positions(ps) => ps
                .iter()
                .map(|p| crate::arrangement::humanise_position(&arr.file, p))
                .collect::<Vec<_>>()
                .join(", "),
            _ => "people holding a position in the initiative".to_string(),
        };
        format!(
            "under arrangement `{}` the ledger is not public: it is shown to {who}",
            arr.id()
        )
    })
}

/// The statement of one scheme, as this viewer may see it.
pub fn for_scheme(
    arr: &Arrangement,
    scheme: &SchemeLedger,
    viewer: &Viewer,
) -> Result<Statement, String> {
    if let Some(why) = ledger_hidden(arr, viewer) {
        return Err(why);
    }
    let names = may_see(arr, "household_names", viewer);
    let part = scheme_part(arr, scheme);
    let entries = render_entries(&scheme.entries, &scheme.households, names);
    Ok(assemble(
        arr,
        "scheme",
        &scheme.id,
        &scheme.name,
        vec![part],
        entries,
        names,
    ))
}

/// The statement of an initiative: its schemes' statements summed, each
/// scheme's arrears and over-payments kept separate before summing. The
/// schemes' own `entries` are not used: `entries` is the list (or page) of
/// the initiative's entries to show, in statement order.
pub fn for_initiative(
    arr: &Arrangement,
    id: &str,
    name: &str,
    schemes: &[SchemeLedger],
    entries: &[PostedEntry],
    viewer: &Viewer,
) -> Result<Statement, String> {
    if let Some(why) = ledger_hidden(arr, viewer) {
        return Err(why);
    }
    let names = may_see(arr, "household_names", viewer);
    let parts = schemes.iter().map(|s| scheme_part(arr, s)).collect();
    let register: Vec<HouseholdRef> = schemes
        .iter()
        .flat_map(|s| s.households.iter().cloned())
        .collect();
    let entries = render_entries(entries, &register, names);
    Ok(assemble(arr, "initiative", id, name, parts, entries, names))
}

const CSV_HEADER: [&str; 17] = [
    "record",
    "scheme",
    "date",
    "entry",
    "kind",
    "role",
    "household",
    "means",
    "quantity",
    "rate",
    "amount",
    "receipt",
    "component",
    "payee",
    "purpose",
    "reverses",
    "reversed_by",
];

/// The statement as one long CSV table: `entry` rows (every entry), `role`
/// rows (one per figure per role: kind names the figure), `household` rows
/// where names may be shown, else `households` count rows (the count in
/// `quantity`), `budget` rows per financial year and `total` rows. Amounts
/// are plain ("150000.00"); quantities are plain integers.
///
/// It is the concatenation of [`csv_header`], [`csv_entries`] (the
/// statement's entries, possibly written in several pieces) and
/// [`csv_figures`], so a server can stream a long statement page by page.
pub fn to_csv(s: &Statement) -> String {
    let mut out = csv_header();
    out.push_str(&csv_entries(&s.entries));
    out.push_str(&csv_figures(s));
    out
}

fn write_rows(rows: &[[String; 17]]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![]);
    // Writing into a Vec cannot fail; a failure here would be a bug in csv.
    for r in rows {
        let _ = w.write_record(r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The CSV statement's header row.
pub fn csv_header() -> String {
    write_rows(&[CSV_HEADER.map(String::from)])
}

/// `entry` rows of the CSV statement.
pub fn csv_entries(entries: &[StatementEntry]) -> String {
    let blank = || -> [String; 17] { Default::default() };
    let mut rows: Vec<[String; 17]> = Vec::with_capacity(entries.len());
    for e in entries {
        let mut r = blank();
        r[0] = "entry".into();
        r[1] = e.scheme.clone();
        r[2] = e.date.clone();
        r[3] = e.id.clone();
        r[4] = e.kind.clone();
        r[5] = e.role.clone();
        r[6] = e.household.clone().unwrap_or_default();
        r[7] = serde_json::to_value(e.means)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        r[8] = e.quantity.map(|q| q.to_string()).unwrap_or_default();
        r[9] = e.rate.map(Money::to_plain).unwrap_or_default();
        r[10] = e.amount.to_plain();
        r[11] = e.receipt.clone().unwrap_or_default();
        r[12] = e.component.clone().unwrap_or_default();
        r[13] = e.payee.clone().unwrap_or_default();
        r[14] = e.purpose.clone().unwrap_or_default();
        r[15] = e.reverses.clone().unwrap_or_default();
        r[16] = e.reversed_by.clone().unwrap_or_default();
        rows.push(r);
    }
    write_rows(&rows)
}

/// The figure rows of the CSV statement (roles, households, budget, totals).
pub fn csv_figures(s: &Statement) -> String {
    let blank = || -> [String; 17] { Default::default() };
    let mut rows: Vec<[String; 17]> = vec![];
    let scope_scheme = if s.scope == "scheme" {
        s.id.clone()
    } else {
        String::new()
    };
    for role in &s.roles {
        for (figure, m) in [
            ("owed", role.owed),
            ("pledged", role.pledged),
            ("paid", role.paid),
            ("released", role.released),
            ("spent", role.spent),
            ("refunded", role.refunded),
            ("outstanding", role.outstanding),
            ("overpaid", role.overpaid),
        ] {
            let mut r = blank();
            r[0] = "role".into();
            r[1] = scope_scheme.clone();
            r[4] = figure.into();
            r[5] = role.role.clone();
            r[10] = m.to_plain();
            rows.push(r);
        }
    }
    for h in &s.household_list {
        for (figure, m) in [
            ("due", h.due),
            ("paid", h.paid),
            ("outstanding", h.outstanding),
            ("overpaid", h.overpaid),
        ] {
            let mut r = blank();
            r[0] = "household".into();
            r[1] = scope_scheme.clone();
            r[4] = figure.into();
            r[6] = match &h.head {
                Some(name) => format!("{} ({name})", h.house),
                None => h.house.clone(),
            };
            r[10] = m.to_plain();
            rows.push(r);
        }
    }
    if s.household_list.is_empty()
        && let Some(c) = &s.households
    {
        for (figure, n) in [
            ("registered", c.registered),
            ("paid_in_full", c.paid_in_full),
            ("paid_part", c.paid_part),
            ("paid_nothing", c.paid_nothing),
            ("overpaid", c.overpaid),
        ] {
            let mut r = blank();
            r[0] = "households".into();
            r[1] = scope_scheme.clone();
            r[4] = figure.into();
            r[8] = n.to_string();
            rows.push(r);
        }
    }
    for y in &s.budget {
        for (figure, m) in [
            ("allocated", y.allocated),
            ("carried_in", y.carried_in),
            ("available", y.available),
            ("committed", y.committed),
            ("spent", y.spent),
            ("unspent", y.unspent),
            ("lapsed", y.lapsed),
        ] {
            let mut r = blank();
            r[0] = "budget".into();
            r[2] = y.year.to_string();
            r[4] = figure.into();
            r[10] = m.to_plain();
            rows.push(r);
        }
    }
    let t = &s.totals;
    for (figure, m) in [
        ("estimate", t.estimate),
        ("owed", t.owed),
        ("pledged", t.pledged),
        ("received", t.received),
        ("spent", t.spent),
        ("balance", t.balance),
        ("outstanding", t.outstanding),
        ("overpaid", t.overpaid),
    ] {
        let mut r = blank();
        r[0] = "total".into();
        r[1] = scope_scheme.clone();
        r[4] = figure.into();
        r[10] = m.to_plain();
        rows.push(r);
    }
    write_rows(&rows)
}
