//! The facts rule conditions can read, and their evaluation with CEL.
//!
//! Every fact is declared once in the catalogue with its type, meaning and
//! the capability that provides it. A capability (the core, the ledger,
//! citizen reports) adds declarations to `catalogue()` and fills values into
//! `Facts`; the engine and the arrangement checker only ever iterate the
//! catalogue, so they never change when a capability adds facts.
//!
//! Two shapes of fact exist: fields of an object (`scheme.estimate`,
//! `org.members`) and keyed functions (`approvals('approve')`,
//! `paid('community')`), whose key is a role, position, action or stage
//! named in the arrangement.
//!
//! Money facts are integers in minor units (paisa). CEL does not mix int and
//! double, so authors write `paid('community') * 5 >= scheme.estimate` for
//! "at least 20%"; `arrangement check` catches the mixed form.

use std::collections::BTreeMap;
use std::sync::Arc;

use cel::{Context, ExecutionError, Program, Value};
use serde::Serialize;

/// The value of one fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Fact {
    Int(i64),
    Bool(bool),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Int,
    Bool,
    Text,
}

/// What the key of a keyed fact names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDomain {
    Role,
    Position,
    Action,
    Stage,
}

impl KeyDomain {
    pub fn noun(self) -> &'static str {
        match self {
            KeyDomain::Role => "partner role",
            KeyDomain::Position => "position",
            KeyDomain::Action => "action",
            KeyDomain::Stage => "stage",
        }
    }
}

/// Where a condition is evaluated: on a scheme (choice rules) or on an
/// organisation applying to fill a partner role (boundary rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Scheme,
    Boundary,
}

#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Field {
        object: &'static str,
        field: &'static str,
    },
    Keyed {
        name: &'static str,
        domain: KeyDomain,
    },
}

/// One declared fact.
#[derive(Debug, Clone, Copy)]
pub struct FactDecl {
    pub shape: Shape,
    pub ty: FactType,
    pub scope: Scope,
    pub meaning: &'static str,
    /// The capability that fills it ("core", "ledger", …).
    pub provided_by: &'static str,
}

const fn field(
    object: &'static str,
    field: &'static str,
    ty: FactType,
    scope: Scope,
    meaning: &'static str,
) -> FactDecl {
    FactDecl {
        shape: Shape::Field { object, field },
        ty,
        scope,
        meaning,
        provided_by: "core",
    }
}
const fn keyed(
    name: &'static str,
    domain: KeyDomain,
    ty: FactType,
    meaning: &'static str,
) -> FactDecl {
    FactDecl {
        shape: Shape::Keyed { name, domain },
        ty,
        scope: Scope::Scheme,
        meaning,
        provided_by: "core",
    }
}

use FactType::{Int, Text};
use KeyDomain::{Action, Position, Role, Stage};

/// Facts the core provides: members, positions, approvals, meetings,
/// resolutions, time.
pub const CORE_FACTS: &[FactDecl] = &[
    field(
        "org",
        "kind",
        Text,
        Scope::Boundary,
        "the organisation's kind",
    ),
    field(
        "org",
        "members",
        Int,
        Scope::Boundary,
        "people who are members of the organisation",
    ),
    field(
        "org",
        "women_members",
        Int,
        Scope::Boundary,
        "women among its members",
    ),
    field(
        "org",
        "elected_members",
        Int,
        Scope::Boundary,
        "members who hold elected office",
    ),
    field(
        "scheme",
        "stage",
        Text,
        Scope::Scheme,
        "the scheme's current stage",
    ),
    field(
        "scheme",
        "estimate",
        Int,
        Scope::Scheme,
        "the scheme's estimate (sum of its components), in paisa",
    ),
    field(
        "scheme",
        "households",
        Int,
        Scope::Scheme,
        "households in the scheme's register",
    ),
    field(
        "scheme",
        "meetings",
        Int,
        Scope::Scheme,
        "meetings recorded for the scheme",
    ),
    field(
        "scheme",
        "attendance",
        Int,
        Scope::Scheme,
        "people who attended the scheme's meetings, in all",
    ),
    field(
        "scheme",
        "women_attendance",
        Int,
        Scope::Scheme,
        "women who attended the scheme's meetings, in all",
    ),
    field(
        "scheme",
        "days_in_stage",
        Int,
        Scope::Scheme,
        "whole days since the scheme entered its current stage",
    ),
    field(
        "scheme",
        "age_days",
        Int,
        Scope::Scheme,
        "whole days since the scheme was created",
    ),
    field(
        "initiative",
        "unfinished_schemes",
        Int,
        Scope::Scheme,
        "other schemes of the initiative now in an executing stage",
    ),
    keyed(
        "members",
        Role,
        Int,
        "members of the organisation in this partner role",
    ),
    keyed(
        "women_members",
        Role,
        Int,
        "women members of the organisation in this partner role",
    ),
    keyed(
        "positions_filled",
        Position,
        Int,
        "people holding this position",
    ),
    keyed(
        "approvals",
        Action,
        Int,
        "signatures given so far towards this action",
    ),
    keyed(
        "done",
        Action,
        Int,
        "times this action has been performed on the scheme",
    ),
    keyed(
        "resolutions",
        Action,
        Int,
        "resolutions passed at recorded meetings for this action",
    ),
    keyed(
        "days_since",
        Stage,
        Int,
        "whole days since the scheme last entered this stage (-1 if never)",
    ),
];

