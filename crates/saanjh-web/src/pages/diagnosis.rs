//! The diagnosis as pages (issue 8): what makes co-production work in an
//! initiative, initiatives compared in the IAD frame (with a printable
//! report), and QCA across initiatives — the same figures as the JSON API
//! (`diagnosis_api`), server-rendered, in English and Urdu, no script.
//!
//! Measures are public, like the events they are computed from; coded
//! passages (the partners' own words) are shown only to partners of the
//! initiative and administrators, as in the API.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use saanjh_core::diagnosis::coding::CodedPassage;
use saanjh_core::diagnosis::{CONDITIONS, Indicator, OUTCOME};
use serde::Deserialize;

use super::charts::esc;
use super::ctx::Visitor;
use super::{PageResult, page};
use crate::diagnosis_api::{self, Measured, QcaParams, RuleRow};
use crate::{ApiError, AppState};

/// A membership for people: two decimals, or a dash when not measured.
fn m2(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())
}

/// An indicator's raw value in its unit.
fn value_text(i: &Indicator) -> String {
    match (i.value, i.unit.as_str()) {
        (None, _) => "—".into(),
        (Some(v), "share") => format!("{:.0}%", v * 100.0),
        (Some(v), "days") => format!("{v:.0}"),
        (Some(v), "count") => format!("{v:.0}"),
        (Some(v), _) => format!("{v:.2}"),
    }
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
    pub name: String,
    pub definition: String,
    pub defined_by_arrangement: bool,
    pub value: String,
    pub detail: String,
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
    cited: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, String>, ApiError> {
    let arr = state
        .arrangement(&m.arrangement, m.arrangement_version)
        .await?;
    let ctx = saanjh_core::diagnosis::Context::default();
    let kept = crate::trackers::up_to_date(state, &m.id, &arr, &ctx).await?;
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
    let schemes = event_schemes(&state, &m, &cited).await?;
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
                        name: i.name.clone(),
                        definition: i.definition.clone(),
                        defined_by_arrangement: i.defined_by == "arrangement",
                        value: value_text(i),
                        detail: i.detail.clone(),
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
                        who: o.position.clone(),
                        action: o.action.clone(),
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
        .map(|s| StepView {
            condition: cond_name(&v, &s.condition),
            position: s.position_name.clone(),
            rule: s.rule_in_words.clone(),
            rule_id: s.rule.clone(),
            status: s.status.clone(),
            due: s.due.get(..10).unwrap_or(&s.due).to_string(),
            days_overdue: s.days_overdue,
            consequence: s.consequence.clone().unwrap_or_default(),
            scheme_href: format!("/schemes/{}", s.scheme),
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

/// The comparison asked for: from a link (`initiatives=a,b`) or from the
/// form's ticked boxes (`i=a&i=b`, `a=x`).
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
}

impl CompareQuery {
    fn from_pairs(pairs: Vec<(String, String)>) -> CompareQuery {
        let mut q = CompareQuery::default();
        for (k, v) in pairs {
            match k.as_str() {
                "initiatives" => q.initiatives = Some(v),
                "arrangements" => q.arrangements = Some(v),
                "i" => q.i.push(v),
                "a" => q.a.push(v),
                _ => {}
            }
        }
        q
    }
    fn initiatives(&self) -> Option<String> {
        let mut all: Vec<String> = self.i.clone();
        if let Some(s) = &self.initiatives {
            all.extend(s.split(',').map(|x| x.trim().to_string()));
        }
        all.retain(|x| !x.is_empty());
        (!all.is_empty()).then(|| all.join(","))
    }
    fn arrangements(&self) -> Option<String> {
        let mut all: Vec<String> = self.a.clone();
        if let Some(s) = &self.arrangements {
            all.extend(s.split(',').map(|x| x.trim().to_string()));
        }
        all.retain(|x| !x.is_empty());
        (!all.is_empty()).then(|| all.join(","))
    }
    /// The query string that reproduces this comparison.
    fn canonical(&self) -> String {
        match (self.initiatives(), self.arrangements()) {
            (Some(i), _) => format!("initiatives={}", super::ctx::encode(&i)),
            (None, Some(a)) => format!("arrangements={}", super::ctx::encode(&a)),
            _ => String::new(),
        }
    }
}

pub struct CaseColumn {
    pub id: String,
    pub name: String,
    pub arrangement: String,
}

/// One row of a comparison table: a label and a cell per case.
pub struct Row {
    pub label: String,
    pub cells: Vec<String>,
    /// Cells marked weak (membership below 0.5).
    pub weak: Vec<bool>,
}

pub struct RuleView {
    pub rule_type: String,
    pub item: String,
    pub differs: bool,
    pub texts: Vec<String>,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage<'a> {
    c: &'a Visitor,
    query: String,
    choices: Vec<(String, String, bool)>,
    arrangement_choices: Vec<(String, bool)>,
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
    pub arrangements: Vec<String>,
    pub context: Vec<Row>,
    pub rules: Vec<RuleView>,
    pub rules_differing: usize,
    pub patterns: Vec<(String, Vec<Row>)>,
    pub outcomes: Vec<Row>,
    /// Per case, per condition: the partners' words (partners only).
    pub passages: Vec<CasePassages>,
}

async fn build_report(state: &AppState, v: &Visitor, q: &CompareQuery) -> Result<Report, ApiError> {
    let cmp = diagnosis_api::compare(
        state,
        q.initiatives().as_deref(),
        q.arrangements().as_deref(),
        &BTreeMap::new(),
    )
    .await?;
    let ms = &cmp.measured;
    let cases = ms
        .iter()
        .map(|m| CaseColumn {
            id: m.id.clone(),
            name: m.name.clone(),
            arrangement: m.arrangement.clone(),
        })
        .collect();
    let row = |label: String, cells: Vec<String>| Row {
        label,
        weak: vec![false; cells.len()],
        cells,
    };
    let context = vec![
        row(
            v.t("dx-arrangement"),
            ms.iter()
                .map(|m| format!("{} v{}", m.arrangement, m.arrangement_version))
                .collect(),
        ),
        row(
            v.t("dx-district"),
            ms.iter()
                .map(|m| format!("{}, {}", m.locality, m.district))
                .collect(),
        ),
        row(
            v.t("dx-schemes"),
            ms.iter().map(|m| m.schemes.to_string()).collect(),
        ),
        row(
            v.t("dx-households"),
            ms.iter().map(|m| m.households.to_string()).collect(),
        ),
    ];
    let arrangements: Vec<String> = cmp
        .rules_in_use
        .first()
        .map(|r| r.text.keys().cloned().collect())
        .unwrap_or_default();
    let rules: Vec<RuleView> = cmp
        .rules_in_use
        .iter()
        .map(|r: &RuleRow| RuleView {
            rule_type: v.word(&format!("iad-{}", r.rule_type)),
            item: r.item.clone(),
            differs: r.differs,
            texts: r
                .text
                .values()
                .map(|t| t.clone().unwrap_or_else(|| "—".into()))
                .collect(),
        })
        .collect();
    let rules_differing = rules.iter().filter(|r| r.differs).count();
    // Patterns of interaction: every indicator, grouped by condition, in
    // the order the first case reports them (arrangement-defined ones of
    // other cases appended).
    let mut ids: Vec<(String, String, String)> = vec![];
    for m in ms {
        for i in &m.diagnosis.indicators {
            if !ids.iter().any(|(x, _, _)| *x == i.id) {
                ids.push((i.id.clone(), i.condition.clone(), i.name.clone()));
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
                .filter(|(_, cond, _)| cond == c)
                .map(|(id, _, name)| {
                    let cells = ms
                        .iter()
                        .map(|m| {
                            m.diagnosis
                                .indicators
                                .iter()
                                .find(|i| &i.id == id)
                                .map(value_text)
                                .unwrap_or_else(|| "·".into())
                        })
                        .collect();
                    row(name.clone(), cells)
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
            let vals: Vec<Option<f64>> = ms.iter().map(|m| m.membership(c)).collect();
            Row {
                label: cond_name(v, c),
                weak: vals.iter().map(|x| x.is_some_and(|x| x < 0.5)).collect(),
                cells: vals.into_iter().map(m2).collect(),
            }
        })
        .collect();
    let mut passages = vec![];
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
    Ok(Report {
        cases,
        arrangements,
        context,
        rules,
        rules_differing,
        patterns,
        outcomes,
        passages,
    })
}

/// `GET /compare` — choose initiatives (or arrangements) and see them side
/// by side.
pub async fn compare(
    v: Visitor,
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = CompareQuery::from_pairs(pairs);
    let chosen: BTreeSet<String> = q
        .initiatives()
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    let chosen_arr: BTreeSet<String> = q
        .arrangements()
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    let mut choices = vec![];
    let mut arrangement_ids = BTreeSet::new();
    let mut offset = 0;
    loop {
        let rows = state.store.initiatives(None, 500, offset).await?;
        let n = rows.len();
        for r in rows {
            arrangement_ids.insert(r.arrangement_id.clone());
            let on = chosen.contains(&r.id);
            choices.push((r.id, r.name, on));
        }
        if n < 500 || choices.len() >= 2_000 {
            break;
        }
        offset += 500;
    }
    let arrangement_choices = arrangement_ids
        .into_iter()
        .map(|a| {
            let on = chosen_arr.contains(&a);
            (a, on)
        })
        .collect();
    let (report, error) = if chosen.is_empty() && chosen_arr.is_empty() {
        (None, None)
    } else {
        match build_report(&state, &v, &q).await {
            Ok(r) => (Some(r), None),
            // A comparison that cannot be made is said on the page, with
            // the form to choose again.
            Err(e) if e.status().is_client_error() => (None, Some(e.problem.detail)),
            Err(e) => return Err(v.fail(e)),
        }
    };
    page(ComparePage {
        c: &v,
        query: q.canonical(),
        choices,
        arrangement_choices,
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
    let report = build_report(&state, &v, &q).await.map_err(|e| v.fail(e))?;
    page(ReportPage {
        c: &v,
        query: q.canonical(),
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
