//! `saanjh demo`: a fresh database with realistic, clearly labelled
//! demonstration initiatives under each built-in arrangement — healthy ones
//! and the failure stories of domain.md §9.3 — created through the same
//! service functions the API uses, on a clock that walks through eight
//! months of history, then served.
//!
//! Figures follow domain.md: an OPP-style lane where most households pay
//! Rs 1,500 (AHKMT, Fauji Colony); a CCB project of Rs 7.058 million, 20/80,
//! three instalments (Chiniot UC-35); a Changa Pani water scheme handed over
//! to a WASCO (Badar Colony, Lahore). District Council Vehari divides its
//! reserve for community schemes in budgeting rounds (issue 7): one round
//! counted, its winners now schemes, and a second call in its voting phase.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use saanjh_core::engine::Act;
use saanjh_core::model::{Gender, OrgKind};
use saanjh_web::service::{
    self, NewInitiative, NewMembership, NewOrganisation, NewPerson, NewUser,
};
use saanjh_web::{AppState, Clock, ManualClock};
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// Password of every demonstration account (printed when the demo starts).
pub const DEMO_PASSWORD: &str = "saanjh-demo";

struct Demo {
    state: AppState,
    clock: Arc<ManualClock>,
    admin: String,
    /// Demo login → person id.
    pub logins: Vec<(String, String, String)>,
}

impl Demo {
    fn days(&self, n: i64) {
        self.clock.advance(Duration::days(n));
    }

    async fn org(&self, name: &str, kind: OrgKind, district: &str) -> anyhow::Result<String> {
        let o = service::register_organisation(
            &self.state,
            &self.admin,
            NewOrganisation {
                name: name.into(),
                kind,
                district: Some(district.into()),
            },
        )
        .await
        .map_err(|e| anyhow!("{name}: {}", e.problem.detail))?;
        Ok(o.id)
    }

    /// A person with a position in an organisation; `login` also makes them
    /// a user account.
    async fn person(
        &self,
        name: &str,
        gender: Gender,
        org: &str,
        position: &str,
        login: Option<&str>,
    ) -> anyhow::Result<String> {
        self.register(name, gender, false, org, position, login)
            .await
    }

    /// As `person`, for someone who holds elected office (a councillor).
    async fn elected_person(
        &self,
        name: &str,
        gender: Gender,
        org: &str,
        position: &str,
        login: Option<&str>,
    ) -> anyhow::Result<String> {
        self.register(name, gender, true, org, position, login)
            .await
    }

    #[allow(clippy::too_many_arguments)] // the person, their position, their login
    async fn register(
        &self,
        name: &str,
        gender: Gender,
        elected: bool,
        org: &str,
        position: &str,
        login: Option<&str>,
    ) -> anyhow::Result<String> {
        let p = service::register_person(
            &self.state,
            &self.admin,
            NewPerson {
                name: name.into(),
                gender: Some(gender),
                elected,
            },
        )
        .await
        .map_err(|e| anyhow!("{name}: {}", e.problem.detail))?;
        self.member(&p.id, org, position).await?;
        if let Some(username) = login {
            service::create_user(
                &self.state,
                NewUser {
                    username: username.into(),
                    password: DEMO_PASSWORD.into(),
                    person_id: Some(p.id.clone()),
                    is_admin: false,
                },
            )
            .await
            .map_err(|e| anyhow!("user {username}: {}", e.problem.detail))?;
        }
        Ok(p.id)
    }

    async fn member(&self, person: &str, org: &str, position: &str) -> anyhow::Result<()> {
        service::grant_membership(
            &self.state,
            &self.admin,
            NewMembership {
                person: person.into(),
                organisation: org.into(),
                position: position.into(),
            },
        )
        .await
        .map_err(|e| anyhow!("membership {position}: {}", e.problem.detail))?;
        Ok(())
    }

    /// Ordinary members, alternating names and genders by the given counts.
    async fn members(&self, org: &str, women: usize, men: usize) -> anyhow::Result<Vec<String>> {
        const WOMEN: &[&str] = &[
            "Shazia", "Nasreen", "Rukhsana", "Parveen", "Kausar", "Sadia", "Bushra", "Farzana",
            "Ghazala", "Tahira", "Samina", "Robina",
        ];
        const MEN: &[&str] = &[
            "Aslam", "Bashir", "Tariq", "Khalid", "Rafiq", "Naveed", "Imran", "Zahid", "Shahid",
            "Arshad", "Javed", "Sajid", "Akram", "Nadeem", "Iqbal", "Asif", "Mushtaq", "Waqar",
            "Sarfraz", "Anwar", "Ghulam", "Latif",
        ];
        let mut ids = vec![];
        for i in 0..women {
            let name = format!("{} Bibi {}", WOMEN[i % WOMEN.len()], i + 1);
            ids.push(
                self.person(&name, Gender::Female, org, "member", None)
                    .await?,
            );
        }
        for i in 0..men {
            let name = format!("{} {}", MEN[i % MEN.len()], i + 1);
            ids.push(
                self.person(&name, Gender::Male, org, "member", None)
                    .await?,
            );
        }
        Ok(ids)
    }

