//! Pages for co-assessment (issue 5): citizen reports and community
//! scorecards, beside the Open311 API and the JSON API.
//!
//! - `/reports/{id}` — a report as the public follows it (status, route,
//!   notes, response deadline; never who reported it), with the response
//!   form for a signed-in partner whom the rules let answer it;
//! - `/initiatives/{id}/reports` — an initiative's reports, and those held
//!   for triage with a form to route them, for partners allowed to;
//! - `/schemes/{id}/report` — the public form to report a problem about a
//!   scheme (anonymous allowed; contact details kept private);
//! - `/schemes/{id}/scorecards` — rounds, criteria, scores by user group and
//!   by providers, the chart over rounds, the CSV, and the forms for the
//!   scorecard acts for the positions the rules allow.
//!
//! Every write goes through `open311::service`, the API's own path; pages
//! decide nothing. A citizen's form is protected by a double-submit cookie
//! (no session before sign-in), partners' forms by the session's CSRF.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use saanjh_core::arrangement::{
    Arrangement, AttributeType, Deontic, RecordKind, humanise_position,
};
use saanjh_core::engine::{Actor, SchemeState};
use saanjh_core::reports::{self, ReportStatus};
use saanjh_core::scorecard::{self, ActionInput, Criterion, GroupScores, Party, RoundRecord};
use saanjh_store::{Open311KeyRow, ReportContact, ReportRow};
use serde::Deserialize;

use super::ctx::{Visitor, constant_eq, cookie, encode};
use super::views::{day, now_text};
use super::{PageResult, PagesConfig, page};
use crate::open311::service::{self as o311, Channel, NewReport, NewResponse};
use crate::{ApiError, AppState, auth, service};

/// The cookie carrying a citizen's report form token (double submit).
const REPORT_COOKIE: &str = "saanjh_report";
/// Reports the public form takes per scheme a minute, per process.
const FORM_RATE_PER_MINUTE: i64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/{id}", get(report_page))
        .route("/reports/{id}/respond", post(respond))
        .route("/initiatives/{id}/reports", get(initiative_reports))
        .route("/initiatives/{id}/reports/route", post(route))
        .route("/schemes/{id}/report", get(report_form).post(file))
        .route("/schemes/{id}/scorecards", get(scorecards))
        .route("/schemes/{id}/scorecards/open", post(open_round))
        .route("/scorecards/{round}/scores", post(scores))
        .route("/scorecards/{round}/actions", post(actions))
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn login_first(back: &str) -> Response {
    see_other(&format!("/login?next={}", encode(back)))
}

/// The positions a signed-in visitor holds in an initiative (none for the
/// public or a user who is not a person).
async fn actor(state: &AppState, v: &Visitor, initiative: &str) -> Result<Option<Actor>, ApiError> {
    let Some(person) = v.user.as_ref().and_then(|u| u.person_id.clone()) else {
        return Ok(None);
    };
    let positions = state.store.positions_of(initiative, &person).await?;
    Ok(Some(Actor { person, positions }))
}

/// Whether the rules give `actor` the action that records `kind`.
fn allowed(arr: &Arrangement, actor: Option<&Actor>, kind: RecordKind) -> bool {
    let Some(actor) = actor else { return false };
    let Some((action, _)) = arr
        .file
        .actions
        .iter()
        .find(|(_, a)| a.records == Some(kind))
    else {
        return false;
    };
    let denied = arr
        .rules_for(action)
        .filter(|r| r.deontic == Deontic::MustNot)
        .any(|r| Arrangement::attribute_matches(r.attribute.as_ref(), &actor.positions));
    !denied
        && arr
            .rules_for(action)
            .filter(|r| r.deontic != Deontic::MustNot)
            .any(|r| Arrangement::attribute_matches(r.attribute.as_ref(), &actor.positions))
}

fn status_word(v: &Visitor, status: &str) -> String {
    v.word(&format!("report-status-{status}"))
}

// ── One report ──

