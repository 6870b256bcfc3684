//! A fold's digest (issue 8): what a diagnosis needs of a [`Tracker`], a
//! few kilobytes instead of the tracker's whole state, so that a process
//! can diagnose thousands of initiatives (comparison, QCA) without reading
//! every tracker back.
//!
//! Most indicators depend on the events only: those are kept as computed.
//! A few depend on the clock or on facts outside the log, and are
//! recomputed at every read from what the digest keeps for them, with the
//! very functions the tracker uses:
//!
//! - the obligations' indicators (officials' breached, on time, median and
//!   worst delay; elected and community obligations on time) from the
//!   obligations kept here, at the reader's `now` — a deadline passing or a
//!   breach growing older changes them exactly as it changes a fresh fold;
//! - the reserve used and the positions filled from the reader's
//!   [`Context`], their past months carrying today's value as the tracker's
//!   do.
//!
//! The next steps and the breached obligations come from the same kept
//! obligations. So [`super::diagnose_digest`] gives what [`super::diagnose`]
//! gives on the tracker it was taken from, for any `now`, context and
//! anchors (a test checks this). An arrangement that defines its own
//! indicators gets no digest: those read every fact of every scheme at
//! `now`, which only the whole tracker holds.
//!
//! As text: JSON, floats written in Rust's shortest round-trip form (so a
//! value read back is the value computed, to the last bit), detail phrases
//! by message id. Its layout is part of `SNAPSHOT_FORMAT`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::indicators::{
    Context, Indicator, ObligationTrack, Sides, Tracker, bureaucratic_obligations,
    community_on_time, elected_on_time, positions_filled, read_from_context, reserve_utilisation,
};
use super::words::{DETAIL_IDS, english, english_detail};
use crate::arrangement::Arrangement;
use crate::arrangement::words::{Arg, Conj, Name, Phrase};

/// What a diagnosis needs of one initiative's fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// Every indicator as computed from the fold, in report order, with
    /// its history (the clock- and context-dependent ones are replaced at
    /// read time).
    indicators: Vec<Indicator>,
    obligations: BTreeMap<String, ObligationTrack>,
    /// The government's releases on record (the reserve's events).
    releases: Vec<i64>,
    schemes: usize,
    households: usize,
}

impl Tracker {
    /// The digest of this fold under `arr`; `None` when the arrangement
    /// defines indicators of its own (they need the whole tracker).
    pub fn digest(&self, arr: &Arrangement) -> Option<Digest> {
        if !arr.file.indicators.is_empty() {
            return None;
        }
        // The clock and the context given here do not matter: what depends
        // on them is recomputed at read time.
        let indicators = self.indicators(arr, &Context::default(), OffsetDateTime::UNIX_EPOCH);
        Some(Digest {
            indicators,
            obligations: self.obligation_map().clone(),
            releases: self.releases(&Sides::of(arr)),
            schemes: self.schemes().count(),
            households: self.schemes().map(|s| s.household_ids.len()).sum(),
        })
    }
}

impl Digest {
    /// Schemes in the initiative.
    pub fn schemes(&self) -> usize {
        self.schemes
    }

    /// Households registered over its schemes.
    pub fn households(&self) -> usize {
        self.households
    }

    /// The indicators at `now` in `ctx`: what [`Tracker::indicators`] gives
    /// on the fold this digest was taken from.
    pub fn indicators(
        &self,
        arr: &Arrangement,
        ctx: &Context,
        now: OffsetDateTime,
    ) -> Vec<Indicator> {
        self.clone().into_parts(arr, ctx, now).0
    }

