//! Community scorecards: users and providers of a scheme's service score it
//! on criteria agreed at a meeting, the scores are compared, and the
//! actions agreed at the interface meeting become obligations.
//!
//! A round is three kinds of event on the initiative's chain: it is opened
//! with its criteria (`scorecard_opened`), each group's scores are recorded
//! (`scorecard_scored`; women and men separately, and the providers), and
//! the agreed actions close it (`scorecard_actions_agreed`, each followed
//! by an `obligation_opened` for the position named, due on the agreed
//! date). Who may do these is the arrangement's: the action with
//! `records = "scorecard"` and the rules for it.
//!
//! The arithmetic is exact: a mean is a fraction, rounded once, half up, to
//! tenths. The users' score of a criterion is the mean of the user groups'
//! means, so that a small group (often the women's) weighs as much as a
//! large one — the point of scoring separately.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::arrangement::{Arrangement, ChoiceRule, Deontic, RecordKind};
use crate::engine::{Actor, Refusal, SchemeState, rfc3339};
use crate::event::EventBody;

/// A criterion agreed at the meeting that opened the round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub code: String,
    pub name: String,
}

/// The round as opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// The service assessed, in words ("lane sewer and its maintenance").
    pub service: String,
    /// The date of the meeting that agreed the criteria (YYYY-MM-DD).
    pub held_on: String,
    /// The recorded meeting, if any.
    #[serde(default)]
    pub meeting: Option<String>,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Users,
    Providers,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Users => "users",
            Party::Providers => "providers",
        }
    }
}

/// One group's scores: criterion code → the scores its members gave (1–5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupScores {
    /// e.g. "women", "men", "providers".
    pub group: String,
    pub party: Party,
    pub scores: BTreeMap<String, Vec<u8>>,
}

/// An action agreed at the interface meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreedAction {
    pub action: String,
    /// The position that owes it (`role.position`).
    pub position: String,
    /// YYYY-MM-DD: due by the end of that day (UTC).
    pub due: String,
    #[serde(default)]
    pub criterion: Option<String>,
    /// The obligation that tracks it.
    pub obligation: String,
}

/// A round as folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundState {
    pub id: String,
    pub scheme: String,
    pub opened_at: String,
    pub record: RoundRecord,
    /// Group → its scores; a group scoring again replaces its scores.
    pub groups: BTreeMap<String, GroupScores>,
    pub actions: Vec<AgreedAction>,
    pub closed: bool,
}

/// Fold one event into a round. `None` starts it from `scorecard_opened`.
pub fn apply(state: Option<RoundState>, event: &EventBody, at: &str) -> Option<RoundState> {
    match (state, event) {
        (
            None,
            EventBody::ScorecardOpened {
                round,
                scheme,
                record,
            },
        ) => Some(RoundState {
            id: round.clone(),
            scheme: scheme.clone(),
            opened_at: at.to_string(),
            record: record.clone(),
            groups: BTreeMap::new(),
            actions: vec![],
            closed: false,
        }),
        (Some(mut s), EventBody::ScorecardScored { round, scores, .. }) if *round == s.id => {
            s.groups.insert(scores.group.clone(), scores.clone());
            Some(s)
        }
        (Some(mut s), EventBody::ScorecardActionsAgreed { round, actions, .. })
            if *round == s.id =>
        {
            s.actions.extend(actions.iter().cloned());
            s.closed = true;
            Some(s)
        }
        (s, _) => s,
    }
}

/// The round an event is about, if it is a scorecard event.
pub fn round_of(event: &EventBody) -> Option<&str> {
    match event {
        EventBody::ScorecardOpened { round, .. }
        | EventBody::ScorecardScored { round, .. }
        | EventBody::ScorecardActionsAgreed { round, .. } => Some(round),
        _ => None,
    }
}

// ── Arithmetic ──

/// A mean of integer scores, exactly: `sum / n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    fn tenths(self) -> i64 {
        // round(10 * num / den), half up, for non-negative values.
        ((20 * self.num + self.den) / (2 * self.den)) as i64
    }
}

fn mean_of(values: impl IntoIterator<Item = Ratio>) -> Option<Ratio> {
    let mut acc = Ratio { num: 0, den: 1 };
    let mut n = 0i128;
    for v in values {
        acc = Ratio {
            num: acc.num * v.den + v.num * acc.den,
            den: acc.den * v.den,
        };
        let g = gcd(acc.num, acc.den);
        acc = Ratio {
            num: acc.num / g,
            den: acc.den / g,
        };
        n += 1;
    }
    (n > 0).then_some(Ratio {
        num: acc.num,
        den: acc.den * n,
    })
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

fn group_mean(scores: &[u8]) -> Option<Ratio> {
    (!scores.is_empty()).then(|| Ratio {
        num: scores.iter().map(|&s| s as i128).sum(),
        den: scores.len() as i128,
    })
}

/// The mean of scores in tenths (37 = 3.7), rounded half up; `None` for none.
pub fn mean_tenths(scores: &[u8]) -> Option<i64> {
    group_mean(scores).map(Ratio::tenths)
}

/// One criterion's result in one round. Scores are in tenths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionResult {
    pub criterion: String,
    pub name: String,
    /// Group → mean score (tenths) and how many scored.
    pub groups: BTreeMap<String, (i64, usize)>,
    /// Mean of the user groups' means.
    pub users: Option<i64>,
    /// Mean of the provider groups' means.
    pub providers: Option<i64>,
    /// Users minus providers: negative when providers rate the service
    /// higher than its users do.
    pub gap: Option<i64>,
}

