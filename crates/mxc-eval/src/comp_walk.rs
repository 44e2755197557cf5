//! The engine's side of fs decisions per path component: the walk over a validated
//! [`CompLayout`], read in place (see `mxc_table::comp` for the data, its format and its
//! validation), and the two place questions of `ancestor.rs` asked of it (on the lists,
//! decoded from the layout the first time one is asked).

use crate::table::{Decision, Effect, FsRight, FsRow, NONE};
use mxc_table::comp::{
    elem_hash, exc_hash, filter_admits, home, len_bit, read_u32, read_u64, trie_hash, CompDfa,
    CompFs, CompLayout, RunAt, FLAG_KEY, FLAG_LIT, KEY_EMPTY, KEY_NONE, NODE_COMPLETE,
    NODE_KEYLESS, WANT_KEY, WANT_LIT,
};
// ---------------------------------------------------------------------------------------
// The walk

/// Not a state: the walk's answer when a lookup that validation guarantees fails.
pub(crate) const BROKEN: u32 = NONE;

/// A state record as the walk reads it: `[default, parent, accept, flags, empty]`.
type St = [u32; 5];
const DEFAULT: usize = 0;
const PARENT: usize = 1;
const ACCEPT: usize = 2;
const FLAGS: usize = 3;
const EMPTY: usize = 4;

/// What a probe finds in one slot of a hash table.
enum Slot<T> {
    /// The key: its value.
    Hit(T),
    /// An empty slot: the key is not in the table.
    Empty,
    /// Another key: the probe goes on.
    Other,
}

/// Linear probing in `slots` from slot `at`: at most `probe + 1` slots (the table's
/// longest run of full slots, checked by validation), wrapping around; each slot judged
/// by `look`. The one probe loop of every table the walk reads (exceptions, literals,
/// literal-path edges, re-entry).
#[inline(always)]
fn probe<S: Copy, T>(
    slots: &[S],
    mut at: usize,
    probe: u32,
    mut look: impl FnMut(S) -> Slot<T>,
) -> Option<T> {
    let n = slots.len();
    let mut left = probe;
    loop {
        match look(*slots.get(at)?) {
            Slot::Hit(t) => return Some(t),
            Slot::Empty => return None,
            Slot::Other => {}
        }
        if left == 0 {
            return None;
        }
        left = left.wrapping_sub(1);
        at = at.wrapping_add(1);
        if at >= n {
            at = 0;
        }
    }
}

/// One automaton as the walk reads it: its records and exception slots (slices of the
/// layout's words), and the exception table's size and probe bound.
#[derive(Clone, Copy, yoke::Yokeable)]
pub(crate) struct R<'a> {
    states: &'a [St],
    slots: &'a [[u32; 3]],
    nslots: u32,
    probe: u32,
}

impl<'a> R<'a> {
    #[inline(always)]
    fn of(d: &'a CompLayout, r: &RunAt) -> R<'a> {
        R {
            states: d.states_of(r),
            slots: d.slots_of(r),
            nslots: r.nslots,
            probe: r.probe,
        }
    }

    #[inline(always)]
    fn state(&self, s: u32) -> Option<&'a St> {
        self.states.get(s as usize)
    }

    /// The exception `(s, c)`: at most `probe + 1` slots from its home.
    #[inline(always)]
    fn probe(&self, s: u32, c: u32) -> Option<u32> {
        let at = home(exc_hash(s, c), self.nslots);
        probe(self.slots, at, self.probe, |[ks, kc, t]| {
            if ks == s && kc == c {
                Slot::Hit(t)
            } else if ks == NONE {
                Slot::Empty
            } else {
                Slot::Other
            }
        })
    }

