//! The lints that need decisions: W0001 (a rule that can never decide a request),
//! W0005 (an agent may read a credential store) and W0006 (an agent may write a file
//! that runs later outside the sandbox). SPEC §9.
//!
//! Every agent is bound with `home` and every other parameter set to its placeholder
//! ([`crate::check::placeholder`], never the given defaults, so the result does not
//! depend on a deployment) and analysed on its own; a rule is reported by W0001 when it
//! decides no request for every agent that uses its policy. A rule with a drive pattern
//! (`C:/...`) is never reported: it may decide on Windows. The label naming the
//! overriding rule comes from one request the rule matches, decided by the reference
//! interpreter ([`crate::interp`]); it is only an example.
//!
//! A request path is always normalised (absolute, no empty, `.` or `..` component, no
//! trailing `/` except the root, no NUL) UTF-8 text, like every request `mxcc` and the
//! reference interpreter take (`?` matches one character, so a pattern may treat a byte
//! that is no character apart). The lints only consider such requests: each request
//! encoding has a small "validity" automaton (normalised UTF-8 paths; app requests: a
//! program path, `PROGRAM_END`, the arguments; net requests: the encoding documented on
//! `mxc_eval::encoding`), built once per process with the compiler's own automaton
//! type ([`Dense`], `crate::automaton`).
//!
//! An agent is analysed in one of two ways ([`Mode`]).
//!
//! **Exact** (the default for agents with at most [`EXACT_FS_PATTERNS`] fs patterns):
//! every question is a reachability question on a product automaton, answered by a graph
//! search that visits each reachable state of the product once. The agent is compiled
//! with both fs automata read forwards and their product built (each state's row the
//! combination of the two rows, as the engine combines them); W0001: the rules that
//! decide some request are exactly the deciding rules of the rows of accepting states
//! reachable in (automaton × validity), for fs, net and app; W0005/W0006: the places
//! (`~/.ssh` and everything beneath it, `.git/hooks` anywhere in the tree, ...) are
//! determinised together and a breadth-first search of (fs automaton × places × valid
//! paths) finds, for each place, the shortest request path in it whose row allows
//! `read` (W0005) or `write` or `create` (W0006). The product of forward automata can
//! be quadratic in the policy (floating `**/dir/*.ext` patterns), so it is bounded
//! ([`PRODUCT_BUDGET`]); an agent that passes the bound is analysed as below instead.
//!
//! **Scalable** (larger agents): the agent is compiled as for the engine (on Linux the
//! per-component fs automata; on Windows the byte automata, the `**/` one read
//! backwards; linear in the policy), and only small automata of a few patterns each are
//! ever built; the agent's own automata are only walked, to decide single requests
//! (exactly as the engine decides them, rows combined per SPEC §6).
//!
//! - W0001 for net and app rules is the exact search above (the net and app automata
//!   are linear in the policy, and their validity automata are small).
//! - W0001 for an fs rule R, per right r of R and pattern p of R, by refinement: take a
//!   request of p (first a sample, then the shortest valid path of p that none of the
//!   rules found so far matches) and decide it. Decided by R: R decides a request, done.
//!   Decided by another rule D: D beats R wherever both match (a stronger effect, or
//!   the same effect and earlier), so D is added to the rules found and the next request
//!   is looked for outside them. No request left: every request of (p, r) is decided by
//!   another rule. R is reported only when that is proved for every (p, r). Each step
//!   builds one small automaton (p and the rules found) and makes one decision;
//!   after [`ROUNDS`] steps, or past the agent's budget of small-automaton states, the
//!   question is left undecided and R is not reported. So W0001 never reports a rule
//!   that decides a request; it misses a shadowed rule only when more than [`ROUNDS`]
//!   rules together are needed to cover it (or the budget runs out).
//! - W0005/W0006 per place and risky right: the candidates are the agent's `allow` rules
//!   with that right whose patterns can meet the place (a `**/` pattern always can; a
//!   rooted one when its literal prefix and the place's are prefixes of one another).
//!   For each candidate A in evaluation order, by the same refinement: the shortest
//!   valid path in (place ∩ A) that no blocking rule found so far matches is decided;
//!   allowed: the place is reported with that path as the witness (so the witness is
//!   the shortest allowed path of the first candidate that has one, not necessarily the
//!   shortest of the place); denied or asked by B: B blocks the right wherever it
//!   matches, so it is added to the blockers; nothing left: A exposes nothing of the
//!   place. A `**/` blocker found for one candidate is tried first for the next ones
//!   (a policy's `deny write "**/.git/hooks/**"` covers every project at once), and
//!   when those blockers cover the whole place (one small automaton: a valid path of
//!   the place that none of them matches), no further candidate is examined for that
//!   right: none can expose it. A
//!   reported exposure is always real (the witness is decided by the compiled
//!   automata); a candidate left undecided after [`ROUNDS`] steps or past the budget
//!   is skipped, and only then can an exposure be missed.
//!
//! Each (agent, place) is reported at most once; the ten shell startup files count as
//! one place. [`lint_counted`] returns what was done (states built and searched,
//! decisions, questions left undecided), for the growth tests and `MXC_TIMING=1`.

use crate::ast::{Effect, SectionKind};
use crate::automaton::{bits, intern, Dense};
use crate::bind::{self, Bound, BoundRule};
use crate::check::placeholder;
use crate::compile::{dense_of_globs, FxMap, Sections};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Model, ParamType};
use crate::pattern::{ArgsGlob, Atom, Comp, HostPat, PathGlob, Root};
use crate::request::{HostReq, Request};
use crate::source::{SourceMap, Span};
use crate::Program;
use mxc_eval as ev;
use mxc_eval::encoding::{HOST_NAME, HOST_V4, HOST_V6, NAME_END, NO_PROGRAM, PROGRAM, PROGRAM_END};
use mxc_eval::{FsRight, NetRight, Proto};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

/// How agents are analysed (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Exact for agents with at most [`EXACT_FS_PATTERNS`] fs patterns whose product
    /// stays within [`PRODUCT_BUDGET`]; scalable otherwise. What `mxcc check` uses.
    Auto,
    /// Always the exact product search (an agent past the budget is not analysed).
    Exact,
    /// Always the scalable analysis.
    Scalable,
}

/// Agents with at most this many fs patterns (after alternatives are expanded) are
/// analysed exactly, when their product automaton stays within [`PRODUCT_BUDGET`].
pub const EXACT_FS_PATTERNS: usize = 256;

/// Most transitions (states × byte classes) of the forward fs product an exact
/// analysis builds (32 Mi, 128 MiB).
pub const PRODUCT_BUDGET: usize = 1 << 25;

/// Most refinement steps of one scalable W0001 or W0005/W0006 question.
pub const ROUNDS: usize = 16;

/// Most states of one small automaton of the scalable analysis.
const SMALL_BUDGET: usize = 1 << 13;

/// Small-automaton states the scalable analysis of one agent may build, per rule of
/// the agent (plus a constant): the analysis stays linear in the policy whatever it
/// holds.
const SMALL_PER_RULE: usize = 4096;

/// What the lints did, counted: for the growth tests (`tests/lint_growth.rs`), which
/// check that the work grows linearly with the policy, and for `MXC_TIMING=1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Agents analysed by the exact product search.
    pub exact_agents: usize,
    /// Agents analysed by the scalable analysis.
    pub scalable_agents: usize,
    /// States of the agents' own automata (as compiled for the lints, and the fs
    /// product of an exact analysis).
    pub compiled_states: usize,
    /// States of the small automata the scalable analysis built.
    pub small_states: usize,
    /// Single requests decided by the scalable analysis.
    pub decisions: usize,
    /// Questions the scalable analysis left undecided (no warning given for them).
    pub undecided: usize,
}

impl Work {
    fn add(&mut self, o: &Work) {
        self.exact_agents += o.exact_agents;
        self.scalable_agents += o.scalable_agents;
        self.compiled_states += o.compiled_states;
        self.small_states += o.small_states;
        self.decisions += o.decisions;
        self.undecided += o.undecided;
    }
}

/// Runs W0001, W0005 and W0006 on a checked program (one without errors).
pub fn lint(program: &Program) -> Diagnostics {
    lint_model(&program.model, &program.sources)
}

/// [`lint`] on the pieces of a program.
pub fn lint_model(model: &Model, sources: &SourceMap) -> Diagnostics {
    lint_counted(model, sources, Mode::Auto).0
}

