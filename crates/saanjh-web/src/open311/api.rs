//! The JSON API side of co-assessment (issue 5), merged into `/api/v1`:
//!
//! - `POST|GET /open311/keys` — the platform administrator issues and lists
//!   Open311 API keys (the key is shown once);
//! - `POST /reports/{id}/responses` — a partner's position acknowledges,
//!   works on or closes a citizen report, as the arrangement's rules allow;
//!   `GET /reports/{id}/updates` — the report's public history;
//! - `GET /initiatives/{id}/reports/held` — reports waiting for triage
//!   (no contact details), `POST /reports/held/{token}/route` — a partner
//!   who may answer reports (or the platform administrator) says which
//!   scheme a held report is about, and it gets its id;
//! - scorecards: `POST|GET /schemes/{id}/scorecards` (open a round; results
//!   over rounds as JSON, or CSV with `?format=csv`),
//!   `GET /schemes/{id}/scorecards/chart` (an SVG chart), `GET
//!   /scorecards/{round}`, `POST /scorecards/{round}/scores`, `POST
//!   /scorecards/{round}/actions`, `POST
//!   /scorecards/{round}/actions/{obligation}/done`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use saanjh_core::scorecard::{self, ActionInput, GroupScores, RoundRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self as o311, IssuedKey, NewResponse, RoundView, ScorecardResults};
use crate::auth::Caller;
use crate::error::{ApiJson, ApiPath, ApiQuery, Problem};
use crate::service::EventView;
use crate::{ApiError, AppState};

/// Co-assessment's routes, merged into `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(respond_to_report))
        .routes(routes!(held_reports))
        .routes(routes!(route_held))
        .routes(routes!(report_updates))
        .routes(routes!(open_round, scheme_scorecards))
        .routes(routes!(scorecard_chart))
        .routes(routes!(show_round))
        .routes(routes!(record_scores))
        .routes(routes!(agree_actions))
        .routes(routes!(action_done))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Which client uses the key.
    pub name: String,
    /// Reports the key may file a minute (default 60).
    #[serde(default)]
    pub rate_per_minute: Option<i64>,
}

#[utoipa::path(post, path = "/open311/keys", tag = "open311", request_body = NewKey,
    responses((status = 201, body = IssuedKey), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<IssuedKey>), ApiError> {
    let admin = caller.require_admin()?;
    let key = o311::issue_key(&state, &input.name, input.rate_per_minute, Some(&admin.id)).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub rate_per_minute: i64,
    pub created_at: String,
}

