//! The engine as a specification, with no database: schemes under each
//! built-in arrangement run from creation to their final or operating stage;
//! refusals name the rule that refuses; obligations open, are met (on time
//! or late), lapse and are breached as a clock the test controls moves on;
//! and for random sequences of acts the scheme's state is always the fold of
//! its events.
//!
//! Amounts are paisa written as rupees and paisa: `150_000_00` is
//! Rs 150,000.00.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, BTreeSet};

use saanjh_core::BUILT_IN_ARRANGEMENTS;
use saanjh_core::arrangement::Arrangement;
use saanjh_core::engine::{
    self, Act, Actor, ComponentInput, InitiativeState, OpenObligation, Refusal, SchemeState,
};
use saanjh_core::event::EventBody;
use saanjh_core::facts::{Fact, Facts};
use saanjh_core::ledger::{self, EntryInput};
use saanjh_core::model::{Attendance, Household, Meeting, OrgFacts, ResolutionRecord};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

// ───────────────────────────── harness ─────────────────────────────

const SCHEME: &str = "s1";
const START: OffsetDateTime = datetime!(2026-01-05 09:00 UTC);

fn built_in(file: &str) -> Arrangement {
    let (_, src) = BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == file)
        .unwrap_or_else(|| panic!("no built-in {file}"));
    Arrangement::parse(src).unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

/// One initiative with one scheme, a clock and a ledger, under an
/// arrangement. Every event the engine returns is folded into the scheme
/// with `engine::apply` and kept, with its time, in `log`.
struct World {
    arr: Arrangement,
    init: InitiativeState,
    scheme: Option<SchemeState>,
    now: OffsetDateTime,
    /// Ledger facts set by the test, over what the scheme's own ledger says.
    ledger: BTreeMap<(String, String), i64>,
    log: Vec<(EventBody, String)>,
}

impl World {
    fn new(arr: Arrangement) -> World {
        let mut init = InitiativeState {
            id: "i1".into(),
            ..Default::default()
        };
        for (role, p) in &arr.file.partners {
            let kind = p
                .kinds
                .first()
                .map(|k| k.as_str())
                .unwrap_or("community")
                .to_string();
            // Thirty members each: quorum arithmetic below is against 30.
            init.partners.insert(
                role.clone(),
                OrgFacts {
                    kind,
                    members: 30,
                    women_members: 12,
                    elected_members: 0,
                },
            );
        }
        for (pos, rule) in &arr.file.positions {
            init.positions_filled
                .insert(pos.clone(), rule.min.unwrap_or(1).max(1) as i64);
        }
        World {
            arr,
            init,
            scheme: None,
            now: START,
            ledger: BTreeMap::new(),
            log: vec![],
        }
    }

    fn built_in(file: &str) -> World {
        World::new(built_in(file))
    }

    fn stage(&self) -> &str {
        self.scheme
            .as_ref()
            .map(|s| s.stage.as_str())
            .unwrap_or("(none)")
    }

    fn state(&self) -> &SchemeState {
        self.scheme.as_ref().expect("the scheme exists")
    }

    fn advance_days(&mut self, days: i64) {
        self.now += Duration::days(days);
    }

    fn at(&self) -> String {
        engine::rfc3339(self.now)
    }

    /// Set a ledger fact the way the ledger would (`paid`, `owed`, …).
    fn ledger(&mut self, fact: &str, role: &str, amount: i64) {
        self.ledger
            .insert((fact.to_string(), role.to_string()), amount);
    }

    /// The facts the engine is given besides its own: the scheme's ledger
    /// (`ledger::facts_for`), with the facts the test set on top.
    fn facts(&self) -> Facts {
        let mut f = self
            .scheme
            .as_ref()
            .map(|s| ledger::facts_for(&self.arr, s))
            .unwrap_or_default();
        for ((fact, role), v) in &self.ledger {
            f.set_keyed(fact, role, Fact::Int(*v));
        }
        f
    }

    fn fold(&mut self, events: &[EventBody]) {
        let at = self.at();
        for e in events {
            self.scheme = engine::apply(self.scheme.take(), e, &at);
            self.log.push((e.clone(), at.clone()));
        }
        // The store answers what a ledger entry is checked against beyond
        // its scheme (receipts in use, a reversal's target); so does this.
        let posted: Vec<(String, String, ledger::LedgerLine)> = self
            .log
            .iter()
            .filter_map(|(e, _)| match e {
                EventBody::LedgerEntryPosted {
                    entry,
                    scheme,
                    line,
                } => Some((entry.clone(), scheme.clone(), line.clone())),
                _ => None,
            })
            .collect();
        self.init.ledger = ledger::InitiativeLedger::from_entries(
            posted.iter().map(|(i, s, l)| (i.as_str(), s.as_str(), l)),
        );
        // The store keeps the initiative's executing schemes; so does this.
        if let Some(s) = &self.scheme {
            if self.arr.is_executing(&s.stage) {
                self.init.executing_schemes.insert(s.id.clone());
            } else {
                self.init.executing_schemes.remove(&s.id);
            }
        }
    }

    fn decide(&self, actor: &Actor, act: &Act) -> Result<engine::Decision, Refusal> {
        engine::decide(
            &self.arr,
            &self.init,
            self.scheme.as_ref(),
            SCHEME,
            actor,
            act,
            self.now,
            &self.facts(),
        )
    }

    fn try_act(&mut self, actor: &Actor, act: Act) -> Result<Vec<EventBody>, Refusal> {
        let d = self.decide(actor, &act)?;
        self.fold(&d.events);
        Ok(d.events)
    }

    /// An act that must be allowed; returns its events.
    fn act(&mut self, actor: &Actor, act: Act) -> Vec<EventBody> {
        let action = act.action.clone();
        self.try_act(actor, act).unwrap_or_else(|r| {
            panic!(
                "{} may {action} in stage {}: refused by `{}`: {} ({})",
                actor.person,
                self.stage(),
                r.rule,
                r.message,
                r.allowed_if
            )
        })
    }

    /// An act that must be refused: the refusal, after checking that it
    /// changed nothing.
    fn refused(&mut self, actor: &Actor, act: Act) -> Refusal {
        let before = self.scheme.clone();
        let log_len = self.log.len();
        let executing = self.init.executing_schemes.clone();
        let r = match self.try_act(actor, act.clone()) {
            Err(r) => r,
            Ok(events) => panic!(
                "{} should not be allowed to {} in stage {}; got {events:#?}",
                actor.person,
                act.action,
                self.stage()
            ),
        };
        assert_eq!(self.scheme, before, "a refused act changed the scheme");
        assert_eq!(self.log.len(), log_len, "a refused act left events");
        assert_eq!(self.init.executing_schemes, executing);
        assert!(
            !r.message.is_empty() && !r.allowed_if.is_empty(),
            "a refusal says why and what would allow it: {r:?}"
        );
        r
    }

    fn sweep(&mut self) -> Vec<EventBody> {
        let events = match &self.scheme {
            Some(s) => engine::sweep(&self.arr, s, self.now),
            None => vec![],
        };
        self.fold(&events);
        events
    }

    /// Record a meeting with `recorder` and return its id.
    fn meeting(&mut self, recorder: &Actor, meeting: Meeting) -> String {
        let events = self.act(
            recorder,
            Act {
                meeting: Some(meeting),
                ..act("record_meeting")
            },
        );
        events
            .iter()
            .find_map(|e| match e {
                EventBody::MeetingRecorded { meeting, .. } => Some(meeting.clone()),
                _ => None,
            })
            .expect("a meeting_recorded event")
    }

    fn open(&self) -> &[OpenObligation] {
        self.scheme
            .as_ref()
            .map(|s| s.open_obligations.as_slice())
            .unwrap_or(&[])
    }

    fn open_for(&self, action: &str) -> Vec<&OpenObligation> {
        self.open().iter().filter(|o| o.action == action).collect()
    }

    fn only_open_for(&self, action: &str) -> OpenObligation {
        let os = self.open_for(action);
        assert_eq!(
            os.len(),
            1,
            "one open obligation to {action}: {:#?}",
            self.open()
        );
        os[0].clone()
    }
}

