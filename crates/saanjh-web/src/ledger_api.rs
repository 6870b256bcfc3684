//! The co-delivery ledger over HTTP (issue 3), and the service functions the
//! binary's `saanjh ledger` command shares with it.
//!
//! - `GET /statements/{id}` — the public statement of a scheme or an
//!   initiative as JSON, or CSV with `?format=csv`;
//! - `GET /statements/{id}/print` — the same as a printable HTML page a
//!   treasurer can pin on a wall (amounts in lakh grouping, "Rs 1,50,000");
//! - `POST /initiatives/{id}/ledger/import` — a CSV register of
//!   contributions, checked as a whole (422 lists every bad row) and posted
//!   in one append;
//! - `GET|POST /allocations` — the government side: a public organisation's
//!   reserve per financial year.
//!
//! Single entries (pledges, contributions, releases, expenditure, reversals)
//! are acts like any other: `POST /schemes/{id}/acts` with an `entry`.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use saanjh_core::arrangement::Arrangement;
use saanjh_core::engine::{self, Actor, SchemeState};
use saanjh_core::event::{EventBody, REGISTRY_CHAIN};
use saanjh_core::ledger::budget::{self, FinancialYear};
use saanjh_core::ledger::import;
use saanjh_core::ledger::statement::{self, Statement, Viewer};
use saanjh_core::ledger::{Money, figures::HouseholdRef};
use saanjh_core::model::OrgKind;
use saanjh_store::{EntryCursor, EntryPage, EntryScope, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiJson, ApiPath, ApiQuery, Problem};
use crate::service;
use crate::{ApiError, AppState};

/// How often an import or allocation is decided again when its chain moved.
const MAX_ATTEMPTS: usize = 8;

/// The ledger's routes, merged into `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(statement_handler))
        .routes(routes!(printable_statement))
        .routes(routes!(import_handler))
        .routes(routes!(list_allocations, set_allocation_handler))
}

// ── Service ──

/// Who is looking, as the information rules see them: administrators see
/// what any partner sees.
pub async fn viewer_of(
    state: &AppState,
    caller: &Caller,
    initiative: &str,
    arr: &Arrangement,
) -> Result<Viewer, ApiError> {
    if caller.is_admin() {
        return Ok(Viewer::Holding(
            arr.file.positions.keys().cloned().collect(),
        ));
    }
    viewer_for_person(
        state,
        caller.0.as_ref().and_then(|u| u.person_id.as_deref()),
        initiative,
    )
    .await
}

/// The viewer for a person (or the public when `None`).
pub async fn viewer_for_person(
    state: &AppState,
    person: Option<&str>,
    initiative: &str,
) -> Result<Viewer, ApiError> {
    Ok(match person {
        Some(p) => Viewer::Holding(state.store.positions_of(initiative, p).await?),
        None => Viewer::Public,
    })
}

/// The largest page of entries a JSON statement returns, and the page it
/// returns when none is asked for. Figures and totals are always complete.
pub const MAX_PAGE: u64 = 10_000;
pub const DEFAULT_PAGE: u64 = 1_000;

/// The statement of a scheme or an initiative (by either id), as `viewer`
/// may see it, with the reserve behind its releases where there is one.
/// Its figures cover every entry; its `entries` are the page asked for.
pub async fn statement_for(
    state: &AppState,
    id: &str,
    viewer: &Viewer,
    page: &EntryPage,
) -> Result<Statement, ApiError> {
    Ok(statement_parts(state, id, viewer, page).await?.0)
}

/// A statement, and what a stream of its remaining entries needs: whose
/// entries, the register that names their houses, and the next cursor.
async fn statement_parts(
    state: &AppState,
    id: &str,
    viewer: &Viewer,
    page: &EntryPage,
) -> Result<(Statement, Vec<HouseholdRef>, Option<EntryCursor>), ApiError> {
    let (init, arr, scheme) = service::resolve(state, id).await?;
    let hidden = |why: String| match viewer {
        Viewer::Public => ApiError::unauthenticated(format!("{why}; sign in")),
        Viewer::Holding(_) => ApiError::forbidden(why),
    };
    let (mut s, register, next) = match scheme {
        Some(_) => {
            let (_, ledger, next) = state
                .store
                .scheme_ledger(id, page)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no scheme `{id}`")))?;
            let s = statement::for_scheme(&arr, &ledger, viewer).map_err(hidden)?;
            (s, ledger.households, next)
        }
        None => {
            let ledgers = state.store.initiative_ledgers(&init.id).await?;
            let (entries, next) = state
                .store
                .ledger_page(EntryScope::Initiative(&init.id), page)
                .await?;
            let s =
                statement::for_initiative(&arr, &init.id, &init.name, &ledgers, &entries, viewer)
                    .map_err(hidden)?;
            let register = ledgers.into_iter().flat_map(|l| l.households).collect();
            (s, register, next)
        }
    };
    s.entries_page.limit = page.limit;
    s.entries_page.next_cursor = next.as_ref().map(EntryCursor::encode);
    if let Some(r) = state
        .store
        .reserve_of(&init.id, &arr, state.clock.now().date())
        .await?
    {
        s.budget = r.years;
    }
    Ok((s, register, next))
}

