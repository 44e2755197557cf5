//! A compiled table carries everything a backend needs besides the decisions: the
//! agent's plan and typed identity survive `.mxcb` written to disk and read back,
//! equal to what the compiler computed from the bound agent.

use mxc_eval::{Engine, FsRights, Identity, Table, Target};
use mxc_lang::plan::plan;

const SRC: &str = r#"
param work: path = "/srv/work"
policy base {
    fs {
        allow read, write "${work}/**"
        allow read "/etc/hosts"
        deny write "${work}/.git/**"
    }
    app { allow launch "/usr/bin/git"  allow launch "/opt/*/bin/x" }
    net { allow connect "api.github.com:443"  allow bind "*:3000-3001" }
}
policy extra { fs { allow read "**/*.md" } }
agent a {
    use base, extra
    identity local(user: "alice")
    isolation container
    limits { memory 1GiB  processes 64 }
    env { pass "PATH"  deny "*_TOKEN" }
}
"#;

#[test]
fn plan_and_identity_survive_the_file() {
    let program = mxc_lang::check_source_without_lints("t.mxc", SRC);
    assert!(!program.diags.has_errors(), "{:?}", program.diags);
    let params = [("work".to_string(), "/data/w".to_string())].into();
    let (table, bound) =
        mxc_lang::compile::compile_agent(&program, "a", &params, Target::Linux).unwrap();
    let want = plan(&bound);
    assert_eq!(table.plan, want);
    assert!(!want.fs.is_empty() && !want.exec.is_empty());

    let dir = std::env::temp_dir().join(format!("mxc-table-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.mxcb");
    std::fs::write(&path, table.to_bytes()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let back = Table::from_bytes(&bytes).unwrap();
    assert_eq!(back, table);
    let engine = Engine::from_bytes(&bytes).unwrap();
    let t = engine.table();
    assert_eq!(t.plan, want);
    let a = engine.agent();
    assert_eq!(a.identity, Identity::LocalUser("alice".into()));
    assert_eq!(a.identity, bound.agent.identity);
    assert_eq!(a.identity.to_string(), "local(user: \"alice\")");
    assert_eq!(a.policies, ["base", "extra"]);
    assert_eq!(a.params, [("work".to_string(), "/data/w".to_string())]);
    assert_eq!(
        a.source_hash,
        mxc_lang::compile::source_hash(&program.sources)
    );
    assert_ne!(a.source_hash, [0; 32]);
    assert_eq!(a.memory_bytes, Some(1 << 30));
    assert_eq!(a.processes, Some(64));
    assert_eq!(a.env_pass, ["PATH"]);
    assert_eq!(a.env_deny, ["*_TOKEN"]);
    // Typed rights in the plan: the work tree is read and write, not more.
    let work = t.plan.fs.iter().find(|g| g.path == "/data/w").unwrap();
    assert_eq!(work.rights, FsRights::READ | FsRights::WRITE);
    assert!(work.subtree);
    assert_eq!(t.plan.tcp_connect, Some(vec![(443, 443)]));
    assert_eq!(t.plan.tcp_bind, Some(vec![(3000, 3001)]));
}

#[test]
fn another_source_gives_another_hash() {
    let p1 = mxc_lang::check_source_without_lints("t.mxc", SRC);
    let p2 = mxc_lang::check_source_without_lints("t.mxc", &SRC.replace("3001", "3002"));
    assert_ne!(
        mxc_lang::compile::source_hash(&p1.sources),
        mxc_lang::compile::source_hash(&p2.sources)
    );
}

/// The engine's piecewise walk of a request and the one written definition of the
/// encoding (`mxc_eval::encoding`) agree: deciding a request equals looking up the row
/// the automaton reaches on the encoded bytes.
#[test]
fn engine_walks_the_documented_encoding() {
    use mxc_eval::encoding::{encode_launch, encode_net};
    use mxc_eval::{Decision, Host, NetRequest, NetRight, Proto, NONE};
    let program = mxc_lang::check_source_without_lints("t.mxc", SRC);
    let params = [("work".to_string(), "/data/w".to_string())].into();
    let (table, _) =
        mxc_lang::compile::compile_agent(&program, "a", &params, Target::Linux).unwrap();
    let engine = Engine::from_table(table.clone()).unwrap();
    let default = Decision {
        effect: table.agent.default,
        rule: None,
    };
    let row = |accept: u32, rows: &[Decision]| {
        if accept == NONE {
            default
        } else {
            rows[accept as usize]
        }
    };
    let hosts = [
        Host::Name("API.GitHub.com."),
        Host::Name("example.org"),
        Host::V4([127, 0, 0, 1]),
        Host::V6([0; 16]),
        Host::V6(
            std::net::Ipv4Addr::new(10, 1, 2, 3)
                .to_ipv6_mapped()
                .octets(),
        ),
    ];
    let mut allowed = 0;
    for right in NetRight::ALL {
        for proto in [Proto::Tcp, Proto::Udp] {
            for host in hosts {
                for port in [0, 443, 3000, 3002] {
                    for program in [None, Some(&b"/usr/bin/git"[..])] {
                        let req = NetRequest {
                            right,
                            proto,
                            host,
                            port,
                            program,
                        };
                        let want = row(table.net.accept_of(&encode_net(&req)), &table.net_rows);
                        let got = engine.net(&req);
                        assert_eq!(got, want, "{req:?}");
                        allowed += usize::from(got.effect == mxc_eval::Effect::Allow);
                    }
                }
            }
        }
    }
    assert!(allowed > 0, "the sample reaches some allowing rule");
    for (prog, args) in [
        ("/usr/bin/git", vec!["status", "--short"]),
        ("/usr/bin/git", vec![]),
        ("/opt/a/bin/x", vec!["-v"]),
        ("/usr/bin/curl", vec!["x"]),
    ] {
        let want = row(
            table.app.accept_of(&encode_launch(prog.as_bytes(), &args)),
            &table.app_rows,
        );
        assert_eq!(
            engine.launch(prog.as_bytes(), &args),
            want,
            "{prog} {args:?}"
        );
    }
}
