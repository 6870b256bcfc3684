//! An arrangement in plain words, for the people bound by it: who may, must
//! and must not do what, when, or else what. The sentences are built as
//! data (`words::Line`) by `phrased` and rendered in a language by
//! `explain_in`; `explain` is the English the API and CLI give.

use serde::Serialize;

use super::Arrangement;
use super::file::*;
use super::words::{
    Arg, Conj, English, Line, Name, Phrase, Piece, Words, render_line, render_phrase,
};

/// Sentences grouped by IAD rule type.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub title: String,
    pub source: Option<String>,
    pub boundary: Vec<String>,
    pub positions: Vec<String>,
    pub scope: Vec<String>,
    pub payoff: Vec<String>,
    pub lifecycle: Vec<String>,
    /// `(rule id, sentence)`
    pub choice: Vec<(String, String)>,
    pub aggregation: Vec<String>,
    pub information: Vec<String>,
    /// The arrangement's own indicators for the diagnosis, in words.
    pub indicators: Vec<String>,
}

impl Explanation {
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.title);
        if let Some(s) = &self.source {
            out.push_str(&format!("Source: {s}\n"));
        }
        let mut section = |name: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                out.push_str(&format!("\n{name}\n"));
                for l in lines {
                    out.push_str(&format!("  - {l}\n"));
                }
            }
        };
        section("Who takes part (boundary rules)", self.boundary.clone());
        section("Positions (position rules)", self.positions.clone());
        section(
            "What each partner delivers (scope rules)",
            self.scope.clone(),
        );
        section("Who pays what (payoff rules)", self.payoff.clone());
        section("Stages (lifecycle)", self.lifecycle.clone());
        section(
            "Who may, must and must not do what (choice rules)",
            self.choice
                .iter()
                .map(|(id, s)| format!("[{id}] {s}"))
                .collect(),
        );
        section(
            "Collective decisions (aggregation rules)",
            self.aggregation.clone(),
        );
        section(
            "What the diagnosis also measures (this arrangement's indicators)",
            self.indicators.clone(),
        );
        section(
            "What is disclosed to whom (information rules)",
            self.information.clone(),
        );
        out
    }
}

/// "council.works_engineer" → "the council's works engineer", using the
/// position's own name from the file where it has one.
pub fn humanise_position(arr: &ArrangementFile, position: &str) -> String {
    if let Some(role) = position.strip_suffix(".*") {
        let who = arr
            .partners
            .get(role)
            .map(|p| p.name.as_str())
            .unwrap_or(role);
        return format!("anyone holding a position in the {who}");
    }
    if let Some(p) = arr.positions.get(position) {
        return format!("the {}", p.name);
    }
    let (role, local) = position.split_once('.').unwrap_or(("", position));
    format!("the {role}'s {}", local.replace('_', " "))
}

/// The explanation as data: one `Line` per sentence, in the same sections.
#[derive(Debug, Clone, Serialize)]
pub struct Phrased {
    pub title: Phrase,
    pub source: Option<String>,
    pub boundary: Vec<Line>,
    pub positions: Vec<Line>,
    pub scope: Vec<Line>,
    pub payoff: Vec<Line>,
    pub lifecycle: Vec<Line>,
    pub choice: Vec<(String, Line)>,
    pub aggregation: Vec<Line>,
    pub information: Vec<Line>,
}

fn text(key: String, english: &str) -> Name {
    Name::Text {
        key,
        english: english.to_string(),
    }
}

fn stages_arg(stages: &[&str]) -> Arg {
    Arg::List(
        stages
            .iter()
            .map(|s| Arg::Quoted(Name::Stage(s.to_string())))
            .collect(),
        Conj::Or,
    )
}

fn positions_arg(list: impl IntoIterator<Item = String>, conj: Conj) -> Arg {
    Arg::List(
        list.into_iter()
            .map(|p| Arg::Name(Name::Position(p)))
            .collect(),
        conj,
    )
}

/// A period ("7 days", "36 hours") as a phrase.
pub fn duration_phrase(p: crate::duration::Period) -> Arg {
    let h = p.hours();
    let ph = if h % 24 == 0 {
        match h / 24 {
            1 => Phrase::new("day"),
            d => Phrase::new("days").code("n", d.to_string()),
        }
    } else if h == 1 {
        Phrase::new("hour")
    } else {
        Phrase::new("hours").code("n", h.to_string())
    };
    ph.boxed()
}

