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
use crate::table::{Dfa, NONE};

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

/// The error for a per-component section that breaks an invariant (also used by the
/// engine when it lays the section out for the walk).
pub fn invalid(problem: String) -> LoadError {
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
