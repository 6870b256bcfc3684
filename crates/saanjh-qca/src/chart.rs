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
    /// False when the search budget ran out before the minimum was proven:
    /// the models are then the smallest found, not necessarily minimal.
    pub exact: bool,
}

/// Work allowed per search phase, counted in row-by-word steps of the
/// branch and bound: enough for every published data set, small enough that
/// a chart too hard to solve exactly answers in seconds rather than hangs.
pub const NODE_BUDGET: u64 = 200_000_000;

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
            exact: true,
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
    // Independent parts: rows linked by a shared PI. A noisy chart falls
    // apart into many small parts, each solved exactly on its own; the
    // minimal models of the whole are every combination of the parts'
    // minimal models (and likewise for irredundant ones), so the search
    // never meets the product of their sizes.
    let mut parent: Vec<usize> = (0..kept_rows.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut first_row_of_col: Vec<Option<usize>> = vec![None; nc];
    for (i, &r) in kept_rows.iter().enumerate() {
        for (wi, &w) in row_cols[r].iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let c = wi * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                match first_row_of_col[c] {
                    None => first_row_of_col[c] = Some(i),
                    Some(j) => {
                        let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                        if a != b {
                            parent[a] = b;
                        }
                    }
                }
            }
        }
    }
    let mut part_of_root: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut parts: Vec<Vec<usize>> = Vec::new();
    for (i, &row) in kept_rows.iter().enumerate() {
        let root = find(&mut parent, i);
        let p = *part_of_root.entry(root).or_insert_with(|| {
            parts.push(Vec::new());
            parts.len() - 1
        });
        parts[p].push(row);
    }
    let mut exact = true;
    let mut truncated = false;
    let mut per_part: Vec<Vec<Vec<usize>>> = Vec::with_capacity(parts.len());
    for part in &parts {
        // Local columns: those covering this part's rows.
        let mut cols_here: Vec<usize> = Vec::new();
        let mut seen: Bits = vec![0; cwords];
        for &r in part {
            for (sw, &w) in seen.iter_mut().zip(&row_cols[r]) {
                *sw |= w;
            }
        }
        for (wi, &w) in seen.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                cols_here.push(wi * 64 + w.trailing_zeros() as usize);
                w &= w - 1;
            }
        }
        let lw = cols_here.len().div_ceil(64);
        let local_rows: Vec<Bits> = part
            .iter()
            .map(|&r| {
                let mut b: Bits = vec![0; lw];
                for (l, &c) in cols_here.iter().enumerate() {
                    if test(&row_cols[r], c) {
                        set(&mut b, l);
                    }
                }
                b
            })
            .collect();
        let (found, t, e) = solve_part(&local_rows, cols_here.len(), all_solutions, max_models);
        truncated |= t;
        exact &= e;
        per_part.push(
            found
                .into_iter()
                .map(|m| m.into_iter().map(|l| cols_here[l]).collect())
                .collect(),
        );
    }
    // Every combination of the parts' models, then every choice among PIs
    // with identical coverage, up to max_models (an odometer: nothing is
    // built beyond what is returned).
    let mut models: Vec<Vec<usize>> = Vec::new();
    if per_part.iter().all(|p| !p.is_empty()) {
        let mut idx = vec![0usize; per_part.len()];
        'combos: loop {
            let classes_chosen: Vec<usize> = per_part
                .iter()
                .zip(&idx)
                .flat_map(|(p, &i)| p[i].iter().copied())
                .collect();
            let mut member = vec![0usize; classes_chosen.len()];
            loop {
                if models.len() >= max_models {
                    truncated = true;
                    break 'combos;
                }
                let mut m: Vec<usize> = classes_chosen
                    .iter()
                    .zip(&member)
                    .map(|(&c, &k)| classes[c][k])
                    .collect();
                m.sort_unstable();
                models.push(m);
                // Next member choice.
                let mut j = 0;
                loop {
                    if j == member.len() {
                        break;
                    }
                    member[j] += 1;
                    if member[j] < classes[classes_chosen[j]].len() {
                        break;
                    }
                    member[j] = 0;
                    j += 1;
                }
                if j == member.len() {
                    break;
                }
            }
            // Next combination of part models.
            let mut j = 0;
            loop {
                if j == idx.len() {
                    break 'combos;
                }
                idx[j] += 1;
                if idx[j] < per_part[j].len() {
                    break;
                }
                idx[j] = 0;
                j += 1;
            }
        }
    }
    models.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    ChartSolution {
        models,
        truncated,
        exact,
    }
}

