//! Test helpers: tables built by hand from literal patterns, and a naive reference that
//! decides straight from SPEC §6.
//!
//! A pattern is an exact byte string or a prefix (the string followed by anything). The
//! automaton is a trie of the pattern strings plus one absorbing state per set of
//! prefix patterns, packed with `Dfa::from_dense`, so the tests exercise the packer, the
//! validation and the engine's walk together.
#![allow(dead_code, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::collections::{BTreeMap, BTreeSet};

use mxc_eval::*;

#[derive(Clone, Debug)]
pub enum Pat {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
}

impl Pat {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Pat::Exact(b) | Pat::Prefix(b) => b,
        }
    }
    /// Whether the (folded) input matches.
    pub fn matches(&self, input: &[u8], fold: fn(u8) -> u8) -> bool {
        let input: Vec<u8> = input.iter().map(|&b| fold(b)).collect();
        let pat: Vec<u8> = self.bytes().iter().map(|&b| fold(b)).collect();
        match self {
            Pat::Exact(_) => input == pat,
            Pat::Prefix(_) => input.starts_with(&pat),
        }
    }
}

pub fn exact(s: impl AsRef<[u8]>) -> Pat {
    Pat::Exact(s.as_ref().to_vec())
}
pub fn prefix(s: impl AsRef<[u8]>) -> Pat {
    Pat::Prefix(s.as_ref().to_vec())
}

/// One rule: a pattern, an effect, and (fs only) the rights it covers; `None` for a
/// net or app rule (it decides its section's one question).
#[derive(Clone, Debug)]
pub struct R {
    pub pat: Pat,
    pub effect: Effect,
    pub rights: Option<FsRights>,
}

pub fn r(pat: Pat, effect: Effect) -> R {
    R {
        pat,
        effect,
        rights: None,
    }
}

pub fn fs_r(pat: Pat, effect: Effect, rights: &[FsRight]) -> R {
    R {
        pat,
        effect,
        rights: Some(rights.iter().fold(FsRights::NONE, |m, &r| m | r.into())),
    }
}

pub fn identity(b: u8) -> u8 {
    b
}

/// Windows-style folding: ASCII case and `\` read as `/`.
pub fn win_fold(b: u8) -> u8 {
    if b == b'\\' {
        b'/'
    } else {
        b.to_ascii_lowercase()
    }
}

/// The decision of SPEC §6 among `rules` (in evaluation order, with their ids) that
/// match, for fs right `right` (`None` for a net or app request).
pub fn combine<'a>(
    default: Effect,
    matching: impl Iterator<Item = (u32, &'a R)>,
    right: Option<FsRight>,
) -> Decision {
    let mut best: Option<(Effect, u32)> = None;
    for (id, rule) in matching {
        let covers = match (rule.rights, right) {
            (Some(rights), Some(right)) => rights.has(right),
            (None, None) => true,
            // An fs rule asked a net or app question, or the other way: a mix-up in
            // the test itself.
            _ => panic!("rule {id} asked about the wrong section"),
        };
        if !covers {
            continue;
        }
        match best {
            Some((e, _)) if e >= rule.effect => {}
            _ => best = Some((rule.effect, id)),
        }
    }
    match best {
        Some((effect, id)) => Decision {
            effect,
            rule: Some(RuleId(id)),
        },
        None => Decision {
            effect: default,
            rule: None,
        },
    }
}

/// The rules of a hand-made table, per section, and how it was built.
#[derive(Clone, Debug)]
pub struct Spec {
    pub target: Target,
    pub default: Effect,
    pub fs: Vec<R>,
    pub net: Vec<R>,
    pub app: Vec<R>,
}

impl Spec {
    pub fn new(default: Effect) -> Spec {
        Spec {
            target: Target::Linux,
            default,
            fs: vec![],
            net: vec![],
            app: vec![],
        }
    }

    fn fold(&self) -> fn(u8) -> u8 {
        match self.target {
            Target::Linux => identity,
            Target::Windows => win_fold,
        }
    }