    /// The indicators at `now` in `ctx`, and the obligations, taking the
    /// digest apart (a diagnosis of many reads each digest once).
    pub(crate) fn into_parts(
        self,
        arr: &Arrangement,
        ctx: &Context,
        now: OffsetDateTime,
    ) -> (Vec<Indicator>, BTreeMap<String, ObligationTrack>) {
        let sides = Sides::of(arr);
        let mut live = Vec::with_capacity(8);
        bureaucratic_obligations(&self.obligations, &sides, now, &mut live);
        live.push(elected_on_time(&self.obligations, &sides, now));
        live.push(reserve_utilisation(ctx, self.releases));
        live.push(community_on_time(&self.obligations, &sides, now));
        live.push(positions_filled(arr, ctx));
        let mut out = self.indicators;
        for fresh in live {
            let Some(slot) = out.iter_mut().find(|i| i.id == fresh.id) else {
                continue;
            };
            let over_time = if read_from_context(&fresh.id) {
                slot.over_time
                    .iter()
                    .map(|(m, _)| (m.clone(), fresh.value))
                    .collect()
            } else {
                // Past months were folded at their own ends, not at `now`.
                std::mem::take(&mut slot.over_time)
            };
            *slot = Indicator { over_time, ..fresh };
        }
        (out, self.obligations)
    }

    /// The digest as text, to keep beside the tracker's snapshot.
    pub fn to_text(&self) -> Result<String, String> {
        let months: Vec<String> = self
            .indicators
            .first()
            .map(|i| i.over_time.iter().map(|(m, _)| m.clone()).collect())
            .unwrap_or_default();
        let mut indicators = Vec::with_capacity(self.indicators.len());
        for i in &self.indicators {
            if i.defined_by != "built-in" || !i.per_scheme.is_empty() || i.anchors.is_some() {
                return Err(format!("digest: {} is not a built-in indicator", i.id));
            }
            if i.over_time.len() != months.len()
                || i.over_time.iter().zip(&months).any(|((m, _), k)| m != k)
            {
                return Err(format!("digest: {} has a history of other months", i.id));
            }
            indicators.push(StoredIndicator {
                id: i.id.clone(),
                condition: i.condition.clone(),
                name: i.name.clone(),
                definition: i.definition.clone(),
                unit: i.unit.clone(),
                value: i.value.map(float_text),
                detail: StoredPhrase::of(&i.detail_phrase)
                    .ok_or_else(|| format!("digest: the detail of {} cannot be kept", i.id))?,
                events: i.events.clone(),
                over_time: series_text(i.over_time.iter().map(|(_, v)| *v)),
            });
        }
        let stored = Stored {
            months,
            indicators,
            obligations: self.obligations.values().cloned().collect(),
            releases: self.releases.clone(),
            schemes: self.schemes,
            households: self.households,
        };
        serde_json::to_string(&stored).map_err(|e| format!("digest: {e}"))
    }

    /// A digest kept by [`Digest::to_text`] under the same
    /// `SNAPSHOT_FORMAT`.
    pub fn from_text(text: &str) -> Result<Digest, String> {
        let stored: Stored =
            serde_json::from_str(text).map_err(|e| format!("digest does not read: {e}"))?;
        let mut indicators = Vec::with_capacity(stored.indicators.len());
        for i in stored.indicators {
            let values = series_of(&i.over_time, stored.months.len())
                .map_err(|e| format!("digest: {}: {e}", i.id))?;
            let over_time = stored.months.iter().cloned().zip(values).collect();
            let detail_phrase = i.detail.phrase()?;
            indicators.push(Indicator {
                id: i.id,
                condition: i.condition,
                name: i.name,
                definition: i.definition,
                unit: i.unit,
                value: i.value.as_deref().map(float_of).transpose()?,
                detail: english(&detail_phrase),
                detail_phrase,
                events: i.events,
                over_time,
                per_scheme: vec![],
                defined_by: "built-in",
                anchors: None,
            });
        }
        Ok(Digest {
            indicators,
            obligations: stored
                .obligations
                .into_iter()
                .map(|o| (o.id.clone(), o))
                .collect(),
            releases: stored.releases,
            schemes: stored.schemes,
            households: stored.households,
        })
    }
}

/// Rust's shortest text that reads back to the same float.
fn float_text(v: f64) -> String {
    v.to_string()
}

