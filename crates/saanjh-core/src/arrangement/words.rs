//! Sentences about an arrangement as data, so they can be said in more than
//! one language. `explain` and the engine's refusals build `Line`s: phrases
//! with a message id and arguments, where an argument is a code kept as
//! written (an id, a condition, a percentage), a name the arrangement
//! defines (a partner, position, action…), a list, or a nested phrase.
//!
//! `English` renders them with the patterns below, which are the words the
//! API, the CLI and the engine's messages have always used. Another
//! language implements `Words` (the web layer does it with Fluent messages
//! `arr-<id>` and the arrangement's labels, `labels.rs`).

use serde::Serialize;

use super::file::ArrangementFile;

/// A name the arrangement defines; each language says it its own way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Name {
    /// The arrangement's own name.
    Arrangement,
    Partner(String),
    /// `role.position` or `role.*`.
    Position(String),
    Component(String),
    Action(String),
    Stage(String),
    /// An organisation kind (`community`, `public`…).
    Kind(String),
    /// An information record (`events`, `household_names`…).
    Record(String),
    /// Free text of the file (an `explain`, a penalty, a place): its label
    /// key and the file's English words.
    Text {
        key: String,
        english: String,
    },
}

/// How a list is joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conj {
    /// "a and b and c"
    And,
    /// "a, b or c"
    Or,
    /// "a, b, c"
    Comma,
    /// "a → b → c"
    Arrow,
    /// "ab" (clauses that carry their own punctuation)
    Concat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Arg {
    /// Kept as written in every language (ids, conditions, figures).
    Code(String),
    Name(Name),
    /// A name in quotation marks (stages a scheme is or becomes).
    Quoted(Name),
    List(Vec<Arg>, Conj),
    Phrase(Box<Phrase>),
    /// An optional part that is absent.
    None,
}

/// One message: an id (`arr-<id>` in Fluent) and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phrase {
    pub id: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Phrase {
    pub fn new(id: &'static str) -> Phrase {
        Phrase { id, args: vec![] }
    }
    pub fn arg(mut self, name: &'static str, value: Arg) -> Phrase {
        self.args.push((name, value));
        self
    }
    pub fn code(self, name: &'static str, value: impl Into<String>) -> Phrase {
        self.arg(name, Arg::Code(value.into()))
    }
    pub fn name(self, name: &'static str, value: Name) -> Phrase {
        self.arg(name, Arg::Name(value))
    }
    pub fn boxed(self) -> Arg {
        Arg::Phrase(Box::new(self))
    }
}

/// One piece of a sentence line: a phrase (a whole sentence), a free text
/// of the file as its own sentence, or one in brackets after the sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Piece {
    Phrase(Phrase),
    Text(Name),
    Aside(Name),
}

/// A line of plain words: its pieces, said one after the other.
pub type Line = Vec<Piece>;

/// A language for arrangement sentences.
pub trait Words {
    /// A message with its arguments already rendered.
    fn phrase(&self, id: &str, args: &[(&str, String)]) -> String;
    fn name(&self, name: &Name) -> String;
    fn join(&self, items: Vec<String>, conj: Conj) -> String;
    fn quote(&self, s: &str) -> String;
    /// Upper-case the first letter of a sentence where the script has case.
    fn sentence(&self, s: String) -> String {
        s
    }
}

pub fn render_arg(w: &dyn Words, a: &Arg) -> String {
    match a {
        Arg::Code(c) => c.clone(),
        Arg::Name(n) => w.name(n),
        Arg::Quoted(n) => w.quote(&w.name(n)),
        Arg::List(items, conj) => w.join(items.iter().map(|i| render_arg(w, i)).collect(), *conj),
        Arg::Phrase(p) => render_phrase(w, p),
        Arg::None => String::new(),
    }
}

pub fn render_phrase(w: &dyn Words, p: &Phrase) -> String {
    let args: Vec<(&str, String)> = p.args.iter().map(|(k, a)| (*k, render_arg(w, a))).collect();
    w.phrase(p.id, &args)
}

