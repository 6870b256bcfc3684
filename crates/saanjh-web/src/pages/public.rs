//! Pages anyone may read without signing in: initiatives by district or
//! near a point, an initiative, a scheme with its statement, the chain
//! check, an arrangement in plain words, the map and its GeoJSON.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use saanjh_core::arrangement::words::Name;
use saanjh_core::arrangement::{Explanation, explain_in};
use saanjh_core::event::verify_chain;
use saanjh_core::ledger::statement::{self, Statement, may_see};
use serde::Deserialize;

use super::charts;
use super::ctx::{LANG_COOKIE, Lang, Visitor};
use super::views::{self, *};
use super::{PageResult, PagesConfig, page};
use crate::{ApiError, AppState, service};

pub async fn home(v: Visitor, s: State<AppState>, q: Query<Near>) -> PageResult {
    initiatives(v, s, q).await
}

#[derive(Debug, Deserialize, Default)]
pub struct Near {
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    lat: Option<String>,
    #[serde(default)]
    lon: Option<String>,
}

#[derive(Template)]
#[template(path = "initiatives.html")]
struct InitiativesPage<'a> {
    c: &'a Visitor,
    district: String,
    lat: String,
    lon: String,
    near: bool,
    districts: Vec<String>,
    list: Vec<InitiativeCard>,
}

pub async fn initiatives(
    v: Visitor,
    State(state): State<AppState>,
    Query(q): Query<Near>,
) -> PageResult {
    let district = q.district.unwrap_or_default().trim().to_string();
    // "Near me": coordinates typed in (or filled by the phone); anything
    // that does not parse is ignored rather than refused.
    let point = match (
        q.lat.as_deref().and_then(|s| s.trim().parse::<f64>().ok()),
        q.lon.as_deref().and_then(|s| s.trim().parse::<f64>().ok()),
    ) {
        (Some(a), Some(b)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&b) => {
            Some((a, b))
        }
        _ => None,
    };
    let all = state.store.initiatives(None, 1000, 0).await?;
    let mut districts: Vec<String> = all.iter().map(|i| i.district.clone()).collect();
    districts.sort();
    districts.dedup();
    let mut list = vec![];
    for row in all {
        if !district.is_empty() && !row.district.eq_ignore_ascii_case(&district) {
            continue;
        }
        let schemes = state.store.scheme_stages(&row.id).await?.len();
        let d = match (point, row.latitude, row.longitude) {
            (Some(p), Some(a), Some(b)) => Some(haversine_km(p, (a, b))),
            _ => None,
        };
        list.push((
            d,
            InitiativeCard {
                distance_km: d.map(|d| format!("{d:.1}")),
                row,
                schemes,
            },
        ));
    }
    if point.is_some() {
        list.sort_by(|a, b| a.0.unwrap_or(f64::MAX).total_cmp(&b.0.unwrap_or(f64::MAX)));
    }
    page(InitiativesPage {
        c: &v,
        district,
        lat: q.lat.unwrap_or_default(),
        lon: q.lon.unwrap_or_default(),
        near: point.is_some(),
        districts,
        list: list.into_iter().map(|x| x.1).collect(),
    })
}

#[derive(Template)]
#[template(path = "initiative.html")]
struct InitiativePage<'a> {
    c: &'a Visitor,
    i: saanjh_store::InitiativeRow,
    arrangement_name: String,
    partners: Vec<PartnerView>,
    schemes: Vec<SchemeCard>,
    rules: Explanation,
    may_create: bool,
}

