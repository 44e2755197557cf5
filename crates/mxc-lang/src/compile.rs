//! The compiler: a bound agent in, an [`mxc_eval::Table`] out.
//!
//! Every target becomes one regular expression over the byte encoding the engine
//! feeds (paths as they are; net and launch requests as documented in
//! `mxc_eval::table`). All patterns of a section are determinised together by
//! regex-automata (anchored, `MatchKind::All`, so the end-of-input state knows every
//! pattern that matches); each accepting state's pattern set is turned into a row of
//! decisions per SPEC §6; states are then minimised on those rows (Moore refinement),
//! byte classes recomputed, and the table comb-packed by `mxc_eval::Dfa`.

use crate::ast::{Effect, SectionKind};
use crate::bind::{Bound, BoundRule};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{AuditDef, IsolationDef, BIND, CONNECT};
use crate::pattern::{ArgsGlob, Atom, Comp, HostPat, NetProto, NetTarget, PathGlob, Root};
use crate::source::SourceMap;
use mxc_eval as ev;
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::{start, syntax};
use regex_automata::{Anchored, MatchKind};
use std::collections::HashMap;
use std::fmt::Write as _;

pub use ev::Target;

pub fn to_eval_effect(e: Effect) -> ev::Effect {
    match e {
        Effect::Allow => ev::Effect::Allow,
        Effect::Ask => ev::Effect::Ask,
        Effect::Deny => ev::Effect::Deny,
    }
}

/// Compiles a bound agent into a decision table.
pub fn compile_bound(b: &Bound, sources: &SourceMap) -> Result<ev::Table, Diagnostics> {
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
    let err = |section: &str, e: String| {
        let mut d = Diagnostics::default();
        d.push(Diagnostic::global(
            Code::E0005,
            format!(
                "cannot compile the {section} rules of agent `{}`: {e}",
                b.agent.name
            ),
        ));
        d
    };

    // fs
    let mut fs_pats = Vec::new();
    let mut fs_owner = Vec::new();
    for (i, r) in b.rules.iter().enumerate() {
        if r.section == SectionKind::Fs {
            for g in &r.paths {
                fs_pats.push(path_regex(g, b.windows));
                fs_owner.push(i as u32);
            }
        }
    }
    let mut fs_rows: Vec<ev::FsRow> = Vec::new();
    let mut fs_index: HashMap<ev::FsRow, u32> = HashMap::new();
    let fs = build_section(&fs_pats, |pids| {
        let rs = owners(pids, &fs_owner);
        let mut row = [ev::Decision {
            effect: default,
            rule: None,
        }; 4];
        for (k, bit) in [1u8, 2, 4, 8].into_iter().enumerate() {
            row[k] = decide(&b.rules, &rs, |r| r.rights & bit != 0, default);
        }
        if row.iter().all(|d| d.rule.is_none()) {
            return ev::NONE;
        }
        intern(&mut fs_rows, &mut fs_index, row)
    })
    .map_err(|e| err("fs", e))?;

    // net
    let mut net_pats = Vec::new();
    let mut net_owner = Vec::new();
    for (i, r) in b.rules.iter().enumerate() {
        if r.section == SectionKind::Net {
            for t in &r.nets {
                net_pats.push(net_regex(r, t, b.windows));
                net_owner.push(i as u32);
            }
        }
    }
    let mut net_rows: Vec<ev::Decision> = Vec::new();
    let mut net_index: HashMap<ev::Decision, u32> = HashMap::new();
    let net = build_section(&net_pats, |pids| {
        let rs = owners(pids, &net_owner);
        let d = decide(&b.rules, &rs, |_| true, default);
        if d.rule.is_none() {
            return ev::NONE;
        }
        intern(&mut net_rows, &mut net_index, d)
    })
    .map_err(|e| err("net", e))?;

    // app
    let mut app_pats = Vec::new();
    let mut app_owner = Vec::new();
    for (i, r) in b.rules.iter().enumerate() {
        if r.section == SectionKind::App {
            for g in &r.paths {
                app_pats.push(app_regex(g, r.args.as_ref(), b.windows));
                app_owner.push(i as u32);
            }
        }
    }
    let mut app_rows: Vec<ev::Decision> = Vec::new();
    let mut app_index: HashMap<ev::Decision, u32> = HashMap::new();
    let app = build_section(&app_pats, |pids| {
        let rs = owners(pids, &app_owner);
        let d = decide(&b.rules, &rs, |_| true, default);
        if d.rule.is_none() {
            return ev::NONE;
        }
        intern(&mut app_rows, &mut app_index, d)
    })
    .map_err(|e| err("app", e))?;

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
        identity: a.identity.to_string(),
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
    Ok(ev::Table {
        target,
        agent,
        rules,
        fs,
        fs_rows,
        net,
        net_rows,
        app,
        app_rows,
    })
}

