//! The one automaton library of the compiler and the lints: [`Dense`], a dense DFA over
//! byte classes (what the compiler's subset construction builds and packs, and what the
//! lints search, multiply and walk), the class merger both use ([`merge_classes`]),
//! and [`intern`], the one way rows, keys and literals get their indices.
//!
//! The per-component fs automata (`compile_fs`) have their own state type (the table's
//! `CompDfa`); their glob automaton over one component's bytes is a [`Dense`] too.

use crate::compile::FxMap;
use mxc_eval as ev;

/// Index of `row` in `rows`, pushed when new (`index` maps each row to its index).
pub(crate) fn intern<T: Clone + Eq + std::hash::Hash>(
    rows: &mut Vec<T>,
    index: &mut FxMap<T, u32>,
    row: T,
) -> u32 {
    if let Some(&i) = index.get(&row) {
        return i;
    }
    let i = rows.len() as u32;
    index.insert(row.clone(), i);
    rows.push(row);
    i
}

/// A dense DFA: state 0 dead, `trans[s * nclasses + c]` with `c = class_of[byte]`,
/// `accept[s]` a row or `NONE` (or, for `compile::dense_of_globs`, a bit set of patterns).
pub(crate) struct Dense {
    pub nclasses: usize,
    pub class_of: Vec<u8>,
    pub start: u32,
    pub trans: Vec<u32>,
    pub accept: Vec<u32>,
}

impl Dense {
    /// The automaton that matches nothing (its start is the dead state).
    pub(crate) fn empty() -> Dense {
        Dense {
            nclasses: 1,
            class_of: vec![0; 256],
            start: 0,
            trans: vec![0],
            accept: vec![ev::NONE],
        }
    }

    pub fn nstates(&self) -> usize {
        self.accept.len()
    }

    /// The target of state `s` on class `c` (the dead state when out of range).
    #[inline]
    pub fn step(&self, s: u32, c: u32) -> u32 {
        self.trans
            .get(s as usize * self.nclasses + c as usize)
            .copied()
            .unwrap_or(0)
    }

    /// The automaton on states `0..n` (0 dead) of a step function over bytes.
    pub(crate) fn from_fn(
        n: usize,
        start: u32,
        accept: Vec<u32>,
        step: impl Fn(u32, u8) -> u32,
    ) -> Dense {
        let mut full = vec![0u32; n * 256];
        for s in 1..n {
            for b in 0..=255u8 {
                full[s * 256 + b as usize] = step(s as u32, b);
            }
        }
        Dense::from_full(&full, start, accept)
    }

    /// From a full table (`full[s * 256 + byte]`), equal byte columns merged.
    pub(crate) fn from_full(full: &[u32], start: u32, accept: Vec<u32>) -> Dense {
        let identity: Vec<u8> = (0..=255).collect();
        let (nclasses, class_of, trans) = merge_classes(256, &identity, full);
        Dense {
            nclasses,
            class_of,
            start,
            trans,
            accept,
        }
    }

    /// The class of a byte.
    pub(crate) fn class(&self, b: u8) -> u32 {
        u32::from(self.class_of.get(b as usize).copied().unwrap_or(0))
    }

    /// The state reached from the start on `bytes` (0 once dead).
    pub(crate) fn run(&self, bytes: impl IntoIterator<Item = u8>) -> u32 {
        let mut s = self.start;
        for b in bytes {
            if s == 0 {
                break;
            }
            s = self.step(s, self.class(b));
        }
        s
    }

