//! The government side of the ledger: what a public organisation has set
//! aside for schemes under an arrangement, year by year, and what became of
//! it.
//!
//! Pakistan's financial year runs from 1 July to 30 June ("2025-26"). Each
//! year an organisation may allocate an amount (e.g. the 25% of a council's
//! development budget that the CCB rules reserve for community schemes).
//! Releases to schemes are spent from it; pledges by the government role are
//! commitments. What is unspent at the end of a year either lapses or — where
//! the arrangement's `[reserve]` says `lapses = false`, as the CCB rules do —
//! is carried into the next year. Releases never exceed what is available:
//! the engine refuses a release beyond the room this module computes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Money, share_of};

/// A financial year, July to June, named by its first calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinancialYear {
    /// 2025 for the year 1 July 2025 – 30 June 2026.
    pub starts: i32,
}

impl FinancialYear {
    /// The financial year a date falls in.
    pub fn of(date: time::Date) -> FinancialYear {
        let y = date.year();
        FinancialYear {
            starts: if u8::from(date.month()) >= 7 {
                y
            } else {
                y - 1
            },
        }
    }

    /// Parse "2025-26" (the usual form) or "2025-2026".
    pub fn parse(s: &str) -> Result<FinancialYear, String> {
        let bad = || {
            format!("`{s}` is not a financial year: write it like 2025-26 (July 2025 to June 2026)")
        };
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let starts: i32 = a.parse().map_err(|_| bad())?;
        if a.len() != 4 || !(1900..=9998).contains(&starts) {
            return Err(bad());
        }
        let end: i32 = b.parse().map_err(|_| bad())?;
        let ok = match b.len() {
            2 => end == (starts + 1) % 100,
            4 => end == starts + 1,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "`{s}`: a financial year runs from July of one year to June of the next, e.g. {starts}-{:02}",
                (starts + 1) % 100
            ));
        }
        Ok(FinancialYear { starts })
    }

    pub fn next(self) -> FinancialYear {
        FinancialYear {
            starts: self.starts + 1,
        }
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:02}",
            self.starts,
            (self.starts + 1).rem_euclid(100)
        )
    }
}

impl Serialize for FinancialYear {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FinancialYear {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FinancialYear::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One year's money movements against a reserve, in minor units, net of
/// reversals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearMovements {
    /// What the organisation allocated for the year (0 if nothing).
    pub allocated: i64,
    /// The development budget the allocation was taken from, if known.
    pub development_budget: Option<i64>,
    /// Pledged to schemes by the government role during the year.
    pub committed: i64,
    /// Released to schemes during the year.
    pub released: i64,
}

/// One financial year of a reserve, as a statement shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearFigures {
    pub year: FinancialYear,
    pub allocated: Money,
    /// Unspent balance brought forward from the year before (0 where the
    /// reserve lapses).
    pub carried_in: Money,
    /// allocated + carried in.
    pub available: Money,
    pub committed: Money,
    /// Released to schemes: the reserve's expenditure.
    pub spent: Money,
    /// available − spent.
    pub unspent: Money,
    /// What was lost at the year's end because the reserve lapses (only for
    /// years that have ended).
    pub lapsed: Money,
    /// spent ÷ available in basis points (the utilisation rate), when
    /// anything was available.
    pub utilisation_bp: Option<u32>,
    /// The earmark the arrangement asks for (e.g. 25% of the development
    /// budget), when both the share and the budget are known.
    pub earmark_required: Option<Money>,
}

