//! The compiler side of per-component fs decisions ([`mxc_eval::comp`]): fs patterns
//! of a Linux table become two automata over path *elements* (the pieces between
//! `/`), whose classes are the policy's literal components and the sets of glob
//! components an element matches.
//!
//! A pattern becomes a sequence of element tokens: the root element (`""` for `/` and
//! `**/`, `C:` or `c:` for a drive), then per component a literal (`Lit`), a glob
//! (`Glob`, matched by the one component automaton of all globs), `*` alone (`All`: any
//! element, the empty one too) or `**` (`Loop`: zero or more non-empty elements). A
//! pattern made only of `**` (`/`, `/**`, `**`) also matches one empty element after its
//! root, as the byte automata's `(?:/|body)` did: `/*`, `/**` and `**` match `/`.
//!
//! The tokens of all patterns go into one NFA per automaton that shares equal prefixes
//! (a trie, with a `Loop` a state looping on every non-empty element). A subset
//! construction reads it one class at a time; since a class is one whole component, a
//! `**/dirI/*.extJ` pattern adds one state per directory name and not, as over bytes, a
//! state for every pair of a directory name and an extension that one path can still be
//! the start of. A state whose NFA states split into loops (`P`) and others
//! stores only what the others add and falls back to the state of `P` (its parent) for
//! the rest: the thousands of names a `**/` loop tells apart are stored once.

use crate::automaton::intern;
use crate::compile::{culprits, pack_dense, state_budget, tok_atoms, FxMap, TooBig};
use crate::pattern::{Atom, Comp, PathGlob, Root};
use mxc_eval as ev;
use mxc_eval::comp::{CompDfa, CompFs, KEY_EMPTY, KEY_NONE};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum ETok {
    Lit(u32),
    Glob(u32),
    All,
    Loop,
}

#[derive(Default)]
struct Interner {
    lits: Vec<Vec<u8>>,
    lit_ids: FxMap<Vec<u8>, u32>,
    globs: Vec<Vec<Atom>>,
    glob_ids: FxMap<Vec<Atom>, u32>,
}

impl Interner {
    fn lit(&mut self, b: &[u8]) -> u32 {
        match self.lit_ids.get(b) {
            Some(&i) => i,
            None => intern(&mut self.lits, &mut self.lit_ids, b.to_vec()),
        }
    }
    fn glob(&mut self, a: &[Atom]) -> u32 {
        match self.glob_ids.get(a) {
            Some(&i) => i,
            None => intern(&mut self.globs, &mut self.glob_ids, a.to_vec()),
        }
    }
}

/// The element-token sequences of one path glob (Linux): one per root spelling, and
/// one more for a pattern of `**` only (one empty element after the root).
fn sequences(g: &PathGlob, it: &mut Interner) -> Vec<Vec<ETok>> {
    let empty = it.lit(b"");
    let roots: Vec<Vec<ETok>> = match &g.root {
        Root::Slash => vec![vec![ETok::Lit(empty)]],
        Root::Drive(d) => {
            let up = format!("{}:", d.to_ascii_uppercase());
            let low = format!("{}:", d.to_ascii_lowercase());
            let mut v = vec![vec![ETok::Lit(it.lit(up.as_bytes()))]];
            if low != up {
                v.push(vec![ETok::Lit(it.lit(low.as_bytes()))]);
            }
            v
        }
        Root::Anywhere => vec![vec![ETok::Lit(empty), ETok::Loop]],
    };
    let mut body = Vec::new();
    let mut nullable = true;
    for c in &g.comps {
        match c {
            Comp::AnyDepth => body.push(ETok::Loop),
            Comp::Seg(atoms) => {
                nullable = false;
                if atoms.iter().all(|a| matches!(a, Atom::Lit(_))) {
                    let mut s = String::new();
                    for a in atoms {
                        if let Atom::Lit(l) = a {
                            s.push_str(l);
                        }
                    }
                    body.push(ETok::Lit(it.lit(s.as_bytes())));
                } else if atoms.as_slice() == [Atom::Star] {
                    body.push(ETok::All);
                } else {
                    body.push(ETok::Glob(it.glob(atoms)));
                }
            }
        }
    }
    let mut out = Vec::new();
    for r in roots {
        let mut s = r.clone();
        s.extend_from_slice(&body);
        out.push(s);
        if nullable {
            let mut s = r;
            s.push(ETok::Lit(empty));
            out.push(s);
        }
    }
    out
}

