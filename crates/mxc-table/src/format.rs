//! The `.mxcb` binary format: [`Table::to_bytes`] writes it, [`Table::from_bytes`] reads
//! it back and [`validate`](crate::validate()) then checks it (`mxc_eval::Engine::from_bytes`
//! does both).
//!
//! Layout, all integers little-endian:
//!
//! ```text
//! header (28 bytes)
//!   magic        8 bytes   b"MXCB\r\n\x1a\n"
//!   version      u32       FORMAT_VERSION (7)
//!   target       u32       1 linux, 2 windows (repeated in the agent info section)
//!   crc32        u32       CRC-32 (IEEE) of the payload
//!   payload_len  u64       bytes after the header; the file ends exactly there
//! payload
//!   count        u32       number of sections (13)
//!   directory    count × { kind u32, offset u64, length u64 }   offsets from payload start
//!   sections     in kind order, each at the first byte after the previous one (the
//!                first: after the directory) that is a multiple of 8 in the file,
//!                the bytes between them zeros:
//!     1 agent info  2 strings  3 rules  4 fs dfa  5 fs rows  6 net dfa  7 net rows
//!     8 app dfa  9 app rows  10 fs anywhere dfa  11 plan
//!     12 fs components  13 net hosts
//! ```
//!
//! Version 2 added section 10 (the `**/...` fs patterns, see [`Table::fs_anywhere`]);
//! version 3 reads `fs_anywhere` backwards; version 4 types the agent's identity, adds
//! its policies, parameters and source hash, the plan (section 11) and fs decided per
//! path component (section 12, see `comp.rs`: when present, sections 4 and 10 are
//! the empty automaton); version 5 stores section 12 as the walk reads it (literal and
//! exception hash tables built by the compiler, validated in place at load: see
//! `comp::CompLayout`); version 6 stores every byte automaton (sections 4, 6, 8, 10
//! and the globs of section 12) as its walk layout ([`Layout`]: records and slots
//! written by the compiler, validated in place at load, walked as they are), adds to
//! section 12 the literal paths (a trie of literal elements to the pair of states
//! after them) and adds section 13, the net host jump table (see `hosts.rs`); version 7
//! places every section at a multiple of 8 bytes in the file and writes section 12's
//! tag as a `u32`, so that every array is read where it lies (views of the file's
//! bytes, see [`crate::words`]: no copy per section), and adds to section 12 the
//! re-entry table (the literal paths' `**` loop nodes keyed by their pair of states:
//! the walk goes back to the graph after an element the automata took). A table of
//! another version is refused ([`LoadError::Version`]): recompile it from its source.
//!
//! Sections:
//! - strings: `count u32`, then `count × end u32` (each string's end in the text, in
//!   order), then the text (UTF-8, every end on a character boundary, the last its
//!   end): checked once at load, nothing built per string. Other sections refer to
//!   strings by index.
//! - agent info: `target u32`, `name str`, `identity`, `isolation u8`, `default u8`,
//!   `audit u8`, `env_pass list`, `env_deny list` (`count u32, count × str`), then
//!   `memory_bytes`, `processes`, `timeout_ms`, `cpus` each as `tag u8` (0 none, 1 some)
//!   and, when some, a `u64`; then `clipboard`, `display` each as a `u8` effect or 0xFF;
//!   then `policies list`, `params` (`count u32, count × { name str, value str }`),
//!   `source_hash` (32 bytes). An identity is `tag u8` and its fields: 0 current,
//!   1 local user (`str`), 2 local uid (`u32`), 3 entra (`tenant str, client str`),
//!   4 oidc (`issuer str, subject str, audience str`).
//! - rules: `count u32`, then `count × { policy str, file str, line u32, column u32,
//!   effect u8, reason str or NONE }`.
//! - dfa (a byte automaton's walk layout, [`Layout`]): `nclasses u32`, `start u32`,
//!   `nstates u32`, `nslots u32`, the 256 class bytes, then `nstates` records
//!   `{ base u32, default u32, default_base u32, exits [u8; 4] }`, `nstates` accepts
//!   (`u32` row or NONE), and `nslots` slots `{ check u32 (FREE: none), next u32,
//!   next_base u32 }` (see [`crate::StateRec`], [`crate::Slot`]). State numbers are the
//!   [`Dfa`]'s it was packed from; the carried bases and skip bytes are computed by the
//!   compiler ([`Layout::of_dfa`]) and checked by validation, so loading copies each
//!   array once and computes nothing. The [`Dfa`] form is decoded from it only when
//!   asked for ([`crate::ByteDfa`]).
//! - fs rows: `count u32`, then `count × 4 × decision`; net and app rows: `count u32`,
//!   then `count × decision`; a decision is `effect u8, rule u32 or NONE`.
//! - plan: `fs grants`, `fs_exact u8` (0 or 1), `exec grants`, `tcp_connect ports`,
//!   `tcp_bind ports`; grants are `count u32, count × { path str, rights u8 (the bits of
//!   FsRights / AppRights), flags u8 (1 exact, 2 subtree) }`; ports are `tag u8` (0
//!   none: any port, 1 some) and, when some, `count u32, count × { lo u16, hi u16 }`.
//!
//! Reading never rebuilds an automaton: arrays are decoded as they are. Reading must
//! never panic nor allocate more than the input can justify (every count is checked
//! against the bytes left before anything is reserved).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::plan::{Grant, Plan, PortRange};
use crate::rights::{AppRights, FsRights};
use crate::table::{
    AgentInfo, AuditLevel, Automata, ByteDfa, Decision, Dfa, Effect, Identity, Isolation, Kind,
    Layout, RowSet, RuleId, RuleInfo, Rules, Sections, Table, TablePlan, Target, NONE,
};
use crate::words::{FileBytes, View};

