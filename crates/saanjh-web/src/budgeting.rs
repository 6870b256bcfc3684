//! Participatory budgeting rounds (issue 7, part 3): the service functions
//! (shared by the JSON API, the pages and the `demo` command) and the API
//! under `/api/v1/rounds`.
//!
//! A round is a council's reserve for community schemes divided by
//! residents' votes. Core's `budgeting` decides each act against the
//! round's state; this module loads that state, appends the event to the
//! round's own hash chain (deciding again if the chain moved), counts with
//! `saanjh-pb` (the only counting code), turns winners into schemes through
//! `service::start_initiative` and `service::act`, and reads and writes
//! rounds as pabulib `.pb` files.
//!
//! Online voters are identified by their CNIC number, of which only a
//! salted SHA-256 (salt per round) is kept, outside the event log and with
//! no link to the ballot; the mark and the ballot are written in one
//! transaction, so one CNIC votes once per round however many requests race.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use saanjh_core::budgeting::{
    self, Area, ArrangementRef, CountRecord, CountedProject, CountingRule, Deliverer, Location,
    Method, Office, Phase, ProposalRecord, Review, RoundRecord, RoundRefusal, RoundState, Schedule,
    TieBreakPublished,
};
use saanjh_core::engine::{Act, ComponentInput};
use saanjh_core::event::{EventBody, StoredEvent};
use saanjh_core::model::OrgKind;
use saanjh_pb::{Completion, CountOptions, Instance, Money, NewBallot, Rule, Utility, VoteType};
use saanjh_store::{ChainAppend, OrganisationRow, SideRow, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiJson, ApiPath, ApiQuery, Problem};
use crate::service::{self, EventView, NewInitiative};
use crate::{ApiError, AppState};

/// How often an act is decided again when the round's chain moved.
const MAX_ATTEMPTS: usize = 12;

/// Paisa per rupee: the platform keeps money in minor units with two decimals.
const MINOR_EXPONENT: u32 = 2;

async fn back_off(attempt: usize) {
    let ms = (attempt as u64 + 1) * (2 + rand::random::<u64>() % 8);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

fn now_text(state: &AppState) -> String {
    saanjh_core::engine::rfc3339(state.clock.now())
}

/// A refusal as a problem: 422 bad input, 403 wrong office, 409 wrong
/// phase or a rule of the round.
pub fn refusal(r: RoundRefusal) -> ApiError {
    use budgeting::RefusalKind as K;
    let (status, slug, title) = match r.kind {
        K::Input => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-act",
            "The act is not complete or not valid",
        ),
        K::Position => (
            StatusCode::FORBIDDEN,
            "wrong-position",
            "Your positions do not allow this act",
        ),
        K::Phase => (StatusCode::CONFLICT, "wrong-phase", "Not in this phase"),
        K::Rule => (
            StatusCode::CONFLICT,
            "rule-not-met",
            "A rule of the round does not allow this",
        ),
    };
    let mut e = ApiError::new(status, slug, title, r.message);
    e.problem.rule = Some(r.rule);
    e.problem.allowed_if = Some(r.allowed_if);
    e
}

/// The round's chain head and its state read after it (so a decision on
/// stale state cannot slip past the head check in `append`).
async fn load(state: &AppState, round: &str) -> Result<(i64, RoundState), ApiError> {
    let (head, _) = state.store.head(round).await?;
    let s = state
        .store
        .round(round)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no budgeting round `{round}`")))?;
    Ok((head, s))
}

pub async fn round(state: &AppState, round: &str) -> Result<RoundState, ApiError> {
    Ok(load(state, round).await?.1)
}

async fn holds(state: &AppState, person: &str, office: &Office) -> Result<bool, ApiError> {
    Ok(state
        .store
        .membership_exists(person, &office.organisation, &office.position)
        .await?)
}

/// Append decided against `head`; `None` when another writer moved the
/// chain meanwhile (the caller decides again).
async fn try_append(
    state: &AppState,
    round: &str,
    head: i64,
    actor: &str,
    bodies: &[EventBody],
) -> Result<Option<Vec<StoredEvent>>, ApiError> {
    match state
        .store
        .append(round, head, actor, &now_text(state), bodies)
        .await
    {
        Err(StoreError::Conflict(_)) => Ok(None),
        other => Ok(Some(other?)),
    }
}

fn busy(round: &str) -> ApiError {
    StoreError::Conflict(round.to_string()).into()
}

// ── Opening a round ──

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRound {
    pub name: String,
    /// The council (a public organisation) whose reserve this is.
    pub council: String,
    #[serde(default)]
    pub financial_year: Option<String>,
    /// Budget in paisa.
    pub budget: i64,
    /// `{district, union_councils: [...], bounds: {south, west, north, east}}`.
    #[schema(value_type = Object)]
    pub area: Area,
    /// `mes-add1` (default), `mes-add1-comparison` or `greedy`.
    #[serde(default)]
    pub rule: Option<String>,
    /// Seed of the tie-break draw; drawn at random when absent.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Who moves the round on; default: the council's `ccb_official`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub convenor: Option<Office>,
    /// Who reviews proposals; default: the council's `works_engineer`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub reviewer: Option<Office>,
    /// Who enters paper ballots; default: the council's `ballot_clerk`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub counter: Option<Office>,
    #[serde(default)]
    pub max_choices: Option<u32>,
    /// The arrangement winners run under; default `cost-sharing` v1.
    #[serde(default)]
    pub arrangement: Option<String>,
    #[serde(default)]
    pub version: Option<u32>,
    /// Other arrangements a proposal may choose, `[{id, version}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub other_arrangements: Vec<ArrangementRef>,
    /// Planned dates (`YYYY-MM-DD`) the review, voting and results phases
    /// begin: `{review, voting, results}`, each optional.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub schedule: Schedule,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub demo: bool,
    /// Add1 step in paisa (default one rupee); see `RoundRecord::add1_step`.
    #[serde(default)]
    pub add1_step: Option<i64>,
}

/// Open a round. A platform administrator, or a person holding the
/// convenor's office, may.
pub async fn open_round(
    state: &AppState,
    caller_person: Option<&str>,
    is_admin: bool,
    actor: &str,
    input: NewRound,
) -> Result<RoundState, ApiError> {
    let council = state
        .store
        .organisation(&input.council)
        .await?
        .ok_or_else(|| {
            ApiError::unprocessable(format!("no organisation `{}` is registered", input.council))
        })?;
    if council.kind != OrgKind::Public.as_str() {
        return Err(ApiError::unprocessable(format!(
            "{} is a {} organisation; a round divides a council's (public organisation's) reserve",
            council.name, council.kind
        )));
    }
    let office = |o: Option<Office>, position: &str| {
        o.unwrap_or_else(|| Office {
            organisation: council.id.clone(),
            position: position.to_string(),
        })
    };
    let rule = match input.rule.as_deref() {
        None => CountingRule::MesAdd1,
        Some(r) => CountingRule::parse(r).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "rule `{r}`: use mes-add1, mes-add1-comparison or greedy"
            ))
        })?,
    };
    let arrangement = input
        .arrangement
        .unwrap_or_else(|| "cost-sharing".to_string());
    let version = input.version.unwrap_or(1);
    for (id, v) in std::iter::once((&arrangement, version))
        .chain(input.other_arrangements.iter().map(|a| (&a.id, a.version)))
    {
        state
            .arrangement(id, v)
            .await
            .map_err(|e| ApiError::unprocessable(e.problem.detail.clone()))?;
    }
    let record = RoundRecord {
        id: service::new_id(),
        name: input.name.trim().to_string(),
        council: council.id.clone(),
        financial_year: input.financial_year.filter(|y| !y.trim().is_empty()),
        currency: input.currency.unwrap_or_else(|| "PKR".into()),
        budget: input.budget,
        area: input.area,
        rule,
        seed: input.seed.unwrap_or_else(rand::random),
        convenor: office(input.convenor, "ccb_official"),
        reviewer: office(input.reviewer, "works_engineer"),
        counter: office(input.counter, "ballot_clerk"),
        max_choices: input.max_choices,
        arrangement,
        version,
        other_arrangements: input.other_arrangements,
        schedule: input.schedule,
        demo: input.demo,
        imported_from: None,
        add1_step: input.add1_step,
    };
    budgeting::check_record(&record).map_err(refusal)?;
    budgeting::check_schedule_from(&record, &now_text(state)).map_err(refusal)?;
    for o in [&record.convenor, &record.reviewer, &record.counter] {
        if state.store.organisation(&o.organisation).await?.is_none() {
            return Err(ApiError::unprocessable(format!(
                "no organisation `{}` is registered",
                o.organisation
            )));
        }
    }
    let allowed = is_admin
        || match caller_person {
            Some(p) => holds(state, p, &record.convenor).await?,
            None => false,
        };
    if !allowed {
        return Err(ApiError::forbidden(format!(
            "a round is opened by a platform administrator or by the council's `{}`",
            record.convenor.position
        )));
    }
    let id = record.id.clone();
    state
        .store
        .append(
            &id,
            0,
            actor,
            &now_text(state),
            &[EventBody::RoundOpened { round: record }],
        )
        .await?;
    round(state, &id).await
}