    /// One step from `s` (whose record is `st`) on an element of literal `lit` (or
    /// [`NONE`]) and key class `keyc` (`empty_class`: the empty element).
    #[inline(always)]
    fn step(&self, mut s: u32, st: &St, lit: u32, keyc: u32, empty_class: u32) -> u32 {
        let mut st = st;
        for round in 0..2 {
            if round == 1 {
                match self.state(s) {
                    Some(x) => st = x,
                    None => return BROKEN,
                }
            }
            let flags = st[FLAGS];
            if flags & FLAG_LIT != 0 && lit != NONE {
                if let Some(t) = self.probe(s, lit) {
                    return t;
                }
            }
            if keyc == empty_class {
                if st[EMPTY] != NONE {
                    return st[EMPTY];
                }
            } else if flags & FLAG_KEY != 0 {
                if let Some(t) = self.probe(s, keyc) {
                    return t;
                }
            }
            if st[PARENT] == NONE {
                return st[DEFAULT];
            }
            s = st[PARENT];
        }
        BROKEN
    }
}

/// How [`Walk::leave`] hands back: at a node, the element ending at the index given
/// taken; or the walk done, with its rows.
enum Leave {
    Node(u32, usize),
    Done((Option<u32>, Option<u32>)),
}

/// The slices of a layout a walk reads. Reading a view of the file's bytes as a slice
/// costs its checks (`mxc_table::words`), which a decision must not pay: the engine
/// takes them once, at load, and keeps them beside the table they borrow from (its
/// `Slices`, a yoke whose cart is the engine's `Arc<Table>`).
#[derive(Clone, Copy, yoke::Yokeable)]
pub(crate) struct P<'a> {
    d: &'a CompLayout,
    nodes: &'a [[u32; 4]],
    trie_slots: &'a [[u32; 4]],
    lit_slots: &'a [[u32; 4]],
    lit: &'a [u8],
    reentry: &'a [u32],
    filter: &'a [u32],
    ra: R<'a>,
    rb: R<'a>,
    globs: crate::engine::Walker<'a>,
}

