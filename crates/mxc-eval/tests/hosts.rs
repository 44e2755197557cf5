//! The net host jump (`mxc_table::hosts`, section 13): a request naming one of the
//! policy's literal host names resumes the net automaton's walk after the name.
//! Exactness: the engine decides every request as the same engine with the jump table
//! emptied (every name walked byte by byte) and as the plain reference reading of the
//! automaton over the request's encoding. Safety: every field of the section, damaged,
//! is refused at load by its named check.

use std::collections::BTreeMap;

use mxc_eval::encoding::encode_net;
use mxc_eval::hosts::{combo, hash, NetHosts, MAX_NAME, MAX_PROBE};
use mxc_eval::{Decision, Effect, Engine, Host, NetRequest, NetRight, Proto, Table, NONE};
use mxc_lang::compile::engine_of_source;
use proptest::prelude::*;

const POLICY: &str = r#"
policy p {
  net {
    allow connect "api.example.com:443", "*.example.com:8443", "localhost"
    deny connect "bad.api.example.com", "*.corp.example"
    allow connect "git.corp.example:22", "udp://dns.internal:53", "*.internal:5000-5010"
    ask connect "svc7.example.org", "Mixed.Case.ORG:80"
    allow bind "udp://*.example.com", "localhost:8080"
    allow connect "10.0.0.0/8:443", "[2001:db8::/32]:443"
    deny connect "169.254.169.254"
    allow connect "*.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.example.net" from "/usr/bin/curl"
  }
}
agent a { use p  default deny }
"#;

fn engines() -> (Engine, Engine) {
    let e = engine_of_source(POLICY, "a", &BTreeMap::new()).unwrap();
    let mut t = e.table().clone();
    assert!(!t.net_hosts.is_empty(), "the policy's names are stored");
    t.net_hosts = NetHosts::default();
    (e, Engine::from_table(t).unwrap())
}

/// The reference: the plain reading of the net automaton over the request's encoding.
fn reference(t: &Table, req: &NetRequest<'_>) -> Decision {
    if let Host::Name(n) = req.host {
        if n.contains('\0') {
            return Decision {
                effect: Effect::Deny,
                rule: None,
            };
        }
    }
    let row = t.net.accept_of(&encode_net(req));
    if row == NONE {
        Decision {
            effect: t.agent.default,
            rule: None,
        }
    } else {
        t.net_rows[row as usize]
    }
}

const LABELS: &[&str] = &[
    "api",
    "API",
    "example",
    "Example",
    "com",
    "COM",
    "bad",
    "corp",
    "git",
    "internal",
    "dns",
    "svc7",
    "org",
    "ORG",
    "mixed",
    "Case",
    "localhost",
    "LocalHost",
    "x",
    "xexample",
    "xapi",
    "",
    "a",
    "s",
    "net",
    "\0",
    "b\0",
    "ex-ample",
];

fn name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(LABELS), 1..6),
        prop::sample::select(vec!["", ".", ".."]),
    )
        .prop_map(|(labels, end)| format!("{}{end}", labels.join(".")))
}

fn check(e: &Engine, walk: &Engine, req: &NetRequest<'_>) {
    let d = e.net(req);
    assert_eq!(d, walk.net(req), "{req:?}");
    assert_eq!(d, reference(e.table(), req), "{req:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn jump_decides_as_the_walk(
        name in name(),
        right in prop::sample::select(&NetRight::ALL[..]),
        udp in any::<bool>(),
        port in prop::sample::select(vec![0u16, 22, 53, 80, 443, 5005, 8080, 8443]),
        program in prop::sample::select(vec![None, Some(&b"/usr/bin/curl"[..]), Some(&b"/bin/sh"[..])]),
    ) {
        let (e, walk) = engines();
        let proto = if udp { Proto::Udp } else { Proto::Tcp };
        let req = NetRequest { right, proto, host: Host::Name(&name), port, program };
        check(&e, &walk, &req);
    }
}

