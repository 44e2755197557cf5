//! fs decisions per path component (format version 4): the data ([`CompFs`]), its
//! section in the `.mxcb` format, its validation, the walk the engine does, and the two
//! place questions of `ancestor.rs` asked of it.
//!
//! A path is split at `/` into *elements*: `/a/b` is `""`, `"a"`, `"b"`; `/` is `""`,
//! `""`; the empty path is `""`. Each element gets a *class*:
//!
//! - a **literal** of the policy (every whole-literal component of every fs pattern, and
//!   the empty element) is found in a hash table built at load from
//!   [`CompFs::lit_bytes`]: its class is its literal id `x` (below
//!   `L = lit_key.len()`), and it also carries the *key* `lit_key[x]`;
//! - any other element is run through [`CompFs::globs`], one small byte automaton over a
//!   single component for the union of the policy's glob components (`*.rs`, `data*`,
//!   `[a-z]*`, ...). The accepting state says which set of globs the element matches: a
//!   key (`accept` [`NONE`] is [`KEY_NONE`], matching no glob). Its class is `L + key`.
//!
//! Two automata read the classes forwards, one element per step: [`CompFs::rooted`]
//! (patterns rooted at `/` or, on Linux, a drive) and [`CompFs::anywhere`] (`**/`
//! patterns); both index the table's `fs_rows`, and the engine combines the two rows
//! with [`combine`](crate::combine) as for the byte automata. A step from state `s` on
//! an element of literal `x` (or none) and key `k`:
//!
//! 1. the exception `(s, x)` if `s` has one (literal classes);
//! 2. else the exception `(s, L + k)` if `s` has one;
//! 3. else, when `parent[s]` is a state, the same two lookups in it and then its default
//!    (a parent has no parent); else `default[s]`.
//!
//! A parent is the part of a state that loops (`**`): the states "in `**/` and just past
//! `data7`" and "in `**/`" differ only on the few classes `data7/` continues with, so
//! the first one stores those and falls back to the second for the thousands of
//! directory names the `**/` loop tells apart. Without parents every state inside a
//! loop would repeat the loop's exceptions (quadratic in the floating patterns).

use crate::format::{
    malformed, put_len, put_u32, put_u32s, read_dfa, write_dfa, LoadError, Reader,
};
use crate::table::{Decision, Dfa, Effect, FsRight, FsRow, NONE};

/// The key of the empty element.
pub const KEY_EMPTY: u32 = 0;
/// The key of a non-empty element matching no glob.
pub const KEY_NONE: u32 = 1;

/// One per-component automaton (see the module documentation). State 0 is dead: no
/// exceptions, default 0, no parent, no accepting row.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CompDfa {
    pub start: u32,
    /// Per state: the target of a class with no exception (unused when the state has a
    /// parent).
    pub default: Vec<u32>,
    /// Per state: the state whose transitions this one falls back to, or [`NONE`].
    pub parent: Vec<u32>,
    /// Per state: the row index in `fs_rows` when the path ends here, or [`NONE`].
    pub accept: Vec<u32>,
    /// Exceptions of state `s`: `exc_class[i] → exc_target[i]` for `i` in
    /// `exc_start[s]..exc_start[s + 1]`, classes strictly increasing.
    pub exc_start: Vec<u32>,
    pub exc_class: Vec<u32>,
    pub exc_target: Vec<u32>,
}

impl CompDfa {
    /// The automaton that matches nothing.
    pub fn empty() -> CompDfa {
        CompDfa {
            start: 0,
            default: vec![0],
            parent: vec![NONE],
            accept: vec![NONE],
            exc_start: vec![0, 0],
            exc_class: Vec::new(),
            exc_target: Vec::new(),
        }
    }

    pub fn nstates(&self) -> usize {
        self.default.len()
    }

