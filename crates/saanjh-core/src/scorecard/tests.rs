//! Scorecard arithmetic and the decisions around a round.

use std::collections::BTreeSet;

use time::macros::datetime;

use super::*;
use crate::arrangement::Domain;
use crate::engine::{SchemeState, apply as apply_scheme};
use crate::model::Component;

fn crit(code: &str) -> Criterion {
    Criterion {
        code: code.into(),
        name: code.replace('_', " "),
    }
}

fn group(name: &str, party: Party, scores: &[(&str, &[u8])]) -> GroupScores {
    GroupScores {
        group: name.into(),
        party,
        scores: scores
            .iter()
            .map(|(c, s)| (c.to_string(), s.to_vec()))
            .collect(),
    }
}

fn round(id: &str, held_on: &str, groups: Vec<GroupScores>) -> RoundState {
    RoundState {
        id: id.into(),
        scheme: "s1".into(),
        opened_at: format!("{held_on}T10:00:00Z"),
        record: RoundRecord {
            service: "lane sewer".into(),
            held_on: held_on.into(),
            meeting: None,
            criteria: vec![crit("cleanliness"), crit("response_time")],
        },
        groups: groups.into_iter().map(|g| (g.group.clone(), g)).collect(),
        actions: vec![],
        closed: false,
    }
}

#[test]
fn a_mean_is_rounded_once_half_up_to_tenths() {
    assert_eq!(mean_tenths(&[3, 4]), Some(35));
    assert_eq!(mean_tenths(&[1, 2, 2]), Some(17)); // 1.666… → 1.7
    assert_eq!(mean_tenths(&[1, 1, 2]), Some(13)); // 1.333… → 1.3
    assert_eq!(
        mean_tenths(&[1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]),
        Some(20)
    ); // 1.95 → 2.0
    assert_eq!(mean_tenths(&[]), None);
    assert_eq!(tenths_text(35), "3.5");
    assert_eq!(tenths_text(40), "4.0");
}

#[test]
fn users_score_is_the_mean_of_group_means_so_a_small_group_weighs_as_much() {
    // Two women score 1; ten men score 5. Pooled, users would be 4.3; as the
    // mean of the two groups' means they are 3.0.
    let r = round(
        "c1",
        "2026-01-10",
        vec![
            group("women", Party::Users, &[("cleanliness", &[1, 1])]),
            group("men", Party::Users, &[("cleanliness", &[5; 10])]),
            group("providers", Party::Providers, &[("cleanliness", &[4, 5])]),
        ],
    );
    let a = aggregate(&r);
    let clean = &a[0];
    assert_eq!(clean.criterion, "cleanliness");
    assert_eq!(clean.groups["women"], (10, 2));
    assert_eq!(clean.groups["men"], (50, 10));
    assert_eq!(clean.users, Some(30));
    assert_eq!(clean.providers, Some(45));
    assert_eq!(
        clean.gap,
        Some(-15),
        "providers rate it 1.5 higher than users"
    );
    // Nobody scored response time: no figures, no gap.
    assert_eq!((a[1].users, a[1].providers, a[1].gap), (None, None, None));
}

#[test]
fn the_mean_of_means_is_exact_before_rounding() {
    // Group means 1.25 and 1.5: exactly 1.375 → 1.4. Rounding the groups
    // first (1.3 and 1.5) would give 1.4 too, so also: 1.25 and 1.4 (=7/5)
    // are exactly 1.325 → 1.3, where rounded groups (1.3, 1.4) give 1.35 → 1.4.
    let r = round(
        "c1",
        "2026-01-10",
        vec![
            group("a", Party::Users, &[("cleanliness", &[1, 1, 2, 1])]),
            group("b", Party::Users, &[("cleanliness", &[1, 2])]),
        ],
    );
    assert_eq!(aggregate(&r)[0].users, Some(14));
    let r = round(
        "c1",
        "2026-01-10",
        vec![
            group("a", Party::Users, &[("cleanliness", &[1, 1, 2, 1])]),
            group("b", Party::Users, &[("cleanliness", &[1, 1, 1, 2, 2])]),
        ],
    );
    assert_eq!(aggregate(&r)[0].users, Some(13));
}

#[test]
fn results_over_rounds_show_the_change_since_the_last_round() {
    let first = round(
        "c2",
        "2026-01-10",
        vec![
            group("women", Party::Users, &[("cleanliness", &[2, 2])]),
            group("providers", Party::Providers, &[("cleanliness", &[4])]),
        ],
    );
    let second = round(
        "c9",
        "2026-04-10",
        vec![
            group("women", Party::Users, &[("cleanliness", &[4, 3])]),
            group("providers", Party::Providers, &[("cleanliness", &[4])]),
        ],
    );
    // Given in either order, the older round comes first.
    let rows = over_rounds(&[second, first]);
    let users: Vec<(&str, i64, Option<i64>)> = rows
        .iter()
        .filter(|r| r.who == "users")
        .map(|r| (r.round.as_str(), r.score_tenths, r.change_tenths))
        .collect();
    assert_eq!(users, vec![("c2", 20, None), ("c9", 35, Some(15))]);
    let csv = csv(&rows);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("round,held_on,criterion,criterion_name,who,score,change")
    );
    assert!(
        csv.contains("c9,2026-04-10,cleanliness,cleanliness,users,3.5,1.5"),
        "{csv}"
    );
    assert!(
        csv.contains("c9,2026-04-10,cleanliness,cleanliness,providers,4.0,0.0"),
        "{csv}"
    );
}

