//! The engine: given an arrangement, the state of a scheme, who is acting
//! and what they ask to do, decide — refuse with the rule that refuses, or
//! return the events that record the act and its consequences (signatures,
//! stage changes, obligations opened, met or lapsed).
//!
//! `sweep` does the same for the passing of time: obligations past their
//! due date are breached and their or-else applied.
//!
//! Nothing here knows which arrangement it runs: every decision comes from
//! the file.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::arrangement::words::{
    Arg, Conj, English, Line, Name, Phrase, Piece, render_arg, render_line,
};
use crate::arrangement::*;
use crate::duration::Period;
use crate::event::EventBody;
use crate::facts::{self, Fact, Facts, Scope};
use crate::model::{Component, Household, Meeting, OrgFacts};

/// An initiative as the engine sees it.
#[derive(Debug, Clone, Default)]
pub struct InitiativeState {
    pub id: String,
    /// Partner role → facts about the organisation bound to it.
    pub partners: BTreeMap<String, OrgFacts>,
    /// Position → people holding it.
    pub positions_filled: BTreeMap<String, i64>,
    /// Schemes of this initiative in an executing stage, with their ids.
    pub executing_schemes: BTreeSet<String>,
    /// What ledger entries are checked against beyond their scheme: receipt
    /// numbers used in the initiative, room left in allocations.
    pub ledger: crate::ledger::InitiativeLedger,
}

/// An obligation that is still open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenObligation {
    pub id: String,
    pub rule: String,
    pub position: String,
    pub action: String,
    pub stage: String,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    pub escalated_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub action: String,
    pub position: String,
    pub person: String,
}

/// A scheme as the engine sees it: a fold of the scheme's events (`apply`),
/// kept as a projection and rebuilt from the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemeState {
    pub id: String,
    pub name: String,
    pub stage: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last entry into each stage the scheme has been in (RFC 3339).
    pub entered: BTreeMap<String, String>,
    pub components: Vec<Component>,
    pub households: i64,
    /// Ids of the households in the register.
    #[serde(default)]
    pub household_ids: BTreeSet<String>,
    /// What the scheme's ledger entries add up to (never the entries
    /// themselves: those are events, and rows in the store's
    /// `ledger_entries`).
    #[serde(default)]
    pub books: crate::ledger::Books,
    /// Meeting id → meeting.
    pub meetings: BTreeMap<String, Meeting>,
    /// Action → times performed.
    pub done: BTreeMap<String, i64>,
    /// Signatures towards the next occurrence of each signed action.
    pub signatures: Vec<Signature>,
    pub open_obligations: Vec<OpenObligation>,
    /// How many child records (obligations, meetings, households) the scheme
    /// has had: their ids are numbered from it, so replay gives the same ids.
    pub counter: i64,
}

impl SchemeState {
    pub fn estimate(&self) -> i64 {
        self.components.iter().filter_map(|c| c.estimate).sum()
    }
}

/// Who is acting: a person and the positions they hold in this initiative.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub person: String,
    pub positions: BTreeSet<String>,
}

/// A component named when a scheme is created.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentInput {
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    /// In minor units.
    #[serde(default)]
    pub estimate: Option<i64>,
}

/// What the actor asks to do, with what the act records.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Act {
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
    /// For the creating act: the scheme's name and components.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub components: Vec<ComponentInput>,
    /// For acts that record a meeting.
    #[serde(default)]
    pub meeting: Option<Meeting>,
    /// For acts that register a household.
    #[serde(default)]
    pub household: Option<Household>,
    /// For acts that set estimates: component kind → amount in minor units.
    #[serde(default)]
    pub estimates: BTreeMap<String, i64>,
    /// For acts that need a resolution: the meeting that passed it.
    #[serde(default)]
    pub resolution_meeting: Option<String>,
    /// For acts that post a ledger entry.
    #[serde(default)]
    pub entry: Option<crate::ledger::EntryInput>,
}

/// Why an act was refused. Every refusal names the rule that refused it and
/// says in words what would allow the act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// `lifecycle.<action>`, `aggregation.<action>`, a choice rule's id, or
    /// `input` for malformed acts.
    pub rule: String,
    pub message: String,
    /// What would allow it.
    pub allowed_if: String,
    /// The same two sentences as data, for pages in other languages
    /// (`arrangement::words`); absent for refusals of malformed input.
    #[serde(skip)]
    pub words: Option<RefusalWords>,
}

impl Refusal {
    /// Whether the actor's positions are what stands in the way (rather
    /// than the stage, a condition or the input).
    pub fn for_lack_of_position(&self) -> bool {
        // Reports and scorecards word their own refusals, this way.
        self.message.starts_with("your positions (")
            || self.words.as_ref().is_some_and(|w| {
                matches!(w.message.first(), Some(Piece::Phrase(p))
                    if p.id == "refuse-position" || p.id == "refuse-no-position")
            })
    }
}

/// A refusal's message and what would allow the act, as sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalWords {
    pub message: Line,
    pub allowed_if: Line,
}

