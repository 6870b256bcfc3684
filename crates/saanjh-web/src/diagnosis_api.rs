//! Diagnosis over HTTP (issue 8): what makes co-production work, measured
//! from the log.
//!
//! - `GET /initiatives/{id}/diagnosis` — the conditions as a profile, the
//!   weak ones, the evidence behind each (indicators with their events,
//!   obligations breached, figures) and what the rules say the responsible
//!   position should do next;
//! - `GET /compare?initiatives=a,b` or `?arrangements=x,y` — cases side by
//!   side in the IAD frame (context, rules-in-use rule by rule, patterns of
//!   interaction = indicators, outcomes), JSON or `format=csv`; instead of
//!   naming initiatives, `name`, `area` and `stage` (with or without
//!   `arrangements`) choose every initiative that matches, so thousands can
//!   be compared without listing them;
//! - `GET /qca` — `saanjh-qca` on the calibrated conditions of all (or
//!   filtered) initiatives: truth table and solutions with the cases each
//!   term covers.
//!
//! Indicators come from core's pure fold (`saanjh_core::diagnosis`), fed with
//! the initiative's chain; calibration is `saanjh-qca`'s direct method
//! (logistic, idm 0.95), here because core depends on no other project
//! crate. Anchors can be overridden per request with
//! `anchors=indicator:e,c,i;…`; anchors out of order are a 422 and nothing
//! is computed.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use saanjh_core::arrangement::words::{Arg, English, Line, render_line};
use saanjh_core::arrangement::{Arrangement, RULE_TYPES, rule_items};
use saanjh_core::diagnosis::conditions::{self, Anchors};
use saanjh_core::diagnosis::{self, CONDITIONS, Context, Diagnosis, OUTCOME};
use saanjh_qca::{Calibration, Dataset, MinimizeOptions, Setup, TruthTableOptions};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use saanjh_core::diagnosis::coding::{self, Codebook, CodedPassage};
use saanjh_core::engine;
use saanjh_core::event::EventBody;
use saanjh_store::StoreError;

use crate::auth::Caller;
use crate::error::{ApiJson, ApiPath, ApiQuery, Problem};
use crate::service;
use crate::{ApiError, AppState};

/// The diagnosis routes, merged into `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(diagnosis_handler))
        .routes(routes!(compare_handler))
        .routes(routes!(qca_handler))
        .routes(routes!(attach_evidence, list_evidence))
        .routes(routes!(code_passage))
        .routes(routes!(show_codebook))
        .routes(routes!(search_passages))
        .routes(routes!(agreement))
}

// ── Calibration ──

/// `saanjh-qca`'s direct method through the anchors (logistic, the
/// reference's default idm of 0.95).
pub fn calibrate_direct(value: f64, a: &Anchors) -> Result<f64, String> {
    let cal = Calibration::Direct {
        exclusion: a.exclusion,
        crossover: a.crossover,
        inclusion: a.inclusion,
        idm: saanjh_qca::calibrate::IDM_DEFAULT,
        logistic: true,
    };
    cal.apply(&[value], "anchors")
        .map_err(|e| e.to_string())?
        .first()
        .copied()
        .ok_or_else(|| "calibration gave no value".to_string())
}

/// Parses anchor overrides, knowing the indicators the stored
/// arrangements define as well as the built-in ones.
pub async fn overrides(
    state: &AppState,
    spec: Option<&str>,
) -> Result<BTreeMap<String, Anchors>, ApiError> {
    let Some(spec) = spec else {
        return Ok(BTreeMap::new());
    };
    let mut defined = BTreeSet::new();
    for (id, version, _, _) in state.store.arrangements().await? {
        let arr = state.arrangement(&id, version as u32).await?;
        for (name, d) in &arr.file.indicators {
            defined.insert(format!("{}.{name}", d.condition.as_ref()));
        }
    }
    conditions::parse_overrides_with(spec, &defined).map_err(ApiError::unprocessable)
}

// ── Service ──

/// One initiative measured: its row, arrangement and diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub id: String,
    pub name: String,
    pub locality: String,
    pub district: String,
    pub arrangement: String,
    pub arrangement_version: u32,
    pub demo: bool,
    pub schemes: usize,
    pub households: usize,
    pub diagnosis: Diagnosis,
}

impl Measured {
    /// Membership of a condition (or the outcome), if measured.
    pub fn membership(&self, condition: &str) -> Option<f64> {
        self.diagnosis
            .conditions
            .iter()
            .find(|c| c.condition == condition)
            .and_then(|c| c.membership)
    }
}

