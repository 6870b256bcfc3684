//! The shape of an arrangement file. Each top-level section is one IAD rule
//! type; field names follow the Institutional Grammar (attribute, deontic,
//! aim, condition, or_else). Values that later checks must point back at are
//! kept `Spanned`, so a diagnostic can name their line and column.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::duration::Period;
use crate::model::OrgKind;

/// A whole arrangement file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrangementFile {
    pub arrangement: Header,
    /// Boundary rules: the partner roles, who may fill them and on what terms.
    pub partners: BTreeMap<String, PartnerRule>,
    /// Position rules: `role.position` → how it is filled.
    #[serde(default)]
    pub positions: BTreeMap<String, PositionRule>,
    /// Scope rules: the component kinds and whose domain each is in.
    #[serde(default)]
    pub components: BTreeMap<String, ComponentScope>,
    /// Payoff rules: for each component kind, each role's share of its cost.
    #[serde(default)]
    pub payoff: BTreeMap<String, BTreeMap<String, ShareSpec>>,
    /// The scheme lifecycle: its stages.
    pub lifecycle: Lifecycle,
    /// The acts the rules talk about (the aims), and which stage each moves
    /// a scheme from and to.
    pub actions: BTreeMap<String, ActionDef>,
    /// Choice rules, in Institutional Grammar form.
    #[serde(default, rename = "rule")]
    pub rules: Vec<ChoiceRule>,
    /// Aggregation rules: what a collective act needs (signatures or a
    /// meeting resolution), keyed by action.
    #[serde(default)]
    pub aggregation: BTreeMap<String, AggregationRule>,
    /// Information rules: who sees which kind of record.
    #[serde(default)]
    pub information: BTreeMap<String, Visibility>,
    /// Payoff rule on the government side: the budget reserve that funds
    /// this arrangement's schemes, and whether it lapses at the year's end.
    #[serde(default)]
    pub reserve: Option<ReserveRule>,
    /// Payoff rules on the spending side: where the money spent on a
    /// component (key: its kind, or `"*"` for every component) may come
    /// from beyond what was released for it. Without one, spending on a
    /// component may not exceed its releases.
    #[serde(default)]
    pub spending: BTreeMap<String, SpendingRule>,
    /// Indicators the arrangement defines for the diagnosis, beyond the
    /// built-in ones: `[indicators.NAME]`.
    #[serde(default)]
    pub indicators: BTreeMap<String, IndicatorDef>,
}

/// Where spending on a component may come from besides its releases
/// (`ledger::spending`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendingRule {
    /// Partner roles whose own cash contributions (less refunds) may be
    /// spent on the component without a release: a lane spends what its
    /// households collected on its internal works.
    #[serde(default)]
    pub contributions_of: Vec<Spanned<String>>,
    /// How far spending may run ahead of releases (and contributions), as a
    /// share of the component's estimate, e.g. "10%": an advance the funder
    /// has agreed to carry until its next release.
    #[serde(default)]
    pub overspend: Option<Spanned<String>>,
    #[serde(default)]
    pub explain: Option<String>,
}

/// An indicator of a condition of co-production that an arrangement
/// defines itself, so a new programme need not wait for a release: a CEL
/// expression over the same facts rule conditions read, evaluated on every
/// scheme of the initiative.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    /// A short name ("tariff collected against bills").
    pub name: String,
    /// The condition it feeds (`community_willingness`, …, or the outcome
    /// `service_delivered_and_sustained`).
    pub condition: Spanned<String>,
    /// How it is computed, in words a partner can read.
    pub definition: String,
    /// CEL over the scheme facts giving a number, e.g.
    /// `double(pledged('community')) / double(owed('community'))`.
    pub expression: Spanned<String>,
    /// CEL over the same facts saying on which schemes it is measured (all
    /// by default), e.g. `owed('community') > 0`.
    #[serde(default)]
    pub applies: Option<Spanned<String>>,
    /// `share`, `days`, `count` or `per_scheme` (how the value is read).
    #[serde(default = "share_unit")]
    pub unit: String,
    /// Direct-method anchors `[exclusion, crossover, inclusion]`; without
    /// them the indicator is shown but not calibrated.
    #[serde(default)]
    pub anchors: Option<Spanned<Vec<f64>>>,
}

fn share_unit() -> String {
    "share".into()
}

/// The reserve a public partner sets aside each financial year (July–June)
/// for schemes under this arrangement. Releases by `held_by` are spent from
/// it and can never exceed what it has available.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveRule {
    /// The partner role whose budget holds the reserve (e.g. `council`).
    pub held_by: Spanned<String>,
    /// The share of the partner's development budget that must be set
    /// apart, e.g. "25%" (the CCB rule).
    #[serde(default)]
    pub share_of_development_budget: Option<Spanned<String>>,
    /// Whether money unspent at the end of a financial year is lost (true,
    /// the default for ordinary budgets) or carried into the next year
    /// (false: non-lapsable and ring-fenced).
    #[serde(default = "lapses_by_default")]
    pub lapses: bool,
    #[serde(default)]
    pub explain: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