// ── Phases ──

/// Move a round to its next phase (its convenor only). Moving to results
/// counts the votes with `saanjh-pb` and publishes the count in the same
/// append, so there is never a results phase without its result.
pub async fn change_phase(
    state: &AppState,
    person: &str,
    round_id: &str,
    to: Phase,
    note: Option<String>,
) -> Result<RoundState, ApiError> {
    for attempt in 0..MAX_ATTEMPTS {
        let (head, s) = load(state, round_id).await?;
        let is_convenor = holds(state, person, &s.record.convenor).await?;
        let change =
            budgeting::decide_phase(&s, person, is_convenor, to, note.clone()).map_err(refusal)?;
        let mut bodies = vec![change];
        if to == Phase::Results {
            let ballots = ballot_lines(&state.store.ballots(round_id).await?);
            let result = count_off_thread(&s, ballots).await?;
            bodies.push(EventBody::RoundCounted {
                round: round_id.to_string(),
                result,
            });
        }
        if try_append(state, round_id, head, person, &bodies)
            .await?
            .is_some()
        {
            return round(state, round_id).await;
        }
        back_off(attempt).await;
    }
    Err(busy(round_id))
}

// ── Proposals and review ──

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProposal {
    /// The proposing community organisation.
    pub organisation: String,
    pub title: String,
    pub description: String,
    /// The organisation's estimate, paisa.
    pub estimate: i64,
    /// `{place, union_council, latitude, longitude}`.
    #[schema(value_type = Object)]
    pub location: Location,
    /// The arrangement the scheme will run under; default the round's.
    #[serde(default)]
    pub arrangement: Option<String>,
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub component: Option<String>,
    /// Other partner roles of the arrangement, role → organisation id.
    #[serde(default)]
    pub partners: BTreeMap<String, String>,
}

/// A registered organisation, and whether `person` holds an active
/// position in it (what proposing for it, or delivering for it, needs).
async fn registered_member(
    state: &AppState,
    organisation: &str,
    person: &str,
) -> Result<(OrganisationRow, bool), ApiError> {
    let org = state
        .store
        .organisation(organisation)
        .await?
        .ok_or_else(|| {
            ApiError::unprocessable(format!("no organisation `{organisation}` is registered"))
        })?;
    let is_member = state
        .store
        .memberships(Some(&org.id), Some(person), 1000, 0)
        .await?
        .iter()
        .any(|m| m.active != 0);
    Ok((org, is_member))
}

