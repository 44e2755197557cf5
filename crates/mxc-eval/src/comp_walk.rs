//! The engine's side of fs decisions per path component: the walk over a validated
//! [`CompFs`] (see `mxc_table::comp` for the data, its format and its validation) and
//! the two place questions of `ancestor.rs` asked of it.

use crate::table::{Decision, Effect, FsRight, FsRow, NONE};
use crate::LoadError;
use mxc_table::comp::{invalid, CompDfa, CompFs, KEY_EMPTY, KEY_NONE};
// ---------------------------------------------------------------------------------------
// The walk

/// Not a state: the walk's answer when a lookup that validation guarantees fails.
pub(crate) const BROKEN: u32 = NONE;

const FLAG_LIT: u32 = 1;
const FLAG_KEY: u32 = 2;
/// Flags of the state and of its parent: whether a step may look up literals or keys.
const WANT_LIT: u32 = 4;
const WANT_KEY: u32 = 8;

#[derive(Clone, Copy, Debug)]
struct CState {
    default: u32,
    parent: u32,
    accept: u32,
    flags: u32,
    /// The exception of the empty element's key class ([`KEY_EMPTY`]), or [`NONE`]:
    /// kept here, out of the hash table, since nearly every state has one and nearly
    /// no element is empty (`FLAG_KEY` then says whether a non-empty key needs a probe).
    empty: u32,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    key: u64,
    target: u32,
}

const EMPTY_SLOT: u64 = u64::MAX;

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// An automaton laid out for the walk: per state a 16-byte record, exceptions in one
/// open-addressing table keyed by `state << 32 | class`.
#[derive(Clone, Debug)]
struct Run {
    /// `L + KEY_EMPTY`.
    empty_class: u32,
    start: u32,
    states: Vec<CState>,
    slots: Vec<Slot>,
    shift: u32,
}

fn table_bits(n: usize) -> u32 {
    // At most half full, at least 2 slots.
    let want = n.saturating_mul(2).max(2).next_power_of_two();
    want.trailing_zeros()
}

impl Run {
    fn new(d: &CompDfa, nlits: u32) -> Run {
        let bits = table_bits(d.exc_class.len());
        let mut slots = vec![
            Slot {
                key: EMPTY_SLOT,
                target: 0
            };
            1usize << bits
        ];
        let mask = slots.len().saturating_sub(1);
        let shift = 64u32.saturating_sub(bits);
        let mut states: Vec<CState> = Vec::with_capacity(d.nstates());
        for s in 0..d.nstates() {
            let s32 = s as u32;
            let mut flags = 0;
            let mut empty = NONE;
            for (c, t) in d.exceptions(s32) {
                if c == nlits.wrapping_add(KEY_EMPTY) {
                    empty = t;
                    continue;
                }
                flags |= if c < nlits { FLAG_LIT } else { FLAG_KEY };
                let key = (u64::from(s32) << 32) | u64::from(c);
                let mut i = (key.wrapping_mul(K).checked_shr(shift).unwrap_or(0)) as usize;
                loop {
                    match slots.get_mut(i) {
                        Some(slot) if slot.key == EMPTY_SLOT => {
                            *slot = Slot { key, target: t };
                            break;
                        }
                        Some(_) => i = i.wrapping_add(1) & mask,
                        None => break,
                    }
                }
            }
            states.push(CState {
                default: d.default.get(s).copied().unwrap_or(0),
                parent: d.parent.get(s).copied().unwrap_or(NONE),
                accept: d.accept.get(s).copied().unwrap_or(NONE),
                flags,
                empty,
            });
        }
        // A step's wants: its own flags and its parent's.
        for s in 0..states.len() {
            let Some(st) = states.get(s).copied() else {
                break;
            };
            let pf = match states.get(st.parent as usize) {
                Some(p) if st.parent != NONE => p.flags,
                _ => 0,
            };
            if let Some(st) = states.get_mut(s) {
                st.flags |= (st.flags | pf) << 2;
            }
        }
        Run {
            empty_class: nlits.wrapping_add(KEY_EMPTY),
            start: d.start,
            states,
            slots,
            shift,
        }
    }

    #[inline(always)]
    fn probe(&self, s: u32, c: u32) -> Option<u32> {
        let key = (u64::from(s) << 32) | u64::from(c);
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = (key.wrapping_mul(K).checked_shr(self.shift).unwrap_or(0)) as usize;
        loop {
            let slot = self.slots.get(i)?;
            if slot.key == key {
                return Some(slot.target);
            }
            if slot.key == EMPTY_SLOT {
                return None;
            }
            i = i.wrapping_add(1) & mask;
        }
    }

