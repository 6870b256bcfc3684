//! Server-rendered HTML pages for every partner (issue 4): public pages for
//! citizens, signed-in pages for the people who act on schemes, and
//! administration pages — in English and Urdu (right-to-left).
//!
//! Invariants:
//! - Every page works with JavaScript off; the only script (the map's tiles)
//!   is progressive enhancement. Nothing is fetched from elsewhere at run
//!   time: CSS and script are embedded in the binary and served from
//!   `/assets` with cache headers; compression is applied to everything.
//! - Pages change nothing themselves: every act goes through
//!   `service::act`, every registration through the same `service` fns the
//!   JSON API uses, so the rules are decided in one place (the engine).
//! - Public pages show only what the arrangement's information rules make
//!   public; a signed-in partner sees what their positions allow.
//! - Every POST carries the session's CSRF token.

mod admin;
mod budgeting;
mod charts;
mod ctx;
mod diagnosis;
mod forms;
mod public;
mod reports;
mod signed;
mod views;
mod words;

use askama::Template;
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;

use crate::{ApiError, AppState};
/// Percent-encoding for a query-string value (links the API builds too).
pub use ctx::encode as encode_query;
pub use ctx::{Lang, Visitor};

/// Configuration read from the environment when the router is built.
#[derive(Debug, Clone, Default)]
pub struct PagesConfig {
    /// Tile URL template (`https://tiles.example/{z}/{x}/{y}.png`) for the
    /// map page; without it the map is an SVG sketch and a list.
    pub tile_url: Option<String>,
    /// Mark session cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
}

impl PagesConfig {
    pub fn from_env() -> PagesConfig {
        PagesConfig {
            tile_url: std::env::var("SAANJH_TILE_URL")
                .ok()
                .filter(|s| !s.trim().is_empty()),
            secure_cookies: std::env::var("SAANJH_SECURE_COOKIES").is_ok_and(|v| v == "1"),
        }
    }

    /// Pairs a form with the token in its hidden field (double submit) for a
    /// visitor who has no session yet: an hour-long, strict, script-proof
    /// cookie limited to the form's path.
    pub fn set_form_cookie(&self, resp: &mut Response, name: &str, token: &str, path: &str) {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        if let Ok(c) = HeaderValue::from_str(&format!(
            "{name}={token}; Path={path}; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
        )) {
            resp.headers_mut().append(axum::http::header::SET_COOKIE, c);
        }
    }
}

