//! Counting: the entry point [`count`], the compiled profile every rule reads, the
//! tie-break order drawn before counting, the greedy rules, and the satisfaction measures.
//! MES, Phragmén and the welfare maximum live in their own modules.

use num_bigint::BigInt;
use num_rational::BigRational;

use crate::model::{Exact, Instance, MICRO, Money};
use crate::outcome::{
    Completion, DecidedBy, Outcome, ProjectResult, Reason, Rule, Satisfaction, Tie, TieBreakRecord,
    Utility, VoterSatisfaction,
};

/// How to count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountOptions {
    pub rule: Rule,
    /// Used by MES and the welfare maximum.
    pub utility: Utility,
    /// Used by MES.
    pub completion: Completion,
    /// Add1 increment of each voter's budget (default one currency unit).
    pub step: Money,
    /// Seed of the drawn tie-break order.
    pub seed: u64,
    /// Cap on the MES reruns an Add1 completion may compute (not on the raises, which
    /// skipping makes cheap); reaching it is reported in the outcome, not hidden.
    pub max_runs: u64,
    /// MES only: then compare with greedy by votes and switch to it iff strictly more
    /// voters prefer it (the `-comparison` rules of pabulib).
    pub compare_with_greedy: bool,
    /// Skip Add1 raises that provably cannot change the outcome (same result, far fewer
    /// runs); `false` reruns MES at every raise, which is slower and only useful to check.
    pub add1_jump: bool,
}

impl Default for CountOptions {
    fn default() -> Self {
        CountOptions {
            rule: Rule::Greedy,
            utility: Utility::Cost,
            completion: Completion::None,
            step: Money(MICRO),
            seed: 0,
            max_runs: 1_000_000,
            compare_with_greedy: false,
            add1_jump: true,
        }
    }
}

/// A count that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("instance too large for this rule: {0}")]
    TooLarge(String),
}

/// The instance in the shape the rules want: who supports what with which weight.
pub(crate) struct Profile {
    pub n: usize,
    pub cost: Vec<i128>,
    /// Per project: (voter, weight > 0).
    pub approvers: Vec<Vec<(u32, u64)>>,
    /// Per project: the common weight when every supporter gives the same (always 1 on
    /// approval ballots), which lets MES count budget classes without sorting.
    pub uniform: Vec<Option<u64>>,
    pub supporters: Vec<u64>,
    pub votes: Vec<u64>,
    pub budget: i128,
}

impl Profile {
    pub fn new(inst: &Instance) -> Result<Profile, CountError> {
        let m = inst.projects.len();
        if inst.voters.len() > u32::MAX as usize {
            return Err(CountError::TooLarge("more than 2^32 voters".into()));
        }
        let mut approvers: Vec<Vec<(u32, u64)>> = vec![Vec::new(); m];
        for (v, voter) in inst.voters.iter().enumerate() {
            for (k, &c) in voter.vote.iter().enumerate() {
                let w = inst.weight(voter, k);
                // Sums of weights times voters must stay far inside u64.
                if w > 1_000_000_000 {
                    return Err(CountError::TooLarge(format!(
                        "voter `{}` gives {w} points to one project (at most 10^9)",
                        voter.id
                    )));
                }
                if w > 0 {
                    approvers[c].push((v as u32, w));
                }
            }
        }
        let uniform = approvers
            .iter()
            .map(|a| {
                let w0 = a.first().map(|x| x.1).unwrap_or(1);
                a.iter().all(|x| x.1 == w0).then_some(w0)
            })
            .collect();
        let supporters = approvers.iter().map(|a| a.len() as u64).collect();
        let votes = approvers
            .iter()
            .map(|a| a.iter().map(|x| x.1).sum())
            .collect();
        Ok(Profile {
            n: inst.voters.len(),
            cost: inst.projects.iter().map(|p| p.cost.0).collect(),
            approvers,
            uniform,
            supporters,
            votes,
            budget: inst.budget.0,
        })
    }
}

/// The tie-break order: `rank[c]` is project c's priority (0 = preferred).
pub(crate) struct TieBreak {
    pub rank: Vec<usize>,
    pub record: TieBreakRecord,
    cost: Vec<i128>,
    votes: Vec<u64>,
    pub ids: Vec<String>,
}

/// SplitMix64: tiny, fixed forever, so a published seed reproduces the same draw.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..bound, by rejection so no value is favoured.
    fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let x = self.next();
            if x < zone {
                return x % bound;
            }
        }
    }
}

