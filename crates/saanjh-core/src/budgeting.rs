//! Participatory budgeting rounds (issue 7, part 3): a council's reserve for
//! community schemes divided by residents' votes.
//!
//! A round moves through four phases in order — proposals, review, voting,
//! results — and only its convenor (a position in the council) moves it.
//! Registered community organisations propose; the works department checks
//! each proposal's feasibility and sets the cost the count uses (or rejects
//! it with a reason); residents vote online or on paper ballots that counter
//! staff enter with the ballot's serial number; the count itself is
//! `saanjh-pb`'s, done by the caller (core depends on no project crate) and
//! recorded here as published figures and sentences.
//!
//! Everything is an event on the round's own hash chain; `apply` folds them
//! into a `RoundState`, and the `decide_*` functions check an act against
//! that state and return the event to append, or why not.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::event::EventBody;

/// The phases, in the only order a round may take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Proposals,
    Review,
    Voting,
    Results,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::Proposals,
        Phase::Review,
        Phase::Voting,
        Phase::Results,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Proposals => "proposals",
            Phase::Review => "review",
            Phase::Voting => "voting",
            Phase::Results => "results",
        }
    }
    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
    /// The phase after this one.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Proposals => Some(Phase::Review),
            Phase::Review => Some(Phase::Voting),
            Phase::Voting => Some(Phase::Results),
            Phase::Results => None,
        }
    }
}

/// How the votes are counted (all by `saanjh-pb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountingRule {
    /// Method of Equal Shares, cost utility, plain Add1 completion (one
    /// currency unit per voter per raise): the default, and what Assen,
    /// Świecie and Wieliczka used.
    MesAdd1,
    /// The same, then compared with greedy: greedy's outcome is taken iff
    /// strictly more voters prefer it (pabulib `equalshares/add1-comparison`).
    MesAdd1Comparison,
    /// Most votes first, skipping what no longer fits (common practice).
    Greedy,
}

impl CountingRule {
    pub fn as_str(self) -> &'static str {
        match self {
            CountingRule::MesAdd1 => "mes-add1",
            CountingRule::MesAdd1Comparison => "mes-add1-comparison",
            CountingRule::Greedy => "greedy",
        }
    }
    pub fn parse(s: &str) -> Option<CountingRule> {
        [
            CountingRule::MesAdd1,
            CountingRule::MesAdd1Comparison,
            CountingRule::Greedy,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
    /// The pabulib META `rule` value.
    pub fn pabulib(self) -> &'static str {
        match self {
            CountingRule::MesAdd1 => "equalshares/add1",
            CountingRule::MesAdd1Comparison => "equalshares/add1-comparison",
            CountingRule::Greedy => "greedy",
        }
    }
    /// From a pabulib META `rule`, where the platform can count it.
    pub fn from_pabulib(s: &str) -> Option<CountingRule> {
        match s.trim() {
            "equalshares/add1" => Some(CountingRule::MesAdd1),
            "equalshares/add1-comparison" => Some(CountingRule::MesAdd1Comparison),
            "greedy" => Some(CountingRule::Greedy),
            _ => None,
        }
    }
}

/// A position in an organisation: who may act for the round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Office {
    pub organisation: String,
    pub position: String,
}

/// A bounding box in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

impl Bounds {
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        lat >= self.south && lat <= self.north && lon >= self.west && lon <= self.east
    }
}

/// Where proposals may be and voters live: a district, optionally narrowed
/// to named union councils and/or a bounding box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub district: String,
    /// Union councils in the round; empty means the whole district.
    #[serde(default)]
    pub union_councils: Vec<String>,
    #[serde(default)]
    pub bounds: Option<Bounds>,
}

impl Area {
    pub fn includes_union_council(&self, uc: &str) -> bool {
        self.union_councils.is_empty() || self.union_councils.iter().any(|u| u == uc)
    }
    pub fn describe(&self) -> String {
        if self.union_councils.is_empty() {
            format!("{} district", self.district)
        } else {
            format!("{} ({})", self.district, self.union_councils.join(", "))
        }
    }
}

/// An arrangement by id and version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrangementRef {
    pub id: String,
    pub version: u32,
}

/// When the convenor plans to move the round on, published when it opens so
/// organisations know how long they have to propose and residents when to
/// vote. Dates are `YYYY-MM-DD`; the phases still move only when the
/// convenor moves them (a late review does not close voting early).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Proposals close and the works department's review begins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// Voting opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voting: Option<String>,
    /// Voting closes and the count is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<String>,
}

impl Schedule {
    pub fn is_empty(&self) -> bool {
        self.review.is_none() && self.voting.is_none() && self.results.is_none()
    }
    /// The planned date a phase begins.
    pub fn starts(&self, phase: Phase) -> Option<&str> {
        match phase {
            Phase::Proposals => None,
            Phase::Review => self.review.as_deref(),
            Phase::Voting => self.voting.as_deref(),
            Phase::Results => self.results.as_deref(),
        }
    }
}

