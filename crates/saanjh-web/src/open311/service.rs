//! The operations behind Open311 and the scorecard API, as plain async
//! functions over `&AppState` (the demo seeds through them too): issue API
//! keys, file a report (find its initiative and scheme, let the core route
//! it and open its obligations, append), respond to one, and run scorecard
//! rounds. Every write decides against the chain head it read first and
//! decides again if the chain moved, like `service::act`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use saanjh_core::arrangement::Arrangement;
use saanjh_core::engine::{self, Actor, SchemeState};
use saanjh_core::event::{EventBody, StoredEvent};
use saanjh_core::reports::{self, ReportError, ReportInput, ReportState, ReportStatus};
use saanjh_core::scorecard::{self, ActionInput, GroupScores, RoundRecord, RoundState};
use saanjh_store::{Open311KeyRow, ReportContact, SideRow, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::service::{self, EventView, new_id};
use crate::{ApiError, AppState, auth};

const MAX_ATTEMPTS: usize = 8;

/// Reports a key may file a minute unless its issuer says otherwise.
pub const DEFAULT_RATE_PER_MINUTE: i64 = 60;

/// An error as Open311 reports it: an HTTP status and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    pub status: u16,
    pub description: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl Open311Error {
    pub fn bad(description: impl Into<String>) -> Open311Error {
        Open311Error {
            status: 400,
            description: description.into(),
            retry_after: None,
        }
    }
    pub fn forbidden(description: impl Into<String>) -> Open311Error {
        Open311Error {
            status: 403,
            description: description.into(),
            retry_after: None,
        }
    }
    pub fn not_found(description: impl Into<String>) -> Open311Error {
        Open311Error {
            status: 404,
            description: description.into(),
            retry_after: None,
        }
    }
}

impl From<ApiError> for Open311Error {
    fn from(e: ApiError) -> Open311Error {
        // Open311 knows 400, 403 and 404; anything else the client did
        // wrong is a 400, and a failure of ours stays a 5xx.
        let status = match e.problem.status {
            404 => 404,
            401 | 403 => 403,
            429 => 429,
            s if s >= 500 => s,
            _ => 400,
        };
        Open311Error {
            status,
            description: e.problem.detail.clone(),
            retry_after: e.retry_after,
        }
    }
}

impl From<StoreError> for Open311Error {
    fn from(e: StoreError) -> Open311Error {
        ApiError::from(e).into()
    }
}

impl From<ReportError> for Open311Error {
    fn from(e: ReportError) -> Open311Error {
        match e {
            ReportError::Invalid(m) => Open311Error::bad(m),
            ReportError::NotFound(m) => Open311Error::not_found(m),
        }
    }
}

async fn back_off(attempt: usize) {
    let ms = (attempt as u64 + 1) * (2 + rand::random::<u64>() % 8);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Decide against the chain's head and append, deciding again when another
/// writer moved the chain meanwhile. `$decide` (a block that evaluates to
/// the events, and may return early with `?`) reads whatever state it needs
/// each time: it runs after the head is read, so what it reads is at least
/// as new as the head the append is checked against. A macro rather than a
/// function taking an async closure, whose futures would not be `Send`.
macro_rules! decide_and_append {
    ($state:expr, $chain:expr, $actor:expr, $decide:block) => {
        decide_and_append!($state, $chain, $actor, $decide, Vec::new())
    };
    // `$side` (evaluated after `$decide`, so it may use what the decision
    // found) gives private rows written in the same transaction.
    ($state:expr, $chain:expr, $actor:expr, $decide:block, $side:expr) => {{
        let mut result: Result<Vec<StoredEvent>, ApiError> =
            Err(StoreError::Conflict($chain.to_string()).into());
        // Writers of one chain in this process take turns, so that many
        // clients filing at once do not all decide against the same head
        // and retry; other processes are still caught by the head check.
        let turn = chain_turn($chain);
        let _turn = turn.lock().await;
        for attempt in 0..MAX_ATTEMPTS {
            let (head, _) = $state.store.head($chain).await?;
            let events: Vec<EventBody> = $decide;
            let side: Vec<SideRow> = $side;
            let at = engine::rfc3339($state.clock.now());
            match $state
                .store
                .append_with($chain, head, $actor, &at, &events, &side)
                .await
            {
                Err(StoreError::Conflict(_)) => back_off(attempt).await,
                other => {
                    result = other.map_err(ApiError::from);
                    break;
                }
            }
        }
        result
    }};
}

/// The in-process turn of a chain's writers (see `decide_and_append!`).
fn chain_turn(chain: &str) -> Arc<tokio::sync::Mutex<()>> {
    static TURNS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut map = TURNS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(chain.to_string()).or_default().clone()
}

fn refusal(r: engine::Refusal) -> ApiError {
    ApiError::from(r)
}

// ── API keys ──

/// A newly issued key: the only time the key itself is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedKey {
    pub id: String,
    pub name: String,
    pub key: String,
    pub rate_per_minute: i64,
}

/// Issue an Open311 API key. Only its SHA-256 is stored.
pub async fn issue_key(
    state: &AppState,
    name: &str,
    rate_per_minute: Option<i64>,
    created_by: Option<&str>,
) -> Result<IssuedKey, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            "a key needs a name (at most 200 characters) saying which client uses it",
        ));
    }
    let rate = rate_per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE);
    if rate < 1 {
        return Err(ApiError::unprocessable(
            "rate_per_minute must be at least 1",
        ));
    }
    let key = format!("o311-{}", auth::new_token());
    let id = new_id();
    state
        .store
        .create_open311_key(
            &id,
            &auth::token_hash(&key),
            name,
            rate,
            created_by,
            &engine::rfc3339(state.clock.now()),
        )
        .await?;
    Ok(IssuedKey {
        id,
        name: name.to_string(),
        key,
        rate_per_minute: rate,
    })
}

