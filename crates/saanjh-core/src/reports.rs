//! Citizen reports: problems residents report about a scheme's components
//! (a blocked lane sewer, a dry tap), as Open311 service requests.
//!
//! The services are the arrangement's: each component kind lists the
//! problems that can be reported about it (`[[components.X.services]]`).
//! A report is routed by the arrangement's scope rules — the component's
//! `delivered_by` partner role gets it (internal works → the community
//! organisation, external works → the government agency); there is no
//! routing table of our own. The response duties come from the choice
//! rules: every `must … within` rule whose aim is the action that records a
//! response (`records = "response"`) and whose position belongs to that
//! role opens an obligation with its deadline when the report is filed.
//!
//! Report obligations belong to their report, not to a stage: their
//! `stage` is `report:<id>`, so a scheme moving on does not lapse them, and
//! they are met only by a response to that report. The sweep breaches them
//! like any other obligation, with the rule's or-else (escalation).
//!
//! The reporter's contact details never enter this module: events are a
//! public, permanent record, and contact details are neither.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::arrangement::{
    ActionDef, Arrangement, AttributeType, Deontic, Domain, RecordKind, ServiceAttribute,
};
use crate::engine::{Actor, Refusal, SchemeState, rfc3339};
use crate::event::EventBody;
use crate::facts::{Fact, FactDecl, FactType, Facts, KeyDomain, Scope, Shape};

/// The longest description Open311 allows.
pub const MAX_DESCRIPTION: usize = 4000;

/// Facts citizen reports provide to rule conditions.
pub const REPORT_FACTS: &[FactDecl] = &[
    FactDecl {
        shape: Shape::Keyed {
            name: "reports_open",
            domain: KeyDomain::Role,
        },
        ty: FactType::Int,
        scope: Scope::Scheme,
        meaning: "citizen reports about the scheme routed to this partner role and not yet closed",
        provided_by: "reports",
    },
    FactDecl {
        shape: Shape::Keyed {
            name: "reports_closed",
            domain: KeyDomain::Role,
        },
        ty: FactType::Int,
        scope: Scope::Scheme,
        meaning: "citizen reports about the scheme routed to this partner role and closed",
        provided_by: "reports",
    },
];

/// Where a report stands. Open311 shows `open` for all but `closed`; the
/// finer status is given in `status_notes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    Acknowledged,
    InProgress,
    Closed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Acknowledged => "acknowledged",
            ReportStatus::InProgress => "in_progress",
            ReportStatus::Closed => "closed",
        }
    }
    /// The status as Open311 knows it.
    pub fn open311(self) -> &'static str {
        if self == ReportStatus::Closed {
            "closed"
        } else {
            "open"
        }
    }
    pub fn parse(s: &str) -> Option<ReportStatus> {
        match s {
            "open" => Some(ReportStatus::Open),
            "acknowledged" => Some(ReportStatus::Acknowledged),
            "in_progress" => Some(ReportStatus::InProgress),
            "closed" => Some(ReportStatus::Closed),
            _ => None,
        }
    }
}

/// A service: one kind of problem about one component kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub keywords: Vec<String>,
    /// The component kind and its name (Open311's `group`).
    pub component: String,
    pub group: String,
    pub domain: Domain,
    /// The partner role the scope rule says delivers the component.
    pub routed_to: String,
    pub attributes: Vec<ServiceAttribute>,
}

/// Every service an arrangement declares, by component kind then file order.
pub fn services(arr: &Arrangement) -> Vec<Service> {
    arr.components()
        .iter()
        .flat_map(|(kind, scope)| {
            scope.services.iter().map(move |s| Service {
                code: s.code.as_ref().clone(),
                name: s.name.clone(),
                description: s.description.clone(),
                keywords: s.keywords.clone(),
                component: kind.clone(),
                group: scope.name.clone(),
                domain: scope.domain,
                routed_to: scope.delivered_by.as_ref().clone(),
                attributes: s.attributes.clone(),
            })
        })
        .collect()
}

pub fn service(arr: &Arrangement, code: &str) -> Option<Service> {
    services(arr).into_iter().find(|s| s.code == code)
}

