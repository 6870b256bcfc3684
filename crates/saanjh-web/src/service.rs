//! The domain operations behind the API, as plain async functions over
//! `&AppState`. The binary's `demo` command calls these too, so demo data is
//! created through exactly the path a request takes: load state, let the
//! engine decide, append the events (with their projections) in one
//! transaction, retrying when another writer moved the chain meanwhile.
//!
//! New ids are UUIDv7 strings made here; the engine stays pure.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use saanjh_core::arrangement::Arrangement;
use saanjh_core::engine::{self, Act, Actor, InitiativeState, SchemeState};
use saanjh_core::event::{EventBody, InitiativeRecord, REGISTRY_CHAIN, StoredEvent};
use saanjh_core::facts::{self, Fact, Facts, Scope};
use saanjh_core::model::{Gender, Membership, OrgKind, Organisation, Person};
use saanjh_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ApiError, AppState, auth};

/// How often an act is decided again when the chain moved under it.
const MAX_ATTEMPTS: usize = 8;

/// Wait a little, more each attempt, so that writers racing for one chain
/// spread out instead of colliding again.
async fn back_off(attempt: usize) {
    let ms = (attempt as u64 + 1) * (2 + rand::random::<u64>() % 8);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn now_text(state: &AppState) -> String {
    engine::rfc3339(state.clock.now())
}

/// The ledger's facts for a scheme's rule conditions (`paid`, `owed`,
/// `pledged`, `released`, `spent`, `share_met`).
pub fn ledger_facts(arr: &Arrangement, scheme: &SchemeState) -> Facts {
    saanjh_core::ledger::facts_for(arr, scheme)
}

/// Append platform-wide events to the registry chain, retrying on a moved
/// head (nothing here depends on what the head was).
async fn append_registry(
    state: &AppState,
    actor: &str,
    bodies: &[EventBody],
) -> Result<Vec<StoredEvent>, ApiError> {
    for attempt in 0..MAX_ATTEMPTS {
        let (seq, _) = state.store.head(REGISTRY_CHAIN).await?;
        match state
            .store
            .append(REGISTRY_CHAIN, seq, actor, &now_text(state), bodies)
            .await
        {
            Err(StoreError::Conflict(_)) => {
                back_off(attempt).await;
                continue;
            }
            other => return Ok(other?),
        }
    }
    Err(StoreError::Conflict(REGISTRY_CHAIN.into()).into())
}

fn required(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "`{field}` must not be empty"
        )));
    }
    Ok(v.to_string())
}

// ── Accounts ──

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub person_id: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub person_id: Option<String>,
    pub is_admin: bool,
}

/// Create a user. The first administrator is made this way by the binary.
pub async fn create_user(state: &AppState, input: NewUser) -> Result<UserView, ApiError> {
    let username = required("username", &input.username)?;
    if input.password.chars().count() < 8 {
        return Err(ApiError::unprocessable(
            "a password needs at least 8 characters",
        ));
    }
    if let Some(p) = &input.person_id
        && state.store.person(p).await?.is_none()
    {
        return Err(ApiError::unprocessable(format!(
            "no person `{p}` is registered"
        )));
    }
    if state.store.user_by_name(&username).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "the username `{username}` is taken"
        )));
    }
    let hash = auth::hash_password(&input.password).await?;
    let id = new_id();
    state
        .store
        .create_user(
            &id,
            &username,
            &hash,
            input.person_id.as_deref(),
            input.is_admin,
            &now_text(state),
        )
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => ApiError::conflict(m),
            other => other.into(),
        })?;
    Ok(UserView {
        id,
        username,
        person_id: input.person_id,
        is_admin: input.is_admin,
    })
}

