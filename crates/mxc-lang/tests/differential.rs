//! The compiled engine against the reference interpreter (SPEC §6), on random
//! policies and random requests: same effect, same deciding rule, for Linux and
//! Windows targets, and after a round trip through the `.mxcb` bytes.

use mxc_lang::request::{HostReq, Request};
use mxc_lang::{bind, compile, interp, query};
use proptest::prelude::*;
use std::collections::BTreeMap;

const COMPS: &[&str] = &[
    "a", "b", "ab", "Ab", ".env", "x.rs", "é", "c[1]", "a b", "q.log", ".gz", "a.gz",
];

/// The value of the parameter `w`: glob characters in it are literal (SPEC §4.1).
const W: &str = "/w{a,*}[x]?";

fn comp_glob() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(COMPS).prop_map(|c| c.replace('[', "[[]")),
        1 => Just("*".to_string()),
        1 => Just("**".to_string()),
        1 => Just("?".to_string()),
        1 => Just("*.rs".to_string()),
        1 => Just("[a-b]".to_string()),
        1 => Just("[!a]*".to_string()),
        1 => Just("{a,b}".to_string()),
        1 => Just("a{b,}".to_string()),
        1 => Just("?b".to_string()),
        // Alternatives beside stars: `{*,a}*` is one component of any name, not `**`.
        1 => Just("{*,a}*".to_string()),
        1 => Just("*{*.log,.gz}".to_string()),
        1 => Just("{*,}".to_string()),
        1 => Just("a{*,b}".to_string()),
        1 => Just("{?,[ab]}*".to_string()),
        1 => Just("{a,b/x.rs}".to_string()),
        1 => Just("a b".to_string()),
        1 => Just("*b".to_string()),
    ]
}

fn path_pattern() -> impl Strategy<Value = String> {
    (
        prop_oneof![3 => Just("/"), 1 => Just("**/"), 1 => Just("${w}/"), 1 => Just("~/")],
        proptest::collection::vec(comp_glob(), 0..4),
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

fn req_path() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(vec!["", W, "/wa", "/wax", "/h"]),
        proptest::collection::vec(proptest::sample::select(COMPS), 0..5),
    )
        .prop_map(|(root, comps)| {
            let s = format!("{root}/{}", comps.join("/"));
            if s.len() > 1 && s.ends_with('/') {
                s[..s.len() - 1].to_string()
            } else {
                s
            }
        })
}

const HOSTS: &[&str] = &[
    "a.com",
    "b.a.com",
    "x.b.a.com",
    "A.COM",
    "localhost",
    "c.org",
];

fn net_target() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        proptest::sample::select(HOSTS).prop_map(|h| h.to_string()),
        Just("*.a.com".to_string()),
        Just("*".to_string()),
        Just("10.0.0.0/8".to_string()),
        Just("10.1.2.3".to_string()),
        Just("10.1.0.0/20".to_string()),
        Just("[::1]".to_string()),
        Just("[2001:db8::/32]".to_string()),
        Just("localhost".to_string()),
    ];
    let ports = prop_oneof![
        Just(String::new()),
        Just(":443".to_string()),
        Just(":80,443".to_string()),
        Just(":8000-8999".to_string()),
        Just(":255-257".to_string()),
    ];
    let proto = prop_oneof![3 => Just(""), 1 => Just("udp://"), 1 => Just("tcp://")];
    (proto, host, ports).prop_map(|(p, h, ports)| format!("{p}{h}{ports}"))
}

fn effect() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("allow"), Just("ask"), Just("deny")]
}

fn fs_rule() -> impl Strategy<Value = String> {
    (
        effect(),
        proptest::sample::subsequence(vec!["read", "write", "create", "delete"], 1..3),
        proptest::collection::vec(path_pattern(), 1..3),
    )
        .prop_map(|(e, rights, pats)| {
            let ts: Vec<String> = pats.iter().map(|p| format!("{p:?}")).collect();
            format!("{e} {} {}", rights.join(", "), ts.join(", "))
        })
}

fn net_rule() -> impl Strategy<Value = String> {
    (
        effect(),
        proptest::sample::select(vec!["connect", "bind", "all"]),
        proptest::collection::vec(net_target(), 1..3),
        prop_oneof![3 => Just(String::new()), 1 => Just(" from \"/usr/bin/git\"".to_string()), 1 => Just(" from \"/usr/bin/*\", \"**/curl\"".to_string())],
    )
        .prop_map(|(e, r, ts, from)| {
            let ts: Vec<String> = ts.iter().map(|p| format!("{p:?}")).collect();
            format!("{e} {r} {}{from}", ts.join(", "))
        })
}

