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
//!
//! **Agreement units.** Two coders rarely select the same bytes: one takes
//! the sentence, the other the sentence and its full stop, or a clause of
//! it. Comparing exact ranges would call those different passages and leave
//! them out of Cohen's kappa, which then measures almost nothing. So the
//! units of agreement are built from the spans themselves ([`agreement`]):
//! on each document, the spans of both coders are merged wherever they
//! overlap (share at least one byte; touching ranges do not overlap), and
//! each merged stretch is one unit. This is segment-level agreement as
//! qualitative analysis software does it (MAXQDA's "segment" criterion
//! counts two coders' segments as the same when they overlap, there with an
//! adjustable minimum share), taken to its loosest threshold: any overlap.
//! Why any overlap: a codebook codes passages about one thing, a slightly
//! different selection of the same passage is the common case, and a
//! stricter share would turn ordinary boundary differences into
//! disagreements about whether the passage was coded at all. The price is
//! that one coder's long span over two of the other's passages makes them
//! one unit; every unit is reported with its byte range, so such a unit can
//! be seen and discussed.
//!
//! On those units: Cohen's kappa over the units both coded, each with one
//! code (units where a coder gave several codes are counted, not guessed
//! at); units only one coder coded are reported apart, since a coder who
//! did not code a passage gave it no category; and per code, presence or
//! absence over every unit (there a unit only one coder coded is a
//! disagreement about that code), with its two-by-two table.

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
    // Windows tools often save "Unicode" text as UTF-16; say so, since the
    // offset of a bad byte would not help anyone find the cause.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(
            "the transcript is not UTF-8: it is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8 and upload it again"
                .to_string(),
        );
    }
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

/// One coded span of one coder, as agreement reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<'a> {
    pub evidence: &'a str,
    /// Byte range in the evidence's text, end exclusive.
    pub start: usize,
    pub end: usize,
    pub code: &'a str,
}

/// A unit of agreement: a stretch of one document where the two coders'
/// spans overlap (or one coder's span alone), with the codes each gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub evidence: String,
    pub start: usize,
    pub end: usize,
    /// Codes the first coder gave spans in the unit.
    pub a: BTreeSet<String>,
    /// Codes the second coder gave spans in the unit.
    pub b: BTreeSet<String>,
}

/// One code's agreement: its kappa over every unit (applied or not) and the
/// two-by-two table behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeAgreement {
    pub kappa: Option<f64>,
    /// Units both coders gave the code.
    pub both: usize,
    pub only_a: usize,
    pub only_b: usize,
    /// Units neither gave it.
    pub neither: usize,
}

/// Two coders' agreement on a set of documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// Every unit, coded by either coder.
    pub units: usize,
    pub coded_by_both: usize,
    /// Units only the first (second) coder coded.
    pub only_a: usize,
    pub only_b: usize,
    /// Cohen's kappa over the units both coded with one code each.
    pub kappa: Option<f64>,
    pub kappa_units: usize,
    /// Units both coded where a coder gave more than one code (in the
    /// per-code figures, not in `kappa`).
    pub several_codes: usize,
    pub per_code: BTreeMap<String, CodeAgreement>,
    /// The units, by document and position.
    pub unit_list: Vec<Unit>,
}

/// The units of agreement of two coders' spans (see the module's words on
/// agreement units): per document, spans merged where they overlap.
pub fn units(a: &[Span], b: &[Span]) -> Vec<Unit> {
    let mut all: Vec<(&str, usize, usize, bool, &str)> = a
        .iter()
        .map(|s| (s.evidence, s.start, s.end, true, s.code))
        .chain(
            b.iter()
                .map(|s| (s.evidence, s.start, s.end, false, s.code)),
        )
        .filter(|s| s.1 < s.2)
        .collect();
    all.sort();
    let mut out: Vec<Unit> = vec![];
    for (evidence, start, end, first, code) in all {
        let joins = out
            .last()
            .is_some_and(|u| u.evidence == evidence && start < u.end);
        if !joins {
            out.push(Unit {
                evidence: evidence.to_string(),
                start,
                end,
                a: BTreeSet::new(),
                b: BTreeSet::new(),
            });
        }
        if let Some(u) = out.last_mut() {
            u.end = u.end.max(end);
            if first { &mut u.a } else { &mut u.b }.insert(code.to_string());
        }
    }
    out
}

