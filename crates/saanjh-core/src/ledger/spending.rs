//! Spending within the money that is there for it.
//!
//! By default an expenditure on a component may not take what has been spent
//! on it beyond what has been released for it (the CCB rule: spending follows
//! the instalments). An arrangement's `[spending.<component>]` rule (or
//! `[spending."*"]`) may say where else the money may come from:
//!
//! - `contributions_of = ["community"]`: the cash those roles contributed
//!   (less refunds) — the lane spends what its households collected on its
//!   internal works, with no release at all. Contributions are one pool per
//!   scheme, shared by every component whose rule draws on it;
//! - `overspend = "10%"`: spending may run ahead of its funds by up to that
//!   share of the component's estimate (an advance the funder agreed to).
//!
//! Beyond its releases a component draws first on its overspend allowance,
//! then on the pool. The check compares the scheme's standing before and
//! after an entry, so it also refuses reversals and refunds that would take
//! away money already spent, and it never blocks an entry that does not
//! make an existing shortfall worse.

use std::collections::{BTreeMap, BTreeSet};

use super::{Books, LedgerLine, Money, share_of};
use crate::arrangement::{Arrangement, parse_percent};
use crate::engine::{Refusal, SchemeState};
use crate::model::Component;

/// Where a scheme's spending stands against its funds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Per component that may not draw on contributions: spent beyond its
    /// releases and allowance.
    pub shortfall: BTreeMap<String, i64>,
    /// Spent beyond releases and allowances on components that draw on
    /// contributions.
    pub drawn: i64,
    /// Cash contributed by the roles the rules name, less refunds.
    pub pool: i64,
    /// `drawn` beyond `pool`.
    pub pool_shortfall: i64,
    pub pool_roles: BTreeSet<String>,
}

/// The most that may be spent on a component beyond what was released for
/// it, from its rule's `overspend` share of its estimate.
pub fn allowance(arr: &Arrangement, component: &Component) -> i64 {
    arr.spending_rule(&component.kind)
        .and_then(|r| r.overspend.as_ref())
        .and_then(|s| parse_percent(s.as_ref()).ok())
        .map(|bp| share_of(Money(component.estimate.unwrap_or(0)), bp).0)
        .unwrap_or(0)
}

fn draws_on_contributions(arr: &Arrangement, kind: &str) -> bool {
    arr.spending_rule(kind)
        .is_some_and(|r| !r.contributions_of.is_empty())
}

/// The standing of `books` for a scheme with these components.
pub fn standing(arr: &Arrangement, components: &[Component], books: &Books) -> Standing {
    let mut s = Standing::default();
    for c in components {
        if let Some(r) = arr.spending_rule(&c.kind) {
            s.pool_roles
                .extend(r.contributions_of.iter().map(|x| x.as_ref().clone()));
        }
    }
    s.pool = s
        .pool_roles
        .iter()
        .map(|r| books.cash_in.get(r).copied().unwrap_or(0))
        .sum::<i64>()
        .max(0);
    for c in components {
        let t = books.components.get(&c.kind).copied().unwrap_or_default();
        let beyond = (t.spent - t.released).max(0);
        let rest = (beyond - allowance(arr, c)).max(0);
        if draws_on_contributions(arr, &c.kind) {
            s.drawn += rest;
        } else if rest > 0 {
            s.shortfall.insert(c.kind.clone(), rest);
        }
    }
    s.pool_shortfall = (s.drawn - s.pool).max(0);
    s
}

fn component_name(arr: &Arrangement, kind: &str) -> String {
    arr.file
        .components
        .get(kind)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| kind.replace('_', " "))
}

