//! Money and the facts the ledger gives rule conditions.
//!
//! Money is exact: integer minor units (paisa for PKR) in an `i64`, never a
//! float. Shares of an estimate are computed in basis points with explicit
//! rounding (see `share_of`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::facts::{FactDecl, FactType, KeyDomain, Scope, Shape};

/// An amount in minor units of the initiative's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn minor(self) -> i64 {
        self.0
    }

    /// Parse "1500", "1,50,000", "1500.5" or "1500.50" (major units, as a
    /// treasurer writes them) into minor units. Refuses more than two
    /// decimals rather than rounding silently.
    pub fn parse_major(s: &str) -> Result<Money, String> {
        let t: String = s.trim().chars().filter(|c| *c != ',' && *c != '_').collect();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
        if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("`{s}` is not an amount"));
        }
        if frac.len() > 2 {
            return Err(format!("`{s}` has more than two decimals"));
        }
        let whole: i64 = whole.parse().map_err(|_| format!("`{s}` is too large"))?;
        let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| format!("`{s}` is not an amount"))? };
        let minor = whole.checked_mul(100).and_then(|w| w.checked_add(frac)).ok_or_else(|| format!("`{s}` is too large"))?;
        Ok(Money(if neg { -minor } else { minor }))
    }

    /// Plain international form for exports: "150000.00".
    pub fn to_plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    /// The way Pakistani users write amounts: "1,50,000" (lakh grouping),
    /// with paisa only when there are any.
    pub fn to_lakh(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = (a / 100).to_string();
        let grouped = if whole.len() <= 3 {
            whole
        } else {
            let (head, last3) = whole.split_at(whole.len() - 3);
            let mut parts = vec![];
            let mut h = head;
            while h.len() > 2 {
                let (a, b) = h.split_at(h.len() - 2);
                parts.push(b.to_string());
                h = a;
            }
            parts.push(h.to_string());
            parts.reverse();
            format!("{},{}", parts.join(","), last3)
        };
        if a % 100 == 0 { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{:02}", a % 100) }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain())
    }
}

/// `basis_points` of `amount`, rounded half up to the minor unit: the
/// community's 20% of Rs 7,058,000.01 is Rs 1,411,600.00 (0.002 paisa
/// rounds down), and shares are always rounded the same way so that the
/// rounding can be re-done by hand.
pub fn share_of(amount: Money, basis_points: u32) -> Money {
    let num = amount.0 as i128 * basis_points as i128;
    let q = num.div_euclid(10_000);
    let r = num.rem_euclid(10_000);
    Money((q + if r * 2 >= 10_000 { 1 } else { 0 }) as i64)
}

const fn money(name: &'static str, meaning: &'static str) -> FactDecl {
    FactDecl { shape: Shape::Keyed { name, domain: KeyDomain::Role }, ty: FactType::Int, scope: Scope::Scheme, meaning, provided_by: "ledger" }
}

/// Facts the ledger provides to conditions, per partner role, in paisa.
pub const LEDGER_FACTS: &[FactDecl] = &[
    money("owed", "the role's share of the scheme's estimate under the payoff rules (its minimum share where a range is given)"),
    money("pledged", "amount the role (and its households) have pledged, net of reversals"),
    money("paid", "amount the role (and its households) have contributed in cash, labour and materials, net of reversals"),
    money("released", "amount released by the role in instalments or tranches, net of reversals"),
    money("spent", "expenditure on components the role delivers, net of reversals"),
    FactDecl {
        shape: Shape::Keyed { name: "share_met", domain: KeyDomain::Role },
        ty: FactType::Bool,
        scope: Scope::Scheme,
        meaning: "whether what the role has paid or released covers what it owes",
        provided_by: "ledger",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_as_treasurers_write_them() {
        assert_eq!(Money::parse_major("1500").unwrap(), Money(150_000));
        assert_eq!(Money::parse_major("1,50,000").unwrap(), Money(15_000_000));
        assert_eq!(Money::parse_major("12.5").unwrap(), Money(1250));
        assert!(Money::parse_major("12.505").is_err());
        assert!(Money::parse_major("abc").is_err());
        assert!(Money::parse_major("").is_err());
        assert!(Money::parse_major("99999999999999999999").is_err());
    }

    #[test]
    fn lakh_grouping() {
        assert_eq!(Money(15_000_000).to_lakh(), "1,50,000");
        assert_eq!(Money(705_800_000).to_lakh(), "70,58,000");
        assert_eq!(Money(150_000).to_lakh(), "1,500");
        assert_eq!(Money(99_950).to_lakh(), "999.50");
        assert_eq!(Money(15_000_000).to_plain(), "150000.00");
    }

    #[test]
    fn ccb_shares_of_the_chiniot_block() {
        let total = Money(705_800_000);
        assert_eq!(share_of(total, 2000), Money(141_160_000));
        assert_eq!(share_of(total, 8000), Money(564_640_000));
    }

    proptest! {
        #[test]
        fn shares_are_within_half_a_paisa(amount in 0i64..1_000_000_000_000, bp in 0u32..=10_000) {
            let s = share_of(Money(amount), bp).0 as i128;
            let exact_x2 = amount as i128 * bp as i128 * 2;
            prop_assert!((s * 20_000 - exact_x2).abs() <= 10_000);
        }

        #[test]
        fn plain_form_round_trips(amount in -1_000_000_000_000i64..1_000_000_000_000) {
            prop_assert_eq!(Money::parse_major(&Money(amount).to_plain()).unwrap(), Money(amount));
            prop_assert_eq!(Money::parse_major(&Money(amount).to_lakh()).unwrap(), Money(amount));
        }
    }
}
