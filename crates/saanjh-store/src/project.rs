//! Projections: how each event changes the tables that are read.
//!
//! `apply!` is the one place that turns events into rows. Live appends and
//! `rebuild` both go through it, so the two cannot disagree. It is a macro
//! only so that the same statements compile against both backends'
//! transaction types without a thicket of generic bounds.

/// Tables rebuilt from events, in the order they are cleared.
pub(crate) const PROJECTIONS: &[&str] = &[
    "arrangements",
    "organisations",
    "people",
    "memberships",
    "initiatives",
    "initiative_partners",
    "schemes",
    "obligations",
    "meetings",
    "households",
    "ledger_entries",
    "allocations",
    "evidence",
    "coded_passages",
    "reports",
    "report_updates",
    "scorecard_rounds",
    "held_reports",
    "pb_rounds",
    "pb_ballots",
];

/// Each projection with its columns and a total order, for comparing a
/// rebuild with the live state.
pub(crate) const PROJECTION_COLUMNS: &[(&str, &[&str], &str)] = &[
    (
        "arrangements",
        &["id", "version", "digest", "stored_at"],
        "id, version",
    ),
    (
        "organisations",
        &["id", "name", "kind", "district", "registered_at"],
        "id",
    ),
    (
        "people",
        &["id", "name", "gender", "elected", "registered_at"],
        "id",
    ),
    (
        "memberships",
        &[
            "id",
            "person_id",
            "organisation_id",
            "position",
            "active",
            "since",
        ],
        "id",
    ),
    (
        "initiatives",
        &[
            "id",
            "name",
            "locality",
            "district",
            "arrangement_id",
            "arrangement_version",
            "demo",
            "latitude",
            "longitude",
            "started_at",
        ],
        "id",
    ),
    (
        "initiative_partners",
        &["initiative_id", "role", "organisation_id"],
        "initiative_id, role",
    ),
    (
        "schemes",
        &[
            "id",
            "initiative_id",
            "name",
            "stage",
            "estimate",
            "created_at",
            "updated_at",
            "state",
        ],
        "id",
    ),
    (
        "obligations",
        &[
            "id",
            "initiative_id",
            "scheme_id",
            "rule_id",
            "position",
            "action",
            "stage",
            "opened_at",
            "due_at",
            "status",
            "closed_at",
            "escalated_from",
            "consequence",
        ],
        "id",
    ),
    (
        "meetings",
        &[
            "id",
            "initiative_id",
            "scheme_id",
            "body",
            "held_on",
            "women",
            "men",
            "other",
            "record",
            "recorded_at",
        ],
        "id",
    ),
    (
        "households",
        &[
            "id",
            "scheme_id",
            "house",
            "head",
            "members",
            "registered_at",
        ],
        "id",
    ),
    (
        "ledger_entries",
        &[
            "id",
            "n",
            "initiative_id",
            "scheme_id",
            "organisation_id",
            "posted_at",
            "on_date",
            "fy",
            "kind",
            "effect_kind",
            "role",
            "amount",
            "signed_amount",
            "means",
            "quantity",
            "rate",
            "household",
            "receipt",
            "component",
            "payee",
            "purpose",
            "reverses",
        ],
        "id",
    ),
    (
        "allocations",
        &[
            "organisation_id",
            "arrangement_id",
            "year",
            "amount",
            "development_budget",
            "note",
            "set_at",
        ],
        "organisation_id, arrangement_id, year",
    ),
    (
        "evidence",
        &[
            "id",
            "initiative_id",
            "kind",
            "title",
            "body",
            "attached_at",
        ],
        "id",
    ),
    (
        "coded_passages",
        &[
            "id",
            "evidence_id",
            "initiative_id",
            "start_byte",
            "end_byte",
            "passage",
            "codebook",
            "code",
            "coder",
            "coded_at",
        ],
        "id",
    ),
    (
        "reports",
        &[
            "id",
            "initiative_id",
            "scheme_id",
            "service_code",
            "service_name",
            "component",
            "routed_to",
            "agency_id",
            "status",
            "status_notes",
            "description",
            "address",
            "address_id",
            "latitude",
            "longitude",
            "media_url",
            "token",
            "requested_at",
            "updated_at",
            "updates",
        ],
        "id",
    ),
    (
        "report_updates",
        &[
            "id",
            "report_id",
            "initiative_id",
            "status",
            "description",
            "positions",
            "at",
        ],
        "id",
    ),
    (
        "scorecard_rounds",
        &[
            "id",
            "initiative_id",
            "scheme_id",
            "held_on",
            "closed",
            "state",
            "opened_at",
            "updated_at",
        ],
        "id",
    ),
    (
        "held_reports",
        &[
            "token",
            "initiative_id",
            "service_code",
            "service_name",
            "component",
            "routed_to",
            "record",
            "held_at",
            "report_id",
            "scheme_id",
            "routed_at",
        ],
        "token",
    ),
    (
        "pb_rounds",
        &[
            "id",
            "name",
            "council_id",
            "district",
            "phase",
            "budget",
            "demo",
            "state",
            "opened_at",
            "updated_at",
        ],
        "id",
    ),
    (
        "pb_ballots",
        &[
            "round_id",
            "number",
            "method",
            "serial",
            "entered_by",
            "voter_id",
            "union_council",
            "approvals",
            "cast_at",
        ],
        "round_id, number",
    ),
];

