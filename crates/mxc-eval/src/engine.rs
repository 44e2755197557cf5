//! The [`Engine`]: a validated table and the decision methods (the hot path).
//!
//! **Must never:** allocate, panic, or take time that grows with the number of rules
//! while deciding. A net or launch decision is one walk of an automaton over the
//! request's bytes (fed piece by piece, never copied into a buffer) and one row lookup;
//! an fs decision walks the path through both fs automata (rooted and `**/` patterns)
//! and combines the two rows with [`combine`](crate::combine). Every index is read with
//! `.get()`; validation makes the `None` case impossible, and if it happened anyway the
//! answer is a fail-closed `deny` naming no rule.
//!
//! Each byte automaton is walked in place, in the layout the file stores and validation
//! checks (`Walker`, a view of a [`mxc_table::Layout`]): per state a 16-byte record
//! (base, default and its base, skip bytes), per slot 12 bytes (check, next and its
//! base), so a step is one small load when it takes the state's own slot (measured
//! faster than the other layouts tried, including a dense table). States that only up
//! to three bytes leave are skipped through by scanning for those bytes. Nothing is
//! built at load but the net automaton's 12 prefix states and its lowercase classes.

use crate::host_jump::Jump;
use mxc_table::encoding::{
    ARG_SEP, HOST_NAME, HOST_V4, HOST_V6, NAME_END, NO_PROGRAM, PROGRAM, PROGRAM_END,
};
use mxc_table::{
    validate, AgentInfo, ByteDfa, Decision, Effect, FsRight, FsRow, Host, Layout, LoadError,
    NetRequest, NetRight, Proto, RuleId, RuleInfo, Table, Target, NONE, SKIP_BASE,
};

/// SPEC §6 on the union of two sets of matching rules, from the decision of each: the
/// stronger effect wins; with equal effects, the rule first in evaluation order. A
/// decision naming no rule (the default) loses to any that names one.
#[inline]
pub fn combine(a: Decision, b: Decision) -> Decision {
    let take_a = match (a.rule, b.rule) {
        (None, _) => false,
        (_, None) => true,
        (Some(ra), Some(rb)) => a.effect > b.effect || (a.effect == b.effect && ra < rb),
    };
    // Field by field: a select of the whole struct compiled to a select of two stack
    // addresses and a load of the winner, which stalled on the stores just made
    // (store-to-load forwarding fails on a load wider than each store; 8% of an fs
    // decision's samples).
    Decision {
        effect: if take_a { a.effect } else { b.effect },
        rule: if take_a { a.rule } else { b.rule },
    }
}

/// The answer when something that validation rules out happens anyway.
/// Paths, programs and arguments that are not valid UTF-8 (or paths holding a NUL)
/// are denied naming no rule:
/// pattern text is UTF-8 and `?` or a class matches one *character*, so a byte string
/// that is not UTF-8 could otherwise slip past a `deny "/s/?*"` that a `*` allow covers.
#[inline]
fn utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

/// A path as the automata read it: UTF-8 without NUL (no real path holds one, and the
/// compiled patterns never match one: a component is any bytes but `/` and NUL).
///
/// One pass for the usual case (ASCII without NUL: the OR of the bytes has no high bit,
/// and no byte is 0), eight bytes at a time (a word holds a zero byte exactly when
/// `(x - 0x01..) & !x & 0x80..` is not zero); `contains` went through `memchr`, which
/// costs more than the whole check on a short path, and the byte loop cost 150
/// instructions on a 70-byte path (callgrind), this one about 50.
#[inline]
fn path_ok(b: &[u8]) -> bool {
    use crate::word::{zero_bytes, HIGH};
    let (mut or, mut nul) = (0u64, 0u64);
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let x = w.first_chunk::<8>().map_or(0, |a| u64::from_le_bytes(*a));
        or |= x;
        nul |= zero_bytes(x);
    }
    if !words.remainder().is_empty() {
        // The last bytes: through the path's last word when it has one (a few bytes
        // are seen twice), else one by one.
        match b.last_chunk::<8>() {
            Some(w) => {
                let x = u64::from_le_bytes(*w);
                or |= x;
                nul |= zero_bytes(x);
            }
            None => {
                for &c in words.remainder() {
                    or |= u64::from(c);
                    nul |= u64::from(c == 0);
                }
            }
        }
    }
    nul == 0 && (or & HIGH == 0 || std::str::from_utf8(b).is_ok())
}

pub(crate) const FAIL_CLOSED: Decision = Decision {
    effect: Effect::Deny,
    rule: None,
};