/// A round as opened.
///
/// Fields added after rounds were first stored are skipped when empty, so
/// the events of older rounds serialise (and hash) as they did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    pub id: String,
    pub name: String,
    /// The council whose reserve this is (a public organisation).
    pub council: String,
    /// e.g. "2025-26".
    #[serde(default)]
    pub financial_year: Option<String>,
    pub currency: String,
    /// In minor units (paisa).
    pub budget: i64,
    pub area: Area,
    pub rule: CountingRule,
    /// Seed of the tie-break order drawn before counting, published now.
    pub seed: u64,
    /// Moves the round from phase to phase.
    pub convenor: Office,
    /// The works department's position that reviews proposals.
    pub reviewer: Office,
    /// Counter staff who enter paper ballots.
    pub counter: Office,
    /// At most this many proposals on one ballot.
    #[serde(default)]
    pub max_choices: Option<u32>,
    /// The arrangement winners run under unless a proposal names another.
    pub arrangement: String,
    pub version: u32,
    /// Other arrangements a proposal may name instead (a CCB may prefer a
    /// lane scheme with an NGO to an 80/20 cost share, say). Empty: only
    /// `arrangement`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_arrangements: Vec<ArrangementRef>,
    #[serde(default, skip_serializing_if = "Schedule::is_empty")]
    pub schedule: Schedule,
    #[serde(default)]
    pub demo: bool,
    /// Set when the round was imported from a `.pb` file (its description).
    #[serde(default)]
    pub imported_from: Option<String>,
    /// How much (minor units) each Add1 raise adds to every voter's share; absent: one
    /// currency unit, the plain Add1 of the rule's authors. In a round with tens of
    /// thousands of voters a unit of a rupee can mean thousands of recounts, so the
    /// convenor may choose a coarser step before voting; it is published with the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add1_step: Option<i64>,
}

impl RoundRecord {
    /// The arrangements a proposal may choose, the default first.
    pub fn arrangements(&self) -> Vec<ArrangementRef> {
        let mut all = vec![ArrangementRef {
            id: self.arrangement.clone(),
            version: self.version,
        }];
        all.extend(self.other_arrangements.iter().cloned());
        all
    }
    pub fn allows(&self, id: &str, version: u32) -> bool {
        (self.arrangement == id && self.version == version)
            || self
                .other_arrangements
                .iter()
                .any(|a| a.id == id && a.version == version)
    }
}

/// Where a proposed scheme would be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub place: String,
    #[serde(default)]
    pub union_council: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
}

/// A proposal as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalRecord {
    /// 1, 2, 3… within the round; also its `project_id` in a `.pb` export.
    pub number: u32,
    /// The proposing community organisation (absent for imported rounds).
    #[serde(default)]
    pub organisation: Option<String>,
    /// The person who submitted it for the organisation.
    #[serde(default)]
    pub submitted_by: Option<String>,
    /// For imported rounds: the project id and proposer as the file had them.
    #[serde(default)]
    pub source_id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The proposer's estimate, minor units.
    pub estimate: i64,
    pub location: Location,
    /// The arrangement the scheme will run under if it wins.
    pub arrangement: String,
    pub version: u32,
    /// The arrangement's component the money is for (default: the first
    /// one the community delivers).
    #[serde(default)]
    pub component: Option<String>,
    /// Partner roles of the arrangement other than the community's and the
    /// council's (e.g. an NGO), role → organisation id.
    #[serde(default)]
    pub partners: BTreeMap<String, String>,
}

/// The works department's finding on a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Review {
    /// Feasible at `cost` (minor units): the figure the count uses.
    Feasible {
        cost: i64,
        #[serde(default)]
        note: Option<String>,
    },
    Rejected {
        reason: String,
    },
}

/// How a ballot came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// Cast by the resident online; who they are is kept outside the log.
    Online,
    /// Entered from a paper ballot at a counter.
    Paper { serial: String, entered_by: String },
    /// From an imported `.pb` file.
    Imported {
        voter_id: String,
        #[serde(default)]
        voting_method: Option<String>,
    },
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Online => "internet",
            Method::Paper { .. } => "paper",
            Method::Imported { .. } => "imported",
        }
    }
    pub fn serial(&self) -> Option<&str> {
        match self {
            Method::Paper { serial, .. } => Some(serial),
            _ => None,
        }
    }
}

/// One ballot: the proposals it approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotRecord {
    /// 1, 2, 3… within the round; its `voter_id` in a `.pb` export.
    pub number: u64,
    pub approvals: Vec<u32>,
    #[serde(default)]
    pub union_council: Option<String>,
    #[serde(flatten)]
    pub method: Method,
}

/// One project's line in the published result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountedProject {
    pub number: u32,
    /// The reviewed cost counted, minor units.
    pub cost: i64,
    pub votes: u64,
    pub selected: bool,
    /// The counting rule's sentence: why it won or lost.
    pub why: String,
    /// The rule's structured reason, as `saanjh-pb` gave it.
    pub reason: serde_json::Value,
}

/// The tie-break order fixed before counting, and the ties it settled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TieBreakPublished {
    pub seed: u64,
    pub criteria: String,
    pub drawn: Vec<String>,
    pub priority: Vec<String>,
    pub ties: Vec<serde_json::Value>,
}

/// The result of a count, as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountRecord {
    pub rule: CountingRule,
    pub budget: i64,
    pub spent: i64,
    pub ballots: u64,
    /// Proposal numbers in order of selection.
    pub winners: Vec<u32>,
    pub projects: Vec<CountedProject>,
    pub tie_break: TieBreakPublished,
    /// How the completion ran (MES), in words.
    #[serde(default)]
    pub completion: Option<String>,
    /// The same completion as data (saanjh-pb's completion record: start and
    /// final per-voter share, step, raises, runs, and why it stopped), so
    /// pages can say it in the visitor's language. Absent on rounds counted
    /// before it was kept; those show the sentence above.
    #[serde(default)]
    pub completion_detail: Option<serde_json::Value>,
    /// Whether greedy's outcome was kept after the comparison step.
    #[serde(default)]
    pub comparison: Option<serde_json::Value>,
}

