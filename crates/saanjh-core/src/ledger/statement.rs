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
use super::{LedgerLine, Means, Money, entry_date, totals_of};
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
}

/// Everything a statement needs about one scheme.
#[derive(Debug, Clone, Default)]
pub struct SchemeLedger {
    pub id: String,
    pub name: String,
    pub stage: String,
    pub components: Vec<Component>,
    pub households: Vec<HouseholdRef>,
    /// In posting order.
    pub entries: Vec<PostedEntry>,
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
    pub entries: Vec<StatementEntry>,
    /// The government side, where the caller supplies it: the reserve year
    /// by year.
    pub budget: Vec<YearFigures>,
}

struct SchemePart {
    summary: SchemeSummary,
    roles: Vec<RoleFigures>,
    households: Vec<HouseholdFigures>,
    spending: Vec<ComponentSpending>,
    entries: Vec<StatementEntry>,
}

fn scheme_part(arr: &Arrangement, s: &SchemeLedger, names: bool) -> SchemePart {
    let pairs: Vec<(&str, &LedgerLine)> =
        s.entries.iter().map(|e| (e.id.as_str(), &e.line)).collect();
    let totals = totals_of(pairs.iter().copied());
    let roles = figures::roles(arr, &s.components, &totals);
    let households = if arr.file.arrangement.households || !s.households.is_empty() {
        figures::households(arr, &s.components, &s.households, &pairs)
    } else {
        vec![]
    };
    let by_id: BTreeMap<&str, &LedgerLine> = pairs.iter().copied().collect();
    let reversed_by: BTreeMap<&str, &str> = s
        .entries
        .iter()
        .filter_map(|e| e.line.reverses.as_deref().map(|t| (t, e.id.as_str())))
        .collect();
    let house_of: BTreeMap<&str, &str> = s
        .households
        .iter()
        .map(|h| (h.id.as_str(), h.house.as_str()))
        .collect();
    let mut spending: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for e in &s.entries {
        let (target, sign) = match (e.line.kind.as_str(), &e.line.reverses) {
            ("reversal", Some(t)) => match by_id.get(t.as_str()) {
                Some(t) => (*t, -1),
                None => continue,
            },
            _ => (&e.line, 1),
        };
        if let Some(c) = target.component.as_deref() {
            let slot = spending.entry(c).or_default();
            match target.kind.as_str() {
                "release" => slot.0 += sign * target.amount,
                "expenditure" => slot.1 += sign * target.amount,
                _ => {}
            }
        }
    }
    let spending = s
        .components
        .iter()
        .map(|c| {
            let (released, spent) = spending.get(c.kind.as_str()).copied().unwrap_or_default();
            ComponentSpending {
                scheme: s.id.clone(),
                component: c.kind.clone(),
                estimate: c.estimate.map(Money),
                released: Money(released),
                spent: Money(spent),
            }
        })
        .collect();
    let mut entries: Vec<StatementEntry> = s
        .entries
        .iter()
        .map(|e| {
            let l = &e.line;
            // A reversal carries no household of its own: show its target's.
            let household = l.household.as_deref().or_else(|| {
                l.reverses
                    .as_deref()
                    .and_then(|t| by_id.get(t))
                    .and_then(|t| t.household.as_deref())
            });
            StatementEntry {
                id: e.id.clone(),
                scheme: e.scheme.clone(),
                date: entry_date(l, &e.posted_at),
                kind: l.kind.clone(),
                role: l.role.clone(),
                household: if names {
                    household.map(|h| house_of.get(h).copied().unwrap_or(h).to_string())
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
                reversed_by: reversed_by.get(e.id.as_str()).map(|r| r.to_string()),
            }
        })
        .collect();
    // By the day it happened; entries of one day stay in posting order.
    entries.sort_by(|a, b| a.date.cmp(&b.date));
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
        entries: s.entries.len() as u64,
    };
    SchemePart {
        summary,
        roles,
        households,
        spending,
        entries,
    }
}

fn assemble(
    arr: &Arrangement,
    scope: &str,
    id: &str,
    name: &str,
    parts: Vec<SchemePart>,
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
    let mut entries = vec![];
    let mut spending = vec![];
    let mut schemes = vec![];
    for p in parts {
        entries.extend(p.entries);
        spending.extend(p.spending);
        schemes.push(p.summary);
    }
    if scope == "initiative" {
        entries.sort_by(|a, b| a.date.cmp(&b.date));
    }
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
    let part = scheme_part(arr, scheme, names);
    Ok(assemble(
        arr,
        "scheme",
        &scheme.id,
        &scheme.name,
        vec![part],
        names,
    ))
}

/// The statement of an initiative: its schemes' statements summed, each
/// scheme's arrears and over-payments kept separate before summing.
pub fn for_initiative(
    arr: &Arrangement,
    id: &str,
    name: &str,
    schemes: &[SchemeLedger],
    viewer: &Viewer,
) -> Result<Statement, String> {
    if let Some(why) = ledger_hidden(arr, viewer) {
        return Err(why);
    }
    let names = may_see(arr, "household_names", viewer);
    let parts = schemes.iter().map(|s| scheme_part(arr, s, names)).collect();
    Ok(assemble(arr, "initiative", id, name, parts, names))
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
pub fn to_csv(s: &Statement) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![]);
    let mut rows: Vec<[String; 17]> = vec![];
    let blank = || -> [String; 17] { Default::default() };
    for e in &s.entries {
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
    // Writing into a Vec cannot fail; a failure here would be a bug in csv.
    let _ = w.write_record(CSV_HEADER);
    for r in rows {
        let _ = w.write_record(&r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
