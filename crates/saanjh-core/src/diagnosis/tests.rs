//! The diagnosis on two lanes under the built-in component-sharing
//! arrangement, written as the events the engine records: Street 7, where
//! everyone did their part, and Street 9, the demo's failure story — the
//! residents paid and built, the lane manager kept the cash and spent it
//! himself, and the TMA's trunk sewer never came (breached, escalated to the
//! councillor, breached again).

use std::collections::BTreeMap;

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::arrangement::Arrangement;
use crate::event::EventBody;

fn arrangement() -> Arrangement {
    let (_, src) = crate::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .expect("built in");
    Arrangement::parse(src).expect("parses")
}

struct Log {
    events: Vec<DiagEvent>,
}

impl Log {
    fn push(&mut self, at: &str, actor: &str, body: serde_json::Value) {
        let body: EventBody =
            serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"));
        self.events.push(DiagEvent {
            seq: self.events.len() as i64 + 1,
            at: at.to_string(),
            actor: actor.to_string(),
            body,
        });
    }
}

fn entry(kind: &str, role: &str, amount: i64, household: Option<&str>) -> serde_json::Value {
    json!({"kind": kind, "role": role, "amount": amount, "household": household})
}

/// A lane: 10 households at Rs 10,000; `healthy` decides the story.
fn lane(healthy: bool) -> Vec<DiagEvent> {
    let mut l = Log { events: vec![] };
    let s = "s1";
    l.push("2026-01-02T09:00:00Z", "admin", json!({"kind": "initiative_started", "initiative": {
        "id": "i1", "name": "lane", "locality": "x", "district": "y", "arrangement": "component-sharing", "version": 1,
        "partners": {"community": "o1", "government": "o2", "ngo": "o3"}}}));
    l.push("2026-01-02T09:00:00Z", "councillor", json!({"kind": "scheme_created", "scheme": s, "name": "lane sewer",
        "action": "request", "stage": "requested", "positions": ["government.councillor"], "note": null, "components": [
            {"kind": "lane_sewer", "domain": "internal", "delivered_by": "community", "estimate": null},
            {"kind": "trunk_sewer", "domain": "external", "delivered_by": "government", "estimate": null}]}));
    l.push("2026-01-05T09:00:00Z", "ngo-eng", json!({"kind": "estimate_set", "scheme": s, "estimates": {"lane_sewer": 100_000, "trunk_sewer": 200_000}}));
    for h in 0..10 {
        l.push("2026-01-06T09:00:00Z", "organiser", json!({"kind": "household_registered", "scheme": s, "household": format!("h{h}"), "record": {"house": format!("{h}")}}));
    }
    l.push(
        "2026-01-08T09:00:00Z",
        "organiser",
        json!({"kind": "meeting_recorded", "meeting": "m1", "scheme": s, "record": {
        "body": "community", "held_on": "2026-01-08", "attendance": {"women": 4, "men": 7}}}),
    );
    // Who records the cash: the treasurer on the healthy lane, the manager
    // (who also spends) on the other.
    let collector = if healthy { "treasurer" } else { "manager" };
    for h in 0..10 {
        l.push(
            "2026-01-20T09:00:00Z",
            collector,
            json!({"kind": "ledger_entry_posted", "entry": format!("e{h}"), "scheme": s,
            "line": entry("contribution", "community", 10_000, Some(&format!("h{h}")))}),
        );
    }
    l.push("2026-02-01T09:00:00Z", "manager", json!({"kind": "stage_changed", "scheme": s, "from": "funds_collected", "to": "under_construction", "cause": "start_works"}));
    l.push(
        "2026-02-10T09:00:00Z",
        "manager",
        json!({"kind": "ledger_entry_posted", "entry": "x1", "scheme": s,
        "line": entry("expenditure", "community", 90_000, None)}),
    );
    l.push("2026-02-15T09:00:00Z", "ngo-eng", json!({"kind": "act_performed", "scheme": s, "action": "inspect", "from": "under_construction",
        "to": null, "positions": ["ngo.engineer"], "rules": ["ngo_inspects"], "note": "levels right"}));
    l.push("2026-03-01T09:00:00Z", "organiser", json!({"kind": "stage_changed", "scheme": s, "from": "internal_completed", "to": "external_requested", "cause": "request_external"}));
    l.push("2026-03-01T09:00:00Z", "organiser", json!({"kind": "obligation_opened", "obligation": "o1", "scheme": s, "rule": "tma_completes_external",
        "position": "government.municipal_engineer", "action": "complete_external", "stage": "external_requested", "due": "2026-05-30T09:00:00Z", "escalated_from": null}));
    if healthy {
        l.push(
            "2026-04-10T09:00:00Z",
            "engineer",
            json!({"kind": "ledger_entry_posted", "entry": "r1", "scheme": s,
            "line": entry("release", "government", 200_000, None)}),
        );
        l.push(
            "2026-04-20T09:00:00Z",
            "engineer",
            json!({"kind": "obligation_met", "obligation": "o1", "scheme": s, "late": false}),
        );
        l.push("2026-04-20T09:00:00Z", "engineer", json!({"kind": "stage_changed", "scheme": s, "from": "external_requested", "to": "external_completed", "cause": "complete_external"}));
        l.push("2026-05-01T09:00:00Z", "manager", json!({"kind": "stage_changed", "scheme": s, "from": "external_completed", "to": "in_operation", "cause": "hand_over"}));
    } else {
        l.push("2026-05-30T09:00:00Z", "system", json!({"kind": "obligation_breached", "obligation": "o1", "scheme": s, "rule": "tma_completes_external",
            "position": "government.municipal_engineer", "consequence": "escalated to the union councillor"}));
        l.push("2026-05-30T09:00:00Z", "system", json!({"kind": "obligation_opened", "obligation": "o2", "scheme": s, "rule": "tma_completes_external",
            "position": "government.councillor", "action": "complete_external", "stage": "external_requested", "due": "2026-06-29T09:00:00Z", "escalated_from": "o1"}));
        l.push("2026-06-29T09:00:00Z", "system", json!({"kind": "obligation_breached", "obligation": "o2", "scheme": s, "rule": "tma_completes_external",
            "position": "government.councillor", "consequence": "the delay is published on the scheme's public page"}));
    }
    l.events
}

