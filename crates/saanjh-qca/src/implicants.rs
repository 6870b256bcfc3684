//! Prime implicants, found one positive configuration at a time.
//!
//! A term built from positive configuration x on the condition set S covers
//! a configuration y exactly when x and y agree on S, so it avoids y when S
//! meets D(x, y), the conditions on which they differ. The prime implicants
//! that cover x are therefore the minimal hitting sets (minimal
//! transversals) of the minimal difference sets {D(x, y) : y forbidden}.
//! This is CCubes' observation that only observed configurations matter,
//! pushed one step further: instead of projecting every row onto every
//! subset of conditions level by level, each positive row's few minimal
//! difference sets are computed once and their transversals enumerated
//! directly (Murakami & Uno's MMCS style: branch on an uncovered edge, keep
//! only elements that still have a private edge). No remainder is ever
//! enumerated for the parsimonious solution, and no level is searched that
//! cannot yield a new prime implicant.
//!
//! For the conservative and intermediate solutions the forbidden rows are
//! everything outside P ∪ don't-cares, which can be most of a 2^k space; the
//! minimal difference sets are then found by a breadth-first walk through
//! the allowed rows around x, which never leaves them.

use rustc_hash::FxHashSet;

use crate::error::{QcaError, Result};
use crate::sets::{Term, diff_mask, low_bits};

