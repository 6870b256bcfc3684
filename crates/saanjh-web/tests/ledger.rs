//! The co-delivery ledger through the JSON API (issue 3): the real server on
//! an ephemeral port, a fresh database per test (SQLite; PostgreSQL too when
//! `SAANJH_TEST_POSTGRES_URL` is set). Entries are posted, reversed and
//! released as acts, registers imported as CSV, and statements checked
//! against sums computed here from what was posted.
//!
//! Amounts are written rupees_paisa: `1_500_00` is Rs 1,500.00.
#![allow(clippy::inconsistent_digit_grouping)]

#[macro_use]
mod common;

use std::sync::Arc;

use saanjh_store::Store;
use saanjh_web::service::{self, NewUser};
use saanjh_web::{AppState, ManualClock};
use serde_json::{Value, json};
use time::macros::datetime;

const PASSWORD: &str = "a long enough password";

use common::{Db, postgres_db, sqlite_db};

#[derive(Clone)]
struct App {
    base: String,
    http: reqwest::Client,
    state: AppState,
    admin: String,
}

struct Res {
    status: u16,
    content_type: String,
    body: Value,
    text: String,
}

impl App {
    async fn start(db: &Db) -> App {
        let store = Store::connect(&db.url).await.expect("connect");
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00 UTC)));
        let state = AppState::new(store, clock);
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
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            content_type,
            body,
            text,
        }
    }
    async fn get(&self, path: &str, token: Option<&str>) -> Res {
        self.send(reqwest::Method::GET, path, token, None).await
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
    async fn person(&self, name: &str) -> String {
        self.ok(
            "/people",
            Some(&self.admin),
            json!({ "name": name, "gender": "female" }),
        )
        .await["id"]
            .as_str()
            .expect("id")
            .to_string()
    }
    async fn member(&self, person: &str, org: &str, position: &str) {
        self.ok(
            "/memberships",
            Some(&self.admin),
            json!({ "person": person, "organisation": org, "position": position }),
        )
        .await;
    }
    /// A person holding `position` in `org`, signed in: (person id, token).
    async fn actor(&self, org: &str, position: &str, name: &str) -> (String, String) {
        let p = self.person(name).await;
        self.member(&p, org, position).await;
        let username = format!("u{}", uuid::Uuid::now_v7().simple());
        self.ok(
            "/users",
            Some(&self.admin),
            json!({ "username": username, "password": PASSWORD, "person_id": p }),
        )
        .await;
        (p.clone(), self.login(&username).await)
    }
    async fn act(&self, scheme: &str, token: &str, body: Value) -> Res {
        self.post(&format!("/schemes/{scheme}/acts"), Some(token), body)
            .await
    }
    /// A ledger act that must be allowed; returns the entry id it posted.
    async fn entry(&self, scheme: &str, token: &str, action: &str, entry: Value) -> String {
        let r = self
            .act(scheme, token, json!({ "action": action, "entry": entry }))
            .await;
        assert_eq!(r.status, 200, "{action} {entry} refused: {}", r.text);
        r.body["events"]
            .as_array()
            .and_then(|es| es.iter().find(|e| e["kind"] == "ledger_entry_posted"))
            .and_then(|e| e["payload"]["entry"].as_str())
            .expect("an entry")
            .to_string()
    }
    async fn head(&self, chain: &str) -> i64 {
        self.state.store.head(chain).await.expect("head").0
    }
}

// ── A lane under component sharing ──

struct Lane {
    initiative: String,
    scheme: String,
    manager: String,
    treasurer: String,
    municipal: String,
    households: Vec<String>,
}