    /// The reachable product of two (small) automata; a pair with a dead side is dead.
    pub(crate) fn product(a: &Dense, b: &Dense, accept: impl Fn(u32, u32) -> u32) -> Dense {
        let mut ids: FxMap<(u32, u32), u32> = FxMap::default();
        ids.insert((0, 0), 0);
        let mut order = vec![(0u32, 0u32)];
        let start_id = if a.start == 0 || b.start == 0 {
            0
        } else {
            ids.insert((a.start, b.start), 1);
            order.push((a.start, b.start));
            1
        };
        let mut full: Vec<u32> = vec![0; 256];
        let mut i = 1;
        while i < order.len() {
            let (sa, sb) = order[i];
            for byte in 0..=255u8 {
                let ta = a.step(sa, a.class(byte));
                let tb = b.step(sb, b.class(byte));
                let t = if ta == 0 || tb == 0 {
                    0
                } else {
                    let next = order.len() as u32;
                    *ids.entry((ta, tb)).or_insert_with(|| {
                        order.push((ta, tb));
                        next
                    })
                };
                full.push(t);
            }
            i += 1;
        }
        let acc = order
            .iter()
            .map(|&(sa, sb)| {
                if sa == 0 || sb == 0 {
                    ev::NONE
                } else {
                    accept(a.accept[sa as usize], b.accept[sb as usize])
                }
            })
            .collect();
        Dense::from_full(&full, start_id, acc)
    }

    /// For each state, the union of the accept bits reachable from it (itself
    /// included): one backwards breadth-first search per bit, linear in the
    /// transitions.
    pub(crate) fn reach_bits(&self) -> Vec<u32> {
        let n = self.nstates();
        let k = self.nclasses;
        let mut out: Vec<u32> = self.accept.iter().map(|&a| bits(a)).collect();
        let all = out.iter().fold(0u32, |m, &b| m | b);
        if all == 0 {
            return out;
        }
        // Predecessors, as compressed rows.
        let mut count = vec![0u32; n + 1];
        for s in 1..n {
            for c in 0..k {
                let t = self.trans[s * k + c] as usize;
                if t != 0 && t < n {
                    count[t + 1] += 1;
                }
            }
        }
        for i in 1..=n {
            count[i] += count[i - 1];
        }
        let mut fill = count.clone();
        let mut pred = vec![0u32; count[n] as usize];
        for s in 1..n {
            for c in 0..k {
                let t = self.trans[s * k + c] as usize;
                if t != 0 && t < n {
                    pred[fill[t] as usize] = s as u32;
                    fill[t] += 1;
                }
            }
        }
        let mut queue: Vec<u32> = Vec::new();
        for bit in (0..32).map(|i| 1u32 << i).filter(|b| all & b != 0) {
            queue.clear();
            queue.extend((0..n as u32).filter(|&s| {
                self.accept[s as usize] != ev::NONE && self.accept[s as usize] & bit != 0
            }));
            while let Some(t) = queue.pop() {
                let t = t as usize;
                for &p in &pred[count[t] as usize..count[t + 1] as usize] {
                    if out[p as usize] & bit == 0 {
                        out[p as usize] |= bit;
                        queue.push(p);
                    }
                }
            }
        }
        out
    }
}

/// The accept bits of an accept value (`NONE` = no bit).
pub(crate) fn bits(a: u32) -> u32 {
    if a == ev::NONE {
        0
    } else {
        a
    }
}

/// Merges byte classes whose columns are identical in every state.
pub(crate) fn merge_classes(
    k: usize,
    class_of: &[u8],
    trans: &[u32],
) -> (usize, Vec<u8>, Vec<u32>) {
    let n = trans.len() / k.max(1);
    let mut cols: FxMap<Vec<u32>, u8> = FxMap::default();
    let mut remap = vec![0u8; k];
    let mut keep = Vec::new();
    for c in 0..k {
        let col: Vec<u32> = (0..n).map(|s| trans[s * k + c]).collect();
        let next = cols.len() as u8;
        let id = *cols.entry(col).or_insert_with(|| {
            keep.push(c);
            next
        });
        remap[c] = id;
    }
    let nk = keep.len();
    let mut out = vec![0u32; n * nk];
    for s in 0..n {
        for (j, &c) in keep.iter().enumerate() {
            out[s * nk + j] = trans[s * k + c];
        }
    }
    let classes = class_of.iter().map(|&c| remap[c as usize]).collect();
    (nk, classes, out)
}
