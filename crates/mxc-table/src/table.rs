//! The decision table as plain data: what the compiler builds and the engine reads.
//!
//! Four automata over byte strings (two for fs, one for net, one for app); each
//! accepting state indexes a deduplicated row of decisions. The fs section is split in
//! two automata over the same rows, walked side by side: [`Table::fs`] holds the
//! patterns rooted at `/` or a drive, [`Table::fs_anywhere`] the `**/...` patterns, and
//! a path's decision combines the two rows per SPEC §6 (`mxc_eval::combine`). One
//! automaton for both would pair every state of the first with every state of the
//! second. The byte strings for net and app requests are defined in
//! [`encoding`](crate::encoding); the compiler produces automata over exactly these
//! encodings.
//!
//! This module only describes data: it must never grow behaviour that the engine relies
//! on without [`validate`](crate::validate()) checking it first.

use crate::plan::Plan;
use crate::words::View;

/// Effect of a decision. The order is the precedence of SPEC §6 (deny > ask > allow).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Effect {
    Allow = 0,
    Ask = 1,
    Deny = 2,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Ask => "ask",
            Effect::Deny => "deny",
        }
    }
    pub fn from_u8(b: u8) -> Option<Effect> {
        match b {
            0 => Some(Effect::Allow),
            1 => Some(Effect::Ask),
            2 => Some(Effect::Deny),
            _ => None,
        }
    }
}

/// Index of a rule in [`Table::rules`]. Rules are numbered in evaluation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

/// The answer to one request: the effect and the rule that decided it (`None` when
/// the agent's default decided).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    pub effect: Effect,
    pub rule: Option<RuleId>,
}

/// Filesystem rights, in the order of a [`FsRow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FsRight {
    Read = 0,
    Write = 1,
    Create = 2,
    Delete = 3,
}

impl FsRight {
    pub const ALL: [FsRight; 4] = [
        FsRight::Read,
        FsRight::Write,
        FsRight::Create,
        FsRight::Delete,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FsRight::Read => "read",
            FsRight::Write => "write",
            FsRight::Create => "create",
            FsRight::Delete => "delete",
        }
    }
}

/// Decisions of one fs accepting state, indexed by [`FsRight`].
pub type FsRow = [Decision; 4];

/// A network right. Its discriminant is the first byte of a request's encoding
/// ([`encoding`](crate::encoding)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NetRight {
    Connect = 1,
    Bind = 2,
}

impl NetRight {
    pub const ALL: [NetRight; 2] = [NetRight::Connect, NetRight::Bind];
    pub fn as_str(self) -> &'static str {
        match self {
            NetRight::Connect => "connect",
            NetRight::Bind => "bind",
        }
    }
}

/// A transport protocol. Its discriminant is the second byte of a request's encoding
/// ([`encoding`](crate::encoding)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Proto {
    Tcp = 1,
    Udp = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A DNS name; matched case-insensitively, a trailing dot ignored.
    Name(&'a str),
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Host<'_> {
    /// The address a request is decided as (SPEC §4.2): an IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) is its IPv4 address; in a `connect`, the unspecified
    /// addresses (`0.0.0.0`, `::`, and `::ffff:0.0.0.0`) reach the local machine and
    /// are decided as loopback (`127.0.0.1`, `::1`). Names are left as they are.
    /// Inlined: on the decision path of every net request.
    #[inline]
    pub fn canonical(self, right: NetRight) -> Self {
        let h = match self {
            Host::V6(a) => match std::net::Ipv6Addr::from(a).to_ipv4_mapped() {
                Some(v4) => Host::V4(v4.octets()),
                None => Host::V6(a),
            },
            h => h,
        };
        match h {
            Host::V4(a) if right == NetRight::Connect && a == [0; 4] => {
                Host::V4(std::net::Ipv4Addr::LOCALHOST.octets())
            }
            Host::V6(a) if right == NetRight::Connect && a == [0; 16] => {
                Host::V6(std::net::Ipv6Addr::LOCALHOST.octets())
            }
            h => h,
        }
    }
}

