//! Arrangements: a co-production programme's rules-in-use, read from a TOML
//! file whose sections are the seven rule types of Ostrom's IAD framework.
//!
//! The file is the rulebook the engine enforces — there is no second copy of
//! the rules in code. This module holds the file's shape (`file`), its
//! validation with line-and-column diagnostics (`check`) and its rendering
//! back into plain words (`explain`).

mod check;
mod explain;
mod file;
pub mod labels;
pub mod words;

pub use check::Diagnostic;
pub use explain::{
    Explanation, Phrased, RULE_TYPES, RuleItem, consequence_line, duration_phrase, explain,
    explain_in, humanise_position, indicator_in_words, phrased, rule_in_words, rule_items,
    rule_line,
};
pub use file::*;

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// A validated arrangement, ready for the engine.
#[derive(Debug, Clone)]
pub struct Arrangement {
    pub file: ArrangementFile,
    /// The exact text it was read from; stored with each version so that an
    /// initiative can always show the rules it ran under.
    pub source: Arc<str>,
    /// SHA-256 of `source`, hex: identifies this text among stored versions.
    pub digest: String,
    /// Non-fatal findings (e.g. a position nobody's rule mentions).
    pub warnings: Vec<Diagnostic>,
}

impl Arrangement {
    /// Parse and validate an arrangement file. On failure every problem found
    /// is returned, each with its line and column in `source`.
    pub fn parse(source: &str) -> Result<Arrangement, Vec<Diagnostic>> {
        let file: ArrangementFile = toml::from_str(source).map_err(|e| {
            vec![Diagnostic::at_span(
                source,
                e.span(),
                e.message().to_string(),
            )]
        })?;
        let warnings = check::check(&file, source)?;
        let digest = hex::encode(Sha256::digest(source.as_bytes()));
        Ok(Arrangement {
            file,
            source: source.into(),
            digest,
            warnings,
        })
    }

    pub fn id(&self) -> &str {
        &self.file.arrangement.id
    }
    pub fn version(&self) -> u32 {
        self.file.arrangement.version
    }
    pub fn currency(&self) -> &str {
        &self.file.arrangement.currency
    }

    /// The action that brings a scheme into existence (it has a `to` stage
    /// and no `from`). Validation guarantees there is exactly one.
    pub fn creating_action(&self) -> Option<(&str, &ActionDef)> {
        self.file
            .actions
            .iter()
            .find(|(_, a)| a.creates())
            .map(|(k, a)| (k.as_str(), a))
    }

    pub fn action(&self, id: &str) -> Option<&ActionDef> {
        self.file.actions.get(id)
    }

    pub fn is_final(&self, stage: &str) -> bool {
        self.file
            .lifecycle
            .final_stages
            .iter()
            .any(|s| s.as_ref() == stage)
    }

    pub fn is_executing(&self, stage: &str) -> bool {
        self.file
            .lifecycle
            .executing
            .iter()
            .any(|s| s.as_ref() == stage)
    }

    /// Rules whose aim is `action`, in file order.
    pub fn rules_for<'a>(&'a self, action: &'a str) -> impl Iterator<Item = &'a ChoiceRule> + 'a {
        self.file
            .rules
            .iter()
            .filter(move |r| r.aim.as_ref() == action)
    }

    /// Whether a rule's attribute names a position the actor holds.
    /// `role.*` stands for any position within that partner role.
    pub fn attribute_matches(
        attribute: &str,
        positions: &std::collections::BTreeSet<String>,
    ) -> bool {
        if let Some(role) = attribute.strip_suffix(".*") {
            positions
                .iter()
                .any(|p| p.split_once('.').map(|(r, _)| r) == Some(role))
        } else {
            positions.contains(attribute)
        }
    }

    /// The stages in which a rule applies: its own list, else its action's.
    pub fn rule_stages<'a>(&'a self, rule: &'a ChoiceRule) -> Vec<&'a str> {
        match &rule.stages {
            Some(s) => s.iter().map(|s| s.as_ref().as_str()).collect(),
            None => self
                .action(rule.aim.as_ref())
                .map(|a| a.from.iter().map(|s| s.as_ref().as_str()).collect())
                .unwrap_or_default(),
        }
    }

    /// The information rule for a kind of record; what is not stated is
    /// shown to partners only (the cautious default).
    pub fn visibility(&self, record: &str) -> Visibility {
        self.file
            .information
            .get(record)
            .cloned()
            .unwrap_or(Visibility::Partners)
    }

    /// The component kinds in scope, with who delivers each.
    /// The spending rule for a component kind: its own, else `"*"`.
    pub fn spending_rule(&self, kind: &str) -> Option<&SpendingRule> {
        self.file
            .spending
            .get(kind)
            .or_else(|| self.file.spending.get("*"))
    }

    pub fn components(&self) -> &BTreeMap<String, ComponentScope> {
        &self.file.components
    }
}

#[cfg(test)]
mod tests;
