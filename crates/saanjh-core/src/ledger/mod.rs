//! The co-delivery ledger: money, the entries that record it, and what they
//! add up to.
//!
//! Money is exact: integer minor units (paisa for PKR) in an `i64`, never a
//! float. Shares of an estimate are computed in basis points with explicit
//! rounding (see `share_of`).
//!
//! - this module: `Money`, entries and their validation (`check_entry`),
//!   per-role totals and the facts rule conditions read;
//! - [`figures`]: owed, outstanding and over-paid per role and per household;
//! - [`statement`]: public statements per scheme and per initiative, as data
//!   (JSON via serde) and CSV, with household names only where allowed;
//! - [`budget`]: the government side — allocations per financial year,
//!   carry-forward of a reserve that does not lapse, room left to release;
//! - [`import`]: a lane's paper register typed into a spreadsheet, checked as
//!   a whole before anything is posted;
//! - [`spending`]: spending on a component within what was released for it,
//!   unless the arrangement's `[spending]` rules say where else it may come
//!   from.
//!
//! A scheme's state keeps only running figures ([`Books`]: per role, per
//! component, per household), never the list of entries, so posting costs
//! the same on the thousandth entry as on the first. What a decision needs
//! about particular entries (a reversal's target, whether a receipt number is
//! in use) the caller looks up and passes in [`InitiativeLedger`].

pub mod budget;
pub mod figures;
pub mod import;
pub mod spending;
pub mod statement;

use std::fmt;

use serde::{Deserialize, Serialize};

use std::collections::{BTreeMap, BTreeSet};

use crate::arrangement::{Arrangement, RecordKind, ShareSpec, parse_percent};
use crate::engine::{Refusal, SchemeState};
use crate::facts::{Fact, FactDecl, FactType, Facts, KeyDomain, Scope, Shape};
use crate::model::Component;

/// What the ledger must know about the initiative beyond the scheme an
/// entry is posted to. The engine is pure, so the store fills this in
/// (`InitiativeState::ledger`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitiativeLedger {
    /// Receipt numbers carried by an entry, anywhere in the initiative, that
    /// has not been reversed. A receipt is unique within the initiative: two
    /// lanes' treasurers must not be able to book the same paper receipt.
    /// The store fills in only the receipts an act (or a file) names.
    pub receipts: BTreeSet<String>,
    /// Entries an act names (a reversal's target), by id, as posted. The
    /// store fills in only those; an id not here is unknown.
    pub entries: BTreeMap<String, KnownEntry>,
    /// For partner roles whose releases come out of a tracked allocation:
    /// financial year ("2025-26") → amount still free to release, in minor
    /// units. A role not listed here has no allocation on record, and its
    /// releases are not limited by one.
    pub release_room: BTreeMap<String, BTreeMap<String, i64>>,
}

/// An entry as the store knows it, for the checks of an act that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownEntry {
    pub scheme: String,
    pub line: LedgerLine,
    /// Whether a reversal already cancels it.
    pub reversed: bool,
}