/// A loaded, validated decision table, ready to answer requests.
///
/// Cheap to share between threads (`Send + Sync`, read-only).
#[derive(Clone, Debug)]
pub struct Engine {
    /// Shared with the walk views of it (`slices`).
    table: std::sync::Arc<Table>,
    /// The slices the decisions read, taken once at load.
    slices: yoke::Yoke<Slices<'static>, std::sync::Arc<Table>>,
    /// The net automaton's states after each request prefix.
    net_prefix: NetPrefix,
    /// The net automaton's class of each byte's ASCII lowercase.
    net_lower: [u8; 256],
    /// The app automaton's start point.
    app_start: At,
    /// Per state of `fs` and `fs_anywhere`: whether an allowing or asking row is
    /// reachable (computed the first time [`Engine::fs_ancestor`] is asked).
    live: std::sync::OnceLock<(Vec<bool>, bool)>,
    /// `fs_anywhere` read forwards, for [`Engine::fs_not_stricter_below`] (built the
    /// first time it is asked; `None` when too large).
    forward_anywhere: std::sync::OnceLock<Option<crate::ancestor::Forward>>,
    /// The per-component fs automata, when the table has them (they then decide fs).
    comp: Option<crate::comp_walk::Walk>,
    /// What [`Engine::fs_ancestor`] asks of `comp` (computed the first time).
    comp_live: std::sync::OnceLock<crate::comp_walk::Live>,
}

/// Not a state: the walk's answer when a lookup that validation guarantees fails.
const BROKEN: u32 = NONE;

/// The slices the decisions read (reading a view of the file's bytes as a slice costs
/// its checks: `mxc_table::words`), taken once at load and held with the table they
/// borrow from: the net and app automata's walk views, and the fs walk's slices of the
/// per-component section when the table has one.
#[derive(Clone, Copy, yoke::Yokeable)]
struct Slices<'a> {
    net: Walker<'a>,
    app: Walker<'a>,
    fs: Option<crate::comp_walk::P<'a>>,
}

impl std::fmt::Debug for Slices<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slices").finish_non_exhaustive()
    }
}

/// The net automaton's state after a request's first three bytes (right, protocol,
/// host tag: 2 × 2 × 3 of them), computed at load.
#[derive(Clone, Copy, Debug)]
struct NetPrefix([At; 12]);

impl NetPrefix {
    fn new(w: Walker<'_>) -> NetPrefix {
        let start = w.at(w.start());
        let mut out = [BROKEN_AT; 12];
        let mut slots = out.iter_mut();
        for right in NetRight::ALL {
            for proto in [Proto::Tcp, Proto::Udp] {
                for tag in [HOST_NAME, HOST_V4, HOST_V6] {
                    if let Some(slot) = slots.next() {
                        *slot = w.walk(start, [right as u8, proto as u8, tag]);
                    }
                }
            }
        }
        NetPrefix(out)
    }

    #[inline(always)]
    fn get(&self, right: NetRight, proto: Proto, host: &Host<'_>) -> At {
        let r: usize = match right {
            NetRight::Connect => 0,
            NetRight::Bind => 6,
        };
        let p = match proto {
            Proto::Tcp => 0,
            Proto::Udp => 3,
        };
        let h = match host {
            Host::Name(_) => 0,
            Host::V4(_) => 1,
            Host::V6(_) => 2,
        };
        // In the order `new` fills them (at most 6 + 3 + 2).
        let i: usize = r.wrapping_add(p).wrapping_add(h);
        self.0.get(i).copied().unwrap_or(BROKEN_AT)
    }
}

/// Where a walk ended.
pub(crate) enum End {
    Row(u32),
    NoMatch,
    Broken,
}

/// A point of a walk: the state and its carried base (with [`SKIP_BASE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    pub(crate) s: u32,
    base: u32,
}

/// Where a broken walk is: a state that owns no slot (so every step misses) and has no
/// record (so the miss stays here).
const BROKEN_AT: At = At { s: BROKEN, base: 0 };

/// A byte automaton walked in place: a view of its validated walk layout
/// ([`Layout`], as the file stores it: 16-byte state records, 12-byte slots holding the
/// target *and the target's carried base*), so a step that takes a slot is one load (the
/// class of the byte comes from a 256-byte table); a step that misses reads the state's
/// record for its default (a second load). States that only up to three bytes leave
/// (flagged by the compiler, checked by validation) are skipped through by scanning for
/// those bytes. State numbers are the [`mxc_table::Dfa`]'s: [`Walker::at`] gives the walk
/// point of any of them.
#[derive(Clone, Copy, Debug, yoke::Yokeable)]
pub(crate) struct Walker<'a> {
    l: Parts<'a>,
}

/// A layout's arrays as slices, taken once per walk (each array is a view of the
/// file's bytes, `mxc_table::words::View`: reading one as a slice checks its place).
#[derive(Clone, Copy, Debug, yoke::Yokeable)]
struct Parts<'a> {
    classes: &'a [u8; 256],
    start: u32,
    states: &'a [mxc_table::StateRec],
    accept: &'a [u32],
    slots: &'a [mxc_table::Slot],
}

