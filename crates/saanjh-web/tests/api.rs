//! The JSON API end to end: the real server on an ephemeral port, a fresh
//! database per test (SQLite in a temp dir; PostgreSQL too when
//! `SAANJH_TEST_POSTGRES_URL` is set) and a `ManualClock` the tests advance.
//! Each spec runs on both backends through `both!`.

#[macro_use]
mod common;

use std::sync::Arc;

use saanjh_core::event::REGISTRY_CHAIN;
use saanjh_store::Store;
use saanjh_web::service::{self, NewUser};
use saanjh_web::{AppState, ManualClock};
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

const ADMIN_PASSWORD: &str = "correct horse battery";
const PASSWORD: &str = "a long enough password";

// ── Databases ──

use common::{Db, postgres_db, sqlite_db};

// ── The app under test ──

struct App {
    base: String,
    http: reqwest::Client,
    state: AppState,
    clock: Arc<ManualClock>,
    admin: String,
}

struct Res {
    status: u16,
    content_type: String,
    body: Value,
}

impl App {
    async fn start(db: &Db) -> App {
        let store = Store::connect(&db.url).await.expect("connect");
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00 UTC)));
        let state = AppState::new(store, clock.clone());
        service::create_user(
            &state,
            NewUser {
                username: "admin".into(),
                password: ADMIN_PASSWORD.into(),
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
        let http = reqwest::Client::new();
        let mut app = App {
            base: format!("http://{addr}/api/v1"),
            http,
            state,
            clock,
            admin: String::new(),
        };
        app.admin = app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Res {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Res {
            status,
            content_type,
            body,
        }
    }
    async fn get(&self, path: &str, token: Option<&str>) -> Res {
        self.send(reqwest::Method::GET, path, token, None).await
    }
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        self.send(reqwest::Method::POST, path, token, Some(body.to_string()))
            .await
    }
    /// POST that must succeed; returns the body.
    async fn ok(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let r = self.post(path, token, body.clone()).await;
        assert!(
            r.status == 200 || r.status == 201,
            "POST {path} {body} → {} {}",
            r.status,
            r.body
        );
        r.body
    }
    async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .post(
                "/tokens",
                None,
                json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(r.status, 201, "login {username}: {}", r.body);
        r.body["token"].as_str().expect("token").to_string()
    }
    async fn org(&self, name: &str, kind: &str) -> String {
        let b = self
            .ok(
                "/organisations",
                Some(&self.admin),
                json!({ "name": name, "kind": kind, "district": "Lodhran" }),
            )
            .await;
        b["id"].as_str().expect("org id").to_string()
    }
    async fn person(&self, name: &str, gender: &str) -> String {
        let b = self
            .ok(
                "/people",
                Some(&self.admin),
                json!({ "name": name, "gender": gender }),
            )
            .await;
        b["id"].as_str().expect("person id").to_string()
    }
    async fn member(&self, person: &str, org: &str, position: &str) {
        self.ok(
            "/memberships",
            Some(&self.admin),
            json!({ "person": person, "organisation": org, "position": position }),
        )
        .await;
    }
    /// A person holding `position` in `org`, with a user and a token.
    async fn actor(&self, org: &str, position: &str, name: &str, gender: &str) -> String {
        let p = self.person(name, gender).await;
        self.member(&p, org, position).await;
        let username = format!("u{}", uuid::Uuid::now_v7().simple());
        self.ok(
            "/users",
            Some(&self.admin),
            json!({ "username": username, "password": PASSWORD, "person_id": p }),
        )
        .await;
        self.login(&username, PASSWORD).await
    }
    /// Ordinary members, to meet boundary rules on numbers.
    async fn members(&self, org: &str, n: usize, gender: &str) {
        for i in 0..n {
            let p = self.person(&format!("Member {i}"), gender).await;
            self.member(&p, org, "member").await;
        }
    }
    async fn initiative(&self, arrangement: &str, partners: Value) -> String {
        let b = self
            .ok("/initiatives", Some(&self.admin), json!({ "name": format!("{arrangement} initiative"), "locality": "Ward 4", "district": "Lodhran", "arrangement": arrangement, "version": 1, "partners": partners }))
            .await;
        b["id"].as_str().expect("initiative id").to_string()
    }
    async fn scheme(&self, initiative: &str, token: &str, components: Value) -> String {
        let b = self
            .ok(
                &format!("/initiatives/{initiative}/schemes"),
                Some(token),
                json!({ "name": "Street 7", "components": components }),
            )
            .await;
        b["scheme"].as_str().expect("scheme id").to_string()
    }
    async fn act(&self, scheme: &str, token: &str, body: Value) -> Res {
        self.post(&format!("/schemes/{scheme}/acts"), Some(token), body)
            .await
    }
    /// An act that must be allowed; returns the outcome.
    async fn must(&self, scheme: &str, token: &str, body: Value) -> Value {
        let r = self.act(scheme, token, body.clone()).await;
        assert_eq!(r.status, 200, "act {body} refused: {}", r.body);
        r.body
    }
    /// An act that must be refused with `status`, naming `rule`.
    async fn refused(
        &self,
        scheme: &str,
        token: &str,
        body: Value,
        status: u16,
        rule: &str,
    ) -> Value {
        let before = self
            .state
            .store
            .head(&self.initiative_of(scheme).await)
            .await
            .expect("head")
            .0;
        let r = self.act(scheme, token, body.clone()).await;
        assert_eq!(r.status, status, "act {body}: {}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
        assert_eq!(r.body["rule"], rule, "{}", r.body);
        assert!(
            r.body["allowed_if"].as_str().is_some_and(|s| !s.is_empty()),
            "{}",
            r.body
        );
        assert_eq!(r.body["status"], status);
        let after = self
            .state
            .store
            .head(&self.initiative_of(scheme).await)
            .await
            .expect("head")
            .0;
        assert_eq!(before, after, "a refused act wrote events");
        r.body
    }
    async fn initiative_of(&self, scheme: &str) -> String {
        self.state
            .store
            .scheme(scheme)
            .await
            .expect("scheme")
            .map(|(r, _)| r.initiative_id)
            .expect("known scheme")
    }
    async fn stage(&self, scheme: &str) -> String {
        let r = self.get(&format!("/schemes/{scheme}"), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["stage"].as_str().expect("stage").to_string()
    }
    /// The id of the meeting an act recorded.
    fn meeting_id(outcome: &Value) -> String {
        outcome["events"]
            .as_array()
            .and_then(|es| es.iter().find(|e| e["kind"] == "meeting_recorded"))
            .and_then(|e| e["payload"]["meeting"].as_str())
            .expect("a meeting_recorded event")
            .to_string()
    }
    async fn verify_ok(&self, initiative: &str) {
        let r = self
            .get(&format!("/initiatives/{initiative}/verify"), None)
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["ok"], true, "{}", r.body);
    }
}

fn meeting(body: &str, women: u32, men: u32, action: Option<&str>, votes_for: u32) -> Value {
    let mut resolutions = vec![];
    if let Some(a) = action {
        resolutions.push(json!({ "motion": format!("to {a}"), "action": a, "votes_for": votes_for, "votes_against": 0 }));
    }
    json!({ "body": body, "held_on": "2026-01-04", "place": "the mosque courtyard", "attendance": { "women": women, "men": men }, "resolutions": resolutions, "minutes": "Private minutes: Rashida's household is behind on payments." })
}

// ── Component sharing (Orangi / Lodhran) ──

struct Lane {
    initiative: String,
    manager: String,
    treasurer: String,
    resident: String,
    organiser: String,
    ngo_engineer: String,
    municipal: String,
}

async fn lane(app: &App) -> Lane {
    let community = app.org("Street 7 lane organisation", "community").await;
    let government = app.org("Lodhran TMA", "public").await;
    let ngo = app.org("Lodhran Pilot Project", "third_sector").await;
    let manager = app
        .actor(&community, "lane_manager", "Muhammad Aslam", "male")
        .await;
    let treasurer = app
        .actor(&community, "treasurer", "Shamim Akhtar", "female")
        .await;
    let resident = app.actor(&community, "resident", "Nasreen", "female").await;
    let organiser = app.actor(&ngo, "social_organiser", "Saima", "female").await;
    let ngo_engineer = app.actor(&ngo, "engineer", "Imran", "male").await;
    app.actor(&ngo, "programme_manager", "Farhat", "female")
        .await;
    let municipal = app
        .actor(&government, "municipal_engineer", "Tariq", "male")
        .await;
    // Boundary rule: the lane organisation needs at least 5 members.
    let partners = json!({ "community": community, "government": government, "ngo": ngo });
    let r = app.post("/initiatives", Some(&app.admin), json!({ "name": "x", "locality": "Ward 4", "district": "Lodhran", "arrangement": "component-sharing", "version": 1, "partners": partners })).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["rule"], "partners.community");
    app.members(&community, 2, "male").await;
    let initiative = app.initiative("component-sharing", partners).await;
    Lane {
        initiative,
        manager,
        treasurer,
        resident,
        organiser,
        ngo_engineer,
        municipal,
    }
}

