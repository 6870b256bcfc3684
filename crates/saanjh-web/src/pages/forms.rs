//! Act forms: which fields an act's form has (from what the action
//! records, and whether it needs a resolution), and turning a submitted
//! form back into an `Act` for `service::act`. Amounts are typed in rupees
//! ("150000" or "1,50,000") and kept in paisa.

use std::collections::BTreeMap;

use saanjh_core::arrangement::words::Name;
use saanjh_core::arrangement::{Arrangement, RecordKind};
use saanjh_core::engine::{Act, ComponentInput, SchemeState};
use saanjh_core::ledger::{EntryInput, Means, Money};
use saanjh_core::model::{Attendance, Household, Meeting, ResolutionRecord};

use super::ctx::Visitor;
use crate::ApiError;

/// One input of a form.
pub struct Field {
    pub name: String,
    pub label: String,
    /// text, number, money (text, so "1,50,000" can be typed), date,
    /// select, textarea, file, checkbox
    pub kind: &'static str,
    pub options: Vec<(String, String)>,
    pub required: bool,
    pub value: String,
    pub hint: String,
}

impl Field {
    fn new(name: &str, label: String, kind: &'static str) -> Field {
        Field {
            name: name.into(),
            label,
            kind,
            options: vec![],
            required: false,
            value: String::new(),
            hint: String::new(),
        }
    }
    fn required(mut self) -> Field {
        self.required = true;
        self
    }
    fn value(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }
    fn options(mut self, o: Vec<(String, String)>) -> Field {
        self.options = o;
        self
    }
    fn hint(mut self, h: String) -> Field {
        self.hint = h;
        self
    }
}

/// A form for one act.
pub struct ActForm {
    pub action: String,
    pub title: String,
    pub fields: Vec<Field>,
}

fn roles(v: &Visitor, arr: &Arrangement) -> Vec<(String, String)> {
    let w = v.words(arr);
    arr.file
        .partners
        .keys()
        .map(|id| (id.clone(), w.say(Name::Partner(id.clone()))))
        .collect()
}

fn components(v: &Visitor, arr: &Arrangement) -> Vec<(String, String)> {
    let w = v.words(arr);
    arr.components()
        .keys()
        .map(|id| (id.clone(), w.say(Name::Component(id.clone()))))
        .collect()
}

