//! `saanjh pb` against a database, end to end with the built binary: a file
//! imported as a counted round, exported again, and a bad file refused with
//! its line and nothing imported; counting a file (`saanjh pb FILE --rule`)
//! works beside the subcommands.

use std::path::PathBuf;
use std::process::Command;

const GOOD: &str = "META\nkey;value\ndescription;test\ncountry;Pakistan\nunit;Lodhran\ninstance;2025\nnum_projects;2\nnum_votes;2\nbudget;1000\nvote_type;approval\nrule;greedy\ndate_begin;2025\ndate_end;2025\nmax_length;2\nPROJECTS\nproject_id;cost;name\n1;600;Drain\n2;500;Wall\nVOTES\nvoter_id;vote\n1;1,2\n2;2\n";

fn saanjh(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_saanjh"))
        .args(args)
        .env_remove("SAANJH_DATABASE_URL")
        .output()
        .expect("run saanjh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "saanjh-pb-cli-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `saanjh verify`'s count of chains and events: what an import changes.
fn log_size(db: &str) -> String {
    let (code, out, err) = saanjh(&["verify", "--db", db]);
    assert_eq!(code, 0, "{err}");
    out.trim().split(" in ").next().unwrap_or("").to_string()
}

#[test]
fn a_file_goes_into_the_database_and_comes_out_again() {
    let dir = scratch("roundtrip");
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let good = dir.join("good.pb");
    std::fs::write(&good, GOOD).expect("write");
    let good = good.to_string_lossy().into_owned();

    // Counting a file is unchanged: greedy takes 2 (two votes, 500), then
    // 1 (600) no longer fits.
    let (code, out, err) = saanjh(&["pb", &good, "--rule", "greedy", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["winners"], serde_json::json!(["2"]));

    let (code, out, err) = saanjh(&["pb", "import", &good, "--db", &db]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 projects, 2 ballots"), "{out}");
    assert!(out.contains("winners (proposal numbers): 2"), "{out}");
    let round = out
        .split("imported round ")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .expect("round id")
        .to_string();

    let (code, exported, err) = saanjh(&["pb", "export", "--round", &round, "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let inst = saanjh_pb::parse(&exported).expect("the export parses");
    assert_eq!(inst.projects.len(), 2);
    assert_eq!(inst.voters.len(), 2);
    let selected: Vec<&str> = inst
        .projects
        .iter()
        .filter(|p| p.officially_selected() == Some(true))
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(selected, ["2"]);

    let (code, _, err) = saanjh(&["pb", "export", "--round", "no-such-round", "--db", &db]);
    assert_ne!(code, 0);
    assert!(err.contains("no-such-round"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_file_names_its_line_and_imports_nothing() {
    let dir = scratch("bad");
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let good = dir.join("good.pb");
    std::fs::write(&good, GOOD).expect("write");
    let (code, _, err) = saanjh(&["pb", "import", &good.to_string_lossy(), "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let before = log_size(&db);
    for (text, line) in [
        (GOOD.replace("2;2\n", "2;7\n"), 22),
        (GOOD.replace("1;600;Drain", "1;six hundred;Drain"), 17),
        (GOOD.replace("budget;1000", "budget;1000.005"), 9),
    ] {
        let bad = dir.join("bad.pb");
        std::fs::write(&bad, &text).expect("write");
        let bad = bad.to_string_lossy().into_owned();
        let (code, out, err) = saanjh(&["pb", "import", &bad, "--db", &db]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains(&format!("{bad}:{line}:")),
            "line {line}: {err}"
        );
        assert!(err.contains("nothing was imported"), "{err}");
        assert_eq!(log_size(&db), before, "nothing changed");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
