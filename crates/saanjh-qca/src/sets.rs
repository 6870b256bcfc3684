//! Conditions, the outcome, and Boolean terms over them.
//!
//! A configuration (truth-table row) is packed into a `u128`, four bits per
//! condition, so that a row belongs to a term when it agrees with the term on
//! the term's conditions: one XOR and one AND. Terms are (mask, values)
//! pairs in the same packing; `mask` has bit `4j` set for every condition `j`
//! the term names. Four bits allow 16 levels for a multi-value condition and
//! 32 conditions, more than the reference's own limit of 25.

use crate::data::Dataset;
use crate::error::{QcaError, Result};

pub const MAX_CONDITIONS: usize = 25;
pub const MAX_LEVELS: usize = 16;

/// Bit 4j for every condition j < k.
pub fn low_bits(k: usize) -> u128 {
    let mut m = 0u128;
    for j in 0..k {
        m |= 1u128 << (4 * j);
    }
    m
}

/// Widens a condition mask (bit 4j) to the whole nibble of each condition.
#[inline]
pub fn spread(mask: u128) -> u128 {
    mask * 0xF
}

#[inline]
pub fn nibble(code: u128, j: usize) -> u8 {
    ((code >> (4 * j)) & 0xF) as u8
}

/// Which conditions two configurations disagree on, as a condition mask.
#[inline]
pub fn diff_mask(a: u128, b: u128, low: u128) -> u128 {
    let z = a ^ b;
    (z | (z >> 1) | (z >> 2) | (z >> 3)) & low
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub name: String,
    /// 2 for crisp and fuzzy sets; max value + 1 for multi-value conditions.
    pub levels: u8,
    /// True when some membership is strictly between 0 and 1.
    pub fuzzy: bool,
    pub values: Vec<f64>,
}

/// The data of one analysis: the conditions, the outcome (already negated
/// for `~OUT`), and the case names.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub conditions: Vec<Condition>,
    pub outcome_name: String,
    pub outcome: Vec<f64>,
    pub case_names: Vec<String>,
    /// Whether literals are written `X[v]` (any condition has > 2 levels).
    pub multi_value: bool,
}

impl Setup {
    /// `outcome` may be written `~OUT` for the negated outcome, and
    /// `OUT[v]` (or `OUT{v}`) for one value of a multi-value outcome: a
    /// case is in that set when its value equals v.
    pub fn new(data: &Dataset, outcome: &str, conditions: &[String]) -> Result<Setup> {
        Self::from_dataset(data.clone(), outcome, conditions)
    }

    /// As [`Setup::new`], taking the data set so that its case names and
    /// condition columns are moved rather than copied (large inputs).
    pub fn from_dataset(mut data: Dataset, outcome: &str, conditions: &[String]) -> Result<Setup> {
        let outcome = outcome.trim();
        let (negated, out_spec) = match outcome.strip_prefix('~') {
            Some(rest) => (true, rest.trim()),
            None => (false, outcome),
        };
        let (out_name, level) = split_level(out_spec, "--outcome")?;
        if out_name.is_empty() {
            return Err(QcaError::option("--outcome", "no outcome named"));
        }
        let y_raw = data.column(out_name)?;
        let mut y = Vec::with_capacity(y_raw.len());
        match level {
            None => {
                for (i, &v) in y_raw.iter().enumerate() {
                    if !(0.0..=1.0).contains(&v) {
                        return Err(QcaError::OutOfRange {
                            column: out_name.to_string(),
                            case: data.case_names[i].clone(),
                            value: v,
                        });
                    }
                    y.push(if negated { 1.0 - v } else { v });
                }
            }
            Some(level) => {
                if let Some(i) = y_raw.iter().position(|v| v.fract() != 0.0 || *v < 0.0) {
                    return Err(QcaError::option(
                        "--outcome",
                        format!(
                            "`{out_spec}`: a value of a multi-value outcome needs whole numbers 0, 1, 2…, \
                             but case `{}` has {}",
                            data.case_names[i], y_raw[i]
                        ),
                    ));
                }
                if !y_raw.iter().any(|&v| v == f64::from(level)) {
                    return Err(QcaError::option(
                        "--outcome",
                        format!("`{out_spec}`: no case has `{out_name}` = {level}"),
                    ));
                }
                for &v in y_raw {
                    let m = if v == f64::from(level) { 1.0 } else { 0.0 };
                    y.push(if negated { 1.0 - m } else { m });
                }
            }
        }
        if conditions.is_empty() {
            return Err(QcaError::option("--conditions", "no conditions given"));
        }
        if conditions.len() > MAX_CONDITIONS {
            return Err(QcaError::option(
                "--conditions",
                format!(
                    "{} conditions; at most {MAX_CONDITIONS} are supported",
                    conditions.len()
                ),
            ));
        }
        let mut conds = Vec::new();
        for (ci, name) in conditions.iter().enumerate() {
            let name = name.trim();
            if name == out_name {
                return Err(QcaError::ConditionIsOutcome(name.to_string()));
            }
            if conditions[..ci].iter().any(|c| c.trim() == name) {
                return Err(QcaError::DuplicateCondition(name.to_string()));
            }
            let idx = data.column_index(name)?;
            let x = std::mem::take(&mut data.columns[idx]);
            conds.push(classify(name, x, &data.case_names)?);
        }
        let multi_value = conds.iter().any(|c| c.levels > 2);
        Ok(Setup {
            conditions: conds,
            outcome_name: outcome.to_string(),
            outcome: y,
            case_names: data.case_names,
            multi_value,
        })
    }

