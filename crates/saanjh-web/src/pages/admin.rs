//! Administration pages for the platform administrator: register
//! organisations, people, memberships and users, and start an initiative
//! under a stored arrangement version. Each form calls the same `service`
//! function as the JSON API.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use saanjh_core::model::{Gender, OrgKind};
use serde::Deserialize;

use super::ctx::{Visitor, encode};
use super::{PageResult, page};
use crate::{ApiError, AppState, service};

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    c: &'a Visitor,
    orgs: Vec<saanjh_store::OrganisationRow>,
    people: Vec<saanjh_store::PersonRow>,
    arrangements: Vec<(String, i64)>,
    roles: Vec<(String, String)>,
    done: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

pub async fn index(v: Visitor, State(state): State<AppState>, Query(q): Query<Done>) -> PageResult {
    if v.user.is_none() {
        let mut r = StatusCode::SEE_OTHER.into_response();
        if let Ok(l) = HeaderValue::from_str(&format!("/login?next={}", encode(&v.path))) {
            r.headers_mut().insert(LOCATION, l);
        }
        return Ok(r);
    }
    v.require_admin().map_err(|e| v.fail(e))?;
    let arrangements: Vec<(String, i64)> = state
        .store
        .arrangements()
        .await?
        .into_iter()
        .map(|(id, ver, _, _)| (id, ver))
        .collect();
    // Every partner role any stored arrangement names, for the initiative form.
    let mut roles: BTreeMap<String, String> = BTreeMap::new();
    for (id, ver) in &arrangements {
        let arr = state.arrangement(id, *ver as u32).await?;
        for (role, p) in &arr.file.partners {
            roles.entry(role.clone()).or_insert_with(|| p.name.clone());
        }
    }
    page(AdminPage {
        c: &v,
        orgs: state.store.organisations(1000, 0).await?,
        people: state.store.people(1000, 0).await?,
        arrangements,
        roles: roles.into_iter().collect(),
        done: q
            .done
            .map(|d| v.t(&format!("admin-done-{d}")))
            .unwrap_or_default(),
    })
}

fn back(done: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(l) = HeaderValue::from_str(&format!("/admin?done={done}")) {
        r.headers_mut().insert(LOCATION, l);
    }
    r
}

/// Check the session, its CSRF token and the administrator role.
fn admin(v: &Visitor, form: &BTreeMap<String, String>) -> Result<String, ApiError> {
    v.require_admin()?;
    v.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    Ok(v.actor())
}

fn field(form: &BTreeMap<String, String>, k: &str) -> String {
    form.get(k)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn opt(form: &BTreeMap<String, String>, k: &str) -> Option<String> {
    Some(field(form, k)).filter(|s| !s.is_empty())
}

pub async fn organisation(
    v: Visitor,
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> PageResult {
    let actor = admin(&v, &form).map_err(|e| v.fail(e))?;
    let kind: OrgKind = serde_json::from_value(serde_json::Value::String(field(&form, "kind")))
        .map_err(|_| v.fail(ApiError::unprocessable("choose the organisation's kind")))?;
    service::register_organisation(
        &state,
        &actor,
        service::NewOrganisation {
            name: field(&form, "name"),
            kind,
            district: opt(&form, "district"),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(back("organisation"))
}

pub async fn person(
    v: Visitor,
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> PageResult {
    let actor = admin(&v, &form).map_err(|e| v.fail(e))?;
    let gender: Option<Gender> = opt(&form, "gender")
        .map(|g| serde_json::from_value(serde_json::Value::String(g)))
        .transpose()
        .map_err(|_| v.fail(ApiError::unprocessable("gender is female, male or other")))?;
    service::register_person(
        &state,
        &actor,
        service::NewPerson {
            name: field(&form, "name"),
            gender,
            elected: form.contains_key("elected"),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(back("person"))
}

pub async fn membership(
    v: Visitor,
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> PageResult {
    let actor = admin(&v, &form).map_err(|e| v.fail(e))?;
    service::grant_membership(
        &state,
        &actor,
        service::NewMembership {
            person: field(&form, "person"),
            organisation: field(&form, "organisation"),
            position: field(&form, "position"),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(back("membership"))
}

pub async fn user(
    v: Visitor,
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> PageResult {
    admin(&v, &form).map_err(|e| v.fail(e))?;
    service::create_user(
        &state,
        service::NewUser {
            username: field(&form, "username"),
            password: form.get("password").cloned().unwrap_or_default(),
            person_id: opt(&form, "person"),
            is_admin: form.contains_key("is_admin"),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    Ok(back("user"))
}

pub async fn initiative(
    v: Visitor,
    State(state): State<AppState>,
    Form(form): Form<BTreeMap<String, String>>,
) -> PageResult {
    let actor = admin(&v, &form).map_err(|e| v.fail(e))?;
    let (arrangement, version) = field(&form, "arrangement")
        .split_once('@')
        .and_then(|(a, ver)| Some((a.to_string(), ver.parse::<u32>().ok()?)))
        .ok_or_else(|| v.fail(ApiError::unprocessable("choose an arrangement version")))?;
    let partners = form
        .iter()
        .filter_map(|(k, val)| {
            let role = k.strip_prefix("partner_")?;
            let org = val.trim();
            (!org.is_empty()).then(|| (role.to_string(), org.to_string()))
        })
        .collect();
    let coord = |k: &str| -> Result<Option<f64>, PageError> {
        opt(&form, k)
            .map(|s| s.parse::<f64>())
            .transpose()
            .map_err(|_| v.fail(ApiError::unprocessable(format!("`{k}` must be a number"))))
    };
    let record = service::start_initiative(
        &state,
        &actor,
        service::NewInitiative {
            name: field(&form, "name"),
            locality: field(&form, "locality"),
            district: field(&form, "district"),
            arrangement,
            version,
            partners,
            latitude: coord("latitude")?,
            longitude: coord("longitude")?,
            demo: form.contains_key("demo"),
        },
    )
    .await
    .map_err(|e| v.fail(e))?;
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(l) = HeaderValue::from_str(&format!("/initiatives/{}", record.id)) {
        r.headers_mut().insert(LOCATION, l);
    }
    Ok(r)
}

use super::PageError;
