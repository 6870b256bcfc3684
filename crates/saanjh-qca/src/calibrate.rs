//! Calibration: turning raw measurements into set memberships.
//!
//! Follows the reference (R QCA `calibrate`): the direct method with a
//! logistic curve through the anchors of full exclusion, crossover and full
//! inclusion (log-odds ±ln(idm/(1−idm)) at the outer anchors), its linear
//! variant, and crisp thresholds that cut a measure into categories. Values
//! that are already memberships are left alone by simply not calibrating.

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

#[derive(Debug, Clone, PartialEq)]
pub enum Calibration {
    /// Direct method. `exclusion`, `crossover`, `inclusion` in the order of
    /// the anchors' meaning; `inclusion < exclusion` makes a decreasing set.
    Direct {
        exclusion: f64,
        crossover: f64,
        inclusion: f64,
        idm: f64,
        logistic: bool,
    },
    /// Crisp (or multi-value) categories: a value equal to a threshold goes
    /// to the upper category.
    Crisp { thresholds: Vec<f64> },
}

impl Calibration {
    /// Parses the command-line form `e,c,i` (direct, logistic) or
    /// `crisp:t1[,t2…]`, naming `option` in errors.
    pub fn parse(spec: &str, idm: f64, logistic: bool, option: &str) -> Result<Calibration> {
        let spec = spec.trim();
        let (crisp, nums) = match spec.strip_prefix("crisp:") {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let mut values = Vec::new();
        let mut named: [Option<f64>; 3] = [None; 3];
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
                Some("e") => named[0] = Some(v),
                Some("c") => named[1] = Some(v),
                Some("i") => named[2] = Some(v),
                Some(k) => {
                    return Err(QcaError::option(
                        option,
                        format!("unknown anchor `{k}` (use e=, c=, i=)"),
                    ));
                }
            }
        }
        if crisp {
            if values.is_empty() || named.iter().any(Option::is_some) {
                return Err(QcaError::option(
                    option,
                    "crisp: needs one or more plain thresholds",
                ));
            }
            return Ok(Calibration::Crisp { thresholds: values });
        }
        if named.iter().any(Option::is_some) {
            if !values.is_empty() {
                return Err(QcaError::option(option, "mix of named and unnamed anchors"));
            }
            values = named
                .iter()
                .map(|v| v.ok_or_else(|| QcaError::option(option, "need all of e=, c=, i=")))
                .collect::<Result<_>>()?;
        }
        if values.len() != 3 {
            return Err(QcaError::option(
                option,
                format!(
                    "direct calibration needs 3 anchors e,c,i; got {}",
                    values.len()
                ),
            ));
        }
        let cal = Calibration::Direct {
            exclusion: values[0],
            crossover: values[1],
            inclusion: values[2],
            idm,
            logistic,
        };
        cal.validate(option)?;
        Ok(cal)
    }

    fn validate(&self, option: &str) -> Result<()> {
        if let Calibration::Direct {
            exclusion: e,
            crossover: c,
            inclusion: i,
            idm,
            ..
        } = *self
        {
            if !(idm > 0.5 && idm < 1.0) {
                return Err(QcaError::option(
                    option,
                    "idm must lie strictly between 0.5 and 1",
                ));
            }
            let increasing = e < c && c < i;
            let decreasing = i < c && c < e;
            if !increasing && !decreasing {
                return Err(QcaError::option(
                    option,
                    "the crossover must lie strictly between full exclusion and full inclusion",
                ));
            }
        }
        Ok(())
    }

    pub fn apply(&self, x: &[f64], option: &str) -> Result<Vec<f64>> {
        self.validate(option)?;
        match self {
            Calibration::Crisp { thresholds } => {
                let mut th = thresholds.clone();
                th.sort_by(f64::total_cmp);
                let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
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
                let decreasing = inclusion < exclusion;
                let (e, c, i) = if decreasing {
                    (inclusion, crossover, exclusion)
                } else {
                    (exclusion, crossover, inclusion)
                };
                Ok(x.iter()
                    .map(|&v| {
                        let m = if logistic {
                            direct_logistic(v, e, c, i, idm)
                        } else {
                            direct_linear(v, e, c, i)
                        };
                        let m = if decreasing { 1.0 - m } else { m };
                        clamp(m)
                    })
                    .collect())
            }
        }
    }
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

fn direct_linear(x: f64, e: f64, c: f64, i: f64) -> f64 {
    if x <= e {
        0.0
    } else if x <= c {
        ((e - x) / (e - c)) / 2.0
    } else if x <= i {
        1.0 - ((i - x) / (i - c)) / 2.0
    } else {
        1.0
    }
}
