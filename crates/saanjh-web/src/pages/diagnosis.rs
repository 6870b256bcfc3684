//! The diagnosis as pages (issue 8): what makes co-production work in an
//! initiative, initiatives compared in the IAD frame (with a printable
//! report), and QCA across initiatives — the same figures as the JSON API
//! (`diagnosis_api`), server-rendered, in English and Urdu, no script.
//!
//! Measures are public, like the events they are computed from; coded
//! passages (the partners' own words) are shown only to partners of the
//! initiative and administrators, as in the API.
//!
//! Everything measured is said in the visitor's language: built-in
//! indicators' names and definitions are Fluent messages by the
//! indicator's id (`ind-<condition>-<name>`, `…-def`), their figures the
//! messages `dxd-<id>` over core's detail phrases
//! (`saanjh_core::diagnosis::words`); an arrangement's own indicators take
//! their names from its labels file (`indicator.<name>`); positions,
//! actions, rules and consequences come from the arrangement's words
//! (`pages/words.rs`). Whatever has no translation falls back to English
//! and is marked `lang="en"`.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use saanjh_core::arrangement::words::{Arg, Conj, English, Name, Phrase, render_arg, render_line};
use saanjh_core::arrangement::{Arrangement, rule_line};
use saanjh_core::diagnosis::coding::CodedPassage;
use saanjh_core::diagnosis::words::{english_detail, indicator_key};
use saanjh_core::diagnosis::{CONDITIONS, Indicator, OUTCOME};
use serde::Deserialize;

use super::charts::esc;
use super::ctx::{Lang, Visitor, try_message, try_message_with};
use super::words::Localised;
use super::{PageResult, page};
use crate::diagnosis_api::{self, Measured, QcaParams, RuleRow, Selection};
use crate::{ApiError, AppState};

/// A membership for people: two decimals, or a dash when not measured.
fn m2(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())
}

/// An indicator's raw value in its unit.
fn value_text(i: &Indicator) -> String {
    unit_text(&i.unit, i.value)
}

/// A text in the visitor's language, or the English one with a flag saying
/// so (for the `lang` attribute).
pub struct Said {
    pub text: String,
    pub english: bool,
}

fn said(found: Option<String>, english: &str) -> Said {
    match found {
        Some(text) => Said {
            text,
            english: false,
        },
        None => Said {
            text: english.to_string(),
            english: true,
        },
    }
}

/// An indicator's name (`def` false) or definition in the visitor's
/// language: built-in ones by id from the messages, the arrangement's own
/// from its labels file.
fn indicator_text(w: &Localised, i: &Indicator, def: bool) -> Said {
    let english = if def { &i.definition } else { &i.name };
    if w.lang() == Lang::En {
        return said(Some(english.clone()), english);
    }
    let found = if i.defined_by == "arrangement" {
        let name = i.id.split_once('.').map(|(_, n)| n).unwrap_or(&i.id);
        w.label_text(&format!(
            "indicator.{name}{}",
            if def { ".definition" } else { "" }
        ))
    } else {
        let key = indicator_key(&i.id);
        try_message(w.lang(), &if def { format!("{key}-def") } else { key })
    };
    said(found, english)
}

/// The figures behind an indicator's value in the visitor's language.
fn detail_text(w: &Localised, i: &Indicator) -> Said {
    let p = &i.detail_phrase;
    if w.lang() == Lang::En || english_detail(p.id) == Some("") {
        return said(Some(i.detail.clone()), &i.detail);
    }
    let args: Vec<(&'static str, String)> =
        p.args.iter().map(|(k, a)| (*k, render_arg(w, a))).collect();
    said(
        try_message_with(w.lang(), &format!("dxd-{}", p.id), &args),
        &i.detail,
    )
}

/// What a rule says happens if its obligation is not met, in the visitor's
/// language: the consequence recorded with a breach, else the rule's `or
/// else`.
fn consequence_text(
    w: &Localised,
    arr: &Arrangement,
    rule: &str,
    breached: Option<&saanjh_core::diagnosis::indicators::ObligationTrack>,
    english: &str,
) -> String {
    if w.lang() == Lang::En {
        return english.to_string();
    }
    if let Some(o) = breached {
        return w.consequence(rule, o.escalated_from.is_some(), english);
    }
    let Some(oe) = arr
        .file
        .rules
        .iter()
        .find(|r| r.id == rule)
        .and_then(|r| r.or_else.as_ref())
    else {
        return english.to_string();
    };
    let mut parts = vec![];
    if let Some(p) = &oe.escalate_to {
        parts.push(
            Phrase::new("conseq-escalate")
                .name("who", Name::Position(p.as_ref().clone()))
                .boxed(),
        );
    }
    if let Some(t) = &oe.transition {
        parts.push(
            Phrase::new("conseq-transition")
                .arg("stage", Arg::Quoted(Name::Stage(t.as_ref().clone())))
                .boxed(),
        );
    }
    if let Some(p) = &oe.penalty {
        parts.push(Arg::Name(Name::Text {
            key: format!("rule.{rule}.penalty"),
            english: p.clone(),
        }));
    }
    render_arg(w, &Arg::List(parts, Conj::And))
}

/// The conditions as horizontal bars of membership, the crossover (0.5)
/// marked; weak conditions in red. The same figures are in the table
/// beside it.
fn profile_svg(v: &Visitor, rows: &[(String, Option<f64>)]) -> String {
    use std::fmt::Write;
    let label_w = 150.0;
    let bar_w = 160.0;
    let h = 22.0 * rows.len() as f64 + 24.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 {h}" width="100%" style="max-width:480px" role="img" aria-label="{l}"><title>{l}</title>"##,
        l = esc(&v.t("dx-profile"))
    );
    for (k, (name, m)) in rows.iter().enumerate() {
        let y = 6.0 + 22.0 * k as f64;
        let _ = write!(
            out,
            r##"<text x="{x}" y="{ty}" font-size="10" text-anchor="end" fill="#1b1b1b">{n}</text><rect x="{label_w}" y="{y}" width="{bar_w}" height="14" fill="none" stroke="#767676"/>"##,
            x = label_w - 4.0,
            ty = y + 11.0,
            n = esc(name)
        );
        if let Some(m) = m {
            let colour = if *m < 0.5 { "#a01818" } else { "#1e6b2a" };
            let _ = write!(
                out,
                r##"<rect x="{label_w}" y="{y}" width="{w:.1}" height="14" fill="{colour}"/>"##,
                w = bar_w * m.clamp(0.0, 1.0)
            );
        }
    }
    let cx = label_w + bar_w / 2.0;
    let bottom = 6.0 + 22.0 * rows.len() as f64;
    let _ = write!(
        out,
        r##"<line x1="{cx}" y1="2" x2="{cx}" y2="{bottom}" stroke="#1b1b1b" stroke-dasharray="3 2"/><text x="{label_w}" y="{t}" font-size="9" fill="#444">0</text><text x="{cx}" y="{t}" font-size="9" text-anchor="middle" fill="#444">0.5</text><text x="{e}" y="{t}" font-size="9" text-anchor="end" fill="#444">1</text></svg>"##,
        t = bottom + 12.0,
        e = label_w + bar_w
    );
    out
}

