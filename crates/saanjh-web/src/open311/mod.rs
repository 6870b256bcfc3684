//! Open311 GeoReport v2 under `/open311/v2`, so that existing 311 apps and
//! client libraries can report problems with co-produced services.
//!
//! Endpoints, each in XML and JSON chosen by the path's suffix exactly as
//! the specification writes them (`services.xml`, `requests/{id}.json`):
//!
//! - `discovery` — what this endpoint is and which formats it speaks;
//! - `services` — the problems that can be reported, from the arrangements'
//!   component kinds (`[[components.X.services]]`), and
//!   `services/{service_code}` — a service's definition with its
//!   attributes (`metadata` is true when it has any);
//! - `requests` — `POST` files a report (form-encoded, with `api_key`);
//!   `GET` lists them (filters `service_request_id`, `service_code`,
//!   `start_date`, `end_date`, `status`; by default the last 90 days, at
//!   most 1,000; a range over 90 days is an error); `requests/{id}` — one;
//! - `tokens/{token}` — the report a token stands for;
//! - `servicerequestupdates` — the updates extension as mySociety's
//!   FixMyStreet uses it: status changes and notes between `start_date`
//!   and `end_date`, so an aggregator can sync.
//!
//! `jurisdiction_id` is an initiative's id (this endpoint serves many). A
//! report without one goes to the only initiative offering its service, or
//! to the nearest one by `lat`/`long`; `address_id` may name the scheme.
//! The report is routed by the arrangement's scope rules (see
//! `saanjh_core::reports`). Errors are the specification's array of
//! `{code, description}` with status 400, 403 or 404 (and 429 when a key
//! exceeds its rate); bad input writes nothing. Reports may be anonymous;
//! email, phone and names are kept apart and never shown.
//!
//! A POST answers with one or the other, as the specification says: the
//! `service_request_id` of a report routed at once (its scheme is certain:
//! `address_id` names it, or only one scheme of the initiative has the
//! service's component), else a `token` under which the report waits for a
//! partner to route it (`POST /api/v1/reports/held/{token}/route`, or the
//! initiative's reports page); `tokens/{token}` then gives the id, empty
//! until it is known. Services are listed as `realtime` since most reports
//! are routed at once; clients must accept either answer.
//!
//! Rate limits are per key and per process (token buckets in memory): with
//! several app processes behind a balancer a key gets its rate from each.
//! A key over its rate gets 429 with the error array and `Retry-After`.

pub mod api;
mod doc;
pub mod service;

use axum::Form;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use saanjh_core::engine;
use saanjh_core::reports::{self, ReportInput};
use saanjh_store::{ReportContact, ReportFilter, ReportRow};
use time::{Duration, OffsetDateTime};

use crate::AppState;
pub use doc::Node;
pub use service::{Open311Error, seed_reports};

/// The most requests one GET returns.
pub const MAX_REQUESTS: i64 = 1000;
/// The longest date range a GET may ask for, and the default window.
pub const MAX_RANGE_DAYS: i64 = 90;

/// The Open311 routes, to be nested at `/open311/v2`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{file}", get(top_get).post(top_post))
        .route("/services/{file}", get(service_definition))
        .route("/requests/{file}", get(one_request))
        .route("/tokens/{file}", get(token))
        .fallback(|| async { Format::Xml.error(&Open311Error::not_found("no such endpoint")) })
}

/// The response format, from the path's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// Split `name.xml` / `name.json`.
    fn split(file: &str) -> Option<(&str, Format)> {
        if let Some(n) = file.strip_suffix(".xml") {
            Some((n, Format::Xml))
        } else {
            file.strip_suffix(".json").map(|n| (n, Format::Json))
        }
    }

    fn render(self, root: &str, node: &Node, status: StatusCode) -> Response {
        let (body, ct) = match self {
            Format::Json => (
                serde_json::to_string(&node.to_json()).unwrap_or_default(),
                "application/json; charset=utf-8",
            ),
            Format::Xml => (node.to_xml(root), "text/xml; charset=utf-8"),
        };
        (status, [(header::CONTENT_TYPE, ct)], body).into_response()
    }

    fn error(self, e: &Open311Error) -> Response {
        let node = Node::List(
            "error",
            vec![Node::Object(vec![
                ("code", Node::Int(e.status as i64)),
                ("description", Node::text(e.description.clone())),
            ])],
        );
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut res = self.render("errors", &node, status);
        if let Some(s) = e.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }

    fn result(self, root: &str, r: Result<Node, Open311Error>) -> Response {
        match r {
            Ok(n) => self.render(root, &n, StatusCode::OK),
            Err(e) => self.error(&e),
        }
    }
}