/// The first eight bytes of every table (PNG-style: catches text-mode mangling).
pub const MAGIC: [u8; 8] = *b"MXCB\r\n\x1a\n";
/// The table format version this engine writes and reads.
pub const FORMAT_VERSION: u32 = 7;

const HEADER_LEN: usize = 28;
const DIR_ENTRY_LEN: usize = 20;

/// Section names, in kind order (kind = index + 1).
const SECTIONS: [&str; 13] = [
    "agent info",
    "strings",
    "rules",
    Kind::Fs.name(),
    RowSet::Fs.name(),
    Kind::Net.name(),
    RowSet::Net.name(),
    Kind::App.name(),
    RowSet::App.name(),
    Kind::FsAnywhere.name(),
    "plan",
    crate::comp::SECTION,
    crate::hosts::SECTION,
];
const AGENT: u32 = 1;
const STRINGS: u32 = 2;
const RULES: u32 = 3;
const PLAN: u32 = 11;
const FS_COMP: u32 = 12;
const NET_HOSTS: u32 = 13;

/// Every automaton and row set is where [`Kind::section`] and [`RowSet::section`] say,
/// under the name they give (checked at compile time: a wrong index fails the build).
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "compile-time check"
)]
const _: () = {
    let mut i = 0;
    while i < Kind::ALL.len() {
        let k = Kind::ALL[i];
        assert!(same(SECTIONS[k.section() as usize - 1], k.name()));
        i += 1;
    }
    let mut i = 0;
    while i < RowSet::ALL.len() {
        let r = RowSet::ALL[i];
        assert!(same(SECTIONS[r.section() as usize - 1], r.name()));
        i += 1;
    }
};

#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "compile-time check"
)]
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Why a table could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The input does not start with [`MAGIC`].
    BadMagic,
    /// The table was written in another format version.
    Version { found: u32, supported: u32 },
    /// The input is shorter than the header.
    TruncatedHeader { len: usize },
    /// The header declares more payload than the input holds.
    Truncated { declared: u64, available: u64 },
    /// Bytes follow the declared payload.
    TrailingBytes { extra: u64 },
    /// The payload's CRC-32 differs from the one in the header.
    ChecksumMismatch { stored: u32, computed: u32 },
    /// The target is neither linux (1) nor windows (2).
    UnknownTarget(u32),
    /// A section extends past the end of the payload.
    SectionOutOfBounds {
        section: &'static str,
        end: u64,
        payload: u64,
    },
    /// A section (or the directory) cannot be decoded.
    Malformed {
        section: &'static str,
        problem: String,
    },
    /// The table decodes but breaks an invariant the engine relies on.
    Invalid {
        section: &'static str,
        problem: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::BadMagic => write!(f, "not an MXC table (bad magic)"),
            LoadError::Version { found, supported } => write!(
                f,
                "table format version {found}, but this engine reads version {supported} \
                 only: recompile the table from its policy source (`mxcc compile`) with \
                 this version of mxcc"
            ),
            LoadError::TruncatedHeader { len } => write!(
                f,
                "truncated table: {len} bytes, shorter than the {HEADER_LEN}-byte header"
            ),
            LoadError::Truncated {
                declared,
                available,
            } => write!(
                f,
                "truncated table: the header declares {declared} payload bytes but only \
                 {available} follow"
            ),
            LoadError::TrailingBytes { extra } => {
                write!(
                    f,
                    "trailing garbage: {extra} bytes after the end of the table"
                )
            }
            LoadError::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: the table is corrupted (stored {stored:08x}, computed \
                 {computed:08x})"
            ),
            LoadError::UnknownTarget(t) => write!(
                f,
                "unknown target {t} (expected 1 for linux or 2 for windows)"
            ),
            LoadError::SectionOutOfBounds {
                section,
                end,
                payload,
            } => write!(
                f,
                "truncated table: section `{section}` ends at byte {end}, past the end of \
                 the {payload}-byte payload"
            ),
            LoadError::Malformed { section, problem } => {
                write!(f, "malformed section `{section}`: {problem}")
            }
            LoadError::Invalid { section, problem } => {
                write!(f, "invalid table: `{section}`: {problem}")
            }
        }
    }
}

impl std::error::Error for LoadError {}

pub(crate) fn malformed(section: &'static str, problem: impl Into<String>) -> LoadError {
    LoadError::Malformed {
        section,
        problem: problem.into(),
    }
}

// ---------------------------------------------------------------------------------------
// Writing

fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_len(out: &mut Vec<u8>, n: usize) {
    // A table with more than 4 billion entries in one array cannot be written; saturate
    // so that reading it back fails cleanly instead of mis-framing.
    put_u32(out, u32::try_from(n).unwrap_or(u32::MAX));
}
pub(crate) fn put_u32s(out: &mut Vec<u8>, vs: &[u32]) {
    out.reserve(vs.len().saturating_mul(4));
    for &v in vs {
        put_u32(out, v);
    }
}
fn put_decision(out: &mut Vec<u8>, d: &Decision) {
    put_u8(out, d.effect as u8);
    put_u32(out, d.rule.map_or(NONE, |r| r.0));
}
fn put_opt_u64(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        None => put_u8(out, 0),
        Some(v) => {
            put_u8(out, 1);
            put_u64(out, v);
        }
    }
}
fn put_opt_effect(out: &mut Vec<u8>, v: Option<Effect>) {
    put_u8(out, v.map_or(0xFF, |e| e as u8));
}

/// Interns strings for the strings section.
#[derive(Default)]
struct Strings<'a> {
    list: Vec<&'a str>,
    index: HashMap<&'a str, u32>,
}

impl<'a> Strings<'a> {
    fn id(&mut self, s: &'a str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.list.len()).unwrap_or(NONE);
        self.list.push(s);
        self.index.insert(s, i);
        i
    }
}

