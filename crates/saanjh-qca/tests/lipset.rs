//! The reference's published answers for Ragin's Lipset data
//! (qca-spec.md §9), to three decimals.

mod common;
use common::*;
use saanjh_qca::minimize::{parse_expectations, parse_expression};
use saanjh_qca::*;

const C5: &str = "DEV,URB,LIT,IND,STB";

fn term<'a>(s: &'a Solution, m: usize, expr: &str) -> &'a saanjh_qca::minimize::TermFit {
    s.models[m]
        .terms
        .iter()
        .find(|t| t.expression == expr)
        .unwrap_or_else(|| panic!("{expr} not in model {}: {}", m + 1, s.models[m].expression))
}

#[test]
fn t1_lc_truth_table() {
    let Some(lc) = load("LC") else { return };
    let setup = Setup::new(&lc, "SURV", &conds(C5)).unwrap();
    let tt = truth_table(&setup, &TruthTableOptions::default()).unwrap();
    let got: Vec<(u64, &str, usize)> = tt
        .rows
        .iter()
        .map(|r| (r.number, r.out.symbol(), r.n))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "0", 3),
            (2, "0", 2),
            (5, "0", 2),
            (6, "0", 1),
            (22, "1", 2),
            (23, "0", 1),
            (24, "1", 2),
            (31, "0", 1),
            (32, "1", 4)
        ]
    );
    let r22 = tt.rows.iter().find(|r| r.number == 22).unwrap();
    let names: Vec<&str> = r22
        .cases
        .iter()
        .map(|&i| setup.case_names[i].as_str())
        .collect();
    assert_eq!(names, ["FI", "IE"]);
}

#[test]
fn t2_t3_t4_lc_solutions() {
    let Some(lc) = load("LC") else { return };
    let (setup, _, m) = run(
        &lc,
        "SURV",
        C5,
        TruthTableOptions::default(),
        MinimizeOptions::default(),
    );
    assert_eq!(
        model_sets(m.conservative.as_ref().unwrap()),
        set_of(&["DEV*~URB*LIT*STB + DEV*LIT*IND*STB"])
    );
    let c = m.conservative.as_ref().unwrap();
    assert3(term(c, 0, "DEV*~URB*LIT*STB").incl, 1.0, "incl");
    assert3(term(c, 0, "DEV*~URB*LIT*STB").cov, 0.5, "covS");
    assert3(term(c, 0, "DEV*LIT*IND*STB").cov, 0.75, "covS");
    assert3(term(c, 0, "DEV*~URB*LIT*STB").cov_unique, 0.25, "covU");
    assert3(term(c, 0, "DEV*LIT*IND*STB").cov_unique, 0.5, "covU");
    assert3(c.models[0].cov, 1.0, "solution cov");

    let mut mo = pars();
    mo.dir_exp = Some(parse_expectations(&setup, "DEV,URB,LIT,IND,STB").unwrap());
    let (_, _, m) = run(&lc, "SURV", C5, TruthTableOptions::default(), mo);
    let p = m.parsimonious.as_ref().unwrap();
    assert_eq!(model_sets(p), set_of(&["DEV*STB"]));
    assert3(p.models[0].cov, 1.0, "cov");
    assert_eq!(
        p.models[0].simplifying_assumptions.as_deref(),
        Some(&[18, 20, 26, 28, 30][..])
    );
    let i = m.intermediate.as_ref().unwrap();
    assert_eq!(model_sets(i), set_of(&["DEV*LIT*STB"]));
    assert_eq!(i.models[0].easy_counterfactuals.as_deref(), Some(&[30][..]));
}

#[test]
fn t5_lc_negated_outcome() {
    let Some(lc) = load("LC") else { return };
    let (_, _, m) = run(
        &lc,
        "~SURV",
        C5,
        TruthTableOptions::default(),
        MinimizeOptions::default(),
    );
    assert_eq!(
        model_sets(m.conservative.as_ref().unwrap()),
        set_of(&["~DEV*~URB*~IND + DEV*LIT*IND*~STB"])
    );
    assert!(m.parsimonious.is_none());
    let (_, _, m) = run(&lc, "~SURV", C5, TruthTableOptions::default(), pars());
    assert!(
        m.conservative.is_none(),
        "as in the reference, include = ? computes only the parsimonious solution"
    );
    let p = m.parsimonious.as_ref().unwrap();
    assert_eq!(model_sets(p), set_of(&["~DEV + ~STB"]));
    assert3(term(p, 0, "~DEV").cov, 0.8, "covS ~DEV");
    assert3(term(p, 0, "~STB").cov, 0.7, "covS ~STB");
    assert3(term(p, 0, "~DEV").cov_unique, 0.3, "covU ~DEV");
    assert3(term(p, 0, "~STB").cov_unique, 0.2, "covU ~STB");
}

