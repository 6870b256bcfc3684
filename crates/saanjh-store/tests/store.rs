//! The store's specification, run on SQLite always and on PostgreSQL when
//! `SAANJH_TEST_POSTGRES_URL` is set (each test gets its own database).

use std::collections::BTreeMap;

use saanjh_core::arrangement::Domain;
use saanjh_core::event::{EventBody, InitiativeRecord, REGISTRY_CHAIN};
use saanjh_core::model::{Component, Membership, OrgKind, Organisation, Person};
use saanjh_store::{Store, StoreError};

const AT: &str = "2026-01-01T10:00:00Z";

/// A fresh store on each available backend.
async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut out = vec![(Store::connect(&url).await.expect("sqlite"), Some(dir))];
    match std::env::var("SAANJH_TEST_POSTGRES_URL") {
        Ok(base) => {
            let admin = Store::connect(&base).await.expect("postgres");
            let name = format!("saanjh_store_{}", uuid::Uuid::now_v7().simple());
            admin
                .execute_raw(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let url = match base.rsplit_once('/') {
                Some((head, _)) => format!("{head}/{name}"),
                None => panic!("SAANJH_TEST_POSTGRES_URL must end in /DATABASE"),
            };
            out.push((Store::connect(&url).await.expect("postgres test db"), None));
        }
        Err(_) => eprintln!("SAANJH_TEST_POSTGRES_URL is not set: store tests run on SQLite only"),
    }
    out
}

fn registry_events() -> Vec<EventBody> {
    vec![
        EventBody::OrganisationRegistered {
            organisation: Organisation {
                id: "o1".into(),
                name: "Street 7 lane organisation".into(),
                kind: OrgKind::Community,
                district: Some("Rawalpindi".into()),
            },
        },
        EventBody::PersonRegistered {
            person: Person {
                id: "p1".into(),
                name: "Shazia".into(),
                gender: Some(saanjh_core::model::Gender::Female),
                elected: false,
            },
        },
        EventBody::MembershipGranted {
            membership: Membership {
                id: "m1".into(),
                person: "p1".into(),
                organisation: "o1".into(),
                position: "treasurer".into(),
            },
        },
    ]
}

fn initiative_events() -> Vec<EventBody> {
    vec![
        EventBody::InitiativeStarted {
            initiative: InitiativeRecord {
                id: "i1".into(),
                name: "Fauji Colony sanitation".into(),
                locality: "Fauji Colony".into(),
                district: "Rawalpindi".into(),
                arrangement: "component-sharing".into(),
                version: 1,
                partners: BTreeMap::from([("community".into(), "o1".into())]),
                demo: false,
                latitude: Some(33.6),
                longitude: Some(73.0),
            },
        },
        EventBody::SchemeCreated {
            scheme: "s1".into(),
            name: "Street 7".into(),
            action: "request".into(),
            stage: "requested".into(),
            components: vec![Component {
                kind: "lane_sewer".into(),
                domain: Domain::Internal,
                delivered_by: "community".into(),
                estimate: Some(10_500_000),
                description: None,
            }],
            positions: vec!["community.treasurer".into()],
            note: None,
        },
        EventBody::ActPerformed {
            scheme: "s1".into(),
            action: "survey".into(),
            from: "requested".into(),
            to: Some("surveyed".into()),
            positions: vec![],
            rules: vec!["survey-promptly".into()],
            note: None,
        },
    ]
}

#[tokio::test]
async fn appended_events_form_a_verifiable_chain_and_update_projections() {
    for (store, _dir) in stores().await {
        store
            .append(REGISTRY_CHAIN, 0, "admin", AT, &registry_events())
            .await
            .unwrap();
        store
            .append("i1", 0, "p1", AT, &initiative_events())
            .await
            .unwrap();
        let report = store.verify(None).await.unwrap();
        assert_eq!(
            (report.chains, report.events),
            (2, 6),
            "{}",
            store.backend()
        );
        assert!(report.broken.is_empty());
        let (row, state) = store.scheme("s1").await.unwrap().unwrap();
        assert_eq!(row.stage, "surveyed");
        assert_eq!(state.done.get("survey"), Some(&1));
        assert_eq!(
            store
                .positions_of("i1", "p1")
                .await
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["community.treasurer".to_string()]
        );
        assert_eq!(store.org_facts("o1").await.unwrap().women_members, 1);
    }
}