pub async fn submit_proposal(
    state: &AppState,
    person: &str,
    round_id: &str,
    input: NewProposal,
) -> Result<u32, ApiError> {
    let (org, is_member) = registered_member(state, &input.organisation, person).await?;
    let s0 = round(state, round_id).await?;
    let arrangement = input
        .arrangement
        .clone()
        .unwrap_or_else(|| s0.record.arrangement.clone());
    let version = input.version.unwrap_or(s0.record.version);
    // Before the arrangement's own partner rules, so a refusal names the
    // round's rule rather than a partner of an arrangement it does not allow.
    budgeting::check_arrangement(&s0, &arrangement, version).map_err(refusal)?;
    let arr = state
        .arrangement(&arrangement, version)
        .await
        .map_err(|e| ApiError::unprocessable(e.problem.detail.clone()))?;
    if let Some(c) = &input.component
        && !arr.file.components.contains_key(c)
    {
        return Err(ApiError::unprocessable(format!(
            "`{c}` is not a component of `{arrangement}` (components: {})",
            arr.file
                .components
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for (role, o) in &input.partners {
        let Some(rule) = arr.file.partners.get(role) else {
            return Err(ApiError::unprocessable(format!(
                "`{role}` is not a partner role of `{arrangement}`"
            )));
        };
        let Some(partner) = state.store.organisation(o).await? else {
            return Err(ApiError::unprocessable(format!(
                "no organisation `{o}` is registered"
            )));
        };
        if !rule.kinds.iter().any(|k| k.as_str() == partner.kind) {
            return Err(ApiError::unprocessable(format!(
                "{} is a {} organisation; the `{role}` partner ({}) is not",
                partner.name, partner.kind, rule.name
            )));
        }
    }
    // The roles the proposing organisation and the council fill themselves
    // when the winner becomes a scheme; any other role that is not optional
    // must be named now, not discovered missing after the vote.
    for (role, rule) in &arr.file.partners {
        let filled = rule.kinds.contains(&OrgKind::Community)
            || rule.kinds.contains(&OrgKind::Public)
            || rule.optional
            || input.partners.contains_key(role);
        if !filled {
            return Err(ApiError::unprocessable(format!(
                "under `{arrangement}` the scheme needs a `{role}` partner ({}); name it",
                rule.name
            )));
        }
    }
    let record = ProposalRecord {
        number: 0,
        organisation: Some(org.id.clone()),
        submitted_by: None,
        source_id: None,
        title: input.title.trim().to_string(),
        description: input.description.trim().to_string(),
        estimate: input.estimate,
        location: input.location,
        arrangement,
        version,
        component: input.component,
        partners: input.partners,
    };
    let is_community = org.kind == OrgKind::Community.as_str();
    for attempt in 0..MAX_ATTEMPTS {
        let (head, s) = load(state, round_id).await?;
        let body = budgeting::decide_proposal(&s, person, is_community, is_member, record.clone())
            .map_err(refusal)?;
        let number = match &body {
            EventBody::ProposalSubmitted { proposal, .. } => proposal.number,
            _ => 0,
        };
        if try_append(state, round_id, head, person, &[body])
            .await?
            .is_some()
        {
            return Ok(number);
        }
        back_off(attempt).await;
    }
    Err(busy(round_id))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `feasible` (with `cost`) or `rejected` (with `reason`).
    pub decision: String,
    /// The cost the works department sets, paisa.
    #[serde(default)]
    pub cost: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl ReviewInput {
    fn into_review(self) -> Result<Review, ApiError> {
        match self.decision.as_str() {
            "feasible" => Ok(Review::Feasible {
                cost: self.cost.ok_or_else(|| {
                    ApiError::unprocessable("a feasible proposal needs its `cost` (paisa)")
                })?,
                note: self.note.filter(|n| !n.trim().is_empty()),
            }),
            "rejected" => Ok(Review::Rejected {
                reason: self.reason.unwrap_or_default(),
            }),
            other => Err(ApiError::unprocessable(format!(
                "decision `{other}`: use feasible or rejected"
            ))),
        }
    }
}

pub async fn review_proposal(
    state: &AppState,
    person: &str,
    round_id: &str,
    number: u32,
    input: ReviewInput,
) -> Result<(), ApiError> {
    let review = input.into_review()?;
    for attempt in 0..MAX_ATTEMPTS {
        let (head, s) = load(state, round_id).await?;
        let is_reviewer = holds(state, person, &s.record.reviewer).await?;
        let body = budgeting::decide_review(&s, person, is_reviewer, number, review.clone())
            .map_err(refusal)?;
        if try_append(state, round_id, head, person, &[body])
            .await?
            .is_some()
        {
            return Ok(());
        }
        back_off(attempt).await;
    }
    Err(busy(round_id))
}

// ── Voting ──

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnlineVote {
    /// The voter's CNIC number (13 digits, dashes allowed). Never stored:
    /// only a salted hash, outside the public log.
    pub cnic: String,
    /// Proposal numbers approved.
    pub approvals: Vec<u32>,
    #[serde(default)]
    pub union_council: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BallotReceipt {
    pub round: String,
    /// The ballot's number in the round (public, as in a `.pb` export).
    pub ballot: u64,
    /// The event's hash on the round's chain: the voter's receipt.
    pub hash: String,
}

fn receipt(round_id: &str, stored: &[StoredEvent]) -> Result<BallotReceipt, ApiError> {
    let e = stored
        .first()
        .ok_or_else(|| ApiError::internal("no event was stored"))?;
    match e.body() {
        Ok(EventBody::BallotCast { ballot, .. }) => Ok(BallotReceipt {
            round: round_id.to_string(),
            ballot: ballot.number,
            hash: e.hash.clone(),
        }),
        _ => Err(ApiError::internal(
            "the ballot was stored but cannot be read back",
        )),
    }
}

/// The salted hash that stands for a voter in `pb_voters`.
async fn voter_hash(state: &AppState, round_id: &str, cnic: &str) -> Result<String, ApiError> {
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    let salt = state.store.round_salt(round_id, &fresh).await?;
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(cnic.as_bytes());
    Ok(hex::encode(h.finalize()))
}

/// A resident's online vote. The mark that this CNIC voted and the ballot
/// are written in one transaction: a second vote, even at the same moment,
/// is refused and changes nothing. `client` is who sent it (see
/// `VoteClient`): every attempt, accepted or not, is taken from that
/// client's allowance for the round first, so CNIC numbers cannot be tried
/// in bulk.
pub async fn vote_online(
    state: &AppState,
    round_id: &str,
    client: &str,
    input: OnlineVote,
) -> Result<BallotReceipt, ApiError> {
    state.votes.take(round_id, client)?;
    let cnic = budgeting::normalise_cnic(&input.cnic).map_err(|why| {
        // A stable code, so pages can say it in the visitor's language.
        let mut e = ApiError::unprocessable(why);
        e.problem.rule = Some("round.cnic".into());
        e
    })?;
    let hash = voter_hash(state, round_id, &cnic).await?;
    for attempt in 0..MAX_ATTEMPTS {
        let (head, s) = load(state, round_id).await?;
        let body = budgeting::decide_ballot(
            &s,
            input.approvals.clone(),
            input.union_council.clone(),
            Method::Online,
        )
        .map_err(refusal)?;
        if state.store.voter_has_voted(round_id, &hash).await? {
            return Err(already_voted());
        }
        match state
            .store
            .append_with(
                round_id,
                head,
                "resident",
                &now_text(state),
                &[body],
                &[SideRow::Voter {
                    round: round_id.to_string(),
                    hash: hash.clone(),
                }],
            )
            .await
        {
            Err(StoreError::Conflict(_)) => back_off(attempt).await,
            Err(StoreError::Duplicate(_)) => return Err(already_voted()),
            Err(e) => return Err(e.into()),
            Ok(stored) => return receipt(round_id, &stored),
        }
    }
    Err(StoreError::Conflict(round_id.to_string()).into())
}

/// How many online vote attempts one client may make in one round: a
/// token bucket holding `attempts`, refilled at `attempts` per
/// `per_seconds`. A household, a school computer room or a mobile
/// network's shared address (carrier NAT is common) may carry many
/// honest voters, so the default is generous (30 per 10 minutes); it is
/// there to stop one sender trying CNIC numbers in bulk, not to count
/// people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteRate {
    pub attempts: u32,
    pub per_seconds: u64,
}

impl VoteRate {
    pub const DEFAULT: VoteRate = VoteRate {
        attempts: 30,
        per_seconds: 600,
    };

    /// `ATTEMPTS/SECONDS`, e.g. `30/600`.
    pub fn parse(text: &str) -> Result<VoteRate, String> {
        let bad = || {
            format!("vote rate `{text}`: write ATTEMPTS/SECONDS with both above zero, e.g. 30/600")
        };
        let (a, p) = text.trim().split_once('/').ok_or_else(bad)?;
        let attempts: u32 = a.trim().parse().map_err(|_| bad())?;
        let per_seconds: u64 = p.trim().parse().map_err(|_| bad())?;
        if attempts == 0 || per_seconds == 0 {
            return Err(bad());
        }
        Ok(VoteRate {
            attempts,
            per_seconds,
        })
    }
}

/// Online vote attempts per round and client (in memory, per process:
/// with several server processes each keeps its own count). The client is
/// the connection's address, or, behind a reverse proxy that sets it, the
/// first address in the header named by `client_header`.
#[derive(Debug)]
pub struct VoteLimiter {
    pub rate: VoteRate,
    pub client_header: Option<axum::http::HeaderName>,
    buckets:
        std::sync::Mutex<std::collections::HashMap<(String, String), (f64, std::time::Instant)>>,
}

impl Default for VoteLimiter {
    fn default() -> VoteLimiter {
        VoteLimiter::new(VoteRate::DEFAULT, None)
    }
}

impl VoteLimiter {
    pub fn new(rate: VoteRate, client_header: Option<axum::http::HeaderName>) -> VoteLimiter {
        VoteLimiter {
            rate,
            client_header,
            buckets: Default::default(),
        }
    }

    /// A limiter counting clients by `header` (e.g. `x-forwarded-for`)
    /// when given and not blank.
    pub fn with_header(rate: VoteRate, header: Option<&str>) -> Result<VoteLimiter, String> {
        let header = match header.map(str::trim) {
            None | Some("") => None,
            Some(h) => Some(
                axum::http::HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())
                    .map_err(|_| format!("`{h}` is not a header name"))?,
            ),
        };
        Ok(VoteLimiter::new(rate, header))
    }

    /// Take one attempt from the client's allowance in the round, or 429
    /// with the seconds until the next attempt is allowed.
    pub fn take(&self, round_id: &str, client: &str) -> Result<(), ApiError> {
        let now = std::time::Instant::now();
        let cap = self.rate.attempts as f64;
        let per_sec = cap / self.rate.per_seconds as f64;
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        // Forget clients whose allowance is full again, so the map stays
        // the size of the recent senders.
        if map.len() > 100_000 {
            map.retain(|_, (t, last)| *t + now.duration_since(*last).as_secs_f64() * per_sec < cap);
        }
        let (tokens, last) = map
            .entry((round_id.to_string(), client.to_string()))
            .or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_sec).min(cap);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait = (((1.0 - *tokens) / per_sec).ceil() as u64).max(1);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-vote-attempts",
            "Too many voting attempts",
            format!(
                "this connection has tried to vote {} times in this round within {} s; try again in {wait} s",
                self.rate.attempts, self.rate.per_seconds
            ),
        );
        e.problem.rule = Some("round.vote_rate".into());
        e.retry_after = Some(wait);
        Err(e)
    }

    /// Who sent a request, as the limiter counts clients.
    pub fn client_of(&self, parts: &axum::http::request::Parts) -> String {
        if let Some(h) = &self.client_header
            && let Some(first) = parts
                .headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        {
            return first.to_string();
        }
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The client a vote came from, for `VoteLimiter` (never fails).
#[derive(Debug, Clone)]
pub struct VoteClient(pub String);

impl axum::extract::FromRequestParts<AppState> for VoteClient {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<VoteClient, ApiError> {
        Ok(VoteClient(state.votes.client_of(parts)))
    }
}

fn already_voted() -> ApiError {
    let mut e = ApiError::new(
        StatusCode::CONFLICT,
        "already-voted",
        "Already voted",
        "this CNIC number has already voted in this round; a resident votes once",
    );
    e.problem.rule = Some("round.one_vote".into());
    e
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperBallot {
    /// The serial number printed on the paper ballot.
    pub serial: String,
    pub approvals: Vec<u32>,
    #[serde(default)]
    pub union_council: Option<String>,
}

/// A paper ballot entered at a counter by staff holding the round's
/// counter office; the entry records who entered it and the serial,
/// and a serial is entered once.
pub async fn enter_paper_ballot(
    state: &AppState,
    person: &str,
    round_id: &str,
    input: PaperBallot,
) -> Result<BallotReceipt, ApiError> {
    let serial = input.serial.trim().to_string();
    for attempt in 0..MAX_ATTEMPTS {
        let (head, s) = load(state, round_id).await?;
        if !holds(state, person, &s.record.counter).await? {
            return Err(refusal(RoundRefusal {
                kind: budgeting::RefusalKind::Position,
                rule: "round.counter".into(),
                message: format!(
                    "only counter staff (`{}`) enter paper ballots",
                    s.record.counter.position
                ),
                allowed_if: format!(
                    "you hold the position `{}` in the counter's organisation",
                    s.record.counter.position
                ),
            }));
        }
        let body = budgeting::decide_ballot(
            &s,
            input.approvals.clone(),
            input.union_council.clone(),
            Method::Paper {
                serial: serial.clone(),
                entered_by: person.to_string(),
            },
        )
        .map_err(refusal)?;
        if state.store.ballot_serial_used(round_id, &serial).await? {
            let mut e = ApiError::conflict(format!(
                "paper ballot {serial} has already been entered in this round"
            ));
            e.problem.rule = Some("round.serial".into());
            return Err(e);
        }
        if let Some(stored) = try_append(state, round_id, head, person, &[body]).await? {
            return receipt(round_id, &stored);
        }
        back_off(attempt).await;
    }
    Err(busy(round_id))
}

// ── Counting (saanjh-pb) ──

/// A ballot as the count and the export read it.
#[derive(Debug, Clone)]
pub struct BallotLine {
    pub number: u64,
    pub approvals: Vec<u32>,
    pub method: String,
    pub union_council: Option<String>,
}

pub fn ballot_lines(rows: &[saanjh_store::BallotRow]) -> Vec<BallotLine> {
    rows.iter()
        .map(|b| BallotLine {
            number: b.number as u64,
            approvals: b.approval_numbers(),
            method: b.method.clone(),
            union_council: b.union_council.clone(),
        })
        .collect()
}

fn money(minor: i64) -> Result<Money, ApiError> {
    Money::from_minor(minor, MINOR_EXPONENT)
        .ok_or_else(|| ApiError::internal(format!("amount {minor} out of range")))
}

fn minor_of(m: Money) -> Option<i64> {
    let per_minor = 10i128.pow(6 - MINOR_EXPONENT);
    if m.0 % per_minor != 0 {
        return None;
    }
    i64::try_from(m.0 / per_minor).ok()
}

/// The counting options a round stands for: its rule, its Add1 step (one
/// currency unit unless the round chose another), cost utility, the round's
/// published seed.
pub fn count_options(r: &RoundRecord) -> Result<CountOptions, ApiError> {
    let mut o = CountOptions {
        seed: r.seed,
        step: match r.add1_step {
            Some(minor) => money(minor)?,
            None => Money::units(1),
        },
        ..CountOptions::default()
    };
    match r.rule {
        CountingRule::Greedy => o.rule = Rule::Greedy,
        CountingRule::MesAdd1 | CountingRule::MesAdd1Comparison => {
            o.rule = Rule::Mes;
            o.utility = Utility::Cost;
            o.completion = Completion::Add1;
            o.compare_with_greedy = r.rule == CountingRule::MesAdd1Comparison;
        }
    }
    Ok(o)
}

/// The round as a pabulib instance: the proposals on the ballot with their
/// reviewed costs (ids are proposal numbers) and every ballot (ids are
/// ballot numbers).
pub fn instance(s: &RoundState, ballots: &[BallotLine]) -> Result<Instance, ApiError> {
    let mut inst = Instance::new(money(s.record.budget)?, VoteType::Approval);
    for (n, p) in s.on_ballot() {
        let cost = p.feasible_cost().unwrap_or_default();
        inst.add_project(n.to_string(), money(cost)?)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    let mut lines = Vec::with_capacity(ballots.len());
    for b in ballots {
        let mut fields = vec![("voting_method".to_string(), b.method.clone())];
        if let Some(uc) = &b.union_council {
            fields.push(("neighborhood".to_string(), uc.clone()));
        }
        lines.push(NewBallot {
            id: b.number.to_string(),
            ballot: b.approvals.iter().map(|n| n.to_string()).collect(),
            points: None,
            fields,
        });
    }
    inst.add_voters(lines)
        .map_err(|e| ApiError::internal(format!("the ballots: {e}")))?;
    Ok(inst)
}

/// `count` on a thread meant for blocking work: a city-wide round takes
/// seconds of CPU to count, which must not stall the server's other requests.
pub async fn count_off_thread(
    s: &RoundState,
    ballots: Vec<BallotLine>,
) -> Result<CountRecord, ApiError> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || count(&s, &ballots))
        .await
        .map_err(|e| ApiError::internal(format!("the count did not finish: {e}")))?
}

/// Count a round with `saanjh-pb` and put the outcome in the published form.
pub fn count(s: &RoundState, ballots: &[BallotLine]) -> Result<CountRecord, ApiError> {
    let inst = instance(s, ballots)?;
    let out = saanjh_pb::count(&inst, &count_options(&s.record)?)
        .map_err(|e| ApiError::internal(format!("the count failed: {e}")))?;
    let number = |id: &str| -> Result<u32, ApiError> {
        id.parse()
            .map_err(|_| ApiError::internal(format!("project id `{id}` is not a proposal number")))
    };
    let mut projects = vec![];
    for pr in &out.projects {
        let n = number(&pr.id)?;
        projects.push(CountedProject {
            number: n,
            cost: minor_of(pr.cost).unwrap_or_default(),
            votes: pr.votes,
            selected: pr.selected,
            why: pr.reason.explain(),
            reason: serde_json::to_value(&pr.reason).unwrap_or_default(),
        });
    }
    let completion = out.completion.as_ref().map(|c| {
        format!(
            "each voter's share was raised from {:.2} to {:.2} in {} raise(s) of {}; {}",
            c.start_per_voter.approx(),
            c.final_per_voter.approx(),
            c.iterations,
            c.step_per_voter,
            c.stopped_because
        )
    });
    Ok(CountRecord {
        rule: s.record.rule,
        budget: s.record.budget,
        spent: minor_of(out.spent).unwrap_or_default(),
        ballots: ballots.len() as u64,
        winners: out
            .winners
            .iter()
            .map(|w| number(w))
            .collect::<Result<_, _>>()?,
        projects,
        tie_break: TieBreakPublished {
            seed: out.tie_break.seed,
            criteria: out.tie_break.criteria.to_string(),
            drawn: out.tie_break.drawn.clone(),
            priority: out.tie_break.priority.clone(),
            ties: out
                .ties
                .iter()
                .filter_map(|t| serde_json::to_value(t).ok())
                .collect(),
        },
        completion,
        completion_detail: out
            .completion
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok()),
        comparison: out
            .comparison
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok()),
    })
}

// ── Winners into schemes ──

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SchemeLink {
    pub proposal: u32,
    pub initiative: Option<String>,
    pub scheme: Option<String>,
    /// Why this winner could not become a scheme (nothing was recorded).
    pub refused: Option<String>,
}

/// An id derived from what it names (UUID-shaped, version 8): the same
/// round and proposal always give the same scheme id, so a retry, or a
/// second request racing the first, finds what the first made instead of
/// making another.
pub fn derived_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"saanjh:");
    for p in parts {
        h.update(p.as_bytes());
        h.update(b"\x1f");
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

/// The scheme a round's winner becomes.
pub fn winner_scheme_id(round_id: &str, number: u32) -> String {
    derived_id(&["pb-scheme", round_id, &number.to_string()])
}

/// Refuse when the round cannot turn winners into schemes at all: before
/// its count, or an imported record of a past count that has no council.
fn schemes_possible(s: &RoundState) -> Result<&CountRecord, ApiError> {
    if s.record.council.is_empty() {
        let mut e = ApiError::conflict(
            "this round was imported as a record of a past count, without a council: \
             nobody may turn its winners into schemes. To deliver its winners, import the \
             file again naming the council whose reserve pays for them (`council` in the API, \
             `--council` on the command line); its convenor then names who delivers each winner",
        );
        e.problem.rule = Some("round.council".into());
        return Err(e);
    }
    s.result.as_ref().ok_or_else(|| {
        refusal(RoundRefusal {
            kind: budgeting::RefusalKind::Phase,
            rule: "round.phase".into(),
            message: format!(
                "winners become schemes in the results phase; this round is in the {} phase",
                s.phase.as_str()
            ),
            allowed_if: "the round is in the results phase".into(),
        })
    })
}

/// Turn each winner that is not yet a scheme into one: an initiative
/// binding the delivering organisation and the council under the
/// proposal's arrangement (an existing one with exactly those partners is
/// reused), then the arrangement's creating act by the person who
/// submitted the proposal (or whom the convenor named to deliver it), with
/// the reviewed cost as the estimate. The round's convenor asks for it;
/// each winner is independent, and one the arrangement refuses is reported
/// with the refusal and can be retried.
///
/// Safe to repeat and to race: each winner's scheme has an id derived from
/// the round and the proposal, and the scheme's creating events and the
/// round's record of it are appended in one transaction across the two
/// chains, so a scheme never exists without the round knowing it, and a
/// second request finds the first one's scheme instead of making another.
pub async fn create_schemes(
    state: &AppState,
    person: &str,
    round_id: &str,
) -> Result<Vec<SchemeLink>, ApiError> {
    let s = round(state, round_id).await?;
    let result = schemes_possible(&s)?.clone();
    if !holds(state, person, &s.record.convenor).await? {
        return Err(ApiError::forbidden(format!(
            "only the round's convenor (`{}`) turns its winners into schemes",
            s.record.convenor.position
        )));
    }
    let mut out = vec![];
    for n in result.winners {
        let Some(p) = s.proposals.get(&n) else {
            continue;
        };
        if p.scheme.is_some() {
            continue;
        }
        let link = match winner_to_scheme(state, person, round_id, n).await {
            Ok((initiative, scheme)) => SchemeLink {
                proposal: n,
                initiative: Some(initiative),
                scheme: Some(scheme),
                refused: None,
            },
            Err(e) => SchemeLink {
                proposal: n,
                initiative: None,
                scheme: None,
                refused: Some(e.problem.detail.clone()),
            },
        };
        out.push(link);
    }
    Ok(out)
}

/// What a winner needs to become a scheme: who delivers it (organisation
/// and the person who performs the creating act), under which arrangement.
struct Delivery {
    organisation: String,
    proposer: String,
    arrangement: String,
    version: u32,
}

fn delivery(s: &RoundState, n: u32) -> Result<Delivery, ApiError> {
    let p = s
        .proposals
        .get(&n)
        .ok_or_else(|| ApiError::not_found(format!("this round has no proposal {n}")))?;
    let rec = &p.record;
    let (organisation, proposer) = match (&rec.organisation, &rec.submitted_by, &p.deliverer) {
        (Some(o), Some(by), _) => (o.clone(), by.clone()),
        (None, _, Some(d)) => (d.organisation.clone(), d.person.clone()),
        _ => {
            let mut e = ApiError::conflict(format!(
                "proposal {n} came without a proposing organisation (an imported round); \
                 the convenor first names the registered community organisation that delivers it \
                 (POST /rounds/{}/proposals/{n}/deliverer)",
                s.record.id
            ));
            e.problem.rule = Some("round.deliverer".into());
            return Err(e);
        }
    };
    let (arrangement, version) = if rec.arrangement.is_empty() {
        (s.record.arrangement.clone(), s.record.version)
    } else {
        (rec.arrangement.clone(), rec.version)
    };
    Ok(Delivery {
        organisation,
        proposer,
        arrangement,
        version,
    })
}

/// The initiative a winner's scheme belongs to: an existing one binding
/// exactly these partners under the arrangement, else one started under an
/// id derived from the round and the partners (so two requests racing to
/// start it start one: the second finds the chain taken).
async fn winner_initiative(
    state: &AppState,
    person: &str,
    s: &RoundState,
    n: u32,
    d: &Delivery,
    arr: &saanjh_core::arrangement::Arrangement,
) -> Result<String, ApiError> {
    let rec = &s.proposals[&n].record;
    let mut partners = BTreeMap::new();
    for (role, rule) in &arr.file.partners {
        if let Some(o) = rec.partners.get(role) {
            partners.insert(role.clone(), o.clone());
        } else if rule.kinds.contains(&OrgKind::Community) {
            partners.insert(role.clone(), d.organisation.clone());
        } else if rule.kinds.contains(&OrgKind::Public) {
            partners.insert(role.clone(), s.record.council.clone());
        } else if !rule.optional {
            return Err(ApiError::unprocessable(format!(
                "the arrangement needs a `{role}` partner ({}), which the proposal does not name",
                rule.name
            )));
        }
    }
    let existing = state
        .store
        .initiatives_binding(arr.id(), arr.version() as i64, &partners)
        .await?;
    if let Some(i) = existing.into_iter().next() {
        return Ok(i);
    }
    let id = derived_id(&[
        "pb-initiative",
        &s.record.id,
        arr.id(),
        &arr.version().to_string(),
        &serde_json::to_string(&partners).unwrap_or_default(),
    ]);
    let org_name = state
        .store
        .organisation(&d.organisation)
        .await?
        .map(|o| o.name)
        .unwrap_or_else(|| d.organisation.clone());
    let council_name = state
        .store
        .organisation(&s.record.council)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let started = service::start_initiative_as(
        state,
        person,
        NewInitiative {
            name: format!("{org_name} with {council_name}"),
            locality: rec.location.place.clone(),
            district: s.record.area.district.clone(),
            arrangement: arr.id().to_string(),
            version: arr.version(),
            partners,
            latitude: rec.location.latitude,
            longitude: rec.location.longitude,
            demo: s.record.demo,
        },
        id.clone(),
    )
    .await;
    match started {
        Ok(r) => Ok(r.id),
        // Another request started it meanwhile: use theirs.
        Err(_) if state.store.initiative(&id).await?.is_some() => Ok(id),
        Err(e) => Err(e),
    }
}

/// One winner into a scheme; returns (initiative, scheme). If the round
/// already records the winner's scheme, that is the answer.
pub async fn winner_to_scheme(
    state: &AppState,
    person: &str,
    round_id: &str,
    n: u32,
) -> Result<(String, String), ApiError> {
    let scheme_id = winner_scheme_id(round_id, n);
    for attempt in 0..MAX_ATTEMPTS {
        let (round_head, s) = load(state, round_id).await?;
        schemes_possible(&s)?;
        if let Some(done) = s.proposals.get(&n).and_then(|p| p.scheme.clone()) {
            return Ok(done);
        }
        let d = delivery(&s, n)?;
        let rec = &s.proposals[&n].record;
        let cost = s.proposals[&n].feasible_cost().unwrap_or(rec.estimate);
        let arr = state.arrangement(&d.arrangement, d.version).await?;
        // A scheme under this id that the round does not record can only
        // be left from before both were written in one transaction: record
        // it, and make no other.
        if let Some((row, _)) = state.store.scheme(&scheme_id).await? {
            let body = budgeting::decide_schemed(&s, n, &row.initiative_id, &scheme_id)
                .map_err(refusal)?;
            if try_append(state, round_id, round_head, person, &[body])
                .await?
                .is_some()
            {
                return Ok((row.initiative_id, scheme_id));
            }
            back_off(attempt).await;
            continue;
        }
        let initiative = winner_initiative(state, person, &s, n, &d, &arr).await?;
        let (action, _) = arr
            .creating_action()
            .ok_or_else(|| ApiError::internal("the arrangement has no creating action"))?;
        let component = match &rec.component {
            Some(c) => c.clone(),
            None => {
                let community_roles: Vec<&String> = arr
                    .file
                    .partners
                    .iter()
                    .filter(|(_, r)| r.kinds.contains(&OrgKind::Community))
                    .map(|(k, _)| k)
                    .collect();
                arr.file
                    .components
                    .iter()
                    .find(|(_, c)| community_roles.contains(&c.delivered_by.as_ref()))
                    .or_else(|| arr.file.components.iter().next())
                    .map(|(k, _)| k.clone())
                    .ok_or_else(|| ApiError::unprocessable("the arrangement has no components"))?
            }
        };
        let act = Act {
            action: action.to_string(),
            name: Some(rec.title.clone()),
            note: Some(format!(
                "Won the budgeting round \"{}\" as proposal {n}",
                s.record.name
            )),
            components: vec![ComponentInput {
                kind: component,
                description: Some(if rec.description.is_empty() {
                    rec.title.clone()
                } else {
                    rec.description.clone()
                }),
                estimate: Some(cost),
            }],
            ..Act::default()
        };
        let decided =
            service::decide_act(state, &initiative, &d.proposer, &act, &scheme_id).await?;
        let schemed = budgeting::decide_schemed(&s, n, &initiative, &scheme_id).map_err(refusal)?;
        let parts = [
            ChainAppend {
                chain: &decided.chain,
                expected_seq: decided.head,
                actor: &d.proposer,
                bodies: &decided.events,
            },
            ChainAppend {
                chain: round_id,
                expected_seq: round_head,
                actor: person,
                bodies: std::slice::from_ref(&schemed),
            },
        ];
        match state.store.append_chains(&decided.at, &parts, &[]).await {
            Ok(_) => return Ok((initiative, scheme_id)),
            Err(StoreError::Conflict(_)) => back_off(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy(round_id))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelivererInput {
    /// The registered community organisation that delivers the winner.
    pub organisation: String,
    /// Its member who performs the scheme's creating act.
    pub person: String,
}

/// Name who delivers a winner of an imported round (the convenor): what an
/// earlier paper process did not record, and a scheme needs.
pub async fn name_deliverer(
    state: &AppState,
    person: &str,
    round_id: &str,
    n: u32,
    input: DelivererInput,
) -> Result<RoundState, ApiError> {
    let (org, is_member) = registered_member(state, &input.organisation, &input.person).await?;
    let is_community = org.kind == OrgKind::Community.as_str();
    for attempt in 0..MAX_ATTEMPTS {
        let (head, s) = load(state, round_id).await?;
        schemes_possible(&s)?;
        let is_convenor = holds(state, person, &s.record.convenor).await?;
        let body = budgeting::decide_deliverer(
            &s,
            is_convenor,
            n,
            is_community,
            is_member,
            Deliverer {
                organisation: org.id.clone(),
                person: input.person.clone(),
            },
        )
        .map_err(refusal)?;
        if try_append(state, round_id, head, person, &[body])
            .await?
            .is_some()
        {
            return round(state, round_id).await;
        }
        back_off(attempt).await;
    }
    Err(busy(round_id))
}

// ── .pb export and import ──

fn pb_date(at: &str) -> String {
    // RFC 3339 "2026-01-05T…" → pabulib "05.01.2026".
    match (at.get(0..4), at.get(5..7), at.get(8..10)) {
        (Some(y), Some(m), Some(d)) => format!("{d}.{m}.{y}"),
        _ => at.to_string(),
    }
}

/// A round as a pabulib `.pb` file: the proposals on the ballot with their
/// reviewed costs, the ballots, and (once counted) `selected`.
pub async fn export_pb(state: &AppState, round_id: &str) -> Result<String, ApiError> {
    let s = round(state, round_id).await?;
    let ballots = ballot_lines(&state.store.ballots(round_id).await?);
    let mut inst = instance(&s, &ballots)?;
    let council = state
        .store
        .organisation(&s.record.council)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let voting_from = s
        .phase_changes
        .iter()
        .find(|c| c.to == Phase::Voting)
        .map(|c| c.at.clone())
        .unwrap_or_else(|| s.opened_at.clone());
    let voting_to = s
        .phase_changes
        .iter()
        .find(|c| c.to == Phase::Results)
        .map(|c| c.at.clone())
        .unwrap_or_else(|| s.updated_at.clone());
    let mut meta = vec![
        (
            "description".to_string(),
            match &s.record.imported_from {
                Some(src) => src.clone(),
                None => format!("{} ({council})", s.record.name),
            },
        ),
        ("country".into(), "Pakistan".into()),
        ("unit".into(), s.record.area.district.clone()),
        ("instance".into(), s.record.name.clone()),
        ("num_projects".into(), String::new()),
        ("num_votes".into(), String::new()),
        ("budget".into(), String::new()),
        ("vote_type".into(), String::new()),
        ("rule".into(), s.record.rule.pabulib().into()),
        ("date_begin".into(), pb_date(&voting_from)),
        ("date_end".into(), pb_date(&voting_to)),
        ("currency".into(), s.record.currency.clone()),
        ("tie_break_seed".into(), s.record.seed.to_string()),
        ("saanjh_round".into(), s.record.id.clone()),
    ];
    if let Some(m) = s.record.max_choices {
        meta.push(("max_length".into(), m.to_string()));
    }
    if !s.record.area.union_councils.is_empty() {
        meta.push((
            "neighborhoods".into(),
            s.record.area.union_councils.join(","),
        ));
    }
    inst.meta = meta;
    let mut votes: BTreeMap<u32, u64> = BTreeMap::new();
    for b in &ballots {
        for a in &b.approvals {
            *votes.entry(*a).or_default() += 1;
        }
    }
    let mut org_names = BTreeMap::new();
    for p in inst.projects.iter_mut() {
        let n: u32 = p.id.parse().unwrap_or_default();
        let Some(ps) = s.proposals.get(&n) else {
            continue;
        };
        let rec = &ps.record;
        p.fields.push(("name".into(), rec.title.clone()));
        p.fields.push((
            "votes".into(),
            votes.get(&n).copied().unwrap_or(0).to_string(),
        ));
        if let Some(r) = &s.result {
            p.fields.push((
                "selected".into(),
                if r.winners.contains(&n) { "1" } else { "0" }.into(),
            ));
        }
        let proposer = match &rec.organisation {
            Some(o) => {
                if !org_names.contains_key(o) {
                    let name = state.store.organisation(o).await?.map(|r| r.name);
                    org_names.insert(o.clone(), name.unwrap_or_else(|| o.clone()));
                }
                org_names[o].clone()
            }
            None => String::new(),
        };
        p.fields.push(("proposer".into(), proposer));
        p.fields.push((
            "neighborhood".into(),
            rec.location.union_council.clone().unwrap_or_default(),
        ));
        if let (Some(lat), Some(lon)) = (rec.location.latitude, rec.location.longitude) {
            p.fields.push(("latitude".into(), lat.to_string()));
            p.fields.push(("longitude".into(), lon.to_string()));
        }
    }
    Ok(saanjh_pb::write(&inst))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportOptions {
    /// The round's name (default: the file's `instance` and `unit`).
    pub name: Option<String>,
    /// `mes-add1`, `mes-add1-comparison` or `greedy` (default: the file's
    /// META `rule`).
    pub rule: Option<String>,
    /// Tie-break seed (default: the file's `tie_break_seed`, else 0 as
    /// `saanjh pb` uses).
    pub seed: Option<u64>,
    /// The council (a registered public organisation) whose reserve pays
    /// for the winners, when they are to be delivered (a round decided
    /// earlier on paper). The round then has the council's usual offices
    /// (convenor `ccb_official`), runs its winners under `cost-sharing` v1,
    /// and its convenor names who delivers each winner. Without it the
    /// round is a record of a past count, and its winners cannot become
    /// schemes.
    pub council: Option<String>,
}

/// One problem with an imported file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportOutcome {
    pub round: String,
    pub projects: usize,
    pub ballots: usize,
    pub winners: Vec<u32>,
    /// Whether the count agrees with the file's own `selected` column
    /// (null when the file has none).
    pub agrees_with_file: Option<bool>,
}

/// Where the rows of a `.pb` file are: META keys and the n-th project and
/// voter row, by line number (1-based), for error messages.
struct LineMap {
    meta: BTreeMap<String, usize>,
    projects: Vec<usize>,
    voters: Vec<usize>,
}

fn line_map(text: &str) -> LineMap {
    let mut m = LineMap {
        meta: BTreeMap::new(),
        projects: vec![],
        voters: vec![],
    };
    let mut section = "";
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim().trim_start_matches('\u{feff}');
        if t.is_empty() {
            continue;
        }
        let upper = t.to_ascii_uppercase();
        if ["META", "PROJECTS", "VOTES"].contains(&upper.as_str()) {
            section = match upper.as_str() {
                "META" => "meta",
                "PROJECTS" => "projects",
                _ => "votes",
            };
            header_seen = false;
            continue;
        }
        if !header_seen {
            header_seen = true;
            continue;
        }
        match section {
            "meta" => {
                if let Some((k, _)) = t.split_once(';') {
                    m.meta.insert(k.trim().to_string(), i + 1);
                }
            }
            "projects" => m.projects.push(i + 1),
            "votes" => m.voters.push(i + 1),
            _ => {}
        }
    }
    m
}

/// Import a `.pb` file as a round that has its results: proposals with the
/// file's costs, its ballots, counted by the platform with the file's (or
/// the given) rule. Checked as a whole first; on any error nothing is
/// stored and every problem is listed with its line. A platform
/// administrator's act (a researcher re-running a past city's count).
pub async fn import_pb(
    state: &AppState,
    actor: &str,
    text: &str,
    opts: ImportOptions,
) -> Result<ImportOutcome, ApiError> {
    let bad = |errors: Vec<LineError>| {
        let first = errors
            .first()
            .map(|e| format!("line {}: {}", e.line, e.message))
            .unwrap_or_default();
        ApiError::unprocessable(format!(
            "the file has {} problem(s), nothing was imported; the first: {first}",
            errors.len()
        ))
        .with_errors(serde_json::to_value(&errors).unwrap_or_default())
    };
    let inst = saanjh_pb::parse(text).map_err(|e| {
        bad(vec![LineError {
            line: e.line,
            message: e.message.clone(),
        }])
    })?;
    let lines = line_map(text);
    let meta_line = |k: &str| lines.meta.get(k).copied().unwrap_or(1);
    let mut errors = vec![];
    if !matches!(inst.vote_type, VoteType::Approval | VoteType::Choose1) {
        errors.push(LineError {
            line: meta_line("vote_type"),
            message: format!(
                "vote_type `{}`: a platform round counts approval ballots",
                inst.vote_type.as_str()
            ),
        });
    }
    let budget = minor_of(inst.budget);
    match budget {
        Some(b) if b > 0 => {}
        _ => errors.push(LineError {
            line: meta_line("budget"),
            message: format!(
                "budget {}: must be more than zero with at most two decimals",
                inst.budget
            ),
        }),
    }
    let rule = match opts.rule.as_deref() {
        Some(r) => CountingRule::parse(r),
        None => inst.meta("rule").and_then(CountingRule::from_pabulib),
    };
    if rule.is_none() {
        errors.push(LineError {
            line: meta_line("rule"),
            message: format!(
                "rule `{}`: the platform counts equalshares/add1, equalshares/add1-comparison or greedy; choose one with ?rule=mes-add1|mes-add1-comparison|greedy",
                opts.rule.as_deref().or(inst.meta("rule")).unwrap_or("")
            ),
        });
    }
    // Keep numeric project ids as the proposals' numbers (so an exported
    // round comes back identical); otherwise number them in file order.
    let numeric: Option<Vec<u32>> = inst
        .projects
        .iter()
        .map(|p| p.id.parse::<u32>().ok().filter(|n| *n > 0))
        .collect();
    let numbers: Vec<u32> = match numeric {
        Some(ns) if ns.iter().collect::<std::collections::BTreeSet<_>>().len() == ns.len() => ns,
        _ => (1..=inst.projects.len() as u32).collect(),
    };
    let mut costs = vec![];
    for (i, p) in inst.projects.iter().enumerate() {
        match minor_of(p.cost) {
            Some(c) if c >= 0 => costs.push(c),
            _ => {
                costs.push(0);
                errors.push(LineError {
                    line: lines.projects.get(i).copied().unwrap_or(1),
                    message: format!(
                        "project {}: cost {} must be zero or more with at most two decimals",
                        p.id, p.cost
                    ),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(bad(errors));
    }
    let (Some(budget), Some(rule)) = (budget, rule) else {
        return Err(ApiError::internal("checked above"));
    };
    let seed = opts
        .seed
        .or_else(|| {
            inst.meta("tie_break_seed")
                .and_then(|s| s.trim().parse().ok())
        })
        .unwrap_or(0);
    let round_id = service::new_id();
    let unit = inst.meta("unit").unwrap_or("").to_string();
    let district = inst
        .meta("district")
        .map(str::to_string)
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            if unit.is_empty() {
                "—".into()
            } else {
                unit.clone()
            }
        });
    let name = opts
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            let inst_name = inst.meta("instance").unwrap_or("");
            let joined = format!("{unit} {inst_name}");
            if joined.trim().is_empty() {
                "Imported round".to_string()
            } else {
                joined.trim().to_string()
            }
        });
    // A council makes the winners deliverable; without one, nobody holds
    // the round's offices.
    let council = match opts.council.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            let org = state.store.organisation(c).await?.ok_or_else(|| {
                ApiError::unprocessable(format!("council: no organisation `{c}` is registered"))
            })?;
            if org.kind != OrgKind::Public.as_str() {
                return Err(ApiError::unprocessable(format!(
                    "council: {} is a {} organisation; a round's winners are paid from a council's (public organisation's) reserve",
                    org.name, org.kind
                )));
            }
            Some(org.id)
        }
    };
    let office = |position: &str| Office {
        organisation: council.clone().unwrap_or_default(),
        position: if council.is_some() {
            position.to_string()
        } else {
            String::new()
        },
    };
    let (arrangement, version) = if council.is_some() {
        let arr = state
            .arrangement("cost-sharing", 1)
            .await
            .map_err(|e| ApiError::unprocessable(e.problem.detail.clone()))?;
        (arr.id().to_string(), arr.version())
    } else {
        (String::new(), 0)
    };
    let record = RoundRecord {
        id: round_id.clone(),
        name,
        council: council.clone().unwrap_or_default(),
        financial_year: None,
        currency: inst
            .meta("currency")
            .map(str::to_string)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "XXX".into()),
        budget,
        area: Area {
            district: district.clone(),
            union_councils: vec![],
            bounds: None,
        },
        rule,
        seed,
        convenor: office("ccb_official"),
        reviewer: office("works_engineer"),
        counter: office("ballot_clerk"),
        max_choices: inst.meta("max_length").and_then(|m| m.trim().parse().ok()),
        arrangement: arrangement.clone(),
        version,
        other_arrangements: vec![],
        schedule: Default::default(),
        demo: false,
        imported_from: Some(
            inst.meta("description")
                .map(str::to_string)
                .unwrap_or_else(|| "an imported .pb file".into()),
        ),
        add1_step: None,
    };
    let phase = |from: Phase, to: Phase| EventBody::RoundPhaseChanged {
        round: round_id.clone(),
        from,
        to,
        person: actor.to_string(),
        note: Some("imported from a .pb file".into()),
    };
    let mut bodies = vec![EventBody::RoundOpened { round: record }];
    for (i, p) in inst.projects.iter().enumerate() {
        let field = |k: &str| p.field(k).map(str::to_string).filter(|v| !v.is_empty());
        bodies.push(EventBody::ProposalSubmitted {
            round: round_id.clone(),
            proposal: ProposalRecord {
                number: numbers[i],
                organisation: None,
                submitted_by: None,
                source_id: Some(match field("proposer") {
                    Some(by) => format!("{} (proposed by {by})", p.id),
                    None => p.id.clone(),
                }),
                title: field("name").unwrap_or_else(|| format!("Project {}", p.id)),
                description: field("description").unwrap_or_default(),
                estimate: costs[i],
                location: Location {
                    place: field("neighborhood")
                        .or_else(|| field("district"))
                        .or_else(|| field("subunit"))
                        .unwrap_or_else(|| district.clone()),
                    union_council: None,
                    latitude: field("latitude").and_then(|v| v.parse().ok()),
                    longitude: field("longitude").and_then(|v| v.parse().ok()),
                },
                arrangement: arrangement.clone(),
                version,
                component: None,
                partners: BTreeMap::new(),
            },
        });
    }
    bodies.push(phase(Phase::Proposals, Phase::Review));
    for (i, n) in numbers.iter().enumerate() {
        bodies.push(EventBody::ProposalReviewed {
            round: round_id.clone(),
            proposal: *n,
            review: Review::Feasible {
                cost: costs[i],
                note: Some("cost as in the imported file".into()),
            },
            person: actor.to_string(),
        });
    }
    bodies.push(phase(Phase::Review, Phase::Voting));
    let mut ballots = vec![];
    for (k, v) in inst.voters.iter().enumerate() {
        let approvals: Vec<u32> = v.vote.iter().map(|&i| numbers[i]).collect();
        let field = |key: &str| {
            v.fields
                .iter()
                .find(|(f, _)| f == key)
                .map(|(_, x)| x.clone())
                .filter(|x| !x.is_empty())
        };
        let uc = field("neighborhood").or_else(|| field("district"));
        let method = Method::Imported {
            voter_id: v.id.clone(),
            voting_method: field("voting_method"),
        };
        ballots.push(BallotLine {
            number: k as u64 + 1,
            approvals: approvals.clone(),
            method: method.name().to_string(),
            union_council: uc.clone(),
        });
        bodies.push(EventBody::BallotCast {
            round: round_id.clone(),
            ballot: budgeting::BallotRecord {
                number: k as u64 + 1,
                approvals,
                union_council: uc,
                method,
            },
        });
    }
    bodies.push(phase(Phase::Voting, Phase::Results));
    // Fold what is about to be stored, then count it exactly as a live
    // round is counted.
    let at = now_text(state);
    let mut folded = None;
    for b in &bodies {
        folded = budgeting::apply(folded, b, &at);
    }
    let folded = folded.ok_or_else(|| ApiError::internal("the imported round did not fold"))?;
    let result = count(&folded, &ballots)?;
    let winners = result.winners.clone();
    bodies.push(EventBody::RoundCounted {
        round: round_id.clone(),
        result,
    });
    let official: Option<Vec<u32>> = inst
        .projects
        .iter()
        .enumerate()
        .map(|(i, p)| p.officially_selected().map(|s| (s, numbers[i])))
        .collect::<Option<Vec<_>>>()
        .map(|v| v.into_iter().filter(|(s, _)| *s).map(|(_, n)| n).collect());
    let agrees_with_file = official.map(|mut o| {
        let mut w = winners.clone();
        o.sort_unstable();
        w.sort_unstable();
        o == w
    });
    state
        .store
        .append(&round_id, 0, actor, &at, &bodies)
        .await?;
    Ok(ImportOutcome {
        round: round_id,
        projects: inst.projects.len(),
        ballots: inst.voters.len(),
        winners,
        agrees_with_file,
    })
}

// ── The API ──

/// The rounds' routes, merged into `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rounds, open_round_handler))
        .routes(routes!(show_round))
        .routes(routes!(phase_handler))
        .routes(routes!(proposal_handler))
        .routes(routes!(review_handler))
        .routes(routes!(vote_handler))
        .routes(routes!(paper_handler))
        .routes(routes!(ballots_handler))
        .routes(routes!(results_handler))
        .routes(routes!(schemes_handler))
        .routes(routes!(deliverer_handler))
        .routes(routes!(export_handler))
        .routes(routes!(import_handler))
        .routes(routes!(round_events))
}