    /// The exceptions of state `s` as (class, target) pairs.
    pub fn exceptions(&self, s: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let lo = self.exc_start.get(s as usize).copied().unwrap_or(0) as usize;
        let hi = self
            .exc_start
            .get((s as usize).saturating_add(1))
            .copied()
            .unwrap_or(0) as usize;
        let classes = self.exc_class.get(lo..hi).unwrap_or(&[]);
        let targets = self.exc_target.get(lo..hi).unwrap_or(&[]);
        classes.iter().copied().zip(targets.iter().copied())
    }

    /// One step, read straight from the lists (binary search); for analyses and
    /// tests. The engine uses hash tables built at load.
    pub fn step(&self, s: u32, lit: u32, keyc: u32) -> u32 {
        let mut s = s;
        for _ in 0..2 {
            let lo = self.exc_start.get(s as usize).copied().unwrap_or(0) as usize;
            let hi = self
                .exc_start
                .get((s as usize).saturating_add(1))
                .copied()
                .unwrap_or(0) as usize;
            let classes = self.exc_class.get(lo..hi).unwrap_or(&[]);
            for c in [lit, keyc] {
                if c == NONE {
                    continue;
                }
                if let Ok(i) = classes.binary_search(&c) {
                    return self
                        .exc_target
                        .get(lo.saturating_add(i))
                        .copied()
                        .unwrap_or(0);
                }
            }
            match self.parent.get(s as usize).copied() {
                Some(p) if p != NONE => s = p,
                _ => return self.default.get(s as usize).copied().unwrap_or(0),
            }
        }
        0
    }
}

/// The fs section of a table decided per path component (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CompFs {
    /// The literals' bytes, one after the other; literal `i` ends at `lit_end[i]` and
    /// starts where literal `i - 1` ends (0 for the first).
    pub lit_bytes: Vec<u8>,
    pub lit_end: Vec<u32>,
    /// Per literal: its key (the set of globs it matches, [`KEY_EMPTY`] for `""`).
    pub lit_key: Vec<u32>,
    /// Number of keys; classes are `0..L` (literals) and `L..L + nkeys` (keys).
    pub nkeys: u32,
    /// The glob components over one component's bytes; `accept` is a key or [`NONE`]
    /// ([`KEY_NONE`]).
    pub globs: Dfa,
    pub rooted: CompDfa,
    pub anywhere: CompDfa,
}

impl CompFs {
    pub fn nlits(&self) -> usize {
        self.lit_key.len()
    }

    /// The bytes of literal `i`.
    pub fn lit(&self, i: usize) -> &[u8] {
        let start = match i.checked_sub(1) {
            Some(p) => self.lit_end.get(p).copied().unwrap_or(0) as usize,
            None => 0,
        };
        let end = self.lit_end.get(i).copied().unwrap_or(0) as usize;
        self.lit_bytes.get(start..end).unwrap_or(&[])
    }

    /// The class pair (literal or [`NONE`], key class) of one element, by a plain scan
    /// (for analyses and tests; the engine hashes).
    pub fn classify_slow(&self, elem: &[u8]) -> (u32, u32) {
        let l = self.nlits() as u32;
        for i in 0..self.nlits() {
            if self.lit(i) == elem {
                let k = self.lit_key.get(i).copied().unwrap_or(KEY_NONE);
                return (i as u32, l.saturating_add(k));
            }
        }
        let k = self.globs.accept_of(elem);
        let k = if k == NONE { KEY_NONE } else { k };
        (NONE, l.saturating_add(k))
    }
}

// ---------------------------------------------------------------------------------------
// Format: section 11, "fs components": `tag u8` (0: no such section, the byte
// automata decide; 1: present), then `lit_bytes` (`count u32`, bytes), `lit_end`,
// `lit_key` (`count u32, count × u32` each), `nkeys u32`, the globs dfa (as every dfa),
// then the rooted and the anywhere automaton, each `start u32` and the arrays
// `default`, `parent`, `accept`, `exc_start`, `exc_class`, `exc_target`.