/// The key a client sent, or the Open311 error for a missing or unknown one.
pub async fn key_for(state: &AppState, key: Option<&str>) -> Result<Open311KeyRow, Open311Error> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        return Err(Open311Error::bad("api_key was not provided"));
    };
    state
        .store
        .open311_key(&auth::token_hash(key))
        .await?
        .ok_or_else(|| Open311Error::forbidden("api_key is not valid"))
}

/// Token buckets per key id: `rate_per_minute` reports a minute, with a
/// burst of as many.
fn buckets() -> &'static Mutex<HashMap<String, (f64, Instant)>> {
    static B: OnceLock<Mutex<HashMap<String, (f64, Instant)>>> = OnceLock::new();
    B.get_or_init(Default::default)
}

/// Take one report from the key's allowance, or say when to come back.
pub fn check_rate(key: &Open311KeyRow) -> Result<(), Open311Error> {
    let now = Instant::now();
    let cap = key.rate_per_minute.max(1) as f64;
    let per_sec = cap / 60.0;
    let mut map = buckets().lock().unwrap_or_else(|p| p.into_inner());
    let (tokens, last) = map.entry(key.id.clone()).or_insert((cap, now));
    *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_sec).min(cap);
    *last = now;
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        Ok(())
    } else {
        let wait = ((1.0 - *tokens) / per_sec).ceil() as u64;
        Err(Open311Error {
            status: 429,
            description: format!(
                "this api_key may file {} requests a minute; try again in {wait} s",
                key.rate_per_minute
            ),
            retry_after: Some(wait.max(1)),
        })
    }
}

// ── Reports ──

/// A report as a client posts it: the public fields, where it happened,
/// and contact details that are kept private.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub input: ReportInput,
    pub jurisdiction_id: Option<String>,
    pub contact: ReportContact,
}

/// Who files a report: a client with an Open311 key, or a citizen on the
/// public form (no key; the page is rate-limited per address instead).
#[derive(Debug, Clone, Copy)]
pub enum Channel<'a> {
    Key(&'a Open311KeyRow),
    Page,
}

impl Channel<'_> {
    /// The event's actor: reports are filed by a channel, never by a person.
    fn actor(&self) -> String {
        match self {
            Channel::Key(k) => format!("open311:{}", k.id),
            Channel::Page => "web:report-form".into(),
        }
    }
    fn via(&self) -> String {
        match self {
            Channel::Key(k) => k.id.clone(),
            Channel::Page => "web".into(),
        }
    }
}