/// A line as one string.
pub fn render_line(w: &dyn Words, line: &Line) -> String {
    line.iter()
        .map(|piece| match piece {
            Piece::Phrase(p) => w.sentence(render_phrase(w, p)),
            Piece::Text(n) => w.name(n),
            Piece::Aside(n) => format!("({})", w.name(n)),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The English patterns: `{arg}` is replaced by the argument.
pub fn english_pattern(id: &str) -> Option<&'static str> {
    Some(match id {
        "title" => "{name} — arrangement `{id}`, version {version}",
        "partner" => "The {partner} (`{role}`) is an organisation of kind {kinds}.",
        "partner-requires" => {
            "The {partner} (`{role}`) is an organisation of kind {kinds} that meets `{condition}`."
        }
        "partner-optional" => "This partner is optional.",
        "position" => "{position} (`{id}`): {how}{at}{count}.",
        "filled-election" => "elected",
        "filled-selection" => "selected",
        "filled-appointment" => "appointed",
        "filled-nomination" => "nominated",
        "filled-staff" => "a staff post",
        "filled-at" => " at the {place}",
        "count-exactly" => "; exactly {n}",
        "count-range" => "; {min} to {max} people",
        "count-min" => "; at least {n}",
        "count-max" => "; at most {n}",
        "component" => "{component} (`{kind}`) is {domain}, delivered by the {partner}.",
        "domain-internal" => "internal development",
        "domain-external" => "external development",
        "domain-whole" => "the whole scheme",
        "payoff" => "The {partner} pays {amount} of {component}{terms}.",
        "every-component" => "every component",
        "share-at-least" => "at least {share}",
        "share-at-most" => "at most {share}",
        "terms-instalments" => ", paid in {n} instalments",
        "terms-before" => ", deposited before anyone may {action}",
        "reserve-share" => {
            "Each financial year (July to June) the {partner} sets apart {share} of its development budget as a reserve for these schemes; its releases are paid from the reserve and can never exceed what it has available."
        }
        "reserve" => {
            "Each financial year (July to June) the {partner} sets apart a reserve for these schemes; its releases are paid from the reserve and can never exceed what it has available."
        }
        "reserve-lapses" => "Money not released by 30 June lapses.",
        "reserve-carries" => {
            "The reserve does not lapse: money not released by 30 June is carried into the next year and cannot be spent on anything else."
        }
        "spending" => {
            "Money spent on the {component} may not exceed what has been released for it."
        }
        "spending-plus" => {
            "Money spent on the {component} may not exceed what has been released for it, plus {extra}."
        }
        "spending-contributions" => "what the {partner} contributed in cash and has not yet spent",
        "spending-overspend" => "up to {share} of its estimate beyond that",
        "stages" => "Stages: {stages}.",
        "action-creates" => "To {action} (`{id}`) creates a scheme at {to}.",
        "action-moves" => "To {action} (`{id}`) moves a scheme from {from} to {to}.",
        "action-any" => "To {action} (`{id}`) is recorded at any stage.",
        "action-while" => "To {action} (`{id}`) is recorded while the scheme is {from}.",
        "final-stages" => "A scheme stays in {stages} for good.",
        "rule-may" => "{who} may {action}{when}{condition}{orelse}.",
        "rule-must" => "{who} must {action}{when}{condition}{orelse}.",
        "rule-must_not" => "{who} must not {action}{when}{condition}{orelse}.",
        "when-within" => " within {duration} of the scheme becoming {stages}",
        "when-within-duty" => " within {duration} of the duty arising",
        "when-stage" => " when the scheme is {stages}",
        "days" => "{n} days",
        "day" => "1 day",
        "hours" => "{n} hours",
        "hour" => "1 hour",
        "provided" => ", provided that `{condition}`",
        "or-else" => ", or else {consequences}",
        "conseq-escalate" => "the matter goes to {who}",
        "conseq-transition" => "the scheme becomes {stage}",
        "agg-all" => "To {action} needs the signatures of all of: {names}{include}.",
        "agg-some" => "To {action} needs {n} signatures of: {names}{include}.",
        "agg-include" => "; these must be among them: {names}",
        "agg-resolution" => {
            "To {action} needs a resolution of a meeting of the {partner}'s members, with at least {quorum} of members present and {majority}."
        }
        "majority-simple" => "more votes for than against",
        "majority-two_thirds" => "two thirds of the votes cast in favour",
        "majority-consensus" => "no vote against",
        "information" => "{record} can be seen by {who}.",
        "vis-public" => "everyone, without logging in",
        "vis-partners" => "people holding a position in the initiative",
        "anyone-in" => "anyone holding a position in the {partner}",
        // Refusals (the engine's words).
        "refuse-stage" => "cannot {action} while the scheme is {stage}",
        "refuse-stage-allowed" => "the scheme must be {stages}",
        "refuse-position" => "your positions ({held}) do not allow you to {action}",
        "refuse-no-position" => {
            "your positions (no position in this initiative) do not allow you to {action}"
        }
        "refuse-only" => "only {who} may do this",
        "who-rule" => "{who} (rule `{rule}`)",
        "refuse-no-rule" => "no rule allows it at this stage",
        "refuse-condition" => {
            "rule `{rule}` does not allow you to {action} yet: its condition `{condition}` is not met"
        }
        "condition-must-hold" => "the condition `{condition}` must hold",
        "refuse-forbidden" => "rule `{rule}` forbids {who} to {action}",
        "condition-no-longer" => "the rule's condition must no longer hold",
        "refuse-signed" => "you have already signed to {action}",
        "refuse-not-signer" => {
            "to {action} must be signed by {names}; you hold none of those positions that has not signed yet"
        }
        "refuse-sign-allowed" => "a signature from {names}",
        // Breaches (what happened when an obligation was missed).
        "breach-escalated" => "escalated to {who}",
        "breach-recorded" => "breach recorded",
        _ => return None,
    })
}

/// Arrangement sentences in English, from the file's own words.
pub struct English<'a>(pub &'a ArrangementFile);

impl Words for English<'_> {
    fn phrase(&self, id: &str, args: &[(&str, String)]) -> String {
        let Some(pattern) = english_pattern(id) else {
            return id.to_string();
        };
        fill(pattern, args)
    }
    fn name(&self, name: &Name) -> String {
        english_name(self.0, name)
    }
    fn join(&self, items: Vec<String>, conj: Conj) -> String {
        match conj {
            Conj::And => items.join(" and "),
            Conj::Comma => items.join(", "),
            Conj::Arrow => items.join(" → "),
            Conj::Concat => items.concat(),
            Conj::Or => match items.len() {
                0 => String::new(),
                1 => items[0].clone(),
                n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
            },
        }
    }
    fn quote(&self, s: &str) -> String {
        format!("\"{s}\"")
    }
    fn sentence(&self, s: String) -> String {
        capitalise(&s)
    }
}

/// Replace each `{name}` in a pattern by its argument.
pub fn fill(pattern: &str, args: &[(&str, String)]) -> String {
    let mut out = pattern.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A name in the file's English words.
pub fn english_name(f: &ArrangementFile, name: &Name) -> String {
    match name {
        Name::Arrangement => f.arrangement.name.clone(),
        Name::Partner(r) => f
            .partners
            .get(r)
            .map(|p| p.name.clone())
            .unwrap_or(r.clone()),
        Name::Position(p) => super::explain::humanise_position(f, p),
        Name::Component(k) => f
            .components
            .get(k)
            .map(|c| c.name.clone())
            .unwrap_or(k.clone()),
        Name::Action(a) => f
            .actions
            .get(a)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| a.replace('_', " ")),
        Name::Stage(s) | Name::Kind(s) | Name::Record(s) => s.replace('_', " "),
        Name::Text { english, .. } => english.clone(),
    }
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