impl<'a> P<'a> {
    #[inline(always)]
    pub(crate) fn of(d: &'a CompLayout) -> P<'a> {
        P {
            d,
            nodes: d.trie_nodes(),
            trie_slots: d.trie_slots(),
            lit_slots: d.lit_slots(),
            lit: d.lit_bytes(),
            reentry: d.reentry_slots(),
            filter: d.lit_filter(),
            ra: R::of(d, &d.rooted),
            rb: R::of(d, &d.anywhere),
            globs: crate::engine::Walker::of(&d.globs),
        }
    }

    /// Whether the literal of `len` bytes at `start` in the literals' bytes is `elem`.
    #[inline(always)]
    fn is(&self, start: u32, len: u32, elem: &[u8]) -> bool {
        let (lo, k) = (start as usize, elem.len());
        len as usize == k
            && self
                .lit
                .get(lo..lo.wrapping_add(k))
                .is_some_and(|lit| same(lit, elem, k))
    }

    /// The rows the pair of states `(a, b)` accepts with (`None`: a state out of
    /// range, the walk broken).
    #[inline(always)]
    fn rows(&self, a: u32, b: u32) -> (Option<u32>, Option<u32>) {
        (
            self.ra.state(a).map(|st| st[ACCEPT]),
            self.rb.state(b).map(|st| st[ACCEPT]),
        )
    }

    /// Whether a non-empty element may be a literal (`CompLayout::may_be_literal`).
    #[inline(always)]
    fn may_be_literal(&self, elem: &[u8]) -> bool {
        filter_admits(self.filter, elem)
    }
}

impl std::fmt::Debug for Walk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walk")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// What the engine keeps beside a validated layout (which stays in the table; the
/// walk takes its slices back as `p`, held by the engine, and the place questions the
/// layout as `d`): the lists, built the first time a place question is asked.
#[derive(Clone)]
pub(crate) struct Walk {
    lists: std::sync::OnceLock<CompFs>,
    /// The literal-path node after the empty element that starts every absolute path
    /// (node 0's edge by the empty literal), or [`NONE`]: one probe at load.
    root: u32,
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
/// a time (the lowest byte the zero-byte test flags is always a true match), the last
/// fewer than eight through the path's last word, shifted past the bytes already
/// scanned (the bytes shifted in are zero: a match at or past the end is the end). The
/// engine has refused paths holding NUL before the walk (`path_ok`; folding that test
/// into this scan cost more instructions than the `memchr` it saved, measured).
#[inline(always)]
fn next_slash(p: &[u8], from: usize) -> usize {
    const SLASHES: u64 = 0x2f2f_2f2f_2f2f_2f2f;
    let n = p.len();
    let mut at = from;
    while let Some(w) = p.get(at..).and_then(|r| r.first_chunk::<8>()) {
        let t = crate::word::zero_bytes(u64::from_le_bytes(*w) ^ SLASHES);
        if t != 0 {
            return at.wrapping_add((t.trailing_zeros() / 8) as usize);
        }
        at = at.wrapping_add(8);
    }
    if at >= n {
        return n;
    }
    match p.last_chunk::<8>() {
        Some(w) => {
            // `n - 8 < at < n`: shift out the `at - (n - 8)` bytes before `at`.
            let skip = at.wrapping_sub(n.wrapping_sub(8)).wrapping_mul(8) as u32;
            let x = (u64::from_le_bytes(*w) ^ SLASHES)
                .checked_shr(skip)
                .unwrap_or(0);
            let t = crate::word::zero_bytes(x);
            at.wrapping_add((t.trailing_zeros() / 8) as usize).min(n)
        }
        None => p
            .get(at..)
            .and_then(|r| r.iter().position(|&b| b == b'/'))
            .map_or(n, |k| at.wrapping_add(k)),
    }
}

impl Walk {
    /// What the walk of a validated layout (its slices `p`) needs beside it: the node
    /// after the root's empty element (nothing else is built at load).
    pub(crate) fn new(p: &P<'_>) -> Walk {
        let mut w = Walk {
            lists: std::sync::OnceLock::new(),
            root: NONE,
        };
        let lengths = p.nodes.first().map_or(0, |n| n[3]);
        if lengths & len_bit(0) != 0 {
            w.root = w.trie_step(p, 0, elem_hash(b""), b"").unwrap_or(NONE);
        }
        w
    }

    /// The lists, decoded from the layout the first time they are asked for.
    fn lists<'a>(&'a self, d: &CompLayout) -> &'a CompFs {
        self.lists.get_or_init(|| d.lists())
    }

    /// The literal `elem` is, if any: its id and key class.
    #[inline(always)]
    fn literal(&self, p: &P<'_>, elem: &[u8]) -> Option<(u32, u32)> {
        self.literal_h(p, elem, elem_hash(elem))
    }

    /// [`literal`](Self::literal), given the element's hash `h`.
    #[inline(always)]
    fn literal_h(&self, p: &P<'_>, elem: &[u8], h: u64) -> Option<(u32, u32)> {
        let at = home(h, p.d.nlit_slots);
        probe(p.lit_slots, at, p.d.lit_probe, |[start, len, id, keyc]| {
            if len == NONE {
                Slot::Empty
            } else if p.is(start, len, elem) {
                Slot::Hit((id, keyc))
            } else {
                Slot::Other
            }
        })
    }

    /// The child of literal-path node `node` by element `elem` (hash `h`), if the trie
    /// has that edge: at most `probe + 1` slots, each hit compared byte for byte.
    #[inline(always)]
    fn trie_step(&self, p: &P<'_>, node: u32, h: u64, elem: &[u8]) -> Option<u32> {
        let at = home(trie_hash(node, h), p.d.ntrie_slots);
        probe(
            p.trie_slots,
            at,
            p.d.trie_probe,
            |[nd, start, len, child]| {
                if nd == NONE {
                    Slot::Empty
                } else if nd == node && p.is(start, len, elem) {
                    Slot::Hit(child)
                } else {
                    Slot::Other
                }
            },
        )
    }