impl InitiativeLedger {
    /// What the store would fill in, computed from a list of posted entries
    /// `(id, scheme, line)`: every live receipt and every entry. For callers
    /// that hold the entries in memory (tests, a file being checked).
    pub fn from_entries<'a, I>(entries: I) -> InitiativeLedger
    where
        I: IntoIterator<Item = (&'a str, &'a str, &'a LedgerLine)> + Clone,
    {
        let reversed: BTreeSet<&str> = entries
            .clone()
            .into_iter()
            .filter_map(|(_, _, l)| l.reverses.as_deref())
            .collect();
        let mut out = InitiativeLedger::default();
        for (id, scheme, line) in entries {
            let is_reversed = reversed.contains(id);
            if !is_reversed && let Some(r) = &line.receipt {
                out.receipts.insert(r.clone());
            }
            out.entries.insert(
                id.to_string(),
                KnownEntry {
                    scheme: scheme.to_string(),
                    line: line.clone(),
                    reversed: is_reversed,
                },
            );
        }
        out
    }
}

/// An amount in minor units of the initiative's currency.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn minor(self) -> i64 {
        self.0
    }

    /// Parse "1500", "1,50,000", "1500.5" or "1500.50" (major units, as a
    /// treasurer writes them) into minor units. Refuses more than two
    /// decimals rather than rounding silently.
    pub fn parse_major(s: &str) -> Result<Money, String> {
        let t: String = s
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(format!("`{s}` is not an amount"));
        }
        if frac.len() > 2 {
            return Err(format!("`{s}` has more than two decimals"));
        }
        let whole: i64 = whole.parse().map_err(|_| format!("`{s}` is too large"))?;
        let frac: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<2}")
                .parse()
                .map_err(|_| format!("`{s}` is not an amount"))?
        };
        let minor = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(|| format!("`{s}` is too large"))?;
        Ok(Money(if neg { -minor } else { minor }))
    }

    /// Plain international form for exports: "150000.00".
    pub fn to_plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    /// The way Pakistani users write amounts: "1,50,000" (lakh grouping),
    /// with paisa only when there are any.
    pub fn to_lakh(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = (a / 100).to_string();
        let grouped = if whole.len() <= 3 {
            whole
        } else {
            let (head, last3) = whole.split_at(whole.len() - 3);
            let mut parts = vec![];
            let mut h = head;
            while h.len() > 2 {
                let (a, b) = h.split_at(h.len() - 2);
                parts.push(b.to_string());
                h = a;
            }
            parts.push(h.to_string());
            parts.reverse();
            format!("{},{}", parts.join(","), last3)
        };
        if a.is_multiple_of(100) {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}.{:02}", a % 100)
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain())
    }
}

/// `basis_points` of `amount`, rounded half up to the minor unit: the
/// community's 20% of Rs 7,058,000.01 is Rs 1,411,600.00 (0.002 paisa
/// rounds down), and shares are always rounded the same way so that the
/// rounding can be re-done by hand.
pub fn share_of(amount: Money, basis_points: u32) -> Money {
    let num = amount.0 as i128 * basis_points as i128;
    let q = num.div_euclid(10_000);
    let r = num.rem_euclid(10_000);
    Money((q + if r * 2 >= 10_000 { 1 } else { 0 }) as i64)
}

const fn money(name: &'static str, meaning: &'static str) -> FactDecl {
    FactDecl {
        shape: Shape::Keyed {
            name,
            domain: KeyDomain::Role,
        },
        ty: FactType::Int,
        scope: Scope::Scheme,
        meaning,
        provided_by: "ledger",
    }
}

/// Facts the ledger provides to conditions, per partner role, in paisa.
pub const LEDGER_FACTS: &[FactDecl] = &[
    money(
        "owed",
        "the role's share of the scheme's estimate under the payoff rules (its minimum share where a range is given)",
    ),
    money(
        "pledged",
        "amount the role (and its households) have pledged, net of reversals",
    ),
    money(
        "paid",
        "amount the role (and its households) have contributed in cash, labour and materials, net of reversals",
    ),
    money(
        "released",
        "amount released by the role in instalments or tranches, net of reversals",
    ),
    money(
        "spent",
        "expenditure on components the role delivers, net of reversals",
    ),
    money(
        "billed",
        "service charges (tariffs) the role has billed to households, net of reversals",
    ),
    money(
        "collected",
        "service charges (tariffs) the role has collected against its bills, net of reversals",
    ),
    FactDecl {
        shape: Shape::Keyed {
            name: "share_met",
            domain: KeyDomain::Role,
        },
        ty: FactType::Bool,
        scope: Scope::Scheme,
        meaning: "whether what the role has paid or released covers what it owes",
        provided_by: "ledger",
    },
];

/// How a contribution was made. Labour and materials are valued as a
/// quantity times a rate, both recorded, so the valuation can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Means {
    #[default]
    Cash,
    /// Days of work × a daily rate.
    Labour,
    /// Quantity × a unit rate.
    Materials,
}

