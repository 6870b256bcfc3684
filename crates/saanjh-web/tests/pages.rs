//! The pages over HTTP without a browser (the browser scenario is
//! `tests/browser.rs`): who may see a progress photo, what an unknown path
//! answers, and the Urdu pages free of English arrangement text. The real
//! server on an ephemeral port, a fresh database per test, on SQLite and
//! (when `SAANJH_TEST_POSTGRES_URL` is set) PostgreSQL.

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use saanjh_core::engine::{Act, ComponentInput};
use saanjh_core::model::{Gender, OrgKind};
use saanjh_store::Store;
use saanjh_web::service::{
    self, NewInitiative, NewMembership, NewOrganisation, NewPerson, NewUser,
};
use saanjh_web::{AppState, SystemClock};

use common::{Db, postgres_db, sqlite_db};

const PASSWORD: &str = "pages-test-password";

struct App {
    root: String,
    state: AppState,
    http: reqwest::Client,
}

/// A response as a browser would get it (no redirects followed).
struct Got {
    status: u16,
    content_type: String,
    cache: String,
    body: Vec<u8>,
}

impl Got {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An initiative under `arrangement` with a lane treasurer (user
/// `treasurer`), a scheme she requested, and a progress photo on it.
struct Lane {
    initiative: String,
    scheme: String,
    photo: String,
}

impl App {
    async fn start(db: &Db) -> App {
        let store = Store::connect(&db.url).await.expect("connect");
        let state = AppState::new(store, Arc::new(SystemClock));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let root = format!("http://{}", listener.local_addr().expect("addr"));
        service::ensure_built_in_arrangements(&state)
            .await
            .expect("built-in arrangements");
        tokio::spawn(saanjh_web::serve_on(listener, state.clone()));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        App { root, state, http }
    }

    async fn get(&self, path: &str, cookie: &str) -> Got {
        let mut r = self.http.get(format!("{}{path}", self.root));
        if !cookie.is_empty() {
            r = r.header("cookie", cookie);
        }
        let res = r.send().await.expect("get");
        let h = |k: &str| {
            res.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let (status, content_type, cache) =
            (res.status().as_u16(), h("content-type"), h("cache-control"));
        Got {
            status,
            content_type,
            cache,
            body: res.bytes().await.expect("body").to_vec(),
        }
    }

    /// Sign in through the login form; the session cookie to send back.
    async fn sign_in(&self, user: &str) -> String {
        let page = self
            .http
            .get(format!("{}/login", self.root))
            .send()
            .await
            .expect("login page");
        let pre = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("saanjh_pre="))
            .and_then(|c| c.split(';').next())
            .expect("pre-session cookie")
            .to_string();
        let res = self
            .http
            .post(format!("{}/login", self.root))
            .header("cookie", format!("saanjh_pre={pre}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username={user}&password={PASSWORD}&csrf={pre}"))
            .send()
            .await
            .expect("login");
        assert_eq!(res.status().as_u16(), 303, "{user} signs in");
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("saanjh_session="))
            .and_then(|c| c.split(';').next())
            .map(|c| format!("saanjh_session={c}"))
            .expect("session cookie")
    }

    /// A lane under `arrangement` (stored from `source` when given).
    async fn lane(&self, tag: &str, source: Option<&str>) -> Lane {
        let s = &self.state;
        let a = "admin-seed";
        let arrangement = match source {
            Some(text) => service::store_arrangement(s, a, text)
                .await
                .expect("arrangement")
                .id()
                .to_string(),
            None => "component-sharing".into(),
        };
        let org = |name: String, kind| NewOrganisation {
            name,
            kind,
            district: Some("Rawalpindi".into()),
        };
        let lane =
            service::register_organisation(s, a, org(format!("{tag} lane"), OrgKind::Community))
                .await
                .expect("lane");
        let tma = service::register_organisation(s, a, org(format!("{tag} TMA"), OrgKind::Public))
            .await
            .expect("tma");
        let ngo =
            service::register_organisation(s, a, org(format!("{tag} NGO"), OrgKind::ThirdSector))
                .await
                .expect("ngo");
        let mut treasurer = String::new();
        for n in 0..5 {
            let p = service::register_person(
                s,
                a,
                NewPerson {
                    name: format!("{tag} resident {n}"),
                    gender: Some(Gender::Female),
                    elected: false,
                },
            )
            .await
            .expect("person");
            let position = if n == 0 { "treasurer" } else { "resident" };
            service::grant_membership(
                s,
                a,
                NewMembership {
                    person: p.id.clone(),
                    organisation: lane.id.clone(),
                    position: position.into(),
                },
            )
            .await
            .expect("membership");
            if n == 0 {
                treasurer = p.id;
            }
        }
        service::create_user(
            s,
            NewUser {
                username: format!("{tag}-treasurer"),
                password: PASSWORD.into(),
                person_id: Some(treasurer.clone()),
                is_admin: false,
            },
        )
        .await
        .expect("user");
        let init = service::start_initiative(
            s,
            a,
            NewInitiative {
                name: format!("{tag} sanitation"),
                locality: "Dhoke Hassu".into(),
                district: "Rawalpindi".into(),
                arrangement,
                version: 1,
                partners: BTreeMap::from([
                    ("community".to_string(), lane.id),
                    ("government".to_string(), tma.id),
                    ("ngo".to_string(), ngo.id),
                ]),
                latitude: None,
                longitude: None,
                demo: true,
            },
        )
        .await
        .expect("initiative");
        let out = service::act(
            s,
            &init.id,
            &treasurer,
            Act {
                action: "request".into(),
                name: Some(format!("{tag} street 3")),
                components: ["lane_sewer", "trunk_sewer"]
                    .iter()
                    .map(|k| ComponentInput {
                        kind: k.to_string(),
                        description: None,
                        estimate: None,
                    })
                    .collect(),
                ..Act::default()
            },
        )
        .await
        .expect("request");
        // A photo as the act form stores it (already resized to JPEG).
        let photo = format!("{tag}-photo");
        s.store
            .add_photo(
                &photo,
                &out.scheme,
                &treasurer,
                "image/jpeg",
                b"\xff\xd8\xff\xe0 not really a jpeg",
                Some("lane before works"),
                "2026-01-05T09:00:00Z",
            )
            .await
            .expect("photo");
        Lane {
            initiative: init.id,
            scheme: out.scheme,
            photo,
        }
    }
}

/// Component sharing with progress kept among partners: the same file under
/// another id, `events = "partners"`.
fn private_progress() -> String {
    let text = saanjh_core::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(name, _)| name.contains("component-sharing"))
        .map(|(_, t)| *t)
        .expect("component-sharing is built in");
    let out = text
        .replacen("id = \"component-sharing\"", "id = \"lane-private\"", 1)
        .replacen("events = \"public\"", "events = \"partners\"", 1);
    assert!(out.contains("lane-private") && out.contains("events = \"partners\""));
    out
}

