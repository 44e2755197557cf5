//! Decisions on hand-made tables: every section, attribution, the byte encodings of net
//! and launch requests, and the fail-closed cases.

mod common;

use common::*;
use mxc_eval::*;
use Effect::*;
use FsRight::*;

fn engine() -> (Spec, Engine) {
    let spec = sample_spec();
    let engine = Engine::from_table(spec.table()).expect("sample table is valid");
    (spec, engine)
}

fn d(effect: Effect, rule: u32) -> Decision {
    Decision {
        effect,
        rule: Some(RuleId(rule)),
    }
}

const DEFAULT_DENY: Decision = Decision {
    effect: Deny,
    rule: None,
};

#[test]
fn fs_decisions_follow_precedence_and_attribution() {
    let (spec, e) = engine();
    // deny (rule 1) beats allow (rule 0) for read/write; create/delete stay allowed.
    assert_eq!(e.fs(b"/home/u/.env", Read), d(Deny, 1));
    assert_eq!(e.fs(b"/home/u/.env", Write), d(Deny, 1));
    assert_eq!(e.fs(b"/home/u/.env", Create), d(Allow, 0));
    assert_eq!(e.fs(b"/home/u/.envrc", Read), d(Allow, 0));
    assert_eq!(e.fs(b"/home/u/src/main.rs", Delete), d(Allow, 0));
    // The first deny in evaluation order names the decision.
    assert_eq!(e.fs(b"/home/u/.ssh/id_ed25519", Read), d(Deny, 5));
    // ask beats allow; different rules for different rights.
    assert_eq!(e.fs(b"/tmp/x", Write), d(Ask, 2));
    assert_eq!(e.fs(b"/tmp/x", Read), d(Allow, 3));
    assert_eq!(e.fs(b"/tmp/x", Delete), DEFAULT_DENY);
    assert_eq!(e.fs(b"/etc/passwd", Read), d(Allow, 4));
    assert_eq!(e.fs(b"/etc/passwd", Write), DEFAULT_DENY);
    assert_eq!(e.fs(b"/etc/passwdx", Read), DEFAULT_DENY);
    assert_eq!(e.fs(b"/etc/passw", Read), DEFAULT_DENY);
    assert_eq!(e.fs(b"", Read), DEFAULT_DENY);
    assert_eq!(e.fs(b"/home/u", Read), DEFAULT_DENY);
    for path in [&b"/home/u/.env"[..], b"/tmp/a/b", b"/nowhere", b"/home/u/"] {
        let row = e.fs_row(path);
        for right in FsRight::ALL {
            assert_eq!(row[right as usize], e.fs(path, right));
            assert_eq!(
                e.fs(path, right),
                spec.fs_decision(path, right),
                "{path:?} {right:?}"
            );
        }
    }
}

#[test]
fn default_ask_agent() {
    let mut spec = sample_spec();
    spec.default = Ask;
    let e = Engine::from_table(spec.table()).unwrap();
    let ask = Decision {
        effect: Ask,
        rule: None,
    };
    assert_eq!(e.fs(b"/nowhere", Read), ask);
    assert_eq!(e.fs_row(b"/nowhere"), [ask; 4]);
    assert_eq!(e.fs(b"/tmp/x", Delete), ask);
    assert_eq!(e.launch::<&[u8]>(b"/bin/true", &[]), ask);
}

fn name<'a>(host: &'a str, port: u16, program: Option<&'a [u8]>) -> NetRequest<'a> {
    NetRequest {
        right: NetRight::Connect,
        proto: Proto::Tcp,
        host: Host::Name(host),
        port,
        program,
    }
}

#[test]
fn net_names_are_case_insensitive_and_ignore_a_trailing_dot() {
    let (_, e) = engine();
    assert_eq!(e.net(&name("api.github.com", 443, None)), d(Allow, 6));
    assert_eq!(e.net(&name("API.GitHub.COM", 443, None)), d(Allow, 6));
    assert_eq!(e.net(&name("api.github.com.", 443, None)), d(Allow, 6));
    assert_eq!(e.net(&name("api.github.com..", 443, None)), DEFAULT_DENY);
    assert_eq!(e.net(&name("api.github.com", 80, None)), DEFAULT_DENY);
    // A program makes it a different request: the rule names none.
    assert_eq!(
        e.net(&name("api.github.com", 443, Some(b"/usr/bin/curl"))),
        DEFAULT_DENY
    );
    assert_eq!(e.net(&name("example.com", 1, None)), d(Ask, 7));
    assert_eq!(
        e.net(&name("EXAMPLE.com.", 65535, Some(b"/bin/x"))),
        d(Ask, 7)
    );
    assert_eq!(e.net(&name("evil.example.com", 443, None)), d(Deny, 8));
    assert_eq!(
        e.net(&name("db.internal", 5432, Some(b"/usr/bin/psql"))),
        d(Allow, 11)
    );
    assert_eq!(e.net(&name("db.internal", 5432, None)), DEFAULT_DENY);
    assert_eq!(
        e.net(&name("db.internal", 5432, Some(b"/usr/bin/psql2"))),
        DEFAULT_DENY
    );
    let mut udp = name("api.github.com", 443, None);
    udp.proto = Proto::Udp;
    assert_eq!(e.net(&udp), DEFAULT_DENY);
    let mut bind = name("api.github.com", 443, None);
    bind.right = NetRight::Bind;
    assert_eq!(e.net(&bind), DEFAULT_DENY);
}

