//! The per-component fs section (`mxc_eval::comp`): a hand-built table decides as its
//! lists say, survives the format, and every broken invariant is refused on load,
//! never a panic.

mod common;

use common::*;
use mxc_eval::comp::{CompDfa, CompFs, KEY_EMPTY, KEY_NONE};
use mxc_eval::*;

/// Literals `""` (0), `home` (1), `u` (2), `.env` (3); no globs (keys: empty, none).
/// Rooted: `/home/u/**` (row 0) and `/home/u/.env` (row 1). Anywhere: `**/.env` (row 1).
fn sample() -> Table {
    let mut t = sample_spec().table();
    t.fs = Dfa::empty();
    t.fs_anywhere = Dfa::empty();
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
    t.fs_comp = Some(CompFs {
        lit_bytes,
        lit_end,
        lit_key: vec![KEY_EMPTY, KEY_NONE, KEY_NONE, KEY_NONE],
        nkeys: 2,
        globs: Dfa::empty(),
        rooted,
        anywhere,
    });
    t
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
    let e2 = Engine::from_bytes(&bytes).unwrap();
    for p in ["/home/u/x", "/srv/x/.env", "/home/u", "/", ""] {
        assert_eq!(e2.fs_row(p.as_bytes()), e.fs_row(p.as_bytes()), "{p}");
    }
}

#[test]
fn broken_sections_are_refused() {
    type Break = fn(&mut Table);
    let cases: Vec<(&str, Break)> = vec![
        ("start out of range", |t| {
            t.fs_comp.as_mut().unwrap().rooted.start = 99
        }),
        ("target out of range", |t| {
            t.fs_comp.as_mut().unwrap().rooted.exc_target[0] = 7
        }),
        ("default out of range", |t| {
            t.fs_comp.as_mut().unwrap().anywhere.default[2] = 4
        }),
        ("unsorted exceptions", |t| {
            t.fs_comp.as_mut().unwrap().rooted.exc_class.swap(3, 4)
        }),
        ("class out of range", |t| {
            t.fs_comp.as_mut().unwrap().rooted.exc_class[4] = 6
        }),
        ("parent of a parent", |t| {
            t.fs_comp.as_mut().unwrap().anywhere.parent[2] = 3
        }),
        ("parent is itself", |t| {
            t.fs_comp.as_mut().unwrap().anywhere.parent[3] = 3
        }),
        ("row out of range", |t| {
            t.fs_comp.as_mut().unwrap().rooted.accept[6] = 2
        }),
        ("state 0 not dead", |t| {
            t.fs_comp.as_mut().unwrap().rooted.default[0] = 1
        }),
        ("exception starts past the end", |t| {
            t.fs_comp.as_mut().unwrap().rooted.exc_start[7] = 10
        }),
        ("exception starts decreasing", |t| {
            t.fs_comp.as_mut().unwrap().rooted.exc_start[3] = 0
        }),
        ("short per-state array", |t| {
            t.fs_comp.as_mut().unwrap().rooted.parent.pop();
        }),
        ("literal key out of range", |t| {
            t.fs_comp.as_mut().unwrap().lit_key[1] = 2
        }),
        ("literal ends out of order", |t| {
            t.fs_comp.as_mut().unwrap().lit_end[2] = 2
        }),
        ("duplicate literal", |t| {
            let c = t.fs_comp.as_mut().unwrap();
            c.lit_bytes = b"homehomeu.env".to_vec();
            c.lit_end = vec![4, 8, 9, 13];
        }),
        ("fewer than two keys", |t| {
            t.fs_comp.as_mut().unwrap().nkeys = 1
        }),
        ("byte automata beside the components", |t| {
            t.fs = sample_spec().table().automata.fs.clone()
        }),
        ("a windows table", |t| t.target = Target::Windows),
    ];
    assert!(Engine::from_table(sample()).is_ok());
    for (what, f) in cases {
        let mut t = sample();
        f(&mut t);
        let err = Engine::from_table(t.clone()).expect_err(what);
        assert!(matches!(err, LoadError::Invalid { .. }), "{what}: {err:?}");
        // And through the format: refused, never a panic.
        assert!(Engine::from_bytes(&t.to_bytes()).is_err(), "{what}");
    }
}