/// One choice rule as a line.
pub fn rule_line(arr: &Arrangement, r: &ChoiceRule) -> Line {
    let f = &arr.file;
    let id = match r.deontic {
        Deontic::May => "rule-may",
        Deontic::Must => "rule-must",
        Deontic::MustNot => "rule-must_not",
    };
    let action = f.actions.get(r.aim.as_ref());
    let stages = arr.rule_stages(r);
    let when = if let Some(w) = r.within {
        // A duty not tied to a stage (answering a report) runs from when it
        // arises, not from the scheme entering a stage.
        if stages.is_empty() {
            Phrase::new("when-within-duty")
                .arg("duration", duration_phrase(w))
                .boxed()
        } else {
            Phrase::new("when-within")
                .arg("duration", duration_phrase(w))
                .arg("stages", stages_arg(&stages))
                .boxed()
        }
    } else if !stages.is_empty() && action.is_some_and(|a| !a.from.is_empty()) {
        Phrase::new("when-stage")
            .arg("stages", stages_arg(&stages))
            .boxed()
    } else {
        Arg::None
    };
    let condition = match &r.condition {
        Some(c) => Phrase::new("provided")
            .code("condition", c.as_ref())
            .boxed(),
        None => Arg::None,
    };
    let orelse = match &r.or_else {
        Some(o) => {
            let mut conseq = vec![];
            if let Some(p) = &o.escalate_to {
                conseq.push(
                    Phrase::new("conseq-escalate")
                        .name("who", Name::Position(p.as_ref().clone()))
                        .boxed(),
                );
            }
            if let Some(t) = &o.transition {
                conseq.push(
                    Phrase::new("conseq-transition")
                        .arg("stage", Arg::Quoted(Name::Stage(t.as_ref().clone())))
                        .boxed(),
                );
            }
            if let Some(p) = &o.penalty {
                conseq.push(Arg::Name(text(format!("rule.{}.penalty", r.id), p)));
            }
            Phrase::new("or-else")
                .arg("consequences", Arg::List(conseq, Conj::And))
                .boxed()
        }
        None => Arg::None,
    };
    let mut line = vec![Piece::Phrase(
        Phrase::new(id)
            .name("who", Name::Position(r.attribute.as_ref().clone()))
            .name("action", Name::Action(r.aim.as_ref().clone()))
            .arg("when", when)
            .arg("condition", condition)
            .arg("orelse", orelse),
    )];
    if let Some(e) = &r.explain {
        line.push(Piece::Aside(text(format!("rule.{}", r.id), e)));
    }
    line
}

/// One choice rule as an English sentence.
pub fn rule_in_words(arr: &Arrangement, r: &ChoiceRule) -> String {
    render_line(&English(&arr.file), &rule_line(arr, r))
}

/// What a missed obligation of rule `rule` led to (the escalated duty of an
/// escalation only records the breach).
pub fn consequence_line(f: &ArrangementFile, rule: &ChoiceRule, escalated: bool) -> Vec<Arg> {
    let mut out = vec![];
    if let Some(oe) = rule.or_else.as_ref().filter(|_| !escalated) {
        if let Some(p) = &oe.escalate_to {
            out.push(
                Phrase::new("breach-escalated")
                    .name("who", Name::Position(p.as_ref().clone()))
                    .boxed(),
            );
        }
        if let Some(t) = &oe.transition {
            out.push(
                Phrase::new("conseq-transition")
                    .arg("stage", Arg::Quoted(Name::Stage(t.as_ref().clone())))
                    .boxed(),
            );
        }
        if let Some(p) = &oe.penalty {
            out.push(Arg::Name(text(format!("rule.{}.penalty", rule.id), p)));
        }
    }
    let _ = f;
    if out.is_empty() {
        out.push(Phrase::new("breach-recorded").boxed());
    }
    out
}

fn percent(bp: u32) -> String {
    if bp.is_multiple_of(100) {
        format!("{}%", bp / 100)
    } else {
        format!("{}%", bp as f64 / 100.0)
    }
}

