//! The JSON API under `/api/v1`. Every route is registered through
//! `utoipa-axum`, so the OpenAPI 3.1 document at `/api/v1/openapi.json` is
//! generated from these handlers and cannot drift from the router.
//!
//! Handlers are thin: parse, authenticate, call `service`, respond. Lists
//! are paged with `?page=` (from 1) and `?per_page=` (default 50, max 500)
//! and always answer `{page, per_page, items}`. What a caller may read
//! follows the arrangement's information rules: records marked `public` are
//! shown to anyone, the rest to partners (people holding a position in the
//! initiative) and platform administrators.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use saanjh_core::arrangement::{Arrangement, Level, Visibility, explain};
use saanjh_core::engine::{self, Act, Actor, ComponentInput};
use saanjh_core::model::Meeting;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiJson, ApiPath, ApiQuery, Problem};
use crate::service::{
    self, ActOutcome, EventView, NewInitiative, NewMembership, NewOrganisation, NewPerson, NewUser,
    UserView,
};
use crate::{ApiError, AppState};

pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 500;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Saanjh API",
        description = "Co-produced public services: organisations, initiatives under arrangements (rules-in-use), schemes and their acts, obligations, and the tamper-evident event log. Errors are application/problem+json (RFC 9457)."
    ),
    components(schemas(Problem, Page))
)]
struct ApiDoc;

/// The `/api/v1` router with the OpenAPI document route.
pub fn router(state: AppState) -> axum::Router {
    let v1 = OpenApiRouter::new()
        .routes(routes!(create_token))
        .routes(routes!(create_user))
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(show_organisation))
        .routes(routes!(list_people, create_person))
        .routes(routes!(show_person))
        .routes(routes!(list_memberships, create_membership))
        .routes(routes!(show_membership))
        .routes(routes!(list_arrangements, create_arrangement))
        .routes(routes!(show_arrangement))
        .routes(routes!(list_initiatives, create_initiative))
        .routes(routes!(show_initiative))
        .routes(routes!(list_schemes, create_scheme))
        .routes(routes!(show_scheme))
        .routes(routes!(available_acts, perform_act))
        .routes(routes!(scheme_events))
        .routes(routes!(scheme_obligations))
        .routes(routes!(list_meetings, record_meeting))
        .routes(routes!(initiative_events))
        .routes(routes!(verify_initiative))
        .merge(crate::ledger_api::routes())
        .merge(crate::diagnosis_api::routes())
        .merge(crate::open311::api::routes())
        .merge(crate::budgeting::routes());
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", v1)
        .split_for_parts();
    let doc_json = doc.to_pretty_json().unwrap_or_default();
    let app = router.route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let body = doc_json.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    );
    app.nest("/open311/v2", crate::open311::routes())
        // Unknown paths: problem+json under /api, an HTML page elsewhere
        // (Open311 answers its own unknown paths in its format).
        .fallback(crate::pages::not_found)
        .with_state(state)
}

// ── Paging ──

#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items a page, default 50, at most 500.
    pub per_page: Option<u32>,
}

impl PageParams {
    fn resolve(self) -> Result<(u32, u32, i64, i64), ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page == 0 || per_page == 0 {
            return Err(ApiError::bad_request("`page` and `per_page` start at 1"));
        }
        let per_page = per_page.min(MAX_PER_PAGE);
        Ok((
            page,
            per_page,
            per_page as i64,
            (page as i64 - 1) * per_page as i64,
        ))
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
}

fn page<T: Serialize>(p: (u32, u32, i64, i64), items: impl IntoIterator<Item = T>) -> Json<Page> {
    Json(Page {
        page: p.0,
        per_page: p.1,
        items: items
            .into_iter()
            .filter_map(|i| serde_json::to_value(i).ok())
            .collect(),
    })
}

fn created<T: Serialize>(v: T) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(serde_json::to_value(v).unwrap_or(Value::Null)),
    )
}

// ── Who may read what ──

/// A caller as the information rules see them in one initiative.
struct Viewer {
    signed_in: bool,
    admin: bool,
    positions: BTreeSet<String>,
}