fn lapses_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub id: String,
    pub version: u32,
    pub name: String,
    #[serde(default = "default_currency")]
    pub currency: String,
    /// The law, MOU or programme document these rules come from.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    /// Whether schemes under this arrangement keep a household register
    /// (lane sewers do; a CCB's school building does not).
    #[serde(default)]
    pub households: bool,
}

fn default_currency() -> String {
    "PKR".into()
}

/// Boundary rule for one partner role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerRule {
    pub name: String,
    /// Organisation kinds that may fill the role.
    pub kinds: Vec<OrgKind>,
    /// A CEL condition over `org` that the organisation must meet.
    #[serde(default)]
    pub requires: Option<Spanned<String>>,
    #[serde(default)]
    pub explain: Option<String>,
    /// An optional partner need not be bound when an initiative starts.
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilledBy {
    Election,
    Selection,
    Appointment,
    Nomination,
    Staff,
}

/// Position rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionRule {
    pub name: String,
    pub filled_by: FilledBy,
    /// Where the filling happens, e.g. "lane meeting".
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Built and paid for by the community (OPP: latrine, lane, collector).
    Internal,
    /// The government's responsibility (trunk sewer, treatment, mains).
    External,
    /// The whole scheme, shared by proportion (CCB 80/20).
    Whole,
}

/// Scope rule for one component kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentScope {
    pub name: String,
    pub domain: Domain,
    pub delivered_by: Spanned<String>,
    /// The problems citizens can report about this kind of component (the
    /// Open311 services). A report is routed to `delivered_by`.
    #[serde(default)]
    pub services: Vec<ServiceDef>,
}

/// A kind of citizen report about a component ("blocked lane sewer").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    /// Unique within the arrangement: lowercase letters, digits, `_`.
    pub code: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Questions a report must or may answer (Open311 attributes).
    #[serde(default)]
    pub attributes: Vec<ServiceAttribute>,
}

/// One question of a service's report form.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAttribute {
    pub code: String,
    /// The question, as put to the citizen.
    pub description: String,
    pub datatype: AttributeType,
    #[serde(default)]
    pub required: bool,
    /// For the list types: the allowed answers.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Open311's attribute datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl AttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Number => "number",
            AttributeType::Datetime => "datetime",
            AttributeType::Text => "text",
            AttributeType::Singlevaluelist => "singlevaluelist",
            AttributeType::Multivaluelist => "multivaluelist",
        }
    }
    pub fn is_list(self) -> bool {
        matches!(
            self,
            AttributeType::Singlevaluelist | AttributeType::Multivaluelist
        )
    }
}

/// A role's share of a component's cost.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ShareSpec {
    /// `"100%"`: exactly this share.
    Exactly(String),
    /// `{ at_least = "20%" }`, `{ at_most = "80%", instalments = 3 }`.
    Range(ShareRange),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareRange {
    #[serde(default)]
    pub at_least: Option<String>,
    #[serde(default)]
    pub at_most: Option<String>,
    /// Paid in this many instalments (CCB: the council's 80% in three).
    #[serde(default)]
    pub instalments: Option<u32>,
    /// Must be deposited before this action may happen.
    #[serde(default)]
    pub before: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    pub stages: Vec<Spanned<String>>,
    /// Stages a scheme does not leave (completed, rejected, abandoned).
    #[serde(rename = "final", default)]
    pub final_stages: Vec<Spanned<String>>,
    /// Stages in which a scheme counts as under way (money committed, work
    /// not finished) — what `unfinished_schemes()` counts.
    #[serde(default)]
    pub executing: Vec<Spanned<String>>,
}

/// What an action records beyond its stage change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A meeting with attendance and resolutions.
    Meeting,
    /// A household added to the scheme's register.
    Household,
    /// Cost estimates for the scheme's components.
    Estimate,
    /// Anything else worth a dated entry: a supervision visit, an inspection.
    Note,
    /// Ledger entries: a promise to pay; money, labour or materials put in;
    /// an instalment or tranche released; money spent; money given back; a
    /// correction that reverses an earlier entry.
    Pledge,
    Contribution,
    Release,
    Expenditure,
    Refund,
    Reversal,
    /// A service charge billed to a household (a water tariff for a
    /// month): money owed for running the service, not money moved.
    Bill,
    /// A service charge collected against bills, in cash with its receipt.
    Tariff,
    /// A response to a citizen report: its status changes and notes.
    Response,
    /// A community scorecard round: criteria, scores, agreed actions.
    Scorecard,
}

impl RecordKind {
    pub fn is_ledger(self) -> bool {
        matches!(
            self,
            RecordKind::Pledge
                | RecordKind::Contribution
                | RecordKind::Release
                | RecordKind::Expenditure
                | RecordKind::Refund
                | RecordKind::Reversal
                | RecordKind::Bill
                | RecordKind::Tariff
        )
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Meeting => "meeting",
            RecordKind::Household => "household",
            RecordKind::Estimate => "estimate",
            RecordKind::Note => "note",
            RecordKind::Pledge => "pledge",
            RecordKind::Contribution => "contribution",
            RecordKind::Release => "release",
            RecordKind::Expenditure => "expenditure",
            RecordKind::Refund => "refund",
            RecordKind::Reversal => "reversal",
            RecordKind::Bill => "bill",
            RecordKind::Tariff => "tariff",
            RecordKind::Response => "response",
            RecordKind::Scorecard => "scorecard",
        }
    }
}

