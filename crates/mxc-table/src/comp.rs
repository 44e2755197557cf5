//! fs decisions per path component: the data as the compiler builds it ([`CompFs`], the
//! lists), as the file stores it and the engine walks it ([`CompLayout`], format
//! version 6: hash tables built at compile time with a fixed seed, validated in place
//! at load), its section in the `.mxcb` format and its validation.
//!
//! A path is split at `/` into *elements*: `/a/b` is `""`, `"a"`, `"b"`; `/` is `""`,
//! `""`; the empty path is `""`. Each element gets a *class*:
//!
//! - a **literal** of the policy (every whole-literal component of every fs pattern, and
//!   the empty element) is found in the literal hash table of the layout: its class is
//!   its literal id `x` (below
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
    malformed, put_u32, put_u32s, read_layout_prefix, write_dfa, write_layout, LoadError, Reader,
};
use crate::table::{ByteDfa, Dfa, NONE};
use crate::words::{FileBytes, View};
use std::sync::Arc;

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
    /// tests. The engine probes the hash tables the compiler stored ([`CompLayout`]).
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
// ---------------------------------------------------------------------------------------
// The walk layout (format version 6): the section's bytes are what the engine walks.

/// The literal table's hash seed. Fixed: the hash tables are built at compile time and
/// stored. Whoever crafts requests can make elements collide, but every probe is bounded
/// by the table's longest cluster (stored, and checked at load), and the table itself is
/// not theirs to choose.
pub const SEED: u64 = 0x243F_6A88_85A3_08D3;
/// The multiplier of the table's hashes (this section's and the net host jump's).
pub const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// A state record's flags: the state has exceptions on literal classes; on key classes
/// other than [`KEY_EMPTY`]'s.
pub const FLAG_LIT: u32 = 1;
pub const FLAG_KEY: u32 = 2;
/// The same two flags of the state *or* its parent: whether a step from the state may
/// look up a literal or a key.
pub const WANT_LIT: u32 = 4;
pub const WANT_KEY: u32 = 8;

/// Bytes of one state record: `default, parent, accept, flags, empty` (`u32` each;
/// `empty` is the target of the empty element's key class [`KEY_EMPTY`], or [`NONE`]).
pub const STATE_LEN: usize = 20;
const STATE_WORDS: usize = 5;
const EXC_SLOT_WORDS: usize = 3;
const LIT_SLOT_WORDS: usize = 4;
/// Bytes of one exception slot: `state, class, target` (`state` [`NONE`]: empty slot).
pub const EXC_SLOT_LEN: usize = 12;
/// Bytes of one literal slot: `start, len, id, key class` (`len` [`NONE`]: empty slot;
/// the literal's bytes are `lit_bytes[start..start + len]`, its key class `L + key`).
pub const LIT_SLOT_LEN: usize = 16;
/// Bytes of one literal-path node: `rooted state, anywhere state, other, lengths`
/// (`other`: the node after an element that is no literal of the policy, or no edge of
/// a complete node, and matches no glob, or [`NONE`]; `lengths`: bit `min(len, 30)`
/// set for the length of each of its edges, so an element of another length is no edge
/// without a probe, and [`NODE_COMPLETE`]).
pub const TRIE_NODE_LEN: usize = 16;
const TRIE_NODE_WORDS: usize = 4;

/// The bit of an element of `len` bytes in a node's `lengths`.
#[inline(always)]
pub fn len_bit(len: usize) -> u32 {
    1u32 << len.min(29)
}

/// A node's `lengths` bit (format version 7): neither of its states (nor their
/// parents) has an exception on a key class other than the empty element's, so a
/// non-empty element steps them as if it matched no glob (the walk skips the globs).
pub const NODE_KEYLESS: u32 = 1 << 30;

/// A node's `lengths` bit: the node is complete (its edges are every literal either of
/// its states tells apart).
pub const NODE_COMPLETE: u32 = 1 << 31;
/// Bytes of one literal-path edge slot: `node, start, len, child` (`node` [`NONE`]:
/// empty slot; the element's bytes are `lit_bytes[start..start + len]`).
pub const TRIE_SLOT_LEN: usize = 16;
const TRIE_SLOT_WORDS: usize = 4;
/// Bytes of one re-entry slot: a literal-path node (or [`NONE`]: empty slot), keyed by
/// [`exc_hash`] of its pair of states (format version 7).
pub const REENTRY_SLOT_LEN: usize = 4;
/// Words of the literal filter (format version 7): one bit per class of non-empty
/// elements by length, first and last byte ([`lit_filter_bit`]), set for every
/// literal's.
pub const LIT_FILTER_WORDS: usize = 256;

/// The literal filter's bit of a non-empty element (`None` for the empty one): its
/// length (past 31 as 31) and last byte, XOR its first byte shifted by 5 (13 bits).
#[inline(always)]
pub fn lit_filter_bit(elem: &[u8]) -> Option<usize> {
    let (&first, &last) = (elem.first()?, elem.last()?);
    Some(((elem.len().min(31) << 8) | usize::from(last)) ^ (usize::from(first) << 5))
}

/// Whether a non-empty element may be a literal by the literal filter `filter` (no when
/// its bit is clear; the empty element: no).
#[inline(always)]
pub fn filter_admits(filter: &[u32], elem: &[u8]) -> bool {
    lit_filter_bit(elem).is_some_and(|k| filter.get(k / 32).is_none_or(|w| w >> (k % 32) & 1 != 0))
}

/// Words of the header that follows the globs dfa (see [`CompLayout`]).
pub const HEADER_WORDS: usize = 27;

/// Header word indices (see [`CompLayout`]).
pub mod hdr {
    pub const NLITS: usize = 0;
    pub const NKEYS: usize = 1;
    pub const EMPTY_LIT: usize = 2;
    pub const LIT_BYTES: usize = 3;
    pub const LIT_SLOTS: usize = 4;
    pub const LIT_PROBE: usize = 5;
    /// Eight words: the 256-bit set of bytes that can end a glob match.
    pub const GLOB_LAST: usize = 6;
    /// Rooted automaton: start, states, exception slots, longest probe; then the same
    /// four for the anywhere automaton.
    pub const ROOTED: usize = 14;
    pub const ANYWHERE: usize = 18;
    /// The literal paths: nodes, edge slots, longest probe.
    pub const TRIE: usize = 22;
    /// The re-entry table (version 7): slots, longest probe.
    pub const REENTRY: usize = 25;
}

#[inline(always)]
pub fn read_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<8>())
        .map_or(0, |a| u64::from_le_bytes(*a))
}

#[inline(always)]
pub fn read_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<4>())
        .map_or(0, |a| u32::from_le_bytes(*a))
}

