//! Calibration: turning raw measurements into set memberships.
//!
//! Follows the reference (R QCA `calibrate`, qca-spec.md §2): the direct
//! method with a logistic curve through the anchors of full exclusion,
//! crossover and full inclusion (log-odds ±ln(idm/(1−idm)) at the outer
//! anchors); its piecewise power ("s-shape", linear by default) variant; the
//! bell and inverted bell from six thresholds; the indirect method (a
//! fractional-polynomial logit fitted to category targets); TFR for
//! categorical (Likert-type) measures; and crisp thresholds that cut a
//! measure into categories. Values that are already memberships are left
//! alone by simply not calibrating.

use crate::error::{QcaError, Result};

/// Inclusion degree at the outer anchors in the reference's default.
pub const IDM_DEFAULT: f64 = 0.95;

/// Ragin's fs/QCA puts log-odds of exactly ±3 at the anchors.
pub fn idm_ragin() -> f64 {
    let e3 = 3f64.exp();
    e3 / (1.0 + e3)
}

/// Memberships this close to 0 or 1 are snapped, as the reference does, so
/// that extreme cases are full members rather than 0.99996.
const CLAMP: f64 = 1e-4;

/// `all.equal`'s tolerance, used where the reference compares thresholds.
const TOL: f64 = 1.5e-8;

#[derive(Debug, Clone, PartialEq)]
pub enum Calibration {
    /// Direct method. `exclusion`, `crossover`, `inclusion` in the order of
    /// the anchors' meaning; `inclusion < exclusion` makes a decreasing set.
    /// `logistic: false` is the linear s-shape ([`Calibration::SShape`] with
    /// exponents 1).
    Direct {
        exclusion: f64,
        crossover: f64,
        inclusion: f64,
        idm: f64,
        logistic: bool,
    },
    /// Direct method without the logistic: piecewise power curves,
    /// `((e−x)/(e−c))^below / 2` below the crossover and
    /// `1 − ((i−x)/(i−c))^above / 2` above it (linear when both are 1).
    SShape {
        exclusion: f64,
        crossover: f64,
        inclusion: f64,
        below: f64,
        above: f64,
    },
    /// Six thresholds `e1, c1, i1, i2, c2, e2`: a bell (rising to full
    /// membership between i1 and i2, then falling) when e1 < c1 < i1, or the
    /// inverted bell when the first three decrease. Always the piecewise
    /// power formulas, as in the reference.
    Bell {
        thresholds: [f64; 6],
        below: f64,
        above: f64,
    },
    /// Indirect method: cases above the j-th of m sorted thresholds get the
    /// target j/(m+1); a quasi-binomial logit of the targets on
    /// log x, √x, x and x² is fitted and its predictions are the memberships.
    Indirect { thresholds: Vec<f64> },
    /// Totally fuzzy and relative, for categorical measures:
    /// `max(0, (F(x) − F(1)) / (1 − F(1)))` with F the empirical CDF.
    Tfr,
    /// Crisp (or multi-value) categories: a value equal to a threshold goes
    /// to the upper category.
    Crisp { thresholds: Vec<f64> },
}

