//! Signed-in pages: log in and out, "my work", and the forms for the acts
//! the rules allow this person at this stage (with, for the others, why
//! not). Every act goes through `service::act`, the API's own path.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use saanjh_core::engine::{self, Actor};
use serde::Deserialize;

use super::ctx::{PRE_COOKIE, SESSION_COOKIE, Visitor, constant_eq, cookie, encode};
use super::forms::{self, ActForm};
use super::views::{ObligationView, day, now_text, obligation_view};
use super::{PageResult, PagesConfig, page};
use crate::{ApiError, AppState, auth, service};

/// How long a sign-in lasts.
const SESSION_HOURS: i64 = 12;
/// Largest photo accepted before resizing.
const MAX_PHOTO_BYTES: usize = 6 * 1024 * 1024;
/// Longest side of a stored photo, in pixels: enough to see the works on a
/// phone, small enough for 3G.
const PHOTO_SIDE: u32 = 960;

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// Where to go after signing in: a same-site path only.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/work")
        .to_string()
}

fn redirect_to_login(v: &Visitor) -> Response {
    see_other(&format!("/login?next={}", encode(&v.path)))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: &'a Visitor,
    pre: String,
    next: String,
    error: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

fn login_page(
    v: &Visitor,
    config: &PagesConfig,
    next: String,
    error: String,
    status: StatusCode,
) -> PageResult {
    let pre = auth::new_token();
    let mut r = page(LoginPage {
        c: v,
        pre: pre.clone(),
        next,
        error,
    })?;
    *r.status_mut() = status;
    config.set_form_cookie(&mut r, PRE_COOKIE, &pre, "/login");
    Ok(r)
}

pub async fn login_form(
    v: Visitor,
    Extension(config): Extension<PagesConfig>,
    Query(q): Query<Next>,
) -> PageResult {
    login_page(
        &v,
        &config,
        safe_next(q.next.as_deref()),
        String::new(),
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginInput {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn login(
    v: Visitor,
    State(state): State<AppState>,
    Extension(config): Extension<PagesConfig>,
    headers: axum::http::HeaderMap,
    Form(input): Form<LoginInput>,
) -> PageResult {
    let next = safe_next(input.next.as_deref());
    // Double-submit: the form's token must equal the cookie set with it.
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or("");
    if pre.is_empty() || !constant_eq(pre.as_bytes(), input.csrf.as_bytes()) {
        return login_page(
            &v,
            &config,
            next,
            v.t("login-expired"),
            StatusCode::FORBIDDEN,
        );
    }
    let username = input.username.trim();
    auth::check_rate(&state, username).map_err(|e| v.fail(e))?;
    let user = state.store.user_by_name(username).await?;
    let ok = match &user {
        Some(u) => auth::verify_password(&input.password, &u.password_hash).await,
        None => {
            auth::verify_nobody(&input.password).await;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        auth::record_failure(&state, username);
        return login_page(
            &v,
            &config,
            next,
            v.t("login-wrong"),
            StatusCode::UNAUTHORIZED,
        );
    };
    auth::clear_failures(&state, username);
    let token = auth::new_token();
    let now = state.clock.now();
    state
        .store
        .create_session(
            &auth::token_hash(&token),
            &user.id,
            &auth::new_token(),
            &engine::rfc3339(now),
            &engine::rfc3339(now + time::Duration::hours(SESSION_HOURS)),
        )
        .await?;
    let mut r = see_other(&next);
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    if let Ok(c) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    )) {
        r.headers_mut().append(SET_COOKIE, c);
    }
    Ok(r)
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    v: Visitor,
    State(state): State<AppState>,
    Form(input): Form<CsrfOnly>,
) -> PageResult {
    if let Some(h) = &v.session_hash {
        v.check_csrf(&input.csrf).map_err(|e| v.fail(e))?;
        state.store.end_session(h, &now_text(&state)).await?;
    }
    let mut r = see_other("/");
    r.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("saanjh_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(r)
}

/// A scheme waiting for this person to act.
pub struct Waiting {
    pub scheme: String,
    pub scheme_name: String,
    pub initiative: String,
    pub stage: String,
    pub acts: Vec<String>,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage<'a> {
    c: &'a Visitor,
    positions: Vec<(String, String)>,
    due: Vec<ObligationView>,
    late: Vec<ObligationView>,
    waiting: Vec<Waiting>,
}

pub async fn work(v: Visitor, State(state): State<AppState>) -> PageResult {
    let Some(user) = v.user.as_ref() else {
        return Ok(redirect_to_login(&v));
    };
    let Some(person) = user.person_id.as_deref() else {
        // An administrator without a person has no positions: send them
        // to the administration page.
        return Ok(see_other("/admin"));
    };
    let now = state.clock.now();
    let now_t = engine::rfc3339(now);
    let mut positions = vec![];
    let (mut due, mut late, mut waiting) = (vec![], vec![], vec![]);
    for init_id in state.store.initiatives_of(person).await? {
        let (init, arr, _) = service::resolve(&state, &init_id).await?;
        let held = state.store.positions_of(&init.id, person).await?;
        let words = v.words(&arr);
        for p in &held {
            positions.push((
                init.name.clone(),
                words.say(saanjh_core::arrangement::words::Name::Position(p.clone())),
            ));
        }
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for o in state
            .store
            .obligations(Some(&init.id), None, Some("open"), 1000, 0)
            .await?
        {
            if !held.iter().any(|h| h == &o.position) {
                continue;
            }
            let name = match names.get(&o.scheme_id) {
                Some(n) => n.clone(),
                None => {
                    let n = state
                        .store
                        .scheme(&o.scheme_id)
                        .await?
                        .map(|(r, _)| r.name)
                        .unwrap_or_default();
                    names.insert(o.scheme_id.clone(), n.clone());
                    n
                }
            };
            let view = obligation_view(&v, &arr, &o, &name, &now_t);
            if view.status == "late" {
                late.push(view);
            } else {
                due.push(view);
            }
        }
        // Approvals and steps waiting: acts open to me that move a scheme on.
        let init_state = service::initiative_state(&state, &init.id, &arr).await?;
        let actor = Actor {
            person: person.to_string(),
            positions: held.clone(),
        };
        for (sid, stage) in state.store.scheme_stages(&init.id).await? {
            if arr.is_final(&stage) {
                continue;
            }
            let Some((row, s)) = state.store.scheme(&sid).await? else {
                continue;
            };
            let extra = service::ledger_facts(&arr, &s);
            let acts: Vec<String> =
                engine::available_acts(&arr, &init_state, &s, &actor, now, &extra)
                    .into_iter()
                    .filter(|(a, r)| r.is_ok() && arr.action(a).is_some_and(|d| d.is_transition()))
                    .map(|(a, _)| v.act_name(&arr, &a))
                    .collect();
            if !acts.is_empty() {
                waiting.push(Waiting {
                    scheme: sid,
                    scheme_name: row.name,
                    initiative: init.name.clone(),
                    stage: v.stage(&stage),
                    acts,
                });
            }
        }
    }
    page(WorkPage {
        c: &v,
        positions,
        due,
        late,
        waiting,
    })
}

#[derive(Template)]
#[template(path = "acts.html")]
struct ActsPage<'a> {
    c: &'a Visitor,
    id: String,
    name: String,
    stage: String,
    forms: Vec<ActForm>,
    action_url: String,
    refused: Vec<(String, String, String)>,
    elsewhere: Vec<String>,
    done: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// The acts this person may take on this scheme now, as forms; the others
/// with the rule that stands in the way.
pub async fn acts_page(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(redirect_to_login(&v));
    }
    let person = v.person().map_err(|e| v.fail(e))?.to_string();
    let (init, arr, scheme) = service::resolve(&state, &id).await?;
    let Some(s) = scheme else {
        return Err(v.fail(ApiError::not_found(format!("no scheme `{id}`"))));
    };
    let held = state.store.positions_of(&init.id, &person).await?;
    let mut init_state = service::initiative_state(&state, &init.id, &arr).await?;
    let now = state.clock.now();
    init_state.ledger = state
        .store
        .initiative_ledger(&init.id, &arr, now.date(), &[], &[])
        .await?;
    let reversible = state.store.reversible_entries(&s.id, 200).await?;
    let actor = Actor {
        person: person.clone(),
        positions: held.clone(),
    };
    let extra = service::ledger_facts(&arr, &s);
    let today = day(&engine::rfc3339(now));
    let words = v.words(&arr);
    let mut forms_ = vec![];
    let mut refused = vec![];
    let mut elsewhere = vec![];
    for (a, r) in engine::available_acts(&arr, &init_state, &s, &actor, now, &extra) {
        match r {
            // Acts recording something these pages have no form for yet
            // (scorecards, responses to reports) are listed, not offered as
            // a form that could only be refused.
            Ok(()) if !forms::has_page_form(arr.action(&a).and_then(|d| d.records)) => {
                elsewhere.push(v.act_name(&arr, &a))
            }
            Ok(()) => forms_.push(forms::act_form(
                &v,
                &arr,
                &a,
                Some(&s),
                &reversible,
                &held,
                &today,
            )),
            Err(why) => {
                // The refusal in the visitor's language where the engine
                // gave it as sentences; malformed-input refusals stay as
                // the engine worded them.
                let (message, allowed) = match &why.words {
                    Some(w) => (words.line(&w.message), words.line(&w.allowed_if)),
                    None => (why.message, why.allowed_if),
                };
                refused.push((v.act_name(&arr, &a), message, allowed))
            }
        }
    }
    let done = q
        .done
        .as_deref()
        .map(|a| v.act_name(&arr, a))
        .unwrap_or_default();
    page(ActsPage {
        c: &v,
        id,
        name: s.name.clone(),
        stage: v.stage(&s.stage),
        forms: forms_,
        action_url: format!("/schemes/{}/acts", s.id),
        refused,
        elsewhere,
        done,
    })
}

/// A submitted form: its text fields and an optional photo.
async fn read_form(
    mut mp: Multipart,
) -> Result<(BTreeMap<String, String>, Option<Vec<u8>>), ApiError> {
    let mut form = BTreeMap::new();
    let mut photo = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("the form could not be read: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "photo" {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::bad_request(format!("the photo could not be read: {e}")))?;
            if bytes.len() > MAX_PHOTO_BYTES {
                return Err(ApiError::unprocessable("the photo is larger than 6 MB"));
            }
            if !bytes.is_empty() {
                photo = Some(bytes.to_vec());
            }
        } else {
            let value = field
                .text()
                .await
                .map_err(|e| ApiError::bad_request(format!("the form could not be read: {e}")))?;
            form.insert(name, value);
        }
    }
    Ok((form, photo))
}

/// Shrink a photo to at most `PHOTO_SIDE` pixels on its longest side and
/// store it as JPEG; whatever was uploaded, only our re-encoding is kept.
async fn resize_photo(bytes: Vec<u8>) -> Result<Vec<u8>, ApiError> {
    tokio::task::spawn_blocking(move || {
        let img = image::load_from_memory(&bytes).map_err(|e| {
            ApiError::unprocessable(format!("the photo is not a JPEG or PNG image: {e}"))
        })?;
        let img = if img.width() > PHOTO_SIDE || img.height() > PHOTO_SIDE {
            img.thumbnail(PHOTO_SIDE, PHOTO_SIDE)
        } else {
            img
        };
        let rgb = image::DynamicImage::ImageRgb8(img.to_rgb8());
        let mut out = vec![];
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75);
        rgb.write_with_encoder(enc)
            .map_err(|e| ApiError::internal(format!("cannot encode the photo: {e}")))?;
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
}

pub async fn perform(
    v: Visitor,
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    mp: Multipart,
) -> PageResult {
    if v.user.is_none() {
        return Ok(redirect_to_login(&v));
    }
    let (form, photo) = read_form(mp).await.map_err(|e| v.fail(e))?;
    v.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))
        .map_err(|e| v.fail(e))?;
    let person = v.person().map_err(|e| v.fail(e))?.to_string();
    let (_, arr, scheme) = service::resolve(&state, &id).await?;
    if scheme.is_none() {
        return Err(v.fail(ApiError::not_found(format!("no scheme `{id}`"))));
    }
    let mut act = forms::to_act(&arr, &action, &form).map_err(|e| v.fail(e))?;
    // The photo is checked and resized before the act, so a bad photo
    // changes nothing; the act's note names it, so the event log carries
    // the reference.
    let photo = match photo {
        Some(b) => Some(resize_photo(b).await.map_err(|e| v.fail(e))?),
        None => None,
    };
    let photo_id = photo.as_ref().map(|_| service::new_id());
    if let Some(pid) = &photo_id {
        let note = act.note.take().unwrap_or_default();
        act.note = Some(format!("{note} [photo /photos/{pid}]").trim().to_string());
    }
    let out = service::act(&state, &id, &person, act)
        .await
        .map_err(|e| v.fail(e))?;
    if let (Some(pid), Some(bytes)) = (photo_id, photo) {
        state
            .store
            .add_photo(
                &pid,
                &out.scheme,
                &person,
                "image/jpeg",
                &bytes,
                form.get("caption")
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty()),
                &now_text(&state),
            )
            .await?;
    }
    Ok(see_other(&format!(
        "/schemes/{}/acts?done={}",
        out.scheme,
        encode(&action)
    )))
}