    pub fn k(&self) -> usize {
        self.conditions.len()
    }

    pub fn n_cases(&self) -> usize {
        self.outcome.len()
    }

    pub fn levels(&self) -> Vec<u8> {
        self.conditions.iter().map(|c| c.levels).collect()
    }

    /// Membership of case `i` in a single literal `X[v]` (or `X`/`~X`).
    #[inline]
    pub fn literal(&self, j: usize, v: u8, i: usize) -> f64 {
        let c = &self.conditions[j];
        let x = c.values[i];
        if c.levels > 2 {
            if x == f64::from(v) { 1.0 } else { 0.0 }
        } else if v == 1 {
            x
        } else {
            1.0 - x
        }
    }

    /// Membership of every case in a term (AND = minimum).
    pub fn term_membership(&self, t: &Term) -> Vec<f64> {
        let lits = t.literals();
        (0..self.n_cases())
            .map(|i| {
                lits.iter()
                    .fold(1.0f64, |m, &(j, v)| m.min(self.literal(j, v, i)))
            })
            .collect()
    }

    /// Row number as the reference numbers rows: the first condition is
    /// the most significant digit, counting from 1.
    pub fn row_number(&self, code: u128) -> u64 {
        let mut n = 0u64;
        for (j, c) in self.conditions.iter().enumerate() {
            n = n * u64::from(c.levels) + u64::from(nibble(code, j));
        }
        n + 1
    }

    pub fn code_from_number(&self, number: u64) -> Option<u128> {
        let mut rest = number.checked_sub(1)?;
        let mut code = 0u128;
        for j in (0..self.k()).rev() {
            let l = u64::from(self.conditions[j].levels);
            code |= u128::from(rest % l) << (4 * j);
            rest /= l;
        }
        (rest == 0).then_some(code)
    }

    pub fn n_rows_total(&self) -> u128 {
        self.conditions
            .iter()
            .map(|c| u128::from(c.levels))
            .product()
    }

    pub fn term_to_string(&self, t: &Term) -> String {
        t.format(&self.conditions, self.multi_value)
    }
}

fn classify(name: &str, x: Vec<f64>, cases: &[String]) -> Result<Condition> {
    let all_integer = x.iter().all(|v| v.fract() == 0.0);
    let max = x.iter().copied().fold(0.0f64, f64::max);
    for (i, &v) in x.iter().enumerate() {
        let bad = if all_integer {
            v < 0.0
        } else {
            !(0.0..=1.0).contains(&v)
        };
        if bad {
            return Err(QcaError::OutOfRange {
                column: name.to_string(),
                case: cases[i].clone(),
                value: v,
            });
        }
    }
    if all_integer && max as usize >= MAX_LEVELS {
        return Err(QcaError::option(
            "--conditions",
            format!(
                "multi-value condition `{name}` has {} levels; at most {MAX_LEVELS} are supported",
                max + 1.0
            ),
        ));
    }
    let levels = if all_integer {
        (max as u8 + 1).max(2)
    } else {
        2
    };
    Ok(Condition {
        name: name.to_string(),
        levels,
        fuzzy: !all_integer,
        values: x,
    })
}

