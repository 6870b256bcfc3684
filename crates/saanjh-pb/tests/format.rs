//! The `.pb` reader and writer: real-world quirks accepted, malformed files refused with
//! the line at fault, and writing then reading gives back the same instance.

use saanjh_pb::{Money, parse, parse_with_warnings, write};

const GOOD: &str = "\u{feff}META\nkey;value\ndescription;\"A; quoted \"\"name\"\"\"\nnum_projects;3\nnum_votes;3\nbudget;308298.85\nvote_type;approval\nmax_length;2\nPROJECTS\nproject_id;cost;name;selected\nc1;100.5;\"Zielona; ETAP II\";1\n124-A;50;Plain;0\nx;0;Free;1\n\nVOTES\nvoter_id;vote;age\n1;c1,124-A;30\n2;;41\n3;x;None\n";

#[test]
fn reads_quotes_bom_decimals_blank_lines_and_empty_ballots() {
    let i = parse(GOOD).unwrap();
    assert_eq!(i.budget, Money::parse("308298.85").unwrap());
    assert_eq!(i.meta("description"), Some("A; quoted \"name\""));
    assert_eq!(i.projects.len(), 3);
    assert_eq!(i.projects[0].cost.to_string(), "100.5");
    assert_eq!(i.projects[0].field("name"), Some("Zielona; ETAP II"));
    assert_eq!(i.projects[1].id, "124-A");
    assert_eq!(i.voters[1].vote, Vec::<usize>::new());
    assert_eq!(i.voters[0].vote, vec![0, 1]);
    assert_eq!(
        i.voters[0].fields,
        vec![("age".to_string(), "30".to_string())]
    );
}

#[test]
fn write_then_read_is_identity() {
    let i = parse(GOOD).unwrap();
    let text = write(&i);
    let back = parse(&text).unwrap();
    assert_eq!(i, back);
    assert_eq!(write(&back), text);
}

fn line_of(text: &str) -> (usize, String) {
    let e = parse(text).unwrap_err();
    (e.line, e.message)
}

fn with(find: &str, replace: &str) -> String {
    assert!(GOOD.contains(find), "{find}");
    GOOD.replacen(find, replace, 1)
}

#[test]
fn missing_section_is_reported() {
    let t = GOOD.split("VOTES").next().unwrap().to_string();
    let (line, msg) = line_of(&t);
    assert!(msg.contains("missing section VOTES"), "{msg}");
    assert!(line >= 14, "{line}");
    let (_, msg) = line_of(&with("PROJECTS\n", "PROJEKTY\n"));
    assert!(msg.contains("PROJECTS") || msg.contains("fields"), "{msg}");
}

#[test]
fn vote_for_unknown_project_names_the_line() {
    let (line, msg) = line_of(&with("2;;41", "2;c9;41"));
    assert_eq!(line, 18);
    assert!(msg.contains("unknown project `c9`"), "{msg}");
}

#[test]
fn cost_not_a_number_names_the_line() {
    let (line, msg) = line_of(&with("124-A;50;", "124-A;fifty;"));
    assert_eq!(line, 12);
    assert!(msg.contains("cost `fifty`"), "{msg}");
    let (line, _) = line_of(&with("124-A;50;", "124-A;50,5;"));
    assert_eq!(line, 12);
}

#[test]
fn over_long_ballot_names_the_line() {
    let (line, msg) = line_of(&with("3;x;None", "3;x,c1,124-A;None"));
    assert_eq!(line, 19);
    assert!(msg.contains("max_length 2"), "{msg}");
}

#[test]
fn other_malformations() {
    for (find, replace, line, needle) in [
        ("num_votes;3", "num_votes;4", 5, "num_votes is 4"),
        ("budget;308298.85", "budget;lots", 6, "budget"),
        ("vote_type;approval", "vote_type;quadratic", 7, "vote_type"),
        ("1;c1,124-A;30", "1;c1,124-A", 17, "fields"),
        ("3;x;None", "1;x;None", 19, "twice"),
        ("x;0;Free;1", "c1;0;Free;1", 13, "twice"),
        ("Plain;0", "\"Plain;0", 12, "never closed"),
    ] {
        let (l, msg) = line_of(&with(find, replace));
        assert_eq!(l, line, "{find} -> {msg}");
        assert!(msg.contains(needle), "{find}: {msg}");
    }
}