fn visibility_arg(v: &Visibility) -> Arg {
    match v {
        Visibility::Level(Level::Public) => Phrase::new("vis-public").boxed(),
        Visibility::Level(Level::Partners) => Phrase::new("vis-partners").boxed(),
        Visibility::Positions(ps) => positions_arg(ps.iter().cloned(), Conj::Comma),
    }
}

/// The government side of the payoff rules.
fn reserve_line(r: &ReserveRule) -> Line {
    let partner = Name::Partner(r.held_by.as_ref().clone());
    let first = match &r.share_of_development_budget {
        Some(share) => Phrase::new("reserve-share")
            .name("partner", partner)
            .code("share", share.as_ref()),
        None => Phrase::new("reserve").name("partner", partner),
    };
    let mut line = vec![
        Piece::Phrase(first),
        Piece::Phrase(Phrase::new(if r.lapses {
            "reserve-lapses"
        } else {
            "reserve-carries"
        })),
    ];
    if let Some(e) = &r.explain {
        line.push(Piece::Aside(text("reserve".into(), e)));
    }
    line
}

/// The spending side of the payoff rules for one component: where the
/// money spent on it may come from.
fn spending_line(f: &ArrangementFile, kind: &str) -> Line {
    let component = Name::Component(kind.to_string());
    let key = if f.spending.contains_key(kind) {
        kind
    } else {
        "*"
    };
    let Some(r) = f.spending.get(key) else {
        return vec![Piece::Phrase(
            Phrase::new("spending").name("component", component),
        )];
    };
    let mut extra = vec![];
    if !r.contributions_of.is_empty() {
        extra.push(
            Phrase::new("spending-contributions")
                .arg(
                    "partner",
                    Arg::List(
                        r.contributions_of
                            .iter()
                            .map(|x| Arg::Name(Name::Partner(x.as_ref().clone())))
                            .collect(),
                        Conj::And,
                    ),
                )
                .boxed(),
        );
    }
    if let Some(o) = &r.overspend {
        extra.push(
            Phrase::new("spending-overspend")
                .code("share", o.as_ref())
                .boxed(),
        );
    }
    let mut line = vec![Piece::Phrase(if extra.is_empty() {
        Phrase::new("spending").name("component", component)
    } else {
        Phrase::new("spending-plus")
            .name("component", component)
            .arg("extra", Arg::List(extra, Conj::Comma))
    })];
    if let Some(e) = &r.explain {
        line.push(Piece::Aside(text(format!("spending.{key}"), e)));
    }
    line
}

/// A boundary rule: who may be partner `role`.
fn partner_line(role: &str, p: &PartnerRule) -> Line {
    let kinds = Arg::List(
        p.kinds
            .iter()
            .map(|k| Arg::Name(Name::Kind(k.as_str().to_string())))
            .collect(),
        Conj::Or,
    );
    let first = match &p.requires {
        Some(r) => Phrase::new("partner-requires").code("condition", r.as_ref()),
        None => Phrase::new("partner"),
    }
    .name("partner", Name::Partner(role.to_string()))
    .code("role", role)
    .arg("kinds", kinds);
    let mut line = vec![Piece::Phrase(first)];
    if p.optional {
        line.push(Piece::Phrase(Phrase::new("partner-optional")));
    }
    if let Some(e) = &p.explain {
        line.push(Piece::Text(text(format!("partner.{role}.explain"), e)));
    }
    line
}

/// A position rule: how position `id` is filled and by how many.
fn position_line(id: &str, p: &PositionRule) -> Line {
    let how = match p.filled_by {
        FilledBy::Election => "filled-election",
        FilledBy::Selection => "filled-selection",
        FilledBy::Appointment => "filled-appointment",
        FilledBy::Nomination => "filled-nomination",
        FilledBy::Staff => "filled-staff",
    };
    let at = match &p.at {
        Some(at) => Phrase::new("filled-at")
            .name("place", text(format!("position.{id}.at"), at))
            .boxed(),
        None => Arg::None,
    };
    let count = match (p.min, p.max) {
        (Some(a), Some(b)) if a == b => Phrase::new("count-exactly")
            .code("n", a.to_string())
            .boxed(),
        (Some(a), Some(b)) => Phrase::new("count-range")
            .code("min", a.to_string())
            .code("max", b.to_string())
            .boxed(),
        (Some(a), None) => Phrase::new("count-min").code("n", a.to_string()).boxed(),
        (None, Some(b)) => Phrase::new("count-max").code("n", b.to_string()).boxed(),
        _ => Arg::None,
    };
    vec![Piece::Phrase(
        Phrase::new("position")
            .name("position", text(format!("position.{id}"), &p.name))
            .code("id", id)
            .arg("how", Phrase::new(how).boxed())
            .arg("at", at)
            .arg("count", count),
    )]
}

