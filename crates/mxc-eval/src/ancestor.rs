//! SPEC §1's ancestor exception: the metadata of a directory on the way to a path some
//! `allow` or `ask` rule can match may be looked at, and the directory traversed.
//!
//! A directory `D` is such an ancestor when, in an fs automaton, the state reached on
//! `D/` can still reach a state whose row allows or asks some right. That is a
//! reachability property of states, computed once per automaton (backwards from the
//! good states) the first time it is asked, so it stays off the decision path. The
//! answer over-approximates in one direction only: a `deny` in the other automaton is
//! not subtracted, so a directory every path below which is denied by a `**/` rule may
//! still count as an ancestor (its metadata shows; nothing below it does).
//!
//! `fs_anywhere` reads paths backwards (see [`crate::Table::fs_anywhere`]), so the
//! forward walks here use [`Forward`], its forward reading built on demand: the state
//! after a prefix `w` is, for every state `y` of the backwards automaton, the row that
//! reading `w` backwards from `y` ends in (reading `c` after `w` sends `y` to the entry of
//! `δ(y, c)`). Its size is that of the smallest forward automaton with the same
//! decisions; it is capped, and too large an automaton makes the question unanswered
//! (callers refuse).

use mxc_table::{Dfa, FsRow, NONE};

/// A walkable automaton: a start, a step on a byte, and the row index of a state.
pub(crate) trait Walk {
    fn step(&self, s: u32, b: u8) -> u32;
    fn accept(&self, s: u32) -> Option<u32>;
    /// The class of a byte (bytes of one class step alike from every state).
    fn class(&self, b: u8) -> u32;
}

impl Walk for Dfa {
    fn step(&self, s: u32, b: u8) -> u32 {
        Dfa::step(self, s, b)
    }
    fn accept(&self, s: u32) -> Option<u32> {
        self.accept.get(s as usize).copied()
    }
    fn class(&self, b: u8) -> u32 {
        u32::from(self.classes.get(usize::from(b)).copied().unwrap_or(0))
    }
}

/// The forward reading of an automaton that reads its input backwards (dense).
#[derive(Clone, Debug)]
pub(crate) struct Forward {
    classes: Vec<u8>,
    nclasses: usize,
    pub(crate) start: u32,
    /// `trans[s * nclasses + class]`.
    trans: Vec<u32>,
    accept: Vec<u32>,
}

impl Walk for Forward {
    fn step(&self, s: u32, b: u8) -> u32 {
        let c = usize::from(self.classes.get(usize::from(b)).copied().unwrap_or(0));
        self.trans
            .get((s as usize).saturating_mul(self.nclasses).saturating_add(c))
            .copied()
            .unwrap_or(0)
    }
    fn accept(&self, s: u32) -> Option<u32> {
        self.accept.get(s as usize).copied()
    }
    fn class(&self, b: u8) -> u32 {
        u32::from(self.classes.get(usize::from(b)).copied().unwrap_or(0))
    }
}

impl Forward {
    /// `rev`, read forwards; `None` when that takes more than `cap` entries (states
    /// times the backwards automaton's states).
    pub(crate) fn of_reversed(rev: &Dfa, cap: usize) -> Option<Forward> {
        let n = rev.nstates();
        let reps = rev.class_reps(&[]);
        let nclasses = reps.len();
        // Each forward state: the row reached from each backwards state.
        let first: Vec<u32> = (0..n)
            .map(|y| rev.accept.get(y).copied().unwrap_or(NONE))
            .collect();
        let mut ids: std::collections::HashMap<Vec<u32>, u32> = std::collections::HashMap::new();
        let mut states: Vec<Vec<u32>> = Vec::new();
        ids.insert(first.clone(), 0);
        states.push(first);
        let mut trans: Vec<u32> = Vec::new();
        let mut i = 0;
        while i < states.len() {
            for &b in &reps {
                let next: Vec<u32> = {
                    let v = states.get(i)?;
                    (0..n)
                        .map(|y| {
                            let t = rev.step(u32::try_from(y).unwrap_or(0), b) as usize;
                            v.get(t).copied().unwrap_or(NONE)
                        })
                        .collect()
                };
                let id = match ids.get(&next) {
                    Some(&id) => id,
                    None => {
                        if states.len().saturating_add(1).saturating_mul(n.max(1)) > cap {
                            return None;
                        }
                        let id = u32::try_from(states.len()).ok()?;
                        ids.insert(next.clone(), id);
                        states.push(next);
                        id
                    }
                };
                trans.push(id);
            }
            i = i.saturating_add(1);
        }
        let start = rev.start as usize;
        let accept = states
            .iter()
            .map(|v| v.get(start).copied().unwrap_or(NONE))
            .collect();
        // Byte -> index of its class among `reps`.
        let mut classes = vec![0u8; 256];
        for (b, c) in classes.iter_mut().enumerate() {
            let cb = rev.classes.get(b).copied().unwrap_or(0);
            let k = reps
                .iter()
                .position(|&r| rev.classes.get(usize::from(r)).copied() == Some(cb))
                .unwrap_or(0);
            *c = u8::try_from(k).unwrap_or(0);
        }
        Some(Forward {
            classes,
            nclasses,
            start: 0,
            trans,
            accept,
        })
    }
}