/// The whole statement as CSV, written as it is read: the header, every
/// entry a page at a time, then the figures — so a statement of 100,000
/// entries never sits in memory as one string. A database error part-way
/// ends the response early (the figures rows, which come last, are then
/// missing, so a cut-off file is recognisable).
pub async fn statement_csv_stream(
    state: &AppState,
    id: &str,
    viewer: &Viewer,
) -> Result<axum::body::Body, ApiError> {
    const CHUNK: u64 = 5_000;
    let first = EntryPage {
        after: None,
        limit: Some(CHUNK),
    };
    let (s, register, next) = statement_parts(state, id, viewer, &first).await?;
    let scope = match s.scope.as_str() {
        "scheme" => (true, s.id.clone()),
        _ => (false, s.id.clone()),
    };
    let names = s.names_shown;
    let mut head = statement::csv_header();
    head.push_str(&statement::csv_entries(&s.entries));
    let figures = statement::csv_figures(&s);
    enum Step {
        Head,
        Entries(EntryCursor),
        Figures,
        Done,
    }
    let start = Step::Head;
    let store = state.store.clone();
    let stream = futures_util::stream::unfold(
        (start, next, head, figures),
        move |(step, next, head, figures)| {
            let store = store.clone();
            let register = register.clone();
            let scope = scope.clone();
            async move {
                match step {
                    Step::Head => {
                        let step = match next.clone() {
                            Some(c) => Step::Entries(c),
                            None => Step::Figures,
                        };
                        Some((
                            Ok::<String, std::io::Error>(head),
                            (step, None, String::new(), figures),
                        ))
                    }
                    Step::Entries(after) => {
                        let page = EntryPage {
                            after: Some(after),
                            limit: Some(CHUNK),
                        };
                        let who = if scope.0 {
                            EntryScope::Scheme(&scope.1)
                        } else {
                            EntryScope::Initiative(&scope.1)
                        };
                        match store.ledger_page(who, &page).await {
                            Ok((entries, next)) => {
                                let rows = statement::csv_entries(&statement::render_entries(
                                    &entries, &register, names,
                                ));
                                let step = match next {
                                    Some(c) => Step::Entries(c),
                                    None => Step::Figures,
                                };
                                Some((Ok(rows), (step, None, String::new(), figures)))
                            }
                            Err(e) => Some((
                                Err(std::io::Error::other(e.to_string())),
                                (Step::Done, None, String::new(), String::new()),
                            )),
                        }
                    }
                    Step::Figures => Some((
                        Ok(figures),
                        (Step::Done, None, String::new(), String::new()),
                    )),
                    Step::Done => None,
                }
            }
        },
    );
    Ok(axum::body::Body::from_stream(stream))
}

/// What an import posted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportOutcome {
    pub initiative: String,
    pub rows: u64,
    /// Total of the rows, in minor units.
    pub total: i64,
    /// Rows per scheme.
    pub per_scheme: BTreeMap<String, u64>,
    /// The events appended (sequence numbers on the initiative's chain).
    pub first_seq: i64,
    pub last_seq: i64,
}