/// Folds an initiative's chain and diagnoses it at the clock's now.
pub async fn measure(
    state: &AppState,
    id: &str,
    anchors: &BTreeMap<String, Anchors>,
) -> Result<Measured, ApiError> {
    let init = state
        .store
        .initiative(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no initiative `{id}`")))?;
    let arr = state
        .arrangement(&init.arrangement_id, init.arrangement_version as u32)
        .await?;
    let now = state.clock.now();
    let positions = state.store.positions_filled(id).await?;
    let ctx = context(state, id, &arr, positions, now).await?;
    let kept = crate::trackers::up_to_date(state, id, &arr, &ctx).await?;
    let diagnosis = diagnosis::diagnose(&arr, &ctx, &kept.tracker, now, anchors, &calibrate_direct)
        .map_err(ApiError::unprocessable)?;
    let t = &kept.tracker;
    let households = t.schemes().map(|s| s.household_ids.len()).sum();
    Ok(measured(init, t.schemes().count(), households, diagnosis))
}

/// What the log does not say about an initiative, at `now`.
async fn context(
    state: &AppState,
    id: &str,
    arr: &Arrangement,
    positions_filled: BTreeMap<String, i64>,
    now: time::OffsetDateTime,
) -> Result<Context, ApiError> {
    Ok(Context {
        positions_filled,
        reserve: state
            .store
            .reserve_of(id, arr, now.date())
            .await?
            .filter(|r| r.tracked)
            .map(|r| r.years),
    })
}

fn measured(
    init: saanjh_store::InitiativeRow,
    schemes: usize,
    households: usize,
    diagnosis: Diagnosis,
) -> Measured {
    Measured {
        id: init.id,
        name: init.name,
        locality: init.locality,
        district: init.district,
        arrangement: init.arrangement_id,
        arrangement_version: init.arrangement_version as u32,
        demo: init.demo != 0,
        schemes,
        households,
        diagnosis,
    }
}

/// `measure` for many initiatives at once, in `ids`' order: the rows and
/// positions read in bulk, the trackers from memory, their snapshots or
/// their chains in bulk, folded and summarised on every core
/// (`trackers::fold_many`). What comparisons and QCA over many initiatives
/// run.
pub async fn measure_many(
    state: &AppState,
    ids: &[String],
    anchors: &BTreeMap<String, Anchors>,
) -> Result<Vec<Measured>, ApiError> {
    let now = state.clock.now();
    let mut rows = state.store.initiatives_by_id(ids).await?;
    let mut positions = state.store.positions_filled_of(ids).await?;
    let mut jobs = Vec::with_capacity(ids.len());
    let mut inits = Vec::with_capacity(ids.len());
    for id in ids {
        let init = rows
            .remove(id)
            .ok_or_else(|| ApiError::not_found(format!("no initiative `{id}`")))?;
        let arr = state
            .arrangement(&init.arrangement_id, init.arrangement_version as u32)
            .await?;
        let ctx = context(
            state,
            id,
            &arr,
            positions.remove(id).unwrap_or_default(),
            now,
        )
        .await?;
        jobs.push(crate::trackers::Job {
            initiative: id.clone(),
            arrangement: arr,
            ctx,
        });
        inits.push(init);
    }
    let anchors = anchors.clone();
    let diagnoses = crate::trackers::fold_many(state, jobs, move |job, view| {
        let (schemes, households) = (view.schemes(), view.households());
        let d = view
            .diagnose(job, now, &anchors, &calibrate_direct)
            .map_err(ApiError::unprocessable)?;
        Ok((d, schemes, households))
    })
    .await?;
    Ok(inits
        .into_iter()
        .zip(diagnoses)
        .map(|(init, (diagnosis, schemes, households))| {
            measured(init, schemes, households, diagnosis)
        })
        .collect())
}

/// Every initiative id, optionally under some arrangements only.
async fn initiative_ids(
    state: &AppState,
    arrangements: Option<&BTreeSet<String>>,
) -> Result<Vec<String>, ApiError> {
    let mut out = vec![];
    let mut offset = 0;
    loop {
        let rows = state.store.initiatives(None, 500, offset).await?;
        let n = rows.len();
        out.extend(
            rows.into_iter()
                .filter(|r| arrangements.is_none_or(|a| a.contains(&r.arrangement_id)))
                .map(|r| r.id),
        );
        if n < 500 {
            return Ok(out);
        }
        offset += 500;
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

// ── Diagnosis ──

#[derive(Debug, Deserialize, IntoParams)]
pub struct AnchorParams {
    /// Overrides of calibration anchors: `indicator:exclusion,crossover,inclusion;…`
    /// (e.g. `political_commitment.reserve_utilisation:0.1,0.4,0.8`).
    pub anchors: Option<String>,
}

/// An initiative's diagnosis.
#[utoipa::path(get, path = "/initiatives/{id}/diagnosis", tag = "diagnosis", params(("id" = String, Path), AnchorParams),
    responses((status = 200, body = Object, description = "profile, weak conditions, evidence, next steps"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn diagnosis_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AnchorParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let anchors = overrides(&state, q.anchors.as_deref()).await?;
    let m = measure(&state, &id, &anchors).await?;
    // The partners' own words beside the measures, for those who may read them.
    let passages = if require_partner(&state, &caller, &id).await.is_ok() {
        passages_by_condition(&state, &id).await?
    } else {
        BTreeMap::new()
    };
    let profile: BTreeMap<&str, Option<f64>> = m
        .diagnosis
        .conditions
        .iter()
        .map(|c| (c.condition.as_str(), c.membership))
        .collect();
    let evidence: BTreeMap<&str, serde_json::Value> = m
        .diagnosis
        .conditions
        .iter()
        .map(|c| {
            let inds: Vec<&diagnosis::Indicator> = m
                .diagnosis
                .indicators
                .iter()
                .filter(|i| i.condition == c.condition)
                .collect();
            (
                c.condition.as_str(),
                json!({
                    "membership": c.membership,
                    "weak": c.is_weak(),
                    "calibrated": c.calibrated,
                    "indicators": inds,
                    "breached_obligations": m.diagnosis.breached.get(&c.condition).cloned().unwrap_or_default(),
                    "passages": passages.get(&c.condition).cloned().unwrap_or_default(),
                }),
            )
        })
        .collect();
    Ok(Json(json!({
        "initiative": {"id": m.id, "name": m.name, "locality": m.locality, "district": m.district,
            "arrangement": m.arrangement, "arrangement_version": m.arrangement_version, "demo": m.demo},
        "at": m.diagnosis.at,
        "profile": profile,
        "weak": m.diagnosis.weak,
        "evidence": evidence,
        "next_steps": m.diagnosis.next_steps,
    })))
}

// ── Comparison ──

#[derive(Debug, Deserialize, IntoParams)]
pub struct CompareParams {
    /// Initiative ids, comma-separated.
    pub initiatives: Option<String>,
    /// Arrangement ids, comma-separated: all initiatives under each (that
    /// match `name`, `area` and `stage` when given).
    pub arrangements: Option<String>,
    /// Every initiative whose name contains this (case-insensitive).
    pub name: Option<String>,
    /// Every initiative whose district or locality contains this.
    pub area: Option<String>,
    /// Every initiative with a scheme at this stage now.
    pub stage: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    pub anchors: Option<String>,
}

/// One rule's text under each arrangement compared.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleRow {
    /// IAD rule type: boundary, position, scope, choice, aggregation,
    /// information, payoff.
    pub rule_type: String,
    pub item: String,
    /// Arrangement id → the rule in plain English (absent: no such rule).
    pub text: BTreeMap<String, Option<String>>,
    pub differs: bool,
    /// The item in words, as data (for a page in another language).
    #[serde(skip)]
    pub name: Option<Arg>,
    /// Arrangement id → the rule as data, said in the visitor's language
    /// by the page (`text` is its English).
    #[serde(skip)]
    pub lines: BTreeMap<String, Option<Line>>,
}

/// The rules-in-use of several arrangements, rule by rule: each rule of
/// each arrangement in the words `explain` uses, set beside the rule of the
/// others about the same item.
pub fn rules_in_use(arrs: &[&Arrangement]) -> Vec<RuleRow> {
    type Cell = (Arg, BTreeMap<String, Line>);
    let mut rows: BTreeMap<(usize, String), Cell> = BTreeMap::new();
    for a in arrs {
        let id = a.id().to_string();
        for r in rule_items(a) {
            let cell = rows
                .entry((r.rule_type, r.item))
                .or_insert_with(|| (r.name, BTreeMap::new()));
            cell.1.insert(id.clone(), r.line);
        }
    }
    let ids: Vec<(String, &Arrangement)> = arrs.iter().map(|a| (a.id().to_string(), *a)).collect();
    rows.into_iter()
        .map(|((t, item), (name, lines))| {
            let text: BTreeMap<String, Option<String>> = ids
                .iter()
                .map(|(i, a)| {
                    (
                        i.clone(),
                        lines.get(i).map(|l| render_line(&English(&a.file), l)),
                    )
                })
                .collect();
            let distinct: BTreeSet<&Option<String>> = text.values().collect();
            RuleRow {
                rule_type: RULE_TYPES[t].to_string(),
                item,
                differs: distinct.len() > 1,
                text,
                name: Some(name),
                lines: ids
                    .iter()
                    .map(|(i, _)| (i.clone(), lines.get(i).cloned()))
                    .collect(),
            }
        })
        .collect()
}

/// The comparison as the API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub cases: Vec<serde_json::Value>,
    /// Per arrangement: mean membership of each condition over its cases.
    pub groups: Vec<serde_json::Value>,
    pub rules_in_use: Vec<RuleRow>,
    pub measured: Vec<Measured>,
}

/// Which initiatives a comparison is of: named ones, or every one that
/// matches (under some arrangements, with a name, in an area, at a stage).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub initiatives: Vec<String>,
    pub matching: saanjh_store::InitiativeQuery,
}

impl Selection {
    /// From the API's (and the pages' links') parameters.
    pub fn from_params(
        initiatives: Option<&str>,
        arrangements: Option<&str>,
        name: Option<&str>,
        area: Option<&str>,
        stage: Option<&str>,
    ) -> Result<Selection, ApiError> {
        let given = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let matching = saanjh_store::InitiativeQuery {
            name: given(name),
            area: given(area),
            arrangements: arrangements.map(list).unwrap_or_default(),
            stage: given(stage),
        };
        let filtered = matching != saanjh_store::InitiativeQuery::default();
        let nothing = || {
            ApiError::unprocessable(
                "a comparison of zero initiatives: name at least one initiative (or an arrangement that has some)",
            )
        };
        if initiatives.is_some_and(|i| list(i).is_empty()) || (arrangements.is_some() && !filtered)
        {
            return Err(nothing());
        }
        match initiatives {
            Some(_) if filtered || arrangements.is_some() => Err(ApiError::bad_request(
                "give either initiatives=a,b or a choice of all that match (arrangements=x,y, name, area, stage), not both",
            )),
            Some(i) => Ok(Selection {
                initiatives: list(i),
                matching,
            }),
            None if filtered || arrangements.is_some() => Ok(Selection {
                initiatives: vec![],
                matching,
            }),
            None => Err(ApiError::bad_request(
                "give either initiatives=a,b or arrangements=x,y (or name, area, stage)",
            )),
        }
    }

    /// Whether it names initiatives (rather than choosing all that match).
    pub fn named(&self) -> bool {
        !self.initiatives.is_empty()
    }

    /// The query string that gives this selection.
    pub fn query(&self) -> String {
        let enc = crate::pages::encode_query;
        if self.named() {
            return format!("initiatives={}", enc(&self.initiatives.join(",")));
        }
        let m = &self.matching;
        let mut parts = vec![];
        if !m.arrangements.is_empty() {
            parts.push(format!("arrangements={}", enc(&m.arrangements.join(","))));
        }
        for (k, v) in [("name", &m.name), ("area", &m.area), ("stage", &m.stage)] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", enc(v)));
            }
        }
        parts.join("&")
    }

    /// The initiative ids chosen.
    pub async fn ids(&self, state: &AppState) -> Result<Vec<String>, ApiError> {
        if self.named() {
            return Ok(self.initiatives.clone());
        }
        let mut out = vec![];
        let mut offset = 0;
        loop {
            let (rows, _) = state
                .store
                .find_initiatives(&self.matching, 1_000, offset)
                .await?;
            let n = rows.len() as i64;
            out.extend(rows.into_iter().map(|r| r.id));
            if n < 1_000 {
                return Ok(out);
            }
            offset += n;
        }
    }
}