/// A test double for `saanjh-qca`'s direct method (core may not depend on
/// it): the linear direct method through the anchors.
fn linear(x: f64, a: &Anchors) -> Result<f64, String> {
    let (e, c, i, down) = if a.inclusion < a.exclusion {
        (a.inclusion, a.crossover, a.exclusion, true)
    } else {
        (a.exclusion, a.crossover, a.inclusion, false)
    };
    let m = if x <= e {
        0.0
    } else if x <= c {
        (x - e) / (c - e) / 2.0
    } else if x <= i {
        0.5 + (x - c) / (i - c) / 2.0
    } else {
        1.0
    };
    Ok(if down { 1.0 - m } else { m })
}

fn diagnosis_of(healthy: bool) -> (Tracker, Diagnosis) {
    let arr = arrangement();
    let ctx = Context {
        positions_filled: BTreeMap::from([("community.lane_manager".to_string(), 1)]),
        reserve: None,
    };
    let mut t = Tracker::new();
    for e in lane(healthy) {
        t.apply(&arr, &ctx, &e);
    }
    let d = diagnose(
        &arr,
        &ctx,
        &t,
        datetime!(2026-08-01 09:00 UTC),
        &BTreeMap::new(),
        &linear,
    )
    .expect("diagnosis");
    (t, d)
}

fn value(d: &Diagnosis, id: &str) -> Option<f64> {
    d.indicators
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .value
}