impl Calibration {
    /// Parses the command-line form, naming `option` in errors:
    /// `e,c,i` (or `e=…,c=…,i=…` in any order): direct method, logistic
    /// unless `logistic` is false; six numbers `e1,c1,i1,i2,c2,e2` (or named
    /// so): bell or inverted bell; `crisp:t1[,t2…]`; `indirect:t1[,t2…]`;
    /// `tfr`. Exponents of the power curves are set with
    /// [`Calibration::with_exponents`].
    pub fn parse(spec: &str, idm: f64, logistic: bool, option: &str) -> Result<Calibration> {
        let spec = spec.trim();
        if spec == "tfr" {
            return Ok(Calibration::Tfr);
        }
        let (kind, nums) = if let Some(rest) = spec.strip_prefix("crisp:") {
            ("crisp", rest)
        } else if let Some(rest) = spec.strip_prefix("indirect:") {
            ("indirect", rest)
        } else {
            ("direct", spec)
        };
        const NAMES3: [&str; 3] = ["e", "c", "i"];
        const NAMES6: [&str; 6] = ["e1", "c1", "i1", "i2", "c2", "e2"];
        let mut values = Vec::new();
        let mut named: Vec<(String, f64)> = Vec::new();
        for part in nums.split(',') {
            let part = part.trim();
            let (key, num) = match part.split_once('=') {
                Some((k, v)) => (Some(k.trim()), v.trim()),
                None => (None, part),
            };
            let v: f64 = num
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| QcaError::option(option, format!("`{part}` is not a number")))?;
            match key {
                None => values.push(v),
                Some(k) => {
                    if !NAMES3.contains(&k) && !NAMES6.contains(&k) {
                        return Err(QcaError::option(
                            option,
                            format!(
                                "unknown anchor `{k}` (use e=, c=, i= or e1=, c1=, i1=, i2=, c2=, e2=)"
                            ),
                        ));
                    }
                    if named.iter().any(|(n, _)| n == k) {
                        return Err(QcaError::option(
                            option,
                            format!("anchor `{k}` given twice"),
                        ));
                    }
                    named.push((k.to_string(), v));
                }
            }
        }
        if kind != "direct" {
            if values.is_empty() || !named.is_empty() {
                return Err(QcaError::option(
                    option,
                    format!("{kind}: needs one or more plain thresholds"),
                ));
            }
            let cal = if kind == "crisp" {
                Calibration::Crisp { thresholds: values }
            } else {
                Calibration::Indirect { thresholds: values }
            };
            cal.validate(option)?;
            return Ok(cal);
        }
        if !named.is_empty() {
            if !values.is_empty() {
                return Err(QcaError::option(option, "mix of named and unnamed anchors"));
            }
            let set: &[&str] = if named.len() == 3 { &NAMES3 } else { &NAMES6 };
            values = set
                .iter()
                .map(|k| {
                    named
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| *v)
                        .ok_or_else(|| {
                            QcaError::option(
                                option,
                                format!(
                                    "need all of {}",
                                    set.iter()
                                        .map(|s| format!("{s}="))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            )
                        })
                })
                .collect::<Result<_>>()?;
        }
        let cal = match values.len() {
            3 if logistic => Calibration::Direct {
                exclusion: values[0],
                crossover: values[1],
                inclusion: values[2],
                idm,
                logistic: true,
            },
            3 => Calibration::SShape {
                exclusion: values[0],
                crossover: values[1],
                inclusion: values[2],
                below: 1.0,
                above: 1.0,
            },
            6 => {
                let mut th = [0.0; 6];
                th.copy_from_slice(&values);
                Calibration::Bell {
                    thresholds: th,
                    below: 1.0,
                    above: 1.0,
                }
            }
            n => {
                return Err(QcaError::option(
                    option,
                    format!(
                        "direct calibration needs 3 anchors e,c,i or 6 thresholds e1,c1,i1,i2,c2,e2; got {n}"
                    ),
                ));
            }
        };
        if let Calibration::Direct { .. } = cal
            && !(idm > 0.5 && idm < 1.0)
        {
            return Err(QcaError::option(
                "--idm",
                "idm must lie strictly between 0.5 and 1",
            ));
        }
        cal.validate(option)?;
        Ok(cal)
    }

    /// Sets the exponents of the power curves (the reference's `below` and
    /// `above`; 1 is linear). Only the s-shape and the bell have them.
    pub fn with_exponents(self, below: f64, above: f64, option: &str) -> Result<Calibration> {
        if !(below.is_finite() && below > 0.0 && above.is_finite() && above > 0.0) {
            return Err(QcaError::option(
                option,
                "the exponents below and above must be positive numbers",
            ));
        }
        match self {
            Calibration::SShape {
                exclusion,
                crossover,
                inclusion,
                ..
            } => Ok(Calibration::SShape {
                exclusion,
                crossover,
                inclusion,
                below,
                above,
            }),
            Calibration::Bell { thresholds, .. } => Ok(Calibration::Bell {
                thresholds,
                below,
                above,
            }),
            other if below == 1.0 && above == 1.0 => Ok(other),
            _ => Err(QcaError::option(
                option,
                "exponents apply to the linear (power) direct method and to six thresholds only; \
                 add --linear for three anchors",
            )),
        }
    }

    fn validate(&self, option: &str) -> Result<()> {
        let between = |e: f64, c: f64, i: f64| (e < c && c < i) || (i < c && c < e);
        match self {
            Calibration::Direct {
                exclusion: e,
                crossover: c,
                inclusion: i,
                idm,
                ..
            } => {
                if !(*idm > 0.5 && *idm < 1.0) {
                    return Err(QcaError::option(
                        option,
                        "idm must lie strictly between 0.5 and 1",
                    ));
                }
                if !between(*e, *c, *i) {
                    return Err(QcaError::option(
                        option,
                        "the crossover must lie strictly between full exclusion and full inclusion",
                    ));
                }
            }
            Calibration::SShape {
                exclusion: e,
                crossover: c,
                inclusion: i,
                ..
            } => {
                if !between(*e, *c, *i) {
                    return Err(QcaError::option(
                        option,
                        "the crossover must lie strictly between full exclusion and full inclusion",
                    ));
                }
            }
            Calibration::Bell { thresholds: t, .. } => {
                let [e1, c1, i1, i2, c2, e2] = *t;
                if !between(e1, c1, i1) || !between(e2, c2, i2) {
                    return Err(QcaError::option(
                        option,
                        "each crossover (c1, c2) must lie strictly between its e and i",
                    ));
                }
                let bell = e1 < c1 && i1 <= i2 + TOL && c2 < e2;
                let inverted = c1 < e1 && e1 <= e2 + TOL && e2 < c2;
                if !bell && !inverted {
                    return Err(QcaError::option(
                        option,
                        "six thresholds e1,c1,i1,i2,c2,e2 must read e1 < c1 < i1 ≤ i2 < c2 < e2 (bell) \
                         or i1 < c1 < e1 ≤ e2 < c2 < i2 (inverted bell)",
                    ));
                }
            }
            Calibration::Indirect { thresholds } | Calibration::Crisp { thresholds } => {
                if thresholds.is_empty() {
                    return Err(QcaError::option(option, "needs one or more thresholds"));
                }
            }
            Calibration::Tfr => {}
        }
        Ok(())
    }

    pub fn apply(&self, x: &[f64], option: &str) -> Result<Vec<f64>> {
        self.validate(option)?;
        match self {
            Calibration::Crisp { thresholds } => {
                let mut th = thresholds.clone();
                th.sort_by(f64::total_cmp);
                let (lo, hi) = range(x);
                if let Some(t) = th.iter().find(|&&t| t < lo || t > hi) {
                    return Err(QcaError::option(
                        option,
                        format!("threshold {t} lies outside the data's range [{lo}, {hi}]"),
                    ));
                }
                Ok(x.iter()
                    .map(|&v| th.iter().filter(|&&t| t <= v).count() as f64)
                    .collect())
            }
            &Calibration::Direct {
                exclusion,
                crossover,
                inclusion,
                idm,
                logistic,
            } => {
                if !logistic {
                    return Calibration::SShape {
                        exclusion,
                        crossover,
                        inclusion,
                        below: 1.0,
                        above: 1.0,
                    }
                    .apply(x, option);
                }
                let decreasing = inclusion < exclusion;
                let (e, c, i) = if decreasing {
                    (inclusion, crossover, exclusion)
                } else {
                    (exclusion, crossover, inclusion)
                };
                Ok(x.iter()
                    .map(|&v| {
                        let m = direct_logistic(v, e, c, i, idm);
                        clamp(if decreasing { 1.0 - m } else { m })
                    })
                    .collect())
            }
            &Calibration::SShape {
                exclusion: e,
                crossover: c,
                inclusion: i,
                below,
                above,
            } => Ok(x
                .iter()
                .map(|&v| {
                    clamp(if e < i {
                        rise(v, e, c, i, below, above)
                    } else {
                        fall(v, i, c, e, below, above)
                    })
                })
                .collect()),
            &Calibration::Bell {
                thresholds: [e1, c1, i1, i2, c2, e2],
                below,
                above,
            } => Ok(x
                .iter()
                .map(|&v| {
                    let m = if e1 < c1 {
                        // Bell: rising to i1, full to i2, falling to e2.
                        if v <= i1 {
                            rise(v, e1, c1, i1, below, above)
                        } else if v <= i2 {
                            1.0
                        } else {
                            fall(v, i2, c2, e2, below, above)
                        }
                    } else if v <= e1 {
                        // Inverted: full membership at both extremes.
                        fall(v, i1, c1, e1, below, above)
                    } else if v <= e2 {
                        0.0
                    } else {
                        rise(v, e2, c2, i2, below, above)
                    };
                    clamp(m)
                })
                .collect()),
            Calibration::Indirect { thresholds } => indirect(x, thresholds, option),
            Calibration::Tfr => tfr(x, option),
        }
    }
}