/// Writes a [`Dfa`] as its walk layout (a [`Dfa`] whose arrays do not fit together is
/// written as a layout validation refuses).
pub(crate) fn write_dfa(out: &mut Vec<u8>, dfa: &Dfa) {
    match Layout::of_dfa(dfa) {
        Ok(l) => write_layout(out, &l),
        Err(_) => write_layout(out, &Layout::refused()),
    }
}

/// Bytes of a byte automaton's header: `nclasses`, `start`, `nstates`, `nslots`, then
/// the 256 class bytes.
const LAYOUT_HEADER: usize = 16 + 256;
/// Bytes of a state record ([`StateRec`]) and of its accept entry.
const STATE_LEN: usize = 16 + 4;
/// Bytes of a slot ([`Slot`]).
const SLOT_LEN: usize = 12;

/// Writes a byte automaton's walk layout (see the module documentation).
pub(crate) fn write_layout(out: &mut Vec<u8>, l: &Layout) {
    out.reserve(
        LAYOUT_HEADER
            .saturating_add(l.states.len().saturating_mul(STATE_LEN))
            .saturating_add(l.slots.len().saturating_mul(SLOT_LEN)),
    );
    put_u32(out, l.nclasses);
    put_u32(out, l.start);
    put_len(out, l.states.len());
    put_len(out, l.slots.len());
    out.extend_from_slice(&l.classes);
    for r in &l.states {
        put_u32(out, r.base);
        put_u32(out, r.default);
        put_u32(out, r.default_base);
        out.extend_from_slice(&r.exits);
    }
    // One accept per state, always as many as the records (the reader needs them).
    for i in 0..l.states.len() {
        put_u32(out, l.accept.get(i).copied().unwrap_or(NONE));
    }
    for x in &l.slots {
        put_u32(out, x.check);
        put_u32(out, x.next);
        put_u32(out, x.next_base);
    }
}

/// Reads a byte automaton's walk layout from the start of `buf`: one copy of each array
/// (the records, the accepts, the slots), nothing else computed. Returns it and the
/// bytes it took. Validation checks it in place.
pub(crate) fn read_layout_prefix(
    buf: &[u8],
    section: &'static str,
    file: &Arc<FileBytes>,
) -> Result<(Layout, usize), LoadError> {
    let mut r = Reader::new(buf, section);
    let nclasses = r.u32()?;
    let start = r.u32()?;
    let nstates = r.count(STATE_LEN, "states")?;
    let nslots = r.u32()? as usize;
    let classes: [u8; 256] = r.array()?;
    let recs = r.take(nstates.saturating_mul(16))?;
    let acc = r.take(nstates.saturating_mul(4))?;
    if nslots
        .checked_mul(SLOT_LEN)
        .is_none_or(|n| n > r.rest().len())
    {
        return Err(malformed(
            section,
            format!(
                "{nslots} slots of {SLOT_LEN} bytes each do not fit in the {} bytes left",
                r.rest().len()
            ),
        ));
    }
    let sl = r.take(nslots.saturating_mul(SLOT_LEN))?;
    let used = buf.len().saturating_sub(r.rest().len());
    Ok((
        Layout {
            classes,
            nclasses,
            start,
            states: View::of(file, recs),
            accept: View::of(file, acc),
            slots: View::of(file, sl),
        },
        used,
    ))
}

/// Reads a byte automaton's section (its layout and nothing after it).
pub(crate) fn read_dfa(
    buf: &[u8],
    section: &'static str,
    file: &Arc<FileBytes>,
) -> Result<ByteDfa, LoadError> {
    let (layout, used) = read_layout_prefix(buf, section, file)?;
    if used != buf.len() {
        return Err(malformed(
            section,
            format!(
                "{} unexpected bytes at the end",
                buf.len().saturating_sub(used)
            ),
        ));
    }
    Ok(ByteDfa::from_layout(layout))
}

impl Table {
    /// Serialises the table in the `.mxcb` format (see the module documentation of
    /// `format`). [`Table::from_bytes`] gives back an equal table; loading the result
    /// with [`Engine::from_bytes`](crate::Engine::from_bytes) succeeds exactly when
    /// [`Engine::from_table`](crate::Engine::from_table) on this table does (tables with
    /// an array of more than `u32::MAX` entries aside: they cannot be written).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut strings = Strings::default();
        let a = &self.agent;

        let mut agent = Vec::new();
        put_u32(&mut agent, self.target as u32);
        put_u32(&mut agent, strings.id(&a.name));
        match &a.identity {
            Identity::Current => put_u8(&mut agent, 0),
            Identity::LocalUser(u) => {
                put_u8(&mut agent, 1);
                put_u32(&mut agent, strings.id(u));
            }
            Identity::LocalUid(u) => {
                put_u8(&mut agent, 2);
                put_u32(&mut agent, *u);
            }
            Identity::Entra { tenant, client } => {
                put_u8(&mut agent, 3);
                put_u32(&mut agent, strings.id(tenant));
                put_u32(&mut agent, strings.id(client));
            }
            Identity::Oidc {
                issuer,
                subject,
                audience,
            } => {
                put_u8(&mut agent, 4);
                put_u32(&mut agent, strings.id(issuer));
                put_u32(&mut agent, strings.id(subject));
                put_u32(&mut agent, strings.id(audience));
            }
        }
        put_u8(&mut agent, a.isolation as u8);
        put_u8(&mut agent, a.default as u8);
        put_u8(&mut agent, a.audit as u8);
        for list in [&a.env_pass, &a.env_deny] {
            put_len(&mut agent, list.len());
            for s in list {
                put_u32(&mut agent, strings.id(s));
            }
        }
        for v in [a.memory_bytes, a.processes, a.timeout_ms, a.cpus] {
            put_opt_u64(&mut agent, v);
        }
        put_opt_effect(&mut agent, a.clipboard);
        put_opt_effect(&mut agent, a.display);
        put_len(&mut agent, a.policies.len());
        for s in &a.policies {
            put_u32(&mut agent, strings.id(s));
        }
        put_len(&mut agent, a.params.len());
        for (k, v) in &a.params {
            put_u32(&mut agent, strings.id(k));
            put_u32(&mut agent, strings.id(v));
        }
        agent.extend_from_slice(&a.source_hash);

