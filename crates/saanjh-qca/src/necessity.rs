//! Analysis of necessary conditions: for every condition and its negation
//! (every level of a multi-value condition), inclusion and coverage of
//! necessity and relevance of necessity (RoN); then, as the reference's
//! `superSubset`, the conjunctions (`DEV*STB`) that pass the cut-offs and
//! the disjunctions (`A + ~B`) of up to `max_size` literals that pass while
//! none of their smaller disjunctions does (functional equivalents,
//! Schneider & Wagemann 2012 ch. 3.2.2).

use serde::Serialize;

use crate::fit;
use crate::sets::{Setup, Term};
use crate::truth_table::at_least;

#[derive(Debug, Clone, Serialize)]
pub struct NecessityFit {
    pub expression: String,
    pub incl: f64,
    #[serde(rename = "RoN")]
    pub ron: f64,
    pub cov: f64,
}

/// Every literal's necessity fit (as the reference's `pof` prints for each
/// condition), followed by the conjunctions of two or more literals and the
/// disjunctions that [`super_subset`] finds necessary.
pub fn necessity(setup: &Setup, max_size: usize, incl_cut: f64, cov_cut: f64) -> Vec<NecessityFit> {
    let mut out = conditions(setup);
    out.extend(
        super_subset(setup, max_size, incl_cut, cov_cut)
            .into_iter()
            .filter(|f| f.expression.contains(['*', '+'])),
    );
    out
}

/// The reference's `superSubset` for necessity: every conjunction of
/// literals (one per condition) with necessity inclusion and coverage at
/// or above the cut-offs, simplest first; then disjunctions of up to
/// `max_size` literals that pass while no literal or smaller disjunction
/// inside them does (functional equivalents, Schneider & Wagemann 2012
/// ch. 3.2.2). A conjunction can only be necessary if each of its literals
/// is, so conjunctions are grown level by level from the passing ones.
pub fn super_subset(
    setup: &Setup,
    max_size: usize,
    incl_cut: f64,
    cov_cut: f64,
) -> Vec<NecessityFit> {
    let y = &setup.outcome;
    let lits = literals(setup);
    let mut out = Vec::new();
    // Conjunctions, apriori-style: (term, membership) of those passing incl.
    let mut level: Vec<(Term, Vec<f64>)> = lits
        .iter()
        .filter(|(_, m)| at_least(fit::necessity(m, y).incl, incl_cut))
        .cloned()
        .collect();
    let singles = level.clone();
    let mut passed_lits: Vec<Term> = Vec::new();
    while !level.is_empty() {
        let mut next: Vec<(Term, Vec<f64>)> = Vec::new();
        for (t, m) in &level {
            let n = ratios(fit::necessity(m, y));
            if !at_least(n.incl, incl_cut) {
                continue;
            }
            if t.n_literals() == 1 {
                passed_lits.push(*t);
            }
            if at_least(n.cov, cov_cut) {
                out.push(NecessityFit {
                    expression: setup.term_to_string(t),
                    incl: n.incl,
                    ron: n.ron,
                    cov: n.cov,
                });
            }
            // Extend with literals on later conditions only, so each
            // conjunction is built once.
            let top = 127 - t.mask.leading_zeros();
            for (s, sm) in &singles {
                if s.mask.trailing_zeros() <= top {
                    continue;
                }
                let c = Term {
                    mask: t.mask | s.mask,
                    vals: t.vals | s.vals,
                };
                let cm: Vec<f64> = m.iter().zip(sm).map(|(a, b)| a.min(*b)).collect();
                if at_least(fit::necessity(&cm, y).incl, incl_cut) {
                    next.push((c, cm));
                }
            }
        }
        level = next;
    }
    // Disjunctions of literals, smallest first; a passing disjunction (or
    // literal) makes its supersets redundant.
    let mut passed: Vec<Vec<usize>> = lits
        .iter()
        .enumerate()
        .filter(|(_, (t, _))| passed_lits.contains(t))
        .map(|(i, _)| vec![i])
        .collect();
    let mut frontier: Vec<Vec<usize>> = (0..lits.len())
        .filter(|i| !passed.iter().any(|p| p == &[*i]))
        .map(|i| vec![i])
        .collect();
    for _size in 2..=max_size {
        let mut next = Vec::new();
        for combo in &frontier {
            let last = *combo.last().unwrap_or(&0);
            for i in last + 1..lits.len() {
                if combo.iter().any(|&c| lits[c].0.mask == lits[i].0.mask) {
                    continue;
                }
                let mut cand = combo.clone();
                cand.push(i);
                if passed.iter().any(|p| p.iter().all(|x| cand.contains(x))) {
                    continue;
                }
                let refs: Vec<&[f64]> = cand.iter().map(|&c| lits[c].1.as_slice()).collect();
                let u = fit::union(&refs);
                let n = ratios(fit::necessity(&u, y));
                if at_least(n.incl, incl_cut) {
                    if at_least(n.cov, cov_cut) {
                        out.push(NecessityFit {
                            expression: cand
                                .iter()
                                .map(|&c| setup.term_to_string(&lits[c].0))
                                .collect::<Vec<_>>()
                                .join(" + "),
                            incl: n.incl,
                            ron: n.ron,
                            cov: n.cov,
                        });
                    }
                    passed.push(cand);
                } else {
                    next.push(cand);
                }
            }
        }
        frontier = next;
    }
    out
}

/// Necessity fit of every literal, whether or not it passes any cut-off.
pub fn conditions(setup: &Setup) -> Vec<NecessityFit> {
    literals(setup)
        .iter()
        .map(|(t, m)| fit_of(setup.term_to_string(t), m, &setup.outcome))
        .collect()
}

/// Each literal (X and ~X, or every level of a multi-value condition) with
/// its membership.
fn literals(setup: &Setup) -> Vec<(Term, Vec<f64>)> {
    let mut lits = Vec::new();
    for (j, c) in setup.conditions.iter().enumerate() {
        let vals: Vec<u8> = if c.levels > 2 {
            (0..c.levels).collect()
        } else {
            vec![1, 0]
        };
        for v in vals {
            let t = Term::from_row(u128::from(v) << (4 * j), 1u128 << (4 * j));
            let m = setup.term_membership(&t);
            lits.push((t, m));
        }
    }
    lits
}

fn fit_of(expression: String, m: &[f64], y: &[f64]) -> NecessityFit {
    let n = fit::necessity(m, y);
    NecessityFit {
        expression,
        incl: n.incl,
        ron: n.ron,
        cov: n.cov,
    }
}

/// `superSubset` reports 0 where `pof` would divide 0 by 0.
fn ratios(n: fit::Necessity) -> fit::Necessity {
    let z = |v: f64| if v.is_nan() { 0.0 } else { v };
    fit::Necessity {
        incl: z(n.incl),
        ron: z(n.ron),
        cov: z(n.cov),
    }
}