/// Import a CSV register of contributions into an initiative as `person`:
/// every row decided by the engine as the act that records a contribution,
/// against the state the earlier rows leave; if any row is refused, nothing
/// is written and the error lists every bad row (`errors`: `[{line,
/// message}]`); otherwise all rows are appended in one transaction.
pub async fn import_csv(
    state: &AppState,
    initiative: &str,
    scheme: Option<&str>,
    person: &str,
    csv: &str,
) -> Result<ImportOutcome, ApiError> {
    let init_row = state
        .store
        .initiative(initiative)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no initiative `{initiative}`")))?;
    if let Some(s) = scheme {
        match state.store.scheme(s).await? {
            Some((row, _)) if row.initiative_id == initiative => {}
            _ => {
                return Err(ApiError::not_found(format!(
                    "no scheme `{s}` in initiative `{initiative}`"
                )));
            }
        }
    }
    for attempt in 0..MAX_ATTEMPTS {
        let (head, _) = state.store.head(initiative).await?;
        let arr = state
            .arrangement(
                &init_row.arrangement_id,
                init_row.arrangement_version as u32,
            )
            .await?;
        let mut init_state = service::initiative_state(state, initiative, &arr).await?;
        let now = state.clock.now();
        // Only the receipt numbers the file names are looked up.
        init_state.ledger = state
            .store
            .initiative_ledger(
                initiative,
                &arr,
                now.date(),
                &import::receipts_named(csv),
                &[],
            )
            .await?;
        let actor = Actor {
            person: person.to_string(),
            positions: state.store.positions_of(initiative, person).await?,
        };
        let mut schemes: BTreeMap<String, SchemeState> = BTreeMap::new();
        let mut registers: BTreeMap<String, Vec<HouseholdRef>> = BTreeMap::new();
        let ids: Vec<String> = match scheme {
            Some(s) => vec![s.to_string()],
            None => state
                .store
                .scheme_stages(initiative)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
        };
        for id in ids {
            if let Some((_, st)) = state.store.scheme(&id).await? {
                schemes.insert(id.clone(), st);
                registers.insert(id.clone(), state.store.household_refs(&id).await?);
            }
        }
        let plan = import::prepare(
            &arr,
            &init_state,
            &schemes,
            &registers,
            &actor,
            csv,
            scheme,
            now,
        )
        .map_err(|rows| {
            let n = rows.len();
            ApiError::unprocessable(format!(
                "{n} row{} of the file {} wrong; nothing was posted",
                if n == 1 { "" } else { "s" },
                if n == 1 { "is" } else { "are" }
            ))
            .with_errors(json!(rows))
        })?;
        match state
            .store
            .append(
                initiative,
                head,
                person,
                &engine::rfc3339(now),
                &plan.events,
            )
            .await
        {
            Err(StoreError::Conflict(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis((attempt as u64 + 1) * 5))
                    .await;
                continue;
            }
            Err(e) => return Err(e.into()),
            Ok(stored) => {
                return Ok(ImportOutcome {
                    initiative: initiative.to_string(),
                    rows: plan.rows,
                    total: plan.total.0,
                    per_scheme: plan.per_scheme,
                    first_seq: stored.first().map(|e| e.seq).unwrap_or(head),
                    last_seq: stored.last().map(|e| e.seq).unwrap_or(head),
                });
            }
        }
    }
    Err(StoreError::Conflict(initiative.to_string()).into())
}

/// A reserve allocation for one financial year.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocation {
    /// The public organisation (e.g. the council) setting money aside.
    pub organisation: String,
    /// The arrangement whose schemes the reserve funds (`cost-sharing`).
    pub arrangement: String,
    /// Financial year, July to June: "2025-26".
    pub year: String,
    /// In minor units (paisa).
    pub amount: i64,
    /// The development budget it is taken from, in minor units, if known:
    /// the statement then shows whether the earmark (e.g. 25%) was met.
    #[serde(default)]
    pub development_budget: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Record (or revise) a reserve allocation. Only platform administrators