/// What the client is told after filing: the report's id when it was
/// routed at once, else the token under which it waits for triage (the
/// spec's "one or the other").
#[derive(Debug, Clone, Serialize)]
pub struct Filed {
    pub id: Option<String>,
    pub token: Option<String>,
    pub notice: String,
    pub account_id: Option<String>,
    pub scheme: Option<String>,
    pub initiative: String,
}

/// Squared distance on a locally flat earth: enough to find the nearest of
/// a few initiatives.
fn distance2(a: (f64, f64), b: (f64, f64)) -> f64 {
    let k = a.0.to_radians().cos();
    (a.0 - b.0).powi(2) + ((a.1 - b.1) * k).powi(2)
}

/// The initiative a report goes to: the one named by `jurisdiction_id`, the
/// only one that offers the service, or the nearest one that does.
async fn initiative_for(
    state: &AppState,
    new: &NewReport,
) -> Result<(saanjh_store::InitiativeRow, std::sync::Arc<Arrangement>), Open311Error> {
    let code = &new.input.service_code;
    if let Some(j) = new.jurisdiction_id.as_deref().filter(|j| !j.is_empty()) {
        let init =
            state.store.initiative(j).await?.ok_or_else(|| {
                Open311Error::not_found(format!("jurisdiction_id {j} was not found"))
            })?;
        let arr = state
            .arrangement(&init.arrangement_id, init.arrangement_version as u32)
            .await?;
        if reports::service(&arr, code).is_none() {
            return Err(Open311Error::not_found(format!(
                "service_code {code} was not found in jurisdiction {j}"
            )));
        }
        return Ok((init, arr));
    }
    let mut offering = vec![];
    for init in state.store.initiatives(None, 100_000, 0).await? {
        let arr = state
            .arrangement(&init.arrangement_id, init.arrangement_version as u32)
            .await?;
        if reports::service(&arr, code).is_some() {
            offering.push((init, arr));
        }
    }
    if offering.len() <= 1 {
        return offering
            .pop()
            .ok_or_else(|| Open311Error::not_found(format!("service_code {code} was not found")));
    }
    let here = new.input.lat.zip(new.input.long);
    let nearest = here.and_then(|here| {
        offering
            .iter()
            .enumerate()
            .filter_map(|(i, (init, _))| {
                init.latitude
                    .zip(init.longitude)
                    .map(|there| (i, distance2(here, there)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    });
    match nearest {
        Some(i) => Ok(offering.swap_remove(i)),
        None => Err(Open311Error::bad(format!(
            "jurisdiction_id was not provided: {} initiatives offer service_code {code}; give jurisdiction_id (the initiative's id) or lat and long",
            offering.len()
        ))),
    }
}

/// The scheme a report is about, when that is certain: the one named by
/// `address_id` (which must have the service's component), else the only
/// scheme of the initiative that has the component. `None` when several
/// have it: the report is held for a partner to route, rather than guessed
/// onto one. When none has it there is nothing to route it to (404).
async fn scheme_for(
    state: &AppState,
    initiative: &str,
    component: &str,
    group: &str,
    address_id: Option<&str>,
) -> Result<Option<String>, Open311Error> {
    let schemes = state.store.scheme_states(initiative).await?;
    let has = |json: &str| {
        serde_json::from_str::<SchemeState>(json)
            .map(|s| s.components.iter().any(|c| c.kind == component))
            .unwrap_or(false)
    };
    if let Some(a) = address_id
        && let Some((id, _, json)) = schemes.iter().find(|(id, _, _)| id == a)
    {
        if has(json) {
            return Ok(Some(id.clone()));
        }
        return Err(Open311Error::not_found(format!(
            "scheme {a} has no component of kind {component} ({group}) to report about"
        )));
    }
    let mut with: Vec<&String> = schemes
        .iter()
        .filter(|(_, _, json)| has(json))
        .map(|(id, _, _)| id)
        .collect();
    match with.len() {
        0 => Err(Open311Error::not_found(format!(
            "no scheme of jurisdiction {initiative} has a component of kind {component} ({group}) to report about"
        ))),
        1 => Ok(with.pop().cloned()),
        _ => Ok(None),
    }
}

/// File a report through `channel`: check it, find its initiative and
/// scheme, let the core route it and open its response obligations, and
/// append the events with the reporter's contact details (kept apart from
/// the events, written in the same transaction). A report whose scheme is
/// not certain is held for triage under a token instead.
pub async fn file_report(
    state: &AppState,
    channel: Channel<'_>,
    new: NewReport,
) -> Result<Filed, Open311Error> {
    if new.input.service_code.trim().is_empty() {
        return Err(Open311Error::bad("service_code was not provided"));
    }
    let (init, arr) = initiative_for(state, &new).await?;
    let svc = reports::service(&arr, &new.input.service_code).ok_or_else(|| {
        Open311Error::not_found(format!(
            "service_code {} was not found",
            new.input.service_code
        ))
    })?;
    // Bad input is refused before anything is looked up or written.
    reports::check_input(&svc, &new.input)?;
    if let Some(e) = &new.contact.email
        && !e.contains('@')
    {
        return Err(Open311Error::bad(format!(
            "email {e} is not an email address"
        )));
    }
    let scheme_id = scheme_for(
        state,
        &init.id,
        &svc.component,
        &svc.group,
        new.input.address_id.as_deref(),
    )
    .await?;
    let token = uuid::Uuid::now_v7().simple().to_string();
    let actor = channel.actor();
    let contact = |report: &str| {
        vec![SideRow::ReportContact {
            report: report.to_string(),
            contact: new.contact.clone(),
            via: channel.via(),
        }]
    };
    let agency = match state.store.partners(&init.id).await?.get(&svc.routed_to) {
        Some(org) => state.store.organisation(org).await?.map(|o| o.name),
        None => None,
    }
    .unwrap_or_else(|| svc.routed_to.clone());
    let Some(scheme_id) = scheme_id else {
        decide_and_append!(
            state,
            &init.id,
            &actor,
            { vec![reports::hold(&arr, &init.id, &new.input, &token)?] },
            contact(&token)
        )?;
        return Ok(Filed {
            id: None,
            token: Some(token),
            notice: format!(
                "The {} is {agency}'s under this initiative's arrangement; the report does not say which scheme it is about, so it waits for a partner to route it. Follow it at tokens/{{token}}.",
                svc.group
            ),
            account_id: new.contact.account_id.clone(),
            scheme: None,
            initiative: init.id,
        });
    };
    let mut report_id = String::new();
    let stored = decide_and_append!(
        state,
        &init.id,
        &actor,
        {
            let (_, s) = state
                .store
                .scheme(&scheme_id)
                .await?
                .ok_or_else(|| Open311Error::not_found(format!("no scheme {scheme_id}")))?;
            let (id, events) = reports::file(&arr, &s, &new.input, &token, state.clock.now())?;
            report_id = id;
            events
        },
        contact(&report_id)
    )?;
    Ok(Filed {
        notice: routed_notice(&arr, &svc.group, &agency, &stored),
        id: Some(report_id),
        token: None,
        account_id: new.contact.account_id.clone(),
        scheme: Some(scheme_id),
        initiative: init.id,
    })
}

/// "Sent to …; the lane manager must respond by …." from the stored events.
fn routed_notice(arr: &Arrangement, group: &str, agency: &str, stored: &[StoredEvent]) -> String {
    let due: Vec<String> = stored
        .iter()
        .filter_map(|e| match e.body() {
            Ok(EventBody::ObligationOpened { position, due, .. }) => Some(format!(
                "{} must respond by {due}",
                saanjh_core::arrangement::humanise_position(&arr.file, &position)
            )),
            _ => None,
        })
        .collect();
    let mut notice = format!(
        "Sent to {agency}, which is responsible for the {group} under this scheme's arrangement"
    );
    if !due.is_empty() {
        notice.push_str(&format!("; {}", due.join("; ")));
    }
    notice.push('.');
    notice
}

/// Route a held report (by its token) to a scheme of its initiative, as a
/// partner whom the rules let answer reports, or as the platform
/// administrator (`person` = None). Returns the report's new id.
pub async fn route_report(
    state: &AppState,
    token: &str,
    scheme: &str,
    person: Option<&str>,
) -> Result<(String, Vec<EventView>), ApiError> {
    let held = state
        .store
        .held_report(token)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report held under token `{token}`")))?;
    let (init, arr, s) = service::resolve(state, scheme).await?;
    if s.is_none() {
        return Err(ApiError::not_found(format!("no scheme `{scheme}`")));
    }
    if init.id != held.initiative_id {
        return Err(ApiError::unprocessable(format!(
            "scheme `{scheme}` is not in the report's initiative `{}`",
            held.initiative_id
        )));
    }
    let record: reports::ReportRecord = serde_json::from_str(&held.record)
        .map_err(|e| ApiError::internal(format!("held report {token}: {e}")))?;
    let actor_name = person
        .map(str::to_string)
        .unwrap_or_else(|| "platform-admin".to_string());
    let mut report_id = String::new();
    let stored =
        decide_and_append!(
            state,
            &init.id,
            &actor_name,
            {
                let held = state.store.held_report(token).await?.ok_or_else(|| {
                    ApiError::not_found(format!("no report held under `{token}`"))
                })?;
                if let Some(id) = held.report_id {
                    return Err(ApiError::conflict(format!(
                        "the report held under this token was already routed as {id}"
                    )));
                }
                if let Some(p) = person {
                    let actor = actor_of(state, &init.id, p).await?;
                    reports::may_route(&arr, &actor).map_err(refusal)?;
                }
                let (_, s) = state
                    .store
                    .scheme(scheme)
                    .await?
                    .ok_or_else(|| ApiError::not_found(format!("no scheme `{scheme}`")))?;
                let (id, events) =
                    reports::route_held(&arr, &s, &record, &held.held_at, state.clock.now())
                        .map_err(|e| match e {
                            ReportError::Invalid(m) => ApiError::unprocessable(m),
                            ReportError::NotFound(m) => ApiError::unprocessable(m),
                        })?;
                report_id = id;
                events
            },
            vec![SideRow::ContactRouted {
                token: token.to_string(),
                report: report_id.clone(),
            }]
        )?;
    Ok((report_id, stored.iter().map(EventView::from).collect()))
}

/// A response to a report, as the JSON API takes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    /// acknowledged, in_progress or closed.
    pub status: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Respond to a report as `person`.
pub async fn respond(
    state: &AppState,
    report: &str,
    person: &str,
    input: NewResponse,
) -> Result<Vec<EventView>, ApiError> {
    let status = ReportStatus::parse(&input.status).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "`{}` is not a status: give acknowledged, in_progress or closed",
            input.status
        ))
    })?;
    let row = state
        .store
        .report(report)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report `{report}`")))?;
    let (init, arr, _) = service::resolve(state, &row.scheme_id).await?;
    let stored = decide_and_append!(state, &init.id, person, {
        let row = state
            .store
            .report(report)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no report `{report}`")))?;
        let (_, s) = state
            .store
            .scheme(&row.scheme_id)
            .await?
            .ok_or_else(|| ApiError::not_found("the report's scheme is gone"))?;
        let actor = Actor {
            person: person.to_string(),
            positions: state.store.positions_of(&init.id, person).await?,
        };
        let report_state = ReportState {
            id: row.id.clone(),
            scheme: row.scheme_id.clone(),
            routed_to: row.routed_to.clone(),
            status: ReportStatus::parse(&row.status).unwrap_or(ReportStatus::Open),
            updates: row.updates,
        };
        // Time passes first: a duty already overdue is breached before the
        // response can meet it.
        let now = state.clock.now();
        let swept = engine::sweep(&arr, &s, now);
        let mut s2 = Some(s);
        for e in &swept {
            s2 = engine::apply(s2, e, &engine::rfc3339(now));
        }
        let s = s2.ok_or_else(|| ApiError::internal("scheme state lost in sweep"))?;
        let mut events = swept;
        events.extend(
            reports::respond(
                &arr,
                &s,
                &report_state,
                &actor,
                status,
                input.note.clone(),
                now,
            )
            .map_err(refusal)?,
        );
        events
    })?;
    Ok(stored.iter().map(EventView::from).collect())
}

