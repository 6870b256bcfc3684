//! Conditions: indicators calibrated into set memberships.
//!
//! Each calibrated indicator has three anchors for the direct method — full
//! exclusion, crossover, full inclusion — with defaults from the field's
//! benchmarks (domain.md §7) that an analysis may override. A condition's
//! membership is the minimum of the memberships of its measured
//! indicators (fuzzy AND): each indicator is a facet the condition needs —
//! a council that keeps its deadlines but leaves its reserve unspent does
//! not have political commitment — and an average would let a strong facet
//! hide the failure the diagnosis exists to show. Indicators not measured
//! (no reserve on record, no obligations due) are left out, not counted as
//! zero. The calibration function comes from the caller (`saanjh-qca`'s
//! direct method), since core depends on no other project crate.

use std::collections::BTreeMap;

use serde::Serialize;

use super::indicators::Indicator;

/// The causal conditions, in the order they are reported.
pub const CONDITIONS: [&str; 6] = [
    "formal_structures",
    "political_commitment",
    "bureaucratic_commitment",
    "community_willingness",
    "trust",
    "resources",
];

/// The outcome.
pub const OUTCOME: &str = "service_delivered_and_sustained";

/// Anchors of the direct method. `inclusion < exclusion` makes a
/// decreasing set (fewer days late is more commitment).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Anchors {
    pub exclusion: f64,
    pub crossover: f64,
    pub inclusion: f64,
}

impl Anchors {
    /// Checked anchors: the crossover must lie strictly between the other
    /// two, in either direction.
    pub fn new(exclusion: f64, crossover: f64, inclusion: f64) -> Result<Anchors, String> {
        let all_finite = [exclusion, crossover, inclusion]
            .iter()
            .all(|v| v.is_finite());
        let up = exclusion < crossover && crossover < inclusion;
        let down = inclusion < crossover && crossover < exclusion;
        if !all_finite || !(up || down) {
            return Err(format!(
                "thresholds out of order: exclusion {exclusion}, crossover {crossover}, inclusion {inclusion} — the crossover must lie strictly between full exclusion and full inclusion"
            ));
        }
        Ok(Anchors {
            exclusion,
            crossover,
            inclusion,
        })
    }
}

/// Default anchors per indicator id; indicators not listed are
/// informational (shown, not calibrated).
pub fn default_anchors() -> BTreeMap<&'static str, Anchors> {
    let a = |e, c, i| Anchors {
        exclusion: e,
        crossover: c,
        inclusion: i,
    };
    BTreeMap::from([
        // Half the deadlines missed is the crossover; 95% kept is full.
        (
            "bureaucratic_commitment.obligations_on_time",
            a(0.2, 0.5, 0.95),
        ),
        // LPP's estimate benchmark is 7–10 days; a week late is the
        // crossover, a month late is out.
        // One breach in ten obligations is the crossover; half breached is out.
        (
            "bureaucratic_commitment.obligations_breached",
            a(0.5, 0.1, 0.0),
        ),
        (
            "bureaucratic_commitment.median_delay_days",
            a(30.0, 7.0, 0.0),
        ),
        (
            "bureaucratic_commitment.worst_delay_days",
            a(90.0, 30.0, 0.0),
        ),
        (
            "bureaucratic_commitment.supervision_visits",
            a(0.0, 0.5, 2.0),
        ),
        (
            "political_commitment.elected_obligations_on_time",
            a(0.2, 0.5, 0.95),
        ),
        // Layyah: utilisation under a third is the classic failure.
        ("political_commitment.reserve_utilisation", a(0.2, 0.5, 0.9)),
        (
            "political_commitment.external_works_delivered",
            a(0.1, 0.5, 0.9),
        ),
        // AHKMT: 27 of 30 houses paying is a healthy lane.
        ("community_willingness.households_paying", a(0.4, 0.7, 0.95)),
        ("community_willingness.share_paid", a(0.3, 0.7, 1.0)),
        (
            "community_willingness.meetings_per_scheme",
            a(0.0, 0.5, 1.5),
        ),
        // The LPP women's gap: under a tenth of attendees is exclusion.
        ("community_willingness.women_share", a(0.05, 0.2, 0.4)),
        (
            "community_willingness.obligations_on_time",
            a(0.2, 0.5, 0.95),
        ),
        // Bills paid over bills issued: Punjab's rural metered schemes see
        // about 90% paying regularly (domain.md §7); under 40% is failure.
        ("community_willingness.tariff_collection", a(0.4, 0.7, 0.9)),
        ("trust.collector_not_spender", a(0.1, 0.5, 0.9)),
        ("trust.reports_resolved", a(0.2, 0.5, 0.9)),
        ("formal_structures.positions_filled", a(0.3, 0.7, 1.0)),
        ("formal_structures.agreements_signed", a(0.2, 0.5, 0.95)),
        ("resources.estimate_funded", a(0.3, 0.6, 0.95)),
        (
            "service_delivered_and_sustained.schemes_delivered",
            a(0.1, 0.4, 0.9),
        ),
        (
            "service_delivered_and_sustained.schemes_sustained",
            a(0.2, 0.5, 0.95),
        ),
    ])
}