#[test]
fn the_healthy_lane_has_no_weak_condition() {
    let (t, d) = diagnosis_of(true);
    assert_eq!(t.len(), 33);
    assert!(d.weak.is_empty(), "weak: {:?}\n{:#?}", d.weak, d.conditions);
    assert_eq!(
        value(&d, "bureaucratic_commitment.obligations_on_time"),
        Some(1.0)
    );
    assert_eq!(
        value(&d, "political_commitment.external_works_delivered"),
        Some(1.0)
    );
    assert_eq!(
        value(&d, "community_willingness.households_paying"),
        Some(1.0)
    );
    assert_eq!(value(&d, "trust.collector_not_spender"), Some(1.0));
    assert_eq!(
        value(&d, "service_delivered_and_sustained.schemes_delivered"),
        Some(1.0)
    );
    // No reserve on record: not measured rather than zero.
    assert_eq!(value(&d, "political_commitment.reserve_utilisation"), None);
    assert!(d.next_steps.is_empty());
}

#[test]
fn street_9s_failures_are_its_weak_conditions() {
    let (_, d) = diagnosis_of(false);
    for c in [
        "political_commitment",
        "bureaucratic_commitment",
        "trust",
        OUTCOME,
    ] {
        assert!(
            d.weak.iter().any(|w| w == c),
            "{c} should be weak: {:?}\n{:#?}",
            d.weak,
            d.conditions
        );
    }
    // The community did its part: not weak.
    assert!(
        !d.weak.iter().any(|w| w == "community_willingness"),
        "{:?}",
        d.weak
    );
    assert_eq!(
        value(&d, "political_commitment.external_works_delivered"),
        Some(0.0)
    );
    assert_eq!(
        value(&d, "political_commitment.elected_obligations_on_time"),
        Some(0.0)
    );
    assert_eq!(value(&d, "trust.collector_not_spender"), Some(0.0));
    // Worst delay: from the first deadline (30 May) to now (1 August).
    assert_eq!(
        value(&d, "bureaucratic_commitment.worst_delay_days"),
        Some(63.0)
    );
    // The breaches are the evidence, with their events.
    let b = &d.breached["bureaucratic_commitment"];
    assert_eq!(b[0].id, "o1");
    assert!(!b[0].events.is_empty());
    assert_eq!(d.breached["political_commitment"][0].id, "o2");
    // The next step is the councillor's (o1 was escalated onwards).
    assert_eq!(d.next_steps.len(), 1, "{:#?}", d.next_steps);
    assert_eq!(d.next_steps[0].position, "government.councillor");
    assert_eq!(d.next_steps[0].status, "breached");
    // Indicators name their events and have a history by month.
    let ext = d
        .indicators
        .iter()
        .find(|i| i.id == "political_commitment.external_works_delivered")
        .unwrap();
    assert!(!ext.events.is_empty());
    let pay = d
        .indicators
        .iter()
        .find(|i| i.id == "community_willingness.households_paying")
        .unwrap();
    assert_eq!(pay.over_time.first().map(|m| m.0.as_str()), Some("2026-01"));
    assert_eq!(pay.over_time[0].1, Some(1.0));
    assert!(pay.over_time.len() >= 4, "{:?}", pay.over_time);
}

#[test]
fn anchors_out_of_order_stop_the_diagnosis() {
    let arr = arrangement();
    let ctx = Context::default();
    let mut t = Tracker::new();
    for e in lane(true) {
        t.apply(&arr, &ctx, &e);
    }
    let bad = BTreeMap::from([(
        "trust.collector_not_spender".to_string(),
        Anchors {
            exclusion: 0.9,
            crossover: 0.1,
            inclusion: 0.5,
        },
    )]);
    let refuse =
        |_: f64, a: &Anchors| Anchors::new(a.exclusion, a.crossover, a.inclusion).map(|_| 0.5);
    let e = diagnose(
        &arr,
        &ctx,
        &t,
        datetime!(2026-08-01 09:00 UTC),
        &bad,
        &refuse,
    )
    .unwrap_err();
    assert!(
        e.contains("trust.collector_not_spender") && e.contains("out of order"),
        "{e}"
    );
}

fn water() -> Arrangement {
    let (_, src) = crate::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "community-managed-water.toml")
        .expect("built in");
    Arrangement::parse(src).expect("parses")
}

