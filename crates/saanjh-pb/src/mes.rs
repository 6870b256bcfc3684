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
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::count::{CountError, CountOptions, Profile, TieBreak, money_exact};
use crate::model::{Exact, Money};
use crate::outcome::{Add1Stop, Completion, CompletionRecord, Reason, Tie, Utility};

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
    /// How far (in micro-units of per-voter budget) the start could rise with every
    /// decision of this run unchanged; `None` = without limit.
    room: Option<BigRational>,
}

/// An amount that depends on how much x (micro-units) is added to every voter's start
/// budget: `a + c·x`. Every quantity MES computes is affine in x along a fixed sequence of
/// decisions, so each decision is the sign of an affine function, and that sign holds on a
/// whole interval of x. Add1 uses this to skip increments that cannot change the outcome.
#[derive(Clone, Debug)]
struct Aff {
    a: BigInt,
    c: BigInt,
}

impl Aff {
    fn constant(a: BigInt) -> Aff {
        Aff {
            a,
            c: BigInt::zero(),
        }
    }
    fn times(&self, k: &BigInt) -> Aff {
        Aff {
            a: &self.a * k,
            c: &self.c * k,
        }
    }
    fn minus(&self, o: &Aff) -> Aff {
        Aff {
            a: &self.a - &o.a,
            c: &self.c - &o.c,
        }
    }
    fn add_times(&mut self, o: &Aff, k: &BigInt) {
        self.a += &o.a * k;
        self.c += &o.c * k;
    }
}

/// A candidate's price at the current step: supporters of weight `w` not paying in full pay
/// `r / (den·w)` per unit of weight; `groups` are all supporters with money left.
struct Price {
    r: Aff,
    rv: BigInt,
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
    /// Class budgets as functions of x, and their values at the x of this run.
    num: Vec<Aff>,
    val: Vec<BigInt>,
    live: Vec<u64>,
    den: BigInt,
    zero: Option<u32>,
    counter: Vec<u64>,
    touched: Vec<u32>,
    /// Whether budgets depend on x at all (only in Add1).
    track: bool,
    /// Least room found so far, as an unreduced fraction (num, den).
    room: Option<(BigInt, BigInt)>,
}

