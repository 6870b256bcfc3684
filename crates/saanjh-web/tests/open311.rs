//! Open311 GeoReport v2 and community scorecards end to end: the real
//! server on an ephemeral port, a fresh database per test (SQLite in a temp
//! dir; PostgreSQL too when `SAANJH_TEST_POSTGRES_URL` is set) and a
//! `ManualClock`. Every endpoint is exercised in XML and JSON; every bad
//! input gets the specification's error and writes nothing.

#[macro_use]
mod common;

use std::sync::Arc;

use saanjh_store::Store;
use saanjh_web::service::{self, NewUser};
use saanjh_web::{AppState, ManualClock};
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

const ADMIN_PASSWORD: &str = "correct horse battery";
const PASSWORD: &str = "a long enough password";

// ── Databases (as in tests/api.rs) ──

use common::{Db, postgres_db, sqlite_db};

// ── The app under test ──

struct App {
    root: String,
    http: reqwest::Client,
    state: AppState,
    clock: Arc<ManualClock>,
    admin: String,
    /// API token → username, to sign the same person in on the pages.
    usernames: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

#[derive(Debug)]
struct Res {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    text: String,
    json: Value,
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
        let mut app = App {
            root: format!("http://{addr}"),
            http: reqwest::Client::new(),
            state,
            clock,
            admin: String::new(),
            usernames: Default::default(),
        };
        app.admin = app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    async fn done(res: reqwest::Response) -> Res {
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = res.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            content_type,
            retry_after,
            text,
            json,
        }
    }
    /// GET under the site root (`/open311/v2/...` or `/api/v1/...`).
    async fn get(&self, path: &str) -> Res {
        Self::done(
            self.http
                .get(format!("{}{path}", self.root))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }
    /// An Open311 POST, form-encoded as clients send it.
    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Res {
        Self::done(
            self.http
                .post(format!("{}{path}", self.root))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(fields))
                .send()
                .await
                .expect("POST"),
        )
        .await
    }
    async fn api(&self, path: &str, token: Option<&str>, body: Value) -> Res {
        let mut req = self
            .http
            .post(format!("{}/api/v1{path}", self.root))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::done(req.send().await.expect("POST")).await
    }
    async fn api_ok(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let r = self.api(path, token, body.clone()).await;
        assert!(
            r.status == 200 || r.status == 201,
            "POST {path} {body} → {} {}",
            r.status,
            r.text
        );
        r.json
    }
    async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .api(
                "/tokens",
                None,
                json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(r.status, 201, "login {username}: {}", r.text);
        r.json["token"].as_str().expect("token").to_string()
    }
    async fn org(&self, name: &str, kind: &str) -> String {
        let b = self
            .api_ok(
                "/organisations",
                Some(&self.admin),
                json!({ "name": name, "kind": kind, "district": "Lodhran" }),
            )
            .await;
        b["id"].as_str().expect("org id").to_string()
    }
    async fn person(&self, name: &str, gender: &str) -> String {
        let b = self
            .api_ok(
                "/people",
                Some(&self.admin),
                json!({ "name": name, "gender": gender }),
            )
            .await;
        b["id"].as_str().expect("person id").to_string()
    }
    async fn actor(&self, org: &str, position: &str, name: &str, gender: &str) -> String {
        let p = self.person(name, gender).await;
        self.api_ok(
            "/memberships",
            Some(&self.admin),
            json!({ "person": p, "organisation": org, "position": position }),
        )
        .await;
        let username = format!("u{}", uuid::Uuid::now_v7().simple());
        self.api_ok(
            "/users",
            Some(&self.admin),
            json!({ "username": username, "password": PASSWORD, "person_id": p }),
        )
        .await;
        let token = self.login(&username, PASSWORD).await;
        self.usernames
            .lock()
            .expect("usernames")
            .insert(token.clone(), username);
        token
    }
    async fn key(&self, name: &str, rate: Option<i64>) -> String {
        let b = self
            .api_ok(
                "/open311/keys",
                Some(&self.admin),
                json!({ "name": name, "rate_per_minute": rate }),
            )
            .await;
        b["key"].as_str().expect("key").to_string()
    }
    /// Events on the initiative's chain so far.
    async fn head(&self, chain: &str) -> i64 {
        self.state.store.head(chain).await.expect("head").0
    }
    async fn contacts(&self) -> i64 {
        self.state
            .store
            .report_contact_count()
            .await
            .expect("count")
    }
}

/// Form fields as owned pairs, in order.
type Form = Vec<(String, String)>;

fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The text of the first `<tag>` in an XML document.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_string())
}

/// An Open311 error response: the status, the format's content type, and the
/// specification's array of `{code, description}` (JSON) or
/// `<errors><error><code>` (XML).
fn assert_open311_error(r: &Res, status: u16, xml: bool, says: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    if xml {
        assert!(r.content_type.starts_with("text/xml"), "{}", r.content_type);
        assert!(
            r.text
                .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error><code>"),
            "{}",
            r.text
        );
        assert_eq!(xml_text(&r.text, "code"), Some(status.to_string()));
        assert!(
            xml_text(&r.text, "description").is_some_and(|d| d.contains(says)),
            "{}",
            r.text
        );
    } else {
        assert!(
            r.content_type.starts_with("application/json"),
            "{}",
            r.content_type
        );
        let errors = r.json.as_array().expect("an array of errors");
        assert_eq!(errors.len(), 1, "{}", r.text);
        assert_eq!(errors[0]["code"], status);
        assert!(
            errors[0]["description"]
                .as_str()
                .is_some_and(|d| d.contains(says)),
            "{}",
            r.text
        );
    }
}

// ── A lane under component sharing ──

struct Lane {
    initiative: String,
    scheme: String,
    lane_org: String,
    manager: String,
    treasurer: String,
    organiser: String,
    municipal: String,
    councillor: String,
    programme_manager: String,
    key: String,
}

async fn lane(app: &App) -> Lane {
    lane_under(app, "component-sharing").await
}

async fn lane_under(app: &App, arrangement: &str) -> Lane {
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
    for i in 0..2 {
        let p = app.person(&format!("Member {i}"), "male").await;
        app.api_ok(
            "/memberships",
            Some(&app.admin),
            json!({ "person": p, "organisation": community, "position": "member" }),
        )
        .await;
    }
    let organiser = app.actor(&ngo, "social_organiser", "Saima", "female").await;
    let municipal = app
        .actor(&government, "municipal_engineer", "Tariq", "male")
        .await;
    let councillor = app.actor(&government, "councillor", "Rana", "male").await;
    let programme_manager = app
        .actor(&ngo, "programme_manager", "Farhat", "female")
        .await;
    let init = app
        .api_ok("/initiatives", Some(&app.admin), json!({ "name": "Fauji Colony lanes", "locality": "Fauji Colony", "district": "Lodhran", "arrangement": arrangement, "version": 1, "partners": { "community": community, "government": government, "ngo": ngo }, "latitude": 29.53, "longitude": 71.63 }))
        .await;
    let initiative = init["id"].as_str().expect("initiative").to_string();
    let s = app
        .api_ok(&format!("/initiatives/{initiative}/schemes"), Some(&resident), json!({ "name": "Street 7", "components": [{ "kind": "lane_sewer" }, { "kind": "trunk_sewer" }] }))
        .await;
    let scheme = s["scheme"].as_str().expect("scheme").to_string();
    let key = app.key("FixMyLane app", None).await;
    Lane {
        initiative,
        scheme,
        lane_org: "Street 7 lane organisation".into(),
        manager,
        treasurer,
        organiser,
        municipal,
        councillor,
        programme_manager,
        key,
    }
}