async fn lane(app: &App, houses: usize) -> Lane {
    let community = app.org("Street 7 lane organisation", "community").await;
    let government = app.org("Lodhran TMA", "public").await;
    let ngo = app.org("Lodhran Pilot Project", "third_sector").await;
    let (_, manager) = app
        .actor(&community, "lane_manager", "Muhammad Aslam")
        .await;
    let (_, treasurer) = app.actor(&community, "treasurer", "Shamim Akhtar").await;
    let (_, municipal) = app.actor(&government, "municipal_engineer", "Tariq").await;
    app.actor(&ngo, "social_organiser", "Saima").await;
    for i in 0..5 {
        let p = app.person(&format!("Resident {i}")).await;
        app.member(&p, &community, "resident").await;
    }
    let initiative = app
        .ok("/initiatives", Some(&app.admin), json!({ "name": "Fauji Colony", "locality": "Ward 4", "district": "Lodhran", "arrangement": "component-sharing", "version": 1,
            "partners": { "community": community, "government": government, "ngo": ngo } }))
        .await["id"]
        .as_str()
        .expect("initiative")
        .to_string();
    let scheme = new_scheme(app, &initiative, &manager).await;
    let mut households = vec![];
    for h in 1..=houses {
        let r = app.act(&scheme, &manager, json!({ "action": "register_household", "household": { "house": format!("{h}"), "head": format!("Head of house {h}") } })).await;
        assert_eq!(r.status, 200, "{}", r.text);
        households.push(
            r.body["events"]
                .as_array()
                .and_then(|es| es.iter().find(|e| e["kind"] == "household_registered"))
                .and_then(|e| e["payload"]["household"].as_str())
                .expect("household")
                .to_string(),
        );
    }
    Lane {
        initiative,
        scheme,
        manager,
        treasurer,
        municipal,
        households,
    }
}

async fn new_scheme(app: &App, initiative: &str, token: &str) -> String {
    app.ok(
        &format!("/initiatives/{initiative}/schemes"),
        Some(token),
        json!({ "name": "Street 7", "components": [{ "kind": "lane_sewer", "estimate": 15_000_00 }, { "kind": "paving", "estimate": 400_000_00 }] }),
    )
    .await["scheme"]
        .as_str()
        .expect("scheme")
        .to_string()
}

fn money(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an amount: {v}"))
}

fn role<'a>(statement: &'a Value, role: &str) -> &'a Value {
    statement["roles"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["role"] == role))
        .unwrap_or_else(|| panic!("no role {role} in {statement}"))
}

/// Rebuilding every projection from the events gives the same rows,
/// `ledger_entries` and `allocations` included.
async fn rebuild_equals_live(app: &App) {
    let live = app.state.store.projection_dump().await.expect("dump");
    assert!(live.iter().any(|r| r.starts_with("ledger_entries: ")));
    app.state.store.rebuild().await.expect("rebuild");
    assert_eq!(app.state.store.projection_dump().await.expect("dump"), live);
}

// ── Specs ──