/// The pages, ready to merge into the application router.
pub fn router(state: AppState) -> Router {
    let config = PagesConfig::from_env();
    Router::new()
        .route("/", get(public::home))
        .route("/initiatives", get(public::initiatives))
        .route("/initiatives/{id}", get(public::initiative))
        .route("/initiatives/{id}/verify", get(public::verify))
        .route("/initiatives/{id}/diagnosis", get(diagnosis::diagnosis))
        .route("/compare", get(diagnosis::compare))
        .route("/compare/report", get(diagnosis::compare_report))
        .route("/qca", get(diagnosis::qca))
        .route("/initiatives/{id}/new", get(signed::new_scheme_form))
        .route(
            "/initiatives/{id}/acts/{action}",
            post(signed::create_scheme),
        )
        .route("/schemes/{id}", get(public::scheme))
        .route("/schemes/{id}/statement.csv", get(public::statement_csv))
        .route("/schemes/{id}/acts", get(signed::acts_page))
        .route("/schemes/{id}/acts/{action}", post(signed::perform))
        .route("/arrangements/{id}/{version}", get(public::arrangement))
        .route("/map", get(public::map))
        .route("/map.geojson", get(public::geojson))
        .route("/photos/{id}", get(public::photo))
        .route("/lang/{code}", get(public::switch_lang))
        .route("/login", get(signed::login_form).post(signed::login))
        .route("/logout", post(signed::logout))
        .route("/work", get(signed::work))
        .route("/admin", get(admin::index))
        .route("/admin/organisations", post(admin::organisation))
        .route("/admin/people", post(admin::person))
        .route("/admin/memberships", post(admin::membership))
        .route("/admin/users", post(admin::user))
        .route("/admin/initiatives", post(admin::initiative))
        .route("/assets/{name}", get(asset))
        .merge(reports::routes())
        .merge(budgeting::routes())
        .layer(axum::Extension(config))
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// The answer to a path nothing is routed to: the API's problem+json under
/// `/api`, otherwise a 404 page in the visitor's language.
pub async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("no such endpoint").into_response();
    }
    let (mut parts, _) = req.into_parts();
    match <Visitor as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &state,
    )
    .await
    {
        Ok(v) => {
            let mut e = v.fail(ApiError::not_found(v.t("error-no-page")));
            e.back = None;
            e.here = Some(v.path.clone());
            e.into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A page, or an error shown as a page.
pub type PageResult = Result<Response, PageError>;

/// An error shown as a small HTML page in the visitor's language.
#[derive(Debug)]
pub struct PageError {
    pub error: ApiError,
    pub lang: Lang,
    /// The page to go back to (the form's page), when known.
    pub back: Option<String>,
    /// The page asked for, for the language switch to return to.
    pub here: Option<String>,
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError {
            error,
            lang: Lang::En,
            back: None,
            here: None,
        }
    }
}

impl From<saanjh_store::StoreError> for PageError {
    fn from(e: saanjh_store::StoreError) -> PageError {
        ApiError::from(e).into()
    }
}

impl Visitor {
    /// An error for this visitor's language.
    pub fn fail(&self, error: impl Into<ApiError>) -> PageError {
        PageError {
            error: error.into(),
            lang: self.lang,
            back: Some(form_page(&self.path)).filter(|b| *b != self.path),
            here: Some(self.path.clone()),
        }
    }
}

/// The page a form was on, from the path it was posted to: an act's form
/// (`/schemes/x/acts/survey`) lives on `/schemes/x/acts`, an administration
/// form on `/admin`; anything else is its own page.
fn form_page(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    if let Some((page, _)) = path.rsplit_once('/')
        && (page.ends_with("/acts") || page == "/admin")
    {
        return page.to_string();
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::form_page;

    #[test]
    fn errors_lead_back_to_the_form() {
        assert_eq!(form_page("/schemes/x/acts/survey"), "/schemes/x/acts");
        assert_eq!(
            form_page("/initiatives/i/acts/request"),
            "/initiatives/i/acts"
        );
        assert_eq!(form_page("/admin/people"), "/admin");
        assert_eq!(form_page("/schemes/x?y=1"), "/schemes/x");
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: String,
    detail: &'a str,
    allowed_if: Option<&'a str>,
    rule: Option<&'a str>,
    lang: &'static str,
    dir: &'static str,
    home: String,
    sign_in: Option<String>,
    back: Option<String>,
    back_label: String,
    switch: String,
    switch_label: &'static str,
    switch_lang: &'static str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let l = self.lang;
        let p = &self.error.problem;
        let title = match status {
            StatusCode::NOT_FOUND => ctx::message(l, "error-not-found"),
            StatusCode::UNAUTHORIZED => ctx::message(l, "error-sign-in"),
            StatusCode::FORBIDDEN => ctx::message(l, "error-forbidden"),
            StatusCode::TOO_MANY_REQUESTS => ctx::message(l, "error-too-many"),
            s if s.is_client_error() => ctx::message(l, "error-refused"),
            _ => ctx::message(l, "error-server"),
        };
        let page = ErrorPage {
            title,
            detail: &p.detail,
            allowed_if: p.allowed_if.as_deref(),
            rule: p.rule.as_deref(),
            lang: l.code(),
            dir: if l == Lang::Ur { "rtl" } else { "ltr" },
            home: ctx::message(l, "nav-initiatives"),
            sign_in: (status == StatusCode::UNAUTHORIZED).then(|| ctx::message(l, "nav-login")),
            back_label: ctx::message(l, "go-back"),
            switch: format!(
                "/lang/{}?back={}",
                if l == Lang::Ur { "en" } else { "ur" },
                ctx::encode(
                    self.back
                        .as_deref()
                        .or(self.here.as_deref())
                        .unwrap_or("/initiatives")
                )
            ),
            switch_label: if l == Lang::Ur { "English" } else { "اردو" },
            switch_lang: if l == Lang::Ur { "en" } else { "ur" },
            back: self.back.clone(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title>".into());
        let mut r = (status, Html(body)).into_response();
        if let Some(s) = self.error.retry_after {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// Render a template as a page that may differ per visitor (language,
/// session), so shared caches must not keep it.
pub fn page(t: impl Template) -> PageResult {
    let body = t
        .render()
        .map_err(|e| ApiError::internal(format!("template: {e}")))?;
    let mut r = Html(body).into_response();
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    h.insert(VARY, HeaderValue::from_static("Cookie, Accept-Language"));
    Ok(r)
}

const CSS: &str = include_str!("../../assets/saanjh.css");
const MAP_JS: &str = include_str!("../../assets/map.js");

/// Embedded assets. Their URLs carry no version, so the cache lifetime is a
/// day rather than forever: a new release is picked up by the next day.
async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, ty) = match name.as_str() {
        "saanjh.css" => (CSS, "text/css; charset=utf-8"),
        "map.js" => (MAP_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [(CONTENT_TYPE, ty), (CACHE_CONTROL, "public, max-age=86400")],
        body,
    )
        .into_response()
}