/// Budgeting rounds, newest first (public).
#[utoipa::path(get, path = "/rounds", tag = "budgeting", responses((status = 200, body = Object)))]
async fn list_rounds(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!({ "items": state.store.rounds().await? })))
}

/// Open a round for proposals (a platform administrator or the council's
/// convenor).
#[utoipa::path(post, path = "/rounds", tag = "budgeting", request_body = NewRound,
    responses((status = 201, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn open_round_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewRound>,
) -> Result<(StatusCode, Json<RoundState>), ApiError> {
    caller.user()?;
    let person = caller.0.as_ref().and_then(|u| u.person_id.clone());
    let s = open_round(
        &state,
        person.as_deref(),
        caller.is_admin(),
        &caller.actor(),
        input,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// A round: its record, phase, proposals with their reviews, phase changes
/// and (once counted) its result. Public.
#[utoipa::path(get, path = "/rounds/{id}", tag = "budgeting", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_round(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RoundState>, ApiError> {
    Ok(Json(round(&state, &id).await?))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseInput {
    /// `review`, `voting` or `results`: the next phase.
    pub to: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Move the round to its next phase (its convenor only; moving to results
/// counts the votes).
#[utoipa::path(post, path = "/rounds/{id}/phase", tag = "budgeting", params(("id" = String, Path)), request_body = PhaseInput,
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn phase_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PhaseInput>,
) -> Result<Json<RoundState>, ApiError> {
    let person = caller.person()?.to_string();
    let to = Phase::parse(&input.to).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "phase `{}`: use review, voting or results",
            input.to
        ))
    })?;
    Ok(Json(
        change_phase(&state, &person, &id, to, input.note).await?,
    ))
}

