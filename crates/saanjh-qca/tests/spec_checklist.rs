//! qca-spec.md items beyond the Lipset answer table's first rows: the
//! calibration shapes of §2.4–2.6, `superSubset` conjunctions (T23, T24),
//! the range and multi-value forms of directional expectations (§5),
//! `pi.cons` / `sol.cons` / `sol.cov` (§5, options), and a value of a
//! multi-value outcome. Numbers come from the spec where it gives them,
//! otherwise from the formulas it states, worked by hand in the comments.

mod common;
use common::*;
use saanjh_qca::calibrate::logit_glm;
use saanjh_qca::minimize::parse_expectations;
use saanjh_qca::necessity::super_subset;
use saanjh_qca::*;

const C5: &str = "DEV,URB,LIT,IND,STB";

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < tol, "value {i}: got {g}, want {w}");
    }
}

fn expressions(v: &[saanjh_qca::necessity::NecessityFit]) -> Vec<String> {
    let mut e: Vec<String> = v.iter().map(|n| n.expression.clone()).collect();
    e.sort();
    e
}

// ── §2.4 power s-shape, §2.4 bell, §2.6 TFR, §2.5 indirect ──

#[test]
fn s_shape_with_exponents() {
    // e, c, i = 20, 50, 80; below 2, above 0.5.
    // x = 35: ((20−35)/(20−50))² / 2 = 0.5² / 2 = 0.125
    // x = 65: 1 − ((80−65)/(80−50))^0.5 / 2 = 1 − √0.5 / 2 = 0.646447
    let cal = Calibration::parse("20,50,80", 0.95, false, "t")
        .unwrap()
        .with_exponents(2.0, 0.5, "t")
        .unwrap();
    let m = cal
        .apply(&[10.0, 20.0, 35.0, 50.0, 65.0, 80.0, 90.0], "t")
        .unwrap();
    close(
        &m,
        &[0.0, 0.0, 0.125, 0.5, 1.0 - 0.5f64.sqrt() / 2.0, 1.0, 1.0],
        1e-12,
    );
    // Decreasing set (i < c < e): the mirror; `above` still bends the
    // side of full inclusion. x = 65: ((80−65)/(80−50))² / 2 = 0.125.
    let dec = Calibration::parse("80,50,20", 0.95, false, "t")
        .unwrap()
        .with_exponents(2.0, 0.5, "t")
        .unwrap();
    let m = dec.apply(&[10.0, 35.0, 50.0, 65.0, 90.0], "t").unwrap();
    close(
        &m,
        &[1.0, 1.0 - 0.5f64.sqrt() / 2.0, 0.5, 0.125, 0.0],
        1e-12,
    );
    // Exponents only make sense for the power curves.
    assert!(
        Calibration::parse("20,50,80", 0.95, true, "t")
            .unwrap()
            .with_exponents(2.0, 1.0, "t")
            .is_err()
    );
}