// ── Scorecards ──

/// Open a scorecard round on a scheme.
pub async fn open_round(
    state: &AppState,
    scheme: &str,
    person: &str,
    record: RoundRecord,
) -> Result<(String, Vec<EventView>), ApiError> {
    let (init, arr, s) = service::resolve(state, scheme).await?;
    if s.is_none() {
        return Err(ApiError::not_found(format!("no scheme `{scheme}`")));
    }
    let mut round = String::new();
    let stored = decide_and_append!(state, &init.id, person, {
        let (_, s) = state
            .store
            .scheme(scheme)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no scheme `{scheme}`")))?;
        let actor = actor_of(state, &init.id, person).await?;
        let (id, events) =
            scorecard::open_round(&arr, &s, &actor, record.clone()).map_err(refusal)?;
        round = id;
        events
    })?;
    Ok((round, stored.iter().map(EventView::from).collect()))
}

async fn actor_of(state: &AppState, initiative: &str, person: &str) -> Result<Actor, ApiError> {
    Ok(Actor {
        person: person.to_string(),
        positions: state.store.positions_of(initiative, person).await?,
    })
}

async fn round_context(
    state: &AppState,
    round: &str,
) -> Result<(String, std::sync::Arc<Arrangement>), ApiError> {
    let (init, r) = state
        .store
        .scorecard_round(round)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scorecard round `{round}`")))?;
    let (_, arr, _) = service::resolve(state, &r.scheme).await?;
    Ok((init, arr))
}

