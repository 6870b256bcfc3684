//! Pages for participatory budgeting rounds (issue 7, part 3).
//!
//! - `/rounds` — every round, newest first;
//! - `/rounds/new` — the opening form, for a platform administrator or a
//!   council's CCB official (the office that convenes a round); a refusal
//!   shows the form again with what was typed and nothing opened;
//! - `/rounds/{id}` — a round: budget, area, rule, phase and who moved it,
//!   the proposals with their reviews, and the forms this visitor may use in
//!   this phase (propose, review, vote online, enter a paper ballot, move the
//!   round on, turn winners into schemes);
//! - `/rounds/{id}/results` — winners, spend, why each project won or lost
//!   (the count's structured reason said in the visitor's language), and
//!   the tie-break record.
//!
//! Every form posts to a handler that calls `crate::budgeting`, the API's
//! own service functions; pages decide nothing. A resident's online vote
//! needs no account, so its form is protected by a double-submit cookie
//! (as the citizen's report form is); staff forms by the session's CSRF.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use saanjh_core::arrangement::words::Name;
use saanjh_core::budgeting::{
    ArrangementRef, CountRecord, CountedProject, CountingRule, Location, Phase, Review, RoundState,
    Schedule,
};
use saanjh_core::model::OrgKind;
use serde::Deserialize;
use serde_json::Value;

use super::ctx::{Lang, Visitor, constant_eq, cookie, encode};
use super::views::{day, rs};
use super::{PageResult, PagesConfig, page};
use crate::budgeting::{
    self as pb, DelivererInput, NewProposal, NewRound, OnlineVote, PaperBallot, ReviewInput,
};
use crate::{ApiError, AppState, auth};

/// The cookie carrying an anonymous voter's form token (double submit).
const VOTE_COOKIE: &str = "saanjh_vote";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rounds", get(rounds))
        .route("/rounds/new", get(open_form).post(open))
        .route("/rounds/{id}", get(round_page))
        .route("/rounds/{id}/results", get(results))
        .route("/rounds/{id}/propose", post(propose))
        .route("/rounds/{id}/review", post(review))
        .route("/rounds/{id}/vote", post(vote))
        .route("/rounds/{id}/paper", post(paper))
        .route("/rounds/{id}/phase", post(phase))
        .route("/rounds/{id}/schemes", post(schemes))
        .route("/rounds/{id}/proposals/{n}/deliverer", post(deliverer))
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

fn phase_word(v: &Visitor, p: &str) -> String {
    v.word(&format!("round-phase-{p}"))
}

// ── The list ──

struct RoundLine {
    id: String,
    name: String,
    district: String,
    phase: String,
    budget: String,
    opened: String,
    demo: bool,
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage<'a> {
    c: &'a Visitor,
    rounds: Vec<RoundLine>,
    /// The visitor may open a round (an administrator or a CCB official).
    may_open: bool,
}

pub async fn rounds(v: Visitor, State(state): State<AppState>) -> PageResult {
    let rounds = state
        .store
        .rounds()
        .await?
        .into_iter()
        .map(|r| RoundLine {
            phase: phase_word(&v, &r.phase),
            budget: rs(r.budget),
            opened: day(&r.opened_at),
            demo: r.demo != 0,
            id: r.id,
            name: r.name,
            district: r.district,
        })
        .collect();
    let may_open = !councils_for(&v, &state).await?.is_empty();
    page(RoundsPage {
        c: &v,
        rounds,
        may_open,
    })
}

// ── Opening a round ──

/// The office that convenes a round, as `open_round` defaults it.
const CONVENOR: &str = "ccb_official";

/// The councils (public organisations) whose round this visitor may open:
/// every one for an administrator, else those where they are the CCB
/// official. `open_round` checks again; this only decides what to offer.
async fn councils_for(v: &Visitor, state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = vec![];
    if v.is_admin() {
        for o in state.store.organisations(10_000, 0).await? {
            if o.kind == OrgKind::Public.as_str() {
                out.push((o.id, o.name));
            }
        }
        return Ok(out);
    }
    let Some(p) = v.user.as_ref().and_then(|u| u.person_id.as_deref()) else {
        return Ok(out);
    };
    let mut seen = BTreeSet::new();
    for m in state.store.memberships(None, Some(p), 500, 0).await? {
        if m.active == 0 || m.position != CONVENOR || !seen.insert(m.organisation_id.clone()) {
            continue;
        }
        if let Some(o) = state.store.organisation(&m.organisation_id).await?
            && o.kind == OrgKind::Public.as_str()
        {
            out.push((o.id, o.name));
        }
    }
    Ok(out)
}

/// `id@version`, the value an arrangement has in a form.
fn arr_value(a: &ArrangementRef) -> String {
    format!("{}@{}", a.id, a.version)
}

fn parse_arr(text: &str) -> Option<ArrangementRef> {
    let (id, version) = text.rsplit_once('@')?;
    Some(ArrangementRef {
        id: id.to_string(),
        version: version.parse().ok()?,
    })
}

