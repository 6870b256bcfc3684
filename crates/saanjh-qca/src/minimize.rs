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

/// A directional expectation: a conjunction of (condition, expected
/// values), the values as a bit set (bit v for level v), so that a
/// multi-value condition may be expected at several levels (`DEV[1,2]`).
pub type Expectation = Vec<(usize, u16)>;

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
    /// `pi.cons`: prime implicants with sufficiency inclusion below this are
    /// not used (0 keeps all).
    pub pi_cons: f64,
    /// `sol.cons`: models with inclusion below this are dropped.
    pub sol_cons: f64,
    /// `sol.cov`: models with coverage below this are dropped.
    pub sol_cov: f64,
    /// Among equally small models keep only those with the fewest literals
    /// (off by default: the reference reports every minimal model).
    pub tie_break_literals: bool,
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
            pi_cons: 0.0,
            sol_cons: 0.0,
            sol_cov: 0.0,
            tie_break_literals: false,
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
    /// Each term's own fit, computed once however many models share it.
    sufficiencies: std::cell::RefCell<FxHashMap<Term, fit::Sufficiency>>,
    opts: &'a MinimizeOptions,
}

pub fn minimize(setup: &Setup, tt: &TruthTable, opts: &MinimizeOptions) -> Result<Minimization> {
    for (name, v) in [
        ("--pi-cons", opts.pi_cons),
        ("--sol-cons", opts.sol_cons),
        ("--sol-cov", opts.sol_cov),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(QcaError::option(name, format!("{v} is outside [0, 1]")));
        }
    }
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
        sufficiencies: Default::default(),
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
        let pars_pis = ctx.consistent_pis(pars_pis);
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
        let pis = self.consistent_pis(pis);
        let ch = self.chart(&pis);
        Ok((pis, ch))
    }

    /// `pi.cons`: keeps the prime implicants whose sufficiency inclusion
    /// reaches the cut-off.
    fn consistent_pis(&self, pis: Vec<Term>) -> Vec<Term> {
        if self.opts.pi_cons <= 0.0 {
            return pis;
        }
        // Memberships are computed here without being cached: a noisy
        // chart can hold thousands of PIs that no model uses.
        pis.into_iter()
            .filter(|t| {
                let s = fit::sufficiency(&self.setup.term_membership(t), &self.setup.outcome);
                crate::truth_table::at_least(s.incl, self.opts.pi_cons)
            })
            .collect()
    }

    /// The optional literal tie-break, then `sol.cons` and `sol.cov`: keeps
    /// the models that reach both, numbered afresh; an error naming the
    /// options when none does.
    fn keep_fitting(&self, kind: &str, models: Vec<ModelFit>) -> Result<Vec<ModelFit>> {
        let models = if self.opts.tie_break_literals {
            let lits = |m: &ModelFit| m.terms.iter().map(|t| t.term.n_literals()).sum::<u32>();
            let fewest = models.iter().map(lits).min().unwrap_or(0);
            let mut kept: Vec<ModelFit> =
                models.into_iter().filter(|m| lits(m) == fewest).collect();
            for (i, m) in kept.iter_mut().enumerate() {
                m.name = format!("M{}", i + 1);
            }
            kept
        } else {
            models
        };
        let (sc, sv) = (self.opts.sol_cons, self.opts.sol_cov);
        if sc <= 0.0 && sv <= 0.0 {
            return Ok(models);
        }
        let total = models.len();
        let mut kept: Vec<ModelFit> = models
            .into_iter()
            .filter(|m| {
                crate::truth_table::at_least(m.incl, sc) && crate::truth_table::at_least(m.cov, sv)
            })
            .collect();
        if kept.is_empty() {
            return Err(QcaError::EmptyTruthTable(format!(
                "none of the {total} {kind} model(s) reaches sol.cons = {sc} and sol.cov = {sv}"
            )));
        }
        for (i, m) in kept.iter_mut().enumerate() {
            m.name = format!("M{}", i + 1);
        }
        Ok(kept)
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

    fn term_fits(&self, terms: &[Term], with_cases: bool, cu: Option<Vec<f64>>) -> Vec<TermFit> {
        let y = &self.setup.outcome;
        let ms: Vec<std::rc::Rc<Vec<f64>>> = terms.iter().map(|t| self.membership(t)).collect();
        let cu = cu.unwrap_or_else(|| {
            let slices: Vec<&[f64]> = ms.iter().map(|m| m.as_slice()).collect();
            fit::unique_coverage(&slices, y)
        });
        terms
            .iter()
            .zip(&ms)
            .zip(cu)
            .map(|((t, m), cov_unique)| {
                let s = *self
                    .sufficiencies
                    .borrow_mut()
                    .entry(*t)
                    .or_insert_with(|| fit::sufficiency(m, y));
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
        let (s, cu) = fit::expression_fit(&refs, &self.setup.outcome);
        ModelFit {
            name,
            expression: terms
                .iter()
                .map(|t| self.setup.term_to_string(t))
                .collect::<Vec<_>>()
                .join(" + "),
            terms: self.term_fits(&terms, false, Some(cu)),
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
            terms: self.term_fits(&all, true, None),
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
            return Err(QcaError::EmptyTruthTable(if self.opts.pi_cons > 0.0 {
                format!(
                    "the {kind} solution has no model: the prime implicants with inclusion of at least \
                     pi.cons = {} do not cover every explained row",
                    self.opts.pi_cons
                )
            } else {
                format!("the {kind} solution has no model")
            }));
        }
        let models = self.keep_fitting(kind, models)?;
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
        let models = self.keep_fitting("intermediate", models)?;
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
        let shared: Vec<(usize, u16)> = e
            .iter()
            .copied()
            .filter(|&(j, _)| droppable >> (4 * j) & 1 == 1)
            .collect();
        if shared.is_empty() {
            continue;
        }
        let matches = shared
            .iter()
            .all(|&(j, vs)| vs >> crate::sets::nibble(c.vals, j) & 1 == 1);
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
/// ranges of conditions in column order `DEV:STB` (each expected present)
/// or `~DEV:~STB` (each absent), multi-value `X[1]` or several levels
/// `X[1,2]`, or the positional form `1,1,0,-,1`.
pub fn parse_expectations(setup: &Setup, spec: &str) -> Result<Vec<Expectation>> {
    let opt = "--dir-exp";
    let items = split_top(spec);
    if items.is_empty() {
        return Err(QcaError::option(opt, "no expectations given"));
    }
    if items.len() == setup.k() && items.iter().all(|s| matches!(*s, "0" | "1" | "-")) {
        return Ok(items
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != "-")
            .map(|(j, s)| vec![(j, 1u16 << u8::from(*s == "1"))])
            .collect());
    }
    let mut out: Vec<Expectation> = Vec::new();
    for item in items {
        if let Some((a, b)) = item.split_once(':') {
            let (na, a) = strip_not(a.trim());
            let (nb, b) = strip_not(b.trim());
            if na != nb {
                return Err(QcaError::option(
                    opt,
                    format!("`{item}`: negate both ends of a range or neither"),
                ));
            }
            let pos = |name: &str| {
                setup
                    .conditions
                    .iter()
                    .position(|c| c.name == name)
                    .ok_or_else(|| {
                        QcaError::option(opt, format!("`{name}` is not one of the conditions"))
                    })
            };
            let (ja, jb) = (pos(a)?, pos(b)?);
            if ja > jb {
                return Err(QcaError::option(
                    opt,
                    format!("`{item}`: `{a}` comes after `{b}` among the conditions"),
                ));
            }
            for j in ja..=jb {
                if setup.conditions[j].levels > 2 {
                    return Err(QcaError::option(
                        opt,
                        format!(
                            "`{item}`: `{}` is multi-value; name its expected levels, e.g. {}[1]",
                            setup.conditions[j].name, setup.conditions[j].name
                        ),
                    ));
                }
                out.push(vec![(j, if na { 1 } else { 2 })]);
            }
            continue;
        }
        let mut conj: Expectation = Vec::new();
        for lit in item.split('*').map(str::trim) {
            let (j, vs) = parse_expected_literal(setup, lit, opt)?;
            if conj.iter().any(|&(c, _)| c == j) {
                return Err(QcaError::option(
                    opt,
                    format!("`{item}` names a condition twice"),
                ));
            }
            conj.push((j, vs));
        }
        out.push(conj);
    }
    Ok(out)
}

fn strip_not(s: &str) -> (bool, &str) {
    match s.strip_prefix('~') {
        Some(r) => (true, r.trim()),
        None => (false, s),
    }
}

/// Splits on commas outside brackets, so `DEV[1,2], STB` is two items.
fn split_top(spec: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, ch) in spec.char_indices() {
        match ch {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(spec[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(spec[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// An expected literal: `A`, `~A`, or `X[v]` / `X[v1,v2]` (as a bit set).
fn parse_expected_literal(setup: &Setup, lit: &str, opt: &str) -> Result<(usize, u16)> {
    if let Some(p) = lit.find(['[', '{'])
        && lit[p..].contains(',')
    {
        let close = if lit.as_bytes()[p] == b'[' { ']' } else { '}' };
        let inner = lit[p + 1..]
            .trim_end()
            .strip_suffix(close)
            .ok_or_else(|| QcaError::option(opt, format!("`{lit}`: unclosed bracket")))?;
        let mut set = 0u16;
        let mut j = 0;
        for v in inner.split(',') {
            let one = format!("{}[{}]", &lit[..p], v.trim());
            let (jj, vv) = parse_literal(setup, &one, opt)?;
            j = jj;
            set |= 1 << vv;
        }
        return Ok((j, set));
    }
    let (j, v) = parse_literal(setup, lit, opt)?;
    Ok((j, 1 << v))
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