async fn photos_follow_the_information_rules(app: App) {
    // Progress public: anyone sees the photo, and shared caches may keep it.
    let open = app.lane("open", None).await;
    let g = app.get(&format!("/photos/{}", open.photo), "").await;
    assert_eq!(g.status, 200);
    assert_eq!(g.content_type, "image/jpeg");
    assert!(g.cache.starts_with("public"), "{}", g.cache);
    assert!(g.body.starts_with(b"\xff\xd8"));
    let page = app.get(&format!("/schemes/{}", open.scheme), "").await;
    assert!(page.text().contains(&format!("/photos/{}", open.photo)));

    // Progress among partners only: the public gets a 403 page (no bytes),
    // and the scheme page does not link the photo.
    let closed = app.lane("closed", Some(&private_progress())).await;
    let g = app.get(&format!("/photos/{}", closed.photo), "").await;
    assert_eq!(g.status, 403);
    assert!(
        g.content_type.starts_with("text/html"),
        "{}",
        g.content_type
    );
    assert!(!g.body.starts_with(b"\xff\xd8"));
    assert!(g.text().contains("only to its partners"), "{}", g.text());
    let page = app.get(&format!("/schemes/{}", closed.scheme), "").await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains(&format!("/photos/{}", closed.photo)));

    // A partner of that initiative sees it, kept out of shared caches.
    let own = app.sign_in("closed-treasurer").await;
    let g = app.get(&format!("/photos/{}", closed.photo), &own).await;
    assert_eq!(g.status, 200);
    assert!(g.cache.starts_with("private"), "{}", g.cache);
    let page = app.get(&format!("/schemes/{}", closed.scheme), &own).await;
    assert!(page.text().contains(&format!("/photos/{}", closed.photo)));

    // Signed in, but holding no position in that initiative: refused too.
    let other = app.sign_in("open-treasurer").await;
    let g = app.get(&format!("/photos/{}", closed.photo), &other).await;
    assert_eq!(g.status, 403);
    assert!(!closed.initiative.is_empty());

    // No such photo.
    assert_eq!(app.get("/photos/no-such-photo", "").await.status, 404);
}
both!(photos_follow_the_information_rules);