/// Draws the lot: the project ids sorted bytewise, shuffled by Fisher–Yates from `seed`.
pub fn drawn_order(ids: &[&str], seed: u64) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    let mut rng = SplitMix64(seed);
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

impl TieBreak {
    pub fn new(inst: &Instance, p: &Profile, seed: u64) -> TieBreak {
        let ids: Vec<&str> = inst.projects.iter().map(|x| x.id.as_str()).collect();
        let drawn = drawn_order(&ids, seed);
        let pos: std::collections::HashMap<&str, usize> = drawn
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by(|&a, &b| {
            p.cost[a]
                .cmp(&p.cost[b])
                .then(p.votes[b].cmp(&p.votes[a]))
                .then(pos[ids[a]].cmp(&pos[ids[b]]))
        });
        let mut rank = vec![0; ids.len()];
        for (r, &c) in order.iter().enumerate() {
            rank[c] = r;
        }
        TieBreak {
            rank,
            record: TieBreakRecord {
                seed,
                criteria: "lowest cost, then most votes, then the drawn order",
                drawn,
                priority: order.iter().map(|&c| ids[c].to_string()).collect(),
            },
            cost: p.cost.clone(),
            votes: p.votes.clone(),
            ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Picks the preferred project among `tied` and, when there was a real tie, says how.
    pub fn choose(&self, tied: &[usize], step: usize) -> (usize, Option<Tie>) {
        let best = *tied
            .iter()
            .min_by_key(|&&c| self.rank[c])
            .expect("choose is called with at least one project");
        if tied.len() < 2 {
            return (best, None);
        }
        let min_cost = tied.iter().map(|&c| self.cost[c]).min().unwrap_or(0);
        let cheapest: Vec<usize> = tied
            .iter()
            .copied()
            .filter(|&c| self.cost[c] == min_cost)
            .collect();
        let decided_by = if cheapest.len() == 1 {
            DecidedBy::LowestCost
        } else {
            let max_votes = cheapest.iter().map(|&c| self.votes[c]).max().unwrap_or(0);
            if cheapest
                .iter()
                .filter(|&&c| self.votes[c] == max_votes)
                .count()
                == 1
            {
                DecidedBy::MostVotes
            } else {
                DecidedBy::DrawnOrder
            }
        };
        let mut tied_ids: Vec<usize> = tied.to_vec();
        tied_ids.sort_by_key(|&c| self.rank[c]);
        let tie = Tie {
            step,
            tied: tied_ids.iter().map(|&c| self.ids[c].clone()).collect(),
            chosen: self.ids[best].clone(),
            decided_by,
        };
        (best, Some(tie))
    }
}

pub(crate) fn money_exact(num: BigInt, den: BigInt) -> Exact {
    Exact(BigRational::new(num, den * BigInt::from(MICRO)))
}

/// Greedy by a key (larger first) among `candidates`, skipping what no longer fits.
/// Returns the chosen projects in order, with their reasons, and the ties met.
pub(crate) fn greedy_fill(
    p: &Profile,
    tb: &TieBreak,
    candidates: &[usize],
    mut left: i128,
    by_cost: bool,
    completion: bool,
    ties: &mut Vec<Tie>,
) -> (Vec<usize>, Vec<(usize, Reason)>) {
    // a before b iff votes_a/cost_a > votes_b/cost_b (zero cost first), or votes_a > votes_b.
    let better = |a: usize, b: usize| -> std::cmp::Ordering {
        if by_cost {
            let (va, vb) = (p.votes[a] as i128, p.votes[b] as i128);
            let (ca, cb) = (p.cost[a], p.cost[b]);
            // Compare vb/cb with va/ca as vb*ca vs va*cb (costs are non-negative).
            (vb.saturating_mul(ca)).cmp(&va.saturating_mul(cb))
        } else {
            p.votes[b].cmp(&p.votes[a])
        }
    };
    let mut order = candidates.to_vec();
    order.sort_by(|&a, &b| better(a, b).then(tb.rank[a].cmp(&tb.rank[b])));
    let mut chosen = Vec::new();
    let mut reasons = Vec::new();
    let mut i = 0;
    while i < order.len() {
        // Report ties among equally-ranked projects that the tie-break settled.
        let mut j = i + 1;
        while j < order.len() && better(order[i], order[j]) == std::cmp::Ordering::Equal {
            j += 1;
        }
        if j - i > 1 {
            let group = &order[i..j];
            let fitting: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&c| p.cost[c] <= left)
                .collect();
            if fitting.len() > 1 && fitting.iter().map(|&c| p.cost[c]).sum::<i128>() > left {
                let (_, tie) = tb.choose(&fitting, chosen.len() + 1);
                ties.extend(tie);
            }
        }
        for (k, &c) in order[i..j].iter().enumerate() {
            let rank = i + k + 1;
            let cost = Money(p.cost[c]);
            if p.cost[c] <= left {
                let before = left;
                left -= p.cost[c];
                chosen.push(c);
                let r = if completion {
                    Reason::CompletionSelected {
                        rank,
                        cost,
                        left_before: Money(before),
                        left_after: Money(left),
                    }
                } else {
                    Reason::GreedySelected {
                        rank,
                        cost,
                        left_before: Money(before),
                        left_after: Money(left),
                    }
                };
                reasons.push((c, r));
            } else {
                let r = if completion {
                    Reason::CompletionSkipped {
                        rank,
                        cost,
                        left: Money(left),
                    }
                } else {
                    Reason::GreedySkipped {
                        rank,
                        cost,
                        left: Money(left),
                    }
                };
                reasons.push((c, r));
            }
        }
        i = j;
    }
    (chosen, reasons)
}

fn satisfaction(inst: &Instance, selected: &[bool]) -> (Satisfaction, Vec<VoterSatisfaction>) {
    let mut per = Vec::with_capacity(inst.voters.len());
    let mut hist: Vec<u64> = vec![0];
    let mut with = 0u64;
    let mut sum_w = 0u128;
    let mut sum_c = 0i128;
    for v in &inst.voters {
        let mut w = 0u64;
        let mut c = 0i128;
        for (k, &pi) in v.vote.iter().enumerate() {
            if selected[pi] && inst.weight(v, k) > 0 {
                w += 1;
                c += inst.projects[pi].cost.0;
            }
        }
        if w > 0 {
            with += 1;
        }
        if hist.len() <= w as usize {
            hist.resize(w as usize + 1, 0);
        }
        hist[w as usize] += 1;
        sum_w += u128::from(w);
        sum_c += c;
        per.push(VoterSatisfaction {
            id: v.id.clone(),
            winners: w,
            cost: Money(c),
        });
    }
    let n = BigInt::from(inst.voters.len().max(1));
    let s = Satisfaction {
        voters: inst.voters.len() as u64,
        voters_with_a_winner: with,
        share_with_a_winner: Exact(BigRational::new(BigInt::from(with), n.clone())),
        mean_winners_per_voter: Exact(BigRational::new(BigInt::from(sum_w), n.clone())),
        mean_cost_satisfaction: money_exact(BigInt::from(sum_c), n),
        histogram: hist,
    };
    (s, per)
}

/// Counts an instance with the given rule. Deterministic: the same instance, options and
/// seed always give the same outcome, whatever the order of projects in the file.
pub fn count(inst: &Instance, opts: &CountOptions) -> Result<Outcome, CountError> {
    if opts.step.0 <= 0 {
        return Err(CountError::InvalidOption(
            "the Add1 step must be positive".into(),
        ));
    }
    let p = Profile::new(inst)?;
    let tb = TieBreak::new(inst, &p, opts.seed);
    let m = inst.projects.len();
    let mut reasons: Vec<Option<Reason>> = vec![None; m];
    let mut winners: Vec<usize> = Vec::new();
    let mut ties = Vec::new();
    let mut completion = None;
    let mut comparison = None;

    for (r, &s) in reasons.iter_mut().zip(&p.supporters) {
        if s == 0 {
            *r = Some(Reason::NoSupport);
        }
    }
    let supported: Vec<usize> = (0..m).filter(|&c| p.supporters[c] > 0).collect();

    match opts.rule {
        Rule::Greedy | Rule::GreedyCost => {
            let (chosen, rs) = greedy_fill(
                &p,
                &tb,
                &supported,
                p.budget,
                opts.rule == Rule::GreedyCost,
                false,
                &mut ties,
            );
            winners = chosen;
            for (c, r) in rs {
                reasons[c] = Some(r);
            }
        }
        Rule::Mes => {
            // Free supported projects are funded up front; they take no one's money.
            // In the tie-break order, so the winners list is file-order independent.
            let mut free: Vec<usize> = supported
                .iter()
                .copied()
                .filter(|&c| p.cost[c] == 0)
                .collect();
            free.sort_by_key(|&c| tb.rank[c]);
            for c in free {
                winners.push(c);
                reasons[c] = Some(Reason::Free);
            }
            let cands: Vec<usize> = supported
                .iter()
                .copied()
                .filter(|&c| p.cost[c] > 0)
                .collect();
            let res = crate::mes::run_with_completion(&p, &tb, opts, &cands)?;
            winners.extend(&res.winners);
            for (c, r) in res.reasons {
                reasons[c] = Some(r);
            }
            ties.extend(res.ties);
            completion = res.completion;
            if opts.completion == Completion::Add1Greedy {
                let spent: i128 = winners.iter().map(|&c| p.cost[c]).sum();
                let rest: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|c| !winners.contains(c))
                    .collect();
                let (chosen, rs) =
                    greedy_fill(&p, &tb, &rest, p.budget - spent, false, true, &mut ties);
                winners.extend(chosen);
                for (c, r) in rs {
                    // Keep MES's reason for projects the fill also could not fund.
                    if matches!(r, Reason::CompletionSelected { .. }) || reasons[c].is_none() {
                        reasons[c] = Some(r);
                    }
                }
            }
        }
        Rule::Phragmen => {
            let res = crate::phragmen::run(&p, &tb, &supported);
            winners = res.winners;
            for (c, r) in res.reasons {
                reasons[c] = Some(r);
            }
            ties.extend(res.ties);
        }
        Rule::MaxWelfare => {
            let res = crate::welfare::run(&p, &tb, &supported, opts.utility)?;
            winners = res.winners;
            for (c, r) in res.reasons {
                reasons[c] = Some(r);
            }
        }
    }