fn roles_named(arr: &Arrangement, roles: &BTreeSet<String>) -> String {
    roles
        .iter()
        .map(|r| {
            arr.file
                .partners
                .get(r)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| r.clone())
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Refuse `line` if posting it to `scheme` would leave spending beyond the
/// money there is for it where there was none (or less) before.
pub fn check(arr: &Arrangement, scheme: &SchemeState, line: &LedgerLine) -> Result<(), Refusal> {
    let before = standing(arr, &scheme.components, &scheme.books);
    let mut books = scheme.books.clone();
    books.post(line);
    let after = standing(arr, &scheme.components, &books);
    let worse_component = scheme.components.iter().find(|c| {
        after.shortfall.get(&c.kind).copied().unwrap_or(0)
            > before.shortfall.get(&c.kind).copied().unwrap_or(0)
    });
    let pool_worse = after.pool_shortfall > before.pool_shortfall;
    if worse_component.is_none() && !pool_worse {
        return Ok(());
    }
    // The component the refusal is about: the one that got worse, else the
    // entry's own (a pool shortfall caused by spending on it), else the
    // first that draws on the pool.
    let kind = worse_component
        .map(|c| c.kind.clone())
        .or_else(|| line.component.clone())
        .or_else(|| {
            scheme
                .components
                .iter()
                .find(|c| draws_on_contributions(arr, &c.kind))
                .map(|c| c.kind.clone())
        })
        .unwrap_or_default();
    let component = scheme.components.iter().find(|c| c.kind == kind);
    let name = component_name(arr, &kind);
    let t = scheme
        .books
        .components
        .get(&kind)
        .copied()
        .unwrap_or_default();
    let allow = component.map(|c| allowance(arr, c)).unwrap_or(0);
    let rule = arr.spending_rule(&kind);
    let rule_id = match rule {
        Some(_) if arr.file.spending.contains_key(&kind) => format!("spending.{kind}"),
        Some(_) => "spending.*".to_string(),
        None => format!("spending.{kind}"),
    };
    let draws = draws_on_contributions(arr, &kind);
    let mut sources = vec![];
    if allow > 0 {
        sources.push(format!(
            "up to Rs {} may be spent beyond what is released",
            Money(allow).to_lakh()
        ));
    }
    if draws {
        sources.push(format!(
            "Rs {} of the {}'s own contributions is not yet spent",
            Money((before.pool - before.drawn).max(0)).to_lakh(),
            roles_named(arr, &before.pool_roles)
        ));
    }
    let sources = if sources.is_empty() {
        String::new()
    } else {
        format!("; {}", sources.join(", and "))
    };
    let message = match (line.kind.as_str(), line.reversed_kind.as_deref()) {
        ("expenditure", _) => format!(
            "this expenditure of Rs {} on the {name} is more than there is to spend on it: Rs {} has been released for the {name} and Rs {} already spent{sources}",
            Money(line.amount).to_lakh(),
            Money(t.released).to_lakh(),
            Money(t.spent).to_lakh(),
        ),
        ("reversal", Some("release")) => format!(
            "reversing this release of Rs {} would leave the {name} with Rs {} spent against Rs {} released{sources}",
            Money(line.amount).to_lakh(),
            Money(t.spent).to_lakh(),
            Money(t.released - line.amount).to_lakh(),
        ),
        _ => format!(
            "this would take away money already spent: Rs {} spent on the {name} beyond what was released for it is paid from the {}'s contributions, which would fall to Rs {}",
            Money(after.drawn).to_lakh(),
            roles_named(arr, &after.pool_roles),
            Money(after.pool).to_lakh(),
        ),
    };
    let allowed_if = rule
        .and_then(|r| r.explain.clone())
        .unwrap_or_else(|| {
            if draws {
                format!(
                    "release money for the {name} (a release naming `{kind}`) or collect the contributions first; a mistaken entry is corrected by reversing it"
                )
            } else {
                format!(
                    "release money for the {name} first (a release naming `{kind}`); no rule of this arrangement lets it be spent otherwise"
                )
            }
        });
    Err(Refusal {
        rule: rule_id,
        message,
        allowed_if,
        words: None,
    })
}