fn app_rule() -> impl Strategy<Value = String> {
    (
        effect(),
        prop_oneof![
            Just("/usr/bin/git"),
            Just("/usr/bin/*"),
            Just("**/g?t"),
            Just("/usr/bin/{git,ls}")
        ],
        prop_oneof![
            2 => Just(String::new()),
            1 => Just(" args \"status*\"".to_string()),
            1 => Just(" args \"push *\"".to_string()),
            1 => Just(" args \"*--force*\"".to_string()),
            1 => Just(" args \"?\"".to_string()),
        ],
    )
        .prop_map(|(e, p, a)| format!("{e} launch {p:?}{a}"))
}

fn policy_src() -> impl Strategy<Value = (String, bool)> {
    (
        proptest::collection::vec(fs_rule(), 0..6),
        proptest::collection::vec(net_rule(), 0..4),
        proptest::collection::vec(app_rule(), 0..4),
        proptest::collection::vec(fs_rule(), 0..3),
        prop_oneof![Just("deny"), Just("ask")],
        any::<bool>(),
    )
        .prop_map(|(fs, net, app, fs2, def, windows)| {
            let src = format!(
                "param w: path\npolicy p1 {{\n fs {{\n{}\n }}\n net {{\n{}\n }}\n app {{\n{}\n }}\n}}\npolicy p2 {{ fs {{\n{}\n}} }}\nagent a {{ use p2, p1 default {def} }}\n",
                fs.join("\n"),
                net.join("\n"),
                app.join("\n"),
                fs2.join("\n"),
            );
            (src, windows)
        })
}

fn request() -> impl Strategy<Value = Request> {
    let fs = (
        proptest::sample::select(&mxc_eval::FsRight::ALL[..]),
        req_path(),
    )
        .prop_map(|(right, path)| Request::Fs { right, path });
    let host = prop_oneof![
        proptest::sample::select(HOSTS).prop_map(|h| HostReq::Name(h.to_string())),
        Just(HostReq::Name("a.com.".into())),
        Just(HostReq::Name("LOCALHOST".into())),
        // The net host jump: case, trailing dot, a stored name's suffix that is not at
        // a label boundary (`xa.com` against `*.a.com` and `a.com`).
        Just(HostReq::Name("xa.com".into())),
        Just(HostReq::Name("B.A.Com.".into())),
        Just(HostReq::Name("x.B.a.COM".into())),
        Just(HostReq::Name("C.ORG".into())),
        Just(HostReq::V4([10, 1, 2, 3])),
        Just(HostReq::V4([10, 1, 16, 3])),
        Just(HostReq::V4([127, 0, 0, 1])),
        Just(HostReq::V4([192, 168, 1, 1])),
        Just(HostReq::V6(std::net::Ipv6Addr::LOCALHOST.octets())),
        Just(HostReq::V6(
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
        )),
    ];
    let net = (
        proptest::sample::select(&mxc_eval::NetRight::ALL[..]),
        prop_oneof![
            Just(mxc_lang::pattern::NetProto::Tcp),
            Just(mxc_lang::pattern::NetProto::Udp)
        ],
        host,
        prop_oneof![
            Just(0u16),
            Just(443),
            Just(80),
            Just(8500),
            Just(256),
            Just(9000),
            Just(65535)
        ],
        prop_oneof![
            Just(None),
            Just(Some("/usr/bin/git".to_string())),
            Just(Some("/usr/bin/curl".to_string())),
            Just(Some("/opt/curl".to_string()))
        ],
    )
        .prop_map(|(right, proto, host, port, program)| Request::Net {
            right,
            proto,
            host,
            port,
            program,
        });
    let launch = (
        prop_oneof![
            Just("/usr/bin/git"),
            Just("/usr/bin/ls"),
            Just("/bin/git"),
            Just("/usr/bin/gat")
        ],
        proptest::collection::vec(
            prop_oneof![
                Just("status"),
                Just("push"),
                Just("--force"),
                Just("x"),
                Just("é")
            ],
            0..3,
        ),
    )
        .prop_map(|(p, a)| Request::Launch {
            program: p.to_string(),
            args: a.into_iter().map(String::from).collect(),
        });
    prop_oneof![3 => fs, 2 => net, 1 => launch]
}