        let mut plan = Vec::new();
        let p = &self.plan;
        fn grants<'a, R: Copy>(
            out: &mut Vec<u8>,
            strings: &mut Strings<'a>,
            list: &'a [Grant<R>],
            bits: impl Fn(R) -> u8,
        ) {
            put_len(out, list.len());
            for g in list {
                put_u32(out, strings.id(&g.path));
                put_u8(out, bits(g.rights));
                put_u8(out, u8::from(g.exact) | (u8::from(g.subtree) << 1));
            }
        }
        grants(&mut plan, &mut strings, &p.fs, FsRights::bits);
        put_u8(&mut plan, u8::from(p.fs_exact));
        grants(&mut plan, &mut strings, &p.exec, AppRights::bits);
        for ports in [&p.tcp_connect, &p.tcp_bind] {
            match ports {
                None => put_u8(&mut plan, 0),
                Some(v) => {
                    put_u8(&mut plan, 1);
                    put_len(&mut plan, v.len());
                    for &(lo, hi) in v {
                        plan.extend_from_slice(&lo.to_le_bytes());
                        plan.extend_from_slice(&hi.to_le_bytes());
                    }
                }
            }
        }

        let mut rules = Vec::new();
        put_len(&mut rules, self.rules.len());
        for r in &self.rules {
            put_u32(&mut rules, strings.id(&r.policy));
            put_u32(&mut rules, strings.id(&r.file));
            put_u32(&mut rules, r.line);
            put_u32(&mut rules, r.column);
            put_u8(&mut rules, r.effect as u8);
            let reason = r.reason.as_deref().map_or(NONE, |s| strings.id(s));
            put_u32(&mut rules, reason);
        }

        let mut strs = Vec::new();
        put_len(&mut strs, strings.list.len());
        let mut end = 0usize;
        for s in &strings.list {
            end = end.saturating_add(s.len());
            put_len(&mut strs, end);
        }
        for s in &strings.list {
            strs.extend_from_slice(s.as_bytes());
        }

        let mut sections: [Vec<u8>; 13] = Default::default();
        let put = |sections: &mut [Vec<u8>; 13], kind: u32, bytes: Vec<u8>| {
            if let Some(s) = sections.get_mut((kind as usize).wrapping_sub(1)) {
                *s = bytes;
            }
        };
        for (k, dfa) in self.iter() {
            let mut out = Vec::new();
            write_layout(&mut out, dfa.layout());
            put(&mut sections, k.section(), out);
        }
        for r in RowSet::ALL {
            let mut out = Vec::new();
            let n = self.nrows(r);
            put_len(&mut out, n);
            for row in 0..n {
                for i in 0..r.width() {
                    if let Some(d) = self.decision(r, row, i) {
                        put_decision(&mut out, &d);
                    }
                }
            }
            put(&mut sections, r.section(), out);
        }
        let mut fs_comp = Vec::new();
        crate::comp::write_section(&mut fs_comp, self.fs_comp.as_ref());
        let mut net_hosts = Vec::new();
        crate::hosts::write_section(&mut net_hosts, &self.net_hosts);
        for (kind, bytes) in [
            (AGENT, agent),
            (STRINGS, strs),
            (RULES, rules),
            (PLAN, plan),
            (FS_COMP, fs_comp),
            (NET_HOSTS, net_hosts),
        ] {
            put(&mut sections, kind, bytes);
        }

        let dir_len = DIR_ENTRY_LEN
            .saturating_mul(sections.len())
            .saturating_add(4);
        let mut offsets = [0u64; 13];
        let mut end = dir_len as u64;
        for (s, o) in sections.iter().zip(&mut offsets) {
            *o = aligned(end);
            end = o.saturating_add(s.len() as u64);
        }
        let mut payload = Vec::with_capacity(usize::try_from(end).unwrap_or(0));
        put_len(&mut payload, sections.len());
        for ((kind, s), o) in (1u32..).zip(&sections).zip(offsets) {
            put_u32(&mut payload, kind);
            put_u64(&mut payload, o);
            put_u64(&mut payload, s.len() as u64);
        }
        for (s, o) in sections.iter().zip(offsets) {
            payload.resize(usize::try_from(o).unwrap_or(usize::MAX), 0);
            payload.extend_from_slice(s);
        }

        let mut out = Vec::with_capacity(HEADER_LEN.saturating_add(payload.len()));
        out.extend_from_slice(&MAGIC);
        put_u32(&mut out, FORMAT_VERSION);
        put_u32(&mut out, self.target as u32);
        put_u32(&mut out, crc32fast::hash(&payload));
        put_u64(&mut out, payload.len() as u64);
        out.extend_from_slice(&payload);
        out
    }

    /// Decodes a `.mxcb` table: header, checksum, section directory and every section.
    ///
    /// This checks the framing only (a decoded table may still break an invariant);
    /// [`Engine::from_bytes`](crate::Engine::from_bytes) decodes *and* validates, and is
    /// what a runtime should call.
    pub fn from_bytes(bytes: &[u8]) -> Result<Table, LoadError> {
        decode(&Arc::new(FileBytes::copied(bytes)))
    }

    /// [`Table::from_bytes`] of a table the caller owns (a file read into a vector):
    /// when the vector is aligned to 8 bytes (as the allocator gives them), its arrays
    /// are read where they lie and nothing is copied; otherwise it is copied once, as by
    /// [`Table::from_bytes`].
    pub fn from_vec(bytes: Vec<u8>) -> Result<Table, LoadError> {
        decode(&Arc::new(FileBytes::owned(bytes)))
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// A cursor over one section's bytes; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    section: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], section: &'static str) -> Self {
        Reader { buf, section }
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    fn early_end(&self, needed: usize) -> LoadError {
        malformed(
            self.section,
            format!(
                "ends early: {needed} more bytes needed, {} left",
                self.buf.len()
            ),
        )
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        match self.buf.split_at_checked(n) {
            Some((head, rest)) => {
                self.buf = rest;
                Ok(head)
            }
            None => Err(self.early_end(n)),
        }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        match self.buf.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.buf = rest;
                Ok(*head)
            }
            None => Err(self.early_end(N)),
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, LoadError> {
        Ok(u8::from_le_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, LoadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, LoadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count of items of `item_len` bytes each, checked against the bytes left so that
    /// a hostile count cannot make us reserve memory the input does not back.
    pub(crate) fn count(&mut self, item_len: usize, what: &str) -> Result<usize, LoadError> {
        let n = self.u32()? as usize;
        if n.checked_mul(item_len)
            .is_none_or(|need| need > self.buf.len())
        {
            return Err(malformed(
                self.section,
                format!(
                    "{n} {what} of {item_len} bytes each do not fit in the {} bytes left",
                    self.buf.len()
                ),
            ));
        }
        Ok(n)
    }

    fn effect(&mut self) -> Result<Effect, LoadError> {
        let b = self.u8()?;
        Effect::from_u8(b).ok_or_else(|| malformed(self.section, format!("bad effect byte {b}")))
    }

    pub(crate) fn finish(self) -> Result<(), LoadError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(malformed(
                self.section,
                format!("{} unexpected bytes at the end", self.buf.len()),
            ))
        }
    }
}