#[utoipa::path(get, path = "/open311/keys", tag = "open311",
    responses((status = 200, body = Vec<KeyView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    caller.require_admin()?;
    Ok(Json(
        state
            .store
            .open311_keys()
            .await?
            .into_iter()
            .map(|k| KeyView {
                id: k.id,
                name: k.name,
                rate_per_minute: k.rate_per_minute,
                created_at: k.created_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Events {
    pub events: Vec<EventView>,
}

#[utoipa::path(post, path = "/reports/{id}/responses", tag = "open311", params(("id" = String, Path, description = "the service_request_id")),
    request_body = NewResponse,
    responses((status = 200, body = Events), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn respond_to_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<NewResponse>,
) -> Result<Json<Events>, ApiError> {
    let person = caller.person()?.to_string();
    let events = o311::respond(&state, &id, &person, input).await?;
    Ok(Json(Events { events }))
}

/// A report waiting for triage: what was reported and where, never who.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldView {
    pub token: String,
    pub service_code: String,
    pub service_name: String,
    pub component: String,
    /// The partner role the scope rules route it to.
    pub routed_to: String,
    pub held_at: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
}

impl HeldView {
    pub fn of(h: saanjh_store::HeldReportRow) -> Result<HeldView, ApiError> {
        let r: saanjh_core::reports::ReportRecord = serde_json::from_str(&h.record)
            .map_err(|e| ApiError::internal(format!("held report {}: {e}", h.token)))?;
        Ok(HeldView {
            token: h.token,
            service_code: h.service_code,
            service_name: h.service_name,
            component: h.component,
            routed_to: h.routed_to,
            held_at: h.held_at,
            description: r.description,
            address: r.address,
            lat: r.lat,
            long: r.long,
        })
    }
}

#[utoipa::path(get, path = "/initiatives/{id}/reports/held", tag = "open311", params(("id" = String, Path, description = "the initiative")),
    responses((status = 200, body = Vec<HeldView>), (status = 404, body = Problem)))]
async fn held_reports(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<HeldView>>, ApiError> {
    if state.store.initiative(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no initiative `{id}`")));
    }
    let rows = state.store.held_reports(&id).await?;
    Ok(Json(
        rows.into_iter()
            .map(HeldView::of)
            .collect::<Result<_, _>>()?,
    ))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// The scheme (of the report's initiative) the report is about.
    pub scheme: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Routed {
    pub service_request_id: String,
    pub events: Vec<EventView>,
}

#[utoipa::path(post, path = "/reports/held/{token}/route", tag = "open311", params(("token" = String, Path, description = "the token the report was filed under")),
    request_body = RouteInput,
    responses((status = 200, body = Routed), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn route_held(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(token): ApiPath<String>,
    ApiJson(input): ApiJson<RouteInput>,
) -> Result<Json<Routed>, ApiError> {
    let user = caller.user()?;
    let person = if user.is_admin != 0 {
        None
    } else {
        Some(caller.person()?.to_string())
    };
    let (id, events) = o311::route_report(&state, &token, &input.scheme, person.as_deref()).await?;
    Ok(Json(Routed {
        service_request_id: id,
        events,
    }))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdateView {
    pub id: String,
    pub status: String,
    pub note: Option<String>,
    pub at: String,
}

#[utoipa::path(get, path = "/reports/{id}/updates", tag = "open311", params(("id" = String, Path)),
    responses((status = 200, body = Vec<UpdateView>), (status = 404, body = Problem)))]
async fn report_updates(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<UpdateView>>, ApiError> {
    if state.store.report(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no report `{id}`")));
    }
    Ok(Json(
        state
            .store
            .updates_of_report(&id)
            .await?
            .into_iter()
            .map(|u| UpdateView {
                id: u.id,
                status: u.status,
                note: u.description,
                at: u.at,
            })
            .collect(),
    ))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundOpened {
    pub round: String,
    pub events: Vec<EventView>,
}

#[utoipa::path(post, path = "/schemes/{id}/scorecards", tag = "scorecards", params(("id" = String, Path)),
    request_body(content = Object, description = "service, held_on (YYYY-MM-DD), meeting (optional), criteria: [{code, name}]"),
    responses((status = 201, body = RoundOpened), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn open_round(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(record): ApiJson<RoundRecord>,
) -> Result<(StatusCode, Json<RoundOpened>), ApiError> {
    let person = caller.person()?.to_string();
    let (round, events) = o311::open_round(&state, &id, &person, record).await?;
    Ok((StatusCode::CREATED, Json(RoundOpened { round, events })))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/schemes/{id}/scorecards", tag = "scorecards", params(("id" = String, Path), FormatParam),
    responses((status = 200, body = ScorecardResults, description = "the rounds and results over rounds (JSON), or text/csv"), (status = 404, body = Problem)))]
async fn scheme_scorecards(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<FormatParam>,
) -> Result<Response, ApiError> {
    let results = o311::results(&state, &id).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(results).into_response()),
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"scorecards.csv\"",
                ),
            ],
            scorecard::csv(&results.over_rounds),
        )
            .into_response()),
        other => Err(ApiError::bad_request(format!(
            "format `{other}`: give json or csv"
        ))),
    }
}

#[utoipa::path(get, path = "/schemes/{id}/scorecards/chart", tag = "scorecards", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", description = "users' and providers' scores per criterion over rounds"), (status = 404, body = Problem)))]
async fn scorecard_chart(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let results = o311::results(&state, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml")],
        chart_svg(&results),
    )
        .into_response())
}

#[utoipa::path(get, path = "/scorecards/{round}", tag = "scorecards", params(("round" = String, Path)),
    responses((status = 200, body = RoundView), (status = 404, body = Problem)))]
async fn show_round(
    State(state): State<AppState>,
    ApiPath(round): ApiPath<String>,
) -> Result<Json<RoundView>, ApiError> {
    let (_, r) = state
        .store
        .scorecard_round(&round)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no scorecard round `{round}`")))?;
    Ok(Json(RoundView {
        results: scorecard::aggregate(&r),
        round: r,
    }))
}