/// A proposal with what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalState {
    pub record: ProposalRecord,
    pub submitted_at: String,
    #[serde(default)]
    pub review: Option<Review>,
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub reviewed_at: Option<String>,
    /// The initiative and scheme a winner became.
    #[serde(default)]
    pub scheme: Option<(String, String)>,
    /// For a proposal that came without a proposing organisation (a round
    /// imported from an earlier paper process): who will deliver it, as the
    /// convenor named them.
    #[serde(default)]
    pub deliverer: Option<Deliverer>,
}

/// The registered community organisation that delivers an imported winner,
/// and its member who performs the scheme's creating act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deliverer {
    pub organisation: String,
    pub person: String,
}

impl ProposalState {
    /// On the ballot: reviewed and found feasible.
    pub fn feasible_cost(&self) -> Option<i64> {
        match &self.review {
            Some(Review::Feasible { cost, .. }) => Some(*cost),
            _ => None,
        }
    }
}

/// A phase change as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseChange {
    pub from: Phase,
    pub to: Phase,
    pub person: String,
    pub at: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// A round folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundState {
    pub record: RoundRecord,
    pub phase: Phase,
    pub opened_at: String,
    pub updated_at: String,
    pub proposals: BTreeMap<u32, ProposalState>,
    pub ballots: u64,
    pub phase_changes: Vec<PhaseChange>,
    #[serde(default)]
    pub result: Option<CountRecord>,
}

impl RoundState {
    /// Proposals on the ballot, by number.
    pub fn on_ballot(&self) -> impl Iterator<Item = (&u32, &ProposalState)> {
        self.proposals
            .iter()
            .filter(|(_, p)| p.feasible_cost().is_some())
    }
}

/// Fold one event into a round. Events about other things leave it as is;
/// `None` in and not an opening event gives `None`.
pub fn apply(state: Option<RoundState>, e: &EventBody, at: &str) -> Option<RoundState> {
    if let EventBody::RoundOpened { round } = e {
        return Some(RoundState {
            record: round.clone(),
            phase: Phase::Proposals,
            opened_at: at.to_string(),
            updated_at: at.to_string(),
            proposals: BTreeMap::new(),
            ballots: 0,
            phase_changes: vec![],
            result: None,
        });
    }
    let mut s = state?;
    s.updated_at = at.to_string();
    match e {
        EventBody::RoundPhaseChanged {
            from,
            to,
            person,
            note,
            ..
        } => {
            s.phase = *to;
            s.phase_changes.push(PhaseChange {
                from: *from,
                to: *to,
                person: person.clone(),
                at: at.to_string(),
                note: note.clone(),
            });
        }
        EventBody::ProposalSubmitted { proposal, .. } => {
            s.proposals.insert(
                proposal.number,
                ProposalState {
                    record: proposal.clone(),
                    submitted_at: at.to_string(),
                    review: None,
                    reviewed_by: None,
                    reviewed_at: None,
                    scheme: None,
                    deliverer: None,
                },
            );
        }
        EventBody::ProposalReviewed {
            proposal,
            review,
            person,
            ..
        } => {
            if let Some(p) = s.proposals.get_mut(proposal) {
                p.review = Some(review.clone());
                p.reviewed_by = Some(person.clone());
                p.reviewed_at = Some(at.to_string());
            }
        }
        EventBody::BallotCast { ballot, .. } => {
            s.ballots = s.ballots.max(ballot.number);
        }
        EventBody::RoundCounted { result, .. } => {
            s.result = Some(result.clone());
        }
        EventBody::RoundWinnerSchemed {
            proposal,
            initiative,
            scheme,
            ..
        } => {
            if let Some(p) = s.proposals.get_mut(proposal) {
                p.scheme = Some((initiative.clone(), scheme.clone()));
            }
        }
        EventBody::ProposalDelivererNamed {
            proposal,
            deliverer,
            ..
        } => {
            if let Some(p) = s.proposals.get_mut(proposal) {
                p.deliverer = Some(deliverer.clone());
            }
        }
        _ => {}
    }
    Some(s)
}

/// Why a round act was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// The act is incomplete or malformed (422).
    Input,
    /// The actor does not hold the office the act needs (403).
    Position,
    /// Not in this phase (409).
    Phase,
    /// A duplicate or a rule of the round (409).
    Rule,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct RoundRefusal {
    pub kind: RefusalKind,
    /// `round.phase`, `round.convenor`, `round.reviewer`, `round.counter`,
    /// `round.proposer`, `round.area`, `round.ballot`, `input`.
    pub rule: String,
    pub message: String,
    pub allowed_if: String,
}

fn refuse<T>(
    kind: RefusalKind,
    rule: &str,
    message: impl Into<String>,
    allowed_if: impl Into<String>,
) -> Result<T, RoundRefusal> {
    Err(RoundRefusal {
        kind,
        rule: rule.to_string(),
        message: message.into(),
        allowed_if: allowed_if.into(),
    })
}

fn input<T>(message: impl Into<String>) -> Result<T, RoundRefusal> {
    let m = message.into();
    refuse(RefusalKind::Input, "input", m.clone(), m)
}

fn in_phase(s: &RoundState, phase: Phase, what: &str) -> Result<(), RoundRefusal> {
    if s.phase != phase {
        return refuse(
            RefusalKind::Phase,
            "round.phase",
            format!(
                "{what} is done in the {} phase; this round is in the {} phase",
                phase.as_str(),
                s.phase.as_str()
            ),
            format!("the round is in the {} phase", phase.as_str()),
        );
    }
    Ok(())
}