/// The string table, for resolving string ids in other sections: the text of every
/// string (checked as UTF-8 once) and where each ends (checked at load: in order, inside
/// the text, each on a character boundary), so nothing is built per string.
struct StringTable<'a> {
    /// `count` little-endian `u32`s: the end of each string in `text`.
    ends: &'a [u8],
    text: &'a str,
}

impl<'a> StringTable<'a> {
    /// Number of strings.
    fn len(&self) -> usize {
        self.ends.len() / 4
    }

    fn end(&self, i: usize) -> Option<usize> {
        let at = i.checked_mul(4)?;
        let w = self.ends.get(at..)?.first_chunk::<4>()?;
        Some(u32::from_le_bytes(*w) as usize)
    }

    /// String `id`, if there is one.
    fn str(&self, id: u32) -> Option<&'a str> {
        let i = id as usize;
        let lo = match i.checked_sub(1) {
            None => 0,
            Some(p) => self.end(p)?,
        };
        self.text.get(lo..self.end(i)?)
    }

    fn missing(&self, r: &Reader<'_>, what: &str, id: u32) -> LoadError {
        malformed(
            r.section,
            format!("{what} refers to string {id}, but there are {}", self.len()),
        )
    }

    fn get(&self, r: &mut Reader<'_>, what: &str) -> Result<String, LoadError> {
        let id = r.u32()?;
        self.str(id)
            .map(str::to_owned)
            .ok_or_else(|| self.missing(r, what, id))
    }

    fn opt(&self, r: &mut Reader<'_>, what: &str) -> Result<Option<String>, LoadError> {
        let id = r.u32()?;
        if id == NONE {
            return Ok(None);
        }
        self.str(id)
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| self.missing(r, what, id))
    }
}