fn intern<T: Copy + Eq + std::hash::Hash>(
    rows: &mut Vec<T>,
    index: &mut HashMap<T, u32>,
    row: T,
) -> u32 {
    *index.entry(row).or_insert_with(|| {
        rows.push(row);
        (rows.len() - 1) as u32
    })
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
// Patterns to regular expressions

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
                if atoms.iter().all(|a| *a == Atom::Star) {
                    // A component is never empty: `/*` does not match the root `/`.
                    let _ = write!(body, "{ns}+");
                } else {
                    atoms_regex(atoms, windows, &mut body);
                }
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

fn byte(b: u8) -> String {
    format!(r"\x{b:02X}")
}

fn byte_range(lo: u8, hi: u8) -> String {
    if lo == hi {
        byte(lo)
    } else {
        format!("[{}-{}]", byte(lo), byte(hi))
    }
}

const ANY_BYTE: &str = r"[\x00-\xFF]";

fn port_regex(ports: &[(u16, u16)]) -> String {
    if ports.is_empty() {
        return format!("{ANY_BYTE}{{2}}");
    }
    let mut alts = Vec::new();
    for &(lo, hi) in ports {
        let (lh, ll) = ((lo >> 8) as u8, (lo & 0xff) as u8);
        let (hh, hl) = ((hi >> 8) as u8, (hi & 0xff) as u8);
        if lh == hh {
            alts.push(format!("{}{}", byte(lh), byte_range(ll, hl)));
        } else {
            alts.push(format!("{}{}", byte(lh), byte_range(ll, 0xff)));
            if lh + 1 < hh {
                alts.push(format!("{}{ANY_BYTE}", byte_range(lh + 1, hh - 1)));
            }
            alts.push(format!("{}{}", byte(hh), byte_range(0, hl)));
        }
    }
    format!("(?:{})", alts.join("|"))
}

fn prefix_bytes(addr: &[u8], prefix: u8) -> String {
    let mut s = String::new();
    let full = (prefix / 8) as usize;
    let rem = prefix % 8;
    for b in addr.iter().take(full) {
        s.push_str(&byte(*b));
    }
    let mut rest = addr.len() - full;
    if rem > 0 {
        let mask = 0xffu8 << (8 - rem);
        let lo = addr[full] & mask;
        s.push_str(&byte_range(lo, lo | !mask));
        rest -= 1;
    }
    if rest > 0 {
        let _ = write!(s, "{ANY_BYTE}{{{rest}}}");
    }
    s
}

/// Host names are fed to the automaton reversed (see `mxc_eval::NetRequest`).
fn rev(s: &str) -> String {
    s.chars().rev().collect()
}

fn host_regex(h: &HostPat) -> String {
    let any_name = r"\x01[\x01-\xFF]*\x00";
    match h {
        HostPat::Any => format!(r"(?:{any_name}|\x04{ANY_BYTE}{{4}}|\x06{ANY_BYTE}{{16}})"),
        HostPat::Localhost => format!(
            r"(?:\x01tsohlacol\x00|\x04\x7F{ANY_BYTE}{{3}}|\x06{})",
            prefix_bytes(&std::net::Ipv6Addr::LOCALHOST.octets(), 128)
        ),
        HostPat::Name(n) => format!(r"\x01{}\x00", regex_syntax::escape(&rev(n))),
        HostPat::Suffix(s) => format!(r"\x01{}\.[\x01-\xFF]+\x00", regex_syntax::escape(&rev(s))),
        HostPat::V4(a, p) => format!(r"\x04{}", prefix_bytes(a, *p)),
        HostPat::V6(a, p) => format!(r"\x06{}", prefix_bytes(a, *p)),
    }
}

fn net_regex(r: &BoundRule, t: &NetTarget, windows: bool) -> String {
    let right = match (r.rights & CONNECT != 0, r.rights & BIND != 0) {
        (true, true) => r"[\x01\x02]".to_string(),
        (true, false) => byte(ev::NetRight::Connect as u8),
        _ => byte(ev::NetRight::Bind as u8),
    };
    let proto = match t.proto {
        NetProto::Tcp => byte(ev::Proto::Tcp as u8),
        NetProto::Udp => byte(ev::Proto::Udp as u8),
    };
    let program = if r.from.is_empty() {
        format!(r"(?:\x00|\x01{ANY_BYTE}*)")
    } else {
        let alts: Vec<String> = r.from.iter().map(|g| path_regex(g, windows)).collect();
        format!(r"\x01(?:{})", alts.join("|"))
    };
    format!(
        "(?s-u:{right}{proto}{}{}{program})",
        host_regex(&t.host),
        port_regex(&t.ports)
    )
}

fn app_regex(g: &PathGlob, args: Option<&ArgsGlob>, windows: bool) -> String {
    let mut a = String::new();
    match args {
        None => {
            let _ = write!(a, "{ANY_BYTE}*");
        }
        Some(glob) => {
            for atom in &glob.atoms {
                match atom {
                    Atom::Lit(l) => a.push_str(&regex_syntax::escape(l)),
                    Atom::Star => {
                        let _ = write!(a, "{ANY_BYTE}*");
                    }
                    Atom::One => a.push_str("(?su:.)"),
                    Atom::Class { .. } => {}
                }
            }
        }
    }
    format!(r"(?s-u:{}\x00{a})", path_regex(g, windows))
}

// ---------------------------------------------------------------------------------------
// Determinisation, minimisation, packing

/// Builds one section's automaton; `row_of` maps an accepting pattern set (sorted
/// pattern ids) to a row index or `NONE`.
fn build_section(
    patterns: &[String],
    mut row_of: impl FnMut(&[u32]) -> u32,
) -> Result<ev::Dfa, String> {
    if patterns.is_empty() {
        return Ok(ev::Dfa::from_dense_flat(
            1,
            vec![0; 256],
            0,
            &[0],
            vec![ev::NONE],
        ));
    }
    let timing = std::env::var_os("MXC_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let dfa = dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .minimize(false)
                .byte_classes(true)
                .accelerate(false)
                .specialize_start_states(false),
        )
        .syntax(syntax::Config::new().utf8(false).unicode(true))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .shrink(false)
                .which_captures(thompson::WhichCaptures::None),
        )
        .build_many(patterns)
        .map_err(|e| e.to_string())?;
    if timing {
        eprintln!(
            "determinise {} patterns: {:?}",
            patterns.len(),
            t0.elapsed()
        );
    }
    let classes = dfa.byte_classes();
    let nclasses = classes.alphabet_len() - 1; // minus EOI
    let mut rep = vec![0u8; nclasses];
    let mut class_of = vec![0u8; 256];
    for b in 0..=255u8 {
        let c = classes.get(b);
        class_of[b as usize] = c;
        rep[c as usize] = b;
    }
    let start = dfa
        .start_state(&start::Config::new().anchored(Anchored::Yes))
        .map_err(|e| e.to_string())?;
    // BFS, numbering states (0 = dead).
    let mut ids: HashMap<regex_automata::util::primitives::StateID, u32> = HashMap::new();
    let mut order = vec![];
    let mut trans: Vec<u32> = vec![0; nclasses]; // state 0: dead
    let mut accept: Vec<u32> = vec![ev::NONE];
    let mut queue = std::collections::VecDeque::new();
    let mut pids = Vec::new();
    let intern_state = |s,
                        ids: &mut HashMap<_, u32>,
                        order: &mut Vec<_>,
                        queue: &mut std::collections::VecDeque<_>|
     -> u32 {
        if dfa.is_dead_state(s) {
            return 0;
        }
        if let Some(&i) = ids.get(&s) {
            return i;
        }
        let i = (order.len() + 1) as u32;
        ids.insert(s, i);
        order.push(s);
        queue.push_back(s);
        i
    };
    let start_id = intern_state(start, &mut ids, &mut order, &mut queue);
    while let Some(s) = queue.pop_front() {
        let base = trans.len();
        trans.resize(base + nclasses, 0);
        for (c, &b) in rep.iter().enumerate() {
            let t = dfa.next_state(s, b);
            let ti = intern_state(t, &mut ids, &mut order, &mut queue);
            trans[base + c] = ti;
        }
        let e = dfa.next_eoi_state(s);
        pids.clear();
        if dfa.is_match_state(e) {
            for k in 0..dfa.match_len(e) {
                pids.push(dfa.match_pattern(e, k).as_u32());
            }
            pids.sort_unstable();
        }
        accept.push(if pids.is_empty() {
            ev::NONE
        } else {
            row_of(&pids)
        });
    }
    if timing {
        eprintln!(
            "explore {} states x {nclasses} classes: {:?}",
            accept.len(),
            t0.elapsed()
        );
    }
    let (trans, accept, start_id) = minimize(nclasses, &trans, &accept, start_id);
    if timing {
        eprintln!("minimise to {} states: {:?}", accept.len(), t0.elapsed());
    }
    let (nclasses, class_of, trans) = merge_classes(nclasses, &class_of, &trans);
    let d = ev::Dfa::from_dense_flat(nclasses as u32, class_of, start_id, &trans, accept);
    if timing {
        eprintln!("pack ({nclasses} classes): {:?}", t0.elapsed());
    }
    Ok(d)
}