/// A link to an event on its scheme's page, or the event's number alone
/// when it belongs to no scheme (a meeting of the whole initiative).
pub struct EventLink {
    pub seq: i64,
    pub href: Option<String>,
}

pub struct IndicatorView {
    pub name: Said,
    pub definition: Said,
    pub defined_by_arrangement: bool,
    pub value: String,
    pub detail: Said,
    pub membership: String,
    pub anchors: String,
    pub events: Vec<EventLink>,
    pub more_events: usize,
    /// `(month, value)` pairs, oldest first, only when it changed.
    pub series: String,
    pub per_scheme: Vec<(String, String)>,
}

pub struct ObligationView {
    pub who: String,
    pub action: String,
    pub due: String,
    pub scheme_href: String,
}

pub struct ConditionView {
    pub id: String,
    pub name: String,
    pub membership: String,
    pub weak: bool,
    pub indicators: Vec<IndicatorView>,
    pub breached: Vec<ObligationView>,
    pub passages: Vec<CodedPassage>,
}

pub struct StepView {
    pub condition: String,
    pub position: String,
    pub rule: String,
    pub rule_id: String,
    pub status: String,
    pub due: String,
    pub days_overdue: i64,
    pub consequence: String,
    pub scheme_href: String,
}

#[derive(Template)]
#[template(path = "diagnosis.html")]
struct DiagnosisPage<'a> {
    c: &'a Visitor,
    m: Measured,
    chart: String,
    profile: Vec<(String, String, bool)>,
    weak: Vec<String>,
    conditions: Vec<ConditionView>,
    steps: Vec<StepView>,
    partner: bool,
}

/// The name of a condition (or the outcome) in the visitor's language.
fn cond_name(v: &Visitor, id: &str) -> String {
    v.word(&format!("cond-{id}"))
}

/// Whether the visitor may read the initiative's coded passages.
async fn is_partner(state: &AppState, v: &Visitor, initiative: &str) -> Result<bool, ApiError> {
    let Some(u) = &v.user else { return Ok(false) };
    if u.is_admin != 0 {
        return Ok(true);
    }
    let Some(p) = &u.person_id else {
        return Ok(false);
    };
    Ok(!state.store.positions_of(initiative, p).await?.is_empty())
}

