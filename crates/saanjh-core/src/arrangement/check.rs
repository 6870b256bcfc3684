//! Validation of an arrangement beyond its TOML shape: every name a rule
//! uses exists, every condition parses and evaluates to true/false over the
//! declared facts, every stage has a way out, shares add up.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::ops::Range;

use serde::Serialize;
use toml::Spanned;

use super::file::*;
use crate::facts::{self, SampleKeys, Scope};

/// A finding with its place in the file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn at_span(source: &str, span: Option<Range<usize>>, message: String) -> Diagnostic {
        let offset = span.map(|s| s.start).unwrap_or(0).min(source.len());
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        Diagnostic {
            line,
            column,
            message: message.trim().to_string(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

struct Checker<'a> {
    source: &'a str,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn err<T>(&mut self, at: &Spanned<T>, msg: impl Into<String>) {
        self.errors.push(Diagnostic::at_span(
            self.source,
            Some(at.span()),
            msg.into(),
        ));
    }
    fn err_top(&mut self, needle: &str, msg: impl Into<String>) {
        let span = self.source.find(needle).map(|s| s..s);
        self.errors
            .push(Diagnostic::at_span(self.source, span, msg.into()));
    }
    fn warn_top(&mut self, needle: &str, msg: impl Into<String>) {
        let span = self.source.find(needle).map(|s| s..s);
        self.warnings
            .push(Diagnostic::at_span(self.source, span, msg.into()));
    }
}

