//! Solving the prime-implicant chart: every cover of the positive rows with
//! the fewest prime implicants (the reference's minimal models), or every
//! irredundant cover when asked for all solutions.
//!
//! Exact branch and bound. Rows whose covering set contains another row's
//! are dropped first (covering the smaller one covers both), PIs with the
//! same coverage are solved as one column and expanded afterwards, and the
//! search branches on the row with the fewest candidates, bounded below by
//! a set of rows no two of which share a PI. Covers are never enumerated
//! up front; the number of models returned is capped, and the cap is
//! reported rather than silent.

#[derive(Debug, Clone)]
pub struct ChartSolution {
    /// Each model: indices into the PI list given, ascending.
    pub models: Vec<Vec<usize>>,
    /// True when more models exist than were returned.
    pub truncated: bool,
}

type Bits = Vec<u64>;

fn test(b: &Bits, i: usize) -> bool {
    b[i / 64] >> (i % 64) & 1 == 1
}
fn set(b: &mut Bits, i: usize) {
    b[i / 64] |= 1 << (i % 64);
}
fn is_subset(a: &Bits, b: &Bits) -> bool {
    a.iter().zip(b).all(|(x, y)| x & !y == 0)
}
fn any(a: &Bits) -> bool {
    a.iter().any(|&w| w != 0)
}

/// `cols[c]` is the set of rows PI `c` covers (bitset over `n_rows`).
pub fn solve(
    cols: &[Bits],
    n_rows: usize,
    row_dom: bool,
    all_solutions: bool,
    max_models: usize,
) -> ChartSolution {
    // Columns with identical coverage become one class.
    let mut classes: Vec<Vec<usize>> = Vec::new();
    let mut reps: Vec<Bits> = Vec::new();
    {
        let mut seen: std::collections::HashMap<&Bits, usize> = std::collections::HashMap::new();
        for (c, bits) in cols.iter().enumerate() {
            if !any(bits) {
                continue;
            }
            match seen.get(bits) {
                Some(&k) => classes[k].push(c),
                None => {
                    seen.insert(bits, reps.len());
                    reps.push(bits.clone());
                    classes.push(vec![c]);
                }
            }
        }
    }
    if row_dom {
        // A PI covering a strict subset of another's rows is dominated.
        let keep: Vec<bool> = (0..reps.len())
            .map(|a| {
                !(0..reps.len())
                    .any(|b| a != b && is_subset(&reps[a], &reps[b]) && reps[a] != reps[b])
            })
            .collect();
        let mut i = 0;
        classes.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        let mut i = 0;
        reps.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    let nc = reps.len();
    let cwords = nc.div_ceil(64);
    // Row → set of columns.
    let mut row_cols: Vec<Bits> = vec![vec![0; cwords]; n_rows];
    for (c, bits) in reps.iter().enumerate() {
        for (r, rc) in row_cols.iter_mut().enumerate() {
            if test(bits, r) {
                set(rc, c);
            }
        }
    }
    if row_cols.iter().any(|rc| !any(rc)) {
        return ChartSolution {
            models: Vec::new(),
            truncated: false,
        };
    }
    // Row dominance: keep only rows whose column set contains no other's.
    let mut order: Vec<usize> = (0..n_rows).collect();
    let count = |b: &Bits| b.iter().map(|w| w.count_ones()).sum::<u32>();
    order.sort_by_key(|&r| count(&row_cols[r]));
    let mut kept_rows: Vec<usize> = Vec::new();
    for &r in &order {
        if !kept_rows
            .iter()
            .any(|&q| is_subset(&row_cols[q], &row_cols[r]))
        {
            kept_rows.push(r);
        }
    }
    let rows: Vec<Bits> = kept_rows.iter().map(|&r| row_cols[r].clone()).collect();
    // Column → reduced rows.
    let rwords = rows.len().div_ceil(64);
    let mut col_rows: Vec<Bits> = vec![vec![0; rwords]; nc];
    for (r, rc) in rows.iter().enumerate() {
        for (c, cr) in col_rows.iter_mut().enumerate() {
            if test(rc, c) {
                set(cr, r);
            }
        }
    }
    let mut search = Search {
        rows: &rows,
        col_rows: &col_rows,
        best: usize::MAX,
        found: Vec::new(),
        all: all_solutions,
        max_models,
        truncated: false,
    };
    if !all_solutions {
        search.best = greedy_bound(&rows, &col_rows);
    }
    let mut uncovered: Bits = vec![0; rwords];
    for r in 0..rows.len() {
        set(&mut uncovered, r);
    }
    let mut chosen = Vec::new();
    search.dfs(&uncovered, &mut chosen, &vec![0; cwords]);
    let mut truncated = search.truncated;
    // Expand classes into concrete PIs.
    let mut models: Vec<Vec<usize>> = Vec::new();
    for m in &search.found {
        let mut partial: Vec<Vec<usize>> = vec![Vec::new()];
        for &c in m {
            let mut next = Vec::new();
            for p in &partial {
                for &member in &classes[c] {
                    let mut q = p.clone();
                    q.push(member);
                    next.push(q);
                }
            }
            partial = next;
        }
        for mut p in partial {
            if models.len() >= max_models {
                truncated = true;
                break;
            }
            p.sort_unstable();
            models.push(p);
        }
    }
    models.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    ChartSolution { models, truncated }
}

fn greedy_bound(rows: &[Bits], col_rows: &[Bits]) -> usize {
    let rwords = rows.len().div_ceil(64);
    let mut uncovered: Bits = vec![0; rwords];
    for r in 0..rows.len() {
        set(&mut uncovered, r);
    }
    let mut n = 0;
    while any(&uncovered) {
        let best = col_rows
            .iter()
            .enumerate()
            .max_by_key(|(_, cr)| {
                cr.iter()
                    .zip(&uncovered)
                    .map(|(a, b)| (a & b).count_ones())
                    .sum::<u32>()
            })
            .map(|(c, _)| c);
        let Some(c) = best else { break };
        for (u, w) in uncovered.iter_mut().zip(&col_rows[c]) {
            *u &= !w;
        }
        n += 1;
    }
    n
}

struct Search<'a> {
    rows: &'a [Bits],
    col_rows: &'a [Bits],
    best: usize,
    found: Vec<Vec<usize>>,
    all: bool,
    max_models: usize,
    truncated: bool,
}