#[tokio::test]
async fn an_append_decided_against_an_old_head_is_a_conflict_and_writes_nothing() {
    for (store, _dir) in stores().await {
        store
            .append(REGISTRY_CHAIN, 0, "admin", AT, &registry_events()[..1])
            .await
            .unwrap();
        let err = store
            .append(REGISTRY_CHAIN, 0, "admin", AT, &registry_events()[1..])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.head(REGISTRY_CHAIN).await.unwrap().0, 1);
        assert!(
            store.person("p1").await.unwrap().is_none(),
            "no projection without its event"
        );
    }
}

#[tokio::test]
async fn a_failing_event_rolls_back_the_whole_append() {
    for (store, _dir) in stores().await {
        // An act on a scheme that does not exist cannot be projected.
        let bad = vec![
            registry_events()[0].clone(),
            EventBody::ActPerformed {
                scheme: "nope".into(),
                action: "x".into(),
                from: "a".into(),
                to: None,
                positions: vec![],
                rules: vec![],
                note: None,
            },
        ];
        assert!(store.append("i9", 0, "p1", AT, &bad).await.is_err());
        assert_eq!(store.head("i9").await.unwrap().0, 0);
        assert!(store.organisation("o1").await.unwrap().is_none());
        assert!(store.chain_events("i9", 0, 10).await.unwrap().is_empty());
    }
}

/// A report on scheme s1 (of `initiative_events`), as its event.
fn report_filed(report: &str, token: &str) -> EventBody {
    EventBody::ReportFiled {
        report: report.into(),
        scheme: "s1".into(),
        record: saanjh_core::reports::ReportRecord {
            service_code: "blocked_lane_sewer".into(),
            service_name: "blocked lane sewer".into(),
            component: "lane_sewer".into(),
            domain: Domain::Internal,
            routed_to: "community".into(),
            routed_by: "components.lane_sewer".into(),
            lat: Some(33.6),
            long: Some(73.0),
            address: Some("Street 7".into()),
            address_id: None,
            description: Some("The manhole overflows.".into()),
            media_url: None,
            attributes: BTreeMap::new(),
            token: token.into(),
            requested_at: None,
        },
    }
}

fn contact_of(report: &str, email: &str) -> saanjh_store::SideRow {
    saanjh_store::SideRow::ReportContact {
        report: report.into(),
        contact: saanjh_store::ReportContact {
            email: Some(email.into()),
            ..Default::default()
        },
        via: "k1".into(),
    }
}