#[test]
fn t6_lf_truth_table() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let tt = truth_table(&setup, &incl(0.8)).unwrap();
    let want: [(u64, &str, usize, f64, f64, &str); 9] = [
        (1, "0", 3, 0.215976331360947, 0.0, "GR,PT,ES"),
        (2, "0", 2, 0.278026905829596, 0.0, "IT,RO"),
        (5, "0", 2, 0.520900321543409, 0.113095238095238, "HU,PL"),
        (6, "0", 1, 0.528571428571429, 0.228070175438597, "EE"),
        (22, "1", 2, 0.804270462633452, 0.719387755102041, "FI,IE"),
        (23, "0", 1, 0.378205128205128, 0.0396039603960395, "AU"),
        (24, "0", 2, 0.708771929824562, 0.634361233480176, "FR,SE"),
        (31, "0", 1, 0.445255474452555, 0.05, "DE"),
        (
            32,
            "1",
            4,
            0.904205607476635,
            0.885793871866295,
            "BE,CZ,NL,UK",
        ),
    ];
    assert_eq!(tt.rows.len(), want.len());
    for (r, w) in tt.rows.iter().zip(want) {
        assert_eq!((r.number, r.out.symbol(), r.n), (w.0, w.1, w.2));
        assert!(
            (r.incl - w.3).abs() < 1e-12,
            "row {} incl {} vs {}",
            r.number,
            r.incl,
            w.3
        );
        assert!(
            (r.pri - w.4).abs() < 1e-12,
            "row {} PRI {} vs {}",
            r.number,
            r.pri,
            w.4
        );
        let names: Vec<&str> = r
            .cases
            .iter()
            .map(|&i| setup.case_names[i].as_str())
            .collect();
        assert_eq!(names.join(","), w.5);
    }
    assert!(tt.warnings.is_empty());
}

#[test]
fn t7_t8_t9_lf_solutions() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let mut mo = pars();
    mo.dir_exp = Some(parse_expectations(&setup, "DEV, URB, LIT, IND, STB").unwrap());
    let (_, _, m) = run(&lf, "SURV", C5, incl(0.8), mo);
    let c = m.conservative.as_ref().unwrap();
    assert_eq!(
        model_sets(c),
        set_of(&["DEV*URB*LIT*IND*STB + DEV*~URB*LIT*~IND*STB"])
    );
    for (e, f) in [
        ("DEV*URB*LIT*IND*STB", [0.904, 0.886, 0.454, 0.393]),
        ("DEV*~URB*LIT*~IND*STB", [0.804, 0.719, 0.265, 0.204]),
    ] {
        let t = term(c, 0, e);
        assert3(t.incl, f[0], e);
        assert3(t.pri, f[1], e);
        assert3(t.cov, f[2], e);
        assert3(t.cov_unique, f[3], e);
    }
    assert3(c.models[0].incl, 0.870, "M1 incl");
    assert3(c.models[0].pri, 0.843, "M1 PRI");
    assert3(c.models[0].cov, 0.658, "M1 cov");

    let p = m.parsimonious.as_ref().unwrap();
    assert_eq!(model_sets(p), set_of(&["DEV*~IND + URB*STB"]));
    for (e, f) in [
        ("DEV*~IND", [0.815, 0.721, 0.284, 0.194]),
        ("URB*STB", [0.874, 0.845, 0.520, 0.430]),
    ] {
        let t = term(p, 0, e);
        assert3(t.incl, f[0], e);
        assert3(t.pri, f[1], e);
        assert3(t.cov, f[2], e);
        assert3(t.cov_unique, f[3], e);
    }
    assert3(p.models[0].incl, 0.850, "M1 incl");
    assert3(p.models[0].pri, 0.819, "M1 PRI");
    assert3(p.models[0].cov, 0.714, "M1 cov");
    assert_eq!(
        p.models[0].simplifying_assumptions.as_deref(),
        Some(&[10, 12, 14, 16, 17, 18, 21, 25, 26, 28, 29, 30][..])
    );

    let i = m.intermediate.as_ref().unwrap();
    assert_eq!(
        model_sets(i),
        set_of(&["DEV*URB*LIT*STB + DEV*LIT*~IND*STB"])
    );
    for (e, f) in [
        ("DEV*URB*LIT*STB", [0.901, 0.879, 0.468, 0.378]),
        ("DEV*LIT*~IND*STB", [0.814, 0.721, 0.282, 0.191]),
    ] {
        let t = term(i, 0, e);
        assert3(t.incl, f[0], e);
        assert3(t.pri, f[1], e);
        assert3(t.cov, f[2], e);
        assert3(t.cov_unique, f[3], e);
    }
    assert3(i.models[0].incl, 0.866, "M1 incl");
    assert3(i.models[0].pri, 0.839, "M1 PRI");
    assert3(i.models[0].cov, 0.660, "M1 cov");
    assert_eq!(i.models[0].easy_counterfactuals.as_deref(), Some(&[30][..]));
    assert_eq!(
        i.models[0].difficult_counterfactuals.as_ref().map(Vec::len),
        Some(11)
    );
}