#[test]
fn bell_and_inverted_bell_from_six_thresholds() {
    // e1 c1 i1 i2 c2 e2 = 10 20 30 40 50 60, linear:
    // 15 → 0.25, 20 → 0.5, 25 → 0.75, 35 → 1, 45 → 0.75, 50 → 0.5, 55 → 0.25.
    let bell = Calibration::parse("10,20,30,40,50,60", 0.95, true, "t").unwrap();
    let x = [5.0, 15.0, 20.0, 25.0, 35.0, 45.0, 50.0, 55.0, 65.0];
    close(
        &bell.apply(&x, "t").unwrap(),
        &[0.0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0],
        1e-12,
    );
    // Named, in any order, same answer.
    let named = Calibration::parse("i2=40,e1=10,c2=50,c1=20,e2=60,i1=30", 0.95, true, "t").unwrap();
    assert_eq!(named, bell);
    // Inverted bell: i1 < c1 < e1 ≤ e2 < c2 < i2 (full membership at the extremes).
    let inv = Calibration::parse("e1=30,c1=20,i1=10,e2=40,c2=50,i2=60", 0.95, true, "t").unwrap();
    close(
        &inv.apply(&x, "t").unwrap(),
        &[1.0, 0.75, 0.5, 0.25, 0.0, 0.25, 0.5, 0.75, 1.0],
        1e-12,
    );
    // Power: below 2 at 15 → (0.5)²/2 = 0.125; on the falling side the
    // `below` exponent bends the e2 end: 55 → 0.5²/2 = 0.125.
    let p = bell.clone().with_exponents(2.0, 1.0, "t").unwrap();
    let m = p.apply(&[15.0, 55.0], "t").unwrap();
    close(&m, &[0.125, 0.125], 1e-12);
    // A crossover outside its e and i, or thresholds out of order: errors
    // naming the option.
    for bad in ["10,40,30,40,50,60", "10,20,30,25,50,60", "10,20,30,40,50"] {
        let e = Calibration::parse(bad, 0.95, true, "--calibrate X").unwrap_err();
        assert!(e.to_string().contains("--calibrate X"), "{bad}: {e}");
    }
}

#[test]
fn tfr_for_categorical_scales() {
    // Values 1..5 once each: F(1) = 0.2, F(3) = 0.6 → (0.6 − 0.2)/0.8 = 0.5.
    let m = Calibration::parse("tfr", 0.95, true, "t")
        .unwrap()
        .apply(&[1.0, 2.0, 3.0, 4.0, 5.0], "t")
        .unwrap();
    close(&m, &[0.0, 0.25, 0.5, 0.75, 1.0], 1e-12);
    assert!(
        Calibration::Tfr
            .apply(&[1.0, 1.0, 0.0], "t")
            .unwrap_err()
            .to_string()
            .contains("tfr")
    );
}

#[test]
fn logit_glm_recovers_a_known_model() {
    // Targets lying exactly on a logistic curve of the fractional
    // polynomial are fitted exactly: the fit is the maximum of the
    // quasi-likelihood, reached where fitted equals observed.
    let beta = [-3.0, 0.4, 0.2, 0.001, -1e-6];
    let xs: Vec<f64> = (1..200).map(|i| f64::from(i) * 37.0).collect();
    let design: Vec<[f64; 5]> = xs
        .iter()
        .map(|&v| [1.0, v.ln(), v.sqrt(), v, v * v])
        .collect();
    let y: Vec<f64> = design
        .iter()
        .map(|r| {
            let eta: f64 = r.iter().zip(&beta).map(|(a, b)| a * b).sum();
            1.0 / (1.0 + (-eta).exp())
        })
        .collect();
    let got = logit_glm(&design, &y).expect("fits");
    for (g, w) in got.iter().zip(beta) {
        assert!(
            (g - w).abs() < 1e-6 * w.abs().max(1.0),
            "{got:?} vs {beta:?}"
        );
    }
    // Rank-deficient designs are refused, not fitted to nonsense.
    let flat: Vec<[f64; 2]> = (0..10).map(|_| [1.0, 2.0]).collect();
    assert!(logit_glm(&flat, &[0.5; 10]).is_none());
}