/// The form for `action` on `scheme` (or, without a scheme, the creating
/// act), for a visitor holding `held` positions.
pub fn act_form(
    v: &Visitor,
    arr: &Arrangement,
    action: &str,
    scheme: Option<&SchemeState>,
    reversible: &[saanjh_core::ledger::statement::PostedEntry],
    held: &std::collections::BTreeSet<String>,
    today: &str,
) -> ActForm {
    let def = arr.action(action);
    let title = v.act_name(arr, action);
    let mut fields = vec![];
    let my_role = held
        .iter()
        .next()
        .and_then(|p| p.split('.').next())
        .unwrap_or("")
        .to_string();
    if def.is_some_and(|d| d.creates()) {
        fields.push(Field::new("name", v.t("f-scheme-name"), "text").required());
        for (id, name) in components(v, arr) {
            fields.push(Field::new(&format!("component_{id}"), name, "checkbox").value("on"));
        }
    }
    // `if let` rather than `match`: kinds added to the core later (with no
    // page form yet) simply get the note field below.
    let records = def.and_then(|d| d.records);
    if let Some(RecordKind::Estimate) = records {
        for (id, name) in components(v, arr) {
            fields
                .push(Field::new(&format!("est_{id}"), format!("{name} (Rs)"), "money").required());
        }
    } else if let Some(RecordKind::Meeting) = records {
        fields.push(
            Field::new("body", v.t("f-body"), "select")
                .options(roles(v, arr))
                .value(my_role.clone()),
        );
        fields.push(
            Field::new("held_on", v.t("f-held-on"), "date")
                .required()
                .value(today),
        );
        fields.push(Field::new("place", v.t("f-place"), "text"));
        fields.push(
            Field::new("women", v.t("f-women"), "number")
                .required()
                .value("0"),
        );
        fields.push(
            Field::new("men", v.t("f-men"), "number")
                .required()
                .value("0"),
        );
        fields.push(Field::new("motion", v.t("f-motion"), "text"));
        let mut acts = vec![(String::new(), "—".to_string())];
        acts.extend(
            arr.file
                .aggregation
                .iter()
                .filter(|(_, a)| a.resolution.is_some())
                .map(|(id, _)| (id.clone(), v.act_name(arr, id))),
        );
        fields.push(Field::new("motion_action", v.t("f-motion-action"), "select").options(acts));
        fields.push(Field::new("votes_for", v.t("f-votes-for"), "number").value("0"));
        fields.push(Field::new("votes_against", v.t("f-votes-against"), "number").value("0"));
        fields.push(Field::new("minutes", v.t("f-minutes"), "textarea"));
    } else if let Some(RecordKind::Household) = records {
        fields.push(Field::new("house", v.t("f-house"), "text").required());
        fields.push(Field::new("head", v.t("f-head"), "text"));
        fields.push(Field::new("members", v.t("f-members"), "number"));
    } else if let Some(RecordKind::Note) = records {
        fields.push(Field::new("photo", v.t("f-photo"), "file").hint(v.t("f-photo-hint")));
        fields.push(Field::new("caption", v.t("f-caption"), "text"));
    } else if let Some(RecordKind::Reversal) = records {
        // The latest entries that can still be reversed (the store's
        // `reversible_entries`), not a scheme's whole history.
        let entries = reversible
            .iter()
            .map(|e| {
                let l = &e.line;
                (
                    e.id.clone(),
                    format!("{} {} {}", l.kind, l.role, super::views::rs(l.amount)),
                )
            })
            .collect();
        fields.push(
            Field::new("reverses", v.t("f-reverses"), "select")
                .options(entries)
                .required(),
        );
    } else if let Some(
        kind @ (RecordKind::Pledge
        | RecordKind::Contribution
        | RecordKind::Release
        | RecordKind::Expenditure
        | RecordKind::Refund),
    ) = records
    {
        fields.push(
            Field::new("role", v.t("f-role"), "select")
                .options(roles(v, arr))
                .value(my_role.clone()),
        );
        let amount_hint = if matches!(kind, RecordKind::Contribution) {
            v.t("f-amount-hint")
        } else {
            String::new()
        };
        fields.push(Field::new("amount", v.t("f-amount"), "money").hint(amount_hint));
        if matches!(kind, RecordKind::Contribution) {
            fields.push(Field::new("means", v.t("f-means"), "select").options(vec![
                ("cash".into(), v.t("means-cash")),
                ("labour".into(), v.t("means-labour")),
                ("materials".into(), v.t("means-materials")),
            ]));
            fields.push(Field::new("quantity", v.t("f-quantity"), "number"));
            fields.push(Field::new("rate", v.t("f-rate"), "money"));
        }
        if matches!(
            kind,
            RecordKind::Pledge | RecordKind::Contribution | RecordKind::Refund
        ) {
            let mut hh = vec![(String::new(), "—".to_string())];
            if let Some(s) = scheme {
                hh.extend(s.household_ids.iter().map(|h| (h.clone(), h.clone())));
            }
            fields.push(Field::new("household", v.t("f-household"), "select").options(hh));
        }
        if !matches!(kind, RecordKind::Pledge) {
            fields.push(Field::new("receipt", v.t("f-receipt"), "text"));
        }
        if matches!(kind, RecordKind::Release | RecordKind::Expenditure) {
            let mut c = vec![(String::new(), "—".to_string())];
            c.extend(components(v, arr));
            fields.push(Field::new("component", v.t("f-component"), "select").options(c));
        }
        if matches!(kind, RecordKind::Expenditure | RecordKind::Refund) {
            fields.push(Field::new("payee", v.t("f-payee"), "text"));
        }
        fields.push(Field::new("purpose", v.t("f-purpose"), "text"));
        fields.push(Field::new("on", v.t("f-on"), "date").value(today));
    }
    // An act decided by a resolution names the meeting that passed it.
    if arr
        .file
        .aggregation
        .get(action)
        .is_some_and(|a| a.resolution.is_some())
    {
        let meetings = scheme
            .map(|s| {
                s.meetings
                    .iter()
                    .map(|(id, m)| {
                        (
                            id.clone(),
                            format!(
                                "{} — {}",
                                m.held_on,
                                m.resolutions
                                    .first()
                                    .map(|r| r.motion.as_str())
                                    .unwrap_or("")
                            ),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        fields.push(
            Field::new("resolution_meeting", v.t("f-resolution"), "select")
                .options(meetings)
                .required(),
        );
    }
    fields.push(Field::new("note", v.t("f-note"), "textarea"));
    ActForm {
        action: action.to_string(),
        title,
        fields,
    }
}

/// Whether these pages have a form for what an action records. Kinds added
/// to the core later (scorecards, responses to reports) have their own
/// interfaces until a page form is written for them.
pub fn has_page_form(records: Option<RecordKind>) -> bool {
    records.is_none()
        || matches!(
            records,
            Some(
                RecordKind::Estimate
                    | RecordKind::Meeting
                    | RecordKind::Household
                    | RecordKind::Note
                    | RecordKind::Reversal
                    | RecordKind::Pledge
                    | RecordKind::Contribution
                    | RecordKind::Release
                    | RecordKind::Expenditure
                    | RecordKind::Refund
            )
        )
}

fn text(form: &BTreeMap<String, String>, k: &str) -> Option<String> {
    form.get(k)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn int(form: &BTreeMap<String, String>, k: &str) -> Result<Option<i64>, ApiError> {
    match text(form, k) {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            ApiError::unprocessable(format!("`{k}` must be a whole number, not \"{s}\""))
        }),
    }
}

fn count(form: &BTreeMap<String, String>, k: &str) -> Result<u32, ApiError> {
    let n = int(form, k)?.unwrap_or(0);
    u32::try_from(n).map_err(|_| ApiError::unprocessable(format!("`{k}` must be 0 or more")))
}

/// Rupees as typed ("1,50,000", "1500.50") to paisa.
pub fn rupees(form: &BTreeMap<String, String>, k: &str) -> Result<Option<i64>, ApiError> {
    match text(form, k) {
        None => Ok(None),
        Some(s) => Money::parse_major(&s.replace([',', ' '], ""))
            .map(|m| Some(m.minor()))
            .map_err(|e| ApiError::unprocessable(format!("`{k}`: {e}"))),
    }
}

/// A submitted act form as an `Act`.
pub fn to_act(
    arr: &Arrangement,
    action: &str,
    form: &BTreeMap<String, String>,
) -> Result<Act, ApiError> {
    let def = arr
        .action(action)
        .ok_or_else(|| ApiError::not_found(format!("`{}` has no action `{action}`", arr.id())))?;
    let mut act = Act {
        action: action.to_string(),
        note: text(form, "note"),
        resolution_meeting: text(form, "resolution_meeting"),
        ..Act::default()
    };
    if def.creates() {
        act.name = text(form, "name");
        act.components = arr
            .components()
            .keys()
            .filter(|k| form.contains_key(&format!("component_{k}")))
            .map(|k| ComponentInput {
                kind: k.clone(),
                description: None,
                estimate: None,
            })
            .collect();
    }
    let records = def.records;
    if let Some(RecordKind::Estimate) = records {
        for k in arr.components().keys() {
            if let Some(a) = rupees(form, &format!("est_{k}"))? {
                act.estimates.insert(k.clone(), a);
            }
        }
    } else if let Some(RecordKind::Meeting) = records {
        let mut resolutions = vec![];
        if let Some(motion) = text(form, "motion") {
            resolutions.push(ResolutionRecord {
                motion,
                action: text(form, "motion_action"),
                votes_for: count(form, "votes_for")?,
                votes_against: count(form, "votes_against")?,
                abstentions: 0,
            });
        }
        act.meeting = Some(Meeting {
            body: text(form, "body").unwrap_or_default(),
            held_on: text(form, "held_on").unwrap_or_default(),
            place: text(form, "place"),
            attendance: Attendance {
                women: count(form, "women")?,
                men: count(form, "men")?,
                ..Attendance::default()
            },
            resolutions,
            minutes: text(form, "minutes"),
        });
    } else if let Some(RecordKind::Household) = records {
        act.household = Some(Household {
            house: text(form, "house").unwrap_or_default(),
            head: text(form, "head"),
            members: int(form, "members")?.and_then(|n| u32::try_from(n).ok()),
        });
    } else if let Some(RecordKind::Reversal) = records {
        act.entry = Some(EntryInput {
            role: text(form, "role").unwrap_or_default(),
            reverses: text(form, "reverses"),
            ..EntryInput::default()
        });
    } else if let Some(
        RecordKind::Pledge
        | RecordKind::Contribution
        | RecordKind::Release
        | RecordKind::Expenditure
        | RecordKind::Refund,
    ) = records
    {
        let means = match text(form, "means").as_deref() {
            Some("labour") => Means::Labour,
            Some("materials") => Means::Materials,
            _ => Means::Cash,
        };
        act.entry = Some(EntryInput {
            role: text(form, "role").unwrap_or_default(),
            amount: rupees(form, "amount")?,
            means,
            quantity: int(form, "quantity")?,
            rate: rupees(form, "rate")?,
            household: text(form, "household"),
            receipt: text(form, "receipt"),
            component: text(form, "component"),
            payee: text(form, "payee"),
            purpose: text(form, "purpose"),
            reverses: None,
            on: text(form, "on"),
            currency: None,
        });
    }
    Ok(act)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr() -> Arrangement {
        let text = saanjh_core::BUILT_IN_ARRANGEMENTS
            .iter()
            .find(|(n, _)| *n == "component-sharing.toml")
            .map(|(_, t)| *t)
            .expect("built in");
        Arrangement::parse(text).expect("parses")
    }

    fn form(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn contribution_in_rupees_with_lakh_commas() {
        let a = to_act(
            &arr(),
            "record_contribution",
            &form(&[
                ("role", "community"),
                ("amount", "1,50,000"),
                ("receipt", "R-1"),
            ]),
        )
        .expect("act");
        let e = a.entry.expect("entry");
        assert_eq!(e.amount, Some(150_000 * 100));
        assert_eq!(e.receipt.as_deref(), Some("R-1"));
    }

    #[test]
    fn bad_numbers_are_refused_not_guessed() {
        let e = to_act(&arr(), "record_meeting", &form(&[("women", "many")])).unwrap_err();
        assert!(e.problem.detail.contains("women"), "{}", e.problem.detail);
        let e = to_act(&arr(), "record_contribution", &form(&[("amount", "abc")])).unwrap_err();
        assert!(e.problem.detail.contains("amount"));
    }

    #[test]
    fn creating_act_takes_ticked_components() {
        let a = to_act(
            &arr(),
            "request",
            &form(&[("name", "Street 3"), ("component_lane_sewer", "on")]),
        )
        .expect("act");
        assert_eq!(a.name.as_deref(), Some("Street 3"));
        assert_eq!(a.components.len(), 1);
        assert_eq!(a.components[0].kind, "lane_sewer");
    }
}