    async fn initiative(
        &self,
        name: &str,
        locality: &str,
        district: &str,
        arrangement: &str,
        partners: &[(&str, &str)],
        at: (f64, f64),
    ) -> anyhow::Result<String> {
        let i = service::start_initiative(
            &self.state,
            &self.admin,
            NewInitiative {
                name: name.into(),
                locality: locality.into(),
                district: district.into(),
                arrangement: arrangement.into(),
                version: 1,
                partners: partners
                    .iter()
                    .map(|(r, o)| (r.to_string(), o.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                latitude: Some(at.0),
                longitude: Some(at.1),
                demo: true,
            },
        )
        .await
        .map_err(|e| anyhow!("initiative {name}: {}", e.problem.detail))?;
        Ok(i.id)
    }

    /// Perform an act given as JSON (the API's body); returns the scheme id.
    async fn act(&self, on: &str, person: &str, body: serde_json::Value) -> anyhow::Result<String> {
        let act: Act =
            serde_json::from_value(body.clone()).with_context(|| format!("demo act {body}"))?;
        let out = service::act(&self.state, on, person, act)
            .await
            .map_err(|e| anyhow!("demo act {body}: {}", e.problem.detail))?;
        Ok(out.scheme)
    }

    #[allow(clippy::too_many_arguments)] // a meeting is its body, date, attendance and one resolution
    async fn meeting(
        &self,
        scheme: &str,
        person: &str,
        body: &str,
        held_on: OffsetDateTime,
        women: u32,
        men: u32,
        resolution: Option<(&str, &str, u32, u32)>,
    ) -> anyhow::Result<String> {
        let resolutions: Vec<serde_json::Value> = resolution
            .map(|(motion, action, yes, no)| vec![json!({"motion": motion, "action": action, "votes_for": yes, "votes_against": no})])
            .unwrap_or_default();
        self.act(scheme, person, json!({"action": "record_meeting", "meeting": {"body": body, "held_on": date(held_on), "attendance": {"women": women, "men": men}, "resolutions": resolutions}})).await?;
        let (_, s) = self
            .state
            .store
            .scheme(scheme)
            .await?
            .ok_or_else(|| anyhow!("scheme vanished"))?;
        s.meetings
            .keys()
            .max_by_key(|k| {
                k.rsplit('m')
                    .next()
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(0)
            })
            .cloned()
            .ok_or_else(|| anyhow!("meeting not recorded"))
    }

    async fn households(
        &self,
        scheme: &str,
        person: &str,
        n: usize,
        heads: &[&str],
    ) -> anyhow::Result<Vec<String>> {
        for i in 0..n {
            let head = heads
                .get(i % heads.len())
                .map(|h| format!("{h} (house {})", i + 1));
            self.act(scheme, person, json!({"action": "register_household", "household": {"house": format!("{}", i + 1), "head": head, "members": 5 + (i % 4)}})).await?;
        }
        let (_, s) = self
            .state
            .store
            .scheme(scheme)
            .await?
            .ok_or_else(|| anyhow!("scheme vanished"))?;
        let mut ids: Vec<String> = s.household_ids.into_iter().collect();
        ids.sort_by_key(|k| {
            k.rsplit('h')
                .next()
                .and_then(|n| n.parse::<i64>().ok())
                .unwrap_or(0)
        });
        Ok(ids)
    }
}

/// The Pakistani financial year (July–June) a moment falls in: "2025-26".
fn financial_year(t: OffsetDateTime) -> String {
    let y = t.year();
    let start = if u8::from(t.month()) >= 7 { y } else { y - 1 };
    format!("{start}-{:02}", (start + 1) % 100)
}

impl Demo {
    async fn allocation(
        &self,
        organisation: &str,
        arrangement: &str,
        year: &str,
        amount: i64,
        development_budget: i64,
        note: &str,
    ) -> anyhow::Result<()> {
        saanjh_web::ledger_api::set_allocation(
            &self.state,
            &self.admin,
            saanjh_web::ledger_api::NewAllocation {
                organisation: organisation.into(),
                arrangement: arrangement.into(),
                year: year.into(),
                amount,
                development_budget: Some(development_budget),
                note: Some(note.into()),
            },
        )
        .await
        .map_err(|e| anyhow!("allocation {year}: {}", e.problem.detail))?;
        Ok(())
    }
}

fn date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

const RS: i64 = 100; // paisa per rupee

/// Create the demonstration data on `state`, whose clock is `clock`, ending
/// at `today`. Returns the demo logins `(username, role in words)`.
pub async fn seed(
    state: AppState,
    clock: Arc<ManualClock>,
    today: OffsetDateTime,
) -> anyhow::Result<Vec<(String, String, String)>> {
    clock.set(today - Duration::days(520));
    service::ensure_built_in_arrangements(&state)
        .await
        .map_err(|e| anyhow!("{}", e.problem.detail))?;
    let admin_user = service::create_user(
        &state,
        NewUser {
            username: "admin".into(),
            password: DEMO_PASSWORD.into(),
            person_id: None,
            is_admin: true,
        },
    )
    .await
    .map_err(|e| anyhow!("admin: {}", e.problem.detail))?;
    let mut d = Demo {
        state,
        clock,
        admin: admin_user.id,
        logins: vec![(
            "admin".into(),
            "platform administrator".into(),
            String::new(),
        )],
    };
    lanes(&mut d).await.context("component-sharing demo")?;
    ccb(&mut d).await.context("cost-sharing demo")?;
    water(&mut d)
        .await
        .context("community-managed-water demo")?;
    // Citizens' reports over Open311 (routed by scope rules) and two
    // community scorecard rounds per initiative.
    saanjh_web::open311::seed_reports(&d.state)
        .await
        .map_err(|e| anyhow!("reports: {}", e.problem.detail))?;
    // After the reports, which are seeded for the stories above only.
    budgeting(&mut d, today)
        .await
        .context("budgeting rounds demo")?;
    // The present: obligations whose time ran out during the story are breached now.
    d.clock.set(today);
    service::sweep_due(&d.state)
        .await
        .map_err(|e| anyhow!("sweep: {}", e.problem.detail))?;
    Ok(d.logins)
}

/// Fauji Colony, Rawalpindi: AHKMT replicating OPP with the TMA. Street 7
/// goes all the way; on Street 9 the residents finish their part and the
/// trunk sewer never comes.
async fn lanes(d: &mut Demo) -> anyhow::Result<()> {
    let lane7 = d
        .org(
            "Street 7 Lane Organisation, Fauji Colony",
            OrgKind::Community,
            "Rawalpindi",
        )
        .await?;
    let lane9 = d
        .org(
            "Street 9 Lane Organisation, Fauji Colony",
            OrgKind::Community,
            "Rawalpindi",
        )
        .await?;
    let tma = d
        .org(
            "Rawalpindi Town Municipal Administration",
            OrgKind::Public,
            "Rawalpindi",
        )
        .await?;
    let ngo = d
        .org(
            "Anjuman Hamiyat-e-Kashmir Mohajireen Trust (AHKMT)",
            OrgKind::ThirdSector,
            "Rawalpindi",
        )
        .await?;

    let manager7 = d
        .person(
            "Malik Aslam",
            Gender::Male,
            &lane7,
            "lane_manager",
            Some("lane-manager"),
        )
        .await?;
    let treasurer7 = d
        .person(
            "Shazia Parveen",
            Gender::Female,
            &lane7,
            "treasurer",
            Some("treasurer"),
        )
        .await?;
    d.members(&lane7, 4, 8).await?;
    let manager9 = d
        .person("Tariq Mehmood", Gender::Male, &lane9, "lane_manager", None)
        .await?;
    d.person("Nasreen Akhtar", Gender::Female, &lane9, "treasurer", None)
        .await?;
    d.members(&lane9, 3, 6).await?;
    let organiser = d
        .person(
            "Rukhsana Kausar",
            Gender::Female,
            &ngo,
            "social_organiser",
            Some("organiser"),
        )
        .await?;
    let ngo_engineer = d
        .person(
            "Imran Qureshi",
            Gender::Male,
            &ngo,
            "engineer",
            Some("ngo-engineer"),
        )
        .await?;
    d.person(
        "Saeed Akhtar",
        Gender::Male,
        &ngo,
        "programme_manager",
        None,
    )
    .await?;
    let municipal = d
        .person(
            "Engr. Khalid Mahmood",
            Gender::Male,
            &tma,
            "municipal_engineer",
            Some("engineer"),
        )
        .await?;
    let councillor = d
        .elected_person("Malik Nisar", Gender::Male, &tma, "councillor", None)
        .await?;
    d.logins.extend([
        (
            "lane-manager".into(),
            "lane manager, Street 7 (component-sharing)".into(),
            manager7.clone(),
        ),
        (
            "treasurer".into(),
            "lane treasurer, Street 7 (component-sharing)".into(),
            treasurer7.clone(),
        ),
        (
            "organiser".into(),
            "NGO social organiser, AHKMT (component-sharing)".into(),
            organiser.clone(),
        ),
        (
            "ngo-engineer".into(),
            "NGO engineer, AHKMT (component-sharing)".into(),
            ngo_engineer.clone(),
        ),
        (
            "engineer".into(),
            "municipal engineer, Rawalpindi TMA (component-sharing)".into(),
            municipal.clone(),
        ),
    ]);

    let i7 = d
        .initiative(
            "Fauji Colony lane sanitation — Street 7 (DEMO)",
            "Fauji Colony, UC Dhoke Hassu",
            "Rawalpindi",
            "component-sharing",
            &[("community", &lane7), ("government", &tma), ("ngo", &ngo)],
            (33.6251, 73.0551),
        )
        .await?;
    let i9 = d
        .initiative(
            "Fauji Colony lane sanitation — Street 9 (DEMO)",
            "Fauji Colony, UC Dhoke Hassu",
            "Rawalpindi",
            "component-sharing",
            &[("community", &lane9), ("government", &tma), ("ngo", &ngo)],
            (33.6262, 73.0570),
        )
        .await?;

    // Street 7: 30 houses at Rs 1,500 each (AHKMT 2002); the TMA lays the trunk and paves.
    for (initiative, manager, treasurer, name, prefix, houses, payers, external_late) in [
        (
            &i7,
            &manager7,
            &treasurer7,
            "Street 7 lane sewer",
            "S7",
            30usize,
            27usize,
            false,
        ),
        (
            &i9,
            &manager9,
            &manager9,
            "Street 9 lane sewer",
            "S9",
            18,
            18,
            true,
        ),
    ] {
        let s = d.act(initiative, &councillor, json!({"action": "request", "name": name, "note": "Residents asked the councillor, who filed the request.",
            "components": [{"kind": "lane_sewer"}, {"kind": "house_connections"}, {"kind": "trunk_sewer"}, {"kind": "paving"}]})).await?;
        d.days(5);
        d.act(&s, &ngo_engineer, json!({"action": "survey", "note": "Levels checked; disposal into the Dhoke Hassu nala trunk."})).await?;
        d.days(4);
        let lane_total = houses as i64 * 1_500 * RS;
        d.act(&s, &ngo_engineer, json!({"action": "estimate", "estimates": {"lane_sewer": lane_total * 7 / 10, "house_connections": lane_total - lane_total * 7 / 10, "trunk_sewer": 2_400_000 * RS, "paving": 900_000 * RS}})).await?;
        let hh = d
            .households(
                &s,
                &organiser,
                houses,
                &[
                    "Muhammad Aslam",
                    "Bashir Ahmed",
                    "Parveen Akhtar",
                    "Ghulam Rasool",
                    "Zahida Bibi",
                    "Abdul Latif",
                ],
            )
            .await?;
        d.days(12);
        let m = d
            .meeting(
                &s,
                &organiser,
                "community",
                d.clock.now(),
                5,
                9,
                Some((
                    "Accept the estimate of Rs 1,500 per house and select the lane manager",
                    "organise_lane",
                    13,
                    1,
                )),
            )
            .await?;
        d.act(&s, &organiser, json!({"action": "organise_lane", "resolution_meeting": m, "note": "Third meeting; lane manager selected by show of hands."})).await?;
        for (n, h) in hh.iter().enumerate() {
            d.act(&s, treasurer, json!({"action": "record_pledge", "entry": {"role": "community", "amount": 1_500 * RS, "household": h}})).await?;
            if n < payers {
                d.days(if n % 5 == 0 { 2 } else { 0 });
                d.act(&s, treasurer, json!({"action": "record_contribution", "entry": {"role": "community", "amount": 1_500 * RS, "household": h, "receipt": format!("{prefix}-{:03}", n + 1)}})).await?;
            }
        }
        if payers < houses {
            // Street 7's shortfall: the lane manager makes it up in labour days.
            let short = (houses - payers) as i64 * 1_500 * RS;
            d.act(&s, manager, json!({"action": "record_contribution", "entry": {"role": "community", "means": "labour", "quantity": short / (750 * RS), "rate": 750 * RS, "purpose": "digging by residents who could not pay cash"}})).await?;
        }
        d.days(3);
        d.act(&s, manager, json!({"action": "confirm_funds"}))
            .await?;
        d.act(&s, manager, json!({"action": "start_works"})).await?;
        d.act(&s, manager, json!({"action": "record_expenditure", "entry": {"role": "community", "amount": lane_total / 2, "receipt": format!("{prefix}-M1"), "payee": "Pak Cement & Pipe Store", "purpose": "RCC pipes, cement, bricks for manholes", "component": "lane_sewer"}})).await?;
        d.days(9);
        d.act(&s, &ngo_engineer, json!({"action": "inspect", "note": "Levels right; curing poor on two manholes — posters pasted."})).await?;
        d.days(20);
        d.act(&s, manager, json!({"action": "complete_internal"}))
            .await?;
        d.act(&s, &organiser, json!({"action": "request_external", "note": "Letter to the TMA asking for the trunk connection and paving."})).await?;
        if !external_late {
            d.days(30);
            d.act(&s, &municipal, json!({"action": "record_release", "entry": {"role": "government", "amount": 3_300_000 * RS, "receipt": format!("TMA-RWP-{prefix}"), "component": "trunk_sewer", "purpose": "trunk connection and paving"}})).await?;
            d.act(&s, &municipal, json!({"action": "record_expenditure", "entry": {"role": "government", "amount": 3_300_000 * RS, "receipt": format!("TMA-RWP-{prefix}-W"), "payee": "Rawalpindi Builders (TMA contractor)", "purpose": "trunk sewer 180 m and street paving", "component": "trunk_sewer"}})).await?;
            d.days(10);
            d.act(
                &s,
                &municipal,
                json!({"action": "complete_external", "note": "Trunk connected; street paved."}),
            )
            .await?;
            d.act(&s, manager, json!({"action": "hand_over"})).await?;
            d.act(&s, &municipal, json!({"action": "hand_over"}))
                .await?;
        }
        d.days(10);
    }
    Ok(())
}

/// Chiniot UC-35: a CCB builds an academic block (Rs 7.058m; 20% deposited,
/// 80% in three instalments). Its second proposal stalls: the rules forbid
/// new money to a CCB with an unfinished project (the Khanewal story).
async fn ccb(d: &mut Demo) -> anyhow::Result<()> {
    let ccb = d
        .org(
            "Chenab Welfare Citizen Community Board",
            OrgKind::Community,
            "Chiniot",
        )
        .await?;
    let council = d
        .org("District Council Chiniot", OrgKind::Public, "Chiniot")
        .await?;
    let chair = d
        .person(
            "Muhammad Arshad",
            Gender::Male,
            &ccb,
            "chair",
            Some("ccb-chair"),
        )
        .await?;
    let secretary = d
        .person(
            "Ghazala Yasmin",
            Gender::Female,
            &ccb,
            "secretary",
            Some("ccb-secretary"),
        )
        .await?;
    let committee = [
        d.person(
            "Zahid Iqbal",
            Gender::Male,
            &ccb,
            "project_committee",
            Some("ccb-committee"),
        )
        .await?,
        d.person(
            "Sajid Hussain",
            Gender::Male,
            &ccb,
            "project_committee",
            None,
        )
        .await?,
        d.person(
            "Robina Kausar",
            Gender::Female,
            &ccb,
            "project_committee",
            None,
        )
        .await?,
    ];
    // 25 members in all: 22 men, 3 women (Chiniot, 2004).
    d.members(&ccb, 1, 19).await?;
    let official = d
        .person(
            "Rana Shahid (EDO Community Development)",
            Gender::Male,
            &council,
            "ccb_official",
            Some("ccb-official"),
        )
        .await?;
    let works = d
        .person(
            "Engr. Asif Javed (District Officer Buildings)",
            Gender::Male,
            &council,
            "works_engineer",
            Some("works-engineer"),
        )
        .await?;
    let monitors = [
        d.person(
            "Chaudhry Akram",
            Gender::Male,
            &council,
            "monitoring_committee",
            Some("monitoring"),
        )
        .await?,
        d.person(
            "Samina Naz",
            Gender::Female,
            &council,
            "monitoring_committee",
            None,
        )
        .await?,
        d.person(
            "Mian Latif",
            Gender::Male,
            &council,
            "monitoring_committee",
            None,
        )
        .await?,
    ];
    d.members(&council, 2, 5).await?;
    d.logins.extend([
        (
            "ccb-chair".into(),
            "CCB chairman (cost-sharing)".into(),
            chair.clone(),
        ),
        (
            "ccb-official".into(),
            "CCB official, District Council Chiniot (cost-sharing)".into(),
            official.clone(),
        ),
        (
            "works-engineer".into(),
            "works engineer, District Council Chiniot (cost-sharing)".into(),
            works.clone(),
        ),
    ]);
    // The council sets aside 25% of its development budget for CCBs each year
    // (non-lapsing); little of it is used — the Layyah story of under-utilisation.
    let this_year = financial_year(d.clock.now());
    let last_year = financial_year(d.clock.now() - Duration::days(365));
    d.allocation(
        &council,
        "cost-sharing",
        &last_year,
        15_000_000 * RS,
        60_000_000 * RS,
        "25% CCB earmark; no CCB project was approved this year",
    )
    .await?;
    d.allocation(
        &council,
        "cost-sharing",
        &this_year,
        15_000_000 * RS,
        60_000_000 * RS,
        "25% CCB earmark",
    )
    .await?;
    let init = d
        .initiative(
            "Chiniot UC-35 Citizen Community Board projects (DEMO)",
            "UC-35 Chiniot",
            "Chiniot",
            "cost-sharing",
            &[("community", &ccb), ("council", &council)],
            (31.7200, 72.9789),
        )
        .await?;

    let s = d.act(&init, &chair, json!({"action": "propose", "name": "Academic block, Chenab College", "components": [{"kind": "works", "description": "Two classrooms and a staff room"}]})).await?;
    d.days(11);
    d.act(
        &s,
        &works,
        json!({"action": "vet_estimate", "estimates": {"works": 7_058_000 * RS}}),
    )
    .await?;
    // Door to door, then deposited: Rs 1.412m (20.0%).
    for (n, amount) in [450_000i64, 380_000, 582_000].iter().enumerate() {
        d.days(6);
        d.act(&s, if n % 2 == 0 { &chair } else { &secretary }, json!({"action": "record_contribution", "entry": {"role": "community", "amount": amount * RS, "receipt": format!("CCB-CH-{:03}", n + 1), "purpose": "community share, collected door to door"}})).await?;
    }
    d.act(&s, &chair, json!({"action": "deposit_share", "note": "Deposit slip of the CCB's bank account attached."})).await?;
    d.days(18);
    let m = d
        .meeting(
            &s,
            &official,
            "council",
            d.clock.now(),
            2,
            9,
            Some((
                "Approve the CCB's academic block at Chenab College",
                "approve",
                9,
                2,
            )),
        )
        .await?;
    d.act(
        &s,
        &official,
        json!({"action": "approve", "resolution_meeting": m}),
    )
    .await?;
    d.days(7);
    d.act(&s, &chair, json!({"action": "sign_agreement"}))
        .await?;
    d.act(&s, &official, json!({"action": "sign_agreement"}))
        .await?;
    let instalment = 5_646_400 * RS / 3;
    d.days(9);
    d.act(&s, &official, json!({"action": "record_release", "entry": {"role": "council", "amount": instalment, "receipt": "DC-CHN-INST-1", "component": "works", "purpose": "first instalment"}})).await?;
    d.act(&s, &committee[0], json!({"action": "start_execution"}))
        .await?;
    d.act(&s, &official, json!({"action": "start_execution"}))
        .await?;
    d.days(20);
    d.act(&s, &committee[0], json!({"action": "record_expenditure", "entry": {"role": "community", "amount": 1_900_000 * RS, "receipt": "CCB-EXP-001", "payee": "Al-Madina Builders", "purpose": "foundations and plinth", "component": "works"}})).await?;
    d.act(
        &s,
        &committee[0],
        json!({"action": "report_progress", "note": "Plinth complete (Annex 7 report)."}),
    )
    .await?;
    d.days(15);
    d.act(
        &s,
        &monitors[0],
        json!({"action": "monitor", "note": "Monitoring Committee visit: quality satisfactory."}),
    )
    .await?;
    d.act(&s, &official, json!({"action": "record_release", "entry": {"role": "council", "amount": instalment, "receipt": "DC-CHN-INST-2", "component": "works", "purpose": "second instalment"}})).await?;
    d.days(30);
    d.act(&s, &committee[0], json!({"action": "record_expenditure", "entry": {"role": "community", "amount": 2_300_000 * RS, "receipt": "CCB-EXP-002", "payee": "Al-Madina Builders", "purpose": "walls and roof slab", "component": "works"}})).await?;

    // The second proposal: share deposited, but the first project is unfinished,
    // so the council may not approve it; its answer falls due and is breached.
    let s2 = d.act(&init, &chair, json!({"action": "propose", "name": "Street lights, Mohalla Islamabad", "components": [{"kind": "works"}]})).await?;
    d.days(6);
    d.act(
        &s2,
        &works,
        json!({"action": "vet_estimate", "estimates": {"works": 900_000 * RS}}),
    )
    .await?;
    d.act(&s2, &secretary, json!({"action": "record_contribution", "entry": {"role": "community", "amount": 180_000 * RS, "receipt": "CCB-CH-004", "purpose": "community share"}})).await?;
    d.act(&s2, &chair, json!({"action": "deposit_share"}))
        .await?;
    let _ = &monitors;
    Ok(())
}

/// Badar Colony, Lahore (UC-60): WASA, ASB and the WASCO. Phase 1 is built,
/// handed over and billed; a second scheme's design never comes.
async fn water(d: &mut Demo) -> anyhow::Result<()> {
    let wasco = d
        .org(
            "Badar Colony Water and Sanitation Community Organisation",
            OrgKind::Community,
            "Lahore",
        )
        .await?;
    let wasa = d.org("WASA Lahore", OrgKind::Public, "Lahore").await?;
    let asb = d
        .org("Anjuman Samaji Behbood", OrgKind::ThirdSector, "Faisalabad")
        .await?;
    let president = d
        .person(
            "Waheed Gul",
            Gender::Male,
            &wasco,
            "president",
            Some("wasco-president"),
        )
        .await?;
    let treasurer = d
        .person(
            "Kausar Parveen",
            Gender::Female,
            &wasco,
            "treasurer",
            Some("wasco-treasurer"),
        )
        .await?;
    d.person(
        "Farzana Bibi",
        Gender::Female,
        &wasco,
        "street_representative",
        None,
    )
    .await?;
    d.person(
        "Naveed Anjum",
        Gender::Male,
        &wasco,
        "street_representative",
        None,
    )
    .await?;
    d.members(&wasco, 6, 8).await?;
    let engineer = d
        .person(
            "Engr. Asghar Bhalli",
            Gender::Male,
            &wasa,
            "engineer",
            Some("wasa-engineer"),
        )
        .await?;
    let director = d
        .person(
            "Director Engineering, WASA",
            Gender::Male,
            &wasa,
            "director",
            Some("wasa-director"),
        )
        .await?;
    let organiser = d
        .person(
            "Manzoor Hussain",
            Gender::Male,
            &asb,
            "social_organiser",
            Some("asb-organiser"),
        )
        .await?;
    d.logins.extend([
        (
            "wasco-treasurer".into(),
            "WASCO treasurer (community-managed-water)".into(),
            treasurer.clone(),
        ),
        (
            "wasa-engineer".into(),
            "WASA engineer (community-managed-water)".into(),
            engineer.clone(),
        ),
        (
            "asb-organiser".into(),
            "ASB social organiser (community-managed-water)".into(),
            organiser.clone(),
        ),
    ]);
    let init = d
        .initiative(
            "Changa Pani, Badar Colony (DEMO)",
            "Badar Colony, UC-60 Aziz Bhatti Town",
            "Lahore",
            "community-managed-water",
            &[("community", &wasco), ("utility", &wasa), ("ngo", &asb)],
            (31.5497, 74.3936),
        )
        .await?;

    let s = d.act(&init, &organiser, json!({"action": "propose", "name": "Phase 1 piped water, Badar Colony", "components": [{"kind": "internal_fittings"}, {"kind": "distribution_mains"}, {"kind": "main_system"}]})).await?;
    d.days(21);
    let houses = 24usize;
    d.act(&s, &engineer, json!({"action": "design", "estimates": {"internal_fittings": houses as i64 * 9_500 * RS, "distribution_mains": 6_800_000 * RS, "main_system": 11_500_000 * RS}})).await?;
    let hh = d
        .households(
            &s,
            &organiser,
            houses,
            &[
                "Rashida Bibi",
                "Muhammad Yousaf",
                "Nazir Ahmed",
                "Sughran Bibi",
            ],
        )
        .await?;
    for h in &hh {
        d.act(&s, &treasurer, json!({"action": "record_pledge", "entry": {"role": "community", "amount": 9_500 * RS, "household": h}})).await?;
    }
    d.days(10);
    let m = d
        .meeting(
            &s,
            &organiser,
            "community",
            d.clock.now(),
            7,
            5,
            Some((
                "Street representatives chosen; internal share pledged",
                "mobilise",
                11,
                0,
            )),
        )
        .await?;
    d.act(
        &s,
        &organiser,
        json!({"action": "mobilise", "resolution_meeting": m}),
    )
    .await?;
    d.days(25);
    d.act(&s, &engineer, json!({"action": "start_works"}))
        .await?;
    // One ADP release, booked per component it funds (spending on each is
    // limited to what was released for it).
    d.act(&s, &director, json!({"action": "record_release", "entry": {"role": "utility", "amount": 6_800_000 * RS, "receipt": "WASA-ADP-0042-A", "component": "distribution_mains", "purpose": "ADP release: distribution mains"}})).await?;
    d.act(&s, &director, json!({"action": "record_release", "entry": {"role": "utility", "amount": 11_500_000 * RS, "receipt": "WASA-ADP-0042-B", "component": "main_system", "purpose": "ADP release: tube well, reservoir, transmission"}})).await?;
    for (n, h) in hh.iter().enumerate().take(20) {
        d.act(&s, &treasurer, json!({"action": "record_contribution", "entry": {"role": "community", "amount": 9_500 * RS, "household": h, "receipt": format!("WASCO-{:04}", n + 1)}})).await?;
    }
    d.days(14);
    d.act(
        &s,
        &engineer,
        json!({"action": "inspect", "note": "Pressure test of mains passed."}),
    )
    .await?;
    d.days(30);
    d.act(&s, &engineer, json!({"action": "commission"}))
        .await?;
    d.days(12);
    d.act(&s, &director, json!({"action": "hand_over"})).await?;
    d.act(&s, &president, json!({"action": "hand_over", "note": "Handover to the WASCO for operation and maintenance."})).await?;
    d.days(28);
    d.act(
        &s,
        &treasurer,
        json!({"action": "record_billing", "note": "Meters read; 24 bills issued, 21 paid."}),
    )
    .await?;
    // The month's bills and the tariffs paid against them: 21 of 24 (the
    // diagnosis's tariff collection rate, 0.875).
    for (n, h) in hh.iter().enumerate().take(24) {
        d.act(&s, &treasurer, json!({"action": "record_bill", "entry": {"role": "community", "amount": 300 * RS, "household": h}})).await?;
        if n < 21 {
            d.act(&s, &treasurer, json!({"action": "record_tariff", "entry": {"role": "community", "amount": 300 * RS, "household": h, "receipt": format!("WASCO-T-{:04}", n + 1)}})).await?;
        }
    }

    // Phase 2: proposed, but WASA's design never comes (escalated, then breached).
    d.days(5);
    d.act(&init, &president, json!({"action": "propose", "name": "Phase 2, Street 14–18 extension", "components": [{"kind": "internal_fittings"}, {"kind": "distribution_mains"}]})).await?;
    Ok(())
}

/// District Council Vehari's reserve for community schemes, divided by
/// residents' votes (issue 7). Three CCBs and a lane organisation propose,
/// the council's works department reviews (one proposal rejected: its
/// culvert crosses an irrigation channel), residents vote online with their
/// CNIC or on paper ballots that the council's clerks enter with the
/// serial, the Method of Equal Shares counts, and the winners become
/// schemes — CCB projects at 80/20, and a lane sewer under component
/// sharing with PRSP as the supporting NGO. A second call is in voting now.
async fn budgeting(d: &mut Demo, today: OffsetDateTime) -> anyhow::Result<()> {
    use saanjh_core::budgeting::{Area, ArrangementRef, Location, Phase, Schedule};
    use saanjh_web::budgeting::{
        self as pb, NewProposal, NewRound, OnlineVote, PaperBallot, ReviewInput,
    };
    // The two calls take 38 days of the story and end before today.
    let start = today - Duration::days(45);
    if d.clock.now() > start {
        return Err(anyhow!(
            "the earlier stories ran to {}, past where the budgeting rounds must start ({})",
            date(d.clock.now()),
            date(start)
        ));
    }
    d.clock.set(start);
    let district = "Vehari";
    let council = d
        .org("District Council Vehari", OrgKind::Public, district)
        .await?;
    let prsp = d
        .org(
            "Punjab Rural Support Programme, Vehari",
            OrgKind::ThirdSector,
            district,
        )
        .await?;
    let official = d
        .person(
            "Malik Javed Iqbal (Deputy Director Community Development)",
            Gender::Male,
            &council,
            "ccb_official",
            Some("vehari-official"),
        )
        .await?;
    let works = d
        .person(
            "Engr. Nadeem Akhtar (XEN Works, District Council Vehari)",
            Gender::Male,
            &council,
            "works_engineer",
            Some("vehari-works"),
        )
        .await?;
    let clerk = d
        .person(
            "Rukhsana Kausar",
            Gender::Female,
            &council,
            "ballot_clerk",
            Some("vehari-clerk"),
        )
        .await?;
    let clerk2 = d
        .person(
            "Muhammad Saleem",
            Gender::Male,
            &council,
            "ballot_clerk",
            None,
        )
        .await?;
    d.person(
        "Ayesha Siddiqa",
        Gender::Female,
        &prsp,
        "social_organiser",
        None,
    )
    .await?;
    // Three CCBs of at least 25 non-elected members, and a lane organisation.
    let mut ccbs = vec![];
    for (name, chair, gender, login, women, men) in [
        (
            "Karampur Citizen Community Board",
            "Haji Abdul Ghafoor",
            Gender::Male,
            Some("karampur-ccb"),
            6,
            18,
        ),
        (
            "Luddan Welfare Citizen Community Board",
            "Shamim Akhtar",
            Gender::Female,
            None,
            11,
            13,
        ),
        (
            "Machiwal Ittehad Citizen Community Board",
            "Rao Imtiaz Ahmad",
            Gender::Male,
            None,
            4,
            20,
        ),
    ] {
        let org = d.org(name, OrgKind::Community, district).await?;
        let chair = d.person(chair, gender, &org, "chair", login).await?;
        d.members(&org, women, men).await?;
        ccbs.push((org, chair));
    }
    let lane = d
        .org(
            "Gali 3 Faisal Town Lane Organisation, Vehari",
            OrgKind::Community,
            district,
        )
        .await?;
    let lane_manager = d
        .person("Sajjad Hussain", Gender::Male, &lane, "lane_manager", None)
        .await?;
    d.members(&lane, 3, 5).await?;
    d.logins.extend([
        (
            "vehari-official".into(),
            "CCB official, District Council Vehari: opens and moves budgeting rounds".into(),
            official.clone(),
        ),
        (
            "vehari-works".into(),
            "works engineer, District Council Vehari: reviews round proposals".into(),
            works.clone(),
        ),
        (
            "vehari-clerk".into(),
            "ballot clerk, District Council Vehari: enters paper ballots".into(),
            clerk.clone(),
        ),
        (
            "karampur-ccb".into(),
            "CCB chairman, Karampur: proposes in budgeting rounds".into(),
            ccbs[0].1.clone(),
        ),
    ]);
    const UCS: [&str; 4] = [
        "UC-41 Karampur",
        "UC-52 Luddan",
        "UC-67 Machiwal",
        "UC-12 Vehari City",
    ];
    let fy = financial_year(d.clock.now());
    let open = |name: String, budget: i64, days: [i64; 3]| {
        let now = d.clock.now();
        NewRound {
            name,
            council: council.clone(),
            financial_year: Some(fy.clone()),
            budget,
            area: Area {
                district: district.into(),
                union_councils: UCS.iter().map(|u| u.to_string()).collect(),
                bounds: None,
            },
            rule: Some("mes-add1".into()),
            seed: None,
            convenor: None,
            reviewer: None,
            counter: None,
            max_choices: Some(3),
            arrangement: Some("cost-sharing".into()),
            version: Some(1),
            other_arrangements: vec![ArrangementRef {
                id: "component-sharing".into(),
                version: 1,
            }],
            schedule: Schedule {
                review: Some(date(now + Duration::days(days[0]))),
                voting: Some(date(now + Duration::days(days[1]))),
                results: Some(date(now + Duration::days(days[2]))),
            },
            currency: None,
            demo: true,
            add1_step: None,
        }
    };
    let err = |what: &str, e: saanjh_web::ApiError| anyhow!("{what}: {}", e.problem.detail);
    let state = d.state.clone();
    // The proposing organisation (index into `ccbs`, or the lane), title,
    // description, estimate, place, union council.
    type Proposal<'a> = (usize, &'a str, &'a str, i64, &'a str, usize);
    let propose = |round: String, list: Vec<Proposal<'static>>| {
        let state = state.clone();
        let ccbs = ccbs.clone();
        let lane = lane.clone();
        let lane_manager = lane_manager.clone();
        let prsp = prsp.clone();
        async move {
            for (who, title, description, estimate, place, uc) in list {
                let (org, person, arrangement, partners) = if who < ccbs.len() {
                    (
                        ccbs[who].0.clone(),
                        ccbs[who].1.clone(),
                        None,
                        BTreeMap::new(),
                    )
                } else {
                    (
                        lane.clone(),
                        lane_manager.clone(),
                        Some("component-sharing".to_string()),
                        BTreeMap::from([("ngo".to_string(), prsp.clone())]),
                    )
                };
                pb::submit_proposal(
                    &state,
                    &person,
                    &round,
                    NewProposal {
                        organisation: org,
                        title: title.into(),
                        description: description.into(),
                        estimate: estimate * RS,
                        location: Location {
                            place: place.into(),
                            union_council: Some(UCS[uc].into()),
                            latitude: None,
                            longitude: None,
                        },
                        arrangement,
                        version: Some(1),
                        component: None,
                        partners,
                    },
                )
                .await
                .map_err(|e| anyhow!("proposal {title}: {}", e.problem.detail))?;
            }
            anyhow::Ok(())
        }
    };
    let review =
        |round: String, n: u32, decision: Result<(i64, Option<&'static str>), &'static str>| {
            let state = state.clone();
            let works = works.clone();
            async move {
                let input = match decision {
                    Ok((cost, note)) => ReviewInput {
                        decision: "feasible".into(),
                        cost: Some(cost * RS),
                        note: note.map(str::to_string),
                        reason: None,
                    },
                    Err(reason) => ReviewInput {
                        decision: "rejected".into(),
                        cost: None,
                        note: None,
                        reason: Some(reason.into()),
                    },
                };
                pb::review_proposal(&state, &works, &round, n, input)
                    .await
                    .map_err(|e| anyhow!("review {n}: {}", e.problem.detail))
            }
        };
    let move_to = |round: String, to: Phase, note: &'static str| {
        let state = state.clone();
        let official = official.clone();
        async move {
            pb::change_phase(&state, &official, &round, to, Some(note.into()))
                .await
                .map(|_| ())
                .map_err(|e| anyhow!("phase {}: {}", to.as_str(), e.problem.detail))
        }
    };
    // Residents' ballots: who supports what follows where they live, with
    // some voting across union councils. Online voters give a CNIC (Vehari's
    // prefix 36603); paper ballots are entered by the two clerks.
    let ballots =
        |round: String, first: usize, online: usize, paper: usize, prefs: [Vec<Vec<u32>>; 4]| {
            let state = state.clone();
            let clerks = [clerk.clone(), clerk2.clone()];
            async move {
                for i in 0..online + paper {
                    let uc = i % 4;
                    let choices = &prefs[uc];
                    let approvals = choices[(i / 4) % choices.len()].clone();
                    if i < online {
                        // Each demonstration resident votes from their own phone.
                        pb::vote_online(
                            &state,
                            &round,
                            &format!("demo-resident-{}", first + i),
                            OnlineVote {
                                cnic: format!(
                                    "36603-{:07}-{}",
                                    4_100_000 + first + i * 37,
                                    (first + i) % 10
                                ),
                                approvals,
                                union_council: Some(UCS[uc].into()),
                            },
                        )
                        .await
                        .map_err(|e| anyhow!("online ballot {i}: {}", e.problem.detail))?;
                    } else {
                        pb::enter_paper_ballot(
                            &state,
                            &clerks[i % 2],
                            &round,
                            PaperBallot {
                                serial: format!("VHR-{:05}", first + i),
                                approvals,
                                union_council: Some(UCS[uc].into()),
                            },
                        )
                        .await
                        .map_err(|e| anyhow!("paper ballot {i}: {}", e.problem.detail))?;
                    }
                }
                anyhow::Ok(())
            }
        };