/// Every declared fact, of every capability.
pub fn catalogue() -> impl Iterator<Item = &'static FactDecl> {
    CORE_FACTS
        .iter()
        .chain(crate::ledger::LEDGER_FACTS.iter())
        .chain(crate::reports::REPORT_FACTS.iter())
}

/// Fact values for one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    fields: BTreeMap<String, BTreeMap<String, Fact>>,
    keyed: BTreeMap<String, BTreeMap<String, Fact>>,
}

impl Facts {
    pub fn set_field(&mut self, object: &str, field: &str, value: Fact) -> &mut Self {
        self.fields
            .entry(object.to_string())
            .or_default()
            .insert(field.to_string(), value);
        self
    }
    pub fn set_keyed(&mut self, name: &str, key: &str, value: Fact) -> &mut Self {
        self.keyed
            .entry(name.to_string())
            .or_default()
            .insert(key.to_string(), value);
        self
    }
    pub fn field(&self, object: &str, field: &str) -> Option<&Fact> {
        self.fields.get(object)?.get(field)
    }
    pub fn keyed(&self, name: &str, key: &str) -> Option<&Fact> {
        self.keyed.get(name)?.get(key)
    }
}

/// A condition that could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("the condition does not parse: {0}")]
    Parse(String),
    #[error("the condition names `{0}`, which is not a fact conditions can use here")]
    Unknown(String),
    #[error("the condition cannot be evaluated: {0}")]
    Evaluation(String),
    #[error("the condition gives {0}, not true or false")]
    NotBoolean(String),
}

/// Names of CEL's standard functions and macros that conditions may use.
const CEL_STANDARD: &[&str] = &[
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "has",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "max",
    "min",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "duration",
    "timestamp",
    "type",
    "in",
];

/// Compile `source` and check that every name it uses is a declared fact
/// of `scope` or part of CEL.
pub fn compile(source: &str, scope: Scope) -> Result<Program, ConditionError> {
    let program = Program::compile(source).map_err(|e| ConditionError::Parse(parse_message(&e)))?;
    let refs = program.references();
    for var in refs.variables() {
        let known = catalogue().any(|d| {
            d.scope == scope && matches!(d.shape, Shape::Field { object, .. } if object == var)
        });
        if !known {
            return Err(ConditionError::Unknown(var.to_string()));
        }
    }
    for func in refs.functions() {
        if func.starts_with('_') || func.starts_with('@') || CEL_STANDARD.contains(&func) {
            continue;
        }
        let known = catalogue().any(|d| {
            d.scope == scope && matches!(d.shape, Shape::Keyed { name, .. } if name == func)
        });
        if !known {
            return Err(ConditionError::Unknown(format!("{func}()")));
        }
    }
    Ok(program)
}

/// Compiled conditions, by source and scope. An arrangement's conditions
/// are a small fixed set evaluated on every act, so each is parsed and
/// checked once per process rather than once per evaluation. Bounded: a
/// process that is handed many arrangements starts the cache afresh.
type ProgramCache = std::sync::Mutex<std::collections::HashMap<(String, Scope), Arc<Program>>>;
static PROGRAMS: std::sync::OnceLock<ProgramCache> = std::sync::OnceLock::new();
const PROGRAM_CACHE_LIMIT: usize = 4096;

fn compiled(source: &str, scope: Scope) -> Result<Arc<Program>, ConditionError> {
    let cache = PROGRAMS.get_or_init(Default::default);
    let key = (source.to_string(), scope);
    if let Ok(map) = cache.lock()
        && let Some(p) = map.get(&key)
    {
        return Ok(p.clone());
    }
    // Errors are not cached: they are rare and carry their own message.
    let program = Arc::new(compile(source, scope)?);
    if let Ok(mut map) = cache.lock() {
        if map.len() >= PROGRAM_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, program.clone());
    }
    Ok(program)
}