/// Aggregate a round: per criterion, each group's mean, the users' and the
/// providers' scores and the gap between them.
pub fn aggregate(round: &RoundState) -> Vec<CriterionResult> {
    round
        .record
        .criteria
        .iter()
        .map(|c| {
            let mut groups = BTreeMap::new();
            let mut by_party: BTreeMap<Party, Vec<Ratio>> = BTreeMap::new();
            for g in round.groups.values() {
                let Some(scores) = g.scores.get(&c.code) else {
                    continue;
                };
                if let Some(m) = group_mean(scores) {
                    groups.insert(g.group.clone(), (m.tenths(), scores.len()));
                    by_party.entry(g.party).or_default().push(m);
                }
            }
            let party = |p: Party| {
                by_party
                    .get(&p)
                    .and_then(|v| mean_of(v.iter().copied()))
                    .map(Ratio::tenths)
            };
            let users = party(Party::Users);
            let providers = party(Party::Providers);
            CriterionResult {
                criterion: c.code.clone(),
                name: c.name.clone(),
                groups,
                users,
                providers,
                gap: users.zip(providers).map(|(u, p)| u - p),
            }
        })
        .collect()
}

/// One line of the results over rounds: a criterion, a party or group, a
/// score in tenths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultRow {
    pub round: String,
    pub held_on: String,
    pub criterion: String,
    pub criterion_name: String,
    /// `users`, `providers`, or a group's name.
    pub who: String,
    pub score_tenths: i64,
    /// Change in tenths since the previous round that scored the same
    /// criterion for the same party or group.
    pub change_tenths: Option<i64>,
}

/// Results over rounds, oldest first: users, providers and each group, per
/// criterion, with the change since the previous round.
pub fn over_rounds(rounds: &[RoundState]) -> Vec<ResultRow> {
    let mut ordered: Vec<&RoundState> = rounds.iter().collect();
    ordered.sort_by(|a, b| {
        (
            a.record.held_on.as_str(),
            a.opened_at.as_str(),
            a.id.as_str(),
        )
            .cmp(&(
                b.record.held_on.as_str(),
                b.opened_at.as_str(),
                b.id.as_str(),
            ))
    });
    let mut last: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut rows = vec![];
    for r in ordered {
        for c in aggregate(r) {
            let mut entries: Vec<(String, i64)> = vec![];
            if let Some(u) = c.users {
                entries.push(("users".into(), u));
            }
            if let Some(p) = c.providers {
                entries.push(("providers".into(), p));
            }
            for (g, (m, _)) in &c.groups {
                entries.push((g.clone(), *m));
            }
            for (who, score) in entries {
                let key = (c.criterion.clone(), who.clone());
                let change = last.get(&key).map(|prev| score - prev);
                last.insert(key, score);
                rows.push(ResultRow {
                    round: r.id.clone(),
                    held_on: r.record.held_on.clone(),
                    criterion: c.criterion.clone(),
                    criterion_name: c.name.clone(),
                    who,
                    score_tenths: score,
                    change_tenths: change,
                });
            }
        }
    }
    rows
}

/// Tenths as a decimal: 37 → "3.7".
pub fn tenths_text(t: i64) -> String {
    format!("{}.{}", t / 10, (t % 10).abs())
}

/// Results over rounds as CSV (scores as decimals).
pub fn csv(rows: &[ResultRow]) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record([
        "round",
        "held_on",
        "criterion",
        "criterion_name",
        "who",
        "score",
        "change",
    ]);
    for r in rows {
        let _ = w.write_record([
            r.round.as_str(),
            r.held_on.as_str(),
            r.criterion.as_str(),
            r.criterion_name.as_str(),
            r.who.as_str(),
            &tenths_text(r.score_tenths),
            &r.change_tenths.map(tenths_text).unwrap_or_default(),
        ]);
    }
    w.into_inner()
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

// ── Decisions ──

fn refuse(rule: &str, message: impl Into<String>, allowed_if: impl Into<String>) -> Refusal {
    Refusal {
        rule: rule.into(),
        message: message.into(),
        allowed_if: allowed_if.into(),
        words: None,
    }
}