/// A scope rule: whose domain component `kind` is in and who delivers it.
fn component_line(kind: &str, c: &ComponentScope) -> Line {
    let domain = match c.domain {
        Domain::Internal => "domain-internal",
        Domain::External => "domain-external",
        Domain::Whole => "domain-whole",
    };
    vec![Piece::Phrase(
        Phrase::new("component")
            .name("component", Name::Component(kind.to_string()))
            .code("kind", kind)
            .arg("domain", Phrase::new(domain).boxed())
            .name("partner", Name::Partner(c.delivered_by.as_ref().clone())),
    )]
}

/// A component kind as said in a payoff rule (`*`: every component).
fn component_arg(kind: &str) -> Arg {
    if kind == "*" {
        Phrase::new("every-component").boxed()
    } else {
        Arg::Name(Name::Component(kind.to_string()))
    }
}

/// A payoff rule: partner `role`'s share of the cost of component `kind`.
fn payoff_line(kind: &str, role: &str, sh: &ShareSpec) -> Line {
    let (amount, terms) = match sh {
        ShareSpec::Exactly(s) => (
            Arg::Code(parse_percent(s).map(percent).unwrap_or_else(|_| s.clone())),
            Arg::None,
        ),
        ShareSpec::Range(r) => {
            let mut parts = vec![];
            if let Some(a) = &r.at_least {
                parts.push(Phrase::new("share-at-least").code("share", a).boxed());
            }
            if let Some(b) = &r.at_most {
                parts.push(Phrase::new("share-at-most").code("share", b).boxed());
            }
            let mut terms = vec![];
            if let Some(n) = r.instalments {
                terms.push(
                    Phrase::new("terms-instalments")
                        .code("n", n.to_string())
                        .boxed(),
                );
            }
            if let Some(b) = &r.before {
                terms.push(
                    Phrase::new("terms-before")
                        .name("action", Name::Action(b.clone()))
                        .boxed(),
                );
            }
            (Arg::List(parts, Conj::And), Arg::List(terms, Conj::Concat))
        }
    };
    vec![Piece::Phrase(
        Phrase::new("payoff")
            .name("partner", Name::Partner(role.to_string()))
            .arg("amount", amount)
            .arg("component", component_arg(kind))
            .arg("terms", terms),
    )]
}

/// An aggregation rule: what the collective act `action` needs.
fn aggregation_line(action: &str, agg: &AggregationRule) -> Line {
    let what = Name::Action(action.to_string());
    let mut line = vec![];
    if let Some(sig) = &agg.signatures {
        let names = positions_arg(sig.of.iter().map(|p| p.as_ref().clone()), Conj::Comma);
        let n = sig.at_least.unwrap_or(sig.of.len() as u32) as usize;
        let include = if sig.must_include.is_empty() {
            Arg::None
        } else {
            Phrase::new("agg-include")
                .arg(
                    "names",
                    positions_arg(
                        sig.must_include.iter().map(|p| p.as_ref().clone()),
                        Conj::Comma,
                    ),
                )
                .boxed()
        };
        let p = if n == sig.of.len() {
            Phrase::new("agg-all")
        } else {
            Phrase::new("agg-some").code("n", n.to_string())
        };
        line.push(Piece::Phrase(
            p.name("action", what)
                .arg("names", names)
                .arg("include", include),
        ));
    } else if let Some(res) = &agg.resolution {
        let maj = match res.majority {
            Majority::Simple => "majority-simple",
            Majority::TwoThirds => "majority-two_thirds",
            Majority::Consensus => "majority-consensus",
        };
        line.push(Piece::Phrase(
            Phrase::new("agg-resolution")
                .name("action", what)
                .name("partner", Name::Partner(res.body.as_ref().clone()))
                .code("quorum", res.quorum.as_ref())
                .arg("majority", Phrase::new(maj).boxed()),
        ));
    }
    if let Some(e) = &agg.explain {
        line.push(Piece::Aside(text(format!("aggregation.{action}"), e)));
    }
    line
}