/// An arrangement's name in the visitor's language, else its id.
async fn arr_label(v: &Visitor, state: &AppState, a: &ArrangementRef) -> String {
    match state.arrangement(&a.id, a.version).await {
        Ok(arr) => v.words(&arr).say(Name::Arrangement),
        Err(_) => a.id.clone(),
    }
}

/// What was typed into the opening form, to show it again.
#[derive(Debug, Default)]
struct OpenValues {
    name: String,
    council: String,
    financial_year: String,
    budget: String,
    district: String,
    union_councils: String,
    rule: String,
    add1_step: String,
    max_choices: String,
    arrangement: String,
    others: Vec<String>,
    review: String,
    voting: String,
    results: String,
}

#[derive(Template)]
#[template(path = "round_new.html")]
struct OpenPage<'a> {
    c: &'a Visitor,
    councils: Vec<(String, String)>,
    arrangements: Vec<(String, String)>,
    rules: Vec<(String, String)>,
    f: OpenValues,
    error: String,
}

async fn render_open(
    v: &Visitor,
    state: &AppState,
    f: OpenValues,
    error: String,
    status: StatusCode,
) -> PageResult {
    let councils = councils_for(v, state).await?;
    if councils.is_empty() {
        return Err(v.fail(ApiError::forbidden(v.t("round-who-opens"))));
    }
    let mut arrangements = vec![];
    for (id, version, _, _) in state.store.arrangements().await? {
        let a = ArrangementRef {
            id,
            version: u32::try_from(version).unwrap_or_default(),
        };
        arrangements.push((arr_value(&a), arr_label(v, state, &a).await));
    }
    let rules = [
        CountingRule::MesAdd1,
        CountingRule::MesAdd1Comparison,
        CountingRule::Greedy,
    ]
    .iter()
    .map(|r| {
        (
            r.as_str().to_string(),
            v.t(&format!("round-rule-{}", r.as_str())),
        )
    })
    .collect();
    let mut resp = page(OpenPage {
        c: v,
        councils,
        arrangements,
        rules,
        f,
        error,
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn open_form(v: Visitor, State(state): State<AppState>) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first("/rounds/new"));
    }
    let f = OpenValues {
        rule: CountingRule::MesAdd1.as_str().into(),
        arrangement: "cost-sharing@1".into(),
        ..OpenValues::default()
    };
    render_open(&v, &state, f, String::new(), StatusCode::OK).await
}

/// The form's values as the service's input, or what is wrong with them
/// (said in the visitor's language; the service's own refusals come after).
fn new_round(v: &Visitor, f: &OpenValues) -> Result<NewRound, String> {
    let budget = paisa(v, Some(f.budget.clone()).filter(|b| !b.trim().is_empty()))
        .map_err(|e| e.problem.detail)?;
    let max_choices = match f.max_choices.trim() {
        "" => None,
        t => Some(
            t.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| v.t("round-bad-max-choices"))?,
        ),
    };
    let add1_step = match f.add1_step.trim() {
        "" => None,
        t => Some(
            paisa(v, Some(t.to_string()))
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| v.t("round-bad-add1-step"))?,
        ),
    };
    let default = parse_arr(&f.arrangement).ok_or_else(|| v.t("round-bad-arrangement"))?;
    let mut others = vec![];
    for o in &f.others {
        let a = parse_arr(o).ok_or_else(|| v.t("round-bad-arrangement"))?;
        // Ticking the default as well as choosing it allows nothing more.
        if a != default && !others.contains(&a) {
            others.push(a);
        }
    }
    let date = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
    Ok(NewRound {
        name: f.name.clone(),
        council: f.council.clone(),
        financial_year: date(&f.financial_year),
        budget,
        area: saanjh_core::budgeting::Area {
            district: f.district.trim().to_string(),
            union_councils: f
                .union_councils
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            bounds: None,
        },
        rule: Some(f.rule.clone()),
        seed: None,
        convenor: None,
        reviewer: None,
        counter: None,
        max_choices,
        arrangement: Some(default.id),
        version: Some(default.version),
        other_arrangements: others,
        schedule: Schedule {
            review: date(&f.review),
            voting: date(&f.voting),
            results: date(&f.results),
        },
        currency: None,
        demo: false,
        add1_step,
    })
}