/// The action that records a response to a report, if the arrangement has one.
pub fn response_action(arr: &Arrangement) -> Option<(&str, &ActionDef)> {
    arr.file
        .actions
        .iter()
        .find(|(_, a)| a.records == Some(RecordKind::Response))
        .map(|(id, a)| (id.as_str(), a))
}

/// A report as submitted, before routing. Contact details are not here.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    pub service_code: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    /// Attribute code → answers (one for most types, several for a
    /// multivaluelist).
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// What is wrong with a report, in Open311's terms: a bad or missing field
/// (400) or something named that does not exist (404).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    Invalid(String),
    NotFound(String),
}

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportError::Invalid(m) | ReportError::NotFound(m) => f.write_str(m),
        }
    }
}

/// A report as recorded in its `report_filed` event: public fields only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub service_code: String,
    pub service_name: String,
    pub component: String,
    pub domain: Domain,
    /// The partner role the report is routed to…
    pub routed_to: String,
    /// …and the scope rule that says so (`components.<kind>`).
    pub routed_by: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Resolves to the report's id at `tokens/{token}`.
    pub token: String,
    /// When the citizen filed it, for a report that was held for triage
    /// and routed later (its `report_filed` is written at routing time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
}

/// A status change or note on a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportUpdate {
    /// `<report>-u<n>`, numbered per report.
    pub update: String,
    pub status: ReportStatus,
    pub note: Option<String>,
    /// The responder's positions that the allowing rules name.
    pub positions: Vec<String>,
    pub rules: Vec<String>,
}

/// A report as a response is decided against (read from its projection).
#[derive(Debug, Clone)]
pub struct ReportState {
    pub id: String,
    pub scheme: String,
    pub routed_to: String,
    pub status: ReportStatus,
    pub updates: i64,
}

/// The `stage` a report's obligations carry: they belong to the report.
pub fn obligation_stage(report: &str) -> String {
    format!("report:{report}")
}

fn valid_number(v: &str) -> bool {
    v.trim().parse::<f64>().is_ok_and(f64::is_finite)
}