/// An IPv4 address in any form the C library's `inet_aton` (and so `getaddrinfo`)
/// accepts: one to four parts separated by `.`, each decimal, octal (a leading `0`) or
/// hexadecimal (`0x`); the last part fills the bytes the others leave (`127.1`,
/// `2130706433`, `0x7f000001` and `0177.0.0.1` are all `127.0.0.1`). SPEC §4.2: such
/// a host is an IP, never a name.
pub fn parse_ipv4_any(s: &str) -> Option<[u8; 4]> {
    let mut vals = [0u32; 4];
    let mut n = 0usize;
    for part in s.split('.') {
        let slot = vals.get_mut(n)?;
        n = n.checked_add(1)?;
        let (digits, radix) =
            if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (h, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (part.get(1..)?, 8)
            } else {
                (part, 10)
            };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        *slot = u32::from_str_radix(digits, radix).ok()?;
    }
    let last_max = match n {
        1 => u32::MAX,
        2 => 0x00ff_ffff,
        3 => 0xffff,
        4 => 0xff,
        _ => return None,
    };
    let lead = n.checked_sub(1)?;
    let mut addr = *vals.get(lead)?;
    if addr > last_max {
        return None;
    }
    for (i, &x) in vals.iter().take(lead).enumerate() {
        if x > 0xff {
            return None;
        }
        let shift = 24u32.checked_sub(u32::try_from(i).ok()?.checked_mul(8)?)?;
        addr |= x.checked_shl(shift)?;
    }
    Some(addr.to_be_bytes())
}

/// A network request. The net automaton reads it as the byte string defined in
/// [`encoding`](crate::encoding) ([`encoding::encode_net`](crate::encoding::encode_net)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetRequest<'a> {
    pub right: NetRight,
    pub proto: Proto,
    pub host: Host<'a>,
    pub port: u16,
    pub program: Option<&'a [u8]>,
}

/// Which platform's matching rules a table was compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Target {
    /// Byte-exact, case-sensitive paths.
    Linux = 1,
    /// Case-insensitive paths, `\` read as `/`.
    Windows = 2,
}

/// Sentinel for "no accepting row" in [`Dfa::accept`] and "no rule" in encodings.
pub const NONE: u32 = u32::MAX;

/// A deterministic automaton over bytes, with byte equivalence classes and a
/// comb-compressed ("row displacement") transition table:
///
/// `next_state(s, c) = if check[base[s] + c] == s { next[base[s] + c] } else { default[s] }`
///
/// where `c = classes[byte]`. State 0 is the dead state (all transitions to 0, no
/// accepting row). `accept[s]` is the row index reached when the input ends in `s`, or
/// [`NONE`] when no rule matches (the agent's default decides).
///
/// Unused slots have `check == NONE`. Build one with [`Dfa::from_dense`] (or
/// [`Dfa::from_dense_flat`], or [`Dfa::empty`] for a section without rules); the
/// invariants the engine relies on are listed on
/// [`validate`](crate::validate()), which checks them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Dfa {
    pub classes: Vec<u8>,
    pub nclasses: u32,
    pub start: u32,
    pub default: Vec<u32>,
    pub base: Vec<u32>,
    pub accept: Vec<u32>,
    pub next: Vec<u32>,
    pub check: Vec<u32>,
}

/// Flag in [`StateRec::exits`]`[3]`: the state may be skipped through (its low two bits
/// count the bytes that leave it, stored in `exits[0..count]`).
pub const SKIP: u8 = 0x80;

/// Flag in a *carried* base ([`StateRec::default_base`], [`Slot::next_base`]): the state
/// the base belongs to may be skipped through. Validation keeps every base below it
/// (fewer than 2^31 transition slots).
pub const SKIP_BASE: u32 = 1 << 31;

