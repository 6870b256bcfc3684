//! Properties over random small elections: no rule overspends; the outcome does not depend
//! on the order of projects or voters in the file (given the recorded tie-break); `.pb`
//! write→read is the identity; the fast MES engine agrees step by step with a plain
//! per-voter exact implementation; the welfare maximum equals brute force; the parser never
//! panics on garbage.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;
use proptest::prelude::*;
use saanjh_pb::{
    Completion, CountOptions, Instance, Money, Project, Rule, Utility, VoteType, Voter, count,
    parse, write,
};

/// A random election: up to 7 projects, up to 25 voters, approval or cumulative ballots.
fn arb_instance() -> impl Strategy<Value = Instance> {
    (1usize..8, 0usize..25, any::<bool>(), 0u32..400).prop_flat_map(|(m, n, points, budget)| {
        (
            prop::collection::vec(0u32..150, m),
            prop::collection::vec(prop::collection::vec((any::<bool>(), 1i64..5), m), n),
            Just(points),
            Just(budget),
        )
            .prop_map(|(costs, ballots, points, budget)| {
                let projects: Vec<Project> = costs
                    .iter()
                    .enumerate()
                    .map(|(k, &c)| Project {
                        id: format!("p{k}"),
                        cost: Money::units(i64::from(c)),
                        fields: vec![("name".into(), format!("Project; {k}"))],
                    })
                    .collect();
                let voters = ballots
                    .iter()
                    .enumerate()
                    .map(|(v, b)| {
                        let vote: Vec<usize> = (0..b.len()).filter(|&k| b[k].0).collect();
                        let pts: Vec<i64> = vote.iter().map(|&k| b[k].1).collect();
                        Voter {
                            id: format!("v{v}"),
                            vote,
                            points: points.then_some(pts),
                            fields: vec![],
                        }
                    })
                    .collect();
                let vote_type = if points {
                    VoteType::Cumulative
                } else {
                    VoteType::Approval
                };
                Instance {
                    meta: vec![
                        ("description".into(), "random".into()),
                        ("num_projects".into(), costs.len().to_string()),
                        ("num_votes".into(), ballots.len().to_string()),
                        ("budget".into(), budget.to_string()),
                        ("vote_type".into(), vote_type.as_str().into()),
                    ],
                    budget: Money::units(i64::from(budget)),
                    vote_type,
                    projects,
                    voters,
                }
            })
    })
}

fn all_options() -> Vec<CountOptions> {
    let mut v = vec![];
    for rule in [Rule::Greedy, Rule::GreedyCost, Rule::Phragmen] {
        v.push(CountOptions {
            rule,
            ..CountOptions::default()
        });
    }
    for utility in [Utility::Cost, Utility::Approval] {
        v.push(CountOptions {
            rule: Rule::MaxWelfare,
            utility,
            ..CountOptions::default()
        });
        for completion in [
            Completion::None,
            Completion::Add1,
            Completion::Add1Greedy,
            Completion::Add1e,
        ] {
            v.push(CountOptions {
                rule: Rule::Mes,
                utility,
                completion,
                step: Money::units(3),
                ..CountOptions::default()
            });
        }
    }
    v
}