/// Check a username and password and issue a new bearer token.
pub async fn issue_token(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<String, ApiError> {
    auth::check_rate(state, username)?;
    let user = state.store.user_by_name(username).await?;
    let ok = match &user {
        Some(u) => auth::verify_password(password, &u.password_hash).await,
        None => {
            auth::verify_nobody(password).await;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        auth::record_failure(state, username);
        return Err(ApiError::unauthenticated("wrong username or password"));
    };
    auth::clear_failures(state, username);
    let token = auth::new_token();
    state
        .store
        .create_token(&auth::token_hash(&token), &user.id, "api", &now_text(state))
        .await?;
    Ok(token)
}

// ── Registry ──

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub name: String,
    /// public, community, third_sector, donor or private.
    #[schema(value_type = String)]
    pub kind: OrgKind,
    #[serde(default)]
    pub district: Option<String>,
}

pub async fn register_organisation(
    state: &AppState,
    actor: &str,
    input: NewOrganisation,
) -> Result<Organisation, ApiError> {
    let name = required("name", &input.name)?;
    if state.store.organisation_by_name(&name).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "an organisation named \"{name}\" is already registered"
        )));
    }
    let org = Organisation {
        id: new_id(),
        name,
        kind: input.kind,
        district: input.district.filter(|d| !d.trim().is_empty()),
    };
    append_registry(
        state,
        actor,
        &[EventBody::OrganisationRegistered {
            organisation: org.clone(),
        }],
    )
    .await?;
    Ok(org)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub name: String,
    /// female, male or other.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub elected: bool,
}