async fn round_and_scheme(
    state: &AppState,
    round: &str,
) -> Result<(RoundState, SchemeState), ApiError> {
    let (_, r) = state
        .store
        .scorecard_round(round)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scorecard round `{round}`")))?;
    let (_, s) = state
        .store
        .scheme(&r.scheme)
        .await?
        .ok_or_else(|| ApiError::not_found("the round's scheme is gone"))?;
    Ok((r, s))
}

/// Record one group's scores in a round.
pub async fn record_scores(
    state: &AppState,
    round: &str,
    person: &str,
    scores: GroupScores,
) -> Result<Vec<EventView>, ApiError> {
    let (init, arr) = round_context(state, round).await?;
    let stored = decide_and_append!(state, &init, person, {
        let (r, _) = round_and_scheme(state, round).await?;
        let actor = actor_of(state, &init, person).await?;
        scorecard::score(&arr, &r, &actor, scores.clone()).map_err(refusal)?
    })?;
    Ok(stored.iter().map(EventView::from).collect())
}

/// Record the actions agreed at the interface meeting, each an obligation.
pub async fn agree_actions(
    state: &AppState,
    round: &str,
    person: &str,
    actions: Vec<ActionInput>,
) -> Result<Vec<EventView>, ApiError> {
    let (init, arr) = round_context(state, round).await?;
    let stored = decide_and_append!(state, &init, person, {
        let (r, s) = round_and_scheme(state, round).await?;
        let actor = actor_of(state, &init, person).await?;
        scorecard::agree_actions(&arr, &s, &r, &actor, actions.clone(), state.clock.now())
            .map_err(refusal)?
    })?;
    Ok(stored.iter().map(EventView::from).collect())
}