/// The `check` of a free slot in a [`ByteDfa`]'s layout: neither a state (validation
/// keeps state ids below 2^31) nor [`NONE`] (the state of a broken walk), so a broken
/// walk never takes a free slot's target.
pub const FREE: u32 = NONE - 1;

/// One state of a [`ByteDfa`] as the file stores it and the engine walks it (16 bytes):
/// where its transitions start in the slots, its default transition (the target and the
/// target's carried base), and, for a state that stays in itself on every byte but at
/// most three ([`SKIP`] set in `exits[3]`, the count in its low two bits), those bytes:
/// a walk in such a state scans ahead for the next of them instead of stepping byte by
/// byte (the inside of a component under `/**`, of a `*`). A state that is not skipped
/// through has `exits == [0; 4]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct StateRec {
    pub base: u32,
    pub default: u32,
    pub default_base: u32,
    pub exits: [u8; 4],
}

impl crate::words::Word for StateRec {
    #[inline(always)]
    fn le_to_native(self) -> StateRec {
        StateRec {
            base: u32::from_le(self.base),
            default: u32::from_le(self.default),
            default_base: u32::from_le(self.default_base),
            exits: self.exits,
        }
    }
}

impl crate::words::Word for Slot {
    #[inline(always)]
    fn le_to_native(self) -> Slot {
        Slot {
            check: u32::from_le(self.check),
            next: u32::from_le(self.next),
            next_base: u32::from_le(self.next_base),
        }
    }
}

impl StateRec {
    /// The base a walk carries for this state: its base, with [`SKIP_BASE`] when the
    /// state is skipped through.
    #[inline(always)]
    pub fn carried(&self) -> u32 {
        if self.exits[3] & SKIP != 0 {
            self.base | SKIP_BASE
        } else {
            self.base
        }
    }
}

/// One transition slot of a [`ByteDfa`] (12 bytes): the state owning it ([`FREE`] when
/// none), its target, and the target's carried base, so that a step through a slot
/// needs no other load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Slot {
    pub check: u32,
    pub next: u32,
    pub next_base: u32,
}

/// The walk layout of a byte automaton: what the `.mxcb` file stores, what validation
/// checks in place and what the engine walks. The same automaton as the [`Dfa`] it was
/// packed from, state for state (state numbers are the [`Dfa`]'s): `states[s].base`,
/// `states[s].default` and `accept[s]` are the [`Dfa`]'s `base[s]`, `default[s]` and
/// `accept[s]`; slot `i` holds `check[i]` ([`FREE`] for [`NONE`]) and `next[i]`, plus the
/// carried bases and skip bytes the compiler computed (see [`StateRec`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    pub classes: [u8; 256],
    pub nclasses: u32,
    pub start: u32,
    /// Arrays: views of the file's bytes in a loaded table (see [`crate::words`]).
    pub states: View<StateRec>,
    pub accept: View<u32>,
    pub slots: View<Slot>,
}

/// A byte automaton of a table: its walk [`Layout`] (what the file stores and the
/// engine walks), and its [`Dfa`] form, decoded from the layout the first time it is
/// asked for (`ByteDfa` dereferences to it: the off-path analyses, the listing, the
/// tests). Build one from a [`Dfa`] (`ByteDfa::from`, which computes the layout); change
/// one through its [`Dfa`] with [`ByteDfa::edit`], or through its layout with
/// [`ByteDfa::layout_mut`].
#[derive(Debug, Default)]
pub struct ByteDfa {
    layout: Layout,
    /// Why the [`Dfa`] this was built from has no layout (its arrays' lengths do not
    /// fit together): validation reports it; `layout` is then one that validation refuses.
    shape: Option<String>,
    dfa: std::sync::OnceLock<Dfa>,
}

impl ByteDfa {
    /// The automaton that matches nothing ([`Dfa::empty`]).
    pub fn empty() -> ByteDfa {
        ByteDfa::from(Dfa::empty())
    }