/// A scheme's state while an append (or a page of a rebuild) is projected.
pub(crate) struct CachedScheme {
    pub state: saanjh_core::engine::SchemeState,
    /// Whether its row exists (UPDATE) or is new (INSERT).
    pub existed: bool,
    pub chain: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A budgeting round's folded state while an append is projected: a
/// round's `.pb` import is tens of thousands of ballots in one append, and
/// reading, folding and writing the round's JSON once per ballot made it
/// quadratic.
pub(crate) struct CachedRound {
    pub state: saanjh_core::budgeting::RoundState,
    pub existed: bool,
    pub at: String,
}

/// What an append (or a page of a rebuild) keeps in memory and writes once
/// at its end (`flush!`): folded schemes and rounds.
#[derive(Default)]
pub(crate) struct SchemeCache {
    pub schemes: std::collections::HashMap<String, CachedScheme>,
    pub rounds: std::collections::HashMap<String, CachedRound>,
}

impl SchemeCache {
    pub fn new() -> SchemeCache {
        SchemeCache::default()
    }
}

/// Write the cached scheme and round states, each once, and empty the cache.
macro_rules! flush {
    ($tx:expr, $cache:expr) => {{
        let tx = $tx;
        let cache: &mut $crate::project::SchemeCache = $cache;
        $crate::budgeting::flush_rounds!(&mut *tx, &mut cache.rounds);
        for (id, c) in cache.schemes.drain() {
            let next = &c.state;
            let json = serde_json::to_string(next).map_err(|e| $crate::StoreError::Invalid(e.to_string()))?;
            if c.existed {
                sqlx::query("UPDATE schemes SET name = $1, stage = $2, estimate = $3, updated_at = $4, state = $5 WHERE id = $6")
                    .bind(&next.name).bind(&next.stage).bind(next.estimate()).bind(&c.updated_at).bind(&json).bind(&id)
                    .execute(&mut **tx).await?;
            } else {
                sqlx::query("INSERT INTO schemes (id, initiative_id, name, stage, estimate, created_at, updated_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(&id).bind(&c.chain).bind(&next.name).bind(&next.stage).bind(next.estimate()).bind(&c.created_at).bind(&c.updated_at).bind(&json)
                    .execute(&mut **tx).await?;
            }
        }
    }};
}
pub(crate) use flush;

macro_rules! apply {
    ($tx:expr, $chain:expr, $at:expr, $body:expr, $cache:expr) => {{
        use saanjh_core::event::EventBody as E;
        let tx = $tx;
        let chain: &str = $chain;
        let at: &str = $at;
        let body: &E = $body;
        match body {
            E::OrganisationRegistered { organisation: o } => {
                sqlx::query("INSERT INTO organisations (id, name, kind, district, registered_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&o.id).bind(&o.name).bind(o.kind.as_str()).bind(&o.district).bind(at)
                    .execute(&mut **tx).await?;
            }
            E::PersonRegistered { person: p } => {
                let gender = p.gender.map(|g| serde_json::to_value(g).ok().and_then(|v| v.as_str().map(str::to_string))).flatten();
                sqlx::query("INSERT INTO people (id, name, gender, elected, registered_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&p.id).bind(&p.name).bind(gender).bind(p.elected as i64).bind(at)
                    .execute(&mut **tx).await?;
            }
            E::MembershipGranted { membership: m } => {
                sqlx::query("INSERT INTO memberships (id, person_id, organisation_id, position, active, since) VALUES ($1, $2, $3, $4, 1, $5)")
                    .bind(&m.id).bind(&m.person).bind(&m.organisation).bind(&m.position).bind(at)
                    .execute(&mut **tx).await?;
            }
            E::MembershipEnded { membership } => {
                sqlx::query("UPDATE memberships SET active = 0 WHERE id = $1").bind(membership).execute(&mut **tx).await?;
            }
            E::ArrangementStored { id, version, digest, source } => {
                sqlx::query("INSERT INTO arrangements (id, version, digest, source, stored_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(*version as i64).bind(digest).bind(source).bind(at)
                    .execute(&mut **tx).await?;
            }
            E::InitiativeStarted { initiative: i } => {
                sqlx::query("INSERT INTO initiatives (id, name, locality, district, arrangement_id, arrangement_version, demo, latitude, longitude, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&i.id).bind(&i.name).bind(&i.locality).bind(&i.district).bind(&i.arrangement).bind(i.version as i64)
                    .bind(i.demo as i64).bind(i.latitude).bind(i.longitude).bind(at)
                    .execute(&mut **tx).await?;
                for (role, org) in &i.partners {
                    sqlx::query("INSERT INTO initiative_partners (initiative_id, role, organisation_id) VALUES ($1, $2, $3)")
                        .bind(&i.id).bind(role).bind(org)
                        .execute(&mut **tx).await?;
                }
            }
            other => {
                // A reversal recorded before reversals carried what they
                // cancel: fill that in from its target's row, so the running
                // figures (and the row below) undo exactly what it did.
                let enriched: Option<E> = match other {
                    E::LedgerEntryPosted { entry, scheme, line } if line.kind == "reversal" && line.reversed_kind.is_none() => {
                        let target: Option<(String, String, Option<i64>, Option<i64>, Option<String>, Option<String>)> = match &line.reverses {
                            Some(t) => sqlx::query_as("SELECT kind, means, quantity, rate, household, component FROM ledger_entries WHERE id = $1")
                                .bind(t).fetch_optional(&mut **tx).await?,
                            None => None,
                        };
                        target.map(|(kind, means, quantity, rate, household, component)| {
                            let mut l = line.clone();
                            l.reversed_kind = Some(kind);
                            l.means = $crate::ledger::means_of(&means);
                            l.quantity = quantity;
                            l.rate = rate;
                            l.household = household;
                            l.component = component;
                            E::LedgerEntryPosted { entry: entry.clone(), scheme: scheme.clone(), line: l }
                        })
                    }
                    _ => None,
                };
                let other: &E = enriched.as_ref().unwrap_or(other);
                if let Some(scheme_id) = other.scheme() {
                    // Scheme state is a fold of the scheme's events (core's
                    // `apply`), kept in memory for the whole append (or page
                    // of a rebuild) and written once at its end (`flush!`).
                    let cache = &mut ($cache).schemes;
                    if !cache.contains_key(scheme_id) {
                        let current: Option<(String,)> = sqlx::query_as("SELECT state FROM schemes WHERE id = $1")
                            .bind(scheme_id).fetch_optional(&mut **tx).await?;
                        if let Some((json,)) = current {
                            let st = serde_json::from_str::<saanjh_core::engine::SchemeState>(&json)
                                .map_err(|e| $crate::StoreError::Invalid(format!("scheme {scheme_id}: stored state unreadable: {e}")))?;
                            cache.insert(scheme_id.to_string(), $crate::project::CachedScheme { state: st, existed: true, chain: chain.to_string(), created_at: String::new(), updated_at: at.to_string() });
                        }
                    }
                    let (state, existed, created_at) = match cache.remove(scheme_id) {
                        Some(c) => (Some(c.state), c.existed, c.created_at),
                        None => (None, false, at.to_string()),
                    };
                    let Some(next) = saanjh_core::engine::apply(state, other, at) else {
                        return Err($crate::StoreError::Invalid(format!("event `{}` names scheme {scheme_id}, which does not exist", other.kind())));
                    };
                    cache.insert(scheme_id.to_string(), $crate::project::CachedScheme { state: next, existed, chain: chain.to_string(), created_at, updated_at: at.to_string() });
                }
                match other {
                    // Qualitative evidence (issue 8).
                    E::EvidenceAttached { evidence, evidence_kind, title, text } => {
                        sqlx::query("INSERT INTO evidence (id, initiative_id, kind, title, body, attached_at) VALUES ($1, $2, $3, $4, $5, $6)")
                            .bind(evidence).bind(chain).bind(evidence_kind).bind(title).bind(text).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    E::PassageCoded { passage, evidence, start, end, text, codebook, code, coder } => {
                        sqlx::query("INSERT INTO coded_passages (id, evidence_id, initiative_id, start_byte, end_byte, passage, codebook, code, coder, coded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                            .bind(passage).bind(evidence).bind(chain).bind(*start as i64).bind(*end as i64).bind(text).bind(codebook).bind(code).bind(coder).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    E::ObligationOpened { obligation, scheme, rule, position, action, stage, due, escalated_from } => {
                        sqlx::query("INSERT INTO obligations (id, initiative_id, scheme_id, rule_id, position, action, stage, opened_at, due_at, status, escalated_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10)")
                            .bind(obligation).bind(chain).bind(scheme).bind(rule).bind(position).bind(action).bind(stage).bind(at).bind(due).bind(escalated_from)
                            .execute(&mut **tx).await?;
                    }
                    E::ObligationMet { obligation, late, .. } => {
                        sqlx::query("UPDATE obligations SET status = $1, closed_at = $2 WHERE id = $3")
                            .bind(if *late { "met_late" } else { "met" }).bind(at).bind(obligation)
                            .execute(&mut **tx).await?;
                    }
                    E::ObligationLapsed { obligation, reason, .. } => {
                        sqlx::query("UPDATE obligations SET status = 'lapsed', closed_at = $1, consequence = $2 WHERE id = $3")
                            .bind(at).bind(reason).bind(obligation)
                            .execute(&mut **tx).await?;
                    }
                    E::ObligationBreached { obligation, consequence, .. } => {
                        sqlx::query("UPDATE obligations SET status = 'breached', closed_at = $1, consequence = $2 WHERE id = $3")
                            .bind(at).bind(consequence).bind(obligation)
                            .execute(&mut **tx).await?;
                    }
                    E::MeetingRecorded { meeting, scheme, record } => {
                        let json = serde_json::to_string(record).map_err(|e| $crate::StoreError::Invalid(e.to_string()))?;
                        sqlx::query("INSERT INTO meetings (id, initiative_id, scheme_id, body, held_on, women, men, other, record, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                            .bind(meeting).bind(chain).bind(scheme).bind(&record.body).bind(&record.held_on)
                            .bind(record.attendance.women as i64).bind(record.attendance.men as i64).bind(record.attendance.other as i64)
                            .bind(json).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    E::HouseholdRegistered { household, scheme, record } => {
                        sqlx::query("INSERT INTO households (id, scheme_id, house, head, members, registered_at) VALUES ($1, $2, $3, $4, $5, $6)")
                            .bind(household).bind(scheme).bind(&record.house).bind(&record.head).bind(record.members.map(|m| m as i64)).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    E::LedgerEntryPosted { entry, scheme, line } => {
                        // A reversal books against the kind and financial
                        // year of the entry it cancels, with a negative
                        // amount, so that every balance is a plain SUM.
                        let on = saanjh_core::ledger::entry_date(line, at);
                        let own_fy = $crate::ledger::fy_of(&on);
                        let (effect_kind, fy, signed) = match (line.kind.as_str(), &line.reverses) {
                            ("reversal", Some(target)) => {
                                let t: Option<(String, String)> = sqlx::query_as("SELECT kind, fy FROM ledger_entries WHERE id = $1")
                                    .bind(target).fetch_optional(&mut **tx).await?;
                                let (k, f) = t.unwrap_or_else(|| ("reversal".to_string(), own_fy.clone()));
                                (k, f, -line.amount)
                            }
                            (k, _) => (k.to_string(), own_fy, line.amount),
                        };
                        sqlx::query("INSERT INTO ledger_entries (id, n, initiative_id, scheme_id, organisation_id, posted_at, on_date, fy, kind, effect_kind, role, amount, signed_amount, means, quantity, rate, household, receipt, component, payee, purpose, reverses) \
                                     VALUES ($1, $2, $3, $4, (SELECT organisation_id FROM initiative_partners WHERE initiative_id = $3 AND role = $10), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)")
                            .bind(entry).bind($crate::ledger::entry_number(entry)).bind(chain).bind(scheme).bind(at).bind(&on).bind(&fy)
                            .bind(&line.kind).bind(&effect_kind).bind(&line.role).bind(line.amount).bind(signed)
                            .bind($crate::ledger::means_text(line.means)).bind(line.quantity).bind(line.rate).bind(&line.household).bind(&line.receipt)
                            .bind(&line.component).bind(&line.payee).bind(&line.purpose).bind(&line.reverses)
                            .execute(&mut **tx).await?;
                    }
                    E::AllocationSet { organisation, arrangement, year, amount, development_budget, note } => {
                        sqlx::query("INSERT INTO allocations (organisation_id, arrangement_id, year, amount, development_budget, note, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                                     ON CONFLICT (organisation_id, arrangement_id, year) DO UPDATE SET amount = excluded.amount, development_budget = excluded.development_budget, note = excluded.note, set_at = excluded.set_at")
                            .bind(organisation).bind(arrangement).bind(year).bind(amount).bind(development_budget).bind(note).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    // Citizen reports (issue 5): the report's row carries its
                    // latest status; each update is kept for the updates feed.
                    E::ReportFiled { report, scheme, record: r } => {
                        sqlx::query("INSERT INTO reports (id, initiative_id, scheme_id, service_code, service_name, component, routed_to, agency_id, status, status_notes, description, address, address_id, latitude, longitude, media_url, token, requested_at, updated_at, updates) \
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT organisation_id FROM initiative_partners WHERE initiative_id = $2 AND role = $7), 'open', NULL, $8, $9, $10, $11, $12, $13, $14, $15, $15, 0)")
                            .bind(report).bind(chain).bind(scheme).bind(&r.service_code).bind(&r.service_name).bind(&r.component).bind(&r.routed_to)
                            .bind(&r.description).bind(&r.address).bind(&r.address_id).bind(r.lat).bind(r.long).bind(&r.media_url).bind(&r.token)
                            // A report routed after triage was requested when it was held.
                            .bind(r.requested_at.as_deref().unwrap_or(at))
                            .execute(&mut **tx).await?;
                        if r.requested_at.is_some() {
                            sqlx::query("UPDATE reports SET updated_at = $1 WHERE id = $2").bind(at).bind(report).execute(&mut **tx).await?;
                        }
                    }
                    E::ReportHeld { initiative, token, record: r } => {
                        let json = serde_json::to_string(r).map_err(|e| $crate::StoreError::Invalid(e.to_string()))?;
                        sqlx::query("INSERT INTO held_reports (token, initiative_id, service_code, service_name, component, routed_to, record, held_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                            .bind(token).bind(initiative).bind(&r.service_code).bind(&r.service_name).bind(&r.component).bind(&r.routed_to).bind(json).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    E::ReportRouted { token, report, scheme } => {
                        let done = sqlx::query("UPDATE held_reports SET report_id = $1, scheme_id = $2, routed_at = $3 WHERE token = $4 AND report_id IS NULL")
                            .bind(report).bind(scheme).bind(at).bind(token)
                            .execute(&mut **tx).await?;
                        if done.rows_affected() != 1 {
                            return Err($crate::StoreError::Invalid(format!("event `report_routed` names token {token}, which is not a held report")));
                        }
                    }
                    E::ReportUpdated { report, update: u, .. } => {
                        sqlx::query("UPDATE reports SET status = $1, status_notes = COALESCE($2, status_notes), updated_at = $3, updates = updates + 1 WHERE id = $4")
                            .bind(u.status.as_str()).bind(&u.note).bind(at).bind(report)
                            .execute(&mut **tx).await?;
                        sqlx::query("INSERT INTO report_updates (id, report_id, initiative_id, status, description, positions, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                            .bind(&u.update).bind(report).bind(chain).bind(u.status.as_str()).bind(&u.note).bind(u.positions.join(" ")).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    E::ScorecardOpened { round, scheme, record } => {
                        let state = saanjh_core::scorecard::apply(None, other, at)
                            .ok_or_else(|| $crate::StoreError::Invalid(format!("scorecard round {round} could not be opened")))?;
                        let json = serde_json::to_string(&state).map_err(|e| $crate::StoreError::Invalid(e.to_string()))?;
                        sqlx::query("INSERT INTO scorecard_rounds (id, initiative_id, scheme_id, held_on, closed, state, opened_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $6)")
                            .bind(round).bind(chain).bind(scheme).bind(&record.held_on).bind(json).bind(at)
                            .execute(&mut **tx).await?;
                    }
                    E::ScorecardScored { round, .. } | E::ScorecardActionsAgreed { round, .. } => {
                        let current: Option<(String,)> = sqlx::query_as("SELECT state FROM scorecard_rounds WHERE id = $1")
                            .bind(round).fetch_optional(&mut **tx).await?;
                        let Some((json,)) = current else {
                            return Err($crate::StoreError::Invalid(format!("event `{}` names scorecard round {round}, which does not exist", other.kind())));
                        };
                        let state: saanjh_core::scorecard::RoundState = serde_json::from_str(&json)
                            .map_err(|e| $crate::StoreError::Invalid(format!("scorecard round {round}: stored state unreadable: {e}")))?;
                        let next = saanjh_core::scorecard::apply(Some(state), other, at)
                            .ok_or_else(|| $crate::StoreError::Invalid(format!("scorecard round {round} vanished")))?;
                        let json = serde_json::to_string(&next).map_err(|e| $crate::StoreError::Invalid(e.to_string()))?;
                        sqlx::query("UPDATE scorecard_rounds SET closed = $1, state = $2, updated_at = $3 WHERE id = $4")
                            .bind(next.closed as i64).bind(json).bind(at).bind(round)
                            .execute(&mut **tx).await?;
                    }
                    // Budgeting rounds (issue 7): `budgeting.rs`.
                    E::RoundOpened { .. }
                    | E::RoundPhaseChanged { .. }
                    | E::ProposalSubmitted { .. }
                    | E::ProposalReviewed { .. }
                    | E::BallotCast { .. }
                    | E::RoundCounted { .. }
                    | E::ProposalDelivererNamed { .. }
                    | E::RoundWinnerSchemed { .. } => {
                        $crate::budgeting::apply_round!(tx, at, other, &mut ($cache).rounds);
                    }
                    _ => {}
                }
            }
        }
    }};
}
pub(crate) use apply;