fn windows_variant(r: &Request) -> Request {
    match r {
        Request::Fs { right, path } => Request::Fs {
            right: *right,
            path: path.to_uppercase(),
        },
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_reference((src, windows) in policy_src(), reqs in proptest::collection::vec(request(), 1..24)) {
        let prog = mxc_lang::check_source("p.mxc", &src);
        prop_assume!(!prog.diags.has_errors());
        let mut params = BTreeMap::new();
        params.insert("w".to_string(), W.to_string());
        params.insert("home".to_string(), "/h".to_string());
        let b = bind::bind(&prog.model, "a", &params, windows).expect("binds");
        let table = compile::compile_bound(&b, &prog.sources).expect("compiles");
        let bytes = table.to_bytes();
        let e1 = mxc_eval::Engine::from_table(table).expect("valid table");
        let e2 = mxc_eval::Engine::from_bytes(&bytes).expect("loads");
        prop_assert_eq!(e1.table(), e2.table());
        let mut all = reqs.clone();
        if windows {
            all.extend(reqs.iter().map(windows_variant));
        }
        for r in &all {
            let want = interp::decide(&b, r);
            for e in [&e1, &e2] {
                let got = query::decide_engine(e, r);
                prop_assert_eq!(got.effect.as_str(), want.effect.as_str(), "request `{}` windows={}\n{}", r, windows, src);
                prop_assert_eq!(got.rule.map(|x| x.0 as usize), want.rule, "request `{}` windows={}\n{}", r, windows, src);
            }
        }
    }
}

/// SPEC §4.2 addresses, as people write them in requests: numeric hosts in every
/// `inet_aton` form are IPs, IPv4-mapped IPv6 decides as IPv4, unspecified addresses in
/// a `connect` decide as loopback. The engine (used by `mxcc run`) and the reference
/// interpreter agree, and both give the effect SPEC names.
#[test]
fn addresses_decide_as_spec_says() {
    let src = r#"policy p {
        net {
            allow connect "10.0.0.0/8:443"
            allow connect "localhost:8080"
            allow connect "*.com:80"
            deny connect "192.168.0.0/16"
            allow bind "127.0.0.1:3000"
        }
    }
    agent a { use p }"#;
    let prog = mxc_lang::check_source("p.mxc", src);
    assert!(!prog.diags.has_errors(), "{:?}", prog.diags);
    let b = bind::bind(&prog.model, "a", &BTreeMap::new(), false).expect("binds");
    let e =
        mxc_eval::Engine::from_table(compile::compile_bound(&b, &prog.sources).unwrap()).unwrap();
    let cases = [
        ("connect [::ffff:10.1.2.3]:443", "allow"),
        ("connect [::ffff:a01:203]:443", "allow"),
        ("connect 10.1.2.3:443", "allow"),
        ("connect 167838211:443", "allow"),
        ("connect 0xa010203:443", "allow"),
        ("connect 012.1.2.3:443", "allow"),
        ("connect 10.66051:443", "allow"),
        ("connect 0:8080", "allow"),
        ("connect 0.0.0.0:8080", "allow"),
        ("connect [::]:8080", "allow"),
        ("connect [::ffff:0.0.0.0]:8080", "allow"),
        ("connect [::ffff:127.0.0.1]:8080", "allow"),
        ("connect 2130706433:8080", "allow"),
        ("connect 127.1:8080", "allow"),
        ("connect 0x7f000001:8080", "allow"),
        ("connect 0177.0.0.1:8080", "allow"),
        // Numbers are IPs: a name rule never matches them.
        ("connect 2130706433:80", "deny"),
        ("connect 0:80", "deny"),
        ("connect [::ffff:192.168.1.1]:443", "deny"),
        // Not unspecified outside a connect: binding 0.0.0.0 is every interface.
        ("bind 0.0.0.0:3000", "deny"),
        ("bind 127.0.0.1:3000", "allow"),
        // Not numbers (a name, and out of inet_aton's range).
        ("connect 1.2.3.4.com:80", "allow"),
        ("connect 08.1.2.3:80", "deny"),
    ];
    for (text, want) in cases {
        let r = mxc_lang::request::parse_request(text, false).expect(text);
        let reference = interp::decide(&b, &r);
        let got = query::decide_engine(&e, &r);
        assert_eq!(got.effect.as_str(), want, "engine: {text}");
        assert_eq!(reference.effect.as_str(), want, "reference: {text}");
        assert_eq!(got.rule.map(|x| x.0 as usize), reference.rule, "{text}");
    }
    for bad in [
        "connect ::1:443",
        "connect x.com:80:443",
        "connect x.com:+443",
        "connect x.com:",
        "connect [::1]443",
    ] {
        assert!(
            mxc_lang::request::parse_request(bad, false).is_err(),
            "`{bad}` must be a usage error"
        );
    }
}