    /// A byte automaton read from a file: the layout as stored (validation checks it).
    pub(crate) fn from_layout(layout: Layout) -> ByteDfa {
        ByteDfa {
            layout,
            shape: None,
            dfa: std::sync::OnceLock::new(),
        }
    }

    /// The walk layout.
    #[inline(always)]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The walk layout, to change it (tests of validation). Forgets the decoded [`Dfa`].
    pub fn layout_mut(&mut self) -> &mut Layout {
        self.dfa = std::sync::OnceLock::new();
        &mut self.layout
    }

    /// Why the automaton has no valid layout, when the [`Dfa`] it was built from could
    /// not be laid out.
    pub fn shape_error(&self) -> Option<&str> {
        self.shape.as_deref()
    }

    /// The [`Dfa`] form, decoded on first use.
    pub fn dfa(&self) -> &Dfa {
        self.dfa.get_or_init(|| self.layout.to_dfa())
    }

    /// Changes the automaton through its [`Dfa`] form, and lays it out again.
    pub fn edit(&mut self, f: impl FnOnce(&mut Dfa)) {
        let mut d = std::mem::take(self).into_dfa();
        f(&mut d);
        *self = ByteDfa::from(d);
    }

    /// The [`Dfa`] form, owned.
    pub fn into_dfa(mut self) -> Dfa {
        match self.dfa.take() {
            Some(d) => d,
            None => self.layout.to_dfa(),
        }
    }
}

impl From<Dfa> for ByteDfa {
    /// Lays the automaton out (see [`Layout::of_dfa`]); keeps the [`Dfa`] as its decoded
    /// form.
    fn from(d: Dfa) -> ByteDfa {
        let (layout, shape) = match Layout::of_dfa(&d) {
            Ok(l) => (l, None),
            Err(problem) => (
                Layout::refused(),
                Some(format!("the automaton cannot be laid out: {problem}")),
            ),
        };
        let dfa = std::sync::OnceLock::new();
        let _ = dfa.set(d);
        ByteDfa { layout, shape, dfa }
    }
}

impl Clone for ByteDfa {
    fn clone(&self) -> ByteDfa {
        ByteDfa {
            layout: self.layout.clone(),
            shape: self.shape.clone(),
            dfa: self.dfa.clone(),
        }
    }
}

/// Equal layouts (the [`Dfa`] form follows from the layout).
impl PartialEq for ByteDfa {
    fn eq(&self, other: &ByteDfa) -> bool {
        self.layout == other.layout && self.shape == other.shape
    }
}
impl Eq for ByteDfa {}

impl std::ops::Deref for ByteDfa {
    type Target = Dfa;
    fn deref(&self) -> &Dfa {
        self.dfa()
    }
}

/// Where a rule was written and what it says about itself, for attribution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleInfo {
    pub policy: String,
    pub file: String,
    /// 1-based line and column of the rule's effect keyword.
    pub line: u32,
    pub column: u32,
    pub effect: Effect,
    pub reason: Option<String>,
}

/// The rules of a table, in evaluation order, for attribution.
///
/// Built from a list ([`Rules::from`]), or read from a `.mxcb` without decoding: loading
/// checks the rules section in place (every string a rule names exists, every effect is
/// one) and keeps its bytes; the [`RuleInfo`]s (texts, files and lines) are decoded the
/// first time one is asked for ([`Rules::get`], [`Rules::iter`]). Each rule's effect,
/// which validation checks every row against, is read without decoding
/// ([`Rules::effect`]).
#[derive(Clone, Debug, Default)]
pub struct Rules(Lazy<crate::format::RawRules>);

/// A section read from a `.mxcb` and decoded the first time it is asked for, or a value
/// built (or changed) in memory: what [`Rules`] and [`TablePlan`] hold.
#[derive(Debug)]
struct Lazy<R: Raw> {
    /// The value, when built from one (or changed through [`Lazy::make_mut`]).
    owned: R::Out,
    /// The `.mxcb` bytes it decodes from, when it was read from one.
    raw: Option<std::sync::Arc<R>>,
    /// `raw`, decoded.
    decoded: std::sync::OnceLock<R::Out>,
}

