//! What pages show, computed from the store and the engine into plain
//! strings (amounts already in lakh grouping) so templates stay dumb.

use std::collections::BTreeMap;

use saanjh_core::arrangement::Arrangement;
use saanjh_core::arrangement::words::Name;
use saanjh_core::engine::{self, SchemeState};
use saanjh_core::ledger::Money;
use saanjh_core::ledger::statement::{self, Statement, Viewer};
use saanjh_store::{InitiativeRow, ObligationRow, SchemeRow};

use super::ctx::Visitor;
use crate::{ApiError, AppState};

/// "Rs 1,50,000" — the way amounts are written on pages.
pub fn rs(minor: i64) -> String {
    format!("Rs {}", Money(minor).to_lakh())
}

/// The date part of an RFC 3339 time.
pub fn day(t: &str) -> String {
    t.get(..10).unwrap_or(t).to_string()
}

/// Whose eyes: the public, or the positions the visitor holds here.
pub async fn viewer(state: &AppState, v: &Visitor, initiative: &str) -> Result<Viewer, ApiError> {
    match v.user.as_ref().and_then(|u| u.person_id.as_deref()) {
        Some(p) => {
            let held = state.store.positions_of(initiative, p).await?;
            Ok(if held.is_empty() {
                Viewer::Public
            } else {
                Viewer::Holding(held)
            })
        }
        None => Ok(Viewer::Public),
    }
}

pub struct PartnerView {
    pub role: String,
    pub role_name: String,
    pub org: String,
}

/// The initiative's partners with their organisations' names (one query).
pub async fn partners(
    state: &AppState,
    v: &Visitor,
    arr: &Arrangement,
    init: &str,
) -> Result<Vec<PartnerView>, ApiError> {
    let w = v.words(arr);
    Ok(state
        .store
        .partner_names(init)
        .await?
        .into_iter()
        .map(|(role, _, org)| PartnerView {
            role_name: w.say(Name::Partner(role.clone())),
            role,
            org,
        })
        .collect())
}

pub struct ObligationView {
    pub who: String,
    pub action: String,
    pub scheme: String,
    pub scheme_name: String,
    pub due: String,
    /// open, met, met_late, lapsed, breached — or `late` for open past due.
    pub status: String,
    pub consequence: String,
}

pub fn obligation_view(
    v: &Visitor,
    arr: &Arrangement,
    o: &ObligationRow,
    scheme_name: &str,
    now: &str,
) -> ObligationView {
    let status = if o.status == "open" && o.due_at.as_str() < now {
        "late".to_string()
    } else {
        o.status.clone()
    };
    let w = v.words(arr);
    ObligationView {
        who: w.say(Name::Position(o.position.clone())),
        action: v.act_name(arr, &o.action),
        scheme: o.scheme_id.clone(),
        scheme_name: scheme_name.to_string(),
        due: day(&o.due_at),
        status,
        consequence: o
            .consequence
            .as_deref()
            .map(|c| w.consequence(&o.rule_id, o.escalated_from.is_some(), c))
            .unwrap_or_default(),
    }
}

pub struct ComponentView {
    pub name: String,
    pub delivered_by: String,
    pub estimate: String,
}

pub fn components(
    v: &Visitor,
    arr: &Arrangement,
    s: &SchemeState,
    partners: &[PartnerView],
) -> Vec<ComponentView> {
    let w = v.words(arr);
    s.components
        .iter()
        .map(|c| {
            let role_name = partners
                .iter()
                .find(|p| p.role == c.delivered_by)
                .map(|p| format!("{} ({})", p.org, p.role_name))
                .unwrap_or_else(|| c.delivered_by.clone());
            ComponentView {
                name: w.say(Name::Component(c.kind.clone())),
                delivered_by: role_name,
                estimate: c.estimate.map(rs).unwrap_or_else(|| "—".into()),
            }
        })
        .collect()
}

pub struct EventLine {
    /// Its sequence number on the initiative's chain (the `#eN` anchor the
    /// diagnosis links evidence to).
    pub seq: i64,
    pub date: String,
    pub what: String,
    pub who: String,
    pub note: String,
}