/// Post, reverse, release and spend through the API; the statement's
/// figures are the sums of what was posted, net of the reversal.
async fn post_reverse_release_and_state(app: App) {
    let l = lane(&app, 10).await;
    let mut paid = 0;
    for (i, h) in l.households.iter().enumerate().take(8) {
        app.entry(&l.scheme, &l.treasurer, "record_contribution", json!({ "role": "community", "amount": 1_500_00, "household": h, "receipt": format!("R-{i}"), "on": "2025-12-01" })).await;
        paid += 1_500_00;
    }
    let wrong = app.entry(&l.scheme, &l.treasurer, "record_contribution", json!({ "role": "community", "amount": 15_000_00, "household": l.households[8], "receipt": "R-8" })).await;
    app.entry(
        &l.scheme,
        &l.treasurer,
        "reverse_entry",
        json!({ "role": "community", "reverses": wrong }),
    )
    .await;
    app.entry(&l.scheme, &l.treasurer, "record_contribution", json!({ "role": "community", "amount": 1_500_00, "household": l.households[8], "receipt": "R-8" })).await;
    paid += 1_500_00;
    // Labour valued as days × rate.
    app.entry(&l.scheme, &l.manager, "record_contribution", json!({ "role": "community", "means": "labour", "quantity": 3, "rate": 800_00, "household": l.households[9] })).await;
    paid += 2_400_00;
    app.entry(&l.scheme, &l.municipal, "record_release", json!({ "role": "government", "amount": 100_000_00, "receipt": "TMA-1", "component": "paving" })).await;
    app.entry(&l.scheme, &l.manager, "record_expenditure", json!({ "role": "community", "amount": 9_000_00, "receipt": "V-1", "payee": "Rafiq Traders", "purpose": "pipes and cement", "component": "lane_sewer" })).await;

    // Bad input changes nothing.
    let before = app.head(&l.initiative).await;
    for bad in [
        json!({ "action": "record_contribution", "entry": { "role": "community", "amount": -5, "receipt": "R-x" } }),
        json!({ "action": "record_contribution", "entry": { "role": "donor", "amount": 5, "receipt": "R-y" } }),
        json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 5, "receipt": "R-1" } }),
        json!({ "action": "reverse_entry", "entry": { "role": "community", "reverses": "no-such-entry" } }),
        json!({ "action": "record_expenditure", "entry": { "role": "community", "amount": 999_999_00, "receipt": "V-2", "payee": "x" } }),
        json!({ "action": "record_expenditure", "entry": { "role": "community", "amount": 999_999_00, "receipt": "V-2", "payee": "x", "component": "lane_sewer" } }),
        json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 100_00, "currency": "USD", "receipt": "R-usd" } }),
        json!({ "action": "record_contribution", "entry": { "role": "community", "amount": "1500", "receipt": "R-str" } }),
    ] {
        let r = app.act(&l.scheme, &l.manager, bad.clone()).await;
        // Overspending is a rule not met (409); the rest are bad input.
        let expected = if r.text.contains("spending.") {
            409
        } else {
            422
        };
        assert_eq!(r.status, expected, "{bad}: {}", r.text);
        assert_eq!(r.content_type, "application/problem+json");
        if bad["entry"]["currency"] == "USD" {
            assert!(
                r.text.contains("amounts in this initiative are in PKR"),
                "{}",
                r.text
            );
        }
    }
    assert_eq!(
        app.head(&l.initiative).await,
        before,
        "refused entries wrote nothing"
    );

    let r = app.get(&format!("/statements/{}", l.scheme), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = &r.body;
    assert_eq!(money(&role(s, "community")["paid"]), paid);
    assert_eq!(money(&role(s, "government")["released"]), 100_000_00);
    assert_eq!(
        money(&role(s, "government")["outstanding"]),
        300_000_00,
        "external works owed, not yet released"
    );
    assert_eq!(money(&s["totals"]["received"]), paid + 100_000_00);
    assert_eq!(money(&s["totals"]["spent"]), 9_000_00);
    assert_eq!(money(&s["totals"]["balance"]), paid + 100_000_00 - 9_000_00);
    // The public gets counts, not names.
    assert_eq!(s["names_shown"], false);
    assert_eq!(s["households"]["paid_in_full"], 10);
    assert!(!r.text.contains("Head of house"));
    let reversed = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == wrong.as_str())
        .expect("the reversed entry is listed");
    assert!(reversed["reversed_by"].is_string());

    // A partner sees who paid how much.
    let inside = app
        .get(&format!("/statements/{}", l.scheme), Some(&l.treasurer))
        .await;
    assert_eq!(inside.body["names_shown"], true);
    assert!(inside.text.contains("Head of house 3"));

    let csv = app
        .get(&format!("/statements/{}?format=csv", l.scheme), None)
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.text.contains(",1500.00,R-0,"), "{}", csv.text);
    assert!(csv.text.contains(&format!(
        "total,{},,,received,,,,,,{}",
        l.scheme,
        saanjh_core::ledger::Money(paid + 100_000_00).to_plain()
    )));

    let page = app
        .get(&format!("/statements/{}/print", l.scheme), None)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(
        page.text.contains("Rs&nbsp;1,00,000"),
        "lakh grouping on the wall"
    );
    assert!(page.text.contains("R-0") && !page.text.contains("Head of house"));

    let init = app
        .get(&format!("/statements/{}", l.initiative), None)
        .await;
    assert_eq!(money(&init.body["totals"]["received"]), paid + 100_000_00);
    rebuild_equals_live(&app).await;
}
both!(post_reverse_release_and_state);