/// One independent part of the chart: every minimum cover (or every
/// irredundant cover), as column indices; whether the list was cut at
/// `max_models`; whether the search finished within its budget.
fn solve_part(
    rows: &[Bits],
    nc: usize,
    all_solutions: bool,
    max_models: usize,
) -> (Vec<Vec<usize>>, bool, bool) {
    let cwords = nc.div_ceil(64);
    // Column → rows.
    let rwords = rows.len().div_ceil(64);
    let mut col_rows: Vec<Bits> = vec![vec![0; rwords]; nc];
    for (r, rc) in rows.iter().enumerate() {
        for (c, cr) in col_rows.iter_mut().enumerate() {
            if test(rc, c) {
                set(cr, r);
            }
        }
    }
    let mut uncovered: Bits = vec![0; rwords];
    for r in 0..rows.len() {
        set(&mut uncovered, r);
    }
    let mut exact = true;
    let mut search = Search {
        rows,
        col_rows: &col_rows,
        best: usize::MAX,
        found: Vec::new(),
        all: all_solutions,
        max_models,
        truncated: false,
        fixed_bound: false,
        strict: false,
        nodes: 0,
        budget: NODE_BUDGET,
        size_buf: Vec::new(),
    };
    if !all_solutions {
        // The minimum size first, on a chart also reduced by column
        // dominance (a dominated PI can always be swapped for its
        // dominator, so the minimum is unchanged), then every cover of that
        // size on the unreduced chart.
        let (core_rows, core_col_rows) = cyclic_core(rows, nc);
        let mut first = Search {
            rows: &core_rows,
            col_rows: &core_col_rows,
            best: greedy_bound(&core_rows, &core_col_rows),
            found: Vec::new(),
            all: false,
            max_models: 1,
            truncated: false,
            fixed_bound: false,
            strict: true,
            nodes: 0,
            budget: NODE_BUDGET,
            size_buf: Vec::new(),
        };
        let mut core_unc: Bits = vec![0; core_rows.len().div_ceil(64)];
        for r in 0..core_rows.len() {
            set(&mut core_unc, r);
        }
        first.dfs(&core_unc, &mut Vec::new(), &vec![0; cwords]);
        exact &= first.nodes < first.budget;
        search.best = first.best;
        search.fixed_bound = true;
    }
    let mut chosen = Vec::new();
    search.dfs(&uncovered, &mut chosen, &vec![0; cwords]);
    exact &= search.nodes < search.budget;
    if search.found.is_empty() && !exact {
        let mut g = greedy_cover(rows, &col_rows);
        g.sort_unstable();
        search.found.push(g);
    }
    (search.found, search.truncated, exact)
}

/// Row and column dominance to a fixpoint. Returns rows (over the original
/// columns, dominated ones cleared) and the matching column → rows sets.
fn cyclic_core(rows: &[Bits], nc: usize) -> (Vec<Bits>, Vec<Bits>) {
    let cwords = nc.div_ceil(64);
    let mut alive: Bits = vec![0; cwords];
    for c in 0..nc {
        set(&mut alive, c);
    }
    let mut cur: Vec<Bits> = rows.to_vec();
    loop {
        // Row dominance under the live columns.
        let masked: Vec<Bits> = cur
            .iter()
            .map(|r| r.iter().zip(&alive).map(|(a, b)| a & b).collect())
            .collect();
        let count = |b: &Bits| b.iter().map(|w| w.count_ones()).sum::<u32>();
        let mut order: Vec<usize> = (0..masked.len()).collect();
        order.sort_by_key(|&r| count(&masked[r]));
        let mut kept: Vec<usize> = Vec::new();
        for &r in &order {
            if !kept.iter().any(|&q| is_subset(&masked[q], &masked[r])) {
                kept.push(r);
            }
        }
        let next_rows: Vec<Bits> = kept.iter().map(|&r| masked[r].clone()).collect();
        // Column dominance over the kept rows.
        let rw = next_rows.len().div_ceil(64);
        let mut cr: Vec<Bits> = vec![vec![0; rw]; nc];
        for (r, row) in next_rows.iter().enumerate() {
            for (c, col) in cr.iter_mut().enumerate() {
                if test(row, c) {
                    set(col, r);
                }
            }
        }
        let live: Vec<usize> = (0..nc).filter(|&c| test(&alive, c)).collect();
        let mut changed = next_rows.len() != cur.len();
        for &a in &live {
            if !test(&alive, a) {
                continue;
            }
            let dominated = live.iter().any(|&b| {
                b != a && test(&alive, b) && is_subset(&cr[a], &cr[b]) && (cr[a] != cr[b] || b < a)
            });
            if dominated {
                alive[a / 64] &= !(1 << (a % 64));
                changed = true;
            }
        }
        cur = next_rows;
        if !changed {
            let col_rows = cr
                .into_iter()
                .enumerate()
                .map(|(c, bits)| if test(&alive, c) { bits } else { vec![0; rw] })
                .collect();
            let rows = cur
                .iter()
                .map(|r| r.iter().zip(&alive).map(|(a, b)| a & b).collect())
                .collect();
            return (rows, col_rows);
        }
    }
}

