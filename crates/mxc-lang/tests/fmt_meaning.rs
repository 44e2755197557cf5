//! Formatting never changes what a policy means: on random policy files written with
//! random spacing, line breaks and comments between their tokens, `mxcc fmt`'s printer
//! (`mxc_syntax::print::format`) gives a text that checks with the same diagnostics,
//! whose agent decides every random request alike (same effect, same deciding rule),
//! and that formatting again leaves unchanged.

use mxc_lang::request::{HostReq, Request};
use mxc_lang::{bind, compile, query};
use mxc_syntax::print;
use proptest::prelude::*;
use std::collections::BTreeMap;

const W: &str = "/w{a,*}[x]?";

fn path_pattern() -> impl Strategy<Value = String> {
    let comp = proptest::sample::select(vec![
        "a", "b", "x.rs", "é", "*", "**", "?", "*.rs", "[a-b]", "{a,b}", "a b", ".env",
    ]);
    (
        prop_oneof![3 => Just("/"), 1 => Just("**/"), 1 => Just("${w}/"), 1 => Just("~/")],
        proptest::collection::vec(comp, 0..4),
    )
        .prop_map(|(root, comps)| {
            let mut s = format!("{root}{}", comps.join("/"));
            if s.len() > 1 && s.ends_with('/') && !s.ends_with("**/") {
                s.pop();
            }
            if s.ends_with("**/") {
                s.push('a');
            }
            s
        })
}

fn net_target() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        "a.com:443",
        "*.a.com",
        "*",
        "10.0.0.0/8",
        "10.1.2.3:80,443",
        "[::1]",
        "udp://c.org:53",
        "localhost:8000-8999",
    ])
    .prop_map(String::from)
}

/// A string literal for `s`, sometimes with needless escapes (`\u{61}` for `a`).
fn lit(s: String, escape: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            'a' if escape => out.push_str("\\u{61}"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: Vec<String>, sep: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, it) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(sep.to_string());
        }
        out.push(it);
    }
    out
}

fn effect() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("allow"), Just("ask"), Just("deny")]
}

fn because() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        2 => Just(vec![]),
        1 => Just(vec!["because".to_string(), "\"a reason, with \\\"quotes\\\"\"".to_string()]),
    ]
}

fn fs_rule() -> impl Strategy<Value = Vec<String>> {
    (
        effect(),
        proptest::sample::subsequence(vec!["read", "write", "create", "delete"], 1..3),
        proptest::collection::vec((path_pattern(), any::<bool>()), 1..5),
        any::<bool>(),
        because(),
    )
        .prop_map(|(e, rights, pats, named, why)| {
            let mut t = vec![e.to_string()];
            t.extend(list(rights.iter().map(|r| r.to_string()).collect(), ","));
            let mut targets: Vec<String> = pats.into_iter().map(|(p, esc)| lit(p, esc)).collect();
            if named {
                targets.push("dirs".to_string());
            }
            t.extend(list(targets, ","));
            t.extend(why);
            t
        })
}

fn net_rule() -> impl Strategy<Value = Vec<String>> {
    (
        effect(),
        proptest::sample::select(vec!["connect", "bind", "all"]),
        proptest::collection::vec(net_target(), 1..4),
        prop_oneof![2 => Just(vec![]), 1 => Just(vec!["from".to_string(), "\"/usr/bin/git\"".to_string(), ",".to_string(), "\"**/curl\"".to_string()])],
        because(),
    )
        .prop_map(|(e, r, ts, from, why)| {
            let mut t = vec![e.to_string(), r.to_string()];
            t.extend(list(ts.into_iter().map(|x| lit(x, false)).collect(), ","));
            t.extend(from);
            t.extend(why);
            t
        })
}

fn app_rule() -> impl Strategy<Value = Vec<String>> {
    (
        effect(),
        proptest::sample::select(vec!["\"/usr/bin/git\"", "\"/usr/bin/*\"", "\"**/g?t\""]),
        prop_oneof![2 => Just(vec![]), 1 => Just(vec!["args".to_string(), "\"push *\"".to_string()])],
        because(),
    )
        .prop_map(|(e, p, args, why)| {
            let mut t = vec![e.to_string(), "launch".to_string(), p.to_string()];
            t.extend(args);
            t.extend(why);
            t
        })
}

/// The tokens of a policy file.
fn file_tokens() -> impl Strategy<Value = Vec<String>> {
    (
        proptest::collection::vec(fs_rule(), 0..5),
        proptest::collection::vec(net_rule(), 0..4),
        proptest::collection::vec(app_rule(), 0..3),
        proptest::collection::vec(path_pattern(), 0..4),
        any::<bool>(),
        prop_oneof![Just("deny"), Just("ask")],
    )
        .prop_map(|(fs, net, app, dirs, trailing, def)| {
            let mut t: Vec<String> = "param w : path let dirs = [".split(' ').map(String::from).collect();
            t.extend(list(dirs.into_iter().map(|d| lit(d, false)).collect(), ","));
            if trailing {
                t.push(",".into());
            }
            t.push("]".into());
            t.extend(["policy", "p1", "{", "fs", "{"].map(String::from));
            t.extend(fs.into_iter().flatten());
            t.extend(["}", "net", "{"].map(String::from));
            t.extend(net.into_iter().flatten());
            t.extend(["}", "app", "{"].map(String::from));
            t.extend(app.into_iter().flatten());
            t.extend(["}", "}"].map(String::from));
            let tail = format!(
                "agent a {{ use p1 default {def} limits {{ memory 4GiB processes 8 }} \
                 env {{ pass \"PATH\" , \"LANG\" deny \"*_TOKEN\" }} ui {{ clipboard deny }} }} \
                 test \"t\" {{ agent a with w = \"/w\" , home = \"/h\" expect allow read \"/w/x\" }}"
            );
            t.extend(tail.split(' ').filter(|s| !s.is_empty()).map(String::from));
            t
        })
}