async fn viewer(state: &AppState, caller: &Caller, initiative: &str) -> Result<Viewer, ApiError> {
    let positions = match caller.0.as_ref().and_then(|u| u.person_id.as_deref()) {
        Some(p) => state.store.positions_of(initiative, p).await?,
        None => BTreeSet::new(),
    };
    Ok(Viewer {
        signed_in: caller.0.is_some(),
        admin: caller.is_admin(),
        positions,
    })
}

impl Viewer {
    fn sees(&self, arr: &Arrangement, record: &str) -> bool {
        match arr.visibility(record) {
            Visibility::Level(Level::Public) => true,
            Visibility::Level(Level::Partners) => self.admin || !self.positions.is_empty(),
            Visibility::Positions(list) => {
                self.admin
                    || list
                        .iter()
                        .any(|p| Arrangement::attribute_matches(p, &self.positions))
            }
        }
    }
    fn require(&self, arr: &Arrangement, record: &str) -> Result<(), ApiError> {
        if self.sees(arr, record) {
            Ok(())
        } else if !self.signed_in {
            Err(ApiError::unauthenticated(format!(
                "this initiative's {record} are shown to its partners only; sign in"
            )))
        } else {
            Err(ApiError::forbidden(format!(
                "this initiative's {record} are shown to its partners only"
            )))
        }
    }
    /// Withhold what the information rules do not show this viewer.
    fn redact(&self, arr: &Arrangement, kind: &str, payload: &mut Value) {
        match kind {
            "meeting_recorded" => {
                if let Some(rec) = payload.get_mut("record") {
                    self.redact_meeting(arr, rec);
                }
            }
            "household_registered" if !self.sees(arr, "household_names") => {
                if let Some(rec) = payload.get_mut("record").and_then(Value::as_object_mut) {
                    rec.insert("head".into(), Value::Null);
                }
            }
            "ledger_entry_posted" if !self.sees(arr, "ledger") => {
                *payload =
                    json!({ "kind": kind, "withheld": "the ledger is shown to partners only" });
            }
            _ => {}
        }
    }
    fn redact_meeting(&self, arr: &Arrangement, record: &mut Value) {
        if !self.sees(arr, "meeting_minutes")
            && let Some(rec) = record.as_object_mut()
        {
            rec.insert("minutes".into(), Value::Null);
            if let Some(att) = rec.get_mut("attendance").and_then(Value::as_object_mut) {
                att.insert("people".into(), json!([]));
            }
        }
    }
}

fn event_views(
    arr: &Arrangement,
    v: &Viewer,
    rows: Vec<saanjh_store::EventListRow>,
) -> Vec<EventView> {
    rows.into_iter()
        .map(|r| {
            let mut payload: Value = serde_json::from_str(&r.payload).unwrap_or(Value::Null);
            v.redact(arr, &r.kind, &mut payload);
            EventView {
                chain: r.chain,
                seq: r.seq,
                at: r.at,
                actor: r.actor,
                kind: r.kind,
                payload,
                hash: r.hash,
            }
        })
        .collect()
}

// ── Accounts ──

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// Sign in: exchange a username and password for a bearer token.
/// Failed sign-ins are limited to 5 per username in 15 minutes (then 429).
#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let token = service::issue_token(&state, &req.username, &req.password).await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token })))
}

/// Create a user (platform administrators only).
#[utoipa::path(post, path = "/users", tag = "accounts", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    Ok(created(service::create_user(&state, req).await?))
}

// ── Registry ──

/// List organisations.
#[utoipa::path(get, path = "/organisations", tag = "registry", params(PageParams), responses((status = 200, body = Page)))]
async fn list_organisations(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page>, ApiError> {
    let p = p.resolve()?;
    Ok(page(p, state.store.organisations(p.2, p.3).await?))
}

/// Register an organisation (platform administrators only).
#[utoipa::path(post, path = "/organisations", tag = "registry", request_body = NewOrganisation,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_organisation(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewOrganisation>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    Ok(created(
        service::register_organisation(&state, &caller.actor(), req).await?,
    ))
}