/// Submit a proposal for a registered community organisation you belong to.
#[utoipa::path(post, path = "/rounds/{id}/proposals", tag = "budgeting", params(("id" = String, Path)), request_body = NewProposal,
    responses((status = 201, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn proposal_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<NewProposal>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let person = caller.person()?.to_string();
    let n = submit_proposal(&state, &person, &id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "round": id, "proposal": n })),
    ))
}

/// The works department's review: feasible at a cost, or rejected with a
/// reason.
#[utoipa::path(post, path = "/rounds/{id}/proposals/{n}/review", tag = "budgeting",
    params(("id" = String, Path), ("n" = u32, Path, description = "the proposal's number")), request_body = ReviewInput,
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn review_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, n)): ApiPath<(String, u32)>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let person = caller.person()?.to_string();
    review_proposal(&state, &person, &id, n, input).await?;
    Ok(Json(
        json!({ "round": id, "proposal": n, "reviewed": true }),
    ))
}

/// A resident's online vote, once per CNIC per round (no account needed).
/// The CNIC number's format is checked (13 digits, `#####-#######-#` or
/// plain); it is not checked against NADRA's records, so it is evidence of
/// nothing beyond one vote per number. Attempts are limited per client and
/// round (429 with `Retry-After`).
#[utoipa::path(post, path = "/rounds/{id}/votes", tag = "budgeting", params(("id" = String, Path)), request_body = OnlineVote,
    responses((status = 201, body = BallotReceipt), (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn vote_handler(
    State(state): State<AppState>,
    client: VoteClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<OnlineVote>,
) -> Result<(StatusCode, Json<BallotReceipt>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(vote_online(&state, &id, &client.0, input).await?),
    ))
}