#[test]
fn net_name_with_nul_fails_closed() {
    let (_, e) = engine();
    // Would otherwise read as the name `example.com` followed by junk.
    assert_eq!(e.net(&name("example.com\0\x01\x02", 1, None)), FAIL_CLOSED);
    assert_eq!(e.net(&name("\0", 1, None)), FAIL_CLOSED);
}

#[test]
fn net_addresses() {
    let (_, e) = engine();
    let v4 = |ip: [u8; 4], port| NetRequest {
        right: NetRight::Connect,
        proto: Proto::Tcp,
        host: Host::V4(ip),
        port,
        program: None,
    };
    assert_eq!(e.net(&v4([127, 0, 0, 1], 11434)), d(Allow, 9));
    assert_eq!(e.net(&v4([127, 0, 0, 2], 11434)), DEFAULT_DENY);
    let v6 = NetRequest {
        right: NetRight::Bind,
        proto: Proto::Udp,
        host: Host::V6([0; 16]),
        port: 0,
        program: Some(b"/x"),
    };
    assert_eq!(e.net(&v6), d(Allow, 10));
    let v6_tcp = NetRequest {
        proto: Proto::Tcp,
        ..v6
    };
    assert_eq!(e.net(&v6_tcp), DEFAULT_DENY);
}

#[test]
fn launch_joins_arguments_with_spaces() {
    let (_, e) = engine();
    assert_eq!(
        e.launch(b"/usr/bin/git", &["status", "--short"]),
        d(Allow, 12)
    );
    assert_eq!(e.launch::<&str>(b"/usr/bin/git", &[]), d(Allow, 12));
    assert_eq!(e.launch(b"/usr/bin/git", &["push", "--force"]), d(Deny, 13));
    assert_eq!(e.launch(b"/usr/bin/git", &["push --force"]), d(Deny, 13));
    assert_eq!(
        e.launch(b"/usr/bin/git", &["push", "--force", ""]),
        d(Allow, 12)
    );
    assert_eq!(
        e.launch(b"/usr/bin/git", &[b"push".to_vec(), b"--force".to_vec()]),
        d(Deny, 13)
    );
    assert_eq!(e.launch(b"/usr/bin/curl", &["https://x"]), d(Ask, 14));
    assert_eq!(e.launch::<&str>(b"/bin/ls", &[]), d(Allow, 15));
    assert_eq!(e.launch(b"/bin/ls", &[""]), d(Allow, 15));
    assert_eq!(e.launch(b"/bin/ls", &["-l"]), DEFAULT_DENY);
    assert_eq!(e.launch(b"/usr/bin/gitk", &["x"]), DEFAULT_DENY);
}

#[test]
fn launch_program_with_nul_fails_closed() {
    let (_, e) = engine();
    assert_eq!(
        e.launch::<&str>(b"/usr/bin/git\0push --force", &[]),
        FAIL_CLOSED
    );
    assert_eq!(e.launch::<&str>(b"/bin/ls\0", &[]), FAIL_CLOSED);
}

#[test]
fn accessors() {
    let (spec, e) = engine();
    assert_eq!(e.target(), Target::Linux);
    assert_eq!(e.agent().name, "tester");
    assert_eq!(e.agent().default, Deny);
    assert_eq!(e.table(), &spec.table());
    let rule = e.rule(RuleId(1)).unwrap();
    assert_eq!(rule.effect, Deny);
    assert_eq!(rule.line, 2);
    assert!(e.rule(RuleId(16)).is_none());
    assert!(e.rule(RuleId(u32::MAX)).is_none());
    // Every decision names a rule that exists and has its effect.
    for path in [&b"/home/u/.env"[..], b"/tmp/x", b"/etc/passwd"] {
        for right in FsRight::ALL {
            let dec = e.fs(path, right);
            if let Some(id) = dec.rule {
                assert_eq!(e.rule(id).unwrap().effect, dec.effect);
            }
        }
    }
}