/// [`lint_model`] in a given [`Mode`], with what it did.
pub fn lint_counted(model: &Model, sources: &SourceMap, mode: Mode) -> (Diagnostics, Work) {
    let mut diags = Diagnostics::default();
    let mut work = Work::default();
    let timing = std::env::var_os("MXC_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let lap = |what: &str| {
        if timing {
            eprintln!("lints: {what}: {:?}", t0.elapsed());
        }
    };
    // The fixed automata (valid requests, places) are built once per process, on a
    // second thread while the first agent compiles.
    let autos_ready = std::thread::spawn(|| {
        automata();
    });
    let mut autos_ready = Some(autos_ready);
    let params: BTreeMap<String, String> = model
        .params
        .iter()
        .map(|(n, d)| (n.clone(), placeholder(n, d.ty)))
        .collect();
    let shown = Placeholders::new(model);

    // Per source rule (identified by its effect keyword's span).
    let mut used: BTreeSet<SpanKey> = BTreeSet::new();
    let mut decided: HashSet<SpanKey> = HashSet::new();
    // Rules of policies used by an agent that could not be analysed.
    let mut unknown_policies: HashSet<&str> = HashSet::new();
    // First (agent, rule index) of each source rule, for the W0001 witness.
    let mut first: HashMap<SpanKey, (usize, usize)> = HashMap::new();
    let mut bounds: Vec<Bound> = Vec::new();
    let mut witnesses: Vec<HashMap<usize, (usize, Request)>> = Vec::new();

    for agent in &model.agents {
        let bound = bind::bind(model, &agent.name, &params, false).ok();
        let analysed = bound.and_then(|b| {
            let a = analyse(&b, mode, &mut work, &mut || {
                if let Some(h) = autos_ready.take() {
                    let _ = h.join();
                }
            })?;
            Some((b, a))
        });
        let Some((bound, analysis)) = analysed else {
            unknown_policies.extend(agent.uses.iter().map(|(p, _)| p.as_str()));
            continue;
        };
        lap("agent analysed");
        let ai = bounds.len();
        for (i, r) in bound.rules.iter().enumerate() {
            let key = SpanKey::of(r.span);
            used.insert(key);
            first.entry(key).or_insert((ai, i));
            if analysis.decides[i] || has_drive(r) {
                decided.insert(key);
            }
        }
        // W0005, W0006.
        for f in &analysis.found {
            diags.push(place_diagnostic(&bound, f, &shown));
        }
        bounds.push(bound);
        witnesses.push(analysis.witness);
    }
    if timing {
        eprintln!("lints: {work:?}");
    }

    // W0001, reported once per source rule, in source order.
    let mut witness_budget = 64usize;
    for key in used {
        if decided.contains(&key) {
            continue;
        }
        let Some(&(ai, ri)) = first.get(&key) else {
            continue;
        };
        let bound = &bounds[ai];
        let rule = &bound.rules[ri];
        if unknown_policies.contains(rule.policy.as_str()) {
            continue;
        }
        let mut d = Diagnostic::new(Code::W0001, rule.span, "rule can never decide a request");
        let known = witnesses.get(ai).and_then(|w| w.get(&ri)).cloned();
        let witness = if known.is_some() {
            known
        } else if witness_budget > 0 {
            witness_budget -= 1;
            shadow_witness(bound, ri)
        } else {
            None
        };
        match witness {
            Some((by, req)) => {
                let at = bound.rules[by].span;
                d = d.with_label("always overridden").label(
                    at,
                    format!("decides `{}` instead", shown.text(&req.to_string())),
                );
                if let Some(f) = sources.get(at.file) {
                    let (line, col) = f.line_col(at.start as usize);
                    d = d.note(format!(
                        "every request it matches is decided by another rule, such as the one at {}:{line}:{col}",
                        f.name
                    ));
                }
            }
            None => {
                d = d.with_label("decides no request");
            }
        }
        d = d.help("remove the rule, or narrow the rule that overrides it");
        diags.push(d);
    }
    lap("W0001 reported");
    diags.sort();
    (diags, work)
}

/// A span as a sortable, hashable key (file, start, end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SpanKey(u32, u32, u32);

impl SpanKey {
    fn of(s: Span) -> SpanKey {
        SpanKey(s.file.0, s.start, s.end)
    }
}

fn has_drive(r: &BoundRule) -> bool {
    r.paths
        .iter()
        .chain(&r.from)
        .any(|g| matches!(g.root, Root::Drive(_)))
}

/// What the analysis of one agent found: per bound rule, whether it decides some
/// request (or may: an undecided question counts as deciding); the exposed places.
struct Analysis {
    decides: Vec<bool>,
    found: Vec<Found>,
    /// For W0001's label: a request the rule matches and the rule deciding it, when
    /// the analysis met one (otherwise the reference interpreter looks for one).
    witness: HashMap<usize, (usize, Request)>,
}

/// Analyses one bound agent; `None` when it cannot be compiled (or, in
/// [`Mode::Exact`], its product is past the budget). `ready` waits for the fixed
/// automata.
fn analyse(b: &Bound, mode: Mode, work: &mut Work, ready: &mut dyn FnMut()) -> Option<Analysis> {
    let fs_patterns: usize = b
        .rules
        .iter()
        .filter(|r| r.section == SectionKind::Fs)
        .map(|r| r.paths.len())
        .sum();
    let exact = match mode {
        Mode::Exact => true,
        Mode::Scalable => false,
        Mode::Auto => fs_patterns <= EXACT_FS_PATTERNS,
    };
    if exact {
        let sections = crate::compile::compile_sections(b, false).ok();
        ready();
        if let Some(a) = sections.and_then(|s| analyse_exact(b, &s, work)) {
            work.exact_agents += 1;
            return Some(a);
        }
        if mode == Mode::Exact {
            return None;
        }
    }
    // The engine's own automata: on Linux the per-component fs automata (linear in the
    // policy, and far smaller than byte automata of many alternatives), on Windows the
    // byte automata (`fs_anywhere` backwards). The refinement only decides single
    // requests with them; its small automata are byte automata of a few globs.
    let (sections, fs_comp) = crate::compile::compile_sections_of_table(b).ok()?;
    ready();
    work.scalable_agents += 1;
    Some(analyse_scalable(b, &sections, fs_comp.as_ref(), work))
}

fn sections_states(s: &Sections, fs_comp: Option<&ev::comp::CompFs>) -> usize {
    let comp = fs_comp.map_or(0, |c| c.rooted.nstates() + c.anywhere.nstates());
    s.fs.nstates() + s.fs_anywhere.nstates() + comp + s.net.nstates() + s.app.nstates()
}

/// The per-component fs automata of a table ([`ev::comp::CompFs`]) walked as the engine
/// walks them, with the literals hashed once.
struct CompWalk<'a> {
    c: &'a ev::comp::CompFs,
    lits: FxMap<&'a [u8], u32>,
}