pub(super) fn check(
    file: &ArrangementFile,
    source: &str,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let mut c = Checker {
        source,
        errors: vec![],
        warnings: vec![],
    };
    let h = &file.arrangement;
    if h.id.is_empty()
        || !h
            .id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
    {
        c.err_top(
            "id",
            format!(
                "arrangement id `{}` must be lowercase letters, digits and dashes",
                h.id
            ),
        );
    }
    if h.version == 0 {
        c.err_top("version", "version numbers start at 1");
    }
    if h.currency.len() != 3 || !h.currency.chars().all(|ch| ch.is_ascii_uppercase()) {
        c.err_top(
            "currency",
            format!(
                "currency `{}` must be an ISO 4217 code such as PKR",
                h.currency
            ),
        );
    }

    // Boundary and position rules.
    if file.partners.is_empty() {
        c.err_top(
            "[arrangement]",
            "an arrangement needs at least one partner role",
        );
    }
    let roles: BTreeSet<&str> = file.partners.keys().map(String::as_str).collect();
    for (role, p) in &file.partners {
        if p.kinds.is_empty() {
            c.err_top(
                &format!("[partners.{role}]"),
                format!("partner role `{role}` lists no organisation kinds"),
            );
        }
        if let Some(req) = &p.requires {
            check_condition(
                &mut c,
                req,
                Scope::Boundary,
                &SampleKeys::default(),
                &format!("partner role `{role}`"),
            );
        }
    }
    for name in file.positions.keys() {
        match name.split_once('.') {
            Some((role, local)) if roles.contains(role) && !local.is_empty() && !local.contains('.') => {}
            _ => c.err_top(
                &format!("\"{name}\""),
                format!("position `{name}` must be written `role.position` with a role from [partners] ({})", join(&roles)),
            ),
        }
    }
    for (name, p) in &file.positions {
        if let (Some(min), Some(max)) = (p.min, p.max)
            && min > max
        {
            c.err_top(
                &format!("\"{name}\""),
                format!("position `{name}`: min {min} is more than max {max}"),
            );
        }
    }
    let positions: BTreeSet<&str> = file.positions.keys().map(String::as_str).collect();
    let position_ok = |name: &str| {
        if let Some(role) = name.strip_suffix(".*") {
            roles.contains(role)
        } else {
            positions.contains(name)
        }
    };

    // Lifecycle.
    let mut stages: BTreeSet<&str> = BTreeSet::new();
    for s in &file.lifecycle.stages {
        if !stages.insert(s.as_ref()) {
            c.err(s, format!("stage `{}` is listed twice", s.as_ref()));
        }
    }
    if stages.is_empty() {
        c.err_top("[lifecycle]", "the lifecycle lists no stages");
    }
    for s in file
        .lifecycle
        .final_stages
        .iter()
        .chain(&file.lifecycle.executing)
    {
        if !stages.contains(s.as_ref().as_str()) {
            c.err(
                s,
                format!(
                    "`{}` is not a stage of the lifecycle ({})",
                    s.as_ref(),
                    join(&stages)
                ),
            );
        }
    }

    // Actions.
    let creating: Vec<&String> = file
        .actions
        .iter()
        .filter(|(_, a)| a.creates())
        .map(|(k, _)| k)
        .collect();
    if creating.len() != 1 {
        c.err_top(
            "[actions",
            format!(
                "exactly one action must create a scheme (a `to` stage and no `from`); found {}",
                if creating.is_empty() {
                    "none".to_string()
                } else {
                    creating
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        );
    }
    for (id, a) in &file.actions {
        for s in a.from.iter().chain(a.to.iter()) {
            if !stages.contains(s.as_ref().as_str()) {
                c.err(
                    s,
                    format!(
                        "action `{id}` names stage `{}`, which is not in the lifecycle ({})",
                        s.as_ref(),
                        join(&stages)
                    ),
                );
            }
        }
        if let Some(to) = &a.to
            && a.from.iter().any(|f| f.as_ref() == to.as_ref())
        {
            c.err(to, format!("action `{id}` moves a scheme from `{}` to itself; leave out `to` for an act that records without moving", to.as_ref()));
        }
        if !file
            .rules
            .iter()
            .any(|r| r.aim.as_ref() == id && r.deontic != Deontic::MustNot)
        {
            c.err_top(
                &format!("[actions.{id}]"),
                format!("no `may` or `must` rule lets anyone {} (`{id}`)", a.name),
            );
        }
    }
    // Every stage that is not final needs a way out; every stage should be reachable.
    for s in &file.lifecycle.stages {
        let st = s.as_ref().as_str();
        let is_final = file.lifecycle.final_stages.iter().any(|f| f.as_ref() == st);
        let has_exit = file
            .actions
            .values()
            .any(|a| a.to.is_some() && a.from.iter().any(|f| f.as_ref() == st))
            || file.rules.iter().any(|r| {
                r.or_else
                    .as_ref()
                    .and_then(|o| o.transition.as_ref())
                    .is_some()
                    && r.deontic == Deontic::Must
                    && rule_stage_names(file, r).contains(&st)
            });
        if !is_final && !has_exit {
            c.err(s, format!("stage `{st}` has no way out: no action moves a scheme from it and it is not listed as final"));
        }
        if is_final
            && file
                .actions
                .values()
                .any(|a| a.to.is_some() && a.from.iter().any(|f| f.as_ref() == st))
        {
            c.err(
                s,
                format!("stage `{st}` is final, but an action moves schemes out of it"),
            );
        }
    }
    if let Some(start) = file
        .actions
        .values()
        .find(|a| a.creates())
        .and_then(|a| a.to.as_ref())
    {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut queue = VecDeque::from([start.as_ref().as_str()]);
        while let Some(st) = queue.pop_front() {
            if !seen.insert(st) {
                continue;
            }
            for a in file.actions.values() {
                if let Some(to) = &a.to
                    && a.from.iter().any(|f| f.as_ref() == st)
                {
                    queue.push_back(to.as_ref());
                }
            }
            for r in &file.rules {
                if let Some(t) = r.or_else.as_ref().and_then(|o| o.transition.as_ref())
                    && rule_stage_names(file, r).contains(&st)
                {
                    queue.push_back(t.as_ref());
                }
            }
        }
        for s in &file.lifecycle.stages {
            if !seen.contains(s.as_ref().as_str()) {
                c.err(
                    s,
                    format!(
                        "stage `{}` cannot be reached from `{}`",
                        s.as_ref(),
                        start.as_ref()
                    ),
                );
            }
        }
    }

    // Choice rules.
    let keys = SampleKeys {
        roles: roles.iter().map(|s| s.to_string()).collect(),
        positions: positions.iter().map(|s| s.to_string()).collect(),
        actions: file.actions.keys().cloned().collect(),
        stages: stages.iter().map(|s| s.to_string()).collect(),
    };
    let mut ids = BTreeSet::new();
    for r in &file.rules {
        let label = format!("rule `{}`", r.id);
        if !ids.insert(r.id.as_str()) {
            c.err(
                &r.attribute,
                format!("{label}: another rule has the same id"),
            );
        }
        if !position_ok(r.attribute.as_ref()) {
            c.err(
                &r.attribute,
                format!(
                    "{label}: `{}` is not a position of this arrangement ({})",
                    r.attribute.as_ref(),
                    join(&positions)
                ),
            );
        }
        let action = file.actions.get(r.aim.as_ref());
        if action.is_none() {
            let known: BTreeSet<&str> = file.actions.keys().map(String::as_str).collect();
            c.err(
                &r.aim,
                format!(
                    "{label}: `{}` is not an action of this arrangement ({})",
                    r.aim.as_ref(),
                    join(&known)
                ),
            );
        }
        if let (Some(list), Some(a)) = (&r.stages, action) {
            for s in list {
                if !stages.contains(s.as_ref().as_str()) {
                    c.err(s, format!("{label}: `{}` is not a stage", s.as_ref()));
                } else if !a.allowed_in(s.as_ref()) && !a.creates() {
                    c.err(
                        s,
                        format!(
                            "{label}: action `{}` is not possible in stage `{}`",
                            r.aim.as_ref(),
                            s.as_ref()
                        ),
                    );
                }
            }
        }
        if let Some(cond) = &r.condition {
            check_condition(&mut c, cond, Scope::Scheme, &keys, &label);
        }
        match (r.deontic, r.within, &r.or_else) {
            (Deontic::Must, None, _) if action.is_some_and(|a| !a.creates()) => {
                c.warnings.push(Diagnostic::at_span(
                    source,
                    Some(r.attribute.span()),
                    format!(
                        "{label}: a `must` without `within` creates no obligation with a deadline"
                    ),
                ))
            }
            (Deontic::MustNot | Deontic::May, Some(_), _) => c.err(
                &r.attribute,
                format!("{label}: only a `must` rule can set a deadline with `within`"),
            ),
            (Deontic::MustNot | Deontic::May, _, Some(_)) => c.err(
                &r.attribute,
                format!("{label}: only a `must` rule has an or-else consequence"),
            ),
            _ => {}
        }
        if r.deontic == Deontic::Must && action.is_some_and(|a| a.creates()) && r.within.is_some() {
            c.err(
                &r.aim,
                format!("{label}: a deadline cannot run before the scheme exists"),
            );
        }
        if let Some(o) = &r.or_else {
            if let Some(p) = &o.escalate_to
                && !position_ok(p.as_ref())
            {
                c.err(
                    p,
                    format!(
                        "{label}: cannot escalate to `{}`, which is not a position",
                        p.as_ref()
                    ),
                );
            }
            if let Some(t) = &o.transition
                && !stages.contains(t.as_ref().as_str())
            {
                c.err(
                    t,
                    format!(
                        "{label}: or-else moves to `{}`, which is not a stage",
                        t.as_ref()
                    ),
                );
            }
            if o.escalate_to.is_none() && o.transition.is_none() && o.penalty.is_none() {
                c.err(
                    &r.attribute,
                    format!("{label}: or_else must escalate, transition, or state a penalty"),
                );
            }
        }
    }

    // Aggregation rules.
    for (action, agg) in &file.aggregation {
        if !file.actions.contains_key(action) {
            c.err_top(
                &format!("[aggregation.{action}]"),
                format!("aggregation rule for `{action}`, which is not an action"),
            );
        }
        match (&agg.signatures, &agg.resolution) {
            (Some(_), Some(_)) | (None, None) => c.err_top(
                &format!("[aggregation.{action}]"),
                format!(
                    "aggregation rule for `{action}` must give either signatures or a resolution"
                ),
            ),
            _ => {}
        }
        if let Some(sig) = &agg.signatures {
            let of: BTreeSet<&str> = sig.of.iter().map(|s| s.as_ref().as_str()).collect();
            for p in &sig.of {
                if !position_ok(p.as_ref()) {
                    c.err(p, format!("signatory `{}` is not a position", p.as_ref()));
                }
            }
            for p in &sig.must_include {
                if !of.contains(p.as_ref().as_str()) {
                    c.err(
                        p,
                        format!(
                            "`{}` must sign but is not among the signatories",
                            p.as_ref()
                        ),
                    );
                }
            }
            let n = sig.at_least.unwrap_or(sig.of.len() as u32);
            if n == 0 || n as usize > sig.of.len() {
                c.err_top(
                    &format!("[aggregation.{action}]"),
                    format!(
                        "`{action}` needs {n} signatures of {} signatories",
                        sig.of.len()
                    ),
                );
            }
        }
        if let Some(res) = &agg.resolution {
            if !roles.contains(res.body.as_ref().as_str()) {
                c.err(
                    &res.body,
                    format!(
                        "meeting body `{}` is not a partner role ({})",
                        res.body.as_ref(),
                        join(&roles)
                    ),
                );
            }
            if let Err(e) = parse_percent(res.quorum.as_ref()) {
                c.err(&res.quorum, e);
            }
        }
    }

    // Scope and payoff rules.
    for (kind, comp) in &file.components {
        if !roles.contains(comp.delivered_by.as_ref().as_str()) {
            c.err(
                &comp.delivered_by,
                format!(
                    "component `{kind}` is delivered by `{}`, which is not a partner role",
                    comp.delivered_by.as_ref()
                ),
            );
        }
    }
    check_services(&mut c, file, &roles);
    for (kind, shares) in &file.payoff {
        if kind != "*" && !file.components.contains_key(kind) {
            c.err_top(
                &format!("[payoff.{kind}]"),
                format!("payoff for `{kind}`, which is not a component kind"),
            );
        }
        let (mut lo, mut hi) = (0u32, 0u32);
        for (role, share) in shares {
            if !roles.contains(role.as_str()) {
                c.err_top(
                    &format!("[payoff.{kind}]"),
                    format!("payoff for `{kind}` names `{role}`, which is not a partner role"),
                );
            }
            let at = format!("[payoff.{kind}]");
            let pct = |c: &mut Checker, text: &str, default: u32| match parse_percent(text) {
                Ok(v) => v,
                Err(e) => {
                    c.err_top(&at, format!("payoff for `{kind}`, `{role}`: {e}"));
                    default
                }
            };
            match share {
                ShareSpec::Exactly(s) => {
                    let bp = pct(&mut c, s, 0);
                    lo += bp;
                    hi += bp;
                }
                ShareSpec::Range(r) => {
                    let min = r
                        .at_least
                        .as_deref()
                        .map(|s| pct(&mut c, s, 0))
                        .unwrap_or(0);
                    let max = r
                        .at_most
                        .as_deref()
                        .map(|s| pct(&mut c, s, 10_000))
                        .unwrap_or(10_000);
                    if min > max {
                        c.err_top(
                            &at,
                            format!("`{role}`'s share of `{kind}` is at least more than at most"),
                        );
                    }
                    if let Some(b) = &r.before
                        && !file.actions.contains_key(b)
                    {
                        c.err_top(&at, format!("`before = \"{b}\"` is not an action"));
                    }
                    lo += min;
                    hi += max;
                }
            }
        }
        if lo > 10_000 || hi < 10_000 {
            c.err_top(
                &format!("[payoff.{kind}]"),
                format!(
                    "the shares of `{kind}` do not add up to 100%: they can cover {}% to {}%",
                    lo as f64 / 100.0,
                    hi.min(99_999) as f64 / 100.0
                ),
            );
        }
    }
    for kind in file.components.keys() {
        if !file.payoff.contains_key(kind) && !file.payoff.contains_key("*") {
            c.warn_top(
                &format!("[components.{kind}]"),
                format!("no payoff rule says who pays for `{kind}`"),
            );
        }
    }

    // Information rules.
    for (record, vis) in &file.information {
        if let Visibility::Positions(list) = vis {
            for p in list {
                if !position_ok(p) {
                    c.err_top(
                        &format!("{record} ="),
                        format!(
                            "information rule for `{record}` names `{p}`, which is not a position"
                        ),
                    );
                }
            }
        }
    }

    // The reserve (the government side of the payoff rules).
    if let Some(r) = &file.reserve {
        match file.partners.get(r.held_by.as_ref()) {
            None => c.err(
                &r.held_by,
                format!(
                    "the reserve is held by `{}`, which is not a partner role ({})",
                    r.held_by.as_ref(),
                    join(&roles)
                ),
            ),
            Some(p) if !p.kinds.contains(&crate::model::OrgKind::Public) => {
                c.warn_top(
                    "[reserve]",
                    format!(
                        "the reserve is held by `{}`, which no public organisation can fill",
                        r.held_by.as_ref()
                    ),
                );
            }
            Some(_) => {}
        }
        if let Some(share) = &r.share_of_development_budget
            && let Err(e) = parse_percent(share.as_ref())
        {
            c.err(share, format!("share_of_development_budget: {e}"));
        }
        let releases = file
            .actions
            .values()
            .any(|a| a.records == Some(RecordKind::Release));
        if !releases {
            c.warn_top(
                "[reserve]",
                "a reserve is declared but no action records a release from it",
            );
        }
    }

    // Spending rules (where money spent on a component may come from).
    for (kind, rule) in &file.spending {
        let head = format!("[spending.{kind}]");
        let head = if kind == "*" {
            "[spending.\"*\"]".to_string()
        } else {
            head
        };
        if kind != "*" && !file.components.contains_key(kind) {
            c.err_top(
                &head,
                format!(
                    "spending rule for `{kind}`, which is not a component kind ({})",
                    file.components
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        for r in &rule.contributions_of {
            if !file.partners.contains_key(r.as_ref()) {
                c.err(
                    r,
                    format!(
                        "contributions_of names `{}`, which is not a partner role ({})",
                        r.as_ref(),
                        join(&roles)
                    ),
                );
            }
        }
        if let Some(o) = &rule.overspend
            && let Err(e) = parse_percent(o.as_ref())
        {
            c.err(o, format!("overspend: {e}"));
        }
        if rule.contributions_of.is_empty() && rule.overspend.is_none() {
            c.warn_top(
                &head,
                format!(
                    "the spending rule for `{kind}` allows nothing beyond releases: give `contributions_of` or `overspend`, or remove it"
                ),
            );
        }
    }
    if !file.spending.is_empty()
        && !file
            .actions
            .values()
            .any(|a| a.records == Some(RecordKind::Expenditure))
    {
        c.warn_top(
            "[spending",
            "spending rules are given but no action records an expenditure",
        );
    }

    // A position nobody's rule mentions is probably a mistake.
    let mentioned: BTreeSet<&str> = file
        .rules
        .iter()
        .map(|r| r.attribute.as_ref().as_str())
        .chain(file.aggregation.values().flat_map(|a| {
            a.signatures
                .iter()
                .flat_map(|s| s.of.iter().map(|p| p.as_ref().as_str()))
        }))
        .chain(file.rules.iter().filter_map(|r| {
            r.or_else
                .as_ref()?
                .escalate_to
                .as_ref()
                .map(|p| p.as_ref().as_str())
        }))
        .collect();
    let by_role: BTreeMap<&str, ()> = mentioned
        .iter()
        .filter_map(|m| m.strip_suffix(".*"))
        .map(|r| (r, ()))
        .collect();
    for p in &positions {
        let role = p.split('.').next().unwrap_or_default();
        if !mentioned.contains(p) && !by_role.contains_key(role) {
            c.warn_top(
                &format!("\"{p}\""),
                format!("no rule mentions position `{p}`"),
            );
        }
    }

    check_indicators(&mut c, file, &keys);

    if c.errors.is_empty() {
        Ok(c.warnings)
    } else {
        Err(c.errors)
    }
}

/// The arrangement's own indicators: a well-formed name that is not a
/// built-in indicator's, a condition of the diagnosis, an expression that
/// parses, names only known facts and gives a number, a `when` that is a
/// condition, and anchors in order.
fn check_indicators(c: &mut Checker, file: &ArrangementFile, keys: &SampleKeys) {
    use crate::diagnosis::{CONDITIONS, OUTCOME, indicators::BUILT_IN_INDICATORS};
    for (name, ind) in &file.indicators {
        let label = format!("indicator `{name}`");
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        {
            c.err_top(
                &format!("[indicators.{name}]"),
                format!("{label}: a name is lowercase letters, digits and underscores"),
            );
        }
        let cond = ind.condition.as_ref().as_str();
        if !CONDITIONS.contains(&cond) && cond != OUTCOME {
            c.err(
                &ind.condition,
                format!(
                    "{label}: `{cond}` is not a condition of the diagnosis ({}, or the outcome {OUTCOME})",
                    CONDITIONS.join(", ")
                ),
            );
        } else if BUILT_IN_INDICATORS.contains(&format!("{cond}.{name}").as_str()) {
            c.err_top(
                &format!("[indicators.{name}]"),
                format!(
                    "{label}: `{cond}.{name}` is a built-in indicator; give this one another name"
                ),
            );
        }
        if ind.definition.trim().is_empty() || ind.name.trim().is_empty() {
            c.err_top(
                &format!("[indicators.{name}]"),
                format!("{label}: give it a name and a definition a partner can read"),
            );
        }
        if !matches!(ind.unit.as_str(), "share" | "days" | "count" | "per_scheme") {
            c.err_top(
                &format!("[indicators.{name}]"),
                format!(
                    "{label}: unit `{}`: use share, days, count or per_scheme",
                    ind.unit
                ),
            );
        }
        match facts::compile(ind.expression.as_ref(), Scope::Scheme) {
            Err(e) => c.err(
                &ind.expression,
                format!("{label}: expression `{}`: {e}", ind.expression.as_ref()),
            ),
            Ok(program) => {
                // Large sample values keep a ratio finite; strict keys catch
                // a misspelt role or action.
                let sample = facts::sample(keys, true);
                if let Err(e) = facts::evaluate_number(&program, &sample, Scope::Scheme, true) {
                    c.err(
                        &ind.expression,
                        format!("{label}: expression `{}`: {e}", ind.expression.as_ref()),
                    );
                }
            }
        }
        if let Some(when) = &ind.applies {
            check_condition(c, when, Scope::Scheme, keys, &format!("{label}, `applies`"));
        }
        if let Some(a) = &ind.anchors {
            let msg = match a.as_ref()[..] {
                [e, x, i] => crate::diagnosis::Anchors::new(e, x, i).err(),
                _ => Some("give three anchors: [exclusion, crossover, inclusion]".into()),
            };
            if let Some(m) = msg {
                c.err(a, format!("{label}: anchors: {m}"));
            }
        }
    }
}

fn rule_stage_names<'a>(file: &'a ArrangementFile, r: &'a ChoiceRule) -> Vec<&'a str> {
    match &r.stages {
        Some(s) => s.iter().map(|s| s.as_ref().as_str()).collect(),
        None => file
            .actions
            .get(r.aim.as_ref())
            .map(|a| a.from.iter().map(|s| s.as_ref().as_str()).collect())
            .unwrap_or_default(),
    }
}

fn check_condition(
    c: &mut Checker,
    cond: &Spanned<String>,
    scope: Scope,
    keys: &SampleKeys,
    label: &str,
) {
    for high in [false, true] {
        let sample = facts::sample(keys, high);
        if let Err(e) = facts::evaluate(cond.as_ref(), &sample, scope, true) {
            c.err(cond, format!("{label}: condition `{}`: {e}", cond.as_ref()));
            return;
        }
    }
}

fn join(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(", ")
}

/// Citizen-report services: codes unique and well formed, list attributes
/// with their answers, and for every component with services a response
/// action that some position of its delivering role may take — otherwise a
/// report would be routed to a role nobody in which can answer it.
fn check_services(c: &mut Checker, file: &ArrangementFile, roles: &BTreeSet<&str>) {
    let mut codes: BTreeSet<&str> = BTreeSet::new();
    let response: Vec<(&String, &ActionDef)> = file
        .actions
        .iter()
        .filter(|(_, a)| a.records == Some(RecordKind::Response))
        .collect();
    for (id, a) in &response {
        if a.to.is_some() || !a.from.is_empty() {
            c.err_top(
                &format!("[actions.{id}]"),
                format!("action `{id}` records a response to a report; it cannot be tied to stages (leave out `from` and `to`)"),
            );
        }
    }
    if response.len() > 1 {
        c.err_top(
            "records = \"response\"",
            "only one action may record responses to reports",
        );
    }
    for (id, a) in &file.actions {
        if a.records == Some(RecordKind::Scorecard) && (a.to.is_some() || !a.from.is_empty()) {
            c.err_top(
                &format!("[actions.{id}]"),
                format!("action `{id}` records scorecards; it cannot be tied to stages (leave out `from` and `to`)"),
            );
        }
    }
    for (kind, comp) in &file.components {
        for s in &comp.services {
            let code = s.code.as_ref();
            if code.is_empty()
                || !code
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            {
                c.err(
                    &s.code,
                    format!("service code `{code}` must be lowercase letters, digits and _"),
                );
            }
            if !codes.insert(code) {
                c.err(&s.code, format!("service code `{code}` is used twice"));
            }
            if s.name.trim().is_empty() {
                c.err(&s.code, format!("service `{code}` needs a name"));
            }
            let mut attrs = BTreeSet::new();
            for at in &s.attributes {
                if !attrs.insert(at.code.as_str()) {
                    c.err(
                        &s.code,
                        format!("service `{code}` has attribute `{}` twice", at.code),
                    );
                }
                if at.datatype.is_list() && at.values.is_empty() {
                    c.err(
                        &s.code,
                        format!(
                            "service `{code}`: attribute `{}` is a {} but lists no values",
                            at.code,
                            at.datatype.as_str()
                        ),
                    );
                }
                if !at.datatype.is_list() && !at.values.is_empty() {
                    c.err(
                        &s.code,
                        format!(
                            "service `{code}`: attribute `{}` lists values but is a {}",
                            at.code,
                            at.datatype.as_str()
                        ),
                    );
                }
            }
        }
        if comp.services.is_empty() {
            continue;
        }
        let role = comp.delivered_by.as_ref().as_str();
        let Some((action, _)) = response.first() else {
            c.err_top(
                &format!("[components.{kind}]"),
                format!("component `{kind}` has report services, but no action records a response (records = \"response\")"),
            );
            continue;
        };
        let answerable = roles.contains(role)
            && file.rules.iter().any(|r| {
                r.aim.as_ref() == *action
                    && r.deontic != Deontic::MustNot
                    && r.attribute.as_ref().split_once('.').map(|(x, _)| x) == Some(role)
            });
        if !answerable {
            c.err_top(
                &format!("[components.{kind}]"),
                format!("reports about `{kind}` go to `{role}` (its scope rule), but no rule lets a `{role}` position {action}"),
            );
        }
    }
}
