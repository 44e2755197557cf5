//! The per-component fs section (`mxc_eval::comp`): a hand-built table decides as its
//! lists say, survives the format, and every broken invariant is refused on load,
//! never a panic.

mod common;

use common::*;
use mxc_eval::comp::{
    hdr, lit_filter_bit, CompDfa, CompFs, CompLayout, EXC_SLOT_LEN, KEY_EMPTY, KEY_NONE,
    LIT_FILTER_WORDS, LIT_SLOT_LEN, NODE_COMPLETE, NODE_KEYLESS, REENTRY_SLOT_LEN, STATE_LEN,
    TRIE_NODE_LEN, TRIE_SLOT_LEN, WANT_KEY,
};
use mxc_eval::*;

/// Literals `""` (0), `home` (1), `u` (2), `.env` (3); no globs (keys: empty, none).
/// Rooted: `/home/u/**` (row 0) and `/home/u/.env` (row 1). Anywhere: `**/.env` (row 1).
fn sample() -> Table {
    let (mut t, lists) = sample_parts();
    t.fs_comp = Some(CompLayout::new(&lists).unwrap());
    t
}

/// The sample table with the lists of its section, before they are laid out.
fn sample_parts() -> (Table, CompFs) {
    let mut t = sample_spec().table();
    t.fs = Dfa::empty().into();
    t.fs_anywhere = Dfa::empty().into();
    let lits: [&[u8]; 4] = [b"", b"home", b"u", b".env"];
    let mut lit_bytes = Vec::new();
    let mut lit_end = Vec::new();
    for l in lits {
        lit_bytes.extend_from_slice(l);
        lit_end.push(lit_bytes.len() as u32);
    }
    let l = 4u32;
    // Rooted: 1 start -""-> 2 -home-> 3 -u-> 4 (loop, row 0 on every non-empty
    // element: 5); 4 -.env-> 6 (rows 0 and 1: row 1 here); 4 -""-> 0.
    let rooted = CompDfa {
        start: 1,
        default: vec![0, 0, 0, 0, 5, 5, 5],
        parent: vec![NONE; 7],
        accept: vec![NONE, NONE, NONE, NONE, NONE, 0, 1],
        exc_start: vec![0, 0, 1, 2, 3, 5, 7, 9],
        exc_class: vec![
            0,
            1,
            2,
            3,
            l + KEY_EMPTY,
            3,
            l + KEY_EMPTY,
            3,
            l + KEY_EMPTY,
        ],
        exc_target: vec![2, 3, 4, 6, 0, 6, 0, 6, 0],
    };
    // Anywhere: 1 start -""-> 2 (loop); 2 -.env-> 3 (row 1, parent 2).
    let anywhere = CompDfa {
        start: 1,
        default: vec![0, 0, 2, 0],
        parent: vec![NONE, NONE, NONE, 2],
        accept: vec![NONE, NONE, NONE, 1],
        exc_start: vec![0, 0, 1, 3, 3],
        exc_class: vec![0, 3, l + KEY_EMPTY],
        exc_target: vec![2, 3, 0],
    };
    t.fs_rows.truncate(2);
    let allow = |r: u32| Decision {
        effect: Effect::Allow,
        rule: Some(RuleId(r)),
    };
    let deny = |r: u32| Decision {
        effect: Effect::Deny,
        rule: Some(RuleId(r)),
    };
    t.fs_rows = vec![[allow(0); 4], [deny(1), deny(1), allow(0), allow(0)]];
    let lists = CompFs {
        lit_bytes,
        lit_end,
        lit_key: vec![KEY_EMPTY, KEY_NONE, KEY_NONE, KEY_NONE],
        nkeys: 2,
        globs: Dfa::empty(),
        rooted,
        anywhere,
    };
    (t, lists)
}

#[test]
fn decides_per_component() {
    let t = sample();
    let e = Engine::from_table(t.clone()).unwrap();
    let read = |p: &str| e.fs(p.as_bytes(), FsRight::Read);
    let deny_default = Decision {
        effect: Effect::Deny,
        rule: None,
    };
    assert_eq!(read("/home/u/x").effect, Effect::Allow);
    assert_eq!(read("/home/u/a/b/c").effect, Effect::Allow);
    assert_eq!(read("/home/u/.env").rule, Some(RuleId(1)));
    assert_eq!(read("/srv/x/.env").rule, Some(RuleId(1)));
    assert_eq!(read("/home/u"), deny_default);
    assert_eq!(read("/home/v/x"), deny_default);
    assert_eq!(read("/home/u//x"), deny_default);
    // The round trip keeps the section and its decisions.
    let bytes = t.to_bytes();
    let back = Table::from_bytes(&bytes).unwrap();
    assert_eq!(back, t);
    // The layout reads back as the lists it was laid out from.
    assert_eq!(t.fs_comp.as_ref().unwrap().lists(), sample_parts().1);
    let e2 = Engine::from_bytes(&bytes).unwrap();
    for p in ["/home/u/x", "/srv/x/.env", "/home/u", "/", ""] {
        assert_eq!(e2.fs_row(p.as_bytes()), e.fs_row(p.as_bytes()), "{p}");
    }
}