/// A section kept as read: loading checked everything [`Raw::decode`] relies on.
pub(crate) trait Raw: std::fmt::Debug {
    type Out: Clone + Default + std::fmt::Debug;
    fn decode(&self) -> Result<Self::Out, crate::format::LoadError>;
}

impl<R: Raw> Clone for Lazy<R> {
    fn clone(&self) -> Self {
        Lazy {
            owned: self.owned.clone(),
            raw: self.raw.clone(),
            decoded: self.decoded.clone(),
        }
    }
}

impl<R: Raw> Default for Lazy<R> {
    fn default() -> Self {
        Lazy::built(R::Out::default())
    }
}

impl<R: Raw> Lazy<R> {
    fn built(owned: R::Out) -> Self {
        Lazy {
            owned,
            raw: None,
            decoded: std::sync::OnceLock::new(),
        }
    }

    fn read(raw: R) -> Self {
        Lazy {
            owned: R::Out::default(),
            raw: Some(std::sync::Arc::new(raw)),
            decoded: std::sync::OnceLock::new(),
        }
    }

    /// The value, decoded on first use. Loading checked everything decoding relies on:
    /// a failure here cannot happen, and would give the empty value (no rules, a plan
    /// that grants nothing) rather than a panic.
    fn get(&self) -> &R::Out {
        match &self.raw {
            Some(raw) => self
                .decoded
                .get_or_init(|| raw.decode().unwrap_or_default()),
            None => &self.owned,
        }
    }

    /// The value, to change it (decoded first; from then on it is owned).
    fn make_mut(&mut self) -> &mut R::Out {
        if let Some(raw) = self.raw.take() {
            self.owned = self
                .decoded
                .take()
                .unwrap_or_else(|| raw.decode().unwrap_or_default());
        }
        &mut self.owned
    }
}

