//! Building and stepping a comb-compressed [`Dfa`].
//!
//! [`Dfa::from_dense`] packs a dense automaton (one target per state and class) into the
//! row-displacement layout described on [`Dfa`]; the compiler uses it and so do the
//! tests. [`Dfa::step`] is the plain, obviously right reading of that layout, used as a
//! reference. Neither is on the decision path (the engine walks its own layout), but
//! both must never panic, whatever their input: a bad input gives a [`Dfa`] that
//! [`validate`](crate::validate()) rejects.

use std::cmp::Reverse;

use crate::table::{Dfa, Layout, Slot, StateRec, FREE, NONE, SKIP};

/// How far before the previous state of the same size the search for a base starts.
/// Larger packs tighter and slower: 4096 gives about 1.0–1.1× the number of exceptions
/// on automata of the usual shape, in well under a second for 300k states × 60 classes.
const LOOK_BACK: usize = 4096;

impl Dfa {
    /// One byte standing for each byte class (enough to follow every transition),
    /// with the bytes of `first` standing for their own classes. For the analyses off
    /// the decision path (`mxc_eval`'s ancestor analyses, `Engine::launch_*`).
    pub fn class_reps(&self, first: &[u8]) -> Vec<u8> {
        let mut reps: Vec<u8> = Vec::new();
        let mut seen = [false; 256];
        for b in first.iter().copied().chain(0..=255u8) {
            let c = usize::from(self.classes.get(usize::from(b)).copied().unwrap_or(0));
            if let Some(s) = seen.get_mut(c) {
                if !*s {
                    *s = true;
                    reps.push(b);
                }
            }
        }
        reps
    }

    /// The automaton that matches nothing: one dead state, which is also the start.
    /// Every request against it is decided by the agent's default.
    pub fn empty() -> Dfa {
        Dfa {
            classes: vec![0; 256],
            nclasses: 1,
            start: 0,
            default: vec![0],
            base: vec![0],
            accept: vec![NONE],
            next: vec![0],
            check: vec![NONE],
        }
    }

    /// Number of states (the length of [`Dfa::default`]).
    pub fn nstates(&self) -> usize {
        self.default.len()
    }

    /// The state reached from `state` on `byte`, read straight from the comb layout.
    /// Out-of-range indices (only possible in an unvalidated table) give the dead state.
    pub fn step(&self, state: u32, byte: u8) -> u32 {
        let s = state as usize;
        let Some(&class) = self.classes.get(usize::from(byte)) else {
            return 0;
        };
        let Some(&base) = self.base.get(s) else {
            return 0;
        };
        let i = (base as usize).saturating_add(usize::from(class));
        if self.check.get(i) == Some(&state) {
            if let Some(&next) = self.next.get(i) {
                return next;
            }
        }
        self.default.get(s).copied().unwrap_or(0)
    }

    /// The state reached from the start on `bytes` (0 when the input dies).
    pub fn run(&self, bytes: &[u8]) -> u32 {
        let mut s = self.start;
        for &b in bytes {
            s = self.step(s, b);
            if s == 0 {
                break;
            }
        }
        s
    }

    /// The accepting row reached on `bytes`, or [`NONE`].
    pub fn accept_of(&self, bytes: &[u8]) -> u32 {
        self.accept
            .get(self.run(bytes) as usize)
            .copied()
            .unwrap_or(NONE)
    }