    // The first call: proposals for ten days, a week of review, two weeks
    // of voting, then the count and the winners as schemes.
    let first = pb::open_round(
        &d.state,
        Some(&official),
        false,
        &official,
        open(
            format!("Community schemes reserve {fy}, first call (DEMO)"),
            13_000_000 * RS,
            [10, 14, 24],
        ),
    )
    .await
    .map_err(|e| err("first round", e))?
    .record
    .id;
    d.days(3);
    propose(
        first.clone(),
        vec![
            (0, "Covered drain, Ward 4 Karampur", "A covered brick drain along the main street of Ward 4, where sullage stands in front of 140 houses.", 4_800_000, "Ward 4, Karampur", 0),
            (0, "Boundary wall, Government Girls Primary School Karampur", "A boundary wall and gate so that parents let their daughters attend; 310 girls enrolled.", 2_150_000, "Government Girls Primary School, Karampur", 0),
            (1, "Water filtration plant, Luddan", "A reverse-osmosis plant with a shed and taps; the groundwater is brackish and high in arsenic.", 6_500_000, "Near the Union Council office, Luddan", 1),
            (1, "Solar street lights, Luddan bazaar", "Forty solar street lights on the main bazaar and the road to the girls' high school.", 1_800_000, "Main bazaar, Luddan", 1),
            (2, "Soling and culvert, Basti Jhabar road", "Brick soling of 1.2 km of the road to Basti Jhabar, with a culvert over the distributary.", 5_500_000, "Basti Jhabar, Machiwal", 2),
            (3, "Lane sewer, Gali 3 Faisal Town", "The residents lay the lane sewer and house connections themselves with PRSP's technical help; the council connects it to the main sewer.", 2_600_000, "Gali 3, Faisal Town, Vehari", 3),
            (2, "Paved path to the Machiwal graveyard", "A paved path of 400 m with drainage, used by every funeral in the village.", 1_200_000, "Machiwal", 2),
        ],
    )
    .await?;
    d.days(7);
    move_to(
        first.clone(),
        Phase::Review,
        "Proposals closed on the planned date; seven received.",
    )
    .await?;
    d.days(2);
    for (n, decision) in [
        (
            1,
            Ok((
                5_200_000,
                Some("Rates of the 2026 market rate schedule; the outfall needs 60 m more."),
            )),
        ),
        (2, Ok((2_150_000, None))),
        (
            3,
            Ok((
                6_800_000,
                Some("RO membrane and a larger shed than estimated."),
            )),
        ),
        (
            4,
            Ok((
                1_720_000,
                Some("Fewer poles on the school road, which already has two lights."),
            )),
        ),
        (
            5,
            Err(
                "The culvert crosses the Irrigation Department's distributary: it needs the department's NOC and is its work, not this reserve's.",
            ),
        ),
        (
            6,
            Ok((
                2_480_000,
                Some("Internal works only; the trunk connection is the council's own work."),
            )),
        ),
        (7, Ok((1_200_000, None))),
    ] {
        review(first.clone(), n, decision).await?;
    }
    d.days(1);
    move_to(
        first.clone(),
        Phase::Voting,
        "Voting at the union council offices and online.",
    )
    .await?;
    let prefs_first = [
        vec![vec![1, 2], vec![1, 2, 4], vec![2], vec![1]],
        vec![vec![3, 4], vec![3], vec![3, 4, 2], vec![4]],
        vec![vec![7], vec![7, 3], vec![7, 1], vec![3]],
        vec![vec![6], vec![6, 4], vec![6, 2], vec![2, 4]],
    ];
    ballots(first.clone(), 0, 96, 36, prefs_first).await?;
    d.days(10);
    move_to(
        first.clone(),
        Phase::Results,
        "Voting closed; counted by the Method of Equal Shares.",
    )
    .await?;
    d.days(2);
    let links = pb::create_schemes(&d.state, &official, &first)
        .await
        .map_err(|e| err("winners into schemes", e))?;
    if links.is_empty() {
        return Err(anyhow!("the first call produced no scheme"));
    }
    if let Some(refused) = links.iter().find_map(|l| l.refused.clone()) {
        return Err(anyhow!("a winner did not become a scheme: {refused}"));
    }
    d.days(2);