fn non_empty(field: &str, v: &str) -> Result<(), RoundRefusal> {
    if v.trim().is_empty() {
        return input(format!("`{field}` must not be empty"));
    }
    Ok(())
}

/// Check a round before it is opened.
pub fn check_record(r: &RoundRecord) -> Result<(), RoundRefusal> {
    non_empty("name", &r.name)?;
    non_empty("area.district", &r.area.district)?;
    non_empty("currency", &r.currency)?;
    if r.budget <= 0 {
        return input("the budget must be more than zero");
    }
    let mut seen = BTreeSet::new();
    for uc in &r.area.union_councils {
        non_empty("area.union_councils", uc)?;
        if !seen.insert(uc.as_str()) {
            return input(format!("union council `{uc}` is listed twice"));
        }
    }
    if let Some(b) = r.area.bounds
        && (!(b.south < b.north && b.west < b.east)
            || b.south < -90.0
            || b.north > 90.0
            || b.west < -180.0
            || b.east > 180.0)
    {
        return input("the area's bounds must have south < north and west < east, in degrees");
    }
    if r.max_choices == Some(0) {
        return input("`max_choices` must be at least 1 when given");
    }
    if let Some(step) = r.add1_step
        && (step <= 0 || step > r.budget)
    {
        return input("`add1_step` must be more than nothing and at most the budget");
    }
    let mut arrangements = BTreeSet::new();
    for a in r.arrangements() {
        if r.imported_from.is_none() {
            non_empty("arrangement", &a.id)?;
        }
        if !arrangements.insert(a.clone()) {
            return input(format!(
                "arrangement `{}` version {} is listed twice",
                a.id, a.version
            ));
        }
    }
    let mut before: Option<(&str, time::Date)> = None;
    for (name, text) in [
        ("schedule.review", &r.schedule.review),
        ("schedule.voting", &r.schedule.voting),
        ("schedule.results", &r.schedule.results),
    ] {
        let Some(text) = text else { continue };
        let date = parse_date(text).ok_or_else(|| {
            input_refusal(format!("`{name}`: `{text}` is not a date (YYYY-MM-DD)"))
        })?;
        if let Some((earlier, d)) = before
            && date <= d
        {
            return input(format!("`{name}` ({text}) must come after `{earlier}`"));
        }
        before = Some((name, date));
    }
    for (name, o) in [
        ("convenor", &r.convenor),
        ("reviewer", &r.reviewer),
        ("counter", &r.counter),
    ] {
        non_empty(&format!("{name}.organisation"), &o.organisation)?;
        non_empty(&format!("{name}.position"), &o.position)?;
    }
    Ok(())
}

fn input_refusal(message: String) -> RoundRefusal {
    RoundRefusal {
        kind: RefusalKind::Input,
        rule: "input".into(),
        message: message.clone(),
        allowed_if: message,
    }
}

/// A `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).ok()
}

/// A new round's planned dates must not lie before the day it opens
/// (`today`, `YYYY-MM-DD`); imported rounds are past and not checked.
pub fn check_schedule_from(r: &RoundRecord, today: &str) -> Result<(), RoundRefusal> {
    let Some(today_date) = parse_date(today.get(..10).unwrap_or(today)) else {
        return input(format!("`{today}` is not a date"));
    };
    for (name, text) in [
        ("schedule.review", &r.schedule.review),
        ("schedule.voting", &r.schedule.voting),
        ("schedule.results", &r.schedule.results),
    ] {
        if let Some(text) = text
            && parse_date(text).is_some_and(|d| d < today_date)
        {
            return input(format!(
                "`{name}` ({text}) is before the round opens ({})",
                today_date
            ));
        }
    }
    Ok(())
}

/// Move the round to `to`: only the convenor, only the next phase, and only
/// when the phase being left is complete.
pub fn decide_phase(
    s: &RoundState,
    person: &str,
    is_convenor: bool,
    to: Phase,
    note: Option<String>,
) -> Result<EventBody, RoundRefusal> {
    if !is_convenor {
        return refuse(
            RefusalKind::Position,
            "round.convenor",
            format!(
                "only the round's convenor ({} of the council) changes its phase",
                s.record.convenor.position
            ),
            format!(
                "you hold the position `{}` in the convenor's organisation",
                s.record.convenor.position
            ),
        );
    }
    if s.phase.next() != Some(to) {
        return refuse(
            RefusalKind::Phase,
            "round.phase",
            match s.phase.next() {
                Some(n) => format!(
                    "the round is in the {} phase; it can only move on to {}",
                    s.phase.as_str(),
                    n.as_str()
                ),
                None => "the round has its results; it has no further phase".to_string(),
            },
            "phases go proposals → review → voting → results, one at a time",
        );
    }
    match s.phase {
        Phase::Proposals if s.proposals.is_empty() => {
            return refuse(
                RefusalKind::Rule,
                "round.phase",
                "no proposal has been submitted, so there is nothing to review",
                "at least one proposal has been submitted",
            );
        }
        Phase::Review => {
            let pending: Vec<String> = s
                .proposals
                .iter()
                .filter(|(_, p)| p.review.is_none())
                .map(|(n, _)| n.to_string())
                .collect();
            if !pending.is_empty() {
                return refuse(
                    RefusalKind::Rule,
                    "round.phase",
                    format!("proposal(s) {} are not reviewed yet", pending.join(", ")),
                    "the works department has reviewed every proposal",
                );
            }
            if s.on_ballot().next().is_none() {
                return refuse(
                    RefusalKind::Rule,
                    "round.phase",
                    "every proposal was rejected, so there is nothing to vote on",
                    "at least one proposal was found feasible",
                );
            }
        }
        Phase::Voting if s.ballots == 0 => {
            return refuse(
                RefusalKind::Rule,
                "round.phase",
                "no ballot has been cast, so there is nothing to count",
                "at least one ballot has been cast",
            );
        }
        _ => {}
    }
    Ok(EventBody::RoundPhaseChanged {
        round: s.record.id.clone(),
        from: s.phase,
        to,
        person: person.to_string(),
        note: note.filter(|n| !n.trim().is_empty()),
    })
}