struct UpdateLine {
    at: String,
    status: String,
    note: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    c: &'a Visitor,
    r: ReportRow,
    status: String,
    closed: bool,
    initiative_name: String,
    scheme_name: String,
    routed_role: String,
    expected: String,
    overdue: bool,
    updates: Vec<UpdateLine>,
    /// acknowledged / in_progress / closed that this responder may choose.
    can_respond: bool,
    choices: Vec<(String, String)>,
    done: bool,
}

#[derive(Debug, Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

pub async fn report_page(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> PageResult {
    let r = state
        .store
        .report(&id)
        .await?
        .ok_or_else(|| v.fail(ApiError::not_found(v.t1("report-not-found", "id", &id))))?;
    let (init, arr, s) = service::resolve(&state, &r.scheme_id).await?;
    let updates = state
        .store
        .updates_of_report(&r.id)
        .await?
        .into_iter()
        .map(|u| UpdateLine {
            at: u.at.replace('T', " ").trim_end_matches('Z').to_string(),
            status: status_word(&v, &u.status),
            note: u.description.unwrap_or_default(),
        })
        .collect();
    let me = actor(&state, &v, &init.id).await?;
    let status = ReportStatus::parse(&r.status).unwrap_or(ReportStatus::Open);
    let can_respond =
        status != ReportStatus::Closed && allowed(&arr, me.as_ref(), RecordKind::Response);
    let choices = [
        ReportStatus::Acknowledged,
        ReportStatus::InProgress,
        ReportStatus::Closed,
    ]
    .into_iter()
    .filter(|s| *s >= status)
    .map(|s| (s.as_str().to_string(), status_word(&v, s.as_str())))
    .collect();
    let routed_role = arr
        .file
        .partners
        .get(&r.routed_to)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| r.routed_to.clone());
    let now = now_text(&state);
    let expected = r.expected_at.clone().unwrap_or_default();
    page(ReportPage {
        c: &v,
        status: status_word(&v, &r.status),
        closed: status == ReportStatus::Closed,
        initiative_name: init.name,
        scheme_name: s.map(|s| s.name).unwrap_or_default(),
        routed_role,
        overdue: !expected.is_empty() && status != ReportStatus::Closed && expected < now,
        expected: day(&expected),
        updates,
        can_respond,
        choices,
        done: q.done.is_some(),
        r,
    })
}

#[derive(Debug, Deserialize)]
pub struct RespondInput {
    #[serde(default)]
    csrf: String,
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn respond(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(input): Form<RespondInput>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/reports/{id}")));
    }
    v.check_csrf(&input.csrf).map_err(|e| v.fail(e))?;
    let person = v.person().map_err(|e| v.fail(e))?.to_string();
    o311::respond(
        &state,
        &id,
        &person,
        NewResponse {
            status: input.status,
            note: Some(input.note).filter(|n| !n.trim().is_empty()),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("/reports/{id}?done=1")))
}

// ── An initiative's reports ──

struct ReportLine {
    id: String,
    service: String,
    status: String,
    closed: bool,
    agency: String,
    requested: String,
    expected: String,
}

