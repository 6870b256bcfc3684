//! The Method of Equal Shares, exactly, and its Add1 completion.
//!
//! Why it is fast without floats: voters who supported the same funded projects in the same
//! steps hold the same money, so budgets are kept per *class* of voters, not per voter, and
//! all class budgets share one denominator, so sums and comparisons are big-integer
//! additions and multiplications with no gcd per operation. Evaluating a project counts its
//! supporters per class (an array walk) and then works over the few distinct budgets.
//!
//! Rule (Peters–Skowron; equalshares.net): every voter starts with budget/n. A project is
//! affordable at rate q if its supporters can pay `min(budget_i, q·w_i)` summing to its cost
//! (w_i = the voter's points, 1 on approval ballots). Each step buys the affordable project
//! with the smallest q per unit of utility (q/cost for cost utility, q for approval
//! utility); ties go to the recorded tie-break order.

use std::cmp::Ordering;
use std::collections::HashMap;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};

use crate::count::{CountError, CountOptions, Profile, TieBreak, money_exact};
use crate::model::{Exact, Money};
use crate::outcome::{Completion, CompletionRecord, Reason, Tie, Utility};

pub(crate) struct MesResult {
    pub winners: Vec<usize>,
    pub reasons: Vec<(usize, Reason)>,
    pub ties: Vec<Tie>,
    pub completion: Option<CompletionRecord>,
}

struct Run {
    winners: Vec<usize>,
    spent: i128,
    reasons: Vec<(usize, Reason)>,
    ties: Vec<Tie>,
}

/// A candidate's price at the current step: supporters of weight `w` still pay in full
/// at rate `r / (den·w)` per unit of weight; the full payers are in `groups` too.
struct Price {
    r: BigInt,
    w: u64,
    groups: Vec<(u32, u64, u64)>,
    paid_in_full: u64,
}

enum Eval {
    Price(Price),
    /// Supporters' money (numerator over the current denominator) is below the cost.
    Unaffordable(BigInt),
}

struct State<'a> {
    p: &'a Profile,
    class_of: Vec<u32>,
    num: Vec<BigInt>,
    live: Vec<u64>,
    den: BigInt,
    zero: Option<u32>,
    counter: Vec<u64>,
    touched: Vec<u32>,
}