    #[inline(always)]
    fn flags(&self, s: u32) -> u32 {
        self.states.get(s as usize).map_or(0, |st| st.flags)
    }

    #[inline(always)]
    fn step(&self, mut s: u32, lit: u32, keyc: u32) -> u32 {
        for _ in 0..2 {
            let Some(st) = self.states.get(s as usize) else {
                return BROKEN;
            };
            if st.flags & FLAG_LIT != 0 && lit != NONE {
                if let Some(t) = self.probe(s, lit) {
                    return t;
                }
            }
            if keyc == self.empty_class {
                if st.empty != NONE {
                    return st.empty;
                }
            } else if st.flags & FLAG_KEY != 0 {
                if let Some(t) = self.probe(s, keyc) {
                    return t;
                }
            }
            if st.parent == NONE {
                return st.default;
            }
            s = st.parent;
        }
        BROKEN
    }

    #[inline(always)]
    fn accept(&self, s: u32) -> Option<u32> {
        self.states.get(s as usize).map(|st| st.accept)
    }
}

/// A literal in the walk's hash table: where its bytes are in
/// [`CompFs::lit_bytes`], its id and its key class (`L + key`); `len` is
/// [`EMPTY_LEN`] in an empty slot.
#[derive(Clone, Copy, Debug)]
struct LitSlot {
    start: u32,
    len: u32,
    id: u32,
    keyc: u32,
}

const EMPTY_LEN: u32 = u32::MAX;
const EMPTY_LIT: LitSlot = LitSlot {
    start: 0,
    len: EMPTY_LEN,
    id: NONE,
    keyc: NONE,
};

/// The per-component fs section laid out for walking (built at load).
#[derive(Clone, Debug)]
pub(crate) struct Walk {
    seed: u64,
    lits: Vec<LitSlot>,
    lit_shift: u32,
    nlits: u32,
    /// The class pair of the empty element: the literal `""` (always interned by the
    /// compiler) and [`KEY_EMPTY`]'s class.
    empty: (u32, u32),
    globs: crate::engine::Walker,
    /// Bit `b` set: some glob component can match an element whose last byte is `b`.
    /// Any other non-empty element matches no glob: its key is [`KEY_NONE`] without a
    /// walk of `globs`.
    glob_last: [u64; 4],
    rooted: Run,
    anywhere: Run,
}

#[inline(always)]
fn read_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<8>())
        .map_or(0, |a| u64::from_le_bytes(*a))
}

#[inline(always)]
fn read_u32(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<4>())
        .map_or(0, |a| u64::from(u32::from_le_bytes(*a)))
}

/// Whether two slices of the same length `n` hold the same bytes, word by word (read
/// as `hash` reads them, which covers every byte).
#[inline(always)]
fn same(a: &[u8], b: &[u8], n: usize) -> bool {
    if n <= 8 {
        if n >= 4 {
            let m = n.wrapping_sub(4);
            return read_u32(a, 0) == read_u32(b, 0) && read_u32(a, m) == read_u32(b, m);
        }
        return a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last();
    }
    let mut i = 0usize;
    while i.wrapping_add(8) < n {
        if read_u64(a, i) != read_u64(b, i) {
            return false;
        }
        i = i.wrapping_add(8);
    }
    let m = n.wrapping_sub(8);
    read_u64(a, m) == read_u64(b, m)
}

/// The index of the first `/` in `p` at or after `from`, or `p.len()`: eight bytes at
/// a time (the lowest byte the zero-byte test flags is always a true match).
#[inline(always)]
fn next_slash(p: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const SLASHES: u64 = 0x2f2f_2f2f_2f2f_2f2f;
    let n = p.len();
    let mut i = from;
    while i.wrapping_add(8) <= n {
        let x = read_u64(p, i) ^ SLASHES;
        let t = x.wrapping_sub(ONES) & !x & HIGH;
        if t != 0 {
            return i.wrapping_add((t.trailing_zeros() / 8) as usize);
        }
        i = i.wrapping_add(8);
    }
    while i < n {
        if p.get(i) == Some(&b'/') {
            return i;
        }
        i = i.wrapping_add(1);
    }
    n
}