async fn lifecycle_component_sharing(app: App) {
    let l = lane(&app).await;
    let s = app.scheme(&l.initiative, &l.resident, json!([{ "kind": "lane_sewer" }, { "kind": "trunk_sewer", "description": "to the disposal station" }])).await;
    assert_eq!(app.stage(&s).await, "requested");

    // Wrong position: a resident may not survey.
    app.refused(
        &s,
        &l.resident,
        json!({ "action": "survey" }),
        403,
        "survey-promptly",
    )
    .await;
    // Wrong stage: handing over a scheme that is only requested.
    app.refused(
        &s,
        &l.manager,
        json!({ "action": "hand_over" }),
        409,
        "lifecycle.hand_over",
    )
    .await;

    app.must(&s, &l.ngo_engineer, json!({ "action": "survey" }))
        .await;
    app.must(&s, &l.resident, json!({ "action": "register_household", "household": { "house": "12", "head": "Rashida Bibi", "members": 6 } })).await;
    app.must(&s, &l.ngo_engineer, json!({ "action": "estimate", "estimates": { "lane_sewer": 5_000_000, "trunk_sewer": 20_000_000 } })).await;
    assert_eq!(app.stage(&s).await, "estimated");

    // Aggregation: organising the lane needs a quorate resolution.
    app.refused(
        &s,
        &l.organiser,
        json!({ "action": "organise_lane" }),
        409,
        "aggregation.organise_lane",
    )
    .await;
    let r = app
        .post(
            &format!("/initiatives/{}/meetings", l.initiative),
            Some(&l.manager),
            json!({ "scheme": s, "meeting": meeting("community", 2, 2, Some("organise_lane"), 4) }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let m = App::meeting_id(&r.body);
    app.must(
        &s,
        &l.organiser,
        json!({ "action": "organise_lane", "resolution_meeting": m }),
    )
    .await;

    // Unmet condition: funds before works.
    let refusal = app
        .refused(
            &s,
            &l.manager,
            json!({ "action": "confirm_funds" }),
            409,
            "funds-before-works",
        )
        .await;
    assert!(
        refusal["detail"]
            .as_str()
            .unwrap_or("")
            .contains("paid('community')"),
        "{refusal}"
    );
    app.must(&s, &l.treasurer, json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 5_000_000, "receipt": "R-001" } })).await;
    app.must(&s, &l.manager, json!({ "action": "confirm_funds" }))
        .await;
    app.must(&s, &l.manager, json!({ "action": "start_works" }))
        .await;
    app.refused(
        &s,
        &l.manager,
        json!({ "action": "complete_internal" }),
        409,
        "inspected-before-completion",
    )
    .await;
    app.must(
        &s,
        &l.ngo_engineer,
        json!({ "action": "inspect", "note": "joints sealed" }),
    )
    .await;
    app.must(&s, &l.manager, json!({ "action": "complete_internal" }))
        .await;
    app.must(&s, &l.manager, json!({ "action": "request_external" }))
        .await;
    app.must(&s, &l.municipal, json!({ "action": "complete_external" }))
        .await;
    // Hand-over needs both signatures.
    let first = app
        .must(&s, &l.manager, json!({ "action": "hand_over" }))
        .await;
    assert_eq!(first["completed"], false);
    assert_eq!(app.stage(&s).await, "external_completed");
    let shown = app.get(&format!("/schemes/{s}"), None).await;
    assert_eq!(
        shown.body["pending_signatures"].as_array().map(Vec::len),
        Some(1)
    );
    app.refused(
        &s,
        &l.manager,
        json!({ "action": "hand_over" }),
        409,
        "aggregation.hand_over",
    )
    .await;
    app.must(&s, &l.municipal, json!({ "action": "hand_over" }))
        .await;
    assert_eq!(app.stage(&s).await, "in_operation");

    // Information rules: the public sees events but not minutes or names.
    let public = app
        .get(&format!("/schemes/{s}/events?per_page=500"), None)
        .await;
    assert_eq!(public.status, 200);
    let events = public.body["items"].as_array().expect("items").clone();
    let hh = events
        .iter()
        .find(|e| e["kind"] == "household_registered")
        .expect("household event");
    assert_eq!(hh["payload"]["record"]["head"], Value::Null);
    let mt = events
        .iter()
        .find(|e| e["kind"] == "meeting_recorded")
        .expect("meeting event");
    assert_eq!(mt["payload"]["record"]["minutes"], Value::Null);
    let partner = app
        .get(
            &format!("/schemes/{s}/events?per_page=500"),
            Some(&l.treasurer),
        )
        .await;
    let items = partner.body["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .any(|e| e["payload"]["record"]["head"] == "Rashida Bibi")
    );
    assert!(items.iter().any(|e| {
        e["payload"]["record"]["minutes"]
            .as_str()
            .is_some_and(|m| m.starts_with("Private"))
    }));
    let meetings = app
        .get(&format!("/initiatives/{}/meetings", l.initiative), None)
        .await;
    assert_eq!(meetings.body["items"][0]["record"]["minutes"], Value::Null);

    // Paging.
    let p1 = app
        .get(
            &format!("/initiatives/{}/events?per_page=3&page=2", l.initiative),
            None,
        )
        .await;
    assert_eq!(
        (p1.body["page"].as_u64(), p1.body["per_page"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(p1.body["items"][0]["seq"], 4);

    app.verify_ok(&l.initiative).await;
    // Rebuild equals live.
    let live = app.state.store.projection_dump().await.expect("dump");
    app.state.store.rebuild().await.expect("rebuild");
    assert_eq!(live, app.state.store.projection_dump().await.expect("dump"));
}
both!(lifecycle_component_sharing);

// ── Cost sharing (Citizen Community Board) ──

async fn lifecycle_cost_sharing(app: App) {
    let ccb = app.org("Chiniot CCB", "community").await;
    let council = app.org("Chiniot TMA", "public").await;
    let chair = app.actor(&ccb, "chair", "Haji Bashir", "male").await;
    let secretary = app.actor(&ccb, "secretary", "Zubaida", "female").await;
    let c1 = app.actor(&ccb, "project_committee", "Akram", "male").await;
    app.members(&ccb, 22, "male").await;
    let official = app
        .actor(
            &council,
            "ccb_official",
            "EDO Community Development",
            "male",
        )
        .await;
    let engineer = app
        .actor(&council, "works_engineer", "XEN Works", "male")
        .await;
    let monitor = app
        .actor(
            &council,
            "monitoring_committee",
            "Monitoring member",
            "female",
        )
        .await;
    let init = app
        .initiative(
            "cost-sharing",
            json!({ "community": ccb, "council": council }),
        )
        .await;

    let s = app
        .scheme(
            &init,
            &chair,
            json!([{ "kind": "works", "description": "girls' school boundary wall" }]),
        )
        .await;
    app.must(
        &s,
        &engineer,
        json!({ "action": "vet_estimate", "estimates": { "works": 100_000_000 } }),
    )
    .await;
    // Unmet condition: the 20% community share is not deposited yet.
    app.refused(
        &s,
        &chair,
        json!({ "action": "deposit_share" }),
        409,
        "deposit-before-approval",
    )
    .await;
    app.must(&s, &secretary, json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 20_000_000, "receipt": "CCB-1" } })).await;
    app.must(&s, &chair, json!({ "action": "deposit_share" }))
        .await;
    // Approval by a council resolution.
    let rec = app.must(&s, &official, json!({ "action": "record_meeting", "meeting": meeting("council", 1, 2, Some("approve"), 3) })).await;
    let m = App::meeting_id(&rec);
    app.must(
        &s,
        &official,
        json!({ "action": "approve", "resolution_meeting": m }),
    )
    .await;
    app.must(&s, &chair, json!({ "action": "sign_agreement" }))
        .await;
    app.must(&s, &official, json!({ "action": "sign_agreement" }))
        .await;
    assert_eq!(app.stage(&s).await, "agreed");
    app.refused(
        &s,
        &c1,
        json!({ "action": "start_execution" }),
        409,
        "committee-starts",
    )
    .await;
    app.must(&s, &official, json!({ "action": "record_release", "entry": { "role": "council", "amount": 26_000_000, "receipt": "REL-1", "component": "works" } })).await;
    app.must(&s, &c1, json!({ "action": "start_execution" }))
        .await;
    app.must(&s, &official, json!({ "action": "start_execution" }))
        .await;
    assert_eq!(app.stage(&s).await, "executing");
    app.must(
        &s,
        &secretary,
        json!({ "action": "report_progress", "note": "foundations laid" }),
    )
    .await;
    app.refused(
        &s,
        &engineer,
        json!({ "action": "complete" }),
        409,
        "completion-certified",
    )
    .await;
    app.must(
        &s,
        &engineer,
        json!({ "action": "monitor", "note": "visited" }),
    )
    .await;
    app.must(&s, &engineer, json!({ "action": "complete" }))
        .await;
    app.must(&s, &monitor, json!({ "action": "audit" })).await;
    assert_eq!(app.stage(&s).await, "audited");

    // must_not: no new money to a CCB with an unfinished project. A second
    // scheme reaches approval while a third is executing.
    let s2 = app
        .scheme(&init, &chair, json!([{ "kind": "works" }]))
        .await;
    let s3 = app
        .scheme(&init, &chair, json!([{ "kind": "works" }]))
        .await;
    for (x, receipt) in [(&s2, "A"), (&s3, "B")] {
        app.must(
            x,
            &engineer,
            json!({ "action": "vet_estimate", "estimates": { "works": 10_000_000 } }),
        )
        .await;
        app.must(x, &secretary, json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 2_000_000, "receipt": receipt } })).await;
        app.must(x, &chair, json!({ "action": "deposit_share" }))
            .await;
    }
    let rec = app.must(&s3, &official, json!({ "action": "record_meeting", "meeting": meeting("council", 1, 2, Some("approve"), 3) })).await;
    app.must(
        &s3,
        &official,
        json!({ "action": "approve", "resolution_meeting": App::meeting_id(&rec) }),
    )
    .await;
    let rec = app.must(&s2, &official, json!({ "action": "record_meeting", "meeting": meeting("council", 1, 2, Some("approve"), 3) })).await;
    app.refused(
        &s2,
        &official,
        json!({ "action": "approve", "resolution_meeting": App::meeting_id(&rec) }),
        409,
        "no-new-money-to-unfinished-ccb",
    )
    .await;

    // The acts list for the signed-in user.
    let acts = app
        .get(&format!("/schemes/{s2}/acts"), Some(&official))
        .await;
    assert_eq!(acts.status, 200, "{}", acts.body);
    let reject = acts
        .body
        .as_array()
        .and_then(|a| a.iter().find(|x| x["action"] == "reject"))
        .expect("reject listed");
    assert_eq!(reject["allowed"], true);
    let acts = app.get(&format!("/schemes/{s2}/acts"), Some(&c1)).await;
    let reject = acts
        .body
        .as_array()
        .and_then(|a| a.iter().find(|x| x["action"] == "reject"))
        .expect("reject listed");
    assert_eq!(reject["allowed"], false);
    assert_eq!(reject["refusal"]["rule"], "council-may-reject");

    app.verify_ok(&init).await;
    let live = app.state.store.projection_dump().await.expect("dump");
    app.state.store.rebuild().await.expect("rebuild");
    assert_eq!(live, app.state.store.projection_dump().await.expect("dump"));
}
both!(lifecycle_cost_sharing);