async fn unknown_paths_get_a_page_in_the_visitors_language(app: App) {
    for path in [
        "/no-such-page",
        "/schemes/999999",
        "/initiatives/999999",
        "/a/b/c?x=1",
    ] {
        let g = app.get(path, "").await;
        assert_eq!(g.status, 404, "{path}");
        assert!(
            g.content_type.starts_with("text/html"),
            "{path}: {}",
            g.content_type
        );
        let t = g.text();
        assert!(t.contains("<html lang=\"en\" dir=\"ltr\">"), "{path}: {t}");
        assert!(t.contains("Not found"), "{path}");
        // The language switch comes back to the same address.
        assert!(
            t.contains(&format!(
                "/lang/ur?back={}",
                path.split('?').next().unwrap_or(path)
            )),
            "{path}: {t}"
        );
        let ur = app.get(path, "lang=ur").await;
        assert_eq!(ur.status, 404);
        let t = ur.text();
        assert!(t.contains("<html lang=\"ur\" dir=\"rtl\">"), "{path}: {t}");
        assert!(t.contains("نہیں ملا"), "{path}");
    }
    // The API and Open311 keep their own formats.
    let g = app.get("/api/v1/no-such-endpoint", "").await;
    assert_eq!(g.status, 404);
    assert_eq!(g.content_type, "application/problem+json");
    let g = app.get("/api/v1/schemes/999999", "").await;
    assert_eq!(g.status, 404);
    assert_eq!(g.content_type, "application/problem+json");
    let g = app.get("/open311/v2/no-such-endpoint.json", "").await;
    assert_eq!(g.status, 404);
    assert!(
        g.content_type.starts_with("application/json"),
        "{}",
        g.content_type
    );
    let g = app.get("/open311/v2/requests/999999.xml", "").await;
    assert_eq!(g.status, 404);
    assert!(g.content_type.contains("xml"), "{}", g.content_type);
}
both!(unknown_paths_get_a_page_in_the_visitors_language);

/// The text of the element that starts at `start` up to `end`, without
/// tags and without `code` spans (ids and conditions stay as written).
fn words_between(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in the page"));
    let rest = &html[from..];
    let part = &rest[..rest.find(end).unwrap_or(rest.len())];
    let mut text = String::new();
    let mut in_tag = false;
    for ch in part.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    // Drop `code` spans.
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a page marks any fragment as English, apart from the link that
/// switches to English (which is, rightly, in English).
fn english_fragment(html: &str) -> bool {
    html.replace("lang=\"en\" hreflang=\"en\"", "")
        .contains("lang=\"en\"")
}

/// English words (two Latin letters or more) left in a text.
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 2)
        .map(str::to_string)
        .collect()
}

async fn urdu_pages_carry_no_english_arrangement_text(app: App) {
    let lane = app.lane("urdu", None).await;
    let ur = "lang=ur";
    // Every built-in arrangement, explained in Urdu: not one English word
    // outside the `code` of ids and conditions.
    for id in [
        "component-sharing",
        "cost-sharing",
        "community-managed-water",
    ] {
        let g = app.get(&format!("/arrangements/{id}/1"), ur).await;
        assert_eq!(g.status, 200);
        let html = g.text();
        assert!(html.contains("<html lang=\"ur\" dir=\"rtl\">"));
        let rules = words_between(&html, "<div id=\"rules\">", "</main>");
        let left = latin_words(&rules);
        assert!(
            left.is_empty(),
            "{id}: English left in Urdu rules: {left:?}"
        );
        assert!(
            rules.contains("ذمہ داری") || rules.contains("اجازت"),
            "{id}"
        );
    }
    // The initiative page: its rules, partners and arrangement name.
    let html = app
        .get(&format!("/initiatives/{}", lane.initiative), ur)
        .await
        .text();
    assert!(!english_fragment(&html), "{html}");
    let rules = words_between(&html, "<div id=\"rules\">", "</main>");
    assert!(latin_words(&rules).is_empty(), "{:?}", latin_words(&rules));
    assert!(
        html.contains("حصوں کی تقسیم سے گلی کی صفائی"),
        "the arrangement's name"
    );
    assert!(
        html.contains("بلدیہ (ٹاؤن میونسپل ایڈمنسٹریشن)"),
        "a partner role"
    );
    assert!(
        rules.contains("لین مینیجر — اجازت: سامان کی خریداری اور تعمیر کا آغاز"),
        "{rules}"
    );
    // The scheme page: components and obligations in Urdu.
    let html = app
        .get(&format!("/schemes/{}", lane.scheme), ur)
        .await
        .text();
    assert!(!english_fragment(&html), "{html}");
    assert!(html.contains("گلی کا سیوریج"), "a component's name");
    assert!(html.contains("انجینئر (این جی او)"), "who owes the survey");
    assert!(
        html.contains("گلی کا سروے اور لیول کی جانچ"),
        "the survey, owed"
    );
    // The acts page: why the other acts are not hers, in Urdu.
    let own = app.sign_in("urdu-treasurer").await;
    let html = app
        .get(
            &format!("/schemes/{}/acts", lane.scheme),
            &format!("{own}; {ur}"),
        )
        .await
        .text();
    assert!(!english_fragment(&html), "{html}");
    let refused = words_between(&html, "<ul id=\"refused\">", "</ul>");
    assert!(!refused.trim().is_empty());
    assert!(latin_words(&refused).is_empty(), "{refused}");
    assert!(refused.contains("یہ کام صرف یہ کر سکتے ہیں"), "{refused}");
    // The same page in English still says it in English.
    let html = app
        .get(&format!("/schemes/{}/acts", lane.scheme), &own)
        .await
        .text();
    assert!(html.contains("Only the NGO engineer (rule"), "{html}");
}
both!(urdu_pages_carry_no_english_arrangement_text);
