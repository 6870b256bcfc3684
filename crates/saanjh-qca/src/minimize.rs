//! Boolean minimisation of a truth table into the conservative (complex),
//! parsimonious and intermediate solutions, with parameters of fit for every
//! term and model, following the reference's semantics (R QCA `minimize`):
//!
//! * conservative: the explained rows alone, every other row forbidden;
//! * parsimonious: remainders are don't-cares, only observed negative rows
//!   (and excluded rows) are forbidden;
//! * intermediate: for every pair of a conservative and a parsimonious
//!   model, the easy counterfactuals are the simplifying assumptions that
//!   the directional expectations allow; the explained rows are then
//!   minimised with only those remainders as don't-cares.
//!
//! Models are all covers with the fewest prime implicants; the terms common
//! to all models are reported as essential (the reference's usage, not the
//! textbook's "essential prime implicant").

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::chart;
use crate::error::{QcaError, Result};
use crate::fit;
use crate::implicants::{self, Forbidden};
use crate::sets::{Setup, Term};
use crate::truth_table::{Out, TruthTable};

/// A directional expectation: a conjunction of (condition, expected value).
pub type Expectation = Vec<(usize, u8)>;

#[derive(Debug, Clone)]
pub struct MinimizeOptions {
    /// Explain rows coded C as well as rows coded 1 (`explain = "1, C"`).
    pub explain_contradictions: bool,
    /// Use remainders as don't-cares (`include = "?"`).
    pub include_remainders: bool,
    /// Use contradictions as don't-cares (`include = "C"`).
    pub include_contradictions: bool,
    pub dir_exp: Option<Vec<Expectation>>,
    pub row_dom: bool,
    pub all_solutions: bool,
    pub max_models: usize,
}