fn range(x: &[f64]) -> (f64, f64) {
    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

fn clamp(m: f64) -> f64 {
    if m < CLAMP {
        0.0
    } else if m > 1.0 - CLAMP {
        1.0
    } else {
        m
    }
}

fn direct_logistic(x: f64, e: f64, c: f64, i: f64, idm: f64) -> f64 {
    let l = (idm / (1.0 - idm)).ln();
    let logit = if x >= c {
        l * (x - c) / (i - c)
    } else {
        l * (x - c) / (c - e)
    };
    1.0 / (1.0 + (-logit).exp())
}

/// Increasing power s-shape through e < c < i (qca-spec §2.4), boundaries
/// compared with `all.equal`'s tolerance as the reference does.
fn rise(x: f64, e: f64, c: f64, i: f64, below: f64, above: f64) -> f64 {
    if x <= e + TOL * e.abs().max(1.0) {
        0.0
    } else if x <= c {
        ((e - x) / (e - c)).powf(below) / 2.0
    } else if x < i - TOL * i.abs().max(1.0) {
        1.0 - ((i - x) / (i - c)).powf(above) / 2.0
    } else {
        1.0
    }
}

/// Decreasing mirror through i < c < e: full membership up to i.
fn fall(x: f64, i: f64, c: f64, e: f64, below: f64, above: f64) -> f64 {
    if x <= i + TOL * i.abs().max(1.0) {
        1.0
    } else if x <= c {
        1.0 - ((i - x) / (i - c)).powf(above) / 2.0
    } else if x < e - TOL * e.abs().max(1.0) {
        ((e - x) / (e - c)).powf(below) / 2.0
    } else {
        0.0
    }
}

/// TFR (Cheli & Lemmi): `max(0, (F(x) − F(1)) / (1 − F(1)))`, F the
/// empirical CDF of the column, for categorical scales starting at 1.
fn tfr(x: &[f64], option: &str) -> Result<Vec<f64>> {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let cdf = |v: f64| sorted.partition_point(|&s| s <= v) as f64 / n;
    let f1 = cdf(1.0);
    if f1 >= 1.0 {
        return Err(QcaError::option(
            option,
            "tfr: every value is at most 1, so no case can have membership above 0",
        ));
    }
    Ok(x.iter()
        .map(|&v| clamp(((cdf(v) - f1) / (1.0 - f1)).max(0.0)))
        .collect())
}

/// The indirect method (qca-spec §2.5): targets j/(m+1) by the number of
/// sorted thresholds a value exceeds, then a quasi-binomial logit GLM of
/// the targets on log x, √x, x and x²; fitted values rounded to 6
/// decimals, then clamped.
fn indirect(x: &[f64], thresholds: &[f64], option: &str) -> Result<Vec<f64>> {
    let mut th = thresholds.to_vec();
    th.sort_by(f64::total_cmp);
    if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| **v < 0.0) {
        return Err(QcaError::option(
            option,
            format!(
                "indirect: value {v} (case {}) is negative; the model takes log x",
                i + 1
            ),
        ));
    }
    let m = th.len() as f64;
    let y: Vec<f64> = x
        .iter()
        .map(|&v| {
            let j = th.iter().filter(|&&t| v > t).count() as f64;
            (j / (m + 1.0) * 1000.0).round() / 1000.0
        })
        .collect();
    let design: Vec<[f64; 5]> = x
        .iter()
        .map(|&v| {
            let v = if v == 0.0 { 1e-5 } else { v };
            [1.0, v.ln(), v.sqrt(), v, v * v]
        })
        .collect();
    let beta = logit_glm(&design, &y).ok_or_else(|| {
        QcaError::option(
            option,
            "indirect: the fractional-polynomial logit could not be fitted              (too few distinct values for five coefficients?)",
        )
    })?;
    Ok(design
        .iter()
        .map(|row| {
            let eta: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let mu = 1.0 / (1.0 + (-eta).exp());
            clamp((mu * 1e6).round() / 1e6)
        })
        .collect())
}