impl<'a> CompWalk<'a> {
    fn new(c: &'a ev::comp::CompFs) -> CompWalk<'a> {
        let lits = (0..c.nlits()).map(|i| (c.lit(i), i as u32)).collect();
        CompWalk { c, lits }
    }

    /// The class pair (literal or `NONE`, key class) of one element: what
    /// [`ev::comp::CompFs::classify_slow`] computes, by hash.
    fn classify(&self, elem: &[u8]) -> (u32, u32) {
        let l = self.c.nlits() as u32;
        if let Some(&i) = self.lits.get(elem) {
            let k = self
                .c
                .lit_key
                .get(i as usize)
                .copied()
                .unwrap_or(ev::comp::KEY_NONE);
            return (i, l.saturating_add(k));
        }
        let k = self.c.globs.accept_of(elem);
        let k = if k == ev::NONE { ev::comp::KEY_NONE } else { k };
        (ev::NONE, l.saturating_add(k))
    }

    /// The accepting rows (or `NONE`) of the rooted and the anywhere automaton after
    /// the elements of `path` (the pieces between `/`; `/` itself is two empty ones).
    fn ends(&self, path: &[u8]) -> (u32, u32) {
        let (ra, rz) = (&self.c.rooted, &self.c.anywhere);
        let (mut a, mut z) = (ra.start, rz.start);
        for elem in path.split(|&b| b == b'/') {
            if a == 0 && z == 0 {
                break;
            }
            let (lit, keyc) = self.classify(elem);
            if a != 0 {
                a = ra.step(a, lit, keyc);
            }
            if z != 0 {
                z = rz.step(z, lit, keyc);
            }
        }
        let acc =
            |d: &ev::comp::CompDfa, s: u32| d.accept.get(s as usize).copied().unwrap_or(ev::NONE);
        (acc(ra, a), acc(rz, z))
    }
}

// ---------------------------------------------------------------------------------------
// Operations on the compiler's automaton ([`Dense`]) that only the lints need: small
// automata from step functions, products, reachability. Byte classes are merged by the
// compiler's own [`merge_classes`].

// ---------------------------------------------------------------------------------------
// Validity automata (what a request can be), built once per process.

/// Accept value of the validity automata (non-accepting states have `NONE`).
const VALID: u32 = 1;

fn valid_accept(ok: bool) -> u32 {
    if ok {
        VALID
    } else {
        ev::NONE
    }
}

/// Normalised absolute paths: states 1 start, 2 root `/`, 3 after a separator,
/// 4 component `.`, 5 component `..`, 6 in an ordinary component.
fn norm_step(s: u32, b: u8) -> u32 {
    match (s, b) {
        (0, _) | (_, 0) => 0,
        (1, b'/') => 2,
        (1, _) => 0,
        (2 | 3, b'/') => 0,
        (2 | 3, b'.') => 4,
        (2 | 3, _) => 6,
        (4, b'.') => 5,
        (4 | 5, b'/') => 0,
        (4 | 5, _) => 6,
        (6, b'/') => 3,
        (6, _) => 6,
        _ => 0,
    }
}

fn norm_valid(s: u32) -> bool {
    s == 2 || s == 6
}

/// UTF-8 validation: 1 between characters, 2..=4 expecting 1..=3 more continuation
/// bytes, 5..=8 after `E0`, `ED`, `F0`, `F4` (restricted second byte).
const U_OK: u32 = 1;

fn utf8_step(u: u32, b: u8) -> u32 {
    match (u, b) {
        (1, 0x00..=0x7f) => 1,
        (1, 0xc2..=0xdf) => 2,
        (1, 0xe0) => 5,
        (1, 0xe1..=0xec | 0xee..=0xef) => 3,
        (1, 0xed) => 6,
        (1, 0xf0) => 7,
        (1, 0xf1..=0xf3) => 4,
        (1, 0xf4) => 8,
        (2..=4, 0x80..=0xbf) => u - 1,
        (5, 0xa0..=0xbf) | (6, 0x80..=0x9f) => 2,
        (7, 0x90..=0xbf) | (8, 0x80..=0x8f) => 3,
        _ => 0,
    }
}

/// A request encoding as a structure automaton (`n` states, 0 dead) whose text
/// segments (`seg(s) != 0`: a path, a host name, the arguments) must be UTF-8, like
/// every request `mxcc` and the reference interpreter take. A byte between two states
/// of one segment is content; leaving a segment needs a complete character. Only the
/// reachable states are kept.
fn with_utf8(
    n: u32,
    start: u32,
    accept: impl Fn(u32) -> bool,
    seg: impl Fn(u32) -> u8,
    step: impl Fn(u32, u8) -> u32,
) -> Dense {
    const K: u32 = 9;
    let acc = (0..n * K)
        .map(|i| {
            let (s, u) = (i / K, i % K);
            valid_accept(s != 0 && u != 0 && accept(s) && (seg(s) == 0 || u == U_OK))
        })
        .collect();
    let full = Dense::from_fn((n * K) as usize, start * K + U_OK, acc, |i, b| {
        let (s, u) = (i / K, i % K);
        if s == 0 || u == 0 {
            return 0;
        }
        let t = step(s, b);
        if t == 0 {
            return 0;
        }
        let (from, to) = (seg(s), seg(t));
        let v = if from != 0 && from == to {
            utf8_step(u, b)
        } else if from != 0 && u != U_OK {
            0
        } else {
            U_OK
        };
        if v == 0 {
            0
        } else {
            t * K + v
        }
    });
    let all = Dense::from_fn(2, 1, vec![ev::NONE, VALID], |_, _| 1);
    Dense::product(&full, &all, |a, _| a)
}

/// Normalised absolute UTF-8 paths.
fn path_automaton() -> Dense {
    with_utf8(7, 1, norm_valid, |s| u8::from(s != 0), norm_step)
}

/// Launch requests: a normalised program path, [`PROGRAM_END`], then the arguments.
fn app_automaton() -> Dense {
    with_utf8(
        8,
        1,
        |s| s == 7,
        |s| match s {
            1..=6 => 1,
            7 => 2,
            _ => 0,
        },
        |s, b| match s {
            1..=6 if b == PROGRAM_END && norm_valid(s) => 7,
            1..=6 => norm_step(s, b),
            7 => 7,
            _ => 0,
        },
    )
}

/// Net requests in the encoding of `mxc_eval::encoding`: right, proto, host
/// ([`HOST_NAME`] lowercase name [`NAME_END`] | [`HOST_V4`] 4 bytes | [`HOST_V6`] 16
/// bytes), port (2 bytes), then [`NO_PROGRAM`], or [`PROGRAM`] and a normalised program
/// path.
fn net_automaton() -> Dense {
    const NAME: u32 = 4;
    const V4: u32 = 5; // 5..=8
    const V6: u32 = 9; // 9..=24
    const PORT: u32 = 25; // 25, 26
    const PROG: u32 = 27;
    const END: u32 = 28;
    const PATH: u32 = 28; // path state n (1..=6) is PATH + n
    with_utf8(
        35,
        1,
        |s| s == END || (s > PATH && norm_valid(s - PATH)),
        |s| match s {
            NAME => 1,
            29..=34 => 2,
            _ => 0,
        },
        |s, b| match s {
            1 if b == NetRight::Connect as u8 || b == NetRight::Bind as u8 => 2,
            2 if b == Proto::Tcp as u8 || b == Proto::Udp as u8 => 3,
            3 => match b {
                HOST_NAME => NAME,
                HOST_V4 => V4,
                HOST_V6 => V6,
                _ => 0,
            },
            NAME => match b {
                NAME_END => PORT,
                b'A'..=b'Z' => 0,
                _ => NAME,
            },
            5..=7 | 9..=23 | 25 | 26 => s + 1,
            8 | 24 => PORT,
            PROG => match b {
                NO_PROGRAM => END,
                PROGRAM => PATH + 1,
                _ => 0,
            },
            29..=34 => match norm_step(s - PATH, b) {
                0 => 0,
                t => PATH + t,
            },
            _ => 0,
        },
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// W0005: reading is the risk.
    Read,
    /// W0006: writing or creating is the risk.
    Write,
}

impl Kind {
    /// The rights whose `allow` is the risk, in the order they are reported.
    fn rights(self) -> &'static [ev::FsRight] {
        match self {
            Kind::Read => &[ev::FsRight::Read],
            Kind::Write => &[ev::FsRight::Write, ev::FsRight::Create],
        }
    }
}

/// A place of W0005/W0006.
#[derive(Debug)]
struct Place {
    kind: Kind,
    /// How it is named in messages.
    shown: String,
    /// For W0006: what runs it.
    what: &'static str,
    /// The pattern to suggest in the help.
    suggest: String,
    /// The paths of the place (Linux, `~` the placeholder home), as globs.
    globs: Vec<PathGlob>,
}

const CREDENTIAL_STORES: [&str; 7] = [
    ".ssh",
    ".aws",
    ".config/gh",
    ".netrc",
    ".docker/config.json",
    ".kube/config",
    ".gnupg",
];

const SHELL_RC: [&str; 10] = [
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".config/fish/config.fish",
];

/// The glob of literal components `path` (`root` `/` or `**`), then `/**` if `below`.
fn literal_glob(root: Root, path: &str, below: bool) -> PathGlob {
    let mut comps: Vec<Comp> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .map(|c| Comp::Seg(vec![Atom::Lit(c.to_string())]))
        .collect();
    if below {
        comps.push(Comp::AnyDepth);
    }
    PathGlob { root, comps }
}

fn places() -> Vec<Place> {
    let home = placeholder("home", ParamType::Path);
    let mut v = Vec::new();
    for rel in CREDENTIAL_STORES {
        v.push(Place {
            kind: Kind::Read,
            shown: format!("~/{rel}"),
            what: "",
            suggest: format!("~/{rel}/**"),
            globs: vec![literal_glob(Root::Slash, &format!("{home}/{rel}"), true)],
        });
    }
    v.push(Place {
        kind: Kind::Write,
        shown: "shell startup files".into(),
        what: "a shell startup file, run outside the sandbox at the next login",
        suggest: "~/.{bashrc,bash_profile,bash_login,bash_logout,profile,zshrc,zshenv,zprofile,zlogin}\", \"~/.config/fish/config.fish".into(),
        globs: SHELL_RC
            .iter()
            .map(|rc| literal_glob(Root::Slash, &format!("{home}/{rc}"), false))
            .collect(),
    });
    v.push(Place {
        kind: Kind::Write,
        shown: "~/.config/autostart".into(),
        what: "an autostart entry, run outside the sandbox at the next login",
        suggest: "~/.config/autostart/**".into(),
        globs: vec![literal_glob(
            Root::Slash,
            &format!("{home}/.config/autostart"),
            true,
        )],
    });
    v.push(Place {
        kind: Kind::Write,
        shown: ".git/hooks".into(),
        what: "git hooks, run outside the sandbox by the next git command",
        suggest: "**/.git/hooks/**".into(),
        globs: vec![literal_glob(Root::Anywhere, ".git/hooks", true)],
    });
    v.push(Place {
        kind: Kind::Write,
        shown: ".git/config".into(),
        what: "git configuration, which can make git run programs outside the sandbox",
        suggest: "**/.git/config".into(),
        globs: vec![literal_glob(Root::Anywhere, ".git/config", false)],
    });
    v.push(Place {
        kind: Kind::Write,
        shown: ".vscode".into(),
        what: "editor settings and tasks, run outside the sandbox by the editor",
        suggest: "**/.vscode/**".into(),
        globs: vec![literal_glob(Root::Anywhere, ".vscode", true)],
    });
    v.push(Place {
        kind: Kind::Write,
        shown: ".mcp.json".into(),
        what: "MCP server definitions, started outside the sandbox by the next agent",
        suggest: "**/.mcp.json".into(),
        globs: vec![literal_glob(Root::Anywhere, ".mcp.json", false)],
    });
    v
}

/// Where the strings of a glob start.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Start {
    /// Every string starts with this text (the glob's literal text up to its first
    /// wildcard, and before the `/` of a `/**`).
    Text(String),
    /// `**/...`: anywhere.
    Anywhere,
    /// A drive: no Linux path.
    Drive,
}

fn start_of(g: &PathGlob) -> Start {
    match g.root {
        Root::Anywhere => return Start::Anywhere,
        Root::Drive(_) => return Start::Drive,
        Root::Slash => {}
    }
    let mut s = String::new();
    for c in &g.comps {
        let Comp::Seg(atoms) = c else {
            break;
        };
        s.push('/');
        for a in atoms {
            match a {
                Atom::Lit(l) => s.push_str(l),
                _ => return Start::Text(s),
            }
        }
    }
    Start::Text(s)
}

/// Whether two globs may match a common path, judged by where their strings start
/// (`false` only when they cannot).
fn may_meet(a: &Start, b: &Start) -> bool {
    match (a, b) {
        (Start::Drive, _) | (_, Start::Drive) => false,
        (Start::Text(x), Start::Text(y)) => x.starts_with(y.as_str()) || y.starts_with(x.as_str()),
        _ => true,
    }
}

struct Automata {
    path: Dense,
    net: Dense,
    app: Dense,
    places: PlacesAutomaton,
}

struct PlacesAutomaton {
    places: Vec<Place>,
    /// Where each place's globs start.
    starts: Vec<Vec<Start>>,
    /// Normalised paths × places (bit i of a state's accept value: place i matches),
    /// `None` if it could not be built (then the exact search is not used).
    auto: Option<Dense>,
    /// Per state of `auto`: the places still reachable.
    reach: Vec<u32>,
    read_mask: u32,
    write_mask: u32,
}