/// An information rule: who may see record `record`.
fn information_line(record: &str, v: &Visibility) -> Line {
    vec![Piece::Phrase(
        Phrase::new("information")
            .name("record", Name::Record(record.to_string()))
            .arg("who", visibility_arg(v)),
    )]
}

/// The whole arrangement as lines of words.
pub fn phrased(arr: &Arrangement) -> Phrased {
    let f = &arr.file;
    let boundary = f
        .partners
        .iter()
        .map(|(role, p)| partner_line(role, p))
        .collect();
    let positions = f
        .positions
        .iter()
        .map(|(id, p)| position_line(id, p))
        .collect();
    let scope = f
        .components
        .iter()
        .map(|(kind, c)| component_line(kind, c))
        .collect();
    let payoff = f
        .payoff
        .iter()
        .flat_map(|(kind, shares)| {
            shares
                .iter()
                .map(move |(role, sh)| payoff_line(kind, role, sh))
        })
        .chain(f.reserve.as_ref().map(reserve_line))
        .chain(f.components.keys().map(|kind| spending_line(f, kind)))
        .collect();
    let mut lifecycle = vec![vec![Piece::Phrase(
        Phrase::new("stages").arg(
            "stages",
            Arg::List(
                f.lifecycle
                    .stages
                    .iter()
                    .map(|s| Arg::Name(Name::Stage(s.as_ref().clone())))
                    .collect(),
                Conj::Arrow,
            ),
        ),
    )]];
    for (id, a) in &f.actions {
        let from: Vec<&str> = a.from.iter().map(|s| s.as_ref().as_str()).collect();
        let p = match (&a.to, from.is_empty()) {
            (Some(to), true) => Phrase::new("action-creates")
                .arg("to", Arg::Quoted(Name::Stage(to.as_ref().clone()))),
            (Some(to), false) => Phrase::new("action-moves")
                .arg("from", stages_arg(&from))
                .arg("to", Arg::Quoted(Name::Stage(to.as_ref().clone()))),
            (None, true) => Phrase::new("action-any"),
            (None, false) => Phrase::new("action-while").arg("from", stages_arg(&from)),
        }
        .name("action", Name::Action(id.clone()))
        .code("id", id);
        lifecycle.push(vec![Piece::Phrase(p)]);
    }
    if !f.lifecycle.final_stages.is_empty() {
        let fin: Vec<&str> = f
            .lifecycle
            .final_stages
            .iter()
            .map(|s| s.as_ref().as_str())
            .collect();
        lifecycle.push(vec![Piece::Phrase(
            Phrase::new("final-stages").arg("stages", stages_arg(&fin)),
        )]);
    }
    let choice = f
        .rules
        .iter()
        .map(|r| (r.id.clone(), rule_line(arr, r)))
        .collect();
    let aggregation = f
        .aggregation
        .iter()
        .map(|(action, agg)| aggregation_line(action, agg))
        .collect();
    let information = f
        .information
        .iter()
        .map(|(record, v)| information_line(record, v))
        .collect();
    Phrased {
        title: Phrase::new("title")
            .name("name", Name::Arrangement)
            .code("id", &f.arrangement.id)
            .code("version", f.arrangement.version.to_string()),
        source: f.arrangement.source.clone(),
        boundary,
        positions,
        scope,
        payoff,
        lifecycle,
        choice,
        aggregation,
        information,
    }
}

/// The seven IAD rule types, in the order a comparison lists them.
pub const RULE_TYPES: [&str; 7] = [
    "boundary",
    "position",
    "scope",
    "choice",
    "aggregation",
    "information",
    "payoff",
];

/// One rule of an arrangement, keyed so that the same rule of another
/// arrangement can be set beside it in a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct RuleItem {
    /// Index into `RULE_TYPES`.
    pub rule_type: usize,
    /// What the rule is about, as the file names it (`council`,
    /// `community.president`, a choice rule's id, `water_supply.community`
    /// for a payoff share, `reserve`, `spending.<component>`).
    pub item: String,
    /// The same in words (the partner, position, component, action or
    /// record named; a choice rule's id as written).
    pub name: Arg,
    /// The rule in words.
    pub line: Line,
}