#[test]
fn indirect_calibration_follows_the_categories() {
    // Income-like data cut at 5,000 / 10,000 / 20,000 / 40,000: targets
    // 0, .25, .5, .75, 1. The fitted memberships stay in [0, 1], rise
    // through the categories, and satisfy the fit's score equation for the
    // intercept (a logit GLM with an intercept reproduces the targets'
    // total), up to the 6-decimal rounding and the clamp at 1e-4.
    let x: Vec<f64> = (0..120).map(|i| 500.0 + f64::from(i) * 500.0).collect();
    let cal = Calibration::parse("indirect:5000,10000,20000,40000", 0.95, true, "t").unwrap();
    let m = cal.apply(&x, "t").unwrap();
    assert!(m.iter().all(|v| (0.0..=1.0).contains(v)));
    let upto40k = x.iter().position(|&v| v > 40000.0).unwrap();
    assert!(
        m[..upto40k].windows(2).all(|w| w[1] >= w[0] - 1e-9),
        "rising: {m:?}"
    );
    let at = |v: f64| m[x.iter().position(|&a| a == v).unwrap()];
    assert!(at(1000.0) < 0.1, "{}", at(1000.0));
    assert!((at(15000.0) - 0.5).abs() < 0.15, "{}", at(15000.0));
    assert!(at(50000.0) > 0.75, "{}", at(50000.0));
    let targets: f64 = x
        .iter()
        .map(|&v| {
            [5000.0, 10000.0, 20000.0, 40000.0]
                .iter()
                .filter(|&&t| v > t)
                .count() as f64
                / 5.0
        })
        .sum();
    let fitted: f64 = m.iter().sum();
    assert!((targets - fitted).abs() < 1e-3, "{targets} vs {fitted}");
    // Six decimals, as the reference rounds.
    assert!(
        m.iter()
            .all(|v| ((v * 1e6).round() / 1e6 - v).abs() < 1e-12)
    );
    assert!(cal.apply(&[-1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "t").is_err());
}

// ── §9 T23, T24: superSubset ──

#[test]
fn t24_super_subset_crisp_conjunctions_and_disjunction() {
    let Some(lc) = load("LC") else { return };
    let setup = Setup::new(&lc, "SURV", &conds(C5)).unwrap();
    let found = super_subset(&setup, 5, 1.0, 0.0);
    assert_eq!(
        expressions(&found),
        expressions(
            &[
                "DEV",
                "LIT",
                "STB",
                "DEV*LIT",
                "DEV*STB",
                "LIT*STB",
                "DEV*LIT*STB",
                "~URB + IND"
            ]
            .map(|e| saanjh_qca::necessity::NecessityFit {
                expression: e.into(),
                incl: 0.0,
                ron: 0.0,
                cov: 0.0
            })
        )
    );
    let get = |e: &str| found.iter().find(|n| n.expression == e).unwrap();
    assert_eq!(r3(get("DEV*STB").ron), 1.0);
    assert_eq!(r3(get("~URB + IND").ron), 0.0);
    assert!(found.iter().all(|n| n.incl == 1.0));
}

#[test]
fn t23_super_subset_fuzzy_with_cut_offs() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let found = super_subset(&setup, 3, 0.9, 0.6);
    let names: Vec<&str> = found.iter().map(|n| n.expression.as_str()).collect();
    assert_eq!(names, ["LIT", "STB", "LIT*STB", "DEV + URB + IND"]);
    let ls = &found[2];
    assert_eq!((r3(ls.incl), r3(ls.ron), r3(ls.cov)), (0.915, 0.800, 0.793));
    let d = &found[3];
    assert_eq!((r3(d.incl), r3(d.ron), r3(d.cov)), (0.903, 0.704, 0.716));
}

// ── §5 expectation syntax ──

#[test]
fn range_expectations_equal_the_listed_ones() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    assert_eq!(
        parse_expectations(&setup, "DEV:STB").unwrap(),
        parse_expectations(&setup, "DEV,URB,LIT,IND,STB").unwrap()
    );
    assert_eq!(
        parse_expectations(&setup, "~DEV:~STB").unwrap(),
        parse_expectations(&setup, "~DEV,~URB,~LIT,~IND,~STB").unwrap()
    );
    assert_eq!(
        parse_expectations(&setup, "DEV:URB, ~IND").unwrap(),
        parse_expectations(&setup, "DEV,URB,~IND").unwrap()
    );
    // The old positional form, `-` for no expectation.
    assert_eq!(
        parse_expectations(&setup, "1,1,0,-,1").unwrap(),
        parse_expectations(&setup, "DEV,URB,~LIT,STB").unwrap()
    );
    // T9 through the range form.
    let mut mo = pars();
    mo.dir_exp = Some(parse_expectations(&setup, "DEV:STB").unwrap());
    let (_, _, m) = run(&lf, "SURV", C5, incl(0.8), mo);
    assert_eq!(
        model_sets(m.intermediate.as_ref().unwrap()),
        set_of(&["DEV*URB*LIT*STB + DEV*LIT*~IND*STB"])
    );
    for bad in ["STB:DEV", "DEV:~STB", "DEV:XYZ"] {
        let e = parse_expectations(&setup, bad).unwrap_err();
        assert!(e.to_string().contains("--dir-exp"), "{bad}: {e}");
    }
}