/// A binomial-family logit GLM by iteratively reweighted least squares, as
/// R's `glm.fit` does it (start μ = (y + ½)/2, stop when the deviance
/// changes by less than 1e-8 relatively, at most 25 iterations); each step
/// is solved by Householder QR, so columns of very different scale (log x
/// beside x²) do not lose precision the way normal equations would. The
/// quasi-binomial family has the same coefficients. Returns None when the
/// design is rank-deficient.
pub fn logit_glm<const P: usize>(x: &[[f64; P]], y: &[f64]) -> Option<[f64; P]> {
    let n = y.len();
    if n < P {
        return None;
    }
    let mut mu: Vec<f64> = y.iter().map(|&v| (v + 0.5) / 2.0).collect();
    let mut eta: Vec<f64> = mu.iter().map(|&m| (m / (1.0 - m)).ln()).collect();
    let deviance = |mu: &[f64]| -> f64 {
        y.iter()
            .zip(mu)
            .map(|(&y, &m)| {
                let a = if y > 0.0 { y * (y / m).ln() } else { 0.0 };
                let b = if y < 1.0 {
                    (1.0 - y) * ((1.0 - y) / (1.0 - m)).ln()
                } else {
                    0.0
                };
                2.0 * (a + b)
            })
            .sum()
    };
    let mut dev_old = deviance(&mu);
    let mut beta = [0.0; P];
    for _ in 0..25 {
        // Weighted least squares of z on X with weights w = μ(1−μ).
        let mut a: Vec<[f64; P]> = Vec::with_capacity(n);
        let mut b: Vec<f64> = Vec::with_capacity(n);
        for i in 0..n {
            let w = (mu[i] * (1.0 - mu[i])).max(f64::MIN_POSITIVE);
            let z = eta[i] + (y[i] - mu[i]) / w;
            let sw = w.sqrt();
            let mut row = x[i];
            for v in row.iter_mut() {
                *v *= sw;
            }
            a.push(row);
            b.push(z * sw);
        }
        beta = least_squares(&mut a, &mut b)?;
        for i in 0..n {
            eta[i] = x[i].iter().zip(&beta).map(|(a, b)| a * b).sum();
            mu[i] = 1.0 / (1.0 + (-eta[i]).exp());
        }
        let dev = deviance(&mu);
        if !dev.is_finite() {
            return None;
        }
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < 1e-8 {
            break;
        }
        dev_old = dev;
    }
    Some(beta)
}

