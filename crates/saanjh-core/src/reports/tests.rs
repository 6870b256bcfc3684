//! Reports are routed by the scope rules and answered under the choice
//! rules of the built-in arrangements.

use std::collections::{BTreeMap, BTreeSet};

use time::macros::datetime;

use super::*;
use crate::arrangement::Domain;
use crate::engine::{Actor, SchemeState, apply, sweep};
use crate::model::Component;

fn arrangement(name: &str) -> Arrangement {
    let (_, src) = crate::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("built in");
    Arrangement::parse(src).expect("parses")
}

fn lane_scheme() -> SchemeState {
    let comp = |kind: &str, domain, by: &str| Component {
        kind: kind.into(),
        domain,
        delivered_by: by.into(),
        estimate: None,
        description: None,
    };
    apply(
        None,
        &EventBody::SchemeCreated {
            scheme: "s1".into(),
            name: "Street 7".into(),
            action: "request".into(),
            stage: "requested".into(),
            components: vec![
                comp("lane_sewer", Domain::Internal, "community"),
                comp("trunk_sewer", Domain::External, "government"),
            ],
            positions: vec![],
            note: None,
        },
        "2026-01-05T09:00:00Z",
    )
    .expect("scheme")
}

fn fold(mut s: SchemeState, events: &[EventBody]) -> SchemeState {
    for e in events {
        s = apply(Some(s), e, "2026-01-05T09:00:00Z").expect("still a scheme");
    }
    s
}

fn input(code: &str) -> ReportInput {
    ReportInput {
        service_code: code.into(),
        lat: Some(29.4),
        long: Some(71.6),
        description: Some("Manhole near house 12 is overflowing".into()),
        attributes: BTreeMap::from([("manhole_overflowing".into(), vec!["yes".into()])]),
        ..ReportInput::default()
    }
}

const NOW: time::OffsetDateTime = datetime!(2026-01-05 09:00 UTC);

fn actor(positions: &[&str]) -> Actor {
    Actor {
        person: "p".into(),
        positions: positions
            .iter()
            .map(|p| p.to_string())
            .collect::<BTreeSet<_>>(),
    }
}

#[test]
fn services_come_from_the_components_and_route_to_their_delivering_role() {
    let arr = arrangement("component-sharing.toml");
    let s = services(&arr);
    let lane = s
        .iter()
        .find(|s| s.code == "blocked_lane_sewer")
        .expect("lane service");
    assert_eq!(
        (lane.component.as_str(), lane.routed_to.as_str()),
        ("lane_sewer", "community")
    );
    let trunk = s
        .iter()
        .find(|s| s.code == "trunk_sewer_overflow")
        .expect("trunk service");
    assert_eq!(
        (trunk.domain, trunk.routed_to.as_str()),
        (Domain::External, "government")
    );
    let water = services(&arrangement("community-managed-water.toml"));
    let no_water = water
        .iter()
        .find(|s| s.code == "no_water")
        .expect("no water");
    assert_eq!(no_water.routed_to, "utility");
    assert!(
        water
            .iter()
            .any(|s| s.code == "tariff_billing" && s.routed_to == "community")
    );
}

