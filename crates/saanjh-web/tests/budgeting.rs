//! Participatory budgeting rounds through the JSON API (issue 7, part 3):
//! the real server on an ephemeral port, a fresh database per test (SQLite;
//! PostgreSQL too when `SAANJH_TEST_POSTGRES_URL` is set).
//!
//! A district council's CCB reserve is divided: community organisations
//! propose, the works department reviews, residents vote online (once per
//! CNIC) or on paper ballots entered at a counter, `saanjh-pb` counts, and
//! the winners become schemes under the cost-sharing arrangement. Rounds go
//! out as `.pb` files and come back in with the same outcome; a bad file
//! changes nothing.
//!
//! Amounts are written rupees_paisa: `400_000_00` is Rs 4,00,000.00.
#![allow(clippy::inconsistent_digit_grouping)]

#[macro_use]
mod common;

use std::sync::Arc;

use saanjh_core::model::Gender;
use saanjh_store::Store;
use saanjh_web::budgeting::{VoteLimiter, VoteRate, winner_scheme_id};
use saanjh_web::service::{self, NewMembership, NewPerson, NewUser};
use saanjh_web::{AppState, ManualClock};
use serde_json::{Value, json};
use time::macros::datetime;

use common::{Db, postgres_db, sqlite_db};

const PASSWORD: &str = "a long enough password";

#[derive(Clone)]
struct App {
    base: String,
    root: String,
    http: reqwest::Client,
    state: AppState,
    admin: String,
}

#[derive(Debug)]
struct Res {
    status: u16,
    body: Value,
    text: String,
}