/// A fast hash of one element: 8 bytes per multiply, the last word read overlapping
/// (equal elements give equal words), short elements in one step.
#[inline(always)]
fn hash(seed: u64, b: &[u8]) -> u64 {
    let n = b.len();
    let mut h = seed ^ (n as u64).wrapping_mul(K);
    if n <= 8 {
        let w = if n >= 4 {
            read_u32(b, 0) | (read_u32(b, n.wrapping_sub(4)) << 32)
        } else {
            match (b.first(), b.get(n / 2), b.last()) {
                (Some(&x), Some(&y), Some(&z)) => {
                    u64::from(x) | (u64::from(y) << 8) | (u64::from(z) << 16)
                }
                _ => 0,
            }
        };
        h = (h ^ w).wrapping_mul(K);
    } else {
        let mut i = 0usize;
        while i.wrapping_add(8) < n {
            h = (h.rotate_left(26) ^ read_u64(b, i)).wrapping_mul(K);
            i = i.wrapping_add(8);
        }
        h = (h.rotate_left(26) ^ read_u64(b, n.wrapping_sub(8))).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// The bytes that can end an element some glob of `g` matches (see `Walk::glob_last`),
/// read over classes: per state, per class, whether the step accepts.
fn glob_last_bytes(g: &mxc_table::Dfa) -> [u64; 4] {
    let mut rep: Vec<Option<u8>> = vec![None; g.nclasses as usize];
    for (b, &c) in (0..=255u8).zip(&g.classes) {
        if let Some(r) = rep.get_mut(usize::from(c)) {
            r.get_or_insert(b);
        }
    }
    let mut last = vec![false; rep.len()];
    for s in 1..g.nstates() {
        let s = s as u32;
        for (c, r) in rep.iter().enumerate() {
            if let (Some(b), Some(l)) = (r, last.get_mut(c)) {
                if !*l {
                    let t = g.step(s, *b);
                    *l = g.accept.get(t as usize).is_some_and(|&a| a != NONE);
                }
            }
        }
    }
    let mut bits = [0u64; 4];
    for (b, &c) in (0..=255u8).zip(&g.classes) {
        if last.get(usize::from(c)) == Some(&true) {
            if let Some(w) = bits.get_mut(usize::from(b >> 6)) {
                *w |= 1u64 << (b & 63);
            }
        }
    }
    bits
}

impl Walk {
    /// Builds the walk layout of a validated section (which stays in the table: every
    /// method takes it back as `d`); refuses duplicate literals.
    pub(crate) fn new(c: &CompFs) -> Result<Walk, LoadError> {
        use std::hash::{BuildHasher, Hasher};
        // A seed per load: which components collide is not known in advance.
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let nl = c.nlits();
        let nlits = u32::try_from(nl).map_err(|_| invalid("too many literals".into()))?;
        let bits = table_bits(nl);
        let shift = 64u32.saturating_sub(bits);
        let mut lits = vec![EMPTY_LIT; 1usize << bits];
        let mask = lits.len().saturating_sub(1);
        let mut start = 0u32;
        let mut empty = (NONE, nlits.wrapping_add(KEY_EMPTY));
        for (i, (&end, &key)) in c.lit_end.iter().zip(&c.lit_key).enumerate() {
            let bytes = c.lit(i);
            let slot = LitSlot {
                start,
                len: end.wrapping_sub(start),
                id: i as u32,
                keyc: nlits.wrapping_add(key),
            };
            start = end;
            if bytes.is_empty() {
                empty.0 = slot.id;
            }
            let h = hash(seed, bytes);
            let mut at = h.checked_shr(shift).unwrap_or(0) as usize;
            loop {
                match lits.get(at).copied() {
                    Some(v) if v.len == EMPTY_LEN => {
                        if let Some(s) = lits.get_mut(at) {
                            *s = slot;
                        }
                        break;
                    }
                    Some(v) => {
                        if c.lit(v.id as usize) == bytes {
                            return Err(invalid(format!("literal {i} is written twice")));
                        }
                        at = at.wrapping_add(1) & mask;
                    }
                    None => break,
                }
            }
        }
        Ok(Walk {
            seed,
            lits,
            lit_shift: shift,
            nlits,
            empty,
            globs: crate::engine::Walker::new(&c.globs, true),
            glob_last: glob_last_bytes(&c.globs),
            rooted: Run::new(&c.rooted, nlits),
            anywhere: Run::new(&c.anywhere, nlits),
        })
    }

    /// The literal `elem` is, if any: its id and key class.
    #[inline(always)]
    fn literal(&self, d: &CompFs, elem: &[u8]) -> Option<(u32, u32)> {
        let h = hash(self.seed, elem);
        let mask = self.lits.len().wrapping_sub(1);
        let mut at = h.checked_shr(self.lit_shift).unwrap_or(0) as usize;
        loop {
            let v = self.lits.get(at)?;
            if v.len == EMPTY_LEN {
                return None;
            }
            if v.len as usize == elem.len() {
                let lo = v.start as usize;
                let n = elem.len();
                if let Some(lit) = d.lit_bytes.get(lo..lo.wrapping_add(n)) {
                    if same(lit, elem, n) {
                        return Some((v.id, v.keyc));
                    }
                }
            }
            at = at.wrapping_add(1) & mask;
        }
    }

    /// The key class of a non-empty element that is no literal.
    #[inline(always)]
    fn key_class(&self, elem: &[u8]) -> u32 {
        let k = match elem.last() {
            Some(&b)
                if self
                    .glob_last
                    .get(usize::from(b >> 6))
                    .is_some_and(|w| w >> (b & 63) & 1 != 0) =>
            {
                let g = &self.globs;
                match g.end(g.feed_slice(g.start, elem)) {
                    crate::engine::End::Row(k) => k,
                    _ => KEY_NONE,
                }
            }
            _ => KEY_NONE,
        };
        self.nlits.wrapping_add(k)
    }

    /// The class pair of one element (literal or [`NONE`], key class), computing only
    /// what `want` (WANT_LIT | WANT_KEY) asks for.
    #[inline(always)]
    fn classify(&self, d: &CompFs, elem: &[u8], want: u32) -> (u32, u32) {
        if elem.is_empty() {
            return self.empty;
        }
        if want & WANT_LIT != 0 {
            if let Some(x) = self.literal(d, elem) {
                return x;
            }
        }
        if want & WANT_KEY != 0 {
            return (NONE, self.key_class(elem));
        }
        (NONE, NONE)
    }

    /// Walks both automata over the path's elements: the rows reached (`Some(NONE)`:
    /// no rule; `None`: broken, fail closed).
    #[inline]
    pub(crate) fn ends(&self, d: &CompFs, path: &[u8]) -> (Option<u32>, Option<u32>) {
        let (ra, rb) = (&self.rooted, &self.anywhere);
        let (mut a, mut b) = (ra.start, rb.start);
        let mut from = 0usize;
        loop {
            if a == 0 && b == 0 {
                break;
            }
            let end = next_slash(path, from);
            let elem = path.get(from..end).unwrap_or(&[]);
            let want =
                (if a != 0 { ra.flags(a) } else { 0 }) | (if b != 0 { rb.flags(b) } else { 0 });
            let (lit, keyc) = if want & (WANT_LIT | WANT_KEY) != 0 || elem.is_empty() {
                self.classify(d, elem, want)
            } else {
                (NONE, NONE)
            };
            if a != 0 {
                a = ra.step(a, lit, keyc);
            }
            if b != 0 {
                b = rb.step(b, lit, keyc);
            }
            if end >= path.len() {
                break;
            }
            from = end.wrapping_add(1);
        }
        (ra.accept(a), rb.accept(b))
    }

    /// The state of `dfa` (one of `d`'s two) after the elements of `dir` (one trailing
    /// `/` dropped), from the lists.
    fn after(&self, d: &CompFs, dfa: &CompDfa, dir: &[u8]) -> u32 {
        let dir = dir.strip_suffix(b"/").unwrap_or(dir);
        let mut s = dfa.start;
        for elem in dir.split(|&c| c == b'/') {
            let (lit, keyc) = self.classify(d, elem, WANT_LIT | WANT_KEY);
            s = dfa.step(s, lit, keyc);
        }
        s
    }
}

// ---------------------------------------------------------------------------------------
// Place questions (ancestor.rs, for the component automata)

/// Every state a step from `s` may reach (over-approximated through the parent).
fn successors(d: &CompDfa, s: u32, out: &mut Vec<u32>) {
    out.clear();
    let mut at = s;
    for _ in 0..2 {
        out.extend(d.exceptions(at).map(|(_, t)| t));
        match d.parent.get(at as usize).copied() {
            Some(p) if p != NONE => at = p,
            _ => {
                out.push(d.default.get(at as usize).copied().unwrap_or(0));
                break;
            }
        }
    }
}

fn allows_something(rows: &[FsRow], r: u32) -> bool {
    r != NONE
        && rows
            .get(r as usize)
            .is_some_and(|row| row.iter().any(|d| d.effect != Effect::Deny))
}

/// Per state: whether a state with an allowing or asking row is reachable (itself
/// included).
pub(crate) fn live_states(d: &CompDfa, rows: &[FsRow]) -> Vec<bool> {
    let n = d.nstates();
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut succ = Vec::new();
    for s in 0..n {
        successors(d, s as u32, &mut succ);
        for &t in &succ {
            if let Some(p) = preds.get_mut(t as usize) {
                p.push(s as u32);
            }
        }
    }
    let mut live: Vec<bool> = (0..n)
        .map(|s| allows_something(rows, d.accept.get(s).copied().unwrap_or(NONE)))
        .collect();
    let mut stack: Vec<usize> = (0..n).filter(|&s| live.get(s) == Some(&true)).collect();
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

/// What `Engine::fs_ancestor` needs, computed once.
#[derive(Clone, Debug)]
pub(crate) struct Live {
    rooted: Vec<bool>,
    anywhere_start: bool,
}

impl Walk {
    pub(crate) fn live(&self, d: &CompFs, rows: &[FsRow]) -> Live {
        let any = live_states(&d.anywhere, rows);
        Live {
            rooted: live_states(&d.rooted, rows),
            anywhere_start: any.get(d.anywhere.start as usize) == Some(&true),
        }
    }

    /// Whether some path strictly below `dir` may reach an allowing or asking row.
    pub(crate) fn ancestor(&self, d: &CompFs, live: &Live, dir: &[u8]) -> bool {
        if live.anywhere_start {
            return true;
        }
        let s = self.after(d, &d.rooted, dir);
        let mut succ = Vec::new();
        successors(&d.rooted, s, &mut succ);
        succ.iter()
            .any(|&t| t != 0 && live.rooted.get(t as usize) == Some(&true))
    }

    /// `Engine::fs_not_stricter_below` on the component automata.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn not_stricter_below(
        &self,
        d: &CompFs,
        link: &[u8],
        target: &[u8],
        rights: &[FsRight],
        rows: &[FsRow],
        default: Decision,
    ) -> Option<bool> {
        let (ra, rb) = (&d.rooted, &d.anywhere);
        let start = (
            self.after(d, ra, link),
            self.after(d, rb, link),
            self.after(d, ra, target),
            self.after(d, rb, target),
        );
        let decision = |a: u32, b: u32, right: FsRight| -> Decision {
            let one = |dfa: &CompDfa, s: u32| {
                crate::ancestor::row_decision(
                    dfa.accept.get(s as usize).copied(),
                    rows,
                    right,
                    default,
                )
            };
            crate::combine(one(ra, a), one(rb, b))
        };
        let l = u32::try_from(d.nlits()).unwrap_or(NONE);
        let mut visited = std::collections::HashSet::new();
        visited.insert(start);
        let mut stack = vec![start];
        let mut classes: Vec<u32> = Vec::new();
        while let Some((la, lb, ta, tb)) = stack.pop() {
            if (la, lb, ta, tb) != start {
                for &r in rights {
                    if decision(la, lb, r).effect > decision(ta, tb, r).effect {
                        return Some(false);
                    }
                }
            }
            // The classes any of the four states tells apart, and one it does not.
            classes.clear();
            for (dfa, s) in [(ra, la), (rb, lb), (ra, ta), (rb, tb)] {
                let mut at = s;
                for _ in 0..2 {
                    classes.extend(dfa.exceptions(at).map(|(c, _)| c));
                    match dfa.parent.get(at as usize).copied() {
                        Some(p) if p != NONE => at = p,
                        _ => break,
                    }
                }
            }
            classes.sort_unstable();
            classes.dedup();
            classes.push(NONE);
            for &c in &classes {
                let (lit, keyc) = if c == NONE {
                    (NONE, NONE)
                } else if c < l {
                    let k = d.lit_key.get(c as usize).copied().unwrap_or(KEY_NONE);
                    (c, l.saturating_add(k))
                } else {
                    (NONE, c)
                };
                let n = (
                    ra.step(la, lit, keyc),
                    rb.step(lb, lit, keyc),
                    ra.step(ta, lit, keyc),
                    rb.step(tb, lit, keyc),
                );
                if visited.insert(n) {
                    if visited.len() > crate::ancestor::MAX_PRODUCT {
                        return None;
                    }
                    stack.push(n);
                }
            }
        }
        Some(true)
    }
}