#[utoipa::path(post, path = "/scorecards/{round}/scores", tag = "scorecards", params(("round" = String, Path)),
    request_body(content = Object, description = "group, party (users | providers), scores: {criterion: [1..5, …]}"),
    responses((status = 200, body = Events), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_scores(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(round): ApiPath<String>,
    ApiJson(scores): ApiJson<GroupScores>,
) -> Result<Json<Events>, ApiError> {
    let person = caller.person()?.to_string();
    let events = o311::record_scores(&state, &round, &person, scores).await?;
    Ok(Json(Events { events }))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreedActions {
    pub actions: Vec<ActionInput>,
}

#[utoipa::path(post, path = "/scorecards/{round}/actions", tag = "scorecards", params(("round" = String, Path)),
    request_body(content = Object, description = "actions: [{action, position, due (YYYY-MM-DD), criterion?}]"),
    responses((status = 200, body = Events), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn agree_actions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(round): ApiPath<String>,
    ApiJson(input): ApiJson<AgreedActions>,
) -> Result<Json<Events>, ApiError> {
    let person = caller.person()?.to_string();
    let events = o311::agree_actions(&state, &round, &person, input.actions).await?;
    Ok(Json(Events { events }))
}

#[utoipa::path(post, path = "/scorecards/{round}/actions/{obligation}/done", tag = "scorecards", params(("round" = String, Path), ("obligation" = String, Path)),
    responses((status = 200, body = Events), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn action_done(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((round, obligation)): ApiPath<(String, String)>,
) -> Result<Json<Events>, ApiError> {
    let person = caller.person()?.to_string();
    let events = o311::action_done(&state, &round, &obligation, &person).await?;
    Ok(Json(Events { events }))
}

/// A small-multiples bar chart: one panel per criterion, one pair of bars
/// (users, providers) per round, scores 0–5. Plain SVG, no script, a few KB.
pub fn chart_svg(results: &ScorecardResults) -> String {
    use super::doc::escape;
    let criteria: Vec<(String, String)> = {
        let mut seen = std::collections::BTreeSet::new();
        results
            .over_rounds
            .iter()
            .filter(|r| seen.insert(r.criterion.clone()))
            .map(|r| (r.criterion.clone(), r.criterion_name.clone()))
            .collect()
    };
    let rounds: Vec<(String, String)> = results
        .rounds
        .iter()
        .map(|r| (r.round.id.clone(), r.round.record.held_on.clone()))
        .collect();
    let (panel_w, panel_h, top, left) =
        (40 + 36 * rounds.len().max(1) as i64, 160i64, 40i64, 30i64);
    let width = left + panel_w * criteria.len().max(1) as i64 + 20;
    let height = top + panel_h + 60;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"Scorecard results over rounds\">\n<title>Scorecard results: users (dark) and providers (light), per criterion and round</title>\n"
    );
    let y = |tenths: i64| top + panel_h - panel_h * tenths / 50;
    for t in 0..=5 {
        let yy = y(t * 10);
        s.push_str(&format!("<line x1=\"{left}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{t}</text>\n", width - 20, left - 4, yy + 4));
    }
    for (ci, (code, name)) in criteria.iter().enumerate() {
        let x0 = left + panel_w * ci as i64 + 10;
        s.push_str(&format!(
            "<text x=\"{x0}\" y=\"{}\">{}</text>\n",
            top - 10,
            escape(name)
        ));
        for (ri, (round, held_on)) in rounds.iter().enumerate() {
            let xr = x0 + 36 * ri as i64;
            for (k, (who, colour)) in [("users", "#1f4e79"), ("providers", "#9dc3e6")]
                .iter()
                .enumerate()
            {
                if let Some(row) = results
                    .over_rounds
                    .iter()
                    .find(|r| &r.round == round && &r.criterion == code && r.who == *who)
                {
                    let yy = y(row.score_tenths);
                    s.push_str(&format!(
                        "<rect x=\"{}\" y=\"{yy}\" width=\"14\" height=\"{}\" fill=\"{colour}\"><title>{} {}: {} {}</title></rect>\n",
                        xr + 15 * k as i64,
                        top + panel_h - yy,
                        escape(held_on),
                        escape(name),
                        who,
                        scorecard::tenths_text(row.score_tenths)
                    ));
                }
            }
            s.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"9\">{}</text>\n",
                xr,
                top + panel_h + 14,
                escape(held_on.get(..7).unwrap_or(held_on))
            ));
        }
    }
    s.push_str(&format!(
        "<rect x=\"{left}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#1f4e79\"/><text x=\"{}\" y=\"{}\">users</text><rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#9dc3e6\"/><text x=\"{}\" y=\"{}\">providers</text>\n</svg>\n",
        height - 24,
        left + 14,
        height - 15,
        left + 70,
        height - 24,
        left + 84,
        height - 15
    ));
    s
}
