//! Qualitative evidence: interviews and documents, a codebook, coded
//! passages, agreement between coders and search.
//!
//! The study behind Saanjh compared arrangements from interviews and
//! documents; here a measured weakness can be read beside the partners' own
//! words. A codebook is a TOML file (`codebooks/iad.toml` ships with Saanjh:
//! the IAD variables and the conditions); an extension file may add codes
//! but not redefine one, so a code keeps one meaning across an analysis.
//! Passages are byte ranges of a transcript's UTF-8 text, and must fall on
//! character boundaries.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The codebook that ships with Saanjh.
pub const IAD_CODEBOOK: &str = include_str!("../../../../codebooks/iad.toml");

/// One code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub name: String,
    pub description: String,
    /// The IAD element it belongs to (`rules_in_use`, `patterns_of_interaction`, …).
    #[serde(default)]
    pub iad: Option<String>,
    /// The condition it speaks to, if any (one of [`super::CONDITIONS`] or the outcome).
    #[serde(default)]
    pub condition: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodebookFile {
    codebook: Header,
    #[serde(default)]
    codes: BTreeMap<String, Code>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    name: String,
}

/// A codebook: codes by id.
#[derive(Debug, Clone, Serialize)]
pub struct Codebook {
    pub id: String,
    pub name: String,
    pub codes: BTreeMap<String, Code>,
}

impl Codebook {
    /// Parses a codebook file, checking that codes name known conditions.
    pub fn parse(text: &str) -> Result<Codebook, String> {
        let f: CodebookFile = toml::from_str(text).map_err(|e| format!("codebook: {e}"))?;
        let known: BTreeSet<&str> = super::CONDITIONS
            .iter()
            .copied()
            .chain([super::OUTCOME])
            .collect();
        for (id, c) in &f.codes {
            if let Some(cond) = &c.condition
                && !known.contains(cond.as_str())
            {
                return Err(format!("code `{id}`: `{cond}` is not a condition"));
            }
        }
        Ok(Codebook {
            id: f.codebook.id,
            name: f.codebook.name,
            codes: f.codes,
        })
    }

    /// The shipped IAD codebook.
    pub fn iad() -> Codebook {
        // A test checks that the shipped file parses.
        Codebook::parse(IAD_CODEBOOK).unwrap_or_else(|_| Codebook {
            id: "iad".into(),
            name: "IAD".into(),
            codes: BTreeMap::new(),
        })
    }

    /// Adds the codes of an extension; redefining a code is an error.
    pub fn extend(&mut self, text: &str) -> Result<(), String> {
        let ext = Codebook::parse(text)?;
        if let Some(dup) = ext.codes.keys().find(|k| self.codes.contains_key(*k)) {
            return Err(format!(
                "code `{dup}` is already defined in codebook `{}`",
                self.id
            ));
        }
        self.codes.extend(ext.codes);
        Ok(())
    }