#[test]
fn windows_tables_fold_case_and_separators_in_their_classes() {
    let mut spec = Spec::new(Deny);
    spec.target = Target::Windows;
    spec.fs = vec![
        fs_r(prefix("c:/users/a/"), Allow, &FsRight::ALL),
        fs_r(exact("c:/users/a/secret.txt"), Deny, &[Read]),
    ];
    let e = Engine::from_table(spec.table()).unwrap();
    assert_eq!(e.target(), Target::Windows);
    assert_eq!(e.fs(br"C:\Users\A\x.txt", Read), d(Allow, 0));
    assert_eq!(e.fs(b"c:/USERS/a/Secret.TXT", Read), d(Deny, 1));
    assert_eq!(e.fs(br"C:\Users\B\x.txt", Read), DEFAULT_DENY);
}

#[test]
fn empty_automata_decide_by_default() {
    let mut t = sample_spec().table();
    t.fs = Dfa::empty().into();
    t.net = Dfa::empty().into();
    t.app = Dfa::empty().into();
    let e = Engine::from_table(t).unwrap();
    assert_eq!(e.fs(b"/home/u/x", Read), DEFAULT_DENY);
    assert_eq!(e.net(&name("api.github.com", 443, None)), DEFAULT_DENY);
    assert_eq!(e.launch(b"/usr/bin/git", &["status"]), DEFAULT_DENY);
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
}

/// The two fs automata combine per SPEC §6, and `fs_anywhere` reads the path backwards:
/// the sample's exact rules, written reversed into `fs_anywhere`, decide every path as
/// they do in `fs`, whether they stay in `fs` too (both) or only there (moved).
#[test]
fn fs_automata_combine() {
    let spec = sample_spec();
    let t = spec.table();
    let alone = Engine::from_table(t.clone()).unwrap();
    // The exact rules reversed; the others a pattern no path matches.
    let never = |i: usize| exact(format!("\x01never{i}"));
    let reversed: Vec<R> = spec
        .fs
        .iter()
        .enumerate()
        .map(|(i, rule)| R {
            pat: match &rule.pat {
                Pat::Exact(b) => exact(b.iter().rev().copied().collect::<Vec<u8>>()),
                _ => never(i),
            },
            ..rule.clone()
        })
        .collect();
    let kept: Vec<R> = spec
        .fs
        .iter()
        .enumerate()
        .map(|(i, rule)| match &rule.pat {
            Pat::Exact(_) => R {
                pat: never(i),
                ..rule.clone()
            },
            _ => rule.clone(),
        })
        .collect();
    let with = |rules: &[R], fs_rows: &mut Vec<FsRow>| {
        build_dfa(rules, identity, |set| {
            let row: FsRow = FsRight::ALL.map(|right| {
                common::combine(
                    spec.default,
                    set.iter().map(|&i| (i as u32, &spec.fs[i])),
                    Some(right),
                )
            });
            fs_rows.push(row);
            (fs_rows.len() - 1) as u32
        })
    };
    let mut both = t.clone();
    both.fs_anywhere = with(&reversed, &mut both.fs_rows).into();
    let both = Engine::from_table(both).unwrap();
    let mut moved = t.clone();
    moved.fs_anywhere = with(&reversed, &mut moved.fs_rows).into();
    moved.fs = with(&kept, &mut moved.fs_rows).into();
    let moved = Engine::from_table(moved).unwrap();
    for path in [
        &b"/home/u/x"[..],
        b"/home/u/.env",
        b"/home/u/src/app/main.rs",
        b"/home/u/.ssh/id_rsa",
        b"/etc/passwd",
        b"/etc/passwdx",
        b"/tmp/x",
        b"/",
        b"",
    ] {
        for right in FsRight::ALL {
            assert_eq!(both.fs(path, right), alone.fs(path, right), "{path:?}");
            assert_eq!(moved.fs(path, right), alone.fs(path, right), "{path:?}");
        }
        assert_eq!(both.fs_row(path), alone.fs_row(path));
        assert_eq!(moved.fs_row(path), alone.fs_row(path));
    }
    // In `moved` the exact rules exist only reversed: had the walk been forwards,
    // `/etc/passwd` and `/home/u/.env` would have been decided otherwise above.
}

/// `combine` is SPEC §6 on the union of two sets of matching rules.
#[test]
fn combine_is_spec_6_on_the_union() {
    let effects = [Allow, Deny, Ask, Allow, Deny, Ask];
    let decide = |set: u32| -> Decision {
        for e in [Deny, Ask, Allow] {
            if let Some(i) = (0..6u32).find(|&i| set & (1 << i) != 0 && effects[i as usize] == e) {
                return d(e, i);
            }
        }
        DEFAULT_DENY
    };
    for a in 0..64u32 {
        for b in 0..64u32 {
            assert_eq!(
                mxc_eval::combine(decide(a), decide(b)),
                decide(a | b),
                "{a:b} {b:b}"
            );
        }
    }
}