/// Whether some state of `dfa` reachable from its start has a row that does not deny.
pub(crate) fn any_live(dfa: &Dfa, rows: &[FsRow]) -> bool {
    live_states(dfa, rows)
        .get(dfa.start as usize)
        .copied()
        .unwrap_or(false)
}

/// For each state of `dfa`: whether a state whose row (`rows[accept]`) has an effect
/// other than deny is reachable from it (itself included).
pub(crate) fn live_states(dfa: &Dfa, rows: &[FsRow]) -> Vec<bool> {
    let n = dfa.nstates();
    let reps = dfa.class_reps(&[]);
    // Predecessors of each state.
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
    for s in 0..n {
        let Ok(s32) = u32::try_from(s) else { break };
        for &b in &reps {
            let t = dfa.step(s32, b);
            if let Some(p) = preds.get_mut(t as usize) {
                p.push(s32);
            }
        }
    }
    let good = |s: usize| -> bool {
        let row = dfa.accept.get(s).copied().unwrap_or(NONE);
        row != NONE
            && rows
                .get(row as usize)
                .is_some_and(|r| r.iter().any(|d| d.effect != crate::Effect::Deny))
    };
    let mut live = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    for s in 0..n {
        if good(s) {
            if let Some(l) = live.get_mut(s) {
                *l = true;
            }
            stack.push(s);
        }
    }
    while let Some(t) = stack.pop() {
        for &p in preds.get(t).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(l) = live.get_mut(p as usize) {
                if !*l {
                    *l = true;
                    stack.push(p as usize);
                }
            }
        }
    }
    live
}

/// How many (state, state, state, state) tuples [`not_stricter`] explores at most.
pub(crate) const MAX_PRODUCT: usize = 200_000;

/// The two fs automata, walked side by side for two places.
pub(crate) struct Pair<'a> {
    pub fs: &'a Dfa,
    pub any: &'a Forward,
    pub rows: &'a [FsRow],
    pub default: crate::Decision,
}

/// The decision for `right` of a state whose accepting entry is `accept` (`None`: no
/// such state; `Some(NONE)`: no rule, the agent's `default`). Shared by the byte and
/// the per-component place questions.
pub(crate) fn row_decision(
    accept: Option<u32>,
    rows: &[FsRow],
    right: crate::FsRight,
    default: crate::Decision,
) -> crate::Decision {
    match accept {
        Some(NONE) => default,
        Some(r) => rows
            .get(r as usize)
            .and_then(|row| row.get(right as usize))
            .copied()
            .unwrap_or(crate::engine::FAIL_CLOSED),
        None => crate::engine::FAIL_CLOSED,
    }
}

impl Pair<'_> {
    fn decision(&self, a: u32, b: u32, right: crate::FsRight) -> crate::Decision {
        let one = |d: &dyn Walk, s: u32| row_decision(d.accept(s), self.rows, right, self.default);
        crate::combine(one(self.fs, a), one(self.any, b))
    }

    /// Whether, for every suffix `s` and each of `rights`, `l + s` is decided no more
    /// strictly than `t + s` (`None`: too many states to tell). Both walks start where
    /// `l` and `t` lead (states of `fs` and `any` for each).
    pub(crate) fn not_stricter(
        &self,
        l: (u32, u32),
        t: (u32, u32),
        rights: &[crate::FsRight],
    ) -> Option<bool> {
        // One byte for each pair of classes.
        let mut reps: Vec<u8> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let k = (self.fs.class(b), self.any.class(b));
            if seen.insert(k) {
                reps.push(b);
            }
        }
        let start = (l.0, l.1, t.0, t.1);
        let mut visited = std::collections::HashSet::new();
        visited.insert(start);
        let mut stack = vec![start];
        while let Some((la, lb, ta, tb)) = stack.pop() {
            if (la, lb, ta, tb) != start {
                for &r in rights {
                    let (dl, dt) = (self.decision(la, lb, r), self.decision(ta, tb, r));
                    if dl.effect > dt.effect {
                        return Some(false);
                    }
                }
            }
            for &b in &reps {
                let n = (
                    self.fs.step(la, b),
                    self.any.step(lb, b),
                    self.fs.step(ta, b),
                    self.any.step(tb, b),
                );
                if visited.insert(n) {
                    if visited.len() > MAX_PRODUCT {
                        return None;
                    }
                    stack.push(n);
                }
            }
        }
        Some(true)
    }
}