#[test]
fn t10_conjunctural_expectation() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let mut mo = pars();
    mo.dir_exp = Some(parse_expectations(&setup, "DEV, STB, ~LIT*IND").unwrap());
    let (_, _, m) = run(&lf, "SURV", C5, incl(0.8), mo);
    assert_eq!(
        model_sets(m.intermediate.as_ref().unwrap()),
        set_of(&["DEV*URB*STB + DEV*~IND*STB"])
    );
}

#[test]
fn t11_lf_negated_outcome() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "~SURV", &conds(C5)).unwrap();
    let mut mo = pars();
    mo.dir_exp = Some(parse_expectations(&setup, "~DEV,~URB,~LIT,~IND,~STB").unwrap());
    let (_, _, m) = run(&lf, "~SURV", C5, incl(0.8), mo);
    let c = m.conservative.as_ref().unwrap();
    assert_eq!(
        model_sets(c),
        set_of(&["~DEV*~URB*~IND + DEV*LIT*IND*~STB"])
    );
    let fits = |s: &Solution| {
        (
            r3(s.models[0].incl),
            r3(s.models[0].pri),
            r3(s.models[0].cov),
        )
    };
    assert_eq!(fits(c), (0.897, 0.871, 0.803));
    let p = m.parsimonious.as_ref().unwrap();
    assert_eq!(model_sets(p), set_of(&["~DEV + ~STB"]));
    assert_eq!(fits(p), (0.849, 0.816, 0.888));
    let i = m.intermediate.as_ref().unwrap();
    assert_eq!(model_sets(i), set_of(&["~STB + ~DEV*~URB*~IND"]));
    assert_eq!(fits(i), (0.881, 0.852, 0.825));
}

#[test]
fn t12_model_ambiguity() {
    let Some(lf) = load("LF") else { return };
    let tto = TruthTableOptions {
        incl_cut1: 0.8,
        n_cut: 2,
        ..Default::default()
    };
    let (_, _, m) = run(&lf, "SURV", C5, tto, pars());
    let p = m.parsimonious.as_ref().unwrap();
    assert_eq!(
        model_sets(p),
        set_of(&["URB + DEV*~IND", "URB + LIT*~IND*STB"])
    );
    assert_eq!(p.essential, ["URB"]);
    let fits: Vec<(f64, f64, f64)> = p
        .models
        .iter()
        .map(|m| (r3(m.incl), r3(m.pri), r3(m.cov)))
        .collect();
    let m1 = p
        .models
        .iter()
        .position(|m| m.terms.iter().any(|t| t.expression == "DEV*~IND"))
        .unwrap();
    assert_eq!(fits[m1], (0.777, 0.730, 0.730));
    assert_eq!(fits[1 - m1], (0.710, 0.652, 0.770));
}

#[test]
fn t19_lm_multi_value() {
    let Some(lm) = load("LM") else { return };
    let (_, _, m0) = run(
        &lm,
        "SURV",
        C5,
        TruthTableOptions::default(),
        MinimizeOptions::default(),
    );
    let (_, _, m) = run(&lm, "SURV", C5, TruthTableOptions::default(), pars());
    assert_eq!(
        model_sets(m0.conservative.as_ref().unwrap()),
        set_of(&[
            "DEV[2]*LIT[1]*IND[1]*STB[1] + DEV[1]*URB[0]*LIT[1]*IND[0]*STB[1] + DEV[1]*URB[1]*LIT[1]*IND[1]*STB[1]"
        ])
    );
    assert_eq!(
        model_sets(m.parsimonious.as_ref().unwrap()),
        set_of(&[
            "DEV[2] + DEV[1]*STB[1]",
            "DEV[1]*IND[0] + IND[1]*STB[1]",
            "DEV[1]*STB[1] + IND[1]*STB[1]"
        ])
    );
}