/// A water scheme in operation: 4 connections, the internal share of Rs
/// 40,000 pledged `pledged` (paisa), each connection billed Rs 500 for two
/// months, and `paid` of the 8 bills paid.
fn water_scheme(l: &mut Log, s: &str, pledged: i64, paid: usize) {
    l.push("2026-01-02T09:00:00Z", "organiser", json!({"kind": "scheme_created", "scheme": s, "name": "street mains",
        "action": "propose", "stage": "proposed", "positions": ["ngo.social_organiser"], "note": null, "components": [
            {"kind": "internal_fittings", "domain": "internal", "delivered_by": "community", "estimate": null},
            {"kind": "distribution_mains", "domain": "external", "delivered_by": "utility", "estimate": null}]}));
    l.push("2026-01-05T09:00:00Z", "engineer", json!({"kind": "estimate_set", "scheme": s, "estimates": {"internal_fittings": 40_000, "distribution_mains": 500_000}}));
    for h in 0..4 {
        l.push("2026-01-06T09:00:00Z", "organiser", json!({"kind": "household_registered", "scheme": s, "household": format!("{s}h{h}"), "record": {"house": format!("{h}")}}));
    }
    l.push(
        "2026-01-07T09:00:00Z",
        "treasurer",
        json!({"kind": "ledger_entry_posted", "entry": format!("{s}p"), "scheme": s,
        "line": entry("pledge", "community", pledged, Some(&format!("{s}h0")))}),
    );
    l.push("2026-03-01T09:00:00Z", "president", json!({"kind": "stage_changed", "scheme": s, "from": "commissioned", "to": "operating", "cause": "hand_over"}));
    let mut k = 0;
    for month in ["2026-03-31", "2026-04-30"] {
        for h in 0..4 {
            l.push(&format!("{month}T09:00:00Z"), "treasurer", json!({"kind": "ledger_entry_posted", "entry": format!("{s}b{month}{h}"), "scheme": s,
                "line": entry("bill", "community", 500, Some(&format!("{s}h{h}")))}));
            if k < paid {
                l.push(&format!("{month}T10:00:00Z"), "treasurer", json!({"kind": "ledger_entry_posted", "entry": format!("{s}t{month}{h}"), "scheme": s,
                    "line": entry("tariff", "community", 500, Some(&format!("{s}h{h}")))}));
            }
            k += 1;
        }
    }
}

#[test]
fn tariff_collection_is_collected_over_billed_and_an_arrangement_indicator_is_computed_per_scheme()
{
    let arr = water();
    let mut l = Log { events: vec![] };
    l.push("2026-01-02T09:00:00Z", "admin", json!({"kind": "initiative_started", "initiative": {
        "id": "w1", "name": "Badar", "locality": "x", "district": "y", "arrangement": "community-managed-water", "version": 1,
        "partners": {"community": "o1", "utility": "o2", "ngo": "o3"}}}));
    // Street A: all of the internal share pledged, 7 of 8 bills paid;
    // street B: half pledged, 3 of 8 paid.
    water_scheme(&mut l, "a", 40_000, 7);
    water_scheme(&mut l, "b", 20_000, 3);
    let ctx = Context::default();
    let mut t = Tracker::new();
    for e in &l.events {
        t.apply(&arr, &ctx, e);
    }
    let inds = t.indicators(&arr, &ctx, datetime!(2026-05-15 09:00 UTC));
    let by: BTreeMap<&str, &Indicator> = inds.iter().map(|i| (i.id.as_str(), i)).collect();

    let tariff = by["community_willingness.tariff_collection"];
    assert_eq!(tariff.value, Some(10.0 / 16.0), "{tariff:?}");
    assert_eq!(tariff.detail, "50 collected of 80 billed");
    // Its evidence is the bills and payments: 16 bills + 10 payments.
    assert_eq!(tariff.events.len(), 26);

    let pledged = by["community_willingness.internal_share_pledged"];
    assert_eq!(pledged.defined_by, "arrangement");
    assert_eq!(
        pledged.per_scheme,
        vec![("a".to_string(), 1.0), ("b".to_string(), 0.5)]
    );
    assert_eq!(pledged.value, Some(0.75));
    // Its value month by month, like every indicator's.
    assert!(
        pledged
            .over_time
            .iter()
            .any(|(m, v)| m == "2026-01" && *v == Some(0.75)),
        "{:?}",
        pledged.over_time
    );
    // Calibrated with the anchors the arrangement states.
    let scores = conditions::calibrate(&inds, &BTreeMap::new(), &|v, a| {
        // A linear stand-in for the direct method, enough to see the anchors used.
        Ok(((v - a.exclusion) / (a.inclusion - a.exclusion)).clamp(0.0, 1.0))
    })
    .unwrap();
    let community = scores
        .iter()
        .find(|c| c.condition == "community_willingness")
        .unwrap();
    let cal = community
        .calibrated
        .iter()
        .find(|c| c.indicator == "community_willingness.internal_share_pledged")
        .expect("calibrated");
    assert_eq!(cal.anchors.crossover, 0.7);
}