fn automata() -> &'static Automata {
    static AUTOMATA: OnceLock<Automata> = OnceLock::new();
    AUTOMATA.get_or_init(|| {
        let path = path_automaton();
        let places = places();
        let globs: Vec<(&PathGlob, u32)> = places
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.globs.iter().map(move |g| (g, 1u32 << i)))
            .collect();
        let auto = dense_of_globs(&globs, 1 << 16)
            .ok()
            .map(|d| Dense::product(&path, &d, |n, m| if n != ev::NONE { m } else { ev::NONE }));
        let reach = auto.as_ref().map(Dense::reach_bits).unwrap_or_default();
        let mask = |k: Kind| {
            places
                .iter()
                .enumerate()
                .filter(|(_, p)| p.kind == k)
                .fold(0u32, |m, (i, _)| m | 1 << i)
        };
        let starts = places
            .iter()
            .map(|p| p.globs.iter().map(start_of).collect())
            .collect();
        Automata {
            path,
            net: net_automaton(),
            app: app_automaton(),
            places: PlacesAutomaton {
                read_mask: mask(Kind::Read),
                write_mask: mask(Kind::Write),
                starts,
                places,
                auto,
                reach,
            },
        }
    })
}
// ---------------------------------------------------------------------------------------
// Searching the compiled automata

/// `next_state(s, class)` (out-of-range reads give the dead state).
fn dstep(d: &Dense, s: u32, class: u32) -> u32 {
    d.step(s, class)
}

/// The reachable product of a table's two fs automata (`fs` and `fs_anywhere`), with
/// each state's row the combination of the two rows per SPEC §6 (what the engine
/// computes per request). Linear in the number of reachable pairs; `None` past
/// [`PRODUCT_BUDGET`] transitions.
fn fs_product(table: &Sections, default: ev::Effect) -> Option<(Dense, Vec<ev::FsRow>)> {
    let (a, b) = (&table.fs, &table.fs_anywhere);
    let default = ev::Decision {
        effect: default,
        rule: None,
    };
    // Joint byte classes, with one representative byte each.
    let mut joint: HashMap<(u8, u8), u8> = HashMap::new();
    let mut classes = vec![0u8; 256];
    let mut reps: Vec<(u32, u32)> = Vec::new();
    for (byte, class) in classes.iter_mut().enumerate() {
        let key = (a.class_of[byte], b.class_of[byte]);
        let next = joint.len() as u8;
        *class = *joint.entry(key).or_insert_with(|| {
            reps.push((u32::from(key.0), u32::from(key.1)));
            next
        });
    }
    let k = reps.len();
    let row_of = |d: &Dense, s: u32| -> ev::FsRow {
        d.accept
            .get(s as usize)
            .and_then(|&r| table.fs_rows.get(r as usize))
            .copied()
            .unwrap_or([default; 4])
    };
    let mut ids: FxMap<(u32, u32), u32> = FxMap::default();
    ids.insert((0, 0), 0);
    let mut order = vec![(0u32, 0u32)];
    let start = (a.start, b.start);
    let start_id = if start == (0, 0) {
        0
    } else {
        ids.insert(start, 1);
        order.push(start);
        1
    };
    let mut trans = vec![0u32; k];
    let mut i = 1;
    while i < order.len() {
        let (sa, sb) = order[i];
        for &(ca, cb) in &reps {
            let t = (dstep(a, sa, ca), dstep(b, sb, cb));
            let next = order.len() as u32;
            let id = *ids.entry(t).or_insert_with(|| {
                order.push(t);
                next
            });
            trans.push(id);
        }
        if trans.len() > PRODUCT_BUDGET {
            return None;
        }
        i += 1;
    }
    let mut rows: Vec<ev::FsRow> = Vec::new();
    let mut row_ids: FxMap<ev::FsRow, u32> = FxMap::default();
    let accept = order
        .iter()
        .map(|&(sa, sb)| {
            let (ra, rb) = (row_of(a, sa), row_of(b, sb));
            let row: ev::FsRow = std::array::from_fn(|r| ev::combine(ra[r], rb[r]));
            if row.iter().all(|d| d.rule.is_none()) {
                return ev::NONE;
            }
            intern(&mut rows, &mut row_ids, row)
        })
        .collect();
    let dfa = Dense {
        nclasses: k,
        class_of: classes,
        start: start_id,
        trans,
        accept,
    };
    Some((dfa, rows))
}

/// Preference of a byte as the representative of its class in a witness: lowercase
/// letters, uppercase letters, digits, other printable ASCII, then the rest.
fn byte_rank(b: u8) -> u16 {
    let group = match b {
        b'a'..=b'z' => 0,
        b'A'..=b'Z' => 1,
        b'0'..=b'9' => 2,
        b'_' | b'-' => 3,
        0x21..=0x7e => 4,
        _ => 5,
    };
    group * 256 + u16::from(b)
}

/// A class of the product alphabet: the fs automaton's class, the small automaton's
/// class, and the representative byte.
#[derive(Clone, Copy, Debug)]
struct PClass {
    fc: u32,
    sc: u32,
    rep: u8,
}

/// The classes of the product alphabet, best representatives first.
fn product_classes(d: &Dense, s: &Dense) -> Vec<PClass> {
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.sort_by_key(|&b| byte_rank(b));
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let mut out = Vec::new();
    for b in bytes {
        let fc = u32::from(d.class_of.get(b as usize).copied().unwrap_or(0));
        if fc as usize >= d.nclasses {
            continue;
        }
        let sc = s.class(b);
        if seen.insert((fc, sc)) {
            out.push(PClass { fc, sc, rep: b });
        }
    }
    out
}

/// The rows (`< nrows`) of the accepting states reachable in `d × valid` at a valid
/// state: exactly the rows some request reaches.
fn accepting_rows(d: &Dense, valid: &Dense, nrows: usize) -> Vec<bool> {
    let mut hit = vec![false; nrows];
    if d.start == 0 || valid.start == 0 || nrows == 0 {
        return hit;
    }
    // The product classes grouped by the automaton's class: (class, its validity
    // classes), so that a dead transition is skipped once for all of them.
    let mut by_fc: Vec<(u32, Vec<u32>)> = Vec::new();
    for pc in product_classes(d, valid) {
        match by_fc.iter_mut().find(|(fc, _)| *fc == pc.fc) {
            Some((_, scs)) => scs.push(pc.sc),
            None => by_fc.push((pc.fc, vec![pc.sc])),
        }
    }
    let nv = valid.nstates();
    let mut seen = vec![false; d.nstates() * nv];
    let key = |f: u32, s: u32| f as usize * nv + s as usize;
    let Some(slot) = seen.get_mut(key(d.start, valid.start)) else {
        return hit;
    };
    *slot = true;
    let mut stack = vec![(d.start, valid.start)];
    while let Some((f, s)) = stack.pop() {
        if valid.accept[s as usize] != ev::NONE {
            if let Some(h) = d
                .accept
                .get(f as usize)
                .and_then(|&r| hit.get_mut(r as usize))
            {
                *h = true;
            }
        }
        for (fc, scs) in &by_fc {
            let f2 = dstep(d, f, *fc);
            if f2 == 0 {
                continue;
            }
            for &sc in scs {
                let s2 = valid.step(s, sc);
                if s2 == 0 {
                    continue;
                }
                if let Some(slot) = seen.get_mut(key(f2, s2)) {
                    if !*slot {
                        *slot = true;
                        stack.push((f2, s2));
                    }
                }
            }
        }
    }
    hit
}

/// Bits of what an fs state can still reach: an allowed read, an allowed write/create.
const CAN_READ: u8 = 1;
const CAN_WRITE: u8 = 2;

fn row_bits(row: &ev::FsRow) -> u8 {
    let allow = |r: ev::FsRight| row[r as usize].effect == ev::Effect::Allow;
    let mut b = 0;
    if allow(ev::FsRight::Read) {
        b |= CAN_READ;
    }
    if allow(ev::FsRight::Write) || allow(ev::FsRight::Create) {
        b |= CAN_WRITE;
    }
    b
}

/// For each fs state reachable from the start, which allowing rows ([`CAN_READ`],
/// [`CAN_WRITE`]) it can reach. Tarjan's strongly connected components, iteratively:
/// a component is finished only after every component it reaches, so its bits are
/// final when it is. Linear in states × classes, with memory linear in states.
fn fs_reach(d: &Dense, rows: &[ev::FsRow]) -> Vec<u8> {
    const UNSEEN: u32 = u32::MAX;
    let n = d.nstates();
    let k = d.nclasses as u32;
    let mut bits: Vec<u8> = (0..n)
        .map(|s| {
            d.accept
                .get(s)
                .and_then(|&r| rows.get(r as usize))
                .map_or(0, row_bits)
        })
        .collect();
    let start = d.start as usize;
    if start == 0 || start >= n {
        return bits;
    }
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut calls: Vec<(u32, u32)> = Vec::new();
    let mut counter = 0u32;
    let mut visit = |v: u32,
                     index: &mut Vec<u32>,
                     low: &mut Vec<u32>,
                     on_stack: &mut Vec<bool>,
                     stack: &mut Vec<u32>,
                     calls: &mut Vec<(u32, u32)>| {
        index[v as usize] = counter;
        low[v as usize] = counter;
        counter += 1;
        on_stack[v as usize] = true;
        stack.push(v);
        calls.push((v, 0));
    };
    visit(
        d.start,
        &mut index,
        &mut low,
        &mut on_stack,
        &mut stack,
        &mut calls,
    );
    while let Some(&(v, c)) = calls.last() {
        let vu = v as usize;
        if c < k {
            if let Some(top) = calls.last_mut() {
                top.1 += 1;
            }
            let w = dstep(d, v, c);
            let wu = w as usize;
            if w == 0 || wu >= n {
                continue;
            }
            if index[wu] == UNSEEN {
                visit(
                    w,
                    &mut index,
                    &mut low,
                    &mut on_stack,
                    &mut stack,
                    &mut calls,
                );
            } else if on_stack[wu] {
                low[vu] = low[vu].min(index[wu]);
            } else {
                bits[vu] |= bits[wu];
            }
            continue;
        }
        calls.pop();
        if low[vu] == index[vu] {
            // `v` roots a component: everything above it on the stack.
            let from = stack.iter().rposition(|&x| x == v).unwrap_or(0);
            let m = stack[from..].iter().fold(0u8, |m, &x| m | bits[x as usize]);
            for &x in &stack[from..] {
                bits[x as usize] = m;
                on_stack[x as usize] = false;
            }
            stack.truncate(from);
        }
        if let Some(&(u, _)) = calls.last() {
            let uu = u as usize;
            if on_stack[vu] {
                low[uu] = low[uu].min(low[vu]);
            } else {
                bits[uu] |= bits[vu];
            }
        }
    }
    bits
}