/// Enter a paper ballot at a counter (the round's counter staff).
#[utoipa::path(post, path = "/rounds/{id}/paper-ballots", tag = "budgeting", params(("id" = String, Path)), request_body = PaperBallot,
    responses((status = 201, body = BallotReceipt), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn paper_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PaperBallot>,
) -> Result<(StatusCode, Json<BallotReceipt>), ApiError> {
    let person = caller.person()?.to_string();
    Ok((
        StatusCode::CREATED,
        Json(enter_paper_ballot(&state, &person, &id, input).await?),
    ))
}

/// Every ballot of a round: what it approved, how it came in, and for
/// paper ballots the serial and who entered it. Public, like a `.pb` file's
/// VOTES; online voters' identities are never here.
#[utoipa::path(get, path = "/rounds/{id}/ballots", tag = "budgeting", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn ballots_handler(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    round(&state, &id).await?;
    Ok(Json(json!({ "items": state.store.ballots(&id).await? })))
}

/// The published result: winners in order, spend, every project's reason
/// and the tie-break record.
#[utoipa::path(get, path = "/rounds/{id}/results", tag = "budgeting", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn results_handler(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CountRecord>, ApiError> {
    let s = round(&state, &id).await?;
    s.result
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "the round is in the {} phase; results come after voting",
                s.phase.as_str()
            ))
        })
        .map(Json)
}

