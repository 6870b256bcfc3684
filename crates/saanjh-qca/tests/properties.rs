//! Properties every minimisation must have, on random crisp and fuzzy data:
//! terms are implicants that cover some explained row, every explained row is
//! covered, no term of a model is redundant, the models are exactly the
//! minimum covers found by brute force on small problems, and nothing
//! depends on the order of cases or of conditions.

use std::collections::BTreeSet;

use proptest::prelude::*;
use saanjh_qca::*;

fn dataset(k: usize, rows: &[(Vec<f64>, f64)]) -> Dataset {
    let mut column_names: Vec<String> = (0..k).map(|j| format!("C{j}")).collect();
    column_names.push("Y".into());
    let mut columns = vec![Vec::new(); k + 1];
    for (x, y) in rows {
        for j in 0..k {
            columns[j].push(x[j]);
        }
        columns[k].push(*y);
    }
    Dataset {
        case_names: (0..rows.len()).map(|i| format!("c{i}")).collect(),
        column_names,
        columns,
    }
}

fn crisp_cases() -> impl Strategy<Value = (usize, Vec<(Vec<f64>, f64)>)> {
    (2usize..=6).prop_flat_map(|k| {
        let case = (prop::collection::vec(0u8..2, k), 0u8..2).prop_map(|(x, y)| {
            (
                x.into_iter().map(f64::from).collect::<Vec<_>>(),
                f64::from(y),
            )
        });
        (Just(k), prop::collection::vec(case, 1..40))
    })
}

fn fuzzy_cases() -> impl Strategy<Value = (usize, Vec<(Vec<f64>, f64)>)> {
    (2usize..=5).prop_flat_map(|k| {
        // Avoid exactly 0.5 so every case has a row.
        let m = (0u32..=100)
            .prop_filter("not 0.5", |v| *v != 50)
            .prop_map(|v| f64::from(v) / 100.0);
        let case = (prop::collection::vec(m.clone(), k), m);
        (Just(k), prop::collection::vec(case, 1..30))
    })
}

fn names(k: usize) -> Vec<String> {
    (0..k).map(|j| format!("C{j}")).collect()
}

/// Checks the set-cover properties of one solution; `conservative_k` asks
/// that every term's whole cube lie in the explained rows.
fn check_solution(sol: &Solution, pos: &[u128], neg: &[u128], conservative_k: Option<usize>) {
    for m in &sol.models {
        let terms: Vec<Term> = m.terms.iter().map(|t| t.term).collect();
        for t in &terms {
            assert!(
                pos.iter().any(|&r| t.covers(r)),
                "{} covers no explained row",
                t.mask
            );
            assert!(
                !neg.iter().any(|&r| t.covers(r)),
                "a term covers a negative row"
            );
            if let Some(k) = conservative_k {
                let cube = t.rows(&vec![2; k], 1 << 12).unwrap();
                assert!(
                    cube.iter().all(|r| pos.contains(r)),
                    "a conservative term covers a row not explained"
                );
            }
        }
        for &r in pos {
            assert!(
                terms.iter().any(|t| t.covers(r)),
                "explained row {r:x} is not covered"
            );
        }
        for skip in 0..terms.len() {
            let rest: Vec<&Term> = terms
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, t)| t)
                .collect();
            assert!(
                pos.iter().any(|&r| !rest.iter().any(|t| t.covers(r))),
                "term {skip} of {} is redundant",
                m.expression
            );
        }
    }
    // All models have the same, minimum, number of terms.
    let sizes: BTreeSet<usize> = sol.models.iter().map(|m| m.terms.len()).collect();
    assert!(sizes.len() <= 1);
}

/// Brute force: all prime implicants over k binary conditions, then all
/// covers of minimum size.
fn brute_force(k: usize, pos: &[u128], allowed: &dyn Fn(u128) -> bool) -> BTreeSet<BTreeSet<Term>> {
    let mut implicants = Vec::new();
    for code in 0..3usize.pow(k as u32) {
        let mut c = code;
        let mut mask = 0u128;
        let mut vals = 0u128;
        for j in 0..k {
            let d = c % 3;
            c /= 3;
            if d < 2 {
                mask |= 1 << (4 * j);
                vals |= (d as u128) << (4 * j);
            }
        }
        let t = Term { mask, vals };
        let rows = t.rows(&vec![2; k], 1 << 12).unwrap();
        if rows.iter().all(|&r| allowed(r)) && pos.iter().any(|&r| t.covers(r)) {
            implicants.push(t);
        }
    }
    let primes: Vec<Term> = implicants
        .iter()
        .copied()
        .filter(|t| !implicants.iter().any(|o| o != t && o.includes(t)))
        .collect();
    for size in 1..=primes.len() {
        let mut found = BTreeSet::new();
        let mut idx: Vec<usize> = (0..size).collect();
        loop {
            if pos
                .iter()
                .all(|&r| idx.iter().any(|&i| primes[i].covers(r)))
            {
                found.insert(idx.iter().map(|&i| primes[i]).collect::<BTreeSet<Term>>());
            }
            // Next combination.
            let mut i = size;
            while i > 0 && idx[i - 1] == primes.len() - size + i - 1 {
                i -= 1;
            }
            if i == 0 {
                break;
            }
            idx[i - 1] += 1;
            for j in i..size {
                idx[j] = idx[j - 1] + 1;
            }
        }
        if !found.is_empty() {
            return found;
        }
    }
    BTreeSet::new()
}