// ── Community-managed water (WASCO) ──

async fn lifecycle_community_managed_water(app: App) {
    let wasco = app.org("Kalar Syedan WASCO", "community").await;
    let utility = app.org("Rawalpindi WASA", "public").await;
    let ngo = app.org("Changa Pani", "third_sector").await;
    let president = app.actor(&wasco, "president", "Kausar", "female").await;
    let treasurer = app.actor(&wasco, "treasurer", "Naveed", "male").await;
    let rep = app
        .actor(&wasco, "street_representative", "Bilal", "male")
        .await;
    app.members(&wasco, 4, "female").await;
    let engineer = app.actor(&utility, "engineer", "SDO Water", "male").await;
    let director = app
        .actor(&utility, "director", "Director Engineering", "male")
        .await;
    let organiser = app
        .actor(&ngo, "social_organiser", "Rubina", "female")
        .await;
    let init = app
        .initiative(
            "community-managed-water",
            json!({ "community": wasco, "utility": utility, "ngo": ngo }),
        )
        .await;

    let s = app
        .scheme(
            &init,
            &organiser,
            json!([{ "kind": "internal_fittings" }, { "kind": "main_system" }]),
        )
        .await;
    app.refused(
        &s,
        &rep,
        json!({ "action": "design" }),
        403,
        "utility-designs",
    )
    .await;
    app.must(&s, &engineer, json!({ "action": "design", "estimates": { "internal_fittings": 3_000_000, "main_system": 12_000_000 } })).await;
    app.must(&s, &rep, json!({ "action": "register_household", "household": { "house": "B-14", "head": "Ghulam Rasool" } })).await;
    app.refused(
        &s,
        &organiser,
        json!({ "action": "mobilise" }),
        409,
        "mobilised-by-resolution",
    )
    .await;
    app.must(
        &s,
        &rep,
        json!({ "action": "record_pledge", "entry": { "role": "community", "amount": 3_000_000 } }),
    )
    .await;
    let rec = app.must(&s, &president, json!({ "action": "record_meeting", "meeting": meeting("community", 3, 1, Some("mobilise"), 4) })).await;
    app.must(
        &s,
        &organiser,
        json!({ "action": "mobilise", "resolution_meeting": App::meeting_id(&rec) }),
    )
    .await;
    app.must(&s, &engineer, json!({ "action": "start_works" }))
        .await;
    app.must(
        &s,
        &engineer,
        json!({ "action": "inspect", "note": "pressure test passed" }),
    )
    .await;
    app.must(&s, &engineer, json!({ "action": "commission" }))
        .await;
    app.must(&s, &director, json!({ "action": "hand_over" }))
        .await;
    app.must(&s, &president, json!({ "action": "hand_over" }))
        .await;
    assert_eq!(app.stage(&s).await, "operating");
    app.must(
        &s,
        &treasurer,
        json!({ "action": "record_billing", "note": "January bills: 212 issued" }),
    )
    .await;
    app.must(
        &s,
        &president,
        json!({ "action": "suspend", "note": "pump burnt out" }),
    )
    .await;
    app.refused(
        &s,
        &president,
        json!({ "action": "record_billing" }),
        409,
        "lifecycle.record_billing",
    )
    .await;
    app.must(&s, &president, json!({ "action": "resume" }))
        .await;
    assert_eq!(app.stage(&s).await, "operating");
    app.verify_ok(&init).await;
}
both!(lifecycle_community_managed_water);