/// The action that records scorecards and the rules that let this actor
/// take it.
fn permitted<'a>(
    arr: &'a Arrangement,
    actor: &Actor,
) -> Result<(&'a str, Vec<&'a ChoiceRule>), Refusal> {
    let Some((action, def)) = arr
        .file
        .actions
        .iter()
        .find(|(_, a)| a.records == Some(RecordKind::Scorecard))
    else {
        return Err(refuse(
            "input",
            format!("arrangement `{}` has no scorecard action", arr.id()),
            "add an action with records = \"scorecard\" to the arrangement",
        ));
    };
    let rules: Vec<&ChoiceRule> = arr
        .rules_for(action)
        .filter(|r| r.deontic != Deontic::MustNot)
        .filter(|r| Arrangement::attribute_matches(r.attribute.as_ref(), &actor.positions))
        .collect();
    if rules.is_empty() {
        let who: Vec<String> = arr
            .rules_for(action)
            .filter(|r| r.deontic != Deontic::MustNot)
            .map(|r| r.attribute.as_ref().clone())
            .collect();
        let rule = arr
            .rules_for(action)
            .next()
            .map(|r| r.id.clone())
            .unwrap_or_else(|| format!("lifecycle.{action}"));
        return Err(refuse(
            &rule,
            format!(
                "your positions ({}) do not allow you to {}",
                held(actor),
                def.name
            ),
            format!("only {} may do this", who.join(" or ")),
        ));
    }
    Ok((action.as_str(), rules))
}

fn is_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn code_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Open a round on `scheme` with the criteria agreed at its meeting.
pub fn open_round(
    arr: &Arrangement,
    scheme: &SchemeState,
    actor: &Actor,
    record: RoundRecord,
) -> Result<(String, Vec<EventBody>), Refusal> {
    permitted(arr, actor)?;
    if record.service.trim().is_empty() {
        return Err(refuse(
            "input",
            "a round needs the service it assesses",
            "give `service`",
        ));
    }
    if is_date(&record.held_on).is_none() {
        return Err(refuse(
            "input",
            format!("`{}` is not a date (YYYY-MM-DD)", record.held_on),
            "give the date the criteria were agreed",
        ));
    }
    if let Some(m) = &record.meeting
        && !scheme.meetings.contains_key(m)
    {
        return Err(refuse(
            "input",
            format!("meeting `{m}` is not recorded for this scheme"),
            "name a meeting recorded for the scheme, or none",
        ));
    }
    if record.criteria.is_empty() {
        return Err(refuse(
            "input",
            "a round needs at least one criterion",
            "give the criteria agreed at the meeting",
        ));
    }
    let mut seen = BTreeSet::new();
    for c in &record.criteria {
        if !code_ok(&c.code) || c.name.trim().is_empty() {
            return Err(refuse(
                "input",
                format!(
                    "criterion `{}` needs a code of lowercase letters, digits and _ and a name",
                    c.code
                ),
                "give each criterion a code and a name",
            ));
        }
        if !seen.insert(c.code.as_str()) {
            return Err(refuse(
                "input",
                format!("criterion `{}` is named twice", c.code),
                "name each criterion once",
            ));
        }
    }
    let round = format!("{}-c{}", scheme.id, scheme.counter + 1);
    Ok((
        round.clone(),
        vec![EventBody::ScorecardOpened {
            round,
            scheme: scheme.id.clone(),
            record,
        }],
    ))
}

