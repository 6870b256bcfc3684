//! The figures behind an indicator's value ("7 of 9 obligations due met on
//! time") as data, so that a page can say them in the visitor's language.
//!
//! A detail is an arrangement-words [`Phrase`]: a message id and its
//! arguments (figures as codes, kept as written; partner roles as names the
//! arrangement defines; free text such as an expression's error as text).
//! Core renders English with the patterns below, which are the words the
//! API has always given in `detail`; the web layer renders other languages
//! from Fluent messages `dxd-<id>`. Indicator names and definitions are
//! looked up by the indicator's stable id in the same way (`ind-<id>` with
//! the dot as a dash), so none of them lives only in English here.

use crate::arrangement::words::{Arg, Conj, Name, Phrase, Words, fill, render_phrase};

/// Every detail message id, so that another language can be checked for
/// having them all.
pub const DETAIL_IDS: &[&str] = &[
    "none",
    "obligations-met",
    "obligations-due",
    "over-obligations",
    "days",
    "visits",
    "reserve",
    "no-reserve",
    "schemes-of",
    "households-of",
    "owed",
    "meetings-schemes",
    "attendees",
    "tariffs",
    "cash-contributions",
    "entries",
    "n-of",
    "meetings",
    "schemes-in-all",
    "rules-of",
    "bodies",
    "funded",
    "mean-over",
    "mean-over-failed",
];

/// The English pattern of a detail: `{arg}` is replaced by the argument.
pub fn english_detail(id: &str) -> Option<&'static str> {
    Some(match id {
        "none" => "",
        "obligations-met" => "{met} of {due} obligations due met on time",
        "obligations-due" => "{n} of {due} obligations due",
        "over-obligations" => "over {n} obligations",
        "days" => "{n} days",
        "visits" => "{n} visits over {schemes} schemes",
        "reserve" => "released {spent} of {allocated} allocated; {unspent} unspent",
        "no-reserve" => "no reserve allocation on record",
        "schemes-of" => "{n} of {of} schemes",
        "households-of" => "{n} of {of} households",
        "owed" => "{paid} of {owed} owed",
        "meetings-schemes" => "{meetings} meetings, {schemes} schemes",
        "attendees" => "{women} of {all} attendees",
        "tariffs" => "{collected} collected of {billed} billed",
        "cash-contributions" => "{n} of {of} cash contributions",
        "entries" => "{n} of {of} entries",
        "n-of" => "{n} of {of}",
        "meetings" => "{n} meetings",
        "schemes-in-all" => "{n} schemes in all",
        "rules-of" => "{n} rules of {of}",
        "bodies" => "{bodies}",
        "funded" => "{funded} of {estimate} over {n} schemes",
        "mean-over" => "mean over {n} schemes",
        "mean-over-failed" => "mean over {n} schemes; not measurable on {failed}: {reasons}",
        _ => return None,
    })
}

/// A detail with figures `args` (each shown as written).
pub fn detail(id: &'static str, args: &[(&'static str, String)]) -> Phrase {
    args.iter()
        .fold(Phrase::new(id), |p, (k, v)| p.code(k, v.clone()))
}

/// A list of partner roles (the bodies that met), each said as the
/// arrangement names it in the reader's language.
pub fn partners(roles: &[&str]) -> Arg {
    Arg::List(
        roles
            .iter()
            .map(|r| Arg::Name(Name::Partner((*r).to_string())))
            .collect(),
        Conj::Comma,
    )
}

/// Free text in a detail (a scheme's name with an expression's error),
/// shown as written in every language.
pub fn text(s: String) -> Arg {
    Arg::Code(s)
}

/// The detail in English, as the API gives it: roles as their ids in
/// words, which is what `detail` has always said.
pub fn english(p: &Phrase) -> String {
    render_phrase(&EnglishDetail, p)
}

struct EnglishDetail;

impl Words for EnglishDetail {
    fn phrase(&self, id: &str, args: &[(&str, String)]) -> String {
        english_detail(id)
            .map(|p| fill(p, args))
            .unwrap_or_else(|| id.to_string())
    }
    fn name(&self, name: &Name) -> String {
        match name {
            Name::Partner(r) | Name::Position(r) | Name::Action(r) | Name::Stage(r) => r.clone(),
            Name::Text { english, .. } => english.clone(),
            other => format!("{other:?}"),
        }
    }
    fn join(&self, items: Vec<String>, _conj: Conj) -> String {
        items.join(", ")
    }
    fn quote(&self, s: &str) -> String {
        format!("\"{s}\"")
    }
}

/// The message id of a built-in indicator's name (`ind-<condition>-<name>`);
/// its definition is the same id with `-def`.
pub fn indicator_key(id: &str) -> String {
    format!("ind-{}", id.replace('.', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detail_id_has_an_english_pattern() {
        for id in DETAIL_IDS {
            assert!(english_detail(id).is_some(), "{id}");
        }
        assert_eq!(
            english(&detail(
                "obligations-met",
                &[("met", "7".into()), ("due", "9".into())]
            )),
            "7 of 9 obligations due met on time"
        );
        let bodies = Phrase::new("bodies").arg("bodies", partners(&["community", "council"]));
        assert_eq!(english(&bodies), "community, council");
    }
}