#[test]
fn names_that_matter() {
    let (e, walk) = engines();
    let long_suffix = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.example.net";
    let names = [
        "api.example.com",
        "API.Example.COM",
        "api.example.com.",
        "api.example.com..",
        "bad.api.example.com",
        "BAD.API.example.com.",
        "x.api.example.com",
        "xapi.example.com",
        "example.com",
        "xexample.com",
        "a.xexample.com",
        "git.corp.example",
        "x.corp.example",
        "corp.example",
        "xcorp.example",
        "dns.internal",
        "a.b.internal",
        "internal",
        "svc7.example.org",
        "mixed.case.org",
        "MIXED.CASE.ORG",
        "localhost",
        "LOCALHOST.",
        "www.unknown-site.com",
        "com",
        ".com",
        ".",
        "",
        "api.example.com\0",
        "\0api.example.com",
        "api\0.example.com",
        "x.\0.example.com",
        "q.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.example.net",
        long_suffix,
    ];
    let long = format!("{}.example.com", "a".repeat(MAX_NAME));
    let longer = format!("{}.example.com", "a".repeat(300));
    for name in names
        .iter()
        .copied()
        .chain([long.as_str(), longer.as_str()])
    {
        for right in NetRight::ALL {
            for proto in [Proto::Tcp, Proto::Udp] {
                for port in [0, 22, 53, 80, 443, 5005, 8080, 8443] {
                    for program in [None, Some(&b"/usr/bin/curl"[..])] {
                        let req = NetRequest {
                            right,
                            proto,
                            host: Host::Name(name),
                            port,
                            program,
                        };
                        check(&e, &walk, &req);
                    }
                }
            }
        }
    }
    // The jump is taken (not only the walk): literal names and suffixes are stored.
    let t = &e.table().net_hosts;
    for key in [
        "api.example.com",
        "example.com",
        "corp.example",
        "localhost",
        "mixed.case.org",
    ] {
        assert!(t.find(key.as_bytes()).is_some(), "{key}");
    }
    assert!(t.find(b"xexample.com").is_none());
    assert!(t.find(b"com").is_none());
    // A few decisions by name, to see the table is not trivially agreeing.
    let d = |name: &str, port: u16| {
        e.net(&NetRequest {
            right: NetRight::Connect,
            proto: Proto::Tcp,
            host: Host::Name(name),
            port,
            program: None,
        })
        .effect
    };
    assert_eq!(d("API.example.com", 443), Effect::Allow);
    assert_eq!(d("bad.api.example.com", 8443), Effect::Deny);
    assert_eq!(d("q.example.com", 8443), Effect::Allow);
    assert_eq!(d("xexample.com", 8443), Effect::Deny);
    assert_eq!(d("example.com", 8443), Effect::Deny);
    assert_eq!(d("api.example.com\0", 443), Effect::Deny);
    assert_eq!(d("Mixed.Case.Org.", 80), Effect::Ask);
}

#[test]
fn addresses_are_walked_as_before() {
    let (e, walk) = engines();
    let mapped = std::net::Ipv4Addr::new(10, 1, 2, 3)
        .to_ipv6_mapped()
        .octets();
    let v6: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    for host in [
        Host::V4([10, 1, 2, 3]),
        Host::V4([169, 254, 169, 254]),
        Host::V4([127, 0, 0, 1]),
        Host::V6(mapped),
        Host::V6(v6.octets()),
        Host::V6(std::net::Ipv6Addr::LOCALHOST.octets()),
        Host::V6([0; 16]),
        Host::V4([0; 4]),
    ] {
        for right in NetRight::ALL {
            for port in [0, 443, 8080] {
                let req = NetRequest {
                    right,
                    proto: Proto::Tcp,
                    host,
                    port,
                    program: None,
                };
                check(&e, &walk, &req);
            }
        }
    }
}