/// Compares initiatives (named, or all that match).
pub async fn compare(
    state: &AppState,
    selection: &Selection,
    anchors: &BTreeMap<String, Anchors>,
) -> Result<Comparison, ApiError> {
    let ids = selection.ids(state).await?;
    if ids.is_empty() {
        return Err(ApiError::unprocessable(
            "a comparison of zero initiatives: name at least one initiative (or an arrangement that has some)",
        ));
    }
    let measured = measure_many(state, &ids, anchors).await?;
    let mut arrs: BTreeMap<(String, u32), std::sync::Arc<Arrangement>> = BTreeMap::new();
    for m in &measured {
        let key = (m.arrangement.clone(), m.arrangement_version);
        if let std::collections::btree_map::Entry::Vacant(slot) = arrs.entry(key) {
            slot.insert(
                state
                    .arrangement(&m.arrangement, m.arrangement_version)
                    .await?,
            );
        }
    }
    let list: Vec<&Arrangement> = arrs.values().map(|a| a.as_ref()).collect();
    let cases = measured
        .iter()
        .map(|m| {
            let patterns: BTreeMap<&str, Option<f64>> = m
                .diagnosis
                .indicators
                .iter()
                .map(|i| (i.id.as_str(), i.value))
                .collect();
            let conds: BTreeMap<&str, Option<f64>> =
                CONDITIONS.iter().map(|c| (*c, m.membership(c))).collect();
            json!({
                "id": m.id, "name": m.name, "arrangement": m.arrangement,
                "context": {"locality": m.locality, "district": m.district, "schemes": m.schemes, "households": m.households, "demo": m.demo},
                "conditions": conds,
                "weak": m.diagnosis.weak,
                "patterns_of_interaction": patterns,
                "outcome": {OUTCOME: m.membership(OUTCOME)},
            })
        })
        .collect();
    let mut by_arr: BTreeMap<&str, Vec<&Measured>> = BTreeMap::new();
    for m in &measured {
        by_arr.entry(m.arrangement.as_str()).or_default().push(m);
    }
    let groups = by_arr
        .iter()
        .map(|(a, ms)| {
            let mean = |c: &str| {
                let v: Vec<f64> = ms.iter().filter_map(|m| m.membership(c)).collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            let conds: BTreeMap<&str, Option<f64>> = CONDITIONS
                .iter()
                .chain([&OUTCOME])
                .map(|c| (*c, mean(c)))
                .collect();
            json!({"arrangement": a, "cases": ms.len(), "mean_membership": conds})
        })
        .collect();
    Ok(Comparison {
        cases,
        groups,
        rules_in_use: rules_in_use(&list),
        measured,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A membership of exactly 0.5 puts a case in no truth-table row; QCA
/// practice (Fiss 2011) adds 0.001 to such memberships before the analysis.
/// Only the QCA data set is nudged; the diagnosis shows the true value.
pub fn qca_membership(m: f64) -> f64 {
    if (m - 0.5).abs() < 1e-12 { 0.501 } else { m }
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_default()
}

/// The comparative case table as CSV: one row per case, columns context,
/// conditions, outcome, then every indicator.
pub fn comparison_csv(c: &Comparison) -> String {
    let ind_ids: Vec<String> = c
        .measured
        .first()
        .map(|m| {
            m.diagnosis
                .indicators
                .iter()
                .map(|i| i.id.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut out = String::from("id,name,arrangement,district,locality,schemes,households");
    for cnd in CONDITIONS.iter().chain([&OUTCOME]) {
        out.push(',');
        out.push_str(cnd);
    }
    for i in &ind_ids {
        out.push(',');
        out.push_str(i);
    }
    out.push('\n');
    for m in &c.measured {
        let mut row = vec![
            csv_field(&m.id),
            csv_field(&m.name),
            csv_field(&m.arrangement),
            csv_field(&m.district),
            csv_field(&m.locality),
            m.schemes.to_string(),
            m.households.to_string(),
        ];
        for cnd in CONDITIONS.iter().chain([&OUTCOME]) {
            row.push(num(m.membership(cnd)));
        }
        for i in &ind_ids {
            row.push(num(m
                .diagnosis
                .indicators
                .iter()
                .find(|x| &x.id == i)
                .and_then(|x| x.value)));
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Initiatives side by side in the IAD frame.
#[utoipa::path(get, path = "/compare", tag = "diagnosis", params(CompareParams),
    responses((status = 200, body = Object, description = "cases, groups and rules-in-use (JSON) or the case table (text/csv)"), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn compare_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CompareParams>,
) -> Result<Response, ApiError> {
    let anchors = overrides(&state, q.anchors.as_deref()).await?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::bad_request(format!(
            "format `{format}`: use json or csv"
        )));
    }
    let selection = Selection::from_params(
        q.initiatives.as_deref(),
        q.arrangements.as_deref(),
        q.name.as_deref(),
        q.area.as_deref(),
        q.stage.as_deref(),
    )?;
    let c = compare(&state, &selection, &anchors).await?;
    if format == "csv" {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            comparison_csv(&c),
        )
            .into_response());
    }
    let mut cases = c.cases.clone();
    for case in cases.iter_mut() {
        let id = case["id"].as_str().unwrap_or_default().to_string();
        if require_partner(&state, &caller, &id).await.is_ok() {
            case["passages"] = json!(passages_by_condition(&state, &id).await?);
        }
    }
    Ok(Json(json!({
        "cases": cases,
        "groups": c.groups,
        "rules_in_use": c.rules_in_use,
    }))
    .into_response())
}

// ── QCA ──

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
pub struct QcaParams {
    /// Only initiatives under these arrangements (comma-separated).
    pub arrangements: Option<String>,
    /// Only these initiatives (comma-separated).
    pub initiatives: Option<String>,
    /// Inclusion cut for a truth-table row to count as sufficient (default 0.8).
    pub incl_cut: Option<f64>,
    /// Include remainders (parsimonious solution); default false (conservative).
    pub remainders: Option<bool>,
    pub anchors: Option<String>,
}

/// QCA on the calibrated conditions of the chosen initiatives, as JSON.
/// Cases with an unmeasured condition are left out and listed. This is the
/// function `saanjh qca --from-db` calls.
pub async fn qca_report(state: &AppState, q: &QcaParams) -> Result<serde_json::Value, ApiError> {
    let anchors = overrides(state, q.anchors.as_deref()).await?;
    let incl_cut = q.incl_cut.unwrap_or(0.8);
    if !(incl_cut > 0.5 && incl_cut <= 1.0) {
        return Err(ApiError::unprocessable("incl_cut must lie in (0.5, 1]"));
    }
    let ids = match (&q.initiatives, &q.arrangements) {
        (Some(i), _) => list(i),
        (None, Some(a)) => {
            let wanted: BTreeSet<String> = list(a).into_iter().collect();
            initiative_ids(state, Some(&wanted)).await?
        }
        (None, None) => initiative_ids(state, None).await?,
    };
    let mut cases = vec![];
    let mut excluded = vec![];
    for m in measure_many(state, &ids, &anchors).await? {
        let missing: Vec<&str> = CONDITIONS
            .iter()
            .chain([&OUTCOME])
            .filter(|c| m.membership(c).is_none())
            .copied()
            .collect();
        if missing.is_empty() {
            cases.push(m);
        } else {
            excluded.push(json!({"id": m.id, "name": m.name, "unmeasured": missing}));
        }
    }
    if cases.len() < 2 {
        return Err(ApiError::unprocessable(format!(
            "QCA needs at least two initiatives with every condition measured; {} qualify ({} left out for unmeasured conditions)",
            cases.len(),
            excluded.len()
        ))
        .with_errors(json!(excluded)));
    }
    let names: Vec<String> = CONDITIONS.iter().map(|c| c.to_string()).collect();
    let value = |m: &Measured, c: &str| qca_membership(m.membership(c).unwrap_or(0.0));
    let mut columns: Vec<Vec<f64>> = CONDITIONS
        .iter()
        .map(|c| cases.iter().map(|m| value(m, c)).collect())
        .collect();
    columns.push(cases.iter().map(|m| value(m, OUTCOME)).collect());
    let mut column_names = names.clone();
    column_names.push(OUTCOME.to_string());
    let data = Dataset {
        case_names: cases.iter().map(|m| m.id.clone()).collect(),
        column_names,
        columns,
    };
    let qca_err = |e: saanjh_qca::QcaError| ApiError::unprocessable(format!("QCA: {e}"));
    let setup = Setup::new(&data, OUTCOME, &names).map_err(qca_err)?;
    let tt = saanjh_qca::truth_table(
        &setup,
        &TruthTableOptions {
            incl_cut1: incl_cut,
            ..TruthTableOptions::default()
        },
    )
    .map_err(qca_err)?;
    let case_ref = |i: usize| {
        let m = &cases[i];
        json!({"id": m.id, "name": m.name, "href": format!("/api/v1/initiatives/{}/diagnosis", m.id)})
    };
    let rows: Vec<serde_json::Value> = tt
        .rows
        .iter()
        .map(|r| {
            let vals: BTreeMap<&str, u8> = names
                .iter()
                .map(String::as_str)
                .zip(tt.values(&setup, r))
                .collect();
            json!({"row": r.number, "conditions": vals, "out": r.out.symbol(), "n": r.n,
                "incl": r.incl, "pri": r.pri, "cases": r.cases.iter().map(|&i| case_ref(i)).collect::<Vec<_>>()})
        })
        .collect();
    let min = saanjh_qca::minimize(
        &setup,
        &tt,
        &MinimizeOptions {
            include_remainders: q.remainders.unwrap_or(false),
            ..MinimizeOptions::default()
        },
    );
    let by_id: BTreeMap<&str, usize> = cases
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let solution = match &min {
        Ok(min) => {
            let s = min.main();
            // The solution's own term list carries the cases each term covers.
            let covers: BTreeMap<&str, &Vec<String>> = s
                .terms
                .iter()
                .map(|t| (t.expression.as_str(), &t.cases))
                .collect();
            let models: Vec<serde_json::Value> = s
                .models
                .iter()
                .map(|m| {
                    json!({"expression": m.expression, "incl": m.incl, "pri": m.pri, "cov": m.cov,
                        "terms": m.terms.iter().map(|t| json!({"term": t.expression, "incl": t.incl, "pri": t.pri, "cov": t.cov, "cov_unique": t.cov_unique,
                            "cases": covers.get(t.expression.as_str()).copied().unwrap_or(&t.cases).iter().map(|c| by_id.get(c.as_str()).map(|&i| case_ref(i)).unwrap_or_else(|| json!({"id": c}))).collect::<Vec<_>>()})).collect::<Vec<_>>()})
                })
                .collect();
            json!({"kind": s.kind, "models": models})
        }
        // No positive rows, for instance: say so rather than fail.
        Err(e) => json!({"none": e.to_string()}),
    };
    Ok(json!({
        "outcome": OUTCOME,
        "conditions": names,
        "incl_cut": incl_cut,
        "cases": cases.iter().map(|m| {
            let mut v = json!({"id": m.id, "name": m.name, "arrangement": m.arrangement});
            for c in CONDITIONS.iter().chain([&OUTCOME]) { v[*c] = json!(value(m, c)); }
            v
        }).collect::<Vec<_>>(),
        "excluded": excluded,
        "truth_table": rows,
        "solution": solution,
    }))
}

/// The calibrated conditions and outcome of the chosen initiatives as a QCA
/// data set in CSV (first column, with an empty header, the initiative id),
/// ready for `saanjh_qca::Dataset::from_csv_str`: what `saanjh qca
/// --from-db` reads instead of a file. Cases with an unmeasured condition
/// are left out and returned by id beside the text.
pub async fn conditions_csv(
    state: &AppState,
    q: &QcaParams,
) -> Result<(String, Vec<String>), ApiError> {
    let anchors = overrides(state, q.anchors.as_deref()).await?;
    let ids = match (&q.initiatives, &q.arrangements) {
        (Some(i), _) => list(i),
        (None, Some(a)) => {
            let wanted: BTreeSet<String> = list(a).into_iter().collect();
            initiative_ids(state, Some(&wanted)).await?
        }
        (None, None) => initiative_ids(state, None).await?,
    };
    let mut out = String::new();
    for c in CONDITIONS.iter().chain([&OUTCOME]) {
        out.push(',');
        out.push_str(c);
    }
    out.push('\n');
    let mut left_out = vec![];
    for m in measure_many(state, &ids, &anchors).await? {
        let values: Vec<Option<f64>> = CONDITIONS
            .iter()
            .chain([&OUTCOME])
            .map(|c| m.membership(c).map(qca_membership))
            .collect();
        if values.iter().any(Option::is_none) {
            left_out.push(m.id.clone());
            continue;
        }
        out.push_str(&csv_field(&m.id));
        for v in values {
            out.push(',');
            out.push_str(&num(v));
        }
        out.push('\n');
    }
    Ok((out, left_out))
}

/// QCA across initiatives.
#[utoipa::path(get, path = "/qca", tag = "diagnosis", params(QcaParams),
    responses((status = 200, body = Object, description = "truth table and solutions with the cases each term covers"), (status = 422, body = Problem)))]
async fn qca_handler(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<QcaParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(qca_report(&state, &q).await?))
}

// ── Qualitative evidence ──
//
// Interviews and documents are partners' words about each other, so only
// signed-in partners of the initiative (or administrators) attach, code and
// read them; the diagnosis shows coded passages to signed-in callers only.

/// The codebook in force: the shipped IAD codebook.
pub fn codebook() -> Codebook {
    Codebook::iad()
}

async fn require_partner(
    state: &AppState,
    caller: &Caller,
    initiative: &str,
) -> Result<(), ApiError> {
    caller.user()?;
    if caller.is_admin() {
        return Ok(());
    }
    let person = caller.person()?;
    if state
        .store
        .positions_of(initiative, person)
        .await?
        .is_empty()
    {
        return Err(ApiError::forbidden(format!(
            "only partners of initiative `{initiative}` may attach, code or read its evidence"
        )));
    }
    Ok(())
}

async fn append_to_initiative(
    state: &AppState,
    caller: &Caller,
    initiative: &str,
    body: EventBody,
) -> Result<i64, ApiError> {
    for attempt in 0..8u64 {
        let (head, _) = state.store.head(initiative).await?;
        match state
            .store
            .append(
                initiative,
                head,
                &caller.actor(),
                &engine::rfc3339(state.clock.now()),
                std::slice::from_ref(&body),
            )
            .await
        {
            Err(StoreError::Conflict(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis((attempt + 1) * 5)).await;
            }
            Err(e) => return Err(e.into()),
            Ok(events) => return Ok(events.first().map(|e| e.seq).unwrap_or(head + 1)),
        }
    }
    Err(ApiError::conflict(
        "the initiative's chain kept moving; try again",
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AttachParams {
    /// `interview` or `document`.
    pub kind: String,
    pub title: String,
}

/// Attach a transcript or document (the request body, UTF-8 text).
#[utoipa::path(post, path = "/initiatives/{id}/evidence", tag = "diagnosis", params(("id" = String, Path), AttachParams),
    request_body(content = String, content_type = "text/plain", description = "the transcript or document, UTF-8"),
    responses((status = 201, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn attach_evidence(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AttachParams>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    state
        .store
        .initiative(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no initiative `{id}`")))?;
    require_partner(&state, &caller, &id).await?;
    if !matches!(q.kind.as_str(), "interview" | "document") {
        return Err(ApiError::unprocessable(format!(
            "kind `{}`: use interview or document",
            q.kind
        )));
    }
    if q.title.trim().is_empty() {
        return Err(ApiError::unprocessable("give the evidence a title"));
    }
    let text = coding::transcript_text(&bytes).map_err(ApiError::unprocessable)?;
    if text.trim().is_empty() {
        return Err(ApiError::unprocessable("the transcript is empty"));
    }
    let evidence = service::new_id();
    let seq = append_to_initiative(
        &state,
        &caller,
        &id,
        EventBody::EvidenceAttached {
            evidence: evidence.clone(),
            evidence_kind: q.kind.clone(),
            title: q.title.trim().to_string(),
            text: text.clone(),
        },
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({"id": evidence, "initiative": id, "kind": q.kind, "title": q.title.trim(), "bytes": text.len(), "event": seq})),
    )
        .into_response())
}

/// The evidence attached to an initiative.
#[utoipa::path(get, path = "/initiatives/{id}/evidence", tag = "diagnosis", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_evidence(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_partner(&state, &caller, &id).await?;
    Ok(Json(
        json!({"items": state.store.evidence_list(&id).await?}),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCoding {
    /// Byte offsets into the evidence's UTF-8 text, end exclusive.
    pub start: u64,
    pub end: u64,
    /// A code of the codebook (see `GET /codebook`).
    pub code: String,
}

/// Code a passage of a piece of evidence (the caller is the coder).
#[utoipa::path(post, path = "/evidence/{id}/passages", tag = "diagnosis", params(("id" = String, Path)), request_body = NewCoding,
    responses((status = 201, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn code_passage(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<NewCoding>,
) -> Result<Response, ApiError> {
    let (row, text) = state
        .store
        .evidence_text(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no evidence `{id}`")))?;
    require_partner(&state, &caller, &row.initiative_id).await?;
    let cb = codebook();
    cb.check_code(&input.code)
        .map_err(ApiError::unprocessable)?;
    let passage = coding::passage(&text, input.start as usize, input.end as usize)
        .map_err(ApiError::unprocessable)?
        .to_string();
    let id_new = service::new_id();
    let coder = caller.actor();
    let seq = append_to_initiative(
        &state,
        &caller,
        &row.initiative_id,
        EventBody::PassageCoded {
            passage: id_new.clone(),
            evidence: id.clone(),
            start: input.start,
            end: input.end,
            text: passage.clone(),
            codebook: cb.id.clone(),
            code: input.code.clone(),
            coder: coder.clone(),
        },
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({"id": id_new, "evidence": id, "code": input.code, "coder": coder, "passage": passage, "event": seq})),
    )
        .into_response())
}

/// The codebook in force.
#[utoipa::path(get, path = "/codebook", tag = "diagnosis", responses((status = 200, body = Object)))]
async fn show_codebook() -> Json<Codebook> {
    Json(codebook())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Words that must all occur in the passage (case-insensitive).
    pub q: Option<String>,
    pub code: Option<String>,
    pub initiative: Option<String>,
}

/// Search coded passages (of the initiatives the caller is a partner of;
/// all for administrators).
#[utoipa::path(get, path = "/passages", tag = "diagnosis", params(SearchParams),
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn search_passages(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.user()?;
    if let Some(c) = &q.code {
        codebook().check_code(c).map_err(ApiError::unprocessable)?;
    }
    if let Some(i) = &q.initiative {
        require_partner(&state, &caller, i).await?;
    }
    let rows = state
        .store
        .coded_passages(q.initiative.as_deref(), q.code.as_deref())
        .await?;
    let mut allowed: BTreeMap<String, bool> = BTreeMap::new();
    let mut passages = vec![];
    for r in rows {
        let ok = match allowed.get(&r.initiative_id) {
            Some(ok) => *ok,
            None => {
                let ok = require_partner(&state, &caller, &r.initiative_id)
                    .await
                    .is_ok();
                allowed.insert(r.initiative_id.clone(), ok);
                ok
            }
        };
        if ok {
            passages.push(to_coded(r));
        }
    }
    let found = coding::search(&passages, q.q.as_deref().unwrap_or(""), None);
    Ok(Json(json!({"items": found})))
}

fn to_coded(r: saanjh_store::PassageRow) -> CodedPassage {
    CodedPassage {
        evidence: r.evidence_id,
        initiative: r.initiative_id,
        start: r.start_byte as usize,
        end: r.end_byte as usize,
        text: r.passage,
        code: r.code,
        coder: r.coder,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AgreementParams {
    /// The two coders (as they appear in the passages), comma-separated.
    pub coders: String,
}

/// Agreement between two coders on an initiative's evidence. Units are
/// stretches where their spans overlap on the same document
/// (`saanjh_core::diagnosis::coding`, module words); Cohen's kappa over the
/// units both coded with one code each, the units only one coded, and per
/// code its kappa (applied or not, over every unit) with its table.
#[utoipa::path(get, path = "/initiatives/{id}/agreement", tag = "diagnosis", params(("id" = String, Path), AgreementParams),
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn agreement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AgreementParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_partner(&state, &caller, &id).await?;
    let coders = list(&q.coders);
    let [a, b] = &coders[..] else {
        return Err(ApiError::unprocessable(
            "name exactly two coders: coders=a,b",
        ));
    };
    if a == b {
        return Err(ApiError::unprocessable(
            "name two different coders: coders=a,b",
        ));
    }
    let rows = state.store.coded_passages(Some(&id), None).await?;
    let spans = |coder: &str| -> Vec<coding::Span> {
        rows.iter()
            .filter(|r| r.coder == coder)
            .map(|r| coding::Span {
                evidence: &r.evidence_id,
                start: r.start_byte.max(0) as usize,
                end: r.end_byte.max(0) as usize,
                code: &r.code,
            })
            .collect()
    };
    let g = coding::agreement(&spans(a), &spans(b));
    if g.coded_by_both == 0 {
        return Err(ApiError::unprocessable(format!(
            "coders `{a}` and `{b}` have not both coded any passage of this initiative (no span of one overlaps a span of the other)"
        )));
    }
    Ok(Json(json!({
        "coders": [a, b],
        "unit_rule": "a unit is a stretch of one document where the two coders' spans overlap (share at least one byte), or one coder's span that overlaps none of the other's",
        "units": g.units,
        "coded_by_both": g.coded_by_both,
        "only_a": g.only_a,
        "only_b": g.only_b,
        "kappa": g.kappa,
        "kappa_units": g.kappa_units,
        "several_codes": g.several_codes,
        "per_code": g.per_code,
        "unit_list": g.unit_list,
    })))
}

/// Coded passages of an initiative grouped by the condition their code
/// speaks to.
pub async fn passages_by_condition(
    state: &AppState,
    initiative: &str,
) -> Result<BTreeMap<String, Vec<CodedPassage>>, ApiError> {
    let cb = codebook();
    let mut out: BTreeMap<String, Vec<CodedPassage>> = BTreeMap::new();
    for r in state.store.coded_passages(Some(initiative), None).await? {
        let cond = cb
            .codes
            .get(&r.code)
            .and_then(|c| c.condition.clone())
            .unwrap_or_else(|| "context".to_string());
        out.entry(cond).or_default().push(to_coded(r));
    }
    Ok(out)
}