struct HeldLine {
    token: String,
    service: String,
    description: String,
    address: String,
    held: String,
    /// Schemes of the initiative with the report's component.
    schemes: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage<'a> {
    c: &'a Visitor,
    id: String,
    name: String,
    reports: Vec<ReportLine>,
    held_count: usize,
    held: Vec<HeldLine>,
    can_route: bool,
    routed: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct Routed {
    #[serde(default)]
    routed: Option<String>,
}

pub async fn initiative_reports(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Routed>,
) -> PageResult {
    let init = state
        .store
        .initiative(&id)
        .await?
        .ok_or_else(|| v.fail(ApiError::not_found(v.t1("error-no-initiative", "id", &id))))?;
    let arr = state
        .arrangement(&init.arrangement_id, init.arrangement_version as u32)
        .await?;
    let reports = state
        .store
        .initiative_reports(&init.id, 200)
        .await?
        .into_iter()
        .map(|r| ReportLine {
            status: status_word(&v, &r.status),
            closed: r.status == "closed",
            agency: r.agency.clone().unwrap_or_else(|| r.routed_to.clone()),
            requested: day(&r.requested_at),
            expected: r.expected_at.as_deref().map(day).unwrap_or_default(),
            service: r.service_name,
            id: r.id,
        })
        .collect();
    let held_rows = state.store.held_reports(&init.id).await?;
    let me = actor(&state, &v, &init.id).await?;
    let can_route = v.is_admin() || allowed(&arr, me.as_ref(), RecordKind::Response);
    let mut held = vec![];
    if can_route {
        let schemes = state.store.scheme_states(&init.id).await?;
        for h in &held_rows {
            let record: reports::ReportRecord = serde_json::from_str(&h.record)
                .map_err(|e| ApiError::internal(format!("held report {}: {e}", h.token)))?;
            let options = schemes
                .iter()
                .filter_map(|(sid, _, json)| {
                    let s: SchemeState = serde_json::from_str(json).ok()?;
                    s.components
                        .iter()
                        .any(|c| c.kind == h.component)
                        .then(|| (sid.clone(), s.name))
                })
                .collect();
            held.push(HeldLine {
                token: h.token.clone(),
                service: h.service_name.clone(),
                description: record.description.unwrap_or_default(),
                address: record.address.unwrap_or_default(),
                held: day(&h.held_at),
                schemes: options,
            });
        }
    }
    page(ReportsPage {
        c: &v,
        id: init.id,
        name: init.name,
        reports,
        held_count: held_rows.len(),
        held,
        can_route,
        routed: q.routed.unwrap_or_default(),
    })
}

#[derive(Debug, Deserialize)]
pub struct RouteInput {
    #[serde(default)]
    csrf: String,
    token: String,
    scheme: String,
}

pub async fn route(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(input): Form<RouteInput>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/initiatives/{id}/reports")));
    }
    v.check_csrf(&input.csrf).map_err(|e| v.fail(e))?;
    let person = if v.is_admin() {
        None
    } else {
        Some(v.person().map_err(|e| v.fail(e))?.to_string())
    };
    let (report, _) = o311::route_report(&state, &input.token, &input.scheme, person.as_deref())
        .await
        .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!(
        "/initiatives/{id}/reports?routed={}",
        encode(&report)
    )))
}

// ── The citizen's form ──

struct AttrField {
    id: String,
    name: String,
    label: String,
    required: bool,
    /// For lists: the choices; empty for free text.
    options: Vec<String>,
}

struct ServiceChoice {
    code: String,
    name: String,
    attributes: Vec<AttrField>,
}

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportFormPage<'a> {
    c: &'a Visitor,
    id: String,
    name: String,
    initiative: String,
    initiative_name: String,
    services: Vec<ServiceChoice>,
    token: String,
    error: String,
}

async fn form_page(
    v: &Visitor,
    state: &AppState,
    config: &PagesConfig,
    scheme: &str,
    error: String,
    status: StatusCode,
) -> PageResult {
    let (init, arr, s) = service::resolve(state, scheme).await?;
    let Some(s) = s else {
        return Err(v.fail(ApiError::not_found(format!("no scheme `{scheme}`"))));
    };
    let services = reports::services(&arr)
        .into_iter()
        .filter(|svc| s.components.iter().any(|c| c.kind == svc.component))
        .map(|svc| ServiceChoice {
            attributes: svc
                .attributes
                .iter()
                .map(|a| AttrField {
                    id: format!("{}-{}", svc.code, a.code),
                    name: format!("attribute[{}]", a.code),
                    label: a.description.clone(),
                    required: a.required,
                    options: match a.datatype {
                        AttributeType::Singlevaluelist | AttributeType::Multivaluelist => {
                            a.values.clone()
                        }
                        _ => vec![],
                    },
                })
                .collect(),
            code: svc.code,
            name: svc.name,
        })
        .collect();
    // Signed in, the session's token; otherwise a fresh double-submit one.
    let token = if v.csrf.is_empty() {
        auth::new_token()
    } else {
        v.csrf.clone()
    };
    let mut r = page(ReportFormPage {
        c: v,
        id: s.id.clone(),
        name: s.name,
        initiative: init.id,
        initiative_name: init.name,
        services,
        token: token.clone(),
        error,
    })?;
    *r.status_mut() = status;
    if v.csrf.is_empty() {
        config.set_form_cookie(&mut r, REPORT_COOKIE, &token, "/schemes");
    }
    Ok(r)
}