fn check_location(s: &RoundState, l: &Location) -> Result<(), RoundRefusal> {
    non_empty("location.place", &l.place)?;
    if let Some(uc) = &l.union_council
        && !s.record.area.includes_union_council(uc)
    {
        return refuse(
            RefusalKind::Rule,
            "round.area",
            format!(
                "union council `{uc}` is not in this round's area ({})",
                s.record.area.describe()
            ),
            "the scheme is in the round's eligible area",
        );
    }
    if !s.record.area.union_councils.is_empty() && l.union_council.is_none() {
        return input(format!(
            "name the union council (one of: {})",
            s.record.area.union_councils.join(", ")
        ));
    }
    match (l.latitude, l.longitude) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return input("latitude and longitude must be degrees");
            }
            if let Some(b) = s.record.area.bounds
                && !b.contains(lat, lon)
            {
                return refuse(
                    RefusalKind::Rule,
                    "round.area",
                    format!("{lat}, {lon} is outside the round's area"),
                    "the scheme is in the round's eligible area",
                );
            }
        }
        (None, None) => {}
        _ => return input("give both latitude and longitude, or neither"),
    }
    Ok(())
}

/// A proposal names one of the arrangements the round allows (imported
/// rounds name none and allow any).
pub fn check_arrangement(s: &RoundState, id: &str, version: u32) -> Result<(), RoundRefusal> {
    if s.record.arrangement.is_empty() || s.record.allows(id, version) {
        return Ok(());
    }
    refuse(
        RefusalKind::Rule,
        "round.arrangement",
        format!(
            "this round's schemes run under {}; not under `{id}` version {version}",
            s.record
                .arrangements()
                .iter()
                .map(|a| format!("`{}` version {}", a.id, a.version))
                .collect::<Vec<_>>()
                .join(" or "),
        ),
        "the proposal names an arrangement the round allows",
    )
}

/// A proposal from a community organisation. `is_member` says whether the
/// person holds a position in `organisation`; `org_is_community` whether it
/// is a registered community organisation.
pub fn decide_proposal(
    s: &RoundState,
    person: &str,
    org_is_community: bool,
    is_member: bool,
    mut p: ProposalRecord,
) -> Result<EventBody, RoundRefusal> {
    in_phase(s, Phase::Proposals, "submitting a proposal")?;
    if !org_is_community {
        return refuse(
            RefusalKind::Rule,
            "round.proposer",
            "proposals come only from registered community organisations",
            "the proposing organisation is registered as a community organisation",
        );
    }
    if !is_member {
        return refuse(
            RefusalKind::Position,
            "round.proposer",
            "you hold no position in the proposing organisation",
            "you are a member of the organisation you propose for",
        );
    }
    non_empty("title", &p.title)?;
    non_empty("description", &p.description)?;
    if p.estimate <= 0 {
        return input("the estimate must be more than zero");
    }
    if p.estimate > s.record.budget {
        return refuse(
            RefusalKind::Rule,
            "round.budget",
            "the estimate is more than the round's whole budget",
            "the estimate is within the round's budget",
        );
    }
    check_arrangement(s, &p.arrangement, p.version)?;
    check_location(s, &p.location)?;
    p.number = s.proposals.keys().next_back().copied().unwrap_or(0) + 1;
    p.submitted_by = Some(person.to_string());
    p.source_id = None;
    Ok(EventBody::ProposalSubmitted {
        round: s.record.id.clone(),
        proposal: p,
    })
}

/// The works department's review of a proposal. A later review in the same
/// phase replaces an earlier one (the log keeps both).
pub fn decide_review(
    s: &RoundState,
    person: &str,
    is_reviewer: bool,
    number: u32,
    review: Review,
) -> Result<EventBody, RoundRefusal> {
    in_phase(s, Phase::Review, "reviewing a proposal")?;
    if !is_reviewer {
        return refuse(
            RefusalKind::Position,
            "round.reviewer",
            format!(
                "only the works department's `{}` reviews proposals",
                s.record.reviewer.position
            ),
            format!(
                "you hold the position `{}` in the reviewing organisation",
                s.record.reviewer.position
            ),
        );
    }
    if !s.proposals.contains_key(&number) {
        return refuse(
            RefusalKind::Input,
            "input",
            format!("this round has no proposal {number}"),
            "name a proposal of this round",
        );
    }
    match &review {
        Review::Feasible { cost, .. } if *cost <= 0 => {
            return input("a feasible proposal's cost must be more than zero");
        }
        Review::Feasible { cost, .. } if *cost > s.record.budget => {
            return refuse(
                RefusalKind::Rule,
                "round.budget",
                "the reviewed cost is more than the round's whole budget; reject it instead",
                "the reviewed cost is within the round's budget",
            );
        }
        Review::Rejected { reason } if reason.trim().is_empty() => {
            return input("a rejection needs a reason");
        }
        _ => {}
    }
    Ok(EventBody::ProposalReviewed {
        round: s.record.id.clone(),
        proposal: number,
        review,
        person: person.to_string(),
    })
}