#[test]
fn points_ballots_are_checked() {
    let base = "META\nkey;value\nbudget;10\nvote_type;cumulative\nmax_sum_points;10\nPROJECTS\nproject_id;cost\na;5\nb;5\nVOTES\nvoter_id;vote;points\n1;a,b;6,4\n";
    assert!(parse(base).is_ok());
    assert!(
        parse(&base.replace("6,4", "6"))
            .unwrap_err()
            .message
            .contains("points")
    );
    assert!(
        parse(&base.replace("6,4", "7,4"))
            .unwrap_err()
            .message
            .contains("max_sum_points")
    );
    assert!(
        parse(&base.replace("6,4", "6,x"))
            .unwrap_err()
            .message
            .contains("not an integer")
    );
    assert!(
        parse(&base.replace("a,b;6,4", "a,a;6,4"))
            .unwrap_err()
            .message
            .contains("twice")
    );
}

#[test]
fn repeated_project_on_an_approval_ballot_is_counted_once_with_a_warning() {
    let (i, w) = parse_with_warnings(&with("1;c1,124-A;30", "1;c1,124-A,c1;30")).unwrap();
    assert_eq!(i.voters[0].vote, vec![0, 1]);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].line, 17);
}

#[test]
fn money_parses_and_prints_exactly() {
    for s in ["0", "1", "308298.85", "0.000001", "999999999", "12.5"] {
        assert_eq!(Money::parse(s).unwrap().to_string(), s);
    }
    for s in ["", ".", "1,5", "1e3", "1.0000001", "abc", "--1"] {
        assert!(Money::parse(s).is_none(), "{s}");
    }
}

/// Many ballots at once build the same election as one by one, and refuse what one by one
/// refuses — a repeated ballot id (among themselves or against those already in), an
/// unknown project — adding none of them.
#[test]
fn ballots_added_together_are_checked_like_one_by_one() {
    use saanjh_pb::{BuildError, Instance, Money, NewBallot, VoteType};
    let base = || {
        let mut i = Instance::new(Money::units(100), VoteType::Approval);
        i.add_project("a", Money::units(60)).unwrap();
        i.add_project("b", Money::units(50)).unwrap();
        i.add_voter("1", &["a"], None, vec![]).unwrap();
        i
    };
    let ballot = |id: &str, ps: &[&str]| NewBallot {
        id: id.into(),
        ballot: ps.iter().map(|p| p.to_string()).collect(),
        points: None,
        fields: vec![("voting_method".into(), "paper".into())],
    };
    let mut one = base();
    one.add_voter(
        "2",
        &["b", "a"],
        None,
        vec![("voting_method".into(), "paper".into())],
    )
    .unwrap();
    one.add_voter(
        "3",
        &[],
        None,
        vec![("voting_method".into(), "paper".into())],
    )
    .unwrap();
    let mut many = base();
    many.add_voters(vec![ballot("2", &["b", "a"]), ballot("3", &[])])
        .unwrap();
    assert_eq!(many, one);

    for (bad, err) in [
        (
            vec![ballot("2", &["a"]), ballot("2", &["b"])],
            BuildError::DuplicateVoter("2".into()),
        ),
        (
            vec![ballot("2", &["a"]), ballot("1", &["b"])],
            BuildError::DuplicateVoter("1".into()),
        ),
        (
            vec![ballot("2", &["a"]), ballot("3", &["z"])],
            BuildError::UnknownProject {
                voter: "3".into(),
                project: "z".into(),
            },
        ),
    ] {
        let mut i = base();
        assert_eq!(i.add_voters(bad), Err(err));
        assert_eq!(i, base(), "nothing added");
    }
}
