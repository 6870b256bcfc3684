//! Who owes what, who has put in what, and who has put in more than their
//! part — per partner role and per household (the lane's list of who paid
//! how much, domain.md §2.2).
//!
//! A role "puts in" what it contributed and released, less what was
//! refunded to it. It owes its minimum share of the estimate (`owed`); it
//! may put in up to its `ceiling` (its exact share, its `at_most` share, or
//! the whole component where no upper bound is given) or up to what it
//! pledged, whichever is more. Anything beyond that is an over-payment and
//! is shown as one, never folded silently into "paid".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Books, Money, RoleTotals, owed_for, share_of};
use crate::arrangement::{Arrangement, ShareSpec, parse_percent};
use crate::model::Component;

/// One partner role's position in a scheme (or summed over an initiative).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleFigures {
    pub role: String,
    /// The role's name in the arrangement ("Citizen Community Board").
    pub name: String,
    pub owed: Money,
    /// The most the payoff rules have the role bear.
    pub ceiling: Money,
    pub pledged: Money,
    /// Contributed in cash, labour and materials.
    pub paid: Money,
    pub released: Money,
    pub spent: Money,
    pub refunded: Money,
    /// paid + released − refunded.
    pub put_in: Money,
    /// What is still owed: owed − put in, when positive.
    pub outstanding: Money,
    /// Put in beyond the larger of pledge and ceiling.
    pub overpaid: Money,
}

impl RoleFigures {
    fn add(&mut self, o: &RoleFigures) {
        for (a, b) in [
            (&mut self.owed, o.owed),
            (&mut self.ceiling, o.ceiling),
            (&mut self.pledged, o.pledged),
            (&mut self.paid, o.paid),
            (&mut self.released, o.released),
            (&mut self.spent, o.spent),
            (&mut self.refunded, o.refunded),
            (&mut self.put_in, o.put_in),
            (&mut self.outstanding, o.outstanding),
            (&mut self.overpaid, o.overpaid),
        ] {
            a.0 += b.0;
        }
    }
}

/// The most each role bears of the components under the payoff rules.
pub fn ceilings(arr: &Arrangement, components: &[Component]) -> BTreeMap<String, Money> {
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
                    .at_most
                    .as_deref()
                    .and_then(|s| parse_percent(s).ok())
                    .unwrap_or(10_000),
            };
            out.entry(role.clone()).or_default().0 += share_of(Money(estimate), bp).0;
        }
    }
    out
}

/// Figures for one role from its owed share, ceiling and totals.
pub fn role_figures(
    role: &str,
    name: &str,
    owed: Money,
    ceiling: Money,
    t: RoleTotals,
) -> RoleFigures {
    let put_in = t.paid + t.released - t.refunded;
    let cap = ceiling.0.max(t.pledged);
    RoleFigures {
        role: role.to_string(),
        name: name.to_string(),
        owed,
        ceiling,
        pledged: Money(t.pledged),
        paid: Money(t.paid),
        released: Money(t.released),
        spent: Money(t.spent),
        refunded: Money(t.refunded),
        put_in: Money(put_in),
        outstanding: Money((owed.0 - put_in).max(0)),
        overpaid: Money((put_in - cap).max(0)),
    }
}

/// Every partner role's figures for a scheme, in the arrangement's order.
pub fn roles(
    arr: &Arrangement,
    components: &[Component],
    totals: &BTreeMap<String, RoleTotals>,
) -> Vec<RoleFigures> {
    let owed = owed_for(arr, components);
    let ceilings = ceilings(arr, components);
    arr.file
        .partners
        .iter()
        .map(|(role, p)| {
            role_figures(
                role,
                &p.name,
                owed.get(role).copied().unwrap_or_default(),
                ceilings.get(role).copied().unwrap_or_default(),
                totals.get(role).copied().unwrap_or_default(),
            )
        })
        .collect()
}

