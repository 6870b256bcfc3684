//! What a count produces: the winners, and for every project the reason it won or lost
//! (which step of which rule, what it cost, what was left), the tie-break order drawn before
//! counting, every tie that order decided, and how satisfied the voters are. A results page
//! or a platform audit trail can be rendered from this alone.

use serde::Serialize;

use crate::model::{Exact, Money};

/// Options naming the rule; echoed in the outcome so a result documents how it was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Most votes (points) first; skip what no longer fits.
    Greedy,
    /// Most votes (points) per unit of cost first; skip what no longer fits.
    GreedyCost,
    /// Method of Equal Shares.
    Mes,
    /// Sequential Phragmén (stops at the first project that does not fit).
    Phragmen,
    /// Utilitarian welfare maximum (0/1 knapsack).
    MaxWelfare,
}

/// How a voter values a funded project they supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Utility {
    /// Its cost (times the voter's points on points ballots).
    Cost,
    /// One (times the voter's points on points ballots).
    Approval,
}

/// What to do with the money raw MES leaves unspent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Completion {
    None,
    /// Plain Add1: raise every voter's budget by one step while the outcome still fits the
    /// budget; keep the last outcome that fits.
    Add1,
    /// Add1, then fund what still fits by most votes.
    Add1Greedy,
    /// Add1 that also stops at the first exhaustive outcome (nothing unfunded fits the
    /// money left): pabutools' `voter_budget_increment` and the equalshares.net tool's
    /// `exhaustive` option. Not what Assen, Świecie or Wieliczka used (Wieliczka differs).
    Add1e,
}

/// Which tie-break criterion settled a tie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecidedBy {
    LowestCost,
    MostVotes,
    DrawnOrder,
}

/// A tie the rule met and how it was settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tie {
    /// Step of the rule (1-based) at which the tie occurred.
    pub step: usize,
    pub tied: Vec<String>,
    pub chosen: String,
    pub decided_by: DecidedBy,
}

/// The tie-break order fixed before counting: lowest cost, then most votes, then the
/// position in an order drawn from `seed` (a Fisher–Yates shuffle of the project ids
/// sorted bytewise, driven by SplitMix64, so the draw does not depend on file order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TieBreakRecord {
    pub seed: u64,
    pub criteria: &'static str,
    /// The drawn order of all project ids (the lot).
    pub drawn: Vec<String>,
    /// The complete priority order the three criteria give, best first.
    pub priority: Vec<String>,
}

/// Why a project was or was not funded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// Nobody supported it.
    NoSupport,
    /// It costs nothing and has support: funded before the rule ran.
    Free,
    /// Costs more than the whole budget.
    OverWholeBudget {
        cost: Money,
        budget: Money,
    },
    /// Greedy: reached at `rank` in the ranking and it fitted.
    GreedySelected {
        rank: usize,
        cost: Money,
        left_before: Money,
        left_after: Money,
    },
    /// Greedy: reached at `rank` but only `left` remained.
    GreedySkipped {
        rank: usize,
        cost: Money,
        left: Money,
    },
    /// MES: bought at `step`. `rate` is what each supporter paid per unit of utility (for
    /// approval ballots, the money each supporter with enough left paid),
    /// `effective_votes` is cost / rate (the equalshares.net "effective vote count"), and
    /// `paid_in_full` supporters gave all they had left (possibly nothing).
    MesSelected {
        step: usize,
        cost: Money,
        rate: Exact,
        effective_votes: Exact,
        supporters: u64,
        paid_in_full: u64,
        /// Money all voters held after the purchase.
        voters_money_left: Exact,
    },
    /// MES: at `step` its supporters together held less than its cost.
    MesUnaffordable {
        step: usize,
        cost: Money,
        supporters_money: Exact,
    },
    /// MES: affordable to the end but the run ended because nothing else could be bought
    /// (only arises with an iteration cap).
    MesNotReached,
    /// Completion after MES: funded by most votes with the leftover money.
    CompletionSelected {
        rank: usize,
        cost: Money,
        left_before: Money,
        left_after: Money,
    },
    /// Completion after MES: reached but did not fit the leftover money.
    CompletionSkipped {
        rank: usize,
        cost: Money,
        left: Money,
    },
    /// Phragmén: bought at `step`, when its supporters' load reached `max_load`.
    PhragmenSelected {
        step: usize,
        cost: Money,
        max_load: Exact,
    },
    /// Phragmén: the rule stopped at `step` because the next project (`next`) did not fit.
    PhragmenStopped {
        step: usize,
        next: String,
        next_cost: Money,
        left: Money,
    },
    /// Welfare maximum: in (or not in) the chosen welfare-maximising set.
    WelfareSelected {
        cost: Money,
        welfare: Exact,
    },
    WelfareNotSelected {
        cost: Money,
        welfare: Exact,
    },
}