    // The second call: reviewed, and in voting now.
    let voting_days = (today - d.clock.now()).whole_days().max(12);
    let second = pb::open_round(
        &d.state,
        Some(&official),
        false,
        &official,
        open(
            format!("Community schemes reserve {fy}, second call (DEMO)"),
            5_000_000 * RS,
            [7, 12, voting_days + 5],
        ),
    )
    .await
    .map_err(|e| err("second round", e))?
    .record
    .id;
    d.days(2);
    propose(
        second.clone(),
        vec![
            (0, "Roof of the Karampur community hall", "Replace the leaking girder-and-tile roof of the hall used for the girls' sewing centre.", 1_450_000, "Community hall, Karampur", 0),
            (1, "Washrooms, Government Girls High School Luddan", "Six washrooms with water storage; the school has two for 520 girls.", 1_900_000, "Government Girls High School, Luddan", 1),
            (2, "Soling of the Basti Jhabar road, without the culvert", "The soling alone; the Irrigation Department has been asked for the culvert.", 3_900_000, "Basti Jhabar, Machiwal", 2),
            (3, "Lane sewer, Gali 5 Faisal Town", "The next lane, with the same arrangement as Gali 3.", 2_300_000, "Gali 5, Faisal Town, Vehari", 3),
        ],
    )
    .await?;
    d.days(5);
    move_to(
        second.clone(),
        Phase::Review,
        "Proposals closed; four received.",
    )
    .await?;
    d.days(1);
    for (n, decision) in [
        (1, Ok((1_450_000, None))),
        (2, Ok((2_050_000, Some("Includes an overhead tank.")))),
        (3, Ok((3_600_000, Some("1.2 km at the schedule rate.")))),
        (4, Ok((2_300_000, None))),
    ] {
        review(second.clone(), n, decision).await?;
    }
    d.days(3);
    move_to(
        second.clone(),
        Phase::Voting,
        "Voting open until the planned date.",
    )
    .await?;
    let prefs_second = [
        vec![vec![1], vec![1, 2]],
        vec![vec![2], vec![2, 1]],
        vec![vec![3], vec![3, 2]],
        vec![vec![4], vec![4, 2]],
    ];
    ballots(second.clone(), 10_000, 41, 12, prefs_second).await?;
    Ok(())
}
