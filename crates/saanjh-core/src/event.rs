//! Events: every change to Saanjh is one, appended to a hash chain.
//!
//! There is one chain per initiative, so anyone can verify one initiative's
//! history on its own, and one `registry` chain for the platform-wide
//! registers (organisations, people, memberships, arrangement versions).
//! Each event carries the hash of the one before it; changing any stored
//! byte of an event breaks every later link.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Component, Household, Meeting, Membership, Organisation, Person};

/// The chain of platform-wide registers.
pub const REGISTRY_CHAIN: &str = "registry";

/// The hash the first event of a chain points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. The tag (`kind`) is stored beside the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    // ── registry chain ──
    OrganisationRegistered {
        organisation: Organisation,
    },
    PersonRegistered {
        person: Person,
    },
    MembershipGranted {
        membership: Membership,
    },
    MembershipEnded {
        membership: String,
    },
    ArrangementStored {
        id: String,
        version: u32,
        digest: String,
        source: String,
    },
    // ── initiative chains ──
    InitiativeStarted {
        initiative: InitiativeRecord,
    },
    SchemeCreated {
        scheme: String,
        name: String,
        action: String,
        stage: String,
        components: Vec<Component>,
        positions: Vec<String>,
        note: Option<String>,
    },
    ActPerformed {
        scheme: String,
        action: String,
        from: String,
        to: Option<String>,
        /// The positions the actor held that the allowing rule names.
        positions: Vec<String>,
        /// The rules that allowed the act.
        rules: Vec<String>,
        note: Option<String>,
    },
    SignatureGiven {
        scheme: String,
        action: String,
        position: String,
        person: String,
        given: u32,
        needed: u32,
    },
    MeetingRecorded {
        meeting: String,
        scheme: Option<String>,
        record: Meeting,
    },
    HouseholdRegistered {
        household: String,
        scheme: String,
        record: Household,
    },
    EstimateSet {
        scheme: String,
        estimates: BTreeMap<String, i64>,
    },
    /// Qualitative evidence (issue 8): an interview transcript or a
    /// document attached to an initiative, its text as UTF-8.
    EvidenceAttached {
        evidence: String,
        /// `interview` or `document`.
        evidence_kind: String,
        title: String,
        text: String,
    },
    /// One coder's code for a passage (a byte range of the evidence's text).
    PassageCoded {
        passage: String,
        evidence: String,
        start: u64,
        end: u64,
        /// The passage itself, so the event stands on its own.
        text: String,
        codebook: String,
        code: String,
        coder: String,
    },
    ObligationOpened {
        obligation: String,
        scheme: String,
        rule: String,
        position: String,
        action: String,
        /// The stage whose entry started the clock.
        stage: String,
        due: String,
        escalated_from: Option<String>,
    },
    ObligationMet {
        obligation: String,
        scheme: String,
        late: bool,
    },
    ObligationLapsed {
        obligation: String,
        scheme: String,
        reason: String,
    },
    ObligationBreached {
        obligation: String,
        scheme: String,
        rule: String,
        position: String,
        consequence: String,
    },
    StageChanged {
        scheme: String,
        from: String,
        to: String,
        cause: String,
    },
    LedgerEntryPosted {
        entry: String,
        scheme: String,
        line: crate::ledger::LedgerLine,
    },
    /// A public organisation's reserve for schemes under an arrangement for
    /// one financial year ("2025-26"), on the registry chain. A later one for
    /// the same year revises the figure; the log keeps both.
    AllocationSet {
        organisation: String,
        arrangement: String,
        year: String,
        amount: i64,
        development_budget: Option<i64>,
        note: Option<String>,
    },
    /// A citizen report (Open311 service request) about a scheme's
    /// component, routed by the scope rules. The reporter's contact details
    /// are never in the event: they are kept apart and never published.
    ReportFiled {
        report: String,
        scheme: String,
        record: crate::reports::ReportRecord,
    },
    /// A citizen report that could not be routed at once (it says no
    /// scheme, and the initiative has none or several with the service's
    /// component), held on the initiative's chain under its token until a
    /// partner routes it (`ReportRouted`). The role it will go to is already
    /// known from the scope rules; only the scheme is not.
    ReportHeld {
        initiative: String,
        token: String,
        record: crate::reports::ReportRecord,
    },
    /// A held report placed on its scheme: it now has its id (the
    /// `ReportFiled` beside it) and its token resolves to that id.
    ReportRouted {
        token: String,
        report: String,
        scheme: String,
    },
    /// A status change or note on a report by a partner's position.
    ReportUpdated {
        report: String,
        scheme: String,
        update: crate::reports::ReportUpdate,
    },
    /// A community scorecard round: the service and the criteria agreed at
    /// the meeting that opened it.
    ScorecardOpened {
        round: String,
        scheme: String,
        record: crate::scorecard::RoundRecord,
    },
    /// One group's scores (users by group, or the providers).
    ScorecardScored {
        round: String,
        scheme: String,
        scores: crate::scorecard::GroupScores,
    },
    /// The actions agreed at the interface meeting; each is also opened as
    /// an obligation of the position named. Closes the round to scoring.
    ScorecardActionsAgreed {
        round: String,
        scheme: String,
        actions: Vec<crate::scorecard::AgreedAction>,
    },
    // ── participatory budgeting rounds (issue 7): one chain per round ──
    /// A budgeting round opened for proposals.
    RoundOpened {
        round: crate::budgeting::RoundRecord,
    },
    /// The convenor moved the round to its next phase.
    RoundPhaseChanged {
        round: String,
        from: crate::budgeting::Phase,
        to: crate::budgeting::Phase,
        person: String,
        note: Option<String>,
    },
    ProposalSubmitted {
        round: String,
        proposal: crate::budgeting::ProposalRecord,
    },
    /// The works department's finding: feasible at a cost, or rejected.
    ProposalReviewed {
        round: String,
        proposal: u32,
        review: crate::budgeting::Review,
        person: String,
    },
    /// A ballot, online or entered from paper. Who cast an online ballot is
    /// never in the event (a salted hash of their CNIC is kept apart).
    BallotCast {
        round: String,
        ballot: crate::budgeting::BallotRecord,
    },
    /// The count, as published: winners, spend, every project's reason and
    /// the tie-break record.
    RoundCounted {
        round: String,
        result: crate::budgeting::CountRecord,
    },
    /// The convenor named who delivers a winner of an imported round.
    ProposalDelivererNamed {
        round: String,
        proposal: u32,
        deliverer: crate::budgeting::Deliverer,
    },
    /// A winner became a scheme (on its initiative's chain).
    RoundWinnerSchemed {
        round: String,
        proposal: u32,
        initiative: String,
        scheme: String,
    },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::OrganisationRegistered { .. } => "organisation_registered",
            EventBody::PersonRegistered { .. } => "person_registered",
            EventBody::MembershipGranted { .. } => "membership_granted",
            EventBody::MembershipEnded { .. } => "membership_ended",
            EventBody::ArrangementStored { .. } => "arrangement_stored",
            EventBody::InitiativeStarted { .. } => "initiative_started",
            EventBody::SchemeCreated { .. } => "scheme_created",
            EventBody::ActPerformed { .. } => "act_performed",
            EventBody::SignatureGiven { .. } => "signature_given",
            EventBody::MeetingRecorded { .. } => "meeting_recorded",
            EventBody::HouseholdRegistered { .. } => "household_registered",
            EventBody::EstimateSet { .. } => "estimate_set",
            EventBody::EvidenceAttached { .. } => "evidence_attached",
            EventBody::PassageCoded { .. } => "passage_coded",
            EventBody::ObligationOpened { .. } => "obligation_opened",
            EventBody::ObligationMet { .. } => "obligation_met",
            EventBody::ObligationLapsed { .. } => "obligation_lapsed",
            EventBody::ObligationBreached { .. } => "obligation_breached",
            EventBody::StageChanged { .. } => "stage_changed",
            EventBody::LedgerEntryPosted { .. } => "ledger_entry_posted",
            EventBody::AllocationSet { .. } => "allocation_set",
            EventBody::ReportFiled { .. } => "report_filed",
            EventBody::ReportHeld { .. } => "report_held",
            EventBody::ReportRouted { .. } => "report_routed",
            EventBody::ReportUpdated { .. } => "report_updated",
            EventBody::ScorecardOpened { .. } => "scorecard_opened",
            EventBody::ScorecardScored { .. } => "scorecard_scored",
            EventBody::ScorecardActionsAgreed { .. } => "scorecard_actions_agreed",
            EventBody::RoundOpened { .. } => "round_opened",
            EventBody::RoundPhaseChanged { .. } => "round_phase_changed",
            EventBody::ProposalSubmitted { .. } => "proposal_submitted",
            EventBody::ProposalReviewed { .. } => "proposal_reviewed",
            EventBody::BallotCast { .. } => "ballot_cast",
            EventBody::RoundCounted { .. } => "round_counted",
            EventBody::ProposalDelivererNamed { .. } => "proposal_deliverer_named",
            EventBody::RoundWinnerSchemed { .. } => "round_winner_schemed",
        }
    }

    /// The budgeting round an event is about, if any.
    pub fn round(&self) -> Option<&str> {
        match self {
            EventBody::RoundOpened { round } => Some(&round.id),
            EventBody::RoundPhaseChanged { round, .. }
            | EventBody::ProposalSubmitted { round, .. }
            | EventBody::ProposalReviewed { round, .. }
            | EventBody::BallotCast { round, .. }
            | EventBody::RoundCounted { round, .. }
            | EventBody::ProposalDelivererNamed { round, .. }
            | EventBody::RoundWinnerSchemed { round, .. } => Some(round),
            _ => None,
        }
    }

    /// The scheme an event is about, if any.
    pub fn scheme(&self) -> Option<&str> {
        match self {
            EventBody::SchemeCreated { scheme, .. }
            | EventBody::ActPerformed { scheme, .. }
            | EventBody::SignatureGiven { scheme, .. }
            | EventBody::HouseholdRegistered { scheme, .. }
            | EventBody::EstimateSet { scheme, .. }
            | EventBody::ObligationOpened { scheme, .. }
            | EventBody::ObligationMet { scheme, .. }
            | EventBody::ObligationLapsed { scheme, .. }
            | EventBody::ObligationBreached { scheme, .. }
            | EventBody::StageChanged { scheme, .. }
            | EventBody::LedgerEntryPosted { scheme, .. }
            | EventBody::ReportFiled { scheme, .. }
            | EventBody::ReportUpdated { scheme, .. }
            | EventBody::ReportRouted { scheme, .. }
            | EventBody::ScorecardOpened { scheme, .. }
            | EventBody::ScorecardScored { scheme, .. }
            | EventBody::ScorecardActionsAgreed { scheme, .. } => Some(scheme),
            EventBody::MeetingRecorded { scheme, .. } => scheme.as_deref(),
            _ => None,
        }
    }
}

