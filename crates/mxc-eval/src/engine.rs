//! The [`Engine`]: a validated table and the decision methods (the hot path).
//!
//! **Must never:** allocate, panic, or take time that grows with the number of rules
//! while deciding. Each decision is one walk of an automaton over the request's bytes
//! (fed piece by piece, never copied into a buffer) and one row lookup. Every index is
//! read with `.get()`; validation makes the `None` case impossible, and if it happened
//! anyway the answer is a fail-closed `deny` naming no rule.
//!
//! Each automaton is kept in a layout built for the walk (`Walker`): per state an
//! 8-byte record (base, default), per slot 8 bytes (check, next), so a step is two
//! small loads (measured faster than the other layouts tried, including one with a
//! single dependent load per step and a dense table).

use crate::format::LoadError;
use crate::table::{
    combine, AgentInfo, Decision, Dfa, Effect, FsRight, FsRow, Host, NetRequest, RuleId, RuleInfo,
    Table, Target, NONE,
};
use crate::validate::validate;

/// The answer when something that validation rules out happens anyway.
/// Paths, programs and arguments that are not valid UTF-8 are denied naming no rule:
/// pattern text is UTF-8 and `?` or a class matches one *character*, so a byte string
/// that is not UTF-8 could otherwise slip past a `deny "/s/?*"` that a `*` allow covers.
#[inline]
fn utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

const FAIL_CLOSED: Decision = Decision {
    effect: Effect::Deny,
    rule: None,
};

/// A loaded, validated decision table, ready to answer requests.
///
/// Cheap to share between threads (`Send + Sync`, read-only).
#[derive(Clone, Debug)]
pub struct Engine {
    table: Table,
    fs: Walker,
    fs_anywhere: Walker,
    net: Walker,
    app: Walker,
}

/// Per state: where its transitions start in the slots, and its default transition.
#[derive(Clone, Copy, Debug)]
struct StateRec {
    base: u32,
    default: u32,
}

/// Not a state: the walk's answer when a lookup that validation guarantees fails.
const BROKEN: u32 = NONE;

/// Where a walk ended.
enum End {
    Row(u32),
    NoMatch,
    Broken,
}

/// A [`Dfa`] laid out for walking: one 8-byte record per state and one 8-byte slot
/// (`check << 32 | next`) per transition, so a step is two loads.
#[derive(Clone, Debug)]
struct Walker {
    classes: [u8; 256],
    start: u32,
    states: Vec<StateRec>,
    slots: Vec<u64>,
    accept: Vec<u32>,
}

impl Walker {
    /// Builds the walk layout of a validated automaton.
    fn new(dfa: &Dfa) -> Walker {
        let mut classes = [0u8; 256];
        for (dst, &src) in classes.iter_mut().zip(&dfa.classes) {
            *dst = src;
        }
        Walker {
            classes,
            start: dfa.start,
            states: dfa
                .base
                .iter()
                .zip(&dfa.default)
                .map(|(&base, &default)| StateRec { base, default })
                .collect(),
            slots: dfa
                .next
                .iter()
                .zip(&dfa.check)
                .map(|(&next, &check)| (u64::from(check) << 32) | u64::from(next))
                .collect(),
            accept: dfa.accept.clone(),
        }
    }

    /// Walks `bytes` from state `s`. Stops early in the dead state.
    #[inline(always)]
    fn feed(&self, mut s: u32, bytes: impl IntoIterator<Item = u8>) -> u32 {
        if s == 0 || s == BROKEN {
            return s;
        }
        for b in bytes {
            let class = self.classes.get(usize::from(b)).copied().unwrap_or(0);
            let Some(rec) = self.states.get(s as usize) else {
                return BROKEN;
            };
            let Some(&slot) = self
                .slots
                .get((rec.base as usize).wrapping_add(usize::from(class)))
            else {
                return BROKEN;
            };
            s = if (slot >> 32) as u32 == s {
                slot as u32
            } else {
                rec.default
            };
            if s == 0 {
                break;
            }
        }
        s
    }

    /// One step; total: the dead state steps to itself (validated), and a state that
    /// is not one (only [`BROKEN`]) stays [`BROKEN`].
    #[inline(always)]
    fn step(&self, s: u32, b: u8) -> u32 {
        let class = self.classes.get(usize::from(b)).copied().unwrap_or(0);
        let Some(rec) = self.states.get(s as usize) else {
            return BROKEN;
        };
        let Some(&slot) = self
            .slots
            .get((rec.base as usize).wrapping_add(usize::from(class)))
        else {
            return BROKEN;
        };
        if (slot >> 32) as u32 == s {
            slot as u32
        } else {
            rec.default
        }
    }

    #[inline(always)]
    fn feed_byte(&self, s: u32, b: u8) -> u32 {
        self.feed(s, [b])
    }

    #[inline(always)]
    fn end(&self, s: u32) -> End {
        match self.accept.get(s as usize) {
            None => End::Broken,
            Some(&NONE) => End::NoMatch,
            Some(&row) => End::Row(row),
        }
    }
}

impl Engine {
    /// Loads a `.mxcb` table: checks magic, version and checksum, decodes every section
    /// and validates the result as [`Engine::from_table`] does.
    pub fn from_bytes(bytes: &[u8]) -> Result<Engine, LoadError> {
        Engine::from_table(Table::from_bytes(bytes)?)
    }