impl Rules {
    pub(crate) fn lazy(raw: crate::format::RawRules) -> Rules {
        Rules(Lazy::read(raw))
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        match &self.0.raw {
            Some(raw) => raw.effects.len(),
            None => self.0.owned.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The effect of rule `i` (read without decoding the rules).
    pub fn effect(&self, i: usize) -> Option<Effect> {
        match &self.0.raw {
            Some(raw) => raw.effects.get(i).copied(),
            None => self.0.owned.get(i).map(|r| r.effect),
        }
    }

    /// Every rule, decoded on first use.
    pub fn as_slice(&self) -> &[RuleInfo] {
        self.0.get()
    }

    /// Rule `i`.
    pub fn get(&self, i: usize) -> Option<&RuleInfo> {
        self.as_slice().get(i)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, RuleInfo> {
        self.as_slice().iter()
    }

    /// The rules as a list, to change them (decodes them first).
    pub fn make_mut(&mut self) -> &mut Vec<RuleInfo> {
        self.0.make_mut()
    }
}

/// A table's [`Plan`]: built from one ([`TablePlan::from`]), or read from a `.mxcb`
/// without decoding it: loading checks the plan section in place (every string a grant
/// names exists, every rights byte and flag valid) and keeps its bytes; the [`Plan`]
/// (a `String` per grant) is decoded the first time it is asked for. Dereferences to
/// the [`Plan`].
#[derive(Clone, Debug, Default)]
pub struct TablePlan(Lazy<crate::format::RawPlan>);

impl TablePlan {
    pub(crate) fn lazy(raw: crate::format::RawPlan) -> TablePlan {
        TablePlan(Lazy::read(raw))
    }
}

impl std::ops::Deref for TablePlan {
    type Target = Plan;
    fn deref(&self) -> &Plan {
        self.0.get()
    }
}

impl std::ops::DerefMut for TablePlan {
    fn deref_mut(&mut self) -> &mut Plan {
        self.0.make_mut()
    }
}

impl From<Plan> for TablePlan {
    fn from(owned: Plan) -> TablePlan {
        TablePlan(Lazy::built(owned))
    }
}

impl PartialEq for TablePlan {
    fn eq(&self, other: &TablePlan) -> bool {
        **self == **other
    }
}
impl Eq for TablePlan {}

impl PartialEq<Plan> for TablePlan {
    fn eq(&self, other: &Plan) -> bool {
        **self == *other
    }
}

impl From<Vec<RuleInfo>> for Rules {
    fn from(owned: Vec<RuleInfo>) -> Rules {
        Rules(Lazy::built(owned))
    }
}

impl PartialEq for Rules {
    fn eq(&self, other: &Rules) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for Rules {}

impl<'a> IntoIterator for &'a Rules {
    type Item = &'a RuleInfo;
    type IntoIter = std::slice::Iter<'a, RuleInfo>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Isolation {
    Process = 1,
    Container = 2,
    Microvm = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AuditLevel {
    All = 1,
    Denials = 2,
    None = 3,
}

/// The agent's non-decision settings (SPEC §5), carried for the runtime.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AgentInfo {
    pub name: String,
    /// Who the agent runs as (its display form, e.g. `local(user: "alice")`, is carried
    /// in every audit record).
    pub identity: Identity,
    /// The agent's policies, in evaluation order (`use` statements).
    pub policies: Vec<String>,
    /// The parameter values the table was compiled with, by name.
    pub params: Vec<(String, String)>,
    /// SHA-256 of the policy sources the table was compiled from (see
    /// `mxc_lang::compile::source_hash`): names which text the decisions come from.
    pub source_hash: [u8; 32],
    pub isolation: Isolation,
    pub default: Effect,
    pub audit: AuditLevel,
    pub env_pass: Vec<String>,
    pub env_deny: Vec<String>,
    pub memory_bytes: Option<u64>,
    pub processes: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub cpus: Option<u64>,
    /// `ui` settings: `None` when unset.
    pub clipboard: Option<Effect>,
    pub display: Option<Effect>,
}

/// Who an agent runs as (SPEC §5 `identity`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Identity {
    /// No `identity` statement: the user running the agent.
    #[default]
    Current,
    LocalUser(String),
    LocalUid(u32),
    Entra {
        tenant: String,
        client: String,
    },
    Oidc {
        issuer: String,
        subject: String,
        audience: String,
    },
}

/// The display form, as the language writes it.
impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Current => f.write_str("local(current)"),
            Identity::LocalUser(u) => write!(f, "local(user: {u:?})"),
            Identity::LocalUid(u) => write!(f, "local(uid: {u})"),
            Identity::Entra { tenant, client } => {
                write!(f, "entra(tenant: {tenant:?}, client: {client:?})")
            }
            Identity::Oidc {
                issuer,
                subject,
                audience,
            } => write!(
                f,
                "oidc(issuer: {issuer:?}, subject: {subject:?}, audience: {audience:?})"
            ),
        }
    }
}

/// A compiled decision table for one agent with its parameters bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub target: Target,
    pub agent: AgentInfo,
    /// What a kernel can enforce without the engine (see [`Plan`]; decoded on first use
    /// when the table was read from a file).
    pub plan: TablePlan,
    pub rules: Rules,
    /// The byte automata and their rows (see [`Sections`]); `table.fs`, `table.net_rows`
    /// and the other members read through (`Table` dereferences to its sections).
    pub sections: Sections<ByteDfa>,
    /// fs decided per path component (see [`crate::comp`]), laid out as the engine walks
    /// it; when present, `fs` and `fs_anywhere` are [`ByteDfa::empty`] and this decides
    /// every path (Linux tables).
    pub fs_comp: Option<crate::comp::CompLayout>,
    /// The policy's literal host names and suffixes with the net automaton's states
    /// after them (see [`crate::hosts`]): a name request skips that part of its walk.
    pub net_hosts: crate::hosts::NetHosts,
}