pub(crate) fn write_section(out: &mut Vec<u8>, c: Option<&CompFs>) {
    let Some(c) = c else {
        out.push(0);
        return;
    };
    out.push(1);
    put_len(out, c.lit_bytes.len());
    out.extend_from_slice(&c.lit_bytes);
    for v in [&c.lit_end, &c.lit_key] {
        put_len(out, v.len());
        put_u32s(out, v);
    }
    put_u32(out, c.nkeys);
    write_dfa(out, &c.globs);
    for d in [&c.rooted, &c.anywhere] {
        put_u32(out, d.start);
        for v in [
            &d.default,
            &d.parent,
            &d.accept,
            &d.exc_start,
            &d.exc_class,
            &d.exc_target,
        ] {
            put_len(out, v.len());
            put_u32s(out, v);
        }
    }
}

pub(crate) const SECTION: &str = "fs components";

pub(crate) fn read_section(buf: &[u8]) -> Result<Option<CompFs>, LoadError> {
    let mut r = Reader::new(buf, SECTION);
    match r.u8()? {
        0 => {
            r.finish()?;
            return Ok(None);
        }
        1 => {}
        t => return Err(malformed(SECTION, format!("bad tag {t}"))),
    }
    let n = r.count(1, "literal bytes")?;
    let lit_bytes = r.take(n)?.to_vec();
    let mut arrays: [Vec<u32>; 2] = Default::default();
    for (a, what) in arrays.iter_mut().zip(["literal ends", "literal keys"]) {
        let n = r.count(4, what)?;
        *a = r.u32s(n)?;
    }
    let [lit_end, lit_key] = arrays;
    let nkeys = r.u32()?;
    // The globs dfa is framed by its own counts: read it from the rest.
    let (globs, used) = read_dfa_prefix(r.rest())?;
    r.take(used)?;
    let mut dfas = [CompDfa::default(), CompDfa::default()];
    for d in &mut dfas {
        d.start = r.u32()?;
        let mut v: [Vec<u32>; 6] = Default::default();
        for (a, what) in v.iter_mut().zip([
            "defaults",
            "parents",
            "accepts",
            "exception starts",
            "exception classes",
            "exception targets",
        ]) {
            let n = r.count(4, what)?;
            *a = r.u32s(n)?;
        }
        let [default, parent, accept, exc_start, exc_class, exc_target] = v;
        d.default = default;
        d.parent = parent;
        d.accept = accept;
        d.exc_start = exc_start;
        d.exc_class = exc_class;
        d.exc_target = exc_target;
    }
    r.finish()?;
    let [rooted, anywhere] = dfas;
    Ok(Some(CompFs {
        lit_bytes,
        lit_end,
        lit_key,
        nkeys,
        globs,
        rooted,
        anywhere,
    }))
}

/// Reads a dfa from the start of `buf`; returns it and the bytes it took.
fn read_dfa_prefix(buf: &[u8]) -> Result<(Dfa, usize), LoadError> {
    // Frame: classes (count u32 + bytes), nclasses u32, start u32, five arrays.
    let mut r = Reader::new(buf, SECTION);
    let n = r.count(1, "class bytes")?;
    r.take(n)?;
    r.u32()?;
    r.u32()?;
    for what in ["defaults", "bases", "accepts", "nexts", "checks"] {
        let n = r.count(4, what)?;
        r.take(n.saturating_mul(4))?;
    }
    let used = buf.len().saturating_sub(r.rest().len());
    let dfa = read_dfa(buf.get(..used).unwrap_or(&[]), SECTION)?;
    Ok((dfa, used))
}

// ---------------------------------------------------------------------------------------
// Validation

fn invalid(problem: String) -> LoadError {
    LoadError::Invalid {
        section: SECTION,
        problem,
    }
}

