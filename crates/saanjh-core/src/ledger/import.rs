//! Importing contributions from a spreadsheet: a lane's paper register of
//! who paid how much, typed in by a treasurer or social organiser.
//!
//! The file is checked as a whole. Every row becomes an act that goes
//! through the engine exactly as a single entry would (the actor's
//! positions, the arrangement's rules, the entry checks), decided against
//! the state the rows before it leave. If any row is wrong, nothing is
//! posted and every wrong row is reported with its line number and why, so
//! the treasurer can fix the sheet in one pass. If all rows are right, the
//! events of all of them are appended together (all or nothing).
//!
//! Columns (header row required, any order, case-insensitive):
//! `scheme` (unless one scheme is given for the whole file), `household`
//! (its id or house number), `role`, `amount` (in rupees: "1500",
//! "1,500.50"), `receipt`, `date` (YYYY-MM-DD), and optionally `means`
//! (cash, labour, materials), `quantity` and `rate` (for labour and
//! materials), `purpose`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::OffsetDateTime;

use super::figures::HouseholdRef;
use super::{EntryInput, Means, Money, parse_date};
use crate::arrangement::{Arrangement, RecordKind};
use crate::engine::{self, Act, Actor, InitiativeState, SchemeState};
use crate::event::EventBody;

/// A bad row: its line in the file (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The events a good file posts, and what they add up to.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// In file order, ready for one append to the initiative's chain.
    pub events: Vec<EventBody>,
    pub rows: u64,
    pub total: Money,
    /// Rows per scheme.
    pub per_scheme: BTreeMap<String, u64>,
}

const REQUIRED: &[&str] = &["role", "amount", "receipt", "date"];
const KNOWN: &[&str] = &[
    "scheme",
    "household",
    "role",
    "amount",
    "receipt",
    "date",
    "means",
    "quantity",
    "rate",
    "purpose",
];

/// One parsed row, before the engine sees it.
struct Row {
    line: u64,
    scheme: String,
    entry: EntryInput,
}