impl std::ops::Deref for Table {
    type Target = Sections<ByteDfa>;
    fn deref(&self) -> &Sections<ByteDfa> {
        &self.sections
    }
}

impl std::ops::DerefMut for Table {
    fn deref_mut(&mut self) -> &mut Sections<ByteDfa> {
        &mut self.sections
    }
}

/// One of a table's byte automata. The one list of them: [`Kind::ALL`] (adding an
/// automaton is a variant here, its member in [`Automata`] and the three `match`es
/// below; the format, validation, listing, compiler and engine go through [`Kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// fs patterns rooted at `/` or a drive.
    Fs,
    /// fs patterns rooted at `**/` (anywhere), over the path's bytes **read backwards**
    /// (from the last byte to the first). A `**/` pattern is anchored at the path's end
    /// and floats at its start; read backwards it is anchored where the walk starts, so
    /// the automaton never tracks a new match starting at every component alongside the
    /// rest of an earlier one (`**/dirI/*.extJ` made states quadratic in the number of
    /// such patterns when read forwards).
    FsAnywhere,
    /// Network requests ([`encoding`](crate::encoding)).
    Net,
    /// Launches: program, then arguments ([`encoding`](crate::encoding)).
    App,
}

/// Which rows an automaton's accepting states index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowSet {
    /// [`Sections::fs_rows`] (four decisions a row, one per [`FsRight`]).
    Fs,
    /// [`Sections::net_rows`].
    Net,
    /// [`Sections::app_rows`].
    App,
}

impl Kind {
    /// Every automaton, in the order of the format's sections.
    pub const ALL: [Kind; 4] = [Kind::Fs, Kind::FsAnywhere, Kind::Net, Kind::App];

    /// The automaton's name in the format, listings and error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Fs => "fs dfa",
            Kind::FsAnywhere => "fs anywhere dfa",
            Kind::Net => "net dfa",
            Kind::App => "app dfa",
        }
    }

    /// The rows its accepting states index.
    pub fn rows(self) -> RowSet {
        match self {
            Kind::Fs | Kind::FsAnywhere => RowSet::Fs,
            Kind::Net => RowSet::Net,
            Kind::App => RowSet::App,
        }
    }

    /// Its section's kind number in the `.mxcb` directory.
    pub const fn section(self) -> u32 {
        match self {
            Kind::Fs => 4,
            Kind::FsAnywhere => 10,
            Kind::Net => 6,
            Kind::App => 8,
        }
    }
}

impl RowSet {
    pub const ALL: [RowSet; 3] = [RowSet::Fs, RowSet::Net, RowSet::App];

    pub const fn name(self) -> &'static str {
        match self {
            RowSet::Fs => "fs rows",
            RowSet::Net => "net rows",
            RowSet::App => "app rows",
        }
    }

    /// Its section's kind number in the `.mxcb` directory.
    pub const fn section(self) -> u32 {
        match self {
            RowSet::Fs => 5,
            RowSet::Net => 7,
            RowSet::App => 9,
        }
    }

    /// Decisions per row.
    pub fn width(self) -> usize {
        match self {
            RowSet::Fs => 4,
            RowSet::Net | RowSet::App => 1,
        }
    }
}

/// The four byte automata of a table, generic over what an automaton is: the compiler's
/// dense automata, the table's packed [`Dfa`], the engine's walk layout. Members by
/// name, or by [`Kind`] ([`Automata::get`], [`Automata::iter`], [`Automata::map`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Automata<A> {
    pub fs: A,
    /// See [`Kind::FsAnywhere`]: read backwards. Indexes [`Sections::fs_rows`] too.
    pub fs_anywhere: A,
    pub net: A,
    pub app: A,
}

impl<A> Automata<A> {
    /// One automaton for each kind.
    pub fn from_fn(mut f: impl FnMut(Kind) -> A) -> Automata<A> {
        Automata {
            fs: f(Kind::Fs),
            fs_anywhere: f(Kind::FsAnywhere),
            net: f(Kind::Net),
            app: f(Kind::App),
        }
    }