fn blocked_lane(key: &str) -> Vec<(&str, &str)> {
    vec![
        ("api_key", key),
        ("service_code", "blocked_lane_sewer"),
        ("lat", "29.5301"),
        ("long", "71.6302"),
        ("address_string", "Street 7, near the mosque"),
        (
            "description",
            "The manhole outside house 12 overflows every morning.",
        ),
        ("attribute[manhole_overflowing]", "yes"),
    ]
}

/// The scheme's events of one kind, as the JSON API lists them.
async fn scheme_events(app: &App, scheme: &str, kind: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/schemes/{scheme}/events?per_page=500"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

// ── Specs ──

async fn discovery_and_services(app: App) {
    lane(&app).await;
    let d = app.get("/open311/v2/discovery.json").await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(
        d.json["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(
        d.json["endpoints"][0]["formats"],
        json!(["text/xml", "application/json"])
    );
    let d = app.get("/open311/v2/discovery.xml").await;
    assert!(d.content_type.starts_with("text/xml"));
    assert!(d.text.contains("<endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification>"), "{}", d.text);
    assert!(
        d.text.contains(
            "<formats><format>text/xml</format><format>application/json</format></formats>"
        )
    );

    // Services come from the arrangement's component kinds.
    let s = app.get("/open311/v2/services.json").await;
    let list = s.json.as_array().expect("services");
    let lane = list
        .iter()
        .find(|s| s["service_code"] == "blocked_lane_sewer")
        .expect("lane service");
    assert_eq!(lane["service_name"], "blocked lane sewer");
    assert_eq!(lane["metadata"], true);
    assert_eq!(lane["type"], "realtime");
    assert_eq!(lane["group"], "lane sewer");
    let trunk = list
        .iter()
        .find(|s| s["service_code"] == "trunk_sewer_overflow")
        .expect("trunk");
    assert_eq!(trunk["group"], "trunk sewer and disposal");
    let collector = list
        .iter()
        .find(|s| s["service_code"] == "blocked_collector_sewer")
        .expect("collector");
    assert_eq!(collector["metadata"], false);
    let x = app.get("/open311/v2/services.xml").await;
    assert!(
        x.text.contains("<services><service><service_code>"),
        "{}",
        x.text
    );
    assert!(x.text.contains("<service_code>blocked_lane_sewer</service_code><service_name>blocked lane sewer</service_name>"));

    // A definition with its attributes.
    let def = app
        .get("/open311/v2/services/blocked_lane_sewer.json")
        .await;
    assert_eq!(def.json["service_code"], "blocked_lane_sewer");
    let attrs = def.json["attributes"].as_array().expect("attributes");
    assert_eq!(attrs[0]["code"], "manhole_overflowing");
    assert_eq!(attrs[0]["datatype"], "singlevaluelist");
    assert_eq!(attrs[0]["required"], true);
    assert_eq!(
        attrs[0]["values"],
        json!([{ "key": "yes", "name": "yes" }, { "key": "no", "name": "no" }])
    );
    assert_eq!(attrs[1]["datatype"], "number");
    let def = app.get("/open311/v2/services/blocked_lane_sewer.xml").await;
    assert!(def.text.contains("<service_definition><service_code>blocked_lane_sewer</service_code><attributes><attribute><variable>true</variable><code>manhole_overflowing</code>"), "{}", def.text);
    assert!(
        def.text
            .contains("<values><value><key>yes</key><name>yes</name></value>")
    );

    for xml in [false, true] {
        let ext = if xml { "xml" } else { "json" };
        assert_open311_error(
            &app.get(&format!("/open311/v2/services/no_such_thing.{ext}"))
                .await,
            404,
            xml,
            "service_code no_such_thing was not found",
        );
        assert_open311_error(
            &app.get(&format!(
                "/open311/v2/services.{ext}?jurisdiction_id=nowhere"
            ))
            .await,
            404,
            xml,
            "jurisdiction_id nowhere was not found",
        );
        assert_open311_error(
            &app.get(&format!("/open311/v2/nothing.{ext}")).await,
            404,
            xml,
            "no such endpoint",
        );
    }
}
both!(discovery_and_services);

async fn reports_are_routed_by_scope_rules_and_answered(app: App) {
    let l = lane(&app).await;
    // An internal component: the lane organisation, the lane manager's 7 days.
    let r = app
        .form("/open311/v2/requests.json", &blocked_lane(&l.key))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let internal = r.json[0]["service_request_id"]
        .as_str()
        .expect("id")
        .to_string();
    // Routed at once, so an id and no token: one or the other, never both.
    assert_eq!(r.json[0].get("token"), None, "{}", r.text);
    assert!(
        r.json[0]["service_notice"]
            .as_str()
            .is_some_and(|n| n.contains(&l.lane_org)
                && n.contains("lane manager must respond by 2026-01-12T09:00:00Z")),
        "{}",
        r.text
    );
    assert_eq!(r.json[0]["account_id"], Value::Null);

    // An external component, filed in XML: the TMA and its engineer.
    let r = app
        .form(
            "/open311/v2/requests.xml",
            &[
                ("api_key", &l.key),
                ("service_code", "trunk_sewer_overflow"),
                ("lat", "29.531"),
                ("long", "71.631"),
                ("description", "The disposal backs up into Street 7."),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><service_request_id>"), "{}", r.text);
    assert!(!r.text.contains("<token>"), "{}", r.text);
    let external = xml_text(&r.text, "service_request_id").expect("id");

    // The route and the response duty are on the scheme's timeline.
    let filed = scheme_events(&app, &l.scheme, "report_filed").await;
    assert_eq!(filed.len(), 2);
    assert_eq!(filed[0]["payload"]["record"]["routed_to"], "community");
    assert_eq!(
        filed[0]["payload"]["record"]["routed_by"],
        "components.lane_sewer"
    );
    assert_eq!(filed[1]["payload"]["record"]["routed_to"], "government");
    let opened = scheme_events(&app, &l.scheme, "obligation_opened").await;
    let duty = |report: &str| {
        opened
            .iter()
            .find(|e| e["payload"]["stage"] == format!("report:{report}"))
            .cloned()
            .expect("a duty for the report")
    };
    assert_eq!(
        duty(&internal)["payload"]["position"],
        "community.lane_manager"
    );
    assert_eq!(duty(&internal)["payload"]["rule"], "lane-answers-reports");
    assert_eq!(duty(&internal)["payload"]["due"], "2026-01-12T09:00:00Z");
    assert_eq!(
        duty(&external)["payload"]["position"],
        "government.municipal_engineer"
    );
    assert_eq!(
        duty(&external)["payload"]["rule"],
        "engineer-answers-reports"
    );

    // The public follows the report, in both formats.
    let one = app
        .get(&format!("/open311/v2/requests/{internal}.json"))
        .await;
    assert_eq!(one.json[0]["status"], "open");
    assert_eq!(one.json[0]["agency_responsible"], l.lane_org);
    assert_eq!(one.json[0]["service_code"], "blocked_lane_sewer");
    assert_eq!(one.json[0]["lat"], 29.5301);
    assert_eq!(one.json[0]["requested_datetime"], "2026-01-05T09:00:00Z");
    // expected_datetime is the routed role's response deadline.
    assert_eq!(one.json[0]["expected_datetime"], "2026-01-12T09:00:00Z");
    let one = app
        .get(&format!("/open311/v2/requests/{external}.xml"))
        .await;
    assert_eq!(
        xml_text(&one.text, "agency_responsible").as_deref(),
        Some("Lodhran TMA")
    );
    assert_eq!(xml_text(&one.text, "status").as_deref(), Some("open"));
    assert_eq!(
        xml_text(&one.text, "expected_datetime").as_deref(),
        Some("2026-01-12T09:00:00Z")
    );

    // Only the rules' positions answer; the treasurer is refused by rule.
    let no = app
        .api(
            &format!("/reports/{internal}/responses"),
            Some(&l.treasurer),
            json!({ "status": "acknowledged" }),
        )
        .await;
    assert_eq!(no.status, 403, "{}", no.text);
    assert_eq!(no.json["rule"], "lane-answers-reports");
    // The NGO may note it without answering for the lane.
    app.clock.advance(Duration::days(1));
    let r = app
        .api(
            &format!("/reports/{internal}/responses"),
            Some(&l.organiser),
            json!({ "status": "acknowledged", "note": "Told the lane manager." }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("obligation_met"));
    // The lane manager's response meets the duty, on time.
    app.clock.advance(Duration::days(1));
    let r = app
        .api(
            &format!("/reports/{internal}/responses"),
            Some(&l.manager),
            json!({ "status": "in_progress", "note": "Sweepers called for tomorrow." }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let met = r.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "obligation_met")
        .cloned()
        .expect("met");
    assert_eq!(met["payload"]["late"], false);
    let s = app
        .get(&format!("/open311/v2/requests/{internal}.json"))
        .await;
    assert_eq!(s.json[0]["status"], "open");
    assert_eq!(
        s.json[0]["status_notes"],
        "in progress: Sweepers called for tomorrow."
    );
    app.clock.advance(Duration::days(1));
    app.api_ok(
        &format!("/reports/{internal}/responses"),
        Some(&l.manager),
        json!({ "status": "closed", "note": "Desilted; flowing." }),
    )
    .await;
    let s = app
        .get(&format!("/open311/v2/requests/{internal}.json"))
        .await;
    assert_eq!(s.json[0]["status"], "closed");
    assert_eq!(s.json[0]["updated_datetime"], "2026-01-08T09:00:00Z");
    // Closed is final.
    let again = app
        .api(
            &format!("/reports/{internal}/responses"),
            Some(&l.manager),
            json!({ "status": "closed", "note": "again" }),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);

    // The updates extension: every status change since a time.
    let u = app
        .get("/open311/v2/servicerequestupdates.json?start_date=2026-01-06T00:00:00Z")
        .await;
    let updates = u.json.as_array().expect("updates");
    assert_eq!(updates.len(), 3, "{}", u.text);
    assert_eq!(updates[2]["service_request_id"], internal);
    assert_eq!(updates[2]["status"], "closed");
    assert_eq!(updates[1]["external_status_code"], "in_progress");
    let u = app
        .get("/open311/v2/servicerequestupdates.xml?start_date=2026-01-07T00:00:00Z")
        .await;
    assert!(
        u.text
            .contains("<service_request_updates><request_update><update_id>"),
        "{}",
        u.text
    );
    assert_eq!(u.text.matches("<request_update>").count(), 2);

    // Nobody answers the trunk sewer: a week later the duty is breached and
    // escalated to the councillor, which the scheme's obligations show.
    app.clock.advance(Duration::days(6));
    service::sweep_due(&app.state).await.expect("sweep");
    let obs = app
        .get(&format!(
            "/api/v1/schemes/{}/obligations?per_page=100",
            l.scheme
        ))
        .await;
    let items = obs.json["items"].as_array().expect("obligations");
    let breached = items
        .iter()
        .find(|o| o["stage"] == format!("report:{external}") && o["status"] == "breached")
        .expect("breached");
    assert_eq!(breached["position"], "government.municipal_engineer");
    assert!(
        items
            .iter()
            .any(|o| o["stage"] == format!("report:{external}")
                && o["status"] == "open"
                && o["position"] == "government.councillor")
    );
    // The councillor answers it; the engineer could have too, late.
    let r = app
        .api(
            &format!("/reports/{external}/responses"),
            Some(&l.councillor),
            json!({ "status": "acknowledged", "note": "The TMA will send the jetting machine." }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("obligation_met"));
    let _ = &l.municipal;
    assert_eq!(
        app.get(&format!("/api/v1/initiatives/{}/verify", l.initiative))
            .await
            .json["ok"],
        true
    );
}
both!(reports_are_routed_by_scope_rules_and_answered);

async fn unroutable_reports_wait_for_triage_under_a_token(app: App) {
    let l = lane(&app).await;
    // A second lane of the initiative also has a lane sewer: a report that
    // does not say which lane it is about cannot be routed at once.
    let s = app
        .api_ok(
            &format!("/initiatives/{}/schemes", l.initiative),
            Some(&l.manager),
            json!({ "name": "Street 9", "components": [{ "kind": "lane_sewer" }] }),
        )
        .await;
    let street9 = s["scheme"].as_str().expect("scheme").to_string();
    let contacts = app.contacts().await;
    let mut fields = blocked_lane(&l.key);
    fields.push(("email", "resident@example.org"));
    let r = app.form("/open311/v2/requests.json", &fields).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A token and no id: one or the other, never both.
    assert_eq!(r.json[0].get("service_request_id"), None, "{}", r.text);
    let token = r.json[0]["token"].as_str().expect("token").to_string();
    assert!(
        r.json[0]["service_notice"].as_str().is_some_and(
            |n| n.contains(&l.lane_org) && n.contains("waits for a partner to route it")
        ),
        "{}",
        r.text
    );
    assert_eq!(app.contacts().await, contacts + 1, "the contact is kept");
    let r = app
        .form("/open311/v2/requests.xml", &blocked_lane(&l.key))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><token>"
        ),
        "{}",
        r.text
    );
    assert!(!r.text.contains("service_request_id"), "{}", r.text);
    let other = xml_text(&r.text, "token").expect("token");

    // The token is known; its id is not yet.
    let t = app.get(&format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(
        t.json,
        json!([{ "service_request_id": null, "token": token }])
    );
    let t = app.get(&format!("/open311/v2/tokens/{token}.xml")).await;
    assert!(
        t.text.contains(&format!(
            "<request><service_request_id/><token>{token}</token></request>"
        )),
        "{}",
        t.text
    );
    // Not a service request yet, so not listed as one.
    let list = app.get("/open311/v2/requests.json").await;
    assert_eq!(list.json, json!([]), "{}", list.text);
    // Partners see what waits for triage, never who reported it.
    let held = app
        .get(&format!(
            "/api/v1/initiatives/{}/reports/held",
            l.initiative
        ))
        .await;
    assert_eq!(held.status, 200, "{}", held.text);
    assert_eq!(held.json.as_array().map(Vec::len), Some(2), "{}", held.text);
    assert_eq!(held.json[0]["routed_to"], "community");
    assert!(!held.text.contains("resident@example.org"));

    // Routing is for those the rules let answer reports: not the treasurer.
    app.clock.advance(Duration::days(2));
    let route = |who: &str, token: &str, scheme: &str| {
        let (who, token, scheme) = (who.to_string(), token.to_string(), scheme.to_string());
        let app = &app;
        async move {
            app.api(
                &format!("/reports/held/{token}/route"),
                Some(&who),
                json!({ "scheme": scheme }),
            )
            .await
        }
    };
    let no = route(&l.treasurer, &token, &street9).await;
    assert_eq!(no.status, 403, "{}", no.text);
    assert_eq!(no.json["rule"], "lane-answers-reports");
    let no = route(&l.organiser, &token, "no-such-scheme").await;
    assert_eq!(no.status, 404, "{}", no.text);
    let no = route(&l.organiser, "no-such-token", &street9).await;
    assert_eq!(no.status, 404, "{}", no.text);

    // The NGO organiser routes it to Street 9: it has its id now, and the
    // lane manager's week to respond starts now.
    let r = route(&l.organiser, &token, &street9).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json["service_request_id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(id.starts_with(&street9), "{id}");
    let t = app.get(&format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(
        t.json,
        json!([{ "service_request_id": id, "token": token }])
    );
    let t = app.get(&format!("/open311/v2/tokens/{token}.xml")).await;
    assert_eq!(xml_text(&t.text, "service_request_id"), Some(id.clone()));
    let one = app.get(&format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(one.json[0]["requested_datetime"], "2026-01-05T09:00:00Z");
    assert_eq!(one.json[0]["updated_datetime"], "2026-01-07T09:00:00Z");
    assert_eq!(one.json[0]["expected_datetime"], "2026-01-14T09:00:00Z");
    assert_eq!(one.json[0]["agency_responsible"], l.lane_org);
    assert_eq!(
        scheme_events(&app, &street9, "report_routed").await.len(),
        1
    );
    assert_eq!(
        app.contacts().await,
        contacts + 2,
        "no contact lost or doubled"
    );
    // Once only.
    let again = route(&l.organiser, &token, &l.scheme).await;
    assert_eq!(again.status, 409, "{}", again.text);
    // The platform administrator may route too.
    let r = route(&app.admin, &other, &l.scheme).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let held = app
        .get(&format!(
            "/api/v1/initiatives/{}/reports/held",
            l.initiative
        ))
        .await;
    assert_eq!(held.json, json!([]));
    // Naming the scheme in address_id routes at once.
    let mut fields = blocked_lane(&l.key);
    fields.push(("address_id", &street9));
    let r = app.form("/open311/v2/requests.json", &fields).await;
    assert!(r.json[0]["service_request_id"].is_string(), "{}", r.text);
    // Rebuilding the projections from the log gives the same rows.
    let live = app.state.store.projection_dump().await.expect("dump");
    app.state.store.rebuild().await.expect("rebuild");
    assert_eq!(app.state.store.projection_dump().await.expect("dump"), live);
}
both!(unroutable_reports_wait_for_triage_under_a_token);

async fn bad_input_changes_nothing(app: App) {
    let l = lane(&app).await;
    let head = app.head(&l.initiative).await;
    let contacts = app.contacts().await;
    let with = |changes: &[(&'static str, Option<&'static str>)]| {
        let mut f: Vec<(String, String)> = blocked_lane(&l.key)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in changes {
            f.retain(|(fk, _)| fk != k);
            if let Some(v) = v {
                f.push((k.to_string(), v.to_string()));
            }
        }
        f
    };
    let long = "x".repeat(4001);
    // (form fields, status, what the description says)
    let cases: Vec<(Form, u16, &str)> = vec![
        (
            with(&[("lat", None), ("long", None), ("address_string", None)]),
            400,
            "a location is required",
        ),
        (
            with(&[("service_code", Some("no_such_service"))]),
            404,
            "service_code no_such_service was not found",
        ),
        (
            with(&[("service_code", None)]),
            400,
            "service_code was not provided",
        ),
        (
            with(&[("attribute[manhole_overflowing]", None)]),
            400,
            "attribute[manhole_overflowing] is required",
        ),
        (
            with(&[("attribute[manhole_overflowing]", Some("perhaps"))]),
            400,
            "must be one of: yes, no",
        ),
        (
            {
                let mut f = with(&[]);
                f.retain(|(k, _)| k != "description");
                f.push(("description".into(), long.clone()));
                f
            },
            400,
            "at most 4000",
        ),
        (
            with(&[("lat", Some("north"))]),
            400,
            "lat north is not a number",
        ),
        (with(&[("lat", Some("95"))]), 400, "between -90 and 90"),
        (with(&[("long", Some("-200"))]), 400, "between -180 and 180"),
        (
            with(&[("long", None)]),
            400,
            "lat and long must be given together",
        ),
        (with(&[("api_key", None)]), 400, "api_key was not provided"),
        (
            with(&[("api_key", Some("o311-not-a-key"))]),
            403,
            "api_key is not valid",
        ),
        (
            with(&[("jurisdiction_id", Some("nowhere"))]),
            404,
            "jurisdiction_id nowhere was not found",
        ),
        (
            with(&[("email", Some("not an address"))]),
            400,
            "not an email address",
        ),
    ];
    for (fields, status, says) in &cases {
        for xml in [false, true] {
            let ext = if xml { "xml" } else { "json" };
            let f: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let r = app.form(&format!("/open311/v2/requests.{ext}"), &f).await;
            assert_open311_error(&r, *status, xml, says);
        }
    }
    // Not form-encoded at all.
    let r = App::done(
        app.http
            .post(format!("{}/open311/v2/requests.json", app.root))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_open311_error(&r, 400, false, "x-www-form-urlencoded");

    // Reads: unknown id and token, malformed dates, a range over 90 days.
    for xml in [false, true] {
        let ext = if xml { "xml" } else { "json" };
        assert_open311_error(
            &app.get(&format!("/open311/v2/requests/nope.{ext}")).await,
            404,
            xml,
            "service_request_id nope was not found",
        );
        assert_open311_error(
            &app.get(&format!("/open311/v2/tokens/nope.{ext}")).await,
            404,
            xml,
            "token nope was not found",
        );
        assert_open311_error(
            &app.get(&format!("/open311/v2/requests.{ext}?start_date=yesterday"))
                .await,
            400,
            xml,
            "start_date yesterday is not a date",
        );
        assert_open311_error(
            &app.get(&format!(
                "/open311/v2/requests.{ext}?end_date=2026-13-01T00:00:00Z"
            ))
            .await,
            400,
            xml,
            "end_date",
        );
        assert_open311_error(&app.get(&format!("/open311/v2/requests.{ext}?start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z")).await, 400, xml, "more than 90 days");
        assert_open311_error(&app.get(&format!("/open311/v2/requests.{ext}?start_date=2025-06-01T00:00:00Z&end_date=2025-01-01T00:00:00Z")).await, 400, xml, "before start_date");
        assert_open311_error(
            &app.get(&format!("/open311/v2/requests.{ext}?status=pending"))
                .await,
            400,
            xml,
            "status pending is not open or closed",
        );
        assert_open311_error(
            &app.get(&format!(
                "/open311/v2/requests.{ext}?jurisdiction_id=nowhere"
            ))
            .await,
            404,
            xml,
            "jurisdiction_id nowhere was not found",
        );
        assert_open311_error(&app.get(&format!("/open311/v2/servicerequestupdates.{ext}?start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z")).await, 400, xml, "more than 90 days");
    }
    assert_eq!(
        app.head(&l.initiative).await,
        head,
        "a refused report wrote events"
    );
    assert_eq!(
        app.contacts().await,
        contacts,
        "a refused report kept contact details"
    );
    let listed = app.get("/open311/v2/requests.json").await;
    assert_eq!(listed.json, json!([]));
}
both!(bad_input_changes_nothing);

async fn listing_filters_and_defaults(app: App) {
    let l = lane(&app).await;
    let mut ids = vec![];
    // Reports on days 0, 50 and 100.
    for (i, day_gap) in [0, 50, 50].iter().enumerate() {
        app.clock.advance(Duration::days(*day_gap));
        let mut f = blocked_lane(&l.key);
        let desc = format!("report {i}");
        f.retain(|(k, _)| *k != "description");
        f.push(("description", &desc));
        let r = app.form("/open311/v2/requests.json", &f).await;
        assert_eq!(r.status, 200, "{}", r.text);
        ids.push(
            r.json[0]["service_request_id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    let trunk = app
        .form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &l.key),
                ("service_code", "trunk_sewer_overflow"),
                ("address_string", "Disposal station"),
            ],
        )
        .await;
    assert_eq!(trunk.status, 200, "{}", trunk.text);
    let trunk_id = trunk.json[0]["service_request_id"]
        .as_str()
        .expect("id")
        .to_string();
    let list = |r: &Res| -> Vec<String> {
        r.json
            .as_array()
            .expect("list")
            .iter()
            .map(|x| x["service_request_id"].as_str().expect("id").to_string())
            .collect()
    };
    // Default: the last 90 days, newest first.
    let d = app.get("/open311/v2/requests.json").await;
    assert_eq!(
        list(&d),
        vec![trunk_id.clone(), ids[2].clone(), ids[1].clone()]
    );
    let x = app.get("/open311/v2/requests.xml").await;
    assert_eq!(x.text.matches("<request>").count(), 3);
    // An explicit window.
    let w = app.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-02-01T00:00:00Z").await;
    assert_eq!(list(&w), vec![ids[0].clone()]);
    // A lone start_date covers 90 days from it.
    let w = app
        .get("/open311/v2/requests.json?start_date=2026-01-05T00:00:00Z")
        .await;
    assert_eq!(list(&w), vec![ids[1].clone(), ids[0].clone()]);
    // By service code, and by status.
    let c = app
        .get("/open311/v2/requests.json?service_code=trunk_sewer_overflow")
        .await;
    assert_eq!(list(&c), vec![trunk_id.clone()]);
    app.api_ok(
        &format!("/reports/{}/responses", ids[2]),
        Some(&l.manager),
        json!({ "status": "closed", "note": "Cleared." }),
    )
    .await;
    let closed = app.get("/open311/v2/requests.json?status=closed").await;
    assert_eq!(list(&closed), vec![ids[2].clone()]);
    let open = app.get("/open311/v2/requests.xml?status=open").await;
    assert_eq!(open.text.matches("<status>open</status>").count(), 2);
    // Ids override every other filter, however old.
    let by_id = app
        .get(&format!(
            "/open311/v2/requests.json?service_request_id={},{}&status=closed",
            ids[0], trunk_id
        ))
        .await;
    assert_eq!(list(&by_id), vec![trunk_id.clone(), ids[0].clone()]);
    // jurisdiction_id is the initiative.
    let j = app
        .get(&format!(
            "/open311/v2/requests.json?jurisdiction_id={}",
            l.initiative
        ))
        .await;
    assert_eq!(list(&j).len(), 3);
}
both!(listing_filters_and_defaults);

async fn personal_data_is_never_public(app: App) {
    let l = lane(&app).await;
    let mut f = blocked_lane(&l.key);
    f.extend([
        ("email", "nasreen@example.org"),
        ("first_name", "Nasreen"),
        ("last_name", "Bibi"),
        ("phone", "+92 300 1234567"),
        ("account_id", "acct-77"),
        ("device_id", "dev-9"),
    ]);
    let r = app.form("/open311/v2/requests.json", &f).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The reporter's own response may echo their account id.
    assert_eq!(r.json[0]["account_id"], "acct-77");
    let id = r.json[0]["service_request_id"]
        .as_str()
        .expect("id")
        .to_string();
    // Anonymous: no contact at all is fine.
    let anon = app
        .form("/open311/v2/requests.xml", &blocked_lane(&l.key))
        .await;
    assert_eq!(anon.status, 200, "{}", anon.text);
    assert_eq!(app.contacts().await, 2);
    for path in [
        format!("/open311/v2/requests/{id}.json"),
        format!("/open311/v2/requests/{id}.xml"),
        "/open311/v2/requests.json".to_string(),
        "/open311/v2/requests.xml".to_string(),
        "/open311/v2/servicerequestupdates.json".to_string(),
        format!("/api/v1/schemes/{}/events?per_page=500", l.scheme),
        format!("/api/v1/initiatives/{}/events?per_page=500", l.initiative),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        for secret in ["nasreen@example.org", "Bibi", "1234567", "acct-77", "dev-9"] {
            assert!(!r.text.contains(secret), "{path} shows {secret}");
        }
    }
}
both!(personal_data_is_never_public);

async fn keys_are_the_admins_and_rate_limited(app: App) {
    let l = lane(&app).await;
    // Only the platform administrator issues keys.
    let no = app
        .api("/open311/keys", Some(&l.manager), json!({ "name": "mine" }))
        .await;
    assert_eq!(no.status, 403, "{}", no.text);
    let no = app
        .api("/open311/keys", None, json!({ "name": "mine" }))
        .await;
    assert_eq!(no.status, 401, "{}", no.text);
    let bad = app
        .api("/open311/keys", Some(&app.admin), json!({ "name": "  " }))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let slow = app.key("slow client", Some(2)).await;
    let listed = App::done(
        app.http
            .get(format!("{}/api/v1/open311/keys", app.root))
            .bearer_auth(&app.admin)
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(listed.status, 200);
    assert!(listed.json.as_array().is_some_and(|k| {
        k.iter()
            .any(|k| k["name"] == "slow client" && k["rate_per_minute"] == 2)
    }));
    assert!(
        !listed.text.contains(&slow),
        "a key is shown only when issued"
    );
    // Two a minute: the third is refused and writes nothing.
    for _ in 0..2 {
        assert_eq!(
            app.form("/open311/v2/requests.json", &blocked_lane(&slow))
                .await
                .status,
            200
        );
    }
    let head = app.head(&l.initiative).await;
    for xml in [false, true] {
        let r = app
            .form(
                &format!("/open311/v2/requests.{}", if xml { "xml" } else { "json" }),
                &blocked_lane(&slow),
            )
            .await;
        assert_open311_error(&r, 429, xml, "2 requests a minute");
        // When to come back, in whole seconds (one report's worth of the rate).
        let wait: u64 = r
            .retry_after
            .as_deref()
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After header in seconds");
        assert!((1..=30).contains(&wait), "Retry-After {wait}");
    }
    assert_eq!(app.head(&l.initiative).await, head);
    // Another key is not held back by it.
    assert_eq!(
        app.form("/open311/v2/requests.json", &blocked_lane(&l.key))
            .await
            .status,
        200
    );
}
both!(keys_are_the_admins_and_rate_limited);

async fn scorecards_over_two_rounds(app: App) {
    let l = lane(&app).await;
    let criteria = json!([{ "code": "cleanliness", "name": "the lane is kept clean" }, { "code": "response", "name": "complaints are answered" }]);
    // The treasurer may not hold a round; the rule that would allow it is named.
    let no = app
        .api(
            &format!("/schemes/{}/scorecards", l.scheme),
            Some(&l.treasurer),
            json!({ "service": "lane sewer", "held_on": "2026-01-05", "criteria": criteria }),
        )
        .await;
    assert_eq!(no.status, 403, "{}", no.text);
    assert_eq!(no.json["rule"], "organiser-holds-scorecards");
    let bad = app
        .api(
            &format!("/schemes/{}/scorecards", l.scheme),
            Some(&l.organiser),
            json!({ "service": "lane sewer", "held_on": "5 Jan", "criteria": criteria }),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let mut rounds = vec![];
    for (held_on, women, men, providers) in [
        ("2026-01-05", [1, 2], [3, 3], [4, 4]),
        ("2026-04-05", [3, 4], [4, 4], [4, 5]),
    ] {
        let r = app
            .api_ok(
                &format!("/schemes/{}/scorecards", l.scheme),
                Some(&l.organiser),
                json!({ "service": "lane sewer", "held_on": held_on, "criteria": criteria }),
            )
            .await;
        let round = r["round"].as_str().expect("round").to_string();
        for (group, party, s) in [
            ("women", "users", women),
            ("men", "users", men),
            ("providers", "providers", providers),
        ] {
            app.api_ok(&format!("/scorecards/{round}/scores"), Some(&l.organiser), json!({ "group": group, "party": party, "scores": { "cleanliness": [s[0], s[1]], "response": [s[1]] } })).await;
        }
        let out = app.api_ok(&format!("/scorecards/{round}/actions"), Some(&l.organiser), json!({ "actions": [{ "action": "Desilt the lane sewer every month", "position": "community.lane_manager", "due": "2026-06-30", "criterion": "cleanliness" }] })).await;
        assert!(out["events"].as_array().is_some_and(|e| {
            e.iter().any(|e| {
                e["kind"] == "obligation_opened"
                    && e["payload"]["position"] == "community.lane_manager"
            })
        }));
        rounds.push(round);
        app.clock.set(datetime!(2026-04-05 09:00 UTC));
    }
    // Bad scores change nothing; a closed round takes no more.
    let head = app.head(&l.initiative).await;
    let r = app
        .api(
            &format!("/scorecards/{}/scores", rounds[1]),
            Some(&l.organiser),
            json!({ "group": "elders", "party": "users", "scores": { "cleanliness": [6] } }),
        )
        .await;
    assert_eq!(r.status, 409, "closed round: {}", r.text);
    assert_eq!(app.head(&l.initiative).await, head);

    // Round one: women 1.5 and men 3.0 → users 2.3 (mean of group means);
    // providers 4.0; the gap -1.7.
    let one = app.get(&format!("/api/v1/scorecards/{}", rounds[0])).await;
    let clean = &one.json["results"][0];
    assert_eq!(clean["criterion"], "cleanliness");
    assert_eq!(clean["users"], 23);
    assert_eq!(clean["providers"], 40);
    assert_eq!(clean["gap"], -17);
    let all = app
        .get(&format!("/api/v1/schemes/{}/scorecards", l.scheme))
        .await;
    assert_eq!(all.json["rounds"].as_array().map(Vec::len), Some(2));
    let users_clean: Vec<(i64, Option<i64>)> = all.json["over_rounds"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["who"] == "users" && r["criterion"] == "cleanliness")
        .map(|r| {
            (
                r["score_tenths"].as_i64().expect("score"),
                r["change_tenths"].as_i64(),
            )
        })
        .collect();
    assert_eq!(users_clean, vec![(23, None), (38, Some(15))]);
    let csv = app
        .get(&format!(
            "/api/v1/schemes/{}/scorecards?format=csv",
            l.scheme
        ))
        .await;
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(
        csv.text
            .starts_with("round,held_on,criterion,criterion_name,who,score,change\n")
    );
    assert!(
        csv.text.contains(&format!(
            "{},2026-04-05,cleanliness,the lane is kept clean,users,3.8,1.5",
            rounds[1]
        )),
        "{}",
        csv.text
    );
    let svg = app
        .get(&format!("/api/v1/schemes/{}/scorecards/chart", l.scheme))
        .await;
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(
        svg.text.starts_with("<svg") && svg.text.contains("the lane is kept clean: users 3.8"),
        "{}",
        svg.text
    );

    // The agreed actions are obligations of the lane manager; he records one done.
    let obs = app
        .get(&format!(
            "/api/v1/schemes/{}/obligations?per_page=100",
            l.scheme
        ))
        .await;
    let mine: Vec<&Value> = obs.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|o| {
            o["stage"]
                .as_str()
                .is_some_and(|s| s.starts_with("scorecard:"))
        })
        .collect();
    assert_eq!(mine.len(), 2);
    let ob = mine[0]["id"].as_str().expect("id").to_string();
    let round = mine[0]["stage"]
        .as_str()
        .and_then(|s| s.strip_prefix("scorecard:"))
        .expect("round")
        .to_string();
    let no = app
        .api(
            &format!("/scorecards/{round}/actions/{ob}/done"),
            Some(&l.treasurer),
            json!({}),
        )
        .await;
    assert_eq!(no.status, 403, "{}", no.text);
    let done = app
        .api_ok(
            &format!("/scorecards/{round}/actions/{ob}/done"),
            Some(&l.manager),
            json!({}),
        )
        .await;
    assert!(
        done["events"]
            .as_array()
            .is_some_and(|e| e[0]["kind"] == "obligation_met")
    );

    // Rebuilt from the events, the projections are the same.
    let live = app.state.store.projection_dump().await.expect("dump");
    app.state.store.rebuild().await.expect("rebuild");
    assert_eq!(app.state.store.projection_dump().await.expect("dump"), live);
}
both!(scorecards_over_two_rounds);

async fn several_initiatives_route_by_place(app: App) {
    let l = lane(&app).await;
    // A second lane initiative, far away in Faisalabad.
    let community = app.org("Gulberg lane", "community").await;
    for i in 0..5 {
        let p = app.person(&format!("G{i}"), "female").await;
        app.api_ok("/memberships", Some(&app.admin), json!({ "person": p, "organisation": community, "position": if i == 0 { "lane_manager" } else { "member" } })).await;
    }
    let government = app.org("Faisalabad WASA", "public").await;
    let ngo = app.org("ASB", "third_sector").await;
    let resident = app
        .actor(&community, "resident", "Rukhsana", "female")
        .await;
    let init = app.api_ok("/initiatives", Some(&app.admin), json!({ "name": "Gulberg lanes", "locality": "Gulberg", "district": "Faisalabad", "arrangement": "component-sharing", "version": 1, "partners": { "community": community, "government": government, "ngo": ngo }, "latitude": 31.41, "longitude": 73.08 })).await;
    let far = init["id"].as_str().expect("id").to_string();
    app.api_ok(
        &format!("/initiatives/{far}/schemes"),
        Some(&resident),
        json!({ "name": "Gulberg street 3", "components": [{ "kind": "lane_sewer" }] }),
    )
    .await;
    // Near Faisalabad → the Gulberg lanes; near Lodhran → Fauji Colony.
    let mut f = blocked_lane(&l.key);
    f.retain(|(k, _)| *k != "lat" && *k != "long");
    let mut near_far = f.clone();
    near_far.extend([("lat", "31.4102"), ("long", "73.0801")]);
    let r = app.form("/open311/v2/requests.json", &near_far).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json[0]["service_request_id"]
        .as_str()
        .expect("id")
        .to_string();
    let one = app.get(&format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(one.json[0]["agency_responsible"], "Gulberg lane");
    // Without a place or a jurisdiction the endpoint cannot choose.
    let r = app.form("/open311/v2/requests.json", &f).await;
    assert_open311_error(&r, 400, false, "jurisdiction_id was not provided");
    // With one, it need not.
    let mut named = f.clone();
    named.push(("jurisdiction_id", &l.initiative));
    let r = app.form("/open311/v2/requests.json", &named).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json[0]["service_request_id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        app.get(&format!("/open311/v2/requests/{id}.json"))
            .await
            .json[0]["agency_responsible"],
        l.lane_org
    );
    // A service the initiative's schemes do not have is not found there.
    let mut paving = vec![
        ("api_key", l.key.as_str()),
        ("service_code", "broken_paving"),
        ("address_string", "Street 7"),
    ];
    paving.push(("jurisdiction_id", &l.initiative));
    assert_open311_error(
        &app.form("/open311/v2/requests.xml", &paving).await,
        404,
        true,
        "has a component of kind paving (street paving after the sewer)",
    );
}
both!(several_initiatives_route_by_place);

async fn report_facts_reach_rule_conditions(app: App) {
    // An arrangement whose programme manager may survey a lane only while
    // no report about the lane's own works is open.
    let (_, built_in) = saanjh_core::BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .expect("built in");
    let rule = "id = \"manager-may-survey\"\nattribute = \"ngo.programme_manager\"\ndeontic = \"may\"\naim = \"survey\"\n";
    assert!(built_in.contains(rule));
    let source = built_in
        .replace("id = \"component-sharing\"", "id = \"lane-reports-first\"")
        .replace(
            rule,
            &format!("{rule}condition = \"reports_open('community') == 0\"\n"),
        );
    app.api_ok(
        "/arrangements",
        Some(&app.admin),
        json!({ "source": source }),
    )
    .await;
    let l = lane_under(&app, "lane-reports-first").await;
    let r = app
        .form("/open311/v2/requests.json", &blocked_lane(&l.key))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json[0]["service_request_id"]
        .as_str()
        .expect("id")
        .to_string();
    let survey = json!({ "action": "survey" });
    let refused = app
        .api(
            &format!("/schemes/{}/acts", l.scheme),
            Some(&l.programme_manager),
            survey.clone(),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.json["rule"], "manager-may-survey");
    assert!(
        refused.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("reports_open('community') == 0")),
        "{}",
        refused.text
    );
    // Answering is not enough; closing it is.
    app.api_ok(
        &format!("/reports/{id}/responses"),
        Some(&l.manager),
        json!({ "status": "in_progress", "note": "On it." }),
    )
    .await;
    assert_eq!(
        app.api(
            &format!("/schemes/{}/acts", l.scheme),
            Some(&l.programme_manager),
            survey.clone()
        )
        .await
        .status,
        409
    );
    app.api_ok(
        &format!("/reports/{id}/responses"),
        Some(&l.manager),
        json!({ "status": "closed", "note": "Cleared." }),
    )
    .await;
    let ok = app
        .api(
            &format!("/schemes/{}/acts", l.scheme),
            Some(&l.programme_manager),
            survey,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // The response action is not a generic act: it names no report.
    let generic = app
        .api(
            &format!("/schemes/{}/acts", l.scheme),
            Some(&l.manager),
            json!({ "action": "respond_to_report" }),
        )
        .await;
    assert_eq!(generic.status, 422, "{}", generic.text);
}
both!(report_facts_reach_rule_conditions);

// ── The pages (HTML, no JavaScript) ──

/// A browser without JavaScript: no redirects followed, cookies by hand.
struct Browser {
    http: reqwest::Client,
    root: String,
}

struct Page {
    status: u16,
    location: String,
    cookies: Vec<String>,
    html: String,
}

impl Browser {
    fn new(app: &App) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            root: app.root.clone(),
        }
    }
    async fn done(res: reqwest::Response) -> Page {
        let h = res.headers();
        let location = h
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let cookies = h
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| c.split(';').next())
            .map(str::to_string)
            .collect();
        Page {
            status: res.status().as_u16(),
            location,
            cookies,
            html: res.text().await.expect("body"),
        }
    }
    async fn get(&self, path: &str, cookie: &str) -> Page {
        let mut r = self.http.get(format!("{}{path}", self.root));
        if !cookie.is_empty() {
            r = r.header("cookie", cookie);
        }
        Self::done(r.send().await.expect("GET")).await
    }
    async fn post(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Page {
        let mut r = self
            .http
            .post(format!("{}{path}", self.root))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(fields));
        if !cookie.is_empty() {
            r = r.header("cookie", cookie);
        }
        Self::done(r.send().await.expect("POST")).await
    }
    /// Sign in through the login form as the person behind an API token.
    async fn sign_in(&self, app: &App, token: &str) -> String {
        let username = app
            .usernames
            .lock()
            .expect("usernames")
            .get(token)
            .cloned()
            .expect("a user made by App::actor");
        let page = self.get("/login", "").await;
        let pre = page
            .cookies
            .iter()
            .find(|c| c.starts_with("saanjh_pre="))
            .cloned()
            .expect("pre-session cookie");
        let value = pre.trim_start_matches("saanjh_pre=").to_string();
        let r = self
            .post(
                "/login",
                &pre,
                &[
                    ("username", &username),
                    ("password", PASSWORD),
                    ("csrf", &value),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.html);
        r.cookies
            .into_iter()
            .find(|c| c.starts_with("saanjh_session="))
            .expect("session cookie")
    }
}

/// The value of a page's first CSRF field.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap_or("").to_string()
}

async fn report_and_scorecard_pages(app: App) {
    let l = lane(&app).await;
    let web = Browser::new(&app);

    // A citizen finds the form from the scheme page and reports, anonymously.
    let scheme_page = web.get(&format!("/schemes/{}", l.scheme), "").await;
    assert!(
        scheme_page
            .html
            .contains(&format!("href=\"/schemes/{}/report\"", l.scheme))
    );
    let form = web.get(&format!("/schemes/{}/report", l.scheme), "").await;
    assert_eq!(form.status, 200, "{}", form.html);
    assert!(form.html.contains("value=\"blocked_lane_sewer\""));
    assert!(form.html.contains("value=\"trunk_sewer_overflow\""));
    let cookie = form
        .cookies
        .iter()
        .find(|c| c.starts_with("saanjh_report="))
        .cloned()
        .expect("the form's cookie");
    let token = csrf_of(&form.html);
    let report = |csrf: String, description: String| {
        let cookie = cookie.clone();
        let path = format!("/schemes/{}/report", l.scheme);
        let web = &web;
        async move {
            web.post(
                &path,
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("service_code", "blocked_lane_sewer"),
                    ("attribute[manhole_overflowing]", "yes"),
                    // Another service's question, left empty, is ignored.
                    ("attribute[water_in_houses]", ""),
                    ("description", &description),
                    ("address", "outside house 12"),
                    ("name", "Rukhsana Private"),
                    ("email", "rukhsana@example.org"),
                    ("phone", "0300 1234567"),
                ],
            )
            .await
        }
    };
    let head = app.head(&l.initiative).await;
    let contacts = app.contacts().await;
    // A forged form, and bad input, change nothing.
    let forged = report("forged".into(), "x".into()).await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let long = report(token.clone(), "x".repeat(4001)).await;
    assert_eq!(long.status, 422, "{}", long.html);
    assert!(long.html.contains("at most 4000"), "{}", long.html);
    assert_eq!(app.head(&l.initiative).await, head);
    assert_eq!(app.contacts().await, contacts);
    let filed = report(token.clone(), "The manhole overflows every morning.".into()).await;
    assert_eq!(filed.status, 303, "{}", filed.html);
    let id = filed
        .location
        .strip_prefix("/reports/")
        .and_then(|r| r.strip_suffix("?done=1"))
        .expect("sent to the report's page")
        .to_string();
    assert_eq!(app.contacts().await, contacts + 1);

    // The public page: status, route, deadline; nobody's name or number.
    let public = web.get(&format!("/reports/{id}"), "").await;
    assert_eq!(public.status, 200, "{}", public.html);
    for says in [
        "id=\"status\">open<",
        &l.lane_org,
        "components.lane_sewer",
        "2026-01-12",
        "The manhole overflows every morning.",
    ] {
        assert!(public.html.contains(says), "{says}: {}", public.html);
    }
    for private in ["Rukhsana", "rukhsana@example.org", "0300"] {
        assert!(!public.html.contains(private), "{private} is shown");
    }
    assert!(!public.html.contains("form-respond"));

    // Only those the rules let answer see the response form.
    let treasurer = web.sign_in(&app, &l.treasurer).await;
    let p = web.get(&format!("/reports/{id}"), &treasurer).await;
    assert!(!p.html.contains("form-respond"));
    let manager = web.sign_in(&app, &l.manager).await;
    let p = web.get(&format!("/reports/{id}"), &manager).await;
    assert!(p.html.contains("form-respond"), "{}", p.html);
    let csrf = csrf_of(&p.html);
    let path = format!("/reports/{id}/respond");
    let forged = web
        .post(
            &path,
            &manager,
            &[("csrf", "nope"), ("status", "acknowledged")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let r = web
        .post(
            &path,
            &manager,
            &[
                ("csrf", &csrf),
                ("status", "in_progress"),
                ("note", "A sweeper comes on Monday."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let public = web.get(&format!("/reports/{id}"), "").await;
    assert!(
        public.html.contains("id=\"status\">in progress<"),
        "{}",
        public.html
    );
    assert!(public.html.contains("A sweeper comes on Monday."));
    // The response met the lane manager's duty.
    let met = scheme_events(&app, &l.scheme, "obligation_met").await;
    assert_eq!(met.len(), 1);

    // The initiative's list; in Urdu too.
    let list = web
        .get(&format!("/initiatives/{}/reports", l.initiative), "")
        .await;
    assert_eq!(list.status, 200);
    assert!(list.html.contains(&format!("href=\"/reports/{id}\"")));
    let ur = web
        .get(&format!("/initiatives/{}/reports", l.initiative), "lang=ur")
        .await;
    assert!(ur.html.contains("dir=\"rtl\"") && ur.html.contains("شہریوں کی شکایات"));

    // A report that does not say which lane waits; a partner routes it.
    let s9 = app
        .api_ok(
            &format!("/initiatives/{}/schemes", l.initiative),
            Some(&l.manager),
            json!({ "name": "Street 9", "components": [{ "kind": "lane_sewer" }] }),
        )
        .await;
    let street9 = s9["scheme"].as_str().expect("scheme").to_string();
    let held = app
        .form("/open311/v2/requests.json", &blocked_lane(&l.key))
        .await;
    let token = held.json[0]["token"].as_str().expect("token").to_string();
    let list = web
        .get(&format!("/initiatives/{}/reports", l.initiative), "")
        .await;
    assert!(list.html.contains("One report does not say which scheme"));
    assert!(
        !list.html.contains(&format!("route-{token}")),
        "the public cannot route"
    );
    let organiser = web.sign_in(&app, &l.organiser).await;
    let list = web
        .get(
            &format!("/initiatives/{}/reports", l.initiative),
            &organiser,
        )
        .await;
    assert!(
        list.html.contains(&format!("id=\"route-{token}\"")),
        "{}",
        list.html
    );
    let r = web
        .post(
            &format!("/initiatives/{}/reports/route", l.initiative),
            &organiser,
            &[
                ("csrf", &csrf_of(&list.html)),
                ("token", &token),
                ("scheme", &street9),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let t = app.get(&format!("/open311/v2/tokens/{token}.json")).await;
    assert!(
        t.json[0]["service_request_id"]
            .as_str()
            .is_some_and(|i| i.starts_with(&street9)),
        "{}",
        t.text
    );

    // Scorecards: the public sees results; the organiser holds the round.
    let sc = format!("/schemes/{}/scorecards", l.scheme);
    let p = web.get(&sc, "").await;
    assert_eq!(p.status, 200);
    assert!(p.html.contains("id=\"no-rounds\"") && !p.html.contains("form-open-round"));
    let p = web.get(&sc, &treasurer).await;
    assert!(
        !p.html.contains("form-open-round"),
        "the treasurer may not hold one"
    );
    let p = web.get(&sc, &organiser).await;
    assert!(p.html.contains("form-open-round"));
    let csrf = csrf_of(&p.html);
    let r = web
        .post(
            &format!("{sc}/open"),
            &organiser,
            &[
                ("csrf", &csrf),
                ("service", "the lane sewer"),
                ("held_on", "2026-01-04"),
                (
                    "criteria",
                    "flow: the sewer flows after rain\ncleanliness: the lane is kept clean",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let round = app
        .state
        .store
        .scorecard_rounds(&l.scheme)
        .await
        .expect("rounds")[0]
        .id
        .clone();
    for (group, party, flow, clean) in [
        ("women", "users", "2, 3, 3", "2 2"),
        ("men", "users", "4,4", "3"),
        ("providers", "providers", "5", "4"),
    ] {
        let r = web
            .post(
                &format!("/scorecards/{round}/scores"),
                &organiser,
                &[
                    ("csrf", &csrf),
                    ("group", group),
                    ("party", party),
                    ("score[flow]", flow),
                    ("score[cleanliness]", clean),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{group}: {}", r.html);
    }
    // A score outside 1–5 is refused and changes nothing.
    let head = app.head(&l.initiative).await;
    let bad = web
        .post(
            &format!("/scorecards/{round}/scores"),
            &organiser,
            &[
                ("csrf", &csrf),
                ("group", "elders"),
                ("party", "users"),
                ("score[flow]", "9"),
            ],
        )
        .await;
    assert!(bad.status == 422 || bad.status == 400, "{}", bad.html);
    assert_eq!(app.head(&l.initiative).await, head);
    let r = web
        .post(
            &format!("/scorecards/{round}/actions"),
            &organiser,
            &[
                ("csrf", &csrf),
                ("action", "Clean the collector every Friday"),
                ("position", "community.lane_manager"),
                ("due", "2026-02-01"),
                ("criterion", "cleanliness"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let p = web.get(&sc, "").await;
    // Flow: men 4.0, providers 5.0, women 2.7 (groups in name order); users
    // 3.3 (the mean of the groups' means, 8/3 and 4), gap -1.7.
    for says in [
        "<bdi>women</bdi>",
        "<td class=\"n\">4.0</td><td class=\"n\">5.0</td><td class=\"n\">2.7</td><td class=\"n\">3.3</td><td class=\"n\">5.0</td><td class=\"n\">-1.7</td>",
        "<svg",
        "Clean the collector every Friday",
        "lane manager",
        "scorecards?format=csv",
    ] {
        assert!(p.html.contains(says), "{says}: {}", p.html);
    }
    assert!(
        !p.html.contains(&format!("scores-{round}")),
        "scoring closes with the actions"
    );
}
both!(report_and_scorecard_pages);