pub async fn report_form(
    v: Visitor,
    State(state): State<AppState>,
    Extension(config): Extension<PagesConfig>,
    Path(id): Path<String>,
) -> PageResult {
    form_page(&v, &state, &config, &id, String::new(), StatusCode::OK).await
}

pub async fn file(
    v: Visitor,
    State(state): State<AppState>,
    Extension(config): Extension<PagesConfig>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let sent = get("csrf").unwrap_or_default();
    let csrf_ok = if v.csrf.is_empty() {
        let c = cookie(&headers, REPORT_COOKIE).unwrap_or("");
        !c.is_empty() && constant_eq(c.as_bytes(), sent.as_bytes())
    } else {
        v.check_csrf(&sent).is_ok()
    };
    if !csrf_ok {
        return form_page(
            &v,
            &state,
            &config,
            &id,
            v.t("report-form-expired"),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let (init, _, s) = service::resolve(&state, &id).await?;
    if s.is_none() {
        return Err(v.fail(ApiError::not_found(format!("no scheme `{id}`"))));
    }
    // The page has no API key: its allowance is per scheme, per process.
    let allowance = Open311KeyRow {
        id: format!("web-form:{id}"),
        name: "public report form".into(),
        rate_per_minute: FORM_RATE_PER_MINUTE,
        created_by: None,
        created_at: String::new(),
    };
    let number = |name: &str| -> Result<Option<f64>, String> {
        match get(name) {
            None => Ok(None),
            Some(x) => x
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| format!("{name} {x} is not a number")),
        }
    };
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, val) in &form {
        if let Some(code) = k
            .strip_prefix("attribute[")
            .and_then(|r| r.strip_suffix(']'))
        {
            attributes
                .entry(code.to_string())
                .or_default()
                .push(val.clone());
        }
    }
    let result = async {
        o311::check_rate(&allowance)?;
        let (lat, long) = match (number("lat"), number("long")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Err(o311::Open311Error::bad(e)),
        };
        let service_code = get("service_code").unwrap_or_default();
        // Only the chosen service's answers count: the form shows every
        // service's questions.
        let arr_services = {
            let (_, arr, _) = service::resolve(&state, &id).await?;
            reports::service(&arr, &service_code)
        };
        let attributes = match &arr_services {
            Some(svc) => attributes
                .into_iter()
                .filter(|(k, v)| {
                    svc.attributes.iter().any(|a| &a.code == k)
                        && v.iter().any(|x| !x.trim().is_empty())
                })
                .collect(),
            None => BTreeMap::new(),
        };
        o311::file_report(
            &state,
            Channel::Page,
            NewReport {
                input: reports::ReportInput {
                    service_code,
                    lat,
                    long,
                    address: get("address"),
                    address_id: Some(id.clone()),
                    description: get("description"),
                    media_url: None,
                    attributes,
                },
                jurisdiction_id: Some(init.id.clone()),
                contact: ReportContact {
                    email: get("email"),
                    first_name: get("name"),
                    phone: get("phone"),
                    ..ReportContact::default()
                },
            },
        )
        .await
    }
    .await;
    match result {
        Ok(filed) => match filed.id {
            Some(report) => Ok(see_other(&format!("/reports/{report}?done=1"))),
            None => Err(v.fail(ApiError::internal(
                "a report named by its scheme was not routed",
            ))),
        },
        Err(e) if e.status == 429 => {
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-reports",
                "Too many reports",
                e.description,
            );
            err.retry_after = e.retry_after;
            Err(v.fail(err))
        }
        Err(e) if e.status >= 500 => Err(v.fail(ApiError::internal(e.description))),
        Err(e) => {
            form_page(
                &v,
                &state,
                &config,
                &id,
                e.description,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

// ── Scorecards ──

struct RoundView {
    id: String,
    service: String,
    held_on: String,
    closed: bool,
    groups: Vec<String>,
    /// Criterion name, then per group its mean (or "—"), users, providers, gap.
    rows: Vec<(String, Vec<String>, String, String, String)>,
    actions: Vec<(String, String, String)>,
    criteria: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "scorecards.html")]
struct ScorecardsPage<'a> {
    c: &'a Visitor,
    id: String,
    name: String,
    initiative: String,
    initiative_name: String,
    rounds: Vec<RoundView>,
    chart: String,
    may_hold: bool,
    meetings: Vec<(String, String)>,
    positions: Vec<(String, String)>,
    today: String,
    done: bool,
}

fn tenths(t: Option<i64>) -> String {
    t.map(scorecard::tenths_text).unwrap_or_else(|| "—".into())
}

pub async fn scorecards(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> PageResult {
    let (init, arr, s) = service::resolve(&state, &id).await?;
    let Some(s) = s else {
        return Err(v.fail(ApiError::not_found(format!("no scheme `{id}`"))));
    };
    let results = o311::results(&state, &id).await.map_err(|e| v.fail(e))?;
    let chart = if results.rounds.is_empty() {
        String::new()
    } else {
        crate::open311::api::chart_svg(&results)
    };
    let rounds = results
        .rounds
        .iter()
        .map(|rv| {
            let groups: Vec<String> = rv.round.groups.keys().cloned().collect();
            RoundView {
                id: rv.round.id.clone(),
                service: rv.round.record.service.clone(),
                held_on: rv.round.record.held_on.clone(),
                closed: rv.round.closed,
                rows: rv
                    .results
                    .iter()
                    .map(|c| {
                        (
                            c.name.clone(),
                            groups
                                .iter()
                                .map(|g| tenths(c.groups.get(g).map(|x| x.0)))
                                .collect(),
                            tenths(c.users),
                            tenths(c.providers),
                            c.gap.map(scorecard::tenths_text).unwrap_or_default(),
                        )
                    })
                    .collect(),
                groups,
                actions: rv
                    .round
                    .actions
                    .iter()
                    .map(|a| {
                        (
                            a.action.clone(),
                            humanise_position(&arr.file, &a.position),
                            a.due.clone(),
                        )
                    })
                    .collect(),
                criteria: rv
                    .round
                    .record
                    .criteria
                    .iter()
                    .map(|c| (c.code.clone(), c.name.clone()))
                    .collect(),
            }
        })
        .collect();
    let me = actor(&state, &v, &init.id).await?;
    let may_hold = allowed(&arr, me.as_ref(), RecordKind::Scorecard);
    let meetings = s
        .meetings
        .iter()
        .map(|(mid, m)| (mid.clone(), format!("{} ({})", m.held_on, m.body)))
        .collect();
    let positions = arr
        .file
        .positions
        .keys()
        .map(|p| (p.clone(), humanise_position(&arr.file, p)))
        .collect();
    page(ScorecardsPage {
        c: &v,
        id: s.id.clone(),
        name: s.name.clone(),
        initiative: init.id,
        initiative_name: init.name,
        rounds,
        chart,
        may_hold,
        meetings,
        positions,
        today: day(&now_text(&state)),
        done: q.done.is_some(),
    })
}

#[derive(Debug, Deserialize)]
pub struct OpenInput {
    #[serde(default)]
    csrf: String,
    service: String,
    held_on: String,
    #[serde(default)]
    meeting: String,
    /// One criterion a line: `code: what it means` (or just the words).
    criteria: String,
}

/// `reliability: the service works when needed` → a criterion; a line of
/// words alone gets a code made from them.
fn criteria_of(text: &str) -> Vec<Criterion> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((code, name)) if !code.trim().contains(' ') && !code.trim().is_empty() => {
                Criterion {
                    code: code.trim().to_lowercase(),
                    name: name.trim().to_string(),
                }
            }
            _ => Criterion {
                code: l
                    .to_lowercase()
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .take(4)
                    .collect::<Vec<_>>()
                    .join("_"),
                name: l.to_string(),
            },
        })
        .collect()
}