    /// Packs a dense automaton into the comb layout.
    ///
    /// - `nclasses`: number of byte classes (1..=256); `classes[byte]` is the class of
    ///   each of the 256 bytes.
    /// - `dense[s][c]`: the target of state `s` on class `c`, for every state (so
    ///   `dense.len()` is the number of states) and every class. A row shorter than
    ///   `nclasses` reads as going to the dead state for the missing classes.
    /// - State 0 must be the dead state: `dense[0]` all zeros and `accept[0] == NONE`.
    /// - `accept[s]`: the row index of accepting state `s`, or [`NONE`].
    ///
    /// Each state's default is its most frequent target (ties go to the smaller state
    /// id); the other transitions ("exceptions") are placed into `next`/`check`, states
    /// with the most exceptions first, each at the first base where all its slots are
    /// free, searching from a little before where the previous state of the same size
    /// went (one forward sweep per size, testing 64 bases per step on a bitmap of used
    /// slots). Free slots
    /// have `check == NONE` and `next == 0`. Time is about linear in `states × classes`
    /// (a few seconds at most for 300k states × 60 classes in a release build).
    ///
    /// Inputs are not checked here: [`validate`](crate::validate())
    /// validates the result.
    pub fn from_dense(
        nclasses: u32,
        classes: Vec<u8>,
        start: u32,
        dense: &[Vec<u32>],
        accept: Vec<u32>,
    ) -> Dfa {
        pack(nclasses, classes, start, dense.len(), accept, |s| {
            dense.get(s).map(Vec::as_slice).unwrap_or(&[])
        })
    }

    /// Like [`Dfa::from_dense`], with the transitions in one flat slice, `nclasses`
    /// entries per state (`dense[s * nclasses + c]`): no allocation per state. A final
    /// partial row counts as a state whose missing transitions go to the dead state.
    pub fn from_dense_flat(
        nclasses: u32,
        classes: Vec<u8>,
        start: u32,
        dense: &[u32],
        accept: Vec<u32>,
    ) -> Dfa {
        let width = (nclasses as usize).max(1);
        let nstates = dense.len().div_ceil(width);
        pack(nclasses, classes, start, nstates, accept, |s| {
            let lo = s.saturating_mul(width);
            let hi = lo.saturating_add(width).min(dense.len());
            dense.get(lo..hi).unwrap_or(&[])
        })
    }
}

impl Default for Layout {
    fn default() -> Layout {
        Layout::refused()
    }
}

impl Layout {
    /// A layout validation refuses (no classes): what a [`Dfa`] whose arrays do not fit
    /// together is laid out as.
    pub(crate) fn refused() -> Layout {
        Layout {
            classes: [0; 256],
            nclasses: 0,
            start: 0,
            states: Default::default(),
            accept: Default::default(),
            slots: Default::default(),
        }
    }

    /// The walk layout of a [`Dfa`], state for state (what the compiler writes): each
    /// state's record, each slot with its target's carried base ([`FREE`] for a free
    /// slot's check), and the states that may be skipped through (a state whose default
    /// is itself and that at most three bytes leave; the dead state is one, with no
    /// exits). `Err` when the arrays' lengths do not fit together (256 class bytes,
    /// `base` and `accept` as long as `default`, `check` as long as `next`); values are
    /// copied as they are, so that validation refuses a bad one. Never panics.
    pub fn of_dfa(dfa: &Dfa) -> Result<Layout, String> {
        let Ok(classes) = <[u8; 256]>::try_from(dfa.classes.as_slice()) else {
            return Err(format!("{} byte classes, expected 256", dfa.classes.len()));
        };
        let nstates = dfa.default.len();
        for (what, len) in [("bases", dfa.base.len()), ("accepts", dfa.accept.len())] {
            if len != nstates {
                return Err(format!("{len} {what} for {nstates} states"));
            }
        }
        if dfa.check.len() != dfa.next.len() {
            return Err(format!(
                "{} checks for {} next entries",
                dfa.check.len(),
                dfa.next.len()
            ));
        }
        // Up to four bytes of each class (enough to know whether it has more than 3).
        let mut class_bytes = [([0u8; 4], 0usize); 256];
        for (b, &c) in (0..=255u8).zip(classes.iter()) {
            if let Some((bytes, n)) = class_bytes.get_mut(usize::from(c)) {
                if let Some(slot) = bytes.get_mut(*n) {
                    *slot = b;
                }
                *n = n.saturating_add(1);
            }
        }
        let nclasses = dfa.nclasses.min(256) as usize;
        let mut states: Vec<StateRec> = dfa
            .base
            .iter()
            .zip(&dfa.default)
            .map(|(&base, &default)| StateRec {
                base,
                default,
                default_base: 0,
                exits: [0; 4],
            })
            .collect();
        // States that loop on themselves by default: the bytes that leave them. Bases
        // that validation will refuse (bit 31 set) are never marked.
        for (s, rec) in states.iter_mut().enumerate() {
            let Ok(s32) = u32::try_from(s) else { break };
            if rec.default != s32 || rec.base >= crate::table::SKIP_BASE {
                continue;
            }
            let mut exits = [0u8; 4];
            let mut n = 0usize;
            let mut ok = true;
            for (c, (bytes, count)) in class_bytes.iter().enumerate().take(nclasses) {
                let i = (rec.base as usize).saturating_add(c);
                let (Some(&check), Some(&next)) = (dfa.check.get(i), dfa.next.get(i)) else {
                    ok = false;
                    break;
                };
                if check != s32 || next == s32 {
                    continue;
                }
                if *count > 3 {
                    ok = false;
                    break;
                }
                for &b in bytes.iter().take(*count) {
                    match exits.get_mut(n) {
                        Some(e) if n < 3 => *e = b,
                        _ => ok = false,
                    }
                    n = n.saturating_add(1);
                }
                if !ok {
                    break;
                }
            }
            if ok {
                exits[3] = SKIP | (n as u8);
                rec.exits = exits;
            }
        }
        let carried_of: Vec<u32> = states.iter().map(StateRec::carried).collect();
        let carried = |s: u32| -> u32 { carried_of.get(s as usize).copied().unwrap_or(0) };
        for r in &mut states {
            r.default_base = carried(r.default);
        }
        let slots: Vec<Slot> = dfa
            .next
            .iter()
            .zip(&dfa.check)
            .map(|(&next, &check)| Slot {
                check: if check == NONE { FREE } else { check },
                next,
                next_base: carried(next),
            })
            .collect();
        Ok(Layout {
            classes,
            nclasses: dfa.nclasses,
            start: dfa.start,
            states: states.into(),
            accept: dfa.accept.clone().into(),
            slots: slots.into(),
        })
    }