/// Visited pairs of a product search.
enum Visited {
    Dense(Vec<u64>),
    Sparse(HashSet<u64>),
}

impl Visited {
    fn new(size: u64) -> Visited {
        if size <= 1 << 28 {
            Visited::Dense(vec![0; size.div_ceil(64) as usize])
        } else {
            Visited::Sparse(HashSet::new())
        }
    }
    /// Marks `k`; whether it was new.
    fn insert(&mut self, k: u64) -> bool {
        match self {
            Visited::Dense(v) => {
                let (w, bit) = ((k / 64) as usize, 1u64 << (k % 64));
                match v.get_mut(w) {
                    Some(x) if *x & bit == 0 => {
                        *x |= bit;
                        true
                    }
                    _ => false,
                }
            }
            Visited::Sparse(s) => s.insert(k),
        }
    }
}

/// A place an agent may read (W0005) or write (W0006), with the shortest witness.
#[derive(Debug)]
struct Found {
    place: usize,
    path: Vec<u8>,
    right: ev::FsRight,
    rule: usize,
}

/// Breadth-first search of (fs automaton × normalised paths × places): for each place,
/// the shortest path in it whose row allows the risky right. `None` past `budget`
/// product states (or without the places automaton).
fn search_places(
    d: &Dense,
    fs_rows: &[ev::FsRow],
    pa: &PlacesAutomaton,
    budget: usize,
) -> Option<Vec<Found>> {
    let s = pa.auto.as_ref()?;
    let mut out = Vec::new();
    if d.start == 0 || s.start == 0 {
        return Some(out);
    }
    let freach = fs_reach(d, fs_rows);
    let mut needed = pa.read_mask | pa.write_mask;
    let useful = |f: u32, st: u32, needed: u32| -> bool {
        let b = freach.get(f as usize).copied().unwrap_or(0);
        let mut m = 0;
        if b & CAN_READ != 0 {
            m |= pa.read_mask;
        }
        if b & CAN_WRITE != 0 {
            m |= pa.write_mask;
        }
        m & needed & pa.reach[st as usize] != 0
    };
    if !useful(d.start, s.start, needed) {
        return Some(out);
    }
    let classes = product_classes(d, s);
    let ns = s.nstates() as u64;
    let mut visited = Visited::new(d.nstates() as u64 * ns);
    // (fs state, places state, parent node, byte)
    let mut nodes: Vec<(u32, u32, u32, u8)> = vec![(d.start, s.start, u32::MAX, 0)];
    visited.insert(u64::from(d.start) * ns + u64::from(s.start));
    let mut i = 0;
    while i < nodes.len() && needed != 0 {
        let (f, st, _, _) = nodes[i];
        let here = bits(s.accept[st as usize]) & needed;
        if here != 0 {
            let row = d
                .accept
                .get(f as usize)
                .and_then(|&r| fs_rows.get(r as usize));
            if let Some(row) = row {
                for (p, place) in pa.places.iter().enumerate() {
                    if here & (1 << p) == 0 {
                        continue;
                    }
                    let hit = place.kind.rights().iter().find_map(|&r| {
                        let dec = row[r as usize];
                        (dec.effect == ev::Effect::Allow)
                            .then_some(dec.rule)
                            .flatten()
                            .map(|id| (r, id.0 as usize))
                    });
                    if let Some((right, rule)) = hit {
                        needed &= !(1 << p);
                        out.push(Found {
                            place: p,
                            path: witness(&nodes, i),
                            right,
                            rule,
                        });
                    }
                }
            }
        }
        for pc in &classes {
            let f2 = dstep(d, f, pc.fc);
            let s2 = s.step(st, pc.sc);
            if f2 == 0 || s2 == 0 || !useful(f2, s2, needed) {
                continue;
            }
            if visited.insert(u64::from(f2) * ns + u64::from(s2)) {
                nodes.push((f2, s2, i as u32, pc.rep));
            }
        }
        if nodes.len() > budget {
            return None;
        }
        i += 1;
    }
    out.sort_by_key(|f| f.place);
    Some(out)
}

/// The bytes leading to node `i`.
fn witness(nodes: &[(u32, u32, u32, u8)], mut i: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    while let Some(&(_, _, parent, b)) = nodes.get(i) {
        if parent == u32::MAX {
            break;
        }
        bytes.push(b);
        i = parent as usize;
    }
    bytes.reverse();
    bytes
}

// ---------------------------------------------------------------------------------------
// The exact analysis: product searches (see the module documentation).

/// Most product states the exact W0005/W0006 search may visit.
const PLACES_BUDGET: usize = 1 << 22;

fn analyse_exact(b: &Bound, table: &Sections, work: &mut Work) -> Option<Analysis> {
    let autos = automata();
    // The two fs automata as one (only when there are `**/` patterns).
    let product;
    let (fs_dfa, fs_rows): (&Dense, &[ev::FsRow]) = if table.fs_anywhere.start == 0 {
        (&table.fs, &table.fs_rows)
    } else {
        product = fs_product(table, crate::compile::to_eval_effect(b.agent.default))?;
        (&product.0, &product.1)
    };
    // net and app on a second thread; fs (W0001, then W0005/W0006) on this one.
    let (fs_hit, found, (net_hit, app_hit)) = std::thread::scope(|scope| {
        let other = scope.spawn(|| net_app_rows(table));
        let fs_hit = accepting_rows(fs_dfa, &autos.path, fs_rows.len());
        let found = search_places(fs_dfa, fs_rows, &autos.places, PLACES_BUDGET);
        (fs_hit, found, join_rows(other, table))
    });
    let found = found?;
    work.compiled_states += sections_states(table, None) + fs_dfa.nstates();
    let mut decides = vec![false; b.rules.len()];
    let mut mark = |d: &ev::Decision| {
        if let Some(r) = d.rule.and_then(|r| decides.get_mut(r.0 as usize)) {
            *r = true;
        }
    };
    for (row, _) in fs_rows.iter().zip(&fs_hit).filter(|(_, h)| **h) {
        row.iter().for_each(&mut mark);
    }
    for (d, _) in table.net_rows.iter().zip(&net_hit).filter(|(_, h)| **h) {
        mark(d);
    }
    for (d, _) in table.app_rows.iter().zip(&app_hit).filter(|(_, h)| **h) {
        mark(d);
    }
    Some(Analysis {
        decides,
        found,
        witness: HashMap::new(),
    })
}

/// W0001 for net and app: the rows some valid request reaches (exact; linear in the
/// two automata, which are linear in the policy).
fn net_app_rows(table: &Sections) -> (Vec<bool>, Vec<bool>) {
    let autos = automata();
    (
        accepting_rows(&table.net, &autos.net, table.net_rows.len()),
        accepting_rows(&table.app, &autos.app, table.app_rows.len()),
    )
}

/// The result of [`net_app_rows`] on another thread; if it panicked, every row counts
/// as reached (no warning).
fn join_rows(
    h: std::thread::ScopedJoinHandle<'_, (Vec<bool>, Vec<bool>)>,
    table: &Sections,
) -> (Vec<bool>, Vec<bool>) {
    h.join().unwrap_or_else(|_| {
        (
            vec![true; table.net_rows.len()],
            vec![true; table.app_rows.len()],
        )
    })
}

// ---------------------------------------------------------------------------------------
// The scalable analysis: refinement with small automata and single decisions (see the
// module documentation).

/// How rule `d` stands to rule `r` (both fs rules with a common right): whether `d`
/// decides every request both match, per SPEC §6.
fn beats(rules: &[BoundRule], d: usize, r: usize) -> bool {
    let rank = |e: Effect| match e {
        Effect::Deny => 2,
        Effect::Ask => 1,
        Effect::Allow => 0,
    };
    let (rd, rr) = (rank(rules[d].effect), rank(rules[r].effect));
    d != r && (rd > rr || (rd == rr && d < r))
}

/// The answer to one W0001 question (one pattern, one right of a rule).
enum Cover {
    /// The rule decides some request of the pattern with the right.
    Decides,
    /// Every request of the pattern with the right is decided by another rule.
    Covered,
    /// Not known within the budget.
    Unknown,
}

struct Scalable<'a> {
    b: &'a Bound,
    table: &'a Sections,
    /// The per-component fs automata, when the table has them (Linux).
    comp: Option<CompWalk<'a>>,
    default: ev::Decision,
    valid: &'a Dense,
    work: Work,
    witness: HashMap<usize, (usize, Request)>,
    /// Small-automaton states this agent's analysis may still build.
    budget: usize,
}