    /// The key class of a non-empty element that is no literal.
    #[inline(always)]
    fn key_class(&self, p: &P<'_>, elem: &[u8]) -> u32 {
        let k = match elem.last() {
            Some(&b)
                if p.d
                    .glob_last
                    .get(usize::from(b >> 6))
                    .is_some_and(|w| w >> (b & 63) & 1 != 0) =>
            {
                let g = p.globs;
                match g.end(g.feed_slice(g.start(), elem)) {
                    crate::engine::End::Row(k) => k,
                    _ => KEY_NONE,
                }
            }
            _ => KEY_NONE,
        };
        p.d.nlits.wrapping_add(k)
    }

    /// The class pair of one element (literal or [`NONE`], key class), computing only
    /// what `want` (WANT_LIT | WANT_KEY) asks for.
    #[inline(always)]
    fn classify(&self, p: &P<'_>, elem: &[u8], want: u32) -> (u32, u32) {
        if elem.is_empty() {
            return (p.d.empty_lit, p.d.nlits.wrapping_add(KEY_EMPTY));
        }
        // The literal table only for an element the literal filter admits.
        if want & WANT_LIT != 0 && p.may_be_literal(elem) {
            if let Some(x) = self.literal(p, elem) {
                return x;
            }
        }
        if want & WANT_KEY != 0 {
            return (NONE, self.key_class(p, elem));
        }
        (NONE, NONE)
    }

    /// The literal-path node registered for the pair `(a, b)` in the re-entry table
    /// (the `**` loop nodes), if any: its pair is compared with `(a, b)`.
    #[inline(always)]
    fn reentry(&self, p: &P<'_>, nodes: &[[u32; 4]], a: u32, b: u32) -> Option<u32> {
        let at = home(exc_hash(a, b), p.d.nreentry_slots);
        probe(p.reentry, at, p.d.reentry_probe, |node| {
            if node == NONE {
                Slot::Empty
            } else if nodes
                .get(node as usize)
                .is_some_and(|x| x[0] == a && x[1] == b)
            {
                Slot::Hit(node)
            } else {
                Slot::Other
            }
        })
    }

    /// Walks both automata over the path's elements: the rows reached (`Some(NONE)`:
    /// no rule; `None`: broken, fail closed).
    #[inline]
    pub(crate) fn ends(&self, p: &P<'_>, path: &[u8]) -> (Option<u32>, Option<u32>) {
        self.walk::<true>(p, path).0
    }