    /// The [`Dfa`] this layout walks as (the inverse of [`Layout::of_dfa`]).
    pub fn to_dfa(&self) -> Dfa {
        Dfa {
            classes: self.classes.to_vec(),
            nclasses: self.nclasses,
            start: self.start,
            default: self.states.iter().map(|r| r.default).collect(),
            base: self.states.iter().map(|r| r.base).collect(),
            accept: self.accept.to_vec(),
            next: self.slots.iter().map(|s| s.next).collect(),
            check: self
                .slots
                .iter()
                .map(|s| if s.check == FREE { NONE } else { s.check })
                .collect(),
        }
    }
}

/// A bitmap of used slots; bits past the end read as free.
struct Slots {
    used: Vec<u64>,
}

impl Slots {
    fn take(&mut self, i: usize) {
        let w = i / 64;
        if w >= self.used.len() {
            self.used.resize(w.saturating_add(1), 0);
        }
        if let Some(word) = self.used.get_mut(w) {
            *word |= 1u64 << (i % 64);
        }
    }

    /// The smallest free slot `>= from`.
    fn next_free(&self, from: usize) -> usize {
        let mut w = from / 64;
        let mut mask = !0u64 << (from % 64);
        while let Some(&word) = self.used.get(w) {
            let free = !word & mask;
            if free != 0 {
                return w
                    .saturating_mul(64)
                    .saturating_add(free.trailing_zeros() as usize);
            }
            w = w.saturating_add(1);
            mask = !0;
        }
        from.max(self.used.len().saturating_mul(64))
    }

    /// The 64 used-bits of slots `pos..pos + 64`.
    fn window(&self, pos: usize) -> u64 {
        let (w, shift) = (pos / 64, pos % 64);
        let lo = self.used.get(w).copied().unwrap_or(0);
        if shift == 0 {
            return lo;
        }
        let hi = self.used.get(w.saturating_add(1)).copied().unwrap_or(0);
        (lo >> shift) | (hi << 64usize.wrapping_sub(shift))
    }