impl<'a> Walker<'a> {
    /// The walk view of a byte automaton (validated with its table).
    #[inline(always)]
    pub(crate) fn of(a: &'a ByteDfa) -> Walker<'a> {
        let l: &'a Layout = a.layout();
        Walker {
            l: Parts {
                classes: &l.classes,
                start: l.start,
                states: &l.states,
                accept: &l.accept,
                slots: &l.slots,
            },
        }
    }

    /// The start state.
    #[inline(always)]
    pub(crate) fn start(&self) -> u32 {
        self.l.start
    }

    /// The walk point of state `s`.
    #[inline(always)]
    pub(crate) fn at(&self, s: u32) -> At {
        match self.l.states.get(s as usize) {
            Some(r) => At {
                s,
                base: r.carried(),
            },
            None => BROKEN_AT,
        }
    }

    /// One step on byte `b`: one load when the byte leaves through the state's own slot,
    /// two when it takes the default.
    #[inline(always)]
    fn step(&self, at: At, b: u8) -> At {
        let class = self.l.classes.get(usize::from(b)).copied().unwrap_or(0);
        self.step_class(at, class)
    }

    /// One step on byte `b` lowercased (ASCII): `lower` is [`lower_classes`] of this
    /// automaton.
    #[inline(always)]
    fn step_lower(&self, lower: &[u8; 256], at: At, b: u8) -> At {
        let class = lower.get(usize::from(b)).copied().unwrap_or(0);
        self.step_class(at, class)
    }

    /// One step on a byte of class `class`.
    #[inline(always)]
    fn step_class(&self, at: At, class: u8) -> At {
        let i = ((at.base & !SKIP_BASE) as usize).wrapping_add(usize::from(class));
        match self.l.slots.get(i) {
            Some(slot) if slot.check == at.s => At {
                s: slot.next,
                base: slot.next_base,
            },
            _ => match self.l.states.get(at.s as usize) {
                Some(r) => At {
                    s: r.default,
                    base: r.default_base,
                },
                None => BROKEN_AT,
            },
        }
    }

    /// Walks a byte slice, skipping through states that only a few bytes leave (see
    /// [`mxc_table::StateRec`]). Stops early in the dead state (a skippable state that no
    /// byte leaves).
    #[inline(always)]
    pub(crate) fn walk_slice(&self, mut at: At, bytes: &[u8]) -> At {
        let mut rest = bytes;
        loop {
            // Byte by byte while the state is not one to skip through.
            while at.base & SKIP_BASE == 0 {
                let Some((&b, tail)) = rest.split_first() else {
                    return at;
                };
                rest = tail;
                at = self.step(at, b);
            }
            let Some(rec) = self.l.states.get(at.s as usize) else {
                return BROKEN_AT;
            };
            let [e0, e1, e2, flags] = rec.exits;
            let found = match flags & 3 {
                0 => None,
                1 => rest.iter().position(|&b| b == e0),
                2 => rest.iter().position(|&b| b == e0 || b == e1),
                _ => rest.iter().position(|&b| b == e0 || b == e1 || b == e2),
            };
            let Some((&b, tail)) = found
                .and_then(|i| rest.get(i..))
                .and_then(|r| r.split_first())
            else {
                return at;
            };
            rest = tail;
            at = self.step(at, b);
        }
    }

    /// Walks `bytes` byte by byte (no skipping). Stops early in the dead state.
    #[inline(always)]
    pub(crate) fn walk(&self, mut at: At, bytes: impl IntoIterator<Item = u8>) -> At {
        for b in bytes {
            if at.s == 0 {
                break;
            }
            at = self.step(at, b);
        }
        at
    }

    /// Walks a byte slice from state `s` (see `walk_slice`).
    #[inline(always)]
    pub(crate) fn feed_slice(&self, s: u32, bytes: &[u8]) -> u32 {
        self.walk_slice(self.at(s), bytes).s
    }

    /// Walks `bytes` from state `s`. Stops early in the dead state.
    #[inline(always)]
    fn feed(&self, s: u32, bytes: impl IntoIterator<Item = u8>) -> u32 {
        self.walk(self.at(s), bytes).s
    }

    #[inline(always)]
    pub(crate) fn end(&self, s: u32) -> End {
        match self.l.accept.get(s as usize) {
            None => End::Broken,
            Some(&NONE) => End::NoMatch,
            Some(&row) => End::Row(row),
        }
    }
}

/// The class table of each byte's ASCII lowercase (net host names are decided
/// lowercased, without lowercasing them byte by byte).
fn lower_classes(w: Walker<'_>) -> [u8; 256] {
    let mut lower = [0u8; 256];
    for (b, dst) in (0..=255u8).zip(lower.iter_mut()) {
        *dst =
            w.l.classes
                .get(usize::from(b.to_ascii_lowercase()))
                .copied()
                .unwrap_or(0);
    }
    lower
}

impl Engine {
    /// Loads a `.mxcb` table: checks magic, version and checksum, reads every section
    /// and validates the result as [`Engine::from_table`] does. The bytes are copied
    /// once, into one aligned buffer the engine reads its arrays from;
    /// [`Engine::from_vec`] copies nothing.
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine, LoadError> {
        Engine::from_table(Table::from_bytes(bytes)?)
    }