async fn signed_person(
    v: &Visitor,
    csrf: &str,
    back: &str,
) -> Result<Result<String, Response>, super::PageError> {
    if v.user.is_none() {
        return Ok(Err(login_first(back)));
    }
    v.check_csrf(csrf).map_err(|e| v.fail(e))?;
    Ok(Ok(v.person().map_err(|e| v.fail(e))?.to_string()))
}

pub async fn open_round(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(input): Form<OpenInput>,
) -> PageResult {
    let back = format!("/schemes/{id}/scorecards");
    let person = match signed_person(&v, &input.csrf, &back).await? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    o311::open_round(
        &state,
        &id,
        &person,
        RoundRecord {
            service: input.service.trim().to_string(),
            held_on: input.held_on.trim().to_string(),
            meeting: Some(input.meeting.trim().to_string()).filter(|m| !m.is_empty()),
            criteria: criteria_of(&input.criteria),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("{back}?done=1")))
}

async fn scheme_of_round(
    state: &AppState,
    v: &Visitor,
    round: &str,
) -> Result<String, super::PageError> {
    state
        .store
        .scorecard_round(round)
        .await?
        .map(|(_, r)| r.scheme)
        .ok_or_else(|| v.fail(ApiError::not_found(format!("no scorecard round `{round}`"))))
}