/// The hash of one element (with [`SEED`]): 8 bytes per multiply, the last word read
/// overlapping (equal elements give equal words), short elements in one step.
#[inline(always)]
pub fn elem_hash(b: &[u8]) -> u64 {
    let n = b.len();
    let mut h = SEED ^ (n as u64).wrapping_mul(K);
    if n <= 8 {
        let w = if n >= 4 {
            u64::from(read_u32(b, 0)) | (u64::from(read_u32(b, n.wrapping_sub(4))) << 32)
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

/// The hash of an exception key `(state, class)`.
#[inline(always)]
pub fn exc_hash(s: u32, c: u32) -> u64 {
    ((u64::from(s) << 32) | u64::from(c)).wrapping_mul(K)
}

/// The hash of a literal-path edge: the element's hash ([`elem_hash`]) from `node`.
#[inline(always)]
pub fn trie_hash(node: u32, h: u64) -> u64 {
    // `h` is mixed already: one multiply spreads the node over the high half that
    // `home` reads (a second one only lengthened the walk's chain from node to node).
    h ^ u64::from(node).wrapping_mul(K)
}

/// The home slot of hash `h` in a table of `n` slots (the high half times `n`).
#[inline(always)]
pub fn home(h: u64, n: u32) -> usize {
    ((h >> 32).wrapping_mul(u64::from(n)) >> 32) as usize
}

/// The bytes of `n` arrays of `size` words from `rest` at word `at` (fewer when the
/// bytes end early).
fn words(rest: &[u8], at: usize, n: usize, size: usize) -> &[u8] {
    let lo = at.saturating_mul(4);
    let len = n.saturating_mul(size).saturating_mul(4);
    let rest = rest.get(lo..).unwrap_or(&[]);
    rest.get(..len).unwrap_or(rest)
}

/// Bytes of padding after `n` bytes to a whole number of words.
fn pad4(n: usize) -> usize {
    n.wrapping_neg() & 3
}

/// Slots for `n` entries: a power of two, at most half full (a missing key, the common
/// probe, ends after about 2.5 slots with linear probing at half full, 5 at two
/// thirds; measured: 2/3 full cost 15% more instructions per decision), at least 2.
fn slots_for(n: usize) -> usize {
    n.saturating_mul(2).saturating_add(1).next_power_of_two()
}

/// The longest run of consecutive full slots, cyclically; `None` when every slot is
/// full (a probe for a missing key would find no end).
fn longest_cluster(full: impl Fn(usize) -> bool, n: usize) -> Option<u32> {
    let first_empty = (0..n).find(|&i| !full(i))?;
    let mut longest = 0u32;
    let mut run = 0u32;
    for k in 1..=n {
        let i = first_empty.wrapping_add(k).checked_rem(n).unwrap_or(0);
        if full(i) {
            run = run.saturating_add(1);
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    Some(longest)
}

/// Where one automaton lies in a [`CompLayout`] (byte offsets into its bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RunAt {
    pub start: u32,
    pub nstates: u32,
    /// Byte offsets in the section of the state records (`nstates ×` [`STATE_LEN`]
    /// bytes) and of the exception hash table (`nslots ×` [`EXC_SLOT_LEN`]).
    pub states: usize,
    pub slots: usize,
    pub nslots: u32,
    /// The longest run of full slots: no probe looks at more than `probe + 1` slots.
    pub probe: u32,
    /// Word offsets (after the globs dfa) of the records and of the slots.
    pub ws: usize,
    pub wslots: usize,
    /// 0 for the rooted automaton, 1 for the anywhere one.
    pub idx: usize,
}

/// The per-component fs section as the engine walks it: the section's bytes (one copy
/// of the file's), with the offsets of its parts, read from its header.
///
/// Bytes: the globs dfa (framed as every dfa), then [`HEADER_WORDS`] `u32`s (indices in
/// [`hdr`]), then the literals' bytes (`LIT_BYTES` of them, padded with zeros to a
/// whole number of words: everything after the globs dfa is words), the literal table
/// (`LIT_SLOTS ×` [`LIT_SLOT_LEN`], keyed by [`elem_hash`] with [`home`] and linear
/// probing), and per automaton (rooted, then anywhere) its state records
/// (`nstates ×` [`STATE_LEN`]) and its exception hash table (`nslots ×`
/// [`EXC_SLOT_LEN`], keyed by [`exc_hash`] of `(state, class)`); then the literal
/// paths (format version 6): `TRIE` nodes (`[rooted state, anywhere state, other]`,
/// [`TRIE_NODE_LEN`] bytes each, node 0 the start) and their edge table (`TRIE + 1 ×`
/// [`TRIE_SLOT_LEN`], `[node, start, len, child]` keyed by [`trie_hash`] of the node and
/// the element's [`elem_hash`]; see `literal_paths`), then the re-entry table (format
/// version 7; `REENTRY ×` [`REENTRY_SLOT_LEN`]: the nodes that are their own `other`,
/// keyed by [`exc_hash`] of their pair of states) and the literal filter
/// ([`LIT_FILTER_WORDS`] words, bit [`lit_filter_bit`] set for every non-empty
/// literal). The empty element's
/// key class is in each state record, not in the table. Built by [`CompLayout::new`]
/// from the lists ([`CompFs`]); [`CompLayout::lists`] reads them back.
#[derive(Clone, PartialEq, Eq)]
pub struct CompLayout {
    /// The header's words.
    header: View<u32>,
    /// The literal table, and per automaton (rooted, anywhere) the state records and the
    /// exception table: each one aligned copy of its part of the file.
    lit_slots: View<[u32; 4]>,
    states: [View<[u32; 5]>; 2],
    slots: [View<[u32; 3]>; 2],
    /// The literal paths: per node its pair of states, and the edge table.
    trie_nodes: View<[u32; 4]>,
    trie_slots: View<[u32; 4]>,
    /// The re-entry table: literal-path nodes keyed by their pair of states.
    reentry: View<u32>,
    /// The literal filter ([`LIT_FILTER_WORDS`] words).
    lit_filter: View<u32>,
    /// The literals' bytes (the walk compares elements with them).
    lit: View<u8>,
    /// Byte offset of the words in the section.
    words_at: usize,
    /// Word offset of the literal table.
    wlits: usize,
    /// The globs automaton, in its walk layout (as every byte automaton).
    pub globs: ByteDfa,
    pub nlits: u32,
    pub nkeys: u32,
    /// The literal id of the empty element, or [`NONE`].
    pub empty_lit: u32,
    /// The 256-bit set of bytes that can end an element some glob matches.
    pub glob_last: [u64; 4],
    pub lit_bytes: usize,
    pub lit_len: usize,
    pub lits: usize,
    pub nlit_slots: u32,
    pub lit_probe: u32,
    pub rooted: RunAt,
    pub anywhere: RunAt,
    /// The literal paths: number of nodes and of edge slots, the longest run of full
    /// slots, and the byte offsets of the nodes and of the slots in the section.
    pub ntrie_nodes: u32,
    pub ntrie_slots: u32,
    pub trie_probe: u32,
    pub trie_nodes_at: usize,
    pub trie_slots_at: usize,
    /// The re-entry table: number of slots, the longest run of full slots, and its
    /// byte offset in the section.
    pub nreentry_slots: u32,
    pub reentry_probe: u32,
    pub reentry_at: usize,
    /// Byte offset of the literal filter in the section.
    pub lit_filter_at: usize,
}

impl std::fmt::Debug for CompLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompLayout")
            .field("literal slots", &self.lit_slots.len())
            .field("nlits", &self.nlits)
            .field("nkeys", &self.nkeys)
            .field("rooted", &self.rooted)
            .field("anywhere", &self.anywhere)
            .finish_non_exhaustive()
    }
}

/// The bytes that can end an element some glob of `g` matches, read over classes: per
/// state, per class, whether the step accepts.
fn glob_last_bytes(g: &Dfa) -> [u64; 4] {
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

/// Lays out one automaton: its records and its exception table (words appended to
/// `out`); returns its header words.
fn lay_out_dfa(out: &mut Vec<u8>, d: &CompDfa, nlits: u32) -> [u32; 4] {
    let empty_class = nlits.wrapping_add(KEY_EMPTY);
    let n = d.nstates();
    let mut recs: Vec<[u32; 5]> = Vec::with_capacity(n);
    let mut entries: Vec<(u32, u32, u32)> = Vec::new();
    for s in 0..n {
        let s32 = s as u32;
        let mut flags = 0;
        let mut empty = NONE;
        for (c, t) in d.exceptions(s32) {
            if c == empty_class {
                empty = t;
                continue;
            }
            flags |= if c < nlits { FLAG_LIT } else { FLAG_KEY };
            entries.push((s32, c, t));
        }
        recs.push([
            d.default.get(s).copied().unwrap_or(0),
            d.parent.get(s).copied().unwrap_or(NONE),
            d.accept.get(s).copied().unwrap_or(NONE),
            flags,
            empty,
        ]);
    }
    // A step's wants: its own flags and its parent's.
    let own: Vec<u32> = recs.iter().map(|r| r[3]).collect();
    for r in &mut recs {
        let pf = if r[1] == NONE {
            0
        } else {
            own.get(r[1] as usize).copied().unwrap_or(0)
        };
        r[3] |= (r[3] | pf) << 2;
    }
    let nslots = slots_for(entries.len());
    let mut slots = vec![(NONE, 0u32, 0u32); nslots];
    let n32 = u32::try_from(nslots).unwrap_or(NONE);
    for &(s, c, t) in &entries {
        let mut i = home(exc_hash(s, c), n32);
        while let Some(slot) = slots.get_mut(i) {
            if slot.0 == NONE {
                *slot = (s, c, t);
                break;
            }
            i = i.wrapping_add(1).checked_rem(nslots).unwrap_or(0);
        }
    }
    let probe =
        longest_cluster(|i| slots.get(i).is_some_and(|s| s.0 != NONE), nslots).unwrap_or(NONE);
    for r in &recs {
        put_u32s(out, r);
    }
    for &(s, c, t) in &slots {
        put_u32s(out, &[s, c, t]);
    }
    [d.start, n as u32, n32, probe]
}

/// A node whose anywhere state tells more literals apart than this is not made
/// complete (it would repeat them all: `**/dataI/*.yaml` by the hundred); its rooted
/// state's literals are still edges.
const COMPLETE_LITS: usize = 64;

/// The literals state `s` of `d` or its parent has an exception on, appended to `out`.
fn literals_of(d: &CompDfa, s: u32, nlits: u32, out: &mut Vec<u32>) {
    let mut at = s;
    for _ in 0..2 {
        out.extend(d.exceptions(at).map(|(x, _)| x).filter(|&x| x < nlits));
        match d.parent.get(at as usize).copied() {
            Some(p) if p != NONE => at = p,
            _ => break,
        }
    }
}

/// Whether state `s` of `d` or its parent has an exception on a key class other than
/// the empty element's (the `WANT_KEY` of its record).
fn wants_key(d: &CompDfa, s: u32, nlits: u32) -> bool {
    let empty_class = nlits.wrapping_add(KEY_EMPTY);
    let mut at = s;
    for _ in 0..2 {
        if d.exceptions(at)
            .any(|(x, _)| x >= nlits && x != empty_class)
        {
            return true;
        }
        match d.parent.get(at as usize).copied() {
            Some(p) if p != NONE => at = p,
            _ => break,
        }
    }
    false
}

/// Edges of the literal paths: `(node, literal, child)`.
type Edges = Vec<(u32, u32, u32)>;

/// The literal paths of the lists (format version 6): a graph over path elements, each
/// node the pair of states (rooted, anywhere) both automata reach after the path from
/// the root (node 0: the start states), each edge a literal element to the pair one
/// step later, computed with [`CompDfa::step`] (exact by construction). Nodes are pairs
/// (a pair reached by two paths is one node). A node is grown by the empty element and
/// by the literals its live states (or their parents) have an exception on, the
/// anywhere state's only when they are at most [`COMPLETE_LITS`]: then the edges are
/// every literal either state tells apart, the node is *complete*. Every grown node
/// also gets `other`: the node after an element that matches no glob and is no literal
/// of the policy or, from a complete node, no edge (every such element steps both
/// automata alike: no exception of its own, key [`KEY_NONE`]).
/// Breadth first, at most two edges per literal exception of the lists (plus 64): a
/// walk follows the graph while the path's elements are edges (or `other`), then walks
/// the automata from the node's pair, so a missing edge only means the walk does the
/// work. Returns the nodes `[rooted, anywhere, other, lengths]` and the edges
/// `(node, literal, child)`.
fn literal_paths(c: &CompFs, nlits: u32) -> (Vec<[u32; 4]>, Edges) {
    let (r, a) = (&c.rooted, &c.anywhere);
    let lit_exceptions = |d: &CompDfa| d.exc_class.iter().filter(|&&x| x < nlits).count();
    let cap = lit_exceptions(r)
        .saturating_add(lit_exceptions(a))
        .saturating_mul(2)
        .saturating_add(64);
    let empty_lit = (0..c.nlits()).find(|&i| c.lit(i).is_empty());
    let mut nodes: Vec<[u32; 4]> = vec![[r.start, a.start, NONE, 0]];
    let mut ids: std::collections::HashMap<[u32; 2], u32> =
        std::collections::HashMap::from([([r.start, a.start], 0)]);
    let mut edges: Vec<(u32, u32, u32)> = Vec::new();
    let mut lits: Vec<u32> = Vec::new();
    let mut blits: Vec<u32> = Vec::new();
    let mut next = 0usize;
    let node_of = |pair: [u32; 2],
                   nodes: &mut Vec<[u32; 4]>,
                   ids: &mut std::collections::HashMap<[u32; 2], u32>|
     -> u32 {
        *ids.entry(pair).or_insert_with(|| {
            nodes.push([pair[0], pair[1], NONE, 0]);
            nodes.len().wrapping_sub(1) as u32
        })
    };
    // Once the edges reach the cap, the nodes left (and those `other` makes, up to
    // `node_cap`) still get `other` (a node record, no edge).
    let node_cap = cap.saturating_mul(2);
    let mut full = false;
    while let Some(&[sa, sb, _, _]) = nodes.get(next) {
        let node = next as u32;
        next = next.wrapping_add(1);
        if sa == 0 && sb == 0 {
            continue;
        }
        let keyc = nlits.wrapping_add(KEY_NONE);
        let other_pair = [r.step(sa, NONE, keyc), a.step(sb, NONE, keyc)];
        let keyless = if wants_key(r, sa, nlits) || wants_key(a, sb, nlits) {
            0
        } else {
            NODE_KEYLESS
        };
        if full {
            let other = match ids.get(&other_pair) {
                Some(&o) => o,
                None if nodes.len() < node_cap => node_of(other_pair, &mut nodes, &mut ids),
                None => continue,
            };
            if let Some(n) = nodes.get_mut(node as usize) {
                n[2] = other;
                n[3] |= keyless;
            }
            continue;
        }
        lits.clear();
        lits.extend(empty_lit.map(|x| x as u32));
        literals_of(r, sa, nlits, &mut lits);
        blits.clear();
        literals_of(a, sb, nlits, &mut blits);
        let complete = blits.len() <= COMPLETE_LITS;
        if complete {
            lits.extend_from_slice(&blits);
        }
        lits.sort_unstable();
        lits.dedup();
        for &x in &lits {
            if edges.len() >= cap {
                full = true;
                break;
            }
            let key = c.lit_key.get(x as usize).copied().unwrap_or(KEY_NONE);
            let keyc = nlits.wrapping_add(key);
            let child = node_of(
                [r.step(sa, x, keyc), a.step(sb, x, keyc)],
                &mut nodes,
                &mut ids,
            );
            edges.push((node, x, child));
            if let Some(n) = nodes.get_mut(node as usize) {
                n[3] |= len_bit(c.lit(x as usize).len());
            }
        }
        let other = node_of(other_pair, &mut nodes, &mut ids);
        if let Some(n) = nodes.get_mut(node as usize) {
            n[2] = other;
            n[3] |= keyless;
            if complete && !full {
                n[3] |= NODE_COMPLETE;
            }
        }
    }
    (nodes, edges)
}

impl CompLayout {
    /// Lays out the lists for the walk: builds the literal and exception hash tables
    /// (fixed seed) and the state records. The lists are the compiler's, and valid;
    /// counts past what the format holds are an error.
    pub fn new(c: &CompFs) -> Result<CompLayout, LoadError> {
        let nl = c.nlits();
        let nlits = u32::try_from(nl)
            .ok()
            .filter(|&n| n < NONE / 2)
            .ok_or_else(|| invalid("too many literals".into()))?;
        let nls = slots_for(nl);
        let nls32 = u32::try_from(nls).unwrap_or(NONE);
        let mut lits = vec![[0, NONE, NONE, NONE]; nls];
        let mut empty_lit = NONE;
        let mut start = 0u32;
        for i in 0..nl {
            let end = c.lit_end.get(i).copied().unwrap_or(start);
            let bytes = c.lit(i);
            if bytes.is_empty() {
                empty_lit = i as u32;
            }
            let key = c.lit_key.get(i).copied().unwrap_or(KEY_NONE);
            let slot = [
                start,
                end.wrapping_sub(start),
                i as u32,
                nlits.wrapping_add(key),
            ];
            start = end;
            let mut at = home(elem_hash(bytes), nls32);
            while let Some(s) = lits.get_mut(at) {
                if s[1] == NONE {
                    *s = slot;
                    break;
                }
                at = at.wrapping_add(1).checked_rem(nls).unwrap_or(0);
            }
        }
        let lit_probe =
            longest_cluster(|i| lits.get(i).is_some_and(|s| s[1] != NONE), nls).unwrap_or(NONE);
        let mut out = Vec::new();
        write_dfa(&mut out, &c.globs);
        let header_at = out.len();
        let glob_last = glob_last_bytes(&c.globs);
        let mut header = [0u32; HEADER_WORDS];
        header[hdr::NLITS] = nlits;
        header[hdr::NKEYS] = c.nkeys;
        header[hdr::EMPTY_LIT] = empty_lit;
        header[hdr::LIT_BYTES] = c.lit_bytes.len() as u32;
        header[hdr::LIT_SLOTS] = nls32;
        header[hdr::LIT_PROBE] = lit_probe;
        let halves = glob_last
            .iter()
            .flat_map(|w| [*w as u32, (*w >> 32) as u32]);
        if let Some(dst) = header.get_mut(hdr::GLOB_LAST..hdr::ROOTED) {
            for (d, v) in dst.iter_mut().zip(halves) {
                *d = v;
            }
        }
        put_u32s(&mut out, &header);
        out.extend_from_slice(&c.lit_bytes);
        // Padded to whole words: everything after the globs dfa is `u32`s.
        out.resize(out.len().wrapping_add(pad4(c.lit_bytes.len())), 0);
        for s in &lits {
            put_u32s(&mut out, s);
        }
        let r = lay_out_dfa(&mut out, &c.rooted, nlits);
        let a = lay_out_dfa(&mut out, &c.anywhere, nlits);
        // The literal paths: nodes, then the edge table keyed by `trie_hash`.
        let (tnodes, tedges) = literal_paths(c, nlits);
        if std::env::var_os("MXC_TIMING").is_some() {
            let complete = tnodes.iter().filter(|n| n[3] & NODE_COMPLETE != 0).count();
            eprintln!(
                "fs literal paths: {} nodes ({complete} complete), {} edges",
                tnodes.len(),
                tedges.len()
            );
        }
        for p in &tnodes {
            put_u32s(&mut out, p);
        }
        // Any size works with `home` (multiply-shift): at most half full, not rounded
        // up to a power of two (most elements skip the probe: the node's `lengths`).
        let nts = tedges.len().saturating_mul(2).saturating_add(1);
        let nts32 = u32::try_from(nts).unwrap_or(NONE);
        let mut tslots = vec![[NONE, 0, 0, 0]; nts];
        for &(node, x, child) in &tedges {
            let lo = match (x as usize).checked_sub(1) {
                Some(p) => c.lit_end.get(p).copied().unwrap_or(0),
                None => 0,
            };
            let bytes = c.lit(x as usize);
            let slot = [node, lo, bytes.len() as u32, child];
            let mut at = home(trie_hash(node, elem_hash(bytes)), nts32);
            while let Some(s) = tslots.get_mut(at) {
                if s[0] == NONE {
                    *s = slot;
                    break;
                }
                at = at.wrapping_add(1).checked_rem(nts).unwrap_or(0);
            }
        }
        let tprobe =
            longest_cluster(|i| tslots.get(i).is_some_and(|s| s[0] != NONE), nts).unwrap_or(NONE);
        for s in &tslots {
            put_u32s(&mut out, s);
        }
        // The re-entry table: every node that is its own `other` (a `**` loop: the
        // walk re-enters the graph there after the automata take an element).
        let loops: Vec<u32> = (0..tnodes.len() as u32)
            .filter(|&i| tnodes.get(i as usize).is_some_and(|n| n[2] == i))
            .collect();
        let nrs = loops.len().saturating_mul(2).saturating_add(1);
        let nrs32 = u32::try_from(nrs).unwrap_or(NONE);
        let mut rslots = vec![NONE; nrs];
        for &i in &loops {
            let [sa, sb, _, _] = tnodes.get(i as usize).copied().unwrap_or([NONE; 4]);
            let mut at = home(exc_hash(sa, sb), nrs32);
            while let Some(s) = rslots.get_mut(at) {
                if *s == NONE {
                    *s = i;
                    break;
                }
                at = at.wrapping_add(1).checked_rem(nrs).unwrap_or(0);
            }
        }
        let rprobe =
            longest_cluster(|i| rslots.get(i).is_some_and(|&s| s != NONE), nrs).unwrap_or(NONE);
        put_u32s(&mut out, &rslots);
        let mut filter = [0u32; LIT_FILTER_WORDS];
        for i in 0..nl {
            if let Some(k) = lit_filter_bit(c.lit(i)) {
                if let Some(w) = filter.get_mut(k / 32) {
                    *w |= 1 << (k % 32);
                }
            }
        }
        put_u32s(&mut out, &filter);
        let t = [tnodes.len() as u32, nts32, tprobe, nrs32, rprobe];
        for (k, w) in r.iter().chain(&a).chain(&t).enumerate() {
            let at = header_at.wrapping_add(4usize.wrapping_mul(hdr::ROOTED.wrapping_add(k)));
            if let Some(dst) = out.get_mut(at..at.wrapping_add(4)) {
                dst.copy_from_slice(&w.to_le_bytes());
            }
        }
        CompLayout::from_vec(out)
    }

    /// Reads a section's bytes (a copy of them: see [`CompLayout::from_vec`]).
    pub fn from_raw(bytes: &[u8]) -> Result<CompLayout, LoadError> {
        CompLayout::from_vec(bytes.to_vec())
    }

    /// Reads a section's bytes, held as they are (views into them).
    pub fn from_vec(bytes: Vec<u8>) -> Result<CompLayout, LoadError> {
        let file = Arc::new(FileBytes::owned(bytes));
        CompLayout::from_file(file.bytes(), &file)
    }

    /// Reads a section's bytes `bytes`, a part of `file`: the globs dfa, then the rest
    /// as words, each part a view of the file's bytes (read where they lie: nothing is
    /// copied when the section is aligned, see [`crate::words`]); the offsets of the
    /// parts come from the header, checked only to lie inside the words and to end
    /// exactly there (see [`validate`] for the rest).
    pub(crate) fn from_file(bytes: &[u8], file: &Arc<FileBytes>) -> Result<CompLayout, LoadError> {
        let (globs, used) = read_layout_prefix(bytes, SECTION, file)?;
        let globs = ByteDfa::from_layout(globs);
        let rest = bytes.get(used..).unwrap_or(&[]);
        if rest.len() % 4 != 0 {
            return Err(malformed(SECTION, "not a whole number of words"));
        }
        let header: View<u32> = View::of(file, words(rest, 0, HEADER_WORDS, 1));
        if header.len() != HEADER_WORDS {
            return Err(malformed(SECTION, "no header"));
        }
        let h = &header;
        let hw = |i: usize| h.get(i).copied().unwrap_or(0);
        let total = rest.len() / 4;
        let mut at = HEADER_WORDS;
        let mut part = |n: u32, size: usize, what: &str| -> Result<usize, LoadError> {
            let len = (n as usize).saturating_mul(size);
            let here = at;
            at = at.saturating_add(len);
            if at > total {
                return Err(malformed(SECTION, format!("{n} {what} do not fit")));
            }
            Ok(here)
        };
        let lit_len = hw(hdr::LIT_BYTES) as usize;
        let lit_words = part(
            u32::try_from(lit_len.div_ceil(4)).unwrap_or(NONE),
            1,
            "literal bytes",
        )?;
        let lits = part(hw(hdr::LIT_SLOTS), LIT_SLOT_WORDS, "literal slots")?;
        let mut runs = [RunAt::default(); 2];
        for (idx, (run, base)) in runs
            .iter_mut()
            .zip([hdr::ROOTED, hdr::ANYWHERE])
            .enumerate()
        {
            run.idx = idx;
            run.start = hw(base);
            run.nstates = hw(base.wrapping_add(1));
            run.nslots = hw(base.wrapping_add(2));
            run.probe = hw(base.wrapping_add(3));
            run.ws = part(run.nstates, STATE_WORDS, "state records")?;
            run.wslots = part(run.nslots, EXC_SLOT_WORDS, "exception slots")?;
            run.states = used.saturating_add(run.ws.saturating_mul(4));
            run.slots = used.saturating_add(run.wslots.saturating_mul(4));
        }
        let ntrie_nodes = hw(hdr::TRIE);
        let ntrie_slots = hw(hdr::TRIE + 1);
        let wtn = part(ntrie_nodes, TRIE_NODE_WORDS, "literal-path nodes")?;
        let wts = part(ntrie_slots, TRIE_SLOT_WORDS, "literal-path slots")?;
        let nreentry_slots = hw(hdr::REENTRY);
        let wrs = part(nreentry_slots, 1, "re-entry slots")?;
        let wlf = part(LIT_FILTER_WORDS as u32, 1, "literal filter words")?;
        if at != total {
            return Err(malformed(
                SECTION,
                format!(
                    "{} unexpected bytes at the end",
                    total.saturating_sub(at).saturating_mul(4)
                ),
            ));
        }
        let lit_at = used.saturating_add(lit_words.saturating_mul(4));
        let lit: View<u8> = View::of(
            file,
            rest.get(lit_words.saturating_mul(4)..)
                .and_then(|r| r.get(..lit_len))
                .unwrap_or(&[]),
        );
        let mut glob_last = [0u64; 4];
        let gw = h.get(hdr::GLOB_LAST..hdr::ROOTED).unwrap_or(&[]);
        for (w, pair) in glob_last.iter_mut().zip(gw.chunks_exact(2)) {
            if let [lo, hi] = pair {
                *w = u64::from(*lo) | (u64::from(*hi) << 32);
            }
        }
        let [rooted, anywhere] = runs;
        // A view of each part, where it lies in the bytes.
        let lit_slots = View::of(file, words(rest, lits, hw(hdr::LIT_SLOTS) as usize, 4));
        let states =
            [&rooted, &anywhere].map(|r| View::of(file, words(rest, r.ws, r.nstates as usize, 5)));
        let slots = [&rooted, &anywhere]
            .map(|r| View::of(file, words(rest, r.wslots, r.nslots as usize, 3)));
        let trie_nodes = View::of(file, words(rest, wtn, ntrie_nodes as usize, 4));
        let trie_slots = View::of(file, words(rest, wts, ntrie_slots as usize, 4));
        let reentry = View::of(file, words(rest, wrs, nreentry_slots as usize, 1));
        let lit_filter = View::of(file, words(rest, wlf, LIT_FILTER_WORDS, 1));
        Ok(CompLayout {
            lit_filter,
            lit_filter_at: used.saturating_add(wlf.saturating_mul(4)),
            nreentry_slots,
            reentry_probe: hw(hdr::REENTRY + 1),
            reentry_at: used.saturating_add(wrs.saturating_mul(4)),
            reentry,
            ntrie_nodes,
            ntrie_slots,
            trie_probe: hw(hdr::TRIE + 2),
            trie_nodes_at: used.saturating_add(wtn.saturating_mul(4)),
            trie_slots_at: used.saturating_add(wts.saturating_mul(4)),
            trie_nodes,
            trie_slots,
            nlits: hw(hdr::NLITS),
            nkeys: hw(hdr::NKEYS),
            empty_lit: hw(hdr::EMPTY_LIT),
            glob_last,
            lit_bytes: lit_at,
            lit_len,
            lits: used.saturating_add(lits.saturating_mul(4)),
            wlits: lits,
            nlit_slots: hw(hdr::LIT_SLOTS),
            lit_probe: hw(hdr::LIT_PROBE),
            rooted,
            anywhere,
            words_at: used,
            globs,
            header,
            lit_slots,
            states,
            slots,
            lit,
        })
    }

    /// The section's bytes (after its tag): what the format writes.
    pub fn to_raw(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_layout(&mut out, self.globs.layout());
        put_u32s(&mut out, &self.header);
        out.extend_from_slice(&self.lit);
        out.resize(out.len().wrapping_add(pad4(self.lit.len())), 0);
        for s in &self.lit_slots {
            put_u32s(&mut out, s);
        }
        for (st, sl) in self.states.iter().zip(&self.slots) {
            for r in st.iter() {
                put_u32s(&mut out, r);
            }
            for x in sl.iter() {
                put_u32s(&mut out, x);
            }
        }
        for p in &self.trie_nodes {
            put_u32s(&mut out, p);
        }
        for s in &self.trie_slots {
            put_u32s(&mut out, s);
        }
        put_u32s(&mut out, &self.reentry);
        put_u32s(&mut out, &self.lit_filter);
        out
    }

    /// Byte offset of the header in [`to_raw`](Self::to_raw).
    pub fn header_at(&self) -> usize {
        self.words_at
    }

    /// The state records of `run`, `[default, parent, accept, flags, empty]` each.
    #[inline(always)]
    pub fn states_of(&self, run: &RunAt) -> &[[u32; 5]] {
        self.states.get(run.idx).map_or(&[], |v| v)
    }

    /// The exception slots of `run`, `[state, class, target]` each.
    #[inline(always)]
    pub fn slots_of(&self, run: &RunAt) -> &[[u32; 3]] {
        self.slots.get(run.idx).map_or(&[], |v| v)
    }

    /// The literal slots, `[start, len, id, key class]` each.
    #[inline(always)]
    pub fn lit_slots(&self) -> &[[u32; 4]] {
        &self.lit_slots
    }

    /// State record `s` of `run`: `[default, parent, accept, flags, empty]`.
    #[inline(always)]
    pub fn state(&self, run: &RunAt, s: u32) -> Option<&[u32; 5]> {
        self.states_of(run).get(s as usize)
    }

    /// Exception slot `i` of `run`: `[state, class, target]`.
    #[inline(always)]
    pub fn exc_slot(&self, run: &RunAt, i: usize) -> Option<&[u32; 3]> {
        self.slots_of(run).get(i)
    }

    /// The literal-path nodes, `[rooted state, anywhere state, other, lengths]` each.
    #[inline(always)]
    pub fn trie_nodes(&self) -> &[[u32; 4]] {
        &self.trie_nodes
    }

    /// The literal-path edge slots, `[node, start, len, child]` each.
    #[inline(always)]
    pub fn trie_slots(&self) -> &[[u32; 4]] {
        &self.trie_slots
    }

    /// Whether a non-empty element may be a literal (the literal filter: no when its
    /// bit is clear; the empty element: no).
    #[inline(always)]
    pub fn may_be_literal(&self, elem: &[u8]) -> bool {
        filter_admits(&self.lit_filter, elem)
    }

    /// The literal filter's words ([`LIT_FILTER_WORDS`]).
    #[inline(always)]
    pub fn lit_filter(&self) -> &[u32] {
        &self.lit_filter
    }

    /// The re-entry slots: a literal-path node each (or [`NONE`]).
    #[inline(always)]
    pub fn reentry_slots(&self) -> &[u32] {
        &self.reentry
    }

    /// Literal slot `i`: `[start, len, id, key class]`.
    #[inline(always)]
    pub fn lit_slot(&self, i: usize) -> Option<&[u32; 4]> {
        self.lit_slots.get(i)
    }

    /// The literals' bytes.
    #[inline(always)]
    pub fn lit_bytes(&self) -> &[u8] {
        &self.lit
    }

    /// Whether every array is read in place from the file's bytes (no copy: see
    /// [`crate::words`]).
    pub fn is_in_place(&self) -> bool {
        let g = self.globs.layout();
        self.header.is_in_place()
            && self.lit_slots.is_in_place()
            && self.states.iter().all(View::is_in_place)
            && self.slots.iter().all(View::is_in_place)
            && self.trie_nodes.is_in_place()
            && self.trie_slots.is_in_place()
            && (self.lit.is_in_place() || self.lit.is_empty())
            && g.states.is_in_place()
            && g.accept.is_in_place()
            && (g.slots.is_in_place() || g.slots.is_empty())
    }

    /// The lists back from the layout (for analyses and tests; off the decision path).
    pub fn lists(&self) -> CompFs {
        let nl = self.nlits as usize;
        let mut by_id: Vec<Option<[u32; 4]>> = vec![None; nl];
        for i in 0..self.nlit_slots as usize {
            if let Some(&s) = self.lit_slot(i).filter(|s| s[1] != NONE) {
                if let Some(x) = by_id.get_mut(s[2] as usize) {
                    *x = Some(s);
                }
            }
        }
        let all = self.lit_bytes();
        let mut lit_bytes = Vec::with_capacity(all.len());
        let mut lit_end = Vec::with_capacity(nl);
        let mut lit_key = Vec::with_capacity(nl);
        for s in &by_id {
            let [start, len, _, keyc] = s.unwrap_or([0, 0, 0, self.nlits]);
            let lo = start as usize;
            lit_bytes
                .extend_from_slice(all.get(lo..lo.saturating_add(len as usize)).unwrap_or(&[]));
            lit_end.push(lit_bytes.len() as u32);
            lit_key.push(keyc.wrapping_sub(self.nlits));
        }
        let [rooted, anywhere] = [&self.rooted, &self.anywhere].map(|run| {
            let n = run.nstates as usize;
            let mut d = CompDfa {
                start: run.start,
                ..CompDfa::default()
            };
            let mut exc: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
            for s in 0..n {
                let [default, parent, accept, _, empty] = self
                    .state(run, s as u32)
                    .copied()
                    .unwrap_or([0, NONE, NONE, 0, NONE]);
                d.default.push(default);
                d.parent.push(parent);
                d.accept.push(accept);
                if empty != NONE {
                    if let Some(e) = exc.get_mut(s) {
                        e.push((self.nlits.wrapping_add(KEY_EMPTY), empty));
                    }
                }
            }
            for i in 0..run.nslots as usize {
                if let Some(&[s, c, t]) = self.exc_slot(run, i).filter(|x| x[0] != NONE) {
                    if let Some(e) = exc.get_mut(s as usize) {
                        e.push((c, t));
                    }
                }
            }
            d.exc_start.push(0);
            for mut e in exc {
                e.sort_unstable();
                e.dedup_by_key(|x| x.0);
                for (c, t) in e {
                    d.exc_class.push(c);
                    d.exc_target.push(t);
                }
                d.exc_start.push(d.exc_class.len() as u32);
            }
            d
        });
        CompFs {
            lit_bytes,
            lit_end,
            lit_key,
            nkeys: self.nkeys,
            globs: self.globs.dfa().clone(),
            rooted,
            anywhere,
        }
    }
}

impl CompFs {
    /// The lists that decide nothing: only the empty literal, no globs.
    pub fn empty() -> CompFs {
        CompFs {
            lit_bytes: Vec::new(),
            lit_end: vec![0],
            lit_key: vec![KEY_EMPTY],
            nkeys: 2,
            globs: Dfa::empty(),
            rooted: CompDfa::empty(),
            anywhere: CompDfa::empty(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Format: section 12, "fs components": `tag u32` (0: no such section, the byte automata
// decide; 1: present), then the layout's bytes ([`CompLayout`]).

pub(crate) fn write_section(out: &mut Vec<u8>, c: Option<&CompLayout>) {
    let Some(c) = c else {
        put_u32(out, 0);
        return;
    };
    put_u32(out, 1);
    out.extend_from_slice(&c.to_raw());
}

pub(crate) const SECTION: &str = "fs components";

pub(crate) fn read_section(
    buf: &[u8],
    file: &Arc<FileBytes>,
) -> Result<Option<CompLayout>, LoadError> {
    let mut r = Reader::new(buf, SECTION);
    match r.u32()? {
        0 => {
            r.finish()?;
            Ok(None)
        }
        // Views of the section's bytes; nothing decoded but the globs dfa's header.
        1 => CompLayout::from_file(r.rest(), file).map(Some),
        t => Err(malformed(SECTION, format!("bad tag {t}"))),
    }
}

// ---------------------------------------------------------------------------------------
// Validation

/// The error for a per-component section that breaks an invariant.
pub fn invalid(problem: String) -> LoadError {
    LoadError::Invalid {
        section: SECTION,
        problem,
    }
}

/// Checks, in place, every invariant the walk relies on: at least two keys and fewer
/// than 2^32 - 1 classes; the empty literal a literal; the globs dfa (accepts are keys);
/// the literal table: exactly `nlits` full slots, their ids distinct literals, their
/// bytes inside the literals' bytes, their key classes keys, its longest run of full
/// slots (cyclic) no longer than the stored probe bound, and some slot empty; per automaton:
/// some states, start in range, state 0 dead, every default, parent, accept, empty
/// target in range (parents without parents), flags known, and its exception table
/// like the literal table (every state, class and target in range). Whatever a table
/// says, no walk reads outside it or probes further than the bound.
pub(crate) fn validate(c: &CompLayout, nrows: usize) -> Result<(), LoadError> {
    let nl = c.nlits;
    if c.nkeys < 2 {
        return Err(invalid(format!("{} keys, at least 2 expected", c.nkeys)));
    }
    let nclasses = u64::from(nl).saturating_add(u64::from(c.nkeys));
    if nclasses >= u64::from(NONE) {
        return Err(invalid("too many classes".into()));
    }
    if c.empty_lit != NONE && c.empty_lit >= nl {
        return Err(invalid(format!(
            "the empty literal is {} of {nl}",
            c.empty_lit
        )));
    }
    crate::validate::validate_dfa(SECTION, &c.globs, c.nkeys as usize)?;
    // Literal slots.
    let nls = c.nlit_slots as usize;
    let mut seen = vec![0u64; (nl as usize).div_ceil(64)];
    let mut full = 0usize;
    let mut cluster = Cluster::new(c.lit_probe, "literal");
    // The slices once (each array a view of the file: see `crate::words`).
    let lit_slots = c.lit_slots();
    for i in 0..nls {
        let s = *lit_slots
            .get(i)
            .ok_or_else(|| invalid(format!("literal slot {i} out of range")))?;
        let [start, len, id, keyc] = s;
        if len == NONE {
            cluster.empty()?;
            continue;
        }
        cluster.full()?;
        full = full.saturating_add(1);
        if u64::from(start).saturating_add(u64::from(len)) > c.lit_len as u64 {
            return Err(invalid(format!(
                "literal slot {i} holds bytes {start}+{len} of {}",
                c.lit_len
            )));
        }
        let bit = seen.get_mut((id / 64) as usize).filter(|_| id < nl);
        match bit {
            Some(w) if *w & (1u64 << (id % 64)) == 0 => *w |= 1u64 << (id % 64),
            _ => {
                return Err(invalid(format!(
                    "literal slot {i} holds literal {id}: out of range or twice"
                )))
            }
        }
        if keyc < nl || u64::from(keyc) >= nclasses {
            return Err(invalid(format!(
                "literal {id} has key class {keyc}, no key"
            )));
        }
        let bytes = c
            .lit_bytes()
            .get(start as usize..start.saturating_add(len) as usize);
        if let Some(b) = bytes.filter(|b| !b.is_empty()) {
            if !c.may_be_literal(b) {
                return Err(invalid(format!(
                    "literal {id} is not in the literal filter"
                )));
            }
        }
    }
    cluster.finish()?;
    if full != nl as usize {
        return Err(invalid(format!("{full} literal slots for {nl} literals")));
    }
    for run in [&c.rooted, &c.anywhere] {
        validate_run(c, run, nclasses, nrows)?;
    }
    validate_trie(c)
}

/// The literal paths: some nodes, node 0 the pair of start states, every node's states
/// and `other` in range; the edge table like the literal table (every node and child in range,
/// every element's bytes inside the literals' bytes, runs within the probe bound, some
/// slot empty). What an edge leads to is not checked against the automata (a table
/// decides what it says, as its exceptions do); that it stays in range is.
fn validate_trie(c: &CompLayout) -> Result<(), LoadError> {
    let n = c.ntrie_nodes;
    let nodes = c.trie_nodes();
    if nodes.first().map(|x| [x[0], x[1]]) != Some([c.rooted.start, c.anywhere.start]) {
        return Err(invalid(
            "literal-path node 0 is not the pair of start states".into(),
        ));
    }
    for (i, &[a, b, other, lengths]) in nodes.iter().enumerate() {
        if a >= c.rooted.nstates || b >= c.anywhere.nstates {
            return Err(invalid(format!(
                "literal-path node {i}: states {a}, {b} out of range"
            )));
        }
        let wants = |run: &RunAt, s: u32| c.state(run, s).is_none_or(|r| r[3] & WANT_KEY != 0);
        if lengths & NODE_KEYLESS != 0 && (wants(&c.rooted, a) || wants(&c.anywhere, b)) {
            return Err(invalid(format!(
                "literal-path node {i} is marked keyless, but a state of it wants keys"
            )));
        }
        if other != NONE && other >= n {
            return Err(invalid(format!(
                "literal-path node {i}: other {other}, of {n} nodes"
            )));
        }
    }
    let mut cluster = Cluster::new(c.trie_probe, "literal-path");
    for (i, &[node, start, len, child]) in c.trie_slots().iter().enumerate() {
        if node == NONE {
            cluster.empty()?;
            continue;
        }
        cluster.full()?;
        if node >= n || child >= n {
            return Err(invalid(format!(
                "literal-path slot {i}: node {node} to {child}, of {n} nodes"
            )));
        }
        if u64::from(start).saturating_add(u64::from(len)) > c.lit_len as u64 {
            return Err(invalid(format!(
                "literal-path slot {i} holds bytes {start}+{len} of {}",
                c.lit_len
            )));
        }
    }
    cluster.finish()?;
    // The re-entry table: nodes in range (the walk compares the node's pair with its
    // own before it re-enters, so a node under the wrong key is only a miss).
    let mut cluster = Cluster::new(c.reentry_probe, "re-entry");
    for (i, &node) in c.reentry.iter().enumerate() {
        if node == NONE {
            cluster.empty()?;
            continue;
        }
        cluster.full()?;
        if node >= n {
            return Err(invalid(format!(
                "re-entry slot {i}: node {node}, of {n} nodes"
            )));
        }
    }
    cluster.finish()
}

/// Tracks runs of full slots while a hash table is scanned once: the first run may
/// continue the last one (probes wrap around).
struct Cluster {
    bound: u32,
    what: &'static str,
    first: Option<u32>,
    run: u32,
    any_empty: bool,
}

impl Cluster {
    fn new(bound: u32, what: &'static str) -> Cluster {
        Cluster {
            bound,
            what,
            first: None,
            run: 0,
            any_empty: false,
        }
    }
    fn full(&mut self) -> Result<(), LoadError> {
        self.run = self.run.saturating_add(1);
        if self.any_empty && self.run > self.bound {
            return Err(self.too_long());
        }
        Ok(())
    }
    fn empty(&mut self) -> Result<(), LoadError> {
        if !self.any_empty {
            self.first = Some(self.run);
            self.any_empty = true;
        } else if self.run > self.bound {
            return Err(self.too_long());
        }
        self.run = 0;
        Ok(())
    }
    fn finish(&self) -> Result<(), LoadError> {
        if !self.any_empty {
            return Err(invalid(format!(
                "the {} table has no empty slot",
                self.what
            )));
        }
        if self.run.saturating_add(self.first.unwrap_or(0)) > self.bound {
            return Err(self.too_long());
        }
        Ok(())
    }
    fn too_long(&self) -> LoadError {
        invalid(format!(
            "the {} table has a run of full slots longer than its probe bound {}",
            self.what, self.bound
        ))
    }
}

fn validate_run(c: &CompLayout, d: &RunAt, nclasses: u64, nrows: usize) -> Result<(), LoadError> {
    let n = d.nstates;
    if n == 0 || n == NONE {
        return Err(invalid(format!("{n} states")));
    }
    if d.start >= n {
        return Err(invalid(format!("start {} of {n} states", d.start)));
    }
    let states = c.states_of(d);
    for s in 0..n {
        let [default, parent, accept, flags, empty] = *states
            .get(s as usize)
            .ok_or_else(|| invalid(format!("state {s} out of range")))?;
        if default >= n || (empty != NONE && empty >= n) {
            return Err(invalid(format!(
                "state {s}: a transition leads out of the states"
            )));
        }
        if accept != NONE && accept as usize >= nrows {
            return Err(invalid(format!(
                "state {s}: accepting row {accept} out of range ({nrows} rows)"
            )));
        }
        if flags & !(FLAG_LIT | FLAG_KEY | WANT_LIT | WANT_KEY) != 0 {
            return Err(invalid(format!("state {s}: unknown flags {flags:#x}")));
        }
        if parent != NONE {
            let pp = states.get(parent as usize).map(|r| r[1]);
            if parent >= n || parent == s || pp != Some(NONE) {
                return Err(invalid(format!(
                    "state {s} has parent {parent}, which is no state without a parent"
                )));
            }
        }
        if s == 0 && !(default == 0 && parent == NONE && accept == NONE && empty == NONE) {
            return Err(invalid("state 0 is not the dead state".into()));
        }
    }
    let ns = d.nslots as usize;
    let mut cluster = Cluster::new(d.probe, "exception");
    let slots = c.slots_of(d);
    for i in 0..ns {
        let [s, cl, t] = *slots
            .get(i)
            .ok_or_else(|| invalid(format!("exception slot {i} out of range")))?;
        if s == NONE {
            cluster.empty()?;
            continue;
        }
        cluster.full()?;
        if s >= n || t >= n {
            return Err(invalid(format!(
                "exception slot {i}: state {s} to {t}, of {n} states"
            )));
        }
        if u64::from(cl) >= nclasses {
            return Err(invalid(format!("exception slot {i}: class {cl}, no class")));
        }
    }
    cluster.finish()
}