/// A month-by-month series as one text: values separated by commas, an
/// unmeasured month empty (one string per indicator, not one per month).
fn series_text(values: impl Iterator<Item = Option<f64>>) -> String {
    let mut out = String::new();
    for (k, v) in values.enumerate() {
        if k > 0 {
            out.push(',');
        }
        if let Some(v) = v {
            out.push_str(&float_text(v));
        }
    }
    out
}

fn series_of(text: &str, months: usize) -> Result<Vec<Option<f64>>, String> {
    if months == 0 {
        return if text.is_empty() {
            Ok(vec![])
        } else {
            Err("a history of other months".into())
        };
    }
    let values: Vec<Option<f64>> = text
        .split(',')
        .map(|v| (!v.is_empty()).then(|| float_of(v)).transpose())
        .collect::<Result<_, _>>()?;
    if values.len() != months {
        return Err("a history of other months".into());
    }
    Ok(values)
}

fn float_of(s: &str) -> Result<f64, String> {
    s.parse()
        .map_err(|_| format!("digest: `{s}` is not a number"))
}

#[derive(Serialize, Deserialize)]
struct Stored {
    months: Vec<String>,
    indicators: Vec<StoredIndicator>,
    obligations: Vec<ObligationTrack>,
    releases: Vec<i64>,
    schemes: usize,
    households: usize,
}

#[derive(Serialize, Deserialize)]
struct StoredIndicator {
    id: String,
    condition: String,
    name: String,
    definition: String,
    unit: String,
    value: Option<String>,
    detail: StoredPhrase,
    events: Vec<i64>,
    /// The values month by month (`series_text`).
    over_time: String,
}

/// A detail phrase as text: its message id and its arguments, which for
/// the built-in indicators are figures, or partner roles (bodies that met).
#[derive(Serialize, Deserialize)]
struct StoredPhrase {
    id: String,
    args: Vec<(String, StoredArg)>,
}

#[derive(Serialize, Deserialize)]
enum StoredArg {
    Code(String),
    Partners(Vec<String>),
}

impl StoredPhrase {
    fn of(p: &Phrase) -> Option<StoredPhrase> {
        let args = p
            .args
            .iter()
            .map(|(k, a)| {
                let a = match a {
                    Arg::Code(c) => StoredArg::Code(c.clone()),
                    Arg::List(items, Conj::Comma) => StoredArg::Partners(
                        items
                            .iter()
                            .map(|i| match i {
                                Arg::Name(Name::Partner(r)) => Some(r.clone()),
                                _ => None,
                            })
                            .collect::<Option<Vec<_>>>()?,
                    ),
                    _ => return None,
                };
                Some((k.to_string(), a))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(StoredPhrase {
            id: p.id.to_string(),
            args,
        })
    }

    fn phrase(self) -> Result<Phrase, String> {
        let id = DETAIL_IDS
            .iter()
            .copied()
            .find(|d| *d == self.id)
            .ok_or_else(|| format!("digest: no detail message `{}`", self.id))?;
        let mut p = Phrase::new(id);
        for (k, a) in self.args {
            let name = arg_name(id, &k)
                .ok_or_else(|| format!("digest: detail `{id}` has no argument `{k}`"))?;
            p = p.arg(
                name,
                match a {
                    StoredArg::Code(c) => Arg::Code(c),
                    StoredArg::Partners(roles) => Arg::List(
                        roles
                            .into_iter()
                            .map(|r| Arg::Name(Name::Partner(r)))
                            .collect(),
                        Conj::Comma,
                    ),
                },
            );
        }
        Ok(p)
    }
}

/// The argument `name` of detail message `id`, as the message's own
/// pattern spells it (`{name}`), so a phrase read back names its arguments
/// with the same static words as one built in code.
fn arg_name(id: &str, name: &str) -> Option<&'static str> {
    let pattern = english_detail(id)?;
    let at = pattern.find(&format!("{{{name}}}"))?;
    pattern.get(at + 1..at + 1 + name.len())
}
