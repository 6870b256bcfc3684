//! Bad input gives an error naming the cell, column or option — never a panic.

use saanjh_qca::minimize::{parse_expectations, parse_expression};
use saanjh_qca::*;

fn lf_like() -> Dataset {
    Dataset::from_csv_str(",A,B,Y\nx,0.2,0.9,1\ny,0.7,0.3,0\nz,0.8,0.6,0.9\n").unwrap()
}

fn conds(s: &[&str]) -> Vec<String> {
    s.iter().map(|c| c.to_string()).collect()
}

#[test]
fn non_numeric_cell_names_column_case_and_line() {
    let e = Dataset::from_csv_str(",A,Y\nx,0.2,1\ny,abc,0\n").unwrap_err();
    assert_eq!(
        e,
        QcaError::NotNumeric {
            column: "A".into(),
            case: "y".into(),
            line: 3,
            value: "abc".into()
        }
    );
    let e = Dataset::from_csv_str(",A,Y\nx,,1\n").unwrap_err();
    assert!(e.to_string().contains("column `A`"), "{e}");
    assert!(Dataset::from_csv_str(",A,Y\nx,NA,1\n").is_err());
    assert!(
        Dataset::from_csv_str(",A,Y\nx,0.1\n")
            .unwrap_err()
            .to_string()
            .contains("line 2")
    );
    assert!(Dataset::from_csv_str(",A,A\nx,0.1,1\n").is_err());
    assert!(Dataset::from_csv_str(",A,Y\n").is_err());
}

#[test]
fn missing_column() {
    let e = Setup::new(&lf_like(), "Y", &conds(&["A", "C"])).unwrap_err();
    assert!(
        matches!(e, QcaError::MissingColumn(ref c, _) if c == "C"),
        "{e}"
    );
    assert!(Setup::new(&lf_like(), "OUT", &conds(&["A"])).is_err());
}

#[test]
fn membership_outside_unit_interval() {
    let d = Dataset::from_csv_str(",A,Y\nx,0.2,1\ny,1.5,0\n").unwrap();
    let e = Setup::new(&d, "Y", &conds(&["A"])).unwrap_err();
    assert_eq!(
        e,
        QcaError::OutOfRange {
            column: "A".into(),
            case: "y".into(),
            value: 1.5
        }
    );
    let d = Dataset::from_csv_str(",A,Y\nx,0.2,1.2\ny,0.5,0\n").unwrap();
    assert!(matches!(
        Setup::new(&d, "Y", &conds(&["A"])),
        Err(QcaError::OutOfRange { .. })
    ));
    let d = Dataset::from_csv_str(",A,Y\nx,-1,1\ny,2,0\n").unwrap();
    assert!(matches!(
        Setup::new(&d, "Y", &conds(&["A"])),
        Err(QcaError::OutOfRange { .. })
    ));
}

#[test]
fn condition_equal_to_outcome_or_repeated() {
    let e = Setup::new(&lf_like(), "Y", &conds(&["A", "Y"])).unwrap_err();
    assert_eq!(e, QcaError::ConditionIsOutcome("Y".into()));
    let e = Setup::new(&lf_like(), "~Y", &conds(&["Y"])).unwrap_err();
    assert_eq!(e, QcaError::ConditionIsOutcome("Y".into()));
    let e = Setup::new(&lf_like(), "Y", &conds(&["A", "A"])).unwrap_err();
    assert_eq!(e, QcaError::DuplicateCondition("A".into()));
    assert!(Setup::new(&lf_like(), "Y", &[]).is_err());
}

#[test]
fn empty_truth_table_after_cut_offs() {
    let setup = Setup::new(&lf_like(), "Y", &conds(&["A", "B"])).unwrap();
    let tt = truth_table(
        &setup,
        &TruthTableOptions {
            incl_cut1: 1.0,
            ..Default::default()
        },
    )
    .unwrap();
    let e = minimize(&setup, &tt, &MinimizeOptions::default()).unwrap_err();
    assert!(matches!(e, QcaError::EmptyTruthTable(_)), "{e}");
    assert!(e.to_string().contains("incl.cut"));
    // Every case at exactly 0.5 on some condition: no row at all.
    let d = Dataset::from_csv_str(",A,Y\nx,0.5,1\ny,0.5,0\n").unwrap();
    let s = Setup::new(&d, "Y", &conds(&["A"])).unwrap();
    assert!(matches!(
        truth_table(&s, &TruthTableOptions::default()),
        Err(QcaError::EmptyTruthTable(_))
    ));
}

#[test]
fn bad_options() {
    let setup = Setup::new(&lf_like(), "Y", &conds(&["A", "B"])).unwrap();
    let bad = |o: TruthTableOptions| truth_table(&setup, &o).unwrap_err();
    assert!(
        bad(TruthTableOptions {
            incl_cut1: 1.2,
            ..Default::default()
        })
        .to_string()
        .contains("--incl-cut")
    );
    assert!(
        bad(TruthTableOptions {
            pri_cut: -0.1,
            ..Default::default()
        })
        .to_string()
        .contains("--pri-cut")
    );
    assert!(
        bad(TruthTableOptions {
            incl_cut1: 0.7,
            incl_cut0: Some(0.9),
            ..Default::default()
        })
        .to_string()
        .contains("--incl-cut")
    );
    assert!(
        bad(TruthTableOptions {
            exclude: vec![5],
            ..Default::default()
        })
        .to_string()
        .contains("--exclude")
    );

    for spec in ["A,X", "A[3]", "~A[1]", "A[", "", "A*~A*Q"] {
        let e = parse_expectations(&setup, spec).unwrap_err();
        assert!(e.to_string().contains("--dir-exp"), "{spec}: {e}");
    }
    assert!(parse_expression(&setup, "A*A", "expr").is_err());

    let tt = truth_table(
        &setup,
        &TruthTableOptions {
            incl_cut1: 0.8,
            ..Default::default()
        },
    )
    .unwrap();
    let mo = MinimizeOptions {
        dir_exp: Some(parse_expectations(&setup, "A,B").unwrap()),
        ..Default::default()
    };
    assert!(
        minimize(&setup, &tt, &mo)
            .unwrap_err()
            .to_string()
            .contains("--include")
    );

    for spec in [
        "1,2",
        "50,20,80",
        "a,b,c",
        "e=1,c=2",
        "crisp:",
        "e=1,c=2,x=3",
    ] {
        assert!(
            Calibration::parse(spec, 0.95, true, "--calibrate X").is_err(),
            "{spec}"
        );
    }
    assert!(Calibration::parse("1,2,3", 1.5, true, "--calibrate X").is_err());
    let crisp = Calibration::parse("crisp:10", 0.95, true, "--calibrate X").unwrap();
    assert!(
        crisp
            .apply(&[1.0, 2.0], "--calibrate X")
            .unwrap_err()
            .to_string()
            .contains("outside")
    );
    // Named anchors in any order.
    let named = Calibration::parse("i=80, e=20, c=50", 0.95, true, "x").unwrap();
    assert_eq!(
        named,
        Calibration::parse("20,50,80", 0.95, true, "x").unwrap()
    );
}