#[test]
fn multi_value_expectations_with_several_levels() {
    let Some(lm) = load("LM") else { return };
    let setup = Setup::new(&lm, "SURV", &conds(C5)).unwrap();
    let e = parse_expectations(&setup, "DEV[1,2], URB[1], LIT[1], IND[1], STB[1]").unwrap();
    assert_eq!(e[0], vec![(0, 0b110)]);
    assert_eq!(e[1], vec![(1, 0b10)]);
    let mut mo = pars();
    mo.dir_exp = Some(e);
    let (s, _, m) = run(&lm, "SURV", C5, TruthTableOptions::default(), mo);
    let inter = m.intermediate.as_ref().unwrap();
    let cons = m.conservative.as_ref().unwrap();
    let par = m.parsimonious.as_ref().unwrap();
    // Every intermediate term lies between a conservative term and a
    // parsimonious one (as sets of literals), and never keeps a literal
    // that contradicts the expectations: no DEV[0], URB[0], IND[0] …
    // unless the parsimonious term itself has it.
    for md in &inter.models {
        for t in &md.terms {
            let lits: Vec<&str> = t.expression.split('*').collect();
            assert!(
                cons.terms.iter().any(|c| lits
                    .iter()
                    .all(|l| c.expression.split('*').any(|x| x == *l))),
                "{} is not part of a conservative term",
                t.expression
            );
            assert!(
                par.terms
                    .iter()
                    .any(|p| p.expression.split('*').all(|x| lits.contains(&x))),
                "{} contains no parsimonious term",
                t.expression
            );
        }
    }
    assert!(inter.models.iter().all(|m| m.cov > 0.0));
    assert!(s.multi_value);
    // A level a condition does not have is refused.
    assert!(parse_expectations(&setup, "DEV[1,5]").is_err());
}

// ── §5 options: pi.cons, sol.cons, sol.cov ──

#[test]
fn sol_cons_and_sol_cov_filter_the_t12_models() {
    let Some(lf) = load("LF") else { return };
    let tto = TruthTableOptions {
        incl_cut1: 0.8,
        n_cut: 2,
        ..Default::default()
    };
    // T12: URB + DEV*~IND (incl .777, cov .730), URB + LIT*~IND*STB (.710, .770).
    let mut mo = pars();
    mo.sol_cons = 0.75;
    let (_, _, m) = run(&lf, "SURV", C5, tto.clone(), mo);
    let p = m.parsimonious.as_ref().unwrap();
    assert_eq!(model_sets(p), set_of(&["URB + DEV*~IND"]));
    assert_eq!(p.models[0].name, "M1");
    let mut mo = pars();
    mo.sol_cov = 0.75;
    let (_, _, m) = run(&lf, "SURV", C5, tto.clone(), mo);
    assert_eq!(
        model_sets(m.parsimonious.as_ref().unwrap()),
        set_of(&["URB + LIT*~IND*STB"])
    );
    // Neither model reaches both: a clear error, not an empty answer.
    let mut mo = pars();
    mo.sol_cons = 0.75;
    mo.sol_cov = 0.75;
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let tt = truth_table(&setup, &tto).unwrap();
    let e = minimize(&setup, &tt, &mo).unwrap_err();
    assert!(e.to_string().contains("sol.cons"), "{e}");
    mo.sol_cov = 1.5;
    assert!(
        minimize(&setup, &tt, &mo)
            .unwrap_err()
            .to_string()
            .contains("--sol-cov")
    );
}