#[test]
fn an_internal_report_goes_to_the_lane_with_the_lane_managers_seven_days() {
    let arr = arrangement("component-sharing.toml");
    let (id, events) = file(
        &arr,
        &lane_scheme(),
        &input("blocked_lane_sewer"),
        "t1",
        NOW,
    )
    .expect("filed");
    assert_eq!(id, "s1-r1");
    let EventBody::ReportFiled { record, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(record.routed_to, "community");
    assert_eq!(record.routed_by, "components.lane_sewer");
    let opened: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventBody::ObligationOpened {
                rule,
                position,
                due,
                stage,
                ..
            } => Some((
                rule.as_str(),
                position.as_str(),
                due.as_str(),
                stage.as_str(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        opened,
        vec![(
            "lane-answers-reports",
            "community.lane_manager",
            "2026-01-12T09:00:00Z",
            "report:s1-r1"
        )]
    );
}

#[test]
fn an_external_report_goes_to_the_government_engineer() {
    let arr = arrangement("component-sharing.toml");
    let mut i = input("trunk_sewer_overflow");
    i.attributes.clear();
    let (_, events) = file(&arr, &lane_scheme(), &i, "t1", NOW).expect("filed");
    assert!(events.iter().any(|e| matches!(e, EventBody::ObligationOpened { position, rule, .. } if position == "government.municipal_engineer" && rule == "engineer-answers-reports")));
    assert!(!events.iter().any(|e| matches!(e, EventBody::ObligationOpened { position, .. } if position.starts_with("community."))));
}

#[test]
fn bad_reports_are_refused_with_the_reason() {
    let arr = arrangement("component-sharing.toml");
    let s = lane_scheme();
    let refused = |i: ReportInput| file(&arr, &s, &i, "t", NOW).expect_err("refused");
    assert!(matches!(
        refused(input("no_such_service")),
        ReportError::NotFound(_)
    ));
    let mut i = input("blocked_lane_sewer");
    i.lat = None;
    i.long = None;
    assert!(refused(i).to_string().contains("location is required"));
    let mut i = input("blocked_lane_sewer");
    i.lat = Some(91.0);
    assert!(refused(i).to_string().contains("latitude"));
    let mut i = input("blocked_lane_sewer");
    i.long = Some(f64::NAN);
    assert!(refused(i).to_string().contains("longitude"));
    let mut i = input("blocked_lane_sewer");
    i.description = Some("x".repeat(MAX_DESCRIPTION + 1));
    assert!(refused(i).to_string().contains("4000"));
    let mut i = input("blocked_lane_sewer");
    i.attributes.clear();
    assert!(
        refused(i)
            .to_string()
            .contains("attribute[manhole_overflowing] is required")
    );
    let mut i = input("blocked_lane_sewer");
    i.attributes
        .insert("manhole_overflowing".into(), vec!["perhaps".into()]);
    assert!(refused(i).to_string().contains("one of: yes, no"));
    let mut i = input("blocked_lane_sewer");
    i.attributes
        .insert("houses_affected".into(), vec!["many".into()]);
    assert!(refused(i).to_string().contains("number"));
    // Exactly 4,000 characters is allowed, counted as characters, not bytes.
    let mut i = input("blocked_lane_sewer");
    i.description = Some("ب".repeat(MAX_DESCRIPTION));
    assert!(file(&arr, &s, &i, "t", NOW).is_ok());
    // An address alone is a location.
    let mut i = input("blocked_lane_sewer");
    (i.lat, i.long, i.address) = (None, None, Some("Street 7, Fauji Colony".into()));
    assert!(file(&arr, &s, &i, "t", NOW).is_ok());
}

#[test]
fn a_scheme_without_the_component_has_nothing_to_report() {
    let arr = arrangement("component-sharing.toml");
    let mut i = input("broken_paving");
    i.attributes.clear();
    let err = file(&arr, &lane_scheme(), &i, "t", NOW).expect_err("no paving");
    assert!(matches!(err, ReportError::NotFound(_)));
}

fn filed(arr: &Arrangement, code: &str) -> (SchemeState, ReportState) {
    let mut i = input(code);
    if code != "blocked_lane_sewer" {
        i.attributes.clear();
    }
    let (id, events) = file(arr, &lane_scheme(), &i, "t", NOW).expect("filed");
    let EventBody::ReportFiled { record, .. } = &events[0] else {
        panic!()
    };
    let report = ReportState {
        id,
        scheme: "s1".into(),
        routed_to: record.routed_to.clone(),
        status: ReportStatus::Open,
        updates: 0,
    };
    (fold(lane_scheme(), &events), report)
}

#[test]
fn the_routed_roles_response_meets_the_obligation_and_others_may_only_note() {
    let arr = arrangement("component-sharing.toml");
    let (s, r) = filed(&arr, "blocked_lane_sewer");
    assert_eq!(s.open_obligations.len(), 1);
    // The NGO may add a note, which does not answer for the lane.
    let note = respond(
        &arr,
        &s,
        &r,
        &actor(&["ngo.social_organiser"]),
        ReportStatus::Open,
        Some("Told the lane manager".into()),
        NOW,
    );
    assert_eq!(note.expect_err("open is not a response").rule, "input");
    let ev = respond(
        &arr,
        &s,
        &r,
        &actor(&["ngo.social_organiser"]),
        ReportStatus::Acknowledged,
        None,
        NOW,
    )
    .expect("may");
    assert!(
        !ev.iter()
            .any(|e| matches!(e, EventBody::ObligationMet { .. }))
    );
    // The lane manager's response meets it, on time.
    let ev = respond(
        &arr,
        &s,
        &r,
        &actor(&["community.lane_manager"]),
        ReportStatus::InProgress,
        Some("Sweeper called".into()),
        NOW + time::Duration::days(2),
    )
    .expect("must");
    assert!(
        ev.iter()
            .any(|e| matches!(e, EventBody::ObligationMet { late: false, .. }))
    );
    // Someone with no rule for it is refused, naming the rule.
    let refusal = respond(
        &arr,
        &s,
        &r,
        &actor(&["community.treasurer"]),
        ReportStatus::Closed,
        None,
        NOW,
    )
    .expect_err("no rule");
    assert_eq!(refusal.rule, "lane-answers-reports");
}

#[test]
fn statuses_only_move_forward_and_closed_is_final() {
    let arr = arrangement("component-sharing.toml");
    let (s, mut r) = filed(&arr, "blocked_lane_sewer");
    let lm = actor(&["community.lane_manager"]);
    r.status = ReportStatus::InProgress;
    assert!(respond(&arr, &s, &r, &lm, ReportStatus::Acknowledged, None, NOW).is_err());
    assert!(
        respond(&arr, &s, &r, &lm, ReportStatus::InProgress, None, NOW).is_err(),
        "same status needs a note"
    );
    assert!(
        respond(
            &arr,
            &s,
            &r,
            &lm,
            ReportStatus::InProgress,
            Some("still on it".into()),
            NOW
        )
        .is_ok()
    );
    r.status = ReportStatus::Closed;
    assert_eq!(
        respond(
            &arr,
            &s,
            &r,
            &lm,
            ReportStatus::Closed,
            Some("again".into()),
            NOW
        )
        .expect_err("closed")
        .rule,
        "lifecycle.respond_to_report"
    );
}

#[test]
fn an_unanswered_report_is_breached_and_escalated_and_a_stage_change_does_not_lapse_it() {
    let arr = arrangement("component-sharing.toml");
    let (s, r) = filed(&arr, "trunk_sewer_overflow");
    // The scheme moving on leaves the report's duty open.
    let moved = fold(
        s,
        &[EventBody::StageChanged {
            scheme: "s1".into(),
            from: "requested".into(),
            to: "surveyed".into(),
            cause: "test".into(),
        }],
    );
    assert_eq!(moved.open_obligations.len(), 1);
    let late = NOW + time::Duration::days(8);
    let swept = sweep(&arr, &moved, late);
    assert!(swept.iter().any(|e| matches!(e, EventBody::ObligationBreached { rule, .. } if rule == "engineer-answers-reports")));
    let s = fold(moved, &swept);
    assert_eq!(s.open_obligations.len(), 1);
    assert_eq!(s.open_obligations[0].position, "government.councillor");
    assert_eq!(s.open_obligations[0].stage, obligation_stage(&r.id));
    // The councillor, to whom it was escalated, answers it in time.
    let ev = respond(
        &arr,
        &s,
        &r,
        &actor(&["government.councillor"]),
        ReportStatus::Acknowledged,
        None,
        late,
    )
    .expect("councillor");
    assert!(
        ev.iter()
            .any(|e| matches!(e, EventBody::ObligationMet { late: false, .. }))
    );
    // So would the engineer, late, had the councillor not.
    let ev = respond(
        &arr,
        &s,
        &r,
        &actor(&["government.municipal_engineer"]),
        ReportStatus::Acknowledged,
        None,
        late + time::Duration::days(8),
    )
    .expect("engineer");
    assert!(
        ev.iter()
            .any(|e| matches!(e, EventBody::ObligationMet { late: true, .. }))
    );
}

#[test]
fn facts_count_open_and_closed_reports_per_role() {
    let arr = arrangement("component-sharing.toml");
    let mut f = crate::facts::Facts::default();
    add_facts(
        &arr,
        [
            ("community", ReportStatus::Open),
            ("community", ReportStatus::InProgress),
            ("government", ReportStatus::Closed),
        ],
        &mut f,
    );
    let ok = |c: &str| {
        crate::facts::evaluate(c, &f, crate::facts::Scope::Scheme, false).expect("evaluates")
    };
    assert!(ok(
        "reports_open('community') == 2 && reports_closed('government') == 1 && reports_open('ngo') == 0"
    ));
}

fn check_errors(source: &str) -> Vec<String> {
    match Arrangement::parse(source) {
        Ok(_) => vec![],
        Err(d) => d.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn arrangement_check_validates_services() {
    let (_, src) = crate::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .expect("built in");
    // A service code used twice is named with its line.
    let twice = src.replace(
        "code = \"blocked_collector_sewer\"",
        "code = \"blocked_lane_sewer\"",
    );
    let errs = check_errors(&twice);
    assert!(
        errs.iter()
            .any(|e| e.contains("service code `blocked_lane_sewer` is used twice")),
        "{errs:?}"
    );
    // Reports about the trunk sewer go to `government`; without a rule for a
    // government position to respond, nobody could answer them.
    let unanswerable = src
        .replace("attribute = \"government.municipal_engineer\"\ndeontic = \"must\"\naim = \"respond_to_report\"", "attribute = \"ngo.engineer\"\ndeontic = \"must\"\naim = \"respond_to_report\"")
        .replace("attribute = \"government.councillor\"\ndeontic = \"may\"\naim = \"respond_to_report\"", "attribute = \"ngo.engineer\"\ndeontic = \"may\"\naim = \"respond_to_report\"");
    let errs = check_errors(&unanswerable);
    assert!(
        errs.iter()
            .any(|e| e.contains("reports about `trunk_sewer` go to `government`")),
        "{errs:?}"
    );
    // A list attribute needs its answers.
    let no_values = src.replace(", values = [\"yes\", \"no\"]", "");
    let errs = check_errors(&no_values);
    assert!(
        errs.iter()
            .any(|e| e.contains("is a singlevaluelist but lists no values")),
        "{errs:?}"
    );
    // A response action tied to a stage is refused.
    let staged = src.replace(
        "records = \"response\"",
        "records = \"response\"\nfrom = [\"requested\"]",
    );
    let errs = check_errors(&staged);
    assert!(
        errs.iter().any(|e| e.contains("cannot be tied to stages")),
        "{errs:?}"
    );
    assert!(check_errors(src).is_empty());
}

#[test]
fn a_held_report_is_routed_later_and_its_duty_runs_from_then() {
    let arr = arrangement("component-sharing.toml");
    // Held: checked like a filed report, routed to a role, but on no scheme.
    let EventBody::ReportHeld { record, token, .. } =
        hold(&arr, "i1", &input("blocked_lane_sewer"), "tok").expect("held")
    else {
        panic!("not a held report");
    };
    assert_eq!(
        (token.as_str(), record.routed_to.as_str()),
        ("tok", "community")
    );
    assert!(matches!(
        hold(&arr, "i1", &input("no_such_service"), "t2"),
        Err(ReportError::NotFound(_))
    ));
    // Who may route: whoever the rules let answer reports, not the treasurer.
    assert!(may_route(&arr, &actor(&["ngo.social_organiser"])).is_ok());
    let no = may_route(&arr, &actor(&["community.treasurer"])).expect_err("refused");
    assert_eq!(no.rule, "lane-answers-reports");
    // Routed two days later: requested when held, due seven days from routing.
    let later = datetime!(2026-01-07 09:00 UTC);
    let (id, events) =
        route_held(&arr, &lane_scheme(), &record, "2026-01-05T09:00:00Z", later).expect("routed");
    assert_eq!(id, "s1-r1");
    let EventBody::ReportFiled { record: filed, .. } = &events[0] else {
        panic!("filed first");
    };
    assert_eq!(filed.requested_at.as_deref(), Some("2026-01-05T09:00:00Z"));
    assert!(
        matches!(&events[1], EventBody::ReportRouted { token, report, .. } if token == "tok" && report == "s1-r1")
    );
    assert!(events.iter().any(|e| matches!(e,
        EventBody::ObligationOpened { due, position, .. }
            if due == "2026-01-14T09:00:00Z" && position == "community.lane_manager")));
}