    /// The smallest base `>= lo` at which every slot `base + c`, `c` in `exc`, is free,
    /// testing 64 bases at a time. Ends at the latest past the last used slot, where
    /// everything is free.
    fn first_fit(&self, lo: usize, exc: &[usize]) -> usize {
        let mut b = lo;
        loop {
            let mut fit = !0u64;
            for &c in exc {
                fit &= !self.window(b.saturating_add(c));
                if fit == 0 {
                    break;
                }
            }
            if fit != 0 {
                return b.saturating_add(fit.trailing_zeros() as usize);
            }
            b = b.saturating_add(64);
        }
    }
}

fn pack<'a>(
    nclasses: u32,
    classes: Vec<u8>,
    start: u32,
    nstates: usize,
    accept: Vec<u32>,
    row: impl Fn(usize) -> &'a [u32],
) -> Dfa {
    // Never iterate over more than 256 classes, whatever `nclasses` says: a wrong
    // `nclasses` is reported by validation, not turned into a huge allocation here.
    let width = (nclasses as usize).min(256);
    let target = |r: &[u32], c: usize| r.get(c).copied().unwrap_or(0);

    // Defaults and exception counts.
    let mut default = vec![0u32; nstates];
    let mut nexc = vec![0u16; nstates];
    let mut scratch: Vec<u32> = Vec::with_capacity(width);
    for (s, (d, n)) in default.iter_mut().zip(nexc.iter_mut()).enumerate() {
        let r = row(s);
        scratch.clear();
        scratch.extend((0..width).map(|c| target(r, c)));
        scratch.sort_unstable();
        let (mut best, mut best_len) = (0u32, 0usize);
        for run in scratch.chunk_by(|a, b| a == b) {
            if run.len() > best_len {
                best_len = run.len();
                best = run.first().copied().unwrap_or(0);
            }
        }
        *d = best;
        *n = u16::try_from(width.saturating_sub(best_len)).unwrap_or(u16::MAX);
    }

    // Pack the states with the most exceptions first: they are the hardest to fit.
    let mut order: Vec<usize> = (0..nstates).filter(|&s| nexc.get(s) != Some(&0)).collect();
    order.sort_unstable_by_key(|&s| (Reverse(nexc.get(s).copied().unwrap_or(0)), s));

    let mut base = vec![0u32; nstates];
    let mut next: Vec<u32> = Vec::new();
    let mut check: Vec<u32> = Vec::new();
    let mut slots = Slots { used: Vec::new() };
    let mut first_free = 0usize;
    let (mut sweep_size, mut sweep_base) = (0usize, 0usize);
    let mut exc: Vec<usize> = Vec::with_capacity(width);

    for &s in &order {
        let r = row(s);
        let d = default.get(s).copied().unwrap_or(0);
        exc.clear();
        exc.extend((0..width).filter(|&c| target(r, c) != d));
        let Some(&c0) = exc.first() else { continue };

        // Rows of one size are placed by one forward sweep: each starts where the last
        // one of its size fitted (or at the first free slot, if that is further on).
        let size = exc.len();
        if size != sweep_size {
            sweep_size = size;
            sweep_base = 0;
        }
        let lo = sweep_base
            .saturating_sub(LOOK_BACK)
            .max(first_free.saturating_sub(c0));
        let b = slots.first_fit(lo, &exc);
        sweep_base = b;

        if let Some(x) = base.get_mut(s) {
            *x = u32::try_from(b).unwrap_or(NONE);
        }
        let owner = u32::try_from(s).unwrap_or(NONE);
        for &c in &exc {
            let i = b.saturating_add(c);
            if i >= next.len() {
                let len = i.saturating_add(1);
                next.resize(len, 0);
                check.resize(len, NONE);
            }
            if let (Some(n), Some(k)) = (next.get_mut(i), check.get_mut(i)) {
                *n = target(r, c);
                *k = owner;
            }
            slots.take(i);
        }
        first_free = slots.next_free(first_free);
    }

    // Room for `base[s] + c` for every state and class.
    let max_base = base.iter().copied().max().unwrap_or(0) as usize;
    let len = max_base.saturating_add(width.max(1));
    if next.len() < len {
        next.resize(len, 0);
        check.resize(len, NONE);
    }

    Dfa {
        classes,
        nclasses,
        start,
        default,
        base,
        accept,
        next,
        check,
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "tests"
)]
mod tests {
    use super::*;

