//! The co-delivery ledger as a specification, with no database: entries go
//! through the engine as acts under the built-in arrangements, and what they
//! add up to (per role, per household, per statement) is checked against
//! sums computed independently here. Property tests drive random sequences
//! of postings and reversals.
//!
//! Amounts are written rupees_paisa: `1_500_00` is Rs 1,500.00.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use saanjh_core::BUILT_IN_ARRANGEMENTS;
use saanjh_core::arrangement::Arrangement;
use saanjh_core::engine::{self, Act, Actor, InitiativeState, SchemeState};
use saanjh_core::event::EventBody;
use saanjh_core::ledger::budget::{self, FinancialYear, YearMovements};
use saanjh_core::ledger::figures::HouseholdRef;
use saanjh_core::ledger::statement::{self, PostedEntry, SchemeLedger, Viewer};
use saanjh_core::ledger::{self, EntryInput, Means, Money, import};
use saanjh_core::model::{Component, Household};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-01-10 09:00 UTC);

fn built_in(file: &str) -> Arrangement {
    let (_, src) = BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == file)
        .expect("built-in");
    Arrangement::parse(src).expect("built-ins parse")
}

/// Someone holding every position of the arrangement: the rules are not the
/// question in most of these tests (the engine's own tests cover them).
fn everyone(arr: &Arrangement) -> Actor {
    Actor {
        person: "p-all".into(),
        positions: arr.file.positions.keys().cloned().collect(),
    }
}

/// A scheme with estimated components and `houses` registered households,
/// folded from its events as the store would.
struct Lane {
    arr: Arrangement,
    init: InitiativeState,
    scheme: SchemeState,
    posted: Vec<PostedEntry>,
    register: Vec<HouseholdRef>,
    /// Receipt numbers other schemes of the initiative have booked.
    elsewhere: BTreeSet<String>,
}

impl Lane {
    fn new(file: &str, estimates: &[(&str, i64)], houses: usize) -> Lane {
        let arr = built_in(file);
        let components = estimates
            .iter()
            .map(|(k, e)| {
                let scope = &arr.file.components[*k];
                Component {
                    kind: k.to_string(),
                    domain: scope.domain,
                    delivered_by: scope.delivered_by.as_ref().clone(),
                    estimate: Some(*e),
                    description: None,
                }
            })
            .collect();
        let at = engine::rfc3339(NOW);
        let created = EventBody::SchemeCreated {
            scheme: "s1".into(),
            name: "Street 7".into(),
            action: "create".into(),
            stage: arr.file.lifecycle.stages[0].as_ref().clone(),
            components,
            positions: vec![],
            note: None,
        };
        let mut scheme = engine::apply(None, &created, &at).expect("created");
        let mut register = vec![];
        for i in 1..=houses {
            let id = format!("s1-h{i}");
            let e = EventBody::HouseholdRegistered {
                household: id.clone(),
                scheme: "s1".into(),
                record: Household {
                    house: format!("{i}"),
                    head: Some(format!("Head {i}")),
                    members: None,
                },
            };
            scheme = engine::apply(Some(scheme), &e, &at).expect("registered");
            register.push(HouseholdRef {
                id,
                house: format!("{i}"),
                head: Some(format!("Head {i}")),
            });
        }
        Lane {
            arr,
            init: InitiativeState {
                id: "i1".into(),
                ..Default::default()
            },
            scheme,
            posted: vec![],
            register,
            elsewhere: BTreeSet::new(),
        }
    }

    fn action_for(&self, kind: &str) -> String {
        self.arr
            .file
            .actions
            .iter()
            .find(|(_, a)| a.records.map(|r| r.as_str()) == Some(kind))
            .map(|(k, _)| k.clone())
            .expect("an action records it")
    }

    fn try_post(&mut self, kind: &str, entry: EntryInput) -> Result<String, String> {
        let act = Act {
            action: self.action_for(kind),
            entry: Some(entry),
            ..Act::default()
        };
        self.init = self.init_now();
        let facts = ledger::facts_for(&self.arr, &self.scheme);
        let d = engine::decide(
            &self.arr,
            &self.init,
            Some(&self.scheme),
            "",
            &everyone(&self.arr),
            &act,
            NOW,
            &facts,
        )
        .map_err(|r| r.message)?;
        let at = engine::rfc3339(NOW);
        let mut id = String::new();
        for e in &d.events {
            if let EventBody::LedgerEntryPosted {
                entry,
                scheme,
                line,
            } = e
            {
                id = entry.clone();
                self.posted.push(PostedEntry {
                    id: entry.clone(),
                    scheme: scheme.clone(),
                    posted_at: at.clone(),
                    line: line.clone(),
                    reversed_by: None,
                });
            }
            self.scheme = engine::apply(Some(self.scheme.clone()), e, &at).expect("scheme");
        }
        Ok(id)
    }

    /// The initiative with what the store would answer about its ledger:
    /// receipts in use in the initiative and the entries an act may name.
    fn init_now(&self) -> InitiativeState {
        let mut init = self.init.clone();
        let room = std::mem::take(&mut init.ledger.release_room);
        init.ledger = ledger::InitiativeLedger::from_entries(
            self.posted
                .iter()
                .map(|e| (e.id.as_str(), e.scheme.as_str(), &e.line)),
        );
        init.ledger.release_room = room;
        init.ledger.receipts.extend(self.elsewhere.iter().cloned());
        init
    }