/// Checks every invariant the walk relies on: literal framing, keys below `nkeys`, the
/// globs dfa (accepts are keys), and per automaton: equal lengths, every state index in
/// range, exception lists framed and strictly sorted with classes below `L + nkeys`,
/// parents without parents, state 0 dead, accepting rows below `nrows`. Duplicate
/// literals are refused when the engine builds its hash table.
pub(crate) fn validate(c: &CompFs, nrows: usize) -> Result<(), LoadError> {
    let nl = c.lit_key.len();
    if c.lit_end.len() != nl {
        return Err(invalid(format!(
            "{} literal ends for {nl} literal keys",
            c.lit_end.len()
        )));
    }
    let mut prev = 0u32;
    for (i, &e) in c.lit_end.iter().enumerate() {
        if e < prev || e as usize > c.lit_bytes.len() {
            return Err(invalid(format!(
                "literal {i} ends at {e}, out of order or range"
            )));
        }
        prev = e;
    }
    if c.lit_end.last().map_or(0, |&e| e as usize) != c.lit_bytes.len() {
        return Err(invalid("literal bytes not all used".into()));
    }
    if c.nkeys < 2 {
        return Err(invalid(format!("{} keys, at least 2 expected", c.nkeys)));
    }
    if let Some((i, k)) = c.lit_key.iter().enumerate().find(|(_, &k)| k >= c.nkeys) {
        return Err(invalid(format!("literal {i} has key {k} of {}", c.nkeys)));
    }
    crate::validate::validate_dfa(SECTION, &c.globs, c.nkeys as usize)?;
    let nclasses = u64::try_from(nl)
        .unwrap_or(u64::MAX)
        .saturating_add(u64::from(c.nkeys));
    if nclasses >= u64::from(NONE) {
        return Err(invalid("too many classes".into()));
    }
    for d in [&c.rooted, &c.anywhere] {
        validate_dfa(d, nclasses, nrows)?;
    }
    Ok(())
}