#[test]
fn the_list_of_built_in_indicators_is_what_the_tracker_reports() {
    let arr = arrangement();
    let mut t = Tracker::new();
    for e in lane(true) {
        t.apply(&arr, &Context::default(), &e);
    }
    let ids: Vec<String> = t
        .indicators(&arr, &Context::default(), datetime!(2026-06-01 09:00 UTC))
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, indicators::BUILT_IN_INDICATORS);
}

#[test]
fn a_tracker_read_back_from_its_snapshot_diagnoses_as_the_fold_it_was_taken_from() {
    let arr = arrangement();
    let ctx = Context {
        positions_filled: BTreeMap::from([("community.lane_manager".to_string(), 1)]),
        reserve: None,
    };
    let at = datetime!(2026-08-01 09:00 UTC);
    for healthy in [true, false] {
        let events = lane(healthy);
        let mut whole = Tracker::new();
        for e in &events {
            whole.apply(&arr, &ctx, e);
        }
        // Snapshot half-way, read it back, fold the rest onto it.
        let (first, rest) = events.split_at(events.len() / 2);
        let mut half = Tracker::new();
        for e in first {
            half.apply(&arr, &ctx, e);
        }
        let text = half.to_snapshot().expect("snapshot");
        let mut resumed = Tracker::from_snapshot(&text).expect("reads back");
        for e in rest {
            resumed.apply(&arr, &ctx, e);
        }
        let fresh = diagnose(&arr, &ctx, &whole, at, &BTreeMap::new(), &linear).expect("d");
        let kept = diagnose(&arr, &ctx, &resumed, at, &BTreeMap::new(), &linear).expect("d");
        assert_eq!(fresh, kept, "healthy={healthy}");
        assert!(!fresh.indicators.iter().all(|i| i.over_time.is_empty()));
        // And the snapshot of the whole fold reads back to the same text.
        let again =
            Tracker::from_snapshot(&whole.to_snapshot().expect("snapshot")).expect("reads back");
        assert_eq!(
            again.to_snapshot().expect("snapshot"),
            whole.to_snapshot().expect("snapshot")
        );
    }
    assert!(Tracker::from_snapshot("{\"schemes\": 3}").is_err());
}

#[test]
fn indicators_read_from_outside_the_log_carry_todays_value_in_every_past_month() {
    let arr = arrangement();
    let before = Context::default();
    let after = Context {
        positions_filled: BTreeMap::from([("community.lane_manager".to_string(), 1)]),
        reserve: None,
    };
    // Folded while no position was filled, summarised after one was.
    let mut t = Tracker::new();
    for e in lane(true) {
        t.apply(&arr, &before, &e);
    }
    let inds = t.indicators(&arr, &after, datetime!(2026-08-01 09:00 UTC));
    let filled = inds
        .iter()
        .find(|i| i.id == "formal_structures.positions_filled")
        .expect("indicator");
    assert!(!filled.over_time.is_empty());
    assert!(filled.over_time.iter().all(|(_, v)| *v == filled.value));
}