fn parse_message(e: &cel::ParseErrors) -> String {
    e.errors
        .iter()
        .map(|e| format!("at {}:{}: {}", e.pos.0, e.pos.1 + 1, e.msg))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Evaluate a condition. With `strict`, a keyed fact asked for a key that
/// is not in `facts` is an error (the checker uses this to catch a
/// misspelt role); otherwise the fact's zero value is used (nothing paid,
/// no approvals yet).
pub fn evaluate(
    source: &str,
    facts: &Facts,
    scope: Scope,
    strict: bool,
) -> Result<bool, ConditionError> {
    match execute(&*compiled(source, scope)?, facts, scope, strict)? {
        Value::Bool(b) => Ok(b),
        other => Err(ConditionError::NotBoolean(format!("{other:?}"))),
    }
}

/// Evaluate an expression that gives a number (an arrangement's own
/// indicator): an int or a double, read as `f64`. A division by zero or a
/// result that is not finite is an evaluation error, never a silent value.
pub fn evaluate_number(
    program: &Program,
    facts: &Facts,
    scope: Scope,
    strict: bool,
) -> Result<f64, ConditionError> {
    let v = match execute(program, facts, scope, strict)? {
        Value::Int(i) => i as f64,
        Value::UInt(u) => u as f64,
        Value::Float(f) => f,
        other => {
            return Err(ConditionError::Evaluation(format!(
                "the expression gives {other:?}, not a number"
            )));
        }
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ConditionError::Evaluation(
            "the expression gives no finite number (a division by zero?)".into(),
        ))
    }
}

/// Evaluate a condition already compiled ([`compile`]) to a bool.
pub fn evaluate_compiled(
    program: &Program,
    facts: &Facts,
    scope: Scope,
) -> Result<bool, ConditionError> {
    match execute(program, facts, scope, false)? {
        Value::Bool(b) => Ok(b),
        other => Err(ConditionError::NotBoolean(format!("{other:?}"))),
    }
}

fn execute(
    program: &Program,
    facts: &Facts,
    scope: Scope,
    strict: bool,
) -> Result<Value, ConditionError> {
    let mut ctx = Context::default();
    let mut objects: BTreeMap<&str, BTreeMap<&str, Fact>> = BTreeMap::new();
    for decl in catalogue().filter(|d| d.scope == scope) {
        match decl.shape {
            Shape::Field { object, field } => {
                let value = facts
                    .field(object, field)
                    .cloned()
                    .unwrap_or_else(|| zero(decl.ty));
                objects.entry(object).or_default().insert(field, value);
            }
            Shape::Keyed { name, domain } => {
                let table = Arc::new(facts.keyed.get(name).cloned().unwrap_or_default());
                let ty = decl.ty;
                ctx.add_function(
                    name,
                    move |key: Arc<String>| -> Result<Value, ExecutionError> {
                        match table.get(key.as_str()) {
                            Some(v) => Ok(to_value(v)),
                            None if strict => Err(ExecutionError::function_error(
                                name,
                                format!("`{key}` is not a {} of this arrangement", domain.noun()),
                            )),
                            None => Ok(to_value(&zero(ty))),
                        }
                    },
                )
                .map_err(|e| ConditionError::Evaluation(format!("{e:?}")))?;
            }
        }
    }
    for (object, fields) in objects {
        ctx.add_variable(object, fields)
            .map_err(|e| ConditionError::Evaluation(e.to_string()))?;
    }
    program
        .execute(&ctx)
        .map_err(|e| ConditionError::Evaluation(explain_execution_error(&e)))
}

fn explain_execution_error(e: &ExecutionError) -> String {
    match e {
        ExecutionError::UnsupportedBinaryOperator(op, a, b) if is_int_double(a, b) => format!(
            "`{op}` mixes a whole number and a decimal ({a:?}, {b:?}); money facts are whole paisa, \
             so write e.g. `paid('community') * 5 >= scheme.estimate` instead of `paid('community') >= 0.2 * scheme.estimate`"
        ),
        ExecutionError::NoSuchOverload(o)
            if o.argument_types().iter().any(|t| t == "double")
                && o.argument_types().iter().any(|t| t == "int") =>
        {
            format!(
                "`{}` mixes a whole number and a decimal; money facts are whole paisa, \
             so write e.g. `paid('community') * 5 >= scheme.estimate` instead of `paid('community') >= 0.2 * scheme.estimate`",
                o.function()
            )
        }
        other => other.to_string(),
    }
}

