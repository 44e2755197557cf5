//! `Engine::from_table` rejects every table that breaks an invariant of the decision
//! path, with a message naming the part and the problem.

mod common;

use common::*;
use mxc_eval::*;

fn err(edit: impl FnOnce(&mut Table)) -> String {
    let mut t = sample_spec().table();
    edit(&mut t);
    let from_table = Engine::from_table(t.clone()).unwrap_err();
    let from_bytes = Engine::from_bytes(&t.to_bytes()).unwrap_err();
    // The bytes path reports the same problem (an automaton that cannot be laid out is
    // written as a layout that is refused for having no classes).
    if from_table.to_string().contains("cannot be laid out") {
        assert!(from_bytes.to_string().contains("0 classes"), "{from_bytes}");
    } else {
        assert_eq!(from_bytes, from_table);
    }
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
            Box::new(|t| t.fs.edit(|d| d.classes.truncate(255))),
            "invalid table: `fs dfa`: the automaton cannot be laid out: 255 byte classes, \
             expected 256",
        ),
        (
            Box::new(|t| t.fs.edit(|d| d.nclasses = 0)),
            "invalid table: `fs dfa`: 0 classes, expected 1 to 256",
        ),
        (
            Box::new(|t| t.fs.edit(|d| d.nclasses = 257)),
            "invalid table: `fs dfa`: 257 classes, expected 1 to 256",
        ),
        (
            Box::new(|t| t.net.edit(|d| d.classes[b'a' as usize] = 200)),
            "invalid table: `net dfa`: byte 0x61 is in class 200",
        ),
        (
            Box::new(|t| {
                t.app.edit(|d| {
                    d.default.clear();
                    d.base.clear();
                    d.accept.clear();
                });
            }),
            "invalid table: `app dfa`: no states",
        ),
        (
            Box::new(|t| {
                t.fs.edit(|d| {
                    d.base.pop();
                });
            }),
            "bases for",
        ),
        (
            Box::new(|t| {
                t.fs.edit(|d| d.accept.push(NONE));
            }),
            "accepts for",
        ),
        (
            Box::new(|t| {
                t.fs.edit(|d| {
                    d.check.pop();
                });
            }),
            "checks for",
        ),
        (
            Box::new(|t| t.fs.edit(|d| d.start = 10_000)),
            "start state 10000 out of range",
        ),
        (
            Box::new(|t| t.fs_anywhere.edit(|d| d.start = 5)),
            "invalid table: `fs anywhere dfa`: start state 5 out of range",
        ),
        (
            Box::new(|t| {
                t.fs_anywhere = t.fs.clone();
                let n = t.fs_rows.len() as u32;
                t.fs_anywhere.edit(|d| d.accept[1] = n);
            }),
            "invalid table: `fs anywhere dfa`: accept[1]",
        ),
        (
            Box::new(|t| t.fs.edit(|d| d.default[1] = 10_000)),
            "default[1] = 10000 out of range",
        ),
        (
            Box::new(|t| {
                let i = t.fs.next.len() - 1;
                t.fs.edit(|d| d.next[i] = 10_000);
            }),
            "out of range",
        ),
        (
            Box::new(|t| t.fs.edit(|d| d.check[0] = 10_000)),
            "check[0] = 10000 is neither a state",
        ),
        (
            Box::new(|t| {
                let n = t.fs.next.len() as u32;
                t.fs.edit(|d| d.base[1] = n);
            }),
            "is past the",
        ),
        (
            Box::new(|t| t.fs.edit(|d| d.base[1] = u32::MAX)),
            "is past the",
        ),
        (
            Box::new(|t| {
                let n = t.fs_rows.len() as u32;
                t.fs.edit(|d| d.accept[1] = n);
            }),
            "accept[1]",
        ),
        (
            Box::new(|t| t.fs.edit(|d| d.default[0] = 1)),
            "state 0 is not the dead state",
        ),
        (
            Box::new(|t| t.net.edit(|d| d.accept[0] = 0)),
            "state 0 is not the dead state",
        ),
        (
            Box::new(|t| {
                // An exception out of the dead state.
                let b = t.app.base[0] as usize;
                let c = t.app.classes[b'x' as usize] as usize;
                t.app.edit(|d| d.check[b + c] = 0);
                t.app.edit(|d| d.next[b + c] = 1);
            }),
            "state 0 is not the dead state",
        ),
    ];
    for (edit, want) in cases {
        let got = err(edit);
        assert!(got.contains(want), "expected {want:?} in {got:?}");
    }
}