/// Record that an agreed action was carried out.
pub async fn action_done(
    state: &AppState,
    round: &str,
    obligation: &str,
    person: &str,
) -> Result<Vec<EventView>, ApiError> {
    let (init, arr) = round_context(state, round).await?;
    let stored = decide_and_append!(state, &init, person, {
        let (r, s) = round_and_scheme(state, round).await?;
        let actor = actor_of(state, &init, person).await?;
        scorecard::action_done(&arr, &s, &r, &actor, obligation, state.clock.now())
            .map_err(refusal)?
    })?;
    Ok(stored.iter().map(EventView::from).collect())
}

/// A round with its aggregate results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundView {
    #[schema(value_type = Object)]
    pub round: RoundState,
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<scorecard::CriterionResult>,
}

/// A scheme's scorecard rounds and their results over time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScorecardResults {
    pub scheme: String,
    pub rounds: Vec<RoundView>,
    /// Scores in tenths (37 = 3.7) by round, criterion and party or group.
    #[schema(value_type = Vec<Object>)]
    pub over_rounds: Vec<scorecard::ResultRow>,
}

pub async fn results(state: &AppState, scheme: &str) -> Result<ScorecardResults, ApiError> {
    if state.store.scheme(scheme).await?.is_none() {
        return Err(ApiError::not_found(format!("no scheme `{scheme}`")));
    }
    let rounds = state.store.scorecard_rounds(scheme).await?;
    let over_rounds = scorecard::over_rounds(&rounds);
    Ok(ScorecardResults {
        scheme: scheme.to_string(),
        rounds: rounds
            .into_iter()
            .map(|r| RoundView {
                results: scorecard::aggregate(&r),
                round: r,
            })
            .collect(),
        over_rounds,
    })
}