/// Parses overrides `indicator:e,c,i;indicator:e,c,i` (the query form),
/// checking each against the known indicators and the order of its anchors.
pub fn parse_overrides(spec: &str) -> Result<BTreeMap<String, Anchors>, String> {
    parse_overrides_with(spec, &std::collections::BTreeSet::new())
}

/// [`parse_overrides`] where `defined` are further indicator ids the
/// arrangements in use define (`condition.name`), which may be calibrated
/// too.
pub fn parse_overrides_with(
    spec: &str,
    defined: &std::collections::BTreeSet<String>,
) -> Result<BTreeMap<String, Anchors>, String> {
    let mut known: BTreeMap<&str, Anchors> = default_anchors();
    let placeholder = Anchors {
        exclusion: 0.0,
        crossover: 0.5,
        inclusion: 1.0,
    };
    for d in defined {
        known.entry(d.as_str()).or_insert(placeholder);
    }
    let mut out = BTreeMap::new();
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, nums) = part
            .split_once(':')
            .ok_or_else(|| format!("`{part}`: expected indicator:exclusion,crossover,inclusion"))?;
        let id = id.trim();
        if !known.contains_key(id) {
            return Err(format!(
                "`{id}` is not a calibrated indicator (known: {})",
                known.keys().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        let v: Vec<f64> = nums
            .split(',')
            .map(|n| {
                n.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("`{id}`: `{}` is not a number", n.trim()))
            })
            .collect::<Result<_, _>>()?;
        let [e, c, i] = v[..] else {
            return Err(format!(
                "`{id}`: give three anchors, exclusion,crossover,inclusion"
            ));
        };
        out.insert(
            id.to_string(),
            Anchors::new(e, c, i).map_err(|m| format!("`{id}`: {m}"))?,
        );
    }
    Ok(out)
}

/// One indicator's membership.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibrated {
    pub indicator: String,
    pub value: f64,
    pub anchors: Anchors,
    pub membership: f64,
}

/// A condition's membership and what it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionScore {
    pub condition: String,
    /// `None` when none of its indicators could be measured.
    pub membership: Option<f64>,
    pub calibrated: Vec<Calibrated>,
}

impl ConditionScore {
    /// Weak: more out of the set than in it.
    pub fn is_weak(&self) -> bool {
        self.membership.is_some_and(|m| m < 0.5)
    }
}

/// A condition by name, for lookups.
pub type Condition = &'static str;

/// Calibrates every measured indicator that has anchors and takes the
/// minimum per condition (the six conditions, then the outcome). `calibrate` maps a raw
/// value through the anchors to a membership.
pub fn calibrate(
    indicators: &[Indicator],
    overrides: &BTreeMap<String, Anchors>,
    calibrate: &dyn Fn(f64, &Anchors) -> Result<f64, String>,
) -> Result<Vec<ConditionScore>, String> {
    let defaults = default_anchors();
    let mut out = vec![];
    for cond in CONDITIONS.iter().chain(std::iter::once(&OUTCOME)) {
        let mut cal = vec![];
        for ind in indicators.iter().filter(|i| i.condition == *cond) {
            let anchors = overrides
                .get(&ind.id)
                .or_else(|| defaults.get(ind.id.as_str()))
                .or(ind.anchors.as_ref());
            let (Some(value), Some(anchors)) = (ind.value, anchors) else {
                continue;
            };
            let membership = calibrate(value, anchors).map_err(|e| format!("{}: {e}", ind.id))?;
            cal.push(Calibrated {
                indicator: ind.id.clone(),
                value,
                anchors: *anchors,
                membership,
            });
        }
        let membership = cal.iter().map(|c| c.membership).reduce(f64::min);
        out.push(ConditionScore {
            condition: cond.to_string(),
            membership,
            calibrated: cal,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_out_of_order_are_refused() {
        assert!(Anchors::new(0.2, 0.5, 0.9).is_ok());
        assert!(Anchors::new(30.0, 7.0, 0.0).is_ok());
        let e = Anchors::new(0.5, 0.2, 0.9).unwrap_err();
        assert!(e.contains("out of order"), "{e}");
        assert!(Anchors::new(0.2, 0.2, 0.9).is_err());
    }

    #[test]
    fn overrides_are_checked() {
        let o = parse_overrides("trust.collector_not_spender:0,0.4,1").unwrap();
        assert_eq!(o["trust.collector_not_spender"].crossover, 0.4);
        assert!(
            parse_overrides("trust.nope:0,0.4,1")
                .unwrap_err()
                .contains("not a calibrated")
        );
        assert!(
            parse_overrides("trust.collector_not_spender:0.9,0.4,0.5")
                .unwrap_err()
                .contains("out of order")
        );
        assert!(
            parse_overrides("trust.collector_not_spender:0,x,1")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            parse_overrides("trust.collector_not_spender:0,1")
                .unwrap_err()
                .contains("three anchors")
        );
    }
}