/// Reverses the project list and the voter list, rewriting ballots to match.
fn reorder(i: &Instance) -> Instance {
    let m = i.projects.len();
    let mut j = i.clone();
    j.projects.reverse();
    j.voters.reverse();
    for v in &mut j.voters {
        for p in &mut v.vote {
            *p = m - 1 - *p;
        }
    }
    j
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// MES the obvious way: one exact budget per voter, supporters sorted by budget per point.
/// Ties are broken by the priority order the library published.
fn naive_mes(i: &Instance, utility: Utility, priority: &[String]) -> Vec<String> {
    let n = i.voters.len();
    if n == 0 {
        return vec![];
    }
    let r = |x: i128| BigRational::from_integer(BigInt::from(x));
    let mut budget: Vec<BigRational> = vec![r(i.budget.0) / r(n as i128); n];
    let mut sup: Vec<Vec<(usize, i128)>> = vec![vec![]; i.projects.len()];
    for (v, voter) in i.voters.iter().enumerate() {
        for (k, &p) in voter.vote.iter().enumerate() {
            let w = i.weight(voter, k) as i128;
            if w > 0 {
                sup[p].push((v, w));
            }
        }
    }
    let rank = |p: usize| {
        priority
            .iter()
            .position(|x| *x == i.projects[p].id)
            .unwrap()
    };
    let mut chosen: Vec<String> = i
        .projects
        .iter()
        .enumerate()
        .filter(|(p, pr)| pr.cost.0 == 0 && !sup[*p].is_empty())
        .map(|(_, pr)| pr.id.clone())
        .collect();
    let mut remaining: Vec<usize> = (0..i.projects.len())
        .filter(|&p| i.projects[p].cost.0 > 0 && !sup[p].is_empty())
        .collect();
    loop {
        let mut best: Option<(BigRational, usize, BigRational)> = None;
        for &p in &remaining {
            let cost = r(i.projects[p].cost.0);
            let total: BigRational = sup[p].iter().map(|&(v, _)| budget[v].clone()).sum();
            if total < cost {
                continue;
            }
            let mut s = sup[p].clone();
            s.sort_by(|a, b| (budget[a.0].clone() / r(a.1)).cmp(&(budget[b.0].clone() / r(b.1))));
            let mut left = cost.clone();
            let mut wsum: i128 = s.iter().map(|x| x.1).sum();
            let mut q = BigRational::zero();
            for &(v, w) in &s {
                q = left.clone() / r(wsum);
                if budget[v].clone() / r(w) < q {
                    left -= budget[v].clone();
                    wsum -= w;
                } else {
                    break;
                }
            }
            let rho = match utility {
                Utility::Cost => q.clone() / cost,
                Utility::Approval => q.clone(),
            };
            let better = match &best {
                None => true,
                Some((b, bp, _)) => rho < *b || (rho == *b && rank(p) < rank(*bp)),
            };
            if better {
                best = Some((rho, p, q));
            }
        }
        let Some((_, p, q)) = best else { break };
        for &(v, w) in &sup[p] {
            let pay = q.clone() * r(w);
            budget[v] = if budget[v] < pay {
                BigRational::zero()
            } else {
                budget[v].clone() - pay
            };
        }
        chosen.push(i.projects[p].id.clone());
        remaining.retain(|&x| x != p);
    }
    chosen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn never_overspends_and_winners_are_distinct(i in arb_instance()) {
        for o in all_options() {
            let out = count(&i, &o).unwrap();
            prop_assert!(out.spent <= out.budget, "{:?} spent {} of {}", o, out.spent, out.budget);
            let s = sorted(&out.winners);
            let mut d = s.clone();
            d.dedup();
            prop_assert_eq!(s.len(), d.len());
            let total: i128 = out.projects.iter().filter(|p| p.selected).map(|p| p.cost.0).sum();
            prop_assert_eq!(total, out.spent.0);
        }
    }

    #[test]
    fn independent_of_file_order(i in arb_instance(), seed in any::<u64>()) {
        let j = reorder(&i);
        for mut o in all_options() {
            o.seed = seed;
            let a = count(&i, &o).unwrap();
            let b = count(&j, &o).unwrap();
            prop_assert_eq!(&a.tie_break, &b.tie_break);
            prop_assert_eq!(&a.winners, &b.winners, "{:?}", o);
            prop_assert_eq!(&a.satisfaction, &b.satisfaction);
        }
    }

    #[test]
    fn write_read_round_trip(i in arb_instance()) {
        let text = write(&i);
        let back = parse(&text).unwrap();
        prop_assert_eq!(&back, &i);
    }

    #[test]
    fn mes_matches_plain_per_voter_implementation(i in arb_instance(), seed in any::<u64>()) {
        for utility in [Utility::Cost, Utility::Approval] {
            let o = CountOptions { rule: Rule::Mes, utility, seed, ..CountOptions::default() };
            let out = count(&i, &o).unwrap();
            let naive = naive_mes(&i, utility, &out.tie_break.priority);
            // The same projects win, and paid projects are bought in the same
            // order. Free (zero-cost) projects cost nobody anything, so where
            // they fall in the sequence is bookkeeping: the reference takes
            // them as MES reaches them, the rule takes them in tie-break order.
            prop_assert_eq!(sorted(&out.winners), sorted(&naive), "{:?}", utility);
            let paid = |w: &[String]| -> Vec<String> {
                w.iter()
                    .filter(|id| i.projects.iter().any(|p| &p.id == *id && p.cost.0 > 0))
                    .cloned()
                    .collect()
            };
            prop_assert_eq!(paid(&out.winners), paid(&naive), "{:?}", utility);
        }
    }

    #[test]
    fn add1_skipping_equals_rerunning_every_raise(i in arb_instance(), seed in any::<u64>(), step in 1i64..4) {
        for utility in [Utility::Cost, Utility::Approval] {
            for completion in [Completion::Add1, Completion::Add1e] {
                let o = CountOptions { rule: Rule::Mes, utility, completion, seed, step: Money::units(step), ..CountOptions::default() };
                let slow = CountOptions { add1_jump: false, ..o.clone() };
                let a = count(&i, &o).unwrap();
                let b = count(&i, &slow).unwrap();
                prop_assert_eq!(&a.winners, &b.winners, "{:?} {:?}", utility, completion);
                // No voters: nothing to raise, and no completion record either way.
                if let (Some(ca), Some(cb)) = (&a.completion, &b.completion) {
                    prop_assert_eq!(ca.iterations, cb.iterations);
                    prop_assert_eq!(&ca.final_per_voter, &cb.final_per_voter);
                    prop_assert!(ca.runs <= cb.runs);
                } else {
                    prop_assert!(a.completion.is_none() && b.completion.is_none() && i.voters.is_empty());
                }
            }
        }
    }

    #[test]
    fn max_welfare_equals_brute_force(i in arb_instance()) {
        for utility in [Utility::Cost, Utility::Approval] {
            let o = CountOptions { rule: Rule::MaxWelfare, utility, ..CountOptions::default() };
            let out = count(&i, &o).unwrap();
            let value = |p: &saanjh_pb::ProjectResult| -> i128 {
                let f = match utility { Utility::Cost => p.cost.0, Utility::Approval => 1 };
                p.votes as i128 * f
            };
            let got: i128 = out.projects.iter().filter(|p| p.selected).map(value).sum();
            let m = out.projects.len();
            let mut best = 0i128;
            for mask in 0u32..(1 << m) {
                let ps: Vec<&saanjh_pb::ProjectResult> = (0..m).filter(|k| mask >> k & 1 == 1).map(|k| &out.projects[k]).collect();
                let cost: i128 = ps.iter().map(|p| p.cost.0).sum();
                if cost <= out.budget.0 {
                    best = best.max(ps.iter().map(|p| value(p)).sum());
                }
            }
            prop_assert_eq!(got, best);
        }
    }

    #[test]
    fn parser_never_panics(s in "(META|PROJECTS|VOTES|key;value|budget;[0-9.,x]{0,4}|vote_type;(approval|cumulative)|project_id;cost|voter_id;vote(;points)?|[a-c0-9;,\"\n]{0,12}|\n){0,30}") {
        let _ = parse(&s);
    }
}