pub async fn open(
    v: Visitor,
    State(state): State<AppState>,
    Form(pairs): Form<Pairs>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first("/rounds/new"));
    }
    v.check_csrf(&field(&pairs, "csrf").unwrap_or_default())
        .map_err(|e| v.fail(e))?;
    let text = |k: &str| field(&pairs, k).unwrap_or_default();
    let f = OpenValues {
        name: text("name"),
        council: text("council"),
        financial_year: text("financial_year"),
        budget: text("budget"),
        district: text("district"),
        union_councils: text("union_councils"),
        rule: text("rule"),
        add1_step: text("add1_step"),
        max_choices: text("max_choices"),
        arrangement: text("arrangement"),
        others: pairs
            .iter()
            .filter(|(k, _)| k == "other")
            .map(|(_, x)| x.clone())
            .collect(),
        review: text("review"),
        voting: text("voting"),
        results: text("results"),
    };
    let input = match new_round(&v, &f) {
        Ok(i) => i,
        Err(why) => {
            return render_open(&v, &state, f, why, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let person = v.user.as_ref().and_then(|u| u.person_id.clone());
    match pb::open_round(&state, person.as_deref(), v.is_admin(), &v.actor(), input).await {
        Ok(s) => Ok(see_other(&format!("/rounds/{}?done=opened", s.record.id))),
        Err(e) => {
            let status = e.status();
            render_open(&v, &state, f, e.problem.detail.clone(), status).await
        }
    }
}

// ── One round ──

struct ProposalLine {
    number: u32,
    title: String,
    description: String,
    organisation: String,
    place: String,
    estimate: String,
    /// "feasible at Rs …" / "rejected: …" / "awaiting review".
    review: String,
    rejected: bool,
    pending: bool,
    on_ballot: bool,
    scheme: Option<String>,
    /// The arrangement it would run under, when the round allows several.
    arrangement: String,
}

/// A partner role the proposing organisation and the council do not fill
/// themselves (an NGO, say): the proposal names it.
struct RoleChoice {
    /// `partner.{arrangement}@{version}.{role}`.
    field: String,
    label: String,
    required: bool,
    options: Vec<(String, String)>,
}

struct ChangeLine {
    at: String,
    to: String,
    person: String,
    note: String,
}

#[derive(Template)]
#[template(path = "round.html")]
struct RoundPage<'a> {
    c: &'a Visitor,
    id: String,
    name: String,
    council: String,
    financial_year: String,
    budget: String,
    area: String,
    rule: String,
    seed: u64,
    phase: String,
    phase_key: String,
    next_phase: Option<(String, String)>,
    demo: bool,
    imported: String,
    max_choices: u32,
    ballots: u64,
    changes: Vec<ChangeLine>,
    proposals: Vec<ProposalLine>,
    union_councils: Vec<String>,
    /// Planned dates, `(phase in words, date)`.
    schedule: Vec<(String, String)>,
    /// The arrangements a proposal may choose, `(id@version, name)`.
    arrangements: Vec<(String, String)>,
    roles: Vec<RoleChoice>,
    /// Community organisations the visitor belongs to (proposals phase).
    my_orgs: Vec<(String, String)>,
    is_convenor: bool,
    is_reviewer: bool,
    is_counter: bool,
    token: String,
    done: String,
    error: String,
    /// The error is the service's English (no message of ours for it).
    error_en: bool,
}

#[derive(Debug, Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    done: Option<String>,
}

async fn org_name(state: &AppState, id: &str) -> Result<String, ApiError> {
    Ok(state
        .store
        .organisation(id)
        .await?
        .map(|o| o.name)
        .unwrap_or_else(|| id.to_string()))
}

async fn person_name(state: &AppState, id: &str) -> Result<String, ApiError> {
    Ok(state
        .store
        .person(id)
        .await?
        .map(|p| p.name)
        .unwrap_or_else(|| id.to_string()))
}

async fn holds(state: &AppState, v: &Visitor, org: &str, position: &str) -> bool {
    match v.user.as_ref().and_then(|u| u.person_id.as_deref()) {
        Some(p) => state
            .store
            .membership_exists(p, org, position)
            .await
            .unwrap_or(false),
        None => false,
    }
}