/// Contexts a reader may bring: nothing on record, a position filled, a
/// reserve allocated and partly spent.
fn contexts() -> Vec<Context> {
    use crate::ledger::Money;
    use crate::ledger::budget::{FinancialYear, YearFigures};
    let year = |starts, allocated, spent| YearFigures {
        year: FinancialYear { starts },
        allocated: Money(allocated),
        carried_in: Money(0),
        available: Money(allocated),
        committed: Money(spent),
        spent: Money(spent),
        unspent: Money(allocated - spent),
        lapsed: Money(0),
        utilisation_bp: Some((spent * 10_000 / allocated) as u32),
        earmark_required: None,
    };
    vec![
        Context::default(),
        Context {
            positions_filled: BTreeMap::from([("community.lane_manager".to_string(), 1)]),
            reserve: Some(vec![year(2025, 500_000, 200_000), year(2026, 300_000, 0)]),
        },
    ]
}

#[test]
fn a_digest_diagnoses_as_the_tracker_it_was_taken_from_at_any_time_and_in_any_context() {
    let arr = arrangement();
    // Before the first deadline, on it, just after (lateness counts by the
    // hour), a month on (after the escalation's deadline), a year on.
    let times = [
        datetime!(2026-04-01 09:00 UTC),
        datetime!(2026-05-30 09:00 UTC),
        datetime!(2026-05-30 10:30 UTC),
        datetime!(2026-07-15 09:00 UTC),
        datetime!(2027-06-01 00:00 UTC),
    ];
    let overrides = conditions::parse_overrides("trust.collector_not_spender:0,0.4,1").expect("ok");
    for healthy in [true, false] {
        let events = lane(healthy);
        for folded_in in contexts() {
            let mut t = Tracker::new();
            // Every prefix of the chain: a digest can be taken at any head.
            for e in &events {
                t.apply(&arr, &folded_in, e);
                let text = t.digest(&arr).expect("digest").to_text().expect("text");
                let digest = Digest::from_text(&text).expect("reads back");
                assert_eq!(digest.schemes(), t.schemes().count());
                for ctx in contexts() {
                    for now in times {
                        for anchors in [&BTreeMap::new(), &overrides] {
                            let full = diagnose(&arr, &ctx, &t, now, anchors, &linear).expect("d");
                            let kept =
                                diagnose_digest(&arr, &ctx, digest.clone(), now, anchors, &linear)
                                    .expect("d");
                            assert_eq!(full, kept, "healthy={healthy} seq={} now={now}", e.seq);
                        }
                    }
                }
            }
            // The failing lane's breaches and next steps do come through.
            let d = diagnose_digest(
                &arr,
                &folded_in,
                Digest::from_text(&t.digest(&arr).expect("d").to_text().expect("t")).expect("r"),
                times[4],
                &BTreeMap::new(),
                &linear,
            )
            .expect("d");
            assert_eq!(d.breached.is_empty(), healthy);
            assert!(!d.indicators.iter().all(|i| i.over_time.is_empty()));
        }
    }
}

#[test]
fn an_arrangement_with_its_own_indicators_gets_no_digest_and_bad_text_is_refused() {
    let mut l = Log { events: vec![] };
    water_scheme(&mut l, "w1", 40_000, 6);
    let arr = water();
    let mut t = Tracker::new();
    for e in &l.events {
        t.apply(&arr, &Context::default(), e);
    }
    assert!(t.digest(&arr).is_none());
    assert!(Digest::from_text("{\"months\": 3}").is_err());
    let good = {
        let arr = arrangement();
        let mut t = Tracker::new();
        for e in lane(false) {
            t.apply(&arr, &Context::default(), &e);
        }
        t.digest(&arr).expect("digest").to_text().expect("text")
    };
    assert!(Digest::from_text(&good).is_ok());
    // A detail message nobody knows, or a number that is not one.
    assert!(Digest::from_text(&good.replacen("obligations-met", "made-up", 1)).is_err());
    let bad_number = good.replacen("\"value\":\"", "\"value\":\"x", 1);
    assert!(Digest::from_text(&good.replacen("\"over_time\":\"", "\"over_time\":\",", 1)).is_err());
    assert_ne!(bad_number, good);
    assert!(Digest::from_text(&bad_number).is_err());
}