/// What a prime implicant must not cover.
pub enum Forbidden<'a> {
    /// Exactly these configurations (negative rows; remainders are free).
    Rows(&'a [u128]),
    /// Everything except these configurations (positive and don't-care).
    AllBut(&'a FxHashSet<u128>),
}

/// Guard against exhausting memory on pathological inputs.
pub const MAX_PRIME_IMPLICANTS: usize = 2_000_000;

pub fn prime_implicants(pos: &[u128], forbidden: &Forbidden, levels: &[u8]) -> Result<Vec<Term>> {
    let k = levels.len();
    let low = low_bits(k);
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(8);
    let threads = if pos.len() < 64 { 1 } else { threads };
    let chunk = pos.len().div_ceil(threads.max(1)).max(1);
    let results: Vec<Result<FxHashSet<Term>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = pos
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut found: FxHashSet<Term> = FxHashSet::default();
                    let mut buckets: Vec<Vec<u128>> = vec![Vec::new(); k + 1];
                    for &x in part {
                        let edges = match forbidden {
                            Forbidden::Rows(neg) => minimal_diffs_to(x, neg, low, &mut buckets),
                            Forbidden::AllBut(allowed) => minimal_diffs_walk(x, allowed, levels),
                        };
                        let mut sink = |s: u128| {
                            found.insert(Term::from_row(x, s));
                        };
                        transversals(&edges, 0, 0, &mut sink);
                        if found.len() > MAX_PRIME_IMPLICANTS {
                            return Err(QcaError::TooLarge(format!(
                                "more than {MAX_PRIME_IMPLICANTS} prime implicants; \
                                 reduce the number of conditions or raise the cut-offs"
                            )));
                        }
                    }
                    Ok(found)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut all: FxHashSet<Term> = FxHashSet::default();
    for r in results {
        all.extend(r?);
    }
    let mut v: Vec<Term> = all.into_iter().collect();
    v.sort();
    Ok(v)
}

/// Minimal members of {D(x, y) : y in neg}; a set of conditions whose
/// every superset also separates x from that y is never needed.
fn minimal_diffs_to(x: u128, neg: &[u128], low: u128, buckets: &mut [Vec<u128>]) -> Vec<u128> {
    for b in buckets.iter_mut() {
        b.clear();
    }
    // Single-condition differences first: any larger set containing one is
    // not minimal, which on dense data discards most of the rest unseen.
    let mut singles = 0u128;
    for &y in neg {
        let d = diff_mask(x, y, low);
        if d & (d - 1) == 0 {
            singles |= d;
        }
    }
    for &y in neg {
        let d = diff_mask(x, y, low);
        if d & singles == 0 {
            buckets[d.count_ones() as usize].push(d);
        }
    }
    let mut kept: Vec<u128> = Vec::new();
    let mut m = singles;
    while m != 0 {
        let b = m & m.wrapping_neg();
        kept.push(b);
        m ^= b;
    }
    let n_single = kept.len();
    for bucket in buckets.iter().skip(2) {
        for &d in bucket {
            if kept[n_single..].iter().any(|&e| e & !d == 0) {
                continue;
            }
            kept.push(d);
        }
    }
    kept
}

/// Minimal difference sets when everything outside `allowed` is forbidden:
/// walk outward from x through sets of conditions D whose every
/// configuration differing from x exactly on D is allowed ("clean"); a set
/// all of whose subsets are clean but which is not clean itself is a
/// minimal difference set.
fn minimal_diffs_walk(x: u128, allowed: &FxHashSet<u128>, levels: &[u8]) -> Vec<u128> {
    let k = levels.len();
    let mut edges = Vec::new();
    let mut clean_prev: FxHashSet<u128> = FxHashSet::default();
    clean_prev.insert(0);
    let mut clean_level: Vec<u128> = vec![0];
    for _size in 1..=k {
        let mut next: Vec<u128> = Vec::new();
        let mut next_set: FxHashSet<u128> = FxHashSet::default();
        for &d in &clean_level {
            let top = if d == 0 {
                0
            } else {
                128 - d.leading_zeros() as usize
            };
            // Extend only above the highest member so each set is built once.
            for j in top.div_ceil(4)..k {
                let bit = 1u128 << (4 * j);
                let nd = d | bit;
                // Every immediate subset must be clean, else nd contains a
                // smaller difference set and is not minimal.
                let mut rest = nd;
                let mut ok = true;
                while rest != 0 {
                    let b = rest & rest.wrapping_neg();
                    if !clean_prev.contains(&(nd ^ b)) {
                        ok = false;
                        break;
                    }
                    rest ^= b;
                }
                if !ok {
                    continue;
                }
                if all_allowed(x, nd, allowed, levels) {
                    next_set.insert(nd);
                    next.push(nd);
                } else {
                    edges.push(nd);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        clean_prev = next_set;
        clean_level = next;
    }
    edges
}

/// Are all configurations that differ from x exactly on `d` allowed?
fn all_allowed(x: u128, d: u128, allowed: &FxHashSet<u128>, levels: &[u8]) -> bool {
    let conds: Vec<usize> = (0..levels.len())
        .filter(|&j| d >> (4 * j) & 1 == 1)
        .collect();
    if conds.iter().all(|&j| levels[j] == 2) {
        // Binary: flipping the low bit of each nibble is the only change.
        return allowed.contains(&(x ^ d));
    }
    fn rec(y: u128, x: u128, conds: &[usize], allowed: &FxHashSet<u128>, levels: &[u8]) -> bool {
        match conds.split_first() {
            None => allowed.contains(&y),
            Some((&j, rest)) => {
                let xv = (x >> (4 * j)) & 0xF;
                (0..u128::from(levels[j])).filter(|&v| v != xv).all(|v| {
                    let y2 = (y & !(0xFu128 << (4 * j))) | (v << (4 * j));
                    rec(y2, x, rest, allowed, levels)
                })
            }
        }
    }
    rec(x, x, &conds, allowed, levels)
}

/// Enumerates the minimal transversals of `edges` (an antichain of
/// condition masks), each exactly once.
fn transversals(edges: &[u128], chosen: u128, forbidden: u128, out: &mut impl FnMut(u128)) {
    // Pick the unhit edge with the fewest usable conditions.
    let mut best: Option<u128> = None;
    let mut best_count = u32::MAX;
    for &e in edges {
        if e & chosen == 0 {
            let avail = e & !forbidden;
            let c = avail.count_ones();
            if c < best_count {
                best_count = c;
                best = Some(avail);
                if c == 0 {
                    return;
                }
            }
        }
    }
    let Some(mut avail) = best else {
        out(chosen);
        return;
    };
    let mut excluded = forbidden;
    while avail != 0 {
        let b = avail & avail.wrapping_neg();
        avail ^= b;
        let nc = chosen | b;
        if every_element_private(edges, nc) {
            transversals(edges, nc, excluded, out);
        }
        excluded |= b;
    }
}

/// Minimality: each chosen condition must be the only chosen one on some
/// edge; adding more conditions can only take private edges away.
fn every_element_private(edges: &[u128], chosen: u128) -> bool {
    let mut private = 0u128;
    for &e in edges {
        let h = e & chosen;
        if h != 0 && h & (h - 1) == 0 {
            private |= h;
        }
    }
    private == chosen
}

/// The prime-implicant chart's columns: which positive rows each PI covers.
pub fn coverage(pos: &[u128], pis: &[Term]) -> Vec<Vec<u64>> {
    let words = pos.len().div_ceil(64);
    pis.iter()
        .map(|t| {
            let mut bits = vec![0u64; words];
            for (i, &r) in pos.iter().enumerate() {
                if t.covers(r) {
                    bits[i / 64] |= 1 << (i % 64);
                }
            }
            bits
        })
        .collect()
}