fn refuse(
    rule: impl Into<String>,
    message: impl Into<String>,
    allowed_if: impl Into<String>,
) -> Refusal {
    Refusal {
        rule: rule.into(),
        message: message.into(),
        allowed_if: allowed_if.into(),
        words: None,
    }
}

/// A refusal said in words: the English message is rendered from the same
/// sentences other languages render.
fn refuse_in_words(
    f: &ArrangementFile,
    rule: impl Into<String>,
    message: Line,
    allowed_if: Line,
) -> Refusal {
    let en = English(f);
    Refusal {
        rule: rule.into(),
        message: render_line(&en, &message),
        allowed_if: render_line(&en, &allowed_if),
        words: Some(RefusalWords {
            message,
            allowed_if,
        }),
    }
}

fn line(p: Phrase) -> Line {
    vec![Piece::Phrase(p)]
}

/// The result of an allowed act.
#[derive(Debug, Clone)]
pub struct Decision {
    pub events: Vec<EventBody>,
    /// False when the act was a signature that did not yet complete it.
    pub completed: bool,
}

fn days_between(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    (to - from).whole_days()
}

/// The core facts of a scheme at `now`, merged over `extra` (facts other
/// capabilities provide, such as the ledger's).
pub fn scheme_facts(
    init: &InitiativeState,
    scheme: Option<&SchemeState>,
    now: OffsetDateTime,
    extra: &Facts,
) -> Facts {
    let mut f = extra.clone();
    for (role, org) in &init.partners {
        f.set_keyed("members", role, Fact::Int(org.members));
        f.set_keyed("women_members", role, Fact::Int(org.women_members));
    }
    for (pos, n) in &init.positions_filled {
        f.set_keyed("positions_filled", pos, Fact::Int(*n));
    }
    let others = init
        .executing_schemes
        .iter()
        .filter(|s| Some(s.as_str()) != scheme.map(|s| s.id.as_str()))
        .count();
    f.set_field("initiative", "unfinished_schemes", Fact::Int(others as i64));
    if let Some(s) = scheme {
        f.set_field("scheme", "stage", Fact::Text(s.stage.clone()));
        f.set_field("scheme", "estimate", Fact::Int(s.estimate()));
        f.set_field("scheme", "households", Fact::Int(s.households));
        f.set_field("scheme", "meetings", Fact::Int(s.meetings.len() as i64));
        let attendance: i64 = s
            .meetings
            .values()
            .map(|m| m.attendance.total() as i64)
            .sum();
        let women: i64 = s.meetings.values().map(|m| m.attendance.women as i64).sum();
        f.set_field("scheme", "attendance", Fact::Int(attendance));
        f.set_field("scheme", "women_attendance", Fact::Int(women));
        let entered = s
            .entered
            .get(&s.stage)
            .and_then(|t| parse_time(t))
            .unwrap_or(s.created_at);
        f.set_field(
            "scheme",
            "days_in_stage",
            Fact::Int(days_between(entered, now)),
        );
        f.set_field(
            "scheme",
            "age_days",
            Fact::Int(days_between(s.created_at, now)),
        );
        for (action, n) in &s.done {
            f.set_keyed("done", action, Fact::Int(*n));
        }
        let mut approvals: BTreeMap<&str, i64> = BTreeMap::new();
        for sig in &s.signatures {
            *approvals.entry(sig.action.as_str()).or_default() += 1;
        }
        for (a, n) in approvals {
            f.set_keyed("approvals", a, Fact::Int(n));
        }
        let mut resolutions: BTreeMap<String, i64> = BTreeMap::new();
        for m in s.meetings.values() {
            for r in &m.resolutions {
                if let Some(a) = &r.action
                    && r.votes_for > r.votes_against
                {
                    *resolutions.entry(a.clone()).or_default() += 1;
                }
            }
        }
        for (a, n) in resolutions {
            f.set_keyed("resolutions", &a, Fact::Int(n));
        }
        for (stage, at) in &s.entered {
            if let Some(at) = parse_time(at) {
                f.set_keyed("days_since", stage, Fact::Int(days_between(at, now)));
            }
        }
    }
    f
}