impl App {
    /// The server with room for many votes from one address (the tests'
    /// clients are all 127.0.0.1); `x-test-client` names another client.
    async fn start(db: &Db) -> App {
        App::start_with(db, VoteRate::parse("1000/60").expect("rate")).await
    }
    async fn start_with(db: &Db, votes: VoteRate) -> App {
        let store = Store::connect(&db.url).await.expect("connect");
        let clock = Arc::new(ManualClock::new(datetime!(2026-02-02 09:00 UTC)));
        let mut state = AppState::new(store, clock);
        state.votes =
            Arc::new(VoteLimiter::with_header(votes, Some("x-test-client")).expect("limiter"));
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(saanjh_web::serve_on(listener, state.clone()));
        let mut app = App {
            base: format!("http://{addr}/api/v1"),
            root: format!("http://{addr}"),
            http: reqwest::Client::new(),
            state,
            admin: String::new(),
        };
        app.admin = app.login("admin").await;
        app
    }
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<(String, &str)>,
    ) -> Res {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some((b, ct)) = body {
            req = req.header("content-type", ct).body(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res { status, body, text }
    }
    async fn get(&self, path: &str) -> Res {
        self.send(reqwest::Method::GET, path, None, None).await
    }
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.send(
            reqwest::Method::POST,
            path,
            token,
            Some((body.to_string(), "application/json")),
        )
        .await
    }
    async fn ok(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let r = self.post(path, token, body.clone()).await;
        assert!(
            r.status == 200 || r.status == 201,
            "POST {path} {body} → {} {}",
            r.status,
            r.text
        );
        r.body
    }
    async fn login(&self, username: &str) -> String {
        let r = self
            .post(
                "/tokens",
                None,
                json!({ "username": username, "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, 201, "login {username}: {}", r.text);
        r.body["token"].as_str().expect("token").to_string()
    }
    async fn org(&self, name: &str, kind: &str) -> String {
        self.ok(
            "/organisations",
            Some(&self.admin),
            json!({ "name": name, "kind": kind, "district": "Lodhran" }),
        )
        .await["id"]
            .as_str()
            .expect("id")
            .to_string()
    }
    /// A person (registered through the service path, as the API would)
    /// holding `position` in `org`.
    async fn holder(&self, org: &str, position: &str, name: &str) -> String {
        let p = service::register_person(
            &self.state,
            "admin",
            NewPerson {
                name: name.into(),
                gender: Some(Gender::Female),
                elected: false,
            },
        )
        .await
        .expect("person");
        service::grant_membership(
            &self.state,
            "admin",
            NewMembership {
                person: p.id.clone(),
                organisation: org.into(),
                position: position.into(),
            },
        )
        .await
        .expect("membership");
        p.id
    }
    /// A holder who can sign in: (person id, token).
    async fn actor(&self, org: &str, position: &str, name: &str) -> (String, String) {
        let p = self.holder(org, position, name).await;
        let username = format!("u{}", uuid::Uuid::now_v7().simple());
        self.ok(
            "/users",
            Some(&self.admin),
            json!({ "username": username, "password": PASSWORD, "person_id": p }),
        )
        .await;
        (p, self.login(&username).await)
    }
    async fn round(&self, id: &str) -> Value {
        let r = self.get(&format!("/rounds/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }
}

/// The people and bodies of a round in Lodhran.
struct Cast {
    council: String,
    ccb_a: String,
    ccb_b: String,
    convenor: (String, String),
    engineer: (String, String),
    clerk: (String, String),
    chair_a: (String, String),
    chair_b: (String, String),
    ngo_worker: (String, String),
    ngo: String,
}

/// A CCB with a chair who can sign in and 25 non-elected members in all,
/// as the cost-sharing arrangement's boundary rule asks.
async fn ccb(app: &App, name: &str, chair: &str) -> (String, (String, String)) {
    let org = app.org(name, "community").await;
    let chair = app.actor(&org, "chair", chair).await;
    for i in 1..25 {
        app.holder(&org, "member", &format!("{name} member {i}"))
            .await;
    }
    (org, chair)
}

async fn cast(app: &App) -> Cast {
    let council = app.org("District Council Lodhran", "public").await;
    let convenor = app.actor(&council, "ccb_official", "Nadia Khan").await;
    let engineer = app.actor(&council, "works_engineer", "Imran Bhatti").await;
    let clerk = app.actor(&council, "ballot_clerk", "Sadia Parveen").await;
    let (ccb_a, chair_a) = ccb(app, "CCB Basti Maulvian", "Rashid Ahmad").await;
    let (ccb_b, chair_b) = ccb(app, "CCB Kotla Mahram", "Zahida Bibi").await;
    let ngo = app.org("Lodhran Pilot Project", "third_sector").await;
    let ngo_worker = app.actor(&ngo, "social_organiser", "Saima").await;
    Cast {
        council,
        ccb_a,
        ccb_b,
        convenor,
        engineer,
        clerk,
        chair_a,
        chair_b,
        ngo_worker,
        ngo,
    }
}

async fn open(app: &App, c: &Cast, budget: i64) -> String {
    open_with(app, c, budget, json!({})).await
}

/// The round of `open`, with `extra` fields added to the request.
async fn open_with(app: &App, c: &Cast, budget: i64, extra: Value) -> String {
    let mut body = json!({
        "name": "CCB reserve 2025-26",
        "council": c.council,
        "financial_year": "2025-26",
        "budget": budget,
        "area": { "district": "Lodhran", "union_councils": ["UC-12 Basti Maulvian", "UC-14 Kotla Mahram"] },
        "seed": 42,
        "max_choices": 3
    });
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(x.clone());
    }
    app.ok("/rounds", Some(&c.convenor.1), body).await["record"]["id"]
        .as_str()
        .expect("round id")
        .to_string()
}

fn proposal(org: &str, title: &str, estimate: i64, uc: &str) -> Value {
    json!({
        "organisation": org,
        "title": title,
        "description": format!("{title}: works proposed by the CCB"),
        "estimate": estimate,
        "location": { "place": "Main bazaar", "union_council": uc, "latitude": 29.53, "longitude": 71.63 }
    })
}

const UC_A: &str = "UC-12 Basti Maulvian";
const UC_B: &str = "UC-14 Kotla Mahram";

async fn phase(app: &App, round: &str, token: &str, to: &str) -> Res {
    app.post(
        &format!("/rounds/{round}/phase"),
        Some(token),
        json!({ "to": to }),
    )
    .await
}

/// A round with four proposals, three found feasible (at adjusted costs)
/// and one rejected, now in the voting phase.
async fn round_in_voting(app: &App, c: &Cast) -> String {
    round_in_voting_with(app, c, json!({})).await
}

/// The round of `round_in_voting`, opened with `extra` fields.
async fn round_in_voting_with(app: &App, c: &Cast, extra: Value) -> String {
    let round = open_with(app, c, 1_000_000_00, extra).await;
    let path = format!("/rounds/{round}/proposals");
    for (org, token, title, est, uc) in [
        (
            &c.ccb_a,
            &c.chair_a.1,
            "Covered drain, Street 3",
            420_000_00,
            UC_A,
        ),
        (
            &c.ccb_a,
            &c.chair_a.1,
            "Girls' school boundary wall",
            160_000_00,
            UC_A,
        ),
        (
            &c.ccb_b,
            &c.chair_b.1,
            "Water supply line, Mohalla Islampura",
            550_000_00,
            UC_B,
        ),
        (
            &c.ccb_b,
            &c.chair_b.1,
            "Street paving near the railway",
            300_000_00,
            UC_B,
        ),
    ] {
        app.ok(&path, Some(token), proposal(org, title, est, uc))
            .await;
    }
    assert_eq!(
        phase(app, &round, &c.convenor.1, "review").await.status,
        200
    );
    let review = |n: u32, body: Value| {
        let app = app.clone();
        let round = round.clone();
        let token = c.engineer.1.clone();
        async move {
            app.ok(
                &format!("/rounds/{round}/proposals/{n}/review"),
                Some(&token),
                body,
            )
            .await
        }
    };
    review(
        1,
        json!({ "decision": "feasible", "cost": 400_000_00, "note": "rates of the 2025 schedule" }),
    )
    .await;
    review(2, json!({ "decision": "feasible", "cost": 160_000_00 })).await;
    review(
        3,
        json!({ "decision": "feasible", "cost": 580_000_00, "note": "pipe dearer than estimated" }),
    )
    .await;
    review(
        4,
        json!({ "decision": "rejected", "reason": "the land belongs to Pakistan Railways" }),
    )
    .await;
    assert_eq!(
        phase(app, &round, &c.convenor.1, "voting").await.status,
        200
    );
    round
}

fn cnic(i: usize) -> String {
    format!("31202-{:07}-{}", 1_000_000 + i, i % 10)
}

/// The whole round: proposals, review, votes (online and paper), the count,
/// the results, and the winners as schemes on their own chains.
async fn a_round_runs_from_proposals_to_schemes(app: App) {
    let c = cast(&app).await;
    let round = round_in_voting(&app, &c).await;
    let s = app.round(&round).await;
    assert_eq!(s["phase"], "voting");
    assert_eq!(s["phase_changes"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        s["phase_changes"][0]["person"], c.convenor.0,
        "each phase change records who made it"
    );
    assert_eq!(s["proposals"]["3"]["review"]["cost"], 580_000_00);
    assert_eq!(
        s["proposals"]["4"]["review"]["reason"],
        "the land belongs to Pakistan Railways"
    );
    // 30 residents online and 12 paper ballots: the drain and the wall are
    // popular in UC-12, the water line in UC-14.
    let mut ballots: Vec<(Vec<u32>, &str)> = vec![];
    for i in 0..42 {
        let b = match i % 6 {
            0 | 1 => (vec![1, 2], UC_A),
            2 => (vec![1], UC_A),
            3 => (vec![3], UC_B),
            4 => (vec![3, 2], UC_B),
            _ => (vec![2], UC_A),
        };
        ballots.push(b);
    }
    for (i, (approvals, uc)) in ballots.iter().enumerate() {
        let r = if i < 30 {
            app.post(
                &format!("/rounds/{round}/votes"),
                None,
                json!({ "cnic": cnic(i), "approvals": approvals, "union_council": uc }),
            )
            .await
        } else {
            app.post(
                &format!("/rounds/{round}/paper-ballots"),
                Some(&c.clerk.1),
                json!({ "serial": format!("LDH-{i:04}"), "approvals": approvals, "union_council": uc }),
            )
            .await
        };
        assert_eq!(r.status, 201, "ballot {i}: {}", r.text);
        assert_eq!(r.body["ballot"], i as u64 + 1);
    }
    // The chair is no convenor: the round does not move for them.
    let r = phase(&app, &round, &c.chair_a.1, "results").await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = phase(&app, &round, &c.convenor.1, "results").await;
    assert_eq!(r.status, 200, "{}", r.text);

    // The results, as published.
    let res = app.get(&format!("/rounds/{round}/results")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let result = res.body;
    let winners: Vec<u64> = result["winners"]
        .as_array()
        .expect("winners")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let costs = [(1, 400_000_00), (2, 160_000_00), (3, 580_000_00)];
    let spent: i64 = costs
        .iter()
        .filter(|(n, _)| winners.contains(n))
        .map(|(_, c)| c)
        .sum();
    assert_eq!(result["spent"], spent);
    assert!(spent <= 1_000_000_00);
    assert_eq!(result["ballots"], 42);
    assert_eq!(result["tie_break"]["seed"], 42);
    assert_eq!(
        result["tie_break"]["drawn"].as_array().map(Vec::len),
        Some(3),
        "the drawn order lists every proposal on the ballot (not the rejected one)"
    );
    let projects = result["projects"].as_array().expect("projects");
    assert_eq!(projects.len(), 3);
    for p in projects {
        let why = p["why"].as_str().unwrap_or("");
        assert!(!why.is_empty(), "every project says why: {p}");
        assert_eq!(
            p["selected"].as_bool(),
            Some(winners.contains(&p["number"].as_u64().unwrap_or(0)))
        );
    }
    // Votes counted per project agree with the ballots cast.
    let votes = |n: u32| ballots.iter().filter(|(a, _)| a.contains(&n)).count() as u64;
    for p in projects {
        let n = p["number"].as_u64().unwrap_or(0) as u32;
        assert_eq!(p["votes"], votes(n), "votes of proposal {n}");
    }
    // The count is saanjh-pb's on the exported file with the round's rule.
    let pb = app.get(&format!("/rounds/{round}/export.pb")).await;
    assert_eq!(pb.status, 200);
    let inst = saanjh_pb::parse(&pb.text).expect("the export parses");
    let record: saanjh_core::budgeting::RoundRecord =
        serde_json::from_value(app.round(&round).await["record"].clone())
            .expect("the round's record");
    let out = saanjh_pb::count(
        &inst,
        &saanjh_web::budgeting::count_options(&record).expect("options"),
    )
    .expect("count");
    let pb_winners: Vec<u64> = out.winners.iter().filter_map(|w| w.parse().ok()).collect();
    assert_eq!(pb_winners, winners);

    // Wrong-phase acts after the results.
    let r = app
        .post(
            &format!("/rounds/{round}/votes"),
            None,
            json!({ "cnic": cnic(99), "approvals": [1], "union_council": UC_A }),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["rule"], "round.phase");

    // Winners become schemes, through the initiative's own chain.
    let r = app
        .post(
            &format!("/rounds/{round}/schemes"),
            Some(&c.chair_a.1),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403, "only the convenor: {}", r.text);
    let links = app
        .ok(
            &format!("/rounds/{round}/schemes"),
            Some(&c.convenor.1),
            json!({}),
        )
        .await;
    let links = links.as_array().expect("links");
    assert_eq!(links.len(), winners.len());
    for l in links {
        assert!(l["refused"].is_null(), "{l}");
        let scheme = l["scheme"].as_str().expect("scheme");
        let n = l["proposal"].as_u64().expect("n");
        let (row, st) = app
            .state
            .store
            .scheme(scheme)
            .await
            .expect("read")
            .expect("the scheme exists");
        assert_eq!(row.stage, "proposed");
        let cost = costs.iter().find(|(k, _)| *k == n).map(|(_, c)| *c);
        assert_eq!(
            Some(row.estimate),
            cost,
            "the reviewed cost is the estimate"
        );
        assert_eq!(st.components[0].kind, "works");
        let init = app
            .state
            .store
            .initiative(&row.initiative_id)
            .await
            .expect("read")
            .expect("initiative");
        assert_eq!(init.arrangement_id, "cost-sharing");
        let partners = app.state.store.partners(&init.id).await.expect("partners");
        assert_eq!(partners.get("council"), Some(&c.council));
        let proposer = if n == 3 { &c.ccb_b } else { &c.ccb_a };
        assert_eq!(partners.get("community"), Some(proposer));
    }
    // Asking again makes no second scheme.
    let again = app
        .ok(
            &format!("/rounds/{round}/schemes"),
            Some(&c.convenor.1),
            json!({}),
        )
        .await;
    assert_eq!(again.as_array().map(Vec::len), Some(0));
    let s = app.round(&round).await;
    for w in &winners {
        assert!(s["proposals"][w.to_string()]["scheme"].is_array());
    }

    // The round's chain verifies, and rebuilding the projections gives
    // the same rows as live.
    let v = app.state.store.verify(Some(&round)).await.expect("verify");
    assert!(v.broken.is_empty(), "{:?}", v.broken);
    let live = app.state.store.projection_dump().await.expect("dump");
    app.state.store.rebuild().await.expect("rebuild");
    assert_eq!(app.state.store.projection_dump().await.expect("dump"), live);
    // No CNIC appears anywhere in the public log.
    let events = app.get(&format!("/rounds/{round}/events")).await.text;
    assert!(!events.contains(&cnic(0)) && !events.contains(&cnic(0).replace('-', "")));
}
both!(a_round_runs_from_proposals_to_schemes);

/// Who may do what, and in which phase.
async fn acts_out_of_phase_or_office_are_refused(app: App) {
    let c = cast(&app).await;
    let round = open(&app, &c, 1_000_000_00).await;
    let path = format!("/rounds/{round}/proposals");
    // Only community organisations propose, and only through their members.
    let r = app
        .post(
            &path,
            Some(&c.ngo_worker.1),
            proposal(&c.ngo, "NGO office", 100_000_00, UC_A),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["rule"], "round.proposer");
    let r = app
        .post(
            &path,
            Some(&c.chair_b.1),
            proposal(&c.ccb_a, "Not my CCB", 100_000_00, UC_A),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .post(
            &path,
            Some(&c.chair_a.1),
            proposal(&c.ccb_a, "Elsewhere", 100_000_00, "UC-99"),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["rule"], "round.area");
    let r = app
        .post(&path, None, proposal(&c.ccb_a, "Anonymous", 1, UC_A))
        .await;
    assert_eq!(r.status, 401);
    // Nothing to review yet; phases cannot be skipped.
    assert_eq!(
        phase(&app, &round, &c.convenor.1, "review").await.status,
        409
    );
    app.ok(
        &path,
        Some(&c.chair_a.1),
        proposal(&c.ccb_a, "Drain", 100_000_00, UC_A),
    )
    .await;
    let r = phase(&app, &round, &c.convenor.1, "voting").await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        r.body["type"].as_str().map(|t| t.ends_with("wrong-phase")),
        Some(true),
        "{}",
        r.text
    );
    // Reviews and votes before their phase.
    let review = format!("/rounds/{round}/proposals/1/review");
    let r = app
        .post(
            &review,
            Some(&c.engineer.1),
            json!({ "decision": "feasible", "cost": 90_000_00 }),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = app
        .post(
            &format!("/rounds/{round}/paper-ballots"),
            Some(&c.clerk.1),
            json!({ "serial": "A1", "approvals": [1], "union_council": UC_A }),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        phase(&app, &round, &c.engineer.1, "review").await.status,
        403
    );
    assert_eq!(
        phase(&app, &round, &c.convenor.1, "review").await.status,
        200
    );
    // In review: proposals are closed, only the engineer reviews, and the
    // round waits for every review.
    let r = app
        .post(
            &path,
            Some(&c.chair_a.1),
            proposal(&c.ccb_a, "Late", 1_000_00, UC_A),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = app
        .post(
            &review,
            Some(&c.convenor.1),
            json!({ "decision": "feasible", "cost": 90_000_00 }),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .post(
            &review,
            Some(&c.engineer.1),
            json!({ "decision": "rejected" }),
        )
        .await;
    assert_eq!(r.status, 422, "a rejection needs its reason: {}", r.text);
    assert_eq!(
        phase(&app, &round, &c.convenor.1, "voting").await.status,
        409
    );
    app.ok(
        &review,
        Some(&c.engineer.1),
        json!({ "decision": "feasible", "cost": 90_000_00 }),
    )
    .await;
    assert_eq!(
        app.get(&format!("/rounds/{round}/results")).await.status,
        409
    );
    let r = app
        .post(
            &format!("/rounds/{round}/schemes"),
            Some(&c.convenor.1),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    // Refusals wrote nothing: the chain holds exactly the accepted acts
    // (opened, one proposal, to review, one review).
    assert_eq!(app.state.store.head(&round).await.expect("head").0, 4);
}
both!(acts_out_of_phase_or_office_are_refused);

/// Paper ballots: each entry records who entered it and its serial; a
/// serial is entered once, even when two counters try at the same moment.
async fn paper_ballots_are_entered_with_a_record_and_serials_once(app: App) {
    let c = cast(&app).await;
    let round = round_in_voting(&app, &c).await;
    let path = format!("/rounds/{round}/paper-ballots");
    let r = app
        .post(
            &path,
            Some(&c.clerk.1),
            json!({ "serial": "LDH-0001", "approvals": [1, 3], "union_council": UC_A }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let ballots = app.get(&format!("/rounds/{round}/ballots")).await.body;
    let b = &ballots["items"][0];
    assert_eq!(b["method"], "paper");
    assert_eq!(b["serial"], "LDH-0001");
    assert_eq!(b["entered_by"], c.clerk.0, "the entry names who entered it");
    assert_eq!(b["approvals"], "1,3");
    // The same serial again: refused, nothing written.
    let head = app.state.store.head(&round).await.expect("head").0;
    let r = app
        .post(
            &path,
            Some(&c.clerk.1),
            json!({ "serial": "LDH-0001", "approvals": [2], "union_council": UC_A }),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["rule"], "round.serial");
    assert_eq!(app.state.store.head(&round).await.expect("head").0, head);
    // Not counter staff.
    let r = app
        .post(
            &path,
            Some(&c.chair_a.1),
            json!({ "serial": "LDH-0002", "approvals": [2], "union_council": UC_A }),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Bad ballots: a rejected proposal, more than max_choices, an unknown
    // union council, an empty serial.
    for bad in [
        json!({ "serial": "X1", "approvals": [4], "union_council": UC_A }),
        json!({ "serial": "X2", "approvals": [1, 2, 3, 3], "union_council": UC_A }),
        json!({ "serial": "X3", "approvals": [1], "union_council": "UC-99" }),
        json!({ "serial": " ", "approvals": [1], "union_council": UC_A }),
    ] {
        let r = app.post(&path, Some(&c.clerk.1), bad.clone()).await;
        assert!(
            r.status == 422 || r.status == 409,
            "{bad} → {} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(app.state.store.head(&round).await.expect("head").0, head);
    // Two clerks enter the same serial at once, eight times over: one wins.
    let clerk2 = app.actor(&c.council, "ballot_clerk", "Second clerk").await;
    let mut tasks = vec![];
    for i in 0..8 {
        let app = app.clone();
        let path = path.clone();
        let token = if i % 2 == 0 {
            c.clerk.1.clone()
        } else {
            clerk2.1.clone()
        };
        tasks.push(tokio::spawn(async move {
            app.post(
                &path,
                Some(&token),
                json!({ "serial": "LDH-0777", "approvals": [2], "union_council": UC_B }),
            )
            .await
            .status
        }));
    }
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let ballots = app.state.store.ballots(&round).await.expect("ballots");
    assert_eq!(ballots.len(), 2);
}
both!(paper_ballots_are_entered_with_a_record_and_serials_once);

/// A resident votes once per round, however the CNIC is written and
/// however many requests race; the CNIC itself is never stored.
async fn a_resident_votes_once_even_in_parallel(app: App) {
    let c = cast(&app).await;
    let round = round_in_voting(&app, &c).await;
    let path = format!("/rounds/{round}/votes");
    let vote = |cnic: &str| json!({ "cnic": cnic, "approvals": [1, 2], "union_council": UC_A });
    let r = app.post(&path, None, vote("31202-1234567-1")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["hash"].as_str().map(str::len), Some(64), "a receipt");
    let head = app.state.store.head(&round).await.expect("head").0;
    for again in ["31202-1234567-1", "3120212345671", " 31202-1234567-1 "] {
        let r = app.post(&path, None, vote(again)).await;
        assert_eq!(r.status, 409, "{again}: {}", r.text);
        assert_eq!(r.body["rule"], "round.one_vote");
    }
    assert_eq!(app.state.store.head(&round).await.expect("head").0, head);
    for bad in [
        "1234",
        "31202-1234567-X",
        "",
        "31202 1234567 1",
        "312021-234567-1",
    ] {
        let r = app.post(&path, None, vote(bad)).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
    // Twelve requests with one new CNIC at once: exactly one ballot.
    let mut tasks = vec![];
    for _ in 0..12 {
        let app = app.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            app.post(
                &path,
                None,
                json!({ "cnic": "35202-7654321-2", "approvals": [3], "union_council": UC_B }),
            )
            .await
            .status
        }));
    }
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    // And twelve different residents at once: twelve ballots.
    let mut tasks = vec![];
    for i in 0..12 {
        let app = app.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            app.post(
                &path,
                None,
                json!({ "cnic": cnic(500 + i), "approvals": [2], "union_council": UC_A }),
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), 201);
    }
    assert_eq!(
        app.state
            .store
            .ballots(&round)
            .await
            .expect("ballots")
            .len(),
        14
    );
    assert_eq!(
        app.state
            .store
            .online_voter_count(&round)
            .await
            .expect("count"),
        14
    );
    let events = app.get(&format!("/rounds/{round}/events")).await.text;
    assert!(!events.contains("1234567"), "no CNIC in the public log");
}
both!(a_resident_votes_once_even_in_parallel);

/// Export a counted round, import the file: the same proposals, ballots and
/// outcome (winners, reasons, tie-break record).
async fn export_then_import_gives_the_same_outcome(app: App) {
    let c = cast(&app).await;
    let round = round_in_voting(&app, &c).await;
    for (i, a) in [vec![1], vec![1, 2], vec![3], vec![2, 3], vec![2], vec![3]]
        .iter()
        .enumerate()
    {
        app.ok(
            &format!("/rounds/{round}/votes"),
            None,
            json!({ "cnic": cnic(i), "approvals": a, "union_council": UC_B }),
        )
        .await;
    }
    assert_eq!(
        phase(&app, &round, &c.convenor.1, "results").await.status,
        200
    );
    let original = app.get(&format!("/rounds/{round}/results")).await.body;
    let pb = app.get(&format!("/rounds/{round}/export.pb")).await.text;
    assert!(pb.contains("rule;equalshares/add1"), "{pb}");
    let imported = app
        .send(
            reqwest::Method::POST,
            "/rounds/import",
            Some(&app.admin),
            Some((pb.clone(), "text/plain")),
        )
        .await;
    assert_eq!(imported.status, 201, "{}", imported.text);
    assert_eq!(imported.body["agrees_with_file"], true);
    let copy = imported.body["round"].as_str().expect("round").to_string();
    let again = app.get(&format!("/rounds/{copy}/results")).await.body;
    for key in ["winners", "spent", "budget", "ballots", "tie_break"] {
        assert_eq!(again[key], original[key], "{key}");
    }
    let whys = |r: &Value| -> Vec<(Value, Value, Value)> {
        r["projects"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| (p["number"].clone(), p["cost"].clone(), p["why"].clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(whys(&again), whys(&original));
    // Exporting the copy gives the same projects and ballots.
    let pb2 = app.get(&format!("/rounds/{copy}/export.pb")).await.text;
    let (a, b) = (
        saanjh_pb::parse(&pb).expect("pb"),
        saanjh_pb::parse(&pb2).expect("pb2"),
    );
    assert_eq!(
        a.projects
            .iter()
            .map(|p| (&p.id, p.cost))
            .collect::<Vec<_>>(),
        b.projects
            .iter()
            .map(|p| (&p.id, p.cost))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        a.voters.iter().map(|v| &v.vote).collect::<Vec<_>>(),
        b.voters.iter().map(|v| &v.vote).collect::<Vec<_>>()
    );
    // Only administrators import.
    let r = app
        .send(
            reqwest::Method::POST,
            "/rounds/import",
            Some(&c.convenor.1),
            Some((pb, "text/plain")),
        )
        .await;
    assert_eq!(r.status, 403);
}
both!(export_then_import_gives_the_same_outcome);

const GOOD_PB: &str = "META\nkey;value\ndescription;test\ncountry;Pakistan\nunit;Lodhran\ninstance;2025\nnum_projects;2\nnum_votes;2\nbudget;1000\nvote_type;approval\nrule;greedy\ndate_begin;2025\ndate_end;2025\nmax_length;2\nPROJECTS\nproject_id;cost;name\n1;600;Drain\n2;500;Wall\nVOTES\nvoter_id;vote\n1;1,2\n2;2\n";

/// A malformed file: a clear error naming its line, and nothing imported.
async fn a_malformed_pb_changes_nothing(app: App) {
    let chains = app.state.store.chains().await.expect("chains");
    let dump = app.state.store.projection_dump().await.expect("dump");
    let cases: Vec<(String, usize, &str)> = vec![
        (
            GOOD_PB.replace("VOTES\nvoter_id;vote\n1;1,2\n2;2\n", ""),
            0,
            "missing section",
        ),
        (GOOD_PB.replace("2;2\n", "2;7\n"), 22, "unknown project"),
        (
            GOOD_PB.replace("1;600;Drain", "1;six hundred;Drain"),
            17,
            "cost",
        ),
        (
            GOOD_PB.replace("max_length;2", "max_length;1"),
            21,
            "max_length",
        ),
        (
            GOOD_PB
                .replace("vote_type;approval", "vote_type;cumulative")
                .replace(
                    "voter_id;vote\n1;1,2\n2;2",
                    "voter_id;vote;points\n1;1,2;3,2\n2;2;5",
                )
                .replace("max_length;2", "max_sum_points;5"),
            10,
            "approval",
        ),
        (
            GOOD_PB.replace("budget;1000", "budget;1000.005"),
            9,
            "two decimals",
        ),
        (GOOD_PB.replace("rule;greedy", "rule;unknown"), 11, "rule"),
    ];
    for (text, line, words) in cases {
        let r = app
            .send(
                reqwest::Method::POST,
                "/rounds/import",
                Some(&app.admin),
                Some((text.clone(), "text/plain")),
            )
            .await;
        assert_eq!(r.status, 422, "{words}: {}", r.text);
        let errors = r.body["errors"].as_array().expect("errors");
        let first = &errors[0];
        if line > 0 {
            assert_eq!(first["line"], line, "{words}: {}", r.text);
        }
        assert!(
            first["message"].as_str().unwrap_or("").contains(words),
            "{words}: {}",
            r.text
        );
    }
    assert_eq!(app.state.store.chains().await.expect("chains"), chains);
    assert_eq!(app.state.store.projection_dump().await.expect("dump"), dump);
    // The good file imports and counts: greedy takes 2 first (two votes,
    // 500), then 1 (600) no longer fits in the 500 left.
    let r = app
        .send(
            reqwest::Method::POST,
            "/rounds/import",
            Some(&app.admin),
            Some((GOOD_PB.to_string(), "text/plain")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["winners"], json!([2]));
    assert!(
        r.body["agrees_with_file"].is_null(),
        "the file has no `selected`"
    );
}
both!(a_malformed_pb_changes_nothing);

/// A real city's file, imported and counted by the platform, reproduces
/// the city's official outcome (Assen 2024: Method of Equal Shares, Add1).
async fn a_real_city_reimported_reproduces_its_official_outcome(app: App) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/pabulib/Netherlands_Assen_2024.pb");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP: {} is absent", path.display());
        return;
    };
    let r = app
        .send(
            reqwest::Method::POST,
            "/rounds/import?rule=mes-add1",
            Some(&app.admin),
            Some((text, "text/plain")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["agrees_with_file"], true, "{}", r.text);
    assert_eq!(r.body["winners"].as_array().map(Vec::len), Some(9));
}
both!(a_real_city_reimported_reproduces_its_official_outcome);

/// The pages work without JavaScript: the list, the round with the forms
/// the visitor may use in this phase, a resident's vote through the form
/// (a double-submit token, refused without it), and the results page with
/// every project's reason and the tie-break record.
async fn the_pages_show_a_round_and_take_a_vote(app: App) {
    let c = cast(&app).await;
    let round = round_in_voting(&app, &c).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let list = http
        .get(format!("{}/rounds", app.root))
        .send()
        .await
        .expect("list");
    assert_eq!(list.status().as_u16(), 200);
    assert!(
        list.text()
            .await
            .expect("body")
            .contains("CCB reserve 2025-26")
    );
    let page = http
        .get(format!("{}/rounds/{round}", app.root))
        .send()
        .await
        .expect("round");
    assert_eq!(page.status().as_u16(), 200);
    let cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a vote cookie")
        .to_string();
    let html = page.text().await.expect("body");
    assert!(html.contains("Covered drain, Street 3") && html.contains("Pakistan Railways"));
    assert!(html.contains("id=\"form-vote\""), "the public vote form");
    assert!(
        !html.contains("id=\"form-paper\""),
        "no paper form for the public"
    );
    assert!(
        !html.contains("id=\"form-phase\""),
        "no phase form for the public"
    );
    let token = cookie
        .split_once('=')
        .map(|(_, t)| t.to_string())
        .expect("token");
    let form = [
        ("csrf", token.as_str()),
        ("approve", "1"),
        ("approve", "3"),
        ("union_council", UC_A),
        ("cnic", "31202-5555555-5"),
    ];
    let enc = |t: &str| -> String {
        t.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let form: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    // Without the cookie the form is refused and nothing is counted.
    let r = http
        .post(format!("{}/rounds/{round}/vote", app.root))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .expect("vote");
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        app.state
            .store
            .ballots(&round)
            .await
            .expect("ballots")
            .len(),
        0
    );
    let r = http
        .post(format!("{}/rounds/{round}/vote", app.root))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .expect("vote");
    assert_eq!(r.status().as_u16(), 303, "{:?}", r.text().await);
    let ballots = app.state.store.ballots(&round).await.expect("ballots");
    assert_eq!(ballots.len(), 1);
    assert_eq!(ballots[0].approvals, "1,3");
    // The same CNIC again: the round page again, with the reason.
    let r = http
        .post(format!("{}/rounds/{round}/vote", app.root))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .expect("vote");
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.expect("body").contains("already voted"));
    // An Urdu visitor refused is told why in Urdu, by the refusal's code
    // (not the service's English), and nothing is counted.
    let in_urdu = format!("{cookie}; lang=ur");
    let vote_in_urdu = |body: String| {
        http.post(format!("{}/rounds/{round}/vote", app.root))
            .header("cookie", &in_urdu)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = vote_in_urdu(form.clone()).await.expect("vote");
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("اس شناختی کارڈ نمبر سے اس راؤنڈ میں ووٹ دیا جا چکا ہے"),
        "{html}"
    );
    assert!(
        !html.contains("already voted"),
        "no English refusal: {html}"
    );
    let r = vote_in_urdu(form.replace("31202-5555555-5", "3120"))
        .await
        .expect("vote");
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("یہ درست شناختی کارڈ نمبر نہیں") && html.contains("35202-1234567-1"),
        "{html}"
    );
    // A refusal the page has no message for keeps the service's English,
    // marked as English for screen readers.
    let r = vote_in_urdu(form.replace("approve=3", "approve=1"))
        .await
        .expect("vote");
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("<p lang=\"en\">proposal 1 is ticked twice</p>"),
        "{html}"
    );
    assert_eq!(
        app.state
            .store
            .ballots(&round)
            .await
            .expect("ballots")
            .len(),
        1
    );
    assert_eq!(
        phase(&app, &round, &c.convenor.1, "results").await.status,
        200
    );
    // Voting once the polls have closed: refused in Urdu, nothing counted.
    let late = form.replace("31202-5555555-5", "31202-6666666-6");
    let r = vote_in_urdu(late).await.expect("vote");
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("ووٹ صرف ووٹنگ کے مرحلے میں لیے جاتے ہیں"),
        "{html}"
    );
    assert!(!html.contains("phase; this round is in"), "{html}");
    assert_eq!(
        app.state
            .store
            .ballots(&round)
            .await
            .expect("ballots")
            .len(),
        1
    );
    let res = http
        .get(format!("{}/rounds/{round}/results", app.root))
        .send()
        .await
        .expect("results");
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().await.expect("body");
    let result = app.get(&format!("/rounds/{round}/results")).await.body;
    // Every project's reason, said from the count's structured reason.
    let english = |kind: &str| match kind {
        "mes-selected" => "bought at step",
        "mes-unaffordable" => "its supporters together held only",
        "no-support" => "no voter supported it",
        "completion-selected" => "funded from the money equal shares left",
        "completion-skipped" => "not funded by equal shares",
        other => panic!("a reason this round should not give: {other}"),
    };
    let projects = result["projects"].as_array().expect("projects");
    for p in projects {
        let row = format!(
            "id=\"{}-{}\"",
            if p["selected"] == true {
                "winner"
            } else {
                "loser"
            },
            p["number"]
        );
        let at = html.find(&row).unwrap_or_else(|| panic!("{row}: {html}"));
        let tr = &html[at..at + html[at..].find("</tr>").expect("row end")];
        let kind = p["reason"]["kind"].as_str().expect("kind");
        assert!(tr.contains(english(kind)), "the page says why: {tr}");
    }
    let drawn: Vec<&str> = result["tie_break"]["drawn"]
        .as_array()
        .expect("drawn")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        html.contains(&drawn.join(", ")),
        "the drawn order is published"
    );
    // In Urdu too.
    let ur = http
        .get(format!("{}/rounds/{round}/results", app.root))
        .header("cookie", "lang=ur")
        .header("accept-language", "ur")
        .send()
        .await
        .expect("results");
    assert_eq!(ur.status().as_u16(), 200);
    let ur = ur.text().await.expect("body");
    assert!(ur.contains("نتائج"));
    // The reasons are Urdu sentences, not the count's English.
    for p in projects {
        let kind = p["reason"]["kind"].as_str().expect("kind");
        assert!(
            !ur.contains(english(kind)),
            "English reason on the Urdu page: {kind}"
        );
        assert!(!ur.contains(p["why"].as_str().expect("why")));
    }
    assert!(ur.contains("حامی") || ur.contains("ووٹر"), "{ur}");
}
both!(the_pages_show_a_round_and_take_a_vote);

/// A browser without JavaScript, signed in through the login form.
struct Browser {
    http: reqwest::Client,
    root: String,
    cookie: String,
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    let enc = |t: &str| -> String {
        t.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    async fn sign_in(app: &App, username: &str) -> Browser {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let login = http
            .get(format!("{}/login", app.root))
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
        let r = http
            .post(format!("{}/login", app.root))
            .header("cookie", format!("saanjh_pre={pre}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[
                ("username", username),
                ("password", PASSWORD),
                ("csrf", &pre),
            ]))
            .send()
            .await
            .expect("login");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("saanjh_session="))
            .and_then(|c| c.split(';').next())
            .map(|c| format!("saanjh_session={c}"))
            .expect("session cookie");
        Browser {
            http,
            root: app.root.clone(),
            cookie,
        }
    }
    async fn get(&self, path: &str, lang: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.root))
            .header("cookie", format!("{}; lang={lang}", self.cookie))
            .header("accept-language", lang)
            .send()
            .await
            .expect("get");
        (r.status().as_u16(), r.text().await.expect("body"))
    }
    /// The session's form token, as the page's hidden field carries it.
    async fn csrf(&self, path: &str) -> String {
        let (status, html) = self.get(path, "en").await;
        assert_eq!(status, 200, "{path}: {html}");
        let at = html
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no form on {path}: {html}"));
        let rest = &html[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').expect("end")].to_string()
    }
    async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> (u16, String, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.root))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(pairs))
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, location, r.text().await.expect("body"))
    }
}

impl App {
    /// A holder who signs in through the pages: (person id, username).
    async fn web_actor(&self, org: &str, position: &str, name: &str) -> (String, String) {
        let p = self.holder(org, position, name).await;
        let username = format!("w{}", uuid::Uuid::now_v7().simple());
        self.ok(
            "/users",
            Some(&self.admin),
            json!({ "username": username, "password": PASSWORD, "person_id": p }),
        )
        .await;
        (p, username)
    }
}

/// A council's CCB official opens a round through the page: the form is
/// offered to the officials the rules allow and to no one else; bad input
/// shows the form again with the reason and what was typed, and opens
/// nothing; good input opens a round with its area, rule, arrangements and
/// planned dates as entered.
async fn an_official_opens_a_round_through_the_page(app: App) {
    let c = cast(&app).await;
    let (_, official) = app
        .web_actor(&c.council, "ccb_official", "Kamran Aslam")
        .await;
    let (_, chair) = app.web_actor(&c.ccb_a, "chair", "Bashir Ahmad").await;
    let rounds_now = || async { app.state.store.rounds().await.expect("rounds").len() };

    // A CCB's chairman is not offered the form, and cannot post it.
    let b = Browser::sign_in(&app, &chair).await;
    let (_, list) = b.get("/rounds", "en").await;
    assert!(!list.contains("href=\"/rounds/new\""), "{list}");
    let (status, _) = b.get("/rounds/new", "en").await;
    assert_eq!(status, 403);
    let (_, html) = b.get("/rounds", "en").await;
    let _ = html;

    let b = Browser::sign_in(&app, &official).await;
    let (_, list) = b.get("/rounds", "en").await;
    assert!(list.contains("href=\"/rounds/new\""), "{list}");
    let csrf = b.csrf("/rounds/new").await;
    let (_, form) = b.get("/rounds/new", "en").await;
    assert!(
        form.contains(&c.council) && form.contains("District Council Lodhran"),
        "the official's council is offered"
    );
    let good: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("name", "CCB reserve 2026-27"),
        ("council", &c.council),
        ("financial_year", "2026-27"),
        ("budget", "75,00,000"),
        ("district", "Lodhran"),
        (
            "union_councils",
            "UC-12 Basti Maulvian\r\nUC-14 Kotla Mahram\r\n",
        ),
        ("rule", "greedy"),
        ("add1_step", "100"),
        ("max_choices", "2"),
        ("arrangement", "cost-sharing@1"),
        ("other", "component-sharing@1"),
        ("review", "2026-02-20"),
        ("voting", "2026-03-01"),
        ("results", "2026-03-15"),
    ];
    let with = |k: &str, v: &'static str| -> Vec<(&str, &str)> {
        good.iter()
            .map(|(a, b)| if *a == k { (*a, v) } else { (*a, *b) })
            .collect()
    };
    // Each bad input: the form again, with the reason and the typed values.
    for (pairs, status, reason) in [
        (
            with("budget", "seventy lakh"),
            422,
            "rupees with at most two decimals",
        ),
        (with("budget", "0"), 422, "more than zero"),
        (with("name", " "), 422, "`name` must not be empty"),
        (with("voting", "2026-02-10"), 422, "must come after"),
        (with("review", "2026-01-05"), 422, "before the round opens"),
        (with("results", "2026-02-31"), 422, "not a date"),
        (with("max_choices", "none"), 422, "whole number"),
        (with("add1_step", "0"), 422, "more than nothing"),
        (with("add1_step", "one rupee"), 422, "more than nothing"),
        (with("rule", "borda"), 422, "mes-add1"),
        (
            with("arrangement", "no-such-arrangement@1"),
            422,
            "no-such-arrangement",
        ),
        (with("union_councils", "UC-1\nUC-1"), 422, "listed twice"),
    ] {
        let (st, _, html) = b.post("/rounds/new", &pairs).await;
        assert_eq!(st, status, "{pairs:?}: {html}");
        assert!(html.contains("id=\"error\""), "{html}");
        assert!(html.contains(reason), "{reason}: {html}");
        assert!(
            html.contains("value=\"Lodhran\""),
            "the form keeps what was typed"
        );
        assert_eq!(rounds_now().await, 0, "nothing opened for {pairs:?}");
    }
    // Another council's round is not this official's to open.
    let other = app.org("District Council Bahawalpur", "public").await;
    let (st, _, html) = b
        .post(
            "/rounds/new",
            &with("council", Box::leak(other.into_boxed_str())),
        )
        .await;
    assert_eq!(st, 403, "{html}");
    assert_eq!(rounds_now().await, 0);

    let (st, location, _) = b.post("/rounds/new", &good).await;
    assert_eq!(st, 303);
    assert!(location.ends_with("?done=opened"), "{location}");
    let id = location
        .trim_start_matches("/rounds/")
        .trim_end_matches("?done=opened")
        .to_string();
    let r = app.round(&id).await;
    let rec = &r["record"];
    assert_eq!(rec["budget"], 7_500_000_00i64);
    assert_eq!(rec["rule"], "greedy");
    assert_eq!(rec["max_choices"], 2);
    assert_eq!(rec["add1_step"], 100_00, "Rs 100, kept in paisa");
    assert_eq!(
        rec["area"]["union_councils"],
        json!(["UC-12 Basti Maulvian", "UC-14 Kotla Mahram"])
    );
    assert_eq!(rec["arrangement"], "cost-sharing");
    assert_eq!(
        rec["other_arrangements"],
        json!([{ "id": "component-sharing", "version": 1 }])
    );
    assert_eq!(
        rec["schedule"],
        json!({ "review": "2026-02-20", "voting": "2026-03-01", "results": "2026-03-15" })
    );
    let (_, page) = b.get(&format!("/rounds/{id}"), "en").await;
    assert!(page.contains("The round is open for proposals."));
    assert!(page.contains("voting from 2026-03-01"), "{page}");
    assert_eq!(rounds_now().await, 1);
}
both!(an_official_opens_a_round_through_the_page);

/// A community organisation chooses the arrangement its scheme would run
/// under among those the round allows, naming the NGO the lane arrangement
/// needs; the page refuses a choice the round does not allow.
async fn a_proposal_chooses_among_the_rounds_arrangements(app: App) {
    let c = cast(&app).await;
    let round = app
        .ok(
            "/rounds",
            Some(&c.convenor.1),
            json!({
                "name": "Reserve with a choice",
                "council": c.council,
                "budget": 1_000_000_00i64,
                "area": { "district": "Lodhran" },
                "other_arrangements": [{ "id": "component-sharing", "version": 1 }]
            }),
        )
        .await["record"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (_, chair) = app.web_actor(&c.ccb_a, "chair", "Nazir Ahmad").await;
    let b = Browser::sign_in(&app, &chair).await;
    let (_, page) = b.get(&format!("/rounds/{round}"), "en").await;
    assert!(page.contains("name=\"arrangement\""), "a choice is offered");
    assert!(page.contains("value=\"component-sharing@1\""));
    assert!(
        page.contains("name=\"partner.component-sharing@1.ngo\""),
        "the NGO the lane arrangement needs: {page}"
    );
    let csrf = b.csrf(&format!("/rounds/{round}")).await;
    let base = |arr: &'static str| -> Vec<(String, String)> {
        [
            ("csrf", csrf.as_str()),
            ("organisation", c.ccb_a.as_str()),
            ("arrangement", arr),
            ("title", "Lane sewer, Gali 2"),
            ("description", "The lane lays its sewer; the TMA the trunk."),
            ("estimate", "3,00,000"),
            ("place", "Gali 2"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    };
    let post = |pairs: Vec<(String, String)>| {
        let b = &b;
        let round = round.clone();
        async move {
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            b.post(&format!("/rounds/{round}/propose"), &refs).await
        }
    };
    // Lane sewer without the NGO: refused, nothing submitted.
    let (st, _, html) = post(base("component-sharing@1")).await;
    assert_eq!(st, 422, "{html}");
    assert!(html.contains("`ngo` partner"), "{html}");
    // An arrangement the round does not allow.
    let (st, _, html) = post(base("community-managed-water@1")).await;
    assert_eq!(st, 409, "{html}");
    assert!(
        app.round(&round).await["proposals"]
            .as_object()
            .expect("proposals")
            .is_empty()
    );
    let mut with_ngo = base("component-sharing@1");
    with_ngo.push(("partner.component-sharing@1.ngo".into(), c.ngo.clone()));
    // A partner named for another arrangement's role is not taken.
    with_ngo.push(("partner.cost-sharing@1.ngo".into(), c.ccb_b.clone()));
    let (st, _, html) = post(with_ngo).await;
    assert_eq!(st, 303, "{html}");
    let mut cost = base("cost-sharing@1");
    cost[3].1 = "Boundary wall".into();
    let (st, _, html) = post(cost).await;
    assert_eq!(st, 303, "{html}");
    let r = app.round(&round).await;
    assert_eq!(
        r["proposals"]["1"]["record"]["arrangement"],
        "component-sharing"
    );
    assert_eq!(
        r["proposals"]["1"]["record"]["partners"],
        json!({ "ngo": c.ngo })
    );
    assert_eq!(r["proposals"]["2"]["record"]["arrangement"], "cost-sharing");
    let (_, page) = b.get(&format!("/rounds/{round}"), "en").await;
    assert!(
        page.contains("Runs under"),
        "each proposal says its arrangement"
    );
}
both!(a_proposal_chooses_among_the_rounds_arrangements);

/// A round in the results phase: `round_in_voting` and six online ballots.
async fn round_with_results(app: &App, c: &Cast) -> (String, Vec<u32>) {
    let round = round_in_voting(app, c).await;
    for (i, a) in [vec![1], vec![1, 2], vec![3], vec![2, 3], vec![2], vec![3]]
        .iter()
        .enumerate()
    {
        app.ok(
            &format!("/rounds/{round}/votes"),
            None,
            json!({ "cnic": cnic(i), "approvals": a, "union_council": UC_B }),
        )
        .await;
    }
    assert_eq!(
        phase(app, &round, &c.convenor.1, "results").await.status,
        200
    );
    let winners = winners_of(&app.round(&round).await);
    assert!(winners.len() >= 2, "two winners at least: {winners:?}");
    (round, winners)
}

fn winners_of(round: &Value) -> Vec<u32> {
    round["result"]["winners"]
        .as_array()
        .expect("winners")
        .iter()
        .filter_map(|w| w.as_u64().map(|n| n as u32))
        .collect()
}

/// Every scheme of every initiative, and how many `round_winner_schemed`
/// events the round's chain holds.
async fn schemes_and_records(app: &App, round: &str) -> (Vec<String>, usize) {
    let mut schemes = vec![];
    let mut offset = 0;
    loop {
        let page = app
            .state
            .store
            .initiatives(None, 100, offset)
            .await
            .expect("initiatives");
        if page.is_empty() {
            break;
        }
        offset += page.len() as i64;
        for i in page {
            for (id, _) in app.state.store.scheme_stages(&i.id).await.expect("schemes") {
                schemes.push(id);
            }
        }
    }
    schemes.sort();
    let events = app.get(&format!("/rounds/{round}/events")).await.body;
    let records = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "round_winner_schemed")
        .count();
    (schemes, records)
}

/// Asked for the winners' schemes by several requests at once, the round
/// makes each scheme exactly once, and every request gets the same answer.
async fn winners_become_schemes_once_however_many_ask(app: App) {
    let c = cast(&app).await;
    let (round, winners) = round_with_results(&app, &c).await;
    let path = format!("/rounds/{round}/schemes");
    let mut tasks = vec![];
    for _ in 0..4 {
        let (app, path, token) = (app.clone(), path.clone(), c.convenor.1.clone());
        tasks.push(tokio::spawn(async move {
            app.post(&path, Some(&token), json!({})).await
        }));
    }
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, 200, "{}", r.text);
        for l in r.body.as_array().expect("links") {
            assert!(l["refused"].is_null(), "{l}");
            let n = l["proposal"].as_u64().expect("n") as u32;
            assert_eq!(l["scheme"], winner_scheme_id(&round, n).as_str());
        }
    }
    let (schemes, records) = schemes_and_records(&app, &round).await;
    let mut expected: Vec<String> = winners
        .iter()
        .map(|n| winner_scheme_id(&round, *n))
        .collect();
    expected.sort();
    assert_eq!(schemes, expected, "one scheme per winner, and no other");
    assert_eq!(records, winners.len(), "the round records each once");
    // One initiative per proposing CCB, each with the council.
    for ccb in [&c.ccb_a, &c.ccb_b] {
        let partners = [
            ("community".to_string(), ccb.to_string()),
            ("council".to_string(), c.council.clone()),
        ]
        .into_iter()
        .collect();
        let bound = app
            .state
            .store
            .initiatives_binding("cost-sharing", 1, &partners)
            .await
            .expect("binding");
        assert!(bound.len() <= 1, "{bound:?}");
    }
    let v = app.state.store.verify(None).await.expect("verify");
    assert!(v.broken.is_empty(), "{:?}", v.broken);
}
both!(winners_become_schemes_once_however_many_ask);

/// Run SQL on the test database directly (to make the database fail the
/// way a crash would).
async fn raw(app: &App, sql: &str) {
    match &app.state.store {
        Store::Sqlite(pool, _) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(pool)
                .await
                .expect("sql");
        }
        Store::Postgres(pool) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(pool)
                .await
                .expect("sql");
        }
    }
}