#[derive(Default)]
struct Nfa {
    eps: Vec<Vec<u32>>,
    lit: Vec<Vec<(u32, u32)>>,
    glob: Vec<Vec<(u32, u32)>>,
    all: Vec<Vec<u32>>,
    any: Vec<Vec<u32>>,
    acc: Vec<Vec<u32>>,
    origin: Vec<u32>,
    memo: FxMap<(u32, ETok), u32>,
}

impl Nfa {
    fn new() -> Nfa {
        let mut n = Nfa::default();
        n.state(0);
        n
    }
    fn state(&mut self, origin: u32) -> u32 {
        self.eps.push(Vec::new());
        self.lit.push(Vec::new());
        self.glob.push(Vec::new());
        self.all.push(Vec::new());
        self.any.push(Vec::new());
        self.acc.push(Vec::new());
        self.origin.push(origin);
        (self.eps.len() - 1) as u32
    }
    fn add(&mut self, id: u32, seq: &[ETok]) {
        let mut at = 0u32;
        for &t in seq {
            if let Some(&to) = self.memo.get(&(at, t)) {
                at = to;
                continue;
            }
            let to = self.state(id);
            match t {
                ETok::Lit(x) => self.lit[at as usize].push((x, to)),
                ETok::Glob(g) => self.glob[at as usize].push((g, to)),
                ETok::All => self.all[at as usize].push(to),
                ETok::Loop => {
                    self.eps[at as usize].push(to);
                    self.any[to as usize].push(to);
                }
            }
            self.memo.insert((at, t), to);
            at = to;
        }
        self.acc[at as usize].push(id);
    }
    fn close(&self, set: &mut Vec<u32>) {
        let mut i = 0;
        while i < set.len() {
            let q = set[i] as usize;
            for &e in &self.eps[q] {
                if !set.contains(&e) {
                    set.push(e);
                }
            }
            i += 1;
        }
        set.sort_unstable();
        set.dedup();
    }
    fn is_loop(&self, q: u32) -> bool {
        !self.any[q as usize].is_empty()
    }
}

/// The glob sets (keys) and what the determinisation needs to know of them.
struct Keys {
    /// Per key: the sorted globs it matches.
    globs: Vec<Vec<u32>>,
    /// Per glob: the keys that contain it.
    with: Vec<Vec<u32>>,
    /// Per key: the literals of that key.
    lits: Vec<Vec<u32>>,
    lit_key: Vec<u32>,
}

/// Result of the determinisation of one automaton.
struct Built {
    dfa: CompDfa,
    nfa_states: usize,
}

/// What a step from a set of NFA states reaches on one element.
fn target(nfa: &Nfa, set: &[u32], lit: Option<u32>, key: u32, keys: &Keys, out: &mut Vec<u32>) {
    out.clear();
    let kg = &keys.globs[key as usize];
    for &q in set {
        let q = q as usize;
        if let Some(x) = lit {
            // One edge per literal (the trie shares them), sorted by literal.
            if let Ok(i) = nfa.lit[q].binary_search_by_key(&x, |&(y, _)| y) {
                out.push(nfa.lit[q][i].1);
            }
        }
        for &(g, t) in &nfa.glob[q] {
            if kg.binary_search(&g).is_ok() {
                out.push(t);
            }
        }
        out.extend_from_slice(&nfa.all[q]);
        if key != KEY_EMPTY {
            out.extend_from_slice(&nfa.any[q]);
        }
    }
    nfa.close(out);
}