/// A ballot. The caller has already made sure the voter (online) or the
/// serial number (paper) has not been used in this round; this checks the
/// ballot itself.
pub fn decide_ballot(
    s: &RoundState,
    mut approvals: Vec<u32>,
    union_council: Option<String>,
    method: Method,
) -> Result<EventBody, RoundRefusal> {
    in_phase(s, Phase::Voting, "voting")?;
    if approvals.is_empty() {
        return input("a ballot approves at least one proposal");
    }
    let mut seen = BTreeSet::new();
    for n in &approvals {
        if !seen.insert(*n) {
            return input(format!("proposal {n} is ticked twice"));
        }
        match s.proposals.get(n) {
            Some(p) if p.feasible_cost().is_some() => {}
            Some(_) => {
                return input(format!(
                    "proposal {n} was rejected in review and is not on the ballot"
                ));
            }
            None => return input(format!("this round has no proposal {n}")),
        }
    }
    if let Some(max) = s.record.max_choices
        && approvals.len() > max as usize
    {
        return input(format!(
            "a ballot approves at most {max} proposals; this one approves {}",
            approvals.len()
        ));
    }
    match &union_council {
        Some(uc) if !s.record.area.includes_union_council(uc) => {
            return refuse(
                RefusalKind::Rule,
                "round.area",
                format!(
                    "union council `{uc}` is not in this round's area ({})",
                    s.record.area.describe()
                ),
                "the voter lives in the round's eligible area",
            );
        }
        None if !s.record.area.union_councils.is_empty() => {
            return input(format!(
                "name the voter's union council (one of: {})",
                s.record.area.union_councils.join(", ")
            ));
        }
        _ => {}
    }
    if let Method::Paper { serial, entered_by } = &method {
        non_empty("serial", serial)?;
        non_empty("entered_by", entered_by)?;
    }
    approvals.sort_unstable();
    Ok(EventBody::BallotCast {
        round: s.record.id.clone(),
        ballot: BallotRecord {
            number: s.ballots + 1,
            approvals,
            union_council,
            method,
        },
    })
}

/// Record that a winner became a scheme.
pub fn decide_schemed(
    s: &RoundState,
    number: u32,
    initiative: &str,
    scheme: &str,
) -> Result<EventBody, RoundRefusal> {
    in_phase(s, Phase::Results, "turning winners into schemes")?;
    let Some(result) = &s.result else {
        return refuse(
            RefusalKind::Rule,
            "round.result",
            "the round has not been counted",
            "the round is counted",
        );
    };
    if !result.winners.contains(&number) {
        return refuse(
            RefusalKind::Rule,
            "round.result",
            format!("proposal {number} did not win"),
            "the proposal is among the winners",
        );
    }
    if s.proposals
        .get(&number)
        .and_then(|p| p.scheme.as_ref())
        .is_some()
    {
        return refuse(
            RefusalKind::Rule,
            "round.result",
            format!("proposal {number} is already a scheme"),
            "the winner is not a scheme yet",
        );
    }
    Ok(EventBody::RoundWinnerSchemed {
        round: s.record.id.clone(),
        proposal: number,
        initiative: initiative.to_string(),
        scheme: scheme.to_string(),
    })
}

/// Name who delivers a winner of an imported round (its convenor only):
/// a registered community organisation, and a member of it who will
/// perform the scheme's creating act. Only for winners that came without a
/// proposing organisation, and only before they are schemes.
pub fn decide_deliverer(
    s: &RoundState,
    is_convenor: bool,
    number: u32,
    org_is_community: bool,
    deliverer_is_member: bool,
    deliverer: Deliverer,
) -> Result<EventBody, RoundRefusal> {
    if !is_convenor {
        return refuse(
            RefusalKind::Position,
            "round.convenor",
            format!(
                "only the round's convenor ({} of the council) names who delivers a winner",
                s.record.convenor.position
            ),
            format!(
                "you hold the position `{}` in the convenor's organisation",
                s.record.convenor.position
            ),
        );
    }
    in_phase(s, Phase::Results, "naming who delivers a winner")?;
    let won = s
        .result
        .as_ref()
        .is_some_and(|r| r.winners.contains(&number));
    let Some(p) = s.proposals.get(&number).filter(|_| won) else {
        return refuse(
            RefusalKind::Rule,
            "round.result",
            format!("proposal {number} is not among the winners"),
            "the proposal is among the winners",
        );
    };
    if p.record.organisation.is_some() {
        return refuse(
            RefusalKind::Rule,
            "round.deliverer",
            format!(
                "proposal {number} was proposed by a registered organisation, which delivers it"
            ),
            "the winner came without a proposing organisation (an imported round)",
        );
    }
    if p.scheme.is_some() {
        return refuse(
            RefusalKind::Rule,
            "round.deliverer",
            format!("proposal {number} is already a scheme"),
            "the winner is not a scheme yet",
        );
    }
    non_empty("organisation", &deliverer.organisation)?;
    non_empty("person", &deliverer.person)?;
    if !org_is_community {
        return refuse(
            RefusalKind::Rule,
            "round.deliverer",
            "a winner is delivered by a registered community organisation",
            "the organisation is registered as a community organisation",
        );
    }
    if !deliverer_is_member {
        return refuse(
            RefusalKind::Rule,
            "round.deliverer",
            "the person named holds no position in that organisation",
            "the person is a member of the delivering organisation",
        );
    }
    Ok(EventBody::ProposalDelivererNamed {
        round: s.record.id.clone(),
        proposal: number,
        deliverer,
    })
}