/// Sum role figures across schemes (an initiative's statement). Outstanding
/// and over-paid are summed scheme by scheme, so one scheme's over-payment
/// never hides another's arrears.
pub fn sum_roles<'a>(lists: impl IntoIterator<Item = &'a [RoleFigures]>) -> Vec<RoleFigures> {
    let mut out: Vec<RoleFigures> = vec![];
    for list in lists {
        for r in list {
            match out.iter_mut().find(|x| x.role == r.role) {
                Some(x) => x.add(r),
                None => out.push(r.clone()),
            }
        }
    }
    out
}

/// A household in the scheme's register, as statements need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdRef {
    pub id: String,
    /// House number as painted on the door.
    pub house: String,
    /// Head of household: a name, shown only where information rules allow.
    pub head: Option<String>,
}

/// One household's part in the lane's share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdFigures {
    pub household: String,
    pub house: String,
    pub head: Option<String>,
    /// Its pledge, or else an equal part of its role's owed share.
    pub due: Money,
    pub pledged: Money,
    /// Contributed, less refunds to it, net of reversals.
    pub paid: Money,
    pub outstanding: Money,
    pub overpaid: Money,
}

/// The register with who paid how much. A household's due is what it
/// pledged; with no pledge, an equal part of the owed share of the role its
/// entries are made for (the lane meeting's "Rs 1,500 a house"), rounded
/// half up — so the parts can differ from the role's share by a paisa or so
/// per household, which the role's own figures do not.
pub fn households(
    arr: &Arrangement,
    components: &[Component],
    register: &[HouseholdRef],
    books: &Books,
) -> Vec<HouseholdFigures> {
    // With no entry naming a household yet, the households' role is the one
    // that delivers the internal works (the community, in every built-in).
    let role = books.household_role.clone().or_else(|| {
        arr.file
            .components
            .values()
            .find(|c| c.domain == crate::arrangement::Domain::Internal)
            .map(|c| c.delivered_by.as_ref().clone())
    });
    let role_owed = role
        .and_then(|r| owed_for(arr, components).get(&r).copied())
        .unwrap_or_default();
    let n = register.len() as i64;
    // An exact division rounded half up (basis points are too coarse for a
    // lane of 70 houses).
    let equal_part = if n > 0 {
        Money(((role_owed.0 as i128 * 2 + n as i128) / (2 * n as i128)) as i64)
    } else {
        Money::ZERO
    };
    register
        .iter()
        .map(|h| {
            let t = books.households.get(&h.id).copied().unwrap_or_default();
            let (p, got) = (t.pledged, t.paid);
            let due = if p > 0 { p } else { equal_part.0 };
            HouseholdFigures {
                household: h.id.clone(),
                house: h.house.clone(),
                head: h.head.clone(),
                due: Money(due),
                pledged: Money(p),
                paid: Money(got),
                outstanding: Money((due - got).max(0)),
                overpaid: Money((got - due).max(0)),
            }
        })
        .collect()
}

/// Counts of households by how far they have paid: what a statement shows
/// where names may not be shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HouseholdCounts {
    pub registered: u32,
    pub paid_in_full: u32,
    pub paid_part: u32,
    pub paid_nothing: u32,
    pub overpaid: u32,
    pub total_due: Money,
    pub total_paid: Money,
}

pub fn household_counts(list: &[HouseholdFigures]) -> HouseholdCounts {
    let mut c = HouseholdCounts {
        registered: list.len() as u32,
        ..Default::default()
    };
    for h in list {
        c.total_due.0 += h.due.0;
        c.total_paid.0 += h.paid.0;
        if h.paid.0 <= 0 {
            c.paid_nothing += 1;
        } else if h.outstanding.0 > 0 {
            c.paid_part += 1;
        } else {
            c.paid_in_full += 1;
        }
        if h.overpaid.0 > 0 {
            c.overpaid += 1;
        }
    }
    c
}
