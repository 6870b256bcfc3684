//! Arrangement sentences in the visitor's language: core builds them as data
//! (`saanjh_core::arrangement::words`), this renders them. English is core's
//! own (`English`, the words the API and CLI give); Urdu takes its sentence
//! patterns from the Fluent messages `arr-<id>` in `locales/ur/main.ftl` and
//! the arrangement's names from its labels file
//! (`arrangements/labels/<id>.ur.toml`, compiled in and checked at start).
//! A name with no label falls back to the file's English words, a pattern
//! with no message to the English pattern, so nothing is ever blank.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use saanjh_core::arrangement::labels::{BUILT_IN_LABELS, Labels};
use saanjh_core::arrangement::words::{
    Conj, English, Line, Name, Words, english_name, english_pattern, fill, render_arg, render_line,
};
use saanjh_core::arrangement::{Arrangement, consequence_line};

use super::ctx::{Lang, try_message, try_message_with};

/// The built-in labels by (arrangement id, language), read once.
fn built_in_labels() -> &'static BTreeMap<(String, String), Labels> {
    static LABELS: OnceLock<BTreeMap<(String, String), Labels>> = OnceLock::new();
    LABELS.get_or_init(|| {
        let mut out = BTreeMap::new();
        for (file, source) in BUILT_IN_LABELS {
            let arr_file = file.split('.').next().unwrap_or(file).to_string() + ".toml";
            let Some(arr) = saanjh_core::BUILT_IN_ARRANGEMENTS
                .iter()
                .find(|(n, _)| *n == arr_file)
                .and_then(|(_, t)| Arrangement::parse(t).ok())
            else {
                continue;
            };
            // saanjh-core's tests check every built-in labels file; one that
            // does not check is left out rather than shown half-right.
            if let Ok((labels, _)) = Labels::parse(source, &arr) {
                out.insert((labels.arrangement.clone(), labels.lang.clone()), labels);
            }
        }
        out
    })
}

/// Arrangement words for one language and one arrangement.
pub struct Localised<'a> {
    lang: Lang,
    arr: &'a Arrangement,
    labels: Option<&'static Labels>,
}

impl<'a> Localised<'a> {
    pub fn new(lang: Lang, arr: &'a Arrangement) -> Localised<'a> {
        let labels = built_in_labels().get(&(arr.id().to_string(), lang.code().to_string()));
        Localised { lang, arr, labels }
    }

    fn label(&self, key: &str) -> Option<String> {
        self.labels.and_then(|l| l.get(key)).map(str::to_string)
    }

    /// A label of the arrangement's labels file in this language, if it
    /// has one (`indicator.<name>`…); `None` in English, where the file's
    /// own words are the text.
    pub fn label_text(&self, key: &str) -> Option<String> {
        if self.lang == Lang::En {
            return None;
        }
        self.label(key)
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// A name as a plain string (`Name::Action("survey")` → its words).
    pub fn say(&self, name: Name) -> String {
        self.name(&name)
    }

    pub fn line(&self, line: &Line) -> String {
        render_line(self, line)
    }

    /// What missing an obligation of `rule` led to, in words; `stored` (the
    /// English recorded with the breach) when the rule is gone.
    pub fn consequence(&self, rule: &str, escalated: bool, stored: &str) -> String {
        if self.lang == Lang::En {
            return stored.to_string();
        }
        match self.arr.file.rules.iter().find(|r| r.id == rule) {
            Some(r) => consequence_line(&self.arr.file, r, escalated)
                .iter()
                .map(|a| render_arg(self, a))
                .collect::<Vec<_>>()
                .join("؛ "),
            None => stored.to_string(),
        }
    }
}

impl Words for Localised<'_> {
    fn phrase(&self, id: &str, args: &[(&str, String)]) -> String {
        if self.lang == Lang::En {
            return English(&self.arr.file).phrase(id, args);
        }
        let owned: Vec<(&'static str, String)> = args
            .iter()
            .filter_map(|(k, v)| static_arg(k).map(|k| (k, v.clone())))
            .collect();
        if let Some(m) = try_message_with(self.lang, &format!("arr-{id}"), &owned) {
            return m;
        }
        english_pattern(id)
            .map(|p| fill(p, args))
            .unwrap_or_else(|| id.to_string())
    }

    fn name(&self, name: &Name) -> String {
        let f = &self.arr.file;
        if self.lang == Lang::En {
            return english_name(f, name);
        }
        let found = match name {
            Name::Arrangement => self.label("name"),
            Name::Partner(r) => self.label(&format!("partner.{r}")),
            Name::Position(p) => match p.strip_suffix(".*") {
                Some(role) => Some(self.phrase(
                    "anyone-in",
                    &[("partner", self.name(&Name::Partner(role.to_string())))],
                )),
                None => self.label(&format!("position.{p}")),
            },
            Name::Component(k) => self.label(&format!("component.{k}")),
            Name::Action(a) => self
                .label(&format!("action.{a}"))
                .or_else(|| try_message(self.lang, &format!("act-{a}"))),
            Name::Stage(s) => self
                .label(&format!("stage.{s}"))
                .or_else(|| try_message(self.lang, &format!("stage-{s}"))),
            Name::Kind(k) => try_message(self.lang, &format!("kind-{k}")),
            Name::Record(r) => self
                .label(&format!("information.{r}"))
                .or_else(|| try_message(self.lang, &format!("record-{r}"))),
            Name::Text { key, .. } => self.label(key),
        };
        found.unwrap_or_else(|| english_name(f, name))
    }

    fn join(&self, items: Vec<String>, conj: Conj) -> String {
        if self.lang == Lang::En {
            return English(&self.arr.file).join(items, conj);
        }
        match conj {
            Conj::And => items.join(" اور "),
            Conj::Comma => items.join("، "),
            Conj::Arrow => items.join(" ← "),
            Conj::Concat => items.concat(),
            Conj::Or => match items.len() {
                0 => String::new(),
                1 => items[0].clone(),
                n => format!("{} یا {}", items[..n - 1].join("، "), items[n - 1]),
            },
        }
    }

    fn quote(&self, s: &str) -> String {
        if self.lang == Lang::En {
            format!("\"{s}\"")
        } else {
            format!("“{s}”")
        }
    }

    fn sentence(&self, s: String) -> String {
        if self.lang == Lang::En {
            English(&self.arr.file).sentence(s)
        } else {
            s
        }
    }
}

/// Fluent takes `'static` argument names; these are every name the
/// sentences use.
fn static_arg(k: &str) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "action",
        "amount",
        "at",
        "component",
        "condition",
        "consequences",
        "count",
        "domain",
        "duration",
        "extra",
        "from",
        "held",
        "how",
        "id",
        "include",
        "kind",
        "kinds",
        "majority",
        "max",
        "min",
        "n",
        "name",
        "names",
        "orelse",
        "partner",
        "place",
        "position",
        "quorum",
        "record",
        "role",
        "rule",
        "share",
        "stage",
        "stages",
        "terms",
        "to",
        "version",
        "when",
        "who",
    ];
    NAMES.iter().find(|n| **n == k).copied()
}