    /// [`Engine::from_bytes`] of a table the caller owns (a `.mxcb` file read into a
    /// vector): the engine keeps the vector and reads its arrays where they lie (no
    /// copy, when the vector is aligned to 8 bytes as the allocator gives them; else
    /// one copy, as [`Engine::from_bytes`]).
    pub fn from_vec(bytes: Vec<u8>) -> Result<Engine, LoadError> {
        Engine::from_table(Table::from_vec(bytes)?)
    }

    /// Builds an engine from an in-memory table, after checking every invariant the
    /// decision path relies on (listed on [`validate`](mxc_table::validate())).
    pub fn from_table(table: Table) -> Result<Engine, LoadError> {
        validate(&table)?;
        let table = std::sync::Arc::new(table);
        let slices = yoke::Yoke::<Slices<'static>, _>::attach_to_cart(
            std::sync::Arc::clone(&table),
            |t: &Table| Slices {
                net: Walker::of(&t.net),
                app: Walker::of(&t.app),
                fs: t.fs_comp.as_ref().map(crate::comp_walk::P::of),
            },
        );
        let comp = slices.get().fs.as_ref().map(crate::comp_walk::Walk::new);
        let net = Walker::of(&table.net);
        let net_prefix = NetPrefix::new(net);
        let net_lower = lower_classes(net);
        let app = Walker::of(&table.app);
        let app_start = app.at(app.start());
        Ok(Engine {
            slices,
            app_start,
            comp,
            comp_live: std::sync::OnceLock::new(),
            net_prefix,
            net_lower,
            live: std::sync::OnceLock::new(),
            forward_anywhere: std::sync::OnceLock::new(),
            table,
        })
    }

    /// The per-component walk and the data it walks (which stays in the table), when
    /// the table decides fs per component.
    #[inline(always)]
    fn comp(&self) -> Option<(&crate::comp_walk::Walk, &mxc_table::comp::CompLayout)> {
        self.comp.as_ref().zip(self.table.fs_comp.as_ref())
    }

    /// The fs walk of `path` with and without going back to the literal paths after
    /// the automata took an element (format version 7's re-entry table): whether both
    /// reach the same rows, and how many times the first went back. For tests; `None`
    /// without the per-component fs section.
    #[doc(hidden)]
    pub fn fs_reentry_check(&self, path: &[u8]) -> Option<(bool, u32)> {
        let (c, p) = self.comp.as_ref().zip(self.slices.get().fs.as_ref())?;
        let (with, n) = c.walk::<true>(p, path);
        let (without, _) = c.walk::<false>(p, path);
        Some((with == without, n))
    }

    /// The table this engine decides from.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The agent's settings.
    pub fn agent(&self) -> &AgentInfo {
        &self.table.agent
    }

    /// The platform the table was compiled for.
    pub fn target(&self) -> Target {
        self.table.target
    }

    /// The rule with this id, for attribution.
    pub fn rule(&self, id: RuleId) -> Option<&RuleInfo> {
        self.table.rules.get(id.0 as usize)
    }

    fn default_decision(&self) -> Decision {
        Decision {
            effect: self.table.agent.default,
            rule: None,
        }
    }

    fn decide(&self, end: End, rows: &[Decision]) -> Decision {
        match end {
            End::Row(r) => rows.get(r as usize).copied().unwrap_or(FAIL_CLOSED),
            End::NoMatch => self.default_decision(),
            End::Broken => FAIL_CLOSED,
        }
    }

    /// Walks both fs automata over `path`, each stopping early when dead: `fs` from the
    /// start, `fs_anywhere` from the end (see [`Table::fs_anywhere`]).
    #[inline(always)]
    fn fs_ends(&self, path: &[u8]) -> (End, End) {
        if let Some((c, p)) = self.comp.as_ref().zip(self.slices.get().fs.as_ref()) {
            let end = |r: Option<u32>| match r {
                Some(NONE) => End::NoMatch,
                Some(r) => End::Row(r),
                None => End::Broken,
            };
            let (a, b) = c.ends(p, path);
            return (end(a), end(b));
        }
        let (a, b) = (
            Walker::of(&self.table.fs),
            Walker::of(&self.table.fs_anywhere),
        );
        (
            a.end(a.feed_slice(a.start(), path)),
            b.end(b.feed(b.start(), path.iter().rev().copied())),
        )
    }

