//! An arrangement's names and explanations in another language: a labels
//! file beside the arrangement (`arrangements/labels/<id>.<lang>.toml`).
//!
//! Labels are kept apart from the arrangement file on purpose: the file is
//! the rulebook, stored per version with its digest, and a version is never
//! edited. A translation changes no rule, so adding or correcting one must
//! not need a new version, and initiatives under any version of the
//! arrangement read it. A label whose name a version lacks is simply unused.
//!
//! ```toml
//! arrangement = "component-sharing"
//! lang = "ur"
//! [text]
//! name = "…"                              # the arrangement's name
//! summary = "…"
//! "partner.community" = "…"              # a partner role's name
//! "partner.community.explain" = "…"      # its `explain`
//! "position.community.lane_manager" = "…"
//! "position.community.lane_manager.at" = "…"
//! "component.lane_sewer" = "…"
//! "action.survey" = "…"
//! "stage.requested" = "…"                # optional: pages have stage names
//! "rule.survey-promptly" = "…"           # a choice rule's `explain`
//! "rule.government-builds-external.penalty" = "…"
//! "aggregation.hand_over" = "…"          # an aggregation rule's `explain`
//! "reserve" = "…"                        # the reserve's `explain`
//! "spending.lane_sewer" = "…"            # a spending rule's `explain`
//! "information.household_names" = "…"    # optional: a record's name
//! "indicator.internal_share_pledged" = "…"             # an indicator's name
//! "indicator.internal_share_pledged.definition" = "…"  # and its definition
//! ```
//!
//! `Labels::parse` checks a labels file against its arrangement: a key that
//! names nothing in it, an empty text or a wrong arrangement id is an error
//! with its line and column; a name or explanation left untranslated is a
//! warning (the page falls back to the file's English words).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::check::Diagnostic;
use super::{Arrangement, ArrangementFile};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelsFile {
    arrangement: String,
    lang: String,
    #[serde(default)]
    text: BTreeMap<String, String>,
}

/// Checked labels for one arrangement in one language.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub arrangement: String,
    pub lang: String,
    pub text: BTreeMap<String, String>,
}

/// The labels that ship with Saanjh for the built-in arrangements.
pub const BUILT_IN_LABELS: &[(&str, &str)] = &[
    (
        "component-sharing.ur.toml",
        include_str!("../../../../arrangements/labels/component-sharing.ur.toml"),
    ),
    (
        "cost-sharing.ur.toml",
        include_str!("../../../../arrangements/labels/cost-sharing.ur.toml"),
    ),
    (
        "community-managed-water.ur.toml",
        include_str!("../../../../arrangements/labels/community-managed-water.ur.toml"),
    ),
];

/// The label keys an arrangement's names and texts call for (`expected`),
/// and those it also accepts (`optional`).
pub fn label_keys(f: &ArrangementFile) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut expected = BTreeSet::from(["name".to_string()]);
    let mut optional = BTreeSet::new();
    if f.arrangement.summary.is_some() {
        expected.insert("summary".into());
    }
    for (role, p) in &f.partners {
        expected.insert(format!("partner.{role}"));
        if p.explain.is_some() {
            expected.insert(format!("partner.{role}.explain"));
        }
    }
    for (id, p) in &f.positions {
        expected.insert(format!("position.{id}"));
        if p.at.is_some() {
            expected.insert(format!("position.{id}.at"));
        }
    }
    for kind in f.components.keys() {
        expected.insert(format!("component.{kind}"));
    }
    for id in f.actions.keys() {
        expected.insert(format!("action.{id}"));
    }
    for r in &f.rules {
        if r.explain.is_some() {
            expected.insert(format!("rule.{}", r.id));
        }
        if r.or_else.as_ref().is_some_and(|o| o.penalty.is_some()) {
            expected.insert(format!("rule.{}.penalty", r.id));
        }
    }
    for (action, a) in &f.aggregation {
        if a.explain.is_some() {
            expected.insert(format!("aggregation.{action}"));
        }
    }
    for (kind, r) in &f.spending {
        if r.explain.is_some() {
            expected.insert(format!("spending.{kind}"));
        }
    }
    // The arrangement's own indicators are shown on the diagnosis page
    // beside the built-in ones, whose names are in the pages' messages.
    for name in f.indicators.keys() {
        expected.insert(format!("indicator.{name}"));
        expected.insert(format!("indicator.{name}.definition"));
    }
    if f.reserve.as_ref().is_some_and(|r| r.explain.is_some()) {
        expected.insert("reserve".into());
    }
    for s in &f.lifecycle.stages {
        optional.insert(format!("stage.{}", s.as_ref()));
    }
    for record in f.information.keys() {
        optional.insert(format!("information.{record}"));
    }
    (expected, optional)
}