/// Moore partition refinement on (accept row, transitions). State 0 stays dead.
fn minimize(k: usize, trans: &[u32], accept: &[u32], start: u32) -> (Vec<u32>, Vec<u32>, u32) {
    let n = accept.len();
    // Initial blocks by accept value, dead state's block first.
    let mut block = vec![0u32; n];
    {
        let mut m: HashMap<u32, u32> = HashMap::new();
        m.insert(ev::NONE, 0);
        // The dead state alone in block 0 unless others are equivalent to it; other
        // NONE states start in block 0 too and are split off by refinement.
        for s in 0..n {
            let next = m.len() as u32;
            block[s] = *m.entry(accept[s]).or_insert(next);
        }
    }
    let mut nblocks = block.iter().copied().max().unwrap_or(0) + 1;
    let mut sig: Vec<u32> = Vec::with_capacity(k + 1);
    loop {
        let mut m: HashMap<Vec<u32>, u32> = HashMap::with_capacity(nblocks as usize * 2);
        let mut nb = vec![0u32; n];
        // Keep state 0's block id 0.
        for s in std::iter::once(0).chain(1..n) {
            sig.clear();
            sig.push(block[s]);
            sig.extend(trans[s * k..(s + 1) * k].iter().map(|&t| block[t as usize]));
            let next = m.len() as u32;
            nb[s] = *m.entry(sig.clone()).or_insert(next);
        }
        let count = m.len() as u32;
        block = nb;
        if count == nblocks {
            break;
        }
        nblocks = count;
    }
    let nb = nblocks as usize;
    let mut out = vec![0u32; nb * k];
    let mut acc = vec![ev::NONE; nb];
    let mut done = vec![false; nb];
    for s in 0..n {
        let b = block[s] as usize;
        if done[b] {
            continue;
        }
        done[b] = true;
        acc[b] = accept[s];
        for c in 0..k {
            out[b * k + c] = block[trans[s * k + c] as usize];
        }
    }
    (out, acc, block[start as usize])
}

/// Merges byte classes whose columns are identical in every state.
fn merge_classes(k: usize, class_of: &[u8], trans: &[u32]) -> (usize, Vec<u8>, Vec<u32>) {
    let n = trans.len() / k.max(1);
    let mut cols: HashMap<Vec<u32>, u8> = HashMap::new();
    let mut remap = vec![0u8; k];
    let mut keep = Vec::new();
    for c in 0..k {
        let col: Vec<u32> = (0..n).map(|s| trans[s * k + c]).collect();
        let next = cols.len() as u8;
        let id = *cols.entry(col).or_insert_with(|| {
            keep.push(c);
            next
        });
        remap[c] = id;
    }
    let nk = keep.len();
    let mut out = vec![0u32; n * nk];
    for s in 0..n {
        for (j, &c) in keep.iter().enumerate() {
            out[s * nk + j] = trans[s * k + c];
        }
    }
    let classes = class_of.iter().map(|&c| remap[c as usize]).collect();
    (nk, classes, out)
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