    fn post(&mut self, kind: &str, entry: EntryInput) -> String {
        self.try_post(kind, entry.clone())
            .unwrap_or_else(|e| panic!("{kind} {entry:?} refused: {e}"))
    }

    /// The entries as the store lists them: reversals linked, in
    /// statement order.
    fn entries(&self) -> Vec<PostedEntry> {
        let mut entries = self.posted.clone();
        statement::link_reversals(&mut entries);
        statement::sort_entries(&mut entries);
        entries
    }

    fn ledger(&self) -> SchemeLedger {
        SchemeLedger {
            id: "s1".into(),
            name: "Street 7".into(),
            stage: self.scheme.stage.clone(),
            components: self.scheme.components.clone(),
            households: self.register.clone(),
            books: self.scheme.books.clone(),
            entries: self.entries(),
        }
    }
}

fn cash(role: &str, rupees: i64, receipt: &str) -> EntryInput {
    EntryInput {
        role: role.into(),
        amount: Some(rupees * 100),
        receipt: Some(receipt.into()),
        ..EntryInput::default()
    }
}

fn from_household(h: usize, rupees: i64, receipt: &str) -> EntryInput {
    EntryInput {
        household: Some(format!("s1-h{h}")),
        ..cash("community", rupees, receipt)
    }
}

fn partner() -> Viewer {
    Viewer::Holding(BTreeSet::from(["community.treasurer".to_string()]))
}

// ───────────────────────────── receipts ─────────────────────────────

#[test]
fn a_receipt_number_is_unique_within_the_initiative_not_just_the_scheme() {
    let mut lane = Lane::new("component-sharing.toml", &[("lane_sewer", 105_000_00)], 70);
    lane.post("contribution", from_household(1, 1500, "R-1"));
    let again = lane
        .try_post("contribution", from_household(2, 1500, "R-1"))
        .unwrap_err();
    assert!(
        again.contains("receipt number `R-1` is already used"),
        "{again}"
    );
    // Another lane of the same initiative already booked R-2: the store says so.
    lane.elsewhere.insert("R-2".into());
    let other = lane
        .try_post("contribution", from_household(2, 1500, "R-2"))
        .unwrap_err();
    assert!(other.contains("`R-2`"), "{other}");
}

#[test]
fn a_reversed_entry_gives_its_receipt_back_for_the_corrected_entry() {
    let mut lane = Lane::new("component-sharing.toml", &[("lane_sewer", 105_000_00)], 70);
    let wrong = lane.post("contribution", from_household(1, 15_000, "R-1"));
    lane.post(
        "reversal",
        EntryInput {
            role: "community".into(),
            reverses: Some(wrong.clone()),
            ..EntryInput::default()
        },
    );
    lane.post("contribution", from_household(1, 1_500, "R-1"));
    let t = ledger::totals(&lane.scheme);
    assert_eq!(t["community"].paid, 1_500_00);
    assert_eq!(
        ledger::live_receipts(lane.posted.iter().map(|e| (e.id.as_str(), &e.line))),
        BTreeSet::from(["R-1".to_string()])
    );
    let twice = lane
        .try_post(
            "reversal",
            EntryInput {
                role: "community".into(),
                reverses: Some(wrong),
                ..EntryInput::default()
            },
        )
        .unwrap_err();
    assert!(twice.contains("already been reversed"), "{twice}");
}

// ───────────────────────────── who paid what ─────────────────────────────

/// Fauji Colony street 7: 70 houses at Rs 1,500 each (domain.md §2.2).
#[test]
fn the_lane_list_shows_who_paid_how_much_and_over_payment_as_such() {
    let mut lane = Lane::new("component-sharing.toml", &[("lane_sewer", 105_000_00)], 70);
    for h in 1..=60 {
        lane.post("contribution", from_household(h, 1500, &format!("R-{h}")));
    }
    lane.post("contribution", from_household(61, 1000, "R-61"));
    lane.post("contribution", from_household(62, 2000, "R-62"));
    let s = statement::for_scheme(&lane.arr, &lane.ledger(), &partner()).unwrap();
    let h61 = s
        .household_list
        .iter()
        .find(|h| h.household == "s1-h61")
        .unwrap();
    assert_eq!(
        (h61.due, h61.paid, h61.outstanding, h61.overpaid),
        (Money(1500_00), Money(1000_00), Money(500_00), Money::ZERO)
    );
    let h62 = s
        .household_list
        .iter()
        .find(|h| h.household == "s1-h62")
        .unwrap();
    assert_eq!(
        (h62.paid, h62.outstanding, h62.overpaid),
        (Money(2000_00), Money::ZERO, Money(500_00))
    );
    let c = s.households.unwrap();
    assert_eq!(
        (
            c.registered,
            c.paid_in_full,
            c.paid_part,
            c.paid_nothing,
            c.overpaid
        ),
        (70, 61, 1, 8, 1)
    );
    let community = s.roles.iter().find(|r| r.role == "community").unwrap();
    assert_eq!(community.paid, Money((60 * 1500 + 1000 + 2000) * 100));
    assert_eq!(community.outstanding, Money(105_000_00 - 93_000_00));
    assert_eq!(
        community.overpaid,
        Money::ZERO,
        "the lane as a whole has not paid more than its share"
    );
}