impl<'a> State<'a> {
    fn new(p: &'a Profile, start: Aff, x: &BigInt, start_den: BigInt) -> State<'a> {
        let track = !start.c.is_zero();
        let v = &start.a + &start.c * x;
        State {
            p,
            class_of: vec![0; p.n],
            num: vec![start],
            val: vec![v],
            live: vec![p.n as u64],
            den: start_den,
            zero: None,
            counter: vec![0],
            touched: Vec::new(),
            track,
            room: None,
        }
    }

    /// Records that the decision "sign of g" (g's value now is `gv`) must not change.
    fn keep_sign(&mut self, g: &Aff, gv: &BigInt) {
        if !self.track || g.c.is_zero() {
            return;
        }
        if gv.is_zero() {
            self.room = Some((BigInt::zero(), BigInt::from(1)));
            return;
        }
        if gv.is_positive() == g.c.is_positive() {
            return;
        }
        // limit = |gv| / |g.c|; compared by cross-multiplying, reduced never (gcds are dear).
        let (ln, ld) = (gv.abs(), g.c.abs());
        let smaller = match &self.room {
            None => true,
            Some((rn, rd)) => &ln * rd < rn * &ld,
        };
        if smaller {
            self.room = Some((ln, ld));
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
        let mut money = Aff::constant(BigInt::zero());
        let mut mv = BigInt::zero();
        let mut w_total: u64 = 0;
        for &(k, w, m) in &groups {
            let mb = BigInt::from(m);
            mv += &self.val[k as usize] * &mb;
            if self.track {
                money.add_times(&self.num[k as usize], &mb);
            }
            w_total += w * m;
        }
        let cost_aff = Aff::constant(cost.clone());
        self.keep_sign(&money.minus(&cost_aff), &(&mv - &cost));
        if mv < cost {
            return Eval::Unaffordable(mv);
        }
        let val = &self.val;
        // Poorest per unit of weight first: they are the ones who may pay all they have.
        if self.p.uniform[c].is_some() {
            groups.sort_by(|a, b| val[a.0 as usize].cmp(&val[b.0 as usize]));
        } else {
            groups.sort_by(|a, b| (&val[a.0 as usize] * b.1).cmp(&(&val[b.0 as usize] * a.1)));
        }
        let mut rv = cost;
        let mut w_rem = w_total;
        let mut paid = 0usize;
        for &(k, w, m) in &groups {
            // Pays all iff budget/w < r/w_rem.
            if &val[k as usize] * w_rem < &rv * w {
                rv -= &val[k as usize] * m;
                w_rem -= w * m;
                paid += 1;
            } else {
                break;
            }
        }
        let paid_in_full = broke + groups[..paid].iter().map(|g| g.2).sum::<u64>();
        let mut r = cost_aff;
        if self.track {
            for &(k, _, m) in &groups[..paid] {
                r = r.minus(&self.num[k as usize].times(&BigInt::from(m)));
            }
            // The set of full payers is fixed while each group stays on its side of the price.
            let wr = BigInt::from(w_rem);
            for &(k, w, _) in &groups {
                let wb = BigInt::from(w);
                let h = r.times(&wb).minus(&self.num[k as usize].times(&wr));
                let hv = &rv * &wb - &self.val[k as usize] * &wr;
                self.keep_sign(&h, &hv);
            }
        }
        Eval::Price(Price {
            r,
            rv,
            w: w_rem,
            groups,
            paid_in_full,
        })
    }

    /// Buys `c` at `price`: supporters pay `min(budget, q·w)`; everyone's money moves to the
    /// finer common denominator `den·w`.
    fn buy(&mut self, c: usize, mut price: Price) {
        // q = r/(den·w); a factor common to r (for every x) and w cancels, which keeps the
        // common denominator from growing by the whole of w at every purchase.
        let mut g = price.rv.gcd(&BigInt::from(price.w));
        if self.track {
            g = g.gcd(&price.r.a).gcd(&price.r.c);
        }
        if !g.is_zero() && g != BigInt::from(1) {
            price.rv /= &g;
            price.r.a /= &g;
            price.r.c /= &g;
        }
        let scale = BigInt::from(price.w) / if g.is_zero() { BigInt::from(1) } else { g };
        for k in 0..self.num.len() {
            if self.live[k] > 0 && Some(k as u32) != self.zero {
                self.val[k] *= &scale;
                if self.track {
                    self.num[k] = self.num[k].times(&scale);
                }
            }
        }
        self.den *= &scale;
        let uniform = self.p.uniform[c].is_some();
        let mut remap_u: HashMap<u32, u32> = HashMap::new();
        let mut remap: HashMap<(u32, u64), u32> = HashMap::new();
        for &(k, w, _) in &price.groups {
            let wb = BigInt::from(w);
            let new_val = &self.val[k as usize] - &price.rv * &wb;
            let target = if new_val.is_positive() {
                let new_num = self.num[k as usize].minus(&price.r.times(&wb));
                self.num.push(new_num);
                self.val.push(new_val);
                self.live.push(0);
                (self.num.len() - 1) as u32
            } else {
                match self.zero {
                    Some(z) => z,
                    None => {
                        self.num.push(Aff::constant(BigInt::zero()));
                        self.val.push(BigInt::zero());
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
        for (k, n) in self.val.iter().enumerate() {
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

/// A price per unit of utility: `num / den`, `num` affine in x, `den` fixed.
#[derive(Clone)]
struct Rho {
    num: Aff,
    nv: BigInt,
    den: BigInt,
}

fn cmp_rho(a: &Rho, b: &Rho) -> Ordering {
    (&a.nv * &b.den).cmp(&(&b.nv * &a.den))
}

/// One MES run with every voter starting at `start(x) / start_den` (micro-units), at `x`.
#[allow(clippy::too_many_arguments)]
fn run(
    p: &Profile,
    tb: &TieBreak,
    util: Utility,
    cands: &[usize],
    start: Aff,
    x: &BigInt,
    start_den: BigInt,
    record: bool,
) -> Run {
    let mut st = State::new(p, start, x, start_den);
    // Lower bound on each project's price per unit of utility: prices only rise as voters
    // spend, so a project whose bound exceeds the best price can wait.
    let mut lb: Vec<Rho> = vec![
        Rho {
            num: Aff::constant(BigInt::zero()),
            nv: BigInt::zero(),
            den: BigInt::from(1),
        };
        p.cost.len()
    ];
    for &c in cands {
        let cost = BigInt::from(p.cost[c]);
        lb[c] = Rho {
            num: Aff::constant(cost.clone()),
            nv: cost,
            den: BigInt::from(p.votes[c]) * scale(p, util, c),
        };
    }
    let mut remaining: Vec<usize> = cands.to_vec();
    let mut out = Run {
        winners: Vec::new(),
        spent: 0,
        reasons: Vec::new(),
        ties: Vec::new(),
        room: None,
    };
    let mut step = 0usize;
    loop {
        step += 1;
        remaining.sort_by(|&a, &b| cmp_rho(&lb[a], &lb[b]).then(tb.rank[a].cmp(&tb.rank[b])));
        let mut best: Option<Rho> = None;
        let mut tied: Vec<usize> = Vec::new();
        let mut dropped: Vec<usize> = Vec::new();
        let mut evaluated: Vec<usize> = Vec::new();
        let mut pruned_from = remaining.len();
        for (idx, &c) in remaining.iter().enumerate() {
            if let Some(b) = &best
                && cmp_rho(&lb[c], b) == Ordering::Greater
            {
                pruned_from = idx;
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
                    let price = Rho {
                        num: pr.r,
                        nv: pr.rv,
                        den: &st.den * pr.w * scale(p, util, c),
                    };
                    let ord = match &best {
                        None => Ordering::Less,
                        Some(b) => cmp_rho(&price, b),
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
                    evaluated.push(c);
                }
            }
        }
        if best.is_none() {
            break;
        }
        let (w, tie) = tb.choose(&tied, step);
        out.ties.extend(tie);
        if st.track {
            // Compare with the winner's own price: with a tie, the first price found may
            // be a rival's, and a rival equal to itself would constrain nothing.
            let best = lb[w].clone();
            // The winner must stay the best: against every priced rival, and against the
            // lower bound of every rival not priced this step.
            let rivals = evaluated.iter().chain(&remaining[pruned_from..]);
            for &c in rivals {
                if c == w {
                    continue;
                }
                let g = lb[c]
                    .num
                    .times(&best.den)
                    .minus(&best.num.times(&lb[c].den));
                let gv = &lb[c].nv * &best.den - &best.nv * &lb[c].den;
                st.keep_sign(&g, &gv);
            }
        }
        remaining.retain(|c| !dropped.contains(c));
        let Eval::Price(price) = st.evaluate(w) else {
            unreachable!("a project just priced stays affordable within the step");
        };
        let reason = record.then(|| {
            let wq = BigInt::from(price.w);
            let rate = money_exact(price.rv.clone(), &st.den * &wq);
            let eff = Exact(BigRational::new(
                BigInt::from(p.cost[w]) * &st.den * &wq,
                price.rv.clone(),
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
    out.room = st.room.map(|(n, d)| BigRational::new(n, d));
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
    let util = opts.utility;
    let step = BigInt::from(opts.step.0);
    let x_at = |t: u64| &step * BigInt::from(t);
    // Every voter starts at (budget + n·x)/n: x is the Add1 raise in micro-units.
    if opts.completion == Completion::None {
        let r = run(
            p,
            tb,
            util,
            cands,
            Aff::constant(BigInt::from(p.budget)),
            &BigInt::zero(),
            n.clone(),
            true,
        );
        return Ok(MesResult {
            winners: r.winners,
            reasons: r.reasons,
            ties: r.ties,
            completion: None,
        });
    }
    let start = Aff {
        a: BigInt::from(p.budget),
        c: n.clone(),
    };
    let go = |t: u64, record: bool| {
        run(
            p,
            tb,
            util,
            cands,
            start.clone(),
            &x_at(t),
            n.clone(),
            record,
        )
    };
    // Plain Add1: keep the last outcome that fits; stop at the first that does not, or when
    // nothing is left to fund. With `add1_jump`, raises that provably leave every decision
    // of the run unchanged (hence the same, feasible outcome) are skipped, not rerun.
    let mut t: u64 = 0;
    let mut runs: u64 = 1;
    let mut cur = go(0, false);
    // The cap bounds the work (MES reruns), not the raises: with skipping, a round in a
    // currency of small units (PKR, HUF) may need millions of raises of one unit but only
    // a handful of reruns, and capping raises there would publish a non-Add1 outcome.
    let stop = loop {
        if cur.winners.len() == cands.len() {
            break Add1Stop::AllFunded;
        }
        if opts.completion == Completion::Add1e && exhaustive(p, cands, &cur) {
            break Add1Stop::Exhaustive;
        }
        let skip: u64 = if opts.add1_jump {
            match &cur.room {
                // No decision depends on the raise: the outcome can never change.
                None => break Add1Stop::CannotChange,
                Some(room) => {
                    let k = (room / BigRational::from_integer(step.clone()))
                        .ceil()
                        .to_integer();
                    k.max(BigInt::from(1)).try_into().unwrap_or(u64::MAX)
                }
            }
        } else {
            1
        };
        if runs >= opts.max_runs {
            break Add1Stop::RunCap { runs };
        }
        // Raises t+1 … next_t−1 give cur's outcome again (feasible, so accepted).
        let Some(next_t) = t.checked_add(skip) else {
            // Beyond any budget a u64 of steps can express: no raise left to try.
            break Add1Stop::CannotChange;
        };
        let next = go(next_t, false);
        runs += 1;
        if next.spent > p.budget {
            t = next_t - 1;
            break Add1Stop::OverBudget {
                spent: Money(next.spent),
            };
        }
        t = next_t;
        cur = next;
    };
    let fin = go(t, true);
    if fin.winners != cur.winners {
        // The skip rests on a proof; should it ever fail, count raise by raise instead of
        // publishing an outcome no run produced.
        debug_assert!(false, "Add1 skipping disagreed with a rerun");
        let slow = CountOptions {
            add1_jump: false,
            ..opts.clone()
        };
        return run_with_completion(p, tb, &slow, cands);
    }
    let per_voter = |t: u64| money_exact(&start.a + &start.c * x_at(t), n.clone());
    let rec = CompletionRecord {
        kind: opts.completion,
        step_per_voter: opts.step,
        start_per_voter: per_voter(0),
        final_per_voter: per_voter(t),
        iterations: t,
        runs,
        stopped_because: stop.explain(),
        stop,
    };
    Ok(MesResult {
        winners: fin.winners,
        reasons: fin.reasons,
        ties: fin.ties,
        completion: Some(rec),
    })
}