/// A register typed into a spreadsheet: a file with bad rows posts nothing
/// and lists every bad row; a good file posts every row in one append.
async fn import_through_the_api(app: App) {
    let l = lane(&app, 6).await;
    app.entry(&l.scheme, &l.treasurer, "record_contribution", json!({ "role": "community", "amount": 1_500_00, "household": l.households[5], "receipt": "R-6" })).await;
    let path = format!(
        "/initiatives/{}/ledger/import?scheme={}",
        l.initiative, l.scheme
    );
    let before = app.head(&l.initiative).await;
    let bad = "household,role,amount,receipt,date\n1,community,1500,R-1,2025-11-02\n2,community,1.500.00,R-2,2025-11-02\n3,community,1500,R-1,2025-11-02\n4,community,1500,R-6,2025-11-02\n9,community,1500,R-9,2025-11-02\n";
    let r = app
        .send(
            reqwest::Method::POST,
            &path,
            Some(&l.treasurer),
            Some((bad.to_string(), "text/csv")),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let lines: Vec<i64> = r.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 6], "{}", r.text);
    assert_eq!(
        app.head(&l.initiative).await,
        before,
        "a file with bad rows changes nothing"
    );

    let good = "household,role,amount,receipt,date\n1,community,1500,R-1,2025-11-02\n2,community,\"1,500\",R-2,2025-11-02\n3,community,1500,R-3,2025-11-03\n";
    let r = app
        .send(
            reqwest::Method::POST,
            &path,
            Some(&l.treasurer),
            Some((good.to_string(), "text/csv")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["rows"], 3);
    assert_eq!(money(&r.body["total"]), 4_500_00);
    let s = app
        .get(&format!("/statements/{}", l.scheme), None)
        .await
        .body;
    assert_eq!(money(&role(&s, "community")["paid"]), 6_000_00);
    // Someone without a position that may record contributions is refused row by row.
    let (_, municipal) = (0, l.municipal.clone());
    let r = app
        .send(
            reqwest::Method::POST,
            &path,
            Some(&municipal),
            Some((
                "household,role,amount,receipt,date\n4,community,1500,R-4,2025-11-02\n".to_string(),
                "text/csv",
            )),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("do not allow"),
        "{}",
        r.text
    );
}
both!(import_through_the_api);

/// A receipt number is unique within the initiative, across its schemes.
async fn receipts_are_unique_across_schemes(app: App) {
    let l = lane(&app, 1).await;
    let other = new_scheme(&app, &l.initiative, &l.manager).await;
    app.entry(
        &l.scheme,
        &l.treasurer,
        "record_contribution",
        json!({ "role": "community", "amount": 1_500_00, "receipt": "R-1" }),
    )
    .await;
    let r = app.act(&other, &l.treasurer, json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 1_500_00, "receipt": "R-1" } })).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("already used in this initiative"),
        "{}",
        r.text
    );
}
both!(receipts_are_unique_across_schemes);