    fn ids(&self, section: usize) -> u32 {
        match section {
            0 => 0,
            1 => self.fs.len() as u32,
            _ => (self.fs.len() + self.net.len()) as u32,
        }
    }

    /// Reference fs decision, straight from the rules.
    pub fn fs_decision(&self, path: &[u8], right: FsRight) -> Decision {
        let fold = self.fold();
        combine(
            self.default,
            (0u32..)
                .zip(&self.fs)
                .filter(|(_, r)| r.pat.matches(path, fold)),
            Some(right),
        )
    }

    /// Reference decision over an already encoded net or app request.
    pub fn encoded_decision(&self, section: usize, bytes: &[u8]) -> Decision {
        let rules = if section == 1 { &self.net } else { &self.app };
        combine(
            self.default,
            (self.ids(section)..)
                .zip(rules)
                .filter(|(_, r)| r.pat.matches(bytes, identity)),
            None,
        )
    }

    pub fn table(&self) -> Table {
        let mut rules = Vec::new();
        for (i, rule) in self.fs.iter().chain(&self.net).chain(&self.app).enumerate() {
            rules.push(RuleInfo {
                policy: format!("policy{}", i % 3),
                file: "test.mxc".into(),
                line: i as u32 + 1,
                column: 3,
                effect: rule.effect,
                reason: (i % 2 == 0).then(|| format!("reason {i}")),
            });
        }
        let default = self.default;
        let fold = self.fold();

        let mut fs_rows: Vec<FsRow> = Vec::new();
        let fs = build_dfa(&self.fs, fold, |set| {
            let row: FsRow = FsRight::ALL.map(|right| {
                combine(
                    default,
                    set.iter().map(|&i| (i as u32, &self.fs[i])),
                    Some(right),
                )
            });
            intern(&mut fs_rows, row)
        });
        let mut net_rows = Vec::new();
        let base = self.ids(1);
        let net = build_dfa(&self.net, identity, |set| {
            let d = combine(
                default,
                set.iter().map(|&i| (base + i as u32, &self.net[i])),
                None,
            );
            intern(&mut net_rows, d)
        });
        let mut app_rows = Vec::new();
        let base = self.ids(2);
        let app = build_dfa(&self.app, identity, |set| {
            let d = combine(
                default,
                set.iter().map(|&i| (base + i as u32, &self.app[i])),
                None,
            );
            intern(&mut app_rows, d)
        });

        Table {
            target: self.target,
            agent: AgentInfo {
                name: "tester".into(),
                identity: Identity::LocalUser("alice".into()),
                policies: vec!["p".into(), "q".into()],
                params: vec![("home".into(), "/home/alice".into())],
                source_hash: [7; 32],
                isolation: Isolation::Container,
                default,
                audit: AuditLevel::Denials,
                env_pass: vec!["PATH".into(), "LANG".into()],
                env_deny: vec!["*_TOKEN".into()],
                memory_bytes: Some(4 << 30),
                processes: Some(256),
                timeout_ms: None,
                cpus: Some(2),
                clipboard: Some(Effect::Deny),
                display: None,
            },
            plan: Plan {
                fs: vec![Grant {
                    path: "/home/alice".into(),
                    rights: FsRights::READ | FsRights::WRITE,
                    exact: true,
                    subtree: true,
                }],
                fs_exact: false,
                exec: vec![Grant {
                    path: "/usr/bin/git".into(),
                    rights: AppRights::LAUNCH,
                    exact: false,
                    subtree: false,
                }],
                tcp_connect: Some(vec![(443, 443), (8000, 8999)]),
                tcp_bind: None,
            }
            .into(),
            rules: rules.into(),
            sections: Sections {
                automata: Automata {
                    fs: fs.into(),
                    fs_anywhere: Dfa::empty().into(),
                    net: net.into(),
                    app: app.into(),
                },
                fs_rows,
                net_rows,
                app_rows,
            },
            fs_comp: None,
            net_hosts: Default::default(),
        }
    }
}