pub async fn initiative(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let i = state
        .store
        .initiative(&id)
        .await?
        .ok_or_else(|| v.fail(ApiError::not_found(v.t1("error-no-initiative", "id", &id))))?;
    let arr = state
        .arrangement(&i.arrangement_id, i.arrangement_version as u32)
        .await?;
    let partners = partners(&state, &v, &arr, &i.id).await?;
    let schemes = state
        .store
        .schemes(&i.id, 500, 0)
        .await?
        .into_iter()
        .map(|r| scheme_card(&v, r))
        .collect();
    // Offer "start a scheme" only to someone the creating act's rules name.
    let may_create = match v.user.as_ref().and_then(|u| u.person_id.as_deref()) {
        Some(p) => {
            let held = state.store.positions_of(&i.id, p).await?;
            arr.creating_action().is_some_and(|(a, _)| {
                arr.rules_for(a).any(|r| {
                    !matches!(r.deontic, saanjh_core::arrangement::Deontic::MustNot)
                        && saanjh_core::arrangement::Arrangement::attribute_matches(
                            r.attribute.as_ref(),
                            &held,
                        )
                })
            })
        }
        None => false,
    };
    page(InitiativePage {
        c: &v,
        arrangement_name: v.words(&arr).say(Name::Arrangement),
        rules: explain_in(&arr, &v.words(&arr)),
        i,
        partners,
        schemes,
        may_create,
    })
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage<'a> {
    c: &'a Visitor,
    i: saanjh_store::InitiativeRow,
    events: u64,
    head: String,
    broken: Option<(i64, String)>,
}

/// Verify the initiative's hash chain now, in this request.
pub async fn verify(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let i = state
        .store
        .initiative(&id)
        .await?
        .ok_or_else(|| v.fail(ApiError::not_found(v.t1("error-no-initiative", "id", &id))))?;
    let events = state.store.chain_events(&i.id, 0, i64::MAX).await?;
    let (events_n, broken) = match verify_chain(events.iter()) {
        Ok(n) => (n, None),
        Err(b) => (events.len() as u64, Some((b.seq, b.reason))),
    };
    let head = events.last().map(|e| e.hash.clone()).unwrap_or_default();
    let mut r = page(VerifyPage {
        c: &v,
        i,
        events: events_n,
        head,
        broken,
    })?;
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Template)]
#[template(path = "scheme.html")]
struct SchemePage<'a> {
    c: &'a Visitor,
    i: saanjh_store::InitiativeRow,
    id: String,
    name: String,
    stage: String,
    is_final: bool,
    stages: Vec<(String, String)>,
    components: Vec<ComponentView>,
    statement: Option<Statement>,
    statement_hidden: String,
    roles: Vec<(String, String, String, String, String)>,
    entries: Vec<(String, String, String, String, String, String)>,
    obligations: Option<Vec<ObligationView>>,
    timeline: Option<Vec<EventLine>>,
    meetings: Vec<(String, String, u32, u32, usize)>,
    photos: Vec<(String, String)>,
    chart_money: String,
    chart_progress: String,
    chart_obligations: String,
}

