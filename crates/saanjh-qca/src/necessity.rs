//! Analysis of necessary conditions: for every condition and its negation
//! (every level of a multi-value condition), inclusion and coverage of
//! necessity and relevance of necessity (RoN); then disjunctions (`A + ~B`)
//! of up to `max_size` literals that pass the inclusion cut-off while none
//! of their smaller disjunctions does (functional equivalents, Schneider &
//! Wagemann 2012 ch. 3.2.2).

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

pub fn necessity(setup: &Setup, max_size: usize, incl_cut: f64, cov_cut: f64) -> Vec<NecessityFit> {
    let y = &setup.outcome;
    let mut lits: Vec<(usize, u8, Vec<f64>)> = Vec::new();
    for (j, c) in setup.conditions.iter().enumerate() {
        let vals: Vec<u8> = if c.levels > 2 {
            (0..c.levels).collect()
        } else {
            vec![1, 0]
        };
        for v in vals {
            let t = Term::from_row(u128::from(v) << (4 * j), 1u128 << (4 * j));
            lits.push((j, v, setup.term_membership(&t)));
        }
    }
    let name = |(j, v): (usize, u8)| {
        let t = Term::from_row(u128::from(v) << (4 * j), 1u128 << (4 * j));
        setup.term_to_string(&t)
    };
    let mut out: Vec<NecessityFit> = lits
        .iter()
        .map(|(j, v, m)| {
            let n = fit::necessity(m, y);
            NecessityFit {
                expression: name((*j, *v)),
                incl: n.incl,
                ron: n.ron,
                cov: n.cov,
            }
        })
        .collect();
    // Disjunctions, smallest first; a passing disjunction makes its
    // supersets redundant.
    let mut passed: Vec<Vec<usize>> = lits
        .iter()
        .enumerate()
        .filter(|(_, (_, _, m))| at_least(fit::necessity(m, y).incl, incl_cut))
        .map(|(i, _)| vec![i])
        .collect();
    let mut frontier: Vec<Vec<usize>> = (0..lits.len()).map(|i| vec![i]).collect();
    for _size in 2..=max_size {
        let mut next = Vec::new();
        for combo in &frontier {
            let last = *combo.last().unwrap_or(&0);
            for i in last + 1..lits.len() {
                if combo.iter().any(|&c| lits[c].0 == lits[i].0) {
                    continue;
                }
                let mut cand = combo.clone();
                cand.push(i);
                if passed.iter().any(|p| p.iter().all(|x| cand.contains(x))) {
                    continue;
                }
                let refs: Vec<&[f64]> = cand.iter().map(|&c| lits[c].2.as_slice()).collect();
                let u = fit::union(&refs);
                let n = fit::necessity(&u, y);
                if at_least(n.incl, incl_cut) {
                    if at_least(n.cov, cov_cut) {
                        out.push(NecessityFit {
                            expression: cand
                                .iter()
                                .map(|&c| name((lits[c].0, lits[c].1)))
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