fn intern<T: PartialEq>(rows: &mut Vec<T>, row: T) -> u32 {
    if let Some(i) = rows.iter().position(|r| *r == row) {
        return i as u32;
    }
    rows.push(row);
    rows.len() as u32 - 1
}

/// Trie + absorbing states, packed. `row` maps a non-empty set of matching rule indices
/// (ascending) to a row index.
pub fn build_dfa(rules: &[R], fold: fn(u8) -> u8, mut row: impl FnMut(&[usize]) -> u32) -> Dfa {
    // Trie over folded pattern bytes. Node 0 of `children` is the root.
    let mut children: Vec<BTreeMap<u8, usize>> = vec![BTreeMap::new()];
    let mut ends: Vec<usize> = Vec::new();
    for rule in rules {
        let mut n = 0;
        for &b in rule.pat.bytes() {
            let b = fold(b);
            let next = children.len();
            n = *children[n].entry(b).or_insert_with(|| next);
            if n == next {
                children.push(BTreeMap::new());
            }
        }
        ends.push(n);
    }
    let nnodes = children.len();
    // Prefix sets along the trie (parents come before children in creation order).
    let mut prefset: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nnodes];
    let mut order = vec![0usize];
    let mut k = 0;
    while k < order.len() {
        let n = order[k];
        k += 1;
        for (i, rule) in rules.iter().enumerate() {
            if matches!(rule.pat, Pat::Prefix(_)) && ends[i] == n {
                prefset[n].insert(i);
            }
        }
        let kids: Vec<usize> = children[n].values().copied().collect();
        for c in kids {
            prefset[c] = prefset[n].clone();
            order.push(c);
        }
    }
    // States: 0 dead, 1 + node for trie nodes, then absorbing states.
    let mut absorbing: BTreeMap<BTreeSet<usize>, u32> = BTreeMap::new();
    let mut absorb_sets: Vec<BTreeSet<usize>> = Vec::new();
    let mut dense256: Vec<[u32; 256]> = vec![[0; 256]];
    for n in 0..nnodes {
        let mut t = [0u32; 256];
        for (b, slot) in t.iter_mut().enumerate() {
            let fb = fold(b as u8);
            *slot = match children[n].get(&fb) {
                Some(&c) => 1 + c as u32,
                None if prefset[n].is_empty() => 0,
                None => {
                    let len = absorb_sets.len();
                    *absorbing.entry(prefset[n].clone()).or_insert_with(|| {
                        absorb_sets.push(prefset[n].clone());
                        (1 + nnodes + len) as u32
                    })
                }
            };
        }
        dense256.push(t);
    }
    for i in 0..absorb_sets.len() {
        dense256.push([(1 + nnodes + i) as u32; 256]);
    }
    // Accepts.
    let mut accept = vec![NONE; dense256.len()];
    for n in 0..nnodes {
        let mut set: BTreeSet<usize> = prefset[n].clone();
        for (i, rule) in rules.iter().enumerate() {
            if matches!(rule.pat, Pat::Exact(_)) && ends[i] == n {
                set.insert(i);
            }
        }
        if !set.is_empty() {
            let v: Vec<usize> = set.into_iter().collect();
            accept[1 + n] = row(&v);
        }
    }
    for (i, set) in absorb_sets.iter().enumerate() {
        let v: Vec<usize> = set.iter().copied().collect();
        accept[1 + nnodes + i] = row(&v);
    }
    // Byte classes: bytes with identical columns share a class.
    let mut class_of_column: BTreeMap<Vec<u32>, u8> = BTreeMap::new();
    let mut classes = vec![0u8; 256];
    let mut reps: Vec<usize> = Vec::new();
    for b in 0..256 {
        let col: Vec<u32> = dense256.iter().map(|t| t[b]).collect();
        let next = class_of_column.len();
        let c = *class_of_column.entry(col).or_insert_with(|| {
            reps.push(b);
            next as u8
        });
        classes[b] = c;
    }
    let dense: Vec<Vec<u32>> = dense256
        .iter()
        .map(|t| reps.iter().map(|&b| t[b]).collect())
        .collect();
    Dfa::from_dense(reps.len() as u32, classes, 1, &dense, accept)
}