#[tokio::test]
async fn a_reports_contact_is_written_with_its_events_or_not_at_all() {
    for (store, _dir) in stores().await {
        store
            .append(REGISTRY_CHAIN, 0, "admin", AT, &registry_events())
            .await
            .unwrap();
        store
            .append("i1", 0, "p1", AT, &initiative_events())
            .await
            .unwrap();
        let head = store.head("i1").await.unwrap().0;
        // Both, in one transaction.
        store
            .append_with(
                "i1",
                head,
                "open311:k1",
                AT,
                &[report_filed("s1-r1", "t1")],
                &[contact_of("s1-r1", "a@example.org")],
            )
            .await
            .unwrap();
        assert!(store.report("s1-r1").await.unwrap().is_some());
        assert_eq!(store.report_contact_count().await.unwrap(), 1);
        // A contact row that cannot be written (its report already has one)
        // takes the events down with it: neither is kept.
        let head = store.head("i1").await.unwrap().0;
        let failed = store
            .append_with(
                "i1",
                head,
                "open311:k1",
                AT,
                &[report_filed("s1-r2", "t2")],
                &[contact_of("s1-r1", "b@example.org")],
            )
            .await;
        assert!(failed.is_err());
        assert_eq!(store.head("i1").await.unwrap().0, head);
        assert!(store.report("s1-r2").await.unwrap().is_none());
        assert_eq!(store.report_contact_count().await.unwrap(), 1);
        // Events that cannot be written take the contact down with them.
        let failed = store
            .append_with(
                "i1",
                head,
                "open311:k1",
                AT,
                &[report_filed("s1-r1", "t3")],
                &[contact_of("s1-r3", "c@example.org")],
            )
            .await;
        assert!(failed.is_err());
        assert_eq!(store.head("i1").await.unwrap().0, head);
        assert_eq!(store.report_contact_count().await.unwrap(), 1);
        // A stale head is a conflict before anything is written.
        let stale = store
            .append_with(
                "i1",
                head - 1,
                "open311:k1",
                AT,
                &[report_filed("s1-r4", "t4")],
                &[contact_of("s1-r4", "d@example.org")],
            )
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        assert_eq!(store.report_contact_count().await.unwrap(), 1);
        // A private row never goes alone.
        assert!(
            store
                .append_with(
                    "i1",
                    head,
                    "x",
                    AT,
                    &[],
                    &[contact_of("s1-r5", "e@example.org")]
                )
                .await
                .is_err()
        );
        assert_eq!(store.report_contact_count().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn the_database_refuses_to_edit_or_delete_events() {
    for (store, _dir) in stores().await {
        store
            .append(REGISTRY_CHAIN, 0, "admin", AT, &registry_events())
            .await
            .unwrap();
        assert!(
            store
                .execute_raw("UPDATE events SET actor = 'someone else'")
                .await
                .is_err()
        );
        assert!(store.execute_raw("DELETE FROM events").await.is_err());
        assert_eq!(
            store
                .chain_events(REGISTRY_CHAIN, 0, 10)
                .await
                .unwrap()
                .len(),
            3
        );
    }
}

#[tokio::test]
async fn verify_finds_an_event_edited_behind_the_triggers_back() {
    for (store, _dir) in stores().await {
        store
            .append(REGISTRY_CHAIN, 0, "admin", AT, &registry_events())
            .await
            .unwrap();
        store
            .append("i1", 0, "p1", AT, &initiative_events())
            .await
            .unwrap();
        let drop = if store.backend() == "postgres" {
            "DROP TRIGGER events_no_update ON events"
        } else {
            "DROP TRIGGER events_no_update"
        };
        store.execute_raw(drop).await.unwrap();
        store.execute_raw("UPDATE events SET payload = replace(payload, 'Street 7', 'Street 8') WHERE chain = 'i1' AND seq = 2").await.unwrap();
        let report = store.verify(None).await.unwrap();
        assert_eq!(report.broken.len(), 1, "{report:?}");
        assert_eq!(
            (report.broken[0].chain.as_str(), report.broken[0].seq),
            ("i1", 2)
        );
        let only_registry = store.verify(Some(REGISTRY_CHAIN)).await.unwrap();
        assert!(only_registry.broken.is_empty());
    }
}

#[tokio::test]
async fn rebuild_reproduces_the_live_projections_exactly() {
    for (store, _dir) in stores().await {
        store
            .append(REGISTRY_CHAIN, 0, "admin", AT, &registry_events())
            .await
            .unwrap();
        store
            .append("i1", 0, "p1", AT, &initiative_events())
            .await
            .unwrap();
        let live = store.projection_dump().await.unwrap();
        assert!(live.iter().any(|r| r.starts_with("schemes: s1")));
        assert_eq!(store.rebuild().await.unwrap(), 6);
        assert_eq!(store.projection_dump().await.unwrap(), live);
    }
}