#[test]
fn pi_cons_drops_inconsistent_prime_implicants() {
    let Some(lf) = load("LF") else { return };
    // T8: DEV*~IND has inclusion 0.815, URB*STB 0.874. With pi.cons 0.82
    // DEV*~IND may not be used; whatever covers row 22 instead must reach
    // 0.82 itself.
    let mut mo = pars();
    mo.pi_cons = 0.82;
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let tt = truth_table(&setup, &incl(0.8)).unwrap();
    match minimize(&setup, &tt, &mo) {
        Ok(m) => {
            let p = m.parsimonious.unwrap();
            for md in &p.models {
                assert!(
                    md.terms.iter().all(|t| t.incl >= 0.82 - 1e-9),
                    "{}",
                    md.expression
                );
                assert!(!md.terms.iter().any(|t| t.expression == "DEV*~IND"));
            }
        }
        Err(e) => assert!(e.to_string().contains("pi.cons"), "{e}"),
    }
    // A cut-off no prime implicant reaches: no model, and the error says why.
    mo.pi_cons = 0.99;
    let e = minimize(&setup, &tt, &mo).unwrap_err();
    assert!(e.to_string().contains("pi.cons"), "{e}");
}

// ── A value of a multi-value outcome ──

#[test]
fn multi_value_outcome_level() {
    let Some(lm) = load("LM") else { return };
    // SURV is 0/1 in LM, so SURV[1] is SURV and ~SURV[1] is SURV[0].
    let a = Setup::new(&lm, "SURV[1]", &conds(C5)).unwrap();
    let b = Setup::new(&lm, "SURV", &conds(C5)).unwrap();
    assert_eq!(a.outcome, b.outcome);
    let c = Setup::new(&lm, "~SURV[1]", &conds(C5)).unwrap();
    let d = Setup::new(&lm, "SURV{0}", &conds(C5)).unwrap();
    assert_eq!(c.outcome, d.outcome);
    // DEV has levels 0, 1, 2: DEV[2] as the outcome of the other four.
    let e = Setup::new(&lm, "DEV[2]", &conds("URB,LIT,IND,STB")).unwrap();
    let dev = lm.column("DEV").unwrap();
    for (m, v) in e.outcome.iter().zip(dev) {
        assert_eq!(*m, if *v == 2.0 { 1.0 } else { 0.0 });
    }
    let (_, _, m) = run(&lm, "SURV[1]", C5, TruthTableOptions::default(), pars());
    assert_eq!(
        model_sets(m.parsimonious.as_ref().unwrap()),
        set_of(&[
            "DEV[2] + DEV[1]*STB[1]",
            "DEV[1]*IND[0] + IND[1]*STB[1]",
            "DEV[1]*STB[1] + IND[1]*STB[1]"
        ])
    );
    // Errors name the option: a level nobody has, fuzzy values, the
    // outcome among the conditions.
    for (outcome, conditions) in [("SURV[3]", C5), ("DEV[x]", "URB"), ("DEV[2]", "DEV,URB")] {
        assert!(
            Setup::new(&lm, outcome, &conds(conditions)).is_err(),
            "{outcome}"
        );
    }
    let Some(lf) = load("LF") else { return };
    let e = Setup::new(&lf, "DEV[1]", &conds("URB")).unwrap_err();
    assert!(e.to_string().contains("whole numbers"), "{e}");
}

// ── §4 inf.test = "binom, α" ──