/// A ledger entry as asked for in an act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    /// The partner role whose money, labour or promise this is.
    pub role: String,
    /// Amount in minor units; for labour and materials, leave it out and
    /// give `quantity` and `rate` instead.
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub means: Means,
    /// Days of labour or units of material.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Minor units per day or per unit.
    #[serde(default)]
    pub rate: Option<i64>,
    /// The household paying, by its id in the scheme's register.
    #[serde(default)]
    pub household: Option<String>,
    /// The receipt number written on the paper receipt.
    #[serde(default)]
    pub receipt: Option<String>,
    /// The component the money is for (releases and expenditure).
    #[serde(default)]
    pub component: Option<String>,
    /// Who was paid (expenditure, refund).
    #[serde(default)]
    pub payee: Option<String>,
    /// What it bought or why.
    #[serde(default)]
    pub purpose: Option<String>,
    /// For a reversal: the entry it reverses.
    #[serde(default)]
    pub reverses: Option<String>,
    /// When it happened (YYYY-MM-DD), if not today.
    #[serde(default)]
    pub on: Option<String>,
    /// The currency of `amount` and `rate`, if the caller states it: it
    /// must be the initiative's (an amount in another currency is refused,
    /// never converted).
    #[serde(default)]
    pub currency: Option<String>,
}

/// A posted ledger entry: what the event carries and the scheme state keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLine {
    pub kind: String,
    pub role: String,
    pub amount: i64,
    #[serde(default)]
    pub means: Means,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub rate: Option<i64>,
    #[serde(default)]
    pub household: Option<String>,
    #[serde(default)]
    pub receipt: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub payee: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub reverses: Option<String>,
    #[serde(default)]
    pub on: Option<String>,
    /// For a reversal: the kind of the entry it cancels. A reversal also
    /// carries its target's means, quantity, rate, household and component,
    /// so that it undoes exactly what the target did to the running figures
    /// without the target being looked up again. (Reversals recorded before
    /// this field existed have it filled in by the store from their target.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed_kind: Option<String>,
}

/// Totals of one role's entries, net of reversals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleTotals {
    pub pledged: i64,
    pub paid: i64,
    pub released: i64,
    pub spent: i64,
    pub refunded: i64,
    /// Service charges (tariffs) billed to households.
    pub billed: i64,
    /// Service charges collected against those bills.
    pub collected: i64,
}

/// Released and spent on one component, net of reversals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentTotals {
    pub released: i64,
    pub spent: i64,
}

/// One household's pledges and payments (contributions less refunds to
/// it), net of reversals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdTotals {
    pub pledged: i64,
    pub paid: i64,
}

/// A scheme's running figures: what every entry so far adds up to. Kept in
/// the scheme's state (a fold of its events), so its size depends on the
/// number of roles, components and households, never on the number of
/// entries. A reversal subtracts exactly what its target added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Books {
    /// Entries posted, reversals included.
    pub entries: u64,
    pub reversals: u64,
    pub roles: BTreeMap<String, RoleTotals>,
    /// Per role: cash contributed less cash refunded — money in hand that a
    /// `[spending]` rule may let components spend without a release.
    pub cash_in: BTreeMap<String, i64>,
    pub components: BTreeMap<String, ComponentTotals>,
    pub households: BTreeMap<String, HouseholdTotals>,
    /// The role the first entry naming a household was made for.
    pub household_role: Option<String>,
}