/// Show an organisation.
#[utoipa::path(get, path = "/organisations/{id}", tag = "registry", params(("id" = String, Path)), responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_organisation(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let org = state
        .store
        .organisation(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no organisation `{id}`")))?;
    let facts = state.store.org_facts(&id).await?;
    Ok(Json(
        json!({ "organisation": org, "members": facts.members, "women_members": facts.women_members }),
    ))
}

/// List people.
#[utoipa::path(get, path = "/people", tag = "registry", params(PageParams), responses((status = 200, body = Page)))]
async fn list_people(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page>, ApiError> {
    let p = p.resolve()?;
    Ok(page(p, state.store.people(p.2, p.3).await?))
}

/// Register a person (platform administrators only).
#[utoipa::path(post, path = "/people", tag = "registry", request_body = NewPerson, responses((status = 201, body = Object), (status = 403, body = Problem)))]
async fn create_person(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewPerson>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    Ok(created(
        service::register_person(&state, &caller.actor(), req).await?,
    ))
}

/// Show a person.
#[utoipa::path(get, path = "/people/{id}", tag = "registry", params(("id" = String, Path)), responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_person(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let p = state
        .store
        .person(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no person `{id}`")))?;
    Ok(Json(serde_json::to_value(p).unwrap_or(Value::Null)))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembershipFilter {
    pub organisation: Option<String>,
    pub person: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// List memberships, optionally of one organisation or person.
#[utoipa::path(get, path = "/memberships", tag = "registry", params(MembershipFilter), responses((status = 200, body = Page)))]
async fn list_memberships(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MembershipFilter>,
) -> Result<Json<Page>, ApiError> {
    let p = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    Ok(page(
        p,
        state
            .store
            .memberships(q.organisation.as_deref(), q.person.as_deref(), p.2, p.3)
            .await?,
    ))
}

/// Grant a person a position in an organisation (platform administrators only).
#[utoipa::path(post, path = "/memberships", tag = "registry", request_body = NewMembership,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_membership(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewMembership>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    Ok(created(
        service::grant_membership(&state, &caller.actor(), req).await?,
    ))
}

/// Show a membership.
#[utoipa::path(get, path = "/memberships/{id}", tag = "registry", params(("id" = String, Path)), responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_membership(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let m = state
        .store
        .membership(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no membership `{id}`")))?;
    Ok(Json(serde_json::to_value(m).unwrap_or(Value::Null)))
}

// ── Arrangements ──

/// List stored arrangement versions.
#[utoipa::path(get, path = "/arrangements", tag = "arrangements", params(PageParams), responses((status = 200, body = Page)))]
async fn list_arrangements(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page>, ApiError> {
    let p = p.resolve()?;
    let all = state.store.arrangements().await?;
    let items = all.into_iter().skip(p.3 as usize).take(p.2 as usize).map(|(id, version, digest, stored_at)| json!({ "id": id, "version": version, "digest": digest, "stored_at": stored_at }));
    Ok(page(p, items))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArrangement {
    /// The arrangement file (TOML).
    pub source: String,
}

/// Store a new arrangement version (platform administrators only). A stored
/// version is never edited: a different text needs a new version number.
#[utoipa::path(post, path = "/arrangements", tag = "arrangements", request_body = NewArrangement,
    responses((status = 201, body = Object), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_arrangement(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewArrangement>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    let arr = service::store_arrangement(&state, &caller.actor(), &req.source).await?;
    Ok(created(
        json!({ "id": arr.id(), "version": arr.version(), "digest": arr.digest }),
    ))
}

/// Show an arrangement version with its rules in plain words.
#[utoipa::path(get, path = "/arrangements/{id}/{version}", tag = "arrangements", params(("id" = String, Path), ("version" = u32, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_arrangement(
    State(state): State<AppState>,
    ApiPath((id, version)): ApiPath<(String, u32)>,
) -> Result<Json<Value>, ApiError> {
    let arr = state.arrangement(&id, version).await?;
    let ex = explain(&arr);
    Ok(Json(json!({
        "id": arr.id(), "version": arr.version(), "digest": arr.digest, "name": arr.file.arrangement.name,
        "explanation": ex, "text": ex.to_text(), "source": &*arr.source,
    })))
}

// ── Initiatives ──

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InitiativeFilter {
    pub district: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// List initiatives, optionally in one district.
#[utoipa::path(get, path = "/initiatives", tag = "initiatives", params(InitiativeFilter), responses((status = 200, body = Page)))]
async fn list_initiatives(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<InitiativeFilter>,
) -> Result<Json<Page>, ApiError> {
    let p = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    Ok(page(
        p,
        state
            .store
            .initiatives(q.district.as_deref(), p.2, p.3)
            .await?,
    ))
}

/// Start an initiative under an arrangement version (platform administrators
/// only). The arrangement's boundary rules decide which organisations may
/// fill its partner roles.
#[utoipa::path(post, path = "/initiatives", tag = "initiatives", request_body = NewInitiative,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_initiative(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewInitiative>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    Ok(created(
        service::start_initiative(&state, &caller.actor(), req).await?,
    ))
}