fn person(id: &str, positions: &[&str]) -> Actor {
    Actor {
        person: id.into(),
        positions: positions.iter().map(|p| p.to_string()).collect(),
    }
}

fn act(action: &str) -> Act {
    Act {
        action: action.into(),
        ..Act::default()
    }
}

fn create(action: &str, name: &str, components: &[(&str, Option<i64>)]) -> Act {
    Act {
        name: Some(name.into()),
        components: components
            .iter()
            .map(|(k, e)| ComponentInput {
                kind: k.to_string(),
                description: None,
                estimate: *e,
            })
            .collect(),
        ..act(action)
    }
}

fn estimates(action: &str, amounts: &[(&str, i64)]) -> Act {
    Act {
        estimates: amounts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..act(action)
    }
}

fn household(house: &str) -> Act {
    Act {
        household: Some(Household {
            house: house.into(),
            head: None,
            members: Some(6),
        }),
        ..act("register_household")
    }
}

fn with_resolution(action: &str, meeting: &str) -> Act {
    Act {
        resolution_meeting: Some(meeting.into()),
        ..act(action)
    }
}

/// A meeting of `body` attended by `present` people, voting a resolution
/// for `action`.
fn meeting_for(
    body: &str,
    present: u32,
    action: &str,
    votes_for: u32,
    votes_against: u32,
) -> Meeting {
    let women = present / 3;
    Meeting {
        body: body.into(),
        held_on: "2026-01-10".into(),
        place: Some("community centre".into()),
        attendance: Attendance {
            women,
            men: present - women,
            other: 0,
            people: vec![],
        },
        resolutions: vec![ResolutionRecord {
            motion: format!("resolved to {action}"),
            action: Some(action.into()),
            votes_for,
            votes_against,
            abstentions: 0,
        }],
        minutes: None,
    }
}

fn kinds(events: &[EventBody]) -> Vec<&'static str> {
    events.iter().map(EventBody::kind).collect()
}