/// Record one group's scores.
pub fn score(
    arr: &Arrangement,
    round: &RoundState,
    actor: &Actor,
    scores: GroupScores,
) -> Result<Vec<EventBody>, Refusal> {
    permitted(arr, actor)?;
    if round.closed {
        return Err(refuse(
            "lifecycle.scorecard",
            format!("round {} is closed: its actions were agreed", round.id),
            "open a new round",
        ));
    }
    if !code_ok(&scores.group) {
        return Err(refuse(
            "input",
            format!(
                "group `{}` needs a name of lowercase letters, digits and _",
                scores.group
            ),
            "name the group, e.g. women, men, providers",
        ));
    }
    if scores.scores.is_empty() {
        return Err(refuse(
            "input",
            "no scores given",
            "give scores for the round's criteria",
        ));
    }
    let criteria: BTreeSet<&str> = round
        .record
        .criteria
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    for (c, list) in &scores.scores {
        if !criteria.contains(c.as_str()) {
            return Err(refuse(
                "input",
                format!("`{c}` is not a criterion of this round"),
                format!(
                    "score these criteria: {}",
                    criteria.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if list.is_empty() || list.iter().any(|s| !(1..=5).contains(s)) {
            return Err(refuse(
                "input",
                format!("scores for `{c}` must be whole numbers from 1 to 5"),
                "score 1 (very bad) to 5 (very good)",
            ));
        }
    }
    Ok(vec![EventBody::ScorecardScored {
        round: round.id.clone(),
        scheme: round.scheme.clone(),
        scores,
    }])
}

/// An action as agreed, before it is given an obligation.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ActionInput {
    pub action: String,
    pub position: String,
    pub due: String,
    #[serde(default)]
    pub criterion: Option<String>,
}

/// Record the actions agreed at the interface meeting and open an
/// obligation for each; the round is closed to further scores.
pub fn agree_actions(
    arr: &Arrangement,
    scheme: &SchemeState,
    round: &RoundState,
    actor: &Actor,
    actions: Vec<ActionInput>,
    now: OffsetDateTime,
) -> Result<Vec<EventBody>, Refusal> {
    let (action, rules) = permitted(arr, actor)?;
    if round.closed {
        return Err(refuse(
            "lifecycle.scorecard",
            format!("round {} is closed: its actions were agreed", round.id),
            "open a new round",
        ));
    }
    if round.groups.is_empty() {
        return Err(refuse(
            "lifecycle.scorecard",
            "no group has scored yet",
            "record the users' and providers' scores first",
        ));
    }
    if actions.is_empty() {
        return Err(refuse(
            "input",
            "no actions given",
            "give the actions agreed at the meeting",
        ));
    }
    let mut counter = scheme.counter;
    let mut agreed = vec![];
    let mut obligations = vec![];
    for a in actions {
        if a.action.trim().is_empty() {
            return Err(refuse(
                "input",
                "an agreed action needs words",
                "say what was agreed",
            ));
        }
        if !arr.file.positions.contains_key(&a.position) {
            return Err(refuse(
                "input",
                format!("`{}` is not a position of this arrangement", a.position),
                format!(
                    "use one of: {}",
                    arr.file
                        .positions
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let Some(day) = is_date(&a.due) else {
            return Err(refuse(
                "input",
                format!("`{}` is not a date (YYYY-MM-DD)", a.due),
                "give the date it is due",
            ));
        };
        let due = day.next_day().unwrap_or(day).midnight().assume_utc();
        if due <= now {
            return Err(refuse(
                "input",
                format!("{} is already past", a.due),
                "give a date still to come",
            ));
        }
        if let Some(c) = &a.criterion
            && !round.record.criteria.iter().any(|x| x.code == *c)
        {
            return Err(refuse(
                "input",
                format!("`{c}` is not a criterion of this round"),
                "name one of the round's criteria, or none",
            ));
        }
        counter += 1;
        let obligation = format!("{}-o{counter}", scheme.id);
        obligations.push(EventBody::ObligationOpened {
            obligation: obligation.clone(),
            scheme: scheme.id.clone(),
            rule: rules[0].id.clone(),
            position: a.position.clone(),
            action: action.to_string(),
            stage: format!("scorecard:{}", round.id),
            due: rfc3339(due),
            escalated_from: None,
        });
        agreed.push(AgreedAction {
            action: a.action.trim().to_string(),
            position: a.position,
            due: a.due,
            criterion: a.criterion,
            obligation,
        });
    }
    let mut events = vec![EventBody::ScorecardActionsAgreed {
        round: round.id.clone(),
        scheme: scheme.id.clone(),
        actions: agreed,
    }];
    events.extend(obligations);
    Ok(events)
}

/// Record that an agreed action was carried out: allowed to the position
/// that owes it and to those who may hold scorecard rounds.
pub fn action_done(
    arr: &Arrangement,
    scheme: &SchemeState,
    round: &RoundState,
    actor: &Actor,
    obligation: &str,
    now: OffsetDateTime,
) -> Result<Vec<EventBody>, Refusal> {
    let Some(a) = round.actions.iter().find(|a| a.obligation == obligation) else {
        return Err(refuse(
            "input",
            format!(
                "`{obligation}` is not an action agreed in round {}",
                round.id
            ),
            "name one of the round's agreed actions",
        ));
    };
    let owes = Arrangement::attribute_matches(&a.position, &actor.positions);
    if !owes {
        permitted(arr, actor)?;
    }
    let Some(o) = scheme.open_obligations.iter().find(|o| o.id == obligation) else {
        return Err(refuse(
            "lifecycle.scorecard",
            format!("the obligation `{obligation}` is no longer open"),
            "nothing more to record for it",
        ));
    };
    Ok(vec![EventBody::ObligationMet {
        obligation: o.id.clone(),
        scheme: scheme.id.clone(),
        late: now > o.due,
    }])
}

/// The actor's positions in words, as the engine's refusals give them (the
/// web layer maps "your positions (…)" to 403).
fn held(actor: &Actor) -> String {
    if actor.positions.is_empty() {
        "no position in this initiative".to_string()
    } else {
        actor
            .positions
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests;
