//! Sequential Phragmén for participatory budgeting, exactly.
//!
//! Voters earn money continuously; a project is bought as soon as its supporters together
//! can pay its cost, which sets each supporter's "load" to the same new value
//! t = (cost + Σ supporters' loads) / #supporters. The project with the smallest t is bought
//! next; counting stops at the first project that does not fit the remaining budget
//! (the textbook and pabutools definition). Projects costing more than the whole budget
//! are set aside first, as pabutools does. Ballots count as approvals of their projects.
//!
//! After each purchase all supporters of the winner share one load, so loads are kept per
//! class (at most one class per winner, plus the initial one) over a common denominator.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::Zero;

use crate::count::{Profile, TieBreak};
use crate::model::{Exact, MICRO, Money};
use crate::outcome::{Reason, Tie};

pub(crate) struct PhragmenResult {
    pub winners: Vec<usize>,
    pub reasons: Vec<(usize, Reason)>,
    pub ties: Vec<Tie>,
}

pub(crate) fn run(p: &Profile, tb: &TieBreak, supported: &[usize]) -> PhragmenResult {
    let mut out = PhragmenResult {
        winners: Vec::new(),
        reasons: Vec::new(),
        ties: Vec::new(),
    };
    let mut remaining: Vec<usize> = Vec::new();
    for &c in supported {
        if p.cost[c] > p.budget {
            out.reasons.push((
                c,
                Reason::OverWholeBudget {
                    cost: Money(p.cost[c]),
                    budget: Money(p.budget),
                },
            ));
        } else {
            remaining.push(c);
        }
    }
    let mut class_of = vec![0u32; p.n];
    let mut num: Vec<BigInt> = vec![BigInt::zero()];
    let mut live: Vec<u64> = vec![p.n as u64];
    let mut den = BigInt::from(1);
    let mut counter: Vec<u64> = vec![0];
    let mut touched: Vec<u32> = Vec::new();
    let mut left = p.budget;
    let mut step = 0;
    while !remaining.is_empty() {
        step += 1;
        // t_c as (numerator over den, #supporters).
        let mut best: Option<(BigInt, u64)> = None;
        let mut tied: Vec<usize> = Vec::new();
        counter.resize(num.len(), 0);
        for &c in &remaining {
            for &(v, _) in &p.approvers[c] {
                let k = class_of[v as usize];
                if counter[k as usize] == 0 {
                    touched.push(k);
                }
                counter[k as usize] += 1;
            }
            let mut s = BigInt::from(p.cost[c]) * &den;
            for &k in &touched {
                s += &num[k as usize] * counter[k as usize];
                counter[k as usize] = 0;
            }
            touched.clear();
            let a = p.supporters[c];
            let ord = match &best {
                None => std::cmp::Ordering::Less,
                Some((bs, ba)) => (&s * *ba).cmp(&(bs * a)),
            };
            match ord {
                std::cmp::Ordering::Less => {
                    best = Some((s, a));
                    tied.clear();
                    tied.push(c);
                }
                std::cmp::Ordering::Equal => tied.push(c),
                std::cmp::Ordering::Greater => {}
            }
        }
        let Some((s, a)) = best else { break };
        let (w, tie) = tb.choose(&tied, step);
        out.ties.extend(tie);
        if p.cost[w] > left {
            for &c in &remaining {
                out.reasons.push((
                    c,
                    Reason::PhragmenStopped {
                        step,
                        next: tb.ids[w].clone(),
                        next_cost: Money(p.cost[w]),
                        left: Money(left),
                    },
                ));
            }
            break;
        }
        // New load s/(den·a); move everyone to the common denominator den·a/g.
        let g = s.gcd(&BigInt::from(a));
        let s = &s / &g;
        let scale = BigInt::from(a) / &g;
        for k in 0..num.len() {
            if live[k] > 0 {
                num[k] *= &scale;
            }
        }
        den *= &scale;
        num.push(s.clone());
        live.push(0);
        let new = (num.len() - 1) as u32;
        for &(v, _) in &p.approvers[w] {
            let old = class_of[v as usize];
            live[old as usize] -= 1;
            live[new as usize] += 1;
            class_of[v as usize] = new;
        }
        left -= p.cost[w];
        out.winners.push(w);
        out.reasons.push((
            w,
            Reason::PhragmenSelected {
                step,
                cost: Money(p.cost[w]),
                max_load: Exact(BigRational::new(s, &den * BigInt::from(MICRO))),
            },
        ));
        remaining.retain(|&c| c != w);
    }
    out
}