/// Decide an act. `scheme` is `None` only for the act that creates one, in
/// which case `new_scheme_id` names it.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    arr: &Arrangement,
    init: &InitiativeState,
    scheme: Option<&SchemeState>,
    new_scheme_id: &str,
    actor: &Actor,
    act: &Act,
    now: OffsetDateTime,
    extra_facts: &Facts,
) -> Result<Decision, Refusal> {
    let f = &arr.file;
    let Some(action) = arr.action(&act.action) else {
        let known: Vec<&str> = f.actions.keys().map(String::as_str).collect();
        return Err(refuse(
            "input",
            format!(
                "`{}` is not an action of arrangement `{}`",
                act.action,
                arr.id()
            ),
            format!("use one of: {}", known.join(", ")),
        ));
    };
    let lifecycle_rule = format!("lifecycle.{}", act.action);
    // Stage.
    match (scheme, action.creates()) {
        (Some(_), true) => {
            return Err(refuse(
                lifecycle_rule,
                format!(
                    "to {} creates a new scheme; it cannot be done to an existing one",
                    action.name
                ),
                "create a new scheme instead",
            ));
        }
        (None, false) => {
            return Err(refuse(
                lifecycle_rule,
                format!("to {} needs an existing scheme", action.name),
                "name the scheme to act on",
            ));
        }
        (Some(s), false) if !action.allowed_in(&s.stage) => {
            let stages: Vec<Arg> = action
                .from
                .iter()
                .map(|s| Arg::Quoted(Name::Stage(s.as_ref().clone())))
                .collect();
            return Err(refuse_in_words(
                f,
                lifecycle_rule,
                line(
                    Phrase::new("refuse-stage")
                        .name("action", Name::Action(act.action.clone()))
                        .arg("stage", Arg::Quoted(Name::Stage(s.stage.clone()))),
                ),
                line(
                    Phrase::new("refuse-stage-allowed").arg("stages", Arg::List(stages, Conj::Or)),
                ),
            ));
        }
        _ => {}
    }
    let stage = scheme.map(|s| s.stage.as_str());
    let mut facts = scheme_facts(init, scheme, now, extra_facts);
    // The catalogue promises -1 for a stage never entered, not the zero a
    // missing key would read as (which would mean "entered today").
    for st in &f.lifecycle.stages {
        if !scheme.is_some_and(|s| s.entered.contains_key(st.as_ref())) {
            facts.set_keyed("days_since", st.as_ref(), Fact::Int(-1));
        }
    }
    let applies_now = |r: &ChoiceRule| match (stage, &r.stages) {
        (Some(st), Some(list)) => list.iter().any(|s| s.as_ref() == st),
        _ => true,
    };

    // Permission: a may/must rule naming one of the actor's positions.
    let permitting: Vec<&ChoiceRule> = arr
        .rules_for(&act.action)
        .filter(|r| r.deontic != Deontic::MustNot && applies_now(r))
        .collect();
    let mine: Vec<&ChoiceRule> = permitting
        .iter()
        .copied()
        .filter(|r| Arrangement::attribute_matches(r.attribute.as_ref(), &actor.positions))
        .collect();
    if mine.is_empty() {
        let who: Vec<Arg> = permitting
            .iter()
            .map(|r| {
                Phrase::new("who-rule")
                    .name("who", Name::Position(r.attribute.as_ref().clone()))
                    .code("rule", &r.id)
                    .boxed()
            })
            .collect();
        let rule = permitting
            .first()
            .map(|r| r.id.clone())
            .unwrap_or_else(|| lifecycle_rule.clone());
        let what = Name::Action(act.action.clone());
        let message = if actor.positions.is_empty() {
            Phrase::new("refuse-no-position").name("action", what)
        } else {
            Phrase::new("refuse-position")
                .arg(
                    "held",
                    Arg::List(
                        actor
                            .positions
                            .iter()
                            .map(|p| Arg::Name(Name::Position(p.clone())))
                            .collect(),
                        Conj::Comma,
                    ),
                )
                .name("action", what)
        };
        let allowed = if who.is_empty() {
            Phrase::new("refuse-no-rule")
        } else {
            Phrase::new("refuse-only").arg("who", Arg::List(who, Conj::Or))
        };
        return Err(refuse_in_words(f, rule, line(message), line(allowed)));
    }
    let mut allowed_by: Vec<&ChoiceRule> = vec![];
    let mut first_unmet: Option<(&ChoiceRule, String)> = None;
    for r in &mine {
        match &r.condition {
            None => allowed_by.push(r),
            Some(c) => match facts::evaluate(c.as_ref(), &facts, Scope::Scheme, false) {
                Ok(true) => allowed_by.push(r),
                Ok(false) => {
                    first_unmet.get_or_insert((r, format!("`{}` is not met", c.as_ref())));
                }
                Err(e) => {
                    first_unmet.get_or_insert((
                        r,
                        format!("`{}` could not be evaluated: {e}", c.as_ref()),
                    ));
                }
            },
        }
    }
    if allowed_by.is_empty() {
        let (r, why) = first_unmet.expect("a rule of mine exists and none allowed");
        let condition = r
            .condition
            .as_ref()
            .map(|c| c.as_ref().clone())
            .unwrap_or_default();
        let allowed = match &r.explain {
            Some(e) => vec![Piece::Text(Name::Text {
                key: format!("rule.{}", r.id),
                english: e.clone(),
            })],
            None => line(Phrase::new("condition-must-hold").code("condition", &condition)),
        };
        if why.ends_with("is not met") {
            return Err(refuse_in_words(
                f,
                r.id.clone(),
                line(
                    Phrase::new("refuse-condition")
                        .code("rule", &r.id)
                        .name("action", Name::Action(act.action.clone()))
                        .code("condition", &condition),
                ),
                allowed,
            ));
        }
        return Err(refuse(
            r.id.clone(),
            format!(
                "rule `{}` does not allow you to {} yet: its condition {why}",
                r.id, action.name
            ),
            render_line(&English(f), &allowed),
        ));
    }
    // Prohibitions.
    for r in arr
        .rules_for(&act.action)
        .filter(|r| r.deontic == Deontic::MustNot && applies_now(r))
    {
        if !Arrangement::attribute_matches(r.attribute.as_ref(), &actor.positions) {
            continue;
        }
        let holds = match &r.condition {
            None => true,
            Some(c) => facts::evaluate(c.as_ref(), &facts, Scope::Scheme, false).unwrap_or(true),
        };
        if holds {
            let allowed = match &r.explain {
                Some(e) => vec![Piece::Text(Name::Text {
                    key: format!("rule.{}", r.id),
                    english: e.clone(),
                })],
                None => line(Phrase::new("condition-no-longer")),
            };
            return Err(refuse_in_words(
                f,
                r.id.clone(),
                line(
                    Phrase::new("refuse-forbidden")
                        .code("rule", &r.id)
                        .name("who", Name::Position(r.attribute.as_ref().clone()))
                        .name("action", Name::Action(act.action.clone())),
                ),
                allowed,
            ));
        }
    }

    // What the act records.
    let mut events = vec![];
    let mut counter = scheme.map(|s| s.counter).unwrap_or(0);
    let scheme_id = scheme
        .map(|s| s.id.clone())
        .unwrap_or_else(|| new_scheme_id.to_string());
    let mut next_id = |prefix: &str| {
        counter += 1;
        format!("{scheme_id}-{prefix}{counter}")
    };
    let validate_meeting = |m: &Meeting| -> Result<(), Refusal> {
        if !f.partners.contains_key(&m.body) {
            return Err(refuse(
                "input",
                format!("meeting body `{}` is not a partner role", m.body),
                format!(
                    "use one of: {}",
                    f.partners.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if time::Date::parse(
            &m.held_on,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_err()
        {
            return Err(refuse(
                "input",
                format!("`{}` is not a date (YYYY-MM-DD)", m.held_on),
                "give the date the meeting was held",
            ));
        }
        for r in &m.resolutions {
            if let Some(a) = &r.action
                && !f.actions.contains_key(a)
            {
                return Err(refuse(
                    "input",
                    format!("resolution names `{a}`, which is not an action"),
                    "name an action of the arrangement or none",
                ));
            }
            if (r.votes_for + r.votes_against + r.abstentions) > m.attendance.total() {
                return Err(refuse(
                    "input",
                    format!(
                        "resolution \"{}\" has more votes than people present",
                        r.motion
                    ),
                    "votes cannot exceed attendance",
                ));
            }
        }
        Ok(())
    };
    match action.records {
        Some(RecordKind::Meeting) => {
            let Some(m) = &act.meeting else {
                return Err(refuse(
                    "input",
                    format!(
                        "to {} needs the meeting: body, date held, attendance and resolutions",
                        action.name
                    ),
                    "include `meeting`",
                ));
            };
            validate_meeting(m)?;
        }
        Some(RecordKind::Household) => {
            let Some(h) = &act.household else {
                return Err(refuse(
                    "input",
                    format!("to {} needs the household: its house number", action.name),
                    "include `household`",
                ));
            };
            if h.house.trim().is_empty() {
                return Err(refuse(
                    "input",
                    "a household needs a house number",
                    "give the house number",
                ));
            }
        }
        Some(RecordKind::Estimate) => {
            if act.estimates.is_empty() {
                return Err(refuse(
                    "input",
                    format!("to {} needs an estimate for each component", action.name),
                    "include `estimates`: component kind → amount in paisa",
                ));
            }
            let kinds: BTreeSet<&str> = scheme
                .map(|s| s.components.iter().map(|c| c.kind.as_str()).collect())
                .unwrap_or_default();
            for (k, v) in &act.estimates {
                if !kinds.contains(k.as_str()) {
                    return Err(refuse(
                        "input",
                        format!("`{k}` is not a component of this scheme"),
                        format!(
                            "estimate these components: {}",
                            kinds.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                if *v <= 0 {
                    return Err(refuse(
                        "input",
                        format!("the estimate for `{k}` must be more than zero"),
                        "give a positive amount in paisa",
                    ));
                }
            }
        }
        Some(k) if k.is_ledger() => {
            let Some(input) = &act.entry else {
                return Err(refuse(
                    "input",
                    format!(
                        "to {} needs the entry: role, amount (or quantity and rate), receipt number",
                        action.name
                    ),
                    "include `entry`",
                ));
            };
            let s = scheme.ok_or_else(|| refuse("input", "a ledger entry needs a scheme", ""))?;
            crate::ledger::check_entry(arr, &init.ledger, s, k, input, now.date())?;
        }
        // Responses and scorecards belong to one report or round, which
        // the generic act cannot name; they have their own decisions
        // (`reports::respond`, `scorecard`).
        Some(k @ (RecordKind::Response | RecordKind::Scorecard)) => {
            let (on, how) = if k == RecordKind::Response {
                (
                    "report",
                    "respond through the report (Open311 request) it answers",
                )
            } else {
                ("scorecard round", "use the scheme's scorecard rounds")
            };
            return Err(refuse(
                "input",
                format!("to {} is done on its {on}", action.name),
                how,
            ));
        }
        Some(_) | None => {}
    }

    // Aggregation.
    if let Some(agg) = f.aggregation.get(&act.action) {
        let agg_rule = format!("aggregation.{}", act.action);
        if let Some(sig) = &agg.signatures {
            let s =
                scheme.ok_or_else(|| refuse(agg_rule.clone(), "signatures need a scheme", ""))?;
            let so_far: Vec<&Signature> = s
                .signatures
                .iter()
                .filter(|x| x.action == act.action)
                .collect();
            if so_far.iter().any(|x| x.person == actor.person) {
                let names = sig
                    .of
                    .iter()
                    .map(|p| Arg::Name(Name::Position(p.as_ref().clone())))
                    .collect();
                return Err(refuse_in_words(
                    f,
                    agg_rule,
                    line(
                        Phrase::new("refuse-signed")
                            .name("action", Name::Action(act.action.clone())),
                    ),
                    line(
                        Phrase::new("refuse-sign-allowed").arg("names", Arg::List(names, Conj::Or)),
                    ),
                ));
            }
            let signed_positions: BTreeSet<&str> =
                so_far.iter().map(|x| x.position.as_str()).collect();
            let Some(position) = sig.of.iter().map(|p| p.as_ref().as_str()).find(|p| {
                Arrangement::attribute_matches(p, &actor.positions) && !signed_positions.contains(p)
            }) else {
                let names: Vec<Arg> = sig
                    .of
                    .iter()
                    .map(|p| Arg::Name(Name::Position(p.as_ref().clone())))
                    .collect();
                return Err(refuse_in_words(
                    f,
                    agg_rule,
                    line(
                        Phrase::new("refuse-not-signer")
                            .name("action", Name::Action(act.action.clone()))
                            .arg("names", Arg::List(names.clone(), Conj::Comma)),
                    ),
                    line(
                        Phrase::new("refuse-sign-allowed").arg("names", Arg::List(names, Conj::Or)),
                    ),
                ));
            };
            let position = if position.ends_with(".*") {
                actor
                    .positions
                    .iter()
                    .find(|p| {
                        Arrangement::attribute_matches(position, &BTreeSet::from([(*p).clone()]))
                    })
                    .cloned()
                    .unwrap_or_default()
            } else {
                position.to_string()
            };
            let needed = sig.at_least.unwrap_or(sig.of.len() as u32);
            let given = so_far.len() as u32 + 1;
            let mut positions_after: BTreeSet<&str> = signed_positions.clone();
            positions_after.insert(&position);
            let includes = sig
                .must_include
                .iter()
                .all(|p| positions_after.contains(p.as_ref().as_str()));
            events.push(EventBody::SignatureGiven {
                scheme: s.id.clone(),
                action: act.action.clone(),
                position: position.clone(),
                person: actor.person.clone(),
                given,
                needed,
            });
            if given < needed || !includes {
                return Ok(Decision {
                    events,
                    completed: false,
                });
            }
        }
        if let Some(res) = &agg.resolution {
            let s = scheme
                .ok_or_else(|| refuse(agg_rule.clone(), "a resolution needs a scheme", ""))?;
            let body_name = f
                .partners
                .get(res.body.as_ref())
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let Some(mid) = &act.resolution_meeting else {
                return Err(refuse(
                    agg_rule,
                    format!(
                        "to {} needs a resolution of a meeting of the {body_name}",
                        action.name
                    ),
                    "record the meeting and its resolution, then name it in `resolution_meeting`",
                ));
            };
            let Some(m) = s.meetings.get(mid) else {
                return Err(refuse(
                    agg_rule,
                    format!("meeting `{mid}` is not recorded for this scheme"),
                    "name a meeting recorded for this scheme",
                ));
            };
            if m.body != *res.body.as_ref() {
                return Err(refuse(
                    agg_rule,
                    format!("meeting `{mid}` was of the {}, not the {body_name}", m.body),
                    format!("the resolution must be passed by the {body_name}"),
                ));
            }
            let Some(r) = m
                .resolutions
                .iter()
                .find(|r| r.action.as_deref() == Some(act.action.as_str()))
            else {
                return Err(refuse(
                    agg_rule,
                    format!("meeting `{mid}` passed no resolution to {}", action.name),
                    "a resolution naming this action must be voted",
                ));
            };
            let members = init
                .partners
                .get(res.body.as_ref())
                .map(|o| o.members)
                .unwrap_or(0);
            let quorum_bp = parse_percent(res.quorum.as_ref()).unwrap_or(5000) as i64;
            if (m.attendance.total() as i64) * 10_000 < quorum_bp * members {
                return Err(refuse(
                    agg_rule,
                    format!(
                        "the meeting was not quorate: {} of {members} members attended; {} are needed",
                        m.attendance.total(),
                        res.quorum.as_ref()
                    ),
                    format!(
                        "hold a meeting attended by at least {} of the {body_name}'s members",
                        res.quorum.as_ref()
                    ),
                ));
            }
            let passed = match res.majority {
                Majority::Simple => r.votes_for > r.votes_against,
                Majority::TwoThirds => {
                    r.votes_for * 3 >= (r.votes_for + r.votes_against) * 2 && r.votes_for > 0
                }
                Majority::Consensus => r.votes_against == 0 && r.votes_for > 0,
            };
            if !passed {
                return Err(refuse(
                    agg_rule,
                    format!(
                        "the resolution \"{}\" did not carry: {} for, {} against",
                        r.motion, r.votes_for, r.votes_against
                    ),
                    "the resolution needs the majority the aggregation rule sets",
                ));
            }
        }
    }

    // The act itself.
    let rules: Vec<String> = allowed_by.iter().map(|r| r.id.clone()).collect();
    let positions: Vec<String> = allowed_by
        .iter()
        .flat_map(|r| {
            actor
                .positions
                .iter()
                .filter(|p| {
                    Arrangement::attribute_matches(
                        r.attribute.as_ref(),
                        &BTreeSet::from([(*p).clone()]),
                    )
                })
                .cloned()
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Both branches record several events before settling the new stage.
    #[allow(clippy::needless_late_init)]
    let new_stage: Option<String>;
    if action.creates() {
        let name = act
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                refuse(
                    "input",
                    "a new scheme needs a name (e.g. \"Street 7, Fauji Colony\")",
                    "include `name`",
                )
            })?;
        if act.components.is_empty() {
            return Err(refuse(
                "input",
                "a new scheme needs at least one component",
                format!(
                    "name components of kinds: {}",
                    f.components.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let mut components = vec![];
        let mut seen = BTreeSet::new();
        for c in &act.components {
            let Some(scope) = f.components.get(&c.kind) else {
                return Err(refuse(
                    "input",
                    format!("`{}` is not a component kind of this arrangement", c.kind),
                    format!(
                        "use one of: {}",
                        f.components.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            if !seen.insert(c.kind.clone()) {
                return Err(refuse(
                    "input",
                    format!("component `{}` is named twice", c.kind),
                    "name each component once",
                ));
            }
            if c.estimate.is_some_and(|e| e <= 0) {
                return Err(refuse(
                    "input",
                    format!("the estimate for `{}` must be more than zero", c.kind),
                    "give a positive amount in paisa",
                ));
            }
            components.push(Component {
                kind: c.kind.clone(),
                domain: scope.domain,
                delivered_by: scope.delivered_by.as_ref().clone(),
                estimate: c.estimate,
                description: c.description.clone(),
            });
        }
        let to = action
            .to
            .as_ref()
            .map(|t| t.as_ref().clone())
            .unwrap_or_default();
        events.push(EventBody::SchemeCreated {
            scheme: scheme_id.clone(),
            name,
            action: act.action.clone(),
            stage: to.clone(),
            components,
            positions,
            note: act.note.clone(),
        });
        new_stage = Some(to);
    } else {
        let s = scheme.expect("checked above");
        let to = action.to.as_ref().map(|t| t.as_ref().clone());
        events.push(EventBody::ActPerformed {
            scheme: s.id.clone(),
            action: act.action.clone(),
            from: s.stage.clone(),
            to: to.clone(),
            positions,
            rules,
            note: act.note.clone(),
        });
        if let Some(m) = &act.meeting
            && action.records == Some(RecordKind::Meeting)
        {
            events.push(EventBody::MeetingRecorded {
                meeting: next_id("m"),
                scheme: Some(s.id.clone()),
                record: m.clone(),
            });
        }
        if let Some(h) = &act.household
            && action.records == Some(RecordKind::Household)
        {
            events.push(EventBody::HouseholdRegistered {
                household: next_id("h"),
                scheme: s.id.clone(),
                record: h.clone(),
            });
        }
        if let (Some(k), Some(input)) = (action.records, &act.entry)
            && k.is_ledger()
        {
            let line = crate::ledger::check_entry(arr, &init.ledger, s, k, input, now.date())?;
            events.push(EventBody::LedgerEntryPosted {
                entry: next_id("e"),
                scheme: s.id.clone(),
                line,
            });
        }
        if action.records == Some(RecordKind::Estimate) {
            events.push(EventBody::EstimateSet {
                scheme: s.id.clone(),
                estimates: act.estimates.clone(),
            });
        }
        // Obligations this act meets.
        for o in s.open_obligations.iter().filter(|o| o.action == act.action) {
            events.push(EventBody::ObligationMet {
                obligation: o.id.clone(),
                scheme: s.id.clone(),
                late: now > o.due,
            });
        }
        new_stage = to;
    }
    if let Some(to) = new_stage {
        let from = stage.unwrap_or_default().to_string();
        let open: Vec<OpenObligation> = scheme
            .map(|s| s.open_obligations.clone())
            .unwrap_or_default();
        events.extend(enter_stage(
            arr,
            &scheme_id,
            &from,
            &to,
            &open,
            &act.action,
            now,
            &mut next_id,
        ));
    }
    Ok(Decision {
        events,
        completed: true,
    })
}

/// Obligations lapse when their stage is left, and open for the new stage.
#[allow(clippy::too_many_arguments)]
fn enter_stage(
    arr: &Arrangement,
    scheme: &str,
    from: &str,
    to: &str,
    open: &[OpenObligation],
    met_by: &str,
    now: OffsetDateTime,
    next_id: &mut dyn FnMut(&str) -> String,
) -> Vec<EventBody> {
    let mut events = vec![];
    for o in open
        .iter()
        .filter(|o| o.stage == from && o.action != met_by)
    {
        events.push(EventBody::ObligationLapsed {
            obligation: o.id.clone(),
            scheme: scheme.into(),
            reason: format!(
                "the scheme moved from \"{}\" to \"{}\" before it was done",
                from.replace('_', " "),
                to.replace('_', " ")
            ),
        });
    }
    for r in arr.file.rules.iter().filter(|r| r.deontic == Deontic::Must) {
        let Some(within) = r.within else { continue };
        if arr.rule_stages(r).contains(&to) {
            events.push(EventBody::ObligationOpened {
                obligation: next_id("o"),
                scheme: scheme.into(),
                rule: r.id.clone(),
                position: r.attribute.as_ref().clone(),
                action: r.aim.as_ref().clone(),
                stage: to.into(),
                due: rfc3339(now + within.as_duration()),
                escalated_from: None,
            });
        }
    }
    events
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// The passing of time: every open obligation past due is breached and its
/// or-else applied. Escalated obligations are breached without a further
/// escalation, so a chain of escalations always ends.
pub fn sweep(arr: &Arrangement, scheme: &SchemeState, now: OffsetDateTime) -> Vec<EventBody> {
    let f = &arr.file;
    let mut events = vec![];
    let mut counter = scheme.counter;
    let mut next_id = |prefix: &str| {
        counter += 1;
        format!("{}-{prefix}{counter}", scheme.id)
    };
    let mut stage = scheme.stage.clone();
    let mut open = scheme.open_obligations.clone();
    open.sort_by(|a, b| a.due.cmp(&b.due).then(a.id.cmp(&b.id)));
    let mut closed: BTreeSet<String> = BTreeSet::new();
    for o in open.clone() {
        if o.due >= now || closed.contains(&o.id) {
            continue;
        }
        let Some(rule) = f.rules.iter().find(|r| r.id == o.rule) else {
            continue;
        };
        let or_else = if o.escalated_from.is_none() {
            rule.or_else.as_ref()
        } else {
            None
        };
        let en = English(f);
        let consequence: Vec<String> = consequence_line(f, rule, o.escalated_from.is_some())
            .iter()
            .map(|a| render_arg(&en, a))
            .collect();
        events.push(EventBody::ObligationBreached {
            obligation: o.id.clone(),
            scheme: scheme.id.clone(),
            rule: o.rule.clone(),
            position: o.position.clone(),
            consequence: consequence.join("; "),
        });
        closed.insert(o.id.clone());
        let Some(oe) = or_else else { continue };
        if let Some(p) = &oe.escalate_to {
            let within = oe.within.or(rule.within).unwrap_or(Period::from_days(7));
            let escalated = OpenObligation {
                id: next_id("o"),
                rule: o.rule.clone(),
                position: p.as_ref().clone(),
                action: o.action.clone(),
                stage: o.stage.clone(),
                due: now + within.as_duration(),
                escalated_from: Some(o.id.clone()),
            };
            events.push(EventBody::ObligationOpened {
                obligation: escalated.id.clone(),
                scheme: scheme.id.clone(),
                rule: escalated.rule.clone(),
                position: escalated.position.clone(),
                action: escalated.action.clone(),
                stage: escalated.stage.clone(),
                due: rfc3339(escalated.due),
                escalated_from: escalated.escalated_from.clone(),
            });
            // Open from here on: if this sweep also moves the stage, the
            // escalated duty lapses with the stage it belongs to.
            open.push(escalated);
        }
        if let Some(t) = &oe.transition
            && *t.as_ref() != stage
        {
            events.push(EventBody::StageChanged {
                scheme: scheme.id.clone(),
                from: stage.clone(),
                to: t.as_ref().clone(),
                cause: format!("or-else of rule `{}`", o.rule),
            });
            let still_open: Vec<OpenObligation> = open
                .iter()
                .filter(|x| !closed.contains(&x.id))
                .cloned()
                .collect();
            let follow = enter_stage(
                arr,
                &scheme.id,
                &stage,
                t.as_ref(),
                &still_open,
                "",
                now,
                &mut next_id,
            );
            for e in &follow {
                if let EventBody::ObligationLapsed { obligation, .. } = e {
                    closed.insert(obligation.clone());
                }
            }
            events.extend(follow);
            stage = t.as_ref().clone();
        }
    }
    open.retain(|o| !closed.contains(&o.id));
    events
}

/// The acts this actor could take on this scheme now, and for the others a
/// reason they are not available — what a form page shows.
pub fn available_acts(
    arr: &Arrangement,
    init: &InitiativeState,
    scheme: &SchemeState,
    actor: &Actor,
    now: OffsetDateTime,
    extra: &Facts,
) -> Vec<(String, Result<(), Refusal>)> {
    arr.file
        .actions
        .iter()
        .filter(|(_, a)| !a.creates() && a.allowed_in(&scheme.stage))
        .map(|(id, _)| {
            // Probe with a minimal act: input checks are not the question here.
            let probe = Act {
                action: id.clone(),
                ..Act::default()
            };
            let r = match decide(arr, init, Some(scheme), "", actor, &probe, now, extra) {
                Ok(_) => Ok(()),
                Err(r) if r.rule == "input" || r.rule.starts_with("aggregation.") => {
                    if r.message.contains("you hold none") || r.message.contains("already signed") {
                        Err(r)
                    } else {
                        Ok(())
                    }
                }
                Err(r) => Err(r),
            };
            (id.clone(), r)
        })
        .collect()
}

/// Fold one event into a scheme's state. `None` starts a scheme from its
/// `scheme_created` event. Events about other schemes, or that do not touch
/// scheme state, leave it unchanged. Used both live and by `rebuild`, so the
/// two cannot disagree.
pub fn apply(state: Option<SchemeState>, event: &EventBody, at: &str) -> Option<SchemeState> {
    let at_time = parse_time(at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut s = match (state, event) {
        (
            None,
            EventBody::SchemeCreated {
                scheme,
                name,
                stage,
                components,
                ..
            },
        ) => {
            return Some(SchemeState {
                id: scheme.clone(),
                name: name.clone(),
                stage: stage.clone(),
                created_at: at_time,
                entered: BTreeMap::from([(stage.clone(), at.to_string())]),
                components: components.clone(),
                households: 0,
                household_ids: BTreeSet::new(),
                books: Default::default(),
                meetings: BTreeMap::new(),
                done: BTreeMap::new(),
                signatures: vec![],
                open_obligations: vec![],
                counter: 0,
            });
        }
        (None, _) => return None,
        (Some(s), _) => s,
    };
    if event.scheme() != Some(s.id.as_str()) {
        return Some(s);
    }
    // Child ids are numbered from `counter`; keep it past every id seen.
    let mut bump = |id: &str| {
        if let Some(n) = id.rsplit('-').next().and_then(|tail| {
            tail.trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse::<i64>()
                .ok()
        }) {
            s.counter = s.counter.max(n);
        }
    };
    match event {
        EventBody::ActPerformed { action, to, .. } => {
            *s.done.entry(action.clone()).or_default() += 1;
            s.signatures.retain(|x| x.action != *action);
            if let Some(to) = to {
                // Signatures were given for acts at the stage being left; they
                // do not carry over if the scheme ever returns to it.
                s.signatures.clear();
                s.stage = to.clone();
                s.entered.insert(to.clone(), at.to_string());
            }
        }
        EventBody::StageChanged { to, .. } => {
            s.signatures.clear();
            s.stage = to.clone();
            s.entered.insert(to.clone(), at.to_string());
        }
        EventBody::SignatureGiven {
            action,
            position,
            person,
            ..
        } => {
            s.signatures.push(Signature {
                action: action.clone(),
                position: position.clone(),
                person: person.clone(),
            });
        }
        EventBody::MeetingRecorded {
            meeting, record, ..
        } => {
            bump(meeting);
            s.meetings.insert(meeting.clone(), record.clone());
        }
        EventBody::HouseholdRegistered { household, .. } => {
            bump(household);
            s.households += 1;
            s.household_ids.insert(household.clone());
        }
        EventBody::ReportFiled { report, .. } => bump(report),
        EventBody::ScorecardOpened { round, .. } => bump(round),
        EventBody::LedgerEntryPosted { entry, line, .. } => {
            bump(entry);
            s.books.post(line);
        }
        EventBody::EstimateSet { estimates, .. } => {
            for c in &mut s.components {
                if let Some(v) = estimates.get(&c.kind) {
                    c.estimate = Some(*v);
                }
            }
        }
        EventBody::ObligationOpened {
            obligation,
            rule,
            position,
            action,
            stage,
            due,
            escalated_from,
            ..
        } => {
            bump(obligation);
            s.open_obligations.push(OpenObligation {
                id: obligation.clone(),
                rule: rule.clone(),
                position: position.clone(),
                action: action.clone(),
                stage: stage.clone(),
                due: parse_time(due).unwrap_or(at_time),
                escalated_from: escalated_from.clone(),
            });
        }
        EventBody::ObligationMet { obligation, .. }
        | EventBody::ObligationLapsed { obligation, .. }
        | EventBody::ObligationBreached { obligation, .. } => {
            s.open_obligations.retain(|o| o.id != *obligation);
        }
        _ => {}
    }
    Some(s)
}