#[derive(Template)]
#[template(path = "new_scheme.html")]
struct NewSchemePage<'a> {
    c: &'a Visitor,
    initiative: String,
    initiative_name: String,
    forms: Vec<ActForm>,
    action_url: String,
}

pub async fn new_scheme_form(
    v: Visitor,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    if v.user.is_none() {
        return Ok(redirect_to_login(&v));
    }
    let person = v.person().map_err(|e| v.fail(e))?.to_string();
    let (init, arr, _) = service::resolve(&state, &id).await?;
    let Some((action, _)) = arr.creating_action() else {
        return Err(v.fail(ApiError::not_found("this arrangement creates no schemes")));
    };
    let held: BTreeSet<String> = state.store.positions_of(&init.id, &person).await?;
    let today = day(&now_text(&state));
    let form = forms::act_form(&v, &arr, action, None, &[], &held, &today);
    page(NewSchemePage {
        c: &v,
        initiative: init.id.clone(),
        initiative_name: init.name.clone(),
        forms: vec![form],
        action_url: format!("/initiatives/{}/acts", init.id),
    })
}

pub async fn create_scheme(
    v: Visitor,
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    mp: Multipart,
) -> PageResult {
    if v.user.is_none() {
        return Ok(redirect_to_login(&v));
    }
    let (form, _) = read_form(mp).await.map_err(|e| v.fail(e))?;
    v.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))
        .map_err(|e| v.fail(e))?;
    let person = v.person().map_err(|e| v.fail(e))?.to_string();
    let (init, arr, _) = service::resolve(&state, &id).await?;
    let act = forms::to_act(&arr, &action, &form).map_err(|e| v.fail(e))?;
    let out = service::act(&state, &init.id, &person, act)
        .await
        .map_err(|e| v.fail(e))?;
    Ok(see_other(&format!(
        "/schemes/{}/acts?done={}",
        out.scheme,
        encode(&action)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn photos_are_shrunk_and_reencoded_as_jpeg() {
        let big = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            2000,
            1000,
            image::Rgb([120, 90, 60]),
        ));
        let mut png = std::io::Cursor::new(vec![]);
        big.write_to(&mut png, image::ImageFormat::Png)
            .expect("png");
        let out = resize_photo(png.into_inner()).await.expect("resized");
        assert_eq!(
            image::guess_format(&out).expect("format"),
            image::ImageFormat::Jpeg
        );
        let back = image::load_from_memory(&out).expect("decodes");
        assert_eq!((back.width(), back.height()), (PHOTO_SIDE, PHOTO_SIDE / 2));
    }

    #[tokio::test]
    async fn a_file_that_is_not_an_image_is_refused() {
        let e = resize_photo(b"GIF89a not really".to_vec())
            .await
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn sign_in_returns_only_to_this_site() {
        assert_eq!(safe_next(Some("/schemes/x/acts")), "/schemes/x/acts");
        assert_eq!(safe_next(Some("//evil.example/")), "/work");
        assert_eq!(safe_next(Some("https://evil.example/")), "/work");
        assert_eq!(safe_next(Some("/\\evil.example")), "/work");
        assert_eq!(safe_next(None), "/work");
    }
}