#[test]
fn t20_contradictions_explained() {
    let Some(lci) = load("LCinit_ch3") else {
        return;
    };
    let c4 = "DEV,URB,LIT,IND";
    let tto = TruthTableOptions {
        incl_cut1: 1.0,
        incl_cut0: Some(0.01),
        ..Default::default()
    };
    let setup = Setup::new(&lci, "SURV", &conds(c4)).unwrap();
    let tt = truth_table(&setup, &tto).unwrap();
    let coded: Vec<(u64, &str)> = tt
        .rows
        .iter()
        .filter(|r| r.out != Out::Zero)
        .map(|r| (r.number, r.out.symbol()))
        .collect();
    assert_eq!(coded, [(3, "C"), (8, "1"), (11, "1"), (12, "C"), (16, "C")]);
    let r3row = tt.rows.iter().find(|r| r.number == 3).unwrap();
    assert3(r3row.incl, 0.25, "row 3");
    // Conservative (no remainders), explaining the contradictions too.
    let mo = MinimizeOptions {
        explain_contradictions: true,
        ..Default::default()
    };
    let m = minimize(&setup, &tt, &mo).unwrap();
    let p = m.conservative.as_ref().unwrap();
    assert_eq!(
        model_sets(p),
        set_of(&[
            "~URB*LIT*~IND + URB*LIT*IND + DEV*~URB*LIT",
            "~URB*LIT*~IND + URB*LIT*IND + DEV*LIT*IND"
        ])
    );
    let mut essential = p.essential.clone();
    essential.sort();
    assert_eq!(essential, ["URB*LIT*IND", "~URB*LIT*~IND"]);
    for m in &p.models {
        assert_eq!((r3(m.incl), r3(m.pri), r3(m.cov)), (0.615, 0.615, 1.0));
    }
    let t = p
        .terms
        .iter()
        .find(|t| t.expression == "~URB*LIT*~IND")
        .unwrap();
    assert_eq!((r3(t.incl), r3(t.pri)), (0.4, 0.4));
    for (e, want) in [
        ("URB*LIT*IND", 0.8),
        ("DEV*~URB*LIT", 0.75),
        ("DEV*LIT*IND", 0.714),
    ] {
        let t = p.terms.iter().find(|t| t.expression == e).unwrap();
        assert3(t.incl, want, e);
    }

    let (_, _, m0) = run(&lci, "SURV", c4, tto.clone(), MinimizeOptions::default());
    assert_eq!(
        model_sets(m0.conservative.as_ref().unwrap()),
        set_of(&["DEV*~URB*LIT*~IND + ~DEV*URB*LIT*IND"])
    );
    let (_, _, m1) = run(&lci, "SURV", c4, tto, pars());
    assert_eq!(
        model_sets(m1.parsimonious.as_ref().unwrap()),
        set_of(&["DEV*~IND + ~DEV*URB", "DEV*~IND + ~DEV*IND"])
    );
}

#[test]
fn t21_t22_necessity_and_sufficiency_per_condition() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let nec = necessity(&setup, 1, 1.0, 0.0);
    let want = [
        ("DEV", 0.831, 0.811, 0.775),
        ("URB", 0.539, 0.899, 0.771),
        ("LIT", 0.991, 0.509, 0.643),
        ("IND", 0.669, 0.786, 0.684),
        ("STB", 0.920, 0.680, 0.707),
    ];
    for (name, i, ron, cov) in want {
        let n = nec.iter().find(|n| n.expression == name).unwrap();
        assert_eq!((r3(n.incl), r3(n.ron), r3(n.cov)), (i, ron, cov), "{name}");
    }
    let suff = [
        ("DEV", 0.775, 0.743, 0.831),
        ("URB", 0.771, 0.720, 0.539),
        ("LIT", 0.643, 0.587, 0.991),
        ("IND", 0.684, 0.648, 0.669),
        ("STB", 0.707, 0.664, 0.920),
    ];
    for (name, i, pri, cov) in suff {
        let t = parse_expression(&setup, name, "t").unwrap();
        let s = saanjh_qca::fit::sufficiency(&setup.term_membership(&t[0]), &setup.outcome);
        assert_eq!((r3(s.incl), r3(s.pri), r3(s.cov)), (i, pri, cov), "{name}");
    }
}