/// Two treasurers posting to the same scheme at once: nothing is lost and
/// nothing is counted twice; of two postings of one receipt, one wins. A
/// 409 ("try again") has written nothing, so a client may simply resend.
async fn concurrent_postings_lose_nothing(app: App) {
    let l = lane(&app, 0).await;
    let n = 15;
    let mut tasks = vec![];
    for (who, token) in [("T", l.treasurer.clone()), ("M", l.manager.clone())] {
        let app = app.clone();
        let scheme = l.scheme.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..n {
                let body = json!({ "action": "record_contribution", "entry": { "role": "community", "amount": (i + 1) * 100_00, "receipt": format!("{who}-{i}") } });
                loop {
                    let r = app.act(&scheme, &token, body.clone()).await;
                    if r.status == 409 {
                        continue;
                    }
                    assert_eq!(r.status, 200, "{}", r.text);
                    break;
                }
            }
        }));
    }
    // Both try to book the same paper receipt.
    let mut same = vec![];
    for token in [l.treasurer.clone(), l.manager.clone()] {
        let app = app.clone();
        let scheme = l.scheme.clone();
        same.push(tokio::spawn(async move {
            loop {
                let r = app.act(&scheme, &token, json!({ "action": "record_contribution", "entry": { "role": "community", "amount": 7_00, "receipt": "SAME" } })).await;
                if r.status != 409 {
                    return r.status;
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let mut statuses = vec![];
    for t in same {
        statuses.push(t.await.expect("task"));
    }
    statuses.sort();
    assert_eq!(statuses, [200, 422], "exactly one posting of receipt SAME");
    let expected: i64 = 2 * (1..=n).map(|i| i * 100_00).sum::<i64>() + 7_00;
    let s = app
        .get(&format!("/statements/{}", l.scheme), None)
        .await
        .body;
    assert_eq!(money(&role(&s, "community")["paid"]), expected);
    assert_eq!(s["totals"]["entries"], 2 * n + 1);
    assert_eq!(
        app.state.store.ledger_entry_count(&l.scheme).await.unwrap(),
        2 * n + 1
    );
    let v = app
        .get(&format!("/initiatives/{}/verify", l.initiative), None)
        .await;
    assert_eq!(v.body["ok"], true, "{}", v.text);
}
both!(concurrent_postings_lose_nothing);

/// The CCB reserve: releases never exceed what the council allocated (plus
/// what it carried forward), and an allocation cannot be cut below what was
/// released.
async fn releases_never_exceed_the_allocation(app: App) {
    let ccb = app.org("Chenab College CCB", "community").await;
    let council = app.org("District Council Chiniot", "public").await;
    let (_, chair) = app.actor(&ccb, "chair", "Chairman").await;
    let (_, official) = app
        .actor(&council, "ccb_official", "EDO Community Development")
        .await;
    for i in 0..25 {
        let p = app.person(&format!("CCB member {i}")).await;
        app.member(&p, &ccb, "member").await;
    }
    let initiative = app
        .ok("/initiatives", Some(&app.admin), json!({ "name": "Chiniot UC-35", "locality": "UC-35", "district": "Chiniot", "arrangement": "cost-sharing", "version": 1, "partners": { "community": ccb, "council": council } }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let scheme = app.ok(&format!("/initiatives/{initiative}/schemes"), Some(&chair), json!({ "name": "Academic block", "components": [{ "kind": "works", "estimate": 7_058_000_00 }] })).await["scheme"]
        .as_str()
        .unwrap()
        .to_string();
    // Before any allocation is on record, releases are recorded but not limited.
    app.entry(
        &scheme,
        &official,
        "record_release",
        json!({ "role": "council", "amount": 1_00, "receipt": "CHQ-0", "component": "works" }),
    )
    .await;
    // Only administrators record budgets; only public organisations hold them.
    let r = app.post("/allocations", Some(&official), json!({ "organisation": council, "arrangement": "cost-sharing", "year": "2025-26", "amount": 3_000_000_00 })).await;
    assert_eq!(r.status, 403);
    let r = app.post("/allocations", Some(&app.admin), json!({ "organisation": ccb, "arrangement": "cost-sharing", "year": "2025-26", "amount": 1 })).await;
    assert_eq!(r.status, 422);
    app.ok("/allocations", Some(&app.admin), json!({ "organisation": council, "arrangement": "cost-sharing", "year": "2025-26", "amount": 3_000_000_00, "development_budget": 12_000_000_00 })).await;
    app.entry(
        &scheme,
        &official,
        "record_release",
        json!({ "role": "council", "amount": 1_882_000_00, "receipt": "CHQ-1", "component": "works" }),
    )
    .await;
    let before = app.head(&initiative).await;
    let r = app.act(&scheme, &official, json!({ "action": "record_release", "entry": { "role": "council", "amount": 1_882_000_00, "receipt": "CHQ-2", "component": "works" } })).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("more than the Rs 11,17,999 left"),
        "{}",
        r.text
    );
    assert_eq!(app.head(&initiative).await, before);
    let r = app.post("/allocations", Some(&app.admin), json!({ "organisation": council, "arrangement": "cost-sharing", "year": "2025-26", "amount": 1_000_000_00 })).await;
    assert_eq!(
        r.status, 422,
        "cannot cut below what was released: {}",
        r.text
    );
    let s = app.get(&format!("/statements/{scheme}"), None).await.body;
    let year = s["budget"]
        .as_array()
        .and_then(|ys| ys.iter().find(|y| y["year"] == "2025-26"))
        .expect("the year");
    assert_eq!(money(&year["available"]), 3_000_000_00);
    assert_eq!(money(&year["spent"]), 1_882_001_00);
    assert_eq!(money(&year["unspent"]), 1_117_999_00);
    assert_eq!(
        money(&year["earmark_required"]),
        3_000_000_00,
        "25% of the development budget"
    );
    assert!(
        app.state
            .store
            .projection_dump()
            .await
            .unwrap()
            .iter()
            .any(|r| r.starts_with("allocations: "))
    );
    rebuild_equals_live(&app).await;
}
both!(releases_never_exceed_the_allocation);

/// Spending on a component stays within what was released for it unless
/// the arrangement's spending rules allow more: the government's paving
/// only from its releases, the lane's sewer also from what its households
/// paid. A refusal (409, a rule not met, like any other rule's) names the
/// component and the figures in lakh grouping, and writes nothing.
async fn spending_stays_within_releases(app: App) {
    let l = lane(&app, 2).await;
    let spend = |amount: i64, receipt: &str| json!({ "action": "record_expenditure", "entry": { "role": "government", "amount": amount, "receipt": receipt, "payee": "TMA contractor", "purpose": "paving", "component": "paving" } });
    let before = app.head(&l.initiative).await;
    let r = app.act(&l.scheme, &l.municipal, spend(1_00, "W-0")).await;
    assert_eq!(r.status, 409, "a rule refuses it: {}", r.text);
    assert_eq!(r.body["rule"], "spending.paving");
    assert!(
        r.text
            .contains("Rs 0 has been released for the street paving after the sewer"),
        "{}",
        r.text
    );
    let release = app.entry(&l.scheme, &l.municipal, "record_release", json!({ "role": "government", "amount": 1_50_000_00, "receipt": "TMA-1", "component": "paving" })).await;
    app.entry(&l.scheme, &l.municipal, "record_expenditure", json!({ "role": "government", "amount": 1_00_000_00, "receipt": "W-1", "payee": "TMA contractor", "component": "paving" })).await;
    let before_over = app.head(&l.initiative).await;
    let r = app
        .act(&l.scheme, &l.municipal, spend(60_000_00, "W-2"))
        .await;
    assert_eq!(r.status, 409, "a rule refuses it: {}", r.text);
    assert!(
        r.body["detail"].as_str().unwrap().contains("this expenditure of Rs 60,000 on the street paving after the sewer is more than there is to spend on it: Rs 1,50,000 has been released for the street paving after the sewer and Rs 1,00,000 already spent"),
        "{}",
        r.text
    );
    assert!(
        r.body["allowed_if"]
            .as_str()
            .unwrap()
            .contains("release money for"),
        "{}",
        r.text
    );
    // Taking the release back would leave the spending unfunded.
    let r = app.act(&l.scheme, &l.municipal, json!({ "action": "reverse_entry", "entry": { "role": "government", "reverses": release } })).await;
    assert_eq!(r.status, 409, "a rule refuses it: {}", r.text);
    assert_eq!(
        app.head(&l.initiative).await,
        before_over,
        "refusals wrote nothing"
    );
    assert!(before < before_over);
    // The lane spends what its households paid, with no release at all.
    for (i, h) in l.households.iter().enumerate() {
        app.entry(&l.scheme, &l.treasurer, "record_contribution", json!({ "role": "community", "amount": 1_500_00, "household": h, "receipt": format!("R-{i}") })).await;
    }
    app.entry(&l.scheme, &l.manager, "record_expenditure", json!({ "role": "community", "amount": 3_000_00, "receipt": "V-1", "payee": "Pak Cement", "component": "lane_sewer" })).await;
    let r = app.act(&l.scheme, &l.manager, json!({ "action": "record_expenditure", "entry": { "role": "community", "amount": 1, "receipt": "V-2", "payee": "Pak Cement", "component": "lane_sewer" } })).await;
    assert_eq!(r.status, 409, "a rule refuses it: {}", r.text);
    assert_eq!(r.body["rule"], "spending.lane_sewer");
    let s = app
        .get(&format!("/statements/{}", l.scheme), None)
        .await
        .body;
    let paving = s["spending"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "paving")
        .unwrap();
    assert_eq!(money(&paving["released"]), 1_50_000_00);
    assert_eq!(money(&paving["spent"]), 1_00_000_00);
    rebuild_equals_live(&app).await;
}
both!(spending_stays_within_releases);

/// A long statement is paged: every page carries the complete figures, the
/// pages together list every entry exactly once in statement order, and the
/// CSV is the whole statement.
async fn a_long_statement_is_paged(app: App) {
    let l = lane(&app, 3).await;
    let n = 57;
    let mut csv = String::from("household,role,amount,receipt,date\n");
    let mut expected = 0;
    for i in 0..n {
        // Dates out of posting order: the statement lists by date.
        csv.push_str(&format!(
            "{},community,{},R-{i},2025-11-{:02}\n",
            1 + i % 3,
            100 + i,
            28 - (i % 27)
        ));
        expected += (100 + i) * 100;
    }
    let r = app
        .send(
            reqwest::Method::POST,
            &format!(
                "/initiatives/{}/ledger/import?scheme={}",
                l.initiative, l.scheme
            ),
            Some(&l.treasurer),
            Some((csv, "text/csv")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut seen: Vec<Value> = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/statements/{}?limit=10&cursor={c}", l.scheme),
            None => format!("/statements/{}?limit=10", l.scheme),
        };
        let r = app.get(&path, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        assert_eq!(
            money(&role(&r.body, "community")["paid"]),
            expected,
            "figures cover every entry on every page"
        );
        assert_eq!(r.body["entries_page"]["total"], n);
        let entries = r.body["entries"].as_array().unwrap();
        assert!(entries.len() <= 10);
        assert_eq!(r.body["entries_page"]["returned"], entries.len());
        seen.extend(entries.iter().cloned());
        match r.body["entries_page"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(seen.len() as i64, n);
    let ids: std::collections::BTreeSet<&str> =
        seen.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len() as i64, n, "no entry twice");
    let dates: Vec<&str> = seen.iter().map(|e| e["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "by date: {dates:?}");
    assert_eq!(
        seen.iter().map(|e| money(&e["amount"])).sum::<i64>(),
        expected
    );
    // The default page, and bad paging, answered clearly.
    let all = app.get(&format!("/statements/{}", l.scheme), None).await;
    assert_eq!(all.body["entries"].as_array().unwrap().len() as i64, n);
    assert_eq!(all.body["entries_page"]["next_cursor"], Value::Null);
    let r = app
        .get(&format!("/statements/{}?limit=10001", l.scheme), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = app
        .get(&format!("/statements/{}?cursor=nonsense", l.scheme), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // Totals only.
    let r = app
        .get(&format!("/statements/{}?limit=0", l.scheme), None)
        .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 0);
    assert_eq!(money(&r.body["totals"]["received"]), expected);
    // The initiative's statement pages the same way.
    let r = app
        .get(&format!("/statements/{}?limit=50", l.initiative), None)
        .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 50);
    assert!(r.body["entries_page"]["next_cursor"].is_string());
    // CSV: the whole statement, every entry once, then the figures.
    let c = app
        .get(&format!("/statements/{}?format=csv", l.scheme), None)
        .await;
    assert_eq!(c.status, 200);
    let rows: Vec<&str> = c.text.lines().filter(|r| r.starts_with("entry,")).collect();
    assert_eq!(rows.len() as i64, n);
    assert!(
        c.text.lines().last().unwrap().starts_with("total,"),
        "figures come last"
    );
    // The printed page with a limit links to the rest.
    let p = app
        .get(&format!("/statements/{}/print?limit=20", l.scheme), None)
        .await;
    assert!(
        p.text.contains("This page lists 20 of the 57 entries"),
        "{}",
        p.text
    );
    assert!(p.text.contains("Next entries"));
}
both!(a_long_statement_is_paged);

/// Two treasurers reversing the same entry at the same moment: one
/// reversal is posted, the other is told the entry is already reversed.
async fn one_entry_is_reversed_once_however_many_try(app: App) {
    let l = lane(&app, 1).await;
    let entry = app
        .entry(
            &l.scheme,
            &l.treasurer,
            "record_contribution",
            json!({ "role": "community", "amount": 1_500_00, "receipt": "R-1" }),
        )
        .await;
    let mut tasks = vec![];
    for token in [l.treasurer.clone(), l.manager.clone(), l.treasurer.clone()] {
        let app = app.clone();
        let scheme = l.scheme.clone();
        let entry = entry.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let r = app.act(&scheme, &token, json!({ "action": "reverse_entry", "entry": { "role": "community", "reverses": entry } })).await;
                if r.status != 409 {
                    return (r.status, r.text);
                }
            }
        }));
    }
    let mut outcomes = vec![];
    for t in tasks {
        outcomes.push(t.await.expect("task"));
    }
    outcomes.sort();
    assert_eq!(
        outcomes.iter().map(|o| o.0).collect::<Vec<_>>(),
        [200, 422, 422]
    );
    assert!(
        outcomes[1].1.contains("already been reversed"),
        "{}",
        outcomes[1].1
    );
    let s = app
        .get(&format!("/statements/{}", l.scheme), None)
        .await
        .body;
    assert_eq!(money(&role(&s, "community")["paid"]), 0);
    assert_eq!(s["totals"]["entries"], 2);
    // The receipt is free again for the corrected entry.
    app.entry(
        &l.scheme,
        &l.treasurer,
        "record_contribution",
        json!({ "role": "community", "amount": 1_000_00, "receipt": "R-1" }),
    )
    .await;
    rebuild_equals_live(&app).await;
}
both!(one_entry_is_reversed_once_however_many_try);

/// A file whose header has a wrong column, or that repeats a receipt number
/// already booked elsewhere in the initiative, changes nothing and says so.
async fn an_import_with_a_wrong_column_or_a_used_receipt_changes_nothing(app: App) {
    let l = lane(&app, 2).await;
    let other = new_scheme(&app, &l.initiative, &l.manager).await;
    app.entry(
        &other,
        &l.treasurer,
        "record_contribution",
        json!({ "role": "community", "amount": 1_500_00, "receipt": "R-77" }),
    )
    .await;
    let path = format!(
        "/initiatives/{}/ledger/import?scheme={}",
        l.initiative, l.scheme
    );
    let before = app.head(&l.initiative).await;
    for (file, says, line) in [
        (
            "household,role,amount,reciept,date\n1,community,1500,R-1,2025-11-02\n",
            "unknown column `reciept`",
            1,
        ),
        (
            "household,role,amount,receipt,date\n1,community,1500,R-77,2025-11-02\n",
            "`R-77` is already used",
            2,
        ),
        (
            "household,role,amount,receipt,date\n1,community,1500,R-1,2025-11-02\n2,community,1500,R-1,2025-11-02\n",
            "also on line 2",
            3,
        ),
    ] {
        let r = app
            .send(
                reqwest::Method::POST,
                &path,
                Some(&l.treasurer),
                Some((file.to_string(), "text/csv")),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        let errors = r.body["errors"].as_array().expect("errors");
        assert!(
            errors
                .iter()
                .any(|e| e["line"] == line && e["message"].as_str().unwrap().contains(says)),
            "{file}: {}",
            r.text
        );
    }
    assert_eq!(app.head(&l.initiative).await, before, "nothing written");
}
both!(an_import_with_a_wrong_column_or_a_used_receipt_changes_nothing);
