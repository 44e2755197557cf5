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