    pub fn get(&self, k: Kind) -> &A {
        match k {
            Kind::Fs => &self.fs,
            Kind::FsAnywhere => &self.fs_anywhere,
            Kind::Net => &self.net,
            Kind::App => &self.app,
        }
    }

    pub fn get_mut(&mut self, k: Kind) -> &mut A {
        match k {
            Kind::Fs => &mut self.fs,
            Kind::FsAnywhere => &mut self.fs_anywhere,
            Kind::Net => &mut self.net,
            Kind::App => &mut self.app,
        }
    }

    /// Each automaton with its kind, in [`Kind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Kind, &A)> {
        Kind::ALL.into_iter().map(move |k| (k, self.get(k)))
    }

    /// The automata, each transformed.
    pub fn map<B>(self, mut f: impl FnMut(Kind, A) -> B) -> Automata<B> {
        match self.try_map(|k, a| Ok::<B, std::convert::Infallible>(f(k, a))) {
            Ok(m) => m,
            Err(never) => match never {},
        }
    }

    /// [`Automata::map`], failing at the first error (in [`Kind::ALL`] order).
    pub fn try_map<B, E>(
        self,
        mut f: impl FnMut(Kind, A) -> Result<B, E>,
    ) -> Result<Automata<B>, E> {
        let Automata {
            fs,
            fs_anywhere,
            net,
            app,
        } = self;
        Ok(Automata {
            fs: f(Kind::Fs, fs)?,
            fs_anywhere: f(Kind::FsAnywhere, fs_anywhere)?,
            net: f(Kind::Net, net)?,
            app: f(Kind::App, app)?,
        })
    }

    /// References to the automata.
    pub fn as_ref(&self) -> Automata<&A> {
        Automata::from_fn(|k| self.get(k))
    }
}

/// The automata of a table plus the rows their accepting states index: what the
/// compiler builds (`Sections<Dense>`), what a table carries (`Sections<ByteDfa>`, written
/// and validated per [`Kind`] and [`RowSet`]). Dereferences to its [`Automata`], so
/// `sections.net` is the net automaton.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Sections<A> {
    pub automata: Automata<A>,
    /// Rows of both fs automata.
    pub fs_rows: Vec<FsRow>,
    pub net_rows: Vec<Decision>,
    pub app_rows: Vec<Decision>,
}

impl<A> Sections<A> {
    /// The number of rows of a row set.
    pub fn nrows(&self, r: RowSet) -> usize {
        match r {
            RowSet::Fs => self.fs_rows.len(),
            RowSet::Net => self.net_rows.len(),
            RowSet::App => self.app_rows.len(),
        }
    }

    /// Decision `i` of row `row` of a row set (`i` below [`RowSet::width`]).
    pub fn decision(&self, r: RowSet, row: usize, i: usize) -> Option<Decision> {
        match r {
            RowSet::Fs => self.fs_rows.get(row).and_then(|x| x.get(i)).copied(),
            RowSet::Net => self.net_rows.get(row).filter(|_| i == 0).copied(),
            RowSet::App => self.app_rows.get(row).filter(|_| i == 0).copied(),
        }
    }

    /// The same rows over other automata.
    pub fn map<B>(self, f: impl FnMut(Kind, A) -> B) -> Sections<B> {
        Sections {
            automata: self.automata.map(f),
            fs_rows: self.fs_rows,
            net_rows: self.net_rows,
            app_rows: self.app_rows,
        }
    }
}

impl<A> std::ops::Deref for Sections<A> {
    type Target = Automata<A>;
    fn deref(&self) -> &Automata<A> {
        &self.automata
    }
}

impl<A> std::ops::DerefMut for Sections<A> {
    fn deref_mut(&mut self) -> &mut Automata<A> {
        &mut self.automata
    }
}