    pub fn check_code(&self, code: &str) -> Result<&Code, String> {
        self.codes.get(code).ok_or_else(|| {
            format!(
                "`{code}` is not a code of codebook `{}` (codes: {})",
                self.id,
                self.codes.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }
}

/// A transcript's bytes as text: UTF-8 only (a leading byte-order mark is
/// dropped); anything else is refused with the offset of the first bad byte.
pub fn transcript_text(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(format!(
            "the transcript is not UTF-8: invalid byte at offset {}; save it as UTF-8 and upload it again",
            e.valid_up_to()
        )),
    }
}

/// Checks a passage's range against its text and returns the passage.
pub fn passage(text: &str, start: usize, end: usize) -> Result<&str, String> {
    if start >= end || end > text.len() {
        return Err(format!(
            "passage {start}..{end} is not a non-empty range within the text's {} bytes",
            text.len()
        ));
    }
    text.get(start..end)
        .ok_or_else(|| format!("passage {start}..{end} does not fall on character boundaries"))
}

/// Cohen's kappa for two coders who each gave one code to the same items:
/// (po − pe) / (1 − pe). `None` when the items are empty or chance
/// agreement is total (both coders used one and the same code throughout).
pub fn cohens_kappa(pairs: &[(&str, &str)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let agree = pairs.iter().filter(|(a, b)| a == b).count() as f64;
    let mut ca: BTreeMap<&str, f64> = BTreeMap::new();
    let mut cb: BTreeMap<&str, f64> = BTreeMap::new();
    for (a, b) in pairs {
        *ca.entry(a).or_default() += 1.0;
        *cb.entry(b).or_default() += 1.0;
    }
    let po = agree / n;
    let pe: f64 = ca
        .iter()
        .map(|(k, na)| na / n * cb.get(k).copied().unwrap_or(0.0) / n)
        .sum();
    if (1.0 - pe).abs() < 1e-12 {
        return None;
    }
    Some((po - pe) / (1.0 - pe))
}

/// Cohen's kappa per code for passages coded by two coders: each passage
/// is an item, and a coder either applied the code to it or not.
pub fn kappa_per_code(
    passages: &BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
    codes: &BTreeSet<String>,
) -> BTreeMap<String, Option<f64>> {
    codes
        .iter()
        .map(|code| {
            let items: Vec<(&str, &str)> = passages
                .values()
                .map(|(a, b)| {
                    (
                        if a.contains(code) { "yes" } else { "no" },
                        if b.contains(code) { "yes" } else { "no" },
                    )
                })
                .collect();
            (code.clone(), cohens_kappa(&items))
        })
        .collect()
}

/// A coded passage as searched and shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodedPassage {
    pub evidence: String,
    pub initiative: String,
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub code: String,
    pub coder: String,
}

/// Passages matching every word of `query` (case-insensitive) and, when
/// given, one code.
pub fn search<'a>(
    passages: &'a [CodedPassage],
    query: &str,
    code: Option<&str>,
) -> Vec<&'a CodedPassage> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    passages
        .iter()
        .filter(|p| code.is_none_or(|c| p.code == c))
        .filter(|p| {
            let t = p.text.to_lowercase();
            words.iter().all(|w| t.contains(w.as_str()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_matches_a_hand_computed_example() {
        // 10 passages; coder A: trust ×6, resources ×4; coder B agrees on 5
        // trust and 3 resources, swaps 1 each way.
        // po = 8/10 = 0.8; pA(trust) = 0.6, pB(trust) = 0.6,
        // pe = 0.6·0.6 + 0.4·0.4 = 0.52; kappa = (0.8 − 0.52)/(1 − 0.52)
        // = 0.28/0.48 = 0.583333…
        let mut pairs = vec![("trust", "trust"); 5];
        pairs.extend(vec![("resources", "resources"); 3]);
        pairs.push(("trust", "resources"));
        pairs.push(("resources", "trust"));
        let k = cohens_kappa(&pairs).unwrap();
        assert!((k - 0.28 / 0.48).abs() < 1e-12, "{k}");
        assert_eq!(cohens_kappa(&[("a", "a"), ("a", "a")]), None);
        assert_eq!(cohens_kappa(&[]), None);
        assert_eq!(cohens_kappa(&[("a", "a"), ("b", "b")]), Some(1.0));
    }

    #[test]
    fn shipped_codebook_parses_and_covers_every_condition() {
        let cb = Codebook::parse(IAD_CODEBOOK).unwrap();
        for c in super::super::CONDITIONS
            .iter()
            .chain([&super::super::OUTCOME])
        {
            assert!(
                cb.codes
                    .values()
                    .any(|code| code.condition.as_deref() == Some(*c)),
                "no code for {c}"
            );
        }
        assert!(cb.check_code("nope").unwrap_err().contains("not a code"));
        let mut cb2 = cb.clone();
        let err = cb2
            .extend("[codebook]\nid='x'\nname='x'\n[codes.trust_in_officials]\nname='a'\ndescription='b'\n")
            .unwrap_err();
        assert!(err.contains("already defined"), "{err}");
        cb2.extend("[codebook]\nid='x'\nname='x'\n[codes.capture]\nname='elite capture'\ndescription='office-bearers are councillors or relatives'\ncondition='trust'\n").unwrap();
        assert!(cb2.check_code("capture").is_ok());
        assert!(Codebook::parse("[codebook]\nid='x'\nname='x'\n[codes.a]\nname='a'\ndescription='b'\ncondition='luck'\n").is_err());
    }

    #[test]
    fn transcripts_must_be_utf8() {
        assert_eq!(transcript_text("سانجھ".as_bytes()).unwrap(), "سانجھ");
        assert_eq!(transcript_text(b"\xEF\xBB\xBFhi").unwrap(), "hi");
        let e = transcript_text(b"ab\xE9cd").unwrap_err();
        assert!(e.contains("offset 2"), "{e}");
        let t = "ab سانجھ";
        assert!(passage(t, 0, 2).is_ok());
        assert!(
            passage(t, 0, 4)
                .unwrap_err()
                .contains("character boundaries")
        );
        assert!(passage(t, 3, 3).is_err());
    }

    #[test]
    fn search_needs_every_word() {
        let p = |text: &str, code: &str| CodedPassage {
            evidence: "e".into(),
            initiative: "i".into(),
            start: 0,
            end: text.len(),
            text: text.into(),
            code: code.into(),
            coder: "a".into(),
        };
        let ps = vec![
            p("The TMA never paved the street", "external_works"),
            p("We trusted the treasurer", "trust_in_committee"),
        ];
        assert_eq!(search(&ps, "tma street", None).len(), 1);
        assert_eq!(search(&ps, "the", Some("trust_in_committee")).len(), 1);
        assert!(search(&ps, "tma treasurer", None).is_empty());
    }
}