/// `NAME[v]` or `NAME{v}` → (NAME, Some(v)); a plain name → (NAME, None).
pub fn split_level<'a>(spec: &'a str, option: &str) -> Result<(&'a str, Option<u8>)> {
    let Some(p) = spec.find(['[', '{']) else {
        return Ok((spec.trim(), None));
    };
    let close = if spec.as_bytes()[p] == b'[' { ']' } else { '}' };
    let inner = spec[p + 1..]
        .trim_end()
        .strip_suffix(close)
        .ok_or_else(|| QcaError::option(option, format!("`{spec}`: unclosed bracket")))?;
    let v: u8 = inner
        .trim()
        .parse()
        .map_err(|_| QcaError::option(option, format!("`{spec}`: `{inner}` is not a level")))?;
    Ok((spec[..p].trim(), Some(v)))
}

/// A conjunction of literals: condition j takes value `vals` nibble j for
/// every j in `mask`. The empty term is the tautology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Term {
    pub mask: u128,
    pub vals: u128,
}

impl Term {
    /// The term naming exactly the conditions in `mask`, with `row`'s values.
    #[inline]
    pub fn from_row(row: u128, mask: u128) -> Term {
        Term {
            mask,
            vals: row & spread(mask),
        }
    }

    #[inline]
    pub fn covers(&self, row: u128) -> bool {
        (row ^ self.vals) & spread(self.mask) == 0
    }

    /// `self` is a superset of `other` (every literal of `self` is in `other`).
    #[inline]
    pub fn includes(&self, other: &Term) -> bool {
        self.mask & other.mask == self.mask && (other.vals ^ self.vals) & spread(self.mask) == 0
    }

    pub fn n_literals(&self) -> u32 {
        self.mask.count_ones()
    }

    pub fn literals(&self) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        let mut m = self.mask;
        while m != 0 {
            let bit = m.trailing_zeros() as usize;
            let j = bit / 4;
            out.push((j, nibble(self.vals, j)));
            m &= m - 1;
        }
        out
    }

    pub fn format(&self, conds: &[Condition], multi_value: bool) -> String {
        if self.mask == 0 {
            return "1".to_string();
        }
        self.literals()
            .iter()
            .map(|&(j, v)| {
                let name = &conds[j].name;
                if multi_value {
                    format!("{name}[{v}]")
                } else if v == 1 {
                    name.clone()
                } else {
                    format!("~{name}")
                }
            })
            .collect::<Vec<_>>()
            .join("*")
    }

    /// Print order, as close to the reference's as its published output
    /// shows: simpler terms first, then by the conditions named in column
    /// order, a named condition before an absent one, `X` before `~X`, and
    /// lower levels first for multi-value conditions.
    pub fn sort_key(&self, k: usize, multi_value: bool) -> (u32, Vec<u8>) {
        let key = (0..k)
            .map(|j| {
                if self.mask >> (4 * j) & 1 == 1 {
                    let v = nibble(self.vals, j);
                    if multi_value { v } else { 1 - v.min(1) }
                } else {
                    u8::MAX
                }
            })
            .collect();
        (self.n_literals(), key)
    }

    /// Every configuration in this term's cube, or None if there are more
    /// than `limit`.
    pub fn rows(&self, levels: &[u8], limit: usize) -> Option<Vec<u128>> {
        let free: Vec<usize> = (0..levels.len())
            .filter(|&j| self.mask >> (4 * j) & 1 == 0)
            .collect();
        let size: u128 = free.iter().map(|&j| u128::from(levels[j])).product();
        if size > limit as u128 {
            return None;
        }
        let mut out = vec![self.vals];
        for &j in &free {
            let mut next = Vec::with_capacity(out.len() * usize::from(levels[j]));
            for &r in &out {
                for v in 0..levels[j] {
                    next.push(r | (u128::from(v) << (4 * j)));
                }
            }
            out = next;
        }
        Some(out)
    }
}