/// Turn the winners into schemes under their arrangements (the convenor).
#[utoipa::path(post, path = "/rounds/{id}/schemes", tag = "budgeting", params(("id" = String, Path)),
    responses((status = 200, body = Vec<SchemeLink>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn schemes_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<SchemeLink>>, ApiError> {
    let person = caller.person()?.to_string();
    Ok(Json(create_schemes(&state, &person, &id).await?))
}

/// Name who delivers a winner of an imported round (the convenor): a
/// registered community organisation and its member who performs the
/// scheme's creating act.
#[utoipa::path(post, path = "/rounds/{id}/proposals/{n}/deliverer", tag = "budgeting",
    params(("id" = String, Path), ("n" = u32, Path, description = "the proposal's number")), request_body = DelivererInput,
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn deliverer_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, n)): ApiPath<(String, u32)>,
    ApiJson(input): ApiJson<DelivererInput>,
) -> Result<Json<RoundState>, ApiError> {
    let person = caller.person()?.to_string();
    Ok(Json(name_deliverer(&state, &person, &id, n, input).await?))
}

/// The round as a pabulib `.pb` file.
#[utoipa::path(get, path = "/rounds/{id}/export.pb", tag = "budgeting", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/plain", description = "a pabulib .pb file"), (status = 404, body = Problem)))]
async fn export_handler(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let text = export_pb(&state, &id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"round-{id}.pb\""),
            ),
        ],
        text,
    )
        .into_response())
}

/// Import a `.pb` file as a counted round (administrators). Checked as a
/// whole: on any problem nothing is stored and `errors` lists each with its
/// line.
#[utoipa::path(post, path = "/rounds/import", tag = "budgeting", params(ImportOptions),
    request_body(content = String, content_type = "text/plain", description = "a pabulib .pb file"),
    responses((status = 201, body = ImportOutcome), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(opts): ApiQuery<ImportOptions>,
    body: String,
) -> Result<(StatusCode, Json<ImportOutcome>), ApiError> {
    caller.require_admin()?;
    Ok((
        StatusCode::CREATED,
        Json(import_pb(&state, &caller.actor(), &body, opts).await?),
    ))
}

/// The round's events in chain order (public: the round is a public
/// process; no event names an online voter).
#[utoipa::path(get, path = "/rounds/{id}/events", tag = "budgeting", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn round_events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    round(&state, &id).await?;
    let mut items = vec![];
    let mut after = 0;
    loop {
        let page = state.store.chain_events(&id, after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        items.extend(page.iter().map(EventView::from));
    }
    Ok(Json(json!({ "items": items })))
}