impl<'a> State<'a> {
    fn new(p: &'a Profile, start_num: BigInt, start_den: BigInt) -> State<'a> {
        State {
            p,
            class_of: vec![0; p.n],
            num: vec![start_num],
            live: vec![p.n as u64],
            den: start_den,
            zero: None,
            counter: vec![0],
            touched: Vec::new(),
        }
    }

    /// Supporters of `c` grouped by (class, weight), with counts.
    fn groups(&mut self, c: usize) -> Vec<(u32, u64, u64)> {
        let app = &self.p.approvers[c];
        if let Some(w0) = self.p.uniform[c] {
            if self.counter.len() < self.num.len() {
                self.counter.resize(self.num.len(), 0);
            }
            for &(v, _) in app {
                let k = self.class_of[v as usize];
                let slot = &mut self.counter[k as usize];
                if *slot == 0 {
                    self.touched.push(k);
                }
                *slot += 1;
            }
            let mut g = Vec::with_capacity(self.touched.len());
            for &k in &self.touched {
                g.push((k, w0, self.counter[k as usize]));
                self.counter[k as usize] = 0;
            }
            self.touched.clear();
            g
        } else {
            let mut pairs: Vec<(u32, u64)> = app
                .iter()
                .map(|&(v, w)| (self.class_of[v as usize], w))
                .collect();
            pairs.sort_unstable();
            let mut g: Vec<(u32, u64, u64)> = Vec::new();
            for (k, w) in pairs {
                match g.last_mut() {
                    Some(last) if last.0 == k && last.1 == w => last.2 += 1,
                    _ => g.push((k, w, 1)),
                }
            }
            g
        }
    }

    fn evaluate(&mut self, c: usize) -> Eval {
        let mut groups = self.groups(c);
        let zero = self.zero;
        // Supporters with nothing left can pay nothing: they count as having given all.
        let broke: u64 = groups
            .iter()
            .filter(|g| Some(g.0) == zero)
            .map(|g| g.2)
            .sum();
        groups.retain(|g| Some(g.0) != zero);
        let cost = BigInt::from(self.p.cost[c]) * &self.den;
        let mut money = BigInt::zero();
        let mut w_total: u64 = 0;
        for &(k, w, m) in &groups {
            money += &self.num[k as usize] * m;
            w_total += w * m;
        }
        if money < cost {
            return Eval::Unaffordable(money);
        }
        let num = &self.num;
        // Poorest per unit of weight first: they are the ones who may pay all they have.
        if self.p.uniform[c].is_some() {
            groups.sort_by(|a, b| num[a.0 as usize].cmp(&num[b.0 as usize]));
        } else {
            groups.sort_by(|a, b| (&num[a.0 as usize] * b.1).cmp(&(&num[b.0 as usize] * a.1)));
        }
        let mut r = cost;
        let mut w_rem = w_total;
        let mut paid_in_full = broke;
        for &(k, w, m) in &groups {
            // Pays all iff budget/w < r/w_rem.
            if &num[k as usize] * w_rem < &r * w {
                r -= &num[k as usize] * m;
                w_rem -= w * m;
                paid_in_full += m;
            } else {
                break;
            }
        }
        Eval::Price(Price {
            r,
            w: w_rem,
            groups,
            paid_in_full,
        })
    }

    /// Buys `c` at `price`: supporters pay `min(budget, q·w)`; everyone's money moves to the
    /// finer common denominator `den·w/g`.
    fn buy(&mut self, c: usize, price: Price) {
        let g = price.r.gcd(&BigInt::from(price.w));
        let r = &price.r / &g;
        let scale = BigInt::from(price.w) / &g;
        for k in 0..self.num.len() {
            if self.live[k] > 0 && Some(k as u32) != self.zero {
                self.num[k] *= &scale;
            }
        }
        self.den *= &scale;
        let uniform = self.p.uniform[c].is_some();
        let mut remap_u: HashMap<u32, u32> = HashMap::new();
        let mut remap: HashMap<(u32, u64), u32> = HashMap::new();
        for &(k, w, _) in &price.groups {
            let new_num = &self.num[k as usize] - &r * w;
            let target = if new_num.is_positive() {
                self.num.push(new_num);
                self.live.push(0);
                (self.num.len() - 1) as u32
            } else {
                match self.zero {
                    Some(z) => z,
                    None => {
                        self.num.push(BigInt::zero());
                        self.live.push(0);
                        let z = (self.num.len() - 1) as u32;
                        self.zero = Some(z);
                        z
                    }
                }
            };
            if uniform {
                remap_u.insert(k, target);
            } else {
                remap.insert((k, w), target);
            }
        }
        for &(v, w) in &self.p.approvers[c] {
            let old = self.class_of[v as usize];
            if Some(old) == self.zero {
                continue;
            }
            let new = if uniform {
                remap_u.get(&old)
            } else {
                remap.get(&(old, w))
            };
            if let Some(&new) = new {
                self.live[old as usize] -= 1;
                self.live[new as usize] += 1;
                self.class_of[v as usize] = new;
            }
        }
    }

    fn total_money(&self) -> BigInt {
        let mut t = BigInt::zero();
        for (k, n) in self.num.iter().enumerate() {
            if self.live[k] > 0 {
                t += n * self.live[k];
            }
        }
        t
    }
}

/// Utility scale of project c: what one unit of weight is worth.
fn scale(p: &Profile, util: Utility, c: usize) -> BigInt {
    match util {
        Utility::Cost => BigInt::from(p.cost[c]),
        Utility::Approval => BigInt::from(1),
    }
}

/// One MES run from a per-voter budget of `start_num / start_den` (micro-units).
fn run(
    p: &Profile,
    tb: &TieBreak,
    util: Utility,
    cands: &[usize],
    start_num: BigInt,
    start_den: BigInt,
    record: bool,
) -> Run {
    let mut st = State::new(p, start_num, start_den);
    // Lower bound on each project's price per unit of utility, as (num, den): prices only
    // rise as voters spend, so a project whose bound exceeds the best price can wait.
    let mut lb: Vec<(BigInt, BigInt)> = vec![(BigInt::zero(), BigInt::from(1)); p.cost.len()];
    for &c in cands {
        lb[c] = (
            BigInt::from(p.cost[c]),
            BigInt::from(p.votes[c]) * scale(p, util, c),
        );
    }
    let mut remaining: Vec<usize> = cands.to_vec();
    let mut out = Run {
        winners: Vec::new(),
        spent: 0,
        reasons: Vec::new(),
        ties: Vec::new(),
    };
    let cmp = |a: &(BigInt, BigInt), b: &(BigInt, BigInt)| (&a.0 * &b.1).cmp(&(&b.0 * &a.1));
    let mut step = 0usize;
    loop {
        step += 1;
        remaining.sort_by(|&a, &b| cmp(&lb[a], &lb[b]).then(tb.rank[a].cmp(&tb.rank[b])));
        let mut best: Option<(BigInt, BigInt)> = None;
        let mut tied: Vec<usize> = Vec::new();
        let mut dropped: Vec<usize> = Vec::new();
        for &c in &remaining {
            if let Some(b) = &best
                && cmp(&lb[c], b) == Ordering::Greater
            {
                break;
            }
            match st.evaluate(c) {
                Eval::Unaffordable(money) => {
                    dropped.push(c);
                    if record {
                        out.reasons.push((
                            c,
                            Reason::MesUnaffordable {
                                step,
                                cost: Money(p.cost[c]),
                                supporters_money: money_exact(money, st.den.clone()),
                            },
                        ));
                    }
                }
                Eval::Price(pr) => {
                    let price = (pr.r, &st.den * pr.w * scale(p, util, c));
                    let ord = match &best {
                        None => Ordering::Less,
                        Some(b) => cmp(&price, b),
                    };
                    match ord {
                        Ordering::Less => {
                            best = Some(price.clone());
                            tied.clear();
                            tied.push(c);
                        }
                        Ordering::Equal => tied.push(c),
                        Ordering::Greater => {}
                    }
                    lb[c] = price;
                }
            }
        }
        remaining.retain(|c| !dropped.contains(c));
        if tied.is_empty() {
            break;
        }
        let (w, tie) = tb.choose(&tied, step);
        out.ties.extend(tie);
        let Eval::Price(price) = st.evaluate(w) else {
            unreachable!("a project just priced stays affordable within the step");
        };
        let reason = record.then(|| {
            let wq = BigInt::from(price.w);
            let rate = money_exact(price.r.clone(), &st.den * &wq);
            let eff = Exact(num_rational::BigRational::new(
                BigInt::from(p.cost[w]) * &st.den * &wq,
                price.r.clone(),
            ));
            (rate, eff, price.paid_in_full)
        });
        st.buy(w, price);
        if let Some((rate, eff, paid_in_full)) = reason {
            out.reasons.push((
                w,
                Reason::MesSelected {
                    step,
                    cost: Money(p.cost[w]),
                    rate,
                    effective_votes: eff,
                    supporters: p.supporters[w],
                    paid_in_full,
                    voters_money_left: money_exact(st.total_money(), st.den.clone()),
                },
            ));
        }
        out.winners.push(w);
        out.spent += p.cost[w];
        remaining.retain(|&c| c != w);
    }
    out
}

/// No unfunded candidate fits in what the outcome leaves of the budget.
fn exhaustive(p: &Profile, cands: &[usize], r: &Run) -> bool {
    let left = p.budget - r.spent;
    cands
        .iter()
        .all(|c| r.winners.contains(c) || p.cost[*c] > left)
}

/// MES with the chosen completion over the supported, non-free projects `cands`.
pub(crate) fn run_with_completion(
    p: &Profile,
    tb: &TieBreak,
    opts: &CountOptions,
    cands: &[usize],
) -> Result<MesResult, CountError> {
    if p.n == 0 {
        return Ok(MesResult {
            winners: Vec::new(),
            reasons: Vec::new(),
            ties: Vec::new(),
            completion: None,
        });
    }
    let n = BigInt::from(p.n);
    let start = |t: u64| BigInt::from(p.budget) + BigInt::from(opts.step.0) * BigInt::from(t) * &n;
    let util = opts.utility;
    if opts.completion == Completion::None {
        let r = run(p, tb, util, cands, start(0), n.clone(), true);
        return Ok(MesResult {
            winners: r.winners,
            reasons: r.reasons,
            ties: r.ties,
            completion: None,
        });
    }
    // Plain Add1: keep the last outcome that fits; stop at the first that does not, or when
    // nothing is left to fund (a further raise could not change the outcome).
    let mut t: u64 = 0;
    let mut cur = run(p, tb, util, cands, start(0), n.clone(), false);
    let stopped_because;
    loop {
        if cur.winners.len() == cands.len() {
            stopped_because = "every supported project is funded".to_string();
            break;
        }
        if opts.completion == Completion::Add1e && exhaustive(p, cands, &cur) {
            stopped_because =
                "the outcome is exhaustive: nothing unfunded fits the money left".to_string();
            break;
        }
        if t >= opts.max_iterations {
            stopped_because = format!("iteration cap of {} reached", opts.max_iterations);
            break;
        }
        let next = run(p, tb, util, cands, start(t + 1), n.clone(), false);
        if next.spent > p.budget {
            stopped_because = format!(
                "one more step would select projects costing {}, over the budget",
                Money(next.spent)
            );
            break;
        }
        t += 1;
        cur = next;
    }
    let fin = run(p, tb, util, cands, start(t), n.clone(), true);
    debug_assert_eq!(fin.winners, cur.winners);
    let per_voter = |t: u64| money_exact(start(t), n.clone());
    let rec = CompletionRecord {
        kind: opts.completion,
        step_per_voter: opts.step,
        start_per_voter: per_voter(0),
        final_per_voter: per_voter(t),
        iterations: t,
        stopped_because,
    };
    Ok(MesResult {
        winners: fin.winners,
        reasons: fin.reasons,
        ties: fin.ties,
        completion: Some(rec),
    })
}