fn arrangement() -> Arrangement {
    let (_, src) = crate::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .expect("built in");
    Arrangement::parse(src).expect("parses")
}

fn scheme() -> SchemeState {
    apply_scheme(
        None,
        &EventBody::SchemeCreated {
            scheme: "s1".into(),
            name: "Street 7".into(),
            action: "request".into(),
            stage: "requested".into(),
            components: vec![Component {
                kind: "lane_sewer".into(),
                domain: Domain::Internal,
                delivered_by: "community".into(),
                estimate: None,
                description: None,
            }],
            positions: vec![],
            note: None,
        },
        "2026-01-05T09:00:00Z",
    )
    .expect("scheme")
}

fn organiser() -> Actor {
    Actor {
        person: "saima".into(),
        positions: BTreeSet::from(["ngo.social_organiser".to_string()]),
    }
}

const NOW: time::OffsetDateTime = datetime!(2026-01-10 09:00 UTC);

#[test]
fn a_round_opens_is_scored_and_its_agreed_actions_become_obligations() {
    let arr = arrangement();
    let s = scheme();
    let record = RoundRecord {
        service: "lane sewer".into(),
        held_on: "2026-01-10".into(),
        meeting: None,
        criteria: vec![crit("cleanliness")],
    };
    let (id, events) = open_round(&arr, &s, &organiser(), record).expect("opened");
    let mut r = apply(None, &events[0], "2026-01-10T09:00:00Z").expect("round");
    let mut s = apply_scheme(Some(s), &events[0], "2026-01-10T09:00:00Z").expect("scheme");
    assert_eq!(r.id, id);
    // Scores outside 1–5 or for unknown criteria change nothing.
    assert!(
        score(
            &arr,
            &r,
            &organiser(),
            group("women", Party::Users, &[("cleanliness", &[0])])
        )
        .is_err()
    );
    assert!(
        score(
            &arr,
            &r,
            &organiser(),
            group("women", Party::Users, &[("taste", &[3])])
        )
        .is_err()
    );
    // Actions cannot be agreed before anyone scored.
    let act = || ActionInput {
        action: "Desilt the lane sewer monthly".into(),
        position: "community.lane_manager".into(),
        due: "2026-02-10".into(),
        criterion: Some("cleanliness".into()),
    };
    assert!(agree_actions(&arr, &s, &r, &organiser(), vec![act()], NOW).is_err());
    for e in score(
        &arr,
        &r,
        &organiser(),
        group("women", Party::Users, &[("cleanliness", &[2, 3])]),
    )
    .expect("scored")
    {
        r = apply(Some(r), &e, "2026-01-10T10:00:00Z").expect("round");
    }
    let events = agree_actions(&arr, &s, &r, &organiser(), vec![act()], NOW).expect("agreed");
    let EventBody::ObligationOpened {
        position,
        due,
        stage,
        ..
    } = &events[1]
    else {
        panic!("{events:?}")
    };
    assert_eq!(
        (position.as_str(), due.as_str()),
        ("community.lane_manager", "2026-02-11T00:00:00Z")
    );
    assert_eq!(stage, &format!("scorecard:{id}"));
    for e in &events {
        r = apply(Some(r), e, "2026-01-10T11:00:00Z").expect("round");
        s = apply_scheme(Some(s), e, "2026-01-10T11:00:00Z").expect("scheme");
    }
    assert!(r.closed);
    assert!(
        score(
            &arr,
            &r,
            &organiser(),
            group("men", Party::Users, &[("cleanliness", &[3])])
        )
        .is_err(),
        "closed to scores"
    );
    // The lane manager, who owes it, records it done.
    let lm = Actor {
        person: "aslam".into(),
        positions: BTreeSet::from(["community.lane_manager".to_string()]),
    };
    let ob = r.actions[0].obligation.clone();
    let done = action_done(&arr, &s, &r, &lm, &ob, NOW).expect("done");
    assert!(matches!(
        &done[0],
        EventBody::ObligationMet { late: false, .. }
    ));
    // A treasurer neither owes it nor holds rounds.
    let t = Actor {
        person: "t".into(),
        positions: BTreeSet::from(["community.treasurer".to_string()]),
    };
    assert!(action_done(&arr, &s, &r, &t, &ob, NOW).is_err());
}

#[test]
fn only_positions_a_rule_names_may_hold_a_round() {
    let arr = arrangement();
    let t = Actor {
        person: "t".into(),
        positions: BTreeSet::from(["community.treasurer".to_string()]),
    };
    let record = RoundRecord {
        service: "x".into(),
        held_on: "2026-01-10".into(),
        meeting: None,
        criteria: vec![crit("a")],
    };
    let refusal = open_round(&arr, &scheme(), &t, record).expect_err("refused");
    assert_eq!(refusal.rule, "organiser-holds-scorecards");
}