#[test]
fn a_role_that_puts_in_more_than_its_share_and_pledge_is_shown_as_overpaid() {
    let mut lane = Lane::new("cost-sharing.toml", &[("works", 7_058_000_00)], 0);
    lane.post(
        "pledge",
        EntryInput {
            role: "council".into(),
            amount: Some(5_646_400_00),
            ..EntryInput::default()
        },
    );
    for (i, amount) in [1_882_000_00, 1_882_000_00, 1_882_400_00, 100_000_00]
        .iter()
        .enumerate()
    {
        lane.post(
            "release",
            EntryInput {
                role: "council".into(),
                amount: Some(*amount),
                receipt: Some(format!("CHQ-{i}")),
                component: Some("works".into()),
                ..EntryInput::default()
            },
        );
    }
    let s = statement::for_scheme(&lane.arr, &lane.ledger(), &Viewer::Public).unwrap();
    let council = s.roles.iter().find(|r| r.role == "council").unwrap();
    assert_eq!(
        council.ceiling,
        Money(5_646_400_00),
        "at most 80% of Rs 70,58,000"
    );
    assert_eq!(council.released, Money(5_746_400_00));
    assert_eq!(council.overpaid, Money(100_000_00));
    assert_eq!(council.outstanding, Money::ZERO);
    let ccb = s.roles.iter().find(|r| r.role == "community").unwrap();
    assert_eq!(
        ccb.owed,
        Money(1_411_600_00),
        "20% of Rs 70,58,000, the Chiniot block"
    );
    assert_eq!(ccb.outstanding, Money(1_411_600_00));
}

// ───────────────────────────── statements ─────────────────────────────

#[test]
fn the_public_sees_counts_where_household_names_are_for_partners_only() {
    let mut lane = Lane::new("component-sharing.toml", &[("lane_sewer", 30_000_00)], 20);
    for h in 1..=15 {
        lane.post("contribution", from_household(h, 1500, &format!("R-{h}")));
    }
    let public = statement::for_scheme(&lane.arr, &lane.ledger(), &Viewer::Public).unwrap();
    assert!(!public.names_shown);
    assert!(public.household_list.is_empty());
    assert!(public.entries.iter().all(|e| e.household.is_none()));
    assert_eq!(public.households.unwrap().paid_in_full, 15);
    let csv = statement::to_csv(&public);
    assert!(!csv.contains("Head 1"), "no names in the public CSV");
    assert!(csv.contains("households,s1,,,paid_nothing,,,,5,"), "{csv}");

    let inside = statement::for_scheme(&lane.arr, &lane.ledger(), &partner()).unwrap();
    assert!(inside.names_shown);
    assert_eq!(inside.household_list.len(), 20);
    assert!(statement::to_csv(&inside).contains("1 (Head 1)"));
}

#[test]
fn a_statement_lists_receipts_and_dates_and_its_totals_are_the_sums_of_its_entries() {
    let mut lane = Lane::new(
        "component-sharing.toml",
        &[("lane_sewer", 150_000_00), ("paving", 400_000_00)],
        3,
    );
    lane.post(
        "contribution",
        EntryInput {
            on: Some("2025-12-01".into()),
            ..from_household(1, 1500, "R-1")
        },
    );
    lane.post(
        "contribution",
        EntryInput {
            role: "community".into(),
            means: Means::Labour,
            quantity: Some(10),
            rate: Some(800_00),
            household: Some("s1-h2".into()),
            ..EntryInput::default()
        },
    );
    let mistake = lane.post("contribution", from_household(3, 9999, "R-3"));
    lane.post(
        "reversal",
        EntryInput {
            role: "community".into(),
            reverses: Some(mistake.clone()),
            ..EntryInput::default()
        },
    );
    lane.post(
        "expenditure",
        EntryInput {
            payee: Some("Rafiq mason".into()),
            purpose: Some("pipes".into()),
            component: Some("lane_sewer".into()),
            ..cash("community", 1_200, "V-1")
        },
    );
    let s = statement::for_scheme(&lane.arr, &lane.ledger(), &Viewer::Public).unwrap();
    assert_eq!(
        s.entries
            .first()
            .map(|e| (e.date.as_str(), e.receipt.as_deref())),
        Some(("2025-12-01", Some("R-1")))
    );
    let reversed = s.entries.iter().find(|e| e.id == mistake).unwrap();
    assert!(reversed.reversed_by.is_some());
    // The independent sum: every entry not reversed, by what it is.
    let reversed_ids: BTreeSet<&str> = lane
        .posted
        .iter()
        .filter_map(|e| e.line.reverses.as_deref())
        .collect();
    let live = lane
        .posted
        .iter()
        .filter(|e| e.line.kind != "reversal" && !reversed_ids.contains(e.id.as_str()));
    let (mut received, mut spent) = (0, 0);
    for e in live {
        match e.line.kind.as_str() {
            "contribution" | "release" => received += e.line.amount,
            "expenditure" => spent += e.line.amount,
            _ => {}
        }
    }
    assert_eq!(s.totals.received, Money(received));
    assert_eq!(received, 1500_00 + 8000_00);
    assert_eq!(s.totals.spent, Money(spent));
    assert_eq!(s.totals.balance, Money(received - spent));
    assert_eq!(
        s.spending
            .iter()
            .find(|c| c.component == "lane_sewer")
            .unwrap()
            .spent,
        Money(1_200_00)
    );
    let government = s.roles.iter().find(|r| r.role == "government").unwrap();
    assert_eq!(
        government.outstanding,
        Money(400_000_00),
        "external works owed and never released"
    );
    let csv = statement::to_csv(&s);
    assert!(csv.starts_with("record,scheme,date,entry,kind,role,household,means"));
    assert!(csv.contains(",1500.00,R-1,"), "plain amounts: {csv}");
    assert!(csv.contains("total,s1,,,received,,,,,,9500.00"), "{csv}");
}