impl<'a> Scalable<'a> {
    /// The decisions of the compiled automata on a path (as the engine walks them).
    fn row(&mut self, path: &[u8]) -> ev::FsRow {
        self.work.decisions += 1;
        let t = self.table;
        let row = |r: u32| -> ev::FsRow {
            t.fs_rows
                .get(r as usize)
                .copied()
                .unwrap_or([self.default; 4])
        };
        let (a, z) = match &self.comp {
            Some(c) => {
                let (a, z) = c.ends(path);
                (row(a), row(z))
            }
            None => {
                let end = |d: &Dense, s: u32| d.accept.get(s as usize).copied().unwrap_or(ev::NONE);
                (
                    row(end(&t.fs, t.fs.run(path.iter().copied()))),
                    row(end(
                        &t.fs_anywhere,
                        t.fs_anywhere.run(path.iter().rev().copied()),
                    )),
                )
            }
        };
        std::array::from_fn(|r| ev::combine(a[r], z[r]))
    }

    /// The rule deciding `right` on `path`, if a rule decides it.
    fn decided_by(&mut self, path: &[u8], right: ev::FsRight) -> Option<usize> {
        self.row(path)[right as usize].rule.map(|r| r.0 as usize)
    }

    /// The shortest valid path matched by globs whose bits cover `want` and by none
    /// whose bits meet `avoid`; `Err` past the budget.
    fn shortest(
        &mut self,
        globs: &[(&PathGlob, u32)],
        want: u32,
        avoid: u32,
    ) -> Result<Option<Vec<u8>>, ()> {
        let cap = self.budget.min(SMALL_BUDGET);
        let d = dense_of_globs(globs, cap).map_err(|_| {
            self.budget = self.budget.saturating_sub(cap);
        })?;
        self.work.small_states += d.nstates();
        self.budget = self.budget.saturating_sub(d.nstates());
        Ok(shortest_path(&d, self.valid, want, avoid))
    }

    /// Whether fs rule `ri` decides some request, or may (see [`Cover`]).
    fn rule_decides(&mut self, ri: usize) -> bool {
        let b: &'a Bound = self.b;
        let r = &b.rules[ri];
        if has_drive(r) {
            return true;
        }
        for right in ev::FsRight::ALL {
            if !r.rights.fs().has(right) {
                continue;
            }
            for g in &r.paths {
                match self.cover(ri, g, right) {
                    Cover::Covered => {}
                    Cover::Unknown => {
                        self.work.undecided += 1;
                        return true;
                    }
                    Cover::Decides => return true,
                }
            }
        }
        false
    }

    /// Whether rule `ri` decides a request of its pattern `g` with `right`, by
    /// refinement over the rules that beat it.
    fn cover(&mut self, ri: usize, g: &'a PathGlob, right: ev::FsRight) -> Cover {
        let b: &'a Bound = self.b;
        let rules = &b.rules;
        let mut by: Vec<usize> = Vec::new();
        // A sample first: most rules decide their own sample, with no automaton built.
        if let Some(x) = sample_path(g).filter(|p| valid_path(p)) {
            match self.decided_by(x.as_bytes(), right) {
                Some(d) if d == ri => return Cover::Decides,
                Some(d) if d < rules.len() && beats(rules, d, ri) => {
                    by.push(d);
                    let req = Request::Fs { right, path: x };
                    if crate::interp::rule_matches(&rules[ri], &req, false) {
                        self.witness.entry(ri).or_insert((d, req));
                    }
                }
                _ => {}
            }
        }
        for _ in 0..ROUNDS {
            let mut globs: Vec<(&PathGlob, u32)> = vec![(g, 1)];
            for &d in &by {
                globs.extend(rules[d].paths.iter().map(|h| (h, 2)));
            }
            let x = match self.shortest(&globs, 1, 2) {
                Err(()) => return Cover::Unknown,
                Ok(None) => return Cover::Covered,
                Ok(Some(x)) => x,
            };
            match self.decided_by(&x, right) {
                Some(d) if d == ri => return Cover::Decides,
                // `d` decides a request `g` matches: it beats rule `ri`.
                Some(d) if d < rules.len() && beats(rules, d, ri) && !by.contains(&d) => {
                    by.push(d);
                    if let Ok(path) = String::from_utf8(x) {
                        let req = Request::Fs { right, path };
                        self.witness.entry(ri).or_insert((d, req));
                    }
                }
                // The automata disagree with the globs: no conclusion.
                _ => return Cover::Unknown,
            }
        }
        Cover::Unknown
    }

    /// W0005/W0006: per place, the first exposure found (see the module docs).
    fn places(&mut self) -> Vec<Found> {
        let pa = &automata().places;
        let b: &'a Bound = self.b;
        let rules = &b.rules;
        let starts: Vec<Vec<Start>> = rules
            .iter()
            .map(|r| r.paths.iter().map(start_of).collect())
            .collect();
        let mut out = Vec::new();
        for (pi, place) in pa.places.iter().enumerate() {
            let pstarts = &pa.starts[pi];
            // Blockers written `**/...` found so far, per right: tried first.
            let mut carried: [Vec<usize>; 4] = Default::default();
            // Per right: how many carried blockers were checked, and whether they
            // cover the whole place (then no candidate can expose it with that right).
            let mut covered: [(usize, bool); 4] = Default::default();
            let mut best: Option<Found> = None;
            for (ai, a) in rules.iter().enumerate() {
                if a.section != SectionKind::Fs || a.effect != Effect::Allow {
                    continue;
                }
                let meets = starts[ai]
                    .iter()
                    .any(|s| pstarts.iter().any(|p| may_meet(s, p)));
                if !meets {
                    continue;
                }
                for &right in place.kind.rights() {
                    if !a.rights.fs().has(right) {
                        continue;
                    }
                    let c = &mut carried[right as usize];
                    let (checked, cover) = &mut covered[right as usize];
                    if !c.is_empty() && *checked != c.len() {
                        *checked = c.len();
                        *cover = self.place_covered(place, c);
                    }
                    if *cover {
                        continue;
                    }
                    if let Some(f) = self.exposure(place, pi, ai, right, c) {
                        if best.as_ref().is_none_or(|b| f.path.len() < b.path.len()) {
                            best = Some(f);
                        }
                    }
                }
                if best.is_some() {
                    break;
                }
            }
            out.extend(best);
        }
        out
    }

    /// Whether every valid path of the place is matched by one of `blockers` (rules
    /// that deny or ask the right: wherever one matches, the right is not allowed):
    /// then no `allow` rule exposes the place with that right. One small automaton
    /// for the place, instead of one per candidate rule (thousands of rooted trees
    /// meet `.git/hooks` anywhere, and `**/.git/hooks/**` blocks them all).
    fn place_covered(&mut self, place: &Place, blockers: &[usize]) -> bool {
        let b: &'a Bound = self.b;
        let mut globs: Vec<(&PathGlob, u32)> = place.globs.iter().map(|g| (g, 1)).collect();
        for &k in blockers {
            globs.extend(b.rules[k].paths.iter().map(|g| (g, 4)));
        }
        matches!(self.shortest(&globs, 1, 4), Ok(None))
    }

    /// The shortest path of (place ∩ rule `ai`) allowed `right`, by refinement over the
    /// rules that block it; `None` when there is none (or it is not known).
    fn exposure(
        &mut self,
        place: &Place,
        pi: usize,
        ai: usize,
        right: ev::FsRight,
        carried: &mut Vec<usize>,
    ) -> Option<Found> {
        let b: &'a Bound = self.b;
        let rules = &b.rules;
        let mut blockers: Vec<usize> = carried.clone();
        for _ in 0..ROUNDS {
            let mut globs: Vec<(&PathGlob, u32)> = place.globs.iter().map(|g| (g, 1)).collect();
            globs.extend(rules[ai].paths.iter().map(|g| (g, 2)));
            for &k in &blockers {
                globs.extend(rules[k].paths.iter().map(|g| (g, 4)));
            }
            let x = match self.shortest(&globs, 3, 4) {
                Err(()) => {
                    self.work.undecided += 1;
                    return None;
                }
                Ok(None) => return None,
                Ok(Some(x)) => x,
            };
            let d = self.row(&x)[right as usize];
            let Some(k) = d.rule.map(|r| r.0 as usize).filter(|&k| k < rules.len()) else {
                self.work.undecided += 1;
                return None;
            };
            if d.effect == ev::Effect::Allow {
                return Some(Found {
                    place: pi,
                    path: x,
                    right,
                    rule: k,
                });
            }
            // `k` denies or asks `right` wherever it matches.
            let blocks = rules[k].effect != Effect::Allow && rules[k].rights.fs().has(right);
            if !blocks || blockers.contains(&k) {
                self.work.undecided += 1;
                return None;
            }
            blockers.push(k);
            let anywhere = rules[k].paths.iter().all(|g| g.root == Root::Anywhere);
            if anywhere && carried.len() < 8 && !carried.contains(&k) {
                carried.push(k);
            }
        }
        self.work.undecided += 1;
        None
    }
}

/// Breadth-first search of (`d` × valid paths) for the shortest path whose accept bits
/// in `d` cover `want` and miss `avoid`; states that cannot reach `want` are skipped.
fn shortest_path(d: &Dense, valid: &Dense, want: u32, avoid: u32) -> Option<Vec<u8>> {
    if d.start == 0 || valid.start == 0 {
        return None;
    }
    let reach = d.reach_bits();
    let useful = |f: u32| reach.get(f as usize).is_some_and(|r| r & want == want);
    if !useful(d.start) {
        return None;
    }
    let classes = product_classes(d, valid);
    let nv = valid.nstates();
    let mut seen = vec![false; d.nstates() * nv];
    let key = |f: u32, v: u32| f as usize * nv + v as usize;
    seen[key(d.start, valid.start)] = true;
    let mut nodes: Vec<(u32, u32, u32, u8)> = vec![(d.start, valid.start, u32::MAX, 0)];
    let mut i = 0;
    while i < nodes.len() {
        let (f, v, _, _) = nodes[i];
        let a = bits(d.accept[f as usize]);
        if a & want == want && a & avoid == 0 && valid.accept[v as usize] != ev::NONE {
            return Some(witness(&nodes, i));
        }
        for pc in &classes {
            let f2 = d.step(f, pc.fc);
            let v2 = valid.step(v, pc.sc);
            if f2 == 0 || v2 == 0 || !useful(f2) {
                continue;
            }
            if let Some(slot) = seen.get_mut(key(f2, v2)) {
                if !*slot {
                    *slot = true;
                    nodes.push((f2, v2, i as u32, pc.rep));
                }
            }
        }
        i += 1;
    }
    None
}