/// Parameters as name/value pairs, in order, with repeats.
type Params = Vec<(String, String)>;

fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn query_params(q: Result<Query<Params>, QueryRejection>) -> Result<Params, Open311Error> {
    q.map(|Query(p)| p)
        .map_err(|e| Open311Error::bad(format!("the query string cannot be read: {e}")))
}

/// A comma-separated parameter, possibly given several times.
fn list(p: &Params, name: &str) -> Vec<String> {
    p.iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_datetime(name: &str, v: &str) -> Result<OffsetDateTime, Open311Error> {
    engine::parse_time(v.trim()).ok_or_else(|| {
        Open311Error::bad(format!(
            "{name} {v} is not a date and time in w3 format, e.g. 2010-01-01T00:00:00Z"
        ))
    })
}

/// The `[start, end]` window of a listing: the last 90 days by default,
/// 90 days from a lone start or up to a lone end, and never more.
fn window(p: &Params, now: OffsetDateTime) -> Result<(String, String), Open311Error> {
    let start = param(p, "start_date")
        .map(|v| parse_datetime("start_date", v))
        .transpose()?;
    let end = param(p, "end_date")
        .map(|v| parse_datetime("end_date", v))
        .transpose()?;
    let range = Duration::days(MAX_RANGE_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + range),
        (None, Some(e)) => (e - range, e),
        (None, None) => (now - range, now),
    };
    if end < start {
        return Err(Open311Error::bad("end_date is before start_date"));
    }
    if end - start > range {
        return Err(Open311Error::bad(format!(
            "start_date and end_date may not span more than {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((engine::rfc3339(start), engine::rfc3339(end)))
}

// ── GET and POST at the top level ──

async fn top_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Some((name, fmt)) = Format::split(&file) else {
        return Format::Xml.error(&Open311Error::not_found(format!(
            "no such endpoint: {file} (give .xml or .json)"
        )));
    };
    let p = match query_params(q) {
        Ok(p) => p,
        Err(e) => return fmt.error(&e),
    };
    match name {
        "discovery" => fmt.render("discovery", &discovery(&state).await, StatusCode::OK),
        "services" => fmt.result("services", services(&state, &p).await),
        "requests" => fmt.result("service_requests", list_requests(&state, &p).await),
        "servicerequestupdates" => fmt.result("service_request_updates", updates(&state, &p).await),
        _ => fmt.error(&Open311Error::not_found(format!(
            "no such endpoint: {name}"
        ))),
    }
}

async fn top_post(
    State(state): State<AppState>,
    Path(file): Path<String>,
    form: Result<Form<Params>, FormRejection>,
) -> Response {
    let Some(("requests", fmt)) = Format::split(&file) else {
        return Format::split(&file)
            .map(|(_, f)| f)
            .unwrap_or(Format::Xml)
            .error(&Open311Error::not_found(format!("cannot POST to {file}")));
    };
    let p = match form {
        Ok(Form(p)) => p,
        Err(e) => {
            return fmt.error(&Open311Error::bad(format!(
                "the request body must be application/x-www-form-urlencoded: {e}"
            )));
        }
    };
    fmt.result("service_requests", post_request(&state, &p).await)
}

async fn discovery(state: &AppState) -> Node {
    let changeset = services_changeset(state).await;
    Node::Object(vec![
        ("changeset", Node::text(changeset.clone())),
        (
            "contact",
            Node::text("The platform administrator of this Saanjh installation"),
        ),
        (
            "key_service",
            Node::text(
                "API keys are issued by the platform administrator (saanjh open311 key --name NAME, or POST /api/v1/open311/keys)",
            ),
        ),
        (
            "endpoints",
            Node::List(
                "endpoint",
                vec![Node::Object(vec![
                    (
                        "specification",
                        Node::text("http://wiki.open311.org/GeoReport_v2"),
                    ),
                    ("url", Node::text("/open311/v2")),
                    ("changeset", Node::text(changeset)),
                    ("type", Node::text("production")),
                    (
                        "formats",
                        Node::List(
                            "format",
                            vec![Node::text("text/xml"), Node::text("application/json")],
                        ),
                    ),
                ])],
            ),
        ),
    ])
}

/// When the services last changed: the latest arrangement version or
/// initiative, since services come from the arrangements initiatives run.
async fn services_changeset(state: &AppState) -> String {
    let mut latest = String::from("1970-01-01T00:00:00Z");
    if let Ok(arrs) = state.store.arrangements().await {
        for (_, _, _, stored_at) in arrs {
            latest = latest.max(stored_at);
        }
    }
    if let Ok(inits) = state.store.initiatives(None, 100_000, 0).await {
        for i in inits {
            latest = latest.max(i.started_at);
        }
    }
    latest
}

/// The services of the arrangements that initiatives (or the one named by
/// `jurisdiction_id`) run under; a code offered by several is listed once.
async fn all_services(state: &AppState, p: &Params) -> Result<Vec<reports::Service>, Open311Error> {
    let inits = match param(p, "jurisdiction_id") {
        Some(j) => vec![state.store.initiative(j).await?.ok_or_else(|| {
            Open311Error::not_found(format!("jurisdiction_id {j} was not found"))
        })?],
        None => state.store.initiatives(None, 100_000, 0).await?,
    };
    let mut seen_arr = std::collections::BTreeSet::new();
    let mut seen_code = std::collections::BTreeSet::new();
    let mut out = vec![];
    for i in inits {
        if !seen_arr.insert((i.arrangement_id.clone(), i.arrangement_version)) {
            continue;
        }
        let arr = state
            .arrangement(&i.arrangement_id, i.arrangement_version as u32)
            .await?;
        for s in reports::services(&arr) {
            if seen_code.insert(s.code.clone()) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

async fn services(state: &AppState, p: &Params) -> Result<Node, Open311Error> {
    let list = all_services(state, p).await?;
    Ok(Node::List(
        "service",
        list.into_iter()
            .map(|s| {
                Node::Object(vec![
                    ("service_code", Node::text(s.code)),
                    ("service_name", Node::text(s.name)),
                    ("description", Node::opt(s.description)),
                    ("metadata", Node::Bool(!s.attributes.is_empty())),
                    ("type", Node::text("realtime")),
                    ("keywords", Node::text(s.keywords.join(", "))),
                    ("group", Node::text(s.group)),
                ])
            })
            .collect(),
    ))
}

async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let Some((code, fmt)) = Format::split(&file) else {
        return Format::Xml.error(&Open311Error::not_found(format!(
            "no such endpoint: services/{file}"
        )));
    };
    let r = async {
        let p = query_params(q)?;
        let list = all_services(&state, &p).await?;
        let s = list
            .into_iter()
            .find(|s| s.code == code)
            .ok_or_else(|| Open311Error::not_found(format!("service_code {code} was not found")))?;
        Ok(Node::Object(vec![
            ("service_code", Node::text(s.code)),
            (
                "attributes",
                Node::List(
                    "attribute",
                    s.attributes
                        .iter()
                        .enumerate()
                        .map(|(i, a)| {
                            Node::Object(vec![
                                ("variable", Node::Bool(true)),
                                ("code", Node::text(a.code.clone())),
                                ("datatype", Node::text(a.datatype.as_str())),
                                ("required", Node::Bool(a.required)),
                                ("datatype_description", Node::Text(None)),
                                ("order", Node::Int(i as i64 + 1)),
                                ("description", Node::text(a.description.clone())),
                                (
                                    "values",
                                    Node::List(
                                        "value",
                                        a.values
                                            .iter()
                                            .map(|v| {
                                                Node::Object(vec![
                                                    ("key", Node::text(v.clone())),
                                                    ("name", Node::text(v.clone())),
                                                ])
                                            })
                                            .collect(),
                                    ),
                                ),
                            ])
                        })
                        .collect(),
                ),
            ),
        ]))
    }
    .await;
    fmt.result("service_definition", r)
}

fn number(p: &Params, name: &str) -> Result<Option<f64>, Open311Error> {
    param(p, name)
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(|| Open311Error::bad(format!("{name} {v} is not a number")))
        })
        .transpose()
}

/// `attribute[code]=v`, or `attribute[code][]=v` repeated for a list.
fn attributes(p: &Params) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in p {
        let Some(rest) = k.strip_prefix("attribute[") else {
            continue;
        };
        let code = rest
            .strip_suffix("][]")
            .or_else(|| rest.strip_suffix(']'))
            .unwrap_or(rest);
        out.entry(code.to_string()).or_default().push(v.clone());
    }
    out
}

async fn post_request(state: &AppState, p: &Params) -> Result<Node, Open311Error> {
    let key = service::key_for(state, param(p, "api_key")).await?;
    let text = |name: &str| param(p, name).map(|v| v.to_string());
    let new = service::NewReport {
        input: ReportInput {
            service_code: param(p, "service_code")
                .unwrap_or_default()
                .trim()
                .to_string(),
            lat: number(p, "lat")?,
            long: number(p, "long")?,
            address: text("address_string"),
            address_id: text("address_id"),
            description: param(p, "description").map(str::to_string),
            media_url: text("media_url"),
            attributes: attributes(p),
        },
        jurisdiction_id: text("jurisdiction_id"),
        contact: ReportContact {
            email: text("email"),
            first_name: text("first_name"),
            last_name: text("last_name"),
            phone: text("phone"),
            device_id: text("device_id"),
            account_id: text("account_id"),
        },
    };
    if new.input.service_code.is_empty() {
        return Err(Open311Error::bad("service_code was not provided"));
    }
    // The rate is checked after the key, before anything is looked up.
    service::check_rate(&key)?;
    let filed = service::file_report(state, service::Channel::Key(&key), new).await?;
    // One or the other, never both: the id of a report routed at once, or
    // the token of one held for triage.
    let handle = match (filed.id, filed.token) {
        (Some(id), _) => ("service_request_id", Node::text(id)),
        (None, Some(token)) => ("token", Node::text(token)),
        (None, None) => {
            return Err(Open311Error::from(crate::ApiError::internal(
                "a filed report has neither id nor token",
            )));
        }
    };
    Ok(Node::List(
        "request",
        vec![Node::Object(vec![
            handle,
            ("service_notice", Node::text(filed.notice)),
            ("account_id", Node::opt(filed.account_id)),
        ])],
    ))
}

fn request_node(r: ReportRow) -> Node {
    let status = reports::ReportStatus::parse(&r.status).unwrap_or(reports::ReportStatus::Open);
    // Open311 knows open and closed; the finer status leads the notes.
    let notes = match (status, r.status_notes) {
        (reports::ReportStatus::Open, n) => n,
        (s, Some(n)) => Some(format!("{}: {n}", s.as_str().replace('_', " "))),
        (s, None) => Some(s.as_str().replace('_', " ")),
    };
    let notice = format!(
        "Routed by the scope rule for the {} to the {} partner",
        r.component.replace('_', " "),
        r.routed_to
    );
    Node::Object(vec![
        ("service_request_id", Node::text(r.id)),
        ("status", Node::text(status.open311())),
        ("status_notes", Node::opt(notes)),
        ("service_name", Node::text(r.service_name)),
        ("service_code", Node::text(r.service_code)),
        ("description", Node::opt(r.description)),
        ("agency_responsible", Node::opt(r.agency)),
        ("service_notice", Node::text(notice)),
        ("requested_datetime", Node::text(r.requested_at)),
        ("updated_datetime", Node::text(r.updated_at)),
        ("expected_datetime", Node::opt(r.expected_at)),
        ("address", Node::opt(r.address)),
        ("address_id", Node::opt(r.address_id)),
        ("zipcode", Node::Text(None)),
        ("lat", Node::Number(r.latitude)),
        ("long", Node::Number(r.longitude)),
        ("media_url", Node::opt(r.media_url)),
    ])
}

async fn list_requests(state: &AppState, p: &Params) -> Result<Node, Open311Error> {
    if let Some(j) = param(p, "jurisdiction_id")
        && state.store.initiative(j).await?.is_none()
    {
        return Err(Open311Error::not_found(format!(
            "jurisdiction_id {j} was not found"
        )));
    }
    let ids = list(p, "service_request_id");
    let statuses = list(p, "status");
    if let Some(bad) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
        return Err(Open311Error::bad(format!(
            "status {bad} is not open or closed"
        )));
    }
    // Dates are checked even when ids override them: bad input is an error.
    let (start, end) = window(p, state.clock.now())?;
    let explicit = param(p, "start_date").is_some() || param(p, "end_date").is_some();
    let filter = ReportFilter {
        ids: ids.clone(),
        service_codes: list(p, "service_code"),
        start: Some(start),
        // Without dates, the window runs to now and on: a report filed a
        // moment ago is never lost to clock granularity.
        end: explicit.then_some(end),
        statuses,
        limit: MAX_REQUESTS,
    };
    let rows = state.store.reports(&filter).await?;
    let rows: Vec<ReportRow> = match param(p, "jurisdiction_id") {
        Some(j) => rows.into_iter().filter(|r| r.initiative_id == j).collect(),
        None => rows,
    };
    Ok(Node::List(
        "request",
        rows.into_iter().map(request_node).collect(),
    ))
}

async fn one_request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((id, fmt)) = Format::split(&file) else {
        return Format::Xml.error(&Open311Error::not_found(format!(
            "no such endpoint: requests/{file}"
        )));
    };
    let r = async {
        let row = state.store.report(id).await?.ok_or_else(|| {
            Open311Error::not_found(format!("service_request_id {id} was not found"))
        })?;
        Ok(Node::List("request", vec![request_node(row)]))
    }
    .await;
    fmt.result("service_requests", r)
}