#[test]
fn an_initiative_statement_keeps_each_schemes_arrears_apart() {
    let mut a = Lane::new("component-sharing.toml", &[("lane_sewer", 3_000_00)], 2);
    a.post("contribution", from_household(1, 4_000, "R-1"));
    let mut b = Lane::new("component-sharing.toml", &[("lane_sewer", 3_000_00)], 2);
    b.post("contribution", from_household(1, 1_000, "R-2"));
    let mut lb = b.ledger();
    lb.id = "s2".into();
    let entries: Vec<PostedEntry> = a.entries().into_iter().chain(b.entries()).collect();
    let s = statement::for_initiative(
        &a.arr,
        "i1",
        "Fauji Colony",
        &[a.ledger(), lb],
        &entries,
        &Viewer::Public,
    )
    .unwrap();
    let c = s.roles.iter().find(|r| r.role == "community").unwrap();
    assert_eq!(
        c.overpaid,
        Money(1_000_00),
        "lane A paid Rs 1,000 more than its share"
    );
    assert_eq!(
        c.outstanding,
        Money(2_000_00),
        "lane B still owes Rs 2,000, not hidden by A's surplus"
    );
    assert_eq!(s.schemes.len(), 2);
    assert_eq!(s.totals.entries, 2);
}

#[test]
fn a_ledger_shown_to_partners_only_gives_the_public_no_statement() {
    let src = BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .unwrap()
        .1;
    let arr =
        Arrangement::parse(&src.replace("ledger = \"public\"", "ledger = \"partners\"")).unwrap();
    let ledger = SchemeLedger {
        id: "s1".into(),
        ..SchemeLedger::default()
    };
    let why = statement::for_scheme(&arr, &ledger, &Viewer::Public).unwrap_err();
    assert!(why.contains("not public"), "{why}");
    assert!(statement::for_scheme(&arr, &ledger, &partner()).is_ok());
}

// ───────────────────────────── the budget side ─────────────────────────────

#[test]
fn the_cost_sharing_reserve_does_not_lapse_and_check_explains_it() {
    let arr = built_in("cost-sharing.toml");
    let r = arr
        .file
        .reserve
        .as_ref()
        .expect("cost-sharing has a reserve");
    assert!(!r.lapses);
    assert_eq!(r.held_by.as_ref(), "council");
    assert_eq!(
        r.share_of_development_budget
            .as_ref()
            .map(|s| s.as_ref().as_str()),
        Some("25%")
    );
    let words = saanjh_core::arrangement::explain(&arr).to_text();
    assert!(
        words.contains("sets apart 25% of its development budget"),
        "{words}"
    );
    assert!(words.contains("does not lapse"), "{words}");
}

#[test]
fn a_reserve_held_by_no_partner_or_with_a_bad_share_is_refused_with_its_line() {
    let src = BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "cost-sharing.toml")
        .unwrap()
        .1;
    let bad = src
        .replace("held_by = \"council\"", "held_by = \"province\"")
        .replace(
            "share_of_development_budget = \"25%\"",
            "share_of_development_budget = \"25\"",
        );
    let errors = Arrangement::parse(&bad).unwrap_err();
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        errors
            .iter()
            .any(|d| d.line == line_of("held_by = \"province\"")
                && d.message.contains("not a partner role")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|d| d.line == line_of("share_of_development_budget")
                && d.message.contains("percentage")),
        "{errors:?}"
    );
    let unknown = src.replace("lapses = false", "lapses = false\nrolls_over = true");
    assert!(
        Arrangement::parse(&unknown).is_err(),
        "unknown keys in [reserve] are errors"
    );
}

#[test]
fn a_release_beyond_what_the_allocation_has_left_is_refused() {
    let mut ccb = Lane::new("cost-sharing.toml", &[("works", 7_058_000_00)], 0);
    let m = BTreeMap::from([(
        FinancialYear::parse("2025-26").unwrap(),
        YearMovements {
            allocated: 3_000_000_00,
            ..Default::default()
        },
    )]);
    let years = budget::years(&m, false, Some(2500), FinancialYear::of(NOW.date()));
    ccb.init
        .ledger
        .release_room
        .insert("council".into(), budget::release_room(&years));
    ccb.post(
        "release",
        EntryInput {
            role: "council".into(),
            amount: Some(1_882_000_00),
            receipt: Some("CHQ-1".into()),
            component: Some("works".into()),
            ..EntryInput::default()
        },
    );
    ccb.init
        .ledger
        .release_room
        .get_mut("council")
        .unwrap()
        .insert("2025-26".into(), 3_000_000_00 - 1_882_000_00);
    let refused = ccb
        .try_post(
            "release",
            EntryInput {
                role: "council".into(),
                amount: Some(1_882_000_00),
                receipt: Some("CHQ-2".into()),
                component: Some("works".into()),
                ..EntryInput::default()
            },
        )
        .unwrap_err();
    assert!(
        refused.contains(
            "more than the Rs 11,18,000 left in the local council's allocation for 2025-26"
        ),
        "{refused}"
    );
    // A release dated in a year with no allocation has no room at all.
    let next_year = ccb
        .try_post(
            "release",
            EntryInput {
                role: "council".into(),
                amount: Some(1_00),
                receipt: Some("CHQ-3".into()),
                component: Some("works".into()),
                on: Some("2026-07-01".into()),
                ..EntryInput::default()
            },
        )
        .unwrap_err();
    assert!(next_year.contains("2026-27"), "{next_year}");
}