impl Reason {
    /// One sentence for a results page.
    pub fn explain(&self) -> String {
        match self {
            Reason::NoSupport => "no voter supported it".into(),
            Reason::Free => "costs nothing and has support, so funded first".into(),
            Reason::OverWholeBudget { cost, budget } => {
                format!("costs {cost}, more than the whole budget of {budget}")
            }
            Reason::GreedySelected {
                rank,
                cost,
                left_before,
                left_after,
            } => format!(
                "ranked {rank}; cost {cost} fitted in the {left_before} left, leaving {left_after}"
            ),
            Reason::GreedySkipped { rank, cost, left } => {
                format!("ranked {rank}; cost {cost} but only {left} was left")
            }
            Reason::MesSelected {
                step,
                cost,
                effective_votes,
                supporters,
                paid_in_full,
                ..
            } => format!(
                "bought at step {step} for {cost}, shared among its {supporters} supporters \
                 ({paid_in_full} of them gave all they had left); effective votes {:.2}",
                effective_votes.approx()
            ),
            Reason::MesUnaffordable {
                step,
                cost,
                supporters_money,
            } => format!(
                "at step {step} its supporters held only {:.2} of the {cost} it costs",
                supporters_money.approx()
            ),
            Reason::MesNotReached => "still affordable when counting stopped".into(),
            Reason::CompletionSelected {
                rank,
                cost,
                left_before,
                left_after,
            } => format!(
                "funded from the leftover money (ranked {rank} by votes): {cost} of {left_before}, leaving {left_after}"
            ),
            Reason::CompletionSkipped { rank, cost, left } => {
                format!(
                    "not funded by equal shares; in the leftover fill (rank {rank}) cost {cost} but {left} was left"
                )
            }
            Reason::PhragmenSelected {
                step,
                cost,
                max_load,
            } => {
                format!(
                    "bought at step {step} for {cost}; supporters' load reached {:.4}",
                    max_load.approx()
                )
            }
            Reason::PhragmenStopped {
                step,
                next,
                next_cost,
                left,
            } => format!(
                "counting stopped at step {step}: the next project, {next}, cost {next_cost} but {left} was left"
            ),
            Reason::WelfareSelected { cost, welfare } => {
                format!("part of the welfare-maximising set (cost {cost}, adds welfare {welfare})")
            }
            Reason::WelfareNotSelected { cost, welfare } => {
                format!(
                    "not in the welfare-maximising set (cost {cost}, would add welfare {welfare})"
                )
            }
        }
    }
}

/// One project's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProjectResult {
    pub id: String,
    pub cost: Money,
    /// Voters who supported it.
    pub supporters: u64,
    /// Total support: approvals, or points on points ballots.
    pub votes: u64,
    pub selected: bool,
    pub reason: Reason,
}

/// How the MES completion went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompletionRecord {
    pub kind: Completion,
    pub step_per_voter: Money,
    pub start_per_voter: Exact,
    pub final_per_voter: Exact,
    /// Raises of every voter's budget by one step that were accepted.
    pub iterations: u64,
    /// MES runs actually computed (raises proven not to change the outcome are skipped).
    pub runs: u64,
    /// Why the raises stopped, as data (for pages in other languages) …
    pub stop: Add1Stop,
    /// … and as an English sentence.
    pub stopped_because: String,
}

/// Why an Add1 completion stopped raising the voters' budgets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Add1Stop {
    /// Every supported project is already funded.
    AllFunded,
    /// `Add1e` only: nothing unfunded fits the money left.
    Exhaustive,
    /// No decision of the count depends on the voters' budgets any more.
    CannotChange,
    /// One more raise would select projects costing `spent`, over the budget.
    OverBudget { spent: Money },
    /// The cap on MES reruns was reached; the outcome kept is the last one that fitted,
    /// which may not be the plain Add1 outcome.
    RunCap { runs: u64 },
}

impl Add1Stop {
    /// One sentence for a results page.
    pub fn explain(&self) -> String {
        match self {
            Add1Stop::AllFunded => "every supported project is funded".into(),
            Add1Stop::Exhaustive => {
                "the outcome is exhaustive: nothing unfunded fits the money left".into()
            }
            Add1Stop::CannotChange => {
                "raising every voter's budget cannot change the outcome".into()
            }
            Add1Stop::OverBudget { spent } => {
                format!("one more step would select projects costing {spent}, over the budget")
            }
            Add1Stop::RunCap { runs } => format!(
                "the cap of {runs} counting runs was reached before the raises ended; \
                 this is not the plain Add1 outcome"
            ),
        }
    }
}

/// The comparison step of `equalshares/add1-comparison` rounds (Wieliczka, Świecie): the
/// equal-shares outcome is kept unless strictly more voters prefer the greedy-by-votes
/// outcome, a voter preferring the one that funds more of the projects they supported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComparisonRecord {
    pub prefer_equal_shares: u64,
    pub prefer_greedy: u64,
    pub greedy_winners: Vec<String>,
    pub kept_greedy: bool,
}

/// Satisfaction measures over all voters (empty ballots included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Satisfaction {
    pub voters: u64,
    /// Voters with at least one supported project funded.
    pub voters_with_a_winner: u64,
    pub share_with_a_winner: Exact,
    /// Mean number of a voter's supported projects funded.
    pub mean_winners_per_voter: Exact,
    /// Mean money spent on projects the voter supported.
    pub mean_cost_satisfaction: Exact,
    /// `histogram[k]`: voters with exactly k of their supported projects funded.
    pub histogram: Vec<u64>,
}

/// One voter's satisfaction (for per-voter reports).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoterSatisfaction {
    pub id: String,
    pub winners: u64,
    pub cost: Money,
}

/// The result of a count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub rule: Rule,
    pub utility: Option<Utility>,
    pub budget: Money,
    pub spent: Money,
    pub left: Money,
    /// Winning project ids in the order the rule chose them.
    pub winners: Vec<String>,
    /// Every project, in the instance's order.
    pub projects: Vec<ProjectResult>,
    pub tie_break: TieBreakRecord,
    pub ties: Vec<Tie>,
    pub completion: Option<CompletionRecord>,
    pub comparison: Option<ComparisonRecord>,
    pub satisfaction: Satisfaction,
    #[serde(skip)]
    pub per_voter: Vec<VoterSatisfaction>,
}

impl Outcome {
    pub fn is_selected(&self, id: &str) -> bool {
        self.winners.iter().any(|w| w == id)
    }
}