#[test]
fn t23_disjunctive_necessity() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let nec = necessity(&setup, 3, 0.9, 0.6);
    let d = nec
        .iter()
        .find(|n| n.expression == "DEV + URB + IND")
        .expect("DEV + URB + IND");
    assert_eq!((r3(d.incl), r3(d.ron), r3(d.cov)), (0.903, 0.704, 0.716));
}

#[test]
fn t27_unique_coverage_three_terms() {
    let Some(lf) = load("LF") else { return };
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let terms = parse_expression(&setup, "DEV*~IND + URB*STB + DEV*LIT*STB", "t").unwrap();
    let ms: Vec<Vec<f64>> = terms.iter().map(|t| setup.term_membership(t)).collect();
    let cu = saanjh_qca::fit::unique_coverage(&ms, &setup.outcome);
    assert_eq!(
        cu.iter().map(|&c| r3(c)).collect::<Vec<_>>(),
        [0.002, 0.052, 0.164]
    );
    let refs: Vec<&[f64]> = ms.iter().map(|m| m.as_slice()).collect();
    let s = saanjh_qca::fit::sufficiency(&saanjh_qca::fit::union(&refs), &setup.outcome);
    assert_eq!((r3(s.incl), r3(s.pri), r3(s.cov)), (0.856, 0.832, 0.878));
}

#[test]
fn t28_calibration_anchors() {
    let x = [
        0.0, 10.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 90.0, 100.0, -50.0, 150.0,
    ];
    let cal = Calibration::parse("20,50,80", 0.95, true, "t").unwrap();
    let m = cal.apply(&x, "t").unwrap();
    let want = [
        0.00733745807066141,
        0.01934249769983508,
        0.05,
        0.07916845804317633,
        0.1231471380298757,
        0.2725982855090026,
        0.5,
    ];
    for (g, w) in m.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{g} vs {w}");
    }
    assert!((m[12] - 0.9926625419293386).abs() < 1e-12);
    assert_eq!((m[13], m[14]), (0.0, 1.0));
    let lin = Calibration::parse("20,50,80", 0.95, false, "t")
        .unwrap()
        .apply(&x, "t")
        .unwrap();
    let want_lin = [
        0.0, 0.0, 0.0, 0.08333, 0.16667, 0.33333, 0.5, 0.66667, 0.83333, 0.91667, 1.0, 1.0, 1.0,
        0.0, 1.0,
    ];
    for (g, w) in lin.iter().zip(want_lin) {
        assert!((g - w).abs() < 1e-5, "{g} vs {w}");
    }
    let crisp = Calibration::parse("crisp:20,75", 0.95, true, "t")
        .unwrap()
        .apply(&x[..13], "t")
        .unwrap();
    assert_eq!(
        crisp,
        [
            0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0
        ]
    );
}

#[test]
fn t29_lr_calibrates_into_lf() {
    let (Some(lr), Some(lf)) = (load("LR"), load("LF")) else {
        return;
    };
    // Anchors of the QCA manual's LR → LF example; STB is a decreasing set.
    let anchors = [
        ("DEV", "400,550,900"),
        ("URB", "25,50,65"),
        ("LIT", "50,75,90"),
        ("IND", "20,30,40"),
        ("STB", "15,9.5,5"),
        ("SURV", "-9,0,10"),
    ];
    let idm = calibrate::idm_ragin();
    for (col, spec) in anchors {
        let cal = Calibration::parse(spec, idm, true, "t").unwrap();
        let got = cal.apply(lr.column(col).unwrap(), "t").unwrap();
        let want = lf.column(col).unwrap();
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                ((g * 100.0).round() / 100.0 - w).abs() < 1e-9,
                "{col} {}: {g} vs {w}",
                lr.case_names[i]
            );
        }
    }
}

#[test]
fn t30_case_at_crossover() {
    let Some(mut lf) = load("LF") else { return };
    let be = lf.case_names.iter().position(|c| c == "BE").unwrap();
    lf.column_mut("URB").unwrap()[be] = 0.5;
    let setup = Setup::new(&lf, "SURV", &conds(C5)).unwrap();
    let tt = truth_table(&setup, &incl(0.8)).unwrap();
    assert_eq!(tt.warnings.len(), 1);
    assert!(tt.warnings[0].contains("BE"));
    assert!(tt.rows.iter().all(|r| !r.cases.contains(&be)));
    let r32 = tt.rows.iter().find(|r| r.number == 32).unwrap();
    assert_eq!(r32.n, 3);
    assert3(r32.incl, 0.895, "row 32");
    let r24 = tt.rows.iter().find(|r| r.number == 24).unwrap();
    assert3(r24.incl, 0.744, "row 24");
}