async fn render_round(
    v: &Visitor,
    state: &AppState,
    config: &PagesConfig,
    id: &str,
    done: String,
    error: Said,
    status: StatusCode,
) -> PageResult {
    let s: RoundState = pb::round(state, id).await.map_err(|e| v.fail(e))?;
    let r = &s.record;
    let mut arrangements = vec![];
    if !r.arrangement.is_empty() {
        for a in r.arrangements() {
            arrangements.push((arr_value(&a), arr_label(v, state, &a).await));
        }
    }
    let several = arrangements.len() > 1;
    let mut proposals = vec![];
    for (n, p) in &s.proposals {
        let (review, rejected, pending) = match &p.review {
            Some(Review::Feasible { cost, note }) => (
                format!(
                    "{} {}{}",
                    v.t("round-feasible-at"),
                    rs(*cost),
                    note.as_deref()
                        .map(|n| format!(" — {n}"))
                        .unwrap_or_default()
                ),
                false,
                false,
            ),
            Some(Review::Rejected { reason }) => {
                (format!("{}: {reason}", v.t("round-rejected")), true, false)
            }
            None => (v.t("round-awaiting-review"), false, true),
        };
        let organisation = match (&p.record.organisation, &p.record.source_id) {
            (Some(o), _) => org_name(state, o).await?,
            (None, Some(src)) => src.clone(),
            (None, None) => String::new(),
        };
        proposals.push(ProposalLine {
            number: *n,
            title: p.record.title.clone(),
            description: p.record.description.clone(),
            organisation,
            place: match &p.record.location.union_council {
                Some(uc) => format!("{}, {uc}", p.record.location.place),
                None => p.record.location.place.clone(),
            },
            estimate: rs(p.record.estimate),
            review,
            rejected,
            pending,
            on_ballot: p.feasible_cost().is_some(),
            scheme: p.scheme.as_ref().map(|(_, s)| s.clone()),
            arrangement: if several {
                let a = ArrangementRef {
                    id: p.record.arrangement.clone(),
                    version: p.record.version,
                };
                arr_label(v, state, &a).await
            } else {
                String::new()
            },
        });
    }
    let mut changes = vec![];
    for c in &s.phase_changes {
        changes.push(ChangeLine {
            at: c.at.replace('T', " ").trim_end_matches('Z').to_string(),
            to: phase_word(v, c.to.as_str()),
            person: person_name(state, &c.person).await?,
            note: c.note.clone().unwrap_or_default(),
        });
    }
    let mut my_orgs = vec![];
    if s.phase == Phase::Proposals
        && let Some(p) = v.user.as_ref().and_then(|u| u.person_id.as_deref())
    {
        let mut seen = BTreeSet::new();
        for m in state.store.memberships(None, Some(p), 500, 0).await? {
            if m.active == 0 || !seen.insert(m.organisation_id.clone()) {
                continue;
            }
            if let Some(o) = state.store.organisation(&m.organisation_id).await?
                && o.kind == "community"
            {
                my_orgs.push((o.id, o.name));
            }
        }
    }
    let mut roles = vec![];
    if !my_orgs.is_empty() {
        let orgs = state.store.organisations(10_000, 0).await?;
        for a in r.arrangements() {
            let Ok(arr) = state.arrangement(&a.id, a.version).await else {
                continue;
            };
            for (role, rule) in &arr.file.partners {
                if rule.kinds.contains(&OrgKind::Community) || rule.kinds.contains(&OrgKind::Public)
                {
                    continue;
                }
                let words = v.words(&arr);
                let mut label = words.say(Name::Partner(role.clone()));
                if several {
                    label = format!("{label} ({})", words.say(Name::Arrangement));
                }
                roles.push(RoleChoice {
                    field: format!("partner.{}.{role}", arr_value(&a)),
                    label,
                    required: !rule.optional,
                    options: orgs
                        .iter()
                        .filter(|o| rule.kinds.iter().any(|k| k.as_str() == o.kind))
                        .map(|o| (o.id.clone(), o.name.clone()))
                        .collect(),
                });
            }
        }
    }
    let schedule = Phase::ALL
        .iter()
        .filter_map(|p| {
            r.schedule
                .starts(*p)
                .map(|d| (phase_word(v, p.as_str()), d.to_string()))
        })
        .collect();
    let token = if v.csrf.is_empty() {
        auth::new_token()
    } else {
        v.csrf.clone()
    };
    let council = if r.council.is_empty() {
        String::new()
    } else {
        org_name(state, &r.council).await?
    };
    let mut resp = page(RoundPage {
        c: v,
        id: r.id.clone(),
        name: r.name.clone(),
        council,
        financial_year: r.financial_year.clone().unwrap_or_default(),
        budget: format!("{} ({})", rs(r.budget), r.currency),
        area: r.area.describe(),
        rule: v.t(&format!("round-rule-{}", r.rule.as_str())),
        seed: r.seed,
        phase: phase_word(v, s.phase.as_str()),
        phase_key: s.phase.as_str().to_string(),
        next_phase: s
            .phase
            .next()
            .map(|p| (p.as_str().to_string(), phase_word(v, p.as_str()))),
        demo: r.demo,
        imported: r.imported_from.clone().unwrap_or_default(),
        max_choices: r.max_choices.unwrap_or(0),
        ballots: s.ballots,
        changes,
        proposals,
        union_councils: r.area.union_councils.clone(),
        schedule,
        arrangements,
        roles,
        my_orgs,
        is_convenor: holds(state, v, &r.convenor.organisation, &r.convenor.position).await,
        is_reviewer: holds(state, v, &r.reviewer.organisation, &r.reviewer.position).await,
        is_counter: holds(state, v, &r.counter.organisation, &r.counter.position).await,
        token: token.clone(),
        done,
        error: error.text,
        error_en: error.english,
    })?;
    *resp.status_mut() = status;
    if v.csrf.is_empty() && s.phase == Phase::Voting {
        config.set_form_cookie(&mut resp, VOTE_COOKIE, &token, "/rounds");
    }
    Ok(resp)
}

pub async fn round_page(
    v: Visitor,
    State(state): State<AppState>,
    Extension(config): Extension<PagesConfig>,
    Path(id): Path<String>,
    Query(q): Query<Notice>,
) -> PageResult {
    let done = match q.done.as_deref() {
        Some(
            key @ ("opened" | "proposed" | "reviewed" | "voted" | "entered" | "moved" | "schemes"),
        ) => v.t(&format!("round-done-{key}")),
        _ => String::new(),
    };
    render_round(
        &v,
        &state,
        &config,
        &id,
        done,
        Said::default(),
        StatusCode::OK,
    )
    .await
}

type Pairs = Vec<(String, String)>;

fn field(pairs: &Pairs, key: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Rupees as typed ("4,00,000" or "400000.50") to paisa.
fn paisa(v: &Visitor, text: Option<String>) -> Result<i64, ApiError> {
    let t = text.unwrap_or_default().replace(',', "");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit());
    let parsed = ok
        .then(|| {
            let w: i64 = whole.parse().ok()?;
            let f: i64 = format!("{frac:0<2}").parse().ok()?;
            w.checked_mul(100)?.checked_add(f)
        })
        .flatten();
    parsed.ok_or_else(|| ApiError::unprocessable(v.t("round-bad-amount")))
}