fn greedy_bound(rows: &[Bits], col_rows: &[Bits]) -> usize {
    greedy_cover(rows, col_rows).len()
}

/// A cover picked greedily (most uncovered rows first): an upper bound on
/// the minimum, and the answer of last resort when the budget runs out.
fn greedy_cover(rows: &[Bits], col_rows: &[Bits]) -> Vec<usize> {
    let rwords = rows.len().div_ceil(64);
    let mut uncovered: Bits = vec![0; rwords];
    for r in 0..rows.len() {
        set(&mut uncovered, r);
    }
    let mut cover = Vec::new();
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
        if col_rows[c].iter().zip(&uncovered).all(|(a, b)| a & b == 0) {
            break;
        }
        for (u, w) in uncovered.iter_mut().zip(&col_rows[c]) {
            *u &= !w;
        }
        cover.push(c);
    }
    cover
}

struct Search<'a> {
    rows: &'a [Bits],
    col_rows: &'a [Bits],
    best: usize,
    found: Vec<Vec<usize>>,
    all: bool,
    max_models: usize,
    truncated: bool,
    /// The minimum is known: stop as soon as `max_models` are found.
    fixed_bound: bool,
    /// Only the minimum size is wanted: search for strictly smaller covers.
    strict: bool,
    nodes: u64,
    budget: u64,
    /// Scratch: uncovered rows per column, for the dual bound.
    size_buf: Vec<u32>,
}

impl Search<'_> {
    fn dfs(&mut self, uncovered: &Bits, chosen: &mut Vec<usize>, excluded: &Bits) {
        let live_rows: u64 = uncovered.iter().map(|w| u64::from(w.count_ones())).sum();
        self.nodes += 1 + live_rows * excluded.len() as u64;
        if self.nodes >= self.budget || (self.truncated && (self.all || self.fixed_bound)) {
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
            // Fractional dual bound: give each uncovered row the weight
            // 1 / (largest number of uncovered rows a usable PI covering it
            // covers). No PI collects more than 1 in total, so the weights'
            // sum bounds the PIs still needed from below; it is much
            // tighter than the disjoint-rows bound on dense noisy charts.
            let limit_now = if self.strict {
                self.best.saturating_sub(1)
            } else {
                self.best
            };
            if chosen.len() + lb <= limit_now {
                let dual = self.dual_bound(uncovered, excluded);
                lb = lb.max(dual);
            }
            let limit = if self.strict {
                self.best.saturating_sub(1)
            } else {
                self.best
            };
            if chosen.len() + lb > limit {
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
            if self.nodes >= self.budget || (self.truncated && (self.all || self.fixed_bound)) {
                return;
            }
        }
    }

    fn dual_bound(&mut self, uncovered: &Bits, excluded: &Bits) -> usize {
        let nc = self.col_rows.len();
        self.size_buf.clear();
        self.size_buf.resize(nc, 0);
        for c in 0..nc {
            if test(excluded, c) {
                continue;
            }
            self.size_buf[c] = self.col_rows[c]
                .iter()
                .zip(uncovered)
                .map(|(a, u)| (a & u).count_ones())
                .sum();
        }
        self.nodes += (nc * uncovered.len()) as u64;
        let mut total = 0.0f64;
        for (wi, &w) in uncovered.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let r = wi * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                let mut best = 0u32;
                for (cw, (&a, &x)) in self.rows[r].iter().zip(excluded).enumerate() {
                    let mut b = a & !x;
                    while b != 0 {
                        let c = cw * 64 + b.trailing_zeros() as usize;
                        b &= b - 1;
                        best = best.max(self.size_buf[c]);
                    }
                }
                if best > 0 {
                    total += 1.0 / f64::from(best);
                }
            }
        }
        (total - 1e-9).ceil().max(0.0) as usize
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