/// A scheme's events in words, oldest first.
pub async fn timeline(
    state: &AppState,
    v: &Visitor,
    arr: &Arrangement,
    init: &str,
    scheme: &str,
) -> Result<Vec<EventLine>, ApiError> {
    let rows = state.store.events(init, Some(scheme), 500, 0).await?;
    // Every actor's name in one query, not one per event.
    let names: BTreeMap<String, String> = state.store.actor_names(init, scheme).await?;
    let mut out = vec![];
    for e in rows {
        let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
        let field = |k: &str| p.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let what = match e.kind.as_str() {
            "act_performed" | "signature_given" | "scheme_created" => {
                let a = field("action");
                let base = v.act_name(arr, &a);
                if e.kind == "signature_given" {
                    format!("{} ({})", base, v.t("ev-signature"))
                } else {
                    base
                }
            }
            "stage_changed" => v.t1("ev-stage", "stage", v.stage(&field("to"))),
            "ledger_entry_posted" => {
                let amount = p
                    .get("entry")
                    .and_then(|x| x.get("amount"))
                    .and_then(|x| x.as_i64())
                    .map(rs)
                    .unwrap_or_default();
                let kind = p
                    .get("entry")
                    .and_then(|x| x.get("kind"))
                    .and_then(|x| x.as_str())
                    .unwrap_or("");
                format!("{} {}", v.word(&format!("entry-{kind}")), amount)
            }
            k => v.word(&format!("ev-{k}")),
        };
        let who = if e.actor == "system" {
            v.t("who-system")
        } else {
            names
                .get(&e.actor)
                .cloned()
                .unwrap_or_else(|| e.actor.clone())
        };
        out.push(EventLine {
            seq: e.seq,
            date: day(&e.at),
            what,
            who,
            note: field("note"),
        });
    }
    Ok(out)
}

/// The statement of a scheme for this viewer, or why it is hidden.
pub async fn scheme_statement(
    state: &AppState,
    arr: &Arrangement,
    scheme: &str,
    viewer: &Viewer,
) -> Result<Result<Statement, String>, ApiError> {
    let Some((_, ledger, _)) = state
        .store
        .scheme_ledger(scheme, &saanjh_store::EntryPage::all())
        .await?
    else {
        return Err(ApiError::not_found(format!("no scheme `{scheme}`")));
    };
    Ok(statement::for_scheme(arr, &ledger, viewer))
}

/// The same for a scheme whose state the page has already read: the
/// households and entries are the only queries.
pub async fn statement_of(
    state: &AppState,
    arr: &Arrangement,
    s: &SchemeState,
    viewer: &Viewer,
) -> Result<Result<Statement, String>, ApiError> {
    let ledger = state
        .store
        .ledger_of(&s.id, &s.name, &s.stage, &s.components, &s.books)
        .await?;
    Ok(statement::for_scheme(arr, &ledger, viewer))
}

pub struct InitiativeCard {
    pub row: InitiativeRow,
    pub schemes: usize,
    pub distance_km: Option<String>,
}

pub struct SchemeCard {
    pub row: SchemeRow,
    pub stage: String,
    pub estimate: String,
}

pub fn scheme_card(v: &Visitor, row: SchemeRow) -> SchemeCard {
    SchemeCard {
        stage: v.stage(&row.stage),
        estimate: rs(row.estimate),
        row,
    }
}

/// Great-circle distance in kilometres.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// `(stage, date entered)` in the order of the lifecycle.
pub fn stages_entered(arr: &Arrangement, s: &SchemeState) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = s
        .entered
        .iter()
        .map(|(st, at)| (st.clone(), at.clone()))
        .collect();
    let order = |st: &str| {
        arr.file
            .lifecycle
            .stages
            .iter()
            .position(|x| x.as_ref() == st)
            .unwrap_or(usize::MAX)
    };
    v.sort_by(|a, b| a.1.cmp(&b.1).then(order(&a.0).cmp(&order(&b.0))));
    v
}

pub fn now_text(state: &AppState) -> String {
    engine::rfc3339(state.clock.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_lakh_grouping() {
        assert_eq!(rs(150_000 * 100), "Rs 1,50,000");
        // Lakh and crore: 12 crore 34 lakh 56 thousand 789.
        assert_eq!(rs(123_456_789 * 100), "Rs 12,34,56,789");
        assert_eq!(rs(999 * 100 + 50), "Rs 999.50");
    }

    #[test]
    fn distance_between_rawalpindi_and_faisalabad() {
        let d = haversine_km((33.6251, 73.0551), (31.4504, 73.1350));
        assert!((d - 242.0).abs() < 5.0, "{d}");
    }
}