    /// [`ends`](Self::ends), and how many times the walk went back to the literal
    /// paths after the automata took an element (`REENTER` false: never; for tests).
    ///
    /// Per element, on the literal paths: the node's record, then one probe when the
    /// element's length is one of the node's edges'; else, for a non-empty element,
    /// `other` when the node is complete and the element cannot match a glob (the
    /// node is keyless, or its last byte ends no glob match). Anything else is
    /// [`leave`](Self::leave)'s, out of the hot loop.
    #[inline(always)]
    pub(crate) fn walk<const REENTER: bool>(
        &self,
        p: &P<'_>,
        path: &[u8],
    ) -> ((Option<u32>, Option<u32>), u32) {
        let nodes = p.nodes;
        let mut node = 0u32;
        // The path after the elements walked so far.
        let mut rest = path;
        let mut reentries = 0u32;
        // An absolute path's first element is empty: node 0's edge by it, looked up once.
        if self.root != NONE && path.len() > 1 && path.first() == Some(&b'/') {
            node = self.root;
            rest = path.get(1..).unwrap_or(&[]);
        }
        loop {
            let (elem, mut tail) = rest
                .split_at_checked(next_slash(rest, 0))
                .unwrap_or((rest, &[]));
            // A node out of range has no record: its pair is BROKEN (fail closed).
            let (other, lengths) = nodes
                .get(node as usize)
                .map_or((NONE, NONE), |r| (r[2], r[3]));
            let mut next = NONE;
            let complete = lengths & NODE_COMPLETE != 0;
            let lengths_match = lengths & len_bit(elem.len()) != 0;
            // Whether the literal table is asked: not at a complete node, nor for an
            // element the literal filter rules out.
            let ask = !complete && p.may_be_literal(elem);
            let h = if lengths_match || ask {
                elem_hash(elem)
            } else {
                0
            };
            if lengths_match {
                if let Some(child) = self.trie_step(p, node, h, elem) {
                    next = child;
                }
            }
            let mut found = None;
            if next == NONE {
                if let Some(&last) = elem.last() {
                    if ask {
                        found = self.literal_h(p, elem, h);
                    }
                    if found.is_none()
                        && (lengths & NODE_KEYLESS != 0
                            || p.d
                                .glob_last
                                .get(usize::from(last >> 6))
                                .is_some_and(|w| w >> (last & 63) & 1 == 0))
                    {
                        next = other;
                    }
                }
            }
            if next == NONE {
                let from = path.len().wrapping_sub(rest.len());
                let end = from.wrapping_add(elem.len());
                match self.leave::<REENTER>(p, path, (from, end), node, found, &mut reentries) {
                    Leave::Node(n, e) => {
                        next = n;
                        tail = path.get(e..).unwrap_or(&[]);
                    }
                    Leave::Done(ends) => return (ends, reentries),
                }
            }
            node = next;
            // `tail` is empty (the path's end) or starts with the `/` after the element.
            match tail.split_first() {
                Some((_, t)) => rest = t,
                None => break,
            }
        }
        // A node out of range has no pair: the walk breaks (fail closed).
        let [a, b, _, _] = nodes.get(node as usize).copied().unwrap_or([BROKEN; 4]);
        (p.rows(a, b), reentries)
    }