/// Every stored field of a byte automaton's walk layout (`Layout`: what the file holds
/// and the engine walks in place), set to a value the walk must not meet, is refused by
/// its named check; both from the table and from the file's bytes.
#[test]
fn layout_invariants() {
    use mxc_eval::{FREE, SKIP, SKIP_BASE};
    type Edit = Box<dyn FnOnce(&mut Layout)>;
    // An app automaton with states skipped through on some bytes (`/` and `.` leave
    // state 1, `.` leaves state 3), and a slot that leaves one.
    let classes: Vec<u8> = (0..=255u8)
        .map(|b| match b {
            b'/' => 1,
            b'.' => 2,
            _ => 0,
        })
        .collect();
    let dense = vec![vec![0, 0, 0], vec![1, 2, 3], vec![1, 2, 0], vec![3, 3, 1]];
    let app: ByteDfa = Dfa::from_dense(3, classes, 1, &dense, vec![NONE, 0, NONE, 1]).into();
    let with_app = move |t: &mut Table| t.app = app.clone();
    let mut t = sample_spec().table();
    with_app(&mut t);
    assert!(t.app_rows.len() >= 2);
    Engine::from_table(t.clone()).unwrap();
    let kind = Kind::App;
    let l = t.get(kind).layout();
    let (sk, _) = l
        .states
        .iter()
        .enumerate()
        .find(|(i, r)| *i > 0 && r.exits[3] & 3 != 0)
        .expect("a state skipped through on some bytes");
    let leave = l
        .slots
        .iter()
        .position(|x| x.check == sk as u32 && x.next != sk as u32)
        .expect("a slot that leaves it");
    let plain = l
        .states
        .iter()
        .position(|r| r.exits[3] & SKIP == 0)
        .expect("a state not skipped through");
    let used = l.slots.iter().position(|x| x.check != FREE).unwrap();
    let n = l.states.len() as u32;
    let nslots = l.slots.len() as u32;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|l| l.nclasses = 0), "0 classes, expected 1 to 256"),
        (
            Box::new(|l| l.classes[7] = 255),
            "byte 0x07 is in class 255",
        ),
        (Box::new(move |l| l.start = n), "start state"),
        (Box::new(|l| l.states.to_mut().clear()), "no states"),
        (Box::new(move |l| l.states[1].default = n), "default[1] ="),
        (Box::new(move |l| l.states[1].base = nslots), "is past the"),
        (
            Box::new(|l| l.states[1].base = SKIP_BASE | 1),
            "is past the",
        ),
        (
            Box::new(|l| l.states[1].default_base ^= 1),
            "default_base[1] =",
        ),
        (
            Box::new(|l| l.states[1].default_base ^= SKIP_BASE),
            "default_base[1] =",
        ),
        (
            Box::new(move |l| l.slots[used].next_base ^= 1),
            "next_base[",
        ),
        (Box::new(move |l| l.slots[used].next = n), "next["),
        (
            Box::new(move |l| l.slots[used].check = n),
            "is neither a state",
        ),
        (
            Box::new(move |l| l.slots[used].check = NONE),
            "is neither a state",
        ),
        // Skip bytes: a byte that leaves missing, a stray flag, a stray byte, a count
        // past 3, a skipped state that does not loop on itself, bytes on a plain state.
        (
            Box::new(move |l| {
                let e = &mut l.states[sk].exits;
                let k = usize::from(e[3] & 3) - 1;
                e[k] = e[k].wrapping_add(1);
            }),
            "is skipped through, but slot",
        ),
        (
            Box::new(move |l| l.states[sk].exits[3] |= 0x40),
            "are not canonical",
        ),
        (
            Box::new(move |l| {
                let e = &mut l.states[sk].exits;
                if e[3] & 3 < 3 {
                    e[2] = b'z';
                } else {
                    e[3] = SKIP;
                }
            }),
            "",
        ),
        (
            Box::new(move |l| l.states[plain].exits[0] = b'a'),
            "are not canonical",
        ),
        (
            Box::new(move |l| {
                let s = &mut l.states[plain];
                s.exits[3] = SKIP;
            }),
            "",
        ),
        (Box::new(move |l| l.states[0].exits = [0; 4]), ""),
        (
            Box::new(move |l| l.accept[0] = 0),
            "state 0 is not the dead state",
        ),
    ];
    let _ = leave;
    // One accept per state (the file cannot say otherwise: it stores one per record).
    let mut bad = t.clone();
    bad.app.layout_mut().accept.to_mut().push(NONE);
    let got = Engine::from_table(bad).unwrap_err().to_string();
    assert!(got.contains("5 accepts for 4 states"), "{got}");
    let prefix = format!("invalid table: `{}`: ", kind.name());
    for (edit, want) in cases {
        let got = err(|t| {
            with_app(t);
            edit(t.get_mut(kind).layout_mut())
        });
        assert!(
            got.starts_with(&prefix) && got.contains(want),
            "expected {want:?} in {got:?}"
        );
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