/// What goes between two tokens: some space, line breaks, comments.
fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => Just(" "),
        4 => Just("\n"),
        2 => Just("\n\n\n"),
        1 => Just("  \t "),
        1 => Just(" // a comment\n"),
        1 => Just("\n// a comment on its own line\n"),
        1 => Just(" /* block */ "),
        1 => Just("\n/* block\n   on two lines */\n"),
        1 => Just("\n\n// after a blank line\n\n"),
    ]
}

fn source() -> impl Strategy<Value = String> {
    file_tokens()
        .prop_flat_map(|toks| {
            let n = toks.len();
            (Just(toks), proptest::collection::vec(separator(), n))
        })
        .prop_map(|(toks, seps)| {
            let mut s = String::new();
            for (t, sep) in toks.iter().zip(seps) {
                s.push_str(t);
                s.push_str(sep);
            }
            s
        })
}

fn request() -> impl Strategy<Value = Request> {
    let comps = proptest::sample::select(vec!["a", "b", "x.rs", "é", "a b", ".env", "c"]);
    let fs = (
        proptest::sample::select(&mxc_eval::FsRight::ALL[..]),
        proptest::sample::select(vec!["", W, "/h", "/w"]),
        proptest::collection::vec(comps, 0..4),
    )
        .prop_map(|(right, root, comps)| Request::Fs {
            right,
            path: match (root, comps.is_empty()) {
                ("", true) => "/".to_string(),
                (r, true) => r.to_string(),
                (r, false) => format!("{r}/{}", comps.join("/")),
            },
        });
    let net = (
        proptest::sample::select(&mxc_eval::NetRight::ALL[..]),
        prop_oneof![
            Just(HostReq::Name("a.com".into())),
            Just(HostReq::Name("b.a.com".into())),
            Just(HostReq::Name("c.org".into())),
            Just(HostReq::V4([10, 1, 2, 3])),
            Just(HostReq::V4([127, 0, 0, 1])),
        ],
        prop_oneof![Just(443u16), Just(80), Just(53), Just(8500)],
        prop_oneof![
            Just(None),
            Just(Some("/usr/bin/git".to_string())),
            Just(Some("/opt/curl".to_string()))
        ],
        prop_oneof![
            Just(mxc_lang::pattern::NetProto::Tcp),
            Just(mxc_lang::pattern::NetProto::Udp)
        ],
    )
        .prop_map(|(right, host, port, program, proto)| Request::Net {
            right,
            proto,
            host,
            port,
            program,
        });
    let launch = (
        prop_oneof![Just("/usr/bin/git"), Just("/usr/bin/ls"), Just("/bin/gat")],
        proptest::collection::vec(prop_oneof![Just("push"), Just("x")], 0..3),
    )
        .prop_map(|(p, a)| Request::Launch {
            program: p.to_string(),
            args: a.into_iter().map(String::from).collect(),
        });
    prop_oneof![3 => fs, 2 => net, 1 => launch]
}

/// The diagnostics of a check, without their positions.
fn findings(p: &mxc_lang::Program) -> Vec<String> {
    p.diags
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, .. ProptestConfig::default() })]

    #[test]
    fn formatting_keeps_the_meaning(src in source(), reqs in proptest::collection::vec(request(), 1..24)) {
        let before = mxc_lang::check_source("p.mxc", &src);
        prop_assume!(!before.diags.has_errors());
        let out = match print::format(mxc_syntax::FileId(0), &src) {
            Ok(o) => o,
            Err(e) => return Err(TestCaseError::fail(format!("{e:?}\n{src}"))),
        };
        let again = print::format(mxc_syntax::FileId(0), &out).ok();
        prop_assert_eq!(again.as_deref(), Some(out.as_str()), "not idempotent:\n{}", out);
        let after = mxc_lang::check_source("p.mxc", &out);
        prop_assert_eq!(findings(&after), findings(&before), "\n{}\n----\n{}", src, out);
        let mut params = BTreeMap::new();
        params.insert("w".to_string(), W.to_string());
        params.insert("home".to_string(), "/h".to_string());
        let engine = |p: &mxc_lang::Program| {
            let b = bind::bind(&p.model, "a", &params, false).expect("binds");
            let table = compile::compile_bound(&b, &p.sources).expect("compiles");
            mxc_eval::Engine::from_table(table).expect("valid table")
        };
        let (e1, e2) = (engine(&before), engine(&after));
        for r in &reqs {
            let (d1, d2) = (query::decide_engine(&e1, r), query::decide_engine(&e2, r));
            prop_assert_eq!(d1.effect.as_str(), d2.effect.as_str(), "request `{}`\n{}\n----\n{}", r, src, out);
            prop_assert_eq!(d1.rule.map(|x| x.0), d2.rule.map(|x| x.0), "request `{}`\n{}\n----\n{}", r, src, out);
        }
    }
}