/// record budgets; a revision may not fall below what was already released.
pub async fn set_allocation(
    state: &AppState,
    actor: &str,
    input: NewAllocation,
) -> Result<saanjh_store::AllocationRow, ApiError> {
    let org = state
        .store
        .organisation(&input.organisation)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no organisation `{}`", input.organisation)))?;
    if org.kind != OrgKind::Public.as_str() {
        return Err(ApiError::unprocessable(format!(
            "`{}` is a {} organisation; only public organisations hold budget reserves",
            org.name, org.kind
        )));
    }
    let year = FinancialYear::parse(&input.year).map_err(ApiError::unprocessable)?;
    let version = state
        .store
        .arrangements()
        .await?
        .into_iter()
        .filter(|(id, ..)| *id == input.arrangement)
        .map(|(_, v, ..)| v)
        .max()
        .ok_or_else(|| {
            ApiError::not_found(format!("no arrangement `{}` is stored", input.arrangement))
        })?;
    let arr = state
        .arrangement(&input.arrangement, version as u32)
        .await?;
    let Some(rule) = &arr.file.reserve else {
        return Err(ApiError::unprocessable(format!(
            "arrangement `{}` declares no [reserve]: its releases are not paid from an allocation",
            input.arrangement
        )));
    };
    if input.development_budget.is_some_and(|b| b < input.amount) {
        return Err(ApiError::unprocessable(
            "the allocation is more than the development budget it is taken from",
        ));
    }
    for attempt in 0..MAX_ATTEMPTS {
        let (head, _) = state.store.head(REGISTRY_CHAIN).await?;
        let years = state
            .store
            .reserve_years(
                &org.id,
                arr.id(),
                rule.held_by.as_ref(),
                rule.lapses,
                None,
                FinancialYear::of(state.clock.now().date()).max(year),
            )
            .await?;
        budget::check_allocation(&years, year, input.amount).map_err(ApiError::unprocessable)?;
        let body = EventBody::AllocationSet {
            organisation: org.id.clone(),
            arrangement: arr.id().to_string(),
            year: year.to_string(),
            amount: input.amount,
            development_budget: input.development_budget,
            note: input.note.clone(),
        };
        match state
            .store
            .append(
                REGISTRY_CHAIN,
                head,
                actor,
                &engine::rfc3339(state.clock.now()),
                &[body],
            )
            .await
        {
            Err(StoreError::Conflict(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis((attempt as u64 + 1) * 5))
                    .await;
                continue;
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {
                return state
                    .store
                    .allocations(Some(&org.id), Some(arr.id()))
                    .await?
                    .into_iter()
                    .find(|a| a.year == year.to_string())
                    .ok_or_else(|| {
                        ApiError::internal("the allocation was stored but cannot be read back")
                    });
            }
        }
    }
    Err(StoreError::Conflict(REGISTRY_CHAIN.into()).into())
}

// ── Handlers ──

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// `json` (default) or `csv`. CSV is always the whole statement.
    pub format: Option<String>,
    /// JSON (and the printable page): how many entries to list, 0 to
    /// 10000 (default 1000 for JSON, all for the printable page). The
    /// figures and totals always cover every entry.
    pub limit: Option<u64>,
    /// The `entries_page.next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl StatementParams {
    fn page(&self, default: Option<u64>) -> Result<EntryPage, ApiError> {
        let limit = match self.limit {
            Some(l) if l > MAX_PAGE => {
                return Err(ApiError::bad_request(format!(
                    "limit {l}: at most {MAX_PAGE} entries a page; follow `next_cursor` for the rest, or ask for the CSV"
                )));
            }
            Some(l) => Some(l),
            None => default,
        };
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(EntryCursor::decode(c).ok_or_else(|| {
                ApiError::bad_request(
                    "cursor: not a cursor this server gave; use `entries_page.next_cursor` of the previous page",
                )
            })?),
        };
        Ok(EntryPage { after, limit })
    }
}

/// The public statement of a scheme or an initiative: who contributed
/// what, who still owes what, what was spent on what, with receipt numbers
/// and dates; household names only where the information rules allow. As
/// JSON the entry list is paged (`limit`, `cursor`; `entries_page` says
/// where the page is); the figures always cover every entry. As CSV it is
/// the whole statement, streamed.
#[utoipa::path(get, path = "/statements/{id}", tag = "ledger", params(("id" = String, Path, description = "a scheme or initiative id"), StatementParams),
    responses((status = 200, body = Object, description = "the statement (JSON) or text/csv"), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn statement_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StatementParams>,
) -> Result<Response, ApiError> {
    let (init, arr, _) = service::resolve(&state, &id).await?;
    let viewer = viewer_of(&state, &caller, &init.id, &arr).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => {
            let page = q.page(Some(DEFAULT_PAGE))?;
            let s = statement_for(&state, &id, &viewer, &page).await?;
            Ok(Json(s).into_response())
        }
        "csv" => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            statement_csv_stream(&state, &id, &viewer).await?,
        )
            .into_response()),
        other => Err(ApiError::bad_request(format!(
            "format `{other}`: use json or csv"
        ))),
    }
}