/// Show an initiative with its partners.
#[utoipa::path(get, path = "/initiatives/{id}", tag = "initiatives", params(("id" = String, Path)), responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_initiative(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let init = state
        .store
        .initiative(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no initiative `{id}`")))?;
    let partners = state.store.partners(&id).await?;
    Ok(Json(json!({ "initiative": init, "partners": partners })))
}

async fn initiative_or_404(
    state: &AppState,
    id: &str,
) -> Result<(saanjh_store::InitiativeRow, std::sync::Arc<Arrangement>), ApiError> {
    let init = state
        .store
        .initiative(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no initiative `{id}`")))?;
    let arr = state
        .arrangement(&init.arrangement_id, init.arrangement_version as u32)
        .await?;
    Ok((init, arr))
}

/// List an initiative's schemes.
#[utoipa::path(get, path = "/initiatives/{id}/schemes", tag = "schemes", params(("id" = String, Path), PageParams), responses((status = 200, body = Page), (status = 404, body = Problem)))]
async fn list_schemes(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page>, ApiError> {
    let p = p.resolve()?;
    initiative_or_404(&state, &id).await?;
    Ok(page(p, state.store.schemes(&id, p.2, p.3).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScheme {
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<ComponentInput>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Create a scheme: the arrangement's creating act, as the signed-in user's person.
#[utoipa::path(post, path = "/initiatives/{id}/schemes", tag = "schemes", params(("id" = String, Path)), request_body = NewScheme,
    responses((status = 201, body = ActOutcome), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_scheme(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewScheme>,
) -> Result<(StatusCode, Json<ActOutcome>), ApiError> {
    caller.user()?;
    let (_, arr) = initiative_or_404(&state, &id).await?;
    let (action, _) = arr
        .creating_action()
        .ok_or_else(|| ApiError::internal("the arrangement has no creating action"))?;
    let act = Act {
        action: action.to_string(),
        name: Some(req.name),
        components: req.components,
        note: req.note,
        ..Act::default()
    };
    Ok((
        StatusCode::CREATED,
        Json(service::act(&state, &id, &caller.actor(), act).await?),
    ))
}

async fn scheme_or_404(
    state: &AppState,
    id: &str,
) -> Result<
    (
        saanjh_store::SchemeRow,
        engine::SchemeState,
        std::sync::Arc<Arrangement>,
    ),
    ApiError,
> {
    let (row, s) = state
        .store
        .scheme(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scheme `{id}`")))?;
    let (_, arr) = initiative_or_404(state, &row.initiative_id).await?;
    Ok((row, s, arr))
}

/// Show a scheme: stage, components, households, open obligations and
/// pending signatures (meeting minutes and the ledger as the information
/// rules allow).
#[utoipa::path(get, path = "/schemes/{id}", tag = "schemes", params(("id" = String, Path)), responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn show_scheme(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let (row, s, arr) = scheme_or_404(&state, &id).await?;
    let v = viewer(&state, &caller, &row.initiative_id).await?;
    let mut meetings = serde_json::to_value(&s.meetings).unwrap_or(Value::Null);
    if let Some(map) = meetings.as_object_mut() {
        for m in map.values_mut() {
            v.redact_meeting(&arr, m);
        }
    }
    let mut out = json!({
        "id": row.id, "initiative": row.initiative_id, "name": row.name, "stage": row.stage,
        "final": arr.is_final(&row.stage), "estimate": s.estimate(), "components": s.components,
        "households": s.households, "meetings": meetings, "done": s.done,
        "pending_signatures": s.signatures, "created_at": row.created_at, "updated_at": row.updated_at,
    });
    if v.sees(&arr, "obligations") {
        out["open_obligations"] = serde_json::to_value(&s.open_obligations).unwrap_or(Value::Null);
    }
    if v.sees(&arr, "ledger") {
        // The running figures; the entries themselves are in the (paged)
        // statement, `/statements/{id}`.
        out["ledger"] = serde_json::to_value(&s.books).unwrap_or(Value::Null);
        out["ledger_facts"] = json!(saanjh_core::ledger::totals(&s));
    }
    Ok(Json(out))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableAct {
    pub action: String,
    pub name: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Problem>,
}

/// The acts the signed-in user could take on this scheme now, each allowed
/// or with the refusal that names its rule.
#[utoipa::path(get, path = "/schemes/{id}/acts", tag = "schemes", params(("id" = String, Path)),
    responses((status = 200, body = Vec<AvailableAct>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn available_acts(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<AvailableAct>>, ApiError> {
    caller.user()?;
    let (row, s, arr) = scheme_or_404(&state, &id).await?;
    let person = caller.actor();
    let init_state = service::initiative_state(&state, &row.initiative_id, &arr).await?;
    let actor = Actor {
        person: person.clone(),
        positions: state
            .store
            .positions_of(&row.initiative_id, &person)
            .await?,
    };
    let extra = service::ledger_facts(&arr, &s);
    let acts = engine::available_acts(&arr, &init_state, &s, &actor, state.clock.now(), &extra);
    Ok(Json(
        acts.into_iter()
            .map(|(action, r)| AvailableAct {
                name: arr
                    .action(&action)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                action,
                allowed: r.is_ok(),
                refusal: r.err().map(|r| *ApiError::from(r).problem),
            })
            .collect(),
    ))
}

/// Perform an act on a scheme as the signed-in user's person. The body is
/// the act: `{action, note?, meeting?, household?, estimates?,
/// resolution_meeting?, entry?}`. Refusals name the rule: 403 wrong
/// position; 409 wrong stage, incomplete aggregation, unmet condition or a
/// `must_not`; 422 incomplete act.
#[utoipa::path(post, path = "/schemes/{id}/acts", tag = "schemes", params(("id" = String, Path)), request_body(content = Object, description = "an Act"),
    responses((status = 200, body = ActOutcome), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn perform_act(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(act): ApiJson<Act>,
) -> Result<Json<ActOutcome>, ApiError> {
    caller.user()?;
    state
        .store
        .scheme(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scheme `{id}`")))?;
    Ok(Json(service::act(&state, &id, &caller.actor(), act).await?))
}

/// A scheme's events, as the information rules allow.
#[utoipa::path(get, path = "/schemes/{id}/events", tag = "events", params(("id" = String, Path), PageParams),
    responses((status = 200, body = Page), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn scheme_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page>, ApiError> {
    let p = p.resolve()?;
    let (row, _, arr) = scheme_or_404(&state, &id).await?;
    let v = viewer(&state, &caller, &row.initiative_id).await?;
    v.require(&arr, "events")?;
    let rows = state
        .store
        .events(&row.initiative_id, Some(&id), p.2, p.3)
        .await?;
    Ok(page(p, event_views(&arr, &v, rows)))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObligationFilter {
    /// open, met, met_late, lapsed or breached.
    pub status: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// A scheme's obligations: who must do what by when, and whether they did.
#[utoipa::path(get, path = "/schemes/{id}/obligations", tag = "schemes", params(("id" = String, Path), ObligationFilter),
    responses((status = 200, body = Page), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn scheme_obligations(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ObligationFilter>,
) -> Result<Json<Page>, ApiError> {
    let p = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let (row, _, arr) = scheme_or_404(&state, &id).await?;
    viewer(&state, &caller, &row.initiative_id)
        .await?
        .require(&arr, "obligations")?;
    let now = engine::rfc3339(state.clock.now());
    let rows = state
        .store
        .obligations(
            Some(&row.initiative_id),
            Some(&id),
            q.status.as_deref(),
            p.2,
            p.3,
        )
        .await?;
    // `overdue`: still open past its due date, before the sweeper breaches it.
    let items = rows.into_iter().map(|o| {
        let overdue = o.status == "open" && o.due_at < now;
        let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
        v["overdue"] = json!(overdue);
        v
    });
    Ok(page(p, items))
}

// ── Meetings ──

/// An initiative's meetings (minutes as the information rules allow).
#[utoipa::path(get, path = "/initiatives/{id}/meetings", tag = "meetings", params(("id" = String, Path), PageParams),
    responses((status = 200, body = Page), (status = 404, body = Problem)))]
async fn list_meetings(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page>, ApiError> {
    let p = p.resolve()?;
    let (_, arr) = initiative_or_404(&state, &id).await?;
    let v = viewer(&state, &caller, &id).await?;
    let rows = state.store.meetings(&id, None, p.2, p.3).await?;
    let items = rows.into_iter().map(|m| {
        let mut record: Value = serde_json::from_str(&m.record).unwrap_or(Value::Null);
        v.redact_meeting(&arr, &mut record);
        json!({ "id": m.id, "scheme": m.scheme_id, "body": m.body, "held_on": m.held_on, "women": m.women, "men": m.men, "other": m.other, "record": record, "recorded_at": m.recorded_at })
    });
    Ok(page(p, items))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    /// The scheme the meeting is about.
    pub scheme: String,
    /// The act that records it; `record_meeting` unless the arrangement names another.
    #[serde(default)]
    pub action: Option<String>,
    #[schema(value_type = Object)]
    pub meeting: Meeting,
}

/// Record a meeting: an act (by default `record_meeting`) on one of the
/// initiative's schemes, allowed or refused by the rules.
#[utoipa::path(post, path = "/initiatives/{id}/meetings", tag = "meetings", params(("id" = String, Path)), request_body = NewMeeting,
    responses((status = 201, body = ActOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_meeting(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewMeeting>,
) -> Result<(StatusCode, Json<ActOutcome>), ApiError> {
    caller.user()?;
    let (row, _) = state
        .store
        .scheme(&req.scheme)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scheme `{}`", req.scheme)))?;
    if row.initiative_id != id {
        return Err(ApiError::not_found(format!(
            "scheme `{}` is not part of initiative `{id}`",
            req.scheme
        )));
    }
    let act = Act {
        action: req.action.unwrap_or_else(|| "record_meeting".into()),
        meeting: Some(req.meeting),
        ..Act::default()
    };
    Ok((
        StatusCode::CREATED,
        Json(service::act(&state, &req.scheme, &caller.actor(), act).await?),
    ))
}

// ── The log ──

/// An initiative's events in chain order, as the information rules allow.
#[utoipa::path(get, path = "/initiatives/{id}/events", tag = "events", params(("id" = String, Path), PageParams),
    responses((status = 200, body = Page), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn initiative_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page>, ApiError> {
    let p = p.resolve()?;
    let (_, arr) = initiative_or_404(&state, &id).await?;
    let v = viewer(&state, &caller, &id).await?;
    v.require(&arr, "events")?;
    let rows = state.store.events(&id, None, p.2, p.3).await?;
    Ok(page(p, event_views(&arr, &v, rows)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResult {
    pub initiative: String,
    /// True when every link of the chain recomputes.
    pub ok: bool,
    pub events: u64,
    /// The first broken link, if any: `{chain, seq, reason}`.
    #[schema(value_type = Vec<Object>)]
    pub broken: Vec<saanjh_core::event::BrokenLink>,
}

/// Recompute an initiative's hash chain; anyone may.
#[utoipa::path(get, path = "/initiatives/{id}/verify", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = VerifyResult), (status = 404, body = Problem)))]
async fn verify_initiative(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<VerifyResult>, ApiError> {
    initiative_or_404(&state, &id).await?;
    let r = state.store.verify(Some(&id)).await?;
    Ok(Json(VerifyResult {
        initiative: id,
        ok: r.broken.is_empty(),
        events: r.events,
        broken: r.broken,
    }))
}