/// Agreement between two coders, on units built from their spans.
pub fn agreement(a: &[Span], b: &[Span]) -> Agreement {
    let list = units(a, b);
    let both: Vec<&Unit> = list
        .iter()
        .filter(|u| !u.a.is_empty() && !u.b.is_empty())
        .collect();
    let single: Vec<(&str, &str)> = both
        .iter()
        .filter(|u| u.a.len() == 1 && u.b.len() == 1)
        .filter_map(|u| Some((u.a.iter().next()?.as_str(), u.b.iter().next()?.as_str())))
        .collect();
    let codes: BTreeSet<&String> = list.iter().flat_map(|u| u.a.iter().chain(&u.b)).collect();
    let per_code = codes
        .into_iter()
        .map(|code| {
            let (mut yy, mut yn, mut ny, mut nn) = (0, 0, 0, 0);
            let items: Vec<(&str, &str)> = list
                .iter()
                .map(|u| {
                    let (x, y) = (u.a.contains(code), u.b.contains(code));
                    match (x, y) {
                        (true, true) => yy += 1,
                        (true, false) => yn += 1,
                        (false, true) => ny += 1,
                        (false, false) => nn += 1,
                    }
                    (if x { "yes" } else { "no" }, if y { "yes" } else { "no" })
                })
                .collect();
            (
                code.clone(),
                CodeAgreement {
                    kappa: cohens_kappa(&items),
                    both: yy,
                    only_a: yn,
                    only_b: ny,
                    neither: nn,
                },
            )
        })
        .collect();
    Agreement {
        units: list.len(),
        coded_by_both: both.len(),
        only_a: list.iter().filter(|u| u.b.is_empty()).count(),
        only_b: list.iter().filter(|u| u.a.is_empty()).count(),
        kappa: cohens_kappa(&single),
        kappa_units: single.len(),
        several_codes: both.len() - single.len(),
        per_code,
        unit_list: list,
    }
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

    fn span<'a>(evidence: &'a str, start: usize, end: usize, code: &'a str) -> Span<'a> {
        Span {
            evidence,
            start,
            end,
            code,
        }
    }

    #[test]
    fn agreement_on_overlapping_spans_matches_hand_computed_figures() {
        // Coder A and coder B on one document, selecting slightly different
        // spans of the same passages:
        //   U1 A [0,40) trust        B [5,42) trust
        //   U2 A [50,90) resources   B [52,88) trust
        //   U3 A [100,130) external  B [100,128) external
        //   U4 A [150,170) willing   —
        //   U5 —                     B [180,195) trust
        let a = [
            span("e", 0, 40, "trust"),
            span("e", 50, 90, "resources"),
            span("e", 100, 130, "external"),
            span("e", 150, 170, "willing"),
        ];
        let b = [
            span("e", 5, 42, "trust"),
            span("e", 52, 88, "trust"),
            span("e", 100, 128, "external"),
            span("e", 180, 195, "trust"),
        ];
        let g = agreement(&a, &b);
        assert_eq!(g.units, 5);
        assert_eq!(g.coded_by_both, 3);
        assert_eq!((g.only_a, g.only_b), (1, 1));
        let ranges: Vec<(usize, usize)> = g.unit_list.iter().map(|u| (u.start, u.end)).collect();
        assert_eq!(
            ranges,
            [(0, 42), (50, 90), (100, 130), (150, 170), (180, 195)]
        );
        // Kappa over U1–U3: pairs (trust,trust), (resources,trust),
        // (external,external). po = 2/3. A: trust, resources, external
        // 1/3 each; B: trust 2/3, external 1/3.
        // pe = 1/3·2/3 + 1/3·1/3 = 1/3; kappa = (2/3 − 1/3)/(1 − 1/3) = 1/2.
        assert_eq!(g.kappa_units, 3);
        assert!((g.kappa.unwrap() - 0.5).abs() < 1e-12, "{:?}", g.kappa);
        // Per code over all five units. trust: A yes on U1; B yes on U1,
        // U2, U5 → both 1, only B 2, neither 2. po = 3/5;
        // pe = 1/5·3/5 + 4/5·2/5 = 11/25; kappa = (15/25 − 11/25)/(14/25) = 2/7.
        let t = &g.per_code["trust"];
        assert_eq!((t.both, t.only_a, t.only_b, t.neither), (1, 0, 2, 2));
        assert!((t.kappa.unwrap() - 2.0 / 7.0).abs() < 1e-12, "{t:?}");
        // external: both on U3 alone → perfect agreement.
        assert_eq!(g.per_code["external"].kappa, Some(1.0));
        // resources: A once, B never. po = 4/5, pe = 1/5·0 + 4/5·1 = 4/5 → 0.
        let r = &g.per_code["resources"];
        assert_eq!((r.both, r.only_a, r.only_b, r.neither), (0, 1, 0, 4));
        assert!(r.kappa.unwrap().abs() < 1e-12);
        assert_eq!(g.per_code.len(), 4);
    }

    #[test]
    fn units_merge_chains_of_overlaps_but_not_documents_or_touching_spans() {
        // A's long span covers two of B's passages: one unit, in which B
        // gave two codes (counted apart from kappa, kept per code).
        let a = [span("e", 200, 300, "trust"), span("f", 0, 10, "trust")];
        let b = [
            span("e", 200, 240, "trust"),
            span("e", 260, 300, "resources"),
            // The same bytes in another document are another unit.
            span("g", 0, 10, "trust"),
            // Touching A's span in `f` is not overlapping it.
            span("f", 10, 20, "trust"),
        ];
        let g = agreement(&a, &b);
        assert_eq!(g.units, 4, "{:?}", g.unit_list);
        assert_eq!(g.coded_by_both, 1);
        assert_eq!(g.several_codes, 1);
        assert_eq!(g.kappa_units, 0);
        assert_eq!(g.kappa, None);
        assert_eq!((g.only_a, g.only_b), (1, 2));
        let u = &g.unit_list[0];
        assert_eq!((u.start, u.end, u.b.len()), (200, 300, 2));
        // Identical ranges are still one unit (the old rule is the special case).
        let same = agreement(&[span("e", 0, 5, "x")], &[span("e", 0, 5, "x")]);
        assert_eq!((same.units, same.coded_by_both), (1, 1));
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
        let e = transcript_text(b"\xFF\xFEh\x00i\x00").unwrap_err();
        assert!(e.contains("UTF-16"), "{e}");
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