fn term_sets(s: &Solution) -> BTreeSet<BTreeSet<Term>> {
    s.models
        .iter()
        .map(|m| m.terms.iter().map(|t| t.term).collect())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn crisp_solutions_are_minimal_covers((k, cases) in crisp_cases()) {
        let data = dataset(k, &cases);
        let setup = Setup::new(&data, "Y", &names(k)).unwrap();
        let tt = truth_table(&setup, &TruthTableOptions::default()).unwrap();
        let pos: Vec<u128> = tt.rows.iter().filter(|r| r.out == Out::One).map(|r| r.code).collect();
        let neg: Vec<u128> = tt.rows.iter().filter(|r| r.out != Out::One).map(|r| r.code).collect();
        prop_assume!(!pos.is_empty());
        let cons = minimize(&setup, &tt, &MinimizeOptions::default()).unwrap();
        let pars = minimize(&setup, &tt, &MinimizeOptions { include_remainders: true, ..Default::default() }).unwrap();
        let c = cons.conservative.as_ref().unwrap();
        let p = pars.parsimonious.as_ref().unwrap();
        check_solution(c, &pos, &neg, Some(k));
        check_solution(p, &pos, &neg, None);
        prop_assert!(c.exact && p.exact);
        if k <= 4 {
            let bf_cons = brute_force(k, &pos, &|r| pos.contains(&r));
            let bf_pars = brute_force(k, &pos, &|r| !neg.contains(&r));
            prop_assert_eq!(term_sets(c), bf_cons);
            prop_assert_eq!(term_sets(p), bf_pars);
        }
    }

    #[test]
    fn order_of_cases_and_conditions_does_not_matter(
        (k, cases) in fuzzy_cases(),
        seed in any::<u64>(),
    ) {
        let data = dataset(k, &cases);
        let tto = TruthTableOptions { incl_cut1: 0.75, ..Default::default() };
        let setup = Setup::new(&data, "Y", &names(k)).unwrap();
        let tt = truth_table(&setup, &tto).unwrap();
        prop_assume!(tt.rows.iter().any(|r| r.out == Out::One));
        let mo = MinimizeOptions { include_remainders: true, ..Default::default() };
        let a = minimize(&setup, &tt, &mo).unwrap();

        // Shuffle the cases and reverse-rotate the conditions.
        let mut order: Vec<usize> = (0..cases.len()).collect();
        let mut s = seed | 1;
        for i in (1..order.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            order.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let shuffled = data.select_cases(&order);
        let mut conds = names(k);
        conds.rotate_left((seed % k as u64) as usize);
        conds.reverse();
        let setup2 = Setup::new(&shuffled, "Y", &conds).unwrap();
        let tt2 = truth_table(&setup2, &tto).unwrap();
        let b = minimize(&setup2, &tt2, &mo).unwrap();

        // Compare models with literals re-sorted by name.
        let canon = |s: &Solution| -> BTreeSet<BTreeSet<String>> {
            s.models.iter().map(|m| m.terms.iter().map(|t| {
                let mut lits: Vec<&str> = t.expression.split('*').collect();
                lits.sort();
                lits.join("*")
            }).collect()).collect()
        };
        let pa = a.parsimonious.as_ref().unwrap();
        let pb = b.parsimonious.as_ref().unwrap();
        prop_assert_eq!(canon(pa), canon(pb));
        // Fits agree too (to rounding in the order of sums).
        let fits = |s: &Solution| -> BTreeSet<(String, String)> {
            s.models.iter().map(|m| (format!("{:.9}", m.incl), format!("{:.9}", m.cov))).collect()
        };
        prop_assert_eq!(fits(pa), fits(pb));
    }

    #[test]
    fn fuzzy_solutions_cover_and_are_irredundant((k, cases) in fuzzy_cases()) {
        let data = dataset(k, &cases);
        let setup = Setup::new(&data, "Y", &names(k)).unwrap();
        let tt = truth_table(&setup, &TruthTableOptions { incl_cut1: 0.7, ..Default::default() }).unwrap();
        let pos: Vec<u128> = tt.rows.iter().filter(|r| r.out == Out::One).map(|r| r.code).collect();
        let neg: Vec<u128> = tt.rows.iter().filter(|r| r.out != Out::One).map(|r| r.code).collect();
        prop_assume!(!pos.is_empty());
        let m = minimize(&setup, &tt, &MinimizeOptions { include_remainders: true, all_solutions: true, ..Default::default() }).unwrap();
        check_solution_all(m.parsimonious.as_ref().unwrap(), &pos, &neg);
    }
}

/// With all solutions, models may differ in size but each is irredundant.
fn check_solution_all(sol: &Solution, pos: &[u128], neg: &[u128]) {
    for m in &sol.models {
        let terms: Vec<Term> = m.terms.iter().map(|t| t.term).collect();
        for t in &terms {
            assert!(pos.iter().any(|&r| t.covers(r)));
            assert!(!neg.iter().any(|&r| t.covers(r)));
        }
        for &r in pos {
            assert!(terms.iter().any(|t| t.covers(r)));
        }
        for skip in 0..terms.len() {
            assert!(pos.iter().any(|&r| {
                !terms
                    .iter()
                    .enumerate()
                    .any(|(i, t)| i != skip && t.covers(r))
            }));
        }
    }
}