impl Books {
    /// Add one posted entry to the figures.
    pub fn post(&mut self, line: &LedgerLine) {
        self.entries += 1;
        let (kind, sign) = if line.kind == "reversal" {
            self.reversals += 1;
            match line.reversed_kind.as_deref() {
                Some(k) => (k, -1),
                // A reversal whose target is unknown changes nothing.
                None => return,
            }
        } else {
            (line.kind.as_str(), 1)
        };
        let amount = sign * line.amount;
        let t = self.roles.entry(line.role.clone()).or_default();
        match kind {
            "pledge" => t.pledged += amount,
            "contribution" => t.paid += amount,
            "release" => t.released += amount,
            "expenditure" => t.spent += amount,
            "refund" => t.refunded += amount,
            "bill" => t.billed += amount,
            "tariff" => t.collected += amount,
            _ => {}
        }
        if line.means == Means::Cash {
            match kind {
                // Tariffs collected are money in hand for running the
                // service, like the community's own contributions.
                "contribution" | "tariff" => {
                    *self.cash_in.entry(line.role.clone()).or_default() += amount
                }
                "refund" => *self.cash_in.entry(line.role.clone()).or_default() -= amount,
                _ => {}
            }
        }
        if let Some(c) = &line.component {
            match kind {
                "release" => self.components.entry(c.clone()).or_default().released += amount,
                "expenditure" => self.components.entry(c.clone()).or_default().spent += amount,
                _ => {}
            }
        }
        if let Some(h) = &line.household {
            if self.household_role.is_none() {
                self.household_role = Some(line.role.clone());
            }
            let x = self.households.entry(h.clone()).or_default();
            match kind {
                "pledge" => x.pledged += amount,
                "contribution" => x.paid += amount,
                "refund" => x.paid -= amount,
                _ => {}
            }
        }
    }

    /// The figures of a list of entries `(id, line)` in posting order.
    pub fn of<'a>(lines: impl IntoIterator<Item = &'a LedgerLine>) -> Books {
        let mut b = Books::default();
        for l in lines {
            b.post(l);
        }
        b
    }
}

/// Net totals per role, from the scheme's running figures.
pub fn totals(scheme: &SchemeState) -> BTreeMap<String, RoleTotals> {
    scheme.books.roles.clone()
}

/// `totals` over any set of `(entry id, line)`: a reversal whose target is
/// not among them counts for nothing.
pub fn totals_of<'a, I>(lines: I) -> BTreeMap<String, RoleTotals>
where
    I: IntoIterator<Item = (&'a str, &'a LedgerLine)> + Clone,
{
    let by_id: BTreeMap<&str, &LedgerLine> = lines.clone().into_iter().collect();
    let mut out: BTreeMap<String, RoleTotals> = BTreeMap::new();
    for (_, line) in lines {
        let (kind, sign) = match (line.kind.as_str(), &line.reverses) {
            ("reversal", Some(target)) => match by_id.get(target.as_str()) {
                Some(t) => (t.kind.as_str(), -1),
                None => continue,
            },
            (k, _) => (k, 1),
        };
        let t = out.entry(line.role.clone()).or_default();
        let amount = sign * line.amount;
        match kind {
            "pledge" => t.pledged += amount,
            "contribution" => t.paid += amount,
            "release" => t.released += amount,
            "expenditure" => t.spent += amount,
            "refund" => t.refunded += amount,
            "bill" => t.billed += amount,
            "tariff" => t.collected += amount,
            _ => {}
        }
    }
    out
}

/// Each role's share of the scheme's estimate under the payoff rules: the
/// exact share, or the minimum where a range is given (at most → 0).
pub fn owed(arr: &Arrangement, scheme: &SchemeState) -> BTreeMap<String, Money> {
    owed_for(arr, &scheme.components)
}

/// `owed` for a list of components.
pub fn owed_for(arr: &Arrangement, components: &[Component]) -> BTreeMap<String, Money> {
    let mut out: BTreeMap<String, Money> = arr
        .file
        .partners
        .keys()
        .map(|r| (r.clone(), Money::ZERO))
        .collect();
    for c in components {
        let Some(estimate) = c.estimate else { continue };
        let Some(shares) = arr
            .file
            .payoff
            .get(&c.kind)
            .or_else(|| arr.file.payoff.get("*"))
        else {
            continue;
        };
        for (role, spec) in shares {
            let bp = match spec {
                ShareSpec::Exactly(s) => parse_percent(s).unwrap_or(0),
                ShareSpec::Range(r) => r
                    .at_least
                    .as_deref()
                    .and_then(|s| parse_percent(s).ok())
                    .unwrap_or(0),
            };
            let e = out.entry(role.clone()).or_default();
            e.0 += share_of(Money(estimate), bp).0;
        }
    }
    out
}