/// The years of a reserve from its first allocation or movement to
/// `current` (inclusive), carrying unspent money forward when the reserve
/// does not lapse. Years before `current` are closed: where the reserve
/// lapses, their unspent money is lost; the current year's is still there.
pub fn years(
    movements: &BTreeMap<FinancialYear, YearMovements>,
    lapses: bool,
    earmark_bp: Option<u32>,
    current: FinancialYear,
) -> Vec<YearFigures> {
    let Some(first) = movements.keys().next().copied() else {
        return vec![];
    };
    let last = movements
        .keys()
        .next_back()
        .copied()
        .unwrap_or(first)
        .max(current);
    let mut out = vec![];
    let mut carried = 0i64;
    let mut y = first;
    while y <= last {
        let m = movements.get(&y).copied().unwrap_or_default();
        let available = m.allocated + carried;
        let unspent = available - m.released;
        let closed = y < current;
        let lapsed = if lapses && closed { unspent.max(0) } else { 0 };
        carried = if lapses { 0 } else { unspent };
        out.push(YearFigures {
            year: y,
            allocated: Money(m.allocated),
            carried_in: Money(available - m.allocated),
            available: Money(available),
            committed: Money(m.committed),
            spent: Money(m.released),
            unspent: Money(unspent),
            lapsed: Money(lapsed),
            utilisation_bp: (available > 0).then(|| {
                ((m.released as i128 * 10_000) / available as i128).clamp(0, u32::MAX as i128)
                    as u32
            }),
            earmark_required: match (earmark_bp, m.development_budget) {
                (Some(bp), Some(budget)) => Some(share_of(Money(budget), bp)),
                _ => None,
            },
        });
        y = y.next();
    }
    out
}

/// Room left to release in each year: what the engine checks a release
/// against. A year with no allocation and nothing carried in has no room.
pub fn release_room(figures: &[YearFigures]) -> BTreeMap<String, i64> {
    figures
        .iter()
        .map(|f| (f.year.to_string(), f.unspent.0.max(0)))
        .collect()
}

/// Whether a (re)allocation for `year` may be recorded: a revised allocation
/// may not fall below what has already been released against that year.
pub fn check_allocation(
    figures: &[YearFigures],
    year: FinancialYear,
    amount: i64,
) -> Result<(), String> {
    if amount < 0 {
        return Err("an allocation cannot be negative".into());
    }
    if let Some(f) = figures.iter().find(|f| f.year == year) {
        let needed = f.spent.0 - f.carried_in.0;
        if amount < needed {
            return Err(format!(
                "Rs {} has already been released in {year}; the allocation cannot be cut below Rs {}",
                f.spent.to_lakh(),
                Money(needed.max(0)).to_lakh()
            ));
        }
    }
    Ok(())
}