fn approvals(pairs: &Pairs) -> Vec<u32> {
    pairs
        .iter()
        .filter(|(k, _)| k == "approve")
        .filter_map(|(_, v)| v.parse().ok())
        .collect()
}

/// Signed-in staff forms: the session's CSRF and a person.
fn staff(v: &Visitor, pairs: &Pairs) -> Result<String, ApiError> {
    v.check_csrf(&field(pairs, "csrf").unwrap_or_default())?;
    Ok(v.person()?.to_string())
}

pub async fn propose(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<Pairs>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/rounds/{id}")));
    }
    let person = staff(&v, &f).map_err(|e| v.fail(e))?;
    let num = |k: &str| field(&f, k).and_then(|x| x.parse::<f64>().ok());
    // The arrangement chosen (the round's default when the form offers no
    // choice), and the partners named for that arrangement's roles only.
    let chosen = match field(&f, "arrangement") {
        Some(t) => Some(
            parse_arr(&t)
                .ok_or_else(|| v.fail(ApiError::unprocessable(v.t("round-bad-arrangement"))))?,
        ),
        None => None,
    };
    let mut partners = std::collections::BTreeMap::new();
    if let Some(a) = &chosen {
        let prefix = format!("partner.{}.", arr_value(a));
        for (k, x) in &f {
            if let Some(role) = k.strip_prefix(&prefix)
                && !x.trim().is_empty()
            {
                partners.insert(role.to_string(), x.trim().to_string());
            }
        }
    }
    let input = NewProposal {
        organisation: field(&f, "organisation").unwrap_or_default(),
        title: field(&f, "title").unwrap_or_default(),
        description: field(&f, "description").unwrap_or_default(),
        estimate: paisa(&v, field(&f, "estimate")).map_err(|e| v.fail(e))?,
        location: Location {
            place: field(&f, "place").unwrap_or_default(),
            union_council: field(&f, "union_council"),
            latitude: num("latitude"),
            longitude: num("longitude"),
        },
        arrangement: chosen.as_ref().map(|a| a.id.clone()),
        version: chosen.as_ref().map(|a| a.version),
        component: None,
        partners,
    };
    pb::submit_proposal(&state, &person, &id, input)
        .await
        .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("/rounds/{id}?done=proposed")))
}

pub async fn review(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<Pairs>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/rounds/{id}")));
    }
    let person = staff(&v, &f).map_err(|e| v.fail(e))?;
    let number: u32 = field(&f, "proposal")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| v.fail(ApiError::unprocessable("which proposal?")))?;
    let decision = field(&f, "decision").unwrap_or_default();
    let cost = if decision == "feasible" {
        Some(paisa(&v, field(&f, "cost")).map_err(|e| v.fail(e))?)
    } else {
        None
    };
    pb::review_proposal(
        &state,
        &person,
        &id,
        number,
        ReviewInput {
            decision,
            cost,
            note: field(&f, "note"),
            reason: field(&f, "reason"),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("/rounds/{id}?done=reviewed")))
}

/// An error said on the round page: in the visitor's language, or the
/// service's own English (then marked `lang="en"` for screen readers).
#[derive(Debug, Clone, Default)]
struct Said {
    text: String,
    english: bool,
}

impl From<String> for Said {
    fn from(text: String) -> Said {
        Said {
            text,
            english: false,
        }
    }
}

/// The service's refusal of a vote in the visitor's language, chosen by its
/// stable code (`rule`); a refusal without a message of its own (an
/// incomplete ballot, say) keeps the service's English.
fn vote_refusal(v: &Visitor, e: &ApiError) -> Said {
    let key = match e.problem.rule.as_deref() {
        Some("round.one_vote") => "round-refused-one-vote",
        Some("round.phase") => "round-refused-vote-phase",
        Some("round.area") => "round-refused-area",
        Some("round.cnic") => "round-refused-cnic",
        Some("round.vote_rate") => {
            return v
                .t1(
                    "round-refused-vote-rate",
                    "wait",
                    e.retry_after.unwrap_or(1),
                )
                .into();
        }
        _ => {
            return Said {
                text: e.problem.detail.clone(),
                english: true,
            };
        }
    };
    v.t(key).into()
}

/// A resident's vote: no account, a double-submit token instead. A refusal
/// (already voted, a bad CNIC) shows the round again with the reason.
pub async fn vote(
    v: Visitor,
    client: pb::VoteClient,
    State(state): State<AppState>,
    Extension(config): Extension<PagesConfig>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<Pairs>,
) -> PageResult {
    let sent = field(&f, "csrf").unwrap_or_default();
    let csrf_ok = if v.csrf.is_empty() {
        let c = cookie(&headers, VOTE_COOKIE).unwrap_or("");
        !c.is_empty() && constant_eq(c.as_bytes(), sent.as_bytes())
    } else {
        v.check_csrf(&sent).is_ok()
    };
    let again = |error: Said, status: StatusCode| {
        let (v, state, config, id) = (v.clone(), state.clone(), config.clone(), id.clone());
        async move { render_round(&v, &state, &config, &id, String::new(), error, status).await }
    };
    if !csrf_ok {
        return again(v.t("round-form-expired").into(), StatusCode::FORBIDDEN).await;
    }
    let input = OnlineVote {
        cnic: field(&f, "cnic").unwrap_or_default(),
        approvals: approvals(&f),
        union_council: field(&f, "union_council"),
    };
    match pb::vote_online(&state, &id, &client.0, input).await {
        Ok(_) => Ok(see_other(&format!("/rounds/{id}?done=voted"))),
        Err(e) => {
            let status = e.status();
            again(vote_refusal(&v, &e), status).await
        }
    }
}

