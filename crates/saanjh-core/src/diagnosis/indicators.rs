//! Indicators from the event log, maintained incrementally.
//!
//! A [`Tracker`] folds one initiative's events in chain order. Scheme state
//! goes through the engine's own fold ([`engine::apply`]), so the figures
//! here are the figures the rules see; what the engine does not keep (who
//! recorded an entry, when an obligation closed, the event ids behind each
//! number) the tracker keeps beside it. [`Tracker::indicators`] summarises
//! at `now`; at every change of month the tracker keeps a snapshot, which is
//! the indicator's value over time.
//!
//! Which partner roles are "government" and "community" comes from the
//! arrangement (`partners.*.kinds`): a role whose organisations are public is
//! the government side; positions filled by election are political, the
//! other government positions bureaucratic.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::words::{detail as dt, partners};
use crate::arrangement::Arrangement;
use crate::arrangement::words::Phrase;
use crate::arrangement::{Deontic, FilledBy, RecordKind};
use crate::engine::{self, SchemeState, parse_time};
use crate::event::EventBody;
use crate::ledger::budget::YearFigures;
use crate::ledger::{self, Means, figures};
use crate::model::OrgKind;

/// One event of an initiative's chain, as the tracker needs it.
#[derive(Debug, Clone)]
pub struct DiagEvent {
    /// The event's sequence number in the initiative's chain (its id there).
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The person who acted.
    pub actor: String,
    pub body: EventBody,
}

/// What the log of one initiative does not say about it.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Position (`role.position`) → people holding it (from the registry).
    pub positions_filled: BTreeMap<String, i64>,
    /// The government reserve the initiative draws on, year by year (from
    /// the ledger's budget module), when the arrangement declares one and
    /// allocations are on record.
    pub reserve: Option<Vec<YearFigures>>,
}

/// One measured indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Stable id, `condition.name`.
    pub id: String,
    /// The condition it feeds.
    pub condition: String,
    pub name: String,
    /// How it is computed, in words.
    pub definition: String,
    /// `share` (0–1), `days`, `count` or `per_scheme`.
    pub unit: String,
    /// `None` when the initiative gives nothing to measure (no households,
    /// no reserve, no obligations due yet).
    pub value: Option<f64>,
    /// The figures behind the value, in English words ("7 of 9 met on
    /// time").
    pub detail: String,
    /// The same as a message id and its figures, for other languages
    /// (`super::words`).
    pub detail_phrase: Phrase,
    /// Sequence numbers of the events it was computed from.
    pub events: Vec<i64>,
    /// Value at the end of each month with events (`YYYY-MM`), oldest first.
    pub over_time: Vec<(String, Option<f64>)>,
    /// For an indicator the arrangement defines: its value on each scheme
    /// it was measured on (the initiative's value is their mean).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_scheme: Vec<(String, f64)>,
    /// `built-in` or `arrangement` (defined in the arrangement file).
    pub defined_by: &'static str,
    /// The anchors the arrangement states for it, if it defines it.
    #[serde(skip)]
    pub anchors: Option<super::conditions::Anchors>,
}

/// Ids of the built-in indicators, in the order they are reported (an
/// arrangement's own indicators may not take these names; a test checks
/// the list against the tracker).
pub const BUILT_IN_INDICATORS: &[&str] = &[
    "bureaucratic_commitment.obligations_breached",
    "bureaucratic_commitment.obligations_on_time",
    "bureaucratic_commitment.median_delay_days",
    "bureaucratic_commitment.worst_delay_days",
    "bureaucratic_commitment.supervision_visits",
    "political_commitment.elected_obligations_on_time",
    "political_commitment.reserve_utilisation",
    "political_commitment.external_works_delivered",
    "community_willingness.households_paying",
    "community_willingness.share_paid",
    "community_willingness.meetings_per_scheme",
    "community_willingness.women_share",
    "community_willingness.labour_days",
    "community_willingness.obligations_on_time",
    "community_willingness.tariff_collection",
    "trust.collector_not_spender",
    "trust.entries_reversed",
    "trust.reports_resolved",
    "trust.open_meetings",
    "trust.repeat_schemes",
    "formal_structures.positions_filled",
    "formal_structures.rules_with_sanctions",
    "formal_structures.agreements_signed",
    "formal_structures.bodies_meeting",
    "resources.estimate_funded",
    "resources.schemes_short",
    "service_delivered_and_sustained.schemes_delivered",
    "service_delivered_and_sustained.schemes_sustained",
];

/// Where an obligation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationStatus {
    Open,
    Met,
    MetLate,
    Breached,
    Lapsed,
}

/// An obligation as the tracker keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObligationTrack {
    pub id: String,
    pub scheme: String,
    pub rule: String,
    pub position: String,
    pub action: String,
    pub opened: String,
    pub due: String,
    pub closed: Option<String>,
    pub status: ObligationStatus,
    pub escalated_from: Option<String>,
    pub consequence: Option<String>,
    /// Events that opened and closed it.
    pub events: Vec<i64>,
}

impl ObligationTrack {
    /// Days past the deadline: when it closed, or `now` if still open; 0 if
    /// on time. `None` for an obligation not yet due or lapsed (its reason
    /// went away, so it says nothing about commitment).
    fn lateness(&self, now: OffsetDateTime) -> Option<f64> {
        let due = parse_time(&self.due)?;
        let end = match self.status {
            ObligationStatus::Lapsed => return None,
            ObligationStatus::Open if now <= due => return None,
            ObligationStatus::Open | ObligationStatus::Breached => {
                // A breach closes the obligation for its holder, but the work
                // is still not done: lateness keeps growing.
                now
            }
            ObligationStatus::Met | ObligationStatus::MetLate => {
                self.closed.as_deref().and_then(parse_time).unwrap_or(now)
            }
        };
        Some(((end - due).whole_hours().max(0) as f64) / 24.0)
    }