/// Which scheme each cited event belongs to, from the kept tracker.
async fn event_schemes(
    state: &AppState,
    m: &Measured,
    arr: &std::sync::Arc<Arrangement>,
    cited: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, String>, ApiError> {
    let ctx = saanjh_core::diagnosis::Context::default();
    let kept = crate::trackers::up_to_date(state, &m.id, arr, &ctx).await?;
    Ok(kept.tracker.events_by_scheme(cited))
}

/// `GET /initiatives/{id}/diagnosis` — the diagnosis page.
pub async fn diagnosis(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let m = diagnosis_api::measure(&state, &id, &BTreeMap::new())
        .await
        .map_err(|e| v.fail(e))?;
    let partner = is_partner(&state, &v, &id).await?;
    let passages = if partner {
        diagnosis_api::passages_by_condition(&state, &id).await?
    } else {
        BTreeMap::new()
    };
    let d = &m.diagnosis;
    let cited: BTreeSet<i64> = d
        .indicators
        .iter()
        .flat_map(|i| i.events.iter().take(8).copied())
        .collect();
    let arr = state
        .arrangement(&m.arrangement, m.arrangement_version)
        .await?;
    let w = v.words(&arr);
    let schemes = event_schemes(&state, &m, &arr, &cited).await?;
    let link = |seq: i64| EventLink {
        seq,
        href: schemes.get(&seq).map(|s| format!("/schemes/{s}#e{seq}")),
    };
    let order: Vec<&str> = CONDITIONS.iter().copied().chain([OUTCOME]).collect();
    let profile_rows: Vec<(String, Option<f64>)> = order
        .iter()
        .map(|c| {
            (
                cond_name(&v, c),
                d.conditions
                    .iter()
                    .find(|x| x.condition == *c)
                    .and_then(|x| x.membership),
            )
        })
        .collect();
    let chart = profile_svg(&v, &profile_rows);
    let profile = profile_rows
        .iter()
        .map(|(n, m)| (n.clone(), m2(*m), m.is_some_and(|m| m < 0.5)))
        .collect();
    let conditions = order
        .iter()
        .map(|c| {
            let score = d.conditions.iter().find(|x| x.condition == *c);
            let indicators = d
                .indicators
                .iter()
                .filter(|i| i.condition == *c)
                .map(|i| {
                    let cal = score.and_then(|s| s.calibrated.iter().find(|k| k.indicator == i.id));
                    let mut last: Option<String> = None;
                    let series: Vec<String> = i
                        .over_time
                        .iter()
                        .filter_map(|(month, val)| {
                            let t = val.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into());
                            (last.as_deref() != Some(&t)).then(|| {
                                last = Some(t.clone());
                                format!("{month}: {t}")
                            })
                        })
                        .collect();
                    IndicatorView {
                        name: indicator_text(&w, i, false),
                        definition: indicator_text(&w, i, true),
                        defined_by_arrangement: i.defined_by == "arrangement",
                        value: value_text(i),
                        detail: detail_text(&w, i),
                        membership: cal
                            .map(|k| format!("{:.2}", k.membership))
                            .unwrap_or_default(),
                        anchors: cal
                            .map(|k| {
                                format!(
                                    "{} / {} / {}",
                                    k.anchors.exclusion, k.anchors.crossover, k.anchors.inclusion
                                )
                            })
                            .unwrap_or_default(),
                        events: i.events.iter().take(8).map(|&s| link(s)).collect(),
                        more_events: i.events.len().saturating_sub(8),
                        series: series.join(" · "),
                        per_scheme: i
                            .per_scheme
                            .iter()
                            .map(|(s, x)| (s.clone(), format!("{x:.2}")))
                            .collect(),
                    }
                })
                .collect();
            ConditionView {
                id: c.to_string(),
                name: cond_name(&v, c),
                membership: m2(score.and_then(|s| s.membership)),
                weak: score.is_some_and(|s| s.is_weak()),
                indicators,
                breached: d
                    .breached
                    .get(*c)
                    .into_iter()
                    .flatten()
                    .map(|o| ObligationView {
                        who: w.say(Name::Position(o.position.clone())),
                        action: w.say(Name::Action(o.action.clone())),
                        due: o.due.get(..10).unwrap_or(&o.due).to_string(),
                        scheme_href: format!("/schemes/{}", o.scheme),
                    })
                    .collect(),
                passages: passages.get(*c).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let steps = d
        .next_steps
        .iter()
        .map(|s| {
            let breached = d.breached.values().flatten().find(|o| o.id == s.obligation);
            StepView {
                condition: cond_name(&v, &s.condition),
                position: w.say(Name::Position(s.position.clone())),
                rule: arr
                    .file
                    .rules
                    .iter()
                    .find(|r| r.id == s.rule)
                    .map(|r| w.line(&rule_line(&arr, r)))
                    .unwrap_or_else(|| s.rule_in_words.clone()),
                rule_id: s.rule.clone(),
                status: s.status.clone(),
                due: s.due.get(..10).unwrap_or(&s.due).to_string(),
                days_overdue: s.days_overdue,
                consequence: s
                    .consequence
                    .as_deref()
                    .map(|c| consequence_text(&w, &arr, &s.rule, breached, c))
                    .unwrap_or_default(),
                scheme_href: format!("/schemes/{}", s.scheme),
            }
        })
        .collect();
    let weak = d.weak.iter().map(|w| cond_name(&v, w)).collect();
    page(DiagnosisPage {
        c: &v,
        chart,
        profile,
        weak,
        conditions,
        steps,
        partner,
        m,
    })
}

// ── Comparison ──

/// Initiatives shown per page of the pick list.
const PICK_PAGE: i64 = 50;

/// Up to this many cases the frame has a column per case; beyond, a column
/// per arrangement (means over its cases), so that a comparison of
/// thousands stays a page a phone can open. The CSV keeps every case.
const CASE_COLUMNS: usize = 12;

/// The comparison page's query: a link's `initiatives=a,b` /
/// `arrangements=x,y`, or the form's filters, ticked boxes (`i=`, `a=`) and
/// which button was pressed (`do`: `find`, `compare` the ticked, `all` that
/// match).
#[derive(Debug, Default)]
pub struct CompareQuery {
    /// Initiative ids, comma-separated (from a link).
    pub initiatives: Option<String>,
    /// Arrangement ids, comma-separated.
    pub arrangements: Option<String>,
    /// Ticked initiatives, one `i=` per box (from the form).
    pub i: Vec<String>,
    /// Ticked arrangements, one `a=` per box (from the form).
    pub a: Vec<String>,
    pub name: Option<String>,
    pub area: Option<String>,
    pub stage: Option<String>,
    /// The last `do=` (the form sends `find` first, a button may add another).
    pub act: Option<String>,
    /// Page of the pick list, from 1.
    pub page: i64,
}

fn split_list(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
}

impl CompareQuery {
    fn from_pairs(pairs: Vec<(String, String)>) -> CompareQuery {
        let mut q = CompareQuery {
            page: 1,
            ..CompareQuery::default()
        };
        let text = |v: String| Some(v).filter(|v| !v.trim().is_empty());
        for (k, v) in pairs {
            match k.as_str() {
                "initiatives" => q.initiatives = Some(v),
                "arrangements" => q.arrangements = Some(v),
                "i" => q.i.push(v),
                "a" => q.a.push(v),
                "name" => q.name = text(v),
                "area" => q.area = text(v),
                "stage" => q.stage = text(v),
                "do" => q.act = Some(v),
                "p" => q.page = v.trim().parse::<i64>().unwrap_or(1).max(1),
                _ => {}
            }
        }
        q
    }
    /// The ticked (or linked) initiatives, each once, in order.
    fn chosen(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        let linked = self.initiatives.as_deref().map(split_list);
        for id in self.i.iter().cloned().chain(linked.into_iter().flatten()) {
            let id = id.trim().to_string();
            if !id.is_empty() && !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }
    fn chosen_arrangements(&self) -> Vec<String> {
        let mut out: Vec<String> = self.a.clone();
        if let Some(s) = &self.arrangements {
            out.extend(split_list(s));
        }
        out.retain(|x| !x.trim().is_empty());
        out.dedup();
        out
    }
    /// The filters of the pick list.
    fn matching(&self) -> saanjh_store::InitiativeQuery {
        saanjh_store::InitiativeQuery {
            name: self.name.clone(),
            area: self.area.clone(),
            arrangements: self.chosen_arrangements(),
            stage: self.stage.clone(),
        }
    }
    /// The comparison asked for, if any. With no filter at all, "all that
    /// match" is every initiative, named as all arrangements (`all`).
    fn selection(&self, all: &[String]) -> Option<Result<Selection, ApiError>> {
        let nothing = || {
            ApiError::unprocessable(
                "a comparison of zero initiatives: tick at least one initiative, or choose all that match",
            )
        };
        match self.act.as_deref() {
            Some("find") => None,
            Some("compare") => {
                let chosen = self.chosen();
                Some(if chosen.is_empty() {
                    Err(nothing())
                } else {
                    Ok(Selection {
                        initiatives: chosen,
                        matching: Default::default(),
                    })
                })
            }
            Some("all") => {
                let mut matching = self.matching();
                if matching == saanjh_store::InitiativeQuery::default() {
                    matching.arrangements = all.to_vec();
                }
                Some(Ok(Selection {
                    initiatives: vec![],
                    matching,
                }))
            }
            // A link: what it names.
            _ => {
                let chosen = self.chosen();
                if !chosen.is_empty() {
                    return Some(Selection::from_params(
                        Some(&chosen.join(",")),
                        None,
                        None,
                        None,
                        None,
                    ));
                }
                if self.initiatives.is_some() {
                    return Some(Err(nothing()));
                }
                let m = self.matching();
                if m == saanjh_store::InitiativeQuery::default() && self.arrangements.is_none() {
                    return None;
                }
                let arrangements = m.arrangements.join(",");
                Some(Selection::from_params(
                    None,
                    Some(arrangements.as_str())
                        .filter(|a| !a.is_empty() || self.arrangements.is_some()),
                    m.name.as_deref(),
                    m.area.as_deref(),
                    m.stage.as_deref(),
                ))
            }
        }
    }
}

pub struct CaseColumn {
    pub name: String,
    pub arrangement: String,
    /// Where the column's heading leads: a case's diagnosis, or a group's
    /// own comparison.
    pub href: String,
}

/// One row of a comparison table: a label and a cell per case.
pub struct Row {
    pub label: String,
    /// The label is the English fallback of a missing translation.
    pub english: bool,
    pub cells: Vec<String>,
    /// Cells marked weak (membership below 0.5).
    pub weak: Vec<bool>,
}

pub struct RuleView {
    pub rule_type: String,
    /// The item as the file names it (`community.president`, a rule id).
    pub item: String,
    /// The item in the visitor's language where the arrangement has words.
    pub item_name: String,
    /// `item_name` is the English fallback.
    pub item_english: bool,
    pub differs: bool,
    /// Per arrangement: the rule in words, as parts `(text, is code)` (ids
    /// and conditions, kept as written and set left to right, so an Urdu
    /// line does not reorder `a >= 25`), and whether the words are the
    /// English fallback.
    pub texts: Vec<(Vec<(String, bool)>, bool)>,
}

/// A rule's words split at its backticks: what is between them is code.
fn code_parts(said: &str) -> Vec<(String, bool)> {
    said.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| (part.to_string(), i % 2 == 1))
        .collect()
}

/// One row of the pick list.
pub struct Pick {
    pub id: String,
    pub name: String,
    pub place: String,
    pub arrangement: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage<'a> {
    c: &'a Visitor,
    query: String,
    name: String,
    area: String,
    stages: Vec<(String, String, bool)>,
    arrangement_choices: Vec<(String, bool)>,
    picks: Vec<Pick>,
    /// Ticked initiatives not on this page of the list, carried along.
    carried: Vec<String>,
    total: i64,
    page: i64,
    pages: i64,
    report: Option<Report>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "compare_report.html")]
struct ReportPage<'a> {
    c: &'a Visitor,
    query: String,
    report: Report,
}

/// One case's coded passages, grouped by the condition they speak to:
/// (case, [(condition, passages)]).
pub type CasePassages = (String, Vec<(String, Vec<CodedPassage>)>);

/// The comparison in the IAD frame, ready for either template.
pub struct Report {
    pub cases: Vec<CaseColumn>,
    /// When the columns are arrangements: how many cases they stand for.
    pub grouped: Option<usize>,
    /// The rules table's columns: (arrangement id, its name in the
    /// visitor's language, whether that name is the English fallback).
    pub arrangements: Vec<(String, String, bool)>,
    pub context: Vec<Row>,
    pub rules: Vec<RuleView>,
    pub rules_differing: usize,
    pub patterns: Vec<(String, Vec<Row>)>,
    pub outcomes: Vec<Row>,
    /// Per case, per condition: the partners' words (partners only).
    pub passages: Vec<CasePassages>,
}

/// A raw value in an indicator's unit.
fn unit_text(unit: &str, v: Option<f64>) -> String {
    match (v, unit) {
        (None, _) => "—".into(),
        (Some(v), "share") => format!("{:.0}%", v * 100.0),
        (Some(v), "days" | "count") => format!("{v:.0}"),
        (Some(v), _) => format!("{v:.2}"),
    }
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, sum) = xs.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| sum / n as f64)
}