    /// Builds an engine from an in-memory table, after checking every invariant the
    /// decision path relies on:
    ///
    /// - each automaton (fs, fs anywhere, net, app): 256 byte classes, each below `nclasses`, `nclasses` in 1..=256;
    ///   at least one state; `base` and `accept` as long as `default`; `check` as long as
    ///   `next`; `start`, every `default` and every `next` below the number of states;
    ///   every `check` a state or [`NONE`]; `base[s] + nclasses - 1 < next.len()`; every
    ///   `accept` [`NONE`] or a row index; state 0 dead (no accept, every transition to 0);
    /// - each row decision: either a rule that exists and has the decision's effect, or no
    ///   rule and the agent's default effect.
    pub fn from_table(table: Table) -> Result<Engine, LoadError> {
        validate(&table)?;
        Ok(Engine {
            fs: Walker::new(&table.fs),
            fs_anywhere: Walker::new(&table.fs_anywhere),
            net: Walker::new(&table.net),
            app: Walker::new(&table.app),
            table,
        })
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

    /// Walks both fs automata over `path` side by side (two independent chains of
    /// loads, which the processor overlaps), stopping when both are dead.
    #[inline(always)]
    fn fs_ends(&self, path: &[u8]) -> (End, End) {
        let (a, b) = (&self.fs, &self.fs_anywhere);
        let (mut sa, mut sb) = (a.start, b.start);
        for &byte in path {
            if sa | sb == 0 {
                break;
            }
            sa = a.step(sa, byte);
            sb = b.step(sb, byte);
        }
        (a.end(sa), b.end(sb))
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
        if !utf8(path) {
            return FAIL_CLOSED;
        }
        let (ea, eb) = self.fs_ends(path);
        match (self.fs_decision(ea, right), self.fs_decision(eb, right)) {
            (Some(a), Some(b)) => combine(a, b),
            _ => FAIL_CLOSED,
        }
    }

    /// The decisions for all four rights on `path`, indexed by [`FsRight`]; one walk.
    #[inline]
    pub fn fs_row(&self, path: &[u8]) -> FsRow {
        if !utf8(path) {
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

    /// The decision for a network request, walking the encoding documented on
    /// [`NetRequest`] without building it.
    ///
    /// A host name is lowercased (ASCII) and one trailing `.` dropped. A name containing
    /// a NUL byte cannot be encoded unambiguously: it is denied, naming no rule.
    pub fn net(&self, req: &NetRequest<'_>) -> Decision {
        let w = &self.net;
        let mut at = w.feed(w.start, [req.right as u8, req.proto as u8]);
        match req.host {
            Host::Name(name) => {
                let name = name.as_bytes();
                if name.contains(&0) {
                    return FAIL_CLOSED;
                }
                let name = name.strip_suffix(b".").unwrap_or(name);
                at = w.feed_byte(at, 0x01);
                // Reversed, so that `*.example.com` is a prefix (`moc.elpmaxe.`) and
                // suffix patterns never multiply automaton states.
                at = w.feed(at, name.iter().rev().map(u8::to_ascii_lowercase));
                at = w.feed_byte(at, 0x00);
            }
            Host::V4(ip) => {
                at = w.feed_byte(at, 0x04);
                at = w.feed(at, ip);
            }
            Host::V6(ip) => {
                at = w.feed_byte(at, 0x06);
                at = w.feed(at, ip);
            }
        }
        at = w.feed(at, req.port.to_be_bytes());
        match req.program {
            None => at = w.feed_byte(at, 0x00),
            Some(program) => {
                if !utf8(program) {
                    return FAIL_CLOSED;
                }
                at = w.feed_byte(at, 0x01);
                at = w.feed(at, program.iter().copied());
            }
        }
        self.decide(w.end(at), &self.table.net_rows)
    }

    /// The decision for launching `program` with `args`: the app automaton reads the
    /// program's bytes, a `0x00`, then the arguments joined by single spaces (`0x20`),
    /// without building that string.
    ///
    /// A program path containing a NUL byte (which no real path does) would blur the
    /// boundary with the arguments: it is denied, naming no rule.
    pub fn launch<A: AsRef<[u8]>>(&self, program: &[u8], args: &[A]) -> Decision {
        if program.contains(&0) || !utf8(program) || !args.iter().all(|a| utf8(a.as_ref())) {
            return FAIL_CLOSED;
        }
        let w = &self.app;
        let mut at = w.feed(w.start, program.iter().copied());
        at = w.feed_byte(at, 0x00);
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                at = w.feed_byte(at, b' ');
            }
            at = w.feed(at, arg.as_ref().iter().copied());
        }
        self.decide(w.end(at), &self.table.app_rows)
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
        let w = Walker::new(&dfa);
        let inputs: [&[u8]; 6] = [
            b"",
            b"\x00",
            b"\x03\x04\x01",
            b"abcdefg",
            b"\x04\x04\x04\x02",
            b"zzzzzzzzzzzzzzz",
        ];
        for input in inputs {
            let at = w.feed(w.start, input.iter().copied());
            assert_eq!(at, dfa.run(input), "{input:?}");
            // Piecewise feeding is the same walk.
            let mut at2 = w.start;
            for &b in input {
                at2 = w.feed_byte(at2, b);
            }
            assert_eq!(at, at2);
        }
    }
}
