//! An arrangement in plain words, for the people bound by it: who may, must
//! and must not do what, when, or else what.

use serde::Serialize;

use super::Arrangement;
use super::file::*;

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

fn stage_words(s: &str) -> String {
    s.replace('_', " ")
}

fn stage_list(stages: &[&str]) -> String {
    let words: Vec<String> = stages
        .iter()
        .map(|s| format!("\"{}\"", stage_words(s)))
        .collect();
    match words.len() {
        0 => String::new(),
        1 => words[0].clone(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

/// One choice rule as a sentence.
pub fn rule_in_words(arr: &Arrangement, r: &ChoiceRule) -> String {
    let f = &arr.file;
    let who = humanise_position(f, r.attribute.as_ref());
    let action = f.actions.get(r.aim.as_ref());
    let what = action
        .map(|a| a.name.clone())
        .unwrap_or_else(|| r.aim.as_ref().replace('_', " "));
    let deontic = match r.deontic {
        Deontic::May => "may",
        Deontic::Must => "must",
        Deontic::MustNot => "must not",
    };
    let mut s = format!("{} {deontic} {what}", capitalise(&who));
    let stages = arr.rule_stages(r);
    if let Some(w) = r.within {
        s.push_str(&format!(
            " within {} of the scheme becoming {}",
            w.in_words(),
            stage_list(&stages)
        ));
    } else if !stages.is_empty() && action.is_some_and(|a| !a.from.is_empty()) {
        s.push_str(&format!(" when the scheme is {}", stage_list(&stages)));
    }
    if let Some(c) = &r.condition {
        s.push_str(&format!(", provided that `{}`", c.as_ref()));
    }
    if let Some(o) = &r.or_else {
        let mut conseq = vec![];
        if let Some(p) = &o.escalate_to {
            conseq.push(format!(
                "the matter goes to {}",
                humanise_position(f, p.as_ref())
            ));
        }
        if let Some(t) = &o.transition {
            conseq.push(format!(
                "the scheme becomes \"{}\"",
                stage_words(t.as_ref())
            ));
        }
        if let Some(p) = &o.penalty {
            conseq.push(p.clone());
        }
        s.push_str(&format!(", or else {}", conseq.join(" and ")));
    }
    s.push('.');
    if let Some(e) = &r.explain {
        s.push_str(&format!(" ({e})"));
    }
    s
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn percent(bp: u32) -> String {
    if bp.is_multiple_of(100) {
        format!("{}%", bp / 100)
    } else {
        format!("{}%", bp as f64 / 100.0)
    }
}

fn visibility_words(f: &ArrangementFile, v: &Visibility) -> String {
    match v {
        Visibility::Level(Level::Public) => "everyone, without logging in".into(),
        Visibility::Level(Level::Partners) => "people holding a position in the initiative".into(),
        Visibility::Positions(ps) => ps
            .iter()
            .map(|p| humanise_position(f, p))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The spending side of the payoff rules, in words: one sentence per
/// component, saying where the money spent on it may come from.
fn spending_in_words(f: &ArrangementFile) -> Vec<String> {
    let role_name = |r: &str| {
        f.partners
            .get(r)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| r.to_string())
    };
    f.components
        .iter()
        .map(|(kind, c)| {
            let rule = f.spending.get(kind).or_else(|| f.spending.get("*"));
            let mut s = format!(
                "Money spent on the {} may not exceed what has been released for it",
                c.name
            );
            let Some(r) = rule else {
                s.push('.');
                return s;
            };
            let mut extra = vec![];
            if !r.contributions_of.is_empty() {
                let who: Vec<String> = r
                    .contributions_of
                    .iter()
                    .map(|x| role_name(x.as_ref()))
                    .collect();
                extra.push(format!(
                    "what the {} contributed in cash and has not yet spent",
                    who.join(" and ")
                ));
            }
            if let Some(o) = &r.overspend {
                extra.push(format!("up to {} of its estimate beyond that", o.as_ref()));
            }
            if !extra.is_empty() {
                s.push_str(&format!(", plus {}", extra.join(", and ")));
            }
            s.push('.');
            if let Some(e) = &r.explain {
                s.push_str(&format!(" ({e})"));
            }
            s
        })
        .collect()
}

/// The government side of the payoff rules, in words.
fn reserve_in_words(f: &ArrangementFile, r: &ReserveRule) -> String {
    let f_name = f
        .partners
        .get(r.held_by.as_ref())
        .map(|p| p.name.as_str())
        .unwrap_or(r.held_by.as_ref());
    let mut s = match &r.share_of_development_budget {
        Some(share) => format!(
            "Each financial year (July to June) the {f_name} sets apart {} of its development budget as a reserve for these schemes",
            share.as_ref()
        ),
        None => format!(
            "Each financial year (July to June) the {f_name} sets apart a reserve for these schemes"
        ),
    };
    s.push_str(
        "; its releases are paid from the reserve and can never exceed what it has available",
    );
    if r.lapses {
        s.push_str(". Money not released by 30 June lapses.");
    } else {
        s.push_str(". The reserve does not lapse: money not released by 30 June is carried into the next year and cannot be spent on anything else.");
    }
    if let Some(e) = &r.explain {
        s.push_str(&format!(" ({e})"));
    }
    s
}

pub fn explain(arr: &Arrangement) -> Explanation {
    let f = &arr.file;
    let boundary = f
        .partners
        .iter()
        .map(|(role, p)| {
            let kinds: Vec<&str> = p.kinds.iter().map(|k| k.as_str()).collect();
            let mut s = format!(
                "The {} (`{role}`) is an organisation of kind {}",
                p.name,
                kinds.join(" or ")
            );
            if let Some(r) = &p.requires {
                s.push_str(&format!(" that meets `{}`", r.as_ref()));
            }
            if p.optional {
                s.push_str("; this partner is optional");
            }
            s.push('.');
            if let Some(e) = &p.explain {
                s.push_str(&format!(" {e}"));
            }
            s
        })
        .collect();
    let positions = f
        .positions
        .iter()
        .map(|(id, p)| {
            let how = match p.filled_by {
                FilledBy::Election => "elected",
                FilledBy::Selection => "selected",
                FilledBy::Appointment => "appointed",
                FilledBy::Nomination => "nominated",
                FilledBy::Staff => "a staff post",
            };
            let mut s = format!("{} (`{id}`): {how}", capitalise(&p.name));
            if let Some(at) = &p.at {
                s.push_str(&format!(" at the {at}"));
            }
            match (p.min, p.max) {
                (Some(a), Some(b)) if a == b => s.push_str(&format!("; exactly {a}")),
                (Some(a), Some(b)) => s.push_str(&format!("; {a} to {b} people")),
                (Some(a), None) => s.push_str(&format!("; at least {a}")),
                (None, Some(b)) => s.push_str(&format!("; at most {b}")),
                _ => {}
            }
            s.push('.');
            s
        })
        .collect();
    let scope = f
        .components
        .iter()
        .map(|(kind, c)| {
            let role = f
                .partners
                .get(c.delivered_by.as_ref())
                .map(|p| p.name.as_str())
                .unwrap_or(c.delivered_by.as_ref());
            let domain = match c.domain {
                Domain::Internal => "internal development",
                Domain::External => "external development",
                Domain::Whole => "the whole scheme",
            };
            format!(
                "{} (`{kind}`) is {domain}, delivered by the {role}.",
                capitalise(&c.name)
            )
        })
        .collect();
    let payoff = f
        .payoff
        .iter()
        .flat_map(|(kind, shares)| {
            let comp = if kind == "*" {
                "every component".to_string()
            } else {
                f.components
                    .get(kind)
                    .map(|c| c.name.clone())
                    .unwrap_or(kind.clone())
            };
            shares.iter().map(move |(role, sh)| {
                let who = f
                    .partners
                    .get(role)
                    .map(|p| p.name.clone())
                    .unwrap_or(role.clone());
                let (amount, terms) = match sh {
                    ShareSpec::Exactly(s) => (
                        parse_percent(s).map(percent).unwrap_or_else(|_| s.clone()),
                        String::new(),
                    ),
                    ShareSpec::Range(r) => {
                        let mut parts = vec![];
                        if let Some(a) = &r.at_least {
                            parts.push(format!("at least {a}"));
                        }
                        if let Some(b) = &r.at_most {
                            parts.push(format!("at most {b}"));
                        }
                        let mut terms = String::new();
                        if let Some(n) = r.instalments {
                            terms.push_str(&format!(", paid in {n} instalments"));
                        }
                        if let Some(b) = &r.before {
                            let act = f
                                .actions
                                .get(b)
                                .map(|a| a.name.clone())
                                .unwrap_or(b.clone());
                            terms.push_str(&format!(", deposited before anyone may {act}"));
                        }
                        (parts.join(" and "), terms)
                    }
                };
                format!("The {who} pays {amount} of {comp}{terms}.")
            })
        })
        .chain(f.reserve.as_ref().map(|r| reserve_in_words(f, r)))
        .chain(spending_in_words(f))
        .collect();
    let mut lifecycle = vec![format!(
        "Stages: {}.",
        f.lifecycle
            .stages
            .iter()
            .map(|s| stage_words(s.as_ref()))
            .collect::<Vec<_>>()
            .join(" → ")
    )];
    for (id, a) in &f.actions {
        let from: Vec<&str> = a.from.iter().map(|s| s.as_ref().as_str()).collect();
        let line = match (&a.to, from.is_empty()) {
            (Some(to), true) => format!(
                "To {} (`{id}`) creates a scheme at \"{}\".",
                a.name,
                stage_words(to.as_ref())
            ),
            (Some(to), false) => format!(
                "To {} (`{id}`) moves a scheme from {} to \"{}\".",
                a.name,
                stage_list(&from),
                stage_words(to.as_ref())
            ),
            (None, true) => format!("To {} (`{id}`) is recorded at any stage.", a.name),
            (None, false) => format!(
                "To {} (`{id}`) is recorded while the scheme is {}.",
                a.name,
                stage_list(&from)
            ),
        };
        lifecycle.push(line);
    }
    if !f.lifecycle.final_stages.is_empty() {
        lifecycle.push(format!(
            "A scheme stays in {} for good.",
            stage_list(
                &f.lifecycle
                    .final_stages
                    .iter()
                    .map(|s| s.as_ref().as_str())
                    .collect::<Vec<_>>()
            )
        ));
    }
    let choice = f
        .rules
        .iter()
        .map(|r| (r.id.clone(), rule_in_words(arr, r)))
        .collect();
    let aggregation = f
        .aggregation
        .iter()
        .map(|(action, agg)| {
            let what = f.actions.get(action).map(|a| a.name.clone()).unwrap_or(action.clone());
            let mut s = if let Some(sig) = &agg.signatures {
                let names: Vec<String> = sig.of.iter().map(|p| humanise_position(f, p.as_ref())).collect();
                let n = sig.at_least.unwrap_or(sig.of.len() as u32) as usize;
                let mut s = if n == sig.of.len() {
                    format!("To {what} needs the signatures of all of: {}", names.join(", "))
                } else {
                    format!("To {what} needs {n} signatures of: {}", names.join(", "))
                };
                if !sig.must_include.is_empty() {
                    let inc: Vec<String> = sig.must_include.iter().map(|p| humanise_position(f, p.as_ref())).collect();
                    s.push_str(&format!("; these must be among them: {}", inc.join(", ")));
                }
                s
            } else if let Some(res) = &agg.resolution {
                let body = f.partners.get(res.body.as_ref()).map(|p| p.name.clone()).unwrap_or(res.body.as_ref().clone());
                let maj = match res.majority {
                    Majority::Simple => "more votes for than against",
                    Majority::TwoThirds => "two thirds of the votes cast in favour",
                    Majority::Consensus => "no vote against",
                };
                format!("To {what} needs a resolution of a meeting of the {body}'s members, with at least {} of members present and {maj}", res.quorum.as_ref())
            } else {
                String::new()
            };
            s.push('.');
            if let Some(e) = &agg.explain {
                s.push_str(&format!(" ({e})"));
            }
            s
        })
        .collect();
    let information = f
        .information
        .iter()
        .map(|(record, v)| {
            format!(
                "{} can be seen by {}.",
                capitalise(&record.replace('_', " ")),
                visibility_words(f, v)
            )
        })
        .collect();
    Explanation {
        title: format!(
            "{} — arrangement `{}`, version {}",
            f.arrangement.name, f.arrangement.id, f.arrangement.version
        ),
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