    /// The decision for one fs right at the end of one fs automaton's walk; `None`
    /// when the walk broke (fail closed).
    #[inline(always)]
    fn fs_decision(&self, end: End, right: FsRight) -> Option<Decision> {
        match end {
            End::Row(r) => self
                .table
                .fs_rows
                .get(r as usize)
                .and_then(|row| row.get(right as usize))
                .copied(),
            End::NoMatch => Some(self.default_decision()),
            End::Broken => None,
        }
    }

    /// The decision for `right` on `path`.
    ///
    /// The path's bytes are matched as they are: callers pass an absolute, lexically
    /// normalised path (see [`normalize_path`](crate::normalize_path)). On a Windows
    /// table, case and `\` versus `/` are folded by the table's byte classes.
    #[inline]
    pub fn fs(&self, path: &[u8], right: FsRight) -> Decision {
        if !path_ok(path) {
            return FAIL_CLOSED;
        }
        let (ea, eb) = self.fs_ends(path);
        match (self.fs_decision(ea, right), self.fs_decision(eb, right)) {
            (Some(a), Some(b)) => combine(a, b),
            _ => FAIL_CLOSED,
        }
    }

    /// The decisions for all four rights on `path`, indexed by [`FsRight`]; one walk
    /// (of each fs automaton).
    #[inline]
    pub fn fs_row(&self, path: &[u8]) -> FsRow {
        if !path_ok(path) {
            return [FAIL_CLOSED; 4];
        }
        let (ea, eb) = self.fs_ends(path);
        let row = |e: End| -> Option<FsRow> {
            match e {
                End::Row(r) => self.table.fs_rows.get(r as usize).copied(),
                End::NoMatch => Some([self.default_decision(); 4]),
                End::Broken => None,
            }
        };
        match (row(ea), row(eb)) {
            (Some(a), Some(b)) => [
                combine(a[0], b[0]),
                combine(a[1], b[1]),
                combine(a[2], b[2]),
                combine(a[3], b[3]),
            ],
            _ => [FAIL_CLOSED; 4],
        }
    }

    /// Whether directory `dir` (absolute, normalised) lies on the way to a path some
    /// `allow` or `ask` rule of the agent can match: SPEC §1 lets its metadata be looked
    /// at and the directory be traversed without `read`. A safe over-approximation (a
    /// `deny` of one fs automaton is not subtracted from the other's `allow`); every
    /// directory is an ancestor when the agent's default is not `deny` or a `**/` rule
    /// allows something. Not on the decision path: the first call computes, per state,
    /// what is reachable.
    pub fn fs_ancestor(&self, dir: &[u8]) -> bool {
        if self.table.agent.default != Effect::Deny {
            return true;
        }
        if !utf8(dir) {
            return false;
        }
        if let Some((c, d)) = self.comp() {
            let live = self
                .comp_live
                .get_or_init(|| c.live(d, &self.table.fs_rows));
            return c.ancestor(d, live, dir);
        }
        // Every `fs_anywhere` pattern begins with `**/`, which matches any directory:
        // if one of its rows allows or asks anything, every directory leads there.
        let (la, any) = self.live.get_or_init(|| {
            (
                crate::ancestor::live_states(&self.table.fs, &self.table.fs_rows),
                crate::ancestor::any_live(&self.table.fs_anywhere, &self.table.fs_rows),
            )
        });
        if *any {
            return true;
        }
        let slash: &[u8] = if dir.ends_with(b"/") { b"" } else { b"/" };
        let a = Walker::of(&self.table.fs);
        let sa = a.feed_slice(a.feed_slice(a.start(), dir), slash);
        la.get(sa as usize).copied().unwrap_or(false)
    }

    /// Whether every place below `link` is decided no more strictly than the same place
    /// below `target`, for each of `rights` (both absolute, normalised): a symbolic link
    /// `link` → `target` makes each name below `target` appear below `link` too, now
    /// and later, without being created there. `None`: the policy is too large to tell
    /// (callers refuse). Not on the decision path.
    pub fn fs_not_stricter_below(
        &self,
        link: &[u8],
        target: &[u8],
        rights: &[FsRight],
    ) -> Option<bool> {
        if !utf8(link) || !utf8(target) {
            return Some(false);
        }
        let t = &self.table;
        if let Some((c, d)) = self.comp() {
            return c.not_stricter_below(
                d,
                link,
                target,
                rights,
                &t.fs_rows,
                self.default_decision(),
            );
        }
        let any = self
            .forward_anywhere
            .get_or_init(|| {
                crate::ancestor::Forward::of_reversed(
                    &t.fs_anywhere,
                    crate::ancestor::MAX_PRODUCT * 16,
                )
            })
            .as_ref()?;
        let start = |p: &[u8]| -> (u32, u32) {
            use crate::ancestor::Walk;
            let slash: &[u8] = if p.ends_with(b"/") { b"" } else { b"/" };
            let (mut a, mut b) = (t.fs.start, any.start);
            for &c in p.iter().chain(slash) {
                a = t.fs.step(a, c);
                b = any.step(b, c);
            }
            (a, b)
        };
        let pair = crate::ancestor::Pair {
            fs: &t.fs,
            any,
            rows: &t.fs_rows,
            default: self.default_decision(),
        };
        pair.not_stricter(start(link), start(target), rights)
    }