// Amounts in tests are written rupees_paisa: 1_500_00 is Rs 1,500.00.
#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn fy(s: &str) -> FinancialYear {
        FinancialYear::parse(s).unwrap()
    }

    #[test]
    fn the_financial_year_turns_on_the_first_of_july() {
        assert_eq!(
            FinancialYear::of(date!(2025 - 06 - 30)).to_string(),
            "2024-25"
        );
        assert_eq!(
            FinancialYear::of(date!(2025 - 07 - 01)).to_string(),
            "2025-26"
        );
        assert_eq!(
            FinancialYear::of(date!(1999 - 12 - 31)).to_string(),
            "1999-00"
        );
        assert_eq!(fy("2025-2026"), fy("2025-26"));
        assert!(FinancialYear::parse("2025-27").is_err());
        assert!(FinancialYear::parse("2025").is_err());
        assert!(FinancialYear::parse("25-26").is_err());
    }

    /// The Layyah table: Allocation, Total Available, Expenditure, Un-spent
    /// Balance — a CCB reserve that does not lapse keeps growing when it is
    /// not used (the failure domain.md §3.5 describes).
    #[test]
    fn a_reserve_that_does_not_lapse_accumulates_unspent_money() {
        let m = BTreeMap::from([
            (
                fy("2023-24"),
                YearMovements {
                    allocated: 10_000_000_00,
                    development_budget: Some(40_000_000_00),
                    committed: 0,
                    released: 2_000_000_00,
                },
            ),
            (
                fy("2024-25"),
                YearMovements {
                    allocated: 10_000_000_00,
                    development_budget: Some(40_000_000_00),
                    committed: 0,
                    released: 1_000_000_00,
                },
            ),
        ]);
        let y = years(&m, false, Some(2500), fy("2025-26"));
        assert_eq!(y.len(), 3);
        assert_eq!(y[0].unspent, Money(8_000_000_00));
        assert_eq!(y[1].carried_in, Money(8_000_000_00));
        assert_eq!(y[1].available, Money(18_000_000_00));
        assert_eq!(y[1].unspent, Money(17_000_000_00));
        // No allocation yet in the current year: the carried balance is all there is.
        assert_eq!(y[2].available, Money(17_000_000_00));
        assert_eq!(y[0].earmark_required, Some(Money(10_000_000_00)));
        assert_eq!(y[0].utilisation_bp, Some(2000));
        assert!(y.iter().all(|f| f.lapsed == Money::ZERO));
        assert_eq!(release_room(&y)["2025-26"], 17_000_000_00);
    }

    #[test]
    fn a_lapsing_budget_loses_what_a_closed_year_did_not_spend() {
        let m = BTreeMap::from([(
            fy("2024-25"),
            YearMovements {
                allocated: 500_00,
                development_budget: None,
                committed: 0,
                released: 200_00,
            },
        )]);
        let y = years(&m, true, None, fy("2025-26"));
        assert_eq!(y[0].lapsed, Money(300_00));
        assert_eq!(y[1].carried_in, Money::ZERO);
        assert_eq!(release_room(&y)["2025-26"], 0);
        // The current year's unspent money has not lapsed yet.
        let open = years(&m, true, None, fy("2024-25"));
        assert_eq!(open[0].lapsed, Money::ZERO);
        assert_eq!(release_room(&open)["2024-25"], 300_00);
    }

    #[test]
    fn an_allocation_cannot_be_cut_below_what_was_released() {
        let m = BTreeMap::from([(
            fy("2024-25"),
            YearMovements {
                allocated: 500_00,
                development_budget: None,
                committed: 0,
                released: 400_00,
            },
        )]);
        let y = years(&m, false, None, fy("2024-25"));
        assert!(check_allocation(&y, fy("2024-25"), 399_99).is_err());
        assert!(check_allocation(&y, fy("2024-25"), 400_00).is_ok());
        assert!(check_allocation(&y, fy("2025-26"), 0).is_ok());
        assert!(check_allocation(&y, fy("2025-26"), -1).is_err());
    }

    proptest! {
        /// Whatever the allocations and releases, when each release was
        /// within the room the year had, no year's spending exceeds what
        /// was available, and money is conserved: everything allocated is
        /// spent, lapsed or still unspent at the end.
        #[test]
        fn releases_within_room_never_exceed_the_allocation(
            plan in proptest::collection::vec((0i64..1_000_000, proptest::collection::vec(1i64..400_000, 0..6)), 1..8),
            lapses in any::<bool>(),
        ) {
            let first = fy("2020-21");
            let mut m: BTreeMap<FinancialYear, YearMovements> = BTreeMap::new();
            let mut y = first;
            for (allocated, releases) in &plan {
                m.insert(y, YearMovements { allocated: *allocated, ..Default::default() });
                for r in releases {
                    // What the engine does: look up the room, refuse beyond it.
                    let room = release_room(&years(&m, lapses, None, y)).get(&y.to_string()).copied().unwrap_or(0);
                    if *r <= room
                        && let Some(x) = m.get_mut(&y)
                    {
                        x.released += r;
                    }
                }
                y = y.next();
            }
            let last = y;
            let figures = years(&m, lapses, None, last);
            for f in &figures {
                prop_assert!(f.spent <= f.available, "{f:?}");
                prop_assert!(f.unspent.0 >= 0);
            }
            let allocated: i64 = figures.iter().map(|f| f.allocated.0).sum();
            let spent: i64 = figures.iter().map(|f| f.spent.0).sum();
            let lapsed: i64 = figures.iter().map(|f| f.lapsed.0).sum();
            let still = figures.last().map(|f| f.unspent.0).unwrap_or(0);
            prop_assert_eq!(allocated, spent + lapsed + still);
        }
    }
}