async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((tok, fmt)) = Format::split(&file) else {
        return Format::Xml.error(&Open311Error::not_found(format!(
            "no such endpoint: tokens/{file}"
        )));
    };
    let r = async {
        // A held report's token is known but has no id yet: the id is
        // given empty until a partner routes it.
        let id = state
            .store
            .report_id_by_token(tok)
            .await?
            .ok_or_else(|| Open311Error::not_found(format!("token {tok} was not found")))?;
        Ok(Node::List(
            "request",
            vec![Node::Object(vec![
                ("service_request_id", Node::opt(id)),
                ("token", Node::text(tok)),
            ])],
        ))
    }
    .await;
    fmt.result("service_requests", r)
}

/// The updates extension: every status change and note in the window.
async fn updates(state: &AppState, p: &Params) -> Result<Node, Open311Error> {
    let (start, end) = window(p, state.clock.now())?;
    let explicit_end = param(p, "end_date").is_some();
    let end = if explicit_end {
        end
    } else {
        "9999-12-31T23:59:59Z".to_string()
    };
    let rows = state
        .store
        .report_updates(&start, &end, MAX_REQUESTS)
        .await?;
    Ok(Node::List(
        "request_update",
        rows.into_iter()
            .map(|u| {
                let status =
                    reports::ReportStatus::parse(&u.status).unwrap_or(reports::ReportStatus::Open);
                Node::Object(vec![
                    ("update_id", Node::text(u.id)),
                    ("service_request_id", Node::text(u.report_id)),
                    ("status", Node::text(status.open311())),
                    ("external_status_code", Node::text(status.as_str())),
                    ("updated_datetime", Node::text(u.at)),
                    ("description", Node::opt(u.description)),
                    ("media_url", Node::Text(None)),
                ])
            })
            .collect(),
    ))
}