// ───────────────────────────── import ─────────────────────────────

fn import(lane: &Lane, csv: &str) -> Result<import::ImportPlan, Vec<import::RowError>> {
    let schemes = BTreeMap::from([("s1".to_string(), lane.scheme.clone())]);
    let registers = BTreeMap::from([("s1".to_string(), lane.register.clone())]);
    let treasurer = Actor {
        person: "p-t".into(),
        positions: BTreeSet::from(["community.treasurer".to_string()]),
    };
    import::prepare(
        &lane.arr,
        &lane.init_now(),
        &schemes,
        &registers,
        &treasurer,
        csv,
        Some("s1"),
        NOW,
    )
}

#[test]
fn a_good_register_becomes_one_entry_per_row() {
    let lane = Lane::new("component-sharing.toml", &[("lane_sewer", 105_000_00)], 70);
    let csv = "household,role,amount,receipt,date\n1,community,1500,R-1,2025-11-02\n2,community,\"1,500.00\",R-2,2025-11-02\ns1-h3,community,1500,R-3,2025-11-03\n";
    let plan = import(&lane, csv).unwrap();
    assert_eq!(plan.rows, 3);
    assert_eq!(plan.total, Money(4_500_00));
    let lines: Vec<_> = plan
        .events
        .iter()
        .filter_map(|e| {
            if let EventBody::LedgerEntryPosted { line, .. } = e {
                Some(line)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        lines
            .iter()
            .map(|l| l.household.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["s1-h1", "s1-h2", "s1-h3"]
    );
    assert_eq!(lines[1].on.as_deref(), Some("2025-11-02"));
    // Entry ids follow one another as separate acts would number them.
    let ids: BTreeSet<_> = plan
        .events
        .iter()
        .filter_map(|e| {
            if let EventBody::LedgerEntryPosted { entry, .. } = e {
                Some(entry.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn a_register_with_bad_rows_posts_nothing_and_names_every_bad_row() {
    let mut lane = Lane::new("component-sharing.toml", &[("lane_sewer", 105_000_00)], 5);
    lane.post("contribution", from_household(5, 1500, "R-OLD"));
    let csv = "\u{feff}household,role,amount,receipt,date\n\
               1,community,1500,R-1,2025-11-02\n\
               2,community,15OO,R-2,2025-11-02\n\
               3,community,-1500,R-3,2025-11-02\n\
               4,communty,1500,R-4,2025-11-02\n\
               99,community,1500,R-5,2025-11-02\n\
               4,community,1500,R-1,2025-11-02\n\
               4,community,1500,R-OLD,2025-11-02\n\
               4,community,1500,R-8,02/11/2025\n\
               4,community,1500\n\
               4,community,0,R-10,2025-11-02\n";
    let errors = import(&lane, csv).unwrap_err();
    let by_line: BTreeMap<u64, &str> = errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        by_line.keys().copied().collect::<Vec<_>>(),
        [3, 4, 5, 6, 7, 8, 9, 10, 11],
        "{errors:#?}"
    );
    assert!(by_line[&3].contains("`15OO` is not an amount"));
    assert!(by_line[&4].contains("must be more than zero"));
    assert!(by_line[&5].contains("`communty` is not a partner role"));
    assert!(by_line[&6].contains("household `99` is not in the register"));
    assert!(by_line[&7].contains("receipt `R-1` is also on line 2"));
    assert!(by_line[&8].contains("`R-OLD` is already used"));
    assert!(by_line[&9].contains("not a date"));
    assert!(by_line[&10].contains("expected 5 fields, found 3"));
    assert!(by_line[&11].contains("more than zero"));
}

#[test]
fn a_wrong_or_missing_column_is_reported_on_the_header_line() {
    let lane = Lane::new("component-sharing.toml", &[("lane_sewer", 105_000_00)], 5);
    let errors = import(
        &lane,
        "house,role,amount,date\n1,community,1500,2025-11-02\n",
    )
    .unwrap_err();
    assert!(errors.iter().all(|e| e.line == 1));
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("unknown column `house`")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("missing column `receipt`")),
        "{errors:?}"
    );
}

#[test]
fn an_import_goes_through_the_same_rules_as_a_single_entry() {
    let lane = Lane::new("component-sharing.toml", &[("lane_sewer", 105_000_00)], 5);
    let schemes = BTreeMap::from([("s1".to_string(), lane.scheme.clone())]);
    let registers = BTreeMap::from([("s1".to_string(), lane.register.clone())]);
    let outsider = Actor {
        person: "p-x".into(),
        positions: BTreeSet::from(["government.municipal_engineer".to_string()]),
    };
    let csv = "household,role,amount,receipt,date\n1,community,1500,R-1,2025-11-02\n";
    let errors = import::prepare(
        &lane.arr,
        &lane.init,
        &schemes,
        &registers,
        &outsider,
        csv,
        Some("s1"),
        NOW,
    )
    .unwrap_err();
    assert_eq!(errors[0].line, 2);
    assert!(errors[0].message.contains("do not allow you"), "{errors:?}");
}

// ───────────────────────────── invariants ─────────────────────────────

#[derive(Debug, Clone)]
enum Op {
    Pledge(usize, i64),
    Pay(usize, i64),
    Labour(usize, i64, i64),
    /// A release for lane_sewer (false) or paving (true).
    Release(bool, i64),
    Spend(bool, i64),
    Reverse(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..6, 1i64..5_000_00).prop_map(|(h, a)| Op::Pledge(h, a)),
        (0usize..6, 1i64..5_000_00).prop_map(|(h, a)| Op::Pay(h, a)),
        (0usize..6, 1i64..10, 1i64..1_000_00).prop_map(|(h, q, r)| Op::Labour(h, q, r)),
        (any::<bool>(), 1i64..20_000_00).prop_map(|(p, a)| Op::Release(p, a)),
        (any::<bool>(), 1i64..8_000_00).prop_map(|(p, a)| Op::Spend(p, a)),
        (0usize..40).prop_map(Op::Reverse),
    ]
}

fn run(ops: &[Op]) -> Lane {
    run_on(built_in("component-sharing.toml"), ops)
}

fn run_on(arr: Arrangement, ops: &[Op]) -> Lane {
    let mut lane = Lane::new(
        "component-sharing.toml",
        &[("lane_sewer", 9_000_00), ("paving", 30_000_00)],
        6,
    );
    lane.arr = arr;
    let component = |paving: &bool| Some(if *paving { "paving" } else { "lane_sewer" }.to_string());
    for (i, op) in ops.iter().enumerate() {
        let receipt = Some(format!("R-{i}"));
        let hh = |h: &usize| Some(format!("s1-h{}", h + 1));
        let r = match op {
            Op::Pledge(h, a) => lane.try_post(
                "pledge",
                EntryInput {
                    role: "community".into(),
                    amount: Some(*a),
                    household: hh(h),
                    ..EntryInput::default()
                },
            ),
            Op::Pay(h, a) => lane.try_post(
                "contribution",
                EntryInput {
                    role: "community".into(),
                    amount: Some(*a),
                    household: hh(h),
                    receipt,
                    ..EntryInput::default()
                },
            ),
            Op::Labour(h, q, r) => lane.try_post(
                "contribution",
                EntryInput {
                    role: "community".into(),
                    means: Means::Labour,
                    quantity: Some(*q),
                    rate: Some(*r),
                    household: hh(h),
                    ..EntryInput::default()
                },
            ),
            Op::Release(p, a) => lane.try_post(
                "release",
                EntryInput {
                    role: "government".into(),
                    amount: Some(*a),
                    receipt,
                    component: component(p),
                    ..EntryInput::default()
                },
            ),
            Op::Spend(p, a) => lane.try_post(
                "expenditure",
                EntryInput {
                    role: if *p { "government" } else { "community" }.into(),
                    amount: Some(*a),
                    receipt,
                    payee: Some("mason".into()),
                    component: component(p),
                    ..EntryInput::default()
                },
            ),
            Op::Reverse(n) => match lane.posted.get(*n).cloned() {
                Some(e) => lane.try_post(
                    "reversal",
                    EntryInput {
                        role: e.line.role.clone(),
                        reverses: Some(e.id.clone()),
                        ..EntryInput::default()
                    },
                ),
                None => Ok(String::new()),
            },
        };
        // Refusals are allowed (over-spending, double reversal); they must change nothing, which the fold guarantees.
        let _ = r;
    }
    lane
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Balances equal the sum of their entries, computed here without the
    /// ledger's code; money in never goes below money out.
    #[test]
    fn balances_are_the_sums_of_their_entries(ops in proptest::collection::vec(op(), 0..40)) {
        let lane = run(&ops);
        let reversed: BTreeSet<&str> = lane.posted.iter().filter_map(|e| e.line.reverses.as_deref()).collect();
        let mut by_role: BTreeMap<(String, String), i64> = BTreeMap::new();
        for e in lane.posted.iter().filter(|e| e.line.kind != "reversal" && !reversed.contains(e.id.as_str())) {
            *by_role.entry((e.line.role.clone(), e.line.kind.clone())).or_default() += e.line.amount;
        }
        let t = ledger::totals(&lane.scheme);
        for (role, rt) in &t {
            let get = |k: &str| by_role.get(&(role.clone(), k.to_string())).copied().unwrap_or(0);
            prop_assert_eq!(rt.pledged, get("pledge"));
            prop_assert_eq!(rt.paid, get("contribution"));
            prop_assert_eq!(rt.released, get("release"));
            prop_assert_eq!(rt.spent, get("expenditure"));
        }
        let s = statement::for_scheme(&lane.arr, &lane.ledger(), &partner()).unwrap();
        let received: i64 = ["contribution", "release"].iter().map(|k| by_role.iter().filter(|((_, kk), _)| kk == k).map(|(_, v)| v).sum::<i64>()).sum();
        prop_assert_eq!(s.totals.received.0, received);
        prop_assert!(s.totals.spent <= s.totals.received, "expenditure never exceeds funds received");
        let household_paid: i64 = s.household_list.iter().map(|h| h.paid.0).sum();
        let household_rows: i64 = lane.posted.iter().filter(|e| e.line.kind == "contribution" && e.line.household.is_some() && !reversed.contains(e.id.as_str())).map(|e| e.line.amount).sum();
        prop_assert_eq!(household_paid, household_rows);
    }

    /// Replaying the events from the start gives the same figures.
    #[test]
    fn replay_gives_the_same_statement(ops in proptest::collection::vec(op(), 0..30)) {
        let lane = run(&ops);
        let mut again = Lane::new("component-sharing.toml", &[("lane_sewer", 9_000_00), ("paving", 30_000_00)], 6);
        let at = engine::rfc3339(NOW);
        for e in &lane.posted {
            let ev = EventBody::LedgerEntryPosted { entry: e.id.clone(), scheme: e.scheme.clone(), line: e.line.clone() };
            again.scheme = engine::apply(Some(again.scheme.clone()), &ev, &at).unwrap();
        }
        prop_assert_eq!(&again.scheme.books, &lane.scheme.books);
        prop_assert_eq!(ledger::totals(&again.scheme), ledger::totals(&lane.scheme));
        again.posted = lane.posted.clone();
        prop_assert_eq!(
            statement::for_scheme(&again.arr, &again.ledger(), &Viewer::Public).unwrap(),
            statement::for_scheme(&lane.arr, &lane.ledger(), &Viewer::Public).unwrap()
        );
    }

    /// Paid never exceeds pledged-or-owed without the excess being shown as
    /// an over-payment — for every role and every household.
    #[test]
    fn over_payment_is_always_shown(ops in proptest::collection::vec(op(), 0..40)) {
        let lane = run(&ops);
        let s = statement::for_scheme(&lane.arr, &lane.ledger(), &partner()).unwrap();
        for r in &s.roles {
            let cap = r.ceiling.0.max(r.pledged.0);
            prop_assert_eq!(r.overpaid.0, (r.put_in.0 - cap).max(0), "{:?}", r);
            prop_assert!(r.put_in.0 <= cap + r.overpaid.0);
            prop_assert_eq!(r.outstanding.0, (r.owed.0 - r.put_in.0).max(0));
        }
        for h in &s.household_list {
            prop_assert!(h.paid.0 <= h.due.0 + h.overpaid.0);
            prop_assert!(h.overpaid.0 == 0 || h.outstanding.0 == 0);
        }
    }
}

/// Per component, from the entries alone (not the ledger's running
/// figures): released, spent, and the community's cash contributions.
fn component_sums(lane: &Lane) -> (BTreeMap<String, (i64, i64)>, i64) {
    let reversed: BTreeSet<&str> = lane
        .posted
        .iter()
        .filter_map(|e| e.line.reverses.as_deref())
        .collect();
    let mut by: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut cash = 0;
    for e in lane
        .posted
        .iter()
        .filter(|e| e.line.kind != "reversal" && !reversed.contains(e.id.as_str()))
    {
        let l = &e.line;
        match (l.kind.as_str(), &l.component) {
            ("release", Some(c)) => by.entry(c.clone()).or_default().0 += l.amount,
            ("expenditure", Some(c)) => by.entry(c.clone()).or_default().1 += l.amount,
            ("contribution", _) if l.means == Means::Cash && l.role == "community" => {
                cash += l.amount
            }
            _ => {}
        }
    }
    (by, cash)
}

fn component_sharing_with(spending: &str) -> Arrangement {
    let src = BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .unwrap()
        .1;
    // The built-in's spending rules replaced by `spending`.
    let start = src.find("[spending.house_connections]").unwrap();
    let end = src.find("# ── Lifecycle").unwrap();
    let text = format!("{}{spending}\n{}", &src[..start], &src[end..]);
    Arrangement::parse(&text).unwrap_or_else(|e| panic!("{e:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// An expenditure never takes a component beyond what was released for
    /// it unless a rule says so: under the built-in component-sharing rules
    /// the lane sewer may also spend the community's cash contributions,
    /// paving only its releases.
    #[test]
    fn spending_stays_within_releases_unless_a_rule_allows_more(ops in proptest::collection::vec(op(), 0..40)) {
        let lane = run(&ops);
        let (by, cash) = component_sums(&lane);
        let (rel, spent) = by.get("paving").copied().unwrap_or_default();
        prop_assert!(spent <= rel, "paving: spent {} > released {}", spent, rel);
        let (rel, spent) = by.get("lane_sewer").copied().unwrap_or_default();
        prop_assert!(spent - rel <= cash.max(0), "lane sewer: spent {} beyond released {} and cash {}", spent, rel, cash);
    }

    /// With no spending rule at all, every component spends only its
    /// releases, whatever the community collected.
    #[test]
    fn without_a_rule_spending_never_exceeds_releases(ops in proptest::collection::vec(op(), 0..40)) {
        let lane = run_on(component_sharing_with(""), &ops);
        let (by, _) = component_sums(&lane);
        for (c, (rel, spent)) in by {
            prop_assert!(spent <= rel, "{}: spent {} > released {}", c, spent, rel);
        }
    }

    /// An overspend allowance lets spending run ahead of releases by that
    /// share of the estimate, and no further.
    #[test]
    fn an_overspend_allowance_is_a_ceiling(ops in proptest::collection::vec(op(), 0..40)) {
        let lane = run_on(component_sharing_with("[spending.paving]\noverspend = \"10%\"\n"), &ops);
        let (by, _) = component_sums(&lane);
        let (rel, spent) = by.get("paving").copied().unwrap_or_default();
        prop_assert!(spent - rel <= 3_000_00, "paving: spent {} against released {} + 10% of Rs 30,000", spent, rel);
        let (rel, spent) = by.get("lane_sewer").copied().unwrap_or_default();
        prop_assert!(spent <= rel);
    }
}

#[test]
fn spending_beyond_a_release_is_refused_naming_the_component_and_the_figures() {
    let mut lane = Lane::new(
        "component-sharing.toml",
        &[("lane_sewer", 150_000_00), ("paving", 400_000_00)],
        3,
    );
    let spend = |amount: i64, receipt: &str| EntryInput {
        role: "government".into(),
        amount: Some(amount),
        receipt: Some(receipt.into()),
        payee: Some("TMA contractor".into()),
        component: Some("paving".into()),
        ..EntryInput::default()
    };
    let nothing = lane
        .try_post("expenditure", spend(1_00, "W-0"))
        .unwrap_err();
    assert!(
        nothing.contains("on the street paving after the sewer"),
        "{nothing}"
    );
    let release = lane.post(
        "release",
        EntryInput {
            role: "government".into(),
            amount: Some(1_50_000_00),
            receipt: Some("TMA-1".into()),
            component: Some("paving".into()),
            ..EntryInput::default()
        },
    );
    lane.post("expenditure", spend(1_00_000_00, "W-1"));
    let more = lane
        .try_post("expenditure", spend(60_000_00, "W-2"))
        .unwrap_err();
    assert!(
        more.contains("this expenditure of Rs 60,000 on the street paving after the sewer is more than there is to spend on it: Rs 1,50,000 has been released for the street paving after the sewer and Rs 1,00,000 already spent"),
        "{more}"
    );
    // Taking the release back would leave the spending unfunded.
    let back = lane
        .try_post(
            "reversal",
            EntryInput {
                role: "government".into(),
                reverses: Some(release),
                ..EntryInput::default()
            },
        )
        .unwrap_err();
    assert!(
        back.contains("reversing this release of Rs 1,50,000"),
        "{back}"
    );
    // The rest of the release may be spent, to the paisa.
    lane.post("expenditure", spend(50_000_00, "W-3"));
    // The refusal names the spending rule and says what would allow it.
    let act = Act {
        action: lane.action_for("expenditure"),
        entry: Some(spend(1, "W-4")),
        ..Act::default()
    };
    let r = engine::decide(
        &lane.arr,
        &lane.init_now(),
        Some(&lane.scheme),
        "",
        &everyone(&lane.arr),
        &act,
        NOW,
        &ledger::facts_for(&lane.arr, &lane.scheme),
    )
    .unwrap_err();
    assert_eq!(r.rule, "spending.paving");
    assert!(
        r.allowed_if
            .contains("release money for the street paving after the sewer first"),
        "{r:?}"
    );
}

#[test]
fn the_lane_spends_what_its_households_collected_without_a_release() {
    let mut lane = Lane::new("component-sharing.toml", &[("lane_sewer", 4_500_00)], 3);
    for h in 1..=3 {
        lane.post("contribution", from_household(h, 1500, &format!("R-{h}")));
    }
    let spend = |amount: i64, receipt: &str| EntryInput {
        role: "community".into(),
        amount: Some(amount),
        receipt: Some(receipt.into()),
        payee: Some("Pak Cement".into()),
        component: Some("lane_sewer".into()),
        ..EntryInput::default()
    };
    lane.post("expenditure", spend(4_000_00, "V-1"));
    let over = lane
        .try_post("expenditure", spend(501_00, "V-2"))
        .unwrap_err();
    assert!(
        over.contains("Rs 500 of the lane organisation's own contributions is not yet spent"),
        "{over}"
    );
    // Taking back a contribution that has been spent is refused too.
    let paid = lane.posted[0].id.clone();
    let back = lane
        .try_post(
            "reversal",
            EntryInput {
                role: "community".into(),
                reverses: Some(paid),
                ..EntryInput::default()
            },
        )
        .unwrap_err();
    assert!(back.contains("take away money already spent"), "{back}");
}

#[test]
fn spending_rules_are_checked_and_explained() {
    let words = saanjh_core::arrangement::explain(&built_in("component-sharing.toml")).to_text();
    assert!(
        words.contains("Money spent on the lane sewer may not exceed what has been released for it, plus what the lane organisation contributed in cash and has not yet spent."),
        "{words}"
    );
    assert!(
        words.contains("Money spent on the street paving after the sewer may not exceed what has been released for it."),
        "{words}"
    );
    let src = BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .unwrap()
        .1;
    let bad = src
        .replace("[spending.collector_sewer]", "[spending.drains]")
        .replace(
            "contributions_of = [\"community\"]\nexplain = \"The lane pays for its sewer",
            "contributions_of = [\"residents\"]\noverspend = \"ten\"\nexplain = \"The lane pays for its sewer",
        );
    let errors = Arrangement::parse(&bad).unwrap_err();
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        errors.iter().any(|d| d.line == line_of("[spending.drains]")
            && d.message.contains("not a component kind")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|d| d.line == line_of("\"residents\"") && d.message.contains("not a partner role")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|d| d.line == line_of("overspend = \"ten\"") && d.message.contains("percentage")),
        "{errors:?}"
    );
    let unknown = src.replace(
        "[spending.lane_sewer]\n",
        "[spending.lane_sewer]\nborrow = true\n",
    );
    assert!(
        Arrangement::parse(&unknown).is_err(),
        "unknown keys in [spending] are errors"
    );
}
