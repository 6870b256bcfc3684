//! One initiative's diagnosis: its conditions as a profile, the weak ones,
//! the evidence behind each, and what the rules say should happen next.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use super::conditions::{self, Anchors, ConditionScore};
use super::digest::Digest;
use super::indicators::{Context, Indicator, ObligationStatus, ObligationTrack, Sides, Tracker};
use crate::arrangement::{Arrangement, humanise_position, rule_in_words};
use crate::engine::parse_time;

/// What the rules say a position should do now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextStep {
    pub condition: String,
    pub position: String,
    pub position_name: String,
    pub scheme: String,
    pub obligation: String,
    pub rule: String,
    /// The rule in plain words.
    pub rule_in_words: String,
    /// `open` (not yet due), `overdue` (still open past its deadline) or
    /// `breached`.
    pub status: String,
    pub due: String,
    pub days_overdue: i64,
    /// What the rule says happens, or happened, when it is not met.
    pub consequence: Option<String>,
    /// The events behind it.
    pub events: Vec<i64>,
}

/// The diagnosis of one initiative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub at: String,
    pub indicators: Vec<Indicator>,
    /// The six conditions then the outcome.
    pub conditions: Vec<ConditionScore>,
    /// Conditions with membership below 0.5.
    pub weak: Vec<String>,
    /// Breached obligations per condition (the failures behind a weakness).
    pub breached: BTreeMap<String, Vec<ObligationTrack>>,
    pub next_steps: Vec<NextStep>,
}

fn condition_of(sides: &Sides, position: &str) -> &'static str {
    if sides.political(position) {
        "political_commitment"
    } else if sides.bureaucratic(position) {
        "bureaucratic_commitment"
    } else if sides.community(position) {
        "community_willingness"
    } else {
        // Third-sector positions: the process the arrangement sets up.
        "formal_structures"
    }
}

/// Summarises a tracker into a diagnosis at `now`, calibrating with
/// `calibrate` (the caller's direct method) and `overrides`.
pub fn diagnose(
    arr: &Arrangement,
    ctx: &Context,
    tracker: &Tracker,
    now: OffsetDateTime,
    overrides: &BTreeMap<String, Anchors>,
    calibrate: &dyn Fn(f64, &Anchors) -> Result<f64, String>,
) -> Result<Diagnosis, String> {
    let indicators = tracker.indicators(arr, ctx, now);
    summarise(
        arr,
        indicators,
        tracker.obligation_map(),
        now,
        overrides,
        calibrate,
    )
}

/// [`diagnose`] from a fold's [`Digest`]: the same diagnosis, without
/// reading the whole tracker back.
pub fn diagnose_digest(
    arr: &Arrangement,
    ctx: &Context,
    digest: Digest,
    now: OffsetDateTime,
    overrides: &BTreeMap<String, Anchors>,
    calibrate: &dyn Fn(f64, &Anchors) -> Result<f64, String>,
) -> Result<Diagnosis, String> {
    let (indicators, obligations) = digest.into_parts(arr, ctx, now);
    summarise(arr, indicators, &obligations, now, overrides, calibrate)
}

/// Calibration, weak conditions, breaches and next steps from the
/// indicators at `now` and the obligations.
fn summarise(
    arr: &Arrangement,
    indicators: Vec<Indicator>,
    obligations: &BTreeMap<String, ObligationTrack>,
    now: OffsetDateTime,
    overrides: &BTreeMap<String, Anchors>,
    calibrate: &dyn Fn(f64, &Anchors) -> Result<f64, String>,
) -> Result<Diagnosis, String> {
    let scores = conditions::calibrate(&indicators, overrides, calibrate)?;
    let weak: Vec<String> = scores
        .iter()
        .filter(|c| c.is_weak())
        .map(|c| c.condition.clone())
        .collect();
    let sides = Sides::of(arr);
    let mut breached: BTreeMap<String, Vec<ObligationTrack>> = BTreeMap::new();
    let mut next_steps = vec![];
    // An obligation escalated onwards is superseded by its escalation; the
    // step to take is the latest one in each chain.
    let superseded: std::collections::BTreeSet<&str> = obligations
        .values()
        .filter_map(|o| o.escalated_from.as_deref())
        .collect();
    for o in obligations.values() {
        let cond = condition_of(&sides, &o.position);
        let due = parse_time(&o.due);
        let overdue = due.is_some_and(|d| now > d);
        let status = match o.status {
            ObligationStatus::Breached => "breached",
            ObligationStatus::Open if overdue => "overdue",
            ObligationStatus::Open => "open",
            _ => continue,
        };
        if o.status == ObligationStatus::Breached {
            breached
                .entry(cond.to_string())
                .or_default()
                .push(o.clone());
        }
        if superseded.contains(o.id.as_str()) {
            continue;
        }
        let rule = arr.file.rules.iter().find(|r| r.id == o.rule);
        let consequence = o.consequence.clone().or_else(|| {
            rule.and_then(|r| r.or_else.as_ref()).map(|e| {
                let mut parts = vec![];
                if let Some(to) = &e.escalate_to {
                    parts.push(format!(
                        "it passes to the {}",
                        humanise_position(&arr.file, to.as_ref())
                    ));
                }
                if let Some(t) = &e.transition {
                    parts.push(format!(
                        "the scheme becomes \"{}\"",
                        t.as_ref().replace('_', " ")
                    ));
                }
                if let Some(p) = &e.penalty {
                    parts.push(p.clone());
                }
                parts.join("; ")
            })
        });
        next_steps.push(NextStep {
            condition: cond.to_string(),
            position: o.position.clone(),
            position_name: humanise_position(&arr.file, &o.position),
            scheme: o.scheme.clone(),
            obligation: o.id.clone(),
            rule: o.rule.clone(),
            rule_in_words: rule.map(|r| rule_in_words(arr, r)).unwrap_or_default(),
            status: status.to_string(),
            due: o.due.clone(),
            days_overdue: due.map(|d| (now - d).whole_days().max(0)).unwrap_or(0),
            consequence,
            events: o.events.clone(),
        });
    }
    // Most overdue first; open ones by their deadline.
    next_steps.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.due.cmp(&b.due))
    });
    Ok(Diagnosis {
        at: crate::engine::rfc3339(now),
        indicators,
        conditions: scores,
        weak,
        breached,
        next_steps,
    })
}