pub async fn paper(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<Pairs>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/rounds/{id}")));
    }
    let person = staff(&v, &f).map_err(|e| v.fail(e))?;
    pb::enter_paper_ballot(
        &state,
        &person,
        &id,
        PaperBallot {
            serial: field(&f, "serial").unwrap_or_default(),
            approvals: approvals(&f),
            union_council: field(&f, "union_council"),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("/rounds/{id}?done=entered")))
}

pub async fn phase(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<Pairs>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/rounds/{id}")));
    }
    let person = staff(&v, &f).map_err(|e| v.fail(e))?;
    let to = field(&f, "to")
        .as_deref()
        .and_then(Phase::parse)
        .ok_or_else(|| v.fail(ApiError::unprocessable("which phase?")))?;
    pb::change_phase(&state, &person, &id, to, field(&f, "note"))
        .await
        .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!("/rounds/{id}?done=moved")))
}

pub async fn schemes(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<Pairs>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/rounds/{id}")));
    }
    let person = staff(&v, &f).map_err(|e| v.fail(e))?;
    let links = pb::create_schemes(&state, &person, &id)
        .await
        .map_err(|e| v.fail(e))?;
    if let Some(refused) = links.iter().find_map(|l| l.refused.clone()) {
        return Err(v.fail(ApiError::conflict(refused)));
    }
    Ok(see_other(&format!("/rounds/{id}/results?done=schemes")))
}

/// The convenor names who delivers a winner of an imported round (which
/// came without a proposing organisation): one choice of "member of a
/// registered community organisation", as the API's organisation and person.
pub async fn deliverer(
    v: Visitor,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, u32)>,
    Form(f): Form<Pairs>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(login_first(&format!("/rounds/{id}/results")));
    }
    let person = staff(&v, &f).map_err(|e| v.fail(e))?;
    let (organisation, member) = field(&f, "deliverer")
        .and_then(|x| {
            x.split_once('|')
                .map(|(o, p)| (o.to_string(), p.to_string()))
        })
        .ok_or_else(|| v.fail(ApiError::unprocessable(v.t("round-bad-deliverer"))))?;
    pb::name_deliverer(
        &state,
        &person,
        &id,
        n,
        DelivererInput {
            organisation,
            person: member,
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!(
        "/rounds/{id}/results?done=deliverer#winner-{n}"
    )))
}