fn analyse_scalable(
    b: &Bound,
    table: &Sections,
    fs_comp: Option<&ev::comp::CompFs>,
    work: &mut Work,
) -> Analysis {
    let autos = automata();
    let mut s = Scalable {
        b,
        table,
        comp: fs_comp.map(CompWalk::new),
        default: ev::Decision {
            effect: crate::compile::to_eval_effect(b.agent.default),
            rule: None,
        },
        valid: &autos.path,
        work: Work::default(),
        witness: HashMap::new(),
        budget: SMALL_PER_RULE.saturating_mul(b.rules.len() + 16),
    };
    let (fs_decides, found, (net_hit, app_hit)) = std::thread::scope(|scope| {
        let other = scope.spawn(|| net_app_rows(table));
        let fs_decides: Vec<bool> = (0..b.rules.len())
            .map(|ri| b.rules[ri].section == SectionKind::Fs && s.rule_decides(ri))
            .collect();
        let found = s.places();
        (fs_decides, found, join_rows(other, table))
    });
    work.add(&s.work);
    work.compiled_states += sections_states(table, fs_comp);
    let mut decides = fs_decides;
    for d in table
        .net_rows
        .iter()
        .zip(&net_hit)
        .chain(table.app_rows.iter().zip(&app_hit))
        .filter(|(_, h)| **h)
        .map(|(d, _)| d)
    {
        if let Some(r) = d.rule.and_then(|r| decides.get_mut(r.0 as usize)) {
            *r = true;
        }
    }
    Analysis {
        decides,
        found,
        witness: s.witness,
    }
}

fn place_diagnostic(bound: &Bound, found: &Found, shown: &Placeholders) -> Diagnostic {
    let place = automata().places.places.get(found.place);
    let agent = &bound.agent;
    let path = shown.text(&String::from_utf8_lossy(&found.path));
    let span = bound
        .rules
        .get(found.rule)
        .map_or(agent.span, |r: &BoundRule| r.span);
    let Some(place) = place else {
        return Diagnostic::new(Code::W0005, span, "internal: unknown place");
    };
    let d = match place.kind {
        Kind::Read => {
            let message = if path == place.shown {
                format!(
                    "agent `{}` may read the credential store `{path}`",
                    agent.name
                )
            } else {
                format!(
                    "agent `{}` may read `{path}` (credential store `{}`)",
                    agent.name, place.shown
                )
            };
            Diagnostic::new(Code::W0005, span, message).help(format!(
                "add `deny read \"{}\"` (or `ask`) to a policy of this agent",
                place.suggest
            ))
        }
        Kind::Write => Diagnostic::new(
            Code::W0006,
            span,
            format!(
                "agent `{}` may {} `{path}`: {}",
                agent.name,
                found.right.as_str(),
                place.what
            ),
        )
        .help(format!(
            "add `ask write, create \"{}\"` (or a `deny`) to a policy of this agent",
            place.suggest
        )),
    };
    d.with_label(format!("allows `{} {path}`", found.right.as_str()))
        .label(agent.span, format!("agent `{}`", agent.name))
}

/// Turns placeholder values back into what the user wrote (`~`, `${name}`).
struct Placeholders(Vec<(String, String)>);