/// The ledger's facts for rule conditions.
pub fn facts_for(arr: &Arrangement, scheme: &SchemeState) -> Facts {
    let mut f = Facts::default();
    let totals = &scheme.books.roles;
    for (role, owed) in owed(arr, scheme) {
        let t = totals.get(&role).copied().unwrap_or_default();
        f.set_keyed("owed", &role, Fact::Int(owed.0));
        f.set_keyed("pledged", &role, Fact::Int(t.pledged));
        f.set_keyed("paid", &role, Fact::Int(t.paid));
        f.set_keyed("released", &role, Fact::Int(t.released));
        f.set_keyed("spent", &role, Fact::Int(t.spent));
        f.set_keyed("billed", &role, Fact::Int(t.billed));
        f.set_keyed("collected", &role, Fact::Int(t.collected));
        f.set_keyed(
            "share_met",
            &role,
            Fact::Bool(t.paid + t.released - t.refunded >= owed.0),
        );
    }
    f
}

fn input_refusal(message: impl Into<String>) -> Refusal {
    Refusal {
        rule: "input".into(),
        message: message.into(),
        allowed_if: "correct the entry".into(),
        words: None,
    }
}

/// Validate a ledger entry against the scheme and the initiative, and turn
/// it into a line. `today` dates an entry that gives no date of its own (it
/// decides the financial year of a release). A refusal's message is a
/// sentence for the person who typed the entry; its rule is `input`, or
/// `spending.<component>` when the money is not there to spend.
pub fn check_entry(
    arr: &Arrangement,
    init: &InitiativeLedger,
    scheme: &SchemeState,
    kind: RecordKind,
    input: &EntryInput,
    today: time::Date,
) -> Result<LedgerLine, Refusal> {
    let refuse = |m: String| Err(input_refusal(m));
    if !arr.file.partners.contains_key(&input.role) {
        return refuse(format!(
            "`{}` is not a partner role of this arrangement ({})",
            input.role,
            arr.file
                .partners
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(c) = &input.currency
        && !c.trim().eq_ignore_ascii_case(arr.currency())
    {
        return refuse(format!(
            "amounts in this initiative are in {}; an amount in `{c}` cannot be posted (convert it and say so in the purpose)",
            arr.currency()
        ));
    }
    let amount = match (input.amount, input.quantity, input.rate) {
        (Some(a), None, None) => a,
        (None, Some(q), Some(r)) => {
            if q <= 0 || r <= 0 {
                return refuse("quantity and rate must both be more than zero".into());
            }
            match q.checked_mul(r) {
                Some(a) => a,
                None => return refuse("quantity × rate is too large".into()),
            }
        }
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return refuse("give either an amount, or a quantity and a rate, not both".into());
        }
        _ => {
            if kind == RecordKind::Reversal {
                0
            } else {
                return refuse("give an amount (in paisa), or a quantity and a rate".into());
            }
        }
    };
    if kind != RecordKind::Reversal && amount <= 0 {
        return refuse("an amount must be more than zero; to correct an entry, reverse it".into());
    }
    if input.means != Means::Cash && kind != RecordKind::Contribution {
        return refuse("only contributions can be made in labour or materials".into());
    }
    if input.means != Means::Cash && (input.quantity.is_none() || input.rate.is_none()) {
        return refuse(
            "labour and materials are recorded as a quantity (days or units) and a rate".into(),
        );
    }
    if let Some(h) = &input.household
        && !scheme.household_ids.contains(h)
    {
        return refuse(format!("household `{h}` is not in this scheme's register"));
    }
    if let Some(c) = &input.component
        && !scheme.components.iter().any(|x| &x.kind == c)
    {
        return refuse(format!("`{c}` is not a component of this scheme"));
    }
    let on = match &input.on {
        Some(on) => match parse_date(on) {
            Some(d) => d,
            None => return refuse(format!("`{on}` is not a date (YYYY-MM-DD)")),
        },
        None => today,
    };
    let is_cash = matches!(
        kind,
        RecordKind::Contribution
            | RecordKind::Release
            | RecordKind::Expenditure
            | RecordKind::Refund
            | RecordKind::Tariff
    ) && input.means == Means::Cash;
    // A bill is addressed to a household and a tariff is paid by one.
    if matches!(kind, RecordKind::Bill | RecordKind::Tariff) && input.household.is_none() {
        return refuse(format!(
            "a {} names the household it is for (`household`)",
            if kind == RecordKind::Bill {
                "bill"
            } else {
                "tariff payment"
            }
        ));
    }
    match &input.receipt {
        Some(r) if r.trim().is_empty() => return refuse("a receipt number cannot be blank".into()),
        // A reversed entry gives its receipt back: the corrected entry is
        // posted against the same paper receipt.
        Some(r) if init.receipts.contains(r) => {
            return refuse(format!(
                "receipt number `{r}` is already used in this initiative"
            ));
        }
        None if is_cash => return refuse("a cash entry needs its receipt number".into()),
        _ => {}
    }
    if matches!(kind, RecordKind::Release | RecordKind::Expenditure) && input.component.is_none() {
        let what = if kind == RecordKind::Release {
            "a release names the component it is released for"
        } else {
            "an expenditure names the component it was spent on"
        };
        return refuse(format!(
            "{what} (`component`: {})",
            scheme
                .components
                .iter()
                .map(|c| c.kind.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut line = LedgerLine {
        kind: kind.as_str().to_string(),
        role: input.role.clone(),
        amount,
        means: input.means,
        quantity: input.quantity,
        rate: input.rate,
        household: input.household.clone(),
        receipt: input.receipt.clone(),
        component: input.component.clone(),
        payee: input.payee.clone(),
        purpose: input.purpose.clone(),
        reverses: input.reverses.clone(),
        on: input.on.clone(),
        reversed_kind: None,
    };
    match kind {
        RecordKind::Reversal => {
            let Some(target) = &input.reverses else {
                return refuse("a reversal names the entry it reverses (`reverses`)".into());
            };
            let Some(t) = init.entries.get(target).filter(|t| t.scheme == scheme.id) else {
                return refuse(format!("there is no entry `{target}` in this scheme"));
            };
            if t.line.kind == "reversal" {
                return refuse(
                    "a reversal cannot itself be reversed: post a new entry instead".into(),
                );
            }
            if t.reversed {
                return refuse(format!("entry `{target}` has already been reversed"));
            }
            if t.line.role != input.role {
                return refuse(format!(
                    "entry `{target}` belongs to `{}`, not `{}`",
                    t.line.role, input.role
                ));
            }
            for (field, given, theirs) in [
                ("household", &input.household, &t.line.household),
                ("component", &input.component, &t.line.component),
            ] {
                if given.is_some() && given != theirs {
                    return refuse(format!(
                        "a reversal takes the {field} of the entry it reverses; leave `{field}` out"
                    ));
                }
            }
            if input.amount.is_some_and(|a| a != t.line.amount)
                || input.quantity.is_some()
                || input.rate.is_some()
            {
                return refuse(format!(
                    "a reversal cancels the whole entry (Rs {}); leave the amount out, and to correct part of it reverse it and post the right entry",
                    Money(t.line.amount).to_lakh()
                ));
            }
            // The reversal undoes exactly what its target did.
            line.amount = t.line.amount;
            line.means = t.line.means;
            line.quantity = t.line.quantity;
            line.rate = t.line.rate;
            line.household = t.line.household.clone();
            line.component = t.line.component.clone();
            line.reversed_kind = Some(t.line.kind.clone());
        }
        _ if input.reverses.is_some() => {
            return refuse("only a reversal names an entry it reverses".into());
        }
        RecordKind::Expenditure if input.payee.as_deref().is_none_or(|p| p.trim().is_empty()) => {
            return refuse("an expenditure names its payee".into());
        }
        RecordKind::Release => {
            if let Some(room) = init.release_room.get(&input.role) {
                let year = budget::FinancialYear::of(on);
                let left = room.get(&year.to_string()).copied().unwrap_or(0);
                if amount > left {
                    let who = arr
                        .file
                        .partners
                        .get(&input.role)
                        .map(|p| p.name.as_str())
                        .unwrap_or(&input.role);
                    return refuse(format!(
                        "this release of Rs {} is more than the Rs {} left in the {who}'s allocation for {year}",
                        Money(amount).to_lakh(),
                        Money(left).to_lakh()
                    ));
                }
            }
        }
        _ => {}
    }
    // Money spent must have been released for its component, or come from
    // where a `[spending]` rule allows; and no entry may take away money
    // that has already been spent.
    spending::check(arr, scheme, &line)?;
    Ok(line)
}

/// Receipt numbers of the entries in `lines` that have not been reversed:
/// the ones a new entry may not reuse.
pub fn live_receipts<'a, I>(lines: I) -> BTreeSet<String>
where
    I: IntoIterator<Item = (&'a str, &'a LedgerLine)> + Clone,
{
    let reversed: BTreeSet<&str> = lines
        .clone()
        .into_iter()
        .filter_map(|(_, l)| l.reverses.as_deref())
        .collect();
    lines
        .into_iter()
        .filter(|(id, _)| !reversed.contains(id))
        .filter_map(|(_, l)| l.receipt.clone())
        .collect()
}

/// A `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// The date an entry happened: its own `on`, else the day it was posted
/// (the date part of an RFC 3339 time).
pub fn entry_date(line: &LedgerLine, posted_at: &str) -> String {
    line.on
        .clone()
        .unwrap_or_else(|| posted_at.get(..10).unwrap_or(posted_at).to_string())
}

/// Distinct receipt numbers in a set of lines (for the tests' invariants).
pub fn receipts(lines: &BTreeMap<String, LedgerLine>) -> BTreeSet<&str> {
    lines
        .values()
        .filter_map(|l| l.receipt.as_deref())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_as_treasurers_write_them() {
        assert_eq!(Money::parse_major("1500").unwrap(), Money(150_000));
        assert_eq!(Money::parse_major("1,50,000").unwrap(), Money(15_000_000));
        assert_eq!(Money::parse_major("12.5").unwrap(), Money(1250));
        assert!(Money::parse_major("12.505").is_err());
        assert!(Money::parse_major("abc").is_err());
        assert!(Money::parse_major("").is_err());
        assert!(Money::parse_major("99999999999999999999").is_err());
    }

    #[test]
    fn lakh_grouping() {
        assert_eq!(Money(15_000_000).to_lakh(), "1,50,000");
        assert_eq!(Money(705_800_000).to_lakh(), "70,58,000");
        assert_eq!(Money(150_000).to_lakh(), "1,500");
        assert_eq!(Money(99_950).to_lakh(), "999.50");
        assert_eq!(Money(15_000_000).to_plain(), "150000.00");
    }

    #[test]
    fn ccb_shares_of_the_chiniot_block() {
        let total = Money(705_800_000);
        assert_eq!(share_of(total, 2000), Money(141_160_000));
        assert_eq!(share_of(total, 8000), Money(564_640_000));
    }

    proptest! {
        #[test]
        fn shares_are_within_half_a_paisa(amount in 0i64..1_000_000_000_000, bp in 0u32..=10_000) {
            let s = share_of(Money(amount), bp).0 as i128;
            let exact_x2 = amount as i128 * bp as i128 * 2;
            prop_assert!((s * 20_000 - exact_x2).abs() <= 10_000);
        }

        #[test]
        fn plain_form_round_trips(amount in -1_000_000_000_000i64..1_000_000_000_000) {
            prop_assert_eq!(Money::parse_major(&Money(amount).to_plain()).unwrap(), Money(amount));
            prop_assert_eq!(Money::parse_major(&Money(amount).to_lakh()).unwrap(), Money(amount));
        }
    }
}
