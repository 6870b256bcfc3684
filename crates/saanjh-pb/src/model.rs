//! The in-memory participatory-budgeting instance: what a `.pb` file holds, or what a
//! platform round hands over (projects with estimates, ballots, a budget).
//!
//! Money is kept as exact integers of micro-units (10⁻⁶ of the currency unit) so that
//! decimal costs such as `308298.85` stay exact and the rules never meet a float.

use std::collections::{HashMap, HashSet};
use std::fmt;

use num_bigint::BigInt;
use num_rational::BigRational;
use serde::{Serialize, Serializer};

/// Micro-units per currency unit.
pub const MICRO: i128 = 1_000_000;

/// An exact amount of money, in micro-units of the instance's currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i128);

impl Money {
    /// Whole currency units.
    pub fn units(u: i64) -> Money {
        Money(i128::from(u) * MICRO)
    }

    /// Parses a non-negative or negative decimal such as `308298.85` exactly.
    /// Decimal commas and more than six decimals are refused rather than guessed at.
    pub fn parse(text: &str) -> Option<Money> {
        let t = text.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if frac.len() > 6 || int.len() > 24 {
            return None;
        }
        let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut f: i128 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        for _ in frac.len()..6 {
            f *= 10;
        }
        let v = whole.checked_mul(MICRO)?.checked_add(f)?;
        Some(Money(if neg { -v } else { v }))
    }

    /// From integer minor units with `exponent` decimals (paisa, cents: 2), as the
    /// platform stores money. `None` if more than six decimals or out of range.
    pub fn from_minor(amount: i64, exponent: u32) -> Option<Money> {
        if exponent > 6 {
            return None;
        }
        let factor = 10i128.pow(6 - exponent);
        i128::from(amount).checked_mul(factor).map(Money)
    }

    /// The amount as an exact fraction of currency units.
    pub fn to_rational(self) -> BigRational {
        BigRational::new(BigInt::from(self.0), BigInt::from(MICRO))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = a / MICRO as u128;
        let frac = a % MICRO as u128;
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let s = format!("{frac:06}");
            write!(f, "{sign}{whole}.{}", s.trim_end_matches('0'))
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// An exact amount that may not be a whole number of micro-units (a voter's share of a
/// project, say). Shown as a decimal when the decimal terminates, else as `num/den`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exact(pub BigRational);

impl Exact {
    pub fn from_money(m: Money) -> Exact {
        Exact(m.to_rational())
    }

    /// A close decimal approximation, for people and charts only.
    pub fn approx(&self) -> f64 {
        use num_traits::ToPrimitive;
        self.0.to_f64().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use num_integer::Integer;
        use num_traits::{Signed, Zero};
        let r = &self.0;
        // A fraction terminates in base 10 iff its reduced denominator is 2^a·5^b.
        let mut d = r.denom().clone();
        let two = BigInt::from(2);
        let five = BigInt::from(5);
        let mut digits = 0usize;
        let (mut twos, mut fives) = (0usize, 0usize);
        while d.is_even() {
            d /= &two;
            twos += 1;
        }
        while (&d % &five).is_zero() {
            d /= &five;
            fives += 1;
        }
        if d == BigInt::from(1) {
            digits = digits.max(twos).max(fives);
            let scale = BigInt::from(10).pow(digits as u32);
            let scaled = (r * BigRational::from_integer(scale.clone())).to_integer();
            let neg = scaled.is_negative();
            let a = scaled.abs();
            let (w, fr) = a.div_rem(&scale);
            let sign = if neg { "-" } else { "" };
            if digits == 0 {
                write!(f, "{sign}{w}")
            } else {
                write!(f, "{sign}{w}.{:0>width$}", fr.to_string(), width = digits)
            }
        } else {
            write!(f, "{}/{}", r.numer(), r.denom())
        }
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Ballot formats of pabulib.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VoteType {
    Approval,
    Ordinal,
    Cumulative,
    Scoring,
    Choose1,
}

impl VoteType {
    pub fn parse(s: &str) -> Option<VoteType> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "approval" => VoteType::Approval,
            "ordinal" => VoteType::Ordinal,
            "cumulative" => VoteType::Cumulative,
            "scoring" => VoteType::Scoring,
            "choose-1" => VoteType::Choose1,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VoteType::Approval => "approval",
            VoteType::Ordinal => "ordinal",
            VoteType::Cumulative => "cumulative",
            VoteType::Scoring => "scoring",
            VoteType::Choose1 => "choose-1",
        }
    }

    /// Ballots that carry points (a `points` column).
    pub fn has_points(self) -> bool {
        matches!(self, VoteType::Cumulative | VoteType::Scoring)
    }
}

/// A proposal: an id as written in the file (a string: `124-A`, `c12`), its cost, and every
/// other column kept verbatim so a file can be written back as it came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub cost: Money,
    /// Other PROJECTS columns (`name`, `votes`, `selected`, …) in file order.
    pub fields: Vec<(String, String)>,
}

impl Project {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The official `selected` column when present: `Some(true)` for 1 (and the special
    /// values 2/3, which pabulib uses for funded-by-other-means cases).
    pub fn officially_selected(&self) -> Option<bool> {
        match self.field("selected")?.trim() {
            "0" => Some(false),
            "1" | "2" | "3" => Some(true),
            _ => None,
        }
    }
}

/// One ballot. `vote` holds indices into [`Instance::projects`]; for points ballots
/// `points[k]` goes with `vote[k]`; for ordinal ballots the order is the preference order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voter {
    pub id: String,
    pub vote: Vec<usize>,
    pub points: Option<Vec<i64>>,
    /// Other VOTES columns (`age`, `sex`, `voting_method`, …) in file order.
    pub fields: Vec<(String, String)>,
}

/// A ballot for `Instance::add_voters`: as `add_voter`'s arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBallot {
    pub id: String,
    /// Project ids, in ballot order.
    pub ballot: Vec<String>,
    pub points: Option<Vec<i64>>,
    pub fields: Vec<(String, String)>,
}