/// Who may deliver a winner: every active member of a registered community
/// organisation, as (`organisation|person`, "name (position), organisation").
async fn community_members(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = vec![];
    let mut seen = BTreeSet::new();
    for o in state.store.organisations(10_000, 0).await? {
        if o.kind != OrgKind::Community.as_str() {
            continue;
        }
        for m in state.store.memberships(Some(&o.id), None, 1_000, 0).await? {
            if m.active == 0 || !seen.insert((o.id.clone(), m.person_id.clone())) {
                continue;
            }
            let name = person_name(state, &m.person_id).await?;
            out.push((
                format!("{}|{}", o.id, m.person_id),
                format!("{name} ({}), {}", m.position, o.name),
            ));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

// ── Results ──

struct ResultLine {
    number: u32,
    title: String,
    cost: String,
    votes: u64,
    why: String,
    scheme: Option<String>,
    /// Who delivers it, once named (imported rounds).
    deliverer: Option<String>,
    /// A winner of an imported round still waiting for someone to deliver it.
    needs_deliverer: bool,
}

#[derive(Template)]
#[template(path = "round_results.html")]
struct ResultsPage<'a> {
    c: &'a Visitor,
    id: String,
    name: String,
    rule: String,
    budget: String,
    spent: String,
    left: String,
    ballots: u64,
    winners: Vec<ResultLine>,
    losers: Vec<ResultLine>,
    seed: u64,
    /// The tie-break criteria in the visitor's language, or the stored
    /// (English) text when it is not the one this server knows.
    criteria: String,
    criteria_en: bool,
    drawn: String,
    priority: String,
    ties: Vec<String>,
    completion: String,
    /// The completion is the stored English sentence (older counts).
    completion_en: bool,
    is_convenor: bool,
    to_scheme: usize,
    done: bool,
    /// Who may deliver winners of an imported round (for the convenor).
    members: Vec<(String, String)>,
    named: bool,
}

pub async fn results(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Notice>,
) -> PageResult {
    let s = pb::round(&state, &id).await.map_err(|e| v.fail(e))?;
    let Some(result) = s.result.clone() else {
        return Err(v.fail(ApiError::conflict(v.t1(
            "round-no-results",
            "phase",
            phase_word(&v, s.phase.as_str()),
        ))));
    };
    let title = |n: u32| {
        s.proposals
            .get(&n)
            .map(|p| p.record.title.clone())
            .unwrap_or_else(|| n.to_string())
    };
    let mut delivered_by = std::collections::BTreeMap::new();
    for (n, p) in &s.proposals {
        if let Some(d) = &p.deliverer {
            delivered_by.insert(
                *n,
                format!(
                    "{}, {}",
                    person_name(&state, &d.person)
                        .await
                        .map_err(|e| v.fail(e))?,
                    org_name(&state, &d.organisation)
                        .await
                        .map_err(|e| v.fail(e))?
                ),
            );
        }
    }
    let line = |n: u32| -> Option<ResultLine> {
        let p = result.projects.iter().find(|p| p.number == n)?;
        let proposal = s.proposals.get(&n);
        let scheme = proposal
            .and_then(|x| x.scheme.as_ref())
            .map(|(_, sc)| sc.clone());
        Some(ResultLine {
            number: n,
            title: title(n),
            cost: rs(p.cost),
            votes: p.votes,
            why: why(&v, p),
            needs_deliverer: p.selected
                && !s.record.council.is_empty()
                && scheme.is_none()
                && proposal
                    .is_some_and(|x| x.record.organisation.is_none() && x.deliverer.is_none()),
            scheme,
            deliverer: delivered_by.get(&n).cloned(),
        })
    };
    let winners: Vec<ResultLine> = result.winners.iter().filter_map(|n| line(*n)).collect();
    let to_scheme = winners.iter().filter(|w| w.scheme.is_none()).count();
    let needs_deliverer = winners.iter().any(|w| w.needs_deliverer);
    let losers = result
        .projects
        .iter()
        .filter(|p| !p.selected)
        .filter_map(|p| line(p.number))
        .collect();
    let ties = result
        .tie_break
        .ties
        .iter()
        .map(|t| {
            format!(
                "{} {}: {} → {} ({})",
                v.t("round-tie-step"),
                t["step"],
                t["tied"]
                    .as_array()
                    .map(|a| a
                        .iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default(),
                t["chosen"].as_str().unwrap_or(""),
                v.word(&format!(
                    "round-decided-by-{}",
                    t["decided_by"].as_str().unwrap_or("")
                ))
            )
        })
        .collect();
    let criteria = criteria_text(v.lang, &result.tie_break.criteria);
    let completion = completion_text(v.lang, &result);
    let is_convenor = holds(
        &state,
        &v,
        &s.record.convenor.organisation,
        &s.record.convenor.position,
    )
    .await;
    page(ResultsPage {
        c: &v,
        id: s.record.id.clone(),
        name: s.record.name.clone(),
        rule: v.t(&format!("round-rule-{}", s.record.rule.as_str())),
        budget: rs(result.budget),
        spent: rs(result.spent),
        left: rs(result.budget - result.spent),
        ballots: result.ballots,
        winners,
        losers,
        seed: result.tie_break.seed,
        criteria: criteria.0,
        criteria_en: criteria.1,
        drawn: result.tie_break.drawn.join(", "),
        priority: result.tie_break.priority.join(", "),
        ties,
        members: if is_convenor && needs_deliverer {
            community_members(&state).await.map_err(|e| v.fail(e))?
        } else {
            vec![]
        },
        completion: completion.0,
        completion_en: completion.1,
        is_convenor,
        to_scheme,
        done: q.done.as_deref() == Some("schemes"),
        named: q.done.as_deref() == Some("deliverer"),
    })
}

// ── Why a project won or lost, in words ──

/// The tie-break criteria saanjh-pb publishes with every count.
const KNOWN_CRITERIA: &str = "lowest cost, then most votes, then the drawn order";

/// The criteria line in the visitor's language, and whether it is the
/// stored English text (a count published other criteria).
fn criteria_text(lang: Lang, stored: &str) -> (String, bool) {
    if stored == KNOWN_CRITERIA {
        (super::ctx::message(lang, "round-criteria-known"), false)
    } else {
        (stored.to_string(), true)
    }
}

/// The MES completion summary in the visitor's language from the count's
/// record of it; for counts that kept only the English sentence (or a
/// record this page cannot read), that sentence, marked as English.
fn completion_text(lang: Lang, result: &CountRecord) -> (String, bool) {
    let english = || (result.completion.clone().unwrap_or_default(), true);
    let Some(d) = &result.completion_detail else {
        return english();
    };
    let stop = &d["stop"];
    let stop_args: Option<Vec<(&'static str, String)>> = match stop["kind"].as_str() {
        Some("all-funded" | "exhaustive" | "cannot-change") => Some(vec![]),
        Some("over-budget") => rupees_text(&stop["spent"]).map(|s| vec![("spent", s)]),
        Some("run-cap") => stop["runs"].as_u64().map(|r| vec![("runs", r.to_string())]),
        _ => None,
    };
    let because = stop_args.and_then(|a| {
        super::ctx::try_message_with(
            lang,
            &format!(
                "round-completion-stop-{}",
                stop["kind"].as_str().unwrap_or("")
            ),
            &a,
        )
    });
    let args: Option<Vec<(&'static str, String)>> = (|| {
        Some(vec![
            ("start", rupees_text(&d["start_per_voter"])?),
            ("final", rupees_text(&d["final_per_voter"])?),
            ("raises", d["iterations"].as_u64()?.to_string()),
            ("step", rupees_text(&d["step_per_voter"])?),
            ("runs", d["runs"].as_u64()?.to_string()),
            ("because", because?),
        ])
    })();
    args.and_then(|a| super::ctx::try_message_with(lang, "round-completion", &a))
        .map(|t| (t, false))
        .unwrap_or_else(english)
}

/// An amount as the count publishes it (rupees, exact: `450000`,
/// `1234.5`, or `num/den` when the decimal does not end) in page form.
fn rupees_text(value: &Value) -> Option<String> {
    let t = value.as_str()?;
    let rupees = match t.split_once('/') {
        Some((n, d)) => n.parse::<f64>().ok()? / d.parse::<f64>().ok()?,
        None => t.parse::<f64>().ok()?,
    };
    Some(rs((rupees * 100.0).round() as i64))
}

fn exact_text(value: &Value) -> Option<String> {
    let t = value.as_str()?;
    let x = match t.split_once('/') {
        Some((n, d)) => n.parse::<f64>().ok()? / d.parse::<f64>().ok()?,
        None => t.parse::<f64>().ok()?,
    };
    Some(format!("{x:.2}"))
}

/// The counting rule's reason for one project, said in the visitor's
/// language from its structured form (`CountedProject::reason`, as
/// `saanjh-pb` gave it). The stored English sentence is the fallback only
/// for a reason this page has no words for (a rule rounds do not use).
fn why(v: &Visitor, p: &CountedProject) -> String {
    let r = &p.reason;
    let kind = r["kind"].as_str().unwrap_or("");
    let int = |k: &str| r[k].as_u64().map(|n| n.to_string());
    let money = |k: &str| rupees_text(&r[k]);
    let exact = |k: &str| exact_text(&r[k]);
    let args: Option<Vec<(&'static str, String)>> = (|| {
        Some(match kind {
            "no-support" | "free" | "mes-not-reached" => vec![],
            "over-whole-budget" => vec![("cost", money("cost")?), ("budget", money("budget")?)],
            "greedy-selected" | "completion-selected" => vec![
                ("rank", int("rank")?),
                ("cost", money("cost")?),
                ("before", money("left_before")?),
                ("after", money("left_after")?),
            ],
            "greedy-skipped" | "completion-skipped" => vec![
                ("rank", int("rank")?),
                ("cost", money("cost")?),
                ("left", money("left")?),
            ],
            "mes-selected" => vec![
                ("step", int("step")?),
                ("cost", money("cost")?),
                ("supporters", int("supporters")?),
                ("paid_in_full", int("paid_in_full")?),
                ("effective", exact("effective_votes")?),
            ],
            "mes-unaffordable" => vec![
                ("step", int("step")?),
                ("cost", money("cost")?),
                ("held", money("supporters_money")?),
            ],
            _ => return None,
        })
    })();
    args.and_then(|a| super::ctx::try_message_with(v.lang, &format!("round-why-{kind}"), &a))
        .unwrap_or_else(|| p.why.clone())
}

#[cfg(test)]
mod tests {
    use super::{KNOWN_CRITERIA, Lang, completion_text, criteria_text};
    use saanjh_core::budgeting::CountRecord;
    use serde_json::json;

    /// A count as an older server published it: the completion only as an
    /// English sentence, no `completion_detail`.
    fn old_record() -> CountRecord {
        serde_json::from_value(json!({
            "rule": "mes-add1",
            "budget": 100_000_000,
            "spent": 90_000_000,
            "ballots": 5,
            "winners": [2, 3],
            "projects": [],
            "tie_break": { "seed": 7, "criteria": KNOWN_CRITERIA, "drawn": [], "priority": [], "ties": [] },
            "completion": "each voter's share was raised from 200000.00 to 320000.00 in 12 raise(s) of 10000; one more step would select projects costing 1000000, over the budget",
        }))
        .expect("an old record still loads")
    }

    #[test]
    fn an_old_record_shows_its_english_sentence_marked_english() {
        let r = old_record();
        assert_eq!(r.completion_detail, None);
        for lang in [Lang::En, Lang::Ur] {
            let (text, english) = completion_text(lang, &r);
            assert!(english);
            assert!(text.contains("12 raise(s)"), "{text}");
        }
    }

    #[test]
    fn the_known_criteria_are_translated_and_others_kept_in_english() {
        let (ur, en) = criteria_text(Lang::Ur, KNOWN_CRITERIA);
        assert!(!en);
        assert!(ur.contains("کم لاگت"), "{ur}");
        let (en_text, _) = criteria_text(Lang::En, KNOWN_CRITERIA);
        assert_eq!(en_text, KNOWN_CRITERIA);
        let (other, en) = criteria_text(Lang::Ur, "highest cost first");
        assert!(en);
        assert_eq!(other, "highest cost first");
    }
}