fn decode(file: &Arc<FileBytes>) -> Result<Table, LoadError> {
    let bytes = file.bytes();
    let Some((magic, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(if MAGIC.starts_with(bytes) {
            LoadError::TruncatedHeader { len: bytes.len() }
        } else {
            LoadError::BadMagic
        });
    };
    if *magic != MAGIC {
        return Err(LoadError::BadMagic);
    }
    let truncated = LoadError::TruncatedHeader { len: bytes.len() };
    let Some((version, rest)) = rest.split_first_chunk::<4>() else {
        return Err(truncated);
    };
    let version = u32::from_le_bytes(*version);
    if version != FORMAT_VERSION {
        return Err(LoadError::Version {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let mut header = Reader::new(rest, "header");
    let (Ok(target), Ok(crc), Ok(payload_len)) = (header.u32(), header.u32(), header.u64()) else {
        return Err(truncated);
    };
    let target = target_from_u32(target)?;
    let payload = header.buf;
    let available = payload.len() as u64;
    if payload_len > available {
        return Err(LoadError::Truncated {
            declared: payload_len,
            available,
        });
    }
    if payload_len < available {
        return Err(LoadError::TrailingBytes {
            extra: available.saturating_sub(payload_len),
        });
    }
    let computed = crc32fast::hash(payload);
    if computed != crc {
        return Err(LoadError::ChecksumMismatch {
            stored: crc,
            computed,
        });
    }

    let sections = split_sections(payload)?;
    let section = |kind: u32| -> &[u8] {
        sections
            .get((kind as usize).wrapping_sub(1))
            .copied()
            .unwrap_or(&[])
    };

    let strings = read_strings(section(STRINGS))?;
    let agent = read_agent(section(AGENT), &strings, target)?;
    let rules_s = section(RULES);
    let strings_raw: View<u8> = View::of(file, section(STRINGS));
    let rules = Rules::lazy(RawRules {
        effects: check_rules(rules_s, strings.len())?,
        strings: strings_raw.clone(),
        rules: View::of(file, rules_s),
    });
    let automata =
        Automata::from_fn(|k| k).try_map(|_, k| read_dfa(section(k.section()), k.name(), file))?;
    let rows = |set: RowSet| section(set.section());
    let fs_rows = read_rows(rows(RowSet::Fs), RowSet::Fs, |r| {
        Ok([
            decision_at(r, 0)?,
            decision_at(r, 5)?,
            decision_at(r, 10)?,
            decision_at(r, 15)?,
        ])
    })?;
    let net_rows = read_rows(rows(RowSet::Net), RowSet::Net, |r| decision_at(r, 0))?;
    let app_rows = read_rows(rows(RowSet::App), RowSet::App, |r| decision_at(r, 0))?;
    check_plan(section(PLAN), strings.len())?;
    let plan = TablePlan::lazy(RawPlan {
        strings: strings_raw,
        plan: View::of(file, section(PLAN)),
    });
    let fs_comp = crate::comp::read_section(section(FS_COMP), file)?;
    let net_hosts = crate::hosts::read_section(section(NET_HOSTS), file)?;

    Ok(Table {
        target,
        agent,
        plan,
        rules,
        sections: Sections {
            automata,
            fs_rows,
            net_rows,
            app_rows,
        },
        fs_comp,
        net_hosts,
    })
}

fn target_from_u32(t: u32) -> Result<Target, LoadError> {
    match t {
        1 => Ok(Target::Linux),
        2 => Ok(Target::Windows),
        _ => Err(LoadError::UnknownTarget(t)),
    }
}

/// The first payload offset at or after `o` that is a multiple of 8 in the file (the
/// payload starts at byte [`HEADER_LEN`]): where a section starts, so that its arrays
/// (4- and 8-byte words at multiples of their size inside it) can be read in place.
fn aligned(o: u64) -> u64 {
    let h = HEADER_LEN as u64;
    o.saturating_add(h)
        .saturating_add(7)
        .checked_div(8)
        .unwrap_or(0)
        .saturating_mul(8)
        .saturating_sub(h)
}

/// Reads the section directory and returns the sections, in kind order.
fn split_sections(payload: &[u8]) -> Result<[&[u8]; 13], LoadError> {
    const DIR: &str = "section directory";
    let mut r = Reader::new(payload, DIR);
    let count = r.u32()?;
    if count as usize != SECTIONS.len() {
        return Err(malformed(
            DIR,
            format!("{count} sections, expected {}", SECTIONS.len()),
        ));
    }
    let payload_len = payload.len() as u64;
    let mut expected_offset = (DIR_ENTRY_LEN as u64)
        .saturating_mul(u64::from(count))
        .saturating_add(4);
    let mut out: [&[u8]; 13] = [&[]; 13];
    for ((kind, name), slot) in (1u32..).zip(SECTIONS).zip(out.iter_mut()) {
        let (found, offset, len) = (r.u32()?, r.u64()?, r.u64()?);
        if found != kind {
            return Err(malformed(
                DIR,
                format!("entry {kind} has kind {found}, expected {kind} (`{name}`)"),
            ));
        }
        let end = offset.saturating_add(len);
        if end > payload_len {
            return Err(LoadError::SectionOutOfBounds {
                section: name,
                end,
                payload: payload_len,
            });
        }
        let start = aligned(expected_offset);
        if offset != start {
            return Err(malformed(
                DIR,
                format!(
                    "section `{name}` starts at byte {offset}, expected {start} (sections \
                     follow each other, each at the first byte after the previous one that is \
                     a multiple of 8 in the file)"
                ),
            ));
        }
        let pad = usize::try_from(expected_offset)
            .ok()
            .zip(usize::try_from(start).ok())
            .and_then(|(lo, hi)| payload.get(lo..hi));
        if pad.is_none_or(|p| p.iter().any(|&b| b != 0)) {
            return Err(malformed(
                DIR,
                format!("the padding before section `{name}` is not zeros"),
            ));
        }
        let range = usize::try_from(offset).ok().zip(usize::try_from(end).ok());
        *slot = range.and_then(|(lo, hi)| payload.get(lo..hi)).ok_or(
            LoadError::SectionOutOfBounds {
                section: name,
                end,
                payload: payload_len,
            },
        )?;
        expected_offset = end;
    }
    if expected_offset != payload_len {
        return Err(LoadError::TrailingBytes {
            extra: payload_len.saturating_sub(expected_offset),
        });
    }
    Ok(out)
}

/// The strings section: `count u32`, `count` ends (`u32`, each string's end in the
/// text), then the text. Checked once: the text is UTF-8, the ends are in order, inside
/// the text (the last one its end) and on character boundaries.
fn read_strings(buf: &[u8]) -> Result<StringTable<'_>, LoadError> {
    const S: &str = "strings";
    let mut r = Reader::new(buf, S);
    let n = r.count(4, "strings")?;
    let ends = r.take(n.saturating_mul(4))?;
    let text = r.rest();
    let text = std::str::from_utf8(text).map_err(|e| {
        // Name the string the first bad byte is in.
        let at = e.valid_up_to();
        let i = ends
            .chunks_exact(4)
            .position(|w| {
                w.first_chunk::<4>()
                    .is_some_and(|w| u32::from_le_bytes(*w) as usize > at)
            })
            .unwrap_or(n);
        malformed(S, format!("string {i} is not valid UTF-8: {e}"))
    })?;
    let mut prev = 0usize;
    let mut ok = true;
    for w in ends.chunks_exact(4) {
        let e = w
            .first_chunk::<4>()
            .map_or(usize::MAX, |w| u32::from_le_bytes(*w) as usize);
        ok &= e >= prev && text.is_char_boundary(e);
        prev = e;
    }
    if !ok || prev != text.len() {
        return Err(malformed(
            S,
            format!(
                "the ends of the {n} strings are not in order inside the {}-byte text, on \
                 character boundaries, the last at its end",
                text.len()
            ),
        ));
    }
    Ok(StringTable { ends, text })
}

fn read_agent(
    buf: &[u8],
    strings: &StringTable<'_>,
    target: Target,
) -> Result<AgentInfo, LoadError> {
    const S: &str = "agent info";
    let mut r = Reader::new(buf, S);
    let inner = target_from_u32(r.u32()?)?;
    if inner != target {
        return Err(malformed(
            S,
            format!(
                "target {} does not match the header's target {}",
                inner as u32, target as u32
            ),
        ));
    }
    let name = strings.get(&mut r, "the agent name")?;
    let identity = match r.u8()? {
        0 => Identity::Current,
        1 => Identity::LocalUser(strings.get(&mut r, "the identity's user")?),
        2 => Identity::LocalUid(r.u32()?),
        3 => Identity::Entra {
            tenant: strings.get(&mut r, "the identity's tenant")?,
            client: strings.get(&mut r, "the identity's client")?,
        },
        4 => Identity::Oidc {
            issuer: strings.get(&mut r, "the identity's issuer")?,
            subject: strings.get(&mut r, "the identity's subject")?,
            audience: strings.get(&mut r, "the identity's audience")?,
        },
        b => return Err(malformed(S, format!("bad identity tag {b}"))),
    };
    let isolation = match r.u8()? {
        1 => Isolation::Process,
        2 => Isolation::Container,
        3 => Isolation::Microvm,
        b => return Err(malformed(S, format!("bad isolation byte {b}"))),
    };
    let default = r.effect()?;
    let audit = match r.u8()? {
        1 => AuditLevel::All,
        2 => AuditLevel::Denials,
        3 => AuditLevel::None,
        b => return Err(malformed(S, format!("bad audit byte {b}"))),
    };
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let n = r.count(4, "environment globs")?;
        list.reserve(n);
        for _ in 0..n {
            list.push(strings.get(&mut r, "an environment glob")?);
        }
    }
    let [env_pass, env_deny] = lists;
    let mut limits = [None; 4];
    for l in &mut limits {
        *l = match r.u8()? {
            0 => None,
            1 => Some(r.u64()?),
            b => return Err(malformed(S, format!("bad option tag {b}"))),
        };
    }
    let [memory_bytes, processes, timeout_ms, cpus] = limits;
    let mut ui = [None; 2];
    for u in &mut ui {
        *u = match r.u8()? {
            0xFF => None,
            b => Some(
                Effect::from_u8(b).ok_or_else(|| malformed(S, format!("bad effect byte {b}")))?,
            ),
        };
    }
    let [clipboard, display] = ui;
    let n = r.count(4, "policies")?;
    let mut policies = Vec::with_capacity(n);
    for _ in 0..n {
        policies.push(strings.get(&mut r, "a policy name")?);
    }
    let n = r.count(8, "parameters")?;
    let mut params = Vec::with_capacity(n);
    for _ in 0..n {
        let k = strings.get(&mut r, "a parameter name")?;
        let v = strings.get(&mut r, "a parameter value")?;
        params.push((k, v));
    }
    let source_hash = r.array::<32>()?;
    r.finish()?;
    Ok(AgentInfo {
        name,
        identity,
        policies,
        params,
        source_hash,
        isolation,
        default,
        audit,
        env_pass,
        env_deny,
        memory_bytes,
        processes,
        timeout_ms,
        cpus,
        clipboard,
        display,
    })
}

/// Bytes of a rule record: policy, file, line, column, effect, reason.
const RULE_LEN: usize = 21;

/// The rules section, kept as it was read (with the strings it refers to) until a rule
/// is asked for: loading checks it with [`check_rules`], which is everything
/// [`RawRules::decode`] relies on.
#[derive(Debug)]
pub(crate) struct RawRules {
    /// Each rule's effect, in order.
    pub(crate) effects: Vec<Effect>,
    strings: View<u8>,
    rules: View<u8>,
}

/// The plan section, kept as it was read (with the strings it refers to) until the
/// plan is asked for: loading checks it with [`check_plan`], which is everything
/// [`RawPlan::decode`] relies on.
#[derive(Debug)]
pub(crate) struct RawPlan {
    strings: View<u8>,
    plan: View<u8>,
}

impl crate::table::Raw for RawPlan {
    type Out = Plan;
    fn decode(&self) -> Result<Plan, LoadError> {
        read_plan(&self.plan, &read_strings(&self.strings)?)
    }
}

/// Checks the plan section without decoding it (no string is copied): what
/// [`read_plan`] reads, with every string id below `nstrings`.
fn check_plan(buf: &[u8], nstrings: usize) -> Result<(), LoadError> {
    const S: &str = "plan";
    let mut r = Reader::new(buf, S);
    fn grants(
        r: &mut Reader<'_>,
        nstrings: usize,
        valid: impl Fn(u8) -> bool,
    ) -> Result<(), LoadError> {
        let n = r.count(6, "grants")?;
        for _ in 0..n {
            let id = r.u32()?;
            if id as usize >= nstrings {
                return Err(malformed(
                    S,
                    format!("a grant's path refers to string {id}, but there are {nstrings}"),
                ));
            }
            let b = r.u8()?;
            if !valid(b) {
                return Err(malformed(S, format!("bad rights byte {b:#04x}")));
            }
            let flags = r.u8()?;
            if flags & !3 != 0 {
                return Err(malformed(S, format!("bad grant flags {flags:#04x}")));
            }
        }
        Ok(())
    }
    grants(&mut r, nstrings, |b| FsRights::from_bits(b).is_some())?;
    match r.u8()? {
        0 | 1 => {}
        b => return Err(malformed(S, format!("bad fs_exact byte {b}"))),
    }
    grants(&mut r, nstrings, |b| AppRights::from_bits(b).is_some())?;
    for _ in 0..2 {
        match r.u8()? {
            0 => {}
            1 => {
                let n = r.count(4, "port ranges")?;
                r.take(n.saturating_mul(4))?;
            }
            b => return Err(malformed(S, format!("bad option tag {b}"))),
        }
    }
    r.finish()
}

impl crate::table::Raw for RawRules {
    type Out = Vec<RuleInfo>;
    fn decode(&self) -> Result<Vec<RuleInfo>, LoadError> {
        read_rules(&self.rules, &read_strings(&self.strings)?)
    }
}

/// Checks the rules section without decoding it: whole records, each naming strings
/// that exist (`nstrings` of them) and a valid effect. Returns the effects.
fn check_rules(buf: &[u8], nstrings: usize) -> Result<Vec<Effect>, LoadError> {
    const S: &str = "rules";
    let mut r = Reader::new(buf, S);
    let n = r.count(RULE_LEN, "rules")?;
    let body = r.rest();
    if body.len() != n.saturating_mul(RULE_LEN) {
        return Err(malformed(
            S,
            format!("{} bytes for {n} rules of {RULE_LEN} bytes", body.len()),
        ));
    }
    let mut effects = Vec::with_capacity(n);
    for (i, rec) in body.chunks_exact(RULE_LEN).enumerate() {
        let word = |at: usize| {
            rec.get(at..)
                .and_then(|b| b.first_chunk::<4>())
                .map_or(NONE, |w| u32::from_le_bytes(*w))
        };
        for (at, what, optional) in [
            (0, "policy", false),
            (4, "file", false),
            (17, "reason", true),
        ] {
            let id = word(at);
            if !(optional && id == NONE) && id as usize >= nstrings {
                return Err(malformed(
                    S,
                    format!("rule {i}'s {what} refers to string {id}, but there are {nstrings}"),
                ));
            }
        }
        let b = rec.get(16).copied().unwrap_or(0xFF);
        effects
            .push(Effect::from_u8(b).ok_or_else(|| malformed(S, format!("bad effect byte {b}")))?);
    }
    Ok(effects)
}

fn read_rules(buf: &[u8], strings: &StringTable<'_>) -> Result<Vec<RuleInfo>, LoadError> {
    let mut r = Reader::new(buf, "rules");
    let n = r.count(RULE_LEN, "rules")?;
    let mut rules = Vec::with_capacity(n);
    for _ in 0..n {
        let policy = strings.get(&mut r, "a rule's policy")?;
        let file = strings.get(&mut r, "a rule's file")?;
        let line = r.u32()?;
        let column = r.u32()?;
        let effect = r.effect()?;
        let reason = strings.opt(&mut r, "a rule's reason")?;
        rules.push(RuleInfo {
            policy,
            file,
            line,
            column,
            effect,
            reason,
        });
    }
    r.finish()?;
    Ok(rules)
}

/// A rows section: `count u32`, then `count` rows of [`RowSet::width`] decisions of 5
/// bytes each. Decoded record by record from fixed-size chunks (no cursor per field).
fn read_rows<T>(
    buf: &[u8],
    set: RowSet,
    row: impl Fn(&[u8]) -> Result<T, u8>,
) -> Result<Vec<T>, LoadError> {
    let width = 5usize.saturating_mul(set.width());
    let mut r = Reader::new(buf, set.name());
    let n = r.count(width, "rows")?;
    let body = r.rest();
    if body.len() != n.saturating_mul(width) {
        return Err(malformed(
            set.name(),
            format!(
                "{} unexpected bytes at the end",
                body.len().saturating_sub(n.saturating_mul(width))
            ),
        ));
    }
    let mut rows = Vec::with_capacity(n);
    for rec in body.chunks_exact(width) {
        rows.push(row(rec).map_err(|b| malformed(set.name(), format!("bad effect byte {b}")))?);
    }
    Ok(rows)
}

/// One 5-byte decision (`effect u8, rule u32 or NONE`); `Err` holds a bad effect byte.
fn decision_at(rec: &[u8], at: usize) -> Result<Decision, u8> {
    let Some(&[e, a, b, c, d]) = rec.get(at..).and_then(|r| r.first_chunk::<5>()) else {
        return Err(0xFF);
    };
    let effect = Effect::from_u8(e).ok_or(e)?;
    let rule = u32::from_le_bytes([a, b, c, d]);
    Ok(Decision {
        effect,
        rule: (rule != NONE).then_some(RuleId(rule)),
    })
}

fn read_plan(buf: &[u8], strings: &StringTable<'_>) -> Result<Plan, LoadError> {
    const S: &str = "plan";
    let mut r = Reader::new(buf, S);
    fn grants<R>(
        r: &mut Reader<'_>,
        strings: &StringTable<'_>,
        from_bits: impl Fn(u8) -> Option<R>,
    ) -> Result<Vec<Grant<R>>, LoadError> {
        let n = r.count(6, "grants")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let path = strings.get(r, "a grant's path")?;
            let b = r.u8()?;
            let rights =
                from_bits(b).ok_or_else(|| malformed(S, format!("bad rights byte {b:#04x}")))?;
            let flags = r.u8()?;
            if flags & !3 != 0 {
                return Err(malformed(S, format!("bad grant flags {flags:#04x}")));
            }
            out.push(Grant {
                path,
                rights,
                exact: flags & 1 != 0,
                subtree: flags & 2 != 0,
            });
        }
        Ok(out)
    }
    let fs = grants(&mut r, strings, FsRights::from_bits)?;
    let fs_exact = match r.u8()? {
        0 => false,
        1 => true,
        b => return Err(malformed(S, format!("bad fs_exact byte {b}"))),
    };
    let exec = grants(&mut r, strings, AppRights::from_bits)?;
    let mut ports: [Option<Vec<PortRange>>; 2] = [None, None];
    for slot in &mut ports {
        *slot = match r.u8()? {
            0 => None,
            1 => {
                let n = r.count(4, "port ranges")?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let lo = u16::from_le_bytes(r.array()?);
                    let hi = u16::from_le_bytes(r.array()?);
                    v.push((lo, hi));
                }
                Some(v)
            }
            b => return Err(malformed(S, format!("bad option tag {b}"))),
        };
    }
    let [tcp_connect, tcp_bind] = ports;
    r.finish()?;
    Ok(Plan {
        fs,
        fs_exact,
        exec,
        tcp_connect,
        tcp_bind,
    })
}