impl Default for MinimizeOptions {
    fn default() -> Self {
        MinimizeOptions {
            explain_contradictions: false,
            include_remainders: false,
            include_contradictions: false,
            dir_exp: None,
            row_dom: false,
            all_solutions: false,
            max_models: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TermFit {
    pub expression: String,
    pub incl: f64,
    #[serde(rename = "PRI")]
    pub pri: f64,
    pub cov: f64,
    pub cov_unique: f64,
    /// The cases of explained rows this term covers. Listed once, in the
    /// solution's `terms`; left empty in each model's copy so that many
    /// models do not repeat long case lists.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<String>,
    #[serde(skip)]
    pub term: Term,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelFit {
    pub name: String,
    pub expression: String,
    pub terms: Vec<TermFit>,
    pub incl: f64,
    #[serde(rename = "PRI")]
    pub pri: f64,
    pub cov: f64,
    /// Intermediate models: the conservative × parsimonious pairs they come from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<String>,
    /// Parsimonious models: remainder rows the model assumes positive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simplifying_assumptions: Option<Vec<u64>>,
    /// Intermediate models: easy counterfactuals used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub easy_counterfactuals: Option<Vec<u64>>,
    /// Intermediate models: the simplifying assumptions not used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difficult_counterfactuals: Option<Vec<u64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Solution {
    pub kind: &'static str,
    pub models: Vec<ModelFit>,
    /// All terms appearing in any model, with unique coverage against the
    /// union of all of them.
    pub terms: Vec<TermFit>,
    /// Terms common to all models.
    pub essential: Vec<String>,
    pub prime_implicants: usize,
    /// More minimal models exist than `max_models`.
    pub truncated: bool,
    /// False when the chart was too hard to solve exactly within the search
    /// budget; the models are then the smallest found, not proven minimal.
    pub exact: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Minimization {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conservative: Option<Solution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parsimonious: Option<Solution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intermediate: Option<Solution>,
}

impl Minimization {
    /// The solution the analysis asked for: intermediate if directional
    /// expectations were given, parsimonious if remainders were included,
    /// else conservative.
    pub fn main(&self) -> &Solution {
        match (&self.intermediate, &self.parsimonious, &self.conservative) {
            (Some(s), _, _) | (None, Some(s), _) | (None, None, Some(s)) => s,
            (None, None, None) => unreachable!("minimize always returns a solution"),
        }
    }
}

/// Largest cube enumerated to list simplifying assumptions.
const SA_LIMIT: usize = 1 << 20;

struct Ctx<'a> {
    setup: &'a Setup,
    levels: Vec<u8>,
    pos: Vec<u128>,
    /// Cases of the explained rows, by configuration.
    pos_cases: FxHashMap<u128, Vec<usize>>,
    /// Rows that are not remainders (observed with n ≥ n.cut, or excluded).
    fixed: FxHashSet<u128>,
    dont_care_c: Vec<u128>,
    memberships: std::cell::RefCell<FxHashMap<Term, std::rc::Rc<Vec<f64>>>>,
    opts: &'a MinimizeOptions,
}

pub fn minimize(setup: &Setup, tt: &TruthTable, opts: &MinimizeOptions) -> Result<Minimization> {
    if opts.dir_exp.is_some() && !opts.include_remainders {
        return Err(QcaError::option(
            "--dir-exp",
            "directional expectations need remainders included (--include ?)",
        ));
    }
    let explained =
        |o: Out| o == Out::One || (opts.explain_contradictions && o == Out::Contradiction);
    let pos: Vec<u128> = tt
        .rows
        .iter()
        .filter(|r| explained(r.out))
        .map(|r| r.code)
        .collect();
    if pos.is_empty() {
        let ic = &tt.options;
        return Err(QcaError::EmptyTruthTable(format!(
            "no truth-table row is coded {} (incl.cut = {}, n.cut = {}, pri.cut = {}); nothing to explain",
            if opts.explain_contradictions {
                "1 or C"
            } else {
                "1"
            },
            ic.incl_cut1,
            ic.n_cut,
            ic.pri_cut
        )));
    }
    let pos_cases = tt
        .rows
        .iter()
        .filter(|r| explained(r.out))
        .map(|r| (r.code, r.cases.clone()))
        .collect();
    let fixed: FxHashSet<u128> = tt
        .rows
        .iter()
        .filter(|r| r.out != Out::Remainder)
        .map(|r| r.code)
        .collect();
    let dont_care_c: Vec<u128> = if opts.include_contradictions && !opts.explain_contradictions {
        tt.rows
            .iter()
            .filter(|r| r.out == Out::Contradiction)
            .map(|r| r.code)
            .collect()
    } else {
        Vec::new()
    };
    let ctx = Ctx {
        setup,
        levels: setup.levels(),
        pos,
        pos_cases,
        fixed,
        dont_care_c,
        memberships: Default::default(),
        opts,
    };

    // As in the reference, the conservative solution is computed only when
    // it is the one asked for or the intermediate solution needs it: on noisy
    // data its chart is by far the hardest part.
    let conservative = if !opts.include_remainders || opts.dir_exp.is_some() {
        let (cons_pis, cons_chart) = ctx.solve_conservative(&[])?;
        Some(ctx.report("conservative", &cons_pis, &cons_chart, None)?)
    } else {
        None
    };

    let mut parsimonious = None;
    let mut intermediate = None;
    if opts.include_remainders {
        let neg: Vec<u128> = tt
            .rows
            .iter()
            .filter(|r| {
                r.out != Out::Remainder
                    && !explained(r.out)
                    && !(opts.include_contradictions && r.out == Out::Contradiction)
            })
            .map(|r| r.code)
            .collect();
        let pars_pis = implicants::prime_implicants(&ctx.pos, &Forbidden::Rows(&neg), &ctx.levels)?;
        let pars_chart = ctx.chart(&pars_pis);
        let sa: Vec<Option<Vec<u64>>> = pars_chart
            .models
            .iter()
            .map(|m| ctx.remainders_in(&m.iter().map(|&i| pars_pis[i]).collect::<Vec<_>>()))
            .collect();
        let pars = ctx.report("parsimonious", &pars_pis, &pars_chart, Some(&sa))?;
        if let (Some(exps), Some(cons)) = (&opts.dir_exp, &conservative) {
            intermediate = Some(ctx.intermediate(cons, &pars, exps)?);
        }
        parsimonious = Some(pars);
    }
    Ok(Minimization {
        conservative,
        parsimonious,
        intermediate,
    })
}

impl Ctx<'_> {
    fn solve_conservative(&self, extra_dc: &[u128]) -> Result<(Vec<Term>, chart::ChartSolution)> {
        let allowed: FxHashSet<u128> = self
            .pos
            .iter()
            .chain(&self.dont_care_c)
            .chain(extra_dc)
            .copied()
            .collect();
        let pis =
            implicants::prime_implicants(&self.pos, &Forbidden::AllBut(&allowed), &self.levels)?;
        let ch = self.chart(&pis);
        Ok((pis, ch))
    }

    fn chart(&self, pis: &[Term]) -> chart::ChartSolution {
        let cols = implicants::coverage(&self.pos, pis);
        chart::solve(
            &cols,
            self.pos.len(),
            self.opts.row_dom,
            self.opts.all_solutions,
            self.opts.max_models,
        )
    }

    fn membership(&self, t: &Term) -> std::rc::Rc<Vec<f64>> {
        self.memberships
            .borrow_mut()
            .entry(*t)
            .or_insert_with(|| std::rc::Rc::new(self.setup.term_membership(t)))
            .clone()
    }

    fn remainders_in(&self, terms: &[Term]) -> Option<Vec<u64>> {
        let mut rows: FxHashSet<u128> = FxHashSet::default();
        for t in terms {
            for r in t.rows(&self.levels, SA_LIMIT)? {
                if !self.fixed.contains(&r) {
                    rows.insert(r);
                }
            }
            if rows.len() > SA_LIMIT {
                return None;
            }
        }
        let mut v: Vec<u64> = rows.into_iter().map(|r| self.setup.row_number(r)).collect();
        v.sort_unstable();
        Some(v)
    }

    fn term_fits(&self, terms: &[Term], with_cases: bool) -> Vec<TermFit> {
        let y = &self.setup.outcome;
        let ms: Vec<std::rc::Rc<Vec<f64>>> = terms.iter().map(|t| self.membership(t)).collect();
        let slices: Vec<&[f64]> = ms.iter().map(|m| m.as_slice()).collect();
        let cu = fit::unique_coverage(&slices, y);
        terms
            .iter()
            .zip(&ms)
            .zip(cu)
            .map(|((t, m), cov_unique)| {
                let s = fit::sufficiency(m, y);
                let mut cases: Vec<usize> = if with_cases {
                    self.pos
                        .iter()
                        .filter(|&&r| t.covers(r))
                        .flat_map(|r| self.pos_cases.get(r).into_iter().flatten().copied())
                        .collect()
                } else {
                    Vec::new()
                };
                cases.sort_unstable();
                TermFit {
                    expression: self.setup.term_to_string(t),
                    incl: s.incl,
                    pri: s.pri,
                    cov: s.cov,
                    cov_unique,
                    cases: cases
                        .iter()
                        .map(|&i| self.setup.case_names[i].clone())
                        .collect(),
                    term: *t,
                }
            })
            .collect()
    }

    fn sorted(&self, mut terms: Vec<Term>) -> Vec<Term> {
        let k = self.setup.k();
        terms.sort_by_cached_key(|t| t.sort_key(k, self.setup.multi_value));
        terms
    }

    fn model_fit(&self, name: String, terms: &[Term]) -> ModelFit {
        let terms = self.sorted(terms.to_vec());
        let ms: Vec<std::rc::Rc<Vec<f64>>> = terms.iter().map(|t| self.membership(t)).collect();
        let refs: Vec<&[f64]> = ms.iter().map(|m| m.as_slice()).collect();
        let u = fit::union(&refs);
        let s = fit::sufficiency(&u, &self.setup.outcome);
        ModelFit {
            name,
            expression: terms
                .iter()
                .map(|t| self.setup.term_to_string(t))
                .collect::<Vec<_>>()
                .join(" + "),
            terms: self.term_fits(&terms, false),
            incl: s.incl,
            pri: s.pri,
            cov: s.cov,
            from: Vec::new(),
            simplifying_assumptions: None,
            easy_counterfactuals: None,
            difficult_counterfactuals: None,
        }
    }

    fn assemble(
        &self,
        kind: &'static str,
        models: Vec<ModelFit>,
        n_pis: usize,
        truncated: bool,
        exact: bool,
    ) -> Solution {
        let mut all: Vec<Term> = Vec::new();
        for m in &models {
            for t in &m.terms {
                if !all.contains(&t.term) {
                    all.push(t.term);
                }
            }
        }
        let all = self.sorted(all);
        let essential: Vec<String> = all
            .iter()
            .filter(|t| models.iter().all(|m| m.terms.iter().any(|x| x.term == **t)))
            .map(|t| self.setup.term_to_string(t))
            .collect();
        Solution {
            kind,
            terms: self.term_fits(&all, true),
            models,
            essential,
            prime_implicants: n_pis,
            truncated,
            exact,
        }
    }

    fn report(
        &self,
        kind: &'static str,
        pis: &[Term],
        ch: &chart::ChartSolution,
        sa: Option<&[Option<Vec<u64>>]>,
    ) -> Result<Solution> {
        let mut models = Vec::new();
        for (i, m) in ch.models.iter().enumerate() {
            let terms: Vec<Term> = m.iter().map(|&c| pis[c]).collect();
            let mut mf = self.model_fit(format!("M{}", i + 1), &terms);
            if let Some(sa) = sa {
                mf.simplifying_assumptions = sa[i].clone();
            }
            models.push(mf);
        }
        if models.is_empty() {
            return Err(QcaError::EmptyTruthTable(format!(
                "the {kind} solution has no model"
            )));
        }
        Ok(self.assemble(kind, models, pis.len(), ch.truncated, ch.exact))
    }

    fn intermediate(
        &self,
        cons: &Solution,
        pars: &Solution,
        exps: &[Expectation],
    ) -> Result<Solution> {
        let mut models: Vec<ModelFit> = Vec::new();
        let mut keys: Vec<Vec<Term>> = Vec::new();
        let mut n_pis = 0;
        let mut truncated = false;
        let mut exact = cons.exact && pars.exact;
        for (ci, cm) in cons.models.iter().enumerate() {
            for (pi, pm) in pars.models.iter().enumerate() {
                let mut bridges: Vec<Term> = Vec::new();
                for ct in cm.terms.iter().map(|t| t.term) {
                    let supers: Vec<Term> = pm
                        .terms
                        .iter()
                        .map(|t| t.term)
                        .filter(|p| p.includes(&ct))
                        .collect();
                    if supers.is_empty() {
                        bridges.push(ct);
                    }
                    for p in supers {
                        bridges.push(bridge(ct, p, exps));
                    }
                }
                let ec = self.remainders_in(&bridges).ok_or_else(|| {
                    QcaError::TooLarge("too many easy counterfactuals to enumerate".into())
                })?;
                let ec_codes: Vec<u128> = ec
                    .iter()
                    .filter_map(|&n| self.setup.code_from_number(n))
                    .collect();
                let (pis, ch) = self.solve_conservative(&ec_codes)?;
                n_pis = n_pis.max(pis.len());
                truncated |= ch.truncated;
                exact &= ch.exact;
                let label = format!("C{}P{}", ci + 1, pi + 1);
                let sa = pm.simplifying_assumptions.clone();
                for m in &ch.models {
                    let mut terms: Vec<Term> = m.iter().map(|&c| pis[c]).collect();
                    terms.sort();
                    if let Some(pos) = keys.iter().position(|k| *k == terms) {
                        models[pos].from.push(label.clone());
                        continue;
                    }
                    let mut mf = self.model_fit(String::new(), &terms);
                    mf.from.push(label.clone());
                    mf.difficult_counterfactuals = sa
                        .as_ref()
                        .map(|sa| sa.iter().copied().filter(|r| !ec.contains(r)).collect());
                    mf.easy_counterfactuals = Some(ec.clone());
                    keys.push(terms);
                    models.push(mf);
                }
            }
        }
        for (i, m) in models.iter_mut().enumerate() {
            m.name = format!("M{}", i + 1);
        }
        if models.is_empty() {
            return Err(QcaError::EmptyTruthTable(
                "the intermediate solution has no model".into(),
            ));
        }
        Ok(self.assemble("intermediate", models, n_pis, truncated, exact))
    }
}

/// The reference's `getEC` step: from a conservative term, drop the
/// literals the parsimonious term does without when a directional
/// expectation contradicts them. A conjunctural expectation (`~LIT*IND`)
/// is judged as a whole on the conditions it shares with the droppable ones.
fn bridge(c: Term, p: Term, exps: &[Expectation]) -> Term {
    let droppable = c.mask & !p.mask;
    let mut drop = 0u128;
    for e in exps {
        let shared: Vec<(usize, u8)> = e
            .iter()
            .copied()
            .filter(|&(j, _)| droppable >> (4 * j) & 1 == 1)
            .collect();
        if shared.is_empty() {
            continue;
        }
        let matches = shared
            .iter()
            .all(|&(j, v)| crate::sets::nibble(c.vals, j) == v);
        if !matches {
            for (j, _) in shared {
                drop |= 1u128 << (4 * j);
            }
        }
    }
    let mask = c.mask & !drop;
    Term {
        mask,
        vals: c.vals & crate::sets::spread(mask),
    }
}

/// Parses directional expectations: `A,B,~C`, conjunctions `~B*C`,
/// multi-value `X[1]`, or the positional form `1,1,0,-,1`.
pub fn parse_expectations(setup: &Setup, spec: &str) -> Result<Vec<Expectation>> {
    let opt = "--dir-exp";
    let items: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err(QcaError::option(opt, "no expectations given"));
    }
    if items.len() == setup.k() && items.iter().all(|s| matches!(*s, "0" | "1" | "-")) {
        return Ok(items
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != "-")
            .map(|(j, s)| vec![(j, u8::from(*s == "1"))])
            .collect());
    }
    let mut out = Vec::new();
    for item in items {
        let mut conj = Vec::new();
        for lit in item.split('*').map(str::trim) {
            conj.push(parse_literal(setup, lit, opt)?);
        }
        out.push(conj);
    }
    Ok(out)
}

/// One literal: `A`, `~A`, `A[2]` or `A{2}`.
pub fn parse_literal(setup: &Setup, lit: &str, opt: &str) -> Result<(usize, u8)> {
    let (neg, body) = match lit.strip_prefix('~') {
        Some(r) => (true, r.trim()),
        None => (false, lit),
    };
    let (name, value) = match body.find(['[', '{']) {
        Some(p) => {
            let close = if body.as_bytes()[p] == b'[' { ']' } else { '}' };
            let inner = body[p + 1..]
                .strip_suffix(close)
                .ok_or_else(|| QcaError::option(opt, format!("`{lit}`: unclosed bracket")))?;
            let v: u8 = inner
                .trim()
                .parse()
                .map_err(|_| QcaError::option(opt, format!("`{lit}`: `{inner}` is not a level")))?;
            (body[..p].trim(), Some(v))
        }
        None => (body, None),
    };
    let j = setup
        .conditions
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| QcaError::option(opt, format!("`{name}` is not one of the conditions")))?;
    let levels = setup.conditions[j].levels;
    let v = match (neg, value) {
        (false, None) => 1,
        (true, None) => 0,
        (false, Some(v)) => v,
        (true, Some(_)) => {
            return Err(QcaError::option(
                opt,
                format!("`{lit}`: write a level or a negation, not both"),
            ));
        }
    };
    if v >= levels {
        return Err(QcaError::option(
            opt,
            format!("`{lit}`: `{name}` has levels 0..{}", levels - 1),
        ));
    }
    Ok((j, v))
}

/// Parses a sum of products such as `DEV*~IND + URB*STB`.
pub fn parse_expression(setup: &Setup, expr: &str, opt: &str) -> Result<Vec<Term>> {
    expr.split('+')
        .map(|product| {
            let mut mask = 0u128;
            let mut vals = 0u128;
            for lit in product.split('*').map(str::trim) {
                let (j, v) = parse_literal(setup, lit, opt)?;
                if mask >> (4 * j) & 1 == 1 {
                    return Err(QcaError::option(
                        opt,
                        format!("`{}` names a condition twice", product.trim()),
                    ));
                }
                mask |= 1u128 << (4 * j);
                vals |= u128::from(v) << (4 * j);
            }
            Ok(Term { mask, vals })
        })
        .collect()
}