fn opened(events: &[EventBody]) -> Vec<(String, String, String, String, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            EventBody::ObligationOpened {
                rule,
                position,
                action,
                due,
                escalated_from,
                ..
            } => Some((
                rule.clone(),
                position.clone(),
                action.clone(),
                due.clone(),
                escalated_from.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn met(events: &[EventBody]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            EventBody::ObligationMet {
                obligation, late, ..
            } => Some((obligation.clone(), *late)),
            _ => None,
        })
        .collect()
}

fn days_after(t: OffsetDateTime, days: i64) -> String {
    engine::rfc3339(t + Duration::days(days))
}

// ─────────────────────── 1. full lifecycles ───────────────────────

/// Orangi/Lodhran: the lane asks, the NGO surveys and estimates, the lane
/// organises and collects its money, builds the internal works, the
/// government builds the external works, both sign the handover.
#[test]
fn a_lane_sewer_runs_from_request_to_operation_under_component_sharing() {
    let mut w = World::built_in("component-sharing.toml");
    let resident = person("resident", &["community.resident"]);
    let manager = person("manager", &["community.lane_manager"]);
    let organiser = person("organiser", &["ngo.social_organiser"]);
    let engineer = person("engineer", &["ngo.engineer"]);
    let municipal = person("municipal", &["government.municipal_engineer"]);

    let events = w.act(
        &resident,
        create(
            "request",
            "Street 7, Fauji Colony",
            &[
                ("house_connections", None),
                ("lane_sewer", None),
                ("collector_sewer", None),
                ("trunk_sewer", None),
                ("paving", None),
            ],
        ),
    );
    assert_eq!(kinds(&events), ["scheme_created", "obligation_opened"]);
    assert_eq!(w.stage(), "requested");
    assert_eq!(
        opened(&events),
        [(
            "survey-promptly".into(),
            "ngo.engineer".into(),
            "survey".into(),
            days_after(START, 7),
            None
        )]
    );
    let s = w.state();
    assert_eq!(
        s.components
            .iter()
            .filter(|c| c.delivered_by == "community")
            .count(),
        3
    );
    assert_eq!(
        s.components
            .iter()
            .filter(|c| c.delivered_by == "government")
            .count(),
        2
    );

    w.advance_days(3);
    let events = w.act(&engineer, act("survey"));
    assert_eq!(w.stage(), "surveyed");
    assert_eq!(met(&events).len(), 1);
    assert!(!met(&events)[0].1, "surveyed in 3 of 7 days: on time");
    assert_eq!(w.only_open_for("estimate").position, "ngo.engineer");

    w.advance_days(4);
    let amounts = [
        ("house_connections", 40_000_00),
        ("lane_sewer", 150_000_00),
        ("collector_sewer", 60_000_00),
        ("trunk_sewer", 900_000_00),
        ("paving", 300_000_00),
    ];
    let events = w.act(&engineer, estimates("estimate", &amounts));
    assert!(kinds(&events).contains(&"estimate_set"));
    assert_eq!(w.stage(), "estimated");
    assert_eq!(w.state().estimate(), 1_450_000_00);
    assert!(w.open().is_empty());

    // The lane meeting can only be held once households are registered.
    let r = w.refused(&organiser, act("organise_lane"));
    assert_eq!(r.rule, "organiser-convenes-lane");
    for house in ["7/1", "7/2", "7/3"] {
        w.act(&resident, household(house));
    }
    w.act(&organiser, household("7/4"));
    assert_eq!(w.state().households, 4);
    let m = w.meeting(
        &organiser,
        meeting_for("community", 18, "organise_lane", 16, 1),
    );
    w.act(&organiser, with_resolution("organise_lane", &m));
    assert_eq!(w.stage(), "lane_organised");

    // The lane collects its whole internal share before materials are bought.
    let internal = 40_000_00 + 150_000_00 + 60_000_00;
    w.ledger("owed", "community", internal);
    w.ledger("paid", "community", internal - 1);
    assert_eq!(
        w.refused(&manager, act("confirm_funds")).rule,
        "funds-before-works"
    );
    w.ledger("paid", "community", internal);
    w.act(&manager, act("confirm_funds"));
    assert_eq!(w.stage(), "funds_collected");
    assert!(w.init.executing_schemes.contains(SCHEME));

    w.advance_days(10);
    let events = w.act(&manager, act("start_works"));
    assert_eq!(w.stage(), "under_construction");
    assert_eq!(opened(&events)[0].0, "engineer-inspects");
    assert_eq!(
        opened(&events)[0].3,
        engine::rfc3339(w.now + Duration::days(14))
    );

    assert_eq!(
        w.refused(&manager, act("complete_internal")).rule,
        "inspected-before-completion"
    );
    w.advance_days(9);
    let events = w.act(
        &engineer,
        Act {
            note: Some("levels and curing checked".into()),
            ..act("inspect")
        },
    );
    assert_eq!(met(&events).len(), 1);
    assert_eq!(
        w.stage(),
        "under_construction",
        "an inspection records without moving"
    );
    assert_eq!(w.state().done.get("inspect"), Some(&1));

    w.advance_days(30);
    w.act(&manager, act("complete_internal"));
    assert_eq!(w.stage(), "internal_completed");
    let events = w.act(&manager, act("request_external"));
    assert_eq!(w.stage(), "external_requested");
    assert_eq!(
        opened(&events),
        [(
            "government-builds-external".into(),
            "government.municipal_engineer".into(),
            "complete_external".into(),
            days_after(w.now, 90),
            None
        )]
    );

    w.advance_days(60);
    w.act(&municipal, act("inspect"));
    let events = w.act(&municipal, act("complete_external"));
    assert_eq!(w.stage(), "external_completed");
    assert_eq!(met(&events).len(), 1);
    assert!(!w.init.executing_schemes.contains(SCHEME));

    // Both sides sign the handover; the first signature does not complete it.
    let events = w.act(&manager, act("hand_over"));
    assert_eq!(kinds(&events), ["signature_given"]);
    assert_eq!(w.stage(), "external_completed");
    let events = w.act(&municipal, act("hand_over"));
    assert_eq!(kinds(&events)[..2], ["signature_given", "act_performed"]);
    assert_eq!(w.stage(), "in_operation");
    assert!(w.arr.is_final(w.stage()));
    assert!(
        w.state().signatures.is_empty(),
        "signatures are spent by the act they complete"
    );
    assert!(w.open().is_empty());
    assert_eq!(replay(&w.log), w.scheme);
}

/// A Citizen Community Board: proposal, vetted estimate, the 20% deposit,
/// council approval by resolution, the agreement signed by both sides, the
/// first instalment under joint control, execution, monitoring, completion,
/// audit.
#[test]
fn a_ccb_project_runs_from_proposal_to_audit_under_cost_sharing() {
    let mut w = World::built_in("cost-sharing.toml");
    let chair = person("chair", &["community.chair"]);
    let secretary = person("secretary", &["community.secretary"]);
    let committee = person("committee-1", &["community.project_committee"]);
    let official = person("official", &["council.ccb_official"]);
    let engineer = person("works-engineer", &["council.works_engineer"]);
    let monitor = person("monitor", &["council.monitoring_committee"]);

    let events = w.act(
        &chair,
        create(
            "propose",
            "Street lights, Mohallah Islampura",
            &[("works", None)],
        ),
    );
    assert_eq!(w.stage(), "proposed");
    assert_eq!(
        opened(&events),
        [(
            "vet-within-15-days".into(),
            "council.works_engineer".into(),
            "vet_estimate".into(),
            days_after(START, 15),
            None
        )]
    );

    w.advance_days(12);
    let events = w.act(
        &engineer,
        estimates("vet_estimate", &[("works", 7_058_000_00)]),
    );
    assert_eq!(w.stage(), "estimate_vetted");
    assert_eq!(met(&events).len(), 1);
    assert_eq!(w.state().estimate(), 7_058_000_00);

    w.ledger("owed", "community", 1_411_600_00);
    w.ledger("paid", "community", 1_411_600_00);
    let events = w.act(&chair, act("deposit_share"));
    assert_eq!(w.stage(), "share_deposited");
    assert_eq!(opened(&events)[0].0, "council-decides-within-30-days");

    let m = w.meeting(&official, meeting_for("council", 20, "approve", 14, 4));
    w.advance_days(20);
    let events = w.act(&official, with_resolution("approve", &m));
    assert_eq!(w.stage(), "approved");
    assert!(!met(&events)[0].1, "approved in 20 of 30 days");
    assert!(w.init.executing_schemes.contains(SCHEME));
    assert_eq!(w.only_open_for("sign_agreement").rule, "agreement");

    assert_eq!(
        kinds(&w.act(&chair, act("sign_agreement"))),
        ["signature_given"]
    );
    assert_eq!(w.stage(), "approved");
    w.act(&official, act("sign_agreement"));
    assert_eq!(w.stage(), "agreed");
    assert_eq!(w.only_open_for("start_execution").rule, "first-instalment");

    // The first instalment is released under joint control: a committee
    // member and the CCB official, who must be among the signatories.
    w.ledger("released", "council", 1_882_000_00);
    let events = w.act(&committee, act("start_execution"));
    assert_eq!(kinds(&events), ["signature_given"]);
    let second_member = person("committee-2", &["community.project_committee"]);
    assert_eq!(
        w.refused(&second_member, act("start_execution")).rule,
        "aggregation.start_execution"
    );
    w.act(&official, act("start_execution"));
    assert_eq!(w.stage(), "executing");
    assert_eq!(
        w.only_open_for("report_progress").position,
        "community.project_committee"
    );
    assert_eq!(
        w.only_open_for("monitor").position,
        "council.monitoring_committee"
    );

    w.advance_days(25);
    w.act(
        &secretary,
        Act {
            note: Some("poles installed on 12 of 30 sites".into()),
            ..act("report_progress")
        },
    );
    assert!(w.open_for("report_progress").is_empty());
    assert_eq!(
        w.refused(&engineer, act("complete")).rule,
        "completion-certified"
    );
    w.act(&monitor, act("monitor"));
    w.advance_days(40);
    w.act(&engineer, act("complete"));
    assert_eq!(w.stage(), "completed");
    assert!(!w.init.executing_schemes.contains(SCHEME));
    w.act(&monitor, act("audit"));
    assert_eq!(w.stage(), "audited");
    assert!(w.arr.is_final(w.stage()));
    assert!(w.open().is_empty(), "{:#?}", w.open());
    assert_eq!(replay(&w.log), w.scheme);
}

/// Changa Pani: the utility designs, the community pledges its internal
/// share and mobilises, the utility builds and commissions, hands over to
/// the WASCO, which bills.
#[test]
fn a_water_scheme_runs_from_proposal_to_operation_under_community_managed_water() {
    let mut w = World::built_in("community-managed-water.toml");
    let organiser = person("organiser", &["ngo.social_organiser"]);
    let president = person("president", &["community.president"]);
    let treasurer = person("treasurer", &["community.treasurer"]);
    let rep = person("street-rep", &["community.street_representative"]);
    let engineer = person("utility-engineer", &["utility.engineer"]);
    let director = person("director", &["utility.director"]);

    let events = w.act(
        &organiser,
        create(
            "propose",
            "UC-60 Lahore, block C",
            &[
                ("internal_fittings", None),
                ("distribution_mains", None),
                ("main_system", None),
            ],
        ),
    );
    assert_eq!(w.stage(), "proposed");
    assert_eq!(
        opened(&events),
        [(
            "utility-designs".into(),
            "utility.engineer".into(),
            "design".into(),
            days_after(START, 30),
            None
        )]
    );

    w.advance_days(21);
    w.act(
        &engineer,
        estimates(
            "design",
            &[
                ("internal_fittings", 2_400_000_00),
                ("distribution_mains", 5_000_000_00),
                ("main_system", 9_000_000_00),
            ],
        ),
    );
    assert_eq!(w.stage(), "designed");

    for house in ["C-1", "C-2"] {
        w.act(&rep, household(house));
    }
    w.act(&organiser, household("C-3"));
    w.ledger("owed", "community", 2_400_000_00);
    w.ledger("pledged", "community", 1_000_000_00);
    let m = w.meeting(&organiser, meeting_for("community", 12, "mobilise", 11, 0));
    assert_eq!(
        w.refused(&organiser, with_resolution("mobilise", &m)).rule,
        "mobilised-by-resolution"
    );
    w.ledger("pledged", "community", 2_400_000_00);
    let events = w.act(&organiser, with_resolution("mobilise", &m));
    assert_eq!(w.stage(), "mobilised");
    assert_eq!(opened(&events)[0].0, "utility-starts-works");
    assert!(w.init.executing_schemes.contains(SCHEME));

    w.advance_days(45);
    w.act(&engineer, act("start_works"));
    assert_eq!(w.stage(), "under_construction");
    w.act(&rep, household("C-4"));
    assert_eq!(
        w.refused(&engineer, act("commission")).rule,
        "commission-after-inspection"
    );
    w.advance_days(20);
    w.act(&engineer, act("inspect"));
    w.act(&engineer, act("commission"));
    assert_eq!(w.stage(), "commissioned");
    assert_eq!(w.only_open_for("hand_over").position, "utility.director");

    w.act(&director, act("hand_over"));
    assert_eq!(w.stage(), "commissioned");
    let events = w.act(&president, act("hand_over"));
    assert_eq!(w.stage(), "operating");
    assert_eq!(
        met(&events).len(),
        1,
        "the president's signature completes the director's obligation"
    );
    assert!(!w.init.executing_schemes.contains(SCHEME));
    let billing = w.only_open_for("record_billing");
    assert_eq!(
        (billing.position.as_str(), billing.due),
        ("community.treasurer", w.now + Duration::days(31))
    );

    w.advance_days(28);
    let events = w.act(
        &treasurer,
        Act {
            note: Some("212 meters read, 205 bills issued".into()),
            ..act("record_billing")
        },
    );
    assert_eq!(met(&events), [(billing.id.clone(), false)]);
    assert_eq!(w.stage(), "operating");
    assert_eq!(w.state().households, 4);
    assert!(w.open().is_empty());
    assert_eq!(replay(&w.log), w.scheme);
}

// ─────────────────────────── 2. refusals ───────────────────────────

/// A CCB scheme just proposed.
fn proposed_ccb() -> World {
    let mut w = World::built_in("cost-sharing.toml");
    w.act(
        &person("chair", &["community.chair"]),
        create("propose", "Drain, Street 3", &[("works", None)]),
    );
    w
}

/// A CCB scheme whose estimate has been vetted (Rs 1,000,000).
fn vetted_ccb() -> World {
    let mut w = proposed_ccb();
    w.act(
        &person("engineer", &["council.works_engineer"]),
        estimates("vet_estimate", &[("works", 1_000_000_00)]),
    );
    w
}

/// A CCB scheme awaiting the council's decision, with a council meeting
/// recorded that resolved to approve it.
fn deposited_ccb() -> (World, String) {
    let mut w = vetted_ccb();
    w.ledger("paid", "community", 200_000_00);
    w.act(&person("chair", &["community.chair"]), act("deposit_share"));
    let m = w.meeting(
        &person("official", &["council.ccb_official"]),
        meeting_for("council", 20, "approve", 12, 5),
    );
    (w, m)
}

#[test]
fn a_position_the_rules_do_not_name_is_refused_by_the_rule_that_names_another() {
    let mut w = World::built_in("cost-sharing.toml");
    let chair = person("chair", &["community.chair"]);
    w.act(
        &chair,
        create("propose", "Drain, Street 3", &[("works", None)]),
    );
    let r = w.refused(
        &chair,
        estimates("vet_estimate", &[("works", 1_000_000_00)]),
    );
    assert_eq!(r.rule, "vet-within-15-days");
    assert!(r.allowed_if.contains("works department engineer"), "{r:?}");

    // Someone with no position at all, and the council trying to propose.
    let nobody = person("passer-by", &[]);
    assert_eq!(
        w.refused(&nobody, act("record_meeting")).rule,
        "ccb-records-meetings"
    );
    let mut fresh = World::built_in("cost-sharing.toml");
    let r = fresh.refused(
        &person("official", &["council.ccb_official"]),
        create("propose", "x", &[("works", None)]),
    );
    assert_eq!(r.rule, "ccb-proposes");
    assert!(fresh.scheme.is_none());
}

#[test]
fn an_act_out_of_its_stage_is_refused_by_the_lifecycle() {
    let mut w = World::built_in("cost-sharing.toml");
    let chair = person("chair", &["community.chair"]);
    let official = person("official", &["council.ccb_official"]);
    // Nothing can be done to a scheme that does not exist but create it.
    assert_eq!(
        w.refused(&chair, act("deposit_share")).rule,
        "lifecycle.deposit_share"
    );
    w.act(
        &chair,
        create("propose", "Drain, Street 3", &[("works", None)]),
    );
    let r = w.refused(&chair, act("deposit_share"));
    assert_eq!(r.rule, "lifecycle.deposit_share");
    assert!(r.allowed_if.contains("estimate vetted"), "{r:?}");
    assert_eq!(
        w.refused(&official, act("approve")).rule,
        "lifecycle.approve"
    );
    // Creating again on an existing scheme.
    assert_eq!(
        w.refused(&chair, create("propose", "again", &[("works", None)]))
            .rule,
        "lifecycle.propose"
    );
}

#[test]
fn the_ccb_deposit_waits_for_twenty_percent() {
    let mut w = vetted_ccb();
    let chair = person("chair", &["community.chair"]);
    let r = w.refused(&chair, act("deposit_share"));
    assert_eq!(r.rule, "deposit-before-approval");
    assert!(
        r.allowed_if.contains("20%"),
        "the rule's own explanation says what would allow it: {r:?}"
    );
    w.ledger("paid", "community", 199_999_99);
    assert_eq!(
        w.refused(&chair, act("deposit_share")).rule,
        "deposit-before-approval"
    );
    w.ledger("paid", "community", 200_000_00);
    w.act(&chair, act("deposit_share"));
    assert_eq!(w.stage(), "share_deposited");
}

#[test]
fn no_new_money_goes_to_a_ccb_with_an_unfinished_scheme() {
    let (mut w, m) = deposited_ccb();
    let official = person("official", &["council.ccb_official"]);
    w.init
        .executing_schemes
        .insert("s0-the-khanewal-scheme".into());
    let r = w.refused(&official, with_resolution("approve", &m));
    assert_eq!(r.rule, "no-new-money-to-unfinished-ccb");
    assert!(r.message.contains("forbids"), "{r:?}");
    // The scheme itself being executing does not count against it.
    w.init.executing_schemes.remove("s0-the-khanewal-scheme");
    w.init.executing_schemes.insert(SCHEME.into());
    w.act(&official, with_resolution("approve", &m));
    assert_eq!(w.stage(), "approved");
}

/// The same condition read from the scheme's own ledger: contributions
/// with receipts, net of reversals.
#[test]
fn the_ccb_deposit_reads_the_ledger() {
    let mut w = vetted_ccb();
    let chair = person("chair", &["community.chair"]);
    let secretary = person("secretary", &["community.secretary"]);
    let contribution = |amount: i64, receipt: &str| Act {
        entry: Some(EntryInput {
            role: "community".into(),
            amount: Some(amount),
            receipt: Some(receipt.into()),
            ..EntryInput::default()
        }),
        ..act("record_contribution")
    };
    w.act(&chair, contribution(150_000_00, "CCB-001"));
    let events = w.act(&secretary, contribution(50_000_00, "CCB-002"));
    let mistaken = events
        .iter()
        .find_map(|e| match e {
            EventBody::LedgerEntryPosted { entry, .. } => Some(entry.clone()),
            _ => None,
        })
        .expect("a ledger entry");
    let reversal = Act {
        entry: Some(EntryInput {
            role: "community".into(),
            reverses: Some(mistaken),
            ..EntryInput::default()
        }),
        ..act("reverse_entry")
    };
    w.act(&secretary, reversal);
    assert_eq!(
        w.refused(&chair, act("deposit_share")).rule,
        "deposit-before-approval",
        "a reversed contribution does not count"
    );
    w.act(&secretary, contribution(49_999_99, "CCB-003"));
    assert_eq!(
        w.refused(&chair, act("deposit_share")).rule,
        "deposit-before-approval",
        "one paisa short"
    );
    assert_eq!(
        w.refused(&secretary, contribution(1, "CCB-003")).rule,
        "input",
        "a receipt number is used once"
    );
    w.act(&secretary, contribution(1, "CCB-004"));
    w.act(&chair, act("deposit_share"));
    assert_eq!(w.stage(), "share_deposited");
    assert_eq!(replay(&w.log), w.scheme);
}

#[test]
fn a_signature_counts_once_per_person() {
    let (mut w, m) = deposited_ccb();
    let chair = person("chair", &["community.chair"]);
    w.act(
        &person("official", &["council.ccb_official"]),
        with_resolution("approve", &m),
    );
    w.act(&chair, act("sign_agreement"));
    let r = w.refused(&chair, act("sign_agreement"));
    assert_eq!(r.rule, "aggregation.sign_agreement");
    assert!(r.message.contains("already signed"), "{r:?}");
    // Holding both positions does not let one person sign twice either.
    let both = person("chair", &["community.chair", "council.ccb_official"]);
    assert_eq!(
        w.refused(&both, act("sign_agreement")).rule,
        "aggregation.sign_agreement"
    );
    assert_eq!(w.stage(), "approved");
}

#[test]
fn a_resolution_needs_a_quorate_meeting_that_carried_it() {
    let (mut w, _) = deposited_ccb();
    let official = person("official", &["council.ccb_official"]);
    // 30 council members, quorum 50%: 14 present is too few.
    let thin = w.meeting(&official, meeting_for("council", 14, "approve", 14, 0));
    let r = w.refused(&official, with_resolution("approve", &thin));
    assert_eq!(r.rule, "aggregation.approve");
    assert!(r.message.contains("not quorate"), "{r:?}");
    let lost = w.meeting(&official, meeting_for("council", 20, "approve", 8, 9));
    let r = w.refused(&official, with_resolution("approve", &lost));
    assert_eq!(r.rule, "aggregation.approve");
    assert!(r.message.contains("did not carry"), "{r:?}");
    let tied = w.meeting(&official, meeting_for("council", 20, "approve", 9, 9));
    assert_eq!(
        w.refused(&official, with_resolution("approve", &tied)).rule,
        "aggregation.approve"
    );
    // No meeting named; a meeting that is not recorded; the wrong body.
    assert_eq!(
        w.refused(&official, act("approve")).rule,
        "aggregation.approve"
    );
    assert_eq!(
        w.refused(&official, with_resolution("approve", "s1-m99"))
            .rule,
        "aggregation.approve"
    );
    let ccb_meeting = w.meeting(
        &person("secretary", &["community.secretary"]),
        meeting_for("community", 25, "approve", 25, 0),
    );
    let r = w.refused(&official, with_resolution("approve", &ccb_meeting));
    assert_eq!(r.rule, "aggregation.approve");
    assert!(r.message.contains("not the local council"), "{r:?}");
    // Exactly half the members present is quorate.
    let enough = w.meeting(&official, meeting_for("council", 15, "approve", 8, 7));
    w.act(&official, with_resolution("approve", &enough));
    assert_eq!(w.stage(), "approved");
}

#[test]
fn malformed_acts_are_refused_as_input() {
    let mut w = World::built_in("cost-sharing.toml");
    let chair = person("chair", &["community.chair"]);
    let r = w.refused(&chair, act("bribe"));
    assert_eq!(r.rule, "input");
    assert!(r.allowed_if.contains("propose"), "lists the actions: {r:?}");
    let r = w.refused(
        &chair,
        create("propose", "Drain", &[("swimming_pool", None)]),
    );
    assert_eq!(r.rule, "input");
    assert!(r.message.contains("swimming_pool"), "{r:?}");
    assert_eq!(
        w.refused(&chair, create("propose", "Drain", &[])).rule,
        "input"
    );
    assert_eq!(
        w.refused(&chair, create("propose", "  ", &[("works", None)]))
            .rule,
        "input"
    );
    assert_eq!(
        w.refused(
            &chair,
            create("propose", "Drain", &[("works", None), ("works", None)])
        )
        .rule,
        "input"
    );
    assert_eq!(
        w.refused(&chair, create("propose", "Drain", &[("works", Some(0))]))
            .rule,
        "input"
    );
    assert!(w.scheme.is_none());

    w.act(&chair, create("propose", "Drain", &[("works", None)]));
    let secretary = person("secretary", &["community.secretary"]);
    let mut crowded = meeting_for("community", 10, "approve", 8, 3);
    let r = w.refused(
        &secretary,
        Act {
            meeting: Some(crowded.clone()),
            ..act("record_meeting")
        },
    );
    assert_eq!(r.rule, "input");
    assert!(
        r.message.contains("more votes than people present"),
        "{r:?}"
    );
    crowded.resolutions[0].votes_against = 2;
    crowded.body = "provincial_assembly".into();
    assert_eq!(
        w.refused(
            &secretary,
            Act {
                meeting: Some(crowded.clone()),
                ..act("record_meeting")
            }
        )
        .rule,
        "input"
    );
    crowded.body = "community".into();
    crowded.held_on = "last Tuesday".into();
    assert_eq!(
        w.refused(
            &secretary,
            Act {
                meeting: Some(crowded.clone()),
                ..act("record_meeting")
            }
        )
        .rule,
        "input"
    );
    assert_eq!(
        w.refused(&secretary, act("record_meeting")).rule,
        "input",
        "a meeting act without the meeting"
    );

    let engineer = person("engineer", &["council.works_engineer"]);
    assert_eq!(
        w.refused(&engineer, act("vet_estimate")).rule,
        "input",
        "no estimates"
    );
    assert_eq!(
        w.refused(&engineer, estimates("vet_estimate", &[("roads", 5)]))
            .rule,
        "input"
    );
    assert_eq!(
        w.refused(&engineer, estimates("vet_estimate", &[("works", -5)]))
            .rule,
        "input"
    );
    assert_eq!(w.stage(), "proposed");
}

#[test]
fn available_acts_say_what_each_actor_can_do_now() {
    let (w, _) = deposited_ccb();
    let official = person("official", &["council.ccb_official"]);
    let chair = person("chair", &["community.chair"]);
    let avail = |a: &Actor| -> BTreeMap<String, Option<String>> {
        engine::available_acts(&w.arr, &w.init, w.state(), a, w.now, &w.facts())
            .into_iter()
            .map(|(k, r)| (k, r.err().map(|r| r.rule)))
            .collect()
    };
    let o = avail(&official);
    assert_eq!(
        o.get("approve"),
        Some(&None),
        "the resolution is asked for on the form, not a reason to hide the act"
    );
    assert_eq!(o.get("reject"), Some(&None));
    assert!(
        !o.contains_key("propose") && !o.contains_key("audit"),
        "only acts of this stage are listed: {o:?}"
    );
    let c = avail(&chair);
    assert_eq!(
        c.get("approve"),
        Some(&Some("council-decides-within-30-days".to_string()))
    );
}

// ─────────────────────────── 3. obligations ───────────────────────────

#[test]
fn an_obligation_opens_on_entering_its_stage_and_is_met_on_time() {
    let mut w = World::built_in("community-managed-water.toml");
    w.advance_days(2);
    let created_at = w.now;
    w.act(
        &person("organiser", &["ngo.social_organiser"]),
        create("propose", "Block D", &[("internal_fittings", None)]),
    );
    let o = w.only_open_for("design");
    assert_eq!(
        (
            o.rule.as_str(),
            o.position.as_str(),
            o.stage.as_str(),
            o.due,
            o.escalated_from.as_deref()
        ),
        (
            "utility-designs",
            "utility.engineer",
            "proposed",
            created_at + Duration::days(30),
            None
        )
    );
    w.advance_days(30); // exactly at the due time: not yet late
    assert!(
        w.sweep().is_empty(),
        "nothing is breached at the moment it falls due"
    );
    let events = w.act(
        &person("engineer", &["utility.engineer"]),
        estimates("design", &[("internal_fittings", 100_000)]),
    );
    assert_eq!(met(&events), [(o.id, false)]);
    assert!(w.open_for("design").is_empty());
}

#[test]
fn an_obligation_met_after_its_due_date_is_met_late() {
    let mut w = World::built_in("community-managed-water.toml");
    w.act(
        &person("organiser", &["ngo.social_organiser"]),
        create("propose", "Block D", &[("internal_fittings", None)]),
    );
    let o = w.only_open_for("design");
    w.advance_days(31);
    let events = w.act(
        &person("engineer", &["utility.engineer"]),
        estimates("design", &[("internal_fittings", 100_000)]),
    );
    assert_eq!(met(&events), [(o.id, true)]);
    assert!(w.open().iter().all(|x| x.action != "design"));
}

#[test]
fn a_breached_obligation_escalates_once_and_then_stays_breached() {
    let mut w = proposed_ccb();
    let first = w.only_open_for("vet_estimate");
    assert_eq!(first.due, START + Duration::days(15));

    w.advance_days(10);
    assert!(w.sweep().is_empty(), "not yet due");
    w.advance_days(6);
    let events = w.sweep();
    assert_eq!(kinds(&events), ["obligation_breached", "obligation_opened"]);
    match &events[0] {
        EventBody::ObligationBreached {
            obligation,
            rule,
            position,
            consequence,
            ..
        } => {
            assert_eq!(
                (obligation, rule.as_str(), position.as_str()),
                (&first.id, "vet-within-15-days", "council.works_engineer")
            );
            assert!(
                consequence.contains("escalated to the CCB official"),
                "{consequence}"
            );
        }
        e => panic!("{e:?}"),
    }
    let escalated = w.only_open_for("vet_estimate");
    assert_eq!(escalated.position, "council.ccb_official");
    assert_eq!(escalated.escalated_from.as_deref(), Some(first.id.as_str()));
    assert_eq!(escalated.due, w.now + Duration::days(15), "or_else.within");
    assert_eq!(escalated.stage, "proposed");
    assert_ne!(escalated.id, first.id);
    assert!(
        w.sweep().is_empty(),
        "a sweep at the same time finds nothing more"
    );

    w.advance_days(16);
    let events = w.sweep();
    assert_eq!(
        kinds(&events),
        ["obligation_breached"],
        "an escalated obligation is not escalated again"
    );
    assert!(w.open().is_empty());
    w.advance_days(100);
    assert!(w.sweep().is_empty());
    assert_eq!(
        w.stage(),
        "proposed",
        "a breach without a transition leaves the stage alone"
    );
    assert_eq!(replay(&w.log), w.scheme);
}

#[test]
fn an_escalated_obligation_is_met_by_whoever_does_the_act() {
    let mut w = proposed_ccb();
    w.advance_days(16);
    w.sweep();
    let escalated = w.only_open_for("vet_estimate");
    w.advance_days(2);
    let events = w.act(
        &person("engineer", &["council.works_engineer"]),
        estimates("vet_estimate", &[("works", 500_000)]),
    );
    assert_eq!(met(&events), [(escalated.id, false)]);
    assert!(w.open_for("vet_estimate").is_empty());
}

#[test]
fn a_penalty_without_escalation_is_recorded_with_the_breach() {
    let (mut w, _) = deposited_ccb();
    let o = w.only_open_for("approve");
    w.advance_days(31);
    let events = w.sweep();
    assert_eq!(kinds(&events), ["obligation_breached"]);
    match &events[0] {
        EventBody::ObligationBreached {
            obligation,
            consequence,
            ..
        } => {
            assert_eq!(obligation, &o.id);
            assert!(
                consequence.contains("recorded against the council"),
                "{consequence}"
            );
        }
        e => panic!("{e:?}"),
    }
    assert!(w.open().is_empty());
}

#[test]
fn obligations_lapse_when_the_scheme_moves_on_without_them() {
    let (mut w, _) = deposited_ccb();
    let o = w.only_open_for("approve");
    let events = w.act(
        &person("official", &["council.ccb_official"]),
        Act {
            note: Some("site is disputed".into()),
            ..act("reject")
        },
    );
    assert_eq!(w.stage(), "rejected");
    let lapsed: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            EventBody::ObligationLapsed { obligation, .. } => Some(obligation),
            _ => None,
        })
        .collect();
    assert_eq!(lapsed, [&o.id]);
    assert!(
        met(&events).is_empty(),
        "a rejection does not meet the duty to approve"
    );
    assert!(w.open().is_empty());
    w.advance_days(365);
    assert!(
        w.sweep().is_empty(),
        "a lapsed obligation is never breached"
    );
}

