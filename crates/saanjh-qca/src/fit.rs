//! Parameters of fit (Ragin 2006; Schneider & Wagemann 2012), computed the
//! way the reference's `pof` does: sufficiency inclusion (consistency), PRI
//! (proportional reduction in inconsistency), raw and unique coverage, and
//! for necessity inclusion, coverage and relevance of necessity (RoN).

use serde::Serialize;

/// The reference zeroes memberships this small before summing.
const ZERO_BELOW: f64 = 1e-5;

#[inline]
fn z(v: f64) -> f64 {
    if v < ZERO_BELOW { 0.0 } else { v }
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { f64::NAN }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sufficiency {
    pub incl: f64,
    pub pri: f64,
    /// Raw coverage.
    pub cov: f64,
}

/// X ⇒ Y.
pub fn sufficiency(x: &[f64], y: &[f64]) -> Sufficiency {
    let (mut sx, mut sy, mut sxy, mut sxyny) = (0.0, 0.0, 0.0, 0.0);
    for (&xi, &yi) in x.iter().zip(y) {
        let xi = z(xi);
        let yi = z(yi);
        sx += xi;
        sy += yi;
        let xy = xi.min(yi);
        sxy += xy;
        sxyny += z(xy.min(1.0 - yi));
    }
    Sufficiency {
        incl: ratio(sxy, sx),
        pri: ratio(sxy - sxyny, sx - sxyny),
        cov: ratio(sxy, sy),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Necessity {
    pub incl: f64,
    /// Relevance of necessity.
    pub ron: f64,
    pub cov: f64,
}

/// Y ⇒ X.
pub fn necessity(x: &[f64], y: &[f64]) -> Necessity {
    let (mut sx, mut sy, mut sxy, mut snx, mut snxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&xi, &yi) in x.iter().zip(y) {
        let xi = z(xi);
        let yi = z(yi);
        sx += xi;
        sy += yi;
        let xy = xi.min(yi);
        sxy += xy;
        snx += 1.0 - xi;
        snxy += 1.0 - xy;
    }
    Necessity {
        incl: ratio(sxy, sy),
        ron: ratio(snx, snxy),
        cov: ratio(sxy, sx),
    }
}

/// Unique coverage of each term within an expression: the coverage lost
/// when it is dropped. The other terms' maximum is taken from each case's
/// largest and second-largest memberships, so the cost is linear in the
/// number of terms rather than quadratic (it matters with many models).
pub fn unique_coverage<T: AsRef<[f64]>>(terms: &[T], y: &[f64]) -> Vec<f64> {
    let sy: f64 = y.iter().map(|&v| z(v)).sum();
    let mut num = vec![0.0f64; terms.len()];
    for (c, &yc) in y.iter().enumerate() {
        let yc = z(yc);
        let (mut top, mut top_i, mut second) = (f64::NEG_INFINITY, usize::MAX, f64::NEG_INFINITY);
        for (i, t) in terms.iter().enumerate() {
            let v = z(t.as_ref()[c]);
            if v > top {
                second = top;
                top = v;
                top_i = i;
            } else if v > second {
                second = v;
            }
        }
        for (i, t) in terms.iter().enumerate() {
            let others = if i == top_i { second } else { top }.max(0.0);
            let xi = z(t.as_ref()[c]).min(yc);
            num[i] += xi - xi.min(others);
        }
    }
    num.into_iter().map(|n| ratio(n, sy)).collect()
}

/// The fit of a sum of terms (a model) and each term's unique coverage in
/// it, in one pass over the cases: each case's largest and second-largest
/// term memberships give both the disjunction's membership (the largest)
/// and what every term adds alone. Equal to [`sufficiency`] of [`union`]
/// and [`unique_coverage`], at half the memory traffic; with hundreds of
/// models on tens of thousands of cases this pass is most of the work.
pub fn expression_fit(terms: &[&[f64]], y: &[f64]) -> (Sufficiency, Vec<f64>) {
    let (mut sx, mut sy, mut sxy, mut sxyny) = (0.0, 0.0, 0.0, 0.0);
    let mut num = vec![0.0f64; terms.len()];
    for (c, &yc) in y.iter().enumerate() {
        let yc = z(yc);
        let (mut top, mut top_i, mut second) = (0.0f64, usize::MAX, 0.0f64);
        for (i, t) in terms.iter().enumerate() {
            let v = z(t[c]);
            if v > top {
                second = top;
                top = v;
                top_i = i;
            } else if v > second {
                second = v;
            }
        }
        // The disjunction.
        sx += top;
        sy += yc;
        let xy = top.min(yc);
        sxy += xy;
        sxyny += z(xy.min(1.0 - yc));
        // Unique parts: only the largest term can exceed all the others.
        if top_i != usize::MAX {
            let xi = top.min(yc);
            num[top_i] += xi - xi.min(second);
        }
    }
    let suff = Sufficiency {
        incl: ratio(sxy, sx),
        pri: ratio(sxy - sxyny, sx - sxyny),
        cov: ratio(sxy, sy),
    };
    (suff, num.into_iter().map(|n| ratio(n, sy)).collect())
}

/// Membership in a disjunction (OR = maximum).
pub fn union(terms: &[&[f64]]) -> Vec<f64> {
    let n = terms.first().map_or(0, |t| t.len());
    (0..n)
        .map(|c| terms.iter().fold(0.0f64, |m, t| m.max(t[c])))
        .collect()
}