    /// The decision for a network request, walking its encoding
    /// ([`encoding`](mxc_table::encoding)) without building it.
    ///
    /// A host name is lowercased (ASCII) and one trailing `.` dropped; an address is
    /// decided as [`Host::canonical`] says (IPv4-mapped as IPv4, unspecified as
    /// loopback in a `connect`). A name containing
    /// a NUL byte cannot be encoded unambiguously: it is denied, naming no rule.
    pub fn net(&self, req: &NetRequest<'_>) -> Decision {
        let w = self.slices.get().net;
        let host = req.host.canonical(req.right);
        // The state after the right, the protocol and the host's tag, computed at load.
        let prefix = || self.net_prefix.get(req.right, req.proto, &host);
        let mut at;
        match host {
            Host::Name(name) => {
                let name = name.as_bytes();
                let name = name.strip_suffix(b".").unwrap_or(name);
                // The policy's literal names are looked up, not walked
                // (`crate::host_jump`): the walk resumes after the name, in the state
                // the compiler computed for it.
                match crate::host_jump::lookup(&self.table.net_hosts, name) {
                    Jump::Nul => return FAIL_CLOSED,
                    Jump::Full(e) => {
                        let c = mxc_table::hosts::combo(req.right as u8, req.proto as u8);
                        let s = e.full.get(c).copied().unwrap_or(BROKEN);
                        return self.net_tail(w.at(s), req);
                    }
                    Jump::Miss => at = prefix(),
                }
                // Reversed, so that `*.example.com` is a prefix (`moc.elpmaxe.`) and
                // suffix patterns never multiply automaton states; lowercased by the
                // byte classes. A NUL would end the name early: it is checked here,
                // alongside the walk (the dead state is walked through, not tested for:
                // names are short).
                let mut nul = false;
                for &b in name.iter().rev() {
                    nul |= b == 0;
                    at = w.step_lower(&self.net_lower, at, b);
                }
                if nul {
                    return FAIL_CLOSED;
                }
                at = w.step(at, NAME_END);
            }
            Host::V4(ip) => {
                at = prefix();
                for b in ip {
                    at = w.step(at, b);
                }
            }
            Host::V6(ip) => {
                at = prefix();
                for b in ip {
                    at = w.step(at, b);
                }
            }
        }
        self.net_tail(at, req)
    }

    /// The rest of a net request's walk after its host: the port, the program.
    #[inline(always)]
    fn net_tail(&self, mut at: At, req: &NetRequest<'_>) -> Decision {
        let w = self.slices.get().net;
        let [p0, p1] = req.port.to_be_bytes();
        at = w.step(w.step(at, p0), p1);
        match req.program {
            None => at = w.step(at, NO_PROGRAM),
            Some(program) => {
                if !path_ok(program) {
                    return FAIL_CLOSED;
                }
                at = w.step(at, PROGRAM);
                at = w.walk_slice(at, program);
            }
        }
        self.decide(w.end(at.s), &self.table.net_rows)
    }

    /// The decision for launching `program` with `args`: the app automaton reads the
    /// program's bytes, [`PROGRAM_END`], then the arguments joined by [`ARG_SEP`]
    /// (see [`encoding`](mxc_table::encoding)), without building that string.
    ///
    /// A program path containing a NUL byte (which no real path does) would blur the
    /// boundary with the arguments: it is denied, naming no rule.
    pub fn launch<A: AsRef<[u8]>>(&self, program: &[u8], args: &[A]) -> Decision {
        if !path_ok(program) {
            return FAIL_CLOSED;
        }
        let w = self.slices.get().app;
        let mut at = w.walk_slice(self.app_start, program);
        at = w.step(at, PROGRAM_END);
        // Each argument is checked as it is walked (one pass over the list); any that is
        // not UTF-8 denies the launch whatever the walk says.
        for (i, arg) in args.iter().enumerate() {
            let arg = arg.as_ref();
            if !utf8(arg) {
                return FAIL_CLOSED;
            }
            if i > 0 {
                at = w.step(at, ARG_SEP);
            }
            at = w.walk_slice(at, arg);
        }
        self.decide(w.end(at.s), &self.table.app_rows)
    }