#[test]
fn an_escalated_obligation_lapses_with_its_stage_too() {
    let mut w = proposed_ccb();
    w.advance_days(16);
    w.sweep();
    let escalated = w.only_open_for("vet_estimate");
    let events = w.act(
        &person("official", &["council.ccb_official"]),
        act("reject"),
    );
    assert!(events.iter().any(|e| matches!(e, EventBody::ObligationLapsed { obligation, .. } if *obligation == escalated.id)));
    assert!(w.open().is_empty());
}

/// A small registration arrangement in which the council's silence counts
/// as consent: if the registrar does not decide within 10 days the scheme is
/// deemed registered (an `or_else.transition`), and the next stage's
/// obligations open.
const DEEMED_REGISTRATION: &str = r#"
[arrangement]
id = "deemed-registration"
version = 1
name = "Registration deemed granted on silence"

[partners.community]
name = "community organisation"
kinds = ["community"]

[partners.council]
name = "council"
kinds = ["public"]

[positions]
"community.chair" = { name = "chair", filled_by = "election" }
"council.registrar" = { name = "registrar", filled_by = "appointment" }
"council.supervisor" = { name = "supervisor", filled_by = "appointment" }

[components.works]
name = "works"
domain = "whole"
delivered_by = "community"

[payoff.works]
community = "100%"