    fn met_on_time(&self) -> bool {
        self.status == ObligationStatus::Met
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ActTrack {
    scheme: String,
    action: String,
    positions: Vec<String>,
    seq: i64,
}

/// What the indicators read of a ledger entry. Not the whole
/// [`ledger::LedgerLine`]: receipts, payees, purposes and the like are never
/// read here, and an initiative has hundreds of entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EntryTrack {
    kind: String,
    role: String,
    means: Means,
    /// Whether the entry names a household.
    household: bool,
    quantity: Option<i64>,
    reversed_kind: Option<String>,
    actor: String,
    seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MeetingTrack {
    body: String,
    women: u32,
    total: u32,
    seq: i64,
}

/// The layout of [`Tracker::to_snapshot`]'s text. A kept snapshot of
/// another format is not read but folded again; bump it whenever the
/// tracker's fields or what it folds change, or the layout of the
/// [`super::digest::Digest`] kept beside it. 2: the digest was added; 3:
/// its monthly series as one text per indicator.
pub const SNAPSHOT_FORMAT: i64 = 3;

/// A map with non-string keys, as a list of pairs (JSON keys are strings).
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// Month snapshots with each value as its IEEE bits: JSON's decimal floats
/// need not read back to the same bits, and a kept tracker must summarise
/// exactly as a fresh fold does.
mod history_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    type History = Vec<(String, Vec<Option<f64>>)>;

    pub fn serialize<S: Serializer>(h: &History, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(h.iter().map(|(m, v)| {
            let bits: Vec<Option<u64>> = v.iter().map(|x| x.map(f64::to_bits)).collect();
            (m, bits)
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<History, D::Error> {
        let raw = Vec::<(String, Vec<Option<u64>>)>::deserialize(d)?;
        Ok(raw
            .into_iter()
            .map(|(m, v)| (m, v.into_iter().map(|x| x.map(f64::from_bits)).collect()))
            .collect())
    }
}

/// The incremental fold over one initiative's events.
///
/// Serialisable ([`Tracker::to_snapshot`]) so that the web layer can keep
/// it in the database beside the chain head it was folded to: it depends on
/// the events and the arrangement only, never on the clock, so a kept state
/// stays right until the chain moves on.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tracker {
    schemes: BTreeMap<String, SchemeState>,
    scheme_events: BTreeMap<String, Vec<i64>>,
    scheme_created: BTreeMap<String, String>,
    obligations: BTreeMap<String, ObligationTrack>,
    acts: Vec<ActTrack>,
    entries: Vec<EntryTrack>,
    /// Scheme → positions in `entries`, so per-scheme figures are not a
    /// scan of every entry of the initiative.
    by_scheme: BTreeMap<String, Vec<usize>>,
    meetings: Vec<MeetingTrack>,
    /// (scheme, action) → (signatures given, needed, event seqs).
    #[serde(with = "pairs")]
    signatures: BTreeMap<(String, String), (u32, u32, Vec<i64>)>,
    /// Report id → (resolved, event seqs); read from the payload's JSON so
    /// this module does not depend on the reports module's types.
    reports: BTreeMap<String, (bool, Vec<i64>)>,
    month: Option<String>,
    /// Month → the indicators' values at its end, in report order. Kept as
    /// the floats' bits in a snapshot, so a value read back is the value
    /// folded, to the last bit.
    #[serde(with = "history_bits")]
    history: Vec<(String, Vec<Option<f64>>)>,
    last_at: Option<OffsetDateTime>,
    events: usize,
}

/// Indicators read from outside the log (the registry, the reserve's
/// books): their past months carry today's value.
pub(crate) fn read_from_context(id: &str) -> bool {
    matches!(
        id,
        "formal_structures.positions_filled" | "political_commitment.reserve_utilisation"
    )
}

fn month_of(at: &str) -> String {
    at.get(..7).unwrap_or(at).to_string()
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Events folded so far.
    pub fn len(&self) -> usize {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    pub fn obligations(&self) -> impl Iterator<Item = &ObligationTrack> {
        self.obligations.values()
    }

    pub(crate) fn obligation_map(&self) -> &BTreeMap<String, ObligationTrack> {
        &self.obligations
    }

    /// The government's releases on record (the reserve indicator's events).
    pub(crate) fn releases(&self, sides: &Sides) -> Vec<i64> {
        self.entries
            .iter()
            .filter(|e| e.kind == "release" && sides.government.contains(&e.role))
            .map(|e| e.seq)
            .collect()
    }

    pub fn schemes(&self) -> impl Iterator<Item = &SchemeState> {
        self.schemes.values()
    }

    /// The scheme each of `events` (sequence numbers) belongs to, for
    /// those that belong to one: where a page links evidence to.
    pub fn events_by_scheme(&self, events: &BTreeSet<i64>) -> BTreeMap<i64, String> {
        let mut out = BTreeMap::new();
        for (scheme, seqs) in &self.scheme_events {
            for s in seqs {
                if events.contains(s) {
                    out.insert(*s, scheme.clone());
                }
            }
        }
        out
    }

    /// Folds one event. At a change of month the indicators of the month
    /// that ended are kept as a snapshot first.
    pub fn apply(&mut self, arr: &Arrangement, ctx: &Context, ev: &DiagEvent) {
        let month = month_of(&ev.at);
        if let Some(prev) = &self.month
            && *prev != month
        {
            let end = self.last_at.unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let values = self
                .indicators(arr, ctx, end)
                .into_iter()
                .map(|i| i.value)
                .collect();
            self.history.push((prev.clone(), values));
        }
        self.month = Some(month);
        self.last_at = parse_time(&ev.at).or(self.last_at);
        self.events += 1;
        self.fold(ev);
    }

    fn fold(&mut self, ev: &DiagEvent) {
        let seq = ev.seq;
        if let Some(s) = ev.body.scheme() {
            self.scheme_events
                .entry(s.to_string())
                .or_default()
                .push(seq);
            let state = self.schemes.remove(s);
            if let Some(next) = engine::apply(state, &ev.body, &ev.at) {
                self.schemes.insert(s.to_string(), next);
            }
        }
        match &ev.body {
            EventBody::SchemeCreated { scheme, .. } => {
                self.scheme_created.insert(scheme.clone(), ev.at.clone());
            }
            EventBody::ActPerformed {
                scheme,
                action,
                positions,
                ..
            } => self.acts.push(ActTrack {
                scheme: scheme.clone(),
                action: action.clone(),
                positions: positions.clone(),
                seq,
            }),
            EventBody::SignatureGiven {
                scheme,
                action,
                given,
                needed,
                ..
            } => {
                let e = self
                    .signatures
                    .entry((scheme.clone(), action.clone()))
                    .or_insert((0, *needed, vec![]));
                e.0 = e.0.max(*given);
                e.1 = *needed;
                e.2.push(seq);
            }
            EventBody::MeetingRecorded { record, .. } => self.meetings.push(MeetingTrack {
                body: record.body.clone(),
                women: record.attendance.women,
                total: record.attendance.total(),
                seq,
            }),
            EventBody::ObligationOpened {
                obligation,
                scheme,
                rule,
                position,
                action,
                due,
                escalated_from,
                ..
            } => {
                self.obligations.insert(
                    obligation.clone(),
                    ObligationTrack {
                        id: obligation.clone(),
                        scheme: scheme.clone(),
                        rule: rule.clone(),
                        position: position.clone(),
                        action: action.clone(),
                        opened: ev.at.clone(),
                        due: due.clone(),
                        closed: None,
                        status: ObligationStatus::Open,
                        escalated_from: escalated_from.clone(),
                        consequence: None,
                        events: vec![seq],
                    },
                );
            }
            EventBody::ObligationMet {
                obligation, late, ..
            } => self.close(obligation, ev, |o| {
                o.status = if *late {
                    ObligationStatus::MetLate
                } else {
                    ObligationStatus::Met
                }
            }),
            EventBody::ObligationLapsed { obligation, .. } => {
                self.close(obligation, ev, |o| o.status = ObligationStatus::Lapsed)
            }
            EventBody::ObligationBreached {
                obligation,
                consequence,
                ..
            } => self.close(obligation, ev, |o| {
                o.status = ObligationStatus::Breached;
                o.consequence = Some(consequence.clone());
            }),
            EventBody::LedgerEntryPosted { scheme, line, .. } => {
                self.by_scheme
                    .entry(scheme.clone())
                    .or_default()
                    .push(self.entries.len());
                self.entries.push(EntryTrack {
                    kind: line.kind.clone(),
                    role: line.role.clone(),
                    means: line.means,
                    household: line.household.is_some(),
                    quantity: line.quantity,
                    reversed_kind: line.reversed_kind.clone(),
                    actor: ev.actor.clone(),
                    seq,
                })
            }
            other => {
                // Citizen reports (Open311) are read from their JSON so that
                // this module keeps compiling whatever the reports module's
                // types become; the fields read are `report` and
                // `update.status`.
                let kind = other.kind();
                if (kind == "report_filed" || kind == "report_updated")
                    && let Ok(v) = serde_json::to_value(other)
                {
                    let id = v["report"].as_str().unwrap_or_default().to_string();
                    let e = self.reports.entry(id).or_insert((false, vec![]));
                    e.1.push(seq);
                    if let Some(st) = v["update"]["status"].as_str() {
                        e.0 = matches!(st, "closed" | "resolved");
                    }
                }
            }
        }
    }

    fn scheme_entries<'a>(&'a self, scheme: &str) -> impl Iterator<Item = &'a EntryTrack> + 'a {
        self.by_scheme
            .get(scheme)
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i])
    }

    /// Every scheme's role figures under the payoff rules, computed once
    /// per summary (community and resources both need them).
    fn role_figures(&self, arr: &Arrangement) -> BTreeMap<String, Vec<figures::RoleFigures>> {
        self.schemes
            .values()
            .map(|s| {
                let totals = ledger::totals(s);
                (s.id.clone(), figures::roles(arr, &s.components, &totals))
            })
            .collect()
    }

    fn close(&mut self, id: &str, ev: &DiagEvent, f: impl FnOnce(&mut ObligationTrack)) {
        if let Some(o) = self.obligations.get_mut(id) {
            o.closed = Some(ev.at.clone());
            o.events.push(ev.seq);
            f(o);
        }
    }

    /// The indicators at `now`, with their history.
    pub fn indicators(
        &self,
        arr: &Arrangement,
        ctx: &Context,
        now: OffsetDateTime,
    ) -> Vec<Indicator> {
        let sides = Sides::of(arr);
        let mut out = Vec::with_capacity(24);
        self.bureaucratic(&sides, now, &mut out);
        self.political(arr, &sides, ctx, now, &mut out);
        let figs = self.role_figures(arr);
        self.community(&figs, &sides, now, &mut out);
        self.trust(&sides, &mut out);
        self.formal(arr, ctx, &mut out);
        self.resources(&figs, &sides, &mut out);
        self.outcome(arr, &mut out);
        self.defined(arr, ctx, now, &mut out);
        for (i, ind) in out.iter_mut().enumerate() {
            // These two are read from outside the log (the registry, the
            // reserve's books), which keeps no dates for them: their past
            // months carry today's value, whenever the month was folded, so
            // a tracker folded long ago says what a fresh fold would.
            let from_context = read_from_context(&ind.id);
            ind.over_time = self
                .history
                .iter()
                .map(|(m, v)| {
                    let value = if from_context {
                        ind.value
                    } else {
                        v.get(i).copied().flatten()
                    };
                    (m.clone(), value)
                })
                .collect();
        }
        out
    }

    /// The fold so far as text, for keeping beside the chain head it was
    /// folded to (see `SNAPSHOT_FORMAT`).
    pub fn to_snapshot(&self) -> Result<String, String> {
        serde_json::to_string(self).map_err(|e| format!("tracker snapshot: {e}"))
    }

    /// A fold kept by [`Tracker::to_snapshot`] under the same
    /// [`SNAPSHOT_FORMAT`].
    pub fn from_snapshot(text: &str) -> Result<Tracker, String> {
        serde_json::from_str(text).map_err(|e| format!("tracker snapshot does not read: {e}"))
    }

    /// The arrangement's own indicators (`[indicators.NAME]`): the
    /// expression on every scheme where `applies` holds, over the same
    /// facts the rules read (core and ledger facts; citizen-report facts
    /// read as zero here), and their mean for the initiative. A scheme on
    /// which the expression cannot be evaluated (a division by zero) is
    /// left out and counted in the detail, never given a made-up value.
    fn defined(
        &self,
        arr: &Arrangement,
        ctx: &Context,
        now: OffsetDateTime,
        out: &mut Vec<Indicator>,
    ) {
        if arr.file.indicators.is_empty() {
            return;
        }
        let init = engine::InitiativeState {
            positions_filled: ctx.positions_filled.clone(),
            executing_schemes: self
                .schemes
                .values()
                .filter(|s| arr.is_executing(&s.stage))
                .map(|s| s.id.clone())
                .collect(),
            ..Default::default()
        };
        let facts: Vec<(&SchemeState, crate::facts::Facts)> = self
            .schemes
            .values()
            .map(|s| {
                let mut f = engine::scheme_facts(&init, Some(s), now, &ledger::facts_for(arr, s));
                for st in &arr.file.lifecycle.stages {
                    if !s.entered.contains_key(st.as_ref()) {
                        f.set_keyed("days_since", st.as_ref(), crate::facts::Fact::Int(-1));
                    }
                }
                (s, f)
            })
            .collect();
        for (name, def) in &arr.file.indicators {
            let cond = def.condition.as_ref();
            let mut per_scheme = vec![];
            let mut failed = vec![];
            let mut events = vec![];
            // The checker compiled these when the arrangement was read.
            let (Ok(expr), applies) = (
                crate::facts::compile(def.expression.as_ref(), crate::facts::Scope::Scheme),
                def.applies
                    .as_ref()
                    .map(|w| crate::facts::compile(w.as_ref(), crate::facts::Scope::Scheme)),
            ) else {
                continue;
            };
            for (s, f) in &facts {
                let counted = match &applies {
                    None => true,
                    Some(Ok(p)) => {
                        crate::facts::evaluate_compiled(p, f, crate::facts::Scope::Scheme)
                            .unwrap_or(false)
                    }
                    Some(Err(_)) => false,
                };
                if !counted {
                    continue;
                }
                match crate::facts::evaluate_number(&expr, f, crate::facts::Scope::Scheme, false) {
                    Ok(v) => {
                        per_scheme.push((s.id.clone(), v));
                        events.extend(self.scheme_events.get(&s.id).into_iter().flatten());
                    }
                    Err(e) => failed.push(format!("{}: {e}", s.name)),
                }
            }
            let value = (!per_scheme.is_empty())
                .then(|| per_scheme.iter().map(|(_, v)| v).sum::<f64>() / per_scheme.len() as f64);
            let detail = if failed.is_empty() {
                dt("mean-over", &[("n", per_scheme.len().to_string())])
            } else {
                dt(
                    "mean-over-failed",
                    &[
                        ("n", per_scheme.len().to_string()),
                        ("failed", failed.len().to_string()),
                        ("reasons", failed.join("; ")),
                    ],
                )
            };
            let mut i = ind(
                cond,
                name,
                &def.name,
                &def.definition,
                &def.unit,
                value,
                detail,
                events,
            );
            i.per_scheme = per_scheme;
            i.defined_by = "arrangement";
            i.anchors = def.anchors.as_ref().and_then(|a| match a.as_ref()[..] {
                [e, c, x] => super::conditions::Anchors::new(e, c, x).ok(),
                _ => None,
            });
            out.push(i);
        }
    }

    pub(crate) fn bureaucratic(
        &self,
        sides: &Sides,
        now: OffsetDateTime,
        out: &mut Vec<Indicator>,
    ) {
        bureaucratic_obligations(&self.obligations, sides, now, out);
        // Supervision: dated notes (inspections, monitoring visits) recorded
        // by positions outside the community, per scheme that reached its
        // executing stages.
        let executing: BTreeSet<&str> = self
            .schemes
            .values()
            .filter(|s| s.entered.keys().any(|st| sides.executing.contains(st)))
            .map(|s| s.id.as_str())
            .collect();
        let visits: Vec<i64> = self
            .acts
            .iter()
            .filter(|a| {
                sides.note_actions.contains(&a.action)
                    && executing.contains(a.scheme.as_str())
                    && a.positions.iter().any(|p| !sides.community(p))
            })
            .map(|a| a.seq)
            .collect();
        out.push(ind(
            "bureaucratic_commitment",
            "supervision_visits",
            "supervision visits per scheme in execution",
            "Inspections and monitoring visits (acts that record a dated note) by government or NGO positions, divided by the schemes that reached execution.",
            "per_scheme",
            (!executing.is_empty()).then(|| visits.len() as f64 / executing.len() as f64),
            dt(
                "visits",
                &[
                    ("n", visits.len().to_string()),
                    ("schemes", executing.len().to_string()),
                ],
            ),
            visits,
        ));
    }

    fn political(
        &self,
        arr: &Arrangement,
        sides: &Sides,
        ctx: &Context,
        now: OffsetDateTime,
        out: &mut Vec<Indicator>,
    ) {
        out.push(elected_on_time(&self.obligations, sides, now));
        out.push(reserve_utilisation(ctx, self.releases(sides)));
        // External works: schemes with components the government side
        // delivers, where the community has spent on its own part.
        let mut due = 0usize;
        let mut delivered = 0usize;
        let mut events = vec![];
        for s in self.schemes.values() {
            let gov_components = s
                .components
                .iter()
                .any(|c| sides.government.contains(&c.delivered_by));
            if !gov_components {
                continue;
            }
            let mine: Vec<&EntryTrack> = self.scheme_entries(&s.id).collect();
            let community_spent = mine
                .iter()
                .any(|e| e.kind == "expenditure" && sides.community_roles.contains(&e.role));
            if !community_spent {
                continue;
            }
            due += 1;
            let gov_spent: Vec<i64> = mine
                .iter()
                .filter(|e| {
                    matches!(e.kind.as_str(), "expenditure" | "release")
                        && sides.government.contains(&e.role)
                })
                .map(|e| e.seq)
                .collect();
            let reached = sides.delivered(arr, s);
            if !gov_spent.is_empty() || reached {
                delivered += 1;
            }
            events.extend(gov_spent);
            events.extend(
                mine.iter()
                    .filter(|e| e.kind == "expenditure")
                    .map(|e| e.seq),
            );
        }
        events.sort_unstable();
        events.dedup();
        out.push(ind(
            "political_commitment",
            "external_works_delivered",
            "government's works delivered where the community did its part",
            "Of the schemes with components the government side delivers in which the community has spent on its own part, the share where the government released or spent money on its part, or the scheme was delivered.",
            "share",
            (due > 0).then(|| delivered as f64 / due as f64),
            dt(
                "schemes-of",
                &[("n", delivered.to_string()), ("of", due.to_string())],
            ),
            events,
        ));
    }

    pub(crate) fn community(
        &self,
        figs: &BTreeMap<String, Vec<figures::RoleFigures>>,
        sides: &Sides,
        now: OffsetDateTime,
        out: &mut Vec<Indicator>,
    ) {
        // Households paying.
        let mut registered = 0usize;
        let mut paying = 0usize;
        let mut pay_events = vec![];
        for s in self.schemes.values() {
            registered += s.household_ids.len();
            for e in self.scheme_entries(&s.id) {
                if e.household
                    && sides.community_roles.contains(&e.role)
                    && matches!(e.kind.as_str(), "contribution" | "reversal")
                {
                    pay_events.push(e.seq);
                }
            }
            // What each household has paid, net of reversals and refunds:
            // the scheme's own running figures.
            paying += s
                .household_ids
                .iter()
                .filter(|h| s.books.households.get(*h).is_some_and(|t| t.paid > 0))
                .count();
        }
        out.push(ind(
            "community_willingness",
            "households_paying",
            "households paying",
            "Registered households that have made a contribution (net of reversals), as a share of all registered households.",
            "share",
            (registered > 0).then(|| paying as f64 / registered as f64),
            dt(
                "households-of",
                &[("n", paying.to_string()), ("of", registered.to_string())],
            ),
            pay_events,
        ));
        // Paid against the community's share owed.
        let mut owed = 0i64;
        let mut put_in = 0i64;
        let mut events = vec![];
        for s in self.schemes.values() {
            for f in figs.get(&s.id).into_iter().flatten() {
                if sides.community_roles.contains(&f.role) && f.owed.0 > 0 {
                    owed += f.owed.0;
                    put_in += f.put_in.0;
                }
            }
            events.extend(
                self.scheme_entries(&s.id)
                    .filter(|e| sides.community_roles.contains(&e.role))
                    .map(|e| e.seq),
            );
        }
        out.push(ind(
            "community_willingness",
            "share_paid",
            "community share paid",
            "Cash, labour and materials the community put in (net of refunds and reversals) divided by the share the payoff rules have it owe on the schemes' estimates.",
            "share",
            (owed > 0).then(|| put_in as f64 / owed as f64),
            dt(
                "owed",
                &[
                    ("paid", ledger::Money(put_in).to_lakh()),
                    ("owed", ledger::Money(owed).to_lakh()),
                ],
            ),
            events,
        ));
        let n_schemes = self.schemes.len();
        let meeting_events: Vec<i64> = self.meetings.iter().map(|m| m.seq).collect();
        out.push(ind(
            "community_willingness",
            "meetings_per_scheme",
            "meetings held per scheme",
            "Meetings recorded (with attendance) divided by the number of schemes.",
            "per_scheme",
            (n_schemes > 0).then(|| self.meetings.len() as f64 / n_schemes as f64),
            dt(
                "meetings-schemes",
                &[
                    ("meetings", self.meetings.len().to_string()),
                    ("schemes", n_schemes.to_string()),
                ],
            ),
            meeting_events.clone(),
        ));
        let attendees: u32 = self.meetings.iter().map(|m| m.total).sum();
        let women: u32 = self.meetings.iter().map(|m| m.women).sum();
        out.push(ind(
            "community_willingness",
            "women_share",
            "women's share of attendance",
            "Women among all attendees of the meetings recorded.",
            "share",
            (attendees > 0).then(|| women as f64 / attendees as f64),
            dt(
                "attendees",
                &[("women", women.to_string()), ("all", attendees.to_string())],
            ),
            meeting_events,
        ));
        let labour: Vec<&EntryTrack> = self
            .entries
            .iter()
            .filter(|e| e.means == Means::Labour && e.kind == "contribution")
            .collect();
        let days: i64 = labour.iter().filter_map(|e| e.quantity).sum();
        out.push(ind(
            "community_willingness",
            "labour_days",
            "labour days contributed",
            "Person-days of labour recorded as contributions (informational: not calibrated).",
            "count",
            Some(days as f64),
            dt("days", &[("n", days.to_string())]),
            labour.iter().map(|e| e.seq).collect(),
        ));
        out.push(community_on_time(&self.obligations, sides, now));
        // Tariffs: what the community's operators collected against what
        // they billed (domain.md §7: tariff collection), net of reversals.
        let mut billed = 0i64;
        let mut collected = 0i64;
        let mut tariff_events = vec![];
        for s in self.schemes.values() {
            let totals = ledger::totals(s);
            for (role, t) in &totals {
                if sides.community_roles.contains(role) {
                    billed += t.billed;
                    collected += t.collected;
                }
            }
            tariff_events.extend(
                self.scheme_entries(&s.id)
                    .filter(|e| {
                        matches!(e.kind.as_str(), "bill" | "tariff")
                            || matches!(e.reversed_kind.as_deref(), Some("bill" | "tariff"))
                    })
                    .map(|e| e.seq),
            );
        }
        out.push(ind(
            "community_willingness",
            "tariff_collection",
            "tariffs collected against bills",
            "Service charges (tariffs) the community's operators collected, divided by what they billed to households, over all schemes, net of reversals (a rate above 1 means arrears from earlier bills were recovered).",
            "share",
            (billed > 0).then(|| collected as f64 / billed as f64),
            dt(
                "tariffs",
                &[
                    ("collected", ledger::Money(collected).to_lakh()),
                    ("billed", ledger::Money(billed).to_lakh()),
                ],
            ),
            tariff_events,
        ));
    }

    fn trust(&self, sides: &Sides, out: &mut Vec<Indicator>) {
        // Who collects should not be who spends: the check the LPP accounts
        // committee and a second signatory provide.
        let spenders: BTreeSet<&str> = self
            .entries
            .iter()
            .filter(|e| e.kind == "expenditure" && sides.community_roles.contains(&e.role))
            .map(|e| e.actor.as_str())
            .collect();
        let cash: Vec<&EntryTrack> = self
            .entries
            .iter()
            .filter(|e| {
                e.kind == "contribution"
                    && e.means == Means::Cash
                    && sides.community_roles.contains(&e.role)
            })
            .collect();
        let separate = cash
            .iter()
            .filter(|e| !spenders.contains(e.actor.as_str()))
            .count();
        out.push(ind(
            "trust",
            "collector_not_spender",
            "money collected by someone who does not spend it",
            "Of the community's cash contributions, the share recorded by a person who has not also recorded the community's spending (separation of the treasurer's and the manager's duties).",
            "share",
            (!cash.is_empty()).then(|| separate as f64 / cash.len() as f64),
            dt(
                "cash-contributions",
                &[("n", separate.to_string()), ("of", cash.len().to_string())],
            ),
            cash.iter().map(|e| e.seq).collect(),
        ));
        let reversals: Vec<i64> = self
            .entries
            .iter()
            .filter(|e| e.kind == "reversal")
            .map(|e| e.seq)
            .collect();
        let n = self.entries.len();
        out.push(ind(
            "trust",
            "entries_reversed",
            "ledger entries corrected",
            "Reversals as a share of all ledger entries; many corrections can point to disputed accounts, few prove nothing (informational: not calibrated).",
            "share",
            (n > 0).then(|| reversals.len() as f64 / n as f64),
            dt(
                "entries",
                &[("n", reversals.len().to_string()), ("of", n.to_string())],
            ),
            reversals,
        ));
        let resolved = self.reports.values().filter(|r| r.0).count();
        out.push(ind(
            "trust",
            "reports_resolved",
            "citizen reports resolved",
            "Citizen reports (complaints) filed about the initiative's schemes that were closed or resolved, as a share of all filed.",
            "share",
            (!self.reports.is_empty()).then(|| resolved as f64 / self.reports.len() as f64),
            dt(
                "n-of",
                &[
                    ("n", resolved.to_string()),
                    ("of", self.reports.len().to_string()),
                ],
            ),
            self.reports.values().flat_map(|r| r.1.iter().copied()).collect(),
        ));
        let transparency: Vec<i64> = self
            .meetings
            .iter()
            .filter(|m| m.body != "council")
            .map(|m| m.seq)
            .collect();
        out.push(ind(
            "trust",
            "open_meetings",
            "open meetings held",
            "Meetings of the community or joint bodies recorded with attendance, where accounts and decisions are put to members (informational: not calibrated).",
            "count",
            Some(transparency.len() as f64),
            dt("meetings", &[("n", transparency.len().to_string())]),
            transparency,
        ));
        let repeat = self.schemes.len().saturating_sub(1);
        out.push(ind(
            "trust",
            "repeat_schemes",
            "repeat schemes",
            "Schemes started after the first one in the same initiative (informational: not calibrated).",
            "count",
            Some(repeat as f64),
            dt("schemes-in-all", &[("n", self.schemes.len().to_string())]),
            self.scheme_created
                .keys()
                .filter_map(|s| self.scheme_events.get(s).and_then(|v| v.first().copied()))
                .collect(),
        ));
    }

    fn formal(&self, arr: &Arrangement, ctx: &Context, out: &mut Vec<Indicator>) {
        out.push(positions_filled(arr, ctx));
        let sanctioned = arr
            .file
            .rules
            .iter()
            .filter(|r| r.deontic == Deontic::Must && r.within.is_some() && r.or_else.is_some())
            .count();
        out.push(ind(
            "formal_structures",
            "rules_with_sanctions",
            "rules with deadlines and sanctions",
            "Rules of the arrangement that oblige a position within a deadline and say what happens otherwise (informational: the same for every initiative under the arrangement).",
            "count",
            Some(sanctioned as f64),
            dt(
                "rules-of",
                &[
                    ("n", sanctioned.to_string()),
                    ("of", arr.file.rules.len().to_string()),
                ],
            ),
            vec![],
        ));
        let complete = self.signatures.values().filter(|s| s.0 >= s.1).count();
        out.push(ind(
            "formal_structures",
            "agreements_signed",
            "agreements signed by all parties",
            "Of the acts needing several signatures (agreements, hand-overs), the share signed by everyone needed.",
            "share",
            (!self.signatures.is_empty()).then(|| complete as f64 / self.signatures.len() as f64),
            dt(
                "n-of",
                &[
                    ("n", complete.to_string()),
                    ("of", self.signatures.len().to_string()),
                ],
            ),
            self.signatures.values().flat_map(|s| s.2.iter().copied()).collect(),
        ));
        let bodies: BTreeSet<&str> = self.meetings.iter().map(|m| m.body.as_str()).collect();
        out.push(ind(
            "formal_structures",
            "bodies_meeting",
            "bodies that met",
            "Distinct bodies (lane meeting, committee, council) with a recorded meeting (informational: not calibrated).",
            "count",
            Some(bodies.len() as f64),
            Phrase::new("bodies").arg(
                "bodies",
                partners(&bodies.iter().copied().collect::<Vec<_>>()),
            ),
            self.meetings.iter().map(|m| m.seq).collect(),
        ));
    }

    fn resources(
        &self,
        figs: &BTreeMap<String, Vec<figures::RoleFigures>>,
        sides: &Sides,
        out: &mut Vec<Indicator>,
    ) {
        let mut estimate = 0i64;
        let mut funded = 0i64;
        let mut short = 0usize;
        let mut counted = 0usize;
        let mut events = vec![];
        for s in self.schemes.values() {
            let est = s.estimate();
            if est <= 0 || !s.entered.keys().any(|st| sides.executing.contains(st)) {
                continue;
            }
            let have: i64 = figs
                .get(&s.id)
                .into_iter()
                .flatten()
                .map(|f| f.put_in.0)
                .sum();
            counted += 1;
            estimate += est;
            funded += have.min(est);
            if have < est {
                short += 1;
            }
            events.extend(
                self.scheme_entries(&s.id)
                    .filter(|e| matches!(e.kind.as_str(), "contribution" | "release"))
                    .map(|e| e.seq),
            );
        }
        out.push(ind(
            "resources",
            "estimate_funded",
            "estimate funded",
            "For schemes that reached execution, the money, labour and materials put in by all partners (up to each scheme's estimate) divided by their estimates.",
            "share",
            (estimate > 0).then(|| funded as f64 / estimate as f64),
            dt(
                "funded",
                &[
                    ("funded", ledger::Money(funded).to_lakh()),
                    ("estimate", ledger::Money(estimate).to_lakh()),
                    ("n", counted.to_string()),
                ],
            ),
            events.clone(),
        ));
        out.push(ind(
            "resources",
            "schemes_short",
            "schemes short of funds",
            "Schemes in or past execution whose funds put in are below the estimate (informational: not calibrated).",
            "count",
            Some(short as f64),
            dt(
                "n-of",
                &[("n", short.to_string()), ("of", counted.to_string())],
            ),
            events,
        ));
    }

    fn outcome(&self, arr: &Arrangement, out: &mut Vec<Indicator>) {
        let sides = Sides::of(arr);
        let n = self.schemes.len();
        let delivered: Vec<&SchemeState> = self
            .schemes
            .values()
            .filter(|s| sides.ever_delivered(arr, s))
            .collect();
        let sustained = delivered.iter().filter(|s| sides.delivered(arr, s)).count();
        let events = |v: &[&SchemeState]| -> Vec<i64> {
            v.iter()
                .filter_map(|s| {
                    self.scheme_events
                        .get(&s.id)
                        .and_then(|e| e.last().copied())
                })
                .collect()
        };
        out.push(ind(
            "service_delivered_and_sustained",
            "schemes_delivered",
            "schemes delivered",
            "Schemes that came through their executing stages to a stage after them (completed, handed over, in operation), as a share of all schemes started.",
            "share",
            (n > 0).then(|| delivered.len() as f64 / n as f64),
            dt(
                "n-of",
                &[("n", delivered.len().to_string()), ("of", n.to_string())],
            ),
            events(&delivered),
        ));
        out.push(ind(
            "service_delivered_and_sustained",
            "schemes_sustained",
            "delivered schemes still working",
            "Of the schemes delivered, the share not since abandoned, suspended or dropped.",
            "share",
            (!delivered.is_empty()).then(|| sustained as f64 / delivered.len() as f64),
            dt(
                "n-of",
                &[
                    ("n", sustained.to_string()),
                    ("of", delivered.len().to_string()),
                ],
            ),
            events(&delivered),
        ));
    }
}

/// Of the obligations `which` selects that have fallen due by `now`: the
/// share met on time, its detail, their events and their delays in days.
fn obligation_share<'a>(
    obligations: impl Iterator<Item = &'a ObligationTrack>,
    which: impl Fn(&ObligationTrack) -> bool,
    now: OffsetDateTime,
) -> (Option<f64>, Phrase, Vec<i64>, Vec<f64>) {
    let mut due = 0usize;
    let mut on_time = 0usize;
    let mut events = vec![];
    let mut delays = vec![];
    for o in obligations.filter(|o| which(o)) {
        let Some(late) = o.lateness(now) else {
            continue;
        };
        due += 1;
        delays.push(late);
        if o.met_on_time() {
            on_time += 1;
        }
        events.extend(&o.events);
    }
    let value = (due > 0).then(|| on_time as f64 / due as f64);
    (
        value,
        dt(
            "obligations-met",
            &[("met", on_time.to_string()), ("due", due.to_string())],
        ),
        events,
        delays,
    )
}

/// The officials' obligations as indicators at `now` (breached, on time,
/// median and worst delay): clock-dependent, so also recomputed from a
/// [`super::digest::Digest`] at every read.
pub(crate) fn bureaucratic_obligations(
    obligations: &BTreeMap<String, ObligationTrack>,
    sides: &Sides,
    now: OffsetDateTime,
    out: &mut Vec<Indicator>,
) {
    let (value, detail, events, mut delays) = obligation_share(
        obligations.values(),
        |o| sides.bureaucratic(&o.position),
        now,
    );
    // A breach is more than lateness: the deadline and any grace passed
    // with nothing done, and the rules' sanction followed.
    let due: Vec<&ObligationTrack> = obligations
        .values()
        .filter(|o| sides.bureaucratic(&o.position) && o.lateness(now).is_some())
        .collect();
    let breached: Vec<&ObligationTrack> = due
        .iter()
        .copied()
        .filter(|o| o.status == ObligationStatus::Breached)
        .collect();
    out.push(ind(
            "bureaucratic_commitment",
            "obligations_breached",
            "obligations of officials breached",
            "Of the officials' obligations that have fallen due, the share breached: not done by the deadline and its grace, so that the rules' sanction (escalation, a published delay) followed.",
            "share",
            (!due.is_empty()).then(|| breached.len() as f64 / due.len() as f64),
            dt(
                "obligations-due",
                &[
                    ("n", breached.len().to_string()),
                    ("due", due.len().to_string()),
                ],
            ),
            breached.iter().flat_map(|o| o.events.iter().copied()).collect(),
        ));
    out.push(ind(
            "bureaucratic_commitment",
            "obligations_on_time",
            "obligations of officials met on time",
            "Of the obligations of government positions not filled by election (estimates, approvals, releases, inspections the rules give a deadline) that have fallen due, the share met by the deadline. Breached and still-open overdue obligations count as not met.",
            "share",
            value,
            detail,
            events.clone(),
        ));
    delays.sort_by(f64::total_cmp);
    let median = (!delays.is_empty()).then(|| {
        let n = delays.len();
        if n % 2 == 1 {
            delays[n / 2]
        } else {
            (delays[n / 2 - 1] + delays[n / 2]) / 2.0
        }
    });
    let worst = delays.last().copied();
    out.push(ind(
            "bureaucratic_commitment",
            "median_delay_days",
            "median delay of officials (days)",
            "Median number of days past the deadline over the officials' obligations that have fallen due (0 when met on time; an obligation still open or breached counts up to today).",
            "days",
            median,
            dt("over-obligations", &[("n", delays.len().to_string())]),
            events.clone(),
        ));
    out.push(ind(
            "bureaucratic_commitment",
            "worst_delay_days",
            "worst delay of officials (days)",
            "The longest time past a deadline among the officials' obligations, counting open and breached ones up to today.",
            "days",
            worst,
            match worst {
                Some(w) => dt("days", &[("n", format!("{w:.0}"))]),
                None => dt("none", &[]),
            },
            events,
        ));
}

/// The elected positions' obligations met on time at `now`.
pub(crate) fn elected_on_time(
    obligations: &BTreeMap<String, ObligationTrack>,
    sides: &Sides,
    now: OffsetDateTime,
) -> Indicator {
    let (value, detail, events, _) =
        obligation_share(obligations.values(), |o| sides.political(&o.position), now);
    ind(
        "political_commitment",
        "elected_obligations_on_time",
        "obligations of elected positions met on time",
        "Of the obligations that fell to elected positions (councillors, nazims — often by escalation when officials did not act), the share met by the deadline.",
        "share",
        value,
        detail,
        events,
    )
}

/// The reserve used (from the reserve's books in `ctx`, read outside the
/// log), with the releases on record as its events.
pub(crate) fn reserve_utilisation(ctx: &Context, releases: Vec<i64>) -> Indicator {
    let (util, detail) = match &ctx.reserve {
        Some(years) if years.iter().any(|y| y.allocated.0 > 0) => {
            let allocated: i64 = years.iter().map(|y| y.allocated.0).sum();
            let spent: i64 = years.iter().map(|y| y.spent.0).sum();
            let unspent = years.last().map(|y| y.unspent.0).unwrap_or_default();
            (
                Some(spent as f64 / allocated as f64),
                dt(
                    "reserve",
                    &[
                        ("spent", ledger::Money(spent).to_lakh()),
                        ("allocated", ledger::Money(allocated).to_lakh()),
                        ("unspent", ledger::Money(unspent).to_lakh()),
                    ],
                ),
            )
        }
        _ => (None, dt("no-reserve", &[])),
    };
    ind(
        "political_commitment",
        "reserve_utilisation",
        "reserve used",
        "Money released to schemes from the government's reserve for the arrangement divided by what was allocated to it over all years (the Layyah utilisation rate); an allocation left unspent lowers it.",
        "share",
        util,
        detail,
        releases,
    )
}

/// The community positions' obligations met on time at `now`.
pub(crate) fn community_on_time(
    obligations: &BTreeMap<String, ObligationTrack>,
    sides: &Sides,
    now: OffsetDateTime,
) -> Indicator {
    let (value, detail, events, _) =
        obligation_share(obligations.values(), |o| sides.community(&o.position), now);
    ind(
        "community_willingness",
        "obligations_on_time",
        "community obligations met on time",
        "Of the obligations of community positions that have fallen due, the share met by the deadline.",
        "share",
        value,
        detail,
        events,
    )
}

/// The required positions filled (from the registry, in `ctx`).
pub(crate) fn positions_filled(arr: &Arrangement, ctx: &Context) -> Indicator {
    let with_min: Vec<(&String, u32)> = arr
        .file
        .positions
        .iter()
        .filter_map(|(p, r)| r.min.filter(|m| *m > 0).map(|m| (p, m)))
        .collect();
    let filled = with_min
        .iter()
        .filter(|(p, m)| ctx.positions_filled.get(*p).copied().unwrap_or(0) >= *m as i64)
        .count();
    ind(
        "formal_structures",
        "positions_filled",
        "required positions filled",
        "Of the positions the arrangement requires (a `min` in its position rules), the share held by at least that many people.",
        "share",
        (!with_min.is_empty()).then(|| filled as f64 / with_min.len() as f64),
        dt(
            "n-of",
            &[
                ("n", filled.to_string()),
                ("of", with_min.len().to_string()),
            ],
        ),
        vec![],
    )
}

#[allow(clippy::too_many_arguments)]
fn ind(
    condition: &str,
    name: &str,
    title: &str,
    definition: &str,
    unit: &str,
    value: Option<f64>,
    detail: Phrase,
    mut events: Vec<i64>,
) -> Indicator {
    events.sort_unstable();
    events.dedup();
    Indicator {
        id: format!("{condition}.{name}"),
        condition: condition.to_string(),
        name: title.to_string(),
        definition: definition.to_string(),
        unit: unit.to_string(),
        value,
        detail: super::words::english(&detail),
        detail_phrase: detail,
        events,
        over_time: vec![],
        per_scheme: vec![],
        defined_by: "built-in",
        anchors: None,
    }
}

/// The arrangement read for the diagnosis: which roles and positions are on
/// which side, which stages mean delivered.
pub(crate) struct Sides {
    government: BTreeSet<String>,
    community_roles: BTreeSet<String>,
    elected: BTreeSet<String>,
    executing: BTreeSet<String>,
    note_actions: BTreeSet<String>,
    /// Stage → its place in the lifecycle.
    order: BTreeMap<String, usize>,
    /// Stages a scheme falls into when it fails (targets of acts possible
    /// before execution — abandon, reject, drop — or of acts a scheme comes
    /// back from, such as suspend).
    failed: BTreeSet<String>,
}

impl Sides {
    pub(crate) fn of(arr: &Arrangement) -> Sides {
        let f = &arr.file;
        let mut government = BTreeSet::new();
        let mut community_roles = BTreeSet::new();
        for (role, p) in &f.partners {
            if p.kinds.contains(&OrgKind::Public) {
                government.insert(role.clone());
            }
            if p.kinds.contains(&OrgKind::Community) {
                community_roles.insert(role.clone());
            }
        }
        let elected = f
            .positions
            .iter()
            .filter(|(_, r)| r.filled_by == FilledBy::Election)
            .map(|(p, _)| p.clone())
            .collect();
        let order: BTreeMap<String, usize> = f
            .lifecycle
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_ref().to_string(), i))
            .collect();
        let executing: BTreeSet<String> = f
            .lifecycle
            .executing
            .iter()
            .map(|s| s.as_ref().to_string())
            .collect();
        let first_exec = executing
            .iter()
            .filter_map(|s| order.get(s))
            .min()
            .copied()
            .unwrap_or(usize::MAX);
        let mut failed = BTreeSet::new();
        for a in f.actions.values() {
            let Some(to) = &a.to else { continue };
            let to = to.as_ref().to_string();
            let to_i = order.get(&to).copied().unwrap_or(0);
            let from: Vec<usize> = a
                .from
                .iter()
                .filter_map(|s| order.get(s.as_ref().as_str()).copied())
                .collect();
            if from.iter().any(|&i| i < first_exec) && to_i > first_exec {
                failed.insert(to.clone());
            }
            // An act leading back to an earlier stage (resume) marks the
            // stage it starts from as a suspension.
            if from.iter().any(|&i| i > to_i) {
                for s in &a.from {
                    if order.get(s.as_ref().as_str()).copied().unwrap_or(0) > to_i {
                        failed.insert(s.as_ref().to_string());
                    }
                }
            }
        }
        let note_actions = f
            .actions
            .iter()
            .filter(|(_, a)| a.records == Some(RecordKind::Note))
            .map(|(id, _)| id.clone())
            .collect();
        Sides {
            government,
            community_roles,
            elected,
            executing,
            note_actions,
            order,
            failed,
        }
    }

    fn role(position: &str) -> &str {
        position.split_once('.').map(|(r, _)| r).unwrap_or(position)
    }
    pub(crate) fn political(&self, position: &str) -> bool {
        self.elected.contains(position)
    }
    pub(crate) fn bureaucratic(&self, position: &str) -> bool {
        self.government.contains(Self::role(position)) && !self.political(position)
    }
    pub(crate) fn community(&self, position: &str) -> bool {
        self.community_roles.contains(Self::role(position))
    }

    fn past_execution(&self, stage: &str) -> bool {
        let last_exec = self
            .executing
            .iter()
            .filter_map(|s| self.order.get(s))
            .max()
            .copied()
            .unwrap_or(usize::MAX);
        self.order.get(stage).is_some_and(|&i| i > last_exec) && !self.failed.contains(stage)
    }

    /// Delivered and still working now.
    fn delivered(&self, _arr: &Arrangement, s: &SchemeState) -> bool {
        self.past_execution(&s.stage)
    }

    /// Entered a stage past execution at some time.
    fn ever_delivered(&self, _arr: &Arrangement, s: &SchemeState) -> bool {
        s.entered.keys().any(|st| self.past_execution(st))
    }
}