fn determinise(
    nfa: &Nfa,
    keys: &Keys,
    nlits: u32,
    budget: usize,
    row_of: &mut dyn FnMut(&[u32]) -> u32,
) -> Result<CompDfa, TooBig> {
    let mut ids: FxMap<Box<[u32]>, u32> = FxMap::default();
    let mut sets: Vec<Box<[u32]>> = vec![Box::new([])];
    ids.insert(Box::new([]), 0);
    let mut start = vec![0u32];
    nfa.close(&mut start);
    let mut d = CompDfa::empty();
    d.exc_start.pop();
    let mut exc: Vec<(u32, u32)> = Vec::new();
    let mut tmp = Vec::new();
    let mut pids = Vec::new();
    let mut total_exc = 0usize;
    macro_rules! id_of {
        ($set:expr) => {{
            let s: &[u32] = $set;
            match ids.get(s) {
                Some(&i) => i,
                None => {
                    let i = sets.len() as u32;
                    if sets.len() + total_exc / 4 >= budget {
                        return Err(TooBig {
                            budget,
                            patterns: culprits(&nfa.origin, &sets),
                        });
                    }
                    sets.push(s.to_vec().into_boxed_slice());
                    ids.insert(s.to_vec().into_boxed_slice(), i);
                    i
                }
            }
        }};
    }
    d.start = id_of!(&start);
    let mut i = 1usize;
    while i < sets.len() {
        let set = sets[i].clone();
        // accept
        pids.clear();
        for &q in set.iter() {
            pids.extend_from_slice(&nfa.acc[q as usize]);
        }
        pids.sort_unstable();
        pids.dedup();
        let accept = if pids.is_empty() {
            ev::NONE
        } else {
            row_of(&pids)
        };
        let (loops, rest): (Vec<u32>, Vec<u32>) = set.iter().partition(|&&q| nfa.is_loop(q));
        let use_parent = !loops.is_empty()
            && !rest.is_empty()
            && rest.iter().all(|&q| nfa.all[q as usize].is_empty());
        // The classes this state must store: the literals and keys of `from`'s edges.
        let from: &[u32] = if use_parent { &rest } else { &set };
        let mut lits: Vec<u32> = Vec::new();
        let mut ks: Vec<u32> = Vec::new();
        for &q in from {
            lits.extend(nfa.lit[q as usize].iter().map(|&(x, _)| x));
            for &(g, _) in &nfa.glob[q as usize] {
                ks.extend_from_slice(&keys.with[g as usize]);
            }
        }
        if !use_parent {
            ks.push(KEY_EMPTY);
        }
        ks.sort_unstable();
        ks.dedup();
        if use_parent {
            // A literal the loops tell apart whose key this state overrides must be
            // stored too: the key's exception would hide the loops' literal one.
            for &k in &ks {
                for &x in &keys.lits[k as usize] {
                    if loops.iter().any(|&q| {
                        nfa.lit[q as usize]
                            .binary_search_by_key(&x, |&(y, _)| y)
                            .is_ok()
                    }) {
                        lits.push(x);
                    }
                }
            }
        }
        lits.sort_unstable();
        lits.dedup();
        let (default, parent) = if use_parent {
            (0, id_of!(&loops))
        } else {
            target(nfa, &set, None, KEY_NONE, keys, &mut tmp);
            // KEY_NONE may have globs only if the policy has none; `All`/`any` decide.
            (id_of!(&tmp), ev::NONE)
        };
        exc.clear();
        for &x in &lits {
            let k = keys.lit_key[x as usize];
            target(nfa, &set, Some(x), k, keys, &mut tmp);
            let t = id_of!(&tmp);
            exc.push((x, t));
        }
        for &k in &ks {
            target(nfa, &set, None, k, keys, &mut tmp);
            let t = id_of!(&tmp);
            if use_parent || t != default {
                exc.push((nlits + k, t));
            }
        }
        total_exc += exc.len();
        d.exc_start.push(d.exc_class.len() as u32);
        for &(c, t) in &exc {
            d.exc_class.push(c);
            d.exc_target.push(t);
        }
        if i == d.default.len() {
            d.default.push(default);
            d.parent.push(parent);
            d.accept.push(accept);
        }
        i += 1;
    }
    d.exc_start.push(d.exc_class.len() as u32);
    Ok(d)
}