/// A whole election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// META rows in file order (including `budget` and `vote_type`, kept as written).
    pub meta: Vec<(String, String)>,
    pub budget: Money,
    pub vote_type: VoteType,
    pub projects: Vec<Project>,
    pub voters: Vec<Voter>,
}

impl Instance {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn project_index(&self, id: &str) -> Option<usize> {
        self.projects.iter().position(|p| p.id == id)
    }

    /// Support weight voter `v` gives the `k`-th project on their ballot: 1 for approval,
    /// ordinal and choose-1 ballots, the points otherwise. Non-positive points are no support.
    pub fn weight(&self, voter: &Voter, k: usize) -> u64 {
        match &voter.points {
            Some(p) if self.vote_type.has_points() => p.get(k).copied().unwrap_or(0).max(0) as u64,
            _ => 1,
        }
    }
}

/// Building an instance directly (a platform round), refused the way a bad file is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("project `{0}` added twice")]
    DuplicateProject(String),
    #[error("project `{0}` has a negative cost")]
    NegativeCost(String),
    #[error("voter `{0}` added twice")]
    DuplicateVoter(String),
    #[error("voter `{voter}` supports unknown project `{project}`")]
    UnknownProject { voter: String, project: String },
    #[error("voter `{voter}` lists project `{project}` twice")]
    RepeatedProject { voter: String, project: String },
    #[error("voter `{0}`: points must go with a points ballot, one per project")]
    Points(String),
}

impl Instance {
    /// An empty round with a budget and a ballot format.
    pub fn new(budget: Money, vote_type: VoteType) -> Instance {
        Instance {
            meta: vec![
                ("budget".into(), budget.to_string()),
                ("vote_type".into(), vote_type.as_str().into()),
            ],
            budget,
            vote_type,
            projects: Vec::new(),
            voters: Vec::new(),
        }
    }

    /// Adds a proposal with its (reviewed) estimate. Returns its index.
    pub fn add_project(&mut self, id: impl Into<String>, cost: Money) -> Result<usize, BuildError> {
        let id = id.into();
        if self.project_index(&id).is_some() {
            return Err(BuildError::DuplicateProject(id));
        }
        if cost.0 < 0 {
            return Err(BuildError::NegativeCost(id));
        }
        self.projects.push(Project {
            id,
            cost,
            fields: Vec::new(),
        });
        Ok(self.projects.len() - 1)
    }

    /// Adds a ballot (online or entered from paper; record which in `fields`, e.g.
    /// `voting_method`). `points` is required exactly for points ballots. Nothing is added
    /// on error.
    pub fn add_voter(
        &mut self,
        id: impl Into<String>,
        ballot: &[&str],
        points: Option<Vec<i64>>,
        fields: Vec<(String, String)>,
    ) -> Result<usize, BuildError> {
        let id = id.into();
        if self.voters.iter().any(|v| v.id == id) {
            return Err(BuildError::DuplicateVoter(id));
        }
        let index = |p: &str| self.project_index(p);
        let vote = self.check_ballot(&id, ballot, &points, index)?;
        self.voters.push(Voter {
            id,
            vote,
            points,
            fields,
        });
        Ok(self.voters.len() - 1)
    }

    /// Adds many ballots, each as `add_voter` would, in time linear in their number (a
    /// platform round has tens of thousands: `add_voter` alone compares each id with every
    /// earlier one). Nothing is added if any ballot is refused.
    pub fn add_voters(&mut self, ballots: Vec<NewBallot>) -> Result<(), BuildError> {
        let mut seen: HashSet<String> = self.voters.iter().map(|v| v.id.clone()).collect();
        let projects: HashMap<&str, usize> = self
            .projects
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let mut added = Vec::with_capacity(ballots.len());
        for b in ballots {
            if !seen.insert(b.id.clone()) {
                return Err(BuildError::DuplicateVoter(b.id));
            }
            let refs: Vec<&str> = b.ballot.iter().map(String::as_str).collect();
            let vote = self.check_ballot(&b.id, &refs, &b.points, |p| projects.get(p).copied())?;
            added.push(Voter {
                id: b.id,
                vote,
                points: b.points,
                fields: b.fields,
            });
        }
        self.voters.extend(added);
        Ok(())
    }

    /// A ballot's project indices, or why it cannot be added.
    fn check_ballot(
        &self,
        id: &str,
        ballot: &[&str],
        points: &Option<Vec<i64>>,
        index: impl Fn(&str) -> Option<usize>,
    ) -> Result<Vec<usize>, BuildError> {
        let mut vote = Vec::with_capacity(ballot.len());
        for p in ballot {
            let Some(i) = index(p) else {
                return Err(BuildError::UnknownProject {
                    voter: id.to_string(),
                    project: p.to_string(),
                });
            };
            if vote.contains(&i) {
                return Err(BuildError::RepeatedProject {
                    voter: id.to_string(),
                    project: p.to_string(),
                });
            }
            vote.push(i);
        }
        match points {
            Some(p) if self.vote_type.has_points() && p.len() == vote.len() => {}
            None if !self.vote_type.has_points() => {}
            _ => return Err(BuildError::Points(id.to_string())),
        }
        Ok(vote)
    }
}