pub async fn scheme(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    // One query per section: the scheme (its state carries stages,
    // components and meetings), the initiative, partners, the ledger
    // (households + entries), obligations, events and their actors' names,
    // photos; the arrangement comes from the in-process cache.
    let Some((row, s)) = state.store.scheme(&id).await? else {
        return Err(v.fail(ApiError::not_found(v.t1("error-no-scheme", "id", &id))));
    };
    let i = state
        .store
        .initiative(&row.initiative_id)
        .await?
        .ok_or_else(|| v.fail(ApiError::not_found(v.t1("error-no-scheme", "id", &id))))?;
    let arr = state
        .arrangement(&i.arrangement_id, i.arrangement_version as u32)
        .await?;
    let viewer = viewer(&state, &v, &i.id).await?;
    let partners = partners(&state, &v, &arr, &i.id).await?;
    let now = now_text(&state);
    let stmt = statement_of(&state, &arr, &s, &viewer).await?;
    let (statement, statement_hidden) = match stmt {
        Ok(st) => (Some(st), String::new()),
        Err(why) => (None, why),
    };
    let roles = statement
        .as_ref()
        .map(|st| {
            st.roles
                .iter()
                .map(|r| {
                    (
                        v.words(&arr).say(Name::Partner(r.role.clone())),
                        rs(r.owed.minor()),
                        rs(r.put_in.minor()),
                        rs(r.spent.minor()),
                        rs(r.outstanding.minor()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let entries = statement
        .as_ref()
        .map(|st| {
            st.entries
                .iter()
                .map(|e| {
                    (
                        e.date.clone(),
                        v.word(&format!("entry-{}", e.kind)),
                        e.role.clone(),
                        rs(e.amount.minor()),
                        e.receipt.clone().unwrap_or_default(),
                        e.purpose
                            .clone()
                            .or_else(|| e.payee.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let obligations_rows = state
        .store
        .obligations(Some(&i.id), Some(&id), None, 500, 0)
        .await?;
    let obligations = may_see(&arr, "obligations", &viewer).then(|| {
        obligations_rows
            .iter()
            .map(|o| obligation_view(&v, &arr, o, &s.name, &now))
            .collect::<Vec<_>>()
    });
    let timeline = if may_see(&arr, "events", &viewer) {
        Some(views::timeline(&state, &v, &arr, &i.id, &id).await?)
    } else {
        None
    };
    let meetings = s
        .meetings
        .values()
        .map(|m| {
            (
                m.held_on.clone(),
                v.words(&arr).say(Name::Partner(m.body.clone())),
                m.attendance.women,
                m.attendance.men,
                m.resolutions.len(),
            )
        })
        .collect();
    let photos = if may_see(&arr, photo_record(&arr), &viewer) {
        state
            .store
            .photos(&id)
            .await?
            .into_iter()
            .map(|p| (p.id, p.caption.unwrap_or_default()))
            .collect()
    } else {
        vec![]
    };
    let stages = stages_entered(&arr, &s)
        .into_iter()
        .map(|(st, at)| (v.stage(&st), day(&at)))
        .collect();
    let chart_money = statement
        .as_ref()
        .map(|st| charts::contributions(&v, st))
        .unwrap_or_default();
    let chart_progress = charts::progress(&v, &arr, &s);
    let chart_obligations = if obligations.is_some() {
        charts::obligations_on_time(&v, &arr, &obligations_rows, &now)
    } else {
        String::new()
    };
    page(SchemePage {
        c: &v,
        id: id.clone(),
        name: s.name.clone(),
        stage: v.stage(&s.stage),
        is_final: arr.is_final(&s.stage),
        stages,
        components: components(&v, &arr, &s, &partners),
        statement,
        statement_hidden,
        roles,
        entries,
        obligations,
        timeline,
        meetings,
        photos,
        chart_money,
        chart_progress,
        chart_obligations,
        i,
    })
}

/// The statement in plain international figures ("150000.00"), for
/// spreadsheets: exports never use lakh grouping.
pub async fn statement_csv(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let Some((row, _)) = state.store.scheme(&id).await? else {
        return Err(v.fail(ApiError::not_found(v.t1("error-no-scheme", "id", &id))));
    };
    let (i, arr, _) = service::resolve(&state, &row.initiative_id).await?;
    let viewer = viewer(&state, &v, &i.id).await?;
    let st = scheme_statement(&state, &arr, &id, &viewer)
        .await?
        .map_err(|why| v.fail(ApiError::forbidden(why)))?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"statement-{id}.csv\""),
            ),
        ],
        statement::to_csv(&st),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "arrangement.html")]
struct ArrangementPage<'a> {
    c: &'a Visitor,
    id: String,
    version: u32,
    summary: String,
    rules: Explanation,
}

pub async fn arrangement(
    v: Visitor,
    State(state): State<AppState>,
    Path((id, version)): Path<(String, u32)>,
) -> PageResult {
    let arr = state
        .arrangement(&id, version)
        .await
        .map_err(|e| v.fail(e))?;
    page(ArrangementPage {
        c: &v,
        id,
        version,
        summary: match arr.file.arrangement.summary.as_ref() {
            Some(english) => v.words(&arr).say(Name::Text {
                key: "summary".into(),
                english: english.clone(),
            }),
            None => String::new(),
        },
        rules: explain_in(&arr, &v.words(&arr)),
    })
}

pub struct MapPoint {
    pub id: String,
    pub name: String,
    pub initiative: String,
    pub stage: String,
    pub lat: f64,
    pub lon: f64,
}

/// Schemes with coordinates: a scheme sits at its initiative's point (the
/// engine records no per-scheme location yet).
async fn map_points(state: &AppState, v: &Visitor) -> Result<Vec<MapPoint>, ApiError> {
    let mut out = vec![];
    for i in state.store.initiatives(None, 1000, 0).await? {
        let (Some(lat), Some(lon)) = (i.latitude, i.longitude) else {
            continue;
        };
        for s in state.store.schemes(&i.id, 500, 0).await? {
            out.push(MapPoint {
                id: s.id,
                name: s.name,
                initiative: i.name.clone(),
                stage: v.stage(&s.stage),
                lat,
                lon,
            });
        }
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage<'a> {
    c: &'a Visitor,
    points: Vec<MapPoint>,
    sketch: String,
    tiles: String,
}

pub async fn map(
    v: Visitor,
    State(state): State<AppState>,
    Extension(config): Extension<PagesConfig>,
) -> PageResult {
    let points = map_points(&state, &v).await?;
    let sketch = charts::map_sketch(&v, &points);
    page(MapPage {
        c: &v,
        points,
        sketch,
        tiles: config.tile_url.unwrap_or_default(),
    })
}

/// Schemes as a GeoJSON FeatureCollection (RFC 7946: longitude first).
pub async fn geojson(v: Visitor, State(state): State<AppState>) -> PageResult {
    let points = map_points(&state, &v).await?;
    let features: Vec<serde_json::Value> = points
        .iter()
        .map(|p| {
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {"id": p.id, "name": p.name, "initiative": p.initiative, "stage": p.stage, "url": format!("/schemes/{}", p.id)},
            })
        })
        .collect();
    let body = serde_json::json!({"type": "FeatureCollection", "features": features});
    Ok(([(CONTENT_TYPE, "application/geo+json")], body.to_string()).into_response())
}

/// A progress photo, to those the information rules let see the scheme's
/// progress (`photos` if the arrangement names it, else `events`: a photo
/// belongs to the act that recorded it). Hidden from the public it is 403
/// with a page saying so; a signed-in partner without the right position
/// gets the same.
pub async fn photo(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let (scheme, ty, bytes) = state
        .store
        .photo(&id)
        .await?
        .ok_or_else(|| v.fail(ApiError::not_found(v.t("error-no-photo"))))?;
    let Some((row, _)) = state.store.scheme(&scheme).await? else {
        return Err(v.fail(ApiError::not_found(v.t("error-no-photo"))));
    };
    let (i, arr, _) = service::resolve(&state, &row.initiative_id).await?;
    let viewer = viewer(&state, &v, &i.id).await?;
    let record = photo_record(&arr);
    if !may_see(&arr, record, &viewer) {
        return Err(v.fail(ApiError::forbidden(v.t("error-photo-hidden"))));
    }
    // A photo is never changed under its id; only a public one may sit in
    // shared caches.
    let cache = if may_see(
        &arr,
        record,
        &saanjh_core::ledger::statement::Viewer::Public,
    ) {
        "public, max-age=31536000, immutable"
    } else {
        "private, max-age=3600"
    };
    Ok((
        [
            (CONTENT_TYPE, ty),
            (CACHE_CONTROL, cache.into()),
            (axum::http::header::VARY, "Cookie".into()),
        ],
        bytes,
    )
        .into_response())
}

/// Which information record decides who sees progress photos.
pub fn photo_record(arr: &saanjh_core::arrangement::Arrangement) -> &'static str {
    if arr.file.information.contains_key("photos") {
        "photos"
    } else {
        "events"
    }
}

#[derive(Debug, Deserialize)]
pub struct Back {
    #[serde(default)]
    back: Option<String>,
}

/// Remember a language in a cookie and go back where the visitor was.
pub async fn switch_lang(Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::En);
    // Only same-site paths: never `//host` or a full URL (open redirect).
    let back = q
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let (Ok(c), Ok(l)) = (HeaderValue::from_str(&cookie), HeaderValue::from_str(&back)) {
        r.headers_mut().insert(SET_COOKIE, c);
        r.headers_mut().insert(LOCATION, l);
    }
    r
}