impl Search<'_> {
    fn dfs(&mut self, uncovered: &Bits, chosen: &mut Vec<usize>, excluded: &Bits) {
        if self.truncated && self.all {
            return;
        }
        if !any(uncovered) {
            if self.all {
                if self.irredundant(chosen) {
                    if self.found.len() >= self.max_models {
                        self.truncated = true;
                        return;
                    }
                    self.found.push(chosen.clone());
                }
            } else {
                if chosen.len() > self.best {
                    return;
                }
                if chosen.len() < self.best {
                    self.best = chosen.len();
                    self.found.clear();
                }
                if self.found.len() >= self.max_models {
                    self.truncated = true;
                } else {
                    self.found.push(chosen.clone());
                }
            }
            return;
        }
        // Branch row: fewest usable columns. Lower bound: rows with
        // pairwise disjoint usable columns each need their own PI.
        let mut branch: Option<(usize, u32)> = None;
        let mut lb = 0usize;
        let mut used: Bits = vec![0; excluded.len()];
        let mut cands: Vec<(u32, usize)> = Vec::new();
        for (wi, &w) in uncovered.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let r = wi * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                let c: u32 = self.rows[r]
                    .iter()
                    .zip(excluded)
                    .map(|(a, b)| (a & !b).count_ones())
                    .sum();
                if c == 0 {
                    return;
                }
                cands.push((c, r));
                if branch.is_none_or(|(_, bc)| c < bc) {
                    branch = Some((r, c));
                }
            }
        }
        if !self.all {
            cands.sort_unstable();
            for &(_, r) in &cands {
                let disjoint = self.rows[r]
                    .iter()
                    .zip(excluded)
                    .zip(&used)
                    .all(|((a, x), u)| a & !x & u == 0);
                if disjoint {
                    lb += 1;
                    for ((u, a), x) in used.iter_mut().zip(&self.rows[r]).zip(excluded) {
                        *u |= a & !x;
                    }
                }
            }
            if chosen.len() + lb > self.best {
                return;
            }
        }
        let Some((r, _)) = branch else { return };
        let mut excl = excluded.clone();
        let cols: Vec<usize> = {
            let mut v = Vec::new();
            for (wi, (&a, &x)) in self.rows[r].iter().zip(excluded).enumerate() {
                let mut w = a & !x;
                while w != 0 {
                    v.push(wi * 64 + w.trailing_zeros() as usize);
                    w &= w - 1;
                }
            }
            v
        };
        for c in cols {
            let next: Bits = uncovered
                .iter()
                .zip(&self.col_rows[c])
                .map(|(u, cr)| u & !cr)
                .collect();
            chosen.push(c);
            self.dfs(&next, chosen, &excl);
            chosen.pop();
            set(&mut excl, c);
            if self.truncated && self.all {
                return;
            }
        }
    }

    fn irredundant(&self, chosen: &[usize]) -> bool {
        chosen.iter().enumerate().all(|(i, &c)| {
            // Some row must be covered by c alone.
            let mut others: Bits = vec![0; self.col_rows[c].len()];
            for (j, &d) in chosen.iter().enumerate() {
                if j != i {
                    for (o, w) in others.iter_mut().zip(&self.col_rows[d]) {
                        *o |= w;
                    }
                }
            }
            self.col_rows[c]
                .iter()
                .zip(&others)
                .any(|(a, o)| a & !o != 0)
        })
    }
}