/// The byte encoding of a net request, as documented on `NetRequest` (reference, builds
/// a buffer).
pub fn encode_net(req: &NetRequest<'_>) -> Option<Vec<u8>> {
    let mut out = vec![req.right as u8, req.proto as u8];
    // SPEC §4.2: an IPv4-mapped IPv6 address is decided as the IPv4 address; in a
    // `connect`, the unspecified addresses reach the local machine (loopback).
    let mut host = req.host;
    if let Host::V6(a) = host {
        if a[..10] == [0; 10] && a[10..12] == [0xff, 0xff] {
            host = Host::V4([a[12], a[13], a[14], a[15]]);
        }
    }
    if req.right == NetRight::Connect {
        host = match host {
            Host::V4([0, 0, 0, 0]) => Host::V4([127, 0, 0, 1]),
            Host::V6(a) if a == [0; 16] => {
                let mut l = [0; 16];
                l[15] = 1;
                Host::V6(l)
            }
            h => h,
        };
    }
    match host {
        Host::Name(name) => {
            let name = name.as_bytes();
            if name.contains(&0) {
                return None;
            }
            let name = name.strip_suffix(b".").unwrap_or(name);
            out.push(1);
            out.extend(name.iter().rev().map(u8::to_ascii_lowercase));
            out.push(0);
        }
        Host::V4(ip) => {
            out.push(4);
            out.extend(ip);
        }
        Host::V6(ip) => {
            out.push(6);
            out.extend(ip);
        }
    }
    out.extend(req.port.to_be_bytes());
    match req.program {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            out.extend(p);
        }
    }
    Some(out)
}

/// The byte encoding of a launch (reference, builds a buffer).
pub fn encode_launch(program: &[u8], args: &[&[u8]]) -> Option<Vec<u8>> {
    if program.contains(&0) {
        return None;
    }
    let mut out = program.to_vec();
    out.push(0);
    out.extend(args.join(&b' '));
    Some(out)
}

pub const FAIL_CLOSED: Decision = Decision {
    effect: Effect::Deny,
    rule: None,
};

/// A table with a bit of everything, used by several tests.
pub fn sample_spec() -> Spec {
    use Effect::*;
    use FsRight::*;
    let mut s = Spec::new(Deny);
    s.fs = vec![
        fs_r(prefix("/home/u/"), Allow, &[Read, Write, Create, Delete]),
        fs_r(exact("/home/u/.env"), Deny, &[Read, Write]),
        fs_r(prefix("/tmp/"), Ask, &[Write, Create]),
        fs_r(prefix("/tmp/"), Allow, &[Read]),
        fs_r(exact("/etc/passwd"), Allow, &[Read]),
        fs_r(
            prefix("/home/u/.ssh/"),
            Deny,
            &[Read, Write, Create, Delete],
        ),
    ];
    let name = |n: &str, port: u16, program: Option<&[u8]>| {
        encode_net(&NetRequest {
            right: NetRight::Connect,
            proto: Proto::Tcp,
            host: Host::Name(n),
            port,
            program,
        })
        .unwrap()
    };
    let mut any_port_example = vec![1u8, 1, 1];
    any_port_example.extend(b"moc.elpmaxe\0"); // names are encoded reversed
    s.net = vec![
        r(exact(name("api.github.com", 443, None)), Allow),
        r(prefix(any_port_example), Ask),
        r(exact(name("evil.example.com", 443, None)), Deny),
        r(prefix([1, 1, 4, 127, 0, 0, 1]), Allow),
        r(prefix([2, 2, 6]), Allow),
        r(
            exact(name("db.internal", 5432, Some(b"/usr/bin/psql"))),
            Allow,
        ),
    ];
    s.app = vec![
        r(prefix(b"/usr/bin/git\0"), Allow),
        r(exact(b"/usr/bin/git\0push --force"), Deny),
        r(prefix(b"/usr/bin/curl\0"), Ask),
        r(exact(b"/bin/ls\0"), Allow),
    ];
    s
}