    /// Whether every program beneath directory `dir` (absolute, normalised), with any
    /// arguments, is allowed: every state the app automaton can reach after `dir/`
    /// decides `allow`. Then a runtime that lets the kernel execute anything beneath
    /// `dir` runs nothing the policy would not. Over-approximates the paths (any bytes),
    /// so `false` may be said of a place that holds only allowed programs. Not on the
    /// decision path.
    pub fn launch_allows_all_beneath(&self, dir: &[u8]) -> bool {
        if dir.contains(&0) || !utf8(dir) {
            return false;
        }
        let dfa = &self.table.app;
        let mut start = dfa.start;
        let slash: &[u8] = if dir.ends_with(b"/") { b"" } else { b"/" };
        for &b in dir.iter().chain(slash) {
            start = dfa.step(start, b);
        }
        // One byte of each class, with `/` and NUL always their own representatives:
        // a program's path never ends in `/` (nor holds `//`), so its end (NUL, then
        // the arguments) never follows a `/`.
        let reps = dfa.class_reps(&[b'/', PROGRAM_END]);
        // (state, the last byte was `/`, the program has ended)
        let n = dfa.default.len();
        let mut visited = vec![[false; 4]; n];
        let mut stack = vec![(start, true, false)];
        while let Some((s, after_slash, ended)) = stack.pop() {
            let k = usize::from(after_slash) | (usize::from(ended) << 1);
            match visited.get_mut(s as usize).and_then(|v| v.get_mut(k)) {
                Some(v) if !*v => *v = true,
                _ => continue,
            }
            if ended
                && self
                    .decide(Walker::of(&self.table.app).end(s), &self.table.app_rows)
                    .effect
                    != Effect::Allow
            {
                return false;
            }
            for &b in &reps {
                if !ended && after_slash && (b == b'/' || b == PROGRAM_END) {
                    continue;
                }
                let next_ended = ended || b == PROGRAM_END;
                stack.push((dfa.step(s, b), !ended && b == b'/', next_ended));
            }
            if !ended && !after_slash {
                // The program may also end here with no arguments.
                let e = dfa.step(s, PROGRAM_END);
                if self
                    .decide(Walker::of(&self.table.app).end(e), &self.table.app_rows)
                    .effect
                    != Effect::Allow
                {
                    return false;
                }
            }
        }
        true
    }

    /// Whether launching `program` may be decided differently for different argument
    /// lists: some argument bytes lead the app automaton to an effect other than the
    /// one another argument list leads to. `false`: the program alone decides, whatever
    /// its arguments (a runtime need not trust the arguments it read to have stayed the
    /// same). Over-approximates (any bytes, not only valid argument lists), and costs
    /// one pass over the states reachable after the program.
    pub fn launch_depends_on_args(&self, program: &[u8]) -> bool {
        if program.contains(&0) || !utf8(program) {
            // Denied whatever the arguments (see `launch`).
            return false;
        }
        let dfa = &self.table.app;
        let mut start = dfa.start;
        for &b in program.iter().chain([&PROGRAM_END]) {
            start = dfa.step(start, b);
        }
        // One byte of each class is enough to follow every transition.
        let reps = dfa.class_reps(&[]);
        let mut visited = vec![false; dfa.default.len()];
        let mut stack = vec![start];
        let mut effect: Option<Effect> = None;
        while let Some(s) = stack.pop() {
            match visited.get_mut(s as usize) {
                Some(v) if !*v => *v = true,
                _ => continue,
            }
            let e = self
                .decide(Walker::of(&self.table.app).end(s), &self.table.app_rows)
                .effect;
            if effect.is_some_and(|x| x != e) {
                return true;
            }
            effect = Some(e);
            for &b in &reps {
                stack.push(dfa.step(s, b));
            }
        }
        false
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    reason = "tests"
)]
mod tests {
    use super::*;
    use mxc_table::{Dfa, SKIP};

    /// The layout passes the byte automaton checks (as part of a table of enough rows).
    fn validate_alone(a: &ByteDfa) {
        let mut t = mxc_table::Table {
            target: Target::Windows,
            agent: mxc_table::AgentInfo {
                name: "t".into(),
                identity: mxc_table::Identity::Current,
                policies: vec![],
                params: vec![],
                source_hash: [0; 32],
                isolation: mxc_table::Isolation::Process,
                default: Effect::Deny,
                audit: mxc_table::AuditLevel::All,
                env_pass: vec![],
                env_deny: vec![],
                memory_bytes: None,
                processes: None,
                timeout_ms: None,
                cpus: None,
                clipboard: None,
                display: None,
            },
            plan: Default::default(),
            rules: Default::default(),
            sections: Default::default(),
            fs_comp: None,
            net_hosts: Default::default(),
        };
        for k in mxc_table::Kind::ALL {
            *t.sections.get_mut(k) = ByteDfa::empty();
        }
        t.sections.app = a.clone();
        t.sections.app_rows = vec![
            Decision {
                effect: Effect::Deny,
                rule: None
            };
            8
        ];
        if let Err(e) = validate(&t) {
            // A walk past validation is what the broken-walk test is about.
            assert!(e.to_string().contains("out of range"), "{e}");
        }
    }