pub async fn register_person(
    state: &AppState,
    actor: &str,
    input: NewPerson,
) -> Result<Person, ApiError> {
    let person = Person {
        id: new_id(),
        name: required("name", &input.name)?,
        gender: input.gender,
        elected: input.elected,
    };
    append_registry(
        state,
        actor,
        &[EventBody::PersonRegistered {
            person: person.clone(),
        }],
    )
    .await?;
    Ok(person)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMembership {
    pub person: String,
    pub organisation: String,
    /// `member`, or a position the arrangements name (`chair`, `treasurer`).
    pub position: String,
}

pub async fn grant_membership(
    state: &AppState,
    actor: &str,
    input: NewMembership,
) -> Result<Membership, ApiError> {
    let position = required("position", &input.position)?;
    if position.contains('.') || position.contains(char::is_whitespace) {
        return Err(ApiError::unprocessable(
            "a position is one word such as `chair` or `works_engineer`; the partner role comes from the initiative",
        ));
    }
    if state.store.person(&input.person).await?.is_none() {
        return Err(ApiError::unprocessable(format!(
            "no person `{}` is registered",
            input.person
        )));
    }
    if state
        .store
        .organisation(&input.organisation)
        .await?
        .is_none()
    {
        return Err(ApiError::unprocessable(format!(
            "no organisation `{}` is registered",
            input.organisation
        )));
    }
    if state
        .store
        .membership_exists(&input.person, &input.organisation, &position)
        .await?
    {
        return Err(ApiError::conflict(format!(
            "this person already holds `{position}` in this organisation"
        )));
    }
    let m = Membership {
        id: new_id(),
        person: input.person,
        organisation: input.organisation,
        position,
    };
    append_registry(
        state,
        actor,
        &[EventBody::MembershipGranted {
            membership: m.clone(),
        }],
    )
    .await?;
    Ok(m)
}

/// Store an arrangement version. Storing the same text again is a no-op;
/// a different text under a stored id and version is refused, because
/// versions are never edited in place.
pub async fn store_arrangement(
    state: &AppState,
    actor: &str,
    source: &str,
) -> Result<Arc<Arrangement>, ApiError> {
    let arr = Arrangement::parse(source).map_err(|diags| {
        ApiError::unprocessable(format!(
            "the arrangement has {} problem(s); the first: {}",
            diags.len(),
            diags.first().map(|d| d.to_string()).unwrap_or_default()
        ))
        .with_errors(serde_json::to_value(&diags).unwrap_or_default())
    })?;
    let (id, version) = (arr.id().to_string(), arr.version());
    if let Some(existing) = state.store.arrangement_source(&id, version as i64).await? {
        if existing == source {
            return state.arrangement(&id, version).await;
        }
        return Err(ApiError::conflict(format!(
            "arrangement `{id}` version {version} is already stored with a different text; store the change as version {}",
            version + 1
        )));
    }
    let body = EventBody::ArrangementStored {
        id: id.clone(),
        version,
        digest: arr.digest.clone(),
        source: source.to_string(),
    };
    append_registry(state, actor, &[body]).await?;
    state.arrangement(&id, version).await
}

/// Store each built-in arrangement that is not stored yet.
pub async fn ensure_built_in_arrangements(state: &AppState) -> Result<(), ApiError> {
    for (_, text) in saanjh_core::BUILT_IN_ARRANGEMENTS {
        let arr = Arrangement::parse(text).map_err(|d| {
            ApiError::internal(format!("a built-in arrangement does not parse: {d:?}"))
        })?;
        if state
            .store
            .arrangement_source(arr.id(), arr.version() as i64)
            .await?
            .is_none()
        {
            store_arrangement(state, "system", text).await?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInitiative {
    pub name: String,
    pub locality: String,
    pub district: String,
    pub arrangement: String,
    pub version: u32,
    /// Partner role → organisation id.
    pub partners: BTreeMap<String, String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Demonstration data is labelled as such wherever it is shown.
    #[serde(default)]
    pub demo: bool,
}

/// Start an initiative, checking the arrangement's boundary rules: each
/// partner role that is not optional is bound to an organisation of an
/// allowed kind that meets the role's `requires` condition.
pub async fn start_initiative(
    state: &AppState,
    actor: &str,
    input: NewInitiative,
) -> Result<InitiativeRecord, ApiError> {
    start_initiative_as(state, actor, input, new_id()).await
}

/// `start_initiative` under an id the caller chose: a caller that must not
/// start the same initiative twice (a budgeting round's winners) derives
/// the id from what the initiative is for, so a second try finds the chain
/// taken (a `Conflict`) instead of starting another.
pub async fn start_initiative_as(
    state: &AppState,
    actor: &str,
    input: NewInitiative,
    id: String,
) -> Result<InitiativeRecord, ApiError> {
    let name = required("name", &input.name)?;
    let arr = state
        .arrangement(&input.arrangement, input.version)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::NOT_FOUND {
                ApiError::unprocessable(e.problem.detail)
            } else {
                e
            }
        })?;
    let f = &arr.file;
    for role in input.partners.keys() {
        if !f.partners.contains_key(role) {
            return Err(ApiError::unprocessable(format!(
                "`{role}` is not a partner role of `{}` (roles: {})",
                arr.id(),
                f.partners.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    for (role, rule) in &f.partners {
        let Some(org_id) = input.partners.get(role) else {
            if rule.optional {
                continue;
            }
            return Err(ApiError::unprocessable(format!(
                "the partner role `{role}` ({}) must be filled",
                rule.name
            )));
        };
        let org = state.store.organisation(org_id).await?.ok_or_else(|| {
            ApiError::unprocessable(format!("no organisation `{org_id}` is registered"))
        })?;
        let kinds: Vec<&str> = rule.kinds.iter().map(|k| k.as_str()).collect();
        if !kinds.contains(&org.kind.as_str()) {
            let mut e = ApiError::unprocessable(format!(
                "{} is a {} organisation; the role `{role}` ({}) must be filled by one of: {}",
                org.name,
                org.kind,
                rule.name,
                kinds.join(", ")
            ));
            e.problem.rule = Some(format!("partners.{role}"));
            return Err(e);
        }
        if let Some(req) = &rule.requires {
            let of = state.store.org_facts(org_id).await?;
            let mut facts = Facts::default();
            facts.set_field("org", "kind", Fact::Text(of.kind.clone()));
            facts.set_field("org", "members", Fact::Int(of.members));
            facts.set_field("org", "women_members", Fact::Int(of.women_members));
            facts.set_field("org", "elected_members", Fact::Int(of.elected_members));
            let holds =
                facts::evaluate(req.as_ref(), &facts, Scope::Boundary, false).map_err(|e| {
                    ApiError::internal(format!(
                        "boundary rule of `{role}` cannot be evaluated: {e}"
                    ))
                })?;
            if !holds {
                let mut e = ApiError::unprocessable(format!(
                    "{} does not meet the boundary rule of `{role}`: `{}` (it has {} members, {} elected)",
                    org.name,
                    req.as_ref(),
                    of.members,
                    of.elected_members
                ));
                e.problem.rule = Some(format!("partners.{role}"));
                e.problem.allowed_if = Some(
                    rule.explain
                        .clone()
                        .unwrap_or_else(|| format!("`{}` must hold", req.as_ref())),
                );
                return Err(e);
            }
        }
    }
    let record = InitiativeRecord {
        id,
        name,
        locality: required("locality", &input.locality)?,
        district: required("district", &input.district)?,
        arrangement: arr.id().to_string(),
        version: arr.version(),
        partners: input.partners,
        demo: input.demo,
        latitude: input.latitude,
        longitude: input.longitude,
    };
    state
        .store
        .append(
            &record.id,
            0,
            actor,
            &now_text(state),
            &[EventBody::InitiativeStarted {
                initiative: record.clone(),
            }],
        )
        .await?;
    Ok(record)
}

// ── Acts ──

/// What the engine needs to know about an initiative.
pub async fn initiative_state(
    state: &AppState,
    initiative: &str,
    arr: &Arrangement,
) -> Result<InitiativeState, ApiError> {
    let mut partners = BTreeMap::new();
    for (role, org) in state.store.partners(initiative).await? {
        partners.insert(role, state.store.org_facts(&org).await?);
    }
    let executing_schemes: BTreeSet<String> = state
        .store
        .scheme_stages(initiative)
        .await?
        .into_iter()
        .filter(|(_, st)| arr.is_executing(st))
        .map(|(id, _)| id)
        .collect();
    Ok(InitiativeState {
        id: initiative.to_string(),
        partners,
        positions_filled: state.store.positions_filled(initiative).await?,
        executing_schemes,
        ledger: Default::default(),
    })
}

/// The initiative a scheme or initiative id belongs to, its arrangement,
/// and the scheme's state when the id is a scheme's.
pub async fn resolve(
    state: &AppState,
    id: &str,
) -> Result<
    (
        saanjh_store::InitiativeRow,
        Arc<Arrangement>,
        Option<SchemeState>,
    ),
    ApiError,
> {
    let (init_id, scheme) = match state.store.scheme(id).await? {
        Some((row, s)) => (row.initiative_id, Some(s)),
        None => (id.to_string(), None),
    };
    let init = state
        .store
        .initiative(&init_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scheme or initiative `{id}`")))?;
    let arr = state
        .arrangement(&init.arrangement_id, init.arrangement_version as u32)
        .await?;
    Ok((init, arr, scheme))
}

/// An event as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub chain: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub hash: String,
}

impl From<&StoredEvent> for EventView {
    fn from(e: &StoredEvent) -> EventView {
        EventView {
            chain: e.chain.clone(),
            seq: e.seq,
            at: e.at.clone(),
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
            hash: e.hash.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActOutcome {
    pub scheme: String,
    /// The scheme's stage after the act.
    pub stage: String,
    /// False when the act was a signature that did not yet complete it.
    pub completed: bool,
    pub events: Vec<EventView>,
}

/// An act decided but not yet appended: the events for `chain`, decided
/// against its head `head` at `at`.
#[derive(Debug, Clone)]
pub struct DecidedAct {
    pub chain: String,
    pub head: i64,
    pub at: String,
    pub events: Vec<EventBody>,
    /// The scheme acted on, or the one the act creates.
    pub scheme: String,
    pub completed: bool,
}

/// Decide an act as `person` on a scheme, or, given an initiative id, the
/// arrangement's creating act (a new scheme with id `new_scheme`). Overdue
/// obligations are swept first; then the engine decides. Nothing is
/// written: the caller appends the events against `head` (alone, as `act`
/// does, or with events of another chain in one transaction).
pub async fn decide_act(
    state: &AppState,
    scheme_or_initiative: &str,
    person: &str,
    act: &Act,
    new_scheme: &str,
) -> Result<DecidedAct, ApiError> {
    let chain = resolve(state, scheme_or_initiative).await?.0.id;
    // The head first, then the state: state read after the head is at
    // least as new as it, so a decision on stale state cannot slip past
    // the head check in `append`.
    let (head, _) = state.store.head(&chain).await?;
    let (init, arr, scheme) = resolve(state, scheme_or_initiative).await?;
    let init_state = initiative_state(state, &init.id, &arr).await?;
    let actor = Actor {
        person: person.to_string(),
        positions: state.store.positions_of(&init.id, person).await?,
    };
    let now = state.clock.now();
    let at = engine::rfc3339(now);
    // What a ledger entry is checked against beyond its scheme: the
    // receipt it names, if already used in the initiative, the entry a
    // reversal cancels, and the room left in the reserve (issue 3).
    let mut init_state = init_state;
    let receipts: Vec<String> = act.entry.iter().filter_map(|e| e.receipt.clone()).collect();
    let targets: Vec<String> = act
        .entry
        .iter()
        .filter_map(|e| e.reverses.clone())
        .collect();
    init_state.ledger = state
        .store
        .initiative_ledger(&init.id, &arr, now.date(), &receipts, &targets)
        .await?;
    let mut events = vec![];
    let mut scheme = scheme;
    if let Some(s) = scheme.take() {
        let swept = engine::sweep(&arr, &s, now);
        let mut s = Some(s);
        for e in &swept {
            s = engine::apply(s, e, &at);
        }
        events.extend(swept);
        scheme = s;
    }
    let mut extra = scheme
        .as_ref()
        .map(|s| ledger_facts(&arr, s))
        .unwrap_or_default();
    // Citizen reports' facts (`reports_open('role')`, issue 5).
    if let Some(s) = &scheme {
        let reports = state.store.scheme_report_statuses(&s.id).await?;
        saanjh_core::reports::add_facts(
            &arr,
            reports.iter().filter_map(|(role, status)| {
                saanjh_core::reports::ReportStatus::parse(status).map(|st| (role.as_str(), st))
            }),
            &mut extra,
        );
    }
    let decision = engine::decide(
        &arr,
        &init_state,
        scheme.as_ref(),
        new_scheme,
        &actor,
        act,
        now,
        &extra,
    )?;
    events.extend(decision.events);
    Ok(DecidedAct {
        chain: init.id,
        head,
        at,
        events,
        scheme: scheme
            .as_ref()
            .map(|s| s.id.clone())
            .unwrap_or_else(|| new_scheme.to_string()),
        completed: decision.completed,
    })
}

/// Perform an act as `person` on a scheme, or, given an initiative id, the
/// arrangement's creating act (a new scheme). The act is decided
/// (`decide_act`), then its events are appended against the chain head the
/// decision was made on, deciding again if it moved.
pub async fn act(
    state: &AppState,
    scheme_or_initiative: &str,
    person: &str,
    act: Act,
) -> Result<ActOutcome, ApiError> {
    for attempt in 0..MAX_ATTEMPTS {
        let d = decide_act(state, scheme_or_initiative, person, &act, &new_id()).await?;
        match state
            .store
            .append(&d.chain, d.head, person, &d.at, &d.events)
            .await
        {
            Err(StoreError::Conflict(_)) => {
                back_off(attempt).await;
                continue;
            }
            Err(e) => return Err(e.into()),
            Ok(stored) => {
                let stage = state
                    .store
                    .scheme(&d.scheme)
                    .await?
                    .map(|(r, _)| r.stage)
                    .unwrap_or_default();
                return Ok(ActOutcome {
                    scheme: d.scheme,
                    stage,
                    completed: d.completed,
                    events: stored.iter().map(EventView::from).collect(),
                });
            }
        }
    }
    Err(StoreError::Conflict(scheme_or_initiative.to_string()).into())
}

/// Apply the passing of time to one scheme. Returns the events appended.
pub async fn sweep_scheme(state: &AppState, scheme: &str) -> Result<usize, ApiError> {
    let chain = resolve(state, scheme).await?.0.id;
    for attempt in 0..MAX_ATTEMPTS {
        let (head, _) = state.store.head(&chain).await?;
        let (init, arr, s) = resolve(state, scheme).await?;
        let Some(s) = s else {
            return Err(ApiError::not_found(format!("no scheme `{scheme}`")));
        };
        let now = state.clock.now();
        let events = engine::sweep(&arr, &s, now);
        if events.is_empty() {
            return Ok(0);
        }
        match state
            .store
            .append(&init.id, head, "system", &engine::rfc3339(now), &events)
            .await
        {
            Err(StoreError::Conflict(_)) => {
                back_off(attempt).await;
                continue;
            }
            Err(e) => return Err(e.into()),
            Ok(stored) => return Ok(stored.len()),
        }
    }
    Err(StoreError::Conflict(scheme.to_string()).into())
}

/// Sweep every scheme with an obligation past due: what the background
/// sweeper runs each minute. Returns the events appended.
pub async fn sweep_due(state: &AppState) -> Result<usize, ApiError> {
    let now = engine::rfc3339(state.clock.now());
    let mut n = 0;
    for (_, scheme) in state.store.schemes_with_overdue(&now).await? {
        n += sweep_scheme(state, &scheme).await?;
    }
    Ok(n)
}