/// An aim: something a position can do to a scheme.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    /// The verb phrase used in sentences: "vet the estimate".
    pub name: String,
    /// Stages in which the act is possible. Empty with a `to` means the act
    /// creates the scheme; empty without a `to` means any stage.
    #[serde(default)]
    pub from: Vec<Spanned<String>>,
    /// The stage the act moves the scheme to, if it is a transition.
    #[serde(default)]
    pub to: Option<Spanned<String>>,
    #[serde(default)]
    pub records: Option<RecordKind>,
}

impl ActionDef {
    pub fn creates(&self) -> bool {
        self.from.is_empty() && self.to.is_some()
    }
    pub fn is_transition(&self) -> bool {
        self.to.is_some()
    }
    pub fn allowed_in(&self, stage: &str) -> bool {
        self.from.is_empty() && self.to.is_none() || self.from.iter().any(|s| s.as_ref() == stage)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deontic {
    May,
    Must,
    MustNot,
}

/// A choice rule: ADICO.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceRule {
    pub id: String,
    /// A — the position the rule binds (`role.position`, or `role.*`).
    pub attribute: Spanned<String>,
    /// D — may, must, must_not.
    pub deontic: Deontic,
    /// I — the action.
    pub aim: Spanned<String>,
    /// C — the stages in which it applies (default: the action's stages)…
    #[serde(default)]
    pub stages: Option<Vec<Spanned<String>>>,
    /// …and a CEL condition over the scheme's facts.
    #[serde(default)]
    pub condition: Option<Spanned<String>>,
    /// For `must`: the time allowed from the moment the rule applies.
    #[serde(default)]
    pub within: Option<Period>,
    /// O — the consequence of a breach.
    #[serde(default)]
    pub or_else: Option<OrElse>,
    /// Why the rule exists, in the programme's own words.
    #[serde(default)]
    pub explain: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrElse {
    /// The obligation passes to this position.
    #[serde(default)]
    pub escalate_to: Option<Spanned<String>>,
    /// Time the escalated position has (default: the rule's own `within`).
    #[serde(default)]
    pub within: Option<Period>,
    /// The scheme moves to this stage (e.g. deemed registered, lapsed).
    #[serde(default)]
    pub transition: Option<Spanned<String>>,
    /// A penalty stated in words, recorded with the breach.
    #[serde(default)]
    pub penalty: Option<String>,
    /// Who may see the breach record (default public: breaches are
    /// evidence of commitment).
    #[serde(default)]
    pub visible: Option<Visibility>,
}

/// Aggregation rule for one action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregationRule {
    #[serde(default)]
    pub signatures: Option<Signatures>,
    #[serde(default)]
    pub resolution: Option<Resolution>,
    #[serde(default)]
    pub explain: Option<String>,
}

/// Joint control: the act completes when enough of these positions signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signatures {
    pub of: Vec<Spanned<String>>,
    /// How many distinct signers are needed; default: all of them.
    #[serde(default)]
    pub at_least: Option<u32>,
    #[serde(default)]
    pub must_include: Vec<Spanned<String>>,
}

/// A decision taken by a meeting of a partner's members.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// The partner role whose members meet.
    pub body: Spanned<String>,
    /// Share of members who must attend, e.g. "50%".
    pub quorum: Spanned<String>,
    pub majority: Majority,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Majority {
    /// More votes for than against.
    Simple,
    /// At least two thirds of the votes cast are for.
    TwoThirds,
    /// Nobody present votes against.
    Consensus,
}

/// Who may see a kind of record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Visibility {
    Level(Level),
    /// Only holders of these positions.
    Positions(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Public,
    Partners,
}

#[allow(non_upper_case_globals)]
impl Visibility {
    pub const Public: Visibility = Visibility::Level(Level::Public);
    pub const Partners: Visibility = Visibility::Level(Level::Partners);
}

/// A percentage in basis points (1% = 100), parsed from "20%" or "12.5%".
pub fn parse_percent(s: &str) -> Result<u32, String> {
    let body = s
        .trim()
        .strip_suffix('%')
        .ok_or_else(|| format!("`{s}` is not a percentage: write it like \"20%\""))?;
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    if frac.len() > 2 || whole.is_empty() {
        return Err(format!(
            "`{s}`: write a percentage with at most two decimals"
        ));
    }
    let whole: u32 = whole
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage"))?;
    let frac_bp: u32 = if frac.is_empty() {
        0
    } else {
        let f: u32 = frac
            .parse()
            .map_err(|_| format!("`{s}` is not a percentage"))?;
        if frac.len() == 1 { f * 10 } else { f }
    };
    let bp = whole * 100 + frac_bp;
    if bp > 10_000 {
        return Err(format!("`{s}` is more than 100%"));
    }
    Ok(bp)
}