[lifecycle]
stages = ["applied", "registered", "closed"]
final = ["closed"]

[actions.apply]
name = "apply for registration"
to = "applied"

[actions.register]
name = "register the organisation"
from = ["applied"]
to = "registered"

[actions.report]
name = "file the first report"
from = ["registered"]
to = "closed"

[[rule]]
id = "chair-applies"
attribute = "community.chair"
deontic = "may"
aim = "apply"

[[rule]]
id = "registrar-decides"
attribute = "council.registrar"
deontic = "must"
aim = "register"
within = "10d"
or_else = { transition = "registered", penalty = "registration is deemed granted" }

[[rule]]
id = "first-report"
attribute = "community.chair"
deontic = "must"
aim = "report"
within = "5d"
or_else = { escalate_to = "council.supervisor", within = "3d" }
"#;

#[test]
fn an_or_else_transition_moves_the_scheme_and_opens_the_next_stage() {
    let arr = Arrangement::parse(DEEMED_REGISTRATION).unwrap_or_else(|e| panic!("{e:?}"));
    let mut w = World::new(arr);
    let chair = person("chair", &["community.chair"]);
    w.act(
        &chair,
        create("apply", "Mohallah welfare society", &[("works", None)]),
    );
    let o = w.only_open_for("register");
    w.advance_days(11);
    let events = w.sweep();
    assert_eq!(
        kinds(&events),
        ["obligation_breached", "stage_changed", "obligation_opened"]
    );
    match &events[0] {
        EventBody::ObligationBreached {
            obligation,
            consequence,
            ..
        } => {
            assert_eq!(obligation, &o.id);
            assert!(
                consequence.contains("the scheme becomes \"registered\"")
                    && consequence.contains("deemed granted"),
                "{consequence}"
            );
        }
        e => panic!("{e:?}"),
    }
    match &events[1] {
        EventBody::StageChanged {
            from, to, cause, ..
        } => {
            assert_eq!((from.as_str(), to.as_str()), ("applied", "registered"));
            assert!(cause.contains("registrar-decides"), "{cause}");
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(w.stage(), "registered");
    assert_eq!(w.state().entered.get("registered"), Some(&w.at()));
    let report = w.only_open_for("report");
    assert_eq!(
        (report.position.as_str(), report.due),
        ("community.chair", w.now + Duration::days(5))
    );
    // The registrar can no longer register: the stage has moved.
    assert_eq!(
        w.refused(
            &person("registrar", &["council.registrar"]),
            act("register")
        )
        .rule,
        "lifecycle.register"
    );
    w.act(&chair, act("report"));
    assert_eq!(w.stage(), "closed");
    assert!(w.open().is_empty());
    assert_eq!(replay(&w.log), w.scheme);
}

#[test]
fn an_escalation_opened_in_the_sweep_that_moves_the_stage_lapses_with_the_old_stage() {
    // Both consequences at once: the obligation escalates and the stage
    // moves. The escalated duty belongs to a stage the scheme has left, so it
    // must not stay open (nobody could ever meet it).
    let src = DEEMED_REGISTRATION.replace(
        r#"or_else = { transition = "registered", penalty = "registration is deemed granted" }"#,
        r#"or_else = { escalate_to = "council.supervisor", transition = "registered" }"#,
    );
    let mut w = World::new(Arrangement::parse(&src).unwrap_or_else(|e| panic!("{e:?}")));
    w.act(
        &person("chair", &["community.chair"]),
        create("apply", "Mohallah welfare society", &[("works", None)]),
    );
    w.advance_days(11);
    w.sweep();
    assert_eq!(w.stage(), "registered");
    assert!(
        w.open().iter().all(|o| o.stage == "registered"),
        "{:#?}",
        w.open()
    );
    assert!(w.open_for("register").is_empty(), "{:#?}", w.open());
    w.advance_days(100);
    let later = w.sweep();
    assert!(
        !later.iter().any(|e| matches!(e, EventBody::ObligationBreached { rule, .. } if rule == "registrar-decides")),
        "a duty from a stage left behind is breached again: {later:#?}"
    );
    assert_eq!(replay(&w.log), w.scheme);
}

#[test]
fn a_stage_never_entered_is_minus_one_days_ago() {
    // `days_since(stage)` is -1 for a stage the scheme has never been in, so
    // that "before it was ever registered" can be written as a condition.
    let src = format!(
        "{DEEMED_REGISTRATION}\n[actions.withdraw]\nname = \"withdraw the application\"\nfrom = [\"applied\", \"registered\"]\nto = \"closed\"\n\n\
         [[rule]]\nid = \"withdraw-before-registration\"\nattribute = \"community.chair\"\ndeontic = \"may\"\naim = \"withdraw\"\n\
         condition = \"days_since('registered') == -1 && days_since('applied') >= 0\"\n"
    );
    let arr = Arrangement::parse(&src).unwrap_or_else(|e| panic!("{e:?}"));
    let chair = person("chair", &["community.chair"]);
    let mut w = World::new(arr.clone());
    w.act(
        &chair,
        create("apply", "Mohallah welfare society", &[("works", None)]),
    );
    w.act(&chair, act("withdraw"));
    assert_eq!(w.stage(), "closed");

    let mut w = World::new(arr);
    w.act(
        &chair,
        create("apply", "Mohallah welfare society", &[("works", None)]),
    );
    w.act(
        &person("registrar", &["council.registrar"]),
        act("register"),
    );
    assert_eq!(
        w.refused(&chair, act("withdraw")).rule,
        "withdraw-before-registration"
    );
}

// ─────────────────────── 4. replay equals live ───────────────────────

/// Fold a log from scratch, as `rebuild` does: each event read back from
/// its stored JSON payload.
fn replay(log: &[(EventBody, String)]) -> Option<SchemeState> {
    let mut s = None;
    for (e, at) in log {
        let stored = serde_json::to_string(e).expect("events serialise");
        let back: EventBody = serde_json::from_str(&stored).expect("events deserialise");
        assert_eq!(&back, e, "an event survives storage unchanged");
        s = engine::apply(s, &back, at);
    }
    s
}

mod random {
    use super::*;
    use proptest::prelude::*;

    /// One step of a random history, as raw numbers interpreted against the
    /// scheme's state when the step runs (so that shrinking keeps working).
    #[derive(Debug, Clone)]
    enum Step {
        Act {
            action: u8,
            in_stage: bool,
            actor: u8,
            extra: u8,
            votes: (u8, u8, u8),
            meeting: u8,
        },
        Time {
            days: u8,
        },
        Money {
            fact: u8,
            role: u8,
            percent: u8,
        },
        OtherSchemeExecuting(bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            8 => (any::<u8>(), prop::bool::weighted(0.85), any::<u8>(), any::<u8>(), (0u8..40, 0u8..40, 0u8..5), any::<u8>())
                .prop_map(|(action, in_stage, actor, extra, votes, meeting)| Step::Act { action, in_stage, actor, extra, votes, meeting }),
            2 => (0u8..45).prop_map(|days| Step::Time { days }),
            2 => (any::<u8>(), any::<u8>(), 0u8..=120).prop_map(|(fact, role, percent)| Step::Money { fact, role, percent }),
            1 => any::<bool>().prop_map(Step::OtherSchemeExecuting),
        ]
    }

    /// The rule a refusal names must exist: `input`, the lifecycle or an
    /// aggregation of a known action, or a rule of the file.
    fn names_a_rule(arr: &Arrangement, r: &Refusal) -> bool {
        r.rule == "input"
            || r.rule
                .strip_prefix("spending.")
                .is_some_and(|c| c == "*" || arr.file.components.contains_key(c))
            || r.rule
                .strip_prefix("lifecycle.")
                .is_some_and(|a| arr.action(a).is_some())
            || r.rule
                .strip_prefix("aggregation.")
                .is_some_and(|a| arr.file.aggregation.contains_key(a))
            || arr.file.rules.iter().any(|x| x.id == r.rule)
    }

    /// Run a history, checking the properties at every step; the stages the
    /// scheme passed through.
    fn run(
        file_index: usize,
        steps: Vec<Step>,
        replay_every_step: bool,
    ) -> Result<BTreeSet<String>, TestCaseError> {
        let (file, _) = BUILT_IN_ARRANGEMENTS[file_index % BUILT_IN_ARRANGEMENTS.len()];
        let mut w = World::built_in(file);
        let arr = w.arr.clone();
        let actions: Vec<String> = arr
            .file
            .actions
            .keys()
            .cloned()
            .chain(["bogus".to_string()])
            .collect();
        let positions: Vec<String> = arr.file.positions.keys().cloned().collect();
        let roles: Vec<String> = arr.file.partners.keys().cloned().collect();
        let kinds: Vec<String> = arr.file.components.keys().cloned().collect();

        // Create the scheme as a position a rule allows to.
        let (creating, _) = arr.creating_action().expect("a creating action");
        let creator = arr
            .rules_for(creating)
            .map(|r| r.attribute.as_ref().replace(".*", ".member"))
            .next()
            .expect("someone may create");
        let all: Vec<(&str, Option<i64>)> = kinds.iter().map(|k| (k.as_str(), None)).collect();
        w.act(
            &person("creator", &[&creator]),
            create(creating, "random scheme", &all),
        );

        // Child ids (obligations, meetings, households, ledger entries) are
        // never given twice.
        let mut ids_seen: BTreeSet<String> = w
            .state()
            .open_obligations
            .iter()
            .map(|o| o.id.clone())
            .collect();
        let mut closed: BTreeSet<String> = BTreeSet::new();
        let mut check_events =
            |w: &World, events: &[EventBody], before: &SchemeState| -> Result<(), TestCaseError> {
                let open_before: BTreeSet<&str> = before
                    .open_obligations
                    .iter()
                    .map(|o| o.id.as_str())
                    .collect();
                let mut opened_now: BTreeSet<String> = BTreeSet::new();
                for e in events {
                    prop_assert_eq!(
                        e.scheme(),
                        Some(SCHEME),
                        "every event is about the scheme: {:?}",
                        e
                    );
                    match e {
                        EventBody::ObligationOpened { obligation, .. }
                        | EventBody::MeetingRecorded {
                            meeting: obligation,
                            ..
                        }
                        | EventBody::HouseholdRegistered {
                            household: obligation,
                            ..
                        }
                        | EventBody::LedgerEntryPosted {
                            entry: obligation, ..
                        } => {
                            prop_assert!(
                                ids_seen.insert(obligation.clone()),
                                "id {} given twice",
                                obligation
                            );
                            opened_now.insert(obligation.clone());
                        }
                        EventBody::ObligationMet { obligation, .. }
                        | EventBody::ObligationLapsed { obligation, .. }
                        | EventBody::ObligationBreached { obligation, .. } => {
                            prop_assert!(
                                open_before.contains(obligation.as_str())
                                    || opened_now.contains(obligation),
                                "{} closed but was not open",
                                obligation
                            );
                            prop_assert!(
                                closed.insert(obligation.clone()),
                                "obligation {} closed twice",
                                obligation
                            );
                        }
                        _ => {}
                    }
                }
                let s = w.state();
                prop_assert!(
                    arr.file
                        .lifecycle
                        .stages
                        .iter()
                        .any(|st| st.as_ref() == &s.stage),
                    "unknown stage {}",
                    s.stage
                );
                for o in &s.open_obligations {
                    prop_assert_eq!(
                        &o.stage,
                        &s.stage,
                        "an open obligation belongs to the current stage: {:?}",
                        o
                    );
                }
                if arr.is_final(&before.stage) {
                    prop_assert_eq!(&s.stage, &before.stage, "a final stage is never left");
                }
                Ok(())
            };

        for step in steps {
            match step {
                Step::Time { days } => {
                    w.advance_days(days as i64);
                    let before = w.state().clone();
                    let events = w.sweep();
                    check_events(&w, &events, &before)?;
                    prop_assert!(
                        engine::sweep(&arr, w.state(), w.now).is_empty(),
                        "a second sweep at the same time finds nothing"
                    );
                }
                Step::Money {
                    fact,
                    role,
                    percent,
                } => {
                    let name = ["paid", "owed", "pledged", "released"][fact as usize % 4];
                    let role = &roles[role as usize % roles.len()];
                    let amount = w.state().estimate() * percent as i64 / 100;
                    w.ledger(name, role, amount);
                }
                Step::OtherSchemeExecuting(on) => {
                    if on {
                        w.init.executing_schemes.insert("s0".into());
                    } else {
                        w.init.executing_schemes.remove("s0");
                    }
                }
                Step::Act {
                    action,
                    in_stage,
                    actor,
                    extra,
                    votes,
                    meeting,
                } => {
                    let stage = w.state().stage.clone();
                    let here: Vec<&String> = actions
                        .iter()
                        .filter(|a| arr.action(a).is_some_and(|d| d.allowed_in(&stage)))
                        .collect();
                    // Half the time an act that moves the scheme on (not one
                    // that ends it), so that walks reach the later stages; else
                    // any act of this stage.
                    let onward: Vec<&String> = here
                        .iter()
                        .copied()
                        .filter(|a| {
                            arr.action(a)
                                .and_then(|d| d.to.as_ref())
                                .is_some_and(|t| !arr.is_final(t.as_ref()))
                        })
                        .collect();
                    let pool = if action % 2 == 0 && !onward.is_empty() {
                        &onward
                    } else {
                        &here
                    };
                    let name = if in_stage && !pool.is_empty() {
                        pool[(action / 2) as usize % pool.len()].clone()
                    } else {
                        actions[action as usize % actions.len()].clone()
                    };
                    // Mostly someone a rule names for the act, sometimes anyone;
                    // a person per position, sometimes holding two, sometimes none.
                    let named: Vec<String> = positions
                        .iter()
                        .filter(|p| {
                            arr.rules_for(&name).any(|r| {
                                Arrangement::attribute_matches(
                                    r.attribute.as_ref(),
                                    &BTreeSet::from([(*p).clone()]),
                                )
                            })
                        })
                        .cloned()
                        .collect();
                    let p = if actor % 4 != 0 && !named.is_empty() {
                        &named[actor as usize % named.len()]
                    } else {
                        &positions[actor as usize % positions.len()]
                    };
                    let mut held = vec![p.as_str()];
                    if extra % 7 == 0 {
                        held.push(&positions[extra as usize % positions.len()]);
                    }
                    let who = if extra % 11 == 0 {
                        person("nobody", &[])
                    } else {
                        person(&format!("person-{}", (actor as usize) % 5), &held)
                    };
                    // Mostly a meeting of the body that must resolve an act of
                    // this stage, for that act; sometimes any body, any act.
                    let resolvable: Vec<(&String, &String)> = here
                        .iter()
                        .filter_map(|a| {
                            arr.file
                                .aggregation
                                .get(a.as_str())
                                .and_then(|g| g.resolution.as_ref())
                                .map(|r| (*a, r.body.as_ref()))
                        })
                        .collect();
                    let (body, resolves) = if meeting % 3 != 0 && !resolvable.is_empty() {
                        let (a, b) = resolvable[meeting as usize % resolvable.len()];
                        (b.clone(), a.clone())
                    } else {
                        (
                            roles[extra as usize % roles.len()].clone(),
                            actions[meeting as usize % (actions.len() - 1)].clone(),
                        )
                    };
                    let present =
                        votes.0 as u32 + votes.1 as u32 + votes.2 as u32 + (extra % 3) as u32;
                    let mut a = Act {
                        action: name.clone(),
                        estimates: kinds
                            .iter()
                            .map(|k| (k.clone(), 1_000_00 * (1 + extra as i64)))
                            .collect(),
                        household: Some(Household {
                            house: format!("H-{extra}"),
                            head: None,
                            members: None,
                        }),
                        meeting: Some(Meeting {
                            body,
                            held_on: "2026-02-01".into(),
                            place: None,
                            attendance: Attendance {
                                women: present / 2,
                                men: present - present / 2,
                                other: 0,
                                people: vec![],
                            },
                            resolutions: vec![ResolutionRecord {
                                motion: "random".into(),
                                action: Some(resolves),
                                votes_for: votes.0 as u32,
                                votes_against: votes.1 as u32,
                                abstentions: votes.2 as u32,
                            }],
                            minutes: None,
                        }),
                        ..Act::default()
                    };
                    // A ledger entry for ledger acts: an amount up to the
                    // estimate, a fresh receipt (sometimes a reused one), and
                    // for a reversal one of the scheme's entries.
                    let entries: Vec<&String> = w.init.ledger.entries.keys().collect();
                    a.entry = Some(EntryInput {
                        role: roles[(meeting as usize / 5) % roles.len()].clone(),
                        amount: (name != "reverse_entry").then(|| {
                            (w.state().estimate() * votes.0 as i64 * 3 / 100)
                                .max(1 + votes.1 as i64)
                        }),
                        receipt: Some(if extra % 17 == 0 {
                            "R-again".to_string()
                        } else {
                            format!("R-{}", w.log.len())
                        }),
                        reverses: (name == "reverse_entry" && !entries.is_empty())
                            .then(|| entries[votes.1 as usize % entries.len()].clone()),
                        payee: Some("Hafiz Traders".into()),
                        purpose: Some("cement".into()),
                        ..EntryInput::default()
                    });
                    // Mostly the latest meeting, sometimes any, sometimes none.
                    let latest = w.log.iter().rev().find_map(|(e, _)| match e {
                        EventBody::MeetingRecorded { meeting, .. } => Some(meeting.clone()),
                        _ => None,
                    });
                    let meetings: Vec<&String> = w.state().meetings.keys().collect();
                    a.resolution_meeting = match meeting % 5 {
                        0 => None,
                        1 if !meetings.is_empty() => {
                            Some(meetings[meeting as usize % meetings.len()].clone())
                        }
                        _ => latest,
                    };
                    if extra % 13 == 0 {
                        // Sometimes bare, to hit the input checks.
                        a = Act {
                            action: name.clone(),
                            ..Act::default()
                        };
                    }
                    let before = w.state().clone();
                    let executing = w.init.executing_schemes.clone();
                    match w.decide(&who, &a) {
                        Err(r) => {
                            prop_assert!(names_a_rule(&arr, &r), "refusal names no rule: {:?}", r);
                            prop_assert!(!r.message.is_empty());
                            prop_assert_eq!(
                                w.state(),
                                &before,
                                "a refused act left the state unchanged"
                            );
                            prop_assert_eq!(&w.init.executing_schemes, &executing);
                        }
                        Ok(d) => {
                            w.fold(&d.events);
                            check_events(&w, &d.events, &before)?;
                            let def = arr.action(&name).expect("allowed acts are actions");
                            if d.completed {
                                prop_assert_eq!(
                                    w.state().done.get(&name).copied().unwrap_or(0),
                                    before.done.get(&name).copied().unwrap_or(0) + 1
                                );
                                if let Some(to) = &def.to {
                                    prop_assert_eq!(&w.state().stage, to.as_ref());
                                }
                            } else {
                                prop_assert_eq!(
                                    &w.state().stage,
                                    &before.stage,
                                    "an incomplete signature moves nothing"
                                );
                                prop_assert_eq!(kinds_of(&d.events), vec!["signature_given"]);
                            }
                        }
                    }
                    let _ =
                        engine::available_acts(&arr, &w.init, w.state(), &who, w.now, &w.facts());
                }
            }
            // Replay from the stored log equals the live state, at every step.
            if replay_every_step {
                prop_assert_eq!(&replay(&w.log), &w.scheme);
            }
        }
        prop_assert_eq!(&replay(&w.log), &w.scheme);
        Ok(w.state().entered.keys().cloned().collect())
    }

    fn kinds_of(events: &[EventBody]) -> Vec<&'static str> {
        events.iter().map(EventBody::kind).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        #[test]
        fn random_histories_fold_to_the_live_state(file in 0usize..3, steps in prop::collection::vec(step(), 0..80)) {
            run(file, steps, true)?;
        }
    }

    /// The random walks reach every stage of every built-in arrangement; a
    /// walk that never left the first stage would prove little.
    #[test]
    fn random_walks_get_somewhere() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let mut reached: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        for i in 0..120 {
            let file = i % 3;
            let steps = prop::collection::vec(step(), 150..300)
                .new_tree(&mut runner)
                .expect("a tree")
                .current();
            let stages = run(file, steps, false).unwrap_or_else(|e| panic!("{e}"));
            reached.entry(file).or_default().extend(stages);
        }
        for (file, stages) in reached {
            let arr = built_in(BUILT_IN_ARRANGEMENTS[file].0);
            let all: BTreeSet<String> = arr
                .file
                .lifecycle
                .stages
                .iter()
                .map(|s| s.as_ref().clone())
                .collect();
            assert_eq!(
                stages, all,
                "{}: stages never reached by the random walks",
                BUILT_IN_ARRANGEMENTS[file].0
            );
        }
    }
}