fn validate_dfa(d: &CompDfa, nclasses: u64, nrows: usize) -> Result<(), LoadError> {
    let n = d.default.len();
    let n32 = u32::try_from(n)
        .ok()
        .filter(|&n| n != NONE && n > 0)
        .ok_or_else(|| invalid(format!("{n} states")))?;
    if d.parent.len() != n || d.accept.len() != n || d.exc_start.len() != n.saturating_add(1) {
        return Err(invalid("per-state arrays of different lengths".into()));
    }
    if d.exc_class.len() != d.exc_target.len() {
        return Err(invalid(
            "exception classes and targets differ in length".into(),
        ));
    }
    if d.start >= n32 {
        return Err(invalid(format!("start {} of {n} states", d.start)));
    }
    if d.default.iter().chain(&d.exc_target).any(|&t| t >= n32) {
        return Err(invalid("a transition leads out of the states".into()));
    }
    if d.accept.iter().any(|&a| a != NONE && a as usize >= nrows) {
        return Err(invalid(format!(
            "an accepting row is out of range ({nrows} rows)"
        )));
    }
    for (s, &p) in d.parent.iter().enumerate() {
        if p == NONE {
            continue;
        }
        if p >= n32 || p as usize == s || d.parent.get(p as usize) != Some(&NONE) {
            return Err(invalid(format!(
                "state {s} has parent {p}, which is no state without a parent"
            )));
        }
    }
    if d.exc_start.first() != Some(&0)
        || d.exc_start.last().map(|&e| e as usize) != Some(d.exc_class.len())
    {
        return Err(invalid(
            "exception starts do not frame the exceptions".into(),
        ));
    }
    for (s, w) in d.exc_start.windows(2).enumerate() {
        let (lo, hi) = match w {
            [lo, hi] if lo <= hi => (*lo as usize, *hi as usize),
            _ => {
                return Err(invalid(format!(
                    "state {s}'s exceptions end before they start"
                )))
            }
        };
        let cls = d
            .exc_class
            .get(lo..hi)
            .ok_or_else(|| invalid(format!("state {s}'s exceptions out of range")))?;
        if cls.windows(2).any(|p| matches!(p, [a, b] if a >= b)) {
            return Err(invalid(format!("state {s}'s exceptions are not sorted")));
        }
        if cls.iter().any(|&c| u64::from(c) >= nclasses) {
            return Err(invalid(format!("state {s} has an exception for no class")));
        }
    }
    let dead = d.default.first() == Some(&0)
        && d.parent.first() == Some(&NONE)
        && d.accept.first() == Some(&NONE)
        && d.exc_start.get(1) == Some(&0);
    if !dead {
        return Err(invalid("state 0 is not the dead state".into()));
    }
    Ok(())
}

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
            for (c, t) in d.exceptions(s32) {
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
            if st.flags & FLAG_KEY != 0 {
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

/// The per-component fs section laid out for walking (built at load).
#[derive(Clone, Debug)]
pub(crate) struct Walk {
    seed: u64,
    /// `hash as u32 << 32 | literal id`, or [`EMPTY_SLOT`].
    lits: Vec<u64>,
    lit_shift: u32,
    nlits: u32,
    globs: crate::engine::Walker,
    rooted: Run,
    anywhere: Run,
    data: CompFs,
}

#[inline(always)]
fn hash(seed: u64, b: &[u8]) -> u64 {
    let mut h = seed ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = c.first_chunk::<8>().map_or(0, |a| u64::from_le_bytes(*a));
        h = (h.rotate_left(26) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        for (d, s) in buf.iter_mut().zip(rest) {
            *d = *s;
        }
        h = (h.rotate_left(26) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

impl Walk {
    /// Builds the walk layout of a validated section; refuses duplicate literals.
    pub(crate) fn new(c: CompFs) -> Result<Walk, LoadError> {
        use std::hash::{BuildHasher, Hasher};
        // A seed per load: which components collide is not known in advance.
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let nl = c.nlits();
        let bits = table_bits(nl);
        let shift = 64u32.saturating_sub(bits);
        let mut lits = vec![EMPTY_SLOT; 1usize << bits];
        let mask = lits.len().saturating_sub(1);
        for i in 0..nl {
            let bytes = c.lit(i);
            let h = hash(seed, bytes);
            let tag = (h & 0xFFFF_FFFF) << 32;
            let mut at = h.checked_shr(shift).unwrap_or(0) as usize;
            loop {
                match lits.get(at).copied() {
                    Some(EMPTY_SLOT) => {
                        if let Some(s) = lits.get_mut(at) {
                            *s = tag | i as u64;
                        }
                        break;
                    }
                    Some(v) => {
                        if v >> 32 == tag >> 32 && c.lit((v & 0xFFFF_FFFF) as usize) == bytes {
                            return Err(invalid(format!("literal {i} is written twice")));
                        }
                        at = at.wrapping_add(1) & mask;
                    }
                    None => break,
                }
            }
        }
        let nlits = nl as u32;
        Ok(Walk {
            seed,
            lits,
            lit_shift: shift,
            nlits,
            globs: crate::engine::Walker::new(&c.globs, true),
            rooted: Run::new(&c.rooted, nlits),
            anywhere: Run::new(&c.anywhere, nlits),
            data: c,
        })
    }

    #[inline(always)]
    fn literal(&self, elem: &[u8]) -> u32 {
        let h = hash(self.seed, elem);
        let tag = h & 0xFFFF_FFFF;
        let mask = self.lits.len().wrapping_sub(1);
        let mut at = h.checked_shr(self.lit_shift).unwrap_or(0) as usize;
        loop {
            let Some(&v) = self.lits.get(at) else {
                return NONE;
            };
            if v == EMPTY_SLOT {
                return NONE;
            }
            if v >> 32 == tag {
                let id = (v & 0xFFFF_FFFF) as u32;
                if self.data.lit(id as usize) == elem {
                    return id;
                }
            }
            at = at.wrapping_add(1) & mask;
        }
    }

    #[inline(always)]
    fn key_class(&self, elem: &[u8]) -> u32 {
        let g = &self.globs;
        let k = match g.end(g.feed_slice(g.start, elem)) {
            crate::engine::End::Row(k) => k,
            _ => KEY_NONE,
        };
        self.nlits.wrapping_add(k)
    }

    /// The class pair of one element (literal or [`NONE`], key class), computing only
    /// what `want` (WANT_LIT | WANT_KEY) asks for.
    #[inline(always)]
    fn classify(&self, elem: &[u8], want: u32) -> (u32, u32) {
        if want & WANT_LIT != 0 {
            let lit = self.literal(elem);
            if let Some(&k) = self.data.lit_key.get(lit as usize) {
                return (lit, self.nlits.wrapping_add(k));
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
    pub(crate) fn ends(&self, path: &[u8]) -> (Option<u32>, Option<u32>) {
        let (ra, rb) = (&self.rooted, &self.anywhere);
        let (mut a, mut b) = (ra.start, rb.start);
        for elem in path.split(|&c| c == b'/') {
            let want =
                (if a != 0 { ra.flags(a) } else { 0 }) | (if b != 0 { rb.flags(b) } else { 0 });
            if a == 0 && b == 0 {
                break;
            }
            let (lit, keyc) = if want & (WANT_LIT | WANT_KEY) != 0 {
                self.classify(elem, want)
            } else {
                (NONE, NONE)
            };
            if a != 0 {
                a = ra.step(a, lit, keyc);
            }
            if b != 0 {
                b = rb.step(b, lit, keyc);
            }
        }
        (ra.accept(a), rb.accept(b))
    }

    /// The rooted automaton's state after the elements of `dir` (one trailing `/`
    /// dropped), from the lists.
    fn rooted_after(&self, dir: &[u8]) -> u32 {
        let dir = match dir.strip_suffix(b"/") {
            Some(d) => d,
            None => dir,
        };
        let d = &self.data;
        let mut s = d.rooted.start;
        for elem in dir.split(|&c| c == b'/') {
            let (lit, keyc) = self.classify(elem, WANT_LIT | WANT_KEY);
            s = d.rooted.step(s, lit, keyc);
        }
        s
    }

    fn anywhere_after(&self, dir: &[u8]) -> u32 {
        let dir = match dir.strip_suffix(b"/") {
            Some(d) => d,
            None => dir,
        };
        let d = &self.data;
        let mut s = d.anywhere.start;
        for elem in dir.split(|&c| c == b'/') {
            let (lit, keyc) = self.classify(elem, WANT_LIT | WANT_KEY);
            s = d.anywhere.step(s, lit, keyc);
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
    pub(crate) fn live(&self, rows: &[FsRow]) -> Live {
        let d = &self.data;
        let any = live_states(&d.anywhere, rows);
        Live {
            rooted: live_states(&d.rooted, rows),
            anywhere_start: any.get(d.anywhere.start as usize) == Some(&true),
        }
    }

    /// Whether some path strictly below `dir` may reach an allowing or asking row.
    pub(crate) fn ancestor(&self, live: &Live, dir: &[u8]) -> bool {
        if live.anywhere_start {
            return true;
        }
        let s = self.rooted_after(dir);
        let mut succ = Vec::new();
        successors(&self.data.rooted, s, &mut succ);
        succ.iter()
            .any(|&t| t != 0 && live.rooted.get(t as usize) == Some(&true))
    }

    /// `Engine::fs_not_stricter_below` on the component automata.
    pub(crate) fn not_stricter_below(
        &self,
        link: &[u8],
        target: &[u8],
        rights: &[FsRight],
        rows: &[FsRow],
        default: Decision,
    ) -> Option<bool> {
        let d = &self.data;
        let (ra, rb) = (&d.rooted, &d.anywhere);
        let start = (
            self.rooted_after(link),
            self.anywhere_after(link),
            self.rooted_after(target),
            self.anywhere_after(target),
        );
        let decision = |a: u32, b: u32, right: FsRight| -> Decision {
            let one = |dfa: &CompDfa, s: u32| -> Decision {
                match dfa.accept.get(s as usize).copied() {
                    Some(NONE) => default,
                    Some(r) => rows
                        .get(r as usize)
                        .and_then(|row| row.get(right as usize))
                        .copied()
                        .unwrap_or(FAIL),
                    None => FAIL,
                }
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

const FAIL: Decision = Decision {
    effect: Effect::Deny,
    rule: None,
};