/// Builds the per-component fs automata of `pats` (each a path glob; its index is the
/// pattern id `row_of` receives, sorted). Errors name pattern indices.
pub(crate) fn build(
    pats: &[&PathGlob],
    mut row_of: impl FnMut(&[u32]) -> u32,
) -> Result<CompFs, TooBig> {
    let timing = std::env::var_os("MXC_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let mut it = Interner::default();
    it.lit(b"");
    let mut rooted = Nfa::new();
    let mut anywhere = Nfa::new();
    for (i, g) in pats.iter().enumerate() {
        for s in sequences(g, &mut it) {
            let nfa = if g.root == Root::Anywhere {
                &mut anywhere
            } else {
                &mut rooted
            };
            nfa.add(i as u32, &s);
        }
    }
    for nfa in [&mut rooted, &mut anywhere] {
        drop(std::mem::take(&mut nfa.memo));
        for l in &mut nfa.lit {
            l.sort_unstable();
        }
    }
    // The globs: one automaton over a component's bytes; its accepting value is the
    // key of the set of globs matched.
    let glob_toks: Vec<Vec<crate::compile::Tok>> = it.globs.iter().map(|a| tok_atoms(a)).collect();
    let mut key_globs: Vec<Vec<u32>> = vec![Vec::new(), Vec::new()];
    let mut key_ids: FxMap<Vec<u32>, u32> = FxMap::default();
    let dense = crate::compile::build_dense("fs component globs", &glob_toks, |pids| {
        if pids.is_empty() {
            return ev::NONE;
        }
        match key_ids.get(pids) {
            Some(&k) => k,
            None => intern(&mut key_globs, &mut key_ids, pids.to_vec()),
        }
    })?;
    let key_of_dense = |s: u32| -> u32 {
        let k = dense.accept[s as usize];
        if k == ev::NONE {
            KEY_NONE
        } else {
            k
        }
    };
    // The empty element's globs.
    key_globs[KEY_EMPTY as usize] = key_globs[key_of_dense(dense.start) as usize].clone();
    let lit_key: Vec<u32> = it
        .lits
        .iter()
        .map(|l| {
            if l.is_empty() {
                KEY_EMPTY
            } else {
                key_of_dense(dense.run(l.iter().copied()))
            }
        })
        .collect();
    let nkeys = key_globs.len();
    let mut with = vec![Vec::new(); it.globs.len()];
    for (k, gs) in key_globs.iter().enumerate() {
        for &g in gs {
            with[g as usize].push(k as u32);
        }
    }
    let mut klits = vec![Vec::new(); nkeys];
    for (x, &k) in lit_key.iter().enumerate() {
        if k != KEY_NONE {
            klits[k as usize].push(x as u32);
        }
    }
    let keys = Keys {
        globs: key_globs,
        with,
        lits: klits,
        lit_key,
    };
    let nlits = it.lits.len() as u32;
    let mut built = Vec::new();
    for nfa in [&rooted, &anywhere] {
        let n = nfa.eps.len();
        let budget = state_budget(n + it.lits.len());
        let dfa = if n == 1 {
            CompDfa::empty()
        } else {
            determinise(nfa, &keys, nlits, budget, &mut row_of)?
        };
        built.push(Built { dfa, nfa_states: n });
    }
    let globs = pack_dense(dense);
    let mut lit_bytes = Vec::new();
    let mut lit_end = Vec::new();
    for l in &it.lits {
        lit_bytes.extend_from_slice(l);
        lit_end.push(lit_bytes.len() as u32);
    }
    let mut built = built.into_iter().map(|b| (b.dfa, b.nfa_states));
    let (rooted, rn) = built.next().unwrap_or_else(|| (CompDfa::empty(), 0));
    let (anywhere, an) = built.next().unwrap_or_else(|| (CompDfa::empty(), 0));
    if timing {
        eprintln!(
            "fs components: {} literals, {} globs, {} keys; rooted NFA {rn} -> {} states, {} exceptions; anywhere NFA {an} -> {} states, {} exceptions: {:?}",
            it.lits.len(),
            it.globs.len(),
            nkeys,
            rooted.nstates(),
            rooted.exc_class.len(),
            anywhere.nstates(),
            anywhere.exc_class.len(),
            t0.elapsed()
        );
    }
    Ok(CompFs {
        lit_bytes,
        lit_end,
        lit_key: keys.lit_key,
        nkeys: nkeys as u32,
        globs,
        rooted,
        anywhere,
    })
}

#[cfg(test)]
mod tests {
    use mxc_eval::comp::CompFs;
    use mxc_eval::{combine, Decision, Effect, Engine, FsRight, Table, NONE};
    use std::collections::BTreeMap;

    fn table(src: &str) -> Table {
        let prog = crate::check_source_without_lints("t.mxc", src);
        assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
        let b = crate::bind::bind(&prog.model, "t", &BTreeMap::new(), false).expect("binds");
        crate::compile::compile_bound(&b, &prog.sources).expect("compiles")
    }

    /// The decisions of `path` read straight from the lists (`classify_slow`,
    /// `CompDfa::step`), as the compiler means them.
    fn by_lists(t: &Table, c: &CompFs, path: &[u8]) -> [Decision; 4] {
        let ends = [&c.rooted, &c.anywhere].map(|d| {
            let mut s = d.start;
            for e in path.split(|&b| b == b'/') {
                let (lit, keyc) = c.classify_slow(e);
                s = d.step(s, lit, keyc);
            }
            d.accept[s as usize]
        });
        let default = Decision {
            effect: t.agent.default,
            rule: None,
        };
        let row = |r: u32| {
            if r == NONE {
                [default; 4]
            } else {
                t.fs_rows[r as usize]
            }
        };
        let (a, b) = (row(ends[0]), row(ends[1]));
        [0, 1, 2, 3].map(|i| combine(a[i], b[i]))
    }

    /// Every path of up to `depth` elements out of `names`, decided by the engine and by
    /// the lists; returns the engine.
    fn agree(src: &str, names: &[&str], depth: u32) -> Engine {
        let t = table(src);
        // The compiler's lists, before they are laid out for the engine.
        let prog = crate::check_source_without_lints("t.mxc", src);
        let b = crate::bind::bind(&prog.model, "t", &BTreeMap::new(), false).expect("binds");
        let c = crate::compile::compile_sections_with(&b, true, true)
            .expect("compiles")
            .1
            .expect("per-component fs");
        // The layout reads back as the lists it was made from.
        let layout = t.fs_comp.as_ref().expect("a layout");
        assert_eq!(layout.lists(), c);
        let e = Engine::from_table(t.clone()).expect("valid");
        let mut path = Vec::new();
        for len in 1..=depth {
            for code in 0..names.len().pow(len) {
                path.clear();
                let mut k = code;
                for i in 0..len {
                    if i > 0 {
                        path.push(b'/');
                    }
                    path.extend_from_slice(names[k % names.len()].as_bytes());
                    k /= names.len();
                }
                let got = e.fs_row(&path);
                let want = by_lists(&t, &c, &path);
                assert_eq!(got, want, "{}", String::from_utf8_lossy(&path));
                assert_eq!(got[0], e.fs(&path, FsRight::Read));
                let (same, _) = e.fs_reentry_check(&path).expect("per-component fs");
                assert!(same, "re-entry: {}", String::from_utf8_lossy(&path));
            }
        }
        e
    }

    /// The walk goes back to the literal paths after the automata took an element (at
    /// a `**` loop node: format version 7's re-entry table) on the floating and
    /// enterprise workloads, and reaches the same rows as without going back, on every
    /// request of the workloads and on each request's prefixes and variants (an element
    /// doubled, a trailing `/`); `walk_agrees_with_the_lists` and
    /// `literal_paths_agree_with_the_lists` hold the walk (re-entry included) to the lists.
    #[test]
    fn reentry_happens_and_agrees() {
        for (mix, n) in [
            (crate::mixes::SpeedMix::Bench, 300),
            (crate::mixes::SpeedMix::Floating, 300),
            (crate::mixes::SpeedMix::Enterprise, 300),
        ] {
            let w = crate::mixes::workload(mix, n);
            let prog = crate::check_source_without_lints("gen.mxc", &w.source);
            let b = crate::bind::bind(&prog.model, "gen", &BTreeMap::new(), false).expect("binds");
            let t = crate::compile::compile_bound(&b, &prog.sources).expect("compiles");
            let e = Engine::from_table(t).expect("valid");
            let mut reentries = 0u32;
            for p in &w.fs {
                let path = p.request.split_once(' ').expect("right and path").1;
                let elems: Vec<&str> = path.split('/').collect();
                let mut variants = vec![path.to_string(), format!("{path}/")];
                for k in 1..elems.len() {
                    variants.push(elems[..k].join("/"));
                    let mut twice = elems.clone();
                    twice.insert(k, elems[k]);
                    variants.push(twice.join("/"));
                }
                for v in &variants {
                    let (same, n) = e.fs_reentry_check(v.as_bytes()).expect("per-component");
                    assert!(same, "{}: {v}", mix.name());
                    reentries += n;
                }
            }
            if mix != crate::mixes::SpeedMix::Bench {
                assert!(reentries > 0, "{}: no re-entry", mix.name());
            }
        }
    }

    /// The engine's walk (hash tables, glob prefilter, the empty element) decides every
    /// path as the lists do, empty elements and trailing `/` included.
    #[test]
    fn walk_agrees_with_the_lists() {
        let src = r#"policy t {
  fs { allow read "/usr/**" }
  fs { allow read, write "/home/*/proj/**" }
  fs { deny write "/home/*/proj/*.lock" }
  fs { ask write "/srv/data*/x{,y}/**" }
  fs { deny read "**/.env" }
  fs { deny write "**/logs/*.txt" }
}
agent t { use t }
"#;
        let names = [
            "", "usr", "home", "u", "proj", "a.lock", ".env", "logs", "b.txt", "srv", "data1", "x",
            "xy", "z",
        ];
        agree(src, &names, 5);
        // No `**/` pattern: a state that asks only keys meets an empty element (the walk
        // used to run it through the globs, KEY_NONE, instead of KEY_EMPTY).
        let src = "policy t {\n  fs { allow read \"/usr/**\" }\n}\nagent t { use t }\n";
        let e = agree(src, &["", "usr", "lib", "a.txt"], 5);
        let usr = e.fs(b"/usr/", FsRight::Read);
        assert_eq!(usr.effect, Effect::Deny, "{usr:?}");
    }

    /// The literal paths (format 6) end inside `**` loops, at `//`, at a trailing `/`,
    /// exactly at the path's end, and where the rooted automaton dies (the anywhere
    /// one's literals then): every path decides as the lists say.
    #[test]
    fn literal_paths_agree_with_the_lists() {
        let src = r#"policy t {
  fs { allow read, write "/home/u/proj1/**" }
  fs { deny all "/home/u/proj1/secret/**" }
  fs { allow read "/home/u/proj1/build/*.o" }
  fs { allow read "/home/u/proj2/x" }
  fs { deny write "**/node_modules/**" }
  fs { deny read "**/.env" }
}
agent t { use t }
"#;
        let names = [
            "",
            "home",
            "u",
            "proj1",
            "proj2",
            "secret",
            "build",
            "a.o",
            "x",
            "node_modules",
            ".env",
            "var",
        ];
        let e = agree(src, &names, 5);
        let l = e.table().fs_comp.as_ref().expect("a layout");
        assert!(l.ntrie_nodes >= 8, "{l:?}");
        for (p, want) in [
            ("/home/u/proj1", Effect::Allow),
            ("/home/u/proj1/", Effect::Deny),
            ("/home/u/proj1//secret/k", Effect::Deny),
            ("/home/u/proj1/secret/k", Effect::Deny),
            ("/home/u/proj1/src/.env", Effect::Deny),
            ("/home/u/proj2/x", Effect::Allow),
            ("/home/u/proj2/x/", Effect::Deny),
            ("/home/u/proj1/node_modules/y", Effect::Allow),
        ] {
            assert_eq!(e.fs(p.as_bytes(), FsRight::Read).effect, want, "{p}");
        }
        assert_eq!(
            e.fs(b"/home/u/proj1/node_modules/y", FsRight::Write).effect,
            Effect::Deny
        );
    }
}
