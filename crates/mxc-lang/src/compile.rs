//! The compiler: a bound agent in, an [`mxc_eval::Table`] out.
//!
//! Every target becomes a sequence of tokens over the byte encoding the engine feeds
//! (paths as they are; net and launch requests as documented in `mxc_eval::table`):
//! bytes of a set, loops over a byte set, `**` as `(/[^/]+)*`, alternatives (`path_toks`,
//! `net_toks`, `app_toks`). The patterns of one automaton are inserted into one NFA
//! that shares equal prefixes (`Nfa`), determinised by a subset construction
//! (`determinise`) in which each state's accepted pattern set becomes a row of
//! decisions per SPEC §6. fs patterns go to two automata: rooted at `/` or a drive
//! (`Table::fs`) and `**/...` (`Table::fs_anywhere`), so that neither multiplies the
//! other; the engine combines their rows. `compile_sections` stops there (the lints
//! read these dense automata); [`compile_bound`] then minimises (Hopcroft, fs and app),
//! merges byte classes and comb-packs each automaton with `mxc_eval::Dfa`.
//! `ARCHITECTURE.md` ("Compiled tables") says why.

use crate::ast::{Effect, SectionKind};
use crate::automaton::{intern, merge_classes, Dense};
use crate::bind::{Bound, BoundRule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{AuditDef, IsolationDef, NetRights};
use crate::pattern::{ArgsGlob, Atom, Comp, HostPat, NetProto, NetTarget, PathGlob, Root};
use crate::source::SourceMap;
use mxc_eval as ev;
use mxc_eval::encoding::{HOST_NAME, HOST_V4, HOST_V6, NAME_END, NO_PROGRAM, PROGRAM, PROGRAM_END};
use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
use regex_syntax::utf8::Utf8Sequences;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The multiply-rotate hash of rustc (FxHash): the compiler's maps are keyed by small
/// integers and state sets, not by anything an attacker chooses to collide.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

pub use ev::Target;

pub fn to_eval_effect(e: Effect) -> ev::Effect {
    match e {
        Effect::Allow => ev::Effect::Allow,
        Effect::Ask => ev::Effect::Ask,
        Effect::Deny => ev::Effect::Deny,
    }
}

/// The decision automata of one agent, dense (before packing), with their rows: what
/// [`compile_bound`] packs into a table, and what the lints search (they need no
/// packing).
pub(crate) type Sections = ev::Sections<Dense>;

/// Builds the automata of a bound agent. `backwards`: for a table (the lints pass
/// `false`): on Linux the fs patterns become per-component automata
/// (`compile_fs`, [`ev::comp`]) and the byte fs automata stay empty; on Windows the
/// `**/` automaton reads the path from its end (as the engine walks it, see
/// [`ev::Table::fs_anywhere`]). The lints want both byte automata, forwards.
pub(crate) fn compile_sections(b: &Bound, backwards: bool) -> Result<Sections, Diagnostics> {
    compile_sections_with(b, backwards, backwards && !b.windows).map(|(s, _)| s)
}

/// The automata of a table, as [`compile_sections`]`(b, true)` builds them, with the
/// per-component fs automata (on Linux; `None` on Windows): what the lints' scalable
/// analysis decides with.
pub(crate) fn compile_sections_of_table(
    b: &Bound,
) -> Result<(Sections, Option<ev::comp::CompFs>), Diagnostics> {
    compile_sections_with(b, true, !b.windows)
}

/// [`compile_sections`], with the per-component fs automata (tables for Linux; the
/// byte fs automata are then empty).
pub(crate) fn compile_sections_with(
    b: &Bound,
    backwards: bool,
    per_component: bool,
) -> Result<(Sections, Option<ev::comp::CompFs>), Diagnostics> {
    let default = to_eval_effect(b.agent.default);
    // An automaton that outgrew its budget: name the rules whose patterns combined.
    let err = |section: &str, e: TooBig, owner: &[u32]| {
        let mut rules: Vec<u32> = Vec::new();
        for p in &e.patterns {
            if let Some(&r) = owner.get(*p as usize) {
                if !rules.contains(&r) {
                    rules.push(r);
                }
            }
        }
        let message = format!(
            "the {section} rules of agent `{}` combine into more than {} automaton states",
            b.agent.name, e.budget
        );
        let mut d = match rules.first().and_then(|r| b.rules.get(*r as usize)) {
            Some(r) => Diagnostic::new(Code::E0005, r.span, message)
                .with_label("this rule's patterns combine with the others named"),
            None => Diagnostic::global(Code::E0005, message),
        };
        for r in rules
            .iter()
            .skip(1)
            .filter_map(|r| b.rules.get(*r as usize))
        {
            d = d.label(r.span, "combines with it");
        }
        let mut diags = Diagnostics::default();
        diags.push(d.help(
            "each of these rules multiplies the states of the others (typically wildcards \
             on both sides of a `**`, or many `**/` patterns that can all match one path); \
             split the policy or write the patterns with fewer wildcards",
        ));
        diags
    };
    // fs: patterns rooted at `/` or a drive in one automaton, `**/...` patterns (which
    // can start at any component) in another, so that neither multiplies the other.
    let mut comp_pats: Vec<&PathGlob> = Vec::new();
    let mut comp_owner: Vec<u32> = Vec::new();
    let mut fs_pats = Vec::new();
    let mut fs_any_pats = Vec::new();
    let mut fs_owner = Vec::new();
    let mut fs_any_owner = Vec::new();
    for (i, r) in b.rules.iter().enumerate() {
        if r.section == SectionKind::Fs {
            for g in &r.paths {
                if per_component {
                    comp_pats.push(g);
                    comp_owner.push(i as u32);
                    continue;
                }
                let mut toks = Vec::new();
                path_toks(g, b.windows, false, &mut toks);
                if g.root == Root::Anywhere {
                    fs_any_pats.push(if backwards { rev_toks(&toks) } else { toks });
                    fs_any_owner.push(i as u32);
                } else {
                    fs_pats.push(toks);
                    fs_owner.push(i as u32);
                }
            }
        }
    }
    // net and app are built on a second thread while fs is built on this one (the
    // three automata are independent; on two cores this is most of a check's time).
    let (fs_built, netapp_built) = std::thread::scope(|scope| {
        let netapp = scope.spawn(|| -> Result<_, Diagnostics> {
            // net
            let mut net_pats = Vec::new();
            let mut net_owner = Vec::new();
            for (i, r) in b.rules.iter().enumerate() {
                if r.section == SectionKind::Net {
                    for t in &r.nets {
                        net_pats.push(net_toks(r, t, b.windows));
                        net_owner.push(i as u32);
                    }
                }
            }
            // One automaton per section, whose accepting states index decision rows.
            let single = |what: &str, pats: &[Vec<Tok>], owner: &[u32]| {
                let mut rows: Vec<ev::Decision> = Vec::new();
                let mut index: FxMap<ev::Decision, u32> = FxMap::default();
                let dfa = build_section(what, pats, |pids| {
                    let d = decide(&b.rules, &owners(pids, owner), |_| true, default);
                    if d.rule.is_none() {
                        return ev::NONE;
                    }
                    intern(&mut rows, &mut index, d)
                })
                .map_err(|e| err(what, e, owner))?;
                Ok::<_, Diagnostics>((dfa, rows))
            };
            let (net, net_rows) = single("net", &net_pats, &net_owner)?;

            // app
            let mut app_pats = Vec::new();
            let mut app_owner = Vec::new();
            for (i, r) in b.rules.iter().enumerate() {
                if r.section == SectionKind::App {
                    for g in &r.paths {
                        app_pats.push(app_toks(g, r.args.as_ref(), b.windows));
                        app_owner.push(i as u32);
                    }
                }
            }
            let (app, app_rows) = single("app", &app_pats, &app_owner)?;
            Ok((net, net_rows, app, app_rows))
        });
        let fs_built = (|| -> Result<_, Diagnostics> {
            let mut fs_rows: Vec<ev::FsRow> = Vec::new();
            let mut fs_index: FxMap<ev::FsRow, u32> = FxMap::default();
            let mut fs_row_of = |pids: &[u32], owner: &[u32]| {
                let rs = owners(pids, owner);
                let mut row = [ev::Decision {
                    effect: default,
                    rule: None,
                }; 4];
                for (k, right) in ev::FsRight::ALL.into_iter().enumerate() {
                    row[k] = decide(&b.rules, &rs, |r| r.rights.fs().has(right), default);
                }
                if row.iter().all(|d| d.rule.is_none()) {
                    return ev::NONE;
                }
                intern(&mut fs_rows, &mut fs_index, row)
            };
            let fs = build_section("fs", &fs_pats, |pids| fs_row_of(pids, &fs_owner))
                .map_err(|e| err("fs", e, &fs_owner))?;
            let fs_anywhere = build_section("fs anywhere", &fs_any_pats, |pids| {
                fs_row_of(pids, &fs_any_owner)
            })
            .map_err(|e| err("fs", e, &fs_any_owner))?;
            let fs_comp = if per_component {
                Some(
                    crate::compile_fs::build(&comp_pats, |pids| fs_row_of(pids, &comp_owner))
                        .map_err(|e| err("fs", e, &comp_owner))?,
                )
            } else {
                None
            };
            Ok((fs, fs_anywhere, fs_rows, fs_comp))
        })();
        let netapp_built = netapp.join().unwrap_or_else(|_| {
            let mut d = Diagnostics::default();
            d.push(Diagnostic::global(
                Code::E0005,
                "internal error: the compiler thread panicked",
            ));
            Err(d)
        });
        (fs_built, netapp_built)
    });
    let (fs, fs_anywhere, fs_rows, fs_comp) = fs_built?;
    let (net, net_rows, app, app_rows) = netapp_built?;

    let sections = Sections {
        automata: ev::Automata {
            fs,
            fs_anywhere,
            net,
            app,
        },
        fs_rows,
        net_rows,
        app_rows,
    };
    Ok((sections, fs_comp))
}

/// SHA-256 of the loaded sources, in load order: for each file its name and its text,
/// each preceded by its length (8 bytes little-endian). Carried in the table
/// ([`ev::AgentInfo::source_hash`]) to name the text its decisions come from.
pub fn source_hash(sources: &SourceMap) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (_, f) in sources.files() {
        for part in [f.name.as_bytes(), f.text.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize().into()
}

/// Compiles a bound agent into a decision table.
pub fn compile_bound(b: &Bound, sources: &SourceMap) -> Result<ev::Table, Diagnostics> {
    compile_bound_with(b, sources, !b.windows)
}

/// [`compile_bound`] with the fs patterns in the byte automata (format version 3's
/// layout) even on Linux: for measurements and differential tests only.
#[doc(hidden)]
pub fn compile_bound_bytes(b: &Bound, sources: &SourceMap) -> Result<ev::Table, Diagnostics> {
    compile_bound_with(b, sources, false)
}

fn compile_bound_with(
    b: &Bound,
    sources: &SourceMap,
    per_component: bool,
) -> Result<ev::Table, Diagnostics> {
    let target = if b.windows {
        Target::Windows
    } else {
        Target::Linux
    };
    let default = to_eval_effect(b.agent.default);
    let rules: Vec<ev::RuleInfo> = b
        .rules
        .iter()
        .map(|r| {
            let (name, line, column) = match sources.get(r.span.file) {
                Some(f) => {
                    let (l, c) = f.line_col(r.span.start as usize);
                    (f.name.clone(), l as u32, c as u32)
                }
                None => (String::new(), 0, 0),
            };
            ev::RuleInfo {
                policy: r.policy.clone(),
                file: name,
                line,
                column,
                effect: to_eval_effect(r.effect),
                reason: r.because.clone(),
            }
        })
        .collect();
    let (sections, fs_comp) = compile_sections_with(b, true, per_component && !b.windows)?;
    // The per-component lists laid out as the engine walks them (hash tables built
    // here, with a fixed seed, and stored: see `mxc_table::comp::CompLayout`).
    let fs_comp = match fs_comp.as_ref().map(ev::comp::CompLayout::new).transpose() {
        Ok(l) => l,
        Err(e) => {
            let mut d = Diagnostics::default();
            d.push(Diagnostic::global(
                Code::E0005,
                format!("the fs automata do not fit in a table: {e}"),
            ));
            return Err(d);
        }
    };
    let timing = std::env::var_os("MXC_TIMING").is_some();
    let t0 = std::time::Instant::now();
    // Minimisation removes a third of the fs and app states (tails that different
    // patterns share), but only a sixth of the net states, whose many classes
    // (address and port bytes) make it cost more than the rest of the compile.
    // Each packed automaton is then laid out as the engine walks it (the file's form).
    let sections = sections.map(|k, d| ev::ByteDfa::from(pack(d, k != ev::Kind::Net)));
    if timing {
        eprintln!("pack: {:?}", t0.elapsed());
    }

    let a = &b.agent;
    let (env_pass, env_deny) = match &a.env {
        Some((p, d)) => (p.clone(), d.clone()),
        None => (
            crate::model::DEFAULT_ENV_PASS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            Vec::new(),
        ),
    };
    let agent = ev::AgentInfo {
        name: a.name.clone(),
        identity: a.identity.clone(),
        policies: a.uses.iter().map(|(p, _)| p.clone()).collect(),
        params: b
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        source_hash: source_hash(sources),
        isolation: match a.isolation {
            IsolationDef::Process => ev::Isolation::Process,
            IsolationDef::Container => ev::Isolation::Container,
            IsolationDef::Microvm => ev::Isolation::Microvm,
        },
        default,
        audit: match a.audit {
            AuditDef::All => ev::AuditLevel::All,
            AuditDef::Denials => ev::AuditLevel::Denials,
            AuditDef::None => ev::AuditLevel::None,
        },
        env_pass,
        env_deny,
        memory_bytes: a.limits.memory_bytes,
        processes: a.limits.processes,
        timeout_ms: a.limits.timeout_ms,
        cpus: a.limits.cpus,
        clipboard: a.clipboard.map(to_eval_effect),
        display: a.display.map(to_eval_effect),
    };
    let net_hosts = net_hosts(b, &sections.net);
    Ok(ev::Table {
        target,
        agent,
        plan: crate::plan::plan(b).into(),
        rules: rules.into(),
        sections,
        fs_comp,
        net_hosts,
    })
}

/// The net host jump table (see `mxc_table::hosts`): every literal host name of the
/// policy (`api.example.com`, `localhost`, the `example.com` of `*.example.com`) with
/// the state the packed net automaton reaches after it, per request prefix, computed by
/// running that automaton (so they are exact whatever the patterns). Linear: each name
/// is at most `hosts::MAX_NAME` bytes.
fn net_hosts(b: &Bound, net: &ev::Dfa) -> ev::hosts::NetHosts {
    use ev::hosts::{combo, COMBOS, MAX_NAME};
    let mut seen: FxMap<&str, ()> = FxMap::default();
    let mut keys = Vec::new();
    for r in &b.rules {
        if r.section != SectionKind::Net {
            continue;
        }
        for t in &r.nets {
            let name = match &t.host {
                HostPat::Name(n) | HostPat::Suffix(n) => n.as_str(),
                HostPat::Localhost => "localhost",
                _ => continue,
            };
            if name.is_empty() || name.len() > MAX_NAME || seen.insert(name, ()).is_some() {
                continue;
            }
            let key = name.to_ascii_lowercase().into_bytes();
            let mut full = [0u32; COMBOS];
            for right in ev::NetRight::ALL {
                for proto in [ev::Proto::Tcp, ev::Proto::Udp] {
                    let mut s = net.start;
                    for c in [right as u8, proto as u8, HOST_NAME]
                        .into_iter()
                        .chain(key.iter().rev().copied())
                        .chain([NAME_END])
                    {
                        s = net.step(s, c);
                    }
                    full[combo(right as u8, proto as u8)] = s;
                }
            }
            keys.push((key, full));
        }
    }
    ev::hosts::NetHosts::new(&keys)
}

fn owners(pids: &[u32], owner: &[u32]) -> Vec<u32> {
    let mut rs: Vec<u32> = pids.iter().map(|p| owner[*p as usize]).collect();
    rs.sort_unstable();
    rs.dedup();
    rs
}

/// SPEC §6 over a set of matching rule indices (sorted = evaluation order).
fn decide(
    rules: &[BoundRule],
    matching: &[u32],
    filter: impl Fn(&BoundRule) -> bool,
    default: ev::Effect,
) -> ev::Decision {
    let mut best: Option<(Effect, u32)> = None;
    for &i in matching {
        let r = &rules[i as usize];
        if !filter(r) {
            continue;
        }
        let better = match best {
            None => true,
            Some((e, _)) => rank(r.effect) > rank(e),
        };
        if better {
            best = Some((r.effect, i));
        }
    }
    match best {
        Some((e, i)) => ev::Decision {
            effect: to_eval_effect(e),
            rule: Some(ev::RuleId(i)),
        },
        None => ev::Decision {
            effect: default,
            rule: None,
        },
    }
}

fn rank(e: Effect) -> u8 {
    match e {
        Effect::Allow => 0,
        Effect::Ask => 1,
        Effect::Deny => 2,
    }
}

// ---------------------------------------------------------------------------------------
// Patterns to token sequences
//
// A pattern becomes a sequence of tokens over bytes, exactly the language of the regex
// `path_regex` documents (Unicode classes and `?` as UTF-8 sequences, Windows literals
// and classes case-folded as regex-syntax's `(?iu:...)` does). The tokens of all the
// patterns of one automaton are inserted into one NFA that shares equal prefixes (a
// trie of tokens), so that a thousand patterns under `/home/u/` walk one chain of
// states, and `**/*.ext1`, `**/*.ext2`, ... share their `**/*` loop.

/// A set of bytes, as a 256-bit bitmap.
type ByteSet = [u64; 4];

const ANY: ByteSet = [!0; 4];

fn bs_byte(b: u8) -> ByteSet {
    bs_range(b, b)
}

fn bs_range(lo: u8, hi: u8) -> ByteSet {
    let mut s = [0u64; 4];
    for b in lo..=hi {
        s[(b >> 6) as usize] |= 1u64 << (b & 63);
    }
    s
}

fn bs_has(s: &ByteSet, b: u8) -> bool {
    s[(b >> 6) as usize] & (1u64 << (b & 63)) != 0
}

fn bs_or(a: ByteSet, b: ByteSet) -> ByteSet {
    [a[0] | b[0], a[1] | b[1], a[2] | b[2], a[3] | b[3]]
}

fn bs_not(a: ByteSet) -> ByteSet {
    [!a[0], !a[1], !a[2], !a[3]]
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Tok {
    /// One byte of the set.
    Byte(ByteSet),
    /// Zero or more bytes of the set.
    Star(ByteSet),
    /// `(?:SEP NOTSEP+)*`: zero or more whole components.
    AnyDepth(ByteSet, ByteSet),
    /// `(?:NOTSEP+ SEP)*`: [`Tok::AnyDepth`] read backwards.
    AnyDepthRev(ByteSet, ByteSet),
    /// One of the alternatives (an empty one matches the empty string).
    Alt(Vec<Vec<Tok>>),
}

/// The tokens of the reversed language: what matches the input read backwards.
fn rev_toks(toks: &[Tok]) -> Vec<Tok> {
    toks.iter()
        .rev()
        .map(|t| match t {
            Tok::Byte(s) => Tok::Byte(*s),
            Tok::Star(s) => Tok::Star(*s),
            Tok::AnyDepth(sep, ns) => Tok::AnyDepthRev(*sep, *ns),
            Tok::AnyDepthRev(sep, ns) => Tok::AnyDepth(*sep, *ns),
            Tok::Alt(bs) => Tok::Alt(bs.iter().map(|b| rev_toks(b)).collect()),
        })
        .collect()
}

fn lit_toks(bytes: &[u8], out: &mut Vec<Tok>) {
    out.extend(bytes.iter().map(|&b| Tok::Byte(bs_byte(b))));
}

/// One character of a Unicode class, as UTF-8 byte sequences.
fn class_tok(cls: &ClassUnicode) -> Tok {
    let mut single = [0u64; 4];
    let mut branches: Vec<Vec<Tok>> = Vec::new();
    for r in cls.iter() {
        for seq in Utf8Sequences::new(r.start(), r.end()) {
            let s = seq.as_slice();
            if let [one] = s {
                single = bs_or(single, bs_range(one.start, one.end));
            } else {
                branches.push(
                    s.iter()
                        .map(|r| Tok::Byte(bs_range(r.start, r.end)))
                        .collect(),
                );
            }
        }
    }
    if branches.is_empty() {
        return Tok::Byte(single);
    }
    if single != [0; 4] {
        branches.insert(0, vec![Tok::Byte(single)]);
    }
    Tok::Alt(branches)
}

fn char_class(ranges: impl IntoIterator<Item = (char, char)>) -> ClassUnicode {
    ClassUnicode::new(
        ranges
            .into_iter()
            .map(|(a, b)| ClassUnicodeRange::new(a, b)),
    )
}

fn sep_set(windows: bool) -> ByteSet {
    if windows {
        bs_or(bs_byte(b'/'), bs_byte(b'\\'))
    } else {
        bs_byte(b'/')
    }
}

/// The bytes a path component may hold: every byte but the separators, and with
/// `nul_ends` (app programs, net `from`) but NUL too (no path holds a NUL; the engine
/// refuses one before any walk, so the fs automata need not tell it apart, which would
/// cost a byte class). Keeping NUL out matters for the app and net automata, where a
/// NUL ends the program: a component loop (`*`, `**/`) that read
/// on through it would pair every program pattern with every other one
/// (`deny launch "**/NAME"` for 14 names made 1.8 million states).
fn not_sep(windows: bool, nul_ends: bool) -> ByteSet {
    let mut s = bs_not(sep_set(windows));
    if nul_ends {
        s[0] &= !1;
    }
    s
}

/// `(?u:[^/])` (`[^/\\]` on Windows), and not NUL either with `nul_ends`: one character
/// other than a separator.
fn one_tok(windows: bool, nul_ends: bool) -> Tok {
    let nul = if nul_ends { '\0' } else { '/' };
    let mut c = if windows {
        char_class([(nul, nul), ('/', '/'), ('\\', '\\')])
    } else {
        char_class([(nul, nul), ('/', '/')])
    };
    c.negate();
    class_tok(&c)
}

fn atoms_toks(atoms: &[Atom], windows: bool, nul_ends: bool, out: &mut Vec<Tok>) {
    let ns = not_sep(windows, nul_ends);
    for a in atoms {
        match a {
            Atom::Lit(l) if !windows => lit_toks(l.as_bytes(), out),
            Atom::Lit(l) => {
                for ch in l.chars() {
                    let mut c = char_class([(ch, ch)]);
                    c.case_fold_simple();
                    out.push(class_tok(&c));
                }
            }
            Atom::Star => out.push(Tok::Star(ns)),
            Atom::One => out.push(one_tok(windows, nul_ends)),
            Atom::Class { negated, ranges } => {
                let mut c = char_class(ranges.iter().copied());
                if *negated {
                    if nul_ends {
                        c.push(ClassUnicodeRange::new('\0', '\0'));
                    }
                    c.push(ClassUnicodeRange::new('/', '/'));
                    if windows {
                        c.push(ClassUnicodeRange::new('\\', '\\'));
                    }
                }
                if windows {
                    c.case_fold_simple();
                }
                if *negated {
                    c.negate();
                }
                out.push(class_tok(&c));
            }
        }
    }
}

/// The tokens of the atoms of one component (Linux), for the per-component globs.
pub(crate) fn tok_atoms(atoms: &[Atom]) -> Vec<Tok> {
    let mut out = Vec::new();
    atoms_toks(atoms, false, false, &mut out);
    out
}

/// A dense automaton of `patterns`, for the per-component globs (`compile_fs`).
pub(crate) fn build_dense(
    what: &str,
    patterns: &[Vec<Tok>],
    row_of: impl FnMut(&[u32]) -> u32,
) -> Result<Dense, TooBig> {
    build_section(what, patterns, row_of)
}

/// Minimises and packs a dense automaton (`compile_fs`).
pub(crate) fn pack_dense(d: Dense) -> ev::Dfa {
    pack(d, true)
}

/// The tokens of a path glob over normalised paths (the language of [`path_regex`]).
fn path_toks(g: &PathGlob, windows: bool, nul_ends: bool, out: &mut Vec<Tok>) {
    let s = sep_set(windows);
    let ns = not_sep(windows, nul_ends);
    let mut body = Vec::new();
    let mut nullable = true;
    for c in &g.comps {
        match c {
            Comp::AnyDepth => body.push(Tok::AnyDepth(s, ns)),
            Comp::Seg(atoms) => {
                nullable = false;
                // `*` matches a possibly empty run (SPEC §4.1): `/*` matches the root
                // `/`, the only normalised path with an empty component.
                body.push(Tok::Byte(s));
                atoms_toks(atoms, windows, nul_ends, &mut body);
            }
        }
    }
    match &g.root {
        Root::Slash => {}
        Root::Drive(d) => {
            let d = *d as u8;
            out.push(Tok::Byte(bs_or(
                bs_byte(d.to_ascii_uppercase()),
                bs_byte(d.to_ascii_lowercase()),
            )));
            out.push(Tok::Byte(bs_byte(b':')));
        }
        Root::Anywhere => {
            if windows {
                let letter = bs_or(bs_range(b'A', b'Z'), bs_range(b'a', b'z'));
                out.push(Tok::Alt(vec![
                    vec![],
                    vec![Tok::Byte(letter), Tok::Byte(bs_byte(b':'))],
                ]));
            }
            out.push(Tok::AnyDepth(s, ns));
        }
    }
    if nullable {
        out.push(Tok::Alt(vec![vec![Tok::Byte(s)], body]));
    } else {
        out.extend(body);
    }
}

/// The `n` bytes of an address under a prefix length.
fn prefix_toks(addr: &[u8], prefix: u8, out: &mut Vec<Tok>) {
    let full = (prefix / 8) as usize;
    let rem = prefix % 8;
    lit_toks(&addr[..full.min(addr.len())], out);
    let mut rest = addr.len().saturating_sub(full);
    if rem > 0 && rest > 0 {
        let mask = 0xffu8 << (8 - rem);
        let lo = addr[full] & mask;
        out.push(Tok::Byte(bs_range(lo, lo | !mask)));
        rest -= 1;
    }
    out.extend(std::iter::repeat_n(Tok::Byte(ANY), rest));
}

/// Host names are fed to the automaton reversed (see `mxc_eval::encoding`).
fn rev(s: &str) -> String {
    s.chars().rev().collect()
}

fn host_toks(h: &HostPat, out: &mut Vec<Tok>) {
    let b = |x: u8| Tok::Byte(bs_byte(x));
    let name_byte = bs_range(1, 0xff);
    match h {
        HostPat::Any => out.push(Tok::Alt(vec![
            vec![b(HOST_NAME), Tok::Star(name_byte), b(NAME_END)],
            std::iter::once(b(HOST_V4))
                .chain(std::iter::repeat_n(Tok::Byte(ANY), 4))
                .collect(),
            std::iter::once(b(HOST_V6))
                .chain(std::iter::repeat_n(Tok::Byte(ANY), 16))
                .collect(),
        ])),
        HostPat::Localhost => {
            let mut name = vec![b(HOST_NAME)];
            lit_toks(b"tsohlacol", &mut name);
            name.push(b(NAME_END));
            let mut v4 = vec![b(HOST_V4), b(0x7f)];
            v4.extend(std::iter::repeat_n(Tok::Byte(ANY), 3));
            let mut v6 = vec![b(HOST_V6)];
            prefix_toks(&std::net::Ipv6Addr::LOCALHOST.octets(), 128, &mut v6);
            out.push(Tok::Alt(vec![name, v4, v6]));
        }
        HostPat::Name(n) => {
            out.push(b(HOST_NAME));
            lit_toks(rev(n).as_bytes(), out);
            out.push(b(NAME_END));
        }
        HostPat::Suffix(s) => {
            out.push(b(HOST_NAME));
            lit_toks(rev(s).as_bytes(), out);
            out.push(b(b'.'));
            out.push(Tok::Byte(name_byte));
            out.push(Tok::Star(name_byte));
            out.push(b(NAME_END));
        }
        HostPat::V4(a, p) => {
            out.push(b(HOST_V4));
            prefix_toks(a, *p, out);
        }
        HostPat::V6(a, p) => {
            out.push(b(HOST_V6));
            prefix_toks(a, *p, out);
        }
    }
}

fn port_toks(ports: &[(u16, u16)], out: &mut Vec<Tok>) {
    if ports.is_empty() {
        out.push(Tok::Byte(ANY));
        out.push(Tok::Byte(ANY));
        return;
    }
    let two = |h: ByteSet, l: ByteSet| vec![Tok::Byte(h), Tok::Byte(l)];
    let mut alts = Vec::new();
    for &(lo, hi) in ports {
        let (lh, ll) = ((lo >> 8) as u8, (lo & 0xff) as u8);
        let (hh, hl) = ((hi >> 8) as u8, (hi & 0xff) as u8);
        if lh == hh {
            alts.push(two(bs_byte(lh), bs_range(ll, hl)));
        } else {
            alts.push(two(bs_byte(lh), bs_range(ll, 0xff)));
            if lh + 1 < hh {
                alts.push(two(bs_range(lh + 1, hh - 1), ANY));
            }
            alts.push(two(bs_byte(hh), bs_range(0, hl)));
        }
    }
    out.push(Tok::Alt(alts));
}

/// The tokens of one net target of a rule, over the encoding of `mxc_eval::encoding`.
fn net_toks(r: &BoundRule, t: &NetTarget, windows: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    out.push(Tok::Byte(
        match (
            r.rights.net().contains(NetRights::CONNECT),
            r.rights.net().contains(NetRights::BIND),
        ) {
            (true, true) => bs_or(
                bs_byte(ev::NetRight::Connect as u8),
                bs_byte(ev::NetRight::Bind as u8),
            ),
            (true, false) => bs_byte(ev::NetRight::Connect as u8),
            _ => bs_byte(ev::NetRight::Bind as u8),
        },
    ));
    out.push(Tok::Byte(bs_byte(match t.proto {
        NetProto::Tcp => ev::Proto::Tcp as u8,
        NetProto::Udp => ev::Proto::Udp as u8,
    })));
    host_toks(&t.host, &mut out);
    port_toks(&t.ports, &mut out);
    if r.from.is_empty() {
        out.push(Tok::Alt(vec![
            vec![Tok::Byte(bs_byte(NO_PROGRAM))],
            vec![Tok::Byte(bs_byte(PROGRAM)), Tok::Star(ANY)],
        ]));
    } else {
        out.push(Tok::Byte(bs_byte(PROGRAM)));
        let alts = r
            .from
            .iter()
            .map(|g| {
                let mut v = Vec::new();
                path_toks(g, windows, true, &mut v);
                v
            })
            .collect();
        out.push(Tok::Alt(alts));
    }
    out
}

/// The tokens of one app target: program path, `PROGRAM_END`, arguments joined by
/// `ARG_SEP` (see `mxc_eval::encoding`).
fn app_toks(g: &PathGlob, args: Option<&ArgsGlob>, windows: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    path_toks(g, windows, true, &mut out);
    out.push(Tok::Byte(bs_byte(PROGRAM_END)));
    match args {
        None => out.push(Tok::Star(ANY)),
        Some(glob) => {
            for atom in &glob.atoms {
                match atom {
                    Atom::Lit(l) => lit_toks(l.as_bytes(), &mut out),
                    Atom::Star => out.push(Tok::Star(ANY)),
                    Atom::One => out.push(class_tok(&char_class([('\0', char::MAX)]))),
                    Atom::Class { .. } => {}
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// NFA with shared prefixes, and its determinisation

/// A byte NFA. State 0 is the start. Built by [`Nfa::add`], which reuses the state
/// reached by the same token from the same state (so equal prefixes share states);
/// the insides of alternatives and loops are private to the token that made them, so
/// sharing never adds a path that was not inserted.
#[derive(Default)]
struct Nfa {
    eps: Vec<Vec<u32>>,
    /// (byte set id, target)
    edges: Vec<Vec<(u32, u32)>>,
    /// Pattern ids accepted in each state.
    accept: Vec<Vec<u32>>,
    sets: Vec<ByteSet>,
    set_ids: FxMap<ByteSet, u32>,
    /// Token ids, and the state each (state, token id) leads to.
    tok_ids: FxMap<Tok, u32>,
    memo: FxMap<(u32, u32), u32>,
    /// The pattern whose insertion made each state (to name the rules when an
    /// automaton outgrows its budget).
    origin: Vec<u32>,
    adding: u32,
}

impl Nfa {
    fn new() -> Nfa {
        let mut n = Nfa::default();
        n.state();
        n
    }

    fn state(&mut self) -> u32 {
        self.eps.push(Vec::new());
        self.edges.push(Vec::new());
        self.accept.push(Vec::new());
        self.origin.push(self.adding);
        (self.eps.len() - 1) as u32
    }

    fn edge(&mut self, from: u32, set: ByteSet, to: u32) {
        let next = self.sets.len() as u32;
        let id = *self.set_ids.entry(set).or_insert(next);
        if id == next {
            self.sets.push(set);
        }
        self.edges[from as usize].push((id, to));
    }

    /// Adds pattern `id`.
    fn add(&mut self, id: u32, toks: &[Tok]) {
        self.adding = id;
        let end = self.seq(0, toks, true);
        self.accept[end as usize].push(id);
    }

    fn seq(&mut self, mut at: u32, toks: &[Tok], shared: bool) -> u32 {
        for t in toks {
            at = self.tok(at, t, shared);
        }
        at
    }

    fn tok(&mut self, from: u32, t: &Tok, shared: bool) -> u32 {
        let key = if shared {
            let tid = match self.tok_ids.get(t) {
                Some(&id) => id,
                None => {
                    let id = self.tok_ids.len() as u32;
                    self.tok_ids.insert(t.clone(), id);
                    id
                }
            };
            if let Some(&to) = self.memo.get(&(from, tid)) {
                return to;
            }
            Some((from, tid))
        } else {
            None
        };
        let to = match t {
            Tok::Byte(s) => {
                let to = self.state();
                self.edge(from, *s, to);
                to
            }
            Tok::Star(s) => {
                let to = self.state();
                self.eps[from as usize].push(to);
                self.edge(to, *s, to);
                to
            }
            Tok::AnyDepth(sep, ns) => {
                let (l, m, m2) = (self.state(), self.state(), self.state());
                self.eps[from as usize].push(l);
                self.edge(l, *sep, m);
                self.edge(m, *ns, m2);
                self.edge(m2, *ns, m2);
                self.eps[m2 as usize].push(l);
                l
            }
            Tok::AnyDepthRev(sep, ns) => {
                let (l, m) = (self.state(), self.state());
                self.eps[from as usize].push(l);
                self.edge(l, *ns, m);
                self.edge(m, *ns, m);
                self.edge(m, *sep, l);
                l
            }
            Tok::Alt(branches) => {
                let join = self.state();
                for b in branches {
                    let end = self.seq(from, b, false);
                    self.eps[end as usize].push(join);
                }
                join
            }
        };
        if let Some(key) = key {
            self.memo.insert(key, to);
        }
        to
    }
}

/// Most DFA states one automaton may have, whatever the policy's size.
const MAX_STATES: usize = 1 << 22;

/// The DFA states one automaton may have for an NFA of `nfa_states` states: linear in
/// the policy (the mixes of `crate::mixes` stay far below it), so that a policy whose
/// patterns combine into exponentially many states is refused after a bounded amount
/// of work (well under a second for 10,000 rules) instead of running out of memory.
pub(crate) fn state_budget(nfa_states: usize) -> usize {
    nfa_states.saturating_mul(16).clamp(1 << 16, MAX_STATES)
}

/// Why an automaton could not be built: it outgrew its budget; `patterns` are the
/// patterns (indices as given to [`build_section`]) whose states occur most in the
/// last subsets built, most first.
#[derive(Debug)]
pub(crate) struct TooBig {
    pub budget: usize,
    pub patterns: Vec<u32>,
}

/// Subset construction. `row_of` maps the sorted pattern ids accepted in a state to a
/// row index or `NONE`.
fn determinise(
    nfa: &Nfa,
    budget: usize,
    mut row_of: impl FnMut(&[u32]) -> u32,
) -> Result<Dense, TooBig> {
    // Byte classes: bytes that no set tells apart.
    let mut class_of = vec![0u8; 256];
    let mut nclasses = 1usize;
    for set in &nfa.sets {
        let mut map = [[u16::MAX; 2]; 256];
        let mut n = 0u16;
        for b in 0..=255u8 {
            let slot = &mut map[class_of[b as usize] as usize][bs_has(set, b) as usize];
            if *slot == u16::MAX {
                *slot = n;
                n += 1;
            }
            class_of[b as usize] = *slot as u8;
        }
        nclasses = n as usize;
    }
    let set_classes: Vec<Vec<u8>> = nfa
        .sets
        .iter()
        .map(|set| {
            let mut seen = [false; 256];
            let mut v = Vec::new();
            for b in 0..=255u8 {
                let c = class_of[b as usize];
                if bs_has(set, b) && !seen[c as usize] {
                    seen[c as usize] = true;
                    v.push(c);
                }
            }
            v
        })
        .collect();

    let n = nfa.eps.len();
    let mut stamp = vec![0u32; n];
    let mut round = 0u32;
    let mut stack: Vec<u32> = Vec::new();
    // Epsilon closure of `set`, in place, sorted.
    let mut close = |set: &mut Vec<u32>| {
        round += 1;
        stack.clear();
        for &q in set.iter() {
            if stamp[q as usize] != round {
                stamp[q as usize] = round;
                stack.push(q);
            }
        }
        set.clear();
        while let Some(q) = stack.pop() {
            set.push(q);
            for &e in &nfa.eps[q as usize] {
                if stamp[e as usize] != round {
                    stamp[e as usize] = round;
                    stack.push(e);
                }
            }
        }
        set.sort_unstable();
    };

    let mut ids: FxMap<Box<[u32]>, u32> = FxMap::default();
    let mut sets: Vec<Box<[u32]>> = vec![Box::new([])];
    let mut accept: Vec<u32> = vec![ev::NONE];
    let mut pids: Vec<u32> = Vec::new();
    let mut accept_of = |set: &[u32], pids: &mut Vec<u32>| -> u32 {
        pids.clear();
        for &q in set {
            pids.extend_from_slice(&nfa.accept[q as usize]);
        }
        if pids.is_empty() {
            return ev::NONE;
        }
        pids.sort_unstable();
        pids.dedup();
        row_of(pids)
    };
    let mut start_set = vec![0u32];
    close(&mut start_set);
    ids.insert(Box::new([]), 0);
    ids.insert(start_set.clone().into_boxed_slice(), 1);
    accept.push(accept_of(&start_set, &mut pids));
    sets.push(start_set.into_boxed_slice());
    // The classes of each byte set, as a bitmap over classes.
    let set_cls: Vec<ByteSet> = set_classes
        .iter()
        .map(|cs| {
            let mut m = [0u64; 4];
            for &c in cs {
                m[(c >> 6) as usize] |= 1u64 << (c & 63);
            }
            m
        })
        .collect();
    let mut trans: Vec<u32> = vec![0; nclasses];
    // Per state: its outgoing edges grouped by byte set (`group_of[set]` is the group
    // of a set in this state, valid when `group_stamp[set] == i`).
    let mut group_of = vec![0u32; nfa.sets.len()];
    let mut group_stamp = vec![0usize; nfa.sets.len()];
    let mut groups: Vec<(u32, Vec<u32>)> = Vec::new();
    let mut ngroups;
    // Per state: the target of each signature (set of groups) met so far.
    let mut sigs: Vec<(u64, u32)> = Vec::new();
    let mut sig_map: FxMap<Vec<u64>, u32> = FxMap::default();
    let mut sig_buf: Vec<u64> = Vec::new();
    let mut class_sig: Vec<u64> = vec![0; nclasses];
    let mut touched: Vec<u8> = Vec::new();
    let mut target_set: Vec<u32> = Vec::new();
    let mut i = 1;
    while i < sets.len() {
        ngroups = 0;
        for &q in sets[i].iter() {
            for &(sid, t) in &nfa.edges[q as usize] {
                let sid = sid as usize;
                if group_stamp[sid] != i {
                    group_stamp[sid] = i;
                    group_of[sid] = ngroups as u32;
                    if groups.len() <= ngroups {
                        groups.push((0, Vec::new()));
                    }
                    groups[ngroups].0 = sid as u32;
                    groups[ngroups].1.clear();
                    ngroups += 1;
                }
                groups[group_of[sid] as usize].1.push(t);
            }
        }
        let base = trans.len();
        trans.resize(base + nclasses, 0);
        sigs.clear();
        sig_map.clear();
        let words = ngroups.div_ceil(64).max(1);
        // The classes some group's byte set holds, and for each (when there are at most
        // 64 groups) the bit set of those groups, from each set's list of classes.
        touched.clear();
        if words == 1 {
            for (j, (sid, _)) in groups[..ngroups].iter().enumerate() {
                for &c in &set_classes[*sid as usize] {
                    let slot = &mut class_sig[c as usize];
                    if *slot == 0 {
                        touched.push(c);
                    }
                    *slot |= 1 << j;
                }
            }
        } else {
            touched.extend((0..nclasses).map(|c| c as u8));
        }
        for &c in &touched {
            let c = c as usize;
            if words == 1 {
                sig_buf.clear();
                sig_buf.push(std::mem::take(&mut class_sig[c]));
            } else {
                let (w, bit) = (c >> 6, 1u64 << (c & 63));
                // The groups whose byte set holds class `c` (bit j = group j).
                sig_buf.clear();
                sig_buf.resize(words, 0);
                for (j, (sid, _)) in groups[..ngroups].iter().enumerate() {
                    if set_cls[*sid as usize][w] & bit != 0 {
                        sig_buf[j >> 6] |= 1 << (j & 63);
                    }
                }
                if sig_buf.iter().all(|&x| x == 0) {
                    continue;
                }
            }
            let known = if words == 1 {
                sigs.iter().find(|(s, _)| *s == sig_buf[0]).map(|&(_, t)| t)
            } else {
                sig_map.get(sig_buf.as_slice()).copied()
            };
            if let Some(t) = known {
                trans[base + c] = t;
                continue;
            }
            target_set.clear();
            for (j, (_, ts)) in groups[..ngroups].iter().enumerate() {
                if sig_buf[j >> 6] & (1 << (j & 63)) != 0 {
                    target_set.extend_from_slice(ts);
                }
            }
            close(&mut target_set);
            let t = match ids.get(target_set.as_slice()) {
                Some(&t) => t,
                None => {
                    let t = sets.len() as u32;
                    if sets.len() >= budget {
                        return Err(TooBig {
                            budget,
                            patterns: culprits(&nfa.origin, &sets),
                        });
                    }
                    let set: Box<[u32]> = target_set.as_slice().into();
                    ids.insert(set.clone(), t);
                    accept.push(accept_of(&set, &mut pids));
                    sets.push(set);
                    t
                }
            };
            if words == 1 {
                sigs.push((sig_buf[0], t));
            } else {
                sig_map.insert(sig_buf.clone(), t);
            }
            trans[base + c] = t;
        }
        i += 1;
    }
    Ok(Dense {
        nclasses,
        class_of,
        start: 1,
        trans,
        accept,
    })
}

/// The patterns whose states occur in most of the last subsets built (the ones that
/// combine), most first, at most eight; `origin[q]` is NFA state `q`'s pattern. Shared
/// by the byte and the per-component constructions.
pub(crate) fn culprits(origin: &[u32], sets: &[Box<[u32]>]) -> Vec<u32> {
    let mut count: FxMap<u32, usize> = FxMap::default();
    for set in sets.iter().rev().take(4096) {
        let mut seen: Vec<u32> = set
            .iter()
            .filter_map(|&q| origin.get(q as usize).copied())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        for p in seen {
            *count.entry(p).or_default() += 1;
        }
    }
    let mut v: Vec<(usize, u32)> = count.into_iter().map(|(p, c)| (c, p)).collect();
    v.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    v.into_iter().take(8).map(|(_, p)| p).collect()
}

/// Builds one section's automaton from its patterns' tokens; `row_of` maps an accepting
/// pattern set (sorted pattern ids) to a row index or `NONE`. No patterns: the empty
/// automaton (start = dead state, so a walk stops at once).
fn build_section(
    what: &str,
    patterns: &[Vec<Tok>],
    row_of: impl FnMut(&[u32]) -> u32,
) -> Result<Dense, TooBig> {
    if patterns.is_empty() {
        return Ok(Dense::empty());
    }
    let timing = std::env::var_os("MXC_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let mut nfa = Nfa::new();
    for (i, p) in patterns.iter().enumerate() {
        nfa.add(i as u32, p);
    }
    let nfa_states = nfa.eps.len();
    drop(std::mem::take(&mut nfa.memo));
    drop(std::mem::take(&mut nfa.tok_ids));
    let d = determinise(&nfa, state_budget(nfa_states), row_of)?;
    if timing {
        eprintln!(
            "{what}: {} patterns, NFA {nfa_states} states, DFA {} states x {} classes: {:?}",
            patterns.len(),
            d.accept.len(),
            d.nclasses,
            t0.elapsed()
        );
    }
    Ok(d)
}

/// Packs a dense automaton into the engine's comb layout, minimised first when
/// `min` (see [`compile_bound`] for which), with equal classes merged.
fn pack(d: Dense, min: bool) -> ev::Dfa {
    if d.start == 0 {
        return ev::Dfa::empty();
    }
    let t0 = std::time::Instant::now();
    let before = d.nstates();
    let d = if min { minimise(&d) } else { d };
    if std::env::var_os("MXC_TIMING").is_some() {
        eprintln!(
            "minimise {before} to {} states x {} classes: {:?}",
            d.nstates(),
            d.nclasses,
            t0.elapsed()
        );
    }
    let (nclasses, class_of, trans) = merge_classes(d.nclasses, &d.class_of, &d.trans);
    ev::Dfa::from_dense_flat(nclasses as u32, class_of, d.start, &trans, d.accept)
}

/// The dense automaton of Linux path globs, for the lints: `accept[s]` is the union of
/// the `bit`s of the globs matched in state `s` (`NONE` when none), over the same
/// language as the compiled fs automata (paths as they are, no NUL handling). At most
/// `budget` states.
pub(crate) fn dense_of_globs(globs: &[(&PathGlob, u32)], budget: usize) -> Result<Dense, TooBig> {
    if globs.is_empty() {
        return Ok(Dense::empty());
    }
    let mut nfa = Nfa::new();
    let mut toks = Vec::new();
    for (i, (g, _)) in globs.iter().enumerate() {
        toks.clear();
        path_toks(g, false, false, &mut toks);
        nfa.add(i as u32, &toks);
    }
    determinise(&nfa, budget, |pids| {
        pids.iter()
            .fold(0u32, |m, &p| m | globs.get(p as usize).map_or(0, |g| g.1))
    })
}

/// Hopcroft's minimisation: the coarsest partition of the states that respects the
/// accept values (rows) and the transitions, refined with (block, class) splitters
/// over the inverse transitions; O(n k log n) for n states and k classes.
///
/// The dead state starts in a block of its own, which is never a splitter (Hopcroft's
/// "all blocks but one" rule; a singleton never splits, so it is never queued later):
/// the transitions into it, most of the table, are never scanned. A state equivalent
/// to the dead one would then stay apart from it, which the determinisation never
/// produces (every non-empty NFA state set can still accept).
fn minimise(d: &Dense) -> Dense {
    let n = d.nstates();
    let k = d.nclasses;
    if n <= 2 {
        return Dense {
            nclasses: k,
            class_of: d.class_of.clone(),
            start: d.start,
            trans: d.trans.clone(),
            accept: d.accept.clone(),
        };
    }
    // Inverse transitions, grouped by (class, target): sources of `inv_at[c * n + t]..`.
    let mut count = vec![0u32; k * n + 1];
    for s in 0..n {
        for c in 0..k {
            let t = d.trans[s * k + c] as usize;
            if t != 0 {
                count[c * n + t + 1] += 1;
            }
        }
    }
    for i in 1..count.len() {
        count[i] += count[i - 1];
    }
    let inv_at = count.clone();
    // `has_in[c]`: bit t set when some transition on class c enters t (not the dead
    // state); a small bitmap per class, read before the large `inv_at`.
    let words = n.div_ceil(64);
    let mut has_in = vec![0u64; k * words];
    for c in 0..k {
        for t in 1..n {
            if inv_at[c * n + t + 1] > inv_at[c * n + t] {
                has_in[c * words + t / 64] |= 1 << (t % 64);
            }
        }
    }
    let mut inv = vec![0u32; count[k * n] as usize];
    for s in 0..n {
        for c in 0..k {
            let t = d.trans[s * k + c] as usize;
            if t == 0 {
                continue;
            }
            let slot = &mut count[c * n + t];
            inv[*slot as usize] = s as u32;
            *slot += 1;
        }
    }
    // Initial blocks: the dead state alone (block 0), then one per accept value.
    let mut by_accept: FxMap<u32, u32> = FxMap::default();
    let mut block_of = vec![0u32; n];
    for (b, &a) in block_of.iter_mut().zip(&d.accept).skip(1) {
        let next = by_accept.len() as u32 + 1;
        *b = *by_accept.entry(a).or_insert(next);
    }
    let nb0 = by_accept.len() + 1;
    // Blocks as ranges of `elems`; `loc[s]` is the position of `s` in `elems`.
    let mut elems: Vec<u32> = (0..n as u32).collect();
    elems.sort_by_key(|&s| block_of[s as usize]);
    let mut loc = vec![0usize; n];
    for (i, &s) in elems.iter().enumerate() {
        loc[s as usize] = i;
    }
    let mut start = vec![0usize; nb0];
    let mut end = vec![0usize; nb0];
    for (i, &s) in elems.iter().enumerate() {
        let b = block_of[s as usize] as usize;
        if i == 0 || block_of[elems[i - 1] as usize] as usize != b {
            start[b] = i;
        }
        end[b] = i + 1;
    }
    let mut marked = vec![0usize; nb0];
    let mut in_work = vec![false; nb0 * k];
    let mut work: Vec<(u32, u32)> = Vec::new();
    for b in 1..nb0 {
        for c in 0..k {
            in_work[b * k + c] = true;
            work.push((b as u32, c as u32));
        }
    }
    let mut splitter: Vec<u32> = Vec::new();
    let mut touched: Vec<u32> = Vec::new();
    while let Some((b, c)) = work.pop() {
        let (b, c) = (b as usize, c as usize);
        in_work[b * k + c] = false;
        splitter.clear();
        splitter.extend_from_slice(&elems[start[b]..end[b]]);
        for &t in &splitter {
            if has_in[c * words + t as usize / 64] & (1 << (t % 64)) == 0 {
                continue;
            }
            let at = c * n + t as usize;
            for &p in &inv[inv_at[at] as usize..inv_at[at + 1] as usize] {
                let pb = block_of[p as usize] as usize;
                let pos = loc[p as usize];
                let first_unmarked = start[pb] + marked[pb];
                if pos < first_unmarked {
                    continue; // already marked
                }
                if marked[pb] == 0 {
                    touched.push(pb as u32);
                }
                // Swap `p` into the marked prefix of its block.
                let q = elems[first_unmarked];
                elems.swap(pos, first_unmarked);
                loc[q as usize] = pos;
                loc[p as usize] = first_unmarked;
                marked[pb] += 1;
            }
        }
        for &x in &touched {
            let x = x as usize;
            let m = marked[x];
            marked[x] = 0;
            if m == end[x] - start[x] {
                continue;
            }
            // Split: the marked prefix becomes a new block `y`.
            let y = start.len();
            start.push(start[x]);
            end.push(start[x] + m);
            marked.push(0);
            start[x] += m;
            for &s in &elems[start[y]..end[y]] {
                block_of[s as usize] = y as u32;
            }
            in_work.resize(in_work.len() + k, false);
            let smaller = if end[y] - start[y] <= end[x] - start[x] {
                y
            } else {
                x
            };
            for cc in 0..k {
                if in_work[x * k + cc] {
                    in_work[y * k + cc] = true;
                    work.push((y as u32, cc as u32));
                } else {
                    in_work[smaller * k + cc] = true;
                    work.push((smaller as u32, cc as u32));
                }
            }
        }
        touched.clear();
    }
    // Number the blocks in order of their first state (the dead state's block is 0).
    let mut id = vec![u32::MAX; start.len()];
    let mut reps: Vec<usize> = Vec::new();
    for (s, &b) in block_of.iter().enumerate() {
        let b = b as usize;
        if id[b] == u32::MAX {
            id[b] = reps.len() as u32;
            reps.push(s);
        }
    }
    let mut trans = Vec::with_capacity(reps.len() * k);
    for &s in &reps {
        trans.extend(
            d.trans[s * k..(s + 1) * k]
                .iter()
                .map(|&t| id[block_of[t as usize] as usize]),
        );
    }
    Dense {
        nclasses: k,
        class_of: d.class_of.clone(),
        start: id[block_of[d.start as usize] as usize],
        accept: reps.iter().map(|&s| d.accept[s]).collect(),
        trans,
    }
}

/// Binds and compiles one agent of a checked program.
pub fn compile_agent(
    program: &crate::Program,
    agent: &str,
    params: &std::collections::BTreeMap<String, String>,
    target: Target,
) -> Result<(ev::Table, Bound), Diagnostics> {
    let b = crate::bind::bind(&program.model, agent, params, target == Target::Windows)?;
    let t = compile_bound(&b, &program.sources)?;
    Ok((t, b))
}

/// The engine of `agent` in the policy text `src` (one file, no imports but the
/// standard library), compiled for Linux with `params`: what tests and tools that start
/// from a few lines of policy need. A runtime loads a compiled table instead.
/// `Err`: the file's diagnostics, or a table that does not load, as text.
pub fn engine_of_source(
    src: &str,
    agent: &str,
    params: &std::collections::BTreeMap<String, String>,
) -> Result<ev::Engine, String> {
    let prog = crate::check_source_without_lints("t.mxc", src);
    if prog.diags.has_errors() {
        return Err(format!("{:?}", prog.diags));
    }
    let (t, _) =
        compile_agent(&prog, agent, params, Target::Linux).map_err(|d| format!("{d:?}"))?;
    ev::Engine::from_table(t).map_err(|e| e.to_string())
}

/// The old compiler's regular expressions (regex-automata determinised them), kept as
/// an oracle: the token construction must accept exactly the same byte strings.
#[cfg(test)]
mod oracle {
    use super::*;
    use regex_automata::dfa::{dense, Automaton};
    use regex_automata::nfa::thompson;
    use regex_automata::util::syntax;
    use regex_automata::Input;
    use std::fmt::Write as _;

    fn esc_lit(s: &str, ci: bool) -> String {
        let e = regex_syntax::escape(s);
        if ci {
            format!("(?iu:{e})")
        } else {
            e
        }
    }

    fn sep(windows: bool) -> &'static str {
        if windows {
            r"[/\\]"
        } else {
            "/"
        }
    }

    fn not_sep(windows: bool) -> &'static str {
        if windows {
            r"(?-u:[^/\\])"
        } else {
            r"(?-u:[^/])"
        }
    }

    fn atoms_regex(atoms: &[Atom], windows: bool, out: &mut String) {
        for a in atoms {
            match a {
                Atom::Lit(l) => out.push_str(&esc_lit(l, windows)),
                Atom::Star => {
                    out.push_str(not_sep(windows));
                    out.push('*');
                }
                Atom::One => out.push_str(if windows {
                    r"(?u:[^/\\])"
                } else {
                    r"(?u:[^/])"
                }),
                Atom::Class { negated, ranges } => {
                    out.push_str(if windows { "(?iu:[" } else { "(?u:[" });
                    if *negated {
                        out.push('^');
                    }
                    for (lo, hi) in ranges {
                        out.push_str(&regex_syntax::escape(&lo.to_string()));
                        if lo != hi {
                            out.push('-');
                            out.push_str(&regex_syntax::escape(&hi.to_string()));
                        }
                    }
                    if *negated {
                        out.push('/');
                        if windows {
                            out.push_str(r"\\");
                        }
                    }
                    out.push_str("])");
                }
            }
        }
    }

    /// The regex of a path glob over normalised paths.
    pub fn path_regex(g: &PathGlob, windows: bool) -> String {
        let s = sep(windows);
        let ns = not_sep(windows);
        let mut body = String::new();
        let mut nullable = true;
        for c in &g.comps {
            match c {
                Comp::AnyDepth => {
                    let _ = write!(body, "(?:{s}{ns}+)*");
                }
                Comp::Seg(atoms) => {
                    nullable = false;
                    body.push_str(s);
                    atoms_regex(atoms, windows, &mut body);
                }
            }
        }
        let prefix = match &g.root {
            Root::Slash => String::new(),
            Root::Drive(d) => format!("(?i:{d}:)"),
            Root::Anywhere => {
                let drive = if windows { "(?:[A-Za-z]:)?" } else { "" };
                // `**/x`: x under any number of components.
                return format!(
                    "(?s-u:{drive}(?:{s}{ns}+)*{})",
                    if nullable {
                        format!("(?:{s}|{body})")
                    } else {
                        body
                    }
                );
            }
        };
        if nullable {
            format!("(?s-u:{prefix}(?:{s}|{body}))")
        } else {
            format!("(?s-u:{prefix}{body})")
        }
    }

    fn regex_matches(re: &str, s: &[u8]) -> bool {
        let dfa = dense::Builder::new()
            .syntax(syntax::Config::new().utf8(false).unicode(true))
            .thompson(thompson::Config::new().utf8(false))
            .build(&format!("^(?:{re})$"))
            .unwrap();
        dfa.try_search_fwd(&Input::new(s)).unwrap().is_some()
    }

    fn token_matches(g: &PathGlob, windows: bool, s: &[u8]) -> bool {
        let mut toks = Vec::new();
        path_toks(g, windows, false, &mut toks);
        let d = build_section("t", &[toks], |_| 0).unwrap();
        let mut st = d.start;
        for &b in s {
            st = d.step(st, u32::from(d.class_of[b as usize]));
        }
        d.accept[st as usize] != ev::NONE
    }

    #[test]
    fn tokens_accept_what_the_regexes_accept() {
        let globs = [
            "/a/[ä-ö]x",
            "/a/[!a-c]",
            "/a/?",
            "/a/?b*",
            "/KELVIN/k*",
            "/ß/[k]",
            "/é/[!é]",
            "**/.env",
            "**/*.rs",
            "/**",
            "**/x/**",
            "/a/**/b",
            "/a/*",
            "C:/Users/*",
            "/a/[a-z]?[!0-9]",
            "/x/{ab,c?}d",
            "/d/[É]",
        ];
        let inputs: [&[u8]; 30] = [
            b"",
            b"/",
            b"/a",
            b"/a/",
            b"/a/\xc3\xa4x",
            b"/a/\xc3\xb6x",
            b"/a/\xc3\xa5x",
            b"/a/d",
            b"/a/a",
            b"/a/\xe2\x84\xaa",
            b"/KELVIN/\xe2\x84\xaaz",
            b"/kelvin/K",
            b"/\xc3\x9f/K",
            b"/\xc3\xa9/\xc3\x89",
            b"/\xc3\xa9/\xc3\xa9",
            b"/x/.env",
            b"/.env",
            b"/a/b/c.rs",
            b"C:/Users/x",
            b"c:\\users\\x",
            b"c:/USERS/x",
            b"/a/x/y/b",
            b"/a/b",
            b"/a/zz",
            b"/a/\xff",
            b"/a/b\xffb",
            b"/x/abd",
            b"/x/cQd",
            b"/d/\xc3\xa9",
            b"/a/q7x",
        ];
        for windows in [false, true] {
            for src in globs {
                if src.starts_with("C:") && !windows {
                    continue;
                }
                let chars: Vec<crate::pattern::TChar> = src
                    .chars()
                    .enumerate()
                    .map(|(i, c)| crate::pattern::TChar {
                        c,
                        literal: false,
                        at: i,
                    })
                    .collect();
                for g in crate::pattern::parse_path(&chars, windows).unwrap() {
                    let re = path_regex(&g, windows);
                    for s in inputs {
                        assert_eq!(
                            token_matches(&g, windows, s),
                            regex_matches(&re, s),
                            "{src} (windows {windows}) on {:?}",
                            String::from_utf8_lossy(s)
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{parse_request, Request};
    use std::collections::BTreeMap;

    fn engine_decide(e: &ev::Engine, req: &Request) -> ev::Decision {
        crate::query::decide_engine(e, req)
    }

    /// Attack: a name that is not UTF-8 must not slip past a `deny "/s/?*"` that an
    /// `allow "/s/**"` covers (`?` matches characters, `*` bytes).
    /// Minimisation keeps the language (the accept value reached by every input) and
    /// merges equivalent states.
    #[test]
    fn minimise_keeps_the_language() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for round in 0..200 {
            let n = 2 + rnd(30) as usize;
            let k = 1 + rnd(4) as usize;
            let mut trans = vec![0u32; k];
            let mut accept = vec![ev::NONE];
            for _ in 1..n {
                for _ in 0..k {
                    trans.push(rnd(n as u64) as u32);
                }
                accept.push(match rnd(3) {
                    0 => ev::NONE,
                    a => a as u32,
                });
            }
            let d = Dense {
                nclasses: k,
                class_of: (0..=255u8).map(|b| b % k as u8).collect(),
                start: 1,
                trans,
                accept,
            };
            let m = minimise(&d);
            assert!(m.nstates() <= n, "round {round}");
            assert!(m.trans[..k].iter().all(|&t| t == 0) && m.accept[0] == ev::NONE);
            // Walk the pairs reachable from the two starts: accept values agree.
            let mut seen = std::collections::HashSet::new();
            let mut stack = vec![(d.start, m.start)];
            while let Some((a, b)) = stack.pop() {
                if !seen.insert((a, b)) {
                    continue;
                }
                assert_eq!(d.accept[a as usize], m.accept[b as usize], "round {round}");
                for c in 0..k as u32 {
                    stack.push((d.step(a, c), m.step(b, c)));
                }
            }
            // Idempotent: a minimal automaton does not shrink.
            assert_eq!(minimise(&m).nstates(), m.nstates(), "round {round}");
        }
    }

    #[test]
    fn non_utf8_path_cannot_bypass_a_deny() {
        let prog = crate::check_source(
            "t.mxc",
            "policy p { fs { allow read \"/s/**\" deny read \"/s/?*\" } } agent a { use p }",
        );
        let b = crate::bind::bind(&prog.model, "a", &BTreeMap::new(), false).unwrap();
        let e = ev::Engine::from_table(compile_bound(&b, &prog.sources).unwrap()).unwrap();
        assert_eq!(e.fs(b"/s/\xff", ev::FsRight::Read).effect, ev::Effect::Deny);
        assert_eq!(e.fs(b"/s/ok", ev::FsRight::Read).effect, ev::Effect::Deny);
        assert_eq!(e.launch(b"/usr/bin/\xff", &["x"]).effect, ev::Effect::Deny);
    }

    #[test]
    fn smoke() {
        let src = r#"
            param workspace: path
            policy p {
              fs {
                allow read "/**"
                allow read, write, create "${workspace}/**"
                deny all "~/.ssh/**" because "keys"
                ask write "**/.git/hooks/**"
                allow read "/etc/*.conf"
                deny read "/etc/[s]hadow"
              }
              net {
                allow connect "api.github.com:443" from "/usr/bin/git"
                allow connect "*.npmjs.org:443"
                deny connect "10.0.0.0/8"
                allow connect "localhost:11434"
                allow bind "127.0.0.1:3000-3999"
              }
              app {
                allow launch "/usr/bin/git" args "status*"
                deny launch "/usr/bin/git" args "push *"
                allow launch "/usr/bin/{ls,cat}"
              }
            }
            agent a { use p }
        "#;
        let prog = crate::check_source("t.mxc", src);
        assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
        let mut params = BTreeMap::new();
        params.insert("workspace".to_string(), "/home/u/src/app".to_string());
        params.insert("home".to_string(), "/home/u".to_string());
        let b = crate::bind::bind(&prog.model, "a", &params, false).unwrap();
        let t = compile_bound(&b, &prog.sources).unwrap();
        let e = ev::Engine::from_table(t).unwrap();
        let cases = [
            ("read /etc/passwd", "allow"),
            ("write /etc/passwd", "deny"),
            ("read /home/u/.ssh/id_rsa", "deny"),
            ("read /home/u/.ssh", "deny"),
            ("write /home/u/src/app/main.rs", "allow"),
            ("write /home/u/src/app/.git/hooks/pre-commit", "ask"),
            ("read /etc/shadow", "deny"),
            ("connect api.github.com:443 from /usr/bin/git", "allow"),
            ("connect API.GitHub.com.:443 from /usr/bin/git", "allow"),
            ("connect api.github.com:443", "deny"),
            ("connect api.github.com:443 from /usr/bin/curl", "deny"),
            ("connect registry.npmjs.org:443", "allow"),
            ("connect npmjs.org:443", "deny"),
            ("connect 10.1.2.3:443", "deny"),
            ("connect 127.0.0.1:11434", "allow"),
            ("connect [::1]:11434", "allow"),
            ("connect localhost:11434", "allow"),
            ("bind 127.0.0.1:3500", "allow"),
            ("bind 127.0.0.1:4000", "deny"),
            ("launch /usr/bin/git status --short", "allow"),
            ("launch /usr/bin/git push origin main", "deny"),
            ("launch /usr/bin/git", "deny"),
            ("launch /usr/bin/ls -la", "allow"),
        ];
        for (q, want) in cases {
            let r = parse_request(q, false).unwrap();
            let got = engine_decide(&e, &r);
            let reference = crate::interp::decide(&b, &r);
            assert_eq!(got.effect.as_str(), want, "{q}");
            assert_eq!(reference.effect.as_str(), want, "{q} (reference)");
            assert_eq!(got.rule.map(|r| r.0 as usize), reference.rule, "{q}");
        }
    }
}