/// Check a report against its service's definition. Nothing is routed or
/// recorded here; the caller stops at the first error.
pub fn check_input(service: &Service, input: &ReportInput) -> Result<(), ReportError> {
    match (input.lat, input.long) {
        (Some(lat), Some(long)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                return Err(ReportError::Invalid(format!(
                    "lat {lat} is not a latitude: it must be between -90 and 90"
                )));
            }
            if !(-180.0..=180.0).contains(&long) || !long.is_finite() {
                return Err(ReportError::Invalid(format!(
                    "long {long} is not a longitude: it must be between -180 and 180"
                )));
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(ReportError::Invalid(
                "lat and long must be given together".into(),
            ));
        }
        (None, None) => {
            let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
            if blank(&input.address) && blank(&input.address_id) {
                return Err(ReportError::Invalid(
                    "a location is required: lat and long, address_string or address_id".into(),
                ));
            }
        }
    }
    if let Some(d) = &input.description
        && d.chars().count() > MAX_DESCRIPTION
    {
        return Err(ReportError::Invalid(format!(
            "description is {} characters long; at most {MAX_DESCRIPTION} are allowed",
            d.chars().count()
        )));
    }
    if let Some(u) = &input.media_url
        && !u.is_empty()
        && !(u.starts_with("http://") || u.starts_with("https://"))
    {
        return Err(ReportError::Invalid(
            "media_url must be an http or https URL".into(),
        ));
    }
    let known: BTreeSet<&str> = service.attributes.iter().map(|a| a.code.as_str()).collect();
    for code in input.attributes.keys() {
        if !known.contains(code.as_str()) {
            return Err(ReportError::Invalid(format!(
                "attribute[{code}] is not an attribute of service {}",
                service.code
            )));
        }
    }
    for a in &service.attributes {
        let answers: Vec<&str> = input
            .attributes
            .get(&a.code)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if answers.is_empty() {
            if a.required {
                return Err(ReportError::Invalid(format!(
                    "attribute[{}] is required: {}",
                    a.code, a.description
                )));
            }
            continue;
        }
        let bad = |why: &str| Err(ReportError::Invalid(format!("attribute[{}] {why}", a.code)));
        if a.datatype != AttributeType::Multivaluelist && answers.len() > 1 {
            return bad("takes one answer");
        }
        match a.datatype {
            AttributeType::Number if !answers.iter().all(|v| valid_number(v)) => {
                return bad("must be a number");
            }
            AttributeType::Datetime
                if !answers
                    .iter()
                    .all(|v| crate::engine::parse_time(v).is_some()) =>
            {
                return bad("must be a date and time like 2026-01-05T09:00:00Z");
            }
            AttributeType::Singlevaluelist | AttributeType::Multivaluelist
                if !answers.iter().all(|v| a.values.iter().any(|k| k == v)) =>
            {
                return bad(&format!("must be one of: {}", a.values.join(", ")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The public record of a report, before it has a scheme: the service's
/// component and the role the scope rule routes it to, and the cleaned
/// fields. Contact details are not part of it.
fn record_of(service: &Service, input: &ReportInput, token: &str) -> ReportRecord {
    let clean = |s: &Option<String>| {
        s.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let attributes = input
        .attributes
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    ReportRecord {
        service_code: service.code.clone(),
        service_name: service.name.clone(),
        component: service.component.clone(),
        domain: service.domain,
        routed_to: service.routed_to.clone(),
        routed_by: format!("components.{}", service.component),
        lat: input.lat,
        long: input.long,
        address: clean(&input.address),
        address_id: clean(&input.address_id),
        description: clean(&input.description),
        media_url: clean(&input.media_url),
        attributes,
        token: token.to_string(),
        requested_at: None,
    }
}

fn checked_service(arr: &Arrangement, input: &ReportInput) -> Result<Service, ReportError> {
    let service = service(arr, &input.service_code).ok_or_else(|| {
        ReportError::NotFound(format!("service_code {} was not found", input.service_code))
    })?;
    check_input(&service, input)?;
    Ok(service)
}

/// File a report about `scheme`: check it, route it by the scope rule of
/// the service's component, and open the response obligations the choice
/// rules set for the role it is routed to.
pub fn file(
    arr: &Arrangement,
    scheme: &SchemeState,
    input: &ReportInput,
    token: &str,
    now: OffsetDateTime,
) -> Result<(String, Vec<EventBody>), ReportError> {
    let service = checked_service(arr, input)?;
    file_record(arr, scheme, record_of(&service, input, token), now)
}

/// Hold a report that names no scheme its initiative can be sure of, for a
/// partner to route (`route_held`). It is checked exactly as a filed one.
pub fn hold(
    arr: &Arrangement,
    initiative: &str,
    input: &ReportInput,
    token: &str,
) -> Result<EventBody, ReportError> {
    let service = checked_service(arr, input)?;
    Ok(EventBody::ReportHeld {
        initiative: initiative.to_string(),
        token: token.to_string(),
        record: record_of(&service, input, token),
    })
}

/// Whether `actor` may route held reports of an initiative under `arr`:
/// whoever the rules let answer reports may also say which scheme one is
/// about (routing decides no duty: the scope rule already named the role).
pub fn may_route(arr: &Arrangement, actor: &Actor) -> Result<(), Refusal> {
    let Some((action, _)) = response_action(arr) else {
        return Err(Refusal {
            rule: "input".into(),
            message: format!(
                "arrangement `{}` has no action that responds to reports",
                arr.id()
            ),
            allowed_if: "add an action with records = \"response\" to the arrangement".into(),
            words: None,
        });
    };
    let allowed = arr
        .rules_for(action)
        .filter(|r| r.deontic != Deontic::MustNot)
        .any(|r| Arrangement::attribute_matches(r.attribute.as_ref(), &actor.positions));
    if allowed {
        return Ok(());
    }
    let who: Vec<String> = arr
        .rules_for(action)
        .filter(|r| r.deontic != Deontic::MustNot)
        .map(|r| r.attribute.as_ref().clone())
        .collect();
    Err(Refusal {
        rule: arr
            .rules_for(action)
            .next()
            .map(|r| r.id.clone())
            .unwrap_or_else(|| format!("lifecycle.{action}")),
        message: format!(
            "your positions ({}) do not allow you to route citizens' reports",
            held(actor)
        ),
        allowed_if: format!(
            "only those who may respond to reports ({}) or the platform administrator may route them",
            who.join(" or ")
        ),
        words: None,
    })
}

/// Route a held report to `scheme`: it gets its id and its response
/// obligations now (the routed role's clock starts when the report reaches
/// it), and its `requested_at` stays the time the citizen filed it.
pub fn route_held(
    arr: &Arrangement,
    scheme: &SchemeState,
    record: &ReportRecord,
    held_at: &str,
    now: OffsetDateTime,
) -> Result<(String, Vec<EventBody>), ReportError> {
    if service(arr, &record.service_code).is_none() {
        return Err(ReportError::NotFound(format!(
            "service_code {} is no longer offered by this initiative's arrangement",
            record.service_code
        )));
    }
    let mut record = record.clone();
    record.requested_at = Some(held_at.to_string());
    let token = record.token.clone();
    let (report, mut events) = file_record(arr, scheme, record, now)?;
    events.insert(
        1,
        EventBody::ReportRouted {
            token,
            report: report.clone(),
            scheme: scheme.id.clone(),
        },
    );
    Ok((report, events))
}

fn file_record(
    arr: &Arrangement,
    scheme: &SchemeState,
    record: ReportRecord,
    now: OffsetDateTime,
) -> Result<(String, Vec<EventBody>), ReportError> {
    if !scheme.components.iter().any(|c| c.kind == record.component) {
        return Err(ReportError::NotFound(format!(
            "scheme {} has no {} to report about",
            scheme.id,
            record.component.replace('_', " ")
        )));
    }
    let mut counter = scheme.counter;
    let mut next_id = |prefix: &str| {
        counter += 1;
        format!("{}-{prefix}{counter}", scheme.id)
    };
    let report = next_id("r");
    let routed_to = record.routed_to.clone();
    let mut events = vec![EventBody::ReportFiled {
        report: report.clone(),
        scheme: scheme.id.clone(),
        record,
    }];
    if let Some((action, _)) = response_action(arr) {
        for r in arr
            .rules_for(action)
            .filter(|r| r.deontic == Deontic::Must && role_of(r.attribute.as_ref()) == routed_to)
        {
            let Some(within) = r.within else { continue };
            events.push(EventBody::ObligationOpened {
                obligation: next_id("o"),
                scheme: scheme.id.clone(),
                rule: r.id.clone(),
                position: r.attribute.as_ref().clone(),
                action: action.to_string(),
                stage: obligation_stage(&report),
                due: rfc3339(now + within.as_duration()),
                escalated_from: None,
            });
        }
    }
    Ok((report, events))
}

fn role_of(position: &str) -> &str {
    position.split_once('.').map(|(r, _)| r).unwrap_or(position)
}

/// Respond to a report: change its status (or add a note at the same
/// status). Allowed to a position that a `may` or `must` rule for the
/// response action names; a response from the role the report was routed
/// to (or from the position an obligation was escalated to) meets the
/// report's open obligations.
pub fn respond(
    arr: &Arrangement,
    scheme: &SchemeState,
    report: &ReportState,
    actor: &Actor,
    status: ReportStatus,
    note: Option<String>,
    now: OffsetDateTime,
) -> Result<Vec<EventBody>, Refusal> {
    let refuse = |rule: &str, message: String, allowed_if: &str| Refusal {
        rule: rule.into(),
        message,
        allowed_if: allowed_if.into(),
        words: None,
    };
    let Some((action, def)) = response_action(arr) else {
        return Err(refuse(
            "input",
            format!(
                "arrangement `{}` has no action that responds to reports",
                arr.id()
            ),
            "add an action with records = \"response\" to the arrangement",
        ));
    };
    let allowing: Vec<_> = arr
        .rules_for(action)
        .filter(|r| r.deontic != Deontic::MustNot)
        .filter(|r| Arrangement::attribute_matches(r.attribute.as_ref(), &actor.positions))
        .collect();
    if allowing.is_empty() {
        let first = arr
            .rules_for(action)
            .next()
            .map(|r| r.id.clone())
            .unwrap_or_else(|| format!("lifecycle.{action}"));
        let who: Vec<String> = arr
            .rules_for(action)
            .filter(|r| r.deontic != Deontic::MustNot)
            .map(|r| r.attribute.as_ref().clone())
            .collect();
        return Err(refuse(
            &first,
            format!(
                "your positions ({}) do not allow you to {}",
                held(actor),
                def.name
            ),
            &format!("only {} may do this", who.join(" or ")),
        ));
    }
    if report.status == ReportStatus::Closed {
        return Err(refuse(
            &format!("lifecycle.{action}"),
            format!("report {} is closed", report.id),
            "file a new report if the problem is back",
        ));
    }
    if status < report.status || status == ReportStatus::Open {
        return Err(refuse(
            "input",
            format!(
                "report {} is {}; it cannot go back to {}",
                report.id,
                report.status.as_str().replace('_', " "),
                status.as_str().replace('_', " ")
            ),
            "give acknowledged, in_progress or closed, no earlier than the report's status",
        ));
    }
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if status == report.status && note.is_none() {
        return Err(refuse(
            "input",
            "a response that does not change the status needs a note".into(),
            "give a note or a new status",
        ));
    }
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_DESCRIPTION)
    {
        return Err(refuse(
            "input",
            format!("a note may be at most {MAX_DESCRIPTION} characters"),
            "shorten the note",
        ));
    }
    let positions: Vec<String> = actor
        .positions
        .iter()
        .filter(|p| {
            allowing.iter().any(|r| {
                Arrangement::attribute_matches(
                    r.attribute.as_ref(),
                    &BTreeSet::from([(*p).clone()]),
                )
            })
        })
        .cloned()
        .collect();
    let mut events = vec![EventBody::ReportUpdated {
        report: report.id.clone(),
        scheme: scheme.id.clone(),
        update: ReportUpdate {
            update: format!("{}-u{}", report.id, report.updates + 1),
            status,
            note,
            positions: positions.clone(),
            rules: allowing.iter().map(|r| r.id.clone()).collect(),
        },
    }];
    let answers_for_role = actor
        .positions
        .iter()
        .any(|p| role_of(p) == report.routed_to);
    let stage = obligation_stage(&report.id);
    for o in scheme.open_obligations.iter().filter(|o| o.stage == stage) {
        let escalated_to_me = Arrangement::attribute_matches(&o.position, &actor.positions);
        if answers_for_role || escalated_to_me {
            events.push(EventBody::ObligationMet {
                obligation: o.id.clone(),
                scheme: scheme.id.clone(),
                late: now > o.due,
            });
        }
    }
    Ok(events)
}

/// Add the report facts of a scheme's conditions to `facts`, from the
/// (routed-to role, status) pairs of its reports.
pub fn add_facts<'a>(
    arr: &Arrangement,
    reports: impl IntoIterator<Item = (&'a str, ReportStatus)>,
    facts: &mut Facts,
) {
    let mut open: BTreeMap<&str, i64> = BTreeMap::new();
    let mut closed: BTreeMap<&str, i64> = BTreeMap::new();
    for (role, status) in reports {
        let m = if status == ReportStatus::Closed {
            &mut closed
        } else {
            &mut open
        };
        *m.entry(role).or_default() += 1;
    }
    for role in arr.file.partners.keys() {
        let n = |m: &BTreeMap<&str, i64>| Fact::Int(m.get(role.as_str()).copied().unwrap_or(0));
        facts.set_keyed("reports_open", role, n(&open));
        facts.set_keyed("reports_closed", role, n(&closed));
    }
}

/// The actor's positions in words, as the engine's refusals give them (the
/// web layer maps "your positions (…)" to 403).
fn held(actor: &Actor) -> String {
    if actor.positions.is_empty() {
        "no position in this initiative".to_string()
    } else {
        actor
            .positions
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests;
