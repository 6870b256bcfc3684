//! The truth table: one row per configuration observed among the cases,
//! with its frequency, sufficiency inclusion, PRI and outcome value.
//!
//! Built in one pass over the cases. A case's membership in a corner that
//! differs from its own on the set D of conditions is the smallest
//! "other side" membership over D, so all corners reachable from a case are
//! filled by a subset recurrence (one `min` each) instead of recomputing a
//! k-fold minimum for every row and case. Crisp and multi-value conditions
//! pin a case to its own value, so only fuzzy conditions strictly between 0
//! and 1 spread a case over several rows.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::{QcaError, Result};
use crate::sets::{Setup, nibble};

/// `admisc::agteb`: cut-offs compare with a tolerance of sqrt(machine eps).
pub fn at_least(a: f64, b: f64) -> bool {
    a + 1.49e-8 > b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Out {
    #[serde(rename = "1")]
    One,
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "C")]
    Contradiction,
    #[serde(rename = "?")]
    Remainder,
}

impl Out {
    pub fn symbol(self) -> &'static str {
        match self {
            Out::One => "1",
            Out::Zero => "0",
            Out::Contradiction => "C",
            Out::Remainder => "?",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TruthTableOptions {
    /// `incl.cut` first value: at or above, a row is coded 1.
    pub incl_cut1: f64,
    /// `incl.cut` second value: between it and `incl_cut1`, a row is C.
    pub incl_cut0: Option<f64>,
    pub n_cut: usize,
    pub pri_cut: f64,
    /// Row numbers forced to 0 (e.g. untenable remainders).
    pub exclude: Vec<u64>,
    /// `inf.test = "binom, α"`: code a row 1 when a one-sided binomial test
    /// finds its share of positive cases significantly above `incl_cut1`
    /// (C when significantly above `incl_cut0` only), instead of comparing
    /// inclusion with the cut-offs. Crisp data only.
    pub inf_test: Option<f64>,
}

impl Default for TruthTableOptions {
    fn default() -> Self {
        TruthTableOptions {
            incl_cut1: 1.0,
            incl_cut0: None,
            n_cut: 1,
            pri_cut: 0.0,
            exclude: Vec::new(),
            inf_test: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: u64,
    pub code: u128,
    pub out: Out,
    pub n: usize,
    pub incl: f64,
    pub pri: f64,
    /// Indices of the cases with membership above 0.5 in this row.
    pub cases: Vec<usize>,
    /// Why the row is not coded by inclusion alone, if it is not.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TruthTable {
    /// Observed rows (and excluded remainders), ordered by row number.
    pub rows: Vec<Row>,
    pub warnings: Vec<String>,
    pub options: TruthTableOptions,
}

impl TruthTable {
    pub fn values(&self, setup: &Setup, row: &Row) -> Vec<u8> {
        (0..setup.k()).map(|j| nibble(row.code, j)).collect()
    }
}

struct Sums {
    x: Vec<f64>,
    xy: Vec<f64>,
    xyny: Vec<f64>,
}

impl Sums {
    fn new(n: usize) -> Sums {
        Sums {
            x: vec![0.0; n],
            xy: vec![0.0; n],
            xyny: vec![0.0; n],
        }
    }
    #[inline]
    fn add(&mut self, slot: usize, m: f64, y: f64, ny: f64) {
        self.x[slot] += m;
        let my = m.min(y);
        self.xy[slot] += my;
        self.xyny[slot] += my.min(ny);
    }
}

/// Per-case view used by the one-pass build.
struct CaseCorner {
    /// Configuration of the corner where the case is at its strongest.
    own: u128,
    /// Its membership there.
    own_m: f64,
}

fn own_corner(setup: &Setup, i: usize) -> CaseCorner {
    let mut own = 0u128;
    let mut own_m = 1.0f64;
    for (j, c) in setup.conditions.iter().enumerate() {
        let x = c.values[i];
        let v = if c.levels > 2 || !c.fuzzy {
            x as u8
        } else if x >= 0.5 {
            own_m = own_m.min(x);
            1
        } else {
            own_m = own_m.min(1.0 - x);
            0
        };
        own |= u128::from(v) << (4 * j);
    }
    CaseCorner { own, own_m }
}

pub fn truth_table(setup: &Setup, opts: &TruthTableOptions) -> Result<TruthTable> {
    for (name, v) in [("--incl-cut", opts.incl_cut1), ("--pri-cut", opts.pri_cut)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(QcaError::option(name, format!("{v} is outside [0, 1]")));
        }
    }
    if let Some(ic0) = opts.incl_cut0
        && !(0.0..=opts.incl_cut1).contains(&ic0)
    {
        return Err(QcaError::option(
            "--incl-cut",
            format!(
                "the second cut-off {ic0} must lie in [0, {}]",
                opts.incl_cut1
            ),
        ));
    }
    if let Some(alpha) = opts.inf_test {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(QcaError::option(
                "--inf-test",
                format!("the significance level {alpha} must lie strictly between 0 and 1"),
            ));
        }
        if setup.conditions.iter().any(|c| c.fuzzy)
            || setup.outcome.iter().any(|&y| y != 0.0 && y != 1.0)
        {
            return Err(QcaError::option(
                "--inf-test",
                "the binomial test needs crisp (or multi-value) conditions and a crisp outcome",
            ));
        }
    }
    let n = setup.n_cases();
    let mut warnings = Vec::new();
    let corners: Vec<CaseCorner> = (0..n).map(|i| own_corner(setup, i)).collect();
    let at_half: Vec<&str> = (0..n)
        .filter(|&i| corners[i].own_m <= 0.5)
        .map(|i| setup.case_names[i].as_str())
        .collect();
    if !at_half.is_empty() {
        warnings.push(format!(
            "Fuzzy causal conditions should not have values of 0.5: case(s) {} belong to no truth-table row \
             (they still count in every row's inclusion and PRI)",
            at_half.join(", ")
        ));
    }

    // Slots: observed configurations, then excluded remainders.
    let mut slot_of: FxHashMap<u128, usize> = FxHashMap::default();
    let mut codes: Vec<u128> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, c) in corners.iter().enumerate() {
        if c.own_m > 0.5 {
            let s = *slot_of.entry(c.own).or_insert_with(|| {
                codes.push(c.own);
                members.push(Vec::new());
                codes.len() - 1
            });
            members[s].push(i);
        }
    }
    let mut excluded_codes = Vec::new();
    for &num in &opts.exclude {
        let code = setup.code_from_number(num).ok_or_else(|| {
            QcaError::option(
                "--exclude",
                format!(
                    "row {num} does not exist (rows are 1..{})",
                    setup.n_rows_total()
                ),
            )
        })?;
        excluded_codes.push(code);
        slot_of.entry(code).or_insert_with(|| {
            codes.push(code);
            members.push(Vec::new());
            codes.len() - 1
        });
    }
    if codes.is_empty() {
        return Err(QcaError::EmptyTruthTable(
            "no case belongs to any truth-table row (every case has a condition at exactly 0.5)"
                .into(),
        ));
    }

    let sums = accumulate(setup, &corners, &codes, &slot_of);

    let mut rows = Vec::with_capacity(codes.len());
    for (s, &code) in codes.iter().enumerate() {
        let incl = if sums.x[s] > 0.0 {
            sums.xy[s] / sums.x[s]
        } else {
            f64::NAN
        };
        let pri_den = sums.x[s] - sums.xyny[s];
        let pri = if pri_den > 0.0 {
            (sums.xy[s] - sums.xyny[s]) / pri_den
        } else {
            f64::NAN
        };
        let n_s = members[s].len();
        let mut note = None;
        let out = if excluded_codes.contains(&code) {
            note = Some("excluded".to_string());
            Out::Zero
        } else if n_s < opts.n_cut {
            note = Some(format!("n = {n_s} below n.cut = {}", opts.n_cut));
            Out::Remainder
        } else if let Some(alpha) = opts.inf_test {
            // Crisp: the row's cases are exactly its members, and its
            // inclusion is the share of them with the outcome.
            let successes = (incl * n_s as f64).round() as usize;
            let p1 = binomial_upper_tail(successes, n_s, opts.incl_cut1);
            if p1 < alpha {
                if at_least(pri, opts.pri_cut) {
                    note = Some(format!("binomial p = {p1:.4} against {}", opts.incl_cut1));
                    Out::One
                } else {
                    note = Some(format!("PRI {pri:.3} below pri.cut"));
                    Out::Zero
                }
            } else if let Some(ic0) = opts.incl_cut0
                && binomial_upper_tail(successes, n_s, ic0) < alpha
            {
                note = Some(format!(
                    "binomial p = {:.4} against {ic0}, {p1:.4} against {}",
                    binomial_upper_tail(successes, n_s, ic0),
                    opts.incl_cut1
                ));
                Out::Contradiction
            } else {
                note = Some(format!("binomial p = {p1:.4} against {}", opts.incl_cut1));
                Out::Zero
            }
        } else if at_least(incl, opts.incl_cut1) {
            if at_least(pri, opts.pri_cut) {
                Out::One
            } else {
                note = Some(format!("PRI {pri:.3} below pri.cut"));
                Out::Zero
            }
        } else if opts.incl_cut0.is_some_and(|ic0| at_least(incl, ic0)) {
            Out::Contradiction
        } else {
            Out::Zero
        };
        rows.push(Row {
            number: setup.row_number(code),
            code,
            out,
            n: n_s,
            incl,
            pri,
            cases: members[s].clone(),
            note,
        });
    }
    rows.sort_by_key(|r| r.number);
    Ok(TruthTable {
        rows,
        warnings,
        options: opts.clone(),
    })
}

/// P(X ≥ k) for X ~ Binomial(n, p): the p-value of R's
/// `binom.test(k, n, p, alternative = "greater")`. Terms are built in log
/// space from the first one, so large n neither overflows nor underflows.
pub fn binomial_upper_tail(k: usize, n: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    // ln C(n, k)
    let mut lc = 0.0f64;
    for i in 1..=k {
        lc += ((n - k + i) as f64).ln() - (i as f64).ln();
    }
    let mut lt = lc + k as f64 * lp + (n - k) as f64 * lq;
    let mut total = 0.0f64;
    for j in k..=n {
        total += lt.exp();
        if j < n {
            // t(j+1) = t(j) · (n−j)/(j+1) · p/q
            lt += ((n - j) as f64).ln() - ((j + 1) as f64).ln() + lp - lq;
        }
    }
    total.min(1.0)
}

/// Sums of X, X∧Y and X∧Y∧~Y for every slot over all cases, split across
/// the available cores.
fn accumulate(
    setup: &Setup,
    corners: &[CaseCorner],
    codes: &[u128],
    slot_of: &FxHashMap<u128, usize>,
) -> Sums {
    if let Some(s) = accumulate_ternary(setup, corners, codes) {
        return s;
    }
    let n = corners.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(8);
    let threads = if n < 2000 { 1 } else { threads };
    let chunk = n.div_ceil(threads);
    let parts: Vec<Sums> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let lo = (t * chunk).min(n);
                let hi = ((t + 1) * chunk).min(n);
                scope.spawn(move || accumulate_range(setup, corners, codes, slot_of, lo..hi))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut total = Sums::new(codes.len());
    for p in parts {
        for s in 0..codes.len() {
            total.x[s] += p.x[s];
            total.xy[s] += p.xy[s];
            total.xyny[s] += p.xyny[s];
        }
    }
    total
}

fn accumulate_range(
    setup: &Setup,
    corners: &[CaseCorner],
    codes: &[u128],
    slot_of: &FxHashMap<u128, usize>,
    range: std::ops::Range<usize>,
) -> Sums {
    let k = setup.k();
    let n_slots = codes.len();
    let mut sums = Sums::new(n_slots);
    // Dense lookup by a compact index when the space is small enough; it is
    // several times faster than hashing a u128 per visited corner.
    let space: u128 = setup.n_rows_total();
    let dense: Option<(Vec<u32>, Vec<u64>)> = (space <= 1 << 24).then(|| {
        let weights: Vec<u64> = {
            let mut w = vec![1u64; k];
            for j in (0..k.saturating_sub(1)).rev() {
                w[j] = w[j + 1] * u64::from(setup.conditions[j + 1].levels);
            }
            w
        };
        let mut table = vec![u32::MAX; space as usize];
        for (s, &code) in codes.iter().enumerate() {
            let idx: u64 = (0..k)
                .map(|j| u64::from(nibble(code, j)) * weights[j])
                .sum();
            table[idx as usize] = s as u32;
        }
        (table, weights)
    });
    let mut flip_other: Vec<f64> = Vec::with_capacity(k);
    let mut flip_delta: Vec<i64> = Vec::with_capacity(k);
    let mut flip_code: Vec<u128> = Vec::with_capacity(k);
    let mut mbuf: Vec<f64> = Vec::new();
    let mut ibuf: Vec<i64> = Vec::new();
    let mut cbuf: Vec<u128> = Vec::new();
    for i in range {
        let y = setup.outcome[i];
        let ny = 1.0 - y;
        let c = &corners[i];
        flip_other.clear();
        flip_delta.clear();
        flip_code.clear();
        for (j, cond) in setup.conditions.iter().enumerate() {
            if cond.fuzzy && cond.levels == 2 {
                let x = cond.values[i];
                let other = x.min(1.0 - x);
                if other > 0.0 {
                    let own_v = nibble(c.own, j);
                    flip_other.push(if own_v == 1 { 1.0 - x } else { x });
                    let w = dense.as_ref().map_or(0, |(_, w)| w[j] as i64);
                    flip_delta.push(if own_v == 1 { -w } else { w });
                    flip_code.push(1u128 << (4 * j));
                }
            }
        }
        let f = flip_other.len();
        if f <= 24 && (1usize << f) <= n_slots.saturating_mul(k).max(64) {
            let size = 1usize << f;
            mbuf.resize(size, 0.0);
            mbuf[0] = c.own_m;
            if let Some((table, weights)) = dense.as_ref() {
                ibuf.resize(size, 0);
                let own_idx: i64 = (0..k)
                    .map(|j| i64::from(nibble(c.own, j)) * weights[j] as i64)
                    .sum();
                ibuf[0] = own_idx;
                let s0 = table[own_idx as usize];
                if s0 != u32::MAX {
                    sums.add(s0 as usize, c.own_m, y, ny);
                }
                for d in 1..size {
                    let low = d.trailing_zeros() as usize;
                    let rest = d & (d - 1);
                    let m = if rest == 0 {
                        flip_other[low]
                    } else {
                        mbuf[rest].min(flip_other[low])
                    };
                    mbuf[d] = m;
                    let idx = ibuf[rest] + flip_delta[low];
                    ibuf[d] = idx;
                    let s = table[idx as usize];
                    if s != u32::MAX {
                        sums.add(s as usize, m, y, ny);
                    }
                }
            } else {
                cbuf.resize(size, 0);
                cbuf[0] = c.own;
                if let Some(&s0) = slot_of.get(&c.own) {
                    sums.add(s0, c.own_m, y, ny);
                }
                for d in 1..size {
                    let low = d.trailing_zeros() as usize;
                    let rest = d & (d - 1);
                    let m = if rest == 0 {
                        flip_other[low]
                    } else {
                        mbuf[rest].min(flip_other[low])
                    };
                    mbuf[d] = m;
                    let code = cbuf[rest] ^ flip_code[low];
                    cbuf[d] = code;
                    if let Some(&s) = slot_of.get(&code) {
                        sums.add(s, m, y, ny);
                    }
                }
            }
        } else {
            // Too many reachable corners: visit the slots instead.
            for (s, &code) in codes.iter().enumerate() {
                let mut m = 1.0f64;
                for j in 0..k {
                    m = m.min(setup.literal(j, nibble(code, j), i));
                    if m == 0.0 {
                        break;
                    }
                }
                if m > 0.0 {
                    sums.add(s, m, y, ny);
                }
            }
        }
    }
    sums
}

/// Largest 3^k table the subcube method may allocate (3 sums of f64 each).
const TERNARY_MAX: usize = 4_782_969; // 3^14

/// The same sums by subcubes, for binary conditions when the cases are many.
///
/// Sort a case's fuzzy conditions by their "other side" membership,
/// ascending. Its membership in a corner differing from its own on D is the
/// other-side membership of the first condition of D in that order, so the
/// corners sharing that first condition t form a subcube (own values before
/// t, flipped at t, anything after t) on which the case adds one constant.
/// Each case thus adds at most k+1 constants to a table indexed by ternary
/// configurations (0, 1, or free), and one pass that pushes every "free"
/// digit down to 0 and 1 turns the table into per-row sums. Work is
/// O(n·k + 3^k) instead of O(n·2^k).
fn accumulate_ternary(setup: &Setup, corners: &[CaseCorner], codes: &[u128]) -> Option<Sums> {
    let k = setup.k();
    if setup.conditions.iter().any(|c| c.levels != 2) || k > 14 {
        return None;
    }
    let size = 3usize.pow(k as u32);
    if size > TERNARY_MAX {
        return None;
    }
    // Only worth it when the per-case enumeration would be larger.
    let dp_work: usize = corners.len().saturating_mul(1usize << k);
    if dp_work < size * 8 {
        return None;
    }
    let pow3: Vec<usize> = (0..k).map(|j| 3usize.pow((k - 1 - j) as u32)).collect();
    let mut tx = vec![0.0f64; size];
    let mut txy = vec![0.0f64; size];
    let mut txyny = vec![0.0f64; size];
    // (other-side membership, condition, own value): the case's own value
    // is kept beside each entry so no packed code is unpacked per case.
    let mut order: Vec<(f64, usize, usize)> = Vec::with_capacity(k);
    for (i, c) in corners.iter().enumerate() {
        let y = setup.outcome[i];
        let ny = 1.0 - y;
        order.clear();
        let mut own_idx = 0usize;
        for (j, cond) in setup.conditions.iter().enumerate() {
            let x = cond.values[i];
            // The same side own_corner chose: crisp as is, fuzzy by ≥ 0.5.
            let v = if cond.fuzzy {
                usize::from(x >= 0.5)
            } else {
                x as usize
            };
            own_idx += v * pow3[j];
            let other = if v == 1 { 1.0 - x } else { x };
            if cond.fuzzy && other > 0.0 {
                order.push((other, j, v));
            }
        }
        // At most k short entries: a plain insertion sort (ties in any
        // order give the same sums).
        for a in 1..order.len() {
            let mut b = a;
            while b > 0 && order[b].0 < order[b - 1].0 {
                order.swap(b, b - 1);
                b -= 1;
            }
        }
        let mut add = |idx: usize, m: f64| {
            tx[idx] += m;
            let my = m.min(y);
            txy[idx] += my;
            txyny[idx] += my.min(ny);
        };
        add(own_idx, c.own_m);
        // Start with every flippable condition free, then fix them in order.
        let mut idx = own_idx;
        for &(_, j, v) in &order {
            idx = idx - v * pow3[j] + 2 * pow3[j];
        }
        for &(other, j, v) in &order {
            // Condition j flipped, later ones still free.
            let flipped = idx - 2 * pow3[j] + (1 - v) * pow3[j];
            add(flipped, other);
            idx = idx - 2 * pow3[j] + v * pow3[j];
        }
    }
    // Push free digits down, most significant first; the table shrinks
    // from 3^k to 2^k.
    let mut arrays = [tx, txy, txyny];
    for j in 0..k {
        let outer = 1usize << j;
        let inner = 3usize.pow((k - 1 - j) as u32);
        for a in arrays.iter_mut() {
            let mut next = vec![0.0f64; outer * 2 * inner];
            for o in 0..outer {
                let src = o * 3 * inner;
                let dst = o * 2 * inner;
                for r in 0..inner {
                    let free = a[src + 2 * inner + r];
                    next[dst + r] = a[src + r] + free;
                    next[dst + inner + r] = a[src + inner + r] + free;
                }
            }
            *a = next;
        }
    }
    let mut sums = Sums::new(codes.len());
    for (s, &code) in codes.iter().enumerate() {
        let mut idx = 0usize;
        for j in 0..k {
            idx = idx * 2 + usize::from(nibble(code, j));
        }
        sums.x[s] = arrays[0][idx];
        sums.xy[s] = arrays[1][idx];
        sums.xyny[s] = arrays[2][idx];
    }
    Some(sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    /// The subcube method and the per-case enumeration must give the same
    /// sums (up to rounding in the order of additions).
    #[test]
    fn subcube_sums_equal_enumerated_sums() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for k in [3usize, 5, 7] {
            let n = 3000;
            let mut columns = Vec::new();
            for j in 0..=k {
                columns.push(
                    (0..n)
                        .map(|_| {
                            let v = (next() * 100.0).round() / 100.0;
                            // Some crisp values, as real data has.
                            if j % 3 == 0 && v < 0.2 {
                                0.0
                            } else if v == 0.5 {
                                0.51
                            } else {
                                v
                            }
                        })
                        .collect::<Vec<f64>>(),
                );
            }
            let mut names: Vec<String> = (0..k).map(|j| format!("C{j}")).collect();
            names.push("Y".into());
            let data = Dataset {
                case_names: (0..n).map(|i| i.to_string()).collect(),
                column_names: names.clone(),
                columns,
            };
            let setup = Setup::new(&data, "Y", &names[..k]).unwrap();
            let corners: Vec<CaseCorner> = (0..n).map(|i| own_corner(&setup, i)).collect();
            let codes: Vec<u128> = (0..1u128 << k)
                .map(|r| (0..k).fold(0u128, |c, j| c | (((r >> (k - 1 - j)) & 1) << (4 * j))))
                .collect();
            let slot_of: FxHashMap<u128, usize> =
                codes.iter().enumerate().map(|(s, &c)| (c, s)).collect();
            let a = accumulate_ternary(&setup, &corners, &codes).expect("ternary applies");
            let b = accumulate_range(&setup, &corners, &codes, &slot_of, 0..n);
            for s in 0..codes.len() {
                assert!(
                    (a.x[s] - b.x[s]).abs() < 1e-9,
                    "k {k} row {s}: {} vs {}",
                    a.x[s],
                    b.x[s]
                );
                assert!((a.xy[s] - b.xy[s]).abs() < 1e-9);
                assert!((a.xyny[s] - b.xyny[s]).abs() < 1e-9);
            }
        }
    }
}