/// Each field of the section, damaged, is refused at load by the check that names it.
#[test]
fn damaged_sections_are_refused() {
    let (e, _) = engines();
    let good = e.table().clone();
    let nstates = good.net.nstates() as u32;
    let refused = |f: &dyn Fn(&mut NetHosts), want: &str| {
        let mut t = good.clone();
        f(&mut t.net_hosts);
        // Through the file too: the damage survives writing and reading.
        let bytes = t.to_bytes();
        for err in [
            Engine::from_table(t).unwrap_err().to_string(),
            Engine::from_bytes(&bytes).unwrap_err().to_string(),
        ] {
            assert!(err.contains("net hosts"), "{err}");
            assert!(err.contains(want), "want {want:?} in {err}");
        }
    };
    let full = |h: &NetHosts| h.slots.iter().position(|&s| s != 0).unwrap();
    refused(&|h| h.slots.to_mut().push(0), "not a power of two");
    refused(
        &|h| {
            for s in h.slots.iter_mut() {
                if *s == 0 {
                    *s = 1;
                }
            }
        },
        "none empty",
    );
    refused(&|h| h.max_probe = MAX_PROBE + 1, "max_probe");
    refused(
        &|h| {
            h.slots = vec![0, 1].into();
            h.max_probe = 3;
        },
        "max_probe",
    );
    refused(
        &|h| {
            let i = full(h);
            h.slots[i] = (h.slots[i] & !0xffff_ffff) | (h.entries.len() as u64 + 1);
        },
        "not below the",
    );
    refused(&|h| h.filter.to_mut().extend([0, 0]), "filter");
    refused(&|h| h.filter.to_mut().clear(), "filter");
    refused(&|h| h.filter = vec![0; h.slots.len() * 2].into(), "filter");
    refused(&|h| h.entries[0].len = 0, "key of 0 bytes");
    refused(
        &|h| h.entries[0].len = MAX_NAME as u32 + 1,
        &format!("key of {} bytes", MAX_NAME + 1),
    );
    refused(&|h| h.entries[0].start = h.bytes.len() as u32, "past the");
    refused(&|h| h.entries[0].start = u32::MAX, "past the");
    refused(&|h| h.bytes.to_mut().clear(), "past the");
    for i in 0..4 {
        refused(&move |h| h.entries[0].full[i] = nstates, "net states");
    }
    // The undamaged table loads.
    Engine::from_bytes(&good.to_bytes()).unwrap();
}

/// A damaged but valid table (states swapped, keys rewritten, tags wrong) gives wrong
/// answers at worst, never a panic, and bounded work: decisions still come back.
#[test]
fn valid_but_wrong_sections_never_panic() {
    let (e, _) = engines();
    let mut t = e.table().clone();
    let h = &mut t.net_hosts;
    for (i, s) in h.slots.iter_mut().enumerate() {
        if *s != 0 {
            *s ^= 0xdead_beef_0000_0000 ^ ((i as u64) << 40);
        }
    }
    for e in h.entries.iter_mut() {
        e.full = [0, 1, 0, 1];
    }
    for w in h.filter.iter_mut() {
        *w = !*w;
    }
    let e = Engine::from_table(t).unwrap();
    for name in ["api.example.com", "x.example.com", "a", ""] {
        let _ = e.net(&NetRequest {
            right: NetRight::Connect,
            proto: Proto::Tcp,
            host: Host::Name(name),
            port: 443,
            program: None,
        });
    }
}

#[test]
fn combos_and_hash_are_as_documented() {
    assert_eq!(combo(1, 1), 0);
    assert_eq!(combo(1, 2), 1);
    assert_eq!(combo(2, 1), 2);
    assert_eq!(combo(2, 2), 3);
    assert_ne!(hash(b"a.com"), hash(b"b.com"));
    assert_ne!(
        hash(b"git.team12.corp.example"),
        hash(b"git.team13.corp.example")
    );
}