/// A CNIC number as its 13 digits, or why it is not one. NADRA writes it
/// 5-7-1 (`35202-1234567-1`: locality, family, and a last digit odd for
/// men and even for women); that layout with its dashes, or the 13 digits
/// alone, is accepted, and nothing else (no spaces, no dashes elsewhere).
/// Only the form is checked: the number is not verified against NADRA's
/// records, and no checksum is public.
pub fn normalise_cnic(text: &str) -> Result<String, String> {
    const FORM: &str = "a CNIC number is 13 digits, written 35202-1234567-1 or 3520212345671";
    let t = text.trim();
    let digits = match t.len() {
        13 => t.to_string(),
        15 => {
            let b = t.as_bytes();
            if b[5] != b'-' || b[13] != b'-' {
                return Err(FORM.into());
            }
            format!("{}{}{}", &t[..5], &t[6..13], &t[14..])
        }
        _ => return Err(FORM.into()),
    };
    if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FORM.into());
    }
    Ok(digits)
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // rupees_paisa
mod tests {
    use super::*;

    fn office(p: &str) -> Office {
        Office {
            organisation: "council".into(),
            position: p.into(),
        }
    }

    fn round() -> RoundState {
        let record = RoundRecord {
            id: "r".into(),
            name: "Reserve 2025-26".into(),
            council: "council".into(),
            financial_year: Some("2025-26".into()),
            currency: "PKR".into(),
            budget: 1_000_000_00,
            area: Area {
                district: "Lodhran".into(),
                union_councils: vec!["UC-1".into(), "UC-2".into()],
                bounds: None,
            },
            rule: CountingRule::MesAdd1,
            seed: 7,
            convenor: office("ccb_official"),
            reviewer: office("works_engineer"),
            counter: office("ballot_clerk"),
            max_choices: Some(2),
            arrangement: "cost-sharing".into(),
            version: 1,
            other_arrangements: vec![ArrangementRef {
                id: "component-sharing".into(),
                version: 1,
            }],
            schedule: Schedule::default(),
            demo: false,
            imported_from: None,
            add1_step: None,
        };
        check_record(&record).unwrap();
        apply(None, &EventBody::RoundOpened { round: record }, "t0").unwrap()
    }

    fn proposal(title: &str, estimate: i64) -> ProposalRecord {
        ProposalRecord {
            number: 0,
            organisation: Some("ccb".into()),
            submitted_by: None,
            source_id: None,
            title: title.into(),
            description: "a drain".into(),
            estimate,
            location: Location {
                place: "Street 4".into(),
                union_council: Some("UC-1".into()),
                latitude: None,
                longitude: None,
            },
            arrangement: "cost-sharing".into(),
            version: 1,
            component: None,
            partners: BTreeMap::new(),
        }
    }

    fn step(s: RoundState, e: EventBody) -> RoundState {
        apply(Some(s), &e, "t").unwrap()
    }

    #[test]
    fn a_round_runs_its_phases_in_order_and_only_by_its_convenor() {
        let s = round();
        let early = decide_phase(&s, "p", true, Phase::Review, None).unwrap_err();
        assert_eq!(early.kind, RefusalKind::Rule, "no proposals yet");
        let e = decide_proposal(&s, "chair", true, true, proposal("Drain", 500_000_00)).unwrap();
        let s = step(s, e);
        assert_eq!(s.proposals[&1].record.number, 1);
        let skip = decide_phase(&s, "p", true, Phase::Voting, None).unwrap_err();
        assert_eq!(skip.kind, RefusalKind::Phase);
        let not_convenor = decide_phase(&s, "p", false, Phase::Review, None).unwrap_err();
        assert_eq!(not_convenor.kind, RefusalKind::Position);
        let s = step(
            s.clone(),
            decide_phase(&s, "p", true, Phase::Review, None).unwrap(),
        );
        assert_eq!(s.phase, Phase::Review);
        assert_eq!(s.phase_changes.len(), 1);
        // Proposals are closed now.
        let late = decide_proposal(&s, "chair", true, true, proposal("Late", 1)).unwrap_err();
        assert_eq!(late.kind, RefusalKind::Phase);
        let unreviewed = decide_phase(&s, "p", true, Phase::Voting, None).unwrap_err();
        assert!(unreviewed.message.contains("not reviewed"));
        let r = decide_review(
            &s,
            "eng",
            true,
            1,
            Review::Feasible {
                cost: 450_000_00,
                note: None,
            },
        )
        .unwrap();
        let s = step(s, r);
        let s = step(
            s.clone(),
            decide_phase(&s, "p", true, Phase::Voting, None).unwrap(),
        );
        let b = decide_ballot(&s, vec![1], Some("UC-2".into()), Method::Online).unwrap();
        let s = step(s, b);
        assert_eq!(s.ballots, 1);
        let s = step(
            s.clone(),
            decide_phase(&s, "p", true, Phase::Results, None).unwrap(),
        );
        assert!(decide_phase(&s, "p", true, Phase::Results, None).is_err());
    }

