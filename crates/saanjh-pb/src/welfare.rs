//! The utilitarian welfare maximum: the set of projects within budget with the greatest
//! total utility (a 0/1 knapsack), by exact branch and bound.
//!
//! Determinism under ties: projects are explored in order of utility per unit cost (then the
//! tie-break order), including before excluding, and a solution replaces the incumbent only
//! if strictly better. So among all welfare-maximising sets the rule returns the first in
//! that order: the one that, project by project, keeps the better-ranked project whenever
//! an optimum allows it. (pabutools solves an ILP whose choice among optima is unspecified.)

use num_bigint::BigInt;
use num_rational::BigRational;

use crate::count::{CountError, Profile, TieBreak};
use crate::model::{Exact, MICRO, Money};
use crate::outcome::{Reason, Utility};

pub(crate) struct WelfareResult {
    pub winners: Vec<usize>,
    pub reasons: Vec<(usize, Reason)>,
}

const NODE_CAP: u64 = 20_000_000;

struct Search<'a> {
    cost: &'a [u128],
    value: &'a [u128],
    chosen: Vec<bool>,
    best: Option<u128>,
    best_set: Vec<bool>,
    nodes: u64,
    overflow: bool,
}

impl Search<'_> {
    /// Is the fractional-relaxation bound from item i no better than the incumbent?
    fn hopeless(&mut self, i: usize, cap: u128, val: u128) -> bool {
        let Some(best) = self.best else { return false };
        let mut full = val;
        let mut cap = cap;
        for j in i..self.cost.len() {
            if self.cost[j] <= cap {
                cap -= self.cost[j];
                full += self.value[j];
            } else {
                // bound = full + value_j·cap/cost_j; compare bound ≤ best exactly.
                let lhs = full
                    .checked_mul(self.cost[j])
                    .and_then(|x| x.checked_add(self.value[j].checked_mul(cap)?));
                let rhs = best.checked_mul(self.cost[j]);
                return match (lhs, rhs) {
                    (Some(l), Some(r)) => l <= r,
                    _ => {
                        self.overflow = true;
                        true
                    }
                };
            }
        }
        full <= best
    }

    fn dfs(&mut self, i: usize, cap: u128, val: u128) {
        self.nodes += 1;
        if self.nodes > NODE_CAP || self.overflow {
            return;
        }
        if self.best.is_none_or(|b| val > b) {
            self.best = Some(val);
            self.best_set.clone_from(&self.chosen);
        }
        if i == self.cost.len() || self.hopeless(i, cap, val) {
            return;
        }
        if self.cost[i] <= cap {
            self.chosen[i] = true;
            self.dfs(i + 1, cap - self.cost[i], val + self.value[i]);
            self.chosen[i] = false;
        }
        self.dfs(i + 1, cap, val);
    }
}

pub(crate) fn run(
    p: &Profile,
    tb: &TieBreak,
    supported: &[usize],
    util: Utility,
) -> Result<WelfareResult, CountError> {
    let mut reasons = Vec::new();
    let mut items: Vec<usize> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    for &c in supported {
        if p.cost[c] > p.budget {
            reasons.push((
                c,
                Reason::OverWholeBudget {
                    cost: Money(p.cost[c]),
                    budget: Money(p.budget),
                },
            ));
        } else if p.cost[c] == 0 {
            free.push(c);
        } else {
            items.push(c);
        }
    }
    // Work in units of the greatest common divisor of the costs to keep numbers small.
    let mut g: i128 = p.budget.max(1);
    for &c in &items {
        g = gcd(g, p.cost[c]);
    }
    let unit_value = |c: usize| -> u128 {
        let f = match util {
            Utility::Cost => (p.cost[c] / g) as u128,
            Utility::Approval => 1,
        };
        u128::from(p.votes[c]) * f
    };
    items.sort_by(|&a, &b| {
        let (va, vb) = (unit_value(a), unit_value(b));
        let (ca, cb) = ((p.cost[a] / g) as u128, (p.cost[b] / g) as u128);
        (vb.saturating_mul(ca))
            .cmp(&va.saturating_mul(cb))
            .then(tb.rank[a].cmp(&tb.rank[b]))
    });
    let cost: Vec<u128> = items.iter().map(|&c| (p.cost[c] / g) as u128).collect();
    let value: Vec<u128> = items.iter().map(|&c| unit_value(c)).collect();
    let mut s = Search {
        cost: &cost,
        value: &value,
        chosen: vec![false; items.len()],
        best: None,
        best_set: vec![false; items.len()],
        nodes: 0,
        overflow: false,
    };
    s.dfs(0, (p.budget / g) as u128, 0);
    if s.overflow {
        return Err(CountError::TooLarge(
            "welfare values overflow 128 bits".into(),
        ));
    }
    if s.nodes > NODE_CAP {
        return Err(CountError::TooLarge(format!(
            "the welfare search needed more than {NODE_CAP} nodes"
        )));
    }
    let welfare = |c: usize| -> Exact {
        match util {
            Utility::Cost => Exact(BigRational::new(
                BigInt::from(p.votes[c]) * BigInt::from(p.cost[c]),
                BigInt::from(MICRO),
            )),
            Utility::Approval => Exact(BigRational::from_integer(BigInt::from(p.votes[c]))),
        }
    };
    // Free projects first, in the tie-break order, so the list is file-order independent.
    free.sort_by_key(|&c| tb.rank[c]);
    let mut winners = free.clone();
    for &c in &free {
        reasons.push((c, Reason::Free));
    }
    // Report winners in the tie-break order, which is stable and file-order independent.
    let mut chosen: Vec<usize> = items
        .iter()
        .zip(&s.best_set)
        .filter(|(_, b)| **b)
        .map(|(&c, _)| c)
        .collect();
    chosen.sort_by_key(|&c| tb.rank[c]);
    for (k, &c) in items.iter().enumerate() {
        let r = if s.best_set[k] {
            Reason::WelfareSelected {
                cost: Money(p.cost[c]),
                welfare: welfare(c),
            }
        } else {
            Reason::WelfareNotSelected {
                cost: Money(p.cost[c]),
                welfare: welfare(c),
            }
        };
        reasons.push((c, r));
    }
    winners.extend(chosen);
    Ok(WelfareResult { winners, reasons })
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}