/// A failure between the scheme's events and the round's record of them
/// leaves neither; a scheme left by an older, two-step write is found and
/// recorded, not made again; the retry completes with one scheme per
/// winner.
async fn a_retry_after_a_failure_completes_without_duplicates(app: App) {
    let c = cast(&app).await;
    let (round, winners) = round_with_results(&app, &c).await;
    let path = format!("/rounds/{round}/schemes");
    // The database refuses the round's record of a scheme: the failure
    // falls after the scheme's own events were written in the transaction.
    let (arm, disarm) = if app.state.store.backend() == "sqlite" {
        (
            "CREATE TRIGGER crash BEFORE INSERT ON events WHEN NEW.kind = 'round_winner_schemed' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
            "DROP TRIGGER crash;",
        )
    } else {
        (
            "CREATE FUNCTION crash() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'simulated crash'; END $$ LANGUAGE plpgsql; CREATE TRIGGER crash BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.kind = 'round_winner_schemed') EXECUTE FUNCTION crash();",
            "DROP TRIGGER crash ON events; DROP FUNCTION crash();",
        )
    };
    raw(&app, arm).await;
    let failed = app.ok(&path, Some(&c.convenor.1), json!({})).await;
    let failed = failed.as_array().expect("links");
    assert_eq!(failed.len(), winners.len());
    for l in failed {
        assert!(l["scheme"].is_null(), "{l}");
        assert!(
            l["refused"]
                .as_str()
                .unwrap_or("")
                .contains("simulated crash"),
            "{l}"
        );
    }
    let (schemes, records) = schemes_and_records(&app, &round).await;
    assert!(
        schemes.is_empty(),
        "no scheme without its record: {schemes:?}"
    );
    assert_eq!(records, 0);
    raw(&app, disarm).await;

    // An older server wrote a scheme and stopped before the round knew:
    // the first half done through the service, alone.
    let first = winners[0];
    let s = saanjh_web::budgeting::round(&app.state, &round)
        .await
        .expect("round");
    let proposer = s.proposals[&first]
        .record
        .submitted_by
        .clone()
        .expect("proposer");
    let org = s.proposals[&first]
        .record
        .organisation
        .clone()
        .expect("organisation");
    let partners = [
        ("community".to_string(), org),
        ("council".to_string(), c.council.clone()),
    ]
    .into_iter()
    .collect();
    let initiative = app
        .state
        .store
        .initiatives_binding("cost-sharing", 1, &partners)
        .await
        .expect("binding")
        .into_iter()
        .next()
        .expect("the failed try started the initiative, which is reused");
    let act = saanjh_core::engine::Act {
        action: "propose".into(),
        name: Some("Left half-done".into()),
        components: vec![saanjh_core::engine::ComponentInput {
            kind: "works".into(),
            description: Some("half-done".into()),
            estimate: Some(100_000_00),
        }],
        ..Default::default()
    };
    let lone = winner_scheme_id(&round, first);
    let d = service::decide_act(&app.state, &initiative, &proposer, &act, &lone)
        .await
        .expect("decide");
    app.state
        .store
        .append(&d.chain, d.head, &proposer, &d.at, &d.events)
        .await
        .expect("the scheme alone");
    assert_eq!(
        schemes_and_records(&app, &round).await,
        (vec![lone.clone()], 0)
    );

    // The retry: the lone scheme is recorded as it is, the rest are made.
    let links = app.ok(&path, Some(&c.convenor.1), json!({})).await;
    for l in links.as_array().expect("links") {
        assert!(l["refused"].is_null(), "{l}");
    }
    let (schemes, records) = schemes_and_records(&app, &round).await;
    let mut expected: Vec<String> = winners
        .iter()
        .map(|n| winner_scheme_id(&round, *n))
        .collect();
    expected.sort();
    assert_eq!(schemes, expected);
    assert_eq!(records, winners.len());
    let st = app.round(&round).await;
    assert_eq!(
        st["proposals"][first.to_string()]["scheme"][1],
        lone.as_str()
    );
    let (row, _) = app
        .state
        .store
        .scheme(&lone)
        .await
        .expect("read")
        .expect("scheme");
    assert_eq!(
        row.name, "Left half-done",
        "the existing scheme, not a new one"
    );
    // And again: nothing more.
    let again = app.ok(&path, Some(&c.convenor.1), json!({})).await;
    assert_eq!(again.as_array().map(Vec::len), Some(0));
    assert_eq!(
        schemes_and_records(&app, &round).await.0.len(),
        winners.len()
    );
    let live = app.state.store.projection_dump().await.expect("dump");
    app.state.store.rebuild().await.expect("rebuild");
    assert_eq!(app.state.store.projection_dump().await.expect("dump"), live);
}
both!(a_retry_after_a_failure_completes_without_duplicates);