// ── Time: obligations late, then breached ──

async fn obligations_late_and_breached(app: App) {
    let ccb = app.org("Khanewal CCB", "community").await;
    let council = app.org("Khanewal TMA", "public").await;
    let chair = app.actor(&ccb, "chair", "Chair", "male").await;
    app.members(&ccb, 24, "female").await;
    let engineer = app
        .actor(&council, "works_engineer", "Engineer", "male")
        .await;
    app.actor(&council, "ccb_official", "Official", "male")
        .await;
    let init = app
        .initiative(
            "cost-sharing",
            json!({ "community": ccb, "council": council }),
        )
        .await;
    let s = app
        .scheme(&init, &chair, json!([{ "kind": "works" }]))
        .await;
    let obligations = |status: &str| format!("/schemes/{s}/obligations?status={status}");

    let open = app.get(&obligations("open"), None).await;
    assert_eq!(open.status, 200, "{}", open.body);
    let vet = open.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["rule_id"] == "vet-within-15-days"))
        .expect("vetting obligation")
        .clone();
    assert_eq!(vet["overdue"], false);

    app.clock.advance(Duration::days(16));
    let late = app.get(&obligations("open"), None).await;
    let vet = late.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["rule_id"] == "vet-within-15-days"))
        .expect("still open")
        .clone();
    assert_eq!(vet["overdue"], true, "past due and not yet swept: late");

    // What the background sweeper runs each minute.
    assert!(service::sweep_due(&app.state).await.expect("sweep") > 0);
    let breached = app.get(&obligations("breached"), None).await;
    let b = breached.body["items"]
        .as_array()
        .and_then(|a| a.first())
        .expect("a breach")
        .clone();
    assert_eq!(b["rule_id"], "vet-within-15-days");
    assert!(
        b["consequence"]
            .as_str()
            .unwrap_or("")
            .contains("escalated"),
        "{b}"
    );
    let escalated = app.get(&obligations("open"), None).await;
    assert!(
        escalated.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|o| o["position"] == "council.ccb_official" && o["escalated_from"] == vet["id"])
    );
    let events = app
        .get(&format!("/schemes/{s}/events?per_page=500"), None)
        .await;
    assert!(
        events.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["kind"] == "obligation_breached"
                && e["payload"]["rule"] == "vet-within-15-days")
    );
    // Sweeping again changes nothing.
    assert_eq!(service::sweep_due(&app.state).await.expect("sweep"), 0);

    // The engineer vets late: the escalated duty (same action) is met.
    app.must(
        &s,
        &engineer,
        json!({ "action": "vet_estimate", "estimates": { "works": 1_000_000 } }),
    )
    .await;
    let met = app.get(&obligations("met"), None).await;
    assert!(
        met.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|o| o["position"] == "council.ccb_official"),
        "{}",
        met.body
    );
    app.verify_ok(&init).await;
}
both!(obligations_late_and_breached);