    /// The element `path[from..end]` at node `node`, when it is no
    /// edge and the hot loop could not send it to `other`: its class (the literal,
    /// looked up only when the node is not complete: a complete node's states have no
    /// exception on a literal that is no edge; the key, computed only when the node is
    /// not keyless and the last byte may end a glob match). No literal and no glob:
    /// `other`. Else the automata take it from the node's pair, and the elements after
    /// it; after each step the pair is looked up in the re-entry table, and the walk
    /// goes back to the literal paths when it is a `**` loop node's (`REENTER`).
    #[inline(never)]
    fn leave<const REENTER: bool>(
        &self,
        p: &P<'_>,
        path: &[u8],
        (mut from, mut end): (usize, usize),
        node: u32,
        found: Option<(u32, u32)>,
        reentries: &mut u32,
    ) -> Leave {
        let (ra, rb) = (p.ra, p.rb);
        let nodes = p.nodes;
        let empty_class = p.d.nlits.wrapping_add(KEY_EMPTY);
        let no_key = p.d.nlits.wrapping_add(KEY_NONE);
        // A node out of range has no record: its pair is BROKEN (fail closed).
        let [mut a, mut b, other, lengths] =
            nodes.get(node as usize).copied().unwrap_or([BROKEN; 4]);
        let elem = path.get(from..end).unwrap_or(&[]);
        let (lit, keyc) = match elem.last() {
            None => (p.d.empty_lit, empty_class),
            Some(&last) => match found {
                Some(x) => x,
                None => (
                    NONE,
                    if lengths & NODE_KEYLESS != 0
                        || p.d
                            .glob_last
                            .get(usize::from(last >> 6))
                            .is_some_and(|w| w >> (last & 63) & 1 == 0)
                    {
                        no_key
                    } else {
                        self.key_class(p, elem)
                    },
                ),
            },
        };
        if lit == NONE && keyc == no_key && other != NONE {
            return Leave::Node(other, end);
        }
        if a != 0 {
            a = ra
                .state(a)
                .map_or(BROKEN, |st| ra.step(a, st, lit, keyc, empty_class));
        }
        if b != 0 {
            b = rb
                .state(b)
                .map_or(BROKEN, |st| rb.step(b, st, lit, keyc, empty_class));
        }
        // The pair last looked up in the re-entry table.
        let mut asked = None;
        loop {
            // At the path's end (or both automata dead) the pair's rows are the answer:
            // no re-entry to look up first (the node would have the same pair).
            if end >= path.len() || (a == 0 && b == 0) {
                return Leave::Done(p.rows(a, b));
            }
            // Looked up once per pair: the same pair after the next steps is no node's.
            if REENTER && asked != Some((a, b)) {
                if let Some(n) = self.reentry(p, nodes, a, b) {
                    *reentries = reentries.wrapping_add(1);
                    return Leave::Node(n, end);
                }
                asked = Some((a, b));
            }
            from = end.wrapping_add(1);
            end = next_slash(path, from);
            let elem = path.get(from..end).unwrap_or(&[]);
            // A state out of range has no record: the walk breaks (fail closed).
            let (sa, sb) = (ra.state(a), rb.state(b));
            let want = (if a != 0 {
                sa.map_or(0, |x| x[FLAGS])
            } else {
                0
            }) | (if b != 0 {
                sb.map_or(0, |x| x[FLAGS])
            } else {
                0
            });
            let (lit, keyc) = if want & (WANT_LIT | WANT_KEY) != 0 || elem.is_empty() {
                self.classify(p, elem, want)
            } else {
                (NONE, NONE)
            };
            if a != 0 {
                a = sa.map_or(BROKEN, |st| ra.step(a, st, lit, keyc, empty_class));
            }
            if b != 0 {
                b = sb.map_or(BROKEN, |st| rb.step(b, st, lit, keyc, empty_class));
            }
        }
    }

    /// The state of `dfa` (one of the two lists) after the elements of `dir` (one
    /// trailing `/` dropped).
    fn after(&self, d: &CompLayout, dfa: &CompDfa, dir: &[u8]) -> u32 {
        let p = &P::of(d);
        let dir = dir.strip_suffix(b"/").unwrap_or(dir);
        let mut s = dfa.start;
        for elem in dir.split(|&c| c == b'/') {
            let (lit, keyc) = self.classify(p, elem, WANT_LIT | WANT_KEY);
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
    pub(crate) fn live(&self, d: &CompLayout, rows: &[FsRow]) -> Live {
        let d = self.lists(d);
        let any = live_states(&d.anywhere, rows);
        Live {
            rooted: live_states(&d.rooted, rows),
            anywhere_start: any.get(d.anywhere.start as usize) == Some(&true),
        }
    }

    /// Whether some path strictly below `dir` may reach an allowing or asking row.
    pub(crate) fn ancestor(&self, d: &CompLayout, live: &Live, dir: &[u8]) -> bool {
        if live.anywhere_start {
            return true;
        }
        let lists = self.lists(d);
        let s = self.after(d, &lists.rooted, dir);
        let mut succ = Vec::new();
        successors(&lists.rooted, s, &mut succ);
        succ.iter()
            .any(|&t| t != 0 && live.rooted.get(t as usize) == Some(&true))
    }

    /// `Engine::fs_not_stricter_below` on the component automata.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn not_stricter_below(
        &self,
        layout: &CompLayout,
        link: &[u8],
        target: &[u8],
        rights: &[FsRight],
        rows: &[FsRow],
        default: Decision,
    ) -> Option<bool> {
        let d = self.lists(layout);
        let (ra, rb) = (&d.rooted, &d.anywhere);
        let start = (
            self.after(layout, ra, link),
            self.after(layout, rb, link),
            self.after(layout, ra, target),
            self.after(layout, rb, target),
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