impl Placeholders {
    fn new(model: &Model) -> Placeholders {
        let mut v: Vec<(String, String)> = model
            .params
            .iter()
            .map(|(n, d)| {
                let shown = if n == "home" {
                    "~".to_string()
                } else {
                    format!("${{{n}}}")
                };
                (placeholder(n, d.ty), shown)
            })
            .collect();
        // Longest first, so that one placeholder that prefixes another does not win.
        v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Placeholders(v)
    }

    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (value, shown) in &self.0 {
            out = out.replace(value.as_str(), shown);
        }
        out.chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// W0001 witnesses: a request the rule matches and the rule that decides it instead.

/// A request matched by rule `ri` of `bound`, and the rule that decides it.
fn shadow_witness(bound: &Bound, ri: usize) -> Option<(usize, Request)> {
    let r = bound.rules.get(ri)?;
    for req in sample_requests(r) {
        if !crate::interp::rule_matches(r, &req, false) || !valid_request(&req) {
            continue;
        }
        if let Some(by) = crate::interp::decide(bound, &req).rule {
            if by != ri {
                return Some((by, req));
            }
        }
    }
    None
}

fn valid_path(p: &str) -> bool {
    !p.contains('\0') && ev::normalize_path(p).as_deref() == Some(p)
}

fn valid_request(req: &Request) -> bool {
    match req {
        Request::Fs { path, .. } => valid_path(path),
        Request::Net { program, .. } => program.as_deref().is_none_or(valid_path),
        Request::Launch { program, .. } => valid_path(program),
    }
}

/// A few requests a rule matches (candidates; the caller checks them).
fn sample_requests(r: &BoundRule) -> Vec<Request> {
    let mut out = Vec::new();
    match r.section {
        SectionKind::Fs => {
            let right = FsRight::ALL
                .into_iter()
                .find(|&b| r.rights.fs().has(b))
                .unwrap_or(FsRight::Read);
            for g in &r.paths {
                if let Some(path) = sample_path(g) {
                    out.push(Request::Fs { right, path });
                }
            }
        }
        SectionKind::Net => {
            let right = if r.rights.net().has(NetRight::Connect) {
                NetRight::Connect
            } else {
                NetRight::Bind
            };
            let programs: Vec<Option<String>> = if r.from.is_empty() {
                vec![None]
            } else {
                r.from.iter().filter_map(sample_path).map(Some).collect()
            };
            for t in &r.nets {
                let host = match &t.host {
                    HostPat::Any => HostReq::Name("example.com".into()),
                    HostPat::Localhost => HostReq::Name("localhost".into()),
                    HostPat::Name(n) => HostReq::Name(n.clone()),
                    HostPat::Suffix(s) => HostReq::Name(format!("x.{s}")),
                    HostPat::V4(a, _) => HostReq::V4(*a),
                    HostPat::V6(a, _) => HostReq::V6(*a),
                };
                let port = t.ports.first().map_or(443, |p| p.0);
                for program in &programs {
                    out.push(Request::Net {
                        right,
                        proto: t.proto,
                        host: host.clone(),
                        port,
                        program: program.clone(),
                    });
                }
            }
        }
        SectionKind::App => {
            let args = r.args.as_ref().map(sample_args).unwrap_or_default();
            let args: Vec<String> = if args.is_empty() {
                Vec::new()
            } else {
                args.split(' ').map(str::to_string).collect()
            };
            for g in &r.paths {
                if let Some(program) = sample_path(g) {
                    out.push(Request::Launch {
                        program,
                        args: args.clone(),
                    });
                }
            }
        }
    }
    out
}

fn sample_path(g: &PathGlob) -> Option<String> {
    if matches!(g.root, Root::Drive(_)) {
        return None;
    }
    let mut s = String::new();
    for c in &g.comps {
        if let Comp::Seg(atoms) = c {
            s.push('/');
            for a in atoms {
                match a {
                    Atom::Lit(l) => s.push_str(l),
                    Atom::Star | Atom::One => s.push('x'),
                    Atom::Class { negated, ranges } => s.push(class_char(*negated, ranges)?),
                }
            }
        }
    }
    if s.is_empty() {
        s.push('/');
    }
    Some(s)
}

fn class_char(negated: bool, ranges: &[(char, char)]) -> Option<char> {
    let inside = |c: char| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
    let nice = ('a'..='z').chain('A'..='Z').chain('0'..='9');
    if negated {
        nice.chain(['_', '-', '~']).find(|&c| !inside(c))
    } else {
        nice.chain(ranges.iter().map(|r| r.0))
            .find(|&c| inside(c) && c != '/')
    }
}

fn sample_args(g: &ArgsGlob) -> String {
    let mut s = String::new();
    for a in &g.atoms {
        match a {
            Atom::Lit(l) => s.push_str(l),
            Atom::Star => {}
            Atom::One => s.push('x'),
            Atom::Class { ranges, .. } => s.extend(ranges.first().map(|r| r.0)),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lints(src: &str) -> Vec<Diagnostic> {
        let p = crate::check_source("t.mxc", src);
        assert!(!p.diags.has_errors(), "{:#?}", p.diags);
        lint(&p).0
    }

    fn codes(src: &str, code: Code) -> Vec<String> {
        lints(src)
            .into_iter()
            .filter(|d| d.code == code)
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn path_automaton_is_normalisation() {
        let n = path_automaton();
        let valid = |s: &[u8]| n.accept[n.run(s.iter().copied()) as usize] == VALID;
        let alphabet = [b'/', b'.', b'a', 0u8, 0xc3, 0xa4];
        // Every string over a small alphabet up to length 6.
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..6 {
            let mut next = Vec::new();
            for s in &strings {
                for &b in &alphabet {
                    let mut t = s.clone();
                    t.push(b);
                    next.push(t);
                }
            }
            strings.extend(next);
            strings.sort();
            strings.dedup();
        }
        for s in strings {
            let want = std::str::from_utf8(&s).is_ok_and(|text| {
                !text.contains('\0') && ev::normalize_path(text).as_deref() == Some(text)
            });
            assert_eq!(valid(&s), want, "{s:?}");
        }
    }

    #[test]
    fn net_and_app_automata() {
        let ok = |bytes: &[u8]| accepts(&automata().net, bytes);
        assert!(ok(b"\x01\x01\x01example.com\x00\x01\xbb\x00"));
        assert!(ok(b"\x02\x02\x04\x7f\x00\x00\x01\x1f\x90\x01/usr/bin/git"));
        assert!(ok(
            &[&[1u8, 1, 6][..], &[0; 16][..], &[0, 80, 0][..]].concat()
        ));
        assert!(!ok(b"\x01\x01\x01Example.com\x00\x01\xbb\x00"));
        assert!(!ok(b"\x01\x01\x01x\x00\x01\xbb\x01/usr/bin/"));
        assert!(!ok(b"\x01\x01\x04\x7f\x00\x00\x01\x1f\x90"));
        let run = |b: &[u8]| accepts(&automata().app, b);
        assert!(run(b"/usr/bin/git\x00status --short"));
        assert!(run(b"/\x00"));
        assert!(!run(b"/usr/bin/\x00"));
        assert!(!run(b"/usr/./git\x00x"));
        assert!(!run(b"/usr/bin/git\x00\xff"));
        assert!(!run(b"/usr/bin/\xc3\x00x"));
        assert!(run("/usr/bin/g\u{e4}t\x00\u{e4}".as_bytes()));
        assert!(!ok(b"\x01\x01\x01x\xc3\x00\x01\xbb\x00"));
    }

    fn accepts(a: &Dense, bytes: &[u8]) -> bool {
        a.accept[a.run(bytes.iter().copied()) as usize] != ev::NONE
    }

    #[test]
    fn w0001_exact() {
        let shadowed = |rules: &str| {
            let src = format!("policy p {{ fs {{ {rules} }} }}\nagent a {{ use p }}");
            lints(&src)
                .into_iter()
                .filter(|d| d.code == Code::W0001)
                .count()
        };
        assert_eq!(shadowed(r#"deny read "/a/**" allow read "/a/**""#), 1);
        assert_eq!(shadowed(r#"allow read "/a/b" deny read "/a/*""#), 1);
        // Only `/a/` (not a request) is left to the allow rule.
        assert_eq!(shadowed(r#"allow read "/a/*" deny read "/a/?*""#), 1);
        assert_eq!(shadowed(r#"allow read "/x/**" deny read "/x/y/**""#), 0);
        // A duplicate deny: the first one decides.
        assert_eq!(shadowed(r#"deny read "/a" deny read "/a""#), 1);
        // Different rights: no shadowing.
        assert_eq!(shadowed(r#"allow write "/a/**" deny read "/a/**""#), 0);
        // `/a/.` is not a request.
        assert_eq!(shadowed(r#"allow read "/a/[.]""#), 1);
        assert_eq!(shadowed(r#"allow read "/a/.[a-z]""#), 0);
    }

    #[test]
    fn w0001_witness_label() {
        let src =
            "policy p { fs {\n deny read \"/a/*\"\n allow read \"/a/b\"\n} }\nagent a { use p }";
        let ds = lints(src);
        let d = ds.iter().find(|d| d.code == Code::W0001).unwrap();
        assert_eq!(d.primary_label.as_deref(), Some("always overridden"));
        assert_eq!(d.labels.len(), 1);
        assert!(d.labels[0].message.contains("read /a/b"), "{d:#?}");
        assert!(d.notes[0].contains("t.mxc:2:2"), "{d:#?}");
    }

    #[test]
    fn w0001_net_and_app() {
        let src = r#"
            policy p {
              net {
                deny connect "*:22"
                allow connect "example.com:22"
                allow connect "github.com:443" from "/usr/bin/*"
                deny connect "github.com:443" from "/usr/bin/?*"
                allow connect "example.com"
              }
              app {
                deny launch "/usr/bin/*"
                allow launch "/usr/bin/git" args "status"
                allow launch "/bin/*"
                deny launch "/bin/?*"
                allow launch "/opt/x" args "a*"
                deny launch "/opt/x" args "a?*"
              }
            }
            agent a { use p }
        "#;
        let ds = lints(src);
        let lines: Vec<usize> = ds
            .iter()
            .filter(|d| d.code == Code::W0001)
            .map(|d| src[..d.primary.unwrap().start as usize].lines().count())
            .collect();
        // Line numbers (1-based) of the shadowed rules: `example.com:22`, the `from`
        // and `/bin/*` allows (their only other strings are not requests), git.
        assert_eq!(lines, vec![5, 6, 12, 13], "{ds:#?}");
    }

    #[test]
    fn w0001_across_agents() {
        let src = r#"
            policy shared { fs { allow read "/a/**" } }
            policy strict { fs { deny read "/a/**" } }
            agent one { use shared, strict }
            agent two { use shared }
        "#;
        assert!(codes(src, Code::W0001).is_empty());
        let src2 = r#"
            policy shared { fs { allow read "/a/**" } }
            policy strict { fs { deny read "/a/**" } }
            agent one { use shared, strict }
            agent two { use strict, shared }
        "#;
        assert_eq!(codes(src2, Code::W0001).len(), 1);
    }

    #[test]
    fn w0005() {
        let src = r#"policy p { fs { allow read "~/**" } } agent a { use p }"#;
        let got = codes(src, Code::W0005);
        assert_eq!(got.len(), 7, "{got:#?}");
        assert_eq!(got[0], "agent `a` may read the credential store `~/.ssh`");
        let src = r#"policy p { fs { allow read "~/.ssh/*" } } agent a { use p }"#;
        assert_eq!(
            codes(src, Code::W0005),
            vec!["agent `a` may read `~/.ssh/a` (credential store `~/.ssh`)"]
        );
        let src = r#"policy p { fs {
            allow read "~/**"
            deny read "~/.ssh/**", "~/.aws/**", "~/.config/gh/**", "~/.netrc/**"
            ask read "~/.docker/config.json/**", "~/.kube/config/**", "~/.gnupg/**"
        } } agent a { use p }"#;
        assert!(codes(src, Code::W0005).is_empty());
        // `~/.netrc` denied but not beneath it.
        let src = r#"policy p { fs {
            allow read "~/.netrc/**"
            deny read "~/.netrc"
        } } agent a { use p }"#;
        assert_eq!(
            codes(src, Code::W0005),
            vec!["agent `a` may read `~/.netrc/a` (credential store `~/.netrc`)"]
        );
    }

    #[test]
    fn w0006() {
        let src = r#"
            param workspace: path
            policy p { fs { allow write "${workspace}/**" } }
            agent a { use p }
        "#;
        let got = codes(src, Code::W0006);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("agent `a` may write `${workspace}/.git/hooks`:"));
        assert!(got[1].starts_with("agent `a` may write `${workspace}/.git/config`:"));
        let src = r#"
            param workspace: path
            policy p { fs {
              allow write, create "${workspace}/**"
              ask write, create "**/.git/hooks/**", "**/.vscode/**"
              deny write, create "**/.git/config", "**/.mcp.json"
            } }
            agent a { use p }
        "#;
        assert!(codes(src, Code::W0006).is_empty());
        let src = r#"policy p { fs { allow create "~/.config/**" } } agent a { use p }"#;
        let got = codes(src, Code::W0006);
        // Shell startup, autostart, and the four places anywhere in the tree.
        assert_eq!(got.len(), 6, "{got:#?}");
        assert!(got[0].starts_with("agent `a` may create `~/.config/fish/config.fish`"));
        assert!(got[1].starts_with("agent `a` may create `~/.config/autostart`"));
    }

    /// The analysis alone (compiling excluded) on a 5,000-rule policy. Run with
    /// `cargo test --release -p mxc-lang --lib lints -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn large_policy_analysis_time() {
        let mut src = String::from("param workspace: path\npolicy big {\n  fs {\n");
        for i in 0..2500 {
            src.push_str(&format!("    allow read \"/data/p{i}/**\"\n"));
            src.push_str(&format!(
                "    deny write, create \"/data/p{i}/secret/*.key\"\n"
            ));
        }
        src.push_str("    allow write, create \"${workspace}/**\", \"~/**\"\n");
        src.push_str("    ask write, create \"**/.git/hooks/**\"\n  }\n}\nagent a { use big }\n");
        let p = crate::check_source("big.mxc", &src);
        let params = p
            .model
            .params
            .iter()
            .map(|(n, d)| (n.clone(), placeholder(n, d.ty)))
            .collect();
        let b = bind::bind(&p.model, "a", &params, false).unwrap();
        let t = std::time::Instant::now();
        let table = crate::compile::compile_sections(&b, false).unwrap();
        let compile = t.elapsed();
        let autos = automata();
        let t = std::time::Instant::now();
        let (fs, fs_rows) = fs_product(&table, ev::Effect::Deny).unwrap();
        let rows = accepting_rows(&fs, &autos.path, fs_rows.len());
        let w1 = t.elapsed();
        let t = std::time::Instant::now();
        let found = search_places(&fs, &fs_rows, &autos.places, usize::MAX).unwrap();
        let w56 = t.elapsed();
        eprintln!(
            "compile {compile:?}; fs states {} (product {}); W0001 fs product and search {w1:?} ({} rows hit); places {w56:?} ({} found)",
            table.fs.nstates(),
            fs.nstates(),
            rows.iter().filter(|r| **r).count(),
            found.len()
        );
    }

    #[test]
    fn placeholders_not_defaults() {
        // The default puts the workspace under `~/.ssh`; placeholders do not.
        let src = r#"
            param workspace: path = "/home/__mxc_user/.ssh"
            policy p { fs { allow read "${workspace}/**" } }
            agent a { use p }
        "#;
        assert!(codes(src, Code::W0005).is_empty());
    }
}