    /// The walk layout agrees with the plain reading of the comb layout.
    #[test]
    fn walker_agrees_with_dfa_step() {
        let classes: Vec<u8> = (0..=255u8).map(|b| b % 5).collect();
        let dense = vec![
            vec![0, 0, 0, 0, 0],
            vec![2, 1, 1, 3, 0],
            vec![2, 2, 0, 0, 4],
            vec![3, 3, 3, 3, 1],
            vec![4, 0, 1, 2, 3],
        ];
        let dfa = Dfa::from_dense(5, classes, 1, &dense, vec![NONE, 0, NONE, 1, 2]);
        let a = ByteDfa::from(dfa.clone());
        validate_alone(&a);
        let w = Walker::of(&a);
        let inputs: [&[u8]; 6] = [
            b"",
            b"\x00",
            b"\x03\x04\x01",
            b"abcdefg",
            b"\x04\x04\x04\x02",
            b"zzzzzzzzzzzzzzz",
        ];
        for input in inputs {
            let at = w.feed(w.start(), input.iter().copied());
            assert_eq!(at, dfa.run(input), "{input:?}");
            assert_eq!(w.feed_slice(w.start(), input), at, "{input:?}");
            // Piecewise feeding is the same walk.
            let mut at2 = w.start();
            for &b in input {
                at2 = w.feed(at2, [b]);
            }
            assert_eq!(at, at2);
        }
    }

    /// A walk that meets an index validation would have refused (here: a transition to
    /// a state that does not exist) ends broken, whatever bytes follow: it never takes
    /// a free slot's target back into the automaton (free slots are owned by no state,
    /// not even the broken walk's).
    #[test]
    fn a_broken_walk_stays_broken() {
        let classes: Vec<u8> = (0..=255u8).map(|b| b % 3).collect();
        // State 1 goes to the nonexistent state 9 on class 2; state 2 accepts.
        let dense = vec![vec![0, 0, 0], vec![1, 2, 9], vec![2, 2, 2]];
        let dfa = Dfa::from_dense(3, classes, 1, &dense, vec![NONE, NONE, 0]);
        assert!(dfa.check.contains(&NONE), "the layout has free slots");
        let a = ByteDfa::from(dfa.clone());
        validate_alone(&a);
        let w = Walker::of(&a);
        for tail in [&b""[..], b"\x00", b"\x01", b"\x00\x01\x02\x00\x01"] {
            let input = [&[2u8][..], tail].concat();
            let at = w.walk_slice(w.at(w.start()), &input);
            assert!(matches!(w.end(at.s), End::Broken), "{input:?}");
            assert!(matches!(
                w.end(w.walk(w.at(w.start()), input.iter().copied()).s),
                End::Broken
            ));
        }
        // The walk that stays valid still reaches its row.
        assert!(matches!(
            w.end(w.feed_slice(w.start(), b"\x01")),
            End::Row(0)
        ));
    }

    /// Skipping through self-looping states walks like stepping byte by byte.
    #[test]
    fn skipping_agrees_with_dfa_step() {
        let classes: Vec<u8> = (0..=255u8)
            .map(|b| match b {
                b'/' => 1,
                b'.' => 2,
                _ => 0,
            })
            .collect();
        let dense = vec![vec![0, 0, 0], vec![1, 2, 3], vec![1, 2, 0], vec![3, 3, 1]];
        let dfa = Dfa::from_dense(3, classes, 1, &dense, vec![NONE, 0, NONE, 1]);
        let a = ByteDfa::from(dfa.clone());
        validate_alone(&a);
        let w = Walker::of(&a);
        assert_eq!(a.layout().states[1].exits[3], SKIP | 2);
        assert_eq!(w.at(1).base & SKIP_BASE, SKIP_BASE);
        assert_eq!(w.at(2).base & SKIP_BASE, 0);
        assert_eq!(a.layout().states[3].exits, [b'.', 0, 0, SKIP | 1]);
        let alphabet = b"/.ax";
        let mut input = Vec::new();
        for len in 0..=6u32 {
            for code in 0..4usize.pow(len) {
                input.clear();
                let mut c = code;
                for _ in 0..len {
                    input.push(alphabet[c % 4]);
                    c /= 4;
                }
                assert_eq!(
                    w.feed_slice(w.start(), &input),
                    dfa.run(&input),
                    "{input:?}"
                );
                assert_eq!(w.feed_slice(3, &input), {
                    let mut s = 3;
                    for &b in &input {
                        s = dfa.step(s, b);
                    }
                    s
                });
            }
        }
    }
}