    if opts.rule == Rule::Mes && opts.compare_with_greedy {
        let mut greedy_ties = Vec::new();
        let (greedy, greedy_reasons) = greedy_fill(
            &p,
            &tb,
            &supported,
            p.budget,
            false,
            false,
            &mut greedy_ties,
        );
        let count_in = |set: &[usize]| -> Vec<u64> {
            let mut inset = vec![false; m];
            for &c in set {
                inset[c] = true;
            }
            inst.voters
                .iter()
                .map(|v| {
                    v.vote
                        .iter()
                        .enumerate()
                        .filter(|&(k, &c)| inset[c] && inst.weight(v, k) > 0)
                        .count() as u64
                })
                .collect()
        };
        let (a, b) = (count_in(&winners), count_in(&greedy));
        let prefer_mes = a.iter().zip(&b).filter(|(x, y)| x > y).count() as u64;
        let prefer_greedy = a.iter().zip(&b).filter(|(x, y)| x < y).count() as u64;
        let kept_greedy = prefer_greedy > prefer_mes;
        comparison = Some(crate::outcome::ComparisonRecord {
            prefer_equal_shares: prefer_mes,
            prefer_greedy,
            greedy_winners: greedy
                .iter()
                .map(|&c| inst.projects[c].id.clone())
                .collect(),
            kept_greedy,
        });
        if kept_greedy {
            winners = greedy;
            ties = greedy_ties;
            for (c, r) in greedy_reasons {
                reasons[c] = Some(r);
            }
        }
    }
    let mut selected = vec![false; m];
    for &w in &winners {
        selected[w] = true;
    }
    let spent: i128 = winners.iter().map(|&c| p.cost[c]).sum();
    let (sat, per_voter) = satisfaction(inst, &selected);
    let projects = inst
        .projects
        .iter()
        .enumerate()
        .map(|(c, pr)| ProjectResult {
            id: pr.id.clone(),
            cost: pr.cost,
            supporters: p.supporters[c],
            votes: p.votes[c],
            selected: selected[c],
            reason: reasons[c].clone().unwrap_or(Reason::MesNotReached),
        })
        .collect();
    Ok(Outcome {
        rule: opts.rule,
        utility: matches!(opts.rule, Rule::Mes | Rule::MaxWelfare).then_some(opts.utility),
        budget: Money(p.budget),
        spent: Money(spent),
        left: Money(p.budget - spent),
        winners: winners
            .iter()
            .map(|&c| inst.projects[c].id.clone())
            .collect(),
        projects,
        tie_break: tb.record,
        ties,
        completion,
        comparison,
        satisfaction: sat,
        per_voter,
    })
}