async fn build_report(
    state: &AppState,
    v: &Visitor,
    selection: &Selection,
) -> Result<Report, ApiError> {
    let cmp = diagnosis_api::compare(state, selection, &BTreeMap::new()).await?;
    let ms = &cmp.measured;
    let mut arrs: BTreeMap<(String, u32), std::sync::Arc<Arrangement>> = BTreeMap::new();
    for m in ms {
        let key = (m.arrangement.clone(), m.arrangement_version);
        if let std::collections::btree_map::Entry::Vacant(slot) = arrs.entry(key) {
            slot.insert(
                state
                    .arrangement(&m.arrangement, m.arrangement_version)
                    .await?,
            );
        }
    }
    // The columns: each case, or each arrangement's cases when there are
    // too many cases for a column each.
    let grouped = ms.len() > CASE_COLUMNS;
    let mut columns: Vec<Vec<&Measured>> = vec![];
    if grouped {
        let mut by: BTreeMap<&str, Vec<&Measured>> = BTreeMap::new();
        for m in ms {
            by.entry(m.arrangement.as_str()).or_default().push(m);
        }
        columns.extend(by.into_values());
    } else {
        columns.extend(ms.iter().map(|m| vec![m]));
    }
    let words_of = |m: &Measured| {
        arrs.get(&(m.arrangement.clone(), m.arrangement_version))
            .map(|a| v.words(a))
    };
    let cases = columns
        .iter()
        .filter_map(|col| {
            let m = col.first()?;
            Some(if grouped {
                let name = words_of(m)
                    .map(|w| w.say(Name::Arrangement))
                    .unwrap_or_else(|| m.arrangement.clone());
                let mut group = selection.matching.clone();
                group.arrangements = vec![m.arrangement.clone()];
                CaseColumn {
                    name: message_with_n(v, "cmp-group-name", &name, col.len()),
                    arrangement: m.arrangement.clone(),
                    href: format!(
                        "/compare?{}",
                        Selection {
                            initiatives: vec![],
                            matching: group,
                        }
                        .query()
                    ),
                }
            } else {
                CaseColumn {
                    name: m.name.clone(),
                    arrangement: m.arrangement.clone(),
                    href: format!("/initiatives/{}/diagnosis", m.id),
                }
            })
        })
        .collect();
    let row = |label: String, cells: Vec<String>| Row {
        label,
        english: false,
        weak: vec![false; cells.len()],
        cells,
    };
    let per_col = |f: &dyn Fn(&[&Measured]) -> String| -> Vec<String> {
        columns.iter().map(|c| f(c)).collect()
    };
    let mut context = vec![row(
        v.t("dx-arrangement"),
        per_col(&|c| {
            let versions: BTreeSet<String> = c
                .iter()
                .map(|m| format!("{} v{}", m.arrangement, m.arrangement_version))
                .collect();
            versions.into_iter().collect::<Vec<_>>().join(", ")
        }),
    )];
    if grouped {
        context.push(row(
            v.t("cmp-initiatives"),
            per_col(&|c| c.len().to_string()),
        ));
        context.push(row(
            v.t("cmp-districts"),
            per_col(&|c| {
                c.iter()
                    .map(|m| m.district.as_str())
                    .collect::<BTreeSet<_>>()
                    .len()
                    .to_string()
            }),
        ));
    } else {
        context.push(row(
            v.t("dx-district"),
            per_col(&|c| {
                c.iter()
                    .map(|m| format!("{}, {}", m.locality, m.district))
                    .collect::<Vec<_>>()
                    .join("; ")
            }),
        ));
    }
    context.push(row(
        v.t("dx-schemes"),
        per_col(&|c| c.iter().map(|m| m.schemes).sum::<usize>().to_string()),
    ));
    context.push(row(
        v.t("dx-households"),
        per_col(&|c| c.iter().map(|m| m.households).sum::<usize>().to_string()),
    ));
    let arr_by_id = |id: &str| arrs.values().find(|a| a.id() == id);
    // The rules table's columns: each arrangement by its name in the
    // visitor's language (English fallback marked), with its id.
    let arrangements: Vec<(String, String, bool)> = cmp
        .rules_in_use
        .first()
        .map(|r| {
            r.text
                .keys()
                .map(|id| match arr_by_id(id) {
                    Some(a) => {
                        let name = v.words(a).say(Name::Arrangement);
                        let english = v.lang != Lang::En && name == a.file.arrangement.name;
                        (id.clone(), name, english)
                    }
                    None => (id.clone(), id.clone(), true),
                })
                .collect()
        })
        .unwrap_or_default();
    // Each rule in the visitor's language, by the words of the arrangement
    // it belongs to; a cell whose words are all the English fallback is
    // marked so (lang="en").
    let rules: Vec<RuleView> = cmp
        .rules_in_use
        .iter()
        .map(|r: &RuleRow| {
            let first = r
                .lines
                .iter()
                .find(|(_, l)| l.is_some())
                .and_then(|(id, _)| arr_by_id(id));
            let item_name = match (&r.name, first) {
                (Some(n), Some(a)) => render_arg(&v.words(a), n),
                _ => r.item.clone(),
            };
            let item_english = first.is_some_and(|a| {
                v.lang != Lang::En
                    && r.name
                        .as_ref()
                        .is_some_and(|n| render_arg(&English(&a.file), n) == item_name)
            });
            let texts = r
                .lines
                .iter()
                .map(|(id, line)| match (line, arr_by_id(id)) {
                    (Some(l), Some(a)) => {
                        let said = v.words(a).line(l);
                        let english =
                            v.lang != Lang::En && said == render_line(&English(&a.file), l);
                        (code_parts(&said), english)
                    }
                    _ => (vec![("—".to_string(), false)], false),
                })
                .collect();
            RuleView {
                rule_type: v.word(&format!("iad-{}", r.rule_type)),
                item: r.item.clone(),
                item_name,
                item_english,
                differs: r.differs,
                texts,
            }
        })
        .collect();
    let rules_differing = rules.iter().filter(|r| r.differs).count();
    // Patterns of interaction: every indicator, grouped by condition, in
    // the order the first case reports them (arrangement-defined ones of
    // other cases appended); for a group, the mean over its cases measured.
    let mut ids: Vec<(String, String, String, Said)> = vec![];
    for m in ms {
        let Some(w) = words_of(m) else { continue };
        for i in &m.diagnosis.indicators {
            if !ids.iter().any(|(x, ..)| *x == i.id) {
                ids.push((
                    i.id.clone(),
                    i.condition.clone(),
                    i.unit.clone(),
                    indicator_text(&w, i, false),
                ));
            }
        }
    }
    let patterns = CONDITIONS
        .iter()
        .copied()
        .chain([OUTCOME])
        .map(|c| {
            let rows = ids
                .iter()
                .filter(|(_, cond, ..)| cond == c)
                .map(|(id, _, unit, name)| {
                    let cells = per_col(&|col| {
                        let values: Vec<f64> = col
                            .iter()
                            .filter_map(|m| {
                                m.diagnosis
                                    .indicators
                                    .iter()
                                    .find(|i| &i.id == id)
                                    .and_then(|i| i.value)
                            })
                            .collect();
                        let has = col
                            .iter()
                            .any(|m| m.diagnosis.indicators.iter().any(|i| &i.id == id));
                        if !has {
                            "·".into()
                        } else if grouped {
                            format!(
                                "{} ({}/{})",
                                unit_text(unit, mean(values.iter().copied())),
                                values.len(),
                                col.len()
                            )
                        } else {
                            unit_text(unit, values.first().copied())
                        }
                    });
                    Row {
                        english: name.english,
                        ..row(name.text.clone(), cells)
                    }
                })
                .collect();
            (cond_name(v, c), rows)
        })
        .collect();
    let outcomes = CONDITIONS
        .iter()
        .copied()
        .chain([OUTCOME])
        .map(|c| {
            let vals: Vec<(Option<f64>, usize, usize)> = columns
                .iter()
                .map(|col| {
                    let xs: Vec<f64> = col.iter().filter_map(|m| m.membership(c)).collect();
                    let weak = xs.iter().filter(|x| **x < 0.5).count();
                    (mean(xs.iter().copied()), weak, xs.len())
                })
                .collect();
            Row {
                label: cond_name(v, c),
                english: false,
                weak: vals.iter().map(|x| x.0.is_some_and(|x| x < 0.5)).collect(),
                cells: vals
                    .into_iter()
                    .map(|(m, weak, n)| {
                        if grouped {
                            format!("{} ({weak}/{n})", m2(m))
                        } else {
                            m2(m)
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    // The partners' words, case by case: only when each case has a column.
    let mut passages = vec![];
    if !grouped {
        for m in ms {
            if is_partner(state, v, &m.id).await? {
                let by = diagnosis_api::passages_by_condition(state, &m.id).await?;
                if !by.is_empty() {
                    passages.push((
                        m.name.clone(),
                        by.into_iter().map(|(c, p)| (cond_name(v, &c), p)).collect(),
                    ));
                }
            }
        }
    }
    Ok(Report {
        cases,
        grouped: grouped.then_some(ms.len()),
        arrangements,
        context,
        rules,
        rules_differing,
        patterns,
        outcomes,
        passages,
    })
}

/// A message with a name and a count.
fn message_with_n(v: &Visitor, key: &str, name: &str, n: usize) -> String {
    super::ctx::message_with(
        v.lang,
        key,
        &[("name", name.to_string()), ("n", n.to_string())],
    )
}

/// `GET /compare` — find initiatives by arrangement, area, stage or name,
/// tick some (or take all that match) and see them side by side.
pub async fn compare(
    v: Visitor,
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = CompareQuery::from_pairs(pairs);
    let mut arrangement_ids: Vec<String> = vec![];
    let mut stage_ids: Vec<String> = vec![];
    for (id, version, _, _) in state.store.arrangements().await? {
        if !arrangement_ids.contains(&id) {
            arrangement_ids.push(id.clone());
        }
        let arr = state.arrangement(&id, version as u32).await?;
        for st in &arr.file.lifecycle.stages {
            if !stage_ids.contains(st.as_ref()) {
                stage_ids.push(st.as_ref().clone());
            }
        }
    }
    let chosen = q.chosen();
    let chosen_arr = q.chosen_arrangements();
    let matching = q.matching();
    let (rows, total) = state
        .store
        .find_initiatives(&matching, PICK_PAGE, (q.page - 1) * PICK_PAGE)
        .await?;
    let picks: Vec<Pick> = rows
        .into_iter()
        .map(|r| Pick {
            on: chosen.contains(&r.id),
            place: format!("{}, {}", r.locality, r.district),
            id: r.id,
            name: r.name,
            arrangement: r.arrangement_id,
        })
        .collect();
    let carried = chosen
        .iter()
        .filter(|id| !picks.iter().any(|p| &p.id == *id))
        .cloned()
        .collect();
    let stages = stage_ids
        .into_iter()
        .map(|s| {
            let on = q.stage.as_deref() == Some(s.as_str());
            (v.stage(&s), s, on)
        })
        .map(|(label, s, on)| (s, label, on))
        .collect();
    let arrangement_choices = arrangement_ids
        .iter()
        .map(|a| (a.clone(), chosen_arr.contains(a)))
        .collect();
    let (report, error, query) = match q.selection(&arrangement_ids) {
        None => (None, None, String::new()),
        Some(Err(e)) if e.status().is_client_error() => {
            (None, Some(e.problem.detail), String::new())
        }
        Some(Err(e)) => return Err(v.fail(e)),
        Some(Ok(sel)) => match build_report(&state, &v, &sel).await {
            Ok(r) => (Some(r), None, sel.query()),
            // A comparison that cannot be made is said on the page, with
            // the form to choose again.
            Err(e) if e.status().is_client_error() => (None, Some(e.problem.detail), String::new()),
            Err(e) => return Err(v.fail(e)),
        },
    };
    page(ComparePage {
        c: &v,
        query,
        name: q.name.clone().unwrap_or_default(),
        area: q.area.clone().unwrap_or_default(),
        stages,
        arrangement_choices,
        picks,
        carried,
        total,
        page: q.page,
        pages: ((total + PICK_PAGE - 1) / PICK_PAGE).max(1),
        report,
        error,
    })
}

/// `GET /compare/report` — the comparison as a printable report.
pub async fn compare_report(
    v: Visitor,
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = CompareQuery::from_pairs(pairs);
    let mut all = vec![];
    for (id, ..) in state.store.arrangements().await? {
        if !all.contains(&id) {
            all.push(id);
        }
    }
    let selection = q
        .selection(&all)
        .unwrap_or_else(|| {
            Err(ApiError::unprocessable(
                "a comparison of zero initiatives: name at least one initiative (or an arrangement that has some)",
            ))
        })
        .map_err(|e| v.fail(e))?;
    let report = build_report(&state, &v, &selection)
        .await
        .map_err(|e| v.fail(e))?;
    page(ReportPage {
        c: &v,
        query: selection.query(),
        report,
    })
}

// ── QCA across initiatives ──

#[derive(Debug, Deserialize, Default)]
pub struct QcaQuery {
    pub arrangements: Option<String>,
    pub incl_cut: Option<String>,
    pub remainders: Option<String>,
}

pub struct TtRow {
    pub values: Vec<u8>,
    pub out: String,
    pub n: u64,
    pub incl: String,
    pub pri: String,
    pub cases: Vec<(String, String)>,
}

pub struct TermView {
    pub term: String,
    pub incl: String,
    pub cov: String,
    pub cov_unique: String,
    pub cases: Vec<(String, String)>,
}

pub struct ModelView {
    pub expression: String,
    pub incl: String,
    pub cov: String,
    pub terms: Vec<TermView>,
}

#[derive(Template)]
#[template(path = "qca.html")]
struct QcaPage<'a> {
    c: &'a Visitor,
    arrangements: String,
    incl_cut: String,
    remainders: bool,
    conditions: Vec<String>,
    rows: Vec<TtRow>,
    models: Vec<ModelView>,
    none: Option<String>,
    excluded: Vec<(String, String, String)>,
    error: Option<String>,
}

fn f3(v: &serde_json::Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.3}"))
        .unwrap_or_else(|| "—".into())
}

fn case_links(v: &serde_json::Value) -> Vec<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["name"]
                    .as_str()
                    .or(c["id"].as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// `GET /qca` — QCA on the calibrated conditions of all (or some
/// arrangements') initiatives; every case links back to its diagnosis.
pub async fn qca(
    v: Visitor,
    State(state): State<AppState>,
    Query(q): Query<QcaQuery>,
) -> PageResult {
    let incl_cut = match q
        .incl_cut
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(s.parse::<f64>().map_err(|_| {
            v.fail(ApiError::unprocessable(format!(
                "inclusion cut `{s}` is not a number"
            )))
        })?),
    };
    let remainders = q.remainders.as_deref() == Some("on");
    let params = QcaParams {
        arrangements: q.arrangements.clone().filter(|s| !s.trim().is_empty()),
        initiatives: None,
        incl_cut,
        remainders: Some(remainders),
        anchors: None,
    };
    let conditions: Vec<String> = CONDITIONS.iter().map(|c| cond_name(&v, c)).collect();
    let mut pg = QcaPage {
        c: &v,
        arrangements: q.arrangements.clone().unwrap_or_default(),
        incl_cut: incl_cut
            .map(|x| x.to_string())
            .unwrap_or_else(|| "0.8".into()),
        remainders,
        conditions,
        rows: vec![],
        models: vec![],
        none: None,
        excluded: vec![],
        error: None,
    };
    match diagnosis_api::qca_report(&state, &params).await {
        Err(e) if e.status().is_client_error() => {
            pg.error = Some(e.problem.detail.clone());
        }
        Err(e) => return Err(v.fail(e)),
        Ok(r) => {
            pg.rows = r["truth_table"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|row| TtRow {
                    values: CONDITIONS
                        .iter()
                        .map(|c| row["conditions"][*c].as_u64().unwrap_or(0) as u8)
                        .collect(),
                    out: row["out"].as_str().unwrap_or("?").to_string(),
                    n: row["n"].as_u64().unwrap_or(0),
                    incl: f3(&row["incl"]),
                    pri: f3(&row["pri"]),
                    cases: case_links(&row["cases"]),
                })
                .collect();
            pg.none = r["solution"]["none"].as_str().map(String::from);
            pg.models = r["solution"]["models"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| ModelView {
                    expression: m["expression"].as_str().unwrap_or_default().to_string(),
                    incl: f3(&m["incl"]),
                    cov: f3(&m["cov"]),
                    terms: m["terms"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|t| TermView {
                            term: t["term"].as_str().unwrap_or_default().to_string(),
                            incl: f3(&t["incl"]),
                            cov: f3(&t["cov"]),
                            cov_unique: f3(&t["cov_unique"]),
                            cases: case_links(&t["cases"]),
                        })
                        .collect(),
                })
                .collect();
            pg.excluded = r["excluded"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    (
                        x["id"].as_str().unwrap_or_default().to_string(),
                        x["name"].as_str().unwrap_or_default().to_string(),
                        x["unmeasured"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c.as_str())
                            .map(|c| cond_name(&v, c))
                            .collect::<Vec<_>>()
                            .join(", "),
                    )
                })
                .collect();
        }
    }
    page(pg)
}

#[cfg(test)]
mod tests {
    use super::super::ctx::{Lang, try_message, try_message_with};
    use saanjh_core::diagnosis::indicators::BUILT_IN_INDICATORS;
    use saanjh_core::diagnosis::words::{DETAIL_IDS, english_detail, indicator_key};

    #[test]
    fn every_built_in_indicator_and_detail_is_said_in_urdu() {
        for id in BUILT_IN_INDICATORS {
            let key = indicator_key(id);
            for k in [key.clone(), format!("{key}-def")] {
                let m = try_message(Lang::Ur, &k).unwrap_or_else(|| panic!("no Urdu `{k}`"));
                assert!(
                    m.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                    "`{k}` is not in Urdu: {m}"
                );
            }
        }
        for id in DETAIL_IDS.iter().filter(|id| **id != "none") {
            // The arguments the English pattern names, each given a figure.
            let pattern = english_detail(id).unwrap_or_default();
            let args: Vec<(&'static str, String)> = pattern
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}'))
                .map(|(name, _)| {
                    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
                    (name, "1".to_string())
                })
                .collect();
            let m = try_message_with(Lang::Ur, &format!("dxd-{id}"), &args)
                .unwrap_or_else(|| panic!("no Urdu `dxd-{id}`"));
            assert!(
                !m.contains("{"),
                "`dxd-{id}` left an argument unfilled: {m}"
            );
        }
    }
}