impl Labels {
    /// Read and check a labels file against `arr`. Ok carries the warnings
    /// (what is left untranslated).
    pub fn parse(
        source: &str,
        arr: &Arrangement,
    ) -> Result<(Labels, Vec<Diagnostic>), Vec<Diagnostic>> {
        let file: LabelsFile = toml::from_str(source).map_err(|e| {
            vec![Diagnostic::at_span(
                source,
                e.span(),
                e.message().to_string(),
            )]
        })?;
        let at = |needle: &str, msg: String| {
            let span = source.find(needle).map(|s| s..s);
            Diagnostic::at_span(source, span, msg)
        };
        let mut errors = vec![];
        if file.arrangement != arr.id() {
            errors.push(at(
                "arrangement",
                format!(
                    "these labels are for `{}`, not for the arrangement `{}`",
                    file.arrangement,
                    arr.id()
                ),
            ));
        }
        if !(2..=3).contains(&file.lang.len()) || !file.lang.chars().all(|c| c.is_ascii_lowercase())
        {
            errors.push(at(
                "lang",
                format!("`{}` is not a language code such as `ur`", file.lang),
            ));
        }
        let (expected, optional) = label_keys(&arr.file);
        for (key, value) in &file.text {
            let needle = format!("\"{key}\"");
            let needle = if source.contains(&needle) {
                needle
            } else {
                key.clone()
            };
            if !expected.contains(key) && !optional.contains(key) {
                errors.push(at(
                    &needle,
                    format!(
                        "`{key}` names nothing in the arrangement `{}` (keys are `partner.<role>`, `position.<role.position>`, `component.<kind>`, `action.<id>`, `stage.<id>`, `rule.<id>`, `aggregation.<action>`, `indicator.<name>`… of names the file defines)",
                        arr.id()
                    ),
                ));
            } else if value.trim().is_empty() {
                errors.push(at(&needle, format!("the label `{key}` is empty")));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let missing: Vec<&String> = expected
            .iter()
            .filter(|k| !file.text.contains_key(*k))
            .collect();
        let mut warnings = vec![];
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(8).map(|s| s.as_str()).collect();
            warnings.push(at(
                "[text]",
                format!(
                    "{} name(s) or explanation(s) have no `{}` label and will show in English: {}{}",
                    missing.len(),
                    file.lang,
                    shown.join(", "),
                    if missing.len() > shown.len() { ", …" } else { "" }
                ),
            ));
        }
        Ok((
            Labels {
                arrangement: file.arrangement,
                lang: file.lang,
                text: file.text,
            },
            warnings,
        ))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.text.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in(name: &str) -> Arrangement {
        let text = crate::BUILT_IN_ARRANGEMENTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .expect("built in");
        Arrangement::parse(text).expect("parses")
    }

    #[test]
    fn every_built_in_arrangement_is_fully_labelled_in_urdu() {
        for (file, source) in BUILT_IN_LABELS {
            let arr_file = file.replace(".ur.toml", ".toml");
            let arr = built_in(&arr_file);
            let (labels, warnings) =
                Labels::parse(source, &arr).unwrap_or_else(|e| panic!("{file}: {e:?}"));
            assert_eq!(labels.lang, "ur");
            assert!(warnings.is_empty(), "{file}: {warnings:?}");
            // Urdu is written in Arabic script: no label is left in English.
            for (k, v) in &labels.text {
                assert!(
                    v.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                    "{file}: `{k}` is not in Urdu: {v}"
                );
            }
        }
        assert_eq!(BUILT_IN_LABELS.len(), crate::BUILT_IN_ARRANGEMENTS.len());
    }

    #[test]
    fn a_label_for_nothing_is_refused_with_its_line() {
        let arr = built_in("component-sharing.toml");
        let src = "arrangement = \"component-sharing\"\nlang = \"ur\"\n[text]\n\"action.survey\" = \"سروے\"\n\"action.fly\" = \"اڑنا\"\n";
        let errors = Labels::parse(src, &arr).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 5);
        assert!(errors[0].message.contains("`action.fly` names nothing"));
        let wrong =
            "arrangement = \"cost-sharing\"\nlang = \"urdu!\"\n[text]\n\"action.survey\" = \" \"\n";
        let errors = Labels::parse(wrong, &arr).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn what_is_left_untranslated_is_a_warning() {
        let arr = built_in("component-sharing.toml");
        let src = "arrangement = \"component-sharing\"\nlang = \"ur\"\n[text]\n\"action.survey\" = \"سروے\"\n";
        let (labels, warnings) = Labels::parse(src, &arr).expect("only warnings");
        assert_eq!(labels.get("action.survey"), Some("سروے"));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("will show in English"));
    }
}