#[test]
fn binomial_test_codes_rows() {
    use saanjh_qca::truth_table::binomial_upper_tail;
    // binom.test(8, 10, 0.5, "greater"): (45 + 10 + 1) / 1024.
    assert!((binomial_upper_tail(8, 10, 0.5) - 56.0 / 1024.0).abs() < 1e-15);
    assert_eq!(binomial_upper_tail(0, 7, 0.9), 1.0);
    assert!(binomial_upper_tail(5000, 10000, 0.5) > 0.5);
    // Row A=1: 19 of 20 positive; row A=0: 9 of 10.
    let mut csv = String::from(",A,Y\n");
    for i in 0..20 {
        csv += &format!("p{i},1,{}\n", u8::from(i > 0));
    }
    for i in 0..10 {
        csv += &format!("q{i},0,{}\n", u8::from(i > 0));
    }
    let data = Dataset::from_csv_str(&csv).unwrap();
    let setup = Setup::new(&data, "Y", &conds("A")).unwrap();
    let plain = truth_table(
        &setup,
        &TruthTableOptions {
            incl_cut1: 0.75,
            incl_cut0: Some(0.5),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(plain.rows.iter().all(|r| r.out == Out::One));
    let tested = truth_table(
        &setup,
        &TruthTableOptions {
            incl_cut1: 0.75,
            incl_cut0: Some(0.5),
            inf_test: Some(0.05),
            ..Default::default()
        },
    )
    .unwrap();
    // P(X ≥ 19 | 20, .75) = .75^19 · 5.75 = 0.0243 → 1.
    // P(X ≥ 9 | 10, .75) = 0.244, P(X ≥ 9 | 10, .5) = 11/1024 → C.
    let out: Vec<(u64, Out)> = tested.rows.iter().map(|r| (r.number, r.out)).collect();
    assert_eq!(out, [(1, Out::Contradiction), (2, Out::One)]);
    // Fuzzy data is refused.
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let e = truth_table(
        &setup,
        &TruthTableOptions {
            inf_test: Some(0.05),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("--inf-test"), "{e}");
}

// ── §11 tie_break = literals (an option; off by default) ──

#[test]
fn literal_tie_break_keeps_the_simpler_t12_model() {
    let Some(lf) = load("LF") else { return };
    let tto = TruthTableOptions {
        incl_cut1: 0.8,
        n_cut: 2,
        ..Default::default()
    };
    let mut mo = pars();
    mo.tie_break_literals = true;
    // URB + DEV*~IND has 3 literals, URB + LIT*~IND*STB 4: setqca's answer.
    let (_, _, m) = run(&lf, "SURV", C5, tto, mo);
    assert_eq!(
        model_sets(m.parsimonious.as_ref().unwrap()),
        set_of(&["URB + DEV*~IND"])
    );
}

// ── §3: the one-pass model fit equals the formulas applied separately ──

#[test]
fn one_pass_model_fit_equals_union_and_unique_coverage() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    for expr in [
        "DEV*~IND + URB*STB + DEV*LIT*STB",
        "URB + DEV*~IND",
        "DEV*URB*LIT*IND*STB + DEV*~URB*LIT*~IND*STB",
        "~DEV + ~STB",
    ] {
        let terms = saanjh_qca::minimize::parse_expression(&setup, expr, "t").unwrap();
        let ms: Vec<Vec<f64>> = terms.iter().map(|t| setup.term_membership(t)).collect();
        let refs: Vec<&[f64]> = ms.iter().map(|m| m.as_slice()).collect();
        let (s, cu) = saanjh_qca::fit::expression_fit(&refs, &setup.outcome);
        let s2 = saanjh_qca::fit::sufficiency(&saanjh_qca::fit::union(&refs), &setup.outcome);
        let cu2 = saanjh_qca::fit::unique_coverage(&refs, &setup.outcome);
        for (a, b) in [(s.incl, s2.incl), (s.pri, s2.pri), (s.cov, s2.cov)] {
            assert!((a - b).abs() < 1e-12, "{expr}: {a} vs {b}");
        }
        for (a, b) in cu.iter().zip(&cu2) {
            assert!((a - b).abs() < 1e-12, "{expr}: {a} vs {b}");
        }
    }
}