// ── Demo data ──

/// What `seed_reports` filed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Seeded {
    pub reports: usize,
    pub responses: usize,
    pub rounds: usize,
}

/// Realistic reports and two scorecard rounds for every demonstration
/// initiative, through the same functions the API uses: for each scheme,
/// one report per service its components offer, answered (acknowledged,
/// then most of them closed) by a holder of the position the rules oblige,
/// and, on each initiative's first scheme, two scorecard rounds three
/// months apart with women's, men's and providers' scores and agreed
/// actions. Reports whose duty nobody holds stay open: the sweep will
/// breach them, which the demo's failure stories want.
pub async fn seed_reports(state: &AppState) -> Result<Seeded, ApiError> {
    let mut seeded = Seeded::default();
    let key = issue_key(state, "demo seeding", Some(1_000_000), None).await?;
    let key_row = state
        .store
        .open311_key(&auth::token_hash(&key.key))
        .await?
        .ok_or_else(|| ApiError::internal("the demo key was not stored"))?;
    let inits: Vec<_> = state
        .store
        .initiatives(None, 100_000, 0)
        .await?
        .into_iter()
        .filter(|i| i.demo != 0)
        .collect();
    for init in inits {
        let arr = state
            .arrangement(&init.arrangement_id, init.arrangement_version as u32)
            .await?;
        let services = reports::services(&arr);
        let schemes = state.store.scheme_states(&init.id).await?;
        for (n, (scheme_id, _, json)) in schemes.iter().enumerate() {
            let Ok(s) = serde_json::from_str::<SchemeState>(json) else {
                continue;
            };
            for (k, svc) in services
                .iter()
                .filter(|svc| s.components.iter().any(|c| c.kind == svc.component))
                .enumerate()
            {
                let mut attributes = BTreeMap::new();
                for a in svc.attributes.iter().filter(|a| a.required) {
                    let v = a.values.first().cloned().unwrap_or_else(|| "6".to_string());
                    attributes.insert(a.code.clone(), vec![v]);
                }
                let new = NewReport {
                    input: ReportInput {
                        service_code: svc.code.clone(),
                        lat: init.latitude.map(|l| l + 0.0007 * (k as f64 + 1.0)),
                        long: init.longitude.map(|l| l + 0.0005 * (n as f64 + 1.0)),
                        address: Some(format!("near house {}, {}", 3 + 4 * k, init.locality)),
                        address_id: Some(scheme_id.clone()),
                        description: Some(demo_description(&svc.code)),
                        media_url: None,
                        attributes,
                    },
                    jurisdiction_id: Some(init.id.clone()),
                    contact: ReportContact {
                        first_name: Some("Demo".into()),
                        email: (k % 2 == 0).then(|| "resident@example.org".to_string()),
                        ..ReportContact::default()
                    },
                };
                let filed = match file_report(state, Channel::Key(&key_row), new).await {
                    Ok(f) => f,
                    Err(e) => {
                        return Err(ApiError::internal(format!(
                            "demo report: {}",
                            e.description
                        )));
                    }
                };
                seeded.reports += 1;
                // Who answers: a holder of the position the rules oblige.
                let obliged: Vec<String> = arr
                    .file
                    .rules
                    .iter()
                    .filter(|r| {
                        reports::response_action(&arr).is_some_and(|(a, _)| r.aim.as_ref() == a)
                            && r.deontic == saanjh_core::arrangement::Deontic::Must
                            && r.attribute
                                .as_ref()
                                .starts_with(&format!("{}.", svc.routed_to))
                    })
                    .map(|r| r.attribute.as_ref().clone())
                    .collect();
                let mut responder = None;
                for p in &obliged {
                    if let Some(h) = state.store.holders(&init.id, p).await?.into_iter().next() {
                        responder = Some(h);
                        break;
                    }
                }
                let Some(person) = responder else { continue };
                let steps: &[(&str, &str)] = if k % 3 == 2 {
                    &[("acknowledged", "Seen; a team will visit this week.")]
                } else {
                    &[
                        ("acknowledged", "Seen; a team will visit this week."),
                        ("closed", "Cleared on site; residents confirmed it flows."),
                    ]
                };
                for (status, note) in steps {
                    respond(
                        state,
                        filed.id.as_deref().unwrap_or_default(),
                        &person,
                        NewResponse {
                            status: status.to_string(),
                            note: Some(note.to_string()),
                        },
                    )
                    .await?;
                    seeded.responses += 1;
                }
            }
            if n == 0 {
                seeded.rounds += seed_rounds(state, &init.id, &arr, scheme_id).await?;
            }
        }
    }
    Ok(seeded)
}

