//! `Engine::from_table` rejects every table that breaks an invariant of the decision
//! path, with a message naming the part and the problem.

mod common;

use common::*;
use mxc_eval::*;

fn err(edit: impl FnOnce(&mut Table)) -> String {
    let mut t = sample_spec().table();
    edit(&mut t);
    let from_table = Engine::from_table(t.clone()).unwrap_err();
    // The bytes path reports the same problem.
    assert_eq!(Engine::from_bytes(&t.to_bytes()).unwrap_err(), from_table);
    from_table.to_string()
}

#[test]
fn sample_is_valid() {
    Engine::from_table(sample_spec().table()).unwrap();
}

#[test]
fn dfa_invariants() {
    type Edit = Box<dyn FnOnce(&mut Table)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|t| t.fs.classes.truncate(255)),
            "invalid table: `fs dfa`: 255 byte classes, expected 256",
        ),
        (
            Box::new(|t| t.fs.nclasses = 0),
            "invalid table: `fs dfa`: 0 classes, expected 1 to 256",
        ),
        (
            Box::new(|t| t.fs.nclasses = 257),
            "invalid table: `fs dfa`: 257 classes, expected 1 to 256",
        ),
        (
            Box::new(|t| t.net.classes[b'a' as usize] = 200),
            "invalid table: `net dfa`: byte 0x61 is in class 200",
        ),
        (
            Box::new(|t| {
                t.app.default.clear();
            }),
            "invalid table: `app dfa`: no states",
        ),
        (
            Box::new(|t| {
                t.fs.base.pop();
            }),
            "bases for",
        ),
        (
            Box::new(|t| {
                t.fs.accept.push(NONE);
            }),
            "accepts for",
        ),
        (
            Box::new(|t| {
                t.fs.check.pop();
            }),
            "checks for",
        ),
        (
            Box::new(|t| t.fs.start = 10_000),
            "start state 10000 out of range",
        ),
        (
            Box::new(|t| t.fs_anywhere.start = 5),
            "invalid table: `fs anywhere dfa`: start state 5 out of range",
        ),
        (
            Box::new(|t| {
                t.fs_anywhere = t.fs.clone();
                let n = t.fs_rows.len() as u32;
                t.fs_anywhere.accept[1] = n;
            }),
            "invalid table: `fs anywhere dfa`: accept[1]",
        ),
        (
            Box::new(|t| t.fs.default[1] = 10_000),
            "default[1] = 10000 out of range",
        ),
        (
            Box::new(|t| {
                let i = t.fs.next.len() - 1;
                t.fs.next[i] = 10_000;
            }),
            "out of range",
        ),
        (
            Box::new(|t| t.fs.check[0] = 10_000),
            "check[0] = 10000 is neither a state",
        ),
        (
            Box::new(|t| {
                let n = t.fs.next.len() as u32;
                t.fs.base[1] = n;
            }),
            "is past the",
        ),
        (Box::new(|t| t.fs.base[1] = u32::MAX), "is past the"),
        (
            Box::new(|t| {
                let n = t.fs_rows.len() as u32;
                t.fs.accept[1] = n;
            }),
            "accept[1]",
        ),
        (
            Box::new(|t| t.fs.default[0] = 1),
            "state 0 is not the dead state",
        ),
        (
            Box::new(|t| t.net.accept[0] = 0),
            "state 0 is not the dead state",
        ),
        (
            Box::new(|t| {
                // An exception out of the dead state.
                let b = t.app.base[0] as usize;
                let c = t.app.classes[b'x' as usize] as usize;
                t.app.check[b + c] = 0;
                t.app.next[b + c] = 1;
            }),
            "state 0 is not the dead state (byte",
        ),
    ];
    for (edit, want) in cases {
        let got = err(edit);
        assert!(got.contains(want), "expected {want:?} in {got:?}");
    }
}

#[test]
fn row_invariants() {
    let got = err(|t| t.net_rows[0].rule = Some(RuleId(99)));
    assert_eq!(
        got,
        "invalid table: `net rows`: row 0 names rule 99, but there are 16 rules"
    );
    let got = err(|t| {
        t.app_rows[0] = Decision {
            effect: Effect::Allow,
            rule: None,
        }
    });
    assert_eq!(
        got,
        "invalid table: `app rows`: row 0 decides `allow` with no rule, but the agent's default is `deny`"
    );
    let got = err(|t| {
        t.fs_rows[0][0].effect = Effect::Ask;
        t.fs_rows[0][0].rule = Some(RuleId(1));
    });
    assert_eq!(
        got,
        "invalid table: `fs rows`: row 0 decides `ask` by rule 1, but that rule's effect is `deny`"
    );
}