/// The statement as a printable page for the notice board (every entry
/// unless `limit` is given; then a link leads to the next page).
#[utoipa::path(get, path = "/statements/{id}/print", tag = "ledger", params(("id" = String, Path, description = "a scheme or initiative id"), StatementParams),
    responses((status = 200, content_type = "text/html", description = "a printable page"), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn printable_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StatementParams>,
) -> Result<Response, ApiError> {
    let (init, arr, _) = service::resolve(&state, &id).await?;
    let viewer = viewer_of(&state, &caller, &init.id, &arr).await?;
    let page = q.page(None)?;
    let s = statement_for(&state, &id, &viewer, &page).await?;
    let printed = state.clock.now().date().to_string();
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        statement_html(&s, &printed),
    )
        .into_response())
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Post every row to this scheme (the file then needs no `scheme` column).
    pub scheme: Option<String>,
}

/// Import a register of contributions (CSV, `text/csv` body). Checked as a
/// whole: any bad row and nothing is posted, with every bad row listed in
/// `errors` (`[{line, message}]`).
#[utoipa::path(post, path = "/initiatives/{id}/ledger/import", tag = "ledger", params(("id" = String, Path), ImportParams),
    request_body(content = String, content_type = "text/csv", description = "columns: scheme, household, role, amount, receipt, date[, means, quantity, rate, purpose]"),
    responses((status = 201, body = ImportOutcome), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn import_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImportParams>,
    body: String,
) -> Result<(StatusCode, Json<ImportOutcome>), ApiError> {
    let person = caller.person()?.to_string();
    let out = import_csv(&state, &id, q.scheme.as_deref(), &person, &body).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllocationFilter {
    pub organisation: Option<String>,
    pub arrangement: Option<String>,
}

/// Reserve allocations (public: budgets are public documents).
#[utoipa::path(get, path = "/allocations", tag = "ledger", params(AllocationFilter), responses((status = 200, body = Object)))]
async fn list_allocations(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AllocationFilter>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = state
        .store
        .allocations(q.organisation.as_deref(), q.arrangement.as_deref())
        .await?;
    Ok(Json(json!({ "items": rows })))
}

/// Record or revise a reserve allocation for a financial year
/// (administrators).
#[utoipa::path(post, path = "/allocations", tag = "ledger", request_body = NewAllocation,
    responses((status = 201, body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn set_allocation_handler(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewAllocation>,
) -> Result<(StatusCode, Json<saanjh_store::AllocationRow>), ApiError> {
    caller.require_admin()?;
    Ok((
        StatusCode::CREATED,
        Json(set_allocation(&state, &caller.actor(), input).await?),
    ))
}

// ── The printable page ──

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn rs(m: Money) -> String {
    format!("Rs&nbsp;{}", m.to_lakh())
}

/// A plain page for the notice board: no scripts, no web fonts, one small
/// style sheet, tables that print on A4.
pub fn statement_html(s: &Statement, printed: &str) -> String {
    let mut h = String::with_capacity(16_384);
    let title = format!("Public statement — {}", s.name);
    h.push_str(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <style>body{{font:14px/1.4 sans-serif;margin:1.5em;max-width:60em}}table{{border-collapse:collapse;width:100%;margin:.5em 0 1.2em}}\
         th,td{{border:1px solid #999;padding:.2em .4em;text-align:left}}td.n,th.n{{text-align:right;white-space:nowrap}}h1{{font-size:1.4em}}h2{{font-size:1.1em;margin-top:1.2em}}\
         .warn{{font-weight:bold}}@media print{{body{{margin:0}}a{{color:inherit;text-decoration:none}}}}</style></head><body>",
        esc(&title)
    ));
    h.push_str(&format!("<h1>{}</h1>", esc(&title)));
    h.push_str(&format!(
        "<p>{} <code>{}</code> under arrangement <code>{}</code>. Amounts in {}. Printed {}. Anyone holding a receipt can find its number below.</p>",
        if s.scope == "scheme" { "Scheme" } else { "Initiative" },
        esc(&s.id),
        esc(&s.arrangement),
        esc(&s.currency),
        esc(printed)
    ));
    let t = &s.totals;
    h.push_str("<h2>Totals</h2><table>");
    for (label, m) in [
        ("Estimate", t.estimate),
        ("Owed by the partners (their shares)", t.owed),
        (
            "Received (contributions and releases, less refunds)",
            t.received,
        ),
        ("Spent", t.spent),
        ("Balance that should be in hand", t.balance),
        ("Still owed", t.outstanding),
        ("Paid beyond shares and pledges", t.overpaid),
    ] {
        h.push_str(&format!(
            "<tr><th>{label}</th><td class=\"n\">{}</td></tr>",
            rs(m)
        ));
    }
    h.push_str("</table><h2>Who owes and who has paid</h2><table><tr><th>Partner</th><th class=\"n\">Share owed</th><th class=\"n\">Pledged</th><th class=\"n\">Paid or released</th><th class=\"n\">Still owed</th><th class=\"n\">Over-paid</th></tr>");
    for r in &s.roles {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n{}\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&r.name),
            rs(r.owed),
            rs(r.pledged),
            rs(r.put_in),
            if r.outstanding.0 > 0 { " warn" } else { "" },
            rs(r.outstanding),
            rs(r.overpaid)
        ));
    }
    h.push_str("</table>");
    if let Some(c) = &s.households {
        h.push_str("<h2>Households</h2>");
        if s.household_list.is_empty() {
            h.push_str(&format!(
                "<p>{} households registered: {} paid in full, {} in part, {} nothing yet{}. Names are shown to the partners only.</p>",
                c.registered,
                c.paid_in_full,
                c.paid_part,
                c.paid_nothing,
                if c.overpaid > 0 { format!(", {} paid more than their share", c.overpaid) } else { String::new() }
            ));
        } else {
            h.push_str("<table><tr><th>House</th><th>Head of household</th><th class=\"n\">Due</th><th class=\"n\">Paid</th><th class=\"n\">Still owed</th><th class=\"n\">Over-paid</th></tr>");
            for x in &s.household_list {
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(&x.house),
                    esc(x.head.as_deref().unwrap_or("")),
                    rs(x.due),
                    rs(x.paid),
                    rs(x.outstanding),
                    rs(x.overpaid)
                ));
            }
            h.push_str("</table>");
        }
    }
    if !s.spending.is_empty() {
        h.push_str("<h2>What the money is for</h2><table><tr><th>Scheme</th><th>Component</th><th class=\"n\">Estimate</th><th class=\"n\">Released</th><th class=\"n\">Spent</th></tr>");
        for c in &s.spending {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&c.scheme),
                esc(&c.component),
                c.estimate.map(rs).unwrap_or_default(),
                rs(c.released),
                rs(c.spent)
            ));
        }
        h.push_str("</table>");
    }
    if !s.budget.is_empty() {
        h.push_str("<h2>The government's reserve, by financial year (July–June)</h2><table><tr><th>Year</th><th class=\"n\">Allocated</th><th class=\"n\">Brought forward</th><th class=\"n\">Available</th><th class=\"n\">Released</th><th class=\"n\">Unspent</th><th class=\"n\">Lapsed</th></tr>");
        for y in &s.budget {
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                y.year,
                rs(y.allocated),
                rs(y.carried_in),
                rs(y.available),
                rs(y.spent),
                rs(y.unspent),
                rs(y.lapsed)
            ));
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Every entry</h2><table><tr><th>Date</th><th>Receipt</th><th>What</th><th>Who</th><th>For / paid to</th><th class=\"n\">Amount</th></tr>");
    let reversed: BTreeSet<&str> = s
        .entries
        .iter()
        .filter_map(|e| e.reversed_by.as_ref().map(|_| e.id.as_str()))
        .collect();
    for e in &s.entries {
        let who = match &e.household {
            Some(house) => format!("{} (house {})", e.role, house),
            None => e.role.clone(),
        };
        let what = match (&e.reverses, reversed.contains(e.id.as_str())) {
            (Some(t), _) => format!("reversal of {t}"),
            (None, true) => format!("{} (reversed)", e.kind),
            _ => e.kind.clone(),
        };
        let detail = [
            e.component.as_deref(),
            e.payee.as_deref(),
            e.purpose.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&e.date),
            esc(e.receipt.as_deref().unwrap_or("")),
            esc(&what),
            esc(&who),
            esc(&detail),
            rs(e.amount)
        ));
    }
    h.push_str("</table>");
    let p = &s.entries_page;
    if p.returned < p.total {
        h.push_str(&format!(
            "<p>This page lists {} of the {} entries.",
            p.returned, p.total
        ));
        if let Some(c) = &p.next_cursor {
            h.push_str(&format!(
                " <a href=\"?limit={}&amp;cursor={}\">Next entries</a>.",
                p.limit.unwrap_or(p.returned),
                esc(c)
            ));
        }
        h.push_str(" The figures above cover every entry.</p>");
    }
    h.push_str("<p>Entries are never changed or deleted: a mistake is corrected by a reversal that names the entry it cancels. Check this statement against the event log with <code>saanjh verify</code>.</p></body></html>");
    h
}