fn demo_description(code: &str) -> String {
    match code {
        "blocked_lane_sewer" => "The manhole outside the mosque overflows every morning; children walk through it to school.",
        "trunk_sewer_overflow" => "The trunk sewer backs up at the disposal station and the lane's sewer cannot drain.",
        "no_water" => "No water at supply hours for two days in the street behind the school.",
        "leaking_connection" => "The service line to house 14 leaks into the street.",
        "tariff_billing" => "Billed twice this month; the receipt for last month is not recorded.",
        "dirty_water" => "Water is brown in the first hour of supply.",
        _ => "Reported by a resident at the lane meeting.",
    }
    .to_string()
}

/// Two scorecard rounds on one scheme, three months apart, the second
/// better on most criteria. Returns the rounds held (0 if nobody holds a
/// position that may hold one).
async fn seed_rounds(
    state: &AppState,
    initiative: &str,
    arr: &Arrangement,
    scheme: &str,
) -> Result<usize, ApiError> {
    let Some((action, _)) = arr
        .file
        .actions
        .iter()
        .find(|(_, a)| a.records == Some(saanjh_core::arrangement::RecordKind::Scorecard))
    else {
        return Ok(0);
    };
    let mut facilitator = None;
    for r in arr.rules_for(action) {
        if let Some(h) = state
            .store
            .holders(initiative, r.attribute.as_ref())
            .await?
            .into_iter()
            .next()
        {
            facilitator = Some(h);
            break;
        }
    }
    let Some(person) = facilitator else {
        return Ok(0);
    };
    let owner = arr
        .file
        .positions
        .keys()
        .next()
        .cloned()
        .unwrap_or_default();
    let today = state.clock.now().date();
    let criteria = vec![
        scorecard::Criterion {
            code: "reliability".into(),
            name: "the service works when needed".into(),
        },
        scorecard::Criterion {
            code: "cleanliness".into(),
            name: "the lane and drains are kept clean".into(),
        },
        scorecard::Criterion {
            code: "responsiveness".into(),
            name: "complaints are answered quickly".into(),
        },
    ];
    // Days before today, then the women's, men's and providers' base scores.
    let rounds = [
        (-120, [2u8, 2, 1], [3, 2, 2], [4, 4, 3]),
        (-30, [3, 4, 3], [4, 3, 3], [4, 4, 4]),
    ];
    for (days, women, men, providers) in rounds {
        let held_on = (today + time::Duration::days(days)).to_string();
        let (round, _) = open_round(
            state,
            scheme,
            &person,
            RoundRecord {
                service: "the scheme's service, as its users receive it".into(),
                held_on,
                meeting: None,
                criteria: criteria.clone(),
            },
        )
        .await?;
        for (group, party, base) in [
            ("women", scorecard::Party::Users, women),
            ("men", scorecard::Party::Users, men),
            ("providers", scorecard::Party::Providers, providers),
        ] {
            let scores = criteria
                .iter()
                .zip(base)
                .map(|(c, b)| {
                    let spread = [b, b, b.saturating_add(1).min(5), b.saturating_sub(1).max(1)];
                    (c.code.clone(), spread.to_vec())
                })
                .collect();
            record_scores(
                state,
                &round,
                &person,
                GroupScores {
                    group: group.into(),
                    party,
                    scores,
                },
            )
            .await?;
        }
        agree_actions(
            state,
            &round,
            &person,
            vec![ActionInput {
                action: "Answer every complaint within the week and report back at the next lane meeting".into(),
                position: owner.clone(),
                due: (today + time::Duration::days(45)).to_string(),
                criterion: Some("responsiveness".into()),
            }],
        )
        .await?;
    }
    Ok(2)
}