/// The literal paths only save work: with their edges gone (every slot empty), with
/// every edge moved off its home (a probe never finds it, as when requests collide past
/// the bound), with no `other`, with no node keyless, or with the re-entry table empty,
/// every path decides as with the whole graph. (A node marked complete promises that
/// its edges are every literal its states tell apart, so the first two clear that mark
/// too: with it, a literal that is no edge steps as no literal at all.)
#[test]
fn literal_paths_only_save_work() {
    let t = sample();
    let l = t.fs_comp.clone().unwrap();
    let e = Engine::from_table(t.clone()).unwrap();
    let n = l.ntrie_slots as usize;
    let clear_node_bits = |raw: &mut Vec<u8>, bits: u32| {
        for k in 0..l.ntrie_nodes as usize {
            let at = l.trie_nodes_at + TRIE_NODE_LEN * k + 12;
            let w = u32::from_le_bytes(raw[at..at + 4].try_into().unwrap()) & !bits;
            raw[at..at + 4].copy_from_slice(&w.to_le_bytes());
        }
    };
    let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
    // The sample has complete and keyless nodes, and `**` loop nodes to re-enter.
    let words = |k: usize| l.trie_nodes()[k][3];
    assert!((0..l.ntrie_nodes as usize).any(|k| words(k) & NODE_COMPLETE != 0));
    assert!((0..l.ntrie_nodes as usize).any(|k| words(k) & NODE_KEYLESS != 0));
    assert!(l.reentry_slots().iter().any(|&s| s != NONE));
    // No edges.
    let mut raw = l.to_raw();
    for i in 0..n {
        let at = l.trie_slots_at + TRIE_SLOT_LEN * i;
        raw[at..at + 4].copy_from_slice(&NONE.to_le_bytes());
    }
    clear_node_bits(&mut raw, NODE_COMPLETE);
    variants.push(("no edges", raw));
    // No keyless node.
    let mut raw = l.to_raw();
    clear_node_bits(&mut raw, NODE_KEYLESS);
    variants.push(("no keyless node", raw));
    // A literal filter that rules nothing out.
    let mut raw = l.to_raw();
    for i in 0..LIT_FILTER_WORDS {
        let at = l.lit_filter_at + 4 * i;
        raw[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    variants.push(("literal filter full", raw));
    // No re-entry.
    let mut raw = l.to_raw();
    for i in 0..l.nreentry_slots as usize {
        let at = l.reentry_at + REENTRY_SLOT_LEN * i;
        raw[at..at + 4].copy_from_slice(&NONE.to_le_bytes());
    }
    variants.push(("no re-entry", raw));
    // Every slot moved half the table on (a rotation keeps each run of full slots as
    // long: it still validates, and probes from an edge's home no longer find it).
    let mut raw = l.to_raw();
    let slots: Vec<u8> = raw[l.trie_slots_at..l.trie_slots_at + TRIE_SLOT_LEN * n].to_vec();
    for i in 0..n {
        let to = l.trie_slots_at + TRIE_SLOT_LEN * ((i + n / 2) % n);
        raw[to..to + TRIE_SLOT_LEN]
            .copy_from_slice(&slots[TRIE_SLOT_LEN * i..TRIE_SLOT_LEN * (i + 1)]);
    }
    clear_node_bits(&mut raw, NODE_COMPLETE);
    variants.push(("edges off their home", raw));
    // No `other`.
    let mut raw = l.to_raw();
    for k in 0..l.ntrie_nodes as usize {
        let at = l.trie_nodes_at + TRIE_NODE_LEN * k + 8;
        raw[at..at + 4].copy_from_slice(&NONE.to_le_bytes());
    }
    variants.push(("no other", raw));
    let names = ["", "home", "u", ".env", "x", "srv", "v"];
    for (what, raw) in variants {
        let v = load_raw(raw).unwrap_or_else(|err| panic!("{what}: {err}"));
        for len in 1..=5u32 {
            for code in 0..names.len().pow(len) {
                let mut k = code;
                let mut p = Vec::new();
                for i in 0..len {
                    if i > 0 {
                        p.push(b'/');
                    }
                    p.extend_from_slice(names[k % names.len()].as_bytes());
                    k /= names.len();
                }
                assert_eq!(
                    v.fs_row(&p),
                    e.fs_row(&p),
                    "{what}: {}",
                    String::from_utf8_lossy(&p)
                );
            }
        }
    }
}

/// Lists no compiler makes, laid out and loaded: refused (through the format too).
#[test]
fn broken_lists_are_refused() {
    type Break = fn(&mut CompFs);
    let cases: Vec<(&str, Break)> = vec![
        ("start out of range", |c| c.rooted.start = 99),
        ("target out of range", |c| c.rooted.exc_target[0] = 7),
        ("default out of range", |c| c.anywhere.default[2] = 4),
        ("class out of range", |c| c.rooted.exc_class[3] = 6),
        ("parent of a parent", |c| c.anywhere.parent[2] = 3),
        ("parent is itself", |c| c.anywhere.parent[3] = 3),
        ("row out of range", |c| c.rooted.accept[6] = 2),
        ("state 0 not dead", |c| c.rooted.default[0] = 1),
        ("literal key out of range", |c| c.lit_key[1] = 2),
        ("fewer than two keys", |c| c.nkeys = 1),
    ];
    assert!(Engine::from_table(sample()).is_ok());
    for (what, f) in cases {
        let (mut t, mut lists) = sample_parts();
        f(&mut lists);
        t.fs_comp = Some(CompLayout::new(&lists).unwrap());
        let err = Engine::from_table(t.clone()).expect_err(what);
        assert!(matches!(err, LoadError::Invalid { .. }), "{what}: {err:?}");
        assert!(Engine::from_bytes(&t.to_bytes()).is_err(), "{what}");
    }
}

#[test]
fn broken_tables_are_refused() {
    type Break = fn(&mut Table);
    let cases: Vec<(&str, Break)> = vec![
        ("byte automata beside the components", |t| {
            t.fs = sample_spec().table().automata.fs.clone()
        }),
        ("a windows table", |t| t.target = Target::Windows),
    ];
    for (what, f) in cases {
        let mut t = sample();
        f(&mut t);
        let err = Engine::from_table(t.clone()).expect_err(what);
        assert!(matches!(err, LoadError::Invalid { .. }), "{what}: {err:?}");
        assert!(Engine::from_bytes(&t.to_bytes()).is_err(), "{what}");
    }
}

/// The section's bytes, with the word at byte `at` replaced by `f(word)`.
fn patched(l: &CompLayout, at: usize, f: impl Fn(u32) -> u32) -> Vec<u8> {
    let mut raw = l.to_raw();
    let w = u32::from_le_bytes(raw[at..at + 4].try_into().unwrap());
    raw[at..at + 4].copy_from_slice(&f(w).to_le_bytes());
    raw
}

/// Loads a table whose section holds `raw`: the error, from reading the section's
/// frame or from validating it (both through the format, never a panic).
fn load_raw(raw: Vec<u8>) -> Result<Engine, String> {
    let mut t = sample();
    match CompLayout::from_raw(&raw) {
        Err(e) => Err(e.to_string()),
        Ok(l) => {
            t.fs_comp = Some(l);
            let bytes = t.to_bytes();
            let via_bytes = Engine::from_bytes(&bytes).map_err(|e| e.to_string());
            // At an odd address (copied into an aligned buffer), and owned (kept, read
            // in place): the same verdict, from the same checks.
            let mut odd = vec![0u8];
            odd.extend_from_slice(&bytes);
            let via_odd = Engine::from_bytes(&odd[1..]).map_err(|e| e.to_string());
            let via_vec = Engine::from_vec(bytes).map_err(|e| e.to_string());
            let via_table = Engine::from_table(t).map_err(|e| e.to_string());
            assert_eq!(via_bytes.is_ok(), via_table.is_ok());
            assert_eq!(via_odd.as_ref().err(), via_bytes.as_ref().err());
            assert_eq!(via_vec.as_ref().err(), via_bytes.as_ref().err());
            if let Ok(e) = &via_vec {
                let c = e.table().fs_comp.as_ref().unwrap();
                assert!(c.is_in_place() || cfg!(target_endian = "big"));
            }
            via_table
        }
    }
}

/// Every field of the stored layout, flipped in the bytes: each flip is refused, by the
/// check named (so each check is seen doing its work), never a panic.
#[test]
fn broken_layouts_are_refused() {
    let l = sample().fs_comp.unwrap();
    let h = l.header_at();
    let hw = |i: usize| h + 4 * i;
    assert!(load_raw(l.to_raw()).is_ok());
    let (r, a) = (l.rooted, l.anywhere);
    // The first full literal and exception slots, and a state with a parent.
    let lit = (0..l.nlit_slots as usize)
        .find(|&i| l.lit_slot(i).unwrap()[1] != NONE)
        .unwrap();
    let lit_at = |field: usize| l.lits + LIT_SLOT_LEN * lit + 4 * field;
    let exc = (0..r.nslots as usize)
        .find(|&i| l.exc_slot(&r, i).unwrap()[0] != NONE)
        .unwrap();
    let exc_at = |field: usize| r.slots + EXC_SLOT_LEN * exc + 4 * field;
    let state_at = |run: &mxc_eval::comp::RunAt, s: usize, field: usize| {
        run.states + STATE_LEN * s + 4 * field
    };
    assert!(l.lit_probe >= 1 && r.probe >= 1, "{l:?}");
    // The literal paths: a full edge slot, its table's first slot, a node past the root.
    let nt = l.ntrie_nodes;
    assert!(nt >= 4, "{l:?}");
    let edge = (0..l.ntrie_slots as usize)
        .find(|&i| l.trie_slots()[i][0] != NONE)
        .unwrap();
    let edge_at = |field: usize| l.trie_slots_at + TRIE_SLOT_LEN * edge + 4 * field;
    let node_at = |n: usize, field: usize| l.trie_nodes_at + TRIE_NODE_LEN * n + 4 * field;
    // The literal filter's word and bit of the literal `home`.
    let k = lit_filter_bit(b"home").unwrap();
    let (filter_at, filter_bit) = (l.lit_filter_at + 4 * (k / 32), 1u32 << (k % 32));
    // A full re-entry slot.
    // (The sample's states want no key: a keyless node's rooted state made to want
    // them, its flags `| WANT_KEY`.)
    let keyless_state = (0..nt as usize)
        .map(|k| l.trie_nodes()[k])
        .find(|x| x[3] & NODE_KEYLESS != 0 && x[0] != 0)
        .unwrap()[0] as usize;
    let reentry_at = l.reentry_at
        + REENTRY_SLOT_LEN
            * (0..l.nreentry_slots as usize)
                .find(|&i| l.reentry_slots()[i] != NONE)
                .unwrap();
    type Flip = Box<dyn Fn(u32) -> u32>;
    let cases: Vec<(&str, usize, Flip, &str)> = vec![
        (
            "literal-path nodes",
            hw(hdr::TRIE),
            Box::new(|n| n + 1),
            "do not fit",
        ),
        (
            "literal-path slots",
            hw(hdr::TRIE + 1),
            Box::new(|n| n + 1),
            "do not fit",
        ),
        (
            "literal-path nodes",
            hw(hdr::TRIE),
            Box::new(|_| 0),
            "unexpected bytes",
        ),
        (
            "literal-path start",
            node_at(0, 1),
            Box::new(|_| 2),
            "node 0 is not",
        ),
        (
            "literal-path rooted state",
            node_at(1, 0),
            Box::new(|_| 7),
            "out of range",
        ),
        (
            "literal-path anywhere state",
            node_at(1, 1),
            Box::new(|_| 4),
            "out of range",
        ),
        (
            "literal-path edge node",
            edge_at(0),
            Box::new(move |_| nt),
            "nodes",
        ),
        (
            "literal-path edge start",
            edge_at(1),
            Box::new(|_| 14),
            "holds bytes",
        ),
        (
            "literal-path edge length",
            edge_at(2),
            Box::new(|_| 14),
            "holds bytes",
        ),
        (
            "literal-path edge child",
            edge_at(3),
            Box::new(move |_| nt),
            "nodes",
        ),
        (
            "literal-path node keyless",
            state_at(&r, keyless_state, 3),
            Box::new(|w| w | WANT_KEY),
            "marked keyless",
        ),
        (
            "re-entry slots",
            hw(hdr::REENTRY),
            Box::new(|n| n + 1),
            "do not fit",
        ),
        (
            "re-entry slots",
            hw(hdr::REENTRY),
            Box::new(|_| 0),
            "unexpected bytes",
        ),
        (
            "re-entry node",
            reentry_at,
            Box::new(move |_| nt),
            "re-entry slot",
        ),
        (
            "literal filter",
            filter_at,
            Box::new(move |w| w & !filter_bit),
            "not in the literal filter",
        ),
        ("literals", hw(hdr::NLITS), Box::new(|n| n + 1), "literal"),
        ("literals", hw(hdr::NLITS), Box::new(|n| n - 1), "literal"),
        ("keys", hw(hdr::NKEYS), Box::new(|_| 1), "keys"),
        (
            "empty literal",
            hw(hdr::EMPTY_LIT),
            Box::new(|_| 4),
            "empty literal",
        ),
        (
            "literal bytes",
            hw(hdr::LIT_BYTES),
            Box::new(|n| n + 4),
            "do not fit",
        ),
        (
            "literal slots",
            hw(hdr::LIT_SLOTS),
            Box::new(|n| n + 1),
            "do not fit",
        ),
        (
            "literal slots",
            hw(hdr::LIT_SLOTS),
            Box::new(|_| 0),
            "unexpected bytes",
        ),
        (
            "literal probe",
            hw(hdr::LIT_PROBE),
            Box::new(|p| p - 1),
            "probe bound",
        ),
        ("start", hw(hdr::ROOTED), Box::new(|_| 7), "start"),
        (
            "states",
            hw(hdr::ROOTED + 1),
            Box::new(|n| n + 1),
            "do not fit",
        ),
        (
            "states",
            hw(hdr::ANYWHERE + 1),
            Box::new(|_| 0),
            "unexpected bytes",
        ),
        (
            "exception slots",
            hw(hdr::ROOTED + 2),
            Box::new(|n| n + 1),
            "do not fit",
        ),
        (
            "exception probe",
            hw(hdr::ROOTED + 3),
            Box::new(|p| p - 1),
            "probe bound",
        ),
        ("literal start", lit_at(0), Box::new(|_| 14), "holds bytes"),
        ("literal length", lit_at(1), Box::new(|_| 14), "holds bytes"),
        (
            "literal id",
            lit_at(2),
            Box::new(|_| 4),
            "out of range or twice",
        ),
        ("literal key class", lit_at(3), Box::new(|_| 6), "no key"),
        ("literal key class", lit_at(3), Box::new(|_| 3), "no key"),
        ("default", state_at(&r, 4, 0), Box::new(|_| 7), "leads out"),
        ("parent", state_at(&a, 3, 1), Box::new(|_| 3), "parent"),
        ("parent", state_at(&a, 3, 1), Box::new(|_| 9), "parent"),
        (
            "accept",
            state_at(&r, 6, 2),
            Box::new(|_| 2),
            "accepting row",
        ),
        ("flags", state_at(&r, 4, 3), Box::new(|f| f | 16), "flags"),
        (
            "empty target",
            state_at(&r, 1, 4),
            Box::new(|_| 7),
            "leads out",
        ),
        ("dead state", state_at(&r, 0, 4), Box::new(|_| 2), "dead"),
        ("exception state", exc_at(0), Box::new(|_| 7), "of 7 states"),
        ("exception class", exc_at(1), Box::new(|_| 6), "no class"),
        (
            "exception target",
            exc_at(2),
            Box::new(|_| 7),
            "of 7 states",
        ),
    ];
    for (what, at, f, says) in cases {
        let err = match load_raw(patched(&l, at, f)) {
            Ok(_) => panic!("{what}: loaded"),
            Err(e) => e,
        };
        assert!(err.contains(says), "{what}: {err}");
    }
    // A table with no empty slot: a probe for a missing key would never end.
    let mut raw = l.to_raw();
    for i in 0..r.nslots as usize {
        if l.exc_slot(&r, i).unwrap()[0] == NONE {
            let at = r.slots + EXC_SLOT_LEN * i;
            raw[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
        }
    }
    let at = hw(hdr::ROOTED + 3);
    raw[at..at + 4].copy_from_slice(&NONE.to_le_bytes());
    let err = load_raw(raw).expect_err("no empty slot");
    assert!(err.contains("no empty slot"), "{err}");
    // The same for the literal paths' table, and a probe bound one short.
    let mut raw = l.to_raw();
    for i in 0..l.ntrie_slots as usize {
        if l.trie_slots()[i][0] == NONE {
            let at = l.trie_slots_at + TRIE_SLOT_LEN * i;
            raw[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
        }
    }
    let at = hw(hdr::TRIE + 2);
    raw[at..at + 4].copy_from_slice(&NONE.to_le_bytes());
    let err = load_raw(raw).expect_err("no empty slot");
    assert!(
        err.contains("literal-path table has no empty slot"),
        "{err}"
    );
    // The same for the re-entry table.
    let mut raw = l.to_raw();
    for i in 0..l.nreentry_slots as usize {
        let at = l.reentry_at + REENTRY_SLOT_LEN * i;
        raw[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
    }
    let at = hw(hdr::REENTRY + 1);
    raw[at..at + 4].copy_from_slice(&NONE.to_le_bytes());
    let err = load_raw(raw).expect_err("no empty slot");
    assert!(err.contains("re-entry table has no empty slot"), "{err}");
    // Every empty slot but the last one filled (with a copy of a valid edge): a run of
    // full slots longer than the stored bound.
    let mut raw = l.to_raw();
    let empties: Vec<usize> = (0..l.ntrie_slots as usize)
        .filter(|&i| l.trie_slots()[i][0] == NONE)
        .collect();
    let from = l.trie_slots_at + TRIE_SLOT_LEN * edge;
    let copy = raw[from..from + TRIE_SLOT_LEN].to_vec();
    for &i in &empties[..empties.len() - 1] {
        let at = l.trie_slots_at + TRIE_SLOT_LEN * i;
        raw[at..at + TRIE_SLOT_LEN].copy_from_slice(&copy);
    }
    assert!(l.ntrie_slots as usize - 1 > l.trie_probe as usize + 1);
    let err = load_raw(raw).expect_err("a run past the bound");
    assert!(err.contains("literal-path table has a run"), "{err}");
    // An automaton without states (its records cut out).
    let mut raw = patched(&l, hw(hdr::ANYWHERE + 1), |_| 0);
    raw.drain(a.states..a.states + STATE_LEN * a.nstates as usize);
    let err = load_raw(raw).expect_err("no states");
    assert!(err.contains("0 states"), "{err}");
    // A truncated or extended section.
    let mut raw = l.to_raw();
    raw.pop();
    assert!(load_raw(raw).is_err());
    let mut raw = l.to_raw();
    raw.push(0);
    assert!(load_raw(raw).is_err());
}

/// A table of format version 4 (the lists), 5 (byte automata as arrays) or 6 (no
/// re-entry table) is refused with a message to recompile.
#[test]
fn an_older_format_is_refused() {
    for old in [4u32, 5, 6] {
        let mut bytes = sample().to_bytes();
        bytes[8..12].copy_from_slice(&old.to_le_bytes());
        let err = Engine::from_bytes(&bytes).expect_err("an older version");
        assert_eq!(
            err,
            LoadError::Version {
                found: old,
                supported: FORMAT_VERSION
            }
        );
        assert!(err.to_string().contains("recompile"), "{err}");
    }
}

/// A path holding NUL is refused wherever the NUL is: inside an element, alone, in the
/// first or a later word of the scan, in the tail, or after both automata died (the
/// walk of a path that leaves the patterns dies early: the NUL must be found anyway).
/// The agent's default allows, so a NUL that slipped through would be allowed.
#[test]
fn a_path_holding_nul_is_refused() {
    // No `**/` automaton, so that a walk off the rooted patterns dies.
    let (mut t, mut lists) = sample_parts();
    lists.anywhere = CompDfa::empty();
    t.fs_comp = Some(CompLayout::new(&lists).unwrap());
    t.agent.default = Effect::Allow;
    let e = Engine::from_table(t).unwrap();
    let closed = Decision {
        effect: Effect::Deny,
        rule: None,
    };
    assert_eq!(e.fs(b"/srv/x", FsRight::Read).effect, Effect::Allow);
    assert_eq!(e.fs(b"/home/u/x", FsRight::Read).effect, Effect::Allow);
    for p in [
        &b"/home/u/\0"[..],
        b"/home/u/a\0b",
        b"\0",
        b"/\0/x",
        b"/home/u/abcdefghijklmnop\0qrs",
        b"/home/u/abcdefghijklmnopqrstuvw/\0",
        b"/srv/\0",
        b"/srv/x/y/z\0",
        b"/home/v/a/b/c/d/e/f/g/h\0",
    ] {
        assert_eq!(e.fs(p, FsRight::Read), closed, "{p:?}");
        assert_eq!(e.fs_row(p), [closed; 4], "{p:?}");
    }
}
