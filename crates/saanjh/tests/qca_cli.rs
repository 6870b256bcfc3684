//! `saanjh qca` end to end: the built binary on the reference data, its
//! JSON shape, and clean failures on bad input.

use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/qca");

fn data(name: &str) -> Option<String> {
    let p = format!("{DATA}/{name}.csv");
    if std::path::Path::new(&p).exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {p} not found (shared/ data absent)");
        None
    }
}

fn qca(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_saanjh"))
        .arg("qca")
        .args(args)
        .output()
        .expect("run saanjh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lf_intermediate_json() {
    let Some(lf) = data("LF") else { return };
    let (code, out, err) = qca(&[
        &lf,
        "--outcome",
        "SURV",
        "--conditions",
        "DEV,URB,LIT,IND,STB",
        "--incl-cut",
        "0.8",
        "--include",
        "?",
        "--dir-exp",
        "DEV,URB,LIT,IND,STB",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["solution_type"], "intermediate");
    let mut sol: Vec<String> = j["solutions"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    sol.sort();
    assert_eq!(sol, ["DEV*LIT*~IND*STB", "DEV*URB*LIT*STB"]);
    assert_eq!(j["truth_table"].as_array().unwrap().len(), 9);
    let r22 = &j["truth_table"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["row"] == 22)
        .unwrap();
    assert_eq!(r22["OUT"], "1");
    assert_eq!(r22["configuration"]["DEV"], 1);
    assert_eq!(r22["cases"], serde_json::json!(["FI", "IE"]));
    assert!(j["conservative"]["models"].is_array());
    assert!(j["parsimonious"]["models"].is_array());
    let m = &j["models"][0];
    assert_eq!(format!("{:.3}", m["incl"].as_f64().unwrap()), "0.866");
    assert_eq!(format!("{:.3}", m["cov"].as_f64().unwrap()), "0.660");
}

#[test]
fn lf_ambiguity_table_and_csv() {
    let Some(lf) = data("LF") else { return };
    let (code, out, err) = qca(&[
        &lf,
        "--outcome",
        "SURV",
        "--incl-cut",
        "0.8",
        "--n-cut",
        "2",
        "--include",
        "?",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("M1: URB + (DEV*~IND) -> SURV"), "{out}");
    assert!(out.contains("M2: URB + (LIT*~IND*STB) -> SURV"), "{out}");
    let (code, out, _) = qca(&[
        &lf,
        "--outcome",
        "SURV",
        "--incl-cut",
        "0.8",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("solution,model,term,inclS,PRI,covS,covU,cases"));
    assert!(out.contains("conservative,M1,DEV*URB*LIT*IND*STB,"));
}

#[test]
fn calibrate_then_analyse_raw_data() {
    let Some(lr) = data("LR") else { return };
    let mut args = vec![
        lr.as_str(),
        "--outcome",
        "SURV",
        "--idm",
        "ragin",
        "--incl-cut",
        "0.8",
        "--include",
        "?",
    ];
    for c in [
        "DEV=400,550,900",
        "URB=25,50,65",
        "LIT=50,75,90",
        "IND=20,30,40",
        "STB=15,9.5,5",
        "SURV=-9,0,10",
    ] {
        args.push("--calibrate");
        args.push(c);
    }
    let (code, out, err) = qca(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("M1: DEV*~IND + URB*STB -> SURV"), "{out}");
}

#[test]
fn necessity_table() {
    let Some(lf) = data("LF") else { return };
    let (code, out, _) = qca(&[
        &lf,
        "--outcome",
        "SURV",
        "--necessity",
        "--necessity-size",
        "3",
        "--necessity-cov",
        "0.6",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("DEV + URB + IND   0.903   0.704   0.716"),
        "{out}"
    );
}

#[test]
fn bad_input_fails_cleanly() {
    let dir = std::env::temp_dir().join(format!("saanjh-qca-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, ",A,B,Y\nx,0.2,abc,1\ny,0.7,0.3,0\n").unwrap();
    let bad = bad.to_str().unwrap();
    let cases: [(&[&str], &str); 2] = [
        (&[bad, "--outcome", "Y"], "`abc` is not a number"),
        (
            &["/nonexistent/file.csv", "--outcome", "Y"],
            "reading /nonexistent/file.csv",
        ),
    ];
    for (args, want) in cases {
        let (code, _, err) = qca(args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let good = dir.join("good.csv");
    std::fs::write(&good, ",A,B,Y\nx,0.2,0.9,1\ny,0.7,0.3,0\n").unwrap();
    let good = good.to_str().unwrap();
    for (args, want) in [
        (
            vec![good, "--outcome", "Q"],
            "column `Q` is not in the data",
        ),
        (
            vec![good, "--outcome", "Y", "--conditions", "A,Y"],
            "condition `Y` is also the outcome",
        ),
        (
            vec![good, "--outcome", "Y"],
            "no truth-table row is coded 1",
        ),
        (
            vec![
                good,
                "--outcome",
                "Y",
                "--incl-cut",
                "0.5",
                "--dir-exp",
                "A",
            ],
            "--include",
        ),
    ] {
        let (code, _, err) = qca(&args);
        assert_ne!(code, 0);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