/// Least squares `min |A·β − b|` by Householder QR (A is overwritten).
fn least_squares<const P: usize>(a: &mut [[f64; P]], b: &mut [f64]) -> Option<[f64; P]> {
    let n = a.len();
    let scale: f64 = a
        .iter()
        .flat_map(|r| r.iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    for k in 0..P {
        let norm = a[k..].iter().map(|r| r[k] * r[k]).sum::<f64>().sqrt();
        if norm <= 1e-12 * scale.max(1.0) || n <= k {
            return None;
        }
        let alpha = if a[k][k] > 0.0 { -norm } else { norm };
        // v = a[k..][k] − alpha·e1, stored in place.
        a[k][k] -= alpha;
        let vnorm2: f64 = a[k..].iter().map(|r| r[k] * r[k]).sum();
        if vnorm2 == 0.0 {
            return None;
        }
        for j in k + 1..P {
            let dot: f64 = a[k..].iter().map(|r| r[k] * r[j]).sum();
            let f = 2.0 * dot / vnorm2;
            for r in a[k..].iter_mut() {
                r[j] -= f * r[k];
            }
        }
        let dot: f64 = a[k..].iter().zip(&b[k..]).map(|(r, bi)| r[k] * bi).sum();
        let f = 2.0 * dot / vnorm2;
        for (r, bi) in a[k..].iter().zip(b[k..].iter_mut()) {
            *bi -= f * r[k];
        }
        a[k][k] = alpha;
    }
    let mut beta = [0.0; P];
    for k in (0..P).rev() {
        let s: f64 = (k + 1..P).map(|j| a[k][j] * beta[j]).sum();
        beta[k] = (b[k] - s) / a[k][k];
    }
    Some(beta)
}