/// Check a whole file and, if every row is good, return the events that
/// post it. `schemes` are the initiative's schemes by id, `registers` their
/// household registers; `init.ledger.receipts` must hold the receipts
/// already used in the initiative.
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    arr: &Arrangement,
    init: &InitiativeState,
    schemes: &BTreeMap<String, SchemeState>,
    registers: &BTreeMap<String, Vec<HouseholdRef>>,
    actor: &Actor,
    csv_text: &str,
    default_scheme: Option<&str>,
    now: OffsetDateTime,
) -> Result<ImportPlan, Vec<RowError>> {
    let mut errors = vec![];
    let rows = parse(csv_text, default_scheme, schemes, registers, &mut errors);
    let actions: Vec<&str> = arr
        .file
        .actions
        .iter()
        .filter(|(_, a)| a.records == Some(RecordKind::Contribution))
        .map(|(k, _)| k.as_str())
        .collect();
    if actions.is_empty() {
        errors.push(RowError {
            line: 1,
            message: format!(
                "arrangement `{}` has no action that records contributions",
                arr.id()
            ),
        });
    }
    // Decide row by row against the state the earlier rows leave.
    let mut init = init.clone();
    let mut states: BTreeMap<String, SchemeState> = BTreeMap::new();
    let mut plan = ImportPlan::default();
    let at = engine::rfc3339(now);
    for row in rows {
        // Taken out of the working map (not cloned per row: a long file on
        // a long ledger would copy it once a row) and put back below.
        let Some(state) = states
            .remove(&row.scheme)
            .or_else(|| schemes.get(&row.scheme).cloned())
        else {
            continue;
        };
        let facts = super::facts_for(arr, &state);
        let mut refusal = None;
        let mut decided = None;
        for action in &actions {
            let act = Act {
                action: action.to_string(),
                entry: Some(row.entry.clone()),
                ..Act::default()
            };
            match engine::decide(arr, &init, Some(&state), "", actor, &act, now, &facts) {
                Ok(d) if d.completed => {
                    decided = Some(d);
                    break;
                }
                Ok(_) => {
                    refusal.get_or_insert(format!(
                        "to {action} needs more signatures; a file cannot carry them"
                    ));
                }
                Err(r) => {
                    let why = if r.rule == "input" {
                        r.message
                    } else {
                        format!("{} (rule `{}`)", r.message, r.rule)
                    };
                    refusal.get_or_insert(why);
                }
            }
        }
        let Some(d) = decided else {
            errors.push(RowError {
                line: row.line,
                message: refusal.unwrap_or_else(|| "refused".into()),
            });
            states.insert(row.scheme.clone(), state);
            continue;
        };
        let mut next = Some(state);
        for e in &d.events {
            next = engine::apply(next, e, &at);
            if let EventBody::LedgerEntryPosted { line, .. } = e {
                plan.total.0 += line.amount;
                if let Some(r) = &line.receipt {
                    init.ledger.receipts.insert(r.clone());
                }
            }
        }
        if let Some(n) = next {
            states.insert(row.scheme.clone(), n);
        }
        plan.rows += 1;
        *plan.per_scheme.entry(row.scheme).or_default() += 1;
        plan.events.extend(d.events);
    }
    if errors.is_empty() {
        if plan.rows == 0 {
            return Err(vec![RowError {
                line: 1,
                message: "the file has no rows after its header".into(),
            }]);
        }
        Ok(plan)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// The receipt numbers a file names (in its `receipt` column), read
/// leniently: what a caller must look up before `prepare` checks the file.
pub fn receipts_named(csv_text: &str) -> Vec<String> {
    let text = csv_text.strip_prefix('\u{feff}').unwrap_or(csv_text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let Ok(headers) = reader.headers() else {
        return vec![];
    };
    let Some(col) = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("receipt"))
    else {
        return vec![];
    };
    let set: BTreeSet<String> = reader
        .records()
        .filter_map(|r| r.ok())
        .filter_map(|r| r.get(col).map(str::to_string))
        .filter(|r| !r.is_empty())
        .collect();
    set.into_iter().collect()
}

fn parse(
    text: &str,
    default_scheme: Option<&str>,
    schemes: &BTreeMap<String, SchemeState>,
    registers: &BTreeMap<String, Vec<HouseholdRef>>,
    errors: &mut Vec<RowError>,
) -> Vec<Row> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_ascii_lowercase()).collect(),
        Err(e) => {
            errors.push(RowError {
                line: 1,
                message: format!("the header row cannot be read: {e}"),
            });
            return vec![];
        }
    };
    let mut header_ok = true;
    let mut seen = BTreeSet::new();
    for h in &headers {
        if !KNOWN.contains(&h.as_str()) {
            errors.push(RowError {
                line: 1,
                message: format!(
                    "unknown column `{h}`; the columns are: {}",
                    KNOWN.join(", ")
                ),
            });
            header_ok = false;
        } else if !seen.insert(h.as_str()) {
            errors.push(RowError {
                line: 1,
                message: format!("column `{h}` appears twice"),
            });
            header_ok = false;
        }
    }
    let mut required: Vec<&str> = REQUIRED.to_vec();
    if default_scheme.is_none() {
        required.push("scheme");
    }
    for r in required {
        if !seen.contains(r) {
            let hint = if r == "scheme" {
                " (or give one scheme for the whole file)"
            } else {
                ""
            };
            errors.push(RowError {
                line: 1,
                message: format!("missing column `{r}`{hint}"),
            });
            header_ok = false;
        }
    }
    if !header_ok {
        return vec![];
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut receipts_seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut out = vec![];
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e.position().map(|p| p.line()).unwrap_or(line);
                errors.push(RowError {
                    line: at,
                    message: format!("this row cannot be read: {e}"),
                });
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != headers.len() {
            errors.push(RowError {
                line,
                message: format!("expected {} fields, found {}", headers.len(), record.len()),
            });
            continue;
        }
        let get = |name: &str| {
            col(name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        let mut problems: Vec<String> = vec![];
        let scheme = match get("scheme").or(default_scheme) {
            Some(s) if schemes.contains_key(s) => s.to_string(),
            Some(s) => {
                problems.push(format!("scheme `{s}` is not a scheme of this initiative"));
                String::new()
            }
            None => {
                problems.push("no scheme given".into());
                String::new()
            }
        };
        if let (Some(s), Some(d)) = (get("scheme"), default_scheme)
            && s != d
        {
            problems.push(format!(
                "scheme `{s}` is not the scheme `{d}` this import is for"
            ));
        }
        let role = get("role").unwrap_or_default().to_string();
        if role.is_empty() {
            problems.push("no role given".into());
        }
        let means = match get("means").map(str::to_ascii_lowercase).as_deref() {
            None | Some("cash") => Means::Cash,
            Some("labour") | Some("labor") => Means::Labour,
            Some("materials") | Some("material") => Means::Materials,
            Some(m) => {
                problems.push(format!("means `{m}` is not cash, labour or materials"));
                Means::Cash
            }
        };
        let money = |name: &str, problems: &mut Vec<String>| -> Option<i64> {
            let v = get(name)?;
            match Money::parse_major(v) {
                Ok(m) if m.0 > 0 => Some(m.0),
                Ok(_) => {
                    problems.push(format!(
                        "{name} `{v}` must be more than zero; to correct an entry, reverse it"
                    ));
                    None
                }
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    None
                }
            }
        };
        let amount = money("amount", &mut problems);
        let rate = money("rate", &mut problems);
        let quantity = match get("quantity") {
            None => None,
            Some(q) => match q.replace(',', "").parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                Ok(_) => {
                    problems.push(format!("quantity `{q}` must be more than zero"));
                    None
                }
                Err(_) => {
                    problems.push(format!(
                        "quantity `{q}` is not a whole number (days or units)"
                    ));
                    None
                }
            },
        };
        let (amount, quantity, rate) = match means {
            Means::Cash => {
                if get("amount").is_none() {
                    problems.push("no amount given".into());
                }
                if quantity.is_some() || rate.is_some() {
                    problems.push("a cash row gives an amount, not a quantity and rate".into());
                }
                (amount, None, None)
            }
            _ => match (quantity, rate) {
                (Some(q), Some(r)) => match (q.checked_mul(r), amount) {
                    (None, _) => {
                        problems.push("quantity × rate is too large".into());
                        (None, None, None)
                    }
                    (Some(v), Some(a)) if v != a => {
                        problems.push(format!(
                            "amount {} is not quantity {q} × rate {} = {}",
                            Money(a).to_plain(),
                            Money(r).to_plain(),
                            Money(v).to_plain()
                        ));
                        (None, None, None)
                    }
                    _ => (None, Some(q), Some(r)),
                },
                _ => {
                    problems.push(
                        "labour and materials need a quantity (days or units) and a rate".into(),
                    );
                    (None, None, None)
                }
            },
        };
        let receipt = get("receipt").map(str::to_string);
        match &receipt {
            None if means == Means::Cash => problems.push("no receipt number given".into()),
            Some(r) => {
                if let Some(first) = receipts_seen.get(r) {
                    problems.push(format!("receipt `{r}` is also on line {first}"));
                } else {
                    receipts_seen.insert(r.clone(), line);
                }
            }
            None => {}
        }
        let on = match get("date") {
            None => {
                problems.push("no date given".into());
                None
            }
            Some(d) => match parse_date(d) {
                Some(_) => Some(d.to_string()),
                None => {
                    problems.push(format!("date `{d}` is not a date (YYYY-MM-DD)"));
                    None
                }
            },
        };
        let household = match get("household") {
            None => None,
            Some(h) => {
                let register = registers
                    .get(&scheme)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let by_id = register.iter().find(|x| x.id == h);
                let by_house: Vec<&HouseholdRef> = register
                    .iter()
                    .filter(|x| x.house.eq_ignore_ascii_case(h))
                    .collect();
                match (by_id, by_house.as_slice()) {
                    (Some(x), _) => Some(x.id.clone()),
                    (None, [x]) => Some(x.id.clone()),
                    (None, []) => {
                        if !scheme.is_empty() {
                            problems.push(format!(
                                "household `{h}` is not in the register of scheme `{scheme}`"
                            ));
                        }
                        None
                    }
                    (None, _) => {
                        problems.push(format!("house number `{h}` is registered more than once in scheme `{scheme}`: use the household id"));
                        None
                    }
                }
            }
        };
        if !problems.is_empty() {
            errors.push(RowError {
                line,
                message: problems.join("; "),
            });
            continue;
        }
        out.push(Row {
            line,
            scheme,
            entry: EntryInput {
                role,
                amount,
                means,
                quantity,
                rate,
                household,
                receipt,
                purpose: get("purpose").map(str::to_string),
                on,
                ..EntryInput::default()
            },
        });
    }
    out
}
