//! The pages in a real browser: this starts the real server on an ephemeral
//! port with a fresh SQLite database seeded through the `service` fns, then
//! runs `node --test` in `tests/browser/` (playwright-core driving Debian's
//! chromium). Without chromium or `tests/browser/node_modules` (a fresh
//! clone) the browser part prints SKIP and passes; `.ci/run` installs both.
//!
//! The page-weight and no-JavaScript checks here need no browser: every main
//! page is fetched with `Accept-Encoding: gzip` and must be under 30 KB as
//! sent, and public pages must offer no form that changes anything.
//!
//! Round amounts are written rupees_paisa: `4_200_000_00` is Rs 42,00,000.00.
#![allow(clippy::inconsistent_digit_grouping)]

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
    /// A budgeting round in its voting phase, and one counted.
    round_voting: String,
    round_counted: String,
    _dir: tempfile::TempDir,
}

/// District Council Lodhran's reserve, twice: a round in voting (three
/// proposals on the ballot, one rejected) and one counted from a few online
/// ballots, both through the service functions the pages call. The council's
/// CCB official signs in as `convenor`.
async fn seed_rounds(state: &AppState, a: &str) -> (String, String) {
    use saanjh_core::budgeting::{Area, Location, Phase, Schedule};
    use saanjh_web::budgeting::{self as pb, NewProposal, NewRound, OnlineVote, ReviewInput};
    let org = |name: &str, kind: OrgKind| NewOrganisation {
        name: name.into(),
        kind,
        district: Some("Lodhran".into()),
    };
    let council =
        service::register_organisation(state, a, org("District Council Lodhran", OrgKind::Public))
            .await
            .expect("council");
    let ccb =
        service::register_organisation(state, a, org("CCB Basti Maulvian", OrgKind::Community))
            .await
            .expect("ccb");
    let holder = |name: &'static str, o: String, position: &'static str| async move {
        let p = service::register_person(
            state,
            a,
            NewPerson {
                name: name.into(),
                gender: Some(Gender::Female),
                elected: false,
            },
        )
        .await
        .expect("person");
        service::grant_membership(
            state,
            a,
            NewMembership {
                person: p.id.clone(),
                organisation: o,
                position: position.into(),
            },
        )
        .await
        .expect("membership");
        p.id
    };
    let convenor = holder("Nadia Khan", council.id.clone(), "ccb_official").await;
    let engineer = holder("Imran Bhatti", council.id.clone(), "works_engineer").await;
    let chair = holder("Zahida Parveen", ccb.id.clone(), "chair").await;
    service::create_user(
        state,
        NewUser {
            username: "convenor".into(),
            password: PASSWORD.into(),
            person_id: Some(convenor.clone()),
            is_admin: false,
        },
    )
    .await
    .expect("user");
    let ucs = ["UC-12 Basti Maulvian", "UC-14 Kotla Mahram"];
    let mut ids = vec![];
    for name in ["CCB reserve 2026-27, second call", "CCB reserve 2026-27"] {
        let round = pb::open_round(
            state,
            Some(&convenor),
            false,
            &convenor,
            NewRound {
                name: name.into(),
                council: council.id.clone(),
                financial_year: Some("2026-27".into()),
                budget: 10_000_000_00,
                area: Area {
                    district: "Lodhran".into(),
                    union_councils: ucs.iter().map(|u| u.to_string()).collect(),
                    bounds: None,
                },
                rule: None,
                seed: Some(7),
                convenor: None,
                reviewer: None,
                counter: None,
                max_choices: Some(2),
                arrangement: None,
                version: None,
                other_arrangements: vec![],
                schedule: Schedule::default(),
                currency: None,
                demo: true,
                add1_step: None,
            },
        )
        .await
        .expect("round")
        .record
        .id;
        for (title, estimate, uc) in [
            ("Covered drain, Street 3", 4_200_000_00, 0),
            ("Girls' school boundary wall", 1_600_000_00, 0),
            ("Water supply line, Mohalla Islampura", 5_500_000_00, 1),
            ("Street paving near the railway", 3_000_000_00, 1),
        ] {
            pb::submit_proposal(
                state,
                &chair,
                &round,
                NewProposal {
                    organisation: ccb.id.clone(),
                    title: title.into(),
                    description: format!("{title}, proposed by the CCB"),
                    estimate,
                    location: Location {
                        place: "Basti Maulvian".into(),
                        union_council: Some(ucs[uc].into()),
                        latitude: None,
                        longitude: None,
                    },
                    arrangement: None,
                    version: None,
                    component: None,
                    partners: BTreeMap::new(),
                },
            )
            .await
            .expect("proposal");
        }
        pb::change_phase(state, &convenor, &round, Phase::Review, None)
            .await
            .expect("review");
        for n in 1..=4u32 {
            let input = if n == 4 {
                ReviewInput {
                    decision: "rejected".into(),
                    cost: None,
                    note: None,
                    reason: Some("the land belongs to Pakistan Railways".into()),
                }
            } else {
                ReviewInput {
                    decision: "feasible".into(),
                    cost: Some([4_000_000_00, 1_600_000_00, 5_800_000_00][n as usize - 1]),
                    note: None,
                    reason: None,
                }
            };
            pb::review_proposal(state, &engineer, &round, n, input)
                .await
                .expect("reviewed");
        }
        pb::change_phase(state, &convenor, &round, Phase::Voting, None)
            .await
            .expect("voting");
        ids.push(round);
    }
    let counted = ids[1].clone();
    for (i, approvals) in [vec![1, 2], vec![3], vec![1, 3], vec![2], vec![3, 2]]
        .into_iter()
        .enumerate()
    {
        pb::vote_online(
            state,
            &counted,
            &format!("resident-{i}"),
            OnlineVote {
                cnic: format!("31202-12345{i:02}-{i}"),
                approvals,
                union_council: Some(ucs[i % 2].into()),
            },
        )
        .await
        .expect("vote");
    }
    pb::change_phase(state, &convenor, &counted, Phase::Results, None)
        .await
        .expect("counted");
    (ids[0].clone(), counted)
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
    let (round_voting, round_counted) = seed_rounds(&state, a).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(saanjh_web::serve_on(listener, state));
    Seeded {
        base,
        initiative: init.id,
        round_voting,
        round_counted,
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
        "/rounds".into(),
        format!("/rounds/{}", s.round_voting),
        format!("/rounds/{}", s.round_counted),
        format!("/rounds/{}/results", s.round_counted),
    ] {
        let (status, size, enc) = sent_size(&client, &format!("{}{path}", s.base)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(enc, "gzip", "{path} is not compressed");
        assert!(size < PAGE_BUDGET, "{path} is {size} bytes compressed");
        println!("page weight {path}: {size} bytes sent (gzip)");
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
            .env("SAANJH_ROUND_VOTING", &s.round_voting)
            .env("SAANJH_ROUND_COUNTED", &s.round_counted)
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