// ── Bad input changes nothing ──

async fn bad_input_changes_nothing(app: App) {
    let l = lane(&app).await;
    let s = app
        .scheme(
            &l.initiative,
            &l.resident,
            json!([{ "kind": "lane_sewer" }]),
        )
        .await;
    let registry = app.state.store.head(REGISTRY_CHAIN).await.expect("head").0;
    let chain = app.state.store.head(&l.initiative).await.expect("head").0;
    let users = app.state.store.user_count().await.expect("users");

    // Malformed JSON.
    let r = app
        .send(
            reqwest::Method::POST,
            "/organisations",
            Some(&app.admin),
            Some("{\"name\": \"x\",".into()),
        )
        .await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (400, "application/problem+json"),
        "{}",
        r.body
    );
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("/schemes/{s}/acts"),
            Some(&l.manager),
            Some("{\"action\": \"surv".into()),
        )
        .await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (400, "application/problem+json"),
        "{}",
        r.body
    );
    // Well-formed JSON of the wrong shape.
    let r = app
        .post(
            &format!("/schemes/{s}/acts"),
            Some(&l.manager),
            json!({ "action": "survey", "colour": "blue" }),
        )
        .await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (422, "application/problem+json"),
        "{}",
        r.body
    );
    // An incomplete act: a household without a house number.
    app.refused(
        &s,
        &l.resident,
        json!({ "action": "register_household" }),
        422,
        "input",
    )
    .await;
    // Unknown ids.
    for path in [
        "/schemes/nope",
        "/initiatives/nope",
        "/organisations/nope",
        "/people/nope",
        "/arrangements/nope/1",
        "/nowhere",
    ] {
        let r = app.get(path, None).await;
        assert_eq!(
            (r.status, r.content_type.as_str()),
            (404, "application/problem+json"),
            "{path}: {}",
            r.body
        );
    }
    let r = app
        .post(
            "/schemes/nope/acts",
            Some(&l.manager),
            json!({ "action": "survey" }),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Duplicates.
    let r = app
        .post(
            "/users",
            Some(&app.admin),
            json!({ "username": "admin", "password": PASSWORD }),
        )
        .await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (409, "application/problem+json"),
        "{}",
        r.body
    );
    let r = app
        .post(
            "/organisations",
            Some(&app.admin),
            json!({ "name": "Lodhran TMA", "kind": "public" }),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // An arrangement version is never edited in place.
    let text = saanjh_core::BUILT_IN_ARRANGEMENTS[1]
        .1
        .replace("at least 25", "at least 26");
    let r = app
        .post("/arrangements", Some(&app.admin), json!({ "source": text }))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = app
        .post(
            "/arrangements",
            Some(&app.admin),
            json!({ "source": "[arrangement]\nid = 3" }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body["errors"][0]["line"].as_u64().is_some(), "{}", r.body);
    // Unauthenticated and unauthorised.
    let r = app
        .post(
            "/organisations",
            None,
            json!({ "name": "y", "kind": "public" }),
        )
        .await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (401, "application/problem+json")
    );
    let r = app
        .post(
            "/organisations",
            Some("not-a-token"),
            json!({ "name": "y", "kind": "public" }),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = app
        .post(
            "/organisations",
            Some(&l.manager),
            json!({ "name": "y", "kind": "public" }),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            &format!("/schemes/{s}/acts"),
            None,
            json!({ "action": "survey" }),
        )
        .await;
    assert_eq!(r.status, 401);
    // An administrator holds no position, so the rules refuse.
    app.refused(
        &s,
        &app.admin,
        json!({ "action": "survey" }),
        403,
        "survey-promptly",
    )
    .await;

    assert_eq!(
        app.state.store.head(REGISTRY_CHAIN).await.expect("head").0,
        registry
    );
    assert_eq!(
        app.state.store.head(&l.initiative).await.expect("head").0,
        chain
    );
    assert_eq!(app.state.store.user_count().await.expect("users"), users);
}
both!(bad_input_changes_nothing);

// ── Sign-in rate limit ──

async fn login_rate_limited(app: App) {
    for _ in 0..5 {
        let r = app
            .post(
                "/tokens",
                None,
                json!({ "username": "admin", "password": "wrong" }),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = app
        .post(
            "/tokens",
            None,
            json!({ "username": "admin", "password": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (429, "application/problem+json"),
        "{}",
        r.body
    );
    app.clock.advance(Duration::minutes(16));
    app.login("admin", ADMIN_PASSWORD).await;
}
both!(login_rate_limited);

// ── Tamper detection ──

async fn tamper_detected(app: App) {
    let l = lane(&app).await;
    let s = app
        .scheme(
            &l.initiative,
            &l.resident,
            json!([{ "kind": "lane_sewer" }]),
        )
        .await;
    app.must(
        &s,
        &l.ngo_engineer,
        json!({ "action": "survey", "note": "survey done" }),
    )
    .await;
    app.verify_ok(&l.initiative).await;
    let drop = if app.state.store.backend() == "postgres" {
        "DROP TRIGGER events_no_update ON events"
    } else {
        "DROP TRIGGER events_no_update"
    };
    app.state
        .store
        .execute_raw(drop)
        .await
        .expect("drop trigger");
    let events = app
        .get(&format!("/initiatives/{}/events", l.initiative), None)
        .await;
    let seq = events.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["payload"]["note"] == "survey done"))
        .and_then(|e| e["seq"].as_i64())
        .expect("the survey event");
    let n = app
        .state
        .store
        .execute_raw(&format!("UPDATE events SET payload = replace(payload, 'survey done', 'survey skipped') WHERE chain = '{}' AND seq = {seq}", l.initiative))
        .await
        .expect("tamper");
    assert_eq!(n, 1);
    let r = app
        .get(&format!("/initiatives/{}/verify", l.initiative), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ok"], false, "{}", r.body);
    assert_eq!(r.body["broken"][0]["seq"], seq, "{}", r.body);
    let after = app
        .get(&format!("/initiatives/{}/events", l.initiative), None)
        .await;
    assert!(
        after.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["payload"]["note"] == "survey skipped"),
        "the edit took"
    );
}
both!(tamper_detected);

// ── Concurrency ──

async fn concurrent_acts_lose_nothing(app: App) {
    let l = lane(&app).await;
    let s = app
        .scheme(
            &l.initiative,
            &l.resident,
            json!([{ "kind": "lane_sewer" }]),
        )
        .await;
    const N: usize = 8;
    let mut tasks = vec![];
    for i in 0..N {
        let (http, url, token) = (
            app.http.clone(),
            format!("{}/schemes/{s}/acts", app.base),
            if i % 2 == 0 {
                l.resident.clone()
            } else {
                l.organiser.clone()
            },
        );
        tasks.push(tokio::spawn(async move {
            let body = json!({ "action": "register_household", "household": { "house": format!("H-{i}") } });
            match http.post(url).bearer_auth(token).json(&body).send().await {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(e) => (0, e.to_string()),
            }
        }));
    }
    for t in tasks {
        let (status, body) = t.await.expect("task");
        assert_eq!(status, 200, "{body}");
    }
    let shown = app.get(&format!("/schemes/{s}"), None).await;
    assert_eq!(shown.body["households"], N);
    app.verify_ok(&l.initiative).await;
}
both!(concurrent_acts_lose_nothing);

// ── The OpenAPI document ──

async fn openapi_document(app: App) {
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        r.body["openapi"]
    );
    let paths = r.body["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/tokens",
        "/api/v1/users",
        "/api/v1/organisations",
        "/api/v1/people",
        "/api/v1/memberships",
        "/api/v1/arrangements/{id}/{version}",
        "/api/v1/initiatives",
        "/api/v1/initiatives/{id}/schemes",
        "/api/v1/initiatives/{id}/meetings",
        "/api/v1/initiatives/{id}/verify",
        "/api/v1/schemes/{id}",
        "/api/v1/schemes/{id}/acts",
        "/api/v1/schemes/{id}/events",
        "/api/v1/schemes/{id}/obligations",
    ] {
        assert!(
            paths.contains_key(p),
            "missing {p}: {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(
        paths["/api/v1/schemes/{id}/acts"].get("post").is_some()
            && paths["/api/v1/schemes/{id}/acts"].get("get").is_some()
    );
    // Built-in arrangements are listed and explained.
    let list = app.get("/arrangements", None).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(3));
    let a = app.get("/arrangements/cost-sharing/1", None).await;
    assert!(
        a.body["text"].as_str().is_some_and(|t| t.contains("25")),
        "{}",
        a.body
    );
    let list = app.get("/initiatives?district=Nowhere", None).await;
    assert_eq!(list.body["items"], json!([]));
}
both!(openapi_document);