/// A round decided earlier on paper, imported to be delivered: without a
/// council its winners cannot become schemes (and it says why); with one,
/// its convenor names the community organisation that delivers each winner,
/// and the winner becomes that organisation's scheme with the council.
async fn an_imported_rounds_winners_are_delivered_once_someone_is_named(app: App) {
    let c = cast(&app).await;
    let import = |query: String| {
        let app = app.clone();
        async move {
            app.send(
                reqwest::Method::POST,
                &format!("/rounds/import{query}"),
                Some(&app.admin),
                Some((GOOD_PB.to_string(), "text/plain")),
            )
            .await
        }
    };
    // A record of a past count.
    let r = import(String::new()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let record = r.body["round"].as_str().expect("round").to_string();
    let r = app
        .post(
            &format!("/rounds/{record}/schemes"),
            Some(&c.convenor.1),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["rule"], "round.council");
    assert!(r.text.contains("council"), "{}", r.text);
    // Not a public organisation: refused, nothing imported.
    let chains = app.state.store.chains().await.expect("chains").len();
    let r = import(format!("?council={}", c.ccb_a)).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        app.state.store.chains().await.expect("chains").len(),
        chains
    );
    // For the council.
    let r = import(format!("?council={}", c.council)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let round = r.body["round"].as_str().expect("round").to_string();
    assert_eq!(r.body["winners"], json!([2]));
    let schemes = format!("/rounds/{round}/schemes");
    let links = app.ok(&schemes, Some(&c.convenor.1), json!({})).await;
    assert!(
        links[0]["refused"]
            .as_str()
            .unwrap_or("")
            .contains("deliverer"),
        "{links}"
    );
    let deliverer = format!("/rounds/{round}/proposals/2/deliverer");
    let named = |org: &str, person: &str| json!({ "organisation": org, "person": person });
    // Only the convenor names; a CCB's chair is no convenor.
    let r = app
        .post(
            &deliverer,
            Some(&c.chair_a.1),
            named(&c.ccb_a, &c.chair_a.0),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // The person must belong to the organisation, which must be a community one.
    let r = app
        .post(
            &deliverer,
            Some(&c.convenor.1),
            named(&c.ccb_a, &c.chair_b.0),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = app
        .post(
            &deliverer,
            Some(&c.convenor.1),
            named(&c.ngo, &c.ngo_worker.0),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    // A loser has nobody to deliver it.
    let r = app
        .post(
            &format!("/rounds/{round}/proposals/1/deliverer"),
            Some(&c.convenor.1),
            named(&c.ccb_a, &c.chair_a.0),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let st = app
        .ok(
            &deliverer,
            Some(&c.convenor.1),
            named(&c.ccb_a, &c.chair_a.0),
        )
        .await;
    assert_eq!(
        st["proposals"]["2"]["deliverer"]["organisation"],
        c.ccb_a.as_str()
    );
    let links = app.ok(&schemes, Some(&c.convenor.1), json!({})).await;
    let l = &links[0];
    assert!(l["refused"].is_null(), "{l}");
    assert_eq!(l["scheme"], winner_scheme_id(&round, 2).as_str());
    let (row, _) = app
        .state
        .store
        .scheme(&winner_scheme_id(&round, 2))
        .await
        .expect("read")
        .expect("scheme");
    assert_eq!(row.estimate, 500_00, "the file's cost");
    assert_eq!(row.name, "Wall");
    let partners = app
        .state
        .store
        .partners(&row.initiative_id)
        .await
        .expect("partners");
    assert_eq!(partners.get("community"), Some(&c.ccb_a));
    assert_eq!(partners.get("council"), Some(&c.council));
    // Once a scheme, the deliverer is fixed.
    let r = app
        .post(
            &deliverer,
            Some(&c.convenor.1),
            named(&c.ccb_b, &c.chair_b.0),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
}
both!(an_imported_rounds_winners_are_delivered_once_someone_is_named);

/// Vote attempts are limited per client and round: past the allowance a
/// clear 429 with Retry-After, whatever the attempt; other clients and
/// other rounds are untouched.
async fn vote_attempts_are_limited_per_client_and_round(app: App) {
    let c = cast(&app).await;
    let round = round_in_voting(&app, &c).await;
    let other_round = round_in_voting(&app, &c).await;
    let vote = |round: &str, client: &str, i: usize| {
        let (app, round, client) = (app.clone(), round.to_string(), client.to_string());
        async move {
            let res = app
                .http
                .post(format!("{}/rounds/{round}/votes", app.base))
                .header("x-test-client", client)
                .json(&json!({ "cnic": cnic(i), "approvals": [1], "union_council": UC_A }))
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            let retry = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (status, retry, body)
        }
    };
    // Three attempts an hour: a vote, a repeat, a bad number all count.
    assert_eq!(vote(&round, "10.0.0.1", 1).await.0, 201);
    assert_eq!(vote(&round, "10.0.0.1", 1).await.0, 409);
    let bad = app
        .http
        .post(format!("{}/rounds/{round}/votes", app.base))
        .header("x-test-client", "10.0.0.1")
        .json(&json!({ "cnic": "12345", "approvals": [1], "union_council": UC_A }))
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status().as_u16(), 422);
    let head = app.state.store.head(&round).await.expect("head").0;
    let (status, retry, body) = vote(&round, "10.0.0.1", 2).await;
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some_and(|s| (1..=1200).contains(&s)), "{retry:?}");
    assert_eq!(body["rule"], "round.vote_rate");
    assert!(
        body["detail"].as_str().unwrap_or("").contains("try again"),
        "{body}"
    );
    assert_eq!(
        app.state.store.head(&round).await.expect("head").0,
        head,
        "nothing written"
    );
    // Another client, and the same client in another round, still vote.
    assert_eq!(vote(&round, "10.0.0.2", 2).await.0, 201);
    assert_eq!(vote(&other_round, "10.0.0.1", 3).await.0, 201);
}

mod vote_attempts_are_limited_per_client_and_round {
    fn three_an_hour() -> saanjh_web::budgeting::VoteRate {
        saanjh_web::budgeting::VoteRate::parse("3/1200").expect("rate")
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        let db = super::sqlite_db();
        super::vote_attempts_are_limited_per_client_and_round(
            super::App::start_with(&db, three_an_hour()).await,
        )
        .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        let Some(db) = super::postgres_db().await else {
            return;
        };
        super::vote_attempts_are_limited_per_client_and_round(
            super::App::start_with(&db, three_an_hour()).await,
        )
        .await;
        db.drop_pg().await;
    }
}

/// The convenor may choose how much each Add1 raise adds to every voter's
/// share (one rupee if not), before anyone votes; it is kept with the round
/// and the count uses it. Five voters share Rs 10 lakh (Rs 2 lakh each); by
/// hand, the drain (Rs 4 lakh, voters 1 and 3) becomes affordable only once
/// each holds Rs 3,23,333.33, so with raises of Rs 10,000 the last raise that
/// fits is the 12th (Rs 3,20,000 each) and the 13th would overspend. With
/// one-rupee raises it is the 1,23,333rd. Either way the wall and the water
/// line win. A step of nothing, or above the budget, is refused.
async fn a_round_counts_with_the_add1_step_its_convenor_chose(app: App) {
    let c = cast(&app).await;
    let before = app.state.store.rounds().await.expect("rounds").len();
    for bad in [json!(0), json!(-100), json!(1_000_000_01_i64)] {
        let mut body = json!({
            "name": "CCB reserve 2025-26",
            "council": c.council,
            "budget": 1_000_000_00,
            "area": { "district": "Lodhran", "union_councils": [] },
        });
        body["add1_step"] = bad.clone();
        let r = app.post("/rounds", Some(&c.convenor.1), body).await;
        assert_eq!(r.status, 422, "add1_step {bad}: {}", r.text);
        assert!(r.text.contains("add1_step"), "{}", r.text);
    }
    assert_eq!(
        app.state.store.rounds().await.expect("rounds").len(),
        before,
        "nothing was opened"
    );

    for (step, raises, share) in [
        (Some(10_000_00_i64), "12 raise", "320000.00"),
        (None, "123333 raise", "323333.00"),
    ] {
        let extra = match step {
            Some(s) => json!({ "add1_step": s }),
            None => json!({}),
        };
        let (round, result) = five_voters_counted(&app, &c, extra).await;
        assert_eq!(
            app.round(&round).await["record"]["add1_step"],
            step.map_or(Value::Null, |s| json!(s))
        );
        assert_eq!(winners_of_result(&result), vec![2, 3]);
        let completion = result["completion"].to_string();
        assert!(
            completion.contains(raises) && completion.contains(share),
            "step {step:?}: {completion}"
        );
    }
}
both!(a_round_counts_with_the_add1_step_its_convenor_chose);

/// The round of `round_in_voting_with(extra)`, five residents voting (the
/// wall and the drain; the water line; the drain and the water line; the
/// wall; the water line and the wall), counted: its id and published result.
async fn five_voters_counted(app: &App, c: &Cast, extra: Value) -> (String, Value) {
    let round = round_in_voting_with(app, c, extra).await;
    for (i, approvals) in [vec![1, 2], vec![3], vec![1, 3], vec![2], vec![3, 2]]
        .into_iter()
        .enumerate()
    {
        let r = app
            .post(
                &format!("/rounds/{round}/votes"),
                None,
                json!({ "cnic": cnic(100 + i), "approvals": approvals, "union_council": UC_A }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = phase(app, &round, &c.convenor.1, "results").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let result = app.get(&format!("/rounds/{round}/results")).await.body;
    (round, result)
}

fn winners_of_result(result: &Value) -> Vec<u64> {
    let mut w: Vec<u64> = result["winners"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    w.sort_unstable();
    w
}

/// The convenor of an imported round names who delivers a winner on the
/// results page: the winner says it is waiting, the form offers the members
/// of registered community organisations (an NGO's staff are not offered),
/// a choice that is not on the list is refused and changes nothing, and the
/// named deliverer is then shown and lets the winner become a scheme. Other
/// visitors see that it waits, not the form. In Urdu too.
async fn the_convenor_names_a_deliverer_on_the_results_page(app: App) {
    let c = cast(&app).await;
    let (_, official) = app
        .web_actor(&c.council, "ccb_official", "Kamran Aslam")
        .await;
    let (_, chair) = app.web_actor(&c.ccb_a, "chair", "Bashir Ahmad").await;
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("/rounds/import?council={}", c.council),
            Some(&app.admin),
            Some((GOOD_PB.to_string(), "text/plain")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let round = r.body["round"].as_str().expect("round").to_string();
    let results = format!("/rounds/{round}/results");

    let b = Browser::sign_in(&app, &chair).await;
    let (_, html) = b.get(&results, "en").await;
    assert!(
        html.contains("once the convenor names who delivers it"),
        "{html}"
    );
    assert!(
        !html.contains("form-deliverer-2"),
        "only the convenor names"
    );

    let b = Browser::sign_in(&app, &official).await;
    let (status, html) = b.get(&results, "en").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"form-deliverer-2\""), "{html}");
    assert!(!html.contains("form-deliverer-1"), "proposal 1 lost");
    let chair_a = format!("{}|{}", c.ccb_a, c.chair_a.0);
    assert!(html.contains(&format!("value=\"{chair_a}\"")), "{html}");
    assert!(html.contains("Rashid Ahmad (chair), CCB Basti Maulvian"));
    assert!(
        !html.contains(&format!("value=\"{}|", c.ngo)),
        "an NGO does not deliver a community scheme"
    );
    let (_, ur) = b.get(&results, "ur").await;
    assert!(ur.contains("عمل درآمد کرنے والے کا نام درج کریں"), "{ur}");

    let csrf = b.csrf(&results).await;
    let action = format!("/rounds/{round}/proposals/2/deliverer");
    let before = app.round(&round).await;
    // Someone who is not a member of the organisation named with them.
    let wrong = format!("{}|{}", c.ccb_a, c.chair_b.0);
    for bad in ["", "nobody", wrong.as_str()] {
        let (status, _, html) = b
            .post(&action, &[("csrf", &csrf), ("deliverer", bad)])
            .await;
        assert!(status == 422 || status == 409, "{bad}: {status} {html}");
        assert_eq!(
            app.round(&round).await,
            before,
            "nothing changed for {bad:?}"
        );
    }
    let (status, location, _) = b
        .post(&action, &[("csrf", &csrf), ("deliverer", &chair_a)])
        .await;
    assert_eq!(status, 303);
    assert!(location.contains("done=deliverer"), "{location}");
    let (_, html) = b.get(&results, "en").await;
    assert!(
        html.contains("Delivered by: <bdi>Rashid Ahmad, CCB Basti Maulvian</bdi>"),
        "{html}"
    );
    assert!(!html.contains("form-deliverer-2"));
    // Now the winner can become a scheme from the same page.
    let (status, _, html) = b
        .post(&format!("/rounds/{round}/schemes"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, 303, "{html}");
    let st = app.round(&round).await;
    assert!(st["proposals"]["2"]["scheme"].is_array(), "{st}");
}
both!(the_convenor_names_a_deliverer_on_the_results_page);
/// The results page says how the Method of Equal Shares' completion ran and
/// the tie-break criteria in the visitor's language. The round is the one of
/// `a_round_counts_with_the_add1_step_its_convenor_chose` with raises of
/// Rs 10,000: each of the 5 voters starts with Rs 2,00,000 (Rs 10 lakh / 5)
/// and ends at Rs 3,20,000 after 12 raises, the 13th overspending.
async fn the_results_page_says_the_completion_and_criteria_in_urdu(app: App) {
    let c = cast(&app).await;
    let (round, result) =
        five_voters_counted(&app, &c, json!({ "add1_step": 10_000_00_i64 })).await;
    assert_eq!(result["completion_detail"]["iterations"], 12);
    assert_eq!(result["completion_detail"]["stop"]["kind"], "over-budget");

    let http = reqwest::Client::new();
    let page = |lang: &'static str| {
        let http = http.clone();
        let url = format!("{}/rounds/{round}/results", app.root);
        async move {
            let r = http
                .get(url)
                .header("cookie", format!("lang={lang}"))
                .header("accept-language", lang)
                .send()
                .await
                .expect("results");
            assert_eq!(r.status().as_u16(), 200);
            r.text().await.expect("body")
        }
    };
    let completion_of = |html: &str| -> String {
        let at = html.find("id=\"completion\"").expect("completion shown");
        html[at..at + html[at..].find("</p>").expect("end")].to_string()
    };
    let criteria_of = |html: &str| -> String {
        let at = html.find("id=\"criteria\"").expect("criteria shown");
        html[at..at + html[at..].find("</dd>").expect("end")].to_string()
    };

    let en = page("en").await;
    let line = completion_of(&en);
    for part in [
        "Rs 2,00,000",
        "Rs 3,20,000",
        "12 raises",
        "Rs 10,000",
        "over the budget",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
    assert!(!line.contains("lang=\"en\""), "{line}");
    let criteria = criteria_of(&en);
    assert!(
        criteria.contains("lowest cost, then most votes"),
        "{criteria}"
    );

    let ur = page("ur").await;
    let line = completion_of(&ur);
    for part in [
        "ہر ووٹر کا حصہ",
        "اضافوں",
        "بجٹ سے زیادہ",
        "Rs 2,00,000",
        "Rs 3,20,000",
        "12",
        "Rs 10,000",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
    assert!(
        !line.contains("raise"),
        "English left on the Urdu page: {line}"
    );
    assert!(!line.contains("lang=\"en\""), "{line}");
    let criteria = criteria_of(&ur);
    assert!(
        criteria.contains("کم لاگت، پھر زیادہ ووٹ، پھر قرعہ کی ترتیب"),
        "{criteria}"
    );
    assert!(!criteria.contains("lowest"), "{criteria}");
}
both!(the_results_page_says_the_completion_and_criteria_in_urdu);