    fn dense_step(dense: &[Vec<u32>], classes: &[u8], s: u32, b: u8) -> u32 {
        let c = classes.get(usize::from(b)).copied().unwrap_or(0);
        dense
            .get(s as usize)
            .and_then(|r| r.get(usize::from(c)))
            .copied()
            .unwrap_or(0)
    }

    /// A small pseudo-random dense automaton with a dead state 0.
    fn sample(nstates: usize, nclasses: usize, seed: u64) -> (Vec<u8>, Vec<Vec<u32>>) {
        let mut x = seed | 1;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let classes: Vec<u8> = (0..256).map(|b| (b % nclasses) as u8).collect();
        let mut dense = vec![vec![0u32; nclasses]];
        for _ in 1..nstates {
            let d = (rnd() % nstates as u64) as u32;
            let row = (0..nclasses)
                .map(|_| {
                    if rnd() % 4 == 0 {
                        (rnd() % nstates as u64) as u32
                    } else {
                        d
                    }
                })
                .collect();
            dense.push(row);
        }
        (classes, dense)
    }

    #[test]
    fn packing_preserves_every_transition() {
        for (nstates, nclasses, seed) in
            [(1, 1, 1), (2, 1, 2), (7, 3, 3), (50, 17, 4), (300, 256, 5)]
        {
            let (classes, dense) = sample(nstates, nclasses, seed);
            let accept = (0..nstates)
                .map(|s| if s % 3 == 1 { s as u32 } else { NONE })
                .collect();
            let dfa = Dfa::from_dense(nclasses as u32, classes.clone(), 0, &dense, accept);
            assert_eq!(dfa.next.len(), dfa.check.len());
            for s in 0..nstates as u32 {
                for b in 0..=255u8 {
                    assert_eq!(
                        dfa.step(s, b),
                        dense_step(&dense, &classes, s, b),
                        "state {s} byte {b}"
                    );
                }
                let base = dfa.base[s as usize] as usize;
                assert!(base + nclasses <= dfa.next.len());
            }
            let flat: Vec<u32> = dense.iter().flatten().copied().collect();
            let dfa2 = Dfa::from_dense_flat(nclasses as u32, classes, 0, &flat, dfa.accept.clone());
            assert_eq!(dfa, dfa2);
        }
    }

    #[test]
    fn default_is_most_frequent_target() {
        let classes: Vec<u8> = (0..=255u8).map(|b| b % 4).collect();
        let dense = vec![vec![0, 0, 0, 0], vec![2, 1, 1, 3], vec![2, 2, 0, 0]];
        let dfa = Dfa::from_dense(4, classes, 1, &dense, vec![NONE, NONE, 0]);
        assert_eq!(dfa.default, vec![0, 1, 0]); // tie 0/2 goes to 0
                                                // State 0 has no exceptions, state 1 two, state 2 two.
        assert_eq!(dfa.check.iter().filter(|&&c| c != NONE).count(), 4);
    }

    #[test]
    fn empty_matches_nothing() {
        let dfa = Dfa::empty();
        assert_eq!(dfa.accept_of(b"/etc/passwd"), NONE);
        assert_eq!(dfa.run(b""), 0);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let dfa = Dfa::from_dense(0, vec![], 5, &[vec![], vec![1, 2, 3]], vec![]);
        let _ = dfa.run(b"abc");
        let dfa = Dfa::from_dense(u32::MAX, vec![9; 3], 0, &[vec![7; 300]], vec![1]);
        let _ = dfa.run(b"abc");
        let dfa = Dfa::from_dense_flat(0, vec![], 0, &[1, 2, 3], vec![]);
        let _ = dfa.run(b"abc");
    }

    #[test]
    fn packs_densely() {
        let (classes, dense) = sample(2000, 40, 9);
        let dfa = Dfa::from_dense(40, classes, 0, &dense, vec![NONE; 2000]);
        let used = dfa.check.iter().filter(|&&c| c != NONE).count();
        // Comfortably better than one row per state.
        assert!(
            dfa.next.len() < used * 2,
            "{} slots for {used} exceptions",
            dfa.next.len()
        );
    }
}