fn is_int_double(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_))
    )
}

fn zero(ty: FactType) -> Fact {
    match ty {
        FactType::Int => Fact::Int(0),
        FactType::Bool => Fact::Bool(false),
        FactType::Text => Fact::Text(String::new()),
    }
}

fn to_value(f: &Fact) -> Value {
    match f {
        Fact::Int(i) => Value::Int(*i),
        Fact::Bool(b) => Value::Bool(*b),
        Fact::Text(s) => Value::String(Arc::new(s.clone())),
    }
}

/// Sample facts in which every valid key of every keyed fact exists, used
/// by the checker to evaluate conditions without a scheme. `high` picks
/// large values, so that both sides of `&&`/`||` get exercised across the
/// two samples.
pub fn sample(keys: &SampleKeys, high: bool) -> Facts {
    let mut f = Facts::default();
    let n = if high { 1_000_000 } else { 0 };
    for decl in catalogue() {
        let value = match decl.ty {
            FactType::Int => Fact::Int(n),
            FactType::Bool => Fact::Bool(high),
            FactType::Text => Fact::Text(if high { "sample".into() } else { String::new() }),
        };
        match decl.shape {
            Shape::Field { object, field } => {
                f.set_field(object, field, value);
            }
            Shape::Keyed { name, domain } => {
                for key in keys.of(domain) {
                    f.set_keyed(name, key, value.clone());
                }
            }
        }
    }
    f
}

/// The names an arrangement defines, by the domain a key can name.
#[derive(Debug, Default, Clone)]
pub struct SampleKeys {
    pub roles: Vec<String>,
    pub positions: Vec<String>,
    pub actions: Vec<String>,
    pub stages: Vec<String>,
}

impl SampleKeys {
    fn of(&self, d: KeyDomain) -> &[String] {
        match d {
            KeyDomain::Role => &self.roles,
            KeyDomain::Position => &self.positions,
            KeyDomain::Action => &self.actions,
            KeyDomain::Stage => &self.stages,
        }
    }
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // amounts written rupees_paisa
mod tests {
    use super::*;

    fn facts() -> Facts {
        let mut f = Facts::default();
        f.set_field("scheme", "estimate", Fact::Int(7_058_000_00));
        f.set_keyed("paid", "community", Fact::Int(1_412_000_00));
        f.set_keyed("approvals", "release", Fact::Int(1));
        f
    }

    #[test]
    fn integer_share_conditions_evaluate() {
        assert!(
            evaluate(
                "paid('community') * 5 >= scheme.estimate",
                &facts(),
                Scope::Scheme,
                false
            )
            .unwrap()
        );
        assert!(!evaluate("approvals('release') >= 2", &facts(), Scope::Scheme, false).unwrap());
    }

    #[test]
    fn a_missing_key_is_zero_when_live_and_an_error_when_checking() {
        assert!(evaluate("paid('council') == 0", &facts(), Scope::Scheme, false).unwrap());
        let err = evaluate("paid('council') == 0", &facts(), Scope::Scheme, true).unwrap_err();
        assert!(
            err.to_string().contains("`council` is not a partner role"),
            "{err}"
        );
    }

    #[test]
    fn mixing_decimals_with_paisa_is_explained() {
        let err = evaluate(
            "paid('community') >= 0.2 * scheme.estimate",
            &facts(),
            Scope::Scheme,
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("whole paisa"), "{err}");
    }

    #[test]
    fn unknown_names_and_bad_syntax_are_refused() {
        assert!(
            matches!(compile("bribes('x') > 0", Scope::Scheme), Err(ConditionError::Unknown(n)) if n == "bribes()")
        );
        assert!(
            matches!(compile("weather.rain", Scope::Scheme), Err(ConditionError::Unknown(n)) if n == "weather")
        );
        assert!(matches!(
            compile("org.members >= 25", Scope::Scheme),
            Err(ConditionError::Unknown(_))
        ));
        assert!(compile("org.members >= 25", Scope::Boundary).is_ok());
        assert!(matches!(
            compile("scheme.estimate >", Scope::Scheme),
            Err(ConditionError::Parse(_))
        ));
    }

    #[test]
    fn a_condition_must_give_true_or_false() {
        assert!(matches!(
            evaluate("scheme.estimate", &facts(), Scope::Scheme, false),
            Err(ConditionError::NotBoolean(_))
        ));
    }
}