pub async fn scores(
    v: Visitor,
    State(state): State<AppState>,
    Path(round): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let scheme = scheme_of_round(&state, &v, &round).await?;
    let back = format!("/schemes/{scheme}/scorecards");
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let person = match signed_person(&v, &get("csrf"), &back).await? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let party = match get("party").as_str() {
        "providers" => Party::Providers,
        "users" => Party::Users,
        other => {
            return Err(v.fail(ApiError::unprocessable(format!(
                "`{other}` is not users or providers"
            ))));
        }
    };
    // `score[code]` = the group's scores, separated by commas or spaces.
    let mut scores = BTreeMap::new();
    for (k, val) in &form {
        let Some(code) = k.strip_prefix("score[").and_then(|r| r.strip_suffix(']')) else {
            continue;
        };
        let mut list = vec![];
        for x in val
            .split([',', ' '])
            .map(str::trim)
            .filter(|x| !x.is_empty())
        {
            let n = x.parse::<u8>().map_err(|_| {
                v.fail(ApiError::unprocessable(format!(
                    "`{x}` for {code} is not a score from 1 to 5"
                )))
            })?;
            list.push(n);
        }
        if !list.is_empty() {
            scores.insert(code.to_string(), list);
        }
    }
    o311::record_scores(
        &state,
        &round,
        &person,
        GroupScores {
            group: get("group"),
            party,
            scores,
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("{back}?done=1")))
}

#[derive(Debug, Deserialize)]
pub struct ActionsInput {
    #[serde(default)]
    csrf: String,
    action: String,
    position: String,
    due: String,
    #[serde(default)]
    criterion: String,
}

pub async fn actions(
    v: Visitor,
    State(state): State<AppState>,
    Path(round): Path<String>,
    Form(input): Form<ActionsInput>,
) -> PageResult {
    let scheme = scheme_of_round(&state, &v, &round).await?;
    let back = format!("/schemes/{scheme}/scorecards");
    let person = match signed_person(&v, &input.csrf, &back).await? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    o311::agree_actions(
        &state,
        &round,
        &person,
        vec![ActionInput {
            action: input.action.trim().to_string(),
            position: input.position,
            due: input.due.trim().to_string(),
            criterion: Some(input.criterion).filter(|c| !c.trim().is_empty()),
        }],
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("{back}?done=1")))
}

#[cfg(test)]
mod tests {
    use super::criteria_of;

    #[test]
    fn criteria_from_lines() {
        let c =
            criteria_of("reliability: the service works when needed\n\nThe lane is kept clean\n");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].code, "reliability");
        assert_eq!(c[0].name, "the service works when needed");
        assert_eq!(c[1].code, "the_lane_is_kept");
        assert_eq!(c[1].name, "The lane is kept clean");
    }
}