/// An initiative: a co-production programme in a locality, running under
/// one version of an arrangement, with organisations bound to its roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitiativeRecord {
    pub id: String,
    pub name: String,
    pub locality: String,
    pub district: String,
    pub arrangement: String,
    pub version: u32,
    /// Partner role → organisation id.
    pub partners: BTreeMap<String, String>,
    /// Demonstration data is labelled as such wherever it is shown.
    #[serde(default)]
    pub demo: bool,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
}

/// An event as stored: the body plus its place in a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    pub chain: String,
    pub seq: i64,
    /// RFC 3339, UTC, whole seconds.
    pub at: String,
    pub actor: String,
    pub kind: String,
    /// The body as canonical JSON, exactly as hashed.
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an event: SHA-256 over its fields and the previous hash,
/// separated so that no field can bleed into the next.
pub fn event_hash(
    chain: &str,
    seq: i64,
    at: &str,
    actor: &str,
    kind: &str,
    payload: &str,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [chain, &seq.to_string(), at, actor, kind, payload, prev_hash] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl StoredEvent {
    /// Seal a body as the next event after `prev_hash`.
    pub fn seal(
        chain: &str,
        seq: i64,
        at: &str,
        actor: &str,
        body: &EventBody,
        prev_hash: &str,
    ) -> StoredEvent {
        // serde_json's maps are ordered, so this is canonical for our types.
        let payload = serde_json::to_string(body)
            .unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"));
        let kind = body.kind();
        let hash = event_hash(chain, seq, at, actor, kind, &payload, prev_hash);
        StoredEvent {
            chain: chain.into(),
            seq,
            at: at.into(),
            actor: actor.into(),
            kind: kind.into(),
            payload,
            prev_hash: prev_hash.into(),
            hash,
        }
    }

    pub fn body(&self) -> Result<EventBody, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

/// A break found while verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub chain: String,
    pub seq: i64,
    pub reason: String,
}

/// Verifies one chain, given its events in `seq` order. Returns the first
/// broken link, if any.
pub fn verify_chain<'a>(
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> Result<u64, BrokenLink> {
    let mut prev = GENESIS.to_string();
    let mut n = 0;
    for (expected_seq, e) in (1i64..).zip(events) {
        let broken = |reason: String| BrokenLink {
            chain: e.chain.clone(),
            seq: e.seq,
            reason,
        };
        if e.seq != expected_seq {
            return Err(broken(format!(
                "expected event number {expected_seq}, found {}: an event is missing or was inserted",
                e.seq
            )));
        }
        if e.prev_hash != prev {
            return Err(broken(
                "its link to the previous event does not match that event's hash".into(),
            ));
        }
        let recomputed = event_hash(
            &e.chain,
            e.seq,
            &e.at,
            &e.actor,
            &e.kind,
            &e.payload,
            &e.prev_hash,
        );
        if recomputed != e.hash {
            return Err(broken(
                "its contents do not match its hash: the event was changed after it was written"
                    .into(),
            ));
        }
        prev = e.hash.clone();
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<StoredEvent> {
        let mut prev = GENESIS.to_string();
        (0..n)
            .map(|i| {
                let body = EventBody::MembershipEnded {
                    membership: format!("m{i}"),
                };
                let e = StoredEvent::seal(
                    "c",
                    i as i64 + 1,
                    "2026-01-01T00:00:00Z",
                    "tester",
                    &body,
                    &prev,
                );
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify_chain(&chain(5)), Ok(5));
    }

    #[test]
    fn a_changed_payload_is_found_at_its_event() {
        let mut c = chain(5);
        c[2].payload = c[2].payload.replace("m2", "m9");
        let err = verify_chain(&c).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("changed"));
    }

    #[test]
    fn a_deleted_event_is_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify_chain(&c).unwrap_err().seq, 3);
    }

    #[test]
    fn a_rehashed_forgery_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].payload = c[2].payload.replace("m2", "m9");
        c[2].hash = event_hash(
            &c[2].chain,
            c[2].seq,
            &c[2].at,
            &c[2].actor,
            &c[2].kind,
            &c[2].payload,
            &c[2].prev_hash,
        );
        let err = verify_chain(&c).unwrap_err();
        assert_eq!(err.seq, 4);
    }

    #[test]
    fn bodies_round_trip_through_the_payload() {
        let body = EventBody::ObligationMet {
            obligation: "o".into(),
            scheme: "s".into(),
            late: true,
        };
        let e = StoredEvent::seal("c", 1, "t", "a", &body, GENESIS);
        assert_eq!(e.body().unwrap(), body);
        assert_eq!(e.kind, "obligation_met");
    }
}