/// Every rule of an arrangement, one item each, by IAD rule type: the rows
/// of a comparison's rules-in-use.
pub fn rule_items(arr: &Arrangement) -> Vec<RuleItem> {
    let f = &arr.file;
    let mut out = vec![];
    let mut put = |t: usize, item: String, name: Arg, line: Line| {
        out.push(RuleItem {
            rule_type: t,
            item,
            name,
            line,
        })
    };
    for (role, p) in &f.partners {
        put(
            0,
            role.clone(),
            Arg::Name(Name::Partner(role.clone())),
            partner_line(role, p),
        );
    }
    for (id, p) in &f.positions {
        put(
            1,
            id.clone(),
            Arg::Name(Name::Position(id.clone())),
            position_line(id, p),
        );
    }
    for (kind, c) in &f.components {
        put(
            2,
            kind.clone(),
            Arg::Name(Name::Component(kind.clone())),
            component_line(kind, c),
        );
    }
    for r in &f.rules {
        put(3, r.id.clone(), Arg::Code(r.id.clone()), rule_line(arr, r));
    }
    for (action, agg) in &f.aggregation {
        put(
            4,
            action.clone(),
            Arg::Name(Name::Action(action.clone())),
            aggregation_line(action, agg),
        );
    }
    for (record, v) in &f.information {
        put(
            5,
            record.clone(),
            Arg::Name(Name::Record(record.clone())),
            information_line(record, v),
        );
    }
    for (kind, shares) in &f.payoff {
        for (role, sh) in shares {
            put(
                6,
                format!("{kind}.{role}"),
                Arg::List(
                    vec![component_arg(kind), Arg::Name(Name::Partner(role.clone()))],
                    Conj::Comma,
                ),
                payoff_line(kind, role, sh),
            );
        }
    }
    if let Some(r) = &f.reserve {
        put(
            6,
            "reserve".into(),
            Arg::Name(Name::Partner(r.held_by.as_ref().clone())),
            reserve_line(r),
        );
    }
    for kind in f.components.keys() {
        put(
            6,
            format!("spending.{kind}"),
            Arg::Name(Name::Component(kind.clone())),
            spending_line(f, kind),
        );
    }
    out
}

/// The arrangement in plain words in the language `w` speaks.
pub fn explain_in(arr: &Arrangement, w: &dyn Words) -> Explanation {
    let p = phrased(arr);
    let lines = |ls: &[Line]| ls.iter().map(|l| render_line(w, l)).collect::<Vec<_>>();
    Explanation {
        title: render_phrase(w, &p.title),
        source: p.source.clone(),
        boundary: lines(&p.boundary),
        positions: lines(&p.positions),
        scope: lines(&p.scope),
        payoff: lines(&p.payoff),
        lifecycle: lines(&p.lifecycle),
        choice: p
            .choice
            .iter()
            .map(|(id, l)| (id.clone(), render_line(w, l)))
            .collect(),
        aggregation: lines(&p.aggregation),
        information: lines(&p.information),
        indicators: arr
            .file
            .indicators
            .iter()
            .map(|(id, d)| indicator_in_words(id, d))
            .collect(),
    }
}

/// The arrangement in plain English.
pub fn explain(arr: &Arrangement) -> Explanation {
    explain_in(arr, &English(&arr.file))
}

/// One arrangement-defined indicator in plain words: what it measures, on
/// which schemes, how the initiative's value is made and how it is
/// calibrated.
pub fn indicator_in_words(id: &str, d: &IndicatorDef) -> String {
    let condition = d.condition.as_ref().replace('_', " ");
    let mut s = format!(
        "\"{}\" (`{id}`, a measure of {condition}): {}",
        d.name,
        d.definition.trim()
    );
    if !s.ends_with('.') {
        s.push('.');
    }
    s.push_str(&format!(
        " Computed on each scheme{} as `{}`; the initiative's value is the mean over those schemes.",
        d.applies
            .as_ref()
            .map(|w| format!(" where `{}`", w.as_ref()))
            .unwrap_or_default(),
        d.expression.as_ref()
    ));
    match d.anchors.as_ref().map(|a| a.as_ref().as_slice()) {
        Some([e, c, i]) => s.push_str(&format!(
            " Fully in the set at {i}, crossover at {c}, fully out at {e}."
        )),
        _ => s.push_str(" Shown, not calibrated (no anchors)."),
    }
    s
}