    #[test]
    fn proposals_come_from_members_of_community_organisations_in_the_area() {
        let s = round();
        let not_community = decide_proposal(&s, "x", false, true, proposal("A", 1)).unwrap_err();
        assert_eq!(not_community.rule, "round.proposer");
        let not_member = decide_proposal(&s, "x", true, false, proposal("A", 1)).unwrap_err();
        assert_eq!(not_member.kind, RefusalKind::Position);
        let mut outside = proposal("A", 1);
        outside.location.union_council = Some("UC-9".into());
        assert_eq!(
            decide_proposal(&s, "x", true, true, outside)
                .unwrap_err()
                .rule,
            "round.area"
        );
        let too_dear = decide_proposal(&s, "x", true, true, proposal("A", 2_000_000_00));
        assert_eq!(too_dear.unwrap_err().rule, "round.budget");
    }

    #[test]
    fn a_ballot_names_feasible_proposals_within_the_limit() {
        let mut s = round();
        for t in ["A", "B", "C"] {
            let e = decide_proposal(&s, "c", true, true, proposal(t, 100)).unwrap();
            s = step(s, e);
        }
        s.phase = Phase::Review;
        for n in [1, 2] {
            let e = decide_review(
                &s,
                "e",
                true,
                n,
                Review::Feasible {
                    cost: 100,
                    note: None,
                },
            )
            .unwrap();
            s = step(s, e);
        }
        let reject_without_reason =
            decide_review(&s, "e", true, 3, Review::Rejected { reason: " ".into() });
        assert_eq!(reject_without_reason.unwrap_err().kind, RefusalKind::Input);
        let e = decide_review(
            &s,
            "e",
            true,
            3,
            Review::Rejected {
                reason: "the land belongs to the railway".into(),
            },
        )
        .unwrap();
        s = step(s, e);
        s.phase = Phase::Voting;
        let uc = || Some("UC-1".to_string());
        assert!(
            decide_ballot(&s, vec![3], uc(), Method::Online).is_err(),
            "rejected"
        );
        assert!(decide_ballot(&s, vec![1, 1], uc(), Method::Online).is_err());
        assert!(decide_ballot(&s, vec![], uc(), Method::Online).is_err());
        assert!(decide_ballot(&s, vec![1, 2, 3], uc(), Method::Online).is_err());
        assert!(decide_ballot(&s, vec![9], uc(), Method::Online).is_err());
        assert!(decide_ballot(&s, vec![1], None, Method::Online).is_err());
        let ok = decide_ballot(&s, vec![2, 1], uc(), Method::Online).unwrap();
        let EventBody::BallotCast { ballot, .. } = ok else {
            panic!("a ballot")
        };
        assert_eq!(ballot.approvals, vec![1, 2]);
        assert_eq!(ballot.number, 1);
    }

    #[test]
    fn a_proposal_runs_under_an_arrangement_the_round_allows() {
        let s = round();
        let mut lane = proposal("Lane sewer", 100);
        lane.arrangement = "component-sharing".into();
        assert!(decide_proposal(&s, "c", true, true, lane.clone()).is_ok());
        lane.version = 2;
        let refused = decide_proposal(&s, "c", true, true, lane).unwrap_err();
        assert_eq!(refused.rule, "round.arrangement");
        let mut water = proposal("Tube well", 100);
        water.arrangement = "community-managed-water".into();
        assert_eq!(
            decide_proposal(&s, "c", true, true, water)
                .unwrap_err()
                .rule,
            "round.arrangement"
        );
    }

    #[test]
    fn a_schedule_is_dates_in_phase_order_from_the_opening_day() {
        let mut r = round().record;
        r.schedule = Schedule {
            review: Some("2026-03-01".into()),
            voting: Some("2026-04-01".into()),
            results: Some("2026-04-30".into()),
        };
        check_record(&r).unwrap();
        check_schedule_from(&r, "2026-02-02T09:00:00Z").unwrap();
        assert!(
            check_schedule_from(&r, "2026-03-02").is_err(),
            "review in the past"
        );
        r.schedule.voting = Some("2026-02-28".into());
        assert!(check_record(&r).unwrap_err().message.contains("after"));
        r.schedule.voting = Some("2026-02-30".into());
        assert!(check_record(&r).unwrap_err().message.contains("not a date"));
        r.schedule.voting = None;
        check_record(&r).unwrap();
        r.other_arrangements.push(ArrangementRef {
            id: "cost-sharing".into(),
            version: 1,
        });
        assert!(check_record(&r).unwrap_err().message.contains("twice"));
    }

    #[test]
    fn older_round_records_serialise_as_they_did() {
        // Rounds stored before the schedule and the arrangement choice
        // existed must hash the same: empty new fields are not written.
        let mut r = round().record;
        r.other_arrangements.clear();
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("schedule") && !text.contains("other_arrangements"));
        let back: RoundRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn cnic_numbers_are_thirteen_digits_in_nadras_layout() {
        assert_eq!(normalise_cnic("35202-1234567-1").unwrap(), "3520212345671");
        assert_eq!(normalise_cnic(" 3520212345671 ").unwrap(), "3520212345671");
        for bad in [
            "35202-1234567",
            "3520212345671x",
            "352021234567-1",
            "3520-21234567-1",
            "35202 1234567 1",
            "35202-1234567-12",
            "35202--234567-1",
            "35202-12345a7-1",
            "٣٥٢٠٢-١٢٣٤٥٦٧-١",
            "",
        ] {
            assert!(normalise_cnic(bad).is_err(), "{bad:?} is not a CNIC number");
        }
    }
}
