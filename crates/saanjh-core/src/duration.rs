//! Durations as arrangement authors write them: `10d`, `2w`, `36h`, `3m`
//! (months of 30 days). Deadlines in co-production rules are stated in days,
//! so a day is the unit everything is explained in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A period a rule allows, kept in whole hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    hours: i64,
}

impl Period {
    pub fn from_days(days: i64) -> Self {
        Period { hours: days * 24 }
    }
    pub fn hours(self) -> i64 {
        self.hours
    }
    pub fn as_duration(self) -> time::Duration {
        time::Duration::hours(self.hours)
    }
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || {
            format!("`{s}` is not a period: write a whole number and a unit, e.g. 10d, 2w, 36h, 3m")
        };
        let unit = s.chars().last().ok_or_else(bad)?;
        let number: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        if number <= 0 {
            return Err(format!("`{s}`: a period must be longer than zero"));
        }
        let hours = match unit {
            'h' => number,
            'd' => number * 24,
            'w' => number * 24 * 7,
            'm' => number * 24 * 30,
            _ => return Err(bad()),
        };
        Ok(Period { hours })
    }
}

impl TryFrom<String> for Period {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hours % 24 == 0 {
            write!(f, "{}d", self.hours / 24)
        } else {
            write!(f, "{}h", self.hours)
        }
    }
}

impl Period {
    /// "10 days", "36 hours" — for sentences read by people.
    pub fn in_words(self) -> String {
        if self.hours % 24 == 0 {
            let d = self.hours / 24;
            if d == 1 {
                "1 day".into()
            } else {
                format!("{d} days")
            }
        } else if self.hours == 1 {
            "1 hour".into()
        } else {
            format!("{} hours", self.hours)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_in_the_units_rules_use() {
        assert_eq!("10d".parse::<Period>().unwrap().hours(), 240);
        assert_eq!("2w".parse::<Period>().unwrap().hours(), 336);
        assert_eq!("36h".parse::<Period>().unwrap().hours(), 36);
        assert_eq!("3m".parse::<Period>().unwrap().in_words(), "90 days");
        assert!("0d".parse::<Period>().is_err());
        assert!("ten days".parse::<Period>().is_err());
        assert!("".parse::<Period>().is_err());
        assert!("5y".parse::<Period>().is_err());
    }
}
