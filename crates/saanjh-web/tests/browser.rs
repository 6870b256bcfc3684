//! The pages in a real browser: this starts the real server on an ephemeral
//! port with a fresh SQLite database seeded through the `service` fns, then
//! runs `node --test` in `tests/browser/` (playwright-core driving Debian's
//! chromium). Without chromium or `tests/browser/node_modules` (a fresh
//! clone) the browser part prints SKIP and passes; `.ci/run` installs both.
//!
//! The page-weight and no-JavaScript checks here need no browser: every main
//! page is fetched with `Accept-Encoding: gzip` and must be under 30 KB as
//! sent, and public pages must offer no form that changes anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use saanjh_core::model::{Gender, OrgKind};
use saanjh_store::Store;
use saanjh_web::service::{
    self, NewInitiative, NewMembership, NewOrganisation, NewPerson, NewUser,
};
use saanjh_web::{AppState, SystemClock};

const PASSWORD: &str = "browser-test-pw";
const PAGE_BUDGET: usize = 30 * 1024;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Seeded {
    base: String,
    initiative: String,
    _dir: tempfile::TempDir,
}

/// A lane organisation with enough members to qualify, a TMA, an NGO, and
/// the people of the scenario, each holding only the position their real
/// role has (domain.md §2): the three users — the lane's treasurer
/// (`treasurer`), the NGO's social organiser (`organiser`), the TMA's
/// municipal engineer (`engineer`) — and the two whose acts the
/// arrangement gives to no one else: the lane manager (`manager`: confirms
/// the lane's money, buys materials and starts the works, completes the
/// internal works, signs the handover — AHKMT's "line manager") and the
/// NGO's engineer (`ngo-engineer`: surveys, estimates, inspects — the
/// technical staff of steps 2–4 and 8).
async fn seed_and_serve() -> Seeded {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("pages.db").display());
    let store = Store::connect(&url).await.expect("store");
    let state = AppState::new(store, Arc::new(SystemClock));
    service::ensure_built_in_arrangements(&state)
        .await
        .expect("arrangements");
    let a = "admin-seed";
    let org = |name: &str, kind: OrgKind| NewOrganisation {
        name: name.into(),
        kind,
        district: Some("Rawalpindi".into()),
    };
    let lane = service::register_organisation(
        &state,
        a,
        org("Street 12 lane organisation", OrgKind::Community),
    )
    .await
    .expect("lane");
    let tma = service::register_organisation(&state, a, org("Rawalpindi TMA", OrgKind::Public))
        .await
        .expect("tma");
    let ngo = service::register_organisation(&state, a, org("AHKMT", OrgKind::ThirdSector))
        .await
        .expect("ngo");
    let person = |name: &str, gender| NewPerson {
        name: name.into(),
        gender: Some(gender),
        elected: false,
    };
    let grant = |p: &str, o: &str, pos: &str| NewMembership {
        person: p.into(),
        organisation: o.into(),
        position: pos.into(),
    };
    let treasurer = service::register_person(&state, a, person("Nasreen Bibi", Gender::Female))
        .await
        .expect("person");
    service::grant_membership(&state, a, grant(&treasurer.id, &lane.id, "treasurer"))
        .await
        .expect("membership");
    let manager = service::register_person(&state, a, person("Abdul Sattar", Gender::Male))
        .await
        .expect("lane manager");
    service::grant_membership(&state, a, grant(&manager.id, &lane.id, "lane_manager"))
        .await
        .expect("membership");
    for (n, name) in [
        "Muhammad Aslam",
        "Parveen Akhtar",
        "Ghulam Rasool",
        "Zahida Bibi",
    ]
    .iter()
    .enumerate()
    {
        let g = if n % 2 == 0 {
            Gender::Male
        } else {
            Gender::Female
        };
        let p = service::register_person(&state, a, person(name, g))
            .await
            .expect("resident");
        service::grant_membership(&state, a, grant(&p.id, &lane.id, "resident"))
            .await
            .expect("membership");
    }
    let organiser = service::register_person(&state, a, person("Imran Qureshi", Gender::Male))
        .await
        .expect("organiser");
    service::grant_membership(&state, a, grant(&organiser.id, &ngo.id, "social_organiser"))
        .await
        .expect("membership");
    let ngo_engineer = service::register_person(&state, a, person("Sadia Khan", Gender::Female))
        .await
        .expect("ngo engineer");
    service::grant_membership(&state, a, grant(&ngo_engineer.id, &ngo.id, "engineer"))
        .await
        .expect("membership");
    let engineer = service::register_person(&state, a, person("Tariq Mehmood", Gender::Male))
        .await
        .expect("engineer");
    service::grant_membership(
        &state,
        a,
        grant(&engineer.id, &tma.id, "municipal_engineer"),
    )
    .await
    .expect("membership");
    for (u, p) in [
        ("treasurer", Some(treasurer.id.clone())),
        ("organiser", Some(organiser.id.clone())),
        ("engineer", Some(engineer.id.clone())),
        ("manager", Some(manager.id.clone())),
        ("ngo-engineer", Some(ngo_engineer.id.clone())),
    ] {
        service::create_user(
            &state,
            NewUser {
                username: u.into(),
                password: PASSWORD.into(),
                person_id: p,
                is_admin: false,
            },
        )
        .await
        .expect("user");
    }
    service::create_user(
        &state,
        NewUser {
            username: "admin".into(),
            password: PASSWORD.into(),
            person_id: None,
            is_admin: true,
        },
    )
    .await
    .expect("admin");
    let init = service::start_initiative(
        &state,
        a,
        NewInitiative {
            name: "Dhoke Hassu lane sanitation (TEST)".into(),
            locality: "Dhoke Hassu".into(),
            district: "Rawalpindi".into(),
            arrangement: "component-sharing".into(),
            version: 1,
            partners: BTreeMap::from([
                ("community".to_string(), lane.id.clone()),
                ("government".to_string(), tma.id.clone()),
                ("ngo".to_string(), ngo.id.clone()),
            ]),
            latitude: Some(33.6251),
            longitude: Some(73.0551),
            demo: true,
        },
    )
    .await
    .expect("initiative");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(saanjh_web::serve_on(listener, state));
    Seeded {
        base,
        initiative: init.id,
        _dir: dir,
    }
}

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Bytes as sent with gzip accepted (reqwest here does not decompress).
async fn sent_size(client: &reqwest::Client, url: &str) -> (u16, usize, String) {
    let r = client
        .get(url)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("get");
    let status = r.status().as_u16();
    let enc = r
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.bytes().await.expect("body");
    (status, body.len(), enc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_a_browser() {
    let s = seed_and_serve().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // Page weight, without a browser: the public pages as sent.
    for path in [
        "/".to_string(),
        "/initiatives".into(),
        format!("/initiatives/{}", s.initiative),
        format!("/initiatives/{}/verify", s.initiative),
        "/map".into(),
        "/arrangements/component-sharing/1".into(),
        "/login".into(),
        "/assets/saanjh.css".into(),
        format!("/initiatives/{}/diagnosis", s.initiative),
        format!("/compare?initiatives={}", s.initiative),
        format!("/compare/report?initiatives={}", s.initiative),
        "/qca".into(),
    ] {
        let (status, size, enc) = sent_size(&client, &format!("{}{path}", s.base)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(enc, "gzip", "{path} is not compressed");
        assert!(size < PAGE_BUDGET, "{path} is {size} bytes compressed");
    }
    // A citizen reaching for a form is sent to sign in.
    let r = client
        .get(format!("{}/initiatives/{}/new", s.base, s.initiative))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap_or("")
            .starts_with("/login")
    );
    let home = client
        .get(format!("{}/initiatives/{}", s.base, s.initiative))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        !home.contains("method=\"post\""),
        "a public page offers a form"
    );

    // Sign-in is rate limited per username (auth.rs), through the form too.
    let login = client
        .get(format!("{}/login", s.base))
        .send()
        .await
        .expect("login page");
    let pre = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("saanjh_pre="))
        .and_then(|c| c.split(';').next())
        .expect("pre-session cookie")
        .to_string();
    let attempt = |password: &'static str| {
        client
            .post(format!("{}/login", s.base))
            .header("cookie", format!("saanjh_pre={pre}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username=nobody&password={password}&csrf={pre}"))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(
            attempt("wrong-password")
                .await
                .expect("post")
                .status()
                .as_u16(),
            401
        );
    }
    assert_eq!(
        attempt("wrong-password")
            .await
            .expect("post")
            .status()
            .as_u16(),
        429
    );
    // Without the matching pre-session token the form is refused outright.
    let r = client
        .post(format!("{}/login", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=treasurer&password={PASSWORD}&csrf=forged"
        ))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403);

    let Some(chromium) = chromium() else {
        println!("SKIP browser tests: chromium is not installed (apt-get install -y chromium)");
        return;
    };
    let dir = repo_root().join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        println!("SKIP browser tests: run `npm ci` in tests/browser first");
        return;
    }
    let shots = repo_root().join("target/browser-screenshots");
    let _ = std::fs::create_dir_all(&shots);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .current_dir(&dir)
            .env("SAANJH_URL", &s.base)
            .env("SAANJH_INITIATIVE", &s.initiative)
            .env("SAANJH_PASSWORD", PASSWORD)
            .env("CHROMIUM", &chromium)
            .env("SCREENSHOTS", &shots)
            .output()
    })
    .await
    .expect("join")
    .expect("run node");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser tests failed");
}
